//! Holds: reserving credit for a job, raising it, capturing what the work cost, releasing or
//! refunding it, and the free allowances a hold uses first.

use super::{plan_allowance::PlanGrant, posting::*, *};
use crate::platform::metrics::PostingResult;

/// A hold as the hold functions return it (`free_units` counts plan and free units).
pub(super) const HOLD_COLUMNS: &str =
    "job_id, user_id, amount, captured, allowance, free_units, free_period, status";

/// A hold read from its row, in the shape of [`HOLD_COLUMNS`] plus its plan part.
const HOLD_ROW_COLUMNS: &str = "job_id, user_id, amount, captured, allowance, \
     free_units + plan_units AS free_units, free_period, status, plan_units, plan_period";

pub(super) struct HoldRow {
    pub(super) hold: Hold,
    pub(super) free_period: Option<NaiveDate>,
}

/// The plan part of a hold read from its row: its units and their period.
struct HoldPlan {
    units: u32,
    period: Option<NaiveDate>,
}

fn hold_plan(row: &QueryResult) -> Result<HoldPlan, DbErr> {
    Ok(HoldPlan {
        units: u32::try_from(row.try_get::<i32>("", "plan_units")?).unwrap_or(0),
        period: row.try_get("", "plan_period")?,
    })
}

pub(super) fn hold_row(row: &QueryResult) -> Result<HoldRow, DbErr> {
    let free_units: i32 = row.try_get("", "free_units")?;
    Ok(HoldRow {
        hold: Hold {
            job_id: row.try_get("", "job_id")?,
            user_id: row.try_get("", "user_id")?,
            amount: credits(row.try_get("", "amount")?),
            captured: row.try_get::<Option<Decimal>>("", "captured")?.map(credits),
            free_units: u32::try_from(free_units).unwrap_or(0),
            status: HoldStatus::parse(&row.try_get::<String>("", "status")?)?,
        },
        free_period: row.try_get("", "free_period")?,
    })
}

async fn lock_hold(txn: &DatabaseTransaction, job_id: JobId) -> Result<(HoldRow, HoldPlan), LedgerError> {
    let row = txn
        .query_one_raw(stmt(
            &format!("SELECT {HOLD_ROW_COLUMNS} FROM ledger_holds WHERE job_id = $1 FOR UPDATE"),
            [job_id.into()],
        ))
        .await?
        .ok_or(LedgerError::HoldNotFound(job_id))?;
    Ok((hold_row(&row)?, hold_plan(&row)?))
}

/// Counts `units` of usage row `code` as used (the row is locked by `lock_usage`).
async fn use_units(
    txn: &DatabaseTransaction,
    user_id: UserId,
    code: &str,
    period: NaiveDate,
    units: u32,
) -> Result<(), DbErr> {
    txn.execute_raw(stmt(
        "UPDATE free_allowance_usage SET used = used + $4 \
         WHERE user_id = $1 AND allowance = $2 AND period_start = $3",
        [user_id.into(), code.into(), period.into(), as_i32(units).into()],
    ))
    .await
    .map(drop)
}

fn as_i32(units: u32) -> i32 {
    i32::try_from(units).unwrap_or(i32::MAX)
}

/// The allowance units a hold reserves: its plan's first, then free ones.
#[derive(Clone, Copy, Default)]
struct Reserved {
    plan: Option<(PlanGrant, u32)>,
    free: Option<(Allowance, NaiveDate, u32)>,
}

/// The outcome a hold function (`ledger_hold`, `ledger_capture`, `ledger_release`) answered.
fn hold_outcome(row: &QueryResult) -> Result<String, DbErr> {
    row.try_get("", "outcome")
}

/// How many times a capture priced from a hold that changed under it is tried again.
const STALE_CAPTURE_RETRIES: usize = 3;

/// How a capture decides what to charge.
pub(super) enum Charge {
    /// Exactly this amount.
    Amount(Credits),
    /// The price of the work actually done, against the allowance reserved with the hold.
    Work(Work),
}

