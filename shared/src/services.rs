//! Connections to the services both processes use.

use anyhow::Context;
use storage::ObjectStore;

use crate::Settings;

/// Live connections to PostgreSQL, Redis and object storage.
#[derive(Clone)]
pub struct Services {
    /// Database pool.
    pub db: sea_orm::DatabaseConnection,
    /// Redis, reconnecting by itself.
    pub redis: redis::aio::ConnectionManager,
    /// Object storage.
    pub store: ObjectStore,
}

impl Services {
    /// Connects to everything, naming the settings to check when one fails.
    pub async fn connect(settings: &Settings) -> anyhow::Result<Self> {
        // Several dependencies use rustls; it needs one process-wide provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let db = crate::db::connect(&settings.database_url, settings.database_max_connections)
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
        tracing::info!("connected to PostgreSQL, Redis and object storage");
        Ok(Self { db, redis, store })
    }
}
