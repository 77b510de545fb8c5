//! Summaries on request: the "Summary" button under a transcript asks a chat
//! model for a short summary and action items, as a job of its own kind.
//!
//! A summary job follows the rules of every job: its row and its hold are
//! created together, the queue carries only its id, and each effect is keyed
//! by it. Its id is derived from the transcript's ([`summary_job_id`]), so a
//! second tap of the same button finds the first job instead of holding and
//! charging again; a summary that failed may be asked for again, under the
//! next id of the same sequence, up to [`MAX_SUMMARY_REQUESTS`] times. The
//! summary is kept in `transcript_summaries`, one per transcript, and shown
//! again for free.

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, JobId, UserId};
use crate::{
    billing::ledger::Ledger,
    billing::money::Credits,
    billing::pricing::Work,
    entities::jobs::{self, JobKind, JobStatus, Model as Job},
    jobs::{self as job_rows, JobError, NewJob, QueuedJob},
    media::provider::ProviderSettings,
};

/// What a summary job is asked to do: its `jobs.input`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRequest {
    /// The transcription job whose transcript is summarised.
    pub transcript: JobId,
    /// The price shown and held (fixed when the job was created).
    pub price: Credits,
    /// The message the summary replies to (the transcript's first message).
    pub reply_to: Option<i32>,
}

impl SummaryRequest {
    /// What is held and charged for it.
    pub fn work(&self) -> Work {
        Work::Fixed(self.price)
    }
}

/// Reads a summary job's request back.
pub fn request_of(job: &Job) -> Result<SummaryRequest, JobError> {
    serde_json::from_value(job.input.clone())
        .map_err(|err| JobError::BadInput { job_id: job.id, reason: err.to_string() })
}

/// How many times a user may ask for the summary of one transcript when the
/// earlier requests failed (a success is shown again, never redone).
pub const MAX_SUMMARY_REQUESTS: u8 = 3;

/// The id of request number `attempt` (0-based) for the summary of
/// `transcript`: the same for every tap, so a repeated tap finds the job
/// instead of creating (and charging) another.
pub fn summary_job_id(transcript: JobId, attempt: u8) -> JobId {
    JobId(uuid::Uuid::new_v5(&transcript.0, &[b's', b'u', b'm', attempt]))
}

/// Most characters of a transcript sent to the model (about 10 000 tokens):
/// a longer transcript is summarised from its beginning, and the user is told.
pub const SUMMARY_INPUT_CHARS: usize = 40_000;

/// Most tokens the model may answer with: a short summary and a list.
pub const SUMMARY_MAX_TOKENS: u32 = 1_200;

/// The part of `text` the model is given: all of it, or its first
/// [`SUMMARY_INPUT_CHARS`] characters cut at the last whitespace before the
/// limit (never inside a word). The flag says whether it was cut.
pub fn summary_input(text: &str, max_chars: usize) -> (&str, bool) {
    let text = text.trim();
    let Some((cut, _)) = text.char_indices().nth(max_chars) else { return (text, false) };
    let head = &text[..cut];
    let at_space = head.rfind(char::is_whitespace).filter(|&at| at > cut / 2).unwrap_or(cut);
    (head[..at_space].trim_end(), true)
}

/// Instructions for the model. Not shown to users.
pub fn summary_instructions(language: Option<&str>, partial: bool) -> String {
    let language = match language {
        Some(code) => format!("the language of the transcript (detected as `{code}`)"),
        None => "the language of the transcript".to_owned(),
    };
    let partial = if partial {
        " The transcript is long and you are given only its beginning: say so in one short sentence at the end."
    } else {
        ""
    };
    format!(
        "You summarise transcripts of voice messages, calls and meetings. Answer in {language}, in plain \
         text without Markdown. First a short summary of at most five sentences. Then the action items \
         (tasks, decisions, deadlines, who does what), one per line starting with \"- \", under a short \
         heading in that language; if there are none, say so in one line. Do not invent anything that is \
         not in the transcript.{partial}"
    )
}

/// A stored summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSummary {
    /// The summary job that made it.
    pub job_id: JobId,
    /// What the model answered.
    pub content: String,
    /// Whether only the transcript's beginning was summarised.
    pub partial: bool,
    /// When it was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The summary of transcript `transcript`, if one was made and it belongs to `user_id`.
///
/// # Errors
/// When the database fails.
pub async fn stored<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    transcript: JobId,
) -> Result<Option<StoredSummary>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT job_id, content, partial, created_at FROM transcript_summaries \
             WHERE transcript_job_id = $1 AND user_id = $2",
            [transcript.into(), user_id.into()],
        ))
        .await?;
    row.map(|row| {
        Ok(StoredSummary {
            job_id: row.try_get("", "job_id")?,
            content: row.try_get("", "content")?,
            partial: row.try_get("", "partial")?,
            created_at: row.try_get("", "created_at")?,
        })
    })
    .transpose()
}

