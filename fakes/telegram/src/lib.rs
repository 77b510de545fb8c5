//! A fake Telegram Bot API server for tests, faithful to the published wire format.
//!
//! Point teloxide at it with `Bot::new(tg.token()).set_api_url(tg.api_url())`. It speaks
//! `POST|GET /bot<token>/<method>` (method names case-insensitive; JSON, urlencoded,
//! query-string and multipart bodies) and `GET /file/bot<token>/<file_path>`, answers in
//! the `{"ok":...}` envelope with Telegram's own error texts, and produces updates shaped
//! like the real server's, so code that passes here works against Telegram.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_telegram::FakeError> {
//! use std::time::Duration;
//! let tg = fake_telegram::FakeTelegram::start().await;
//! let alice = tg.user(42, "Alice", Some("en"));
//! alice.send_command("/start ref_abc")?;
//! // ... run the bot against tg.api_url() ...
//! let replies = alice.wait_for_messages(1, Duration::from_secs(5)).await?;
//! assert!(replies[0].body().is_some());
//! # Ok(()) }
//! ```
//!
//! Behaviour worth knowing:
//! - A user's private chat id is their user id; sending to a chat the fake never saw fails
//!   with `Bad Request: chat not found`, and to a user who blocked the bot
//!   ([`TestUser::block_bot`]) with `403 Forbidden: bot was blocked by the user`.
//! - Groups ([`FakeTelegram::group`]) have members with statuses (`getChatMember`); adding
//!   the bot sends `my_chat_member` and the `new_chat_members` service message; sending to
//!   a group without the bot fails with `403 Forbidden: bot is not a member of the group
//!   chat`. Privacy mode is on ([`FakeTelegram::set_privacy_mode`]): a bot that is a plain
//!   member sees only commands, replies to its messages, mentions and service messages.
//! - Text limits count UTF-16 code units after `parse_mode` markup is removed; malformed
//!   HTML / MarkdownV2 fails with `Bad Request: can't parse entities: ...`.
//! - `getUpdates` drops updates below `offset` forever and long-polls up to `timeout`;
//!   a newer poll ends an older one with 409, as on Telegram. `allowed_updates` filters
//!   updates injected afterwards.
//! - Webhooks may use plain `http://` for loopback hosts (Telegram itself wants HTTPS).
//!   Updates are POSTed one at a time, in order, retried with doubling backoff
//!   ([`FakeTelegram::set_webhook_backoff`]).
//! - A 5xx from the fake makes teloxide sleep 10 s before returning; use
//!   [`Fault::ServerError`] with that in mind.
//!
//! # Control API
//!
//! For use from a shell against the `fake-telegram` binary; JSON in and out, errors as
//! `400 {"error": "..."}`. Users named in updates are created on first use.
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `GET /_control/info` | | `{token, bot_id, bot_username}` |
//! | `POST /_control/users` | `{id, first_name?, language_code?}` | `{id}` |
//! | `POST /_control/files` | `{base64, mime_type, duration_secs?}` | a [`FileRef`] |
//! | `POST /_control/updates/text` | `{user_id, text, first_name?, language_code?}` | `{message_id}` |
//! | `POST /_control/updates/command` | same; a leading `/` is added if missing | `{message_id}` |
//! | `POST /_control/updates/voice` | `{user_id, file_id, duration_secs?}` | `{message_id}` |
//! | `POST /_control/updates/callback` | `{user_id, message_id, data}` | `{callback_query_id}` |
//! | `GET /_control/chats/{chat_id}/messages` | | `[SentMessage]` (file bytes in base64) |
//! | `GET /_control/calls/{method}` | | `[ApiCall]` |

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use bytes::Bytes;
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod api;
mod control;
mod ids;
mod inject;
mod markup;
mod model;
mod params;
mod state;
mod webhook;

pub use model::{
    ApiCall, AudioMeta, ButtonAction, CallbackAnswer, ChatAction, Fault, FileRef, InlineButton, Payment,
    PreCheckoutAnswer, SentFile, SentInvoice, SentMessage, StarRefund, WebhookAttempt,
};

use state::{BotIdentity, Shared};

