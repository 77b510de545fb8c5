//! The transcribe job end to end: fake Telegram and fake OpenAI, real
//! Postgres, Redis and S3.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{str::FromStr, sync::Arc, time::Duration};

use sea_orm::EntityTrait;
use shared::ids::{ChatId, JobId, TelegramUserId, UserId};
use shared::{
    billing::ledger::{BonusReason, Ledger},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    entities::{jobs as job_rows, transcripts},
    jobs::{self, MediaSource, TranscriptionInput},
};
use storage::{ObjectStore, StorageConfig};
use testkit::{
    TestDb, TestS3,
    fake_openai::{Endpoint, FakeOpenAi, Fault, expected_transcript},
    fake_telegram::FakeTelegram,
    fixtures,
};
use worker::{
    runner::{AttemptPolicy, Common},
    transcribe::{Outcome, TranscribeContext, run_once},
};

const CHAT: i64 = 5;

/// 20 s of 16 kHz mono WAV: a tone for 4 s, silence for 1 s, four times.
fn speech_like_wav() -> Vec<u8> {
    testkit::audio::tone_wav(20, 220.0)
}

/// The child-process sandbox, run by the worker executable built with these tests.
fn sandbox() -> worker::sandbox::AudioSandbox {
    sandbox_with_memory(512 * 1024 * 1024)
}

fn sandbox_with_memory(memory_limit_bytes: u64) -> worker::sandbox::AudioSandbox {
    worker::sandbox::AudioSandbox::new(&shared::media::transcripts::AudioSandboxSettings {
        isolation: shared::media::transcripts::AudioIsolation::Process,
        executable: Some(env!("CARGO_BIN_EXE_worker").into()),
        memory_limit_bytes,
        cpu_limit: Duration::from_secs(60),
    })
    .unwrap()
}

struct Rig {
    test: TestDb,
    telegram: FakeTelegram,
    openai: FakeOpenAi,
    ctx: TranscribeContext,
    user: UserId,
}

async fn rig() -> Rig {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let test = TestDb::migrated().await;
    let telegram = FakeTelegram::start().await;
    let openai = FakeOpenAi::start().await.unwrap();
    let s3 = TestS3::new();
    let store = ObjectStore::connect(&StorageConfig {
        endpoint: Some(s3.endpoint),
        bucket: s3.bucket,
        access_key_id: s3.access_key_id,
        secret_access_key: s3.secret_access_key,
        ..StorageConfig::default()
    })
    .await
    .unwrap();
    let ledger = Ledger::new(PricingSettings {
        free_minutes_per_day: 0,
        image_free_per_month: 0,
        ..PricingSettings::default()
    });
    let user = fixtures::user(&test.db, TelegramUserId(CHAT)).await;
    ledger.grant_bonus(&test.db, user, Credits::whole(10), &BonusReason::Welcome).await.unwrap();
    telegram.user(CHAT, "Test", Some("ru"));
    let ctx = TranscribeContext {
        common: Common::new(
            test.db.clone(),
            ledger,
            shared::telegram::connect(telegram.token(), telegram.api_url(), 30.try_into().unwrap()),
            // Retries at once: the tests run attempts back to back.
            AttemptPolicy { max_attempts: 3, lease: jobs::DEFAULT_LEASE, retry_backoff: Duration::ZERO },
        ),
        store,
        stt: worker::openai_client(
            &openai.base_url(),
            Some("sk-test"),
            Duration::from_secs(5),
            Duration::from_secs(30),
        )
        .unwrap(),
        stt_model: "whisper-1".into(),
        stt_timeout: Duration::from_secs(30),
        max_download_bytes: 20_000_000,
        local_files: None,
        file_after_chars: 12_288,
        chunking: audio::ChunkingConfig::default(),
        audio: sandbox(),
        per_job_concurrency: 4,
        sequential: false,
        process_permits: Arc::new(tokio::sync::Semaphore::new(8)),
        pace: Default::default(),
    };
    Rig { test, telegram, openai, ctx, user }
}

async fn queue(rig: &Rig, bytes: Vec<u8>, seconds: u32) -> JobId {
    let file = rig.telegram.register_file(bytes, "audio/wav", Some(seconds));
    queue_file(rig, file, seconds).await
}

