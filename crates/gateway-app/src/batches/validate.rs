//! Validating a batch's input: the file is read line by line from storage (never whole in
//! memory; a line over the limit is skipped without being held), each line is checked, and
//! valid lines go to the store in chunks. Any problem fails the batch with OpenAI's `errors`
//! object naming the lines; then nothing is sent upstream.

use std::collections::HashSet;

use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use gateway_core::store::NewItem;

/// The most problems reported (OpenAI reports a sample too).
pub const MAX_ERRORS: usize = 100;

/// Longest `custom_id`.
const MAX_CUSTOM_ID: usize = 512;

/// One problem, as an entry of OpenAI's `errors.data`.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub code: &'static str,
    pub message: String,
    pub param: Option<&'static str>,
    pub line: Option<u64>,
}

impl LineError {
    fn at(line: u64, code: &'static str, param: Option<&'static str>, message: &str) -> Self {
        LineError {
            code,
            message: message.to_owned(),
            param,
            line: Some(line),
        }
    }

    /// A problem of the whole file.
    pub fn file(code: &'static str, message: impl Into<String>) -> Self {
        LineError {
            code,
            message: message.into(),
            param: None,
            line: None,
        }
    }
}

/// OpenAI's `errors` object.
pub fn errors_object(errors: &[LineError]) -> Value {
    let data: Vec<Value> = errors
        .iter()
        .map(|e| json!({"code": e.code, "message": e.message, "param": e.param, "line": e.line}))
        .collect();
    json!({"object": "list", "data": data})
}

/// Checks the lines of an input one at a time, remembering only the `custom_id`s seen.
pub struct Checker<'a> {
    endpoint: &'a str,
    seen: HashSet<Box<str>>,
    pub errors: Vec<LineError>,
}

impl<'a> Checker<'a> {
    pub fn new(endpoint: &'a str) -> Self {
        Checker {
            endpoint,
            seen: HashSet::new(),
            errors: Vec::new(),
        }
    }

    /// The item of line `line`, or `None` with the problem recorded.
    pub fn check(&mut self, line: u64, text: &[u8]) -> Option<NewItem> {
        match self.parse(line, text) {
            Ok(item) => Some(item),
            Err(e) => {
                if self.errors.len() < MAX_ERRORS {
                    self.errors.push(e);
                }
                None
            }
        }
    }

    fn parse(&mut self, line: u64, text: &[u8]) -> Result<NewItem, LineError> {
        let value: Value = serde_json::from_slice(text).map_err(|_| {
            LineError::at(
                line,
                "invalid_json_line",
                None,
                "This line is not parseable as valid JSON.",
            )
        })?;
        let Value::Object(mut obj) = value else {
            return Err(LineError::at(
                line,
                "invalid_json_line",
                None,
                "This line is not a JSON object.",
            ));
        };
        let custom_id = match obj.get("custom_id") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_CUSTOM_ID => s.clone(),
            Some(Value::String(_)) => {
                return Err(LineError::at(
                    line,
                    "invalid_custom_id",
                    Some("custom_id"),
                    "custom_id must be a non-empty string of at most 512 bytes.",
                ));
            }
            _ => {
                return Err(LineError::at(
                    line,
                    "missing_required_parameter",
                    Some("custom_id"),
                    "The request is missing the required parameter 'custom_id'.",
                ));
            }
        };
        match obj.get("method").and_then(Value::as_str) {
            Some("POST") => {}
            Some(_) => {
                return Err(LineError::at(
                    line,
                    "invalid_method",
                    Some("method"),
                    "The method of every request in a batch must be POST.",
                ));
            }
            None => {
                return Err(LineError::at(
                    line,
                    "missing_required_parameter",
                    Some("method"),
                    "The request is missing the required parameter 'method'.",
                ));
            }
        }
        match obj.get("url").and_then(Value::as_str) {
            Some(url) if url == self.endpoint => {}
            Some(_) => {
                return Err(LineError::at(
                    line,
                    "invalid_url",
                    Some("url"),
                    &format!(
                        "The url of every request must be the batch's endpoint, {}.",
                        self.endpoint
                    ),
                ));
            }
            None => {
                return Err(LineError::at(
                    line,
                    "missing_required_parameter",
                    Some("url"),
                    "The request is missing the required parameter 'url'.",
                ));
            }
        }
        let body = match obj.remove("body") {
            Some(Value::Object(body)) => body,
            _ => {
                return Err(LineError::at(
                    line,
                    "missing_required_parameter",
                    Some("body"),
                    "The request is missing the required parameter 'body' (a JSON object).",
                ));
            }
        };
        if body.get("stream").and_then(Value::as_bool) == Some(true) {
            return Err(LineError::at(
                line,
                "invalid_request",
                Some("body.stream"),
                "Requests in a batch cannot be streamed; leave 'stream' out.",
            ));
        }
        if !self.seen.insert(custom_id.clone().into_boxed_str()) {
            return Err(LineError::at(
                line,
                "duplicate_custom_id",
                Some("custom_id"),
                "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.",
            ));
        }
        Ok(NewItem {
            line,
            custom_id,
            body: Value::Object(body).to_string(),
        })
    }
}

