//! `/broadcast`: an admin replies with it to any message of their chat (text,
//! photo, voice...). The bot answers with a copy of that message, which is the
//! preview of what every recipient gets, and the audience's size, with Send and
//! Cancel buttons; Send fixes the recipients and wakes the sender
//! ([`crate::broadcasts`]), which reports the counts when it is done.

use shared::telegram::Counted as _;
use shared::{
    entities::users::Model as User,
    operations::broadcast::{self, BroadcastStatus, Confirmed, Segment},
    telegram::{Outgoing, Telegram, buttons::Callback},
    texts::admin::{AdminText, Usage},
};
use teloxide::{
    RequestError,
    payloads::SendMessageSetters,
    prelude::{Message, Requester},
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters},
};

use crate::startup::AppState;

/// `/broadcast [segment]` in reply to a message: the preview and the question.
pub async fn propose(
    bot: &Telegram,
    msg: &Message,
    state: &AppState,
    admin_user: &User,
    args: &str,
) -> anyhow::Result<()> {
    let lang = admin_user.language;
    let chat = msg.chat.id;
    let (Some(original), Ok(segment)) = (msg.reply_to_message(), Segment::parse(args)) else {
        bot.send_message(chat, AdminText::Usage(Usage::Broadcast).render(lang)).counted().await?;
        return Ok(());
    };
    // The preview is made the way every recipient's copy will be.
    let preview = Outgoing::Copy { from_chat: chat, message: original.id };
    let preview = match shared::telegram::send(bot, chat, &preview).await {
        Ok(preview) => preview,
        Err(RequestError::Api(err)) => {
            tracing::info!(error = %err, "a broadcast of a message Telegram does not copy");
            bot.send_message(chat, AdminText::BroadcastNotCopyable.render(lang)).counted().await?;
            return Ok(());
        }
        Err(err) => return Err(err.into()),
    };
    let proposal =
        broadcast::propose(&state.db, admin_user.telegram_id, chat.0, original.id.0, &segment).await?;
    let text = AdminText::BroadcastPreview { audience: proposal.audience, segment: segment.to_string() };
    let buttons = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback(
            AdminText::SendButton.render(lang),
            Callback::AdminBroadcast { broadcast: proposal.id, send: true }.encode(),
        ),
        InlineKeyboardButton::callback(
            AdminText::CancelButton.render(lang),
            Callback::AdminBroadcast { broadcast: proposal.id, send: false }.encode(),
        ),
    ]]);
    bot.send_message(chat, text.render(lang))
        .reply_parameters(ReplyParameters::new(preview).allow_sending_without_reply())
        .reply_markup(buttons)
        .counted()
        .await?;
    Ok(())
}

/// Send or Cancel under a preview; a second tap changes nothing.
pub async fn answer(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    id: uuid::Uuid,
    send: bool,
) -> anyhow::Result<()> {
    let text = if send {
        match broadcast::confirm(&state.db, id, admin_user.telegram_id).await? {
            Confirmed::Started { recipients } => {
                tracing::warn!(admin = %admin_user.telegram_id, broadcast = %id, recipients, "broadcast confirmed");
                state.broadcasts.notify_one();
                AdminText::BroadcastStarted { recipients }
            }
            Confirmed::AlreadySettled(status) => AdminText::BroadcastAlready { status: status_code(status) },
            Confirmed::NotFound => AdminText::ActionUnknown,
        }
    } else {
        match broadcast::cancel(&state.db, id).await? {
            None => AdminText::ActionCancelled,
            Some(status) => AdminText::BroadcastAlready { status: status_code(status) },
        }
    };
    bot.send_message(chat, text.render(admin_user.language)).counted().await?;
    Ok(())
}

fn status_code(status: BroadcastStatus) -> &'static str {
    match status {
        BroadcastStatus::Pending | BroadcastStatus::Sending => "sending",
        BroadcastStatus::Done => "done",
        BroadcastStatus::Cancelled => "cancelled",
    }
}
