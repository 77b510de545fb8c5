//! Admin actions, each one database transaction with its audit record:
//! grants and debits through the ledger's adjustment posting, proposed first
//! and posted on confirmation (once, however often Confirm is tapped); bans;
//! retrying a failed job as a new job with the same input for the same user.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Action, Actor, Entry};
use crate::{
    billing::{
        ledger::{Balance, Ledger, LedgerError},
        money::Credits,
    },
    entities::{
        jobs::{self, JobKind, JobStatus},
        payments, users,
    },
    ids::{JobId, TelegramUserId, UserId},
    jobs::{JobError, NewJob, QueuedJob},
    media::{images, summaries},
    people::bans,
};

/// Why an admin action failed (as opposed to being refused, which is an outcome).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Creating the job failed.
    #[error(transparent)]
    Job(#[from] JobError),
    /// The database failed.
    #[error("admin action database error: {0}")]
    Db(#[from] DbErr),
}

/// How an admin names a user: `@username`, a Telegram id, or `#<internal id>`
/// (a bare number is looked up as a Telegram id first, then as an internal id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// `@name`, without the `@`.
    Username(String),
    /// A bare number.
    Number(i64),
    /// `#42`: our id.
    Internal(UserId),
}

impl UserRef {
    /// Parses what an admin typed; `None` when it names nobody.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix('@') {
            let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            return valid.then(|| Self::Username(name.to_owned()));
        }
        if let Some(id) = text.strip_prefix('#') {
            return id.parse().ok().map(|id| Self::Internal(UserId(id)));
        }
        text.parse().ok().map(Self::Number)
    }
}

/// The user `reference` names, if any.
///
/// # Errors
/// When the database fails.
pub async fn find_user<C: ConnectionTrait>(
    db: &C,
    reference: &UserRef,
) -> Result<Option<users::Model>, DbErr> {
    match reference {
        // Telegram usernames are case-insensitive.
        UserRef::Username(name) => {
            users::Entity::find()
                .from_raw_sql(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT * FROM users WHERE lower(username) = lower($1) ORDER BY id LIMIT 1",
                    [name.clone().into()],
                ))
                .one(db)
                .await
        }
        UserRef::Internal(id) => users::Entity::find_by_id(*id).one(db).await,
        UserRef::Number(number) => {
            match crate::people::users::find_by_telegram_id(db, TelegramUserId(*number)).await? {
                Some(user) => Ok(Some(user)),
                None => users::Entity::find_by_id(UserId(*number)).one(db).await,
            }
        }
    }
}

/// Lines of jobs and payments a user card shows.
const CARD_LINES: u64 = 5;

/// Everything `/user` shows about a user.
#[derive(Clone, Debug, PartialEq)]
pub struct UserCard {
    /// The user.
    pub user: users::Model,
    /// Their money and free allowances.
    pub balance: Balance,
    /// Who invited them.
    pub referrer: Option<users::Model>,
    /// Their latest jobs, newest first.
    pub jobs: Vec<jobs::Model>,
    /// Their latest payments, newest first.
    pub payments: Vec<payments::Model>,
}

/// Reads a user's card.
///
/// # Errors
/// When the database or the ledger fails.
pub async fn user_card<C: ConnectionTrait>(
    db: &C,
    ledger: &Ledger,
    user: users::Model,
) -> Result<UserCard, AdminError> {
    let balance = ledger.balance(db, user.id).await?;
    let referrer = match user.referred_by {
        Some(id) => users::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let jobs = jobs::Entity::find()
        .filter(jobs::Column::UserId.eq(user.id))
        .order_by_desc(jobs::Column::CreatedAt)
        .limit(CARD_LINES)
        .all(db)
        .await?;
    let payments = payments::Entity::find()
        .filter(payments::Column::UserId.eq(user.id))
        .order_by_desc(payments::Column::CreatedAt)
        .limit(CARD_LINES)
        .all(db)
        .await?;
    Ok(UserCard { user, balance, referrer, jobs, payments })
}

/// Which way credits move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustmentKind {
    /// To the user.
    Grant,
    /// From the user (never below zero).
    Debit,
}

impl AdjustmentKind {
    fn code(self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Debit => "debit",
        }
    }

    fn parse(code: &str) -> Result<Self, DbErr> {
        match code {
            "grant" => Ok(Self::Grant),
            "debit" => Ok(Self::Debit),
            other => Err(DbErr::Type(format!("unknown admin action kind {other}"))),
        }
    }
}

/// Where a proposed grant or debit stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionStatus {
    /// Waiting for Confirm or Cancel.
    Pending,
    /// Posted.
    Done,
    /// Cancelled.
    Cancelled,
    /// Refused by the ledger (a debit larger than the balance).
    Failed,
}

