//! Refunds of settled purchases, whichever way they come: a YooKassa refund
//! (made by an admin through the bot, or in YooKassa's dashboard and reported
//! by `refund.succeeded`) or a Stars refund. Each provider refund is applied
//! once (`payment_refunds`, under the payment's row lock): the purchase's
//! credits come back in proportion to the refunded part, and so does the same
//! share of a referral bonus the purchase earned its referrer. Credits are
//! taken back only down to zero: what was already spent is the shortfall,
//! recorded with the refund and in the audit trail.

use rust_decimal::Decimal;
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, Statement};

use super::audit::{self, Action, Actor, Entry};
use crate::billing::ledger::{Ledger, LedgerError, Purchase};
use crate::billing::money::Credits;
use crate::entities::payments::{self, PaymentStatus};
use crate::entities::users;
use crate::ids::{PaymentId, TelegramUserId, UserId};
use crate::payments::PaymentError;

/// How much of a refund's credits must come back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    /// All of them, or nothing changes ([`LedgerError::InsufficientFunds`]):
    /// a refund we are about to make.
    All,
    /// What the user still has, down to zero: a refund the provider already made.
    DownToZero,
}

/// One refund to apply.
#[derive(Clone, Debug)]
pub struct Refund<'a> {
    /// Our payment.
    pub payment_id: PaymentId,
    /// The provider's refund id (YooKassa's refund id; `stars:<charge id>`).
    pub provider_refund_id: &'a str,
    /// The refunded amount, in the payment's currency.
    pub amount: Decimal,
    /// All the credits, or what is there.
    pub collection: Collection,
    /// Who did it.
    pub actor: Actor,
}

/// What a refund did to the books.
#[derive(Clone, Debug, PartialEq)]
pub struct AppliedRefund {
    /// The payment, as it was before this refund.
    pub payment: payments::Model,
    /// The refunded amount, in the payment's currency.
    pub amount: Decimal,
    /// The payer's credits this refund stands for.
    pub credits_due: Decimal,
    /// Of them, taken back.
    pub credits_taken: Decimal,
    /// The referrer whose bonus this purchase earned, if any.
    pub referrer: Option<UserId>,
    /// The bonus credits this refund stands for.
    pub bonus_due: Decimal,
    /// Of them, taken back.
    pub bonus_taken: Decimal,
    /// Nothing of the payment is left unrefunded.
    pub fully_refunded: bool,
    /// Applied before: this call changed nothing.
    pub replayed: bool,
}

impl AppliedRefund {
    /// Credits the payer had already spent and kept.
    pub fn shortfall(&self) -> Decimal {
        self.credits_due - self.credits_taken
    }
}

