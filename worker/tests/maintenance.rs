//! Maintenance re-pushes lost queue messages and releases stuck holds, one process at a time.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ConnectionTrait, EntityTrait};
use shared::ids::{ChatId, PaymentId, TelegramUserId, UserId};
use shared::{
    billing::ledger::{BonusReason, Ledger},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    jobs::queue::JobQueue,
    jobs::{self, MediaSource, TranscriptionInput},
};
use testkit::{TestDb, TestRedis, fixtures};
use worker::maintenance::{self, Maintenance};

/// Maintenance without YooKassa, with a Telegram client nobody answers.
fn plain(db: &TestDb, ledger: Ledger, queue: JobQueue) -> Maintenance {
    Maintenance {
        db: db.db.clone(),
        ledger,
        queue,
        yookassa: None,
        bot: shared::telegram::connect(
            "0:unused",
            "http://127.0.0.1:9".parse().unwrap(),
            std::num::NonZeroU32::MIN,
        ),
        referral_percent: 10,
        retention: None,
        media_retention: None,
        store: None,
        repush_after: std::time::Duration::from_secs(60),
    }
}

fn ledger() -> Ledger {
    Ledger::new(PricingSettings {
        free_minutes_per_day: 0,
        image_free_per_month: 0,
        ..PricingSettings::default()
    })
}

fn voice() -> TranscriptionInput {
    TranscriptionInput {
        file_id: "f".into(),
        file_unique_id: "u".into(),
        file_size: Some(1000),
        mime_type: None,
        file_name: None,
        duration_hint_s: 60,
        source: MediaSource::Voice,
        reply_to: None,
    }
}

#[tokio::test]
async fn lost_messages_are_pushed_again_and_stuck_holds_released() {
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let queue = JobQueue::new(conn, &redis.namespace);
    let ledger = ledger();
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    ledger.grant_bonus(&test.db, user, Credits::whole(100), &BonusReason::Welcome).await.unwrap();

    // A job whose push never happened (the bot crashed right after the commit).
    let lost = jobs::create_transcription(&test.db, &ledger, user, ChatId(1), &voice()).await.unwrap();
    // A job that failed without releasing its hold, long ago.
    let stuck = jobs::create_transcription(&test.db, &ledger, user, ChatId(1), &voice()).await.unwrap();
    test.db
        .execute_unprepared(&format!(
            "UPDATE jobs SET status = 'failed', updated_at = now() - interval '2 hours' WHERE id = '{}'; \
             UPDATE jobs SET created_at = now() - interval '5 minutes' WHERE id = '{}'; \
             UPDATE ledger_holds SET created_at = now() - interval '2 hours' WHERE job_id = '{}'",
            stuck.job_id, lost.job_id, stuck.job_id
        ))
        .await
        .unwrap();

    let m = plain(&test, ledger.clone(), queue);
    let report = maintenance::tick(&m).await.unwrap();
    assert_eq!(
        report,
        maintenance::TickReport {
            ran: true,
            requeued: 1,
            holds_released: 1,
            payments_settled: 0,
            ..Default::default()
        }
    );
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(85), Credits::whole(15)));

    // Touched: not pushed again on the next tick.
    let again = maintenance::tick(&m).await.unwrap();
    assert_eq!((again.requeued, again.holds_released), (0, 0));
}

#[tokio::test]
async fn only_one_process_runs_a_tick_at_a_time() {
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let queue = JobQueue::new(conn, &redis.namespace);
    let ledger = ledger();
    // Another process holds the maintenance lock.
    let other = sea_orm::Database::connect(test.url.as_str()).await.unwrap();
    let txn = sea_orm::TransactionTrait::begin(&other).await.unwrap();
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({})", maintenance::MAINTENANCE_LOCK_KEY))
        .await
        .unwrap();
    let report = maintenance::tick(&plain(&test, ledger, queue)).await.unwrap();
    assert!(!report.ran);
    drop(txn);
}

