//! Settings read once from the environment at startup.
//!
//! Every variable is parsed into a typed value here; the rest of the code never
//! reads the environment. All problems are collected, so an operator sees every
//! missing or malformed variable at once rather than one per restart.

use std::{collections::HashMap, fmt, net::SocketAddr, num::NonZeroUsize, str::FromStr};

use chrono_tz::Tz;
use url::Url;

use crate::{
    billing::{money::Credits, pricing::PricingSettings},
    ids::TelegramUserId,
    media::{
        images::{IdeaSettings, ImageProviderSettings, ImageSettings},
        provider::ProviderSettings,
        summaries::SummarySettings,
        transcripts::{AudioIsolation, AudioSandboxSettings},
    },
    payments::{
        packages::PackageList,
        yookassa::{IpNets, ReceiptSettings, YooKassaSettings},
    },
    platform::{
        secret::Secret,
        services::{S3Settings, Services},
        telemetry::LogFormat,
    },
    telegram::{TelegramSettings, UpdateMode},
};

/// Everything the bot and the worker need to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Telegram Bot API access.
    pub telegram: TelegramSettings,
    /// PostgreSQL connection URL (may carry a password).
    pub database_url: Secret,
    /// Size of the database connection pool of each process.
    pub database_max_connections: u32,
    /// Redis connection URL (may carry a password).
    pub redis_url: Secret,
    /// Prefix of every queue name in Redis, so several deployments (or tests) can share one server.
    pub queue_namespace: String,
    /// Object storage.
    pub s3: S3Settings,
    /// Speech-to-text provider (OpenAI-compatible).
    pub stt: ProviderSettings,
    /// Image generation provider (OpenAI-compatible).
    pub image: ImageProviderSettings,
    /// Limits and retention of image jobs.
    pub images: ImageSettings,
    /// How long recordings and transcripts are kept (pictures: [`Settings::images`]).
    pub retention: crate::media::retention::RetentionSettings,
    /// The prompt helper behind `/idea` (OpenAI-compatible chat completions).
    pub idea: IdeaSettings,
    /// The chat model behind the "Summary" button under transcripts, and its price.
    pub summary: SummarySettings,
    /// Prices and free allowances.
    pub pricing: PricingSettings,
    /// Longest recording accepted for transcription, in minutes.
    pub max_audio_minutes: u32,
    /// How the worker keeps a hostile recording from hurting it.
    pub audio_sandbox: AudioSandboxSettings,
    /// Transcripts longer than this many characters are sent as `.txt` and
    /// `.srt` files instead of messages.
    pub transcript_file_after_chars: usize,
    /// Credits every new user gets once (0: none).
    pub welcome_bonus: Credits,
    /// Most unfinished jobs one user may have at once.
    pub max_queued_jobs_per_user: u32,
    /// Most messages one user may send in a minute.
    pub max_messages_per_minute: u32,
    /// The bot in groups: automatic transcription's daily cap, requests per chat.
    pub groups: crate::people::groups::GroupSettings,
    /// Credit packages on sale.
    pub packages: PackageList,
    /// Share of a referee's first purchase granted to the referrer, in percent.
    pub referral_percent: u32,
    /// `/paysupport` and `/terms`: the operator's contacts and published terms.
    pub pay_support: PaySupportSettings,
    /// YooKassa, when payments by card and SBP are enabled.
    pub yookassa: Option<YooKassaSettings>,
    /// Addresses YooKassa notifications may come from.
    pub yookassa_notify_ips: IpNets,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: IpNets,
    /// Telegram user ids allowed to run admin commands.
    pub admin_telegram_ids: Vec<TelegramUserId>,
    /// What providers charge us, for the spend estimate of `/stats`.
    pub provider_costs: crate::operations::stats::ProviderCosts,
    /// The Mini App and its API; `None` when `MINIAPP_JWT_SECRET` is not set.
    pub miniapp: Option<miniapp::MiniAppSettings>,
    /// Bearer token Prometheus must present at `/metrics`; `None` turns the
    /// endpoint off (the bot's HTTP server faces the internet for webhooks).
    pub metrics_token: Option<crate::platform::secret::Secret>,
    /// Address of the bot's HTTP server (webhooks, Mini App, health).
    pub http_addr: SocketAddr,
    /// Address of a worker's own HTTP server (`/health`, `/metrics`); `None` runs none.
    pub worker_http_addr: Option<SocketAddr>,
    /// Log line format.
    pub log_format: LogFormat,
    /// Jobs one worker process runs at once.
    pub worker_concurrency: NonZeroUsize,
    /// How long a worker's claim on a job lasts without renewal: after a
    /// worker dies, its job waits this long before another one takes it.
    pub job_lease: std::time::Duration,
    /// Longest wait for the speech-to-text provider to answer one chunk.
    pub stt_timeout: std::time::Duration,
    /// Transcribe a recording's chunks one after another, each prompted with
    /// the end of the previous one, instead of in parallel.
    pub stt_sequential: bool,
    /// Requests to the speech provider at once, per worker process; a long
    /// recording is cut into (a multiple of) this many chunks of even length.
    pub stt_concurrency: NonZeroUsize,
    /// Chunks are not made shorter than this to fill the provider's lanes.
    pub stt_min_chunk: std::time::Duration,
    /// First pause before a failed job is tried again; it doubles with each
    /// attempt (up to 10 minutes), with jitter so failed jobs do not return at once.
    pub retry_backoff: std::time::Duration,
    /// Pause between the worker's maintenance ticks (sweeper, stale holds,
    /// payment reconciliation).
    pub maintenance_interval: std::time::Duration,
    /// How long a queued job may wait unclaimed after its last push before
    /// its queue message is presumed lost and pushed again.
    pub job_repush: std::time::Duration,
    /// On SIGTERM, how long jobs in flight may take to finish before they
    /// are handed back to the queue.
    pub shutdown_grace: std::time::Duration,
}

