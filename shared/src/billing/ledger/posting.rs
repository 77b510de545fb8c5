//! Posting: balanced transactions with idempotency keys, and the postings that are not holds
//! (purchases, their reversal, bonuses, admin corrections).

use super::*;
use crate::platform::metrics::PostingResult;

pub(super) fn stmt(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

pub(super) fn credits(amount: Decimal) -> Credits {
    // Amounts read from user accounts are non-negative by constraint.
    Credits::new(amount).unwrap_or(Credits::ZERO)
}

pub(super) fn kind_code(kind: TransactionKind) -> &'static str {
    match kind {
        TransactionKind::Purchase => "purchase",
        TransactionKind::Bonus => "bonus",
        TransactionKind::Hold => "hold",
        TransactionKind::Capture => "capture",
        TransactionKind::Release => "release",
        TransactionKind::Refund => "refund",
        TransactionKind::Adjustment => "adjustment",
        TransactionKind::Reversal => "reversal",
    }
}

pub(super) fn kind_from_code(code: &str) -> Result<TransactionKind, DbErr> {
    Ok(match code {
        "purchase" => TransactionKind::Purchase,
        "bonus" => TransactionKind::Bonus,
        "hold" => TransactionKind::Hold,
        "capture" => TransactionKind::Capture,
        "release" => TransactionKind::Release,
        "refund" => TransactionKind::Refund,
        "adjustment" => TransactionKind::Adjustment,
        "reversal" => TransactionKind::Reversal,
        other => return Err(DbErr::Type(format!("unknown transaction kind {other}"))),
    })
}

pub(super) fn account_code(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::UserAvailable => "user_available",
        AccountKind::UserHeld => "user_held",
        AccountKind::Revenue => "revenue",
        AccountKind::PaymentsClearing => "payments_clearing",
        AccountKind::Bonus => "bonus",
        AccountKind::Refunds => "refunds",
    }
}

pub(super) fn provider_code(provider: PaymentProvider) -> &'static str {
    match provider {
        PaymentProvider::YooKassa => "yookassa",
        PaymentProvider::Telegram => "telegram",
        PaymentProvider::Stars => "stars",
    }
}

/// A posting between a user's available credits and a system account.
pub(super) struct Transfer<'a> {
    pub(super) user_id: UserId,
    pub(super) system: AccountKind,
    pub(super) provider: Option<PaymentProvider>,
    /// Positive: credits to the user; negative: from the user (refused when
    /// the user has less).
    pub(super) to_user: Decimal,
    pub(super) kind: TransactionKind,
    pub(super) key: String,
    pub(super) payment_id: Option<PaymentId>,
    pub(super) actor: &'a str,
    pub(super) memo: &'a str,
}

/// One call of `ledger_transfer` (migration 0024): the whole posting is one round trip.
pub(super) async fn transfer<C: ConnectionTrait>(db: &C, t: Transfer<'_>) -> Result<Posting, LedgerError> {
    let provider: Value = t.provider.map(provider_code).map(str::to_owned).into();
    let row = db
        .query_one_raw(stmt(
            "SELECT transaction_id, outcome, short_needed, short_balance \
             FROM ledger_transfer($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [
                t.user_id.into(),
                account_code(t.system).into(),
                provider,
                t.to_user.into(),
                kind_code(t.kind).into(),
                t.key.clone().into(),
                t.payment_id.into(),
                t.actor.into(),
                t.memo.into(),
            ],
        ))
        .await?
        .ok_or_else(|| no_answer("ledger_transfer"))?;
    posting_outcome(&row, t.kind, &t.key)
}

/// A ledger function that returned no row: cannot happen for functions with OUT parameters.
pub(super) fn no_answer(function: &str) -> DbErr {
    DbErr::RecordNotFound(format!("{function} returned no row"))
}

/// What `ledger_post` (and the functions built on it) answered, as the caller's result.
pub(super) fn posting_outcome(
    row: &QueryResult,
    kind: TransactionKind,
    key: &str,
) -> Result<Posting, LedgerError> {
    let outcome: String = row.try_get("", "outcome")?;
    let posting = |replayed| -> Result<Posting, LedgerError> {
        Ok(Posting { transaction_id: row.try_get("", "transaction_id")?, replayed })
    };
    match outcome.as_str() {
        "posted" => {
            // Counted before the caller's commit: a posting rolled back later is still
            // counted once, which is rare enough not to blur the rate it shows.
            crate::platform::metrics::live().ledger_posting(kind, PostingResult::Posted);
            posting(false)
        }
        "replayed" => {
            crate::platform::metrics::live().ledger_posting(kind, PostingResult::Replayed);
            posting(true)
        }
        "conflict" => Err(LedgerError::IdempotencyConflict { key: key.to_owned() }),
        "insufficient" => Err(LedgerError::InsufficientFunds {
            needed: credits(row.try_get("", "short_needed")?),
            available: credits(row.try_get("", "short_balance")?),
        }),
        other => Err(DbErr::Type(format!("unknown ledger outcome {other}")).into()),
    }
}

