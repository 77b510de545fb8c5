//! Pictures: what an image job asks for, how prompts and photos are checked,
//! the `/idea` conversation, and the stored pictures retention removes.
//!
//! Image jobs follow the transcription rules: the job row and its hold are
//! created together, the queue carries only the job id, and every effect is
//! keyed by the job id (object keys, the idea messages, the capture).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, JobId, UserId};
use crate::{
    billing::ledger::Ledger,
    billing::money::Credits,
    billing::pricing::Work,
    entities::{
        jobs::{JobKind, Model as Job},
        media_objects::MediaKind,
    },
    jobs::{self, JobError, NewJob, QueuedJob},
    media::provider::ProviderSettings,
    media::transcripts::media_kind_code,
};

/// A picture format the edit endpoint accepts, recognised by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
}

impl ImageFormat {
    /// The format of `bytes`, or `None` when they are not a PNG, JPEG or WebP
    /// picture (whatever the file name or MIME type claimed).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// Its MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }
}

/// A prompt that is neither empty nor too long, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt(String);

/// Why a prompt was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    /// Nothing but whitespace.
    #[error("the prompt is empty")]
    Empty,
    /// Longer than the configured limit.
    #[error("the prompt is longer than {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
}

impl Prompt {
    /// Trims `text` and checks it has 1 to `max_chars` characters.
    pub fn parse(text: &str, max_chars: usize) -> Result<Self, PromptError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PromptError::Empty);
        }
        if text.chars().count() > max_chars {
            return Err(PromptError::TooLong { max: max_chars });
        }
        Ok(Self(text.to_owned()))
    }

    /// The prompt.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A photo in Telegram, by its file ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramPhoto {
    /// Telegram file id, for `getFile`.
    pub file_id: String,
    /// Telegram's stable id of the content.
    pub file_unique_id: String,
    /// Size Telegram reported, in bytes.
    pub file_size: Option<u64>,
}

/// What an image job (or an `/idea` job) is asked to do: its `jobs.input`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageRequest {
    /// Draw a new picture.
    Generate {
        /// What to draw.
        prompt: String,
    },
    /// Change a photo the user sent.
    Edit {
        /// What to change.
        prompt: String,
        /// The photo.
        photo: TelegramPhoto,
    },
    /// Change a picture we made earlier, chosen in the Mini App's gallery.
    EditPicture {
        /// What to change.
        prompt: String,
        /// The job that made the picture (the caller's own).
        source: JobId,
    },
    /// Suggest three better prompts for a description.
    Idea {
        /// What the user wants.
        description: String,
        /// The price shown and held (fixed when the job was created).
        price: Credits,
    },
}

impl ImageRequest {
    /// The job kind that runs it.
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Generate { .. } | Self::Edit { .. } | Self::EditPicture { .. } => JobKind::Image,
            Self::Idea { .. } => JobKind::Idea,
        }
    }

    /// What is held and charged for it.
    pub fn work(&self) -> Work {
        match self {
            Self::Generate { .. } => Work::ImageGeneration,
            Self::Edit { .. } | Self::EditPicture { .. } => Work::ImageEdit,
            Self::Idea { price, .. } => Work::Fixed(*price),
        }
    }
}

/// Creates the job and reserves its price (free monthly images first) in one
/// transaction.
pub async fn create<C>(
    db: &C,
    ledger: &Ledger,
    user_id: UserId,
    chat_id: ChatId,
    request: &ImageRequest,
) -> Result<QueuedJob, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    create_picked(db, ledger, user_id, chat_id, request, None).await
}

/// [`create`], as the job `pick` when it is given ([`picked_idea_job`]): a
/// second job under that id is refused by the database.
pub async fn create_picked<C>(
    db: &C,
    ledger: &Ledger,
    user_id: UserId,
    chat_id: ChatId,
    request: &ImageRequest,
    pick: Option<JobId>,
) -> Result<QueuedJob, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    let file_unique_id = match request {
        ImageRequest::Edit { photo, .. } => Some(photo.file_unique_id.clone()),
        _ => None,
    };
    let new = NewJob {
        user_id,
        chat_id,
        kind: request.kind(),
        input: jobs::input_json(request)?,
        file_unique_id,
        work: request.work(),
    };
    match pick {
        Some(job_id) => jobs::create_as(db, ledger, job_id, new).await,
        None => jobs::create(db, ledger, new).await,
    }
}

