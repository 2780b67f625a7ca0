//! Semantic validation of requests, after they parsed: ranges and required fields, with the
//! parameter named so the caller knows what to fix.

use super::{ChatRequest, EmbeddingsRequest, Role};
use crate::error::GatewayError;

fn invalid(param: &str, message: impl Into<String>) -> GatewayError {
    GatewayError::invalid_param(param, message)
}

fn check_range(param: &str, value: Option<f64>, min: f64, max: f64) -> Result<(), GatewayError> {
    match value {
        Some(v) if !(min..=max).contains(&v) || v.is_nan() => Err(invalid(
            param,
            format!("'{param}' must be between {min} and {max}, got {v}"),
        )),
        _ => Ok(()),
    }
}

impl ChatRequest {
    /// Check the request is well-formed beyond its JSON shape.
    pub fn validate(&self) -> Result<(), GatewayError> {
        if self.model.trim().is_empty() {
            return Err(invalid("model", "'model' must be a non-empty string"));
        }
        if self.messages.is_empty() {
            return Err(invalid(
                "messages",
                "'messages' must contain at least one message",
            ));
        }
        check_range("temperature", self.temperature, 0.0, 2.0)?;
        check_range("top_p", self.top_p, 0.0, 1.0)?;
        check_range("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        check_range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        if let Some(n) = self.n
            && !(1..=128).contains(&n)
        {
            return Err(invalid(
                "n",
                format!("'n' must be between 1 and 128, got {n}"),
            ));
        }
        for (param, value) in [
            ("max_tokens", self.max_tokens),
            ("max_completion_tokens", self.max_completion_tokens),
        ] {
            if value == Some(0) {
                return Err(invalid(param, format!("'{param}' must be at least 1")));
            }
        }
        if let Some(stop) = &self.stop
            && stop.as_slice().len() > 4
        {
            return Err(invalid("stop", "'stop' accepts at most 4 sequences"));
        }
        if let Some(k) = self.top_logprobs
            && k > 20
        {
            return Err(invalid(
                "top_logprobs",
                format!("'top_logprobs' must be between 0 and 20, got {k}"),
            ));
        }
        if self.stream_options.is_some() && !self.stream {
            return Err(invalid(
                "stream_options",
                "'stream_options' is only allowed when 'stream' is true",
            ));
        }
        for (i, message) in self.messages.iter().enumerate() {
            if message.role == Role::Tool && message.tool_call_id.is_none() {
                return Err(invalid(
                    &format!("messages[{i}].tool_call_id"),
                    format!("messages[{i}] has role 'tool' but no 'tool_call_id'"),
                ));
            }
            let empty = message.content.is_none() && message.tool_calls.is_none();
            if empty && message.role != Role::Assistant {
                return Err(invalid(
                    &format!("messages[{i}].content"),
                    format!(
                        "messages[{i}] (role '{}') must have 'content'",
                        message.role.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The token budget the caller allows for the answer, if any.
    pub fn max_output_tokens(&self) -> Option<u32> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    /// Whether the caller asked for usage in the final stream chunk.
    pub fn wants_stream_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}

impl EmbeddingsRequest {
    pub fn validate(&self) -> Result<(), GatewayError> {
        if self.model.trim().is_empty() {
            return Err(invalid("model", "'model' must be a non-empty string"));
        }
        let ok = match &self.input {
            serde_json::Value::String(s) => !s.is_empty(),
            serde_json::Value::Array(items) => !items.is_empty(),
            _ => false,
        };
        if !ok {
            return Err(invalid(
                "input",
                "'input' must be a non-empty string or array",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Message;

    fn request() -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![Message::text(Role::User, "hi")],
            ..Default::default()
        }
    }

    #[test]
    fn valid_request_passes() {
        assert!(request().validate().is_ok());
    }

    #[test]
    fn each_rule_names_its_param() {
        type Mutation = Box<dyn Fn(&mut ChatRequest)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("model", Box::new(|r| r.model = " ".into())),
            ("messages", Box::new(|r| r.messages.clear())),
            ("temperature", Box::new(|r| r.temperature = Some(2.5))),
            ("top_p", Box::new(|r| r.top_p = Some(-0.1))),
            ("n", Box::new(|r| r.n = Some(0))),
            ("max_tokens", Box::new(|r| r.max_tokens = Some(0))),
            (
                "stop",
                Box::new(|r| r.stop = Some(super::super::Stop::Many(vec!["a".into(); 5]))),
            ),
            (
                "stream_options",
                Box::new(|r| r.stream_options = Some(Default::default())),
            ),
            (
                "messages[0].tool_call_id",
                Box::new(|r| r.messages[0].role = Role::Tool),
            ),
        ];
        for (param, mutate) in cases {
            let mut r = request();
            mutate(&mut r);
            match r.validate() {
                Err(GatewayError::InvalidRequest { param: Some(p), .. }) => assert_eq!(p, param),
                other => panic!("{param}: expected invalid request, got {other:?}"),
            }
        }
    }
}
