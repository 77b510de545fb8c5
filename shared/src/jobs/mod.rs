//! Jobs: the row in Postgres is the source of truth for a job's state.
//!
//! The queue only carries job ids and delivers them at least once, so every
//! step here is written to be repeated: creating a job and reserving its price
//! is one transaction; claiming it counts attempts and refuses finished jobs;
//! finishing, failing and cancelling settle the hold exactly once.
//!
//! `queue` carries job ids to the workers through Redis (apalis). This owner depends on
//! `billing` (every job holds its price) and `entities`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod queue;
pub mod wakeups;

use crate::ids::{ChatId, JobId, UserId};
use crate::{
    billing::ledger::{Hold, HoldStatus, Ledger, LedgerError},
    billing::money::Credits,
    billing::pricing::Work,
    entities::{
        jobs::{self, JobKind, JobStatus},
        transcripts,
    },
};

/// How the user sent the recording; it changes how the file is fetched and named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaSource {
    /// A voice message (Ogg/Opus).
    Voice,
    /// An audio file sent as music.
    Audio,
    /// A round video message.
    VideoNote,
    /// A video.
    Video,
    /// A file sent as a document with an audio or video MIME type.
    Document,
    /// A file uploaded through the Mini App straight to object storage: it is
    /// already the job's original, there is nothing to fetch from Telegram.
    Upload,
}

impl MediaSource {
    /// Whether Telegram measured the duration (documents and uploads carry an estimate).
    pub fn has_telegram_duration(self) -> bool {
        !matches!(self, Self::Document | Self::Upload)
    }
}

/// What a transcription job works on: Telegram's file references and hints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptionInput {
    /// Telegram file id, for `getFile`.
    pub file_id: String,
    /// Telegram's stable id of the content.
    pub file_unique_id: String,
    /// Size Telegram reported, in bytes.
    pub file_size: Option<u64>,
    /// MIME type Telegram reported (a hint only: formats are detected from bytes).
    pub mime_type: Option<String>,
    /// The user's file name, for documents and audio.
    pub file_name: Option<String>,
    /// Duration Telegram reported, in seconds (a hint: pricing is settled on the measured duration).
    pub duration_hint_s: u32,
    /// How it was sent.
    pub source: MediaSource,
    /// The message the transcript replies to: the recording's own message in a
    /// group, where several people's recordings mix; `None` in a private chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i32>,
}

/// The message a transcription job's transcript replies to, if any
/// ([`TranscriptionInput::reply_to`]); unreadable input replies to nothing.
pub fn transcript_reply_target(job: &jobs::Model) -> Option<i32> {
    transcription_input(job).ok().and_then(|input| input.reply_to)
}

/// Why a job operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Money could not be reserved (insufficient funds and the like).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The job does not exist.
    #[error("job {0} does not exist")]
    NotFound(JobId),
    /// The stored input could not be read back.
    #[error("job {job_id} has unreadable input: {reason}")]
    BadInput {
        /// The job.
        job_id: JobId,
        /// What is wrong.
        reason: String,
    },
    /// The owner is banned: nothing is queued for them.
    #[error("user {0} is banned")]
    Banned(UserId),
    /// The database failed.
    #[error("job database error: {0}")]
    Db(#[from] DbErr),
}

/// A queued job with its price reserved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedJob {
    /// The new job.
    pub job_id: JobId,
    /// The reservation.
    pub hold: Hold,
}

/// Creates a transcription job and reserves its price (free minutes first) in
/// one transaction: either both exist or neither does.
pub async fn create_transcription<C>(
    db: &C,
    ledger: &Ledger,
    user_id: UserId,
    chat_id: ChatId,
    input: &TranscriptionInput,
) -> Result<QueuedJob, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    create(db, ledger, transcription_job(user_id, chat_id, input)?).await
}

/// Assumed bitrate of a recording whose duration nobody measured yet (documents,
/// uploads): speech is usually compressed to about this. Only the first hold
/// rests on it; the worker measures the file and covers the difference.
const ASSUMED_BITS_PER_SECOND: u64 = 64_000;

/// The duration assumed for a recording of `bytes` until the worker measures it.
pub fn estimated_seconds(bytes: u64) -> u32 {
    u32::try_from(bytes.saturating_mul(8) / ASSUMED_BITS_PER_SECOND).unwrap_or(u32::MAX).max(1)
}

