//! Payments: credit packages on sale (`packages`), the YooKassa client with its settings
//! (`yookassa`), and here the settlement of pending payments (YooKassa, Telegram invoices and
//! Stars), exactly once.
//!
//! Providers notify us repeatedly, concurrently, or not at all. Settling locks
//! the payment row, so one settlement wins and the others see it done; the
//! ledger's key `purchase:{provider}:{provider_payment_id}` backs that up.

use crate::platform::metrics::PaymentOutcome as LivePaymentOutcome;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, Statement, TransactionTrait,
};

pub mod packages;
pub mod subscriptions;
pub mod yookassa;

use crate::ids::{ChatId, PaymentId, TelegramUserId, UserId};
use crate::{
    billing::ledger::{BonusReason, Ledger, LedgerError, Purchase},
    billing::money::Credits,
    entities::{
        payments::{self, PaymentProvider, PaymentStatus},
        users,
    },
    payments::packages::CreditPackage,
};

/// The payments with these ids, by id (for history lines).
///
/// # Errors
/// When the database fails.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: Vec<PaymentId>,
) -> Result<std::collections::HashMap<PaymentId, payments::Model>, DbErr> {
    let rows = payments::Entity::find().filter(payments::Column::Id.is_in(ids)).all(db).await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

/// Telegram's last check before it charges (`pre_checkout_query`): only an
/// invoice of ours for a package or plan still on sale, unpaid, of this payer, for
/// exactly the amount and currency we asked, is accepted.
///
/// # Errors
/// When the database fails.
pub async fn accept_pre_checkout<C: ConnectionTrait>(
    db: &C,
    on_sale: &packages::PackageList,
    plans: &crate::billing::plans::PlanList,
    invoice_payload: &str,
    payer: TelegramUserId,
    currency: &str,
    total_minor_units: u32,
) -> Result<bool, DbErr> {
    let Ok(payment_id) = invoice_payload.parse::<PaymentId>() else { return Ok(false) };
    let Some(payment) = payments::Entity::find_by_id(payment_id).one(db).await? else { return Ok(false) };
    let Some(user) = users::Entity::find().filter(users::Column::TelegramId.eq(payer)).one(db).await? else {
        return Ok(false);
    };
    // A second plan's first payment while one runs would run two at once (Telegram keeps both).
    if payment.package_id.as_deref().and_then(subscriptions::plan_of_package).is_some()
        && subscriptions::live_of(db, user.id).await?.is_some()
    {
        return Ok(false);
    }
    Ok(payment.user_id == user.id
        && payment.status == PaymentStatus::Pending
        && payment.currency == currency
        && payment.amount * minor_units(&payment.currency) == Decimal::from(total_minor_units)
        && payment.package_id.as_deref().is_some_and(|id| {
            on_sale.find(id).is_some()
                || subscriptions::plan_of_package(id).is_some_and(|plan| plans.find(plan).is_some())
        }))
}

/// Why a payment operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// No such payment.
    #[error("payment {0} does not exist")]
    NotFound(PaymentId),
    /// The provider reported an amount other than the one we asked for.
    #[error("payment {payment_id} was for {expected} but the provider reports {reported}")]
    AmountMismatch {
        /// Our payment.
        payment_id: PaymentId,
        /// What we asked for.
        expected: Decimal,
        /// What the provider says.
        reported: Decimal,
    },
    /// The payment is not paid, or nothing of it is left to refund.
    #[error("payment {0} is {1:?}: nothing to refund")]
    NotRefundable(PaymentId, PaymentStatus),
    /// Crediting failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The database failed.
    #[error("payment database error: {0}")]
    Db(#[from] DbErr),
}

/// What settling a payment did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Credited now.
    Credited {
        /// The payer.
        user_id: UserId,
        /// Credits added.
        credits: Credits,
        /// Credits given to the referrer for this first purchase, if any.
        referral_bonus: Option<(UserId, Credits)>,
    },
    /// A plan's period paid now.
    PlanPaid {
        /// The subscriber.
        user_id: UserId,
        /// The period, and how far the plan now runs.
        period: subscriptions::PaidPeriod,
    },
    /// A second plan's first payment while `live` runs: it buys nothing and goes back.
    PlanDuplicate {
        /// The payer.
        user_id: UserId,
        /// The plan that goes on.
        live: subscriptions::Subscription,
    },
    /// It had been credited before: nothing changed.
    AlreadyCredited,
}

