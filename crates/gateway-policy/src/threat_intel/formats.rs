//! Reading a feed's bytes into entries: plain lists, one CSV column, or the indicators of a
//! STIX 2.1 bundle. Every parser returns an error on malformed input, never panics, and
//! bounds what it keeps ([`MAX_ENTRIES`]).

use std::time::SystemTime;

use serde::Deserialize;

/// Most entries one feed may hold (a bigger feed is refused, the previous copy kept).
pub const MAX_ENTRIES: usize = 2_000_000;

/// What a feed lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// Client addresses and CIDR blocks whose requests are refused (403).
    IpBlocklist,
    /// Phrases of known malicious prompts (matched case-insensitively in request text).
    PromptSignatures,
    /// SHA-256 (hex) of leaked secrets: a caller presenting one is refused (403).
    LeakedKeys,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::IpBlocklist => "ip_blocklist",
            FeedKind::PromptSignatures => "prompt_signatures",
            FeedKind::LeakedKeys => "leaked_keys",
        }
    }
}

/// How a feed is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedFormat {
    /// One entry per line; blank lines and lines starting with `#` are skipped, and (for IP
    /// lists and leaked keys) so is anything after ` #` or `;` on a line (Spamhaus DROP style).
    Plain,
    /// One column of a CSV file whose first row is a header: by header name, or by 0-based
    /// index when the name is a number.
    Csv { column: String },
    /// A STIX 2.1 bundle: `indicator` objects with `pattern_type` `stix`; revoked ones and
    /// those past `valid_until` are skipped.
    Stix2,
}

/// Why a feed was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("the feed is not UTF-8 text")]
    NotUtf8,
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("CSV: {0}")]
    Csv(String),
    #[error("STIX bundle: {0}")]
    Stix(String),
    #[error("more than {MAX_ENTRIES} entries")]
    TooMany,
}

/// The entries of a feed, as text (each kind's set checks and compiles them).
pub fn parse_entries(
    kind: FeedKind,
    format: &FeedFormat,
    bytes: &[u8],
    now: SystemTime,
) -> Result<Vec<String>, FormatError> {
    let text = std::str::from_utf8(bytes).map_err(|_| FormatError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let entries = match format {
        FeedFormat::Plain => plain(kind, text)?,
        FeedFormat::Csv { column } => csv_column(text, column)?,
        FeedFormat::Stix2 => stix2(kind, text, now)?,
    };
    if entries.len() > MAX_ENTRIES {
        return Err(FormatError::TooMany);
    }
    Ok(entries)
}

fn plain(kind: FeedKind, text: &str) -> Result<Vec<String>, FormatError> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if kind != FeedKind::PromptSignatures {
            for mark in [" #", ";", "\t#"] {
                if let Some(at) = line.find(mark) {
                    line = line[..at].trim();
                }
            }
        }
        if !line.is_empty() {
            if out.len() >= MAX_ENTRIES {
                return Err(FormatError::TooMany);
            }
            out.push(line.to_owned());
        }
    }
    Ok(out)
}

fn csv_column(text: &str, column: &str) -> Result<Vec<String>, FormatError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| FormatError::Csv(e.to_string()))?;
    let index = match column.parse::<usize>() {
        Ok(i) => i,
        Err(_) => headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(column))
            .ok_or_else(|| FormatError::Csv(format!("no column named '{column}'")))?,
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| FormatError::Csv(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let value = record.get(index).ok_or_else(|| FormatError::Line {
            line,
            message: format!("no column {index}"),
        })?;
        if value.is_empty() || value.starts_with('#') {
            continue;
        }
        if out.len() >= MAX_ENTRIES {
            return Err(FormatError::TooMany);
        }
        out.push(value.to_owned());
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Bundle {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    objects: Vec<StixObject>,
}

#[derive(Deserialize)]
struct StixObject {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    pattern_type: Option<String>,
    #[serde(default)]
    valid_until: Option<String>,
    #[serde(default)]
    revoked: bool,
}

/// The STIX object paths each kind reads, and the comparison it accepts.
fn stix_paths(kind: FeedKind) -> &'static [&'static str] {
    match kind {
        FeedKind::IpBlocklist => &["ipv4-addr:value", "ipv6-addr:value"],
        // STIX 2.1 has no object for prompts nor for leaked secrets: the gateway reads
        // custom observables (`x-` prefixed, as the standard provides for).
        FeedKind::PromptSignatures => &["x-llm-prompt:value"],
        FeedKind::LeakedKeys => &["x-leaked-key:hashes.'SHA-256'", "x-leaked-key:sha256"],
    }
}

