//! The `image` job: a picture generated or edited from a prompt, or three
//! prompts from a chat model (`/idea`), charged once and delivered once.
//!
//! Every step is keyed by the job id, so a redelivered or orphaned job
//! resumes or does nothing: the uploaded photo and the result have fixed
//! keys (`{user_id}/{job_id}/input.png`, `image.png`) and are reused when an
//! earlier attempt stored them, the idea answer is recorded once per job, the
//! capture is idempotent, and the delivered message ids are recorded when
//! the job is marked succeeded.

use shared::telegram::Counted as _;
use std::{future::Future, sync::Arc};

use apalis::prelude::{BoxDynError, Data};
use async_openai::{
    Client,
    config::OpenAIConfig,
    error::OpenAIError,
    types::{
        chat::{
            ChatCompletionRequestAssistantMessage, ChatCompletionRequestAssistantMessageContent,
            ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
            ChatCompletionRequestSystemMessageContent, ChatCompletionRequestUserMessage,
            ChatCompletionRequestUserMessageContent, CreateChatCompletionRequestArgs,
        },
        images::{CreateImageRequestArgs, ImageModel, ImageSize},
    },
};
use base64::Engine as _;
use bytes::Bytes;
use sea_orm::DatabaseConnection;
use shared::ids::JobId;
use shared::platform::metrics::Provider;
use shared::telegram::buttons::Callback;
use shared::{
    billing::money::Credits,
    entities::{
        jobs::{JobKind, Model as Job},
        media_objects::MediaKind,
    },
    jobs,
    jobs::queue::ImageTask,
    media::images::{self, ImageFormat, ImageRequest, Speaker, TelegramPhoto},
    media::transcripts::record_media,
    telegram::{self, Outgoing},
    texts::i18n::{ImageFailureReason, Lang, Text},
};
use storage::{ObjectKey, ObjectName, ObjectStore};
use teloxide::{
    prelude::Requester,
    types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId},
};

pub use crate::runner::Outcome;
use crate::runner::{self, Common, Failure, Runnable, transient};

/// Name of the edited photo, converted to PNG, under the job's prefix.
pub const INPUT_NAME: &str = "input.png";
/// Name of the picture the provider made, under the job's prefix.
pub const OUTPUT_NAME: &str = "image.png";

/// What the image job needs.
pub struct ImageContext {
    /// Database, ledger, Telegram and the attempt policy.
    pub common: Common,
    /// Object storage.
    pub store: ObjectStore,
    /// The images client.
    pub images: Client<OpenAIConfig>,
    /// Image model name.
    pub image_model: String,
    /// Requested picture size, e.g. `1024x1024`.
    pub image_size: String,
    /// The chat client behind `/idea`.
    pub chat: Client<OpenAIConfig>,
    /// Chat model name.
    pub chat_model: String,
    /// Fetches pictures providers return as URLs.
    pub http: reqwest::Client,
    /// Largest photo accepted for editing, in bytes.
    pub max_edit_bytes: u64,
    /// Longest wait for the image or chat provider.
    pub provider_timeout: std::time::Duration,
}

fn failure_code(reason: ImageFailureReason) -> &'static str {
    match reason {
        ImageFailureReason::Refused => "content_policy",
        ImageFailureReason::NotAnImage => "not_an_image",
        ImageFailureReason::TooBig => "too_big",
        ImageFailureReason::Unavailable => "provider_unavailable",
    }
}

/// The user's notice for a picture or idea job that ended for `reason`.
fn notice(job: &Job, reason: ImageFailureReason) -> Text {
    match job.kind {
        JobKind::Idea => Text::IdeaFailed { reason },
        _ => Text::ImageFailed { reason },
    }
}

/// A failure retrying cannot help, told to the user as `reason`.
fn permanent(job: &Job, reason: ImageFailureReason, detail: impl Into<String>) -> Failure {
    Failure::Permanent { code: failure_code(reason), notice: notice(job, reason), detail: detail.into() }
}

impl Runnable for ImageContext {
    const NAME: &'static str = "image";

    fn common(&self) -> &Common {
        &self.common
    }

    fn attempt<'a>(&'a self, job: &'a Job) -> impl Future<Output = Result<(), Failure>> + Send + 'a {
        run(self, job)
    }

