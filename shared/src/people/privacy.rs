//! Privacy requests: a copy of everything we keep about a user (`/mydata`)
//! and the deletion of it (`/deletemydata`).
//!
//! What a deletion keeps, and why: the ledger (accounts, transactions and
//! entries) and the payments (provider ids, amounts, states) are accounting
//! records the operator must keep and they must stay balanced, so they stay;
//! the `users` row stays as their anonymous owner (Telegram id kept so the
//! prepaid balance is not lost and returns with the user; name, username and
//! language cleared; `erased_at` set). Everything else that says something
//! about the person goes: stored files, transcripts' text, summaries, `/idea`
//! conversations, settings, prompts and file names of jobs, providers' raw
//! payment payloads.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait};
use serde_json::json;
use storage::{ObjectKey, ObjectStore, StorageError};

use crate::billing::ledger::Ledger;
use crate::entities::users::Model as User;
use crate::ids::{JobId, UserId};
use crate::jobs;
use crate::media::retention::{self, DeletionReason};

/// The largest export sent: Telegram takes documents of up to 50 MB from a
/// bot; files that would pass this are listed in `omitted.txt` instead.
pub const EXPORT_MAX_BYTES: usize = 45 * 1024 * 1024;

/// How long the picture links in an export work (presigned; the Mini App's
/// gallery gives fresh ones at any time).
pub const PICTURE_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A ZIP being written in memory, bounded by a size it never passes.
pub struct BoundedZip {
    writer: zip::ZipWriter<Sink>,
    size: Arc<AtomicUsize>,
    limit: usize,
    omitted: Vec<String>,
}

/// The archive's bytes in memory, telling how many there are so far (the
/// ZIP writer does not lend its output while it writes).
struct Sink {
    cursor: std::io::Cursor<Vec<u8>>,
    size: Arc<AtomicUsize>,
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.cursor.write(buf)?;
        self.size.store(self.cursor.get_ref().len(), Ordering::Relaxed);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Seek for Sink {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.cursor.seek(pos)
    }
}

impl BoundedZip {
    /// An empty archive that will not grow past `limit` bytes.
    pub fn new(limit: usize) -> Self {
        let size = Arc::new(AtomicUsize::new(0));
        let sink = Sink { cursor: std::io::Cursor::new(Vec::new()), size: Arc::clone(&size) };
        Self { writer: zip::ZipWriter::new(sink), size, limit, omitted: Vec::new() }
    }

    /// Adds a file, unless it could take the archive past its limit (its
    /// uncompressed size counts, plus room for headers): then it is only
    /// named in `omitted.txt`. Returns whether it was added.
    ///
    /// # Errors
    /// When the ZIP cannot be written.
    pub fn add(&mut self, name: &str, body: &[u8]) -> zip::result::ZipResult<bool> {
        const HEADERS: usize = 1024;
        // Deflate never grows a file by more than a few bytes per 16 KiB block.
        let worst = body.len() + body.len() / 1000 + HEADERS;
        if self.size.load(Ordering::Relaxed) + worst > self.limit {
            self.omitted.push(name.to_owned());
            return Ok(false);
        }
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o644);
        self.writer.start_file(name, options)?;
        self.writer.write_all(body)?;
        Ok(true)
    }

    /// The archive's bytes, with `omitted.txt` when something did not fit.
    ///
    /// # Errors
    /// When the ZIP cannot be written.
    pub fn finish(mut self) -> zip::result::ZipResult<Export> {
        let omitted = std::mem::take(&mut self.omitted);
        if !omitted.is_empty() {
            let options = zip::write::SimpleFileOptions::default();
            self.writer.start_file("omitted.txt", options)?;
            self.writer.write_all(omitted.join("\n").as_bytes())?;
        }
        let bytes = self.writer.finish()?.cursor.into_inner();
        Ok(Export { bytes, omitted: omitted.len() })
    }
}

/// A finished export.
#[derive(Debug)]
pub struct Export {
    /// The ZIP.
    pub bytes: Vec<u8>,
    /// Files left out to keep it under [`EXPORT_MAX_BYTES`].
    pub omitted: usize,
}

