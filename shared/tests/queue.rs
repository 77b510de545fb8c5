//! The Redis queue stays bounded: what apalis keeps of finished messages is
//! deleted once old enough, in the key layout apalis-redis 1.0 writes.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use redis::AsyncCommands;
use shared::jobs::queue::JobQueue;
use testkit::TestRedis;

/// Writes what apalis-redis keeps of a message that finished at `done_at`.
async fn finished_message(conn: &mut redis::aio::MultiplexedConnection, queue: &str, id: &str, done_at: i64) {
    let _: () = conn.hset(format!("{queue}:data"), id, "{}").await.unwrap();
    let _: () = conn
        .hset_multiple(
            format!("{queue}:meta:{id}"),
            &[("status", "Done".to_owned()), ("done_at", done_at.to_string())],
        )
        .await
        .unwrap();
    let _: () = conn.sadd(format!("{queue}:done"), id).await.unwrap();
}

#[tokio::test]
async fn finished_messages_are_forgotten_once_old_and_recent_ones_kept() {
    let redis = TestRedis::new();
    let mut conn = redis.connection().await;
    let queue = format!("{}:transcribe", redis.namespace);
    let now = chrono::Utc::now().timestamp();
    finished_message(&mut conn, &queue, "old", now - 7200).await;
    finished_message(&mut conn, &queue, "recent", now - 60).await;

    let manager =
        redis::aio::ConnectionManager::new(redis::Client::open(redis.url.as_str()).unwrap()).await.unwrap();
    let jobs = JobQueue::new(manager, &redis.namespace);
    let forgotten = jobs.forget_finished(std::time::Duration::from_secs(3600)).await.unwrap();
    // The old message's data, its record and its id in the finished set.
    assert_eq!(forgotten, 2);
    let data: Vec<String> = conn.hkeys(format!("{queue}:data")).await.unwrap();
    assert_eq!(data, ["recent"]);
    let done: Vec<String> = conn.smembers(format!("{queue}:done")).await.unwrap();
    assert_eq!(done, ["recent"]);
    let old_meta: bool = conn.exists(format!("{queue}:meta:old")).await.unwrap();
    assert!(!old_meta);
}
