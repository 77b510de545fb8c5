//! Words of subscription plans: `/plan`, its buttons and invoices, and the
//! notices of payments, renewals and ends. Messages live in
//! `shared/locales/<lang>/plans.ftl`, in the same bundles as [`super::i18n::Text`].

use fluent_bundle::FluentArgs;
use rust_decimal::Decimal;

use super::i18n::{Lang, RenderError, amount, formatted, shown, yes_no};

/// Everything plans say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanText {
    /// Heading of the plans on sale.
    Choose,
    /// One plan on sale.
    Offer {
        /// Its name.
        name: String,
        /// Minutes included.
        minutes: u32,
        /// Images included.
        images: u32,
        /// Discount on packages, in percent.
        discount: u32,
        /// Price in roubles.
        price: Decimal,
        /// Price in Stars.
        stars: u32,
    },
    /// The user has no plan.
    None,
    /// The plan the user is inside and what is left of it.
    Current {
        /// Its name.
        name: String,
        /// Minutes left (rounded down).
        minutes_left: u32,
        /// Images left.
        images_left: u32,
        /// Whether it renews on `until`.
        renews: bool,
        /// End of the period, as a date.
        until: String,
    },
    /// No plan is configured.
    Unavailable,
    /// Button: subscribe with Stars.
    StarsButton {
        /// Plan name.
        name: String,
        /// Price in Stars.
        stars: u32,
    },
    /// Button: subscribe by card through YooKassa.
    CardButton {
        /// Plan name.
        name: String,
        /// Price in roubles.
        price: Decimal,
    },
    /// Button: stop renewing.
    CancelButton,
    /// Button: renew again.
    ResumeButton,
    /// Title of a plan's Stars invoice (at most 32 characters).
    InvoiceTitle {
        /// Plan name.
        name: String,
    },
    /// Description of a plan's Stars invoice.
    InvoiceDescription {
        /// Minutes included.
        minutes: u32,
        /// Images included.
        images: u32,
    },
    /// The YooKassa link to subscribe.
    PayByLink {
        /// Plan name.
        name: String,
        /// Price in roubles.
        price: Decimal,
    },
    /// The Stars subscription link.
    PayStars {
        /// Plan name.
        name: String,
        /// Price in Stars.
        stars: u32,
    },
    /// A period was paid: the plan runs until `until`.
    Active {
        /// Plan name.
        name: String,
        /// End of the paid period, as a date.
        until: String,
    },
    /// A plan runs already.
    Already {
        /// Plan name.
        name: String,
        /// Its end, as a date.
        until: String,
    },
    /// Renewal stopped.
    Canceled {
        /// End of the paid period, as a date.
        until: String,
    },
    /// Renewal resumed.
    Resumed {
        /// When it renews, as a date.
        until: String,
    },
    /// Nothing to cancel or resume.
    NotCanceled,
    /// The plan is over.
    Ended {
        /// Plan name.
        name: String,
    },
    /// Renewals by the saved card failed; the plan will not renew.
    RenewalFailed {
        /// Plan name.
        name: String,
        /// End of the paid period, as a date.
        until: String,
    },
    /// Telegram could not charge a Stars plan's renewal.
    StarsRenewalFailed {
        /// Plan name.
        name: String,
        /// End of the paid period, as a date.
        until: String,
    },
    /// A plan taken off sale: it does not renew.
    Withdrawn {
        /// Plan name.
        name: String,
        /// End of the paid period, as a date.
        until: String,
    },
    /// A second plan paid while one runs: that payment goes back.
    DuplicateRefunded {
        /// The plan that goes on.
        name: String,
        /// Its end, as a date.
        until: String,
    },
}

