//! `bench-http`: the load generator of the bot benchmarks (`scripts/bench.d/30-bot.sh`).
//!
//! ```text
//! bench-http run --url URL --concurrency C (--requests N | --seconds T) [--header 'Name: value']...
//!     (--balance USERS --first-user ID --first-update ID | --yookassa FILE --repeat 0.2)
//! bench-http telegram-users --fake URL --users N --first-user ID
//! bench-http yookassa-payments --database-url URL --api URL --shop ID --secret KEY --payments N
//!     --users N --out FILE
//! ```
//!
//! `run` POSTs JSON bodies over C keep-alive connections, each connection sending its next request
//! once the previous one is answered (a closed loop: the figures are what the server sustains, not
//! what was offered), and prints one JSON line: `requests`, `ok` (2xx), `failed` (other statuses or
//! no answer), `seconds`, `per_s`, `p50_ms`, `p99_ms`, `max_ms`. Bodies are Telegram updates
//! (`/balance` from USERS users in turn, each update with its own `update_id`) or YooKassa
//! `payment.succeeded` notifications for the payment ids in FILE, a `--repeat` share of them sent
//! again (YooKassa notifies at least once).
//!
//! `telegram-users` makes the fake Telegram know the users (it refuses to send to unknown chats);
//! `yookassa-payments` opens payments the way the bot does (`shared::payments::checkout_yookassa`:
//! a pending row, then the payment at the fake YooKassa), has the fake mark them paid, and writes
//! their YooKassa ids to FILE, one a line.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Longest wait for one answer; a request past it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Several crates linked here bring rustls; the HTTP clients need one process-wide provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let options = Options::parse(args)?;
    match command.as_str() {
        "run" => run(&options).await,
        "telegram-users" => telegram_users(&options).await,
        "yookassa-payments" => yookassa_payments(&options).await,
        other => bail!("unknown command {other:?}: run, telegram-users or yookassa-payments"),
    }
}

/// `--name value` pairs; `--header` may repeat.
struct Options {
    values: HashMap<String, String>,
    headers: Vec<(String, String)>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut values = HashMap::new();
        let mut headers = Vec::new();
        while let Some(arg) = args.next() {
            let name = arg.strip_prefix("--").with_context(|| format!("expected --option, got {arg:?}"))?;
            let value = args.next().with_context(|| format!("--{name} needs a value"))?;
            if name == "header" {
                let (key, val) = value.split_once(':').context("--header wants 'Name: value'")?;
                headers.push((key.trim().to_owned(), val.trim().to_owned()));
            } else {
                values.insert(name.to_owned(), value);
            }
        }
        Ok(Self { values, headers })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn text(&self, name: &str) -> anyhow::Result<&str> {
        self.get(name).with_context(|| format!("--{name} is required"))
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> anyhow::Result<Option<T>> {
        self.get(name)
            .map(|raw| raw.parse::<T>().map_err(|_| anyhow::anyhow!("--{name} {raw:?} is not a number")))
            .transpose()
    }

    fn required<T: std::str::FromStr>(&self, name: &str) -> anyhow::Result<T> {
        self.number(name)?.with_context(|| format!("--{name} is required"))
    }
}

/// A small deterministic generator: two runs send the same sequence.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..bound`.
    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % bound as u64).unwrap_or(0)
    }
}

/// The bodies a run sends, request `i` getting `body(i)`.
enum Bodies {
    Balance {
        users: i64,
        first_user: i64,
        first_update: i64,
    },
    /// Each body, and whether it repeats one sent before.
    Fixed(Vec<(String, bool)>),
}

impl Bodies {
    fn body(&self, i: usize) -> (String, bool) {
        match self {
            Self::Balance { users, first_user, first_update } => {
                let n = i64::try_from(i).unwrap_or(i64::MAX);
                (balance_update(first_update + n, first_user + n % users, n + 1), false)
            }
            Self::Fixed(bodies) => bodies[i].clone(),
        }
    }
}

/// A private `/balance` message as Telegram sends it to a webhook.
fn balance_update(update_id: i64, user: i64, message_id: i64) -> String {
    let date = chrono::Utc::now().timestamp();
    serde_json::json!({
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": date,
            "from": { "id": user, "is_bot": false, "first_name": format!("User {user}"), "language_code": "en" },
            "chat": { "id": user, "type": "private", "first_name": format!("User {user}") },
            "text": "/balance",
            "entities": [{ "type": "bot_command", "offset": 0, "length": 8 }],
        },
    })
    .to_string()
}

