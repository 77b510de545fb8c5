//! Files that lie in their headers. The billed duration must be the duration of the audio present
//! and sent to the speech-to-text provider, never a header field: for every hostile file the test
//! knows how much audio it really holds, and the pipeline must either refuse the file with a typed
//! error or measure that much, upload no more than it bills, and stay within a memory bound.
//!
//! `probe` is held to the same rules with one exception: it may measure less than is present
//! (the worker raises the hold again to `prepare_with`'s figure before any upload); it must
//! still never claim more, nor refuse a file for a length it does not have.
//!
//! The hostile files are real recordings rewritten by `testkit::hostile`; uploads are measured
//! from their own packets (`ogg_opus_content_seconds`, `flac_stream_seconds`), not by the
//! pipeline. Each test runs one family of cases and reports every failing case at once. The
//! debug build decodes a few times faster than real time, so the sources are short: a five-minute
//! Opus note, and four-second 16 kHz files for the formats that are decoded to PCM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use audio::{AudioError, Bytes, ChunkEncoding, ChunkingConfig, prepare_with};
use common::load;
use peak_alloc::PeakAlloc;
use proptest::prelude::*;
use testkit::hostile::{
    FlacPatch, TINY_WAV_SAMPLES, WavPatch, flac_patch_streaminfo, flac_stream_seconds, mp3_set_xing_frames,
    mp3_xing_frames, mp4_audio_stts, mp4_scale_durations, mp4_set_durations, mp4_set_media_timescale,
    mp4_set_stts_delta, ogg_append_audio, ogg_chain, ogg_map_granules, ogg_opus_content_seconds,
    ogg_page_ranges, ogg_set_last_granule, opus_silence, tiny_wav_claiming_rate, wav_info, wav_patch,
};

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// Peak heap growth allowed while one file is probed and prepared.
const HEAP_LIMIT: usize = 100 << 20;

/// `cargo test` runs tests as threads of one process, where one case's allocations would count
/// against another's peak; every case takes this lock, so the peak is its own under both runners.
static ONE_CASE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How much audio a hostile file really holds, in seconds.
#[derive(Debug, Clone)]
enum Truth {
    /// This much.
    Secs(f64),
    /// The header contradicts itself; each of these readings of the bytes present is fair.
    OneOf(Vec<f64>),
    /// Somewhere in this range (a cut stream: a decoder may or may not keep the torn packet).
    Between(f64, f64),
}

impl Truth {
    fn shortest(&self) -> f64 {
        match self {
            Self::Secs(s) => *s,
            Self::OneOf(v) => v.iter().copied().fold(f64::INFINITY, f64::min),
            Self::Between(lo, _) => *lo,
        }
    }

    fn longest(&self) -> f64 {
        match self {
            Self::Secs(s) => *s,
            Self::OneOf(v) => v.iter().copied().fold(0.0, f64::max),
            Self::Between(_, hi) => *hi,
        }
    }

    /// Whether a measured length matches, within 1 % or 0.1 s, whichever is more; with
    /// `or_less`, any length up to that is accepted too.
    fn accepts(&self, secs: f64, or_less: bool) -> bool {
        let slack = |t: f64| (t * 0.01).max(0.1);
        let near = |t: f64| secs <= t + slack(t) && (or_less || secs >= t - slack(t));
        match self {
            Self::Secs(t) => near(*t),
            Self::OneOf(v) => v.iter().any(|&t| near(t)),
            Self::Between(lo, hi) => secs <= hi + slack(*hi) && (or_less || secs >= lo - slack(*lo)),
        }
    }
}

/// The limits the worker runs with.
fn config() -> ChunkingConfig {
    ChunkingConfig::default()
}

/// The one place that calls `audio::probe`, so a change of its signature is a one-line change.
fn probe_seconds(input: &Bytes, config: &ChunkingConfig) -> Result<f64, AudioError> {
    audio::probe(input, config).map(|info| info.duration.as_secs_f64())
}

