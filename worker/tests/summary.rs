//! The summary job on its own: fake Telegram and fake OpenAI, real Postgres
//! and S3. A retry after the model answered asks nothing again; a long
//! transcript is sent to the model bounded and the user is told.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::EntityTrait;
use shared::ids::{ChatId, JobId, TelegramUserId, UserId};
use shared::{
    billing::ledger::{BonusReason, Ledger},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    entities::jobs::{self as job_rows, JobStatus},
    jobs::{self, TranscriptionInput},
    media::summaries::{self, Ask, NewSummary, Requested},
    media::transcripts::{self, StoredTranscript},
};
use storage::{ObjectStore, StorageConfig};
use testkit::{
    TestDb, TestS3,
    fake_openai::{Endpoint, FakeOpenAi},
    fake_telegram::FakeTelegram,
    fixtures,
};
use worker::{
    runner::{AttemptPolicy, Common},
    summary::{Outcome, SummaryContext, run_once},
};

const CHAT: i64 = 9;

struct Rig {
    test: TestDb,
    telegram: FakeTelegram,
    openai: FakeOpenAi,
    ctx: SummaryContext,
    user: UserId,
}

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
    ledger.grant_bonus(&test.db, user, Credits::whole(10), &BonusReason::Welcome).await.unwrap();
    telegram.user(CHAT, "Test", Some("en"));
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
    let chat = worker::openai_client(
        &openai.base_url(),
        Some("sk-test"),
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let ctx = SummaryContext {
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
        store,
        chat,
        model: "gpt-4o-mini".into(),
        timeout: std::time::Duration::from_secs(30),
    };
    Rig { test, telegram, openai, ctx, user }
}

/// A finished transcription of `text` for the rig's user; answers its job id.
async fn transcript(rig: &Rig, text: &str) -> JobId {
    let input = TranscriptionInput {
        file_id: "f".into(),
        file_unique_id: "u".into(),
        file_size: None,
        mime_type: None,
        file_name: None,
        duration_hint_s: 4,
        source: jobs::MediaSource::Voice,
        reply_to: None,
    };
    let queued =
        jobs::create_transcription(&rig.test.db, &rig.ctx.common.ledger, rig.user, ChatId(CHAT), &input)
            .await
            .unwrap();
    let job = queued.job_id;
    // Only its transcript matters here: its hold goes back.
    assert!(jobs::cancel_queued(&rig.test.db, &rig.ctx.common.ledger, job).await.unwrap());
    transcripts::record(
        &rig.test.db,
        &StoredTranscript {
            job_id: job,
            user_id: rig.user,
            file_unique_id: None,
            duration_ms: 60_000,
            language: Some("en".into()),
            audio_key: None,
            txt_key: format!("{}/{}/transcript.txt", rig.user.0, job.0),
            srt_key: format!("{}/{}/transcript.srt", rig.user.0, job.0),
            vtt_key: None,
            metadata: serde_json::json!({}),
            text: text.into(),
        },
    )
    .await
    .unwrap();
    job
}

async fn ask(rig: &Rig, transcript: JobId) -> JobId {
    let ask = Ask {
        user_id: rig.user,
        chat_id: ChatId(CHAT),
        transcript,
        price: Credits::whole(3),
        reply_to: None,
        max_unfinished: 5,
    };
    match summaries::request(&rig.test.db, &rig.ctx.common.ledger, &ask).await.unwrap() {
        Requested::Queued(queued) => queued.job_id,
        other => panic!("not queued: {other:?}"),
    }
}

async fn balance(rig: &Rig) -> (Credits, Credits) {
    let b = rig.ctx.common.ledger.balance(&rig.test.db, rig.user).await.unwrap();
    (b.available, b.held)
}

fn chat_calls(rig: &Rig) -> Vec<testkit::fake_openai::RecordedRequest> {
    rig.openai.requests().into_iter().filter(|r| r.endpoint == Endpoint::ChatCompletions).collect()
}

#[tokio::test]
async fn a_retry_after_the_answer_was_stored_charges_and_delivers_without_asking_again() {
    let rig = rig().await;
    let transcript = transcript(&rig, "We ship on Friday. Oleg updates the plan.").await;
    let job = ask(&rig, transcript).await;
    // An earlier attempt got the answer and stored it, then its worker died.
    summaries::record(
        &rig.test.db,
        &NewSummary {
            job_id: job,
            user_id: rig.user,
            transcript,
            content: "Shipping on Friday.\n- Oleg: update the plan",
            model: "gpt-4o-mini",
            input_chars: 41,
            partial: false,
        },
    )
    .await
    .unwrap();

    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);
    assert!(chat_calls(&rig).is_empty(), "the stored answer is used");
    let sent: Vec<String> =
        rig.telegram.messages(CHAT).iter().filter_map(|m| m.body().map(str::to_owned)).collect();
    // The user speaks Russian (the default).
    assert_eq!(
        sent,
        ["Краткое содержание\n\nShipping on Friday.\n- Oleg: update the plan\n\nСписано 3 кредита."]
    );
    assert_eq!(balance(&rig).await.1, Credits::ZERO);
    let available = balance(&rig).await.0;

    // Delivered again by the queue: nothing happens.
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::AlreadyFinished);
    assert_eq!(rig.telegram.messages(CHAT).len(), 1);
    assert_eq!(balance(&rig).await, (available, Credits::ZERO));
    let row = job_rows::Entity::find_by_id(job).one(&rig.test.db).await.unwrap().unwrap();
    assert_eq!((row.status, row.price_charged), (JobStatus::Succeeded, Some("3".parse().unwrap())));
    assert!(fixtures::ledger_violation(&rig.test.db).await.is_none());
}

#[tokio::test]
async fn a_long_transcript_is_sent_bounded_and_the_summary_says_so() {
    let rig = rig().await;
    let long = "word ".repeat(20_000);
    let transcript = transcript(&rig, &long).await;
    let job = ask(&rig, transcript).await;
    rig.openai.queue_chat_reply("Words, many words.");
    assert_eq!(run_once(&rig.ctx, job).await.unwrap(), Outcome::Done);

    let calls = chat_calls(&rig);
    assert_eq!(calls.len(), 1);
    let sent_chars = calls[0].messages[1].1.chars().count();
    assert!(sent_chars <= summaries::SUMMARY_INPUT_CHARS && sent_chars > 39_000, "{sent_chars}");
    assert!(calls[0].messages[0].1.contains("only its beginning"), "{:?}", calls[0].messages[0]);
    let stored = summaries::stored(&rig.test.db, rig.user, transcript).await.unwrap().unwrap();
    assert!(stored.partial);
    let told = rig.telegram.messages(CHAT).last().and_then(|m| m.body().map(str::to_owned)).unwrap();
    assert!(told.contains("Расшифровка длинная, это содержание её начала."), "{told}");
}
