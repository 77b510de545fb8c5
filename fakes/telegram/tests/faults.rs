//! Fault injection and the raw HTTP surface: envelopes, status codes, encodings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use fake_telegram::FakeTelegram;
use serde_json::{Value, json};
use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};

fn bot(tg: &FakeTelegram) -> Bot {
    Bot::new(tg.token()).set_api_url(tg.api_url())
}

fn method_url(tg: &FakeTelegram, method: &str) -> String {
    format!("{}bot{}/{method}", tg.api_url(), tg.token())
}

#[tokio::test]
async fn injected_429_surfaces_as_retry_after() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let user = tg.user(30, "Ann", None);
    tg.rate_limit("sendMessage", 1, 7);
    let err = bot.send_message(ChatId(user.chat_id()), "hi").await.unwrap_err();
    let RequestError::RetryAfter(secs) = err else { panic!("{err:?}") };
    assert_eq!(secs.seconds(), 7);
    assert!(user.messages().is_empty(), "a throttled call sends nothing");
    bot.send_message(ChatId(user.chat_id()), "hi").await.unwrap();
    assert_eq!(user.messages().len(), 1);
    let calls = tg.calls("SENDMESSAGE");
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), [429, 200]);
}

#[tokio::test]
async fn server_errors_and_delays_are_injected_per_method() {
    let tg = FakeTelegram::start().await;
    let user = tg.user(31, "Ann", None);
    let http = reqwest::Client::new();
    tg.server_error("sendmessage", 1);
    let resp = http
        .post(method_url(&tg, "sendMessage"))
        .json(&json!({"chat_id": 31, "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}));

    tg.rate_limit("getMe", 1, 3);
    let resp = http.get(method_url(&tg, "getMe")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["description"], "Too Many Requests: retry after 3");
    assert_eq!(body["parameters"]["retry_after"], 3);

    tg.delay("sendMessage", 1, Duration::from_millis(400));
    let started = Instant::now();
    bot(&tg).send_message(ChatId(user.chat_id()), "slow").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    bot(&tg).send_message(ChatId(user.chat_id()), "fast").await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn wrong_tokens_and_unknown_methods_fail() {
    let tg = FakeTelegram::start().await;
    let http = reqwest::Client::new();
    let resp = http.get(format!("{}bot1:WRONG/getMe", tg.api_url())).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["description"], "Unauthorized");

    let wrong = Bot::new("1:WRONG").set_api_url(tg.api_url());
    let err = wrong.get_me().await.unwrap_err();
    assert!(matches!(err, RequestError::Api(ApiError::InvalidToken)), "{err:?}");

    let resp = http.post(method_url(&tg, "noSuchMethod")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"ok": false, "error_code": 404, "description": "Not Found"})
    );
}

#[tokio::test]
async fn every_body_encoding_is_accepted() {
    let tg = FakeTelegram::start().await;
    let user = tg.user(32, "Ann", None);
    let http = reqwest::Client::new();
    let markup = json!({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}).to_string();

    let form = http
        .post(method_url(&tg, "sendmessage"))
        .form(&[("chat_id", "32"), ("text", "form"), ("reply_markup", markup.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let query =
        http.get(format!("{}?chat_id=32&text=query", method_url(&tg, "SendMessage"))).send().await.unwrap();
    assert_eq!(query.status(), 200);
    let multipart = reqwest::multipart::Form::new().text("chat_id", "32").text("text", "multipart");
    let resp = http.post(method_url(&tg, "sendMessage")).multipart(multipart).send().await.unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(body["result"]["text"], "multipart");

    let texts: Vec<_> = user.messages().into_iter().map(|m| m.text.unwrap()).collect();
    assert_eq!(texts, ["form", "query", "multipart"]);
    assert_eq!(user.messages()[0].buttons()[0].callback_data(), Some("go"));

    let bad = http
        .post(method_url(&tg, "sendMessage"))
        .json(&json!({"chat_id": 32, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "t", "callback_data": "d".repeat(65)}]]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.json::<Value>().await.unwrap()["description"], "Bad Request: BUTTON_DATA_INVALID");
}

#[tokio::test]
async fn control_api_drives_the_fake_over_http() {
    let tg = FakeTelegram::start().await;
    let http = reqwest::Client::new();
    let base = format!("{}_control", tg.api_url());

    let file: Value = http
        .post(format!("{base}/files"))
        .json(&json!({"base64": "T2dnUw==", "mime_type": "audio/ogg", "duration_secs": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(file["size"], 4);
    let file_id = file["file_id"].as_str().unwrap();
    assert_eq!(tg.file_bytes(file_id).unwrap().as_ref(), b"OggS");

    let sent: Value = http
        .post(format!("{base}/updates/command"))
        .json(&json!({"user_id": 77, "text": "start abc", "language_code": "es"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["message_id"], 1);
    http.post(format!("{base}/updates/voice"))
        .json(&json!({"user_id": 77, "file_id": file_id}))
        .send()
        .await
        .unwrap();

    let bot = bot(&tg);
    let updates = bot.get_updates().await.unwrap();
    assert_eq!(updates.len(), 2);
    let teloxide::types::UpdateKind::Message(cmd) = &updates[0].kind else { panic!() };
    assert_eq!(cmd.text(), Some("/start abc"));
    assert_eq!(cmd.from.as_ref().unwrap().language_code.as_deref(), Some("es"));

    bot.send_message(ChatId(77), "welcome").await.unwrap();
    let listed: Value =
        http.get(format!("{base}/chats/77/messages")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed[0]["text"], "welcome");
    let calls: Value =
        http.get(format!("{base}/calls/sendMessage")).send().await.unwrap().json().await.unwrap();
    assert_eq!(calls[0]["params"]["text"], "welcome");
}