/// The id of the picture drawn from prompt `index` of the `/idea` job `idea`:
/// the same for every tap of that button, so a second tap finds the first
/// picture instead of drawing (and charging) it again.
pub fn picked_idea_job(idea: JobId, index: u8) -> JobId {
    JobId(uuid::Uuid::new_v5(&idea.0, &[index]))
}

/// Whether `user_id` has the picture job `job_id` made, still kept (the
/// source of an edit from the gallery).
///
/// # Errors
/// When the database fails.
pub async fn kept_picture<C: ConnectionTrait>(db: &C, user_id: UserId, job_id: JobId) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS kept FROM media_objects WHERE job_id = $1 AND user_id = $2 \
               AND kind = 'image_output' AND deleted_at IS NULL LIMIT 1",
            [job_id.into(), user_id.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// Reads an image or idea job's request back.
pub fn request_of(job: &Job) -> Result<ImageRequest, JobError> {
    serde_json::from_value(job.input.clone())
        .map_err(|err| JobError::BadInput { job_id: job.id, reason: err.to_string() })
}

/// Most `/idea` messages sent to the model as context.
pub const IDEA_HISTORY_MESSAGES: u32 = 10;
/// `/idea` messages older than this are forgotten.
pub const IDEA_HISTORY_AGE: chrono::Duration = chrono::Duration::days(30);

/// Instructions for the prompt helper. Not shown to users.
pub const IDEA_INSTRUCTIONS: &str = "You help people write prompts for an image generator. \
    For each request, answer with exactly three different prompts, one per line, numbered 1. 2. 3., \
    and nothing else. Each prompt is one vivid, concrete sentence of at most 300 characters \
    (subject, setting, style, light), in the language of the request.";

/// Who said a line of the `/idea` conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    /// The user's description.
    User,
    /// The model's answer.
    Assistant,
}

impl Speaker {
    fn code(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One line of the `/idea` conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdeaMessage {
    /// Who said it.
    pub speaker: Speaker,
    /// What was said.
    pub content: String,
}

/// The user's last [`IDEA_HISTORY_MESSAGES`] messages of the last 30 days,
/// oldest first, not counting job `except`.
pub async fn idea_history<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    except: JobId,
) -> Result<Vec<IdeaMessage>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT role, content FROM (SELECT id, role, content, created_at FROM idea_messages \
                 WHERE user_id = $1 AND job_id <> $2 AND created_at > now() - $3 * INTERVAL '1 second' \
                 ORDER BY created_at DESC, id DESC LIMIT $4) recent ORDER BY created_at, id",
            [
                user_id.into(),
                except.into(),
                IDEA_HISTORY_AGE.num_seconds().into(),
                i64::from(IDEA_HISTORY_MESSAGES).into(),
            ],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let role: String = row.try_get("", "role")?;
            let speaker = if role == "assistant" { Speaker::Assistant } else { Speaker::User };
            Ok(IdeaMessage { speaker, content: row.try_get("", "content")? })
        })
        .collect()
}

/// The model's answer recorded for job `job_id`, if an attempt got that far.
pub async fn idea_answer<C: ConnectionTrait>(db: &C, job_id: JobId) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT content FROM idea_messages WHERE job_id = $1 AND role = 'assistant'",
            [job_id.into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "content")).transpose()
}

/// Records the description and the answer of job `job_id` once, and forgets
/// the user's messages beyond the last [`IDEA_HISTORY_MESSAGES`].
pub async fn remember_idea<C>(
    db: &C,
    user_id: UserId,
    job_id: JobId,
    description: &str,
    answer: &str,
) -> Result<(), DbErr>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    let txn = db.begin().await?;
    for (speaker, content) in [(Speaker::User, description), (Speaker::Assistant, answer)] {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO idea_messages (user_id, job_id, role, content) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (job_id, role) DO NOTHING",
            [user_id.into(), job_id.into(), speaker.code().into(), content.into()],
        ))
        .await?;
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "DELETE FROM idea_messages WHERE user_id = $1 AND id NOT IN \
             (SELECT id FROM idea_messages WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)",
        [user_id.into(), i64::from(IDEA_HISTORY_MESSAGES).into()],
    ))
    .await?;
    txn.commit().await
}

