/** `POST /v1/guardrails/check`: the caller's tenant's guardrails on a text, without a model
 * call. Takes the same credentials as model calls (a gateway API key). */

import type { RequestOptions } from "../transport.js";
import type { GuardrailVerdict } from "../types.js";
import { Resource, withMetadata } from "./base.js";

export class Guardrails extends Resource {
  /** Check `text` as a request message (`input`, the default) or a model answer (`output`). */
  check(text: string, params: { direction?: "input" | "output" } = {}, options?: RequestOptions): Promise<GuardrailVerdict> {
    const direction = params.direction ?? "input";
    if (direction !== "input" && direction !== "output") throw new TypeError("direction is 'input' or 'output'");
    // A check changes nothing: safe to retry.
    return this.send(
      { method: "POST", path: "/v1/guardrails/check", body: { text, direction }, parse: withMetadata<GuardrailVerdict>(), idempotent: true },
      options,
    );
  }
}
