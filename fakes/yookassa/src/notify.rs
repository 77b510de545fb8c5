//! HTTP notifications to the shop, as YooKassa sends them.
//!
//! A notification counts as delivered only on HTTP 200; anything else is
//! kept and re-sent on a short, configurable interval (YooKassa keeps trying
//! for 24 hours), or at once by `redeliver_failed`.

use std::{net::IpAddr, sync::Arc, time::Duration};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::{Error, Shared, model::Event};

/// How long one delivery may take before it counts as failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How failed notifications are re-sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The pause between rounds of re-sending.
    pub interval: Duration,
    /// Attempts per notification, the first included; 1 turns retries off.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { interval: Duration::from_millis(500), max_attempts: 10 }
    }
}

/// What came of one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered with this status.
    Status(StatusCode),
    /// No answer: connection refused, timeout, ...
    Failed(String),
}

impl DeliveryOutcome {
    /// The receiver's status, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status(status) => Some(*status),
            Self::Failed(_) => None,
        }
    }

    /// Whether YooKassa would consider the notification delivered (HTTP 200).
    pub fn is_delivered(&self) -> bool {
        self.status() == Some(StatusCode::OK)
    }
}

/// One attempt to deliver a notification.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// The event sent.
    pub event: Event,
    /// The payment or refund id.
    pub object_id: String,
    /// Where it was sent.
    pub url: String,
    /// The local address the request was sent from, when one was set.
    pub source: Option<IpAddr>,
    /// 1 for the first attempt of an automatic notification, then 2, 3, ...;
    /// 0 for sends requested with `notify`.
    pub attempt: u32,
    /// What the receiver said.
    pub outcome: DeliveryOutcome,
    /// When the attempt finished.
    pub at: DateTime<Utc>,
}

/// A notification waiting to be re-sent.
#[derive(Clone, Debug)]
pub(crate) struct PendingNotification {
    pub event: Event,
    pub object_id: String,
    pub body: Value,
    pub attempts: u32,
}

/// The body YooKassa posts.
pub(crate) fn body(event: Event, object: Value) -> Value {
    json!({"type": "notification", "event": event.as_str(), "object": object})
}

/// A client sending from `source` (any 127.x.y.z works on Linux loopback).
pub(crate) fn client(source: Option<IpAddr>) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(source)
        .timeout(DELIVERY_TIMEOUT)
        .build()
        .map_err(Error::Client)
}

/// Sends one notification once and records the attempt; `None` when no
/// notification URL is set.
pub(crate) async fn send(
    shared: &Shared,
    event: Event,
    object_id: &str,
    body: &Value,
    attempt: u32,
) -> Option<Delivery> {
    let (url, client, source) = {
        let store = shared.lock();
        (store.notification_url.clone()?, store.client.clone(), store.notification_source)
    };
    let outcome = match client.post(&url).json(body).send().await {
        Ok(response) => DeliveryOutcome::Status(response.status()),
        Err(err) => DeliveryOutcome::Failed(error_chain(&err)),
    };
    tracing::debug!(%event, object_id, %url, ?outcome, "notification sent");
    let delivery =
        Delivery { event, object_id: object_id.to_owned(), url, source, attempt, outcome, at: Utc::now() };
    shared.lock().deliveries.push(delivery.clone());
    Some(delivery)
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The first attempt of an automatic notification; a failure is queued for retries.
pub(crate) async fn announce(shared: &Shared, event: Event, object_id: &str, object: Value) {
    let body = body(event, object);
    let Some(delivery) = send(shared, event, object_id, &body, 1).await else { return };
    if !delivery.outcome.is_delivered() {
        let mut store = shared.lock();
        if store.retry.max_attempts > 1 {
            store.failed.push(PendingNotification {
                event,
                object_id: object_id.to_owned(),
                body,
                attempts: 1,
            });
        }
    }
}

/// Re-sends every queued notification once; those still failing stay queued
/// until they run out of attempts.
pub(crate) async fn redeliver(shared: &Shared) -> Vec<Delivery> {
    let pending = std::mem::take(&mut shared.lock().failed);
    let mut deliveries = Vec::with_capacity(pending.len());
    for mut notification in pending {
        notification.attempts += 1;
        let attempt = notification.attempts;
        let Some(delivery) =
            send(shared, notification.event, &notification.object_id, &notification.body, attempt).await
        else {
            // No URL any more: keep it for when one is set again.
            shared.lock().failed.push(notification);
            continue;
        };
        if !delivery.outcome.is_delivered() {
            let mut store = shared.lock();
            if notification.attempts < store.retry.max_attempts {
                store.failed.push(notification);
            }
        }
        deliveries.push(delivery);
    }
    deliveries
}

/// Re-sends failed notifications every `interval` until the fake shuts down.
pub(crate) async fn retry_loop(shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let interval = shared.lock().retry.interval;
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shared.retry_changed.notified() => continue,
            _ = shutdown.changed() => return,
        }
        if !shared.lock().failed.is_empty() {
            redeliver(&shared).await;
        }
    }
}
