//! The fake driven over HTTP with reqwest, as the bot drives YooKassa: the
//! wire format, idempotence keys, authentication, status moves,
//! notifications (their source address included) and refunds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::{IpAddr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{ConnectInfo, State},
    http::StatusCode,
    routing::post,
};
use fake_yookassa::{Event, FakeYooKassa, Party, PaymentStatus, RetryPolicy};
use serde_json::{Value, json};

const SHOP_ID: &str = "123456";
const SECRET_KEY: &str = "test_secret";

async fn fake() -> FakeYooKassa {
    FakeYooKassa::start(SHOP_ID, SECRET_KEY).await.unwrap()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn payment_body(value: &str, capture: bool) -> Value {
    json!({
        "amount": {"value": value, "currency": "RUB"},
        "capture": capture,
        "confirmation": {"type": "redirect", "return_url": "https://t.me/test_bot"},
        "description": "100 credits",
        "metadata": {"payment_id": "0b9c7f8e-1111-4222-8333-444455556666", "user_id": "42"},
    })
}

/// Sends a POST the way the bot does; `None` leaves the header out.
async fn post_json(fake: &FakeYooKassa, path: &str, key: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut request =
        http().post(format!("{}/{path}", fake.api_url())).basic_auth(SHOP_ID, Some(SECRET_KEY)).json(body);
    if let Some(key) = key {
        request = request.header("Idempotence-Key", key);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn get_json(fake: &FakeYooKassa, path: &str) -> (StatusCode, Value) {
    let response = http()
        .get(format!("{}/{path}", fake.api_url()))
        .basic_auth(SHOP_ID, Some(SECRET_KEY))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn create_payment(fake: &FakeYooKassa, value: &str, capture: bool) -> String {
    let key = uuid::Uuid::new_v4().to_string();
    let (status, payment) = post_json(fake, "payments", Some(&key), &payment_body(value, capture)).await;
    assert_eq!(status, StatusCode::OK, "{payment}");
    payment["id"].as_str().unwrap().to_owned()
}

fn assert_error(body: &Value, code: &str, parameter: Option<&str>) {
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok(), "{body}");
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    assert_eq!(body["parameter"].as_str(), parameter, "{body}");
}

/// `2026-11-22T18:00:00.000Z`.
fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("not a timestamp: {value}"));
    assert_eq!(text.len(), 24, "{text}");
    assert!(text.ends_with('Z') && text.as_bytes()[19] == b'.', "{text}");
    assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok(), "{text}");
}

