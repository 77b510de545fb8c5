//! What tests read back: messages the bot sent, answers it gave, calls it made.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A file the fake knows, as a test refers to it when injecting media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRef {
    /// Opaque id for `getFile` and for resending.
    pub file_id: String,
    /// Id that is the same for the same content.
    pub file_unique_id: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type given at registration.
    pub mime_type: String,
    /// Duration of audio or video, if the test gave one.
    pub duration_secs: Option<u32>,
}

/// Metadata of an injected audio message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudioMeta {
    /// `audio.title`.
    pub title: Option<String>,
    /// `audio.performer`.
    pub performer: Option<String>,
    /// `audio.file_name`.
    pub file_name: Option<String>,
}

/// The fields of an injected `successful_payment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// ISO 4217 code or `XTR` for Stars.
    pub currency: String,
    /// Amount in the smallest units of the currency.
    pub total_amount: u32,
    /// The bot's own invoice payload.
    pub invoice_payload: String,
    /// Telegram's charge id; Stars refunds refer to it.
    pub telegram_payment_charge_id: String,
    /// The provider's charge id (empty for Stars).
    pub provider_payment_charge_id: String,
}

/// A file the bot sent as a document or photo, with the bytes it uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentFile {
    /// The id Telegram returned for it (the largest size for photos).
    pub file_id: String,
    /// Content-derived id.
    pub file_unique_id: String,
    /// File name of the upload, if any.
    pub file_name: Option<String>,
    /// MIME type Telegram reported.
    pub mime_type: Option<String>,
    /// The uploaded content.
    #[serde(serialize_with = "base64_bytes")]
    pub bytes: Bytes,
}

fn base64_bytes<S: Serializer>(bytes: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&STANDARD.encode(bytes))
}

/// What pressing an inline button does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonAction {
    /// `callback_data`.
    Callback(String),
    /// `url`.
    Url(String),
    /// Anything else (web_app, pay, switch_inline_query...), as sent.
    Other(Value),
}

/// One inline keyboard button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InlineButton {
    /// Label.
    pub text: String,
    /// Effect.
    pub action: ButtonAction,
}

impl InlineButton {
    /// The callback data, if this is a callback button.
    pub fn callback_data(&self) -> Option<&str> {
        match &self.action {
            ButtonAction::Callback(data) => Some(data),
            _ => None,
        }
    }

    /// The URL, if this is a URL button.
    pub fn url(&self) -> Option<&str> {
        match &self.action {
            ButtonAction::Url(url) => Some(url),
            _ => None,
        }
    }
}

/// A message the bot sent, with every later edit applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentMessage {
    /// Chat it went to.
    pub chat_id: i64,
    /// Its id in that chat.
    pub message_id: i32,
    /// Text as the bot sent it (markup included); `None` for media.
    pub text: Option<String>,
    /// Caption as the bot sent it, for media.
    pub caption: Option<String>,
    /// Text or caption as the user sees it: markup removed, whitespace trimmed.
    pub plain_text: Option<String>,
    /// `parse_mode` of the current text or caption.
    pub parse_mode: Option<String>,
    /// Current `reply_markup`, as sent.
    pub reply_markup: Option<Value>,
    /// The message this one replies to.
    pub reply_to_message_id: Option<i32>,
    /// `link_preview_options`, as sent.
    pub link_preview_options: Option<Value>,
    /// The document, for `sendDocument`.
    pub document: Option<SentFile>,
    /// The photo (largest size), for `sendPhoto`.
    pub photo: Option<SentFile>,
    /// The invoice object, for `sendInvoice`.
    pub invoice: Option<Value>,
    /// `(chat, message id)` of the original, for `copyMessage`.
    pub copied_from: Option<(i64, i32)>,
    /// Whether the bot deleted it.
    pub deleted: bool,
    /// How many edits were applied.
    pub edit_count: u32,
    /// The Message object as Telegram would return it now.
    pub raw: Value,
}

impl SentMessage {
    /// Rows of the inline keyboard, empty without one.
    pub fn inline_keyboard(&self) -> Vec<Vec<InlineButton>> {
        let Some(rows) =
            self.reply_markup.as_ref().and_then(|m| m.get("inline_keyboard")).and_then(Value::as_array)
        else {
            return Vec::new();
        };
        rows.iter()
            .map(|row| row.as_array().map(|r| r.iter().map(button).collect()).unwrap_or_default())
            .collect()
    }

