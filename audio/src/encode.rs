//! What every non-Opus input is uploaded as: 16 kHz mono Opus from libopus, tuned for speech.
//!
//! The whole recording is encoded once, as it is decoded, into 20 ms packets kept in memory
//! (about 11 MB an hour); chunks are then remuxed from those packets exactly like a voice
//! note's, so the cuts and the dropped silence cost no second decoding pass. A cut can only
//! fall in a pause, where the fresh decoder state at a chunk's start is inaudible.

use opusic_c::{Application, Bitrate, Channels, Encoder, SampleRate, Signal};

use crate::AudioError;
use crate::pcm::RATE;

/// Samples per packet at 16 kHz: 20 ms, the frame size libopus codes speech best at.
pub(crate) const PACKET_SAMPLES: usize = 320;

/// Ticks (1/48000 s) per packet.
pub(crate) const PACKET_TICKS: u32 = 960;

/// Speech recognisers are trained on 16 kHz audio; 24 kbps of wideband SILK keeps every phoneme
/// a recogniser uses while staying well under half of an MP3 voice recording.
const BITRATE: u32 = 24_000;

/// libopus complexity (0-10). SILK at 5 codes speech within a fraction of a dB of 10 at about
/// half the encoding time, and encoding is most of the CPU spent on a long recording.
const COMPLEXITY: u8 = 5;

/// Largest packet accepted from the encoder (the Opus limit for one 20 ms frame).
const MAX_PACKET: usize = 1275;

fn encode_err(what: &str, code: opusic_c::ErrorCode) -> AudioError {
    AudioError::Encode(format!("opus {what}: {code:?}"))
}

/// A recording encoded as one Opus stream, not yet in any container.
pub(crate) struct Encoded {
    /// The OpusHead identification header.
    pub head: Vec<u8>,
    /// Every packet's bytes, one after the other.
    pub bytes: Vec<u8>,
    /// Each packet's length in `bytes`.
    pub sizes: Vec<u16>,
    /// Encoder delay at 16 kHz: packet `i` holds input samples from `i * 320 - lookahead`.
    pub lookahead: usize,
    /// Input samples encoded (16 kHz), without the padding that flushes the encoder.
    pub samples: u64,
}

/// Encodes 16 kHz mono samples pushed in blocks of any size.
pub(crate) struct SpeechEncoder {
    encoder: Encoder,
    pending: Vec<f32>,
    packet: Vec<u8>,
    out: Encoded,
}

impl SpeechEncoder {
    pub(crate) fn new() -> Result<Self, AudioError> {
        let mut encoder = Encoder::new(Channels::Mono, SampleRate::Hz16000, Application::Voip)
            .map_err(|e| encode_err("encoder", e))?;
        encoder.set_bitrate(Bitrate::Value(BITRATE)).map_err(|e| encode_err("bitrate", e))?;
        encoder.set_signal(Signal::Voice).map_err(|e| encode_err("signal", e))?;
        encoder.set_complexity(COMPLEXITY).map_err(|e| encode_err("complexity", e))?;
        let lookahead = encoder.get_look_ahead().map_err(|e| encode_err("lookahead", e))? as usize;
        let pre_skip =
            u16::try_from(lookahead * 3).map_err(|_| AudioError::Encode("opus lookahead".into()))?;
        Ok(Self {
            encoder,
            pending: Vec::with_capacity(PACKET_SAMPLES),
            packet: vec![0; MAX_PACKET],
            out: Encoded {
                head: opus_head(pre_skip),
                bytes: Vec::new(),
                sizes: Vec::new(),
                lookahead,
                samples: 0,
            },
        })
    }

    /// Adds samples in [-1, 1].
    pub(crate) fn push(&mut self, mut samples: &[f32]) -> Result<(), AudioError> {
        self.out.samples += samples.len() as u64;
        while !samples.is_empty() {
            let take = (PACKET_SAMPLES - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.pending.len() == PACKET_SAMPLES {
                self.encode_pending()?;
            }
        }
        Ok(())
    }

    fn encode_pending(&mut self) -> Result<(), AudioError> {
        let n = self
            .encoder
            .encode_float_to_slice(&self.pending, &mut self.packet)
            .map_err(|e| encode_err("encode", e))?;
        let size = u16::try_from(n).map_err(|_| AudioError::Encode("opus packet too long".into()))?;
        self.out.bytes.extend_from_slice(&self.packet[..n]);
        self.out.sizes.push(size);
        self.pending.clear();
        Ok(())
    }

    /// Flushes the encoder's delay with silence, so the last input sample is in a packet.
    pub(crate) fn finish(mut self) -> Result<Encoded, AudioError> {
        let needed = (self.out.samples as usize + self.out.lookahead).div_ceil(PACKET_SAMPLES);
        while self.out.sizes.len() < needed {
            self.pending.resize(PACKET_SAMPLES, 0.0);
            self.encode_pending()?;
        }
        Ok(self.out)
    }
}

/// The identification header (RFC 7845, 5.1) of a mono stream coded from 16 kHz input.
fn opus_head(pre_skip: u16) -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1); // version
    head.push(1); // channels
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&RATE.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(0); // mapping family: mono/stereo
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_lands_in_a_packet_of_twenty_milliseconds() {
        let mut encoder = SpeechEncoder::new().expect("an encoder");
        let tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        encoder.push(&tone[..7_000]).expect("encodes");
        encoder.push(&tone[7_000..]).expect("encodes");
        let encoded = encoder.finish().expect("flushes");
        assert_eq!(encoded.samples, 16_000);
        let covered = encoded.sizes.len() * PACKET_SAMPLES;
        assert!(
            covered >= 16_000 + encoded.lookahead && covered < 16_000 + encoded.lookahead + PACKET_SAMPLES
        );
        assert_eq!(encoded.bytes.len(), encoded.sizes.iter().map(|&s| usize::from(s)).sum::<usize>());
        // Every packet is one 20 ms frame by its own TOC byte.
        let mut at = 0;
        for &size in &encoded.sizes {
            let packet = &encoded.bytes[at..at + usize::from(size)];
            assert_eq!(crate::opus::packet_ticks(packet), Some(PACKET_TICKS));
            at += usize::from(size);
        }
        // About 24 kbps: a second of tone is a few kilobytes, far below 16-bit PCM's 32 kB.
        assert!(encoded.bytes.len() < 5_000, "{} bytes", encoded.bytes.len());
    }
}