/// What one run of `probe` and `prepare_with` did with a file.
struct Run {
    probed: Result<f64, AudioError>,
    /// The billed duration and the seconds of audio in the uploads, measured from their bytes.
    prepared: Result<(f64, f64), AudioError>,
    /// How the pipeline went about it, for the log.
    how: String,
    peak_heap: usize,
    elapsed: Duration,
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

fn uploaded_seconds(encoding: ChunkEncoding, bytes: &[u8]) -> Result<f64, String> {
    catch_unwind(|| match encoding {
        ChunkEncoding::OggOpus => ogg_opus_content_seconds(bytes),
    })
    .map_err(|p| format!("an upload that does not parse as {encoding:?}: {}", panic_message(&*p)))
}

/// Probes and prepares `bytes`, catching panics (a panic is a failure, never a refusal).
fn run(bytes: Vec<u8>, config: &ChunkingConfig) -> Result<Run, String> {
    let _alone = ONE_CASE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let input = Bytes::from(bytes);
    let started = Instant::now();
    HEAP.reset_peak_usage();
    let baseline = HEAP.current_usage();
    let probed = catch_unwind(AssertUnwindSafe(|| probe_seconds(&input, config)))
        .map_err(|p| format!("probe panicked: {}", panic_message(&*p)))?;
    let mut uploaded = 0.0;
    let mut bad_upload = None;
    let prepared = catch_unwind(AssertUnwindSafe(|| {
        prepare_with(&input, config, |chunk| {
            // Only the measure is kept: holding the uploads would count against the heap bound.
            match uploaded_seconds(chunk.encoding, &chunk.bytes) {
                Ok(secs) => uploaded += secs,
                Err(e) => bad_upload = Some(format!("chunk {}: {e}", chunk.index)),
            }
            Ok(())
        })
    }))
    .map_err(|p| format!("prepare_with panicked: {}", panic_message(&*p)))?;
    let peak_heap = HEAP.peak_usage().saturating_sub(baseline);
    if let Some(e) = bad_upload {
        return Err(e);
    }
    let how = prepared
        .as_ref()
        .map_or_else(|_| String::new(), |s| format!("{:?}, {} chunk(s)", s.analysis, s.chunks));
    Ok(Run {
        probed,
        prepared: prepared.map(|s| (s.duration.as_secs_f64(), uploaded)),
        how,
        peak_heap,
        elapsed: started.elapsed(),
    })
}

/// A result for a message: the value, or the error's text.
fn shown<T: std::fmt::Debug>(result: &Result<T, AudioError>) -> String {
    match result {
        Ok(value) => format!("{value:?}"),
        Err(e) => format!("error: {e}"),
    }
}

/// Checks one file against what it truly holds; returns what went wrong, if anything.
fn check(name: &str, bytes: Vec<u8>, truth: &Truth) -> Result<(), String> {
    let config = config();
    let limit = config.max_duration.as_secs_f64();
    let r = run(bytes, &config).map_err(|e| format!("{name}: {e}"))?;
    eprintln!(
        "{name}: truth {truth:?}, prepare {} {}, probe {}, peak heap {:.1} MB, {:.2} s",
        shown(&r.prepared),
        r.how,
        shown(&r.probed),
        r.peak_heap as f64 / 1048576.0,
        r.elapsed.as_secs_f64(),
    );
    let mut problems = Vec::new();
    if r.peak_heap > HEAP_LIMIT {
        problems.push(format!("peak heap {} MB (limit {} MB)", r.peak_heap >> 20, HEAP_LIMIT >> 20));
    }
    problems.extend(verdict("probe", r.probed.as_ref().copied(), truth, true, limit));
    problems.extend(verdict("prepare_with", r.prepared.as_ref().map(|p| p.0), truth, false, limit));
    if let Ok((billed, uploaded)) = r.prepared
        && uploaded > billed + 0.05
    {
        problems.push(format!("uploaded {uploaded:.3} s of audio but billed {billed:.3} s"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{name} (truth {truth:?}): {}", problems.join("; ")))
    }
}

/// What is wrong with measuring `measured` for a file holding `truth` seconds, if anything;
/// `or_less` accepts any shorter measure too.
fn verdict(
    what: &str,
    measured: Result<f64, &AudioError>,
    truth: &Truth,
    or_less: bool,
    limit: f64,
) -> Option<String> {
    let fits = truth.longest() <= limit;
    match measured {
        Ok(secs) if !fits => Some(format!("{what} accepted {secs:.3} s, past the {limit} s limit")),
        Ok(secs) if !truth.accepts(secs, or_less) => Some(format!("{what} measured {secs:.3} s")),
        // Refusing a file for a length it does not have turns a header's word into the verdict.
        Err(AudioError::TooLong { actual, .. }) if fits => Some(format!(
            "{what} refused it as too long ({:.1} s) though {:.3} s are present",
            actual.as_secs_f64(),
            truth.longest()
        )),
        Err(AudioError::Empty) if truth.shortest() > 0.1 => {
            Some(format!("{what} refused it as empty though {:.3} s are present", truth.shortest()))
        }
        _ => None,
    }
}

/// Runs a family of cases and fails with every failing case's message.
fn check_all(cases: Vec<(String, Vec<u8>, Truth)>) {
    let failures: Vec<String> =
        cases.into_iter().filter_map(|(name, bytes, truth)| check(&name, bytes, &truth).err()).collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

/// A file made once per target directory with ffmpeg (`args` end with the output format), shared
/// by the test processes.
fn generated(name: &str, args: &[&str]) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile-v2").join(name);
    if !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Processes racing here each write their own file; the rename is atomic.
        let scratch = path.with_extension(format!("{}.tmp", std::process::id()));
        let out = Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
            .args(args)
            .arg(&scratch)
            .output()
            .expect("running ffmpeg");
        assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::rename(&scratch, &path).unwrap();
    }
    std::fs::read(&path).unwrap()
}

/// Five minutes of the speech fixture on a loop, as a 24 kbit/s Ogg/Opus voice note: a VBR
/// encoder spends few bytes on the pauses, so the pipeline plans from packet sizes and decodes
/// only around pauses, and a debug build gets through it in seconds.
fn long_note() -> Vec<u8> {
    let speech = common::fixtures().dir.join("speech.wav");
    let input = ["-stream_loop", "-1", "-i", speech.to_str().unwrap(), "-t", "300", "-ac", "1"];
    let output = ["-c:a", "libopus", "-b:a", "24k", "-f", "ogg"];
    generated("long-300s.opus", &[&input[..], &output[..]].concat())
}

/// Length of the 16 kHz excerpts.
const EXCERPT: f64 = 4.0;

/// The first four seconds of the speech fixture at 16 kHz (no resampling, so cases run fast),
/// encoded by ffmpeg with `codec` into `format`.
fn excerpt(name: &str, channels: &str, codec: &[&str], format: &str) -> Vec<u8> {
    let source = common::fixtures().dir.join("mid.wav");
    let source = source.to_str().unwrap();
    let mut args = vec!["-i", source, "-t", "4", "-ar", "16000", "-ac", channels];
    args.extend_from_slice(codec);
    args.extend_from_slice(&["-f", format]);
    generated(name, &args)
}

fn excerpt_flac() -> Vec<u8> {
    excerpt("excerpt.flac", "1", &["-c:a", "flac"], "flac")
}

fn excerpt_mp3() -> Vec<u8> {
    excerpt("excerpt.mp3", "1", &["-c:a", "libmp3lame", "-b:a", "32k"], "mp3")
}

fn excerpt_m4a() -> Vec<u8> {
    excerpt("excerpt.m4a", "1", &["-c:a", "aac", "-b:a", "32k"], "ipod")
}

fn excerpt_stereo_wav() -> Vec<u8> {
    excerpt("excerpt_stereo.wav", "2", &["-c:a", "pcm_s16le"], "wav")
}

/// An excerpt's length: the source's four seconds, or as decoded with the encoder's priming and
/// padding when a decoder does not trim them (`frames` of `samples_per_frame` at 16 kHz).
fn padded(frames: u64, samples_per_frame: u64) -> Truth {
    Truth::Between(EXCERPT, (frames * samples_per_frame) as f64 / 16_000.0)
}

fn mp3_truth(mp3: &[u8]) -> Truth {
    // MPEG-2 layer III (16 kHz): 576 samples a frame.
    padded(u64::from(mp3_xing_frames(mp3).expect("ffmpeg writes an Info header")), 576)
}

fn m4a_truth(m4a: &[u8]) -> Truth {
    padded(mp4_audio_stts(m4a).iter().map(|&(count, _)| u64::from(count)).sum(), 1024)
}

/// Seconds ffmpeg decodes from `bytes`: the reference for cut files of the decoded formats.
fn ffmpeg_seconds(bytes: &[u8]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::write(&input, bytes).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "quiet", "-i"])
        .arg(&input)
        .args(["-ac", "1", "-ar", "48000", "-f", "s16le", "-"])
        .output()
        .expect("running ffmpeg");
    out.stdout.len() as f64 / 2.0 / 48_000.0
}

