//! The worker process: drains the job queues in Redis.
//!
//! Error policy: each job step returns a `Result`; failures are logged once,
//! with the job id, by the code that decides whether to retry.

use anyhow::Context;
use shared::{Settings, services::Services};

/// Runs the worker until SIGTERM or Ctrl-C.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let services = Services::connect(&settings).await?;
    tracing::info!(concurrency = settings.worker_concurrency, "worker connected and waiting for jobs");
    shared::shutdown::signal().await;
    services.db.close().await.context("closing the database pool")?;
    tracing::info!("worker stopped");
    Ok(())
}
