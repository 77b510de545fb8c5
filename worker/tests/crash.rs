//! A worker process killed with SIGKILL, or stopped with SIGTERM, in the
//! middle of a job: another worker process finishes it, with exactly one
//! transcript and one charge.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use shared::ids::{ChatId, JobId, TelegramUserId, UserId};
use shared::{
    billing::ledger::{BonusReason, Ledger},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    entities::{jobs as job_rows, transcripts},
    jobs::queue::JobQueue,
    jobs::{self, MediaSource, TranscriptionInput},
};
use testkit::{
    TestDb, TestRedis, TestS3,
    fake_openai::{Endpoint, FakeOpenAi},
    fake_telegram::FakeTelegram,
    fixtures,
};

const CHAT: i64 = 77;

struct Services {
    db: TestDb,
    redis: TestRedis,
    s3: TestS3,
    telegram: FakeTelegram,
    openai: FakeOpenAi,
}

/// A `worker` process with a short lease and a fast sweeper.
fn spawn_worker(s: &Services) -> Child {
    worker_command(s).spawn().unwrap()
}

fn worker_command(s: &Services) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_worker"));
    command
        .env_clear()
        .current_dir(std::env::temp_dir())
        .envs(testkit::worker_env(&s.db, &s.redis, &s.s3, &s.telegram, &s.openai))
        .env("JOB_LEASE_SECONDS", "3")
        .env("MAINTENANCE_INTERVAL_SECONDS", "1")
        .env("WORKER_CONCURRENCY", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    command
}

async fn wait_for(what: &str, timeout: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The services, and a 20 s recording queued by a user with 10 credits.
async fn one_queued_job() -> (Services, Ledger, UserId, JobId) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let s = Services {
        db: TestDb::migrated().await,
        redis: TestRedis::new(),
        s3: TestS3::new(),
        telegram: FakeTelegram::start().await,
        openai: FakeOpenAi::start().await.unwrap(),
    };
    // Slow enough that the first worker is still waiting on the provider when it stops.
    s.openai.set_latency(Endpoint::Transcriptions, Duration::from_secs(4));
    let ledger = Ledger::new(PricingSettings { free_minutes_per_day: 0, ..PricingSettings::default() });
    let user = fixtures::user(&s.db.db, TelegramUserId(CHAT)).await;
    ledger.grant_bonus(&s.db.db, user, Credits::whole(10), &BonusReason::Welcome).await.unwrap();
    s.telegram.user(CHAT, "Test", Some("en"));
    let file = s.telegram.register_file(testkit::audio::tone_wav(20, 220.0), "audio/wav", Some(20));
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
    let job = jobs::create_transcription(&s.db.db, &ledger, user, ChatId(CHAT), &input).await.unwrap().job_id;
    let conn = apalis_redis::connect(s.redis.url.as_str()).await.unwrap();
    JobQueue::new(conn, &s.redis.namespace).push_transcribe(job).await.unwrap();

    (s, ledger, user, job)
}

#[tokio::test]
async fn a_worker_killed_mid_job_is_replaced_and_the_job_finishes_once() {
    let (s, ledger, user, job) = one_queued_job().await;
    // The first worker stores the original and calls the provider; then it is killed.
    let mut first = spawn_worker(&s);
    let db = s.db.db.clone();
    wait_for("the first worker to store the original", Duration::from_secs(60), async || {
        db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT 1 FROM media_objects WHERE job_id = '{job}' AND kind = 'audio_original'"),
        ))
        .await
        .unwrap()
        .is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.kill().unwrap();
    first.wait().unwrap();
    let row = job_rows::Entity::find_by_id(job).one(&db).await.unwrap().unwrap();
    assert_eq!(row.status, job_rows::JobStatus::Running, "the job was mid-way when the worker died");
    assert_eq!(transcripts::Entity::find().count(&db).await.unwrap(), 0);

    // A second worker takes the orphan over once its lease runs out.
    let mut second = spawn_worker(&s);
    wait_for("the job to succeed", Duration::from_secs(60), async || {
        let row = job_rows::Entity::find_by_id(job).one(&db).await.unwrap().unwrap();
        row.status == job_rows::JobStatus::Succeeded
    })
    .await;
    // Time for any duplicate (the queue's own orphan recovery) to show itself.
    tokio::time::sleep(Duration::from_secs(3)).await;
    second.kill().unwrap();
    second.wait().unwrap();

    let footers = s
        .telegram
        .messages(CHAT)
        .iter()
        .filter(|m| m.body().is_some_and(|b| b.starts_with("Длительность 0:20")))
        .count();
    assert_eq!(footers, 1, "{:#?}", s.telegram.messages(CHAT).iter().map(|m| m.body()).collect::<Vec<_>>());
    assert_eq!(transcripts::Entity::find().count(&db).await.unwrap(), 1);
    let row = job_rows::Entity::find_by_id(job).one(&db).await.unwrap().unwrap();
    assert_eq!(row.attempts, 2);
    assert_eq!(row.price_charged, Some(Credits::whole(5).amount()));
    let balance = ledger.balance(&db, user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
    assert!(fixtures::ledger_violation(&db).await.is_none());
}

#[tokio::test]
async fn a_worker_told_to_stop_hands_its_unfinished_job_back_for_the_next_at_once() {
    let (s, ledger, user, job) = one_queued_job().await;
    s.openai.set_latency(Endpoint::Transcriptions, Duration::from_secs(60));
    let mut first = worker_command(&s).env("SHUTDOWN_GRACE_SECONDS", "1").spawn().unwrap();
    let openai = s.openai.clone();
    wait_for("the first worker to call the provider", Duration::from_secs(60), async || {
        openai.peak_concurrency(Endpoint::Transcriptions) > 0
    })
    .await;
    let stopping = std::time::Instant::now();
    let status = Command::new("kill").args(["-TERM", &first.id().to_string()]).status().unwrap();
    assert!(status.success());
    first.wait().unwrap();
    // It waited out its grace period, not the provider.
    assert!(stopping.elapsed() < Duration::from_secs(15), "stopping took {:?}", stopping.elapsed());
    let db = s.db.db.clone();
    let row = job_rows::Entity::find_by_id(job).one(&db).await.unwrap().unwrap();
    assert_eq!(row.status, job_rows::JobStatus::Running);
    assert!(row.lease_until.unwrap() <= chrono::Utc::now(), "the job was not handed back");

    // The next worker takes it at once (its lease is already over) and finishes it once.
    s.openai.set_latency(Endpoint::Transcriptions, Duration::ZERO);
    let mut second = spawn_worker(&s);
    wait_for("the job to succeed", Duration::from_secs(30), async || {
        let row = job_rows::Entity::find_by_id(job).one(&db).await.unwrap().unwrap();
        row.status == job_rows::JobStatus::Succeeded
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();
    let row = job_rows::Entity::find_by_id(job).one(&db).await.unwrap().unwrap();
    assert_eq!((row.attempts, row.price_charged), (2, Some(Credits::whole(5).amount())));
    let balance = ledger.balance(&db, user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
    assert!(fixtures::ledger_violation(&db).await.is_none());
}