/// One line read with a cap: its bytes (without the line end), or how long it was when over
/// the cap (its bytes were skipped, not kept).
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Text(Vec<u8>),
    TooLong(u64),
}

/// Reads the next line of `reader` into at most `max` bytes; `None` at the end.
pub async fn next_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> std::io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let mut len: u64 = 0;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        len += part.len() as u64;
        if len <= max as u64 {
            buf.extend_from_slice(part);
        } else if !buf.is_empty() {
            buf = Vec::new();
        }
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(if len > max as u64 {
        Line::TooLong(len)
    } else {
        Line::Text(buf)
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn line(custom_id: &str, url: &str) -> String {
        json!({"custom_id": custom_id, "method": "POST", "url": url,
               "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}})
        .to_string()
    }

    #[test]
    fn each_kind_of_bad_line_is_named_with_its_line_number() {
        let mut c = Checker::new("/v1/chat/completions");
        assert!(
            c.check(1, line("a", "/v1/chat/completions").as_bytes())
                .is_some()
        );
        let bad = [
            (2, "{not json".to_owned(), "invalid_json_line"),
            (3, "[1,2]".to_owned(), "invalid_json_line"),
            (4, line("a", "/v1/chat/completions"), "duplicate_custom_id"),
            (5, line("b", "/v1/embeddings"), "invalid_url"),
            (
                6,
                json!({"custom_id": "c", "method": "GET", "url": "/v1/chat/completions", "body": {}}).to_string(),
                "invalid_method",
            ),
            (
                7,
                json!({"method": "POST", "url": "/v1/chat/completions", "body": {}}).to_string(),
                "missing_required_parameter",
            ),
            (
                8,
                json!({"custom_id": "d", "method": "POST", "url": "/v1/chat/completions", "body": {"stream": true}}).to_string(),
                "invalid_request",
            ),
        ];
        for (n, text, _) in &bad {
            assert!(c.check(*n, text.as_bytes()).is_none(), "{text}");
        }
        let got: Vec<(Option<u64>, &str)> = c.errors.iter().map(|e| (e.line, e.code)).collect();
        let want: Vec<(Option<u64>, &str)> =
            bad.iter().map(|(n, _, code)| (Some(*n), *code)).collect();
        assert_eq!(got, want);
        let object = errors_object(&c.errors);
        assert_eq!(object["object"], "list");
        assert_eq!(object["data"][2]["param"], "custom_id");
        assert_eq!(object["data"][2]["line"], 4);
    }

    #[test]
    fn the_stored_body_is_the_lines_body() {
        let mut c = Checker::new("/v1/embeddings");
        let item = c
            .check(9, json!({"custom_id": "x", "method": "POST", "url": "/v1/embeddings", "body": {"model": "e", "input": "hi"}}).to_string().as_bytes())
            .unwrap();
        assert_eq!((item.line, item.custom_id.as_str()), (9, "x"));
        let body: Value = serde_json::from_str(&item.body).unwrap();
        assert_eq!(body, json!({"model": "e", "input": "hi"}));
    }

    #[tokio::test]
    async fn lines_are_read_with_a_cap_and_long_ones_are_skipped_not_kept() {
        let input = format!("short\r\n{}\nlast", "x".repeat(100));
        // A small buffer, so that lines span several reads.
        let mut reader = tokio::io::BufReader::with_capacity(8, input.as_bytes());
        assert_eq!(
            next_line(&mut reader, 10).await.unwrap(),
            Some(Line::Text(b"short".to_vec()))
        );
        assert_eq!(
            next_line(&mut reader, 10).await.unwrap(),
            Some(Line::TooLong(100))
        );
        assert_eq!(
            next_line(&mut reader, 10).await.unwrap(),
            Some(Line::Text(b"last".to_vec()))
        );
        assert_eq!(next_line(&mut reader, 10).await.unwrap(), None);
    }
}