fn stix2(kind: FeedKind, text: &str, now: SystemTime) -> Result<Vec<String>, FormatError> {
    let bundle: Bundle =
        serde_json::from_str(text).map_err(|e| FormatError::Stix(format!("not JSON: {e}")))?;
    if bundle.kind != "bundle" {
        return Err(FormatError::Stix(format!(
            "type is '{}', not 'bundle'",
            bundle.kind
        )));
    }
    let mut out = Vec::new();
    for (i, object) in bundle.objects.iter().enumerate() {
        if object.kind != "indicator" || object.revoked {
            continue;
        }
        if object.pattern_type.as_deref().unwrap_or("stix") != "stix" {
            continue;
        }
        if let Some(until) = &object.valid_until {
            let until =
                time::OffsetDateTime::parse(until, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| FormatError::Stix(format!("object {i}: valid_until: {e}")))?;
            if SystemTime::from(until) <= now {
                continue;
            }
        }
        let pattern = object
            .pattern
            .as_deref()
            .ok_or_else(|| FormatError::Stix(format!("object {i}: an indicator has no pattern")))?;
        let values = stix_pattern(pattern, stix_paths(kind))
            .map_err(|e| FormatError::Stix(format!("object {i}: {e}")))?;
        if out.len() + values.len() > MAX_ENTRIES {
            return Err(FormatError::TooMany);
        }
        out.extend(values);
    }
    Ok(out)
}

/// The values of a pattern of the subset the gateway reads: one observation, or several
/// joined by `OR`, each `[path = 'value']` (comparisons inside one observation may be joined
/// by `OR` too). Anything else — `AND`, other operators, qualifiers, paths of another kind —
/// is an error naming what is unsupported.
pub fn stix_pattern(pattern: &str, paths: &[&str]) -> Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut rest = pattern.trim();
    let mut expect_comparison = true;
    let mut depth = 0usize;
    while !rest.is_empty() {
        if expect_comparison {
            if let Some(r) = rest.strip_prefix('[') {
                depth += 1;
                rest = r.trim_start();
                continue;
            }
            let (path, after) = rest.split_once('=').ok_or_else(|| {
                format!("unsupported pattern (expected `path = 'value'`): {pattern}")
            })?;
            let path = path.trim();
            if path.ends_with('!') || path.ends_with('<') || path.ends_with('>') {
                return Err(format!("unsupported comparison in: {pattern}"));
            }
            if !paths.contains(&path) {
                return Err(format!(
                    "unsupported object path '{path}' (this feed reads {})",
                    paths.join(", ")
                ));
            }
            let after = after.trim_start();
            let quoted = after
                .strip_prefix('\'')
                .ok_or_else(|| format!("a value must be a quoted string in: {pattern}"))?;
            let (value, tail) = quoted_string(quoted)
                .ok_or_else(|| format!("an unterminated string in: {pattern}"))?;
            values.push(value);
            rest = tail.trim_start();
            expect_comparison = false;
        } else if let Some(r) = rest.strip_prefix(']') {
            depth = depth
                .checked_sub(1)
                .ok_or_else(|| format!("unbalanced brackets in: {pattern}"))?;
            rest = r.trim_start();
        } else if let Some(r) = rest.strip_prefix("OR") {
            rest = r.trim_start();
            expect_comparison = true;
        } else {
            let word = rest.split_whitespace().next().unwrap_or(rest);
            return Err(format!(
                "unsupported pattern operator '{word}' in: {pattern}"
            ));
        }
    }
    if depth != 0 || expect_comparison || values.is_empty() {
        return Err(format!("an incomplete pattern: {pattern}"));
    }
    Ok(values)
}

