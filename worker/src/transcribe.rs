//! The `transcribe` job: Telegram file in, transcript out, charged once.
//!
//! Every step is keyed by the job id so a redelivered or orphaned job resumes
//! or does nothing: the original and the transcript files have fixed keys,
//! the transcript row and the capture happen once, and the delivered message
//! ids are recorded before the job is marked succeeded.

use shared::telegram::Counted as _;
use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context;
use apalis::prelude::{BoxDynError, Data};
use async_openai::{
    Client,
    config::OpenAIConfig,
    error::OpenAIError,
    types::audio::{AudioInput, AudioResponseFormat, CreateTranscriptionRequestArgs},
};
use bytes::Bytes;
use futures::{StreamExt, stream};
use shared::ids::JobId;
use shared::platform::metrics::Provider;
use shared::{
    billing::money::Credits,
    billing::pricing::Work,
    entities::{jobs::Model as Job, media_objects::MediaKind},
    jobs,
    jobs::queue::TranscribeTask,
    media::transcripts::{self, StoredTranscript},
    telegram::{self, TranscriptDelivery},
    texts::i18n::{FailureReason, Lang, Text, minutes_seconds},
};
use storage::{ObjectKey, ObjectName, ObjectStore};
use teloxide::{net::Download, prelude::Requester, types::MessageId};
use tokio::{io::AsyncWriteExt, sync::Semaphore};

mod progress;

pub use progress::Pace;

pub use crate::runner::Outcome;
use crate::runner::{self, Common, Failure, Runnable, transient};

/// Status edits are throttled to one per this interval.
const STATUS_EVERY: Duration = Duration::from_secs(3);

/// Longest a result waits for its status message (the chat's pacing holds it at most a
/// second or so); past it the bot removes the late status message instead.
const STATUS_GRACE: Duration = Duration::from_secs(3);

/// Longest a copy of the original may take (download, storage, read back): 2000 MB at
/// 10 Mbit/s takes about 27 minutes.
const TRANSFER_LIMIT: Duration = Duration::from_secs(30 * 60);

/// What the transcribe job needs.
pub struct TranscribeContext {
    /// Database, ledger, Telegram and the attempt policy.
    pub common: Common,
    /// Object storage.
    pub store: ObjectStore,
    /// The speech-to-text client.
    pub stt: Client<OpenAIConfig>,
    /// STT model name.
    pub stt_model: String,
    /// Longest wait for the provider's answer about one chunk.
    pub stt_timeout: Duration,
    /// Largest file the Bot API lets us download.
    pub max_download_bytes: u64,
    /// `Some` when the Bot API server is a local one (`--local`) sharing its files with us.
    pub local_files: Option<shared::telegram::LocalFiles>,
    /// Transcripts longer than this many characters come as files rather than messages.
    pub file_after_chars: usize,
    /// Chunking of the audio pipeline (`budget` is set per job).
    pub chunking: audio::ChunkingConfig,
    /// Where recordings are measured and cut.
    pub audio: crate::sandbox::AudioSandbox,
    /// Chunks in flight per job: a long recording is cut into (a multiple of) this many
    /// chunks of even length.
    pub per_job_concurrency: usize,
    /// One chunk at a time, each with the end of the previous chunk's text as
    /// its `prompt`: slower, but names and sentences carry across the cuts.
    pub sequential: bool,
    /// Chunks in flight in this process, all jobs together.
    pub process_permits: Arc<Semaphore>,
    /// How fast the provider has been answering, for the time-left estimate.
    pub pace: Pace,
}

fn failure_code(reason: FailureReason) -> &'static str {
    match reason {
        FailureReason::Corrupt => "corrupt",
        FailureReason::Unsupported => "unsupported_format",
        FailureReason::NoAudio => "no_audio",
        FailureReason::TooLong => "too_long",
        FailureReason::TooBig => "too_big",
        FailureReason::ProviderUnavailable => "provider_unavailable",
        FailureReason::NotEnoughCredit => "not_enough_credit",
        FailureReason::Internal => "internal",
    }
}

