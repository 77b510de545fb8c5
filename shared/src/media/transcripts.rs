//! Recording what a transcription produced; every write is keyed by the job,
//! so a job run twice records once.

use std::str::FromStr;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use storage::{ObjectKey, ObjectStore};
use uuid::Uuid;

use crate::entities::media_objects::MediaKind;
use crate::ids::{JobId, UserId};

/// The transcript of `job` when it belongs to `user` (a button of another
/// user's transcript finds nothing).
///
/// # Errors
/// When the database fails.
pub async fn owned_by<C: ConnectionTrait>(
    db: &C,
    job: JobId,
    user: UserId,
) -> Result<Option<crate::entities::transcripts::Model>, DbErr> {
    use sea_orm::EntityTrait;
    let transcript = crate::entities::transcripts::Entity::find_by_id(job).one(db).await?;
    Ok(transcript.filter(|t| t.user_id == user && t.deleted_at.is_none()))
}

/// The stored files of one transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTranscript {
    /// The job.
    pub job_id: JobId,
    /// Owner.
    pub user_id: UserId,
    /// Telegram's stable id of the source.
    pub file_unique_id: Option<String>,
    /// Exact duration.
    pub duration_ms: i64,
    /// Detected language.
    pub language: Option<String>,
    /// Key of the original audio.
    pub audio_key: Option<String>,
    /// Key of the text.
    pub txt_key: String,
    /// Key of the SRT subtitles.
    pub srt_key: String,
    /// Key of the WebVTT subtitles.
    pub vtt_key: Option<String>,
    /// Provider, model and chunk layout.
    pub metadata: serde_json::Value,
    /// The plain text, kept in the database for the user's full-text search.
    pub text: String,
}

/// The name of a media kind in `media_objects.kind`.
pub(crate) fn media_kind_code(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::AudioOriginal => "audio_original",
        MediaKind::TranscriptTxt => "transcript_txt",
        MediaKind::TranscriptSrt => "transcript_srt",
        MediaKind::TranscriptVtt => "transcript_vtt",
        MediaKind::ImageInput => "image_input",
        MediaKind::ImageOutput => "image_output",
    }
}

/// Records the transcript once per job.
pub async fn record<C: ConnectionTrait>(db: &C, t: &StoredTranscript) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO transcripts (job_id, user_id, file_unique_id, duration_ms, language, audio_key, txt_key, \
             srt_key, vtt_key, metadata, text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (job_id) DO NOTHING",
        [
            t.job_id.into(),
            t.user_id.into(),
            t.file_unique_id.clone().into(),
            t.duration_ms.into(),
            t.language.clone().into(),
            t.audio_key.clone().into(),
            t.txt_key.clone().into(),
            t.srt_key.clone().into(),
            t.vtt_key.clone().into(),
            t.metadata.clone().into(),
            t.text.clone().into(),
        ],
    ))
    .await
    .map(drop)
}

/// Transcripts recorded before their text was kept in PostgreSQL (so search
/// cannot find them): at most `limit`, as (job, key of the stored `.txt`).
///
/// # Errors
/// When the database fails.
pub async fn without_text<C: ConnectionTrait>(db: &C, limit: u32) -> Result<Vec<(JobId, String)>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT job_id, txt_key FROM transcripts WHERE text IS NULL AND deleted_at IS NULL \
             ORDER BY created_at LIMIT $1",
            [i64::from(limit).into()],
        ))
        .await?;
    rows.into_iter().map(|row| Ok((row.try_get("", "job_id")?, row.try_get("", "txt_key")?))).collect()
}

/// Keeps the text of transcript `job_id` (for search), once.
///
/// # Errors
/// When the database fails.
pub async fn set_text<C: ConnectionTrait>(db: &C, job_id: JobId, text: &str) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE transcripts SET text = $2 WHERE job_id = $1 AND text IS NULL",
        [job_id.into(), text.into()],
    ))
    .await
    .map(drop)
}

/// Records a stored object once per key.
pub async fn record_media<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    job_id: JobId,
    key: &str,
    kind: MediaKind,
    content_type: &str,
    size: usize,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO media_objects (user_id, job_id, object_key, kind, content_type, size_bytes) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (object_key) DO NOTHING",
        [
            user_id.into(),
            job_id.into(),
            key.into(),
            media_kind_code(kind).into(),
            content_type.into(),
            i64::try_from(size).unwrap_or(i64::MAX).into(),
        ],
    ))
    .await
    .map(drop)
}

/// How the worker decodes users' recordings without letting one of them hurt it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSandboxSettings {
    /// Where decoding runs.
    pub isolation: AudioIsolation,
    /// The executable started as `EXECUTABLE audio-sandbox`; `None`: the running worker itself.
    pub executable: Option<std::path::PathBuf>,
    /// Memory one decoding may take besides its input, in bytes.
    pub memory_limit_bytes: u64,
    /// CPU time one decoding may take; its wall-clock limit is twice this.
    pub cpu_limit: std::time::Duration,
}

