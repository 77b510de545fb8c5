//! Pictures in: `/image`, `/edit`, photos with a caption, `/idea`, and the
//! buttons under pictures and ideas. Validate, price, hold, queue, and tell
//! the user; the worker does the rest.

use shared::ids::JobId;
use shared::telegram::Counted as _;
use shared::telegram::Telegram;
use shared::{
    billing::ledger::LedgerError,
    entities::users::Model as User,
    jobs::{self, JobError},
    media::images::{self, ImageFormat, ImageRequest, Prompt, PromptError, TelegramPhoto},
    texts::i18n::{Lang, Text},
};
use teloxide::{
    net::Download,
    payloads::SendMessageSetters,
    prelude::{Message, Requester},
    types::{
        ChatId, FileMeta, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId,
        ReplyMarkup,
    },
};

use shared::telegram::buttons::Callback;

use crate::startup::AppState;

/// Where a request was made: the chat, and the user's message the result
/// replies to (so two pictures that arrive together can be told apart).
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    /// The chat.
    pub chat: ChatId,
    /// The message that asked, when there is one.
    pub message: Option<MessageId>,
}

impl From<&Message> for Origin {
    fn from(msg: &Message) -> Self {
        Self { chat: msg.chat.id, message: Some(msg.id) }
    }
}

/// The picture a message carries: the largest size of a photo, or a
/// document. `None` for anything else.
fn picture_file(msg: &Message) -> Option<&FileMeta> {
    if let Some(sizes) = msg.photo() {
        return sizes
            .iter()
            .max_by_key(|size| u64::from(size.width) * u64::from(size.height))
            .map(|s| &s.file);
    }
    msg.document().map(|doc| &doc.file)
}

fn document_mime(msg: &Message) -> Option<String> {
    msg.document().and_then(|doc| doc.mime_type.as_ref()).map(ToString::to_string)
}

/// Whether a message is meant for editing: a photo, a picture sent as a
/// file, or any other file (not audio or video) with a caption saying what
/// to change. Recordings go to transcription instead.
pub fn is_edit_request(msg: &Message) -> bool {
    if msg.photo().is_some() {
        return true;
    }
    if msg.document().is_none() {
        return false;
    }
    let mime = document_mime(msg).unwrap_or_default();
    let recording = mime.starts_with("audio/") || mime.starts_with("video/") || mime == "application/ogg";
    mime.starts_with("image/") || (msg.caption().is_some_and(|c| !c.trim().is_empty()) && !recording)
}

/// Whether a text answers the bot's "what should I draw?" question.
pub fn is_prompt_reply(msg: &Message) -> bool {
    let Some(asked) = msg.reply_to_message() else { return false };
    msg.text().is_some()
        && asked.from.as_ref().is_some_and(|from| from.is_bot)
        && asked.text().is_some_and(|text| {
            [Lang::Ru, Lang::En].iter().any(|lang| Text::AskImagePrompt.render(*lang) == text)
        })
}

/// `/image <prompt>`; without a prompt, asks for one (the reply is the prompt).
pub async fn on_image_command(
    bot: &Telegram,
    msg: &Message,
    state: &AppState,
    user: &User,
    text: &str,
) -> anyhow::Result<()> {
    if text.trim().is_empty() {
        let ask = ReplyMarkup::ForceReply(ForceReply::new().selective());
        bot.send_message(msg.chat.id, Text::AskImagePrompt.render(user.language))
            .reply_markup(ask)
            .counted()
            .await?;
        return Ok(());
    }
    draw(bot, msg.into(), state, user, text).await
}

/// The answer to "what should I draw?".
pub async fn on_prompt_reply(
    bot: &Telegram,
    msg: &Message,
    state: &AppState,
    user: &User,
) -> anyhow::Result<()> {
    draw(bot, msg.into(), state, user, msg.text().unwrap_or_default()).await
}

/// Starts a generation of `text` after checking it.
pub async fn draw(
    bot: &Telegram,
    origin: Origin,
    state: &AppState,
    user: &User,
    text: &str,
) -> anyhow::Result<()> {
    let prompt = match Prompt::parse(text, state.settings.images.max_prompt_chars) {
        Ok(prompt) => prompt,
        Err(err) => return refuse_prompt(bot, origin.chat, user.language, err, Text::AskImagePrompt).await,
    };
    start(bot, origin, state, user, ImageRequest::Generate { prompt: prompt.as_str().to_owned() }, None).await
}

async fn refuse_prompt(
    bot: &Telegram,
    chat: ChatId,
    lang: Lang,
    err: PromptError,
    when_empty: Text,
) -> anyhow::Result<()> {
    let text = match err {
        PromptError::Empty => when_empty,
        PromptError::TooLong { max } => Text::PromptTooLong { max },
    };
    bot.send_message(chat, text.render(lang)).counted().await?;
    Ok(())
}