impl ActionStatus {
    fn parse(code: &str) -> Result<Self, DbErr> {
        match code {
            "pending" => Ok(Self::Pending),
            "done" => Ok(Self::Done),
            "cancelled" => Ok(Self::Cancelled),
            "failed" => Ok(Self::Failed),
            other => Err(DbErr::Type(format!("unknown admin action status {other}"))),
        }
    }
}

/// A grant or debit waiting for its confirmation; its id goes into the buttons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The action's id: the Confirm button's payload and the posting's idempotency key.
    pub id: Uuid,
    /// Grant or debit.
    pub kind: AdjustmentKind,
    /// To whom.
    pub target: UserId,
    /// How much.
    pub amount: Credits,
    /// Why.
    pub reason: String,
}

/// Records a grant or debit to be confirmed; nothing moves yet.
///
/// # Errors
/// When the database fails.
pub async fn propose_adjustment<C: ConnectionTrait>(
    db: &C,
    admin: TelegramUserId,
    kind: AdjustmentKind,
    target: UserId,
    amount: Credits,
    reason: &str,
) -> Result<Proposal, DbErr> {
    let id = Uuid::now_v7();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO admin_actions (id, admin_telegram_id, kind, target_user_id, amount, reason) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        [id.into(), admin.into(), kind.code().into(), target.into(), amount.amount().into(), reason.into()],
    ))
    .await?;
    Ok(Proposal { id, kind, target, amount, reason: reason.to_owned() })
}

/// What a tap on Confirm did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// Posted now.
    Done {
        /// What was posted.
        proposal: Proposal,
        /// The user's available credits after it.
        available_after: Credits,
    },
    /// Settled before (a second tap): nothing changed now.
    AlreadySettled(ActionStatus),
    /// The debit is larger than the user's available credits: nothing changed.
    Insufficient {
        /// The debit.
        needed: Credits,
        /// What the user has.
        available: Credits,
    },
    /// No such action (a forged button).
    NotFound,
}

/// Posts a proposed grant or debit once, with its audit record, in one
/// transaction; the action row is locked, so two taps at once post once.
///
/// # Errors
/// When the database or the ledger fails.
pub async fn confirm_adjustment<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    db: &C,
    ledger: &Ledger,
    id: Uuid,
    admin: TelegramUserId,
) -> Result<Confirmed, AdminError> {
    let txn = db.begin().await?;
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT kind, target_user_id, amount, reason, status FROM admin_actions WHERE id = $1 FOR UPDATE",
            [id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(Confirmed::NotFound) };
    let status = ActionStatus::parse(&row.try_get::<String>("", "status")?)?;
    if status != ActionStatus::Pending {
        return Ok(Confirmed::AlreadySettled(status));
    }
    let proposal = Proposal {
        id,
        kind: AdjustmentKind::parse(&row.try_get::<String>("", "kind")?)?,
        target: row.try_get("", "target_user_id")?,
        amount: Credits::new(row.try_get("", "amount")?).map_err(|err| DbErr::Type(err.to_string()))?,
        reason: row.try_get("", "reason")?,
    };
    let before = ledger.balance(&txn, proposal.target).await?.available;
    let signed = match proposal.kind {
        AdjustmentKind::Grant => proposal.amount.amount(),
        AdjustmentKind::Debit => -proposal.amount.amount(),
    };
    let posted =
        ledger.adjust(&txn, proposal.target, signed, &proposal.reason, admin, &id.simple().to_string()).await;
    let posting = match posted {
        Ok(posting) => posting,
        Err(LedgerError::InsufficientFunds { needed, available }) => {
            settle(&txn, id, "failed").await?;
            txn.commit().await?;
            return Ok(Confirmed::Insufficient { needed, available });
        }
        Err(err) => return Err(err.into()),
    };
    let after = ledger.balance(&txn, proposal.target).await?.available;
    let action = match proposal.kind {
        AdjustmentKind::Grant => Action::CreditsGrant,
        AdjustmentKind::Debit => Action::CreditsDebit,
    };
    audit::append(
        &txn,
        &Entry {
            actor: Actor::Admin(admin),
            action,
            target: Some(proposal.target),
            before: Some(json!({ "available": before.amount().normalize() })),
            after: Some(json!({
                "available": after.amount().normalize(),
                "amount": signed.normalize(),
                "admin_action": id,
                "ledger_transaction": posting.transaction_id,
            })),
            reason: proposal.reason.clone(),
        },
    )
    .await?;
    settle(&txn, id, "done").await?;
    txn.commit().await?;
    Ok(Confirmed::Done { proposal, available_after: after })
}