/// The job that transcribes `input` for `user_id`, reporting to `chat_id`.
pub fn transcription_job(
    user_id: UserId,
    chat_id: ChatId,
    input: &TranscriptionInput,
) -> Result<NewJob, JobError> {
    Ok(NewJob {
        user_id,
        chat_id,
        kind: JobKind::Transcribe,
        input: input_json(input)?,
        file_unique_id: Some(input.file_unique_id.clone()),
        work: Work::Transcription { seconds: input.duration_hint_s.max(1) },
    })
}

/// A job about to be created: who, what, and how it is priced.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    /// Owner.
    pub user_id: UserId,
    /// Chat to report to.
    pub chat_id: ChatId,
    /// What it does.
    pub kind: JobKind,
    /// Its input, as stored in `jobs.input`.
    pub input: serde_json::Value,
    /// Telegram's stable id of the input file, if any.
    pub file_unique_id: Option<String>,
    /// What is reserved for it (free allowance first).
    pub work: Work,
}

/// Serialises a job input for [`NewJob::input`].
pub fn input_json<T: Serialize>(input: &T) -> Result<serde_json::Value, JobError> {
    serde_json::to_value(input)
        .map_err(|err| JobError::BadInput { job_id: JobId(Uuid::nil()), reason: err.to_string() })
}

/// Creates a job of any kind and reserves its price in one transaction:
/// either both exist or neither does.
pub async fn create<C>(db: &C, ledger: &Ledger, new: NewJob) -> Result<QueuedJob, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    create_as(db, ledger, JobId::new(), new).await
}

/// [`create`] with the job id chosen by the caller: a job whose files are
/// already in storage under that id (a Mini App upload).
pub async fn create_as<C>(db: &C, ledger: &Ledger, job_id: JobId, new: NewJob) -> Result<QueuedJob, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    let txn = db.begin().await?;
    // The row is written only for an owner who is not banned, in the same
    // statement (one round trip less on every intake). KEY SHARE waits for a
    // ban being written (it locks the user FOR UPDATE) and then re-reads the
    // row, and does not wait for ordinary profile updates: a job is either
    // seen by the ban, which cancels it, or refused here.
    let now = Utc::now();
    let inserted = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO jobs (id, user_id, kind, status, progress, attempts, chat_id, input, file_unique_id, \
                 price_quoted, free_units, created_at, updated_at, provider_calls) \
             SELECT $1, id, $3, 'queued', 0, 0, $4, $5, $6, 0, 0, $7, $7, 0 \
             FROM users WHERE id = $2 AND banned_at IS NULL FOR KEY SHARE \
             RETURNING id",
            [
                job_id.into(),
                new.user_id.into(),
                sea_orm::ActiveEnum::to_value(&new.kind).into(),
                new.chat_id.into(),
                new.input.into(),
                new.file_unique_id.into(),
                now.into(),
            ],
        ))
        .await?;
    if inserted.is_none() {
        let owner = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT banned_at IS NOT NULL AS banned FROM users WHERE id = $1",
                [new.user_id.into()],
            ))
            .await?;
        return Err(match owner.map(|row| row.try_get::<bool>("", "banned")).transpose()? {
            Some(_) => JobError::Banned(new.user_id),
            None => JobError::Db(DbErr::RecordNotFound(format!("user {}", new.user_id))),
        });
    }
    let hold = ledger.hold_for_work_in(&txn, new.user_id, job_id, new.work).await?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET price_quoted = $2, free_units = $3 WHERE id = $1",
        [
            job_id.into(),
            hold.amount.amount().into(),
            i32::try_from(hold.free_units).unwrap_or(i32::MAX).into(),
        ],
    ))
    .await?;
    txn.commit().await?;
    Ok(QueuedJob { job_id, hold })
}

/// Reads a job's transcription input.
pub fn transcription_input(job: &jobs::Model) -> Result<TranscriptionInput, JobError> {
    serde_json::from_value(job.input.clone())
        .map_err(|err| JobError::BadInput { job_id: job.id, reason: err.to_string() })
}

/// Remembers the status message the worker will edit. `false` when the job
/// had already ended (a worker can finish a short job before the bot's
/// status message gets its turn in the chat's pacing): the message then
/// says something no longer true.
pub async fn set_status_message<C: ConnectionTrait>(
    db: &C,
    job_id: JobId,
    message_id: i32,
) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE jobs SET status_message_id = $2, updated_at = now() WHERE id = $1 \
             RETURNING status IN ('queued', 'running') AS under_way",
            [job_id.into(), message_id.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<bool>("", "under_way")).transpose()?.unwrap_or(false))
}