#[tokio::test]
async fn a_recording_comes_back_as_text_charged_once_even_when_delivered_twice() {
    let rig = rig().await;
    let wav = speech_like_wav();
    let job = queue(&rig, wav.clone(), 20).await;
    // 20 s at 15 a minute.
    assert_eq!(rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap().held, Credits::whole(5));

    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let messages = rig.telegram.wait_for_messages(CHAT, 2, Duration::from_secs(10)).await.unwrap();
    let delivered: String = messages.iter().filter_map(|m| m.body()).collect::<Vec<_>>().join("\n");

    // Each chunk the provider saw comes back, in order.
    let sent = rig.openai.transcription_requests();
    assert!(!sent.is_empty());
    let prepared = audio::prepare(&bytes::Bytes::from(wav), &audio::ChunkingConfig::default()).unwrap();
    let mut at = 0;
    for chunk in &prepared.chunks {
        for segment in expected_transcript(&chunk.bytes).unwrap().segments {
            let found = delivered[at..]
                .find(&segment.text)
                .unwrap_or_else(|| panic!("{} missing: {delivered}", segment.text));
            at += found;
        }
    }
    assert!(delivered.contains("списано 5 кредитов"), "{delivered}");

    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
    let stored = transcripts::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert!((19_900..=20_100).contains(&stored.duration_ms), "{}", stored.duration_ms);
    let job_row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(job_row.status, shared::entities::jobs::JobStatus::Succeeded);
    assert_eq!(job_row.price_charged, Some(Credits::whole(5).amount()));
    let txt = rig.ctx.store.get(&storage::ObjectKey::parse(&stored.txt_key).unwrap()).await.unwrap();
    assert!(!txt.is_empty());
    // The text is in the database too, for the Mini App's search.
    assert_eq!(stored.text.as_deref(), Some(&*String::from_utf8_lossy(&txt)));

    // The queue delivers the same job again: nothing happens.
    let sent_before = rig.telegram.messages(CHAT).len();
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::AlreadyFinished);
    assert_eq!(rig.telegram.messages(CHAT).len(), sent_before);
    assert_eq!(rig.openai.transcription_requests().len(), sent.len());
    assert_eq!(
        rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap().available,
        Credits::whole(5)
    );
    assert!(fixtures::ledger_violation(&rig.test.db).await.is_none());
}

#[tokio::test]
async fn a_permanent_provider_failure_releases_the_hold_and_tells_the_user() {
    let rig = rig().await;
    rig.openai.fail_next(Endpoint::Transcriptions, 10, Fault::InsufficientQuota);
    let job = queue(&rig, speech_like_wav(), 20).await;
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::GaveUp);
    let messages = rig.telegram.wait_for_messages(CHAT, 1, Duration::from_secs(10)).await.unwrap();
    let last = messages.last().unwrap().body().unwrap();
    assert!(last.contains("сервис распознавания речи сейчас недоступен"), "{last}");
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(10), Credits::ZERO));
}

#[tokio::test]
async fn a_corrupt_file_is_refused_without_charge() {
    let rig = rig().await;
    let mut broken = speech_like_wav();
    broken.truncate(30);
    let job = queue(&rig, broken, 20).await;
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::GaveUp);
    let messages = rig.telegram.wait_for_messages(CHAT, 1, Duration::from_secs(10)).await.unwrap();
    let last = messages.last().unwrap().body().unwrap();
    assert!(last.starts_with("Не получилось расшифровать"), "{last}");
    assert!(rig.openai.transcription_requests().is_empty());
    assert_eq!(
        rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap().available,
        Credits::from_str("10").unwrap()
    );
}

#[tokio::test]
async fn transient_provider_errors_are_retried_on_a_later_attempt() {
    let rig = rig().await;
    // More 500s than the client's own retries: the first attempt fails, the second succeeds.
    rig.openai.fail_next(Endpoint::Transcriptions, 1, Fault::Timeout(Duration::from_millis(10)));
    let job = queue(&rig, speech_like_wav(), 20).await;
    let outcome = match run_once(&rig.ctx, job).await.unwrap() {
        Outcome::Deferred => run_once(&rig.ctx, job).await.unwrap(),
        outcome => outcome,
    };
    assert_eq!(outcome, Outcome::Done);
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
}

