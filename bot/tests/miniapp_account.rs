//! The Mini App's account area on the real bot: the history as a user reads
//! it after a transcription and a purchase, the packages, buying through
//! YooKassa (a page to pay on) and Stars (an invoice link), the settings, and
//! a job's status, which only its owner sees.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use futures::StreamExt as _;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use shared::{billing::money::Credits, ids::TelegramUserId, people::users};
use support::{TestBot, spawn_bot, spawn_bot_with};
use testkit::{fake_openai::FakeOpenAi, fake_yookassa::FakeYooKassa};

const SECRET: &str = "a-mini-app-session-secret-of-32-bytes-or-more";
const WAIT: Duration = Duration::from_secs(15);

/// The variables of a bot selling through `kassa`, with the Mini App on.
fn shop(kassa: &FakeYooKassa) -> Vec<(String, String)> {
    [
        ("MINIAPP_JWT_SECRET", SECRET.to_owned()),
        ("YOOKASSA_SHOP_ID", "123456".to_owned()),
        ("YOOKASSA_SECRET_KEY", "test_secret".to_owned()),
        ("YOOKASSA_RETURN_URL", "https://t.me/test_bot".to_owned()),
        ("YOOKASSA_API_URL", kassa.api_url()),
        ("YOOKASSA_NOTIFY_IPS", "127.0.0.2/32".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

async fn kassa_for(bot: &TestBot, kassa: &FakeYooKassa) {
    kassa.set_notification_url(format!("http://{}/webhooks/yookassa", bot.http));
    kassa.set_notification_source("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).unwrap();
}

/// Signs in as Telegram user `telegram_id` and answers the session token.
async fn sign_in(bot: &TestBot, telegram_id: i64, language: &str) -> String {
    let answer = support::miniapp_sign_in(bot, telegram_id, language).await;
    answer["token"].as_str().unwrap_or_default().to_owned()
}

/// `method path` with the token and an optional JSON body: status and JSON answer.
async fn call(
    bot: &TestBot,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = Client::new().request(method, format!("http://{}{path}", bot.http));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(bot: &TestBot, token: &str, path: &str) -> (u16, Value) {
    call(bot, Some(token), Method::GET, path, None).await
}

/// A worker consuming the bot's transcription queue in this process.
fn start_worker(bot: &TestBot) -> tokio::task::JoinHandle<()> {
    tokio::spawn(support::transcription_worker(bot, 1))
}

#[tokio::test]
async fn history_shows_a_transcription_and_a_purchase_as_the_user_reads_them() {
    let openai = FakeOpenAi::start().await.unwrap();
    let kassa = FakeYooKassa::start("123456", "test_secret").await.unwrap();
    let mut vars = shop(&kassa);
    vars.extend([
        ("STT_BASE_URL".to_owned(), openai.base_url()),
        ("FREE_MINUTES_PER_DAY".to_owned(), "0".to_owned()),
        ("WELCOME_BONUS_CREDITS".to_owned(), "50".to_owned()),
    ]);
    let bot = spawn_bot_with(move |_| vars).await;
    kassa_for(&bot, &kassa).await;
    let worker = start_worker(&bot);

    // A recording sent in chat: 30 s, charged 7.5 credits after a hold of 30.
    let user = bot.telegram.user(61, "Lena", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    let file = bot.telegram.register_file(testkit::audio::tone_wav(30, 180.0), "audio/wav", None);
    user.send_document(&file, "interview.wav", None).unwrap();
    bot.telegram
        .wait_until("the transcript footer", Duration::from_secs(60), |t| {
            t.messages(61).into_iter().find(|m| m.body().is_some_and(|b| b.starts_with("Duration 0:30")))
        })
        .await
        .unwrap();

    // A package bought from the app through YooKassa.
    let token = sign_in(&bot, 61, "en").await;
    let (status, bought) = call(
        &bot,
        Some(&token),
        Method::POST,
        "/api/purchase",
        Some(json!({"package_id": "p300", "method": "yookassa"})),
    )
    .await;
    assert_eq!(status, 200, "{bought}");
    let payment = kassa.payments().remove(0);
    assert_eq!(
        bought["confirmation_url"].as_str(),
        payment.confirmation.unwrap().confirmation_url.as_deref()
    );
    kassa.succeed(&payment.id).await.unwrap();
    let stored = users::find_by_telegram_id(&bot.db.db, TelegramUserId(61)).await.unwrap().unwrap();
    for _ in 0..100 {
        if bot.state.ledger.balance(&bot.db.db, stored.id).await.unwrap().available > Credits::whole(300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (status, history) = get(&bot, &token, "/api/history").await;
    assert_eq!(status, 200, "{history}");
    let lines = history["lines"].as_array().unwrap();
    let shown: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|line| {
            (
                line["kind"].as_str().unwrap(),
                line["credits"].as_str().unwrap(),
                line["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // One line per job and payment, newest first; no hold or capture lines.
    assert_eq!(
        shown,
        [("purchase", "+330", "succeeded"), ("transcription", "-7.5", "succeeded"), ("bonus", "+50", "")],
        "{history}"
    );
    assert_eq!((lines[0]["amount"].as_str(), lines[0]["currency"].as_str()), (Some("399"), Some("RUB")));
    assert_eq!(lines[0]["method"], "yookassa");
    assert_eq!((lines[1]["duration_seconds"].as_i64(), lines[1]["held"].as_str()), (Some(30), Some("0")));
    assert!(history["next"].is_null());

    // Two pages of one and two lines read the same.
    let (_, first) = get(&bot, &token, "/api/history?limit=1").await;
    assert_eq!(first["lines"].as_array().unwrap().len(), 1);
    let next = first["next"].as_str().unwrap();
    let (_, rest) = get(&bot, &token, &format!("/api/history?limit=5&before={next}")).await;
    assert_eq!(rest["lines"].as_array().unwrap()[..], lines[1..]);
    let (status, body) = get(&bot, &token, "/api/history?before=nonsense").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_cursor")));

    // The job's status, for its owner only.
    let job_id = lines[1]["job_id"].as_str().unwrap();
    let (status, job) = get(&bot, &token, &format!("/api/jobs/{job_id}")).await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(
        (job["kind"].as_str(), job["status"].as_str(), job["price_charged"].as_str()),
        (Some("transcription"), Some("succeeded"), Some("7.5"))
    );
    assert!(job["finished_at"].is_string() && job["error_code"].is_null(), "{job}");
    let stranger = sign_in(&bot, 62, "ru").await;
    for path in
        [format!("/api/jobs/{job_id}"), format!("/api/jobs/{}", uuid::Uuid::now_v7()), "/api/jobs/42".into()]
    {
        let (status, body) = get(&bot, &stranger, &path).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{path}");
    }
    let (_, strangers) = get(&bot, &stranger, "/api/history").await;
    // Only their own welcome gift: none of the other user's lines.
    let lines = strangers["lines"].as_array().unwrap();
    assert!(
        lines.iter().all(|line| line["kind"] == "bonus"),
        "another user sees someone else's lines: {strangers}"
    );

    worker.abort();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn packages_are_bought_through_yookassa_or_with_a_stars_invoice_link() {
    let kassa = FakeYooKassa::start("123456", "test_secret").await.unwrap();
    let vars = shop(&kassa);
    let bot = spawn_bot_with(move |_| vars).await;
    kassa_for(&bot, &kassa).await;
    let token = sign_in(&bot, 71, "ru").await;

    let (status, on_sale) = get(&bot, &token, "/api/packages").await;
    assert_eq!(status, 200, "{on_sale}");
    assert_eq!(on_sale["methods"], json!(["yookassa", "stars"]));
    let p300 = &on_sale["packages"][1];
    assert_eq!(
        (
            p300["id"].as_str(),
            p300["total_credits"].as_str(),
            p300["price_rub"].as_str(),
            p300["price_stars"].as_u64()
        ),
        (Some("p300"), Some("330"), Some("399"), Some(270)),
        "{on_sale}"
    );

    let buy = |package: &str, method: &str| json!({ "package_id": package, "method": method });
    let (status, body) =
        call(&bot, Some(&token), Method::POST, "/api/purchase", Some(buy("p100", "yookassa"))).await;
    assert_eq!(status, 200, "{body}");
    let payment = kassa.payments().remove(0);
    assert_eq!(payment.amount.value, rust_decimal::Decimal::from(149));
    assert_eq!(body["confirmation_url"].as_str(), payment.confirmation.unwrap().confirmation_url.as_deref());

    // Stars: a link to an invoice whose payload is our pending payment.
    let (status, body) =
        call(&bot, Some(&token), Method::POST, "/api/purchase", Some(buy("p300", "stars"))).await;
    assert_eq!(status, 200, "{body}");
    let invoice = bot.telegram.invoices().remove(0);
    assert_eq!(body["invoice_link"].as_str(), invoice.link.as_deref());
    assert_eq!((invoice.currency.as_str(), invoice.total_amount), ("XTR", 270));
    let user = users::find_by_telegram_id(&bot.db.db, TelegramUserId(71)).await.unwrap().unwrap();
    assert!(
        shared::payments::accept_pre_checkout(
            &bot.db.db,
            &bot.state.settings.packages,
            &bot.state.ledger.pricing().plans,
            &invoice.payload,
            user.telegram_id,
            "XTR",
            270
        )
        .await
        .unwrap(),
        "the invoice is one the bot accepts at pre-checkout"
    );

    // Unknown packages and methods are refused with a reason.
    let (status, body) =
        call(&bot, Some(&token), Method::POST, "/api/purchase", Some(buy("p7", "stars"))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unknown_package")));
    let (status, body) =
        call(&bot, Some(&token), Method::POST, "/api/purchase", Some(buy("p100", "cash"))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn settings_round_trip_and_every_route_wants_a_session() {
    let bot = spawn_bot(&[("MINIAPP_JWT_SECRET", SECRET)]).await;
    let token = sign_in(&bot, 81, "ru").await;
    let settings = |language: &str, transcription: &str| json!({ "language": language, "transcription_language": transcription });

    let (status, body) = get(&bot, &token, "/api/settings").await;
    assert_eq!((status, body), (200, settings("ru", "auto")));
    let (status, body) =
        call(&bot, Some(&token), Method::PUT, "/api/settings", Some(settings("en", "de"))).await;
    assert_eq!((status, body), (200, settings("en", "de")));
    let (_, body) = get(&bot, &token, "/api/settings").await;
    assert_eq!(body, settings("en", "de"));
    let user = users::find_by_telegram_id(&bot.db.db, TelegramUserId(81)).await.unwrap().unwrap();
    assert_eq!(user.language.code(), "en", "the bot speaks the chosen language too");

    // A bad value changes nothing, the good one beside it included.
    for bad in [settings("ru", "deu"), settings("fr", "auto"), json!({"transcription_language": "EN"})] {
        let (status, body) = call(&bot, Some(&token), Method::PUT, "/api/settings", Some(bad.clone())).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{bad}");
    }
    let (_, body) = get(&bot, &token, "/api/settings").await;
    assert_eq!(body, settings("en", "de"));
    let (_, body) = call(
        &bot,
        Some(&token),
        Method::PUT,
        "/api/settings",
        Some(json!({"transcription_language": "auto"})),
    )
    .await;
    assert_eq!(body, settings("en", "auto"));

    // Without YooKassa, only Stars are offered and YooKassa is refused with a reason.
    let (_, on_sale) = get(&bot, &token, "/api/packages").await;
    assert_eq!(on_sale["methods"], json!(["stars"]));
    let (status, body) = call(
        &bot,
        Some(&token),
        Method::POST,
        "/api/purchase",
        Some(json!({"package_id": "p100", "method": "yookassa"})),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (503, Some("yookassa_unavailable")));

    let job = format!("/api/jobs/{}", uuid::Uuid::now_v7());
    for (method, path) in [
        (Method::GET, "/api/history"),
        (Method::GET, "/api/packages"),
        (Method::POST, "/api/purchase"),
        (Method::GET, "/api/settings"),
        (Method::PUT, "/api/settings"),
        (Method::GET, job.as_str()),
    ] {
        let (status, body) = call(&bot, None, method.clone(), path, Some(json!({}))).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("no_token")), "{method} {path}");
    }
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_job_reads_as_held_while_queued_and_as_zero_once_cancelled() {
    let bot = spawn_bot(&[
        ("MINIAPP_JWT_SECRET", SECRET),
        ("WELCOME_BONUS_CREDITS", "100"),
        ("FREE_MINUTES_PER_DAY", "0"),
    ])
    .await;
    let user = bot.telegram.user(91, "Max", Some("en"));
    user.send_command("/start").unwrap();
    user.wait_for_messages(1, WAIT).await.unwrap();
    let voice = bot.telegram.register_file(vec![1u8; 3000], "audio/ogg", Some(120));
    user.send_voice(&voice).unwrap();
    user.wait_for_messages(2, WAIT).await.unwrap();
    let token = sign_in(&bot, 91, "en").await;

    // Queued: one line, nothing charged yet, 30 credits reserved for it.
    let (_, history) = get(&bot, &token, "/api/history").await;
    let job = &history["lines"][0];
    assert_eq!(
        (job["kind"].as_str(), job["status"].as_str(), job["credits"].as_str(), job["held"].as_str()),
        (Some("transcription"), Some("queued"), Some("0"), Some("30")),
        "{history}"
    );
    let (_, status) = get(&bot, &token, &format!("/api/jobs/{}", job["job_id"].as_str().unwrap())).await;
    assert_eq!((status["status"].as_str(), status["price_quoted"].as_str()), (Some("queued"), Some("30")));
    assert!(status["price_charged"].is_null() && status["finished_at"].is_null(), "{status}");

    // A live view of the job: its state now, then each change until it ends.
    let events = Client::new()
        .get(format!("http://{}/api/jobs/{}/events", bot.http, job["job_id"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut stream = events.bytes_stream();
    let mut first = String::new();
    while !first.contains("\n\n") {
        let chunk = stream.next().await.unwrap().unwrap();
        first.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(first.contains("event: status") && first.contains("\"status\":\"queued\""), "{first}");

    // Cancelled: the same single line, its reservation given back.
    user.send_command("/cancel").unwrap();
    user.wait_for_messages(3, WAIT).await.unwrap();
    let rest = tokio::time::timeout(WAIT, async {
        let mut rest = String::new();
        while let Some(chunk) = stream.next().await {
            rest.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        }
        rest
    })
    .await
    .expect("the stream ends once the job has ended");
    assert!(rest.contains("\"status\":\"cancelled\""), "{rest}");
    let (_, history) = get(&bot, &token, "/api/history").await;
    let lines = history["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "the job and the welcome bonus: {history}");
    assert_eq!(
        (lines[0]["status"].as_str(), lines[0]["credits"].as_str(), lines[0]["held"].as_str()),
        (Some("cancelled"), Some("0"), Some("0"))
    );
    assert_eq!((lines[1]["kind"].as_str(), lines[1]["credits"].as_str()), (Some("bonus"), Some("+100")));
    bot.stop().await.unwrap();
}
