//! Tunables of the pipeline, with the defaults the worker uses.

use std::time::Duration;

/// How inputs are cut into upload chunks and how long pauses are shortened.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChunkingConfig {
    /// Preferred length of a chunk (measured in uploaded audio); cuts land in the longest pause near it.
    pub target_chunk: Duration,
    /// No chunk is longer than this; a chunk is cut inside speech only when no pause allows it.
    pub max_chunk: Duration,
    /// Requests the provider takes at once for one recording: a recording long enough is cut
    /// into (a multiple of) this many chunks of even length, so they all come back together.
    #[serde(default = "one_lane")]
    pub lanes: usize,
    /// Chunks are not made shorter than this to fill the lanes: a recogniser needs context.
    #[serde(default = "sixty_seconds")]
    pub min_chunk: Duration,
    /// Hard cap on one chunk's upload size in bytes (the provider rejects larger requests).
    pub max_upload_bytes: u64,
    /// Pauses longer than this are shortened...
    pub long_silence: Duration,
    /// ...to this length, half kept on each side of the pause.
    pub shortened_silence: Duration,
    /// Shortest silence that counts as a pause where a chunk may be cut.
    pub min_pause: Duration,
    /// Inputs longer than this are refused with [`crate::AudioError::TooLong`].
    pub max_duration: Duration,
    /// The longest audio this job may decode, set per job from what the user can pay for:
    /// decoding stops past it with [`crate::AudioError::OverBudget`], so a file whose headers
    /// understate its length costs no more work than the user could pay for. `None`: no budget.
    pub budget: Option<Duration>,
}

impl Default for ChunkingConfig {
    fn default() -> Self {
        Self {
            target_chunk: Duration::from_secs(600),
            // Opus uploads run at 3-4 kB/s, so 12 minutes are a few MB, far below the 25 MB cap.
            max_chunk: Duration::from_secs(720),
            lanes: 1,
            min_chunk: sixty_seconds(),
            max_upload_bytes: 25 * 1024 * 1024,
            long_silence: Duration::from_secs(2),
            shortened_silence: Duration::from_millis(500),
            min_pause: Duration::from_millis(300),
            max_duration: Duration::from_secs(6 * 3600),
            budget: None,
        }
    }
}

fn one_lane() -> usize {
    1
}

fn sixty_seconds() -> Duration {
    Duration::from_secs(60)
}
