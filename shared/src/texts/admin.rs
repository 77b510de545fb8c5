//! Words of the operator's side: answers to admin commands and the notice a
//! banned user gets. Messages live in `shared/locales/<lang>/admin.ftl`, in the
//! same bundles as [`super::i18n::Text`]; lists (jobs, payments, audit lines) are
//! rendered line by line here and passed in whole.

use fluent_bundle::FluentArgs;
use rust_decimal::Decimal;

use super::i18n::{CATALOGUE, Lang, RenderError, amount, formatted, shown, yes_no};

/// Which command a usage line is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// `/user`.
    User,
    /// `/grant`.
    Grant,
    /// `/debit`.
    Debit,
    /// `/ban`.
    Ban,
    /// `/unban`.
    Unban,
    /// `/jobs`.
    Jobs,
    /// `/broadcast`.
    Broadcast,
}

impl Usage {
    fn selector(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Grant => "grant",
            Self::Debit => "debit",
            Self::Ban => "ban",
            Self::Unban => "unban",
            Self::Jobs => "jobs",
            Self::Broadcast => "broadcast",
        }
    }
}

/// Three figures: today, 7 days, 30 days.
pub type Window<T> = [T; 3];

/// Everything the operator's side can say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminText {
    /// To a banned user, once per ban.
    YouAreBanned,
    /// How to call a command.
    Usage(Usage),
    /// `/user` and friends named nobody.
    UserNotFound {
        /// What the admin typed.
        query: String,
    },
    /// `/stats`.
    Stats {
        /// Users in all.
        users_total: i64,
        /// New users.
        new: Window<i64>,
        /// Active users.
        active: Window<i64>,
        /// [`AdminText::StatsJob`] lines, or [`AdminText::StatsNone`].
        jobs: String,
        /// Failed jobs.
        failed: Window<i64>,
        /// Jobs waiting.
        queue_depth: i64,
        /// Seconds the oldest has waited.
        oldest_seconds: i64,
        /// [`AdminText::StatsRevenue`] lines, or [`AdminText::StatsNone`].
        revenue: String,
        /// Credits users hold.
        outstanding: Decimal,
        /// Open holds.
        open_holds: i64,
        /// Credits in them.
        open_holds_amount: Decimal,
        /// Credits charged since midnight.
        charged_today: Decimal,
        /// Credits charged this month.
        charged_month: Decimal,
        /// Minutes transcribed.
        stt_minutes: Window<Decimal>,
        /// Pictures made.
        images: Window<i64>,
        /// Provider spend estimate, dollars.
        spend: Window<Decimal>,
    },
    /// Jobs of a kind in a status.
    StatsJob {
        /// Kind code.
        kind: String,
        /// Status code.
        status: String,
        /// How many.
        count: i64,
    },
    /// Payments of a provider in a currency.
    StatsRevenue {
        /// Provider code.
        provider: String,
        /// Currency.
        currency: String,
        /// Paid in the three windows.
        paid: Window<Decimal>,
    },
    /// An empty list.
    StatsNone,
    /// `/user`.
    UserCard {
        /// The user, as [`AdminText`] callers name users.
        user: String,
        /// Bot language.
        language: String,
        /// First contact, `dd.mm.yyyy`.
        since: String,
        /// The referrer, or [`AdminText::Nobody`].
        referrer: String,
        /// Spendable credits.
        available: Decimal,
        /// Reserved credits.
        held: Decimal,
        /// Free time left today, `m:ss`.
        free_time: String,
        /// Free pictures left this month.
        free_images: u32,
        /// The plan line (as `/balance` shows it), when the user is inside a plan.
        plan: Option<String>,
        /// The ban's reason, when banned.
        ban_reason: Option<String>,
        /// Whether they blocked the bot.
        blocked: bool,
        /// [`AdminText::CardJob`] lines, or [`AdminText::CardNone`].
        jobs: String,
        /// [`AdminText::CardPayment`] lines, or [`AdminText::CardNone`].
        payments: String,
    },
    /// A job on a user card.
    CardJob {
        /// `dd.mm HH:MM`.
        when: String,
        /// Kind code.
        kind: String,
        /// Status code.
        status: String,
        /// Charged, or quoted while unsettled.
        price: Decimal,
        /// Failure code.
        error: Option<String>,
    },
    /// A payment on a user card.
    CardPayment {
        /// `dd.mm HH:MM`.
        when: String,
        /// Provider code.
        provider: String,
        /// Money.
        amount: Decimal,
        /// Currency.
        currency: String,
        /// Credits bought.
        credits: Decimal,
        /// Status code.
        status: String,
    },
    /// An empty list on a card.
    CardNone,
    /// No referrer.
    Nobody,
    /// Button: grant.
    GrantButton,
    /// Button: ban.
    BanButton,
    /// Button: unban.
    UnbanButton,
    /// Button: confirm.
    ConfirmButton,
    /// Button: cancel.
    CancelButton,
    /// Button: retry a job.
    RetryButton {
        /// Short job id.
        job: String,
    },
    /// What to type to grant (from the card's button).
    GrantHowTo {
        /// `#<internal id>`.
        user: String,
    },
    /// The question before a grant or debit.
    ConfirmAdjustment {
        /// Grant (true) or debit.
        grant: bool,
        /// Credits.
        amount: Decimal,
        /// Whom.
        user: String,
        /// Their available credits now.
        available: Decimal,
        /// Why.
        reason: String,
    },
    /// A grant or debit posted.
    Adjusted {
        /// Grant (true) or debit.
        grant: bool,
        /// Credits.
        amount: Decimal,
        /// Whom.
        user: String,
        /// Their available credits after.
        available: Decimal,
    },
    /// A second tap.
    AlreadySettled {
        /// `done`, `cancelled` or `failed`.
        status: &'static str,
    },
    /// A debit larger than the balance.
    DebitTooLarge {
        /// The debit.
        needed: Decimal,
        /// The balance.
        available: Decimal,
    },
    /// Cancel tapped.
    ActionCancelled,
    /// A button naming nothing known.
    ActionUnknown,
    /// `/ban` done.
    Banned {
        /// Whom.
        user: String,
        /// Why.
        reason: String,
        /// They were banned already.
        again: bool,
        /// Their unfinished jobs the ban ended.
        jobs_cancelled: usize,
    },
    /// `/unban` done.
    Unbanned {
        /// Whom.
        user: String,
    },
    /// `/unban` of someone not banned.
    NotBanned {
        /// Whom.
        user: String,
    },
    /// `/jobs failed`.
    FailedJobs {
        /// [`AdminText::FailedJob`] lines.
        jobs: String,
    },
    /// One failed job.
    FailedJob {
        /// Short job id.
        job: String,
        /// Kind code.
        kind: String,
        /// Its owner.
        user: String,
        /// `dd.mm HH:MM`.
        when: String,
        /// Failure code.
        reason: String,
        /// Short id of the job that retried it.
        retried: Option<String>,
    },
    /// `/jobs failed` found none.
    NoFailedJobs,
    /// A user's `/paysupport` question, to every admin.
    SupportRequest {
        /// Who asked, as `/user` shows them.
        user: String,
        /// The question's number.
        request: i64,
        /// What they wrote.
        question: String,
    },
    /// An admin's reply reached the user.
    SupportAnswerSent {
        /// Who got it.
        user: String,
    },
    /// An admin's reply could not be delivered.
    SupportAnswerFailed {
        /// To whom.
        user: String,
    },
    /// Retry done.
    Retried {
        /// Short id of the failed job.
        job: String,
        /// Short id of the new one.
        new_job: String,
        /// Held for it.
        price: Decimal,
    },
    /// Retried before.
    RetryAlready {
        /// Short id of the job queued then.
        new_job: String,
    },
    /// Not a failed job.
    RetryNotFailed,
    /// The owner is banned.
    RetryBanned,
    /// The owner cannot pay.
    RetryInsufficient {
        /// Price.
        needed: Decimal,
        /// Available.
        available: Decimal,
    },
    /// `/audit`.
    Audit {
        /// Whose trail, or everyone's.
        user: Option<String>,
        /// [`AdminText::AuditLine`] lines.
        lines: String,
    },
    /// One audit record.
    AuditLine {
        /// Record id.
        id: i64,
        /// `dd.mm HH:MM`.
        when: String,
        /// `admin:<id>` or `system`.
        actor: String,
        /// Action code.
        action: String,
        /// Internal id of the target user.
        target: Option<i64>,
        /// Why.
        reason: String,
        /// `before → after`, compact JSON.
        change: String,
    },
    /// `/audit` found nothing.
    AuditEmpty,
    /// Under the preview of a broadcast: its audience, and the question.
    BroadcastPreview {
        /// How many users it would reach now.
        audience: i64,
        /// The segment in canonical form; empty for everyone.
        segment: String,
    },
    /// Button: send the broadcast.
    SendButton,
    /// The message replied to cannot be copied.
    BroadcastNotCopyable,
    /// Send tapped: the broadcast is on its way.
    BroadcastStarted {
        /// Its recipients.
        recipients: i64,
    },
    /// Send or Cancel tapped on a broadcast settled before.
    BroadcastAlready {
        /// `sending`, `done` or `cancelled`.
        status: &'static str,
    },
    /// A broadcast finished.
    BroadcastReport {
        /// Copies Telegram took.
        sent: i64,
        /// Users who blocked the bot.
        blocked: i64,
        /// Refused otherwise, or interrupted mid-send.
        failed: i64,
        /// Banned or gone after it was confirmed.
        skipped: i64,
    },
}

