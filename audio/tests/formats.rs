//! Every accepted format decodes from a real file, and bad inputs give typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use audio::{AudioError, ChunkEncoding, ChunkingConfig, InputFormat, detect_format, prepare, probe};
use bytes::Bytes;
use common::{FORMATS, fixtures, load};

fn expected_format(name: &str) -> InputFormat {
    match name.rsplit('.').next() {
        Some("opus") => InputFormat::OggOpus,
        Some("mp3") => InputFormat::Mp3,
        Some("m4a" | "mp4") => InputFormat::Mp4,
        Some("wav") => InputFormat::Wav,
        Some("flac") => InputFormat::Flac,
        Some("ogg") => InputFormat::OggOther,
        Some("webm") => InputFormat::Matroska,
        _ => panic!("{name}"),
    }
}

/// Decodes one nine-second excerpt (two sentences around the 2.5 s gap) end to end.
fn decodes(name: &str) {
    let input = load(name);
    assert_eq!(detect_format(&input).unwrap(), expected_format(name), "{name}");
    let prepared = prepare(&input, &ChunkingConfig::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let s = &prepared.summary;
    // Encoders pad a little (AAC priming, MP3 frames); pricing tolerates tens of milliseconds.
    let secs = s.duration.as_secs_f64();
    assert!((secs - 9.0).abs() < 0.08, "{name}: {secs}");
    assert_eq!(prepared.chunks.len(), 1, "{name}");
    let chunk = &prepared.chunks[0];
    // Voice notes keep their own packets; everything else is encoded by libopus.
    assert_eq!(chunk.encoding, ChunkEncoding::OggOpus, "{name}");
    // The 2.5 s gap (plus espeak's own trailing silence) was shortened to about 0.5 s.
    let removed = chunk.timing.offsets.removed_secs();
    assert!(removed > 1.5 && removed < 3.0, "{name}: removed {removed}");
    // The upload is itself a valid file of the stated kind, as long as the kept audio.
    let back =
        probe(&chunk.bytes, &ChunkingConfig::default()).unwrap_or_else(|e| panic!("{name} chunk: {e}"));
    let kept = chunk.timing.end - chunk.timing.start - removed;
    assert!((back.duration.as_secs_f64() - kept).abs() < 0.05, "{name}: {:?} vs {kept}", back.duration);
    assert_eq!(back.format, InputFormat::OggOpus);
    let p = probe(&input, &ChunkingConfig::default()).unwrap();
    assert!((p.duration.as_secs_f64() - secs).abs() < 0.08, "{name}: probe {:?}", p.duration);
}

macro_rules! format_tests {
    ($($test:ident => $index:expr),* $(,)?) => {
        $(#[test]
        fn $test() {
            decodes(FORMATS[$index]);
        })*
    };
}

format_tests! {
    ogg_opus_decodes => 0,
    mp3_decodes => 1,
    m4a_aac_decodes => 2,
    wav_44k_stereo_decodes => 3,
    flac_decodes => 4,
    ogg_vorbis_decodes => 5,
    webm_opus_decodes => 6,
    mp4_video_note_decodes => 7,
    constant_bitrate_opus_decodes => 8,
}

#[test]
fn opus_duration_is_exact_from_granules() {
    let input = load("speech.opus");
    let info = probe(&input, &ChunkingConfig::default()).unwrap();
    let prepared = prepare(&input, &ChunkingConfig::default()).unwrap();
    assert_eq!(info.duration, prepared.summary.duration);
    // opusenc keeps the source length to the sample: 48 kHz source samples, no rounding.
    let wav = std::fs::read(fixtures().dir.join("speech.wav")).unwrap();
    let data = wav.windows(4).position(|w| w == b"data").unwrap();
    let source_samples = (wav.len() - data - 8) as u64 / 2;
    assert_eq!(info.duration.as_nanos(), u128::from(source_samples) * 1_000_000_000 / 48_000);
    // Remuxing keeps the packets: the upload is about the size of the input.
    let upload = prepared.summary.upload_bytes as f64;
    assert!(upload < input.len() as f64 * 1.1, "{upload} vs {}", input.len());
}

#[test]
fn bad_inputs_give_typed_errors() {
    let cfg = ChunkingConfig::default();
    assert!(matches!(prepare(&Bytes::new(), &cfg), Err(AudioError::Empty)));
    assert!(matches!(probe(&Bytes::new(), &cfg), Err(AudioError::Empty)));
    let random: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert!(matches!(prepare(&Bytes::from(random), &cfg), Err(AudioError::UnsupportedFormat(_))));
    for name in ["video_only.mp4", "video_only.webm"] {
        let r = prepare(&load(name), &cfg);
        assert!(matches!(r, Err(AudioError::NoAudioTrack)), "{name}: {r:?}");
    }
    // An MP4 cut short loses its index (written at the end): nothing can be read.
    let input = load("mid.m4a");
    let r = prepare(&input.slice(..input.len() * 6 / 10), &cfg);
    assert!(matches!(r, Err(AudioError::Corrupt(_))), "{r:?}");
    // A voice note cut short is read up to the cut, and measured by what is there.
    let input = load("speech.opus");
    let whole = probe(&input, &cfg).unwrap().duration.as_secs_f64();
    let cut = prepare(&input.slice(..input.len() * 6 / 10), &cfg).unwrap().summary.duration.as_secs_f64();
    assert!(cut > whole * 0.5 && cut < whole * 0.7, "{cut} of {whole}");
    let short = ChunkingConfig { max_duration: std::time::Duration::from_secs(5), ..cfg.clone() };
    for name in ["speech.opus", "speech.mp3"] {
        let r = prepare(&load(name), &short);
        assert!(matches!(r, Err(AudioError::TooLong { .. })), "{name}: {r:?}");
    }
}

#[test]
fn decoding_stops_at_the_budget_and_the_packet_walk_ignores_it() {
    let budget = std::time::Duration::from_secs(5);
    let cfg = ChunkingConfig { budget: Some(budget), ..ChunkingConfig::default() };
    let over_budget = |name: &str, result: Result<std::time::Duration, AudioError>| match result {
        Err(AudioError::OverBudget { at_least, budget: b }) => {
            assert_eq!(b, budget);
            // Opus knows its whole length before decoding; the others stop just past the budget.
            assert!(
                at_least > budget && at_least < std::time::Duration::from_secs(40),
                "{name}: {at_least:?}"
            );
        }
        other => panic!("{name}: {other:?}"),
    };
    for name in ["speech.opus", "speech.mp3", "mid.flac", "mid.m4a"] {
        let input = load(name);
        let probed = probe(&input, &cfg).map(|p| p.duration);
        if name.ends_with(".m4a") {
            // MP4 tables can lie, so measuring means decoding: it stops at the budget too.
            over_budget(name, probed);
        } else {
            // Measuring is a packet walk and says how long the recording is, budget or not.
            let probed = probed.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(probed > budget, "{name}: {probed:?}");
        }
        over_budget(name, prepare(&input, &cfg).map(|p| p.summary.duration));
    }
}
