//! The per-minute message limit counts in Redis, per user and per minute.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use shared::{ids::TelegramUserId, people::limits::allow_in_minute};
use testkit::TestRedis;

#[tokio::test]
async fn the_limit_counts_per_user_and_renews_each_minute() {
    let redis = TestRedis::new();
    let mut conn = redis.connection().await;
    let minute = 1_800_000_000;
    for _ in 0..3 {
        assert!(
            allow_in_minute(&mut conn, &redis.namespace, "rate", TelegramUserId(7), 3, minute).await.unwrap()
        );
    }
    assert!(
        !allow_in_minute(&mut conn, &redis.namespace, "rate", TelegramUserId(7), 3, minute + 30)
            .await
            .unwrap()
    );
    assert!(
        allow_in_minute(&mut conn, &redis.namespace, "rate", TelegramUserId(8), 3, minute).await.unwrap()
    );
    assert!(
        allow_in_minute(&mut conn, &redis.namespace, "rate", TelegramUserId(7), 3, minute + 60)
            .await
            .unwrap()
    );
}
