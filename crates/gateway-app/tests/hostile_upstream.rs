//! An upstream that answers with hostile values: a `retry-after` no clock can hold, a stream of
//! keep-alive comments only, a stream that never ends, a line without end. Each time the caller
//! gets a proper answer (an error status, or a final `error` event in a stream) instead of a
//! dropped connection or a stream held open forever.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Response, StatusCode};
use http_body::Frame;
use http_body_util::StreamBody;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use common::{TestGateway, chat_body, sse_data};

type Frames = Pin<Box<dyn futures_core::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send>>;

/// How the fake upstream answers every request.
#[derive(Clone, Copy)]
enum Answer {
    /// 429 with this header and value.
    RateLimited(&'static str, &'static str),
    /// An event stream: `first`, then `repeat` every 50 ms, forever.
    Stream {
        first: &'static str,
        repeat: &'static str,
    },
}

fn respond(answer: Answer) -> Response<StreamBody<Frames>> {
    let once = |text: &'static str| -> Frames {
        Box::pin(futures_util::stream::iter([Ok(Frame::data(
            Bytes::from_static(text.as_bytes()),
        ))]))
    };
    match answer {
        Answer::RateLimited(name, value) => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header(name, value)
            .header("content-type", "application/json")
            .body(StreamBody::new(once(
                r#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
            )))
            .unwrap(),
        Answer::Stream { first, repeat } => {
            let rest = futures_util::stream::unfold((), move |()| async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Some((Ok(Frame::data(Bytes::from_static(repeat.as_bytes()))), ()))
            });
            let frames: Frames = Box::pin(once(first).chain(rest));
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(StreamBody::new(frames))
                .unwrap()
        }
    }
}

/// A plain HTTP/1.1 upstream on 127.0.0.1:0 answering every request with `answer`.
async fn upstream(answer: Answer) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service =
                service_fn(move |_req| async move { Ok::<_, Infallible>(respond(answer)) });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service),
            );
        }
    });
    addr
}

/// A gateway whose model `hostile` is served by `upstream` (with `provider_extra` settings).
async fn gateway(upstream: SocketAddr, provider_extra: &str) -> TestGateway {
    TestGateway::start_with_sections(
        "",
        &format!(
            "[providers.hostile]\nkind = \"openai\"\nbase_url = \"http://{upstream}/v1\"\n{provider_extra}\n\
             [models.hostile]\nprovider = \"hostile\"\nupstream_model = \"m\"\n"
        ),
    )
    .await
}

const CHUNK: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";

#[tokio::test]
async fn an_absurd_retry_after_gets_a_rate_limited_answer() {
    for (name, value) in [
        ("retry-after", "1e300"),
        ("retry-after-ms", "1e300"),
        ("retry-after", "-1"),
        ("retry-after", "NaN"),
        ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"),
    ] {
        let gw = gateway(upstream(Answer::RateLimited(name, value)).await, "").await;
        for stream in [false, true] {
            let reply = gw
                .post("/v1/chat/completions", &chat_body("hostile", stream))
                .await;
            assert_eq!(reply.status, 429, "{name}: {value}: {:?}", reply.body);
            assert_eq!(reply.json()["error"]["type"], "rate_limit_error");
            let after = reply
                .headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap());
            if let Some(after) = after {
                let secs: u64 = after.parse().unwrap();
                assert!((1..=3600).contains(&secs), "{name}: {value} -> {secs}");
            }
        }
    }
}

/// The `data:` payloads of a streamed answer (read to its end) and its status.
async fn streamed(gw: &TestGateway) -> (StatusCode, Vec<String>) {
    let reply = tokio::time::timeout(
        Duration::from_secs(60),
        gw.post("/v1/chat/completions", &chat_body("hostile", true)),
    )
    .await
    .expect("the stream was never ended");
    (reply.status, sse_data(&reply.body))
}

fn assert_ends_with_error(events: &[String], says: &str) {
    let last = events.last().expect("some event");
    let error: serde_json::Value = serde_json::from_str(last).unwrap();
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{events:?}");
}

#[tokio::test]
async fn an_upstream_sending_only_comments_is_ended_after_the_silence_timeout() {
    let up = upstream(Answer::Stream {
        first: CHUNK,
        repeat: ": ping\n\n",
    })
    .await;
    let gw = gateway(up, "total_timeout_secs = 1").await;
    let (status, events) = streamed(&gw).await;
    assert_eq!(status, 200);
    assert!(events[0].contains("chat.completion.chunk"), "{events:?}");
    assert_ends_with_error(&events, "did not answer in time");
}

#[tokio::test]
async fn a_stream_longer_than_its_maximum_duration_is_ended() {
    let up = upstream(Answer::Stream {
        first: CHUNK,
        repeat: CHUNK,
    })
    .await;
    let gw = gateway(up, "max_stream_secs = 1").await;
    let (status, events) = streamed(&gw).await;
    assert_eq!(status, 200);
    assert!(events.len() > 2, "{events:?}");
    assert_ends_with_error(&events, "did not answer in time");
}

#[tokio::test]
async fn an_over_long_line_ends_the_stream_with_an_error_event() {
    let up = upstream(Answer::Stream {
        first: CHUNK,
        repeat: Box::leak("x".repeat(512).into_boxed_str()),
    })
    .await;
    let gw = gateway(up, "max_sse_line_bytes = 4096").await;
    let (status, events) = streamed(&gw).await;
    assert_eq!(status, 200);
    assert!(events[0].contains("chat.completion.chunk"), "{events:?}");
    assert_ends_with_error(&events, "could not read");
}