/// Applies `refund` in `txn`, once per provider refund id.
///
/// # Errors
/// [`PaymentError::NotFound`]; [`PaymentError::NotRefundable`] for a payment
/// not paid or already wholly refunded; with [`Collection::All`],
/// [`LedgerError::InsufficientFunds`] when the payer spent the credits; the
/// database's. Nothing is final until the caller commits.
pub async fn apply(
    txn: &DatabaseTransaction,
    ledger: &Ledger,
    refund: &Refund<'_>,
) -> Result<AppliedRefund, PaymentError> {
    // The payment's row lock orders every refund of one payment.
    txn.query_one_raw(stmt("SELECT id FROM payments WHERE id = $1 FOR UPDATE", [refund.payment_id.into()]))
        .await?
        .ok_or(PaymentError::NotFound(refund.payment_id))?;
    let payment = payments::Entity::find_by_id(refund.payment_id)
        .one(txn)
        .await?
        .ok_or(PaymentError::NotFound(refund.payment_id))?;
    if let Some(done) = recorded(txn, &payment, refund.provider_refund_id).await? {
        return Ok(done);
    }
    // A payment marked refunded before refunds were recorded here was refunded whole.
    if payment.status != PaymentStatus::Succeeded {
        return Err(PaymentError::NotRefundable(payment.id, payment.status));
    }
    let before = txn
        .query_one_raw(stmt(
            "SELECT COALESCE(SUM(amount), 0) AS amount, COALESCE(SUM(credits_due), 0) AS credits, \
             COALESCE(SUM(bonus_due), 0) AS bonus FROM payment_refunds WHERE payment_id = $1",
            [payment.id.into()],
        ))
        .await?
        .ok_or(PaymentError::NotFound(payment.id))?;
    let (refunded_before, credits_before, bonus_before): (Decimal, Decimal, Decimal) =
        (before.try_get("", "amount")?, before.try_get("", "credits")?, before.try_get("", "bonus")?);
    let left = payment.amount - refunded_before;
    let amount = refund.amount.min(left);
    if amount <= Decimal::ZERO {
        return Err(PaymentError::NotRefundable(payment.id, PaymentStatus::Refunded));
    }
    let last = amount == left;
    // The last part takes whatever the earlier parts' rounding left, so the parts add up.
    let share = |whole: Decimal, earlier: Decimal| {
        if last { whole - earlier } else { (whole * amount / payment.amount).round_dp(4) }
    };
    let actor = refund.actor.to_string();

    let credits_due = share(payment.credits, credits_before);
    let credits_taken = collect(ledger, txn, payment.user_id, credits_due, refund.collection).await?;
    if credits_taken > Decimal::ZERO {
        let purchase = Purchase {
            user_id: payment.user_id,
            credits: credits(credits_taken)?,
            provider: payment.provider,
            provider_payment_id: format!("refund:{}", refund.provider_refund_id),
            payment_id: Some(payment.id),
        };
        ledger.reverse_purchase(txn, &purchase, &actor).await?;
    }

    let (referrer, bonus_due, bonus_taken) = match referral_bonus_of(txn, &payment).await? {
        None => (None, Decimal::ZERO, Decimal::ZERO),
        Some((referrer, bonus)) => {
            let due = share(bonus, bonus_before);
            // The referrer did nothing wrong: their bonus comes back only as far as it is there.
            let taken = collect(ledger, txn, referrer, due, Collection::DownToZero).await?;
            if taken > Decimal::ZERO {
                ledger
                    .reverse_bonus(txn, referrer, credits(taken)?, refund.provider_refund_id, &actor)
                    .await?;
            }
            (Some(referrer), due, taken)
        }
    };

    txn.execute_raw(stmt(
        "INSERT INTO payment_refunds (provider_refund_id, payment_id, amount, credits_due, credits_taken, \
         referrer_id, bonus_due, bonus_taken, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        [
            refund.provider_refund_id.into(),
            payment.id.into(),
            amount.into(),
            credits_due.into(),
            credits_taken.into(),
            referrer.into(),
            bonus_due.into(),
            bonus_taken.into(),
            actor.clone().into(),
        ],
    ))
    .await?;
    if last {
        txn.execute_raw(stmt(
            "UPDATE payments SET status = 'refunded', updated_at = now() WHERE id = $1",
            [payment.id.into()],
        ))
        .await?;
    }
    // A plan's period refunded, even in part, ends the plan.
    if let Some(ended) = crate::payments::subscriptions::end_refunded(txn, payment.id).await? {
        tracing::info!(subscription = %ended.id, plan = %ended.plan, "plan ended by a refund");
    }
    let applied = AppliedRefund {
        payment,
        amount,
        credits_due,
        credits_taken,
        referrer,
        bonus_due,
        bonus_taken,
        fully_refunded: last,
        replayed: false,
    };
    audit::append(txn, &entry(&applied, refund)).await?;
    Ok(applied)
}

/// The audit record of a refund, written with it.
fn entry(applied: &AppliedRefund, refund: &Refund<'_>) -> Entry {
    let payment = &applied.payment;
    Entry {
        actor: refund.actor,
        action: Action::PaymentRefund,
        target: Some(payment.user_id),
        before: Some(serde_json::json!({ "payment": payment.id, "status": payment.status.to_value() })),
        after: Some(serde_json::json!({
            "payment": payment.id,
            "refund": refund.provider_refund_id,
            "status": if applied.fully_refunded { "refunded" } else { "partly refunded" },
            "amount": applied.amount.normalize(),
            "currency": payment.currency,
            "credits_reversed": applied.credits_taken.normalize(),
            "credits_shortfall": applied.shortfall().normalize(),
            "referrer": applied.referrer,
            "bonus_reversed": applied.bonus_taken.normalize(),
            "bonus_shortfall": (applied.bonus_due - applied.bonus_taken).normalize(),
        })),
        reason: format!("{} refund {}", payment.provider.to_value(), refund.provider_refund_id),
    }
}

/// How much of `due` to take from `user`: all of it (the ledger refuses when
/// it is not there), or what is available.
async fn collect(
    ledger: &Ledger,
    txn: &DatabaseTransaction,
    user: UserId,
    due: Decimal,
    collection: Collection,
) -> Result<Decimal, PaymentError> {
    Ok(match collection {
        Collection::All => due,
        Collection::DownToZero => {
            due.min(ledger.balance(txn, user).await?.available.amount()).max(Decimal::ZERO)
        }
    })
}

