//! Payment support: a user's `/paysupport` question reaches every admin as a
//! copy, and an admin's reply to a copy reaches the user. `support_requests`
//! keeps the question and when it was answered; `support_request_copies`
//! remembers which admin message carries which question, since a reply is all
//! Telegram tells the bot about the message answered. The answer itself is
//! kept in the audit trail, with the admin who gave it.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};

use super::audit::{self, Action, Actor, Entry};
use crate::ids::{TelegramUserId, UserId};
use crate::texts::i18n::Lang;

/// Longest question or answer kept, in characters: one Telegram message.
pub const MAX_TEXT_CHARS: usize = 4096;

/// A support question's id (`support_requests.id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SupportRequestId(pub i64);

impl std::fmt::Display for SupportRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A question as the user typed it: not blank, at most [`MAX_TEXT_CHARS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question(String);

impl Question {
    /// The trimmed text, or `None` when nothing is left of it.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty()).then(|| Self(text.chars().take(MAX_TEXT_CHARS).collect()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Records `user`'s question.
///
/// # Errors
/// The database's.
pub async fn open<C: ConnectionTrait>(
    db: &C,
    user: UserId,
    question: &Question,
) -> Result<SupportRequestId, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO support_requests (user_id, question) VALUES ($1, $2) RETURNING id",
            [user.into(), question.as_str().into()],
        ))
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
    Ok(SupportRequestId(row.try_get("", "id")?))
}

/// Remembers that message `message_id` in the admin chat `admin_chat_id` is a copy of `request`.
///
/// # Errors
/// The database's.
pub async fn record_copy<C: ConnectionTrait>(
    db: &C,
    request: SupportRequestId,
    admin_chat_id: i64,
    message_id: i32,
) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO support_request_copies (admin_chat_id, message_id, request_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        [admin_chat_id.into(), message_id.into(), request.0.into()],
    ))
    .await?;
    Ok(())
}

/// Who asked the question an admin message is a copy of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asker {
    /// The question.
    pub request: SupportRequestId,
    /// The user who asked.
    pub user_id: UserId,
    /// Their Telegram id: their private chat with the bot.
    pub telegram_id: TelegramUserId,
    /// The language they read.
    pub language: Lang,
}

/// The asker of the question whose copy is `message_id` in `admin_chat_id`;
/// `None` when that message is no copy, or its asker deleted their data.
///
/// # Errors
/// The database's.
pub async fn asker_of_copy<C: ConnectionTrait>(
    db: &C,
    admin_chat_id: i64,
    message_id: i32,
) -> Result<Option<Asker>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT r.id, u.id AS user_id, u.telegram_id, u.language FROM support_request_copies c \
             JOIN support_requests r ON r.id = c.request_id JOIN users u ON u.id = r.user_id \
             WHERE c.admin_chat_id = $1 AND c.message_id = $2 AND u.erased_at IS NULL",
            [admin_chat_id.into(), message_id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let language: String = row.try_get("", "language")?;
    Ok(Some(Asker {
        request: SupportRequestId(row.try_get("", "id")?),
        user_id: UserId(row.try_get("", "user_id")?),
        telegram_id: TelegramUserId(row.try_get("", "telegram_id")?),
        language: Lang::from_telegram(Some(&language)),
    }))
}

/// Marks `asker`'s question answered by `admin` with `answer`, and writes the
/// answer to the audit trail, in `txn`. Call it once the answer reached the user.
///
/// # Errors
/// The database's.
pub async fn answered(
    txn: &DatabaseTransaction,
    asker: &Asker,
    admin: TelegramUserId,
    answer: &str,
) -> Result<(), DbErr> {
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE support_requests SET answered_at = COALESCE(answered_at, now()) WHERE id = $1",
        [asker.request.0.into()],
    ))
    .await?;
    audit::append(
        txn,
        &Entry {
            actor: Actor::Admin(admin),
            action: Action::SupportAnswer,
            target: Some(asker.user_id),
            before: None,
            after: Some(serde_json::json!({ "request": asker.request.0, "answer": answer })),
            reason: format!("answer to support request {}", asker.request),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_is_trimmed_bounded_and_never_blank() {
        assert_eq!(Question::parse("  \n "), None);
        assert_eq!(Question::parse("  paid twice \n").unwrap().as_str(), "paid twice");
        let long = "я".repeat(MAX_TEXT_CHARS + 10);
        assert_eq!(Question::parse(&long).unwrap().as_str().chars().count(), MAX_TEXT_CHARS);
    }
}
