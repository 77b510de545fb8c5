//! Measuring and cutting users' recordings where a hostile file cannot hurt the worker.
//!
//! In the default `process` isolation every probe and every cut runs in a child process: the
//! worker starts its own executable as `worker audio-sandbox`, which limits its own memory
//! (`RLIMIT_DATA`: the input plus `AUDIO_MEMORY_LIMIT_MB`) and CPU time before it reads a byte of
//! the file. A file that makes a decoder panic, abort on an allocation, crash in C code or run
//! forever kills only that child; its job fails with "the file is damaged" and the other jobs on
//! the worker go on. `thread` isolation runs the same code on a blocking thread and catches
//! panics only.
//!
//! The child speaks over its standard streams. Parent to child: one JSON line ([`Request`]), then
//! the input's bytes. Child to parent: JSON lines ([`Reply`]); a chunk's line is followed by the
//! chunk's bytes. The last line is always `Probed`, `Prepared` or `Failed`; a child that exits
//! without one was killed by the file.

use std::{
    io::{BufRead, Read, Write},
    panic::AssertUnwindSafe,
    path::PathBuf,
    process::{ExitCode, Stdio},
    time::Duration,
};

use anyhow::Context;
use audio::{
    AudioError, Bytes, Chunk, ChunkEncoding, ChunkTiming, ChunkingConfig, Prepared, ProbeInfo, Summary,
};
use serde::{Deserialize, Serialize};
use shared::media::transcripts::{AudioIsolation, AudioSandboxSettings};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// The first argument that turns the worker executable into a sandbox child.
pub const SANDBOX_ARG: &str = "audio-sandbox";

/// Longest reply line a parent reads (a summary with thousands of cuts fits easily).
const MAX_REPLY_LINE: u64 = 16 * 1024 * 1024;

/// What the child is asked to do.
#[derive(Debug, Serialize, Deserialize)]
enum Op {
    Probe,
    Prepare,
}

/// The first line a child reads.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    op: Op,
    config: ChunkingConfig,
    /// Bytes of input following the line.
    input_len: u64,
    /// Memory the child may use besides its input.
    memory_limit_bytes: u64,
    /// CPU seconds the child may use.
    cpu_limit_s: u64,
}

/// One line a child writes.
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    /// A chunk, whose `len` bytes follow the line.
    Chunk { index: usize, encoding: ChunkEncoding, timing: ChunkTiming, len: u64 },
    /// The probe's answer (last line).
    Probed(ProbeInfo),
    /// All chunks were written (last line).
    Prepared(Summary),
    /// The file was refused (last line).
    Failed(AudioError),
}

/// Why a sandboxed decoding did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The file was read and refused: the user's to hear about.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The file killed the decoding (crash, memory or time limit); the user's file is at fault.
    #[error("the decoding died on this file: {0}")]
    Killed(String),
    /// The sandbox could not be run at all (our side; worth retrying).
    #[error("the audio sandbox is unavailable: {0:#}")]
    Unavailable(anyhow::Error),
}

/// Runs the audio pipeline in the configured isolation.
#[derive(Debug, Clone)]
pub struct AudioSandbox {
    isolation: AudioIsolation,
    executable: PathBuf,
    memory_limit_bytes: u64,
    cpu_limit: Duration,
}

impl AudioSandbox {
    /// The sandbox of `settings`; the executable defaults to the running one.
    ///
    /// # Errors
    /// When the executable cannot be found.
    pub fn new(settings: &AudioSandboxSettings) -> anyhow::Result<Self> {
        let executable = match &settings.executable {
            Some(path) => path.clone(),
            None => std::env::current_exe().context("cannot locate the worker executable")?,
        };
        if settings.isolation == AudioIsolation::Process && !executable.is_file() {
            anyhow::bail!("the audio sandbox executable {} does not exist", executable.display());
        }
        Ok(Self {
            isolation: settings.isolation,
            executable,
            memory_limit_bytes: settings.memory_limit_bytes,
            cpu_limit: settings.cpu_limit,
        })
    }

    /// Measures a recording without decoding it (see [`audio::probe`]).
    ///
    /// # Errors
    /// See [`SandboxError`].
    pub async fn probe(&self, input: Bytes, config: &ChunkingConfig) -> Result<ProbeInfo, SandboxError> {
        match self.isolation {
            AudioIsolation::Thread => {
                let config = config.clone();
                on_thread(move || audio::probe(&input, &config)).await
            }
            AudioIsolation::Process => match self.in_child(Op::Probe, input, config).await? {
                (Reply::Probed(info), _) => Ok(info),
                (other, _) => Err(unexpected(&other)),
            },
        }
    }

    /// Cuts a recording into upload chunks (see [`audio::prepare`]).
    ///
    /// # Errors
    /// See [`SandboxError`].
    pub async fn prepare(&self, input: Bytes, config: &ChunkingConfig) -> Result<Prepared, SandboxError> {
        match self.isolation {
            AudioIsolation::Thread => {
                let config = config.clone();
                on_thread(move || audio::prepare(&input, &config)).await
            }
            AudioIsolation::Process => match self.in_child(Op::Prepare, input, config).await? {
                (Reply::Prepared(summary), chunks) => Ok(Prepared { summary, chunks }),
                (other, _) => Err(unexpected(&other)),
            },
        }
    }

