//! Updates a user's actions produce, shaped like the real server's.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::FakeError;

/// The placeholder user Telegram puts in `from` of an anonymous admin's message.
const GROUP_ANONYMOUS_BOT: i64 = 1_087_968_824;
use crate::api::{document_json, photo_sizes};
use crate::ids;
use crate::model::{AudioMeta, FileRef, Payment, SentInvoice};
use std::collections::HashMap;

use crate::state::{
    Charge, GroupRecord, Shared, StarLine, StarSubscription, StoredFile, StoredMessage, UserRecord, put_opt,
    unix_now,
};

impl Shared {
    /// Registers a user, or updates the name and language of a known one.
    pub(crate) fn upsert_user(&self, id: i64, first_name: &str, language_code: Option<&str>) {
        let mut st = self.lock();
        let user = st.users.entry(id).or_insert_with(|| UserRecord {
            id,
            first_name: first_name.to_owned(),
            last_name: None,
            username: None,
            language_code: None,
            blocked_bot: false,
        });
        user.first_name = first_name.to_owned();
        user.language_code = language_code.map(str::to_owned);
    }

    pub(crate) fn set_username(&self, id: i64, username: Option<&str>) {
        if let Some(user) = self.lock().users.get_mut(&id) {
            user.username = username.map(str::to_owned);
        }
    }

    pub(crate) fn set_blocked(&self, id: i64, blocked: bool) {
        if let Some(user) = self.lock().users.get_mut(&id) {
            user.blocked_bot = blocked;
        }
    }

    pub(crate) fn register_file(&self, bytes: Bytes, mime: &str, duration_secs: Option<u32>) -> FileRef {
        let file = self.lock().add_file(bytes, Some(mime.to_owned()), None, duration_secs, 7);
        file_ref(&file)
    }

    pub(crate) fn file(&self, file_id: &str) -> Result<StoredFile, FakeError> {
        self.lock().files.get(file_id).cloned().ok_or_else(|| FakeError::UnknownFile(file_id.to_owned()))
    }

    pub(crate) fn user_record(&self, user_id: i64) -> Result<UserRecord, FakeError> {
        self.lock().users.get(&user_id).cloned().ok_or(FakeError::UnknownUser(user_id))
    }

    /// A message from the user in their private chat, queued as a `message` update.
    pub(crate) fn user_message(&self, user_id: i64, content: Map<String, Value>) -> Result<i32, FakeError> {
        let user = self.user_record(user_id)?;
        let id = {
            let mut st = self.lock();
            let id = st.next_message_id(user_id);
            let mut m = Map::new();
            m.insert("message_id".into(), json!(id));
            m.insert("from".into(), user.user_json());
            m.insert("chat".into(), user.chat_json());
            m.insert("date".into(), json!(unix_now()));
            m.extend(content);
            let json = Value::Object(m);
            st.store_message(user_id, StoredMessage { id, json: json.clone(), deleted: false, bot: None });
            st.push_update("message", json);
            id
        };
        self.notify_all();
        Ok(id)
    }

    pub(crate) fn text_message(&self, user_id: i64, text: &str) -> Result<i32, FakeError> {
        self.user_message(user_id, text_content(text, &self.bot.username))
    }

    pub(crate) fn reply_message(
        &self,
        user_id: i64,
        to_message_id: i32,
        text: &str,
    ) -> Result<i32, FakeError> {
        let content = self.reply_content(user_id, to_message_id, text)?;
        self.user_message(user_id, content)
    }

    /// A text replying to message `to_message_id` of chat `chat_id` (quoted one level deep).
    pub(crate) fn reply_content(
        &self,
        chat_id: i64,
        to_message_id: i32,
        text: &str,
    ) -> Result<Map<String, Value>, FakeError> {
        let replied = {
            let st = self.lock();
            let m = st
                .message(chat_id, to_message_id)
                .filter(|m| !m.deleted)
                .ok_or(FakeError::NoSuchMessage { chat_id, message_id: to_message_id })?;
            let mut json = m.json.clone();
            if let Some(obj) = json.as_object_mut() {
                obj.remove("reply_to_message");
            }
            json
        };
        let mut content = text_content(text, &self.bot.username);
        content.insert("reply_to_message".into(), replied);
        Ok(content)
    }

