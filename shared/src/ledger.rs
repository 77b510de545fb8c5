//! The double-entry credit ledger: the only module that moves money.
//!
//! Every operation is one database transaction (a savepoint when the caller
//! passes its own transaction, so a job row and its hold commit together).
//! Every posting has an idempotency key: replaying it returns the original
//! result, replaying it with other amounts is [`LedgerError::IdempotencyConflict`].
//! Balances never go negative: each debit is a conditional `UPDATE` whose
//! row count is checked, backed by a CHECK constraint; the database also
//! refuses to commit a transaction whose entries do not sum to zero.
//!
//! Accounts are locked in one global order (the user's accounts first, then
//! system accounts, each by id), so concurrent postings cannot deadlock.
//!
//! A hold is a row in `ledger_holds` (its state machine: open, then captured
//! or released, and a captured one may be refunded) plus a transfer from the
//! user's `available` account to their `held` account. Settling a hold locks
//! that row first, so a capture and a release racing for it cannot both win.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, QueryResult, Statement, TransactionTrait, Value,
};
use uuid::Uuid;

use crate::{
    config::PricingSettings,
    entities::{
        ledger_accounts::AccountKind, ledger_transactions::TransactionKind, payments::PaymentProvider,
    },
    money::Credits,
    pricing::{self, Allowance, Work},
};

/// Why a ledger operation did not happen. Nothing was changed in every case.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The user's available credit does not cover the amount.
    #[error("insufficient funds: {needed} needed, {available} available")]
    InsufficientFunds {
        /// What the operation needed.
        needed: Credits,
        /// What the user had available.
        available: Credits,
    },
    /// The idempotency key was already used for a different operation or amount.
    #[error("idempotency key {key} was already used with different parameters")]
    IdempotencyConflict {
        /// The key.
        key: String,
    },
    /// No hold exists for this job.
    #[error("no hold for job {0}")]
    HoldNotFound(Uuid),
    /// The hold was already settled in another way (e.g. capture after release).
    #[error("the hold of job {job_id} is already {status}")]
    HoldAlreadySettled {
        /// The job.
        job_id: Uuid,
        /// What happened to it.
        status: HoldStatus,
    },
    /// A capture asked for more than was held.
    #[error("cannot capture {requested}: only {held} is held")]
    CaptureExceedsHold {
        /// What is held.
        held: Credits,
        /// What the capture asked for.
        requested: Credits,
    },
    /// Only captured jobs can be refunded.
    #[error("job {0} was not charged, so it cannot be refunded")]
    NotCaptured(Uuid),
    /// An amount that makes no sense here (zero purchase, zero adjustment).
    #[error("invalid amount: {0}")]
    InvalidAmount(String),
    /// The database failed.
    #[error("ledger database error: {0}")]
    Db(#[from] DbErr),
}

/// Where a hold stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldStatus {
    /// Reserved, job not finished.
    Open,
    /// Charged (fully or in part).
    Captured,
    /// Given back.
    Released,
    /// Charged, then given back.
    Refunded,
}

impl HoldStatus {
    fn parse(code: &str) -> Result<Self, DbErr> {
        match code {
            "open" => Ok(Self::Open),
            "captured" => Ok(Self::Captured),
            "released" => Ok(Self::Released),
            "refunded" => Ok(Self::Refunded),
            other => Err(DbErr::Type(format!("unknown hold status {other}"))),
        }
    }
}

impl std::fmt::Display for HoldStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Open => "open",
            Self::Captured => "captured",
            Self::Released => "released",
            Self::Refunded => "refunded",
        })
    }
}

/// Credits reserved for a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    /// The job.
    pub job_id: Uuid,
    /// Who pays.
    pub user_id: i64,
    /// Paid credits reserved.
    pub amount: Credits,
    /// Credits charged, once captured.
    pub captured: Option<Credits>,
    /// Free allowance units reserved with it (seconds or images).
    pub free_units: u32,
    /// Current state.
    pub status: HoldStatus,
}

/// The outcome of a posting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posting {
    /// The ledger transaction.
    pub transaction_id: i64,
    /// True when the key had been posted before and nothing changed now.
    pub replayed: bool,
}

/// A user's money at a glance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    /// Spendable credits.
    pub available: Credits,
    /// Credits reserved by running jobs.
    pub held: Credits,
    /// Free transcription seconds left today.
    pub free_seconds_left_today: u32,
    /// Free image generations left this month.
    pub free_images_left_this_month: u32,
}

