//! Payments in the bot: `/buy`, YooKassa links and notifications, Stars invoices.

use shared::telegram::Counted as _;
use shared::telegram::Telegram;
use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
};
use sea_orm::TransactionTrait;
use shared::{
    billing::ledger::LedgerError,
    entities::{
        payments::{PaymentProvider, PaymentStatus},
        users::Model as User,
    },
    ids::{PaymentId, TelegramUserId},
    operations::{
        audit,
        refunds::{self, StarsRefund},
    },
    payments::yookassa::{self, Notification},
    payments::{self, CheckoutError as PaymentCheckoutError, PaymentError, packages::CreditPackage},
    texts::i18n::{PaymentState, PaymentVia, Text},
};
use teloxide::{
    payloads::{AnswerPreCheckoutQuerySetters, SendInvoiceSetters, SendMessageSetters},
    prelude::{Message, Requester},
    types::{
        ChatId, InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice, MessageKind,
        MessageRefundedPayment, PreCheckoutQuery, TelegramTransactionId, UserId,
    },
};

use shared::telegram::buttons::{Callback, PayMethod};

use crate::startup::AppState;

/// Shows the packages with one button per available way to pay.
pub async fn show_packages(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
) -> anyhow::Result<()> {
    let lang = user.language;
    let mut rows = Vec::new();
    let discount = crate::plans::discount_for(state, user.id).await?;
    for package in &state.settings.packages.0 {
        let package = &package.discounted(discount);
        let credits = package.total_credits().amount();
        if state.yookassa.is_some() {
            rows.push(vec![InlineKeyboardButton::callback(
                Text::PackageRub { credits, price: package.price_rub }.render(lang),
                Callback::Pay { credits: package.credits, method: PayMethod::YooKassa }.encode(),
            )]);
        }
        if state.settings.telegram.payment_provider_token.is_some() {
            rows.push(vec![InlineKeyboardButton::callback(
                Text::PackageCard { credits, price: package.price_rub }.render(lang),
                Callback::Pay { credits: package.credits, method: PayMethod::Card }.encode(),
            )]);
        }
        rows.push(vec![InlineKeyboardButton::callback(
            Text::PackageStars { credits, stars: package.price_stars }.render(lang),
            Callback::Pay { credits: package.credits, method: PayMethod::Stars }.encode(),
        )]);
    }
    bot.send_message(chat, Text::ChoosePackage.render(lang))
        .reply_markup(InlineKeyboardMarkup::new(rows))
        .counted()
        .await?;
    Ok(())
}

/// Starts paying for a package: a YooKassa link, or a Stars invoice.
pub async fn start_payment(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
    credits: u32,
    method: PayMethod,
) -> anyhow::Result<()> {
    let lang = user.language;
    let Some(package) = state.settings.packages.find(&format!("p{credits}")) else {
        bot.send_message(chat, Text::PaymentRefused.render(lang)).counted().await?;
        return Ok(());
    };
    // A plan's discount applies to the price asked, so pre-checkout compares with it.
    let package = crate::plans::package_for(state, user, package).await?;
    match method {
        PayMethod::YooKassa => {
            let Some(client) = &state.yookassa else {
                bot.send_message(chat, Text::PaymentsUnavailable.render(lang)).counted().await?;
                return Ok(());
            };
            let description = Text::InvoiceTitle { credits: package.total_credits().amount() }.render(lang);
            let url =
                match payments::checkout_yookassa(&state.db, client, user.id, &package, description).await {
                    Ok(url) => url,
                    Err(PaymentCheckoutError::Db(err)) => return Err(err.into()),
                    Err(err) => {
                        tracing::error!(error = %err, "YooKassa checkout failed");
                        bot.send_message(chat, Text::PaymentsUnavailable.render(lang)).counted().await?;
                        return Ok(());
                    }
                };
            let Ok(url) = url.parse() else {
                bot.send_message(chat, Text::PaymentsUnavailable.render(lang)).counted().await?;
                return Ok(());
            };
            bot.send_message(
                chat,
                Text::PayByLink { credits: package.total_credits().amount(), price: package.price_rub }
                    .render(lang),
            )
            .reply_markup(InlineKeyboardMarkup::new([[InlineKeyboardButton::url(
                Text::PayButton.render(lang),
                url,
            )]]))
            .counted()
            .await?;
        }
        PayMethod::Stars => send_invoice(bot, chat, state, user, &package, PaymentProvider::Stars).await?,
        PayMethod::Card => {
            if state.settings.telegram.payment_provider_token.is_none() {
                bot.send_message(chat, Text::PaymentsUnavailable.render(lang)).counted().await?;
                return Ok(());
            }
            send_invoice(bot, chat, state, user, &package, PaymentProvider::Telegram).await?;
        }
    }
    Ok(())
}

