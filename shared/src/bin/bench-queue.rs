//! `bench-queue`: job intake and no-op drain throughput of the job queue.
//!
//! INTAKE creates jobs the way the bot does (price, ledger hold and job row in
//! one transaction, then the push to the Redis queue) from many concurrent
//! tasks over many funded users, in a scratch database and a Redis namespace
//! of its own (`bench_queue:<run>`). HOLDS then times the ledger hold alone on
//! as many fresh job rows, with the same concurrency, so the share of the
//! intake the hold takes can be read off; the jobs the drain needs beyond the
//! intake's are pushed alone (no row) by as many tasks, timed too. DRAIN starts worker processes (this
//! binary again, `--drain-child`), each consuming the queue through the
//! consumer and acknowledgement path the worker uses (`JobQueue` consumer,
//! apalis `WorkerBuilder` with the worker's concurrency) with a handler that
//! makes one Redis round trip (`HINCRBY` of the job id), and times it from the
//! first job handled to the last acknowledgement; then checks every job was
//! handled exactly once. Prints one JSON line; drops the database and the keys.
//!
//! `cargo run --release -p shared --bin bench-queue`
//!
//! Settings (environment): `BENCH_DATABASE_URL`, `BENCH_REDIS_URL`,
//! `BENCH_QUEUE_RUN` (names the database `bench_queue_RUN` and the keys
//! `bench_queue:RUN:*`; random by default), `BENCH_QUEUE_INTAKE_JOBS` (3000), `BENCH_QUEUE_DRAIN_JOBS` (20000; jobs beyond
//! the intake's are pushed without a row, the no-op handler never reads it),
//! `BENCH_QUEUE_TASKS` (64), `BENCH_QUEUE_USERS` (256), `BENCH_QUEUE_POOL`
//! (10, the processes' default `DATABASE_MAX_CONNECTIONS`), `BENCH_QUEUE_WORKERS` (2),
//! `BENCH_QUEUE_CONCURRENCY` (4, the default `WORKER_CONCURRENCY`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail};
use apalis::prelude::{BoxDynError, Data, WorkerBuilder, WorkerBuilderExt};
use redis::AsyncCommands;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use shared::{
    billing::ledger::{Ledger, Purchase},
    billing::money::Credits,
    billing::pricing::{PricingSettings, Work},
    entities::payments::PaymentProvider,
    ids::{ChatId, JobId, UserId},
    jobs::{
        self, MediaSource, TranscriptionInput,
        queue::{JobQueue, TRANSCRIBE_QUEUE, TranscribeTask},
    },
};
use uuid::Uuid;

fn setting(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(value) => value.parse().with_context(|| format!("{name} is not a number: {value}")),
        Err(_) => Ok(default),
    }
}

fn redis_url() -> String {
    std::env::var("BENCH_REDIS_URL")
        .or_else(|_| std::env::var("TEST_REDIS_URL"))
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn epoch_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(0))
}

async fn redis_manager(url: &str) -> anyhow::Result<redis::aio::ConnectionManager> {
    let client = redis::Client::open(url).with_context(|| format!("not a Redis URL: {url}"))?;
    tokio::time::timeout(Duration::from_secs(5), client.get_connection_manager())
        .await
        .context("no answer from Redis in 5 s")?
        .context("cannot connect to Redis")
}

/// Where a run keeps its keys: the queue's namespace, the handler's tally of
/// job ids, and each child's first-job time.
struct Keys {
    namespace: String,
}

impl Keys {
    fn seen(&self) -> String {
        format!("{}:bench:seen", self.namespace)
    }
    fn first(&self) -> String {
        format!("{}:bench:first", self.namespace)
    }
    fn done(&self) -> String {
        format!("{}:{TRANSCRIBE_QUEUE}:done", self.namespace)
    }
    fn dead(&self) -> String {
        format!("{}:{TRANSCRIBE_QUEUE}:dead", self.namespace)
    }
}

/// What a drain child's handler works with.
struct Tally {
    redis: redis::aio::ConnectionManager,
    keys: Keys,
    name: String,
    started: AtomicBool,
}

