//! A fake YooKassa API v3 for running the bot by hand.
//!
//! Environment:
//! - `FAKE_YOOKASSA_SHOP_ID`, `FAKE_YOOKASSA_SECRET_KEY`: the shop's
//!   credentials (default `123456` / `test_secret`);
//! - `FAKE_YOOKASSA_ADDR`: where to listen (default `127.0.0.1:0`, a random
//!   port); the first command-line argument takes precedence;
//! - `FAKE_YOOKASSA_NOTIFY_URL`: where to send notifications, e.g.
//!   `http://127.0.0.1:8080/webhooks/yookassa`;
//! - `FAKE_YOOKASSA_NOTIFY_SOURCE`: the local address they are sent from
//!   (e.g. `127.0.0.2`, to match `YOOKASSA_NOTIFY_IPS=127.0.0.2/32`).
//!
//! The first line on stdout is `listening on http://HOST:PORT`. Point the bot's
//! `YOOKASSA_API_URL` at `http://HOST:PORT/v3`, then complete payments from the
//! checkout page or a shell:
//!
//! ```text
//! curl -X POST http://HOST:PORT/_control/payments/<id>/succeed[?method=sbp]
//! curl -X POST 'http://HOST:PORT/_control/payments/<id>/cancel?party=payment_network&reason=insufficient_funds'
//! curl -X POST http://HOST:PORT/_control/payments/<id>/expire
//! curl -X POST 'http://HOST:PORT/_control/payments/<id>/notify?event=payment.succeeded&times=2&concurrently=true'
//! curl http://HOST:PORT/_control/payments
//! ```

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use fake_yookassa::FakeYooKassa;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    fake_yookassa::init_tracing();
    let shop_id = env("FAKE_YOOKASSA_SHOP_ID").unwrap_or_else(|| "123456".to_owned());
    let secret_key = env("FAKE_YOOKASSA_SECRET_KEY").unwrap_or_else(|| "test_secret".to_owned());
    let listen = std::env::args().nth(1).or_else(|| env("FAKE_YOOKASSA_ADDR"));
    let listen: SocketAddr =
        listen.as_deref().unwrap_or("127.0.0.1:0").parse().context("the listen address is not HOST:PORT")?;

    let mut builder = FakeYooKassa::builder(&shop_id, &secret_key).listen(listen).control_routes(true);
    if let Some(url) = env("FAKE_YOOKASSA_NOTIFY_URL") {
        builder = builder.notification_url(url);
    }
    let fake = builder.start().await.context("cannot start the fake YooKassa")?;
    if let Some(source) = env("FAKE_YOOKASSA_NOTIFY_SOURCE") {
        let source: IpAddr = source.parse().context("FAKE_YOOKASSA_NOTIFY_SOURCE is not an IP address")?;
        fake.set_notification_source(source)?;
    }

    println!("listening on {}", fake.base_url());
    println!("YOOKASSA_API_URL={} YOOKASSA_SHOP_ID={shop_id}", fake.api_url());
    shutdown_signal().await?;
    fake.shutdown();
    Ok(())
}

/// Ctrl-C, or SIGTERM from `docker stop` and process managers.
async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("cannot listen for Ctrl-C")?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("cannot listen for Ctrl-C")?;
    Ok(())
}
