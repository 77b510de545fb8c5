//! The ledger on a real PostgreSQL: exact amounts, idempotency, races.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{str::FromStr, sync::Arc};

use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use shared::ids::{TelegramUserId, UserId};
use shared::{
    billing::ledger::{BonusReason, HoldStatus, Ledger, LedgerError, Purchase},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    billing::pricing::Work,
    entities::{ledger_transactions::TransactionKind, payments::PaymentProvider},
};
use testkit::{
    TestDb,
    fixtures::{self, ledger_violation},
};

fn pricing() -> PricingSettings {
    PricingSettings::default()
}

fn c(s: &str) -> Credits {
    Credits::from_str(s).unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn purchase(user_id: UserId, amount: &str, id: &str) -> Purchase {
    Purchase {
        user_id,
        credits: c(amount),
        provider: PaymentProvider::YooKassa,
        provider_payment_id: id.to_owned(),
        payment_id: None,
    }
}

async fn setup() -> (TestDb, Ledger, UserId) {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1000)).await;
    (test, Ledger::new(pricing()), user)
}

async fn assert_consistent(test: &TestDb) {
    if let Some(violation) = ledger_violation(&test.db).await {
        panic!("ledger invariant broken: {violation}");
    }
}

#[tokio::test]
async fn concurrent_replays_of_one_purchase_credit_once() {
    let (test, ledger, user) = setup().await;
    let attempts = (0..20).map(|_| {
        let (db, ledger) = (test.db.clone(), ledger.clone());
        tokio::spawn(async move { ledger.credit_purchase(&db, &purchase(user, "100", "pay-1")).await })
    });
    let results = futures::future::join_all(attempts).await;
    let postings: Vec<_> = results.into_iter().map(|r| r.unwrap().unwrap()).collect();
    assert_eq!(postings.iter().filter(|p| !p.replayed).count(), 1);
    assert!(postings.iter().all(|p| p.transaction_id == postings[0].transaction_id));
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, c("100"));
    assert_consistent(&test).await;
}

/// Sessions of the test's database whose system-account shards differ.
async fn sessions_on_two_shards(test: &TestDb) -> (sea_orm::DatabaseConnection, sea_orm::DatabaseConnection) {
    use sea_orm::ConnectionTrait;
    let shard = |db: sea_orm::DatabaseConnection| async move {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT pg_backend_pid() % 32 AS shard",
            ))
            .await
            .unwrap()
            .unwrap();
        (row.try_get::<i32>("", "shard").unwrap(), db)
    };
    let (first, a) = shard(test.session().await).await;
    loop {
        let (other, b) = shard(test.session().await).await;
        if other != first {
            return (a, b);
        }
    }
}

#[tokio::test]
async fn concurrent_sessions_post_to_separate_system_rows_and_a_replay_on_another_is_still_one() {
    let (test, ledger, user) = setup().await;
    let (a, b) = sessions_on_two_shards(&test).await;
    let first = ledger.credit_purchase(&a, &purchase(user, "100", "pay-1")).await.unwrap();
    // The same payment credited from another session names another clearing row: still a replay.
    let again = ledger.credit_purchase(&b, &purchase(user, "100", "pay-1")).await.unwrap();
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.transaction_id, again.transaction_id);
    let err = ledger.credit_purchase(&b, &purchase(user, "150", "pay-1")).await.unwrap_err();
    assert!(matches!(err, LedgerError::IdempotencyConflict { .. }), "{err:?}");
    for (db, charge) in [(&a, "30"), (&b, "12")] {
        let job = fixtures::job(&test.db, user).await;
        ledger.hold(db, user, job, c("30")).await.unwrap();
        ledger.capture(db, job, c(charge)).await.unwrap();
    }
    let revenue_rows: Vec<(i16, Decimal)> =
        <shared::entities::ledger_accounts::Entity as sea_orm::EntityTrait>::find()
            .all(&test.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|account| account.kind == shared::entities::ledger_accounts::AccountKind::Revenue)
            .map(|account| (account.shard, account.balance))
            .collect();
    assert_eq!(revenue_rows.len(), 2, "{revenue_rows:?}");
    assert_ne!(revenue_rows[0].0, revenue_rows[1].0);
    assert_eq!(ledger.admin_figures(&test.db).await.unwrap().revenue_today, d("42"));
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, c("58"));
    assert_consistent(&test).await;
}

