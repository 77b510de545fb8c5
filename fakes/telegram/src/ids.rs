//! Identifiers and file facts that look like Telegram's: opaque base64url file ids,
//! content-derived unique ids, file paths by kind, image dimensions.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest as _, Sha256};

/// A fresh `file_id`: Telegram's are ~70 base64url characters that encode the
/// file type, a data-center id and an access hash; clients must treat them as opaque.
pub(crate) fn new_file_id(kind_tag: u8) -> String {
    let mut raw = [0u8; 52];
    rand::rng().fill(&mut raw[..]);
    raw[0] = kind_tag;
    raw[1] = 0;
    raw[2] = 0;
    raw[3] = 0;
    URL_SAFE_NO_PAD.encode(raw)
}

/// `file_unique_id` is the same for the same content, whoever uploads it.
pub(crate) fn unique_file_id(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("AQAD{}", URL_SAFE_NO_PAD.encode(&digest[..9]))
}

/// A random positive id rendered as a decimal string, as Telegram renders query ids.
pub(crate) fn new_query_id() -> String {
    let n: u64 = rand::rng().random_range(1_000_000_000_000_000..9_000_000_000_000_000_000);
    n.to_string()
}

/// A random string of base64url characters.
pub(crate) fn random_slug(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill(&mut raw[..]);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Folder and extension Telegram uses in `file_path` for a file of this MIME type.
pub(crate) fn path_parts(mime: Option<&str>, file_name: Option<&str>) -> (&'static str, String) {
    let ext_from_name = file_name
        .and_then(|n| n.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()))
        .filter(|e| !e.is_empty());
    let mime = mime.unwrap_or("");
    let (folder, default_ext) = match mime {
        "audio/ogg" | "audio/opus" => ("voice", "oga"),
        m if m.starts_with("audio/") => ("music", "mp3"),
        m if m.starts_with("video/") => ("videos", "mp4"),
        "image/jpeg" => ("photos", "jpg"),
        "image/png" => ("photos", "png"),
        m if m.starts_with("image/") => ("photos", "jpg"),
        _ => ("documents", "bin"),
    };
    (folder, ext_from_name.unwrap_or_else(|| default_ext.to_owned()))
}

/// MIME type Telegram would report for an upload, guessed from its name like the server does.
pub(crate) fn mime_from_name(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "txt" => "text/plain",
        "srt" => "application/x-subrip",
        "vtt" => "text/vtt",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "wav" => "audio/x-wav",
        "flac" => "audio/flac",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        _ => return None,
    })
}

/// Width and height of a PNG or JPEG image; `None` when the bytes are no image Telegram
/// could process.
pub(crate) fn image_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() >= 24 {
        let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        return Some((w, h));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(jpeg_dimensions(bytes).unwrap_or((800, 600)));
    }
    let other_image = bytes.starts_with(b"GIF8")
        || bytes.starts_with(b"BM")
        || (bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP");
    other_image.then_some((800, 600))
}

fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 9 < bytes.len() {
        if bytes[i] != 0xFF {
            i += 1;
            continue;
        }
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let h = u32::from(u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]));
            let w = u32::from(u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]));
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_follow_content() {
        assert_eq!(unique_file_id(b"a"), unique_file_id(b"a"));
        assert_ne!(unique_file_id(b"a"), unique_file_id(b"b"));
        assert_ne!(new_file_id(1), new_file_id(1));
        assert!(new_file_id(1).len() > 60);
    }

    #[test]
    fn png_dimensions_are_read() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(image_dimensions(&png), Some((640, 480)));
        assert_eq!(image_dimensions(b"plain text"), None);
    }
}