/// Creates a pending payment of `package` for `user_id`; its id is the
/// idempotency key we give the provider.
pub async fn create_pending<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    package: &CreditPackage,
    provider: PaymentProvider,
) -> Result<payments::Model, DbErr> {
    let id = PaymentId::new();
    let (amount, currency) = match provider {
        PaymentProvider::Stars => (Decimal::from(package.price_stars), "XTR"),
        PaymentProvider::YooKassa | PaymentProvider::Telegram => (package.price_rub, "RUB"),
    };
    let payment = payments::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        provider: Set(provider),
        provider_payment_id: Set(None),
        package_id: Set(Some(package.id.clone())),
        amount: Set(amount),
        currency: Set(currency.to_owned()),
        credits: Set(package.total_credits().amount()),
        status: Set(PaymentStatus::Pending),
        idempotency_key: Set(id.to_string()),
        raw_payload: Set(None),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?;
    crate::platform::metrics::live().payment(provider, LivePaymentOutcome::Created);
    Ok(payment)
}

/// Why a YooKassa checkout could not start; the pending payment stays unpaid.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// YooKassa refused or did not answer.
    #[error(transparent)]
    Provider(#[from] yookassa::YooKassaError),
    /// YooKassa created the payment without a page to pay on.
    #[error("YooKassa gave payment {0} no confirmation URL")]
    NoConfirmationUrl(PaymentId),
    /// The database failed.
    #[error("checkout database error: {0}")]
    Db(#[from] DbErr),
}

/// Starts paying for `package` through YooKassa: a pending payment of ours,
/// the same payment at YooKassa (keyed by our id), and the URL of the page
/// where the user pays. `description` is shown to the payer.
///
/// # Errors
/// When YooKassa refuses or gives no confirmation URL, or the database fails.
pub async fn checkout_yookassa<C: ConnectionTrait>(
    db: &C,
    client: &yookassa::YooKassa,
    user_id: UserId,
    package: &CreditPackage,
    description: String,
) -> Result<String, CheckoutError> {
    let payment = create_pending(db, user_id, package, PaymentProvider::YooKassa).await?;
    let created = client
        .create_payment(&yookassa::NewPayment {
            payment_id: payment.id,
            user_id,
            amount_rub: package.price_rub,
            description,
            method: yookassa::PayWith::Page,
        })
        .await?;
    attach_provider_id(db, payment.id, &created.id).await?;
    created
        .confirmation
        .and_then(|confirmation| confirmation.confirmation_url)
        .ok_or(CheckoutError::NoConfirmationUrl(payment.id))
}

/// Records the provider's id of a pending payment (YooKassa assigns it on creation).
pub async fn attach_provider_id<C: ConnectionTrait>(
    db: &C,
    payment_id: PaymentId,
    provider_payment_id: &str,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE payments SET provider_payment_id = $2, updated_at = now() WHERE id = $1 AND provider_payment_id IS NULL",
        [payment_id.into(), provider_payment_id.into()],
    ))
    .await
    .map(drop)
}

/// Marks a payment paid and credits it, exactly once however often it is
/// called; on the payer's first purchase their referrer gets `referral_percent`
/// of the credits, also once.
pub async fn settle_succeeded<C>(
    db: &C,
    ledger: &Ledger,
    payment_id: PaymentId,
    provider_payment_id: &str,
    reported_amount: Decimal,
    raw: serde_json::Value,
    referral_percent: u32,
) -> Result<Settlement, PaymentError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction>,
{
    let txn = db.begin().await?;
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT status FROM payments WHERE id = $1 FOR UPDATE",
            [payment_id.into()],
        ))
        .await?
        .ok_or(PaymentError::NotFound(payment_id))?;
    let payment = payments::Entity::find_by_id(payment_id)
        .one(&txn)
        .await?
        .ok_or(PaymentError::NotFound(payment_id))?;
    let live = crate::platform::metrics::live();
    // Refunded payments were credited once and taken back: never again.
    if matches!(row.try_get::<String>("", "status")?.as_str(), "succeeded" | "refunded") {
        live.payment(payment.provider, LivePaymentOutcome::Duplicate);
        return Ok(Settlement::AlreadyCredited);
    }
    if payment.amount.normalize() != reported_amount.normalize() {
        live.payment(payment.provider, LivePaymentOutcome::Rejected);
        return Err(PaymentError::AmountMismatch {
            payment_id,
            expected: payment.amount,
            reported: reported_amount,
        });
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE payments SET status = 'succeeded', provider_payment_id = $2, raw_payload = $3, updated_at = now() \
         WHERE id = $1",
        [payment_id.into(), provider_payment_id.into(), raw.clone().into()],
    ))
    .await?;
    if payment.package_id.as_deref().and_then(subscriptions::plan_of_package).is_some() {
        // A plan's payment buys a period of the plan, not credits.
        let period = subscriptions::record_period(&txn, &payment, &raw, provider_payment_id).await?;
        txn.commit().await?;
        live.payment(payment.provider, LivePaymentOutcome::Credited);
        return Ok(match period {
            Some(subscriptions::Recorded::Period(period)) => {
                Settlement::PlanPaid { user_id: payment.user_id, period }
            }
            Some(subscriptions::Recorded::Duplicate { live }) => {
                Settlement::PlanDuplicate { user_id: payment.user_id, live }
            }
            None => Settlement::AlreadyCredited,
        });
    }
    let credits = Credits::new(payment.credits).map_err(|err| LedgerError::InvalidAmount(err.to_string()))?;
    ledger
        .credit_purchase(
            &txn,
            &Purchase {
                user_id: payment.user_id,
                credits,
                provider: payment.provider,
                provider_payment_id: provider_payment_id.to_owned(),
                payment_id: Some(payment_id),
            },
        )
        .await?;

    let referral_bonus = referral_bonus(&txn, ledger, &payment, credits, referral_percent).await?;
    txn.commit().await?;
    live.payment(payment.provider, LivePaymentOutcome::Credited);
    Ok(Settlement::Credited { user_id: payment.user_id, credits, referral_bonus })
}

