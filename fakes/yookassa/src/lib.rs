//! A fake YooKassa API v3 server for tests.
//!
//! It speaks the published wire format (Basic auth with the shop id and the
//! secret key, `Idempotence-Key` on every POST, amounts as two-decimal strings,
//! UTC timestamps with milliseconds, errors as `{"type":"error",...}` with the
//! matching HTTP status), so code that passes against it talks to the real
//! API the same way. Tests play the payer and YooKassa: they complete,
//! decline or expire payments, and every status change is announced by an
//! HTTP notification sent from an address the test chooses.
//!
//! Idempotence keys are scoped to the shop, not to one endpoint: a key
//! repeated with the same method, path and body answers with the object as
//! it is now (no new object); any other reuse is refused with
//! `invalid_request` naming `Idempotence-Key`. Only successful requests bind
//! a key, so a request refused for a bad parameter may be fixed and re-sent.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_yookassa::Error> {
//! let fake = fake_yookassa::FakeYooKassa::start("123456", "test_secret").await?;
//! fake.set_notification_url("http://127.0.0.1:8080/webhooks/yookassa");
//! fake.set_notification_source("127.0.0.2".parse::<std::net::IpAddr>().ok())?;
//! // ... the code under test creates a payment against fake.api_url() ...
//! # let id = "";
//! fake.succeed(id).await?;
//! # Ok(()) }
//! ```

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use axum::Router;
use rust_decimal::Decimal;
use serde_json::Value;
use tokio::sync::{Notify, watch};

mod api;
mod checkout;
mod model;
mod notify;
mod state;
mod validate;

pub use axum::http::StatusCode;
pub use model::{
    Amount, ApiError, CancellationDetails, Confirmation, Event, Notification, Party, Payment, PaymentMethod,
    PaymentStatus, Recipient, Refund, RefundStatus, timestamp,
};
pub use notify::{Delivery, DeliveryOutcome, RetryPolicy};
pub use state::{PaymentMethodKind, RecordedRequest};

use state::{Moved, Store};

/// Why a call to the fake failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be opened.
    #[error("cannot listen: {0}")]
    Bind(#[source] std::io::Error),
    /// The HTTP client for notifications could not be built.
    #[error("cannot build the notification client: {0}")]
    Client(#[source] reqwest::Error),
    /// No payment has this id.
    #[error("no payment with id {0}")]
    UnknownPayment(String),
    /// No refund has this id.
    #[error("no refund with id {0}")]
    UnknownRefund(String),
    /// The payment's status does not allow the move.
    #[error("payment {id} is {status}; cannot {action} it")]
    WrongStatus {
        /// The payment.
        id: String,
        /// Its current status.
        status: PaymentStatus,
        /// What was attempted.
        action: &'static str,
    },
    /// A parameter was refused, as the API would refuse it.
    #[error("invalid {parameter}: {description}")]
    Invalid {
        /// The parameter at fault, e.g. `amount`.
        parameter: String,
        /// Why.
        description: String,
    },
    /// A notification was requested but no notification URL is set.
    #[error("no notification URL is set")]
    NoNotificationUrl,
    /// A notification got no HTTP answer.
    #[error("notification delivery failed: {0}")]
    Delivery(String),
}

impl Error {
    pub(crate) fn invalid(parameter: &str, description: impl Into<String>) -> Self {
        Self::Invalid { parameter: parameter.to_owned(), description: description.into() }
    }
}

/// State shared by the server, the retry loop and every handle.
pub(crate) struct Shared {
    store: Mutex<Store>,
    base_url: String,
    local_addr: SocketAddr,
    shop_id: String,
    secret_key: String,
    control_routes: bool,
    retry_changed: Notify,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    /// The store; a panic elsewhere while holding it leaves data a test can still read.
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How to start a fake: credentials, address and options.
#[derive(Clone, Debug)]
pub struct Builder {
    shop_id: String,
    secret_key: String,
    listen: SocketAddr,
    control_routes: bool,
    notification_url: Option<String>,
}

impl Builder {
    /// Listens on `addr` instead of a random port on 127.0.0.1.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Serves `/_control/payments/{id}/succeed|cancel|expire|notify` and pay
    /// buttons on the checkout page, for a developer at a shell or browser.
    pub fn control_routes(mut self, enabled: bool) -> Self {
        self.control_routes = enabled;
        self
    }

    /// Sends notifications to `url` from the start.
    pub fn notification_url(mut self, url: impl Into<String>) -> Self {
        self.notification_url = Some(url.into());
        self
    }

    /// Binds the socket and starts serving in the background.
    pub async fn start(self) -> Result<FakeYooKassa, Error> {
        let listener = tokio::net::TcpListener::bind(self.listen).await.map_err(Error::Bind)?;
        let local_addr = listener.local_addr().map_err(Error::Bind)?;
        // A URL must name a host the payer can reach, which 0.0.0.0 is not.
        let public_ip =
            if local_addr.ip().is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { local_addr.ip() };
        let base_url = format!("http://{}", SocketAddr::new(public_ip, local_addr.port()));
        let mut store = Store::new(self.shop_id.clone(), notify::client(None)?);
        store.notification_url = self.notification_url;
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            base_url,
            local_addr,
            shop_id: self.shop_id,
            secret_key: self.secret_key,
            control_routes: self.control_routes,
            retry_changed: Notify::new(),
            shutdown,
        });
        let app = Router::new()
            .merge(api::router(shared.clone()))
            .merge(checkout::router(shared.clone(), self.control_routes))
            .fallback(api::fallback);
        let mut stop = shared.shutdown.subscribe();
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await;
            if let Err(err) = served {
                tracing::error!(error = %err, "fake YooKassa server stopped");
            }
        });
        tokio::spawn(notify::retry_loop(shared.clone()));
        tracing::info!(%local_addr, "fake YooKassa listening");
        Ok(FakeYooKassa { shared })
    }
}

