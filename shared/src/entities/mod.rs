//! sea-orm entities, one module per table, matching the SQL in `migrations/src/sql`.
//!
//! Columns with a fixed set of values are Rust enums here and CHECK
//! constraints in the database, so no status travels as a bare string.

pub mod jobs;
pub mod ledger_accounts;
pub mod ledger_entries;
pub mod ledger_transactions;
pub mod media_objects;
pub mod payments;
pub mod transcripts;
pub mod users;
