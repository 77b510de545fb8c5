//! `/plan` in the bot: the plans on sale and the user's own, subscribing with
//! Stars (a subscription invoice link Telegram renews every 30 days) or through
//! YooKassa (a page that saves the card for renewals), and stopping or resuming
//! renewal.

use shared::telegram::Counted as _;
use shared::telegram::Telegram;

use shared::{
    billing::ledger::PlanBalance,
    billing::plans::{PLAN_PERIOD_SECONDS, Plan},
    entities::{payments::PaymentProvider, users::Model as User},
    payments::{
        self,
        packages::CreditPackage,
        subscriptions::{self, Subscription, SubscriptionStatus},
        yookassa,
    },
    telegram::buttons::{Callback, PayMethod},
    texts::{i18n::Text, plans::PlanText},
};
use teloxide::{
    payloads::{CreateInvoiceLinkSetters, SendMessageSetters},
    prelude::Requester,
    types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice, Seconds},
};

use crate::startup::AppState;

/// `user`'s plan, what is left of it and whether it renews, in `lang`; `None` outside a plan.
pub async fn current_line(
    state: &AppState,
    user: &User,
    plan: Option<&PlanBalance>,
    lang: shared::texts::i18n::Lang,
) -> anyhow::Result<Option<String>> {
    if plan.is_none() {
        return Ok(None);
    }
    let live = subscriptions::live_of(&state.db, user.id).await?;
    Ok(plan_line(state, plan, live.as_ref(), lang))
}

/// The line of `plan` as [`current_line`] words it, `live` being the user's paid subscription.
fn plan_line(
    state: &AppState,
    plan: Option<&PlanBalance>,
    live: Option<&Subscription>,
    lang: shared::texts::i18n::Lang,
) -> Option<String> {
    let plan = plan?;
    let text = PlanText::Current {
        name: plan.period.name.clone(),
        minutes_left: plan.seconds_left / 60,
        images_left: plan.images_left,
        renews: live.is_some_and(|live| live.status == SubscriptionStatus::Active),
        until: state.ledger.local_date(plan.period.ends_at),
    };
    Some(text.render(lang))
}

/// `/plan`: the user's plan, the plans on sale, and the buttons that fit.
pub async fn show(bot: &Telegram, chat: ChatId, state: &AppState, user: &User) -> anyhow::Result<()> {
    let lang = user.language;
    let plans = &state.ledger.pricing().plans;
    if plans.is_empty() {
        bot.send_message(chat, PlanText::Unavailable.render(lang)).counted().await?;
        return Ok(());
    }
    let balance = state.ledger.balance(&state.db, user.id).await?;
    let live = subscriptions::live_of(&state.db, user.id).await?;
    let mut lines = vec![
        plan_line(state, balance.plan.as_ref(), live.as_ref(), lang)
            .unwrap_or_else(|| PlanText::None.render(lang)),
        String::new(),
        PlanText::Choose.render(lang),
    ];
    for plan in &plans.0 {
        lines.push(
            PlanText::Offer {
                name: plan.name.clone(),
                minutes: plan.minutes,
                images: plan.images,
                discount: plan.discount_percent,
                price: plan.price_rub,
                stars: plan.price_stars,
            }
            .render(lang),
        );
    }
    let mut rows = Vec::new();
    match live {
        Some(live) if live.status == SubscriptionStatus::Active => {
            rows.push(vec![InlineKeyboardButton::callback(
                PlanText::CancelButton.render(lang),
                Callback::PlanCancel.encode(),
            )])
        }
        Some(live) if live.provider == PaymentProvider::Stars && live.telegram_charge_id.is_some() => {
            rows.push(vec![InlineKeyboardButton::callback(
                PlanText::ResumeButton.render(lang),
                Callback::PlanResume.encode(),
            )]);
        }
        Some(_) => {}
        None => {
            for (index, plan) in plans.0.iter().enumerate() {
                let Ok(index) = u8::try_from(index) else { break };
                rows.push(vec![InlineKeyboardButton::callback(
                    PlanText::StarsButton { name: plan.name.clone(), stars: plan.price_stars }.render(lang),
                    Callback::Subscribe { index, method: PayMethod::Stars }.encode(),
                )]);
                if state.yookassa.is_some() {
                    rows.push(vec![InlineKeyboardButton::callback(
                        PlanText::CardButton { name: plan.name.clone(), price: plan.price_rub }.render(lang),
                        Callback::Subscribe { index, method: PayMethod::YooKassa }.encode(),
                    )]);
                }
            }
        }
    }
    bot.send_message(chat, lines.join("\n")).reply_markup(InlineKeyboardMarkup::new(rows)).counted().await?;
    Ok(())
}