    fn exhausted(&self, job: &Job) -> (&'static str, Text) {
        let reason = ImageFailureReason::Unavailable;
        (failure_code(reason), notice(job, reason))
    }

    fn after_failure<'a>(&'a self, job: &'a Job) -> impl Future<Output = ()> + Send + 'a {
        delete_status(self, job)
    }
}

/// The queue handler.
pub async fn handle(task: ImageTask, ctx: Data<Arc<ImageContext>>) -> Result<(), BoxDynError> {
    runner::handle(Arc::clone(&ctx), task.job_id).await
}

/// Claims and runs one attempt of `job_id` (see [`runner::run_once`]).
///
/// # Errors
/// Only when the job's row cannot be read or written.
pub async fn run_once(ctx: &ImageContext, job_id: JobId) -> anyhow::Result<Outcome> {
    runner::run_once(ctx, job_id).await
}

async fn delete_status(ctx: &ImageContext, job: &Job) {
    if let Some(message_id) = job.status_message_id {
        // Cosmetic: the status may already be gone.
        let _ = ctx.common.bot.delete_message(job.chat_id, MessageId(message_id)).counted().await;
    }
}

fn key(job: &Job, name: &str) -> Result<ObjectKey, Failure> {
    let name = ObjectName::parse(name).map_err(|e| transient(anyhow::anyhow!(e)))?;
    Ok(ObjectKey::new(job.user_id.0, job.id.0, &name))
}

async fn run(ctx: &ImageContext, job: &Job) -> Result<(), Failure> {
    let request = images::request_of(job).map_err(transient)?;
    let lang = runner::user_lang(&ctx.common.db, job).await;
    match &request {
        ImageRequest::Idea { description, .. } => ideas(ctx, job, lang, description, &request).await,
        ImageRequest::Generate { .. } | ImageRequest::Edit { .. } | ImageRequest::EditPicture { .. } => {
            picture(ctx, job, lang, &request).await
        }
    }
}

/// Generates or edits, stores, charges and delivers a picture.
async fn picture(ctx: &ImageContext, job: &Job, lang: Lang, request: &ImageRequest) -> Result<(), Failure> {
    // 1. The picture, kept in storage so a retry after this point costs no provider call.
    let output_key = key(job, OUTPUT_NAME)?;
    let png = if ctx.store.exists(&output_key).await.map_err(transient)? {
        ctx.store.get(&output_key).await.map_err(transient)?
    } else {
        let made = match request {
            ImageRequest::Generate { prompt } => generate(ctx, job, prompt).await?,
            ImageRequest::Edit { prompt, photo } => {
                let input = edit_input(ctx, job, photo).await?;
                edit(ctx, job, prompt, input).await?
            }
            ImageRequest::EditPicture { prompt, source } => {
                let input = picture_input(ctx, job, *source).await?;
                edit(ctx, job, prompt, input).await?
            }
            ImageRequest::Idea { .. } => return Err(transient(anyhow::anyhow!("an idea is not a picture"))),
        };
        let png = match ImageFormat::sniff(&made) {
            Some(ImageFormat::Png) => made,
            Some(_) => to_png(made).await.map_err(|e| transient(e.context("converting the result")))?,
            None => {
                return Err(transient(anyhow::anyhow!(
                    "the provider returned something that is not a picture"
                )));
            }
        };
        ctx.store.put(&output_key, png.clone(), "image/png").await.map_err(transient)?;
        record_media(
            &ctx.common.db,
            job.user_id,
            job.id,
            output_key.as_str(),
            MediaKind::ImageOutput,
            "image/png",
            png.len(),
        )
        .await
        .map_err(transient)?;
        png
    };

    // 2. Charge (idempotent: a second capture of the same work returns the first).
    let hold =
        ctx.common.ledger.capture_work(&ctx.common.db, job.id, request.work()).await.map_err(transient)?;
    let charged = hold.captured.unwrap_or(Credits::ZERO);

    // 3. Deliver, then mark the job done with the message ids.
    let buttons = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        Text::FullQualityButton.render(lang),
        Callback::FullQuality { job: job.id }.encode(),
    )]]);
    let photo = Outgoing::Photo {
        name: OUTPUT_NAME,
        body: png.clone(),
        caption: Text::ImageReady { prompt: caption_prompt(request), charged: charged.amount() }.render(lang),
        buttons,
        reply_to: job.request_message_id.map(MessageId),
    };
    let sent = telegram::send(&ctx.common.bot, job.chat_id.into(), &photo)
        .await
        .map_err(|e| runner::delivery_failure(e, "sending the picture"))?;
    jobs::mark_succeeded(
        &ctx.common.db,
        job.id,
        &serde_json::json!({ "delivered_message_ids": [sent.0], "image_key": output_key.as_str() }),
        charged.amount(),
    )
    .await
    .map_err(transient)?;
    delete_status(ctx, job).await;
    tracing::info!(job_id = %job.id, charged = %charged, bytes = png.len(), "picture delivered");
    Ok(())
}