fn secs(ogg: &[u8]) -> Truth {
    Truth::Secs(ogg_opus_content_seconds(ogg))
}

fn pre_skip(ogg: &[u8]) -> u64 {
    let head = ogg.windows(8).position(|w| w == b"OpusHead").expect("an OpusHead");
    u64::from(u16::from_le_bytes([ogg[head + 10], ogg[head + 11]]))
}

// ---------------------------------------------------------------------------------------------
// Ogg/Opus granule positions
// ---------------------------------------------------------------------------------------------

#[test]
fn ogg_granules_that_shrink() {
    let long = long_note();
    let mid = load("mid.opus").to_vec();
    let skip = pre_skip(&long);
    check_all(vec![
        // Five minutes whose last page says the note is 20 ms long.
        ("long note, last granule 20 ms".into(), ogg_set_last_granule(&long, skip + 960), secs(&long)),
        ("long note, last granule 0".into(), ogg_set_last_granule(&long, 0), secs(&long)),
        (
            "long note, every granule a hundredth".into(),
            ogg_map_granules(&long, |i, g| if i < 2 { g } else { g / 100 }),
            secs(&long),
        ),
        ("nine seconds, last granule 20 ms".into(), ogg_set_last_granule(&mid, skip + 960), secs(&mid)),
        (
            "nine seconds, last granule inside the pre-skip".into(),
            ogg_set_last_granule(&mid, skip / 2),
            secs(&mid),
        ),
    ]);
}

