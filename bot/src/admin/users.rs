//! `/user` (a user's card with Grant / Ban / Unban buttons), `/ban` (which also
//! cancels the user's unfinished jobs) and `/unban`.

use sea_orm::ActiveEnum;
use shared::telegram::Counted as _;
use shared::{
    entities::users::Model as User,
    ids::UserId,
    operations::admin,
    people::users as people,
    telegram::{
        Telegram,
        buttons::{AdminUserAction, Callback},
    },
    texts::{
        admin::{AdminText, Usage},
        i18n::minutes_seconds,
    },
};
use teloxide::{
    payloads::SendMessageSetters,
    prelude::Requester,
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup},
};

use super::{target, when, who};
use crate::startup::AppState;

/// The reason recorded for a ban from the card's button, which has no text field.
const BUTTON_BAN_REASON: &str = "ban button on the /user card";

/// `/user <who>`: balance, free allowances, latest jobs and payments, referrer, flags.
pub async fn show_card(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    query: &str,
) -> anyhow::Result<()> {
    if query.trim().is_empty() {
        bot.send_message(chat, AdminText::Usage(Usage::User).render(admin_user.language)).counted().await?;
        return Ok(());
    }
    let Some(user) = target(bot, chat, state, admin_user, query).await? else { return Ok(()) };
    send_card(bot, chat, state, admin_user, user).await
}

async fn send_card(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    user: User,
) -> anyhow::Result<()> {
    let lang = admin_user.language;
    let card = admin::user_card(&state.db, &state.ledger, user).await?;
    let list = |lines: Vec<AdminText>| {
        if lines.is_empty() {
            AdminText::CardNone.render(lang)
        } else {
            lines.iter().map(|line| line.render(lang)).collect::<Vec<_>>().join("\n")
        }
    };
    let jobs = list(
        card.jobs
            .iter()
            .map(|job| AdminText::CardJob {
                when: when(state, job.created_at),
                kind: job.kind.to_value(),
                status: job.status.to_value(),
                price: job.price_charged.unwrap_or(job.price_quoted),
                error: job.error_code.clone(),
            })
            .collect(),
    );
    let payments = list(
        card.payments
            .iter()
            .map(|payment| AdminText::CardPayment {
                when: when(state, payment.created_at),
                provider: payment.provider.to_value(),
                amount: payment.amount,
                currency: payment.currency.clone(),
                credits: payment.credits,
                status: payment.status.to_value(),
            })
            .collect(),
    );
    let user = &card.user;
    let text = AdminText::UserCard {
        user: who(user),
        language: user.language.code().to_owned(),
        since: user.created_at.with_timezone(&state.ledger.pricing().timezone).format("%d.%m.%Y").to_string(),
        referrer: card.referrer.as_ref().map_or_else(|| AdminText::Nobody.render(lang), who),
        available: card.balance.available.amount(),
        held: card.balance.held.amount(),
        free_time: minutes_seconds(card.balance.free_seconds_left_today),
        free_images: card.balance.free_images_left_this_month,
        plan: crate::plans::current_line(state, user, card.balance.plan.as_ref(), lang).await?,
        ban_reason: user.banned_at.map(|_| user.ban_reason.clone().unwrap_or_default()),
        blocked: user.is_blocked,
        jobs,
        payments,
    };
    let ban_or_unban = if user.is_banned() {
        InlineKeyboardButton::callback(
            AdminText::UnbanButton.render(lang),
            Callback::AdminUser { action: AdminUserAction::Unban, user: user.id }.encode(),
        )
    } else {
        InlineKeyboardButton::callback(
            AdminText::BanButton.render(lang),
            Callback::AdminUser { action: AdminUserAction::Ban, user: user.id }.encode(),
        )
    };
    let buttons = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback(
            AdminText::GrantButton.render(lang),
            Callback::AdminUser { action: AdminUserAction::Grant, user: user.id }.encode(),
        ),
        ban_or_unban,
    ]]);
    bot.send_message(chat, text.render(lang)).reply_markup(buttons).counted().await?;
    Ok(())
}

/// `/ban <who> <reason>`.
pub async fn ban(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    args: &str,
) -> anyhow::Result<()> {
    let (query, reason) = args.trim().split_once(char::is_whitespace).unwrap_or((args.trim(), ""));
    let reason = reason.trim();
    if query.is_empty() || reason.is_empty() {
        bot.send_message(chat, AdminText::Usage(Usage::Ban).render(admin_user.language)).counted().await?;
        return Ok(());
    }
    let Some(user) = target(bot, chat, state, admin_user, query).await? else { return Ok(()) };
    ban_user(bot, chat, state, admin_user, &user, reason).await
}

async fn ban_user(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    user: &User,
    reason: &str,
) -> anyhow::Result<()> {
    let banned = admin::ban(&state.db, &state.ledger, admin_user.telegram_id, user.id, reason).await?;
    tracing::warn!(
        admin = %admin_user.telegram_id,
        user_id = %user.id,
        reason,
        jobs_cancelled = banned.jobs_ended.len(),
        "user banned"
    );
    let text = AdminText::Banned {
        user: who(user),
        reason: reason.to_owned(),
        again: banned.again,
        jobs_cancelled: banned.jobs_ended.len(),
    };
    bot.send_message(chat, text.render(admin_user.language)).counted().await?;
    Ok(())
}

/// `/unban <who>`.
pub async fn unban(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    args: &str,
) -> anyhow::Result<()> {
    if args.trim().is_empty() {
        bot.send_message(chat, AdminText::Usage(Usage::Unban).render(admin_user.language)).counted().await?;
        return Ok(());
    }
    let Some(user) = target(bot, chat, state, admin_user, args).await? else { return Ok(()) };
    unban_user(bot, chat, state, admin_user, &user).await
}

async fn unban_user(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    user: &User,
) -> anyhow::Result<()> {
    let text = if admin::unban(&state.db, admin_user.telegram_id, user.id).await? {
        tracing::info!(admin = %admin_user.telegram_id, user_id = %user.id, "user unbanned");
        AdminText::Unbanned { user: who(user) }
    } else {
        AdminText::NotBanned { user: who(user) }
    };
    bot.send_message(chat, text.render(admin_user.language)).counted().await?;
    Ok(())
}

/// A button on a `/user` card.
pub async fn on_card_button(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    action: AdminUserAction,
    user_id: UserId,
) -> anyhow::Result<()> {
    let Some(user) = people::find(&state.db, user_id).await? else { return Ok(()) };
    match action {
        AdminUserAction::Grant => {
            let text = AdminText::GrantHowTo { user: format!("#{}", user.id) };
            bot.send_message(chat, text.render(admin_user.language)).counted().await?;
            Ok(())
        }
        AdminUserAction::Ban => ban_user(bot, chat, state, admin_user, &user, BUTTON_BAN_REASON).await,
        AdminUserAction::Unban => unban_user(bot, chat, state, admin_user, &user).await,
    }
}
