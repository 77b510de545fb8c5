//! The entry points: measure an input, and turn it into upload chunks.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use bytes::Bytes;

use crate::detect::{InputFormat, detect_format};
use crate::encode::{Encoded, PACKET_SAMPLES, encode_in_segments};
use crate::opus::{self, OpusStream};
use crate::pcm::{PcmSource, RATE};
use crate::plan::{Frame, Plan, plan};
use crate::timeline::{OffsetMap, TICKS_PER_SEC, ticks_to_secs};
use crate::transcript::ChunkTiming;
use crate::vad::{VAD_FRAME, Vad, dilate};
use crate::{AudioError, ChunkingConfig};

/// Ticks per 16 kHz sample.
const TICKS_PER_SAMPLE: u64 = TICKS_PER_SEC / RATE as u64;

/// How a chunk's bytes are encoded, which decides the upload's file name and MIME type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChunkEncoding {
    /// Opus packets in a new Ogg stream: a voice note's own packets, or anything else encoded
    /// by libopus as 16 kHz mono speech.
    OggOpus,
}

impl ChunkEncoding {
    /// The MIME type to send with the upload.
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::OggOpus => "audio/ogg",
        }
    }

    /// The file extension (without a dot) the provider uses to recognise the format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::OggOpus => "ogg",
        }
    }
}

/// One upload: its bytes and where it sits on the original timeline.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Position in the sequence, from 0.
    pub index: usize,
    /// The file to upload.
    pub bytes: Bytes,
    /// How `bytes` are encoded.
    pub encoding: ChunkEncoding,
    /// Start, end and offset map on the original timeline.
    pub timing: ChunkTiming,
}

/// How pauses were found, for logs and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Analysis {
    /// Opus packet sizes, confirmed by decoding around the pauses used.
    OpusPacketSizes,
    /// Every Opus packet decoded (the stream gave no size signal).
    OpusFullDecode,
    /// Decoded by symphonia, analysed as 16 kHz PCM and encoded as Opus at the same time.
    Pcm,
}

/// What [`prepare_with`] found, besides the chunks it handed out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// The detected input format.
    pub format: InputFormat,
    /// The duration of the audio present, measured from the packets (Opus) or the decoded
    /// samples (everything else), never from a header; this is what pricing uses, and no chunk
    /// holds audio past it.
    pub duration: Duration,
    /// What the file's headers claim the duration is (Ogg granule, container length), if they
    /// say: only for spotting files that lie.
    pub declared: Option<Duration>,
    /// How pauses were found.
    pub analysis: Analysis,
    /// Number of chunks.
    pub chunks: usize,
    /// Sum of the chunks' sizes in bytes.
    pub upload_bytes: u64,
    /// Where each chunk after the first begins on the original timeline, in seconds.
    pub cuts: Vec<f64>,
    /// Whether each cut fell in a pause (false: speech ran past the maximum chunk length).
    pub cuts_in_pauses: Vec<bool>,
}

/// [`Summary`] plus the chunks, for callers happy to hold all uploads in memory.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The summary.
    pub summary: Summary,
    /// The uploads in order.
    pub chunks: Vec<Chunk>,
}

/// The cheap measurement of an input.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeInfo {
    /// The detected input format.
    pub format: InputFormat,
    /// Duration of the audio present: exact for Ogg/Opus (every packet's own length); the
    /// demuxed frames' own durations for MP3, ADTS, FLAC, WAV and Ogg Vorbis; decoded samples
    /// for MP4 and Matroska, whose packet durations are tables a file can fake.
    /// [`prepare_with`] measures by decoding too, and its figure is the one billed.
    pub duration: Duration,
    /// What the headers claim, if they say.
    pub declared: Option<Duration>,
}

pub(crate) fn duration_of_ticks(ticks: u64) -> Duration {
    Duration::from_nanos((u128::from(ticks) * 1_000_000_000 / u128::from(TICKS_PER_SEC)) as u64)
}

pub(crate) fn duration_of_frames(frames: u64, rate: u32) -> Duration {
    Duration::from_nanos(
        u64::try_from(u128::from(frames) * 1_000_000_000 / u128::from(rate.max(1))).unwrap_or(u64::MAX),
    )
}

fn ticks_of(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos() * u128::from(TICKS_PER_SEC) / 1_000_000_000).unwrap_or(u64::MAX)
}