#[test]
fn ogg_granules_that_grow() {
    let long = long_note();
    let mid = load("mid.opus").to_vec();
    check_all(vec![
        (
            "nine seconds, last granule 100 hours".into(),
            ogg_set_last_granule(&mid, 100 * 3600 * 48_000),
            secs(&mid),
        ),
        ("nine seconds, last granule 2^62".into(), ogg_set_last_granule(&mid, 1 << 62), secs(&mid)),
        // u64::MAX is -1, "no packet ends here"; one less is the largest real position.
        ("nine seconds, last granule 2^64 - 2".into(), ogg_set_last_granule(&mid, u64::MAX - 1), secs(&mid)),
        (
            "nine seconds, every granule x1000".into(),
            ogg_map_granules(&mid, |_, g| g.saturating_mul(1000)),
            secs(&mid),
        ),
        ("long note, every granule x7".into(), ogg_map_granules(&long, |_, g| g * 7), secs(&long)),
    ]);
}

#[test]
fn ogg_granules_that_go_backwards_or_jump() {
    let long = long_note();
    let mid = load("mid.opus").to_vec();
    let pages = ogg_page_ranges(&long).len();
    let mid_pages = ogg_page_ranges(&mid).len();
    check_all(vec![
        (
            "long note, granules counting down".into(),
            ogg_map_granules(&long, |i, g| if i < 2 { g } else { (pages - i) as u64 * 48_000 }),
            secs(&long),
        ),
        (
            "long note, granules back by a minute half-way".into(),
            ogg_map_granules(&long, |i, g| if i > pages / 2 { g.saturating_sub(60 * 48_000) } else { g }),
            secs(&long),
        ),
        (
            "long note, one middle page at 2^62".into(),
            ogg_map_granules(&long, |i, g| if i == pages / 2 { 1 << 62 } else { g }),
            secs(&long),
        ),
        (
            "nine seconds, second-to-last page at 100 hours".into(),
            ogg_map_granules(&mid, |i, g| if i == mid_pages - 2 { 100 * 3600 * 48_000 } else { g }),
            secs(&mid),
        ),
        (
            "nine seconds, header pages with granules".into(),
            ogg_map_granules(&mid, |i, g| if i < 2 { 1 << 40 } else { g }),
            secs(&mid),
        ),
    ]);
}

// ---------------------------------------------------------------------------------------------
// Ogg/Opus structure
// ---------------------------------------------------------------------------------------------

#[test]
fn chained_ogg_streams() {
    let long = long_note();
    let mid = load("mid.opus").to_vec();
    let silence = opus_silence(60.0);
    let cases = [
        ("two notes", &mid, &mid),
        ("a long note, then a short one", &long, &mid),
        ("a note, then a minute of silence", &mid, &silence),
    ];
    check_all(
        cases
            .into_iter()
            .map(|(name, a, b)| {
                let chained = ogg_chain(a, b);
                let truth = secs(&chained);
                (format!("chained: {name}"), chained, truth)
            })
            .collect(),
    );
}

#[test]
fn note_with_appended_audio() {
    let long = long_note();
    let mid = load("mid.opus").to_vec();
    let silence = opus_silence(60.0);
    let cases = [
        // The last granule says nine seconds; five minutes precede it.
        ("five minutes, then nine seconds", &long, &mid),
        ("nine seconds, then five minutes", &mid, &long),
        ("nine seconds, then a minute of silence", &mid, &silence),
    ];
    check_all(
        cases
            .into_iter()
            .map(|(name, a, b)| {
                let joined = ogg_append_audio(a, b);
                let truth = secs(&joined);
                (format!("appended: {name}"), joined, truth)
            })
            .collect(),
    );
}

#[test]
fn truncated_streams() {
    let long = long_note();
    let ranges = ogg_page_ranges(&long);
    let mut cases = Vec::new();
    for fraction in [0.3, 0.77] {
        // Cut inside a page: the complete pages before it are certainly there, the torn page's
        // complete packets may count too.
        let at = (long.len() as f64 * fraction) as usize;
        let page = ranges.iter().find(|r| r.contains(&at)).unwrap().clone();
        let cut = page.start + (page.end - page.start) / 2;
        let lo = ogg_opus_content_seconds(&long[..page.start]);
        let hi = ogg_opus_content_seconds(&long[..page.end]);
        cases.push((format!("long note cut at {fraction}"), long[..cut].to_vec(), Truth::Between(lo, hi)));
    }
    for (name, full) in [("mp3", excerpt_mp3()), ("flac", excerpt_flac()), ("wav", excerpt_stereo_wav())] {
        let cut = full[..full.len() * 6 / 10 + 7].to_vec();
        let truth = Truth::Secs(ffmpeg_seconds(&cut));
        cases.push((format!("{name} cut at 0.6"), cut, truth));
    }
    check_all(cases);
}

