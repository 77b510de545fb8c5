//! A plan's allowances as a hold uses them: the period the user is inside now,
//! and what is left of it. Usage is counted in `free_allowance_usage` under the
//! plan's codes, keyed by the day the period began.

use super::{posting::*, *};
use crate::billing::plans::{self, PlanPeriod};

/// A plan allowance a hold can draw on: its usage row and the units left in it.
#[derive(Clone, Copy, Debug)]
pub(super) struct PlanGrant {
    pub(super) code: &'static str,
    pub(super) period: NaiveDate,
    pub(super) left: u32,
}

impl Ledger {
    /// The plan period `user_id` is inside at `at`, if any. A period refunded
    /// or of a plan that ended grants nothing.
    pub async fn plan_period_at<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: UserId,
        at: DateTime<Utc>,
    ) -> Result<Option<PlanPeriod>, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT s.plan, s.name, s.minutes, s.images, s.discount_percent, p.starts_at, p.ends_at \
                 FROM subscription_periods p \
                 JOIN subscriptions s ON s.id = p.subscription_id \
                 WHERE s.user_id = $1 AND s.status IN ('active', 'canceled') AND NOT p.refunded AND NOT p.duplicate \
                   AND p.starts_at <= $2 AND p.ends_at > $2 \
                 ORDER BY p.ends_at DESC LIMIT 1",
                [user_id.into(), at.into()],
            ))
            .await?;
        row.map(|row| {
            let count = |column: &str| -> Result<u32, DbErr> {
                Ok(u32::try_from(row.try_get::<i32>("", column)?).unwrap_or(0))
            };
            Ok(PlanPeriod {
                plan: row.try_get("", "plan")?,
                name: row.try_get("", "name")?,
                starts_at: row.try_get("", "starts_at")?,
                ends_at: row.try_get("", "ends_at")?,
                terms: plans::PlanTerms {
                    minutes: count("minutes")?,
                    images: count("images")?,
                    discount_percent: count("discount_percent")?,
                },
            })
        })
        .transpose()
    }

    /// Locks the usage row of the plan allowance `user_id` is inside now and
    /// returns it with the units left; `None` outside any plan.
    pub(super) async fn lock_plan_left(
        &self,
        txn: &DatabaseTransaction,
        user_id: UserId,
        allowance: Allowance,
    ) -> Result<Option<PlanGrant>, DbErr> {
        let Some(period) = self.plan_period_at(txn, user_id, (self.clock)()).await? else { return Ok(None) };
        let limit = period.terms.includes(allowance);
        if limit == 0 {
            return Ok(None);
        }
        let code = plans::usage_code(allowance);
        let key = period.usage_key(self.pricing.timezone);
        let used = lock_usage(txn, user_id, code, key).await?;
        Ok(Some(PlanGrant { code, period: key, left: limit.saturating_sub(used) }))
    }

    /// What is left of the plan `user_id` is inside now.
    pub(super) async fn plan_balance<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: UserId,
    ) -> Result<Option<PlanBalance>, DbErr> {
        let Some(period) = self.plan_period_at(db, user_id, (self.clock)()).await? else { return Ok(None) };
        let key = period.usage_key(self.pricing.timezone);
        let rows = db
            .query_all_raw(stmt(
                "SELECT allowance, used FROM free_allowance_usage \
                 WHERE user_id = $1 AND period_start = $2 AND allowance LIKE 'plan\\_%'",
                [user_id.into(), key.into()],
            ))
            .await?;
        let left = |allowance: Allowance| -> Result<u32, DbErr> {
            let mut total = 0;
            for row in &rows {
                if row.try_get::<String>("", "allowance")? == plans::usage_code(allowance) {
                    total = u32::try_from(row.try_get::<i32>("", "used")?).unwrap_or(0);
                }
            }
            Ok(period.terms.includes(allowance).saturating_sub(total))
        };
        let seconds_left = left(Allowance::TranscriptionSeconds)?;
        let images_left = left(Allowance::ImageGenerations)?;
        Ok(Some(PlanBalance { period, seconds_left, images_left }))
    }
}

/// Locks (creating it if need be) the usage row `code` of `user_id` for
/// `period` and returns the units used in it.
pub(super) async fn lock_usage(
    txn: &DatabaseTransaction,
    user_id: UserId,
    code: &str,
    period: NaiveDate,
) -> Result<u32, DbErr> {
    // The no-op update locks an existing row, so inserting or locking is one statement.
    let row = txn
        .query_one_raw(stmt(
            "INSERT INTO free_allowance_usage (user_id, allowance, period_start) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, allowance, period_start) DO UPDATE SET used = free_allowance_usage.used \
             RETURNING used",
            [user_id.into(), code.into(), period.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("allowance usage".into()))?;
    Ok(u32::try_from(row.try_get::<i32>("", "used")?).unwrap_or(0))
}
