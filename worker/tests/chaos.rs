//! The chaos run: the real stack (a bot and three worker processes, PostgreSQL,
//! a Redis server of the run's own, the S3 server, the fake Telegram and the
//! fake speech-to-text provider), users sending recordings, and faults while
//! they are worked on. At the end a table, and a failure if any job was
//! duplicated, stuck or lost, or the books do not balance.
//!
//! By default (inside `scripts/test`): 20 jobs from 10 users, Redis restarted
//! and one worker SIGKILLed. `scripts/chaos` sets `CHAOS_FULL=1`: a burst of
//! 100 recordings from 10 users in about 15 s, and also a SIGTERMed worker, a PostgreSQL restart
//! (`CHAOS_RESTART_POSTGRES`, a command run as given), a provider failing half
//! its requests and then hanging, and a user who blocks the bot.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use testkit::{
    TestDb, TestRedis, TestS3,
    fake_openai::{Endpoint, FakeOpenAi, Fault},
    fake_telegram::FakeTelegram,
    redis_server::RedisServer,
};

struct Plan {
    users: i64,
    jobs_per_user: usize,
    full: bool,
}

fn plan() -> Plan {
    if std::env::var("CHAOS_FULL").is_ok_and(|v| v == "1") {
        Plan { users: 10, jobs_per_user: 10, full: true }
    } else {
        Plan { users: 10, jobs_per_user: 2, full: false }
    }
}

/// The `bot` executable, built beside this crate's `worker` by a workspace build.
fn bot_executable() -> PathBuf {
    let worker = PathBuf::from(env!("CARGO_BIN_EXE_worker"));
    let bot = worker.with_file_name("bot");
    assert!(bot.is_file(), "{} is missing: build the workspace (scripts/chaos does)", bot.display());
    bot
}

struct Stack {
    db: TestDb,
    redis: RedisServer,
    queue_namespace: String,
    s3: TestS3,
    telegram: FakeTelegram,
    openai: FakeOpenAi,
}

impl Stack {
    fn env(&self, command: &mut Command) {
        let redis = TestRedis { url: self.redis.url(), namespace: self.queue_namespace.clone() };
        command
            .env_clear()
            .current_dir(std::env::temp_dir())
            .envs(testkit::service_env(&self.db, &redis, &self.s3))
            .env("TELEGRAM_BOT_TOKEN", self.telegram.token())
            .env("TELEGRAM_API_URL", self.telegram.api_url().as_str())
            .env("STT_BASE_URL", self.openai.base_url())
            .env("STT_API_KEY", "sk-test")
            .env("STT_TIMEOUT_SECONDS", "5")
            .env("JOB_REPUSH_SECONDS", "10")
            .env("FREE_MINUTES_PER_DAY", "0")
            .env("WELCOME_BONUS_CREDITS", "1000")
            .env("MAX_QUEUED_JOBS_PER_USER", "20")
            .env("MAX_MESSAGES_PER_MINUTE", "100")
            .env("SHUTDOWN_GRACE_SECONDS", "3")
            .env("LOG_FORMAT", "pretty")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
    }

    fn worker(&self) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_worker"));
        self.env(&mut command);
        command.spawn().unwrap()
    }

    fn bot(&self) -> Child {
        let mut command = Command::new(bot_executable());
        self.env(&mut command);
        command.env("HTTP_ADDR", "127.0.0.1:0").spawn().unwrap()
    }

    async fn text(&self, sql: &str) -> String {
        let row = self.db.db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned())).await;
        row.ok().flatten().and_then(|r| r.try_get::<String>("", "t").ok()).unwrap_or_default()
    }

    async fn count(&self, sql: &str) -> i64 {
        for _ in 0..100 {
            match self.db.db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned())).await
            {
                Ok(row) => return row.map_or(0, |r| r.try_get::<i64>("", "n").unwrap()),
                // PostgreSQL may be restarting.
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        panic!("PostgreSQL did not come back for {sql}");
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -{name} failed");
}

