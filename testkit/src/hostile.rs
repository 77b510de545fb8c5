//! Hostile audio: real files whose headers lie about their length, rate or layout, and a tiny
//! Ogg/Opus stream that decodes to hours of silence. The billed duration must be the duration of
//! the audio present, never a header field; these files are how tests hold the pipeline to that.
//!
//! Every function takes bytes and returns new bytes; nothing here decodes audio. The rewriters
//! work on well-formed inputs (the test fixtures) and panic with a message when an input is not
//! what they expect, which is the right way for a test helper to fail. The measuring helpers
//! (`ogg_opus_content_seconds`, `flac_stream_seconds`) count what a decoder would output from the
//! packets themselves, so tests can check uploads without trusting the pipeline.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

// ---------------------------------------------------------------------------------------------
// Ogg
// ---------------------------------------------------------------------------------------------

const OGG_HEADER_LEN: usize = 27;
const FLAG_CONTINUED: u8 = 0x01;
const FLAG_BOS: u8 = 0x02;
const FLAG_EOS: u8 = 0x04;
/// The granule position of a page on which no packet ends.
const NO_GRANULE: u64 = u64::MAX;
/// Opus timestamps are always in 48 kHz samples, whatever the input rate was.
const OPUS_RATE: f64 = 48_000.0;

/// The Ogg checksum: CRC-32 with polynomial 0x04C11DB7, no reflection, initial value 0 and no
/// final xor, computed over a whole page whose checksum field is zero.
pub fn ogg_crc(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |mut crc, &byte| {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04C1_1DB7 } else { crc << 1 };
        }
        crc
    })
}

/// One Ogg page, owned, so a rewrite can change any field and write it back with a fresh CRC.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    flags: u8,
    granule: u64,
    serial: u32,
    sequence: u32,
    lacing: Vec<u8>,
    body: Vec<u8>,
}

impl Page {
    fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(b"OggS");
        out.push(0);
        out.push(self.flags);
        out.extend_from_slice(&self.granule.to_le_bytes());
        out.extend_from_slice(&self.serial.to_le_bytes());
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.push(u8::try_from(self.lacing.len()).expect("at most 255 lacing values on a page"));
        out.extend_from_slice(&self.lacing);
        out.extend_from_slice(&self.body);
        let crc = ogg_crc(&out[start..]);
        out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
    }

    /// Byte ranges within `body` of the packet pieces on this page, and whether each piece ends
    /// its packet (a piece that runs to the end of the page with a 255 lacing value does not).
    fn pieces(&self) -> Vec<(Range<usize>, bool)> {
        let mut pieces = Vec::new();
        let (mut start, mut len) = (0, 0);
        for &lace in &self.lacing {
            len += usize::from(lace);
            if lace < 255 {
                pieces.push((start..start + len, true));
                start += len;
                len = 0;
            }
        }
        if len > 0 {
            pieces.push((start..start + len, false));
        }
        pieces
    }
}

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes[..4].try_into().expect("four bytes"))
}

fn le_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes[..8].try_into().expect("eight bytes"))
}

/// Parses the pages of `ogg` that are wholly present. Returns the pages and whether the input
/// ended exactly after the last one (false: a truncated page follows, which is ignored).
///
/// Panics where a page should start but does not: that is not a truncation but a wrong input.
fn read_pages(ogg: &[u8]) -> (Vec<Page>, bool) {
    let mut pages = Vec::new();
    let mut pos = 0;
    while pos < ogg.len() {
        let Some(header) = ogg.get(pos..pos + OGG_HEADER_LEN) else { return (pages, false) };
        assert!(&header[..4] == b"OggS" && header[4] == 0, "no Ogg page at byte {pos}");
        let segments = usize::from(header[26]);
        let Some(lacing) = ogg.get(pos + OGG_HEADER_LEN..pos + OGG_HEADER_LEN + segments) else {
            return (pages, false);
        };
        let body_start = pos + OGG_HEADER_LEN + segments;
        let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let Some(body) = ogg.get(body_start..body_start + body_len) else { return (pages, false) };
        pages.push(Page {
            flags: header[5],
            granule: le_u64(&header[6..14]),
            serial: le_u32(&header[14..18]),
            sequence: le_u32(&header[18..22]),
            lacing: lacing.to_vec(),
            body: body.to_vec(),
        });
        pos = body_start + body_len;
    }
    (pages, true)
}

/// The pages of an input the rewriters accept: complete, nothing cut off.
fn complete_pages(ogg: &[u8]) -> Vec<Page> {
    let (pages, complete) = read_pages(ogg);
    assert!(complete, "the Ogg input ends inside a page; rewriters need whole files");
    assert!(!pages.is_empty(), "no Ogg pages");
    pages
}

fn write_pages(pages: &[Page]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pages.iter().map(|p| 27 + p.lacing.len() + p.body.len()).sum());
    for page in pages {
        page.write(&mut out);
    }
    out
}

