//! Money: the `Credits` amount type (`money`), what work costs and which free allowance it uses
//! first (`pricing`, with its `PricingSettings`), the subscription plans whose allowances come
//! before the free ones (`plans`), and the double-entry ledger that is the only code moving
//! credits (`ledger`: postings, holds, reports). Depends on `entities` only.

pub mod ledger;
pub mod money;
pub mod plans;
pub mod pricing;
