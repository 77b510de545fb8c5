//! Reports: what a user has (balance, free allowance left, history) and the operator's figures.

use super::{posting::*, *};

impl Ledger {
    /// The user's balance and what is left of their free allowances.
    pub async fn balance<C: ConnectionTrait>(&self, db: &C, user_id: UserId) -> Result<Balance, LedgerError> {
        let rows = db
            .query_all_raw(stmt(
                "SELECT kind, balance FROM ledger_accounts WHERE user_id = $1",
                [user_id.into()],
            ))
            .await?;
        let mut balance = Balance {
            available: Credits::ZERO,
            held: Credits::ZERO,
            free_seconds_left_today: 0,
            free_images_left_this_month: 0,
        };
        for row in rows {
            let amount = credits(row.try_get("", "balance")?);
            match row.try_get::<String>("", "kind")?.as_str() {
                "user_available" => balance.available = amount,
                "user_held" => balance.held = amount,
                _ => {}
            }
        }
        let now = (self.clock)();
        balance.free_seconds_left_today =
            self.free_left(db, user_id, Allowance::TranscriptionSeconds, now).await?;
        balance.free_images_left_this_month =
            self.free_left(db, user_id, Allowance::ImageGenerations, now).await?;
        Ok(balance)
    }

    pub(super) async fn free_left<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: UserId,
        allowance: Allowance,
        now: DateTime<Utc>,
    ) -> Result<u32, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT used FROM free_allowance_usage WHERE user_id = $1 AND allowance = $2 AND period_start = $3",
                [user_id.into(), allowance.code().into(), allowance.period_start(&self.pricing, now).into()],
            ))
            .await?;
        let used = match row {
            Some(row) => u32::try_from(row.try_get::<i32>("", "used")?).unwrap_or(0),
            None => 0,
        };
        Ok(allowance.limit(&self.pricing).saturating_sub(used))
    }

    /// The user's ledger history, newest first: `limit` transactions older
    /// than `before` (a transaction id from the previous page), or the newest.
    pub async fn history<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: UserId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, LedgerError> {
        let rows = db
            .query_all_raw(stmt(
                "WITH mine AS (SELECT id, kind FROM ledger_accounts WHERE user_id = $1), \
                 available AS (SELECT id FROM mine WHERE kind = 'user_available'), \
                 page AS ( \
                     SELECT t.id, t.kind, t.memo, t.job_id, t.payment_id, t.created_at, \
                            SUM(e.amount) AS amount, \
                            COALESCE(SUM(e.amount) FILTER (WHERE e.account_id = (SELECT id FROM available)), 0) \
                                AS available_change, \
                            MAX(e.id) AS last_entry \
                     FROM ledger_transactions t \
                     JOIN ledger_entries e ON e.transaction_id = t.id AND e.account_id IN (SELECT id FROM mine) \
                     WHERE ($2::BIGINT IS NULL OR t.id < $2) \
                     GROUP BY t.id ORDER BY t.id DESC LIMIT $3) \
                 SELECT page.*, COALESCE(( \
                     SELECT balance_after FROM ledger_entries a \
                     WHERE a.account_id = (SELECT id FROM available) AND a.id <= page.last_entry \
                     ORDER BY a.id DESC LIMIT 1), 0) AS available_after \
                 FROM page ORDER BY page.id DESC",
                [user_id.into(), before.into(), i64::from(limit.clamp(1, 100)).into()],
            ))
            .await?;
        rows.iter()
            .map(|row| {
                Ok(HistoryEntry {
                    transaction_id: row.try_get("", "id")?,
                    kind: kind_from_code(&row.try_get::<String>("", "kind")?)?,
                    amount: row.try_get::<Decimal>("", "amount")?.normalize(),
                    available_change: row.try_get::<Decimal>("", "available_change")?.normalize(),
                    available_after: row.try_get::<Decimal>("", "available_after")?.normalize(),
                    memo: row.try_get("", "memo")?,
                    job_id: row.try_get("", "job_id")?,
                    payment_id: row.try_get("", "payment_id")?,
                    created_at: row.try_get("", "created_at")?,
                })
            })
            .collect::<Result<_, DbErr>>()
            .map_err(LedgerError::from)
    }

    /// Revenue, credits outstanding and open holds.
    pub async fn admin_figures<C: ConnectionTrait>(&self, db: &C) -> Result<AdminFigures, LedgerError> {
        let now = (self.clock)();
        let tz = self.pricing.timezone;
        let day_start = Allowance::TranscriptionSeconds.period_start(&self.pricing, now);
        let month_start = Allowance::ImageGenerations.period_start(&self.pricing, now);
        let start_of = |date: NaiveDate| -> DateTime<Utc> {
            date.and_hms_opt(0, 0, 0)
                .and_then(|naive| naive.and_local_timezone(tz).earliest())
                .map_or(now, |local| local.with_timezone(&Utc))
        };
        let row = db
            .query_one_raw(stmt(
                // Revenue entries are positive charges; refunds entries are negative give-backs.
                "SELECT \
                   COALESCE((SELECT SUM(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
                             WHERE a.kind IN ('revenue', 'refunds') AND e.created_at >= $1), 0) AS revenue_today, \
                   COALESCE((SELECT SUM(e.amount) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
                             WHERE a.kind IN ('revenue', 'refunds') AND e.created_at >= $2), 0) AS revenue_month, \
                   COALESCE((SELECT SUM(balance) FROM ledger_accounts WHERE user_id IS NOT NULL), 0) AS outstanding, \
                   (SELECT COUNT(*) FROM ledger_holds WHERE status = 'open') AS open_holds, \
                   COALESCE((SELECT SUM(amount) FROM ledger_holds WHERE status = 'open'), 0) AS open_amount",
                [start_of(day_start).into(), start_of(month_start).into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("admin figures".into()))?;
        Ok(AdminFigures {
            revenue_today: row.try_get::<Decimal>("", "revenue_today")?.normalize(),
            revenue_this_month: row.try_get::<Decimal>("", "revenue_month")?.normalize(),
            credits_outstanding: row.try_get::<Decimal>("", "outstanding")?.normalize(),
            open_holds: row.try_get("", "open_holds")?,
            open_holds_amount: row.try_get::<Decimal>("", "open_amount")?.normalize(),
        })
    }
}