    pub(crate) fn voice_message(
        &self,
        user_id: i64,
        file_id: &str,
        duration: Option<u32>,
    ) -> Result<i32, FakeError> {
        let content = self.voice_content(file_id, duration)?;
        self.user_message(user_id, content)
    }

    pub(crate) fn voice_content(
        &self,
        file_id: &str,
        duration: Option<u32>,
    ) -> Result<Map<String, Value>, FakeError> {
        let file = self.file(file_id)?;
        let mut voice = media_json(&file);
        voice["duration"] = json!(duration.or(file.duration).unwrap_or(1));
        voice["mime_type"] = json!(file.mime_type.as_deref().unwrap_or("audio/ogg"));
        Ok(one("voice", voice))
    }

    pub(crate) fn text_content(&self, text: &str) -> Map<String, Value> {
        text_content(text, &self.bot.username)
    }

    /// Creates a group (or supergroup) the bot is not in yet.
    pub(crate) fn add_group(&self, id: i64, title: &str, supergroup: bool) {
        self.lock().groups.entry(id).or_insert_with(|| GroupRecord {
            id,
            title: title.to_owned(),
            supergroup,
            members: HashMap::new(),
            bot_status: "left".to_owned(),
            migrated_to: None,
        });
    }

    /// `by` upgrades a group to the supergroup `new_id`, as Telegram does when a group
    /// grows or changes settings: members and the bot move over, the old group ends with a
    /// `migrate_to_chat_id` message and the supergroup starts with `migrate_from_chat_id`.
    pub(crate) fn migrate_group(&self, group_id: i64, by: i64, new_id: i64) -> Result<(), FakeError> {
        {
            let mut st = self.lock();
            let old = st.groups.get_mut(&group_id).ok_or(FakeError::UnknownChat(group_id))?;
            let mut supergroup = old.clone();
            supergroup.id = new_id;
            supergroup.supergroup = true;
            st.groups.insert(new_id, supergroup);
        }
        self.group_message(group_id, by, one("migrate_to_chat_id", json!(new_id)))?;
        if let Some(old) = self.lock().groups.get_mut(&group_id) {
            old.migrated_to = Some(new_id);
        }
        self.group_message(new_id, by, one("migrate_from_chat_id", json!(group_id)))?;
        Ok(())
    }

    /// A message an anonymous admin posts in a group: Telegram shows the group as its
    /// sender (`sender_chat`) and puts its placeholder bot in `from`.
    pub(crate) fn anonymous_group_message(
        &self,
        group_id: i64,
        content: Map<String, Value>,
    ) -> Result<i32, FakeError> {
        let from = json!({
            "id": GROUP_ANONYMOUS_BOT,
            "is_bot": true,
            "first_name": "Group",
            "username": "GroupAnonymousBot",
        });
        self.post_in_group(group_id, from, true, content)
    }

    /// Sets a user's status in a group (`creator`, `administrator`, `member`, `left`, `kicked`).
    pub(crate) fn set_member(&self, group_id: i64, user_id: i64, status: &str) -> Result<(), FakeError> {
        self.user_record(user_id)?;
        let mut st = self.lock();
        let group = st.groups.get_mut(&group_id).ok_or(FakeError::UnknownChat(group_id))?;
        group.members.insert(user_id, status.to_owned());
        Ok(())
    }

    /// `by` changes the bot's status in a group: a `my_chat_member` update, and, when the
    /// bot joins or leaves, the service message everyone in the group sees.
    pub(crate) fn set_bot_status(&self, group_id: i64, by: i64, status: &str) -> Result<(), FakeError> {
        let adder = self.user_record(by)?;
        {
            let mut st = self.lock();
            let group = st.groups.get_mut(&group_id).ok_or(FakeError::UnknownChat(group_id))?;
            let old = std::mem::replace(&mut group.bot_status, status.to_owned());
            let was_in = matches!(old.as_str(), "member" | "administrator" | "creator");
            let chat = group.chat_json();
            let bot = self.bot_user_json();
            let change = json!({
                "chat": chat,
                "from": adder.user_json(),
                "date": unix_now(),
                "old_chat_member": crate::api::chat_member_json(&old, bot.clone()),
                "new_chat_member": crate::api::chat_member_json(status, bot.clone()),
            });
            st.push_update("my_chat_member", change);
            let is_in = st.groups.get(&group_id).is_some_and(GroupRecord::bot_is_in);
            if was_in != is_in {
                let mut content = Map::new();
                if is_in {
                    content.insert("new_chat_members".into(), json!([bot]));
                } else {
                    content.insert("left_chat_member".into(), bot);
                }
                drop(st);
                self.group_message(group_id, by, content)?;
            }
        }
        self.notify_all();
        Ok(())
    }

