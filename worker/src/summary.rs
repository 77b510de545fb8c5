//! The `summary` job: a transcript's short summary and action items from a
//! chat model, charged once and delivered once, as a reply to the transcript.
//!
//! Every step is keyed by the job id, so a redelivered or orphaned job
//! resumes or does nothing: the model's answer is stored with the transcript
//! before the charge (a retry finds it and asks nothing again), the capture
//! is idempotent, and each delivered message is recorded as it goes out, so
//! a retry sends only what had not.

use shared::telegram::Counted as _;
use std::{future::Future, sync::Arc, time::Duration};

use apalis::prelude::{BoxDynError, Data};
use async_openai::{
    Client,
    config::OpenAIConfig,
    error::OpenAIError,
    types::chat::{
        ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
        ChatCompletionRequestSystemMessageContent, ChatCompletionRequestUserMessage,
        ChatCompletionRequestUserMessageContent, CreateChatCompletionRequestArgs,
    },
};
use shared::ids::JobId;
use shared::platform::metrics::Provider;
use shared::{
    billing::money::Credits,
    entities::jobs::Model as Job,
    jobs,
    jobs::queue::SummaryTask,
    media::summaries::{self, NewSummary, StoredSummary, SummaryRequest},
    media::transcripts,
    telegram::{self, Outgoing},
    texts::i18n::{Lang, SummaryFailureReason, Text},
    texts::split::{TELEGRAM_MESSAGE_LIMIT, split_message},
};
use storage::{ObjectKey, ObjectStore};
use teloxide::{prelude::Requester, types::MessageId};
use tracing::Instrument;

pub use crate::runner::Outcome;
use crate::runner::{self, Common, Failure, Runnable, transient};

/// What the summary job needs.
pub struct SummaryContext {
    /// Database, ledger, Telegram and the attempt policy.
    pub common: Common,
    /// Object storage (the text of transcripts kept before PostgreSQL had it).
    pub store: ObjectStore,
    /// The chat client.
    pub chat: Client<OpenAIConfig>,
    /// Chat model name.
    pub model: String,
    /// Longest wait for the model's answer.
    pub timeout: Duration,
}

fn failure_code(reason: SummaryFailureReason) -> &'static str {
    match reason {
        SummaryFailureReason::Unavailable => "provider_unavailable",
        SummaryFailureReason::Refused => "content_policy",
        SummaryFailureReason::NoTranscript => "no_transcript",
        SummaryFailureReason::NothingToSummarise => "empty_transcript",
    }
}

/// A failure retrying cannot help, told to the user as `reason`.
fn permanent(reason: SummaryFailureReason, detail: impl Into<String>) -> Failure {
    Failure::Permanent {
        code: failure_code(reason),
        notice: Text::SummaryFailed { reason },
        detail: detail.into(),
    }
}

impl Runnable for SummaryContext {
    const NAME: &'static str = "summary";

    fn common(&self) -> &Common {
        &self.common
    }

    fn attempt<'a>(&'a self, job: &'a Job) -> impl Future<Output = Result<(), Failure>> + Send + 'a {
        run(self, job)
    }

    fn exhausted(&self, _job: &Job) -> (&'static str, Text) {
        let reason = SummaryFailureReason::Unavailable;
        (failure_code(reason), Text::SummaryFailed { reason })
    }

    fn after_failure<'a>(&'a self, job: &'a Job) -> impl Future<Output = ()> + Send + 'a {
        delete_status(self, job)
    }
}

/// The queue handler.
pub async fn handle(task: SummaryTask, ctx: Data<Arc<SummaryContext>>) -> Result<(), BoxDynError> {
    runner::handle(Arc::clone(&ctx), task.job_id).await
}

/// Claims and runs one attempt of `job_id` (see [`runner::run_once`]).
///
/// # Errors
/// Only when the job's row cannot be read or written.
pub async fn run_once(ctx: &SummaryContext, job_id: JobId) -> anyhow::Result<Outcome> {
    runner::run_once(ctx, job_id).await
}

