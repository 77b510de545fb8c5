//! The PostgreSQL connection pool.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::platform::secret::Secret;

/// Opens a pool of at most `max_connections` connections to `url`.
pub async fn connect(url: &Secret, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.expose().to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // Statements are traced by our own spans; sqlx's per-query logs would
        // drown them (and may show parameters).
        .sqlx_logging(false);
    Database::connect(options).await
}