/// Admin commands, in the menu of admins' own chats only.
pub const ADMIN_COMMANDS: [&str; 9] =
    ["stats", "user", "grant", "debit", "ban", "unban", "jobs", "audit", "broadcast"];

/// The admin commands with their descriptions in `lang`, for the command menu
/// of an admin's chat (after the public commands).
pub fn admin_command_menu(lang: Lang) -> Vec<(&'static str, String)> {
    ADMIN_COMMANDS
        .iter()
        .map(|&command| {
            let mut problems = Vec::new();
            let description =
                CATALOGUE.format(lang, &format!("admin-command-{command}"), None, &mut problems);
            if !problems.is_empty() {
                tracing::error!(problems = ?problems, "an admin command description is missing");
            }
            (command, description)
        })
        .collect()
}

fn window<T: Copy>(
    args: &mut FluentArgs<'_>,
    name: &str,
    values: Window<T>,
    f: impl Fn(T) -> fluent_bundle::FluentValue<'static>,
) {
    for (suffix, value) in ["today", "week", "month"].into_iter().zip(values) {
        args.set(format!("{name}_{suffix}"), f(value));
    }
}

fn or_none(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("none").to_owned()
}

impl AdminText {
    fn message_id(&self) -> &'static str {
        match self {
            Self::YouAreBanned => "you-are-banned",
            Self::Usage(_) => "admin-usage",
            Self::UserNotFound { .. } => "admin-user-not-found",
            Self::Stats { .. } => "admin-stats",
            Self::StatsJob { .. } => "admin-stats-job",
            Self::StatsRevenue { .. } => "admin-stats-revenue",
            Self::StatsNone => "admin-stats-none",
            Self::UserCard { .. } => "admin-user-card",
            Self::CardJob { .. } => "admin-card-job",
            Self::CardPayment { .. } => "admin-card-payment",
            Self::CardNone => "admin-card-none",
            Self::Nobody => "admin-nobody",
            Self::GrantButton => "admin-grant-button",
            Self::BanButton => "admin-ban-button",
            Self::UnbanButton => "admin-unban-button",
            Self::ConfirmButton => "admin-confirm-button",
            Self::CancelButton => "admin-cancel-button",
            Self::RetryButton { .. } => "admin-retry-button",
            Self::GrantHowTo { .. } => "admin-grant-how-to",
            Self::ConfirmAdjustment { .. } => "admin-confirm-adjustment",
            Self::Adjusted { .. } => "admin-adjusted",
            Self::AlreadySettled { .. } => "admin-already-settled",
            Self::DebitTooLarge { .. } => "admin-debit-too-large",
            Self::ActionCancelled => "admin-action-cancelled",
            Self::ActionUnknown => "admin-action-unknown",
            Self::Banned { .. } => "admin-banned",
            Self::Unbanned { .. } => "admin-unbanned",
            Self::NotBanned { .. } => "admin-not-banned",
            Self::FailedJobs { .. } => "admin-failed-jobs",
            Self::FailedJob { .. } => "admin-failed-job",
            Self::NoFailedJobs => "admin-no-failed-jobs",
            Self::SupportRequest { .. } => "admin-support-request",
            Self::SupportAnswerSent { .. } => "admin-support-answer-sent",
            Self::SupportAnswerFailed { .. } => "admin-support-answer-failed",
            Self::Retried { .. } => "admin-retried",
            Self::RetryAlready { .. } => "admin-retry-already",
            Self::RetryNotFailed => "admin-retry-not-failed",
            Self::RetryBanned => "admin-retry-banned",
            Self::RetryInsufficient { .. } => "admin-retry-insufficient",
            Self::Audit { .. } => "admin-audit",
            Self::AuditLine { .. } => "admin-audit-line",
            Self::AuditEmpty => "admin-audit-empty",
            Self::BroadcastPreview { .. } => "admin-broadcast-preview",
            Self::SendButton => "admin-send-button",
            Self::BroadcastNotCopyable => "admin-broadcast-not-copyable",
            Self::BroadcastStarted { .. } => "admin-broadcast-started",
            Self::BroadcastAlready { .. } => "admin-broadcast-already",
            Self::BroadcastReport { .. } => "admin-broadcast-report",
        }
    }

    fn arguments(&self) -> FluentArgs<'_> {
        let mut args = FluentArgs::new();
        let kind = |grant: bool| if grant { "grant" } else { "debit" };
        match self {
            Self::YouAreBanned
            | Self::StatsNone
            | Self::CardNone
            | Self::Nobody
            | Self::GrantButton
            | Self::BanButton
            | Self::UnbanButton
            | Self::ConfirmButton
            | Self::CancelButton
            | Self::ActionCancelled
            | Self::ActionUnknown
            | Self::NoFailedJobs
            | Self::RetryNotFailed
            | Self::RetryBanned
            | Self::AuditEmpty
            | Self::SendButton
            | Self::BroadcastNotCopyable => {}
            Self::Usage(usage) => args.set("command", usage.selector()),
            Self::SupportRequest { user, request, question } => {
                args.set("user", user.as_str());
                args.set("request", *request);
                args.set("question", question.as_str());
            }
            Self::SupportAnswerSent { user } | Self::SupportAnswerFailed { user } => {
                args.set("user", user.as_str());
            }
            Self::UserNotFound { query } => args.set("query", query.as_str()),
            Self::Stats {
                users_total,
                new,
                active,
                jobs,
                failed,
                queue_depth,
                oldest_seconds,
                revenue,
                outstanding,
                open_holds,
                open_holds_amount,
                charged_today,
                charged_month,
                stt_minutes,
                images,
                spend,
            } => {
                args.set("users_total", *users_total);
                window(&mut args, "new", *new, Into::into);
                window(&mut args, "active", *active, Into::into);
                args.set("jobs", jobs.as_str());
                window(&mut args, "failed", *failed, Into::into);
                args.set("queue_depth", *queue_depth);
                args.set("oldest_seconds", *oldest_seconds);
                args.set("revenue", revenue.as_str());
                args.set("outstanding", amount(*outstanding));
                args.set("open_holds", *open_holds);
                args.set("open_holds_amount", amount(*open_holds_amount));
                args.set("charged_today", amount(*charged_today));
                args.set("charged_month", amount(*charged_month));
                window(&mut args, "stt", *stt_minutes, amount);
                window(&mut args, "images", *images, Into::into);
                window(&mut args, "spend", *spend, amount);
            }
            Self::StatsJob { kind, status, count } => {
                args.set("kind", kind.as_str());
                args.set("status", status.as_str());
                args.set("count", *count);
            }
            Self::StatsRevenue { provider, currency, paid } => {
                args.set("provider", provider.as_str());
                args.set("currency", currency.as_str());
                args.set("today", amount(paid[0]));
                args.set("week", amount(paid[1]));
                args.set("month", amount(paid[2]));
            }
            Self::UserCard {
                user,
                language,
                since,
                referrer,
                available,
                held,
                free_time,
                free_images,
                plan,
                ban_reason,
                blocked,
                jobs,
                payments,
            } => {
                args.set("user", user.as_str());
                args.set("language", language.as_str());
                args.set("since", since.as_str());
                args.set("referrer", referrer.as_str());
                args.set("available", amount(*available));
                args.set("held", amount(*held));
                args.set("free_time", free_time.as_str());
                args.set("free_images", *free_images);
                args.set("plan", or_none(plan.as_deref()));
                args.set("banned", yes_no(ban_reason.is_some()));
                args.set("ban_reason", ban_reason.clone().unwrap_or_default());
                args.set("blocked", yes_no(*blocked));
                args.set("jobs", jobs.as_str());
                args.set("payments", payments.as_str());
            }
            Self::CardJob { when, kind, status, price, error } => {
                args.set("when", when.as_str());
                args.set("kind", kind.as_str());
                args.set("status", status.as_str());
                args.set("price", amount(*price));
                args.set("error", or_none(error.as_deref()));
            }
            Self::CardPayment { when, provider, amount: paid, currency, credits, status } => {
                args.set("when", when.as_str());
                args.set("provider", provider.as_str());
                args.set("amount", amount(*paid));
                args.set("currency", currency.as_str());
                args.set("credits", amount(*credits));
                args.set("status", status.as_str());
            }
            Self::RetryButton { job } => args.set("job", job.as_str()),
            Self::GrantHowTo { user } | Self::Unbanned { user } | Self::NotBanned { user } => {
                args.set("user", user.as_str());
            }
            Self::ConfirmAdjustment { grant, amount: credits, user, available, reason } => {
                args.set("kind", kind(*grant));
                args.set("amount", amount(*credits));
                args.set("user", user.as_str());
                args.set("available", amount(*available));
                args.set("reason", reason.as_str());
            }
            Self::Adjusted { grant, amount: credits, user, available } => {
                args.set("kind", kind(*grant));
                args.set("amount", amount(*credits));
                args.set("user", user.as_str());
                args.set("available", amount(*available));
            }
            Self::AlreadySettled { status } => args.set("status", *status),
            Self::DebitTooLarge { needed, available } | Self::RetryInsufficient { needed, available } => {
                args.set("needed", amount(*needed));
                args.set("available", amount(*available));
            }
            Self::Banned { user, reason, again, jobs_cancelled } => {
                args.set("user", user.as_str());
                args.set("reason", reason.as_str());
                args.set("again", yes_no(*again));
                args.set("jobs", *jobs_cancelled);
            }
            Self::FailedJobs { jobs } => args.set("jobs", jobs.as_str()),
            Self::FailedJob { job, kind, user, when, reason, retried } => {
                args.set("job", job.as_str());
                args.set("kind", kind.as_str());
                args.set("user", user.as_str());
                args.set("when", when.as_str());
                args.set("reason", reason.as_str());
                args.set("retried", or_none(retried.as_deref()));
            }
            Self::Retried { job, new_job, price } => {
                args.set("job", job.as_str());
                args.set("new_job", new_job.as_str());
                args.set("price", amount(*price));
            }
            Self::RetryAlready { new_job } => args.set("new_job", new_job.as_str()),
            Self::Audit { user, lines } => {
                args.set("user", or_none(user.as_deref()));
                args.set("lines", lines.as_str());
            }
            Self::AuditLine { id, when, actor, action, target, reason, change } => {
                args.set("id", *id);
                args.set("when", when.as_str());
                args.set("actor", actor.as_str());
                args.set("action", action.as_str());
                args.set("target", target.map_or_else(|| "none".to_owned(), |t| t.to_string()));
                args.set("reason", or_none(Some(reason)));
                args.set("change", change.as_str());
            }
            Self::BroadcastPreview { audience, segment } => {
                args.set("audience", *audience);
                args.set("segment", or_none(Some(segment)));
            }
            Self::BroadcastStarted { recipients } => args.set("recipients", *recipients),
            Self::BroadcastAlready { status } => args.set("status", *status),
            Self::BroadcastReport { sent, blocked, failed, skipped } => {
                args.set("sent", *sent);
                args.set("blocked", *blocked);
                args.set("failed", *failed);
                args.set("skipped", *skipped);
            }
        }
        args
    }

    /// The text in `lang` (a missing message panics in debug builds, where the
    /// tests render every one, and is logged in release).
    pub fn render(&self, lang: Lang) -> String {
        shown(self.try_render(lang))
    }

    /// The text in `lang`, or what is missing.
    ///
    /// # Errors
    /// When the catalogue lacks the message or one of its arguments.
    pub fn try_render(&self, lang: Lang) -> Result<String, RenderError> {
        formatted(self.message_id(), lang, &self.arguments(), Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    use sea_orm::Iterable;

    fn dec(amount: &str) -> Decimal {
        amount.parse().unwrap()
    }

    fn samples() -> Vec<AdminText> {
        let mut all = vec![
            AdminText::YouAreBanned,
            AdminText::UserNotFound { query: "@nobody".into() },
            AdminText::StatsNone,
            AdminText::CardNone,
            AdminText::Nobody,
            AdminText::GrantButton,
            AdminText::BanButton,
            AdminText::UnbanButton,
            AdminText::ConfirmButton,
            AdminText::CancelButton,
            AdminText::RetryButton { job: "0193a1b2".into() },
            AdminText::GrantHowTo { user: "#42".into() },
            AdminText::ActionCancelled,
            AdminText::ActionUnknown,
            AdminText::Unbanned { user: "Анна @anna · tg 91 · #5".into() },
            AdminText::NotBanned { user: "Анна @anna · tg 91 · #5".into() },
            AdminText::NoFailedJobs,
            AdminText::SupportRequest {
                user: "Анна @anna · tg 91 · #5".into(),
                request: 17,
                question: "Оплатила дважды, верните, пожалуйста, один платёж".into(),
            },
            AdminText::SupportAnswerSent { user: "Анна @anna · tg 91 · #5".into() },
            AdminText::SupportAnswerFailed { user: "Анна @anna · tg 91 · #5".into() },
            AdminText::RetryNotFailed,
            AdminText::RetryBanned,
            AdminText::AuditEmpty,
            AdminText::SendButton,
            AdminText::BroadcastNotCopyable,
            AdminText::BroadcastReport { sent: 120, blocked: 3, failed: 1, skipped: 0 },
            AdminText::Stats {
                users_total: 120,
                new: [3, 20, 80],
                active: [10, 40, 100],
                jobs: AdminText::StatsJob { kind: "transcribe".into(), status: "succeeded".into(), count: 7 }
                    .render(Lang::En),
                failed: [1, 2, 5],
                queue_depth: 2,
                oldest_seconds: 14,
                revenue: AdminText::StatsRevenue {
                    provider: "stars".into(),
                    currency: "XTR".into(),
                    paid: [dec("270"), dec("540"), dec("1080")],
                }
                .render(Lang::En),
                outstanding: dec("1234.5"),
                open_holds: 2,
                open_holds_amount: dec("45"),
                charged_today: dec("90"),
                charged_month: dec("1500"),
                stt_minutes: [dec("12.5"), dec("80"), dec("300.2")],
                images: [1, 10, 40],
                spend: [dec("0.12"), dec("0.88"), dec("3.4")],
            },
            AdminText::StatsJob { kind: "image".into(), status: "failed".into(), count: 1 },
            AdminText::StatsRevenue {
                provider: "yookassa".into(),
                currency: "RUB".into(),
                paid: [dec("0"), dec("149"), dec("548")],
            },
            AdminText::CardJob {
                when: "01.02 10:00".into(),
                kind: "transcribe".into(),
                status: "failed".into(),
                price: dec("0"),
                error: Some("provider_unavailable".into()),
            },
            AdminText::CardJob {
                when: "01.02 10:05".into(),
                kind: "image".into(),
                status: "succeeded".into(),
                price: dec("20"),
                error: None,
            },
            AdminText::CardPayment {
                when: "01.02 09:00".into(),
                provider: "stars".into(),
                amount: dec("100"),
                currency: "XTR".into(),
                credits: dec("100"),
                status: "succeeded".into(),
            },
            AdminText::AlreadySettled { status: "done" },
            AdminText::AlreadySettled { status: "cancelled" },
            AdminText::AlreadySettled { status: "failed" },
            AdminText::DebitTooLarge { needed: dec("50"), available: dec("12.5") },
            AdminText::RetryInsufficient { needed: dec("15"), available: dec("0") },
            AdminText::FailedJobs { jobs: "• …".into() },
            AdminText::Retried { job: "0193a1b2".into(), new_job: "0193a1c3".into(), price: dec("15") },
            AdminText::RetryAlready { new_job: "0193a1c3".into() },
            AdminText::Audit { user: None, lines: "• …".into() },
            AdminText::Audit { user: Some("Анна @anna · tg 91 · #5".into()), lines: "• …".into() },
            AdminText::AuditLine {
                id: 7,
                when: "01.02 10:00".into(),
                actor: "admin:90".into(),
                action: "credits.grant".into(),
                target: Some(5),
                reason: "goodwill".into(),
                change: r#"{"available":"10"} → {"available":"60"}"#.into(),
            },
            AdminText::AuditLine {
                id: 8,
                when: "01.02 10:01".into(),
                actor: "system".into(),
                action: "user.unban".into(),
                target: None,
                reason: String::new(),
                change: String::new(),
            },
        ];
        for usage in
            [Usage::User, Usage::Grant, Usage::Debit, Usage::Ban, Usage::Unban, Usage::Jobs, Usage::Broadcast]
        {
            all.push(AdminText::Usage(usage));
        }
        for ban_reason in [None, Some("spam".to_owned())] {
            all.push(AdminText::UserCard {
                user: "Анна @anna · tg 91 · #5".into(),
                language: "ru".into(),
                since: "01.12.2026".into(),
                referrer: "Олег @oleg · tg 90 · #4".into(),
                available: dec("21"),
                held: dec("1.5"),
                free_time: "3:00".into(),
                free_images: 10,
                plan: ban_reason
                    .is_none()
                    .then(|| "Plan Pro: 42 min and 3 pictures left, renews on 07.01.2027.".into()),
                blocked: ban_reason.is_some(),
                ban_reason,
                jobs: "• …".into(),
                payments: "• …".into(),
            });
        }
        for (grant, amount) in [(true, "1"), (true, "5"), (false, "2"), (false, "1.5")] {
            all.push(AdminText::ConfirmAdjustment {
                grant,
                amount: dec(amount),
                user: "Анна @anna · tg 91 · #5".into(),
                available: dec("10"),
                reason: "goodwill".into(),
            });
            all.push(AdminText::Adjusted {
                grant,
                amount: dec(amount),
                user: "Анна @anna · tg 91 · #5".into(),
                available: dec("11"),
            });
        }
        for (again, jobs_cancelled) in [(false, 0), (true, 0), (false, 2)] {
            all.push(AdminText::Banned {
                user: "Анна @anna · tg 91 · #5".into(),
                reason: "spam".into(),
                again,
                jobs_cancelled,
            });
        }
        for (audience, segment) in [(1, ""), (3, "lang=ru active=7 paid"), (25, "paid")] {
            all.push(AdminText::BroadcastPreview { audience, segment: segment.into() });
            all.push(AdminText::BroadcastStarted { recipients: audience });
        }
        for status in ["sending", "done", "cancelled"] {
            all.push(AdminText::BroadcastAlready { status });
        }
        for retried in [None, Some("0193a1c3".to_owned())] {
            all.push(AdminText::FailedJob {
                job: "0193a1b2".into(),
                kind: "transcribe".into(),
                user: "tg 91".into(),
                when: "01.02 10:00".into(),
                reason: "provider_unavailable".into(),
                retried,
            });
        }
        all
    }

    fn message_ids(source: &str) -> BTreeSet<String> {
        let resource =
            fluent_syntax::parser::parse(source).unwrap_or_else(|(_, errors)| panic!("{errors:?}"));
        resource
            .body
            .into_iter()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_admin_message_is_used_in_both_languages() {
        let mut used: BTreeSet<String> = samples().iter().map(|text| text.message_id().to_owned()).collect();
        used.extend(ADMIN_COMMANDS.iter().map(|command| format!("admin-command-{command}")));
        let ru = message_ids(super::super::i18n::RU_ADMIN_FTL);
        let en = message_ids(super::super::i18n::EN_ADMIN_FTL);
        assert_eq!(ru, en, "ru and en define different messages");
        assert_eq!(ru, used, "messages and texts differ");
    }

    #[test]
    fn every_admin_text_renders_in_both_languages() {
        let mut failures = Vec::new();
        for lang in Lang::iter() {
            for text in samples() {
                match text.try_render(lang) {
                    Ok(rendered) => assert!(!rendered.trim().is_empty(), "{text:?} in {lang} is empty"),
                    Err(err) => failures.push(err.to_string()),
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
        assert_ne!(AdminText::YouAreBanned.render(Lang::Ru), AdminText::YouAreBanned.render(Lang::En));
    }

    #[test]
    fn snapshots_of_every_admin_message() {
        let mut by_message: BTreeMap<&str, Vec<AdminText>> = BTreeMap::new();
        for text in samples() {
            by_message.entry(text.message_id()).or_default().push(text);
        }
        let indent = |text: String| text.lines().collect::<Vec<_>>().join("\n    ").replace("    \n", "\n");
        for (id, texts) in by_message {
            let mut shown = String::new();
            for text in texts {
                shown.push_str(&format!("── {text:?}\n"));
                for lang in Lang::iter() {
                    shown.push_str(&format!("{lang}: {}\n", indent(text.render(lang))));
                }
            }
            insta::assert_snapshot!(id, shown);
        }
        let mut menu = String::new();
        for lang in Lang::iter() {
            for (command, description) in admin_command_menu(lang) {
                assert!(
                    !description.starts_with("admin-command-"),
                    "/{command} has no description in {lang}"
                );
                menu.push_str(&format!("{lang}: /{command} — {description}\n"));
            }
        }
        insta::assert_snapshot!("admin-command-menu", menu);
    }
}
