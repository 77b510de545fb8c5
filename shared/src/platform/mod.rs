//! The ground every other owner stands on: connections to PostgreSQL, Redis and object storage
//! (`services`, `db`), secrets that never print (`secret`), logging (`telemetry`) and shutdown
//! on SIGTERM (`shutdown`). It knows nothing of the business and depends on no other owner.

pub mod db;
pub mod secret;
pub mod services;
pub mod shutdown;
pub mod telemetry;
