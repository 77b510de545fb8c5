//! Test support shared by every crate's integration tests.
//!
//! Each test gets its own PostgreSQL database (cloned from a migrated
//! template, so creating one takes milliseconds), its own Redis key
//! namespace and its own S3 bucket, so tests run in parallel, in one process
//! or many (nextest), without seeing each other's data.
//!
//! The services are real. Their addresses come from `TEST_DATABASE_URL`,
//! `TEST_REDIS_URL` and `TEST_S3_ENDPOINT` (`scripts/test` sets them all), with
//! the local defaults of a development machine.

// This crate only runs inside tests, where a panic with a message is the
// right way to fail.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use migrations::SCHEMA_FINGERPRINT;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use uuid::Uuid;

pub mod audio;
pub mod child;
pub mod demo;
pub mod fixtures;
pub mod hostile;
pub mod redis_server;

pub use fake_openai;
pub use fake_telegram;
pub use fake_yookassa;

/// Prefix of every database a test creates; `scripts/test` drops them before a run.
pub const TEST_DB_PREFIX: &str = "tgbot_test_";
/// Advisory lock key guarding the creation of the template database.
const TEMPLATE_LOCK_KEY: i64 = 0x7467_626f_745f_7470;

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// URL of a database that always exists, used to create and drop others.
pub fn admin_database_url() -> String {
    env_or("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
}

/// The same server as `admin_database_url`, another database.
fn database_url(name: &str) -> String {
    let mut url = url::Url::parse(&admin_database_url()).expect("TEST_DATABASE_URL is a URL");
    url.set_path(name);
    url.to_string()
}

async fn connect(url: &str, max_connections: u32) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(max_connections).connect_timeout(Duration::from_secs(10)).sqlx_logging(false);
    Database::connect(options).await.unwrap_or_else(|err| panic!("cannot connect to {url}: {err}"))
}

/// A database of one test's own.
pub struct TestDb {
    /// A pool connected to it.
    pub db: DatabaseConnection,
    /// Its URL, for code under test that connects by itself.
    pub url: String,
    /// Its name.
    pub name: String,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn migrated() -> Self {
        let template = ensure_template().await;
        Self::create(Some(&template)).await
    }

    /// A fresh database with nothing in it, for migration tests.
    pub async fn empty() -> Self {
        Self::create(None).await
    }

    async fn create(template: Option<&str>) -> Self {
        let name = format!("{TEST_DB_PREFIX}{}", Uuid::new_v4().simple());
        let admin = connect(&admin_database_url(), 1).await;
        let sql = match template {
            Some(template) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        admin.execute_unprepared(&sql).await.expect("create test database");
        admin.close().await.ok();
        let url = database_url(&name);
        let db = connect(&url, 5).await;
        Self { db, url, name }
    }

    /// A pool of one connection: one database session of its own.
    pub async fn session(&self) -> DatabaseConnection {
        connect(&self.url, 1).await
    }
}

/// Creates, once per schema version, a migrated database to clone tests from.
/// Many test processes may call this at once: an advisory lock makes one
/// build it while the others wait.
async fn ensure_template() -> String {
    let template = format!("tgbot_template_{SCHEMA_FINGERPRINT}");
    let admin = connect(&admin_database_url(), 1).await;
    admin
        .execute_unprepared(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})"))
        .await
        .expect("take template lock");
    let exists = admin
        .query_one_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT 1 FROM pg_database WHERE datname = '{template}'"),
        ))
        .await
        .expect("look up template")
        .is_some();
    if !exists {
        // Build under another name and rename at the end, so a crash half-way
        // never leaves a template that looks finished.
        let building = format!("{template}_building");
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"))
            .await
            .expect("drop stale template build");
        admin.execute_unprepared(&format!("CREATE DATABASE \"{building}\"")).await.expect("create template");
        let db = connect(&database_url(&building), 1).await;
        migrations::migrate(&db).await.expect("migrate template");
        db.close().await.expect("close template connection");
        admin
            .execute_unprepared(&format!("ALTER DATABASE \"{building}\" RENAME TO \"{template}\""))
            .await
            .expect("publish template");
    }
    admin
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})"))
        .await
        .expect("release template lock");
    admin.close().await.ok();
    template
}

/// A Redis key namespace of one test's own.
#[derive(Clone, Debug)]
pub struct TestRedis {
    /// The server.
    pub url: String,
    /// Prefix for every key and queue name the test uses.
    pub namespace: String,
}

impl TestRedis {
    /// A namespace no other test uses.
    pub fn new() -> Self {
        Self {
            url: env_or("TEST_REDIS_URL", "redis://127.0.0.1:6379"),
            namespace: format!("test:{}", Uuid::new_v4().simple()),
        }
    }

    /// A connection to the server.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("TEST_REDIS_URL is a Redis URL")
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|err| panic!("cannot connect to Redis at {}: {err}", self.url))
    }
}

impl Default for TestRedis {
    fn default() -> Self {
        Self::new()
    }
}

/// An S3 bucket of one test's own on the S3 server `scripts/test` starts.
#[derive(Clone, Debug)]
pub struct TestS3 {
    /// Endpoint of the server.
    pub endpoint: url::Url,
    /// Access key id it accepts.
    pub access_key_id: String,
    /// Secret access key it accepts.
    pub secret_access_key: String,
    /// A bucket name no other test uses (not created yet).
    pub bucket: String,
}

impl TestS3 {
    /// A new bucket name on the test S3 server.
    pub fn new() -> Self {
        let endpoint = std::env::var("TEST_S3_ENDPOINT").expect(
            "TEST_S3_ENDPOINT is not set: run the tests with scripts/test, which starts an S3 server",
        );
        Self {
            endpoint: endpoint.parse().expect("TEST_S3_ENDPOINT is a URL"),
            access_key_id: env_or("TEST_S3_ACCESS_KEY_ID", "testing"),
            secret_access_key: env_or("TEST_S3_SECRET_ACCESS_KEY", "testing"),
            bucket: format!("t-{}", Uuid::new_v4().simple()),
        }
    }
}

impl Default for TestS3 {
    fn default() -> Self {
        Self::new()
    }
}

/// The environment variables that point a `bot` or `worker` process at this
/// test's database, Redis and bucket (to add to a `Command`).
pub fn service_env(db: &TestDb, redis: &TestRedis, s3: &TestS3) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", db.url.clone()),
        ("REDIS_URL", redis.url.clone()),
        ("QUEUE_NAMESPACE", redis.namespace.clone()),
        ("S3_ENDPOINT", s3.endpoint.to_string()),
        ("S3_BUCKET", s3.bucket.clone()),
        ("S3_ACCESS_KEY_ID", s3.access_key_id.clone()),
        ("S3_SECRET_ACCESS_KEY", s3.secret_access_key.clone()),
    ]
}

/// [`service_env`] plus what a `worker` process needs to reach the fake
/// Telegram and the fake recogniser, with no free minutes (every job is paid).
pub fn worker_env(
    db: &TestDb,
    redis: &TestRedis,
    s3: &TestS3,
    telegram: &fake_telegram::FakeTelegram,
    openai: &fake_openai::FakeOpenAi,
) -> Vec<(&'static str, String)> {
    let mut env = service_env(db, redis, s3);
    env.extend([
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url().to_string()),
        ("STT_BASE_URL", openai.base_url()),
        ("STT_API_KEY", "sk-test".to_owned()),
        ("FREE_MINUTES_PER_DAY", "0".to_owned()),
    ]);
    env
}
