//! A Responses API call between decoding and answering: [`Turn`] joins the stored conversation
//! of `previous_response_id` (the caller's tenant only) and the instructions to this input,
//! giving the chat the pipeline runs; [`Pending`] then encodes the answer and stores it (with
//! `store`, the default) before the caller sees it complete, so that a follow-up call can
//! continue from it at once.

use std::sync::Arc;

use serde_json::{Map, Value};

use gateway_core::store::{ResponseStore, StoredResponse};
use gateway_core::{ChatRequest, GatewayError, Message, Role, TenantId};

use super::ids::new_id;
use super::output::Output;
use super::response::{Shell, unix_now};
use super::stream::ResponsesStreamEncoder;
use crate::state::AppState;

/// A decoded `POST /v1/responses`.
#[derive(Debug)]
pub struct Turn {
    /// The chat to run, without messages yet.
    chat: ChatRequest,
    instructions: Option<String>,
    /// This request's input, as messages.
    input: Vec<Message>,
    /// This request's input, as listed by `input_items`.
    input_items: Vec<Value>,
    /// What the response object echoes of the request.
    echo: Map<String, Value>,
    store: bool,
    previous_response_id: Option<String>,
}

impl Turn {
    pub(super) fn new(
        chat: ChatRequest,
        instructions: Option<String>,
        input: Vec<Message>,
        input_items: Vec<Value>,
        echo: Map<String, Value>,
        store: bool,
        previous_response_id: Option<String>,
    ) -> Self {
        Turn {
            chat,
            instructions,
            input,
            input_items,
            echo,
            store,
            previous_response_id,
        }
    }

    /// The chat (without messages), the instructions, the input as messages and as items.
    pub(crate) fn parts(&self) -> (&ChatRequest, Option<&str>, &[Message], &[Value]) {
        (
            &self.chat,
            self.instructions.as_deref(),
            &self.input,
            &self.input_items,
        )
    }

    /// Whether the caller asked for the answer as a stream of events.
    pub fn streams(&self) -> bool {
        self.chat.stream
    }

    /// The chat to run for `tenant`, and what answers and stores it. A `previous_response_id`
    /// that is not the tenant's (or no longer stored) is a 404.
    pub async fn prepare(
        self,
        state: &AppState,
        tenant: &TenantId,
    ) -> Result<(ChatRequest, Pending), GatewayError> {
        let Turn {
            mut chat,
            instructions,
            input,
            input_items,
            mut echo,
            store,
            previous_response_id,
        } = self;
        let mut conversation = match &previous_response_id {
            Some(id) => previous_conversation(state, tenant, id).await?,
            None => Vec::new(),
        };
        conversation.extend(input);
        let mut messages = Vec::with_capacity(conversation.len() + 1);
        if let Some(instructions) = instructions.as_deref().filter(|i| !i.is_empty()) {
            messages.push(Message::text(Role::System, instructions));
        }
        // Without a database (the edge profile) nothing is stored, and the answer says so.
        let keeper = state.responses.as_ref().map(|r| r.store.clone());
        // Nor for a pass-through tenant: its content is never kept.
        let store = store && keeper.is_some() && !state.is_passthrough(tenant);
        if !store {
            echo.insert("store".to_owned(), Value::Bool(false));
        }
        // The conversation is kept for the stored response only when there is one to store.
        let kept = if store {
            messages.extend(conversation.iter().cloned());
            Some(conversation)
        } else {
            messages.extend(conversation);
            None
        };
        chat.messages = messages;
        let pending = Pending {
            shell: Shell {
                id: new_id("resp"),
                created_at: unix_now(),
                echo,
            },
            saved: kept.zip(keeper).map(|(conversation, store)| Saved {
                store,
                tenant: tenant.clone(),
                conversation,
                input_items,
            }),
        };
        Ok((chat, pending))
    }
}

/// The stored conversation of `id`, bounded by `[responses] max_conversation_bytes`.
async fn previous_conversation(
    state: &AppState,
    tenant: &TenantId,
    id: &str,
) -> Result<Vec<Message>, GatewayError> {
    // Another tenant's response does not exist for this caller: the same 404.
    let not_found =
        || GatewayError::NotFound(format!("Previous response with id '{id}' not found."));
    if !super::ids::is_valid_id(id) {
        return Err(not_found());
    }
    let Some(responses) = &state.responses else {
        return Err(not_found());
    };
    let stored = responses
        .store
        .get_response(tenant, id)
        .await?
        .ok_or_else(not_found)?;
    let limit = state.responses_config.max_conversation_bytes;
    if stored.conversation.len() > limit {
        return Err(GatewayError::invalid_param(
            "previous_response_id",
            format!(
                "The conversation of response '{id}' is longer than this gateway keeps going ({limit} bytes); start a new conversation, sending the history you need in 'input'."
            ),
        ));
    }
    serde_json::from_str(&stored.conversation).map_err(|e| {
        tracing::error!(response = id, error = %e, "a stored conversation is unreadable");
        GatewayError::Internal("a stored conversation is unreadable".to_owned())
    })
}

/// A response being produced: how to finish its object, and where to store it.
pub struct Pending {
    shell: Shell,
    /// `None` with `store: false`.
    saved: Option<Saved>,
}

/// What a stored response keeps besides its object.
struct Saved {
    store: Arc<dyn ResponseStore>,
    tenant: TenantId,
    /// The conversation before this response's output.
    conversation: Vec<Message>,
    input_items: Vec<Value>,
}

impl Pending {
    pub fn shell(&self) -> &Shell {
        &self.shell
    }

    /// The pieces of the stream encoder, and what stores the response at its end.
    pub fn into_parts(self) -> (Shell, Option<Saver>) {
        (self.shell, self.saved.map(Saver))
    }

    /// Stores (when asked) and returns the finished response object of `output`.
    pub async fn finish(self, output: &Output) -> Value {
        let response = self.shell.finished(output);
        if let Some(saved) = self.saved {
            Saver(saved)
                .save(
                    output,
                    &response,
                    self.shell.id.clone(),
                    self.shell.created_at,
                )
                .await;
        }
        response
    }
}

/// Stores a finished response.
pub struct Saver(Saved);

impl Saver {
    /// The store write of a finished stream, as a task of its own (it owns what it writes).
    pub fn save_stream(
        self,
        encoder: &ResponsesStreamEncoder,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let output = encoder.output().clone();
        let response = encoder.completed().cloned().unwrap_or(Value::Null);
        let (id, created_at) = (encoder.shell().id.clone(), encoder.shell().created_at);
        Box::pin(async move { self.save(&output, &response, id, created_at).await })
    }

    /// Writes the response; a store failure is logged, not answered (the call itself
    /// succeeded and was accounted), and the response is then only not retrievable.
    pub async fn save(self, output: &Output, response: &Value, id: String, created_at: u64) {
        let Saved {
            store,
            tenant,
            mut conversation,
            input_items,
        } = self.0;
        conversation.extend(output.assistant_message());
        let record = StoredResponse {
            id,
            tenant,
            created_at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(created_at),
            response: response.to_string(),
            input_items: Value::Array(input_items).to_string(),
            conversation: serde_json::to_string(&conversation).unwrap_or_else(|_| "[]".to_owned()),
        };
        if let Err(e) = store.put_response(&record).await {
            tracing::warn!(response = %record.id, error = %e, "storing a response failed");
        }
    }
}
