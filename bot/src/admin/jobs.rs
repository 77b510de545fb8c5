//! `/jobs failed`: the latest failed jobs with their reason and a Retry button
//! that queues the same work again for the same user (audited, once per job).

use sea_orm::ActiveEnum;
use shared::telegram::Counted as _;
use shared::{
    entities::users::Model as User,
    ids::JobId,
    operations::admin::{self, Retried},
    telegram::{Telegram, buttons::Callback},
    texts::admin::{AdminText, Usage},
};
use teloxide::{
    payloads::SendMessageSetters,
    prelude::Requester,
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup},
};

use super::{short, when};
use crate::startup::AppState;

/// Failed jobs one `/jobs failed` lists.
const SHOWN: u32 = 10;

/// `/jobs failed`.
pub async fn show_failed(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    args: &str,
) -> anyhow::Result<()> {
    let lang = admin_user.language;
    if args.trim() != "failed" {
        bot.send_message(chat, AdminText::Usage(Usage::Jobs).render(lang)).counted().await?;
        return Ok(());
    }
    let failed = admin::failed_jobs(&state.db, SHOWN).await?;
    if failed.is_empty() {
        bot.send_message(chat, AdminText::NoFailedJobs.render(lang)).counted().await?;
        return Ok(());
    }
    let lines = failed
        .iter()
        .map(|job| {
            AdminText::FailedJob {
                job: short(job.id.0),
                kind: job.kind.to_value(),
                user: format!("tg {} · #{}", job.telegram_id, job.user_id),
                when: job.finished_at.map(|at| when(state, at)).unwrap_or_default(),
                reason: job.error_code.clone().unwrap_or_default(),
                retried: job.retried_as.map(|new| short(new.0)),
            }
            .render(lang)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let buttons: Vec<Vec<InlineKeyboardButton>> = failed
        .iter()
        .filter(|job| job.retried_as.is_none())
        .map(|job| {
            vec![InlineKeyboardButton::callback(
                AdminText::RetryButton { job: short(job.id.0) }.render(lang),
                Callback::AdminRetry { job: job.id }.encode(),
            )]
        })
        .collect();
    let request = bot.send_message(chat, AdminText::FailedJobs { jobs: lines }.render(lang));
    if buttons.is_empty() {
        request.counted().await?;
    } else {
        request.reply_markup(InlineKeyboardMarkup::new(buttons)).counted().await?;
    }
    Ok(())
}

/// Retry: a new job with the same input, held and pushed like any new job.
pub async fn retry(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    job: JobId,
) -> anyhow::Result<()> {
    let text = match admin::retry_failed_job(&state.db, &state.ledger, admin_user.telegram_id, job).await? {
        Retried::Queued { job: queued, kind, .. } => {
            tracing::warn!(admin = %admin_user.telegram_id, failed_job = %job, new_job = %queued.job_id, "failed job retried by an admin");
            // Committed first: a push lost here is pushed again by the sweeper.
            if let Err(err) = state.queue.push_job(kind, queued.job_id).await {
                tracing::warn!(job_id = %queued.job_id, error = %err, "the retried job waits for the sweeper");
            }
            AdminText::Retried {
                job: short(job.0),
                new_job: short(queued.job_id.0),
                price: queued.hold.amount.amount(),
            }
        }
        Retried::AlreadyRetried(new) => AdminText::RetryAlready { new_job: short(new.0) },
        Retried::NotFailed => AdminText::RetryNotFailed,
        Retried::Banned => AdminText::RetryBanned,
        Retried::Insufficient { needed, available } => {
            AdminText::RetryInsufficient { needed: needed.amount(), available: available.amount() }
        }
    };
    bot.send_message(chat, text.render(admin_user.language)).counted().await?;
    Ok(())
}