#[tokio::test]
async fn chaos() {
    let plan = plan();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stack = Stack {
        db: TestDb::migrated().await,
        redis: RedisServer::start(),
        queue_namespace: format!("chaos:{}", uuid::Uuid::new_v4().simple()),
        s3: TestS3::new(),
        telegram: FakeTelegram::start().await,
        openai: FakeOpenAi::start().await.unwrap(),
    };
    // Slow enough that faults land while jobs are in flight.
    stack.openai.set_latency(Endpoint::Transcriptions, Duration::from_millis(1500));
    let mut stack = stack;
    let mut bot = stack.bot();
    let mut workers: Vec<Child> = (0..3).map(|_| stack.worker()).collect();

    let ids: Vec<i64> = (0..plan.users).map(|i| 9000 + i).collect();
    for &id in &ids {
        let user = stack.telegram.user(id, "Chaos", Some("en"));
        user.send_command("/start").unwrap();
    }
    for &id in &ids {
        stack.telegram.wait_for_messages(id, 1, Duration::from_secs(60)).await.unwrap();
    }

    let started = Instant::now();
    let submitted = plan.users as usize * plan.jobs_per_user;
    let mut sent = 0;
    let mut take_over: Option<tokio::task::JoinHandle<Option<Duration>>> = None;
    for round in 0..plan.jobs_per_user {
        for (u, &id) in ids.iter().enumerate() {
            let seconds = 8 + u32::try_from((u + round) % 5).unwrap();
            let wav =
                testkit::audio::tone_wav(seconds, 180.0 + f64::from(u32::try_from(u * 7 + round).unwrap()));
            let file = stack.telegram.register_file(wav, "audio/wav", None);
            stack.telegram.user(id, "Chaos", Some("en")).send_document(&file, "memo.wav", None).unwrap();
            sent += 1;
            if sent == submitted / 4 {
                // Redis dies and comes back empty.
                stack.redis.kill();
                tokio::time::sleep(Duration::from_secs(3)).await;
                stack.redis.restart();
            }
            if sent == submitted / 2 {
                // One worker dies mid-job (once some job is being worked on).
                let mut running = running_jobs(&stack).await;
                for _ in 0..50 {
                    if !running.is_empty() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    running = running_jobs(&stack).await;
                }
                signal(&workers[0], "KILL");
                workers[0].wait().unwrap();
                take_over = Some(tokio::spawn(taken_over(stack.db.db.clone(), running)));
            }
            if plan.full && sent == submitted * 3 / 5 {
                // Another is told to stop; its jobs are handed back.
                signal(&workers[1], "TERM");
                workers[1].wait().unwrap();
                workers.push(stack.worker());
                stack.openai.fail_every(Endpoint::Transcriptions, Some((2, Fault::ServerError)));
            }
            if plan.full && sent == submitted * 7 / 10 {
                stack.telegram.user(ids[0], "Chaos", Some("en")).block_bot();
                if let Ok(restart) = std::env::var("CHAOS_RESTART_POSTGRES") {
                    let status = Command::new("sh").args(["-c", &restart]).status().unwrap();
                    assert!(status.success(), "{restart} failed");
                }
            }
            tokio::time::sleep(Duration::from_millis(if plan.full { 100 } else { 200 })).await;
        }
    }
    if plan.full {
        // Half the requests fail for a while, then the provider hangs, then recovers.
        tokio::time::sleep(Duration::from_secs(30)).await;
        stack.openai.fail_every(Endpoint::Transcriptions, None);
        stack.openai.set_latency(Endpoint::Transcriptions, Duration::from_secs(60));
        tokio::time::sleep(Duration::from_secs(15)).await;
        stack.openai.set_latency(Endpoint::Transcriptions, Duration::from_millis(1500));
    }

    // Wait for every job to end.
    let deadline = Instant::now() + Duration::from_secs(if plan.full { 600 } else { 240 });
    loop {
        let open = stack.count("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')").await;
        let jobs = stack.count("SELECT COUNT(*) AS n FROM jobs").await;
        if open == 0 && jobs >= submitted as i64 {
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let elapsed = started.elapsed();
    let handed_over_in = match take_over {
        Some(watch) => watch.await.unwrap(),
        None => None,
    };

    // What the users saw.
    let mut footers: HashMap<i64, usize> = HashMap::new();
    for &id in &ids {
        let n = stack
            .telegram
            .messages(id)
            .iter()
            .filter(|m| m.body().is_some_and(|b| b.starts_with("Duration")))
            .count();
        footers.insert(id, n);
    }
    let per_user = |status: &str| {
        let sql = format!(
            "SELECT u.telegram_id AS id, COUNT(j.id) AS n FROM users u LEFT JOIN jobs j ON j.user_id = u.id AND j.status = '{status}' GROUP BY u.telegram_id"
        );
        let db = stack.db.db.clone();
        async move {
            let rows = db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap();
            rows.into_iter()
                .map(|r| (r.try_get::<i64>("", "id").unwrap(), r.try_get::<i64>("", "n").unwrap()))
                .collect::<HashMap<i64, i64>>()
        }
    };
    let succeeded = per_user("succeeded").await;
    let mut delivered_once = 0i64;
    let mut duplicated = 0i64;
    let mut missing = 0i64;
    for &id in &ids {
        let want = succeeded.get(&id).copied().unwrap_or(0);
        let got = i64::try_from(footers[&id]).unwrap();
        delivered_once += want.min(got);
        duplicated += (got - want).max(0);
        missing += (want - got).max(0);
    }
    let jobs = stack.count("SELECT COUNT(*) AS n FROM jobs").await;
    let failed = stack.count("SELECT COUNT(*) AS n FROM jobs WHERE status = 'failed'").await;
    let failed_why = stack
        .text(
            "SELECT COALESCE(string_agg(error_code || ': ' || n, ', '), '') AS t FROM \
             (SELECT error_code, COUNT(*) AS n FROM jobs WHERE status = 'failed' GROUP BY error_code) r",
        )
        .await;
    let undeliverable = stack.count("SELECT COUNT(*) AS n FROM jobs WHERE status = 'undeliverable'").await;
    let stuck = stack.count("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')").await;
    let open_holds = stack
        .count("SELECT COUNT(*) AS n FROM ledger_holds h JOIN jobs j ON j.id = h.job_id WHERE h.status = 'open' AND j.finished_at IS NOT NULL")
        .await;
    let calls = stack.count("SELECT COALESCE(SUM(provider_calls), 0)::BIGINT AS n FROM jobs").await;
    let most_calls = stack.count("SELECT COALESCE(MAX(provider_calls), 0)::BIGINT AS n FROM jobs").await;
    let requests = stack.openai.transcription_requests();
    // A chunk is uploaded as `{job}-{index}.{ext}`: more than one successful answer for one
    // name means a chunk was paid for twice (only an answer lost with a killed worker can).
    let mut answers = std::collections::HashMap::<String, usize>::new();
    for request in requests.iter().filter(|r| r.status == 200) {
        *answers.entry(request.upload_name.clone().unwrap_or_default()).or_default() += 1;
    }
    let chunks_answered = answers.len();
    let paid_twice = answers.values().filter(|&&n| n > 1).count();
    let books = testkit::fixtures::ledger_violation(&stack.db.db).await;
    // Users whose recording the bot could not take (the per-user limit) are answered, not lost.
    let unaccounted = submitted as i64 - jobs;

    println!("chaos run ({}): {} s", if plan.full { "full" } else { "fast" }, elapsed.as_secs());
    println!("| what | value |\n| --- | --- |");
    for (what, value) in [
        ("recordings sent", submitted.to_string()),
        ("jobs created", jobs.to_string()),
        ("delivered exactly once", delivered_once.to_string()),
        ("failed with a message", format!("{failed} {failed_why}")),
        ("undeliverable (user blocked the bot)", undeliverable.to_string()),
        ("duplicated deliveries", duplicated.to_string()),
        ("succeeded but not delivered", missing.to_string()),
        ("stuck (queued or running at the end)", stuck.to_string()),
        ("open holds on finished jobs", open_holds.to_string()),
        (
            "provider calls / job (most for one job)",
            format!("{:.2} ({most_calls})", calls as f64 / jobs.max(1) as f64),
        ),
        ("provider requests seen by the fake", requests.len().to_string()),
        ("chunks answered / answered more than once", format!("{chunks_answered} / {paid_twice}")),
        (
            "jobs running when a worker was killed, taken over in",
            handed_over_in.map_or("n/a".to_owned(), |d| format!("{:.1} s", d.as_secs_f64())),
        ),
        ("books balance", books.clone().map_or("yes".to_owned(), |v| format!("NO: {v}"))),
    ] {
        println!("| {what} | {value} |");
    }

    signal(&bot, "TERM");
    let _ = bot.wait();
    for worker in &mut workers {
        let _ = worker.kill();
        let _ = worker.wait();
    }
    assert_eq!(duplicated, 0, "a transcript was delivered twice");
    assert_eq!(stuck, 0, "jobs never ended");
    assert_eq!(missing, 0, "succeeded jobs whose transcript never arrived");
    assert_eq!(unaccounted, 0, "recordings that became no job");
    assert_eq!(open_holds, 0, "holds left open on finished jobs");
    assert!(books.is_none(), "the books do not balance: {books:?}");
    if let Some(handed_over) = handed_over_in {
        assert!(
            handed_over < Duration::from_secs(20),
            "the killed worker's jobs were taken over in {handed_over:?}"
        );
    }
}

/// The jobs being worked on, with their attempt counts.
async fn running_jobs(stack: &Stack) -> Vec<(uuid::Uuid, i32)> {
    let sql = "SELECT id, attempts FROM jobs WHERE status = 'running'".to_owned();
    let rows = stack.db.db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap();
    rows.into_iter()
        .map(|r| (r.try_get::<uuid::Uuid>("", "id").unwrap(), r.try_get::<i32>("", "attempts").unwrap()))
        .collect()
}

/// How long after a worker's death the jobs then running were all taken over
/// (finished, or claimed again); `None` when none were running or it took
/// over five minutes.
async fn taken_over(db: sea_orm::DatabaseConnection, held: Vec<(uuid::Uuid, i32)>) -> Option<Duration> {
    if held.is_empty() {
        return None;
    }
    let killed_at = Instant::now();
    while killed_at.elapsed() < Duration::from_secs(300) {
        let mut waiting = 0;
        for (id, attempts) in &held {
            let sql = format!(
                "SELECT 1 AS n FROM jobs WHERE id = '{id}' AND finished_at IS NULL AND attempts <= {attempts}"
            );
            // PostgreSQL may be restarting: count the job as waiting.
            match db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await {
                Ok(None) => {}
                _ => waiting += 1,
            }
        }
        if waiting == 0 {
            return Some(killed_at.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}
