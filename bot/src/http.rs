//! HTTP routes of the bot process.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde_json::json;

use crate::startup::AppState;

/// Health, readiness and the payment webhook; Telegram's webhook is merged in by `startup`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready))
        .route("/webhooks/yookassa", post(crate::payments::yookassa_webhook))
        .with_state(state)
}

/// Ready when PostgreSQL, Redis and the bucket all answer.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let database = state.db.ping().await.map_err(|e| e.to_string());
    let mut redis = state.redis.clone();
    let redis =
        redis::cmd("PING").query_async::<String>(&mut redis).await.map(drop).map_err(|e| e.to_string());
    let storage = state.store.ping().await.map_err(|e| e.to_string());

    let ok = database.is_ok() && redis.is_ok() && storage.is_ok();
    let show = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.clone(),
    };
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    if !ok {
        tracing::warn!(database = %show(&database), redis = %show(&redis), storage = %show(&storage), "not ready");
    }
    (status, Json(json!({ "database": show(&database), "redis": show(&redis), "storage": show(&storage) })))
}
