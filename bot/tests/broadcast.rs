//! `/broadcast` end to end through the fake Telegram: the preview and its
//! Send / Cancel buttons, a segment reached once per user with the counts
//! reported (a user who blocked the bot counted apart, banned users and other
//! languages left out), a non-admin's attempt, and a broadcast interrupted by
//! a restart mid-send that resumes without sending anyone a second copy.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use shared::{
    ids::TelegramUserId,
    operations::audit,
    people::users,
    texts::i18n::{Lang, Text},
};
use support::{TestBot, spawn_bot};
use testkit::fake_telegram::{SentMessage, TestUser};

const WAIT: Duration = Duration::from_secs(20);
const ADMIN: i64 = 90;

async fn spawn() -> TestBot {
    spawn_bot(&[("ADMIN_TELEGRAM_IDS", "90"), ("WELCOME_BONUS_CREDITS", "10")]).await
}

/// A user who started the bot, in `lang`.
async fn started(bot: &TestBot, id: i64, name: &str, lang: &str) -> TestUser {
    let user = bot.telegram.user(id, name, Some(lang));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    user
}

/// The first message after the first `after` in `user`'s chat whose text starts with `start`.
async fn message_starting(user: &TestUser, after: usize, start: &str) -> SentMessage {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let messages = user.messages();
        if let Some(found) =
            messages.iter().skip(after).find(|m| m.body().is_some_and(|b| b.starts_with(start)))
        {
            return found.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no message starting with {start:?} after {after}: {:#?}",
            messages.iter().map(SentMessage::body).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Copies of message `original` of the admin's chat that reached `user`.
fn copies(user: &TestUser, original: i32) -> Vec<SentMessage> {
    user.messages().into_iter().filter(|m| m.copied_from == Some((ADMIN, original))).collect()
}

async fn count(bot: &TestBot, sql: &str) -> i64 {
    let row =
        bot.state.db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap().unwrap();
    row.try_get("", "n").unwrap()
}

/// Replies `/broadcast <args>` to the admin's message `original` and answers
/// the preview's copy and the question under it.
async fn propose(admin: &TestUser, original: i32, args: &str) -> (SentMessage, SentMessage) {
    let before = admin.messages().len();
    let command = format!("/broadcast {args}");
    admin.reply_to(original, command.trim_end()).unwrap();
    let question = message_starting(admin, before, "⬆️").await;
    let preview = admin.messages().into_iter().skip(before).find(|m| m.copied_from.is_some()).unwrap();
    assert_eq!(preview.copied_from, Some((ADMIN, original)), "the preview is a copy of the message");
    assert_eq!(question.reply_to_message_id, Some(preview.message_id), "the question answers the preview");
    (preview, question)
}

#[tokio::test]
async fn a_confirmed_broadcast_reaches_its_segment_once_and_reports_the_counts() {
    let bot = spawn().await;
    let admin = started(&bot, ADMIN, "Admin", "en").await;
    let gleb = started(&bot, 91, "Gleb", "en").await;
    let vera = started(&bot, 92, "Vera", "en").await;
    let oleg = started(&bot, 93, "Oleg", "ru").await;
    let ivan = started(&bot, 94, "Ivan", "en").await;
    let spam = started(&bot, 95, "Spam", "en").await;
    admin.send_command("/ban 95 spam").unwrap();
    message_starting(&admin, 1, "Spam").await;
    // Ivan blocks the bot; the bot does not know yet.
    ivan.block_bot();

    // A photo with a caption: any kind of message goes.
    let picture = bot.telegram.register_file(vec![5u8; 64], "image/jpeg", None);
    let original = admin.send_photo(&picture, Some("New prices from Monday")).unwrap();

    // Without a reply, or with a segment nobody understands: how to use it.
    let before = admin.messages().len();
    admin.send_command("/broadcast").unwrap();
    message_starting(&admin, before, "Usage: reply to a message with /broadcast").await;
    let before = admin.messages().len();
    admin.reply_to(original, "/broadcast lang=de").unwrap();
    message_starting(&admin, before, "Usage: reply to a message with /broadcast").await;

    // Cancelled: nothing goes out, and Send after Cancel does nothing.
    let (_, question) = propose(&admin, original, "").await;
    assert!(question.body().unwrap().contains("Recipients: 5 (everyone)"), "{:?}", question.body());
    let before = admin.messages().len();
    admin.press_button(question.message_id, &question.callback_data_of("Cancel").unwrap()).unwrap();
    message_starting(&admin, before, "Cancelled; nothing changed.").await;
    let before = admin.messages().len();
    admin.press_button(question.message_id, &question.callback_data_of("📣 Send").unwrap()).unwrap();
    message_starting(&admin, before, "This broadcast was cancelled.").await;

    // English speakers: the admin, Gleb, Vera and Ivan (Spam is banned, Oleg speaks Russian).
    let (preview, question) = propose(&admin, original, "lang=en").await;
    assert_eq!(preview.caption.as_deref(), Some("New prices from Monday"));
    assert_eq!(preview.photo.as_ref().unwrap().file_unique_id, picture.file_unique_id);
    let body = question.body().unwrap();
    assert!(body.contains("Recipients: 4 (lang=en)"), "{body}");
    assert_eq!(count(&bot, "SELECT COUNT(*) AS n FROM broadcast_recipients").await, 0, "nothing fixed yet");
    let send = question.callback_data_of("📣 Send").unwrap();
    let before = admin.messages().len();
    admin.press_button(question.message_id, &send).unwrap();
    message_starting(&admin, before, "Sending to 4 users.").await;
    let report = message_starting(&admin, before, "📣 The broadcast is finished.").await;
    assert_eq!(
        report.body().unwrap(),
        "📣 The broadcast is finished.\nSent: 3\nBlocked the bot: 1\nFailed: 0\n\
         Skipped (banned or blocked the bot meanwhile): 0"
    );

    // Once each, to the segment only.
    for (user, expected) in [(&gleb, 1), (&vera, 1), (&oleg, 0), (&ivan, 0), (&spam, 0)] {
        assert_eq!(copies(user, original).len(), expected, "copies to {}", user.id());
    }
    assert_eq!(copies(&admin, original).len(), 3, "two previews and the admin's own copy");
    let got = &copies(&gleb, original)[0];
    assert_eq!(got.caption.as_deref(), Some("New prices from Monday"));
    assert!(got.raw.get("forward_origin").is_none());
    // Ivan is known to have blocked the bot now: the next broadcast leaves him out.
    let ivan_row = users::find_by_telegram_id(&bot.state.db, TelegramUserId(94)).await.unwrap().unwrap();
    assert!(ivan_row.is_blocked);
    let statuses = "SELECT COUNT(*) AS n FROM broadcast_recipients r JOIN users u ON u.id = r.user_id \
                    WHERE (u.telegram_id = 94 AND r.status = 'blocked') \
                       OR (u.telegram_id IN (90, 91, 92) AND r.status = 'sent')";
    assert_eq!(count(&bot, statuses).await, 4);

    // A second tap sends nothing more.
    let before = admin.messages().len();
    admin.press_button(question.message_id, &send).unwrap();
    message_starting(&admin, before, "This broadcast was sent already.").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(copies(&gleb, original).len(), 1);

    // Audited once, with its recipients.
    let records: Vec<_> = audit::recent(&bot.state.db, None, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|record| record.action == "broadcast.send")
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].actor, "admin:90");
    let after = records[0].after.as_ref().unwrap();
    assert_eq!((after["segment"].as_str(), after["recipients"].as_i64()), (Some("lang=en"), Some(4)));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_non_admin_gets_the_unknown_answer_and_nothing_is_sent() {
    let bot = spawn().await;
    let admin = started(&bot, ADMIN, "Admin", "en").await;
    let gleb = started(&bot, 91, "Gleb", "en").await;
    let own = gleb.send_text("Buy my course").unwrap();
    let before = gleb.messages().len();
    gleb.reply_to(own, "/broadcast").unwrap();
    let reply = gleb.wait_for_messages(before + 1, WAIT).await.unwrap().remove(before);
    assert_eq!(reply.body(), Some(Text::Unknown.render(Lang::En).as_str()));
    assert!(reply.buttons().is_empty());
    assert_eq!(count(&bot, "SELECT COUNT(*) AS n FROM broadcasts").await, 0);
    assert!(bot.telegram.calls("copyMessage").is_empty());
    assert_eq!(admin.messages().len(), 1, "the admin heard nothing");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_broadcast_interrupted_by_a_restart_resumes_and_sends_nobody_twice() {
    // Four messages a second: one copy in flight at a time, in a known order.
    let mut bot = spawn_bot(&[
        ("ADMIN_TELEGRAM_IDS", "90"),
        ("WELCOME_BONUS_CREDITS", "10"),
        ("TELEGRAM_MESSAGES_PER_SECOND", "4"),
    ])
    .await;
    let admin = started(&bot, ADMIN, "Admin", "en").await;
    let mut readers = Vec::new();
    for id in 101..=106 {
        readers.push(started(&bot, id, &format!("Reader {id}"), "en").await);
    }
    let original = admin.send_text("We move to a new server tonight").unwrap();
    let (_, question) = propose(&admin, original, "").await;
    assert!(question.body().unwrap().contains("Recipients: 7 (everyone)"), "{:?}", question.body());

    // Recipients go in the order they joined: the admin, then readers 101, 102, 103.
    // The copy to 103 hangs longer than a stopping bot waits for it.
    let tg = &bot.telegram;
    let calls_before = tg.calls("copyMessage").len();
    tg.delay("copyMessage", 3, Duration::from_millis(1));
    tg.delay("copyMessage", 1, Duration::from_secs(8));
    admin.press_button(question.message_id, &question.callback_data_of("📣 Send").unwrap()).unwrap();
    tg.wait_until("the copy to 103 in flight", WAIT, |t| {
        (t.calls("copyMessage").len() == calls_before + 4).then_some(())
    })
    .await
    .unwrap();
    let interrupted = "SELECT COUNT(*) AS n FROM broadcast_recipients r JOIN users u ON u.id = r.user_id \
                       WHERE u.telegram_id = 103 AND r.status = 'sending'";
    assert_eq!(count(&bot, interrupted).await, 1, "marked before it went out");

    bot.restart().await;
    let report = message_starting(&admin, 0, "📣 The broadcast is finished.").await;
    assert_eq!(
        report.body().unwrap(),
        "📣 The broadcast is finished.\nSent: 6\nBlocked the bot: 0\nFailed: 1\n\
         Skipped (banned or blocked the bot meanwhile): 0"
    );
    // Everyone else got exactly one copy; 103 at most the one in flight, never a second.
    for reader in &readers {
        let got = copies(reader, original).len();
        if reader.id() == 103 {
            assert!(got <= 1, "103 got {got} copies");
        } else {
            assert_eq!(got, 1, "{} got {got} copies", reader.id());
        }
    }
    assert_eq!(copies(&admin, original).len(), 2, "the preview and the admin's own copy");
    let failed = "SELECT COUNT(*) AS n FROM broadcast_recipients r JOIN users u ON u.id = r.user_id \
                  WHERE u.telegram_id = 103 AND r.status = 'failed' AND r.error = 'interrupted'";
    assert_eq!(count(&bot, failed).await, 1);
    // Once the hung copy is over too, nothing more was ever sent to 103.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(copies(&readers[2], original).len() <= 1);
    assert_eq!(tg_copies_to(&bot, 103), 1, "the restarted bot never asked Telegram for a second copy to 103");
    bot.stop().await.unwrap();
}

/// How many times the bot asked Telegram to copy a message to `chat`.
fn tg_copies_to(bot: &TestBot, chat: i64) -> usize {
    bot.telegram
        .calls("copyMessage")
        .iter()
        .filter(|call| call.param_str("chat_id") == Some(chat.to_string()))
        .count()
}