#[test]
fn an_hour_of_silence_in_100_kb() {
    let hour = opus_silence(3600.0);
    assert!(hour.len() < 200_000, "{} bytes", hour.len());
    check_all(vec![("an hour of silence".into(), hour, Truth::Secs(3600.0))]);
}

/// The generator against an independent decoder: ffmpeg hears exactly the silence asked for.
#[test]
fn opus_silence_decodes_to_its_length_in_ffmpeg() {
    for seconds in [0.5, 7.3, 600.0] {
        let decoded = ffmpeg_seconds(&opus_silence(seconds));
        assert!((decoded - seconds).abs() < 0.001, "{seconds} s of silence decode to {decoded} s");
    }
}

#[test]
fn seven_hours_of_silence_are_refused() {
    let input = opus_silence(7.0 * 3600.0);
    assert!(input.len() < 1_000_000, "{} bytes", input.len());
    let r = run(input, &config()).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.peak_heap <= HEAP_LIMIT, "peak heap {} MB", r.peak_heap >> 20);
    assert!(matches!(r.prepared, Err(AudioError::TooLong { .. })), "prepare_with: {}", shown(&r.prepared));
    assert!(matches!(r.probed, Err(AudioError::TooLong { .. })), "probe: {}", shown(&r.probed));
    // Refusing must not mean decoding seven hours first.
    assert!(r.elapsed < Duration::from_secs(10), "took {:?}", r.elapsed);
}

// ---------------------------------------------------------------------------------------------
// WAV
// ---------------------------------------------------------------------------------------------

/// Seconds of the data present in `wav` at its (claimed) rate, framed by channels and sample
/// width, or by the claimed block alignment.
fn wav_readings(wav: &[u8]) -> Vec<f64> {
    let info = wav_info(wav);
    let rate = f64::from(info.sample_rate.max(1));
    let by_layout = usize::from(info.channels) * usize::from(info.bits_per_sample).div_ceil(8);
    [by_layout, usize::from(info.block_align)]
        .into_iter()
        .filter(|&frame| frame > 0)
        .map(|frame| (info.data_present / frame) as f64 / rate)
        .collect()
}

fn patched(wav: &[u8], patch: WavPatch) -> Vec<u8> {
    wav_patch(wav, patch)
}

#[test]
fn wav_data_length_lies() {
    let wav = excerpt_stereo_wav();
    let data = wav_info(&wav).data_len;
    let with = |patch: WavPatch| patched(&wav, patch);
    check_all(vec![
        (
            "data_len twice the data".into(),
            with(WavPatch { data_len: Some(data * 2), ..Default::default() }),
            Truth::Secs(EXCERPT),
        ),
        (
            "data_len 4 GiB".into(),
            with(WavPatch { data_len: Some(u32::MAX), ..Default::default() }),
            Truth::Secs(EXCERPT),
        ),
        // The samples past the claimed end are not part of the data chunk.
        (
            "data_len half the data".into(),
            with(WavPatch { data_len: Some(data / 2), ..Default::default() }),
            Truth::Secs(EXCERPT / 2.0),
        ),
        (
            "data_len 0".into(),
            with(WavPatch { data_len: Some(0), ..Default::default() }),
            Truth::OneOf(vec![0.0, EXCERPT]),
        ),
        (
            "riff_len 4 GiB".into(),
            with(WavPatch { riff_len: Some(u32::MAX), ..Default::default() }),
            Truth::Secs(EXCERPT),
        ),
        (
            "riff_len 12".into(),
            with(WavPatch { riff_len: Some(12), ..Default::default() }),
            Truth::Secs(EXCERPT),
        ),
    ]);
}

#[test]
fn wav_format_field_lies() {
    let wav = excerpt_stereo_wav();
    let with = |patch: WavPatch| patched(&wav, patch);
    let mut cases: Vec<(String, Vec<u8>, Truth)> = vec![
        // The byte rate is redundant; a duration from it would be a header's word.
        (
            "byte_rate 1".into(),
            with(WavPatch { byte_rate: Some(1), ..Default::default() }),
            Truth::Secs(EXCERPT),
        ),
        (
            "byte_rate x1000".into(),
            with(WavPatch { byte_rate: Some(64_000_000), ..Default::default() }),
            Truth::Secs(EXCERPT),
        ),
        (
            "byte_rate 0".into(),
            with(WavPatch { byte_rate: Some(0), ..Default::default() }),
            Truth::Secs(EXCERPT),
        ),
        (
            "channels 1, consistently".into(),
            with(WavPatch {
                channels: Some(1),
                block_align: Some(2),
                byte_rate: Some(32_000),
                ..Default::default()
            }),
            Truth::Secs(2.0 * EXCERPT),
        ),
        (
            "channels 8, consistently".into(),
            with(WavPatch {
                channels: Some(8),
                block_align: Some(16),
                byte_rate: Some(256_000),
                ..Default::default()
            }),
            Truth::Secs(EXCERPT / 4.0),
        ),
    ];
    // Fields that contradict each other: any reading of the bytes present is fair.
    for (name, patch) in [
        ("block_align 1", WavPatch { block_align: Some(1), ..Default::default() }),
        ("block_align 4096", WavPatch { block_align: Some(4096), ..Default::default() }),
        ("channels 1, block_align 4", WavPatch { channels: Some(1), ..Default::default() }),
        ("channels 0", WavPatch { channels: Some(0), ..Default::default() }),
        ("channels 9", WavPatch { channels: Some(9), ..Default::default() }),
        ("channels 65535", WavPatch { channels: Some(65_535), ..Default::default() }),
        ("bits_per_sample 8", WavPatch { bits_per_sample: Some(8), ..Default::default() }),
        ("bits_per_sample 0", WavPatch { bits_per_sample: Some(0), ..Default::default() }),
        ("bits_per_sample 65535", WavPatch { bits_per_sample: Some(65_535), ..Default::default() }),
    ] {
        let bytes = with(patch);
        let truth = Truth::OneOf(wav_readings(&bytes));
        cases.push((name.into(), bytes, truth));
    }
    check_all(cases);
}

