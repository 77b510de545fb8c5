//! `migrate`: applies pending migrations once, then exits. Compose runs it
//! before the bot and the workers start; running several at once is safe.

use anyhow::Context;
use sea_orm_migration::sea_orm::{ConnectOptions, Database};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt().with_env_filter("info,sqlx=warn").init();

    // Only the database is needed here, so this binary does not demand the
    // bot's full configuration.
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
    let mut options = ConnectOptions::new(url);
    options.max_connections(2).sqlx_logging(false);
    let db = Database::connect(options).await.context("cannot connect to the database")?;
    migrations::migrate(&db).await.context("migration failed")?;
    tracing::info!("database schema is up to date");
    Ok(())
}
