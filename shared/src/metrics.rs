//! Figures for Prometheus. The business gauges are read from PostgreSQL: every
//! bot replica reports the same truth, and nothing is lost when a process
//! restarts. Each scrape fills a fresh `prometheus-client` registry with them,
//! adds the process's live counters and histograms (`platform::metrics`), and
//! encodes it all as OpenMetrics text.

use prometheus_client::{
    encoding::text::encode,
    metrics::{family::Family, gauge::Gauge},
    registry::Registry,
};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use crate::billing::ledger::{Ledger, LedgerError};

/// The `Content-Type` of [`render`]'s answer.
pub const CONTENT_TYPE: &str = crate::platform::metrics::CONTENT_TYPE;

/// A gauge of whole numbers.
type Count = Gauge<i64>;
/// A gauge of amounts (credits, seconds).
type Amount = Gauge<f64, std::sync::atomic::AtomicU64>;
/// Label pairs, e.g. `[("kind", "transcribe"), ("status", "done")]`.
type Labels = Vec<(&'static str, String)>;

/// Why the figures could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The database failed.
    #[error("metrics query failed: {0}")]
    Db(#[from] DbErr),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The figures could not be written out.
    #[error("cannot encode the metrics")]
    Encode,
}

/// The business gauges and the live instruments in the OpenMetrics text format.
///
/// # Errors
/// When the database or the ledger cannot be read.
pub async fn render<C: ConnectionTrait>(db: &C, ledger: &Ledger) -> Result<String, MetricsError> {
    let mut registry = Registry::with_prefix(crate::platform::metrics::PREFIX);
    crate::platform::metrics::live().register(&mut registry);

    let jobs = Family::<Labels, Count>::default();
    for row in rows(db, "SELECT kind, status, COUNT(*) AS n FROM jobs GROUP BY kind, status").await? {
        let (kind, status, n): (String, String, i64) =
            (row.try_get("", "kind")?, row.try_get("", "status")?, row.try_get("", "n")?);
        jobs.get_or_create(&vec![("kind", kind), ("status", status)]).set(n);
    }
    registry.register("jobs", "Jobs by kind and status", jobs);

    let calls = Family::<Labels, Count>::default();
    let sql = "SELECT kind, COALESCE(SUM(provider_calls), 0)::BIGINT AS total, \
               COALESCE(MAX(provider_calls), 0)::BIGINT AS most \
               FROM jobs WHERE finished_at IS NOT NULL GROUP BY kind";
    for row in rows(db, sql).await? {
        let (kind, total, most): (String, i64, i64) =
            (row.try_get("", "kind")?, row.try_get("", "total")?, row.try_get("", "most")?);
        calls.get_or_create(&vec![("kind", kind.clone()), ("of", "all".to_owned())]).set(total);
        calls.get_or_create(&vec![("kind", kind), ("of", "most_for_one_job".to_owned())]).set(most);
    }
    registry.register(
        "provider_calls",
        "Provider calls made for finished jobs, by kind: total and the most for one job",
        calls,
    );

    // How long the oldest waiting job has waited: the signal to add workers.
    // The same queries as `/stats`, so the two never disagree.
    let (_, lag) = crate::operations::stats::queue(db).await?;
    register_amount(
        &mut registry,
        "oldest_queued_job_seconds",
        "Age of the oldest job waiting for a worker",
        Decimal::from(lag),
    );

    let payments = Family::<Labels, Count>::default();
    for row in
        rows(db, "SELECT provider, status, COUNT(*) AS n FROM payments GROUP BY provider, status").await?
    {
        let (provider, status, n): (String, String, i64) =
            (row.try_get("", "provider")?, row.try_get("", "status")?, row.try_get("", "n")?);
        payments.get_or_create(&vec![("provider", provider), ("status", status)]).set(n);
    }
    registry.register("payments", "Payments by provider and status", payments);

    let users = Decimal::from(crate::operations::stats::users_total(db).await?);
    let figures = ledger.admin_figures(db).await?;
    for (name, help, value) in [
        ("users", "Users who ever wrote to the bot", users),
        ("open_holds", "Reservations not yet settled", Decimal::from(figures.open_holds)),
    ] {
        let gauge = Count::default();
        gauge.set(value.to_i64().unwrap_or(i64::MAX));
        registry.register(name, help, gauge);
    }
    for (name, help, value) in [
        ("credits_outstanding", "Credits users hold, available and reserved", figures.credits_outstanding),
        ("open_holds_credits", "Credits in unsettled reservations", figures.open_holds_amount),
        (
            "revenue_today_credits",
            "Credits charged since midnight (billing time zone)",
            figures.revenue_today,
        ),
        (
            "revenue_month_credits",
            "Credits charged since the first of the month (billing time zone)",
            figures.revenue_this_month,
        ),
    ] {
        register_amount(&mut registry, name, help, value);
    }

    let mut out = String::new();
    encode(&mut out, &registry).map_err(|_| MetricsError::Encode)?;
    Ok(out)
}

fn register_amount(registry: &mut Registry, name: &str, help: &str, value: Decimal) {
    let gauge = Amount::default();
    gauge.set(value.to_f64().unwrap_or(f64::NAN));
    registry.register(name, help, gauge);
}

async fn rows<C: ConnectionTrait>(db: &C, sql: &str) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await
}
