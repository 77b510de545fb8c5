//! `/_control/...`: the test API over HTTP, for driving the binary from a shell.
//! The routes are documented in the crate docs.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::FakeError;
use crate::state::Shared;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/info", get(info))
        .route("/users", post(add_user))
        .route("/files", post(add_file))
        .route("/updates/text", post(text))
        .route("/updates/command", post(command))
        .route("/updates/voice", post(voice))
        .route("/updates/callback", post(callback))
        .route("/chats/{chat_id}/messages", get(messages))
        .route("/calls/{method}", get(calls))
}

fn reply(result: Result<Value, FakeError>) -> Response {
    match result {
        Ok(v) => (StatusCode::OK, Json(v)).into_response(),
        Err(err) => (StatusCode::BAD_REQUEST, Json(json!({ "error": err.to_string() }))).into_response(),
    }
}

async fn info(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "token": shared.token, "bot_id": shared.bot.id, "bot_username": shared.bot.username }))
}

#[derive(Deserialize)]
struct NewUser {
    id: i64,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    language_code: Option<String>,
}

impl NewUser {
    fn upsert(&self, shared: &Shared) {
        let known = shared.lock().users.contains_key(&self.id);
        if !known || self.first_name.is_some() || self.language_code.is_some() {
            shared.upsert_user(
                self.id,
                self.first_name.as_deref().unwrap_or("Test"),
                self.language_code.as_deref(),
            );
        }
    }
}

async fn add_user(State(shared): State<Arc<Shared>>, Json(user): Json<NewUser>) -> Response {
    user.upsert(&shared);
    reply(Ok(json!({ "id": user.id })))
}

#[derive(Deserialize)]
struct NewFile {
    base64: String,
    mime_type: String,
    #[serde(default)]
    duration_secs: Option<u32>,
}

async fn add_file(State(shared): State<Arc<Shared>>, Json(file): Json<NewFile>) -> Response {
    let result = STANDARD
        .decode(file.base64.trim())
        .map_err(|err| FakeError::BadControlRequest(format!("base64: {err}")))
        .and_then(|bytes| {
            let r = shared.register_file(bytes.into(), &file.mime_type, file.duration_secs);
            serde_json::to_value(r).map_err(|err| FakeError::BadControlRequest(err.to_string()))
        });
    reply(result)
}

#[derive(Deserialize)]
struct TextUpdate {
    #[serde(flatten)]
    user: UserRef,
    text: String,
}

#[derive(Deserialize)]
struct UserRef {
    user_id: i64,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    language_code: Option<String>,
}

impl UserRef {
    fn ensure(&self, shared: &Shared) -> i64 {
        NewUser {
            id: self.user_id,
            first_name: self.first_name.clone(),
            language_code: self.language_code.clone(),
        }
        .upsert(shared);
        self.user_id
    }
}

async fn text(State(shared): State<Arc<Shared>>, Json(req): Json<TextUpdate>) -> Response {
    let user = req.user.ensure(&shared);
    reply(shared.text_message(user, &req.text).map(|id| json!({ "message_id": id })))
}

async fn command(State(shared): State<Arc<Shared>>, Json(req): Json<TextUpdate>) -> Response {
    let user = req.user.ensure(&shared);
    let text = if req.text.starts_with('/') { req.text.clone() } else { format!("/{}", req.text) };
    reply(shared.text_message(user, &text).map(|id| json!({ "message_id": id })))
}

#[derive(Deserialize)]
struct VoiceUpdate {
    #[serde(flatten)]
    user: UserRef,
    file_id: String,
    #[serde(default)]
    duration_secs: Option<u32>,
}

async fn voice(State(shared): State<Arc<Shared>>, Json(req): Json<VoiceUpdate>) -> Response {
    let user = req.user.ensure(&shared);
    reply(shared.voice_message(user, &req.file_id, req.duration_secs).map(|id| json!({ "message_id": id })))
}

#[derive(Deserialize)]
struct CallbackUpdate {
    #[serde(flatten)]
    user: UserRef,
    message_id: i32,
    data: String,
}

async fn callback(State(shared): State<Arc<Shared>>, Json(req): Json<CallbackUpdate>) -> Response {
    let user = req.user.ensure(&shared);
    reply(shared.callback_query(user, req.message_id, &req.data).map(|id| json!({ "callback_query_id": id })))
}

async fn messages(State(shared): State<Arc<Shared>>, Path(chat_id): Path<i64>) -> Response {
    let messages = shared.lock().sent_messages(chat_id);
    reply(serde_json::to_value(messages).map_err(|err| FakeError::BadControlRequest(err.to_string())))
}

async fn calls(State(shared): State<Arc<Shared>>, Path(method): Path<String>) -> Response {
    let calls: Vec<_> =
        shared.lock().calls.iter().filter(|c| c.method.eq_ignore_ascii_case(&method)).cloned().collect();
    reply(serde_json::to_value(calls).map_err(|err| FakeError::BadControlRequest(err.to_string())))
}