#[tokio::test]
async fn a_payment_whose_notification_was_lost_is_credited_by_reconciliation() {
    use shared::{
        entities::payments::PaymentProvider,
        payments::yookassa::YooKassaSettings,
        payments::yookassa::{NewPayment, YooKassa},
        payments::{self, packages::PackageList},
    };
    use std::str::FromStr;
    use testkit::{fake_telegram::FakeTelegram, fake_yookassa::FakeYooKassa};

    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let kassa = FakeYooKassa::start("123456", "test_secret").await.unwrap();
    let telegram = FakeTelegram::start().await;
    let client = YooKassa::new(&YooKassaSettings {
        shop_id: "123456".into(),
        secret_key: shared::Secret::new("test_secret"),
        return_url: "https://t.me/test_bot".parse().unwrap(),
        api_url: kassa.api_url().parse().unwrap(),
        receipt: None,
    })
    .unwrap();
    let ledger = ledger();
    let user = fixtures::user(&test.db, TelegramUserId(77)).await;
    let package = PackageList::from_str("100:0:149:100").unwrap().0.remove(0);
    let payment =
        payments::create_pending(&test.db, user, &package, PaymentProvider::YooKassa).await.unwrap();
    let created = client
        .create_payment(&NewPayment {
            payment_id: payment.id,
            user_id: user,
            amount_rub: package.price_rub,
            description: "100 credits".into(),
            method: shared::payments::yookassa::PayWith::Page,
        })
        .await
        .unwrap();
    payments::attach_provider_id(&test.db, payment.id, &created.id).await.unwrap();
    // Paid, but no notification URL is set: the notification is lost.
    kassa.succeed(&created.id).await.unwrap();

    let m = Maintenance {
        db: test.db.clone(),
        ledger: ledger.clone(),
        queue: JobQueue::new(conn, &redis.namespace),
        yookassa: Some(client),
        bot: shared::telegram::connect(telegram.token(), telegram.api_url(), 30.try_into().unwrap()),
        referral_percent: 10,
        retention: None,
        media_retention: None,
        store: None,
        repush_after: std::time::Duration::from_secs(60),
    };
    // Too young to reconcile yet.
    assert_eq!(maintenance::tick(&m).await.unwrap().payments_settled, 0);
    test.db
        .execute_unprepared(&format!(
            "UPDATE payments SET created_at = now() - interval '11 minutes' WHERE id = '{}'",
            payment.id
        ))
        .await
        .unwrap();
    telegram.user(77, "Test", Some("ru"));
    assert_eq!(maintenance::tick(&m).await.unwrap().payments_settled, 1);
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, Credits::whole(100));
    let told = telegram.wait_for_messages(77, 1, std::time::Duration::from_secs(10)).await.unwrap();
    assert!(told[0].body().unwrap().contains("Оплата получена: +100"), "{:?}", told[0].body());
    // Settled: later ticks leave it alone.
    assert_eq!(maintenance::tick(&m).await.unwrap().payments_settled, 0);
}

/// Maintenance over a fake Telegram, with a pending Stars payment of 100 credits
/// for 100 stars by user 78.
async fn stars_setup() -> (TestDb, testkit::fake_telegram::FakeTelegram, Maintenance, UserId, PaymentId) {
    use shared::{
        entities::payments::PaymentProvider,
        payments::{self, packages::PackageList},
    };
    use std::str::FromStr;
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let telegram = testkit::fake_telegram::FakeTelegram::start().await;
    telegram.user(78, "Stella", Some("en"));
    let user = fixtures::user(&test.db, TelegramUserId(78)).await;
    let package = PackageList::from_str("100:0:149:100").unwrap().0.remove(0);
    let payment = payments::create_pending(&test.db, user, &package, PaymentProvider::Stars).await.unwrap();
    let m = Maintenance {
        bot: shared::telegram::connect(telegram.token(), telegram.api_url(), 30.try_into().unwrap()),
        ..plain(&test, ledger(), JobQueue::new(conn, &redis.namespace))
    };
    (test, telegram, m, user, payment.id)
}

fn stars_payment(payment_id: PaymentId, charge: &str) -> testkit::fake_telegram::Payment {
    testkit::fake_telegram::Payment {
        currency: "XTR".into(),
        total_amount: 100,
        invoice_payload: payment_id.to_string(),
        telegram_payment_charge_id: charge.into(),
        provider_payment_charge_id: String::new(),
    }
}