async fn settle(txn: &DatabaseTransaction, id: Uuid, status: &str) -> Result<(), DbErr> {
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE admin_actions SET status = $2, settled_at = now() WHERE id = $1",
        [id.into(), status.into()],
    ))
    .await
    .map(drop)
}

/// Cancels a proposal still pending: `None` when cancelled now, else how it
/// stands (`None` too for an unknown id, which changes nothing either way).
///
/// # Errors
/// When the database fails.
pub async fn cancel_adjustment<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<ActionStatus>, DbErr> {
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE admin_actions SET status = 'cancelled', settled_at = now() WHERE id = $1 AND status = 'pending'",
            [id.into()],
        ))
        .await?;
    if result.rows_affected() == 1 {
        return Ok(None);
    }
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT status FROM admin_actions WHERE id = $1",
            [id.into()],
        ))
        .await?;
    row.map(|row| ActionStatus::parse(&row.try_get::<String>("", "status")?)).transpose()
}

/// What a ban did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banned {
    /// They were banned already (only the reason changed).
    pub again: bool,
    /// Their unfinished jobs ended now (queued, waiting for a retry, or
    /// running): cancelled with their holds released, or, if already charged,
    /// ended undeliverable with the charge kept.
    pub jobs_ended: Vec<JobId>,
}

/// The `error_code` of jobs cancelled by their owner's ban.
pub const BANNED: &str = "banned";

/// Bans `target` (or changes the reason of a ban) and ends their unfinished
/// jobs, with the audit record, in one transaction. A job's row and hold are
/// settled through [`crate::jobs::cancel_unfinished`], so a worker that picks
/// the job up later finds it final and does nothing, and one still running it
/// stops at its next step.
///
/// # Errors
/// When the database or the ledger fails.
pub async fn ban<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    db: &C,
    ledger: &Ledger,
    admin: TelegramUserId,
    target: UserId,
    reason: &str,
) -> Result<Banned, AdminError> {
    let txn = db.begin().await?;
    let before = bans::lock_state(&txn, target).await?;
    bans::ban(&txn, target, reason).await?;
    // The user's row is locked: a job being created for them now waits for this
    // transaction, and none is created after it (its creator sees the ban).
    let unfinished = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM jobs WHERE user_id = $1 AND status IN ('queued', 'running') ORDER BY created_at",
            [target.into()],
        ))
        .await?;
    let mut jobs_ended = Vec::new();
    for row in unfinished {
        let job: JobId = row.try_get("", "id")?;
        if crate::jobs::cancel_unfinished(&txn, ledger, job, BANNED).await?.ended_now() {
            jobs_ended.push(job);
        }
    }
    let entry = Entry {
        actor: Actor::Admin(admin),
        action: Action::UserBan,
        target: Some(target),
        before: Some(ban_json(&before)),
        after: Some(json!({ "banned": true, "reason": reason, "jobs_cancelled": jobs_ended })),
        reason: reason.to_owned(),
    };
    audit::append(&txn, &entry).await?;
    txn.commit().await?;
    Ok(Banned { again: before.is_banned(), jobs_ended })
}

/// Lifts the ban of `target`, with its audit record; `false` when they were
/// not banned (nothing is written then).
///
/// # Errors
/// When the database fails.
pub async fn unban<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    db: &C,
    admin: TelegramUserId,
    target: UserId,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let before = bans::lock_state(&txn, target).await?;
    if !before.is_banned() {
        return Ok(false);
    }
    bans::unban(&txn, target).await?;
    let entry = Entry {
        actor: Actor::Admin(admin),
        action: Action::UserUnban,
        target: Some(target),
        before: Some(ban_json(&before)),
        after: Some(json!({ "banned": false })),
        reason: String::new(),
    };
    audit::append(&txn, &entry).await?;
    txn.commit().await?;
    Ok(true)
}

fn ban_json(state: &bans::BanState) -> serde_json::Value {
    json!({ "banned": state.is_banned(), "reason": state.reason })
}

/// A failed job, as `/jobs failed` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedJob {
    /// The job.
    pub id: JobId,
    /// Its owner.
    pub user_id: UserId,
    /// The owner's Telegram id.
    pub telegram_id: TelegramUserId,
    /// What it did.
    pub kind: JobKind,
    /// Why it failed.
    pub error_code: Option<String>,
    /// When.
    pub finished_at: Option<DateTime<Utc>>,
    /// The job an admin already queued in its place.
    pub retried_as: Option<JobId>,
}

