//! Figures for Prometheus, read from PostgreSQL: every bot replica reports the
//! same truth, and nothing is lost when a process restarts.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use crate::billing::ledger::{Ledger, LedgerError};

/// Why the figures could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The database failed.
    #[error("metrics query failed: {0}")]
    Db(#[from] DbErr),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The figures in Prometheus' text exposition format (version 0.0.4).
pub async fn render<C: ConnectionTrait>(db: &C, ledger: &Ledger) -> Result<String, MetricsError> {
    let mut out = String::new();

    gauge(&mut out, "tgbot_jobs", "Jobs by kind and status.");
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT kind, status, COUNT(*) AS n FROM jobs GROUP BY kind, status ORDER BY kind, status",
        ))
        .await?;
    for row in rows {
        let (kind, status, n): (String, String, i64) =
            (row.try_get("", "kind")?, row.try_get("", "status")?, row.try_get("", "n")?);
        let _ = writeln!(out, "tgbot_jobs{{kind=\"{kind}\",status=\"{status}\"}} {n}");
    }

    gauge(
        &mut out,
        "tgbot_provider_calls",
        "Provider calls made for finished jobs, by kind: total and the most for one job.",
    );
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT kind, COALESCE(SUM(provider_calls), 0)::BIGINT AS total, COALESCE(MAX(provider_calls), 0)::BIGINT AS most \
             FROM jobs WHERE finished_at IS NOT NULL GROUP BY kind ORDER BY kind",
        ))
        .await?;
    for row in rows {
        let (kind, total, most): (String, i64, i64) =
            (row.try_get("", "kind")?, row.try_get("", "total")?, row.try_get("", "most")?);
        let _ = writeln!(out, "tgbot_provider_calls{{kind=\"{kind}\",of=\"all\"}} {total}");
        let _ = writeln!(out, "tgbot_provider_calls{{kind=\"{kind}\",of=\"most_for_one_job\"}} {most}");
    }

    // How long the oldest waiting job has waited: the signal to add workers.
    let lag = scalar(
        db,
        "SELECT COALESCE(EXTRACT(EPOCH FROM now() - MIN(created_at)), 0)::NUMERIC AS v FROM jobs WHERE status = 'queued'",
    )
    .await?;
    gauge(&mut out, "tgbot_oldest_queued_job_seconds", "Age of the oldest job waiting for a worker.");
    let _ = writeln!(out, "tgbot_oldest_queued_job_seconds {}", lag.round_dp(3).normalize());

    gauge(&mut out, "tgbot_payments", "Payments by provider and status.");
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT provider, status, COUNT(*) AS n FROM payments GROUP BY provider, status ORDER BY provider, status",
        ))
        .await?;
    for row in rows {
        let (provider, status, n): (String, String, i64) =
            (row.try_get("", "provider")?, row.try_get("", "status")?, row.try_get("", "n")?);
        let _ = writeln!(out, "tgbot_payments{{provider=\"{provider}\",status=\"{status}\"}} {n}");
    }

    let users = scalar(db, "SELECT COUNT(*)::NUMERIC AS v FROM users").await?;
    gauge(&mut out, "tgbot_users", "Users who ever wrote to the bot.");
    let _ = writeln!(out, "tgbot_users {users}");

    let figures = ledger.admin_figures(db).await?;
    for (name, help, value) in [
        (
            "tgbot_credits_outstanding",
            "Credits users hold, available and reserved.",
            figures.credits_outstanding,
        ),
        ("tgbot_open_holds", "Reservations not yet settled.", Decimal::from(figures.open_holds)),
        ("tgbot_open_holds_credits", "Credits in unsettled reservations.", figures.open_holds_amount),
        (
            "tgbot_revenue_today_credits",
            "Credits charged since midnight (billing time zone).",
            figures.revenue_today,
        ),
        (
            "tgbot_revenue_month_credits",
            "Credits charged since the first of the month (billing time zone).",
            figures.revenue_this_month,
        ),
    ] {
        gauge(&mut out, name, help);
        let _ = writeln!(out, "{name} {}", value.normalize());
    }
    Ok(out)
}

fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

async fn scalar<C: ConnectionTrait>(db: &C, sql: &str) -> Result<Decimal, DbErr> {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    row.map(|row| row.try_get::<Decimal>("", "v")).transpose().map(Option::unwrap_or_default)
}
