//! Parsing of request bodies into what the fake acts on.
//!
//! YooKassa rejects a malformed request with `invalid_request` and names the
//! offending parameter; each check here does the same, so code that passes
//! against the fake sends what the real API accepts.

use std::{collections::BTreeMap, str::FromStr};

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::model::Amount;

/// A request the API refuses, with the parameter at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub parameter: Option<String>,
    pub description: String,
}

impl Invalid {
    fn at(parameter: impl Into<String>, description: impl Into<String>) -> Self {
        Self { parameter: Some(parameter.into()), description: description.into() }
    }
}

/// A valid `POST /payments` body.
#[derive(Debug, Clone)]
pub(crate) struct PaymentRequest {
    pub amount: Amount,
    pub description: Option<String>,
    pub capture: bool,
    pub return_url: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub receipt: Option<Value>,
    pub method: Option<String>,
    /// `save_payment_method`: keep the method for payments without the payer.
    pub save_method: bool,
    /// `payment_method_id`: charge a saved method, without the payer.
    pub saved_method: Option<String>,
}

/// A valid `POST /refunds` body.
#[derive(Debug, Clone)]
pub(crate) struct RefundRequest {
    pub payment_id: String,
    pub amount: Amount,
    pub description: Option<String>,
}

const METHOD_TYPES: &[&str] =
    &["bank_card", "sbp", "yoo_money", "sberbank", "tinkoff_bank", "sber_loan", "mobile_balance", "cash"];

const PAYMENT_MODES: &[&str] = &[
    "full_prepayment",
    "partial_prepayment",
    "advance",
    "full_payment",
    "partial_payment",
    "credit",
    "credit_payment",
];

const PAYMENT_SUBJECTS: &[&str] = &[
    "commodity",
    "excise",
    "job",
    "service",
    "gambling_bet",
    "gambling_prize",
    "lottery",
    "lottery_prize",
    "intellectual_activity",
    "payment",
    "agent_commission",
    "composite",
    "another",
    "property_right",
    "non_operating_gain",
    "insurance_premium",
    "sales_tax",
    "resort_fee",
    "fine",
    "tax",
    "lien",
    "cost",
    "pension_insurance_without_payouts",
    "pension_insurance_with_payouts",
    "health_insurance_without_payouts",
    "health_insurance_with_payouts",
    "health_insurance",
    "casino",
    "agent_withdrawals",
    "non_marked_excise",
    "marked_excise",
    "marked",
    "non_marked",
];

fn object<'a>(body: &'a Value, parameter: &str) -> Result<&'a Map<String, Value>, Invalid> {
    body.as_object().ok_or_else(|| Invalid::at(parameter, format!("`{parameter}` must be a JSON object")))
}

fn optional_string(
    fields: &Map<String, Value>,
    name: &str,
    parameter: &str,
    max_chars: usize,
) -> Result<Option<String>, Invalid> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.chars().count() <= max_chars => Ok(Some(text.clone())),
        Some(Value::String(_)) => {
            Err(Invalid::at(parameter, format!("`{parameter}` is longer than {max_chars} characters")))
        }
        Some(_) => Err(Invalid::at(parameter, format!("`{parameter}` must be a string"))),
    }
}

/// A positive amount whose value is a decimal string with at most two places.
pub(crate) fn amount(value: Option<&Value>, parameter: &str) -> Result<Amount, Invalid> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Err(Invalid::at(parameter, format!("`{parameter}` is required")));
    };
    let fields = object(value, parameter)?;
    let value_parameter = format!("{parameter}.value");
    let text = match fields.get("value") {
        Some(Value::String(text)) => text,
        Some(_) => {
            return Err(Invalid::at(value_parameter, "The amount value must be a string such as \"100.00\""));
        }
        None => return Err(Invalid::at(value_parameter, "The amount value is required")),
    };
    let value = money(text).ok_or_else(|| {
        Invalid::at(
            &value_parameter,
            format!("`{text}` is not a positive amount with at most two decimal places"),
        )
    })?;
    let currency_parameter = format!("{parameter}.currency");
    let currency = match fields.get("currency") {
        Some(Value::String(code)) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) => code,
        Some(_) => {
            return Err(Invalid::at(currency_parameter, "The currency must be an ISO 4217 code such as RUB"));
        }
        None => return Err(Invalid::at(currency_parameter, "The currency is required")),
    };
    Ok(Amount { value, currency: currency.clone() })
}

/// `123`, `123.4` or `123.45`, greater than zero.
fn money(text: &str) -> Option<Decimal> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let shaped =
        !whole.is_empty() && digits(whole) && digits(fraction) && fraction.len() <= 2 && !text.ends_with('.');
    let value = Decimal::from_str(text).ok().filter(|_| shaped)?;
    (value > Decimal::ZERO).then_some(value)
}

