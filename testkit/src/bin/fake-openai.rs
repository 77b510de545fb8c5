//! `fake-openai`: the fake OpenAI-compatible API as a process, for running
//! the worker locally. Usage: `fake-openai [ADDR]` (default 127.0.0.1:0);
//! `FAKE_OPENAI_API_KEY` makes it require that key. Stops on Ctrl-C / SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let addr = addr.parse().with_context(|| format!("`{addr}` is not a listen address"))?;
    let key = std::env::var("FAKE_OPENAI_API_KEY").ok().filter(|k| !k.is_empty());
    let fake = fake_openai::FakeOpenAi::start_on(addr, key).await.context("cannot start the fake")?;
    let base = fake.base_url();
    println!("listening on {}", base.trim_end_matches("/v1"));
    println!("set STT_BASE_URL and IMAGE_BASE_URL to {base}");
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    Ok(())
}
