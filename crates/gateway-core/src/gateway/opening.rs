//! The pipeline opening every model call shares, whatever its kind (chat, stream, embeddings,
//! and every later one): validate -> authorize -> policy -> call record -> admit -> inspect
//! input. A new kind of call implements [`CallInput`] and gets all of it; nothing here is
//! written twice.
//!
//! Policies and guardrails are written against [`ChatRequest`]. A call of another kind is
//! shown to them as a chat ([`ChatView`]): embeddings inputs become user messages, and what the
//! phases changed (a redacted text, a model moved by policy) is written back before routing.

use std::ops::{Deref, DerefMut};

use serde_json::Value;

use super::Gateway;
use crate::accounting::CallRecord;
use crate::content_log;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::phases::admission::{Admission, Admitted, UsageEstimate};
use crate::types::{ChatRequest, EmbeddingsRequest, Message, Role};

/// What the opening needs of a model call's request.
pub(crate) trait CallInput {
    fn validate(&self) -> Result<(), GatewayError>;
    fn model(&self) -> &str;
    /// The request as the chat-shaped phases see it.
    fn chat_view(&mut self) -> ChatView<'_>;
    /// What admission reserves for it, given its chat view.
    fn estimate(
        view: &ChatRequest,
        admission: &dyn Admission,
        ctx: &RequestContext,
    ) -> UsageEstimate;
}

/// A call past the opening: admitted, inspected and on record.
pub(crate) struct Opened {
    /// The context as the custom policy left it (`None`: no policy, use the caller's).
    pub policed: Option<RequestContext>,
    pub call: CallRecord,
    pub admitted: Option<Admitted>,
}

impl Gateway {
    /// Runs the opening on `req`; on success the call is admitted and recorded, and `req` holds
    /// what the input phases made of it (redactions, a model moved by policy).
    pub(crate) async fn open<R: CallInput>(
        &self,
        ctx: &RequestContext,
        req: &mut R,
        stream: bool,
    ) -> Result<Opened, GatewayError> {
        req.validate()?;
        self.authorize_model(ctx, req.model())?;
        let mut view = req.chat_view();
        let policed = self.apply_policy(ctx, &mut view)?;
        let ctx = policed.as_ref().unwrap_or(ctx);
        let call = self.call_record(ctx, &view.model, stream);
        let admitted = match &self.admission {
            Some(admission) => {
                let estimate = R::estimate(&view, admission.as_ref(), ctx);
                Some(self.admit(ctx, admission.as_ref(), &estimate).await?)
            }
            None => None,
        };
        // A guardrail block is on record (status 422, with its findings), like any call
        // that got this far; a failed external check is not a call of the caller's making.
        let inspected = match self.inspect_input(ctx, &call, &mut view) {
            Ok(()) => self.inspect_input_async(ctx, &call, &view).await,
            Err(err) => Err(err),
        };
        if let Err(err) = inspected {
            return Err(match err {
                GatewayError::PolicyBlocked { .. } => call.failed(err),
                err => err,
            });
        }
        if ctx.log_content && !ctx.passthrough {
            content_log::prompt(self.content_log.as_ref(), ctx, &view);
        }
        view.commit();
        Ok(Opened {
            policed,
            call,
            admitted,
        })
    }
}

/// A request seen as a chat: the chat itself, or a chat built from another kind of request
/// that [`ChatView::commit`] writes back into it.
pub(crate) enum ChatView<'a> {
    Chat(&'a mut ChatRequest),
    Embeddings {
        chat: Box<ChatRequest>,
        source: &'a mut EmbeddingsRequest,
    },
}

impl ChatView<'_> {
    /// Writes what the phases changed back into the request the view was made of.
    fn commit(self) {
        if let ChatView::Embeddings { chat, source } = self {
            let chat = *chat;
            source.model = chat.model;
            let mut texts = chat.messages.into_iter().map(|m| {
                m.content
                    .map(|content| content.joined_text())
                    .unwrap_or_default()
            });
            match &mut source.input {
                Value::String(text) => {
                    if let Some(inspected) = texts.next() {
                        *text = inspected;
                    }
                }
                Value::Array(items) => {
                    for item in items.iter_mut().filter(|item| item.is_string()) {
                        if let Some(inspected) = texts.next() {
                            *item = Value::String(inspected);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

impl Deref for ChatView<'_> {
    type Target = ChatRequest;

    fn deref(&self) -> &ChatRequest {
        match self {
            ChatView::Chat(chat) => chat,
            ChatView::Embeddings { chat, .. } => chat,
        }
    }
}

impl DerefMut for ChatView<'_> {
    fn deref_mut(&mut self) -> &mut ChatRequest {
        match self {
            ChatView::Chat(chat) => chat,
            ChatView::Embeddings { chat, .. } => chat,
        }
    }
}

impl CallInput for ChatRequest {
    fn validate(&self) -> Result<(), GatewayError> {
        ChatRequest::validate(self)
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn chat_view(&mut self) -> ChatView<'_> {
        ChatView::Chat(self)
    }

    fn estimate(
        view: &ChatRequest,
        admission: &dyn Admission,
        ctx: &RequestContext,
    ) -> UsageEstimate {
        admission.estimate(ctx, view)
    }
}

impl CallInput for EmbeddingsRequest {
    fn validate(&self) -> Result<(), GatewayError> {
        EmbeddingsRequest::validate(self)
    }

    fn model(&self) -> &str {
        &self.model
    }

    /// Each text input is one user message. Token-array inputs carry no text to inspect and
    /// are forwarded as they are.
    fn chat_view(&mut self) -> ChatView<'_> {
        let chat = Box::new(ChatRequest {
            model: self.model.clone(),
            messages: self
                .texts()
                .into_iter()
                .map(|text| Message::text(Role::User, text))
                .collect(),
            ..ChatRequest::default()
        });
        ChatView::Embeddings { chat, source: self }
    }

    /// The inputs' tokens; an embedding produces no output tokens.
    fn estimate(
        view: &ChatRequest,
        admission: &dyn Admission,
        ctx: &RequestContext,
    ) -> UsageEstimate {
        UsageEstimate {
            max_output_tokens: 0,
            ..admission.estimate(ctx, view)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embeddings(input: Value) -> EmbeddingsRequest {
        EmbeddingsRequest {
            model: "e".into(),
            input,
            encoding_format: None,
            dimensions: None,
            user: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn an_embeddings_view_writes_inspected_texts_and_model_back() {
        let mut req = embeddings(serde_json::json!(["a secret", [1, 2, 3], "plain"]));
        let mut view = req.chat_view();
        assert_eq!(view.messages.len(), 2, "token arrays are not messages");
        view.model = "moved".into();
        if let Some(text) = view.messages[0]
            .content
            .as_mut()
            .and_then(|c| c.texts_mut().next())
        {
            *text = "a [REDACTED]".into();
        }
        view.commit();
        assert_eq!(req.model, "moved");
        assert_eq!(
            req.input,
            serde_json::json!(["a [REDACTED]", [1, 2, 3], "plain"])
        );
    }

    #[test]
    fn a_single_string_input_is_one_message() {
        let mut req = embeddings(Value::String("hello".into()));
        let view = req.chat_view();
        assert_eq!(view.messages.len(), 1);
        view.commit();
        assert_eq!(req.input, Value::String("hello".into()));
    }
}
