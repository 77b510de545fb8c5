//! Money: the `Credits` amount type (`money`), what work costs and which free allowance it uses
//! first (`pricing`, with its `PricingSettings`), and the double-entry ledger that is the only
//! code moving credits (`ledger`: postings, holds, reports). Depends on `entities` only.

pub mod ledger;
pub mod money;
pub mod pricing;