/// A shop's webhook endpoint that records who called it and with what.
#[derive(Clone)]
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<(IpAddr, Value)>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Self {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let app = Router::new()
            .route("/webhooks/yookassa", post(receive))
            .with_state((hits.clone(), status.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/yookassa", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        });
        Self { url, hits, status }
    }

    fn hits(&self) -> Vec<(IpAddr, Value)> {
        self.hits.lock().unwrap().clone()
    }

    fn answer_with(&self, status: StatusCode) {
        self.status.store(status.as_u16(), Ordering::SeqCst);
    }
}

type ReceiverState = (Arc<Mutex<Vec<(IpAddr, Value)>>>, Arc<AtomicU16>);

async fn receive(
    State((hits, status)): State<ReceiverState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<Value>,
) -> StatusCode {
    hits.lock().unwrap().push((peer.ip(), body));
    StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap()
}

async fn fake_with_receiver(source: &str) -> (FakeYooKassa, Receiver) {
    let fake = fake().await;
    let receiver = Receiver::start().await;
    fake.set_notification_url(&receiver.url);
    fake.set_notification_source(source.parse::<IpAddr>().unwrap()).unwrap();
    (fake, receiver)
}

#[tokio::test]
async fn a_created_payment_is_pending_with_a_redirect_to_the_fake() {
    let fake = fake().await;
    let (status, payment) = post_json(&fake, "payments", Some("key-1"), &payment_body("100.00", true)).await;
    assert_eq!(status, StatusCode::OK);
    let id = payment["id"].as_str().unwrap();
    assert_eq!(id.split('-').map(str::len).collect::<Vec<_>>(), vec![8, 4, 4, 4, 12]);
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["paid"], false);
    assert_eq!(payment["amount"], json!({"value": "100.00", "currency": "RUB"}));
    assert_eq!(payment["description"], "100 credits");
    assert_eq!(payment["recipient"]["account_id"], SHOP_ID);
    assert_eq!(payment["test"], true);
    assert_eq!(payment["refundable"], false);
    assert_eq!(payment["metadata"]["user_id"], "42");
    assert_timestamp(&payment["created_at"]);
    assert_eq!(payment["confirmation"]["type"], "redirect");
    let checkout = payment["confirmation"]["confirmation_url"].as_str().unwrap();
    assert_eq!(checkout, format!("{}/checkout/{id}", fake.base_url()));
    assert!(payment.get("captured_at").is_none() && payment.get("income_amount").is_none());

    let page = http().get(checkout).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("100.00 RUB"));

    let (status, fetched) = get_json(&fake, &format!("payments/{id}")).await;
    assert_eq!((status, &fetched), (StatusCode::OK, &payment));
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("POST", "/v3/payments"));
    assert_eq!(requests[0].idempotence_key.as_deref(), Some("key-1"));
    assert!(requests.iter().all(|r| r.auth_ok && r.status == 200));
}

#[tokio::test]
async fn the_same_idempotence_key_returns_the_same_payment_and_refuses_another_body() {
    let fake = fake().await;
    let body = payment_body("250.50", true);
    let (_, first) = post_json(&fake, "payments", Some("order-7"), &body).await;
    let (status, again) = post_json(&fake, "payments", Some("order-7"), &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(fake.payments().len(), 1);

    let (status, error) = post_json(&fake, "payments", Some("order-7"), &payment_body("300.00", true)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&error, "invalid_request", Some("Idempotence-Key"));
    assert_eq!(fake.payments().len(), 1);

    let (status, error) = post_json(&fake, "payments", None, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&error, "invalid_request", Some("Idempotence-Key"));

    let (_, other) = post_json(&fake, "payments", Some("order-8"), &body).await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(fake.payments().len(), 2);
}

#[tokio::test]
async fn wrong_or_missing_credentials_get_401() {
    let fake = fake().await;
    let url = format!("{}/payments", fake.api_url());
    let wrong = http()
        .post(&url)
        .basic_auth(SHOP_ID, Some("not_the_secret"))
        .header("Idempotence-Key", "k")
        .json(&payment_body("10.00", true))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_error(&wrong.json().await.unwrap(), "invalid_credentials", None);

    let anonymous = http().get(format!("{url}/whatever")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(fake.payments().is_empty());
    assert!(fake.requests().iter().all(|r| !r.auth_ok && r.status == 401));
}

#[tokio::test]
async fn invalid_parameters_are_refused_and_named() {
    let fake = fake().await;
    let cases = [
        (json!({"value": "100.001", "currency": "RUB"}), "amount.value"),
        (json!({"value": "-5.00", "currency": "RUB"}), "amount.value"),
        (json!({"value": "0.00", "currency": "RUB"}), "amount.value"),
        (json!({"value": 100, "currency": "RUB"}), "amount.value"),
        (json!({"value": "100.00", "currency": "rubles"}), "amount.currency"),
    ];
    for (index, (amount, parameter)) in cases.into_iter().enumerate() {
        let mut body = payment_body("1.00", true);
        body["amount"] = amount;
        let (status, error) = post_json(&fake, "payments", Some(&format!("bad-{index}")), &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&error, "invalid_request", Some(parameter));
    }

    let mut long = payment_body("1.00", true);
    long["description"] = json!("x".repeat(129));
    let (status, error) = post_json(&fake, "payments", Some("long"), &long).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&error, "invalid_request", Some("description"));

    let mut receipt = payment_body("100.00", true);
    receipt["receipt"] = json!({
        "customer": {"email": "user@example.com"},
        "items": [{"description": "Credits", "quantity": 1, "amount": {"value": "99.00", "currency": "RUB"},
                   "vat_code": 1, "payment_subject": "service", "payment_mode": "full_payment"}],
    });
    let (status, error) = post_json(&fake, "payments", Some("receipt"), &receipt).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&error, "invalid_request", Some("receipt"));
    assert!(fake.payments().is_empty());

    receipt["receipt"]["items"][0]["amount"]["value"] = json!("100.00");
    let (status, payment) = post_json(&fake, "payments", Some("receipt-ok"), &receipt).await;
    assert_eq!(status, StatusCode::OK, "{payment}");
    let kept = fake.creation_request(payment["id"].as_str().unwrap()).unwrap();
    assert_eq!(kept["receipt"]["customer"]["email"], "user@example.com");

    let (status, error) = get_json(&fake, "payments/2b7e1f2a-000f-5000-9000-1b2c3d4e5f60").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&error, "not_found", None);
}

