//! The texts of a streamed choice that output guardrails scan, each as its own stream: the
//! answer (`content`), a `refusal`, and the model's reasoning (`reasoning_content` in the
//! delta's `extra`). Each channel gets its own guard chain, so a finding is looked for across
//! the chunks of one channel and a redaction lands back in the field it came from.

use serde_json::Value;

use crate::types::{Delta, REASONING_CONTENT};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Content,
    Refusal,
    Reasoning,
}

impl Channel {
    pub(crate) const ALL: [Channel; 3] = [Channel::Content, Channel::Refusal, Channel::Reasoning];

    /// Takes this channel's text out of `delta` (to be guarded and put back).
    pub(crate) fn take(self, delta: &mut Delta) -> Option<String> {
        match self {
            Channel::Content => delta.content.take(),
            Channel::Refusal => delta.refusal.take(),
            Channel::Reasoning => {
                if !matches!(delta.extra.get(REASONING_CONTENT), Some(Value::String(_))) {
                    return None;
                }
                match delta.extra.remove(REASONING_CONTENT) {
                    Some(Value::String(text)) => Some(text),
                    _ => None,
                }
            }
        }
    }

    /// Puts (guarded) text into this channel's field of `delta`.
    pub(crate) fn put(self, delta: &mut Delta, text: String) {
        match self {
            Channel::Content => delta.content = Some(text),
            Channel::Refusal => delta.refusal = Some(text),
            Channel::Reasoning => {
                delta
                    .extra
                    .insert(REASONING_CONTENT.to_owned(), Value::String(text));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_channel_takes_and_puts_back_its_own_field() {
        let mut delta: Delta = serde_json::from_value(json!({
            "content": "a", "refusal": "b", "reasoning_content": "c", "reasoning_signature": "s"
        }))
        .unwrap();
        let texts = Channel::ALL.map(|channel| channel.take(&mut delta));
        assert_eq!(
            texts,
            [Some("a".into()), Some("b".into()), Some("c".into())]
        );
        assert!(delta.content.is_none() && delta.refusal.is_none());
        assert!(!delta.extra.contains_key(REASONING_CONTENT));
        assert_eq!(delta.extra["reasoning_signature"], "s", "other extras stay");
        for (channel, text) in Channel::ALL.into_iter().zip(["A", "B", "C"]) {
            channel.put(&mut delta, text.to_owned());
        }
        let back = serde_json::to_value(&delta).unwrap();
        assert_eq!(back["content"], "A");
        assert_eq!(back["refusal"], "B");
        assert_eq!(back["reasoning_content"], "C");
    }

    #[test]
    fn a_reasoning_field_that_is_not_text_is_left_alone() {
        let mut delta: Delta =
            serde_json::from_value(json!({"reasoning_content": {"odd": 1}})).unwrap();
        assert_eq!(Channel::Reasoning.take(&mut delta), None);
        assert_eq!(delta.extra[REASONING_CONTENT], json!({"odd": 1}));
    }
}