/// The no-op job: one Redis round trip that records the job id, so the parent
/// can tell a job handled twice from one handled once.
async fn noop(task: TranscribeTask, tally: Data<Arc<Tally>>) -> Result<(), BoxDynError> {
    let mut redis = tally.redis.clone();
    if !tally.started.swap(true, Ordering::Relaxed) {
        let () = redis.hset(tally.keys.first(), &tally.name, epoch_micros()).await?;
    }
    let _: i64 = redis.hincr(tally.keys.seen(), task.job_id.to_string(), 1).await?;
    Ok(())
}

/// A drain child: the transcription queue of `namespace` consumed the way the
/// worker's `supervise_transcribe` does, until the parent stops it.
async fn drain_child(namespace: String, concurrency: usize) -> anyhow::Result<()> {
    // A parent that dies closes our stdin: go with it rather than drain forever.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    let url = redis_url();
    let redis = redis_manager(&url).await?;
    let secret = shared::Secret::new(url);
    let queue = JobQueue::new(redis.clone(), &namespace).listening(&secret)?;
    let name = format!("bench-queue-{}", Uuid::new_v4().simple());
    let tally = Arc::new(Tally {
        redis,
        keys: Keys { namespace },
        name: name.clone(),
        started: AtomicBool::new(false),
    });
    let worker = WorkerBuilder::new(name)
        .backend(queue.transcribe_consumer().await)
        .data(tally)
        .concurrency(concurrency)
        .build(noop);
    worker.run().await.map_err(|err| anyhow::anyhow!("drain worker failed: {err}"))
}

async fn connect(url: &str, max: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(max).sqlx_logging(false);
    Database::connect(options).await.with_context(|| format!("cannot connect to {url}"))
}

async fn funded_users(db: &DatabaseConnection, ledger: &Ledger, users: usize) -> anyhow::Result<Vec<UserId>> {
    let mut ids = Vec::new();
    for i in 0..users {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO users (telegram_id, referral_code) VALUES ($1, $2) RETURNING id",
                [(i as i64 + 1).into(), format!("bq{i:06}").into()],
            ))
            .await?
            .context("no user id")?;
        let id: UserId = row.try_get("", "id")?;
        let purchase = Purchase {
            user_id: id,
            credits: Credits::whole(10_000_000),
            provider: PaymentProvider::YooKassa,
            provider_payment_id: format!("bench-queue-{id}"),
            payment_id: None,
        };
        ledger.credit_purchase(db, &purchase).await?;
        ids.push(id);
    }
    Ok(ids)
}

/// A voice note as the bot reads it off a Telegram message.
fn voice_note(n: usize) -> TranscriptionInput {
    TranscriptionInput {
        file_id: format!("bench-file-{n}"),
        file_unique_id: format!("bench-unique-{n}"),
        file_size: Some(240_000),
        mime_type: Some("audio/ogg".to_owned()),
        file_name: None,
        duration_hint_s: 30,
        source: MediaSource::Voice,
        reply_to: None,
    }
}

struct Intake {
    jobs_per_s: f64,
    wall_s: f64,
    /// Summed over all tasks: time in the job-and-hold transaction, and in the push.
    create_s: f64,
    push_s: f64,
    job_ids: Vec<JobId>,
}

/// `count` jobs created and pushed as the bot does, by `tasks` concurrent tasks.
async fn intake(
    db: &DatabaseConnection,
    ledger: &Ledger,
    queue: &JobQueue,
    users: &[UserId],
    count: usize,
    tasks: usize,
) -> anyhow::Result<Intake> {
    let next = Arc::new(AtomicUsize::new(0));
    let (create_ns, push_ns) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let users: Arc<[UserId]> = users.into();
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (db, ledger, queue, users) = (db.clone(), ledger.clone(), queue.clone(), users.clone());
            let (next, create_ns, push_ns) = (next.clone(), create_ns.clone(), push_ns.clone());
            tokio::spawn(async move {
                let mut ids = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count {
                        return anyhow::Ok(ids);
                    }
                    let user = users[n % users.len()];
                    let chat = ChatId(user.0);
                    let t0 = Instant::now();
                    let queued = jobs::create_transcription(&db, &ledger, user, chat, &voice_note(n)).await?;
                    let t1 = Instant::now();
                    queue.push_transcribe(queued.job_id).await?;
                    let t2 = Instant::now();
                    create_ns.fetch_add(u64::try_from((t1 - t0).as_nanos())?, Ordering::Relaxed);
                    push_ns.fetch_add(u64::try_from((t2 - t1).as_nanos())?, Ordering::Relaxed);
                    ids.push(queued.job_id);
                }
            })
        })
        .collect();
    let mut job_ids = Vec::with_capacity(count);
    for handle in handles {
        job_ids.extend(handle.await??);
    }
    let wall_s = started.elapsed().as_secs_f64();
    Ok(Intake {
        jobs_per_s: count as f64 / wall_s,
        wall_s,
        create_s: create_ns.load(Ordering::Relaxed) as f64 / 1e9,
        push_s: push_ns.load(Ordering::Relaxed) as f64 / 1e9,
        job_ids,
    })
}