impl Ledger {
    /// Credits a provider payment once per `(provider, provider_payment_id)`.
    pub async fn credit_purchase<C: ConnectionTrait>(
        &self,
        db: &C,
        purchase: &Purchase,
    ) -> Result<Posting, LedgerError> {
        if purchase.credits == Credits::ZERO {
            return Err(LedgerError::InvalidAmount("a purchase must credit something".into()));
        }
        let provider = provider_code(purchase.provider);
        transfer(
            db,
            Transfer {
                user_id: purchase.user_id,
                system: AccountKind::PaymentsClearing,
                provider: Some(purchase.provider),
                to_user: purchase.credits.amount(),
                kind: TransactionKind::Purchase,
                key: format!("purchase:{provider}:{}", purchase.provider_payment_id),
                payment_id: purchase.payment_id,
                actor: "system",
                memo: &format!("purchase via {provider}"),
            },
        )
        .await
    }

    /// Takes the credits of a refunded purchase back from the user, once per
    /// `(provider, provider_payment_id)`. Fails with
    /// [`LedgerError::InsufficientFunds`], changing nothing, when the user has
    /// already spent them.
    pub async fn reverse_purchase<C: ConnectionTrait>(
        &self,
        db: &C,
        purchase: &Purchase,
        actor: &str,
    ) -> Result<Posting, LedgerError> {
        let provider = provider_code(purchase.provider);
        transfer(
            db,
            Transfer {
                user_id: purchase.user_id,
                system: AccountKind::PaymentsClearing,
                provider: Some(purchase.provider),
                to_user: -purchase.credits.amount(),
                kind: TransactionKind::Reversal,
                key: format!("reversal:{provider}:{}", purchase.provider_payment_id),
                payment_id: purchase.payment_id,
                actor,
                memo: &format!("refund via {provider}"),
            },
        )
        .await
    }

    /// Takes back from `user_id` a bonus (or part of one) that a refunded
    /// purchase had earned them, once per `key`. Fails with
    /// [`LedgerError::InsufficientFunds`], changing nothing, when they have
    /// less available: callers take back only what is there.
    pub async fn reverse_bonus<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: UserId,
        amount: Credits,
        key: &str,
        actor: &str,
    ) -> Result<Posting, LedgerError> {
        transfer(
            db,
            Transfer {
                user_id,
                system: AccountKind::Bonus,
                provider: None,
                to_user: -amount.amount(),
                kind: TransactionKind::Reversal,
                key: format!("reversal:bonus:{key}"),
                payment_id: None,
                actor,
                memo: "referral bonus of a refunded purchase",
            },
        )
        .await
    }

    /// Grants free credits: welcome once per user, referral once per referee,
    /// admin gifts once per action id.
    pub async fn grant_bonus<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: UserId,
        amount: Credits,
        reason: &BonusReason,
    ) -> Result<Posting, LedgerError> {
        if amount == Credits::ZERO {
            return Err(LedgerError::InvalidAmount("a bonus must grant something".into()));
        }
        let (key, actor, memo) = match reason {
            BonusReason::Welcome => {
                (format!("bonus:welcome:{user_id}"), "system".to_owned(), "welcome bonus".to_owned())
            }
            BonusReason::Referral { referee } => {
                (format!("bonus:referral:{referee}"), "system".to_owned(), "referral bonus".to_owned())
            }
            BonusReason::Admin { admin_telegram_id, action_id, note } => {
                (format!("bonus:admin:{action_id}"), format!("admin:{admin_telegram_id}"), note.clone())
            }
        };
        transfer(
            db,
            Transfer {
                user_id,
                system: AccountKind::Bonus,
                provider: None,
                to_user: amount.amount(),
                kind: TransactionKind::Bonus,
                key,
                payment_id: None,
                actor: &actor,
                memo: &memo,
            },
        )
        .await
    }

    /// An admin's correction: `amount` (signed) added to the user's available
    /// credits, recorded with who and why; `action_id` makes it idempotent.
    pub async fn adjust<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: UserId,
        amount: Decimal,
        reason: &str,
        admin_telegram_id: TelegramUserId,
        action_id: &str,
    ) -> Result<Posting, LedgerError> {
        if amount.is_zero() {
            return Err(LedgerError::InvalidAmount("an adjustment must change something".into()));
        }
        if amount.normalize().scale() > crate::billing::money::CREDIT_SCALE {
            return Err(LedgerError::InvalidAmount(format!("{amount} has more than 4 decimal places")));
        }
        transfer(
            db,
            Transfer {
                user_id,
                system: AccountKind::Bonus,
                provider: None,
                to_user: amount,
                kind: TransactionKind::Adjustment,
                key: format!("adjust:{action_id}"),
                payment_id: None,
                actor: &format!("admin:{admin_telegram_id}"),
                memo: reason,
            },
        )
        .await
    }
}
