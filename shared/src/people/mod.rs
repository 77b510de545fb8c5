//! The people who use the bot: users created or refreshed from Telegram, their language and
//! referral codes (`users`), what they chose in the Mini App's settings (`settings`),
//! per-user rate limits kept in Redis (`limits`), the groups the bot works in (`groups`), and
//! admins' bans (`bans`).

pub mod bans;
pub mod groups;
pub mod limits;
pub mod privacy;
pub mod settings;
pub mod users;