/// Byte ranges of the pages wholly present in `ogg`, in file order, so a test can cut a stream
/// at or inside a chosen page.
pub fn ogg_page_ranges(ogg: &[u8]) -> Vec<Range<usize>> {
    let (pages, _) = read_pages(ogg);
    let mut start = 0;
    pages
        .iter()
        .map(|p| {
            let end = start + OGG_HEADER_LEN + p.lacing.len() + p.body.len();
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

/// The granule positions of every page, in file order, as `(serial, granule)`.
pub fn ogg_granules(ogg: &[u8]) -> Vec<(u32, u64)> {
    read_pages(ogg).0.iter().map(|p| (p.serial, p.granule)).collect()
}

/// Rewrites each page's granule position to `f(page_index, granule)` and fixes the checksums.
/// `page_index` counts the pages of that page's logical stream from 0 (for Ogg/Opus, 0 and 1 are
/// normally the OpusHead and OpusTags pages); pages with no granule (-1) are left alone.
pub fn ogg_map_granules(ogg: &[u8], mut f: impl FnMut(usize, u64) -> u64) -> Vec<u8> {
    let mut pages = complete_pages(ogg);
    let mut next_index: HashMap<u32, usize> = HashMap::new();
    for page in &mut pages {
        let index = next_index.entry(page.serial).or_insert(0);
        if page.granule != NO_GRANULE {
            page.granule = f(*index, page.granule);
        }
        *index += 1;
    }
    write_pages(&pages)
}

/// Sets the granule position of the file's last page that has one, the one players read the
/// duration from, and fixes its checksum.
pub fn ogg_set_last_granule(ogg: &[u8], granule: u64) -> Vec<u8> {
    let mut pages = complete_pages(ogg);
    let last = pages.iter_mut().rev().find(|p| p.granule != NO_GRANULE).expect("a page with a granule");
    last.granule = granule;
    write_pages(&pages)
}

/// `a` followed by `b` as a chained Ogg stream: `b`'s logical streams get serial numbers that
/// none of `a`'s use (checksums fixed), so a reader sees two links, one after the other.
pub fn ogg_chain(a: &[u8], b: &[u8]) -> Vec<u8> {
    let first = complete_pages(a);
    let mut second = complete_pages(b);
    let mut taken: HashSet<u32> = first.iter().map(|p| p.serial).collect();
    let mut renamed: HashMap<u32, u32> = HashMap::new();
    for page in &mut second {
        let serial = *renamed.entry(page.serial).or_insert_with(|| {
            let mut fresh = page.serial.wrapping_add(0x9E37_79B9);
            while taken.contains(&fresh) {
                fresh = fresh.wrapping_add(0x9E37_79B9);
            }
            taken.insert(fresh);
            fresh
        });
        page.serial = serial;
    }
    let mut out = write_pages(&first);
    out.extend_from_slice(&write_pages(&second));
    out
}

/// "A voice note with an appended second hour": `a` with its end-of-stream flag cleared, then
/// `b`'s audio pages (everything after its OpusHead and OpusTags packets) moved into `a`'s logical
/// stream, page sequence numbers continuing. `b`'s granule positions are kept, so they go
/// backwards where `b` begins and the last granule describes `b` alone.
pub fn ogg_append_audio(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut first = complete_pages(a);
    let second = complete_pages(b);
    let serial = first[0].serial;
    for page in &mut first {
        page.flags &= !FLAG_EOS;
    }
    let mut sequence = first.iter().filter(|p| p.serial == serial).map(|p| p.sequence).max().unwrap_or(0);
    let b_serial = second[0].serial;
    let b_pages: Vec<&Page> = second.iter().filter(|p| p.serial == b_serial).collect();
    // The audio starts on the first page after the one where the second header packet ends.
    let mut packets_done = 0;
    let mut audio_from = None;
    for (i, page) in b_pages.iter().enumerate() {
        packets_done += page.pieces().iter().filter(|(_, ends)| *ends).count();
        if packets_done >= 2 {
            audio_from = Some(i + 1);
            break;
        }
    }
    let audio_from = audio_from.expect("b has an OpusHead and an OpusTags packet");
    if let Some(next) = b_pages.get(audio_from) {
        assert!(next.flags & FLAG_CONTINUED == 0, "b's first audio page continues a header packet");
    }
    for page in &b_pages[audio_from..] {
        sequence = sequence.wrapping_add(1);
        first.push(Page { serial, sequence, flags: page.flags & !FLAG_BOS, ..(*page).clone() });
    }
    write_pages(&first)
}

/// Length of an Opus packet in 48 kHz samples from its TOC byte (RFC 6716, 3.1), or 0 for a
/// packet a decoder must reject (empty, no frame count, or more than 120 ms).
fn opus_packet_samples(packet: &[u8]) -> u64 {
    let Some(&toc) = packet.first() else { return 0 };
    let config = usize::from(toc >> 3);
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][config % 4],
        12..=15 => [480, 960][config % 2],
        _ => [120, 240, 480, 960][config % 4],
    };
    let count = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(0, |&c| u64::from(c & 0x3f)),
    };
    let samples = frame * count;
    if count == 0 || samples > 5760 { 0 } else { samples }
}

#[derive(Default)]
struct OpusLink {
    packets: usize,
    pre_skip: u64,
    /// Samples in the audio packets so far.
    samples: u64,
    /// Samples in the last audio packet, and the granule of the page it ends on.
    last_packet: (u64, u64),
    partial: Vec<u8>,
}

/// Seconds of audio a decoder outputs from every Ogg/Opus logical stream in `ogg`, counted from
/// the packets' own TOC bytes (RFC 6716, 3.1), less each stream's pre-skip; chained streams add
/// up. A granule position is trusted only to trim less than the last packet off the end (an
/// encoder's padding, RFC 7845, 4.4), never to add samples; pages cut off at the end are ignored.
pub fn ogg_opus_content_seconds(ogg: &[u8]) -> f64 {
    let (pages, _) = read_pages(ogg);
    let mut links: HashMap<u32, OpusLink> = HashMap::new();
    let mut order = Vec::new();
    for page in &pages {
        let link = links.entry(page.serial).or_insert_with(|| {
            order.push(page.serial);
            OpusLink::default()
        });
        for (i, (range, ends)) in page.pieces().into_iter().enumerate() {
            if i > 0 || page.flags & FLAG_CONTINUED == 0 {
                link.partial.clear();
            }
            link.partial.extend_from_slice(&page.body[range]);
            if !ends {
                continue;
            }
            let packet = std::mem::take(&mut link.partial);
            match link.packets {
                0 if packet.starts_with(b"OpusHead") && packet.len() >= 19 => {
                    link.pre_skip = u64::from(u16::from_le_bytes([packet[10], packet[11]]));
                }
                0 | 1 => {}
                _ => {
                    let samples = opus_packet_samples(&packet);
                    link.samples += samples;
                    link.last_packet = (samples, page.granule);
                }
            }
            link.packets += 1;
        }
    }
    let total: u64 = order
        .iter()
        .map(|serial| {
            let link = &links[serial];
            let (last_packet, granule) = link.last_packet;
            let trims = granule < link.samples && link.samples - granule < last_packet;
            let end = if trims { granule } else { link.samples };
            end.saturating_sub(link.pre_skip)
        })
        .sum();
    total as f64 / OPUS_RATE
}

/// Pre-skip written into [`opus_silence`]'s header: what opusenc and libopus use.
const SILENCE_PRE_SKIP: u64 = 312;
/// TOC config 1 (SILK narrowband, 20 ms frames), code 3 (a frame-count byte follows); the count
/// byte says constant bitrate, no padding, 6 frames. With no bytes left, each frame is empty,
/// which RFC 6716 allows (3.2.5: the frame length is (N-2)/M = 0) and decoders treat as a lost
/// frame, concealed as silence: 120 ms from two bytes.
const SILENCE_PACKET: [u8; 2] = [(1 << 3) | 3, 6];
const SILENCE_PACKET_SAMPLES: u64 = 5760;
const SILENCE_SERIAL: u32 = 0x5113_4CE0;

