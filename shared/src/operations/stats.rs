//! The figures `/stats` shows, read from PostgreSQL: users, jobs, the queue,
//! revenue, the books, transcription minutes and what the providers cost.
//! `metrics` reads its queue and user gauges through the same queries.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

use crate::billing::ledger::{AdminFigures, Ledger, LedgerError};

/// Prices the providers charge us, for the spend estimate (`STT_COST_USD_PER_MINUTE`,
/// `IMAGE_COST_USD`): an estimate from counts, not the providers' invoices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderCosts {
    /// US dollars per transcribed minute.
    pub stt_usd_per_minute: Decimal,
    /// US dollars per generated or edited image.
    pub image_usd: Decimal,
}

impl Default for ProviderCosts {
    fn default() -> Self {
        // OpenAI's list prices for whisper-1 and a standard 1024x1024 picture.
        Self { stt_usd_per_minute: Decimal::new(6, 3), image_usd: Decimal::new(4, 2) }
    }
}

/// The three windows `/stats` reports: since midnight (billing time zone), 7 and 30 days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Windows<T> {
    /// Since midnight.
    pub today: T,
    /// The last 7 days.
    pub week: T,
    /// The last 30 days.
    pub month: T,
}

/// Revenue of one provider in one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revenue {
    /// `yookassa`, `telegram`, `stars`.
    pub provider: String,
    /// `RUB`, `XTR`, ...
    pub currency: String,
    /// Paid (succeeded, not refunded) in each window.
    pub paid: Windows<Decimal>,
}

/// Jobs of one kind in one status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobCount {
    /// `transcribe`, `image`, ...
    pub kind: String,
    /// `queued`, `succeeded`, ...
    pub status: String,
    /// How many.
    pub count: i64,
}

/// Everything `/stats` shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Users who ever wrote.
    pub users_total: i64,
    /// Users first seen in each window.
    pub users_new: Windows<i64>,
    /// Users who wrote in each window.
    pub users_active: Windows<i64>,
    /// Jobs created today, by kind and status.
    pub jobs_today: Vec<JobCount>,
    /// Jobs failed in each window.
    pub failed: Windows<i64>,
    /// Jobs waiting for a worker.
    pub queue_depth: i64,
    /// How long the oldest of them has waited, in seconds.
    pub oldest_queued_seconds: i64,
    /// Payments by provider and currency.
    pub revenue: Vec<Revenue>,
    /// The ledger's figures (credits outstanding, open holds, credits charged).
    pub books: AdminFigures,
    /// Minutes transcribed in each window.
    pub stt_minutes: Windows<Decimal>,
    /// Pictures made in each window.
    pub images: Windows<i64>,
    /// Estimated provider spend in each window, US dollars.
    pub spend_usd: Windows<Decimal>,
}

