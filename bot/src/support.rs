//! `/paysupport` and `/terms`: a user's payment question reaches every admin,
//! and an admin's reply to it reaches the user (`shared::operations::support`
//! keeps which admin message carries which question).

use chrono::Utc;
use sea_orm::TransactionTrait;
use shared::{
    entities::users::Model as User,
    operations::support::{self, Question},
    people::users,
    telegram::{Counted as _, Telegram},
    texts::{admin::AdminText, i18n::Text},
};
use teloxide::{
    prelude::{Message, Requester},
    types::ChatId,
};

use crate::{admin, startup::AppState};

/// `/paysupport [question]`: without a question, how to ask; with one, the
/// question to every admin.
pub async fn on_pay_support(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
    text: &str,
) -> anyhow::Result<()> {
    let lang = user.language;
    let Some(question) = Question::parse(text) else {
        let contact = state.settings.pay_support.contact.clone();
        bot.send_message(chat, Text::PaySupport { contact }.render(lang)).counted().await?;
        return Ok(());
    };
    if state.settings.admin_telegram_ids.is_empty() {
        bot.send_message(chat, Text::PaySupportUnavailable.render(lang)).counted().await?;
        return Ok(());
    }
    if !state.support_limiter.allow(user.telegram_id, Utc::now().timestamp()).await {
        bot.send_message(chat, Text::PaySupportSlowDown.render(lang)).counted().await?;
        return Ok(());
    }
    let request = support::open(&state.db, user.id, &question).await?;
    let mut reached = 0;
    for &admin_id in &state.settings.admin_telegram_ids {
        let admin_lang =
            users::find_by_telegram_id(&state.db, admin_id).await?.map(|a| a.language).unwrap_or(lang);
        let copy = AdminText::SupportRequest {
            user: admin::who(user),
            request: request.0,
            question: question.as_str().to_owned(),
        };
        let admin_chat = ChatId(admin_id.0);
        // An admin who never started the bot cannot be written to; the others still are.
        match bot.send_message(admin_chat, copy.render(admin_lang)).counted().await {
            Ok(sent) => {
                support::record_copy(&state.db, request, admin_chat.0, sent.id.0).await?;
                reached += 1;
            }
            Err(err) => {
                tracing::warn!(admin = %admin_id, error = %err, "a payment question did not reach an admin")
            }
        }
    }
    tracing::info!(user_id = %user.id, %request, reached, "payment question passed to the admins");
    let answer = if reached > 0 { Text::PaySupportSent } else { Text::PaySupportUnavailable };
    bot.send_message(chat, answer.render(lang)).counted().await?;
    Ok(())
}

/// `/terms`: the operator's published terms, or the bot's own short ones.
pub async fn on_terms(bot: &Telegram, chat: ChatId, state: &AppState, user: &User) -> anyhow::Result<()> {
    let url = state.settings.pay_support.terms_url.as_ref().map(ToString::to_string);
    bot.send_message(chat, Text::Terms { url }.render(user.language)).counted().await?;
    Ok(())
}

/// Whether `msg` is an admin's text reply to one of the bot's messages: the
/// only kind of message that can answer a payment question.
pub fn is_admin_reply(msg: &Message, state: &AppState) -> bool {
    let from_admin = msg.from.as_ref().is_some_and(|from| admin::is_admin(state, from.id.into()));
    let to_bot = msg.reply_to_message().and_then(|to| to.from.as_ref()).is_some_and(|from| from.is_bot);
    from_admin && to_bot && msg.text().is_some()
}

/// An admin's reply: when it answers a payment question, the answer goes to
/// the user and is recorded; any other reply gets the ordinary answer.
pub async fn on_admin_reply(bot: Telegram, msg: Message, state: AppState) -> anyhow::Result<bool> {
    let (Some(to), Some(answer), Some(from)) = (msg.reply_to_message(), msg.text(), msg.from.as_ref()) else {
        return Ok(false);
    };
    let Some(asker) = support::asker_of_copy(&state.db, msg.chat.id.0, to.id.0).await? else {
        return Ok(false);
    };
    let admin_lang =
        users::find_by_telegram_id(&state.db, from.id.into()).await?.map(|a| a.language).unwrap_or_default();
    let user = users::find_by_telegram_id(&state.db, asker.telegram_id).await?;
    let shown = user.as_ref().map_or_else(|| format!("tg {}", asker.telegram_id), admin::who);
    let answer = answer.chars().take(support::MAX_TEXT_CHARS).collect::<String>();
    // A private chat's id is its user's id.
    let to_user = ChatId(asker.telegram_id.0);
    let delivered = bot
        .send_message(to_user, Text::PaySupportAnswer { answer: answer.clone() }.render(asker.language))
        .counted()
        .await;
    let report = match delivered {
        Ok(_) => {
            let txn = state.db.begin().await?;
            support::answered(&txn, &asker, from.id.into(), &answer).await?;
            txn.commit().await?;
            AdminText::SupportAnswerSent { user: shown }
        }
        Err(err) => {
            tracing::warn!(request = %asker.request, error = %err, "a support answer could not be delivered");
            AdminText::SupportAnswerFailed { user: shown }
        }
    };
    bot.send_message(msg.chat.id, report.render(admin_lang)).counted().await?;
    Ok(true)
}