/// Unfinished jobs of chat `from` deliver to chat `to` (a group upgraded to a
/// supergroup).
pub async fn move_unfinished<C: ConnectionTrait>(db: &C, from: ChatId, to: ChatId) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET chat_id = $2, updated_at = now() \
         WHERE chat_id = $1 AND status IN ('queued', 'running')",
        [from.0.into(), to.0.into()],
    ))
    .await
    .map(drop)
}

/// The status message of a job, once the bot has sent it.
pub async fn status_message<C: ConnectionTrait>(db: &C, job_id: JobId) -> Result<Option<i32>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT status_message_id FROM jobs WHERE id = $1",
            [job_id.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<Option<i32>>("", "status_message_id")).transpose()?.flatten())
}

/// Remembers the status message the worker will edit and the user's message
/// that asked for the job, which the result replies to.
pub async fn set_messages<C: ConnectionTrait>(
    db: &C,
    job_id: JobId,
    status: i32,
    request: Option<i32>,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET status_message_id = $2, request_message_id = $3, updated_at = now() WHERE id = $1",
        [job_id.into(), status.into(), request.into()],
    ))
    .await
    .map(drop)
}

/// The job, if it is this user's: another user's id reads as no job at all.
///
/// # Errors
/// When the database fails.
pub async fn owned_by<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    job_id: JobId,
) -> Result<Option<jobs::Model>, DbErr> {
    jobs::Entity::find_by_id(job_id).filter(jobs::Column::UserId.eq(user_id)).one(db).await
}

/// How many unfinished jobs were queued before this one (0 = next).
pub async fn queue_position<C: ConnectionTrait>(db: &C, job_id: JobId) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS ahead FROM jobs WHERE status IN ('queued', 'running') \
             AND created_at < (SELECT created_at FROM jobs WHERE id = $1)",
            [job_id.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "ahead")).transpose()?.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// Jobs of a user that are not finished yet (for per-user limits).
pub async fn unfinished_count<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM jobs WHERE user_id = $1 AND status IN ('queued', 'running')",
            [user_id.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// The earlier transcript of the same file for the same user, if any.
pub async fn previous_transcript<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    file_unique_id: &str,
) -> Result<Option<transcripts::Model>, DbErr> {
    transcripts::Entity::find()
        .filter(transcripts::Column::UserId.eq(user_id))
        .filter(transcripts::Column::FileUniqueId.eq(file_unique_id))
        // A deleted transcript is no answer: the file is transcribed (and paid) again.
        .filter(transcripts::Column::DeletedAt.is_null())
        .order_by_desc(transcripts::Column::CreatedAt)
        .one(db)
        .await
}

/// What a worker may do with a job it was handed.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// Work on it; this is attempt number `attempt` (1-based).
    Run {
        /// The job as it is now.
        job: Box<jobs::Model>,
        /// Attempts including this one.
        attempt: u32,
    },
    /// It already reached a final state: a duplicate delivery, do nothing.
    Finished(JobStatus),
    /// Another worker holds a current lease on it: a duplicate delivery, do nothing.
    Busy,
    /// It used up its attempts: fail it.
    Exhausted(Box<jobs::Model>),
}

/// How long a claim lasts without renewal ([`renew_lease`]) unless configured.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

fn lease_seconds(lease: std::time::Duration) -> i64 {
    i64::try_from(lease.as_secs().max(1)).unwrap_or(i64::MAX)
}

/// Claims a job for one attempt under a lease of `lease`: counts the attempt
/// unless the job is finished, is leased by a live worker, or has used
/// `max_attempts`. Safe to call for a redelivered job.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    job_id: JobId,
    max_attempts: u32,
    lease: std::time::Duration,
) -> Result<Claim, JobError> {
    let updated = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = now() + $3 * INTERVAL '1 second', \
                 started_at = COALESCE(started_at, now()), updated_at = now() \
             WHERE id = $1 AND attempts < $2 \
               AND (status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < now()))) \
             RETURNING id",
            [
                job_id.into(),
                i32::try_from(max_attempts).unwrap_or(i32::MAX).into(),
                lease_seconds(lease).into(),
            ],
        ))
        .await?;
    let job = jobs::Entity::find_by_id(job_id).one(db).await?.ok_or(JobError::NotFound(job_id))?;
    if updated.is_some() {
        let attempt = u32::try_from(job.attempts).unwrap_or(0);
        return Ok(Claim::Run { job: Box::new(job), attempt });
    }
    let leased = job.lease_until.is_some_and(|until| until > chrono::Utc::now());
    Ok(match job.status {
        JobStatus::Running if leased => Claim::Busy,
        JobStatus::Queued | JobStatus::Running => Claim::Exhausted(Box::new(job)),
        status => Claim::Finished(status),
    })
}