/// Measures an input's format and duration without decoding it (a packet walk), refusing it
/// with `TooLong` as soon as it passes `config.max_duration`. MP4 and Matroska files, and
/// packets without durations, are decoded instead, and then no further than `config.budget`
/// (`OverBudget`).
///
/// # Errors
/// The typed input errors of [`AudioError`].
pub fn probe(input: &Bytes, config: &ChunkingConfig) -> Result<ProbeInfo, AudioError> {
    let format = detect_format(input)?;
    if format == InputFormat::OggOpus {
        let stream = opus::parse(input, ticks_of(config.max_duration))?;
        return Ok(ProbeInfo {
            format,
            duration: duration_of_ticks(stream.total),
            declared: stream.declared.map(duration_of_ticks),
        });
    }
    let mut source = PcmSource::open(input.clone())?;
    let declared = source.declared();
    // MP4 and Matroska packet durations are table entries a file can fake; elsewhere they
    // come from each frame's own header.
    let trusted = !matches!(format, InputFormat::Mp4 | InputFormat::Matroska);
    if trusted && let Some(duration) = source.packet_walk(config.max_duration)?.filter(|d| !d.is_zero()) {
        return Ok(ProbeInfo { format, duration, declared });
    }
    // Otherwise count the decoded samples, within the same limits.
    let mut source = PcmSource::open(input.clone())?;
    let mut scratch = Vec::new();
    while source.next_block(&mut scratch)? {
        scratch.clear();
        check_length(ticks_of(duration_of_frames(source.source_frames, source.rate())), config)?;
    }
    if source.source_frames == 0 {
        return Err(AudioError::Empty);
    }
    Ok(ProbeInfo { format, duration: duration_of_frames(source.source_frames, source.rate()), declared })
}

/// Cuts an input into chunks and returns them all.
///
/// # Errors
/// The typed input errors of [`AudioError`]; `Encode` for an internal encoder failure.
pub fn prepare(input: &Bytes, config: &ChunkingConfig) -> Result<Prepared, AudioError> {
    let mut chunks = Vec::new();
    let summary = prepare_with(input, config, |chunk| {
        chunks.push(chunk);
        Ok(())
    })?;
    Ok(Prepared { summary, chunks })
}

/// Cuts an input into chunks, handing each to `on_chunk` as soon as it is encoded, so a caller
/// that uploads (or stores) chunks one by one never holds more than one in memory.
///
/// # Errors
/// The typed input errors of [`AudioError`], or the first error `on_chunk` returns.
pub fn prepare_with(
    input: &Bytes,
    config: &ChunkingConfig,
    mut on_chunk: impl FnMut(Chunk) -> Result<(), AudioError>,
) -> Result<Summary, AudioError> {
    let format = detect_format(input)?;
    if format == InputFormat::OggOpus {
        prepare_opus(input, config, &mut on_chunk)
    } else {
        prepare_pcm(input, format, config, &mut on_chunk)
    }
}

