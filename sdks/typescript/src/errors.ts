/**
 * Typed errors mirroring the gateway's error responses.
 *
 * Every non-2xx answer becomes an {@link APIStatusError} subclass chosen by HTTP status (and,
 * for 400, by the gateway's `code`): catch {@link RateLimitError} for 429,
 * {@link NotFoundError} for 404, or {@link GatewayError} for everything the SDK throws. The
 * fields come from the gateway's JSON body (`{"error": {"message", "type", "code", "param"}}`).
 */

import { parseRetryAfter } from "./headers.js";

/** Statuses that may succeed when sent again; non-idempotent calls are retried only on 429. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Base class of every error this SDK throws. */
export class GatewayError extends Error {
  override name = "GatewayError";
}

/** The gateway could not be reached, or the connection broke before an answer. */
export class APIConnectionError extends GatewayError {
  override name = "APIConnectionError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The gateway did not answer within the client's timeout. */
export class APITimeoutError extends APIConnectionError {
  override name = "APITimeoutError";
}

/** What an error answer says. */
export interface ErrorDetails {
  status: number;
  message: string;
  type?: string | undefined;
  code?: string | undefined;
  param?: string | undefined;
  requestId?: string | undefined;
  retryAfter?: number | undefined;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The gateway answered with an error status; `message` is the gateway's own message. */
export class APIStatusError extends GatewayError {
  override name = "APIStatusError";
  /** The HTTP status. */
  readonly status: number;
  /** The error `type` (`invalid_request_error`, `rate_limit_error`, ...). */
  readonly type: string | undefined;
  /** The stable machine-readable code when given (`already_exists`, `rate_limit_exceeded`, ...). */
  readonly code: string | undefined;
  /** The request field at fault, when known. */
  readonly param: string | undefined;
  /** The gateway's `x-request-id`: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** Seconds to wait before retrying, from `retry-after-ms` / `retry-after`. */
  readonly retryAfter: number | undefined;
  /** The decoded JSON body, or the raw text when it was not JSON. */
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(d: ErrorDetails) {
    super(d.message);
    this.status = d.status;
    this.type = d.type;
    this.code = d.code;
    this.param = d.param;
    this.requestId = d.requestId;
    this.retryAfter = d.retryAfter;
    this.body = d.body;
    this.headers = d.headers ?? {};
  }

  /** Whether sending the same request again may succeed. */
  get retryable(): boolean {
    return RETRYABLE_STATUSES.has(this.status);
  }
}

/** 400: the request is malformed or a value is invalid (`param` names it). */
export class BadRequestError extends APIStatusError { override name = "BadRequestError"; }
/** 400 with code `already_exists`: e.g. a tenant id that is taken. */
export class ConflictError extends BadRequestError { override name = "ConflictError"; }
/** 401: no credential, or one that is unknown, expired, disabled or revoked. */
export class AuthenticationError extends APIStatusError { override name = "AuthenticationError"; }
/** 403: the credential is valid but lacks the permission (or a policy denied it). */
export class PermissionDeniedError extends APIStatusError { override name = "PermissionDeniedError"; }
/** 404: unknown id, path or model. */
export class NotFoundError extends APIStatusError { override name = "NotFoundError"; }
/** 405: the path exists but not with this method. */
export class MethodNotAllowedError extends APIStatusError { override name = "MethodNotAllowedError"; }
/** 408: the gateway gave up receiving the request body. */
export class RequestTimeoutError extends APIStatusError { override name = "RequestTimeoutError"; }
/** 413: the body is larger than the gateway accepts. */
export class PayloadTooLargeError extends APIStatusError { override name = "PayloadTooLargeError"; }
/** 422: a guardrail or policy blocked the content. */
export class PolicyViolationError extends APIStatusError { override name = "PolicyViolationError"; }
/** 429: a rate, token, concurrency or budget limit; `retryAfter` says when to retry. */
export class RateLimitError extends APIStatusError { override name = "RateLimitError"; }
/** 500: the gateway failed internally. */
export class InternalServerError extends APIStatusError { override name = "InternalServerError"; }
/** 502 (or another upstream status): the provider behind the gateway failed. */
export class UpstreamError extends APIStatusError { override name = "UpstreamError"; }
/** 503: the gateway, or a backend it needs, is not available. */
export class ServiceUnavailableError extends APIStatusError { override name = "ServiceUnavailableError"; }
/** 504: the provider did not answer in time. */
export class UpstreamTimeoutError extends APIStatusError { override name = "UpstreamTimeoutError"; }

type StatusErrorClass = new (d: ErrorDetails) => APIStatusError;

const BY_STATUS: Record<number, StatusErrorClass> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  405: MethodNotAllowedError,
  408: RequestTimeoutError,
  413: PayloadTooLargeError,
  422: PolicyViolationError,
  429: RateLimitError,
  500: InternalServerError,
  502: UpstreamError,
  503: ServiceUnavailableError,
  504: UpstreamTimeoutError,
};

const BY_CODE: Record<string, StatusErrorClass> = { already_exists: ConflictError };

function errorClass(status: number, code?: string, type?: string): StatusErrorClass {
  if (code && BY_CODE[code]) return BY_CODE[code];
  const byStatus = BY_STATUS[status];
  if (byStatus) return byStatus;
  if (type === "upstream_error") return UpstreamError;
  return status >= 500 ? InternalServerError : APIStatusError;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The typed error of one error answer (OpenAI- or Anthropic-shaped body). */
export function errorFromResponse(status: number, headers: Record<string, string>, text: string): APIStatusError {
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  const err =
    body && typeof body === "object" && "error" in body && typeof body.error === "object" && body.error
      ? (body.error as Record<string, unknown>)
      : {};
  const code = str(err.code);
  const type = str(err.type);
  const message = str(err.message) ?? (text.trim().slice(0, 200) || `HTTP ${status}`);
  const Cls = errorClass(status, code, type);
  return new Cls({
    status,
    message,
    type,
    code,
    param: str(err.param),
    requestId: headers["x-request-id"],
    retryAfter: parseRetryAfter(headers),
    body,
    headers,
  });
}
