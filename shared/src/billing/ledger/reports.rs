//! Reports: what a user has (balance, free allowance left, history) and the operator's figures.

use sea_orm::ActiveEnum;

use super::{posting::*, *};
use crate::entities::{
    jobs::{JobKind, JobStatus},
    payments::PaymentStatus,
};

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
            plan: None,
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
        balance.plan = self.plan_balance(db, user_id).await?;
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

/// Where a page of [`Ledger::statement`] ends: the next page starts after it.
/// Written as `<microseconds since epoch>.<line key>`, opaque to users; small
/// and `Copy`, so it fits in a Telegram button.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementCursor {
    at: DateTime<Utc>,
    key: LineKey,
}

/// What a statement line is keyed by, in the order lines sort: `j<job id>`,
/// `p<payment id>`, `t<transaction id, 20 digits>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineKey {
    Job(uuid::Uuid),
    Payment(uuid::Uuid),
    Transaction(i64),
}

impl std::fmt::Display for LineKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Job(id) => write!(f, "j{id}"),
            Self::Payment(id) => write!(f, "p{id}"),
            // Zero-padded as the query writes it, so keys sort as text.
            Self::Transaction(id) => write!(f, "t{id:020}"),
        }
    }
}

impl std::str::FromStr for LineKey {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, rest) = (s.get(..1).ok_or(())?, s.get(1..).ok_or(())?);
        // Only the spellings the query writes: a hyphenated UUID, a plain number.
        let uuid =
            || rest.parse::<uuid::Uuid>().ok().filter(|id| id.hyphenated().to_string() == rest).ok_or(());
        match kind {
            "j" => uuid().map(Self::Job),
            "p" => uuid().map(Self::Payment),
            "t" => rest
                .parse::<i64>()
                .ok()
                .filter(|id| format!("{id:020}") == rest)
                .map(Self::Transaction)
                .ok_or(()),
            _ => Err(()),
        }
    }
}

impl std::fmt::Display for StatementCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.at.timestamp_micros(), self.key)
    }
}

impl std::str::FromStr for StatementCursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a history cursor");
        let (micros, key) = s.split_once('.').ok_or_else(bad)?;
        let at = micros.parse::<i64>().ok().and_then(DateTime::from_timestamp_micros).ok_or_else(bad)?;
        Ok(Self { at, key: key.parse().map_err(|()| bad())? })
    }
}

/// What one line of a user's statement is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatementItem {
    /// A job, from its reservation to its charge (or release) in one line.
    Job {
        /// The job.
        job_id: JobId,
        /// What kind of work.
        kind: JobKind,
        /// Where it stands.
        status: JobStatus,
        /// The recording's length, once transcribed.
        duration_seconds: Option<i64>,
    },
    /// A payment, whatever became of it.
    Payment {
        /// The payment.
        payment_id: PaymentId,
        /// How it was paid.
        provider: PaymentProvider,
        /// Money asked for, in `currency`.
        amount: Decimal,
        /// ISO 4217 code (`XTR` for Stars).
        currency: String,
        /// Where it stands.
        status: PaymentStatus,
    },
    /// Credit given or taken outside jobs and own payments: bonuses, corrections.
    Credit {
        /// Which kind of posting.
        kind: TransactionKind,
        /// Its note (`welcome bonus`).
        memo: String,
    },
}

/// One line of a user's statement, as the user reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementLine {
    /// When it began (the job queued, the payment started, the bonus given).
    pub at: DateTime<Utc>,
    /// Net change of the user's credits: minus the charge of a job (0 while
    /// it is held, or once released), plus a purchase, minus its reversal.
    pub credits: Decimal,
    /// Credits still reserved for it (an unfinished job).
    pub held: Decimal,
    /// What it is about.
    pub item: StatementItem,
    /// Pass as `before` to get the lines older than this one.
    pub cursor: StatementCursor,
}