/// A valid Ogg/Opus stream (mono, pre-skip 312, input rate 48 kHz) that decodes to `seconds` of
/// silence from two-byte packets of 120 ms each: an hour takes about 90 KB.
pub fn opus_silence(seconds: f64) -> Vec<u8> {
    let samples = (seconds.max(0.0) * OPUS_RATE).round() as u64;
    let end = if samples == 0 { 0 } else { SILENCE_PRE_SKIP + samples };
    let packets = end.div_ceil(SILENCE_PACKET_SAMPLES);

    let mut head = b"OpusHead".to_vec();
    head.push(1); // version
    head.push(1); // channels
    head.extend_from_slice(&(SILENCE_PRE_SKIP as u16).to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(0); // mapping family: mono or stereo, no table
    let vendor = b"testkit hostile";
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());

    let header_page = |packet: &[u8], sequence: u32, flags: u8| Page {
        flags,
        granule: 0,
        serial: SILENCE_SERIAL,
        sequence,
        lacing: vec![packet.len() as u8],
        body: packet.to_vec(),
    };
    let mut pages = vec![header_page(&head, 0, FLAG_BOS), header_page(&tags, 1, 0)];
    let mut written = 0u64;
    while written < packets {
        let on_page = (packets - written).min(255);
        written += on_page;
        pages.push(Page {
            flags: 0,
            // Every page ends on a whole packet; the last one trims the end to the exact length.
            granule: (written * SILENCE_PACKET_SAMPLES).min(end),
            serial: SILENCE_SERIAL,
            sequence: pages.len() as u32,
            lacing: vec![SILENCE_PACKET.len() as u8; on_page as usize],
            body: SILENCE_PACKET.repeat(on_page as usize),
        });
    }
    if let Some(last) = pages.last_mut() {
        last.flags |= FLAG_EOS;
    }
    write_pages(&pages)
}

// ---------------------------------------------------------------------------------------------
// WAV
// ---------------------------------------------------------------------------------------------

/// Fields of a WAV header to overwrite; `None` keeps the file's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WavPatch {
    /// Frames per second in `fmt `.
    pub sample_rate: Option<u32>,
    /// Channel count in `fmt `.
    pub channels: Option<u16>,
    /// Average bytes per second in `fmt `.
    pub byte_rate: Option<u32>,
    /// Bytes per frame in `fmt `.
    pub block_align: Option<u16>,
    /// Bits per sample in `fmt `.
    pub bits_per_sample: Option<u16>,
    /// Size field of the `data` chunk.
    pub data_len: Option<u32>,
    /// Size field of the `RIFF` chunk (the whole file less 8 bytes, when honest).
    pub riff_len: Option<u32>,
}

/// What a WAV header says, and how many data bytes the file really holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    /// Frames per second.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u16,
    /// Average bytes per second.
    pub byte_rate: u32,
    /// Bytes per frame.
    pub block_align: u16,
    /// Bits per sample.
    pub bits_per_sample: u16,
    /// What the `data` chunk's size field claims.
    pub data_len: u32,
    /// Bytes of the `data` chunk present: the claim, cut at the end of the file.
    pub data_present: usize,
    /// What the `RIFF` size field claims.
    pub riff_len: u32,
}

/// Offsets of the `fmt ` chunk's payload and of the `data` chunk's header, found by walking the
/// RIFF chunks (ffmpeg writes a `LIST` chunk between them).
fn wav_chunks(wav: &[u8]) -> (usize, usize) {
    assert!(wav.len() >= 12 && &wav[..4] == b"RIFF" && &wav[8..12] == b"WAVE", "not a RIFF WAVE file");
    let mut fmt = None;
    let mut pos = 12;
    while pos + 8 <= wav.len() {
        let id = &wav[pos..pos + 4];
        let size = le_u32(&wav[pos + 4..pos + 8]) as usize;
        if id == b"fmt " {
            assert!(size >= 16 && pos + 8 + 16 <= wav.len(), "short fmt chunk");
            fmt = Some(pos + 8);
        } else if id == b"data" {
            return (fmt.expect("a fmt chunk before the data chunk"), pos);
        }
        pos = pos.saturating_add(8).saturating_add(size).saturating_add(size & 1);
    }
    panic!("no data chunk in the WAV file");
}

fn le_u16(bytes: &[u8]) -> u16 {
    u16::from_le_bytes([bytes[0], bytes[1]])
}

/// Reads the `fmt ` fields and the `data` size of a WAV file.
pub fn wav_info(wav: &[u8]) -> WavInfo {
    let (fmt, data) = wav_chunks(wav);
    let data_len = le_u32(&wav[data + 4..]);
    WavInfo {
        channels: le_u16(&wav[fmt + 2..]),
        sample_rate: le_u32(&wav[fmt + 4..]),
        byte_rate: le_u32(&wav[fmt + 8..]),
        block_align: le_u16(&wav[fmt + 12..]),
        bits_per_sample: le_u16(&wav[fmt + 14..]),
        data_len,
        data_present: (data_len as usize).min(wav.len() - (data + 8)),
        riff_len: le_u32(&wav[4..]),
    }
}

/// Overwrites the given header fields of a WAV file, leaving the samples as they are.
pub fn wav_patch(wav: &[u8], patch: WavPatch) -> Vec<u8> {
    let (fmt, data) = wav_chunks(wav);
    let mut out = wav.to_vec();
    let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
    if let Some(v) = patch.channels {
        put(fmt + 2, &v.to_le_bytes());
    }
    if let Some(v) = patch.sample_rate {
        put(fmt + 4, &v.to_le_bytes());
    }
    if let Some(v) = patch.byte_rate {
        put(fmt + 8, &v.to_le_bytes());
    }
    if let Some(v) = patch.block_align {
        put(fmt + 12, &v.to_le_bytes());
    }
    if let Some(v) = patch.bits_per_sample {
        put(fmt + 14, &v.to_le_bytes());
    }
    if let Some(v) = patch.data_len {
        put(data + 4, &v.to_le_bytes());
    }
    if let Some(v) = patch.riff_len {
        put(4, &v.to_le_bytes());
    }
    out
}

/// Samples in [`tiny_wav_claiming_rate`]'s file.
pub const TINY_WAV_SAMPLES: usize = 500;

