//! The bot process: receives Telegram updates (long polling or webhook) and
//! serves HTTP (health, readiness, and later payment webhooks and the Mini App).
//!
//! Error policy: handlers return `anyhow::Result` with context; the
//! dispatcher logs each error chain once, with the update id. Users only ever
//! see texts from `shared::texts::i18n`.

mod handlers;
mod http;
mod images;
mod intake;
mod miniapp;
mod payments;
pub mod startup;
mod webhook;

pub use startup::run;