/// `payment.succeeded` notifications for `ids`, with `repeat` of them sent again: a repeat is an
/// id sent earlier in the sequence, so it meets a payment already credited (or being credited).
fn notifications(ids: &[String], repeat: f64, requests: usize) -> Vec<(String, bool)> {
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut sequence: Vec<(&String, bool)> = Vec::with_capacity(requests);
    let mut fresh = ids.iter();
    while sequence.len() < requests {
        let again = !sequence.is_empty() && (random.next() % 10_000) as f64 / 10_000.0 < repeat;
        let id =
            if again { sequence[random.below(sequence.len())].0 } else { fresh.next().unwrap_or(&ids[0]) };
        sequence.push((id, again));
    }
    sequence
        .into_iter()
        .map(|(id, again)| {
            let body = serde_json::json!({
                "type": "notification",
                "event": "payment.succeeded",
                "object": { "id": id, "status": "succeeded", "paid": true,
                            "amount": { "value": "149.00", "currency": "RUB" } },
            })
            .to_string();
            (body, again)
        })
        .collect()
}

async fn run(options: &Options) -> anyhow::Result<()> {
    let url = options.text("url")?.to_owned();
    let concurrency: usize = options.required("concurrency")?;
    let seconds: Option<f64> = options.number("seconds")?;
    let bodies = if let Some(file) = options.get("yookassa") {
        let ids: Vec<String> = std::fs::read_to_string(file)
            .with_context(|| format!("reading {file}"))?
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect();
        if ids.is_empty() {
            bail!("{file} holds no payment ids");
        }
        let repeat: f64 = options.number("repeat")?.unwrap_or(0.0);
        // Enough fresh ids for every request that is not a repeat.
        let most = (ids.len() as f64 / (1.0 - repeat).max(0.01)).floor() as usize;
        let requests = options.number("requests")?.unwrap_or(most).min(most);
        Bodies::Fixed(notifications(&ids, repeat, requests))
    } else {
        Bodies::Balance {
            users: options.required("balance")?,
            first_user: options.required("first-user")?,
            first_update: options.required("first-update")?,
        }
    };
    let requests: usize = match &bodies {
        Bodies::Fixed(list) => list.len(),
        Bodies::Balance { .. } => options.number("requests")?.unwrap_or(usize::MAX),
    };
    if requests == usize::MAX && seconds.is_none() {
        bail!("give --requests or --seconds");
    }
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::CONTENT_TYPE, "application/json".parse()?);
    for (name, value) in &options.headers {
        headers.insert(reqwest::header::HeaderName::from_bytes(name.as_bytes())?, value.parse()?);
    }
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(concurrency)
        .timeout(REQUEST_TIMEOUT)
        .build()?;

    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = seconds.map(|s| started + Duration::from_secs_f64(s));
    let mut connections = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, url, bodies, next) = (client.clone(), url.clone(), bodies.clone(), next.clone());
        connections.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut repeats = Vec::new();
            let mut statuses: HashMap<u16, u64> = HashMap::new();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let (body, again) = bodies.body(i);
                let sent = Instant::now();
                let status = match client.post(&url).body(body).send().await {
                    // The answer is read to its end, so the connection can carry the next request.
                    Ok(response) => {
                        let status = response.status().as_u16();
                        match response.bytes().await {
                            Ok(_) => status,
                            Err(_) => 0,
                        }
                    }
                    Err(_) => 0,
                };
                let took = sent.elapsed();
                latencies.push(took);
                if again {
                    repeats.push(took);
                }
                *statuses.entry(status).or_default() += 1;
            }
            (latencies, repeats, statuses)
        }));
    }
    let mut latencies = Vec::new();
    let mut repeats = Vec::new();
    let mut statuses: HashMap<u16, u64> = HashMap::new();
    for connection in connections {
        let (mine, again, counts) = connection.await?;
        latencies.extend(mine);
        repeats.extend(again);
        for (status, count) in counts {
            *statuses.entry(status).or_default() += count;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    repeats.sort_unstable();
    let quantile = |sorted: &[Duration], q: f64| -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
        round3(sorted[rank - 1].as_secs_f64() * 1000.0)
    };
    let ok: u64 = statuses.iter().filter(|(status, _)| (200..300).contains(*status)).map(|(_, n)| n).sum();
    let total = latencies.len() as u64;
    let mut line = serde_json::json!({
        "requests": total,
        "ok": ok,
        "failed": total - ok,
        "statuses": statuses.iter().map(|(s, n)| (s.to_string(), n)).collect::<HashMap<_, _>>(),
        "concurrency": concurrency,
        "seconds": round3(elapsed),
        "per_s": round3(ok as f64 / elapsed),
        "p50_ms": quantile(&latencies, 0.50),
        "p99_ms": quantile(&latencies, 0.99),
        "max_ms": quantile(&latencies, 1.0),
    });
    if !repeats.is_empty() {
        line["repeats"] = serde_json::json!(repeats.len());
        line["repeats_p50_ms"] = serde_json::json!(quantile(&repeats, 0.50));
        line["repeats_p99_ms"] = serde_json::json!(quantile(&repeats, 0.99));
    }
    println!("{line}");
    Ok(())
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs `work(i)` for `i` in `0..count`, `parallel` at a time; the first error stops it.
async fn each<F, Fut>(count: usize, parallel: usize, work: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..parallel {
        let (work, next) = (work.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), anyhow::Error>(());
                }
                work(i).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

async fn telegram_users(options: &Options) -> anyhow::Result<()> {
    let fake = options.text("fake")?.trim_end_matches('/').to_owned();
    let users: usize = options.required("users")?;
    let first: i64 = options.required("first-user")?;
    let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build()?;
    each(users, 16, move |i| {
        let (client, fake) = (client.clone(), fake.clone());
        async move {
            let id = first + i64::try_from(i)?;
            let body =
                serde_json::json!({ "id": id, "first_name": format!("User {id}"), "language_code": "en" });
            client.post(format!("{fake}/_control/users")).json(&body).send().await?.error_for_status()?;
            Ok(())
        }
    })
    .await?;
    eprintln!("the fake Telegram knows {users} users from {first}");
    Ok(())
}

async fn yookassa_payments(options: &Options) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    use shared::{
        Secret,
        ids::UserId,
        payments::{
            self,
            packages::CreditPackage,
            yookassa::{YooKassa, YooKassaSettings},
        },
    };

    let api: url::Url = options.text("api")?.parse().context("--api is not a URL")?;
    let count: usize = options.required("payments")?;
    let out = options.text("out")?.to_owned();
    let db = sea_orm::Database::connect(options.text("database-url")?)
        .await
        .context("connecting to PostgreSQL")?;
    let users: i64 = options.required("users")?;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT id FROM users ORDER BY id LIMIT $1",
            [users.into()],
        ))
        .await?;
    let payers: Vec<UserId> =
        rows.iter().map(|row| row.try_get::<i64>("", "id").map(UserId)).collect::<Result<_, _>>()?;
    if payers.is_empty() {
        bail!("the database has no users to pay");
    }
    let client = YooKassa::new(&YooKassaSettings {
        shop_id: options.text("shop")?.to_owned(),
        secret_key: Secret::new(options.text("secret")?),
        return_url: "https://t.me/bench_bot".parse()?,
        api_url: api.clone(),
        receipt: None,
    })?;
    let package = CreditPackage {
        id: "p100".to_owned(),
        credits: 100,
        bonus_percent: 0,
        price_rub: rust_decimal::Decimal::from(149),
        price_stars: 100,
    };
    let control = api.as_str().trim_end_matches('/').trim_end_matches("/v3").to_owned();
    let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build()?;
    let ids = Arc::new(std::sync::Mutex::new(Vec::with_capacity(count)));
    let shared_ids = ids.clone();
    each(count, 16, move |i| {
        let (db, client, package, http, control, payers, ids) = (
            db.clone(),
            client.clone(),
            package.clone(),
            http.clone(),
            control.clone(),
            payers.clone(),
            shared_ids.clone(),
        );
        async move {
            let payer = payers[i % payers.len()];
            let url = payments::checkout_yookassa(&db, &client, payer, &package, "100 credits".to_owned())
                .await
                .context("opening a payment")?;
            let id = url.rsplit('/').next().context("a checkout URL without an id")?.to_owned();
            http.post(format!("{control}/_control/payments/{id}/succeed"))
                .send()
                .await?
                .error_for_status()?;
            ids.lock().map_err(|_| anyhow::anyhow!("a task panicked"))?.push(id);
            Ok(())
        }
    })
    .await?;
    let ids = ids.lock().map_err(|_| anyhow::anyhow!("a task panicked"))?;
    std::fs::write(&out, ids.join("\n")).with_context(|| format!("writing {out}"))?;
    eprintln!("{} paid YooKassa payments in {out}", ids.len());
    Ok(())
}
