//! The header names the gateway reads and writes on every call, validated once at compile
//! time: a lookup or an insert by `&str` parses and checks the name again each time.

use http::{HeaderName, HeaderValue};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The request id under Anthropic's name, on the answers of Anthropic-shaped routes.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
/// W3C trace context, read from requests.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
pub const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
pub const X_GATEWAY_PROVIDER: HeaderName = HeaderName::from_static("x-gateway-provider");
pub const X_GATEWAY_MODEL: HeaderName = HeaderName::from_static("x-gateway-model");
pub const X_GATEWAY_ATTEMPTS: HeaderName = HeaderName::from_static("x-gateway-attempts");
/// What the answer cost, in USD (priced answers that are not streamed).
pub const X_GATEWAY_COST_USD: HeaderName = HeaderName::from_static("x-gateway-cost-usd");
/// The request parameters the upstream had no form for and that were left out.
pub const X_GATEWAY_DROPPED_PARAMS: HeaderName =
    HeaderName::from_static("x-gateway-dropped-params");
/// Why a call to the virtual model (prompt-type routing) went where it went.
pub const X_GATEWAY_ROUTE_REASON: HeaderName = HeaderName::from_static("x-gateway-route-reason");
pub const X_GATEWAY_REGION: HeaderName = HeaderName::from_static("x-gateway-region");
pub const LIMIT_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-limit-requests");
pub const REMAINING_REQUESTS: HeaderName =
    HeaderName::from_static("x-ratelimit-remaining-requests");
pub const LIMIT_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-limit-tokens");
pub const REMAINING_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-tokens");
pub const RESET_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-reset-requests");
pub const RESET_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-reset-tokens");

/// A reset delay as OpenAI writes it, in seconds with millisecond precision (`1.250s`),
/// written digit by digit: float formatting, then `format!`, were the costliest part of the
/// response headers.
pub fn reset_seconds(secs: f64) -> HeaderValue {
    // `as` saturates: a NaN becomes 0 and a huge value u64::MAX.
    let millis = (secs.max(0.0) * 1000.0).round() as u64;
    // Filled from the end: `s`, three decimals, `.`, then the whole seconds (at most 17
    // digits once divided by 1000).
    let mut text = [0u8; 24];
    let mut start = text.len();
    let mut put = |byte: u8| {
        start -= 1;
        if let Some(slot) = text.get_mut(start) {
            *slot = byte;
        }
    };
    put(b's');
    let mut rest = millis;
    for _ in 0..3 {
        put(digit(rest));
        rest /= 10;
    }
    put(b'.');
    loop {
        put(digit(rest));
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    HeaderValue::from_bytes(text.get(start..).unwrap_or_default())
        .unwrap_or_else(|_| HeaderValue::from_static("0.000s"))
}

/// The header values of the numbers 0 to 9, which need no buffer of their own.
static SMALL_NUMBERS: [HeaderValue; 10] = [
    HeaderValue::from_static("0"),
    HeaderValue::from_static("1"),
    HeaderValue::from_static("2"),
    HeaderValue::from_static("3"),
    HeaderValue::from_static("4"),
    HeaderValue::from_static("5"),
    HeaderValue::from_static("6"),
    HeaderValue::from_static("7"),
    HeaderValue::from_static("8"),
    HeaderValue::from_static("9"),
];

/// A number as a header value in one allocation, none below 10: `HeaderValue::from(u64)`
/// takes two (a 20-byte buffer, then the shared handle it is frozen into), and the
/// rate-limit headers put four numbers on every answer. Allocations are what a request
/// that finds the caches cold pays for most.
pub fn number(n: u64) -> HeaderValue {
    if let Some(small) = usize::try_from(n).ok().and_then(|i| SMALL_NUMBERS.get(i)) {
        return small.clone();
    }
    HeaderValue::from_bytes(itoa::Buffer::new().format(n).as_bytes())
        .unwrap_or_else(|_| HeaderValue::from(n))
}

/// A cost in USD as a header value (`0.0000123`), written on the stack and copied once into
/// the value; `None` for what is not an amount.
pub fn cost_usd(usd: f64) -> Option<HeaderValue> {
    let text = gateway_core::cost_text::CostText::new(usd)?;
    HeaderValue::from_bytes(text.as_bytes()).ok()
}

fn digit(n: u64) -> u8 {
    // `n % 10` is below 10, so the cast keeps it whole.
    b'0' + (n % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_seconds_keep_three_decimals() {
        assert_eq!(reset_seconds(0.0), "0.000s");
        assert_eq!(reset_seconds(1.25), "1.250s");
        assert_eq!(reset_seconds(59.9996), "60.000s");
        assert_eq!(reset_seconds(0.0004), "0.000s");
        assert_eq!(reset_seconds(-3.0), "0.000s");
        assert_eq!(reset_seconds(f64::NAN), "0.000s");
        assert_eq!(reset_seconds(86_400.007), "86400.007s");
        assert_eq!(reset_seconds(1e300), "18446744073709551.615s");
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [
            0,
            1,
            9,
            10,
            42,
            99,
            100,
            60_000_000,
            6_000_000_000,
            u64::MAX,
        ] {
            assert_eq!(number(n), n.to_string().as_str(), "{n}");
            assert_eq!(number(n), HeaderValue::from(n));
        }
    }

    #[test]
    fn costs_are_decimal_dollars() {
        assert_eq!(
            cost_usd(0.000_009),
            Some(HeaderValue::from_static("0.000009"))
        );
        assert_eq!(cost_usd(0.0), Some(HeaderValue::from_static("0")));
        assert_eq!(cost_usd(-1.0), None);
        assert_eq!(cost_usd(f64::NAN), None);
    }
}
