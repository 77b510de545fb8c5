//! Prices of work, as pure functions of the configuration.
//!
//! Transcription is charged per second of audio at a price per minute, the
//! price rounded half-up to 2 decimals. The seconds are the measured length
//! rounded half-up to whole seconds ([`billable_seconds`]): the one rule the
//! quote, the hold, the charge, the notice, the footer and the history all
//! use, so a voice note Telegram calls 519 s and the worker measures at
//! 519.14 s is 519 s everywhere (8:39), and its quote stands.
//! Free allowances are applied before anything is priced: a quote says how
//! many units are free and what the rest costs.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use chrono_tz::Tz;

use crate::billing::money::Credits;

/// A kind of free allowance and the calendar period it renews over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Allowance {
    /// Seconds of transcription, renewed every calendar day.
    TranscriptionSeconds,
    /// Image generations, renewed every calendar month.
    ImageGenerations,
}

impl Allowance {
    /// Its name in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::TranscriptionSeconds => "transcription_seconds",
            Self::ImageGenerations => "image_generations",
        }
    }

    /// Parses the database name.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "transcription_seconds" => Some(Self::TranscriptionSeconds),
            "image_generations" => Some(Self::ImageGenerations),
            _ => None,
        }
    }

    /// Units free per period.
    pub fn limit(self, pricing: &PricingSettings) -> u32 {
        match self {
            Self::TranscriptionSeconds => pricing.free_minutes_per_day.saturating_mul(60),
            Self::ImageGenerations => pricing.image_free_per_month,
        }
    }

    /// First day of the period containing `at`, in the billing time zone.
    pub fn period_start(self, pricing: &PricingSettings, at: DateTime<Utc>) -> NaiveDate {
        let local = at.with_timezone(&pricing.timezone).date_naive();
        match self {
            Self::TranscriptionSeconds => local,
            Self::ImageGenerations => local.with_day(1).unwrap_or(local),
        }
    }
}

/// What a user asks us to do, in the units it is priced in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// Transcribing a recording of this many whole seconds.
    Transcription {
        /// Length in whole seconds ([`billable_seconds`]).
        seconds: u32,
    },
    /// Generating one image.
    ImageGeneration,
    /// Editing one image.
    ImageEdit,
    /// Anything sold at a fixed price with no allowance (e.g. prompt ideas).
    Fixed(Credits),
}

impl Work {
    /// Transcription of a recording of `millis` milliseconds ([`billable_seconds`]).
    pub fn transcription_of_millis(millis: u64) -> Self {
        Self::Transcription { seconds: billable_seconds(millis) }
    }

    /// The allowance this work draws on first, and how many units it needs.
    pub fn allowance(self) -> Option<(Allowance, u32)> {
        match self {
            Self::Transcription { seconds } => Some((Allowance::TranscriptionSeconds, seconds)),
            Self::ImageGeneration => Some((Allowance::ImageGenerations, 1)),
            Self::ImageEdit | Self::Fixed(_) => None,
        }
    }
}

/// The whole seconds a recording of `millis` milliseconds is priced, shown
/// and charged as: rounded half-up (59.5 s is 60 s, 519.14 s is 519 s), and at
/// least one second for anything that has a sound at all.
pub fn billable_seconds(millis: u64) -> u32 {
    let seconds = millis.saturating_add(500) / 1000;
    u32::try_from(seconds).unwrap_or(u32::MAX).max(u32::from(millis > 0))
}

/// The price of `paid_units` of `work` (the units left after the free allowance).
pub fn price_of_units(pricing: &PricingSettings, work: Work, paid_units: u32) -> Credits {
    let amount = match work {
        Work::Transcription { .. } => {
            per_second_price(pricing.transcription_cost_per_minute.amount(), paid_units)
        }
        Work::ImageGeneration => pricing.image_generation_cost.amount() * Decimal::from(paid_units),
        Work::ImageEdit => pricing.image_edit_cost.amount(),
        Work::Fixed(price) => price.amount(),
    };
    // Every input is non-negative and rounded to 2 places, so this cannot fail.
    Credits::new(amount).unwrap_or(Credits::ZERO)
}

