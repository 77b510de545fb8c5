//! Broadcasts: an admin's message copied to every user of a [`Segment`].
//!
//! A broadcast is proposed first ([`propose`]: nothing is sent, the admin sees
//! a preview and the audience's size), then confirmed ([`confirm`]): its
//! recipients are fixed in `broadcast_recipients`, one row each, with the
//! audit record in the same transaction. The bot's sender then works through
//! the rows: [`claim`] marks a row `sending` BEFORE the message goes to
//! Telegram and [`record`] its outcome after. A row still `sending` when a
//! process starts may or may not have arrived, so [`recover_interrupted`] ends
//! it `failed` and it is never sent again: at most one copy per user, however
//! often the bot restarts. [`finish`] closes a broadcast with nothing left
//! and answers its counts for the admin's report.

use std::fmt;

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait, Value};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Action, Actor, Entry};
use crate::{
    ids::{TelegramUserId, UserId},
    texts::i18n::Lang,
};

/// Longest "active in the last N days" an admin may ask for (ten years).
const MAX_ACTIVE_DAYS: u32 = 3650;

/// Who a broadcast goes to; always minus banned users, users who blocked the
/// bot and users whose data was deleted at their request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Only users who speak this language to the bot.
    pub language: Option<Lang>,
    /// Only users active (any message or change) in the last this many days.
    pub active_days: Option<u32>,
    /// Only users with at least one payment.
    pub paid: bool,
}

/// Why a segment's words were not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a segment: {0}")]
pub struct SegmentError(String);

impl Segment {
    /// Parses `lang=ru active=7 paid` (any order, each at most once; nothing: everyone).
    ///
    /// # Errors
    /// An unknown word, a bad value or a repeated one.
    pub fn parse(text: &str) -> Result<Self, SegmentError> {
        let mut segment = Self::default();
        let bad = |word: &str| SegmentError(word.to_owned());
        for word in text.split_whitespace() {
            let lower = word.to_ascii_lowercase();
            match lower.split_once('=') {
                Some(("lang" | "language", code)) if segment.language.is_none() => {
                    segment.language = Some(code.parse().map_err(|_| bad(word))?);
                }
                Some(("active", days)) if segment.active_days.is_none() => {
                    let days: u32 = days.parse().map_err(|_| bad(word))?;
                    if !(1..=MAX_ACTIVE_DAYS).contains(&days) {
                        return Err(bad(word));
                    }
                    segment.active_days = Some(days);
                }
                None if lower == "paid" && !segment.paid => segment.paid = true,
                _ => return Err(bad(word)),
            }
        }
        Ok(segment)
    }

    /// Whether this is everyone.
    pub fn is_everyone(&self) -> bool {
        *self == Self::default()
    }
}

/// The canonical form [`Segment::parse`] reads back; empty for everyone.
impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = Vec::new();
        if let Some(lang) = self.language {
            words.push(format!("lang={}", lang.code()));
        }
        if let Some(days) = self.active_days {
            words.push(format!("active={days}"));
        }
        if self.paid {
            words.push("paid".to_owned());
        }
        f.write_str(&words.join(" "))
    }
}

/// The users of `segment` who can be sent to now, as a query with three
/// parameters ($n, $n+1, $n+2 from `first`) and the values for them.
fn audience(segment: &Segment, first: usize) -> (String, [Value; 3]) {
    let (lang, days, paid) = (first, first + 1, first + 2);
    let sql = format!(
        "SELECT u.id FROM users u \
         WHERE u.banned_at IS NULL AND NOT u.is_blocked AND u.erased_at IS NULL \
           AND (${lang}::TEXT IS NULL OR u.language = ${lang}) \
           AND (${days}::INT IS NULL OR u.updated_at >= now() - make_interval(days => ${days}::INT)) \
           AND (NOT ${paid}::BOOLEAN OR EXISTS (SELECT 1 FROM payments p \
                WHERE p.user_id = u.id AND p.status IN ('succeeded', 'refunded')))"
    );
    let values = [
        segment.language.map(|lang| lang.code().to_owned()).into(),
        segment.active_days.map(|days| i32::try_from(days).unwrap_or(i32::MAX)).into(),
        segment.paid.into(),
    ];
    (sql, values)
}