/// Holds per second for `count` fresh jobs (rows inserted beforehand), with
/// the same tasks and users as the intake: the ledger's part of it.
async fn holds_alone(
    db: &DatabaseConnection,
    ledger: &Ledger,
    users: &[UserId],
    count: usize,
    tasks: usize,
) -> anyhow::Result<f64> {
    let work: Vec<(UserId, JobId)> = (0..count).map(|n| (users[n % users.len()], JobId::new())).collect();
    for chunk in work.chunks(500) {
        let rows = chunk
            .iter()
            .map(|(user, job)| format!("('{job}', {user}, 'transcribe', 'queued', {user}, '{{}}'::jsonb)"))
            .collect::<Vec<_>>();
        db.execute_unprepared(&format!(
            "INSERT INTO jobs (id, user_id, kind, status, chat_id, input) VALUES {}",
            rows.join(",")
        ))
        .await?;
    }
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (db, ledger, work, next) = (db.clone(), ledger.clone(), work.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(user, job)) = work.get(n) else { return anyhow::Ok(()) };
                    ledger.hold_for_work(&db, user, job, Work::Transcription { seconds: 30 }).await?;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

struct Drain {
    jobs_per_s: f64,
    wall_s: f64,
    handled_twice: usize,
}

/// Starts `workers` drain children on the queue holding `expected`, waits for
/// the last acknowledgement, checks every job was handled exactly once.
async fn drain(
    redis: &mut redis::aio::ConnectionManager,
    keys: &Keys,
    expected: &[JobId],
    workers: usize,
    concurrency: usize,
) -> anyhow::Result<Drain> {
    let exe = std::env::current_exe().context("cannot find this binary")?;
    let mut children = Vec::new();
    for _ in 0..workers {
        children.push(
            // A child whose stdin closes (this process gone, or its `Child` dropped on an
            // early return) exits by itself.
            std::process::Command::new(&exe)
                .args(["--drain-child", &keys.namespace, &concurrency.to_string()])
                .stdin(std::process::Stdio::piped())
                .spawn()
                .context("cannot start a drain worker")?,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let total = expected.len();
    let last_ack = loop {
        let done: usize = redis.scard(keys.done()).await?;
        if done >= total {
            break epoch_micros();
        }
        for child in &mut children {
            if let Some(status) = child.try_wait()? {
                bail!("a drain worker exited early ({status}) with {done} of {total} done");
            }
        }
        if Instant::now() > deadline {
            bail!("the drain did not finish in 120 s ({done} of {total} done)");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    // Late duplicates would show up here.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for child in &mut children {
        child.kill()?;
        child.wait()?;
    }
    let firsts: Vec<u64> = redis.hvals(keys.first()).await?;
    let first = firsts.iter().min().copied().context("no drain worker handled a job")?;
    let seen: std::collections::HashMap<String, u64> = redis.hgetall(keys.seen()).await?;
    let missing = expected.iter().filter(|id| !seen.contains_key(&id.to_string())).count();
    let handled_twice = seen.values().filter(|&&n| n > 1).count();
    let dead: usize = redis.scard(keys.dead()).await?;
    if missing > 0 || seen.len() != total || dead > 0 {
        bail!("{missing} jobs not handled, {} handled in all for {total} pushed, {dead} dead", seen.len());
    }
    let wall_s = last_ack.saturating_sub(first) as f64 / 1e6;
    Ok(Drain { jobs_per_s: total as f64 / wall_s, wall_s, handled_twice })
}

async fn forget_keys(redis: &mut redis::aio::ConnectionManager, namespace: &str) -> anyhow::Result<usize> {
    let keys: Vec<String> = {
        let mut iter: redis::AsyncIter<'_, String> = redis.scan_match(format!("{namespace}:*")).await?;
        let mut keys = Vec::new();
        while let Some(key) = futures::StreamExt::next(&mut iter).await {
            keys.push(key?);
        }
        keys
    };
    for chunk in keys.chunks(1000) {
        let () = redis.unlink(chunk).await?;
    }
    Ok(keys.len())
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, namespace, concurrency] = args.as_slice()
        && flag == "--drain-child"
    {
        return drain_child(namespace.clone(), concurrency.parse()?).await;
    }
    let intake_jobs = setting("BENCH_QUEUE_INTAKE_JOBS", 3000)?;
    let drain_jobs = setting("BENCH_QUEUE_DRAIN_JOBS", 20_000)?.max(intake_jobs);
    let tasks = setting("BENCH_QUEUE_TASKS", 64)?;
    let user_count = setting("BENCH_QUEUE_USERS", 256)?;
    let pool = u32::try_from(setting("BENCH_QUEUE_POOL", 10)?)?;
    let workers = setting("BENCH_QUEUE_WORKERS", 2)?;
    let concurrency = setting("BENCH_QUEUE_CONCURRENCY", 4)?;

    let base = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_owned());
    // The caller may name the run, to clean up after it if this process is killed.
    let run = std::env::var("BENCH_QUEUE_RUN").unwrap_or_else(|_| Uuid::new_v4().simple().to_string());
    let name = format!("bench_queue_{run}");
    let keys = Keys { namespace: format!("bench_queue:{run}") };
    let admin = connect(&base, 1).await?;
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
    let mut url = url::Url::parse(&base)?;
    url.set_path(&name);
    let mut redis = redis_manager(&redis_url()).await?;

    let result = async {
        let db = connect(url.as_str(), pool).await?;
        migrations::migrate(&db).await?;
        let ledger = Ledger::new(PricingSettings::default());
        let users = funded_users(&db, &ledger, user_count).await?;
        let queue = JobQueue::new(redis.clone(), &keys.namespace);
        eprintln!("==> intake: {intake_jobs} jobs, {tasks} tasks, {user_count} users, pool {pool}");
        let intake = intake(&db, &ledger, &queue, &users, intake_jobs, tasks).await?;
        eprintln!("==> holds alone: {intake_jobs} holds");
        let holds_per_s = holds_alone(&db, &ledger, &users, intake_jobs, tasks).await?;
        let mut expected = intake.job_ids.clone();
        let extra: Vec<JobId> = (intake_jobs..drain_jobs).map(|_| JobId::new()).collect();
        let started = Instant::now();
        {
            use futures::{StreamExt, TryStreamExt};
            futures::stream::iter(extra.iter().map(|id| queue.push_transcribe(*id)))
                .buffer_unordered(tasks)
                .try_collect::<Vec<()>>()
                .await?;
        }
        let pushes_per_s = extra.len() as f64 / started.elapsed().as_secs_f64();
        expected.extend(extra);
        db.close().await?;
        eprintln!("==> drain: {drain_jobs} jobs, {workers} worker processes x concurrency {concurrency}");
        let drain = drain(&mut redis, &keys, &expected, workers, concurrency).await?;
        anyhow::Ok((intake, holds_per_s, pushes_per_s, drain))
    }
    .await;
    let forgotten = forget_keys(&mut redis, &keys.namespace).await;
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await?;
    forgotten?;
    let (intake, holds_per_s, pushes_per_s, drain) = result?;
    let per_job_ms = |total_s: f64| round(total_s * 1e3 / intake_jobs as f64, 3);
    println!(
        "{}",
        serde_json::json!({
            "intake_jobs_per_s": round(intake.jobs_per_s, 1),
            "intake_jobs": intake_jobs,
            "intake_wall_s": round(intake.wall_s, 3),
            "intake_tasks": tasks,
            "users": user_count,
            "db_pool": pool,
            "create_ms_per_job": per_job_ms(intake.create_s),
            "push_ms_per_job": per_job_ms(intake.push_s),
            "holds_alone_per_s": round(holds_per_s, 1),
            "pushes_alone_per_s": round(pushes_per_s, 1),
            "drain_jobs_per_s": round(drain.jobs_per_s, 1),
            "drain_jobs": drain_jobs,
            "drain_wall_s": round(drain.wall_s, 3),
            "drain_workers": workers,
            "drain_concurrency": concurrency,
            "handled_twice": drain.handled_twice,
        })
    );
    Ok(())
}