/// Deletes `/idea` messages older than [`IDEA_HISTORY_AGE`]; returns how many.
pub async fn forget_old_ideas<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "DELETE FROM idea_messages WHERE created_at < now() - $1 * INTERVAL '1 second'",
        [IDEA_HISTORY_AGE.num_seconds().into()],
    ))
    .await
    .map(|done| done.rows_affected())
}

/// How many prompts one `/idea` answer offers.
pub const IDEAS_PER_ANSWER: usize = 3;

/// The prompts in a model's answer: up to three non-empty lines, without
/// their numbering, bullets or quotes.
pub fn parse_ideas(answer: &str) -> Vec<String> {
    answer
        .lines()
        .map(|line| {
            let line = line.trim();
            let line = line.trim_start_matches(|c: char| c.is_ascii_digit());
            let line = line.trim_start_matches(['.', ')', ':', '-', '*', '•']).trim();
            line.trim_matches(['"', '«', '»', '“', '”']).trim().to_owned()
        })
        .filter(|line| !line.is_empty())
        .take(IDEAS_PER_ANSWER)
        .collect()
}

/// Prompt number `index` of the `/idea` job `job_id`, if that job belongs to `user_id`.
pub async fn idea_option<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    job_id: JobId,
    index: usize,
) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT content FROM idea_messages WHERE job_id = $1 AND user_id = $2 AND role = 'assistant'",
            [job_id.into(), user_id.into()],
        ))
        .await?;
    let Some(answer) = row.map(|row| row.try_get::<String>("", "content")).transpose()? else {
        return Ok(None);
    };
    Ok(parse_ideas(&answer).into_iter().nth(index))
}

/// One picture of a user's gallery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GalleryPicture {
    /// Row id in `media_objects`: the cursor of the next page.
    pub id: i64,
    /// The job that drew it.
    pub job_id: JobId,
    /// Where the full-quality file is.
    pub object_key: String,
    /// When it was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// What it was asked to show (`None` for a request that cannot be read).
    pub prompt: Option<String>,
    /// Whether it changed a photo rather than drew anew.
    pub edited: bool,
}

/// A user's pictures still kept, newest first, `limit` of them older than
/// the picture `before` (a [`GalleryPicture::id`]).
///
/// # Errors
/// When the database fails.
pub async fn gallery<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<GalleryPicture>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT m.id, m.job_id, m.object_key, m.created_at, j.input FROM media_objects m \
             JOIN jobs j ON j.id = m.job_id \
             WHERE m.user_id = $1 AND m.kind = 'image_output' AND m.deleted_at IS NULL \
               AND ($2::BIGINT IS NULL OR m.id < $2) \
             ORDER BY m.id DESC LIMIT $3",
            [user_id.into(), before.into(), i64::from(limit).into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let input: serde_json::Value = row.try_get("", "input")?;
            let request = serde_json::from_value::<ImageRequest>(input).ok();
            let (prompt, edited) = match request {
                Some(ImageRequest::Generate { prompt }) => (Some(prompt), false),
                Some(ImageRequest::Edit { prompt, .. } | ImageRequest::EditPicture { prompt, .. }) => {
                    (Some(prompt), true)
                }
                Some(ImageRequest::Idea { .. }) | None => (None, false),
            };
            Ok(GalleryPicture {
                id: row.try_get("", "id")?,
                job_id: row.try_get("", "job_id")?,
                object_key: row.try_get("", "object_key")?,
                created_at: row.try_get("", "created_at")?,
                prompt,
                edited,
            })
        })
        .collect()
}

/// A stored picture past its retention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiredObject {
    /// Row id in `media_objects`.
    pub id: i64,
    /// Key in the bucket.
    pub key: String,
}

/// Live objects of `kind` stored before `before`, oldest first, at most `limit`.
pub async fn expired_media<C: ConnectionTrait>(
    db: &C,
    kind: MediaKind,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ExpiredObject>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, object_key FROM media_objects \
             WHERE kind = $1 AND deleted_at IS NULL AND created_at < $2 ORDER BY created_at LIMIT $3",
            [media_kind_code(kind).into(), before.into(), i64::from(limit).into()],
        ))
        .await?;
    rows.iter()
        .map(|row| Ok(ExpiredObject { id: row.try_get("", "id")?, key: row.try_get("", "object_key")? }))
        .collect()
}

