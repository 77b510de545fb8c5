//! The one job runner: claim, lease, attempts, backoff, give-up and the user's
//! failure message, the same for every kind of job.
//!
//! A kind (transcription, pictures) implements [`Runnable`]: the work of one
//! attempt, each effect keyed by the job id, and what the user is told when
//! attempts run out. The runner owns retries: a failed attempt defers the job
//! (its lease becomes the backoff timer) and the sweeper pushes it again once
//! the lease ends; the queue is never asked to retry, so one failure is one
//! retry. The lease is renewed inside the attempt's own future, so it ends with
//! the attempt however that ends: finished, dropped by a failing queue worker,
//! or cancelled at shutdown (which also hands the job back at once).
//!
//! Error policy: an attempt returns a [`Failure`]; the runner logs it once,
//! with the job id, where it decides between retrying and giving up.

use shared::telegram::Telegram;
use std::{future::Future, time::Duration};

use apalis::prelude::BoxDynError;
use async_openai::error::OpenAIError;
use sea_orm::{DatabaseConnection, EntityTrait};
use shared::ids::JobId;
use shared::{
    billing::ledger::Ledger,
    entities::{jobs::Model as Job, users},
    jobs::{self, Claim, Ending},
    platform::metrics::{self, JobOutcome, Provider, ProviderStatus},
    texts::i18n::{Lang, Text},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::Instrument;

/// How attempts are made and spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptPolicy {
    /// Attempts before a job is given up.
    pub max_attempts: u32,
    /// How long a claim lasts unless renewed (renewed every third of it).
    pub lease: Duration,
    /// First pause before a failed attempt is retried (see [`jobs::retry_delay`]).
    pub retry_backoff: Duration,
}

/// What every kind of job works with.
#[derive(Clone)]
pub struct Common {
    /// Database pool.
    pub db: DatabaseConnection,
    /// The ledger.
    pub ledger: Ledger,
    /// Telegram.
    pub bot: Telegram,
    /// Attempts and leases.
    pub policy: AttemptPolicy,
    /// Cancelled when the worker's grace period is over: attempts still
    /// running then are stopped and their jobs handed back to the queue.
    pub shutdown: CancellationToken,
    /// Every attempt in flight, so shutdown can wait for them.
    pub attempts: TaskTracker,
}

impl Common {
    /// Services and policy for a worker, with nothing in flight yet.
    pub fn new(db: DatabaseConnection, ledger: Ledger, bot: Telegram, policy: AttemptPolicy) -> Self {
        Self { db, ledger, bot, policy, shutdown: CancellationToken::new(), attempts: TaskTracker::new() }
    }

    /// Stops the worker's attempts: no new ones start, those in flight get
    /// `grace` to finish, then the rest are handed back to the queue.
    pub async fn wind_down(&self, grace: Duration) {
        self.attempts.close();
        if tokio::time::timeout(grace, self.attempts.wait()).await.is_err() {
            tracing::warn!(left = self.attempts.len(), "grace period over; handing back unfinished jobs");
            self.shutdown.cancel();
            self.attempts.wait().await;
        }
    }
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Retrying cannot help: the job ends now and the user is told `notice`.
    #[error("permanent failure ({code}): {detail}")]
    Permanent {
        /// Stored as the job's error code.
        code: &'static str,
        /// What the user is told.
        notice: Text,
        /// For the logs.
        detail: String,
    },
    /// The user cannot be reached (they blocked the bot, or deleted their
    /// account): the job ends now, and nothing is sent.
    #[error("the recipient is gone: {0}")]
    RecipientGone(String),
    /// Might work next time.
    #[error("transient failure: {0:#}")]
    Transient(#[from] anyhow::Error),
}

/// Wraps anything that failed on our side or on the way as a transient failure.
pub fn transient(err: impl Into<anyhow::Error>) -> Failure {
    Failure::Transient(err.into())
}

/// Waits for `call` at most `limit`: a service that does not answer fails the
/// attempt (transiently) instead of holding the job and its lease forever.
pub async fn bounded<T>(limit: Duration, service: &str, call: impl Future<Output = T>) -> Result<T, Failure> {
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_| transient(anyhow::anyhow!("no answer from {service} in {limit:?}")))
}

/// One request to an AI provider: bounded like [`bounded`], and counted with
/// its time and status in the live metrics whatever it ends with.
pub async fn provider_request<T>(
    provider: Provider,
    limit: Duration,
    service: &str,
    call: impl Future<Output = Result<T, OpenAIError>>,
) -> Result<Result<T, OpenAIError>, Failure> {
    let started = std::time::Instant::now();
    let result = bounded(limit, service, call).await;
    let status = match &result {
        Err(_) => ProviderStatus::Timeout,
        Ok(Ok(_)) => ProviderStatus::Ok,
        Ok(Err(err)) => provider_status(err),
    };
    metrics::live().provider_request(provider, status, started.elapsed());
    result
}