impl Ledger {
    /// The user's statement, newest first: one line per job, per payment and
    /// per bonus or correction, not the ledger's internal hold, capture and
    /// release postings. `limit` lines (1 to 100) older than `before`.
    pub async fn statement<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: UserId,
        before: Option<&StatementCursor>,
        limit: u32,
    ) -> Result<Vec<StatementLine>, LedgerError> {
        let rows = db
            .query_all_raw(stmt(
                "WITH mine AS (SELECT id, kind FROM ledger_accounts WHERE user_id = $1), \
                 moves AS ( \
                     SELECT t.id, t.job_id, t.payment_id, t.created_at, SUM(e.amount) AS amount, \
                            COALESCE(SUM(e.amount) FILTER (WHERE mine.kind = 'user_held'), 0) AS held \
                     FROM ledger_transactions t \
                     JOIN ledger_entries e ON e.transaction_id = t.id \
                     JOIN mine ON mine.id = e.account_id \
                     GROUP BY t.id), \
                 lines AS ( \
                     SELECT j.created_at AS at, 'j' || j.id::TEXT AS key, j.id AS job_id, \
                            NULL::UUID AS payment_id, NULL::BIGINT AS transaction_id, \
                            COALESCE((SELECT SUM(m.amount) FROM moves m WHERE m.job_id = j.id), 0) AS credits, \
                            COALESCE((SELECT SUM(m.held) FROM moves m WHERE m.job_id = j.id), 0) AS held \
                     FROM jobs j WHERE j.user_id = $1 \
                     UNION ALL \
                     SELECT p.created_at, 'p' || p.id::TEXT, NULL, p.id, NULL, \
                            COALESCE((SELECT SUM(m.amount) FROM moves m \
                                      WHERE m.payment_id = p.id AND m.job_id IS NULL), 0), 0 \
                     FROM payments p WHERE p.user_id = $1 \
                     UNION ALL \
                     SELECT m.created_at, 't' || LPAD(m.id::TEXT, 20, '0'), NULL, NULL, m.id, m.amount, m.held \
                     FROM moves m WHERE m.job_id IS NULL AND NOT EXISTS \
                         (SELECT 1 FROM payments p WHERE p.id = m.payment_id AND p.user_id = $1)) \
                 SELECT lines.*, j.kind AS job_kind, j.status AS job_status, tr.duration_ms, \
                        p.provider, p.amount AS paid, p.currency, p.status AS payment_status, \
                        t.kind AS transaction_kind, t.memo \
                 FROM lines \
                 LEFT JOIN jobs j ON j.id = lines.job_id \
                 LEFT JOIN transcripts tr ON tr.job_id = lines.job_id \
                 LEFT JOIN payments p ON p.id = lines.payment_id \
                 LEFT JOIN ledger_transactions t ON t.id = lines.transaction_id \
                 WHERE $2::TIMESTAMPTZ IS NULL OR (lines.at, lines.key) < ($2::TIMESTAMPTZ, $3::TEXT) \
                 ORDER BY lines.at DESC, lines.key DESC LIMIT $4",
                [
                    user_id.into(),
                    before.map(|cursor| cursor.at).into(),
                    before.map(|cursor| cursor.key.to_string()).into(),
                    i64::from(limit.clamp(1, 100)).into(),
                ],
            ))
            .await?;
        rows.iter().map(statement_line).collect::<Result<_, DbErr>>().map_err(LedgerError::from)
    }
}

fn statement_line(row: &QueryResult) -> Result<StatementLine, DbErr> {
    fn enum_of<E: ActiveEnum<Value = String>>(row: &QueryResult, column: &str) -> Result<E, DbErr> {
        E::try_from_value(&row.try_get::<String>("", column)?).map_err(|err| DbErr::Type(err.to_string()))
    }
    let at: DateTime<Utc> = row.try_get("", "at")?;
    let key: LineKey = row
        .try_get::<String>("", "key")?
        .parse()
        .map_err(|()| DbErr::Type("a statement line key the query did not write".to_owned()))?;
    let item = if let Some(job_id) = row.try_get::<Option<uuid::Uuid>>("", "job_id")? {
        StatementItem::Job {
            job_id: JobId(job_id),
            kind: enum_of(row, "job_kind")?,
            status: enum_of(row, "job_status")?,
            duration_seconds: row.try_get::<Option<i64>>("", "duration_ms")?.map(|ms| {
                i64::from(crate::billing::pricing::billable_seconds(u64::try_from(ms).unwrap_or(0)))
            }),
        }
    } else if let Some(payment_id) = row.try_get::<Option<uuid::Uuid>>("", "payment_id")? {
        StatementItem::Payment {
            payment_id: PaymentId(payment_id),
            provider: enum_of(row, "provider")?,
            amount: row.try_get::<Decimal>("", "paid")?.normalize(),
            currency: row.try_get("", "currency")?,
            status: enum_of(row, "payment_status")?,
        }
    } else {
        StatementItem::Credit {
            kind: kind_from_code(&row.try_get::<String>("", "transaction_kind")?)?,
            memo: row.try_get("", "memo")?,
        }
    };
    Ok(StatementLine {
        at,
        credits: row.try_get::<Decimal>("", "credits")?.normalize(),
        held: row.try_get::<Decimal>("", "held")?.normalize(),
        item,
        cursor: StatementCursor { at, key },
    })
}

#[cfg(test)]
mod tests {
    use super::StatementCursor;

    #[test]
    fn a_cursor_reads_back_as_written_and_nothing_else_parses() {
        let cursor: StatementCursor =
            "1764648000123456.j0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".parse().unwrap();
        assert_eq!(cursor.at.timestamp_micros(), 1_764_648_000_123_456);
        assert_eq!(cursor.to_string().parse::<StatementCursor>(), Ok(cursor));
        let credit: StatementCursor = "1764648000123456.t00000000000000000042".parse().unwrap();
        assert_eq!(credit.to_string(), "1764648000123456.t00000000000000000042");
        for bad in ["", "nonsense", "12.", "12.x1", "abc.j1", "12.j1'--", "12.t../", "12.t42"] {
            assert!(bad.parse::<StatementCursor>().is_err(), "{bad}");
        }
    }
}
