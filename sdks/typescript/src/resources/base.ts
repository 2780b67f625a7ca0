/**
 * What every resource shares: the transport its calls go through, and readers of answers.
 *
 * A resource is one file in this folder: a class whose methods describe their calls
 * ({@link Call}) and send them. Adding an API (batches, feedback, templates) is one such file
 * plus one line in `GatewayClient`.
 */

import { GatewayError } from "../errors.js";
import type { ResponseMetadata } from "../metadata.js";
import type { Call, RequestOptions, Transport } from "../transport.js";

export abstract class Resource {
  constructor(protected readonly transport: Transport) {}

  protected send<T>(call: Call<T>, options?: RequestOptions): Promise<T> {
    return this.transport.send(call, options);
  }
}

function object(data: unknown): Record<string, unknown> {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new GatewayError(`the gateway answered with an unexpected body: ${String(JSON.stringify(data)).slice(0, 200)}`);
  }
  return data as Record<string, unknown>;
}

/** A JSON object, as `T`. */
export function one<T>(): (data: unknown) => T {
  return (data) => object(data) as T;
}

/** A `{"object": "list", "data": [...]}`, as `T[]`. */
export function many<T>(): (data: unknown) => T[] {
  return (data) => {
    const items = object(data).data;
    if (!Array.isArray(items)) throw new GatewayError("the gateway answered a list without 'data'");
    return items.map((item) => object(item) as T);
  };
}

/** A JSON object, as `T` with the response metadata. */
export function withMetadata<T extends { metadata: ResponseMetadata }>(): (data: unknown, meta: ResponseMetadata) => T {
  return (data, meta) => ({ ...object(data), metadata: meta }) as unknown as T;
}