/// The Mini App's settings: on when `MINIAPP_JWT_SECRET` is set, which
/// `MINIAPP_URL` needs. `None` when something is wrong (recorded in `r`).
fn miniapp_settings(r: &mut Reader<'_>) -> Option<Option<miniapp::MiniAppSettings>> {
    let url: Option<Url> = r.optional("MINIAPP_URL");
    let secret = r.optional_secret("MINIAPP_JWT_SECRET");
    let max_age: Option<std::num::NonZeroU64> = r.or("MINIAPP_INIT_DATA_MAX_AGE_SECONDS", "86400");
    let accept_signature: Option<Flag> = r.or("MINIAPP_ACCEPT_SIGNATURE", "false");
    let session: Option<std::num::NonZeroU64> = r.or("MINIAPP_SESSION_MINUTES", "60");
    let max_upload_mb: Option<std::num::NonZeroU64> = r.or("MINIAPP_MAX_UPLOAD_MB", "2000");
    let Some(secret) = secret else {
        if url.is_some() {
            r.problems.push(ConfigProblem::Missing("MINIAPP_JWT_SECRET"));
            return None;
        }
        return Some(None);
    };
    let auth = miniapp::MiniAppAuthSettings::new(
        std::time::Duration::from_secs(max_age?.get()),
        accept_signature?.0,
        secret.expose().as_bytes().to_vec(),
        std::time::Duration::from_secs(session?.get().saturating_mul(60)),
    );
    match auth {
        Ok(auth) => Some(Some(miniapp::MiniAppSettings {
            url,
            auth,
            max_upload_bytes: max_upload_mb?.get().saturating_mul(1_000_000),
        })),
        Err(err) => {
            r.invalid("MINIAPP_JWT_SECRET", err.to_string());
            None
        }
    }
}

/// One thing wrong with the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// A required variable is absent or empty.
    Missing(&'static str),
    /// A variable is present but cannot be used.
    Invalid {
        /// Variable name.
        var: &'static str,
        /// What is wrong with it (never the value of a secret).
        reason: String,
    },
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(var) => write!(f, "{var} is not set"),
            Self::Invalid { var, reason } => write!(f, "{var} is invalid: {reason}"),
        }
    }
}

/// The environment does not describe a runnable configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ConfigError {
    /// Every problem found, in the order the variables are read.
    pub problems: Vec<ConfigProblem>,
}

/// Reads variables from some source and records every problem it meets.
struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<ConfigProblem>,
}

impl Reader<'_> {
    /// The raw value; empty values count as unset so `.env` files can list
    /// optional variables without values.
    fn raw(&self, var: &str) -> Option<String> {
        (self.get)(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn parse<T>(&mut self, var: &'static str, raw: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match raw.parse::<T>() {
            Ok(value) => Some(value),
            Err(err) => {
                self.problems.push(ConfigProblem::Invalid { var, reason: err.to_string() });
                None
            }
        }
    }

    fn optional<T>(&mut self, var: &'static str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let raw = self.raw(var)?;
        self.parse(var, &raw)
    }

    fn required<T>(&mut self, var: &'static str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.raw(var) {
            Some(raw) => self.parse(var, &raw),
            None => {
                self.problems.push(ConfigProblem::Missing(var));
                None
            }
        }
    }

    fn or<T>(&mut self, var: &'static str, default: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let raw = self.raw(var).unwrap_or_else(|| default.to_owned());
        self.parse(var, &raw)
    }

    /// A secret: reported by name only, never echoed.
    fn secret(&mut self, var: &'static str) -> Option<Secret> {
        let value = self.raw(var).map(Secret::new);
        if value.is_none() {
            self.problems.push(ConfigProblem::Missing(var));
        }
        value
    }

    fn optional_secret(&self, var: &'static str) -> Option<Secret> {
        self.raw(var).map(Secret::new)
    }

    fn invalid(&mut self, var: &'static str, reason: impl Into<String>) {
        self.problems.push(ConfigProblem::Invalid { var, reason: reason.into() });
    }
}

/// `true`/`false` and the usual spellings operators write in `.env` files.
#[derive(Debug, Clone, Copy)]
struct Flag(bool);

impl FromStr for Flag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Self(true)),
            "0" | "false" | "no" | "off" => Ok(Self(false)),
            other => Err(format!("expected true or false, got `{other}`")),
        }
    }
}

/// A comma-separated list of Telegram user ids.
#[derive(Debug, Clone, Default)]
struct IdList(Vec<TelegramUserId>);