/// Ends the lease of an attempt handed back unfinished (the worker is
/// shutting down), so the sweeper pushes the job again and any worker can
/// claim it at once.
pub async fn release_lease<C: ConnectionTrait>(db: &C, job_id: JobId) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET lease_until = now() WHERE id = $1 AND status = 'running'",
        [job_id.into()],
    ))
    .await
    .map(drop)
}

/// Puts a failed attempt's job aside for `delay`: no worker claims it before
/// then, and the sweeper queues it again once the delay is over.
pub async fn defer<C: ConnectionTrait>(
    db: &C,
    job_id: JobId,
    delay: std::time::Duration,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET lease_until = now() + $2 * INTERVAL '1 millisecond', updated_at = now() \
         WHERE id = $1 AND status = 'running'",
        [job_id.into(), i64::try_from(delay.as_millis()).unwrap_or(i64::MAX).into()],
    ))
    .await
    .map(drop)
}

/// How long to wait before attempt `attempt + 1` of `job_id`: `base` doubled
/// per attempt, at most 10 minutes, spread by up to a quarter either way so
/// jobs that failed together do not come back together.
pub fn retry_delay(base: std::time::Duration, attempt: u32, job_id: JobId) -> std::time::Duration {
    const CAP: std::time::Duration = std::time::Duration::from_secs(600);
    let doubled = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(CAP);
    // A spread that differs per job and attempt, without a random source to seed.
    let spread = (job_id.0.as_u128() ^ u128::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 1001;
    let factor = 0.75 + 0.5 * (spread as f64 / 1000.0);
    doubled.mul_f64(factor)
}

/// Extends the lease of a running job to `lease` from now; the worker calls it
/// while it works.
pub async fn renew_lease<C: ConnectionTrait>(
    db: &C,
    job_id: JobId,
    lease: std::time::Duration,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET lease_until = now() + $2 * INTERVAL '1 second' WHERE id = $1 AND status = 'running'",
        [job_id.into(), lease_seconds(lease).into()],
    ))
    .await
    .map(drop)
}

/// Records progress (0-100) for the status message.
pub async fn set_progress<C: ConnectionTrait>(db: &C, job_id: JobId, progress: u8) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET progress = $2, updated_at = now() WHERE id = $1 AND status = 'running'",
        [job_id.into(), i16::from(progress.min(100)).into()],
    ))
    .await
    .map(drop)
}

/// Records a job's price raised from `from` to `to` once it was measured;
/// true for the one call that changed it, so the user is told once.
pub async fn raise_quote<C: ConnectionTrait>(
    db: &C,
    job_id: JobId,
    from: rust_decimal::Decimal,
    to: rust_decimal::Decimal,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE jobs SET price_quoted = $3, updated_at = now() WHERE id = $1 AND price_quoted = $2",
            [job_id.into(), from.into(), to.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Ids of the result messages already sent for `job`, in order (see
/// [`record_delivered`]).
pub fn delivered_so_far(job: &jobs::Model) -> Vec<i32> {
    job.result
        .as_ref()
        .and_then(|result| result.get("delivered_message_ids"))
        .and_then(serde_json::Value::as_array)
        .map(|ids| ids.iter().filter_map(|id| id.as_i64()).filter_map(|id| i32::try_from(id).ok()).collect())
        .unwrap_or_default()
}

/// Records that one more result message was sent, so an attempt retried
/// after a crash resumes the delivery after it instead of repeating it.
pub async fn record_delivered<C: ConnectionTrait>(
    db: &C,
    job_id: JobId,
    message_id: i32,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET result = jsonb_set(COALESCE(result, '{}'::jsonb), '{delivered_message_ids}', \
             COALESCE(result -> 'delivered_message_ids', '[]'::jsonb) || to_jsonb($2::INTEGER)), \
             updated_at = now() \
         WHERE id = $1 AND status = 'running'",
        [job_id.into(), message_id.into()],
    ))
    .await
    .map(drop)
}

/// Marks the job succeeded with its result; repeated calls keep the first result.
pub async fn mark_succeeded<C: ConnectionTrait>(
    db: &C,
    job_id: JobId,
    result: &serde_json::Value,
    charged: rust_decimal::Decimal,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET status = 'succeeded', progress = 100, result = $2, price_charged = $3, \
             error_code = NULL, finished_at = now(), updated_at = now() \
         WHERE id = $1 AND status IN ('queued', 'running')",
        [job_id.into(), result.clone().into(), charged.into()],
    ))
    .await
    .map(drop)
}

