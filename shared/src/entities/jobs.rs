//! A unit of paid work (a transcription or an image), the source of truth for its state.

use sea_orm::entity::prelude::*;

use crate::ids::{ChatId, JobId, UserId};

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum JobKind {
    /// Speech to text.
    #[sea_orm(string_value = "transcribe")]
    Transcribe,
    /// Image generation or editing.
    #[sea_orm(string_value = "image")]
    Image,
    /// Prompt ideas from a chat model (`/idea`).
    #[sea_orm(string_value = "idea")]
    Idea,
    /// A transcript's summary and action items from a chat model.
    #[sea_orm(string_value = "summary")]
    Summary,
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum JobStatus {
    /// Held and waiting for a worker.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// A worker is on it.
    #[sea_orm(string_value = "running")]
    Running,
    /// Delivered and charged.
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Given up before the charge; the hold was released.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Stopped by the user or an admin; the hold was released.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Charged and stored, but the result could not reach the user (they
    /// blocked the bot, or Telegram kept failing); they can fetch it later.
    #[sea_orm(string_value = "undeliverable")]
    Undeliverable,
}

/// One row of `jobs`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    /// Job id; also the idempotency key of every effect of the job.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: JobId,
    /// Owner.
    pub user_id: UserId,
    /// Transcription or image.
    pub kind: JobKind,
    /// Current state.
    pub status: JobStatus,
    /// Percent done, for the status message.
    pub progress: i16,
    /// Attempts started so far; workers cap it themselves.
    pub attempts: i32,
    /// Machine-readable reason of the last failure.
    pub error_code: Option<String>,
    /// Chat to report to.
    pub chat_id: ChatId,
    /// The status message the worker edits.
    pub status_message_id: Option<i32>,
    /// The user's message that asked for the job: the result replies to it.
    pub request_message_id: Option<i32>,
    /// Input references (Telegram file ids, prompt, stored keys).
    pub input: Json,
    /// Telegram's stable file id, for reusing an earlier transcript.
    pub file_unique_id: Option<String>,
    /// Output references (object keys, delivered message ids).
    pub result: Option<Json>,
    /// Price shown to the user and held.
    #[sea_orm(column_type = "Decimal(Some((20, 4)))")]
    pub price_quoted: Decimal,
    /// Free allowance used (seconds of audio or images).
    pub free_units: i32,
    /// Price actually captured.
    #[sea_orm(column_type = "Decimal(Some((20, 4)))")]
    pub price_charged: Option<Decimal>,
    /// Created (queued).
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// First picked up by a worker.
    pub started_at: Option<DateTimeUtc>,
    /// Reached a final state.
    pub finished_at: Option<DateTimeUtc>,
    /// Until when the running attempt's worker owns the job.
    pub lease_until: Option<DateTimeUtc>,
    /// When the job's id was last put on the queue.
    pub pushed_at: Option<DateTimeUtc>,
    /// Calls made to a provider for the job, failed ones included.
    pub provider_calls: i32,
}

/// Links from a job.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owner.
    #[sea_orm(belongs_to = "super::users::Entity", from = "Column::UserId", to = "super::users::Column::Id")]
    User,
    /// The transcript a transcription job produced.
    #[sea_orm(has_one = "super::transcripts::Entity")]
    Transcript,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::transcripts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Transcript.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
