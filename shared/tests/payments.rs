//! Payments settle exactly once, however often and however concurrently.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use rust_decimal::Decimal;
use sea_orm::EntityTrait;
use shared::ids::{PaymentId, TelegramUserId};
use shared::{
    billing::ledger::Ledger,
    billing::money::Credits,
    billing::pricing::PricingSettings,
    entities::payments::{self as payment_rows, PaymentProvider, PaymentStatus},
    payments::{self, Settlement, packages::PackageList},
    people::users,
};
use testkit::{TestDb, fixtures};

fn ledger() -> Ledger {
    Ledger::new(PricingSettings::default())
}

fn packages() -> PackageList {
    PackageList::from_str("100:0:149:100,300:10:399:270,1000:20:1190:800").unwrap()
}

#[test]
fn packages_parse_with_their_bonus() {
    let list = packages();
    assert_eq!(list.0.len(), 3);
    assert_eq!(list.find("p300").unwrap().total_credits(), Credits::whole(330));
    assert_eq!(list.find("p1000").unwrap().total_credits(), Credits::whole(1200));
    assert_eq!(list.find("p1000").unwrap().price_rub, Decimal::from(1190));
    assert!(PackageList::from_str("100:0:149").is_err());
    assert!(PackageList::from_str("100:0:-1:5").is_err());
    assert!(PackageList::from_str("").is_err());
}

#[tokio::test]
async fn twenty_concurrent_notifications_credit_once() {
    let test = TestDb::migrated().await;
    let ledger = ledger();
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let package = packages().find("p300").unwrap().clone();
    let payment =
        payments::create_pending(&test.db, user, &package, PaymentProvider::YooKassa).await.unwrap();
    assert_eq!((payment.currency.as_str(), payment.amount), ("RUB", Decimal::from(399)));

    let settlements = (0..20).map(|_| {
        let (db, ledger) = (test.db.clone(), ledger.clone());
        tokio::spawn(async move {
            payments::settle_succeeded(
                &db,
                &ledger,
                payment.id,
                "yk-1",
                Decimal::from(399),
                serde_json::json!({}),
                10,
            )
            .await
        })
    });
    let results: Vec<_> =
        futures::future::join_all(settlements).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
    let credited: Vec<_> = results.iter().filter(|s| matches!(s, Settlement::Credited { .. })).collect();
    assert_eq!(credited.len(), 1);
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, Credits::whole(330));
    let stored = payment_rows::Entity::find_by_id(payment.id).one(&test.db).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.provider_payment_id.as_deref()),
        (PaymentStatus::Succeeded, Some("yk-1"))
    );
    assert!(fixtures::ledger_violation(&test.db).await.is_none());
}

#[tokio::test]
async fn a_wrong_amount_or_unknown_payment_credits_nothing() {
    let test = TestDb::migrated().await;
    let ledger = ledger();
    let user = fixtures::user(&test.db, TelegramUserId(1)).await;
    let package = packages().find("p100").unwrap().clone();
    let payment = payments::create_pending(&test.db, user, &package, PaymentProvider::Stars).await.unwrap();
    assert_eq!((payment.currency.as_str(), payment.amount), ("XTR", Decimal::from(100)));
    let err = payments::settle_succeeded(
        &test.db,
        &ledger,
        payment.id,
        "ch-1",
        Decimal::from(1),
        serde_json::json!({}),
        10,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, payments::PaymentError::AmountMismatch { .. }), "{err:?}");
    let err = payments::settle_succeeded(
        &test.db,
        &ledger,
        PaymentId::new(),
        "x",
        Decimal::ONE,
        serde_json::json!({}),
        10,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, payments::PaymentError::NotFound(_)), "{err:?}");
    assert_eq!(ledger.balance(&test.db, user).await.unwrap().available, Credits::ZERO);
    assert!(
        payments::mark_canceled(&test.db, payment.id, serde_json::json!({"reason": "expired"}))
            .await
            .unwrap()
    );
    assert!(!payments::mark_canceled(&test.db, payment.id, serde_json::json!({})).await.unwrap());
}

#[tokio::test]
async fn the_referrer_earns_once_on_the_first_purchase_only() {
    let test = TestDb::migrated().await;
    let ledger = ledger();
    let referrer = users::upsert_from_telegram(
        &test.db,
        &users::TelegramProfile {
            telegram_id: TelegramUserId(1),
            username: None,
            first_name: "A".into(),
            language_code: None,
        },
    )
    .await
    .unwrap();
    let referee = fixtures::user(&test.db, TelegramUserId(2)).await;
    assert!(users::set_referrer(&test.db, referee, &referrer.referral_code).await.unwrap());
    // Once set, the referrer cannot be changed, and the referrer cannot be referred back.
    assert!(!users::set_referrer(&test.db, referee, &referrer.referral_code).await.unwrap());
    let referee_code: String = "code2".into();
    assert!(!users::set_referrer(&test.db, referrer.id, &referee_code).await.unwrap());
    assert!(!users::set_referrer(&test.db, referrer.id, &referrer.referral_code).await.unwrap());

    let package = packages().find("p1000").unwrap().clone();
    let first =
        payments::create_pending(&test.db, referee, &package, PaymentProvider::YooKassa).await.unwrap();
    let second =
        payments::create_pending(&test.db, referee, &package, PaymentProvider::YooKassa).await.unwrap();
    let settled = payments::settle_succeeded(
        &test.db,
        &ledger,
        first.id,
        "yk-1",
        first.amount,
        serde_json::json!({}),
        10,
    )
    .await
    .unwrap();
    assert_eq!(
        settled,
        Settlement::Credited {
            user_id: referee,
            credits: Credits::whole(1200),
            referral_bonus: Some((referrer.id, Credits::whole(120)))
        }
    );
    let settled = payments::settle_succeeded(
        &test.db,
        &ledger,
        second.id,
        "yk-2",
        second.amount,
        serde_json::json!({}),
        10,
    )
    .await
    .unwrap();
    assert_eq!(
        settled,
        Settlement::Credited { user_id: referee, credits: Credits::whole(1200), referral_bonus: None }
    );
    assert_eq!(ledger.balance(&test.db, referrer.id).await.unwrap().available, Credits::whole(120));
    assert_eq!(ledger.balance(&test.db, referee).await.unwrap().available, Credits::whole(2400));
}
