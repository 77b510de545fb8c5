//! The worker process: drains the job queues in Redis.
//!
//! Error policy: each job step returns a `Result`; failures are logged once,
//! with the job id, by the code that decides whether to retry.

use anyhow::Context;
use shared::Settings;
use storage::ObjectStore;

/// Connections a worker needs.
#[derive(Clone)]
pub struct WorkerContext {
    /// Database pool.
    pub db: sea_orm::DatabaseConnection,
    /// Redis (queues).
    pub redis: redis::aio::ConnectionManager,
    /// Object storage.
    pub store: ObjectStore,
}

/// Connects to PostgreSQL, Redis and S3.
pub async fn connect(settings: &Settings) -> anyhow::Result<WorkerContext> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = shared::db::connect(&settings.database_url, settings.database_max_connections)
        .await
        .context("cannot connect to PostgreSQL (DATABASE_URL)")?;
    let redis = redis::Client::open(settings.redis_url.expose())
        .context("REDIS_URL is not a valid Redis URL")?
        .get_connection_manager()
        .await
        .context("cannot connect to Redis (REDIS_URL)")?;
    let store = ObjectStore::connect(&settings.s3.storage_config())
        .await
        .context("cannot reach object storage (S3_*)")?;
    Ok(WorkerContext { db, redis, store })
}

/// Runs the worker until SIGTERM or Ctrl-C.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let context = connect(&settings).await?;
    tracing::info!(concurrency = settings.worker_concurrency, "worker connected and waiting for jobs");
    shared::shutdown::signal().await;
    context.db.close().await.context("closing the database pool")?;
    tracing::info!("worker stopped");
    Ok(())
}
