//! Test fixtures made at test time: espeak-ng sentences joined by silences of known lengths,
//! encoded into every input format with ffmpeg and opusenc. They are generated once into the
//! target directory's test temp dir and shared by the test processes.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const SENTENCES: [&str; 8] = [
    "The quick brown fox jumps over the lazy dog.",
    "Voice notes arrive from many different phones.",
    "Every chunk must end inside a pause.",
    "Long silences are shortened to save money.",
    "Timestamps must still match the original recording.",
    "Subtitles are rendered as SRT and VTT files.",
    "The benchmark measures the whole pipeline.",
    "This is the last sentence of the fixture.",
];

/// Silence inserted after each sentence but the last, in seconds.
pub const GAPS: [f64; 7] = [0.4, 2.5, 0.8, 3.0, 0.6, 1.4, 2.2];

pub struct Fixtures {
    pub dir: PathBuf,
    /// (start, end) seconds of the true pauses (source signal silent for at least 250 ms).
    pub pauses: Vec<(f64, f64)>,
    /// Duration of the source signal in seconds.
    pub duration: f64,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn ffmpeg() -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]);
    c
}

/// Every format the pipeline accepts, as (file name, how to make it from speech.wav).
pub const FORMATS: [&str; 9] = [
    "mid.opus",
    "mid.mp3",
    "mid.m4a",
    "mid_44k_stereo.wav",
    "mid.flac",
    "mid_vorbis.ogg",
    "mid.webm",
    "mid_video_note.mp4",
    "mid_cbr.opus",
];

fn generate(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut inputs: Vec<String> = Vec::new();
    for (i, text) in SENTENCES.iter().enumerate() {
        let wav = dir.join(format!("s{i}.wav"));
        run(Command::new("espeak-ng").args(["-s", "170", "-w"]).arg(&wav).arg(text));
        inputs.push(wav.display().to_string());
    }
    let mut cmd = ffmpeg();
    let mut filter = String::new();
    let mut n = 0;
    for (i, input) in inputs.iter().enumerate() {
        cmd.args(["-i", input]);
        filter.push_str(&format!("[{n}]"));
        n += 1;
        if let Some(gap) = GAPS.get(i) {
            cmd.args(["-f", "lavfi", "-t", &gap.to_string(), "-i", "anullsrc=r=22050:cl=mono"]);
            filter.push_str(&format!("[{n}]"));
            n += 1;
        }
    }
    filter.push_str(&format!("concat=n={n}:v=0:a=1,aresample=48000[out]"));
    let speech = dir.join("speech.wav");
    run(cmd.args(["-filter_complex", &filter, "-map", "[out]", "-c:a", "pcm_s16le"]).arg(&speech));
    run(ffmpeg()
        .arg("-i")
        .arg(&speech)
        .args(["-ac", "1", "-ar", "16000", "-f", "s16le"])
        .arg(dir.join("speech.raw")));
    let s = speech.display().to_string();
    run(Command::new("opusenc").args(["--quiet", "--bitrate", "32", &s]).arg(dir.join("speech.opus")));
    run(ffmpeg().args(["-i", &s, "-c:a", "libmp3lame", "-b:a", "64k"]).arg(dir.join("speech.mp3")));
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", "testsrc=size=64x64:rate=10", "-t", "1", "-c:v", "mpeg4"])
        .arg(dir.join("video_only.mp4")));
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", "testsrc=size=64x64:rate=10", "-t", "1", "-c:v", "libvpx", "-f", "webm"])
        .arg(dir.join("video_only.webm")));
    // A nine-second excerpt (two sentences and the 2.5 s gap) per format for the format tests,
    // and a 0.6 s one for the fuzzer, which decodes hundreds of variants.
    let mid = dir.join("mid.wav").display().to_string();
    run(ffmpeg().args(["-i", &s, "-t", "9"]).arg(&mid));
    run(Command::new("opusenc").args(["--quiet", "--bitrate", "32", &mid]).arg(dir.join("mid.opus")));
    run(Command::new("opusenc")
        .args(["--quiet", "--hard-cbr", "--bitrate", "24", &mid])
        .arg(dir.join("mid_cbr.opus")));
    run(ffmpeg().args(["-i", &mid, "-c:a", "libmp3lame", "-b:a", "64k"]).arg(dir.join("mid.mp3")));
    run(ffmpeg().args(["-i", &mid, "-c:a", "aac", "-b:a", "64k"]).arg(dir.join("mid.m4a")));
    run(ffmpeg()
        .args(["-i", &mid, "-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le"])
        .arg(dir.join("mid_44k_stereo.wav")));
    run(ffmpeg().args(["-i", &mid, "-c:a", "flac"]).arg(dir.join("mid.flac")));
    run(ffmpeg().args(["-i", &mid, "-c:a", "libvorbis", "-q:a", "3"]).arg(dir.join("mid_vorbis.ogg")));
    run(ffmpeg()
        .args(["-i", &mid, "-c:a", "libopus", "-b:a", "32k", "-f", "webm"])
        .arg(dir.join("mid.webm")));
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", "testsrc=size=64x64:rate=10", "-i", &mid, "-shortest"])
        .args(["-c:v", "mpeg4", "-c:a", "aac", "-b:a", "48k"])
        .arg(dir.join("mid_video_note.mp4")));
    run(ffmpeg().args(["-i", &s, "-t", "0.6", "-ac", "1", "-ar", "16000"]).arg(dir.join("short.wav")));
    let short = dir.join("short.wav").display().to_string();
    run(Command::new("opusenc").args(["--quiet", "--bitrate", "24", &short]).arg(dir.join("short.opus")));
    run(ffmpeg().args(["-i", &short, "-c:a", "libmp3lame", "-b:a", "32k"]).arg(dir.join("short.mp3")));
    run(ffmpeg().args(["-i", &short, "-c:a", "aac", "-b:a", "32k"]).arg(dir.join("short.m4a")));
    run(ffmpeg().args(["-i", &short, "-c:a", "flac"]).arg(dir.join("short.flac")));
    run(ffmpeg().args(["-i", &short, "-c:a", "libvorbis"]).arg(dir.join("short_vorbis.ogg")));
    run(ffmpeg().args(["-i", &short, "-c:a", "libopus", "-f", "webm"]).arg(dir.join("short.webm")));
}

