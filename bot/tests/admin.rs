//! Admin commands end to end through the fake Telegram: `/stats`, `/user`,
//! `/grant` and `/debit` with their confirmation, `/ban` and `/unban` (a ban
//! survives the user's next message and a restart, and cancels the user's
//! unfinished jobs with their holds released), `/jobs failed` with Retry,
//! `/audit`; a non-admin gets the ordinary unknown-command answer; and the
//! audit trail refuses UPDATE, DELETE and TRUNCATE from the application.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use shared::{
    billing::money::Credits,
    ids::{ChatId, TelegramUserId, UserId},
    jobs::{Claim, MediaSource, TranscriptionInput},
    operations::audit,
    people::users,
    texts::{
        admin::AdminText,
        i18n::{Lang, Text},
    },
};
use support::{TestBot, spawn_bot};
use testkit::fake_telegram::TestUser;

const WAIT: Duration = Duration::from_secs(15);
const ADMIN: i64 = 90;

async fn spawn() -> TestBot {
    spawn_bot(&[("ADMIN_TELEGRAM_IDS", "90"), ("WELCOME_BONUS_CREDITS", "10"), ("FREE_MINUTES_PER_DAY", "0")])
        .await
}

/// The last of `n` messages in a user's chat, as text.
async fn nth(user: &TestUser, n: usize) -> testkit::fake_telegram::SentMessage {
    let messages = user.wait_for_messages(n, WAIT).await.unwrap();
    assert_eq!(
        messages.len(),
        n,
        "more messages than expected: {:#?}",
        messages.iter().map(|m| m.body()).collect::<Vec<_>>()
    );
    messages[n - 1].clone()
}

async fn stored(bot: &TestBot, telegram_id: i64) -> shared::entities::users::Model {
    users::find_by_telegram_id(&bot.state.db, TelegramUserId(telegram_id)).await.unwrap().unwrap()
}

async fn available(bot: &TestBot, user: UserId) -> Credits {
    bot.state.ledger.balance(&bot.state.db, user).await.unwrap().available
}

async fn count(bot: &TestBot, sql: &str) -> i64 {
    let row =
        bot.state.db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap().unwrap();
    row.try_get("", "n").unwrap()
}