#[tokio::test]
async fn a_stars_payment_recorded_but_not_credited_is_credited_by_maintenance_once() {
    let (test, telegram, m, user, payment_id) = stars_setup().await;
    // The update handler recorded the report, then failed before crediting.
    let charge = shared::payments::TelegramCharge {
        payment_id,
        charge_id: "stxRecorded".into(),
        currency: "XTR".into(),
        total_amount: 100,
        raw: serde_json::json!({ "currency": "XTR", "total_amount": 100 }),
    };
    shared::payments::record_telegram_charge(&test.db, &charge).await.unwrap();
    test.db
        .execute_unprepared(&format!(
            "UPDATE payments SET updated_at = now() - interval '1 minute' WHERE id = '{payment_id}'"
        ))
        .await
        .unwrap();
    assert_eq!(maintenance::tick(&m).await.unwrap().payments_settled, 1);
    assert_eq!(m.ledger.balance(&test.db, user).await.unwrap().available, Credits::whole(100));
    let told = telegram.wait_for_messages(78, 1, std::time::Duration::from_secs(10)).await.unwrap();
    assert!(told[0].body().unwrap().contains("+100"), "{:?}", told[0].body());
    assert_eq!(maintenance::tick(&m).await.unwrap().payments_settled, 0);
    assert_eq!(m.ledger.balance(&test.db, user).await.unwrap().available, Credits::whole(100));
    assert!(fixtures::ledger_violation(&test.db).await.is_none());
}

#[tokio::test]
async fn a_stars_payment_whose_update_was_lost_is_credited_from_the_stars_history_once() {
    let (test, telegram, m, user, payment_id) = stars_setup().await;
    // Someone else's and a foreign payment in the history are left alone.
    let stranger = telegram.user(79, "Other", None);
    stranger.pay_unseen(&stars_payment(PaymentId(uuid::Uuid::new_v4()), "stxForeign"));
    // Stars taken, but the successful_payment update never reached the bot.
    telegram.user(78, "Stella", Some("en")).pay_unseen(&stars_payment(payment_id, "stxLost"));
    assert_eq!(maintenance::tick(&m).await.unwrap().payments_settled, 1);
    assert_eq!(m.ledger.balance(&test.db, user).await.unwrap().available, Credits::whole(100));
    let payment =
        shared::entities::payments::Entity::find_by_id(payment_id).one(&test.db).await.unwrap().unwrap();
    assert_eq!(payment.provider_payment_id.as_deref(), Some("stxLost"));
    // Read once: later ticks start past it, and crediting is once per payment anyway.
    assert_eq!(maintenance::tick(&m).await.unwrap().payments_settled, 0);
    shared::payments::set_star_history_position(&test.db, 0).await.unwrap();
    assert_eq!(maintenance::tick(&m).await.unwrap().payments_settled, 0);
    assert_eq!(m.ledger.balance(&test.db, user).await.unwrap().available, Credits::whole(100));
    assert!(fixtures::ledger_violation(&test.db).await.is_none());
}

#[tokio::test]
async fn transcripts_from_before_search_get_their_text_from_storage() {
    use shared::media::transcripts::{self, StoredTranscript};
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let store = test_store().await;
    let ledger = ledger();
    let user = fixtures::user(&test.db, TelegramUserId(91)).await;
    ledger.grant_bonus(&test.db, user, Credits::whole(100), &BonusReason::Welcome).await.unwrap();
    // Two transcripts recorded as before migration 0011 (no text): one file kept, one gone.
    let mut jobs_made = Vec::new();
    for (name, body) in [("kept.txt", Some("встреча по бюджету")), ("gone.txt", None)] {
        let queued = jobs::create_transcription(&test.db, &ledger, user, ChatId(91), &voice()).await.unwrap();
        let key =
            storage::ObjectKey::new(user.0, queued.job_id.0, &storage::ObjectName::parse(name).unwrap());
        if let Some(body) = body {
            store.put(&key, bytes::Bytes::from_static(body.as_bytes()), "text/plain").await.unwrap();
        }
        transcripts::record(
            &test.db,
            &StoredTranscript {
                job_id: queued.job_id,
                user_id: user,
                file_unique_id: None,
                duration_ms: 1000,
                language: None,
                audio_key: None,
                txt_key: key.as_str().to_owned(),
                srt_key: key.as_str().to_owned(),
                vtt_key: None,
                metadata: serde_json::json!({}),
                text: String::new(),
            },
        )
        .await
        .unwrap();
        jobs_made.push(queued.job_id);
    }
    test.db.execute_unprepared("UPDATE transcripts SET text = NULL").await.unwrap();
    let m = Maintenance { store: Some(store), ..plain(&test, ledger, JobQueue::new(conn, &redis.namespace)) };
    assert_eq!(maintenance::tick(&m).await.unwrap().texts_backfilled, 2);
    let text_of = |job: shared::ids::JobId| {
        let db = test.db.clone();
        async move { shared::entities::transcripts::Entity::find_by_id(job).one(&db).await.unwrap().unwrap().text }
    };
    assert_eq!(text_of(jobs_made[0]).await.as_deref(), Some("встреча по бюджету"));
    assert_eq!(text_of(jobs_made[1]).await.as_deref(), Some(""));
    // Done once: the next tick has nothing to copy.
    assert_eq!(maintenance::tick(&m).await.unwrap().texts_backfilled, 0);
}