/// How many users `segment` reaches now.
///
/// # Errors
/// When the database fails.
pub async fn audience_size<C: ConnectionTrait>(db: &C, segment: &Segment) -> Result<i64, DbErr> {
    let (sql, values) = audience(segment, 1);
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT COUNT(*) AS n FROM ({sql}) a"),
            values,
        ))
        .await?
        .ok_or(DbErr::RecordNotFound("audience size".into()))?;
    row.try_get("", "n")
}

/// Where a broadcast stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BroadcastStatus {
    /// Proposed, waiting for Send or Cancel.
    Pending,
    /// Confirmed; its recipients are being sent to.
    Sending,
    /// Every recipient has an outcome; the admin got the report.
    Done,
    /// Cancelled before it was sent.
    Cancelled,
}

impl BroadcastStatus {
    /// The code stored in `broadcasts.status`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(code: &str) -> Result<Self, DbErr> {
        match code {
            "pending" => Ok(Self::Pending),
            "sending" => Ok(Self::Sending),
            "done" => Ok(Self::Done),
            "cancelled" => Ok(Self::Cancelled),
            other => Err(DbErr::Type(format!("unknown broadcast status {other}"))),
        }
    }
}

/// A proposed broadcast; its id goes into the Send and Cancel buttons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The broadcast.
    pub id: Uuid,
    /// How many users it would reach now.
    pub audience: i64,
}

/// Records a broadcast of message `message_id` of chat `from_chat` to
/// `segment`, to be confirmed; nothing is sent yet.
///
/// # Errors
/// When the database fails.
pub async fn propose<C: ConnectionTrait>(
    db: &C,
    admin: TelegramUserId,
    from_chat: i64,
    message_id: i32,
    segment: &Segment,
) -> Result<Proposal, DbErr> {
    let id = Uuid::now_v7();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO broadcasts (id, admin_telegram_id, from_chat_id, message_id, segment) \
         VALUES ($1, $2, $3, $4, $5)",
        [id.into(), admin.into(), from_chat.into(), message_id.into(), segment.to_string().into()],
    ))
    .await?;
    Ok(Proposal { id, audience: audience_size(db, segment).await? })
}

/// What a tap on Send did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// Recipients fixed now; the sender takes it from here.
    Started {
        /// How many.
        recipients: i64,
    },
    /// Confirmed or cancelled before (a second tap): nothing changed now.
    AlreadySettled(BroadcastStatus),
    /// No such broadcast (a forged button).
    NotFound,
}

/// Confirms a proposed broadcast once: fixes its recipients (the segment's
/// users at this moment) and writes the audit record, in one transaction;
/// the broadcast's row is locked, so two taps at once start it once.
///
/// # Errors
/// When the database fails.
pub async fn confirm<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    db: &C,
    id: Uuid,
    admin: TelegramUserId,
) -> Result<Confirmed, DbErr> {
    let txn = db.begin().await?;
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT status, segment, from_chat_id, message_id FROM broadcasts WHERE id = $1 FOR UPDATE",
            [id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(Confirmed::NotFound) };
    let status = BroadcastStatus::parse(&row.try_get::<String>("", "status")?)?;
    if status != BroadcastStatus::Pending {
        return Ok(Confirmed::AlreadySettled(status));
    }
    let segment_text: String = row.try_get("", "segment")?;
    let segment = Segment::parse(&segment_text).map_err(|err| DbErr::Type(err.to_string()))?;
    let (sql, [lang, days, paid]) = audience(&segment, 2);
    let inserted = txn
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO broadcast_recipients (broadcast_id, user_id) SELECT $1, a.id FROM ({sql}) a"
            ),
            [id.into(), lang, days, paid],
        ))
        .await?
        .rows_affected();
    let recipients = i64::try_from(inserted).unwrap_or(i64::MAX);
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE broadcasts SET status = 'sending', recipients = $2, confirmed_at = now() WHERE id = $1",
        [id.into(), i32::try_from(recipients).unwrap_or(i32::MAX).into()],
    ))
    .await?;
    let entry = Entry {
        actor: Actor::Admin(admin),
        action: Action::BroadcastSend,
        target: None,
        before: None,
        after: Some(json!({
            "broadcast": id,
            "segment": segment_text,
            "recipients": recipients,
            "from_chat": row.try_get::<i64>("", "from_chat_id")?,
            "message": row.try_get::<i32>("", "message_id")?,
        })),
        reason: String::new(),
    };
    audit::append(&txn, &entry).await?;
    txn.commit().await?;
    Ok(Confirmed::Started { recipients })
}