/// Longest prompt quoted in a caption (Telegram allows 1,024 characters).
const CAPTION_PROMPT_CHARS: usize = 200;

/// The prompt as the caption quotes it: whole, or its beginning and "…".
fn caption_prompt(request: &ImageRequest) -> String {
    let prompt = match request {
        ImageRequest::Generate { prompt }
        | ImageRequest::Edit { prompt, .. }
        | ImageRequest::EditPicture { prompt, .. } => prompt.as_str(),
        ImageRequest::Idea { description, .. } => description.as_str(),
    };
    match prompt.char_indices().nth(CAPTION_PROMPT_CHARS) {
        Some((cut, _)) => format!("{}…", prompt[..cut].trim_end()),
        None => prompt.to_owned(),
    }
}

async fn generate(ctx: &ImageContext, job: &Job, prompt: &str) -> Result<Bytes, Failure> {
    let request = CreateImageRequestArgs::default()
        .prompt(prompt)
        .model(ImageModel::Other(ctx.image_model.clone()))
        .size(ImageSize::Other(ctx.image_size.clone()))
        .n(1u8)
        .safety_identifier(safety_id(job))
        .build()
        .map_err(transient)?;
    jobs::count_provider_call(&ctx.common.db, job.id).await.map_err(transient)?;
    let response = runner::provider_request(
        Provider::Images,
        ctx.provider_timeout,
        "the image provider",
        ctx.images.images().generate_byot::<_, Pictures>(request),
    )
    .await?
    .map_err(|e| provider_failure(job, e))?;
    picture_bytes(ctx, response).await
}

async fn edit(ctx: &ImageContext, job: &Job, prompt: &str, input: Bytes) -> Result<Bytes, Failure> {
    let request = PictureEdit {
        png: input,
        prompt: prompt.to_owned(),
        model: ctx.image_model.clone(),
        size: ctx.image_size.clone(),
        safety_identifier: safety_id(job),
    };
    jobs::count_provider_call(&ctx.common.db, job.id).await.map_err(transient)?;
    let response = runner::provider_request(
        Provider::Images,
        ctx.provider_timeout,
        "the image provider",
        ctx.images.images().edit_byot::<_, Pictures>(request),
    )
    .await?
    .map_err(|e| provider_failure(job, e))?;
    picture_bytes(ctx, response).await
}

/// An edit request as OpenAI documents `POST /images/edits`: the picture is a
/// file part with its filename and `Content-Type: image/png` (the client
/// library sends none, which OpenAI refuses as `application/octet-stream`).
#[derive(Clone)]
struct PictureEdit {
    png: Bytes,
    prompt: String,
    model: String,
    size: String,
    safety_identifier: String,
}

impl async_openai::traits::AsyncTryFrom<PictureEdit> for reqwest_openai::multipart::Form {
    type Error = OpenAIError;

    async fn try_from(edit: PictureEdit) -> Result<Self, Self::Error> {
        let image = reqwest_openai::multipart::Part::stream(reqwest_openai::Body::from(edit.png))
            .file_name(INPUT_NAME)
            .mime_str("image/png")
            .map_err(|err| OpenAIError::InvalidArgument(err.to_string()))?;
        Ok(Self::new()
            .part("image", image)
            .text("prompt", edit.prompt)
            .text("model", edit.model)
            .text("size", edit.size)
            .text("n", "1")
            .text("safety_identifier", edit.safety_identifier))
    }
}

/// What an images endpoint answers. Only `data` matters: several
/// OpenAI-compatible servers leave out `usage` or parts of it.
#[derive(serde::Deserialize)]
struct Pictures {
    #[serde(default)]
    data: Vec<Picture>,
}

