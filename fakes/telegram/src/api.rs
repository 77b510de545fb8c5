//! The Bot API itself: routing, the response envelope, fault injection and every method.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Request, State as AxumState};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::ids;
use crate::markup::{self, utf16_len};
use crate::model::{
    ApiCall, CallbackAnswer, ChatAction, Fault, PreCheckoutAnswer, SentFile, SentInvoice, StarRefund,
};
use crate::params::{Params, Upload};
use crate::state::{BotMeta, Shared, StarLine, State, StoredMessage, Webhook, put_opt, unix_now};

const MAX_TEXT: usize = 4096;
const MAX_CAPTION: usize = 1024;
/// Telegram's upload cap for bots using the public Bot API.
const MAX_UPLOAD: usize = 50 * 1024 * 1024;
const CHAT_ACTIONS: [&str; 11] = [
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];
const INVALID_QUERY: &str = "query is too old and response timeout expired or query ID is invalid";

/// A failed Bot API call: status, Telegram's description, and `retry_after` for 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u32>,
    /// The supergroup a group became, for sends to the group's old id.
    pub migrate_to_chat_id: Option<i64>,
}

impl ApiError {
    pub(crate) fn new(code: u16, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), retry_after: None, migrate_to_chat_id: None }
    }

    pub(crate) fn bad(detail: impl std::fmt::Display) -> Self {
        Self::new(400, format!("Bad Request: {detail}"))
    }

    /// An error whose full description was already built (markup errors).
    fn bad_full(description: String) -> Self {
        Self::new(400, description)
    }

    pub(crate) fn too_large() -> Self {
        Self::new(413, "Request Entity Too Large")
    }

    fn not_found() -> Self {
        Self::new(404, "Not Found")
    }

    fn chat_not_found() -> Self {
        Self::bad("chat not found")
    }

    fn retry_after(secs: u32) -> Self {
        Self {
            code: 429,
            description: format!("Too Many Requests: retry after {secs}"),
            retry_after: Some(secs),
            migrate_to_chat_id: None,
        }
    }
}

fn envelope(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(value) => (StatusCode::OK, Json(json!({ "ok": true, "result": value }))).into_response(),
        Err(err) => {
            let mut body = json!({ "ok": false, "error_code": err.code, "description": err.description });
            if let Some(secs) = err.retry_after {
                body["parameters"] = json!({ "retry_after": secs });
            }
            if let Some(id) = err.migrate_to_chat_id {
                body["parameters"] = json!({ "migrate_to_chat_id": id });
            }
            let status = StatusCode::from_u16(err.code).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Json(body)).into_response()
        }
    }
}

/// `GET|POST /bot<token>/<method>`.
pub(crate) async fn bot_method(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path((bot_token, method)): Path<(String, String)>,
    req: Request,
) -> Response {
    let Some(token) = bot_token.strip_prefix("bot") else {
        return envelope(Err(ApiError::not_found()));
    };
    if token != shared.token {
        return envelope(Err(ApiError::new(401, "Unauthorized")));
    }
    let params = match Params::from_request(req).await {
        Ok(params) => params,
        Err(err) => return envelope(Err(err)),
    };
    let call_index = {
        let mut st = shared.lock();
        st.calls.push(ApiCall {
            method: method.clone(),
            params: params.recorded(),
            status: 0,
            arrived: std::time::Instant::now(),
        });
        st.calls.len() - 1
    };
    // A test may wait for a call to arrive (one the fake then holds back, say).
    shared.changed.notify_waiters();
    let fault = shared.lock().take_fault(&method);
    let result = match fault {
        Some(Fault::RetryAfter(secs)) => Err(ApiError::retry_after(secs)),
        Some(Fault::ServerError) => Err(ApiError::new(500, "Internal Server Error")),
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            dispatch(&shared, &method, &params).await
        }
        None => dispatch(&shared, &method, &params).await,
    };
    let status = result.as_ref().map_or_else(|e| e.code, |_| 200);
    if let Some(call) = shared.lock().calls.get_mut(call_index) {
        call.status = status;
    }
    shared.changed.notify_waiters();
    envelope(result)
}

/// `GET /file/bot<token>/<file_path>`.
pub(crate) async fn download(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path((bot_token, path)): Path<(String, String)>,
) -> Response {
    if bot_token.strip_prefix("bot") != Some(shared.token.as_str()) {
        return envelope(Err(ApiError::new(401, "Unauthorized")));
    }
    let st = shared.lock();
    let file = st.file_paths.get(path.trim_start_matches('/')).and_then(|id| st.files.get(id));
    match file {
        Some(file) => {
            let mime = file.mime_type.clone().unwrap_or_else(|| "application/octet-stream".to_owned());
            ([(CONTENT_TYPE, mime)], file.bytes.clone()).into_response()
        }
        None => envelope(Err(ApiError::not_found())),
    }
}

/// Anything that is neither a method nor a file.
pub(crate) async fn not_found() -> Response {
    envelope(Err(ApiError::not_found()))
}

async fn dispatch(shared: &Shared, method: &str, p: &Params) -> Result<Value, ApiError> {
    let method = method.to_ascii_lowercase();
    if method == "getupdates" {
        return get_updates(shared, p).await;
    }
    let result = {
        let mut st = shared.lock();
        let st = &mut *st;
        match method.as_str() {
            "getme" => Ok(get_me(shared, st)),
            "logout" | "close" => Ok(json!(true)),
            "setwebhook" => set_webhook(st, p),
            "deletewebhook" => {
                st.webhook = None;
                if p.bool("drop_pending_updates") {
                    st.updates.clear();
                }
                Ok(json!(true))
            }
            "getwebhookinfo" => Ok(webhook_info(st)),
            "sendmessage" => send_message(shared, st, p),
            "editmessagetext" => edit_message_text(st, p),
            "editmessagecaption" => edit_message_caption(st, p),
            "editmessagereplymarkup" => edit_reply_markup(st, p),
            "deletemessage" => delete_message(st, p),
            "sendchataction" => send_chat_action(st, p),
            "senddocument" => send_document(shared, st, p),
            "sendphoto" => send_photo(shared, st, p),
            "copymessage" => copy_message(shared, st, p),
            "getfile" => get_file(st, p, &shared.token),
            "getchatmember" => get_chat_member(shared, st, p),
            "answercallbackquery" => answer_callback_query(st, p),
            "setmycommands" => set_my_commands(st, p),
            "getmycommands" => {
                let key = commands_key(p)?;
                Ok(st.commands.get(&key).cloned().unwrap_or_else(|| json!([])))
            }
            "deletemycommands" => {
                let key = commands_key(p)?;
                st.commands.remove(&key);
                Ok(json!(true))
            }
            "sendinvoice" => send_invoice(shared, st, p),
            "createinvoicelink" => create_invoice_link(st, p),
            "answerprecheckoutquery" => answer_pre_checkout(st, p),
            "refundstarpayment" => refund_star_payment(st, p),
            "edituserstarsubscription" => edit_user_star_subscription(st, p),
            "getstartransactions" => get_star_transactions(st, p),
            // Settings a bot makes at start-up; kept only as calls.
            "setmydescription"
            | "setmyshortdescription"
            | "setmyname"
            | "setchatmenubutton"
            | "setmydefaultadministratorrights" => Ok(json!(true)),
            _ => Err(ApiError::not_found()),
        }
    };
    if result.is_ok() && method == "refundstarpayment" {
        // Telegram tells the bot of every refund, its own included, in the payer's chat.
        if let Some(charge) = p.str("telegram_payment_charge_id") {
            let _ = shared.refunded_payment(&charge);
        }
    }
    if result.is_ok() && matches!(method.as_str(), "setwebhook" | "deletewebhook") {
        shared.updates_changed.notify_waiters();
    }
    result
}