/// The newest `limit` failed jobs, newest first.
///
/// # Errors
/// When the database fails.
pub async fn failed_jobs<C: ConnectionTrait>(db: &C, limit: u32) -> Result<Vec<FailedJob>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT j.id, j.user_id, u.telegram_id, j.kind, j.error_code, j.finished_at, \
               (SELECT (a.after->>'new_job')::UUID FROM audit_log a \
                 WHERE a.action = $2 AND a.after->>'failed_job' = j.id::TEXT LIMIT 1) AS retried_as \
             FROM jobs j JOIN users u ON u.id = j.user_id \
             WHERE j.status = 'failed' ORDER BY j.finished_at DESC NULLS LAST, j.created_at DESC LIMIT $1",
            [i64::from(limit).into(), Action::JobRetry.code().into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("", "kind")?;
            Ok(FailedJob {
                id: row.try_get("", "id")?,
                user_id: row.try_get("", "user_id")?,
                telegram_id: row.try_get("", "telegram_id")?,
                kind: job_kind(&kind)?,
                error_code: row.try_get("", "error_code")?,
                finished_at: row.try_get("", "finished_at")?,
                retried_as: row.try_get::<Option<Uuid>>("", "retried_as")?.map(JobId),
            })
        })
        .collect()
}

fn job_kind(code: &str) -> Result<JobKind, DbErr> {
    use sea_orm::{ActiveEnum, Iterable};
    JobKind::iter()
        .find(|kind| kind.to_value() == code)
        .ok_or_else(|| DbErr::Type(format!("unknown job kind {code}")))
}

/// What a tap on Retry did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Retried {
    /// A new job with the same input is queued (the caller pushes it).
    Queued {
        /// The new job and its hold.
        job: QueuedJob,
        /// Its kind, for the queue.
        kind: JobKind,
        /// Whom to tell.
        chat_id: crate::ids::ChatId,
    },
    /// Retried before: the job queued then.
    AlreadyRetried(JobId),
    /// The job is not failed (or no longer exists).
    NotFailed,
    /// The owner is banned: nothing is queued for them.
    Banned,
    /// The owner cannot pay for it now.
    Insufficient {
        /// The price.
        needed: Credits,
        /// What they have.
        available: Credits,
    },
}

/// Queues a failed job again as a new job with the same input, for the same
/// user, reserving its price as any new job does; once per failed job,
/// recorded in the audit trail in the same transaction.
///
/// # Errors
/// When the database or the ledger fails, or the job's input cannot be read.
pub async fn retry_failed_job<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    db: &C,
    ledger: &Ledger,
    admin: TelegramUserId,
    job_id: JobId,
) -> Result<Retried, AdminError> {
    let txn = db.begin().await?;
    let Some(job) = jobs::Entity::find_by_id(job_id).lock_exclusive().one(&txn).await? else {
        return Ok(Retried::NotFailed);
    };
    if job.status != JobStatus::Failed {
        return Ok(Retried::NotFailed);
    }
    let earlier = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT (after->>'new_job')::UUID AS new_job FROM audit_log \
             WHERE action = $1 AND after->>'failed_job' = $2 LIMIT 1",
            [Action::JobRetry.code().into(), job_id.0.to_string().into()],
        ))
        .await?;
    if let Some(earlier) = earlier {
        return Ok(Retried::AlreadyRetried(JobId(earlier.try_get("", "new_job")?)));
    }
    if bans::lock_state(&txn, job.user_id).await?.is_banned() {
        return Ok(Retried::Banned);
    }
    let work = match job.kind {
        JobKind::Transcribe => crate::billing::pricing::Work::Transcription {
            seconds: crate::jobs::transcription_input(&job)?.duration_hint_s.max(1),
        },
        JobKind::Image | JobKind::Idea => images::request_of(&job)?.work(),
        JobKind::Summary => summaries::request_of(&job)?.work(),
    };
    let new = NewJob {
        user_id: job.user_id,
        chat_id: job.chat_id,
        kind: job.kind,
        input: job.input.clone(),
        file_unique_id: job.file_unique_id.clone(),
        work,
    };
    let queued = match crate::jobs::create(&txn, ledger, new).await {
        Ok(queued) => queued,
        Err(JobError::Ledger(LedgerError::InsufficientFunds { needed, available })) => {
            return Ok(Retried::Insufficient { needed, available });
        }
        Err(err) => return Err(err.into()),
    };
    let entry = Entry {
        actor: Actor::Admin(admin),
        action: Action::JobRetry,
        target: Some(job.user_id),
        before: Some(json!({ "failed_job": job_id, "error_code": job.error_code })),
        after: Some(json!({
            "failed_job": job_id,
            "new_job": queued.job_id,
            "held": queued.hold.amount.amount().normalize(),
            "free_units": queued.hold.free_units,
        })),
        reason: String::new(),
    };
    audit::append(&txn, &entry).await?;
    txn.commit().await?;
    Ok(Retried::Queued { job: queued, kind: job.kind, chat_id: job.chat_id })
}
