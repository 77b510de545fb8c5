//! The errors callers branch on. Every failure to read user input maps to one of the first five
//! variants (and `OverBudget`), which the bot translates for the user; `Encode` is an internal failure.

use std::time::Duration;

/// Why an input could not be turned into chunks.
#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum AudioError {
    /// The bytes are not in a container or codec we decode.
    #[error("unsupported audio format: {0}")]
    UnsupportedFormat(String),
    /// The container or codec was recognised but its data is broken or truncated.
    #[error("corrupt audio: {0}")]
    Corrupt(String),
    /// There is no input, or the input holds no audio samples.
    #[error("the input holds no audio")]
    Empty,
    /// The audio is longer than the configured limit.
    #[error("audio is {actual:?} long, the limit is {limit:?}")]
    TooLong {
        /// The measured (or, for an early stop, at least this) duration.
        actual: Duration,
        /// The configured maximum.
        limit: Duration,
    },
    /// The audio runs past what the user can pay for (`ChunkingConfig::budget`); decoding stopped
    /// there, so the true length is at least `at_least`.
    #[error("audio is at least {at_least:?} long, more than the {budget:?} paid for")]
    OverBudget {
        /// How much was decoded before stopping.
        at_least: Duration,
        /// The budget.
        budget: Duration,
    },
    /// The container holds tracks, but none of them is audio (a video without sound).
    #[error("the file has no audio track")]
    NoAudioTrack,
    /// Encoding a chunk for upload failed; not the user's fault.
    #[error("encoding a chunk failed: {0}")]
    Encode(String),
}

impl AudioError {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

/// Maps symphonia's errors onto ours: I/O errors on an in-memory source mean the data ended early.
impl From<symphonia::core::errors::Error> for AudioError {
    fn from(err: symphonia::core::errors::Error) -> Self {
        use symphonia::core::errors::Error as E;
        match err {
            E::Unsupported(what) => Self::UnsupportedFormat(what.to_string()),
            E::IoError(io) => Self::Corrupt(format!("truncated or unreadable: {io}")),
            other => Self::Corrupt(other.to_string()),
        }
    }
}