/// A failure retrying cannot help, told to the user as `reason`.
fn permanent(reason: FailureReason, detail: impl Into<String>) -> Failure {
    Failure::Permanent {
        code: failure_code(reason),
        notice: Text::TranscriptionFailed { reason },
        detail: detail.into(),
    }
}

impl Runnable for TranscribeContext {
    const NAME: &'static str = "transcribe";

    fn common(&self) -> &Common {
        &self.common
    }

    fn attempt<'a>(&'a self, job: &'a Job) -> impl Future<Output = Result<(), Failure>> + Send + 'a {
        transcribe(self, job)
    }

    fn exhausted(&self, _job: &Job) -> (&'static str, Text) {
        let reason = FailureReason::ProviderUnavailable;
        (failure_code(reason), Text::TranscriptionFailed { reason })
    }
}

/// The queue handler.
pub async fn handle(task: TranscribeTask, ctx: Data<Arc<TranscribeContext>>) -> Result<(), BoxDynError> {
    runner::handle(Arc::clone(&ctx), task.job_id).await
}

/// Claims and runs one attempt of `job_id` (see [`runner::run_once`]).
///
/// # Errors
/// Only when the job's row cannot be read or written.
pub async fn run_once(ctx: &TranscribeContext, job_id: JobId) -> anyhow::Result<Outcome> {
    runner::run_once(ctx, job_id).await
}

fn key(job: &Job, name: &str) -> Result<ObjectKey, Failure> {
    let name = ObjectName::parse(name).map_err(|e| transient(anyhow::anyhow!(e)))?;
    Ok(ObjectKey::new(job.user_id.0, job.id.0, &name))
}

/// Edits the status message, at most once per [`STATUS_EVERY`].
struct Status<'a> {
    ctx: &'a TranscribeContext,
    job: &'a Job,
    lang: Lang,
    /// The message, once the bot has sent it: the job is queued before its status message
    /// is sent, so a worker can start before it exists.
    message: Option<MessageId>,
    last: Option<tokio::time::Instant>,
    /// Credits held for the job, shown under every status.
    price: Credits,
}

impl Status<'_> {
    /// Shows `text` with the price held under it.
    async fn show(&mut self, text: Text, force: bool) {
        self.show_lines(&[text], force).await;
    }

    /// Shows the minutes done and the time left.
    async fn progress(&mut self, board: &progress::Board<'_>, force: bool) {
        let now = board.snapshot();
        let mut lines = vec![Text::Transcribing { done: now.done_minutes, total: now.total_minutes }];
        lines.extend(now.seconds_left.map(|seconds| Text::TimeLeft { seconds }));
        self.show_lines(&lines, force).await;
    }

    async fn show_lines(&mut self, lines: &[Text], force: bool) {
        if !force && self.last.is_some_and(|last| last.elapsed() < STATUS_EVERY) {
            return;
        }
        self.last = Some(tokio::time::Instant::now());
        let held = Text::HeldPrice { price: self.price.amount() };
        let shown: Vec<String> = lines.iter().chain([&held]).map(|line| line.render(self.lang)).collect();
        self.edit(shown.join("\n")).await;
    }

    /// The last word of the status message: how long the recording was and how long it took.
    async fn finish(&mut self, duration: String) {
        let took = chrono::Utc::now().signed_duration_since(self.job.created_at).num_seconds();
        let took = u32::try_from(took.max(0)).unwrap_or(u32::MAX);
        self.edit(Text::TranscribedIn { duration, took }.render(self.lang)).await;
    }

    /// The status message's id, once the bot has recorded it.
    async fn look_up(&mut self) -> Option<MessageId> {
        if self.message.is_none() {
            // Not there yet, or never (a job the bot did not announce): a status is cosmetic.
            self.message =
                jobs::status_message(&self.ctx.common.db, self.job.id).await.ok().flatten().map(MessageId);
        }
        self.message
    }

    /// Waits a moment for a status message not sent yet (the bot queues the job first), so
    /// that the result comes after it in the chat rather than before.
    async fn settle(&mut self) {
        let deadline = tokio::time::Instant::now() + STATUS_GRACE;
        while self.look_up().await.is_none() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn edit(&mut self, shown: String) {
        let Some(message) = self.look_up().await else { return };
        // A failed edit (message deleted, not modified) is cosmetic.
        let _ = self.ctx.common.bot.edit_message_text(self.job.chat_id, message, shown).counted().await;
    }
}

