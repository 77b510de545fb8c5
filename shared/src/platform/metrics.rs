//! Live instruments: counters and histograms kept in memory by each process
//! (the bot and every worker) as things happen, for Prometheus to scrape.
//!
//! They complement the business gauges that the top-level `metrics` module reads from
//! PostgreSQL on each scrape: those say where the business stands and are the
//! same from every replica; these say what this process did since it started
//! (a restart starts them from zero, which Prometheus's `rate()` expects).
//!
//! One process-wide set ([`live`]) is cheap to reach from anywhere, so an
//! owner records an event in one line without a handle threaded through its
//! calls. Every label is a small enum: the number of series stays bounded
//! whatever users send.

use std::{sync::LazyLock, time::Duration};

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder},
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::entities::{jobs::JobKind, ledger_transactions::TransactionKind, payments::PaymentProvider};

/// The `Content-Type` of the OpenMetrics text that [`encode`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The prefix of every metric name.
pub const PREFIX: &str = "tgbot";

/// Which kind of Telegram update a handler took.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpdateKind {
    /// A message (text, command, recording, photo, payment).
    Message,
    /// A button pressed.
    CallbackQuery,
    /// Telegram asks whether a payment may go ahead.
    PreCheckoutQuery,
    /// The bot was added to or removed from a chat.
    MyChatMember,
    /// Anything else.
    Other,
}

/// How handling an update ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpdateOutcome {
    /// A handler took it and finished.
    Handled,
    /// A handler took it and returned an error.
    Failed,
    /// No handler wanted it.
    Ignored,
}

/// How a job ended for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobOutcome {
    /// Delivered and charged.
    Succeeded,
    /// Given up (permanently failed, out of attempts, or the user is gone); the hold released.
    Failed,
    /// Charged and stored, but the result could not reach the user.
    Undeliverable,
}

/// An upstream AI provider the worker calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Speech to text (a chunk of a recording).
    Stt,
    /// Image generation or editing.
    Images,
    /// A chat model writing prompt ideas (`/idea`).
    Ideas,
    /// A chat model writing a transcript's summary.
    Summary,
}

/// How a provider request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderStatus {
    /// Answered with a usable result.
    Ok,
    /// `429`: too many requests.
    RateLimited,
    /// Another `4xx`: the request was refused.
    Rejected,
    /// A `5xx`, or an answer that could not be read.
    ServerError,
    /// No answer within the limit.
    Timeout,
    /// The connection failed.
    Network,
}

/// A group of Telegram Bot API methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TelegramCall {
    /// `send*`, `copy*`, `forward*`: what Telegram's flood limits are about.
    Send,
    /// `edit*`.
    Edit,
    /// `delete*`.
    Delete,
    /// `answer*` (callback and pre-checkout queries).
    Answer,
    /// `getFile`.
    GetFile,
    /// `getUpdates` (long polling).
    GetUpdates,
    /// Anything else (`getMe`, `setWebhook`, `getChatMember`, ...).
    Other,
}

impl TelegramCall {
    /// The group of a Bot API method, by its name (`SendMessage`, `sendMessage`, `send_message`).
    pub fn of_method(name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        if name.starts_with("send") || name.starts_with("copy") || name.starts_with("forward") {
            Self::Send
        } else if name.starts_with("edit") {
            Self::Edit
        } else if name.starts_with("delete") {
            Self::Delete
        } else if name.starts_with("answer") {
            Self::Answer
        } else if name == "getfile" || name == "get_file" {
            Self::GetFile
        } else if name == "getupdates" || name == "get_updates" {
            Self::GetUpdates
        } else {
            Self::Other
        }
    }
}

/// How a Telegram call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TelegramOutcome {
    /// Telegram answered `ok`.
    Ok,
    /// `429`: flood control, with a `retry_after`.
    RateLimited,
    /// Telegram refused it (blocked by the user, bad request, ...).
    ApiError,
    /// The network or the HTTP exchange failed.
    Network,
}

/// What happened to a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentOutcome {
    /// Created, waiting for the payer.
    Created,
    /// Paid and credited now.
    Credited,
    /// Reported paid again; it had been credited before.
    Duplicate,
    /// Reported with an amount that does not match: refused.
    Rejected,
    /// Canceled by the provider or the payer.
    Canceled,
}

/// Whether a ledger posting moved money now or replayed an earlier one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PostingResult {
    /// A new balanced transaction.
    Posted,
    /// The same idempotency key again: the earlier posting stands.
    Replayed,
}

/// `kind` of a job.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct JobLabels {
    /// The job's kind.
    pub kind: JobKind,
}

/// `kind` and `outcome` of a finished job.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct JobOutcomeLabels {
    /// The job's kind.
    pub kind: JobKind,
    /// How it ended.
    pub outcome: JobOutcome,
}

