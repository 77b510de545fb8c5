//! Recognises the container (and, for Ogg, the codec) from the first bytes; names and claimed MIME
//! types from Telegram are ignored because users rename files and clients mislabel them.

use crate::AudioError;

/// The input kinds the pipeline tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum InputFormat {
    /// Ogg with an Opus stream (Telegram voice notes).
    OggOpus,
    /// Ogg with a Vorbis (or FLAC, Speex...) stream, decoded by symphonia.
    OggOther,
    /// MPEG audio layer III, with or without an ID3v2 tag.
    Mp3,
    /// ISO base media (MP4, M4A, MOV, 3GP).
    Mp4,
    /// RIFF WAVE.
    Wav,
    /// Native FLAC.
    Flac,
    /// Matroska or WebM.
    Matroska,
    /// Raw AAC in ADTS frames.
    Adts,
}

impl InputFormat {
    /// A short name for logs and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Self::OggOpus => "ogg/opus",
            Self::OggOther => "ogg",
            Self::Mp3 => "mp3",
            Self::Mp4 => "mp4",
            Self::Wav => "wav",
            Self::Flac => "flac",
            Self::Matroska => "matroska",
            Self::Adts => "adts",
        }
    }
}

/// Tells the format from the leading bytes.
///
/// # Errors
/// [`AudioError::Empty`] for no bytes, [`AudioError::UnsupportedFormat`] when nothing matches.
pub fn detect_format(data: &[u8]) -> Result<InputFormat, AudioError> {
    if data.is_empty() {
        return Err(AudioError::Empty);
    }
    if data.starts_with(b"OggS") {
        return Ok(ogg_codec(data));
    }
    if data.starts_with(b"fLaC") {
        return Ok(InputFormat::Flac);
    }
    if data.len() >= 12 && data.starts_with(b"RIFF") && (&data[8..12] == b"WAVE") {
        return Ok(InputFormat::Wav);
    }
    if data.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Ok(InputFormat::Matroska);
    }
    if data.len() >= 8 && &data[4..8] == b"ftyp" {
        return Ok(InputFormat::Mp4);
    }
    if data.starts_with(b"ID3") {
        // ID3v2 is used by MP3 and occasionally by ADTS; look past the tag.
        let rest = skip_id3(data);
        if rest.len() >= 2 && is_adts(rest) {
            return Ok(InputFormat::Adts);
        }
        return Ok(InputFormat::Mp3);
    }
    if data.len() >= 2 && is_adts(data) {
        return Ok(InputFormat::Adts);
    }
    if data.len() >= 4 && is_mpeg_audio_header(data) {
        return Ok(InputFormat::Mp3);
    }
    Err(AudioError::UnsupportedFormat("unrecognised leading bytes".into()))
}

fn ogg_codec(data: &[u8]) -> InputFormat {
    // The first page carries the identification header; its packet starts after the segment table.
    let Some(&segments) = data.get(26) else { return InputFormat::OggOther };
    let start = 27 + usize::from(segments);
    match data.get(start..start + 8) {
        Some(b"OpusHead") => InputFormat::OggOpus,
        _ => InputFormat::OggOther,
    }
}

fn skip_id3(data: &[u8]) -> &[u8] {
    let Some(size) = data.get(6..10) else { return &[] };
    let len = size.iter().fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f));
    data.get(10 + len..).unwrap_or(&[])
}

fn is_adts(data: &[u8]) -> bool {
    data[0] == 0xFF && (data[1] & 0xF6) == 0xF0
}

fn is_mpeg_audio_header(data: &[u8]) -> bool {
    let (b1, b2) = (data[1], data[2]);
    data[0] == 0xFF
        && (b1 & 0xE0) == 0xE0
        && (b1 & 0x18) != 0x08 // reserved version
        && (b1 & 0x06) != 0x00 // reserved layer
        && (b2 & 0xF0) != 0xF0 // bad bitrate index
        && (b2 & 0x0C) != 0x0C // reserved sample rate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_containers_apart_by_magic() {
        assert!(matches!(detect_format(b""), Err(AudioError::Empty)));
        assert_eq!(detect_format(b"fLaC\0\0\0\x22").ok(), Some(InputFormat::Flac));
        assert_eq!(detect_format(b"RIFF\0\0\0\0WAVEfmt ").ok(), Some(InputFormat::Wav));
        assert_eq!(detect_format(b"\0\0\0\x20ftypM4A ").ok(), Some(InputFormat::Mp4));
        assert_eq!(detect_format(&[0x1A, 0x45, 0xDF, 0xA3, 1]).ok(), Some(InputFormat::Matroska));
        assert_eq!(detect_format(&[0xFF, 0xFB, 0x90, 0x64]).ok(), Some(InputFormat::Mp3));
        assert_eq!(detect_format(&[0xFF, 0xF1, 0x50, 0x80]).ok(), Some(InputFormat::Adts));
        assert!(matches!(detect_format(b"hello world"), Err(AudioError::UnsupportedFormat(_))));
    }

    #[test]
    fn ogg_opus_is_told_from_other_ogg() {
        let mut page = b"OggS".to_vec();
        page.extend_from_slice(&[0; 22]);
        page.push(1);
        page.push(19);
        let mut opus = page.clone();
        opus.extend_from_slice(b"OpusHead");
        let mut vorbis = page;
        vorbis.extend_from_slice(b"\x01vorbis\0");
        assert_eq!(detect_format(&opus).ok(), Some(InputFormat::OggOpus));
        assert_eq!(detect_format(&vorbis).ok(), Some(InputFormat::OggOther));
    }
}