/// One line of a user's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The ledger transaction (use as the cursor for the next page).
    pub transaction_id: i64,
    /// What happened.
    pub kind: TransactionKind,
    /// Net change of the user's credits (available plus held): a hold is 0,
    /// a capture is minus the charge.
    pub amount: Decimal,
    /// Change of the user's available credits.
    pub available_change: Decimal,
    /// Available credits right after it.
    pub available_after: Decimal,
    /// Human-readable note.
    pub memo: String,
    /// The job it concerns.
    pub job_id: Option<Uuid>,
    /// The payment it concerns (purchases and their reversals).
    pub payment_id: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Figures for admins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminFigures {
    /// Credits charged since midnight (billing time zone), net of refunds.
    pub revenue_today: Decimal,
    /// Credits charged since the first of the month, net of refunds.
    pub revenue_this_month: Decimal,
    /// Credits users hold in all (available and held).
    pub credits_outstanding: Decimal,
    /// Holds not yet settled.
    pub open_holds: i64,
    /// Credits in those holds.
    pub open_holds_amount: Decimal,
}

/// Why credits were granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BonusReason {
    /// Welcome gift, once per user.
    Welcome,
    /// Reward for bringing `referee` (a user id), once per referee.
    Referral {
        /// The invited user.
        referee: i64,
    },
    /// A gift by an admin; `action_id` makes it idempotent.
    Admin {
        /// Telegram id of the admin.
        admin_telegram_id: i64,
        /// Unique id of the admin's action.
        action_id: String,
        /// Why.
        note: String,
    },
}

/// A payment to credit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purchase {
    /// Who paid.
    pub user_id: i64,
    /// Credits bought (package plus its bonus).
    pub credits: Credits,
    /// Who took the money.
    pub provider: PaymentProvider,
    /// The provider's payment id: the key of exactly-once crediting.
    pub provider_payment_id: String,
    /// Our payment row, when there is one.
    pub payment_id: Option<Uuid>,
}

/// Source of the current time; tests move it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The ledger, with the prices and allowances it applies.
#[derive(Clone)]
pub struct Ledger {
    pricing: PricingSettings,
    clock: Clock,
}

fn stmt(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

fn credits(amount: Decimal) -> Credits {
    // Amounts read from user accounts are non-negative by constraint.
    Credits::new(amount).unwrap_or(Credits::ZERO)
}

fn kind_code(kind: TransactionKind) -> &'static str {
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

fn kind_from_code(code: &str) -> Result<TransactionKind, DbErr> {
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

fn account_code(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::UserAvailable => "user_available",
        AccountKind::UserHeld => "user_held",
        AccountKind::Revenue => "revenue",
        AccountKind::PaymentsClearing => "payments_clearing",
        AccountKind::Bonus => "bonus",
        AccountKind::Refunds => "refunds",
    }
}

fn provider_code(provider: PaymentProvider) -> &'static str {
    match provider {
        PaymentProvider::YooKassa => "yookassa",
        PaymentProvider::Telegram => "telegram",
        PaymentProvider::Stars => "stars",
    }
}

/// The two accounts of a user.
#[derive(Clone, Copy)]
struct UserAccounts {
    available: i64,
    held: i64,
}

/// A leg of a posting: an account and a signed amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Leg {
    account: i64,
    /// User accounts are locked before system accounts.
    user_owned: bool,
    amount: Decimal,
}

struct NewTransaction<'a> {
    kind: TransactionKind,
    key: String,
    job_id: Option<Uuid>,
    payment_id: Option<Uuid>,
    actor: &'a str,
    memo: &'a str,
    legs: Vec<Leg>,
}

/// A posting between a user's available credits and a system account.
struct Transfer<'a> {
    user_id: i64,
    system: AccountKind,
    provider: Option<PaymentProvider>,
    /// Positive: credits to the user; negative: from the user (refused when
    /// the user has less).
    to_user: Decimal,
    kind: TransactionKind,
    key: String,
    payment_id: Option<Uuid>,
    actor: &'a str,
    memo: &'a str,
}

