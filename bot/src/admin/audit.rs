//! `/audit [user]`: the latest records of the audit trail, of everyone or of one user.

use shared::telegram::Counted as _;
use shared::{
    entities::users::Model as User,
    operations::audit,
    telegram::Telegram,
    texts::{admin::AdminText, split},
};
use teloxide::{prelude::Requester, types::ChatId};

use super::{target, when, who};
use crate::startup::AppState;

/// Records one `/audit` shows.
const SHOWN: u32 = 20;

/// `/audit [user]`.
pub async fn show(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin_user: &User,
    args: &str,
) -> anyhow::Result<()> {
    let lang = admin_user.language;
    let user = if args.trim().is_empty() {
        None
    } else {
        let Some(user) = target(bot, chat, state, admin_user, args).await? else { return Ok(()) };
        Some(user)
    };
    let records = audit::recent(&state.db, user.as_ref().map(|user| user.id), SHOWN).await?;
    if records.is_empty() {
        bot.send_message(chat, AdminText::AuditEmpty.render(lang)).counted().await?;
        return Ok(());
    }
    let compact =
        |value: &Option<serde_json::Value>| value.as_ref().map(ToString::to_string).unwrap_or_default();
    let lines = records
        .iter()
        .map(|record| {
            let change = match (&record.before, &record.after) {
                (None, None) => String::new(),
                _ => format!("{} → {}", compact(&record.before), compact(&record.after)),
            };
            AdminText::AuditLine {
                id: record.id,
                when: when(state, record.created_at),
                actor: record.actor.clone(),
                action: record.action.clone(),
                target: record.target.map(|target| target.0),
                reason: record.reason.clone(),
                change,
            }
            .render(lang)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let text = AdminText::Audit { user: user.as_ref().map(who), lines };
    // Long trails are cut at Telegram's limit by the shared splitter.
    for part in split::split_message(&text.render(lang), split::TELEGRAM_MESSAGE_LIMIT) {
        bot.send_message(chat, part).counted().await?;
    }
    Ok(())
}
