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

/// What the test's consumer counts: how often each job id was handed to it.
type Handled = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<shared::ids::JobId, u32>>>;

async fn count_job(
    task: shared::jobs::queue::TranscribeTask,
    handled: apalis::prelude::Data<Handled>,
) -> Result<(), apalis::prelude::BoxDynError> {
    *handled.lock().unwrap().entry(task.job_id).or_default() += 1;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_thousands_of_jobs_is_consumed_each_once_and_acknowledged() {
    use apalis::prelude::{WorkerBuilder, WorkerBuilderExt};
    // apalis-redis's own push filed every message as scheduled and its fetch moved them all
    // to the waiting list in one Lua unpack, which fails past about 8,000 messages.
    const JOBS: usize = 9_000;
    let redis = TestRedis::new();
    let manager =
        redis::aio::ConnectionManager::new(redis::Client::open(redis.url.as_str()).unwrap()).await.unwrap();
    let queue = JobQueue::new(manager, &redis.namespace);
    let pushed: Vec<shared::ids::JobId> =
        (0..JOBS).map(|_| shared::ids::JobId(uuid::Uuid::new_v4())).collect();
    {
        use futures::{StreamExt, TryStreamExt};
        futures::stream::iter(pushed.iter().map(|id| queue.push_transcribe(*id)))
            .buffer_unordered(64)
            .try_collect::<Vec<()>>()
            .await
            .unwrap();
    }

    let handled = Handled::default();
    let worker = WorkerBuilder::new(format!("test-{}", uuid::Uuid::new_v4().simple()))
        .backend(queue.transcribe_consumer().await)
        .data(handled.clone())
        .concurrency(4)
        .build(count_job);
    let running = tokio::spawn(worker.run());
    let mut conn = redis.connection().await;
    let done_set = format!("{}:transcribe:done", redis.namespace);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let done: usize = conn.scard(&done_set).await.unwrap();
        if done == JOBS {
            break;
        }
        assert!(!running.is_finished(), "the worker stopped with {done} of {JOBS} acknowledged");
        assert!(std::time::Instant::now() < deadline, "{done} of {JOBS} acknowledged in 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    running.abort();
    let handled = handled.lock().unwrap().clone();
    assert_eq!(handled.len(), JOBS);
    assert!(pushed.iter().all(|id| handled.get(id) == Some(&1)), "a job was handled twice or not at all");
    let waiting: usize = conn.llen(format!("{}:transcribe:active", redis.namespace)).await.unwrap();
    assert_eq!(waiting, 0);
}
