//! `worker`: loads settings, starts telemetry, runs the job workers; `worker audio-sandbox`
//! decodes one recording for a running worker.

use std::process::ExitCode;

fn main() -> ExitCode {
    // The worker starts itself as a sandbox to decode one recording (see `worker::sandbox`).
    if std::env::args().nth(1).as_deref() == Some(worker::sandbox::SANDBOX_ARG) {
        return worker::sandbox::serve();
    }
    run()
}

#[tokio::main]
async fn run() -> ExitCode {
    let settings = shared::Settings::load_or_exit("worker");
    shared::platform::telemetry::init(settings.log_format);
    match worker::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "worker failed");
            ExitCode::FAILURE
        }
    }
}