    /// A message from a member in a group, stored there and delivered to the bot when it
    /// is in the group and its privacy mode lets it see the message.
    pub(crate) fn group_message(
        &self,
        group_id: i64,
        user_id: i64,
        content: Map<String, Value>,
    ) -> Result<i32, FakeError> {
        let user = self.user_record(user_id)?;
        self.post_in_group(group_id, user.user_json(), false, content)
    }

    /// Stores a message `from` someone in a group (the group itself as `sender_chat` when
    /// `as_group`) and delivers it to the bot when it is in the group and may see it.
    fn post_in_group(
        &self,
        group_id: i64,
        from: Value,
        as_group: bool,
        content: Map<String, Value>,
    ) -> Result<i32, FakeError> {
        let id = {
            let mut st = self.lock();
            let group = st.groups.get(&group_id).cloned().ok_or(FakeError::UnknownChat(group_id))?;
            let id = st.next_message_id(group_id);
            let mut m = Map::new();
            m.insert("message_id".into(), json!(id));
            m.insert("from".into(), from);
            if as_group {
                m.insert("sender_chat".into(), group.chat_json());
            }
            m.insert("chat".into(), group.chat_json());
            m.insert("date".into(), json!(unix_now()));
            m.extend(content);
            let json = Value::Object(m);
            st.store_message(group_id, StoredMessage { id, json: json.clone(), deleted: false, bot: None });
            let sees = group.bot_is_in()
                && (!st.privacy_mode || group.bot_status != "member" || self.meant_for_bot(&json));
            if sees {
                st.push_update("message", json);
            }
            id
        };
        self.notify_all();
        Ok(id)
    }

    /// What a bot in privacy mode receives from a group: commands (without a bot's name or
    /// with its own), replies to its messages, messages that mention it, and service messages.
    fn meant_for_bot(&self, message: &Value) -> bool {
        const SERVICE: [&str; 5] = [
            "new_chat_members",
            "left_chat_member",
            "group_chat_created",
            "migrate_to_chat_id",
            "migrate_from_chat_id",
        ];
        if SERVICE.iter().any(|key| message.get(key).is_some()) {
            return true;
        }
        if message.pointer("/reply_to_message/from/id").and_then(Value::as_i64) == Some(self.bot.id) {
            return true;
        }
        let text =
            message.get("text").or_else(|| message.get("caption")).and_then(Value::as_str).unwrap_or("");
        let mention = format!("@{}", self.bot.username.to_ascii_lowercase());
        if text.to_ascii_lowercase().contains(&mention) {
            return true;
        }
        let first = text.split_whitespace().next().unwrap_or("");
        first.starts_with('/') && !first.contains('@')
    }

    pub(crate) fn audio_message(
        &self,
        user_id: i64,
        file_id: &str,
        meta: &AudioMeta,
    ) -> Result<i32, FakeError> {
        let file = self.remember_name(file_id, meta.file_name.as_deref())?;
        let mut audio = media_json(&file);
        audio["duration"] = json!(file.duration.unwrap_or(1));
        put_opt(&mut audio, "performer", meta.performer.as_deref());
        put_opt(&mut audio, "title", meta.title.as_deref());
        put_opt(&mut audio, "file_name", meta.file_name.as_deref());
        put_opt(&mut audio, "mime_type", file.mime_type.as_deref());
        self.user_message(user_id, one("audio", audio))
    }

    pub(crate) fn video_note_message(&self, user_id: i64, file_id: &str) -> Result<i32, FakeError> {
        let content = self.video_note_content(file_id)?;
        self.user_message(user_id, content)
    }

    pub(crate) fn video_note_content(&self, file_id: &str) -> Result<Map<String, Value>, FakeError> {
        let file = self.file(file_id)?;
        let mut note = media_json(&file);
        note["duration"] = json!(file.duration.unwrap_or(1));
        note["length"] = json!(384);
        Ok(one("video_note", note))
    }

