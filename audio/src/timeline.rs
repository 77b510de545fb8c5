//! Time on the original recording versus time inside an uploaded chunk. Internally time is
//! counted in ticks of 1/48000 s, which is exact for Opus granules and for 16 kHz samples.

/// Ticks per second of the internal clock.
pub(crate) const TICKS_PER_SEC: u64 = 48_000;

pub(crate) fn ticks_to_secs(ticks: u64) -> f64 {
    ticks as f64 / TICKS_PER_SEC as f64
}

/// Maps time inside one chunk back to the original recording, across the pauses that were
/// shortened inside the chunk. Both timelines run at the same speed between shortened pauses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OffsetMap {
    /// (chunk ticks, original ticks) where a stretch of kept audio starts, sorted by chunk time.
    pieces: Vec<(u64, u64)>,
}

impl OffsetMap {
    /// Builds a map from the starts of kept stretches as (chunk, original) tick pairs; negative
    /// positions (inside an Opus pre-skip) are clamped by moving both sides together.
    pub(crate) fn from_starts(starts: impl IntoIterator<Item = (i64, i64)>) -> Self {
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        for (chunk, original) in starts {
            let shift = (-chunk).max(-original).max(0);
            let (c, o) = ((chunk + shift) as u64, (original + shift) as u64);
            match pieces.last() {
                Some(&(pc, po)) if c.saturating_sub(pc) == o.saturating_sub(po) && o >= po => {}
                Some(&(pc, _)) if c <= pc => {
                    pieces.pop();
                    pieces.push((c, o));
                }
                _ => pieces.push((c, o)),
            }
        }
        if pieces.is_empty() {
            pieces.push((0, 0));
        }
        Self { pieces }
    }

    /// The original-timeline position (seconds) of a position (seconds) inside the chunk.
    pub fn to_original(&self, chunk_secs: f64) -> f64 {
        let t = chunk_secs.max(0.0) * TICKS_PER_SEC as f64;
        let idx = self.pieces.partition_point(|&(c, _)| (c as f64) <= t).saturating_sub(1);
        let (c, o) = self.pieces[idx];
        (o as f64 + (t - c as f64)) / TICKS_PER_SEC as f64
    }

    /// The stretches as (chunk seconds, original seconds) where each starts.
    pub fn pieces(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.pieces.iter().map(|&(c, o)| (ticks_to_secs(c), ticks_to_secs(o)))
    }

    /// Seconds of original time dropped inside this chunk by shortening pauses.
    pub fn removed_secs(&self) -> f64 {
        let first = self.pieces[0];
        let last = self.pieces[self.pieces.len() - 1];
        ticks_to_secs((last.1 - first.1).saturating_sub(last.0 - first.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = TICKS_PER_SEC as i64;

    #[test]
    fn maps_across_a_shortened_pause() {
        // Kept 0..10 s from original 100 s, then a 3 s pause shrank: chunk 10 s is original 113 s.
        let map = OffsetMap::from_starts([(0, 100 * S), (10 * S, 113 * S)]);
        assert!((map.to_original(0.0) - 100.0).abs() < 1e-9);
        assert!((map.to_original(9.5) - 109.5).abs() < 1e-9);
        assert!((map.to_original(10.25) - 113.25).abs() < 1e-9);
        assert!((map.removed_secs() - 3.0).abs() < 1e-9);
    }

    #[test]
    fn contiguous_stretches_merge_and_pre_skip_clamps() {
        let map = OffsetMap::from_starts([(-312, -312), (960 - 312, 960 - 312), (1920 - 312, 1920 - 312)]);
        assert_eq!(map.pieces().count(), 1);
        assert!((map.to_original(1.0) - 1.0).abs() < 1e-9);
    }
}
