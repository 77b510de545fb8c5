//! YooKassa API v3 client: create payments and refunds, and fetch their true status.
//!
//! Notifications are never trusted on their own: the webhook re-fetches the
//! payment here and acts on what the API says.

use std::{net::IpAddr, str::FromStr, time::Duration};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::ids::{PaymentId, UserId};
use crate::platform::secret::Secret;

/// An amount as YooKassa writes it: a decimal string with two places.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// `"399.00"`.
    pub value: String,
    /// `"RUB"`.
    pub currency: String,
}

impl Amount {
    /// Roubles with two decimals.
    pub fn rub(value: Decimal) -> Self {
        Self { value: format!("{:.2}", value.round_dp(2)), currency: "RUB".to_owned() }
    }

    /// The value as a decimal.
    pub fn decimal(&self) -> Option<Decimal> {
        Decimal::from_str(&self.value).ok()
    }
}

/// Payment statuses YooKassa reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created, waiting for the payer.
    Pending,
    /// Authorised, waiting for us to capture (we create with `capture: true`).
    WaitingForCapture,
    /// Paid.
    Succeeded,
    /// Cancelled or expired.
    Canceled,
}

/// The parts of YooKassa's payment object we use.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Payment {
    /// YooKassa's payment id.
    pub id: String,
    /// Current status.
    pub status: PaymentStatus,
    /// Amount to pay.
    pub amount: Amount,
    /// Whether it is paid.
    #[serde(default)]
    pub paid: bool,
    /// Where to send the payer (while pending).
    pub confirmation: Option<Confirmation>,
    /// Our metadata, echoed back.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Why it was cancelled.
    pub cancellation_details: Option<CancellationDetails>,
    /// How it was paid; `saved` when it may be charged again without the payer.
    pub payment_method: Option<PaymentMethod>,
}

/// The method a payment was paid with.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct PaymentMethod {
    /// Its id: what `payment_method_id` names to charge it again.
    pub id: String,
    /// Whether YooKassa kept it for payments without the payer.
    #[serde(default)]
    pub saved: bool,
    /// How the payer reads it (`Bank card *4444`).
    pub title: Option<String>,
}

impl Payment {
    /// Our payment id, from the metadata we set at creation.
    pub fn our_payment_id(&self) -> Option<PaymentId> {
        self.metadata.get("payment_id").and_then(|v| v.as_str()).and_then(|s| s.parse().ok())
    }
}

/// The redirect the payer follows.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Confirmation {
    /// `redirect`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The payment page.
    pub confirmation_url: Option<String>,
}

/// Why a payment was cancelled.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CancellationDetails {
    /// Who cancelled: `yoo_money`, `payment_network` or `merchant`.
    pub party: String,
    /// Why, e.g. `insufficient_funds`, `expired_on_confirmation`.
    pub reason: String,
}

/// An HTTP notification from YooKassa.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Notification {
    /// Always `notification`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `payment.succeeded`, `payment.canceled`, ...
    pub event: String,
    /// The object; only its `id` is trusted, to re-fetch it.
    pub object: NotificationObject,
}

/// The object of a notification.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct NotificationObject {
    /// Payment (or refund) id.
    pub id: String,
}

/// A refund's state (`pending` while the bank works on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// The bank has not finished yet.
    Pending,
    /// The money went back to the payer.
    Succeeded,
    /// The refund did not happen.
    Canceled,
}

/// A refund as the API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Refund {
    /// YooKassa's refund id: the key of applying it exactly once.
    pub id: String,
    /// The refunded payment (YooKassa's id).
    pub payment_id: String,
    /// Its state.
    pub status: RefundStatus,
    /// How much went back: all of the payment or a part.
    pub amount: Amount,
}

/// A payment to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPayment {
    /// Our payment id: sent as the `Idempotence-Key` and in the metadata.
    pub payment_id: PaymentId,
    /// Our user id, in the metadata.
    pub user_id: UserId,
    /// Price in roubles.
    pub amount_rub: Decimal,
    /// Shown to the payer and on the receipt (at most 128 characters).
    pub description: String,
    /// How the payer pays: on YooKassa's page, or by a method saved before.
    pub method: PayWith,
}

