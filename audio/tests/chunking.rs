//! Chunks of a recording with known pauses: every cut falls inside a pause, the chunks cover
//! the recording, and transcripts stitched from them land on the original timeline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use audio::{Analysis, ChunkTranscript, ChunkingConfig, Segment, prepare, stitch};
use common::{fixtures, load};

fn small_chunks() -> ChunkingConfig {
    ChunkingConfig {
        target_chunk: Duration::from_secs(7),
        max_chunk: Duration::from_secs(10),
        ..ChunkingConfig::default()
    }
}

fn check_cuts(name: &str, expected: Analysis) {
    let fx = fixtures();
    let prepared = prepare(&load(name), &small_chunks()).unwrap();
    let s = &prepared.summary;
    assert_eq!(s.analysis, expected, "{name}");
    assert!(s.chunks >= 3, "{name}: {} chunks", s.chunks);
    assert!(s.cuts_in_pauses.iter().all(|&p| p), "{name}: {:?}", s.cuts_in_pauses);
    for &cut in &s.cuts {
        // Codec delay shifts the timeline by a few milliseconds at most.
        let inside = fx.pauses.iter().any(|&(a, b)| cut > a - 0.03 && cut < b + 0.03);
        assert!(inside, "{name}: cut at {cut} not in a pause {:?}", fx.pauses);
    }
    // Chunks follow one another; what lies between them is dropped silence.
    for pair in prepared.chunks.windows(2) {
        let (a, b) = (&pair[0].timing, &pair[1].timing);
        assert!(a.end <= b.start + 1e-9, "{name}: {} > {}", a.end, b.start);
        let gap_in_pause = fx.pauses.iter().any(|&(p0, p1)| a.end > p0 - 0.03 && b.start < p1 + 0.03);
        assert!(b.start - a.end < 1e-6 || gap_in_pause, "{name}: gap {}..{}", a.end, b.start);
    }
    for c in &prepared.chunks {
        let uploaded = c.timing.end - c.timing.start - c.timing.offsets.removed_secs();
        assert!(uploaded <= 10.0 + 1e-6, "{name}: chunk of {uploaded} s");
    }
    let last = &prepared.chunks[prepared.chunks.len() - 1].timing;
    assert!((last.end - s.duration.as_secs_f64()).abs() < 1e-3);

    // Each chunk "says" a word at chunk time 1.0 s; stitched, it sits at 1.0 s past the chunk start
    // plus whatever silence was dropped before that point.
    let results: Vec<ChunkTranscript> = prepared
        .chunks
        .iter()
        .map(|c| ChunkTranscript {
            text: format!("chunk {}", c.index),
            segments: vec![Segment { start: 1.0, end: 1.5, text: format!("chunk {}", c.index) }],
        })
        .collect();
    let timings: Vec<_> = prepared.chunks.iter().map(|c| c.timing.clone()).collect();
    let t = stitch(&timings, &results);
    assert_eq!(t.segments.len(), prepared.chunks.len());
    for (seg, c) in t.segments.iter().zip(&prepared.chunks) {
        assert!((seg.start - c.timing.offsets.to_original(1.0)).abs() < 1e-9);
        assert!(seg.start >= c.timing.start && seg.end <= c.timing.end);
    }
    let srt = t.to_srt();
    assert_eq!(srt.matches(" --> ").count(), prepared.chunks.len());
}

#[test]
fn opus_cuts_fall_inside_pauses() {
    check_cuts("speech.opus", Analysis::OpusPacketSizes);
}

#[test]
fn mp3_cuts_fall_inside_pauses() {
    check_cuts("speech.mp3", Analysis::Pcm);
}

#[test]
fn constant_bitrate_opus_is_decoded_in_full() {
    let prepared = prepare(&load("mid_cbr.opus"), &ChunkingConfig::default()).unwrap();
    assert_eq!(prepared.summary.analysis, Analysis::OpusFullDecode);
}
