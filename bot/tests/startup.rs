//! The `bot` binary refuses to start without a usable configuration or Bot API.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn bot() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bot"));
    // A clean environment in an empty directory, so no developer `.env` leaks in.
    command
        .env_clear()
        .current_dir(std::env::temp_dir())
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[test]
fn without_a_token_it_exits_non_zero_naming_the_variable() {
    let output = bot()
        .env("DATABASE_URL", "postgres://localhost/x")
        .env("REDIS_URL", "redis://localhost")
        .env("S3_BUCKET", "media")
        .env("S3_ACCESS_KEY_ID", "a")
        .env("S3_SECRET_ACCESS_KEY", "b")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TELEGRAM_BOT_TOKEN is not set"), "stderr: {stderr}");
    assert!(!stderr.contains("DATABASE_URL is not set"), "stderr: {stderr}");
}

#[test]
fn with_an_empty_environment_it_lists_every_missing_variable() {
    let output = bot().output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for var in [
        "TELEGRAM_BOT_TOKEN",
        "DATABASE_URL",
        "REDIS_URL",
        "S3_BUCKET",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
    ] {
        assert!(stderr.contains(&format!("{var} is not set")), "{var} not named in: {stderr}");
    }
}

#[test]
fn a_malformed_value_is_named_without_echoing_secrets() {
    let output = bot()
        .env("TELEGRAM_BOT_TOKEN", "123:very-secret-token")
        .env("TELEGRAM_MODE", "carrier-pigeon")
        .env("DATABASE_URL", "postgres://user:db-password@localhost/x")
        .env("REDIS_URL", "redis://localhost")
        .env("S3_BUCKET", "media")
        .env("S3_ACCESS_KEY_ID", "a")
        .env("S3_SECRET_ACCESS_KEY", "b")
        .env("WORKER_CONCURRENCY", "many")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TELEGRAM_MODE is invalid"), "{stderr}");
    assert!(stderr.contains("WORKER_CONCURRENCY is invalid"), "{stderr}");
    assert!(!stderr.contains("very-secret-token") && !stderr.contains("db-password"), "{stderr}");
}

#[tokio::test]
async fn an_unreachable_bot_api_stops_it_with_a_clear_message() {
    let db = testkit::TestDb::migrated().await;
    let redis = testkit::TestRedis::new();
    let s3 = testkit::TestS3::new();
    // A port nobody listens on.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let output = bot()
        .env("TELEGRAM_BOT_TOKEN", "123:very-secret-token")
        .env("TELEGRAM_API_URL", format!("http://127.0.0.1:{closed_port}"))
        .envs(testkit::service_env(&db, &redis, &s3))
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .output()
        .unwrap();
    let logs =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{logs}");
    assert!(logs.contains("connected to PostgreSQL, Redis and object storage"), "{logs}");
    assert!(logs.contains("did not accept TELEGRAM_BOT_TOKEN"), "{logs}");
    assert!(!logs.contains("very-secret-token"), "the token leaked into the logs: {logs}");
}
