//! The schema migrates up, down and up again, concurrent runs are safe, and
//! the money invariants hold in the database itself.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migrations::Migrator;
use sea_orm_migration::{
    MigratorTrait,
    sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait},
};
use testkit::TestDb;

async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        ))
        .await
        .unwrap();
    rows.iter().map(|row| row.try_get::<String>("", "tablename").unwrap()).collect()
}

const APP_TABLES: [&str; 26] = [
    "admin_actions",
    "audit_log",
    "broadcast_recipients",
    "broadcasts",
    "free_allowance_usage",
    "group_chats",
    "idea_messages",
    "jobs",
    "ledger_accounts",
    "ledger_entries",
    "ledger_holds",
    "ledger_transactions",
    "media_objects",
    "payment_refunds",
    "payments",
    "reconciliation_cursors",
    "subscription_periods",
    "subscriptions",
    "support_request_copies",
    "support_requests",
    "telegram_updates",
    "transcript_summaries",
    "transcripts",
    "uploads",
    "user_settings",
    "users",
];

#[tokio::test]
async fn up_down_up_on_an_empty_database() {
    let test = TestDb::empty().await;
    let db = &test.db;
    assert!(tables(db).await.is_empty());

    Migrator::up(db, None).await.unwrap();
    let after_up = tables(db).await;
    for table in APP_TABLES {
        assert!(after_up.contains(&table.to_owned()), "{table} missing after up: {after_up:?}");
    }

    Migrator::down(db, None).await.unwrap();
    assert_eq!(tables(db).await, vec!["seaql_migrations".to_owned()]);

    Migrator::up(db, None).await.unwrap();
    assert_eq!(tables(db).await.len(), APP_TABLES.len() + 1);
    assert!(Migrator::get_pending_migrations(db).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_migrate_runs_do_not_collide() {
    let test = TestDb::empty().await;
    let runs = (0..4).map(|_| {
        let url = test.url.clone();
        tokio::spawn(async move {
            let db = sea_orm_migration::sea_orm::Database::connect(url).await.unwrap();
            migrations::migrate(&db).await
        })
    });
    for run in futures_join(runs).await {
        run.unwrap().unwrap();
    }
    assert_eq!(Migrator::get_applied_migrations(&test.db).await.unwrap().len(), Migrator::migrations().len());
}

async fn futures_join<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut results = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        results.push(handle.await);
    }
    results
}

async fn exec(db: &impl ConnectionTrait, sql: &str) -> Result<(), sea_orm_migration::sea_orm::DbErr> {
    db.execute_unprepared(sql).await.map(drop)
}

#[tokio::test]
async fn unbalanced_ledger_transactions_cannot_commit() {
    let test = TestDb::migrated().await;
    let db = &test.db;
    exec(db, "INSERT INTO users (id, telegram_id, referral_code) VALUES (1, 100, 'abcd1234')").await.unwrap();
    exec(db, "INSERT INTO ledger_accounts (id, kind, user_id) VALUES (1, 'user_available', 1)")
        .await
        .unwrap();
    exec(db, "INSERT INTO ledger_accounts (id, kind) VALUES (2, 'bonus')").await.unwrap();

    let txn = db.begin().await.unwrap();
    exec(&txn, "INSERT INTO ledger_transactions (id, kind, idempotency_key) VALUES (1, 'bonus', 'k1')")
        .await
        .unwrap();
    exec(&txn, "INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after) VALUES (1, 1, 10, 10)")
        .await
        .unwrap();
    let err = txn.commit().await.expect_err("an unbalanced transaction must not commit");
    assert!(err.to_string().contains("does not sum to zero"), "{err}");

    let txn = db.begin().await.unwrap();
    exec(&txn, "INSERT INTO ledger_transactions (id, kind, idempotency_key) VALUES (2, 'bonus', 'k2')")
        .await
        .unwrap();
    exec(
        &txn,
        "INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after) VALUES (2, 1, 10, 10), (2, 2, -10, -10)",
    )
    .await
    .unwrap();
    txn.commit().await.expect("a balanced transaction commits");

    let err = exec(db, "UPDATE ledger_entries SET amount = 11 WHERE transaction_id = 2").await.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[tokio::test]
async fn user_balances_cannot_go_negative_but_system_accounts_can() {
    let test = TestDb::migrated().await;
    let db = &test.db;
    exec(db, "INSERT INTO users (id, telegram_id, referral_code) VALUES (1, 100, 'abcd1234')").await.unwrap();
    exec(db, "INSERT INTO ledger_accounts (id, kind, user_id) VALUES (1, 'user_available', 1)")
        .await
        .unwrap();
    exec(db, "INSERT INTO ledger_accounts (id, kind) VALUES (2, 'bonus')").await.unwrap();

    let err = exec(db, "UPDATE ledger_accounts SET balance = -0.0001 WHERE id = 1").await.unwrap_err();
    assert!(err.to_string().contains("ledger_accounts_user_balance_check"), "{err}");
    exec(db, "UPDATE ledger_accounts SET balance = -5 WHERE id = 2").await.unwrap();

    // One available account per user, one bonus account in all.
    assert!(
        exec(db, "INSERT INTO ledger_accounts (kind, user_id) VALUES ('user_available', 1)").await.is_err()
    );
    assert!(exec(db, "INSERT INTO ledger_accounts (kind) VALUES ('bonus')").await.is_err());
    // A user account must have a user; a clearing account must name its provider.
    assert!(exec(db, "INSERT INTO ledger_accounts (kind) VALUES ('user_held')").await.is_err());
    assert!(exec(db, "INSERT INTO ledger_accounts (kind) VALUES ('payments_clearing')").await.is_err());
    exec(db, "INSERT INTO ledger_accounts (kind, provider) VALUES ('payments_clearing', 'yookassa')")
        .await
        .unwrap();
}

#[tokio::test]
async fn provider_payment_ids_are_unique_per_provider() {
    let test = TestDb::migrated().await;
    let db = &test.db;
    exec(db, "INSERT INTO users (id, telegram_id, referral_code) VALUES (1, 100, 'abcd1234')").await.unwrap();
    let insert = |id: &str, provider: &str, key: &str| {
        format!(
            "INSERT INTO payments (id, user_id, provider, provider_payment_id, amount, currency, credits, idempotency_key) \
             VALUES ('{id}', 1, '{provider}', 'pay-1', 100, 'RUB', 100, '{key}')"
        )
    };
    exec(db, &insert("00000000-0000-0000-0000-000000000001", "yookassa", "a")).await.unwrap();
    let err = exec(db, &insert("00000000-0000-0000-0000-000000000002", "yookassa", "b")).await.unwrap_err();
    assert!(err.to_string().contains("payments_provider_payment_key"), "{err}");
    exec(db, &insert("00000000-0000-0000-0000-000000000003", "stars", "c")).await.unwrap();
    let err = exec(db, &insert("00000000-0000-0000-0000-000000000004", "telegram", "c")).await.unwrap_err();
    assert!(err.to_string().contains("payments_idempotency_key_key"), "{err}");
}