/// How a job that could not finish ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Failed before its charge: the hold went back to the user.
    Failed,
    /// Already charged (the work is done and stored) but not delivered: the
    /// charge stands, the result waits in storage, nothing is redone.
    Undeliverable,
    /// It had already ended; nothing changed.
    AlreadyFinal,
}

impl Ending {
    /// Whether this call ended the job (and the user should hear about it once).
    pub fn ended_now(self) -> bool {
        self != Self::AlreadyFinal
    }
}

/// Ends a job that cannot finish, once: before its charge it fails and its
/// hold goes back; after its charge it ends undeliverable with the charge
/// kept. Every running job can reach a final state through here.
pub async fn fail<C>(db: &C, ledger: &Ledger, job_id: JobId, error_code: &str) -> Result<Ending, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    end_unpaid(db, ledger, job_id, JobStatus::Failed, error_code).await
}

/// Cancels `user`'s newest job that no worker has started, giving its hold
/// back; returns the credits it had been quoted, or `None` when there was
/// nothing to cancel.
///
/// # Errors
/// When the database or the ledger fails.
pub async fn cancel_latest_queued<C>(
    db: &C,
    ledger: &Ledger,
    user: UserId,
) -> Result<Option<Credits>, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    let queued = jobs::Entity::find()
        .filter(jobs::Column::UserId.eq(user))
        .filter(jobs::Column::Status.eq(JobStatus::Queued))
        .order_by_desc(jobs::Column::CreatedAt)
        .one(db)
        .await?;
    let Some(job) = queued else { return Ok(None) };
    if !cancel_queued(db, ledger, job.id).await? {
        return Ok(None);
    }
    Ok(Some(
        Credits::new(job.price_quoted)
            .map_err(|err| JobError::BadInput { job_id: job.id, reason: err.to_string() })?,
    ))
}

/// Cancels a queued or running job of a user whose data is being deleted,
/// recording `error_code`: its hold goes back through the ledger's release
/// (once, however often this is called). A job already charged (its work is
/// done, only the delivery is left) ends undeliverable with its charge kept.
/// A worker still running it finds it final and stops at its next step.
///
/// # Errors
/// When the database or the ledger fails.
pub async fn cancel_unfinished<C>(
    db: &C,
    ledger: &Ledger,
    job_id: JobId,
    error_code: &str,
) -> Result<Ending, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    end_unpaid(db, ledger, job_id, JobStatus::Cancelled, error_code).await
}

/// Ends a queued or running job as `status` with its hold released, or, when
/// the hold was already captured, as undeliverable with the charge kept.
async fn end_unpaid<C>(
    db: &C,
    ledger: &Ledger,
    job_id: JobId,
    status: JobStatus,
    error_code: &str,
) -> Result<Ending, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    match finish_unpaid(db, ledger, job_id, status, error_code, &["queued", "running"]).await {
        Ok(true) => Ok(Ending::Failed),
        Ok(false) => Ok(Ending::AlreadyFinal),
        Err(JobError::Ledger(LedgerError::HoldAlreadySettled { status: HoldStatus::Captured, .. })) => {
            let ended = db
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "UPDATE jobs SET status = 'undeliverable', error_code = $2, lease_until = NULL, \
                         price_charged = (SELECT captured FROM ledger_holds WHERE job_id = $1), \
                         finished_at = now(), updated_at = now() \
                     WHERE id = $1 AND status IN ('queued', 'running')",
                    [job_id.into(), error_code.into()],
                ))
                .await?;
            Ok(if ended.rows_affected() == 1 { Ending::Undeliverable } else { Ending::AlreadyFinal })
        }
        Err(err) => Err(err),
    }
}

/// Cancels a job that no worker has started, giving its hold back. Returns
/// false when it was already running or finished.
pub async fn cancel_queued<C>(db: &C, ledger: &Ledger, job_id: JobId) -> Result<bool, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    finish_unpaid(db, ledger, job_id, JobStatus::Cancelled, "cancelled", &["queued"]).await
}

