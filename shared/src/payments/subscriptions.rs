//! Subscriptions to plans: bought with Stars (a Telegram subscription Telegram
//! renews every 30 days) or through YooKassa (the first payment saves the
//! card; maintenance charges it again before each period ends).
//!
//! Every charge is a row of `payments` (no credits) and, once paid, one row of
//! `subscription_periods` keyed by that payment: a charge extends the plan
//! once however often it is reported. Allowances follow the periods, so a plan
//! stops granting at the instant its last period ends whatever the status says.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, QueryResult, Statement};

use crate::billing::plans::{PLAN_PERIOD, Plan, PlanTerms};
use crate::entities::payments::{self, PaymentProvider};
use crate::ids::{PaymentId, SubscriptionId, UserId};
use crate::payments::TelegramCharge;

/// Where a subscription stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionStatus {
    /// Created, not paid yet.
    Pending,
    /// Paid and renewing.
    Active,
    /// Paid, not renewing: runs to the end of its period.
    Canceled,
    /// Over.
    Ended,
}

impl SubscriptionStatus {
    fn parse(code: &str) -> Result<Self, DbErr> {
        match code {
            "pending" => Ok(Self::Pending),
            "active" => Ok(Self::Active),
            "canceled" => Ok(Self::Canceled),
            "ended" => Ok(Self::Ended),
            other => Err(DbErr::Type(format!("unknown subscription status {other}"))),
        }
    }
}

/// A user's subscription to a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Ours.
    pub id: SubscriptionId,
    /// The subscriber.
    pub user_id: UserId,
    /// The plan's id.
    pub plan: String,
    /// The plan's name, as shown when it was bought.
    pub name: String,
    /// Stars or YooKassa.
    pub provider: PaymentProvider,
    /// Where it stands.
    pub status: SubscriptionStatus,
    /// End of the last period paid for.
    pub paid_until: Option<DateTime<Utc>>,
    /// Stars: the first charge, which names the subscription to Telegram.
    pub telegram_charge_id: Option<String>,
    /// YooKassa: the saved method renewals charge.
    pub payment_method_id: Option<String>,
    /// Failed renewals since the last paid one.
    pub renewal_failures: u32,
    /// What each period costs, in the provider's currency, as it was bought.
    pub price: Decimal,
    /// What each period includes, as it was bought.
    pub terms: PlanTerms,
}

const COLUMNS: &str = "id, user_id, plan, name, provider, status, paid_until, telegram_charge_id, \
                       payment_method_id, renewal_failures, price, minutes, images, discount_percent";

fn from_row(row: &QueryResult) -> Result<Subscription, DbErr> {
    let count = |column: &str| -> Result<u32, DbErr> {
        Ok(u32::try_from(row.try_get::<i32>("", column)?).unwrap_or(0))
    };
    let provider: String = row.try_get("", "provider")?;
    Ok(Subscription {
        id: row.try_get("", "id")?,
        user_id: row.try_get("", "user_id")?,
        plan: row.try_get("", "plan")?,
        name: row.try_get("", "name")?,
        provider: <PaymentProvider as sea_orm::ActiveEnum>::try_from_value(&provider)?,
        status: SubscriptionStatus::parse(&row.try_get::<String>("", "status")?)?,
        paid_until: row.try_get("", "paid_until")?,
        telegram_charge_id: row.try_get("", "telegram_charge_id")?,
        payment_method_id: row.try_get("", "payment_method_id")?,
        renewal_failures: count("renewal_failures")?,
        price: row.try_get("", "price")?,
        terms: PlanTerms {
            minutes: count("minutes")?,
            images: count("images")?,
            discount_percent: count("discount_percent")?,
        },
    })
}

fn stmt(sql: &str, values: impl IntoIterator<Item = sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

async fn many<C: ConnectionTrait>(db: &C, statement: Statement) -> Result<Vec<Subscription>, DbErr> {
    db.query_all_raw(statement).await?.iter().map(from_row).collect()
}

async fn one<C: ConnectionTrait>(db: &C, statement: Statement) -> Result<Option<Subscription>, DbErr> {
    db.query_one_raw(statement).await?.as_ref().map(from_row).transpose()
}

/// The subscription `sql` (its `{COLUMNS}` spelled out) finds or changes with `$1` = `key`.
async fn one_by<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    key: impl Into<sea_orm::Value>,
) -> Result<Option<Subscription>, DbErr> {
    one(db, stmt(&sql.replace("{COLUMNS}", COLUMNS), [key.into()])).await
}

