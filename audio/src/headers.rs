//! Checks and neutralises header fields before symphonia sees them, where a field it trusts would
//! let a file misstate its length or overflow its arithmetic.
//!
//! - WAV: the `fmt ` chunk's channel count, sample rate and sample size must be ones real
//!   recordings use (a channel count of 65535 overflows the demuxer's block size).
//! - MP3: the Xing / Info / VBRI tag's frame count makes the demuxer stop after that many frames,
//!   so the tag is blanked and every frame present is decoded (and billed).

use bytes::Bytes;

use crate::AudioError;
use crate::detect::InputFormat;
use crate::pcm::{MAX_CHANNELS, RATES};

/// How far into a WAV file the `fmt ` chunk is looked for (it comes first in practice).
const WAV_HEADER_SCAN: usize = 1 << 20;

/// Returns the input as symphonia should see it, or refuses it.
pub(crate) fn prepare_for_demuxer(format: InputFormat, input: Bytes) -> Result<Bytes, AudioError> {
    match format {
        InputFormat::Wav => {
            check_wav_format(&input)?;
            Ok(input)
        }
        InputFormat::Mp3 => Ok(without_frame_count_tag(input)),
        _ => Ok(input),
    }
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn check_wav_format(data: &[u8]) -> Result<(), AudioError> {
    let mut pos = 12;
    while pos + 8 <= data.len().min(WAV_HEADER_SCAN) {
        let size = u32_at(data, pos + 4).map_or(0, |s| s as usize);
        if &data[pos..pos + 4] == b"fmt " {
            let fmt = pos + 8;
            let (Some(channels), Some(rate), Some(bits)) =
                (u16_at(data, fmt + 2), u32_at(data, fmt + 4), u16_at(data, fmt + 14))
            else {
                return Err(AudioError::corrupt("WAV format chunk is cut short"));
            };
            if channels == 0 || usize::from(channels) > MAX_CHANNELS {
                return Err(AudioError::UnsupportedFormat(format!("WAV with {channels} channels")));
            }
            if !RATES.contains(&rate) {
                return Err(AudioError::UnsupportedFormat(format!("sample rate {rate} Hz")));
            }
            if bits == 0 || bits > 64 {
                return Err(AudioError::UnsupportedFormat(format!("{bits}-bit WAV samples")));
            }
            return Ok(());
        }
        // Chunks are padded to an even length.
        pos = pos.saturating_add(8).saturating_add(size).saturating_add(size & 1);
    }
    // No format chunk where one belongs: the demuxer reports the file as broken.
    Ok(())
}

/// Blanks the frame-count tag in the first MPEG frame, if there is one. The frame that carried
/// it is an ordinary (silent) frame to the decoder, so at most one frame's worth of silence and
/// the encoder's gapless padding are added: about 50 ms.
fn without_frame_count_tag(input: Bytes) -> Bytes {
    let start = id3v2_len(&input);
    // The tag sits after the first frame's header and side information (at most 4 + 32 bytes).
    let window = start..(start + 4 + 32 + 4 + 16).min(input.len());
    let Some(window_bytes) = input.get(window.clone()) else { return input };
    let found = window_bytes
        .windows(4)
        .position(|w| w == b"Xing" || w == b"Info" || w == b"VBRI")
        .map(|at| window.start + at);
    match found {
        Some(at) => {
            let mut copy = input.to_vec();
            copy[at..at + 4].copy_from_slice(b"\0\0\0\0");
            Bytes::from(copy)
        }
        None => input,
    }
}

fn id3v2_len(data: &[u8]) -> usize {
    if !data.starts_with(b"ID3") {
        return 0;
    }
    let Some(size) = data.get(6..10) else { return data.len() };
    let len = size.iter().fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f));
    // A footer flag adds ten more bytes.
    let footer = if data.get(5).is_some_and(|f| f & 0x10 != 0) { 10 } else { 0 };
    (10 + len + footer).min(data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let mut out = b"RIFF\0\0\0\0WAVE".to_vec();
        out.extend_from_slice(b"LIST");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(b"abc\0");
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&rate.wrapping_mul(2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&bits.to_le_bytes());
        out
    }

    #[test]
    fn wav_format_fields_outside_real_recordings_are_refused() {
        assert!(check_wav_format(&wav(2, 44_100, 16)).is_ok());
        for (channels, rate, bits) in [(0, 16_000, 16), (65_535, 16_000, 16), (9, 16_000, 16)] {
            assert!(matches!(
                check_wav_format(&wav(channels, rate, bits)),
                Err(AudioError::UnsupportedFormat(_))
            ));
        }
        for (rate, bits) in [(7_999, 16), (192_001, 16), (u32::MAX - 4, 16), (16_000, 0), (16_000, 65)] {
            assert!(matches!(check_wav_format(&wav(1, rate, bits)), Err(AudioError::UnsupportedFormat(_))));
        }
    }

    #[test]
    fn an_mp3_frame_count_tag_is_blanked_after_the_id3_tag() {
        let mut mp3 = b"ID3\x03\0\0\0\0\0\x02xx".to_vec();
        mp3.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        mp3.extend_from_slice(&[0; 32]);
        mp3.extend_from_slice(b"Xing\0\0\0\x03");
        let out = without_frame_count_tag(Bytes::from(mp3.clone()));
        assert!(!out.windows(4).any(|w| w == b"Xing"));
        assert_eq!(out.len(), mp3.len());
        // Untouched when there is no tag.
        let plain = Bytes::from_static(&[0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0]);
        assert_eq!(without_frame_count_tag(plain.clone()), plain);
    }
}