/// How a new payment is paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayWith {
    /// On YooKassa's page, once.
    Page,
    /// On YooKassa's page, keeping the method for renewals (`save_payment_method`).
    PageAndSave,
    /// By the saved method with this id, without the payer (a renewal).
    Saved(String),
}

/// Why a YooKassa call failed.
#[derive(Debug, thiserror::Error)]
pub enum YooKassaError {
    /// The API answered with an error object.
    #[error("YooKassa refused the request ({status}): {code}: {description}")]
    Api {
        /// HTTP status.
        status: u16,
        /// YooKassa's error code.
        code: String,
        /// Its description.
        description: String,
    },
    /// The request did not get an answer we could read.
    #[error("YooKassa request failed: {0}")]
    Http(#[from] reqwest::Error),
}

/// A client for one shop.
#[derive(Clone, Debug)]
pub struct YooKassa {
    http: reqwest::Client,
    api_url: url::Url,
    shop_id: String,
    secret_key: Secret,
    return_url: url::Url,
    receipt: Option<ReceiptSettings>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    description: String,
}

impl YooKassa {
    /// A client for the configured shop.
    pub fn new(settings: &YooKassaSettings) -> Result<Self, YooKassaError> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build()?;
        Ok(Self {
            http,
            api_url: settings.api_url.clone(),
            shop_id: settings.shop_id.clone(),
            secret_key: settings.secret_key.clone(),
            return_url: settings.return_url.clone(),
            receipt: settings.receipt.clone(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.api_url.as_str().trim_end_matches('/'), path)
    }

    async fn read<T: for<'de> Deserialize<'de>>(response: reqwest::Response) -> Result<T, YooKassaError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response.json().await?);
        }
        let error: ApiError =
            response.json().await.unwrap_or(ApiError { code: String::new(), description: String::new() });
        Err(YooKassaError::Api { status: status.as_u16(), code: error.code, description: error.description })
    }

    async fn get<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, YooKassaError> {
        let response = self
            .http
            .get(self.url(path))
            .basic_auth(&self.shop_id, Some(self.secret_key.expose()))
            .send()
            .await?;
        Self::read(response).await
    }

    /// A POST that YooKassa carries out once per `idempotence_key`.
    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        idempotence_key: &str,
        body: &serde_json::Value,
    ) -> Result<T, YooKassaError> {
        let response = self
            .http
            .post(self.url(path))
            .basic_auth(&self.shop_id, Some(self.secret_key.expose()))
            .header("Idempotence-Key", idempotence_key)
            .json(body)
            .send()
            .await?;
        Self::read(response).await
    }

    /// Creates a payment with a redirect confirmation, captured automatically.
    pub async fn create_payment(&self, new: &NewPayment) -> Result<Payment, YooKassaError> {
        let description: String = new.description.chars().take(128).collect();
        let mut body = serde_json::json!({
            "amount": Amount::rub(new.amount_rub),
            "capture": true,
            "description": description,
            "metadata": { "payment_id": new.payment_id.to_string(), "user_id": new.user_id.to_string() },
        });
        if let Some(object) = body.as_object_mut() {
            let page = serde_json::json!({ "type": "redirect", "return_url": self.return_url.as_str() });
            match &new.method {
                PayWith::Page => drop(object.insert("confirmation".to_owned(), page)),
                PayWith::PageAndSave => {
                    object.insert("confirmation".to_owned(), page);
                    object.insert("save_payment_method".to_owned(), true.into());
                }
                PayWith::Saved(method) => {
                    drop(object.insert("payment_method_id".to_owned(), method.clone().into()))
                }
            }
        }
        if let (Some(receipt), Some(object)) = (&self.receipt, body.as_object_mut()) {
            object.insert("receipt".to_owned(), receipt_for(receipt, &description, new.amount_rub));
        }
        self.post("payments", &new.payment_id.to_string(), &body).await
    }

    /// Asks YooKassa to give `amount_rub` of payment `payment_id` back.
    /// `idempotence_key` makes a repeated request return the same refund.
    /// With receipts configured, the refund carries its 54-FZ receipt.
    pub async fn create_refund(
        &self,
        payment_id: &str,
        amount_rub: Decimal,
        description: &str,
        idempotence_key: &str,
    ) -> Result<Refund, YooKassaError> {
        let description: String = description.chars().take(250).collect();
        let mut body = serde_json::json!({
            "payment_id": payment_id,
            "amount": Amount::rub(amount_rub),
            "description": description,
        });
        if let (Some(receipt), Some(object)) = (&self.receipt, body.as_object_mut()) {
            let item: String = description.chars().take(128).collect();
            object.insert("receipt".to_owned(), receipt_for(receipt, &item, amount_rub));
        }
        self.post("refunds", idempotence_key, &body).await
    }

    /// Fetches a refund's current state.
    pub async fn get_refund(&self, id: &str) -> Result<Refund, YooKassaError> {
        self.get(&format!("refunds/{id}")).await
    }

    /// Fetches a payment's current state.
    pub async fn get_payment(&self, id: &str) -> Result<Payment, YooKassaError> {
        self.get(&format!("payments/{id}")).await
    }
}

