//! `bench-ledger`: hold-then-capture throughput of the ledger on a real PostgreSQL.
//!
//! Creates a scratch database (`bench_ledger_*`) next to `BENCH_DATABASE_URL`
//! (default: the local server), migrates it, funds the users, runs
//! hold+capture cycles from 32 tasks on 32 connections (as `pgbench -c 32`
//! does) with one user shared by all tasks (contention on one account pair)
//! and with one user per task, prints one JSON line, and drops the database.
//! `BENCH_LEDGER_CYCLES` sets the cycles of each run (default 4000).
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
async fn measure(db: &DatabaseConnection, ledger: &Ledger, users: &[UserId], cycles: usize) -> anyhow::Result<Run> {
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_owned());
    let cycles = match std::env::var("BENCH_LEDGER_CYCLES") {
        Ok(value) => value.parse().context("BENCH_LEDGER_CYCLES is not a number")?,
        Err(_) => DEFAULT_CYCLES,
    };
    let name = format!("bench_ledger_{}", Uuid::new_v4().simple());
    let admin = connect(&base, 1).await?;
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
    let mut url = url::Url::parse(&base)?;
    url.set_path(&name);

    let result = async {
        let db = connect(url.as_str(), TASKS as u32).await?;
        migrations::migrate(&db).await?;
        let ledger = Ledger::new(PricingSettings::default());
        let users = setup_users(&db, &ledger, 1 + TASKS).await?;
        measure(&db, &ledger, &users[1..], WARM_UP_CYCLES).await?;
        let one = measure(&db, &ledger, &users[..1], cycles).await?;
        let many = measure(&db, &ledger, &users[1..], cycles).await?;
        db.close().await?;
        anyhow::Ok((one, many))
    }
    .await;
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await?;
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