async fn transcribe(ctx: &TranscribeContext, job: &Job) -> Result<(), Failure> {
    let input = jobs::transcription_input(job).map_err(transient)?;
    let lang = runner::user_lang(&ctx.common.db, job).await;
    let price = Credits::new(job.price_quoted).unwrap_or(Credits::ZERO);
    let message = job.status_message_id.map(MessageId);
    let mut status = Status { ctx, job, lang, message, last: None, price };

    // 1. The original, kept in storage so a retry does not download again. On this machine it
    //    is the attempt's temporary file, never held in memory whatever its size.
    let original_key = key(job, "original")?;
    let mime = input.mime_type.as_deref().unwrap_or("application/octet-stream");
    let (original, downloaded) = if ctx.store.exists(&original_key).await.map_err(transient)? {
        (fetch_stored(ctx, &original_key).await?, false)
    } else if input.source == shared::jobs::MediaSource::Upload {
        return Err(permanent(FailureReason::Internal, "the uploaded original is gone from storage"));
    } else {
        status.show(Text::Downloading, true).await;
        (download(ctx, &input.file_id).await?, true)
    };
    // Stored while it is measured: the upload no longer delays the first chunk.
    let keep_original = async {
        if !downloaded {
            return Ok(());
        }
        let mut reader = tokio::fs::File::open(&original.path).await.map_err(transient)?;
        runner::bounded(
            TRANSFER_LIMIT,
            "object storage",
            ctx.store.put_reader(&original_key, &mut reader, mime),
        )
        .await?
        .map_err(transient)?;
        transcripts::record_media(
            &ctx.common.db,
            job.user_id,
            job.id,
            original_key.as_str(),
            MediaKind::AudioOriginal,
            mime,
            usize::try_from(original.len).unwrap_or(usize::MAX),
        )
        .await
        .map_err(transient)
    };

    // 2. Measure without decoding, and make the hold cover what is really there before any
    //    decoding or provider call: headers and Telegram's whole seconds are not trusted.
    //    Whatever has to be decoded stops at what the user can pay for.
    let budget = ctx.common.ledger.transcription_budget(&ctx.common.db, job.id).await.map_err(transient)?;
    let chunking = audio::ChunkingConfig {
        budget: Some(Duration::from_secs(u64::from(budget))),
        // Prompted one after another, chunks gain nothing from being many.
        lanes: if ctx.sequential { 1 } else { ctx.per_job_concurrency.max(1) },
        ..ctx.chunking.clone()
    };
    tracing::debug!(job_id = %job.id, bytes = original.len, "original on this machine");
    let (kept, probed) = tokio::join!(keep_original, ctx.audio.probe(&original.path, &chunking));
    kept?;
    tracing::debug!(job_id = %job.id, "original stored and measured");
    let probed = within_budget(ctx, job, lang, probed).await?;
    report_disagreement(job.id, "the file's headers", probed.declared, probed.duration);
    if input.source.has_telegram_duration() {
        let telegram = Duration::from_secs(u64::from(input.duration_hint_s));
        report_disagreement(job.id, "Telegram's duration", Some(telegram), probed.duration);
    }
    cover(ctx, job, lang, probed.duration).await?;
    status.price = hold_amount(ctx, job.id).await?;

    // 3. Decode and cut. Decoding can find more than the packets claimed (MP4 and Matroska
    //    tables can lie): that is covered too, before the provider hears a second of it.
    let prepared = within_budget(ctx, job, lang, ctx.audio.prepare(&original.path, &chunking).await).await?;
    // The chunks are all that is needed from here on: the disk space goes back at once.
    drop(original);
    if prepared.summary.duration > probed.duration {
        report_disagreement(job.id, "the packet walk", Some(probed.duration), prepared.summary.duration);
        cover(ctx, job, lang, prepared.summary.duration).await?;
        status.price = hold_amount(ctx, job.id).await?;
    }
    let total = prepared.chunks.len();
    tracing::debug!(job_id = %job.id, chunks = total, "cut");
    let lanes = if ctx.sequential { 1 } else { ctx.per_job_concurrency.max(1) };
    let board = progress::Board::new(
        &ctx.pace,
        lanes,
        prepared.summary.duration.as_secs_f64(),
        prepared.chunks.iter().map(|c| c.timing.end - c.timing.start),
    );
    status.progress(&board, true).await;

    // 3. Chunks to the provider, bounded per job and per process, results in order; the
    //    status shows the minutes done and the time left every few seconds.
    let timings: Vec<audio::ChunkTiming> = prepared.chunks.iter().map(|c| c.timing.clone()).collect();
    let mut results: Vec<(audio::ChunkTranscript, Option<String>)> = Vec::with_capacity(total);
    // The language the user chose, or the provider's detection.
    let spoken = shared::people::settings::transcription_language(&ctx.common.db, job.user_id)
        .await
        .map_err(transient)?;
    let spoken = spoken.code();
    let mut ticker = tokio::time::interval(STATUS_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.reset();
    if ctx.sequential {
        for chunk in prepared.chunks {
            let prompt =
                results.last().map(|(previous, _)| audio::prompt_tail(&previous.text, 200).to_owned());
            let answer = transcribe_chunk(ctx, job, &board, chunk, spoken, prompt);
            tokio::pin!(answer);
            let answer = loop {
                tokio::select! {
                    answer = &mut answer => break answer?,
                    _ = ticker.tick() => status.progress(&board, false).await,
                }
            };
            results.push(answer);
        }
    } else {
        let mut pending = stream::iter(
            prepared.chunks.into_iter().map(|chunk| transcribe_chunk(ctx, job, &board, chunk, spoken, None)),
        )
        .buffered(lanes);
        loop {
            tokio::select! {
                next = pending.next() => match next {
                    Some(result) => results.push(result?),
                    None => break,
                },
                _ = ticker.tick() => status.progress(&board, false).await,
            }
        }
    }
    let language = results.iter().find_map(|(_, language)| language.clone());
    let results: Vec<audio::ChunkTranscript> = results.into_iter().map(|(r, _)| r).collect();
    let transcript = audio::stitch(&timings, &results);
    tracing::debug!(job_id = %job.id, "every chunk answered");

    // 4. Store the files and record the transcript (once per job).
    let (txt, srt, vtt) = (transcript.to_txt(), transcript.to_srt(), transcript.to_vtt());
    let mut keys = Vec::new();
    for (name, body, kind, mime) in [
        ("transcript.txt", &txt, MediaKind::TranscriptTxt, "text/plain; charset=utf-8"),
        ("transcript.srt", &srt, MediaKind::TranscriptSrt, "application/x-subrip"),
        ("transcript.vtt", &vtt, MediaKind::TranscriptVtt, "text/vtt"),
    ] {
        let object = key(job, name)?;
        ctx.store.put(&object, Bytes::from(body.clone()), mime).await.map_err(transient)?;
        transcripts::record_media(
            &ctx.common.db,
            job.user_id,
            job.id,
            object.as_str(),
            kind,
            mime,
            body.len(),
        )
        .await
        .map_err(transient)?;
        keys.push(object.as_str().to_owned());
    }
    let duration_ms = i64::try_from(prepared.summary.duration.as_millis()).unwrap_or(i64::MAX);
    transcripts::record(
        &ctx.common.db,
        &StoredTranscript {
            job_id: job.id,
            user_id: job.user_id,
            file_unique_id: job.file_unique_id.clone(),
            duration_ms,
            language,
            audio_key: Some(original_key.as_str().to_owned()),
            txt_key: keys[0].clone(),
            srt_key: keys[1].clone(),
            vtt_key: Some(keys[2].clone()),
            metadata: serde_json::json!({
                "model": ctx.stt_model,
                "chunks": total,
                "cuts_s": prepared.summary.cuts,
                "format": prepared.summary.format.name(),
            }),
            text: txt.clone(),
        },
    )
    .await
    .map_err(transient)?;

    // 5. Charge for the measured duration (idempotent).
    let hold = ctx
        .common
        .ledger
        .capture_work(
            &ctx.common.db,
            job.id,
            Work::transcription_of_millis(u64::try_from(duration_ms).unwrap_or(0)),
        )
        .await
        .map_err(transient)?;
    let charged = hold.captured.unwrap_or(shared::billing::money::Credits::ZERO);
    tracing::debug!(job_id = %job.id, %charged, "stored and charged");

    // 6. Deliver once, then mark the job done with the message ids.
    // The seconds it was charged for: a container's 1799.9999 s reads 30:00.
    let seconds = shared::billing::pricing::billable_seconds(u64::try_from(duration_ms).unwrap_or(0));
    status.settle().await;
    let delivered = deliver(ctx, job, lang, &txt, &minutes_seconds(seconds), charged).await?;
    jobs::mark_succeeded(
        &ctx.common.db,
        job.id,
        &serde_json::json!({ "delivered_message_ids": delivered, "txt_key": keys[0], "srt_key": keys[1] }),
        charged.amount(),
    )
    .await
    .map_err(transient)?;
    status.finish(minutes_seconds(seconds)).await;
    tracing::info!(job_id = %job.id, chunks = total, duration_ms, charged = %charged, "transcript delivered");
    Ok(())
}

fn audio_failure(err: crate::sandbox::SandboxError) -> Failure {
    use crate::sandbox::SandboxError;
    let err = match err {
        SandboxError::Audio(err) => err,
        SandboxError::Killed(detail) => return permanent(FailureReason::Corrupt, detail),
        SandboxError::Unavailable(err) => return Failure::Transient(err),
    };
    let reason = match &err {
        audio::AudioError::UnsupportedFormat(_) => FailureReason::Unsupported,
        audio::AudioError::Corrupt(_) => FailureReason::Corrupt,
        audio::AudioError::Empty | audio::AudioError::NoAudioTrack => FailureReason::NoAudio,
        audio::AudioError::TooLong { .. } => FailureReason::TooLong,
        // `within_budget` handles `OverBudget`; reaching here is our bug.
        audio::AudioError::Encode(_) | audio::AudioError::OverBudget { .. } => {
            return Failure::Transient(anyhow::anyhow!(err));
        }
    };
    permanent(reason, err.to_string())
}

/// Passes a sandbox result on, turning "decoding went past the budget" into
/// the user's shortfall (or a retry, should a top-up have arrived meanwhile).
async fn within_budget<T>(
    ctx: &TranscribeContext,
    job: &Job,
    lang: Lang,
    result: Result<T, crate::sandbox::SandboxError>,
) -> Result<T, Failure> {
    match result {
        Err(crate::sandbox::SandboxError::Audio(audio::AudioError::OverBudget { at_least, .. })) => {
            cover(ctx, job, lang, at_least).await?;
            Err(Failure::Transient(anyhow::anyhow!(
                "the balance now covers at least {at_least:?}; trying again"
            )))
        }
        other => other.map_err(audio_failure),
    }
}

/// Logs a claimed length that disagrees with the measured one by more than
/// a second or 1 %: the measured one is billed either way.
fn report_disagreement(job_id: JobId, source: &str, claimed: Option<Duration>, measured: Duration) {
    let Some(claimed) = claimed else { return };
    let gap = claimed.abs_diff(measured);
    if gap > Duration::from_secs(1).max(measured / 100) {
        tracing::warn!(
            %job_id,
            claimed_s = claimed.as_secs_f64(),
            measured_s = measured.as_secs_f64(),
            "{source} disagree with the audio present; billing the audio present"
        );
    }
}

/// Makes the job's hold cover `duration` of audio, free seconds left counted
/// first, and tells the user once when the price went up; when the balance
/// does not cover it, fails for good telling the user the length, the price
/// and their balance.
async fn cover(ctx: &TranscribeContext, job: &Job, lang: Lang, duration: Duration) -> Result<(), Failure> {
    let measured = Work::transcription_of_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX));
    let Work::Transcription { seconds } = measured else { return Ok(()) };
    match ctx.common.ledger.raise_hold(&ctx.common.db, job.id, measured).await {
        Ok(hold) if hold.amount.amount() > job.price_quoted => {
            let quoted = jobs::raise_quote(&ctx.common.db, job.id, job.price_quoted, hold.amount.amount())
                .await
                .map_err(transient)?;
            // A rise within a credit is rounding, not news: the footer states the charge.
            if quoted && hold.amount.amount() - job.price_quoted >= Credits::whole(1).amount() {
                let text =
                    Text::PriceRaised { duration: minutes_seconds(seconds), price: hold.amount.amount() };
                // Telling is courtesy; the footer states the charge anyway.
                let _ = ctx.common.bot.send_message(job.chat_id, text.render(lang)).counted().await;
            }
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(shared::billing::ledger::LedgerError::InsufficientFunds { needed, available }) => {
            // What this job already holds is the user's money too: show it as balance.
            let held = hold_amount(ctx, job.id).await?;
            let price = Credits::new(held.amount() + needed.amount()).unwrap_or(needed);
            let balance = Credits::new(held.amount() + available.amount()).unwrap_or(available);
            tracing::info!(job_id = %job.id, seconds, %price, %balance, "the measured recording is not covered");
            Err(Failure::Permanent {
                code: failure_code(FailureReason::NotEnoughCredit),
                notice: Text::TranscriptionUnaffordable {
                    duration: minutes_seconds(seconds),
                    price: price.amount(),
                    available: balance.amount(),
                },
                detail: format!("{seconds} s cost {price}, {balance} available"),
            })
        }
        Err(err) => Err(Failure::Transient(err.into())),
    }
}

