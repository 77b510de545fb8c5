//! Credit amounts: exact decimals that cannot be negative.

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Scale of every amount stored in the ledger (`numeric(20,4)`).
pub const CREDIT_SCALE: u32 = 4;

/// A non-negative amount of credits with at most four decimal places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Credits(Decimal);

/// Why a number is not a valid amount of credits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditsError {
    /// The amount is below zero.
    #[error("amount must not be negative, got {0}")]
    Negative(Decimal),
    /// The amount has more than four decimal places.
    #[error("amount must have at most {CREDIT_SCALE} decimal places, got {0}")]
    TooPrecise(Decimal),
    /// The text is not a decimal number.
    #[error("not a decimal number: {0:?}")]
    NotANumber(String),
}

impl Credits {
    /// Zero credits.
    pub const ZERO: Credits = Credits(Decimal::ZERO);

    /// Checks that `amount` is a valid credit amount.
    pub fn new(amount: Decimal) -> Result<Self, CreditsError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(CreditsError::Negative(amount));
        }
        if amount.normalize().scale() > CREDIT_SCALE {
            return Err(CreditsError::TooPrecise(amount));
        }
        Ok(Self(amount.normalize()))
    }

    /// A whole number of credits.
    pub fn whole(amount: u32) -> Self {
        Self(Decimal::from(amount))
    }

    /// The amount as a decimal.
    pub fn amount(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Credits {
    type Error = CreditsError;
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Credits> for Decimal {
    fn from(value: Credits) -> Self {
        value.0
    }
}

impl FromStr for Credits {
    type Err = CreditsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let amount = Decimal::from_str(s.trim()).map_err(|_| CreditsError::NotANumber(s.to_owned()))?;
        Self::new(amount)
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_amounts() {
        assert_eq!("15".parse::<Credits>().map(Credits::amount), Ok(Decimal::new(15, 0)));
        assert_eq!("0.2500".parse::<Credits>().map(|c| c.to_string()), Ok("0.25".into()));
    }

    #[test]
    fn rejects_negative_imprecise_and_garbage() {
        assert!(matches!("-1".parse::<Credits>(), Err(CreditsError::Negative(_))));
        assert!(matches!("0.00001".parse::<Credits>(), Err(CreditsError::TooPrecise(_))));
        assert!(matches!("ten".parse::<Credits>(), Err(CreditsError::NotANumber(_))));
    }
}
