//! Webhook mode: deliveries carry the secret header, arrive in order, and are retried
//! after a failing answer; polling is refused meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use fake_telegram::FakeTelegram;
use serde_json::Value;
use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};

#[derive(Default)]
struct Received {
    calls: usize,
    accepted: Vec<(Option<String>, Value)>,
}

/// An endpoint that fails its first request and accepts the rest.
async fn endpoint() -> (url::Url, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let state = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, Json(update): Json<Value>| {
            let state = state.clone();
            async move {
                let mut r = state.lock().unwrap();
                r.calls += 1;
                if r.calls == 1 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let secret =
                    headers.get("X-Telegram-Bot-Api-Secret-Token").map(|v| v.to_str().unwrap().to_owned());
                r.accepted.push((secret, update));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook").parse().unwrap(), received)
}

#[tokio::test]
async fn webhook_delivers_in_order_with_secret_and_retries() {
    let tg = FakeTelegram::start().await;
    tg.set_webhook_backoff(Duration::from_millis(50), Duration::from_millis(200));
    let bot = Bot::new(tg.token()).set_api_url(tg.api_url());
    let (url, received) = endpoint().await;
    bot.set_webhook(url.clone()).secret_token("s3cr3t_-X".to_owned()).await.unwrap();

    let err = bot.get_updates().await.unwrap_err();
    assert!(
        matches!(&err, RequestError::Api(ApiError::Unknown(text)) if text.starts_with("Conflict: can't use getUpdates method while webhook is active")),
        "{err:?}"
    );

    let user = tg.user(40, "Ann", None);
    user.send_text("first").unwrap();
    user.send_text("second").unwrap();

    let attempts = tg
        .wait_until("three webhook attempts", Duration::from_secs(5), |tg| {
            let a = tg.webhook_attempts();
            (a.len() >= 3).then_some(a)
        })
        .await
        .unwrap();
    assert!(!attempts[0].succeeded());
    assert_eq!(attempts[0].status, Some(500));
    assert_eq!(
        attempts[0].error.as_deref(),
        Some("Wrong response from the webhook: 500 Internal Server Error")
    );
    assert!(attempts[1].succeeded() && attempts[2].succeeded());
    assert_eq!(attempts[0].update_id, attempts[1].update_id, "the failed update is retried first");
    assert!(attempts[1].update_id < attempts[2].update_id);

    let accepted = received.lock().unwrap().accepted.clone();
    let texts: Vec<_> =
        accepted.iter().map(|(_, u)| u["message"]["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts, ["first", "second"]);
    assert!(accepted.iter().all(|(secret, _)| secret.as_deref() == Some("s3cr3t_-X")));

    let info = bot.get_webhook_info().await.unwrap();
    assert_eq!(info.url, Some(url));
    assert_eq!(info.pending_update_count, 0);
    assert!(info.last_error_date.is_some());
    assert_eq!(
        info.last_error_message.as_deref(),
        Some("Wrong response from the webhook: 500 Internal Server Error")
    );

    bot.delete_webhook().await.unwrap();
    user.send_text("polled").unwrap();
    assert_eq!(bot.get_updates().await.unwrap().len(), 1);
}

#[tokio::test]
async fn unreachable_webhooks_keep_updates_pending() {
    let tg = FakeTelegram::start().await;
    tg.set_webhook_backoff(Duration::from_millis(20), Duration::from_millis(50));
    let bot = Bot::new(tg.token()).set_api_url(tg.api_url());
    // Nothing listens on port 9 of this loopback address.
    bot.set_webhook("http://127.0.0.1:9/hook".parse().unwrap()).await.unwrap();
    tg.user(41, "Ann", None).send_text("hello?").unwrap();
    let attempts = tg
        .wait_until("two attempts", Duration::from_secs(5), |tg| {
            let a = tg.webhook_attempts();
            (a.len() >= 2).then_some(a)
        })
        .await
        .unwrap();
    assert!(attempts.iter().all(|a| a.status.is_none() && a.error.is_some()));
    assert_eq!(tg.pending_updates(), 1);
    bot.delete_webhook().drop_pending_updates(true).await.unwrap();
    assert_eq!(tg.pending_updates(), 0);
}
