//! `bench-ledger`: hold-then-capture throughput of the ledger on a real PostgreSQL.
//!
//! Creates a scratch database (`bench_ledger_*`) next to `BENCH_DATABASE_URL`
//! (default: the local server), or uses `BENCH_LEDGER_DATABASE_URL`, migrates it, funds the users, runs
//! hold+capture cycles from 32 tasks on 32 connections (as `pgbench -c 32`
//! does) with one user shared by all tasks (contention on one account pair)
//! and with one user per task, prints one JSON line, and drops the scratch database.
//! `BENCH_LEDGER_CYCLES` sets the cycles of each run (default 4000). With
//! `BENCH_LEDGER_PROFILE=1` it also prints, on stderr, the server's side:
//! transactions committed per cycle and the mean time of each ledger function
//! (`track_functions = 'pl'` on the scratch database).
//!
//! `cargo run --release -p shared --bin bench-ledger`

use std::{str::FromStr, time::Instant};

use anyhow::Context;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use shared::{
    billing::ledger::{Ledger, Purchase},
    billing::money::Credits,
    billing::pricing::PricingSettings,
    entities::payments::PaymentProvider,
    ids::{JobId, UserId},
};
use uuid::Uuid;

const DEFAULT_CYCLES: usize = 4000;
const TASKS: usize = 32;
/// Cycles run before measuring, so every connection has prepared its statements.
const WARM_UP_CYCLES: usize = 2 * TASKS;

async fn connect(url: &str, max: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(max).sqlx_logging(false);
    Database::connect(options).await.with_context(|| format!("cannot connect to {url}"))
}

async fn setup_users(db: &DatabaseConnection, ledger: &Ledger, users: usize) -> anyhow::Result<Vec<UserId>> {
    let mut ids = Vec::new();
    for i in 0..users {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO users (telegram_id, referral_code) VALUES ($1, $2) RETURNING id",
                [(i as i64 + 1).into(), format!("bench{i:04}").into()],
            ))
            .await?
            .context("no user id")?;
        let id: UserId = row.try_get("", "id")?;
        let purchase = Purchase {
            user_id: id,
            credits: Credits::whole(1_000_000),
            provider: PaymentProvider::YooKassa,
            provider_payment_id: format!("bench-{id}"),
            payment_id: None,
        };
        ledger.credit_purchase(db, &purchase).await?;
        ids.push(id);
    }
    Ok(ids)
}

async fn jobs_for(db: &DatabaseConnection, user: UserId, count: usize) -> anyhow::Result<Vec<JobId>> {
    let ids: Vec<JobId> = (0..count).map(|_| JobId::new()).collect();
    for chunk in ids.chunks(500) {
        let list = chunk
            .iter()
            .map(|id| format!("('{id}', {user}, 'transcribe', 'running', {user})"))
            .collect::<Vec<_>>();
        db.execute_unprepared(&format!(
            "INSERT INTO jobs (id, user_id, kind, status, chat_id) VALUES {}",
            list.join(",")
        ))
        .await?;
    }
    Ok(ids)
}

/// What one run measured.
struct Run {
    cycles: usize,
    seconds: f64,
}

impl Run {
    fn per_second(&self) -> f64 {
        let rate = self.cycles as f64 / self.seconds;
        (rate * 10.0).round() / 10.0
    }
}

