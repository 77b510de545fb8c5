//! The image job end to end: fake Telegram and fake OpenAI, real Postgres
//! and S3. Generation, edit, refusal, outage, `/idea`, and retention.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ConnectionTrait, EntityTrait};
use shared::ids::{ChatId, JobId, TelegramUserId, UserId};
use shared::telegram::buttons::Callback;
use shared::{
    billing::ledger::{BonusReason, Ledger},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    entities::{jobs as job_rows, jobs::JobStatus, media_objects::MediaKind},
    jobs,
    media::images::{self, ImageRequest, TelegramPhoto},
    media::transcripts::record_media,
};
use storage::{ObjectKey, ObjectName, ObjectStore, StorageConfig};
use testkit::{
    TestDb, TestS3,
    fake_openai::{Endpoint, FakeOpenAi, Fault, solid_png},
    fake_telegram::FakeTelegram,
    fixtures,
};
use worker::{
    images::{ImageContext, Outcome, Retention, apply_retention, run_once},
    runner::{AttemptPolicy, Common},
};

const CHAT: i64 = 7;

struct Rig {
    test: TestDb,
    telegram: FakeTelegram,
    openai: FakeOpenAi,
    ctx: ImageContext,
    user: UserId,
}

fn client(openai: &FakeOpenAi) -> async_openai::Client<async_openai::config::OpenAIConfig> {
    worker::openai_client(
        &openai.base_url(),
        Some("sk-test"),
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(30),
    )
    .unwrap()
}

async fn store() -> ObjectStore {
    let s3 = TestS3::new();
    ObjectStore::connect(&StorageConfig {
        endpoint: Some(s3.endpoint),
        bucket: s3.bucket,
        access_key_id: s3.access_key_id,
        secret_access_key: s3.secret_access_key,
        ..StorageConfig::default()
    })
    .await
    .unwrap()
}

/// A user with 100 credits and one free picture a month.
async fn rig() -> Rig {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let test = TestDb::migrated().await;
    let telegram = FakeTelegram::start().await;
    let openai = FakeOpenAi::start().await.unwrap();
    let ledger = Ledger::new(PricingSettings {
        transcription_cost_per_minute: Credits::whole(15),
        free_minutes_per_day: 0,
        image_generation_cost: Credits::whole(20),
        image_edit_cost: Credits::whole(25),
        image_free_per_month: 1,
        timezone: chrono_tz::Europe::Moscow,
        plans: shared::billing::plans::PlanList::default(),
    });
    let user = fixtures::user(&test.db, TelegramUserId(CHAT)).await;
    ledger.grant_bonus(&test.db, user, Credits::whole(100), &BonusReason::Welcome).await.unwrap();
    telegram.user(CHAT, "Test", Some("ru"));
    let ctx = ImageContext {
        common: Common::new(
            test.db.clone(),
            ledger,
            shared::telegram::connect(telegram.token(), telegram.api_url(), 30.try_into().unwrap()),
            AttemptPolicy {
                max_attempts: 2,
                lease: jobs::DEFAULT_LEASE,
                retry_backoff: std::time::Duration::ZERO,
            },
        ),
        store: store().await,
        images: client(&openai),
        image_model: "gpt-image-1.5".into(),
        image_size: "1024x1024".into(),
        chat: client(&openai),
        chat_model: "gpt-4o-mini".into(),
        http: reqwest::Client::new(),
        max_edit_bytes: 10_000_000,
        provider_timeout: std::time::Duration::from_secs(30),
    };
    Rig { test, telegram, openai, ctx, user }
}

async fn queue(rig: &Rig, request: ImageRequest) -> JobId {
    images::create(&rig.test.db, &rig.ctx.common.ledger, rig.user, ChatId(CHAT), &request)
        .await
        .unwrap()
        .job_id
}

fn generate(prompt: &str) -> ImageRequest {
    ImageRequest::Generate { prompt: prompt.into() }
}

