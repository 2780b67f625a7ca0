//! Streams held to their reservation: [`cap_output`] counts a streamed answer's output
//! (about four bytes a token, or the upstream's own count when a chunk carries usage) and,
//! each time it reaches what the call has reserved, reserves one more block on the call's
//! token and spend limits before reading on. When a hard limit would be crossed the stream
//! ends with a usage chunk (what was produced, so it is charged) and an error event. An
//! upstream that ignores `max_tokens` can then overrun a limit by at most one chunk (plus the
//! counting error) per stream: see `docs/limits.md`.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::error::ProviderError;
use crate::phases::admission::{Extension, OutputAllowance};
use crate::provider::ChatStream;
use crate::types::{ChatChunk, StreamEvent, Usage};

/// `stream`, stopped once its output passes what `allowance` can reserve; unchanged when
/// there is no allowance (no hard token or spend limit applies).
pub fn cap_output(stream: ChatStream, allowance: Option<Box<dyn OutputAllowance>>) -> ChatStream {
    match allowance {
        Some(allowance) => Box::pin(CappedStream {
            inner: stream,
            allowance,
            output_bytes: 0,
            reported: 0,
            extending: None,
            ending: VecDeque::new(),
            template: None,
            done: false,
        }),
        None => stream,
    }
}

struct CappedStream {
    inner: ChatStream,
    allowance: Box<dyn OutputAllowance>,
    /// Bytes of content, refusals and tool-call arguments streamed so far.
    output_bytes: u64,
    /// Completion tokens the upstream reported, if any chunk carried usage.
    reported: u64,
    /// A reservation of more output in flight: the upstream is not read meanwhile.
    extending: Option<Extension>,
    /// The usage chunk and the error that end a stopped stream.
    ending: VecDeque<Result<StreamEvent, ProviderError>>,
    /// Id, model and time of the stream, for the usage chunk of a stopped stream.
    template: Option<ChatChunk>,
    done: bool,
}

impl CappedStream {
    fn output_tokens(&self) -> u64 {
        self.output_bytes.div_ceil(4).max(self.reported)
    }

    fn count(&mut self, chunk: &ChatChunk) {
        if self.template.is_none() {
            self.template = Some(ChatChunk {
                choices: Vec::new(),
                usage: None,
                ..chunk.clone()
            });
        }
        for choice in &chunk.choices {
            let delta = &choice.delta;
            let mut bytes = delta.content.as_ref().map_or(0, String::len);
            bytes += delta.refusal.as_ref().map_or(0, String::len);
            for call in delta.tool_calls.iter().flatten() {
                let function = call.function.as_ref();
                bytes += function
                    .and_then(|f| f.arguments.as_ref())
                    .map_or(0, String::len);
            }
            self.output_bytes += bytes as u64;
        }
        if let Some(usage) = &chunk.usage {
            self.reported = self.reported.max(usage.completion_tokens);
        }
    }

    /// A hard limit would be crossed: charge what was produced, then end with an error.
    fn stop(&mut self) {
        let produced = self.output_tokens();
        if let Some(template) = self.template.take() {
            let usage = Usage::new(self.allowance.prompt_tokens(), produced);
            let chunk = ChatChunk {
                usage: Some(usage),
                ..template
            };
            self.ending.push_back(Ok(StreamEvent::Chunk(chunk)));
        }
        self.ending
            .push_back(Err(ProviderError::Unsupported(format!(
                "The answer was stopped after about {produced} output tokens: it used the output \
             reserved for this call, and more would exceed a token or spend limit. Set \
             max_tokens to what the answer needs, or ask for a higher limit."
            ))));
    }
}

