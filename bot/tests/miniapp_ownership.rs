//! Every route of the Mini App's API that takes an id answers 404 to anyone
//! but the owner: the list of such routes comes from the OpenAPI document,
//! so a new route with an id fails here until it is covered.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Bytes;
use serde_json::{Value, json};
use shared::{
    entities::media_objects::MediaKind,
    ids::{ChatId, JobId, UserId},
    jobs::{self, MediaSource, TranscriptionInput},
    media::{
        images::{self, ImageRequest},
        transcripts::{self, StoredTranscript, record_media},
    },
};
use storage::{ObjectKey, ObjectName};
use support::{TestBot, miniapp_sign_in, spawn_bot};

const SECRET: &str = "a-mini-app-session-secret-of-32-bytes-or-more";

async fn stored(bot: &TestBot, user: UserId, job: JobId, name: &str, body: &'static str) -> String {
    let key = ObjectKey::new(user.0, job.0, &ObjectName::parse(name).unwrap());
    bot.state.store.put(&key, Bytes::from_static(body.as_bytes()), "text/plain").await.unwrap();
    key.as_str().to_owned()
}

/// A finished transcription of `user`'s.
async fn transcription(bot: &TestBot, user: UserId) -> JobId {
    let input = TranscriptionInput {
        file_id: "file".into(),
        file_unique_id: "unique".into(),
        file_size: Some(1000),
        mime_type: Some("audio/ogg".into()),
        file_name: None,
        duration_hint_s: 2,
        source: MediaSource::Voice,
        reply_to: None,
    };
    let job = jobs::create_transcription(&bot.state.db, &bot.state.ledger, user, ChatId(user.0), &input)
        .await
        .unwrap()
        .job_id;
    let txt = stored(bot, user, job, "transcript.txt", "Совещание\n").await;
    let srt =
        stored(bot, user, job, "transcript.srt", "1\n00:00:00,000 --> 00:00:02,000\nСовещание\n\n").await;
    let record = StoredTranscript {
        job_id: job,
        user_id: user,
        file_unique_id: Some("unique".into()),
        duration_ms: 2000,
        language: Some("ru".into()),
        audio_key: None,
        txt_key: txt,
        srt_key: srt,
        vtt_key: None,
        metadata: json!({}),
        text: "Совещание".into(),
    };
    transcripts::record(&bot.state.db, &record).await.unwrap();
    job
}

/// A kept picture of `user`'s.
async fn picture(bot: &TestBot, user: UserId) -> JobId {
    let request = ImageRequest::Generate { prompt: "a fox".into() };
    let job = images::create(&bot.state.db, &bot.state.ledger, user, ChatId(user.0), &request)
        .await
        .unwrap()
        .job_id;
    let key = stored(bot, user, job, "image.png", "png").await;
    record_media(&bot.state.db, user, job, &key, MediaKind::ImageOutput, "image/png", 3).await.unwrap();
    job
}

async fn call(bot: &TestBot, token: &str, method: &str, path: &str) -> (u16, Value) {
    let method: reqwest::Method = method.to_uppercase().parse().unwrap();
    let mut request = reqwest::Client::new().request(method.clone(), format!("http://{}{path}", bot.http));
    if method != reqwest::Method::GET {
        request = request.json(&json!({ "prompt": "add a hat" }));
    }
    let answer = request.bearer_auth(token).send().await.unwrap();
    let status = answer.status().as_u16();
    let body =
        if path.ends_with("/events") { Value::Null } else { answer.json().await.unwrap_or(Value::Null) };
    (status, body)
}

#[tokio::test]
async fn another_users_ids_are_not_found_on_every_route_that_takes_one() {
    let bot = spawn_bot(&[("MINIAPP_JWT_SECRET", SECRET), ("WELCOME_BONUS_CREDITS", "500")]).await;
    let owner = miniapp_sign_in(&bot, 6101, "en").await;
    let stranger = miniapp_sign_in(&bot, 6102, "en").await;
    let owner_id = UserId(owner["user"]["id"].as_i64().unwrap());
    let (owner_token, stranger_token) =
        (owner["token"].as_str().unwrap(), stranger["token"].as_str().unwrap());

    let transcription = transcription(&bot, owner_id).await;
    let picture = picture(&bot, owner_id).await;
    let (status, upload) = call(&bot, owner_token, "post", "/api/uploads").await;
    assert_eq!(status, 400, "no size: {upload}");
    let upload: Value = reqwest::Client::new()
        .post(format!("http://{}/api/uploads", bot.http))
        .bearer_auth(owner_token)
        .json(&json!({ "file_name": "a.wav", "size": 1000 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let upload = upload["id"].as_str().unwrap().to_owned();

    // The owner's object for each route that takes an id.
    let owned = |path: &str| -> String {
        match path {
            "/api/transcripts/{job_id}" | "/api/jobs/{id}" | "/api/jobs/{id}/events" => {
                transcription.to_string()
            }
            "/api/images/{job_id}/edit" => picture.to_string(),
            "/api/uploads/{id}/complete" => upload.clone(),
            other => panic!("{other} takes an id: add the owner's object for it to this test"),
        }
    };

    let doc: Value =
        reqwest::get(format!("http://{}/api/openapi.json", bot.http)).await.unwrap().json().await.unwrap();
    let mut checked = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        let Some(start) = path.find('{') else { continue };
        let end = path[start..].find('}').unwrap() + start;
        let concrete = format!("{}{}{}", &path[..start], owned(path), &path[end + 1..]);
        for method in operations.as_object().unwrap().keys() {
            let (status, body) = call(&bot, stranger_token, method, &concrete).await;
            assert_eq!(status, 404, "{method} {concrete} as another user: {body}");
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} routes with ids");

    // The ids are real: the owner reads them.
    for path in [format!("/api/transcripts/{transcription}"), format!("/api/jobs/{transcription}")] {
        let (status, body) = call(&bot, owner_token, "get", &path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, body) = call(&bot, owner_token, "post", &format!("/api/images/{picture}/edit")).await;
    assert_eq!(status, 200, "the owner's edit: {body}");
    bot.stop().await.unwrap();
}
