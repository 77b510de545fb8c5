//! Holds: reserving credit for a job, raising it, capturing what the work cost, releasing or
//! refunding it, and the free allowances a hold uses first.

use super::{posting::*, *};

pub(super) const HOLD_COLUMNS: &str =
    "job_id, user_id, amount, captured, allowance, free_units, free_period, status";

pub(super) struct HoldRow {
    pub(super) hold: Hold,
    pub(super) allowance: Option<Allowance>,
    pub(super) free_period: Option<NaiveDate>,
}

pub(super) fn hold_row(row: &QueryResult) -> Result<HoldRow, DbErr> {
    let allowance: Option<String> = row.try_get("", "allowance")?;
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
        allowance: allowance.as_deref().and_then(Allowance::from_code),
        free_period: row.try_get("", "free_period")?,
    })
}

pub(super) async fn lock_hold(txn: &DatabaseTransaction, job_id: JobId) -> Result<HoldRow, LedgerError> {
    let row = txn
        .query_one_raw(stmt(
            &format!("SELECT {HOLD_COLUMNS} FROM ledger_holds WHERE job_id = $1 FOR UPDATE"),
            [job_id.into()],
        ))
        .await?
        .ok_or(LedgerError::HoldNotFound(job_id))?;
    Ok(hold_row(&row)?)
}

/// Counts `units` of the allowance as used (the row is locked by `lock_free_left`).
pub(super) async fn use_free_units(
    txn: &DatabaseTransaction,
    user_id: UserId,
    allowance: Allowance,
    period: NaiveDate,
    units: u32,
) -> Result<(), DbErr> {
    change_free_usage(txn, user_id, allowance, period, i64::from(units)).await
}

pub(super) async fn give_back_free_units(
    txn: &DatabaseTransaction,
    row: &HoldRow,
    user_id: UserId,
    units: u32,
) -> Result<(), DbErr> {
    if let (Some(allowance), Some(period), true) = (row.allowance, row.free_period, units > 0) {
        change_free_usage(txn, user_id, allowance, period, -i64::from(units)).await?;
    }
    Ok(())
}

/// Adds `delta` (negative: gives back) to the units of the allowance used in `period`.
pub(super) async fn change_free_usage(
    txn: &DatabaseTransaction,
    user_id: UserId,
    allowance: Allowance,
    period: NaiveDate,
    delta: i64,
) -> Result<(), DbErr> {
    txn.execute_raw(stmt(
        "UPDATE free_allowance_usage SET used = used + $4 \
         WHERE user_id = $1 AND allowance = $2 AND period_start = $3",
        [
            user_id.into(),
            allowance.code().into(),
            period.into(),
            i32::try_from(delta).unwrap_or(i32::MAX).into(),
        ],
    ))
    .await
    .map(drop)
}

/// How a capture decides what to charge.
pub(super) enum Charge {
    /// Exactly this amount.
    Amount(Credits),
    /// The price of the work actually done, against the allowance reserved with the hold.
    Work(Work),
}

impl Ledger {
    /// Reserves exactly `amount` for `job_id` (which must exist).
    pub async fn hold<C: TransactionTrait<Transaction = DatabaseTransaction>>(
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
    pub async fn hold_for_work<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        user_id: UserId,
        job_id: JobId,
        work: Work,
    ) -> Result<Hold, LedgerError> {
        self.reserve(db, user_id, job_id, work).await
    }

