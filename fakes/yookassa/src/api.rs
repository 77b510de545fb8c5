//! The `/v3` HTTP API: payments, capture, cancel and refunds.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{OriginalUri, Path, Query, Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    Error, Shared,
    model::{ApiError, Event, Party, PaymentStatus},
    notify,
    state::{KeyLookup, RecordedRequest},
    validate::{self, Invalid},
};

/// The longest `Idempotence-Key` YooKassa accepts.
const MAX_KEY_LEN: usize = 64;

/// An error response in YooKassa's shape.
pub(crate) struct Refusal {
    status: StatusCode,
    code: &'static str,
    description: String,
    parameter: Option<String>,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self { status, code, description: description.into(), parameter: None }
    }

    fn invalid(description: impl Into<String>, parameter: Option<String>) -> Self {
        Self { parameter, ..Self::new(StatusCode::BAD_REQUEST, "invalid_request", description) }
    }

    pub(crate) fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", description)
    }

    fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Authentication failed: check the shop id and the secret key",
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = ApiError {
            kind: "error".to_owned(),
            id: Uuid::new_v4().to_string(),
            code: self.code.to_owned(),
            description: Some(self.description),
            parameter: self.parameter,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<Invalid> for Refusal {
    fn from(invalid: Invalid) -> Self {
        Self::invalid(invalid.description, invalid.parameter)
    }
}

impl From<Error> for Refusal {
    fn from(err: Error) -> Self {
        match err {
            Error::UnknownPayment(id) => Self::not_found(format!("Payment {id} not found")),
            Error::UnknownRefund(id) => Self::not_found(format!("Refund {id} not found")),
            Error::Invalid { parameter, description } => Self::invalid(description, Some(parameter)),
            Error::WrongStatus { status, action, .. } => {
                Self::invalid(format!("Cannot {action} a payment in status {status}"), None)
            }
            other => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_server_error", other.to_string()),
        }
    }
}

type Reply = Result<Response, Refusal>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v3/payments", post(create_payment).get(list_payments))
        .route("/v3/payments/{id}", get(get_payment))
        .route("/v3/payments/{id}/capture", post(capture_payment))
        .route("/v3/payments/{id}/cancel", post(cancel_payment))
        .route("/v3/refunds", post(create_refund).get(list_refunds))
        .route("/v3/refunds/{id}", get(get_refund))
        .route_layer(middleware::from_fn_with_state(shared.clone(), authenticate_and_record))
        .with_state(shared)
}

/// Answers for paths the API does not have, as YooKassa would.
pub(crate) async fn fallback(uri: OriginalUri) -> Refusal {
    Refusal::not_found(format!("No such resource: {}", uri.path()))
}

/// Checks Basic auth on every API request and records the request with its outcome.
async fn authenticate_and_record(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let idempotence_key =
        request.headers().get("Idempotence-Key").and_then(|value| value.to_str().ok()).map(str::to_owned);
    let auth_ok = credentials_match(request.headers(), &shared.shop_id, &shared.secret_key);
    let response = if auth_ok { next.run(request).await } else { Refusal::unauthorized().into_response() };
    let status = response.status().as_u16();
    shared.lock().requests.push(RecordedRequest { method, path, idempotence_key, auth_ok, status });
    response
}

fn credentials_match(headers: &HeaderMap, shop_id: &str, secret_key: &str) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else { return false };
    let Ok(text) = String::from_utf8(decoded) else { return false };
    text.split_once(':').is_some_and(|(user, password)| user == shop_id && password == secret_key)
}

fn idempotence_key(headers: &HeaderMap) -> Result<String, Refusal> {
    let parameter = Some("Idempotence-Key".to_owned());
    match headers.get("Idempotence-Key").map(|value| value.to_str()) {
        None => Err(Refusal::invalid("Idempotence-Key header is required for this request", parameter)),
        Some(Ok(key)) if !key.is_empty() && key.len() <= MAX_KEY_LEN => Ok(key.to_owned()),
        Some(_) => Err(Refusal::invalid(
            format!("Idempotence-Key must be 1 to {MAX_KEY_LEN} printable characters"),
            parameter,
        )),
    }
}

/// Reads a JSON body; an empty body reads as `null` (capture and cancel take none).
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "Content-Type must be application/json",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|err| Refusal::invalid(format!("The request body is not valid JSON: {err}"), None))
}

fn duplicated_key() -> Refusal {
    Refusal::invalid(
        "Idempotence key duplicated: it was already used for a request with other parameters",
        Some("Idempotence-Key".to_owned()),
    )
}

fn json_of<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// Sends the automatic notification after the response, as YooKassa does.
fn announce_later(shared: &Arc<Shared>, event: Option<Event>, object_id: String, object: Value) {
    if let Some(event) = event {
        let shared = shared.clone();
        tokio::spawn(async move { notify::announce(&shared, event, &object_id, object).await });
    }
}