    pub(crate) fn video_message(
        &self,
        user_id: i64,
        file_id: &str,
        caption: Option<&str>,
    ) -> Result<i32, FakeError> {
        let file = self.file(file_id)?;
        let mut video = media_json(&file);
        video["duration"] = json!(file.duration.unwrap_or(1));
        video["width"] = json!(1280);
        video["height"] = json!(720);
        put_opt(&mut video, "mime_type", file.mime_type.as_deref());
        let mut content = one("video", video);
        add_caption(&mut content, caption);
        self.user_message(user_id, content)
    }

    pub(crate) fn document_message(
        &self,
        user_id: i64,
        file_id: &str,
        file_name: &str,
        caption: Option<&str>,
    ) -> Result<i32, FakeError> {
        let file = self.remember_name(file_id, Some(file_name))?;
        let mut doc = document_json(&file);
        doc["file_name"] = json!(file_name);
        let mut content = one("document", doc);
        add_caption(&mut content, caption);
        self.user_message(user_id, content)
    }

    pub(crate) fn photo_message(
        &self,
        user_id: i64,
        file_id: &str,
        caption: Option<&str>,
    ) -> Result<i32, FakeError> {
        let file = self.file(file_id)?;
        let (w, h) = ids::image_dimensions(&file.bytes).unwrap_or((1280, 960));
        let (sizes, _) = photo_sizes(&mut self.lock(), file.bytes.clone(), w, h, Some(file));
        let mut content = one("photo", json!(sizes));
        add_caption(&mut content, caption);
        self.user_message(user_id, content)
    }

    pub(crate) fn successful_payment(&self, user_id: i64, payment: &Payment) -> Result<i32, FakeError> {
        self.charge(user_id, payment);
        self.user_message(user_id, one("successful_payment", payment_body(payment)))
    }

    /// The first charge of a Stars subscription link: registers the subscription and sends
    /// its `successful_payment`.
    pub(crate) fn subscribe(
        &self,
        user_id: i64,
        invoice: &SentInvoice,
        charge_id: &str,
    ) -> Result<i32, FakeError> {
        let period = invoice
            .params
            .get("subscription_period")
            .and_then(|p| p.as_i64().or_else(|| p.as_str().and_then(|s| s.parse().ok())))
            .ok_or_else(|| FakeError::NotASubscription(invoice.payload.clone()))?;
        let expires = unix_now() + period;
        self.lock().star_subscriptions.insert(
            charge_id.to_owned(),
            StarSubscription {
                user_id,
                payload: invoice.payload.clone(),
                amount: invoice.total_amount,
                period,
                charges: vec![(charge_id.to_owned(), expires)],
                canceled_by_bot: false,
                canceled_by_user: false,
            },
        );
        self.subscription_payment(user_id, charge_id, &invoice.payload, invoice.total_amount, expires, true)
    }

    /// A renewal of the subscription first charged as `first_charge`; a charge id used
    /// before repeats that renewal's update as it was.
    pub(crate) fn renew_subscription(&self, first_charge: &str, charge_id: &str) -> Result<i32, FakeError> {
        let (user_id, payload, amount, expires) = {
            let mut st = self.lock();
            let sub = st
                .star_subscriptions
                .get_mut(first_charge)
                .ok_or_else(|| FakeError::NoSuchCharge(first_charge.to_owned()))?;
            let expires = match sub.charges.iter().find(|(charge, _)| charge == charge_id) {
                Some((_, expires)) => *expires,
                None => {
                    if sub.canceled_by_bot || sub.canceled_by_user {
                        return Err(FakeError::SubscriptionCanceled(first_charge.to_owned()));
                    }
                    let last = sub.charges.last().map_or_else(unix_now, |(_, expires)| *expires);
                    let expires = last + sub.period;
                    sub.charges.push((charge_id.to_owned(), expires));
                    expires
                }
            };
            (sub.user_id, sub.payload.clone(), sub.amount, expires)
        };
        self.subscription_payment(user_id, charge_id, &payload, amount, expires, false)
    }

    /// The user changes the subscription first charged as `first_charge` in Telegram:
    /// `canceled` stops its renewal, `active` re-enables it, `failed` is a renewal the
    /// user's balance could not pay. Sent as a `subscription` update (`BotSubscriptionUpdated`).
    pub(crate) fn star_subscription_state(&self, first_charge: &str, state: &str) -> Result<i64, FakeError> {
        let (user_id, payload) = {
            let mut st = self.lock();
            let sub = st
                .star_subscriptions
                .get_mut(first_charge)
                .ok_or_else(|| FakeError::NoSuchCharge(first_charge.to_owned()))?;
            match state {
                "canceled" | "failed" => sub.canceled_by_user = true,
                _ => sub.canceled_by_user = false,
            }
            (sub.user_id, sub.payload.clone())
        };
        let user = self.user_record(user_id)?;
        let body = json!({ "user": user.user_json(), "invoice_payload": payload, "state": state });
        let id = self.lock().push_update("subscription", body);
        self.notify_all();
        id.ok_or_else(|| FakeError::NotAllowed("subscription".to_owned()))
    }

