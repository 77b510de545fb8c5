//! The demo chat: a web page where one person talks to the real bot through the
//! fake Telegram server, as they would in a Telegram client. `scripts/run` starts it
//! (the `demo` binary) when no `TELEGRAM_BOT_TOKEN` is given; `bot/tests/demo_browser.rs`
//! drives it in Chromium.
//!
//! Everything the person does becomes an update the fake queues for the bot, exactly
//! as Telegram would send it; everything shown is what the bot sent through the Bot
//! API, with its edits and deletions applied. The page's own routes:
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `GET /demo` | | the page (`/demo/assets/...` its script and styles) |
//! | `GET /demo/sample.wav` | | a short recording (a tone with pauses) for people without a microphone |
//! | `GET /demo/api/chat` | | `{bot, user, messages, notices}`: the conversation in order |
//! | `POST /demo/api/text` | `{text}` | `{message_id}`; commands get their entities |
//! | `POST /demo/api/media` | multipart `file`, `kind` (`voice` or `file`), `caption?`, `duration?` | `{message_id}` |
//! | `POST /demo/api/press` | `{message_id, data}` | `{callback_query_id}` |
//! | `POST /demo/api/language` | `{language}` | `{}`; the language the user's Telegram client reports |
//! | `GET /demo/api/files/{file_id}` | | the file's bytes |
//!
//! Other paths go to the bot's own HTTP server when one is given, so `/health`,
//! `/ready` and the Mini App's page answer on the demo's port too.

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fake_telegram::{AudioMeta, FakeError, FakeTelegram, SentMessage, TestUser};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("demo.js");
const STYLES: &str = include_str!("demo.css");

/// Largest file the page may send (Telegram's clients send bigger ones, but the
/// Bot API lets a bot download only 20 MB, which the fake enforces too).
const MAX_UPLOAD: usize = 50 * 1024 * 1024;

/// The one person chatting with the bot.
#[derive(Debug, Clone)]
pub struct DemoUser {
    /// Telegram user id (and private chat id).
    pub id: i64,
    /// First name the bot greets.
    pub first_name: String,
    /// `language_code` their Telegram client reports (`ru` or `en`).
    pub language: String,
}

impl Default for DemoUser {
    fn default() -> Self {
        Self { id: 700_000_001, first_name: "Гость".to_owned(), language: "ru".to_owned() }
    }
}

/// What the person sent, kept to show their side of the conversation (the fake
/// records only what the bot sent).
#[derive(Debug, Clone, Serialize)]
struct OwnMessage {
    id: i32,
    kind: &'static str,
    text: Option<String>,
    file: Option<FileLink>,
}

#[derive(Debug, Clone, Serialize)]
struct FileLink {
    id: String,
    name: Option<String>,
    mime_type: Option<String>,
}

/// The demo chat over a running fake Telegram server.
pub struct DemoChat {
    telegram: FakeTelegram,
    user: TestUser,
    profile: Mutex<DemoUser>,
    own: Mutex<Vec<OwnMessage>>,
    bot_url: Option<String>,
    http: reqwest::Client,
}

impl DemoChat {
    /// A chat of `user` with the bot behind `telegram`; `bot_url` (`http://host:port`)
    /// is where paths other than the demo's own are forwarded.
    pub fn new(telegram: FakeTelegram, user: DemoUser, bot_url: Option<String>) -> Arc<Self> {
        let handle = telegram.user(user.id, &user.first_name, Some(&user.language));
        Arc::new(Self {
            telegram,
            user: handle,
            profile: Mutex::new(user),
            own: Mutex::new(Vec::new()),
            bot_url: bot_url.map(|url| url.trim_end_matches('/').to_owned()),
            http: reqwest::Client::new(),
        })
    }

    fn remember(&self, message: OwnMessage) {
        self.own.lock().unwrap_or_else(PoisonError::into_inner).push(message);
    }

