//! How long recordings and transcripts are kept, and removing what is stored:
//! by age (maintenance) or at the user's request (`/deletemydata`).
//!
//! Every removal is recorded on the row it removed (`deleted_at` and
//! `deletion_reason` of `media_objects` and `transcripts`, migration 0020),
//! so what went, when and why stays visible after the bytes are gone.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use storage::{ObjectKey, ObjectStore, StorageError};

use crate::ids::{JobId, UserId};

/// How long stored recordings and transcripts are kept; `None` keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionSettings {
    /// Original recordings (`AUDIO_RETENTION_DAYS`, 7 by default).
    pub audio: Option<chrono::Duration>,
    /// Transcripts: text, subtitles and summary (`TRANSCRIPT_RETENTION_DAYS`, 365 by default).
    pub transcripts: Option<chrono::Duration>,
}

impl RetentionSettings {
    /// From the settings' days, where 0 keeps forever.
    pub fn from_days(audio: u32, transcripts: u32) -> Self {
        let days = |n: u32| (n > 0).then(|| chrono::Duration::days(i64::from(n)));
        Self { audio: days(audio), transcripts: days(transcripts) }
    }
}

/// Why something stored was removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionReason {
    /// It reached the age limit of its kind.
    Retention,
    /// Its owner asked for their data to be deleted.
    UserRequest,
}

impl DeletionReason {
    /// Its name in `deletion_reason`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Retention => "retention",
            Self::UserRequest => "user_request",
        }
    }
}

/// One live object in storage, as `media_objects` records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    /// Row id in `media_objects`.
    pub id: i64,
    /// Key in the bucket.
    pub key: String,
}

fn objects(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<StoredObject>, DbErr> {
    rows.iter()
        .map(|row| Ok(StoredObject { id: row.try_get("", "id")?, key: row.try_get("", "object_key")? }))
        .collect()
}

/// Original recordings stored before `before` and still kept, oldest first, at most `limit`.
///
/// # Errors
/// When the database fails.
pub async fn expired_recordings<C: ConnectionTrait>(
    db: &C,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<StoredObject>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, object_key FROM media_objects \
             WHERE kind = 'audio_original' AND deleted_at IS NULL AND created_at < $1 \
             ORDER BY created_at LIMIT $2",
            [before.into(), i64::from(limit).into()],
        ))
        .await?;
    objects(rows)
}

/// Transcripts recorded before `before` and still kept, oldest first, at most `limit`.
///
/// # Errors
/// When the database fails.
pub async fn expired_transcripts<C: ConnectionTrait>(
    db: &C,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<JobId>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT job_id FROM transcripts WHERE deleted_at IS NULL AND created_at < $1 \
             ORDER BY created_at LIMIT $2",
            [before.into(), i64::from(limit).into()],
        ))
        .await?;
    rows.iter().map(|row| row.try_get("", "job_id")).collect()
}

/// The live objects of a transcription job: its recording and its text and subtitle files.
///
/// # Errors
/// When the database fails.
pub async fn transcript_objects<C: ConnectionTrait>(db: &C, job: JobId) -> Result<Vec<StoredObject>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, object_key FROM media_objects WHERE job_id = $1 AND deleted_at IS NULL \
               AND kind IN ('audio_original', 'transcript_txt', 'transcript_srt', 'transcript_vtt') \
             ORDER BY id",
            [job.into()],
        ))
        .await?;
    objects(rows)
}

/// Every live object of a user, whatever its kind.
///
/// # Errors
/// When the database fails.
pub async fn user_objects<C: ConnectionTrait>(db: &C, user: UserId) -> Result<Vec<StoredObject>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, object_key FROM media_objects WHERE user_id = $1 AND deleted_at IS NULL ORDER BY id",
            [user.into()],
        ))
        .await?;
    objects(rows)
}

/// Objects stored by jobs that were running when their owner's data was
/// deleted (`error_code = 'erased'`): the worker may have stored them after
/// the deletion; at most `limit`.
///
/// # Errors
/// When the database fails.
pub async fn erased_leftovers<C: ConnectionTrait>(db: &C, limit: u32) -> Result<Vec<StoredObject>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT m.id, m.object_key FROM media_objects m JOIN jobs j ON j.id = m.job_id \
             WHERE m.deleted_at IS NULL AND j.error_code = 'erased' ORDER BY m.id LIMIT $1",
            [i64::from(limit).into()],
        ))
        .await?;
    objects(rows)
}