fn get_me(shared: &Shared, st: &State) -> Value {
    let mut me = shared.bot_user_json();
    me["can_join_groups"] = json!(true);
    me["can_read_all_group_messages"] = json!(!st.privacy_mode);
    me["supports_inline_queries"] = json!(false);
    me["can_connect_to_business"] = json!(false);
    me["has_main_web_app"] = json!(false);
    me
}

async fn get_updates(shared: &Shared, p: &Params) -> Result<Value, ApiError> {
    let offset = p.i64("offset")?.unwrap_or(0);
    let limit = p.i64("limit")?.filter(|l| *l > 0).unwrap_or(100).min(100) as usize;
    let timeout = p.i64("timeout")?.unwrap_or(0).clamp(0, 50) as u64;
    let allowed = p.json("allowed_updates", "allowed_updates")?;
    let generation = {
        let mut st = shared.lock();
        if st.webhook.is_some() {
            return Err(webhook_conflict());
        }
        if let Some(list) = allowed.as_ref().and_then(Value::as_array) {
            st.allowed_updates = Some(list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect());
        }
        if offset > 0 {
            st.updates.retain(|u| u.id >= offset);
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            let drop = st.updates.len().saturating_sub(keep);
            st.updates.drain(..drop);
        }
        st.poll_generation += 1;
        st.poll_generation
    };
    // A newer poll ends any older one, as on the real server.
    shared.updates_changed.notify_waiters();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let mut shutdown = shared.shutdown.clone();
    loop {
        let notified = shared.updates_changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let st = shared.lock();
            if st.poll_generation != generation {
                return Err(ApiError::new(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                ));
            }
            if st.webhook.is_some() {
                return Err(webhook_conflict());
            }
            if !st.updates.is_empty() {
                let batch: Vec<Value> = st.updates.iter().take(limit).map(|u| u.json.clone()).collect();
                return Ok(Value::Array(batch));
            }
        }
        if tokio::time::Instant::now() >= deadline || shared.is_shut_down() {
            return Ok(json!([]));
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(deadline) => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    }
}

fn webhook_conflict() -> ApiError {
    ApiError::new(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    )
}

fn set_webhook(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let url = p.str("url").unwrap_or_default();
    if p.bool("drop_pending_updates") {
        st.updates.clear();
    }
    if let Some(list) = p.json("allowed_updates", "allowed_updates")?.as_ref().and_then(Value::as_array) {
        st.allowed_updates = Some(list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect());
    }
    if url.is_empty() {
        st.webhook = None;
        return Ok(json!(true));
    }
    let parsed =
        url::Url::parse(&url).map_err(|_| ApiError::bad("bad webhook: invalid webhook URL specified"))?;
    let loopback =
        matches!(parsed.host_str(), Some(h) if h == "localhost" || h.starts_with("127.") || h == "[::1]");
    // The real server wants HTTPS; plain HTTP is allowed here only for local test servers.
    if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
        return Err(ApiError::bad("bad webhook: HTTPS url must be provided for webhook"));
    }
    let secret_token = p.str("secret_token").filter(|s| !s.is_empty());
    if let Some(secret) = &secret_token {
        let valid =
            secret.len() <= 256 && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(ApiError::bad("secret token contains unallowed characters"));
        }
    }
    let max_connections = p.i64("max_connections")?.unwrap_or(40).clamp(1, 100) as u32;
    st.webhook =
        Some(Webhook { url, secret_token, max_connections, last_error_date: None, last_error_message: None });
    Ok(json!(true))
}

fn webhook_info(st: &State) -> Value {
    let mut info = json!({
        "url": st.webhook.as_ref().map(|w| w.url.as_str()).unwrap_or(""),
        "has_custom_certificate": false,
        "pending_update_count": st.updates.len(),
    });
    if let Some(hook) = &st.webhook {
        info["max_connections"] = json!(hook.max_connections);
        info["ip_address"] = json!("127.0.0.1");
        if let Some(date) = hook.last_error_date {
            info["last_error_date"] = json!(date);
        }
        put_opt(&mut info, "last_error_message", hook.last_error_message.as_deref());
        if let Some(list) = &st.allowed_updates {
            info["allowed_updates"] = json!(list);
        }
    }
    info
}

/// The chat a method targets, as its `Chat` object.
struct ChatTarget {
    id: i64,
    json: Value,
}

/// The chat a send method targets: a user's private chat or a group the fake knows.
/// Unknown chats, users who blocked the bot and groups without the bot fail like on Telegram.
fn target_user(st: &State, p: &Params, sending: bool) -> Result<ChatTarget, ApiError> {
    let raw = p.str("chat_id").filter(|s| !s.is_empty()).ok_or_else(|| ApiError::bad("chat_id is empty"))?;
    let user = if let Some(username) = raw.strip_prefix('@') {
        st.users.values().find(|u| u.username.as_deref() == Some(username))
    } else {
        let id: i64 = raw.trim().parse().map_err(|_| ApiError::chat_not_found())?;
        if let Some(group) = st.groups.get(&id) {
            if let Some(supergroup) = group.migrated_to {
                return Err(ApiError {
                    migrate_to_chat_id: Some(supergroup),
                    ..ApiError::bad("group chat was upgraded to a supergroup chat")
                });
            }
            if !group.bot_is_in() {
                return Err(ApiError::new(
                    403,
                    format!("Forbidden: bot is not a member of the {} chat", group.kind()),
                ));
            }
            return Ok(ChatTarget { id, json: group.chat_json() });
        }
        st.users.get(&id)
    };
    let user = user.ok_or_else(ApiError::chat_not_found)?;
    if sending && user.blocked_bot {
        return Err(ApiError::new(403, "Forbidden: bot was blocked by the user"));
    }
    Ok(ChatTarget { id: user.id, json: user.chat_json() })
}