    async fn in_child(
        &self,
        op: Op,
        input: Bytes,
        config: &ChunkingConfig,
    ) -> Result<(Reply, Vec<Chunk>), SandboxError> {
        let request = Request {
            op,
            config: config.clone(),
            input_len: input.len() as u64,
            memory_limit_bytes: self.memory_limit_bytes,
            cpu_limit_s: self.cpu_limit.as_secs().max(1),
        };
        let mut header = serde_json::to_vec(&request).map_err(|e| SandboxError::Unavailable(e.into()))?;
        header.push(b'\n');
        let mut child = tokio::process::Command::new(&self.executable)
            .arg(SANDBOX_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.executable.display()))
            .map_err(SandboxError::Unavailable)?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(SandboxError::Unavailable(anyhow::anyhow!("the child has no pipes")));
        };
        // The child reads everything before it answers; a child that dies early closes the
        // pipe, which the reply side reports.
        let feeding = tokio::spawn(async move {
            let _ = stdin.write_all(&header).await;
            let _ = stdin.write_all(&input).await;
        });
        let max_chunk = config.max_upload_bytes.saturating_mul(2);
        let wall = self.cpu_limit.saturating_mul(2);
        let replies = tokio::time::timeout(wall, read_replies(stdout, max_chunk)).await;
        feeding.abort();
        let outcome = match replies {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(err)) => Err(err),
            Err(_) => {
                let _ = child.start_kill();
                return Err(SandboxError::Killed(format!("no answer in {wall:?}")));
            }
        };
        let status = child.wait().await.map_err(|e| SandboxError::Unavailable(e.into()))?;
        match outcome {
            Ok((Reply::Failed(err), _)) => Err(SandboxError::Audio(err)),
            Ok(done) => Ok(done),
            Err(err) => Err(SandboxError::Killed(format!("{err:#} ({status})"))),
        }
    }
}

/// Reads replies until the final one; chunks are collected on the way.
async fn read_replies(
    stdout: tokio::process::ChildStdout,
    max_chunk: u64,
) -> anyhow::Result<(Reply, Vec<Chunk>)> {
    let mut reader = tokio::io::BufReader::new(stdout);
    let mut chunks = Vec::new();
    loop {
        let mut line = String::new();
        let read = (&mut reader).take(MAX_REPLY_LINE).read_line(&mut line).await?;
        anyhow::ensure!(read > 0, "the child exited without an answer");
        match serde_json::from_str::<Reply>(&line).context("a garbled reply")? {
            Reply::Chunk { index, encoding, timing, len } => {
                anyhow::ensure!(len <= max_chunk, "a chunk of {len} bytes");
                let mut bytes = vec![0u8; usize::try_from(len)?];
                reader.read_exact(&mut bytes).await?;
                chunks.push(Chunk { index, bytes: Bytes::from(bytes), encoding, timing });
            }
            last => return Ok((last, chunks)),
        }
    }
}

fn unexpected(reply: &Reply) -> SandboxError {
    SandboxError::Unavailable(anyhow::anyhow!("an unexpected reply from the child: {reply:?}"))
}

/// Runs `work` on a blocking thread; a panic fails the file, not the worker.
async fn on_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AudioError> + Send + 'static,
) -> Result<T, SandboxError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(SandboxError::Audio),
        Err(err) if err.is_panic() => Err(SandboxError::Killed(panic_message(err.into_panic()))),
        Err(err) => Err(SandboxError::Unavailable(err.into())),
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// The child's side: called by `main` when the first argument is [`SANDBOX_ARG`].
pub fn serve() -> ExitCode {
    match serve_inner() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Only our own plumbing fails here; the parent reports the missing answer.
            eprintln!("audio-sandbox: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve_inner() -> anyhow::Result<()> {
    let mut stdin = std::io::BufReader::new(std::io::stdin().lock());
    let mut line = String::new();
    (&mut stdin).take(MAX_REPLY_LINE).read_line(&mut line)?;
    let request: Request = serde_json::from_str(&line).context("reading the request")?;
    limit_self(&request)?;
    let mut input = vec![0u8; usize::try_from(request.input_len)?];
    stdin.read_exact(&mut input).context("reading the input")?;
    let input = Bytes::from(input);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| match request.op {
        Op::Probe => audio::probe(&input, &request.config).map(Reply::Probed),
        Op::Prepare => audio::prepare_with(&input, &request.config, |chunk| {
            write_chunk(&mut out, chunk).map_err(|e| AudioError::Encode(format!("writing a chunk: {e}")))
        })
        .map(Reply::Prepared),
    }));
    let last = match result {
        Ok(Ok(reply)) => reply,
        Ok(Err(err)) => Reply::Failed(err),
        Err(panic) => Reply::Failed(AudioError::Corrupt(format!(
            "the decoder failed on this file: {}",
            panic_message(panic)
        ))),
    };
    write_line(&mut out, &last)?;
    out.flush()?;
    Ok(())
}

/// Caps this process's memory and CPU time; nothing of the file has been read yet.
fn limit_self(request: &Request) -> anyhow::Result<()> {
    use rlimit::Resource;
    let memory = request.input_len.saturating_add(request.memory_limit_bytes);
    Resource::DATA.set(memory, memory).context("limiting memory")?;
    // SIGXCPU at the soft limit, SIGKILL a second later.
    Resource::CPU.set(request.cpu_limit_s, request.cpu_limit_s + 1).context("limiting CPU time")?;
    Resource::CORE.set(0, 0).context("turning core dumps off")?;
    Ok(())
}

fn write_chunk(out: &mut impl Write, chunk: Chunk) -> std::io::Result<()> {
    let header = Reply::Chunk {
        index: chunk.index,
        encoding: chunk.encoding,
        timing: chunk.timing,
        len: chunk.bytes.len() as u64,
    };
    write_line(out, &header)?;
    out.write_all(&chunk.bytes)
}

fn write_line(out: &mut impl Write, reply: &Reply) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, reply)?;
    out.write_all(b"\n")
}