#[tokio::test]
async fn replaying_a_key_with_another_amount_is_refused_and_changes_nothing() {
    let (test, ledger, user) = setup().await;
    ledger.credit_purchase(&test.db, &purchase(user, "100", "pay-1")).await.unwrap();
    let err = ledger.credit_purchase(&test.db, &purchase(user, "150", "pay-1")).await.unwrap_err();
    assert!(matches!(err, LedgerError::IdempotencyConflict { .. }), "{err:?}");
    // Same provider payment id at another provider is another payment.
    let mut stars = purchase(user, "150", "pay-1");
    stars.provider = PaymentProvider::Stars;
    ledger.credit_purchase(&test.db, &stars).await.unwrap();
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, c("250"));
    assert_consistent(&test).await;
}

#[tokio::test]
async fn fifty_concurrent_holds_against_ten_credits_ten_succeed() {
    let (test, ledger, user) = setup().await;
    ledger.grant_bonus(&test.db, user, c("10"), &BonusReason::Welcome).await.unwrap();
    let mut jobs = Vec::new();
    for _ in 0..50 {
        jobs.push(fixtures::job(&test.db, user).await);
    }
    let attempts = jobs.into_iter().map(|job| {
        let (db, ledger) = (test.db.clone(), ledger.clone());
        tokio::spawn(async move { ledger.hold(&db, user, job, c("1")).await })
    });
    let results: Vec<_> = futures::future::join_all(attempts).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 10);
    for result in &results {
        if let Err(err) = result {
            assert!(
                matches!(err, LedgerError::InsufficientFunds { needed, available } if *needed == c("1") && *available == Credits::ZERO),
                "{err:?}"
            );
        }
    }
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.held), (Credits::ZERO, c("10")));
    assert_consistent(&test).await;
}

#[tokio::test]
async fn capture_and_release_racing_for_one_hold_exactly_one_wins() {
    let (test, ledger, user) = setup().await;
    ledger.credit_purchase(&test.db, &purchase(user, "1000", "p")).await.unwrap();
    for round in 0..10 {
        let job = fixtures::job(&test.db, user).await;
        ledger.hold(&test.db, user, job, c("30")).await.unwrap();
        let capture = {
            let (db, ledger) = (test.db.clone(), ledger.clone());
            tokio::spawn(async move { ledger.capture(&db, job, c("30")).await })
        };
        let release = {
            let (db, ledger) = (test.db.clone(), ledger.clone());
            tokio::spawn(async move { ledger.release(&db, job).await })
        };
        let (capture, release) = (capture.await.unwrap(), release.await.unwrap());
        match (&capture, &release) {
            (Ok(_), Err(LedgerError::HoldAlreadySettled { status: HoldStatus::Captured, .. }))
            | (Err(LedgerError::HoldAlreadySettled { status: HoldStatus::Released, .. }), Ok(_)) => {}
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        }
        assert_consistent(&test).await;
    }
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!(balance.held, Credits::ZERO);
    let figures = ledger.admin_figures(&test.db).await.unwrap();
    assert_eq!(balance.available.amount() + figures.revenue_today, d("1000"));
}

#[tokio::test]
async fn five_minutes_with_three_free_hold_two_paid_minutes_and_release_restores_them() {
    let (test, ledger, user) = setup().await;
    ledger.credit_purchase(&test.db, &purchase(user, "100", "p")).await.unwrap();
    let job = fixtures::job(&test.db, user).await;
    let hold = ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 300 }).await.unwrap();
    assert_eq!((hold.amount, hold.free_units), (c("30"), 180));
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.held, balance.free_seconds_left_today), (c("70"), c("30"), 0));

    ledger.release(&test.db, job).await.unwrap();
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!(
        (balance.available, balance.held, balance.free_seconds_left_today),
        (c("100"), Credits::ZERO, 180)
    );
    assert_consistent(&test).await;
}

