//! Query strings of the admin API: percent-decoded `name=value` pairs, every name checked
//! against the endpoint's list so that a typo is an error rather than a silently ignored filter.

use std::collections::BTreeMap;
use std::time::SystemTime;

use gateway_core::GatewayError;

use super::time;

/// The decoded parameters of one request.
#[derive(Debug, Default)]
pub struct Query {
    params: BTreeMap<String, String>,
}

impl Query {
    /// Parses `raw` (without the `?`), accepting only the names in `allowed`.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Query, GatewayError> {
        let mut params = BTreeMap::new();
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name)?;
            if !allowed.contains(&name.as_str()) {
                return Err(GatewayError::invalid_param(
                    &name,
                    format!(
                        "Unknown query parameter '{name}'; this endpoint accepts: {}.",
                        if allowed.is_empty() {
                            "none".to_owned()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                ));
            }
            params.insert(name, decode(value)?);
        }
        Ok(Query { params })
    }

    /// A non-empty value.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn number(&self, name: &str) -> Result<Option<u64>, GatewayError> {
        self.text(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    GatewayError::invalid_param(name, format!("'{name}' must be a whole number."))
                })
            })
            .transpose()
    }

    /// `from`-style bound: inclusive start.
    pub fn start(&self, name: &str) -> Result<Option<SystemTime>, GatewayError> {
        Ok(self.time(name)?.map(|p| p.at))
    }

    /// `to`-style bound: exclusive end; a bare date includes that whole day.
    pub fn end(&self, name: &str) -> Result<Option<SystemTime>, GatewayError> {
        Ok(self.time(name)?.map(time::Parsed::as_end))
    }

    fn time(&self, name: &str) -> Result<Option<time::Parsed>, GatewayError> {
        self.text(name)
            .map(|v| {
                time::parse(v).ok_or_else(|| {
                    GatewayError::invalid_param(
                        name,
                        format!(
                            "'{name}' must be an RFC 3339 time (2024-05-01T12:00:00Z), a date (2024-05-01) or unix seconds."
                        ),
                    )
                })
            })
            .transpose()
    }

    /// A comma-separated list.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.text(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `%XX` and `+` decoding; the result must be UTF-8.
fn decode(s: &str) -> Result<String, GatewayError> {
    let bad = || {
        GatewayError::invalid(format!(
            "The query string is not properly encoded near '{s}'."
        ))
    };
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes
                    .next()
                    .and_then(|c| (c as char).to_digit(16))
                    .ok_or_else(bad)?;
                let lo = bytes
                    .next()
                    .and_then(|c| (c as char).to_digit(16))
                    .ok_or_else(bad)?;
                out.push(u8::try_from(hi * 16 + lo).map_err(|_| bad())?);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_checks_names() {
        let q = Query::parse(
            Some("tenant=a%20b&model=gpt+4&from="),
            &["tenant", "model", "from"],
        )
        .unwrap();
        assert_eq!(q.text("tenant"), Some("a b"));
        assert_eq!(q.text("model"), Some("gpt 4"));
        assert_eq!(q.text("from"), None);
        let err = Query::parse(Some("tenat=a"), &["tenant"]).unwrap_err();
        assert!(err.to_string().contains("tenat"), "{err}");
        assert!(Query::parse(Some("tenant=%zz"), &["tenant"]).is_err());
        assert!(Query::parse(None, &[]).is_ok());
    }

    #[test]
    fn typed_values() {
        let q = Query::parse(
            Some("limit=5&to=2024-05-01&group_by=day,%20model"),
            &["limit", "to", "group_by"],
        )
        .unwrap();
        assert_eq!(q.number("limit").unwrap(), Some(5));
        assert_eq!(
            q.end("to").unwrap(),
            Some(gateway_core::store::from_unix_millis(1_714_608_000_000))
        );
        assert_eq!(q.list("group_by"), vec!["day", "model"]);
        let q = Query::parse(Some("limit=x&from=nope"), &["limit", "from"]).unwrap();
        assert!(q.number("limit").is_err());
        assert!(q.start("from").is_err());
    }
}