/// The user's profile as `profile.json` shows it.
///
/// # Errors
/// When the database or the ledger fails.
pub async fn profile_json<C: ConnectionTrait>(
    db: &C,
    ledger: &Ledger,
    user: &User,
) -> anyhow::Result<serde_json::Value> {
    let balance = ledger.balance(db, user.id).await?;
    let spoken = crate::people::settings::transcription_language(db, user.id).await?;
    Ok(json!({
        "id": user.id.0,
        "telegram_id": user.telegram_id.0,
        "username": user.username,
        "first_name": user.first_name,
        "language": user.language.code(),
        "transcription_language": spoken.code(),
        "referral_code": user.referral_code,
        "invited_by_another_user": user.referred_by.is_some(),
        "created_at": user.created_at,
        "balance": {
            "available": balance.available.amount().normalize(),
            "held": balance.held.amount().normalize(),
            "free_seconds_left_today": balance.free_seconds_left_today,
            "free_images_left_this_month": balance.free_images_left_this_month,
        },
    }))
}

/// The user's payments as `payments.json` shows them (the providers' raw
/// payloads stay out: they are the providers' records, not the user's).
///
/// # Errors
/// When the database fails.
pub async fn payments_json<C: ConnectionTrait>(db: &C, user: UserId) -> Result<serde_json::Value, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, provider, provider_payment_id, package_id, amount, currency, credits, status, \
                    created_at, updated_at \
             FROM payments WHERE user_id = $1 ORDER BY created_at",
            [user.into()],
        ))
        .await?;
    let payments = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "id": row.try_get::<uuid::Uuid>("", "id")?,
                "provider": row.try_get::<String>("", "provider")?,
                "provider_payment_id": row.try_get::<Option<String>>("", "provider_payment_id")?,
                "package": row.try_get::<Option<String>>("", "package_id")?,
                "amount": row.try_get::<rust_decimal::Decimal>("", "amount")?.normalize(),
                "currency": row.try_get::<String>("", "currency")?,
                "credits": row.try_get::<rust_decimal::Decimal>("", "credits")?.normalize(),
                "status": row.try_get::<String>("", "status")?,
                "created_at": row.try_get::<chrono::DateTime<chrono::Utc>>("", "created_at")?,
                "updated_at": row.try_get::<chrono::DateTime<chrono::Utc>>("", "updated_at")?,
            }))
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(serde_json::Value::Array(payments))
}

/// One kept transcript of a user, for the export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptTranscript {
    /// The job that made it.
    pub job_id: JobId,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Key of the text.
    pub txt_key: String,
    /// Key of the subtitles.
    pub srt_key: String,
    /// Its summary, when one was asked for.
    pub summary: Option<String>,
}

/// The user's transcripts still kept, oldest first.
///
/// # Errors
/// When the database fails.
pub async fn kept_transcripts<C: ConnectionTrait>(
    db: &C,
    user: UserId,
) -> Result<Vec<KeptTranscript>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT t.job_id, t.created_at, t.txt_key, t.srt_key, s.content AS summary \
             FROM transcripts t LEFT JOIN transcript_summaries s ON s.transcript_job_id = t.job_id \
             WHERE t.user_id = $1 AND t.deleted_at IS NULL ORDER BY t.created_at, t.job_id",
            [user.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(KeptTranscript {
                job_id: row.try_get("", "job_id")?,
                created_at: row.try_get("", "created_at")?,
                txt_key: row.try_get("", "txt_key")?,
                srt_key: row.try_get("", "srt_key")?,
                summary: row.try_get("", "summary")?,
            })
        })
        .collect()
}

