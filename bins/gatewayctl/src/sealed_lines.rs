//! The log side of `gatewayctl encryption open`: finds the sealed content-log fields
//! (`gwe1:` + base64) in log lines, JSON (`tracing`'s JSON format: the tenant in
//! `fields.tenant`) or text (`tenant=acme`), has them opened by the admin API in batches, and
//! writes each line back unchanged but for those fields, which become their plaintext
//! (JSON-escaped, so a line stays one line), `[destroyed]` or `[invalid]`.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};

use serde_json::Value;

use crate::client::{Client, CtlError};

/// Values the admin API opens per call at most.
pub const MAX_PER_CALL: usize = 100;
/// A longer log line is refused (bounded memory).
const MAX_LINE: u64 = 4 << 20;
/// Lines and bytes held before their values are opened and they are written.
const BATCH_LINES: usize = 1000;
const BATCH_BYTES: usize = 16 << 20;

const PREFIX: &str = "gwe1:";

/// What `open` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub values: u64,
    pub opened: u64,
    pub destroyed: u64,
    pub invalid: u64,
}

/// The sealed values in `line`, in order.
pub fn sealed_values(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(PREFIX) {
        let tail = &rest[at..];
        let len = PREFIX.len()
            + tail[PREFIX.len()..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
                .unwrap_or(tail.len() - PREFIX.len());
        if len > PREFIX.len() {
            out.push(&tail[..len]);
        }
        rest = &tail[len..];
    }
    out
}

/// The tenant a log line names: `fields.tenant` (or `tenant`) of a JSON line, else a
/// `tenant=...` token.
pub fn line_tenant(line: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<Value>(line) {
        return [&v["fields"]["tenant"], &v["tenant"]]
            .into_iter()
            .find_map(|t| t.as_str().map(str::to_owned));
    }
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("tenant="))
        .map(|t| t.trim_matches('"').to_owned())
        .filter(|t| !t.is_empty())
}

/// `line` with each sealed value replaced by what `opened` says of it.
pub fn rewrite<'a>(line: &str, opened: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    for value in sealed_values(line) {
        let Some(at) = rest.find(value) else { continue };
        out.push_str(&rest[..at]);
        match opened(value) {
            Some(text) => {
                let quoted = serde_json::to_string(text).unwrap_or_default();
                out.push_str(&quoted[1..quoted.len().saturating_sub(1).max(1)]);
            }
            None => out.push_str(value),
        }
        rest = &rest[at + value.len()..];
    }
    out.push_str(rest);
    out
}