fn absurd_rate_cases(rates: &[u32]) -> Vec<(String, Vec<u8>, Truth)> {
    let wav = excerpt_stereo_wav();
    let frames = wav_info(&wav).data_present / 4;
    let mut cases = Vec::new();
    for &rate in rates {
        let tiny = tiny_wav_claiming_rate(rate);
        let truth = Truth::Secs(TINY_WAV_SAMPLES as f64 / f64::from(rate));
        let inconsistent = patched(&tiny, WavPatch { byte_rate: Some(32_000), ..Default::default() });
        cases.push((format!("1 KB claiming {rate} Hz"), tiny, truth.clone()));
        cases.push((format!("1 KB claiming {rate} Hz, byte_rate 32000"), inconsistent, truth));
        let real = patched(
            &wav,
            WavPatch { sample_rate: Some(rate), byte_rate: Some(rate.wrapping_mul(4)), ..Default::default() },
        );
        cases.push((
            format!("four seconds claiming {rate} Hz"),
            real,
            Truth::Secs(frames as f64 / f64::from(rate)),
        ));
    }
    cases
}

#[test]
fn wav_absurd_sample_rates() {
    check_all(absurd_rate_cases(&[7_999_999, 1, 7_999, 192_001]));
}

#[test]
fn wav_sample_rate_near_u32_max() {
    check_all(absurd_rate_cases(&[4_294_967_291]));
}

// ---------------------------------------------------------------------------------------------
// FLAC
// ---------------------------------------------------------------------------------------------

/// Four seconds at 16 kHz: frame headers carry the block size and (16 kHz has a code) the rate,
/// so STREAMINFO's fields are claims the frames contradict.
fn flac_cases(patches: &[(&str, FlacPatch)]) -> Vec<(String, Vec<u8>, Truth)> {
    let flac = excerpt_flac();
    let truth = Truth::Secs(flac_stream_seconds(&flac));
    patches
        .iter()
        .map(|(name, patch)| (name.to_string(), flac_patch_streaminfo(&flac, *patch), truth.clone()))
        .collect()
}

#[test]
fn flac_total_samples_lies() {
    check_all(flac_cases(&[
        // 0 means "unknown" and is legal.
        ("total_samples 0", FlacPatch { total_samples: Some(0), ..Default::default() }),
        ("total_samples 1", FlacPatch { total_samples: Some(1), ..Default::default() }),
        ("total_samples a tenth", FlacPatch { total_samples: Some(6_400), ..Default::default() }),
        (
            "total_samples 2^36 - 1 (1193 hours)",
            FlacPatch { total_samples: Some((1 << 36) - 1), ..Default::default() },
        ),
        ("total_samples 7 hours", FlacPatch { total_samples: Some(7 * 3600 * 16_000), ..Default::default() }),
    ]));
}

#[test]
fn flac_format_lies() {
    check_all(flac_cases(&[
        ("sample_rate 8000", FlacPatch { sample_rate: Some(8_000), ..Default::default() }),
        ("sample_rate 48000", FlacPatch { sample_rate: Some(48_000), ..Default::default() }),
        ("sample_rate 1", FlacPatch { sample_rate: Some(1), ..Default::default() }),
        ("sample_rate 0", FlacPatch { sample_rate: Some(0), ..Default::default() }),
        ("sample_rate 7999", FlacPatch { sample_rate: Some(7_999), ..Default::default() }),
        ("sample_rate 192001", FlacPatch { sample_rate: Some(192_001), ..Default::default() }),
        ("sample_rate 2^20 - 1", FlacPatch { sample_rate: Some((1 << 20) - 1), ..Default::default() }),
        ("channels 2", FlacPatch { channels: Some(2), ..Default::default() }),
        ("channels 8", FlacPatch { channels: Some(8), ..Default::default() }),
        ("bits_per_sample 32", FlacPatch { bits_per_sample: Some(32), ..Default::default() }),
        ("bits_per_sample 4", FlacPatch { bits_per_sample: Some(4), ..Default::default() }),
        (
            "block sizes 16",
            FlacPatch { max_block_size: Some(16), min_block_size: Some(16), ..Default::default() },
        ),
        (
            "block sizes 65535",
            FlacPatch { max_block_size: Some(65_535), min_block_size: Some(65_535), ..Default::default() },
        ),
        (
            "frame sizes 1",
            FlacPatch { max_frame_size: Some(1), min_frame_size: Some(1), ..Default::default() },
        ),
    ]));
}