/// `getChatMember`: the status of a user (or the bot) in a group, or in the user's own private chat.
fn get_chat_member(shared: &Shared, st: &State, p: &Params) -> Result<Value, ApiError> {
    let chat = target_user(st, p, false)?;
    let user_id = p.i64("user_id")?.ok_or_else(|| ApiError::bad("invalid user_id specified"))?;
    if user_id == shared.bot.id {
        let status = st.groups.get(&chat.id).map_or("member", |g| g.bot_status.as_str());
        return Ok(chat_member_json(status, shared.bot_user_json()));
    }
    let user = st.users.get(&user_id).ok_or_else(|| ApiError::bad("user not found"))?;
    let status = match st.groups.get(&chat.id) {
        Some(group) => group.status_of(user_id),
        None if chat.id == user_id => "member",
        None => return Err(ApiError::bad("user not found")),
    };
    Ok(chat_member_json(status, user.user_json()))
}

/// A `ChatMember` object of the kind its status names, with the fields Telegram always sends.
pub(crate) fn chat_member_json(status: &str, user: Value) -> Value {
    match status {
        "creator" => json!({ "status": "creator", "user": user, "is_anonymous": false }),
        "administrator" => json!({
            "status": "administrator",
            "user": user,
            "can_be_edited": false,
            "is_anonymous": false,
            "can_manage_chat": true,
            "can_delete_messages": true,
            "can_manage_video_chats": true,
            "can_restrict_members": true,
            "can_promote_members": false,
            "can_change_info": true,
            "can_invite_users": true,
            "can_post_stories": false,
            "can_edit_stories": false,
            "can_delete_stories": false,
            "can_pin_messages": true,
        }),
        "member" => json!({ "status": "member", "user": user }),
        "kicked" => json!({ "status": "kicked", "user": user, "until_date": 0 }),
        _ => json!({ "status": "left", "user": user }),
    }
}

fn message_id_param(p: &Params) -> Result<i32, ApiError> {
    let id = p.i64("message_id")?.ok_or_else(|| ApiError::bad("message identifier is not specified"))?;
    i32::try_from(id).map_err(|_| ApiError::bad("message identifier is not specified"))
}

/// Validates `reply_markup`; returns it as sent.
fn reply_markup(p: &Params) -> Result<Option<Value>, ApiError> {
    let Some(markup) = p.json("reply_markup", "reply keyboard markup JSON object")? else {
        return Ok(None);
    };
    if !markup.is_object() {
        return Err(ApiError::bad("can't parse reply keyboard markup JSON object"));
    }
    if let Some(rows) = markup.get("inline_keyboard") {
        let rows =
            rows.as_array().ok_or_else(|| ApiError::bad("field \"inline_keyboard\" must be an Array"))?;
        for row in rows {
            let row = row
                .as_array()
                .ok_or_else(|| ApiError::bad("field \"inline_keyboard\" must be an Array of Arrays"))?;
            for button in row {
                check_inline_button(button)?;
            }
        }
    }
    Ok(Some(markup))
}

fn check_inline_button(button: &Value) -> Result<(), ApiError> {
    if button.get("text").and_then(Value::as_str).is_none() {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        ));
    }
    const ACTIONS: [&str; 10] = [
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    ];
    let actions = ACTIONS.iter().filter(|a| button.get(**a).is_some()).count();
    if actions == 0 {
        return Err(ApiError::bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ));
    }
    if let Some(data) = button.get("callback_data") {
        let ok = data.as_str().is_some_and(|d| !d.is_empty() && d.len() <= 64);
        if !ok {
            return Err(ApiError::bad("BUTTON_DATA_INVALID"));
        }
    }
    if let Some(url) = button.get("url") {
        let ok = url.as_str().and_then(|u| url::Url::parse(u).ok()).is_some_and(|u| {
            matches!(u.scheme(), "http" | "https" | "tg") && (u.scheme() == "tg" || u.has_host())
        });
        if !ok {
            return Err(ApiError::bad("BUTTON_URL_INVALID"));
        }
    }
    Ok(())
}

/// Only inline keyboards are echoed back in Message objects.
fn markup_for_message(markup: Option<&Value>) -> Option<Value> {
    markup.filter(|m| m.get("inline_keyboard").is_some()).cloned()
}

/// The message being replied to, from `reply_parameters` or the older `reply_to_message_id`.
fn reply_target(st: &State, chat_id: i64, p: &Params) -> Result<Option<(i32, Value)>, ApiError> {
    let params = p.json("reply_parameters", "reply parameters JSON object")?;
    let (id, allow_missing) = match &params {
        Some(rp) => (
            rp.get("message_id").and_then(Value::as_i64),
            rp.get("allow_sending_without_reply").and_then(Value::as_bool).unwrap_or(false),
        ),
        None => (p.i64("reply_to_message_id")?, p.bool("allow_sending_without_reply")),
    };
    let Some(id) = id.and_then(|id| i32::try_from(id).ok()) else { return Ok(None) };
    match st.message(chat_id, id).filter(|m| !m.deleted) {
        Some(m) => {
            let mut replied = m.json.clone();
            // Telegram nests only one level of replies.
            if let Some(obj) = replied.as_object_mut() {
                obj.remove("reply_to_message");
            }
            Ok(Some((id, replied)))
        }
        None if allow_missing => Ok(None),
        None => Err(ApiError::bad("message to be replied not found")),
    }
}

/// A caption as Telegram reads it (`parse_mode`, `caption_entities`, 1024 characters), with the
/// parse mode it was given.
fn parse_caption(p: &Params, raw: &str) -> Result<(markup::Parsed, Option<String>), ApiError> {
    let parse_mode = p.str("parse_mode").filter(|s| !s.is_empty());
    let entities = p.json("caption_entities", "caption entities")?;
    let parsed = parse_text(
        raw,
        parse_mode.as_deref(),
        entities.as_ref(),
        MAX_CAPTION,
        "",
        "message caption is too long",
    )?;
    Ok((parsed, parse_mode))
}