/// Credits currently held for `job_id`.
async fn hold_amount(ctx: &TranscribeContext, job_id: JobId) -> Result<Credits, Failure> {
    ctx.common.ledger.hold_of(&ctx.common.db, job_id).await.map(|hold| hold.amount).map_err(transient)
}

/// The recording on this machine during one attempt: a temporary file, removed when this is
/// dropped (at the latest when the attempt ends, however it ends).
struct Original {
    path: tempfile::TempPath,
    len: u64,
}

/// A new, empty temporary file for the original.
fn scratch_file() -> Result<(tokio::fs::File, tempfile::TempPath), Failure> {
    // The process id in the name tells whose leftovers a crashed worker's are.
    let file = tempfile::Builder::new()
        .prefix(&format!("tgbot-original-{}-", std::process::id()))
        .tempfile()
        .context("creating a temporary file for the recording")
        .map_err(transient)?;
    let (file, path) = file.into_parts();
    Ok((tokio::fs::File::from_std(file), path))
}

/// Removes the temporary recordings and chunks of worker processes that are gone (killed
/// mid-attempt: their files outlived them). A file's name carries its process's id.
pub fn remove_leftovers(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("tgbot-original-").or_else(|| name.strip_prefix("tgbot-chunk-"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|pid| pid.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(file = %entry.path().display(), "removed a dead worker's temporary file")
                }
                Err(err) => {
                    tracing::warn!(file = %entry.path().display(), error = %err, "could not remove a dead worker's temporary file")
                }
            }
        }
    }
}