/// Starts a subscription to plan `index`: a Stars subscription link, or a
/// YooKassa page that saves the card. A user inside a plan is told so instead.
pub async fn subscribe(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
    index: u8,
    method: PayMethod,
) -> anyhow::Result<()> {
    let lang = user.language;
    let Some(plan) = state.ledger.pricing().plans.0.get(usize::from(index)) else {
        bot.send_message(chat, PlanText::Unavailable.render(lang)).counted().await?;
        return Ok(());
    };
    if let Some(live) = subscriptions::live_of(&state.db, user.id).await? {
        let until = live.paid_until.map(|at| state.ledger.local_date(at)).unwrap_or_default();
        let name = live.name;
        bot.send_message(chat, PlanText::Already { name, until }.render(lang)).counted().await?;
        return Ok(());
    }
    let (text, url) = match method {
        PayMethod::Stars => (
            PlanText::PayStars { name: plan.name.clone(), stars: plan.price_stars },
            stars_link(bot, state, user, plan).await?,
        ),
        PayMethod::YooKassa => {
            let Some(client) = &state.yookassa else {
                bot.send_message(chat, Text::PaymentsUnavailable.render(lang)).counted().await?;
                return Ok(());
            };
            match card_link(state, client, user, plan).await? {
                Some(url) => (PlanText::PayByLink { name: plan.name.clone(), price: plan.price_rub }, url),
                None => {
                    bot.send_message(chat, Text::PaymentsUnavailable.render(lang)).counted().await?;
                    return Ok(());
                }
            }
        }
        PayMethod::Card => {
            bot.send_message(chat, PlanText::Unavailable.render(lang)).counted().await?;
            return Ok(());
        }
    };
    let button = InlineKeyboardButton::url(Text::PayButton.render(lang), url.parse()?);
    bot.send_message(chat, text.render(lang))
        .reply_markup(InlineKeyboardMarkup::new([[button]]))
        .counted()
        .await?;
    Ok(())
}

/// A Stars subscription invoice link for `plan`; its payload is the first payment's id.
async fn stars_link(bot: &Telegram, state: &AppState, user: &User, plan: &Plan) -> anyhow::Result<String> {
    let lang = user.language;
    let (_, payment_id, _) = subscriptions::create(&state.db, user.id, plan, PaymentProvider::Stars).await?;
    let title = PlanText::InvoiceTitle { name: plan.name.clone() }.render(lang);
    let description =
        PlanText::InvoiceDescription { minutes: plan.minutes, images: plan.images }.render(lang);
    let link = bot
        .create_invoice_link(
            title.clone(),
            description,
            payment_id.to_string(),
            "XTR",
            [LabeledPrice::new(title, plan.price_stars)],
        )
        .subscription_period(Seconds::from_seconds(PLAN_PERIOD_SECONDS))
        .counted()
        .await?;
    Ok(link)
}