fn parse_text(
    raw: &str,
    parse_mode: Option<&str>,
    entities: Option<&Value>,
    limit: usize,
    empty: &str,
    too_long: &str,
) -> Result<markup::Parsed, ApiError> {
    let parsed = markup::parse(raw, parse_mode, entities).map_err(ApiError::bad_full)?;
    if parsed.text.is_empty() && !empty.is_empty() {
        return Err(ApiError::bad(empty));
    }
    if utf16_len(&parsed.text) > limit {
        return Err(ApiError::bad(too_long));
    }
    Ok(parsed)
}

/// The fields every message the bot sends has.
fn new_bot_message(shared: &Shared, st: &mut State, user: &ChatTarget) -> (i32, Map<String, Value>) {
    let id = st.next_message_id(user.id);
    let mut m = Map::new();
    m.insert("message_id".into(), json!(id));
    m.insert("from".into(), shared.bot_user_json());
    m.insert("chat".into(), user.json.clone());
    m.insert("date".into(), json!(unix_now()));
    (id, m)
}

fn send_message(shared: &Shared, st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let user = target_user(st, p, true)?;
    let raw = p.str("text").unwrap_or_default();
    let parse_mode = p.str("parse_mode").filter(|s| !s.is_empty());
    let entities = p.json("entities", "message entities")?;
    let parsed = parse_text(
        &raw,
        parse_mode.as_deref(),
        entities.as_ref(),
        MAX_TEXT,
        "message text is empty",
        "message is too long",
    )?;
    let markup = reply_markup(p)?;
    let reply = reply_target(st, user.id, p)?;
    let mut preview = p.json("link_preview_options", "link preview options")?;
    if preview.is_none() && p.bool("disable_web_page_preview") {
        preview = Some(json!({ "is_disabled": true }));
    }
    let (id, mut m) = new_bot_message(shared, st, &user);
    if let Some((_, replied)) = &reply {
        m.insert("reply_to_message".into(), replied.clone());
    }
    m.insert("text".into(), json!(parsed.text));
    if !parsed.entities.is_empty() {
        m.insert("entities".into(), json!(parsed.entities));
    }
    if let Some(preview) = &preview {
        m.insert("link_preview_options".into(), preview.clone());
    }
    if let Some(kb) = markup_for_message(markup.as_ref()) {
        m.insert("reply_markup".into(), kb);
    }
    let json = Value::Object(m);
    let meta = BotMeta {
        text: Some(raw),
        plain_text: Some(parsed.text),
        parse_mode,
        reply_markup: markup,
        reply_to_message_id: reply.map(|(id, _)| id),
        link_preview_options: preview,
        ..BotMeta::default()
    };
    st.store_message(user.id, StoredMessage { id, json: json.clone(), deleted: false, bot: Some(meta) });
    Ok(json)
}

/// The bot message an edit targets; `Ok(None)` for inline messages.
fn edit_target<'a>(st: &'a mut State, p: &Params) -> Result<Option<(i64, &'a mut StoredMessage)>, ApiError> {
    if p.str("inline_message_id").is_some_and(|s| !s.is_empty()) {
        return Ok(None);
    }
    let user = target_user(st, p, false)?;
    let id = message_id_param(p)?;
    let message = st
        .message_mut(user.id, id)
        .filter(|m| !m.deleted)
        .ok_or_else(|| ApiError::bad("message to edit not found"))?;
    if message.bot.is_none() {
        return Err(ApiError::bad("message can't be edited"));
    }
    Ok(Some((user.id, message)))
}

const NOT_MODIFIED: &str = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

fn edit_message_text(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let raw = p.str("text").unwrap_or_default();
    let parse_mode = p.str("parse_mode").filter(|s| !s.is_empty());
    let entities = p.json("entities", "message entities")?;
    let parsed = parse_text(
        &raw,
        parse_mode.as_deref(),
        entities.as_ref(),
        MAX_TEXT,
        "message text is empty",
        "MESSAGE_TOO_LONG",
    )?;
    let markup = reply_markup(p)?;
    let preview = p.json("link_preview_options", "link preview options")?;
    let Some((_, message)) = edit_target(st, p)? else { return Ok(json!(true)) };
    let Some(meta) = message.bot.as_mut() else { return Err(ApiError::bad("message can't be edited")) };
    if meta.text.is_none() {
        return Err(ApiError::bad("there is no text in the message to edit"));
    }
    let old_entities = message.json.get("entities").cloned().unwrap_or_else(|| json!([]));
    let same = message.json.get("text").and_then(Value::as_str) == Some(parsed.text.as_str())
        && old_entities == json!(parsed.entities)
        && markup_for_message(meta.reply_markup.as_ref()) == markup_for_message(markup.as_ref());
    if same {
        return Err(ApiError::bad(NOT_MODIFIED));
    }
    let obj = message.json.as_object_mut().ok_or_else(|| ApiError::bad("message can't be edited"))?;
    obj.insert("text".into(), json!(parsed.text));
    if parsed.entities.is_empty() {
        obj.remove("entities");
    } else {
        obj.insert("entities".into(), json!(parsed.entities));
    }
    // Without reply_markup an edit removes the inline keyboard, as on Telegram.
    match markup_for_message(markup.as_ref()) {
        Some(kb) => obj.insert("reply_markup".into(), kb),
        None => obj.remove("reply_markup"),
    };
    if let Some(preview) = &preview {
        obj.insert("link_preview_options".into(), preview.clone());
        meta.link_preview_options = Some(preview.clone());
    }
    obj.insert("edit_date".into(), json!(unix_now()));
    meta.text = Some(raw);
    meta.plain_text = Some(parsed.text);
    meta.parse_mode = parse_mode;
    meta.reply_markup = markup;
    meta.edit_count += 1;
    Ok(message.json.clone())
}