#[tokio::test]
async fn capture_of_shorter_audio_charges_less_and_returns_unused_free_seconds() {
    let (test, ledger, user) = setup().await;
    ledger.credit_purchase(&test.db, &purchase(user, "100", "p")).await.unwrap();
    // Today 60 of the 180 free seconds are used already.
    let first = fixtures::job(&test.db, user).await;
    ledger.hold_for_work(&test.db, user, first, Work::Transcription { seconds: 60 }).await.unwrap();
    ledger.capture_work(&test.db, first, Work::Transcription { seconds: 60 }).await.unwrap();

    // Telegram said 200 s: 120 free, 80 paid (20 credits) are held.
    let job = fixtures::job(&test.db, user).await;
    let hold = ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 200 }).await.unwrap();
    assert_eq!((hold.free_units, hold.amount), (120, c("20")));
    // The file really lasts 100 s: all free, nothing charged.
    let captured = ledger.capture_work(&test.db, job, Work::Transcription { seconds: 100 }).await.unwrap();
    assert_eq!((captured.captured, captured.free_units), (Some(Credits::ZERO), 100));
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.free_seconds_left_today), (c("100"), 20));

    // A longer file than the hint is charged at most what was held.
    let job = fixtures::job(&test.db, user).await;
    let hold = ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 60 }).await.unwrap();
    assert_eq!((hold.free_units, hold.amount), (20, c("10")));
    let captured = ledger.capture_work(&test.db, job, Work::Transcription { seconds: 600 }).await.unwrap();
    assert_eq!(captured.captured, Some(c("10")));
    assert_consistent(&test).await;
}

#[tokio::test]
async fn partial_capture_returns_the_rest_and_replays_are_harmless() {
    let (test, ledger, user) = setup().await;
    ledger.credit_purchase(&test.db, &purchase(user, "50", "p")).await.unwrap();
    let job = fixtures::job(&test.db, user).await;
    ledger.hold(&test.db, user, job, c("15.5")).await.unwrap();
    // Holding again for the same job returns the same hold; another amount is refused.
    assert_eq!(ledger.hold(&test.db, user, job, c("15.5")).await.unwrap().amount, c("15.5"));
    assert!(matches!(
        ledger.hold(&test.db, user, job, c("16")).await,
        Err(LedgerError::IdempotencyConflict { .. })
    ));
    assert!(matches!(
        ledger.capture(&test.db, job, c("16")).await,
        Err(LedgerError::CaptureExceedsHold { .. })
    ));
    ledger.capture(&test.db, job, c("10.25")).await.unwrap();
    let again = ledger.capture(&test.db, job, c("10.25")).await.unwrap();
    assert_eq!(again.status, HoldStatus::Captured);
    assert!(matches!(
        ledger.capture(&test.db, job, c("3")).await,
        Err(LedgerError::IdempotencyConflict { .. })
    ));
    assert!(matches!(
        ledger.release(&test.db, job).await,
        Err(LedgerError::HoldAlreadySettled { status: HoldStatus::Captured, .. })
    ));
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.held), (c("39.75"), Credits::ZERO));
    assert_consistent(&test).await;
}

#[tokio::test]
async fn insufficient_funds_change_nothing_not_even_the_free_allowance() {
    let (test, ledger, user) = setup().await;
    ledger.grant_bonus(&test.db, user, c("5"), &BonusReason::Welcome).await.unwrap();
    let job = fixtures::job(&test.db, user).await;
    let err =
        ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 600 }).await.unwrap_err();
    // 600 s - 180 free = 420 s = 105 credits.
    assert!(
        matches!(err, LedgerError::InsufficientFunds { needed, available } if needed == c("105") && available == c("5")),
        "{err:?}"
    );
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!(
        (balance.available, balance.held, balance.free_seconds_left_today),
        (c("5"), Credits::ZERO, 180)
    );
    assert!(matches!(ledger.release(&test.db, job).await, Err(LedgerError::HoldNotFound(_))));
    assert_consistent(&test).await;
}

