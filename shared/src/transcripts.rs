//! Recording what a transcription produced; every write is keyed by the job,
//! so a job run twice records once.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use uuid::Uuid;

use crate::entities::media_objects::MediaKind;

/// The stored files of one transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTranscript {
    /// The job.
    pub job_id: Uuid,
    /// Owner.
    pub user_id: i64,
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
    user_id: i64,
    job_id: Uuid,
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
