//! The Redis job queues (apalis). They carry only job ids: the job row in
//! Postgres holds everything else, so a lost or repeated message is harmless.

use std::sync::LazyLock;

use crate::ids::JobId;
use apalis_redis::{Config, ConnectionManager, RedisStorage};

use super::wakeups::{self, Woken};
use serde::{Deserialize, Serialize};

/// Name of the transcription queue, under the configured namespace.
pub const TRANSCRIBE_QUEUE: &str = "transcribe";

/// The message of the transcription queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscribeTask {
    /// The job to run.
    pub job_id: JobId,
}

/// Name of the image queue (generations, edits and `/idea` answers).
pub const IMAGE_QUEUE: &str = "image";

/// The message of the image queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageTask {
    /// The job to run.
    pub job_id: JobId,
}

/// Name of the summary queue (summaries of transcripts on request).
pub const SUMMARY_QUEUE: &str = "summary";

/// The message of the summary queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryTask {
    /// The job to run.
    pub job_id: JobId,
}

/// The queue could not take the message; the job stays `queued` and the
/// sweeper pushes it again.
#[derive(Debug, thiserror::Error)]
#[error("cannot push to the {queue} queue: {message}")]
pub struct QueueError {
    /// Which queue.
    pub queue: &'static str,
    /// What went wrong.
    pub message: String,
}

/// Worker heartbeat. An idle apalis worker looks for new jobs at this pace,
/// and a dead worker's jobs are handed to others after 10 missed beats, so it
/// bounds both the pickup delay and the recovery time.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// The apalis configuration of queue `queue` under `namespace` (tests use a
/// namespace of their own).
///
/// apalis's task locks are off: a lock only marks the message "Running" for
/// apalis's board and removes its id from the waiting list with an `LREM`
/// that scans the whole backlog for every job (a 20,000-job backlog drained
/// at a few hundred jobs a second). Delivery does not rest on it: a fetched
/// id sits in the worker's in-flight set until acknowledged and goes back to
/// the queue when the worker dies; which attempt may run is decided by the
/// job's lease in Postgres ([`super::claim`]). Its pub/sub events have no
/// listener here.
pub fn config(namespace: &str, queue: &str) -> Config {
    Config::default()
        .queue(format!("{namespace}:{queue}"))
        .heartbeat_interval(HEARTBEAT)
        .lock_tasks(false)
        .emit_events(false)
}

/// Files messages the way apalis-redis 1.0's own push does, except that they
/// go straight onto the waiting list, and announces them, in one round trip.
/// apalis files every push as scheduled "now", and a worker's fetch moves
/// everything due onto the list in one `RPUSH` whose arguments Lua unpacks:
/// past about 8,000 waiting messages that fails ("too many results to
/// unpack") and no worker can fetch until someone removes messages by hand.
/// KEYS: data hash, waiting list, signal list, metadata prefix; ARGV: the
/// wake-up channel, then (message id, message) pairs.
static PUSH: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local pushed = 0 \
         for i = 2, #ARGV, 2 do \
           if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then \
             redis.call('HSET', KEYS[4] .. ':' .. ARGV[i], 'attempts', 0, 'max_attempts', 25, \
               'status', 'Pending', 'idempotency_key', '') \
             redis.call('RPUSH', KEYS[2], ARGV[i]) \
             pushed = pushed + 1 \
           end \
         end \
         if pushed > 0 then \
           redis.call('DEL', KEYS[3]) \
           redis.call('LPUSH', KEYS[3], 1) \
           redis.call('PUBLISH', ARGV[1], '') \
         end \
         return pushed",
    )
});

/// Producer side of the queues.
#[derive(Clone)]
pub struct JobQueue {
    transcribe: RedisStorage<TranscribeTask>,
    image: RedisStorage<ImageTask>,
    summary: RedisStorage<SummaryTask>,
    conn: ConnectionManager,
    namespace: String,
    /// Where consumers subscribe to pushes (see [`super::wakeups`]); without
    /// it they find new jobs by their heartbeat only.
    listener: Option<redis::Client>,
}

impl JobQueue {
    /// Queues under `namespace` on `conn`.
    pub fn new(conn: ConnectionManager, namespace: &str) -> Self {
        Self {
            transcribe: RedisStorage::new(conn.clone()).with_config(config(namespace, TRANSCRIBE_QUEUE)),
            image: RedisStorage::new(conn.clone()).with_config(config(namespace, IMAGE_QUEUE)),
            summary: RedisStorage::new(conn.clone()).with_config(config(namespace, SUMMARY_QUEUE)),
            conn,
            namespace: namespace.to_owned(),
            listener: None,
        }
    }

    /// Consumers built from this queue ([`Self::transcribe_consumer`] and the
    /// others) also wake the moment a job is pushed, subscribing at `redis_url`.
    ///
    /// # Errors
    /// When `redis_url` is not a Redis URL.
    pub fn listening(
        mut self,
        redis_url: &crate::platform::secret::Secret,
    ) -> Result<Self, redis::RedisError> {
        self.listener = Some(redis::Client::open(redis_url.expose())?);
        Ok(self)
    }

    async fn woken<T>(&self, storage: RedisStorage<T>, queue: &str) -> Woken<RedisStorage<T>> {
        let arrivals = match &self.listener {
            Some(client) => wakeups::listen(client, &self.namespace, queue).await,
            None => futures::channel::mpsc::unbounded().1,
        };
        wakeups::woken(storage, arrivals)
    }

