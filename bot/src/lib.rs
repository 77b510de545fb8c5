//! The bot process: receives Telegram updates (long polling or webhook) and
//! serves HTTP (health, readiness, payment webhooks, the Mini App and its API).
//!
//! Error policy: handlers return `anyhow::Result` with context; the
//! dispatcher logs each error chain once, with the update id. Users only ever
//! see texts from `shared::texts::i18n`.

mod admin;
mod broadcasts;
mod groups;
mod handlers;
mod http;
mod images;
mod intake;
mod miniapp;
mod payments;
mod plans;
mod privacy;
pub mod startup;
mod summary;
mod support;
mod webhook;

pub use miniapp::UPLOADS_PER_MINUTE;
pub use startup::run;