    fn profile(&self) -> DemoUser {
        self.profile.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The conversation as the page shows it: both sides, in message id order.
    fn conversation(&self) -> Value {
        let own = self.own.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut messages: Vec<(i32, Value)> = own
            .into_iter()
            .map(|m| {
                (m.id, json!({ "id": m.id, "from": "user", "kind": m.kind, "text": m.text, "file": m.file }))
            })
            .collect();
        messages.extend(
            self.telegram
                .messages(self.user.chat_id())
                .iter()
                .filter(|m| !m.deleted)
                .map(|m| (m.message_id, bot_message(m))),
        );
        messages.sort_by_key(|(id, _)| *id);
        let notices: Vec<Value> = self
            .telegram
            .callback_answers()
            .into_iter()
            .filter_map(|a| a.text.map(|text| json!({ "id": a.callback_query_id, "text": text })))
            .collect();
        let profile = self.profile();
        json!({
            "bot": { "username": self.telegram.bot_username() },
            "user": { "id": profile.id, "first_name": profile.first_name, "language": profile.language },
            "messages": messages.into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
            "notices": notices,
        })
    }
}

/// A message the bot sent, as the page draws it: Telegram's plain text and entities
/// (what clients render), the inline keyboard, and any file.
fn bot_message(m: &SentMessage) -> Value {
    let raw = &m.raw;
    let text = raw.get("text").or_else(|| raw.get("caption")).cloned().unwrap_or(Value::Null);
    let entities = raw.get("entities").or_else(|| raw.get("caption_entities")).cloned().unwrap_or(json!([]));
    let (kind, file) = if let Some(doc) = &m.document {
        ("document", Some(doc))
    } else if let Some(photo) = &m.photo {
        ("photo", Some(photo))
    } else if m.invoice.is_some() {
        ("invoice", None)
    } else {
        ("text", None)
    };
    let file = file.map(|f| FileLink {
        id: f.file_id.clone(),
        name: f.file_name.clone(),
        mime_type: f.mime_type.clone(),
    });
    let keyboard: Vec<Vec<Value>> = m
        .inline_keyboard()
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|b| match &b.action {
                    fake_telegram::ButtonAction::Callback(data) => json!({ "text": b.text, "data": data }),
                    fake_telegram::ButtonAction::Url(url) => json!({ "text": b.text, "url": url }),
                    fake_telegram::ButtonAction::Other(other) => json!({
                        "text": b.text,
                        "url": other.pointer("/web_app/url").cloned().unwrap_or(Value::Null),
                        "other": true,
                    }),
                })
                .collect()
        })
        .collect();
    json!({
        "id": m.message_id,
        "from": "bot",
        "kind": kind,
        "text": text,
        "entities": entities,
        "file": file,
        "invoice": m.invoice.as_ref().map(|i| json!({ "title": i["title"], "description": i["description"] })),
        "keyboard": keyboard,
        "edited": m.edit_count > 0,
    })
}

/// The demo's routes, with everything else forwarded to the bot.
pub fn router(chat: Arc<DemoChat>) -> Router {
    Router::new()
        .route("/demo", get(|| async { Html(PAGE) }))
        .route("/demo/", get(|| async { Html(PAGE) }))
        .route("/demo/assets/demo.js", get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }))
        .route("/demo/assets/demo.css", get(|| async { asset(STYLES, "text/css; charset=utf-8") }))
        .route("/demo/sample.wav", get(sample))
        .route("/demo/api/chat", get(conversation))
        .route("/demo/api/text", post(text))
        .route("/demo/api/media", post(media))
        .route("/demo/api/press", post(press))
        .route("/demo/api/language", post(language))
        .route("/demo/api/files/{file_id}", get(file))
        .fallback(forward)
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
        .with_state(chat)
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// A bad request from the page, or the fake refusing what it asked (as Telegram would).
struct Refused(String);

impl From<FakeError> for Refused {
    fn from(err: FakeError) -> Self {
        Self(err.to_string())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": self.0 }))).into_response()
    }
}

async fn conversation(State(chat): State<Arc<DemoChat>>) -> Json<Value> {
    Json(chat.conversation())
}

/// Seven seconds of a tone with a pause, as a WAV: something to transcribe
/// without a microphone (the fake recogniser does not listen anyway).
async fn sample() -> Response {
    let wav = crate::audio::tone_wav(7, 330.0);
    ([(header::CONTENT_TYPE, "audio/wav")], wav).into_response()
}

#[derive(Deserialize)]
struct TextBody {
    text: String,
}

async fn text(State(chat): State<Arc<DemoChat>>, Json(body): Json<TextBody>) -> Result<Json<Value>, Refused> {
    let text = body.text.trim();
    if text.is_empty() {
        return Err(Refused("empty message".to_owned()));
    }
    let id = chat.user.send_text(text)?;
    chat.remember(OwnMessage { id, kind: "text", text: Some(text.to_owned()), file: None });
    Ok(Json(json!({ "message_id": id })))
}

/// What a multipart upload from the page carried.
#[derive(Default)]
struct Upload {
    bytes: Bytes,
    file_name: Option<String>,
    mime_type: Option<String>,
    voice: bool,
    caption: Option<String>,
    duration: Option<f64>,
}

async fn read_upload(mut form: Multipart) -> Result<Upload, Refused> {
    let bad = |err: axum::extract::multipart::MultipartError| Refused(err.body_text());
    let mut upload = Upload::default();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                upload.file_name = field.file_name().map(str::to_owned).filter(|n| !n.is_empty());
                upload.mime_type = field.content_type().map(str::to_owned).filter(|m| !m.is_empty());
                upload.bytes = field.bytes().await.map_err(bad)?;
            }
            "kind" => upload.voice = field.text().await.map_err(bad)? == "voice",
            "caption" => {
                upload.caption = Some(field.text().await.map_err(bad)?).filter(|c| !c.trim().is_empty())
            }
            "duration" => upload.duration = field.text().await.map_err(bad)?.parse().ok(),
            _ => {}
        }
    }
    if upload.bytes.is_empty() {
        return Err(Refused("no file".to_owned()));
    }
    Ok(upload)
}