fn edit_message_caption(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let raw = p.str("caption").unwrap_or_default();
    let (parsed, parse_mode) = parse_caption(p, &raw)?;
    let markup = reply_markup(p)?;
    let Some((_, message)) = edit_target(st, p)? else { return Ok(json!(true)) };
    let Some(meta) = message.bot.as_mut() else { return Err(ApiError::bad("message can't be edited")) };
    if meta.text.is_some() {
        return Err(ApiError::bad("there is no caption in the message to edit"));
    }
    let same = message.json.get("caption").and_then(Value::as_str).unwrap_or("") == parsed.text
        && message.json.get("caption_entities").cloned().unwrap_or_else(|| json!([]))
            == json!(parsed.entities)
        && markup_for_message(meta.reply_markup.as_ref()) == markup_for_message(markup.as_ref());
    if same {
        return Err(ApiError::bad(NOT_MODIFIED));
    }
    let obj = message.json.as_object_mut().ok_or_else(|| ApiError::bad("message can't be edited"))?;
    if parsed.text.is_empty() {
        obj.remove("caption");
    } else {
        obj.insert("caption".into(), json!(parsed.text));
    }
    if parsed.entities.is_empty() {
        obj.remove("caption_entities");
    } else {
        obj.insert("caption_entities".into(), json!(parsed.entities));
    }
    match markup_for_message(markup.as_ref()) {
        Some(kb) => obj.insert("reply_markup".into(), kb),
        None => obj.remove("reply_markup"),
    };
    obj.insert("edit_date".into(), json!(unix_now()));
    meta.caption = Some(raw).filter(|c| !c.is_empty());
    meta.plain_text = Some(parsed.text).filter(|c| !c.is_empty());
    meta.parse_mode = parse_mode;
    meta.reply_markup = markup;
    meta.edit_count += 1;
    Ok(message.json.clone())
}

fn edit_reply_markup(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let markup = reply_markup(p)?;
    let Some((_, message)) = edit_target(st, p)? else { return Ok(json!(true)) };
    let Some(meta) = message.bot.as_mut() else { return Err(ApiError::bad("message can't be edited")) };
    if markup_for_message(meta.reply_markup.as_ref()) == markup_for_message(markup.as_ref()) {
        return Err(ApiError::bad(NOT_MODIFIED));
    }
    let obj = message.json.as_object_mut().ok_or_else(|| ApiError::bad("message can't be edited"))?;
    match markup_for_message(markup.as_ref()) {
        Some(kb) => obj.insert("reply_markup".into(), kb),
        None => obj.remove("reply_markup"),
    };
    obj.insert("edit_date".into(), json!(unix_now()));
    meta.reply_markup = markup;
    meta.edit_count += 1;
    Ok(message.json.clone())
}

fn delete_message(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let user = target_user(st, p, false)?;
    let id = message_id_param(p)?;
    let message = st
        .message_mut(user.id, id)
        .filter(|m| !m.deleted)
        .ok_or_else(|| ApiError::bad("message to delete not found"))?;
    message.deleted = true;
    Ok(json!(true))
}

fn send_chat_action(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let user = target_user(st, p, true)?;
    let action = p.str("action").unwrap_or_default();
    if !CHAT_ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::bad("wrong parameter action in request"));
    }
    st.chat_actions.push(ChatAction { chat_id: user.id, action });
    Ok(json!(true))
}

/// The file a send method carries: an upload (directly or via `attach://`) or a known file_id.
enum InputFile {
    Upload(Upload),
    Known(crate::state::StoredFile),
}

fn input_file(st: &State, p: &Params, field: &str) -> Result<InputFile, ApiError> {
    match p.str(field) {
        Some(value) if value.starts_with("attach://") => {
            let name = &value["attach://".len()..];
            p.files
                .get(name)
                .cloned()
                .map(InputFile::Upload)
                .ok_or_else(|| ApiError::bad(format!("there is no {field} in the request")))
        }
        Some(value) if !value.is_empty() => {
            if value.starts_with("http://") || value.starts_with("https://") {
                return Err(ApiError::bad("failed to get HTTP URL content"));
            }
            st.files
                .get(&value)
                .cloned()
                .map(InputFile::Known)
                .ok_or_else(|| ApiError::bad("wrong file identifier/HTTP URL specified"))
        }
        _ => p
            .files
            .get(field)
            .cloned()
            .map(InputFile::Upload)
            .ok_or_else(|| ApiError::bad(format!("there is no {field} in the request"))),
    }
}

/// Caption, markup and reply shared by sendDocument and sendPhoto.
struct MediaCommon {
    raw_caption: Option<String>,
    parsed: markup::Parsed,
    parse_mode: Option<String>,
    markup: Option<Value>,
    reply: Option<(i32, Value)>,
}

fn media_common(st: &State, user: &ChatTarget, p: &Params) -> Result<MediaCommon, ApiError> {
    let raw_caption = p.str("caption").filter(|c| !c.is_empty());
    let (parsed, parse_mode) = parse_caption(p, raw_caption.as_deref().unwrap_or(""))?;
    Ok(MediaCommon {
        raw_caption,
        parsed,
        parse_mode,
        markup: reply_markup(p)?,
        reply: reply_target(st, user.id, p)?,
    })
}

fn finish_media(
    st: &mut State,
    user: &ChatTarget,
    id: i32,
    mut m: Map<String, Value>,
    common: MediaCommon,
    document: Option<SentFile>,
    photo: Option<SentFile>,
) -> Value {
    if let Some((_, replied)) = &common.reply {
        m.insert("reply_to_message".into(), replied.clone());
    }
    if !common.parsed.text.is_empty() {
        m.insert("caption".into(), json!(common.parsed.text));
    }
    if !common.parsed.entities.is_empty() {
        m.insert("caption_entities".into(), json!(common.parsed.entities));
    }
    if let Some(kb) = markup_for_message(common.markup.as_ref()) {
        m.insert("reply_markup".into(), kb);
    }
    let json = Value::Object(m);
    let meta = BotMeta {
        caption: common.raw_caption,
        plain_text: Some(common.parsed.text).filter(|t| !t.is_empty()),
        parse_mode: common.parse_mode,
        reply_markup: common.markup,
        reply_to_message_id: common.reply.map(|(id, _)| id),
        document,
        photo,
        ..BotMeta::default()
    };
    st.store_message(user.id, StoredMessage { id, json: json.clone(), deleted: false, bot: Some(meta) });
    json
}

fn sent_file(file: &crate::state::StoredFile) -> SentFile {
    SentFile {
        file_id: file.file_id.clone(),
        file_unique_id: file.file_unique_id.clone(),
        file_name: file.file_name.clone(),
        mime_type: file.mime_type.clone(),
        bytes: file.bytes.clone(),
    }
}

pub(crate) fn document_json(file: &crate::state::StoredFile) -> Value {
    let mut doc = json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.size(),
    });
    put_opt(&mut doc, "file_name", file.file_name.as_deref());
    put_opt(&mut doc, "mime_type", file.mime_type.as_deref());
    doc
}