fn per_second_price(per_minute: Decimal, seconds: u32) -> Decimal {
    (per_minute * Decimal::from(seconds) / Decimal::from(60))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The most whole seconds of transcription `credits` pay for (`u32::MAX` when transcription is free).
pub fn transcription_seconds_for(pricing: &PricingSettings, credits: Credits) -> u32 {
    let per_minute = pricing.transcription_cost_per_minute.amount();
    if per_minute <= Decimal::ZERO {
        return u32::MAX;
    }
    let estimate = (credits.amount() * Decimal::from(60) / per_minute).floor();
    let mut seconds = rust_decimal::prelude::ToPrimitive::to_u32(&estimate).unwrap_or(u32::MAX);
    // Prices round half-up to 0.01, so the estimate can be a second too generous.
    while seconds > 0 && per_second_price(per_minute, seconds) > credits.amount() {
        seconds -= 1;
    }
    seconds
}

/// The split of a job into its free and paid parts, and the price of the paid part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    /// What is being priced.
    pub work: Work,
    /// Units covered by the free allowance.
    pub free_units: u32,
    /// Units that are paid for.
    pub paid_units: u32,
    /// Price of the paid units.
    pub price: Credits,
}

/// Prices `work` for a user with `free_left` units of its allowance left.
pub fn quote(pricing: &PricingSettings, work: Work, free_left: u32) -> Quote {
    let (free_units, paid_units) = match work.allowance() {
        Some((_, units)) => {
            let free = units.min(free_left);
            (free, units - free)
        }
        None => (0, 1),
    };
    Quote { work, free_units, paid_units, price: price_of_units(pricing, work, paid_units) }
}

/// Prices (in credits) and free allowances.
#[derive(Debug, Clone)]
pub struct PricingSettings {
    /// Price of one minute of audio, charged per second.
    pub transcription_cost_per_minute: Credits,
    /// Free minutes of transcription per user per calendar day.
    pub free_minutes_per_day: u32,
    /// Price of one generated image.
    pub image_generation_cost: Credits,
    /// Price of one edited image.
    pub image_edit_cost: Credits,
    /// Free image generations per user per calendar month.
    pub image_free_per_month: u32,
    /// Time zone whose calendar days and months the allowances follow.
    pub timezone: Tz,
    /// Subscription plans on sale; their allowances are used before the free ones.
    pub plans: crate::billing::plans::PlanList,
}