async fn balance(rig: &Rig) -> (Credits, Credits, u32) {
    let b = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    (b.available, b.held, b.free_images_left_this_month)
}

async fn job(rig: &Rig, id: JobId) -> job_rows::Model {
    job_rows::Entity::find_by_id(id).one(&rig.test.db).await.unwrap().unwrap()
}

async fn media_kinds(rig: &Rig, job: JobId) -> Vec<(MediaKind, String)> {
    use sea_orm::{ColumnTrait, QueryFilter};
    shared::entities::media_objects::Entity::find()
        .filter(shared::entities::media_objects::Column::JobId.eq(job))
        .all(&rig.test.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.kind, m.object_key))
        .collect()
}

#[tokio::test]
async fn pictures_use_the_free_allowance_first_then_are_charged_once() {
    let rig = rig().await;
    let first = queue(&rig, generate("a red fox in the snow")).await;
    assert_eq!(balance(&rig).await, (Credits::whole(100), Credits::ZERO, 0));
    assert_eq!(run_once(&rig.ctx, first).await.unwrap(), Outcome::Done);

    let second = queue(&rig, generate("a lighthouse at dusk")).await;
    assert_eq!(balance(&rig).await, (Credits::whole(80), Credits::whole(20), 0));
    assert_eq!(run_once(&rig.ctx, second).await.unwrap(), Outcome::Done);
    assert_eq!(balance(&rig).await, (Credits::whole(80), Credits::ZERO, 0));

    // Both came as photos with the charge in the caption and a full-quality button.
    let photos: Vec<_> = rig.telegram.messages(CHAT).into_iter().filter(|m| m.photo.is_some()).collect();
    assert_eq!(photos.len(), 2);
    assert_eq!(photos[0].caption.as_deref(), Some("«a red fox in the snow»\nГотово. Списано 0 кредитов."));
    assert_eq!(photos[1].caption.as_deref(), Some("«a lighthouse at dusk»\nГотово. Списано 20 кредитов."));
    assert_eq!(
        photos[1].callback_data_of("Оригинал без сжатия"),
        Some(Callback::FullQuality { job: second }.encode())
    );

    // The provider got the configured model and size, and what it drew is what was stored and sent.
    let requests = rig.openai.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.model.as_deref() == Some("gpt-image-1.5")));
    assert_eq!(requests[1].prompt.as_deref(), Some("a lighthouse at dusk"));
    let stored = media_kinds(&rig, second).await;
    assert_eq!(stored, vec![(MediaKind::ImageOutput, format!("{}/{second}/image.png", rig.user))]);
    let bytes = rig.ctx.store.get(&ObjectKey::parse(&stored[0].1).unwrap()).await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    assert_eq!(photos[1].photo.as_ref().unwrap().bytes, bytes);
    let row = job(&rig, second).await;
    assert_eq!((row.status, row.price_charged), (JobStatus::Succeeded, Some(Credits::whole(20).amount())));
    assert_eq!(row.result.unwrap()["delivered_message_ids"][0], photos[1].message_id);

    // The queue delivers the same job again: nothing happens.
    let sent = rig.telegram.messages(CHAT).len();
    assert_eq!(run_once(&rig.ctx, second).await.unwrap(), Outcome::AlreadyFinished);
    assert_eq!(rig.telegram.messages(CHAT).len(), sent);
    assert_eq!(rig.openai.requests().len(), 2);
    assert_eq!(balance(&rig).await, (Credits::whole(80), Credits::ZERO, 0));
    assert!(fixtures::ledger_violation(&rig.test.db).await.is_none());
}

#[tokio::test]
async fn a_retry_after_the_provider_answered_reuses_the_stored_picture() {
    let rig = rig().await;
    rig.telegram.server_error("sendPhoto", 1);
    let job_id = queue(&rig, generate("a cat")).await;
    // Sending fails after the picture was stored: the attempt is retried.
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::Deferred);
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::Done);
    assert_eq!(rig.openai.requests().len(), 1, "the provider is not asked twice");
    assert_eq!(rig.telegram.messages(CHAT).iter().filter(|m| m.photo.is_some()).count(), 1);
}