/// A STIX string after its opening quote: the value (with `\'` and `\\` unescaped) and
/// what follows the closing quote.
fn quoted_string(s: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '\'' => return Some((value, &s[i + 1..])),
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) // 2027-01-15
    }

    fn parse(kind: FeedKind, format: &FeedFormat, text: &str) -> Result<Vec<String>, FormatError> {
        parse_entries(kind, format, text.as_bytes(), now())
    }

    #[test]
    fn plain_lists_skip_comments() {
        let text =
            "# Spamhaus-style\n\n198.51.100.0/24 ; SBL1\n203.0.113.7 # bad\n  2001:db8::/32\n";
        assert_eq!(
            parse(FeedKind::IpBlocklist, &FeedFormat::Plain, text).unwrap(),
            vec!["198.51.100.0/24", "203.0.113.7", "2001:db8::/32"]
        );
        let text = "# phrases\nignore previous instructions; now\nyou are DAN #1\n";
        assert_eq!(
            parse(FeedKind::PromptSignatures, &FeedFormat::Plain, text).unwrap(),
            vec!["ignore previous instructions; now", "you are DAN #1"]
        );
        assert_eq!(
            parse_entries(
                FeedKind::IpBlocklist,
                &FeedFormat::Plain,
                b"\xff\xfe",
                now()
            ),
            Err(FormatError::NotUtf8)
        );
    }

    #[test]
    fn csv_columns_by_name_or_index() {
        let text = "first_seen,ip,source\n2026-01-01,198.51.100.1,\"a, b\"\n2026-01-02, 203.0.113.0/24 ,c\n";
        let by_name = FeedFormat::Csv {
            column: "IP".into(),
        };
        assert_eq!(
            parse(FeedKind::IpBlocklist, &by_name, text).unwrap(),
            vec!["198.51.100.1", "203.0.113.0/24"]
        );
        let by_index = FeedFormat::Csv { column: "2".into() };
        assert_eq!(
            parse(FeedKind::IpBlocklist, &by_index, text).unwrap(),
            vec!["a, b", "c"]
        );
        let missing = FeedFormat::Csv {
            column: "nope".into(),
        };
        assert!(parse(FeedKind::IpBlocklist, &missing, text).is_err());
        let short = FeedFormat::Csv { column: "5".into() };
        assert!(parse(FeedKind::IpBlocklist, &short, text).is_err());
        // A header only: no entries (a valid, empty feed).
        assert_eq!(
            parse(FeedKind::IpBlocklist, &by_name, "ip\n").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn stix_bundles_honour_revocation_and_expiry() {
        let text = r#"{"type":"bundle","id":"bundle--1","objects":[
            {"type":"identity","id":"identity--1","name":"x"},
            {"type":"indicator","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.0/24']"},
            {"type":"indicator","pattern_type":"stix","pattern":"[ipv6-addr:value = '2001:db8::/32'] OR [ipv4-addr:value = '203.0.113.9']"},
            {"type":"indicator","pattern_type":"stix","pattern":"[ipv4-addr:value = '192.0.2.1']","revoked":true},
            {"type":"indicator","pattern_type":"stix","pattern":"[ipv4-addr:value = '192.0.2.2']","valid_until":"2020-01-01T00:00:00Z"},
            {"type":"indicator","pattern_type":"stix","pattern":"[ipv4-addr:value = '192.0.2.3']","valid_until":"2030-01-01T00:00:00.000Z"},
            {"type":"indicator","pattern_type":"sigma","pattern":"title: x"}
        ]}"#;
        assert_eq!(
            parse(FeedKind::IpBlocklist, &FeedFormat::Stix2, text).unwrap(),
            vec![
                "198.51.100.0/24",
                "2001:db8::/32",
                "203.0.113.9",
                "192.0.2.3"
            ]
        );
        let prompts = r#"{"type":"bundle","objects":[{"type":"indicator","pattern":"[x-llm-prompt:value = 'it\\'s DAN']"}]}"#;
        assert_eq!(
            parse(FeedKind::PromptSignatures, &FeedFormat::Stix2, prompts).unwrap(),
            vec!["it's DAN"]
        );
    }

    #[test]
    fn malformed_stix_is_an_error() {
        for bad in [
            "",
            "[]",
            "{\"type\":\"report\"}",
            r#"{"type":"bundle","objects":[{"type":"indicator"}]}"#,
            r#"{"type":"bundle","objects":[{"type":"indicator","pattern":"[file:hashes.MD5 = 'x']"}]}"#,
            r#"{"type":"bundle","objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '1.2.3.5']"}]}"#,
            r#"{"type":"bundle","objects":[{"type":"indicator","pattern":"[ipv4-addr:value != '1.2.3.4']"}]}"#,
            r#"{"type":"bundle","objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '1.2.3.4'"}]}"#,
            r#"{"type":"bundle","objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '1.2.3.4] "}]}"#,
            r#"{"type":"bundle","objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS"}]}"#,
            r#"{"type":"bundle","objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '1.2.3.4']","valid_until":"soon"}]}"#,
            r#"{"type":"bundle","objects":[{"type":"indicator","pattern":"]]"}]}"#,
        ] {
            assert!(
                parse(FeedKind::IpBlocklist, &FeedFormat::Stix2, bad).is_err(),
                "accepted: {bad}"
            );
        }
    }
}