#[tokio::test]
async fn free_images_are_used_first_then_priced() {
    let (test, ledger, user) = setup().await;
    ledger.credit_purchase(&test.db, &purchase(user, "100", "p")).await.unwrap();
    for _ in 0..10 {
        let job = fixtures::job(&test.db, user).await;
        let hold = ledger.hold_for_work(&test.db, user, job, Work::ImageGeneration).await.unwrap();
        assert_eq!((hold.amount, hold.free_units), (Credits::ZERO, 1));
        ledger.capture_work(&test.db, job, Work::ImageGeneration).await.unwrap();
    }
    let job = fixtures::job(&test.db, user).await;
    let hold = ledger.hold_for_work(&test.db, user, job, Work::ImageGeneration).await.unwrap();
    assert_eq!((hold.amount, hold.free_units), (c("20"), 0));
    let edit = fixtures::job(&test.db, user).await;
    assert_eq!(ledger.hold_for_work(&test.db, user, edit, Work::ImageEdit).await.unwrap().amount, c("25"));
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().free_images_left_this_month, 0);
    assert_consistent(&test).await;
}

#[tokio::test]
async fn free_minutes_renew_at_midnight_in_the_billing_time_zone() {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let now = Arc::new(std::sync::Mutex::new(Utc.with_ymd_and_hms(2026, 3, 1, 20, 30, 0).unwrap()));
    let clock = now.clone();
    let ledger = Ledger::new(pricing()).with_clock(Arc::new(move || *clock.lock().unwrap()));
    let job = fixtures::job(&test.db, user).await;
    ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 180 }).await.unwrap();
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().free_seconds_left_today, 0);
    // 21:00 UTC is midnight in Moscow.
    *now.lock().unwrap() = Utc.with_ymd_and_hms(2026, 3, 1, 21, 0, 0).unwrap();
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().free_seconds_left_today, 180);
}

#[tokio::test]
async fn refund_gives_the_charge_back_once() {
    let (test, ledger, user) = setup().await;
    ledger.credit_purchase(&test.db, &purchase(user, "100", "p")).await.unwrap();
    let job = fixtures::job(&test.db, user).await;
    ledger.hold(&test.db, user, job, c("40")).await.unwrap();
    ledger.capture(&test.db, job, c("40")).await.unwrap();
    let first = ledger.refund(&test.db, job, "admin:7", "bad audio").await.unwrap();
    let second = ledger.refund(&test.db, job, "admin:7", "bad audio").await.unwrap();
    assert!(!first.replayed && second.replayed);
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, c("100"));
    let released = fixtures::job(&test.db, user).await;
    ledger.hold(&test.db, user, released, c("1")).await.unwrap();
    ledger.release(&test.db, released).await.unwrap();
    assert!(matches!(
        ledger.refund(&test.db, released, "admin:7", "x").await,
        Err(LedgerError::NotCaptured(_))
    ));
    let figures = ledger.admin_figures(&test.db).await.unwrap();
    assert_eq!(figures.revenue_today, Decimal::ZERO);
    assert_consistent(&test).await;
}

#[tokio::test]
async fn admin_adjustments_are_recorded_and_cannot_overdraw() {
    let (test, ledger, user) = setup().await;
    ledger.adjust(&test.db, user, d("12.5"), "compensation", TelegramUserId(7), "a1").await.unwrap();
    let err =
        ledger.adjust(&test.db, user, d("-20"), "correction", TelegramUserId(7), "a2").await.unwrap_err();
    assert!(matches!(err, LedgerError::InsufficientFunds { .. }), "{err:?}");
    ledger.adjust(&test.db, user, d("-2.5"), "correction", TelegramUserId(7), "a3").await.unwrap();
    assert!(
        ledger
            .adjust(&test.db, user, d("-2.5"), "correction", TelegramUserId(7), "a3")
            .await
            .unwrap()
            .replayed
    );
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, c("10"));
    let history = ledger.history(&test.db, user, None, 10).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!((history[0].memo.as_str(), history[0].amount), ("correction", d("-2.5")));
    assert_consistent(&test).await;
}

