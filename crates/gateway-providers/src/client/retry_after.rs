//! `retry-after-ms` and `retry-after` from an upstream's answer, clamped: whatever the
//! upstream writes there (`1e300`, `-1`, `NaN`, `inf`, a date in a thousand years), the result
//! is a duration between zero and [`MAX_RETRY_AFTER`], or none, and never a panic.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The longest wait an upstream's `retry-after` can impose (longer values are cut to it).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `retry-after-ms`, then `retry-after` (seconds or HTTP date); a header that is not a
/// non-negative number (or date) is ignored.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = text("retry-after-ms").and_then(|v| seconds(v, 1000.0)) {
        return Some(ms);
    }
    let value = text(http::header::RETRY_AFTER.as_str())?;
    if let Some(secs) = seconds(value, 1.0) {
        return Some(secs);
    }
    let when = httpdate::parse_http_date(value.trim()).ok()?;
    let wait = when
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A non-negative number of `1/per_second` seconds, clamped to [`MAX_RETRY_AFTER`].
fn seconds(text: &str, per_second: f64) -> Option<Duration> {
    let value = text.trim().parse::<f64>().ok()?;
    if value.is_nan() || value < 0.0 {
        return None;
    }
    let secs = (value / per_second).min(MAX_RETRY_AFTER.as_secs_f64());
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        let h = with(&[("retry-after", "3")]);
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        let h = with(&[("retry-after", "3"), ("retry-after-ms", "250")]);
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let h = with(&[("retry-after", "soon")]);
        assert_eq!(retry_after(&h), None);
        let h = with(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    /// Every hostile value, in each header: no panic, and a result within the bound.
    #[test]
    fn hostile_values_give_a_bounded_result() {
        let hostile = [
            "1e300",
            "-1e300",
            "1e309",
            "inf",
            "-inf",
            "infinity",
            "NaN",
            "-NaN",
            "-1",
            "-0",
            "0",
            "18446744073709551616",
            "99999999999999999999999999999999999999",
            "4294967296.5",
            "1.7976931348623157e308",
            "0x10",
            "",
            " ",
            "1 2",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Mon, 32 Foo 99999 99:99:99 GMT",
        ];
        for value in hostile {
            for name in ["retry-after", "retry-after-ms"] {
                let got = retry_after(&with(&[(name, value)]));
                assert!(
                    got.is_none_or(|d| d <= MAX_RETRY_AFTER),
                    "{name}: {value} -> {got:?}"
                );
            }
        }
        let huge = with(&[("retry-after", "1e300")]);
        assert_eq!(retry_after(&huge), Some(MAX_RETRY_AFTER));
        let huge = with(&[("retry-after-ms", "1e300")]);
        assert_eq!(retry_after(&huge), Some(MAX_RETRY_AFTER));
        let far = with(&[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")]);
        assert_eq!(retry_after(&far), Some(MAX_RETRY_AFTER));
        // A bad `retry-after-ms` does not hide a good `retry-after`.
        let mixed = with(&[("retry-after-ms", "NaN"), ("retry-after", "2")]);
        assert_eq!(retry_after(&mixed), Some(Duration::from_secs(2)));
    }
}
