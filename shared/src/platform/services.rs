//! Connections to the services both processes use.

use anyhow::Context;
use storage::ObjectStore;

use url::Url;

use crate::platform::secret::Secret;

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
    /// Connects to everything, naming the settings to check when one fails
    /// (`Services::connect` in `config` calls this with the loaded settings).
    pub async fn open(
        database_url: &Secret,
        database_max_connections: u32,
        redis_url: &Secret,
        s3: &S3Settings,
    ) -> anyhow::Result<Self> {
        // Several dependencies use rustls; it needs one process-wide provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let db = crate::platform::db::connect(database_url, database_max_connections)
            .await
            .context("cannot connect to PostgreSQL (DATABASE_URL)")?;
        let redis = redis::Client::open(redis_url.expose())
            .context("REDIS_URL is not a valid Redis URL")?
            .get_connection_manager()
            .await
            .context("cannot connect to Redis (REDIS_URL)")?;
        let store =
            ObjectStore::connect(&s3.storage_config()).await.context("cannot reach object storage (S3_*)")?;
        tracing::info!("connected to PostgreSQL, Redis and object storage");
        Ok(Self { db, redis, store })
    }
}

/// S3-compatible object storage.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// Endpoint of an S3-compatible server; `None` means AWS itself.
    pub endpoint: Option<Url>,
    /// The server as browsers reach it, when not at `endpoint`
    /// (`S3_PUBLIC_ENDPOINT`): presigned links are signed for it.
    pub public_endpoint: Option<Url>,
    /// Region name (any value for MinIO).
    pub region: String,
    /// Bucket holding all objects; created at startup when missing.
    pub bucket: String,
    /// Access key id.
    pub access_key_id: Secret,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Path-style addressing (`endpoint/bucket/key`), needed by MinIO.
    pub force_path_style: bool,
    /// Longest wait for one request, retries included (`S3_TIMEOUT_SECONDS`).
    pub request_timeout: std::time::Duration,
}

impl S3Settings {
    /// The storage crate's view of these settings.
    pub fn storage_config(&self) -> storage::StorageConfig {
        storage::StorageConfig {
            endpoint: self.endpoint.clone(),
            public_endpoint: self.public_endpoint.clone(),
            region: self.region.clone(),
            bucket: self.bucket.clone(),
            access_key_id: self.access_key_id.expose().to_owned(),
            secret_access_key: self.secret_access_key.expose().to_owned(),
            force_path_style: self.force_path_style,
            request_timeout: self.request_timeout,
            ..storage::StorageConfig::default()
        }
    }
}
