//! The bot in groups and supergroups. It explains itself once when added;
//! `/transcribe` (or a mention) in reply to a recording transcribes it for
//! the person who asked; admins switch automatic transcription with
//! `/auto on|off`. Everything else said in a group is ignored, account
//! commands point to a private chat, and each chat has a rate limit.
//!
//! What the bot receives depends on Telegram's privacy mode: see the README's
//! "Groups" section.

use chrono::Utc;
use shared::telegram::Counted as _;
use shared::telegram::Telegram;
use shared::{
    billing::pricing::Allowance,
    entities::users::Model as User,
    ids::ChatId,
    people::groups::{self, AutoClaim},
    people::users,
    texts::i18n::{Lang, Text},
};
use teloxide::{
    payloads::SendMessageSetters,
    prelude::{Message, Requester},
    types::{
        ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Me, ReplyParameters, User as TgUser,
    },
    utils::command::BotCommands,
};

use crate::handlers::{self, Command};
use crate::intake::{self, Audience, Intake};
use crate::startup::AppState;

/// Commands that mean something in a group.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum GroupCommand {
    /// `/transcribe`, in reply to a recording.
    Transcribe(String),
    /// `/auto on|off`, for admins.
    Auto(String),
    /// `/help`: the introduction again.
    Help,
    /// `/start`: the introduction again.
    Start(String),
}

/// Whether a message was sent in a group or supergroup.
pub fn is_group(msg: &Message) -> bool {
    msg.chat.is_group() || msg.chat.is_supergroup()
}

/// The bot's own membership changed: it introduces itself once when added,
/// and forgets the chat's settings when removed.
#[tracing::instrument(skip_all, fields(chat_id = update.chat.id.0))]
pub async fn on_my_chat_member(
    bot: Telegram,
    update: ChatMemberUpdated,
    state: AppState,
    me: Me,
) -> anyhow::Result<()> {
    if !(update.chat.is_group() || update.chat.is_supergroup()) {
        return Ok(());
    }
    let chat = ChatId(update.chat.id.0);
    if !update.new_chat_member.kind.is_present() {
        groups::forget(&state.db, chat).await?;
        return Ok(());
    }
    if !groups::mark_introduced(&state.db, chat).await? {
        return Ok(());
    }
    let lang = Lang::from_telegram(update.from.language_code.as_deref());
    bot.send_message(update.chat.id, intro(&state, &me).render(lang)).counted().await?;
    Ok(())
}

fn intro(state: &AppState, me: &Me) -> Text {
    let pricing = state.ledger.pricing();
    Text::GroupIntro {
        bot_username: me.username().to_owned(),
        price_per_minute: pricing.transcription_cost_per_minute.amount(),
        free_minutes: pricing.free_minutes_per_day,
        auto_daily_minutes: state.settings.groups.auto_daily_minutes,
    }
}

/// Any message in a group: commands for the bot, mentions and, with
/// automatic transcription on, voice notes; everything else is ignored.
#[tracing::instrument(skip_all, fields(chat_id = msg.chat.id.0))]
pub async fn on_group_message(bot: Telegram, msg: Message, state: AppState, me: Me) -> anyhow::Result<()> {
    // A group upgraded to a supergroup gets a new id: Telegram says so in both chats.
    if let Some(to) = msg.migrate_to_chat_id() {
        groups::migrate(&state.db, ChatId(msg.chat.id.0), ChatId(to.0)).await?;
        tracing::info!(to = to.0, "the group became a supergroup");
        return Ok(());
    }
    if let Some(from) = msg.migrate_from_chat_id() {
        groups::migrate(&state.db, ChatId(from.0), ChatId(msg.chat.id.0)).await?;
        return Ok(());
    }
    let text = msg.text().or_else(|| msg.caption()).unwrap_or_default();
    if msg.sender_chat.is_some() && addressed_to_bot(text, &me) {
        // An anonymous admin (or a channel) speaks as the chat: nobody to charge, nobody
        // whose language to use.
        let lang = Lang::from_telegram(None);
        if within_rate(&bot, &msg, &state, lang).await? {
            reply(&bot, &msg, Text::GroupSenderUnknown.render(lang)).counted().await?;
        }
        return Ok(());
    }
    let Some(from) = msg.from.clone().filter(|from| !from.is_bot) else { return Ok(()) };
    let lang = Lang::from_telegram(from.language_code.as_deref());
    if let Ok(command) = GroupCommand::parse(text, me.username()) {
        if !within_rate(&bot, &msg, &state, lang).await? {
            return Ok(());
        }
        return match command {
            GroupCommand::Transcribe(_) => on_transcribe(&bot, &msg, &state, &me, &from).await,
            GroupCommand::Auto(switch) => on_auto(&bot, &msg, &state, &me, &from, &switch).await,
            GroupCommand::Help | GroupCommand::Start(_) => {
                reply(&bot, &msg, intro(&state, &me).render(lang)).counted().await?;
                Ok(())
            }
        };
    }
    if Command::parse(text, me.username()).is_ok() {
        if within_rate(&bot, &msg, &state, lang).await? {
            private_only(&bot, &msg, &me, lang).await?;
        }
        return Ok(());
    }
    if mentions(text, me.username()) {
        if within_rate(&bot, &msg, &state, lang).await? {
            on_transcribe(&bot, &msg, &state, &me, &from).await?;
        }
        return Ok(());
    }
    if msg.voice().is_some() || msg.video_note().is_some() {
        return on_automatic(&bot, &msg, &state).await;
    }
    Ok(())
}