/// The user's pictures still kept, with links valid for [`PICTURE_LINK_TTL`],
/// as `pictures.json` shows them.
///
/// # Errors
/// When the database or storage fails.
pub async fn pictures_json<C: ConnectionTrait>(
    db: &C,
    store: &ObjectStore,
    user: UserId,
) -> anyhow::Result<serde_json::Value> {
    let mut pictures = Vec::new();
    let mut before = None;
    loop {
        let page = crate::media::images::gallery(db, user, before, 100).await?;
        for picture in &page {
            let url =
                store.presigned_get_url(&ObjectKey::parse(&picture.object_key)?, PICTURE_LINK_TTL).await?;
            pictures.push(json!({
                "job_id": picture.job_id,
                "created_at": picture.created_at,
                "prompt": picture.prompt,
                "edited": picture.edited,
                "url": url.as_str(),
            }));
        }
        match page.last() {
            Some(last) if page.len() == 100 => before = Some(last.id),
            _ => break,
        }
    }
    Ok(serde_json::Value::Array(pictures))
}

/// The user's `/paysupport` questions as `support.json` shows them, oldest first.
///
/// # Errors
/// The database's.
pub async fn support_json<C: ConnectionTrait>(db: &C, user: UserId) -> Result<serde_json::Value, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, question, created_at, answered_at FROM support_requests WHERE user_id = $1 ORDER BY id",
            [user.into()],
        ))
        .await?;
    let mut questions = Vec::with_capacity(rows.len());
    for row in rows {
        questions.push(serde_json::json!({
            "id": row.try_get::<i64>("", "id")?,
            "question": row.try_get::<String>("", "question")?,
            "asked_at": row.try_get::<chrono::DateTime<chrono::Utc>>("", "created_at")?,
            "answered_at": row.try_get::<Option<chrono::DateTime<chrono::Utc>>>("", "answered_at")?,
        }));
    }
    Ok(serde_json::Value::Array(questions))
}

/// Builds the export: `profile.json`, `history.txt` (the statement as the
/// bot's `/history` words it, given by the caller), `payments.json`,
/// `support.json` (the `/paysupport` questions), each
/// kept transcript as `transcripts/<date>_<job>.txt` and `.srt` (and
/// `.summary.txt`), and `pictures.json` with links; at most [`EXPORT_MAX_BYTES`].
///
/// # Errors
/// When the database or storage fails.
pub async fn export<C: ConnectionTrait>(
    db: &C,
    store: &ObjectStore,
    ledger: &Ledger,
    user: &User,
    history: &str,
) -> anyhow::Result<Export> {
    let mut zip = BoundedZip::new(EXPORT_MAX_BYTES);
    let pretty = |value: &serde_json::Value| serde_json::to_vec_pretty(value);
    zip.add("profile.json", &pretty(&profile_json(db, ledger, user).await?)?)?;
    zip.add("history.txt", history.as_bytes())?;
    zip.add("payments.json", &pretty(&payments_json(db, user.id).await?)?)?;
    zip.add("support.json", &pretty(&support_json(db, user.id).await?)?)?;
    zip.add("pictures.json", &pretty(&pictures_json(db, store, user.id).await?)?)?;
    for transcript in kept_transcripts(db, user.id).await? {
        let stem = format!(
            "transcripts/{}_{}",
            transcript.created_at.format("%Y-%m-%d"),
            transcript.job_id.0.simple()
        );
        for (extension, key) in [("txt", &transcript.txt_key), ("srt", &transcript.srt_key)] {
            match store.get(&ObjectKey::parse(key)?).await {
                Ok(bytes) => {
                    zip.add(&format!("{stem}.{extension}"), &bytes)?;
                }
                // Removed between the query and now (retention): nothing to copy.
                Err(StorageError::NotFound(_)) => {}
                Err(err) => return Err(err.into()),
            }
        }
        if let Some(summary) = &transcript.summary {
            zip.add(&format!("{stem}.summary.txt"), summary.as_bytes())?;
        }
    }
    Ok(zip.finish()?)
}

/// What a deletion did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Queued or running jobs cancelled (their holds released).
    pub jobs_cancelled: usize,
    /// Objects removed from storage.
    pub objects_deleted: usize,
    /// Transcripts forgotten.
    pub transcripts_deleted: u64,
}

