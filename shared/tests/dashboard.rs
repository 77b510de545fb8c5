//! The Grafana dashboard in `deploy/` asks only for metrics the processes
//! report: a renamed metric that the dashboard still names fails here.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeSet, path::Path, time::Duration};

use prometheus_client::registry::Registry;
use shared::{
    entities::{jobs::JobKind, ledger_transactions::TransactionKind, payments::PaymentProvider},
    platform::metrics::{
        JobOutcome, Live, PREFIX, PaymentOutcome, PostingResult, Provider, ProviderStatus, TelegramCall,
        TelegramOutcome, UpdateKind, UpdateOutcome,
    },
};

/// The business gauges `shared::metrics::render` reads from PostgreSQL.
const BUSINESS: [&str; 10] = [
    "tgbot_jobs",
    "tgbot_provider_calls",
    "tgbot_oldest_queued_job_seconds",
    "tgbot_payments",
    "tgbot_users",
    "tgbot_open_holds",
    "tgbot_credits_outstanding",
    "tgbot_open_holds_credits",
    "tgbot_revenue_today_credits",
    "tgbot_revenue_month_credits",
];

/// Every series name the live instruments can produce (counters end in
/// `_total`, histograms add `_bucket`, `_sum` and `_count`).
fn live_series() -> BTreeSet<String> {
    // A family shows in the text once it has a series: give each one.
    let live = Live::default();
    let (job, took) = (JobKind::Transcribe, Duration::from_millis(10));
    live.update_handled(UpdateKind::Message, UpdateOutcome::Handled, took);
    live.job_started(job, Some(took));
    live.job_attempted(job, took);
    live.job_finished(job, JobOutcome::Succeeded);
    live.job_retried(job);
    live.job_handed_back(job);
    live.provider_request(Provider::Stt, ProviderStatus::Ok, took);
    live.telegram_request(TelegramCall::Send, TelegramOutcome::RateLimited, took);
    live.telegram_retry(TelegramCall::Send);
    live.payment(PaymentProvider::Stars, PaymentOutcome::Credited);
    live.ledger_posting(TransactionKind::Capture, PostingResult::Posted);
    let mut registry = Registry::with_prefix(PREFIX);
    live.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let Some(declared) = line.strip_prefix("# TYPE ") else { continue };
        let (name, kind) = declared.split_once(' ').unwrap();
        match kind {
            "counter" => {
                names.insert(format!("{name}_total"));
            }
            "histogram" => {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
            _ => {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

fn exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", serde_json::Value::String(expr)) => out.push(expr.clone()),
                    _ => exprs(value, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| exprs(item, out)),
        _ => {}
    }
}

#[test]
fn the_dashboard_names_only_reported_metrics() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/grafana/dashboards/tgbot.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut found = Vec::new();
    exprs(&dashboard, &mut found);
    assert!(found.len() > 20, "only {} queries: is the dashboard still there?", found.len());

    let mut known = live_series();
    assert!(known.len() >= 15 && known.contains("tgbot_jobs_finished_total"), "{known:?}");
    known.extend(BUSINESS.iter().map(|name| (*name).to_owned()));
    let mut used = BTreeSet::new();
    for expr in &found {
        for (at, _) in expr.match_indices("tgbot_") {
            let name: String =
                expr[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            used.insert(name);
        }
    }
    let unknown: Vec<_> = used.difference(&known).collect();
    assert!(unknown.is_empty(), "the dashboard asks for metrics nobody reports: {unknown:?}");
    // Each kind of live figure is on it.
    for name in [
        "tgbot_updates_total",
        "tgbot_jobs_started_total",
        "tgbot_job_queue_wait_seconds_bucket",
        "tgbot_provider_request_duration_seconds_bucket",
        "tgbot_telegram_requests_total",
        "tgbot_telegram_retries_total",
        "tgbot_payment_events_total",
        "tgbot_ledger_postings_total",
    ] {
        assert!(used.contains(name), "the dashboard does not show {name}");
    }
}
