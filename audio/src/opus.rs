//! Ogg/Opus input (Telegram voice notes). The upload is a remux of the original packets, the
//! duration comes from granule positions, and pauses are found from packet sizes (a VBR encoder
//! spends few bytes on silence) and confirmed by decoding only around them; a constant-bitrate
//! stream, which gives no such signal, is decoded in full, in parallel.

use std::ops::Range;

use symphonia::core::audio::layouts::CHANNEL_LAYOUT_MONO;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::RegisterableAudioDecoder;
use symphonia::core::packet::PacketRef;
use symphonia::core::units::{Duration as Dur, Timestamp};
use symphonia_adapter_libopus::OpusDecoder;

use crate::AudioError;
use crate::encode::{Encoded, PACKET_TICKS};
use crate::ogg::{OggWriter, PacketBytes, PageReader};
use crate::plan::Frame;
use crate::timeline::OffsetMap;
use crate::vad::{VAD_FRAME, Vad, dilate};

/// Packets decoded and thrown away before a window so the decoder state settles (80 ms of
/// 20 ms packets, the pre-roll the Opus spec recommends).
const PREROLL: usize = 4;

/// A parsed Ogg/Opus stream: its header, the audio packets and their lengths.
///
/// Packets are kept as 8-byte spans into the input (or into `joined` for packets that span
/// pages), so an hour of 20 ms packets costs about 3 MB besides the input.
pub(crate) struct OpusStream<'a> {
    data: &'a [u8],
    head: Vec<u8>,
    pre_skip: u64,
    /// Bytes of the packets that were split across pages.
    joined: Vec<u8>,
    packets: Vec<Span>,
    /// Cumulative ticks before each packet (one more entry than packets).
    cum: Vec<u64>,
    /// Output length in ticks, from the packets themselves: their durations less the pre-skip
    /// and an end trim of at most the last packet.
    pub total: u64,
    /// What the granule positions claim the output length is, for comparison only.
    pub declared: Option<u64>,
}

/// Where one packet's bytes are: below `data.len()` in the input, above it in `joined`.
#[derive(Debug, Clone, Copy)]
struct Span {
    at: u32,
    len: u16,
    ticks: u16,
}

/// An Opus packet holds at most 120 ms of frames of at most 1275 bytes each, plus framing.
const MAX_PACKET: usize = 48 * 1275 + 64;

/// Shortest average packet accepted at the length limit: a stream of hours of 2.5 ms packets
/// (two bytes each) would need hundreds of MB of bookkeeping.
const MIN_AVERAGE_PACKET_TICKS: u64 = 480;

/// Most packets in one stream, whatever the limit: bookkeeping stays under about 60 MB
/// (6.7 hours of 20 ms packets, 3.3 hours of 10 ms ones).
const MAX_PACKETS: usize = 1_200_000;

/// Length of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716, 3.1).
pub(crate) fn packet_ticks(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let count = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*packet.get(1)? & 0x3f),
    };
    let ticks = frame * count;
    // More than 120 ms in one packet is invalid.
    (count > 0 && ticks <= 5760).then_some(ticks)
}

/// Whether a packet holds no coded audio at all: every frame in it is empty. That is what an
/// encoder with DTX sends while the speaker is silent; the decoder only conceals it.
pub(crate) fn carries_no_audio(packet: &[u8]) -> bool {
    match (packet.first().map(|toc| toc & 3), packet.len()) {
        (Some(0 | 1), 1) => true,
        // Code 3 with only its frame-count byte: no padding, frames of zero bytes.
        (Some(3), 2) => packet[1] & 0x40 == 0,
        _ => false,
    }
}

/// The identification header of one link of the stream.
struct OpusHead {
    pre_skip: u64,
}

fn opus_head(packet: &[u8]) -> Result<OpusHead, AudioError> {
    if packet.len() < 19 || &packet[..8] != b"OpusHead" || packet[8] >> 4 != 0 {
        return Err(AudioError::corrupt("bad OpusHead"));
    }
    let channels = packet[9];
    let mapping = packet[18];
    if channels == 0 || channels > 2 || mapping > 1 {
        return Err(AudioError::UnsupportedFormat(format!(
            "opus with {channels} channels, mapping {mapping}"
        )));
    }
    Ok(OpusHead { pre_skip: u64::from(u16::from_le_bytes([packet[10], packet[11]])) })
}