/// Token used by [`FakeTelegram::start`] when none is given is random; this is the
/// binary's default.
pub const DEFAULT_TOKEN: &str = "123456:TEST-TOKEN";

/// What can go wrong when driving the fake from a test.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    /// The listener could not be bound.
    #[error("cannot bind the fake Telegram server: {0}")]
    Bind(#[from] std::io::Error),
    /// A wait ended before its condition held.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        after: Duration,
    },
    /// The user was never created with [`FakeTelegram::user`].
    #[error("unknown user {0}")]
    UnknownUser(i64),
    /// The group was never created with [`FakeTelegram::group`].
    #[error("unknown chat {0}")]
    UnknownChat(i64),
    /// No Stars payment has that charge id.
    #[error("unknown Stars charge {0}")]
    NoSuchCharge(String),
    /// The invoice is not a subscription's (no `subscription_period`).
    #[error("invoice {0} is not a subscription")]
    NotASubscription(String),
    /// The bot's `allowed_updates` leaves this kind of update out: it was not sent.
    #[error("the bot's allowed_updates leaves out `{0}` updates")]
    NotAllowed(String),
    /// The subscription's renewal was cancelled (by the bot or the user), so Telegram does not renew it.
    #[error("the subscription of charge {0} was cancelled")]
    SubscriptionCanceled(String),
    /// No file with that id was registered or sent.
    #[error("unknown file_id {0}")]
    UnknownFile(String),
    /// The message does not exist (or was deleted) in that chat.
    #[error("no message {message_id} in chat {chat_id}")]
    NoSuchMessage {
        /// Chat.
        chat_id: i64,
        /// Message.
        message_id: i32,
    },
    /// The message has no callback button with that data, so Telegram could not send it.
    #[error("message {message_id} has no button with callback_data {data:?}")]
    NoSuchButton {
        /// Message.
        message_id: i32,
        /// Data looked for.
        data: String,
    },
    /// A control API request was malformed.
    #[error("bad control request: {0}")]
    BadControlRequest(String),
}

/// How to start the fake.
#[derive(Debug, Clone)]
pub struct FakeTelegramConfig {
    /// Bot token; its numeric prefix becomes the bot's user id.
    pub token: String,
    /// The bot's username (without `@`).
    pub bot_username: String,
    /// The bot's display name.
    pub bot_first_name: String,
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
}

impl Default for FakeTelegramConfig {
    fn default() -> Self {
        let id: u32 = rand::random_range(100_000_000..999_999_999);
        Self {
            token: format!("{id}:TEST-{}", ids::random_slug(26)),
            bot_username: "fake_test_bot".to_owned(),
            bot_first_name: "Fake Test Bot".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

struct Handle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A running fake server; clones share it, and it stops when the last clone drops.
#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Handle>,
}

impl std::fmt::Debug for FakeTelegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTelegram").field("addr", &self.inner.addr).finish_non_exhaustive()
    }
}

impl FakeTelegram {
    /// Starts a server with a random token on 127.0.0.1.
    ///
    /// # Panics
    /// If no loopback port can be bound; a test cannot go on without its server.
    pub async fn start() -> Self {
        Self::start_with(FakeTelegramConfig::default()).await.unwrap_or_else(|err| panic!("{err}"))
    }