impl FromStr for IdList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<TelegramUserId>().map_err(|_| format!("`{part}` is not a Telegram user id"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

#[derive(Debug, Clone, Copy)]
enum ModeName {
    Polling,
    Webhook,
}

impl FromStr for ModeName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "polling" => Ok(Self::Polling),
            "webhook" => Ok(Self::Webhook),
            other => Err(format!("expected `polling` or `webhook`, got `{other}`")),
        }
    }
}

/// Telegram accepts 1-256 characters from `A-Z a-z 0-9 _ -` as a webhook secret.
fn webhook_secret_is_valid(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// S3 bucket naming rules, checked early so a typo fails at startup.
fn bucket_name_problem(bucket: &str) -> Option<&'static str> {
    if !(3..=63).contains(&bucket.len()) {
        return Some("must be 3 to 63 characters long");
    }
    if !bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.') {
        return Some("may contain only lowercase letters, digits, dots and hyphens");
    }
    None
}

fn http_url(reader: &mut Reader<'_>, var: &'static str, default: &str) -> Option<Url> {
    let url: Url = reader.or(var, default)?;
    if url.scheme() != "http" && url.scheme() != "https" {
        reader.invalid(var, format!("expected an http(s) URL, got scheme `{}`", url.scheme()));
        return None;
    }
    Some(url)
}

/// An optional http(s) URL: `None` when unset (or invalid, recorded as a problem).
fn http_url_optional(reader: &mut Reader<'_>, var: &'static str) -> Option<Url> {
    let url: Url = reader.optional(var)?;
    if url.scheme() != "http" && url.scheme() != "https" {
        reader.invalid(var, format!("expected an http(s) URL, got scheme `{}`", url.scheme()));
        return None;
    }
    Some(url)
}

/// What `/paysupport` and `/terms` show besides their own words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaySupportSettings {
    /// `PAY_SUPPORT_TEXT`: the operator's contacts for payment questions, shown
    /// under `/paysupport`'s explanation in both languages.
    pub contact: Option<String>,
    /// `TERMS_URL`: the published terms `/terms` links to; without it the bot
    /// states its own short terms.
    pub terms_url: Option<Url>,
}

impl Settings {
    /// Start-up entry point of every binary: loads `.env` when present, reads
    /// the settings, and on any problem prints each one and exits with status 2.
    pub fn load_or_exit(binary: &str) -> Self {
        // A missing .env is normal in containers, where compose sets the environment.
        let _ = dotenvy::dotenv();
        match Self::from_env() {
            Ok(settings) => settings,
            Err(err) => {
                eprintln!("{binary}: cannot start, the configuration is invalid:");
                for problem in &err.problems {
                    eprintln!("  - {problem}");
                }
                eprintln!("See .env.example for every setting.");
                std::process::exit(2);
            }
        }
    }

