//! Deciding where chunks end and which silence is dropped, from a per-frame activity profile.
//! Pure logic over frames, shared by the Opus packet path (a frame is a packet) and the PCM path
//! (a frame is 16 ms of 16 kHz audio), so it is tested and property-tested on its own.

use std::ops::Range;

use crate::ChunkingConfig;
use crate::timeline::TICKS_PER_SEC;

/// One analysis frame on the original timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Frame {
    /// Start in ticks on the original timeline.
    pub start: u64,
    /// Length in ticks.
    pub len: u32,
    /// Whether the frame holds (or borders) speech.
    pub speech: bool,
    /// Loudness proxy; the quietest frame is where speech is cut when it must be.
    pub level: f32,
    /// Bytes this frame adds to an upload.
    pub bytes: u32,
}

/// A pause found in the profile: frames `frames` are silent (guard frames already excluded).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pause {
    pub frames: Range<usize>,
    /// Frames dropped from the middle when the pause is shortened (empty otherwise).
    pub removed: Range<usize>,
}

/// The chunking decision: each chunk is a list of runs of original frame indices.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub chunks: Vec<Vec<Range<usize>>>,
    pub pauses: Vec<Pause>,
    /// Indices into `pauses` of the pauses the cuts were placed in (None: cut inside speech).
    pub cut_pauses: Vec<Option<usize>>,
}

fn ticks(d: std::time::Duration) -> u64 {
    (d.as_secs_f64() * TICKS_PER_SEC as f64).round() as u64
}

/// Frames excluded at each edge of a silent run, so a cut or a removal never clips a word's
/// soft onset or tail that the detector scored as silence.
const GUARD_TICKS: u64 = TICKS_PER_SEC * 80 / 1000;

/// Finds pauses: runs of non-speech frames at least `min_pause` long after the guards.
pub(crate) fn find_pauses(frames: &[Frame], cfg: &ChunkingConfig) -> Vec<Pause> {
    let min_pause = ticks(cfg.min_pause);
    let long = ticks(cfg.long_silence);
    let keep_half = ticks(cfg.shortened_silence) / 2;
    let mut pauses = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        if frames[i].speech {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < frames.len() && !frames[j].speech {
            j += 1;
        }
        let (mut a, mut b) = (i, j);
        // No guard at the file's edges: there is no speech to protect there.
        if i > 0 {
            a = advance(frames, a, b, GUARD_TICKS);
        }
        if j < frames.len() {
            b = retreat(frames, a, b, GUARD_TICKS);
        }
        let len = span(frames, a, b);
        if len >= min_pause.max(1) {
            let removed = if len > long {
                let r0 = advance(frames, a, b, keep_half);
                let r1 = retreat(frames, r0, b, keep_half);
                r0..r1
            } else {
                a..a
            };
            pauses.push(Pause { frames: a..b, removed });
        }
        i = j;
    }
    pauses
}

fn span(frames: &[Frame], a: usize, b: usize) -> u64 {
    if a >= b { 0 } else { frames[b - 1].start + u64::from(frames[b - 1].len) - frames[a].start }
}

/// First index at or after `a` that is at least `t` ticks past frame `a`'s start (capped at `b`).
fn advance(frames: &[Frame], a: usize, b: usize, t: u64) -> usize {
    let mut k = a;
    while k < b && span(frames, a, k) < t {
        k += 1;
    }
    k
}

/// Last index at or before `b` such that frames `k..b` span at least `t` ticks (floored at `a`).
fn retreat(frames: &[Frame], a: usize, b: usize, t: u64) -> usize {
    let mut k = b;
    while k > a && span(frames, k, b) < t {
        k -= 1;
    }
    k
}

