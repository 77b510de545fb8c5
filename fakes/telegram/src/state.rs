//! Everything the fake remembers, behind one mutex that is never held across an await.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};

use crate::ids;
use crate::model::{
    ApiCall, CallbackAnswer, ChatAction, Fault, PreCheckoutAnswer, SentFile, SentInvoice, SentMessage,
    StarRefund, WebhookAttempt,
};

/// Telegram's cap for `getFile` downloads through the public Bot API.
pub(crate) const DEFAULT_DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// Update kinds delivered when `allowed_updates` is an empty list.
const DEFAULT_EXCLUDED: [&str; 3] = ["chat_member", "message_reaction", "message_reaction_count"];

/// The bot's own identity, fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct BotIdentity {
    pub id: i64,
    pub first_name: String,
    pub username: String,
}

/// State shared by the server, the webhook sender and every handle.
pub(crate) struct Shared {
    pub token: String,
    pub bot: BotIdentity,
    state: Mutex<State>,
    /// Woken on anything a test may wait for: sent messages, answers, attempts.
    pub changed: Notify,
    /// Woken when the update queue or the webhook changes, and on a competing poll.
    pub updates_changed: Notify,
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn new(token: String, bot: BotIdentity, shutdown: watch::Receiver<bool>) -> Self {
        Self {
            token,
            bot,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            updates_changed: Notify::new(),
            shutdown,
        }
    }

    /// The state; a panic in another holder does not make it unusable for the rest of a test.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub(crate) fn bot_user_json(&self) -> Value {
        json!({
            "id": self.bot.id,
            "is_bot": true,
            "first_name": self.bot.first_name,
            "username": self.bot.username,
        })
    }

    pub(crate) fn notify_all(&self) {
        self.changed.notify_waiters();
        self.updates_changed.notify_waiters();
    }
}

#[derive(Debug, Clone)]
pub(crate) struct UserRecord {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub blocked_bot: bool,
}

impl UserRecord {
    pub(crate) fn user_json(&self) -> Value {
        let mut v = json!({ "id": self.id, "is_bot": false, "first_name": self.first_name });
        put_opt(&mut v, "last_name", self.last_name.as_deref());
        put_opt(&mut v, "username", self.username.as_deref());
        put_opt(&mut v, "language_code", self.language_code.as_deref());
        v
    }

    pub(crate) fn chat_json(&self) -> Value {
        let mut v = json!({ "id": self.id, "first_name": self.first_name });
        put_opt(&mut v, "last_name", self.last_name.as_deref());
        put_opt(&mut v, "username", self.username.as_deref());
        v["type"] = json!("private");
        v
    }
}

/// A group or supergroup, with the status of each member and of the bot.
#[derive(Debug, Clone)]
pub(crate) struct GroupRecord {
    pub id: i64,
    pub title: String,
    pub supergroup: bool,
    /// `creator`, `administrator`, `member`, `left` or `kicked`, by user id.
    pub members: HashMap<i64, String>,
    /// The bot's own status; `left` until someone adds it.
    pub bot_status: String,
    /// The supergroup this group became: sends to the old id then fail, naming the new one.
    pub migrated_to: Option<i64>,
}

impl GroupRecord {
    pub(crate) fn chat_json(&self) -> Value {
        json!({ "id": self.id, "title": self.title, "type": self.kind() })
    }

    /// `group` or `supergroup`, as `Chat.type` says.
    pub(crate) fn kind(&self) -> &'static str {
        if self.supergroup { "supergroup" } else { "group" }
    }

    pub(crate) fn bot_is_in(&self) -> bool {
        matches!(self.bot_status.as_str(), "member" | "administrator" | "creator")
    }

    pub(crate) fn status_of(&self, user_id: i64) -> &str {
        self.members.get(&user_id).map_or("left", String::as_str)
    }
}

pub(crate) fn put_opt(v: &mut Value, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        v[key] = json!(value);
    }
}