async fn delete_status(ctx: &SummaryContext, job: &Job) {
    if let Some(message_id) = job.status_message_id {
        // Cosmetic: the status may already be gone.
        let _ = ctx.common.bot.delete_message(job.chat_id, MessageId(message_id)).counted().await;
    }
}

async fn run(ctx: &SummaryContext, job: &Job) -> Result<(), Failure> {
    let request = summaries::request_of(job).map_err(transient)?;
    let lang = runner::user_lang(&ctx.common.db, job).await;

    // 1. The summary, stored with the transcript so a retry after this point asks nothing again.
    let summary =
        match summaries::stored(&ctx.common.db, job.user_id, request.transcript).await.map_err(transient)? {
            Some(summary) => summary,
            None => summarise(ctx, job, &request).await?,
        };

    // 2. Charge (idempotent: a second capture of the same work returns the first).
    let hold =
        ctx.common.ledger.capture_work(&ctx.common.db, job.id, request.work()).await.map_err(transient)?;
    let charged = hold.captured.unwrap_or(Credits::ZERO);

    // 3. Deliver as a reply to the transcript, then mark the job done.
    let sent = deliver(ctx, job, lang, &request, &summary, charged).await?;
    jobs::mark_succeeded(
        &ctx.common.db,
        job.id,
        &serde_json::json!({ "delivered_message_ids": sent, "transcript": request.transcript }),
        charged.amount(),
    )
    .await
    .map_err(transient)?;
    delete_status(ctx, job).await;
    tracing::info!(job_id = %job.id, transcript = %request.transcript, charged = %charged, "summary delivered");
    Ok(())
}

/// Reads the transcript, asks the model once, and stores its answer.
async fn summarise(
    ctx: &SummaryContext,
    job: &Job,
    request: &SummaryRequest,
) -> Result<StoredSummary, Failure> {
    let db = &ctx.common.db;
    let Some(transcript) =
        transcripts::owned_by(db, request.transcript, job.user_id).await.map_err(transient)?
    else {
        return Err(permanent(SummaryFailureReason::NoTranscript, "the transcript is gone"));
    };
    let text = match transcript.text {
        Some(text) => text,
        None => {
            // Recorded before PostgreSQL kept the text: read the stored file.
            let key = ObjectKey::parse(&transcript.txt_key).map_err(|e| transient(anyhow::anyhow!(e)))?;
            let bytes = ctx.store.get(&key).await.map_err(transient)?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let (input, partial) = summaries::summary_input(&text, summaries::SUMMARY_INPUT_CHARS);
    if input.is_empty() {
        return Err(permanent(SummaryFailureReason::NothingToSummarise, "the transcript has no words"));
    }
    let instructions = summaries::summary_instructions(transcript.language.as_deref(), partial);
    let content = ask(ctx, job, &instructions, input).await?;
    summaries::record(
        db,
        &NewSummary {
            job_id: job.id,
            user_id: job.user_id,
            transcript: request.transcript,
            content: &content,
            model: &ctx.model,
            input_chars: input.chars().count(),
            partial,
        },
    )
    .await
    .map_err(transient)?;
    // The one stored, should another job of this transcript have stored one first.
    summaries::stored(db, job.user_id, request.transcript)
        .await
        .map_err(transient)?
        .ok_or_else(|| transient(anyhow::anyhow!("the summary just stored is not there")))
}

/// What a chat completion answers. Only the first choice's text matters:
/// several OpenAI-compatible servers leave out `usage`, `object`, `created`
/// or a choice's `refusal`, so none of them is required.
#[derive(serde::Deserialize)]
struct ChatAnswer {
    #[serde(default)]
    choices: Vec<ChatChoice>,
    #[serde(default)]
    usage: Option<ChatUsage>,
}

#[derive(serde::Deserialize)]
struct ChatChoice {
    #[serde(default)]
    message: Option<ChatMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(serde::Deserialize)]
struct ChatMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(serde::Deserialize)]
struct ChatUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// One call to the chat model, bounded by the configured timeout.
async fn ask(
    ctx: &SummaryContext,
    job: &Job,
    instructions: &str,
    transcript: &str,
) -> Result<String, Failure> {
    let messages: Vec<ChatCompletionRequestMessage> = vec![
        ChatCompletionRequestSystemMessage::from(ChatCompletionRequestSystemMessageContent::from(
            instructions,
        ))
        .into(),
        ChatCompletionRequestUserMessage::from(ChatCompletionRequestUserMessageContent::from(transcript))
            .into(),
    ];
    let request = CreateChatCompletionRequestArgs::default()
        .model(ctx.model.clone())
        .messages(messages)
        .max_completion_tokens(summaries::SUMMARY_MAX_TOKENS)
        .build()
        .map_err(transient)?;
    jobs::count_provider_call(&ctx.common.db, job.id).await.map_err(transient)?;
    let span = tracing::info_span!("summary_model", model = %ctx.model, chars = transcript.chars().count());
    let answer: ChatAnswer = runner::provider_request(
        Provider::Summary,
        ctx.timeout,
        "the summary model",
        ctx.chat.chat().create_byot(request).instrument(span),
    )
    .await?
    .map_err(provider_failure)?;
    if let Some(usage) = &answer.usage {
        tracing::info!(job_id = %job.id, prompt_tokens = ?usage.prompt_tokens,
            completion_tokens = ?usage.completion_tokens, "summary model answered");
    }
    let choice = answer
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| transient(anyhow::anyhow!("the chat model returned no choice")))?;
    if choice.finish_reason.as_deref() == Some("length") {
        tracing::warn!(job_id = %job.id, "the summary hit the token limit");
    }
    let message = choice.message.ok_or_else(|| transient(anyhow::anyhow!("the choice has no message")))?;
    if let Some(refusal) = message.refusal.filter(|r| !r.trim().is_empty()) {
        return Err(permanent(SummaryFailureReason::Refused, refusal));
    }
    message
        .content
        .map(|content| content.trim().to_owned())
        .filter(|content| !content.is_empty())
        .ok_or_else(|| transient(anyhow::anyhow!("an empty answer")))
}