/// Where the walk is inside the current link of a (possibly chained) stream.
enum Expect {
    Head,
    Tags,
    Audio,
}

/// Reads the stream structure; decodes nothing. Durations come from each packet's TOC byte, so a
/// granule position that lies (shrinks, grows, jumps) changes nothing but the `declared` figure.
/// Chained streams (one voice note after another in one file) are read as one recording, and
/// reading stops with `TooLong` as soon as the packets pass `max_ticks`.
pub(crate) fn parse(data: &[u8], max_ticks: u64) -> Result<OpusStream<'_>, AudioError> {
    if u32::try_from(data.len()).is_err() {
        return Err(AudioError::UnsupportedFormat("an ogg file over 4 GB".into()));
    }
    let mut stream = OpusStream {
        data,
        head: Vec::new(),
        pre_skip: 0,
        joined: Vec::new(),
        packets: Vec::new(),
        cum: vec![0],
        total: 0,
        declared: None,
    };
    let max_packets =
        usize::try_from(max_ticks / MIN_AVERAGE_PACKET_TICKS + 1000).unwrap_or(usize::MAX).min(MAX_PACKETS);
    // The link being read: its serial, whether it ended, what comes next, its granule so far.
    let mut serial: Option<u32> = None;
    let mut ended = false;
    let mut expect = Expect::Head;
    let mut assembler = crate::ogg::Assembler::default();
    let mut link_start = 0u64;
    let mut link_pre_skip = 0u64;
    let mut link_granule: Option<u64> = None;
    let mut declared = 0u64;
    let mut last_ticks = 0u64;
    for page in PageReader::new(data) {
        let page = match page {
            Ok(page) => page,
            // Damage after the last link ended is trailing junk, not a broken recording.
            Err(_) if ended => break,
            Err(err) => return Err(err),
        };
        match serial {
            Some(s) if s == page.serial && !ended => {}
            _ if page.is_first() && (serial.is_none() || ended) => {
                if let Some(g) = link_granule.take() {
                    declared += g.saturating_sub(link_pre_skip);
                }
                serial = Some(page.serial);
                ended = false;
                expect = Expect::Head;
                assembler = crate::ogg::Assembler::default();
            }
            // Another stream multiplexed in (a video track), or pages after the end.
            _ => continue,
        }
        let mut stop = false;
        assembler.push(data, &page, MAX_PACKET, |packet, granule| {
            let bytes: &[u8] = match &packet {
                PacketBytes::Input(range) => &data[range.clone()],
                PacketBytes::Joined(v) => v,
            };
            match expect {
                Expect::Head => {
                    let first_link = stream.head.is_empty();
                    match opus_head(bytes) {
                        Ok(head) if first_link => {
                            stream.head = bytes.to_vec();
                            stream.pre_skip = head.pre_skip;
                            link_pre_skip = head.pre_skip;
                        }
                        Ok(head) => link_pre_skip = head.pre_skip,
                        Err(err) if first_link => return Err(err),
                        // A chained stream that is not Opus we can remux: the recording ends here.
                        Err(_) => stop = true,
                    }
                    link_start = *stream.cum.last().unwrap_or(&0);
                    expect = Expect::Tags;
                }
                Expect::Tags if bytes.starts_with(b"OpusTags") => expect = Expect::Audio,
                Expect::Tags => return Err(AudioError::corrupt("missing OpusTags")),
                Expect::Audio => {
                    if let Some(g) = granule {
                        link_granule = Some(g);
                    }
                    if bytes.is_empty() {
                        return Ok(());
                    }
                    let ticks = packet_ticks(bytes).ok_or_else(|| AudioError::corrupt("bad opus packet"))?;
                    stream.push(packet, ticks)?;
                    last_ticks = u64::from(ticks);
                    let summed = *stream.cum.last().unwrap_or(&0);
                    if summed.saturating_sub(stream.pre_skip) > max_ticks {
                        return Err(AudioError::TooLong {
                            actual: crate::pipeline::duration_of_ticks(summed - stream.pre_skip),
                            limit: crate::pipeline::duration_of_ticks(max_ticks),
                        });
                    }
                    if stream.packets.len() > max_packets {
                        return Err(AudioError::UnsupportedFormat(
                            "opus packets far shorter than any recorder writes".into(),
                        ));
                    }
                }
            }
            Ok(())
        })?;
        if stop {
            break;
        }
        if page.is_last() {
            ended = true;
        }
    }
    if stream.head.is_empty() {
        return Err(AudioError::corrupt("no OpusHead"));
    }
    let summed = *stream.cum.last().unwrap_or(&0);
    // The final granule trims the encoder's padding off the last packet. One that trims more,
    // or claims samples past the packets, disagrees with the content and says nothing about
    // where the audio ends inside the last packet: that packet is then dropped, so neither the
    // bill nor the upload includes padding the file will not own up to.
    let link_samples = summed - link_start;
    let trim = match link_granule {
        Some(g) if g <= link_samples && link_samples - g <= last_ticks => link_samples - g,
        _ => last_ticks,
    };
    if let Some(g) = link_granule {
        declared += g.saturating_sub(link_pre_skip);
    }
    stream.declared = Some(declared).filter(|_| link_granule.is_some());
    stream.total = summed.saturating_sub(trim).saturating_sub(stream.pre_skip);
    if stream.total == 0 {
        return Err(AudioError::Empty);
    }
    Ok(stream)
}

