//! Signed postings of a transaction to accounts.

use sea_orm::entity::prelude::*;

/// One row of `ledger_entries`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    /// Entry id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The transaction.
    pub transaction_id: i64,
    /// The account.
    pub account_id: i64,
    /// Positive adds to the account, negative takes from it.
    #[sea_orm(column_type = "Decimal(Some((20, 4)))")]
    pub amount: Decimal,
    /// The account's balance right after this entry.
    #[sea_orm(column_type = "Decimal(Some((20, 4)))")]
    pub balance_after: Decimal,
    /// Posted.
    pub created_at: DateTimeUtc,
}

/// Links from an entry.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The transaction.
    #[sea_orm(
        belongs_to = "super::ledger_transactions::Entity",
        from = "Column::TransactionId",
        to = "super::ledger_transactions::Column::Id"
    )]
    Transaction,
    /// The account.
    #[sea_orm(
        belongs_to = "super::ledger_accounts::Entity",
        from = "Column::AccountId",
        to = "super::ledger_accounts::Column::Id"
    )]
    Account,
}

impl Related<super::ledger_transactions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Transaction.def()
    }
}

impl Related<super::ledger_accounts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
