//! Rows most tests need, made in a line.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use shared::ids::{ChatId, JobId, TelegramUserId, UserId};

/// Inserts a user with Telegram id `telegram_id` and returns its id.
pub async fn user<C: ConnectionTrait>(db: &C, telegram_id: TelegramUserId) -> UserId {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO users (telegram_id, first_name, referral_code) VALUES ($1, 'Test', $2) RETURNING id",
            [telegram_id.into(), format!("code{telegram_id}").into()],
        ))
        .await
        .expect("insert user")
        .expect("a returned row");
    row.try_get("", "id").expect("user id")
}

/// Inserts a running transcription job of `user_id` and returns its id.
pub async fn job<C: ConnectionTrait>(db: &C, user_id: UserId) -> JobId {
    job_with_status(db, user_id, "running").await
}

/// Inserts a transcription job of `user_id` in `status` and returns its id.
pub async fn job_with_status<C: ConnectionTrait>(db: &C, user_id: UserId, status: &str) -> JobId {
    let id = JobId::new();
    // Its chat carries the same number as the user id: any number will do, tests only read it back.
    let chat = ChatId(user_id.0);
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO jobs (id, user_id, kind, status, chat_id) VALUES ($1, $2, 'transcribe', $3, $4)",
        [id.into(), user_id.into(), status.into(), chat.into()],
    ))
    .await
    .expect("insert job");
    id
}

/// Checks the ledger's invariants straight from the tables: all entries sum
/// to zero, every cached balance equals the sum of its entries, no user
/// account is negative, each user's held balance equals their open holds,
/// and each allowance's usage equals the free units of its unreleased holds.
/// Returns the first violation found.
pub async fn ledger_violation<C: ConnectionTrait>(db: &C) -> Option<String> {
    let checks = [
        (
            "entries do not sum to zero",
            "SELECT 1 FROM (SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_entries) t WHERE s <> 0",
        ),
        (
            "a cached balance differs from its entries",
            "SELECT a.id FROM ledger_accounts a LEFT JOIN \
             (SELECT account_id, SUM(amount) AS s FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id \
             WHERE a.balance <> COALESCE(e.s, 0)",
        ),
        (
            "a user balance is negative",
            "SELECT id FROM ledger_accounts WHERE user_id IS NOT NULL AND balance < 0",
        ),
        (
            "a held balance differs from the open holds",
            "SELECT a.user_id FROM ledger_accounts a LEFT JOIN \
             (SELECT user_id, SUM(amount) AS s FROM ledger_holds WHERE status = 'open' GROUP BY user_id) h \
             ON h.user_id = a.user_id WHERE a.kind = 'user_held' AND a.balance <> COALESCE(h.s, 0)",
        ),
        (
            "free allowance usage differs from the holds that use it",
            "SELECT u.user_id FROM free_allowance_usage u LEFT JOIN \
             (SELECT user_id, allowance, free_period, SUM(units) AS s FROM \
               (SELECT user_id, allowance, free_period, free_units AS units, status FROM ledger_holds \
                UNION ALL SELECT user_id, plan_allowance, plan_period, plan_units, status FROM ledger_holds) l \
              WHERE status <> 'released' GROUP BY user_id, allowance, free_period) h \
             ON h.user_id = u.user_id AND h.allowance = u.allowance AND h.free_period = u.period_start \
             WHERE u.used <> COALESCE(h.s, 0)",
        ),
    ];
    for (what, sql) in checks {
        let rows = db
            .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect("ledger invariant query");
        if !rows.is_empty() {
            return Some(what.to_owned());
        }
    }
    None
}