/// Deletes a user's personal data, keeping the books: cancels their
/// unfinished jobs (holds released through the ledger, once), removes every
/// object they have in storage, forgets their transcripts, summaries, `/idea`
/// conversations and settings, clears prompts and file names from their jobs
/// and the providers' payloads from their settled payments, and leaves the
/// `users` row as an anonymous tombstone (`erased_at`) that keeps the ledger's
/// accounts and the balance. Safe to run again (a storage failure midway is
/// finished by the next call).
///
/// # Errors
/// When the database, the ledger or storage fails.
pub async fn erase<C>(db: &C, store: &ObjectStore, ledger: &Ledger, user: UserId) -> anyhow::Result<Erasure>
where
    C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    let mut erasure = Erasure::default();
    let unfinished = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM jobs WHERE user_id = $1 AND status IN ('queued', 'running') ORDER BY created_at",
            [user.into()],
        ))
        .await?;
    for row in unfinished {
        let job: JobId = row.try_get("", "id")?;
        match jobs::cancel_unfinished(db, ledger, job, ERASED).await {
            Ok(ending) if ending.ended_now() => erasure.jobs_cancelled += 1,
            Ok(_) => {}
            Err(err) => return Err(err.into()),
        }
    }
    let objects = retention::user_objects(db, user).await?;
    erasure.objects_deleted =
        retention::delete_objects(db, store, &objects, DeletionReason::UserRequest).await?;

    let txn = db.begin().await?;
    let run = |sql: &'static str| {
        let txn = &txn;
        async move {
            txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [user.into()])).await
        }
    };
    run("DELETE FROM transcript_summaries WHERE user_id = $1").await?;
    erasure.transcripts_deleted =
        run("UPDATE transcripts SET deleted_at = now(), deletion_reason = 'user_request', text = NULL, \
             language = NULL, metadata = '{}', file_unique_id = NULL \
         WHERE user_id = $1 AND deleted_at IS NULL")
        .await?
        .rows_affected();
    // Transcripts retention removed earlier keep nothing personal already; the file id too.
    run("UPDATE transcripts SET file_unique_id = NULL WHERE user_id = $1").await?;
    run("DELETE FROM idea_messages WHERE user_id = $1").await?;
    // The answers stay in the audit trail, which is append-only; the questions go.
    run("DELETE FROM support_requests WHERE user_id = $1").await?;
    run("DELETE FROM user_settings WHERE user_id = $1").await?;
    run("UPDATE jobs SET input = '{}', result = NULL, file_unique_id = NULL WHERE user_id = $1").await?;
    run("UPDATE uploads SET file_name = NULL WHERE user_id = $1").await?;
    run("UPDATE group_chats SET auto_payer_id = NULL WHERE auto_payer_id = $1").await?;
    // A pending payment's payload may still be needed to credit it; a settled one's is not.
    run("UPDATE payments SET raw_payload = NULL WHERE user_id = $1 AND status <> 'pending'").await?;
    run("UPDATE users SET username = NULL, first_name = '', language = 'ru', erased_at = now(), \
             updated_at = now() WHERE id = $1")
    .await?;
    txn.commit().await?;
    tracing::info!(
        user_id = user.0,
        jobs_cancelled = erasure.jobs_cancelled,
        objects_deleted = erasure.objects_deleted,
        transcripts_deleted = erasure.transcripts_deleted,
        "deleted a user's personal data at their request"
    );
    Ok(erasure)
}

/// The `error_code` of jobs cancelled by a deletion: maintenance removes
/// whatever a worker still stored for them afterwards.
pub const ERASED: &str = "erased";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zip_never_passes_its_bound_and_names_what_it_left_out() {
        let mut zip = BoundedZip::new(8 * 1024);
        assert!(zip.add("small.txt", b"hello").unwrap());
        assert!(!zip.add("big.bin", &vec![7u8; 10 * 1024]).unwrap());
        assert!(zip.add("after.txt", b"still room").unwrap());
        let export = zip.finish().unwrap();
        assert!(export.bytes.len() <= 8 * 1024);
        assert_eq!(export.omitted, 1);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(export.bytes)).unwrap();
        let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
        assert_eq!(names, ["small.txt", "after.txt", "omitted.txt"]);
        let mut omitted = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("omitted.txt").unwrap(), &mut omitted).unwrap();
        assert_eq!(omitted, "big.bin");
    }
}