    /// Every inline button, row by row.
    pub fn buttons(&self) -> Vec<InlineButton> {
        self.inline_keyboard().into_iter().flatten().collect()
    }

    /// The callback data of the first button labelled `text`.
    pub fn callback_data_of(&self, text: &str) -> Option<String> {
        self.buttons().into_iter().find(|b| b.text == text).and_then(|b| b.callback_data().map(str::to_owned))
    }

    /// Text if present, else caption: what a test usually wants to look at.
    pub fn body(&self) -> Option<&str> {
        self.text.as_deref().or(self.caption.as_deref())
    }
}

fn button(b: &Value) -> InlineButton {
    let text = b.get("text").and_then(Value::as_str).unwrap_or_default().to_owned();
    let action = if let Some(data) = b.get("callback_data").and_then(Value::as_str) {
        ButtonAction::Callback(data.to_owned())
    } else if let Some(url) = b.get("url").and_then(Value::as_str) {
        ButtonAction::Url(url.to_owned())
    } else {
        ButtonAction::Other(b.clone())
    };
    InlineButton { text, action }
}

/// An `answerCallbackQuery` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallbackAnswer {
    /// The query answered.
    pub callback_query_id: String,
    /// Notification text.
    pub text: Option<String>,
    /// Alert instead of a toast.
    pub show_alert: bool,
    /// URL to open.
    pub url: Option<String>,
}

/// An `answerPreCheckoutQuery` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreCheckoutAnswer {
    /// The query answered.
    pub pre_checkout_query_id: String,
    /// Whether the bot accepted the order.
    pub ok: bool,
    /// Why not, shown to the user.
    pub error_message: Option<String>,
}

/// An invoice the bot sent (`sendInvoice`) or made a link for (`createInvoiceLink`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentInvoice {
    /// Chat it went to; `None` for links.
    pub chat_id: Option<i64>,
    /// The invoice message; `None` for links.
    pub message_id: Option<i32>,
    /// The link; `None` for messages.
    pub link: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// The bot's payload.
    pub payload: String,
    /// Currency code.
    pub currency: String,
    /// Sum of `prices`.
    pub total_amount: u32,
    /// Every parameter as sent.
    pub params: Value,
}

/// A successful `refundStarPayment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StarRefund {
    /// The payer.
    pub user_id: i64,
    /// The refunded charge.
    pub telegram_payment_charge_id: String,
}

/// A `sendChatAction` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatAction {
    /// The chat.
    pub chat_id: i64,
    /// `typing`, `upload_document`...
    pub action: String,
}

/// Any Bot API request the fake received, for assertions no typed record covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiCall {
    /// Method name as the client spelled it.
    pub method: String,
    /// Parameters; multipart files appear as `{"file_name", "size", "mime_type"}`.
    pub params: Value,
    /// HTTP status of the answer (0 while still being processed).
    pub status: u16,
    /// When it arrived.
    #[serde(skip)]
    pub arrived: std::time::Instant,
}

impl ApiCall {
    /// A parameter as a string, whether it came as JSON or form text.
    pub fn param_str(&self, name: &str) -> Option<String> {
        match self.params.get(name)? {
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// One attempt to deliver an update to the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookAttempt {
    /// The update delivered.
    pub update_id: i64,
    /// The URL posted to.
    pub url: String,
    /// The `X-Telegram-Bot-Api-Secret-Token` header sent.
    pub secret_token: Option<String>,
    /// HTTP status, if the server answered.
    pub status: Option<u16>,
    /// Why it failed, in `getWebhookInfo.last_error_message` wording.
    pub error: Option<String>,
    /// When.
    #[serde(skip)]
    pub at: SystemTime,
}

impl WebhookAttempt {
    /// Whether the endpoint accepted the update.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// A fault to inject into the next calls of a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `429 Too Many Requests: retry after N` with `parameters.retry_after`.
    RetryAfter(u32),
    /// `500 Internal Server Error`.
    ServerError,
    /// Process normally after this delay.
    Delay(Duration),
}