/// A 1 KB 16-bit mono PCM WAV (500 samples of a tone) whose header claims `rate` frames per
/// second, with the byte rate a naive writer would compute from it (`rate * 2`, wrapping at
/// 2^32); patch `byte_rate` for a file whose fields disagree.
pub fn tiny_wav_claiming_rate(rate: u32) -> Vec<u8> {
    let data: Vec<u8> = (0..TINY_WAV_SAMPLES)
        .flat_map(|i| {
            let value = ((i as f64 * 0.17).sin() * 12_000.0) as i16;
            value.to_le_bytes()
        })
        .collect();
    let data_len = data.len() as u32;
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&rate.wrapping_mul(2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(&data);
    out
}

// ---------------------------------------------------------------------------------------------
// FLAC
// ---------------------------------------------------------------------------------------------

/// The fields of a FLAC STREAMINFO block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlacStreamInfo {
    /// Smallest block size in samples (16 bits).
    pub min_block_size: u16,
    /// Largest block size in samples (16 bits).
    pub max_block_size: u16,
    /// Smallest frame in bytes, 0 when unknown (24 bits).
    pub min_frame_size: u32,
    /// Largest frame in bytes, 0 when unknown (24 bits).
    pub max_frame_size: u32,
    /// Samples per second (20 bits).
    pub sample_rate: u32,
    /// Channel count, 1 to 8.
    pub channels: u8,
    /// Bits per sample, 1 to 32.
    pub bits_per_sample: u8,
    /// Samples per channel in the stream, 0 when unknown (36 bits).
    pub total_samples: u64,
    /// MD5 of the decoded audio, zero when unknown.
    pub md5: [u8; 16],
}

/// STREAMINFO fields to overwrite; `None` keeps the file's value. Values must fit their fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlacPatch {
    /// Smallest block size in samples.
    pub min_block_size: Option<u16>,
    /// Largest block size in samples.
    pub max_block_size: Option<u16>,
    /// Smallest frame in bytes (below 2^24).
    pub min_frame_size: Option<u32>,
    /// Largest frame in bytes (below 2^24).
    pub max_frame_size: Option<u32>,
    /// Samples per second (below 2^20).
    pub sample_rate: Option<u32>,
    /// Channel count, 1 to 8.
    pub channels: Option<u8>,
    /// Bits per sample, 1 to 32.
    pub bits_per_sample: Option<u8>,
    /// Samples per channel (below 2^36).
    pub total_samples: Option<u64>,
    /// MD5 of the decoded audio.
    pub md5: Option<[u8; 16]>,
}

/// The 34-byte STREAMINFO block: always the first metadata block, right after `fLaC`.
const STREAMINFO: Range<usize> = 8..42;

fn streaminfo(flac: &[u8]) -> &[u8] {
    assert!(flac.len() >= STREAMINFO.end && &flac[..4] == b"fLaC", "not a native FLAC file");
    assert!(flac[4] & 0x7f == 0, "the first metadata block is not STREAMINFO");
    &flac[STREAMINFO]
}

fn be_u24(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]])
}

/// Reads a FLAC file's STREAMINFO.
pub fn flac_streaminfo(flac: &[u8]) -> FlacStreamInfo {
    let info = streaminfo(flac);
    // Sample rate, channels - 1, bits - 1 and total samples are packed into 20+3+5+36 bits.
    let packed = u64::from_be_bytes(info[10..18].try_into().expect("eight bytes"));
    FlacStreamInfo {
        min_block_size: u16::from_be_bytes([info[0], info[1]]),
        max_block_size: u16::from_be_bytes([info[2], info[3]]),
        min_frame_size: be_u24(&info[4..7]),
        max_frame_size: be_u24(&info[7..10]),
        sample_rate: (packed >> 44) as u32,
        channels: ((packed >> 41) & 0x7) as u8 + 1,
        bits_per_sample: ((packed >> 36) & 0x1f) as u8 + 1,
        total_samples: packed & ((1 << 36) - 1),
        md5: info[18..34].try_into().expect("sixteen bytes"),
    }
}

/// Overwrites STREAMINFO fields of a FLAC file, leaving the frames as they are (their own headers
/// keep the true block sizes and, for common rates, the true sample rate).
pub fn flac_patch_streaminfo(flac: &[u8], patch: FlacPatch) -> Vec<u8> {
    let old = flac_streaminfo(flac);
    let info = FlacStreamInfo {
        min_block_size: patch.min_block_size.unwrap_or(old.min_block_size),
        max_block_size: patch.max_block_size.unwrap_or(old.max_block_size),
        min_frame_size: patch.min_frame_size.unwrap_or(old.min_frame_size),
        max_frame_size: patch.max_frame_size.unwrap_or(old.max_frame_size),
        sample_rate: patch.sample_rate.unwrap_or(old.sample_rate),
        channels: patch.channels.unwrap_or(old.channels),
        bits_per_sample: patch.bits_per_sample.unwrap_or(old.bits_per_sample),
        total_samples: patch.total_samples.unwrap_or(old.total_samples),
        md5: patch.md5.unwrap_or(old.md5),
    };
    assert!(info.min_frame_size < 1 << 24 && info.max_frame_size < 1 << 24, "frame sizes are 24 bits");
    assert!(info.sample_rate < 1 << 20, "the sample rate is 20 bits");
    assert!((1..=8).contains(&info.channels), "channels are 1 to 8");
    assert!((1..=32).contains(&info.bits_per_sample), "bits per sample are 1 to 32");
    assert!(info.total_samples < 1 << 36, "total samples are 36 bits");
    let packed = (u64::from(info.sample_rate) << 44)
        | (u64::from(info.channels - 1) << 41)
        | (u64::from(info.bits_per_sample - 1) << 36)
        | info.total_samples;
    let mut block = Vec::with_capacity(34);
    block.extend_from_slice(&info.min_block_size.to_be_bytes());
    block.extend_from_slice(&info.max_block_size.to_be_bytes());
    block.extend_from_slice(&info.min_frame_size.to_be_bytes()[1..]);
    block.extend_from_slice(&info.max_frame_size.to_be_bytes()[1..]);
    block.extend_from_slice(&packed.to_be_bytes());
    block.extend_from_slice(&info.md5);
    let mut out = flac.to_vec();
    out[STREAMINFO].copy_from_slice(&block);
    out
}

/// Seconds a FLAC file holds by its STREAMINFO (total samples over sample rate): a fair measure
/// of the pipeline's own uploads, whose headers it writes from the samples it encoded.
pub fn flac_stream_seconds(flac: &[u8]) -> f64 {
    let info = flac_streaminfo(flac);
    assert!(info.sample_rate > 0, "FLAC with a zero sample rate");
    info.total_samples as f64 / f64::from(info.sample_rate)
}

// ---------------------------------------------------------------------------------------------
// MP4
// ---------------------------------------------------------------------------------------------

