//! Bans: an admin's decision that nothing a user sends is acted on. Kept in
//! `users.banned_at` / `ban_reason`, apart from `is_blocked` (the user blocked
//! the bot), which every profile update clears; nothing here is touched by
//! [`super::users::upsert_from_telegram`], so a ban survives updates and restarts.
//! Callers record who banned and why in the audit trail, in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use crate::ids::UserId;

/// A user's ban as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BanState {
    /// When the ban began; `None`: not banned.
    pub banned_at: Option<DateTime<Utc>>,
    /// Why.
    pub reason: Option<String>,
}

impl BanState {
    /// Whether the user is banned.
    pub fn is_banned(&self) -> bool {
        self.banned_at.is_some()
    }
}

/// Reads a user's ban, locking the row so a concurrent ban or unban waits.
///
/// # Errors
/// When the database fails or there is no such user.
pub async fn lock_state<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<BanState, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT banned_at, ban_reason FROM users WHERE id = $1 FOR UPDATE",
            [user_id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("user {user_id}")))?;
    Ok(BanState { banned_at: row.try_get("", "banned_at")?, reason: row.try_get("", "ban_reason")? })
}

/// Bans the user (again, with a new reason, when already banned); they will be
/// told once.
///
/// # Errors
/// When the database fails.
pub async fn ban<C: ConnectionTrait>(db: &C, user_id: UserId, reason: &str) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE users SET banned_at = COALESCE(banned_at, now()), ban_reason = $2, ban_notified_at = NULL, \
         updated_at = now() WHERE id = $1",
        [user_id.into(), reason.into()],
    ))
    .await
    .map(drop)
}

/// Lifts the user's ban.
///
/// # Errors
/// When the database fails.
pub async fn unban<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE users SET banned_at = NULL, ban_reason = NULL, ban_notified_at = NULL, updated_at = now() \
         WHERE id = $1",
        [user_id.into()],
    ))
    .await
    .map(drop)
}

/// True exactly once per ban: the caller tells the user now. Concurrent
/// messages race for one conditional update, so only one of them tells.
///
/// # Errors
/// When the database fails.
pub async fn claim_notice<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE users SET ban_notified_at = now() \
             WHERE id = $1 AND banned_at IS NOT NULL AND ban_notified_at IS NULL",
            [user_id.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}
