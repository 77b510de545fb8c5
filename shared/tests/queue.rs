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

#[tokio::test]
async fn a_listening_consumer_hears_every_push_of_its_queue_and_namespace() {
    use futures::StreamExt;
    use shared::jobs::{queue::TRANSCRIBE_QUEUE, wakeups};
    let redis = TestRedis::new();
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut arrivals = wakeups::listen(&client, &redis.namespace, TRANSCRIBE_QUEUE).await;
    let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    let jobs = JobQueue::new(manager, &redis.namespace);
    for _ in 0..2 {
        jobs.push_transcribe(shared::ids::JobId(uuid::Uuid::new_v4())).await.unwrap();
        let heard = tokio::time::timeout(std::time::Duration::from_secs(10), arrivals.next()).await;
        assert_eq!(
            heard,
            Ok(Some(())),
            "no notice of the push on {}",
            wakeups::channel(&redis.namespace, "transcribe")
        );
    }
    // Another namespace's pushes are not ours.
    let other = JobQueue::new(
        redis::aio::ConnectionManager::new(redis::Client::open(redis.url.as_str()).unwrap()).await.unwrap(),
        &format!("{}-other", redis.namespace),
    );
    other.push_transcribe(shared::ids::JobId(uuid::Uuid::new_v4())).await.unwrap();
    // Nor another queue's.
    jobs.push_image(shared::ids::JobId(uuid::Uuid::new_v4())).await.unwrap();
    let heard = tokio::time::timeout(std::time::Duration::from_millis(500), arrivals.next()).await;
    assert!(heard.is_err(), "woken by another namespace's or queue's push");
}
