//! Credit packages on sale, read from `CREDIT_PACKAGES`.

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;

use crate::billing::money::Credits;

/// A credit package users can buy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditPackage {
    /// Stable id used in payloads (`p100`).
    pub id: String,
    /// Credits before the bonus.
    pub credits: u32,
    /// Bonus on top, in percent.
    pub bonus_percent: u32,
    /// Price in roubles.
    pub price_rub: Decimal,
    /// Price in Telegram Stars.
    pub price_stars: u32,
}

impl CreditPackage {
    /// Credits granted, bonus included (rounded down to whole credits).
    pub fn total_credits(&self) -> Credits {
        Credits::whole(self.credits + self.credits * self.bonus_percent / 100)
    }

    /// The same package `percent` cheaper (a plan's discount): roubles rounded half-up to
    /// kopecks, Stars half-up to whole ones, never below one kopeck or one Star.
    #[must_use]
    pub fn discounted(&self, percent: u32) -> Self {
        if percent == 0 {
            return self.clone();
        }
        let keep = Decimal::from(100u32.saturating_sub(percent)) / Decimal::ONE_HUNDRED;
        let rub = (self.price_rub * keep)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let stars = (Decimal::from(self.price_stars) * keep)
            .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        Self {
            price_rub: rub.max(Decimal::new(1, 2)),
            price_stars: rust_decimal::prelude::ToPrimitive::to_u32(&stars)
                .unwrap_or(self.price_stars)
                .max(1),
            ..self.clone()
        }
    }
}

/// A list of packages from `CREDIT_PACKAGES`: `credits:bonus%:roubles:stars`, comma-separated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageList(pub Vec<CreditPackage>);

impl FromStr for PackageList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut packages = Vec::new();
        for item in s.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let parts: Vec<&str> = item.split(':').collect();
            let [credits, bonus, rub, stars] = parts.as_slice() else {
                return Err(format!("`{item}` is not credits:bonus%:roubles:stars"));
            };
            let credits: u32 =
                credits.parse().map_err(|_| format!("`{credits}` is not a number of credits"))?;
            let bonus_percent: u32 =
                bonus.parse().map_err(|_| format!("`{bonus}` is not a bonus percentage"))?;
            let price_rub =
                Decimal::from_str(rub).map_err(|_| format!("`{rub}` is not a price in roubles"))?;
            let price_stars: u32 =
                stars.parse().map_err(|_| format!("`{stars}` is not a number of Stars"))?;
            if credits == 0 || price_rub <= Decimal::ZERO || price_rub.scale() > 2 || price_stars == 0 {
                return Err(format!(
                    "`{item}`: credits and prices must be positive, roubles with at most 2 decimals"
                ));
            }
            packages.push(CreditPackage {
                id: format!("p{credits}"),
                credits,
                bonus_percent,
                price_rub,
                price_stars,
            });
        }
        if packages.is_empty() {
            return Err("at least one package is needed".into());
        }
        Ok(Self(packages))
    }
}

impl PackageList {
    /// The package with this id.
    pub fn find(&self, id: &str) -> Option<&CreditPackage> {
        self.0.iter().find(|package| package.id == id)
    }
}

impl fmt::Display for CreditPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} credits", self.total_credits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_discount_lowers_both_prices_and_keeps_the_credits() {
        let list: PackageList = "300:10:399:270".parse().unwrap();
        let package = &list.0[0];
        let cheaper = package.discounted(10);
        assert_eq!((cheaper.price_rub, cheaper.price_stars), (Decimal::new(35910, 2), 243));
        assert_eq!(cheaper.total_credits(), package.total_credits());
        assert_eq!(package.discounted(0), *package);
        assert_eq!(package.discounted(99).price_stars, 3);
    }
}
