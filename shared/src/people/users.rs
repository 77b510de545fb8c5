//! Users: created or refreshed from Telegram on each contact.

use rand::{Rng, distr::Alphanumeric};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DbErr, EntityTrait, RuntimeErr, SqlErr,
    sea_query::OnConflict,
};

use crate::ids::{TelegramUserId, UserId};
use crate::{entities::users, texts::i18n::Lang};

/// Length of generated referral codes: 62^8 codes make collisions rare.
const REFERRAL_CODE_LEN: usize = 8;

/// What Telegram tells us about a user on every update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelegramProfile {
    /// Telegram user id.
    pub telegram_id: TelegramUserId,
    /// `@username` without the `@`.
    pub username: Option<String>,
    /// First name.
    pub first_name: String,
    /// Telegram's `language_code`.
    pub language_code: Option<String>,
}

fn new_referral_code() -> String {
    rand::rng().sample_iter(&Alphanumeric).take(REFERRAL_CODE_LEN).map(char::from).collect()
}

/// How long a user seen again with the same profile is not written again. Writing on every
/// update (a commit waiting for the WAL flush) was a third of a command's database time;
/// activity (`updated_at`, counted by day in `/stats` and broadcast segments) is kept to
/// the minute.
const SEEN_RECENTLY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// Whether `user`, as stored, already says what `profile` says and was seen recently.
fn is_current(user: &users::Model, profile: &TelegramProfile, now: chrono::DateTime<chrono::Utc>) -> bool {
    // An erased user (`/deletemydata`) has an empty name and comes back through the upsert.
    !user.is_blocked
        && !user.first_name.is_empty()
        && user.first_name == profile.first_name
        && user.username == profile.username
        && now - user.updated_at < SEEN_RECENTLY
}

/// Creates the user on first contact, or refreshes name and username; the
/// language is chosen once, at creation, from Telegram's language code.
pub async fn upsert_from_telegram<C>(db: &C, profile: &TelegramProfile) -> Result<users::Model, DbErr>
where
    C: ConnectionTrait,
{
    if let Some(user) = find_by_telegram_id(db, profile.telegram_id).await?
        && is_current(&user, profile, chrono::Utc::now())
    {
        return Ok(user);
    }
    // A referral code collision is the only conflict not on telegram_id; try
    // again with a fresh code.
    let mut attempts_left = 3;
    loop {
        let row = users::ActiveModel {
            id: NotSet,
            telegram_id: Set(profile.telegram_id),
            username: Set(profile.username.clone()),
            first_name: Set(profile.first_name.clone()),
            language: Set(Lang::from_telegram(profile.language_code.as_deref())),
            referral_code: Set(new_referral_code()),
            referred_by: NotSet,
            is_blocked: Set(false),
            // A ban is not Telegram's to change: the upsert never touches it.
            banned_at: NotSet,
            ban_reason: NotSet,
            ban_notified_at: NotSet,
            created_at: NotSet,
            updated_at: Set(chrono::Utc::now()),
        };
        let result = users::Entity::insert(row)
            .on_conflict(
                OnConflict::column(users::Column::TelegramId)
                    .update_columns([
                        users::Column::Username,
                        users::Column::FirstName,
                        users::Column::IsBlocked,
                        users::Column::UpdatedAt,
                    ])
                    // Someone whose data was deleted (`/deletemydata`) comes back as new: the
                    // language follows their Telegram again, as at their first contact.
                    .value(
                        users::Column::Language,
                        sea_orm::sea_query::Expr::cust(
                            "CASE WHEN users.erased_at IS NOT NULL AND users.first_name = '' \
                             THEN excluded.language ELSE users.language END",
                        ),
                    )
                    .to_owned(),
            )
            .exec_with_returning(db)
            .await;
        match result {
            Err(err) if attempts_left > 0 && is_referral_code_collision(&err) => attempts_left -= 1,
            other => return other,
        }
    }
}

fn is_referral_code_collision(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(message)) if message.contains("users_referral_code_key"))
        || matches!(err, DbErr::Query(RuntimeErr::SqlxError(e)) if e.to_string().contains("users_referral_code_key"))
}

/// The user with this internal id.
///
/// # Errors
/// When the database fails.
pub async fn find<C: ConnectionTrait>(db: &C, id: UserId) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id).one(db).await
}

/// The user with this Telegram id, if they ever wrote to the bot.
///
/// # Errors
/// When the database fails.
pub async fn find_by_telegram_id<C: ConnectionTrait>(
    db: &C,
    telegram_id: TelegramUserId,
) -> Result<Option<users::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    users::Entity::find().filter(users::Column::TelegramId.eq(telegram_id)).one(db).await
}

/// Records who invited `user_id`, once, when `code` is another user's
/// referral code and that user was not invited by `user_id` (no cycles of two;
/// longer cycles cannot form because only new users are referred).
pub async fn set_referrer<C: ConnectionTrait>(db: &C, user_id: UserId, code: &str) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "UPDATE users SET referred_by = r.id, updated_at = now() FROM users r \
             WHERE users.id = $1 AND users.referred_by IS NULL AND r.referral_code = $2 AND r.id <> $1 \
             AND r.referred_by IS DISTINCT FROM $1",
            [user_id.into(), code.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Changes the language the bot speaks to a user.
pub async fn set_language<C: ConnectionTrait>(db: &C, user_id: UserId, language: Lang) -> Result<(), DbErr> {
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "UPDATE users SET language = $2, updated_at = now() WHERE id = $1",
        [user_id.into(), language.code().into()],
    ))
    .await
    .map(drop)
}

/// What a user's referral link has brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralStats {
    /// Users who started the bot through the link.
    pub invited: i64,
    /// Of them, those who paid at least once.
    pub paid: i64,
    /// Bonus credits earned from their first purchases.
    pub earned: rust_decimal::Decimal,
}

/// The link that starts the bot `bot_username` with referral code `code`.
pub fn referral_link(bot_username: &str, code: &str) -> String {
    format!("https://t.me/{bot_username}?start=ref_{code}")
}

/// Counts a user's referrals and what they earned.
pub async fn referral_stats<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<ReferralStats, DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT \
               (SELECT COUNT(*) FROM users WHERE referred_by = $1) AS invited, \
               (SELECT COUNT(DISTINCT p.user_id) FROM payments p JOIN users u ON u.id = p.user_id \
                 WHERE u.referred_by = $1 AND p.status IN ('succeeded', 'refunded')) AS paid, \
               COALESCE((SELECT SUM(e.amount) FROM ledger_entries e \
                 JOIN ledger_transactions t ON t.id = e.transaction_id \
                 JOIN ledger_accounts a ON a.id = e.account_id \
                 WHERE a.user_id = $1 AND a.kind = 'user_available' \
                   AND t.idempotency_key LIKE 'bonus:referral:%'), 0) AS earned",
            [user_id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("referral stats".into()))?;
    Ok(ReferralStats {
        invited: row.try_get("", "invited")?,
        paid: row.try_get("", "paid")?,
        earned: row.try_get::<rust_decimal::Decimal>("", "earned")?.normalize(),
    })
}

/// Records that Telegram refused a message to the user (they blocked the bot
/// or deleted their account); their next message to the bot clears it.
pub async fn mark_unreachable<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<(), DbErr> {
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "UPDATE users SET is_blocked = TRUE, updated_at = now() WHERE id = $1",
        [user_id.into()],
    ))
    .await
    .map(drop)
}