/// Why the figures could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// The database failed.
    #[error("stats query failed: {0}")]
    Db(#[from] DbErr),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

fn stmt(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Users who ever wrote to the bot.
///
/// # Errors
/// When the database fails.
pub async fn users_total<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let row = db.query_one_raw(stmt("SELECT COUNT(*) AS n FROM users", [])).await?;
    row.map_or(Ok(0), |row| row.try_get("", "n"))
}

/// Jobs waiting for a worker, and the age in seconds of the oldest (0 when none wait):
/// the signal to add workers.
///
/// # Errors
/// When the database fails.
pub async fn queue<C: ConnectionTrait>(db: &C) -> Result<(i64, i64), DbErr> {
    let row = db
        .query_one_raw(stmt(
            "SELECT COUNT(*) AS n, \
             COALESCE(EXTRACT(EPOCH FROM now() - MIN(created_at)), 0)::BIGINT AS oldest \
             FROM jobs WHERE status = 'queued'",
            [],
        ))
        .await?;
    row.map_or(Ok((0, 0)), |row| Ok((row.try_get("", "n")?, row.try_get("", "oldest")?)))
}

/// Reads every figure; `now` and the ledger's billing time zone set the windows.
///
/// # Errors
/// When the database or the ledger fails.
pub async fn read<C: ConnectionTrait>(
    db: &C,
    ledger: &Ledger,
    costs: &ProviderCosts,
    now: DateTime<Utc>,
) -> Result<Stats, StatsError> {
    let tz = ledger.pricing().timezone;
    let midnight = now
        .with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|naive| naive.and_local_timezone(tz).earliest())
        .map_or(now, |local| local.with_timezone(&Utc));
    let starts = [midnight, now - chrono::Duration::days(7), now - chrono::Duration::days(30)];
    let bind = || starts.iter().map(|at| Value::from(*at)).collect::<Vec<_>>();
    let windows = |row: &sea_orm::QueryResult, prefix: &str| -> Result<Windows<i64>, DbErr> {
        Ok(Windows {
            today: row.try_get("", &format!("{prefix}_today"))?,
            week: row.try_get("", &format!("{prefix}_week"))?,
            month: row.try_get("", &format!("{prefix}_month"))?,
        })
    };
    let decimals = |row: &sea_orm::QueryResult, prefix: &str| -> Result<Windows<Decimal>, DbErr> {
        Ok(Windows {
            today: row.try_get::<Decimal>("", &format!("{prefix}_today"))?.normalize(),
            week: row.try_get::<Decimal>("", &format!("{prefix}_week"))?.normalize(),
            month: row.try_get::<Decimal>("", &format!("{prefix}_month"))?.normalize(),
        })
    };

    let counts = db
        .query_one_raw(stmt(
            "SELECT \
               (SELECT COUNT(*) FROM users WHERE created_at >= $1) AS new_today, \
               (SELECT COUNT(*) FROM users WHERE created_at >= $2) AS new_week, \
               (SELECT COUNT(*) FROM users WHERE created_at >= $3) AS new_month, \
               (SELECT COUNT(*) FROM users WHERE updated_at >= $1) AS active_today, \
               (SELECT COUNT(*) FROM users WHERE updated_at >= $2) AS active_week, \
               (SELECT COUNT(*) FROM users WHERE updated_at >= $3) AS active_month, \
               (SELECT COUNT(*) FROM jobs WHERE status = 'failed' AND updated_at >= $1) AS failed_today, \
               (SELECT COUNT(*) FROM jobs WHERE status = 'failed' AND updated_at >= $2) AS failed_week, \
               (SELECT COUNT(*) FROM jobs WHERE status = 'failed' AND updated_at >= $3) AS failed_month, \
               (SELECT COUNT(*) FROM jobs WHERE kind = 'image' AND status IN ('succeeded', 'undeliverable') \
                  AND finished_at >= $1) AS images_today, \
               (SELECT COUNT(*) FROM jobs WHERE kind = 'image' AND status IN ('succeeded', 'undeliverable') \
                  AND finished_at >= $2) AS images_week, \
               (SELECT COUNT(*) FROM jobs WHERE kind = 'image' AND status IN ('succeeded', 'undeliverable') \
                  AND finished_at >= $3) AS images_month, \
               COALESCE((SELECT SUM(duration_ms) FROM transcripts WHERE created_at >= $1), 0) / 60000.0 \
                  AS stt_today, \
               COALESCE((SELECT SUM(duration_ms) FROM transcripts WHERE created_at >= $2), 0) / 60000.0 \
                  AS stt_week, \
               COALESCE((SELECT SUM(duration_ms) FROM transcripts WHERE created_at >= $3), 0) / 60000.0 \
                  AS stt_month",
            bind(),
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("stats".into()))?;
    let stt_minutes = decimals(&counts, "stt")?;
    let stt_minutes = Windows {
        today: stt_minutes.today.round_dp(1),
        week: stt_minutes.week.round_dp(1),
        month: stt_minutes.month.round_dp(1),
    };
    let images = windows(&counts, "images")?;
    let spend = |minutes: Decimal, pictures: i64| {
        (minutes * costs.stt_usd_per_minute + Decimal::from(pictures) * costs.image_usd).round_dp(2)
    };

    let jobs_today = db
        .query_all_raw(stmt(
            "SELECT kind, status, COUNT(*) AS n FROM jobs WHERE created_at >= $1 \
             GROUP BY kind, status ORDER BY kind, status",
            [midnight.into()],
        ))
        .await?
        .iter()
        .map(|row| {
            Ok(JobCount {
                kind: row.try_get("", "kind")?,
                status: row.try_get("", "status")?,
                count: row.try_get("", "n")?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;

    let revenue = db
        .query_all_raw(stmt(
            "SELECT provider, currency, \
               COALESCE(SUM(amount) FILTER (WHERE created_at >= $1), 0) AS paid_today, \
               COALESCE(SUM(amount) FILTER (WHERE created_at >= $2), 0) AS paid_week, \
               COALESCE(SUM(amount) FILTER (WHERE created_at >= $3), 0) AS paid_month \
             FROM payments WHERE status = 'succeeded' AND created_at >= LEAST($1, $3) \
             GROUP BY provider, currency ORDER BY provider, currency",
            bind(),
        ))
        .await?
        .iter()
        .map(|row| {
            Ok(Revenue {
                provider: row.try_get("", "provider")?,
                currency: row.try_get("", "currency")?,
                paid: decimals(row, "paid")?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;

    let (queue_depth, oldest_queued_seconds) = queue(db).await?;
    Ok(Stats {
        users_total: users_total(db).await?,
        users_new: windows(&counts, "new")?,
        users_active: windows(&counts, "active")?,
        jobs_today,
        failed: windows(&counts, "failed")?,
        queue_depth,
        oldest_queued_seconds,
        revenue,
        books: ledger.admin_figures(db).await?,
        spend_usd: Windows {
            today: spend(stt_minutes.today, images.today),
            week: spend(stt_minutes.week, images.week),
            month: spend(stt_minutes.month, images.month),
        },
        stt_minutes,
        images,
    })
}