/// A running fake; clones are cheap and control the same server.
#[derive(Clone)]
pub struct FakeYooKassa {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for FakeYooKassa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeYooKassa").field("base_url", &self.shared.base_url).finish_non_exhaustive()
    }
}

fn json_of<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

impl FakeYooKassa {
    /// Options for a fake of shop `shop_id` with `secret_key`, on 127.0.0.1 and a random port.
    pub fn builder(shop_id: &str, secret_key: &str) -> Builder {
        Builder {
            shop_id: shop_id.to_owned(),
            secret_key: secret_key.to_owned(),
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            control_routes: false,
            notification_url: None,
        }
    }

    /// Starts a fake for shop `shop_id` with `secret_key` on a random port of 127.0.0.1.
    pub async fn start(shop_id: &str, secret_key: &str) -> Result<Self, Error> {
        Self::builder(shop_id, secret_key).start().await
    }

    /// `http://127.0.0.1:PORT/v3`, the value for `YOOKASSA_API_URL`.
    pub fn api_url(&self) -> String {
        format!("{}/v3", self.shared.base_url)
    }

    /// `http://127.0.0.1:PORT`, where the checkout pages live.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Stops the server and the retry loop.
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }

    /// Every payment, oldest first.
    pub fn payments(&self) -> Vec<Payment> {
        self.shared.lock().payments()
    }

    /// One payment as the API would return it now.
    pub fn payment(&self, id: &str) -> Option<Payment> {
        self.shared.lock().payment(id).map(|entry| entry.payment.clone())
    }

    /// The body of the request that created a payment (receipt, capture flag and all).
    pub fn creation_request(&self, id: &str) -> Option<Value> {
        self.shared.lock().payment(id).map(|entry| entry.request.clone())
    }

    /// Every refund, oldest first.
    pub fn refunds(&self) -> Vec<Refund> {
        self.shared.lock().refunds().to_vec()
    }

    /// One refund.
    pub fn refund(&self, id: &str) -> Option<Refund> {
        self.shared.lock().refund(id).cloned()
    }

    /// Every API request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The payer pays (by card, unless the payment named another method). A pending payment created with `capture: true`
    /// succeeds; one created without goes to `waiting_for_capture` (and a
    /// second call captures it, as the shop would). Returns once the
    /// automatic notification got its first answer.
    pub async fn succeed(&self, id: &str) -> Result<Payment, Error> {
        let moved = self.shared.lock().pay(id, None)?;
        Ok(self.announce(moved).await)
    }

    /// Like [`succeed`](Self::succeed), paying with the given method.
    pub async fn succeed_with(&self, id: &str, kind: PaymentMethodKind) -> Result<Payment, Error> {
        let moved = self.shared.lock().pay(id, Some(kind))?;
        Ok(self.announce(moved).await)
    }

    /// Cancels a pending or authorised payment, e.g. `(Party::PaymentNetwork,
    /// "insufficient_funds")`; returns after the notification's first attempt.
    pub async fn cancel(&self, id: &str, party: Party, reason: &str) -> Result<Payment, Error> {
        let allowed = [PaymentStatus::Pending, PaymentStatus::WaitingForCapture];
        let moved = self.shared.lock().cancel(id, party, reason, &allowed)?;
        Ok(self.announce(moved).await)
    }

    /// Declines every charge of the saved method `method_id` from now on, as the payment
    /// network would (`reason`, e.g. `insufficient_funds`); `None` allows them again.
    pub fn decline_saved_method(&self, method_id: &str, reason: Option<&str>) {
        self.shared.lock().decline_saved_method(method_id, reason);
    }

    /// Lets a payment run out of time: `expired_on_confirmation` while
    /// pending, `expired_on_capture` while waiting for capture.
    pub async fn expire(&self, id: &str) -> Result<Payment, Error> {
        let moved = self.shared.lock().expire(id)?;
        Ok(self.announce(moved).await)
    }

    async fn announce(&self, moved: Moved) -> Payment {
        if let Some(event) = moved.event {
            notify::announce(&self.shared, event, &moved.payment.id, json_of(&moved.payment)).await;
        }
        moved.payment
    }

    /// Where notifications go, e.g. `http://127.0.0.1:PORT/webhooks/yookassa`.
    pub fn set_notification_url(&self, url: impl Into<String>) {
        self.shared.lock().notification_url = Some(url.into());
    }

    /// Stops sending notifications (failed ones stay queued).
    pub fn clear_notification_url(&self) {
        self.shared.lock().notification_url = None;
    }

    /// The local address notifications are sent from (any 127.x.y.z works on
    /// Linux loopback), so a receiver's source-address check can be exercised;
    /// `None` lets the system choose.
    pub fn set_notification_source(&self, source: impl Into<Option<IpAddr>>) -> Result<(), Error> {
        let source = source.into();
        let client = notify::client(source)?;
        let mut store = self.shared.lock();
        store.client = client;
        store.notification_source = source;
        Ok(())
    }

    /// How failed notifications are re-sent (by default every 500 ms, 10 attempts in all).
    pub fn set_retry_policy(&self, policy: RetryPolicy) {
        self.shared.lock().retry = policy;
        self.shared.retry_changed.notify_one();
    }

    /// The fee in percent taken from succeeded payments' `income_amount` (3.5 by default).
    pub fn set_fee_percent(&self, percent: Decimal) {
        self.shared.lock().fee_percent = percent;
    }

    /// Sends the notification `event` about payment (or refund) `id`, with the
    /// object as it is now, `times` times: one after another, or all at once
    /// to test concurrent delivery. Returns the receiver's statuses in order of
    /// sending; these sends are recorded but never retried.
    pub async fn notify(
        &self,
        id: &str,
        event: Event,
        times: usize,
        concurrently: bool,
    ) -> Result<Vec<StatusCode>, Error> {
        let object = {
            let store = self.shared.lock();
            if store.notification_url.is_none() {
                return Err(Error::NoNotificationUrl);
            }
            if event.is_refund() {
                store.refund(id).map(json_of).ok_or_else(|| Error::UnknownRefund(id.to_owned()))?
            } else {
                store
                    .payment(id)
                    .map(|e| json_of(&e.payment))
                    .ok_or_else(|| Error::UnknownPayment(id.to_owned()))?
            }
        };
        let body = notify::body(event, object);
        let mut deliveries = Vec::with_capacity(times);
        if concurrently {
            let handles: Vec<_> = (0..times)
                .map(|_| {
                    let (shared, id, body) = (self.shared.clone(), id.to_owned(), body.clone());
                    tokio::spawn(async move { notify::send(&shared, event, &id, &body, 0).await })
                })
                .collect();
            for handle in handles {
                deliveries.push(handle.await.map_err(|err| Error::Delivery(err.to_string()))?);
            }
        } else {
            for _ in 0..times {
                deliveries.push(notify::send(&self.shared, event, id, &body, 0).await);
            }
        }
        deliveries
            .into_iter()
            .map(|delivery| match delivery.map(|d| d.outcome) {
                Some(DeliveryOutcome::Status(status)) => Ok(status),
                Some(DeliveryOutcome::Failed(err)) => Err(Error::Delivery(err)),
                None => Err(Error::NoNotificationUrl),
            })
            .collect()
    }

    /// Every notification attempt so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().deliveries.clone()
    }

    /// Waits until at least `count` attempts were recorded or `timeout` passed,
    /// then returns them all.
    pub async fn wait_for_deliveries(&self, count: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let deliveries = self.deliveries();
            if deliveries.len() >= count || tokio::time::Instant::now() >= deadline {
                return deliveries;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// How many notifications wait to be re-sent.
    pub fn failed_notifications(&self) -> usize {
        self.shared.lock().failed.len()
    }

    /// Re-sends every failed notification once, now, and returns the attempts.
    pub async fn redeliver_failed(&self) -> Vec<Delivery> {
        notify::redeliver(&self.shared).await
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); for the binary.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