/// Refuses audio past the length limit or past what the user can pay for.
fn check_length(ticks: u64, config: &ChunkingConfig) -> Result<(), AudioError> {
    let actual = duration_of_ticks(ticks);
    if actual > config.max_duration {
        return Err(AudioError::TooLong { actual, limit: config.max_duration });
    }
    if let Some(budget) = config.budget
        && actual > budget
    {
        return Err(AudioError::OverBudget { at_least: actual, budget });
    }
    Ok(())
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

/// Rounds of "plan, then confirm the pauses the plan relies on" before giving up on packet sizes.
const CONFIRM_ROUNDS: usize = 6;

fn prepare_opus(
    input: &Bytes,
    config: &ChunkingConfig,
    on_chunk: &mut impl FnMut(Chunk) -> Result<(), AudioError>,
) -> Result<Summary, AudioError> {
    let stream = opus::parse(input, ticks_of(config.max_duration))?;
    check_length(stream.total, config)?;
    let (frames, decided, analysis) = match stream.frames_from_sizes() {
        Some(frames) => match confirm_pauses(&stream, frames, config)? {
            Some((frames, plan)) => (frames, plan, Analysis::OpusPacketSizes),
            None => {
                let frames = stream.frames_from_decoding(threads())?;
                let plan = plan(&frames, config);
                (frames, plan, Analysis::OpusFullDecode)
            }
        },
        None => {
            let frames = stream.frames_from_decoding(threads())?;
            let plan = plan(&frames, config);
            (frames, plan, Analysis::OpusFullDecode)
        }
    };
    let mut summary =
        summary_of(InputFormat::OggOpus, duration_of_ticks(stream.total), analysis, &frames, &decided);
    summary.declared = stream.declared.map(duration_of_ticks);
    for (index, runs) in decided.chunks.iter().enumerate() {
        let (bytes, offsets) = stream.remux(runs, 0x5EED_0000 + index as u32);
        summary.upload_bytes += bytes.len() as u64;
        on_chunk(Chunk {
            index,
            bytes: Bytes::from(bytes),
            encoding: ChunkEncoding::OggOpus,
            timing: timing(&frames, runs, offsets),
        })?;
    }
    Ok(summary)
}

/// Plans from packet sizes, then decodes the pauses that the plan cuts in or shortens; a pause
/// that turns out to hold speech is marked as speech and the plan is redone. None when the
/// rounds run out (the caller then decodes everything).
fn confirm_pauses(
    stream: &OpusStream<'_>,
    mut frames: Vec<Frame>,
    config: &ChunkingConfig,
) -> Result<Option<(Vec<Frame>, Plan)>, AudioError> {
    let mut confirmed: HashSet<(usize, usize)> = HashSet::new();
    for _ in 0..CONFIRM_ROUNDS {
        let decided = plan(&frames, config);
        let mut todo: Vec<Range<usize>> = Vec::new();
        let used = decided.cut_pauses.iter().flatten().copied();
        let shortened =
            decided.pauses.iter().enumerate().filter(|(_, p)| !p.removed.is_empty()).map(|(i, _)| i);
        let mut seen = HashSet::new();
        for pi in used.chain(shortened) {
            let range = decided.pauses[pi].frames.clone();
            if !confirmed.contains(&(range.start, range.end)) && seen.insert(pi) {
                todo.push(range);
            }
        }
        // A pause of DTX packets only is silence by the encoder's own word: nothing to decode.
        todo.retain(|range| {
            let silent = range.clone().all(|i| stream.is_empty_packet(i));
            if silent {
                confirmed.insert((range.start, range.end));
            }
            !silent
        });
        if todo.is_empty() {
            return Ok(Some((frames, decided)));
        }
        let results = decode_pauses(stream, &todo)?;
        for (range, speech) in todo.iter().zip(results) {
            if speech.iter().any(|&(s, _)| s) {
                let mut flags: Vec<bool> = speech.iter().map(|&(s, _)| s).collect();
                dilate(&mut flags, 2);
                for (k, s) in flags.into_iter().enumerate() {
                    frames[range.start + k].speech |= s;
                }
            } else {
                confirmed.insert((range.start, range.end));
            }
        }
    }
    Ok(None)
}

/// Decodes pause windows on a few threads, longest first so the threads finish together.
/// Per-frame (speech, energy) decisions of one decoded range, tagged with the range's index.
type DecodedRange = (usize, Vec<(bool, f32)>);

fn decode_pauses(
    stream: &OpusStream<'_>,
    ranges: &[Range<usize>],
) -> Result<Vec<Vec<(bool, f32)>>, AudioError> {
    let workers = threads().min(ranges.len()).max(1);
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(ranges[i].len()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let per_worker: Vec<Result<Vec<DecodedRange>, AudioError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = order.get(k) else { break };
                        done.push((i, stream.detect_speech(ranges[i].clone())?));
                    }
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(AudioError::corrupt("opus decoder thread panicked"))))
            .collect()
    });
    let mut out = vec![Vec::new(); ranges.len()];
    for worker in per_worker {
        for (i, flags) in worker? {
            out[i] = flags;
        }
    }
    Ok(out)
}

fn summary_of(
    format: InputFormat,
    duration: Duration,
    analysis: Analysis,
    frames: &[Frame],
    plan: &Plan,
) -> Summary {
    let cuts = plan.chunks.iter().skip(1).map(|runs| ticks_to_secs(frames[runs[0].start].start)).collect();
    Summary {
        format,
        duration,
        declared: None,
        analysis,
        chunks: plan.chunks.len(),
        upload_bytes: 0,
        cuts,
        cuts_in_pauses: plan.cut_pauses.iter().map(Option::is_some).collect(),
    }
}

fn timing(frames: &[Frame], runs: &[Range<usize>], offsets: OffsetMap) -> ChunkTiming {
    let first = &frames[runs[0].start];
    let last = &frames[runs[runs.len() - 1].end - 1];
    ChunkTiming {
        start: ticks_to_secs(first.start),
        end: ticks_to_secs(last.start + u64::from(last.len)),
        offsets,
    }
}