/// Sorts provider errors: refusals and bad requests are permanent, the rest may pass.
fn provider_failure(err: OpenAIError) -> Failure {
    if let OpenAIError::ApiError(api) = &err {
        let code = api.api_error.code.as_deref().unwrap_or_default();
        let status = api.status_code.as_u16();
        if code == "content_policy_violation" || code == "content_filter" {
            return permanent(SummaryFailureReason::Refused, err.to_string());
        }
        if code == "insufficient_quota" || (400..500).contains(&status) && status != 408 && status != 429 {
            return permanent(SummaryFailureReason::Unavailable, err.to_string());
        }
    }
    transient(anyhow::anyhow!(err))
}

/// Sends the summary, the first part as a reply to the transcript, and
/// records each message as it goes out: a retry sends only the rest.
async fn deliver(
    ctx: &SummaryContext,
    job: &Job,
    lang: Lang,
    request: &SummaryRequest,
    summary: &StoredSummary,
    charged: Credits,
) -> Result<Vec<i32>, Failure> {
    let text = Text::SummaryReady {
        summary: summary.content.clone(),
        partial: summary.partial,
        charged: charged.amount(),
    }
    .render(lang);
    let mut sent = jobs::delivered_so_far(job);
    for (index, part) in split_message(&text, TELEGRAM_MESSAGE_LIMIT).into_iter().enumerate().skip(sent.len())
    {
        let message = match request.reply_to {
            Some(to) if index == 0 => Outgoing::Reply { text: part, to: MessageId(to) },
            _ => Outgoing::Text(part),
        };
        let id = telegram::send(&ctx.common.bot, job.chat_id.into(), &message)
            .await
            .map_err(|e| runner::delivery_failure(e, "sending the summary"))?
            .0;
        jobs::record_delivered(&ctx.common.db, job.id, id).await.map_err(transient)?;
        sent.push(id);
    }
    Ok(sent)
}