#[tokio::test]
async fn history_is_newest_first_paginated_with_balance_after() {
    let (test, ledger, user) = setup().await;
    ledger.credit_purchase(&test.db, &purchase(user, "100", "p")).await.unwrap();
    let job = fixtures::job(&test.db, user).await;
    ledger.hold(&test.db, user, job, c("30")).await.unwrap();
    ledger.capture(&test.db, job, c("20")).await.unwrap();
    ledger.grant_bonus(&test.db, user, c("5"), &BonusReason::Welcome).await.unwrap();

    let page = ledger.history(&test.db, user, None, 2).await.unwrap();
    let kinds: Vec<_> = page.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![TransactionKind::Bonus, TransactionKind::Capture]);
    assert_eq!((page[0].amount, page[0].available_after), (d("5"), d("85")));
    // The capture charged 20 and returned 10 of the 30 held.
    assert_eq!(
        (page[1].amount, page[1].available_change, page[1].available_after),
        (d("-20"), d("10"), d("80"))
    );
    let rest = ledger.history(&test.db, user, Some(page[1].transaction_id), 10).await.unwrap();
    let kinds: Vec<_> = rest.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![TransactionKind::Hold, TransactionKind::Purchase]);
    assert_eq!(
        (rest[0].amount, rest[0].available_change, rest[0].available_after),
        (d("0"), d("-30"), d("70"))
    );
    assert_eq!(rest[1].available_after, d("100"));
}

#[tokio::test]
async fn admin_figures_add_up() {
    let (test, ledger, user) = setup().await;
    let other = fixtures::user(&test.db, TelegramUserId(2000)).await;
    ledger.credit_purchase(&test.db, &purchase(user, "100", "p1")).await.unwrap();
    ledger.credit_purchase(&test.db, &purchase(other, "50", "p2")).await.unwrap();
    let charged = fixtures::job(&test.db, user).await;
    ledger.hold(&test.db, user, charged, c("30")).await.unwrap();
    ledger.capture(&test.db, charged, c("25")).await.unwrap();
    let open = fixtures::job(&test.db, other).await;
    ledger.hold(&test.db, other, open, c("7")).await.unwrap();
    let figures = ledger.admin_figures(&test.db).await.unwrap();
    assert_eq!(figures.revenue_today, d("25"));
    assert_eq!(figures.revenue_this_month, d("25"));
    assert_eq!(figures.credits_outstanding, d("125"));
    assert_eq!((figures.open_holds, figures.open_holds_amount), (1, d("7")));
}

#[tokio::test]
async fn stale_holds_of_finished_jobs_are_released_and_running_ones_kept() {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let now = Arc::new(std::sync::Mutex::new(Utc::now()));
    let clock = now.clone();
    let ledger = Ledger::new(pricing()).with_clock(Arc::new(move || *clock.lock().unwrap()));
    ledger.credit_purchase(&test.db, &purchase(user, "100", "p")).await.unwrap();
    let failed = fixtures::job_with_status(&test.db, user, "failed").await;
    let running = fixtures::job_with_status(&test.db, user, "running").await;
    let fresh = fixtures::job_with_status(&test.db, user, "failed").await;
    ledger.hold_for_work(&test.db, user, failed, Work::Transcription { seconds: 240 }).await.unwrap();
    ledger.hold(&test.db, user, running, c("10")).await.unwrap();

    // Nothing is stale yet.
    assert!(ledger.release_stale_holds(&test.db, Duration::hours(1)).await.unwrap().is_empty());
    *now.lock().unwrap() += Duration::hours(2);
    ledger.hold(&test.db, user, fresh, c("1")).await.unwrap();
    let released = ledger.release_stale_holds(&test.db, Duration::hours(1)).await.unwrap();
    assert_eq!(released, vec![failed]);
    let balance = ledger.balance(&test.db, user).await.unwrap();
    // 10 (running) and 1 (fresh: younger than an hour) stay held.
    assert_eq!(balance.held, c("11"));
    assert_consistent(&test).await;
}

