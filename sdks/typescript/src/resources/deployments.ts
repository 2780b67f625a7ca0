/** `/admin/v1/deployments`: each deployment's circuit, latency and load, as the router sees
 * it now (any caller allowed to read usage). */

import type { RequestOptions } from "../transport.js";
import type { Deployment } from "../types.js";
import { Resource, many } from "./base.js";

export class Deployments extends Resource {
  list(options?: RequestOptions): Promise<Deployment[]> {
    return this.send({ method: "GET", path: "/admin/v1/deployments", parse: many<Deployment>() }, options);
  }
}
