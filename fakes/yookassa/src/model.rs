//! YooKassa API v3 objects as they travel over the wire.
//!
//! The types serialize exactly as the real API writes them (amounts as
//! two-decimal strings, timestamps in UTC with milliseconds, optional fields
//! left out rather than `null`) and deserialize what it returns, so tests can
//! read responses and notifications into them.

use std::{collections::BTreeMap, fmt, str::FromStr};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A sum of money: `{"value":"100.00","currency":"RUB"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// The value; always written with two decimals.
    #[serde(serialize_with = "write_money", deserialize_with = "read_money")]
    pub value: Decimal,
    /// ISO 4217 code, e.g. `RUB`.
    pub currency: String,
}

impl Amount {
    /// An amount in roubles.
    pub fn rub(value: Decimal) -> Self {
        Self { value, currency: "RUB".to_owned() }
    }

    /// The same currency with another value.
    pub(crate) fn with_value(&self, value: Decimal) -> Self {
        Self { value, currency: self.currency.clone() }
    }
}

/// Formats money the way YooKassa does: two decimals, no exponent.
pub(crate) fn money_string(value: Decimal) -> String {
    format!("{:.2}", value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

fn write_money<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&money_string(*value))
}

fn read_money<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    let text = String::deserialize(deserializer)?;
    Decimal::from_str(&text).map_err(serde::de::Error::custom)
}

/// Timestamps as YooKassa writes them: `2026-11-22T18:00:00.000Z`.
pub mod timestamp {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Formats a timestamp with milliseconds and a `Z`.
    pub fn format(at: &DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// Serializes a timestamp.
    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(at))
    }

    /// Deserializes an RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text).map(|at| at.with_timezone(&Utc)).map_err(serde::de::Error::custom)
    }

    /// The same for optional timestamps.
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serializes a present timestamp (absent ones are skipped by the field).
        pub fn serialize<S: Serializer>(
            at: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => super::serialize(at, serializer),
                None => serializer.serialize_none(),
            }
        }

        /// Deserializes an optional RFC 3339 timestamp.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let text = Option::<String>::deserialize(deserializer)?;
            text.map(|text| {
                DateTime::parse_from_rfc3339(&text)
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

/// Where a payment is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created; the payer has not paid yet.
    Pending,
    /// Authorised; the merchant must capture or cancel it.
    WaitingForCapture,
    /// Paid and captured; final.
    Succeeded,
    /// Cancelled or expired; final.
    Canceled,
}

impl PaymentStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::WaitingForCapture => "waiting_for_capture",
            Self::Succeeded => "succeeded",
            Self::Canceled => "canceled",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The shop a payment goes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// The shop id.
    pub account_id: String,
    /// The shop's gateway id.
    pub gateway_id: String,
}

/// How the payer confirms the payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// Only `redirect` is produced by this fake.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where the payer returns after paying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    /// The payment page (on this fake: `/checkout/<id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_url: Option<String>,
}

/// How the payment was paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    /// `bank_card`, `sbp`, `yoo_money`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The method's id (for a one-off payment, the payment id).
    pub id: String,
    /// Whether it was saved for payments without the payer (`save_payment_method`).
    pub saved: bool,
    /// A human title such as `Bank card *4477`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The method's own fields (`card`, `sbp_operation_id`, ...).
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

/// Who cancelled a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// YooKassa itself (e.g. the payer never confirmed).
    YooMoney,
    /// The card network or the issuer.
    PaymentNetwork,
    /// The shop.
    Merchant,
}

/// Why and by whom a payment was cancelled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationDetails {
    /// Who cancelled it.
    pub party: Party,
    /// Why: `expired_on_confirmation`, `insufficient_funds`, `canceled_by_merchant`, ...
    pub reason: String,
}