/// `kind` of an update.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct UpdateLabels {
    /// The update's kind.
    pub kind: UpdateKind,
}

/// `kind` and `outcome` of a handled update.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct UpdateOutcomeLabels {
    /// The update's kind.
    pub kind: UpdateKind,
    /// How handling it ended.
    pub outcome: UpdateOutcome,
}

/// `provider` of a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ProviderLabels {
    /// Which provider.
    pub provider: Provider,
}

/// `provider` and `status` of a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ProviderStatusLabels {
    /// Which provider.
    pub provider: Provider,
    /// How it ended.
    pub status: ProviderStatus,
}

/// `call` of a Telegram request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct TelegramLabels {
    /// The method's group.
    pub call: TelegramCall,
}

/// `call` and `outcome` of a Telegram request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct TelegramOutcomeLabels {
    /// The method's group.
    pub call: TelegramCall,
    /// How it ended.
    pub outcome: TelegramOutcome,
}

/// `provider` and `outcome` of a payment event.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct PaymentLabels {
    /// Who takes the money.
    pub provider: PaymentProvider,
    /// What happened.
    pub outcome: PaymentOutcome,
}

/// `kind` and `result` of a ledger posting.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct PostingLabels {
    /// The transaction's kind.
    pub kind: TransactionKind,
    /// Posted now or replayed.
    pub result: PostingResult,
}

impl EncodeLabelValue for JobKind {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        use sea_orm::ActiveEnum;
        EncodeLabelValue::encode(&self.to_value().as_str(), encoder)
    }
}

impl EncodeLabelValue for TransactionKind {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        use sea_orm::ActiveEnum;
        EncodeLabelValue::encode(&self.to_value().as_str(), encoder)
    }
}

impl EncodeLabelValue for PaymentProvider {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        use sea_orm::ActiveEnum;
        EncodeLabelValue::encode(&self.to_value().as_str(), encoder)
    }
}

/// Writes each variant as its snake_case label value.
macro_rules! label_values {
    ($($ty:ty { $($variant:ident => $text:literal),+ $(,)? })+) => {$(
        impl $ty {
            /// The label value, as Prometheus shows it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl EncodeLabelValue for $ty {
            fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
                EncodeLabelValue::encode(&self.as_str(), encoder)
            }
        }
    )+};
}

label_values! {
    UpdateKind {
        Message => "message",
        CallbackQuery => "callback_query",
        PreCheckoutQuery => "pre_checkout_query",
        MyChatMember => "my_chat_member",
        Other => "other",
    }
    UpdateOutcome { Handled => "handled", Failed => "failed", Ignored => "ignored" }
    JobOutcome { Succeeded => "succeeded", Failed => "failed", Undeliverable => "undeliverable" }
    Provider { Stt => "stt", Images => "images", Ideas => "ideas", Summary => "summary" }
    ProviderStatus {
        Ok => "ok",
        RateLimited => "rate_limited",
        Rejected => "rejected",
        ServerError => "server_error",
        Timeout => "timeout",
        Network => "network",
    }
    TelegramCall {
        Send => "send",
        Edit => "edit",
        Delete => "delete",
        Answer => "answer",
        GetFile => "get_file",
        GetUpdates => "get_updates",
        Other => "other",
    }
    TelegramOutcome { Ok => "ok", RateLimited => "rate_limited", ApiError => "api_error", Network => "network" }
    PaymentOutcome {
        Created => "created",
        Credited => "credited",
        Duplicate => "duplicate",
        Rejected => "rejected",
        Canceled => "canceled",
    }
    PostingResult { Posted => "posted", Replayed => "replayed" }
}

/// A histogram family whose histograms all share one set of buckets.
pub type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// From 5 ms to about 80 s: a handler, a Telegram call, a provider request.
fn short_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

/// From 0.1 s to about 3.6 h: a job's attempt and its wait in the queue.
fn long_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 2.0, 18))
}