/// Waits until the bot took every update and had time to act on them: a banned
/// user's messages produce no reply to wait for.
async fn settle(bot: &TestBot) {
    bot.telegram
        .wait_until("updates taken", WAIT, |t| (t.pending_updates() == 0).then_some(()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

/// A user who started the bot (with the welcome credit).
async fn started(bot: &TestBot, id: i64, name: &str) -> TestUser {
    let user = bot.telegram.user(id, name, Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    user
}

#[tokio::test]
async fn a_non_admin_gets_the_unknown_answer_and_nothing_happens() {
    let bot = spawn().await;
    let user = started(&bot, 91, "Gleb").await;
    let victim = started(&bot, 92, "Vera").await;
    let unknown = Text::Unknown.render(Lang::En);
    let attempts = [
        "/stats",
        "/user 92",
        "/grant 91 100 please",
        "/debit 92 5 oops",
        "/ban 92 spam",
        "/unban 92",
        "/jobs failed",
        "/audit",
    ];
    for (n, attempt) in attempts.iter().enumerate() {
        user.send_command(attempt).unwrap();
        let reply = nth(&user, 2 + n).await;
        assert_eq!(reply.body(), Some(unknown.as_str()), "{attempt}");
        assert!(reply.buttons().is_empty(), "{attempt}");
    }
    assert_eq!(available(&bot, stored(&bot, 91).await.id).await, Credits::whole(10));
    assert!(!stored(&bot, 92).await.is_banned());
    assert_eq!(count(&bot, "SELECT COUNT(*) AS n FROM audit_log").await, 0);
    assert_eq!(count(&bot, "SELECT COUNT(*) AS n FROM admin_actions").await, 0);
    assert_eq!(victim.messages().len(), 1, "the victim heard nothing");
    // The admin commands are not in anyone's command menu.
    for lang in ["", "en"] {
        let menu = bot.telegram.commands(None, lang);
        assert!(!menu.is_empty());
        assert!(
            menu.iter().all(|(command, _)| ![
                "stats",
                "user",
                "grant",
                "debit",
                "ban",
                "unban",
                "jobs",
                "audit",
                "broadcast"
            ]
            .contains(&command.as_str())),
            "{menu:?}"
        );
    }
    // Only the admin's own chat lists them, after the public ones.
    let admin_chat = serde_json::json!({ "type": "chat", "chat_id": ADMIN });
    let admin_menu: Vec<String> =
        bot.telegram.commands(Some(&admin_chat), "en").into_iter().map(|(command, _)| command).collect();
    assert_eq!(admin_menu.first().map(String::as_str), Some("start"), "{admin_menu:?}");
    assert!(
        admin_menu.ends_with(
            &["stats", "user", "grant", "debit", "ban", "unban", "jobs", "audit", "broadcast"]
                .map(String::from)
        ),
        "{admin_menu:?}"
    );
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn stats_shows_users_jobs_queue_revenue_and_the_books() {
    let bot = spawn().await;
    let admin = started(&bot, ADMIN, "Admin").await;
    started(&bot, 91, "Gleb").await;
    let gleb = stored(&bot, 91).await.id;
    // One job waiting, one failed today.
    let job = testkit::fixtures::job_with_status(&bot.state.db, gleb, "queued").await;
    bot.state.ledger.hold(&bot.state.db, gleb, job, Credits::whole(4)).await.unwrap();
    testkit::fixtures::job_with_status(&bot.state.db, gleb, "failed").await;

    admin.send_command("/stats").unwrap();
    let stats = nth(&admin, 2).await;
    let body = stats.body().unwrap();
    for expected in [
        "Users: 2 in all",
        "New: 2 / 2 / 2",
        "Active: 2 / 2 / 2",
        "• transcribe failed: 1",
        "• transcribe queued: 1",
        "Failures: 1 / 1 / 1",
        "Queue: 1,",
        "Credits held by users: 20",
        "Open holds: 1 for 4 cr.",
        "Minutes transcribed: 0 / 0 / 0",
    ] {
        assert!(body.contains(expected), "{expected:?} not in:\n{body}");
    }
    assert!(body.contains("Payments:\n• none"), "{body}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn user_card_finds_a_user_three_ways_and_its_buttons_ban_and_unban() {
    let bot = spawn().await;
    let admin = started(&bot, ADMIN, "Admin").await;
    let gleb = bot.telegram.user(91, "Gleb", Some("en"));
    gleb.set_username(Some("gleb_k"));
    gleb.send_command("/start").unwrap();
    gleb.wait_for_messages(1, WAIT).await.unwrap();
    let id = stored(&bot, 91).await.id;

    let mut shown = 1;
    for query in ["91", "@gleb_k", "@GLEB_K", &format!("#{id}")] {
        admin.send_command(&format!("/user {query}")).unwrap();
        shown += 1;
        let card = nth(&admin, shown).await;
        let body = card.body().unwrap();
        assert!(body.contains(&format!("Gleb @gleb_k · tg 91 · #{id}")), "{query}: {body}");
        assert!(body.contains("Balance: 10 cr., 0 cr. on hold"), "{body}");
        assert!(body.contains("Banned: no"), "{body}");
        assert!(body.contains("Invited by: nobody"), "{body}");
    }
    admin.send_command("/user @nobody_here").unwrap();
    shown += 1;
    assert_eq!(nth(&admin, shown).await.body(), Some("No user @nobody_here."));

    // The card's buttons: Grant explains, Ban bans (audited), Unban lifts it.
    let card = admin.messages()[shown - 2].clone();
    admin.press_button_labelled(card.message_id, "➕ Grant").unwrap();
    shown += 1;
    assert_eq!(
        nth(&admin, shown).await.body().unwrap(),
        format!("To grant credits, send: /grant #{id} <credits> <reason>")
    );
    admin.press_button_labelled(card.message_id, "🚫 Ban").unwrap();
    shown += 1;
    assert!(nth(&admin, shown).await.body().unwrap().contains("is banned"));
    assert!(stored(&bot, 91).await.is_banned());
    admin.send_command("/user 91").unwrap();
    shown += 1;
    let card = nth(&admin, shown).await;
    assert!(card.body().unwrap().contains("Banned: yes — ban button on the /user card"), "{:?}", card.body());
    admin.press_button_labelled(card.message_id, "✅ Unban").unwrap();
    shown += 1;
    assert!(nth(&admin, shown).await.body().unwrap().ends_with("is unbanned."));
    assert!(!stored(&bot, 91).await.is_banned());
    let actions: Vec<String> =
        audit::recent(&bot.state.db, Some(id), 10).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(actions, ["user.unban", "user.ban"]);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn grant_and_debit_wait_for_confirmation_post_once_and_are_audited() {
    let bot = spawn().await;
    let admin = started(&bot, ADMIN, "Admin").await;
    let gleb_chat = started(&bot, 91, "Gleb").await;
    let gleb = stored(&bot, 91).await.id;

    admin.send_command("/grant 91 50 goodwill for the outage").unwrap();
    let question = nth(&admin, 2).await;
    assert_eq!(
        question.body().unwrap(),
        format!(
            "Grant 50 cr. to Gleb · tg 91 · #{gleb}?\nAvailable now: 10 cr.\nReason: goodwill for the outage"
        )
    );
    assert_eq!(available(&bot, gleb).await, Credits::whole(10), "nothing moves before Confirm");
    // Two taps at once: one posting.
    let confirm = question.callback_data_of("Confirm").unwrap();
    admin.press_button(question.message_id, &confirm).unwrap();
    admin.press_button(question.message_id, &confirm).unwrap();
    let answers = admin.wait_for_messages(4, WAIT).await.unwrap();
    let mut bodies: Vec<&str> = answers[2..].iter().map(|m| m.body().unwrap()).collect();
    bodies.sort_unstable();
    assert_eq!(
        bodies,
        [
            "Already done; nothing was posted again.".to_owned(),
            format!("Granted 50 cr. to Gleb · tg 91 · #{gleb}. Available now: 60 cr."),
        ]
    );
    assert_eq!(available(&bot, gleb).await, Credits::whole(60));

    // A debit larger than the balance is refused whole; a smaller one goes through.
    admin.send_command(&format!("/debit #{gleb} 80 abuse")).unwrap();
    let too_much = nth(&admin, 5).await;
    admin.press_button_labelled(too_much.message_id, "Confirm").unwrap();
    assert_eq!(
        nth(&admin, 6).await.body(),
        Some("Cannot debit 80 cr.: the user has 60 cr. available. Nothing changed.")
    );
    admin.press_button_labelled(too_much.message_id, "Confirm").unwrap();
    assert_eq!(nth(&admin, 7).await.body(), Some("Already refused."));
    admin.send_command("/debit 91 20.5 duplicate purchase").unwrap();
    let debit = nth(&admin, 8).await;
    admin.press_button_labelled(debit.message_id, "Confirm").unwrap();
    assert!(nth(&admin, 9).await.body().unwrap().starts_with("Debited 20.5 cr. from Gleb"));
    assert_eq!(available(&bot, gleb).await, Credits::new("39.5".parse().unwrap()).unwrap());

    // Cancel: nothing moves, and Confirm afterwards does nothing either.
    admin.send_command("/grant 91 1000 typo").unwrap();
    let typo = nth(&admin, 10).await;
    admin.press_button_labelled(typo.message_id, "Cancel").unwrap();
    assert_eq!(nth(&admin, 11).await.body(), Some("Cancelled; nothing changed."));
    admin.press_button_labelled(typo.message_id, "Confirm").unwrap();
    assert_eq!(nth(&admin, 12).await.body(), Some("Already cancelled."));
    assert_eq!(available(&bot, gleb).await, Credits::new("39.5".parse().unwrap()).unwrap());

    // Bad input gets the usage line.
    for bad in ["/grant 91", "/grant 91 -5 x", "/grant 91 abc x", "/debit 91 5"] {
        admin.send_command(bad).unwrap();
    }
    let usage = admin.wait_for_messages(16, WAIT).await.unwrap();
    assert!(
        usage[12..].iter().all(|m| m.body().unwrap().starts_with("Usage: /")),
        "{:?}",
        usage[12..].iter().map(|m| m.body()).collect::<Vec<_>>()
    );

    // The trail: one grant and one debit, by the admin, with the balances around them.
    let records = audit::recent(&bot.state.db, Some(gleb), 10).await.unwrap();
    let summary: Vec<(&str, &str, &str)> =
        records.iter().map(|r| (r.actor.as_str(), r.action.as_str(), r.reason.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("admin:90", "credits.debit", "duplicate purchase"),
            ("admin:90", "credits.grant", "goodwill for the outage"),
        ]
    );
    assert_eq!(records[1].before.as_ref().unwrap()["available"], "10");
    assert_eq!(records[1].after.as_ref().unwrap()["available"], "60");
    assert_eq!(records[0].after.as_ref().unwrap()["available"], "39.5");
    // The ledger has the adjustments, balanced, under the admin's name.
    assert_eq!(
        count(
            &bot,
            "SELECT COUNT(*) AS n FROM ledger_transactions WHERE kind = 'adjustment' AND actor = 'admin:90'"
        )
        .await,
        2
    );
    assert!(testkit::fixtures::ledger_violation(&bot.state.db).await.is_none());
    assert_eq!(gleb_chat.messages().len(), 1);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_ban_survives_the_users_next_message_and_a_restart() {
    let mut bot = spawn().await;
    let admin = started(&bot, ADMIN, "Admin").await;
    let gleb = started(&bot, 91, "Gleb").await;
    let id = stored(&bot, 91).await.id;

    admin.send_command("/ban 91 spam in groups").unwrap();
    assert_eq!(
        nth(&admin, 2).await.body().unwrap(),
        format!("Gleb · tg 91 · #{id} is banned. Reason: spam in groups")
    );

    // The next message (a profile update) is turned away politely, once; nothing is queued.
    let file = bot.telegram.register_file(testkit::audio::voice_note(5), "audio/ogg", Some(5));
    gleb.send_voice(&file).unwrap();
    let notice = nth(&gleb, 2).await;
    assert_eq!(notice.body(), Some(AdminText::YouAreBanned.render(Lang::En).as_str()));
    gleb.send_command("/image a cat").unwrap();
    gleb.send_command("/balance").unwrap();
    gleb.send_voice(&file).unwrap();
    settle(&bot).await;
    admin.send_command("/user 91").unwrap();
    let card = nth(&admin, 3).await;
    assert!(card.body().unwrap().contains("Banned: yes — spam in groups"), "{:?}", card.body());
    assert_eq!(gleb.messages().len(), 2, "one notice, then silence");
    let user = stored(&bot, 91).await;
    assert!(user.is_banned() && !user.is_blocked);
    assert_eq!(count(&bot, &format!("SELECT COUNT(*) AS n FROM jobs WHERE user_id = {id}")).await, 0);
    assert_eq!(count(&bot, "SELECT COUNT(*) AS n FROM ledger_holds").await, 0);

    // A restart changes nothing.
    bot.restart().await;
    gleb.send_voice(&file).unwrap();
    settle(&bot).await;
    admin.send_command("/user 91").unwrap();
    let card = nth(&admin, 4).await;
    assert!(card.body().unwrap().contains("Banned: yes"), "{:?}", card.body());
    assert_eq!(gleb.messages().len(), 2);
    assert_eq!(count(&bot, &format!("SELECT COUNT(*) AS n FROM jobs WHERE user_id = {id}")).await, 0);

    // Unbanned, the user is served again.
    admin.send_command("/unban @nobody").unwrap();
    assert_eq!(nth(&admin, 5).await.body(), Some("No user @nobody."));
    admin.send_command("/unban 91").unwrap();
    assert!(nth(&admin, 6).await.body().unwrap().ends_with("is unbanned."));
    admin.send_command("/unban 91").unwrap();
    assert!(nth(&admin, 7).await.body().unwrap().ends_with("is not banned."));
    gleb.send_command("/balance").unwrap();
    assert!(nth(&gleb, 3).await.body().unwrap().contains("10"), "served again");
    let actions: Vec<String> =
        audit::recent(&bot.state.db, Some(id), 10).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(actions, ["user.unban", "user.ban"], "a second unban writes nothing");
    bot.stop().await.unwrap();
}

/// A transcription job of `user`, queued with its price held, as the bot leaves one.
async fn queued_transcription(bot: &TestBot, user: UserId, chat: i64, seconds: u32) -> shared::ids::JobId {
    let input = TranscriptionInput {
        file_id: format!("file-{seconds}"),
        file_unique_id: format!("unique-{seconds}"),
        file_size: Some(40_000),
        mime_type: Some("audio/ogg".into()),
        file_name: None,
        duration_hint_s: seconds,
        source: MediaSource::Voice,
        reply_to: None,
    };
    shared::jobs::create_transcription(&bot.state.db, &bot.state.ledger, user, ChatId(chat), &input)
        .await
        .unwrap()
        .job_id
}

#[tokio::test]
async fn a_ban_cancels_the_users_queued_and_retrying_jobs_and_releases_their_holds() {
    let bot = spawn_bot(&[
        ("ADMIN_TELEGRAM_IDS", "90"),
        ("WELCOME_BONUS_CREDITS", "100"),
        ("FREE_MINUTES_PER_DAY", "0"),
    ])
    .await;
    let admin = started(&bot, ADMIN, "Admin").await;
    started(&bot, 91, "Gleb").await;
    let gleb = stored(&bot, 91).await.id;
    let db = &bot.state.db;
    let queued = queued_transcription(&bot, gleb, 91, 60).await;
    // One attempt failed and the job waits out its backoff: it is "running" under a lease.
    let retrying = queued_transcription(&bot, gleb, 91, 120).await;
    let lease = Duration::from_secs(60);
    assert!(matches!(shared::jobs::claim(db, retrying, 3, lease).await.unwrap(), Claim::Run { .. }));
    shared::jobs::defer(db, retrying, Duration::from_secs(30)).await.unwrap();
    let held = bot.state.ledger.balance(db, gleb).await.unwrap();
    assert_eq!((held.available, held.held), (Credits::whole(55), Credits::whole(45)), "15 + 30 held");

    admin.send_command("/ban 91 chargeback fraud").unwrap();
    assert_eq!(
        nth(&admin, 2).await.body().unwrap(),
        format!(
            "Gleb · tg 91 · #{gleb} is banned. Reason: chargeback fraud\n\
             2 unfinished jobs were cancelled and their holds released."
        )
    );
    for job in [queued, retrying] {
        let ended = format!(
            "SELECT COUNT(*) AS n FROM jobs WHERE id = '{job}' AND status = 'cancelled' AND error_code = 'banned'"
        );
        assert_eq!(count(&bot, &ended).await, 1, "{job} cancelled");
        let released =
            format!("SELECT COUNT(*) AS n FROM ledger_holds WHERE job_id = '{job}' AND status = 'released'");
        assert_eq!(count(&bot, &released).await, 1, "{job}'s hold released");
        // A worker that takes the job from the queue later finds it final and does nothing.
        assert_eq!(
            shared::jobs::claim(db, job, 3, lease).await.unwrap(),
            Claim::Finished(shared::entities::jobs::JobStatus::Cancelled)
        );
    }
    let balance = bot.state.ledger.balance(db, gleb).await.unwrap();
    assert_eq!(
        (balance.available, balance.held),
        (Credits::whole(100), Credits::ZERO),
        "the balance as before"
    );
    assert!(testkit::fixtures::ledger_violation(db).await.is_none());
    let record = &audit::recent(db, Some(gleb), 1).await.unwrap()[0];
    assert_eq!(record.action, "user.ban");
    let cancelled = record.after.as_ref().unwrap()["jobs_cancelled"].as_array().unwrap().len();
    assert_eq!(cancelled, 2);

    // Nothing can be queued for a banned user, even by a request that passed the ban check just before.
    let refused = shared::jobs::create_transcription(
        db,
        &bot.state.ledger,
        gleb,
        ChatId(91),
        &TranscriptionInput {
            file_id: "late".into(),
            file_unique_id: "late".into(),
            file_size: None,
            mime_type: None,
            file_name: None,
            duration_hint_s: 5,
            source: MediaSource::Voice,
            reply_to: None,
        },
    )
    .await;
    assert!(matches!(refused, Err(shared::jobs::JobError::Banned(user)) if user == gleb), "{refused:?}");
    assert_eq!(count(&bot, "SELECT COUNT(*) AS n FROM ledger_holds WHERE status = 'open'").await, 0);
    bot.stop().await.unwrap();
}

/// A transcription job of `user` that failed, its hold released, as the runner leaves one.
async fn failed_transcription(bot: &TestBot, user: UserId, chat: i64) -> shared::ids::JobId {
    let input = TranscriptionInput {
        file_id: "file-1".into(),
        file_unique_id: "unique-1".into(),
        file_size: Some(40_000),
        mime_type: Some("audio/ogg".into()),
        file_name: None,
        duration_hint_s: 60,
        source: MediaSource::Voice,
        reply_to: None,
    };
    let queued =
        shared::jobs::create_transcription(&bot.state.db, &bot.state.ledger, user, ChatId(chat), &input)
            .await
            .unwrap();
    shared::jobs::fail(&bot.state.db, &bot.state.ledger, queued.job_id, "provider_unavailable")
        .await
        .unwrap();
    queued.job_id
}

#[tokio::test]
async fn failed_jobs_are_listed_and_retried_once_with_a_fresh_hold() {
    let bot = spawn_bot(&[
        ("ADMIN_TELEGRAM_IDS", "90"),
        ("WELCOME_BONUS_CREDITS", "100"),
        ("FREE_MINUTES_PER_DAY", "0"),
    ])
    .await;
    let admin = started(&bot, ADMIN, "Admin").await;
    admin.send_command("/jobs failed").unwrap();
    assert_eq!(nth(&admin, 2).await.body(), Some("No failed jobs."));
    admin.send_command("/jobs").unwrap();
    assert_eq!(nth(&admin, 3).await.body(), Some("Usage: /jobs failed"));

    started(&bot, 91, "Gleb").await;
    let gleb = stored(&bot, 91).await.id;
    let failed = failed_transcription(&bot, gleb, 91).await;
    assert_eq!(available(&bot, gleb).await, Credits::whole(100), "the hold went back");
    let short = &failed.0.simple().to_string()[..8];

    admin.send_command("/jobs failed").unwrap();
    let list = nth(&admin, 4).await;
    let body = list.body().unwrap();
    assert!(body.contains(&format!("• {short} transcribe of tg 91 · #{gleb}")), "{body}");
    assert!(body.contains("provider_unavailable"), "{body}");
    let retry = list.callback_data_of(&format!("🔁 Retry {short}")).expect("a Retry button");
    admin.press_button(list.message_id, &retry).unwrap();
    let done = nth(&admin, 5).await;
    assert!(done.body().unwrap().starts_with(&format!("Job {short} queued again as ")), "{:?}", done.body());
    admin.press_button(list.message_id, &retry).unwrap();
    assert!(nth(&admin, 6).await.body().unwrap().starts_with("This job was already retried as "));

    // One new job: same user, input and chat, queued with its price held.
    let rows = bot
        .state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, status, input, chat_id, price_quoted FROM jobs WHERE user_id = $1 AND id <> $2",
            [gleb.into(), failed.into()],
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let new_job: uuid::Uuid = rows[0].try_get("", "id").unwrap();
    assert_eq!(rows[0].try_get::<String>("", "status").unwrap(), "queued");
    assert_eq!(rows[0].try_get::<i64>("", "chat_id").unwrap(), 91);
    assert_eq!(rows[0].try_get::<serde_json::Value>("", "input").unwrap()["file_id"], "file-1");
    let balance = bot.state.ledger.balance(&bot.state.db, gleb).await.unwrap();
    assert_eq!(balance.held.amount(), rows[0].try_get::<rust_decimal::Decimal>("", "price_quoted").unwrap());
    assert!(balance.held > Credits::ZERO);
    let record = &audit::recent(&bot.state.db, Some(gleb), 1).await.unwrap()[0];
    assert_eq!((record.actor.as_str(), record.action.as_str()), ("admin:90", "job.retry"));
    assert_eq!(record.after.as_ref().unwrap()["new_job"], new_job.to_string());

    // The list now says it was retried, without a button.
    admin.send_command("/jobs failed").unwrap();
    let list = nth(&admin, 7).await;
    assert!(list.body().unwrap().contains(&format!("→ retried as {}", &new_job.simple().to_string()[..8])));
    assert!(list.buttons().is_empty());
    assert!(testkit::fixtures::ledger_violation(&bot.state.db).await.is_none());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn audit_shows_the_latest_records_of_everyone_or_of_one_user() {
    let bot = spawn().await;
    let admin = started(&bot, ADMIN, "Admin").await;
    admin.send_command("/audit").unwrap();
    assert_eq!(nth(&admin, 2).await.body(), Some("The audit trail is empty."));
    started(&bot, 91, "Gleb").await;
    started(&bot, 92, "Vera").await;
    let (gleb, vera) = (stored(&bot, 91).await.id, stored(&bot, 92).await.id);
    admin.send_command("/ban 91 spam").unwrap();
    admin.send_command("/ban 92 fraud").unwrap();
    admin.wait_for_messages(4, WAIT).await.unwrap();

    admin.send_command("/audit").unwrap();
    let all = nth(&admin, 5).await;
    let body = all.body().unwrap();
    assert!(body.starts_with("Audit trail:\n"), "{body}");
    assert!(body.contains(&format!("admin:90 user.ban → #{vera} “fraud”")), "{body}");
    assert!(body.contains(&format!("admin:90 user.ban → #{gleb} “spam”")), "{body}");
    assert!(body.find("fraud").unwrap() < body.find("spam").unwrap(), "newest first: {body}");

    admin.send_command("/audit 91").unwrap();
    let one = nth(&admin, 6).await;
    let body = one.body().unwrap();
    assert!(body.starts_with(&format!("Audit trail of Gleb · tg 91 · #{gleb}:")), "{body}");
    assert!(body.contains("“spam”") && !body.contains("fraud"), "{body}");
    assert!(
        body.contains(
            r#"{"banned":false,"reason":null} → {"banned":true,"jobs_cancelled":[],"reason":"spam"}"#
        ),
        "{body}"
    );
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn the_application_cannot_update_delete_or_truncate_audit_records() {
    let bot = spawn().await;
    let db = &bot.state.db;
    let user = testkit::fixtures::user(db, TelegramUserId(91)).await;
    let txn = db.begin().await.unwrap();
    let id = audit::append(
        &txn,
        &audit::Entry {
            actor: audit::Actor::Admin(TelegramUserId(ADMIN)),
            action: audit::Action::UserBan,
            target: Some(user),
            before: Some(serde_json::json!({ "banned": false })),
            after: Some(serde_json::json!({ "banned": true })),
            reason: "spam".into(),
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();

    // The bot's own connection, as the application runs.
    for sql in [
        format!("UPDATE audit_log SET reason = 'nothing happened' WHERE id = {id}"),
        format!("DELETE FROM audit_log WHERE id = {id}"),
        "TRUNCATE audit_log".to_owned(),
    ] {
        let err = db.execute_unprepared(&sql).await.expect_err(&sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    // An appended record rolled back with its transaction leaves no trace.
    let txn = db.begin().await.unwrap();
    let rolled_back = audit::Entry {
        actor: audit::Actor::System,
        action: audit::Action::UserUnban,
        target: Some(user),
        before: None,
        after: None,
        reason: "rolled back".into(),
    };
    audit::append(&txn, &rolled_back).await.unwrap();
    drop(txn);
    let records = audit::recent(db, None, 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].id, records[0].reason.as_str()), (id, "spam"));
    // The privilege is gone too, for the role that owns the table (superusers skip
    // privilege checks, which is why the trigger is there).
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT has_table_privilege(current_user, 'audit_log', 'UPDATE') AS u, \
             has_table_privilege(current_user, 'audit_log', 'DELETE') AS d, \
             has_table_privilege(current_user, 'audit_log', 'INSERT') AS i, \
             (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su",
        ))
        .await
        .unwrap()
        .unwrap();
    let superuser: bool = row.try_get("", "su").unwrap();
    assert!(row.try_get::<bool>("", "i").unwrap());
    if !superuser {
        assert!(!row.try_get::<bool>("", "u").unwrap());
        assert!(!row.try_get::<bool>("", "d").unwrap());
    }
    bot.stop().await.unwrap();
}
