//! The double-entry credit ledger: the only module that moves money.
//!
//! Each posting is one call of a PL/pgSQL function (migration
//! `0024_ledger_functions`): `ledger_hold`, `ledger_capture`, `ledger_release`,
//! `ledger_refund`, `ledger_transfer`, all built on `ledger_post`. One call is
//! one round trip and one statement, so it is atomic by itself, and inside a
//! caller's transaction it commits with it (a job row and its hold commit
//! together). A refusal writes nothing and comes back as an outcome, not as a
//! database error, so the caller's transaction stays usable.
//!
//! Every posting has an idempotency key: replaying it returns the original
//! result, replaying it with other amounts is [`LedgerError::IdempotencyConflict`].
//! Balances never go negative: `ledger_post` locks and checks every debited
//! user account before it writes, backed by a CHECK constraint; the database
//! also refuses to commit a transaction whose entries do not sum to zero.
//!
//! Accounts are locked in one global order (the user's accounts first, then
//! system accounts, each by id), so concurrent postings cannot deadlock.
//! System account ids are looked up inside the functions rather than cached in
//! the process: the lookup costs no round trip, and ids differ between
//! databases (every test has its own).
//!
//! A hold is a row in `ledger_holds` (its state machine: open, then captured
//! or released, and a captured one may be refunded) plus a transfer from the
//! user's `available` account to their `held` account. Settling a hold locks
//! that row first, so a capture and a release racing for it cannot both win.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, QueryResult, Statement, TransactionTrait, Value,
};

use crate::ids::{JobId, PaymentId, TelegramUserId, UserId};
use crate::{
    billing::money::Credits,
    billing::pricing::PricingSettings,
    billing::pricing::{self, Allowance, Work},
    entities::{
        ledger_accounts::AccountKind, ledger_transactions::TransactionKind, payments::PaymentProvider,
    },
};

mod holds;
mod plan_allowance;
mod posting;
mod reports;

pub use reports::{StatementCursor, StatementItem, StatementLine};

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
    HoldNotFound(JobId),
    /// The hold was already settled in another way (e.g. capture after release).
    #[error("the hold of job {job_id} is already {status}")]
    HoldAlreadySettled {
        /// The job.
        job_id: JobId,
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
    NotCaptured(JobId),
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
    pub job_id: JobId,
    /// Who pays.
    pub user_id: UserId,
    /// Paid credits reserved.
    pub amount: Credits,
    /// Credits charged, once captured.
    pub captured: Option<Credits>,
    /// Allowance units reserved with it (seconds or images) that the job does not
    /// pay for: its plan's first, then free ones.
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
    /// The plan the user is inside now, and what is left of it.
    pub plan: Option<PlanBalance>,
}

/// What is left of a user's plan period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanBalance {
    /// The period (plan id and its bounds).
    pub period: crate::billing::plans::PlanPeriod,
    /// Transcription seconds left in it.
    pub seconds_left: u32,
    /// Image generations left in it.
    pub images_left: u32,
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
    pub job_id: Option<JobId>,
    /// The payment it concerns (purchases and their reversals).
    pub payment_id: Option<PaymentId>,
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
        referee: UserId,
    },
    /// A gift by an admin; `action_id` makes it idempotent.
    Admin {
        /// Telegram id of the admin.
        admin_telegram_id: TelegramUserId,
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
    pub user_id: UserId,
    /// Credits bought (package plus its bonus).
    pub credits: Credits,
    /// Who took the money.
    pub provider: PaymentProvider,
    /// The provider's payment id: the key of exactly-once crediting.
    pub provider_payment_id: String,
    /// Our payment row, when there is one.
    pub payment_id: Option<PaymentId>,
}

/// Source of the current time; tests move it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The ledger, with the prices and allowances it applies.
#[derive(Clone)]
pub struct Ledger {
    pricing: PricingSettings,
    clock: Clock,
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

    /// `at` as a date users read (`07.01.2027`), in the billing time zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.pricing.timezone).format("%d.%m.%Y").to_string()
    }
}
