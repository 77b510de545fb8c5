//! `/stats`: the business at a glance, from `shared::operations::stats`.

use shared::telegram::Counted as _;
use shared::{
    entities::users::Model as User, operations::stats, telegram::Telegram, texts::admin::AdminText,
};
use teloxide::{prelude::Requester, types::ChatId};

use crate::startup::AppState;

/// Sends the figures.
pub async fn show(bot: &Telegram, chat: ChatId, state: &AppState, admin: &User) -> anyhow::Result<()> {
    let lang = admin.language;
    let figures =
        stats::read(&state.db, &state.ledger, &state.settings.provider_costs, chrono::Utc::now()).await?;
    let lines = |texts: Vec<AdminText>| {
        if texts.is_empty() {
            AdminText::StatsNone.render(lang)
        } else {
            texts.iter().map(|text| text.render(lang)).collect::<Vec<_>>().join("\n")
        }
    };
    let jobs = lines(
        figures
            .jobs_today
            .iter()
            .map(|job| AdminText::StatsJob {
                kind: job.kind.clone(),
                status: job.status.clone(),
                count: job.count,
            })
            .collect(),
    );
    let revenue = lines(
        figures
            .revenue
            .iter()
            .map(|line| AdminText::StatsRevenue {
                provider: line.provider.clone(),
                currency: line.currency.clone(),
                paid: [line.paid.today, line.paid.week, line.paid.month],
            })
            .collect(),
    );
    let window = |w: stats::Windows<i64>| [w.today, w.week, w.month];
    let text = AdminText::Stats {
        users_total: figures.users_total,
        new: window(figures.users_new),
        active: window(figures.users_active),
        jobs,
        failed: window(figures.failed),
        queue_depth: figures.queue_depth,
        oldest_seconds: figures.oldest_queued_seconds,
        revenue,
        outstanding: figures.books.credits_outstanding,
        open_holds: figures.books.open_holds,
        open_holds_amount: figures.books.open_holds_amount,
        charged_today: figures.books.revenue_today,
        charged_month: figures.books.revenue_this_month,
        stt_minutes: [figures.stt_minutes.today, figures.stt_minutes.week, figures.stt_minutes.month],
        images: window(figures.images),
        spend: [figures.spend_usd.today, figures.spend_usd.week, figures.spend_usd.month],
    };
    bot.send_message(chat, text.render(lang)).counted().await?;
    Ok(())
}