#[tokio::test]
async fn a_job_whose_worker_died_mid_way_is_finished_once_by_another() {
    let rig = rig().await;
    let job = queue(&rig, speech_like_wav(), 20).await;
    // The first worker claimed it and died before doing anything visible.
    assert!(matches!(
        jobs::claim(&rig.test.db, job, 3, jobs::DEFAULT_LEASE).await.unwrap(),
        jobs::Claim::Run { attempt: 1, .. }
    ));
    // While its lease runs, nobody else may start the job.
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::AlreadyFinished);
    assert!(rig.openai.transcription_requests().is_empty());
    // The lease runs out; the orphan is handed to another worker.
    sea_orm::ConnectionTrait::execute_unprepared(
        &rig.test.db,
        &format!("UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = '{job}'"),
    )
    .await
    .unwrap();
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let footers = rig
        .telegram
        .messages(CHAT)
        .iter()
        .filter(|m| m.body().is_some_and(|b| b.starts_with("Длительность")))
        .count();
    assert_eq!(footers, 1);
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(row.attempts, 2);
}

#[tokio::test]
async fn the_same_job_pushed_twice_through_the_queue_is_delivered_once() {
    use shared::jobs::queue::JobQueue;
    let rig = rig().await;
    let redis = testkit::TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let queue_handle = JobQueue::new(conn, &redis.namespace);
    let job = queue(&rig, speech_like_wav(), 20).await;
    queue_handle.push_transcribe(job).await.unwrap();
    queue_handle.push_transcribe(job).await.unwrap();
    let Rig { test, telegram, openai, ctx, user } = rig;
    let ctx = Arc::new(ctx);
    let worker = tokio::spawn(worker::supervise_transcribe(queue_handle, ctx.clone(), 2));
    telegram
        .wait_until("the footer", Duration::from_secs(30), |t| {
            t.messages(CHAT).into_iter().find(|m| m.body().is_some_and(|b| b.starts_with("Длительность")))
        })
        .await
        .unwrap();
    // Give the duplicate time to be taken and ignored.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let footers = telegram
        .messages(CHAT)
        .iter()
        .filter(|m| m.body().is_some_and(|b| b.starts_with("Длительность")))
        .count();
    assert_eq!(footers, 1);
    let chunks = audio::prepare(&bytes::Bytes::from(speech_like_wav()), &audio::ChunkingConfig::default())
        .unwrap()
        .chunks
        .len();
    assert_eq!(openai.transcription_requests().len(), chunks);
    let balance = ctx.common.ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
    worker.abort();
}

#[tokio::test]
async fn a_rate_limit_is_retried_by_the_runner_one_request_per_attempt() {
    let rig = rig().await;
    rig.openai.fail_next(Endpoint::Transcriptions, 2, Fault::RateLimited { retry_after_s: 1 });
    let job = queue(&rig, speech_like_wav(), 20).await;
    // The client does not retry on its own: each 429 fails one attempt, which waits out the
    // runner's backoff (zero here), and the provider sees exactly the calls we counted.
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Deferred);
    assert_eq!(rig.openai.transcription_requests().len(), 1);
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Deferred);
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let statuses: Vec<u16> = rig.openai.transcription_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200]);
    let footers = rig
        .telegram
        .messages(CHAT)
        .iter()
        .filter(|m| m.body().is_some_and(|b| b.starts_with("Длительность")))
        .count();
    assert_eq!(footers, 1);
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(
        (row.attempts, row.provider_calls, row.price_charged),
        (3, 3, Some(Credits::whole(5).amount()))
    );
}

#[tokio::test]
async fn a_delivery_cut_short_resumes_without_repeating_what_was_sent() {
    use testkit::fake_telegram::Fault as TelegramFault;
    let rig = rig().await;
    let job = queue(&rig, speech_like_wav(), 20).await;
    // The transcript goes out; the footer after it fails (a flood wait is waited out, so a
    // server error).
    rig.telegram.inject_fault("sendMessage", 1, TelegramFault::Delay(Duration::ZERO));
    rig.telegram.inject_fault("sendMessage", 1, TelegramFault::ServerError);
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Deferred);
    assert_eq!(rig.telegram.messages(CHAT).len(), 1);
    // Captured once already; the retry only finishes the delivery.
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));

    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let bodies: Vec<String> =
        rig.telegram.messages(CHAT).iter().filter_map(|m| m.body().map(str::to_owned)).collect();
    assert_eq!(bodies.len(), 2, "{bodies:#?}");
    assert!(bodies[1].starts_with("Длительность"), "{bodies:#?}");
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    let delivered = row.result.unwrap()["delivered_message_ids"].as_array().unwrap().len();
    assert_eq!(delivered, 2);
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!(balance.available, Credits::whole(5));
}