/// How a provider's error is counted.
fn provider_status(err: &OpenAIError) -> ProviderStatus {
    let http = |err: &reqwest_openai::Error| {
        if err.is_timeout() {
            ProviderStatus::Timeout
        } else if let Some(status) = err.status() {
            status_class(status.as_u16())
        } else {
            ProviderStatus::Network
        }
    };
    match err {
        OpenAIError::ApiError(api) => status_class(api.status_code.as_u16()),
        OpenAIError::Reqwest(err) => http(err),
        OpenAIError::Boxed(err) => {
            err.downcast_ref::<reqwest_openai::Error>().map_or(ProviderStatus::Network, http)
        }
        // An answer we could not read: the provider's fault as far as we can tell.
        _ => ProviderStatus::ServerError,
    }
}

fn status_class(status: u16) -> ProviderStatus {
    match status {
        429 => ProviderStatus::RateLimited,
        400..=499 => ProviderStatus::Rejected,
        200..=299 => ProviderStatus::Ok,
        _ => ProviderStatus::ServerError,
    }
}

/// Sorts a failed send: a user who cannot be reached ends the job, anything
/// else may pass.
pub fn delivery_failure(err: teloxide::RequestError, what: &'static str) -> Failure {
    use teloxide::{ApiError, RequestError};
    match &err {
        RequestError::Api(
            ApiError::BotBlocked
            | ApiError::UserDeactivated
            | ApiError::ChatNotFound
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::CantInitiateConversation,
        ) => Failure::RecipientGone(format!("{what}: {err}")),
        _ => Failure::Transient(anyhow::Error::new(err).context(what)),
    }
}

/// A kind of job the runner can run.
pub trait Runnable: Send + Sync {
    /// Stable name, for spans and logs.
    const NAME: &'static str;

    /// The shared services and policy.
    fn common(&self) -> &Common;

    /// One attempt: everything from the input to the delivered result. Every
    /// effect must be keyed by the job id, because an attempt can be cut off
    /// anywhere and run again.
    fn attempt<'a>(&'a self, job: &'a Job) -> impl Future<Output = Result<(), Failure>> + Send + 'a;

    /// The error code and the user's notice for a job whose attempts ran out.
    fn exhausted(&self, job: &Job) -> (&'static str, Text);

    /// Tidies up after the job ended without a result (e.g. deletes its status message).
    fn after_failure<'a>(&'a self, _job: &'a Job) -> impl Future<Output = ()> + Send + 'a {
        async {}
    }
}

/// What one call of [`run_once`] ended with.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered and charged.
    Done,
    /// Nothing to do: a duplicate delivery of a finished or running job.
    AlreadyFinished,
    /// The attempt failed and the job waits out its backoff; the sweeper pushes it again.
    Deferred,
    /// Handed back unfinished because the worker is shutting down.
    HandedBack,
    /// Ended for good without a result; the user was told.
    GaveUp,
}

/// The queue handler of every kind: runs one attempt and never asks the
/// queue to retry (the runner owns retries); only an error of our own
/// (the database unreachable while claiming) goes back to the queue.
///
/// The attempt runs as a task of its own, tracked for shutdown: a queue
/// worker that fails mid-way (Redis lost) drops only this handler, and the
/// attempt still finishes and ends its lease.
pub async fn handle<K: Runnable + 'static>(
    kind: std::sync::Arc<K>,
    job_id: JobId,
) -> Result<(), BoxDynError> {
    let attempts = kind.common().attempts.clone();
    if attempts.is_closed() {
        // Shutting down: leave the job to the next worker.
        return Ok(());
    }
    let span = tracing::info_span!("job", kind = K::NAME, %job_id);
    let attempt = attempts.spawn(async move { run_once(&*kind, job_id).await }.instrument(span));
    attempt.await?.map(drop).map_err(Into::into)
}