/// Finds stretches where the 16 kHz source is silent for at least 250 ms.
fn true_pauses(raw: &[u8]) -> (Vec<(f64, f64)>, f64) {
    let samples: Vec<i16> = raw.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    let mut pauses = Vec::new();
    let mut start = None;
    for (i, s) in samples.iter().enumerate() {
        let quiet = s.unsigned_abs() < 64;
        match (quiet, start) {
            (true, None) => start = Some(i),
            (false, Some(a)) => {
                if i - a >= 4000 {
                    pauses.push((a as f64 / 16000.0, i as f64 / 16000.0));
                }
                start = None;
            }
            _ => {}
        }
    }
    let duration = samples.len() as f64 / 16000.0;
    if let Some(a) = start {
        pauses.push((a as f64 / 16000.0, duration));
    }
    (pauses, duration)
}

pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let dir = root.join("audio-fixtures-v2");
        if !dir.join("done").exists() {
            // Several test processes may race here: each builds its own copy, the first rename wins.
            let scratch = root.join(format!("audio-fixtures-tmp-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&scratch);
            generate(&scratch);
            std::fs::write(scratch.join("done"), b"").unwrap();
            if std::fs::rename(&scratch, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&scratch);
            }
        }
        let raw = std::fs::read(dir.join("speech.raw")).unwrap();
        let (pauses, duration) = true_pauses(&raw);
        Fixtures { dir, pauses, duration }
    })
}

pub fn load(name: &str) -> bytes::Bytes {
    bytes::Bytes::from(std::fs::read(fixtures().dir.join(name)).unwrap())
}
