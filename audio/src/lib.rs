//! The audio pipeline: recognise and decode what users send, find pauses, cut chunks small
//! enough for a speech-to-text upload, and stitch the per-chunk results back together.
//!
//! Everything here is synchronous and CPU-bound: call it from `tokio::task::spawn_blocking`.
//! Error policy: anything wrong with the user's file is an [`AudioError`] variant the bot maps to
//! a message; nothing here panics on bad input (a proptest fuzzes the entry points).

mod config;
mod detect;
mod encode;
mod error;
mod headers;
mod ogg;
mod opus;
mod pcm;
mod pipeline;
mod plan;
mod timeline;
mod transcript;
mod vad;

/// Inputs and uploads are shared byte buffers; re-exported so callers need not depend on `bytes`.
pub use bytes::Bytes;
pub use config::ChunkingConfig;
pub use detect::{InputFormat, detect_format};
pub use error::AudioError;
pub use pipeline::{
    Analysis, Chunk, ChunkEncoding, Prepared, ProbeInfo, Summary, prepare, prepare_with, probe,
};
pub use timeline::OffsetMap;
pub use transcript::{ChunkTiming, ChunkTranscript, Segment, Transcript, prompt_tail, stitch, timestamp};
