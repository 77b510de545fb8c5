//! A top-up attempt with one payment provider.

use sea_orm::entity::prelude::*;

use crate::ids::{PaymentId, UserId};

/// Who takes the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum PaymentProvider {
    /// YooKassa directly (cards, SBP).
    #[sea_orm(string_value = "yookassa")]
    YooKassa,
    /// Telegram payments with a provider token.
    #[sea_orm(string_value = "telegram")]
    Telegram,
    /// Telegram Stars.
    #[sea_orm(string_value = "stars")]
    Stars,
}

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum PaymentStatus {
    /// Created, not paid yet.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Paid and credited.
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Cancelled or expired at the provider.
    #[sea_orm(string_value = "canceled")]
    Canceled,
    /// Paid, then refunded.
    #[sea_orm(string_value = "refunded")]
    Refunded,
}

/// One row of `payments`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    /// Our payment id (sent to providers as the idempotence key and payload).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PaymentId,
    /// Payer.
    pub user_id: UserId,
    /// Provider.
    pub provider: PaymentProvider,
    /// Provider's id, unique per provider; the key of exactly-once crediting.
    pub provider_payment_id: Option<String>,
    /// Credit package bought.
    pub package_id: Option<String>,
    /// Amount paid, in `currency`.
    #[sea_orm(column_type = "Decimal(Some((20, 4)))")]
    pub amount: Decimal,
    /// ISO code (`RUB`) or `XTR` for Stars.
    pub currency: String,
    /// Credits granted when paid.
    #[sea_orm(column_type = "Decimal(Some((20, 4)))")]
    pub credits: Decimal,
    /// Current status.
    pub status: PaymentStatus,
    /// Unique key for creating this payment.
    #[sea_orm(unique)]
    pub idempotency_key: String,
    /// The provider's last payload, verbatim.
    pub raw_payload: Option<Json>,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Links from a payment.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The payer.
    #[sea_orm(belongs_to = "super::users::Entity", from = "Column::UserId", to = "super::users::Column::Id")]
    User,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
