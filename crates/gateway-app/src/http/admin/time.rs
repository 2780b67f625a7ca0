//! Timestamps of the admin API: RFC 3339 in UTC with milliseconds out; RFC 3339, a plain
//! `YYYY-MM-DD` date or unix seconds in. Civil-date arithmetic after Howard Hinnant's
//! `days_from_civil`, so no date crate is needed.

use std::time::{Duration, SystemTime};

use gateway_core::store::{from_unix_millis, unix_millis};

const DAY_SECS: i64 = 86_400;

/// `2024-05-01T12:00:00.000Z`.
pub fn format(t: SystemTime) -> String {
    let ms = unix_millis(t);
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(DAY_SECS));
    let sod = secs.rem_euclid(DAY_SECS);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// A parsed point in time; `date_only` when the input was a bare `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub at: SystemTime,
    pub date_only: bool,
}

impl Parsed {
    /// As an exclusive upper bound: a bare date includes that whole day.
    pub fn as_end(self) -> SystemTime {
        if self.date_only {
            self.at + Duration::from_secs(DAY_SECS.unsigned_abs())
        } else {
            self.at
        }
    }
}

/// Unix seconds, `YYYY-MM-DD` (midnight UTC) or RFC 3339 (`Z` or `±HH:MM` offset).
pub fn parse(s: &str) -> Option<Parsed> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = s.parse().ok()?;
        return Some(Parsed {
            at: from_unix_millis(secs.checked_mul(1000)?),
            date_only: false,
        });
    }
    let days = parse_date(s.get(..10)?)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(Parsed {
            at: from_unix_millis(days * DAY_SECS * 1000),
            date_only: true,
        });
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, offset_secs) = split_offset(rest)?;
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = hms.split(':');
    let (Some(h), Some(mi), Some(sec), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let (h, mi, sec) = (number(h, 0, 23)?, number(mi, 0, 59)?, number(sec, 0, 60)?);
    let milli = if frac.is_empty() {
        0
    } else {
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        digits.parse::<i64>().ok()?
    };
    let secs = days * DAY_SECS + h * 3600 + mi * 60 + sec - offset_secs;
    Some(Parsed {
        at: from_unix_millis(secs * 1000 + milli),
        date_only: false,
    })
}

/// `YYYY-MM-DD` -> days since 1970-01-01, rejecting impossible dates.
fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = number(&s[..4], 0, 9999)?;
    let m = u32::try_from(number(&s[5..7], 1, 12)?).ok()?;
    let d = u32::try_from(number(&s[8..10], 1, 31)?).ok()?;
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// Splits `HH:MM:SS[.fff]` from its `Z` / `±HH:MM` suffix; returns the offset in seconds.
fn split_offset(s: &str) -> Option<(&str, i64)> {
    if let Some(clock) = s.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let at = s.rfind(['+', '-'])?;
    let (clock, offset) = s.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let (h, m) = offset[1..].split_once(':')?;
    Some((
        clock,
        sign * (number(h, 0, 23)? * 3600 + number(m, 0, 59)? * 60),
    ))
}

fn number(s: &str, min: i64, max: i64) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| (min..=max).contains(n))
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> SystemTime {
        from_unix_millis(ms)
    }

    #[test]
    fn formats_utc_with_millis() {
        assert_eq!(format(at(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(format(at(1_714_564_800_123)), "2024-05-01T12:00:00.123Z");
        assert_eq!(format(at(951_782_400_000)), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn parses_the_accepted_shapes() {
        let p = parse("2024-05-01").unwrap();
        assert_eq!(p.at, at(1_714_521_600_000));
        assert!(p.date_only);
        assert_eq!(p.as_end(), at(1_714_608_000_000));
        assert_eq!(
            parse("2024-05-01T12:00:00Z").unwrap().at,
            at(1_714_564_800_000)
        );
        assert_eq!(
            parse("2024-05-01T12:00:00.5Z").unwrap().at,
            at(1_714_564_800_500)
        );
        assert_eq!(
            parse("2024-05-01T14:00:00+02:00").unwrap().at,
            at(1_714_564_800_000)
        );
        assert_eq!(parse("1714564800").unwrap().at, at(1_714_564_800_000));
        let round = parse(&format(at(1_714_564_800_123))).unwrap();
        assert_eq!(round.at, at(1_714_564_800_123));
    }

    #[test]
    fn rejects_impossible_or_odd_input() {
        for bad in [
            "",
            "2023-02-29",
            "2024-13-01",
            "2024-05-01T25:00:00Z",
            "yesterday",
            "2024-05-01T12:00Z",
            "2024-05-01X",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