/// A Telegram invoice for a pending payment of `package`: Stars, or roubles
/// through the configured provider.
async fn send_invoice(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    user: &User,
    package: &CreditPackage,
    provider: PaymentProvider,
) -> anyhow::Result<()> {
    let lang = user.language;
    let payment = payments::create_pending(&state.db, user.id, package, provider).await?;
    let total = rust_decimal::prelude::ToPrimitive::to_u32(
        &(payment.amount * payments::minor_units(&payment.currency)),
    )
    .ok_or_else(|| {
        anyhow::anyhow!("price {} {} does not fit an invoice", payment.amount, payment.currency)
    })?;
    let title = Text::InvoiceTitle { credits: package.total_credits().amount() }.render(lang);
    // Stars need no payment provider.
    let token = match provider {
        PaymentProvider::Stars => String::new(),
        _ => state
            .settings
            .telegram
            .payment_provider_token
            .as_ref()
            .map(|t| t.expose().to_owned())
            .unwrap_or_default(),
    };
    bot.send_invoice(
        chat,
        title.clone(),
        Text::InvoiceDescription.render(lang),
        payment.id.to_string(),
        payment.currency.clone(),
        [LabeledPrice::new(title, total)],
    )
    .provider_token(token)
    .counted()
    .await?;
    Ok(())
}

/// Answers Telegram's last check before charging: only our own, unpaid,
/// unchanged invoice of this user is accepted.
pub async fn on_pre_checkout(bot: Telegram, query: PreCheckoutQuery, state: AppState) -> anyhow::Result<()> {
    // A banned user pays for nothing: their credits could not be used.
    let banned = shared::people::users::find_by_telegram_id(&state.db, TelegramUserId::from(query.from.id))
        .await?
        .is_some_and(|payer| payer.is_banned());
    let valid = !banned
        && payments::accept_pre_checkout(
            &state.db,
            &state.settings.packages,
            &state.ledger.pricing().plans,
            &query.invoice_payload,
            TelegramUserId::from(query.from.id),
            &query.currency,
            query.total_amount,
        )
        .await?;
    let request = bot.answer_pre_checkout_query(query.id.clone(), valid);
    if valid {
        request.counted().await?;
    } else {
        let payer =
            shared::people::users::find_by_telegram_id(&state.db, TelegramUserId::from(query.from.id))
                .await?;
        let lang = payer.map(|u| u.language).unwrap_or_default();
        tracing::warn!(payload = %query.invoice_payload, "pre-checkout refused");
        request.error_message(Text::PaymentRefused.render(lang)).counted().await?;
    }
    Ok(())
}

/// Credits a Telegram (Stars or card) payment once per charge id. The report
/// is recorded first, so a failure after it is repaired by maintenance.
pub async fn on_successful_payment(bot: Telegram, msg: Message, state: AppState) -> anyhow::Result<()> {
    let Some(paid) = msg.successful_payment() else { return Ok(()) };
    let Ok(payment_id) = paid.invoice_payload.parse::<PaymentId>() else {
        tracing::error!(payload = %paid.invoice_payload, "successful payment with a foreign payload");
        return Ok(());
    };
    let charge = payments::TelegramCharge {
        payment_id,
        charge_id: paid.telegram_payment_charge_id.0.clone(),
        currency: paid.currency.clone(),
        total_amount: paid.total_amount,
        raw: serde_json::to_value(paid)?,
    };
    payments::record_telegram_charge(&state.db, &charge).await?;
    let outcome =
        payments::settle_telegram_charge(&state.db, &state.ledger, &charge, state.settings.referral_percent)
            .await?;
    if let Some((chat, text)) = payments::notice_for(&state.db, &state.ledger, &outcome).await? {
        bot.send_message(chat, text).counted().await?;
    }
    Ok(())
}

