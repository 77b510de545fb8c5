//! What the fake remembers, and how payments move between statuses.
//!
//! Every change happens under one lock in a synchronous method, so a move
//! made by a test and a request from the code under test never interleave;
//! notifications are sent after the lock is released.

use std::{collections::HashMap, net::IpAddr};

use chrono::{DateTime, Duration as Span, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    Error,
    model::{
        Amount, CancellationDetails, Confirmation, Event, Party, Payment, PaymentMethod, PaymentStatus,
        Recipient, Refund, RefundStatus,
    },
    notify::{Delivery, PendingNotification, RetryPolicy},
    validate::{PaymentRequest, RefundRequest},
};

/// A request the API received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, e.g. `/v3/payments`.
    pub path: String,
    /// The `Idempotence-Key` header, if sent.
    pub idempotence_key: Option<String>,
    /// Whether the Basic credentials matched the shop.
    pub auth_ok: bool,
    /// The status the fake answered with.
    pub status: u16,
}

/// How a payment is paid when a test completes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentMethodKind {
    /// A bank card (`bank_card`).
    BankCard,
    /// The Faster Payments System (`sbp`).
    Sbp,
}

impl PaymentMethodKind {
    fn wire_name(self) -> &'static str {
        match self {
            Self::BankCard => "bank_card",
            Self::Sbp => "sbp",
        }
    }
}

/// A payment with what the fake keeps beside the public object.
#[derive(Clone, Debug)]
pub(crate) struct PaymentEntry {
    pub payment: Payment,
    /// `capture` from the creation request.
    pub capture: bool,
    /// `payment_method_data.type` from the creation request.
    pub method: Option<String>,
    /// The creation request body as received.
    pub request: Value,
    /// `save_payment_method` from the creation request.
    pub save_method: bool,
}

/// What an `Idempotence-Key` was first used for.
#[derive(Clone, Debug)]
pub(crate) struct KeyUse {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub object_id: String,
}

/// The outcome of looking up an `Idempotence-Key`.
pub(crate) enum KeyLookup {
    /// Never used: go ahead.
    Fresh,
    /// Used for this very request: answer with the same object.
    Repeat(String),
    /// Used for another request.
    Conflict,
}

/// Everything the fake knows.
pub(crate) struct Store {
    pub shop_id: String,
    pub gateway_id: String,
    payments: Vec<PaymentEntry>,
    index: HashMap<String, usize>,
    refunds: Vec<Refund>,
    keys: HashMap<String, KeyUse>,
    pub requests: Vec<RecordedRequest>,
    pub deliveries: Vec<Delivery>,
    pub failed: Vec<PendingNotification>,
    pub notification_url: Option<String>,
    pub notification_source: Option<IpAddr>,
    pub client: reqwest::Client,
    pub retry: RetryPolicy,
    pub fee_percent: Decimal,
    /// Methods saved by a paid payment with `save_payment_method`, by id.
    saved_methods: HashMap<String, PaymentMethod>,
    /// Saved methods whose next charges are declined, with the reason.
    declined: HashMap<String, String>,
}

/// A payment moved to a new status, with the event announcing it.
pub(crate) struct Moved {
    pub payment: Payment,
    pub event: Option<Event>,
}

/// A YooKassa-shaped id: 8 hex digits, a type marker, then random hex.
fn object_id(marker: &str) -> String {
    let hex = Uuid::new_v4().simple().to_string();
    let variant = ["8", "9", "a", "b"][usize::from(hex.as_bytes()[8] % 4)];
    format!("{}-{marker}-5000-{variant}000-{}", &hex[..8], &hex[20..])
}

fn digits(count: usize) -> String {
    let bytes = Uuid::new_v4();
    bytes.as_bytes().iter().cycle().take(count).map(|b| char::from(b'0' + b % 10)).collect()
}

impl Store {
    pub fn new(shop_id: String, client: reqwest::Client) -> Self {
        Self {
            gateway_id: format!("{}", shop_id.bytes().map(u64::from).sum::<u64>() + 100_700),
            shop_id,
            payments: Vec::new(),
            index: HashMap::new(),
            refunds: Vec::new(),
            keys: HashMap::new(),
            requests: Vec::new(),
            deliveries: Vec::new(),
            failed: Vec::new(),
            notification_url: None,
            notification_source: None,
            client,
            retry: RetryPolicy::default(),
            fee_percent: Decimal::new(35, 1),
            saved_methods: HashMap::new(),
            declined: HashMap::new(),
        }
    }