/// Every live instrument of a process. Families share their series between
/// clones, so [`Live::register`] can hand them to any number of registries.
#[derive(Clone)]
pub struct Live {
    /// Updates handled, by kind and outcome.
    pub updates: Family<UpdateOutcomeLabels, Counter>,
    /// Time to handle an update, by kind.
    pub update_duration: Histograms<UpdateLabels>,
    /// Attempts of jobs started, by kind.
    pub jobs_started: Family<JobLabels, Counter>,
    /// Jobs that reached a final state, by kind and outcome.
    pub jobs_finished: Family<JobOutcomeLabels, Counter>,
    /// Failed attempts put aside for another try, by kind.
    pub jobs_retried: Family<JobLabels, Counter>,
    /// Attempts handed back unfinished at shutdown, by kind.
    pub jobs_handed_back: Family<JobLabels, Counter>,
    /// Time of one attempt, by kind.
    pub job_duration: Histograms<JobLabels>,
    /// Time from a job's creation to its first claim by a worker, by kind.
    pub job_queue_wait: Histograms<JobLabels>,
    /// Provider requests, by provider and status.
    pub provider_requests: Family<ProviderStatusLabels, Counter>,
    /// Time of a provider request, by provider.
    pub provider_duration: Histograms<ProviderLabels>,
    /// Telegram Bot API requests, by method group and outcome (`rate_limited` is a 429).
    pub telegram_requests: Family<TelegramOutcomeLabels, Counter>,
    /// Time of a Telegram request, by method group.
    pub telegram_duration: Histograms<TelegramLabels>,
    /// Telegram requests sent again after a 429, by method group.
    pub telegram_retries: Family<TelegramLabels, Counter>,
    /// Payment events, by provider and outcome.
    pub payments: Family<PaymentLabels, Counter>,
    /// Ledger postings, by transaction kind and result.
    pub ledger_postings: Family<PostingLabels, Counter>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            updates: Family::default(),
            update_duration: Family::new_with_constructor(short_buckets),
            jobs_started: Family::default(),
            jobs_finished: Family::default(),
            jobs_retried: Family::default(),
            jobs_handed_back: Family::default(),
            job_duration: Family::new_with_constructor(long_buckets),
            job_queue_wait: Family::new_with_constructor(long_buckets),
            provider_requests: Family::default(),
            provider_duration: Family::new_with_constructor(short_buckets),
            telegram_requests: Family::default(),
            telegram_duration: Family::new_with_constructor(short_buckets),
            telegram_retries: Family::default(),
            payments: Family::default(),
            ledger_postings: Family::default(),
        }
    }
}

impl Live {
    /// Adds every instrument to `registry` (which shares, not copies, their series).
    pub fn register(&self, registry: &mut Registry) {
        registry.register("updates", "Telegram updates handled, by kind and outcome", self.updates.clone());
        registry.register(
            "update_duration_seconds",
            "Time to handle a Telegram update, by kind",
            self.update_duration.clone(),
        );
        registry.register("jobs_started", "Job attempts started, by kind", self.jobs_started.clone());
        registry.register(
            "jobs_finished",
            "Jobs that reached a final state, by kind and outcome",
            self.jobs_finished.clone(),
        );
        registry.register(
            "jobs_retried",
            "Failed job attempts put aside for another try, by kind",
            self.jobs_retried.clone(),
        );
        registry.register(
            "jobs_handed_back",
            "Job attempts handed back unfinished at shutdown, by kind",
            self.jobs_handed_back.clone(),
        );
        registry.register(
            "job_duration_seconds",
            "Time of one job attempt, by kind",
            self.job_duration.clone(),
        );
        registry.register(
            "job_queue_wait_seconds",
            "Time from a job's creation to its first claim by a worker, by kind",
            self.job_queue_wait.clone(),
        );
        registry.register(
            "provider_requests",
            "AI provider requests, by provider and status",
            self.provider_requests.clone(),
        );
        registry.register(
            "provider_request_duration_seconds",
            "Time of an AI provider request, by provider",
            self.provider_duration.clone(),
        );
        registry.register(
            "telegram_requests",
            "Telegram Bot API requests, by method group and outcome (rate_limited: a 429)",
            self.telegram_requests.clone(),
        );
        registry.register(
            "telegram_request_duration_seconds",
            "Time of a Telegram Bot API request, by method group",
            self.telegram_duration.clone(),
        );
        registry.register(
            "telegram_retries",
            "Telegram Bot API requests sent again after a 429, by method group",
            self.telegram_retries.clone(),
        );
        registry.register(
            "payment_events",
            "Payment events as they happen, by provider and outcome",
            self.payments.clone(),
        );
        registry.register(
            "ledger_postings",
            "Ledger transactions, by kind and whether posted now or replayed",
            self.ledger_postings.clone(),
        );
    }

    /// Counts one handled update and its time.
    pub fn update_handled(&self, kind: UpdateKind, outcome: UpdateOutcome, took: Duration) {
        self.updates.get_or_create(&UpdateOutcomeLabels { kind, outcome }).inc();
        self.update_duration.get_or_create(&UpdateLabels { kind }).observe(took.as_secs_f64());
    }

    /// Counts one attempt started; `waited` is the job's wait in the queue on its first attempt.
    pub fn job_started(&self, kind: JobKind, waited: Option<Duration>) {
        self.jobs_started.get_or_create(&JobLabels { kind }).inc();
        if let Some(waited) = waited {
            self.job_queue_wait.get_or_create(&JobLabels { kind }).observe(waited.as_secs_f64());
        }
    }

    /// Records the time of one attempt, however it ended.
    pub fn job_attempted(&self, kind: JobKind, took: Duration) {
        self.job_duration.get_or_create(&JobLabels { kind }).observe(took.as_secs_f64());
    }

