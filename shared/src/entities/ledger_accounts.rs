//! Ledger accounts: two per user, plus system accounts.

use sea_orm::entity::prelude::*;

use crate::ids::UserId;

/// The role of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum AccountKind {
    /// A user's spendable credits.
    #[sea_orm(string_value = "user_available")]
    UserAvailable,
    /// A user's credits reserved for running jobs.
    #[sea_orm(string_value = "user_held")]
    UserHeld,
    /// Credits earned by delivered work.
    #[sea_orm(string_value = "revenue")]
    Revenue,
    /// Source of purchased credits, one per provider.
    #[sea_orm(string_value = "payments_clearing")]
    PaymentsClearing,
    /// Source of granted credits (welcome, referral, admin).
    #[sea_orm(string_value = "bonus")]
    Bonus,
    /// Source of refunded credits.
    #[sea_orm(string_value = "refunds")]
    Refunds,
}

/// One row of `ledger_accounts`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_accounts")]
pub struct Model {
    /// Account id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Role.
    pub kind: AccountKind,
    /// Owner of a user account.
    pub user_id: Option<UserId>,
    /// Provider of a clearing account.
    pub provider: Option<String>,
    /// Which of a system account's rows (postings of concurrent sessions lock different
    /// ones); always 0 for a user's account.
    pub shard: i16,
    /// Cached sum of entries; never negative for user accounts.
    #[sea_orm(column_type = "Decimal(Some((20, 4)))")]
    pub balance: Decimal,
    /// Opened.
    pub created_at: DateTimeUtc,
    /// Last posting.
    pub updated_at: DateTimeUtc,
}

/// Links from an account.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Entries posted to it.
    #[sea_orm(has_many = "super::ledger_entries::Entity")]
    Entries,
}

impl Related<super::ledger_entries::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Entries.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