#[tokio::test]
async fn uploads_left_unfinished_for_a_day_are_aborted_and_their_parts_removed() {
    use shared::media::uploads::{self, UploadRules};
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let store = test_store().await;
    let user = fixtures::user(&test.db, TelegramUserId(92)).await;
    let rules = UploadRules { max_bytes: 1_000_000, url_ttl: std::time::Duration::from_secs(600) };
    let mut started = Vec::new();
    for _ in 0..2 {
        let upload =
            uploads::start(&test.db, &store, rules, user, Some("a.wav"), "audio/wav", 10).await.unwrap();
        let sent =
            reqwest::Client::new().put(upload.parts[0].1.clone()).body("0123456789").send().await.unwrap();
        assert!(sent.status().is_success());
        started.push(upload.id);
    }
    // The first was started yesterday and never completed; the second is in progress.
    test.db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "UPDATE uploads SET created_at = now() - interval '25 hours' WHERE id = $1",
            [started[0].into()],
        ))
        .await
        .unwrap();
    let m = Maintenance {
        store: Some(store.clone()),
        ..plain(&test, ledger(), JobQueue::new(conn, &redis.namespace))
    };
    assert_eq!(maintenance::tick(&m).await.unwrap().uploads_aborted, 1);
    let ended = |id: uuid::Uuid| {
        let db = test.db.clone();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Postgres,
                    "SELECT aborted_at IS NOT NULL AS aborted FROM uploads WHERE id = $1",
                    [id.into()],
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<bool>("", "aborted").unwrap()
        }
    };
    assert!(ended(started[0]).await, "yesterday's upload is aborted");
    assert!(!ended(started[1]).await, "the one in progress is left alone");
    // The aborted one cannot be completed any more; the other still can.
    let ledger = ledger();
    let complete = |id| uploads::complete(&test.db, &store, &ledger, rules, user, ChatId(92), id);
    assert!(matches!(complete(started[0]).await, Err(uploads::UploadError::NotFound)));
    assert!(
        matches!(complete(started[1]).await, Err(uploads::UploadError::NotAudio)),
        "ten digits are no recording"
    );
    assert_eq!(maintenance::tick(&m).await.unwrap().uploads_aborted, 0, "done once");
}

/// A bucket of its own on the test S3 server.
async fn test_store() -> storage::ObjectStore {
    let s3 = testkit::TestS3::new();
    storage::ObjectStore::connect(&storage::StorageConfig {
        endpoint: Some(s3.endpoint),
        bucket: s3.bucket,
        access_key_id: s3.access_key_id,
        secret_access_key: s3.secret_access_key,
        ..storage::StorageConfig::default()
    })
    .await
    .unwrap()
}