/// A positive quantity written as a JSON number or a decimal string.
fn quantity(value: Option<&Value>, parameter: &str) -> Result<Decimal, Invalid> {
    let parsed = match value {
        Some(Value::Number(number)) => Decimal::from_str(&number.to_string()).ok(),
        Some(Value::String(text)) => Decimal::from_str(text).ok(),
        _ => None,
    };
    parsed
        .filter(|q| *q > Decimal::ZERO)
        .ok_or_else(|| Invalid::at(parameter, "The quantity must be a positive number"))
}

pub(crate) fn payment_request(body: &Value) -> Result<PaymentRequest, Invalid> {
    let fields = body.as_object().ok_or_else(|| Invalid {
        parameter: None,
        description: "The request body must be a JSON object".to_owned(),
    })?;
    let amount = amount(fields.get("amount"), "amount")?;
    let description = optional_string(fields, "description", "description", 128)?;
    let capture = match fields.get("capture") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(capture)) => *capture,
        Some(_) => return Err(Invalid::at("capture", "`capture` must be true or false")),
    };
    let return_url = match fields.get("confirmation") {
        None | Some(Value::Null) => None,
        Some(confirmation) => Some(confirmation_return_url(confirmation)?),
    };
    let metadata = match fields.get("metadata") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(metadata) => metadata_map(metadata)?,
    };
    let receipt = match fields.get("receipt") {
        None | Some(Value::Null) => None,
        Some(receipt) => {
            check_receipt(receipt, &amount)?;
            Some(receipt.clone())
        }
    };
    let method = match fields.get("payment_method_data") {
        None | Some(Value::Null) => None,
        Some(data) => {
            let data = object(data, "payment_method_data")?;
            match data.get("type").and_then(Value::as_str) {
                Some(kind) if METHOD_TYPES.contains(&kind) => Some(kind.to_owned()),
                _ => {
                    return Err(Invalid::at(
                        "payment_method_data.type",
                        "Unknown or missing payment method type",
                    ));
                }
            }
        }
    };
    let save_method = match fields.get("save_payment_method") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(save)) => *save,
        Some(_) => {
            return Err(Invalid::at("save_payment_method", "`save_payment_method` must be true or false"));
        }
    };
    let saved_method = optional_string(fields, "payment_method_id", "payment_method_id", 64)?;
    if saved_method.is_some() && (method.is_some() || save_method) {
        return Err(Invalid::at(
            "payment_method_id",
            "`payment_method_id` cannot come with `payment_method_data` or `save_payment_method`",
        ));
    }
    Ok(PaymentRequest {
        amount,
        description,
        capture,
        return_url,
        metadata,
        receipt,
        method,
        save_method,
        saved_method,
    })
}

fn confirmation_return_url(confirmation: &Value) -> Result<String, Invalid> {
    let fields = object(confirmation, "confirmation")?;
    match fields.get("type").and_then(Value::as_str) {
        Some("redirect") => {}
        Some(_) => {
            return Err(Invalid::at(
                "confirmation.type",
                "This fake supports only the `redirect` confirmation type",
            ));
        }
        None => return Err(Invalid::at("confirmation.type", "The confirmation type is required")),
    }
    match optional_string(fields, "return_url", "confirmation.return_url", 2048)? {
        Some(url) if url.contains("://") => Ok(url),
        Some(_) => Err(Invalid::at("confirmation.return_url", "The return URL must be an absolute URL")),
        None => Err(Invalid::at("confirmation.return_url", "A redirect confirmation needs a return_url")),
    }
}

fn metadata_map(metadata: &Value) -> Result<BTreeMap<String, String>, Invalid> {
    let fields = object(metadata, "metadata")?;
    if fields.len() > 16 {
        return Err(Invalid::at("metadata", "Metadata may hold at most 16 keys"));
    }
    fields
        .iter()
        .map(|(key, value)| match value {
            Value::String(text) if key.chars().count() <= 32 && text.chars().count() <= 512 => {
                Ok((key.clone(), text.clone()))
            }
            Value::String(_) => {
                Err(Invalid::at("metadata", "Metadata keys are at most 32 characters and values at most 512"))
            }
            _ => Err(Invalid::at("metadata", format!("Metadata value `{key}` must be a string"))),
        })
        .collect()
}