    fn subscription_payment(
        &self,
        user_id: i64,
        charge_id: &str,
        payload: &str,
        amount: u32,
        expires: i64,
        first: bool,
    ) -> Result<i32, FakeError> {
        let payment = Payment {
            currency: "XTR".to_owned(),
            total_amount: amount,
            invoice_payload: payload.to_owned(),
            telegram_payment_charge_id: charge_id.to_owned(),
            provider_payment_charge_id: String::new(),
        };
        let mut body = payment_body(&payment);
        body["subscription_expiration_date"] = json!(expires);
        body["is_recurring"] = json!(true);
        if first {
            body["is_first_recurring"] = json!(true);
        }
        if !self.lock().charges.contains_key(charge_id) {
            self.charge(user_id, &payment);
        }
        self.user_message(user_id, one("successful_payment", body))
    }

    /// Telegram's service message that Stars charge `charge_id` was refunded, in the payer's
    /// chat: sent for every refund, the bot's own (`refundStarPayment`) included.
    pub(crate) fn refunded_payment(&self, charge_id: &str) -> Result<i32, FakeError> {
        let (user_id, body) = {
            let st = self.lock();
            let charge =
                st.charges.get(charge_id).ok_or_else(|| FakeError::NoSuchCharge(charge_id.to_owned()))?;
            let paid = st.star_lines.iter().find(|l| l.charge_id == charge_id && l.invoice_payload.is_some());
            let body = json!({
                "currency": "XTR",
                "total_amount": paid.map_or(0, |l| l.amount),
                "invoice_payload": paid.and_then(|l| l.invoice_payload.clone()).unwrap_or_default(),
                "telegram_payment_charge_id": charge_id,
            });
            (charge.user_id, body)
        };
        self.user_message(user_id, one("refunded_payment", body))
    }

    /// Telegram refunds a Stars charge on its own (a complaint upheld): the Stars go back and the
    /// bot learns of it only from the service message.
    pub(crate) fn refund_by_telegram(&self, charge_id: &str) -> Result<i32, FakeError> {
        {
            let mut st = self.lock();
            let charge =
                st.charges.get_mut(charge_id).ok_or_else(|| FakeError::NoSuchCharge(charge_id.to_owned()))?;
            charge.refunded = true;
        }
        self.refunded_payment(charge_id)
    }

    /// Takes the payment: Stars charges can be refunded and appear in `getStarTransactions`.
    pub(crate) fn charge(&self, user_id: i64, payment: &Payment) {
        if payment.currency == "XTR" {
            let mut st = self.lock();
            st.charges
                .insert(payment.telegram_payment_charge_id.clone(), Charge { user_id, refunded: false });
            st.star_lines.push(StarLine {
                charge_id: payment.telegram_payment_charge_id.clone(),
                user_id,
                amount: payment.total_amount,
                date: unix_now(),
                invoice_payload: Some(payment.invoice_payload.clone()),
            });
        }
    }

    /// A press on a callback button of a bot message; only buttons the message has can be pressed.
    pub(crate) fn callback_query(
        &self,
        user_id: i64,
        message_id: i32,
        data: &str,
    ) -> Result<String, FakeError> {
        let user = self.user_record(user_id)?;
        let id = ids::new_query_id();
        {
            let mut st = self.lock();
            let missing = FakeError::NoSuchMessage { chat_id: user_id, message_id };
            let message = st.message(user_id, message_id).filter(|m| !m.deleted).ok_or(missing)?;
            let has_button =
                message.json.pointer("/reply_markup/inline_keyboard").and_then(Value::as_array).is_some_and(
                    |rows| {
                        rows.iter().filter_map(Value::as_array).flatten().any(|b| b["callback_data"] == data)
                    },
                );
            if !has_button {
                return Err(FakeError::NoSuchButton { message_id, data: data.to_owned() });
            }
            let message_json = message.json.clone();
            let chat_instance = st.chat_mut(user_id).chat_instance.clone();
            let query = json!({
                "id": id,
                "from": user.user_json(),
                "message": message_json,
                "chat_instance": chat_instance,
                "data": data,
            });
            st.pending_callback_queries.insert(id.clone());
            st.push_update("callback_query", query);
        }
        self.notify_all();
        Ok(id)
    }