/// Boxes the walker descends into: the path to every duration and timing table of every track.
const MP4_CONTAINERS: [&[u8; 4]; 6] = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"];

/// One box found in an MP4 file: its type, the index of the `trak` it sits in, and its payload.
struct Mp4Box {
    kind: [u8; 4],
    trak: Option<usize>,
    payload: Range<usize>,
}

fn mp4_boxes(mp4: &[u8]) -> Vec<Mp4Box> {
    fn walk(mp4: &[u8], range: Range<usize>, trak: Option<usize>, traks: &mut usize, out: &mut Vec<Mp4Box>) {
        let mut pos = range.start;
        while pos + 8 <= range.end {
            let size32 = u32::from_be_bytes(mp4[pos..pos + 4].try_into().expect("four bytes"));
            let kind: [u8; 4] = mp4[pos + 4..pos + 8].try_into().expect("four bytes");
            let (header, size) = match size32 {
                0 => (8, range.end - pos),
                1 => {
                    let large = u64::from_be_bytes(mp4[pos + 8..pos + 16].try_into().expect("eight bytes"));
                    (16, usize::try_from(large).expect("a box that fits in memory"))
                }
                n => (8, n as usize),
            };
            assert!(
                size >= header && pos + size <= range.end,
                "MP4 box {kind:?} at {pos} overruns its parent"
            );
            let payload = pos + header..pos + size;
            let trak_here = if &kind == b"trak" {
                *traks += 1;
                Some(*traks - 1)
            } else {
                trak
            };
            if MP4_CONTAINERS.contains(&&kind) {
                walk(mp4, payload.clone(), trak_here, traks, out);
            }
            out.push(Mp4Box { kind, trak: trak_here, payload });
            pos += size;
        }
    }
    let mut out = Vec::new();
    walk(mp4, 0..mp4.len(), None, &mut 0, &mut out);
    assert!(out.iter().any(|b| &b.kind == b"mvhd"), "no moov/mvhd box: not an MP4 file?");
    out
}

/// Where a duration field sits in a `mvhd`, `tkhd` or `mdhd` payload, and how wide it is; plus
/// the timescale's offset for the boxes that have one.
fn duration_field(mp4: &[u8], b: &Mp4Box) -> Option<(usize, usize, Option<usize>)> {
    let p = b.payload.start;
    let version1 = mp4[p] == 1;
    match &b.kind {
        // version/flags, creation, modification, timescale, duration
        b"mvhd" | b"mdhd" if version1 => Some((p + 24, 8, Some(p + 20))),
        b"mvhd" | b"mdhd" => Some((p + 16, 4, Some(p + 12))),
        // version/flags, creation, modification, track id, reserved, duration
        b"tkhd" if version1 => Some((p + 28, 8, None)),
        b"tkhd" => Some((p + 20, 4, None)),
        _ => None,
    }
}

/// One duration an MP4 file declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp4Duration {
    /// The box it is in: `mvhd`, `tkhd` or `mdhd`.
    pub kind: [u8; 4],
    /// Units per second (`tkhd` counts in the `mvhd` timescale and has none of its own).
    pub timescale: Option<u32>,
    /// The duration in those units.
    pub duration: u64,
}

/// Every duration the movie and track headers declare, in file order.
pub fn mp4_durations(mp4: &[u8]) -> Vec<Mp4Duration> {
    let be = |at: usize, width: usize| mp4[at..at + width].iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
    mp4_boxes(mp4)
        .iter()
        .filter_map(|b| {
            let (at, width, timescale) = duration_field(mp4, b)?;
            Some(Mp4Duration {
                kind: b.kind,
                timescale: timescale.map(|t| be(t, 4) as u32),
                duration: be(at, width),
            })
        })
        .collect()
}

fn mp4_rewrite_durations(mp4: &[u8], mut f: impl FnMut(u64) -> u128) -> Vec<u8> {
    let mut out = mp4.to_vec();
    for b in mp4_boxes(mp4) {
        let Some((at, width, _)) = duration_field(mp4, &b) else { continue };
        let old = out[at..at + width].iter().fold(0u64, |v, &byte| (v << 8) | u64::from(byte));
        let max = if width == 8 { u128::from(u64::MAX) } else { u128::from(u32::MAX) };
        let new = f(old).min(max) as u64;
        out[at..at + width].copy_from_slice(&new.to_be_bytes()[8 - width..]);
    }
    out
}

/// Multiplies every `mvhd`, `tkhd` and `mdhd` duration by `num / den` (saturating at the field's
/// width), leaving the samples and their timing tables alone.
pub fn mp4_scale_durations(mp4: &[u8], num: u64, den: u64) -> Vec<u8> {
    assert!(den > 0, "a zero denominator");
    mp4_rewrite_durations(mp4, |d| u128::from(d) * u128::from(num) / u128::from(den))
}

/// Sets every `mvhd`, `tkhd` and `mdhd` duration to `value` (saturating at 32 bits in version-0
/// boxes).
pub fn mp4_set_durations(mp4: &[u8], value: u64) -> Vec<u8> {
    mp4_rewrite_durations(mp4, |_| u128::from(value))
}

/// Sets the timescale of every track's `mdhd`, so each sample's time-to-sample delta means a
/// different length of time (the movie's `mvhd` timescale is left alone).
pub fn mp4_set_media_timescale(mp4: &[u8], timescale: u32) -> Vec<u8> {
    let mut out = mp4.to_vec();
    for b in mp4_boxes(mp4).iter().filter(|b| &b.kind == b"mdhd") {
        if let Some((_, _, Some(at))) = duration_field(mp4, b) {
            out[at..at + 4].copy_from_slice(&timescale.to_be_bytes());
        }
    }
    out
}

/// Indices of the `trak`s whose handler is `soun`.
fn audio_traks(mp4: &[u8], boxes: &[Mp4Box]) -> HashSet<usize> {
    boxes
        .iter()
        .filter(|b| &b.kind == b"hdlr" && mp4.get(b.payload.start + 8..b.payload.start + 12) == Some(b"soun"))
        .filter_map(|b| b.trak)
        .collect()
}

/// Payload offsets of the `(sample_count, sample_delta)` entries of the audio tracks' `stts`.
fn audio_stts_entries(mp4: &[u8]) -> Vec<usize> {
    let boxes = mp4_boxes(mp4);
    let audio = audio_traks(mp4, &boxes);
    assert!(!audio.is_empty(), "no audio track (hdlr soun)");
    let mut entries = Vec::new();
    for b in boxes.iter().filter(|b| &b.kind == b"stts" && b.trak.is_some_and(|t| audio.contains(&t))) {
        let p = b.payload.start;
        let count = u32::from_be_bytes(mp4[p + 4..p + 8].try_into().expect("four bytes")) as usize;
        for i in 0..count {
            let at = p + 8 + i * 8;
            assert!(at + 8 <= b.payload.end, "stts entry {i} overruns its box");
            entries.push(at);
        }
    }
    entries
}