fn credits(amount: Decimal) -> Result<Credits, PaymentError> {
    Credits::new(amount).map_err(|err| LedgerError::InvalidAmount(err.to_string()).into())
}

/// The refund `provider_refund_id` as applied before, if it was.
async fn recorded(
    txn: &DatabaseTransaction,
    payment: &payments::Model,
    provider_refund_id: &str,
) -> Result<Option<AppliedRefund>, PaymentError> {
    let Some(row) = txn
        .query_one_raw(stmt(
            "SELECT r.amount, r.credits_due, r.credits_taken, r.referrer_id, r.bonus_due, r.bonus_taken, \
             p.status = 'refunded' AS whole FROM payment_refunds r JOIN payments p ON p.id = r.payment_id \
             WHERE r.provider_refund_id = $1 AND r.payment_id = $2",
            [provider_refund_id.into(), payment.id.into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(AppliedRefund {
        payment: payment.clone(),
        amount: row.try_get("", "amount")?,
        credits_due: row.try_get("", "credits_due")?,
        credits_taken: row.try_get("", "credits_taken")?,
        referrer: row.try_get::<Option<i64>>("", "referrer_id")?.map(UserId),
        bonus_due: row.try_get("", "bonus_due")?,
        bonus_taken: row.try_get("", "bonus_taken")?,
        fully_refunded: row.try_get("", "whole")?,
        replayed: true,
    }))
}

/// The referral bonus `payment` earned, as (referrer, credits). The bonus is
/// granted in the transaction that credits the referee's first purchase, so
/// its ledger transaction carries the same `created_at` (PostgreSQL's `now()`
/// is the transaction's start) as that purchase's.
async fn referral_bonus_of(
    txn: &DatabaseTransaction,
    payment: &payments::Model,
) -> Result<Option<(UserId, Decimal)>, PaymentError> {
    let Some(provider_payment_id) = &payment.provider_payment_id else { return Ok(None) };
    let row = txn
        .query_one_raw(stmt(
            "SELECT a.user_id, e.amount FROM ledger_transactions b \
             JOIN ledger_transactions p ON p.idempotency_key = $2 AND p.created_at = b.created_at \
             JOIN ledger_entries e ON e.transaction_id = b.id \
             JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'user_available' \
             WHERE b.idempotency_key = $1",
            [
                format!("bonus:referral:{}", payment.user_id).into(),
                format!("purchase:{}:{provider_payment_id}", payment.provider.to_value()).into(),
            ],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((UserId(row.try_get("", "user_id")?), row.try_get("", "amount")?)))
}

fn stmt(sql: &str, values: impl IntoIterator<Item = sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// What of `payment` is not refunded yet, in its currency.
///
/// # Errors
/// The database's.
pub async fn unrefunded<C: ConnectionTrait>(
    db: &C,
    payment: &payments::Model,
) -> Result<Decimal, sea_orm::DbErr> {
    let row = db
        .query_one_raw(stmt(
            "SELECT COALESCE(SUM(amount), 0) AS amount FROM payment_refunds WHERE payment_id = $1",
            [payment.id.into()],
        ))
        .await?;
    let refunded: Decimal = row.map(|row| row.try_get("", "amount")).transpose()?.unwrap_or_default();
    Ok(payment.amount - refunded)
}

/// Our YooKassa payment whose YooKassa id is `provider_payment_id`.
///
/// # Errors
/// The database's.
pub async fn yookassa_payment<C: ConnectionTrait>(
    db: &C,
    provider_payment_id: &str,
) -> Result<Option<payments::Model>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    payments::Entity::find()
        .filter(payments::Column::Provider.eq(payments::PaymentProvider::YooKassa))
        .filter(payments::Column::ProviderPaymentId.eq(provider_payment_id))
        .one(db)
        .await
}

/// Applies a YooKassa refund as fetched from the API (never as a
/// notification's body says): the money is back with the payer already, so
/// the credits come back down to zero. `None`: not a succeeded refund of one
/// of our payments.
///
/// # Errors
/// As [`apply`], and the database's.
pub async fn apply_yookassa<C>(
    db: &C,
    ledger: &Ledger,
    fetched: &crate::payments::yookassa::Refund,
    actor: Actor,
) -> Result<Option<AppliedRefund>, PaymentError>
where
    C: sea_orm::TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    if fetched.status != crate::payments::yookassa::RefundStatus::Succeeded {
        return Ok(None);
    }
    let Some(payment) = yookassa_payment(db, &fetched.payment_id).await? else { return Ok(None) };
    let Some(amount) = fetched.amount.decimal().filter(|amount| *amount > Decimal::ZERO) else {
        return Ok(None);
    };
    let txn = db.begin().await?;
    let refund = Refund {
        payment_id: payment.id,
        provider_refund_id: &fetched.id,
        amount,
        collection: Collection::DownToZero,
        actor,
    };
    let applied = apply(&txn, ledger, &refund).await?;
    txn.commit().await?;
    Ok(Some(applied))
}

/// Applies a Stars refund Telegram reported with a `refunded_payment` service message: the Stars
/// are back with the payer already (refunded by us, or by Telegram on a complaint), so the
/// credits come back down to zero, once per charge (the same refund id as our own `/refund`,
/// so the message that follows our own refund changes nothing). `None`: not one of our Stars
/// payments.
///
/// # Errors
/// As [`apply`], and the database's.
pub async fn apply_stars_refunded<C>(
    db: &C,
    ledger: &Ledger,
    charge_id: &str,
    stars: u32,
) -> Result<Option<AppliedRefund>, PaymentError>
where
    C: sea_orm::TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
{
    let row = db
        .query_one_raw(stmt(
            "SELECT id FROM payments WHERE provider = 'stars' AND provider_payment_id = $1",
            [charge_id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let txn = db.begin().await?;
    let refund = Refund {
        payment_id: row.try_get("", "id")?,
        provider_refund_id: &format!("stars:{charge_id}"),
        amount: Decimal::from(stars),
        collection: Collection::DownToZero,
        actor: Actor::System,
    };
    let applied = match apply(&txn, ledger, &refund).await {
        Ok(applied) => applied,
        // Refunded whole before this id was recorded: nothing is left to take back.
        Err(PaymentError::NotRefundable(..)) => return Ok(None),
        Err(err) => return Err(err),
    };
    txn.commit().await?;
    Ok(Some(applied))
}

/// What preparing a Stars refund found.
#[derive(Clone, Debug, PartialEq)]
pub enum StarsRefund {
    /// The credits are taken back (and the referrer's bonus, as far as it is
    /// there) and the payment marked refunded inside the caller's transaction:
    /// commit it once Telegram has returned the Stars, drop it if Telegram refuses.
    Ready {
        /// What the refund does to the books; its payment as it was before.
        applied: Box<AppliedRefund>,
        /// Whom to give the Stars back to.
        payer_telegram_id: TelegramUserId,
    },
    /// No Stars payment has this charge id.
    NotFound,
    /// The payment is not in a state that can be refunded.
    NotRefundable(PaymentStatus),
}

/// Prepares the refund of the Stars payment `charge_id` in `txn`: takes its
/// credits back from the payer (failing with [`LedgerError::InsufficientFunds`]
/// when they are spent) and the referral bonus it earned, and marks it
/// refunded, through [`apply`]. Nothing is final until the caller commits.
pub async fn prepare_stars_refund(
    txn: &DatabaseTransaction,
    ledger: &Ledger,
    charge_id: &str,
    actor: Actor,
) -> Result<StarsRefund, PaymentError> {
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM payments WHERE provider = 'stars' AND provider_payment_id = $1",
            [charge_id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(StarsRefund::NotFound) };
    let payment_id: PaymentId = row.try_get("", "id")?;
    let payment =
        payments::Entity::find_by_id(payment_id).one(txn).await?.ok_or(PaymentError::NotFound(payment_id))?;
    let payer = users::Entity::find_by_id(payment.user_id)
        .one(txn)
        .await?
        .ok_or(PaymentError::NotFound(payment_id))?;
    let refund = Refund {
        payment_id,
        provider_refund_id: &format!("stars:{charge_id}"),
        amount: payment.amount,
        collection: Collection::All,
        actor,
    };
    match apply(txn, ledger, &refund).await {
        // Refunded before: Telegram must not be asked twice.
        Ok(applied) if applied.replayed => Ok(StarsRefund::NotRefundable(PaymentStatus::Refunded)),
        Ok(applied) => {
            Ok(StarsRefund::Ready { applied: Box::new(applied), payer_telegram_id: payer.telegram_id })
        }
        Err(PaymentError::NotRefundable(_, status)) => Ok(StarsRefund::NotRefundable(status)),
        Err(err) => Err(err),
    }
}
