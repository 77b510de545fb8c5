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

    /// The packets so far, without flushing: samples that do not fill a packet yet are dropped.
    fn unflushed(self) -> Encoded {
        self.out
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

/// Samples one encoder of [`encode_in_segments`] codes at a time: 30 s (a whole number of packets).
const SEGMENT_SAMPLES: usize = 1_500 * PACKET_SAMPLES;

/// Samples before its segment that an encoder codes first and throws away: 0.5 s. SILK predicts
/// each frame from the ones before it (gains, spectrum, pitch); after half a second of the same
/// audio a fresh encoder has the state a single one would have had, so the decoder, which has
/// just decoded the previous segment, hears no seam.
const PRE_ROLL: usize = 25 * PACKET_SAMPLES;

/// A segment of the recording for one encoder: `samples` start `PRE_ROLL` samples before the
/// segment (none for the first), whose packets are dropped.
struct Segment {
    index: usize,
    samples: Vec<f32>,
    pre_roll: usize,
    last: bool,
}

/// Encodes the blocks of 16 kHz samples received on `blocks` on `workers` threads, a segment of
/// [`SEGMENT_SAMPLES`] each, into the packets one encoder would have produced on the same
/// 20 ms grid: encoding is most of the time spent on a long recording, and one encoder keeps
/// one core busy while the others wait. A recording shorter than a segment is coded by one
/// encoder exactly as before.
pub(crate) fn encode_in_segments(
    blocks: std::sync::mpsc::Receiver<std::sync::Arc<Vec<f32>>>,
    workers: usize,
) -> Result<Encoded, AudioError> {
    let (to_workers, work) = std::sync::mpsc::sync_channel::<Segment>(workers);
    // Shared by the coders only: once they have all stopped (an error), sending fails.
    let work = std::sync::Arc::new(std::sync::Mutex::new(work));
    std::thread::scope(|scope| {
        let coders: Vec<_> = (0..workers.max(1))
            .map(|_| {
                let work = std::sync::Arc::clone(&work);
                scope.spawn(move || -> Result<Vec<(usize, Encoded)>, AudioError> {
                    let mut done = Vec::new();
                    loop {
                        // A poisoned lock means another coder panicked: its join reports it.
                        let next = work.lock().ok().and_then(|queue| queue.recv().ok());
                        let Some(segment) = next else { return Ok(done) };
                        done.push((segment.index, encode_segment(segment)?));
                    }
                })
            })
            .collect();
        drop(work);
        let mut segment =
            Segment { index: 0, samples: Vec::with_capacity(SEGMENT_SAMPLES), pre_roll: 0, last: false };
        let mut total = 0u64;
        let mut sent = true;
        'blocks: for block in blocks {
            total += block.len() as u64;
            let mut rest = &block[..];
            while !rest.is_empty() {
                let room = segment.pre_roll + SEGMENT_SAMPLES - segment.samples.len();
                let take = room.min(rest.len());
                segment.samples.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if segment.samples.len() == segment.pre_roll + SEGMENT_SAMPLES {
                    let mut next = Vec::with_capacity(PRE_ROLL + SEGMENT_SAMPLES);
                    next.extend_from_slice(&segment.samples[segment.samples.len() - PRE_ROLL..]);
                    let index = segment.index + 1;
                    let full = std::mem::replace(
                        &mut segment,
                        Segment { index, samples: next, pre_roll: PRE_ROLL, last: false },
                    );
                    if to_workers.send(full).is_err() {
                        // Every coder stopped: the first error is reported below.
                        sent = false;
                        break 'blocks;
                    }
                }
            }
        }
        if sent {
            segment.last = true;
            let _ = to_workers.send(segment);
        }
        drop(to_workers);
        let mut parts = Vec::new();
        for coder in coders {
            let coded = coder.join().map_err(|_| AudioError::corrupt("an opus encoder thread panicked"))?;
            parts.extend(coded?);
        }
        parts.sort_by_key(|(index, _)| *index);
        let mut parts = parts.into_iter().map(|(_, encoded)| encoded);
        let mut whole = parts.next().ok_or_else(|| AudioError::Encode("no segment was encoded".into()))?;
        for part in parts {
            whole.bytes.extend_from_slice(&part.bytes);
            whole.sizes.extend_from_slice(&part.sizes);
        }
        whole.samples = total;
        Ok(whole)
    })
}