    /// Reads the settings from the process environment (after `.env`, if the
    /// binary loaded one).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|var| std::env::var(var).ok())
    }

    /// Reads the settings from a map, for tests.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(&|var| vars.get(var).cloned())
    }

    /// Reads the settings through `get`, which returns a variable's value.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = Reader { get, problems: Vec::new() };

        let bot_token = r.secret("TELEGRAM_BOT_TOKEN");
        let mode = match r.or::<ModeName>("TELEGRAM_MODE", "polling") {
            Some(ModeName::Polling) => Some(UpdateMode::Polling),
            Some(ModeName::Webhook) => {
                let url: Option<Url> = r.required("TELEGRAM_WEBHOOK_URL");
                // Telegram only calls https; plain http is allowed for a local
                // Bot API server on this machine.
                let loopback = |url: &Url| match url.host() {
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    Some(url::Host::Domain(name)) => name == "localhost",
                    None => false,
                };
                if let Some(url) = &url
                    && url.scheme() != "https"
                    && !(url.scheme() == "http" && loopback(url))
                {
                    r.invalid("TELEGRAM_WEBHOOK_URL", "Telegram only calls https:// webhooks");
                }
                let secret_token = r.secret("TELEGRAM_WEBHOOK_SECRET");
                if let Some(secret) = &secret_token
                    && !webhook_secret_is_valid(secret.expose())
                {
                    r.invalid(
                        "TELEGRAM_WEBHOOK_SECRET",
                        "must be 1-256 characters of A-Z, a-z, 0-9, `_` and `-`",
                    );
                }
                match (url, secret_token) {
                    (Some(url), Some(secret_token)) => Some(UpdateMode::Webhook { url, secret_token }),
                    _ => None,
                }
            }
            None => None,
        };
        let api_url = http_url(&mut r, "TELEGRAM_API_URL", "https://api.telegram.org");
        let api_local: Option<Flag> = r.or("TELEGRAM_API_LOCAL", "false");
        let local_files_dir: Option<std::path::PathBuf> =
            r.or("TELEGRAM_LOCAL_FILES_DIR", "/var/lib/telegram-bot-api");
        // A local Bot API server hands out files up to 2000 MB; the public one 20 MB.
        let download_default = if api_local.as_ref().is_some_and(|local| local.0) { "2000" } else { "20" };
        let max_download_mb: Option<u64> = r.or("TELEGRAM_MAX_DOWNLOAD_MB", download_default);
        let messages_per_second: Option<std::num::NonZeroU32> = r.or("TELEGRAM_MESSAGES_PER_SECOND", "30");
        let provider_token = r.optional_secret("TELEGRAM_PAYMENT_PROVIDER_TOKEN");

        let database_url = r.secret("DATABASE_URL");
        let database_max_connections: Option<u32> = r.or("DATABASE_MAX_CONNECTIONS", "10");
        let redis_url = r.secret("REDIS_URL");
        let queue_namespace: Option<String> = r.or("QUEUE_NAMESPACE", "tgbot");

        let s3_endpoint: Option<Url> = r.optional("S3_ENDPOINT");
        let s3_public_endpoint: Option<Url> = r.optional("S3_PUBLIC_ENDPOINT");
        let s3_region: Option<String> = r.or("S3_REGION", "us-east-1");
        let s3_timeout: Option<std::num::NonZeroU32> = r.or("S3_TIMEOUT_SECONDS", "120");
        let s3_bucket: Option<String> = r.required("S3_BUCKET");
        if let Some(problem) = s3_bucket.as_deref().and_then(bucket_name_problem) {
            r.invalid("S3_BUCKET", problem);
        }
        let s3_access = r.secret("S3_ACCESS_KEY_ID");
        let s3_secret = r.secret("S3_SECRET_ACCESS_KEY");
        let s3_path_style: Option<Flag> = r.or("S3_FORCE_PATH_STYLE", "true");

        let stt_base = http_url(&mut r, "STT_BASE_URL", "https://api.openai.com/v1");
        let stt_key = r.optional_secret("STT_API_KEY");
        let stt_model: Option<String> = r.or("STT_MODEL", "whisper-1");

        let image_base = http_url(&mut r, "IMAGE_BASE_URL", "https://api.openai.com/v1");
        let image_key = r.optional_secret("IMAGE_API_KEY");
        let image_model: Option<String> = r.or("IMAGE_MODEL", "gpt-image-1");
        let image_size: Option<String> = r.or("IMAGE_SIZE", "1024x1024");
        let max_prompt_chars: Option<usize> = r.or("IMAGE_MAX_PROMPT_CHARS", "1000");
        let max_edit_mb: Option<u64> = r.or("IMAGE_MAX_EDIT_MB", "10");
        let input_hours: Option<u32> = r.or("IMAGE_INPUT_RETENTION_HOURS", "24");
        let output_days: Option<u32> = r.or("IMAGE_OUTPUT_RETENTION_DAYS", "30");
        let audio_days: Option<u32> = r.or("AUDIO_RETENTION_DAYS", "7");
        let transcript_days: Option<u32> = r.or("TRANSCRIPT_RETENTION_DAYS", "365");
        let image_timeout: Option<std::num::NonZeroU32> = r.or("IMAGE_TIMEOUT_SECONDS", "180");
        let connect_timeout: Option<std::num::NonZeroU32> = r.or("PROVIDER_CONNECT_TIMEOUT_SECONDS", "10");
        let idea_base = http_url(&mut r, "IDEA_BASE_URL", "https://api.openai.com/v1");
        let idea_key = r.optional_secret("IDEA_API_KEY");
        let idea_model: Option<String> = r.or("IDEA_MODEL", "gpt-4o-mini");
        let idea_cost: Option<Credits> = r.or("IDEA_COST", "1");
        // A summary is a chat completion like /idea: without a provider of its own it uses that
        // one, key included. The key never follows to a provider named separately.
        let (summary_base, summary_key) = if r.raw("SUMMARY_BASE_URL").is_some() {
            (http_url(&mut r, "SUMMARY_BASE_URL", ""), r.optional_secret("SUMMARY_API_KEY"))
        } else {
            (idea_base.clone(), r.optional_secret("SUMMARY_API_KEY").or_else(|| idea_key.clone()))
        };
        let summary_model: Option<String> = r.or("SUMMARY_MODEL", "gpt-4o-mini");
        let summary_timeout: Option<std::num::NonZeroU32> = r.or("SUMMARY_TIMEOUT_SECONDS", "120");
        let summary_price: Option<Credits> = r.or("SUMMARY_PRICE", "3");

        let per_minute: Option<Credits> = r.or("TRANSCRIPTION_COST_PER_MINUTE", "15");
        let free_minutes: Option<u32> = r.or("FREE_MINUTES_PER_DAY", "3");
        let generation_cost: Option<Credits> = r.or("IMAGE_GENERATION_COST", "20");
        let edit_cost: Option<Credits> = r.or("IMAGE_EDIT_COST", "25");
        let free_images: Option<u32> = r.or("IMAGE_FREE_PER_MONTH", "10");
        let timezone: Option<Tz> = r.or("BILLING_TIMEZONE", "Europe/Moscow");
        let plans: Option<crate::billing::plans::PlanList> = r.or("SUBSCRIPTION_PLANS", "");
        let max_audio_minutes: Option<u32> = r.or("MAX_AUDIO_MINUTES", "180");
        let audio_isolation: Option<AudioIsolation> = r.or("AUDIO_ISOLATION", "process");
        let audio_executable: Option<std::path::PathBuf> = r.optional("AUDIO_SANDBOX_EXECUTABLE");
        let audio_memory_mb: Option<std::num::NonZeroU32> = r.or("AUDIO_MEMORY_LIMIT_MB", "512");
        let audio_cpu_seconds: Option<std::num::NonZeroU32> = r.or("AUDIO_CPU_LIMIT_SECONDS", "300");
        let file_after_chars: Option<usize> = r.or("TRANSCRIPT_FILE_AFTER_CHARS", "12288");
        let welcome_bonus: Option<Credits> = r.or("WELCOME_BONUS_CREDITS", "0");
        let max_queued_jobs: Option<u32> = r.or("MAX_QUEUED_JOBS_PER_USER", "3");
        let max_messages: Option<u32> = r.or("MAX_MESSAGES_PER_MINUTE", "20");
        let group_auto_minutes: Option<u32> = r.or("GROUP_AUTO_DAILY_MINUTES", "60");
        let group_requests: Option<std::num::NonZeroU32> = r.or("GROUP_REQUESTS_PER_MINUTE", "20");

        let packages: Option<PackageList> =
            r.or("CREDIT_PACKAGES", "100:0:149:100,300:10:399:270,1000:20:1190:800");
        let referral_percent: Option<u32> = r.or("REFERRAL_PERCENT", "10");
        let pay_support = PaySupportSettings {
            contact: r
                .optional::<String>("PAY_SUPPORT_TEXT")
                .map(|text| text.trim().to_owned())
                .filter(|t| !t.is_empty()),
            terms_url: http_url_optional(&mut r, "TERMS_URL"),
        };
        let stt_cost: Option<rust_decimal::Decimal> = r.or("STT_COST_USD_PER_MINUTE", "0.006");
        let image_cost: Option<rust_decimal::Decimal> = r.or("IMAGE_COST_USD", "0.04");
        let yookassa = {
            let shop_id: Option<String> = r.optional("YOOKASSA_SHOP_ID");
            let secret_key = r.optional_secret("YOOKASSA_SECRET_KEY");
            let api_url = http_url(&mut r, "YOOKASSA_API_URL", "https://api.yookassa.ru/v3");
            match (shop_id, secret_key) {
                (None, None) => None,
                (Some(shop_id), Some(secret_key)) => {
                    let return_url: Option<Url> = r.required("YOOKASSA_RETURN_URL");
                    let email: Option<String> = r.optional("YOOKASSA_RECEIPT_EMAIL");
                    let vat_code: Option<u8> = r.optional("YOOKASSA_VAT_CODE");
                    let receipt = match (email, vat_code) {
                        (Some(customer_email), Some(vat_code)) if (1..=12).contains(&vat_code) => {
                            Some(ReceiptSettings { customer_email, vat_code })
                        }
                        (Some(_), Some(_)) => {
                            r.problems.push(ConfigProblem::Invalid {
                                var: "YOOKASSA_VAT_CODE",
                                reason: "must be a YooKassa VAT code from 1 to 12".into(),
                            });
                            None
                        }
                        (Some(_), None) => {
                            r.problems.push(ConfigProblem::Missing("YOOKASSA_VAT_CODE"));
                            None
                        }
                        (None, Some(_)) => {
                            r.problems.push(ConfigProblem::Missing("YOOKASSA_RECEIPT_EMAIL"));
                            None
                        }
                        (None, None) => None,
                    };
                    match (return_url, api_url) {
                        (Some(return_url), Some(api_url)) => {
                            Some(YooKassaSettings { shop_id, secret_key, return_url, api_url, receipt })
                        }
                        _ => None,
                    }
                }
                (Some(_), None) => {
                    r.problems.push(ConfigProblem::Missing("YOOKASSA_SECRET_KEY"));
                    None
                }
                (None, Some(_)) => {
                    r.problems.push(ConfigProblem::Missing("YOOKASSA_SHOP_ID"));
                    None
                }
            }
        };

        let notify_ips: Option<IpNets> =
            r.or("YOOKASSA_NOTIFY_IPS", crate::payments::yookassa::DEFAULT_NOTIFICATION_RANGES);
        let trusted_proxies: Option<IpNets> = r.or("TRUSTED_PROXIES", "");
        let admins: Option<IdList> = r.or("ADMIN_TELEGRAM_IDS", "");
        let metrics_token = r.optional_secret("METRICS_TOKEN");
        let miniapp = miniapp_settings(&mut r);
        let http_addr: Option<SocketAddr> = r.or("HTTP_ADDR", "0.0.0.0:8080");
        let worker_http_addr: Option<SocketAddr> = r.optional("WORKER_HTTP_ADDR");
        let log_format: Option<LogFormat> = r.or("LOG_FORMAT", "json");
        let worker_concurrency: Option<NonZeroUsize> = r.or("WORKER_CONCURRENCY", "4");
        let job_lease: Option<std::num::NonZeroU32> = r.or("JOB_LEASE_SECONDS", "10");
        let stt_timeout: Option<std::num::NonZeroU32> = r.or("STT_TIMEOUT_SECONDS", "300");
        let retry_backoff: Option<u32> = r.or("RETRY_BACKOFF_SECONDS", "5");
        let stt_sequential: Option<Flag> = r.or("STT_SEQUENTIAL", "false");
        let stt_concurrency: Option<NonZeroUsize> = r.or("STT_CONCURRENCY", "8");
        let stt_min_chunk: Option<std::num::NonZeroU32> = r.or("STT_MIN_CHUNK_SECONDS", "60");
        let maintenance_interval: Option<std::num::NonZeroU32> = r.or("MAINTENANCE_INTERVAL_SECONDS", "2");
        let job_repush: Option<std::num::NonZeroU32> = r.or("JOB_REPUSH_SECONDS", "60");
        let shutdown_grace: Option<u32> = r.or("SHUTDOWN_GRACE_SECONDS", "45");

        let built = (|| {
            let connect_timeout = std::time::Duration::from_secs(connect_timeout?.get().into());
            Some(Settings {
                telegram: TelegramSettings {
                    bot_token: bot_token?,
                    mode: mode?,
                    api_url: api_url?,
                    max_download_bytes: max_download_mb? * 1_000_000,
                    local_files: if api_local?.0 {
                        Some(crate::telegram::LocalFiles::new(local_files_dir?))
                    } else {
                        None
                    },
                    payment_provider_token: provider_token,
                    messages_per_second: messages_per_second?,
                },
                database_url: database_url?,
                database_max_connections: database_max_connections?,
                redis_url: redis_url?,
                queue_namespace: queue_namespace?,
                s3: S3Settings {
                    endpoint: s3_endpoint,
                    public_endpoint: s3_public_endpoint,
                    region: s3_region?,
                    bucket: s3_bucket?,
                    access_key_id: s3_access?,
                    secret_access_key: s3_secret?,
                    force_path_style: s3_path_style?.0,
                    request_timeout: std::time::Duration::from_secs(s3_timeout?.get().into()),
                },
                stt: ProviderSettings {
                    base_url: stt_base?,
                    api_key: stt_key,
                    model: stt_model?,
                    connect_timeout,
                },
                image: ImageProviderSettings {
                    provider: ProviderSettings {
                        base_url: image_base?,
                        api_key: image_key,
                        model: image_model?,
                        connect_timeout,
                    },
                    size: image_size?,
                },
                images: ImageSettings {
                    max_prompt_chars: max_prompt_chars?,
                    max_edit_bytes: max_edit_mb? * 1_000_000,
                    input_retention: chrono::Duration::hours(i64::from(input_hours?)),
                    output_retention: chrono::Duration::days(i64::from(output_days?)),
                    provider_timeout: std::time::Duration::from_secs(image_timeout?.get().into()),
                },
                retention: crate::media::retention::RetentionSettings::from_days(
                    audio_days?,
                    transcript_days?,
                ),
                idea: IdeaSettings {
                    provider: ProviderSettings {
                        base_url: idea_base?,
                        api_key: idea_key,
                        model: idea_model?,
                        connect_timeout,
                    },
                    cost: idea_cost?,
                },
                summary: SummarySettings {
                    provider: ProviderSettings {
                        base_url: summary_base?,
                        api_key: summary_key,
                        model: summary_model?,
                        connect_timeout,
                    },
                    timeout: std::time::Duration::from_secs(summary_timeout?.get().into()),
                    price: summary_price?,
                },
                pricing: PricingSettings {
                    transcription_cost_per_minute: per_minute?,
                    free_minutes_per_day: free_minutes?,
                    image_generation_cost: generation_cost?,
                    image_edit_cost: edit_cost?,
                    image_free_per_month: free_images?,
                    timezone: timezone?,
                    plans: plans?,
                },
                max_audio_minutes: max_audio_minutes?,
                audio_sandbox: AudioSandboxSettings {
                    isolation: audio_isolation?,
                    executable: audio_executable,
                    memory_limit_bytes: u64::from(audio_memory_mb?.get()) * 1024 * 1024,
                    cpu_limit: std::time::Duration::from_secs(audio_cpu_seconds?.get().into()),
                },
                transcript_file_after_chars: file_after_chars?,
                welcome_bonus: welcome_bonus?,
                max_queued_jobs_per_user: max_queued_jobs?,
                max_messages_per_minute: max_messages?,
                groups: crate::people::groups::GroupSettings {
                    auto_daily_minutes: group_auto_minutes?,
                    requests_per_minute: group_requests?.get(),
                },
                packages: packages?,
                referral_percent: referral_percent?,
                pay_support,
                yookassa,
                yookassa_notify_ips: notify_ips?,
                trusted_proxies: trusted_proxies?,
                admin_telegram_ids: admins?.0,
                provider_costs: crate::operations::stats::ProviderCosts {
                    stt_usd_per_minute: stt_cost?,
                    image_usd: image_cost?,
                },
                miniapp: miniapp?,
                metrics_token,
                http_addr: http_addr?,
                worker_http_addr,
                log_format: log_format?,
                worker_concurrency: worker_concurrency?,
                job_lease: std::time::Duration::from_secs(job_lease?.get().into()),
                stt_timeout: std::time::Duration::from_secs(stt_timeout?.get().into()),
                retry_backoff: std::time::Duration::from_secs(retry_backoff?.into()),
                stt_sequential: stt_sequential?.0,
                stt_concurrency: stt_concurrency?,
                stt_min_chunk: std::time::Duration::from_secs(stt_min_chunk?.get().into()),
                maintenance_interval: std::time::Duration::from_secs(maintenance_interval?.get().into()),
                job_repush: std::time::Duration::from_secs(job_repush?.get().into()),
                shutdown_grace: std::time::Duration::from_secs(shutdown_grace?.into()),
            })
        })();

        match built {
            Some(settings) if r.problems.is_empty() => Ok(settings),
            _ => Err(ConfigError { problems: r.problems }),
        }
    }
}