#[tokio::test]
async fn a_hold_raised_past_telegrams_rounding_uses_free_seconds_left_before_credits() {
    // Telegram says 61 s; the recording holds 61.6 s, billed as 62 s. A new user with a zero
    // balance and 180 free seconds must not be asked for a quarter credit.
    let (test, ledger, user) = setup().await;
    let job = fixtures::job(&test.db, user).await;
    let hold = ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 61 }).await.unwrap();
    assert_eq!((hold.amount, hold.free_units), (Credits::ZERO, 61));
    let raised = ledger.raise_hold(&test.db, job, Work::transcription_of_millis(61_600)).await.unwrap();
    assert_eq!((raised.amount, raised.free_units), (Credits::ZERO, 62));
    // Repeating the raise (a retried job) takes nothing more.
    let again = ledger.raise_hold(&test.db, job, Work::transcription_of_millis(61_600)).await.unwrap();
    assert_eq!((again.amount, again.free_units), (Credits::ZERO, 62));
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().free_seconds_left_today, 118);
    let captured = ledger.capture_work(&test.db, job, Work::transcription_of_millis(61_600)).await.unwrap();
    assert_eq!(captured.captured, Some(Credits::ZERO));
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().free_seconds_left_today, 118);
    assert_consistent(&test).await;
}

#[tokio::test]
async fn a_raise_beyond_the_free_seconds_prices_only_the_rest_and_a_shortfall_changes_nothing() {
    let (test, ledger, user) = setup().await;
    ledger.grant_bonus(&test.db, user, c("10"), &BonusReason::Welcome).await.unwrap();
    let job = fixtures::job(&test.db, user).await;
    ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 100 }).await.unwrap();
    // 200 s measured: 180 free, 20 s paid at 15 a minute = 5 credits.
    let raised = ledger.raise_hold(&test.db, job, Work::Transcription { seconds: 200 }).await.unwrap();
    assert_eq!((raised.amount, raised.free_units), (c("5"), 180));
    // 300 s would need 30 credits: refused, and the hold, balance and allowance stay as they were.
    let err = ledger.raise_hold(&test.db, job, Work::Transcription { seconds: 300 }).await.unwrap_err();
    assert!(matches!(err, LedgerError::InsufficientFunds { .. }), "{err:?}");
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.held, balance.free_seconds_left_today), (c("5"), c("5"), 0));
    // The budget: 180 free seconds held plus what 5 held and 5 available credits buy (40 s).
    assert_eq!(ledger.transcription_budget(&test.db, job).await.unwrap(), 220);
    ledger.release(&test.db, job).await.unwrap();
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!(
        (balance.available, balance.held, balance.free_seconds_left_today),
        (c("10"), Credits::ZERO, 180)
    );
    assert_consistent(&test).await;
}

