/**
 * `/admin/v1/webhooks`: a tenant's signed webhook endpoints (docs/webhooks.md): create (the
 * signing secret is shown once), list, get, update, delete, rotate the secret (the old one
 * keeps signing for the configured overlap), the delivery log, and manual redelivery.
 * Reads need `read_keys`, changes `manage_keys` on the endpoint's tenant; another tenant's
 * endpoint or delivery answers 404 like a missing one.
 */

import { type RequestOptions, body, segment } from "../transport.js";
import type { Deleted, WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret } from "../types.js";
import { Resource, many, one } from "./base.js";

const PATH = "/admin/v1/webhooks";

export interface WebhookCreate {
  tenant: string;
  /** https (http only where the operator allows it); public addresses unless the operator's
   * `[webhooks] allow_private` names the network. */
  url: string;
  /** Event types to deliver (`key.created`, `key.revoked`, `limit.exceeded`, ...). */
  events: string[];
  description?: string;
  enabled?: boolean;
}

/** The fields to change. */
export interface WebhookUpdate {
  url?: string;
  events?: string[];
  description?: string;
  /** `false` pauses deliveries. */
  enabled?: boolean;
}

export interface DeliveryQuery {
  /** A delivery id: the page starts after it (newest first). */
  before?: string;
  /** 1-100 (the gateway's default: 20). */
  limit?: number;
}

const path = (id: string, action = ""): string => `${PATH}/${segment(id, "webhook id")}${action}`;

export class Webhooks extends Resource {
  /** Register an endpoint; the answer's `secret` (`whsec_...`) is shown this once. */
  create(params: WebhookCreate, options?: RequestOptions): Promise<WebhookEndpointWithSecret> {
    // Not idempotent: a retried create after the gateway acted would register a second endpoint.
    return this.send({ method: "POST", path: PATH, body: body({ ...params }), parse: one<WebhookEndpointWithSecret>() }, options);
  }

  /** Endpoints (an admin sees every tenant's without `tenant`). */
  list(params: { tenant?: string } = {}, options?: RequestOptions): Promise<WebhookEndpoint[]> {
    return this.send({ method: "GET", path: PATH, query: { tenant: params.tenant }, parse: many<WebhookEndpoint>() }, options);
  }

  get(id: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.send({ method: "GET", path: path(id), parse: one<WebhookEndpoint>() }, options);
  }

  update(id: string, changes: WebhookUpdate, options?: RequestOptions): Promise<WebhookEndpoint> {
    const fields = body({ ...changes });
    if (Object.keys(fields).length === 0) throw new TypeError("update needs at least one field to change");
    return this.send({ method: "PATCH", path: path(id), body: fields, parse: one<WebhookEndpoint>() }, options);
  }

  /** Delete the endpoint. */
  delete(id: string, options?: RequestOptions): Promise<Deleted> {
    return this.send({ method: "DELETE", path: path(id), parse: one<Deleted>() }, options);
  }

  /** A new secret, shown this once; the previous one keeps signing until
   * `previous_secret_expires_at` (both signatures are sent meanwhile). */
  rotateSecret(id: string, options?: RequestOptions): Promise<WebhookEndpointWithSecret> {
    return this.send({ method: "POST", path: path(id, "/rotate-secret"), body: {}, parse: one<WebhookEndpointWithSecret>() }, options);
  }

  /** One page of the endpoint's deliveries, newest first, each with its attempts. */
  deliveries(id: string, params: DeliveryQuery = {}, options?: RequestOptions): Promise<WebhookDelivery[]> {
    const query = { before: params.before, limit: params.limit };
    return this.send({ method: "GET", path: path(id, "/deliveries"), query, parse: many<WebhookDelivery>() }, options);
  }

  /** `for await (const d of client.webhooks.iterDeliveries(id))`: every delivery, newest
   * first, fetching pages of `pageSize` as it goes. */
  async *iterDeliveries(id: string, params: { pageSize?: number } = {}, options?: RequestOptions): AsyncGenerator<WebhookDelivery, void, undefined> {
    const limit = params.pageSize ?? 100;
    let before: string | undefined;
    for (;;) {
      const page = await this.deliveries(id, { before, limit }, options);
      yield* page;
      const last = page[page.length - 1];
      if (page.length < limit || last === undefined) return;
      before = last.id;
    }
  }

  /** Queue a delivery again at once (a dead one too), with a new retry window; answers it pending. */
  redeliver(deliveryId: string, options?: RequestOptions): Promise<WebhookDelivery> {
    const target = `${PATH}/deliveries/${segment(deliveryId, "delivery id")}/redeliver`;
    return this.send({ method: "POST", path: target, body: {}, parse: one<WebhookDelivery>() }, options);
  }
}