/// Where the worker decodes recordings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioIsolation {
    /// In a child process under memory and CPU limits: a file that crashes the decoder or
    /// exhausts memory kills only that child, and its job fails with a clear message.
    Process,
    /// On a blocking thread of the worker: panics are caught, but an allocation failure or a
    /// crash in the C Opus decoder takes the worker down. For development and tests.
    Thread,
}

impl FromStr for AudioIsolation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "process" => Ok(Self::Process),
            "thread" => Ok(Self::Thread),
            other => Err(format!("expected `process` or `thread`, got `{other}`")),
        }
    }
}

/// Where the next page of a user's transcripts starts: strictly older than the
/// transcript recorded at `created_at` for `job_id` (the job id breaks ties).
/// Clients see it as an opaque string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TranscriptCursor {
    created_at: DateTime<Utc>,
    job_id: JobId,
}

impl TranscriptCursor {
    /// The cursor a client sent back; `None` when it is not one we made.
    pub fn parse(cursor: &str) -> Option<Self> {
        let (micros, job) = cursor.split_once('.')?;
        Some(Self {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            job_id: JobId(Uuid::parse_str(job).ok()?),
        })
    }
}

impl std::fmt::Display for TranscriptCursor {
    // Microseconds: PostgreSQL's `timestamptz` keeps exactly that much, so the cursor round-trips.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.created_at.timestamp_micros(), self.job_id.0.simple())
    }
}

/// Which of a user's transcripts to list.
#[derive(Clone, Debug, Default)]
pub struct TranscriptQuery {
    /// Search words in the syntax of a web search box (`"exact phrase"`, `or`, `-word`).
    pub words: Option<String>,
    /// Only transcripts older than this.
    pub before: Option<TranscriptCursor>,
    /// At most this many (1 to 100).
    pub limit: u32,
}

/// One line of a user's transcript list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptSummary {
    /// The job that produced it.
    pub job_id: JobId,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// Exact duration of the recording.
    pub duration_ms: i64,
    /// Detected language.
    pub language: Option<String>,
    /// The first [`PREVIEW_CHARS`] characters of the text, on one line.
    pub preview: String,
}

/// How much of the text a summary shows.
pub const PREVIEW_CHARS: i64 = 200;

/// A page of transcripts and where the next one starts (`None`: this was the last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptPage {
    /// Newest first.
    pub items: Vec<TranscriptSummary>,
    /// Pass as [`TranscriptQuery::before`] for the next page.
    pub next: Option<TranscriptCursor>,
}

/// The user's transcripts, newest first, optionally only those matching the
/// search words. A search stays newest first (not ranked) so that it pages
/// with the same cursor as the plain list and never repeats or skips a row.
///
/// Words are matched with the `russian` text search configuration, which stems
/// Cyrillic words as Russian and Latin ones as English (see migration 0011).
///
/// # Errors
/// When the database fails.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    user: UserId,
    query: &TranscriptQuery,
) -> Result<TranscriptPage, DbErr> {
    let limit = query.limit.clamp(1, 100);
    let words = query.words.as_deref().map(str::trim).filter(|words| !words.is_empty());
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT job_id, created_at, duration_ms, language, \
                    regexp_replace(left(coalesce(text, ''), $5::INT), '\\s+', ' ', 'g') AS preview \
             FROM transcripts \
             WHERE user_id = $1 AND deleted_at IS NULL \
               AND ($2::TIMESTAMPTZ IS NULL OR (created_at, job_id) < ($2, $3::UUID)) \
               AND ($4::TEXT IS NULL OR search @@ websearch_to_tsquery('russian', $4)) \
             ORDER BY created_at DESC, job_id DESC LIMIT $6",
            [
                user.into(),
                query.before.map(|c| c.created_at).into(),
                query.before.map(|c| c.job_id.0).into(),
                words.map(str::to_owned).into(),
                PREVIEW_CHARS.into(),
                (i64::from(limit) + 1).into(),
            ],
        ))
        .await?;
    let mut items = rows
        .iter()
        .map(|row| {
            Ok(TranscriptSummary {
                job_id: row.try_get("", "job_id")?,
                created_at: row.try_get("", "created_at")?,
                duration_ms: row.try_get("", "duration_ms")?,
                language: row.try_get("", "language")?,
                preview: row.try_get::<String>("", "preview")?.trim().to_owned(),
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    // One row more than asked tells whether there is a next page.
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|last| TranscriptCursor { created_at: last.created_at, job_id: last.job_id })
    } else {
        None
    };
    Ok(TranscriptPage { items, next })
}

/// One timed piece of a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Start, from the beginning of the recording.
    pub start_ms: u64,
    /// End.
    pub end_ms: u64,
    /// What was said.
    pub text: String,
}

/// The segments of SubRip subtitles as the worker writes them; a block that
/// does not parse is skipped rather than failing the whole transcript.
pub fn segments_from_srt(srt: &str) -> Vec<Segment> {
    let srt = srt.replace("\r\n", "\n");
    srt.split("\n\n")
        .filter_map(|block| {
            let mut lines = block.lines().skip_while(|line| !line.contains("-->"));
            let (start, end) = lines.next()?.split_once("-->")?;
            Some(Segment {
                start_ms: srt_millis(start.trim())?,
                end_ms: srt_millis(end.trim())?,
                text: lines.collect::<Vec<_>>().join("\n"),
            })
        })
        .collect()
}