impl Default for PricingSettings {
    /// The prices and allowances a deployment gets when it configures none
    /// (the defaults of `TRANSCRIPTION_COST_PER_MINUTE` and the rest).
    fn default() -> Self {
        Self {
            transcription_cost_per_minute: Credits::whole(15),
            free_minutes_per_day: 3,
            image_generation_cost: Credits::whole(20),
            image_edit_cost: Credits::whole(25),
            image_free_per_month: 10,
            timezone: chrono_tz::Europe::Moscow,
            plans: crate::billing::plans::PlanList::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::TimeZone;

    use super::*;

    fn pricing() -> PricingSettings {
        PricingSettings::default()
    }

    fn credits(s: &str) -> Credits {
        Credits::from_str(s).unwrap()
    }

    #[test]
    fn transcription_is_charged_per_second_rounded_half_up() {
        let p = pricing();
        let t = |seconds| price_of_units(&p, Work::Transcription { seconds }, seconds);
        assert_eq!(t(60), credits("15"));
        assert_eq!(t(1), credits("0.25"));
        assert_eq!(t(0), Credits::ZERO);
        // 7 credits a minute: 1 s = 0.11666.. -> 0.12; 3 s = 0.35 exactly.
        let mut p7 = pricing();
        p7.transcription_cost_per_minute = credits("7");
        assert_eq!(price_of_units(&p7, Work::Transcription { seconds: 1 }, 1), credits("0.12"));
        assert_eq!(price_of_units(&p7, Work::Transcription { seconds: 3 }, 3), credits("0.35"));
        // 0.5 a minute: 1 s = 0.008333 -> 0.01 (half-up would matter at 0.005).
        let mut half = pricing();
        half.transcription_cost_per_minute = credits("0.3");
        assert_eq!(price_of_units(&half, Work::Transcription { seconds: 1 }, 1), credits("0.01"));
    }

    #[test]
    fn milliseconds_round_half_up_to_whole_seconds() {
        assert_eq!(Work::transcription_of_millis(1), Work::Transcription { seconds: 1 });
        assert_eq!(Work::transcription_of_millis(1000), Work::Transcription { seconds: 1 });
        assert_eq!(Work::transcription_of_millis(1001), Work::Transcription { seconds: 1 });
        assert_eq!(billable_seconds(0), 0);
        assert_eq!(billable_seconds(1499), 1);
        assert_eq!(billable_seconds(1500), 2);
        assert_eq!(billable_seconds(59_499), 59);
        assert_eq!(billable_seconds(59_500), 60, "59.5 s is a minute");
        assert_eq!(billable_seconds(519_140), 519, "what Telegram says of a 519.14 s voice note");
        assert_eq!(billable_seconds(u64::MAX), u32::MAX);
    }

    #[test]
    fn seconds_bought_by_credits_never_cost_more_than_them() {
        let p = pricing();
        assert_eq!(transcription_seconds_for(&p, credits("15")), 60);
        assert_eq!(transcription_seconds_for(&p, credits("0.24")), 0);
        assert_eq!(transcription_seconds_for(&p, Credits::ZERO), 0);
        let mut p7 = pricing();
        p7.transcription_cost_per_minute = credits("7");
        for cents in [1u32, 11, 12, 35, 100, 12_345] {
            let budget = Credits::new(Decimal::new(i64::from(cents), 2)).unwrap();
            let seconds = transcription_seconds_for(&p7, budget);
            assert!(price_of_units(&p7, Work::Transcription { seconds }, seconds) <= budget);
            let more = price_of_units(&p7, Work::Transcription { seconds: seconds + 1 }, seconds + 1);
            assert!(more > budget, "{cents}: {seconds} s");
        }
        let mut free = pricing();
        free.transcription_cost_per_minute = Credits::ZERO;
        assert_eq!(transcription_seconds_for(&free, Credits::ZERO), u32::MAX);
    }

    #[test]
    fn free_units_are_used_first() {
        let p = pricing();
        let q = quote(&p, Work::Transcription { seconds: 300 }, 180);
        assert_eq!((q.free_units, q.paid_units, q.price), (180, 120, credits("30")));
        let q = quote(&p, Work::Transcription { seconds: 100 }, 180);
        assert_eq!((q.free_units, q.paid_units, q.price), (100, 0, Credits::ZERO));
        let q = quote(&p, Work::ImageGeneration, 0);
        assert_eq!((q.free_units, q.paid_units, q.price), (0, 1, credits("20")));
        let q = quote(&p, Work::ImageGeneration, 3);
        assert_eq!((q.free_units, q.price), (1, Credits::ZERO));
        let q = quote(&p, Work::ImageEdit, 10);
        assert_eq!((q.free_units, q.price), (0, credits("25")));
    }

    #[test]
    fn periods_follow_the_billing_time_zone() {
        let p = pricing();
        // 22:30 UTC on 31 Jan is 01:30 on 1 Feb in Moscow (UTC+3).
        let at = Utc.with_ymd_and_hms(2026, 1, 31, 22, 30, 0).unwrap();
        let feb1 = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        assert_eq!(Allowance::TranscriptionSeconds.period_start(&p, at), feb1);
        assert_eq!(Allowance::ImageGenerations.period_start(&p, at), feb1);
        let at = Utc.with_ymd_and_hms(2026, 2, 14, 12, 0, 0).unwrap();
        assert_eq!(Allowance::ImageGenerations.period_start(&p, at), feb1);
        assert_eq!(Allowance::TranscriptionSeconds.limit(&p), 180);
    }
}