    pub fn lookup_key(&self, key: &str, method: &str, path: &str, body: &Value) -> KeyLookup {
        match self.keys.get(key) {
            None => KeyLookup::Fresh,
            Some(used) if used.method == method && used.path == path && used.body == *body => {
                KeyLookup::Repeat(used.object_id.clone())
            }
            Some(_) => KeyLookup::Conflict,
        }
    }

    pub fn remember_key(&mut self, key: &str, method: &str, path: &str, body: Value, object_id: &str) {
        let used = KeyUse {
            method: method.to_owned(),
            path: path.to_owned(),
            body,
            object_id: object_id.to_owned(),
        };
        self.keys.insert(key.to_owned(), used);
    }

    pub fn payments(&self) -> Vec<Payment> {
        self.payments.iter().map(|entry| entry.payment.clone()).collect()
    }

    pub fn payment(&self, id: &str) -> Option<&PaymentEntry> {
        self.index.get(id).and_then(|at| self.payments.get(*at))
    }

    fn entry_mut(&mut self, id: &str) -> Result<&mut PaymentEntry, Error> {
        self.index
            .get(id)
            .and_then(|at| self.payments.get_mut(*at))
            .ok_or_else(|| Error::UnknownPayment(id.to_owned()))
    }

    pub fn refunds(&self) -> &[Refund] {
        &self.refunds
    }

    pub fn refund(&self, id: &str) -> Option<&Refund> {
        self.refunds.iter().find(|refund| refund.id == id)
    }

    /// Whether `id` is a saved method (a payment with `payment_method_id` needs one).
    pub fn has_saved_method(&self, id: &str) -> bool {
        self.saved_methods.contains_key(id)
    }

    /// Declines (with `reason`) or, with `None`, allows again the charges of saved method `id`.
    pub fn decline_saved_method(&mut self, id: &str, reason: Option<&str>) {
        match reason {
            Some(reason) => drop(self.declined.insert(id.to_owned(), reason.to_owned())),
            None => drop(self.declined.remove(id)),
        }
    }