/// The user's plan that is paid for (renewing or not), if any.
pub async fn live_of<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Option<Subscription>, DbErr> {
    one_by(
        db,
        "SELECT {COLUMNS} FROM subscriptions WHERE user_id = $1 AND status IN ('active', 'canceled')",
        user_id,
    )
    .await
}

/// A new subscription to `plan`, waiting for its first payment, and that
/// payment (pending; its id is the invoice payload or YooKassa's idempotence key).
pub async fn create<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    plan: &Plan,
    provider: PaymentProvider,
) -> Result<(SubscriptionId, PaymentId, Decimal), DbErr> {
    let id = SubscriptionId::new();
    let provider_code = match provider {
        PaymentProvider::Stars => "stars",
        _ => "yookassa",
    };
    let (amount, currency) = match provider {
        PaymentProvider::Stars => (Decimal::from(plan.price_stars), "XTR"),
        _ => (plan.price_rub, "RUB"),
    };
    let terms = plan.terms();
    let number = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    db.execute_raw(stmt(
        "INSERT INTO subscriptions (id, user_id, plan, name, provider, price, minutes, images, discount_percent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        [
            id.into(),
            user_id.into(),
            plan.id().into(),
            plan.name.clone().into(),
            provider_code.into(),
            amount.into(),
            number(terms.minutes).into(),
            number(terms.images).into(),
            number(terms.discount_percent).into(),
        ],
    ))
    .await?;
    let payment_id = PaymentId::new();
    insert_payment(
        db,
        payment_id,
        id,
        user_id,
        provider_code,
        &plan.id(),
        amount,
        currency,
        &payment_id.to_string(),
    )
    .await?;
    crate::platform::metrics::live().payment(provider, crate::platform::metrics::PaymentOutcome::Created);
    Ok((id, payment_id, amount))
}

#[allow(clippy::too_many_arguments)]
async fn insert_payment<C: ConnectionTrait>(
    db: &C,
    payment_id: PaymentId,
    subscription: SubscriptionId,
    user_id: UserId,
    provider: &str,
    plan: &str,
    amount: Decimal,
    currency: &str,
    key: &str,
) -> Result<bool, DbErr> {
    let inserted = db
        .execute_raw(stmt(
            "INSERT INTO payments (id, user_id, provider, package_id, amount, currency, credits, status, \
             idempotency_key, subscription_id) VALUES ($1, $2, $3, $4, $5, $6, 0, 'pending', $7, $8) \
             ON CONFLICT (idempotency_key) DO NOTHING",
            [
                payment_id.into(),
                user_id.into(),
                provider.into(),
                format!("plan:{plan}").into(),
                amount.into(),
                currency.into(),
                key.into(),
                subscription.into(),
            ],
        ))
        .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Whether payment `payment_id` is a renewal of a plan (charged without its payer).
pub async fn is_renewal<C: ConnectionTrait>(db: &C, payment_id: PaymentId) -> Result<bool, DbErr> {
    Ok(db
        .query_one_raw(stmt(
            "SELECT 1 AS one FROM payments WHERE id = $1 AND subscription_id IS NOT NULL \
             AND idempotency_key LIKE 'renewal:%'",
            [payment_id.into()],
        ))
        .await?
        .is_some())
}

/// The plan a payment of a plan (`package_id` `plan:<id>`) pays for.
pub fn plan_of_package(package_id: &str) -> Option<&str> {
    package_id.strip_prefix("plan:")
}

/// A period a charge paid for, as settling it recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaidPeriod {
    /// The subscription.
    pub subscription_id: SubscriptionId,
    /// The plan's id.
    pub plan: String,
    /// The plan's name, as shown when it was bought.
    pub name: String,
    /// The plan now runs until then.
    pub paid_until: DateTime<Utc>,
    /// A renewal rather than the first payment.
    pub renewal: bool,
}

/// What recording a plan's charge did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The period it paid for.
    Period(PaidPeriod),
    /// A charge of a plan while `live`, another, runs: it buys nothing and
    /// maintenance gives the money back.
    Duplicate {
        /// The user's plan that goes on.
        live: Subscription,
    },
}

