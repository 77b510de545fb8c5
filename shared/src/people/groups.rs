//! Groups and supergroups the bot works in: whether it introduced itself
//! there, and automatic transcription of every voice note (`/auto on`), paid
//! by the admin who turned it on within a daily cap of minutes per chat,
//! counted on billing days (`BILLING_TIMEZONE`), like free minutes.
//!
//! The cap is counted from the duration Telegram reports when a recording
//! arrives: it bounds what the payer agreed to, and the price itself is
//! settled on the measured audio as for any recording.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use crate::ids::{ChatId, UserId};

/// Limits of the bot in groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSettings {
    /// Minutes one chat may have transcribed automatically per billing day
    /// (`GROUP_AUTO_DAILY_MINUTES`).
    pub auto_daily_minutes: u32,
    /// Requests to the bot one chat may make per minute (`GROUP_REQUESTS_PER_MINUTE`).
    pub requests_per_minute: u32,
}

impl Default for GroupSettings {
    fn default() -> Self {
        Self { auto_daily_minutes: 60, requests_per_minute: 20 }
    }
}

/// Records that the bot introduced itself in `chat`: `true` the first time
/// since it was added, `false` when it already had.
///
/// # Errors
/// When the database fails.
pub async fn mark_introduced<C: ConnectionTrait>(db: &C, chat: ChatId) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO group_chats (chat_id, introduced_at) VALUES ($1, now()) \
             ON CONFLICT (chat_id) DO UPDATE SET introduced_at = now(), updated_at = now() \
             WHERE group_chats.introduced_at IS NULL \
             RETURNING chat_id",
            [chat.0.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// `from` was upgraded to the supergroup `to` (Telegram gives the supergroup a
/// new id): its settings and its unfinished jobs follow, so automatic
/// transcription stays on and results reach the chat where it now lives.
/// Telegram tells it twice (in the old and in the new chat): doing it again
/// changes nothing.
///
/// # Errors
/// When the database fails.
pub async fn migrate<C: ConnectionTrait>(db: &C, from: ChatId, to: ChatId) -> Result<(), DbErr> {
    // What the supergroup already has (it may have been told first) wins over the old group's.
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "WITH old AS (DELETE FROM group_chats WHERE chat_id = $1 RETURNING *) \
         INSERT INTO group_chats (chat_id, introduced_at, auto_payer_id, auto_day, auto_seconds, auto_paused_on, created_at) \
         SELECT $2, introduced_at, auto_payer_id, auto_day, auto_seconds, auto_paused_on, created_at FROM old \
         ON CONFLICT (chat_id) DO UPDATE SET \
             introduced_at = COALESCE(group_chats.introduced_at, EXCLUDED.introduced_at), \
             auto_payer_id = COALESCE(group_chats.auto_payer_id, EXCLUDED.auto_payer_id), \
             auto_day = COALESCE(group_chats.auto_day, EXCLUDED.auto_day), \
             auto_seconds = GREATEST(group_chats.auto_seconds, EXCLUDED.auto_seconds), \
             auto_paused_on = COALESCE(group_chats.auto_paused_on, EXCLUDED.auto_paused_on), \
             updated_at = now()",
        [from.0.into(), to.0.into()],
    ))
    .await?;
    crate::jobs::move_unfinished(db, from, to).await
}

/// The bot left `chat` (or was removed): it introduces itself again when
/// added back, and automatic transcription is off.
///
/// # Errors
/// When the database fails.
pub async fn forget<C: ConnectionTrait>(db: &C, chat: ChatId) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE group_chats SET introduced_at = NULL, auto_payer_id = NULL, updated_at = now() \
         WHERE chat_id = $1",
        [chat.0.into()],
    ))
    .await
    .map(drop)
}

