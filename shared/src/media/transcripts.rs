//! Recording what a transcription produced; every write is keyed by the job,
//! so a job run twice records once.

use std::str::FromStr;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

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
    Ok(transcript.filter(|t| t.user_id == user))
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
             srt_key, vtt_key, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
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
        ],
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
