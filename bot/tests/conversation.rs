//! The bot as a user meets it, through the fake Telegram Bot API.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use sea_orm::{EntityTrait, PaginatorTrait};
use shared::entities::jobs;
use shared::{ids::TelegramUserId, people::users};
use support::spawn_bot;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn start_and_help_answer_in_the_users_language() {
    let bot = spawn_bot(&[]).await;
    let anna = bot.telegram.user(101, "Анна", Some("ru"));
    let john = bot.telegram.user(102, "John", Some("en-GB"));
    anna.send_command("/start").unwrap();
    john.send_command("/start").unwrap();
    let ru = anna.wait_for_messages(1, WAIT).await.unwrap();
    let en = john.wait_for_messages(1, WAIT).await.unwrap();
    assert!(ru[0].body().unwrap().starts_with("Здравствуйте, Анна!"), "{:?}", ru[0].body());
    assert!(en[0].body().unwrap().starts_with("Hello, John!"), "{:?}", en[0].body());

    john.send_command("/help").unwrap();
    let help = john.wait_for_messages(2, WAIT).await.unwrap();
    assert!(help[1].body().unwrap().contains("15 credits a minute"), "{:?}", help[1].body());

    // The command menu exists in both languages.
    let menu_ru = bot.telegram.commands(None, "");
    let menu_en = bot.telegram.commands(None, "en");
    assert!(menu_ru.iter().any(|(c, d)| c == "balance" && d.contains("Баланс")), "{menu_ru:?}");
    assert!(menu_en.iter().any(|(c, d)| c == "balance" && d.contains("Balance")), "{menu_en:?}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn balance_shows_the_welcome_bonus_and_free_minutes() {
    let bot = spawn_bot(&[("WELCOME_BONUS_CREDITS", "5")]).await;
    let user = bot.telegram.user(7, "Ivan", Some("ru"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    user.send_command("/balance").unwrap();
    let replies = user.wait_for_messages(2, WAIT).await.unwrap();
    let balance = replies[1].body().unwrap();
    assert!(balance.contains("Баланс: 5 кредитов"), "{balance}");
    assert!(balance.contains("Бесплатно сегодня: 3:00 мин."), "{balance}");
    // A second /start grants nothing more.
    user.send_command("/start").unwrap();
    user.send_command("/balance").unwrap();
    let replies = user.wait_for_messages(4, WAIT).await.unwrap();
    assert!(replies[3].body().unwrap().contains("Баланс: 5 кредитов"));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_voice_note_within_free_minutes_is_queued_with_its_price_shown() {
    let bot = spawn_bot(&[]).await;
    let user = bot.telegram.user(9, "Olga", Some("ru"));
    let voice = bot.telegram.register_file(vec![1u8; 2000], "audio/ogg", Some(40));
    user.send_voice(&voice).unwrap();
    let replies = user.wait_for_messages(1, WAIT).await.unwrap();
    let status = replies[0].body().unwrap();
    assert!(status.contains("Стоимость: 0 кредитов, бесплатно 0:40 мин."), "{status}");
    // The bot records the status message right after sending it.
    let mut stored = Vec::new();
    for _ in 0..100 {
        stored = jobs::Entity::find().all(&bot.db.db).await.unwrap();
        if stored.first().is_some_and(|job| job.status_message_id.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status_message_id, Some(replies[0].message_id));
    let balance = bot.state.ledger.balance(&bot.db.db, stored[0].user_id).await.unwrap();
    assert_eq!(balance.free_seconds_left_today, 140);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn without_credit_the_user_sees_the_price_and_a_buy_button_and_nothing_is_queued() {
    let bot = spawn_bot(&[]).await;
    let user = bot.telegram.user(10, "Petr", Some("ru"));
    let voice = bot.telegram.register_file(vec![1u8; 50_000], "audio/ogg", Some(600));
    user.send_voice(&voice).unwrap();
    let replies = user.wait_for_messages(1, WAIT).await.unwrap();
    let text = replies[0].body().unwrap();
    // 600 s - 180 free = 420 s at 15 a minute.
    assert!(text.contains("нужно 105, на балансе 0"), "{text}");
    assert!(replies[0].callback_data_of("Пополнить баланс").is_some());
    assert_eq!(jobs::Entity::find().count(&bot.db.db).await.unwrap(), 0);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn non_audio_and_oversized_files_are_refused_before_anything_is_charged() {
    let bot = spawn_bot(&[]).await;
    let user = bot.telegram.user(11, "Kate", Some("en"));
    let pdf = bot.telegram.register_file(b"%PDF-1.7".to_vec(), "application/pdf", None);
    user.send_document(&pdf, "contract.pdf", None).unwrap();
    let big = bot.telegram.register_file(vec![0u8; 21_000_000], "audio/mpeg", None);
    user.send_document(&big, "lecture.mp3", None).unwrap();
    let replies = user.wait_for_messages(2, WAIT).await.unwrap();
    assert!(replies[0].body().unwrap().contains("not audio or video"), "{:?}", replies[0].body());
    assert!(replies[1].body().unwrap().contains("up to 20 MB"), "{:?}", replies[1].body());
    assert_eq!(jobs::Entity::find().count(&bot.db.db).await.unwrap(), 0);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn health_and_readiness_over_http() {
    let bot = spawn_bot(&[]).await;
    let base = format!("http://{}", bot.http);
    let health = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("{base}/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"database": "ok", "redis": "ok", "storage": "ok"}));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_need_the_token_and_count_jobs_and_users() {
    let bot = spawn_bot(&[("METRICS_TOKEN", "scrape-secret"), ("WELCOME_BONUS_CREDITS", "100")]).await;
    let user = bot.telegram.user(14, "Ada", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    let voice = bot.telegram.register_file(vec![1u8; 3000], "audio/ogg", Some(60));
    user.send_voice(&voice).unwrap();
    user.wait_for_messages(2, WAIT).await.unwrap();

    let url = format!("http://{}/metrics", bot.http);
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(client.get(&url).bearer_auth("wrong").send().await.unwrap().status(), 401);
    let response = client.get(&url).bearer_auth("scrape-secret").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let body = response.text().await.unwrap();
    for line in [
        "tgbot_jobs{kind=\"transcribe\",status=\"queued\"} 1",
        "tgbot_users 1",
        "tgbot_open_holds 1",
        "tgbot_credits_outstanding 100.0",
    ] {
        assert!(body.lines().any(|l| l == line), "{line} missing from:\n{body}");
    }
    let lag = body.lines().find_map(|l| l.strip_prefix("tgbot_oldest_queued_job_seconds ")).unwrap();
    assert!(lag.parse::<f64>().unwrap() >= 0.0);
    bot.stop().await.unwrap();

    // Without a token the endpoint does not exist.
    let plain = spawn_bot(&[]).await;
    let status = reqwest::get(format!("http://{}/metrics", plain.http)).await.unwrap().status();
    assert_eq!(status, 404);
    plain.stop().await.unwrap();
}

/// The value of `series` (name and labels as written) in an OpenMetrics body; 0 when absent.
fn sample(body: &str, series: &str) -> f64 {
    body.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok()).unwrap_or(0.0)
}

#[tokio::test]
async fn live_metrics_count_updates_as_they_are_handled() {
    let bot = spawn_bot(&[("METRICS_TOKEN", "scrape-secret")]).await;
    let scrape = async || {
        let response = reqwest::Client::new()
            .get(format!("http://{}/metrics", bot.http))
            .bearer_auth("scrape-secret")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    };
    let handled = "tgbot_updates_total{kind=\"message\",outcome=\"handled\"}";
    let timed = "tgbot_update_duration_seconds_count{kind=\"message\"}";
    let before = scrape().await;

    let user = bot.telegram.user(15, "Grace", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    user.send_command("/balance").unwrap();
    user.wait_for_messages(2, WAIT).await.unwrap();
    let after = scrape().await;

    // Other tests of this binary may run in the same process: at least ours moved them.
    assert!(sample(&after, handled) >= sample(&before, handled) + 2.0, "{after}");
    assert!(sample(&after, timed) >= sample(&before, timed) + 2.0, "{after}");
    // The business gauges are still there beside them.
    assert!(after.lines().any(|l| l == "tgbot_users 1"), "{after}");
    assert!(after.contains("# TYPE tgbot_update_duration_seconds histogram"), "{after}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn cancel_returns_the_hold_and_history_shows_it() {
    let bot = spawn_bot(&[("WELCOME_BONUS_CREDITS", "100"), ("FREE_MINUTES_PER_DAY", "0")]).await;
    let user = bot.telegram.user(12, "Max", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    let voice = bot.telegram.register_file(vec![1u8; 3000], "audio/ogg", Some(120));
    user.send_voice(&voice).unwrap();
    let queued = user.wait_for_messages(2, WAIT).await.unwrap();
    assert!(queued[1].body().unwrap().contains("Price: 30 credits"), "{:?}", queued[1].body());
    user.send_command("/cancel").unwrap();
    user.send_command("/cancel").unwrap();
    let replies = user.wait_for_messages(4, WAIT).await.unwrap();
    assert!(replies[2].body().unwrap().contains("30 credits are back"), "{:?}", replies[2].body());
    assert!(replies[3].body().unwrap().starts_with("Nothing to cancel"), "{:?}", replies[3].body());
    user.send_command("/history").unwrap();
    let history = user.wait_for_messages(5, WAIT).await.unwrap();
    let lines = history[4].body().unwrap();
    // One line per job and per bonus, as a person reads them: no reservation lines.
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[1].ends_with("Transcription — nothing charged"), "{lines:?}");
    assert!(lines[2].ends_with("Bonus — +100 credits"), "{lines:?}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn language_sets_the_transcription_language_the_worker_sends() {
    let bot = spawn_bot(&[]).await;
    let user = bot.telegram.user(13, "Ира", Some("ru"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    user.send_command("/language").unwrap();
    let choose = user.wait_for_messages(2, WAIT).await.unwrap().remove(1);
    assert!(
        choose.body().unwrap().contains("Определять автоматически"),
        "auto is the default: {:?}",
        choose.body()
    );
    let german = choose.callback_data_of("Deutsch").expect("a Deutsch button");
    user.press_button(choose.message_id, &german).unwrap();
    let set = user.wait_for_messages(3, WAIT).await.unwrap().remove(2);
    assert!(set.body().unwrap().contains("Deutsch"), "{:?}", set.body());
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(13)).await.unwrap().unwrap();
    let chosen = shared::people::settings::transcription_language(&bot.db.db, stored.id).await.unwrap();
    assert_eq!(chosen.code(), Some("de"), "what the worker passes to the provider");

    // Back to automatic detection.
    user.send_command("/language").unwrap();
    let choose = user.wait_for_messages(4, WAIT).await.unwrap().remove(3);
    assert!(choose.body().unwrap().contains("Deutsch"), "the current choice is shown: {:?}", choose.body());
    let auto = choose.callback_data_of("Определять автоматически").unwrap();
    user.press_button(choose.message_id, &auto).unwrap();
    user.wait_for_messages(5, WAIT).await.unwrap();
    let chosen = shared::people::settings::transcription_language(&bot.db.db, stored.id).await.unwrap();
    assert_eq!(chosen.code(), None);
    bot.stop().await.unwrap();
}