/// A summary about to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSummary<'a> {
    /// The summary job.
    pub job_id: JobId,
    /// Its owner.
    pub user_id: UserId,
    /// The transcript it summarises.
    pub transcript: JobId,
    /// What the model answered.
    pub content: &'a str,
    /// The model that answered.
    pub model: &'a str,
    /// Characters of the transcript the model was given.
    pub input_chars: usize,
    /// Whether that was only the transcript's beginning.
    pub partial: bool,
}

/// Stores a summary once per transcript: a retried job finds the first one.
///
/// # Errors
/// When the database fails.
pub async fn record<C: ConnectionTrait>(db: &C, summary: &NewSummary<'_>) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO transcript_summaries (transcript_job_id, job_id, user_id, content, model, input_chars, partial) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (transcript_job_id) DO NOTHING",
        [
            summary.transcript.into(),
            summary.job_id.into(),
            summary.user_id.into(),
            summary.content.into(),
            summary.model.into(),
            i32::try_from(summary.input_chars).unwrap_or(i32::MAX).into(),
            summary.partial.into(),
        ],
    ))
    .await
    .map(drop)
}

/// What a tap of the "Summary" button led to.
#[derive(Clone, Debug, PartialEq)]
pub enum Requested {
    /// A new job, its price held.
    Queued(QueuedJob),
    /// The summary was made before: show it again, free.
    Stored(StoredSummary),
    /// A job for it is queued or running: it will arrive.
    InProgress,
    /// The transcript is gone, or is not this user's: nothing held.
    NoTranscript,
    /// The transcript has no words to summarise: nothing held.
    NothingToSummarise,
    /// Every request allowed for this transcript failed: nothing held.
    GaveUp,
    /// The user already has `limit` unfinished jobs: nothing held.
    TooManyJobs {
        /// The limit.
        limit: u32,
    },
}

/// A tap of the "Summary" button, as the bot received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ask {
    /// Who tapped.
    pub user_id: UserId,
    /// Where the summary goes.
    pub chat_id: ChatId,
    /// The transcription job whose transcript is to be summarised.
    pub transcript: JobId,
    /// The price of a summary now.
    pub price: Credits,
    /// The message the summary replies to ([`reply_target`]).
    pub reply_to: Option<i32>,
    /// Most unfinished jobs the user may have.
    pub max_unfinished: u32,
}

/// Asks for the summary of `ask.transcript`: shows a stored one, finds a job
/// already on it, or creates the next one and holds its price (unless the
/// user has too many jobs unfinished). Two taps at once create one job: the
/// second insert of the same id fails and finds the first.
///
/// # Errors
/// [`JobError::Ledger`] with `InsufficientFunds` when the price cannot be
/// held (nothing is created); the database's errors.
pub async fn request<C>(db: &C, ledger: &Ledger, ask: &Ask) -> Result<Requested, JobError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    let Ask { user_id, chat_id, transcript, price, reply_to, max_unfinished } = *ask;
    let Some(row) = crate::media::transcripts::owned_by(db, transcript, user_id).await? else {
        return Ok(Requested::NoTranscript);
    };
    if let Some(summary) = stored(db, user_id, transcript).await? {
        return Ok(Requested::Stored(summary));
    }
    if row.text.as_deref().is_some_and(|text| text.trim().is_empty()) {
        return Ok(Requested::NothingToSummarise);
    }
    let request = SummaryRequest { transcript, price, reply_to };
    for attempt in 0..MAX_SUMMARY_REQUESTS {
        let job_id = summary_job_id(transcript, attempt);
        if let Some(found) = settled_or_running(db, job_id).await? {
            match found {
                Found::Running => return Ok(Requested::InProgress),
                Found::Ended => continue,
            }
        }
        if job_rows::unfinished_count(db, user_id).await? >= u64::from(max_unfinished) {
            return Ok(Requested::TooManyJobs { limit: max_unfinished });
        }
        let new = NewJob {
            user_id,
            chat_id,
            kind: JobKind::Summary,
            input: job_rows::input_json(&request)?,
            file_unique_id: None,
            work: request.work(),
        };
        return match job_rows::create_as(db, ledger, job_id, new).await {
            Ok(queued) => Ok(Requested::Queued(queued)),
            // Another tap created it a moment ago.
            Err(JobError::Db(_)) if settled_or_running(db, job_id).await?.is_some() => {
                Ok(Requested::InProgress)
            }
            Err(err) => Err(err),
        };
    }
    Ok(Requested::GaveUp)
}

