//! Scaling out: three worker processes on one queue share 30 jobs. Each job is
//! worked on once (one provider call, one charge, one transcript), and every
//! worker takes a share, as its own `/metrics` tells.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    process::{Child, Command},
    time::Duration,
};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use shared::ids::{ChatId, TelegramUserId};
use shared::{
    billing::ledger::{BonusReason, Ledger},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    jobs::queue::JobQueue,
    jobs::{self, MediaSource, TranscriptionInput},
};
use testkit::{
    TestDb, TestRedis, TestS3,
    fake_openai::{Endpoint, FakeOpenAi},
    fake_telegram::FakeTelegram,
    fixtures,
};

const WORKERS: usize = 3;
const JOBS: usize = 30;
const USERS: i64 = 5;

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned())).await.unwrap();
    row.unwrap().try_get::<i64>("", "n").unwrap()
}

/// Jobs this worker finished, from its `/metrics`.
async fn finished_by(port: u16) -> f64 {
    let series = "tgbot_jobs_finished_total{kind=\"transcribe\",outcome=\"succeeded\"} ";
    let body = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap().text().await.unwrap();
    body.lines().find_map(|line| line.strip_prefix(series)).map_or(0.0, |n| n.parse().unwrap())
}

#[tokio::test]
async fn three_workers_share_one_queue_and_each_job_runs_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (db, redis, s3) = (TestDb::migrated().await, TestRedis::new(), TestS3::new());
    let telegram = FakeTelegram::start().await;
    let openai = FakeOpenAi::start().await.unwrap();
    // Long enough that a worker is busy while the others take the next jobs.
    openai.set_latency(Endpoint::Transcriptions, Duration::from_millis(400));

    let ledger = Ledger::new(PricingSettings { free_minutes_per_day: 0, ..PricingSettings::default() });
    let mut users = Vec::new();
    for i in 0..USERS {
        let chat = 600 + i;
        let user = fixtures::user(&db.db, TelegramUserId(chat)).await;
        ledger.grant_bonus(&db.db, user, Credits::whole(100), &BonusReason::Welcome).await.unwrap();
        telegram.user(chat, "Test", Some("en"));
        users.push((user, chat));
    }

    let (mut workers, ports): (Vec<Child>, Vec<u16>) = (0..WORKERS)
        .map(|_| {
            let (child, addr) = testkit::child::spawn_listening(
                Command::new(env!("CARGO_BIN_EXE_worker"))
                    .env_clear()
                    .current_dir(std::env::temp_dir())
                    .envs(testkit::worker_env(&db, &redis, &s3, &telegram, &openai))
                    // One job at a time each: the queue, not one greedy worker, spreads the work.
                    .env("WORKER_CONCURRENCY", "1")
                    .env("WORKER_HTTP_ADDR", "127.0.0.1:0")
                    .env("RUST_LOG", "warn,worker=info"),
                "worker HTTP server listening",
            );
            (child, addr.port())
        })
        .unzip();

    // All three are up (their health checks answer) before the work arrives.
    for port in &ports {
        let url = format!("http://127.0.0.1:{port}/health");
        let mut up = false;
        for _ in 0..200 {
            if reqwest::get(&url).await.is_ok_and(|r| r.status().is_success()) {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "the worker on port {port} did not come up");
    }

    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let queue = JobQueue::new(conn, &redis.namespace);
    for n in 0..JOBS {
        let (user, chat) = users[n % users.len()];
        let tone = 200.0 + 10.0 * f64::from(u32::try_from(n).unwrap());
        let file = telegram.register_file(testkit::audio::tone_wav(6, tone), "audio/wav", Some(6));
        let input = TranscriptionInput {
            file_id: file.file_id,
            file_unique_id: file.file_unique_id,
            file_size: Some(file.size),
            mime_type: Some("audio/wav".into()),
            file_name: Some("memo.wav".into()),
            duration_hint_s: 6,
            source: MediaSource::Document,
            reply_to: None,
        };
        let job = jobs::create_transcription(&db.db, &ledger, user, ChatId(chat), &input).await.unwrap();
        queue.push_transcribe(job.job_id).await.unwrap();
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let done = count(&db.db, "SELECT COUNT(*) AS n FROM jobs WHERE status = 'succeeded'").await;
        if done == JOBS as i64 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{done} of {JOBS} jobs succeeded in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Time for a duplicate delivery, if there were one, to show itself.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut shares = Vec::new();
    for port in &ports {
        shares.push(finished_by(*port).await);
    }
    for worker in &mut workers {
        worker.kill().unwrap();
        worker.wait().unwrap();
    }

    // Once each: one provider call, one attempt, one charge, one transcript per job.
    assert_eq!(openai.transcription_requests().len(), JOBS, "provider calls");
    let db = &db.db;
    assert_eq!(
        count(db, "SELECT COUNT(*) AS n FROM jobs WHERE provider_calls <> 1 OR attempts <> 1").await,
        0
    );
    assert_eq!(count(db, "SELECT COUNT(*) AS n FROM transcripts").await, JOBS as i64);
    let charges = "SELECT COUNT(*) AS n FROM ledger_transactions WHERE kind = 'capture'";
    assert_eq!(count(db, charges).await, JOBS as i64);
    let charged_twice = "SELECT COUNT(*) AS n FROM (SELECT job_id FROM ledger_transactions \
                         WHERE kind = 'capture' GROUP BY job_id HAVING COUNT(*) > 1) twice";
    assert_eq!(count(db, charged_twice).await, 0);
    assert!(fixtures::ledger_violation(db).await.is_none());

    // Spread: every worker finished some of them, and together all of them.
    println!("jobs finished per worker: {shares:?}");
    assert!(shares.iter().all(|&n| n >= 1.0), "a worker took no job: {shares:?}");
    assert_eq!(shares.iter().sum::<f64>(), JOBS as f64, "{shares:?}");
}