#[tokio::test]
async fn a_failed_attempt_waits_out_its_backoff_before_the_next() {
    let mut rig = rig().await;
    rig.ctx.common.policy.retry_backoff = Duration::from_secs(60);
    rig.openai.fail_next(Endpoint::Transcriptions, 1, Fault::ServerError);
    let job = queue(&rig, speech_like_wav(), 20).await;
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Deferred);
    let requests = rig.openai.transcription_requests().len();
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    let wait = row.lease_until.unwrap() - chrono::Utc::now();
    assert!((40..=80).contains(&wait.num_seconds()), "{wait}");

    // Redelivered at once: it waits.
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::AlreadyFinished);
    assert_eq!(rig.openai.transcription_requests().len(), requests);
    // Once the pause is over the next attempt runs.
    sea_orm::ConnectionTrait::execute_unprepared(
        &rig.test.db,
        &format!("UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = '{job}'"),
    )
    .await
    .unwrap();
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(row.attempts, 2);
}

#[tokio::test]
async fn in_sequential_mode_each_chunk_is_prompted_with_the_end_of_the_one_before() {
    let mut rig = rig().await;
    rig.ctx.sequential = true;
    rig.ctx.chunking = audio::ChunkingConfig {
        target_chunk: Duration::from_secs(7),
        max_chunk: Duration::from_secs(10),
        ..audio::ChunkingConfig::default()
    };
    rig.openai.set_latency(Endpoint::Transcriptions, Duration::from_millis(200));
    let job = queue(&rig, speech_like_wav(), 20).await;
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let requests = rig.openai.transcription_requests();
    assert!(requests.len() >= 2, "{} chunks", requests.len());
    assert_eq!(rig.openai.peak_concurrency(Endpoint::Transcriptions), 1);
    assert_eq!(requests[0].prompt, None);
    for pair in requests.windows(2) {
        let previous = expected_transcript_text(&pair[0]);
        let prompt = pair[1].prompt.clone().unwrap();
        assert!(
            !prompt.is_empty() && previous.ends_with(&prompt),
            "{prompt:?} is not the end of {previous:?}"
        );
    }
}

/// The text the fake answered for a recorded request.
fn expected_transcript_text(request: &testkit::fake_openai::RecordedRequest) -> String {
    let hash = &request.audio.as_ref().unwrap().hash;
    let count =
        (request.audio.as_ref().unwrap().duration_s / testkit::fake_openai::SEGMENT_SECONDS).ceil() as usize;
    (0..count.max(1)).map(|i| format!("{hash}-{i}")).collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn a_file_that_exhausts_the_sandboxes_memory_fails_alone_and_the_worker_goes_on() {
    let mut rig = rig().await;
    // A sandbox with almost no memory beyond its input: decoding aborts on an allocation,
    // which in-process would take the whole worker down.
    rig.ctx.audio = sandbox_with_memory(64 * 1024);
    let starved = queue(&rig, speech_like_wav(), 20).await;
    assert_eq!(run_once(&rig.ctx, starved).await.unwrap(), Outcome::GaveUp);
    let messages = rig.telegram.wait_for_messages(CHAT, 1, Duration::from_secs(10)).await.unwrap();
    let last = messages.last().unwrap().body().unwrap();
    assert_eq!(last, "Не получилось расшифровать: файл повреждён. Деньги не списаны.");
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(10), Credits::ZERO));

    // The same worker, with its usual sandbox, transcribes the next recording.
    rig.ctx.audio = sandbox();
    let next = queue(&rig, speech_like_wav(), 20).await;
    assert_eq!(run_once(&rig.ctx, next).await.unwrap(), Outcome::Done);
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
    assert_eq!(rig.openai.transcription_requests().len(), 1);
}

#[tokio::test]
async fn a_wav_claiming_four_billion_samples_a_second_is_refused_without_charge() {
    let rig = rig().await;
    for rate in [4_294_967_291, 7_999_999] {
        let job = queue(&rig, testkit::hostile::tiny_wav_claiming_rate(rate), 1).await;
        assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::GaveUp);
    }
    let messages = rig.telegram.wait_for_messages(CHAT, 2, Duration::from_secs(10)).await.unwrap();
    for message in &messages {
        assert_eq!(
            message.body().unwrap(),
            "Не получилось расшифровать: этот формат я не читаю. Деньги не списаны."
        );
    }
    assert!(rig.openai.transcription_requests().is_empty());
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(10), Credits::ZERO));
}

