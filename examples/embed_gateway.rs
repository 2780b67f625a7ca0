//! Embedding the gateway pipeline in a Rust service, without HTTP on the caller's side.
//!
//! Starts a local OpenAI-format mock (standing in for a real provider), routes the public model
//! `assistant` to it, and sends one request through the same pipeline the server uses.
//!
//! Run: `cargo run -p gateway-examples --example embed_gateway`

use std::sync::Arc;
use std::time::Duration;

use gateway_core::{ChatRequest, Endpoint, Gateway, Message, Principal, RequestContext, Role};
use gateway_providers::{
    Deployment, HttpClient, ModelGroup, ModelRouter, OpenAiConfig, OpenAiProvider, Timeouts,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let upstream = gateway_testkit::MockServer::start().await?;

    let client = HttpClient::new(Duration::from_secs(5))?;
    let provider = OpenAiProvider::new(
        OpenAiConfig {
            name: "local".into(),
            base_url: upstream.base_url(),
            api_key: None,
            timeouts: Timeouts::default(),
            headers: Vec::new(),
            passthrough: Default::default(),
        },
        client,
    )?;
    let router = ModelRouter::new([ModelGroup::new(
        "assistant",
        vec![Deployment::new(Arc::new(provider), "gpt-4o-mini")],
    )]);
    let gateway = Gateway::builder(Arc::new(router)).build();

    let ctx = RequestContext::new(
        "example-1",
        Principal::anonymous(),
        Endpoint::ChatCompletions,
    );
    let request = ChatRequest {
        model: "assistant".into(),
        messages: vec![Message::text(Role::User, "Hello from an embedded gateway")],
        ..Default::default()
    };
    let outcome = gateway.chat(&ctx, request).await?;
    let answer = outcome.response.choices[0]
        .message
        .content
        .as_ref()
        .map(|c| c.joined_text())
        .unwrap_or_default();
    println!(
        "{} (served by {} as {})",
        answer, outcome.served_by.provider, outcome.served_by.upstream_model
    );
    Ok(())
}