/// A summary job that exists.
enum Found {
    /// Queued, running, or done (its summary is stored, or about to be).
    Running,
    /// Failed or cancelled: the next request may be made.
    Ended,
}

async fn settled_or_running<C: ConnectionTrait>(db: &C, job_id: JobId) -> Result<Option<Found>, DbErr> {
    let job = jobs::Entity::find_by_id(job_id).one(db).await?;
    Ok(job.map(|job| match job.status {
        JobStatus::Failed | JobStatus::Cancelled => Found::Ended,
        JobStatus::Queued | JobStatus::Running | JobStatus::Succeeded | JobStatus::Undeliverable => {
            Found::Running
        }
    }))
}

/// The message a summary of transcription job `transcript` replies to: the
/// transcript's first message when the button tapped (`tapped`) is under that
/// delivery, else the tapped message itself (a transcript sent again for a
/// repeated file has messages of its own).
pub fn reply_target(transcript: &Job, tapped: Option<i32>) -> Option<i32> {
    let delivered = job_rows::delivered_so_far(transcript);
    match tapped {
        Some(tapped) if delivered.contains(&tapped) => delivered.first().copied(),
        tapped => tapped,
    }
}

/// The chat model that summarises transcripts, and the price of a summary.
#[derive(Debug, Clone)]
pub struct SummarySettings {
    /// Endpoint, key and model.
    pub provider: ProviderSettings,
    /// Longest wait for the model's answer.
    pub timeout: std::time::Duration,
    /// Price of one summary.
    pub price: Credits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_stable_per_transcript_and_request() {
        let transcript = JobId(uuid::Uuid::from_u128(42));
        assert_eq!(summary_job_id(transcript, 0), summary_job_id(transcript, 0));
        assert_ne!(summary_job_id(transcript, 0), summary_job_id(transcript, 1));
        assert_ne!(summary_job_id(transcript, 0), summary_job_id(JobId(uuid::Uuid::from_u128(43)), 0));
        // Not the id of the picture drawn from an idea of the same job.
        assert_ne!(summary_job_id(transcript, 0), crate::media::images::picked_idea_job(transcript, 0));
    }

    #[test]
    fn summaries_reply_to_the_first_message_of_the_tapped_delivery() {
        let now = chrono::Utc::now();
        let transcript = Job {
            id: JobId(uuid::Uuid::from_u128(1)),
            user_id: UserId(1),
            kind: JobKind::Transcribe,
            status: JobStatus::Succeeded,
            progress: 100,
            attempts: 1,
            error_code: None,
            chat_id: ChatId(5),
            status_message_id: None,
            request_message_id: None,
            input: serde_json::json!({}),
            file_unique_id: None,
            result: Some(serde_json::json!({ "delivered_message_ids": [10, 11, 12] })),
            price_quoted: rust_decimal::Decimal::ZERO,
            free_units: 0,
            price_charged: None,
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
            lease_until: None,
            pushed_at: None,
            provider_calls: 1,
        };
        assert_eq!(reply_target(&transcript, Some(12)), Some(10));
        // A footer of the same transcript delivered again for a repeated file.
        assert_eq!(reply_target(&transcript, Some(40)), Some(40));
        assert_eq!(reply_target(&transcript, None), None);
    }

    #[test]
    fn long_transcripts_are_cut_between_words() {
        assert_eq!(summary_input("  short text ", 100), ("short text", false));
        assert_eq!(summary_input("один два три", 12), ("один два три", false));
        assert_eq!(summary_input("один два три", 10), ("один два", true));
        // No whitespace in the second half: cut at the limit.
        assert_eq!(summary_input("abcdefghij klm", 8), ("abcdefgh", true));
        let long = "слово ".repeat(20_000);
        let (head, partial) = summary_input(&long, SUMMARY_INPUT_CHARS);
        assert!(partial);
        assert!(head.chars().count() <= SUMMARY_INPUT_CHARS);
        assert!(head.ends_with("слово"));
    }

    #[test]
    fn instructions_name_the_language_and_a_cut() {
        let whole = summary_instructions(Some("ru"), false);
        assert!(whole.contains("`ru`") && !whole.contains("only its beginning"));
        let partial = summary_instructions(None, true);
        assert!(partial.contains("only its beginning") && !partial.contains("detected"));
    }

    #[test]
    fn requests_round_trip_and_price_their_work() {
        let request = SummaryRequest {
            transcript: JobId(uuid::Uuid::from_u128(7)),
            price: Credits::whole(3),
            reply_to: Some(12),
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(serde_json::from_value::<SummaryRequest>(json).unwrap(), request);
        assert_eq!(request.work(), Work::Fixed(Credits::whole(3)));
    }
}