/// Claims `job_id` and runs one attempt of it.
///
/// # Errors
/// Only when the job's own row cannot be read or written.
pub async fn run_once<K: Runnable>(kind: &K, job_id: JobId) -> anyhow::Result<Outcome> {
    let common = kind.common();
    let policy = common.policy;
    let (job, attempt) = match jobs::claim(&common.db, job_id, policy.max_attempts, policy.lease).await? {
        Claim::Finished(_) | Claim::Busy => return Ok(Outcome::AlreadyFinished),
        Claim::Exhausted(job) => {
            let (code, notice) = kind.exhausted(&job);
            end(kind, &job, code, Some(notice)).await?;
            return Ok(Outcome::GaveUp);
        }
        Claim::Run { job, attempt } => (job, attempt),
    };
    let live = metrics::live();
    // The wait in the queue ends at the first claim; later attempts waited out a backoff.
    let waited = (attempt == 1)
        .then(|| job.started_at.map(|started| (started - job.created_at).to_std().unwrap_or_default()))
        .flatten();
    live.job_started(job.kind, waited);
    let started = std::time::Instant::now();
    let result = tokio::select! {
        result = leased(&common.db, job_id, policy.lease, kind.attempt(&job)) => Some(result),
        () = common.shutdown.cancelled() => None,
    };
    live.job_attempted(job.kind, started.elapsed());
    match result {
        None => {
            // The attempt was dropped mid-way; every effect so far is keyed by the job id,
            // so whoever takes it next resumes where it stopped.
            jobs::release_lease(&common.db, job_id).await?;
            tracing::info!(%job_id, "handed back unfinished at shutdown");
            live.job_handed_back(job.kind);
            Ok(Outcome::HandedBack)
        }
        Some(Ok(())) => {
            live.job_finished(job.kind, JobOutcome::Succeeded);
            Ok(Outcome::Done)
        }
        Some(Err(Failure::Permanent { code, notice, detail })) => {
            tracing::warn!(%job_id, code, %detail, "job failed permanently");
            end(kind, &job, code, Some(notice)).await?;
            Ok(Outcome::GaveUp)
        }
        Some(Err(Failure::RecipientGone(detail))) => {
            tracing::warn!(%job_id, %detail, "the user cannot be reached; the job ends");
            shared::people::users::mark_unreachable(&common.db, job.user_id).await?;
            end(kind, &job, "recipient_gone", None).await?;
            Ok(Outcome::GaveUp)
        }
        Some(Err(Failure::Transient(err))) if attempt >= policy.max_attempts => {
            tracing::error!(%job_id, attempt, error = format!("{err:#}"), "last attempt failed");
            let (code, notice) = kind.exhausted(&job);
            end(kind, &job, code, Some(notice)).await?;
            Ok(Outcome::GaveUp)
        }
        Some(Err(Failure::Transient(err))) => {
            let delay = jobs::retry_delay(policy.retry_backoff, attempt, job_id);
            tracing::warn!(%job_id, attempt, ?delay, error = format!("{err:#}"), "attempt failed; will retry");
            jobs::defer(&common.db, job_id, delay).await?;
            live.job_retried(job.kind);
            Ok(Outcome::Deferred)
        }
    }
}

/// Runs `work` while renewing the job's lease every third of it; the
/// renewals stop with the work, whether it finishes or is dropped.
async fn leased<T>(
    db: &DatabaseConnection,
    job_id: JobId,
    lease: Duration,
    work: impl Future<Output = T>,
) -> T {
    let renew = async {
        loop {
            tokio::time::sleep(lease / 3).await;
            if let Err(err) = jobs::renew_lease(db, job_id, lease).await {
                tracing::warn!(%job_id, error = %err, "could not renew the job lease");
            }
        }
    };
    tokio::select! {
        done = work => done,
        never = renew => never,
    }
}

/// Ends the job without a result, once, and tells the user `notice`. A job
/// already charged ends undeliverable instead: the charge stands, the result
/// stays stored for /history, and the "not charged" notice is not sent.
async fn end<K: Runnable>(
    kind: &K,
    job: &Job,
    code: &'static str,
    notice: Option<Text>,
) -> anyhow::Result<()> {
    let common = kind.common();
    let notice = match jobs::fail(&common.db, &common.ledger, job.id, code).await? {
        Ending::AlreadyFinal => return Ok(()),
        Ending::Undeliverable => {
            tracing::warn!(job_id = %job.id, code, "charged but not delivered; the result stays stored");
            metrics::live().job_finished(job.kind, JobOutcome::Undeliverable);
            None
        }
        Ending::Failed => {
            metrics::live().job_finished(job.kind, JobOutcome::Failed);
            notice
        }
    };
    if let Some(notice) = notice {
        let lang = user_lang(&common.db, job).await;
        let chat = teloxide::types::ChatId::from(job.chat_id);
        // A group sees the job's outcome, not the owner's balance.
        let notice = if chat.is_user() { notice } else { notice.for_group() };
        if let Err(err) =
            shared::telegram::send(&common.bot, chat, &shared::telegram::Outgoing::Text(notice.render(lang)))
                .await
        {
            tracing::warn!(job_id = %job.id, error = %err, "could not tell the user why the job ended");
        }
    }
    kind.after_failure(job).await;
    Ok(())
}

/// The job owner's language (the default when the row cannot be read).
pub async fn user_lang(db: &DatabaseConnection, job: &Job) -> Lang {
    users::Entity::find_by_id(job.user_id)
        .one(db)
        .await
        .ok()
        .flatten()
        .map(|u| u.language)
        .unwrap_or_default()
}