/// A payment object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// YooKassa-shaped id, e.g. `2b7e1f2a-000f-5000-9000-1b2c3d4e5f60`.
    pub id: String,
    /// Current status.
    pub status: PaymentStatus,
    /// Whether the money was authorised or taken.
    pub paid: bool,
    /// What the payer pays.
    pub amount: Amount,
    /// What the shop gets after the fee (once paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub income_amount: Option<Amount>,
    /// The description given at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The shop.
    pub recipient: Recipient,
    /// How it was paid (once known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<PaymentMethod>,
    /// When it was captured.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "timestamp::option")]
    pub captured_at: Option<DateTime<Utc>>,
    /// When it was created.
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// Until when the shop may capture it (while waiting for capture).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "timestamp::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The payer's next step (while pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
    /// Always true on this fake.
    pub test: bool,
    /// How much was refunded (once paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_amount: Option<Amount>,
    /// Whether a refund is still possible.
    pub refundable: bool,
    /// State of the 54-FZ receipt, when one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_registration: Option<String>,
    /// The shop's metadata, echoed back.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Why it was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_details: Option<CancellationDetails>,
    /// Card authorisation details (RRN, auth code) once authorised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Value>,
}

/// Refund statuses; refunds on this fake succeed at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Being processed.
    Pending,
    /// Done.
    Succeeded,
    /// Refused.
    Canceled,
}

/// A refund object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// YooKassa-shaped id.
    pub id: String,
    /// The refunded payment.
    pub payment_id: String,
    /// Status (always `succeeded` here).
    pub status: RefundStatus,
    /// How much went back.
    pub amount: Amount,
    /// When it was created.
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// The reason given by the shop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The notification events this fake sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    /// `payment.waiting_for_capture`.
    #[serde(rename = "payment.waiting_for_capture")]
    PaymentWaitingForCapture,
    /// `payment.succeeded`.
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded,
    /// `payment.canceled`.
    #[serde(rename = "payment.canceled")]
    PaymentCanceled,
    /// `refund.succeeded`.
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded,
}

impl Event {
    /// The wire name, e.g. `payment.succeeded`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaymentWaitingForCapture => "payment.waiting_for_capture",
            Self::PaymentSucceeded => "payment.succeeded",
            Self::PaymentCanceled => "payment.canceled",
            Self::RefundSucceeded => "refund.succeeded",
        }
    }

    /// Whether the event's object is a refund rather than a payment.
    pub fn is_refund(self) -> bool {
        matches!(self, Self::RefundSucceeded)
    }

    /// The event announcing that a payment reached `status`, if any.
    pub fn for_status(status: PaymentStatus) -> Option<Self> {
        match status {
            PaymentStatus::Pending => None,
            PaymentStatus::WaitingForCapture => Some(Self::PaymentWaitingForCapture),
            PaymentStatus::Succeeded => Some(Self::PaymentSucceeded),
            PaymentStatus::Canceled => Some(Self::PaymentCanceled),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Event {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::PaymentWaitingForCapture, Self::PaymentSucceeded, Self::PaymentCanceled, Self::RefundSucceeded]
            .into_iter()
            .find(|event| event.as_str() == s)
            .ok_or_else(|| format!("unknown event `{s}`"))
    }
}

/// The body of an HTTP notification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Always `notification`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What happened.
    pub event: Event,
    /// The payment or refund as it was when the event happened.
    pub object: Value,
}

/// An error as the API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Always `error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A fresh UUID per error.
    pub id: String,
    /// `invalid_request`, `invalid_credentials`, `not_found`, ...
    pub code: String,
    /// What went wrong, in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The offending parameter or header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_timestamps_are_written_like_yookassa() {
        let amount = Amount::rub(Decimal::new(1005, 1));
        assert_eq!(
            serde_json::to_value(&amount).ok(),
            Some(serde_json::json!({"value": "100.50", "currency": "RUB"}))
        );
        let at = DateTime::parse_from_rfc3339("2026-11-22T18:00:00Z").map(|at| at.with_timezone(&Utc));
        assert_eq!(at.map(|at| timestamp::format(&at)).ok().as_deref(), Some("2026-11-22T18:00:00.000Z"));
    }

    #[test]
    fn events_round_trip_through_their_names() {
        assert_eq!("payment.canceled".parse::<Event>(), Ok(Event::PaymentCanceled));
        assert_eq!(serde_json::to_value(Event::RefundSucceeded).ok(), Some(Value::from("refund.succeeded")));
        assert!("payment.created".parse::<Event>().is_err());
    }
}
