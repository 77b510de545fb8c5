//! Maintenance of plans: YooKassa plans renewed with the saved card, plans
//! whose last period is over ended, and second plans paid while one ran given
//! back.

use shared::telegram::Counted as _;
use teloxide::prelude::Requester;

use super::{CALL_TIMEOUT, Maintenance, answered, send_logged, tell_payer};
use shared::{
    entities::payments::PaymentProvider,
    operations::{audit::Actor, refunds},
    payments::{self, subscriptions, yookassa::YooKassa},
    texts::{i18n::Text, plans::PlanText},
};

/// How long before a YooKassa plan's period ends its renewal is charged.
pub const RENEW_AHEAD: chrono::Duration = chrono::Duration::days(1);
/// How long a failed renewal waits before it is tried again.
pub const RENEWAL_RETRY_AFTER: chrono::Duration = chrono::Duration::hours(6);
/// Failed renewals after which a plan stops renewing and its user is told.
pub const RENEWAL_ATTEMPTS: u32 = 3;
/// How long past its end a renewing Stars plan waits for Telegram's renewal before it ends.
pub const STARS_RENEWAL_GRACE: chrono::Duration = chrono::Duration::hours(12);

/// Charges the saved card of YooKassa plans about to end, once per period and
/// attempt (the payment's id is the idempotence key, so a tick retried after a
/// timeout charges nothing twice). A refused charge is tried again later, and
/// after [`RENEWAL_ATTEMPTS`] the plan stops renewing and its user is told.
pub(super) async fn renew(m: &Maintenance, client: &YooKassa) -> anyhow::Result<usize> {
    use tracing::Instrument as _;
    let mut renewed = 0;
    for due in subscriptions::due_renewals(&m.db, chrono::Utc::now(), RENEW_AHEAD).await? {
        let span = tracing::info_span!("plan renewal", subscription = %due.id, plan = %due.plan);
        if renew_one(m, client, &due).instrument(span).await? {
            renewed += 1;
        }
    }
    Ok(renewed)
}

/// One renewal attempt of `due`; true when it was paid.
async fn renew_one(
    m: &Maintenance,
    client: &YooKassa,
    due: &subscriptions::Subscription,
) -> anyhow::Result<bool> {
    use shared::payments::yookassa;
    let Some(method) = due.payment_method_id.clone() else { return Ok(false) };
    let name = due.name.clone();
    let until = due.paid_until.map(|at| m.ledger.local_date(at)).unwrap_or_default();
    let (payment_id, amount) = subscriptions::renewal_payment(&m.db, due).await?;
    let new = yookassa::NewPayment {
        payment_id,
        user_id: due.user_id,
        amount_rub: amount,
        description: format!("{name}, 30 days"),
        method: yookassa::PayWith::Saved(method),
    };
    let Some(fetched) = answered("YooKassa, charging a renewal", client.create_payment(&new)).await else {
        return Ok(false);
    };
    payments::attach_provider_id(&m.db, payment_id, &fetched.id).await?;
    // YooKassa's notification may settle it first; whoever settles it tells the user.
    let outcome = payments::apply_yookassa(&m.db, &m.ledger, &fetched, m.referral_percent).await?;
    match fetched.status {
        yookassa::PaymentStatus::Succeeded => {
            tracing::info!(%payment_id, "plan renewed");
            tell_payer(m, &outcome, payment_id).await?;
            Ok(true)
        }
        yookassa::PaymentStatus::Canceled => {
            let reason = fetched.cancellation_details.as_ref().map_or("unknown", |d| d.reason.as_str());
            tracing::warn!(%payment_id, reason, failures = due.renewal_failures + 1, "a renewal was refused");
            if subscriptions::renewal_failed(&m.db, due.id, RENEWAL_RETRY_AFTER, RENEWAL_ATTEMPTS).await? {
                tell_user(m, due.user_id, |lang| PlanText::RenewalFailed { name, until }.render(lang))
                    .await?;
            }
            Ok(false)
        }
        // Still pending (say, the bank asks the payer): reconciliation settles it.
        yookassa::PaymentStatus::Pending | yookassa::PaymentStatus::WaitingForCapture => Ok(false),
    }
}

/// Stops the renewal of plans taken off a `SUBSCRIPTION_PLANS` that still sells
/// others (a Stars plan at Telegram first): each runs to the end of what was
/// paid, and its user is told. An empty list only stops sales: a worker
/// started without the list must not end every plan, and a subscription
/// carries its own price and terms.
pub(super) async fn withdraw(m: &Maintenance) -> anyhow::Result<usize> {
    let on_sale = &m.ledger.pricing().plans;
    if on_sale.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = on_sale.0.iter().map(shared::billing::plans::Plan::id).collect();
    let mut withdrawn = 0;
    for plan in subscriptions::renewing_off_sale(&m.db, &ids).await? {
        let Some(user) = shared::people::users::find(&m.db, plan.user_id).await? else { continue };
        let stopped = subscriptions::set_at_telegram(&m.bot, user.telegram_id, &plan, true);
        if answered("Telegram, cancelling a Stars plan taken off sale", stopped).await.is_none() {
            continue;
        }
        let Some(cancelled) = subscriptions::cancel(&m.db, plan.user_id).await? else { continue };
        tracing::info!(subscription = %plan.id, plan = %plan.plan, "a plan taken off sale stops renewing");
        withdrawn += 1;
        let until = cancelled.paid_until.map(|at| m.ledger.local_date(at)).unwrap_or_default();
        tell_user(m, plan.user_id, |lang| PlanText::Withdrawn { name: cancelled.name, until }.render(lang))
            .await?;
    }
    Ok(withdrawn)
}

