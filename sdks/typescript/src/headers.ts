/** Reading the gateway's response headers: retry delays and numbers. */

/** The longest `retry-after` believed (a day): a bogus header cannot park a caller for years. */
export const MAX_RETRY_AFTER = 86_400;

/** Something that has headers: a `Headers`, a `Response`, or a plain record. */
export type HeaderSource = Headers | { headers: Headers } | Record<string, string | undefined>;

/** The headers of `source` as a plain object with lower-case names. */
export function headerRecord(source: HeaderSource): Record<string, string> {
  const out: Record<string, string> = {};
  const headers =
    source instanceof Headers
      ? source
      : "headers" in source && source.headers instanceof Headers
        ? source.headers
        : undefined;
  if (headers) {
    headers.forEach((value, name) => {
      out[name.toLowerCase()] = value;
    });
    return out;
  }
  for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
    if (typeof value === "string") out[name.toLowerCase()] = value;
  }
  return out;
}

function finiteNonNegative(text: string): number | undefined {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? Math.min(value, MAX_RETRY_AFTER) : undefined;
}

/** Seconds to wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function parseRetryAfter(h: Record<string, string>, now: number = Date.now()): number | undefined {
  const ms = h["retry-after-ms"];
  if (ms !== undefined) {
    const value = finiteNonNegative(ms);
    if (value !== undefined) return Math.min(value / 1000, MAX_RETRY_AFTER);
  }
  const raw = h["retry-after"];
  if (raw === undefined) return undefined;
  const seconds = finiteNonNegative(raw);
  if (seconds !== undefined) return seconds;
  // A number that is not a valid delay (negative, ...) is not a date either.
  if (/^\s*[-+]?[\d.]+\s*$/.test(raw)) return undefined;
  const when = Date.parse(raw);
  if (Number.isNaN(when)) return undefined;
  return Math.min(Math.max((when - now) / 1000, 0), MAX_RETRY_AFTER);
}

export function headerInt(h: Record<string, string>, name: string): number | undefined {
  const raw = h[name];
  if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) return undefined;
  return Number(raw);
}

/** A reset delay in OpenAI's notation (`1.250s`, `20ms`, `1m30s`, or bare seconds) in seconds. */
export function headerSeconds(h: Record<string, string>, name: string): number | undefined {
  const raw = h[name]?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const parts = raw.match(/(\d+(?:\.\d+)?)(ms|h|m|s)/g);
  if (!parts || parts.join("") !== raw) return undefined;
  let total = 0;
  for (const part of parts) {
    const [, num, unit] = /^(\d+(?:\.\d+)?)(ms|h|m|s)$/.exec(part) ?? [];
    total += Number(num) * (units[unit ?? ""] ?? 0);
  }
  return total;
}
