//! Privacy requests through the fake Telegram: `/mydata` sends a ZIP of what
//! we keep, `/deletemydata` deletes it and leaves the books balanced.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read as _;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use shared::ids::TelegramUserId;
use shared::{billing::money::Credits, people::users};
use support::{TestBot, spawn_bot_with};
use testkit::fake_openai::FakeOpenAi;
use testkit::fake_telegram::{Payment, TestUser};

const WAIT: Duration = Duration::from_secs(20);

/// A worker consuming the bot's queue in this process, with its maintenance.
fn start_worker(bot: &TestBot) -> tokio::task::JoinHandle<()> {
    let transcribing = support::transcription_worker(bot, 1);
    let sweeping = support::maintenance(bot);
    tokio::spawn(async move {
        tokio::join!(transcribing, sweeping);
    })
}

async fn spawn(openai: &FakeOpenAi) -> TestBot {
    let base = openai.base_url();
    spawn_bot_with(move |_| {
        vec![
            ("STT_BASE_URL".into(), base),
            ("FREE_MINUTES_PER_DAY".into(), "0".into()),
            ("WELCOME_BONUS_CREDITS".into(), "50".into()),
        ]
    })
    .await
}

/// Sends `file` and waits for its transcript's footer.
async fn transcribe(bot: &TestBot, user: &TestUser, file: &testkit::fake_telegram::FileRef) {
    let before = user.messages().len();
    user.send_document(file, "interview.wav", None).unwrap();
    bot.telegram
        .wait_until("the transcript footer", WAIT, |t| {
            t.messages(user.id())
                .into_iter()
                .skip(before)
                .find(|m| m.body().is_some_and(|b| b.starts_with("Duration 0:30")))
        })
        .await
        .unwrap_or_else(|err| {
            panic!("{err}: {:#?}", user.messages().iter().map(|m| m.body()).collect::<Vec<_>>())
        });
}

/// Buys the 300-credit package with 270 Stars, as in Telegram.
async fn buy_with_stars(bot: &TestBot, user: &TestUser) {
    let before = user.messages().len();
    user.send_command("/buy").unwrap();
    let packages = user.wait_for_messages(before + 1, WAIT).await.unwrap();
    let list = &packages[before];
    user.press_button(list.message_id, &list.callback_data_of("330 credits for 270 ⭐").unwrap()).unwrap();
    bot.telegram.wait_until("an invoice", WAIT, |t| (!t.invoices().is_empty()).then_some(())).await.unwrap();
    let invoice = bot.telegram.invoices().remove(0);
    user.pay(&Payment {
        currency: "XTR".into(),
        total_amount: 270,
        invoice_payload: invoice.payload.clone(),
        telegram_payment_charge_id: "stxPrivacy1".into(),
        provider_payment_charge_id: String::new(),
    })
    .unwrap();
    bot.telegram
        .wait_until("the payment's confirmation", WAIT, |t| {
            t.messages(user.id())
                .into_iter()
                .find(|m| m.body().is_some_and(|b| b.contains("Payment received")))
        })
        .await
        .unwrap();
}

/// The user's transcript row (the one there is).
async fn transcript_of(bot: &TestBot, user: shared::ids::UserId) -> shared::entities::transcripts::Model {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    shared::entities::transcripts::Entity::find()
        .filter(shared::entities::transcripts::Column::UserId.eq(user))
        .one(&bot.db.db)
        .await
        .unwrap()
        .expect("a transcript")
}

