//! Maintenance re-pushes lost queue messages and releases stuck holds, one process at a time.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::ConnectionTrait;
use shared::{
    config::PricingSettings,
    jobs::{self, MediaSource, TranscriptionInput},
    ledger::{BonusReason, Ledger},
    money::Credits,
    queue::JobQueue,
};
use testkit::{TestDb, TestRedis, fixtures};
use worker::maintenance;

fn ledger() -> Ledger {
    Ledger::new(PricingSettings {
        transcription_cost_per_minute: Credits::whole(15),
        free_minutes_per_day: 0,
        image_generation_cost: Credits::whole(20),
        image_edit_cost: Credits::whole(25),
        image_free_per_month: 0,
        timezone: chrono_tz::Europe::Moscow,
    })
}

fn voice() -> TranscriptionInput {
    TranscriptionInput {
        file_id: "f".into(),
        file_unique_id: "u".into(),
        file_size: Some(1000),
        mime_type: None,
        file_name: None,
        duration_hint_s: 60,
        source: MediaSource::Voice,
    }
}

#[tokio::test]
async fn lost_messages_are_pushed_again_and_stuck_holds_released() {
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let queue = JobQueue::new(conn, &redis.namespace);
    let ledger = ledger();
    let user = fixtures::user(&test.db, 1).await;
    ledger.grant_bonus(&test.db, user, Credits::whole(100), &BonusReason::Welcome).await.unwrap();

    // A job whose push never happened (the bot crashed right after the commit).
    let lost = jobs::create_transcription(&test.db, &ledger, user, 1, &voice()).await.unwrap();
    // A job that failed without releasing its hold, long ago.
    let stuck = jobs::create_transcription(&test.db, &ledger, user, 1, &voice()).await.unwrap();
    test.db
        .execute_unprepared(&format!(
            "UPDATE jobs SET status = 'failed', updated_at = now() - interval '2 hours' WHERE id = '{}'; \
             UPDATE jobs SET updated_at = now() - interval '5 minutes' WHERE id = '{}'; \
             UPDATE ledger_holds SET created_at = now() - interval '2 hours' WHERE job_id = '{}'",
            stuck.job_id, lost.job_id, stuck.job_id
        ))
        .await
        .unwrap();

    let report = maintenance::tick(&test.db, &ledger, &queue).await.unwrap();
    assert_eq!(report, maintenance::TickReport { ran: true, requeued: 1, holds_released: 1 });
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::whole(85), Credits::whole(15)));

    // Touched: not pushed again on the next tick.
    let again = maintenance::tick(&test.db, &ledger, &queue).await.unwrap();
    assert_eq!((again.requeued, again.holds_released), (0, 0));
}

#[tokio::test]
async fn only_one_process_runs_a_tick_at_a_time() {
    let test = TestDb::migrated().await;
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let queue = JobQueue::new(conn, &redis.namespace);
    let ledger = ledger();
    // Another process holds the maintenance lock.
    let other = sea_orm::Database::connect(test.url.as_str()).await.unwrap();
    let txn = sea_orm::TransactionTrait::begin(&other).await.unwrap();
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({})", maintenance::MAINTENANCE_LOCK_KEY))
        .await
        .unwrap();
    let report = maintenance::tick(&test.db, &ledger, &queue).await.unwrap();
    assert!(!report.ran);
    drop(txn);
}
