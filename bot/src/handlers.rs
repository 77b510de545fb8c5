//! The dispatcher tree: Telegram updates in, calls into `shared` out.

use shared::{
    i18n::{Lang, Text},
    users::{self, TelegramProfile},
};
use teloxide::{
    dispatching::{HandlerExt, UpdateFilterExt, UpdateHandler},
    dptree,
    prelude::{Bot, Message, Requester},
    types::{Update, User},
    utils::command::BotCommands,
};

use crate::startup::AppState;

/// Commands users can type.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// `/start`, optionally with a deep-link payload such as `ref_<code>`.
    Start(String),
    /// `/help`.
    Help,
}

/// Builds the update handler tree.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry().branch(
        Update::filter_message()
            .branch(dptree::entry().filter_command::<Command>().endpoint(on_command))
            .branch(dptree::endpoint(on_other_message)),
    )
}

fn profile(user: &User) -> TelegramProfile {
    TelegramProfile {
        telegram_id: user.id.0 as i64,
        username: user.username.clone(),
        first_name: user.first_name.clone(),
        language_code: user.language_code.clone(),
    }
}

#[tracing::instrument(skip_all, fields(chat_id = msg.chat.id.0, command = ?command))]
async fn on_command(bot: Bot, msg: Message, command: Command, state: AppState) -> anyhow::Result<()> {
    let Some(from) = msg.from.as_ref() else { return Ok(()) };
    let user = users::upsert_from_telegram(&state.db, &profile(from)).await?;
    let pricing = &state.settings.pricing;
    let text = match command {
        Command::Start(_payload) => {
            Text::Welcome { first_name: user.first_name.clone(), free_minutes: pricing.free_minutes_per_day }
        }
        Command::Help => Text::Help {
            price_per_minute: pricing.transcription_cost_per_minute.to_string(),
            free_minutes: pricing.free_minutes_per_day,
        },
    };
    bot.send_message(msg.chat.id, text.render(user.language)).await?;
    Ok(())
}

async fn on_other_message(bot: Bot, msg: Message) -> anyhow::Result<()> {
    // Only private chats get an answer: in groups the bot stays quiet.
    if !msg.chat.is_private() {
        return Ok(());
    }
    let lang = Lang::from_telegram(msg.from.as_ref().and_then(|u| u.language_code.as_deref()));
    bot.send_message(msg.chat.id, Text::Unknown.render(lang)).await?;
    Ok(())
}