/// A file of the ZIP, as text.
fn read(archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> String {
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} is in the ZIP"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[tokio::test]
async fn mydata_sends_a_zip_of_profile_history_payments_transcripts_and_picture_links() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = spawn(&openai).await;
    let worker = start_worker(&bot);
    let user = bot.telegram.user(61, "Vera", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    let file = bot.telegram.register_file(testkit::audio::tone_wav(30, 180.0), "audio/wav", None);
    transcribe(&bot, &user, &file).await;
    buy_with_stars(&bot, &user).await;
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(61)).await.unwrap().unwrap();
    let png = b"\x89PNG\r\n\x1a\n a fox".to_vec();
    let picture_job = support::stored_picture(&bot, stored.id, "a red fox", png.clone()).await;

    let before = user.messages().len();
    user.send_command("/mydata").unwrap();
    let zip_message =
        bot.telegram
            .wait_until("the ZIP", WAIT, |t| {
                t.messages(61).into_iter().skip(before).find(|m| {
                    m.document.as_ref().is_some_and(|d| d.file_name.as_deref() == Some("mydata.zip"))
                })
            })
            .await
            .unwrap();
    let caption = zip_message.body().unwrap();
    assert!(caption.starts_with("Your data: profile, credit history, payments, transcripts"), "{caption}");
    assert!(caption.contains("24 h"), "{caption}");
    let bytes = zip_message.document.unwrap().bytes.to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    names.sort();

    // The transcript, as .txt and .srt, named by its date and job.
    let transcript = transcript_of(&bot, stored.id).await;
    let stem =
        format!("transcripts/{}_{}", transcript.created_at.format("%Y-%m-%d"), transcript.job_id.0.simple());
    assert_eq!(
        names,
        [
            "history.txt".to_owned(),
            "payments.json".to_owned(),
            "pictures.json".to_owned(),
            "profile.json".to_owned(),
            "support.json".to_owned(),
            format!("{stem}.srt"),
            format!("{stem}.txt"),
        ]
    );

    let profile: serde_json::Value = serde_json::from_str(&read(&mut archive, "profile.json")).unwrap();
    assert_eq!(profile["telegram_id"], 61);
    assert_eq!(profile["first_name"], "Vera");
    assert_eq!(profile["language"], "en");
    // 50 welcome credits, 7.5 for 30 s, 330 bought.
    assert_eq!(profile["balance"]["available"], "372.5");

    let history = read(&mut archive, "history.txt");
    assert!(history.starts_with("Your history:"), "{history}");
    assert!(history.contains("Transcription 0:30 — 7.5 credits"), "{history}");
    assert!(history.contains("Bonus"), "{history}");
    assert!(history.contains("Telegram Stars · 270 ⭐ · paid"), "{history}");

    let payments: serde_json::Value = serde_json::from_str(&read(&mut archive, "payments.json")).unwrap();
    let payments = payments.as_array().unwrap();
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0]["provider"], "stars");
    assert_eq!(payments[0]["provider_payment_id"], "stxPrivacy1");
    assert_eq!(payments[0]["status"], "succeeded");
    assert_eq!(payments[0]["currency"], "XTR");
    assert_eq!(payments[0]["amount"], "270");

    let txt = read(&mut archive, &format!("{stem}.txt"));
    let stored_txt =
        bot.state.store.get(&storage::ObjectKey::parse(&transcript.txt_key).unwrap()).await.unwrap();
    assert_eq!(txt.as_bytes(), &stored_txt[..]);
    assert!(!txt.trim().is_empty());
    let srt = read(&mut archive, &format!("{stem}.srt"));
    assert!(srt.contains(" --> "), "{srt}");

    let pictures: serde_json::Value = serde_json::from_str(&read(&mut archive, "pictures.json")).unwrap();
    let pictures = pictures.as_array().unwrap();
    assert_eq!(pictures.len(), 1);
    assert_eq!(pictures[0]["job_id"], picture_job);
    assert_eq!(pictures[0]["prompt"], "a red fox");
    let link = pictures[0]["url"].as_str().unwrap();
    let fetched = reqwest::get(link).await.unwrap();
    assert!(fetched.status().is_success(), "{link}: {}", fetched.status());
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), png);

    worker.abort();
    bot.stop().await.unwrap();
}