/// A 54-FZ receipt of one prepaid service: the credit package.
fn receipt_for(settings: &ReceiptSettings, description: &str, amount_rub: Decimal) -> serde_json::Value {
    serde_json::json!({
        "customer": { "email": settings.customer_email },
        "items": [{
            "description": description,
            "quantity": "1.00",
            "amount": Amount::rub(amount_rub),
            "vat_code": settings.vat_code,
            "payment_mode": "full_prepayment",
            "payment_subject": "service",
        }],
    })
}

/// YooKassa's published notification source ranges (check them against the
/// current documentation when deploying; `YOOKASSA_NOTIFY_IPS` overrides).
pub const DEFAULT_NOTIFICATION_RANGES: &str = "185.71.76.0/27,185.71.77.0/27,77.75.153.0/25,77.75.156.11/32,\
77.75.156.35/32,77.75.154.128/25,2a02:5180::/32";

/// A comma-separated list of IP networks (CIDR, or a bare address for one host).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct IpNets(pub Vec<ipnet::IpNet>);

impl FromStr for IpNets {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|part| {
                part.parse::<ipnet::IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("`{part}` is not an IP network"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl IpNets {
    /// Whether any network contains `ip` (an IPv4 address seen as IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// YooKassa shop credentials.
#[derive(Debug, Clone)]
pub struct YooKassaSettings {
    /// Shop id (the Basic auth user).
    pub shop_id: String,
    /// Secret key (the Basic auth password).
    pub secret_key: Secret,
    /// Where YooKassa sends the user after paying, usually `https://t.me/<bot>`.
    pub return_url: Url,
    /// API base URL (overridable for tests).
    pub api_url: Url,
    /// 54-FZ receipts, when the shop must send them.
    pub receipt: Option<ReceiptSettings>,
}

/// What a 54-FZ receipt needs beyond the payment itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptSettings {
    /// Where the receipt is sent (Telegram gives us no customer contact).
    pub customer_email: String,
    /// YooKassa's VAT code (1: no VAT ... 12), see its API reference.
    pub vat_code: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_two_decimals() {
        assert_eq!(Amount::rub(Decimal::from(399)).value, "399.00");
        assert_eq!(Amount::rub(Decimal::new(14950, 2)).value, "149.50");
    }

    #[test]
    fn networks_match_their_addresses_only() {
        let nets: IpNets = DEFAULT_NOTIFICATION_RANGES.parse().unwrap();
        assert!(nets.contains("185.71.76.5".parse().unwrap()));
        assert!(nets.contains("185.71.76.31".parse().unwrap()));
        assert!(!nets.contains("185.71.76.32".parse().unwrap()));
        assert!(nets.contains("77.75.156.11".parse().unwrap()));
        assert!(!nets.contains("77.75.156.12".parse().unwrap()));
        assert!(nets.contains("2a02:5180::1".parse().unwrap()));
        assert!(nets.contains("::ffff:185.71.77.1".parse().unwrap()));
        assert!(!nets.contains("127.0.0.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNets>().is_err());
        assert!("not-an-address".parse::<IpNets>().is_err());
        let local: IpNets = "127.0.0.2/32".parse().unwrap();
        assert!(
            local.contains("127.0.0.2".parse().unwrap()) && !local.contains("127.0.0.1".parse().unwrap())
        );
    }
}