impl<'a> OpusStream<'a> {
    fn push(&mut self, packet: PacketBytes, ticks: u32) -> Result<(), AudioError> {
        let (at, len) = match packet {
            PacketBytes::Input(range) => (range.start, range.len()),
            PacketBytes::Joined(bytes) => {
                let at = self.data.len() + self.joined.len();
                self.joined.extend_from_slice(&bytes);
                (at, bytes.len())
            }
        };
        let too_big = || AudioError::UnsupportedFormat("an ogg file over 4 GB".into());
        let at = u32::try_from(at).map_err(|_| too_big())?;
        let len = u16::try_from(len).map_err(|_| AudioError::corrupt("oversized opus packet"))?;
        // `packet_ticks` caps a packet at 5760 ticks.
        let ticks_u16 = u16::try_from(ticks).map_err(|_| AudioError::corrupt("bad opus packet"))?;
        self.packets.push(Span { at, len, ticks: ticks_u16 });
        let last = *self.cum.last().unwrap_or(&0);
        self.cum.push(last + u64::from(ticks));
        Ok(())
    }

    /// The bytes of packet `i`.
    fn packet(&self, i: usize) -> &[u8] {
        let Span { at, len, .. } = self.packets[i];
        let (at, len) = (at as usize, usize::from(len));
        if at < self.data.len() {
            &self.data[at..at + len]
        } else {
            let at = at - self.data.len();
            &self.joined[at..at + len]
        }
    }

    /// Whether packet `i` is one the encoder sent because it heard no speech: a DTX packet
    /// (see [`carries_no_audio`]), or the comfort-noise update libopus sends between them every
    /// 400 ms or so.
    pub(crate) fn is_empty_packet(&self, i: usize) -> bool {
        let empty = |k: usize| k < self.len() && carries_no_audio(self.packet(k));
        empty(i) || (i > 0 && empty(i - 1) && empty(i + 1))
    }

    fn ticks(&self, i: usize) -> u64 {
        u64::from(self.packets[i].ticks)
    }
}

fn decoder(head: Option<&[u8]>) -> Result<Box<dyn AudioDecoder>, AudioError> {
    let mut params = AudioCodecParameters::new();
    params.for_codec(CODEC_ID_OPUS);
    // libopus decodes straight to 16 kHz mono: no resampling, a third of the work of 48 kHz.
    params.sample_rate = Some(16_000);
    params.channels = Some(CHANNEL_LAYOUT_MONO);
    params.extra_data = head.map(|h| h.to_vec().into_boxed_slice());
    OpusDecoder::try_registry_new(&params, &AudioDecoderOptions::default()).map_err(AudioError::from)
}