/// A finished transcription of `unique` by `user`, as the worker leaves it:
/// the recording and its .txt, .srt and .vtt in storage, recorded in
/// `media_objects`, and the transcript row; stored `days_ago` days ago.
async fn stored_transcription(
    test: &TestDb,
    store: &storage::ObjectStore,
    ledger: &Ledger,
    user: UserId,
    unique: &str,
    days_ago: i64,
) -> (shared::ids::JobId, Vec<storage::ObjectKey>) {
    use shared::entities::media_objects::MediaKind;
    use shared::media::transcripts::{self, StoredTranscript};
    let input = TranscriptionInput { file_unique_id: unique.into(), ..voice() };
    let queued = jobs::create_transcription(&test.db, ledger, user, ChatId(user.0), &input).await.unwrap();
    let job = queued.job_id;
    ledger.capture(&test.db, job, Credits::whole(15)).await.unwrap();
    jobs::mark_succeeded(&test.db, job, &serde_json::json!({}), Credits::whole(15).amount()).await.unwrap();
    let mut keys = Vec::new();
    for (name, kind) in [
        ("audio.ogg", MediaKind::AudioOriginal),
        ("transcript.txt", MediaKind::TranscriptTxt),
        ("transcript.srt", MediaKind::TranscriptSrt),
        ("transcript.vtt", MediaKind::TranscriptVtt),
    ] {
        let key = storage::ObjectKey::new(user.0, job.0, &storage::ObjectName::parse(name).unwrap());
        store.put(&key, bytes::Bytes::from_static(b"x"), "text/plain").await.unwrap();
        transcripts::record_media(&test.db, user, job, key.as_str(), kind, "text/plain", 1).await.unwrap();
        keys.push(key);
    }
    transcripts::record(
        &test.db,
        &StoredTranscript {
            job_id: job,
            user_id: user,
            file_unique_id: Some(unique.into()),
            duration_ms: 60_000,
            language: Some("ru".into()),
            audio_key: Some(keys[0].as_str().to_owned()),
            txt_key: keys[1].as_str().to_owned(),
            srt_key: keys[2].as_str().to_owned(),
            vtt_key: Some(keys[3].as_str().to_owned()),
            metadata: serde_json::json!({ "model": "whisper-1" }),
            text: "совещание".into(),
        },
    )
    .await
    .unwrap();
    test.db
        .execute_unprepared(&format!(
            "UPDATE media_objects SET created_at = now() - interval '{days_ago} days' WHERE job_id = '{job}'; \
             UPDATE transcripts SET created_at = now() - interval '{days_ago} days' WHERE job_id = '{job}'"
        ))
        .await
        .unwrap();
    (job, keys)
}

/// Maintenance with the default retention of recordings (7 days) and transcripts (365 days).
fn with_media_retention(test: &TestDb, store: &storage::ObjectStore, queue: JobQueue) -> Maintenance {
    Maintenance {
        store: Some(store.clone()),
        media_retention: Some(worker::retention::MediaRetention {
            store: store.clone(),
            settings: shared::media::retention::RetentionSettings::from_days(7, 365),
        }),
        ..plain(test, ledger(), queue)
    }
}

async fn present(store: &storage::ObjectStore, keys: &[storage::ObjectKey]) -> Vec<bool> {
    let mut present = Vec::new();
    for key in keys {
        present.push(store.exists(key).await.unwrap());
    }
    present
}

/// `(deletion_reason, kind)` of a job's removed objects.
async fn deletions(test: &TestDb, job: shared::ids::JobId) -> Vec<(String, String)> {
    let rows = test
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT deletion_reason, kind FROM media_objects WHERE job_id = '{job}' AND deleted_at IS NOT NULL \
                 ORDER BY kind"
            ),
        ))
        .await
        .unwrap();
    rows.iter().map(|r| (r.try_get("", "deletion_reason").unwrap(), r.try_get("", "kind").unwrap())).collect()
}

