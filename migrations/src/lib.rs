//! The database schema, as reversible SQL migrations applied by sea-orm-migration.
//!
//! Each migration is a pair of plain SQL files in `src/sql/`: PostgreSQL features
//! such as partial indexes, `NULLS NOT DISTINCT` and deferred constraint triggers
//! read better as SQL than through a query builder. [`migrate`] applies them under
//! an advisory lock, so any number of processes may start it at once.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{DatabaseConnection, TransactionTrait},
};

/// Key of the advisory lock that serialises migration runs ("tgbot-migrate").
const MIGRATION_LOCK_KEY: i64 = 0x7467_626f_745f_6d69;

/// Hash of every migration file, so test templates built from an older schema are never reused.
pub const SCHEMA_FINGERPRINT: &str = env!("SCHEMA_FINGERPRINT");

/// One migration: a name recorded in `seaql_migrations` and two SQL scripts.
struct SqlMigration {
    name: &'static str,
    up: &'static str,
    down: &'static str,
}

impl MigrationName for SqlMigration {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SqlMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(self.up).await.map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(self.down).await.map(drop)
    }
}

macro_rules! sql_migration {
    ($name:literal, $file:literal) => {
        Box::new(SqlMigration {
            name: $name,
            up: include_str!(concat!("sql/", $file, ".up.sql")),
            down: include_str!(concat!("sql/", $file, ".down.sql")),
        })
    };
}

/// All migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            sql_migration!("m20261122_000001_users", "0001_users"),
            sql_migration!("m20261122_000002_jobs", "0002_jobs"),
            sql_migration!("m20261122_000003_payments", "0003_payments"),
            sql_migration!("m20261122_000004_ledger", "0004_ledger"),
            sql_migration!("m20261122_000005_holds_and_allowances", "0005_holds_and_allowances"),
            sql_migration!("m20261122_000006_job_leases", "0006_job_leases"),
            sql_migration!("m20261122_000007_images", "0007_images"),
            sql_migration!("m20261202_000008_job_endings", "0008_job_endings"),
            sql_migration!("m20261202_000009_reconciliation", "0009_reconciliation"),
            sql_migration!("m20261202_000010_telegram_updates", "0010_telegram_updates"),
            sql_migration!("m20261202_000011_transcript_search", "0011_transcript_search"),
            sql_migration!("m20261202_000012_user_settings", "0012_user_settings"),
            sql_migration!("m20261202_000013_uploads", "0013_uploads"),
            sql_migration!("m20261203_000014_transcript_summaries", "0014_transcript_summaries"),
            sql_migration!("m20261204_000015_group_chats", "0015_group_chats"),
            sql_migration!("m20261204_000016_job_request_message", "0016_job_request_message"),
            sql_migration!("m20261206_000017_audit_log", "0017_audit_log"),
            sql_migration!("m20261206_000018_user_bans", "0018_user_bans"),
            sql_migration!("m20261206_000019_admin_actions", "0019_admin_actions"),
            sql_migration!("m20261206_000020_privacy_retention", "0020_privacy_retention"),
            sql_migration!("m20261207_000021_broadcasts", "0021_broadcasts"),
            sql_migration!("m20261207_000022_support_requests", "0022_support_requests"),
            sql_migration!("m20261207_000023_payment_refunds", "0023_payment_refunds"),
            sql_migration!("m20261207_000024_ledger_functions", "0024_ledger_functions"),
            sql_migration!("m20261207_000025_system_account_shards", "0025_system_account_shards"),
            sql_migration!("m20261207_000026_subscriptions", "0026_subscriptions"),
        ]
    }
}

/// Applies every pending migration in one transaction that first takes a
/// transaction-scoped advisory lock: concurrent callers wait, then find
/// nothing left to do, and a failure leaves the schema as it was.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")).await?;
    Migrator::up(&txn, None).await?;
    txn.commit().await
}
