//! The ground every other owner stands on: connections to PostgreSQL, Redis and object storage
//! (`services`, `db`), secrets that never print (`secret`), logging (`telemetry`), the live
//! counters and histograms every owner records into (`metrics`) and shutdown on SIGTERM
//! (`shutdown`). It depends on no other owner (the metrics' labels name kinds from `entities`).

pub mod db;
pub mod metrics;
pub mod secret;
pub mod services;
pub mod shutdown;
pub mod telemetry;