async fn finish_unpaid<C>(
    db: &C,
    ledger: &Ledger,
    job_id: JobId,
    status: JobStatus,
    error_code: &str,
    from: &[&str],
) -> Result<bool, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    let status_code = match status {
        JobStatus::Failed => "failed",
        JobStatus::Cancelled => "cancelled",
        _ => return Err(JobError::BadInput { job_id, reason: "not a final unpaid status".into() }),
    };
    let txn = db.begin().await?;
    let updated = txn
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE jobs SET status = $2, error_code = $3, finished_at = now(), updated_at = now() \
             WHERE id = $1 AND status = ANY($4)",
            [
                job_id.into(),
                status_code.into(),
                error_code.into(),
                from.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>().into(),
            ],
        ))
        .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    match ledger.release(&txn, job_id).await {
        Ok(_) | Err(LedgerError::HoldNotFound(_)) => {}
        Err(err) => return Err(err.into()),
    }
    txn.commit().await?;
    Ok(true)
}

/// Jobs to put on the queue again: queued but not pushed for `repush_after`
/// (the push was lost, e.g. Redis was down), or running under a lease that
/// ended at `now` (a dead worker, or a failed attempt whose backoff is over)
/// and not pushed since it ended. Workers ignore duplicates.
pub async fn stale_queued<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    repush_after: std::time::Duration,
) -> Result<Vec<JobId>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM jobs WHERE \
                (status = 'queued' AND COALESCE(pushed_at, created_at) < $1 - $2 * INTERVAL '1 millisecond') \
                OR (status = 'running' AND lease_until < $1 AND (pushed_at IS NULL OR pushed_at < lease_until \
                    OR pushed_at < $1 - $2 * INTERVAL '1 millisecond')) \
             ORDER BY created_at LIMIT 500",
            [now.into(), i64::try_from(repush_after.as_millis()).unwrap_or(i64::MAX).into()],
        ))
        .await?;
    rows.iter().map(|row| row.try_get("", "id")).collect()
}

/// Counts one call to a provider for the job (made whatever its answer).
pub async fn count_provider_call<C: ConnectionTrait>(db: &C, job_id: JobId) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET provider_calls = provider_calls + 1 WHERE id = $1",
        [job_id.into()],
    ))
    .await
    .map(drop)
}

/// Records that the jobs were just put on the queue.
pub async fn mark_pushed<C: ConnectionTrait>(db: &C, job_ids: &[JobId]) -> Result<(), DbErr> {
    if job_ids.is_empty() {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE jobs SET pushed_at = now() WHERE id = ANY($1)",
        [job_ids.to_vec().into()],
    ))
    .await
    .map(drop)
}

/// Like [`stale_queued`], with each job's kind, so the sweeper pushes it to
/// the right queue.
pub async fn stale_jobs<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    repush_after: std::time::Duration,
) -> Result<Vec<(JobId, JobKind)>, DbErr> {
    let ids = stale_queued(db, now, repush_after).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let kinds: std::collections::HashMap<JobId, JobKind> = jobs::Entity::find()
        .filter(jobs::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|job| (job.id, job.kind))
        .collect();
    Ok(ids.into_iter().filter_map(|id| kinds.get(&id).map(|kind| (id, *kind))).collect())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn retry_delays_double_with_a_spread_and_a_cap() {
        let job = JobId(Uuid::from_u128(0x1234_5678));
        let base = Duration::from_secs(5);
        for attempt in 1..=20 {
            let nominal = base.saturating_mul(1 << (attempt - 1).min(16)).min(Duration::from_secs(600));
            let delay = retry_delay(base, attempt, job);
            assert!(delay >= nominal.mul_f64(0.75) && delay <= nominal.mul_f64(1.25), "{attempt}: {delay:?}");
        }
        assert!(retry_delay(base, 3, job) > retry_delay(base, 1, job));
        assert!(retry_delay(base, 30, job) <= Duration::from_secs(750));
        // Jobs that failed together come back at different times.
        let spread: std::collections::BTreeSet<Duration> =
            (0..20u128).map(|n| retry_delay(base, 2, JobId(Uuid::from_u128(n * 7919)))).collect();
        assert!(spread.len() > 10, "{spread:?}");
        assert_eq!(retry_delay(Duration::ZERO, 4, job), Duration::ZERO);
    }
}