fn send_document(shared: &Shared, st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let user = target_user(st, p, true)?;
    let input = input_file(st, p, "document")?;
    let common = media_common(st, &user, p)?;
    let file = match input {
        InputFile::Known(file) => file,
        InputFile::Upload(upload) => {
            if upload.bytes.len() > MAX_UPLOAD {
                return Err(ApiError::too_large());
            }
            if upload.bytes.is_empty() {
                return Err(ApiError::bad("file must be non-empty"));
            }
            let name =
                upload.file_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "document".to_owned());
            let mime = ids::mime_from_name(&name)
                .map(str::to_owned)
                .or(upload.content_type.clone())
                .unwrap_or_else(|| "application/octet-stream".to_owned());
            st.add_file(upload.bytes, Some(mime), Some(name), None, 5)
        }
    };
    let (id, mut m) = new_bot_message(shared, st, &user);
    m.insert("document".into(), document_json(&file));
    Ok(finish_media(st, &user, id, m, common, Some(sent_file(&file)), None))
}

/// PhotoSize entries: Telegram stores scaled copies and lists them smallest first.
pub(crate) fn photo_sizes(
    st: &mut State,
    bytes: bytes::Bytes,
    width: u32,
    height: u32,
    existing: Option<crate::state::StoredFile>,
) -> (Vec<Value>, crate::state::StoredFile) {
    let mut sizes = Vec::new();
    let longest = width.max(height).max(1);
    for bound in [90u32, 320, 800] {
        if longest > bound {
            let w = (u64::from(width) * u64::from(bound) / u64::from(longest)) as u32;
            let h = (u64::from(height) * u64::from(bound) / u64::from(longest)) as u32;
            let thumb = st.add_file(bytes.clone(), Some("image/jpeg".into()), None, None, 2);
            sizes.push(json!({
                "file_id": thumb.file_id,
                "file_unique_id": thumb.file_unique_id,
                "file_size": thumb.bytes.len(),
                "width": w.max(1),
                "height": h.max(1),
            }));
        }
    }
    let full = match existing {
        Some(file) => file,
        None => st.add_file(bytes, Some("image/jpeg".into()), None, None, 2),
    };
    sizes.push(json!({
        "file_id": full.file_id,
        "file_unique_id": full.file_unique_id,
        "file_size": full.bytes.len(),
        "width": width,
        "height": height,
    }));
    (sizes, full)
}

fn send_photo(shared: &Shared, st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let user = target_user(st, p, true)?;
    let input = input_file(st, p, "photo")?;
    let common = media_common(st, &user, p)?;
    let (sizes, full, upload_name, upload_mime) = match input {
        InputFile::Known(file) => {
            let (w, h) = ids::image_dimensions(&file.bytes).unwrap_or((800, 600));
            let size = json!({
                "file_id": file.file_id,
                "file_unique_id": file.file_unique_id,
                "file_size": file.bytes.len(),
                "width": w,
                "height": h,
            });
            let (name, mime) = (file.file_name.clone(), file.mime_type.clone());
            (vec![size], file, name, mime)
        }
        InputFile::Upload(upload) => {
            if upload.bytes.len() > 10 * 1024 * 1024 {
                return Err(ApiError::bad("PHOTO_INVALID_DIMENSIONS"));
            }
            let (w, h) =
                ids::image_dimensions(&upload.bytes).ok_or_else(|| ApiError::bad("IMAGE_PROCESS_FAILED"))?;
            let (sizes, full) = photo_sizes(st, upload.bytes.clone(), w, h, None);
            let mime = upload
                .file_name
                .as_deref()
                .and_then(ids::mime_from_name)
                .map(str::to_owned)
                .or(upload.content_type);
            (sizes, full, upload.file_name.filter(|n| !n.is_empty()), mime)
        }
    };
    let (id, mut m) = new_bot_message(shared, st, &user);
    m.insert("photo".into(), json!(sizes));
    let mut sent = sent_file(&full);
    sent.file_name = upload_name;
    sent.mime_type = upload_mime;
    Ok(finish_media(st, &user, id, m, common, None, Some(sent)))
}

/// What a copy carries over from the original; the rest (sender, date, the
/// message it replied to, forward origin, buttons) is the copy's own.
const COPIED_CONTENT: [&str; 20] = [
    "text",
    "entities",
    "link_preview_options",
    "animation",
    "audio",
    "document",
    "photo",
    "sticker",
    "video",
    "video_note",
    "voice",
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "has_media_spoiler",
    "contact",
    "dice",
    "location",
    "venue",
    "poll",
];

/// Content that has a caption, which `caption` may replace.
const CAPTIONED: [&str; 6] = ["animation", "audio", "document", "photo", "video", "voice"];

