//! The response object (`"object": "response"`): the request's echoed settings around an
//! output, for a whole answer, each stage of a stream, and what is stored.

use serde_json::{Map, Value, json};

use gateway_core::GatewayError;

use super::output::Output;

/// The parts of a response object known before the answer: its id, creation time and what it
/// echoes of the request.
#[derive(Debug, Clone)]
pub struct Shell {
    pub id: String,
    /// Unix seconds.
    pub created_at: u64,
    /// The echoed request settings (`model`, `instructions`, `tools`, `text`, ...).
    pub echo: Map<String, Value>,
}

impl Shell {
    /// The object with `status` and `output` (items as JSON), and no usage yet.
    pub fn object(&self, status: &str, output: Vec<Value>) -> Value {
        let mut object = Map::with_capacity(self.echo.len() + 10);
        object.insert("id".into(), json!(self.id));
        object.insert("object".into(), json!("response"));
        object.insert("created_at".into(), json!(self.created_at));
        object.insert("status".into(), json!(status));
        object.insert("error".into(), Value::Null);
        object.insert("incomplete_details".into(), Value::Null);
        object.insert("output".into(), Value::Array(output));
        object.insert("usage".into(), Value::Null);
        for (key, value) in &self.echo {
            object.insert(key.clone(), value.clone());
        }
        Value::Object(object)
    }

    /// The finished response: `completed` or `incomplete`, its items, usage and completion time.
    pub fn finished(&self, output: &Output) -> Value {
        let mut object = self.object(output.status(), output.items_json());
        object["incomplete_details"] = output.incomplete_details();
        object["usage"] = output.usage_json();
        object["completed_at"] = json!(unix_now());
        object
    }

    /// A response that failed with `err` after `output` was produced.
    pub fn failed(&self, output: &Output, err: &GatewayError) -> Value {
        let mut object = self.object("failed", output.items_json());
        object["error"] = json!({
            "code": error_code(err),
            "message": err.to_string(),
        });
        object["usage"] = output.usage_json();
        object
    }
}

/// The error code of a failed response (the Responses API's codes where one fits).
pub fn error_code(err: &GatewayError) -> &'static str {
    match err.status() {
        429 => "rate_limit_exceeded",
        400 | 413 | 422 => "invalid_prompt",
        _ => err.code().unwrap_or("server_error"),
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