/// A real JPEG of `size` x `size` pixels.
fn jpeg(size: u32) -> Vec<u8> {
    let picture =
        image::RgbImage::from_fn(size, size, |x, y| image::Rgb([(x * 8) as u8, (y * 8) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn edit_of(rig: &Rig, bytes: Vec<u8>, mime: &str) -> ImageRequest {
    let file = rig.telegram.register_file(bytes, mime, None);
    ImageRequest::Edit {
        prompt: "make it blue".into(),
        photo: TelegramPhoto {
            file_id: file.file_id,
            file_unique_id: file.file_unique_id,
            file_size: Some(file.size),
        },
    }
}

#[tokio::test]
async fn an_uploaded_jpeg_is_kept_as_png_edited_and_charged_the_edit_price() {
    let rig = rig().await;
    let request = edit_of(&rig, jpeg(32), "image/jpeg");
    let job_id = queue(&rig, request).await;
    // Edits have no free allowance.
    assert_eq!(balance(&rig).await, (Credits::whole(75), Credits::whole(25), 1));
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::Done);
    assert_eq!(balance(&rig).await, (Credits::whole(75), Credits::ZERO, 1));

    let requests = rig.openai.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].endpoint, Endpoint::ImageEdits);
    assert_eq!(requests[0].prompt.as_deref(), Some("make it blue"));
    assert_eq!(requests[0].status, 200);
    let mut stored = media_kinds(&rig, job_id).await;
    stored.sort_by_key(|(_, key)| key.clone());
    assert_eq!(
        stored,
        vec![
            (MediaKind::ImageOutput, format!("{}/{job_id}/image.png", rig.user)),
            (MediaKind::ImageInput, format!("{}/{job_id}/input.png", rig.user)),
        ]
    );
    let input = rig.ctx.store.get(&ObjectKey::parse(&stored[1].1).unwrap()).await.unwrap();
    let decoded = image::load_from_memory(&input).unwrap();
    assert!(input.starts_with(b"\x89PNG"));
    assert_eq!((decoded.width(), decoded.height()), (32, 32));
    assert_eq!(requests[0].bytes, input.len(), "the provider got the converted PNG");
    let caption = rig.telegram.messages(CHAT).into_iter().find_map(|m| m.photo.and(m.caption)).unwrap();
    assert_eq!(caption, "«make it blue»\nГотово. Списано 25 кредитов.");
}

#[tokio::test]
async fn a_file_that_is_not_a_picture_is_refused_and_nothing_is_charged() {
    let rig = rig().await;
    let request = edit_of(&rig, b"%PDF-1.7 not a picture at all".to_vec(), "image/jpeg");
    let job_id = queue(&rig, request).await;
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::GaveUp);
    assert!(rig.openai.requests().is_empty());
    assert_eq!(balance(&rig).await, (Credits::whole(100), Credits::ZERO, 1));
    let last = rig.telegram.messages(CHAT).last().unwrap().body().unwrap().to_owned();
    assert!(last.contains("это не картинка в JPEG, PNG или WebP"), "{last}");
    assert_eq!(job(&rig, job_id).await.error_code.as_deref(), Some("not_an_image"));
    assert!(media_kinds(&rig, job_id).await.is_empty());
}