    /// Charges the saved method of payment `id` (created with `payment_method_id`): it
    /// succeeds at once, or is cancelled by the payment network when the method is declined.
    pub fn charge_saved(&mut self, id: &str) -> Result<Moved, Error> {
        let entry = self.payment(id).ok_or_else(|| Error::UnknownPayment(id.to_owned()))?;
        let method_id =
            entry.request.get("payment_method_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let method = self.saved_methods.get(&method_id).cloned();
        if let Some(reason) = self.declined.get(&method_id).cloned() {
            let moved = self.cancel(id, Party::PaymentNetwork, &reason, &[PaymentStatus::Pending])?;
            return Ok(moved);
        }
        let fee_percent = self.fee_percent;
        let entry = self.entry_mut(id)?;
        let payment = &mut entry.payment;
        payment.payment_method = method;
        payment.paid = true;
        payment.confirmation = None;
        if entry.capture {
            capture_in_place(payment, None, fee_percent, Utc::now());
        } else {
            payment.status = PaymentStatus::WaitingForCapture;
        }
        Ok(moved(payment))
    }

    pub fn create_payment(&mut self, request: PaymentRequest, body: Value, checkout_base: &str) -> Payment {
        let id = object_id("000f");
        let now = Utc::now();
        let confirmation = request.return_url.map(|return_url| Confirmation {
            kind: "redirect".to_owned(),
            return_url: Some(return_url),
            confirmation_url: Some(format!("{checkout_base}/checkout/{id}")),
        });
        let payment_method = request.method.as_deref().map(|kind| unpaid_method(kind, &id));
        let payment = Payment {
            id: id.clone(),
            status: PaymentStatus::Pending,
            paid: false,
            amount: request.amount,
            income_amount: None,
            description: request.description,
            recipient: Recipient { account_id: self.shop_id.clone(), gateway_id: self.gateway_id.clone() },
            payment_method,
            captured_at: None,
            created_at: now,
            expires_at: None,
            confirmation,
            test: true,
            refunded_amount: None,
            refundable: false,
            receipt_registration: request.receipt.as_ref().map(|_| "pending".to_owned()),
            metadata: request.metadata,
            cancellation_details: None,
            authorization_details: None,
        };
        self.index.insert(id, self.payments.len());
        self.payments.push(PaymentEntry {
            payment: payment.clone(),
            capture: request.capture,
            method: request.method,
            request: body,
            save_method: request.save_method,
        });
        payment
    }

    /// The payer pays: a pending payment is authorised, and captured at once
    /// when it was created with `capture: true`; a payment waiting for
    /// capture is captured in full.
    pub fn pay(&mut self, id: &str, kind: Option<PaymentMethodKind>) -> Result<Moved, Error> {
        let fee_percent = self.fee_percent;
        let entry = self.entry_mut(id)?;
        let now = Utc::now();
        match entry.payment.status {
            PaymentStatus::Pending => {
                let method = kind
                    .map(PaymentMethodKind::wire_name)
                    .or(entry.method.as_deref())
                    .unwrap_or("bank_card")
                    .to_owned();
                let payment = &mut entry.payment;
                let mut paid_with = paid_method(&method, &payment.id);
                // YooKassa saves cards and wallets, not one-off methods such as SBP.
                paid_with.saved = entry.save_method && matches!(method.as_str(), "bank_card" | "yoo_money");
                if paid_with.saved {
                    self.saved_methods.insert(paid_with.id.clone(), paid_with.clone());
                }
                let entry = self.entry_mut(id)?;
                let payment = &mut entry.payment;
                payment.payment_method = Some(paid_with);
                payment.authorization_details = (method == "bank_card").then(|| {
                    json!({"rrn": digits(12), "auth_code": digits(6), "three_d_secure": {"applied": false}})
                });
                payment.paid = true;
                payment.confirmation = None;
                if entry.capture {
                    capture_in_place(payment, None, fee_percent, now);
                } else {
                    payment.status = PaymentStatus::WaitingForCapture;
                    let hold = if method == "bank_card" { Span::days(7) } else { Span::hours(6) };
                    payment.expires_at = Some(now + hold);
                }
                Ok(moved(payment))
            }
            PaymentStatus::WaitingForCapture => {
                capture_in_place(&mut entry.payment, None, fee_percent, now);
                Ok(moved(&entry.payment))
            }
            status => Err(Error::WrongStatus { id: id.to_owned(), status, action: "pay" }),
        }
    }

    /// The shop captures an authorised payment, possibly for less.
    pub fn capture(&mut self, id: &str, amount: Option<Amount>) -> Result<Moved, Error> {
        let fee_percent = self.fee_percent;
        let entry = self.entry_mut(id)?;
        let payment = &mut entry.payment;
        if payment.status != PaymentStatus::WaitingForCapture {
            return Err(Error::WrongStatus { id: id.to_owned(), status: payment.status, action: "capture" });
        }
        if let Some(amount) = &amount {
            if amount.currency != payment.amount.currency {
                return Err(Error::invalid("amount.currency", "The currency differs from the payment's"));
            }
            if amount.value > payment.amount.value {
                return Err(Error::invalid("amount", "Cannot capture more than was authorised"));
            }
        }
        capture_in_place(payment, amount, fee_percent, Utc::now());
        Ok(moved(payment))
    }

    /// Cancels a payment; `allowed` lists the statuses it may be cancelled from.
    pub fn cancel(
        &mut self,
        id: &str,
        party: Party,
        reason: &str,
        allowed: &[PaymentStatus],
    ) -> Result<Moved, Error> {
        let entry = self.entry_mut(id)?;
        let payment = &mut entry.payment;
        if !allowed.contains(&payment.status) {
            return Err(Error::WrongStatus { id: id.to_owned(), status: payment.status, action: "cancel" });
        }
        payment.status = PaymentStatus::Canceled;
        payment.paid = false;
        payment.confirmation = None;
        payment.expires_at = None;
        payment.refundable = false;
        payment.cancellation_details = Some(CancellationDetails { party, reason: reason.to_owned() });
        if payment.receipt_registration.is_some() {
            payment.receipt_registration = Some("canceled".to_owned());
        }
        Ok(moved(payment))
    }

    /// Lets a payment time out: unconfirmed ones expire on confirmation,
    /// authorised ones on capture.
    pub fn expire(&mut self, id: &str) -> Result<Moved, Error> {
        let status = self.payment(id).map(|entry| entry.payment.status);
        let reason = match status {
            Some(PaymentStatus::WaitingForCapture) => "expired_on_capture",
            _ => "expired_on_confirmation",
        };
        self.cancel(id, Party::YooMoney, reason, &[PaymentStatus::Pending, PaymentStatus::WaitingForCapture])
    }

    pub fn create_refund(&mut self, request: RefundRequest) -> Result<(Refund, Payment), Error> {
        let Some(at) = self.index.get(&request.payment_id).copied() else {
            return Err(Error::invalid("payment_id", "No payment with this id"));
        };
        let payment = self
            .payments
            .get_mut(at)
            .map(|entry| &mut entry.payment)
            .ok_or_else(|| Error::UnknownPayment(request.payment_id.clone()))?;
        if payment.status != PaymentStatus::Succeeded {
            return Err(Error::invalid(
                "payment_id",
                format!("Only a succeeded payment can be refunded; this one is {}", payment.status),
            ));
        }
        if request.amount.currency != payment.amount.currency {
            return Err(Error::invalid("amount.currency", "The currency differs from the payment's"));
        }
        let refunded = payment.refunded_amount.as_ref().map_or(Decimal::ZERO, |amount| amount.value);
        let left = payment.amount.value - refunded;
        if request.amount.value > left {
            return Err(Error::invalid(
                "amount",
                format!(
                    "The refund amount exceeds what is left to refund ({})",
                    crate::model::money_string(left)
                ),
            ));
        }
        let total = refunded + request.amount.value;
        payment.refunded_amount = Some(payment.amount.with_value(total));
        payment.refundable = total < payment.amount.value;
        let refund = Refund {
            id: object_id("0015"),
            payment_id: payment.id.clone(),
            status: RefundStatus::Succeeded,
            amount: request.amount,
            created_at: Utc::now(),
            description: request.description,
        };
        let payment = payment.clone();
        self.refunds.push(refund.clone());
        Ok((refund, payment))
    }
}

fn moved(payment: &Payment) -> Moved {
    Moved { payment: payment.clone(), event: Event::for_status(payment.status) }
}

fn capture_in_place(payment: &mut Payment, amount: Option<Amount>, fee_percent: Decimal, now: DateTime<Utc>) {
    if let Some(amount) = amount {
        payment.amount = amount;
    }
    let fee = (payment.amount.value * fee_percent / Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    payment.status = PaymentStatus::Succeeded;
    payment.paid = true;
    payment.captured_at = Some(now);
    payment.expires_at = None;
    payment.confirmation = None;
    payment.income_amount = Some(payment.amount.with_value(payment.amount.value - fee));
    payment.refunded_amount = Some(payment.amount.with_value(Decimal::ZERO));
    payment.refundable = true;
    if payment.receipt_registration.is_some() {
        payment.receipt_registration = Some("succeeded".to_owned());
    }
}

/// The method as shown before the payer paid with it.
fn unpaid_method(kind: &str, payment_id: &str) -> PaymentMethod {
    PaymentMethod {
        kind: kind.to_owned(),
        id: payment_id.to_owned(),
        saved: false,
        title: None,
        details: Map::new(),
    }
}

/// The method as shown once the payer paid with it.
fn paid_method(kind: &str, payment_id: &str) -> PaymentMethod {
    let mut details = Map::new();
    let title = match kind {
        "bank_card" => {
            let last4 = digits(4);
            details.insert(
                "card".to_owned(),
                json!({
                    "first6": "555555",
                    "last4": last4,
                    "expiry_month": "12",
                    "expiry_year": "2030",
                    "card_type": "MasterCard",
                    "issuer_country": "RU",
                }),
            );
            Some(format!("Bank card *{last4}"))
        }
        "sbp" => {
            details.insert(
                "sbp_operation_id".to_owned(),
                Value::from(Uuid::new_v4().simple().to_string().to_uppercase()),
            );
            details.insert(
                "payer_bank_details".to_owned(),
                json!({"bank_id": "100000000111", "bic": "044525225"}),
            );
            Some("SBP".to_owned())
        }
        "yoo_money" => {
            details.insert("account_number".to_owned(), Value::from(format!("4100{}", digits(11))));
            Some("YooMoney wallet".to_owned())
        }
        _ => None,
    };
    PaymentMethod { kind: kind.to_owned(), id: payment_id.to_owned(), saved: false, title, details }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_yookassa_ids() {
        let id = object_id("000f");
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), vec![8, 4, 4, 4, 12]);
        assert_eq!(parts.get(1), Some(&"000f"));
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert!(Uuid::parse_str(&id).is_ok());
    }
}
