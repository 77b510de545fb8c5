//! Every format but Ogg/Opus: symphonia demuxes and decodes, we downmix to mono and resample to
//! 16 kHz (only when the source rate differs) block by block, so memory stays bounded.
//!
//! Nothing here is sized from a header field before it is checked: the sample rate and channel
//! count must be in the ranges real recordings use, and durations are counted from what the
//! demuxer and decoder actually produce, never from the container's declared length.

use std::io::Cursor;

use bytes::Bytes;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Indexing, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};
use symphonia::core::audio::layouts::CHANNEL_LAYOUT_MONO;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia_adapter_libopus::OpusDecoder;

use crate::AudioError;

/// The rate everything is brought to: what speech-to-text models use.
pub(crate) const RATE: u32 = 16_000;

/// Input frames per resampler call.
const RESAMPLE_BLOCK: usize = 1024;

/// Sample rates real recordings use; anything outside is refused before a decoder or resampler
/// is built (a resampler's tables grow with the rate).
pub(crate) const RATES: std::ops::RangeInclusive<u32> = 8_000..=192_000;

/// Most channels accepted (7.1 surround).
pub(crate) const MAX_CHANNELS: usize = 8;

/// Largest FFT block (input frames) worth using; rates sharing only a small common divisor with
/// 16 kHz (e.g. 191,999 Hz) would need a block of a whole second and go through sinc
/// interpolation instead.
const MAX_FFT_BLOCK: usize = 4_096;

fn codecs() -> &'static CodecRegistry {
    static REGISTRY: std::sync::OnceLock<CodecRegistry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<OpusDecoder>();
        registry
    })
}

/// A decoder that yields 16 kHz mono blocks.
pub(crate) struct PcmSource {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// The decoder's own output rate.
    rate: u32,
    /// Packet time units as (numerator, denominator) seconds.
    time_base: (u32, u32),
    resampler: Option<Resampling>,
    /// Frames decoded at the source rate.
    pub source_frames: u64,
    /// Frames the container says the track has, if it says.
    pub declared_frames: Option<u64>,
    interleaved: Vec<f32>,
    decode_errors: u32,
    packets: u32,
    /// 16 kHz samples handed out so far.
    emitted: u64,
}

struct Resampling {
    resampler: Box<dyn Resampler<f32>>,
    pending: Vec<f32>,
    /// Output frames still to drop for the resampler's delay.
    skip: usize,
}

impl PcmSource {
    /// Opens the container and the first decodable audio track.
    pub(crate) fn open(data: Bytes) -> Result<Self, AudioError> {
        let data = crate::headers::prepare_for_demuxer(crate::detect::detect_format(&data)?, data)?;
        let mss = MediaSourceStream::new(Box::new(Cursor::new(data)), Default::default());
        let format = symphonia::default::get_probe()
            .probe(&Hint::new(), mss, FormatOptions::default(), MetadataOptions::default())
            // The leading bytes already named a container we read, so failing here means it is broken.
            .map_err(AudioError::corrupt)?;
        let tracks = format.tracks();
        let track = tracks.iter().find(|t| t.codec_params.as_ref().and_then(|p| p.audio()).is_some()).ok_or(
            if tracks.is_empty() { AudioError::corrupt("no tracks") } else { AudioError::NoAudioTrack },
        )?;
        let track_id = track.id;
        let track_time_base = track.time_base.map(|tb| (tb.numer.get(), tb.denom.get()));
        let declared_frames = track.num_frames;
        let mut params =
            track.codec_params.as_ref().and_then(|p| p.audio()).cloned().ok_or(AudioError::NoAudioTrack)?;
        check_parameters(&params)?;
        if params.codec == CODEC_ID_OPUS {
            // libopus decodes and downmixes to 16 kHz mono by itself.
            params.sample_rate = Some(RATE);
            params.channels = Some(CHANNEL_LAYOUT_MONO);
        }
        let decoder =
            codecs().make_audio_decoder(&params, &AudioDecoderOptions::default()).map_err(|e| match e {
                SymError::Unsupported(what) => AudioError::UnsupportedFormat(what.to_string()),
                other => AudioError::corrupt(other),
            })?;
        let rate = params.sample_rate.unwrap_or(RATE);
        let declared_frames = if params.codec == CODEC_ID_OPUS { None } else { declared_frames };
        let resampler = if rate == RATE { None } else { Some(Resampling::new(rate)?) };
        Ok(Self {
            format,
            decoder,
            track_id,
            rate,
            time_base: track_time_base.unwrap_or((1, rate)),
            resampler,
            source_frames: 0,
            declared_frames,
            interleaved: Vec::new(),
            decode_errors: 0,
            packets: 0,
            emitted: 0,
        })
    }