/// Runs `cycles` hold+capture cycles spread over `TASKS` tasks; task `i` uses `users[i % users.len()]`.
async fn measure(
    db: &DatabaseConnection,
    ledger: &Ledger,
    users: &[UserId],
    cycles: usize,
) -> anyhow::Result<Run> {
    let per_task = cycles.div_ceil(TASKS);
    let mut work = Vec::new();
    for task in 0..TASKS {
        let user = users[task % users.len()];
        work.push((user, jobs_for(db, user, per_task).await?));
    }
    let price = Credits::from_str("12.5")?;
    let capture = Credits::from_str("10.25")?;
    let started = Instant::now();
    let handles: Vec<_> = work
        .into_iter()
        .map(|(user, jobs)| {
            let (db, ledger) = (db.clone(), ledger.clone());
            tokio::spawn(async move {
                for job in jobs {
                    ledger.hold(&db, user, job, price).await?;
                    ledger.capture(&db, job, capture).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    Ok(Run { cycles: per_task * TASKS, seconds: started.elapsed().as_secs_f64() })
}

/// The server's side of all cycles run, on stderr.
async fn print_profile(db: &DatabaseConnection, cycles: usize) -> anyhow::Result<()> {
    // Backends report their statistics when idle, at the latest after 10 s.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    let commits = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
        ))
        .await?
        .context("no database statistics")?
        .try_get::<i64>("", "xact_commit")?;
    eprintln!(
        "bench-ledger profile: {commits} transactions committed for {cycles} cycles (with the set-up): {:.2} per cycle",
        commits as f64 / cycles as f64
    );
    let functions = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT funcname, calls, total_time / calls AS total_ms, self_time / calls AS self_ms \
             FROM pg_stat_user_functions WHERE calls > 0 ORDER BY total_time DESC",
        ))
        .await?;
    for row in functions {
        eprintln!(
            "bench-ledger profile: {:<22} calls {:>7}  mean {:.3} ms (self {:.3} ms)",
            row.try_get::<String>("", "funcname")?,
            row.try_get::<i64>("", "calls")?,
            row.try_get::<f64>("", "total_ms")?,
            row.try_get::<f64>("", "self_ms")?,
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_owned());
    let cycles = match std::env::var("BENCH_LEDGER_CYCLES") {
        Ok(value) => value.parse().context("BENCH_LEDGER_CYCLES is not a number")?,
        Err(_) => DEFAULT_CYCLES,
    };
    let profile = std::env::var_os("BENCH_LEDGER_PROFILE").is_some();
    let admin = connect(&base, 1).await?;
    // A database given by the caller (scripts/bench.d/10-ledger.sh shares one with
    // pgbench) is used as it is; otherwise a scratch one is created and dropped, which
    // costs a checkpoint.
    let (url, scratch) = match std::env::var("BENCH_LEDGER_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let name = format!("bench_ledger_{}", Uuid::new_v4().simple());
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
            let mut url = url::Url::parse(&base)?;
            url.set_path(&name);
            (url.to_string(), Some(name))
        }
    };

    let started = Instant::now();
    let result = async {
        let db = connect(&url, TASKS as u32).await?;
        if profile {
            db.execute_unprepared(
                "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET track_functions = ''pl''', current_database()); END $$",
            )
            .await?;
            // The setting applies to sessions opened from now on.
            db.close().await?;
        }
        let db = connect(&url, TASKS as u32).await?;
        migrations::migrate(&db).await?;
        eprintln!("bench-ledger: migrated in {:.1} s", started.elapsed().as_secs_f64());
        let ledger = Ledger::new(PricingSettings::default());
        let users = setup_users(&db, &ledger, 1 + TASKS).await?;
        measure(&db, &ledger, &users[1..], WARM_UP_CYCLES).await?;
        eprintln!("bench-ledger: users funded and warmed up at {:.1} s", started.elapsed().as_secs_f64());
        let one = measure(&db, &ledger, &users[..1], cycles).await?;
        let many = measure(&db, &ledger, &users[1..], cycles).await?;
        if profile {
            print_profile(&db, WARM_UP_CYCLES + one.cycles + many.cycles).await?;
        }
        db.close().await?;
        anyhow::Ok((one, many))
    }
    .await;
    if let Some(name) = scratch {
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await?;
    }
    eprintln!("bench-ledger: done in {:.1} s", started.elapsed().as_secs_f64());
    let (one, many) = result?;
    println!(
        "{}",
        serde_json::json!({
            "holds_captures_per_s_1_user": one.per_second(),
            "holds_captures_per_s_32_users": many.per_second(),
            "cycles_1_user": one.cycles,
            "seconds_1_user": (one.seconds * 1000.0).round() / 1000.0,
            "cycles_32_users": many.cycles,
            "seconds_32_users": (many.seconds * 1000.0).round() / 1000.0,
            "tasks": TASKS,
            "connections": TASKS,
        })
    );
    Ok(())
}
