//! Telegram updates received by webhook, taken once by `update_id`.
//!
//! The webhook answers Telegram only after the update is taken here and
//! handled: an update we cannot take (PostgreSQL away) gets an error answer,
//! so Telegram delivers it again later instead of it being lost; a second
//! delivery of an update already taken is answered without handling it again.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// How long a take that was never marked handled (its process died mid-way)
/// blocks a redelivery of the same update.
pub const TAKE_EXPIRES_SECONDS: i64 = 60;

/// Whether the update is ours to handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Taken now: handle it, then call [`handled`].
    Taken,
    /// Already handled, or being handled by another request.
    Duplicate,
}

/// Takes update `update_id`, durably.
///
/// # Errors
/// When the database cannot record it: the update must not be acknowledged.
pub async fn take<C: ConnectionTrait>(db: &C, update_id: i64) -> Result<Take, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO telegram_updates (update_id) VALUES ($1) \
             ON CONFLICT (update_id) DO UPDATE SET taken_at = now() \
             WHERE telegram_updates.handled_at IS NULL \
               AND telegram_updates.taken_at < now() - $2 * INTERVAL '1 second' \
             RETURNING update_id",
            [update_id.into(), TAKE_EXPIRES_SECONDS.into()],
        ))
        .await?;
    Ok(if row.is_some() { Take::Taken } else { Take::Duplicate })
}

/// Marks a taken update handled, without waiting for the mark to be flushed: were it lost in
/// a crash, Telegram (answered after this) would not send the update again, and a redelivery
/// is refused anyway until the take expires. The commit's WAL flush was a third of a
/// command's database time.
///
/// # Errors
/// When the database is unreachable.
pub async fn handled<C: ConnectionTrait>(db: &C, update_id: i64) -> Result<(), DbErr> {
    // One round trip: `SET LOCAL` needs its own transaction, sent as one simple query (the id is
    // an integer, so formatting it in is safe).
    db.execute_unprepared(&format!(
        "BEGIN; SET LOCAL synchronous_commit = off; \
         UPDATE telegram_updates SET handled_at = now() WHERE update_id = {update_id}; COMMIT"
    ))
    .await
    .map(drop)
}

/// Forgets updates handled more than a day ago (Telegram redelivers for far
/// less); returns how many.
///
/// # Errors
/// When the database is unreachable.
pub async fn forget_handled<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let done = db
        .execute_unprepared(
            "DELETE FROM telegram_updates WHERE handled_at IS NOT NULL AND handled_at < now() - INTERVAL '1 day'",
        )
        .await?;
    Ok(done.rows_affected())
}
