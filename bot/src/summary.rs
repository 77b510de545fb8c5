//! The "Summary" button under a transcript: asks `shared` for the summary
//! (a stored one, a job already on it, or a new job with its price held) and
//! tells the user; the worker does the rest.

use shared::telegram::Counted as _;
use shared::telegram::Telegram;
use shared::{
    billing::ledger::LedgerError,
    entities::users::Model as User,
    ids::JobId,
    jobs::{self, JobError},
    media::summaries::{self, Requested},
    telegram::{self as sender, Outgoing, buttons::Callback},
    texts::i18n::{SummaryFailureReason, Text},
    texts::split::{TELEGRAM_MESSAGE_LIMIT, split_message},
};
use teloxide::{
    payloads::SendMessageSetters,
    prelude::Requester,
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId},
};

use crate::startup::AppState;

/// A tap of the "Summary" button of transcription job `transcript`, on the
/// message `tapped`.
pub async fn on_summary_button(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
    transcript: JobId,
    tapped: Option<MessageId>,
) -> anyhow::Result<()> {
    let lang = user.language;
    let settings = &state.settings;
    let reply_to = match jobs::owned_by(&state.db, user.id, transcript).await? {
        Some(job) => summaries::reply_target(&job, tapped.map(|id| id.0)),
        None => tapped.map(|id| id.0),
    };
    let ask = summaries::Ask {
        user_id: user.id,
        chat_id: chat.into(),
        transcript,
        price: settings.summary.price,
        reply_to,
        max_unfinished: settings.max_queued_jobs_per_user,
    };
    let requested = summaries::request(&state.db, &state.ledger, &ask).await;
    let say = |text: Text| async move { bot.send_message(chat, text.render(lang)).counted().await.map(drop) };
    match requested {
        Ok(Requested::Queued(queued)) => {
            let status = bot
                .send_message(chat, Text::SummaryQueued { price: queued.hold.amount.amount() }.render(lang))
                .counted()
                .await?;
            // Set before the push: the job cannot have ended yet.
            jobs::set_status_message(&state.db, queued.job_id, status.id.0).await?;
            // A failed push is not lost: the job row stays queued and the sweeper pushes it again.
            if let Err(err) = state.queue.push_summary(queued.job_id).await {
                tracing::warn!(job_id = %queued.job_id, error = %err, "queue push failed; the sweeper will retry");
            }
            tracing::info!(job_id = %queued.job_id, %transcript, price = %queued.hold.amount, "summary queued");
        }
        Ok(Requested::Stored(summary)) => {
            let text =
                Text::SummaryStored { summary: summary.content, partial: summary.partial }.render(lang);
            for (index, part) in split_message(&text, TELEGRAM_MESSAGE_LIMIT).into_iter().enumerate() {
                let message = match reply_to {
                    Some(to) if index == 0 => Outgoing::Reply { text: part, to: MessageId(to) },
                    _ => Outgoing::Text(part),
                };
                sender::send(bot, chat, &message).await?;
            }
        }
        Ok(Requested::InProgress) => say(Text::SummaryInProgress).await?,
        Ok(Requested::NoTranscript) => {
            tracing::warn!(%transcript, user_id = user.id.0, "a summary button of a transcript this user does not have");
            say(Text::SummaryFailed { reason: SummaryFailureReason::NoTranscript }).await?;
        }
        Ok(Requested::NothingToSummarise) => {
            say(Text::SummaryFailed { reason: SummaryFailureReason::NothingToSummarise }).await?;
        }
        Ok(Requested::GaveUp) => {
            say(Text::SummaryFailed { reason: SummaryFailureReason::Unavailable }).await?
        }
        Ok(Requested::TooManyJobs { limit }) => say(Text::TooManyJobs { limit }).await?,
        Err(JobError::Ledger(LedgerError::InsufficientFunds { needed, available })) => {
            let buy = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
                Text::BuyButton.render(lang),
                Callback::Buy.encode(),
            )]]);
            let text = Text::NotEnoughForSummary { price: needed.amount(), available: available.amount() };
            bot.send_message(chat, text.render(lang)).reply_markup(buy).counted().await?;
        }
        Err(err) => return Err(err.into()),
    }
    Ok(())
}
