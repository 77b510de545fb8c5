//! Periodic housekeeping, run by one worker process at a time: re-push jobs
//! whose queue message was lost, and release holds stuck on finished jobs.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use shared::{jobs, ledger::Ledger, queue::JobQueue};

/// Advisory lock taken for a tick, so concurrent workers do not sweep twice.
pub const MAINTENANCE_LOCK_KEY: i64 = 0x7467_626f_745f_6d74;

/// How long a job may sit `queued` before its message is presumed lost.
pub const REQUEUE_AFTER: chrono::Duration = chrono::Duration::seconds(60);
/// How old an open hold on a finished job must be before it is released.
pub const STALE_HOLD_AGE: chrono::Duration = chrono::Duration::hours(1);

/// What one tick did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// False when another process held the lock and this tick did nothing.
    pub ran: bool,
    /// Jobs pushed to the queue again.
    pub requeued: usize,
    /// Holds released.
    pub holds_released: usize,
}

/// Runs one maintenance pass if no other process is running one.
pub async fn tick(db: &DatabaseConnection, ledger: &Ledger, queue: &JobQueue) -> anyhow::Result<TickReport> {
    let lock = db.begin().await?;
    let row = lock
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_try_advisory_xact_lock({MAINTENANCE_LOCK_KEY}) AS locked"),
        ))
        .await?;
    let locked = row.map(|row| row.try_get::<bool>("", "locked")).transpose()?.unwrap_or(false);
    if !locked {
        return Ok(TickReport::default());
    }
    let mut report = TickReport { ran: true, ..TickReport::default() };

    let stale = jobs::stale_queued(db, chrono::Utc::now() - REQUEUE_AFTER).await?;
    let mut pushed = Vec::new();
    for job_id in stale {
        match queue.push_transcribe(job_id).await {
            Ok(()) => pushed.push(job_id),
            Err(err) => {
                tracing::warn!(%job_id, error = %err, "re-push failed; next tick tries again");
                break;
            }
        }
    }
    jobs::touch(db, &pushed).await?;
    report.requeued = pushed.len();
    if report.requeued > 0 {
        tracing::warn!(count = report.requeued, "re-pushed queued jobs whose message was lost");
    }

    report.holds_released = ledger.release_stale_holds(db, STALE_HOLD_AGE).await?.len();
    lock.commit().await?;
    Ok(report)
}

/// Ticks every `every` until the process stops; errors are logged and retried next tick.
pub async fn run_forever(db: DatabaseConnection, ledger: Ledger, queue: JobQueue, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let span = tracing::info_span!("maintenance");
        let _guard = span.enter();
        if let Err(err) = tick(&db, &ledger, &queue).await {
            tracing::error!(error = format!("{err:#}"), "maintenance tick failed");
        }
    }
}
