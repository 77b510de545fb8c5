//! Admin commands, only for `ADMIN_TELEGRAM_IDS`: anyone else gets the ordinary
//! "unknown command" answer and the attempt is logged. Each command group has
//! its file; the work itself (and its audit record) happens in
//! `shared::operations`. The commands stay out of the public command menu; each
//! admin's own chat lists them (`startup::publish_command_menu`).

mod audit;
mod broadcast;
mod credits;
mod jobs;
mod stats;
mod users;

use shared::telegram::Counted as _;
use shared::{
    entities::users::Model as User,
    ids::TelegramUserId,
    telegram::{Telegram, buttons::Callback},
    texts::{admin::AdminText, i18n::Text},
};
use teloxide::{
    prelude::{Message, Requester},
    types::ChatId,
    utils::command::BotCommands,
};

use crate::{handlers, startup::AppState};

/// Commands only admins may use.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum AdminCommand {
    /// `/stats`: how the business is doing.
    Stats,
    /// `/user <telegram id | @username | #internal id>`: one user's card.
    User(String),
    /// `/grant <user> <credits> <reason>`, confirmed with a button.
    Grant(String),
    /// `/debit <user> <credits> <reason>`, confirmed with a button.
    Debit(String),
    /// `/ban <user> <reason>`.
    Ban(String),
    /// `/unban <user>`.
    Unban(String),
    /// `/jobs failed`: the latest failed jobs with a Retry button each.
    Jobs(String),
    /// `/audit [user]`: the latest audit records.
    Audit(String),
    /// `/broadcast [lang=ru|en] [active=<days>] [paid]`, in reply to the message to send.
    Broadcast(String),
}

/// Whether `telegram_id` may run admin commands.
pub fn is_admin(state: &AppState, telegram_id: TelegramUserId) -> bool {
    state.settings.admin_telegram_ids.contains(&telegram_id)
}

/// An admin command from anyone: admins get it done, others the answer any
/// unknown command gets.
#[tracing::instrument(skip_all, fields(chat_id = msg.chat.id.0, command = ?command))]
pub async fn on_command(
    bot: Telegram,
    msg: Message,
    command: AdminCommand,
    state: AppState,
) -> anyhow::Result<()> {
    let Some(admin) = handlers::sender(&bot, &msg, &state).await? else { return Ok(()) };
    let chat = msg.chat.id;
    if !is_admin(&state, admin.telegram_id) {
        tracing::warn!(telegram_id = %admin.telegram_id, "an admin command from someone who is not an admin");
        bot.send_message(chat, Text::Unknown.render(admin.language)).counted().await?;
        return Ok(());
    }
    tracing::info!(telegram_id = %admin.telegram_id, "admin command");
    match command {
        AdminCommand::Stats => stats::show(&bot, chat, &state, &admin).await,
        AdminCommand::User(query) => users::show_card(&bot, chat, &state, &admin, &query).await,
        AdminCommand::Grant(args) => {
            credits::propose(&bot, chat, &state, &admin, credits::Way::Grant, &args).await
        }
        AdminCommand::Debit(args) => {
            credits::propose(&bot, chat, &state, &admin, credits::Way::Debit, &args).await
        }
        AdminCommand::Ban(args) => users::ban(&bot, chat, &state, &admin, &args).await,
        AdminCommand::Unban(args) => users::unban(&bot, chat, &state, &admin, &args).await,
        AdminCommand::Jobs(args) => jobs::show_failed(&bot, chat, &state, &admin, &args).await,
        AdminCommand::Audit(args) => audit::show(&bot, chat, &state, &admin, &args).await,
        AdminCommand::Broadcast(args) => broadcast::propose(&bot, &msg, &state, &admin, &args).await,
    }
}

/// An admin's button; from anyone else (a forged payload) it is logged and ignored.
pub async fn on_callback(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin: &User,
    callback: Callback,
) -> anyhow::Result<()> {
    if !is_admin(state, admin.telegram_id) {
        tracing::warn!(telegram_id = %admin.telegram_id, ?callback, "an admin button from someone who is not an admin");
        return Ok(());
    }
    match callback {
        Callback::AdminUser { action, user } => {
            users::on_card_button(bot, chat, state, admin, action, user).await
        }
        Callback::AdminConfirm { action } => credits::confirm(bot, chat, state, admin, action).await,
        Callback::AdminCancel { action } => credits::cancel(bot, chat, state, admin, action).await,
        Callback::AdminRetry { job } => jobs::retry(bot, chat, state, admin, job).await,
        Callback::AdminBroadcast { broadcast, send } => {
            broadcast::answer(bot, chat, state, admin, broadcast, send).await
        }
        _ => Ok(()),
    }
}

/// Finds the user an admin named, or tells the admin there is none.
async fn target(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin: &User,
    query: &str,
) -> anyhow::Result<Option<User>> {
    let found = match shared::operations::admin::UserRef::parse(query) {
        Some(reference) => shared::operations::admin::find_user(&state.db, &reference).await?,
        None => None,
    };
    if found.is_none() {
        bot.send_message(
            chat,
            AdminText::UserNotFound { query: query.trim().to_owned() }.render(admin.language),
        )
        .counted()
        .await?;
    }
    Ok(found)
}

/// A user as admins see them: name, @username, Telegram id and `#internal id`.
pub(crate) fn who(user: &User) -> String {
    let mut shown = user.first_name.clone();
    if let Some(username) = &user.username {
        shown.push_str(&format!(" @{username}"));
    }
    shown.push_str(&format!(" · tg {} · #{}", user.telegram_id, user.id));
    shown
}

/// `dd.mm HH:MM` in the billing time zone.
fn when(state: &AppState, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&state.ledger.pricing().timezone).format("%d.%m %H:%M").to_string()
}

/// The first 8 hex digits of an id: enough for an admin to tell jobs apart.
fn short(id: uuid::Uuid) -> String {
    id.simple().to_string()[..8].to_owned()
}
