//! The audit trail: an append-only record of every admin action and every
//! money movement outside the job and payment flows (grants, debits, refunds,
//! reversals, bans, broadcasts). [`append`] takes the caller's transaction, so the record
//! commits with the change it describes or not at all. The database refuses
//! UPDATE, DELETE and TRUNCATE of `audit_log` (a trigger, and the application
//! role's privileges revoked), so what was written stays written.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, Value};

use crate::ids::{TelegramUserId, UserId};

/// Who did it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An admin, by Telegram id.
    Admin(TelegramUserId),
    /// The product itself (reconciliation, maintenance).
    System,
    /// A user acting on their own account (`/deletemydata`).
    User(TelegramUserId),
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The same form as `ledger_transactions.actor`, so the two can be joined by eye.
            Self::Admin(id) => write!(f, "admin:{id}"),
            Self::System => f.write_str("system"),
            Self::User(id) => write!(f, "user:{id}"),
        }
    }
}

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Credits given by an admin.
    CreditsGrant,
    /// Credits taken by an admin.
    CreditsDebit,
    /// A payment given back to the payer (Stars `/refund`) and its credits reversed.
    PaymentRefund,
    /// A user banned.
    UserBan,
    /// A ban lifted.
    UserUnban,
    /// A failed job queued again by an admin.
    JobRetry,
    /// A user's personal data deleted at their request (the books kept).
    UserErase,
    /// A broadcast confirmed by an admin: its recipients fixed, its sending begun.
    BroadcastSend,
    /// An admin answered a `/paysupport` question.
    SupportAnswer,
}

impl Action {
    /// The name stored in `audit_log.action`.
    pub fn code(self) -> &'static str {
        match self {
            Self::CreditsGrant => "credits.grant",
            Self::CreditsDebit => "credits.debit",
            Self::PaymentRefund => "payment.refund",
            Self::UserBan => "user.ban",
            Self::UserUnban => "user.unban",
            Self::JobRetry => "job.retry",
            Self::UserErase => "user.erase",
            Self::BroadcastSend => "broadcast.send",
            Self::SupportAnswer => "support.answer",
        }
    }
}

/// One record to append.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: Action,
    /// To whom, when it concerns a user.
    pub target: Option<UserId>,
    /// The state changed, before (ids, flags and amounts; no personal data).
    pub before: Option<serde_json::Value>,
    /// The same state after.
    pub after: Option<serde_json::Value>,
    /// Why, in the actor's words.
    pub reason: String,
}

/// A record as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Position in the trail.
    pub id: i64,
    /// `admin:<telegram id>` or `system`.
    pub actor: String,
    /// An [`Action::code`] (or one written by a later version).
    pub action: String,
    /// To whom.
    pub target: Option<UserId>,
    /// State before.
    pub before: Option<serde_json::Value>,
    /// State after.
    pub after: Option<serde_json::Value>,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Appends `entry` inside the caller's transaction; answers its id.
///
/// # Errors
/// When the database fails; the caller's transaction should then be dropped.
pub async fn append(txn: &DatabaseTransaction, entry: &Entry) -> Result<i64, DbErr> {
    let json = |value: &Option<serde_json::Value>| Value::Json(value.clone().map(Box::new));
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO audit_log (actor, action, target_user_id, before, after, reason) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            [
                entry.actor.to_string().into(),
                entry.action.code().into(),
                entry.target.into(),
                json(&entry.before),
                json(&entry.after),
                entry.reason.clone().into(),
            ],
        ))
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
    row.try_get("", "id")
}

/// The newest `limit` records, of one user or of everyone, newest first.
///
/// # Errors
/// When the database fails.
pub async fn recent<C: ConnectionTrait>(
    db: &C,
    target: Option<UserId>,
    limit: u32,
) -> Result<Vec<Record>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, actor, action, target_user_id, before, after, reason, created_at FROM audit_log \
             WHERE $1::BIGINT IS NULL OR target_user_id = $1 ORDER BY id DESC LIMIT $2",
            [target.into(), i64::from(limit).into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Record {
                id: row.try_get("", "id")?,
                actor: row.try_get("", "actor")?,
                action: row.try_get("", "action")?,
                target: row.try_get("", "target_user_id")?,
                before: row.try_get("", "before")?,
                after: row.try_get("", "after")?,
                reason: row.try_get("", "reason")?,
                created_at: row.try_get("", "created_at")?,
            })
        })
        .collect()
}
