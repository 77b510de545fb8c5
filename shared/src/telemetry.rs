//! Logging setup shared by every binary.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Installs the global `tracing` subscriber: JSON lines in production, pretty
/// output in development. `RUST_LOG` overrides the default `info` filter.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,aws_config=warn,aws_smithy_runtime=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init` so tests that start the app twice in one process do not panic.
    let _ = match format {
        LogFormat::Json => {
            registry.with(fmt::layer().json().flatten_event(true).with_current_span(true)).try_init()
        }
        LogFormat::Pretty => registry.with(fmt::layer().pretty()).try_init(),
    };
}
