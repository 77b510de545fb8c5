//! Recordings made at test time.

use std::{path::Path, process::Command};

/// `seconds` of 16 kHz mono 16-bit WAV: a `hz` tone, with every fifth second
/// silent, so the pauses are known (4-5 s, 9-10 s, ...).
pub fn tone_wav(seconds: u32, hz: f64) -> Vec<u8> {
    const RATE: u32 = 16_000;
    let mut data = Vec::with_capacity((seconds * RATE * 2) as usize);
    for second in 0..seconds {
        for i in 0..RATE {
            let t = f64::from(second * RATE + i) / f64::from(RATE);
            let value = if second % 5 == 4 { 0.0 } else { (t * hz * std::f64::consts::TAU).sin() * 9000.0 };
            data.extend_from_slice(&(value as i16).to_le_bytes());
        }
    }
    let data_len = u32::try_from(data.len()).expect("a WAV under 4 GiB");
    let mut out = Vec::with_capacity(data.len() + 44);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// A Telegram-style Ogg/Opus voice note of `seconds` (24 kbps mono): spoken
/// sentences (espeak-ng) between pauses of 0.3 to 3.5 s over faint noise,
/// made by `audio/bench/make-voice-note.sh` (espeak-ng, ffmpeg and opusenc,
/// which `scripts/test` installs).
///
/// # Panics
/// When the tools are missing or fail.
pub fn voice_note(seconds: u32) -> Vec<u8> {
    voice_note_lasting(std::time::Duration::from_secs(u64::from(seconds)))
}

/// A voice note like [`voice_note`] lasting exactly `length` (to the millisecond), for
/// recordings whose length Telegram rounds to whole seconds.
///
/// # Panics
/// When the tools are missing or fail.
pub fn voice_note_lasting(length: std::time::Duration) -> Vec<u8> {
    let seconds = format!("{}.{:03}", length.as_secs(), length.subsec_millis());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../audio/bench/make-voice-note.sh");
    let out = std::env::temp_dir().join(format!("voice-{}.opus", uuid::Uuid::new_v4().simple()));
    let status = Command::new("sh")
        .arg(&script)
        .arg(&out)
        .arg(&seconds)
        .arg("24")
        // The fastest encoder setting: the content matters here, not its quality.
        .env("OPUS_COMPLEXITY", "0")
        .status()
        .expect("running make-voice-note.sh");
    assert!(status.success(), "make-voice-note.sh failed: {status}");
    let bytes = std::fs::read(&out).expect("the generated voice note");
    let _ = std::fs::remove_file(&out);
    bytes
}

/// Writes a WAV of `seconds` at `rate` Hz and `channels` channels (16-bit) to `path` as it is
/// generated, never holding more than a second of it: a tone for 4 s, silence for 1 s, over and
/// over, like [`tone_wav`]. For recordings too big to hold in memory (1.5 GB is 2 h 10 min at
/// 48 kHz stereo). Returns the file's size.
///
/// # Errors
/// When the file cannot be written, or would pass the 4 GiB a WAV header can state.
pub fn write_long_wav(
    path: &std::path::Path,
    seconds: u32,
    rate: u32,
    channels: u16,
) -> std::io::Result<u64> {
    use std::io::Write;
    let frame = u32::from(channels) * 2;
    let data_len = u64::from(seconds) * u64::from(rate) * u64::from(frame);
    let data_len32 = u32::try_from(data_len + 36).map_err(|_| std::io::Error::other("a WAV over 4 GiB"))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    out.write_all(b"RIFF")?;
    out.write_all(&data_len32.to_le_bytes())?;
    out.write_all(b"WAVEfmt ")?;
    out.write_all(&16u32.to_le_bytes())?;
    out.write_all(&1u16.to_le_bytes())?;
    out.write_all(&channels.to_le_bytes())?;
    out.write_all(&rate.to_le_bytes())?;
    out.write_all(&(rate * frame).to_le_bytes())?;
    out.write_all(&(frame as u16).to_le_bytes())?;
    out.write_all(&16u16.to_le_bytes())?;
    out.write_all(b"data")?;
    out.write_all(&((data_len32 - 36).to_le_bytes()))?;
    let mut tone = Vec::with_capacity((rate * frame) as usize);
    for i in 0..rate {
        let t = f64::from(i) / f64::from(rate);
        let value = ((t * 220.0 * std::f64::consts::TAU).sin() * 9000.0) as i16;
        for _ in 0..channels {
            tone.extend_from_slice(&value.to_le_bytes());
        }
    }
    let silence = vec![0u8; tone.len()];
    for second in 0..seconds {
        out.write_all(if second % 5 == 4 { &silence } else { &tone })?;
    }
    out.flush()?;
    Ok(data_len + 44)
}