/// One segment's packets, its pre-roll's dropped.
fn encode_segment(segment: Segment) -> Result<Encoded, AudioError> {
    let mut encoder = SpeechEncoder::new()?;
    encoder.push(&segment.samples)?;
    let mut encoded = if segment.last { encoder.finish()? } else { encoder.unflushed() };
    let skip = segment.pre_roll / PACKET_SAMPLES;
    let skipped: usize = encoded.sizes.iter().take(skip).map(|&s| usize::from(s)).sum();
    encoded.bytes.drain(..skipped);
    encoded.sizes.drain(..skip.min(encoded.sizes.len()));
    Ok(encoded)
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

    /// Something like speech for a codec: a voice-like harmonic tone whose pitch and loudness
    /// move, in syllables, with short pauses; loudest at every whole second (where seams fall).
    fn speechlike(seconds: usize) -> Vec<f32> {
        (0..seconds * 16_000)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                let syllable = (t * 4.0 + 0.6).fract();
                let envelope =
                    if syllable < 0.8 { (syllable * std::f32::consts::PI / 0.8).sin() } else { 0.0 };
                let pitch = 120.0 + 30.0 * (t * 0.7).sin();
                let voice: f32 = (1..6)
                    .map(|h| (2.0 * std::f32::consts::PI * pitch * h as f32 * t).sin() / h as f32)
                    .sum();
                0.25 * envelope * voice
            })
            .collect()
    }

    fn decoded(encoded: &Encoded) -> Vec<f32> {
        let mut decoder = opusic_c::Decoder::new(Channels::Mono, SampleRate::Hz16000).expect("a decoder");
        let (mut out, mut at) = (Vec::new(), 0);
        for &size in &encoded.sizes {
            let mut pcm = vec![0.0; PACKET_SAMPLES];
            let n = decoder
                .decode_float_to_slice(&encoded.bytes[at..at + usize::from(size)], &mut pcm, false)
                .expect("decodes");
            out.extend_from_slice(&pcm[..n]);
            at += usize::from(size);
        }
        // Packet i starts `lookahead` samples before input sample i * 320.
        out.split_off(encoded.lookahead)
    }

    /// Error energy against the input over `range` of it, in dB below the input's.
    fn snr(input: &[f32], output: &[f32], range: std::ops::Range<usize>) -> f32 {
        let signal: f32 = input[range.clone()].iter().map(|x| x * x).sum();
        let noise: f32 = range.map(|i| (input[i] - output[i]).powi(2)).sum();
        10.0 * (signal / noise.max(1e-12)).log10()
    }

    #[test]
    fn segments_on_several_threads_code_like_one_encoder_without_a_seam() {
        let input = speechlike(75);
        let mut single = SpeechEncoder::new().expect("an encoder");
        single.push(&input).expect("encodes");
        let single = single.finish().expect("flushes");
        let (send, blocks) = std::sync::mpsc::sync_channel(4);
        let feeder = {
            let input = input.clone();
            std::thread::spawn(move || {
                for block in input.chunks(7_777) {
                    send.send(std::sync::Arc::new(block.to_vec())).expect("the encoder listens");
                }
            })
        };
        let parallel = encode_in_segments(blocks, 2).expect("encodes");
        feeder.join().expect("fed");
        // The same packets on the same 20 ms grid, and the same stream parameters.
        assert_eq!((parallel.samples, parallel.lookahead), (single.samples, single.lookahead));
        assert_eq!(parallel.head, single.head);
        assert_eq!(parallel.sizes.len(), single.sizes.len());
        assert_eq!(parallel.bytes.len(), parallel.sizes.iter().map(|&s| usize::from(s)).sum::<usize>());
        let (one, many) = (decoded(&single), decoded(&parallel));
        let whole = 0..input.len();
        assert!(snr(&input, &many, whole.clone()) > snr(&input, &one, whole) - 0.5);
        // Within 40 ms of each seam (30 s and 60 s) the segments decode as well as one stream (a
        // fresh encoder without the pre-roll loses 1 to 3 dB there).
        for seam in [SEGMENT_SAMPLES, 2 * SEGMENT_SAMPLES] {
            let around = seam - 640..seam + 640;
            let (with_seam, without) = (snr(&input, &many, around.clone()), snr(&input, &one, around));
            assert!(with_seam > without - 0.5, "at {seam}: {with_seam:.1} dB against {without:.1} dB");
        }
    }
}