/// One picture, inline (base64) or as a link.
#[derive(serde::Deserialize)]
struct Picture {
    #[serde(default)]
    b64_json: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// Providers ask for a stable, non-identifying user id for abuse reports.
fn safety_id(job: &Job) -> String {
    format!("user-{}", job.user_id)
}

/// The first picture of a response, whether it came inline (base64) or as a URL.
async fn picture_bytes(ctx: &ImageContext, response: Pictures) -> Result<Bytes, Failure> {
    let first = response
        .data
        .into_iter()
        .next()
        .ok_or_else(|| transient(anyhow::anyhow!("the provider returned no picture")))?;
    match (first.b64_json, first.url) {
        (Some(b64_json), _) => base64::engine::general_purpose::STANDARD
            .decode(b64_json.as_bytes())
            .map(Bytes::from)
            .map_err(|e| transient(anyhow::anyhow!(e).context("decoding the picture"))),
        (None, None) => Err(transient(anyhow::anyhow!("the provider's picture has neither data nor a link"))),
        (None, Some(url)) => {
            let response = ctx
                .http
                .get(url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| transient(anyhow::anyhow!(e).context("fetching the picture")))?;
            response.bytes().await.map_err(|e| transient(anyhow::anyhow!(e).context("fetching the picture")))
        }
    }
}

/// The photo to edit as PNG: from storage if an earlier attempt kept it,
/// else downloaded, checked by its bytes, converted and kept.
async fn edit_input(ctx: &ImageContext, job: &Job, photo: &TelegramPhoto) -> Result<Bytes, Failure> {
    let input_key = key(job, INPUT_NAME)?;
    if ctx.store.exists(&input_key).await.map_err(transient)? {
        return ctx.store.get(&input_key).await.map_err(transient);
    }
    let too_big = |size: u64| permanent(job, ImageFailureReason::TooBig, format!("{size} bytes"));
    if let Some(size) = photo.file_size.filter(|size| *size > ctx.max_edit_bytes) {
        return Err(too_big(size));
    }
    let file =
        ctx.common.bot.get_file(teloxide::types::FileId(photo.file_id.clone())).counted().await.map_err(
            |err| {
                if err.to_string().contains("file is too big") {
                    permanent(job, ImageFailureReason::TooBig, err.to_string())
                } else {
                    transient(anyhow::anyhow!(err).context("getFile failed"))
                }
            },
        )?;
    if u64::from(file.size) > ctx.max_edit_bytes {
        return Err(too_big(u64::from(file.size)));
    }
    let mut buffer = Vec::with_capacity(file.size as usize);
    teloxide::net::Download::download_file(&ctx.common.bot, &file.path, &mut buffer)
        .await
        .map_err(|e| transient(anyhow::anyhow!(e).context("download failed")))?;
    let bytes = Bytes::from(buffer);
    let png = match ImageFormat::sniff(&bytes) {
        Some(ImageFormat::Png) => bytes,
        Some(_) => to_png(bytes)
            .await
            .map_err(|e| permanent(job, ImageFailureReason::NotAnImage, format!("{e:#}")))?,
        None => {
            return Err(permanent(
                job,
                ImageFailureReason::NotAnImage,
                "the bytes are not a JPEG, PNG or WebP picture",
            ));
        }
    };
    keep_input(ctx, job, &input_key, png).await
}

/// Stores the picture to edit under the job, recorded for retention.
async fn keep_input(
    ctx: &ImageContext,
    job: &Job,
    input_key: &ObjectKey,
    png: Bytes,
) -> Result<Bytes, Failure> {
    ctx.store.put(input_key, png.clone(), "image/png").await.map_err(transient)?;
    record_media(
        &ctx.common.db,
        job.user_id,
        job.id,
        input_key.as_str(),
        MediaKind::ImageInput,
        "image/png",
        png.len(),
    )
    .await
    .map_err(transient)?;
    Ok(png)
}

/// The picture job `source` made, copied as this job's input so a retry
/// still has it after retention removed the original.
async fn picture_input(ctx: &ImageContext, job: &Job, source: JobId) -> Result<Bytes, Failure> {
    let input_key = key(job, INPUT_NAME)?;
    if ctx.store.exists(&input_key).await.map_err(transient)? {
        return ctx.store.get(&input_key).await.map_err(transient);
    }
    // The owner's own folder: another user's job id finds nothing here.
    let name = ObjectName::parse(OUTPUT_NAME).map_err(|e| transient(anyhow::anyhow!(e)))?;
    let source_key = ObjectKey::new(job.user_id.0, source.0, &name);
    let png = match ctx.store.get(&source_key).await {
        Ok(png) => png,
        Err(storage::StorageError::NotFound(_)) => {
            return Err(permanent(
                job,
                ImageFailureReason::NotAnImage,
                "the picture to edit is no longer kept",
            ));
        }
        Err(err) => return Err(transient(err)),
    };
    keep_input(ctx, job, &input_key, png).await
}

/// Re-encodes a JPEG or WebP picture as PNG, off the async runtime.
async fn to_png(bytes: Bytes) -> anyhow::Result<Bytes> {
    tokio::task::spawn_blocking(move || {
        let picture = image::load_from_memory(&bytes)?;
        let mut out = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut out, image::ImageFormat::Png)?;
        Ok(Bytes::from(out.into_inner()))
    })
    .await?
}

