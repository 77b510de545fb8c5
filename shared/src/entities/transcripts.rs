//! The stored result of a transcription job.

use sea_orm::entity::prelude::*;

use crate::ids::{JobId, UserId};

/// One row of `transcripts`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "transcripts")]
pub struct Model {
    /// The job that produced it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: JobId,
    /// Owner.
    pub user_id: UserId,
    /// Telegram's stable id of the source file.
    pub file_unique_id: Option<String>,
    /// Exact duration of the recording.
    pub duration_ms: i64,
    /// Detected language.
    pub language: Option<String>,
    /// Key of the original recording (gone after retention).
    pub audio_key: Option<String>,
    /// Key of the plain text.
    pub txt_key: String,
    /// Key of the subtitles.
    pub srt_key: String,
    /// Key of the WebVTT subtitles.
    pub vtt_key: Option<String>,
    /// Provider, model, chunk layout and other details.
    pub metadata: Json,
    /// Stored.
    pub created_at: DateTimeUtc,
    /// The plain text, for full-text search (none for rows older than the search).
    pub text: Option<String>,
    /// When its files and text were removed (retention or the owner's request); `None` while kept.
    pub deleted_at: Option<DateTimeUtc>,
    /// Why: `retention` or `user_request`.
    pub deletion_reason: Option<String>,
}

/// Links from a transcript.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The job.
    #[sea_orm(belongs_to = "super::jobs::Entity", from = "Column::JobId", to = "super::jobs::Column::Id")]
    Job,
    /// The owner.
    #[sea_orm(belongs_to = "super::users::Entity", from = "Column::UserId", to = "super::users::Column::Id")]
    User,
}

impl Related<super::jobs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Job.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