/// A file the person sent. A recording from the microphone becomes a voice note;
/// a chosen file becomes what a Telegram client makes of it: a photo, an audio,
/// a video, or else a document.
async fn media(State(chat): State<Arc<DemoChat>>, form: Multipart) -> Result<Json<Value>, Refused> {
    let upload = read_upload(form).await?;
    let probed = fake_openai::probe_audio(&upload.bytes);
    let mime = upload.mime_type.clone().unwrap_or_else(|| {
        match probed.as_ref().map(|p| p.format) {
            Some(fake_openai::AudioFormat::Wav) => "audio/wav",
            Some(fake_openai::AudioFormat::Flac) => "audio/flac",
            Some(fake_openai::AudioFormat::OggOpus | fake_openai::AudioFormat::OggVorbis) => "audio/ogg",
            Some(fake_openai::AudioFormat::Mp3) => "audio/mpeg",
            None => "application/octet-stream",
        }
        .to_owned()
    });
    // Telegram's clients measure a recording before sending it; the page's own
    // measure stands in where the fake cannot read the format (WebM).
    let duration = probed
        .map(|p| p.duration_s)
        .or(upload.duration)
        .filter(|d| d.is_finite() && *d > 0.0)
        .map(|d| d.ceil() as u32);
    let file = chat.telegram.register_file(upload.bytes.clone(), &mime, duration);
    let name = upload.file_name.clone();
    let caption = upload.caption.as_deref();
    let (kind, id) = if upload.voice {
        ("voice", chat.user.send_voice(&file)?)
    } else if mime.starts_with("image/") {
        ("photo", chat.user.send_photo(&file, caption)?)
    } else if mime.starts_with("audio/") || mime == "application/ogg" {
        let meta = AudioMeta { file_name: name.clone(), ..AudioMeta::default() };
        ("audio", chat.user.send_audio(&file, &meta)?)
    } else if mime.starts_with("video/") {
        ("video", chat.user.send_video(&file, caption)?)
    } else {
        ("document", chat.user.send_document(&file, name.as_deref().unwrap_or("file"), caption)?)
    };
    let text = if kind == "voice" || kind == "audio" { None } else { upload.caption.clone() };
    let link = FileLink { id: file.file_id, name, mime_type: Some(mime) };
    chat.remember(OwnMessage { id, kind, text, file: Some(link) });
    Ok(Json(json!({ "message_id": id })))
}

#[derive(Deserialize)]
struct Press {
    message_id: i32,
    data: String,
}

async fn press(State(chat): State<Arc<DemoChat>>, Json(body): Json<Press>) -> Result<Json<Value>, Refused> {
    let id = chat.user.press_button(body.message_id, &body.data)?;
    Ok(Json(json!({ "callback_query_id": id })))
}

#[derive(Deserialize)]
struct Language {
    language: String,
}

async fn language(
    State(chat): State<Arc<DemoChat>>,
    Json(body): Json<Language>,
) -> Result<Json<Value>, Refused> {
    let language = match body.language.as_str() {
        "ru" | "en" => body.language,
        other => return Err(Refused(format!("unsupported language {other:?}"))),
    };
    let mut profile = chat.profile.lock().unwrap_or_else(PoisonError::into_inner);
    profile.language = language;
    chat.telegram.user(profile.id, &profile.first_name, Some(&profile.language));
    Ok(Json(json!({})))
}

/// A file of the conversation: what the bot sent (documents, photos) or the person did.
async fn file(State(chat): State<Arc<DemoChat>>, Path(file_id): Path<String>) -> Response {
    let Some(bytes) = chat.telegram.file_bytes(&file_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let conversation = chat.conversation();
    let link = conversation["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["file"]["id"] == file_id.as_str())
        .map(|m| m["file"].clone())
        .unwrap_or(Value::Null);
    let mime = link["mime_type"].as_str().unwrap_or("application/octet-stream");
    let mut response = Response::new(Body::from(bytes));
    if let Ok(value) = HeaderValue::from_str(mime) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    if let Some(name) = link["name"].as_str() {
        // Only characters that need no quoting, so the header stays valid.
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' })
            .collect();
        if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{safe}\"")) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}

/// Any other path: the bot's own HTTP server (health, readiness, Mini App), unchanged.
async fn forward(State(chat): State<Arc<DemoChat>>, request: Request) -> Response {
    let Some(bot) = &chat.bot_url else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_UPLOAD).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = chat.http.request(parts.method, format!("{bot}{path}")).body(body);
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "connection" | "content-length" | "transfer-encoding") {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(err) => {
            tracing::warn!(error = %err, "the bot did not answer a forwarded request");
            return (StatusCode::BAD_GATEWAY, "the bot is not answering yet").into_response();
        }
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !matches!(name.as_str(), "connection" | "content-length" | "transfer-encoding") {
            response = response.header(name, value);
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    response.body(Body::from(body)).unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}
