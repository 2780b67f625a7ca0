//! An upstream that ignores `max_tokens` and streams far more than asked cannot take a tenant
//! past its token limit by more than one block: the stream reserves more output as it goes
//! and is stopped, with a usage chunk and an error event, once the limit would be crossed
//! (`docs/limits.md`, "Output past the reservation").

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::StreamExt;
use http::Response;
use http_body::Frame;
use http_body_util::StreamBody;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use common::{TestGateway, sse_data};

type Frames = Pin<Box<dyn futures_core::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send>>;

/// 40 bytes of content: about ten tokens.
const CHUNK: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"abcdefghijklmnopqrstuvwxyz0123456789abcd\"},\"finish_reason\":null}]}\n\n";
/// Chunks the upstream sends whatever it was asked: 20,000 tokens.
const CHUNKS: usize = 2000;
const TPD: u64 = 3000;

/// Answers every request with [`CHUNKS`] chunks, its usage and `[DONE]`.
async fn verbose_upstream() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = service_fn(|_req| async {
                let end = format!(
                    "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":5,\"completion_tokens\":{},\"total_tokens\":{}}}}}\n\ndata: [DONE]\n\n",
                    CHUNKS * 10,
                    CHUNKS * 10 + 5
                );
                let body = futures_util::stream::iter(std::iter::repeat_n(CHUNK, CHUNKS))
                    .map(|c| Ok(Frame::data(Bytes::from_static(c.as_bytes()))))
                    .chain(futures_util::stream::once(async move {
                        Ok(Frame::data(Bytes::from(end)))
                    }));
                let frames: Frames = Box::pin(body);
                Ok::<_, Infallible>(
                    Response::builder()
                        .header("content-type", "text/event-stream")
                        .body(StreamBody::new(frames))
                        .unwrap(),
                )
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service),
            );
        }
    });
    addr
}

#[tokio::test]
async fn a_stream_far_past_max_tokens_is_stopped_at_the_token_limit() {
    let up = verbose_upstream().await;
    let gw = TestGateway::start_with_sections(
        "",
        &format!(
            "[providers.verbose]\nkind = \"openai\"\nbase_url = \"http://{up}/v1\"\n\
             [models.verbose]\nprovider = \"verbose\"\nupstream_model = \"m\"\n\
             [limits]\ndefault_max_tokens_reservation = 256\n[limits.tenant]\ntpd = {TPD}\n"
        ),
    )
    .await;
    let body = serde_json::json!({"model": "verbose", "stream": true, "max_tokens": 100,
        "messages": [{"role": "user", "content": "Say hi"}]})
    .to_string();
    let reply = gw.post("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let events = sse_data(&reply.body);
    // Content bytes delivered (output guardrails re-cut the chunks).
    let delivered: usize = events
        .iter()
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(e).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::len))
        .sum();
    // Delivered output stays within the daily limit (about four bytes a token), far below
    // the 20,000 tokens the upstream sent.
    assert!(delivered as u64 / 4 <= TPD, "{delivered} bytes delivered");
    assert!(delivered > 0, "{events:?}");
    let last: serde_json::Value = serde_json::from_str(events.last().unwrap()).unwrap();
    let message = last["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("more would exceed a token or spend limit"),
        "{last}"
    );

    // The limit is spent: the next call is refused, naming it.
    let next = gw.post("/v1/chat/completions", &body).await;
    assert_eq!(next.status, 429, "{:?}", next.body);
    assert!(
        next.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tpd"),
        "{:?}",
        next.body
    );
}
