//! Durations in configuration: strings with a unit (`"250ms"`, `"2s"`, `"1m"`, `"1h"`, `"1d"`)
//! or integer milliseconds. Shared by every section that takes a duration.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parse `"250ms"`, `"1.5s"`, `"2m"`, `"1h"`, `"1d"`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

/// `#[serde(deserialize_with = "gateway_core::duration::deserialize")]`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Millis(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Millis(ms) => Ok(Duration::from_millis(ms)),
        Raw::Text(t) => parse_duration(&t).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid duration '{t}': use e.g. \"250ms\", \"2s\", \"1m\""
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("2"), None);
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn rejects_nonsense() {
        assert_eq!(parse_duration("fast"), None);
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
    }
}