#[tokio::test]
async fn old_recordings_and_transcripts_are_deleted_and_recorded_and_new_ones_kept() {
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let store = test_store().await;
    let ledger = ledger();
    let user = fixtures::user(&test.db, TelegramUserId(93)).await;
    ledger.grant_bonus(&test.db, user, Credits::whole(100), &BonusReason::Welcome).await.unwrap();
    let (fresh, fresh_keys) = stored_transcription(&test, &store, &ledger, user, "fresh", 1).await;
    let (week, week_keys) = stored_transcription(&test, &store, &ledger, user, "week", 8).await;
    let (year, year_keys) = stored_transcription(&test, &store, &ledger, user, "year", 400).await;

    let m = with_media_retention(&test, &store, JobQueue::new(conn, &redis.namespace));
    let report = maintenance::tick(&m).await.unwrap();
    // The week-old and the year-old recordings; the year-old transcript with its files.
    assert_eq!(
        report.media_deleted,
        worker::retention::MediaRetentionReport { recordings: 2, transcripts: 1, erased_leftovers: 0 }
    );
    assert_eq!(present(&store, &fresh_keys).await, [true, true, true, true]);
    assert_eq!(present(&store, &week_keys).await, [false, true, true, true]);
    assert_eq!(present(&store, &year_keys).await, [false, false, false, false]);
    let retention = |kind: &str| ("retention".to_owned(), kind.to_owned());
    assert_eq!(deletions(&test, fresh).await, []);
    assert_eq!(deletions(&test, week).await, [retention("audio_original")]);
    assert_eq!(
        deletions(&test, year).await,
        [
            retention("audio_original"),
            retention("transcript_srt"),
            retention("transcript_txt"),
            retention("transcript_vtt")
        ]
    );
    // The year-old transcript is recorded as deleted, its text gone; the others are kept whole.
    let row = |job| {
        let db = test.db.clone();
        async move { shared::entities::transcripts::Entity::find_by_id(job).one(&db).await.unwrap().unwrap() }
    };
    let gone = row(year).await;
    assert!(gone.deleted_at.is_some());
    assert_eq!(gone.deletion_reason.as_deref(), Some("retention"));
    assert_eq!((gone.text, gone.language, gone.file_unique_id), (None, None, None));
    let kept = row(week).await;
    assert_eq!((kept.deleted_at, kept.text.as_deref()), (None, Some("совещание")));
    // Out of the user's list and search.
    let page = shared::media::transcripts::page(
        &test.db,
        user,
        &shared::media::transcripts::TranscriptQuery { limit: 10, ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(page.items.iter().map(|t| t.job_id).collect::<Vec<_>>(), [fresh, week]);
    assert!(shared::media::transcripts::owned_by(&test.db, year, user).await.unwrap().is_none());
    // Done once: nothing more on the next tick.
    assert_eq!(maintenance::tick(&m).await.unwrap().media_deleted, Default::default());
}

#[tokio::test]
async fn zero_days_keep_transcripts_for_ever() {
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let store = test_store().await;
    let ledger = ledger();
    let user = fixtures::user(&test.db, TelegramUserId(95)).await;
    ledger.grant_bonus(&test.db, user, Credits::whole(100), &BonusReason::Welcome).await.unwrap();
    let (_, keys) = stored_transcription(&test, &store, &ledger, user, "old", 4000).await;
    let mut m = with_media_retention(&test, &store, JobQueue::new(conn, &redis.namespace));
    m.media_retention = Some(worker::retention::MediaRetention {
        store: store.clone(),
        settings: shared::media::retention::RetentionSettings::from_days(0, 0),
    });
    assert_eq!(maintenance::tick(&m).await.unwrap().media_deleted, Default::default());
    assert_eq!(present(&store, &keys).await, [true, true, true, true]);
}

#[tokio::test]
async fn a_file_whose_transcript_was_deleted_is_transcribed_again_at_the_normal_price() {
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let store = test_store().await;
    let ledger = ledger();
    let user = fixtures::user(&test.db, TelegramUserId(94)).await;
    ledger.grant_bonus(&test.db, user, Credits::whole(100), &BonusReason::Welcome).await.unwrap();
    let (earlier, _) = stored_transcription(&test, &store, &ledger, user, "meeting", 400).await;
    // Before retention, the same file is the free repeat of the stored transcript.
    let repeat = jobs::previous_transcript(&test.db, user, "meeting").await.unwrap();
    assert_eq!(repeat.map(|t| t.job_id), Some(earlier));

    let m = with_media_retention(&test, &store, JobQueue::new(conn, &redis.namespace));
    assert_eq!(maintenance::tick(&m).await.unwrap().media_deleted.transcripts, 1);

    // After it, nothing to repeat: the file is a new job, held and charged at the normal price.
    assert!(jobs::previous_transcript(&test.db, user, "meeting").await.unwrap().is_none());
    // 100 granted, 15 for the first time.
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, Credits::whole(85));
    let input = TranscriptionInput { file_unique_id: "meeting".into(), ..voice() };
    let again = jobs::create_transcription(&test.db, &ledger, user, ChatId(94), &input).await.unwrap();
    assert_eq!(again.hold.amount, Credits::whole(15), "60 s at 15 credits a minute");
    let charged = ledger
        .capture_work(&test.db, again.job_id, shared::billing::pricing::Work::Transcription { seconds: 60 })
        .await
        .unwrap();
    assert_eq!(charged.captured, Some(Credits::whole(15)));
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, Credits::whole(70));
    assert!(fixtures::ledger_violation(&test.db).await.is_none());
}
