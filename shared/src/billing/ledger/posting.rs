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

/// The two accounts of a user.
#[derive(Clone, Copy)]
pub(super) struct UserAccounts {
    pub(super) available: i64,
    pub(super) held: i64,
}

/// A leg of a posting: an account and a signed amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Leg {
    pub(super) account: i64,
    /// User accounts are locked before system accounts.
    pub(super) user_owned: bool,
    pub(super) amount: Decimal,
}

pub(super) struct NewTransaction<'a> {
    pub(super) kind: TransactionKind,
    pub(super) key: String,
    pub(super) job_id: Option<JobId>,
    pub(super) payment_id: Option<PaymentId>,
    pub(super) actor: &'a str,
    pub(super) memo: &'a str,
    pub(super) legs: Vec<Leg>,
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

pub(super) async fn transfer<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    db: &C,
    t: Transfer<'_>,
) -> Result<Posting, LedgerError> {
    let txn = db.begin().await?;
    let user = user_accounts(&txn, t.user_id).await?;
    let system = system_account(&txn, t.system, t.provider).await?;
    let posting = post(
        &txn,
        NewTransaction {
            kind: t.kind,
            key: t.key,
            job_id: None,
            payment_id: t.payment_id,
            actor: t.actor,
            memo: t.memo,
            legs: vec![
                Leg { account: user.available, user_owned: true, amount: t.to_user },
                Leg { account: system, user_owned: false, amount: -t.to_user },
            ],
        },
    )
    .await?;
    txn.commit().await?;
    Ok(posting)
}

pub(super) async fn user_accounts(txn: &DatabaseTransaction, user_id: UserId) -> Result<UserAccounts, DbErr> {
    txn.execute_raw(stmt(
        "INSERT INTO ledger_accounts (kind, user_id) VALUES ('user_available', $1), ('user_held', $1) \
         ON CONFLICT DO NOTHING",
        [user_id.into()],
    ))
    .await?;
    // A separate statement: it sees rows a concurrent insert committed while we waited.
    let rows = txn
        .query_all_raw(stmt("SELECT id, kind FROM ledger_accounts WHERE user_id = $1", [user_id.into()]))
        .await?;
    let mut accounts = UserAccounts { available: 0, held: 0 };
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        match row.try_get::<String>("", "kind")?.as_str() {
            "user_available" => accounts.available = id,
            "user_held" => accounts.held = id,
            other => return Err(DbErr::Type(format!("unexpected user account kind {other}"))),
        }
    }
    Ok(accounts)
}

pub(super) async fn system_account(
    txn: &DatabaseTransaction,
    kind: AccountKind,
    provider: Option<PaymentProvider>,
) -> Result<i64, DbErr> {
    let provider: Value = provider.map(provider_code).map(str::to_owned).into();
    txn.execute_raw(stmt(
        "INSERT INTO ledger_accounts (kind, provider) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [account_code(kind).into(), provider.clone()],
    ))
    .await?;
    let row = txn
        .query_one_raw(stmt(
            "SELECT id FROM ledger_accounts WHERE kind = $1 AND user_id IS NULL AND provider IS NOT DISTINCT FROM $2",
            [account_code(kind).into(), provider],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("system account {}", account_code(kind))))?;
    row.try_get("", "id")
}

/// Adds up legs on the same account and drops zero legs, in lock order.
pub(super) fn normalise(legs: Vec<Leg>) -> Vec<Leg> {
    let mut merged: BTreeMap<(bool, i64), Decimal> = BTreeMap::new();
    for leg in legs {
        // `!user_owned` sorts user accounts (false) first.
        *merged.entry((!leg.user_owned, leg.account)).or_default() += leg.amount;
    }
    merged
        .into_iter()
        .filter(|(_, amount)| !amount.is_zero())
        .map(|((system, account), amount)| Leg { account, user_owned: !system, amount })
        .collect()
}