/// Cancels a broadcast still pending: `None` when cancelled now, else how it
/// stands (`None` too for an unknown id, which changes nothing either way).
///
/// # Errors
/// When the database fails.
pub async fn cancel<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<BroadcastStatus>, DbErr> {
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE broadcasts SET status = 'cancelled', finished_at = now() WHERE id = $1 AND status = 'pending'",
            [id.into()],
        ))
        .await?;
    if result.rows_affected() == 1 {
        return Ok(None);
    }
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT status FROM broadcasts WHERE id = $1",
            [id.into()],
        ))
        .await?;
    row.map(|row| BroadcastStatus::parse(&row.try_get::<String>("", "status")?)).transpose()
}

/// What became of one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Telegram took the copy.
    Sent,
    /// The user blocked the bot or is gone (403 and the like).
    Blocked(String),
    /// Telegram refused it otherwise, or it is unknown whether it arrived.
    Failed(String),
    /// Not sent: the user was banned, blocked the bot or asked for deletion
    /// after the recipients were fixed.
    Skipped,
}

impl Delivery {
    fn code(&self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Blocked(_) => "blocked",
            Self::Failed(_) => "failed",
            Self::Skipped => "skipped",
        }
    }

    fn error(&self) -> Option<String> {
        match self {
            Self::Blocked(error) | Self::Failed(error) => Some(error.clone()),
            Self::Sent | Self::Skipped => None,
        }
    }
}

/// The `error` of a recipient found `sending` when the bot started.
pub const INTERRUPTED: &str = "interrupted";

/// Ends every recipient row left `sending` by a process that stopped mid-send
/// as `failed` (it may or may not have arrived, so it is never sent again);
/// answers how many. Run once when the one sending process starts, before it
/// sends anything.
///
/// # Errors
/// When the database fails.
pub async fn recover_interrupted<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE broadcast_recipients SET status = 'failed', error = $1, updated_at = now() \
             WHERE status = 'sending'",
            [INTERRUPTED.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}

/// A recipient still to be sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// The broadcast.
    pub broadcast: Uuid,
    /// The user.
    pub user_id: UserId,
    /// Their private chat.
    pub telegram_id: TelegramUserId,
    /// The chat the message is copied from.
    pub from_chat: i64,
    /// The message copied.
    pub message_id: i32,
    /// Banned, blocked or erased since the recipients were fixed: not sent to.
    pub skip: bool,
}

/// Up to `limit` queued recipients of confirmed broadcasts, oldest broadcast first.
///
/// # Errors
/// When the database fails.
pub async fn next_batch<C: ConnectionTrait>(db: &C, limit: u32) -> Result<Vec<Recipient>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT r.broadcast_id, r.user_id, u.telegram_id, b.from_chat_id, b.message_id, \
                    (u.banned_at IS NOT NULL OR u.is_blocked OR u.erased_at IS NOT NULL) AS skip \
             FROM broadcast_recipients r \
             JOIN broadcasts b ON b.id = r.broadcast_id \
             JOIN users u ON u.id = r.user_id \
             WHERE r.status = 'queued' AND b.status = 'sending' \
             ORDER BY b.confirmed_at, r.broadcast_id, r.user_id LIMIT $1",
            [i64::from(limit).into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Recipient {
                broadcast: row.try_get("", "broadcast_id")?,
                user_id: row.try_get("", "user_id")?,
                telegram_id: row.try_get("", "telegram_id")?,
                from_chat: row.try_get("", "from_chat_id")?,
                message_id: row.try_get("", "message_id")?,
                skip: row.try_get("", "skip")?,
            })
        })
        .collect()
}