/// The `(sample_count, sample_delta)` entries of the audio tracks' time-to-sample tables.
pub fn mp4_audio_stts(mp4: &[u8]) -> Vec<(u32, u32)> {
    let be = |at: usize| u32::from_be_bytes(mp4[at..at + 4].try_into().expect("four bytes"));
    audio_stts_entries(mp4).into_iter().map(|at| (be(at), be(at + 4))).collect()
}

/// Sets the sample delta of every entry in the audio tracks' `stts` to `delta`: the timestamps
/// lie about every packet's length while the packets stay as they were.
pub fn mp4_set_stts_delta(mp4: &[u8], delta: u32) -> Vec<u8> {
    let mut out = mp4.to_vec();
    for at in audio_stts_entries(mp4) {
        out[at + 4..at + 8].copy_from_slice(&delta.to_be_bytes());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// MP3
// ---------------------------------------------------------------------------------------------

/// Offset of the frame-count field of the Xing/Info or VBRI header in the first MP3 frame.
fn mp3_frames_field(mp3: &[u8]) -> Option<usize> {
    let mut start = 0;
    if mp3.starts_with(b"ID3") && mp3.len() >= 10 {
        let size = mp3[6..10].iter().fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f));
        let footer = if mp3[5] & 0x10 != 0 { 10 } else { 0 };
        start = 10 + size + footer;
    }
    // The first frame sync after the tag; a tag's padding may leave a few zero bytes before it.
    let frame =
        (start..mp3.len().saturating_sub(4)).find(|&i| mp3[i] == 0xFF && mp3[i + 1] & 0xE0 == 0xE0)?;
    // Xing/Info sits after the side information (9 to 32 bytes), VBRI 32 bytes after the header.
    let window = &mp3[frame..(frame + 64).min(mp3.len())];
    let tag = (0..window.len().saturating_sub(4)).find(|&i| {
        let id = &window[i..i + 4];
        id == b"Xing" || id == b"Info" || id == b"VBRI"
    })?;
    let at = frame + tag;
    if &mp3[at..at + 4] == b"VBRI" {
        // id, version, delay, quality, bytes, frames
        return Some(at + 14);
    }
    let flags = u32::from_be_bytes(mp3.get(at + 4..at + 8)?.try_into().ok()?);
    (flags & 1 != 0).then_some(at + 8)
}

/// The frame count an MP3's Xing/Info or VBRI header declares, if it has one.
pub fn mp3_xing_frames(mp3: &[u8]) -> Option<u32> {
    let at = mp3_frames_field(mp3)?;
    Some(u32::from_be_bytes(mp3.get(at..at + 4)?.try_into().ok()?))
}