/// Whether `msg` is Telegram's word that a payment was refunded.
pub fn is_refunded_payment(msg: &Message) -> bool {
    matches!(msg.kind, MessageKind::RefundedPayment(_))
}

/// A Stars payment refunded, by our `/refund` or by Telegram itself: its credits come back down
/// to zero (what was spent is the recorded shortfall), once per charge, and the payer is told.
/// The message that follows our own refund finds it applied and changes nothing.
pub async fn on_refunded_payment(bot: Telegram, msg: Message, state: AppState) -> anyhow::Result<()> {
    let MessageKind::RefundedPayment(MessageRefundedPayment { refunded_payment: refunded }) = &msg.kind
    else {
        return Ok(());
    };
    let charge = refunded.telegram_payment_charge_id.0.as_str();
    let applied =
        match refunds::apply_stars_refunded(&state.db, &state.ledger, charge, refunded.total_amount).await {
            Ok(Some(applied)) => applied,
            Ok(None) => {
                tracing::warn!(
                    charge,
                    "a refund of no Stars payment of ours still to refund: unknown, or refunded whole before"
                );
                return Ok(());
            }
            Err(err) => return Err(err.into()),
        };
    if applied.replayed {
        return Ok(());
    }
    tracing::info!(charge, payment_id = %applied.payment.id, shortfall = %applied.shortfall(), "Stars refund applied");
    crate::plans::stop_refunded(&bot, &state, &applied.payment).await;
    let notice = Text::RefundedToYou { stars: applied.amount, credits: applied.credits_taken };
    tell_payer_of(&bot, &state, &applied, notice).await
}

/// How a payment's status reads to users.
pub fn payment_state(status: PaymentStatus) -> PaymentState {
    match status {
        PaymentStatus::Pending => PaymentState::Pending,
        PaymentStatus::Succeeded => PaymentState::Paid,
        PaymentStatus::Canceled => PaymentState::Canceled,
        PaymentStatus::Refunded => PaymentState::Refunded,
    }
}

/// Who took a payment, as users read it.
pub fn payment_via(provider: PaymentProvider) -> PaymentVia {
    match provider {
        PaymentProvider::YooKassa => PaymentVia::YooKassa,
        PaymentProvider::Telegram => PaymentVia::TelegramCard,
        PaymentProvider::Stars => PaymentVia::Stars,
    }
}

/// `/refund <id>` (admins): a Stars charge id or a YooKassa payment id. The
/// money goes back to the payer and the credits (with the share of a referral
/// bonus the purchase earned) come back, or the admin is told why not and
/// nothing changes.
#[tracing::instrument(skip_all, fields(admin = admin.telegram_id.0, id))]
pub async fn refund(
    bot: &Telegram,
    chat: ChatId,
    state: &AppState,
    admin: &User,
    id: &str,
) -> anyhow::Result<()> {
    let lang = admin.language;
    let id = id.trim();
    let text = if id.is_empty() {
        Text::RefundUsage
    } else if let (Some(kassa), Some(payment)) =
        (&state.yookassa, refunds::yookassa_payment(&state.db, id).await?)
    {
        refund_by_card(bot, state, kassa, admin, payment).await?
    } else {
        refund_stars(bot, state, admin, id).await?
    };
    bot.send_message(chat, text.render(lang)).counted().await?;
    Ok(())
}

