//! Privacy requests in the chat: `/mydata` sends a ZIP of what we keep about
//! the user, `/deletemydata` deletes it after a confirmation. What is kept
//! and why is written down in `shared::people::privacy` and the README.

use shared::telegram::Counted as _;
use std::time::Duration;

use shared::{
    billing::ledger::StatementCursor,
    entities::users::Model as User,
    people::privacy,
    telegram::{Telegram, buttons::Callback},
    texts::i18n::Text,
};
use teloxide::{
    payloads::{SendDocumentSetters, SendMessageSetters},
    prelude::Requester,
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId},
};

use crate::{
    handlers,
    plans::{self, RenewalChange},
    startup::AppState,
};

/// Longest time the export may take to put together: a user with thousands
/// of transcripts waits for one read from storage per file, and a handler
/// must not run for ever. The send itself is bounded by the Telegram client.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(120);

/// Statement lines `history.txt` holds at most (the newest).
const HISTORY_MAX_LINES: u32 = 10_000;

/// `/mydata`: puts the export together and sends it as `mydata.zip`.
pub(crate) async fn send_my_data(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
) -> anyhow::Result<()> {
    let lang = user.language;
    bot.send_message(chat, Text::ExportPreparing.render(lang)).counted().await?;
    let built = tokio::time::timeout(EXPORT_TIMEOUT, async {
        let history = history_text(state, user).await?;
        privacy::export(&state.db, &state.store, &state.ledger, user, &history).await
    })
    .await;
    let export = match built {
        Ok(Ok(export)) => export,
        Ok(Err(err)) => {
            tracing::error!(user_id = user.id.0, error = format!("{err:#}"), "cannot put an export together");
            bot.send_message(chat, Text::ExportFailed.render(lang)).counted().await?;
            return Ok(());
        }
        Err(_) => {
            tracing::error!(user_id = user.id.0, "an export took too long");
            bot.send_message(chat, Text::ExportFailed.render(lang)).counted().await?;
            return Ok(());
        }
    };
    let link_hours = u32::try_from(privacy::PICTURE_LINK_TTL.as_secs() / 3600).unwrap_or(u32::MAX);
    let caption =
        Text::ExportReady { omitted: u32::try_from(export.omitted).unwrap_or(u32::MAX), link_hours };
    bot.send_document(chat, InputFile::memory(export.bytes).file_name("mydata.zip"))
        .caption(caption.render(lang))
        .counted()
        .await?;
    tracing::info!(user_id = user.id.0, omitted = export.omitted, "sent a user their data");
    Ok(())
}

/// The whole statement, newest first, as `/history` words each line, with
/// the year in every date.
async fn history_text(state: &AppState, user: &User) -> anyhow::Result<String> {
    const PAGE: u32 = 100;
    let lang = user.language;
    let mut text = vec![Text::HistoryHeading.render(lang)];
    let mut before: Option<StatementCursor> = None;
    let mut read = 0;
    while read < HISTORY_MAX_LINES {
        let lines = state.ledger.statement(&state.db, user.id, before.as_ref(), PAGE).await?;
        for line in &lines {
            text.extend(handlers::statement_text(line, "%d.%m.%Y %H:%M", state.ledger.pricing(), lang));
        }
        read += PAGE;
        match lines.last() {
            Some(last) if lines.len() == PAGE as usize => before = Some(last.cursor),
            _ => break,
        }
    }
    Ok(text.join("\n") + "\n")
}

/// `/deletemydata`: says what goes and what stays, and asks.
pub(crate) async fn ask_to_erase(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
) -> anyhow::Result<()> {
    let lang = user.language;
    let balance = state.ledger.balance(&state.db, user.id).await?;
    let buttons = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback(
            Text::EraseButton.render(lang),
            Callback::Erase { confirmed: true }.encode(),
        ),
        InlineKeyboardButton::callback(
            Text::EraseKeepButton.render(lang),
            Callback::Erase { confirmed: false }.encode(),
        ),
    ]]);
    bot.send_message(chat, Text::EraseConfirm { available: balance.available.amount() }.render(lang))
        .reply_markup(buttons)
        .counted()
        .await?;
    Ok(())
}

/// The answer to `/deletemydata`'s question: deletes, or says nothing was.
/// The question loses its buttons either way, so it is answered once.
pub(crate) async fn on_erase_answer(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
    confirmed: bool,
    question: Option<MessageId>,
) -> anyhow::Result<()> {
    let lang = user.language;
    if let Some(question) = question
        && let Err(err) = bot.edit_message_reply_markup(chat, question).counted().await
    {
        tracing::debug!(error = %err, "cannot take the buttons off the question");
    }
    if !confirmed {
        bot.send_message(chat, Text::EraseCalledOff.render(lang)).counted().await?;
        return Ok(());
    }
    // A plan runs to the end of what was paid but never charges a deleted account again:
    // the saved card is forgotten with the rest, a Stars subscription is cancelled.
    let plan = plans::change_renewal(bot, state, user, false).await?;
    let erasure = privacy::erase(&state.db, &state.store, &state.ledger, user.id).await?;
    record_erasure(state, user, &erasure).await?;
    tracing::info!(user_id = user.id.0, ?erasure, "a user's data was deleted at their request");
    let balance = state.ledger.balance(&state.db, user.id).await?;
    bot.send_message(chat, Text::Erased { available: balance.available.amount() }.render(lang))
        .counted()
        .await?;
    match plan {
        RenewalChange::Changed(changed) => {
            let text = plans::renewal_text(state, changed.as_ref(), false);
            bot.send_message(chat, text.render(lang)).counted().await?;
        }
        RenewalChange::Refused => {
            tracing::error!(user_id = user.id.0, "an erased user's Stars plan could not be cancelled");
        }
        RenewalChange::NotApplicable => {}
    }
    Ok(())
}

/// Records a deletion in the audit trail: who asked, and how much went (counts only).
async fn record_erasure(state: &AppState, user: &User, erasure: &privacy::Erasure) -> anyhow::Result<()> {
    use sea_orm::TransactionTrait;
    use shared::operations::audit::{self, Action, Actor, Entry};
    let txn = state.db.begin().await?;
    audit::append(
        &txn,
        &Entry {
            actor: Actor::User(user.telegram_id),
            action: Action::UserErase,
            target: Some(user.id),
            before: None,
            after: Some(serde_json::json!({
                "jobs_cancelled": erasure.jobs_cancelled,
                "objects_deleted": erasure.objects_deleted,
                "transcripts_deleted": erasure.transcripts_deleted,
            })),
            reason: "the user's request (/deletemydata)".to_owned(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
