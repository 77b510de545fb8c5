//! Recordings uploaded from the Mini App: past Telegram's 20 MB limit for
//! bots, straight from the phone to object storage in parts, through URLs
//! presigned for each part. The upload's id becomes the id of the job that
//! transcribes it, and the object is already that job's original, so the
//! worker treats it as a recording it downloaded itself: the same probe, the
//! same budget, the same charge for the duration it measures.
//!
//! Nothing the page claims is trusted: the size is measured once the parts
//! are joined, the format is told from the object's first bytes.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};
use storage::{ObjectKey, ObjectName, ObjectStore, StorageError, UploadId};
use url::Url;
use uuid::Uuid;

use crate::{
    billing::ledger::Ledger,
    entities::media_objects::MediaKind,
    ids::{ChatId, JobId, UserId},
    jobs::{self, JobError, MediaSource, TranscriptionInput},
    media::transcripts,
};

/// The smallest part handed out: S3 refuses parts under 5 MiB but the last,
/// and fewer, larger parts mean fewer requests from a phone.
const MIN_PART_BYTES: u64 = 16 * 1024 * 1024;

/// S3's limit of parts in one upload.
const MAX_PARTS: u64 = 10_000;

/// Bytes read from the object to tell its format.
const SNIFF_BYTES: u64 = 64 * 1024;

/// How big an upload may be and how long its part URLs stay valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadRules {
    /// The largest recording accepted (`MINIAPP_MAX_UPLOAD_MB`).
    pub max_bytes: u64,
    /// How long the presigned part URLs work.
    pub url_ttl: Duration,
}

/// An upload the page can now send its parts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartedUpload {
    /// The upload's id (and later its job's).
    pub id: Uuid,
    /// Every part but the last has exactly this many bytes.
    pub part_bytes: u64,
    /// `(part number, presigned PUT URL)`, numbered from 1.
    pub parts: Vec<(i32, Url)>,
}

/// A completed upload's transcription job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadJob {
    /// The job (its id is the upload's).
    pub job_id: JobId,
    /// Credits reserved for it (the estimate; the worker settles on the measured duration).
    pub price: rust_decimal::Decimal,
    /// Free seconds reserved with it.
    pub free_seconds: u32,
    /// False when an earlier request already completed it.
    pub fresh: bool,
}

/// Why an upload was refused or could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Bigger than the rules allow, declared or measured.
    #[error("the recording has more than {limit} bytes")]
    TooBig {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Nothing to upload, or nothing arrived.
    #[error("the upload is empty")]
    Empty,
    /// Not an upload of this user's, or one that was abandoned.
    #[error("no such upload")]
    NotFound,
    /// The object's first bytes are no audio or video format we read.
    #[error("the file is not a recording we can read")]
    NotAudio,
    /// Queuing the job failed; `JobError::Ledger(InsufficientFunds)` when the user cannot pay.
    #[error(transparent)]
    Job(#[from] JobError),
    /// The object store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The part size for `bytes`: at least [`MIN_PART_BYTES`], and large enough
/// for the whole file to fit in S3's 10,000 parts.
fn part_bytes(bytes: u64) -> u64 {
    MIN_PART_BYTES.max(bytes.div_ceil(MAX_PARTS))
}

fn original_key(user_id: UserId, id: Uuid) -> ObjectKey {
    // The worker's key for a job's original (`{user}/{job}/original`).
    #[allow(clippy::expect_used)]
    let name = ObjectName::parse("original").expect("a plain name parses");
    ObjectKey::new(user_id.0, id, &name)
}

/// Opens an upload of `declared_bytes` for `user_id` and presigns a URL for
/// each of its parts.
///
/// # Errors
/// [`UploadError::TooBig`] or [`UploadError::Empty`] for a size out of the
/// rules; storage and database failures.
pub async fn start<C: ConnectionTrait>(
    db: &C,
    store: &ObjectStore,
    rules: UploadRules,
    user_id: UserId,
    file_name: Option<&str>,
    content_type: &str,
    declared_bytes: u64,
) -> Result<StartedUpload, UploadError> {
    if declared_bytes == 0 {
        return Err(UploadError::Empty);
    }
    if declared_bytes > rules.max_bytes {
        return Err(UploadError::TooBig { limit: rules.max_bytes });
    }
    let id = Uuid::new_v4();
    let key = original_key(user_id, id);
    let upload = store.start_upload(&key, content_type).await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO uploads (id, user_id, object_key, s3_upload_id, file_name, content_type, declared_bytes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            id.into(),
            user_id.into(),
            key.as_str().into(),
            upload.0.clone().into(),
            file_name.map(ToOwned::to_owned).into(),
            content_type.into(),
            i64::try_from(declared_bytes).unwrap_or(i64::MAX).into(),
        ],
    ))
    .await?;
    let part_bytes = part_bytes(declared_bytes);
    let count = i32::try_from(declared_bytes.div_ceil(part_bytes)).unwrap_or(i32::MAX);
    let mut parts = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for number in 1..=count {
        parts.push((number, store.presigned_part_url(&key, &upload, number, rules.url_ttl).await?));
    }
    Ok(StartedUpload { id, part_bytes, parts })
}

/// An upload's row, as completing it needs it.
struct OpenUpload {
    key: ObjectKey,
    upload: UploadId,
    file_name: Option<String>,
    content_type: String,
    completed: bool,
}