/// Sorts provider errors: refusals and bad requests are permanent, the rest may pass.
fn provider_failure(job: &Job, err: OpenAIError) -> Failure {
    if let OpenAIError::ApiError(api) = &err {
        let code = api.api_error.code.as_deref().unwrap_or_default();
        let status = api.status_code.as_u16();
        if code == "content_policy_violation" || code == "moderation_blocked" {
            return permanent(job, ImageFailureReason::Refused, err.to_string());
        }
        if code == "insufficient_quota" || (400..500).contains(&status) && status != 408 && status != 429 {
            return permanent(job, ImageFailureReason::Unavailable, err.to_string());
        }
    }
    transient(anyhow::anyhow!(err))
}

/// Asks the chat model for prompts (once per job), charges, and offers them as buttons.
async fn ideas(
    ctx: &ImageContext,
    job: &Job,
    lang: Lang,
    description: &str,
    request: &ImageRequest,
) -> Result<(), Failure> {
    let answer = match images::idea_answer(&ctx.common.db, job.id).await.map_err(transient)? {
        Some(answer) => answer,
        None => {
            let answer = ask_for_ideas(ctx, job, description).await?;
            images::remember_idea(&ctx.common.db, job.user_id, job.id, description, &answer)
                .await
                .map_err(transient)?;
            answer
        }
    };
    let ideas = images::parse_ideas(&answer);
    if ideas.is_empty() {
        return Err(permanent(
            job,
            ImageFailureReason::Unavailable,
            format!("no prompts in the answer {answer:?}"),
        ));
    }

    let hold =
        ctx.common.ledger.capture_work(&ctx.common.db, job.id, request.work()).await.map_err(transient)?;
    let charged = hold.captured.unwrap_or(Credits::ZERO);

    let buttons = InlineKeyboardMarkup::new(ideas.iter().zip(0u8..).map(|(idea, index)| {
        let pick = Callback::IdeaPick { job: job.id, index }.encode();
        [InlineKeyboardButton::callback(button_label(usize::from(index), idea), pick)]
    }));
    let text = Text::IdeaList { ideas: ideas.clone(), charged: charged.amount() }.render(lang);
    let sent = telegram::send(&ctx.common.bot, job.chat_id.into(), &Outgoing::WithButtons { text, buttons })
        .await
        .map_err(|e| runner::delivery_failure(e, "sending the ideas"))?;
    jobs::mark_succeeded(
        &ctx.common.db,
        job.id,
        &serde_json::json!({ "delivered_message_ids": [sent.0], "ideas": ideas }),
        charged.amount(),
    )
    .await
    .map_err(transient)?;
    delete_status(ctx, job).await;
    tracing::info!(job_id = %job.id, charged = %charged, "ideas delivered");
    Ok(())
}

/// `1. A red fox…`: short enough for a button.
fn button_label(index: usize, idea: &str) -> String {
    const MAX: usize = 48;
    let mut label: String = idea.chars().take(MAX).collect();
    if idea.chars().count() > MAX {
        label.push('…');
    }
    format!("{}. {label}", index + 1)
}

