/**
 * When to send a failed call again, and after how long.
 *
 * Only answers that may succeed when repeated are retried ({@link RETRYABLE_STATUSES}); a call
 * that is not idempotent (creating or rotating a key) only when the gateway surely did not act
 * on it: a 429, or a connection that never opened. The wait is the gateway's `retry-after`
 * when given, else an exponential backoff with jitter; the retries of one call stop after
 * `maxRetries` or when the next wait would take the total past `maxWait` milliseconds (the
 * error is then thrown with its `retryAfter` for the caller). Times here are milliseconds.
 */

import { RETRYABLE_STATUSES } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt (default 2; 0 turns retries off). */
  maxRetries?: number;
  /** Most milliseconds slept in all the retries of one call together (default 30 000). */
  maxWait?: number;
  /** First backoff without a `retry-after`, in ms (default 500), doubling up to `maxBackoff` (8000). */
  initialBackoff?: number;
  maxBackoff?: number;
}

export class RetryPolicy {
  readonly maxRetries: number;
  readonly maxWait: number;
  readonly initialBackoff: number;
  readonly maxBackoff: number;

  constructor(o: RetryOptions = {}) {
    this.maxRetries = o.maxRetries ?? 2;
    this.maxWait = o.maxWait ?? 30_000;
    this.initialBackoff = o.initialBackoff ?? 500;
    this.maxBackoff = o.maxBackoff ?? 8_000;
    for (const [name, v] of Object.entries(this)) {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        throw new RangeError(`retry setting ${name} must be a non-negative number`);
      }
    }
  }

  /** The wait before retry number `retry` (0-based) without a `retry-after`: jittered. */
  backoff(retry: number): number {
    const ceiling = Math.min(this.maxBackoff, this.initialBackoff * 2 ** retry);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** Ms to wait before retrying an error answer (`retryAfter` in seconds), or undefined to give up. */
  afterStatus(retry: number, waited: number, status: number, retryAfter: number | undefined, idempotent: boolean): number | undefined {
    if (!RETRYABLE_STATUSES.has(status) || (!idempotent && status !== 429)) return undefined;
    return this.withinBudget(retry, waited, retryAfter === undefined ? undefined : retryAfter * 1000);
  }

  /** Ms to wait after a transport failure; `sent`: the request may have reached the gateway. */
  afterConnectionError(retry: number, waited: number, sent: boolean, idempotent: boolean): number | undefined {
    if (sent && !idempotent) return undefined;
    return this.withinBudget(retry, waited, undefined);
  }

  private withinBudget(retry: number, waited: number, retryAfter: number | undefined): number | undefined {
    if (retry >= this.maxRetries) return undefined;
    const delay = retryAfter ?? this.backoff(retry);
    return waited + delay > this.maxWait ? undefined : delay;
  }
}