/// One number from a query.
async fn count(bot: &TestBot, sql: &str) -> i64 {
    let row =
        bot.db.db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn deletemydata_deletes_objects_and_personal_rows_and_leaves_the_books_balanced() {
    let openai = FakeOpenAi::start().await.unwrap();
    let bot = spawn(&openai).await;
    let state = &bot.state;
    let worker = start_worker(&bot);
    let user = bot.telegram.user(62, "Oleg", Some("en"));
    user.set_username(Some("oleg_k"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    let file = bot.telegram.register_file(testkit::audio::tone_wav(30, 180.0), "audio/wav", None);
    transcribe(&bot, &user, &file).await;
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(62)).await.unwrap().unwrap();
    assert_eq!(stored.username.as_deref(), Some("oleg_k"));
    let picture = support::stored_picture(&bot, stored.id, "a red fox", b"\x89PNG fox".to_vec()).await;
    let picture = shared::ids::JobId(picture.parse().unwrap());
    shared::media::images::remember_idea(&bot.db.db, stored.id, picture, "a fox", "1. A red fox")
        .await
        .unwrap();
    let german = shared::people::settings::TranscriptionLanguage::Chosen("de".into());
    shared::people::settings::set_transcription_language(&bot.db.db, stored.id, &german).await.unwrap();
    worker.abort();

    // Two unfinished jobs with their holds: one waiting, one a worker had started.
    let voice = |unique: &str| shared::jobs::TranscriptionInput {
        file_id: unique.into(),
        file_unique_id: unique.into(),
        file_size: Some(1000),
        mime_type: None,
        file_name: Some("secret-plans.ogg".into()),
        duration_hint_s: 20,
        source: shared::jobs::MediaSource::Voice,
        reply_to: None,
    };
    let chat = shared::ids::ChatId(62);
    let waiting = shared::jobs::create_transcription(&bot.db.db, &state.ledger, stored.id, chat, &voice("w"))
        .await
        .unwrap();
    let running = shared::jobs::create_transcription(&bot.db.db, &state.ledger, stored.id, chat, &voice("r"))
        .await
        .unwrap();
    bot.db
        .db
        .execute_unprepared(&format!("UPDATE jobs SET status = 'running' WHERE id = '{}'", running.job_id))
        .await
        .unwrap();
    let balance = state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    // 50 welcome credits, 7.5 charged, 2 × 5 held for 20 s each.
    assert_eq!(
        (balance.available, balance.held),
        (Credits::new("32.5".parse().unwrap()).unwrap(), Credits::whole(10))
    );
    let keys: Vec<String> = bot
        .db
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT object_key FROM media_objects WHERE user_id = {} ORDER BY id", stored.id.0),
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "object_key").unwrap())
        .collect();
    // The recording, its .txt, .srt and .vtt, and the picture.
    assert_eq!(keys.len(), 5, "{keys:?}");
    for key in &keys {
        assert!(state.store.exists(&storage::ObjectKey::parse(key).unwrap()).await.unwrap(), "{key}");
    }

    // The question says what stays; "Cancel" deletes nothing.
    let before = user.messages().len();
    user.send_command("/deletemydata").unwrap();
    let question = user.wait_for_messages(before + 1, WAIT).await.unwrap().remove(before);
    let text = question.body().unwrap();
    assert!(text.contains("Your balance of 32.5 credits stays on your account"), "{text}");
    user.press_button(question.message_id, &question.callback_data_of("Cancel").unwrap()).unwrap();
    let answer = user.wait_for_messages(before + 2, WAIT).await.unwrap().remove(before + 1);
    assert_eq!(answer.body(), Some("Nothing was deleted."));
    assert_eq!(count(&bot, "SELECT count(*) FROM media_objects WHERE deleted_at IS NOT NULL").await, 0);

    // Asked again and confirmed.
    user.send_command("/deletemydata").unwrap();
    let question = user.wait_for_messages(before + 3, WAIT).await.unwrap().remove(before + 2);
    let confirm = question.callback_data_of("Delete my data").unwrap();
    user.press_button(question.message_id, &confirm).unwrap();
    let done = user.wait_for_messages(before + 4, WAIT).await.unwrap().remove(before + 3);
    let text = done.body().unwrap();
    assert!(text.starts_with("Your data is deleted. Your balance of 42.5 credits is kept."), "{text}");
    // The question lost its buttons: it cannot be answered twice by mistake.
    assert!(bot.telegram.message(62, question.message_id).unwrap().buttons().is_empty());

    // Jobs cancelled, each hold released exactly once through the ledger.
    for job in [waiting.job_id, running.job_id] {
        let cancelled = format!(
            "SELECT count(*) FROM jobs WHERE id = '{job}' AND status = 'cancelled' AND error_code = 'erased'"
        );
        assert_eq!(count(&bot, &cancelled).await, 1, "{job} cancelled");
        let released =
            format!("SELECT count(*) FROM ledger_holds WHERE job_id = '{job}' AND status = 'released'");
        assert_eq!(count(&bot, &released).await, 1, "{job}'s hold released");
        let postings =
            format!("SELECT count(*) FROM ledger_transactions WHERE idempotency_key = 'release:{job}'");
        assert_eq!(count(&bot, &postings).await, 1, "{job} released once");
    }
    // The books: every transaction balanced, no negative balance, held equals open holds.
    let unbalanced = "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries \
                      GROUP BY transaction_id HAVING SUM(amount) <> 0) t";
    assert_eq!(count(&bot, unbalanced).await, 0);
    assert_eq!(testkit::fixtures::ledger_violation(&bot.db.db).await, None);
    let balance = state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    assert_eq!(
        (balance.available, balance.held),
        (Credits::new("42.5".parse().unwrap()).unwrap(), Credits::ZERO)
    );

    // Every object gone from storage, each removal recorded on its row.
    for key in &keys {
        assert!(
            !state.store.exists(&storage::ObjectKey::parse(key).unwrap()).await.unwrap(),
            "{key} still stored"
        );
    }
    let user_id = stored.id.0;
    let recorded = format!(
        "SELECT count(*) FROM media_objects WHERE user_id = {user_id} \
         AND deleted_at IS NOT NULL AND deletion_reason = 'user_request'"
    );
    assert_eq!(count(&bot, &recorded).await, 5);
    // Personal rows gone or cleared.
    let forgotten = format!(
        "SELECT count(*) FROM transcripts WHERE user_id = {user_id} AND deleted_at IS NOT NULL \
         AND deletion_reason = 'user_request' AND text IS NULL AND file_unique_id IS NULL"
    );
    assert_eq!(count(&bot, &forgotten).await, 1);
    for table in ["idea_messages", "user_settings", "transcript_summaries"] {
        assert_eq!(
            count(&bot, &format!("SELECT count(*) FROM {table} WHERE user_id = {user_id}")).await,
            0,
            "{table}"
        );
    }
    let prompts = format!(
        "SELECT count(*) FROM jobs WHERE user_id = {user_id} AND (input <> '{{}}' OR file_unique_id IS NOT NULL)"
    );
    assert_eq!(count(&bot, &prompts).await, 0, "no prompt or file name is left on the jobs");
    // The account stays as an anonymous tombstone that keeps the balance.
    let tombstone = users::find(&bot.db.db, stored.id).await.unwrap().unwrap();
    assert_eq!((tombstone.username, tombstone.first_name.as_str()), (None, ""));
    assert_eq!(
        count(&bot, &format!("SELECT count(*) FROM users WHERE id = {user_id} AND erased_at IS NOT NULL"))
            .await,
        1
    );
    // The audit trail says who asked and how much went, with no personal data.
    let audited = format!(
        "SELECT count(*) FROM audit_log WHERE target_user_id = {user_id} AND action = 'user.erase' \
         AND actor = 'user:' || (SELECT telegram_id FROM users WHERE id = {user_id}) \
         AND (after->>'objects_deleted')::int = 5"
    );
    assert_eq!(count(&bot, &audited).await, 1);

    // Asked and confirmed once more: nothing left to cancel, nothing moves in the books.
    let postings = count(&bot, "SELECT count(*) FROM ledger_transactions").await;
    user.send_command("/deletemydata").unwrap();
    let question = user.wait_for_messages(before + 5, WAIT).await.unwrap().remove(before + 4);
    user.press_button(question.message_id, &confirm).unwrap();
    let done = user.wait_for_messages(before + 6, WAIT).await.unwrap().remove(before + 5);
    assert!(done.body().unwrap().starts_with("Your data is deleted."), "{:?}", done.body());
    assert_eq!(count(&bot, "SELECT count(*) FROM ledger_transactions").await, postings);

    // Back again: a fresh start (no second welcome bonus), and the same file is
    // transcribed again at the normal price, not answered from the deleted transcript.
    let worker = start_worker(&bot);
    let before = user.messages().len();
    user.send_command("/start").unwrap();
    let welcome = user.wait_for_messages(before + 1, WAIT).await.unwrap().remove(before);
    assert!(welcome.body().unwrap().contains("Oleg"), "{:?}", welcome.body());
    let balance = state.ledger.balance(&bot.db.db, stored.id).await.unwrap();
    assert_eq!(balance.available, Credits::new("42.5".parse().unwrap()).unwrap());
    transcribe(&bot, &user, &file).await;
    let after: Vec<_> =
        user.messages().into_iter().skip(before + 1).filter_map(|m| m.body().map(str::to_owned)).collect();
    assert!(!after.iter().any(|b| b.contains("transcribed this file before")), "{after:#?}");
    assert!(after.iter().any(|b| b == "Duration 0:30, 7.5 credits charged."), "{after:#?}");
    assert_eq!(testkit::fixtures::ledger_violation(&bot.db.db).await, None);
    worker.abort();
    bot.stop().await.unwrap();
}
