//! A worker process with its HTTP port on: after it ran a job, `GET /metrics`
//! shows the job's counters and the provider's latency histogram, and
//! `GET /health` answers.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{process::Command, time::Duration};

use sea_orm::EntityTrait;
use shared::ids::{ChatId, TelegramUserId};
use shared::{
    billing::ledger::{BonusReason, Ledger},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    entities::jobs as job_rows,
    jobs::queue::JobQueue,
    jobs::{self, MediaSource, TranscriptionInput},
};
use testkit::{
    TestDb, TestRedis, TestS3,
    fake_openai::{Endpoint, FakeOpenAi},
    fake_telegram::FakeTelegram,
    fixtures,
};

const CHAT: i64 = 501;

/// A port nobody listens on now.
/// The body of `GET http://127.0.0.1:{port}{path}`, once the server answers.
async fn get(port: u16, path: &str) -> (u16, String) {
    let url = format!("http://127.0.0.1:{port}{path}");
    for _ in 0..100 {
        if let Ok(response) = reqwest::get(&url).await {
            let status = response.status().as_u16();
            return (status, response.text().await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing answers at {url}");
}

/// The value of the sample `line` (name and labels exactly as written), if present.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// The `(le, count)` pairs of histogram `name`'s buckets with `labels`.
fn buckets(body: &str, name: &str, labels: &str) -> Vec<(f64, f64)> {
    let prefix = format!("{name}_bucket{{le=\"");
    body.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(&prefix)?;
            let (le, rest) = rest.split_once('"')?;
            let value = rest.strip_prefix(&format!(",{labels}}} "))?;
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
            Some((le, value.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn a_workers_metrics_show_the_job_it_ran_and_the_providers_latency() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (db, redis, s3) = (TestDb::migrated().await, TestRedis::new(), TestS3::new());
    let telegram = FakeTelegram::start().await;
    let openai = FakeOpenAi::start().await.unwrap();
    openai.set_latency(Endpoint::Transcriptions, Duration::from_millis(150));

    let ledger = Ledger::new(PricingSettings { free_minutes_per_day: 0, ..PricingSettings::default() });
    let user = fixtures::user(&db.db, TelegramUserId(CHAT)).await;
    ledger.grant_bonus(&db.db, user, Credits::whole(10), &BonusReason::Welcome).await.unwrap();
    telegram.user(CHAT, "Test", Some("en"));
    let file = telegram.register_file(testkit::audio::tone_wav(20, 220.0), "audio/wav", Some(20));
    let input = TranscriptionInput {
        file_id: file.file_id,
        file_unique_id: file.file_unique_id,
        file_size: Some(file.size),
        mime_type: Some("audio/wav".into()),
        file_name: Some("memo.wav".into()),
        duration_hint_s: 20,
        source: MediaSource::Document,
        reply_to: None,
    };
    let job = jobs::create_transcription(&db.db, &ledger, user, ChatId(CHAT), &input).await.unwrap().job_id;
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    JobQueue::new(conn, &redis.namespace).push_transcribe(job).await.unwrap();

    let (mut worker, addr) = testkit::child::spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_worker"))
            .env_clear()
            .current_dir(std::env::temp_dir())
            .envs(testkit::worker_env(&db, &redis, &s3, &telegram, &openai))
            .env("WORKER_HTTP_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "warn,worker=info"),
        "worker HTTP server listening",
    );
    let port = addr.port();

    assert_eq!(get(port, "/health").await, (200, "ok".to_owned()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let row = job_rows::Entity::find_by_id(job).one(&db.db).await.unwrap().unwrap();
        if row.status == job_rows::JobStatus::Succeeded {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the job did not succeed: {row:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let calls = openai.transcription_requests().len();
    assert!(calls >= 1);

    // What Prometheus would scrape (as `curl http://127.0.0.1:{port}/metrics` shows it).
    let (status, body) = get(port, "/metrics").await;
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert_eq!(status, 200);
    let calls = calls as f64;
    for (series, value) in [
        ("tgbot_jobs_started_total{kind=\"transcribe\"}", 1.0),
        ("tgbot_jobs_finished_total{kind=\"transcribe\",outcome=\"succeeded\"}", 1.0),
        ("tgbot_job_duration_seconds_count{kind=\"transcribe\"}", 1.0),
        ("tgbot_job_queue_wait_seconds_count{kind=\"transcribe\"}", 1.0),
        ("tgbot_provider_requests_total{provider=\"stt\",status=\"ok\"}", calls),
        ("tgbot_provider_request_duration_seconds_count{provider=\"stt\"}", calls),
        ("tgbot_provider_request_duration_seconds_bucket{le=\"+Inf\",provider=\"stt\"}", calls),
        ("tgbot_ledger_postings_total{kind=\"capture\",result=\"posted\"}", 1.0),
    ] {
        assert_eq!(sample(&body, series), Some(value), "{series} in:\n{body}");
    }
    assert!(!body.contains("tgbot_jobs_retried_total{kind=\"transcribe\"} 1"), "{body}");
    // Every answer took at least the provider's 150 ms: no bucket below that holds one.
    let buckets = buckets(&body, "tgbot_provider_request_duration_seconds", "provider=\"stt\"");
    assert!(buckets.len() > 10, "{body}");
    for (le, count) in &buckets {
        let expected = if *le < 0.15 {
            0.0
        } else if le.is_infinite() {
            calls
        } else {
            *count
        };
        assert_eq!(*count, expected, "bucket le={le}: {buckets:?}");
    }
    let sum = sample(&body, "tgbot_provider_request_duration_seconds_sum{provider=\"stt\"}").unwrap();
    assert!(sum >= 0.15 * calls, "provider time {sum} s for {calls} calls");
    // The transcript went out through Telegram, counted.
    let sent = sample(&body, "tgbot_telegram_requests_total{call=\"send\",outcome=\"ok\"}").unwrap();
    assert!(sent >= 1.0, "{body}");
}