/// Posts a balanced transaction once per key.
pub(super) async fn post(txn: &DatabaseTransaction, new: NewTransaction<'_>) -> Result<Posting, LedgerError> {
    let legs = normalise(new.legs);
    let inserted = txn
        .query_one_raw(stmt(
            "INSERT INTO ledger_transactions (kind, idempotency_key, job_id, payment_id, actor, memo) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            [
                kind_code(new.kind).into(),
                new.key.clone().into(),
                new.job_id.into(),
                new.payment_id.into(),
                new.actor.into(),
                new.memo.into(),
            ],
        ))
        .await?;
    let Some(inserted) = inserted else {
        let replayed = replay(txn, new.kind, &new.key, &legs).await?;
        crate::platform::metrics::live().ledger_posting(new.kind, PostingResult::Replayed);
        return Ok(replayed);
    };
    let transaction_id: i64 = inserted.try_get("", "id")?;

    let mut balances_after = Vec::with_capacity(legs.len());
    for leg in &legs {
        let updated = txn
            .query_one_raw(stmt(
                "UPDATE ledger_accounts SET balance = balance + $2, updated_at = now() \
                 WHERE id = $1 AND (user_id IS NULL OR balance + $2 >= 0) RETURNING balance",
                [leg.account.into(), leg.amount.into()],
            ))
            .await?;
        match updated {
            Some(row) => balances_after.push(row.try_get::<Decimal>("", "balance")?),
            None => {
                let row = txn
                    .query_one_raw(stmt(
                        "SELECT balance FROM ledger_accounts WHERE id = $1",
                        [leg.account.into()],
                    ))
                    .await?
                    .ok_or_else(|| DbErr::RecordNotFound(format!("ledger account {}", leg.account)))?;
                return Err(LedgerError::InsufficientFunds {
                    needed: credits(-leg.amount),
                    available: credits(row.try_get("", "balance")?),
                });
            }
        }
    }
    for (leg, balance_after) in legs.iter().zip(balances_after) {
        txn.execute_raw(stmt(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after) VALUES ($1, $2, $3, $4)",
            [transaction_id.into(), leg.account.into(), leg.amount.into(), balance_after.into()],
        ))
        .await?;
    }
    // Counted inside the caller's transaction: a posting rolled back later is still
    // counted once, which is rare enough not to blur the rate it shows.
    crate::platform::metrics::live().ledger_posting(new.kind, PostingResult::Posted);
    Ok(Posting { transaction_id, replayed: false })
}

/// Returns the earlier posting of `key` when it is the same posting.
pub(super) async fn replay(
    txn: &DatabaseTransaction,
    kind: TransactionKind,
    key: &str,
    legs: &[Leg],
) -> Result<Posting, LedgerError> {
    let conflict = || LedgerError::IdempotencyConflict { key: key.to_owned() };
    let earlier = txn
        .query_one_raw(stmt(
            "SELECT id, kind FROM ledger_transactions WHERE idempotency_key = $1",
            [key.into()],
        ))
        .await?
        .ok_or_else(conflict)?;
    let transaction_id: i64 = earlier.try_get("", "id")?;
    if kind_from_code(&earlier.try_get::<String>("", "kind")?)? != kind {
        return Err(conflict());
    }
    let entries = txn
        .query_all_raw(stmt(
            "SELECT account_id, amount FROM ledger_entries WHERE transaction_id = $1",
            [transaction_id.into()],
        ))
        .await?;
    let mut posted: Vec<(i64, Decimal)> = entries
        .iter()
        .map(|row| Ok((row.try_get("", "account_id")?, row.try_get::<Decimal>("", "amount")?.normalize())))
        .collect::<Result<_, DbErr>>()?;
    let mut wanted: Vec<(i64, Decimal)> =
        legs.iter().map(|leg| (leg.account, leg.amount.normalize())).collect();
    posted.sort();
    wanted.sort();
    if posted != wanted {
        return Err(conflict());
    }
    Ok(Posting { transaction_id, replayed: true })
}

impl Ledger {
    /// Credits a provider payment once per `(provider, provider_payment_id)`.
    pub async fn credit_purchase<C: TransactionTrait<Transaction = DatabaseTransaction>>(
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
    pub async fn reverse_purchase<C: TransactionTrait<Transaction = DatabaseTransaction>>(
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
    pub async fn reverse_bonus<C: TransactionTrait<Transaction = DatabaseTransaction>>(
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
    pub async fn grant_bonus<C: TransactionTrait<Transaction = DatabaseTransaction>>(
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
    pub async fn adjust<C: TransactionTrait<Transaction = DatabaseTransaction>>(
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
