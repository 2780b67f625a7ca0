//! OpenAI `chat.completion.chunk` event streams -> [`StreamEvent`]s.

use crate::client::UpstreamBody;
use futures_util::StreamExt;

use gateway_core::{ChatChunk, ChatStream, ProviderError, StreamEvent};

use crate::sse::{SseEvent, StreamLimits, drain_in_background, sse_events};

pub(crate) fn decode(body: UpstreamBody, limits: StreamLimits) -> ChatStream {
    let events = Box::pin(sse_events(body, limits));
    Box::pin(futures_util::stream::unfold(
        (events, false),
        |(mut events, ended)| async move {
            if ended {
                return None;
            }
            match events.next().await {
                None => {
                    let cut = ProviderError::InvalidResponse(
                        "upstream stream ended before [DONE]".to_owned(),
                    );
                    Some((Err(cut), (events, true)))
                }
                Some(Err(e)) => Some((Err(e), (events, true))),
                Some(Ok(ev)) => match decode_event(&ev) {
                    Ok(None) => {
                        // `[DONE]`: the body's end follows; reading it keeps the connection.
                        drain_in_background(events);
                        None
                    }
                    Ok(Some(event)) => Some((Ok(event), (events, false))),
                    Err(e) => Some((Err(e), (events, true))),
                },
            }
        },
    ))
}

/// One SSE event -> `Ok(None)` for `[DONE]`.
pub(crate) fn decode_event(ev: &SseEvent) -> Result<Option<StreamEvent>, ProviderError> {
    let data = ev.data.trim();
    if data == "[DONE]" {
        return Ok(None);
    }
    if data.starts_with("{\"error\"") {
        let e: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
        let message = e["error"]["message"]
            .as_str()
            .unwrap_or("upstream stream error");
        return Err(ProviderError::Status {
            status: 502,
            message: crate::sanitize::sanitize_upstream_message(message),
            retry_after: None,
        });
    }
    serde_json::from_str::<ChatChunk>(data)
        .map(|c| Some(StreamEvent::Chunk(c)))
        .map_err(|e| ProviderError::InvalidResponse(format!("bad stream chunk: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_and_chunks_and_errors() {
        let done = SseEvent {
            event: None,
            data: "[DONE]".into(),
        };
        assert!(matches!(decode_event(&done), Ok(None)));
        let chunk = SseEvent {
            event: None,
            data: r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#.into(),
        };
        match decode_event(&chunk) {
            Ok(Some(StreamEvent::Chunk(c))) => {
                assert_eq!(c.choices[0].delta.content.as_deref(), Some("Hi"))
            }
            other => panic!("{other:?}"),
        }
        let err = SseEvent {
            event: None,
            data: r#"{"error":{"message":"overloaded"}}"#.into(),
        };
        assert!(decode_event(&err).is_err());
    }

    #[test]
    fn a_choice_level_stop_reason_survives_decoding_and_encoding() {
        // vLLM's last chunk: the matched stop string beside the finish reason.
        let data = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop","stop_reason":"</answer>"}]}"#;
        let ev = SseEvent {
            event: None,
            data: data.into(),
        };
        let Ok(Some(StreamEvent::Chunk(c))) = decode_event(&ev) else {
            panic!("not a chunk");
        };
        assert_eq!(c.choices[0].extra["stop_reason"], "</answer>");
        assert_eq!(c.choices[0].finish_reason.as_deref(), Some("stop"));
        let again: serde_json::Value = serde_json::to_value(&c).unwrap();
        assert_eq!(again["choices"][0]["stop_reason"], "</answer>");
        assert!(again["choices"][0].get("logprobs").is_none());
    }
}