    /// Counts a job that reached a final state.
    pub fn job_finished(&self, kind: JobKind, outcome: JobOutcome) {
        self.jobs_finished.get_or_create(&JobOutcomeLabels { kind, outcome }).inc();
    }

    /// Counts a failed attempt that will be tried again.
    pub fn job_retried(&self, kind: JobKind) {
        self.jobs_retried.get_or_create(&JobLabels { kind }).inc();
    }

    /// Counts an attempt handed back at shutdown.
    pub fn job_handed_back(&self, kind: JobKind) {
        self.jobs_handed_back.get_or_create(&JobLabels { kind }).inc();
    }

    /// Counts one provider request and its time.
    pub fn provider_request(&self, provider: Provider, status: ProviderStatus, took: Duration) {
        self.provider_requests.get_or_create(&ProviderStatusLabels { provider, status }).inc();
        self.provider_duration.get_or_create(&ProviderLabels { provider }).observe(took.as_secs_f64());
    }

    /// Counts one Telegram request and its time.
    pub fn telegram_request(&self, call: TelegramCall, outcome: TelegramOutcome, took: Duration) {
        self.telegram_requests.get_or_create(&TelegramOutcomeLabels { call, outcome }).inc();
        self.telegram_duration.get_or_create(&TelegramLabels { call }).observe(took.as_secs_f64());
    }

    /// Counts a Telegram request about to be sent again after a 429.
    pub fn telegram_retry(&self, call: TelegramCall) {
        self.telegram_retries.get_or_create(&TelegramLabels { call }).inc();
    }

    /// Counts one payment event.
    pub fn payment(&self, provider: PaymentProvider, outcome: PaymentOutcome) {
        self.payments.get_or_create(&PaymentLabels { provider, outcome }).inc();
    }

    /// Counts one ledger posting.
    pub fn ledger_posting(&self, kind: TransactionKind, result: PostingResult) {
        self.ledger_postings.get_or_create(&PostingLabels { kind, result }).inc();
    }
}

static LIVE: LazyLock<Live> = LazyLock::new(Live::default);

/// The process's live instruments.
pub fn live() -> &'static Live {
    &LIVE
}

/// The live instruments in the OpenMetrics text format, for a process that
/// reports nothing else (a worker).
///
/// # Errors
/// Never in practice: writing to a `String` does not fail.
pub fn encode() -> Result<String, std::fmt::Error> {
    let mut registry = Registry::with_prefix(PREFIX);
    live().register(&mut registry);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruments_show_up_with_their_labels() {
        let live = Live::default();
        live.job_started(JobKind::Transcribe, Some(Duration::from_millis(300)));
        live.job_finished(JobKind::Transcribe, JobOutcome::Succeeded);
        live.provider_request(Provider::Stt, ProviderStatus::Ok, Duration::from_millis(20));
        live.ledger_posting(TransactionKind::Capture, PostingResult::Posted);
        live.telegram_request(TelegramCall::GetFile, TelegramOutcome::RateLimited, Duration::from_millis(5));
        live.telegram_retry(TelegramCall::GetFile);
        let mut registry = Registry::with_prefix(PREFIX);
        live.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            "tgbot_jobs_started_total{kind=\"transcribe\"} 1",
            "tgbot_jobs_finished_total{kind=\"transcribe\",outcome=\"succeeded\"} 1",
            "tgbot_telegram_requests_total{call=\"get_file\",outcome=\"rate_limited\"} 1",
            "tgbot_telegram_retries_total{call=\"get_file\"} 1",
            "tgbot_job_queue_wait_seconds_count{kind=\"transcribe\"} 1",
            "tgbot_provider_requests_total{provider=\"stt\",status=\"ok\"} 1",
            "tgbot_provider_request_duration_seconds_count{provider=\"stt\"} 1",
            "tgbot_provider_request_duration_seconds_bucket{le=\"+Inf\",provider=\"stt\"} 1",
            "tgbot_ledger_postings_total{kind=\"capture\",result=\"posted\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn telegram_methods_fall_into_groups() {
        assert_eq!(TelegramCall::of_method("SendMessage"), TelegramCall::Send);
        assert_eq!(TelegramCall::of_method("CopyMessage"), TelegramCall::Send);
        assert_eq!(TelegramCall::of_method("EditMessageText"), TelegramCall::Edit);
        assert_eq!(TelegramCall::of_method("AnswerCallbackQuery"), TelegramCall::Answer);
        assert_eq!(TelegramCall::of_method("GetFile"), TelegramCall::GetFile);
        assert_eq!(TelegramCall::of_method("GetUpdates"), TelegramCall::GetUpdates);
        assert_eq!(TelegramCall::of_method("GetMe"), TelegramCall::Other);
    }
}