async fn find<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    id: Uuid,
) -> Result<Option<OpenUpload>, UploadError> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT object_key, s3_upload_id, file_name, content_type, completed_at IS NOT NULL AS completed \
             FROM uploads WHERE id = $1 AND user_id = $2 AND aborted_at IS NULL",
            [id.into(), user_id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let key: String = row.try_get("", "object_key")?;
    Ok(Some(OpenUpload {
        key: ObjectKey::parse(&key).map_err(|err| DbErr::Custom(format!("stored upload key: {err}")))?,
        upload: UploadId(row.try_get("", "s3_upload_id")?),
        file_name: row.try_get("", "file_name")?,
        content_type: row.try_get("", "content_type")?,
        completed: row.try_get("", "completed")?,
    }))
}

/// Joins the parts of upload `id`, checks what arrived and queues its
/// transcription with the price reserved, exactly as for a recording sent in
/// chat. Completing twice answers the same job.
///
/// An upload the user cannot pay for stays as it is: after buying credits the
/// same request queues it.
///
/// # Errors
/// [`UploadError::NotFound`] for another user's or an abandoned upload;
/// [`UploadError::TooBig`], [`UploadError::Empty`] and [`UploadError::NotAudio`]
/// for what arrived (the object is then deleted); [`UploadError::Job`] with
/// insufficient funds; storage and database failures.
pub async fn complete<C>(
    db: &C,
    store: &ObjectStore,
    ledger: &Ledger,
    rules: UploadRules,
    user_id: UserId,
    chat_id: ChatId,
    id: Uuid,
) -> Result<UploadJob, UploadError>
where
    C: ConnectionTrait + TransactionTrait<Transaction = sea_orm::DatabaseTransaction>,
{
    let job_id = JobId(id);
    let upload = find(db, user_id, id).await?.ok_or(UploadError::NotFound)?;
    if upload.completed {
        return existing(db, user_id, job_id).await;
    }
    let bytes = match store.finish_upload(&upload.key, &upload.upload).await {
        Ok(bytes) => bytes,
        Err(StorageError::EmptyUpload | StorageError::NoSuchUpload) => return Err(UploadError::Empty),
        Err(err) => return Err(err.into()),
    };
    let refused = if bytes == 0 {
        Some(UploadError::Empty)
    } else if bytes > rules.max_bytes {
        Some(UploadError::TooBig { limit: rules.max_bytes })
    } else if audio::detect_format(&store.get_head(&upload.key, SNIFF_BYTES).await?).is_err() {
        Some(UploadError::NotAudio)
    } else {
        None
    };
    if let Some(refused) = refused {
        store.delete(&upload.key).await?;
        abandon(db, id).await?;
        return Err(refused);
    }

    let input = TranscriptionInput {
        file_id: String::new(),
        // No two uploads share one: a repeat is only recognised for Telegram's files.
        file_unique_id: format!("upload:{id}"),
        file_size: Some(bytes),
        mime_type: Some(upload.content_type.clone()),
        file_name: upload.file_name.clone(),
        duration_hint_s: jobs::estimated_seconds(bytes),
        source: MediaSource::Upload,
        reply_to: None,
    };
    let queued =
        match jobs::create_as(db, ledger, job_id, jobs::transcription_job(user_id, chat_id, &input)?).await {
            Ok(queued) => queued,
            // A concurrent request created it first.
            Err(JobError::Db(err)) if jobs::owned_by(db, user_id, job_id).await?.is_some() => {
                tracing::debug!(error = %err, "upload completed concurrently");
                return existing(db, user_id, job_id).await;
            }
            Err(err) => return Err(err.into()),
        };
    transcripts::record_media(
        db,
        user_id,
        job_id,
        upload.key.as_str(),
        MediaKind::AudioOriginal,
        &upload.content_type,
        usize::try_from(bytes).unwrap_or(usize::MAX),
    )
    .await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE uploads SET completed_at = now() WHERE id = $1 AND completed_at IS NULL",
        [id.into()],
    ))
    .await?;
    Ok(UploadJob {
        job_id,
        price: queued.hold.amount.amount(),
        free_seconds: queued.hold.free_units,
        fresh: true,
    })
}

async fn existing<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    job_id: JobId,
) -> Result<UploadJob, UploadError> {
    let job = jobs::owned_by(db, user_id, job_id).await?.ok_or(UploadError::NotFound)?;
    Ok(UploadJob {
        job_id,
        price: job.price_quoted,
        free_seconds: u32::try_from(job.free_units).unwrap_or(0),
        fresh: false,
    })
}

async fn abandon<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE uploads SET aborted_at = now() WHERE id = $1 AND completed_at IS NULL AND aborted_at IS NULL",
        [id.into()],
    ))
    .await
    .map(drop)
}

/// Aborts uploads left unfinished for `older_than` (their parts are billed by
/// the object store until then) and deletes whatever they stored; answers how
/// many. A completed upload is never touched: its object is a job's original.
///
/// # Errors
/// When the database fails; an upload the store fails to abort is tried again
/// next time.
pub async fn abort_abandoned<C: ConnectionTrait>(
    db: &C,
    store: &ObjectStore,
    older_than: Duration,
) -> Result<u64, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, object_key, s3_upload_id FROM uploads \
             WHERE completed_at IS NULL AND aborted_at IS NULL \
               AND created_at < now() - make_interval(secs => $1) \
             ORDER BY created_at LIMIT 100",
            [older_than.as_secs_f64().into()],
        ))
        .await?;
    let mut aborted = 0;
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let key: String = row.try_get("", "object_key")?;
        let Ok(key) = ObjectKey::parse(&key) else { continue };
        let upload = UploadId(row.try_get("", "s3_upload_id")?);
        let cleaned = async {
            store.abort_upload(&key, &upload).await?;
            // The parts may have been joined already (a completion that then failed).
            store.delete(&key).await
        };
        if let Err(err) = cleaned.await {
            tracing::warn!(upload = %id, error = %err, "could not abort an abandoned upload");
            continue;
        }
        abandon(db, id).await?;
        aborted += 1;
    }
    Ok(aborted)
}
