//! The worker process: drains the job queues in Redis.
//!
//! Error policy: each job step returns a `Result`; failures are logged once,
//! with the job id, by the code that decides whether to retry.

pub mod maintenance;

use std::time::Duration;

use anyhow::Context;
use shared::{Settings, ledger::Ledger, queue::JobQueue, services::Services, yookassa::YooKassa};
use teloxide::prelude::Bot;

/// Runs the worker until SIGTERM or Ctrl-C.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let services = Services::connect(&settings).await?;
    let ledger = Ledger::new(settings.pricing.clone());
    let queue = JobQueue::new(services.redis.clone(), &settings.queue_namespace);
    let yookassa = settings
        .yookassa
        .as_ref()
        .map(YooKassa::new)
        .transpose()
        .context("cannot build the YooKassa client")?;
    let bot = Bot::new(settings.telegram.bot_token.expose()).set_api_url(settings.telegram.api_url.clone());
    let maintenance = tokio::spawn(maintenance::run_forever(
        maintenance::Maintenance {
            db: services.db.clone(),
            ledger,
            queue,
            yookassa,
            bot,
            referral_percent: settings.referral_percent,
        },
        Duration::from_secs(30),
    ));
    tracing::info!(concurrency = settings.worker_concurrency, "worker connected and waiting for jobs");
    shared::shutdown::signal().await;
    maintenance.abort();
    services.db.close().await.context("closing the database pool")?;
    tracing::info!("worker stopped");
    Ok(())
}
