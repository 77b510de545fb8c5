//! How this process reaches Telegram: the token, the Bot API, how updates
//! arrive, and the pace of sends.

use url::Url;

use crate::platform::secret::Secret;

/// How the bot receives updates and where it finds the Bot API.
#[derive(Debug, Clone)]
pub struct TelegramSettings {
    /// The bot token from @BotFather.
    pub bot_token: Secret,
    /// Long polling or webhook.
    pub mode: UpdateMode,
    /// Bot API base URL: the public one, a local Bot API server, or a test fake.
    pub api_url: Url,
    /// Largest file the Bot API lets us download (20 MB on the public server).
    pub max_download_bytes: u64,
    /// Payment provider token from @BotFather (e.g. YooKassa's), for card
    /// payments inside Telegram; `None` offers Stars only there.
    pub payment_provider_token: Option<Secret>,
    /// Messages this process sends per second at most, all chats together
    /// (Telegram allows about 30 per bot: share them between processes).
    pub messages_per_second: std::num::NonZeroU32,
}

/// How Telegram delivers updates to the bot.
#[derive(Debug, Clone)]
pub enum UpdateMode {
    /// The bot asks Telegram for updates (`getUpdates`).
    Polling,
    /// Telegram POSTs updates to `url`, proving itself with `secret_token`.
    Webhook {
        /// Public HTTPS URL Telegram calls.
        url: Url,
        /// Value of the `X-Telegram-Bot-Api-Secret-Token` header.
        secret_token: Secret,
    },
}
