//! Prompts and completions in the logs, for the tenants the operator opted in
//! (`telemetry.log_prompts_for_tenants`, carried by [`RequestContext::log_content`]). Never
//! for anyone else: the gateway's other log lines carry no prompt or completion text.
//!
//! One event per direction, target `gateway::content`, level INFO: the prompt as sent
//! upstream (after the input guardrails redacted it), and the completion as the caller
//! received it (after the output guardrails; a stream's text once it ended).
//!
//! Without a [`ContentLogSink`] the event is written at once, in clear. With one (the gateway
//! sets a sealing sink when `[encryption]` is configured) the line goes to the sink, which
//! seals the content for the tenant and writes the same event through [`emit`] with the
//! content as `gwe1:` text and `sealed = true`; metadata stays in clear. Nothing here runs
//! for a call whose tenant is not logged: the callers check [`RequestContext::log_content`]
//! first.

use std::sync::Arc;

use crate::context::RequestContext;
use crate::principal::TenantId;
use crate::types::{ChatRequest, ChatResponse};

/// The tracing target of these events, for log filters (`info,gateway::content=off`).
pub const TARGET: &str = "gateway::content";

/// The record id a sealed content-log value is bound to (with its tenant) as authenticated
/// data; opening a logged value uses the same.
pub const SEALED_RECORD: &str = "content-log";

/// Which side of a call a line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Prompt,
    Completion,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Prompt => "prompt",
            ContentKind::Completion => "completion",
        }
    }
}

/// The field a line's content is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentField {
    /// `messages`: a JSON array of messages (a prompt, or a whole response's choices).
    Messages,
    /// `text`: the text a stream delivered.
    Text,
}

/// One prompt or completion to log.
#[derive(Debug, Clone)]
pub struct ContentLine {
    pub request_id: Arc<str>,
    pub tenant: TenantId,
    /// The public model asked for (prompts only).
    pub model: Option<String>,
    pub kind: ContentKind,
    pub field: ContentField,
    /// The content, in clear.
    pub content: String,
}

/// Where content lines go when they must not be written in clear (a sealing sink). It must
/// not block: it is called on the request path of a logged tenant, and on a stream's end.
pub trait ContentLogSink: Send + Sync + std::fmt::Debug {
    fn write(&self, line: ContentLine);
}

/// Writes the event of `line` with `content` in its content field: the content itself, or
/// its sealed text (`sealed`).
pub fn emit(line: &ContentLine, content: &str, sealed: bool) {
    let sealed = sealed.then_some(true);
    let model = line.model.as_deref();
    match line.field {
        ContentField::Messages => tracing::info!(
            target: TARGET,
            request_id = %line.request_id,
            tenant = %line.tenant,
            model,
            kind = line.kind.as_str(),
            sealed,
            messages = %content,
            "content"
        ),
        ContentField::Text => tracing::info!(
            target: TARGET,
            request_id = %line.request_id,
            tenant = %line.tenant,
            model,
            kind = line.kind.as_str(),
            sealed,
            text = %content,
            "content"
        ),
    }
}

fn write(sink: Option<&Arc<dyn ContentLogSink>>, line: ContentLine) {
    match sink {
        Some(sink) => sink.write(line),
        None => emit(&line, &line.content, false),
    }
}

/// The messages of `req` as they go upstream.
pub(crate) fn prompt(
    sink: Option<&Arc<dyn ContentLogSink>>,
    ctx: &RequestContext,
    req: &ChatRequest,
) {
    write(
        sink,
        ContentLine {
            request_id: ctx.request_id.clone(),
            tenant: ctx.principal.tenant.clone(),
            model: Some(req.model.clone()),
            kind: ContentKind::Prompt,
            field: ContentField::Messages,
            content: serde_json::to_string(&req.messages).unwrap_or_default(),
        },
    );
}

/// The choices of a whole response as the caller receives them.
pub(crate) fn completion(
    sink: Option<&Arc<dyn ContentLogSink>>,
    ctx: &RequestContext,
    response: &ChatResponse,
) {
    let messages: Vec<_> = response.choices.iter().map(|c| &c.message).collect();
    write(
        sink,
        ContentLine {
            request_id: ctx.request_id.clone(),
            tenant: ctx.principal.tenant.clone(),
            model: None,
            kind: ContentKind::Completion,
            field: ContentField::Messages,
            content: serde_json::to_string(&messages).unwrap_or_default(),
        },
    );
}

/// The text a stream delivered (every choice's, in arrival order).
pub(crate) fn streamed_completion(
    sink: Option<&Arc<dyn ContentLogSink>>,
    request_id: &Arc<str>,
    tenant: &TenantId,
    text: String,
) {
    write(
        sink,
        ContentLine {
            request_id: request_id.clone(),
            tenant: tenant.clone(),
            model: None,
            kind: ContentKind::Completion,
            field: ContentField::Text,
            content: text,
        },
    );
}
