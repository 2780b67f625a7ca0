//! Pipeline spans at an OTLP/HTTP collector, continuing the caller's W3C trace.

use std::sync::{Arc, Mutex};

use http::Method;

use crate::SECTIONS;
use crate::common::{TestGateway, chat_body, send};

type Received = Arc<Mutex<Vec<u8>>>;

/// A minimal OTLP/HTTP collector: accepts POSTs, keeps their bodies, answers 200.
async fn collector() -> (String, Received) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received: Received = Arc::default();
    let sink = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(socket);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).await.unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = header.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    sink.lock().unwrap().extend(body);
                    reader
                        .get_mut()
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .unwrap();
                }
            });
        }
    });
    (url, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_spans_reach_an_otlp_collector_continuing_the_callers_trace() {
    let (url, received) = collector().await;
    let otlp = gateway_telemetry::config::OtlpConfig {
        endpoint: Some(url),
        ..Default::default()
    };
    let traces =
        gateway_app::logging::init_with_otlp(gateway_app::logging::Format::Text, "warn", &otlp)
            .unwrap();
    assert!(
        traces.is_exporting(),
        "no other test of this binary installs a subscriber"
    );
    let gw = TestGateway::start_with_sections("", SECTIONS).await;
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let headers = [
        ("authorization", gw.bearer()),
        ("content-type", "application/json".into()),
        ("traceparent", traceparent.into()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = send(
        Method::POST,
        &gw.url("/v1/chat/completions"),
        chat_body("gpt-test", true),
        &headers,
    )
    .await;
    assert_eq!(reply.status, 200);
    traces.flush_async().await;
    let body = received.lock().unwrap().clone();
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    for name in [
        &b"POST /v1/chat/completions"[..],
        b"chat gpt-test",
        b"gateway.authenticate",
        b"gateway.admit",
        b"gateway.inspect_input",
        b"gateway.route",
        b"gen_ai.system",
        b"gen_ai.request.model",
        b"gen_ai.response.model",
        b"gen_ai.usage.input_tokens",
        b"gen_ai.usage.output_tokens",
    ] {
        assert!(has(name), "missing {}", String::from_utf8_lossy(name));
    }
    let trace_id = [
        0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31,
        0x9c,
    ];
    assert!(has(&trace_id), "the caller's trace is continued");
    assert!(!has(gw.key.as_bytes()), "no secret in spans");
    traces.shutdown();
}
