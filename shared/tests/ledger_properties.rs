//! Random sequences of ledger operations keep every invariant.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::{collection::vec, prelude::*};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use shared::ids::{JobId, TelegramUserId};
use shared::{
    billing::ledger::{BonusReason, Hold, Ledger, LedgerError, Posting, Purchase},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    billing::pricing::Work,
    entities::payments::PaymentProvider,
};
use testkit::{TestDb, fixtures};

const USERS: usize = 4;
const JOBS: usize = 80;

#[derive(Clone, Debug)]
enum Op {
    Purchase { user: usize, cents: u32, payment: u8 },
    Bonus { user: usize, cents: u32, action: u8 },
    Hold { user: usize, job: usize, seconds: u32 },
    HoldImage { user: usize, job: usize },
    Capture { job: usize, percent: u32 },
    CaptureWork { job: usize, seconds: u32 },
    Release { job: usize },
    Refund { job: usize },
    Adjust { user: usize, cents: i32, action: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS;
    let job = 0..JOBS;
    prop_oneof![
        1 => (user.clone(), 1..20_000u32, 0..40u8).prop_map(|(user, cents, payment)| Op::Purchase { user, cents, payment }),
        1 => (user.clone(), 1..2_000u32, 0..10u8).prop_map(|(user, cents, action)| Op::Bonus { user, cents, action }),
        3 => (user.clone(), job.clone(), 1..900u32).prop_map(|(user, job, seconds)| Op::Hold { user, job, seconds }),
        1 => (user.clone(), job.clone()).prop_map(|(user, job)| Op::HoldImage { user, job }),
        2 => (job.clone(), 0..=110u32).prop_map(|(job, percent)| Op::Capture { job, percent }),
        1 => (job.clone(), 1..900u32).prop_map(|(job, seconds)| Op::CaptureWork { job, seconds }),
        2 => job.clone().prop_map(|job| Op::Release { job }),
        1 => job.prop_map(|job| Op::Refund { job }),
        1 => (user, -5_000..5_000i32, 0..10u8).prop_map(|(user, cents, action)| Op::Adjust { user, cents, action }),
    ]
}

fn pricing() -> PricingSettings {
    PricingSettings { image_free_per_month: 2, ..PricingSettings::default() }
}

/// Every account balance and every hold, to compare before and after an operation.
async fn snapshot<C: ConnectionTrait>(db: &C) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT 'a' || id || '=' || balance AS s FROM ledger_accounts \
             UNION ALL SELECT 'h' || job_id || '=' || status || ':' || COALESCE(captured::TEXT, '-') FROM ledger_holds \
             UNION ALL SELECT 'u' || user_id || allowance || '=' || used FROM free_allowance_usage \
             UNION ALL SELECT 't' || COUNT(*) FROM ledger_transactions ORDER BY 1",
        ))
        .await
        .unwrap();
    rows.iter().map(|row| row.try_get("", "s").unwrap()).collect()
}

enum Outcome {
    /// Changed the ledger.
    Applied,
    /// A replay or an expected refusal: must have changed nothing.
    Unchanged,
}

fn posting(result: Result<Posting, LedgerError>) -> Outcome {
    match result {
        Ok(Posting { replayed: false, .. }) => Outcome::Applied,
        Ok(Posting { replayed: true, .. }) => Outcome::Unchanged,
        Err(err) => refusal(err),
    }
}

fn hold_result(result: Result<Hold, LedgerError>) -> Outcome {
    match result {
        // A replayed hold or capture also returns Ok; the snapshot comparison
        // below cannot tell those apart, so holds count as applied.
        Ok(_) => Outcome::Applied,
        Err(err) => refusal(err),
    }
}

fn refusal(err: LedgerError) -> Outcome {
    match err {
        LedgerError::Db(err) => panic!("database error: {err}"),
        _ => Outcome::Unchanged,
    }
}

fn cents(value: i64) -> Decimal {
    Decimal::new(value, 2)
}

async fn run(ops: Vec<Op>) {
    let test = TestDb::migrated().await;
    let db = &test.db;
    let ledger = Ledger::new(pricing());
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(fixtures::user(db, TelegramUserId(10 + i as i64)).await);
    }
    let mut jobs: Vec<JobId> = Vec::new();
    for i in 0..JOBS {
        jobs.push(fixtures::job(db, users[i % USERS]).await);
    }

    for (step, op) in ops.into_iter().enumerate() {
        let before = snapshot(db).await;
        let outcome = match op.clone() {
            Op::Purchase { user, cents: amount, payment } => posting(
                ledger
                    .credit_purchase(
                        db,
                        &Purchase {
                            user_id: users[user],
                            credits: Credits::new(cents(amount.into())).unwrap(),
                            provider: PaymentProvider::YooKassa,
                            provider_payment_id: format!("pay-{payment}"),
                            payment_id: None,
                        },
                    )
                    .await,
            ),
            Op::Bonus { user, cents: amount, action } => posting(
                ledger
                    .grant_bonus(
                        db,
                        users[user],
                        Credits::new(cents(amount.into())).unwrap(),
                        &BonusReason::Admin {
                            admin_telegram_id: TelegramUserId(1),
                            action_id: format!("b{action}"),
                            note: "gift".into(),
                        },
                    )
                    .await,
            ),
            Op::Hold { user, job, seconds } => hold_result(
                ledger.hold_for_work(db, users[user], jobs[job], Work::Transcription { seconds }).await,
            ),
            Op::HoldImage { user, job } => {
                hold_result(ledger.hold_for_work(db, users[user], jobs[job], Work::ImageGeneration).await)
            }
            Op::Capture { job, percent } => {
                let held = ledger_hold_amount(db, jobs[job]).await;
                let amount = (held * Decimal::from(percent) / Decimal::from(100)).round_dp(2);
                hold_result(ledger.capture(db, jobs[job], Credits::new(amount).unwrap()).await)
            }
            Op::CaptureWork { job, seconds } => {
                hold_result(ledger.capture_work(db, jobs[job], Work::Transcription { seconds }).await)
            }
            Op::Release { job } => hold_result(ledger.release(db, jobs[job]).await),
            Op::Refund { job } => posting(ledger.refund(db, jobs[job], "admin:1", "refund").await),
            Op::Adjust { user, cents: amount, action } => posting(
                ledger
                    .adjust(
                        db,
                        users[user],
                        cents(amount.into()),
                        "fix",
                        TelegramUserId(1),
                        &format!("adj{action}"),
                    )
                    .await,
            ),
        };
        if let Outcome::Unchanged = outcome {
            assert_eq!(
                before,
                snapshot(db).await,
                "step {step}: {op:?} was refused or replayed yet changed the ledger"
            );
        }
        if step % 50 == 0
            && let Some(violation) = fixtures::ledger_violation(db).await
        {
            panic!("after step {step} ({op:?}): {violation}");
        }
    }
    if let Some(violation) = fixtures::ledger_violation(db).await {
        panic!("at the end: {violation}");
    }
}

async fn ledger_hold_amount<C: ConnectionTrait>(db: &C, job: JobId) -> Decimal {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT amount FROM ledger_holds WHERE job_id = $1",
            [job.into()],
        ))
        .await
        .unwrap();
    row.map(|row| row.try_get("", "amount").unwrap()).unwrap_or(Decimal::ONE)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, max_shrink_iters: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_thousand_random_operations_keep_the_books_balanced(ops in vec(op(), 1000)) {
        tokio::runtime::Runtime::new().unwrap().block_on(run(ops));
    }
}