async fn ask_for_ideas(ctx: &ImageContext, job: &Job, description: &str) -> Result<String, Failure> {
    let mut messages: Vec<ChatCompletionRequestMessage> = vec![
        ChatCompletionRequestSystemMessage::from(ChatCompletionRequestSystemMessageContent::from(
            images::IDEA_INSTRUCTIONS,
        ))
        .into(),
    ];
    for line in images::idea_history(&ctx.common.db, job.user_id, job.id).await.map_err(transient)? {
        messages.push(match line.speaker {
            Speaker::User => ChatCompletionRequestUserMessage::from(
                ChatCompletionRequestUserMessageContent::from(line.content),
            )
            .into(),
            Speaker::Assistant => ChatCompletionRequestAssistantMessage::from(
                ChatCompletionRequestAssistantMessageContent::from(line.content),
            )
            .into(),
        });
    }
    messages.push(
        ChatCompletionRequestUserMessage::from(ChatCompletionRequestUserMessageContent::from(description))
            .into(),
    );
    let request = CreateChatCompletionRequestArgs::default()
        .model(ctx.chat_model.clone())
        .messages(messages)
        .build()
        .map_err(transient)?;
    jobs::count_provider_call(&ctx.common.db, job.id).await.map_err(transient)?;
    let response = runner::provider_request(
        Provider::Ideas,
        ctx.provider_timeout,
        "the chat provider",
        ctx.chat.chat().create(request),
    )
    .await?
    .map_err(|e| provider_failure(job, e))?;
    let message = response
        .choices
        .into_iter()
        .next()
        .map(|choice| choice.message)
        .ok_or_else(|| transient(anyhow::anyhow!("the chat model returned no choice")))?;
    if let Some(refusal) = message.refusal.filter(|r| !r.is_empty()) {
        return Err(permanent(job, ImageFailureReason::Refused, refusal));
    }
    message
        .content
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| transient(anyhow::anyhow!("an empty answer")))
}

/// How long pictures stay in storage, and where they are.
#[derive(Clone)]
pub struct Retention {
    /// Object storage.
    pub store: ObjectStore,
    /// Photos uploaded for editing are deleted after this.
    pub input_max_age: chrono::Duration,
    /// Generated and edited pictures are deleted after this.
    pub output_max_age: chrono::Duration,
}

/// What one retention pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Uploaded photos deleted.
    pub inputs: usize,
    /// Generated pictures deleted.
    pub outputs: usize,
    /// `/idea` messages forgotten.
    pub idea_messages: u64,
}

/// Deletes pictures past their age from storage and records each deletion in
/// `media_objects.deleted_at`; also forgets `/idea` messages older than 30 days.
pub async fn apply_retention(
    db: &DatabaseConnection,
    retention: &Retention,
) -> anyhow::Result<RetentionReport> {
    const BATCH: u32 = 500;
    let now = chrono::Utc::now();
    let mut report = RetentionReport::default();
    for (kind, max_age) in
        [(MediaKind::ImageInput, retention.input_max_age), (MediaKind::ImageOutput, retention.output_max_age)]
    {
        let expired = images::expired_media(db, kind, now - max_age, BATCH).await?;
        let mut deleted = Vec::with_capacity(expired.len());
        for object in expired {
            let key = match ObjectKey::parse(&object.key) {
                Ok(key) => key,
                Err(err) => {
                    tracing::warn!(key = %object.key, error = %err, "a stored key that does not parse; skipped");
                    continue;
                }
            };
            match retention.store.delete(&key).await {
                Ok(()) => deleted.push(object.id),
                Err(err) => {
                    tracing::warn!(key = %object.key, error = %err, "cannot delete; next tick tries again")
                }
            }
        }
        images::mark_media_deleted(db, &deleted).await?;
        match kind {
            MediaKind::ImageInput => report.inputs = deleted.len(),
            _ => report.outputs = deleted.len(),
        }
    }
    report.idea_messages = images::forget_old_ideas(db).await?;
    if report != RetentionReport::default() {
        tracing::info!(
            inputs = report.inputs,
            outputs = report.outputs,
            idea_messages = report.idea_messages,
            "retention deleted old pictures"
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_quote_a_long_prompt_by_its_beginning() {
        let short = ImageRequest::Generate { prompt: "кот в шляпе".into() };
        assert_eq!(caption_prompt(&short), "кот в шляпе");
        let long = ImageRequest::Generate { prompt: "ы ".repeat(150) };
        let quoted = caption_prompt(&long);
        assert_eq!(quoted.chars().count(), CAPTION_PROMPT_CHARS);
        assert!(quoted.ends_with("ы…"), "{quoted}");
    }
}
