//! Users are created on first contact and refreshed afterwards.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ConnectionTrait, EntityTrait};
use shared::ids::{TelegramUserId, UserId};
use shared::{
    entities::users,
    people::users::{TelegramProfile, upsert_from_telegram},
    texts::i18n::Lang,
};
use testkit::TestDb;

fn profile(telegram_id: i64, language: Option<&str>) -> TelegramProfile {
    TelegramProfile {
        telegram_id: TelegramUserId(telegram_id),
        username: Some("anna".into()),
        first_name: "Анна".into(),
        language_code: language.map(str::to_owned),
    }
}

#[tokio::test]
async fn first_contact_creates_and_later_contact_refreshes() {
    let test = TestDb::migrated().await;
    let created = upsert_from_telegram(&test.db, &profile(777, Some("en"))).await.unwrap();
    assert_eq!(created.telegram_id, TelegramUserId(777));
    assert_eq!(created.language, Lang::En);
    assert_eq!(created.referral_code.len(), 8);

    let mut renamed = profile(777, Some("ru"));
    renamed.first_name = "Anna".into();
    renamed.username = None;
    let updated = upsert_from_telegram(&test.db, &renamed).await.unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.first_name, "Anna");
    assert_eq!(updated.username, None);
    // The language and the referral code are chosen once.
    assert_eq!(updated.language, Lang::En);
    assert_eq!(updated.referral_code, created.referral_code);
    assert_eq!(users::Entity::find().all(&test.db).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_user_seen_again_soon_unchanged_is_not_written_again() {
    let test = TestDb::migrated().await;
    let first = upsert_from_telegram(&test.db, &profile(778, Some("ru"))).await.unwrap();
    let again = upsert_from_telegram(&test.db, &profile(778, Some("ru"))).await.unwrap();
    assert_eq!(again, first, "read back as stored, not written");

    // Having blocked the bot, or last seen over a minute ago, they are written again.
    test.db.execute_unprepared("UPDATE users SET is_blocked = true WHERE telegram_id = 778").await.unwrap();
    let unblocked = upsert_from_telegram(&test.db, &profile(778, Some("ru"))).await.unwrap();
    assert!(!unblocked.is_blocked);
    assert!(unblocked.updated_at > first.updated_at);
    test.db
        .execute_unprepared(
            "UPDATE users SET updated_at = now() - INTERVAL '2 minutes' WHERE telegram_id = 778",
        )
        .await
        .unwrap();
    let seen = upsert_from_telegram(&test.db, &profile(778, Some("ru"))).await.unwrap();
    assert!(chrono::Utc::now() - seen.updated_at < chrono::TimeDelta::seconds(30), "{seen:?}");
}

#[tokio::test]
async fn concurrent_first_contacts_make_one_user() {
    let test = TestDb::migrated().await;
    let attempts = (0..8).map(|_| {
        let db = test.db.clone();
        tokio::spawn(async move { upsert_from_telegram(&db, &profile(42, None)).await })
    });
    let mut ids = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        ids.push(attempt.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let stored = users::Entity::find().all(&test.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].language, Lang::Ru);
}

#[tokio::test]
async fn referrals_are_recorded_once_and_never_to_oneself_or_in_a_cycle() {
    let test = TestDb::migrated().await;
    let anna = upsert_from_telegram(&test.db, &profile(1, Some("ru"))).await.unwrap();
    let boris = upsert_from_telegram(&test.db, &profile(2, Some("ru"))).await.unwrap();
    let vera = upsert_from_telegram(&test.db, &profile(3, Some("ru"))).await.unwrap();
    let referrer =
        async |id: UserId| users::Entity::find_by_id(id).one(&test.db).await.unwrap().unwrap().referred_by;

    // Her own code, and a code nobody has: nothing.
    assert!(!shared::people::users::set_referrer(&test.db, anna.id, &anna.referral_code).await.unwrap());
    assert!(!shared::people::users::set_referrer(&test.db, anna.id, "no-such-code").await.unwrap());
    assert_eq!(referrer(anna.id).await, None);

    // Boris invited by Anna, once: a later code does not replace her.
    assert!(shared::people::users::set_referrer(&test.db, boris.id, &anna.referral_code).await.unwrap());
    assert!(!shared::people::users::set_referrer(&test.db, boris.id, &vera.referral_code).await.unwrap());
    assert_eq!(referrer(boris.id).await, Some(anna.id));

    // Anna cannot in turn be Boris's referee.
    assert!(!shared::people::users::set_referrer(&test.db, anna.id, &boris.referral_code).await.unwrap());
    assert_eq!(referrer(anna.id).await, None);
}