impl Ledger {
    /// Reserves exactly `amount` for `job_id` (which must exist).
    pub async fn hold<C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        user_id: UserId,
        job_id: JobId,
        amount: Credits,
    ) -> Result<Hold, LedgerError> {
        self.reserve(db, user_id, job_id, Work::Fixed(amount)).await
    }

    /// Prices `work` (free allowance first) and reserves the price for `job_id`.
    /// The free units are consumed in the same transaction and come back if
    /// the hold is released. Holding twice for one job returns the first hold.
    pub async fn hold_for_work<C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        user_id: UserId,
        job_id: JobId,
        work: Work,
    ) -> Result<Hold, LedgerError> {
        self.reserve(db, user_id, job_id, work).await
    }

    pub(super) async fn reserve<C>(
        &self,
        db: &C,
        user_id: UserId,
        job_id: JobId,
        work: Work,
    ) -> Result<Hold, LedgerError>
    where
        C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
    {
        if work.allowance().is_none() {
            // No allowance to lock: the hold is one statement, one round trip.
            let quote = pricing::quote(&self.pricing, work, 0);
            return self.insert_hold(db, user_id, job_id, work, quote, Reserved::default()).await;
        }
        let txn = db.begin().await?;
        let hold = self.hold_for_work_in(&txn, user_id, job_id, work).await?;
        // A replayed hold changed nothing; committing is harmless.
        txn.commit().await?;
        Ok(hold)
    }

    /// [`Self::hold_for_work`] inside the caller's transaction, which commits
    /// it with its own writes (a job's intake: no savepoint, two round trips
    /// less). A refusal has written nothing, so the transaction stays usable.
    pub async fn hold_for_work_in(
        &self,
        txn: &DatabaseTransaction,
        user_id: UserId,
        job_id: JobId,
        work: Work,
    ) -> Result<Hold, LedgerError> {
        let Some((allowance, units)) = work.allowance() else {
            let quote = pricing::quote(&self.pricing, work, 0);
            return self.insert_hold(txn, user_id, job_id, work, quote, Reserved::default()).await;
        };
        let plan = self.lock_plan_left(txn, user_id, allowance).await?;
        let plan_units = plan.map_or(0, |grant| units.min(grant.left));
        let period = allowance.period_start(&self.pricing, (self.clock)());
        // A plan that covers the whole job leaves the free allowance untouched.
        let free_left =
            if plan_units < units { self.lock_free_left(txn, user_id, allowance, period).await? } else { 0 };
        let quote = pricing::quote(&self.pricing, work, plan_units.saturating_add(free_left));
        let free_units = quote.free_units - plan_units.min(quote.free_units);
        let reserved = Reserved {
            plan: plan.filter(|_| plan_units > 0).map(|grant| (grant, plan_units)),
            free: (free_units > 0).then_some((allowance, period, free_units)),
        };
        self.insert_hold(txn, user_id, job_id, work, quote, reserved).await
    }

    /// Calls `ledger_hold` (migration 0024): the replay check, the posting and
    /// the hold row in one round trip. A refusal has written nothing.
    async fn insert_hold<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: UserId,
        job_id: JobId,
        work: Work,
        quote: pricing::Quote,
        reserved: Reserved,
    ) -> Result<Hold, LedgerError> {
        let now = (self.clock)();
        let Reserved { plan, free } = reserved;
        let row = db
            .query_one_raw(stmt(
                &format!(
                    "SELECT outcome, short_balance, {HOLD_COLUMNS} \
                     FROM ledger_hold($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ),
                [
                    job_id.into(),
                    user_id.into(),
                    quote.price.amount().into(),
                    free.map(|(allowance, _, _)| allowance.code().to_owned()).into(),
                    as_i32(free.map_or(0, |(_, _, units)| units)).into(),
                    free.map(|(_, period, _)| period).into(),
                    now.into(),
                    plan.map(|(grant, _)| grant.code.to_owned()).into(),
                    as_i32(plan.map_or(0, |(_, units)| units)).into(),
                    plan.map(|(grant, _)| grant.period).into(),
                ],
            ))
            .await?
            .ok_or_else(|| no_answer("ledger_hold"))?;
        match hold_outcome(&row)?.as_str() {
            "held" => {
                if quote.price > Credits::ZERO {
                    crate::platform::metrics::live()
                        .ledger_posting(TransactionKind::Hold, PostingResult::Posted);
                }
                Ok(hold_row(&row)?.hold)
            }
            "existing" => self.replayed_hold(hold_row(&row)?.hold, user_id, work),
            "insufficient" => Err(LedgerError::InsufficientFunds {
                needed: quote.price,
                available: credits(row.try_get("", "short_balance")?),
            }),
            other => Err(DbErr::Type(format!("unknown ledger_hold outcome {other}")).into()),
        }
    }

    pub(super) fn replayed_hold(&self, hold: Hold, user_id: UserId, work: Work) -> Result<Hold, LedgerError> {
        let same_amount = match work {
            Work::Fixed(amount) => hold.amount == amount,
            // Re-quoting now could differ (allowance used since): the first hold stands.
            _ => true,
        };
        if hold.user_id != user_id || !same_amount {
            return Err(LedgerError::IdempotencyConflict { key: format!("hold:{}", hold.job_id) });
        }
        Ok(hold)
    }

    /// Raises an open hold to the price of `work` when the work turned out
    /// bigger than quoted (a document's length is known only once the worker
    /// has measured it; Telegram rounds a voice note's length to whole
    /// seconds). The extra units are priced with what is left of the user's
    /// free allowance first, so a user inside it is never asked for a
    /// fraction of a credit. Does nothing when the hold already covers the
    /// work or is no longer open (a retried job past its capture), so it is
    /// safe to repeat.
    ///
    /// # Errors
    /// [`LedgerError::InsufficientFunds`], changing nothing, when the balance
    /// does not cover the difference.
    pub async fn raise_hold<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: JobId,
        work: Work,
    ) -> Result<Hold, LedgerError> {
        let txn = db.begin().await?;
        let (row, plan) = lock_hold(&txn, job_id).await?;
        let mut hold = row.hold.clone();
        if hold.status != HoldStatus::Open {
            return Ok(hold);
        }
        let units = work.allowance().map_or(1, |(_, units)| units);
        if let Some((allowance, _)) = work.allowance()
            && units > hold.free_units
        {
            self.raise_from_plan(&txn, &mut hold, &plan, allowance, units).await?;
        }
        if let Some((allowance, _)) = work.allowance()
            && units > hold.free_units
        {
            // The hold's own period, so a job queued before midnight stays in its day.
            let period =
                row.free_period.unwrap_or_else(|| allowance.period_start(&self.pricing, (self.clock)()));
            let free_left = self.lock_free_left(&txn, hold.user_id, allowance, period).await?;
            let extra = (units - hold.free_units).min(free_left);
            if extra > 0 {
                use_units(&txn, hold.user_id, allowance.code(), period, extra).await?;
                hold.free_units += extra;
                txn.execute_raw(stmt(
                    "UPDATE ledger_holds SET free_units = free_units + $2, allowance = $3, free_period = $4 \
                     WHERE job_id = $1",
                    [job_id.into(), as_i32(extra).into(), allowance.code().into(), period.into()],
                ))
                .await?;
            }
        }
        let price = pricing::price_of_units(&self.pricing, work, units.saturating_sub(hold.free_units));
        if price <= hold.amount {
            txn.commit().await?;
            return Ok(hold);
        }
        let extra = price.amount() - hold.amount.amount();
        let key = format!("hold:{job_id}:raise:{}", price.amount());
        let row = txn
            .query_one_raw(stmt(
                "SELECT p.transaction_id, p.outcome, p.short_needed, p.short_balance \
                 FROM ledger_user_accounts($1, true) u, \
                 LATERAL ledger_post('hold', $2, $3, NULL, 'system', 'reserved for a job longer than quoted', \
                                     ARRAY[u.available, u.held], ARRAY[-$4::NUMERIC, $4::NUMERIC]) p",
                [hold.user_id.into(), key.clone().into(), job_id.into(), extra.into()],
            ))
            .await?
            .ok_or_else(|| no_answer("ledger_post"))?;
        posting_outcome(&row, TransactionKind::Hold, &key)?;
        txn.execute_raw(stmt(
            "UPDATE ledger_holds SET amount = $2 WHERE job_id = $1",
            [job_id.into(), price.amount().into()],
        ))
        .await?;
        txn.commit().await?;
        Ok(Hold { amount: price, ..hold })
    }

    /// The longest transcription, in whole seconds, that job `job_id` could
    /// be charged for: its hold (credits and free seconds), what is left of
    /// the free allowance and the available balance. Decoding a recording is
    /// stopped past this, so a file that understates its length costs no more
    /// work than its sender can pay for.
    pub async fn transcription_budget<C: ConnectionTrait>(
        &self,
        db: &C,
        job_id: JobId,
    ) -> Result<u32, LedgerError> {
        let hold = self.hold_of(db, job_id).await?;
        let balance = self.balance(db, hold.user_id).await?;
        let credits =
            Credits::new(hold.amount.amount() + balance.available.amount()).unwrap_or(Credits::ZERO);
        let paid = pricing::transcription_seconds_for(&self.pricing, credits);
        // A hold from another day keeps that day's allowance; today's is what is left now.
        let plan = balance.plan.as_ref().map_or(0, |plan| plan.seconds_left);
        let free = hold.free_units.saturating_add(balance.free_seconds_left_today).saturating_add(plan);
        Ok(paid.saturating_add(free))
    }

    /// The hold of job `job_id` as it stands.
    pub async fn hold_of<C: ConnectionTrait>(&self, db: &C, job_id: JobId) -> Result<Hold, LedgerError> {
        let row = db
            .query_one_raw(stmt(
                &format!("SELECT {HOLD_ROW_COLUMNS} FROM ledger_holds WHERE job_id = $1"),
                [job_id.into()],
            ))
            .await?
            .ok_or(LedgerError::HoldNotFound(job_id))?;
        Ok(hold_row(&row)?.hold)
    }

    /// Locks the user's usage row of `allowance` for `period` and returns how
    /// many units are left in it.
    pub(super) async fn lock_free_left(
        &self,
        txn: &DatabaseTransaction,
        user_id: UserId,
        allowance: Allowance,
        period: NaiveDate,
    ) -> Result<u32, DbErr> {
        let used = super::plan_allowance::lock_usage(txn, user_id, allowance.code(), period).await?;
        Ok(allowance.limit(&self.pricing).saturating_sub(used))
    }

    /// Covers more of a raised hold's `units` from the plan period the user is inside now.
    async fn raise_from_plan(
        &self,
        txn: &DatabaseTransaction,
        hold: &mut Hold,
        plan: &HoldPlan,
        allowance: Allowance,
        units: u32,
    ) -> Result<(), LedgerError> {
        let Some(grant) = self.lock_plan_left(txn, hold.user_id, allowance).await? else { return Ok(()) };
        if plan.units > 0 && plan.period != Some(grant.period) {
            // The hold's plan period is over: a hold counts units of one period only.
            return Ok(());
        }
        let extra = (units - hold.free_units).min(grant.left);
        if extra == 0 {
            return Ok(());
        }
        use_units(txn, hold.user_id, grant.code, grant.period, extra).await?;
        hold.free_units += extra;
        txn.execute_raw(stmt(
            "UPDATE ledger_holds SET plan_units = plan_units + $2, plan_allowance = $3, plan_period = $4 \
             WHERE job_id = $1",
            [hold.job_id.into(), as_i32(extra).into(), grant.code.into(), grant.period.into()],
        ))
        .await?;
        Ok(())
    }

    /// Charges `actual` (at most what is held) and returns the rest to the
    /// user. Capturing again with the same amount returns the same result.
    pub async fn capture<C: ConnectionTrait>(
        &self,
        db: &C,
        job_id: JobId,
        actual: Credits,
    ) -> Result<Hold, LedgerError> {
        self.settle_capture(db, job_id, Charge::Amount(actual)).await
    }

    /// Charges for the work actually done (e.g. the exact duration the worker
    /// measured): the free units reserved cover it first, unused free units
    /// go back to the allowance, and the charge never exceeds the hold.
    pub async fn capture_work<C: ConnectionTrait>(
        &self,
        db: &C,
        job_id: JobId,
        actual: Work,
    ) -> Result<Hold, LedgerError> {
        self.settle_capture(db, job_id, Charge::Work(actual)).await
    }

    pub(super) async fn settle_capture<C: ConnectionTrait>(
        &self,
        db: &C,
        job_id: JobId,
        charge: Charge,
    ) -> Result<Hold, LedgerError> {
        for _ in 0..STALE_CAPTURE_RETRIES {
            // A charge for work is priced from the hold as read here; `ledger_capture`
            // refuses it as stale if a raise changed the hold meanwhile.
            let (amount, free_used, seen) = match charge {
                Charge::Amount(amount) => (amount, None, None),
                Charge::Work(work) => {
                    let hold = self.hold_of(db, job_id).await?;
                    let units = work.allowance().map_or(1, |(_, units)| units);
                    let free_used = units.min(hold.free_units);
                    let price = pricing::price_of_units(&self.pricing, work, units - free_used);
                    (price.min(hold.amount), Some(free_used), Some((hold.amount, hold.free_units)))
                }
            };
            let row = db
                .query_one_raw(stmt(
                    &format!("SELECT outcome, {HOLD_COLUMNS} FROM ledger_capture($1, $2, $3, $4, $5)"),
                    [
                        job_id.into(),
                        amount.amount().into(),
                        free_used.map(as_i32).into(),
                        seen.map(|(held, _)| held.amount()).into(),
                        seen.map(|(_, free)| as_i32(free)).into(),
                    ],
                ))
                .await?
                .ok_or_else(|| no_answer("ledger_capture"))?;
            let outcome = hold_outcome(&row)?;
            if outcome == "not_found" {
                return Err(LedgerError::HoldNotFound(job_id));
            }
            let hold = hold_row(&row)?.hold;
            return match outcome.as_str() {
                "captured" => {
                    if hold.amount > Credits::ZERO {
                        crate::platform::metrics::live()
                            .ledger_posting(TransactionKind::Capture, PostingResult::Posted);
                    }
                    Ok(hold)
                }
                "replayed" => Ok(hold),
                "conflict" => Err(LedgerError::IdempotencyConflict { key: format!("capture:{job_id}") }),
                "settled" => Err(LedgerError::HoldAlreadySettled { job_id, status: hold.status }),
                "exceeds" => Err(LedgerError::CaptureExceedsHold { held: hold.amount, requested: amount }),
                "stale" => continue,
                other => Err(DbErr::Type(format!("unknown ledger_capture outcome {other}")).into()),
            };
        }
        Err(DbErr::Custom(format!("the hold of job {job_id} kept changing while it was captured")).into())
    }

    /// Gives the whole hold back, free units included. Releasing twice is fine.
    pub async fn release<C: ConnectionTrait>(&self, db: &C, job_id: JobId) -> Result<Hold, LedgerError> {
        let row = db
            .query_one_raw(stmt(
                &format!("SELECT outcome, {HOLD_COLUMNS} FROM ledger_release($1)"),
                [job_id.into()],
            ))
            .await?
            .ok_or_else(|| no_answer("ledger_release"))?;
        let outcome = hold_outcome(&row)?;
        if outcome == "not_found" {
            return Err(LedgerError::HoldNotFound(job_id));
        }
        let hold = hold_row(&row)?.hold;
        match outcome.as_str() {
            "released" => {
                if hold.amount > Credits::ZERO {
                    crate::platform::metrics::live()
                        .ledger_posting(TransactionKind::Release, PostingResult::Posted);
                }
                Ok(hold)
            }
            "replayed" => Ok(hold),
            "settled" => Err(LedgerError::HoldAlreadySettled { job_id, status: hold.status }),
            other => Err(DbErr::Type(format!("unknown ledger_release outcome {other}")).into()),
        }
    }

    /// Gives a charged job's price back to the user, once; `actor` says who decided.
    pub async fn refund<C: ConnectionTrait>(
        &self,
        db: &C,
        job_id: JobId,
        actor: &str,
        reason: &str,
    ) -> Result<Posting, LedgerError> {
        let key = format!("refund:{job_id}");
        let row = db
            .query_one_raw(stmt(
                "SELECT transaction_id, outcome FROM ledger_refund($1, $2, $3)",
                [job_id.into(), actor.into(), reason.into()],
            ))
            .await?
            .ok_or_else(|| no_answer("ledger_refund"))?;
        match hold_outcome(&row)?.as_str() {
            "not_found" => Err(LedgerError::HoldNotFound(job_id)),
            "not_captured" => Err(LedgerError::NotCaptured(job_id)),
            "free" => Err(LedgerError::InvalidAmount("the job was free: nothing to refund".into())),
            "replayed" => Ok(Posting {
                transaction_id: row.try_get::<Option<i64>>("", "transaction_id")?.unwrap_or(0),
                replayed: true,
            }),
            _ => posting_outcome(&row, TransactionKind::Refund, &key),
        }
    }

    /// Releases holds older than `older_than` whose job is no longer queued or
    /// running (crashed bots, lost jobs). Returns the jobs released.
    pub async fn release_stale_holds<
        C: TransactionTrait<Transaction = DatabaseTransaction> + ConnectionTrait,
    >(
        &self,
        db: &C,
        older_than: chrono::Duration,
    ) -> Result<Vec<JobId>, LedgerError> {
        let cutoff = (self.clock)() - older_than;
        let rows = db
            .query_all_raw(stmt(
                "SELECT h.job_id FROM ledger_holds h JOIN jobs j ON j.id = h.job_id \
                 WHERE h.status = 'open' AND h.created_at < $1 AND j.status NOT IN ('queued', 'running') \
                 ORDER BY h.created_at LIMIT 500",
                [cutoff.into()],
            ))
            .await?;
        let mut released = Vec::new();
        for row in rows {
            let job_id: JobId = row.try_get("", "job_id")?;
            match self.release(db, job_id).await {
                Ok(_) => released.push(job_id),
                // Settled by its job between our scan and now: nothing to do.
                Err(LedgerError::HoldAlreadySettled { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        if !released.is_empty() {
            tracing::warn!(count = released.len(), "released stale holds");
        }
        Ok(released)
    }
}
