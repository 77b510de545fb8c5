//! The job row drives everything: creation with its hold, claims, failure.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use sea_orm::{EntityTrait, PaginatorTrait};
use shared::ids::{ChatId, TelegramUserId};
use shared::{
    billing::ledger::{BonusReason, Ledger, LedgerError},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    entities::jobs::{self, JobStatus},
    jobs::{self as job_ops, Claim, MediaSource, TranscriptionInput},
};
use testkit::{TestDb, fixtures};

fn ledger() -> Ledger {
    Ledger::new(PricingSettings::default())
}

fn voice(seconds: u32) -> TranscriptionInput {
    TranscriptionInput {
        file_id: "AwACAgIAAxkBAAIB".into(),
        file_unique_id: "AgADq1".into(),
        file_size: Some(48_000),
        mime_type: Some("audio/ogg".into()),
        file_name: None,
        duration_hint_s: seconds,
        source: MediaSource::Voice,
        reply_to: None,
    }
}

fn c(s: &str) -> Credits {
    Credits::from_str(s).unwrap()
}

#[tokio::test]
async fn a_job_and_its_hold_are_created_together() {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let ledger = ledger();
    ledger.grant_bonus(&test.db, user, c("100"), &BonusReason::Welcome).await.unwrap();
    let queued =
        job_ops::create_transcription(&test.db, &ledger, user, ChatId(1), &voice(300)).await.unwrap();
    assert_eq!((queued.hold.amount, queued.hold.free_units), (c("30"), 180));
    let job = jobs::Entity::find_by_id(queued.job_id).one(&test.db).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.price_quoted, c("30").amount());
    assert_eq!(job_ops::transcription_input(&job).unwrap(), voice(300));
    assert_eq!(job_ops::queue_position(&test.db, queued.job_id).await.unwrap(), 0);
    let second = job_ops::create_transcription(&test.db, &ledger, user, ChatId(1), &voice(10)).await.unwrap();
    assert_eq!(job_ops::queue_position(&test.db, second.job_id).await.unwrap(), 1);
    assert_eq!(job_ops::unfinished_count(&test.db, user).await.unwrap(), 2);
}

#[tokio::test]
async fn without_enough_credit_nothing_is_created() {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let ledger = ledger();
    let err =
        job_ops::create_transcription(&test.db, &ledger, user, ChatId(1), &voice(600)).await.unwrap_err();
    assert!(matches!(err, job_ops::JobError::Ledger(LedgerError::InsufficientFunds { .. })), "{err:?}");
    assert_eq!(jobs::Entity::find().count(&test.db).await.unwrap(), 0);
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().free_seconds_left_today, 180);
}

#[tokio::test]
async fn claims_count_attempts_and_stop_at_the_cap() {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let ledger = ledger();
    let queued = job_ops::create_transcription(&test.db, &ledger, user, ChatId(1), &voice(60)).await.unwrap();
    for expected in 1..=3 {
        match job_ops::claim(&test.db, queued.job_id, 3, job_ops::DEFAULT_LEASE).await.unwrap() {
            Claim::Run { attempt, job } => {
                assert_eq!(attempt, expected);
                assert_eq!(job.status, JobStatus::Running);
            }
            other => panic!("attempt {expected}: {other:?}"),
        }
        // While the attempt holds its lease, a duplicate delivery stays out.
        assert_eq!(
            job_ops::claim(&test.db, queued.job_id, 3, job_ops::DEFAULT_LEASE).await.unwrap(),
            Claim::Busy
        );
        job_ops::release_lease(&test.db, queued.job_id).await.unwrap();
    }
    assert!(matches!(
        job_ops::claim(&test.db, queued.job_id, 3, job_ops::DEFAULT_LEASE).await.unwrap(),
        Claim::Exhausted(_)
    ));
    assert_eq!(
        job_ops::fail(&test.db, &ledger, queued.job_id, "provider_unavailable").await.unwrap(),
        job_ops::Ending::Failed
    );
    assert_eq!(
        job_ops::fail(&test.db, &ledger, queued.job_id, "provider_unavailable").await.unwrap(),
        job_ops::Ending::AlreadyFinal
    );
    assert_eq!(
        job_ops::claim(&test.db, queued.job_id, 3, job_ops::DEFAULT_LEASE).await.unwrap(),
        Claim::Finished(JobStatus::Failed)
    );
    // The free minutes came back with the hold.
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().free_seconds_left_today, 180);
    assert!(fixtures::ledger_violation(&test.db).await.is_none());
}

