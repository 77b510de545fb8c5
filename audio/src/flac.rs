//! Streaming 16 kHz mono 16-bit FLAC: samples go in as they are decoded, frames are encoded
//! block by block, and only the compressed bytes are kept.

use flacenc::bitsink::ByteSink;
use flacenc::component::{BitRepr, Stream};
use flacenc::config;
use flacenc::error::{Verified, Verify};
use flacenc::source::{Fill, FrameBuf};

use crate::AudioError;
use crate::pcm::RATE;

/// Samples per FLAC frame (256 ms at 16 kHz), the reference encoder's default size.
const BLOCK: usize = 4096;

/// One chunk's FLAC stream under construction.
pub(crate) struct FlacWriter {
    config: Verified<config::Encoder>,
    framebuf: FrameBuf,
    block: Vec<i32>,
    frames: ByteSink,
    frame_number: usize,
    total_samples: usize,
    info: Stream,
}

fn encode_err(e: impl std::fmt::Debug) -> AudioError {
    AudioError::Encode(format!("flac: {e:?}"))
}

impl FlacWriter {
    pub(crate) fn new() -> Result<Self, AudioError> {
        let mut encoder = config::Encoder::default();
        encoder.block_size = BLOCK;
        encoder.multithread = false;
        let config = encoder.into_verified().map_err(|(_, e)| encode_err(e))?;
        Ok(Self {
            config,
            framebuf: FrameBuf::with_size(1, BLOCK).map_err(encode_err)?,
            block: Vec::with_capacity(BLOCK),
            frames: ByteSink::new(),
            frame_number: 0,
            total_samples: 0,
            info: Stream::new(RATE as usize, 1, 16).map_err(encode_err)?,
        })
    }

    /// Adds samples in [-1, 1].
    pub(crate) fn push(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        for &s in samples {
            self.block.push((s.clamp(-1.0, 1.0) * 32767.0).round() as i32);
            if self.block.len() == BLOCK {
                self.encode_block()?;
            }
        }
        Ok(())
    }

    fn encode_block(&mut self) -> Result<(), AudioError> {
        if self.block.is_empty() {
            return Ok(());
        }
        self.framebuf.resize(self.block.len());
        self.framebuf.fill_interleaved(&self.block).map_err(encode_err)?;
        let frame = flacenc::encode_fixed_size_frame(
            &self.config,
            &self.framebuf,
            self.frame_number,
            self.info.stream_info(),
        )
        .map_err(encode_err)?;
        frame.write(&mut self.frames).map_err(encode_err)?;
        self.frame_number += 1;
        self.total_samples += self.block.len();
        self.block.clear();
        Ok(())
    }

    /// Encodes what is left and returns the whole file: header first, then the frames.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, AudioError> {
        self.encode_block()?;
        let info = self.info.stream_info_mut();
        info.set_block_sizes(BLOCK, BLOCK).map_err(encode_err)?;
        info.set_total_samples(self.total_samples);
        let mut header = ByteSink::new();
        self.info.write(&mut header).map_err(encode_err)?;
        let mut out = header.into_inner();
        out.extend_from_slice(self.frames.as_slice());
        Ok(out)
    }

    /// Samples written so far.
    pub(crate) fn samples(&self) -> usize {
        self.total_samples + self.block.len()
    }
}
