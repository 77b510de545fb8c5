//! Words users read: the typed `Text` front door over the Fluent catalogues in `shared/locales/`
//! with CLDR plurals (`i18n`), the operator's side's words (`admin`), subscription plans' words (`plans`), the Mini App page's words from the same folder (`page`), and cutting long texts into Telegram-sized messages (`split`).
//! Depends on no other owner.

pub mod admin;
pub mod i18n;
pub mod page;
pub mod plans;
pub mod split;
