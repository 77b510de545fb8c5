//! Stitching per-chunk transcription results into one transcript on the original timeline, and
//! rendering it as plain text, SRT and WebVTT.

use serde::{Deserialize, Serialize};

use crate::OffsetMap;

/// A timed piece of text, in seconds. Per-chunk results use chunk time; a stitched
/// [`Transcript`] uses the original recording's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Start in seconds.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// The recognised text.
    pub text: String,
}

/// What the speech-to-text provider returned for one chunk: the text, and the segments when the
/// request asked for `verbose_json` (empty for plain text).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkTranscript {
    /// The chunk's full text.
    pub text: String,
    /// Timed segments in chunk time, if the provider gave any.
    #[serde(default)]
    pub segments: Vec<Segment>,
}

/// Where a chunk sits on the original timeline; kept with the job so results can be stitched
/// after the upload bytes are gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkTiming {
    /// Start on the original timeline, in seconds.
    pub start: f64,
    /// End on the original timeline, in seconds.
    pub end: f64,
    /// Chunk time to original time, across shortened pauses.
    pub offsets: OffsetMap,
}

/// The whole recording's transcript, segments in order on the original timeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Segments in time order, not overlapping.
    pub segments: Vec<Segment>,
}

/// Puts chunk results (in chunk order, one per timing) onto the original timeline.
///
/// Segments are mapped through each chunk's offset map, clamped to the chunk's span and to the
/// end of the previous segment so cues never overlap at chunk joins. A plain-text result is
/// split into sentences spread over the chunk in proportion to their length.
pub fn stitch(timings: &[ChunkTiming], results: &[ChunkTranscript]) -> Transcript {
    let mut segments: Vec<Segment> = Vec::new();
    for (timing, result) in timings.iter().zip(results) {
        let local: Vec<Segment> = if result.segments.is_empty() {
            spread_sentences(&result.text, timing)
        } else {
            result
                .segments
                .iter()
                .map(|s| Segment {
                    start: timing.offsets.to_original(s.start),
                    end: timing.offsets.to_original(s.end),
                    text: s.text.clone(),
                })
                .collect()
        };
        for seg in local {
            let text = seg.text.trim();
            if text.is_empty() {
                continue;
            }
            let floor = segments.last().map_or(timing.start, |p| p.end.max(timing.start));
            let start = seg.start.clamp(floor, timing.end.max(floor));
            let end = seg.end.clamp(start, timing.end.max(start));
            segments.push(Segment { start, end, text: text.to_string() });
        }
    }
    Transcript { segments }
}

fn spread_sentences(text: &str, timing: &ChunkTiming) -> Vec<Segment> {
    let sentences = split_sentences(text);
    let total: usize = sentences.iter().map(|s| s.chars().count()).sum();
    let span = (timing.end - timing.start).max(0.0);
    let mut at = 0usize;
    sentences
        .into_iter()
        .map(|s| {
            let start = timing.start + span * at as f64 / total.max(1) as f64;
            at += s.chars().count();
            let end = timing.start + span * at as f64 / total.max(1) as f64;
            Segment { start, end, text: s.to_string() }
        })
        .collect()
}

fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut begin = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ends = matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？');
        let next_is_space = chars.peek().is_none_or(|&(_, n)| n.is_whitespace());
        if ends && next_is_space {
            let end = i + c.len_utf8();
            let s = text[begin..end].trim();
            if !s.is_empty() {
                out.push(s);
            }
            begin = end;
        }
    }
    let rest = text[begin..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The end of the previous chunk's text, at most `max_chars` characters and starting at a word,
/// to pass as the `prompt` of the next chunk in sequential mode.
pub fn prompt_tail(previous: &str, max_chars: usize) -> &str {
    let trimmed = previous.trim_end();
    let count = trimmed.chars().count();
    if count <= max_chars {
        return trimmed.trim_start();
    }
    let cut = trimmed.char_indices().nth(count - max_chars).map_or(0, |(i, _)| i);
    let tail = &trimmed[cut..];
    // Drop a partial first word unless the tail is one word.
    match tail.find(char::is_whitespace) {
        Some(space) if !trimmed[..cut].ends_with(char::is_whitespace) => tail[space..].trim_start(),
        _ => tail.trim_start(),
    }
}

impl Transcript {
    /// The plain text: one segment per line.
    pub fn to_txt(&self) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            out.push_str(&seg.text);
            out.push('\n');
        }
        out
    }

    /// SubRip subtitles.
    pub fn to_srt(&self) -> String {
        let mut out = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            out.push_str(&format!(
                "{}\n{} --> {}\n{}\n\n",
                i + 1,
                timestamp(seg.start, ','),
                timestamp(seg.end, ','),
                seg.text
            ));
        }
        out
    }

    /// WebVTT subtitles.
    pub fn to_vtt(&self) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for seg in &self.segments {
            // "-->" inside a cue would end it early; the arrow is rare in speech, so a plain swap is enough.
            let text = seg.text.replace("-->", "->");
            out.push_str(&format!(
                "{} --> {}\n{}\n\n",
                timestamp(seg.start, '.'),
                timestamp(seg.end, '.'),
                text
            ));
        }
        out
    }
}

/// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (VTT), rounded to the millisecond.
pub fn timestamp(secs: f64, separator: char) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    format!("{h:02}:{m:02}:{s:02}{separator}{ms:03}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn timing(start: f64, end: f64, starts: &[(f64, f64)]) -> ChunkTiming {
        let t = |s: f64| (s * 48_000.0).round() as i64;
        ChunkTiming { start, end, offsets: OffsetMap::from_starts(starts.iter().map(|&(c, o)| (t(c), t(o)))) }
    }

    #[test]
    fn timestamps_round_to_milliseconds() {
        assert_eq!(timestamp(0.0, ','), "00:00:00,000");
        assert_eq!(timestamp(3661.2345, ','), "01:01:01,235");
        assert_eq!(timestamp(59.9996, '.'), "00:01:00.000");
        assert_eq!(timestamp(-1.0, '.'), "00:00:00.000");
    }

    #[test]
    fn segments_land_on_the_original_timeline_across_a_join() {
        // Chunk 2 starts at 600 s and dropped 2.5 s of pause at chunk time 10 s.
        let timings =
            [timing(0.0, 600.0, &[(0.0, 0.0)]), timing(600.0, 900.0, &[(0.0, 600.0), (10.0, 612.5)])];
        let results = [
            ChunkTranscript {
                text: "a b".into(),
                segments: vec![
                    Segment { start: 0.0, end: 4.0, text: " Hello.".into() },
                    Segment { start: 596.0, end: 601.0, text: "Over the edge".into() },
                ],
            },
            ChunkTranscript {
                text: String::new(),
                segments: vec![
                    Segment { start: 0.0, end: 9.0, text: "Second".into() },
                    Segment { start: 11.0, end: 12.5, text: "After the pause".into() },
                ],
            },
        ];
        let t = stitch(&timings, &results);
        let srt = t.to_srt();
        assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:04,000\nHello.\n\n"), "{srt}");
        assert!(srt.contains("2\n00:09:56,000 --> 00:10:00,000\nOver the edge"), "{srt}");
        assert!(srt.contains("3\n00:10:00,000 --> 00:10:09,000\nSecond"), "{srt}");
        assert!(srt.contains("4\n00:10:13,500 --> 00:10:15,000\nAfter the pause"), "{srt}");
        let vtt = t.to_vtt();
        assert!(vtt.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nHello.\n"));
        assert!(vtt.contains("00:10:13.500 --> 00:10:15.000\nAfter the pause"));
        assert_eq!(t.to_txt(), "Hello.\nOver the edge\nSecond\nAfter the pause\n");
    }

    #[test]
    fn plain_text_is_spread_over_the_chunk_by_sentence() {
        let timings = [timing(100.0, 110.0, &[(0.0, 100.0)])];
        let results = [ChunkTranscript { text: "One two. Three four five six!".into(), segments: vec![] }];
        let t = stitch(&timings, &results);
        assert_eq!(t.segments.len(), 2);
        assert!((t.segments[0].start - 100.0).abs() < 1e-9);
        assert!((t.segments[1].end - 110.0).abs() < 1e-9);
        assert!(t.segments[0].end < t.segments[1].end);
    }

    #[test]
    fn prompt_tail_starts_at_a_word() {
        assert_eq!(prompt_tail("short text", 50), "short text");
        assert_eq!(prompt_tail("alpha beta gamma delta", 12), "gamma delta");
        assert_eq!(prompt_tail("alpha beta gamma delta", 11), "gamma delta");
        assert_eq!(prompt_tail("alpha beta gamma delta", 10), "delta");
        assert_eq!(prompt_tail("привет мир дружба", 9), "дружба");
    }

    proptest! {
        #[test]
        fn stitched_cues_are_ordered_and_inside_their_chunks(
            lens in prop::collection::vec((1.0f64..700.0, 0.0f64..5.0), 1..6),
            segs in prop::collection::vec((0.0f64..800.0, 0.0f64..30.0), 0..40),
        ) {
            let mut timings = Vec::new();
            let mut at = 0.0;
            for &(len, removed) in &lens {
                let mid = len / 2.0;
                timings.push(timing(at, at + len + removed, &[(0.0, at), (mid, at + mid + removed)]));
                at += len + removed;
            }
            let results: Vec<ChunkTranscript> = timings.iter().map(|_| ChunkTranscript {
                text: String::new(),
                segments: segs.iter().map(|&(s, d)| Segment { start: s, end: s + d, text: "w".into() }).collect(),
            }).collect();
            let t = stitch(&timings, &results);
            let mut prev_end = 0.0;
            for s in &t.segments {
                prop_assert!(s.start >= prev_end - 1e-9 && s.end >= s.start);
                prev_end = s.end;
            }
            prop_assert!(prev_end <= at + 1e-6);
            // Timestamps render in order too (rounding never reorders cues).
            let srt = t.to_srt();
            let stamps: Vec<&str> = srt.lines().filter(|l| l.contains("-->")).collect();
            for pair in stamps.windows(2) {
                let end_prev = pair[0].split(" --> ").nth(1).unwrap_or_default();
                let start_next = pair[1].split(" --> ").next().unwrap_or_default();
                prop_assert!(end_prev <= start_next);
            }
        }
    }
}