#[tokio::test]
async fn a_succeeded_payment_is_notified_from_the_chosen_address_and_fetched_complete() {
    let (fake, receiver) = fake_with_receiver("127.0.0.2").await;
    let id = create_payment(&fake, "100.00", true).await;

    let payment = fake.succeed(&id).await.unwrap();
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    let again = fake.notify(&id, Event::PaymentSucceeded, 1, false).await.unwrap();
    assert_eq!(again, vec![StatusCode::OK]);

    let hits = receiver.hits();
    assert_eq!(hits.len(), 2);
    for (peer, body) in &hits {
        assert_eq!(peer.to_string(), "127.0.0.2");
        assert_eq!(body["type"], "notification");
        assert_eq!(body["event"], "payment.succeeded");
        assert_eq!(body["object"]["id"], id.as_str());
        assert_eq!(body["object"]["status"], "succeeded");
        assert_eq!(body["object"]["paid"], true);
    }
    let deliveries = fake.deliveries();
    assert_eq!(deliveries.len(), 2);
    assert!(deliveries.iter().all(|d| d.outcome.is_delivered() && d.event == Event::PaymentSucceeded));

    let (status, fetched) = get_json(&fake, &format!("payments/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["status"], "succeeded");
    assert_eq!(fetched["paid"], true);
    assert_timestamp(&fetched["captured_at"]);
    assert_eq!(fetched["income_amount"], json!({"value": "96.50", "currency": "RUB"}));
    assert_eq!(fetched["refunded_amount"], json!({"value": "0.00", "currency": "RUB"}));
    assert_eq!(fetched["refundable"], true);
    assert_eq!(fetched["payment_method"]["type"], "bank_card");
    assert_eq!(fetched["payment_method"]["saved"], false);
    assert!(fetched["payment_method"]["title"].as_str().unwrap().starts_with("Bank card *"));
    assert!(fetched.get("confirmation").is_none());
    assert_eq!(fetched["metadata"]["payment_id"], "0b9c7f8e-1111-4222-8333-444455556666");
}

#[tokio::test]
async fn notifications_can_be_sent_concurrently_from_another_address() {
    let (fake, receiver) = fake_with_receiver("127.0.0.3").await;
    let id = create_payment(&fake, "10.00", true).await;
    fake.succeed(&id).await.unwrap();
    let statuses = fake.notify(&id, Event::PaymentSucceeded, 4, true).await.unwrap();
    assert_eq!(statuses, vec![StatusCode::OK; 4]);
    let hits = receiver.hits();
    assert_eq!(hits.len(), 5);
    assert!(hits.iter().all(|(peer, _)| peer.to_string() == "127.0.0.3"));
}

#[tokio::test]
async fn a_two_stage_payment_waits_for_capture_then_is_captured_over_the_api() {
    let (fake, receiver) = fake_with_receiver("127.0.0.2").await;
    let id = create_payment(&fake, "200.00", false).await;

    let authorised = fake.succeed(&id).await.unwrap();
    assert_eq!(authorised.status, PaymentStatus::WaitingForCapture);
    assert!(authorised.paid && authorised.expires_at.is_some() && authorised.captured_at.is_none());
    assert_eq!(receiver.hits()[0].1["event"], "payment.waiting_for_capture");

    let capture = format!("payments/{id}/capture");
    let (status, captured) = post_json(&fake, &capture, Some("capture-1"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{captured}");
    assert_eq!(captured["status"], "succeeded");
    assert_timestamp(&captured["captured_at"]);
    assert!(captured.get("expires_at").is_none());
    let deliveries = fake.wait_for_deliveries(2, Duration::from_secs(5)).await;
    assert_eq!(deliveries.last().unwrap().event, Event::PaymentSucceeded);

    let (status, again) = post_json(&fake, &capture, Some("capture-1"), &json!({})).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &captured["id"]));
    let (status, error) = post_json(&fake, &capture, Some("capture-2"), &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&error, "invalid_request", None);
}

#[tokio::test]
async fn cancelled_payments_say_who_and_why() {
    let (fake, receiver) = fake_with_receiver("127.0.0.2").await;

    let declined = create_payment(&fake, "50.00", true).await;
    fake.cancel(&declined, Party::PaymentNetwork, "insufficient_funds").await.unwrap();
    let (_, fetched) = get_json(&fake, &format!("payments/{declined}")).await;
    assert_eq!(fetched["status"], "canceled");
    assert_eq!(fetched["paid"], false);
    assert_eq!(
        fetched["cancellation_details"],
        json!({"party": "payment_network", "reason": "insufficient_funds"})
    );
    assert_eq!(receiver.hits()[0].1["event"], "payment.canceled");
    assert_eq!(receiver.hits()[0].1["object"]["cancellation_details"]["reason"], "insufficient_funds");

    let expired = create_payment(&fake, "50.00", true).await;
    let payment = fake.expire(&expired).await.unwrap();
    let details = payment.cancellation_details.unwrap();
    assert_eq!((details.party, details.reason.as_str()), (Party::YooMoney, "expired_on_confirmation"));

    let pending = create_payment(&fake, "50.00", false).await;
    let cancel = format!("payments/{pending}/cancel");
    let (status, error) = post_json(&fake, &cancel, Some("cancel-early"), &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&error, "invalid_request", None);
    fake.succeed(&pending).await.unwrap();
    let (status, canceled) = post_json(&fake, &cancel, Some("cancel-1"), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        canceled["cancellation_details"],
        json!({"party": "merchant", "reason": "canceled_by_merchant"})
    );
    assert!(fake.succeed(&declined).await.is_err());
}

#[tokio::test]
async fn refunds_are_limited_to_what_was_paid_and_notified() {
    let (fake, receiver) = fake_with_receiver("127.0.0.2").await;
    let id = create_payment(&fake, "100.00", true).await;

    let (status, error) = post_json(
        &fake,
        "refunds",
        Some("refund-early"),
        &json!({"payment_id": id, "amount": {"value": "10.00", "currency": "RUB"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&error, "invalid_request", Some("payment_id"));

    fake.succeed(&id).await.unwrap();
    let refund = |value: &str| json!({"payment_id": id, "amount": {"value": value, "currency": "RUB"}, "description": "sorry"});
    let (status, error) = post_json(&fake, "refunds", Some("refund-too-much"), &refund("150.00")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&error, "invalid_request", Some("amount"));

    let (status, first) = post_json(&fake, "refunds", Some("refund-1"), &refund("40.00")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["payment_id"], id.as_str());
    assert_eq!(first["amount"], json!({"value": "40.00", "currency": "RUB"}));
    assert_eq!(first["description"], "sorry");
    assert_timestamp(&first["created_at"]);
    let refund_id = first["id"].as_str().unwrap();
    let (status, fetched) = get_json(&fake, &format!("refunds/{refund_id}")).await;
    assert_eq!((status, &fetched), (StatusCode::OK, &first));

    let (status, _) = post_json(&fake, "refunds", Some("refund-2"), &refund("60.01")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post_json(&fake, "refunds", Some("refund-3"), &refund("60.00")).await;
    assert_eq!(status, StatusCode::OK);
    let payment = fake.payment(&id).unwrap();
    assert_eq!(payment.refunded_amount.unwrap().value, payment.amount.value);
    assert!(!payment.refundable);
    assert_eq!(fake.refunds().len(), 2);

    // One notification for the payment, one per refund.
    let deliveries = fake.wait_for_deliveries(3, Duration::from_secs(5)).await;
    assert_eq!(deliveries.iter().filter(|d| d.event == Event::RefundSucceeded).count(), 2);
    let refund_hit = receiver.hits().into_iter().find(|(_, body)| body["object"]["id"] == refund_id).unwrap();
    assert_eq!(refund_hit.1["event"], "refund.succeeded");
    assert_eq!(refund_hit.1["object"]["payment_id"], id.as_str());
    assert_eq!(fake.notify(refund_id, Event::RefundSucceeded, 1, false).await.unwrap(), vec![StatusCode::OK]);
}

#[tokio::test]
async fn failed_notifications_are_retried_until_answered_with_200() {
    let (fake, receiver) = fake_with_receiver("127.0.0.2").await;
    fake.set_retry_policy(RetryPolicy { interval: Duration::from_millis(50), max_attempts: 10 });
    receiver.answer_with(StatusCode::INTERNAL_SERVER_ERROR);
    let id = create_payment(&fake, "10.00", true).await;
    fake.succeed(&id).await.unwrap();
    assert_eq!(fake.deliveries()[0].outcome.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));

    let retried = fake.wait_for_deliveries(3, Duration::from_secs(5)).await;
    assert!(retried.len() >= 3);
    receiver.answer_with(StatusCode::OK);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !fake.deliveries().last().unwrap().outcome.is_delivered() {
        assert!(tokio::time::Instant::now() < deadline, "never redelivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deliveries = fake.deliveries();
    let attempts: Vec<u32> = deliveries.iter().map(|d| d.attempt).collect();
    assert_eq!(attempts, (1..=u32::try_from(deliveries.len()).unwrap()).collect::<Vec<_>>());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.deliveries().len(), deliveries.len(), "a delivered notification is not sent again");
    assert_eq!(fake.failed_notifications(), 0);
}

#[tokio::test]
async fn failed_notifications_can_be_redelivered_by_hand() {
    let (fake, receiver) = fake_with_receiver("127.0.0.2").await;
    fake.set_retry_policy(RetryPolicy { interval: Duration::from_secs(3600), max_attempts: 5 });
    receiver.answer_with(StatusCode::SERVICE_UNAVAILABLE);
    let id = create_payment(&fake, "10.00", true).await;
    fake.cancel(&id, Party::YooMoney, "expired_on_confirmation").await.unwrap();
    assert_eq!(fake.failed_notifications(), 1);

    receiver.answer_with(StatusCode::OK);
    let redelivered = fake.redeliver_failed().await;
    assert_eq!(redelivered.len(), 1);
    assert_eq!((redelivered[0].attempt, redelivered[0].event), (2, Event::PaymentCanceled));
    assert!(redelivered[0].outcome.is_delivered());
    assert_eq!(fake.failed_notifications(), 0);
    assert_eq!(receiver.hits().len(), 2);
}