async fn transfer<C: TransactionTrait<Transaction = DatabaseTransaction>>(
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

async fn user_accounts(txn: &DatabaseTransaction, user_id: i64) -> Result<UserAccounts, DbErr> {
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

async fn system_account(
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
fn normalise(legs: Vec<Leg>) -> Vec<Leg> {
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
async fn post(txn: &DatabaseTransaction, new: NewTransaction<'_>) -> Result<Posting, LedgerError> {
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
        return replay(txn, new.kind, &new.key, &legs).await;
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
    Ok(Posting { transaction_id, replayed: false })
}

/// Returns the earlier posting of `key` when it is the same posting.
async fn replay(
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

const HOLD_COLUMNS: &str = "job_id, user_id, amount, captured, allowance, free_units, free_period, status";

struct HoldRow {
    hold: Hold,
    allowance: Option<Allowance>,
    free_period: Option<NaiveDate>,
}

fn hold_row(row: &QueryResult) -> Result<HoldRow, DbErr> {
    let allowance: Option<String> = row.try_get("", "allowance")?;
    let free_units: i32 = row.try_get("", "free_units")?;
    Ok(HoldRow {
        hold: Hold {
            job_id: row.try_get("", "job_id")?,
            user_id: row.try_get("", "user_id")?,
            amount: credits(row.try_get("", "amount")?),
            captured: row.try_get::<Option<Decimal>>("", "captured")?.map(credits),
            free_units: u32::try_from(free_units).unwrap_or(0),
            status: HoldStatus::parse(&row.try_get::<String>("", "status")?)?,
        },
        allowance: allowance.as_deref().and_then(Allowance::from_code),
        free_period: row.try_get("", "free_period")?,
    })
}

async fn lock_hold(txn: &DatabaseTransaction, job_id: Uuid) -> Result<HoldRow, LedgerError> {
    let row = txn
        .query_one_raw(stmt(
            &format!("SELECT {HOLD_COLUMNS} FROM ledger_holds WHERE job_id = $1 FOR UPDATE"),
            [job_id.into()],
        ))
        .await?
        .ok_or(LedgerError::HoldNotFound(job_id))?;
    Ok(hold_row(&row)?)
}

/// Counts `units` of the allowance as used (the row is locked by `lock_free_left`).
async fn use_free_units(
    txn: &DatabaseTransaction,
    user_id: i64,
    allowance: Allowance,
    period: NaiveDate,
    units: u32,
) -> Result<(), DbErr> {
    change_free_usage(txn, user_id, allowance, period, i64::from(units)).await
}

async fn give_back_free_units(
    txn: &DatabaseTransaction,
    row: &HoldRow,
    user_id: i64,
    units: u32,
) -> Result<(), DbErr> {
    if let (Some(allowance), Some(period), true) = (row.allowance, row.free_period, units > 0) {
        change_free_usage(txn, user_id, allowance, period, -i64::from(units)).await?;
    }
    Ok(())
}

/// Adds `delta` (negative: gives back) to the units of the allowance used in `period`.
async fn change_free_usage(
    txn: &DatabaseTransaction,
    user_id: i64,
    allowance: Allowance,
    period: NaiveDate,
    delta: i64,
) -> Result<(), DbErr> {
    txn.execute_raw(stmt(
        "UPDATE free_allowance_usage SET used = used + $4 \
         WHERE user_id = $1 AND allowance = $2 AND period_start = $3",
        [
            user_id.into(),
            allowance.code().into(),
            period.into(),
            i32::try_from(delta).unwrap_or(i32::MAX).into(),
        ],
    ))
    .await
    .map(drop)
}

/// How a capture decides what to charge.
enum Charge {
    /// Exactly this amount.
    Amount(Credits),
    /// The price of the work actually done, against the allowance reserved with the hold.
    Work(Work),
}

impl Ledger {
    /// A ledger applying `pricing`, on the system clock.
    pub fn new(pricing: PricingSettings) -> Self {
        Self { pricing, clock: Arc::new(Utc::now) }
    }

    /// The same ledger reading the time from `clock` (for tests).
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    /// The prices this ledger applies.
    pub fn pricing(&self) -> &PricingSettings {
        &self.pricing
    }

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

    /// Grants free credits: welcome once per user, referral once per referee,
    /// admin gifts once per action id.
    pub async fn grant_bonus<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        user_id: i64,
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

    /// Reserves exactly `amount` for `job_id` (which must exist).
    pub async fn hold<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        user_id: i64,
        job_id: Uuid,
        amount: Credits,
    ) -> Result<Hold, LedgerError> {
        self.reserve(db, user_id, job_id, Work::Fixed(amount)).await
    }

    /// Prices `work` (free allowance first) and reserves the price for `job_id`.
    /// The free units are consumed in the same transaction and come back if
    /// the hold is released. Holding twice for one job returns the first hold.
    pub async fn hold_for_work<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        user_id: i64,
        job_id: Uuid,
        work: Work,
    ) -> Result<Hold, LedgerError> {
        self.reserve(db, user_id, job_id, work).await
    }

    async fn reserve<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        user_id: i64,
        job_id: Uuid,
        work: Work,
    ) -> Result<Hold, LedgerError> {
        let txn = db.begin().await?;
        let existing = txn
            .query_one_raw(stmt(
                &format!("SELECT {HOLD_COLUMNS} FROM ledger_holds WHERE job_id = $1"),
                [job_id.into()],
            ))
            .await?;
        if let Some(row) = existing {
            return self.replayed_hold(hold_row(&row)?.hold, user_id, work);
        }

        let accounts = user_accounts(&txn, user_id).await?;
        let now = (self.clock)();
        let mut free = None;
        let mut free_left = 0;
        if let Some((allowance, _)) = work.allowance() {
            let period = allowance.period_start(&self.pricing, now);
            free_left = self.lock_free_left(&txn, user_id, allowance, period).await?;
            free = Some((allowance, period));
        }
        let quote = pricing::quote(&self.pricing, work, free_left);

        let (allowance, period): (Option<&str>, Option<NaiveDate>) = match (free, quote.free_units) {
            (Some((allowance, period)), units) if units > 0 => (Some(allowance.code()), Some(period)),
            _ => (None, None),
        };
        let inserted = txn
            .query_one_raw(stmt(
                &format!(
                    "INSERT INTO ledger_holds (job_id, user_id, amount, allowance, free_units, free_period, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (job_id) DO NOTHING RETURNING {HOLD_COLUMNS}"
                ),
                [
                    job_id.into(),
                    user_id.into(),
                    quote.price.amount().into(),
                    allowance.map(str::to_owned).into(),
                    i32::try_from(quote.free_units).unwrap_or(i32::MAX).into(),
                    period.into(),
                    now.into(),
                ],
            ))
            .await?;
        let Some(inserted) = inserted else {
            // A concurrent hold for the same job won; report it.
            drop(txn);
            let row = db
                .begin()
                .await?
                .query_one_raw(stmt(
                    &format!("SELECT {HOLD_COLUMNS} FROM ledger_holds WHERE job_id = $1"),
                    [job_id.into()],
                ))
                .await?
                .ok_or(LedgerError::HoldNotFound(job_id))?;
            return self.replayed_hold(hold_row(&row)?.hold, user_id, work);
        };
        let hold = hold_row(&inserted)?.hold;

        if let (Some((allowance, period)), true) = (free, quote.free_units > 0) {
            use_free_units(&txn, user_id, allowance, period, quote.free_units).await?;
        }
        if quote.price > Credits::ZERO {
            let amount = quote.price.amount();
            post(
                &txn,
                NewTransaction {
                    kind: TransactionKind::Hold,
                    key: format!("hold:{job_id}"),
                    job_id: Some(job_id),
                    payment_id: None,
                    actor: "system",
                    memo: "reserved for a job",
                    legs: vec![
                        Leg { account: accounts.available, user_owned: true, amount: -amount },
                        Leg { account: accounts.held, user_owned: true, amount },
                    ],
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(hold)
    }

    fn replayed_hold(&self, hold: Hold, user_id: i64, work: Work) -> Result<Hold, LedgerError> {
        let same_amount = match work {
            Work::Fixed(amount) => hold.amount == amount,
            // Re-quoting now could differ (allowance used since): the first hold stands.
            _ => true,
        };
        if hold.user_id != user_id || !same_amount {
            return Err(LedgerError::IdempotencyConflict { key: format!("hold:{}", hold.job_id) });
        }
        Ok(hold)
    }

    /// Raises an open hold to the price of `work` when the work turned out
    /// bigger than quoted (a document's length is known only once the worker
    /// has measured it; Telegram rounds a voice note's length to whole
    /// seconds). The extra units are priced with what is left of the user's
    /// free allowance first, so a user inside it is never asked for a
    /// fraction of a credit. Does nothing when the hold already covers the
    /// work or is no longer open (a retried job past its capture), so it is
    /// safe to repeat.
    ///
    /// # Errors
    /// [`LedgerError::InsufficientFunds`], changing nothing, when the balance
    /// does not cover the difference.
    pub async fn raise_hold<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: Uuid,
        work: Work,
    ) -> Result<Hold, LedgerError> {
        let txn = db.begin().await?;
        let row = lock_hold(&txn, job_id).await?;
        let mut hold = row.hold.clone();
        if hold.status != HoldStatus::Open {
            return Ok(hold);
        }
        let units = work.allowance().map_or(1, |(_, units)| units);
        if let Some((allowance, _)) = work.allowance()
            && units > hold.free_units
        {
            // The hold's own period, so a job queued before midnight stays in its day.
            let period =
                row.free_period.unwrap_or_else(|| allowance.period_start(&self.pricing, (self.clock)()));
            let free_left = self.lock_free_left(&txn, hold.user_id, allowance, period).await?;
            let extra = (units - hold.free_units).min(free_left);
            if extra > 0 {
                use_free_units(&txn, hold.user_id, allowance, period, extra).await?;
                hold.free_units += extra;
                txn.execute_raw(stmt(
                    "UPDATE ledger_holds SET free_units = $2, allowance = $3, free_period = $4 WHERE job_id = $1",
                    [
                        job_id.into(),
                        i32::try_from(hold.free_units).unwrap_or(i32::MAX).into(),
                        allowance.code().into(),
                        period.into(),
                    ],
                ))
                .await?;
            }
        }
        let price = pricing::price_of_units(&self.pricing, work, units.saturating_sub(hold.free_units));
        if price <= hold.amount {
            txn.commit().await?;
            return Ok(hold);
        }
        let extra = price.amount() - hold.amount.amount();
        let accounts = user_accounts(&txn, hold.user_id).await?;
        post(
            &txn,
            NewTransaction {
                kind: TransactionKind::Hold,
                key: format!("hold:{job_id}:raise:{}", price.amount()),
                job_id: Some(job_id),
                payment_id: None,
                actor: "system",
                memo: "reserved for a job longer than quoted",
                legs: vec![
                    Leg { account: accounts.available, user_owned: true, amount: -extra },
                    Leg { account: accounts.held, user_owned: true, amount: extra },
                ],
            },
        )
        .await?;
        txn.execute_raw(stmt(
            "UPDATE ledger_holds SET amount = $2 WHERE job_id = $1",
            [job_id.into(), price.amount().into()],
        ))
        .await?;
        txn.commit().await?;
        Ok(Hold { amount: price, ..hold })
    }

    /// The longest transcription, in whole seconds, that job `job_id` could
    /// be charged for: its hold (credits and free seconds), what is left of
    /// the free allowance and the available balance. Decoding a recording is
    /// stopped past this, so a file that understates its length costs no more
    /// work than its sender can pay for.
    pub async fn transcription_budget<C: ConnectionTrait>(
        &self,
        db: &C,
        job_id: Uuid,
    ) -> Result<u32, LedgerError> {
        let hold = self.hold_of(db, job_id).await?;
        let balance = self.balance(db, hold.user_id).await?;
        let credits =
            Credits::new(hold.amount.amount() + balance.available.amount()).unwrap_or(Credits::ZERO);
        let paid = pricing::transcription_seconds_for(&self.pricing, credits);
        // A hold from another day keeps that day's allowance; today's is what is left now.
        let free = hold.free_units.saturating_add(balance.free_seconds_left_today);
        Ok(paid.saturating_add(free))
    }

    /// The hold of job `job_id` as it stands.
    pub async fn hold_of<C: ConnectionTrait>(&self, db: &C, job_id: Uuid) -> Result<Hold, LedgerError> {
        let row = db
            .query_one_raw(stmt(
                &format!("SELECT {HOLD_COLUMNS} FROM ledger_holds WHERE job_id = $1"),
                [job_id.into()],
            ))
            .await?
            .ok_or(LedgerError::HoldNotFound(job_id))?;
        Ok(hold_row(&row)?.hold)
    }

    /// Locks the user's usage row of `allowance` for `period` and returns how
    /// many units are left in it.
    async fn lock_free_left(
        &self,
        txn: &DatabaseTransaction,
        user_id: i64,
        allowance: Allowance,
        period: NaiveDate,
    ) -> Result<u32, DbErr> {
        txn.execute_raw(stmt(
            "INSERT INTO free_allowance_usage (user_id, allowance, period_start) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            [user_id.into(), allowance.code().into(), period.into()],
        ))
        .await?;
        let row = txn
            .query_one_raw(stmt(
                "SELECT used FROM free_allowance_usage \
                 WHERE user_id = $1 AND allowance = $2 AND period_start = $3 FOR UPDATE",
                [user_id.into(), allowance.code().into(), period.into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("free allowance usage".into()))?;
        let used = u32::try_from(row.try_get::<i32>("", "used")?).unwrap_or(0);
        Ok(allowance.limit(&self.pricing).saturating_sub(used))
    }

    /// Charges `actual` (at most what is held) and returns the rest to the
    /// user. Capturing again with the same amount returns the same result.
    pub async fn capture<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: Uuid,
        actual: Credits,
    ) -> Result<Hold, LedgerError> {
        self.settle_capture(db, job_id, Charge::Amount(actual)).await
    }

    /// Charges for the work actually done (e.g. the exact duration the worker
    /// measured): the free units reserved cover it first, unused free units
    /// go back to the allowance, and the charge never exceeds the hold.
    pub async fn capture_work<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: Uuid,
        actual: Work,
    ) -> Result<Hold, LedgerError> {
        self.settle_capture(db, job_id, Charge::Work(actual)).await
    }

    async fn settle_capture<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: Uuid,
        charge: Charge,
    ) -> Result<Hold, LedgerError> {
        let txn = db.begin().await?;
        let row = lock_hold(&txn, job_id).await?;
        let hold = row.hold.clone();
        let (amount, free_used) = match charge {
            Charge::Amount(amount) => (amount, hold.free_units),
            Charge::Work(work) => {
                let units = work.allowance().map_or(1, |(_, units)| units);
                let free_used = units.min(hold.free_units);
                let price = pricing::price_of_units(&self.pricing, work, units - free_used);
                (price.min(hold.amount), free_used)
            }
        };
        match hold.status {
            HoldStatus::Open => {}
            HoldStatus::Captured if hold.captured == Some(amount) => return Ok(hold),
            HoldStatus::Captured => {
                return Err(LedgerError::IdempotencyConflict { key: format!("capture:{job_id}") });
            }
            status => return Err(LedgerError::HoldAlreadySettled { job_id, status }),
        }
        if amount > hold.amount {
            return Err(LedgerError::CaptureExceedsHold { held: hold.amount, requested: amount });
        }

        txn.execute_raw(stmt(
            "UPDATE ledger_holds SET status = 'captured', captured = $2, free_units = $3, settled_at = now() \
             WHERE job_id = $1",
            [job_id.into(), amount.amount().into(), i32::try_from(free_used).unwrap_or(i32::MAX).into()],
        ))
        .await?;
        give_back_free_units(&txn, &row, hold.user_id, hold.free_units - free_used).await?;
        if hold.amount > Credits::ZERO {
            let accounts = user_accounts(&txn, hold.user_id).await?;
            let revenue = system_account(&txn, AccountKind::Revenue, None).await?;
            post(
                &txn,
                NewTransaction {
                    kind: TransactionKind::Capture,
                    key: format!("capture:{job_id}"),
                    job_id: Some(job_id),
                    payment_id: None,
                    actor: "system",
                    memo: "charged for a job",
                    legs: vec![
                        Leg { account: accounts.held, user_owned: true, amount: -hold.amount.amount() },
                        Leg {
                            account: accounts.available,
                            user_owned: true,
                            amount: hold.amount.amount() - amount.amount(),
                        },
                        Leg { account: revenue, user_owned: false, amount: amount.amount() },
                    ],
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(Hold { captured: Some(amount), free_units: free_used, status: HoldStatus::Captured, ..hold })
    }

    /// Gives the whole hold back, free units included. Releasing twice is fine.
    pub async fn release<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: Uuid,
    ) -> Result<Hold, LedgerError> {
        let txn = db.begin().await?;
        let row = lock_hold(&txn, job_id).await?;
        let hold = row.hold.clone();
        match hold.status {
            HoldStatus::Open => {}
            HoldStatus::Released => return Ok(hold),
            status => return Err(LedgerError::HoldAlreadySettled { job_id, status }),
        }
        txn.execute_raw(stmt(
            "UPDATE ledger_holds SET status = 'released', settled_at = now() WHERE job_id = $1",
            [job_id.into()],
        ))
        .await?;
        give_back_free_units(&txn, &row, hold.user_id, hold.free_units).await?;
        if hold.amount > Credits::ZERO {
            let accounts = user_accounts(&txn, hold.user_id).await?;
            post(
                &txn,
                NewTransaction {
                    kind: TransactionKind::Release,
                    key: format!("release:{job_id}"),
                    job_id: Some(job_id),
                    payment_id: None,
                    actor: "system",
                    memo: "reservation returned",
                    legs: vec![
                        Leg { account: accounts.held, user_owned: true, amount: -hold.amount.amount() },
                        Leg { account: accounts.available, user_owned: true, amount: hold.amount.amount() },
                    ],
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(Hold { status: HoldStatus::Released, ..hold })
    }

    /// Gives a charged job's price back to the user, once; `actor` says who decided.
    pub async fn refund<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: Uuid,
        actor: &str,
        reason: &str,
    ) -> Result<Posting, LedgerError> {
        let txn = db.begin().await?;
        let row = lock_hold(&txn, job_id).await?;
        let hold = row.hold;
        let key = format!("refund:{job_id}");
        let amount = hold.captured.unwrap_or(Credits::ZERO).amount();
        match hold.status {
            HoldStatus::Captured => {}
            HoldStatus::Refunded => {
                let earlier = txn
                    .query_one_raw(stmt(
                        "SELECT id FROM ledger_transactions WHERE idempotency_key = $1",
                        [key.into()],
                    ))
                    .await?;
                let transaction_id = earlier.map(|row| row.try_get("", "id")).transpose()?.unwrap_or(0);
                return Ok(Posting { transaction_id, replayed: true });
            }
            _ => return Err(LedgerError::NotCaptured(job_id)),
        }
        if amount.is_zero() {
            return Err(LedgerError::InvalidAmount("the job was free: nothing to refund".into()));
        }
        txn.execute_raw(stmt(
            "UPDATE ledger_holds SET status = 'refunded' WHERE job_id = $1",
            [job_id.into()],
        ))
        .await?;
        let accounts = user_accounts(&txn, hold.user_id).await?;
        let refunds = system_account(&txn, AccountKind::Refunds, None).await?;
        let posting = post(
            &txn,
            NewTransaction {
                kind: TransactionKind::Refund,
                key,
                job_id: Some(job_id),
                payment_id: None,
                actor,
                memo: reason,
                legs: vec![
                    Leg { account: accounts.available, user_owned: true, amount },
                    Leg { account: refunds, user_owned: false, amount: -amount },
                ],
            },
        )
        .await?;
        txn.commit().await?;
        Ok(posting)
    }

    /// An admin's correction: `amount` (signed) added to the user's available
    /// credits, recorded with who and why; `action_id` makes it idempotent.
    pub async fn adjust<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        user_id: i64,
        amount: Decimal,
        reason: &str,
        admin_telegram_id: i64,
        action_id: &str,
    ) -> Result<Posting, LedgerError> {
        if amount.is_zero() {
            return Err(LedgerError::InvalidAmount("an adjustment must change something".into()));
        }
        if amount.normalize().scale() > crate::money::CREDIT_SCALE {
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

    /// The user's balance and what is left of their free allowances.
    pub async fn balance<C: ConnectionTrait>(&self, db: &C, user_id: i64) -> Result<Balance, LedgerError> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT kind, balance FROM ledger_accounts WHERE user_id = $1",
                [user_id.into()],
            ))
            .await?;
        let mut balance = Balance {
            available: Credits::ZERO,
            held: Credits::ZERO,
            free_seconds_left_today: 0,
            free_images_left_this_month: 0,
        };
        for row in rows {
            let amount = credits(row.try_get("", "balance")?);
            match row.try_get::<String>("", "kind")?.as_str() {
                "user_available" => balance.available = amount,
                "user_held" => balance.held = amount,
                _ => {}
            }
        }
        let now = (self.clock)();
        balance.free_seconds_left_today =
            self.free_left(db, user_id, Allowance::TranscriptionSeconds, now).await?;
        balance.free_images_left_this_month =
            self.free_left(db, user_id, Allowance::ImageGenerations, now).await?;
        Ok(balance)
    }

    async fn free_left<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: i64,
        allowance: Allowance,
        now: DateTime<Utc>,
    ) -> Result<u32, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT used FROM free_allowance_usage WHERE user_id = $1 AND allowance = $2 AND period_start = $3",
                [user_id.into(), allowance.code().into(), allowance.period_start(&self.pricing, now).into()],
            ))
            .await?;
        let used = match row {
            Some(row) => u32::try_from(row.try_get::<i32>("", "used")?).unwrap_or(0),
            None => 0,
        };
        Ok(allowance.limit(&self.pricing).saturating_sub(used))
    }

    /// The user's ledger history, newest first: `limit` transactions older
    /// than `before` (a transaction id from the previous page), or the newest.
    pub async fn history<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, LedgerError> {
        let rows = db
            .query_all_raw(stmt(
                "WITH mine AS (SELECT id, kind FROM ledger_accounts WHERE user_id = $1), \
                 available AS (SELECT id FROM mine WHERE kind = 'user_available'), \
                 page AS ( \
                     SELECT t.id, t.kind, t.memo, t.job_id, t.payment_id, t.created_at, \
                            SUM(e.amount) AS amount, \
                            COALESCE(SUM(e.amount) FILTER (WHERE e.account_id = (SELECT id FROM available)), 0) \
                                AS available_change, \
                            MAX(e.id) AS last_entry \
                     FROM ledger_transactions t \
                     JOIN ledger_entries e ON e.transaction_id = t.id AND e.account_id IN (SELECT id FROM mine) \
                     WHERE ($2::BIGINT IS NULL OR t.id < $2) \
                     GROUP BY t.id ORDER BY t.id DESC LIMIT $3) \
                 SELECT page.*, COALESCE(( \
                     SELECT balance_after FROM ledger_entries a \
                     WHERE a.account_id = (SELECT id FROM available) AND a.id <= page.last_entry \
                     ORDER BY a.id DESC LIMIT 1), 0) AS available_after \
                 FROM page ORDER BY page.id DESC",
                [user_id.into(), before.into(), i64::from(limit.clamp(1, 100)).into()],
            ))
            .await?;
        rows.iter()
            .map(|row| {
                Ok(HistoryEntry {
                    transaction_id: row.try_get("", "id")?,
                    kind: kind_from_code(&row.try_get::<String>("", "kind")?)?,
                    amount: row.try_get::<Decimal>("", "amount")?.normalize(),
                    available_change: row.try_get::<Decimal>("", "available_change")?.normalize(),
                    available_after: row.try_get::<Decimal>("", "available_after")?.normalize(),
                    memo: row.try_get("", "memo")?,
                    job_id: row.try_get("", "job_id")?,
                    payment_id: row.try_get("", "payment_id")?,
                    created_at: row.try_get("", "created_at")?,
                })
            })
            .collect::<Result<_, DbErr>>()
            .map_err(LedgerError::from)
    }

    /// Revenue, credits outstanding and open holds.
    pub async fn admin_figures<C: ConnectionTrait>(&self, db: &C) -> Result<AdminFigures, LedgerError> {
        let now = (self.clock)();
        let tz = self.pricing.timezone;
        let day_start = Allowance::TranscriptionSeconds.period_start(&self.pricing, now);
        let month_start = Allowance::ImageGenerations.period_start(&self.pricing, now);
        let start_of = |date: NaiveDate| -> DateTime<Utc> {
            date.and_hms_opt(0, 0, 0)
                .and_then(|naive| naive.and_local_timezone(tz).earliest())
                .map_or(now, |local| local.with_timezone(&Utc))
        };
        let row = db
            .query_one_raw(stmt(
                // Revenue entries are positive charges; refunds entries are negative give-backs.
                "SELECT \
                   COALESCE((SELECT SUM(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
                             WHERE a.kind IN ('revenue', 'refunds') AND e.created_at >= $1), 0) AS revenue_today, \
                   COALESCE((SELECT SUM(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
                             WHERE a.kind IN ('revenue', 'refunds') AND e.created_at >= $2), 0) AS revenue_month, \
                   COALESCE((SELECT SUM(balance) FROM ledger_accounts WHERE user_id IS NOT NULL), 0) AS outstanding, \
                   (SELECT COUNT(*) FROM ledger_holds WHERE status = 'open') AS open_holds, \
                   COALESCE((SELECT SUM(amount) FROM ledger_holds WHERE status = 'open'), 0) AS open_amount",
                [start_of(day_start).into(), start_of(month_start).into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("admin figures".into()))?;
        Ok(AdminFigures {
            revenue_today: row.try_get::<Decimal>("", "revenue_today")?.normalize(),
            revenue_this_month: row.try_get::<Decimal>("", "revenue_month")?.normalize(),
            credits_outstanding: row.try_get::<Decimal>("", "outstanding")?.normalize(),
            open_holds: row.try_get("", "open_holds")?,
            open_holds_amount: row.try_get::<Decimal>("", "open_amount")?.normalize(),
        })
    }

    /// Releases holds older than `older_than` whose job is no longer queued or
    /// running (crashed bots, lost jobs). Returns the jobs released.
    pub async fn release_stale_holds<
        C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
    >(
        &self,
        db: &C,
        older_than: chrono::Duration,
    ) -> Result<Vec<Uuid>, LedgerError> {
        let cutoff = (self.clock)() - older_than;
        let rows = db
            .query_all_raw(stmt(
                "SELECT h.job_id FROM ledger_holds h JOIN jobs j ON j.id = h.job_id \
                 WHERE h.status = 'open' AND h.created_at < $1 AND j.status NOT IN ('queued', 'running') \
                 ORDER BY h.created_at LIMIT 500",
                [cutoff.into()],
            ))
            .await?;
        let mut released = Vec::new();
        for row in rows {
            let job_id: Uuid = row.try_get("", "job_id")?;
            match self.release(db, job_id).await {
                Ok(_) => released.push(job_id),
                // Settled by its job between our scan and now: nothing to do.
                Err(LedgerError::HoldAlreadySettled { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        if !released.is_empty() {
            tracing::warn!(count = released.len(), "released stale holds");
        }
        Ok(released)
    }
}