async fn referral_bonus(
    txn: &DatabaseTransaction,
    ledger: &Ledger,
    payment: &payments::Model,
    credits: Credits,
    referral_percent: u32,
) -> Result<Option<(UserId, Credits)>, PaymentError> {
    let Some(payer) = users::Entity::find_by_id(payment.user_id).one(txn).await? else { return Ok(None) };
    let Some(referrer) = payer.referred_by else { return Ok(None) };
    let earlier = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM payments WHERE user_id = $1 AND status IN ('succeeded', 'refunded') AND id <> $2",
            [payment.user_id.into(), payment.id.into()],
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    let bonus = (credits.amount() * Decimal::from(referral_percent) / Decimal::from(100)).round_dp(2);
    if earlier > 0 || bonus.is_zero() {
        return Ok(None);
    }
    let bonus = Credits::new(bonus).map_err(|err| LedgerError::InvalidAmount(err.to_string()))?;
    let posting =
        ledger.grant_bonus(txn, referrer, bonus, &BonusReason::Referral { referee: payment.user_id }).await?;
    Ok((!posting.replayed).then_some((referrer, bonus)))
}

/// Marks a pending payment canceled; returns false when it was not pending.
pub async fn mark_canceled<C: ConnectionTrait>(
    db: &C,
    payment_id: PaymentId,
    raw: serde_json::Value,
) -> Result<bool, DbErr> {
    let result = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE payments SET status = 'canceled', raw_payload = $2, updated_at = now() \
             WHERE id = $1 AND status = 'pending' RETURNING provider",
            [payment_id.into(), raw.into()],
        ))
        .await?;
    let Some(row) = result else { return Ok(false) };
    let provider: String = row.try_get("", "provider")?;
    if let Ok(provider) = <PaymentProvider as sea_orm::ActiveEnum>::try_from_value(&provider) {
        crate::platform::metrics::live().payment(provider, LivePaymentOutcome::Canceled);
    }
    Ok(true)
}

/// Pending payments older than `age`, for reconciliation.
pub async fn pending_older_than<C: ConnectionTrait>(
    db: &C,
    provider: PaymentProvider,
    age: chrono::Duration,
) -> Result<Vec<payments::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    payments::Entity::find()
        .filter(payments::Column::Status.eq(PaymentStatus::Pending))
        .filter(payments::Column::Provider.eq(provider))
        .filter(payments::Column::CreatedAt.lt(chrono::Utc::now() - age))
        .order_by_asc(payments::Column::CreatedAt)
        .all(db)
        .await
}

/// What settling a payment did, for the caller to tell the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Credited now.
    Credited {
        /// Our payment.
        payment_id: PaymentId,
        /// The payer.
        user_id: UserId,
        /// Credits added.
        credits: Credits,
    },
    /// A plan's period paid now.
    PlanPaid {
        /// Our payment.
        payment_id: PaymentId,
        /// The subscriber.
        user_id: UserId,
        /// The period, and how far the plan now runs.
        period: subscriptions::PaidPeriod,
    },
    /// Marked canceled now.
    Canceled {
        /// Our payment.
        payment_id: PaymentId,
        /// The payer.
        user_id: UserId,
    },
    /// A second plan's first payment while `live` runs: refunded by maintenance.
    PlanDuplicate {
        /// Our payment.
        payment_id: PaymentId,
        /// The payer.
        user_id: UserId,
        /// The plan that goes on.
        live: subscriptions::Subscription,
    },
    /// Nothing to do: still pending, already settled, or not ours.
    Nothing,
}