impl Services {
    /// Connects to PostgreSQL, Redis and object storage as `settings` say. It lives here, beside
    /// the settings, so `platform` never depends on the settings of every other owner.
    pub async fn connect(settings: &Settings) -> anyhow::Result<Self> {
        Self::open(
            &settings.database_url,
            settings.database_max_connections,
            &settings.redis_url,
            &settings.s3,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> HashMap<String, String> {
        [
            ("TELEGRAM_BOT_TOKEN", "123:abc"),
            ("DATABASE_URL", "postgres://localhost/bot"),
            ("REDIS_URL", "redis://localhost"),
            ("S3_BUCKET", "bot-media"),
            ("S3_ACCESS_KEY_ID", "minio"),
            ("S3_SECRET_ACCESS_KEY", "minio-secret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn a_local_bot_api_server_reads_files_from_the_shared_directory_up_to_2000_mb() {
        let settings = Settings::from_map(&minimal()).expect("valid");
        assert_eq!(settings.telegram.local_files, None);

        let mut env = minimal();
        env.insert("TELEGRAM_API_LOCAL".into(), "true".into());
        let settings = Settings::from_map(&env).expect("valid");
        assert_eq!(settings.telegram.max_download_bytes, 2_000_000_000);
        let local = settings.telegram.local_files.expect("local mode");
        assert_eq!(local.dir(), std::path::Path::new("/var/lib/telegram-bot-api"));

        env.insert("TELEGRAM_LOCAL_FILES_DIR".into(), "/srv/bot-api".into());
        env.insert("TELEGRAM_MAX_DOWNLOAD_MB".into(), "500".into());
        let settings = Settings::from_map(&env).expect("valid");
        assert_eq!(settings.telegram.max_download_bytes, 500_000_000);
        assert_eq!(settings.telegram.local_files.unwrap().dir(), std::path::Path::new("/srv/bot-api"));

        env.insert("TELEGRAM_API_LOCAL".into(), "maybe".into());
        assert!(Settings::from_map(&env).is_err());
    }

    #[test]
    fn minimal_environment_gets_documented_defaults() {
        let settings = Settings::from_map(&minimal()).expect("valid");
        assert_eq!(settings.pricing.transcription_cost_per_minute, Credits::whole(15));
        assert_eq!(settings.pricing.free_minutes_per_day, 3);
        assert_eq!(settings.pricing.image_generation_cost, Credits::whole(20));
        assert_eq!(settings.pricing.image_edit_cost, Credits::whole(25));
        assert_eq!(settings.pricing.timezone, chrono_tz::Europe::Moscow);
        assert_eq!(settings.telegram.max_download_bytes, 20_000_000);
        assert!(matches!(settings.telegram.mode, UpdateMode::Polling));
        assert!(settings.yookassa.is_none());
        assert_eq!(settings.log_format, LogFormat::Json);
        assert_eq!(settings.images.max_edit_bytes, 10_000_000);
        assert_eq!(settings.images.input_retention, chrono::Duration::hours(24));
        assert_eq!(settings.images.output_retention, chrono::Duration::days(30));
        assert_eq!(settings.retention.audio, Some(chrono::Duration::days(7)));
        assert_eq!(settings.retention.transcripts, Some(chrono::Duration::days(365)));
        assert_eq!(settings.idea.cost, Credits::whole(1));
        assert_eq!(settings.summary.price, Credits::whole(3));
        assert_eq!(settings.summary.provider.model, "gpt-4o-mini");
        assert_eq!(settings.summary.timeout, std::time::Duration::from_secs(120));
        assert_eq!(settings.summary.provider.base_url.as_str(), "https://api.openai.com/v1");
    }

    #[test]
    fn summaries_use_the_idea_provider_unless_given_their_own() {
        let mut vars = minimal();
        vars.insert("IDEA_BASE_URL".into(), "https://openrouter.ai/api/v1".into());
        vars.insert("IDEA_API_KEY".into(), "idea-key".into());
        vars.insert("SUMMARY_PRICE".into(), "2.5".into());
        let settings = Settings::from_map(&vars).expect("valid");
        assert_eq!(settings.summary.provider.base_url.as_str(), "https://openrouter.ai/api/v1");
        assert_eq!(settings.summary.provider.api_key.as_ref().map(Secret::expose), Some("idea-key"));
        assert_eq!(settings.summary.price, Credits::new("2.5".parse().unwrap()).unwrap());

        // A provider of its own never gets the /idea key.
        vars.insert("SUMMARY_BASE_URL".into(), "https://llm.example.com/v1".into());
        let settings = Settings::from_map(&vars).expect("valid");
        assert_eq!(settings.summary.provider.base_url.as_str(), "https://llm.example.com/v1");
        assert!(settings.summary.provider.api_key.is_none());
        vars.insert("SUMMARY_API_KEY".into(), "summary-key".into());
        let settings = Settings::from_map(&vars).expect("valid");
        assert_eq!(settings.summary.provider.api_key.as_ref().map(Secret::expose), Some("summary-key"));

        vars.insert("SUMMARY_PRICE".into(), "-1".into());
        vars.insert("SUMMARY_BASE_URL".into(), "ftp://llm.example.com".into());
        let err = Settings::from_map(&vars).expect_err("must fail");
        let named: Vec<&str> = err
            .problems
            .iter()
            .map(|p| match p {
                ConfigProblem::Invalid { var, .. } | ConfigProblem::Missing(var) => *var,
            })
            .collect();
        assert_eq!(named, ["SUMMARY_BASE_URL", "SUMMARY_PRICE"]);
    }

    #[test]
    fn missing_token_is_named() {
        let mut vars = minimal();
        vars.remove("TELEGRAM_BOT_TOKEN");
        let err = Settings::from_map(&vars).expect_err("must fail");
        assert_eq!(err.problems, vec![ConfigProblem::Missing("TELEGRAM_BOT_TOKEN")]);
        assert!(err.to_string().contains("TELEGRAM_BOT_TOKEN is not set"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut vars = minimal();
        vars.remove("DATABASE_URL");
        vars.insert("WORKER_CONCURRENCY".into(), "0".into());
        vars.insert("LOG_FORMAT".into(), "xml".into());
        vars.insert("TRANSCRIPTION_COST_PER_MINUTE".into(), "-3".into());
        let err = Settings::from_map(&vars).expect_err("must fail");
        let text = err.to_string();
        for var in ["DATABASE_URL", "WORKER_CONCURRENCY", "LOG_FORMAT", "TRANSCRIPTION_COST_PER_MINUTE"] {
            assert!(text.contains(var), "{var} missing from: {text}");
        }
    }

    #[test]
    fn webhook_mode_needs_https_url_and_valid_secret() {
        let mut vars = minimal();
        vars.insert("TELEGRAM_MODE".into(), "webhook".into());
        let err = Settings::from_map(&vars).expect_err("must fail");
        assert!(err.problems.contains(&ConfigProblem::Missing("TELEGRAM_WEBHOOK_URL")));
        assert!(err.problems.contains(&ConfigProblem::Missing("TELEGRAM_WEBHOOK_SECRET")));

        vars.insert("TELEGRAM_WEBHOOK_URL".into(), "http://bot.example.com/tg".into());
        vars.insert("TELEGRAM_WEBHOOK_SECRET".into(), "has spaces!".into());
        let err = Settings::from_map(&vars).expect_err("must fail");
        let vars_named: Vec<_> = err
            .problems
            .iter()
            .filter_map(|p| match p {
                ConfigProblem::Invalid { var, .. } => Some(*var),
                ConfigProblem::Missing(_) => None,
            })
            .collect();
        assert_eq!(vars_named, vec!["TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET"]);

        vars.insert("TELEGRAM_WEBHOOK_URL".into(), "https://bot.example.com/tg".into());
        vars.insert("TELEGRAM_WEBHOOK_SECRET".into(), "s3cret_token-1".into());
        let settings = Settings::from_map(&vars).expect("valid");
        assert!(matches!(settings.telegram.mode, UpdateMode::Webhook { .. }));
    }

    #[test]
    fn yookassa_needs_both_credentials_and_a_return_url() {
        let mut vars = minimal();
        vars.insert("YOOKASSA_SHOP_ID".into(), "12345".into());
        let err = Settings::from_map(&vars).expect_err("must fail");
        assert_eq!(err.problems, vec![ConfigProblem::Missing("YOOKASSA_SECRET_KEY")]);

        vars.insert("YOOKASSA_SECRET_KEY".into(), "live_xyz".into());
        vars.insert("YOOKASSA_RETURN_URL".into(), "https://t.me/some_bot".into());
        let settings = Settings::from_map(&vars).expect("valid");
        assert_eq!(settings.yookassa.map(|y| y.shop_id), Some("12345".to_owned()));
    }

    #[test]
    fn secrets_are_not_echoed_in_errors_or_debug() {
        let mut vars = minimal();
        vars.insert("TELEGRAM_MODE".into(), "webhook".into());
        vars.insert("TELEGRAM_WEBHOOK_URL".into(), "https://bot.example.com/tg".into());
        vars.insert("TELEGRAM_WEBHOOK_SECRET".into(), "leaky value".into());
        let err = Settings::from_map(&vars).expect_err("must fail");
        assert!(!err.to_string().contains("leaky"));

        let settings = Settings::from_map(&minimal()).expect("valid");
        let debug = format!("{settings:?}");
        assert!(!debug.contains("123:abc") && !debug.contains("minio-secret"));
    }

    #[test]
    fn admin_ids_and_bucket_are_parsed() {
        let mut vars = minimal();
        vars.insert("ADMIN_TELEGRAM_IDS".into(), "1, 22,333".into());
        assert_eq!(
            Settings::from_map(&vars).expect("valid").admin_telegram_ids,
            vec![TelegramUserId(1), TelegramUserId(22), TelegramUserId(333)]
        );
        vars.insert("ADMIN_TELEGRAM_IDS".into(), "1,bob".into());
        vars.insert("S3_BUCKET".into(), "Bad_Bucket".into());
        let err = Settings::from_map(&vars).expect_err("must fail").to_string();
        assert!(err.contains("ADMIN_TELEGRAM_IDS") && err.contains("S3_BUCKET"), "{err}");
    }
}