/// The original kept in storage by an earlier attempt (or the Mini App's upload), streamed to a
/// temporary file.
async fn fetch_stored(ctx: &TranscribeContext, original_key: &ObjectKey) -> Result<Original, Failure> {
    let (mut file, path) = scratch_file()?;
    let copy = async {
        let mut body = ctx.store.get_stream(original_key).await?;
        let len = tokio::io::copy_buf(&mut body, &mut file).await?;
        file.flush().await?;
        anyhow::Ok(len)
    };
    let len = runner::bounded(TRANSFER_LIMIT, "object storage", copy)
        .await?
        .context("reading the stored original")
        .map_err(transient)?;
    Ok(Original { path, len })
}

/// The user's file from the Bot API, streamed to a temporary file: over HTTP from a Bot API
/// server, or, from a local one (`--local`), copied from the directory it shares with us.
async fn download(ctx: &TranscribeContext, file_id: &str) -> Result<Original, Failure> {
    let file = ctx.common.bot.get_file(teloxide::types::FileId(file_id.to_owned())).counted().await.map_err(
        |err| {
            if err.to_string().contains("file is too big") {
                permanent(FailureReason::TooBig, err.to_string())
            } else {
                Failure::Transient(anyhow::anyhow!(err).context("getFile failed"))
            }
        },
    )?;
    if u64::from(file.size) > ctx.max_download_bytes {
        return Err(permanent(FailureReason::TooBig, format!("{} bytes", file.size)));
    }
    let too_big = |len: u64| permanent(FailureReason::TooBig, format!("{len} bytes, more than getFile said"));
    let (mut out, path) = scratch_file()?;
    let len = if std::path::Path::new(&file.path).is_absolute() {
        let source = local_file(ctx, &file.path).await?;
        let len = tokio::fs::metadata(&source).await.map_err(transient)?.len();
        if len > ctx.max_download_bytes {
            return Err(too_big(len));
        }
        drop(out);
        // A kernel-side copy: the bytes never pass through this process's memory.
        runner::bounded(TRANSFER_LIMIT, "the local Bot API server's volume", tokio::fs::copy(&source, &path))
            .await?
            .with_context(|| format!("copying {}", source.display()))
            .map_err(transient)?
    } else {
        let copy = async {
            let mut body = ctx.common.bot.download_file_stream(&file.path);
            let mut written = 0u64;
            while let Some(piece) = body.next().await {
                let piece = piece.context("download failed").map_err(transient)?;
                written += piece.len() as u64;
                if written > ctx.max_download_bytes {
                    return Err(too_big(written));
                }
                out.write_all(&piece).await.context("writing the download").map_err(transient)?;
            }
            out.flush().await.context("writing the download").map_err(transient)?;
            Ok(written)
        };
        runner::bounded(TRANSFER_LIMIT, "the Bot API file download", copy).await??
    };
    Ok(Original { path, len })
}