/// `copyMessage`: a new bot message in `chat_id` with the content of message
/// `message_id` of `from_chat_id`, without a link to the original; answers
/// its `MessageId`. Service messages, invoices and quizzes whose answer the bot
/// cannot know are refused, as on Telegram.
fn copy_message(shared: &Shared, st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let from =
        p.str("from_chat_id").filter(|s| !s.is_empty()).ok_or_else(|| ApiError::bad("chat_id is empty"))?;
    let from: i64 = from.trim().parse().map_err(|_| ApiError::chat_not_found())?;
    if !st.users.contains_key(&from) && !st.groups.contains_key(&from) {
        return Err(ApiError::chat_not_found());
    }
    let id = message_id_param(p)?;
    let original = st
        .message(from, id)
        .filter(|m| !m.deleted)
        .map(|m| m.json.clone())
        .ok_or_else(|| ApiError::bad("message to copy not found"))?;
    let user = target_user(st, p, true)?;
    let quiz_unknown = original.get("poll").is_some_and(|poll| {
        poll.get("type").and_then(Value::as_str) == Some("quiz") && poll.get("correct_option_id").is_none()
    });
    let content: Map<String, Value> = COPIED_CONTENT
        .iter()
        .filter_map(|key| original.get(*key).map(|value| ((*key).to_owned(), value.clone())))
        .collect();
    if content.is_empty() || original.get("invoice").is_some() || quiz_unknown {
        return Err(ApiError::bad("message can't be copied"));
    }
    let captioned = CAPTIONED.iter().any(|key| content.contains_key(*key));
    let new_caption = match p.str("caption") {
        Some(raw) if captioned => {
            let (parsed, parse_mode) = parse_caption(p, &raw)?;
            Some((raw, parsed, parse_mode))
        }
        _ => None,
    };
    let markup = reply_markup(p)?;
    let reply = reply_target(st, user.id, p)?;
    let (new_id, mut m) = new_bot_message(shared, st, &user);
    if let Some((_, replied)) = &reply {
        m.insert("reply_to_message".into(), replied.clone());
    }
    m.extend(content);
    let mut meta = BotMeta {
        text: m.get("text").and_then(Value::as_str).map(str::to_owned),
        caption: m.get("caption").and_then(Value::as_str).map(str::to_owned),
        reply_markup: markup.clone(),
        reply_to_message_id: reply.map(|(id, _)| id),
        link_preview_options: m.get("link_preview_options").cloned(),
        copied_from: Some((from, id)),
        ..BotMeta::default()
    };
    if let Some((raw, parsed, parse_mode)) = new_caption {
        m.remove("caption_entities");
        if parsed.text.is_empty() {
            m.remove("caption");
        } else {
            m.insert("caption".into(), json!(parsed.text));
        }
        if !parsed.entities.is_empty() {
            m.insert("caption_entities".into(), json!(parsed.entities));
        }
        meta.caption = Some(raw).filter(|c| !c.is_empty());
        meta.parse_mode = parse_mode;
    }
    meta.plain_text = m
        .get("text")
        .or_else(|| m.get("caption"))
        .and_then(Value::as_str)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let largest_photo = m.get("photo").and_then(Value::as_array).and_then(|sizes| sizes.last());
    meta.photo = largest_photo
        .and_then(|size| size.get("file_id")?.as_str())
        .and_then(|file_id| st.files.get(file_id))
        .map(sent_file);
    meta.document = m
        .get("document")
        .and_then(|doc| doc.get("file_id")?.as_str())
        .and_then(|file_id| st.files.get(file_id))
        .map(sent_file);
    if let Some(kb) = markup_for_message(markup.as_ref()) {
        m.insert("reply_markup".into(), kb);
    }
    st.store_message(
        user.id,
        StoredMessage { id: new_id, json: Value::Object(m), deleted: false, bot: Some(meta) },
    );
    Ok(json!({ "message_id": new_id }))
}

fn get_file(st: &mut State, p: &Params, token: &str) -> Result<Value, ApiError> {
    let file_id = p.str("file_id").unwrap_or_default();
    let file = st.files.get(&file_id).cloned().ok_or_else(|| ApiError::bad("invalid file_id"))?;
    if file.size() > st.download_limit {
        return Err(ApiError::bad("file is too big"));
    }
    let path = st.file_path(&file_id, token).ok_or_else(|| ApiError::bad("invalid file_id"))?;
    Ok(json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.size(),
        "file_path": path,
    }))
}

fn answer_callback_query(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let id = p.str("callback_query_id").unwrap_or_default();
    if !st.pending_callback_queries.remove(&id) {
        return Err(ApiError::bad(INVALID_QUERY));
    }
    st.callback_answers.push(CallbackAnswer {
        callback_query_id: id,
        text: p.str("text"),
        show_alert: p.bool("show_alert"),
        url: p.str("url"),
    });
    Ok(json!(true))
}

fn commands_key(p: &Params) -> Result<(String, String), ApiError> {
    let scope = p.json("scope", "BotCommandScope")?.unwrap_or_else(|| json!({ "type": "default" }));
    let kind = scope.get("type").and_then(Value::as_str).unwrap_or("");
    let known = [
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    ];
    if !known.contains(&kind) {
        return Err(ApiError::bad("wrong parameter scope in request"));
    }
    let mut parts = vec![kind.to_owned()];
    for field in ["chat_id", "user_id"] {
        if let Some(v) = scope.get(field) {
            parts.push(v.to_string());
        }
    }
    Ok((parts.join(":"), p.str("language_code").unwrap_or_default()))
}

fn set_my_commands(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let commands = p.json("commands", "commands")?.unwrap_or_else(|| json!([]));
    let list = commands.as_array().ok_or_else(|| ApiError::bad("can't parse commands"))?;
    if list.len() > 100 {
        return Err(ApiError::bad("BOT_COMMANDS_TOO_MUCH"));
    }
    let mut clean = Vec::new();
    for cmd in list {
        let name = cmd.get("command").and_then(Value::as_str).unwrap_or("");
        let description = cmd.get("description").and_then(Value::as_str).unwrap_or("");
        let name_ok = (1..=32).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            return Err(ApiError::bad("BOT_COMMAND_INVALID"));
        }
        if description.trim().is_empty() || description.chars().count() > 256 {
            return Err(ApiError::bad("command description is empty"));
        }
        clean.push(json!({ "command": name, "description": description }));
    }
    let key = commands_key(p)?;
    if clean.is_empty() {
        st.commands.remove(&key);
    } else {
        st.commands.insert(key, Value::Array(clean));
    }
    Ok(json!(true))
}

/// Validated invoice fields shared by sendInvoice and createInvoiceLink.
struct InvoiceFields {
    title: String,
    description: String,
    payload: String,
    currency: String,
    total_amount: u32,
}

fn invoice_fields(p: &Params) -> Result<InvoiceFields, ApiError> {
    let title = p.str("title").unwrap_or_default();
    let description = p.str("description").unwrap_or_default();
    let payload = p.str("payload").unwrap_or_default();
    let currency = p.str("currency").unwrap_or_default().to_ascii_uppercase();
    if title.is_empty() || title.chars().count() > 32 {
        return Err(ApiError::bad("INVOICE_TITLE_EMPTY"));
    }
    if description.is_empty() || description.chars().count() > 255 {
        return Err(ApiError::bad("INVOICE_DESCRIPTION_EMPTY"));
    }
    if payload.is_empty() || payload.len() > 128 {
        return Err(ApiError::bad("INVOICE_PAYLOAD_INVALID"));
    }
    if currency.len() != 3 {
        return Err(ApiError::bad("CURRENCY_INVALID"));
    }
    let prices = p.json("prices", "prices")?.unwrap_or_else(|| json!([]));
    let prices = prices.as_array().cloned().unwrap_or_default();
    if prices.is_empty() {
        return Err(ApiError::bad("PRICES_INVALID"));
    }
    let mut total: i64 = 0;
    for price in &prices {
        let amount =
            price.get("amount").and_then(Value::as_i64).ok_or_else(|| ApiError::bad("PRICES_INVALID"))?;
        if price.get("label").and_then(Value::as_str).is_none() {
            return Err(ApiError::bad("PRICES_INVALID"));
        }
        total += amount;
    }
    let provider_token = p.str("provider_token").unwrap_or_default();
    if currency == "XTR" {
        // Stars: no provider, exactly one price.
        if !provider_token.is_empty() || prices.len() != 1 {
            return Err(ApiError::bad("STARS_INVOICE_INVALID"));
        }
    } else if provider_token.is_empty() {
        return Err(ApiError::bad("PAYMENT_PROVIDER_INVALID"));
    }
    let total_amount =
        u32::try_from(total).ok().filter(|t| *t > 0).ok_or_else(|| ApiError::bad("TOTAL_AMOUNT_INVALID"))?;
    Ok(InvoiceFields { title, description, payload, currency, total_amount })
}

