//! The worker process: drains the job queues in Redis.
//!
//! Error policy: each job step returns a `Result`; failures are logged once,
//! with the job id, by the code that decides whether to retry.

pub mod http;
pub mod images;
pub mod maintenance;
pub mod retention;
pub mod runner;
pub mod sandbox;
pub mod summary;
pub mod transcribe;

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use shared::{
    Settings, billing::ledger::Ledger, jobs::queue::JobQueue, payments::yookassa::YooKassa,
    platform::services::Services,
};

/// Attempts per job before it fails for good (apalis's own default is 25).
pub const MAX_ATTEMPTS: u32 = 5;

/// What every job kind of this worker shares, from the settings.
pub fn common(
    settings: &Settings,
    db: sea_orm::DatabaseConnection,
    bot: shared::telegram::Telegram,
) -> runner::Common {
    runner::Common::new(
        db,
        Ledger::new(settings.pricing.clone()),
        bot,
        runner::AttemptPolicy {
            max_attempts: MAX_ATTEMPTS,
            lease: settings.job_lease,
            retry_backoff: settings.retry_backoff,
        },
    )
}

/// The process's Telegram client.
fn telegram(settings: &Settings) -> shared::telegram::Telegram {
    shared::telegram::connect(
        settings.telegram.bot_token.expose(),
        settings.telegram.api_url.clone(),
        settings.telegram.messages_per_second,
    )
}

/// The speech-to-text client from the settings.
///
/// # Errors
/// When the HTTP client cannot be built (no TLS roots).
pub fn stt_client(
    settings: &Settings,
) -> anyhow::Result<async_openai::Client<async_openai::config::OpenAIConfig>> {
    provider_client(&settings.stt, settings.stt_timeout)
}

/// The transcribe job's context from the settings.
///
/// # Errors
/// When the audio sandbox's executable cannot be found.
pub fn transcribe_context(
    settings: &Settings,
    common: runner::Common,
    store: storage::ObjectStore,
) -> anyhow::Result<Arc<transcribe::TranscribeContext>> {
    Ok(Arc::new(transcribe::TranscribeContext {
        common,
        store,
        stt: stt_client(settings)?,
        stt_model: settings.stt.model.clone(),
        stt_timeout: settings.stt_timeout,
        max_download_bytes: settings.telegram.max_download_bytes,
        local_files: settings.telegram.local_files.clone(),
        file_after_chars: settings.transcript_file_after_chars,
        chunking: audio::ChunkingConfig {
            max_duration: Duration::from_secs(u64::from(settings.max_audio_minutes) * 60),
            lanes: settings.stt_concurrency.get(),
            min_chunk: settings.stt_min_chunk,
            ..audio::ChunkingConfig::default()
        },
        audio: sandbox::AudioSandbox::new(&settings.audio_sandbox)?,
        per_job_concurrency: settings.stt_concurrency.get(),
        sequential: settings.stt_sequential,
        process_permits: Arc::new(tokio::sync::Semaphore::new(settings.stt_concurrency.get())),
        pace: transcribe::Pace::default(),
    }))
}

