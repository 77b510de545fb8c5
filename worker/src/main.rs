//! `worker`: loads settings, starts telemetry, runs the job workers.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = shared::Settings::load_or_exit("worker");
    shared::telemetry::init(settings.log_format);
    match worker::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "worker failed");
            ExitCode::FAILURE
        }
    }
}