fn send_invoice(shared: &Shared, st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let user = target_user(st, p, true)?;
    let fields = invoice_fields(p)?;
    let markup = reply_markup(p)?;
    let reply = reply_target(st, user.id, p)?;
    let invoice = json!({
        "title": fields.title,
        "description": fields.description,
        "start_parameter": p.str("start_parameter").unwrap_or_default(),
        "currency": fields.currency,
        "total_amount": fields.total_amount,
    });
    let (id, mut m) = new_bot_message(shared, st, &user);
    if let Some((_, replied)) = &reply {
        m.insert("reply_to_message".into(), replied.clone());
    }
    m.insert("invoice".into(), invoice.clone());
    if let Some(kb) = markup_for_message(markup.as_ref()) {
        m.insert("reply_markup".into(), kb);
    }
    let json = Value::Object(m);
    let meta = BotMeta {
        reply_markup: markup,
        reply_to_message_id: reply.map(|(id, _)| id),
        invoice: Some(invoice),
        ..BotMeta::default()
    };
    st.store_message(user.id, StoredMessage { id, json: json.clone(), deleted: false, bot: Some(meta) });
    st.invoices.push(SentInvoice {
        chat_id: Some(user.id),
        message_id: Some(id),
        link: None,
        title: fields.title,
        description: fields.description,
        payload: fields.payload,
        currency: fields.currency,
        total_amount: fields.total_amount,
        params: p.recorded(),
    });
    Ok(json)
}

fn create_invoice_link(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let fields = invoice_fields(p)?;
    if let Some(period) = p.i64("subscription_period")? {
        // Bot API: Stars only, exactly 30 days, at most 10000 Stars a period.
        if period != 2_592_000 {
            return Err(ApiError::bad("SUBSCRIPTION_PERIOD_INVALID"));
        }
        if fields.currency != "XTR" || fields.total_amount > 10_000 {
            return Err(ApiError::bad("SUBSCRIPTION_INVALID"));
        }
    }
    let link = format!("https://t.me/${}", ids::random_slug(24));
    st.invoices.push(SentInvoice {
        chat_id: None,
        message_id: None,
        link: Some(link.clone()),
        title: fields.title,
        description: fields.description,
        payload: fields.payload,
        currency: fields.currency,
        total_amount: fields.total_amount,
        params: p.recorded(),
    });
    Ok(json!(link))
}

fn answer_pre_checkout(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let id = p.str("pre_checkout_query_id").unwrap_or_default();
    let ok = p.bool("ok");
    let error_message = p.str("error_message").filter(|m| !m.is_empty());
    if !ok && error_message.is_none() {
        return Err(ApiError::bad("ERROR_MESSAGE_EMPTY"));
    }
    if !st.pending_pre_checkout.remove(&id) {
        return Err(ApiError::bad(INVALID_QUERY));
    }
    st.pre_checkout_answers.push(PreCheckoutAnswer { pre_checkout_query_id: id, ok, error_message });
    Ok(json!(true))
}

fn refund_star_payment(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let user_id = p.i64("user_id")?.ok_or_else(|| ApiError::bad("user not found"))?;
    if !st.users.contains_key(&user_id) {
        return Err(ApiError::bad("user not found"));
    }
    let charge_id = p.str("telegram_payment_charge_id").unwrap_or_default();
    let charge = st
        .charges
        .get_mut(&charge_id)
        .filter(|c| c.user_id == user_id)
        .ok_or_else(|| ApiError::bad("CHARGE_NOT_FOUND"))?;
    if charge.refunded {
        return Err(ApiError::bad("CHARGE_ALREADY_REFUNDED"));
    }
    charge.refunded = true;
    let amount = st.star_lines.iter().find(|l| l.charge_id == charge_id).map_or(0, |l| l.amount);
    st.star_lines.push(StarLine {
        charge_id: charge_id.clone(),
        user_id,
        amount,
        date: unix_now(),
        invoice_payload: None,
    });
    st.star_refunds.push(StarRefund { user_id, telegram_payment_charge_id: charge_id });
    Ok(json!(true))
}

/// `editUserStarSubscription`: the bot cancels (or lets the user re-enable) the renewal of
/// a Stars subscription, named by its first charge.
fn edit_user_star_subscription(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let user_id = p.i64("user_id")?.ok_or_else(|| ApiError::bad("USER_ID_INVALID"))?;
    let charge_id = p.str("telegram_payment_charge_id").unwrap_or_default();
    let sub = st
        .star_subscriptions
        .get_mut(&charge_id)
        .filter(|sub| sub.user_id == user_id)
        .ok_or_else(|| ApiError::bad("CHARGE_ID_INVALID"))?;
    sub.canceled_by_bot = p.bool("is_canceled");
    Ok(json!(true))
}

/// `getStarTransactions`: the bot's Stars history, oldest first, `offset` lines skipped, at
/// most `limit` (1-100, default 100) returned.
fn get_star_transactions(st: &State, p: &Params) -> Result<Value, ApiError> {
    let offset = usize::try_from(p.i64("offset")?.unwrap_or(0).max(0)).unwrap_or(0);
    let limit = p.i64("limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad("LIMIT_INVALID"));
    }
    let lines = st.star_lines.iter().skip(offset).take(usize::try_from(limit).unwrap_or(100));
    let transactions: Vec<Value> = lines
        .map(|line| {
            let user = st.users.get(&line.user_id).map(|u| u.user_json()).unwrap_or(Value::Null);
            let partner = match &line.invoice_payload {
                Some(payload) => json!({
                    "type": "user",
                    "transaction_type": "invoice_payment",
                    "user": user,
                    "invoice_payload": payload,
                }),
                None => json!({ "type": "user", "transaction_type": "invoice_payment", "user": user }),
            };
            let side = if line.invoice_payload.is_some() { "source" } else { "receiver" };
            json!({ "id": line.charge_id, "amount": line.amount, "date": line.date, side: partner })
        })
        .collect();
    Ok(json!({ "transactions": transactions }))
}
