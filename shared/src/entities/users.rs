//! A Telegram user of the bot.

use sea_orm::entity::prelude::*;

use crate::ids::{TelegramUserId, UserId};

use crate::texts::i18n::Lang;

/// One row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Internal id; used in object keys and ledger accounts.
    #[sea_orm(primary_key)]
    pub id: UserId,
    /// Telegram's user id.
    #[sea_orm(unique)]
    pub telegram_id: TelegramUserId,
    /// `@username`, when the user has one.
    pub username: Option<String>,
    /// First name as Telegram shows it.
    pub first_name: String,
    /// Language the bot speaks to this user.
    pub language: Lang,
    /// Code in the user's referral link.
    #[sea_orm(unique)]
    pub referral_code: String,
    /// The user whose link brought this one.
    pub referred_by: Option<UserId>,
    /// Set when the user blocked the bot; we stop sending to them. Their
    /// next message clears it (unlike a ban).
    pub is_blocked: bool,
    /// When an admin banned the user; `None` while they are not banned.
    pub banned_at: Option<DateTimeUtc>,
    /// Why they were banned (set exactly when `banned_at` is).
    pub ban_reason: Option<String>,
    /// When the banned user was told so; they are told once per ban.
    pub ban_notified_at: Option<DateTimeUtc>,
    /// First contact.
    pub created_at: DateTimeUtc,
    /// Last change of any column.
    pub updated_at: DateTimeUtc,
}

/// Links to rows that reference or are referenced by a user.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The referrer.
    #[sea_orm(belongs_to = "Entity", from = "Column::ReferredBy", to = "Column::Id")]
    Referrer,
    /// The user's jobs.
    #[sea_orm(has_many = "super::jobs::Entity")]
    Jobs,
    /// The user's payments.
    #[sea_orm(has_many = "super::payments::Entity")]
    Payments,
}

impl Related<super::jobs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Jobs.def()
    }
}

impl Related<super::payments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Payments.def()
    }
}

impl Model {
    /// Whether an admin banned this user: nothing they send is acted on.
    pub fn is_banned(&self) -> bool {
        self.banned_at.is_some()
    }
}

impl ActiveModelBehavior for ActiveModel {}