/// Turns automatic transcription in `chat` on, paid by `payer`, or off (`None`).
/// Turning it on lifts a pause of the day: the cap still counts what was
/// transcribed that day.
///
/// # Errors
/// When the database fails.
pub async fn set_auto<C: ConnectionTrait>(db: &C, chat: ChatId, payer: Option<UserId>) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO group_chats (chat_id, auto_payer_id) VALUES ($1, $2) \
         ON CONFLICT (chat_id) DO UPDATE SET auto_payer_id = EXCLUDED.auto_payer_id, \
         auto_paused_on = NULL, updated_at = now()",
        [chat.0.into(), payer.map(|p| p.0).into()],
    ))
    .await
    .map(drop)
}

/// Who pays for automatic transcription in `chat`, when it is on.
///
/// # Errors
/// When the database fails.
pub async fn auto_payer<C: ConnectionTrait>(db: &C, chat: ChatId) -> Result<Option<UserId>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT auto_payer_id FROM group_chats WHERE chat_id = $1",
            [chat.0.into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<Option<i64>>("", "auto_payer_id")?.map(UserId),
        None => None,
    })
}

/// What automatic transcription may do with one more recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoClaim {
    /// Transcribe it, paid by this user; its seconds are counted.
    Go(UserId),
    /// Automatic transcription is off in this chat.
    Off,
    /// It stopped for the day (cap or credit), and the chat was told.
    Paused,
    /// This recording would pass the day's cap.
    OverCap,
}

/// Counts `seconds` of automatic transcription in `chat` on billing day
/// `day` when they fit under `cap_seconds` (one statement, so two recordings
/// at once cannot both pass the cap).
///
/// # Errors
/// When the database fails.
pub async fn claim_auto<C: ConnectionTrait>(
    db: &C,
    chat: ChatId,
    day: NaiveDate,
    seconds: u32,
    cap_seconds: u32,
) -> Result<AutoClaim, DbErr> {
    let claimed = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE group_chats SET \
               auto_seconds = (CASE WHEN auto_day = $2 THEN auto_seconds ELSE 0 END) + $3, \
               auto_day = $2, updated_at = now() \
             WHERE chat_id = $1 AND auto_payer_id IS NOT NULL \
               AND auto_paused_on IS DISTINCT FROM $2 \
               AND (CASE WHEN auto_day = $2 THEN auto_seconds ELSE 0 END) + $3 <= $4 \
             RETURNING auto_payer_id",
            [chat.0.into(), day.into(), i64::from(seconds).into(), i64::from(cap_seconds).into()],
        ))
        .await?;
    if let Some(row) = claimed {
        return Ok(AutoClaim::Go(UserId(row.try_get::<i64>("", "auto_payer_id")?)));
    }
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT auto_payer_id IS NOT NULL AS on, auto_paused_on IS NOT DISTINCT FROM $2 AS paused \
             FROM group_chats WHERE chat_id = $1",
            [chat.0.into(), day.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(AutoClaim::Off) };
    Ok(if !row.try_get::<bool>("", "on")? {
        AutoClaim::Off
    } else if row.try_get::<bool>("", "paused")? {
        AutoClaim::Paused
    } else {
        AutoClaim::OverCap
    })
}

/// Gives back `seconds` counted by [`claim_auto`] for a recording that was
/// not transcribed after all (refused, or not paid for).
///
/// # Errors
/// When the database fails.
pub async fn unclaim_auto<C: ConnectionTrait>(
    db: &C,
    chat: ChatId,
    day: NaiveDate,
    seconds: u32,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE group_chats SET auto_seconds = GREATEST(auto_seconds - $3, 0), updated_at = now() \
         WHERE chat_id = $1 AND auto_day = $2",
        [chat.0.into(), day.into(), i64::from(seconds).into()],
    ))
    .await
    .map(drop)
}

/// Stops automatic transcription in `chat` until the billing day after
/// `day`; `true` only for the call that stopped it, so the chat is told once.
///
/// # Errors
/// When the database fails.
pub async fn pause_for_day<C: ConnectionTrait>(db: &C, chat: ChatId, day: NaiveDate) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE group_chats SET auto_paused_on = $2, updated_at = now() \
             WHERE chat_id = $1 AND auto_paused_on IS DISTINCT FROM $2 RETURNING chat_id",
            [chat.0.into(), day.into()],
        ))
        .await?;
    Ok(row.is_some())
}