/// A YooKassa page paying the first period of `plan` and saving the card;
/// `None` when YooKassa refused.
async fn card_link(
    state: &AppState,
    client: &yookassa::YooKassa,
    user: &User,
    plan: &Plan,
) -> anyhow::Result<Option<String>> {
    let (_, payment_id, amount) =
        subscriptions::create(&state.db, user.id, plan, PaymentProvider::YooKassa).await?;
    let created = client
        .create_payment(&yookassa::NewPayment {
            payment_id,
            user_id: user.id,
            amount_rub: amount,
            description: PlanText::InvoiceTitle { name: plan.name.clone() }.render(user.language),
            method: yookassa::PayWith::PageAndSave,
        })
        .await;
    let created = match created {
        Ok(created) => created,
        Err(err) => {
            tracing::error!(error = %err, "YooKassa refused a plan's first payment");
            return Ok(None);
        }
    };
    payments::attach_provider_id(&state.db, payment_id, &created.id).await?;
    Ok(created.confirmation.and_then(|confirmation| confirmation.confirmation_url))
}

/// What asking to stop or resume a plan's renewal did.
pub enum RenewalChange {
    /// The user has no plan in the state the change starts from.
    NotApplicable,
    /// Telegram refused to change the Stars subscription; nothing changed.
    Refused,
    /// Changed; the plan as it is now.
    Changed(Option<Subscription>),
}

/// Stops (`renew` false) or resumes the user's plan's renewal. Telegram is told
/// first for a Stars plan, so our books never say a plan stopped that goes on charging.
pub async fn change_renewal(
    bot: &Telegram,
    state: &AppState,
    user: &User,
    renew: bool,
) -> anyhow::Result<RenewalChange> {
    let live = subscriptions::live_of(&state.db, user.id).await?;
    let wanted = if renew { SubscriptionStatus::Canceled } else { SubscriptionStatus::Active };
    let Some(live) = live.filter(|live| live.status == wanted) else {
        return Ok(RenewalChange::NotApplicable);
    };
    if let Err(err) = subscriptions::set_at_telegram(bot, user.telegram_id, &live, !renew).await {
        tracing::warn!(error = %err, subscription = %live.id, "Telegram refused to change a Stars subscription");
        return Ok(RenewalChange::Refused);
    }
    let changed = if renew {
        subscriptions::resume(&state.db, user.id).await?
    } else {
        subscriptions::cancel(&state.db, user.id).await?
    };
    Ok(RenewalChange::Changed(changed))
}

/// `/plan`'s cancel and resume buttons: [`change_renewal`], and the user told.
pub async fn set_renewal(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
    renew: bool,
) -> anyhow::Result<()> {
    let lang = user.language;
    let text = match change_renewal(bot, state, user, renew).await? {
        RenewalChange::Refused => Text::PaymentsUnavailable.render(lang),
        RenewalChange::Changed(changed) => renewal_text(state, changed.as_ref(), renew).render(lang),
        RenewalChange::NotApplicable => PlanText::NotCanceled.render(lang),
    };
    bot.send_message(chat, text).counted().await?;
    Ok(())
}

/// What the user is told of a plan whose renewal was just stopped or resumed.
pub fn renewal_text(state: &AppState, changed: Option<&Subscription>, renew: bool) -> PlanText {
    match changed.and_then(|changed| changed.paid_until) {
        Some(until) if renew => PlanText::Resumed { until: state.ledger.local_date(until) },
        Some(until) => PlanText::Canceled { until: state.ledger.local_date(until) },
        None => PlanText::NotCanceled,
    }
}

/// `package` at the price `user` pays now: less their plan's discount.
pub async fn package_for(
    state: &AppState,
    user: &User,
    package: &CreditPackage,
) -> anyhow::Result<CreditPackage> {
    Ok(package.discounted(discount_for(state, user.id).await?))
}

/// The discount on packages of the plan `user_id` is inside now, in percent.
pub async fn discount_for(state: &AppState, user_id: shared::ids::UserId) -> anyhow::Result<u32> {
    let now = chrono::Utc::now();
    let period = state.ledger.plan_period_at(&state.db, user_id, now).await?;
    Ok(period.map_or(0, |period| period.terms.discount_percent))
}

