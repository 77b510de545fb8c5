//! What a person sees: the checkout page behind `confirmation_url`, and the
//! optional `/_control` routes that let a developer complete a payment from a
//! shell or from that page.

use std::{str::FromStr, sync::Arc};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    Error, FakeYooKassa, Shared,
    api::Refusal,
    model::{Event, Party, PaymentStatus, money_string},
    state::PaymentMethodKind,
};

pub(crate) fn router(shared: Arc<Shared>, control_routes: bool) -> Router {
    let router = Router::new().route("/checkout/{id}", get(page));
    let router = if control_routes {
        router
            .route("/_control/payments", get(list))
            .route("/_control/payments/{id}/succeed", post(succeed))
            .route("/_control/payments/{id}/cancel", post(cancel))
            .route("/_control/payments/{id}/expire", post(expire))
            .route("/_control/payments/{id}/notify", post(notify))
    } else {
        router
    };
    router.with_state(shared)
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

async fn page(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Some(payment) = shared.lock().payment(&id).map(|entry| entry.payment.clone()) else {
        return (
            StatusCode::NOT_FOUND,
            Html("<!doctype html><title>Not found</title><p>No such payment.</p>"),
        )
            .into_response();
    };
    let actions = if shared.control_routes && payment.status == PaymentStatus::Pending {
        format!(
            "<form method=post action=\"/_control/payments/{id}/succeed?redirect=true\"><button>Pay</button></form>\
             <form method=post action=\"/_control/payments/{id}/succeed?redirect=true&amp;method=sbp\">\
             <button>Pay with SBP</button></form>\
             <form method=post action=\"/_control/payments/{id}/cancel?redirect=true\"><button>Decline</button></form>",
            id = escape(&id)
        )
    } else {
        String::new()
    };
    let html = format!(
        "<!doctype html><meta charset=utf-8><title>YooKassa test checkout</title>\
         <h1>Test payment</h1><p>{description}</p><p><b>{value} {currency}</b></p>\
         <p>Status: <code>{status}</code></p>{actions}",
        description = escape(payment.description.as_deref().unwrap_or("")),
        value = money_string(payment.amount.value),
        currency = escape(&payment.amount.currency),
        status = payment.status,
    );
    Html(html).into_response()
}

#[derive(Deserialize)]
struct MoveQuery {
    method: Option<String>,
    party: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    redirect: bool,
}

async fn list(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({"type": "list", "items": shared.lock().payments()})).into_response()
}

/// The payer goes back to the shop's `return_url`, or to the checkout page.
fn after_move(shared: &Shared, id: &str, redirect: bool, result: Result<crate::Payment, Error>) -> Response {
    match result {
        Ok(payment) if redirect => {
            let return_url = shared
                .lock()
                .payment(id)
                .and_then(|entry| entry.request.pointer("/confirmation/return_url").cloned())
                .and_then(|url| url.as_str().map(str::to_owned));
            Redirect::to(&return_url.unwrap_or_else(|| format!("/checkout/{}", payment.id))).into_response()
        }
        Ok(payment) => Json(payment).into_response(),
        Err(err) => Refusal::from(err).into_response(),
    }
}

async fn succeed(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<MoveQuery>,
) -> Response {
    let kind = match q.method.as_deref() {
        None | Some("bank_card") => PaymentMethodKind::BankCard,
        Some("sbp") => PaymentMethodKind::Sbp,
        Some(other) => return bad_request(&format!("unknown method `{other}`; use bank_card or sbp")),
    };
    let fake = FakeYooKassa { shared: shared.clone() };
    let result = fake.succeed_with(&id, kind).await;
    after_move(&shared, &id, q.redirect, result)
}

async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<MoveQuery>,
) -> Response {
    let party = match q.party.as_deref().map(|p| serde_json::from_value::<Party>(json!(p))) {
        None => Party::PaymentNetwork,
        Some(Ok(party)) => party,
        Some(Err(_)) => return bad_request("party must be yoo_money, payment_network or merchant"),
    };
    let reason = q.reason.unwrap_or_else(|| "insufficient_funds".to_owned());
    let fake = FakeYooKassa { shared: shared.clone() };
    let result = fake.cancel(&id, party, &reason).await;
    after_move(&shared, &id, q.redirect, result)
}

async fn expire(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<MoveQuery>,
) -> Response {
    let fake = FakeYooKassa { shared: shared.clone() };
    let result = fake.expire(&id).await;
    after_move(&shared, &id, q.redirect, result)
}

#[derive(Deserialize)]
struct NotifyQuery {
    event: String,
    times: Option<usize>,
    #[serde(default)]
    concurrently: bool,
}

async fn notify(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<NotifyQuery>,
) -> Response {
    let Ok(event) = Event::from_str(&q.event) else { return bad_request("unknown event") };
    let fake = FakeYooKassa { shared };
    match fake.notify(&id, event, q.times.unwrap_or(1), q.concurrently).await {
        Ok(statuses) => {
            Json(json!({"statuses": statuses.iter().map(|s| s.as_u16()).collect::<Vec<_>>()})).into_response()
        }
        Err(err) => Refusal::from(err).into_response(),
    }
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.to_owned())
        .into_response()
}