#[tokio::test]
async fn a_refusal_releases_the_hold_and_gives_the_free_picture_back() {
    let rig = rig().await;
    // Spend the free picture first so the refused one holds money.
    let free = queue(&rig, generate("a cat")).await;
    let refused_free = queue(&rig, generate("something forbidden")).await;
    assert_eq!(balance(&rig).await, (Credits::whole(80), Credits::whole(20), 0));
    rig.openai.fail_next(Endpoint::ImageGenerations, 1, Fault::ContentPolicy);
    assert_eq!(run_once(&rig.ctx, free).await.unwrap(), Outcome::GaveUp);
    // The free picture is back and the paid hold is intact.
    assert_eq!(balance(&rig).await, (Credits::whole(80), Credits::whole(20), 1));
    rig.openai.fail_next(Endpoint::ImageGenerations, 1, Fault::ContentPolicy);
    assert_eq!(run_once(&rig.ctx, refused_free).await.unwrap(), Outcome::GaveUp);
    assert_eq!(balance(&rig).await, (Credits::whole(100), Credits::ZERO, 1));
    let texts: Vec<String> =
        rig.telegram.messages(CHAT).iter().filter_map(|m| m.body().map(str::to_owned)).collect();
    assert_eq!(
        texts.iter().filter(|t| t.contains("отклонил запрос по своим правилам безопасности")).count(),
        2
    );
    assert_eq!(job(&rig, free).await.error_code.as_deref(), Some("content_policy"));
    assert_eq!(rig.openai.requests().len(), 2, "a refusal is not retried");
}

#[tokio::test]
async fn an_outage_is_retried_up_to_the_attempt_cap_then_released() {
    let rig = rig().await;
    let _free = queue(&rig, generate("a cat")).await;
    let job_id = queue(&rig, generate("a dog")).await;
    rig.openai.fail_next(Endpoint::ImageGenerations, 100, Fault::ServerError);
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::Deferred, "the first attempt is retried");
    assert_eq!(job(&rig, job_id).await.status, JobStatus::Running);
    assert_eq!(balance(&rig).await.1, Credits::whole(20));
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::GaveUp);
    let row = job(&rig, job_id).await;
    assert_eq!((row.status, row.attempts), (JobStatus::Failed, 2));
    assert_eq!(balance(&rig).await, (Credits::whole(100), Credits::ZERO, 0));
    let last = rig.telegram.messages(CHAT).last().unwrap().body().unwrap().to_owned();
    assert!(last.contains("сервис картинок сейчас недоступен"), "{last}");
    // Only the runner retries: one request per attempt, none succeeded.
    assert!(rig.openai.requests().iter().all(|r| r.status == 500));
    assert_eq!(rig.openai.requests().len(), 2);
    assert_eq!(row.provider_calls, 2);
}

#[tokio::test]
async fn an_idea_offers_three_prompts_as_buttons_charged_once() {
    let rig = rig().await;
    rig.openai.queue_chat_reply(
        "1. A red fox in fresh snow at dawn\n2. «A fox astronaut»\n3) A paper fox, origami",
    );
    let request = ImageRequest::Idea { description: "fox".into(), price: Credits::whole(1) };
    let job_id = queue(&rig, request).await;
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::Done);
    assert_eq!(balance(&rig).await, (Credits::whole(99), Credits::ZERO, 1));
    let message = rig.telegram.messages(CHAT).into_iter().last().unwrap();
    let buttons = message.buttons();
    assert_eq!(buttons.len(), 3);
    assert_eq!(buttons[1].text, "2. A fox astronaut");
    assert_eq!(
        buttons[2].callback_data(),
        Some(Callback::IdeaPick { job: job_id, index: 2 }.encode().as_str())
    );
    assert!(message.body().unwrap().contains("1. A red fox in fresh snow at dawn"));
    assert_eq!(
        images::idea_option(&rig.test.db, rig.user, job_id, 2).await.unwrap().as_deref(),
        Some("A paper fox, origami")
    );
    // Another user cannot use the buttons.
    assert_eq!(images::idea_option(&rig.test.db, UserId(rig.user.0 + 1), job_id, 0).await.unwrap(), None);

    // Redelivered: no second chat call, no second message.
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::AlreadyFinished);
    assert_eq!(rig.openai.requests().len(), 1);
    assert_eq!(balance(&rig).await.0, Credits::whole(99));

    // The next idea carries the conversation: this question and answer come first.
    rig.openai.queue_chat_reply("1. A grey wolf\n2. A wolf pup\n3. A wolf in the moonlight");
    let next = queue(&rig, ImageRequest::Idea { description: "wolf".into(), price: Credits::whole(1) }).await;
    assert_eq!(run_once(&rig.ctx, next).await.unwrap(), Outcome::Done);
    let sent = rig.openai.requests().pop().unwrap().messages;
    let roles: Vec<&str> = sent.iter().map(|(role, _)| role.as_str()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(sent[1].1, "fox");
    assert!(sent[2].1.starts_with("1. A red fox"));
    assert_eq!(sent[3].1, "wolf");
    assert_eq!(balance(&rig).await.0, Credits::whole(98));
}