/// After a refund of a plan's Stars payment (which ended the plan in our books), asks
/// Telegram to stop renewing it too; a refusal is only logged (a later renewal would
/// start a new period the user paid for).
pub async fn stop_refunded(bot: &Telegram, state: &AppState, payment: &shared::entities::payments::Model) {
    let stopped = async {
        let Some(plan) = subscriptions::of_payment(&state.db, payment.id).await? else { return Ok(()) };
        let Some(payer) = shared::people::users::find(&state.db, payment.user_id).await? else {
            return Ok(());
        };
        subscriptions::set_at_telegram(bot, payer.telegram_id, &plan, true).await
    };
    if let Err(err) = stopped.await {
        let err: anyhow::Error = err;
        tracing::warn!(payment_id = %payment.id, error = format!("{err:#}"), "could not stop a refunded plan at Telegram");
    }
}

/// Bot API's `BotSubscriptionUpdated`: a user changed their Stars subscription in Telegram.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SubscriptionUpdate {
    /// Who.
    pub user: teloxide::types::User,
    /// The subscription invoice's payload: our first payment's id.
    pub invoice_payload: String,
    /// What it became.
    pub state: SubscriptionState,
}

/// The state a Stars subscription moved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionState {
    /// The user cancelled its renewal.
    Canceled,
    /// The user re-enabled it.
    Active,
    /// Its renewal could not be paid.
    Failed,
}

/// The `subscription` field of an update's body, if it has one.
pub fn subscription_update(body: &[u8]) -> Option<SubscriptionUpdate> {
    #[derive(serde::Deserialize)]
    struct Body {
        subscription: SubscriptionUpdate,
    }
    serde_json::from_slice::<Body>(body).ok().map(|body| body.subscription)
}

/// Follows a change the user made to their Stars plan in Telegram: a cancelled
/// or failed renewal leaves the plan to run out at the end of what was paid
/// (maintenance then ends it without waiting for a renewal), a re-enabled one
/// renews again. Only the user's running plan bought with that invoice moves,
/// and the user is told. Telegram's repeats are taken once by update id, and a
/// state the plan is already in changes nothing.
pub async fn on_subscription_update(
    bot: &Telegram,
    state: &AppState,
    update: &SubscriptionUpdate,
) -> anyhow::Result<()> {
    let live = match update.invoice_payload.parse::<shared::ids::PaymentId>() {
        Ok(payment_id) => subscriptions::of_payment(&state.db, payment_id).await?,
        Err(_) => None,
    };
    let payer = shared::ids::TelegramUserId(i64::try_from(update.user.id.0)?);
    let owner = match &live {
        Some(plan) => shared::people::users::find(&state.db, plan.user_id).await?,
        None => None,
    };
    let (Some(plan), Some(user)) = (live, owner) else {
        tracing::warn!(payload = %update.invoice_payload, "a subscription update for no plan of ours");
        return Ok(());
    };
    let current = subscriptions::live_of(&state.db, plan.user_id).await?;
    if user.telegram_id != payer || current.as_ref().map(|live| live.id) != Some(plan.id) {
        tracing::warn!(subscription = %plan.id, "a subscription update for a plan that is not running, or not the payer's");
        return Ok(());
    }
    let renew = update.state == SubscriptionState::Active;
    let changed = if renew {
        subscriptions::resume(&state.db, plan.user_id).await?
    } else {
        subscriptions::cancel(&state.db, plan.user_id).await?
    };
    let Some(changed) = changed.filter(|changed| changed.status != plan.status) else { return Ok(()) };
    tracing::info!(subscription = %plan.id, state = ?update.state, "a Stars plan changed in Telegram");
    let until = changed.paid_until.map(|at| state.ledger.local_date(at)).unwrap_or_default();
    let text = match update.state {
        SubscriptionState::Failed => PlanText::StarsRenewalFailed { name: changed.name.clone(), until },
        _ => renewal_text(state, Some(&changed), renew),
    };
    bot.send_message(user.telegram_id.private_chat(), text.render(user.language)).counted().await?;
    Ok(())
}
