//! Subscription plans on sale, read from `SUBSCRIPTION_PLANS`, and the
//! allowances a plan grants for each of its periods.

use std::{fmt, str::FromStr};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::billing::pricing::Allowance;

/// How long one paid period of a plan lasts (Telegram requires 30 days for Stars subscriptions).
pub const PLAN_PERIOD: chrono::Duration = chrono::Duration::days(30);

/// [`PLAN_PERIOD`] in seconds, as `createInvoiceLink` takes it.
pub const PLAN_PERIOD_SECONDS: u32 = 30 * 24 * 3600;

/// A plan users can subscribe to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Its name, as configured and shown (`Basic`); its id is the lowercase form.
    pub name: String,
    /// Monthly price in roubles.
    pub price_rub: Decimal,
    /// Monthly price in Telegram Stars.
    pub price_stars: u32,
    /// Transcription minutes included per period.
    pub minutes: u32,
    /// Image generations included per period.
    pub images: u32,
    /// Discount on credit packages bought while the plan runs, in percent.
    pub discount_percent: u32,
}

impl Plan {
    /// The stable id kept in the database and in buttons (`basic`).
    pub fn id(&self) -> String {
        self.name.to_lowercase()
    }

    /// What a subscription bought now gets, for its whole life.
    pub fn terms(&self) -> PlanTerms {
        PlanTerms { minutes: self.minutes, images: self.images, discount_percent: self.discount_percent }
    }

    /// Units of `allowance` included per period.
    pub fn includes(&self, allowance: Allowance) -> u32 {
        self.terms().includes(allowance)
    }
}

/// What a subscription includes each period, fixed when it is bought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanTerms {
    /// Transcription minutes per period.
    pub minutes: u32,
    /// Image generations per period.
    pub images: u32,
    /// Discount on credit packages, in percent.
    pub discount_percent: u32,
}

impl PlanTerms {
    /// Units of `allowance` included per period.
    pub fn includes(&self, allowance: Allowance) -> u32 {
        match allowance {
            Allowance::TranscriptionSeconds => self.minutes.saturating_mul(60),
            Allowance::ImageGenerations => self.images,
        }
    }
}

/// The plans from `SUBSCRIPTION_PLANS`: `name:roubles:stars:minutes:images:discount%`,
/// comma-separated; empty (the default) sells no plans.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanList(pub Vec<Plan>);

impl FromStr for PlanList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut plans: Vec<Plan> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let parts: Vec<&str> = item.split(':').map(str::trim).collect();
            let [name, rub, stars, minutes, images, discount] = parts.as_slice() else {
                return Err(format!("`{item}` is not name:roubles:stars:minutes:images:discount%"));
            };
            if name.is_empty() || name.chars().count() > 16 || !name.chars().all(char::is_alphanumeric) {
                return Err(format!("`{name}`: a plan's name is 1-16 letters or digits"));
            }
            let price_rub =
                Decimal::from_str(rub).map_err(|_| format!("`{rub}` is not a price in roubles"))?;
            let number = |text: &str, what: &str| -> Result<u32, String> {
                text.parse().map_err(|_| format!("`{text}` is not {what}"))
            };
            let plan = Plan {
                name: (*name).to_owned(),
                price_rub,
                price_stars: number(stars, "a number of Stars")?,
                minutes: number(minutes, "a number of minutes")?,
                images: number(images, "a number of images")?,
                discount_percent: number(discount, "a discount percentage")?,
            };
            // Telegram takes at most 10,000 Stars for a subscription period.
            if price_rub <= Decimal::ZERO
                || price_rub.scale() > 2
                || !(1..=10_000).contains(&plan.price_stars)
            {
                return Err(format!(
                    "`{item}`: prices must be positive, roubles with at most 2 decimals, at most 10000 Stars"
                ));
            }
            if plan.discount_percent >= 100 {
                return Err(format!("`{item}`: the discount must be under 100%"));
            }
            if plans.iter().any(|other| other.id() == plan.id()) {
                return Err(format!("`{name}` is configured twice"));
            }
            plans.push(plan);
        }
        Ok(Self(plans))
    }
}

impl PlanList {
    /// The plan with this id.
    pub fn find(&self, id: &str) -> Option<&Plan> {
        self.0.iter().find(|plan| plan.id() == id)
    }

    /// Whether any plan is on sale.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A plan period a user is inside now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanPeriod {
    /// The plan's id.
    pub plan: String,
    /// The plan's name, as shown when it was bought.
    pub name: String,
    /// When the period began.
    pub starts_at: DateTime<Utc>,
    /// When it ends: past this instant it grants nothing.
    pub ends_at: DateTime<Utc>,
    /// What the subscription includes, as it was bought.
    pub terms: PlanTerms,
}

impl PlanPeriod {
    /// The key of this period's usage rows: the day it began, in the billing time zone.
    pub fn usage_key(&self, timezone: Tz) -> NaiveDate {
        self.starts_at.with_timezone(&timezone).date_naive()
    }
}

/// The usage row name of a plan's allowance (`plan_transcription_seconds`).
pub fn usage_code(allowance: Allowance) -> &'static str {
    match allowance {
        Allowance::TranscriptionSeconds => "plan_transcription_seconds",
        Allowance::ImageGenerations => "plan_image_generations",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_from_configuration() {
        let plans: PlanList = "Basic:299:150:300:30:0, Pro:699.50:350:1200:100:10".parse().unwrap();
        let pro = plans.find("pro").unwrap();
        assert_eq!(pro.price_rub, Decimal::new(69950, 2));
        assert_eq!((pro.price_stars, pro.minutes, pro.images, pro.discount_percent), (350, 1200, 100, 10));
        assert_eq!(pro.includes(Allowance::TranscriptionSeconds), 72_000);
        assert_eq!("".parse::<PlanList>().unwrap(), PlanList::default());
        for bad in [
            "Basic:299:150:300:30",
            "Basic:0:150:300:30:0",
            "Basic:299:20000:300:30:0",
            "Basic:299:150:300:30:100",
            "Ba sic:299:150:300:30:0",
            "Basic:299:150:300:30:0,basic:1:1:1:1:0",
            "Basic:2.999:150:300:30:0",
        ] {
            assert!(bad.parse::<PlanList>().is_err(), "{bad}");
        }
    }
}