#[tokio::test]
async fn a_document_longer_than_the_balance_covers_is_refused_before_decoding_with_its_length_and_price() {
    let rig = rig().await;
    // 60 s at 15 a minute is 15 credits; the user has 10. The size estimate said 20 s.
    let job = queue(&rig, testkit::audio::tone_wav(60, 220.0), 20).await;
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::GaveUp);
    let messages = rig.telegram.wait_for_messages(CHAT, 1, Duration::from_secs(10)).await.unwrap();
    assert_eq!(
        messages.last().unwrap().body().unwrap(),
        "Запись длится 1:00, её расшифровка стоит 15 кредитов, а на балансе 10. \
         Пополните баланс командой /buy и пришлите запись снова. Деньги не списаны."
    );
    assert!(rig.openai.transcription_requests().is_empty());
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(10), Credits::ZERO));
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(row.error_code.as_deref(), Some("not_enough_credit"));
}

#[tokio::test]
async fn a_charged_job_whose_user_blocked_the_bot_ends_undeliverable_without_another_provider_call() {
    let rig = rig().await;
    let job = queue(&rig, speech_like_wav(), 20).await;
    rig.telegram.user(CHAT, "Test", Some("ru")).block_bot();
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::GaveUp);
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(row.status, job_rows::JobStatus::Undeliverable);
    assert_eq!(row.error_code.as_deref(), Some("recipient_gone"));
    // The work was done and is kept: the charge stands, the transcript is stored.
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
    assert!(transcripts::Entity::find().one(&rig.test.db).await.unwrap().is_some());
    let user =
        shared::entities::users::Entity::find_by_id(rig.user).one(&rig.test.db).await.unwrap().unwrap();
    assert!(user.is_blocked);
    // The job is over: another delivery of its id does nothing and calls no provider.
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::AlreadyFinished);
    assert_eq!(rig.openai.transcription_requests().len(), 1);
}

#[tokio::test]
async fn an_attempt_dropped_mid_way_stops_renewing_its_lease() {
    let mut rig = rig().await;
    rig.ctx.common.policy.lease = Duration::from_secs(1);
    rig.ctx.stt_timeout = Duration::from_secs(120);
    rig.openai.set_latency(Endpoint::Transcriptions, Duration::from_secs(120));
    let job = queue(&rig, speech_like_wav(), 20).await;
    let ctx = Arc::new(rig.ctx);
    let running = {
        let ctx = ctx.clone();
        tokio::spawn(async move { run_once(&ctx, job).await })
    };
    wait_for_the_provider(&rig.openai).await;
    // Renewed while the attempt lives: the lease moves on past where the claim set it. Polled,
    // not timed, so a loaded machine that delays a renewal cannot fail the test.
    let claimed = lease_until(&rig.test.db, job).await;
    let mut renewed = false;
    for _ in 0..300 {
        if lease_until(&rig.test.db, job).await > claimed {
            renewed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(renewed, "the lease was never renewed while the attempt ran");
    // ...and never again once it is gone (a queue worker that failed drops its futures).
    running.abort();
    let _ = running.await;
    let after_abort = lease_until(&rig.test.db, job).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(lease_until(&rig.test.db, job).await, after_abort, "a dropped attempt kept its lease alive");
    while lease_until(&rig.test.db, job).await > chrono::Utc::now() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(matches!(
        jobs::claim(&rig.test.db, job, 5, jobs::DEFAULT_LEASE).await.unwrap(),
        jobs::Claim::Run { attempt: 2, .. }
    ));
}

async fn lease_until(db: &sea_orm::DatabaseConnection, job: JobId) -> chrono::DateTime<chrono::Utc> {
    job_rows::Entity::find_by_id(job).one(db).await.unwrap().unwrap().lease_until.unwrap()
}

/// Waits until an attempt is at the (slow) transcription provider.
async fn wait_for_the_provider(openai: &FakeOpenAi) {
    for _ in 0..600 {
        if openai.peak_concurrency(Endpoint::Transcriptions) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the attempt never reached the provider");
}

#[tokio::test]
async fn at_shutdown_an_attempt_past_the_grace_period_is_handed_back_at_once() {
    let mut rig = rig().await;
    rig.ctx.stt_timeout = Duration::from_secs(120);
    rig.openai.set_latency(Endpoint::Transcriptions, Duration::from_secs(120));
    let job = queue(&rig, speech_like_wav(), 20).await;
    let ctx = Arc::new(rig.ctx);
    let handler = tokio::spawn(worker::runner::handle(ctx.clone(), job));
    wait_for_the_provider(&rig.openai).await;
    let started = std::time::Instant::now();
    ctx.common.wind_down(Duration::from_millis(500)).await;
    // The provider answers in two minutes; a handed-back attempt does not wait for it (the bound
    // leaves a loaded machine room for the release's own round trip).
    assert!(started.elapsed() < Duration::from_secs(60), "shutdown waited for the provider");
    handler.await.unwrap().unwrap();
    // The job is free for the next worker at once, and nothing was charged or lost.
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(row.status, job_rows::JobStatus::Running);
    assert!(row.lease_until.unwrap() <= chrono::Utc::now());
    assert!(matches!(
        jobs::claim(&rig.test.db, job, 5, jobs::DEFAULT_LEASE).await.unwrap(),
        jobs::Claim::Run { attempt: 2, .. }
    ));
    let balance = ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::whole(5)));
}

#[tokio::test]
async fn a_retry_never_pays_the_provider_again_for_a_chunk_already_answered() {
    let mut rig = rig().await;
    // Three chunks of about eight seconds.
    rig.ctx.chunking.target_chunk = Duration::from_secs(6);
    rig.ctx.chunking.max_chunk = Duration::from_secs(8);
    let job = queue(&rig, speech_like_wav(), 20).await;
    // Every chunk is answered, then delivery fails: Telegram has a bad moment.
    rig.telegram.inject_fault("sendMessage", 1, testkit::fake_telegram::Fault::ServerError);
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Deferred);
    let chunks = rig.openai.transcription_requests().len();
    assert!(chunks >= 2, "{chunks} chunks");
    // The next attempt delivers from the stored answers.
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    assert_eq!(rig.openai.transcription_requests().len(), chunks, "a chunk was sent twice");
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(row.provider_calls, i32::try_from(chunks).unwrap());
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(5), Credits::ZERO));
}

