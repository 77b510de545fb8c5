//! Webhook mode: Telegram POSTs updates with the secret token; others get 401.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::spawn_bot_with;

#[tokio::test]
async fn updates_arrive_by_webhook_and_a_wrong_secret_is_refused() {
    let bot = spawn_bot_with(|addr| {
        vec![
            ("TELEGRAM_MODE".into(), "webhook".into()),
            ("TELEGRAM_WEBHOOK_URL".into(), format!("http://{addr}/telegram/hook")),
            ("TELEGRAM_WEBHOOK_SECRET".into(), "s3cret-Token_1".into()),
        ]
    })
    .await;
    let user = bot.telegram.user(41, "Lena", Some("ru"));
    user.send_command("/start").unwrap();
    let replies = user.wait_for_messages(1, Duration::from_secs(15)).await.unwrap();
    assert!(
        replies[0].body().unwrap().starts_with("Здравствуйте, Лена")
            || replies[0].body().unwrap().starts_with("Здравствуйте, Lena")
    );
    let attempts = bot.telegram.webhook_attempts();
    assert!(!attempts.is_empty(), "the fake delivered by webhook");

    let url = format!("http://{}/telegram/hook", bot.http);
    let update = serde_json::json!({"update_id": 999_999, "message": {"message_id": 1, "date": 0,
        "chat": {"id": 41, "type": "private", "first_name": "Lena"},
        "from": {"id": 41, "is_bot": false, "first_name": "Lena"}, "text": "/start"}});
    let client = reqwest::Client::new();
    let wrong = client
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", "guess")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let missing = client.post(&url).json(&update).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(user.messages().len(), 1, "forged updates were not processed");
    bot.stop().await.unwrap();
}
