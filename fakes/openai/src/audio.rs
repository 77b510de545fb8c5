//! What the fake "hears": format, duration and a content hash read from the
//! bytes, and the deterministic transcript derived from them.

use sha2::{Digest, Sha256};

/// Seconds of audio per transcript segment.
pub const SEGMENT_SECONDS: f64 = 5.0;

/// The container or codec recognised in an upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioFormat {
    /// RIFF/WAVE.
    Wav,
    /// Native FLAC.
    Flac,
    /// Ogg with Opus.
    OggOpus,
    /// Ogg with Vorbis.
    OggVorbis,
    /// MPEG audio layer III.
    Mp3,
}

/// What was read from an upload.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioInfo {
    /// Format recognised.
    pub format: AudioFormat,
    /// Duration in seconds.
    pub duration_s: f64,
    /// First 8 hex digits of the SHA-256 of the bytes.
    pub hash: String,
}

/// One segment of a transcript.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeSegment {
    /// Start, seconds on the upload's own timeline.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// Text.
    pub text: String,
}

/// The transcript the fake returns for some audio.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeTranscript {
    /// Segments in order.
    pub segments: Vec<FakeSegment>,
    /// All segment texts joined by spaces.
    pub text: String,
    /// Duration in seconds.
    pub duration_s: f64,
}

fn u16le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn wav_duration(b: &[u8]) -> Option<f64> {
    let mut at = 12;
    let mut byte_rate = None;
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let size = u32le(b, at + 4)? as usize;
        if id == b"fmt " {
            byte_rate = u32le(b, at + 16);
        }
        if id == b"data" {
            let available = b.len().saturating_sub(at + 8).min(size);
            return Some(available as f64 / f64::from(byte_rate.filter(|r| *r > 0)?));
        }
        at += 8 + size + (size % 2);
    }
    None
}

fn flac_duration(b: &[u8]) -> Option<f64> {
    // STREAMINFO is the first metadata block: 4-byte header after "fLaC".
    let info = b.get(8..8 + 34)?;
    let rate = (u32::from(info[10]) << 12) | (u32::from(info[11]) << 4) | (u32::from(info[12]) >> 4);
    let total = (u64::from(info[13] & 0x0f) << 32)
        | (u64::from(info[14]) << 24)
        | (u64::from(info[15]) << 16)
        | (u64::from(info[16]) << 8)
        | u64::from(info[17]);
    (rate > 0).then(|| total as f64 / f64::from(rate))
}

/// Granule position of the last page, and the first page's payload.
fn ogg_pages(b: &[u8]) -> Option<(i64, &[u8])> {
    let mut at = 0;
    let mut last = None;
    let mut first_payload = None;
    while at + 27 <= b.len() && &b[at..at + 4] == b"OggS" {
        let granule = i64::from_le_bytes(b[at + 6..at + 14].try_into().ok()?);
        let segments = b[at + 26] as usize;
        let table = b.get(at + 27..at + 27 + segments)?;
        let body: usize = table.iter().map(|&s| s as usize).sum();
        let start = at + 27 + segments;
        let payload = b.get(start..start + body)?;
        if first_payload.is_none() {
            first_payload = Some(payload);
        }
        if granule >= 0 {
            last = Some(granule);
        }
        at = start + body;
    }
    Some((last?, first_payload?))
}

fn mp3_duration(b: &[u8]) -> Option<f64> {
    let mut at = 0;
    if b.starts_with(b"ID3") && b.len() > 10 {
        let size = b[6..10].iter().fold(0usize, |acc, &x| (acc << 7) | (x & 0x7f) as usize);
        at = 10 + size;
    }
    let header = b.get(at..at + 4)?;
    if header[0] != 0xff || header[1] & 0xe0 != 0xe0 {
        return None;
    }
    // MPEG-1 layer III bitrates in kbps.
    const RATES: [u32; 16] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0];
    let kbps = RATES[(header[2] >> 4) as usize];
    (kbps > 0).then(|| (b.len() - at) as f64 * 8.0 / f64::from(kbps * 1000))
}

/// Reads format, duration and hash, or `None` when the bytes are not audio
/// the fake understands (the server answers like OpenAI's "Invalid file format").
pub fn probe_audio(bytes: &[u8]) -> Option<AudioInfo> {
    let (format, duration_s) = if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WAVE") {
        (AudioFormat::Wav, wav_duration(bytes)?)
    } else if bytes.starts_with(b"fLaC") {
        (AudioFormat::Flac, flac_duration(bytes)?)
    } else if bytes.starts_with(b"OggS") {
        let (granule, head) = ogg_pages(bytes)?;
        if head.starts_with(b"OpusHead") {
            let pre_skip = i64::from(u16le(head, 10)?);
            (AudioFormat::OggOpus, (granule - pre_skip).max(0) as f64 / 48_000.0)
        } else if head.get(1..7) == Some(b"vorbis") {
            let rate = u32le(head, 12).filter(|r| *r > 0)?;
            (AudioFormat::OggVorbis, granule as f64 / f64::from(rate))
        } else {
            return None;
        }
    } else {
        (AudioFormat::Mp3, mp3_duration(bytes)?)
    };
    let digest = Sha256::digest(bytes);
    Some(AudioInfo { format, duration_s, hash: hex::encode(&digest[..4]) })
}

/// The transcript the server returns for `bytes`: one segment per 5 seconds,
/// each naming the upload's hash and its index, so tests can check that each
/// chunk was sent once and stitched in order.
pub fn expected_transcript(bytes: &[u8]) -> Option<FakeTranscript> {
    let info = probe_audio(bytes)?;
    let count = (info.duration_s / SEGMENT_SECONDS).ceil().max(1.0) as usize;
    let segments: Vec<FakeSegment> = (0..count)
        .map(|i| {
            let start = i as f64 * SEGMENT_SECONDS;
            FakeSegment {
                start,
                end: (start + SEGMENT_SECONDS).min(info.duration_s.max(start)),
                text: format!("{}-{i}", info.hash),
            }
        })
        .collect();
    let text = segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
    Some(FakeTranscript { segments, text, duration_s: info.duration_s })
}

/// Filler speech for [`FakeTranscript::say_more`].
const WORDS: [&str; 12] =
    ["we", "need", "to", "discuss", "the", "budget", "for", "the", "next", "quarter", "and", "plans"];

impl FakeTranscript {
    /// Makes each segment say `words` words after its tag, as speech would.
    pub fn say_more(&mut self, words: usize) {
        for segment in &mut self.segments {
            for word in WORDS.iter().cycle().take(words) {
                segment.text.push(' ');
                segment.text.push_str(word);
            }
        }
        self.text = self.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
    }
}

/// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (VTT).
pub(crate) fn clock(secs: f64, separator: char) -> String {
    let millis = (secs * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        millis / 3_600_000,
        millis / 60_000 % 60,
        millis / 1000 % 60,
        millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srt_and_vtt_clocks() {
        assert_eq!(clock(3725.5, ','), "01:02:05,500");
        assert_eq!(clock(0.0, '.'), "00:00:00.000");
    }

    #[test]
    fn garbage_is_not_audio() {
        assert!(probe_audio(b"hello world, not audio").is_none());
        assert!(probe_audio(b"").is_none());
        assert!(probe_audio(b"OggS\0\x02").is_none());
    }
}
