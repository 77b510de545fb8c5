//! `/grant` and `/debit`: proposed with Confirm / Cancel buttons, posted through
//! the ledger's adjustment on Confirm, once however often it is tapped (the
//! buttons stay: a later tap answers that it was done already).

use shared::telegram::Counted as _;
use shared::{
    billing::money::Credits,
    entities::users::Model as User,
    operations::admin::{self, ActionStatus, AdjustmentKind, Confirmed},
    telegram::{Telegram, buttons::Callback},
    texts::admin::{AdminText, Usage},
};
use teloxide::{
    payloads::SendMessageSetters,
    prelude::Requester,
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup},
};

use super::{target, who};
use crate::startup::AppState;

/// Which command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// `/grant`.
    Grant,
    /// `/debit`.
    Debit,
}

/// `/grant|/debit <who> <credits> <reason>`: asks for confirmation; nothing moves yet.
pub async fn propose(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    way: Way,
    args: &str,
) -> anyhow::Result<()> {
    let lang = admin_user.language;
    let mut parts = args.split_whitespace();
    let (query, amount) = (parts.next(), parts.next().and_then(|amount| amount.parse::<Credits>().ok()));
    let reason = parts.collect::<Vec<_>>().join(" ");
    let (Some(query), Some(amount)) = (query, amount.filter(|amount| *amount > Credits::ZERO)) else {
        return usage(bot, chat, admin_user, way).await;
    };
    if reason.is_empty() {
        return usage(bot, chat, admin_user, way).await;
    }
    let Some(user) = target(bot, chat, state, admin_user, query).await? else { return Ok(()) };
    let kind = match way {
        Way::Grant => AdjustmentKind::Grant,
        Way::Debit => AdjustmentKind::Debit,
    };
    let proposal =
        admin::propose_adjustment(&state.db, admin_user.telegram_id, kind, user.id, amount, &reason).await?;
    let available = state.ledger.balance(&state.db, user.id).await?.available;
    let text = AdminText::ConfirmAdjustment {
        grant: way == Way::Grant,
        amount: amount.amount(),
        user: who(&user),
        available: available.amount(),
        reason,
    };
    let buttons = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback(
            AdminText::ConfirmButton.render(lang),
            Callback::AdminConfirm { action: proposal.id }.encode(),
        ),
        InlineKeyboardButton::callback(
            AdminText::CancelButton.render(lang),
            Callback::AdminCancel { action: proposal.id }.encode(),
        ),
    ]]);
    bot.send_message(chat, text.render(lang)).reply_markup(buttons).counted().await?;
    Ok(())
}

async fn usage(bot: &Telegram, chat: ChatId, admin_user: &User, way: Way) -> anyhow::Result<()> {
    let usage = match way {
        Way::Grant => Usage::Grant,
        Way::Debit => Usage::Debit,
    };
    bot.send_message(chat, AdminText::Usage(usage).render(admin_user.language)).counted().await?;
    Ok(())
}

/// Confirm: posts the grant or debit once.
pub async fn confirm(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    action: uuid::Uuid,
) -> anyhow::Result<()> {
    let confirmed =
        admin::confirm_adjustment(&state.db, &state.ledger, action, admin_user.telegram_id).await?;
    let text = match confirmed {
        Confirmed::Done { proposal, available_after } => {
            tracing::warn!(
                admin = %admin_user.telegram_id,
                user_id = %proposal.target,
                kind = ?proposal.kind,
                amount = %proposal.amount,
                "credits adjusted by an admin"
            );
            let user = shared::people::users::find(&state.db, proposal.target).await?;
            AdminText::Adjusted {
                grant: proposal.kind == AdjustmentKind::Grant,
                amount: proposal.amount.amount(),
                user: user.as_ref().map_or_else(|| format!("#{}", proposal.target), who),
                available: available_after.amount(),
            }
        }
        Confirmed::AlreadySettled(status) => AdminText::AlreadySettled { status: status_code(status) },
        Confirmed::Insufficient { needed, available } => {
            AdminText::DebitTooLarge { needed: needed.amount(), available: available.amount() }
        }
        Confirmed::NotFound => AdminText::ActionUnknown,
    };
    bot.send_message(chat, text.render(admin_user.language)).counted().await?;
    Ok(())
}

/// Cancel: the proposal is dropped, unless it was settled already.
pub async fn cancel(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    action: uuid::Uuid,
) -> anyhow::Result<()> {
    let text = match admin::cancel_adjustment(&state.db, action).await? {
        None => AdminText::ActionCancelled,
        Some(status) => AdminText::AlreadySettled { status: status_code(status) },
    };
    bot.send_message(chat, text.render(admin_user.language)).counted().await?;
    Ok(())
}

fn status_code(status: ActionStatus) -> &'static str {
    match status {
        ActionStatus::Done | ActionStatus::Pending => "done",
        ActionStatus::Cancelled => "cancelled",
        ActionStatus::Failed => "failed",
    }
}