/// Whether `text` is a command the bot answers in a group or mentions the bot.
fn addressed_to_bot(text: &str, me: &Me) -> bool {
    GroupCommand::parse(text, me.username()).is_ok()
        || Command::parse(text, me.username()).is_ok()
        || mentions(text, me.username())
}

/// Whether `text` mentions the bot by its @username.
fn mentions(text: &str, username: &str) -> bool {
    let mention = format!("@{}", username.to_ascii_lowercase());
    text.to_ascii_lowercase().match_indices(&mention).any(|(at, _)| {
        !text[at + mention.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// An answer to `msg`, as a reply to it.
fn reply(bot: &Telegram, msg: &Message, text: String) -> <Telegram as Requester>::SendMessage {
    bot.send_message(msg.chat.id, text)
        .reply_parameters(ReplyParameters::new(msg.id).allow_sending_without_reply())
}

/// Counts one request of the chat; past the limit, says so once a minute
/// and answers `false`.
async fn within_rate(bot: &Telegram, msg: &Message, state: &AppState, lang: Lang) -> anyhow::Result<bool> {
    let now = Utc::now().timestamp();
    if state.group_limiter.allow(msg.chat.id.0, now).await {
        return Ok(true);
    }
    tracing::info!("a group is over its request limit");
    if state.group_notice_limiter.allow(msg.chat.id.0, now).await {
        reply(bot, msg, Text::GroupSlowDown.render(lang)).counted().await?;
    }
    Ok(false)
}

/// An account command in a group: the answer is a button to a private chat.
async fn private_only(bot: &Telegram, msg: &Message, me: &Me, lang: Lang) -> anyhow::Result<()> {
    reply(bot, msg, Text::PrivateOnly.render(lang)).reply_markup(open_private(me, lang)?).counted().await?;
    Ok(())
}

/// A button opening the private chat with the bot.
fn open_private(me: &Me, lang: Lang) -> anyhow::Result<InlineKeyboardMarkup> {
    let link = url::Url::parse(&format!("https://t.me/{}", me.username()))?;
    Ok(InlineKeyboardMarkup::new([[InlineKeyboardButton::url(Text::OpenPrivateButton.render(lang), link)]]))
}

/// The person behind a group message as a user of the bot: created on first
/// contact with the welcome credit, as `/start` would.
async fn member(state: &AppState, from: &TgUser) -> anyhow::Result<User> {
    let is_new = users::find_by_telegram_id(&state.db, from.id.into()).await?.is_none();
    let user = users::upsert_from_telegram(&state.db, &handlers::profile(from)).await?;
    if is_new {
        handlers::welcome_bonus(state, &user).await?;
    }
    Ok(user)
}

/// `/transcribe` or a mention: transcribes the recording replied to, paid by the asker.
async fn on_transcribe(
    bot: &Telegram,
    msg: &Message,
    state: &AppState,
    me: &Me,
    from: &TgUser,
) -> anyhow::Result<()> {
    let Some(recording) = msg.reply_to_message().filter(|replied| intake::is_recording(replied)) else {
        let lang = Lang::from_telegram(from.language_code.as_deref());
        reply(bot, msg, Text::TranscribeHowTo { bot_username: me.username().to_owned() }.render(lang))
            .counted()
            .await?;
        return Ok(());
    };
    let user = member(state, from).await?;
    if user.is_banned() {
        // Nothing is queued for a banned user; the group is not told why.
        tracing::info!(user_id = %user.id, "a banned user's group request ignored");
        return Ok(());
    }
    let audience = Audience::Group { reply_to: msg.id, automatic: false };
    if intake::on_recording(bot, recording, state, &user, audience).await? == Intake::Unaffordable {
        let text = Text::GroupNotEnoughCredit { first_name: from.first_name.clone() };
        reply(bot, msg, text.render(user.language))
            .reply_markup(open_private(me, user.language)?)
            .counted()
            .await?;
    }
    Ok(())
}

/// `/auto on|off`: only the group's admins may switch it; the one who turns it on pays.
async fn on_auto(
    bot: &Telegram,
    msg: &Message,
    state: &AppState,
    me: &Me,
    from: &TgUser,
    switch: &str,
) -> anyhow::Result<()> {
    let lang = Lang::from_telegram(from.language_code.as_deref());
    let on = match switch.trim().to_ascii_lowercase().as_str() {
        "on" => true,
        "off" => false,
        _ => {
            reply(bot, msg, Text::AutoUsage.render(lang)).counted().await?;
            return Ok(());
        }
    };
    let is_admin = match bot.get_chat_member(msg.chat.id, from.id).counted().await {
        Ok(member) => member.kind.is_privileged(),
        Err(err) => {
            tracing::warn!(error = %err, "cannot check whether the sender is an admin; refusing");
            false
        }
    };
    if !is_admin {
        reply(bot, msg, Text::AutoAdminsOnly.render(lang)).counted().await?;
        return Ok(());
    }
    let chat = ChatId(msg.chat.id.0);
    if !on {
        groups::set_auto(&state.db, chat, None).await?;
        reply(bot, msg, Text::AutoOff.render(lang)).counted().await?;
        return Ok(());
    }
    let payer = member(state, from).await?;
    if payer.is_banned() {
        return Ok(());
    }
    groups::set_auto(&state.db, chat, Some(payer.id)).await?;
    // Without privacy mode off or admin rights the bot never receives plain voice notes.
    let sees_all = me.can_read_all_group_messages
        || bot
            .get_chat_member(msg.chat.id, me.user.id)
            .counted()
            .await
            .is_ok_and(|bot| bot.kind.is_privileged());
    let text = Text::AutoOn {
        payer: from.first_name.clone(),
        daily_minutes: state.settings.groups.auto_daily_minutes,
        sees_all,
    };
    reply(bot, msg, text.render(payer.language)).counted().await?;
    tracing::info!(payer = payer.id.0, "automatic transcription on");
    Ok(())
}

/// A voice note or video note in a chat with automatic transcription on:
/// transcribed for the payer within the chat's daily cap; the day's cap or
/// the payer's balance ends it until the next billing day, said once.
async fn on_automatic(bot: &Telegram, msg: &Message, state: &AppState) -> anyhow::Result<()> {
    let chat = ChatId(msg.chat.id.0);
    let Some(payer) = groups::auto_payer(&state.db, chat).await? else { return Ok(()) };
    let Some(payer) = users::find(&state.db, payer).await?.filter(|payer| !payer.is_banned()) else {
        return Ok(());
    };
    let Some(seconds) = intake::duration_hint(msg) else { return Ok(()) };
    if !within_rate(bot, msg, state, payer.language).await? {
        return Ok(());
    }
    let day = Allowance::TranscriptionSeconds.period_start(state.ledger.pricing(), Utc::now());
    let cap_minutes = state.settings.groups.auto_daily_minutes;
    let payer =
        match groups::claim_auto(&state.db, chat, day, seconds, cap_minutes.saturating_mul(60)).await? {
            AutoClaim::Go(id) if id == payer.id => payer,
            AutoClaim::Go(id) => {
                // Switched to another admin in between: they pay.
                let Some(user) = users::find(&state.db, id).await? else { return Ok(()) };
                user
            }
            AutoClaim::Off | AutoClaim::Paused => return Ok(()),
            AutoClaim::OverCap => {
                if groups::pause_for_day(&state.db, chat, day).await? {
                    let text = Text::AutoCapReached { daily_minutes: cap_minutes };
                    bot.send_message(msg.chat.id, text.render(payer.language)).counted().await?;
                }
                return Ok(());
            }
        };
    let audience = Audience::Group { reply_to: msg.id, automatic: true };
    let outcome = intake::on_recording(bot, msg, state, &payer, audience).await;
    if !matches!(outcome, Ok(Intake::Queued | Intake::Repeated)) {
        groups::unclaim_auto(&state.db, chat, day, seconds).await?;
    }
    if matches!(outcome, Ok(Intake::Unaffordable)) && groups::pause_for_day(&state.db, chat, day).await? {
        bot.send_message(msg.chat.id, Text::AutoPayerOutOfCredit.render(payer.language)).counted().await?;
    }
    outcome.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_is_the_bots_whole_username() {
        assert!(mentions("@Scribe_Bot please", "scribe_bot"));
        assert!(mentions("please, @scribe_bot", "scribe_bot"));
        assert!(!mentions("@scribe_bot2 please", "scribe_bot"));
        assert!(!mentions("scribe_bot", "scribe_bot"));
    }
}