/// `HH:MM:SS,mmm` in milliseconds.
fn srt_millis(stamp: &str) -> Option<u64> {
    let (clock, millis) = stamp.split_once([',', '.'])?;
    let mut parts = clock.split(':').map(str::parse::<u64>);
    let (h, m, s) = (parts.next()?.ok()?, parts.next()?.ok()?, parts.next()?.ok()?);
    if parts.next().is_some() || m >= 60 || s >= 60 {
        return None;
    }
    Some(((h * 60 + m) * 60 + s) * 1000 + millis.parse::<u64>().ok()?)
}

/// A file of a transcript offered for download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownloadKind {
    /// Plain text.
    Txt,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// The recording as the user sent it.
    Audio,
}

impl DownloadKind {
    /// Its name in the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::Txt => "txt",
            Self::Srt => "srt",
            Self::Vtt => "vtt",
            Self::Audio => "audio",
        }
    }
}

/// One transcript of a user with its segments and short-lived download links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptDetail {
    /// What the list shows of it.
    pub summary: TranscriptSummary,
    /// Timed segments, from the stored subtitles.
    pub segments: Vec<Segment>,
    /// Presigned links of the stored files, valid for the asked time.
    pub downloads: Vec<(DownloadKind, url::Url)>,
}

/// The transcript of `job` when it belongs to `user`, with its segments read
/// from the stored subtitles and links valid for `link_ttl` to its files (the
/// original recording only while it is kept).
///
/// # Errors
/// When the database or object storage fails, or a stored key is not one.
pub async fn detail<C: ConnectionTrait>(
    db: &C,
    store: &ObjectStore,
    user: UserId,
    job: JobId,
    link_ttl: std::time::Duration,
) -> anyhow::Result<Option<TranscriptDetail>> {
    let Some(row) = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT job_id, created_at, duration_ms, language, txt_key, srt_key, vtt_key, \
                    regexp_replace(left(coalesce(text, ''), $3::INT), '\\s+', ' ', 'g') AS preview, \
                    CASE WHEN NOT EXISTS (SELECT 1 FROM media_objects m \
                                          WHERE m.object_key = t.audio_key AND m.deleted_at IS NOT NULL) \
                         THEN audio_key END AS audio_key \
             FROM transcripts t WHERE job_id = $1 AND user_id = $2 AND deleted_at IS NULL",
            [job.into(), user.into(), PREVIEW_CHARS.into()],
        ))
        .await
        .context("reading the transcript")?
    else {
        return Ok(None);
    };
    let summary = TranscriptSummary {
        job_id: row.try_get("", "job_id")?,
        created_at: row.try_get("", "created_at")?,
        duration_ms: row.try_get("", "duration_ms")?,
        language: row.try_get("", "language")?,
        preview: row.try_get::<String>("", "preview")?.trim().to_owned(),
    };
    let srt_key = ObjectKey::parse(&row.try_get::<String>("", "srt_key")?)?;
    let srt = store.get(&srt_key).await.context("reading the stored subtitles")?;
    let segments = segments_from_srt(&String::from_utf8_lossy(&srt));
    let mut downloads = Vec::new();
    for (kind, column) in [
        (DownloadKind::Txt, "txt_key"),
        (DownloadKind::Srt, "srt_key"),
        (DownloadKind::Vtt, "vtt_key"),
        (DownloadKind::Audio, "audio_key"),
    ] {
        if let Some(key) = row.try_get::<Option<String>>("", column)? {
            let url = store.presigned_get_url(&ObjectKey::parse(&key)?, link_ttl).await?;
            downloads.push((kind, url));
        }
    }
    Ok(Some(TranscriptDetail { summary, segments, downloads }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_refuses_what_we_did_not_make() {
        let cursor = TranscriptCursor {
            created_at: DateTime::from_timestamp_micros(1_764_650_000_123_456).unwrap(),
            job_id: JobId(Uuid::from_u128(0x1234)),
        };
        assert_eq!(TranscriptCursor::parse(&cursor.to_string()), Some(cursor));
        for bad in ["", "abc", "123", "123.not-a-uuid", "x.00000000000000000000000000001234"] {
            assert_eq!(TranscriptCursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn segments_come_back_from_the_subtitles_the_worker_writes() {
        let srt = "1\n00:00:00,000 --> 00:00:02,500\nПривет, мир\n\n2\n01:02:03,004 --> 01:02:05,000\nhello\nworld\n\n";
        assert_eq!(
            segments_from_srt(srt),
            vec![
                Segment { start_ms: 0, end_ms: 2500, text: "Привет, мир".into() },
                Segment { start_ms: 3_723_004, end_ms: 3_725_000, text: "hello\nworld".into() },
            ]
        );
        assert_eq!(segments_from_srt("1\n00:00:xx,000 --> 00:00:01,000\nbroken\n\n"), vec![]);
    }
}