    /// The transcription queue as a worker consumes it.
    pub async fn transcribe_consumer(&self) -> Woken<RedisStorage<TranscribeTask>> {
        self.woken(self.transcribe.clone(), TRANSCRIBE_QUEUE).await
    }

    /// The image queue as a worker consumes it.
    pub async fn image_consumer(&self) -> Woken<RedisStorage<ImageTask>> {
        self.woken(self.image.clone(), IMAGE_QUEUE).await
    }

    /// The summary queue as a worker consumes it.
    pub async fn summary_consumer(&self) -> Woken<RedisStorage<SummaryTask>> {
        self.woken(self.summary.clone(), SUMMARY_QUEUE).await
    }

    /// Files `messages` on `queue` and wakes its listening workers.
    async fn push<T: Serialize>(&self, queue: &'static str, messages: &[T]) -> Result<(), QueueError> {
        let config = config(&self.namespace, queue);
        let mut call = PUSH.prepare_invoke();
        call.key(config.job_data_hash())
            .key(config.active_jobs_list())
            .key(config.signal_list())
            .key(config.job_meta_hash())
            .arg(wakeups::channel(&self.namespace, queue));
        for message in messages {
            let data = serde_json::to_vec(message)
                .map_err(|err| QueueError { queue, message: format!("cannot encode a message: {err}") })?;
            // A fresh id per push: a job pushed again (by the sweeper) is a new message.
            call.arg(uuid::Uuid::now_v7().to_string()).arg(data);
        }
        let mut conn = self.conn.clone();
        within_push_timeout(queue, call.invoke_async::<usize>(&mut conn)).await
    }

    /// Pushes a transcription job.
    pub async fn push_transcribe(&self, job_id: JobId) -> Result<(), QueueError> {
        self.push(TRANSCRIBE_QUEUE, &[TranscribeTask { job_id }]).await
    }

    /// Pushes an image job (generation, edit or `/idea`).
    pub async fn push_image(&self, job_id: JobId) -> Result<(), QueueError> {
        self.push(IMAGE_QUEUE, &[ImageTask { job_id }]).await
    }

    /// Pushes a summary job.
    pub async fn push_summary(&self, job_id: JobId) -> Result<(), QueueError> {
        self.push(SUMMARY_QUEUE, &[SummaryTask { job_id }]).await
    }

    /// Deletes what the queue keeps of messages finished more than `age` ago
    /// (apalis keeps every message's data and a record of it forever; the
    /// jobs table has everything that matters). Returns how many went.
    ///
    /// # Errors
    /// When Redis fails or does not answer.
    pub async fn forget_finished(&self, age: std::time::Duration) -> Result<usize, QueueError> {
        use apalis_core::backend::Vacuum;
        let mut forgotten = 0;
        let mut transcribe = self.transcribe.clone();
        forgotten += within_push_timeout_value(TRANSCRIBE_QUEUE, transcribe.vacuum_before(age)).await?;
        let mut image = self.image.clone();
        forgotten += within_push_timeout_value(IMAGE_QUEUE, image.vacuum_before(age)).await?;
        let mut summary = self.summary.clone();
        forgotten += within_push_timeout_value(SUMMARY_QUEUE, summary.vacuum_before(age)).await?;
        // The finished-id sets keep ids whose data is gone: drop those, a batch a call.
        let prune = redis::Script::new(
            "local n = 0 \
             local ids = redis.call('SRANDMEMBER', KEYS[1], 1000) \
             for _, id in ipairs(ids) do \
               if redis.call('HEXISTS', KEYS[2], id) == 0 then redis.call('SREM', KEYS[1], id) n = n + 1 end \
             end \
             return n",
        );
        for queue in [TRANSCRIBE_QUEUE, IMAGE_QUEUE, SUMMARY_QUEUE] {
            for set in ["done", "dead"] {
                let prefix = format!("{}:{queue}", self.namespace);
                let mut conn = self.conn.clone();
                let mut call = prune.key(format!("{prefix}:{set}"));
                let call = call.key(format!("{prefix}:data"));
                let pruned: usize = within_push_timeout_value(queue, call.invoke_async(&mut conn)).await?;
                forgotten += pruned;
            }
        }
        Ok(forgotten)
    }

    /// Pushes a job to the queue of its kind.
    pub async fn push_job(
        &self,
        kind: crate::entities::jobs::JobKind,
        job_id: JobId,
    ) -> Result<(), QueueError> {
        use crate::entities::jobs::JobKind;
        match kind {
            JobKind::Transcribe => self.push_transcribe(job_id).await,
            JobKind::Image | JobKind::Idea => self.push_image(job_id).await,
            JobKind::Summary => self.push_summary(job_id).await,
        }
    }
}

/// Longest wait for one push: a Redis that does not answer must not hold up
/// the user's reply or the sweeper; the job row stays and is pushed again.
const PUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn within_push_timeout<T, E: std::fmt::Display>(
    queue: &'static str,
    push: impl std::future::Future<Output = Result<T, E>>,
) -> Result<(), QueueError> {
    within_push_timeout_value(queue, push).await.map(drop)
}

async fn within_push_timeout_value<T, E: std::fmt::Display>(
    queue: &'static str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, QueueError> {
    match tokio::time::timeout(PUSH_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(QueueError { queue, message: err.to_string() }),
        Err(_) => Err(QueueError { queue, message: format!("no answer from Redis in {PUSH_TIMEOUT:?}") }),
    }
}
