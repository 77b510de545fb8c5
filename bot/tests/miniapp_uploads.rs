//! Big recordings from the Mini App: parts go straight to object storage
//! through presigned URLs, completion checks what arrived and queues the
//! transcription like a recording sent in chat, and nothing is trusted that
//! the page claims.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use shared::{
    billing::{ledger::BonusReason, money::Credits},
    ids::{TelegramUserId, UserId},
};
use support::{TestBot, miniapp_sign_in, spawn_bot, spawn_bot_with};
use testkit::fake_openai::FakeOpenAi;

const SECRET: &str = "a-mini-app-session-secret-of-32-bytes-or-more";

async fn post(bot: &TestBot, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(format!("http://{}{path}", bot.http)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// Starts an upload of `bytes` and sends every part as the page does.
async fn upload(bot: &TestBot, token: &str, name: &str, bytes: &[u8]) -> String {
    let (status, started) = post(
        bot,
        token,
        "/api/uploads",
        Some(json!({"file_name": name, "size": bytes.len(), "content_type": "audio/wav"})),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let part_size = usize::try_from(started["part_size"].as_u64().unwrap()).unwrap();
    let parts = started["parts"].as_array().unwrap();
    assert_eq!(parts.len(), bytes.len().div_ceil(part_size), "{started}");
    for part in parts {
        let number = usize::try_from(part["number"].as_u64().unwrap()).unwrap();
        let slice = &bytes[(number - 1) * part_size..(number * part_size).min(bytes.len())];
        let sent = reqwest::Client::new()
            .put(part["url"].as_str().unwrap())
            .body(slice.to_vec())
            .send()
            .await
            .unwrap();
        assert!(sent.status().is_success(), "part {number}: {}", sent.status());
    }
    started["id"].as_str().unwrap().to_owned()
}

async fn balance(bot: &TestBot, user: UserId) -> (String, String) {
    let balance = bot.state.ledger.balance(&bot.state.db, user).await.unwrap();
    (balance.available.amount().normalize().to_string(), balance.held.amount().normalize().to_string())
}

#[tokio::test]
async fn a_recording_uploaded_in_parts_is_transcribed_and_delivered_in_chat_and_in_the_app() {
    let openai = FakeOpenAi::start().await.unwrap();
    let base = openai.base_url();
    let bot = spawn_bot_with(move |_| {
        vec![
            ("MINIAPP_JWT_SECRET".into(), SECRET.into()),
            ("STT_BASE_URL".into(), base),
            ("FREE_MINUTES_PER_DAY".into(), "0".into()),
            ("WELCOME_BONUS_CREDITS".into(), "1000".into()),
        ]
    })
    .await;
    let worker = {
        let transcribing = support::transcription_worker(&bot, 1);
        let sweeping = support::maintenance(&bot);
        tokio::spawn(async move {
            tokio::join!(transcribing, sweeping);
        })
    };
    // The chat with the bot exists (a Mini App is opened from it).
    let person = bot.telegram.user(9101, "Dina", Some("en"));
    person.send_command("/start").unwrap();
    person.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();
    let session = miniapp_sign_in(&bot, 9101, "en").await;
    let token = session["token"].as_str().unwrap();
    let user = UserId(session["user"]["id"].as_i64().unwrap());

    // 18 MB of WAV: two parts of at least 16 MiB and the rest.
    let recording = testkit::audio::tone_wav(570, 180.0);
    assert!(recording.len() > 17 * 1024 * 1024, "{}", recording.len());
    let id = upload(&bot, token, "meeting.wav", &recording).await;
    let (status, queued) = post(&bot, token, &format!("/api/uploads/{id}/complete"), None).await;
    assert_eq!(status, 200, "{queued}");
    assert_eq!(queued["job_id"], id.as_str(), "the upload's id is its job's");
    // Held for an estimate from the size; the chat hears about it at once.
    let held = queued["price"].as_str().unwrap().to_owned();
    assert_ne!(held, "0");
    assert_eq!(balance(&bot, user).await.1, held);
    let said = bot.telegram.wait_for_messages(9101, 2, Duration::from_secs(10)).await.unwrap();
    assert!(said[1].body().unwrap().starts_with("Got it. Price:"), "{:?}", said[1].body());

    // Completing again is the same job, held once.
    let (status, again) = post(&bot, token, &format!("/api/uploads/{id}/complete"), None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["job_id"], id.as_str());
    assert_eq!(balance(&bot, user).await.1, held);

    // The worker measures 9:30 and charges 142.5 credits (15 a minute); the transcript
    // arrives in chat and in the app.
    let job = loop {
        let answer = reqwest::Client::new()
            .get(format!("http://{}/api/jobs/{id}", bot.http))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let job: Value = answer.json().await.unwrap();
        if !job["finished_at"].is_null() {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["price_charged"], "142.5", "{job}");
    assert_eq!(balance(&bot, user).await, ("857.5".to_owned(), "0".to_owned()));
    let messages = bot.telegram.messages(9101);
    assert!(
        messages.iter().any(|m| m.body().is_some_and(|b| b.starts_with("Duration 9:30"))),
        "{:#?}",
        messages.iter().map(|m| m.body()).collect::<Vec<_>>()
    );
    let transcript = reqwest::Client::new()
        .get(format!("http://{}/api/transcripts/{id}", bot.http))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(transcript.status(), 200);
    let transcript: Value = transcript.json().await.unwrap();
    let audio = reqwest::get(transcript["downloads"]["audio"].as_str().unwrap()).await.unwrap();
    assert_eq!(audio.bytes().await.unwrap().len(), recording.len(), "the original is the uploaded file");
    worker.abort();
}

#[tokio::test]
async fn what_arrives_is_checked_not_what_the_page_said() {
    let bot = spawn_bot(&[
        ("MINIAPP_JWT_SECRET", SECRET),
        ("MINIAPP_MAX_UPLOAD_MB", "1"),
        ("WELCOME_BONUS_CREDITS", "100"),
    ])
    .await;
    let session = miniapp_sign_in(&bot, 9201, "ru").await;
    let token = session["token"].as_str().unwrap();
    let user = UserId(session["user"]["id"].as_i64().unwrap());

    // Declared too big, or empty: refused before anything is stored.
    let (status, refused) =
        post(&bot, token, "/api/uploads", Some(json!({"file_name": "x.wav", "size": 1_000_001}))).await;
    assert_eq!((status, refused["error"].as_str()), (413, Some("too_big")), "{refused}");
    assert!(refused["message"].as_str().unwrap().contains('1'), "{refused}");
    let (status, _) = post(&bot, token, "/api/uploads", Some(json!({"size": 0}))).await;
    assert_eq!(status, 422);
    let (status, _) = post(&bot, token, "/api/uploads", Some(json!({"name": "no size"}))).await;
    assert_eq!(status, 400);

    // Declared small, sent big: the measured size counts, the object is removed.
    let declared = 1000;
    let (_, started) =
        post(&bot, token, "/api/uploads", Some(json!({"file_name": "a.wav", "size": declared}))).await;
    let id = started["id"].as_str().unwrap();
    let url = started["parts"][0]["url"].as_str().unwrap();
    let big = testkit::audio::tone_wav(40, 200.0);
    assert!(reqwest::Client::new().put(url).body(big).send().await.unwrap().status().is_success());
    let (status, refused) = post(&bot, token, &format!("/api/uploads/{id}/complete"), None).await;
    assert_eq!((status, refused["error"].as_str()), (413, Some("too_big")), "{refused}");
    assert_eq!(balance(&bot, user).await, ("100".to_owned(), "0".to_owned()));

    // Not a recording: refused in the user's language, nothing held, nothing kept.
    let id = upload(&bot, token, "notes.wav", b"these are my notes, not a recording at all").await;
    let (status, refused) = post(&bot, token, &format!("/api/uploads/{id}/complete"), None).await;
    assert_eq!((status, refused["error"].as_str()), (422, Some("not_audio")), "{refused}");
    assert!(refused["message"].as_str().unwrap().chars().any(|c| matches!(c, 'а'..='я')), "{refused}");
    let key = storage::ObjectKey::parse(&format!("{}/{id}/original", user.0)).unwrap();
    assert!(!bot.state.store.exists(&key).await.unwrap(), "the refused file is deleted");
    // ... and the refused upload cannot be completed later.
    let (status, _) = post(&bot, token, &format!("/api/uploads/{id}/complete"), None).await;
    assert_eq!(status, 404);
    assert_eq!(balance(&bot, user).await, ("100".to_owned(), "0".to_owned()));
    assert!(bot.telegram.messages(9201).is_empty(), "nothing queued, nothing said");
}

#[tokio::test]
async fn an_upload_the_user_cannot_pay_for_waits_for_credits_and_is_nobody_elses() {
    let bot = spawn_bot(&[
        ("MINIAPP_JWT_SECRET", SECRET),
        ("FREE_MINUTES_PER_DAY", "0"),
        ("WELCOME_BONUS_CREDITS", "1"),
    ])
    .await;
    let anna = miniapp_sign_in(&bot, 9301, "en").await;
    let boris = miniapp_sign_in(&bot, 9302, "en").await;
    let token = anna["token"].as_str().unwrap();
    let anna_id = UserId(anna["user"]["id"].as_i64().unwrap());
    let id = upload(&bot, token, "talk.wav", &testkit::audio::tone_wav(60, 200.0)).await;

    // Boris cannot complete (or even see) Anna's upload.
    let (status, _) =
        post(&bot, boris["token"].as_str().unwrap(), &format!("/api/uploads/{id}/complete"), None).await;
    assert_eq!(status, 404);

    // One credit does not pay for the estimate: 402, nothing held, the upload kept.
    let (status, refused) = post(&bot, token, &format!("/api/uploads/{id}/complete"), None).await;
    assert_eq!((status, refused["error"].as_str()), (402, Some("insufficient_funds")), "{refused}");
    assert_eq!(balance(&bot, anna_id).await, ("1".to_owned(), "0".to_owned()));

    // After a top-up the same upload is queued.
    let gift = BonusReason::Admin {
        admin_telegram_id: TelegramUserId(1),
        action_id: "top-up".to_owned(),
        note: "test".to_owned(),
    };
    bot.state.ledger.grant_bonus(&bot.state.db, anna_id, Credits::whole(500), &gift).await.unwrap();
    let (status, queued) = post(&bot, token, &format!("/api/uploads/{id}/complete"), None).await;
    assert_eq!(status, 200, "{queued}");
    assert_eq!(queued["job_id"], id.as_str());
    let (_, held) = balance(&bot, anna_id).await;
    assert_eq!(held, queued["price"].as_str().unwrap());

    // An unknown or malformed id is a 404 too.
    let (status, _) = post(&bot, token, "/api/uploads/not-a-uuid/complete", None).await;
    assert_eq!(status, 404);
    let (status, _) =
        post(&bot, token, &format!("/api/uploads/{}/complete", uuid::Uuid::new_v4()), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn uploads_are_limited_per_user_and_minute() {
    let bot = spawn_bot(&[("MINIAPP_JWT_SECRET", SECRET)]).await;
    let anna = miniapp_sign_in(&bot, 9401, "en").await;
    let boris = miniapp_sign_in(&bot, 9402, "en").await;
    let start = |token: String| {
        let bot = &bot;
        async move { post(bot, &token, "/api/uploads", Some(json!({"file_name": "a.wav", "size": 1000}))).await.0 }
    };
    let anna_token = anna["token"].as_str().unwrap().to_owned();
    for _ in 0..bot::UPLOADS_PER_MINUTE {
        assert_eq!(start(anna_token.clone()).await, 200);
    }
    assert_eq!(start(anna_token).await, 429, "one more this minute");
    assert_eq!(start(boris["token"].as_str().unwrap().to_owned()).await, 200, "others are not held back");
}