/// Records the period `payment` (paid now, a plan's payment) buys, once: its
/// subscription becomes active and runs to the end of it. `raw` is the
/// provider's report: Telegram's `subscription_expiration_date` fixes the
/// end of a Stars period; YooKassa's saved `payment_method` is kept for renewals.
pub async fn record_period(
    txn: &DatabaseTransaction,
    payment: &payments::Model,
    raw: &serde_json::Value,
    provider_payment_id: &str,
) -> Result<Option<Recorded>, DbErr> {
    let Some(row) = txn
        .query_one_raw(stmt(
            &format!(
                "SELECT {COLUMNS} FROM subscriptions \
                 WHERE id = (SELECT subscription_id FROM payments WHERE id = $1) FOR UPDATE"
            ),
            [payment.id.into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    let subscription = from_row(&row)?;
    let now = Utc::now();
    let expires = raw
        .get("subscription_expiration_date")
        .and_then(serde_json::Value::as_i64)
        .and_then(|at| DateTime::from_timestamp(at, 0))
        .filter(|at| *at > now);
    let (starts_at, ends_at) = match expires {
        Some(ends_at) => (ends_at - PLAN_PERIOD, ends_at),
        None => {
            let starts_at = subscription.paid_until.filter(|until| *until > now).unwrap_or(now);
            (starts_at, starts_at + PLAN_PERIOD)
        }
    };
    let inserted = txn
        .execute_raw(stmt(
            "INSERT INTO subscription_periods (payment_id, subscription_id, starts_at, ends_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (payment_id) DO NOTHING",
            [payment.id.into(), subscription.id.into(), starts_at.into(), ends_at.into()],
        ))
        .await?;
    let renewal = subscription.status != SubscriptionStatus::Pending;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    if let Some(live) = live_of(txn, subscription.user_id).await?.filter(|live| live.id != subscription.id) {
        // Paid while another plan runs: two pages opened before either was paid, or Telegram
        // renewing a plan that was over. It grants nothing and goes back (`duplicates_to_refund`).
        txn.execute_raw(stmt(
            "UPDATE subscription_periods SET duplicate = true WHERE payment_id = $1",
            [payment.id.into()],
        ))
        .await?;
        let first_charge =
            (payment.provider == PaymentProvider::Stars).then(|| provider_payment_id.to_owned());
        txn.execute_raw(stmt(
            "UPDATE subscriptions SET status = 'ended', ended_reason = COALESCE(ended_reason, 'duplicate'), \
             telegram_charge_id = COALESCE(telegram_charge_id, $2), payment_method_id = NULL, \
             next_renewal_at = NULL, updated_at = now() WHERE id = $1",
            [subscription.id.into(), first_charge.into()],
        ))
        .await?;
        return Ok(Some(Recorded::Duplicate { live }));
    }
    let method = raw
        .get("payment_method")
        .filter(|method| method.get("saved").and_then(serde_json::Value::as_bool) == Some(true))
        .and_then(|method| method.get("id"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let first_charge = (payment.provider == PaymentProvider::Stars).then(|| provider_payment_id.to_owned());
    let row = txn
        .query_one_raw(stmt(
            "UPDATE subscriptions SET \
                 status = CASE WHEN status = 'canceled' THEN 'canceled' ELSE 'active' END, \
                 paid_until = GREATEST(COALESCE(paid_until, $2), $2), \
                 telegram_charge_id = COALESCE(telegram_charge_id, $3), \
                 payment_method_id = COALESCE($4, payment_method_id), \
                 renewal_failures = 0, next_renewal_at = NULL, ended_reason = NULL, updated_at = now() \
             WHERE id = $1 RETURNING paid_until",
            [subscription.id.into(), ends_at.into(), first_charge.into(), method.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("subscription".into()))?;
    Ok(Some(Recorded::Period(PaidPeriod {
        subscription_id: subscription.id,
        plan: subscription.plan,
        name: subscription.name,
        paid_until: row.try_get("", "paid_until")?,
        renewal,
    })))
}

/// A Stars subscription's renewal reaches us with the payload of its first
/// invoice: each new charge of an already paid subscription payment gets a
/// payment row of its own (once per charge id), which `charge` then names.
/// Any other charge is returned as it is.
pub async fn renewal_charge<C: ConnectionTrait>(
    db: &C,
    charge: TelegramCharge,
) -> Result<TelegramCharge, DbErr> {
    let Some(first) = db
        .query_one_raw(stmt(
            "SELECT p.user_id, p.subscription_id, p.package_id, p.amount, p.currency, p.status, \
                    p.provider_payment_id FROM payments p \
             WHERE p.id = $1 AND p.provider = 'stars' AND p.subscription_id IS NOT NULL",
            [charge.payment_id.into()],
        ))
        .await?
    else {
        return Ok(charge);
    };
    let first_charge: Option<String> = first.try_get("", "provider_payment_id")?;
    if first.try_get::<String>("", "status")? == "pending"
        || first_charge.as_deref() == Some(&charge.charge_id)
    {
        return Ok(charge);
    }
    let package: String = first.try_get("", "package_id")?;
    let key = format!("renewal:stars:{}", charge.charge_id);
    insert_payment(
        db,
        PaymentId::new(),
        first.try_get("", "subscription_id")?,
        first.try_get("", "user_id")?,
        "stars",
        plan_of_package(&package).unwrap_or_default(),
        first.try_get("", "amount")?,
        &first.try_get::<String>("", "currency")?,
        &key,
    )
    .await?;
    // Recorded like a first charge (`record_telegram_charge`), so maintenance settles it
    // if this process dies before it does.
    let renewal = db
        .query_one_raw(stmt(
            "UPDATE payments SET provider_payment_id = COALESCE(provider_payment_id, $2), \
                 raw_payload = COALESCE(raw_payload, $3) WHERE idempotency_key = $1 RETURNING id",
            [key.into(), charge.charge_id.clone().into(), charge.raw.clone().into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("renewal payment".into()))?;
    Ok(TelegramCharge { payment_id: renewal.try_get("", "id")?, ..charge })
}

/// Stops (`cancel`) or resumes a Stars plan's renewal at Telegram
/// (`editUserStarSubscription`); nothing for a YooKassa plan, which we renew ourselves.
///
/// # Errors
/// Telegram's refusal, or a payer id Telegram cannot take.
pub async fn set_at_telegram(
    bot: &crate::telegram::Telegram,
    payer: crate::ids::TelegramUserId,
    plan: &Subscription,
    cancel: bool,
) -> anyhow::Result<()> {
    use crate::telegram::Counted as _;
    use teloxide::prelude::Requester as _;
    let (PaymentProvider::Stars, Some(charge)) = (plan.provider, &plan.telegram_charge_id) else {
        return Ok(());
    };
    bot.edit_user_star_subscription(
        teloxide::types::UserId::try_from(payer)?,
        teloxide::types::TelegramTransactionId(charge.clone()),
        cancel,
    )
    .counted()
    .await?;
    Ok(())
}

/// Paid charges of plans while another ran ([`Recorded::Duplicate`]), not
/// wholly refunded yet (at most 100, oldest first): maintenance gives each back.
pub async fn duplicates_to_refund<C: ConnectionTrait>(db: &C) -> Result<Vec<payments::Model>, DbErr> {
    use sea_orm::EntityTrait;
    payments::Entity::find()
        .from_raw_sql(stmt(
            "SELECT p.* FROM payments p JOIN subscription_periods sp ON sp.payment_id = p.id \
             WHERE sp.duplicate AND p.status = 'succeeded' ORDER BY p.created_at LIMIT 100",
            [],
        ))
        .all(db)
        .await
}

/// The subscription payment `payment_id` paid for, if it was a plan's.
pub async fn of_payment<C: ConnectionTrait>(
    db: &C,
    payment_id: PaymentId,
) -> Result<Option<Subscription>, DbErr> {
    one_by(
        db,
        "SELECT {COLUMNS} FROM subscriptions WHERE id = (SELECT subscription_id FROM payments WHERE id = $1)",
        payment_id,
    )
    .await
}

/// Stops the user's live plan from renewing (Stars: the caller tells Telegram; YooKassa:
/// the saved method is forgotten). It runs to the end of the period paid for.
pub async fn cancel<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Option<Subscription>, DbErr> {
    one_by(
        db,
        "UPDATE subscriptions SET status = 'canceled', payment_method_id = NULL, next_renewal_at = NULL, \
         updated_at = now() WHERE user_id = $1 AND status IN ('active', 'canceled') RETURNING {COLUMNS}",
        user_id,
    )
    .await
}

/// Lets a canceled Stars plan renew again (the caller tells Telegram).
pub async fn resume<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Option<Subscription>, DbErr> {
    one_by(
        db,
        "UPDATE subscriptions SET status = 'active', updated_at = now() \
         WHERE user_id = $1 AND status = 'canceled' AND provider = 'stars' AND paid_until > now() \
         RETURNING {COLUMNS}",
        user_id,
    )
    .await
}

/// A refunded payment of a plan ends its period and the plan: it grants
/// nothing from now on and does not renew. Returns the plan ended.
pub async fn end_refunded(
    txn: &DatabaseTransaction,
    payment_id: PaymentId,
) -> Result<Option<Subscription>, DbErr> {
    let updated = txn
        .execute_raw(stmt(
            "UPDATE subscription_periods SET refunded = true WHERE payment_id = $1",
            [payment_id.into()],
        ))
        .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    one_by(
        txn,
        "UPDATE subscriptions SET status = 'ended', ended_reason = 'refunded', payment_method_id = NULL, \
         next_renewal_at = NULL, updated_at = now() \
         WHERE id = (SELECT subscription_id FROM subscription_periods WHERE payment_id = $1) \
           AND status <> 'ended' RETURNING {COLUMNS}",
        payment_id,
    )
    .await
}

/// YooKassa plans due for renewal at `now`: renewing, with a saved method,
/// ending within `ahead`, and not waiting for a retry.
pub async fn due_renewals<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    ahead: chrono::Duration,
) -> Result<Vec<Subscription>, DbErr> {
    many(
        db,
        stmt(
            &format!(
                "SELECT {COLUMNS} FROM subscriptions WHERE status = 'active' AND provider = 'yookassa' \
                 AND payment_method_id IS NOT NULL AND paid_until <= $2 \
                 AND (next_renewal_at IS NULL OR next_renewal_at <= $1) ORDER BY paid_until LIMIT 100"
            ),
            [now.into(), (now + ahead).into()],
        ),
    )
    .await
}

/// Renewing plans whose plan is none of `on_sale` (plan ids), at most 100, oldest first.
pub async fn renewing_off_sale<C: ConnectionTrait>(
    db: &C,
    on_sale: &[String],
) -> Result<Vec<Subscription>, DbErr> {
    // Plan ids are letters and digits, so a comma-joined list splits back exactly.
    let sql = format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE status = 'active' \
         AND NOT (plan = ANY (string_to_array($1, ','))) ORDER BY created_at LIMIT 100"
    );
    many(db, stmt(&sql, [on_sale.join(",").into()])).await
}

/// The payment renewing `subscription` for the period after its `paid_until`:
/// one per period and attempt, so a retried tick charges nothing twice (its id
/// is YooKassa's idempotence key), at the price the plan was bought for.
/// Returns its id and amount.
pub async fn renewal_payment<C: ConnectionTrait>(
    db: &C,
    subscription: &Subscription,
) -> Result<(PaymentId, Decimal), DbErr> {
    let until = subscription.paid_until.map_or(0, |at| at.timestamp());
    let key = format!("renewal:{}:{until}:{}", subscription.id, subscription.renewal_failures);
    insert_payment(
        db,
        PaymentId::new(),
        subscription.id,
        subscription.user_id,
        "yookassa",
        &subscription.plan,
        subscription.price,
        "RUB",
        &key,
    )
    .await?;
    let row = db
        .query_one_raw(stmt("SELECT id, amount FROM payments WHERE idempotency_key = $1", [key.into()]))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("renewal payment".into()))?;
    Ok((row.try_get("", "id")?, row.try_get("", "amount")?))
}

/// Counts a failed renewal; after `give_up_after` of them the plan stops
/// renewing (the saved method is forgotten) and `true` says the user must be
/// told. Otherwise the next try waits `retry_after`.
pub async fn renewal_failed<C: ConnectionTrait>(
    db: &C,
    id: SubscriptionId,
    retry_after: chrono::Duration,
    give_up_after: u32,
) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(stmt(
            "UPDATE subscriptions SET renewal_failures = renewal_failures + 1, next_renewal_at = now() + $2::interval, \
                 status = CASE WHEN renewal_failures + 1 >= $3 THEN 'canceled' ELSE status END, \
                 payment_method_id = CASE WHEN renewal_failures + 1 >= $3 THEN NULL ELSE payment_method_id END, \
                 updated_at = now() \
             WHERE id = $1 AND status = 'active' RETURNING status",
            [
                id.into(),
                sea_orm::Value::from(format!("{} seconds", retry_after.num_seconds())),
                i32::try_from(give_up_after).unwrap_or(i32::MAX).into(),
            ],
        ))
        .await?;
    Ok(row.map(|row| row.try_get::<String>("", "status")).transpose()?.as_deref() == Some("canceled"))
}

/// Ends plans whose last period is over at `now`; a renewing Stars plan gets
/// `stars_grace` for Telegram's renewal to arrive. Returns the plans ended.
pub async fn end_expired<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    stars_grace: chrono::Duration,
) -> Result<Vec<Subscription>, DbErr> {
    many(
        db,
        stmt(
            &format!(
                "UPDATE subscriptions SET status = 'ended', ended_reason = 'expired', payment_method_id = NULL, \
                     next_renewal_at = NULL, updated_at = now() \
                 WHERE status IN ('active', 'canceled') AND (paid_until <= $1 \
                     AND NOT (status = 'active' AND provider = 'stars' AND paid_until > $2)) \
                 RETURNING {COLUMNS}"
            ),
            [now.into(), (now - stars_grace).into()],
        ),
    )
    .await
}