impl<'a> OpusStream<'a> {
    /// A stream over the packets [`SpeechEncoder`](crate::encode::SpeechEncoder) made: each one
    /// 20 ms, the output as long as the samples encoded.
    pub(crate) fn from_encoded(encoded: &'a Encoded) -> Result<Self, AudioError> {
        let mut stream = OpusStream {
            data: &encoded.bytes,
            head: encoded.head.clone(),
            pre_skip: encoded.lookahead as u64 * 3,
            joined: Vec::new(),
            packets: Vec::with_capacity(encoded.sizes.len()),
            cum: Vec::with_capacity(encoded.sizes.len() + 1),
            total: encoded.samples * 3,
            declared: None,
        };
        let ticks = u16::try_from(PACKET_TICKS).map_err(|_| AudioError::Encode("packet length".into()))?;
        let mut at = 0usize;
        stream.cum.push(0);
        for &len in &encoded.sizes {
            let at32 = u32::try_from(at).map_err(|_| AudioError::Encode("over 4 GB of opus".into()))?;
            stream.packets.push(Span { at: at32, len, ticks });
            stream.cum.push(stream.cum[stream.cum.len() - 1] + u64::from(PACKET_TICKS));
            at += usize::from(len);
        }
        Ok(stream)
    }
}

impl OpusStream<'_> {
    /// Number of audio packets.
    pub(crate) fn len(&self) -> usize {
        self.packets.len()
    }

    /// Frames (one per packet) with start and length on the output timeline.
    pub(crate) fn frame_at(&self, i: usize, speech: bool, level: f32) -> Frame {
        let start = self.cum[i].saturating_sub(self.pre_skip).min(self.total);
        let end = (self.cum[i] + self.ticks(i)).saturating_sub(self.pre_skip).min(self.total);
        // Ogg page overhead is about 1.5 bytes per packet at 50 packets a page.
        let bytes = u32::from(self.packets[i].len) + 2;
        Frame { start, len: (end - start) as u32, speech, level, bytes }
    }

    /// Classifies packets by size when sizes separate silence from speech; None for a stream
    /// without that signal (constant bitrate).
    pub(crate) fn frames_from_sizes(&self) -> Option<Vec<Frame>> {
        let threshold = silence_threshold(self.packets.iter().map(|p| usize::from(p.len)))?;
        let mut speech: Vec<bool> = (0..self.len())
            .map(|i| usize::from(self.packets[i].len) > threshold && !self.is_empty_packet(i))
            .collect();
        dilate(&mut speech, 1);
        Some((0..self.len()).map(|i| self.frame_at(i, speech[i], f32::from(self.packets[i].len))).collect())
    }

    /// Decodes packets `range` (after a pre-roll) and reports per packet whether any 16 ms frame
    /// overlapping it is speech, and its loudest frame's RMS.
    pub(crate) fn detect_speech(&self, range: Range<usize>) -> Result<Vec<(bool, f32)>, AudioError> {
        let from = range.start.saturating_sub(PREROLL);
        let mut dec = decoder((from == 0).then_some(&self.head[..]))?;
        let mut vad = Vad::new();
        let mut frames: Vec<(bool, f32)> = Vec::new();
        let mut record = |s: bool, r: f32| frames.push((s, r));
        // Sample offsets (16 kHz, from the first decoded sample) where each packet in range ends.
        let mut ends = Vec::with_capacity(range.len());
        let mut start_of_range = 0usize;
        let mut decoded = 0usize;
        let mut scratch: Vec<f32> = Vec::new();
        for i in from..range.end {
            let packet = PacketRef::new(0, Timestamp::new(0), Dur::new(0), self.packet(i));
            // A packet libopus rejects is heard as silence; the structure was already checked.
            let n = match dec.decode_ref(&packet) {
                Ok(buf) => {
                    buf.copy_to_vec_interleaved::<f32>(&mut scratch);
                    scratch.len()
                }
                Err(_) => {
                    scratch.clear();
                    0
                }
            };
            vad.push(&scratch[..n], &mut record);
            if i == range.start {
                start_of_range = decoded;
            }
            decoded += n;
            if i >= range.start {
                ends.push(decoded);
            }
        }
        vad.finish(&mut record);
        let mut out = Vec::with_capacity(range.len());
        let mut begin = start_of_range;
        for (i, end) in range.clone().zip(ends) {
            // What the decoder makes of a DTX packet (concealment, comfort noise) can fool the
            // detector, but the encoder sent nothing there because it heard no speech.
            if self.is_empty_packet(i) {
                out.push((false, 0.0));
                begin = end;
                continue;
            }
            let (f0, f1) = (begin / VAD_FRAME, end.div_ceil(VAD_FRAME).max(begin / VAD_FRAME + 1));
            let slice = &frames[f0.min(frames.len())..f1.min(frames.len())];
            let speech = slice.iter().any(|f| f.0);
            let level = slice.iter().map(|f| f.1).fold(0.0, f32::max);
            out.push((speech, level));
            begin = end;
        }
        Ok(out)
    }

    /// Decodes everything on `threads` threads and builds frames from the detector.
    pub(crate) fn frames_from_decoding(&self, threads: usize) -> Result<Vec<Frame>, AudioError> {
        let n = self.len();
        let parts = threads.clamp(1, 8).min(n.max(1));
        let bounds: Vec<usize> = (0..=parts).map(|k| k * n / parts).collect();
        let results: Vec<Result<Vec<(bool, f32)>, AudioError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let range = w[0]..w[1];
                    scope.spawn(move || self.detect_speech(range))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| Err(AudioError::corrupt("opus decoder thread panicked")))
                })
                .collect()
        });
        let mut flags = Vec::with_capacity(n);
        for r in results {
            flags.extend(r?);
        }
        let mut speech: Vec<bool> = flags.iter().map(|f| f.0).collect();
        dilate(&mut speech, 2);
        Ok((0..n).map(|i| self.frame_at(i, speech[i], flags[i].1)).collect())
    }

    /// Builds one chunk's Ogg stream from runs of packet indices, with the original header.
    /// Returns the bytes and the chunk-to-original offset map.
    pub(crate) fn remux(&self, runs: &[Range<usize>], serial: u32) -> (Vec<u8>, OffsetMap) {
        let bytes: usize =
            runs.iter().flat_map(|r| r.clone()).map(|i| usize::from(self.packets[i].len) + 2).sum();
        let mut w = OggWriter::new(serial, bytes + 256);
        w.write_header_packet(&self.head);
        w.write_header_packet(&opus_tags());
        let pre = self.pre_skip as i64;
        let summed = self.cum[self.len()];
        let trim_end = summed - (self.total + self.pre_skip).min(summed);
        let mut chunk_pos = 0u64;
        let mut starts = Vec::with_capacity(runs.len());
        for run in runs {
            starts.push((chunk_pos as i64 - pre, self.cum[run.start] as i64 - pre));
            for i in run.clone() {
                chunk_pos += self.ticks(i);
                // The file's last packet keeps its end trimming so the chunk ends where the file did.
                let granule =
                    if i + 1 == self.len() { chunk_pos - trim_end.min(chunk_pos) } else { chunk_pos };
                w.write_packet(self.packet(i), granule);
            }
        }
        (w.finish(), OffsetMap::from_starts(starts))
    }
}

