//! Runs the audio pipeline on one file, short of the upload, and prints one JSON line:
//! `cargo run --release -p worker --bin bench-audio -- FILE` (see BENCHMARKS.md).
//!
//! `duration_s` is what a job would bill: the audio present, whatever the headers claim
//! (`declared_s`). A file the pipeline refuses exits with status 2 and one line on stderr.

use std::{process::ExitCode, time::Instant};

use anyhow::Context;

/// Peak resident set size of this process in MB, from the kernel's high-water mark.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> ExitCode {
    // A panic is reported as the one-line reason below, not as a backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(bench).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(anyhow::anyhow!("the pipeline panicked: {what}"))
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-audio: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn bench() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).context("usage: bench-audio FILE")?;
    let started = Instant::now();
    let input = audio::Bytes::from(std::fs::read(&path).with_context(|| format!("reading {path}"))?);
    let config = audio::ChunkingConfig::default();
    // Chunks are dropped as they come, as the worker does after uploading each one.
    let summary = audio::prepare_with(&input, &config, |_chunk| Ok(())).context("refused")?;
    let wall = started.elapsed().as_secs_f64();
    let duration = summary.duration.as_secs_f64();
    let cuts: Vec<String> = summary.cuts.iter().map(|c| format!("{c:.3}")).collect();
    println!(
        "{{\"input_bytes\":{},\"format\":\"{}\",\"analysis\":\"{:?}\",\"duration_s\":{:.6},\"declared_s\":{},\"wall_s\":{:.3},\
         \"realtime_factor\":{:.1},\"peak_rss_mb\":{:.1},\"chunks\":{},\"upload_bytes\":{},\"cuts_s\":[{}],\
         \"cuts_in_pauses\":{}}}",
        input.len(),
        summary.format.name(),
        summary.analysis,
        duration,
        summary.declared.map_or("null".to_owned(), |d| format!("{:.6}", d.as_secs_f64())),
        wall,
        duration / wall.max(1e-9),
        peak_rss_mb(),
        summary.chunks,
        summary.upload_bytes,
        cuts.join(","),
        summary.cuts_in_pauses.iter().all(|&p| p),
    );
    Ok(())
}
