//! The `worker` binary connects to every service and stops cleanly on SIGTERM.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

#[tokio::test]
async fn starts_connects_and_stops_on_sigterm() {
    let db = testkit::TestDb::migrated().await;
    let redis = testkit::TestRedis::new();
    let s3 = testkit::TestS3::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_worker"))
        .env_clear()
        .current_dir(std::env::temp_dir())
        .env("TELEGRAM_BOT_TOKEN", "123:token")
        .envs(testkit::service_env(&db, &redis, &s3))
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    let (lines_tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let wait_for = |needle: &str| loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("worker never logged {needle:?}"));
        serde_json::from_str::<serde_json::Value>(&line).expect("every log line is JSON");
        if line.contains(needle) {
            break;
        }
    };
    wait_for("waiting for jobs");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    wait_for("worker stopped");
    let exit = child.wait().unwrap();
    assert!(exit.success(), "worker exited with {exit}");
}