/// The basics of a 54-FZ receipt: who gets it, and items that add up to the payment.
fn check_receipt(receipt: &Value, total: &Amount) -> Result<(), Invalid> {
    let fields = object(receipt, "receipt")?;
    let contact = |fields: &Map<String, Value>| {
        ["email", "phone"]
            .iter()
            .any(|name| fields.get(*name).and_then(Value::as_str).is_some_and(|v| !v.is_empty()))
    };
    let customer_ok = match fields.get("customer") {
        Some(customer) => contact(object(customer, "receipt.customer")?),
        None => contact(fields),
    };
    if !customer_ok {
        return Err(Invalid::at("receipt.customer", "The receipt needs the customer's email or phone"));
    }
    let items = match fields.get("items") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= 100 => items,
        _ => return Err(Invalid::at("receipt.items", "The receipt needs between 1 and 100 items")),
    };
    let mut sum = Decimal::ZERO;
    for (index, item) in items.iter().enumerate() {
        let at = |name: &str| format!("receipt.items[{index}].{name}");
        let item_fields = object(item, &format!("receipt.items[{index}]"))?;
        match optional_string(item_fields, "description", &at("description"), 128)? {
            Some(text) if !text.is_empty() => {}
            _ => return Err(Invalid::at(at("description"), "Each receipt item needs a description")),
        }
        let quantity = quantity(item_fields.get("quantity"), &at("quantity"))?;
        let price = amount(item_fields.get("amount"), &at("amount"))?;
        if price.currency != total.currency {
            return Err(Invalid::at(
                at("amount.currency"),
                "Receipt items must be in the payment's currency",
            ));
        }
        match item_fields.get("vat_code").and_then(Value::as_u64) {
            Some(1..=12) => {}
            _ => return Err(Invalid::at(at("vat_code"), "`vat_code` must be an integer from 1 to 12")),
        }
        check_listed(item_fields, "payment_subject", &at("payment_subject"), PAYMENT_SUBJECTS)?;
        check_listed(item_fields, "payment_mode", &at("payment_mode"), PAYMENT_MODES)?;
        sum += price.value * quantity;
    }
    if sum.round_dp(2) != total.value {
        return Err(Invalid::at(
            "receipt",
            format!(
                "The receipt items add up to {} but the payment amount is {}",
                crate::model::money_string(sum),
                crate::model::money_string(total.value)
            ),
        ));
    }
    Ok(())
}

fn check_listed(
    fields: &Map<String, Value>,
    name: &str,
    parameter: &str,
    allowed: &[&str],
) -> Result<(), Invalid> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(value)) if allowed.contains(&value.as_str()) => Ok(()),
        Some(_) => Err(Invalid::at(parameter, format!("Unknown value of `{name}`"))),
    }
}

/// The optional body of `POST /payments/{id}/capture`: a smaller amount to capture.
pub(crate) fn capture_request(body: &Value) -> Result<Option<Amount>, Invalid> {
    match body {
        Value::Null => Ok(None),
        Value::Object(fields) => match fields.get("amount") {
            None | Some(Value::Null) => Ok(None),
            Some(value) => amount(Some(value), "amount").map(Some),
        },
        _ => {
            Err(Invalid { parameter: None, description: "The request body must be a JSON object".to_owned() })
        }
    }
}

pub(crate) fn refund_request(body: &Value) -> Result<RefundRequest, Invalid> {
    let fields = body.as_object().ok_or_else(|| Invalid {
        parameter: None,
        description: "The request body must be a JSON object".to_owned(),
    })?;
    let payment_id = match fields.get("payment_id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(Invalid::at("payment_id", "`payment_id` is required")),
    };
    let amount = amount(fields.get("amount"), "amount")?;
    let description = optional_string(fields, "description", "description", 250)?;
    Ok(RefundRequest { payment_id, amount, description })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn amounts_must_be_positive_strings_with_two_decimals_at_most() {
        for good in ["1", "100.00", "0.5", "149.9"] {
            assert!(money(good).is_some(), "{good}");
        }
        for bad in ["0", "0.00", "-1.00", "1.234", "1e3", "", ".5", "5.", "1,00", " 1"] {
            assert!(money(bad).is_none(), "{bad}");
        }
        let err = amount(Some(&json!({"value": 100, "currency": "RUB"})), "amount").err();
        assert_eq!(err.and_then(|e| e.parameter).as_deref(), Some("amount.value"));
        let err = amount(Some(&json!({"value": "1.00", "currency": "rub"})), "amount").err();
        assert_eq!(err.and_then(|e| e.parameter).as_deref(), Some("amount.currency"));
    }

    #[test]
    fn receipts_need_a_contact_and_items_adding_up() {
        let total = Amount::rub(Decimal::new(20000, 2));
        let item = json!({"description": "Credits", "quantity": 2, "amount": {"value": "100.00", "currency": "RUB"},
            "vat_code": 1, "payment_subject": "service", "payment_mode": "full_payment"});
        let receipt = json!({"customer": {"email": "a@b.c"}, "items": [item]});
        assert_eq!(check_receipt(&receipt, &total), Ok(()));
        let short = Amount::rub(Decimal::new(10000, 2));
        assert_eq!(
            check_receipt(&receipt, &short).err().and_then(|e| e.parameter).as_deref(),
            Some("receipt")
        );
        let anonymous = json!({"customer": {}, "items": [item]});
        assert_eq!(
            check_receipt(&anonymous, &total).err().and_then(|e| e.parameter).as_deref(),
            Some("receipt.customer")
        );
    }

    #[test]
    fn metadata_values_must_be_strings() {
        assert!(metadata_map(&json!({"user_id": "42"})).is_ok());
        assert!(metadata_map(&json!({"user_id": 42})).is_err());
    }
}