/// Where a local Bot API server's absolute `file_path` really is, refusing anything outside
/// the shared directory (a forged or misrouted path must not read the worker's own files).
async fn local_file(ctx: &TranscribeContext, file_path: &str) -> Result<std::path::PathBuf, Failure> {
    use shared::telegram::LocalFileError;
    let Some(local) = &ctx.local_files else {
        return Err(permanent(
            FailureReason::Internal,
            format!(
                "the Bot API server answered the absolute path {file_path:?}: it runs with --local, \
                 so set TELEGRAM_API_LOCAL=true and share its directory with the workers"
            ),
        ));
    };
    match local.resolve(file_path).await {
        Ok(path) => Ok(path),
        Err(err @ (LocalFileError::Outside { .. } | LocalFileError::NotAbsolute(_))) => {
            tracing::error!(error = %err, dir = %local.dir().display(), "refused a file path from the Bot API server");
            Err(Failure::Permanent {
                code: "refused_file_path",
                notice: Text::TranscriptionFailed { reason: FailureReason::Internal },
                detail: err.to_string(),
            })
        }
        // Missing or not readable yet: a volume being mounted, or permissions to fix.
        Err(err) => Err(Failure::Transient(anyhow::anyhow!(err))),
    }
}

/// A chunk's transcript as stored the moment it arrives, so a later attempt
/// of the job never pays the provider for that chunk again.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredChunk {
    /// SHA-256 of the chunk's bytes: a stored answer is reused only for the same audio.
    sha256: String,
    transcript: audio::ChunkTranscript,
    language: Option<String>,
}

