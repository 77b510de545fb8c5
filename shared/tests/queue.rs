//! Job ids pushed to the Redis queue reach an apalis worker.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use apalis::prelude::{BoxDynError, WorkerBuilder, WorkerContext};
use shared::queue::{JobQueue, TranscribeTask};
use testkit::TestRedis;
use tokio::sync::mpsc;
use uuid::Uuid;

async fn record(
    task: TranscribeTask,
    seen: apalis::prelude::Data<mpsc::UnboundedSender<Uuid>>,
    _worker: WorkerContext,
) -> Result<(), BoxDynError> {
    seen.send(task.job_id)?;
    Ok(())
}

#[tokio::test]
async fn pushed_jobs_reach_a_worker_once_each() {
    let redis = TestRedis::new();
    let conn = apalis_redis::connect(redis.url.as_str()).await.unwrap();
    let queue = JobQueue::new(conn, &redis.namespace);
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    for id in &ids {
        queue.push_transcribe(*id).await.unwrap();
    }

    let (seen_tx, mut seen) = mpsc::unbounded_channel::<Uuid>();
    let worker = WorkerBuilder::new(format!("test-{}", Uuid::new_v4()))
        .backend(queue.transcribe_storage())
        .data(seen_tx)
        .build(record);
    let run = tokio::spawn(worker.run());
    let mut got = Vec::new();
    while got.len() < ids.len() {
        let id = tokio::time::timeout(Duration::from_secs(20), seen.recv()).await.unwrap().unwrap();
        got.push(id);
    }
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    // Nothing is delivered twice when all succeeded.
    assert!(tokio::time::timeout(Duration::from_secs(2), seen.recv()).await.is_err());
    run.abort();
}
