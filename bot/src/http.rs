//! HTTP routes of the bot process.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::json;

use crate::startup::AppState;

/// Health, readiness and the payment webhook; Telegram's webhook is merged in by `startup`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/webhooks/yookassa", post(crate::payments::yookassa_webhook))
        .with_state(state.clone())
        .merge(crate::miniapp::router(state))
}

/// Prometheus figures, for the holder of `METRICS_TOKEN` only.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.settings.metrics_token else { return StatusCode::NOT_FOUND.into_response() };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|given| token.matches(given.as_bytes())) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match shared::metrics::render(&state.db, &state.ledger).await {
        Ok(body) => ([(header::CONTENT_TYPE, shared::metrics::CONTENT_TYPE)], body).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "metrics failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// A dependency's answer to a ping within two seconds, or why not.
async fn answered<E: std::fmt::Display>(
    ping: impl std::future::Future<Output = Result<(), E>>,
) -> Result<(), String> {
    match tokio::time::timeout(std::time::Duration::from_secs(2), ping).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("no answer in 2 s".to_owned()),
    }
}

/// Ready when PostgreSQL, Redis and the bucket all answer.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let database = answered(state.db.ping()).await;
    let mut redis = state.redis.clone();
    let redis =
        answered(async { redis::cmd("PING").query_async::<String>(&mut redis).await.map(drop) }).await;
    let storage = answered(state.store.ping()).await;

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

/// The address a request really came from: the peer, or, behind a trusted
/// proxy, the nearest untrusted address in `X-Forwarded-For`.
pub(crate) fn client_ip(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted_proxies: &shared::payments::yookassa::IpNets,
) -> std::net::IpAddr {
    if !trusted_proxies.contains(peer) {
        return peer;
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded.into_iter().rev().find(|ip| !trusted_proxies.contains(*ip)).unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use shared::payments::yookassa::IpNets;

    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxies: IpNets = "10.0.0.0/8".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 185.71.76.1, 10.0.0.7".parse().unwrap());
        let direct: IpAddr = "203.0.113.9".parse().unwrap();
        // Not from a proxy: the header is ignored (anyone can write it).
        assert_eq!(client_ip(direct, &headers, &proxies), direct);
        // From a proxy: the nearest address the proxies did not add.
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(client_ip(proxy, &headers, &proxies), "185.71.76.1".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &proxies), proxy);
    }
}
