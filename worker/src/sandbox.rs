//! Measuring and cutting users' recordings where a hostile file cannot hurt the worker.
//!
//! In the default `process` isolation every probe and every cut runs in a child process: the
//! worker starts its own executable as `worker audio-sandbox`, which limits its own memory
//! (`RLIMIT_DATA`: `AUDIO_MEMORY_LIMIT_MB`) and CPU time before it reads a byte of the file.
//! The recording is never on a heap: it is a file on disk (the attempt's temporary copy) that
//! the child maps read-only, so its pages are the page cache's, shared and reclaimable, and a
//! 1.5 GB recording needs no more of the child's memory limit than a 1 MB one. A file that makes a decoder panic, abort on an allocation, crash in C code or run
//! forever kills only that child; its job fails with "the file is damaged" and the other jobs on
//! the worker go on. `thread` isolation runs the same code on a blocking thread and catches
//! panics only.
//!
//! The child speaks over its standard streams. Parent to child: one JSON line ([`Request`]) naming
//! the input file. Child to parent: JSON lines ([`Reply`]); a chunk's line is followed by the
//! chunk's bytes. The last line is always `Probed`, `Prepared` or `Failed`; a child that exits
//! without one was killed by the file.

use std::{
    io::{BufRead, Read, Write},
    panic::AssertUnwindSafe,
    path::{Path, PathBuf},
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
    /// The recording, a file the child maps (it is not copied onto any heap).
    input: PathBuf,
    /// The file's length when the parent handed it over: a file that changed since is refused.
    input_len: u64,
    /// Memory the child may use (the mapped input is not counted: it is not private memory).
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
    pub async fn probe(&self, input: &Path, config: &ChunkingConfig) -> Result<ProbeInfo, SandboxError> {
        match self.isolation {
            AudioIsolation::Thread => {
                let (input, config) = (input.to_owned(), config.clone());
                on_thread(move || audio::probe(&map_recording(&input, None)?, &config)).await
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
    pub async fn prepare(&self, input: &Path, config: &ChunkingConfig) -> Result<Prepared, SandboxError> {
        match self.isolation {
            AudioIsolation::Thread => {
                let (input, config) = (input.to_owned(), config.clone());
                on_thread(move || audio::prepare(&map_recording(&input, None)?, &config)).await
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
        input: &Path,
        config: &ChunkingConfig,
    ) -> Result<(Reply, Vec<Chunk>), SandboxError> {
        let input_len = tokio::fs::metadata(input)
            .await
            .with_context(|| format!("reading the length of {}", input.display()))
            .map_err(SandboxError::Unavailable)?
            .len();
        let request = Request {
            op,
            config: config.clone(),
            input: input.to_owned(),
            input_len,
            memory_limit_bytes: self.memory_limit_bytes,
            cpu_limit_s: self.cpu_limit.as_secs().max(1),
        };
        let mut header = serde_json::to_vec(&request).map_err(|e| SandboxError::Unavailable(e.into()))?;
        header.push(b'\n');
        let mut child = tokio::process::Command::new(&self.executable)
            .arg(SANDBOX_ARG)
            // With backtraces on, an allocation that fails at the memory limit prints one, whose
            // symbols need memory: that allocation fails too, and std's handler then waits
            // forever for the backtrace lock it already holds. Off, the child aborts at once.
            .env("RUST_BACKTRACE", "0")
            .env_remove("RUST_LIB_BACKTRACE")
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
        // A child that dies before reading its request closes the pipe, which the reply side
        // reports.
        let feeding = tokio::spawn(async move {
            let _ = stdin.write_all(&header).await;
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
                let bytes = spool_chunk(&mut reader, len).await?;
                chunks.push(Chunk { index, bytes, encoding, timing });
            }
            last => return Ok((last, chunks)),
        }
    }
}

/// A chunk on disk, mapped; the file goes when the last `Bytes` of it is dropped.
struct SpooledChunk {
    map: memmap2::Mmap,
    _file: tempfile::TempPath,
}

impl AsRef<[u8]> for SpooledChunk {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

/// Copies the `len` bytes of a chunk to a temporary file and maps it: the chunks of a six-hour
/// recording (hundreds of MB) wait for the provider on disk, not in the worker's memory.
async fn spool_chunk(reader: &mut (impl tokio::io::AsyncRead + Unpin), len: u64) -> anyhow::Result<Bytes> {
    let file = tempfile::Builder::new()
        .prefix(&format!("tgbot-chunk-{}-", std::process::id()))
        .tempfile()
        .context("creating a temporary file for a chunk")?;
    let (file, path) = file.into_parts();
    let mut out = tokio::fs::File::from_std(file);
    let copied = tokio::io::copy(&mut (&mut *reader).take(len), &mut out).await?;
    anyhow::ensure!(copied == len, "the child stopped in the middle of a chunk");
    out.flush().await?;
    let file = out.into_std().await;
    if len == 0 {
        return Ok(Bytes::new());
    }
    // SAFETY: as in `map_recording`: the file is this process's own temporary file, written in
    // full above and never written again; it is removed only when the map is dropped.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file) }.context("mapping a chunk")?;
    Ok(Bytes::from_owner(SpooledChunk { map, _file: path }))
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
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // A recording that cannot be mapped is our side's trouble (`Encode`: the job is retried).
    let input = match map_recording(&request.input, Some(request.input_len)) {
        Ok(input) => input,
        Err(err) => {
            write_line(&mut out, &Reply::Failed(err))?;
            out.flush()?;
            return Ok(());
        }
    };
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
    // The mapped input is a shared, read-only mapping: RLIMIT_DATA does not count it.
    let memory = request.memory_limit_bytes;
    Resource::DATA.set(memory, memory).context("limiting memory")?;
    // SIGXCPU at the soft limit, SIGKILL a second later.
    Resource::CPU.set(request.cpu_limit_s, request.cpu_limit_s + 1).context("limiting CPU time")?;
    Resource::CORE.set(0, 0).context("turning core dumps off")?;
    Ok(())
}

/// A recording on disk as the audio pipeline's `Bytes`, without reading it onto the heap: the
/// pages come from the page cache as the decoder touches them. `expected_len`, when given, is
/// the length the parent saw; a file of another length is refused.
fn map_recording(path: &Path, expected_len: Option<u64>) -> Result<Bytes, AudioError> {
    let file =
        std::fs::File::open(path).map_err(|e| AudioError::Encode(format!("opening the recording: {e}")))?;
    let len = file.metadata().map_err(|e| AudioError::Encode(format!("reading the recording: {e}")))?.len();
    if expected_len.is_some_and(|expected| expected != len) {
        return Err(AudioError::Encode(format!("the recording changed length ({len} bytes)")));
    }
    if len == 0 {
        // Nothing to map (a zero-length map is an error); the pipeline calls it empty.
        return Ok(Bytes::new());
    }
    // SAFETY: a map is unsound if the file is truncated or rewritten while mapped. The file is
    // the attempt's own temporary copy of the recording (`transcribe::Original`), written in
    // full before the sandbox runs, not written again, and removed only after the sandbox
    // answered; nothing else writes it. Were it truncated anyway, the reader would get SIGBUS:
    // in `process` isolation that kills the sandbox child only, failing the one file.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file) }
        .map_err(|e| AudioError::Encode(format!("mapping the recording: {e}")))?;
    // Decoders read forward: tell the kernel to read ahead and drop pages behind.
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(Bytes::from_owner(map))
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
