//! The language of the business, shared by the bot and the worker, cut by owner:
//! `billing` (money, pricing, the ledger), `payments` (packages, settlement, YooKassa),
//! `jobs` (lifecycle and queue), `media` (transcripts, images, providers), `telegram`
//! (what is sent to Telegram), `people` (users, limits), `texts` (Fluent catalogues,
//! splitting) and `platform` (connections, secrets, telemetry, shutdown); `entities` is the
//! database schema they share and `ids` the typed ids every owner speaks in (`UserId`,
//! `TelegramUserId`, `ChatId`, `JobId`, `PaymentId`), importing no owner. Owners depend
//! downwards only (`tests/owners.rs` fails on a loop); `config` reads the environment once and builds each owner's settings, and
//! `metrics` reports across owners, and `operations` (admin actions, the audit trail, `/stats`)
//! acts across them: they sit on top and no owner imports them.

pub mod billing;
pub mod config;
pub mod entities;
pub mod ids;
pub mod jobs;
pub mod media;
pub mod metrics;
pub mod operations;
pub mod payments;
pub mod people;
pub mod platform;
pub mod telegram;
pub mod texts;

pub use config::Settings;
pub use platform::secret::Secret;
