//! Balanced ledger transactions, each with a unique idempotency key.

use sea_orm::entity::prelude::*;

use crate::ids::{JobId, PaymentId};

/// Why money moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum TransactionKind {
    /// Credits bought.
    #[sea_orm(string_value = "purchase")]
    Purchase,
    /// Credits granted.
    #[sea_orm(string_value = "bonus")]
    Bonus,
    /// Credits reserved for a job.
    #[sea_orm(string_value = "hold")]
    Hold,
    /// A hold charged (fully or in part).
    #[sea_orm(string_value = "capture")]
    Capture,
    /// A hold given back.
    #[sea_orm(string_value = "release")]
    Release,
    /// A charge given back.
    #[sea_orm(string_value = "refund")]
    Refund,
    /// A manual correction by an admin.
    #[sea_orm(string_value = "adjustment")]
    Adjustment,
    /// A purchase reversed (e.g. a Stars refund).
    #[sea_orm(string_value = "reversal")]
    Reversal,
}

/// One row of `ledger_transactions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_transactions")]
pub struct Model {
    /// Transaction id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Why.
    pub kind: TransactionKind,
    /// Replaying the same key returns this transaction instead of posting again.
    #[sea_orm(unique)]
    pub idempotency_key: String,
    /// The job it pays for.
    pub job_id: Option<JobId>,
    /// The payment it credits.
    pub payment_id: Option<PaymentId>,
    /// `system` or `admin:<telegram id>`.
    pub actor: String,
    /// Human-readable note shown in history.
    pub memo: String,
    /// Posted.
    pub created_at: DateTimeUtc,
}

/// Links from a transaction.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Its entries.
    #[sea_orm(has_many = "super::ledger_entries::Entity")]
    Entries,
}

impl Related<super::ledger_entries::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Entries.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