/// Ends plans whose last period is over and tells their users.
pub(super) async fn end(m: &Maintenance) -> anyhow::Result<usize> {
    let ended = subscriptions::end_expired(&m.db, chrono::Utc::now(), STARS_RENEWAL_GRACE).await?;
    for plan in &ended {
        tracing::info!(subscription = %plan.id, plan = %plan.plan, "plan ended");
        let name = plan.name.clone();
        tell_user(m, plan.user_id, |lang| PlanText::Ended { name }.render(lang)).await?;
    }
    Ok(ended.len())
}

/// Gives back every charge of a plan paid while another of the user's plans
/// ran, each once: a YooKassa refund (its idempotence key is the payment's, so
/// a tick retried after a timeout refunds nothing twice), or the Stars
/// subscription cancelled at Telegram and the Stars refunded. What fails is
/// tried again next tick.
pub(super) async fn refund_duplicates(m: &Maintenance) -> anyhow::Result<usize> {
    use tracing::Instrument as _;
    let mut refunded = 0;
    for payment in subscriptions::duplicates_to_refund(&m.db).await? {
        let span = tracing::info_span!("duplicate plan refund", payment_id = %payment.id);
        let applied = match payment.provider {
            PaymentProvider::Stars => refund_stars(m, &payment).instrument(span).await?,
            _ => refund_card(m, &payment).instrument(span).await?,
        };
        let Some(applied) = applied else { continue };
        refunded += 1;
        if applied.replayed {
            continue;
        }
        let notice = match payment.provider {
            PaymentProvider::Stars => {
                Text::RefundedToYou { stars: applied.amount, credits: applied.credits_taken }
            }
            _ => Text::RefundedByCard { amount: applied.amount, credits: applied.credits_taken },
        };
        tell_user(m, payment.user_id, |lang| notice.render(lang)).await?;
    }
    Ok(refunded)
}

/// Refunds a duplicate YooKassa charge whole; `None` until YooKassa says it succeeded
/// (a pending refund is applied by its `refund.succeeded` notification or a later tick).
async fn refund_card(
    m: &Maintenance,
    payment: &shared::entities::payments::Model,
) -> anyhow::Result<Option<refunds::AppliedRefund>> {
    let (Some(client), Some(kassa_id)) = (&m.yookassa, payment.provider_payment_id.as_deref()) else {
        tracing::error!("a duplicate card payment waits for YooKassa settings to be refunded");
        return Ok(None);
    };
    // An admin may have given part of it back already.
    let left = refunds::unrefunded(&m.db, payment).await?;
    if left.is_zero() || left.is_sign_negative() {
        return Ok(None);
    }
    let description = format!("Refund of payment {}: a second plan paid while one ran", payment.id);
    let key = format!("duplicate-{}", payment.id);
    let created = client.create_refund(kassa_id, left, &description, &key);
    let Some(fetched) = answered("YooKassa, refunding a duplicate plan", created).await else {
        return Ok(None);
    };
    Ok(refunds::apply_yookassa(&m.db, &m.ledger, &fetched, Actor::System).await?)
}

/// Cancels a duplicate Stars plan at Telegram, so it never renews, and refunds the charge.
async fn refund_stars(
    m: &Maintenance,
    payment: &shared::entities::payments::Model,
) -> anyhow::Result<Option<refunds::AppliedRefund>> {
    let (Some(charge), Some(payer)) =
        (payment.provider_payment_id.clone(), shared::people::users::find(&m.db, payment.user_id).await?)
    else {
        return Ok(None);
    };
    if let Some(plan) = subscriptions::of_payment(&m.db, payment.id).await? {
        let cancelled = tokio::time::timeout(
            CALL_TIMEOUT,
            subscriptions::set_at_telegram(&m.bot, payer.telegram_id, &plan, true),
        );
        // Already cancelled, or over: the refund goes ahead either way.
        match cancelled.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(error = format!("{err:#}"), "Telegram did not cancel a duplicate plan")
            }
            Err(_) => tracing::warn!("Telegram did not answer editUserStarSubscription"),
        }
    }
    let refund = m.bot.refund_star_payment(
        teloxide::types::UserId::try_from(payer.telegram_id)?,
        teloxide::types::TelegramTransactionId(charge.clone()),
    );
    let refunded = async {
        match refund.counted().await {
            // Refunded before (a tick that died after Telegram's answer): record it now.
            Err(err) if err.to_string().contains("CHARGE_ALREADY_REFUNDED") => Ok(()),
            answer => answer.map(drop),
        }
    };
    if answered("Telegram, refunding a duplicate plan's Stars", refunded).await.is_none() {
        return Ok(None);
    }
    let stars = payment.amount.try_into().unwrap_or(u32::MAX);
    Ok(refunds::apply_stars_refunded(&m.db, &m.ledger, &charge, stars).await?)
}

/// Sends what `render` writes in a user's language; a failed message is only logged.
async fn tell_user(
    m: &Maintenance,
    user_id: shared::ids::UserId,
    render: impl FnOnce(shared::texts::i18n::Lang) -> String,
) -> anyhow::Result<()> {
    let Some(user) = shared::people::users::find(&m.db, user_id).await? else { return Ok(()) };
    send_logged(m, user.telegram_id.private_chat(), render(user.language)).await;
    Ok(())
}