/// One bounded line (without its end), or `None` at the end of the input.
fn read_line(input: &mut impl BufRead) -> Result<Option<String>, CtlError> {
    let mut buf = Vec::new();
    let n = input
        .take(MAX_LINE + 1)
        .read_until(b'\n', &mut buf)
        .map_err(|e| CtlError::Other(format!("cannot read stdin: {e}")))?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if n as u64 > MAX_LINE {
        return Err(CtlError::Usage(format!(
            "a log line is longer than {MAX_LINE} bytes"
        )));
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Reads `input` to its end, writing every line to `output` with its sealed values opened.
pub async fn open_lines(
    client: &Client,
    tenant: Option<&str>,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> Result<Summary, CtlError> {
    let mut summary = Summary::default();
    let mut batch: Vec<String> = Vec::new();
    let mut bytes = 0;
    loop {
        let line = read_line(input)?;
        let end = line.is_none();
        if let Some(line) = line {
            bytes += line.len();
            batch.push(line);
        }
        if end || batch.len() >= BATCH_LINES || bytes >= BATCH_BYTES {
            flush(client, tenant, &batch, output, &mut summary).await?;
            summary.lines += batch.len() as u64;
            batch.clear();
            bytes = 0;
        }
        if end {
            return Ok(summary);
        }
    }
}

async fn flush(
    client: &Client,
    tenant: Option<&str>,
    lines: &[String],
    output: &mut impl Write,
    summary: &mut Summary,
) -> Result<(), CtlError> {
    // Per tenant, the distinct values to open.
    let mut wanted: HashMap<String, Vec<String>> = HashMap::new();
    let mut tenants = Vec::with_capacity(lines.len());
    for line in lines {
        let values = sealed_values(line);
        let who = match (values.is_empty(), tenant) {
            (true, _) => None,
            (false, Some(t)) => Some(t.to_owned()),
            (false, None) => line_tenant(line),
        };
        if let Some(who) = &who {
            let list = wanted.entry(who.clone()).or_default();
            for v in values {
                if !list.iter().any(|w| w == v) {
                    list.push(v.to_owned());
                }
            }
        } else if !values.is_empty() {
            eprintln!("gatewayctl: a line with sealed values names no tenant (use --tenant)");
        }
        tenants.push(who);
    }
    type Opened = HashMap<String, (String, &'static str)>;
    let mut opened: HashMap<String, Opened> = HashMap::new();
    for (who, values) in wanted {
        let answers = crate::encryption::open_values(client, &who, &values).await?;
        let map = opened.entry(who).or_default();
        map.extend(values.into_iter().zip(answers));
    }
    let empty = Opened::new();
    for (line, who) in lines.iter().zip(&tenants) {
        let map = who.as_ref().and_then(|w| opened.get(w)).unwrap_or(&empty);
        for v in sealed_values(line) {
            summary.values += 1;
            match map.get(v).map(|(_, status)| *status) {
                Some("opened") => summary.opened += 1,
                Some("destroyed") => summary.destroyed += 1,
                _ => summary.invalid += 1,
            }
        }
        let text = rewrite(line, |v| map.get(v).map(|(text, _)| text.as_str()));
        writeln!(output, "{text}")
            .map_err(|e| CtlError::Other(format!("cannot write stdout: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_and_tenants_in_json_and_text_lines() {
        let json = r#"{"target":"gateway::content","fields":{"tenant":"acme","kind":"prompt","sealed":true,"messages":"gwe1:R1dFMQ+/=="}}"#;
        assert_eq!(sealed_values(json), ["gwe1:R1dFMQ+/=="]);
        assert_eq!(line_tenant(json).as_deref(), Some("acme"));
        let text = "INFO gateway::content: content request_id=r1 tenant=beta kind=completion sealed=true text=gwe1:QUJD gwe1:REVG";
        assert_eq!(sealed_values(text), ["gwe1:QUJD", "gwe1:REVG"]);
        assert_eq!(line_tenant(text).as_deref(), Some("beta"));
        assert!(sealed_values("no sealed value, not even gwe1: alone").is_empty());
        assert_eq!(line_tenant("nothing here"), None);
    }

    #[test]
    fn rewrites_only_the_sealed_values_and_keeps_one_line() {
        let line =
            r#"{"fields":{"tenant":"acme","messages":"gwe1:QUJD","text":"gwe1:REVG"},"x":1}"#;
        let opened = HashMap::from([
            (
                "gwe1:QUJD",
                "[{\"role\":\"user\",\"content\":\"hi\nthere\"}]",
            ),
            ("gwe1:REVG", "[destroyed]"),
        ]);
        let out = rewrite(line, |v| opened.get(v).copied());
        assert!(!out.contains('\n'));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["fields"]["messages"],
            "[{\"role\":\"user\",\"content\":\"hi\nthere\"}]"
        );
        assert_eq!(v["fields"]["text"], "[destroyed]");
        assert_eq!(v["x"], 1);
        assert_eq!(
            rewrite("plain line", |v| opened.get(v).copied()),
            "plain line"
        );
    }

    #[test]
    fn an_overlong_line_is_refused() {
        let long = vec![b'a'; (MAX_LINE + 10) as usize];
        let mut input = std::io::Cursor::new(long);
        assert!(read_line(&mut input).is_err());
        let mut input = std::io::Cursor::new(b"one\r\ntwo".to_vec());
        assert_eq!(read_line(&mut input).unwrap().as_deref(), Some("one"));
        assert_eq!(read_line(&mut input).unwrap().as_deref(), Some("two"));
        assert_eq!(read_line(&mut input).unwrap(), None);
    }
}