    /// What the container claims the track's length is, for comparison with what is decoded.
    pub(crate) fn declared(&self) -> Option<std::time::Duration> {
        self.declared_frames.map(|frames| crate::pipeline::duration_of_frames(frames, self.rate))
    }

    /// Sums the demuxed packets' durations without decoding them: cheap, and for every format
    /// but MP4 and Matroska (whose packet durations are table entries) it measures the content.
    /// `None` when some packet carries no duration. Stops with `TooLong` once past `limit`.
    pub(crate) fn packet_walk(
        &mut self,
        limit: std::time::Duration,
    ) -> Result<Option<std::time::Duration>, AudioError> {
        let time_base = self.time_base;
        let mut total = 0u128; // nanoseconds
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(SymError::IoError(_)) => break,
                Err(SymError::ResetRequired) => {
                    return Err(AudioError::UnsupportedFormat("stream changes".into()));
                }
                Err(e) => return Err(AudioError::corrupt(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let dur = u128::from(packet.dur.get());
            if dur == 0 {
                return Ok(None);
            }
            total += dur * u128::from(time_base.0) * 1_000_000_000 / u128::from(time_base.1);
            if total > limit.as_nanos() {
                return Err(AudioError::TooLong { actual: nanos(total), limit });
            }
        }
        Ok(Some(nanos(total)))
    }

    /// Source sample rate.
    pub(crate) fn rate(&self) -> u32 {
        self.rate
    }

    /// Appends the next block of 16 kHz mono samples to `out`; false at the end of the stream.
    pub(crate) fn next_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        let begin = out.len();
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => {
                    self.flush(out, begin)?;
                    return Ok(false);
                }
                Err(SymError::ResetRequired) => {
                    return Err(AudioError::UnsupportedFormat("stream changes".into()));
                }
                Err(SymError::IoError(e)) => return Err(AudioError::corrupt(format!("truncated: {e}"))),
                Err(e) => return Err(AudioError::corrupt(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            self.packets += 1;
            let buf = match self.decoder.decode(&packet) {
                Ok(buf) => buf,
                Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                    // One bad packet is skipped (a glitch); a stream of them is a broken file.
                    self.decode_errors += 1;
                    if self.decode_errors > 16 && self.decode_errors * 4 > self.packets {
                        return Err(AudioError::corrupt("most packets fail to decode"));
                    }
                    continue;
                }
                Err(e) => return Err(AudioError::corrupt(e)),
            };
            let frames = buf.frames();
            if frames == 0 {
                continue;
            }
            let channels = buf.spec().channels().count().max(1);
            if channels > MAX_CHANNELS {
                return Err(AudioError::UnsupportedFormat(format!("{channels} channels")));
            }
            buf.copy_to_vec_interleaved::<f32>(&mut self.interleaved);
            self.source_frames += frames as u64;
            let start = out.len();
            let mono =
                self.interleaved.chunks_exact(channels).map(|f| f.iter().sum::<f32>() / channels as f32);
            match self.resampler.as_mut() {
                None => out.extend(mono),
                Some(r) => {
                    r.pending.extend(mono);
                    r.run(out, false)?;
                }
            }
            if out.len() > start {
                self.emitted += (out.len() - begin) as u64;
                return Ok(true);
            }
        }
    }