/// Plans the chunks: drops the middle of long pauses, then cuts the kept frames into chunks of
/// even length (see [`chunk_count`]), each cut in a good pause near its even share, within the
/// length and byte limits.
pub(crate) fn plan(frames: &[Frame], cfg: &ChunkingConfig) -> Plan {
    let pauses = find_pauses(frames, cfg);
    let mut removed = vec![false; frames.len()];
    for p in &pauses {
        for r in p.removed.clone() {
            removed[r] = true;
        }
    }
    let kept: Vec<usize> = (0..frames.len()).filter(|&i| !removed[i]).collect();
    // Prefix sums over kept frames: position in uploaded time and upload bytes.
    let mut kpos = Vec::with_capacity(kept.len() + 1);
    let mut kbytes = Vec::with_capacity(kept.len() + 1);
    let (mut t, mut by) = (0u64, 0u64);
    for &i in &kept {
        kpos.push(t);
        kbytes.push(by);
        t += u64::from(frames[i].len);
        by += u64::from(frames[i].bytes);
    }
    kpos.push(t);
    kbytes.push(by);
    let kept_index_of = |orig: usize| kept.partition_point(|&i| i < orig);

    // Cut candidates as (kept boundary, pause length, pause index), sorted by boundary.
    let mut candidates: Vec<(usize, u64, usize)> = pauses
        .iter()
        .enumerate()
        .filter_map(|(pi, p)| {
            let boundary = if p.removed.is_empty() {
                kept_index_of((p.frames.start + p.frames.end) / 2)
            } else {
                kept_index_of(p.removed.end)
            };
            let len = span(frames, p.frames.start, p.frames.end);
            (boundary > 0 && boundary < kept.len()).then_some((boundary, len, pi))
        })
        .collect();
    candidates.sort_by_key(|c| c.0);

    let max_len = ticks(cfg.max_chunk).max(ticks(cfg.target_chunk)).max(1);
    // Ogg pages and headers add a little to the frame bytes; keep a margin for them.
    let budget = (cfg.max_upload_bytes.saturating_mul(97) / 100).max(1);
    let n = kept.len();
    let count = chunk_count(kpos[n], cfg);
    let mut bounds = vec![0usize];
    let mut cut_pauses = Vec::new();
    let mut s = 0usize;
    while s < n {
        // What is left is shared evenly by the chunks still to make, as many as the limits need.
        let (left_len, left_bytes) = (kpos[n] - kpos[s], kbytes[n] - kbytes[s]);
        let made = bounds.len() as u64 - 1;
        let parts = count
            .saturating_sub(made)
            .max(left_len.div_ceil(max_len))
            .max(left_bytes.div_ceil(budget))
            .max(1);
        if parts == 1 {
            break;
        }
        // The furthest boundary allowed by both limits (always at least one frame).
        let mut h = s + 1;
        let (mut lo_h, mut hi_h) = (s + 1, n);
        while lo_h <= hi_h {
            let mid = (lo_h + hi_h) / 2;
            if kpos[mid] - kpos[s] <= max_len && kbytes[mid] - kbytes[s] <= budget {
                h = mid;
                lo_h = mid + 1;
            } else {
                hi_h = mid - 1;
            }
        }
        let reach = kpos[h] - kpos[s];
        let share = (left_len / parts).clamp(1, reach.max(1));
        let aim = kpos[s] + share;
        let (kp, cands) = (&kpos, &candidates);
        // The best pause between `lo` and `hi`: any pause of GOOD_PAUSE or more is as safe a
        // cut as a longer one, so among those the one nearest the even share wins.
        let best = |lo: u64, hi: u64| {
            cands.iter().filter(|c| c.0 > s && c.0 <= h && (lo..=hi).contains(&kp[c.0])).max_by(|a, b| {
                a.1.min(GOOD_PAUSE)
                    .cmp(&b.1.min(GOOD_PAUSE))
                    .then_with(|| kp[b.0].abs_diff(aim).cmp(&kp[a.0].abs_diff(aim)))
            })
        };
        let window = |tol: u64| (aim.saturating_sub(tol), aim + tol);
        // The nearest good pause wins: every chunk comes back about when the others do.
        let found = [32, 16, 8, 4]
            .into_iter()
            .find_map(|part| {
                let (lo, hi) = window(share / part);
                best(lo, hi)
            })
            .or_else(|| best(kpos[s] + share / 4, kpos[h]));
        let (lo2, hi2) = window(share / 4);
        let (cut, pause) = match found {
            Some(&(boundary, _, pi)) => (boundary, Some(pi)),
            None => {
                // Speech runs on: cut before the quietest frame near the even share.
                let quietest = (s + 1..=h)
                    .filter(|&b| b < n && (lo2..=hi2).contains(&kpos[b]))
                    .min_by(|&a, &b| {
                        frames[kept[a]]
                            .level
                            .total_cmp(&frames[kept[b]].level)
                            .then_with(|| kpos[a].abs_diff(aim).cmp(&kpos[b].abs_diff(aim)))
                    })
                    .unwrap_or(h);
                (quietest, None)
            }
        };
        bounds.push(cut);
        cut_pauses.push(pause);
        s = cut;
    }
    bounds.push(n);
    let chunks = bounds.windows(2).filter(|w| w[0] < w[1]).map(|w| runs(&kept[w[0]..w[1]])).collect();
    Plan { chunks, pauses, cut_pauses }
}