impl Stream for CappedStream {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(extending) = &mut this.extending {
            let granted = match extending.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(granted) => granted,
            };
            this.extending = None;
            if !granted {
                this.stop();
                this.done = true;
            }
        }
        if let Some(event) = this.ending.pop_front() {
            return Poll::Ready(Some(event));
        }
        if this.done {
            return Poll::Ready(None);
        }
        let event = match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(StreamEvent::Chunk(chunk)))) => chunk,
            other => return other,
        };
        this.count(&event);
        // The last chunk (usage) needs no more room; anything else past the reservation
        // waits for the next block before the upstream is read again.
        if event.usage.is_none() && this.output_tokens() >= this.allowance.granted() {
            this.extending = Some(this.allowance.extend());
        }
        Poll::Ready(Some(Ok(StreamEvent::Chunk(event))))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::types::{ChunkChoice, Delta, Extra};

    /// Grants `blocks` extensions of `block` tokens, then refuses.
    struct Blocks {
        granted: Arc<AtomicU64>,
        block: u64,
        blocks: u64,
    }

    impl OutputAllowance for Blocks {
        fn granted(&self) -> u64 {
            self.granted.load(Ordering::Relaxed)
        }
        fn prompt_tokens(&self) -> u64 {
            7
        }
        fn extend(&mut self) -> Extension {
            let ok = self.blocks > 0;
            if ok {
                self.blocks -= 1;
                self.granted.fetch_add(self.block, Ordering::Relaxed);
            }
            Box::pin(async move { ok })
        }
    }

    fn chunk(text: &str) -> Result<StreamEvent, ProviderError> {
        Ok(StreamEvent::Chunk(ChatChunk {
            id: "c".into(),
            object: "chat.completion.chunk".into(),
            created: 1,
            model: "m".into(),
            choices: vec![ChunkChoice {
                index: 0,
                delta: Delta {
                    content: Some(text.into()),
                    ..Delta::default()
                },
                finish_reason: None,
                logprobs: None,
                extra: Extra::new(),
            }],
            usage: None,
            system_fingerprint: None,
            extra: Default::default(),
        }))
    }

    async fn collect(stream: ChatStream) -> Vec<Result<StreamEvent, ProviderError>> {
        let mut stream = stream;
        let mut out = Vec::new();
        while let Some(item) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            out.push(item);
        }
        out
    }

    #[tokio::test]
    async fn a_stream_past_its_reservation_and_extensions_is_stopped_and_charged() {
        // 100 chunks of 40 bytes (10 tokens each); 50 tokens reserved, one extension of 50.
        let upstream: Vec<_> = (0..100).map(|_| chunk(&"x".repeat(40))).collect();
        let allowance = Blocks {
            granted: Arc::new(AtomicU64::new(50)),
            block: 50,
            blocks: 1,
        };
        let capped = cap_output(
            Box::pin(futures_util::stream::iter(upstream)),
            Some(Box::new(allowance)),
        );
        let events = collect(capped).await;
        let (last, rest) = events.split_last().unwrap();
        assert!(
            matches!(last, Err(ProviderError::Unsupported(m)) if m.contains("about 100 output tokens")),
            "{last:?}"
        );
        let Some(Ok(StreamEvent::Chunk(usage))) = rest.last() else {
            panic!("a usage chunk before the error: {rest:?}");
        };
        assert_eq!(usage.usage, Some(Usage::new(7, 100)));
        // 10 content chunks (100 tokens) went through, then the usage chunk.
        assert_eq!(rest.len(), 11);
    }

    #[tokio::test]
    async fn a_stream_within_its_reservation_or_without_an_allowance_is_untouched() {
        let upstream = || (0..3).map(|_| chunk("abcd")).collect::<Vec<_>>();
        let allowance = Blocks {
            granted: Arc::new(AtomicU64::new(100)),
            block: 50,
            blocks: 0,
        };
        let capped = cap_output(
            Box::pin(futures_util::stream::iter(upstream())),
            Some(Box::new(allowance)),
        );
        assert_eq!(collect(capped).await.len(), 3);
        let plain = cap_output(Box::pin(futures_util::stream::iter(upstream())), None);
        assert_eq!(collect(plain).await.len(), 3);
    }
}