/// The packet size at or below which a packet is taken for silence, or None when sizes do not
/// separate silence from speech.
///
/// A VBR encoder codes the background between words (digital silence or room noise) at a nearly
/// constant small size, so silence shows as a narrow peak in the size histogram, below the broad
/// spread of speech. The peak is the histogram's mode (smoothed over 5 bytes); the stream has a
/// usable signal when a fair share of packets sit at or below the peak's upper edge and speech
/// packets are clearly larger.
pub(crate) fn silence_threshold(sizes: impl Iterator<Item = usize>) -> Option<usize> {
    let mut histogram = vec![0u32; 1280];
    let mut count = 0usize;
    for size in sizes {
        histogram[size.min(1279)] += 1;
        count += 1;
    }
    if count < 50 {
        return None;
    }
    let smoothed = |v: usize| histogram[v.saturating_sub(2)..(v + 3).min(1280)].iter().sum::<u32>();
    let mode = (1..1280).max_by_key(|&v| (smoothed(v), histogram[v]))?;
    let threshold = mode + (mode * 13 / 100).max(4);
    let quiet: usize = histogram[..=threshold].iter().map(|&c| c as usize).sum();
    let loud = count - quiet;
    // The middle packet among the loud ones, to check that speech sits well above the peak.
    let mut seen = 0usize;
    let loud_median = (threshold + 1..1280).find(|&v| {
        seen += histogram[v] as usize;
        seen * 2 >= loud
    })?;
    let share = quiet as f64 / count as f64;
    ((0.05..=0.85).contains(&share) && loud_median as f64 >= threshold as f64 * 1.15).then_some(threshold)
}