impl PaymentOutcome {
    /// What settling `payment_id` as succeeded did.
    fn settled(payment_id: PaymentId, settled: Settlement) -> Self {
        match settled {
            Settlement::Credited { user_id, credits, .. } => Self::Credited { payment_id, user_id, credits },
            Settlement::PlanPaid { user_id, period } => Self::PlanPaid { payment_id, user_id, period },
            Settlement::PlanDuplicate { user_id, live } => Self::PlanDuplicate { payment_id, user_id, live },
            Settlement::AlreadyCredited => Self::Nothing,
        }
    }
}

/// Acts on a payment as fetched from the YooKassa API (never on a
/// notification's body): credits it once when succeeded, marks it canceled.
pub async fn apply_yookassa<C>(
    db: &C,
    ledger: &Ledger,
    fetched: &crate::payments::yookassa::Payment,
    referral_percent: u32,
) -> Result<PaymentOutcome, PaymentError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    let ours = payments::Entity::find()
        .filter(payments::Column::Provider.eq(PaymentProvider::YooKassa))
        .filter(payments::Column::ProviderPaymentId.eq(fetched.id.clone()))
        .one(db)
        .await?;
    let payment = match ours {
        Some(payment) => payment,
        None => match fetched.our_payment_id() {
            Some(id) => match payments::Entity::find_by_id(id).one(db).await? {
                Some(payment) if payment.provider == PaymentProvider::YooKassa => payment,
                _ => return Ok(PaymentOutcome::Nothing),
            },
            None => return Ok(PaymentOutcome::Nothing),
        },
    };
    let raw = serde_json::json!({
        "id": fetched.id,
        "status": fetched.status,
        "amount": fetched.amount,
        "payment_method": fetched.payment_method,
    });
    match fetched.status {
        crate::payments::yookassa::PaymentStatus::Succeeded => {
            let reported = fetched.amount.decimal().unwrap_or_default();
            let settled =
                settle_succeeded(db, ledger, payment.id, &fetched.id, reported, raw, referral_percent)
                    .await?;
            Ok(PaymentOutcome::settled(payment.id, settled))
        }
        crate::payments::yookassa::PaymentStatus::Canceled => {
            if mark_canceled(db, payment.id, raw).await? {
                Ok(PaymentOutcome::Canceled { payment_id: payment.id, user_id: payment.user_id })
            } else {
                Ok(PaymentOutcome::Nothing)
            }
        }
        crate::payments::yookassa::PaymentStatus::Pending
        | crate::payments::yookassa::PaymentStatus::WaitingForCapture => Ok(PaymentOutcome::Nothing),
    }
}

/// The message to send the payer about `outcome`: their private chat and the text,
/// in their language.
pub async fn notice_for<C: ConnectionTrait>(
    db: &C,
    ledger: &Ledger,
    outcome: &PaymentOutcome,
) -> Result<Option<(ChatId, String)>, PaymentError> {
    let user_id = match outcome {
        PaymentOutcome::Credited { user_id, .. }
        | PaymentOutcome::PlanPaid { user_id, .. }
        | PaymentOutcome::PlanDuplicate { user_id, .. }
        | PaymentOutcome::Canceled { user_id, .. } => *user_id,
        PaymentOutcome::Nothing => return Ok(None),
    };
    if let PaymentOutcome::Canceled { payment_id, .. } = outcome
        && subscriptions::is_renewal(db, *payment_id).await?
    {
        // A declined renewal is retried; its user hears once it is given up.
        return Ok(None);
    }
    let Some(user) = users::Entity::find_by_id(user_id).one(db).await? else { return Ok(None) };
    let lang = user.language;
    let text = match outcome {
        PaymentOutcome::Credited { credits, .. } => {
            let balance = ledger.balance(db, user_id).await?;
            crate::texts::i18n::Text::PaymentReceived {
                credits: credits.amount(),
                balance: balance.available.amount(),
            }
            .render(lang)
        }
        PaymentOutcome::PlanPaid { period, .. } => crate::texts::plans::PlanText::Active {
            name: period.name.clone(),
            until: ledger.local_date(period.paid_until),
        }
        .render(lang),
        PaymentOutcome::PlanDuplicate { live, .. } => crate::texts::plans::PlanText::DuplicateRefunded {
            name: live.name.clone(),
            until: live.paid_until.map(|until| ledger.local_date(until)).unwrap_or_default(),
        }
        .render(lang),
        _ => crate::texts::i18n::Text::PaymentCanceled.render(lang),
    };
    Ok(Some((user.telegram_id.private_chat(), text)))
}