/// Records that these objects were removed from the bucket.
pub async fn mark_media_deleted<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE media_objects SET deleted_at = now(), deletion_reason = 'retention' \
         WHERE id = ANY($1) AND deleted_at IS NULL",
        [ids.to_vec().into()],
    ))
    .await
    .map(drop)
}

/// The live picture job `job_id` produced, if it belongs to `user_id`:
/// `Ok(None)` when there is none or retention removed it.
pub async fn stored_output<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    job_id: JobId,
) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT object_key FROM media_objects \
             WHERE job_id = $1 AND user_id = $2 AND kind = 'image_output' AND deleted_at IS NULL",
            [job_id.into(), user_id.into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "object_key")).transpose()
}

/// The image provider and the picture size it is asked for.
#[derive(Debug, Clone)]
pub struct ImageProviderSettings {
    /// Endpoint, key and model.
    pub provider: ProviderSettings,
    /// Requested size, e.g. `1024x1024`.
    pub size: String,
}

/// Limits and retention of image jobs.
#[derive(Debug, Clone)]
pub struct ImageSettings {
    /// Longest prompt accepted, in characters.
    pub max_prompt_chars: usize,
    /// Largest photo accepted for editing, in bytes.
    pub max_edit_bytes: u64,
    /// How long photos uploaded for editing are kept in storage.
    pub input_retention: chrono::Duration,
    /// How long generated and edited images are kept in storage.
    pub output_retention: chrono::Duration,
    /// Longest wait for the image or chat provider's answer (and for a picture it links to).
    pub provider_timeout: std::time::Duration,
}

/// The chat model that turns a description into better image prompts.
#[derive(Debug, Clone)]
pub struct IdeaSettings {
    /// Endpoint, key and model.
    pub provider: ProviderSettings,
    /// Price of one `/idea` answer.
    pub cost: Credits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_their_bytes() {
        assert_eq!(ImageFormat::sniff(b"\x89PNG\r\n\x1a\nrest"), Some(ImageFormat::Png));
        assert_eq!(ImageFormat::sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageFormat::Webp));
        assert_eq!(ImageFormat::sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(ImageFormat::sniff(b"%PDF-1.7"), None);
        assert_eq!(ImageFormat::sniff(b""), None);
    }

    #[test]
    fn prompts_are_trimmed_and_limited_in_characters() {
        assert_eq!(Prompt::parse("  a cat  ", 10).unwrap().as_str(), "a cat");
        assert_eq!(Prompt::parse(" \n ", 10), Err(PromptError::Empty));
        assert_eq!(Prompt::parse("кот в шляпе", 11).unwrap().as_str(), "кот в шляпе");
        assert_eq!(Prompt::parse("кот в шляпе!", 11), Err(PromptError::TooLong { max: 11 }));
    }

    #[test]
    fn ideas_lose_their_numbering_and_stop_at_three() {
        let answer = "1. A red fox in the snow\n\n2) «Кот в шляпе»\n- \"A lighthouse at dusk\"\n4. extra";
        assert_eq!(parse_ideas(answer), ["A red fox in the snow", "Кот в шляпе", "A lighthouse at dusk"]);
        assert!(parse_ideas("  \n ").is_empty());
    }

    #[test]
    fn requests_round_trip_and_price_their_work() {
        let idea = ImageRequest::Idea { description: "a fox".into(), price: Credits::whole(1) };
        let json = serde_json::to_value(&idea).unwrap();
        assert_eq!(json["type"], "idea");
        assert_eq!(serde_json::from_value::<ImageRequest>(json).unwrap(), idea);
        assert_eq!(idea.work(), Work::Fixed(Credits::whole(1)));
        assert_eq!(idea.kind(), JobKind::Idea);
        let edit = ImageRequest::Edit {
            prompt: "blue".into(),
            photo: TelegramPhoto { file_id: "f".into(), file_unique_id: "u".into(), file_size: None },
        };
        assert_eq!((edit.kind(), edit.work()), (JobKind::Image, Work::ImageEdit));
    }
}