    pub(crate) fn pre_checkout_query(
        &self,
        user_id: i64,
        currency: &str,
        total_amount: u32,
        invoice_payload: &str,
    ) -> Result<String, FakeError> {
        let user = self.user_record(user_id)?;
        let id = ids::new_query_id();
        {
            let mut st = self.lock();
            let query = json!({
                "id": id,
                "from": user.user_json(),
                "currency": currency,
                "total_amount": total_amount,
                "invoice_payload": invoice_payload,
            });
            st.pending_pre_checkout.insert(id.clone());
            st.push_update("pre_checkout_query", query);
        }
        self.notify_all();
        Ok(id)
    }

    /// Gives a registered file the name it is sent under, so `getFile` paths get its extension.
    fn remember_name(&self, file_id: &str, name: Option<&str>) -> Result<StoredFile, FakeError> {
        let mut st = self.lock();
        let file = st.files.get_mut(file_id).ok_or_else(|| FakeError::UnknownFile(file_id.to_owned()))?;
        if file.file_name.is_none() {
            file.file_name = name.map(str::to_owned);
        }
        Ok(file.clone())
    }
}

pub(crate) fn file_ref(file: &StoredFile) -> FileRef {
    FileRef {
        file_id: file.file_id.clone(),
        file_unique_id: file.file_unique_id.clone(),
        size: file.size(),
        mime_type: file.mime_type.clone().unwrap_or_default(),
        duration_secs: file.duration,
    }
}

fn one(key: &str, value: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(key.to_owned(), value);
    m
}

fn media_json(file: &StoredFile) -> Value {
    json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.size(),
    })
}

fn add_caption(content: &mut Map<String, Value>, caption: Option<&str>) {
    if let Some(caption) = caption.filter(|c| !c.is_empty()) {
        content.insert("caption".into(), json!(caption));
    }
}

/// Text plus the `bot_command` entities Telegram's clients mark in it.
fn text_content(text: &str, bot_username: &str) -> Map<String, Value> {
    let mut content = one("text", json!(text));
    let entities = command_entities(text, bot_username);
    if !entities.is_empty() {
        content.insert("entities".into(), json!(entities));
    }
    content
}

fn command_entities(text: &str, bot_username: &str) -> Vec<Value> {
    let mut entities = Vec::new();
    let mut offset16 = 0usize;
    let mut prev_space = true;
    for (at, c) in text.char_indices() {
        if c == '/' && prev_space {
            let rest = &text[at + 1..];
            let name_len =
                rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).unwrap_or(rest.len());
            if (1..=32).contains(&name_len) {
                let mut len = 1 + name_len;
                let after = &rest[name_len..];
                if let Some(mention) = after.strip_prefix('@') {
                    let user_len = mention
                        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                        .unwrap_or(mention.len());
                    if user_len > 0 && mention[..user_len].eq_ignore_ascii_case(bot_username) {
                        len += 1 + user_len;
                    }
                }
                // Commands are ASCII, so bytes and UTF-16 units agree inside one.
                entities.push(json!({ "offset": offset16, "length": len, "type": "bot_command" }));
            }
        }
        prev_space = c.is_whitespace();
        offset16 += c.len_utf16();
    }
    entities
}

/// A `successful_payment` object for `payment`.
fn payment_body(payment: &Payment) -> Value {
    json!({
        "currency": payment.currency,
        "total_amount": payment.total_amount,
        "invoice_payload": payment.invoice_payload,
        "telegram_payment_charge_id": payment.telegram_payment_charge_id,
        "provider_payment_charge_id": payment.provider_payment_charge_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_marked_with_utf16_offsets() {
        let e = command_entities("/start ref_abc", "my_bot");
        assert_eq!(e, vec![json!({ "offset": 0, "length": 6, "type": "bot_command" })]);
        let e = command_entities("😀 /help@my_bot x/no", "my_bot");
        assert_eq!(e, vec![json!({ "offset": 3, "length": 12, "type": "bot_command" })]);
    }
}
