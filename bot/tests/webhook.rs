//! Webhook mode: Telegram POSTs updates with the secret token; others get 401.
//! An update is answered only once it is taken (PostgreSQL) and handled.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use sea_orm::ConnectionTrait;
use support::{WEBHOOK_SECRET, spawn_webhook_bot};

fn start_update(update_id: i64, chat: i64) -> serde_json::Value {
    serde_json::json!({"update_id": update_id, "message": {"message_id": 1, "date": 0,
        "chat": {"id": chat, "type": "private", "first_name": "Lena"},
        "from": {"id": chat, "is_bot": false, "first_name": "Lena"}, "text": "/start"}})
}

#[tokio::test]
async fn updates_arrive_by_webhook_and_a_wrong_secret_is_refused() {
    let bot = spawn_webhook_bot(&[]).await;
    let user = bot.telegram.user(41, "Lena", Some("ru"));
    user.send_command("/start").unwrap();
    let replies = user.wait_for_messages(1, Duration::from_secs(15)).await.unwrap();
    assert!(
        replies[0].body().unwrap().starts_with("Здравствуйте, Лена")
            || replies[0].body().unwrap().starts_with("Здравствуйте, Lena")
    );
    // The delivery is recorded when answered, which is after the reply went out.
    let delivered = bot
        .telegram
        .wait_until("the webhook delivery", Duration::from_secs(5), |t| {
            t.webhook_attempts().into_iter().find(|a| a.status == Some(200))
        })
        .await;
    assert!(delivered.is_ok(), "the fake delivered by webhook");

    let update = start_update(999_999, 41);
    assert_eq!(bot.post_update(&update, Some("guess")).await, 401);
    assert_eq!(bot.post_update(&update, None).await, 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(user.messages().len(), 1, "forged updates were not processed");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn an_update_that_cannot_be_taken_is_refused_and_handled_when_sent_again() {
    let bot = spawn_webhook_bot(&[]).await;
    bot.telegram.set_webhook_backoff(Duration::from_millis(200), Duration::from_millis(500));
    // The updates table is away (as when PostgreSQL is): the update must not be acknowledged.
    bot.db
        .db
        .execute_unprepared("ALTER TABLE telegram_updates RENAME TO telegram_updates_away")
        .await
        .unwrap();
    let user = bot.telegram.user(42, "Lena", Some("en"));
    user.send_command("/start").unwrap();
    bot.telegram
        .wait_until("a refused delivery", Duration::from_secs(15), |t| {
            t.webhook_attempts().into_iter().find(|a| a.status == Some(503))
        })
        .await
        .unwrap();
    assert!(user.messages().is_empty(), "nothing is handled before the update is taken");
    assert_eq!(bot.telegram.pending_updates(), 1, "Telegram still holds the update");

    bot.db
        .db
        .execute_unprepared("ALTER TABLE telegram_updates_away RENAME TO telegram_updates")
        .await
        .unwrap();
    let replies = user.wait_for_messages(1, Duration::from_secs(15)).await.unwrap();
    assert!(replies[0].body().unwrap().starts_with("Hello, Lena"), "{:?}", replies[0].body());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(user.messages().len(), 1, "handled once");
    assert_eq!(bot.telegram.pending_updates(), 0);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn an_update_delivered_twice_is_handled_once() {
    let bot = spawn_webhook_bot(&[]).await;
    let user = bot.telegram.user(43, "Lena", Some("en"));
    for _ in 0..2 {
        // Answered after handling: the reply is already out when the 200 arrives.
        assert_eq!(bot.post_update(&start_update(777_001, 43), Some(WEBHOOK_SECRET)).await, 200);
        assert_eq!(user.messages().len(), 1);
    }
    let handled = bot
        .db
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT handled_at IS NOT NULL AS handled FROM telegram_updates WHERE update_id = 777001",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(handled.try_get::<bool>("", "handled").unwrap(), "the update is marked handled");
    bot.stop().await.unwrap();
}