/// Telegram invoices count money in the currency's smallest unit (kopecks),
/// Stars in whole stars; payment rows keep roubles and stars.
pub fn minor_units(currency: &str) -> Decimal {
    match currency {
        "XTR" => Decimal::ONE,
        _ => Decimal::ONE_HUNDRED,
    }
}

/// What Telegram reported about a payment it took: its charge id, the amount
/// in the currency's smallest units, and the report itself.
#[derive(Clone, Debug, PartialEq)]
pub struct TelegramCharge {
    /// Our payment (the invoice payload).
    pub payment_id: PaymentId,
    /// `telegram_payment_charge_id`, unique per charge.
    pub charge_id: String,
    /// `XTR` for Stars, else an ISO 4217 code.
    pub currency: String,
    /// In the currency's smallest units.
    pub total_amount: u32,
    /// The `successful_payment` (or star transaction) as Telegram sent it.
    pub raw: serde_json::Value,
}

/// Records Telegram's report of a payment before anything else happens, so a
/// failure or a crash before the credit cannot lose it: maintenance credits
/// recorded reports that were not ([`settle_recorded`]). Idempotent.
pub async fn record_telegram_charge<C: ConnectionTrait>(
    db: &C,
    charge: &TelegramCharge,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE payments SET provider_payment_id = COALESCE(provider_payment_id, $2), \
             raw_payload = COALESCE(raw_payload, $3), updated_at = now() \
         WHERE id = $1 AND status = 'pending' AND provider IN ('stars', 'telegram')",
        [charge.payment_id.into(), charge.charge_id.clone().into(), charge.raw.clone().into()],
    ))
    .await
    .map(drop)
}

/// Credits a charge Telegram reported, once per payment however often it is
/// reported (by the update, by maintenance, by the Stars history).
pub async fn settle_telegram_charge<C>(
    db: &C,
    ledger: &Ledger,
    charge: &TelegramCharge,
    referral_percent: u32,
) -> Result<PaymentOutcome, PaymentError>
where
    C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    let charge = &subscriptions::renewal_charge(db, charge.clone()).await?;
    let amount = Decimal::from(charge.total_amount) / minor_units(&charge.currency);
    let settled = settle_succeeded(
        db,
        ledger,
        charge.payment_id,
        &charge.charge_id,
        amount,
        charge.raw.clone(),
        referral_percent,
    )
    .await?;
    Ok(PaymentOutcome::settled(charge.payment_id, settled))
}

/// Telegram charges recorded by the update handler but not credited (the
/// handler failed, or the process died between the two steps).
pub async fn recorded_unsettled<C: ConnectionTrait>(
    db: &C,
    older_than: chrono::Duration,
) -> Result<Vec<TelegramCharge>, DbErr> {
    let rows = payments::Entity::find()
        .filter(payments::Column::Status.eq(PaymentStatus::Pending))
        .filter(payments::Column::Provider.is_in([PaymentProvider::Stars, PaymentProvider::Telegram]))
        .filter(payments::Column::RawPayload.is_not_null())
        .filter(payments::Column::ProviderPaymentId.is_not_null())
        .filter(payments::Column::UpdatedAt.lt(chrono::Utc::now() - older_than))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let raw = row.raw_payload?;
            let total_amount = raw.get("total_amount").and_then(serde_json::Value::as_u64)?;
            Some(TelegramCharge {
                payment_id: row.id,
                charge_id: row.provider_payment_id?,
                currency: raw
                    .get("currency")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or(&row.currency)
                    .to_owned(),
                total_amount: u32::try_from(total_amount).ok()?,
                raw,
            })
        })
        .collect())
}

/// How far the Stars history has been read, so each pass reads only what is new.
pub async fn star_history_position<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT position FROM reconciliation_cursors WHERE name = 'stars'",
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "position"))
        .transpose()?
        .map_or(0, |p| u64::try_from(p).unwrap_or(0)))
}

/// Records that the Stars history has been read up to `position` lines.
pub async fn set_star_history_position<C: ConnectionTrait>(db: &C, position: u64) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO reconciliation_cursors (name, position) VALUES ('stars', $1) \
         ON CONFLICT (name) DO UPDATE SET position = GREATEST(reconciliation_cursors.position, EXCLUDED.position)",
        [i64::try_from(position).unwrap_or(i64::MAX).into()],
    ))
    .await
    .map(drop)
}