#[tokio::test]
async fn the_transcription_language_the_user_chose_goes_to_the_provider_and_auto_sends_none() {
    use shared::people::settings::{self, TranscriptionLanguage};

    let rig = rig().await;
    let job = queue(&rig, speech_like_wav(), 20).await;
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    assert!(rig.openai.transcription_requests().iter().all(|r| r.language.is_none()), "auto: detection");

    settings::set_transcription_language(&rig.test.db, rig.user, &TranscriptionLanguage::Chosen("de".into()))
        .await
        .unwrap();
    let before = rig.openai.transcription_requests().len();
    // Another recording (a different file), so nothing is reused from the first job.
    let job = queue(&rig, testkit::audio::tone_wav(12, 220.0), 12).await;
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let requests = rig.openai.transcription_requests();
    assert!(requests.len() > before);
    assert!(
        requests[before..].iter().all(|r| r.language.as_deref() == Some("de")),
        "{:?}",
        &requests[before..]
    );
}

#[tokio::test]
async fn a_provider_that_leaves_out_usage_duration_and_language_is_answered_once_per_chunk() {
    let rig = rig().await;
    rig.openai.answer_minimally(true);
    let job = queue(&rig, speech_like_wav(), 20).await;
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let sent = rig.openai.transcription_requests();
    assert!(!sent.is_empty() && sent.iter().all(|r| r.status == 200), "{sent:?}");
    let job_row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(job_row.status, shared::entities::jobs::JobStatus::Succeeded);
    assert_eq!(i64::from(job_row.provider_calls), i64::try_from(sent.len()).unwrap(), "no call paid twice");
    let stored = transcripts::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!(stored.language, None, "no language given, none invented");
    assert!(!stored.text.unwrap_or_default().is_empty());
}

/// A directory of the test's own under the system's temporary one, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tgbot-{name}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A job for a file the fake Telegram already knows.
async fn queue_file(rig: &Rig, file: testkit::fake_telegram::FileRef, seconds: u32) -> JobId {
    let input = TranscriptionInput {
        file_id: file.file_id,
        file_unique_id: file.file_unique_id,
        file_size: Some(file.size),
        mime_type: Some("audio/wav".into()),
        file_name: Some("memo.wav".into()),
        duration_hint_s: seconds,
        source: MediaSource::Document,
        reply_to: None,
    };
    jobs::create_transcription(&rig.test.db, &rig.ctx.common.ledger, rig.user, ChatId(CHAT), &input)
        .await
        .unwrap()
        .job_id
}