fn prepare_pcm(
    input: &Bytes,
    format: InputFormat,
    config: &ChunkingConfig,
    on_chunk: &mut impl FnMut(Chunk) -> Result<(), AudioError>,
) -> Result<Summary, AudioError> {
    let mut source = PcmSource::open(input.clone())?;
    let declared = source.declared();
    let heard = listen_and_encode(&mut source, config)?;
    if heard.encoded.samples == 0 || source.source_frames == 0 {
        return Err(AudioError::Empty);
    }
    let duration = duration_of_frames(source.source_frames, source.rate());
    check_length(source.source_frames * TICKS_PER_SEC / u64::from(source.rate()), config)?;
    let stream = OpusStream::from_encoded(&heard.encoded)?;
    let frames = packet_frames(&stream, &heard);
    let decided = plan(&frames, config);
    let mut summary = summary_of(format, duration, Analysis::Pcm, &frames, &decided);
    summary.declared = declared;
    for (index, runs) in decided.chunks.iter().enumerate() {
        let (bytes, offsets) = stream.remux(runs, 0x5EED_0000 + index as u32);
        summary.upload_bytes += bytes.len() as u64;
        on_chunk(Chunk {
            index,
            bytes: Bytes::from(bytes),
            encoding: ChunkEncoding::OggOpus,
            timing: timing(&frames, runs, offsets),
        })?;
    }
    Ok(summary)
}

/// The decoded recording's speech profile (per 16 ms detector frame) and its Opus encoding.
struct Heard {
    speech: Vec<bool>,
    levels: Vec<f32>,
    encoded: Encoded,
}

/// Samples handed to the detector and the encoder at a time: fewer, larger messages.
const BATCH: usize = 8_192;

/// Decodes the input once on this thread while others listen (the speech detector) and
/// encode (libopus, segments on every core) the same samples, so the three costs overlap instead of adding up.
fn listen_and_encode(source: &mut PcmSource, config: &ChunkingConfig) -> Result<Heard, AudioError> {
    let (to_vad, vad_in) = mpsc::sync_channel::<Arc<Vec<f32>>>(4);
    let (to_encoder, encoder_in) = mpsc::sync_channel::<Arc<Vec<f32>>>(4);
    std::thread::scope(|scope| {
        let listener = scope.spawn(move || {
            let mut vad = Vad::new();
            let (mut speech, mut levels) = (Vec::new(), Vec::new());
            let mut record = |s: bool, rms: f32| {
                speech.push(s);
                levels.push(rms);
            };
            for block in vad_in {
                vad.push(&block, &mut record);
            }
            vad.finish(&mut record);
            (speech, levels)
        });
        let encoder = scope.spawn(move || encode_in_segments(encoder_in, threads()));
        let decoded = decode_into(source, config, |block| {
            let block = Arc::new(block);
            // A closed channel means that stage failed; its error is reported below.
            to_vad.send(Arc::clone(&block)).is_ok() && to_encoder.send(block).is_ok()
        });
        drop((to_vad, to_encoder));
        let panicked = |_| AudioError::corrupt("an audio thread panicked");
        let (speech, levels) = listener.join().map_err(panicked)?;
        let encoded = encoder.join().map_err(panicked)?;
        decoded?;
        Ok(Heard { speech, levels, encoded: encoded? })
    })
}

/// Decodes the whole input in batches of about [`BATCH`] samples, stopping once the output
/// passes the limits (whatever the headers said) or `send` returns false.
fn decode_into(
    source: &mut PcmSource,
    config: &ChunkingConfig,
    mut send: impl FnMut(Vec<f32>) -> bool,
) -> Result<(), AudioError> {
    let mut samples = 0u64;
    let mut block = Vec::with_capacity(BATCH * 2);
    loop {
        let more = source.next_block(&mut block)?;
        if block.len() >= BATCH || !more {
            samples += block.len() as u64;
            check_length(samples * TICKS_PER_SAMPLE, config)?;
            let full = std::mem::replace(&mut block, Vec::with_capacity(BATCH * 2));
            if !full.is_empty() && !send(full) {
                return Ok(());
            }
        }
        if !more {
            return Ok(());
        }
    }
}

/// One frame per encoded packet, speech where the detector heard speech in any 16 ms it covers.
fn packet_frames(stream: &OpusStream<'_>, heard: &Heard) -> Vec<Frame> {
    let mut speech = heard.speech.clone();
    dilate(&mut speech, 3);
    let lookahead = heard.encoded.lookahead;
    (0..stream.len())
        .map(|i| {
            // Packet i holds input samples [i * 320 - lookahead, (i + 1) * 320 - lookahead).
            let lo = (i * PACKET_SAMPLES).saturating_sub(lookahead) / VAD_FRAME;
            let hi = ((i + 1) * PACKET_SAMPLES).saturating_sub(lookahead).div_ceil(VAD_FRAME);
            let (lo, hi) = (lo.min(speech.len()), hi.min(speech.len()));
            let s = speech[lo..hi].iter().any(|&s| s);
            let level = heard.levels[lo..hi].iter().copied().fold(0.0, f32::max);
            stream.frame_at(i, s, level)
        })
        .collect()
}
