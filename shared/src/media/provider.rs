//! Where an OpenAI-compatible provider (speech-to-text, images, chat) is and how it is reached.

use url::Url;

use crate::platform::secret::Secret;

/// An OpenAI-compatible API.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// Base URL including the version path, e.g. `https://api.openai.com/v1`.
    pub base_url: Url,
    /// API key; some self-hosted servers need none.
    pub api_key: Option<Secret>,
    /// Model name.
    pub model: String,
    /// Longest wait for a connection to it (`PROVIDER_CONNECT_TIMEOUT_SECONDS`).
    pub connect_timeout: std::time::Duration,
}