/// Gives the Stars of `charge_id` back: the books change in one transaction
/// that commits only once Telegram has returned the Stars.
async fn refund_stars(
    bot: &Telegram,
    state: &AppState,
    admin: &User,
    charge_id: &str,
) -> anyhow::Result<Text> {
    let txn = state.db.begin().await?;
    let actor = audit::Actor::Admin(admin.telegram_id);
    Ok(match refunds::prepare_stars_refund(&txn, &state.ledger, charge_id, actor).await {
        Ok(StarsRefund::NotFound) => Text::RefundNotFound,
        Ok(StarsRefund::NotRefundable(status)) => Text::RefundNotPossible { status: payment_state(status) },
        Err(PaymentError::Ledger(LedgerError::InsufficientFunds { needed, available })) => {
            Text::RefundBalanceShort { needed: needed.amount(), available: available.amount() }
        }
        Err(err) => return Err(err.into()),
        Ok(StarsRefund::Ready { applied, payer_telegram_id }) => {
            let refunded = bot
                .refund_star_payment(
                    UserId::try_from(payer_telegram_id)?,
                    TelegramTransactionId(charge_id.to_owned()),
                )
                .counted()
                .await;
            match refunded {
                Err(err) => {
                    drop(txn);
                    tracing::warn!(error = %err, "Telegram refused the Stars refund");
                    Text::RefundFailed { reason: err.to_string() }
                }
                Ok(_) => {
                    let payment = &applied.payment;
                    if let Err(err) = txn.commit().await {
                        // The Stars are back but our books do not say so: an admin must fix it.
                        tracing::error!(payment_id = %payment.id, error = %err, "Stars refunded but the ledger was not updated");
                        return Err(err.into());
                    }
                    tracing::info!(payment_id = %payment.id, "Stars refunded");
                    crate::plans::stop_refunded(bot, state, payment).await;
                    let (stars, credits) = (payment.amount, applied.credits_taken);
                    tell_payer(bot, state, payer_telegram_id, Text::RefundedToYou { stars, credits }).await?;
                    Text::RefundDone { stars, credits }
                }
            }
        }
    })
}

/// Refunds a YooKassa payment whole. The payer must still have its credits
/// (checked under the payment's lock before YooKassa is asked); they are taken
/// back when YooKassa reports the refund succeeded, at once or later by its
/// `refund.succeeded` notification, applied once either way.
async fn refund_by_card(
    bot: &Telegram,
    state: &AppState,
    kassa: &yookassa::YooKassa,
    admin: &User,
    payment: shared::entities::payments::Model,
) -> anyhow::Result<Text> {
    if payment.status != PaymentStatus::Succeeded {
        return Ok(Text::RefundNotPossible { status: payment_state(payment.status) });
    }
    let Some(kassa_id) = payment.provider_payment_id.clone() else { return Ok(Text::RefundNotFound) };
    let txn = state.db.begin().await?;
    // Taking everything back would fail now: say so before any money moves.
    let trial = refunds::Refund {
        payment_id: payment.id,
        provider_refund_id: &format!("check:{}", payment.id),
        amount: payment.amount,
        collection: refunds::Collection::All,
        actor: audit::Actor::Admin(admin.telegram_id),
    };
    match refunds::apply(&txn, &state.ledger, &trial).await {
        Ok(_) => {}
        Err(PaymentError::Ledger(LedgerError::InsufficientFunds { needed, available })) => {
            return Ok(Text::RefundBalanceShort { needed: needed.amount(), available: available.amount() });
        }
        Err(PaymentError::NotRefundable(_, status)) => {
            return Ok(Text::RefundNotPossible { status: payment_state(status) });
        }
        Err(err) => return Err(err.into()),
    }
    // Only a trial: the books change when YooKassa says the money went back. Two
    // admins refunding at once send one idempotence key, so YooKassa makes one refund.
    txn.rollback().await?;
    let description = format!("Refund of payment {}", payment.id);
    let created =
        kassa.create_refund(&kassa_id, payment.amount, &description, &format!("refund-{}", payment.id)).await;
    let fetched = match created {
        Ok(refund) => refund,
        Err(err) => {
            tracing::warn!(error = %err, "YooKassa refused the refund");
            return Ok(Text::CardRefundFailed { reason: err.to_string() });
        }
    };
    match fetched.status {
        yookassa::RefundStatus::Canceled => Ok(Text::CardRefundFailed { reason: "canceled".into() }),
        yookassa::RefundStatus::Pending => Ok(Text::CardRefundPending),
        yookassa::RefundStatus::Succeeded => {
            let actor = audit::Actor::Admin(admin.telegram_id);
            let Some(applied) = refunds::apply_yookassa(&state.db, &state.ledger, &fetched, actor).await?
            else {
                return Ok(Text::RefundNotFound);
            };
            if !applied.replayed {
                tell_refunded_by_card(bot, state, &applied).await?;
            }
            Ok(Text::CardRefundDone { amount: applied.amount, credits: applied.credits_taken })
        }
    }
}

/// Tells the payer of a refunded card payment what came back and what left their balance.
async fn tell_refunded_by_card(
    bot: &Telegram,
    state: &AppState,
    applied: &refunds::AppliedRefund,
) -> anyhow::Result<()> {
    let notice = Text::RefundedByCard { amount: applied.amount, credits: applied.credits_taken };
    tell_payer_of(bot, state, applied, notice).await
}