#[tokio::test]
async fn only_queued_jobs_can_be_cancelled() {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let ledger = ledger();
    ledger.grant_bonus(&test.db, user, c("100"), &BonusReason::Welcome).await.unwrap();
    let queued =
        job_ops::create_transcription(&test.db, &ledger, user, ChatId(1), &voice(300)).await.unwrap();
    let running =
        job_ops::create_transcription(&test.db, &ledger, user, ChatId(1), &voice(60)).await.unwrap();
    job_ops::claim(&test.db, running.job_id, 3, job_ops::DEFAULT_LEASE).await.unwrap();
    assert!(job_ops::cancel_queued(&test.db, &ledger, queued.job_id).await.unwrap());
    assert!(!job_ops::cancel_queued(&test.db, &ledger, running.job_id).await.unwrap());
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.held), (c("85"), c("15")));
}

#[tokio::test]
async fn the_sweeper_pushes_lost_jobs_and_jobs_whose_lease_ended_once_each() {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let ledger = ledger();
    let queued = job_ops::create_transcription(&test.db, &ledger, user, ChatId(1), &voice(5)).await.unwrap();
    let job = queued.job_id;
    let at = |seconds: i64| chrono::Utc::now() + chrono::Duration::seconds(seconds);
    let repush = std::time::Duration::from_secs(30);
    // Queued: presumed lost once it has waited `repush` since its last push.
    assert!(job_ops::stale_queued(&test.db, at(5), repush).await.unwrap().is_empty());
    assert_eq!(job_ops::stale_queued(&test.db, at(31), repush).await.unwrap(), vec![job]);
    job_ops::mark_pushed(&test.db, &[job]).await.unwrap();
    assert!(job_ops::stale_queued(&test.db, at(5), repush).await.unwrap().is_empty());
    // Running under a live lease: left alone.
    job_ops::claim(&test.db, job, 3, std::time::Duration::from_secs(60)).await.unwrap();
    assert!(job_ops::stale_queued(&test.db, at(31), repush).await.unwrap().is_empty());
    // A failed attempt's backoff ended (or its worker died): pushed again at once, then not
    // again until `repush` has passed without a claim.
    job_ops::defer(&test.db, job, std::time::Duration::ZERO).await.unwrap();
    assert_eq!(job_ops::stale_queued(&test.db, at(1), repush).await.unwrap(), vec![job]);
    job_ops::mark_pushed(&test.db, &[job]).await.unwrap();
    assert!(job_ops::stale_queued(&test.db, at(1), repush).await.unwrap().is_empty());
    assert_eq!(job_ops::stale_queued(&test.db, at(31), repush).await.unwrap(), vec![job]);
}

#[tokio::test]
async fn a_job_that_cannot_be_delivered_after_its_charge_ends_undeliverable_with_the_charge_kept() {
    let test = TestDb::migrated().await;
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let ledger = ledger();
    ledger.grant_bonus(&test.db, user, c("100"), &BonusReason::Welcome).await.unwrap();
    let queued =
        job_ops::create_transcription(&test.db, &ledger, user, ChatId(1), &voice(300)).await.unwrap();
    assert!(matches!(
        job_ops::claim(&test.db, queued.job_id, 5, job_ops::DEFAULT_LEASE).await.unwrap(),
        Claim::Run { .. }
    ));
    ledger.capture(&test.db, queued.job_id, c("30")).await.unwrap();
    // Delivery failed for good (the user blocked the bot): the job ends, once, charged.
    let ending = job_ops::fail(&test.db, &ledger, queued.job_id, "recipient_gone").await.unwrap();
    assert_eq!(ending, job_ops::Ending::Undeliverable);
    let again = job_ops::fail(&test.db, &ledger, queued.job_id, "recipient_gone").await.unwrap();
    assert_eq!(again, job_ops::Ending::AlreadyFinal);
    let job = jobs::Entity::find_by_id(queued.job_id).one(&test.db).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Undeliverable);
    assert_eq!(job.price_charged, Some(c("30").amount()));
    assert_eq!(job.error_code.as_deref(), Some("recipient_gone"));
    let balance = ledger.balance(&test.db, user).await.unwrap();
    assert_eq!((balance.available, balance.held), (c("70"), Credits::ZERO));
    assert!(fixtures::ledger_violation(&test.db).await.is_none());
}