    /// Starts a server that accepts this token.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start_with_token(token: &str) -> Self {
        let config = FakeTelegramConfig { token: token.to_owned(), ..FakeTelegramConfig::default() };
        Self::start_with(config).await.unwrap_or_else(|err| panic!("{err}"))
    }

    /// Starts a server as configured.
    pub async fn start_with(config: FakeTelegramConfig) -> Result<Self, FakeError> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let bot_id = config.token.split(':').next().and_then(|id| id.parse().ok()).unwrap_or(123_456);
        let bot =
            BotIdentity { id: bot_id, first_name: config.bot_first_name, username: config.bot_username };
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared::new(config.token, bot, stopped.clone()));
        let app = Router::new()
            .route("/file/{bot_token}/{*path}", get(api::download))
            .route("/{bot_token}/{method}", get(api::bot_method).post(api::bot_method))
            .nest("/_control", control::router())
            .fallback(api::not_found)
            .layer(DefaultBodyLimit::max(params::MAX_BODY))
            .with_state(shared.clone());
        let mut server_stop = stopped;
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            };
            if let Err(err) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::error!(error = %err, "fake telegram server failed");
            }
        });
        let sender = tokio::spawn(webhook::deliver(shared.clone()));
        Ok(Self { inner: Arc::new(Handle { shared, addr, stop, tasks: Mutex::new(vec![server, sender]) }) })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Base URL for `Bot::set_api_url`.
    pub fn api_url(&self) -> url::Url {
        let base = format!("http://{}/", self.inner.addr);
        url::Url::parse(&base).unwrap_or_else(|_| unreachable!("a socket address forms a valid URL"))
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The accepted bot token.
    pub fn token(&self) -> &str {
        &self.shared().token
    }

    /// The bot's username, without `@`.
    pub fn bot_username(&self) -> &str {
        &self.shared().bot.username
    }

    /// The bot's user id.
    pub fn bot_id(&self) -> i64 {
        self.shared().bot.id
    }

    /// Stops serving and waits for the server to finish; open long polls return empty.
    pub async fn shutdown(&self) {
        let _ = self.inner.stop.send(true);
        self.shared().notify_all();
        let tasks: Vec<_> =
            std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            let _ = task.await;
        }
    }

    /// A user with a private chat with the bot (chat id == user id); calling it again
    /// for the same id updates the name and language.
    pub fn user(&self, id: i64, first_name: &str, language_code: Option<&str>) -> TestUser {
        self.shared().upsert_user(id, first_name, language_code);
        TestUser { tg: self.clone(), id }
    }

    /// A group (`supergroup: false`) or supergroup with this (negative) id, the bot not in
    /// it yet: [`TestGroup::add_bot`] adds it. Calling it again returns the same group.
    pub fn group(&self, id: i64, title: &str, supergroup: bool) -> TestGroup {
        self.shared().add_group(id, title, supergroup);
        TestGroup { tg: self.clone(), id }
    }

    /// The bot's privacy mode (@BotFather `/setprivacy`), on by default as on Telegram: a
    /// bot that is a plain member of a group then receives only commands, replies to its
    /// messages, messages that mention it and service messages; admins receive everything.
    pub fn set_privacy_mode(&self, on: bool) {
        self.shared().lock().privacy_mode = on;
    }

    /// Makes content known to Telegram, as if someone had uploaded it.
    pub fn register_file(&self, bytes: impl Into<Bytes>, mime: &str, duration_secs: Option<u32>) -> FileRef {
        self.shared().register_file(bytes.into(), mime, duration_secs)
    }

    /// Answers `getFile` as `telegram-bot-api --local` with working directory `dir` does: the
    /// file is put on its disk under `dir/<token>/<folder>/`, `file_path` is that absolute path
    /// (the bot reads it from a shared directory instead of downloading it), and files up to
    /// 2000 MB are served.
    pub fn serve_locally(&self, dir: impl Into<std::path::PathBuf>) {
        let mut st = self.shared().lock();
        st.local_dir = Some(dir.into());
        st.download_limit = 2_000 * 1_000 * 1_000;
    }

    /// Makes a file already on the local server's disk known, as if someone had uploaded it
    /// and the server had downloaded it to `path` (a recording too big to hold in memory,
    /// written by a test): `getFile` answers `path` exactly as given. For [`Self::serve_locally`].
    ///
    /// # Errors
    /// When the file's size cannot be read.
    pub fn register_file_on_disk(
        &self,
        path: impl Into<std::path::PathBuf>,
        mime: &str,
        duration_secs: Option<u32>,
    ) -> std::io::Result<FileRef> {
        let path = path.into();
        let size = std::fs::metadata(&path)?.len();
        let mut st = self.shared().lock();
        // The content is not read: its unique id comes from its place and size.
        let marker = Bytes::from(format!("{}:{size}", path.display()));
        let mut file = st.add_file(marker, Some(mime.to_owned()), None, duration_secs, 7);
        file.bytes = Bytes::new();
        file.on_disk = Some((path, size));
        st.files.insert(file.file_id.clone(), file.clone());
        Ok(inject::file_ref(&file))
    }

    /// The bytes of any file the fake knows (registered or sent by the bot).
    pub fn file_bytes(&self, file_id: &str) -> Option<Bytes> {
        self.shared().lock().files.get(file_id).map(|f| f.bytes.clone())
    }

    /// `getFile` refuses files larger than this (default 20 MB, Telegram's public limit).
    pub fn set_download_limit(&self, bytes: u64) {
        self.shared().lock().download_limit = bytes;
    }

    /// First delay and cap of the webhook retry backoff (default 100 ms doubling to 2 s).
    pub fn set_webhook_backoff(&self, first: Duration, max: Duration) {
        self.shared().lock().webhook_backoff = (first, max.max(first));
    }

    /// Messages the bot sent to a chat, in order, with edits applied (deleted ones flagged).
    pub fn messages(&self, chat_id: i64) -> Vec<SentMessage> {
        self.shared().lock().sent_messages(chat_id)
    }

    /// One message the bot sent.
    pub fn message(&self, chat_id: i64, message_id: i32) -> Option<SentMessage> {
        let st = self.shared().lock();
        st.message(chat_id, message_id).and_then(|m| st.sent_message(chat_id, m))
    }

    /// Waits until the bot has sent at least `n` messages to the chat; returns them all.
    pub async fn wait_for_messages(
        &self,
        chat_id: i64,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<SentMessage>, FakeError> {
        self.wait_until(&format!("{n} messages in chat {chat_id}"), timeout, |tg| {
            let messages = tg.messages(chat_id);
            (messages.len() >= n).then_some(messages)
        })
        .await
    }

    /// Waits, without polling, until `check` returns `Some`; it runs after every change.
    pub async fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> Result<T, FakeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared().changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(value) = check(self) {
                return Ok(value);
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(deadline) => {
                    return check(self).ok_or_else(|| FakeError::Timeout { what: what.to_owned(), after: timeout });
                }
            }
        }
    }

    /// Every `answerCallbackQuery`, in order.
    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.shared().lock().callback_answers.clone()
    }

    /// Every accepted `answerPreCheckoutQuery`, in order.
    pub fn pre_checkout_answers(&self) -> Vec<PreCheckoutAnswer> {
        self.shared().lock().pre_checkout_answers.clone()
    }

    /// Every invoice sent or linked, in order.
    pub fn invoices(&self) -> Vec<SentInvoice> {
        self.shared().lock().invoices.clone()
    }

    /// Whether the bot cancelled the renewal of the Stars subscription first charged as
    /// `first_charge` (`None`: no such subscription).
    pub fn star_subscription_canceled(&self, first_charge: &str) -> Option<bool> {
        self.shared().lock().star_subscriptions.get(first_charge).map(|s| s.canceled_by_bot)
    }

    /// Every successful Stars refund, in order.
    pub fn star_refunds(&self) -> Vec<StarRefund> {
        self.shared().lock().star_refunds.clone()
    }

    /// Chat actions sent to a chat, in order.
    pub fn chat_actions(&self, chat_id: i64) -> Vec<String> {
        self.shared()
            .lock()
            .chat_actions
            .iter()
            .filter(|a| a.chat_id == chat_id)
            .map(|a| a.action.clone())
            .collect()
    }

    /// Every request for a method (matched case-insensitively), faulted ones included.
    pub fn calls(&self, method: &str) -> Vec<ApiCall> {
        self.shared().lock().calls.iter().filter(|c| c.method.eq_ignore_ascii_case(method)).cloned().collect()
    }

    /// Every request, in order.
    pub fn all_calls(&self) -> Vec<ApiCall> {
        self.shared().lock().calls.clone()
    }

    /// Commands set for a scope (`{"type":"default"}` when `None`) and language ("" for all).
    pub fn commands(&self, scope: Option<&serde_json::Value>, language_code: &str) -> Vec<(String, String)> {
        let default = serde_json::json!({ "type": "default" });
        let scope = scope.unwrap_or(&default);
        let mut key = vec![scope.get("type").and_then(|t| t.as_str()).unwrap_or("default").to_owned()];
        for field in ["chat_id", "user_id"] {
            if let Some(v) = scope.get(field) {
                key.push(v.to_string());
            }
        }
        let st = self.shared().lock();
        st.commands
            .get(&(key.join(":"), language_code.to_owned()))
            .and_then(|v| v.as_array())
            .map(|list| {
                list.iter()
                    .map(|c| {
                        let field =
                            |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                        (field("command"), field("description"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every webhook delivery attempt, in order.
    pub fn webhook_attempts(&self) -> Vec<WebhookAttempt> {
        self.shared().lock().webhook_attempts.clone()
    }

    /// Updates produced but not yet confirmed (polling) or delivered (webhook).
    pub fn pending_updates(&self) -> usize {
        self.shared().lock().updates.len()
    }

    /// Answers the next `n` calls of `method` (case-insensitive) with `fault`.
    pub fn inject_fault(&self, method: &str, n: usize, fault: Fault) {
        let mut st = self.shared().lock();
        let queue = st.faults.entry(method.to_ascii_lowercase()).or_default();
        queue.extend(std::iter::repeat_n(fault, n));
    }

    /// The next `n` calls of `method` get `429 Too Many Requests: retry after {secs}`.
    pub fn rate_limit(&self, method: &str, n: usize, retry_after_secs: u32) {
        self.inject_fault(method, n, Fault::RetryAfter(retry_after_secs));
    }

    /// The next `n` calls of `method` get `500 Internal Server Error`.
    pub fn server_error(&self, method: &str, n: usize) {
        self.inject_fault(method, n, Fault::ServerError);
    }

    /// The next `n` calls of `method` are processed after `delay`.
    pub fn delay(&self, method: &str, n: usize, delay: Duration) {
        self.inject_fault(method, n, Fault::Delay(delay));
    }

    /// The user blocks the bot: send methods to them fail with 403 until [`TestUser::unblock_bot`].
    pub fn block_bot(&self, user: &TestUser) {
        user.block_bot();
    }

    /// Drops every fault still queued.
    pub fn clear_faults(&self) {
        self.shared().lock().faults.clear();
    }
}

/// A group or supergroup with the bot's users in it.
#[derive(Clone, Debug)]
pub struct TestGroup {
    tg: FakeTelegram,
    id: i64,
}

impl TestGroup {
    /// The group's chat id (negative).
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Makes `user` a member with this status: `creator`, `administrator`, `member`,
    /// `left` or `kicked` (as `getChatMember` reports it).
    pub fn set_member(&self, user: &TestUser, status: &str) -> Result<(), FakeError> {
        self.tg.shared().set_member(self.id, user.id, status)
    }

    /// `by` adds the bot to the group (as an administrator when `admin`): a
    /// `my_chat_member` update and the `new_chat_members` service message.
    pub fn add_bot(&self, by: &TestUser, admin: bool) -> Result<(), FakeError> {
        self.tg.shared().set_bot_status(self.id, by.id, if admin { "administrator" } else { "member" })
    }

    /// `by` removes the bot from the group.
    pub fn remove_bot(&self, by: &TestUser) -> Result<(), FakeError> {
        self.tg.shared().set_bot_status(self.id, by.id, "left")
    }

    /// A text from `from` in the group (commands get `bot_command` entities).
    pub fn send_text(&self, from: &TestUser, text: &str) -> Result<i32, FakeError> {
        let content = self.tg.shared().text_content(text);
        self.tg.shared().group_message(self.id, from.id, content)
    }

    /// A text an anonymous admin posts: `from` is Telegram's `GroupAnonymousBot` and
    /// `sender_chat` the group itself.
    pub fn send_text_anonymously(&self, text: &str) -> Result<i32, FakeError> {
        let content = self.tg.shared().text_content(text);
        self.tg.shared().anonymous_group_message(self.id, content)
    }

    /// An anonymous admin's reply to message `message_id` of the group.
    pub fn reply_anonymously(&self, message_id: i32, text: &str) -> Result<i32, FakeError> {
        let content = self.tg.shared().reply_content(self.id, message_id, text)?;
        self.tg.shared().anonymous_group_message(self.id, content)
    }

    /// `by` upgrades the group to a supergroup with id `new_id` (`-100…`): the bot gets the
    /// `migrate_to_chat_id` and `migrate_from_chat_id` messages, and sends to the old id
    /// fail with `migrate_to_chat_id` in their parameters. Returns the supergroup.
    pub fn upgrade_to_supergroup(&self, by: &TestUser, new_id: i64) -> Result<TestGroup, FakeError> {
        self.tg.shared().migrate_group(self.id, by.id, new_id)?;
        Ok(TestGroup { tg: self.tg.clone(), id: new_id })
    }

    /// A voice note from `from` in the group.
    pub fn send_voice(&self, from: &TestUser, file: &FileRef) -> Result<i32, FakeError> {
        let content = self.tg.shared().voice_content(&file.file_id, None)?;
        self.tg.shared().group_message(self.id, from.id, content)
    }

    /// A round video note from `from` in the group.
    pub fn send_video_note(&self, from: &TestUser, file: &FileRef) -> Result<i32, FakeError> {
        let content = self.tg.shared().video_note_content(&file.file_id)?;
        self.tg.shared().group_message(self.id, from.id, content)
    }

    /// A text from `from` replying to message `message_id` of the group.
    pub fn reply_to(&self, from: &TestUser, message_id: i32, text: &str) -> Result<i32, FakeError> {
        let content = self.tg.shared().reply_content(self.id, message_id, text)?;
        self.tg.shared().group_message(self.id, from.id, content)
    }

    /// Messages the bot sent to the group.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.tg.messages(self.id)
    }

    /// Waits until the bot has sent the group at least `n` messages.
    pub async fn wait_for_messages(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<SentMessage>, FakeError> {
        self.tg.wait_for_messages(self.id, n, timeout).await
    }
}

/// A Telegram user talking to the bot in a private chat.
#[derive(Clone, Debug)]
pub struct TestUser {
    tg: FakeTelegram,
    id: i64,
}

impl TestUser {
    /// User id, also the private chat id.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Private chat id (== user id).
    pub fn chat_id(&self) -> i64 {
        self.id
    }

    /// Sets the `@username`, which also makes `chat_id = "@username"` resolve.
    pub fn set_username(&self, username: Option<&str>) {
        self.tg.shared().set_username(self.id, username);
    }

    /// From now on send methods to this user fail with 403, as after the user blocks the bot.
    pub fn block_bot(&self) {
        self.tg.shared().set_blocked(self.id, true);
    }

    /// The user unblocks the bot.
    pub fn unblock_bot(&self) {
        self.tg.shared().set_blocked(self.id, false);
    }

    /// A text message; commands in it get `bot_command` entities like on Telegram.
    pub fn send_text(&self, text: &str) -> Result<i32, FakeError> {
        self.tg.shared().text_message(self.id, text)
    }

    /// A command such as `/start ref_abc`; a missing leading `/` is added.
    pub fn send_command(&self, command: &str) -> Result<i32, FakeError> {
        if command.starts_with('/') {
            self.send_text(command)
        } else {
            self.send_text(&format!("/{command}"))
        }
    }

    /// A voice note of a registered file; its duration comes from the file.
    pub fn send_voice(&self, file: &FileRef) -> Result<i32, FakeError> {
        self.tg.shared().voice_message(self.id, &file.file_id, None)
    }

    /// An audio file with title, performer and file name.
    pub fn send_audio(&self, file: &FileRef, meta: &AudioMeta) -> Result<i32, FakeError> {
        self.tg.shared().audio_message(self.id, &file.file_id, meta)
    }

    /// A round video note.
    pub fn send_video_note(&self, file: &FileRef) -> Result<i32, FakeError> {
        self.tg.shared().video_note_message(self.id, &file.file_id)
    }

    /// A video, optionally captioned.
    pub fn send_video(&self, file: &FileRef, caption: Option<&str>) -> Result<i32, FakeError> {
        self.tg.shared().video_message(self.id, &file.file_id, caption)
    }

    /// A document with a file name (MIME type from the registered file), optionally captioned.
    pub fn send_document(
        &self,
        file: &FileRef,
        file_name: &str,
        caption: Option<&str>,
    ) -> Result<i32, FakeError> {
        self.tg.shared().document_message(self.id, &file.file_id, file_name, caption)
    }

    /// A photo (a PhotoSize array whose largest entry is the registered file), optionally captioned.
    pub fn send_photo(&self, file: &FileRef, caption: Option<&str>) -> Result<i32, FakeError> {
        self.tg.shared().photo_message(self.id, &file.file_id, caption)
    }

    /// A text reply to a message in this chat (usually one the bot sent).
    pub fn reply_to(&self, message_id: i32, text: &str) -> Result<i32, FakeError> {
        self.tg.shared().reply_message(self.id, message_id, text)
    }

    /// Presses the inline button with this `callback_data` on a bot message; returns the query id.
    pub fn press_button(&self, message_id: i32, data: &str) -> Result<String, FakeError> {
        self.tg.shared().callback_query(self.id, message_id, data)
    }

    /// Presses the inline button labelled `text` on a bot message; returns the query id.
    pub fn press_button_labelled(&self, message_id: i32, text: &str) -> Result<String, FakeError> {
        let data = self
            .tg
            .message(self.id, message_id)
            .ok_or(FakeError::NoSuchMessage { chat_id: self.id, message_id })?
            .callback_data_of(text)
            .ok_or_else(|| FakeError::NoSuchButton { message_id, data: text.to_owned() })?;
        self.press_button(message_id, &data)
    }

    /// The user confirms payment; the bot must answer the returned query id.
    pub fn pre_checkout(
        &self,
        currency: &str,
        total_amount: u32,
        invoice_payload: &str,
    ) -> Result<String, FakeError> {
        self.tg.shared().pre_checkout_query(self.id, currency, total_amount, invoice_payload)
    }

    /// The payment went through: a `successful_payment` service message. Stars charges
    /// can then be refunded with `refundStarPayment`.
    pub fn pay(&self, payment: &Payment) -> Result<i32, FakeError> {
        self.tg.shared().successful_payment(self.id, payment)
    }

    /// Telegram refunds this user's Stars charge on its own (a complaint upheld): the bot
    /// learns of it from a `refunded_payment` service message only.
    pub fn refunded_by_telegram(&self, charge_id: &str) -> Result<i32, FakeError> {
        self.tg.shared().refund_by_telegram(charge_id)
    }

    /// The user pays a Stars subscription link: its first charge `charge_id`, with
    /// `is_recurring`, `is_first_recurring` and `subscription_expiration_date` one period on.
    pub fn subscribe(&self, invoice: &SentInvoice, charge_id: &str) -> Result<i32, FakeError> {
        self.tg.shared().subscribe(self.id, invoice, charge_id)
    }

    /// Telegram renews the subscription first charged as `first_charge` with charge
    /// `charge_id`, one period further; a `charge_id` it renewed with before is the same
    /// update again (Telegram repeats updates). Refused once the bot cancelled it.
    pub fn renew_subscription(&self, first_charge: &str, charge_id: &str) -> Result<i32, FakeError> {
        self.tg.shared().renew_subscription(first_charge, charge_id)
    }

    /// The user cancels (`canceled`), re-enables (`active`) in Telegram's settings the Stars
    /// subscription first charged as `first_charge`, or its renewal fails (`failed`): a
    /// `subscription` update, delivered only when the bot's `allowed_updates` names it.
    pub fn set_star_subscription(&self, first_charge: &str, state: &str) -> Result<i64, FakeError> {
        self.tg.shared().star_subscription_state(first_charge, state)
    }

    /// The payment went through but its `successful_payment` update never reached the bot
    /// (a crash, a lost webhook): only `getStarTransactions` tells of it.
    pub fn pay_unseen(&self, payment: &Payment) {
        self.tg.shared().charge(self.id, payment);
    }

    /// Messages the bot sent to this user.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.tg.messages(self.id)
    }

    /// The last message the bot sent to this user.
    pub fn last_message(&self) -> Option<SentMessage> {
        self.messages().pop()
    }

    /// Waits until the bot has sent this user at least `n` messages.
    pub async fn wait_for_messages(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<SentMessage>, FakeError> {
        self.tg.wait_for_messages(self.id, n, timeout).await
    }
}
