//! Authentication for the Telegram Mini App, as pure code with no I/O.
//!
//! The Mini App page sends `Telegram.WebApp.initData` once; the server checks it
//! with [`InitDataVerifier`] (Telegram's HMAC `hash`, and optionally the Ed25519
//! `signature`), and answers with a short-lived session token from [`Sessions`]
//! that the page sends with every later request.
//!
//! # Error policy
//!
//! Every way a request can fail to authenticate is a variant of [`InitDataError`]
//! or [`SessionError`], each with a stable [`code`](InitDataError::code) meant
//! for the JSON body of a 401 answer. Their messages never contain what the
//! client sent (names, tokens, hashes), so they can be logged as they are.
//! Nothing here panics on client input.

mod init_data;
mod session;
mod settings;
mod signature;

pub use init_data::{
    ChatType, InitData, InitDataError, InitDataVerifier, InvalidBotToken, WebAppUser, sign_init_data,
};
pub use session::{Claims, SessionError, Sessions};
pub use settings::{JwtSecret, MiniAppAuthSettings, MiniAppSettings, SettingsError};
pub use signature::{SignatureKey, TelegramEnvironment};
