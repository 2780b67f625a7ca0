//! Trace export: a tiny OTLP/HTTP collector on 127.0.0.1:0 receives the spans, named and
//! attributed per the GenAI conventions, continuing the caller's W3C trace.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use gateway_core::phases::account::{UsageRecord, call_span, record_call_span};
use gateway_core::{Endpoint, Principal, RequestContext, TenantId, Usage};
use gateway_telemetry::config::OtlpConfig;
use gateway_telemetry::logging::{Format, init_with_otlp};
use gateway_telemetry::trace::{record_status, request_span, trace_id};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// Accepts `POST <path>` requests with a content-length body and answers 200.
async fn collector() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
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
                    let path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let mut length = 0usize;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).await.unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    sink.lock().unwrap().push((path, body));
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    reader.get_mut().write_all(reply).await.unwrap();
                }
            });
        }
    });
    (url, received)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_the_collector_with_genai_attributes_and_the_callers_trace() {
    let (url, received) = collector().await;
    let config = OtlpConfig {
        endpoint: Some(url),
        service_name: "gateway-under-test".into(),
        sample_ratio: 1.0,
    };
    let guard = init_with_otlp(Format::Json, "info", &config).unwrap();
    assert!(guard.is_exporting());

    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let request = request_span(
        "POST",
        "/v1/chat/completions",
        "req-otlp-1",
        Some(traceparent),
        None,
    );
    assert_eq!(
        trace_id(&request).as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    {
        let _in_request = request.enter();
        let mut principal = Principal::anonymous();
        principal.tenant = TenantId::new("acme");
        let ctx = RequestContext::new("req-otlp-1", principal, Endpoint::ChatCompletions);
        let call = call_span(&ctx, "gpt-test", false);
        let _in_call = call.enter();
        tracing::info_span!(target: "gateway_core::gateway", "gateway.route").in_scope(|| {});
        // Spans of other crates are not exported (the trace filter keeps the gateway's own).
        tracing::info_span!("not.exported").in_scope(|| {});
        record_call_span(
            &call,
            &UsageRecord {
                request_id: ctx.request_id.clone(),
                at: SystemTime::now(),
                tenant: ctx.principal.tenant.clone(),
                subject: ctx.principal.subject.clone(),
                endpoint: "chat_completions",
                model: "gpt-test".into(),
                provider: Some(Arc::from("openai")),
                upstream_model: Some(Arc::from("gpt-4o-mini-2024-07-18")),
                usage: Some(Usage::new(12, 34)),
                cost_usd: Some(0.0001),
                saved_cost_usd: None,
                status: 200,
                latency: Duration::from_millis(5),
                upstream_latency: Some(Duration::from_millis(4)),
                time_to_first_token: None,
                stream: false,
                cache_hit: false,
                cancelled: false,
                batch_id: None,
                quality: None,
                task: None,
                route_reason: None,
                guardrail_findings: Default::default(),
            },
        );
    }
    record_status(&request, 200);
    drop(request);
    guard.flush_async().await;

    let got = received.lock().unwrap().clone();
    assert!(!got.is_empty(), "the collector received nothing");
    assert!(got.iter().all(|(path, _)| path == "/v1/traces"));
    let body: Vec<u8> = got.into_iter().flat_map(|(_, b)| b).collect();
    for needle in [
        &b"POST /v1/chat/completions"[..],
        b"chat gpt-test",
        b"gateway.route",
        b"gen_ai.system",
        b"openai",
        b"gen_ai.request.model",
        b"gen_ai.response.model",
        b"gpt-4o-mini-2024-07-18",
        b"gen_ai.usage.input_tokens",
        b"gen_ai.usage.output_tokens",
        b"http.response.status_code",
        b"gateway-under-test",
    ] {
        assert!(
            contains(&body, needle),
            "missing {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    assert!(!contains(&body, b"not.exported"));
    // The caller's trace id (raw bytes in the protobuf): the trace was continued.
    let trace_id = [
        0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47,
        0x36,
    ];
    assert!(
        contains(&body, &trace_id),
        "the caller's trace id is not in the export"
    );
    guard.shutdown();
}
