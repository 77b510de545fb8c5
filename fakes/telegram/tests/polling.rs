//! Long polling through teloxide: a dispatcher answers `/start`, offsets confirm
//! updates for good, and a poll with a timeout waits and wakes like Telegram's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use fake_telegram::FakeTelegram;
use teloxide::prelude::*;
use teloxide::types::UpdateKind;
use teloxide::utils::command::BotCommands;

#[derive(BotCommands, Clone)]
#[command(rename_rule = "lowercase")]
enum Command {
    Start(String),
}

fn bot(tg: &FakeTelegram) -> Bot {
    Bot::new(tg.token()).set_api_url(tg.api_url())
}

#[tokio::test]
async fn dispatcher_receives_start_by_long_polling_and_its_reply_is_recorded() {
    let tg = FakeTelegram::start().await;
    let alice = tg.user(1001, "Alice", Some("de"));

    let handler = Update::filter_message().filter_command::<Command>().endpoint(
        |bot: Bot, msg: Message, cmd: Command| async move {
            let Command::Start(payload) = cmd;
            let lang = msg.from.as_ref().and_then(|u| u.language_code.clone()).unwrap_or_default();
            bot.send_message(msg.chat.id, format!("hello {payload} {lang}")).await?;
            Ok::<(), teloxide::RequestError>(())
        },
    );
    let mut dispatcher = Dispatcher::builder(bot(&tg), handler).build();
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    // Injected after the dispatcher started polling, so the long poll must wake up for it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    alice.send_command("/start ref_abc").unwrap();

    let replies = alice.wait_for_messages(1, Duration::from_secs(10)).await.unwrap();
    assert_eq!(replies[0].text.as_deref(), Some("hello ref_abc de"));
    assert_eq!(replies[0].raw["from"]["is_bot"], true);
    assert_eq!(replies[0].raw["chat"]["type"], "private");

    if let Ok(stopping) = shutdown.shutdown() {
        stopping.await;
    }
    running.await.unwrap();
    assert!(tg.calls("getUpdates").len() >= 2, "the dispatcher polled");
    assert_eq!(tg.pending_updates(), 0, "the dispatcher confirmed the update");
}

#[tokio::test]
async fn offsets_confirm_updates_forever_and_timeouts_return_empty() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let bob = tg.user(2002, "Bob", None);
    bob.send_text("one").unwrap();
    bob.send_text("two").unwrap();

    let first = bot.get_updates().await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(first[0].id.0 < first[1].id.0);
    let texts: Vec<_> = first
        .iter()
        .map(|u| match &u.kind {
            UpdateKind::Message(m) => m.text().unwrap().to_owned(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(texts, ["one", "two"]);

    // Without an offset nothing is confirmed.
    assert_eq!(bot.get_updates().await.unwrap().len(), 2);

    let next = first[1].id.0 as i32 + 1;
    let started = Instant::now();
    let empty = bot.get_updates().offset(next).timeout(1).await.unwrap();
    let waited = started.elapsed();
    assert!(empty.is_empty());
    assert!(waited >= Duration::from_millis(900), "returned after {waited:?}");
    assert!(waited < Duration::from_secs(3), "returned after {waited:?}");

    // An older offset cannot bring confirmed updates back.
    bob.send_text("three").unwrap();
    let later = bot.get_updates().offset(first[0].id.0 as i32).await.unwrap();
    assert_eq!(later.len(), 1);
    assert!(matches!(&later[0].kind, UpdateKind::Message(m) if m.text() == Some("three")));
}

#[tokio::test]
async fn long_poll_returns_as_soon_as_an_update_arrives() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let carol = tg.user(3003, "Carol", Some("en"));

    let poll = tokio::spawn(async move {
        let started = Instant::now();
        let updates = bot.get_updates().timeout(10).await.unwrap();
        (updates, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    carol.send_text("wake up").unwrap();
    let (updates, took) = poll.await.unwrap();
    assert_eq!(updates.len(), 1);
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn a_newer_poll_ends_an_older_one_with_conflict() {
    let tg = FakeTelegram::start().await;
    let first = bot(&tg);
    let older = tokio::spawn(async move { first.get_updates().timeout(5).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let newer = bot(&tg).get_updates().timeout(0).await.unwrap();
    assert!(newer.is_empty());
    let err = older.await.unwrap().unwrap_err();
    assert!(
        matches!(err, teloxide::RequestError::Api(teloxide::ApiError::TerminatedByOtherGetUpdates)),
        "{err:?}"
    );
}

#[tokio::test]
async fn allowed_updates_filter_later_updates() {
    let tg = FakeTelegram::start().await;
    let bot = bot(&tg);
    let dave = tg.user(4004, "Dave", None);
    bot.get_updates().allowed_updates([teloxide::types::AllowedUpdate::CallbackQuery]).await.unwrap();
    dave.send_text("ignored").unwrap();
    assert_eq!(tg.pending_updates(), 0);
}