/// What the bot sent, beyond the wire JSON, for `SentMessage`.
#[derive(Debug, Clone, Default)]
pub(crate) struct BotMeta {
    pub text: Option<String>,
    pub caption: Option<String>,
    pub plain_text: Option<String>,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<Value>,
    pub reply_to_message_id: Option<i32>,
    pub link_preview_options: Option<Value>,
    pub document: Option<SentFile>,
    pub photo: Option<SentFile>,
    pub invoice: Option<Value>,
    pub edit_count: u32,
    /// `(chat, message)` of the original, for `copyMessage`.
    pub copied_from: Option<(i64, i32)>,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredMessage {
    pub id: i32,
    pub json: Value,
    pub deleted: bool,
    /// `Some` for messages the bot sent.
    pub bot: Option<BotMeta>,
}

#[derive(Debug, Default)]
pub(crate) struct ChatRecord {
    pub next_message_id: i32,
    pub chat_instance: String,
    pub messages: Vec<StoredMessage>,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub file_id: String,
    pub file_unique_id: String,
    pub bytes: Bytes,
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    pub duration: Option<u32>,
    pub path: Option<String>,
    /// A file already on the local server's disk (path and size), its bytes not in memory.
    pub on_disk: Option<(std::path::PathBuf, u64)>,
}

impl StoredFile {
    /// Size in bytes, as `file_size` reports it.
    pub(crate) fn size(&self) -> u64 {
        self.on_disk.as_ref().map_or(self.bytes.len() as u64, |(_, size)| *size)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct QueuedUpdate {
    pub id: i64,
    pub json: Value,
}

#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
    pub max_connections: u32,
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Charge {
    pub user_id: i64,
    pub refunded: bool,
}

/// A Stars subscription a user paid for through a subscription invoice link, named (as
/// `editUserStarSubscription` names it) by its first charge.
#[derive(Debug, Clone)]
pub(crate) struct StarSubscription {
    pub user_id: i64,
    pub payload: String,
    pub amount: u32,
    /// Seconds between charges.
    pub period: i64,
    /// Every charge so far and the expiration date it set, oldest first.
    pub charges: Vec<(String, i64)>,
    /// The bot cancelled its renewal (`editUserStarSubscription`).
    pub canceled_by_bot: bool,
    /// The user cancelled its renewal in Telegram's settings.
    pub canceled_by_user: bool,
}

/// One line of the bot's Stars history, as `getStarTransactions` lists it.
#[derive(Debug, Clone)]
pub(crate) struct StarLine {
    pub charge_id: String,
    pub user_id: i64,
    pub amount: u32,
    pub date: i64,
    /// `Some(payload)` for a payment to the bot, `None` for a refund to the user.
    pub invoice_payload: Option<String>,
}

pub(crate) struct State {
    pub users: HashMap<i64, UserRecord>,
    pub groups: HashMap<i64, GroupRecord>,
    /// Privacy mode (@BotFather `/setprivacy`): on, as for every new bot, until turned off.
    pub privacy_mode: bool,
    pub chats: HashMap<i64, ChatRecord>,
    pub files: HashMap<String, StoredFile>,
    pub file_paths: HashMap<String, String>,
    pub next_file_seq: u64,
    pub updates: VecDeque<QueuedUpdate>,
    pub next_update_id: i64,
    pub allowed_updates: Option<Vec<String>>,
    pub poll_generation: u64,
    pub webhook: Option<Webhook>,
    pub webhook_attempts: Vec<WebhookAttempt>,
    pub webhook_backoff: (Duration, Duration),
    pub pending_callback_queries: HashSet<String>,
    pub callback_answers: Vec<CallbackAnswer>,
    pub pending_pre_checkout: HashSet<String>,
    pub pre_checkout_answers: Vec<PreCheckoutAnswer>,
    pub invoices: Vec<SentInvoice>,
    pub charges: HashMap<String, Charge>,
    pub star_subscriptions: HashMap<String, StarSubscription>,
    pub star_refunds: Vec<StarRefund>,
    /// Every Stars payment and refund, oldest first.
    pub star_lines: Vec<StarLine>,
    pub chat_actions: Vec<ChatAction>,
    pub commands: BTreeMap<(String, String), Value>,
    pub calls: Vec<ApiCall>,
    pub faults: HashMap<String, VecDeque<Fault>>,
    pub download_limit: u64,
    /// `Some(dir)` when answering as `telegram-bot-api --local` with working directory `dir`.
    pub local_dir: Option<std::path::PathBuf>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            users: HashMap::new(),
            groups: HashMap::new(),
            privacy_mode: true,
            chats: HashMap::new(),
            files: HashMap::new(),
            file_paths: HashMap::new(),
            next_file_seq: 0,
            updates: VecDeque::new(),
            // Telegram starts bots at a large arbitrary update id.
            next_update_id: 100_000_001,
            allowed_updates: None,
            poll_generation: 0,
            webhook: None,
            webhook_attempts: Vec::new(),
            webhook_backoff: (Duration::from_millis(100), Duration::from_secs(2)),
            pending_callback_queries: HashSet::new(),
            callback_answers: Vec::new(),
            pending_pre_checkout: HashSet::new(),
            pre_checkout_answers: Vec::new(),
            invoices: Vec::new(),
            charges: HashMap::new(),
            star_subscriptions: HashMap::new(),
            star_refunds: Vec::new(),
            star_lines: Vec::new(),
            chat_actions: Vec::new(),
            commands: BTreeMap::new(),
            calls: Vec::new(),
            faults: HashMap::new(),
            download_limit: DEFAULT_DOWNLOAD_LIMIT,
            local_dir: None,
        }
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl State {
    pub(crate) fn chat_mut(&mut self, chat_id: i64) -> &mut ChatRecord {
        self.chats.entry(chat_id).or_insert_with(|| ChatRecord {
            next_message_id: 1,
            chat_instance: format!("-{}", ids::new_query_id()),
            messages: Vec::new(),
        })
    }

    pub(crate) fn next_message_id(&mut self, chat_id: i64) -> i32 {
        let chat = self.chat_mut(chat_id);
        let id = chat.next_message_id;
        chat.next_message_id += 1;
        id
    }

    pub(crate) fn message(&self, chat_id: i64, message_id: i32) -> Option<&StoredMessage> {
        self.chats.get(&chat_id)?.messages.iter().find(|m| m.id == message_id)
    }

    pub(crate) fn message_mut(&mut self, chat_id: i64, message_id: i32) -> Option<&mut StoredMessage> {
        self.chats.get_mut(&chat_id)?.messages.iter_mut().find(|m| m.id == message_id)
    }

    pub(crate) fn store_message(&mut self, chat_id: i64, message: StoredMessage) {
        self.chat_mut(chat_id).messages.push(message);
    }

    /// Registers content as a file Telegram knows and returns its id.
    pub(crate) fn add_file(
        &mut self,
        bytes: Bytes,
        mime_type: Option<String>,
        file_name: Option<String>,
        duration: Option<u32>,
        kind_tag: u8,
    ) -> StoredFile {
        let file = StoredFile {
            file_id: ids::new_file_id(kind_tag),
            file_unique_id: ids::unique_file_id(&bytes),
            bytes,
            mime_type,
            file_name,
            duration,
            path: None,
            on_disk: None,
        };
        self.files.insert(file.file_id.clone(), file.clone());
        file
    }

    /// Gives a file its download path on first `getFile`, as Telegram does. A `--local` server
    /// downloads the file into its working directory (`<dir>/<token>/<folder>/file_N.ext`) and
    /// answers that absolute path; a file already on its disk keeps the path it has.
    pub(crate) fn file_path(&mut self, file_id: &str, token: &str) -> Option<String> {
        self.next_file_seq += 1;
        let seq = self.next_file_seq;
        let local_dir = self.local_dir.clone();
        let file = self.files.get_mut(file_id)?;
        if let Some(path) = &file.path {
            return Some(path.clone());
        }
        if let Some((path, _)) = &file.on_disk {
            let path = path.to_string_lossy().into_owned();
            file.path = Some(path.clone());
            return Some(path);
        }
        let (folder, ext) = ids::path_parts(file.mime_type.as_deref(), file.file_name.as_deref());
        let path = format!("{folder}/file_{seq}.{ext}");
        let path = match local_dir {
            Some(dir) => {
                let folder = dir.join(token).join(folder);
                let local = folder.join(format!("file_{seq}.{ext}"));
                std::fs::create_dir_all(&folder).ok()?;
                std::fs::write(&local, &file.bytes).ok()?;
                local.to_string_lossy().into_owned()
            }
            None => path,
        };
        file.path = Some(path.clone());
        self.file_paths.insert(path.clone(), file_id.to_owned());
        Some(path)
    }

    /// Queues an update unless the bot's `allowed_updates` excludes its kind.
    pub(crate) fn push_update(&mut self, kind: &str, payload: Value) -> Option<i64> {
        let allowed = match &self.allowed_updates {
            Some(list) if !list.is_empty() => list.iter().any(|k| k == kind),
            _ => !DEFAULT_EXCLUDED.contains(&kind),
        };
        if !allowed {
            return None;
        }
        let id = self.next_update_id;
        self.next_update_id += 1;
        let mut json = Map::new();
        json.insert("update_id".to_owned(), json!(id));
        json.insert(kind.to_owned(), payload);
        self.updates.push_back(QueuedUpdate { id, json: Value::Object(json) });
        Some(id)
    }

    pub(crate) fn sent_message(&self, chat_id: i64, message: &StoredMessage) -> Option<SentMessage> {
        let meta = message.bot.as_ref()?;
        Some(SentMessage {
            chat_id,
            message_id: message.id,
            text: meta.text.clone(),
            caption: meta.caption.clone(),
            plain_text: meta.plain_text.clone(),
            parse_mode: meta.parse_mode.clone(),
            reply_markup: meta.reply_markup.clone(),
            reply_to_message_id: meta.reply_to_message_id,
            link_preview_options: meta.link_preview_options.clone(),
            document: meta.document.clone(),
            photo: meta.photo.clone(),
            invoice: meta.invoice.clone(),
            copied_from: meta.copied_from,
            deleted: message.deleted,
            edit_count: meta.edit_count,
            raw: message.json.clone(),
        })
    }

    pub(crate) fn sent_messages(&self, chat_id: i64) -> Vec<SentMessage> {
        self.chats
            .get(&chat_id)
            .map(|c| c.messages.iter().filter_map(|m| self.sent_message(chat_id, m)).collect())
            .unwrap_or_default()
    }

    /// Takes the next injected fault for a method, if any.
    pub(crate) fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let queue = self.faults.get_mut(&method.to_ascii_lowercase())?;
        queue.pop_front()
    }
}
