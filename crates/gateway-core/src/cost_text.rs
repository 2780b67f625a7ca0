//! The cost of one answer as the gateway tells it to the caller: a decimal string of US
//! dollars (`0.0000123`), in the `x-gateway-cost-usd` response header and, for streamed chat
//! completions, in the [`COST_FIELD`] of the chunk that carries the usage.
//!
//! The text is written digit by digit into a buffer on the stack: float formatting through
//! `fmt` costs more than the rest of the response headers together, and the header is on
//! every priced answer.

/// The chunk field of a streamed chat completion that carries the answer's cost (next to
/// `usage`, on the chunk that brings it). A gateway name: no vendor uses it for anything else.
pub const COST_FIELD: &str = "x_gateway_cost_usd";

/// Decimal places kept: a ten-billionth of a dollar, below the price of one token of any
/// priced model (the cheapest are around $0.01 per million tokens, 1e-8 per token).
const DECIMALS: usize = 10;
const SCALE: f64 = 1e10;

/// A cost in USD as decimal text, at most [`DECIMALS`] places, trailing zeros removed
/// (`0`, `0.25`, `0.0000123`, `12.5`).
#[derive(Clone, Copy)]
pub struct CostText {
    /// Up to 20 integer digits (`u64`), the point and the decimals, ending the buffer.
    buf: [u8; 32],
    start: usize,
}

impl CostText {
    /// `None` for a cost that is not a finite, non-negative amount below 1.8 billion dollars
    /// (prices are validated non-negative, so that never happens to a real answer).
    pub fn new(usd: f64) -> Option<Self> {
        if !usd.is_finite() || usd < 0.0 {
            return None;
        }
        let scaled = (usd * SCALE).round();
        if scaled >= u64::MAX as f64 {
            return None;
        }
        // Finite, non-negative and in range: the cast keeps the value whole.
        let units = scaled as u64;
        let scale = 10_000_000_000u64;
        let (mut whole, mut frac) = (units / scale, units % scale);
        // Filled from the end: the decimals without their trailing zeros, the point, then the
        // whole dollars (at most 20 digits).
        let mut text = CostText {
            buf: [0; 32],
            start: 32,
        };
        if frac != 0 {
            let mut places = DECIMALS;
            while frac % 10 == 0 {
                frac /= 10;
                places -= 1;
            }
            for _ in 0..places {
                text.put(digit(frac));
                frac /= 10;
            }
            text.put(b'.');
        }
        loop {
            text.put(digit(whole));
            whole /= 10;
            if whole == 0 {
                break;
            }
        }
        Some(text)
    }

    fn put(&mut self, byte: u8) {
        self.start -= 1;
        self.buf[self.start] = byte;
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and a point are ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or("0")
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

fn digit(n: u64) -> u8 {
    // `n % 10` is below 10, so the cast keeps it whole.
    b'0' + (n % 10) as u8
}

impl std::fmt::Debug for CostText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(usd: f64) -> Option<String> {
        CostText::new(usd).map(|t| t.as_str().to_owned())
    }

    #[test]
    fn costs_are_plain_decimals() {
        assert_eq!(text(0.0).as_deref(), Some("0"));
        assert_eq!(text(0.25).as_deref(), Some("0.25"));
        assert_eq!(text(12.5).as_deref(), Some("12.5"));
        assert_eq!(text(3.0).as_deref(), Some("3"));
        // 20 prompt and 10 completion tokens of gpt-4o-mini ($0.15 / $0.60 per million).
        assert_eq!(
            text((20.0 * 0.15 + 10.0 * 0.60) / 1e6).as_deref(),
            Some("0.000009")
        );
        assert_eq!(text(0.0000123).as_deref(), Some("0.0000123"));
        assert_eq!(text(1e-10).as_deref(), Some("0.0000000001"));
        // Below the last place: rounded, to zero when smaller than half of it.
        assert_eq!(text(4e-11).as_deref(), Some("0"));
        assert_eq!(text(1.23456789016).as_deref(), Some("1.2345678902"));
        assert_eq!(text(1_000_000.5).as_deref(), Some("1000000.5"));
    }

    #[test]
    fn no_text_for_what_is_not_an_amount() {
        for bad in [-0.01, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e12] {
            assert!(CostText::new(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn every_text_reads_back_as_its_amount() {
        for usd in [0.000_001_5, 0.1, 0.123_456_7, 42.000_000_1, 999.999_999_999] {
            let t = text(usd).unwrap_or_default();
            let back: f64 = t.parse().unwrap_or(f64::NAN);
            assert!((back - usd).abs() < 1e-10, "{usd} -> {t}");
        }
    }
}
