//! `demo`: the demo chat page with the fake Telegram and fake OpenAI servers, so the
//! real bot and workers run without a bot token or provider keys (`scripts/run` starts
//! it when `TELEGRAM_BOT_TOKEN` is not set).
//!
//! Environment (all optional):
//! - `DEMO_ADDR`: where the page listens (default `127.0.0.1:8080`; open it at `/demo`);
//! - `DEMO_TELEGRAM_ADDR`, `DEMO_OPENAI_ADDR`: where the fakes listen (default a free
//!   loopback port each);
//! - `DEMO_BOT_URL`: the bot's own HTTP server (`http://127.0.0.1:8090`), to which every
//!   other path is forwarded.
//!
//! On stdout it prints the settings the bot and workers need (`TELEGRAM_BOT_TOKEN=...`,
//! `TELEGRAM_API_URL=...`, `STT_BASE_URL=...`), one a line, then `demo page: URL`.
//! Stops on Ctrl-C / SIGTERM.

use std::net::SocketAddr;

use anyhow::Context as _;
use testkit::demo::{self, DemoChat, DemoUser};
use testkit::fake_openai::FakeOpenAi;
use testkit::fake_telegram::{DEFAULT_TOKEN, FakeTelegram, FakeTelegramConfig};

fn address(var: &str, default: &str) -> anyhow::Result<SocketAddr> {
    let value = std::env::var(var).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned());
    value.parse().with_context(|| format!("{var}={value:?} is not HOST:PORT"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let page = address("DEMO_ADDR", "127.0.0.1:8080")?;
    let telegram = FakeTelegramConfig {
        token: DEFAULT_TOKEN.to_owned(),
        bot_username: "tgbot_demo_bot".to_owned(),
        bot_first_name: "tgbot".to_owned(),
        listen: address("DEMO_TELEGRAM_ADDR", "127.0.0.1:0")?,
    };
    let telegram = FakeTelegram::start_with(telegram).await.context("starting the fake Telegram server")?;
    let openai = FakeOpenAi::start_on(address("DEMO_OPENAI_ADDR", "127.0.0.1:0")?, None)
        .await
        .context("starting the fake OpenAI server")?;
    let bot_url = std::env::var("DEMO_BOT_URL").ok().filter(|v| !v.is_empty());
    let chat = DemoChat::new(telegram.clone(), DemoUser::default(), bot_url);
    let listener = tokio::net::TcpListener::bind(page).await.with_context(|| format!("binding {page}"))?;

    println!("TELEGRAM_BOT_TOKEN={}", telegram.token());
    println!("TELEGRAM_API_URL={}", telegram.api_url());
    println!("STT_BASE_URL={}", openai.base_url());
    println!("demo page: http://{}/demo", listener.local_addr()?);

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let stop = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    };
    axum::serve(listener, demo::router(chat))
        .with_graceful_shutdown(stop)
        .await
        .context("serving the demo")?;
    telegram.shutdown().await;
    Ok(())
}