/// A pause this long is as safe a place to cut as any longer one.
const GOOD_PAUSE: u64 = TICKS_PER_SEC * 600 / 1000;

/// How many chunks `total` ticks of kept audio become: at least enough to keep them near
/// `target_chunk`, rounded up to a multiple of the lanes so every wave of requests is full;
/// a shorter recording is spread over as many lanes as `min_chunk` allows.
fn chunk_count(total: u64, cfg: &ChunkingConfig) -> u64 {
    let target = ticks(cfg.target_chunk).max(1);
    let min = ticks(cfg.min_chunk).clamp(1, target);
    let lanes = cfg.lanes.max(1) as u64;
    let needed = total.div_ceil(target).max(1);
    if needed >= lanes { needed.div_ceil(lanes) * lanes } else { lanes.min(total / min).max(needed) }
}

/// Groups sorted frame indices into runs of consecutive indices.
fn runs(indices: &[usize]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for &i in indices {
        match out.last_mut() {
            Some(r) if r.end == i => r.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    const FRAME: u32 = 960; // 20 ms

    /// Frames from (seconds, speech) stretches.
    fn profile(stretches: &[(f64, bool)]) -> Vec<Frame> {
        let mut frames = Vec::new();
        let mut start = 0u64;
        for &(secs, speech) in stretches {
            let count = (secs * 50.0).round() as usize;
            for k in 0..count {
                let level = if speech { 1.0 + (k % 7) as f32 } else { 0.0 };
                frames.push(Frame { start, len: FRAME, speech, level, bytes: if speech { 80 } else { 3 } });
                start += u64::from(FRAME);
            }
        }
        frames
    }

    fn cfg(target: u64, max: u64) -> ChunkingConfig {
        ChunkingConfig {
            target_chunk: Duration::from_secs(target),
            max_chunk: Duration::from_secs(max),
            ..ChunkingConfig::default()
        }
    }

    fn chunk_start(frames: &[Frame], chunk: &[Range<usize>]) -> u64 {
        frames[chunk[0].start].start
    }

    #[test]
    fn short_input_is_one_chunk_and_long_pauses_shrink() {
        let frames = profile(&[(5.0, true), (4.0, false), (5.0, true)]);
        let plan = plan(&frames, &ChunkingConfig::default());
        assert_eq!(plan.chunks.len(), 1);
        let kept: usize = plan.chunks[0].iter().map(|r| r.len()).sum();
        // 10 s of speech plus the two 80 ms guards and 13 frames (at least 0.25 s) per side kept.
        assert_eq!(kept, 500 + 8 + 26);
        assert_eq!(plan.pauses.len(), 1);
    }

    #[test]
    fn cuts_in_the_longest_pause_near_the_target() {
        // Pauses at 40 s (0.5 s long), 55 s (1.5 s) and 70 s (1 s); target 60 s, max 90 s.
        let frames = profile(&[
            (40.0, true),
            (0.5, false),
            (14.5, true),
            (1.5, false),
            (14.0, true),
            (1.0, false),
            (30.0, true),
        ]);
        let plan = plan(&frames, &cfg(60, 90));
        assert_eq!(plan.chunks.len(), 2);
        let cut = chunk_start(&frames, &plan.chunks[1]) as f64 / 48_000.0;
        assert!((55.0..56.5).contains(&cut), "cut at {cut}");
        assert!(plan.cut_pauses[0].is_some());
    }

    #[test]
    fn unbroken_speech_is_cut_at_the_quietest_frame_within_the_max() {
        let mut frames = profile(&[(200.0, true)]);
        // Four chunks of 50 s: the quiet frame at 56 s is near the first even share, the one at
        // 80 s is not.
        frames[2800].level = 0.01;
        frames[4000].level = 0.001;
        let plan = plan(&frames, &cfg(60, 90));
        assert_eq!(plan.chunks.len(), 4);
        assert_eq!(frames[plan.chunks[1][0].start].start, 2800 * u64::from(FRAME));
        assert_eq!(plan.cut_pauses[0], None);
    }

    #[test]
    fn chunk_count_fills_the_lanes_without_going_under_the_shortest_chunk() {
        let lanes = |lanes, secs: u64| {
            let cfg = ChunkingConfig { lanes, ..ChunkingConfig::default() };
            chunk_count(secs * TICKS_PER_SEC, &cfg)
        };
        assert_eq!(lanes(16, 3600), 16);
        assert_eq!(lanes(16, 300), 5);
        assert_eq!(lanes(16, 45), 1);
        assert_eq!(lanes(16, 6 * 3600), 48);
        assert_eq!(lanes(1, 3600), 6);
        assert_eq!(lanes(4, 23 * 60), 4);
    }

    /// Sentences of 3 to 5 s between pauses of 0.3 to 1.6 s, like a voice note.
    fn speech_with_pauses(seconds: f64) -> Vec<Frame> {
        let mut stretches = Vec::new();
        let (mut t, mut k) = (0.0, 0usize);
        while t < seconds {
            let talk = 3.0 + (k * 7 % 5) as f64 * 0.5;
            let pause = 0.3 + (k * 3 % 7) as f64 * 0.2;
            stretches.push((talk, true));
            stretches.push((pause, false));
            t += talk + pause;
            k += 1;
        }
        profile(&stretches)
    }

    #[test]
    fn a_long_recording_is_cut_evenly_in_pauses() {
        let frames = speech_with_pauses(23.0 * 60.0);
        let cfg = ChunkingConfig { lanes: 16, ..ChunkingConfig::default() };
        let plan = plan(&frames, &cfg);
        let lengths: Vec<f64> = plan
            .chunks
            .iter()
            .map(|c| c.iter().map(|r| r.len()).sum::<usize>() as f64 * f64::from(FRAME) / 48_000.0)
            .collect();
        assert_eq!(lengths.len(), 16, "{lengths:?}");
        let mean = lengths.iter().sum::<f64>() / lengths.len() as f64;
        for len in &lengths {
            assert!((len - mean).abs() <= mean * 0.08, "{len} s against a mean of {mean} s: {lengths:?}");
        }
        assert!(plan.cut_pauses.iter().all(Option::is_some));
    }

    #[test]
    fn byte_budget_bounds_chunks() {
        let frames = profile(&[(300.0, true)]);
        let cfg = ChunkingConfig { max_upload_bytes: 100_000, ..cfg(600, 720) };
        let plan = plan(&frames, &cfg);
        for chunk in &plan.chunks {
            let bytes: u64 = chunk.iter().flat_map(|r| r.clone()).map(|i| u64::from(frames[i].bytes)).sum();
            assert!(bytes <= 97_000, "{bytes}");
        }
        assert!(plan.chunks.len() >= 13);
    }

    proptest! {
        #[test]
        fn chunks_partition_kept_frames_within_limits(
            stretches in prop::collection::vec((0.1f64..40.0, any::<bool>()), 1..60),
            target in 20u64..120,
            extra in 0u64..60,
        ) {
            let frames = profile(&stretches);
            prop_assume!(!frames.is_empty());
            let cfg = cfg(target, target + extra);
            let plan = plan(&frames, &cfg);
            // Every frame is either kept in exactly one chunk, in order, or removed from a pause.
            let mut next = 0usize;
            for chunk in &plan.chunks {
                prop_assert!(!chunk.is_empty());
                let len: u64 = chunk.iter().map(|r| r.len() as u64 * u64::from(FRAME)).sum();
                prop_assert!(len <= (target + extra) * 48_000, "chunk of {} ticks", len);
                for r in chunk {
                    for skipped in next..r.start {
                        prop_assert!(plan.pauses.iter().any(|p| p.removed.contains(&skipped)));
                    }
                    next = r.end;
                }
            }
            prop_assert_eq!(next, frames.len());
            // Every cut made in a pause starts the next chunk on a silent frame of that pause.
            for (k, pause) in plan.cut_pauses.iter().enumerate() {
                if let Some(pi) = pause {
                    let first = plan.chunks[k + 1][0].start;
                    prop_assert!(plan.pauses[*pi].frames.contains(&first));
                    prop_assert!(!frames[first].speech);
                }
            }
            // Removed stretches keep at least the shortened length of their pause.
            for p in &plan.pauses {
                if !p.removed.is_empty() {
                    let kept = p.frames.len() - p.removed.len();
                    prop_assert!(kept * FRAME as usize >= 24_000);
                }
            }
        }
    }
}
