//! A worker's own HTTP server, when `WORKER_HTTP_ADDR` is set: `/health` for
//! the orchestrator's liveness check and `/metrics` for Prometheus (the live
//! job, provider and Telegram instruments of this process). It has no token:
//! keep it on an internal network.

use axum::{
    Router,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tokio_util::sync::CancellationToken;

/// `/health` and `/metrics`.
pub fn router() -> Router {
    Router::new().route("/health", get(|| async { "ok" })).route("/metrics", get(metrics))
}

async fn metrics() -> Response {
    match shared::platform::metrics::encode() {
        Ok(body) => ([(header::CONTENT_TYPE, shared::platform::metrics::CONTENT_TYPE)], body).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot encode the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Serves [`router`] on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// When the server fails.
pub async fn serve(listener: tokio::net::TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    axum::serve(listener, router())
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .map_err(|err| anyhow::anyhow!(err).context("worker HTTP server failed"))
}