async fn transcribe_chunk(
    ctx: &TranscribeContext,
    job: &Job,
    board: &progress::Board<'_>,
    chunk: audio::Chunk,
    spoken: Option<&str>,
    prompt: Option<String>,
) -> Result<(audio::ChunkTranscript, Option<String>), Failure> {
    use sha2::Digest;
    let stored_key = key(job, &format!("stt-{}.json", chunk.index))?;
    let sha256 = hex::encode(sha2::Sha256::digest(&chunk.bytes));
    if ctx.store.exists(&stored_key).await.map_err(transient)? {
        let bytes = ctx.store.get(&stored_key).await.map_err(transient)?;
        match serde_json::from_slice::<StoredChunk>(&bytes) {
            Ok(stored) if stored.sha256 == sha256 => {
                board.done(chunk.index);
                return Ok((stored.transcript, stored.language));
            }
            _ => {
                tracing::warn!(job_id = %job.id, chunk = chunk.index, "a stored chunk answer for other audio; asking again")
            }
        }
    }
    let _permit = ctx.process_permits.acquire().await.map_err(transient)?;
    board.sent(chunk.index);
    let name = format!("{}-{}.{}", job.id, chunk.index, chunk.encoding.extension());
    let mut request = CreateTranscriptionRequestArgs::default();
    request
        .file(AudioInput::from_bytes(name, chunk.bytes.clone()))
        .model(ctx.stt_model.clone())
        .response_format(AudioResponseFormat::VerboseJson);
    if let Some(prompt) = prompt.filter(|p| !p.is_empty()) {
        request.prompt(prompt);
    }
    if let Some(spoken) = spoken {
        request.language(spoken);
    }
    let request = request.build().map_err(transient)?;
    jobs::count_provider_call(&ctx.common.db, job.id).await.map_err(transient)?;
    // One request: the client does not retry; a failed call fails this attempt, and the
    // runner's backoff decides when the next one runs (chunks answered so far are kept).
    let response = runner::provider_request(
        Provider::Stt,
        ctx.stt_timeout,
        "the STT provider",
        ctx.stt.audio().transcription().create_verbose_json_byot::<_, SttAnswer>(request),
    )
    .await?
    .map_err(stt_failure)?;
    let segments = response
        .segments
        .unwrap_or_default()
        .into_iter()
        .map(|s| audio::Segment { start: s.start, end: s.end, text: s.text })
        .collect();
    let language = response.language.as_deref().and_then(shared::media::languages::code_of);
    let transcript = audio::ChunkTranscript { text: response.text, segments };
    let stored = StoredChunk { sha256, transcript, language };
    let body = serde_json::to_vec(&stored).map_err(transient)?;
    ctx.store.put(&stored_key, Bytes::from(body), "application/json").await.map_err(transient)?;
    board.done(chunk.index);
    Ok((stored.transcript, stored.language))
}

