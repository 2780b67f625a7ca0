/**
 * Asynchronous calls (docs/async.md): a model call sent with `Prefer: respond-async` is
 * answered at once with a job, and its answer waits at `GET /v1/async/{id}`.
 *
 * ```ts
 * const job = await gw.asyncCalls.submit("/v1/chat/completions", { model: "demo", messages });
 * const done = await gw.asyncCalls.wait(job.id, { timeout: 120_000 }); // at most 120 s
 * done.body, done.metadata.provider
 * ```
 *
 * `run` is `submit` then `wait`. Polling is bounded: `wait` gives up after `timeout` ms with
 * {@link AsyncCallTimeoutError} (the job goes on: wait again or cancel it). Once the call ran,
 * its answer is what the synchronous call would have given: a success is returned, an error
 * answer is thrown as the same typed error (a guardrail's 422 as `PolicyViolationError`, a
 * limit's 429 as `RateLimitError`, a `failed` job as the gateway's 502), never retried: it is
 * the call's final answer.
 */

import { type APIStatusError, GatewayError } from "../errors.js";
import type { ResponseMetadata } from "../metadata.js";
import { type RequestOptions, segment, sleep } from "../transport.js";
import { Resource, one } from "./base.js";

/** The job object (`"object": "async.job"`) of an async call. */
export interface AsyncJob {
  id: string;
  object: "async.job";
  status: "pending" | "running" | "completed" | "failed" | "cancelled";
  /** The model-call route it was sent to (`/v1/chat/completions`, ...). */
  route: string;
  /** Unix seconds. */
  created_at: number;
  completed_at: number | null;
  /** Whether the call was sent again after an instance stopped with it in flight. */
  retried: boolean;
  callback_url: string | null;
  links?: { self: string };
}

/** What `GET /v1/async/{id}` answered. */
export interface AsyncResult<T = unknown> {
  id: string;
  /** The job's state (`x-gateway-async-status`). */
  status: AsyncJob["status"];
  /** Whether the call has its final answer (or was cancelled). */
  done: boolean;
  /** The job object while it waits or runs, and once cancelled; `null` once answered. */
  job: AsyncJob | null;
  /** The call's answer once `completed` (a chat completion, an Anthropic message, ...). */
  body: T | null;
  /** The answer's gateway headers (provider, attempts, cache, rate limits, ...). */
  metadata: ResponseMetadata;
}

export interface SubmitOptions {
  /** `x-gateway-callback-url`: one of the tenant's webhook endpoints, to receive `async.completed`. */
  callbackUrl?: string;
  /** More request headers (`cache-control`, ...). */
  headers?: Record<string, string>;
  /** Aborts the call. */
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Most milliseconds to wait in all (default 60 000); then {@link AsyncCallTimeoutError}.
   * (Each poll keeps the client's own per-request timeout.) */
  timeout?: number;
  /** Milliseconds between polls (default 1 000), or the gateway's `retry-after` when longer. */
  pollInterval?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
}

/** `wait` gave up: the job was still `status` after `timeout` ms. */
export class AsyncCallTimeoutError extends GatewayError {
  override name = "AsyncCallTimeoutError";
  constructor(
    readonly jobId: string,
    readonly status: string,
    readonly timeout: number,
  ) {
    super(`async call ${jobId} was still ${status} after ${timeout} ms`);
  }
}

const PATH = "/v1/async";
const WAITING = new Set(["pending", "running"]);
/** A job's recorded answer carries its state; only other error answers may be retried. */
const notRecorded = (err: APIStatusError): boolean => err.headers["x-gateway-async-status"] === undefined;

function positive(value: number, what: string): number {
  if (!(value > 0 && Number.isFinite(value))) throw new TypeError(`${what} must be a positive number of milliseconds`);
  return value;
}

function submitted(data: unknown, meta: ResponseMetadata): AsyncJob {
  if (!(meta.headers["preference-applied"] ?? "").toLowerCase().includes("respond-async")) {
    // A gateway without a store (the edge profile) runs the call at once instead.
    throw new GatewayError(`the gateway answered the call synchronously (it keeps no async jobs: edge profile); request id ${meta.requestId}`);
  }
  return one<AsyncJob>()(data);
}

export class AsyncCalls extends Resource {
  /** Send a model call (`path`: `/v1/chat/completions`, `/v1/embeddings`, `/v1/messages`,
   * `/query`, ...) with `Prefer: respond-async`; resolves with its job. A bad request is
   * refused at once with its typed error, and no job is made. */
  submit(path: string, body: unknown, options: SubmitOptions = {}): Promise<AsyncJob> {
    if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("//")) {
      throw new TypeError(`path must be a model-call route such as "/v1/chat/completions", got ${JSON.stringify(path)}`);
    }
    const sent: Record<string, string> = { ...options.headers, prefer: "respond-async" };
    if (options.callbackUrl !== undefined) sent["x-gateway-callback-url"] = options.callbackUrl;
    return this.send({ method: "POST", path, body, headers: sent, parse: submitted }, signalOnly(options.signal));
  }

  /** One look at the job: waiting (`done` false), or its answer. An error answer of the call
   * is thrown as its typed error. */
  get<T = unknown>(id: string, options?: RequestOptions): Promise<AsyncResult<T>> {
    return this.send(
      {
        method: "GET",
        path: `${PATH}/${segment(id, "async job id")}`,
        retryStatus: notRecorded,
        parse: (data, metadata): AsyncResult<T> => {
          const status = (metadata.headers["x-gateway-async-status"] ?? "completed") as AsyncJob["status"];
          if (WAITING.has(status) || status === "cancelled") {
            return { id, status, done: !WAITING.has(status), job: one<AsyncJob>()(data), body: null, metadata };
          }
          return { id, status, done: true, job: null, body: data as T, metadata };
        },
      },
      options,
    );
  }

  /** Cancel a `pending` job (one that started or ended cannot be: 400). */
  cancel(id: string, options?: RequestOptions): Promise<AsyncJob> {
    return this.send({ method: "DELETE", path: `${PATH}/${segment(id, "async job id")}`, parse: one<AsyncJob>() }, options);
  }

  /** Poll until the job is answered or cancelled, at most `timeout` ms. */
  async wait<T = unknown>(id: string, options: WaitOptions = {}): Promise<AsyncResult<T>> {
    const timeout = positive(options.timeout ?? 60_000, "timeout");
    const pollInterval = positive(options.pollInterval ?? 1_000, "pollInterval");
    const deadline = Date.now() + timeout;
    for (;;) {
      const result = await this.get<T>(id, signalOnly(options.signal));
      const remaining = deadline - Date.now();
      if (result.done) return result;
      if (remaining <= 0) throw new AsyncCallTimeoutError(id, result.status, timeout);
      const asked = (result.metadata.retryAfter ?? 0) * 1000;
      await sleep(Math.min(Math.max(pollInterval, asked), remaining), options.signal);
    }
  }

  /** `submit` then `wait`. */
  async run<T = unknown>(path: string, body: unknown, options: SubmitOptions & WaitOptions = {}): Promise<AsyncResult<T>> {
    positive(options.timeout ?? 60_000, "timeout");
    positive(options.pollInterval ?? 1_000, "pollInterval");
    const job = await this.submit(path, body, options);
    return this.wait<T>(job.id, options);
  }
}

function signalOnly(signal: AbortSignal | undefined): RequestOptions {
  return signal ? { signal } : {};
}
