//! The fake Telegram Bot API server as a process, for manual runs and shell scripts.
//!
//! Usage: `fake-telegram [LISTEN_ADDR]` (or `FAKE_TELEGRAM_LISTEN`; default `127.0.0.1:0`).
//! The token comes from `FAKE_TELEGRAM_TOKEN` (default `123456:TEST-TOKEN`). The first
//! line on stdout is `listening on http://ADDR`, the second `token TOKEN`. The control
//! API (`/_control/...`) is described in the `fake_telegram` crate docs.

use std::net::SocketAddr;

use anyhow::Context as _;
use fake_telegram::{DEFAULT_TOKEN, FakeTelegram, FakeTelegramConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("FAKE_TELEGRAM_LISTEN").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listen: SocketAddr = listen.parse().with_context(|| format!("listen address {listen:?}"))?;
    let token = std::env::var("FAKE_TELEGRAM_TOKEN").ok().filter(|v| !v.is_empty());
    let config = FakeTelegramConfig {
        token: token.unwrap_or_else(|| DEFAULT_TOKEN.to_owned()),
        listen,
        ..FakeTelegramConfig::default()
    };
    let tg = FakeTelegram::start_with(config).await.context("starting the fake Telegram server")?;
    println!("listening on http://{}", tg.addr());
    println!("token {}", tg.token());

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("waiting for Ctrl-C")?,
        _ = term.recv() => {}
    }
    tg.shutdown().await;
    Ok(())
}