/// Tells the payer of `applied`'s payment `notice`.
async fn tell_payer_of(
    bot: &Telegram,
    state: &AppState,
    applied: &refunds::AppliedRefund,
    notice: Text,
) -> anyhow::Result<()> {
    let Some(payer) = shared::people::users::find(&state.db, applied.payment.user_id).await? else {
        return Ok(());
    };
    tell_payer(bot, state, payer.telegram_id, notice).await
}

async fn tell_payer(
    bot: &Telegram,
    state: &AppState,
    payer: TelegramUserId,
    notice: Text,
) -> anyhow::Result<()> {
    let Some(user) = shared::people::users::find_by_telegram_id(&state.db, payer).await? else {
        return Ok(());
    };
    bot.send_message(payer.private_chat(), notice.render(user.language)).counted().await?;
    Ok(())
}

/// `POST /webhooks/yookassa`: checks the source, re-fetches the payment and
/// settles it. 200 once handled (so YooKassa stops retrying), 400 for
/// malformed input, 403 for foreign sources, 500 when we could not check it.
pub async fn yookassa_webhook(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let source = crate::http::client_ip(peer.ip(), &headers, &state.settings.trusted_proxies);
    if !state.settings.yookassa_notify_ips.contains(source) {
        tracing::warn!(%source, "YooKassa notification from a foreign address refused");
        return StatusCode::FORBIDDEN;
    }
    let Ok(notification) = serde_json::from_slice::<Notification>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    if notification.kind != "notification" {
        return StatusCode::BAD_REQUEST;
    }
    let Some(client) = &state.yookassa else { return StatusCode::NOT_FOUND };
    match handle_notification(&state, client, &notification).await {
        Ok(()) => StatusCode::OK,
        Err(err) => {
            tracing::error!(event = %notification.event, id = %notification.object.id, error = format!("{err:#}"), "YooKassa notification failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

async fn handle_notification(
    state: &AppState,
    client: &yookassa::YooKassa,
    notification: &Notification,
) -> anyhow::Result<()> {
    if notification.event == "refund.succeeded" {
        return apply_refund_notice(state, client, &notification.object.id).await;
    }
    if !notification.event.starts_with("payment.") {
        return Ok(());
    }
    // Only the API's word counts, never the notification body.
    let fetched = match client.get_payment(&notification.object.id).await {
        Ok(payment) => payment,
        Err(yookassa::YooKassaError::Api { status: 404, .. }) => {
            tracing::warn!(id = %notification.object.id, "notification for a payment YooKassa does not know");
            return Ok(());
        }
        Err(err) => return Err(err.into()),
    };
    settle_fetched(state, &fetched).await
}

/// A refund made in YooKassa (by the bot or in the dashboard): re-fetched,
/// applied once, and the payer told.
async fn apply_refund_notice(state: &AppState, client: &yookassa::YooKassa, id: &str) -> anyhow::Result<()> {
    let fetched = match client.get_refund(id).await {
        Ok(refund) => refund,
        Err(yookassa::YooKassaError::Api { status: 404, .. }) => {
            tracing::warn!(id, "notification for a refund YooKassa does not know");
            return Ok(());
        }
        Err(err) => return Err(err.into()),
    };
    let applied = refunds::apply_yookassa(&state.db, &state.ledger, &fetched, audit::Actor::System).await?;
    match applied {
        Some(applied) if !applied.replayed => {
            tracing::info!(refund = id, payment_id = %applied.payment.id, shortfall = %applied.shortfall(), "YooKassa refund applied");
            tell_refunded_by_card(&state.bot, state, &applied).await
        }
        _ => Ok(()),
    }
}

/// Acts on a payment as fetched from YooKassa and tells the payer.
async fn settle_fetched(state: &AppState, fetched: &yookassa::Payment) -> anyhow::Result<()> {
    let outcome =
        payments::apply_yookassa(&state.db, &state.ledger, fetched, state.settings.referral_percent).await?;
    if let Some((chat, text)) = payments::notice_for(&state.db, &state.ledger, &outcome).await? {
        state.bot.send_message(chat, text).counted().await?;
    }
    Ok(())
}
