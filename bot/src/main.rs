//! `bot`: loads settings, starts telemetry, runs the bot.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = shared::Settings::load_or_exit("bot");
    shared::platform::telemetry::init(settings.log_format);
    match bot::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "bot failed");
            ExitCode::FAILURE
        }
    }
}