/// A paid plan period of `plan` for `user`, from `starts_at` for 30 days, as a settled
/// subscription payment leaves it: bought with 2 minutes, 1 picture and 10% off a period.
async fn plan_period(test: &TestDb, user: UserId, plan: &str, starts_at: chrono::DateTime<Utc>) {
    use sea_orm::ConnectionTrait;
    let subscription = uuid::Uuid::now_v7();
    let payment = uuid::Uuid::now_v7();
    let ends_at = starts_at + shared::billing::plans::PLAN_PERIOD;
    for (sql, values) in [
        (
            "INSERT INTO subscriptions (id, user_id, plan, name, provider, status, paid_until, price, minutes, \
             images, discount_percent) VALUES ($1, $2, $3, 'Basic', 'stars', 'active', $4, 150, 2, 1, 10)",
            vec![subscription.into(), user.into(), plan.into(), ends_at.into()],
        ),
        (
            "INSERT INTO payments (id, user_id, provider, provider_payment_id, package_id, amount, currency, \
             credits, status, idempotency_key, subscription_id) \
             VALUES ($1, $2, 'stars', $1::text, 'plan:' || $3, 150, 'XTR', 0, 'succeeded', $1::text, $4)",
            vec![payment.into(), user.into(), plan.into(), subscription.into()],
        ),
        (
            "INSERT INTO subscription_periods (payment_id, subscription_id, starts_at, ends_at) VALUES ($1, $2, $3, $4)",
            vec![payment.into(), subscription.into(), starts_at.into(), ends_at.into()],
        ),
    ] {
        test.db
            .execute_raw(sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_plan_covers_work_before_the_free_allowance_and_credits_and_stops_at_its_end() {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1000)).await;
    let now = Utc::now();
    let clock = Arc::new(std::sync::Mutex::new(now));
    let reader = clock.clone();
    // Basic: 2 minutes and 1 picture a period; 3 free minutes a day on top.
    let ledger = Ledger::new(PricingSettings { plans: "Basic:299:150:2:1:10".parse().unwrap(), ..pricing() })
        .with_clock(Arc::new(move || *reader.lock().unwrap()));
    ledger.credit_purchase(&test.db, &purchase(user, "100", "p")).await.unwrap();
    plan_period(&test, user, "basic", now - Duration::days(1)).await;
    // What it includes is the subscription's own: taking the plan off sale changes nothing for it.
    let off_sale = Ledger::new(pricing()).balance(&test.db, user).await.unwrap().plan.unwrap();
    assert_eq!(
        (off_sale.seconds_left, off_sale.images_left, off_sale.period.terms.discount_percent),
        (120, 1, 10)
    );
    let plan = ledger.balance(&test.db, user).await.unwrap().plan.expect("inside the plan");
    assert_eq!((plan.seconds_left, plan.images_left), (120, 1));

    // 100 s: all from the plan; the free minutes stay whole.
    let job = fixtures::job(&test.db, user).await;
    let hold = ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 100 }).await.unwrap();
    assert_eq!((hold.amount, hold.free_units), (Credits::ZERO, 100));
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.plan.unwrap().seconds_left, balance.free_seconds_left_today), (20, 180));
    // It turned out to last 90 s: the plan gets 10 s back.
    ledger.capture_work(&test.db, job, Work::Transcription { seconds: 90 }).await.unwrap();
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().plan.unwrap().seconds_left, 30);

    // 300 s: 30 from the plan, 180 free, 90 paid (22.5 credits).
    let job = fixtures::job(&test.db, user).await;
    let hold = ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 300 }).await.unwrap();
    assert_eq!((hold.amount, hold.free_units), (c("22.5"), 210));
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.plan.clone().unwrap().seconds_left, balance.free_seconds_left_today), (0, 0));
    // Released: both allowances come back whole.
    ledger.release(&test.db, job).await.unwrap();
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.plan.unwrap().seconds_left, balance.free_seconds_left_today), (30, 180));
    assert_eq!(balance.available, c("100"));

    // A raised hold takes the plan's seconds before the free ones.
    let job = fixtures::job(&test.db, user).await;
    ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 10 }).await.unwrap();
    let raised = ledger.raise_hold(&test.db, job, Work::Transcription { seconds: 50 }).await.unwrap();
    assert_eq!((raised.amount, raised.free_units), (Credits::ZERO, 50));
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.plan.unwrap().seconds_left, balance.free_seconds_left_today), (0, 160));
    ledger.capture_work(&test.db, job, Work::Transcription { seconds: 50 }).await.unwrap();

    // Pictures: the plan's one, then the free ones.
    let job = fixtures::job(&test.db, user).await;
    ledger.hold_for_work(&test.db, user, job, Work::ImageGeneration).await.unwrap();
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.plan.unwrap().images_left, balance.free_images_left_this_month), (0, 10));
    assert_consistent(&test).await;

    // Past the period's end the plan grants nothing, whatever its status says.
    *clock.lock().unwrap() = now + Duration::days(30);
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().plan, None);
    let job = fixtures::job(&test.db, user).await;
    let hold = ledger.hold_for_work(&test.db, user, job, Work::Transcription { seconds: 240 }).await.unwrap();
    assert_eq!((hold.amount, hold.free_units), (c("15"), 180));
    assert_consistent(&test).await;
}