/// Worker and fake Telegram as with a `telegram-bot-api --local` server sharing `dir`.
fn serve_locally(rig: &mut Rig, dir: &std::path::Path) {
    rig.telegram.serve_locally(dir);
    rig.ctx.local_files = Some(shared::telegram::LocalFiles::new(dir));
    rig.ctx.max_download_bytes = 2_000_000_000;
}

/// Kernel's high-water mark of this process's resident memory, in bytes.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[tokio::test]
async fn a_local_bot_api_servers_absolute_path_inside_the_shared_directory_is_read_from_disk() {
    let mut rig = rig().await;
    let shared_dir = Scratch::new("bot-api");
    serve_locally(&mut rig, &shared_dir.0);
    let wav = speech_like_wav();
    let job = queue(&rig, wav.clone(), 20).await;

    // The first attempt stores the original and fails at the provider.
    rig.openai.fail_next(Endpoint::Transcriptions, 1, Fault::Timeout(Duration::from_millis(10)));
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Deferred);
    // The server answered a path in the shared directory, where it had put the file (an HTTP
    // download of that path would fail: the worker read it from disk).
    let on_disk = files_under(&shared_dir.0);
    assert_eq!(on_disk.len(), 1, "{on_disk:?}");
    assert_eq!(std::fs::read(&on_disk[0]).unwrap(), wav);
    // The server may clean its directory: the retry streams the original back from storage.
    std::fs::remove_file(&on_disk[0]).unwrap();
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let messages = rig.telegram.wait_for_messages(CHAT, 2, Duration::from_secs(10)).await.unwrap();
    let delivered: String = messages.iter().filter_map(|m| m.body()).collect::<Vec<_>>().join("\n");
    assert!(delivered.contains("списано 5 кредитов"), "{delivered}");
    assert_eq!(rig.telegram.calls("getFile").len(), 1);
    // The original kept for retries is the file, byte for byte.
    let stored = transcripts::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    let original = storage::ObjectKey::parse(stored.audio_key.as_deref().unwrap()).unwrap();
    assert_eq!(rig.ctx.store.get(&original).await.unwrap(), bytes::Bytes::from(wav));
    no_temporary_recording_left();
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn a_file_path_outside_the_shared_directory_is_refused_and_the_hold_released() {
    let mut rig = rig().await;
    let root = Scratch::new("bot-api-root");
    let shared_dir = root.0.join("shared");
    std::fs::create_dir_all(&shared_dir).unwrap();
    serve_locally(&mut rig, &shared_dir);
    // A recording beside the shared directory, reached through `..`, and a system file.
    std::fs::write(root.0.join("elsewhere.wav"), speech_like_wav()).unwrap();
    let escaping = shared_dir.join("..").join("elsewhere.wav");
    for (n, forged) in [escaping.as_path(), std::path::Path::new("/etc/passwd")].into_iter().enumerate() {
        let file = rig.telegram.register_file_on_disk(forged, "audio/wav", Some(20)).unwrap();
        let job = queue_file(&rig, file, 20).await;
        assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::GaveUp, "{}", forged.display());
        let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
        assert_eq!(row.error_code.as_deref(), Some("refused_file_path"));
        let messages = rig.telegram.wait_for_messages(CHAT, n + 1, Duration::from_secs(10)).await.unwrap();
        let last = messages.last().unwrap().body().unwrap();
        assert_eq!(last, "Не получилось расшифровать: у нас что-то сломалось. Деньги не списаны.");
        let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
        assert_eq!((balance.available, balance.held), (Credits::whole(10), Credits::ZERO));
    }
    // Nothing of either file was read, let alone kept or sent anywhere.
    assert!(rig.openai.transcription_requests().is_empty());
}