// ---------------------------------------------------------------------------------------------
// MP4 / M4A
// ---------------------------------------------------------------------------------------------

#[test]
fn mp4_declared_duration_lies() {
    let m4a = excerpt_m4a();
    let truth = m4a_truth(&m4a);
    let video = load("mid_video_note.mp4").to_vec();
    // The AAC frames hold what they hold, whatever the movie and track headers say.
    check_all(vec![
        ("m4a, durations x1000".into(), mp4_scale_durations(&m4a, 1000, 1), truth.clone()),
        ("m4a, durations 2^32 - 1".into(), mp4_set_durations(&m4a, u64::from(u32::MAX)), truth.clone()),
        ("m4a, durations a hundredth".into(), mp4_scale_durations(&m4a, 1, 100), truth.clone()),
        ("m4a, durations 1".into(), mp4_set_durations(&m4a, 1), truth.clone()),
        ("m4a, durations 0".into(), mp4_set_durations(&m4a, 0), truth),
        ("video note, durations x1000".into(), mp4_scale_durations(&video, 1000, 1), Truth::Secs(9.0)),
    ]);
}

#[test]
fn mp4_timing_table_lies() {
    let m4a = excerpt_m4a();
    let truth = m4a_truth(&m4a);
    let video = load("mid_video_note.mp4").to_vec();
    check_all(vec![
        ("m4a, every sample 1 tick".into(), mp4_set_stts_delta(&m4a, 1), truth.clone()),
        ("m4a, every sample 0 ticks".into(), mp4_set_stts_delta(&m4a, 0), truth.clone()),
        ("m4a, every sample 100 s".into(), mp4_set_stts_delta(&m4a, 1_600_000), truth.clone()),
        ("m4a, every sample 2^32 - 1 ticks".into(), mp4_set_stts_delta(&m4a, u32::MAX), truth.clone()),
        ("m4a, media timescale 1".into(), mp4_set_media_timescale(&m4a, 1), truth.clone()),
        ("m4a, media timescale 2^32 - 1".into(), mp4_set_media_timescale(&m4a, u32::MAX), truth.clone()),
        ("m4a, media timescale 0".into(), mp4_set_media_timescale(&m4a, 0), truth),
        ("video note, every sample 100 s".into(), mp4_set_stts_delta(&video, 4_800_000), Truth::Secs(9.0)),
    ]);
}

// ---------------------------------------------------------------------------------------------
// MP3
// ---------------------------------------------------------------------------------------------

#[test]
fn mp3_xing_frame_count_lies() {
    let mp3 = excerpt_mp3();
    let truth = mp3_truth(&mp3);
    let frames = mp3_xing_frames(&mp3).unwrap();
    check_all(
        [
            ("1 frame", 1),
            ("0 frames", 0),
            ("a tenth", frames / 10),
            ("ten times", frames * 10),
            ("2^32 - 1 frames", u32::MAX),
        ]
        .into_iter()
        .map(|(name, n)| (format!("Xing: {name}"), mp3_set_xing_frames(&mp3, n), truth.clone()))
        .collect(),
    );
}

// ---------------------------------------------------------------------------------------------
// Header fields at random
// ---------------------------------------------------------------------------------------------

/// When the pipeline accepts a file, it bills no more than the file holds and uploads no more than
/// it bills. `most` is the longest fair reading of the bytes present.
fn bounded(name: &str, bytes: Vec<u8>, most: f64) -> Result<(), TestCaseError> {
    let r = run(bytes, &config()).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
    eprintln!("{name}: prepare {}, probe {}", shown(&r.prepared), shown(&r.probed));
    prop_assert!(r.peak_heap <= HEAP_LIMIT, "{name}: peak heap {} MB", r.peak_heap >> 20);
    for (what, measured) in
        [("probe", r.probed.as_ref().ok()), ("prepare_with", r.prepared.as_ref().ok().map(|p| &p.0))]
    {
        if let Some(&secs) = measured {
            prop_assert!(
                secs <= most * 1.01 + 0.1,
                "{name}: {what} measured {secs:.3} s of at most {most:.3} s"
            );
        }
    }
    if let Ok((billed, uploaded)) = r.prepared {
        prop_assert!(uploaded <= billed + 0.05, "{name}: uploaded {uploaded:.3} s, billed {billed:.3} s");
    }
    Ok(())
}