/// Sets the frame count in an MP3's Xing/Info or VBRI header (players take the duration from it
/// instead of counting frames). Panics when the file has no such header with a frame count.
pub fn mp3_set_xing_frames(mp3: &[u8], frames: u32) -> Vec<u8> {
    let at = mp3_frames_field(mp3).expect("an MP3 with a Xing/Info or VBRI frame count");
    let mut out = mp3.to_vec();
    out[at..at + 4].copy_from_slice(&frames.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_reference_check_value() {
        // CRC-32 with poly 0x04C11DB7, init 0, no reflection, no final xor, over "123456789".
        assert_eq!(ogg_crc(b"123456789"), 0x89A1_897F);
        assert_eq!(ogg_crc(b""), 0);
    }

    #[test]
    fn a_written_page_parses_back_and_checks_out() {
        let page = Page {
            flags: FLAG_BOS,
            granule: 0x0102_0304_0506_0708,
            serial: 77,
            sequence: 3,
            lacing: vec![255, 10, 3],
            body: (0..268u32).map(|i| i as u8).collect(),
        };
        let mut bytes = Vec::new();
        page.write(&mut bytes);
        let (pages, complete) = read_pages(&bytes);
        assert!(complete);
        assert_eq!(pages, vec![page.clone()]);
        let stored = le_u32(&bytes[22..26]);
        let mut zeroed = bytes.clone();
        zeroed[22..26].fill(0);
        assert_eq!(ogg_crc(&zeroed), stored);
        // Any changed byte changes the checksum.
        zeroed[100] ^= 1;
        assert_ne!(ogg_crc(&zeroed), stored);
        // Two packets end on the page (265 and 3 bytes).
        assert_eq!(page.pieces(), vec![(0..265, true), (265..268, true)]);
        // A cut page is left out, and says so.
        let (pages, complete) = read_pages(&bytes[..bytes.len() - 1]);
        assert!(pages.is_empty() && !complete);
    }

    fn every_crc_is_valid(ogg: &[u8]) -> bool {
        ogg_page_ranges(ogg).into_iter().all(|r| {
            let mut page = ogg[r].to_vec();
            let stored = le_u32(&page[22..26]);
            page[22..26].fill(0);
            ogg_crc(&page) == stored
        })
    }

    #[test]
    fn an_hour_of_silence_is_tiny_and_an_hour_long() {
        let ogg = opus_silence(3600.0);
        assert!(ogg.len() < 200_000, "{} bytes", ogg.len());
        assert!(every_crc_is_valid(&ogg));
        let (pages, complete) = read_pages(&ogg);
        assert!(complete);
        assert_eq!(pages[0].flags, FLAG_BOS);
        assert!(pages[0].body.starts_with(b"OpusHead"));
        assert!(pages[1].body.starts_with(b"OpusTags"));
        assert!(pages.iter().all(|p| p.lacing.len() <= 255));
        assert_eq!(pages.iter().filter(|p| p.flags & FLAG_EOS != 0).count(), 1);
        assert_eq!(pages.last().map(|p| p.flags & FLAG_EOS), Some(FLAG_EOS));
        assert_eq!(pages.last().map(|p| p.granule), Some(312 + 3600 * 48_000));
        let granules: Vec<u64> = pages.iter().map(|p| p.granule).collect();
        assert!(granules.windows(2).all(|w| w[0] <= w[1]));
        assert!((ogg_opus_content_seconds(&ogg) - 3600.0).abs() < 1e-9);
        // Shorter ones too, to the sample.
        let short = opus_silence(1.234);
        assert!((ogg_opus_content_seconds(&short) - 1.234).abs() < 1e-9);
        assert!((ogg_opus_content_seconds(&opus_silence(0.0))).abs() < 1e-12);
    }

    #[test]
    fn silence_packets_say_120_ms() {
        assert_eq!(opus_packet_samples(&SILENCE_PACKET), 5760);
        assert_eq!(opus_packet_samples(&[0x08]), 960);
        assert_eq!(opus_packet_samples(&[0xFB, 0x3F]), 0);
        assert_eq!(opus_packet_samples(&[0x0B]), 0);
        assert_eq!(opus_packet_samples(&[]), 0);
    }

    #[test]
    fn granules_are_rewritten_and_checksums_fixed() {
        let ogg = opus_silence(100.0);
        let lied = ogg_map_granules(&ogg, |i, g| if i >= 2 { g * 1000 } else { g });
        assert!(every_crc_is_valid(&lied));
        let before = ogg_granules(&ogg);
        let after = ogg_granules(&lied);
        assert_eq!(before.len(), after.len());
        for (i, ((_, b), (_, a))) in before.iter().zip(&after).enumerate() {
            assert_eq!(*a, if i >= 2 { b * 1000 } else { *b });
        }
        // The content does not change, nor does the measure (a lie beyond the last page is ignored).
        assert!((ogg_opus_content_seconds(&lied) - 100.0).abs() < 0.2);
        let last = ogg_set_last_granule(&ogg, 960);
        assert!(every_crc_is_valid(&last));
        assert_eq!(ogg_granules(&last).last().map(|g| g.1), Some(960));
        assert_eq!(ogg_granules(&last)[..before.len() - 1], before[..before.len() - 1]);
        assert!((ogg_opus_content_seconds(&last) - 100.0).abs() < 0.2);
    }

    #[test]
    fn chained_streams_keep_apart_and_add_up() {
        let a = opus_silence(2.0);
        let chained = ogg_chain(&a, &a);
        assert!(every_crc_is_valid(&chained));
        let serials: HashSet<u32> = ogg_granules(&chained).iter().map(|g| g.0).collect();
        assert_eq!(serials.len(), 2);
        assert!((ogg_opus_content_seconds(&chained) - 4.0).abs() < 1e-9);
    }

    #[test]
    fn appended_audio_joins_the_first_stream() {
        let a = opus_silence(2.0);
        let b = opus_silence(3.0);
        let joined = ogg_append_audio(&a, &b);
        assert!(every_crc_is_valid(&joined));
        let (pages, _) = read_pages(&joined);
        assert!(pages.iter().all(|p| p.serial == SILENCE_SERIAL));
        let sequences: Vec<u32> = pages.iter().map(|p| p.sequence).collect();
        assert_eq!(sequences, (0..pages.len() as u32).collect::<Vec<_>>());
        assert_eq!(pages.iter().filter(|p| p.flags & FLAG_BOS != 0).count(), 1);
        assert_eq!(pages.iter().filter(|p| p.flags & FLAG_EOS != 0).count(), 1);
        assert_eq!(pages.last().map(|p| p.flags & FLAG_EOS), Some(FLAG_EOS));
        // The last granule describes b alone: the granules went backwards.
        assert_eq!(pages.last().map(|p| p.granule), Some(312 + 3 * 48_000));
        // Every packet of both is there; b's pre-skip is not skipped inside one stream, and a's end
        // trim is gone with a's last page no longer last.
        let a_packets = (312u64 + 2 * 48_000).div_ceil(5760);
        let b_packets = (312u64 + 3 * 48_000).div_ceil(5760);
        let expected = ((a_packets + b_packets) * 5760 - 312) as f64 / 48_000.0;
        assert!((ogg_opus_content_seconds(&joined) - expected).abs() < 1e-9);
    }

    #[test]
    fn wav_fields_are_patched_in_place() {
        let wav = tiny_wav_claiming_rate(7_999_999);
        assert!(wav.len() < 1100);
        let info = wav_info(&wav);
        assert_eq!(info.sample_rate, 7_999_999);
        assert_eq!(info.byte_rate, 15_999_998);
        assert_eq!(info.data_present, TINY_WAV_SAMPLES * 2);
        assert_eq!(wav_info(&tiny_wav_claiming_rate(4_294_967_291)).byte_rate, 4_294_967_286);
        // A LIST chunk between fmt and data, as ffmpeg writes, is walked over.
        let mut listed = wav[..36].to_vec();
        listed.extend_from_slice(b"LIST\x05\0\0\0abcde\0");
        listed.extend_from_slice(&wav[36..]);
        let patch = WavPatch {
            sample_rate: Some(1),
            channels: Some(6),
            byte_rate: Some(2),
            block_align: Some(3),
            bits_per_sample: Some(24),
            data_len: Some(u32::MAX),
            riff_len: Some(5),
        };
        let patched = wav_info(&wav_patch(&listed, patch));
        assert_eq!(
            patched,
            WavInfo {
                sample_rate: 1,
                channels: 6,
                byte_rate: 2,
                block_align: 3,
                bits_per_sample: 24,
                data_len: u32::MAX,
                data_present: 1000,
                riff_len: 5,
            }
        );
        let unchanged = wav_patch(&listed, WavPatch::default());
        assert_eq!(unchanged, listed);
    }

    fn tiny_flac() -> Vec<u8> {
        let mut flac = b"fLaC".to_vec();
        flac.push(0x80); // last metadata block, STREAMINFO
        flac.extend_from_slice(&[0, 0, 34]);
        flac.extend_from_slice(&[0; 34]);
        let info = FlacPatch {
            min_block_size: Some(4096),
            max_block_size: Some(4096),
            min_frame_size: Some(14),
            max_frame_size: Some(9000),
            sample_rate: Some(48_000),
            channels: Some(1),
            bits_per_sample: Some(16),
            total_samples: Some(432_000),
            md5: Some([7; 16]),
        };
        // Starting from all zeros: channels and bits decode as 1, which the patch overwrites.
        flac_patch_streaminfo(&flac, info)
    }

    #[test]
    fn streaminfo_fields_round_trip() {
        let flac = tiny_flac();
        let info = flac_streaminfo(&flac);
        assert_eq!(info.sample_rate, 48_000);
        assert_eq!(info.total_samples, 432_000);
        assert_eq!(info.max_frame_size, 9000);
        assert!((flac_stream_seconds(&flac) - 9.0).abs() < 1e-12);
        let lied = flac_patch_streaminfo(
            &flac,
            FlacPatch {
                total_samples: Some((1 << 36) - 1),
                sample_rate: Some(1_048_575),
                channels: Some(8),
                bits_per_sample: Some(32),
                ..FlacPatch::default()
            },
        );
        let back = flac_streaminfo(&lied);
        assert_eq!(
            back,
            FlacStreamInfo {
                total_samples: (1 << 36) - 1,
                sample_rate: 1_048_575,
                channels: 8,
                bits_per_sample: 32,
                ..info
            }
        );
        assert_eq!(lied.len(), flac.len());
    }

    fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    /// A skeleton movie: mvhd v0, a video trak (tkhd v0, mdhd v0) and an audio trak (tkhd v1,
    /// mdhd v1) with a two-entry stts.
    fn tiny_mp4() -> Vec<u8> {
        let v0_header = |timescale: u32, duration: u32| {
            let mut p = vec![0; 12];
            p.extend_from_slice(&timescale.to_be_bytes());
            p.extend_from_slice(&duration.to_be_bytes());
            p.extend_from_slice(&[0; 8]);
            p
        };
        let v1_header = |timescale: u32, duration: u64| {
            let mut p = vec![1, 0, 0, 0];
            p.extend_from_slice(&[0; 16]);
            p.extend_from_slice(&timescale.to_be_bytes());
            p.extend_from_slice(&duration.to_be_bytes());
            p.extend_from_slice(&[0; 4]);
            p
        };
        let tkhd_v0 = |duration: u32| {
            let mut p = vec![0; 20];
            p.extend_from_slice(&duration.to_be_bytes());
            p.extend_from_slice(&[0; 60]);
            p
        };
        let tkhd_v1 = |duration: u64| {
            let mut p = vec![1, 0, 0, 0];
            p.extend_from_slice(&[0; 24]);
            p.extend_from_slice(&duration.to_be_bytes());
            p.extend_from_slice(&[0; 52]);
            p
        };
        let hdlr = |kind: &[u8; 4]| {
            let mut p = vec![0; 8];
            p.extend_from_slice(kind);
            p.extend_from_slice(&[0; 13]);
            mp4_box(b"hdlr", &p)
        };
        let stts = |entries: &[(u32, u32)]| {
            let mut p = vec![0; 4];
            p.extend_from_slice(&(entries.len() as u32).to_be_bytes());
            for (count, delta) in entries {
                p.extend_from_slice(&count.to_be_bytes());
                p.extend_from_slice(&delta.to_be_bytes());
            }
            mp4_box(b"stts", &p)
        };
        let trak = |tkhd: Vec<u8>, mdhd: Vec<u8>, handler: &[u8; 4], table: &[(u32, u32)]| {
            let stbl = mp4_box(b"stbl", &stts(table));
            let minf = mp4_box(b"minf", &stbl);
            let mdia = mp4_box(b"mdia", &[mp4_box(b"mdhd", &mdhd), hdlr(handler), minf].concat());
            mp4_box(b"trak", &[mp4_box(b"tkhd", &tkhd), mdia].concat())
        };
        let moov = mp4_box(
            b"moov",
            &[
                mp4_box(b"mvhd", &v0_header(1000, 9000)),
                trak(tkhd_v0(9000), v0_header(10, 90), b"vide", &[(90, 1)]),
                trak(tkhd_v1(9000), v1_header(48_000, 432_000), b"soun", &[(421, 1024), (1, 928)]),
            ]
            .concat(),
        );
        [mp4_box(b"ftyp", b"M4A \0\0\0\0"), moov, mp4_box(b"mdat", &[0; 16])].concat()
    }

    #[test]
    fn mp4_durations_and_timings_are_rewritten() {
        let mp4 = tiny_mp4();
        let durations = mp4_durations(&mp4);
        let kinds: Vec<&[u8; 4]> = durations.iter().map(|d| &d.kind).collect();
        assert_eq!(kinds, [b"mvhd", b"tkhd", b"mdhd", b"tkhd", b"mdhd"]);
        assert_eq!(durations[4], Mp4Duration { kind: *b"mdhd", timescale: Some(48_000), duration: 432_000 });

        let scaled = mp4_durations(&mp4_scale_durations(&mp4, 1000, 1));
        let values: Vec<u64> = scaled.iter().map(|d| d.duration).collect();
        assert_eq!(values, [9_000_000, 9_000_000, 90_000, 9_000_000, 432_000_000]);
        let huge = mp4_durations(&mp4_set_durations(&mp4, u64::MAX));
        let values: Vec<u64> = huge.iter().map(|d| d.duration).collect();
        // Version-0 fields saturate at 32 bits.
        let max32 = u64::from(u32::MAX);
        assert_eq!(values, [max32, max32, max32, u64::MAX, u64::MAX]);

        let retimed = mp4_set_media_timescale(&mp4, 8);
        let timescales: Vec<Option<u32>> = mp4_durations(&retimed).iter().map(|d| d.timescale).collect();
        assert_eq!(timescales, [Some(1000), None, Some(8), None, Some(8)]);

        assert_eq!(mp4_audio_stts(&mp4), [(421, 1024), (1, 928)]);
        let lied = mp4_set_stts_delta(&mp4, 1);
        assert_eq!(mp4_audio_stts(&lied), [(421, 1), (1, 1)]);
        assert_eq!(lied.len(), mp4.len());
    }

    #[test]
    fn xing_frame_count_is_rewritten() {
        // An ID3v2 tag, then an MPEG-1 layer III mono frame header with its Xing header after the
        // 17 bytes of side information.
        let mut mp3 = b"ID3\x04\0\0\0\0\0\x05hello".to_vec();
        mp3.extend_from_slice(&[0xFF, 0xFB, 0x50, 0xC4]);
        mp3.extend_from_slice(&[0; 17]);
        mp3.extend_from_slice(b"Info");
        mp3.extend_from_slice(&3u32.to_be_bytes()); // frames and bytes present
        mp3.extend_from_slice(&345u32.to_be_bytes());
        mp3.extend_from_slice(&99_999u32.to_be_bytes());
        mp3.extend_from_slice(&[0; 100]);
        assert_eq!(mp3_xing_frames(&mp3), Some(345));
        let lied = mp3_set_xing_frames(&mp3, u32::MAX);
        assert_eq!(mp3_xing_frames(&lied), Some(u32::MAX));
        assert_eq!(lied.len(), mp3.len());
        // No frame count: nothing to read.
        let mut no_count = mp3.clone();
        no_count[10 + 5 + 4 + 17 + 4 + 3] = 2;
        assert_eq!(mp3_xing_frames(&no_count), None);
    }
}
