//! `spawn_bot`: the real bot against real Postgres, Redis and S3, with the
//! fake Telegram Bot API, on a random port.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

pub mod browser;

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use shared::Settings;
use testkit::{TestDb, TestRedis, TestS3, fake_telegram::FakeTelegram};
use tokio_util::sync::CancellationToken;

pub struct TestBot {
    pub telegram: FakeTelegram,
    pub db: TestDb,
    pub http: SocketAddr,
    pub state: bot::startup::AppState,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Starts the bot; `extra` overrides or adds environment variables.
pub async fn spawn_bot(extra: &[(&str, &str)]) -> TestBot {
    let extra: Vec<(String, String)> =
        extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    spawn_bot_with(move |_| extra).await
}

/// A fake YooKassa shop and the bot selling through it, notifications
/// coming from 127.0.0.2 (the only allowed address).
pub async fn spawn_with_yookassa(extra: &[(&str, &str)]) -> (testkit::fake_yookassa::FakeYooKassa, TestBot) {
    let kassa = testkit::fake_yookassa::FakeYooKassa::start("123456", "test_secret").await.unwrap();
    let api_url = kassa.api_url();
    let mut vars = vec![
        ("YOOKASSA_SHOP_ID", "123456"),
        ("YOOKASSA_SECRET_KEY", "test_secret"),
        ("YOOKASSA_RETURN_URL", "https://t.me/test_bot"),
        ("YOOKASSA_API_URL", api_url.as_str()),
        ("YOOKASSA_NOTIFY_IPS", "127.0.0.2/32"),
    ];
    vars.extend_from_slice(extra);
    let bot = spawn_bot(&vars).await;
    kassa.set_notification_url(format!("http://{}/webhooks/yookassa", bot.http));
    kassa.set_notification_source("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).unwrap();
    (kassa, bot)
}

/// Starts the bot with variables that may depend on its HTTP address.
pub async fn spawn_bot_with(extra: impl FnOnce(SocketAddr) -> Vec<(String, String)>) -> TestBot {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = listener.local_addr().unwrap();
    let telegram = FakeTelegram::start().await;
    let db = TestDb::migrated().await;
    let redis = TestRedis::new();
    let s3 = TestS3::new();
    let mut vars: HashMap<String, String> =
        testkit::service_env(&db, &redis, &s3).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    vars.insert("TELEGRAM_BOT_TOKEN".into(), telegram.token().to_owned());
    vars.insert("TELEGRAM_API_URL".into(), telegram.api_url().to_string());
    vars.insert("QUEUE_NAMESPACE".into(), redis.namespace.clone());
    vars.insert("LOG_FORMAT".into(), "pretty".into());
    // The worker runs inside this test binary, which cannot start itself as a sandbox; the
    // worker crate's own tests cover the child-process sandbox with the real executable.
    vars.insert("AUDIO_ISOLATION".into(), "thread".into());
    for (key, value) in extra(http) {
        vars.insert(key, value);
    }
    let settings = Settings::from_map(&vars).expect("test settings are valid");
    let (state, bot) = bot::startup::connect(settings).await.expect("bot connects");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(bot::startup::serve(state.clone(), bot, listener, shutdown.clone()));
    // Ready once the command menu is published (after getMe).
    for _ in 0..100 {
        if !telegram.calls("setMyCommands").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    TestBot { telegram, db, http, state, shutdown, task: Some(task) }
}

/// The secret the webhook bots of these tests are registered with.
pub const WEBHOOK_SECRET: &str = "s3cret-Token_1";

/// A bot in webhook mode (`/telegram/hook`, [`WEBHOOK_SECRET`]) with `extra` settings.
pub async fn spawn_webhook_bot(extra: &[(&str, &str)]) -> TestBot {
    let extra: Vec<(String, String)> =
        extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    spawn_bot_with(|addr| {
        let mut vars = vec![
            ("TELEGRAM_MODE".into(), "webhook".into()),
            ("TELEGRAM_WEBHOOK_URL".into(), format!("http://{addr}/telegram/hook")),
            ("TELEGRAM_WEBHOOK_SECRET".into(), WEBHOOK_SECRET.into()),
        ];
        vars.extend(extra);
        vars
    })
    .await
}

impl TestBot {
    /// POSTs `update` to the bot's webhook with `secret` in Telegram's header
    /// (none when `None`), as Telegram or a forger would; returns the answer's status.
    pub async fn post_update(&self, update: &serde_json::Value, secret: Option<&str>) -> u16 {
        let mut request =
            reqwest::Client::new().post(format!("http://{}/telegram/hook", self.http)).json(update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// Stops the bot and returns how it ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.task.take() {
            Some(task) => tokio::time::timeout(Duration::from_secs(20), task).await??,
            None => Ok(()),
        }
    }
}

impl TestBot {
    /// Stops the bot and starts it again on the same database, Redis namespace,
    /// storage and fake Telegram, as a deployment restarts it; returns once the
    /// new process has published its command menu.
    pub async fn restart(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("the bot stops in time")
                .expect("the bot task ends")
                .expect("the bot stops cleanly");
        }
        let settings = (*self.state.settings).clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.http = listener.local_addr().unwrap();
        let menus_before = self.telegram.calls("setMyCommands").len();
        let (state, bot) = bot::startup::connect(settings).await.expect("bot connects again");
        self.shutdown = CancellationToken::new();
        self.task =
            Some(tokio::spawn(bot::startup::serve(state.clone(), bot, listener, self.shutdown.clone())));
        self.state = state;
        self.telegram
            .wait_until("the restarted bot's command menu", Duration::from_secs(10), |t| {
                (t.calls("setMyCommands").len() > menus_before).then_some(())
            })
            .await
            .unwrap();
    }
}

impl Drop for TestBot {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The worker's maintenance pass (the sweeper that pushes jobs whose lease
/// ended, so retries and hand-overs happen) over this bot's services,
/// ticking often.
#[allow(dead_code)] // Each test binary compiles this module; not all start a worker.
pub fn maintenance(bot: &TestBot) -> impl std::future::Future<Output = ()> + use<> {
    let state = &bot.state;
    let services = shared::platform::services::Services {
        db: state.db.clone(),
        redis: state.redis.clone(),
        store: state.store.clone(),
    };
    let context = worker::maintenance_context(&state.settings, &services, state.bot.clone())
        .expect("maintenance context");
    worker::maintenance::run_forever(context, Duration::from_millis(250))
}

/// Signs in to the Mini App as Telegram user `telegram_id`, with init data
/// signed for this bot's token, and answers the sign-in's JSON
/// (`{token, expires_in, user}`).
pub async fn miniapp_sign_in(bot: &TestBot, telegram_id: i64, language: &str) -> serde_json::Value {
    let auth_date = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let user = serde_json::json!({ "id": telegram_id, "first_name": "Test", "language_code": language });
    let init_data = miniapp::sign_init_data(
        &[("user", &user.to_string()), ("auth_date", &auth_date.to_string())],
        bot.telegram.token(),
    );
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/api/auth/telegram", bot.http))
        .json(&serde_json::json!({ "init_data": init_data }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["token"].is_string(), "no token: {answer}");
    answer
}

/// This bot's queues as a worker consumes them: woken by every push.
#[allow(dead_code)] // Used only by the worker helpers below.
fn consumed_queue(bot: &TestBot) -> shared::jobs::queue::JobQueue {
    let state = &bot.state;
    shared::jobs::queue::JobQueue::new(state.redis.clone(), &state.settings.queue_namespace)
        .listening(&state.settings.redis_url)
        .expect("a Redis URL")
}

/// The worker's transcription consumer over this bot's services, in this
/// process, taking `concurrency` jobs at once.
#[allow(dead_code)] // Each test binary compiles this module; not all start a worker.
pub fn transcription_worker(
    bot: &TestBot,
    concurrency: usize,
) -> impl std::future::Future<Output = ()> + use<> {
    let state = &bot.state;
    worker::supervise_transcribe(
        consumed_queue(bot),
        worker::transcribe_context(
            &state.settings,
            worker::common(&state.settings, state.db.clone(), state.bot.clone()),
            state.store.clone(),
        )
        .expect("transcribe context"),
        concurrency,
    )
}

/// The worker's summary consumer over this bot's services, in this process.
#[allow(dead_code)] // Each test binary compiles this module; not all start a worker.
pub fn summary_worker(bot: &TestBot, concurrency: usize) -> impl std::future::Future<Output = ()> + use<> {
    let state = &bot.state;
    worker::supervise_summary(
        consumed_queue(bot),
        worker::summary_context(
            &state.settings,
            worker::common(&state.settings, state.db.clone(), state.bot.clone()),
            state.store.clone(),
        )
        .expect("summary context"),
        concurrency,
    )
}

/// A finished picture of `user`, drawn for `prompt` and kept in storage as
/// `png`, as the worker leaves it; answers the job's id.
#[allow(dead_code)] // Each test binary compiles this module; not all draw.
pub async fn stored_picture(bot: &TestBot, user: shared::ids::UserId, prompt: &str, png: Vec<u8>) -> String {
    use shared::media::images::{self, ImageRequest};
    let request = ImageRequest::Generate { prompt: prompt.to_owned() };
    let chat = shared::ids::ChatId(user.0);
    let job = images::create(&bot.state.db, &bot.state.ledger, user, chat, &request).await.unwrap().job_id;
    let key = storage::ObjectKey::new(user.0, job.0, &storage::ObjectName::parse("image.png").unwrap());
    let size = png.len();
    bot.state.store.put(&key, png.into(), "image/png").await.unwrap();
    let kind = shared::entities::media_objects::MediaKind::ImageOutput;
    shared::media::transcripts::record_media(&bot.state.db, user, job, key.as_str(), kind, "image/png", size)
        .await
        .unwrap();
    job.to_string()
}