/// The size of the recording in [`a_recording_of_hundreds_of_megabytes_is_transcribed_within_a_fixed_memory_budget`]:
/// 300 MB by default; `BIG_RECORDING_MB=1500` for the figure in BENCHMARKS.md.
fn big_recording_mb() -> u64 {
    std::env::var("BIG_RECORDING_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

/// What the worker may hold while it transcribes a recording of any size (README, "Local Bot
/// API server"): this whole test process (fakes, pools, runtime) stays under it.
const WORKER_MEMORY_BUDGET: u64 = 256 * 1024 * 1024;
/// The sandbox's own memory limit here: smaller than the recording, which it maps, not reads.
const SANDBOX_MEMORY: u64 = 256 * 1024 * 1024;

#[tokio::test]
async fn a_recording_of_hundreds_of_megabytes_is_transcribed_within_a_fixed_memory_budget() {
    let mut rig = rig().await;
    let shared_dir = Scratch::new("bot-api-big");
    serve_locally(&mut rig, &shared_dir.0);
    rig.ctx.audio = worker::sandbox::AudioSandbox::new(&shared::media::transcripts::AudioSandboxSettings {
        isolation: shared::media::transcripts::AudioIsolation::Process,
        executable: Some(env!("CARGO_BIN_EXE_worker").into()),
        memory_limit_bytes: SANDBOX_MEMORY,
        cpu_limit: Duration::from_secs(600),
    })
    .unwrap();
    // 48 kHz stereo 16-bit: 192 kB a second.
    let seconds = u32::try_from(big_recording_mb() * 1_000_000 / 192_000).unwrap();
    let path = shared_dir.0.join("recording.wav");
    let started = std::time::Instant::now();
    let size = testkit::audio::write_long_wav(&path, seconds, 48_000, 2).unwrap();
    let written = started.elapsed();
    assert!(SANDBOX_MEMORY < size, "the recording must not fit the sandbox's memory limit");
    rig.ctx
        .common
        .ledger
        .grant_bonus(
            &rig.test.db,
            rig.user,
            Credits::whole(100_000),
            &BonusReason::Admin {
                admin_telegram_id: TelegramUserId(1),
                action_id: "big-recording".into(),
                note: "a long recording".into(),
            },
        )
        .await
        .unwrap();
    let file = rig.telegram.register_file_on_disk(&path, "audio/wav", Some(seconds)).unwrap();
    let job = queue_file(&rig, file, seconds).await;

    let before = peak_rss_bytes();
    let started = std::time::Instant::now();
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    let took = started.elapsed();
    let peak = peak_rss_bytes();
    let stored = transcripts::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    let measured = u64::try_from(stored.duration_ms).unwrap();
    assert!(measured.abs_diff(u64::from(seconds) * 1000) < 1000, "{measured} ms of {seconds} s");
    let original = storage::ObjectKey::parse(stored.audio_key.as_deref().unwrap()).unwrap();
    assert_eq!(rig.ctx.store.size(&original).await.unwrap(), Some(size));
    eprintln!(
        "{{\"recording_bytes\":{size},\"audio_s\":{seconds},\"write_s\":{:.1},\"job_s\":{:.1},\
         \"peak_rss_before_mb\":{},\"peak_rss_mb\":{},\"sandbox_limit_mb\":{}}}",
        written.as_secs_f64(),
        took.as_secs_f64(),
        before / 1_000_000,
        peak / 1_000_000,
        SANDBOX_MEMORY / 1_000_000
    );
    assert!(
        peak < WORKER_MEMORY_BUDGET,
        "peak {} MB for a {} MB recording",
        peak / 1_000_000,
        size / 1_000_000
    );

    no_temporary_recording_left();
    drop(shared_dir);
}

/// Every attempt's temporary copy of the recording, and every chunk, is gone once the attempt
/// ended. (Tests of
/// this binary run in processes of their own, but may run at once: only this job's are counted.)
fn no_temporary_recording_left() {
    let mine =
        [format!("tgbot-original-{}-", std::process::id()), format!("tgbot-chunk-{}-", std::process::id())];
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| mine.iter().any(|prefix| entry.file_name().to_string_lossy().starts_with(prefix)))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn temporary_files_of_dead_workers_are_removed_and_live_ones_kept() {
    let dir = Scratch::new("leftovers");
    // No process has the largest pid there is; this one is alive.
    let dead = dir.0.join(format!("tgbot-original-{}-abc", u32::MAX));
    let dead_chunk = dir.0.join(format!("tgbot-chunk-{}-abc", u32::MAX));
    let alive = dir.0.join(format!("tgbot-original-{}-abc", std::process::id()));
    let other = dir.0.join("unrelated-file");
    for file in [&dead, &dead_chunk, &alive, &other] {
        std::fs::write(file, b"x").unwrap();
    }
    worker::transcribe::remove_leftovers(&dir.0);
    assert!(!dead.exists() && !dead_chunk.exists());
    assert!(alive.exists() && other.exists());
}
