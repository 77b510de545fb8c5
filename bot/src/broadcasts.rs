//! The broadcast sender: one task of the bot process, started with it, that
//! copies confirmed broadcasts to their recipients and reports the counts to
//! the admin who sent each.
//!
//! It sends a few copies at a time through the process's one paced Telegram
//! client ([`shared::telegram::send`]), so a broadcast never takes more than
//! the process's share of Telegram's limit (`TELEGRAM_MESSAGES_PER_SECOND`),
//! waits out `429 retry_after` there, and the bot's answers to users go out
//! between its copies. Each recipient is marked `sending` before its
//! copy goes out; when the process starts, rows left `sending` by the previous
//! one are ended `failed` and never sent again, so nobody gets two copies
//! however the process stops (see [`shared::operations::broadcast`]). Run the
//! bot as one process, as long polling requires: a second process starting
//! while another sends would count the other's copy in flight as failed.
//!
//! Error policy: a database failure stops the pass and is logged once here;
//! the next pass, after a short wait, resumes where it stopped.

use std::time::Duration;

use futures::StreamExt;
use shared::{
    operations::broadcast::{self, Delivery, Recipient, Report},
    people::users,
    telegram::Outgoing,
    texts::{admin::AdminText, i18n::Lang},
};
use teloxide::{
    ApiError, RequestError,
    types::{ChatId, MessageId},
};
use tokio_util::sync::CancellationToken;

use crate::startup::AppState;

/// Recipients read at a time; each is still claimed one by one.
const BATCH: u32 = 50;
/// How often an idle sender looks for work nobody woke it for (a broadcast
/// confirmed while it was failing, or through another process).
const IDLE_POLL: Duration = Duration::from_secs(10);
/// How long a copy in flight may still finish once the process is stopping;
/// past it the copy is dropped and counted as failed at the next start.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How a pass over the queued recipients ended.
enum Pass {
    /// Nothing left to send.
    Idle,
    /// The process is stopping.
    Stopped,
}

/// Sends broadcasts until `shutdown` is cancelled; woken early by
/// `state.broadcasts` when an admin confirms one.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut recovered = false;
    loop {
        // Until the rows of an interrupted send are settled, their broadcast cannot finish.
        if !recovered {
            match broadcast::recover_interrupted(&state.db).await {
                Ok(0) => recovered = true,
                Ok(interrupted) => {
                    tracing::warn!(
                        interrupted,
                        "broadcast copies in flight at the last stop counted as failed"
                    );
                    recovered = true;
                }
                Err(err) => tracing::error!(error = %err, "cannot settle interrupted broadcast copies"),
            }
        }
        match send_queued(&state, &shutdown).await {
            Ok(Pass::Stopped) => return,
            Ok(Pass::Idle) => {}
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), "the broadcast sender failed; it tries again")
            }
        }
        if recovered && let Err(err) = report_finished(&state).await {
            tracing::error!(error = format!("{err:#}"), "cannot close finished broadcasts");
        }
        tokio::select! {
            () = state.broadcasts.notified() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Sends to every queued recipient, batch by batch, closing the broadcasts
/// that are done after each batch.
async fn send_queued(state: &AppState, shutdown: &CancellationToken) -> anyhow::Result<Pass> {
    let in_flight = copies_in_flight(state);
    loop {
        let batch = broadcast::next_batch(&state.db, BATCH).await?;
        if batch.is_empty() {
            return Ok(Pass::Idle);
        }
        let steps: Vec<anyhow::Result<Step>> = futures::stream::iter(batch)
            .map(|recipient| send_one(state, recipient, shutdown))
            .buffer_unordered(in_flight)
            .collect()
            .await;
        let mut flood_wait = None;
        for step in steps {
            match step? {
                Step::Done => {}
                Step::Stopped => return Ok(Pass::Stopped),
                Step::FloodWait(wait) => flood_wait = flood_wait.max(Some(wait)),
            }
        }
        if let Some(wait) = flood_wait {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.cancelled() => return Ok(Pass::Stopped),
            }
        }
        report_finished(state).await?;
    }
}

/// Copies kept in flight at once. The paced client lets queued sends through
/// in rounds four times a second, so one copy at a time would send four a
/// second; this many use about the process's budget, which the client still
/// enforces for all its sends together, and the bot's own answers queue behind
/// no more than this many copies.
fn copies_in_flight(state: &AppState) -> usize {
    usize::try_from(state.settings.telegram.messages_per_second.get() / 4).unwrap_or(1).max(1)
}