/// What an OpenAI-compatible server answers in `verbose_json`. Only `text`
/// is required: several compatible servers leave out `usage`, `duration` or
/// `language`, and an answer we paid for is not thrown away over them.
#[derive(serde::Deserialize)]
struct SttAnswer {
    text: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    segments: Option<Vec<SttSegment>>,
}

/// One timed stretch of an answer.
#[derive(serde::Deserialize)]
struct SttSegment {
    start: f64,
    end: f64,
    text: String,
}

fn stt_failure(err: OpenAIError) -> Failure {
    match &err {
        OpenAIError::ApiError(api) => {
            let code = api.api_error.code.as_deref().unwrap_or_default();
            let status = api.status_code.as_u16();
            if code == "insufficient_quota" || (400..500).contains(&status) && status != 408 && status != 429
            {
                permanent(FailureReason::ProviderUnavailable, err.to_string())
            } else {
                Failure::Transient(anyhow::anyhow!(err))
            }
        }
        _ => Failure::Transient(anyhow::anyhow!(err)),
    }
}

/// Sends the transcript (messages, or a file when long) with its footer, and
/// returns the message ids. Each sent message is recorded at once: a retry
/// after a crash sends only what had not gone out yet.
async fn deliver(
    ctx: &TranscribeContext,
    job: &Job,
    lang: Lang,
    txt: &str,
    duration: &str,
    charged: Credits,
) -> Result<Vec<i32>, Failure> {
    let chat = job.chat_id.into();
    let delivery = TranscriptDelivery {
        job: job.id,
        txt,
        file_after_chars: ctx.file_after_chars,
        duration,
        charged,
        reply_to: jobs::transcript_reply_target(job).map(MessageId),
    };
    let outgoing = telegram::transcript_messages(&delivery, lang);
    let send_err = |e: teloxide::RequestError| runner::delivery_failure(e, "sending the transcript");
    let mut sent = jobs::delivered_so_far(job);
    for message in outgoing.iter().skip(sent.len()) {
        let id = telegram::send(&ctx.common.bot, chat, message).await.map_err(send_err)?.0;
        jobs::record_delivered(&ctx.common.db, job.id, id).await.map_err(transient)?;
        sent.push(id);
    }
    Ok(sent)
}