#[tokio::test]
async fn the_idea_conversation_keeps_only_the_last_ten_messages() {
    let rig = rig().await;
    for i in 0..7 {
        let request = ImageRequest::Idea { description: format!("idea {i}"), price: Credits::whole(1) };
        let job_id = queue(&rig, request).await;
        images::remember_idea(&rig.test.db, rig.user, job_id, &format!("idea {i}"), &format!("answer {i}"))
            .await
            .unwrap();
    }
    let history = images::idea_history(&rig.test.db, rig.user, JobId(uuid::Uuid::nil())).await.unwrap();
    let contents: Vec<&str> = history.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents.len(), 10);
    assert_eq!(contents[0], "idea 2");
    assert_eq!(contents[9], "answer 6");
    let stored = rig.test.db.query_one_raw(sea_orm::Statement::from_string(
        sea_orm::DbBackend::Postgres,
        "SELECT COUNT(*) AS n FROM idea_messages",
    ));
    assert_eq!(stored.await.unwrap().unwrap().try_get::<i64>("", "n").unwrap(), 10);
}

#[tokio::test]
async fn retention_deletes_old_pictures_from_storage_and_keeps_new_ones() {
    let rig = rig().await;
    let png = bytes::Bytes::from(solid_png(8, [1, 2, 3]));
    let mut keys = Vec::new();
    // An old and a new upload, an old and a new result; "old" is past each limit.
    for (name, kind, age_hours) in [
        ("input.png", MediaKind::ImageInput, 25),
        ("input.png", MediaKind::ImageInput, 23),
        ("image.png", MediaKind::ImageOutput, 31 * 24),
        ("image.png", MediaKind::ImageOutput, 29 * 24),
    ] {
        let job_id = fixtures::job(&rig.test.db, rig.user).await;
        let key = ObjectKey::new(rig.user.0, job_id.0, &ObjectName::parse(name).unwrap());
        rig.ctx.store.put(&key, png.clone(), "image/png").await.unwrap();
        record_media(&rig.test.db, rig.user, job_id, key.as_str(), kind, "image/png", png.len())
            .await
            .unwrap();
        rig.test
            .db
            .execute_unprepared(&format!(
                "UPDATE media_objects SET created_at = now() - interval '{age_hours} hours' WHERE object_key = '{}'",
                key.as_str()
            ))
            .await
            .unwrap();
        keys.push(key);
    }
    let retention = Retention {
        store: rig.ctx.store.clone(),
        input_max_age: chrono::Duration::hours(24),
        output_max_age: chrono::Duration::days(30),
    };
    let report = apply_retention(&rig.test.db, &retention).await.unwrap();
    assert_eq!((report.inputs, report.outputs), (1, 1));
    let mut present = Vec::new();
    for key in &keys {
        present.push(rig.ctx.store.exists(key).await.unwrap());
    }
    assert_eq!(present, [false, true, false, true]);
    let deleted = rig.test.db.query_all_raw(sea_orm::Statement::from_string(
        sea_orm::DbBackend::Postgres,
        "SELECT object_key FROM media_objects WHERE deleted_at IS NOT NULL ORDER BY kind",
    ));
    let deleted: Vec<String> =
        deleted.await.unwrap().iter().map(|r| r.try_get::<String>("", "object_key").unwrap()).collect();
    assert_eq!(deleted, vec![keys[0].as_str().to_owned(), keys[2].as_str().to_owned()]);
    // A second pass finds nothing more.
    assert_eq!(apply_retention(&rig.test.db, &retention).await.unwrap(), Default::default());
}