/// A header value: often a boundary, sometimes anything.
fn field_u32() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), Just(1), Just(u32::MAX), Just(u32::MAX - 4), any::<u32>(), 0u32..100_000]
}

fn field_u64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), Just(1), Just(u64::MAX - 1), Just(1 << 62), any::<u64>(), 0u64..10_000_000]
}

/// Most fields keep their value in most cases, so a case usually carries one or two lies and
/// the pipeline gets past its first check often enough for the property to mean something.
fn sometimes<T: std::fmt::Debug>(value: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.3, value)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ogg_granule_fields(rewrites in prop::collection::vec((any::<prop::sample::Index>(), field_u64()), 1..4)) {
        let ogg = load("short.opus").to_vec();
        let pages = ogg_page_ranges(&ogg).len();
        let targets: Vec<(usize, u64)> = rewrites.iter().map(|(i, g)| (i.index(pages), *g)).collect();
        let lied = ogg_map_granules(&ogg, |i, g| targets.iter().rev().find(|t| t.0 == i).map_or(g, |t| t.1));
        bounded(&format!("granules {targets:?}"), lied, ogg_opus_content_seconds(&ogg))?;
    }

    #[test]
    fn wav_fmt_fields(
        sample_rate in sometimes(prop_oneof![field_u32(), 7_000u32..200_000]),
        channels in sometimes(prop_oneof![0u16..10, any::<u16>()]),
        byte_rate in sometimes(field_u32()),
        block_align in sometimes(prop_oneof![0u16..20, any::<u16>()]),
        bits_per_sample in sometimes(prop_oneof![Just(8u16), Just(16), Just(24), Just(32), any::<u16>()]),
        data_len in sometimes(field_u32()),
    ) {
        let wav = load("short.wav").to_vec();
        let patch = WavPatch { sample_rate, channels, byte_rate, block_align, bits_per_sample, data_len, riff_len: None };
        let lied = wav_patch(&wav, patch);
        // The longest fair reading: every byte after the data header, in the smallest frame the
        // header allows, at the claimed rate.
        let info = wav_info(&lied);
        let after_header = info.data_present.max(wav_info(&wav).data_present);
        let frame_bits = [
            usize::from(info.channels) * usize::from(info.bits_per_sample),
            usize::from(info.block_align) * 8,
        ]
        .into_iter()
        .filter(|&f| f > 0)
        .min()
        .unwrap_or(1);
        let most = (after_header * 8 / frame_bits) as f64 / f64::from(info.sample_rate.max(1));
        bounded(&format!("{patch:?}"), lied, most)?;
    }

    #[test]
    fn flac_streaminfo_fields(
        total_samples in sometimes(prop_oneof![Just(0u64), Just(1), Just((1 << 36) - 1), 0u64..(1 << 36)]),
        sample_rate in sometimes(prop_oneof![Just(0u32), Just(1), Just((1 << 20) - 1), 0u32..(1 << 20)]),
        channels in sometimes(1u8..=8),
        bits_per_sample in sometimes(1u8..=32),
        block_sizes in sometimes((16u16..=u16::MAX, 16u16..=u16::MAX)),
        max_frame_size in sometimes(0u32..(1 << 24)),
    ) {
        let flac = load("short.flac").to_vec();
        let patch = FlacPatch {
            total_samples,
            sample_rate,
            channels,
            bits_per_sample,
            min_block_size: block_sizes.map(|(a, b)| a.min(b)),
            max_block_size: block_sizes.map(|(a, b)| a.max(b)),
            max_frame_size,
            ..FlacPatch::default()
        };
        // The frames carry their own block sizes and the 16 kHz rate code: 0.6 s whatever STREAMINFO says.
        bounded(&format!("{patch:?}"), flac_patch_streaminfo(&flac, patch), flac_stream_seconds(&flac))?;
    }

    #[test]
    fn mp4_duration_fields(
        durations in sometimes(field_u64()),
        stts_delta in sometimes(field_u32()),
        timescale in sometimes(field_u32()),
    ) {
        let mut mp4 = load("short.m4a").to_vec();
        let frames: u32 = mp4_audio_stts(&mp4).iter().map(|e| e.0).sum();
        if let Some(d) = durations {
            mp4 = mp4_set_durations(&mp4, d);
        }
        if let Some(d) = stts_delta {
            mp4 = mp4_set_stts_delta(&mp4, d);
        }
        if let Some(t) = timescale {
            mp4 = mp4_set_media_timescale(&mp4, t);
        }
        // AAC frames of 1024 samples at 16 kHz, the encoder's priming included.
        let most = f64::from(frames) * 1024.0 / 16_000.0;
        bounded(&format!("durations {durations:?}, stts delta {stts_delta:?}, timescale {timescale:?}"), mp4, most)?;
    }
}
