/**
 * What the admin API tells an operator's tools about the caller and the running gateway:
 * `GET /admin/v1/me`, `GET /admin/v1/config` (every secret redacted) and
 * `POST /admin/v1/guardrails/check` (any tenant's guardrails, for an admin credential).
 */

import type { RequestOptions } from "../transport.js";
import type { Caller, GuardrailVerdict, RunningConfig } from "../types.js";
import { Resource, one, withMetadata } from "./base.js";

export class Console extends Resource {
  /** Who the admin credential is: subject, tenant, roles and permissions. */
  me(options?: RequestOptions): Promise<Caller> {
    return this.send({ method: "GET", path: "/admin/v1/me", parse: one<Caller>() }, options);
  }

  /** The running configuration as TOML, every secret redacted (needs `manage_config`). */
  config(options?: RequestOptions): Promise<RunningConfig> {
    return this.send({ method: "GET", path: "/admin/v1/config", parse: one<RunningConfig>() }, options);
  }

  /** `tenant`'s guardrails (default: the caller's) on `text`, without a model call. */
  checkGuardrails(text: string, params: { tenant?: string; direction?: "input" | "output" } = {}, options?: RequestOptions): Promise<GuardrailVerdict> {
    const direction = params.direction ?? "input";
    if (direction !== "input" && direction !== "output") throw new TypeError("direction is 'input' or 'output'");
    const body: Record<string, unknown> = { text, direction };
    if (params.tenant !== undefined) body.tenant = params.tenant;
    // A check changes nothing: safe to retry.
    return this.send({ method: "POST", path: "/admin/v1/guardrails/check", body, parse: withMetadata<GuardrailVerdict>(), idempotent: true }, options);
  }
}