fn opus_tags() -> Vec<u8> {
    let vendor = b"tgbot-audio remux";
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_peak_sets_the_threshold() {
        // Room noise coded at 60-66 bytes between words spoken at 75-105 bytes.
        let noisy = (0..1000).map(|i| if i % 3 == 0 { 60 + i % 7 } else { 75 + i % 31 });
        let t = silence_threshold(noisy).expect("a silence peak");
        assert!((66..75).contains(&t), "{t}");
        // Digital silence at 3 bytes.
        let quiet = (0..1000).map(|i| if i % 4 == 0 { 3 } else { 60 + i % 40 });
        assert_eq!(silence_threshold(quiet), Some(7));
        // Constant bitrate: every packet the same size.
        assert_eq!(silence_threshold(std::iter::repeat_n(80, 1000)), None);
        // Speech only, sizes spread evenly: no peak stands out below the rest.
        assert_eq!(silence_threshold((0..1000).map(|i| 70 + i % 40)), None);
    }

    /// An Ogg/Opus stream of `count` one-byte packets of 2.5 ms (CELT, zero-length frame).
    fn tiny_packets(count: usize) -> Vec<u8> {
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 1, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0, 0, 0]);
        let mut w = OggWriter::new(1, count * 2);
        w.write_header_packet(&head);
        w.write_header_packet(&opus_tags());
        for i in 0..count as u64 {
            w.write_packet(&[16 << 3], 312 + (i + 1) * 120);
        }
        w.finish()
    }

    #[test]
    fn hours_of_the_shortest_packets_are_refused_before_their_bookkeeping_grows() {
        let six_hours = 6 * 3600 * 48_000;
        let at_the_cap = tiny_packets(MAX_PACKETS);
        assert!(parse(&at_the_cap, six_hours).is_ok());
        let past_it = tiny_packets(MAX_PACKETS + 1);
        assert!(matches!(parse(&past_it, six_hours), Err(AudioError::UnsupportedFormat(_))));
    }

    #[test]
    fn dtx_packets_carry_no_audio() {
        assert!(carries_no_audio(&[0x78])); // SILK 20 ms, one empty frame
        assert!(carries_no_audio(&[0x79])); // two empty frames
        assert!(carries_no_audio(&[0x7B, 0x02])); // code 3, two frames, no padding
        assert!(!carries_no_audio(&[0x7B, 0x42])); // code 3 with padding to follow
        assert!(!carries_no_audio(&[0x78, 0x01, 0x02])); // a coded frame
        assert!(!carries_no_audio(&[]));
    }

    #[test]
    fn toc_gives_packet_lengths() {
        assert_eq!(packet_ticks(&[0x08]), Some(960)); // SILK 20 ms, one frame
        assert_eq!(packet_ticks(&[0x0B]), None); // code 3 without its count byte
        assert_eq!(packet_ticks(&[0xF8]), Some(960)); // CELT 20 ms
        assert_eq!(packet_ticks(&[0xF9, 0]), Some(1920)); // two frames
        assert_eq!(packet_ticks(&[0xFB, 0x03]), Some(2880)); // code 3, three frames
        assert_eq!(packet_ticks(&[0xFB, 0x3F]), None); // 63 x 20 ms is too long
        assert_eq!(packet_ticks(&[]), None);
    }
}
