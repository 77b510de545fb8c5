//! The language of the business, shared by the bot and the worker: settings,
//! database entities, users, money, texts and telemetry.

pub mod billing;
pub mod config;
pub mod entities;
pub mod jobs;
pub mod media;
pub mod metrics;
pub mod payments;
pub mod people;
pub mod platform;
pub mod telegram;
pub mod texts;

pub use config::Settings;
pub use platform::secret::Secret;