/// Marks a queued recipient `sending`, right before its message goes out;
/// false when it is not queued any more (another sender took it).
///
/// # Errors
/// When the database fails.
pub async fn claim<C: ConnectionTrait>(db: &C, broadcast: Uuid, user: UserId) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE broadcast_recipients SET status = 'sending', updated_at = now() \
             WHERE broadcast_id = $1 AND user_id = $2 AND status = 'queued'",
            [broadcast.into(), user.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives a claimed recipient back to the queue: Telegram refused the copy
/// with a flood wait, so it did not arrive.
///
/// # Errors
/// When the database fails.
pub async fn release<C: ConnectionTrait>(db: &C, broadcast: Uuid, user: UserId) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE broadcast_recipients SET status = 'queued', updated_at = now() \
         WHERE broadcast_id = $1 AND user_id = $2 AND status = 'sending'",
        [broadcast.into(), user.into()],
    ))
    .await
    .map(drop)
}

/// Records what became of a recipient (claimed, or skipped without a claim).
///
/// # Errors
/// When the database fails.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    broadcast: Uuid,
    user: UserId,
    delivery: &Delivery,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE broadcast_recipients SET status = $3, error = $4, updated_at = now() \
         WHERE broadcast_id = $1 AND user_id = $2 AND status IN ('queued', 'sending')",
        [broadcast.into(), user.into(), delivery.code().into(), delivery.error().into()],
    ))
    .await
    .map(drop)
}

/// How a finished broadcast went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// The broadcast.
    pub id: Uuid,
    /// Who sent it (the report goes to their chat).
    pub admin: TelegramUserId,
    /// Copies Telegram took.
    pub sent: i64,
    /// Users who blocked the bot or are gone.
    pub blocked: i64,
    /// Refused otherwise, or interrupted mid-send.
    pub failed: i64,
    /// Banned, blocked or erased after the recipients were fixed.
    pub skipped: i64,
}

/// Closes every sending broadcast that has no recipient left to send to and
/// answers their reports; each is closed (and so reported) once.
///
/// # Errors
/// When the database fails.
pub async fn finish<C: ConnectionTrait>(db: &C) -> Result<Vec<Report>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "UPDATE broadcasts b SET status = 'done', finished_at = now() \
             WHERE b.status = 'sending' AND NOT EXISTS (SELECT 1 FROM broadcast_recipients r \
                 WHERE r.broadcast_id = b.id AND r.status IN ('queued', 'sending')) \
             RETURNING b.id, b.admin_telegram_id, \
               (SELECT COUNT(*) FROM broadcast_recipients r WHERE r.broadcast_id = b.id AND r.status = 'sent') AS sent, \
               (SELECT COUNT(*) FROM broadcast_recipients r WHERE r.broadcast_id = b.id AND r.status = 'blocked') AS blocked, \
               (SELECT COUNT(*) FROM broadcast_recipients r WHERE r.broadcast_id = b.id AND r.status = 'failed') AS failed, \
               (SELECT COUNT(*) FROM broadcast_recipients r WHERE r.broadcast_id = b.id AND r.status = 'skipped') AS skipped",
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Report {
                id: row.try_get("", "id")?,
                admin: row.try_get("", "admin_telegram_id")?,
                sent: row.try_get("", "sent")?,
                blocked: row.try_get("", "blocked")?,
                failed: row.try_get("", "failed")?,
                skipped: row.try_get("", "skipped")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_parse_in_any_order_and_print_canonically() {
        assert_eq!(Segment::parse("").unwrap(), Segment::default());
        assert!(Segment::parse("  ").unwrap().is_everyone());
        let segment = Segment::parse("paid ACTIVE=7 lang=en").unwrap();
        assert_eq!(segment, Segment { language: Some(Lang::En), active_days: Some(7), paid: true });
        assert_eq!(segment.to_string(), "lang=en active=7 paid");
        assert_eq!(Segment::parse(&segment.to_string()).unwrap(), segment);
        assert_eq!(Segment::parse("language=ru").unwrap().language, Some(Lang::Ru));
        assert_eq!(Segment::default().to_string(), "");
    }

    #[test]
    fn bad_segments_name_the_word_they_stumbled_on() {
        for (text, word) in [
            ("lang=de", "lang=de"),
            ("active=0", "active=0"),
            ("active=-3", "active=-3"),
            ("active=week", "active=week"),
            ("active=3651", "active=3651"),
            ("paid paid", "paid"),
            ("lang=ru lang=en", "lang=en"),
            ("everyone", "everyone"),
            ("paid=yes", "paid=yes"),
        ] {
            assert_eq!(Segment::parse(text), Err(SegmentError(word.to_owned())), "{text}");
        }
    }
}