/// Transcripts recorded by jobs cancelled by a deletion of their owner's
/// data and not yet forgotten (see [`erased_leftovers`]).
///
/// # Errors
/// When the database fails.
pub async fn erased_transcripts<C: ConnectionTrait>(db: &C, limit: u32) -> Result<Vec<JobId>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT t.job_id FROM transcripts t JOIN jobs j ON j.id = t.job_id \
             WHERE t.deleted_at IS NULL AND j.error_code = 'erased' LIMIT $1",
            [i64::from(limit).into()],
        ))
        .await?;
    rows.iter().map(|row| row.try_get("", "job_id")).collect()
}

/// Removes `objects` from storage and records each removal with `reason`.
/// An object storage no longer has counts as removed. Stops at the first
/// storage failure, having recorded the removals before it: calling again
/// goes on where it stopped.
///
/// # Errors
/// When storage or the database fails, or a recorded key is not a key.
pub async fn delete_objects<C: ConnectionTrait>(
    db: &C,
    store: &ObjectStore,
    objects: &[StoredObject],
    reason: DeletionReason,
) -> anyhow::Result<usize> {
    let mut deleted = Vec::with_capacity(objects.len());
    let mut failure = None;
    for object in objects {
        let removed = match ObjectKey::parse(&object.key) {
            Ok(key) => match store.delete(&key).await {
                Ok(()) | Err(StorageError::NotFound(_)) => Ok(()),
                Err(err) => Err(anyhow::Error::new(err).context(format!("deleting {}", object.key))),
            },
            // Never a key we wrote; nothing in the bucket can be under it.
            Err(err) => {
                tracing::warn!(key = %object.key, error = %err, "a recorded key that does not parse");
                Ok(())
            }
        };
        match removed {
            Ok(()) => deleted.push(object.id),
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    mark_deleted(db, &deleted, reason).await?;
    match failure {
        Some(err) => Err(err),
        None => Ok(deleted.len()),
    }
}

/// Records that these objects were removed from the bucket, and why.
///
/// # Errors
/// When the database fails.
pub async fn mark_deleted<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    reason: DeletionReason,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE media_objects SET deleted_at = now(), deletion_reason = $2 \
         WHERE id = ANY($1) AND deleted_at IS NULL",
        [ids.to_vec().into(), reason.code().into()],
    ))
    .await
    .map(drop)
}

/// Forgets a transcript whose files are already removed: records when and
/// why, clears what it said (text, language, details), drops its summary, and
/// forgets which file it came from, so the same file sent again is a new,
/// paid transcription. Returns false when it was already forgotten.
///
/// # Errors
/// When the database fails.
pub async fn forget_transcript<C: ConnectionTrait>(
    db: &C,
    job: JobId,
    reason: DeletionReason,
) -> Result<bool, DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "DELETE FROM transcript_summaries WHERE transcript_job_id = $1",
        [job.into()],
    ))
    .await?;
    let forgotten = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE transcripts SET deleted_at = now(), deletion_reason = $2, text = NULL, language = NULL, \
                 metadata = '{}', file_unique_id = NULL \
             WHERE job_id = $1 AND deleted_at IS NULL",
            [job.into(), reason.code().into()],
        ))
        .await?;
    Ok(forgotten.rows_affected() == 1)
}

/// Deletes the files of transcript `job` and then forgets it (see
/// [`forget_transcript`]); a storage failure leaves it for the next call.
///
/// # Errors
/// When storage or the database fails.
pub async fn delete_transcript<C: ConnectionTrait>(
    db: &C,
    store: &ObjectStore,
    job: JobId,
    reason: DeletionReason,
) -> anyhow::Result<bool> {
    let files = transcript_objects(db, job).await?;
    delete_objects(db, store, &files, reason).await?;
    Ok(forget_transcript(db, job, reason).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_keep_forever() {
        let settings = RetentionSettings::from_days(0, 365);
        assert_eq!(settings.audio, None);
        assert_eq!(settings.transcripts, Some(chrono::Duration::days(365)));
        assert_eq!(RetentionSettings::from_days(7, 0).transcripts, None);
    }
}