impl PlanText {
    fn message_id(&self) -> &'static str {
        match self {
            Self::Choose => "plan-choose",
            Self::Offer { .. } => "plan-offer",
            Self::None => "plan-none",
            Self::Current { .. } => "plan-current",
            Self::Unavailable => "plans-unavailable",
            Self::StarsButton { .. } => "plan-stars-button",
            Self::CardButton { .. } => "plan-card-button",
            Self::CancelButton => "plan-cancel-button",
            Self::ResumeButton => "plan-resume-button",
            Self::InvoiceTitle { .. } => "plan-invoice-title",
            Self::InvoiceDescription { .. } => "plan-invoice-description",
            Self::PayByLink { .. } => "plan-pay-by-link",
            Self::PayStars { .. } => "plan-pay-stars",
            Self::Active { .. } => "plan-active",
            Self::Already { .. } => "plan-already",
            Self::Canceled { .. } => "plan-canceled",
            Self::Resumed { .. } => "plan-resumed",
            Self::NotCanceled => "plan-not-canceled",
            Self::Ended { .. } => "plan-ended",
            Self::RenewalFailed { .. } => "plan-renewal-failed",
            Self::DuplicateRefunded { .. } => "plan-duplicate-refunded",
            Self::Withdrawn { .. } => "plan-withdrawn",
            Self::StarsRenewalFailed { .. } => "plan-stars-renewal-failed",
        }
    }

    fn arguments(&self) -> FluentArgs<'_> {
        let mut args = FluentArgs::new();
        match self {
            Self::Choose
            | Self::None
            | Self::Unavailable
            | Self::CancelButton
            | Self::ResumeButton
            | Self::NotCanceled => {}
            Self::Offer { name, minutes, images, discount, price, stars } => {
                args.set("name", name.as_str());
                args.set("minutes", *minutes);
                args.set("images", *images);
                args.set("discount", *discount);
                args.set("price", amount(*price));
                args.set("stars", *stars);
            }
            Self::Current { name, minutes_left, images_left, renews, until } => {
                args.set("name", name.as_str());
                args.set("minutes_left", *minutes_left);
                args.set("images_left", *images_left);
                args.set("renews", yes_no(*renews));
                args.set("until", until.as_str());
            }
            Self::StarsButton { name, stars } | Self::PayStars { name, stars } => {
                args.set("name", name.as_str());
                args.set("stars", *stars);
            }
            Self::CardButton { name, price } | Self::PayByLink { name, price } => {
                args.set("name", name.as_str());
                args.set("price", amount(*price));
            }
            Self::InvoiceTitle { name } | Self::Ended { name } => args.set("name", name.as_str()),
            Self::InvoiceDescription { minutes, images } => {
                args.set("minutes", *minutes);
                args.set("images", *images);
            }
            Self::Active { name, until }
            | Self::Already { name, until }
            | Self::RenewalFailed { name, until }
            | Self::DuplicateRefunded { name, until }
            | Self::Withdrawn { name, until }
            | Self::StarsRenewalFailed { name, until } => {
                args.set("name", name.as_str());
                args.set("until", until.as_str());
            }
            Self::Canceled { until } | Self::Resumed { until } => args.set("until", until.as_str()),
        }
        args
    }

    /// The text in `lang` (a missing message panics in debug builds, where the
    /// tests render every one, and is logged in release).
    pub fn render(&self, lang: Lang) -> String {
        shown(self.try_render(lang))
    }

    /// The text in `lang`, or what is missing.
    ///
    /// # Errors
    /// When the catalogue lacks the message or one of its arguments.
    pub fn try_render(&self, lang: Lang) -> Result<String, RenderError> {
        formatted(self.message_id(), lang, &self.arguments(), Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use sea_orm::Iterable;

    use super::*;

    fn samples() -> Vec<PlanText> {
        let name = || "Pro".to_owned();
        let until = || "07.01.2027".to_owned();
        let mut all = vec![
            PlanText::Choose,
            PlanText::None,
            PlanText::Unavailable,
            PlanText::StarsButton { name: name(), stars: 350 },
            PlanText::CardButton { name: name(), price: Decimal::new(69950, 2) },
            PlanText::CancelButton,
            PlanText::ResumeButton,
            PlanText::InvoiceTitle { name: name() },
            PlanText::InvoiceDescription { minutes: 1200, images: 100 },
            PlanText::PayByLink { name: name(), price: Decimal::from(699) },
            PlanText::PayStars { name: name(), stars: 350 },
            PlanText::Active { name: name(), until: until() },
            PlanText::Already { name: name(), until: until() },
            PlanText::Canceled { until: until() },
            PlanText::Resumed { until: until() },
            PlanText::NotCanceled,
            PlanText::Ended { name: name() },
            PlanText::RenewalFailed { name: name(), until: until() },
            PlanText::DuplicateRefunded { name: name(), until: until() },
            PlanText::Withdrawn { name: name(), until: until() },
            PlanText::StarsRenewalFailed { name: name(), until: until() },
        ];
        for (images, discount) in [(1, 0), (3, 10), (100, 5)] {
            all.push(PlanText::Offer {
                name: name(),
                minutes: 300,
                images,
                discount,
                price: Decimal::from(299),
                stars: 150,
            });
        }
        for (images_left, renews) in [(1, true), (2, false), (21, true)] {
            all.push(PlanText::Current {
                name: name(),
                minutes_left: 42,
                images_left,
                renews,
                until: until(),
            });
        }
        all
    }

    fn message_ids(source: &str) -> BTreeSet<String> {
        let resource =
            fluent_syntax::parser::parse(source).unwrap_or_else(|(_, errors)| panic!("{errors:?}"));
        resource
            .body
            .into_iter()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_plan_message_is_used_and_renders_in_both_languages() {
        let used: BTreeSet<String> = samples().iter().map(|text| text.message_id().to_owned()).collect();
        let ru = message_ids(super::super::i18n::RU_PLANS_FTL);
        assert_eq!(ru, message_ids(super::super::i18n::EN_PLANS_FTL), "ru and en define different messages");
        assert_eq!(ru, used, "messages and texts differ");
        for lang in Lang::iter() {
            for text in samples() {
                let rendered = text.try_render(lang).unwrap_or_else(|err| panic!("{err}"));
                assert!(!rendered.trim().is_empty(), "{text:?} in {lang} is empty");
            }
        }
        let offer = PlanText::Offer {
            name: "Pro".into(),
            minutes: 300,
            images: 3,
            discount: 10,
            price: Decimal::from(299),
            stars: 150,
        };
        assert_eq!(
            offer.render(Lang::Ru),
            "• Pro: 300 мин расшифровки и 3 картинки, скидка 10% на пакеты кредитов — 299 ₽ или 150 ⭐ в месяц"
        );
        let title = PlanText::InvoiceTitle { name: "Premium1234567890".into() }.render(Lang::En);
        assert!(title.chars().count() <= 32, "{title}");
    }
}