    fn flush(&mut self, out: &mut Vec<f32>, begin: usize) -> Result<(), AudioError> {
        if let Some(r) = self.resampler.as_mut() {
            r.run(out, true)?;
            // The resampler works in whole blocks; trim or pad to the exact resampled length.
            let expected =
                (u128::from(self.source_frames) * u128::from(RATE)).div_ceil(u128::from(self.rate)) as u64;
            let produced = self.emitted + (out.len() - begin) as u64;
            if produced > expected {
                let excess = ((produced - expected) as usize).min(out.len() - begin);
                out.truncate(out.len() - excess);
            } else {
                out.resize(out.len() + (expected - produced) as usize, 0.0);
            }
        }
        self.emitted += (out.len() - begin) as u64;
        Ok(())
    }
}

/// Refuses parameters no real recording has, before anything is sized from them.
fn check_parameters(params: &AudioCodecParameters) -> Result<(), AudioError> {
    if let Some(rate) = params.sample_rate
        && !RATES.contains(&rate)
    {
        return Err(AudioError::UnsupportedFormat(format!("sample rate {rate} Hz")));
    }
    let channels = params.channels.as_ref().map_or(1, |c| c.count());
    if channels > MAX_CHANNELS {
        return Err(AudioError::UnsupportedFormat(format!("{channels} channels")));
    }
    Ok(())
}

impl Resampling {
    fn new(rate: u32) -> Result<Self, AudioError> {
        if !RATES.contains(&rate) {
            return Err(AudioError::UnsupportedFormat(format!("sample rate {rate} Hz")));
        }
        let unsupported = |e: rubato::ResamplerConstructionError| {
            AudioError::UnsupportedFormat(format!("sample rate {rate} Hz: {e}"))
        };
        let block = (rate / gcd(rate, RATE)) as usize;
        let resampler: Box<dyn Resampler<f32>> = if block <= MAX_FFT_BLOCK {
            Box::new(
                Fft::<f32>::new(rate as usize, RATE as usize, RESAMPLE_BLOCK, 1, FixedSync::Input)
                    .map_err(unsupported)?,
            )
        } else {
            let mut params = SincInterpolationParameters::new(128, WindowFunction::BlackmanHarris2);
            params.oversampling_factor = 128;
            params.interpolation = SincInterpolationType::Linear;
            Box::new(
                Async::<f32>::new_sinc(
                    f64::from(RATE) / f64::from(rate),
                    1.0,
                    &params,
                    RESAMPLE_BLOCK,
                    1,
                    FixedAsync::Input,
                )
                .map_err(unsupported)?,
            )
        };
        let skip = resampler.output_delay();
        Ok(Self { resampler, pending: Vec::with_capacity(RESAMPLE_BLOCK * 2), skip })
    }

    fn run(&mut self, out: &mut Vec<f32>, last: bool) -> Result<(), AudioError> {
        let err = |e: rubato::ResampleError| AudioError::Encode(format!("resampler: {e}"));
        let mut consumed = 0;
        loop {
            let need = self.resampler.input_frames_next();
            let available = self.pending.len() - consumed;
            if available < need && !(last && available > 0) {
                break;
            }
            let take = available.min(need);
            let input = &self.pending[consumed..consumed + take];
            let adapter =
                InterleavedSlice::new(input, 1, take).map_err(|e| AudioError::Encode(e.to_string()))?;
            let indexing = (take < need).then(|| Indexing::new().partial_len(take));
            let produced = self.resampler.process(&adapter, indexing.as_ref()).map_err(err)?;
            let data = produced.take_data();
            let drop = self.skip.min(data.len());
            self.skip -= drop;
            out.extend_from_slice(&data[drop..]);
            consumed += take;
        }
        self.pending.drain(..consumed);
        if last {
            // Push the samples still inside the filter out with silence.
            let mut remaining = self.resampler.output_delay();
            while remaining > 0 {
                let need = self.resampler.input_frames_next();
                let silence = vec![0.0f32; need];
                let adapter = InterleavedSlice::new(&silence[..], 1, need)
                    .map_err(|e| AudioError::Encode(e.to_string()))?;
                let data = self
                    .resampler
                    .process(&adapter, Some(&Indexing::new().partial_len(0)))
                    .map_err(err)?
                    .take_data();
                let take = remaining.min(data.len());
                out.extend_from_slice(&data[..take]);
                remaining -= take;
                if data.is_empty() {
                    break;
                }
            }
        }
        Ok(())
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn nanos(n: u128) -> std::time::Duration {
    std::time::Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}