#[tokio::test]
async fn a_lost_image_job_is_pushed_again_to_the_image_queue_and_delivered() {
    use worker::maintenance::{self, Maintenance};
    let rig = rig().await;
    let redis = testkit::TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let image_queue = shared::jobs::queue::JobQueue::new(conn, &redis.namespace);
    // Created, but the bot died before pushing it.
    let job_id = queue(&rig, generate("a lost cat")).await;
    rig.test
        .db
        .execute_unprepared(&format!(
            "UPDATE jobs SET created_at = now() - interval '5 minutes' WHERE id = '{job_id}'"
        ))
        .await
        .unwrap();
    let m = Maintenance {
        db: rig.test.db.clone(),
        ledger: rig.ctx.common.ledger.clone(),
        queue: image_queue.clone(),
        yookassa: None,
        bot: rig.ctx.common.bot.clone(),
        referral_percent: 10,
        retention: None,
        media_retention: None,
        store: None,
        repush_after: std::time::Duration::from_secs(60),
    };
    assert_eq!(maintenance::tick(&m).await.unwrap().requeued, 1);

    let Rig { test, telegram, openai, ctx, user: _ } = rig;
    let worker = tokio::spawn(worker::supervise_image(image_queue, std::sync::Arc::new(ctx), 1));
    telegram
        .wait_until("the picture", std::time::Duration::from_secs(30), |t| {
            t.messages(CHAT).into_iter().find(|m| m.photo.is_some())
        })
        .await
        .unwrap();
    assert_eq!(openai.requests()[0].prompt.as_deref(), Some("a lost cat"));
    // The job is marked done right after the picture is sent.
    let mut status = JobStatus::Running;
    for _ in 0..100 {
        status = job_rows::Entity::find_by_id(job_id).one(&test.db).await.unwrap().unwrap().status;
        if status == JobStatus::Succeeded {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, JobStatus::Succeeded);
    worker.abort();
}

#[tokio::test]
async fn a_hung_image_provider_fails_the_attempt_at_its_timeout_and_the_retry_succeeds() {
    let mut rig = rig().await;
    rig.ctx.provider_timeout = std::time::Duration::from_millis(500);
    rig.openai.set_latency(Endpoint::ImageGenerations, std::time::Duration::from_secs(30));
    let job_id = queue(&rig, generate("a patient heron")).await;
    let started = std::time::Instant::now();
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::Deferred);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    // The provider recovers: the next attempt draws, charges once and delivers.
    rig.openai.set_latency(Endpoint::ImageGenerations, std::time::Duration::ZERO);
    assert_eq!(run_once(&rig.ctx, job_id).await.unwrap(), Outcome::Done);
    let balance = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    assert_eq!(balance.held, Credits::ZERO);
}

#[tokio::test]
async fn a_provider_that_leaves_out_usage_still_draws_and_edits_with_one_call_each() {
    let rig = rig().await;
    rig.openai.answer_minimally(true);
    let drawn = queue(&rig, generate("a heron in the fog")).await;
    assert_eq!(run_once(&rig.ctx, drawn).await.unwrap(), Outcome::Done);
    // The edit's picture goes as an image/png file part, which the real API requires
    // (the fake refuses anything else, as OpenAI does).
    let edited = queue(&rig, edit_of(&rig, jpeg(16), "image/jpeg")).await;
    assert_eq!(run_once(&rig.ctx, edited).await.unwrap(), Outcome::Done);
    let requests = rig.openai.requests();
    assert_eq!(requests.iter().map(|r| r.status).collect::<Vec<_>>(), [200, 200], "one paid call each");
    assert_eq!(job(&rig, drawn).await.status, JobStatus::Succeeded);
    assert_eq!(job(&rig, edited).await.status, JobStatus::Succeeded);
    assert!(fixtures::ledger_violation(&rig.test.db).await.is_none());
}
