/** `GET /v1/models`: the public models the caller may use (the gateway's names). */

import type { RequestOptions } from "../transport.js";
import type { Model } from "../types.js";
import { Resource, many } from "./base.js";

export class Models extends Resource {
  list(options?: RequestOptions): Promise<Model[]> {
    return this.send({ method: "GET", path: "/v1/models", parse: many<Model>() }, options);
  }
}