/// `/edit <what to change>` in reply to a photo, or as the caption of the
/// photo itself (Telegram clients send captions that start with a command as
/// that command).
pub async fn on_edit_command(
    bot: &Telegram,
    msg: &Message,
    state: &AppState,
    user: &User,
    text: &str,
) -> anyhow::Result<()> {
    let captioned = Some(msg).filter(|m| picture_file(m).is_some());
    let replied = || msg.reply_to_message().filter(|m| picture_file(m).is_some());
    let Some(photo_message) = captioned.or_else(replied) else {
        bot.send_message(msg.chat.id, Text::EditHowTo.render(user.language)).counted().await?;
        return Ok(());
    };
    edit(bot, msg.into(), state, user, photo_message, text).await
}

/// A photo or a file: edited when its caption says what to change.
pub async fn on_picture(bot: &Telegram, msg: &Message, state: &AppState, user: &User) -> anyhow::Result<()> {
    let caption = msg.caption().unwrap_or_default().trim();
    // A caption may spell the command out: "/edit make it blue".
    let caption = caption.strip_prefix("/edit").map_or(caption, str::trim);
    edit(bot, msg.into(), state, user, msg, caption).await
}

/// Checks the prompt and the picture (by its bytes), then queues the edit.
async fn edit(
    bot: &Telegram,
    origin: Origin,
    state: &AppState,
    user: &User,
    picture: &Message,
    text: &str,
) -> anyhow::Result<()> {
    let (chat, lang) = (origin.chat, user.language);
    let Some(file) = picture_file(picture) else { return Ok(()) };
    let prompt = match Prompt::parse(text, state.settings.images.max_prompt_chars) {
        Ok(prompt) => prompt,
        Err(err) => return refuse_prompt(bot, chat, lang, err, Text::EditHowTo).await,
    };
    let limit = state.settings.images.max_edit_bytes;
    let size = (file.size != u32::MAX).then_some(u64::from(file.size));
    if size.is_some_and(|size| size > limit) {
        bot.send_message(chat, Text::ImageTooBig { limit_mb: limit / 1_000_000 }.render(lang))
            .counted()
            .await?;
        return Ok(());
    }
    // Names and MIME types lie; the first bytes do not. Nothing is held for a non-picture.
    match first_bytes_are_a_picture(bot, file, limit).await? {
        Check::Picture => {}
        Check::TooBig => {
            bot.send_message(chat, Text::ImageTooBig { limit_mb: limit / 1_000_000 }.render(lang))
                .counted()
                .await?;
            return Ok(());
        }
        Check::NotAPicture => {
            bot.send_message(chat, Text::NotAnImage.render(lang)).counted().await?;
            return Ok(());
        }
    }
    let photo = TelegramPhoto {
        file_id: file.id.0.clone(),
        file_unique_id: file.unique_id.0.clone(),
        file_size: size,
    };
    start(bot, origin, state, user, ImageRequest::Edit { prompt: prompt.as_str().to_owned(), photo }, None)
        .await
}

enum Check {
    Picture,
    TooBig,
    NotAPicture,
}

async fn first_bytes_are_a_picture(bot: &Telegram, file: &FileMeta, limit: u64) -> anyhow::Result<Check> {
    let meta = match bot.get_file(file.id.clone()).counted().await {
        Ok(meta) => meta,
        Err(err) if err.to_string().contains("file is too big") => return Ok(Check::TooBig),
        Err(err) => return Err(err.into()),
    };
    if u64::from(meta.size) > limit {
        return Ok(Check::TooBig);
    }
    let mut bytes = Vec::with_capacity(meta.size as usize);
    bot.download_file(&meta.path, &mut bytes).await?;
    Ok(if ImageFormat::sniff(&bytes).is_some() { Check::Picture } else { Check::NotAPicture })
}

/// `/idea <description>`.
pub async fn on_idea_command(
    bot: &Telegram,
    msg: &Message,
    state: &AppState,
    user: &User,
    text: &str,
) -> anyhow::Result<()> {
    let description = match Prompt::parse(text, state.settings.images.max_prompt_chars) {
        Ok(description) => description,
        Err(err) => return refuse_prompt(bot, msg.chat.id, user.language, err, Text::IdeaHowTo).await,
    };
    let request =
        ImageRequest::Idea { description: description.as_str().to_owned(), price: state.settings.idea.cost };
    start(bot, msg.into(), state, user, request, None).await
}