async fn create_payment(
    State(shared): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let key = idempotence_key(&headers)?;
    let body = json_body(&headers, &body)?;
    let path = uri.path();
    let mut store = shared.lock();
    match store.lookup_key(&key, Method::POST.as_str(), path, &body) {
        KeyLookup::Repeat(id) => {
            let entry = store.payment(&id).ok_or_else(|| Refusal::not_found("Payment not found"))?;
            return Ok(Json(&entry.payment).into_response());
        }
        KeyLookup::Conflict => return Err(duplicated_key()),
        KeyLookup::Fresh => {}
    }
    let request = validate::payment_request(&body)?;
    let saved = request.saved_method.clone();
    if let Some(method) = &saved
        && !store.has_saved_method(method)
    {
        return Err(Refusal::invalid(
            "The payment method is unknown or was not saved",
            Some("payment_method_id".into()),
        ));
    }
    let mut payment = store.create_payment(request, body.clone(), &shared.base_url);
    let mut event = None;
    if saved.is_some() {
        // A saved method is charged at once, without the payer.
        let moved = store.charge_saved(&payment.id)?;
        payment = moved.payment;
        event = moved.event;
    }
    store.remember_key(&key, Method::POST.as_str(), path, body, &payment.id);
    drop(store);
    announce_later(&shared, event, payment.id.clone(), json_of(&payment));
    Ok(Json(payment).into_response())
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<PaymentStatus>,
    payment_id: Option<String>,
}

async fn list_payments(State(shared): State<Arc<Shared>>, Query(query): Query<ListQuery>) -> Reply {
    let items: Vec<Value> = shared
        .lock()
        .payments()
        .iter()
        .rev()
        .filter(|payment| query.status.is_none_or(|status| payment.status == status))
        .map(json_of)
        .collect();
    Ok(Json(json!({"type": "list", "items": items})).into_response())
}

async fn get_payment(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    let store = shared.lock();
    let entry = store.payment(&id).ok_or_else(|| Refusal::from(Error::UnknownPayment(id.clone())))?;
    Ok(Json(&entry.payment).into_response())
}

/// Shared by capture and cancel: idempotence, then the move, then the notification.
async fn move_payment(
    shared: &Arc<Shared>,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
    apply: impl FnOnce(&mut crate::state::Store, &Value) -> Result<crate::state::Moved, Refusal>,
) -> Reply {
    let key = idempotence_key(headers)?;
    let body = json_body(headers, body)?;
    let moved = {
        let mut store = shared.lock();
        match store.lookup_key(&key, Method::POST.as_str(), path, &body) {
            KeyLookup::Repeat(id) => {
                let entry = store.payment(&id).ok_or_else(|| Refusal::not_found("Payment not found"))?;
                return Ok(Json(&entry.payment).into_response());
            }
            KeyLookup::Conflict => return Err(duplicated_key()),
            KeyLookup::Fresh => {}
        }
        let moved = apply(&mut store, &body)?;
        store.remember_key(&key, Method::POST.as_str(), path, body, &moved.payment.id);
        moved
    };
    announce_later(shared, moved.event, moved.payment.id.clone(), json_of(&moved.payment));
    Ok(Json(moved.payment).into_response())
}

async fn capture_payment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    move_payment(&shared, uri.path(), &headers, &body, |store, body| {
        let amount = validate::capture_request(body)?;
        Ok(store.capture(&id, amount)?)
    })
    .await
}

async fn cancel_payment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    move_payment(&shared, uri.path(), &headers, &body, |store, _| {
        Ok(store.cancel(&id, Party::Merchant, "canceled_by_merchant", &[PaymentStatus::WaitingForCapture])?)
    })
    .await
}

async fn create_refund(
    State(shared): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let key = idempotence_key(&headers)?;
    let body = json_body(&headers, &body)?;
    let path = uri.path();
    let refund = {
        let mut store = shared.lock();
        match store.lookup_key(&key, Method::POST.as_str(), path, &body) {
            KeyLookup::Repeat(id) => {
                let refund = store.refund(&id).ok_or_else(|| Refusal::not_found("Refund not found"))?;
                return Ok(Json(refund).into_response());
            }
            KeyLookup::Conflict => return Err(duplicated_key()),
            KeyLookup::Fresh => {}
        }
        let request = validate::refund_request(&body)?;
        let (refund, _payment) = store.create_refund(request)?;
        store.remember_key(&key, Method::POST.as_str(), path, body, &refund.id);
        refund
    };
    announce_later(&shared, Some(Event::RefundSucceeded), refund.id.clone(), json_of(&refund));
    Ok(Json(refund).into_response())
}

async fn list_refunds(State(shared): State<Arc<Shared>>, Query(query): Query<ListQuery>) -> Reply {
    let items: Vec<Value> = shared
        .lock()
        .refunds()
        .iter()
        .rev()
        .filter(|refund| query.payment_id.as_ref().is_none_or(|id| refund.payment_id == *id))
        .map(json_of)
        .collect();
    Ok(Json(json!({"type": "list", "items": items})).into_response())
}

async fn get_refund(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    let store = shared.lock();
    let refund = store.refund(&id).ok_or_else(|| Refusal::from(Error::UnknownRefund(id.clone())))?;
    Ok(Json(refund).into_response())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn basic_credentials_must_match_exactly() {
        let mut headers = HeaderMap::new();
        assert!(!credentials_match(&headers, "123456", "test_secret"));
        let encoded = base64::engine::general_purpose::STANDARD.encode("123456:test_secret");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap_or(HeaderValue::from_static("")),
        );
        assert!(credentials_match(&headers, "123456", "test_secret"));
        assert!(!credentials_match(&headers, "123456", "test_secre"));
        assert!(!credentials_match(&headers, "12345", "test_secret"));
    }
}