/// Runs the transcribe worker, restarting it when it stops (apalis does not
/// recover from a lost Redis connection by itself). Each run has a unique
/// name, so workers never hide each other's orphaned jobs.
pub async fn supervise_transcribe(
    queue: JobQueue,
    context: Arc<transcribe::TranscribeContext>,
    concurrency: usize,
) {
    use apalis::prelude::{WorkerBuilder, WorkerBuilderExt};
    loop {
        let name = format!("transcribe-{}", uuid::Uuid::new_v4().simple());
        let worker = WorkerBuilder::new(name.clone())
            .backend(queue.transcribe_consumer().await)
            .data(context.clone())
            .concurrency(concurrency)
            .build(transcribe::handle);
        match worker.run().await {
            Ok(()) => tracing::warn!(worker = %name, "transcribe worker stopped; restarting"),
            Err(err) => tracing::error!(worker = %name, error = %err, "transcribe worker failed; restarting"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// An OpenAI-compatible client for `provider`, each request bounded by
/// `timeout`. It never retries by itself: the job runner owns retries (a
/// failed call fails the attempt, which waits out its backoff), so every
/// request the provider sees is one we counted.
///
/// # Errors
/// When the HTTP client cannot be built (no TLS roots).
pub fn provider_client(
    provider: &shared::media::provider::ProviderSettings,
    timeout: Duration,
) -> anyhow::Result<async_openai::Client<async_openai::config::OpenAIConfig>> {
    openai_client(
        provider.base_url.as_str(),
        provider.api_key.as_ref().map(shared::platform::secret::Secret::expose),
        provider.connect_timeout,
        timeout,
    )
}

/// An OpenAI-compatible client at `base_url` (see [`provider_client`]).
///
/// # Errors
/// When the HTTP client cannot be built (no TLS roots).
pub fn openai_client(
    base_url: &str,
    api_key: Option<&str>,
    connect_timeout: Duration,
    timeout: Duration,
) -> anyhow::Result<async_openai::Client<async_openai::config::OpenAIConfig>> {
    let mut config = async_openai::config::OpenAIConfig::new().with_api_base(base_url.trim_end_matches('/'));
    if let Some(key) = api_key {
        config = config.with_api_key(key);
    }
    let http = reqwest_openai::Client::builder().connect_timeout(connect_timeout).timeout(timeout).build()?;
    Ok(async_openai::Client::with_config(config)
        .with_http_service(async_openai::middleware::ReqwestService::new(http)))
}

/// The image job's context from the settings.
///
/// # Errors
/// When the HTTP client cannot be built (no TLS roots).
pub fn image_context(
    settings: &Settings,
    common: runner::Common,
    store: storage::ObjectStore,
) -> anyhow::Result<Arc<images::ImageContext>> {
    Ok(Arc::new(images::ImageContext {
        common,
        store,
        images: provider_client(&settings.image.provider, settings.images.provider_timeout)?,
        image_model: settings.image.provider.model.clone(),
        image_size: settings.image.size.clone(),
        chat: provider_client(&settings.idea.provider, settings.images.provider_timeout)?,
        chat_model: settings.idea.provider.model.clone(),
        // Pictures the provider links to are fetched within the same limit.
        http: reqwest::Client::builder()
            .timeout(settings.images.provider_timeout)
            .connect_timeout(settings.image.provider.connect_timeout)
            .build()?,
        max_edit_bytes: settings.images.max_edit_bytes,
        provider_timeout: settings.images.provider_timeout,
    }))
}

/// Runs the image worker, restarting it when it stops; see [`supervise_transcribe`].
pub async fn supervise_image(queue: JobQueue, context: Arc<images::ImageContext>, concurrency: usize) {
    use apalis::prelude::{WorkerBuilder, WorkerBuilderExt};
    loop {
        let name = format!("image-{}", uuid::Uuid::new_v4().simple());
        let worker = WorkerBuilder::new(name.clone())
            .backend(queue.image_consumer().await)
            .data(context.clone())
            .concurrency(concurrency)
            .build(images::handle);
        match worker.run().await {
            Ok(()) => tracing::warn!(worker = %name, "image worker stopped; restarting"),
            Err(err) => tracing::error!(worker = %name, error = %err, "image worker failed; restarting"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The summary job's context from the settings.
///
/// # Errors
/// When the HTTP client cannot be built (no TLS roots).
pub fn summary_context(
    settings: &Settings,
    common: runner::Common,
    store: storage::ObjectStore,
) -> anyhow::Result<Arc<summary::SummaryContext>> {
    Ok(Arc::new(summary::SummaryContext {
        common,
        store,
        chat: provider_client(&settings.summary.provider, settings.summary.timeout)?,
        model: settings.summary.provider.model.clone(),
        timeout: settings.summary.timeout,
    }))
}

/// Runs the summary worker, restarting it when it stops; see [`supervise_transcribe`].
pub async fn supervise_summary(queue: JobQueue, context: Arc<summary::SummaryContext>, concurrency: usize) {
    use apalis::prelude::{WorkerBuilder, WorkerBuilderExt};
    loop {
        let name = format!("summary-{}", uuid::Uuid::new_v4().simple());
        let worker = WorkerBuilder::new(name.clone())
            .backend(queue.summary_consumer().await)
            .data(context.clone())
            .concurrency(concurrency)
            .build(summary::handle);
        match worker.run().await {
            Ok(()) => tracing::warn!(worker = %name, "summary worker stopped; restarting"),
            Err(err) => tracing::error!(worker = %name, error = %err, "summary worker failed; restarting"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The maintenance pass's context from the settings.
///
/// # Errors
/// When the YooKassa client cannot be built.
pub fn maintenance_context(
    settings: &Settings,
    services: &Services,
    bot: shared::telegram::Telegram,
) -> anyhow::Result<maintenance::Maintenance> {
    let yookassa = settings
        .yookassa
        .as_ref()
        .map(YooKassa::new)
        .transpose()
        .context("cannot build the YooKassa client")?;
    Ok(maintenance::Maintenance {
        db: services.db.clone(),
        ledger: Ledger::new(settings.pricing.clone()),
        queue: JobQueue::new(services.redis.clone(), &settings.queue_namespace),
        yookassa,
        bot,
        referral_percent: settings.referral_percent,
        store: Some(services.store.clone()),
        retention: Some(images::Retention {
            store: services.store.clone(),
            input_max_age: settings.images.input_retention,
            output_max_age: settings.images.output_retention,
        }),
        media_retention: Some(retention::MediaRetention {
            store: services.store.clone(),
            settings: settings.retention,
        }),
        repush_after: settings.job_repush,
    })
}

/// Runs the worker until SIGTERM or Ctrl-C.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let shutdown = shared::platform::shutdown::Shutdown::install();
    let services = Services::connect(&settings).await?;
    let http_stop = tokio_util::sync::CancellationToken::new();
    let http = match settings.worker_http_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on WORKER_HTTP_ADDR {addr}"))?;
            tracing::info!(addr = %listener.local_addr()?, "worker HTTP server listening (/health, /metrics)");
            Some(tokio::spawn(http::serve(listener, http_stop.clone())))
        }
        None => None,
    };
    // One client, so the whole process keeps to one pace.
    let bot = telegram(&settings);
    let maintenance = tokio::spawn(maintenance::run_forever(
        maintenance_context(&settings, &services, bot.clone())?,
        settings.maintenance_interval,
    ));
    let common = common(&settings, services.db.clone(), bot);
    let context = transcribe_context(&settings, common.clone(), services.store.clone())?;
    transcribe::remove_leftovers(&std::env::temp_dir());
    // Idle consumers wake on every push instead of waiting for their next heartbeat.
    let queue = JobQueue::new(services.redis.clone(), &settings.queue_namespace)
        .listening(&settings.redis_url)
        .context("REDIS_URL is not a valid Redis URL")?;
    let transcribing =
        tokio::spawn(supervise_transcribe(queue.clone(), context, settings.worker_concurrency.get()));
    let drawing = tokio::spawn(supervise_image(
        queue.clone(),
        image_context(&settings, common.clone(), services.store.clone())?,
        settings.worker_concurrency.get(),
    ));
    let summarising = tokio::spawn(supervise_summary(
        queue,
        summary_context(&settings, common.clone(), services.store.clone())?,
        settings.worker_concurrency.get(),
    ));
    tracing::info!(concurrency = settings.worker_concurrency, "worker connected and waiting for jobs");
    shutdown.wait().await;
    // Stop taking jobs, let those in flight finish, hand back the rest.
    transcribing.abort();
    drawing.abort();
    summarising.abort();
    tracing::info!(in_flight = common.attempts.len(), "stopping: finishing the jobs in flight");
    common.wind_down(settings.shutdown_grace).await;
    maintenance.abort();
    http_stop.cancel();
    if let Some(http) = http {
        // Health and metrics answer until the jobs in flight are done.
        let _ = http.await;
    }
    services.db.close().await.context("closing the database pool")?;
    tracing::info!("worker stopped");
    Ok(())
}