/// A tap on one of the prompts `/idea` suggested: draws it.
pub async fn on_idea_pick(
    bot: &Telegram,
    origin: Origin,
    state: &AppState,
    user: &User,
    job: JobId,
    index: u8,
) -> anyhow::Result<()> {
    let chat = origin.chat;
    // Each button draws once, however often it is tapped.
    let pick = images::picked_idea_job(job, index);
    if jobs::owned_by(&state.db, user.id, pick).await?.is_some() {
        bot.send_message(chat, Text::IdeaAlreadyPicked.render(user.language)).counted().await?;
        return Ok(());
    }
    match images::idea_option(&state.db, user.id, job, usize::from(index)).await? {
        Some(prompt) => {
            let prompt = match Prompt::parse(&prompt, state.settings.images.max_prompt_chars) {
                Ok(prompt) => prompt,
                Err(err) => return refuse_prompt(bot, chat, user.language, err, Text::AskImagePrompt).await,
            };
            let request = ImageRequest::Generate { prompt: prompt.as_str().to_owned() };
            start(bot, origin, state, user, request, Some(pick)).await
        }
        None => {
            tracing::warn!(%job, index, user_id = user.id.0, "an idea button without its idea");
            Ok(())
        }
    }
}

async fn jobs_exists(state: &AppState, user: &User, job: Option<JobId>) -> anyhow::Result<bool> {
    Ok(match job {
        Some(job) => jobs::owned_by(&state.db, user.id, job).await?.is_some(),
        None => false,
    })
}

/// The "full quality" button: the stored picture as a file, only to its owner.
pub async fn send_original(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
    job: JobId,
) -> anyhow::Result<()> {
    let Some(key) = images::stored_output(&state.db, user.id, job).await? else {
        bot.send_message(chat, Text::ImageExpired.render(user.language)).counted().await?;
        return Ok(());
    };
    let bytes = state.store.get(&storage::ObjectKey::parse(&key)?).await?;
    bot.send_document(chat, InputFile::memory(bytes.to_vec()).file_name("image.png")).counted().await?;
    Ok(())
}

/// Prices, holds and queues `request` (as job `pick` when given), then shows the price.
async fn start(
    bot: &Telegram,
    origin: Origin,
    state: &AppState,
    user: &User,
    request: ImageRequest,
    pick: Option<JobId>,
) -> anyhow::Result<()> {
    let (chat, lang) = (origin.chat, user.language);
    let settings = &state.settings;
    if jobs::unfinished_count(&state.db, user.id).await? >= u64::from(settings.max_queued_jobs_per_user) {
        bot.send_message(chat, Text::TooManyJobs { limit: settings.max_queued_jobs_per_user }.render(lang))
            .counted()
            .await?;
        return Ok(());
    }
    let created = images::create_picked(&state.db, &state.ledger, user.id, chat.into(), &request, pick).await;
    let queued = match created {
        Ok(queued) => queued,
        // Two taps at once: the other one created it.
        Err(JobError::Db(_)) if pick.is_some() && jobs_exists(state, user, pick).await? => {
            bot.send_message(chat, Text::IdeaAlreadyPicked.render(lang)).counted().await?;
            return Ok(());
        }
        Err(JobError::Ledger(LedgerError::InsufficientFunds { needed, available })) => {
            let buy = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
                Text::BuyButton.render(lang),
                Callback::Buy.encode(),
            )]]);
            let text = Text::NotEnoughForImage { price: needed.amount(), available: available.amount() };
            bot.send_message(chat, text.render(lang)).reply_markup(buy).counted().await?;
            return Ok(());
        }
        Err(err) => return Err(err.into()),
    };
    let price = queued.hold.amount.amount();
    let status = match &request {
        ImageRequest::Idea { .. } => Text::IdeaQueued { price },
        ImageRequest::Generate { .. } => {
            Text::ImageQueued { price, free: queued.hold.free_units > 0, edit: false }
        }
        ImageRequest::Edit { .. } | ImageRequest::EditPicture { .. } => {
            Text::ImageQueued { price, free: false, edit: true }
        }
    };
    let status = bot.send_message(chat, status.render(lang)).counted().await?;
    jobs::set_messages(&state.db, queued.job_id, status.id.0, origin.message.map(|m| m.0)).await?;
    // A failed push is not lost: the job row stays queued and the sweeper pushes it again.
    if let Err(err) = state.queue.push_image(queued.job_id).await {
        tracing::warn!(job_id = %queued.job_id, error = %err, "queue push failed; the sweeper will retry");
    }
    tracing::info!(job_id = %queued.job_id, price = %queued.hold.amount, kind = ?request.kind(), "image job queued");
    Ok(())
}