/// What became of one recipient.
enum Step {
    /// Recorded (sent, blocked, failed or skipped), or taken by another sender.
    Done,
    /// Given back to the queue: Telegram asked to wait this long.
    FloodWait(Duration),
    /// The process is stopping; nothing is recorded for this one.
    Stopped,
}

/// Claims one recipient, copies the message to them and records the outcome.
async fn send_one(
    state: &AppState,
    recipient: Recipient,
    shutdown: &CancellationToken,
) -> anyhow::Result<Step> {
    if shutdown.is_cancelled() {
        return Ok(Step::Stopped);
    }
    if recipient.skip {
        broadcast::record(&state.db, recipient.broadcast, recipient.user_id, &Delivery::Skipped).await?;
        return Ok(Step::Done);
    }
    if !broadcast::claim(&state.db, recipient.broadcast, recipient.user_id).await? {
        return Ok(Step::Done);
    }
    match copy(state, &recipient, shutdown).await {
        Attempt::Done(delivery) => {
            if let Delivery::Blocked(_) = &delivery {
                users::mark_unreachable(&state.db, recipient.user_id).await?;
            }
            broadcast::record(&state.db, recipient.broadcast, recipient.user_id, &delivery).await?;
            Ok(Step::Done)
        }
        Attempt::FloodWait(wait) => {
            // Refused before anything was delivered: it goes back in line.
            broadcast::release(&state.db, recipient.broadcast, recipient.user_id).await?;
            Ok(Step::FloodWait(wait))
        }
        // Left `sending`: whether it arrived is unknown, so it is never sent again.
        Attempt::Interrupted => Ok(Step::Stopped),
    }
}

/// What one copy came to.
enum Attempt {
    /// An outcome to record.
    Done(Delivery),
    /// Telegram asked to wait this long first (nothing was delivered).
    FloodWait(Duration),
    /// The process stopped while the copy was in flight.
    Interrupted,
}

/// Copies the broadcast's message to one recipient's private chat.
async fn copy(state: &AppState, recipient: &Recipient, shutdown: &CancellationToken) -> Attempt {
    let message =
        Outgoing::Copy { from_chat: ChatId(recipient.from_chat), message: MessageId(recipient.message_id) };
    let chat = recipient.telegram_id.private_chat().into();
    let send = shared::telegram::send(&state.bot, chat, &message);
    tokio::pin!(send);
    let result = tokio::select! {
        result = &mut send => result,
        () = shutdown.cancelled() => match tokio::time::timeout(SHUTDOWN_GRACE, &mut send).await {
            Ok(result) => result,
            Err(_) => return Attempt::Interrupted,
        },
    };
    match result {
        Ok(_) => Attempt::Done(Delivery::Sent),
        Err(RequestError::RetryAfter(wait)) => Attempt::FloodWait(wait.duration()),
        Err(
            err @ RequestError::Api(
                ApiError::BotBlocked
                | ApiError::UserDeactivated
                | ApiError::CantInitiateConversation
                | ApiError::BotKicked,
            ),
        ) => Attempt::Done(Delivery::Blocked(err.to_string())),
        Err(err) => {
            tracing::warn!(user_id = %recipient.user_id, error = %err, "a broadcast copy failed");
            Attempt::Done(Delivery::Failed(err.to_string()))
        }
    }
}

/// Closes the broadcasts with nothing left to send and tells each admin the counts.
async fn report_finished(state: &AppState) -> anyhow::Result<()> {
    for report in broadcast::finish(&state.db).await? {
        let Report { id, admin, sent, blocked, failed, skipped } = report;
        tracing::info!(broadcast = %id, sent, blocked, failed, skipped, "broadcast finished");
        let lang =
            users::find_by_telegram_id(&state.db, admin).await?.map_or(Lang::default(), |u| u.language);
        let text = AdminText::BroadcastReport { sent, blocked, failed, skipped }.render(lang);
        // The counts stay in the database; a report that cannot be sent is not retried.
        if let Err(err) =
            shared::telegram::send(&state.bot, admin.private_chat().into(), &Outgoing::Text(text)).await
        {
            tracing::warn!(broadcast = %id, error = %err, "cannot send a broadcast's report");
        }
    }
    Ok(())
}
