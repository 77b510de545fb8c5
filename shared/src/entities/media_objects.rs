//! Every object we put in storage, so retention and accounting can find it.

use sea_orm::entity::prelude::*;

use crate::ids::{JobId, UserId};

/// What a stored object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum MediaKind {
    /// The recording a user sent.
    #[sea_orm(string_value = "audio_original")]
    AudioOriginal,
    /// Transcript as plain text.
    #[sea_orm(string_value = "transcript_txt")]
    TranscriptTxt,
    /// Transcript as SubRip subtitles.
    #[sea_orm(string_value = "transcript_srt")]
    TranscriptSrt,
    /// Transcript as WebVTT subtitles.
    #[sea_orm(string_value = "transcript_vtt")]
    TranscriptVtt,
    /// A photo uploaded for editing.
    #[sea_orm(string_value = "image_input")]
    ImageInput,
    /// A generated or edited image.
    #[sea_orm(string_value = "image_output")]
    ImageOutput,
}

/// One row of `media_objects`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media_objects")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owner.
    pub user_id: UserId,
    /// The job that stored it.
    pub job_id: Option<JobId>,
    /// Key in the bucket.
    #[sea_orm(unique)]
    pub object_key: String,
    /// What it is.
    pub kind: MediaKind,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Stored.
    pub created_at: DateTimeUtc,
    /// Removed from the bucket by retention.
    pub deleted_at: Option<DateTimeUtc>,
}

/// Links from a stored object.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owner.
    #[sea_orm(belongs_to = "super::users::Entity", from = "Column::UserId", to = "super::users::Column::Id")]
    User,
    /// The job.
    #[sea_orm(belongs_to = "super::jobs::Entity", from = "Column::JobId", to = "super::jobs::Column::Id")]
    Job,
}

impl ActiveModelBehavior for ActiveModel {}