    pub(super) async fn reserve<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        user_id: UserId,
        job_id: JobId,
        work: Work,
    ) -> Result<Hold, LedgerError> {
        let txn = db.begin().await?;
        let existing = txn
            .query_one_raw(stmt(
                &format!("SELECT {HOLD_COLUMNS} FROM ledger_holds WHERE job_id = $1"),
                [job_id.into()],
            ))
            .await?;
        if let Some(row) = existing {
            return self.replayed_hold(hold_row(&row)?.hold, user_id, work);
        }

        let accounts = user_accounts(&txn, user_id).await?;
        let now = (self.clock)();
        let mut free = None;
        let mut free_left = 0;
        if let Some((allowance, _)) = work.allowance() {
            let period = allowance.period_start(&self.pricing, now);
            free_left = self.lock_free_left(&txn, user_id, allowance, period).await?;
            free = Some((allowance, period));
        }
        let quote = pricing::quote(&self.pricing, work, free_left);

        let (allowance, period): (Option<&str>, Option<NaiveDate>) = match (free, quote.free_units) {
            (Some((allowance, period)), units) if units > 0 => (Some(allowance.code()), Some(period)),
            _ => (None, None),
        };
        let inserted = txn
            .query_one_raw(stmt(
                &format!(
                    "INSERT INTO ledger_holds (job_id, user_id, amount, allowance, free_units, free_period, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (job_id) DO NOTHING RETURNING {HOLD_COLUMNS}"
                ),
                [
                    job_id.into(),
                    user_id.into(),
                    quote.price.amount().into(),
                    allowance.map(str::to_owned).into(),
                    i32::try_from(quote.free_units).unwrap_or(i32::MAX).into(),
                    period.into(),
                    now.into(),
                ],
            ))
            .await?;
        let Some(inserted) = inserted else {
            // A concurrent hold for the same job won; report it.
            drop(txn);
            let row = db
                .begin()
                .await?
                .query_one_raw(stmt(
                    &format!("SELECT {HOLD_COLUMNS} FROM ledger_holds WHERE job_id = $1"),
                    [job_id.into()],
                ))
                .await?
                .ok_or(LedgerError::HoldNotFound(job_id))?;
            return self.replayed_hold(hold_row(&row)?.hold, user_id, work);
        };
        let hold = hold_row(&inserted)?.hold;

        if let (Some((allowance, period)), true) = (free, quote.free_units > 0) {
            use_free_units(&txn, user_id, allowance, period, quote.free_units).await?;
        }
        if quote.price > Credits::ZERO {
            let amount = quote.price.amount();
            post(
                &txn,
                NewTransaction {
                    kind: TransactionKind::Hold,
                    key: format!("hold:{job_id}"),
                    job_id: Some(job_id),
                    payment_id: None,
                    actor: "system",
                    memo: "reserved for a job",
                    legs: vec![
                        Leg { account: accounts.available, user_owned: true, amount: -amount },
                        Leg { account: accounts.held, user_owned: true, amount },
                    ],
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(hold)
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
        let row = lock_hold(&txn, job_id).await?;
        let mut hold = row.hold.clone();
        if hold.status != HoldStatus::Open {
            return Ok(hold);
        }
        let units = work.allowance().map_or(1, |(_, units)| units);
        if let Some((allowance, _)) = work.allowance()
            && units > hold.free_units
        {
            // The hold's own period, so a job queued before midnight stays in its day.
            let period =
                row.free_period.unwrap_or_else(|| allowance.period_start(&self.pricing, (self.clock)()));
            let free_left = self.lock_free_left(&txn, hold.user_id, allowance, period).await?;
            let extra = (units - hold.free_units).min(free_left);
            if extra > 0 {
                use_free_units(&txn, hold.user_id, allowance, period, extra).await?;
                hold.free_units += extra;
                txn.execute_raw(stmt(
                    "UPDATE ledger_holds SET free_units = $2, allowance = $3, free_period = $4 WHERE job_id = $1",
                    [
                        job_id.into(),
                        i32::try_from(hold.free_units).unwrap_or(i32::MAX).into(),
                        allowance.code().into(),
                        period.into(),
                    ],
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
        let accounts = user_accounts(&txn, hold.user_id).await?;
        post(
            &txn,
            NewTransaction {
                kind: TransactionKind::Hold,
                key: format!("hold:{job_id}:raise:{}", price.amount()),
                job_id: Some(job_id),
                payment_id: None,
                actor: "system",
                memo: "reserved for a job longer than quoted",
                legs: vec![
                    Leg { account: accounts.available, user_owned: true, amount: -extra },
                    Leg { account: accounts.held, user_owned: true, amount: extra },
                ],
            },
        )
        .await?;
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
        let free = hold.free_units.saturating_add(balance.free_seconds_left_today);
        Ok(paid.saturating_add(free))
    }

    /// The hold of job `job_id` as it stands.
    pub async fn hold_of<C: ConnectionTrait>(&self, db: &C, job_id: JobId) -> Result<Hold, LedgerError> {
        let row = db
            .query_one_raw(stmt(
                &format!("SELECT {HOLD_COLUMNS} FROM ledger_holds WHERE job_id = $1"),
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
        txn.execute_raw(stmt(
            "INSERT INTO free_allowance_usage (user_id, allowance, period_start) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            [user_id.into(), allowance.code().into(), period.into()],
        ))
        .await?;
        let row = txn
            .query_one_raw(stmt(
                "SELECT used FROM free_allowance_usage \
                 WHERE user_id = $1 AND allowance = $2 AND period_start = $3 FOR UPDATE",
                [user_id.into(), allowance.code().into(), period.into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("free allowance usage".into()))?;
        let used = u32::try_from(row.try_get::<i32>("", "used")?).unwrap_or(0);
        Ok(allowance.limit(&self.pricing).saturating_sub(used))
    }

    /// Charges `actual` (at most what is held) and returns the rest to the
    /// user. Capturing again with the same amount returns the same result.
    pub async fn capture<C: TransactionTrait<Transaction = DatabaseTransaction>>(
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
    pub async fn capture_work<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: JobId,
        actual: Work,
    ) -> Result<Hold, LedgerError> {
        self.settle_capture(db, job_id, Charge::Work(actual)).await
    }

    pub(super) async fn settle_capture<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: JobId,
        charge: Charge,
    ) -> Result<Hold, LedgerError> {
        let txn = db.begin().await?;
        let row = lock_hold(&txn, job_id).await?;
        let hold = row.hold.clone();
        let (amount, free_used) = match charge {
            Charge::Amount(amount) => (amount, hold.free_units),
            Charge::Work(work) => {
                let units = work.allowance().map_or(1, |(_, units)| units);
                let free_used = units.min(hold.free_units);
                let price = pricing::price_of_units(&self.pricing, work, units - free_used);
                (price.min(hold.amount), free_used)
            }
        };
        match hold.status {
            HoldStatus::Open => {}
            HoldStatus::Captured if hold.captured == Some(amount) => return Ok(hold),
            HoldStatus::Captured => {
                return Err(LedgerError::IdempotencyConflict { key: format!("capture:{job_id}") });
            }
            status => return Err(LedgerError::HoldAlreadySettled { job_id, status }),
        }
        if amount > hold.amount {
            return Err(LedgerError::CaptureExceedsHold { held: hold.amount, requested: amount });
        }

        txn.execute_raw(stmt(
            "UPDATE ledger_holds SET status = 'captured', captured = $2, free_units = $3, settled_at = now() \
             WHERE job_id = $1",
            [job_id.into(), amount.amount().into(), i32::try_from(free_used).unwrap_or(i32::MAX).into()],
        ))
        .await?;
        give_back_free_units(&txn, &row, hold.user_id, hold.free_units - free_used).await?;
        if hold.amount > Credits::ZERO {
            let accounts = user_accounts(&txn, hold.user_id).await?;
            let revenue = system_account(&txn, AccountKind::Revenue, None).await?;
            post(
                &txn,
                NewTransaction {
                    kind: TransactionKind::Capture,
                    key: format!("capture:{job_id}"),
                    job_id: Some(job_id),
                    payment_id: None,
                    actor: "system",
                    memo: "charged for a job",
                    legs: vec![
                        Leg { account: accounts.held, user_owned: true, amount: -hold.amount.amount() },
                        Leg {
                            account: accounts.available,
                            user_owned: true,
                            amount: hold.amount.amount() - amount.amount(),
                        },
                        Leg { account: revenue, user_owned: false, amount: amount.amount() },
                    ],
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(Hold { captured: Some(amount), free_units: free_used, status: HoldStatus::Captured, ..hold })
    }

    /// Gives the whole hold back, free units included. Releasing twice is fine.
    pub async fn release<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: JobId,
    ) -> Result<Hold, LedgerError> {
        let txn = db.begin().await?;
        let row = lock_hold(&txn, job_id).await?;
        let hold = row.hold.clone();
        match hold.status {
            HoldStatus::Open => {}
            HoldStatus::Released => return Ok(hold),
            status => return Err(LedgerError::HoldAlreadySettled { job_id, status }),
        }
        txn.execute_raw(stmt(
            "UPDATE ledger_holds SET status = 'released', settled_at = now() WHERE job_id = $1",
            [job_id.into()],
        ))
        .await?;
        give_back_free_units(&txn, &row, hold.user_id, hold.free_units).await?;
        if hold.amount > Credits::ZERO {
            let accounts = user_accounts(&txn, hold.user_id).await?;
            post(
                &txn,
                NewTransaction {
                    kind: TransactionKind::Release,
                    key: format!("release:{job_id}"),
                    job_id: Some(job_id),
                    payment_id: None,
                    actor: "system",
                    memo: "reservation returned",
                    legs: vec![
                        Leg { account: accounts.held, user_owned: true, amount: -hold.amount.amount() },
                        Leg { account: accounts.available, user_owned: true, amount: hold.amount.amount() },
                    ],
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(Hold { status: HoldStatus::Released, ..hold })
    }

    /// Gives a charged job's price back to the user, once; `actor` says who decided.
    pub async fn refund<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
        job_id: JobId,
        actor: &str,
        reason: &str,
    ) -> Result<Posting, LedgerError> {
        let txn = db.begin().await?;
        let row = lock_hold(&txn, job_id).await?;
        let hold = row.hold;
        let key = format!("refund:{job_id}");
        let amount = hold.captured.unwrap_or(Credits::ZERO).amount();
        match hold.status {
            HoldStatus::Captured => {}
            HoldStatus::Refunded => {
                let earlier = txn
                    .query_one_raw(stmt(
                        "SELECT id FROM ledger_transactions WHERE idempotency_key = $1",
                        [key.into()],
                    ))
                    .await?;
                let transaction_id = earlier.map(|row| row.try_get("", "id")).transpose()?.unwrap_or(0);
                return Ok(Posting { transaction_id, replayed: true });
            }
            _ => return Err(LedgerError::NotCaptured(job_id)),
        }
        if amount.is_zero() {
            return Err(LedgerError::InvalidAmount("the job was free: nothing to refund".into()));
        }
        txn.execute_raw(stmt(
            "UPDATE ledger_holds SET status = 'refunded' WHERE job_id = $1",
            [job_id.into()],
        ))
        .await?;
        let accounts = user_accounts(&txn, hold.user_id).await?;
        let refunds = system_account(&txn, AccountKind::Refunds, None).await?;
        let posting = post(
            &txn,
            NewTransaction {
                kind: TransactionKind::Refund,
                key,
                job_id: Some(job_id),
                payment_id: None,
                actor,
                memo: reason,
                legs: vec![
                    Leg { account: accounts.available, user_owned: true, amount },
                    Leg { account: refunds, user_owned: false, amount: -amount },
                ],
            },
        )
        .await?;
        txn.commit().await?;
        Ok(posting)
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
