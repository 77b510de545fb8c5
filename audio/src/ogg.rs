//! A small Ogg page reader and writer. Reading borrows packets from the input where they sit in
//! one page, so a one-hour voice note is walked without copying; writing builds the per-chunk
//! Ogg streams of remuxed Opus packets.

use std::borrow::Cow;

use crate::AudioError;

const HEADER_LEN: usize = 27;
const FLAG_CONTINUED: u8 = 0x01;
const FLAG_FIRST: u8 = 0x02;
const FLAG_LAST: u8 = 0x04;

/// One logical packet of the first logical stream in the file.
#[derive(Debug, Clone)]
pub(crate) struct OggPacket<'a> {
    pub data: Cow<'a, [u8]>,
    /// The page's granule position when this is the last packet completed on its page.
    pub granule: Option<u64>,
}

/// Reads all packets of the first logical stream (the one whose page comes first).
///
/// Pages of other streams (a multiplexed video, say) are skipped. A page that runs past the end
/// of the input or fails its checksum makes the file `Corrupt`.
pub(crate) fn read_packets(data: &[u8]) -> Result<Vec<OggPacket<'_>>, AudioError> {
    let mut packets = Vec::new();
    let mut pos = 0;
    let mut serial = None;
    // Bytes of a packet that continues on the next page.
    let mut pending: Option<Vec<u8>> = None;
    let mut table = [0u32; 256];
    fill_crc_table(&mut table);
    while pos < data.len() {
        let page = parse_page(data, pos, &table)?;
        pos = page.end;
        if *serial.get_or_insert(page.serial) != page.serial {
            continue;
        }
        let mut offset = page.body_start;
        let mut run = 0usize;
        let mut completed_here = Vec::new();
        let mut first = true;
        for &lace in page.lacing {
            run += usize::from(lace);
            if lace < 255 {
                let bytes = &data[offset..offset + run];
                let packet = match pending.take() {
                    Some(mut head) if first && page.flags & FLAG_CONTINUED != 0 => {
                        head.extend_from_slice(bytes);
                        Cow::Owned(head)
                    }
                    _ => Cow::Borrowed(bytes),
                };
                completed_here.push(packet);
                offset += run;
                run = 0;
                first = false;
            }
        }
        if run > 0 {
            let bytes = &data[offset..offset + run];
            match pending.as_mut() {
                Some(head) if first && page.flags & FLAG_CONTINUED != 0 => head.extend_from_slice(bytes),
                _ => pending = Some(bytes.to_vec()),
            }
        } else if !completed_here.is_empty() {
            // A packet left over from a page this one does not continue is abandoned.
            pending = None;
        }
        let count = completed_here.len();
        for (i, packet) in completed_here.into_iter().enumerate() {
            let granule = (i + 1 == count && page.granule != u64::MAX).then_some(page.granule);
            packets.push(OggPacket { data: packet, granule });
        }
        if page.flags & FLAG_LAST != 0 {
            break;
        }
    }
    Ok(packets)
}

struct Page<'a> {
    flags: u8,
    granule: u64,
    serial: u32,
    lacing: &'a [u8],
    body_start: usize,
    end: usize,
}

fn parse_page<'a>(data: &'a [u8], pos: usize, table: &[u32; 256]) -> Result<Page<'a>, AudioError> {
    let truncated = || AudioError::corrupt("ogg page runs past the end of the file (truncated?)");
    let header = data.get(pos..pos + HEADER_LEN).ok_or_else(truncated)?;
    if &header[..4] != b"OggS" || header[4] != 0 {
        return Err(AudioError::corrupt(format!("no ogg page at byte {pos}")));
    }
    let flags = header[5];
    let granule = u64::from_le_bytes(array(&header[6..14]));
    let serial = u32::from_le_bytes(array(&header[14..18]));
    let stored_crc = u32::from_le_bytes(array(&header[22..26]));
    let segments = usize::from(header[26]);
    let lacing = data.get(pos + HEADER_LEN..pos + HEADER_LEN + segments).ok_or_else(truncated)?;
    let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
    let body_start = pos + HEADER_LEN + segments;
    let end = body_start + body_len;
    if end > data.len() {
        return Err(truncated());
    }
    let mut crc = crc_update(0, &header[..22], table);
    crc = crc_update(crc, &[0; 4], table);
    crc = crc_update(crc, &data[pos + 26..end], table);
    if crc != stored_crc {
        return Err(AudioError::corrupt(format!("ogg page checksum mismatch at byte {pos}")));
    }
    Ok(Page { flags, granule, serial, lacing, body_start, end })
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

fn fill_crc_table(table: &mut [u32; 256]) {
    for (i, slot) in table.iter_mut().enumerate() {
        let mut r = (i as u32) << 24;
        for _ in 0..8 {
            r = if r & 0x8000_0000 != 0 { (r << 1) ^ 0x04C1_1DB7 } else { r << 1 };
        }
        *slot = r;
    }
}

fn crc_update(mut crc: u32, bytes: &[u8], table: &[u32; 256]) -> u32 {
    for &b in bytes {
        crc = (crc << 8) ^ table[(((crc >> 24) as u8) ^ b) as usize];
    }
    crc
}

/// Writes one logical Ogg stream into memory.
pub(crate) struct OggWriter {
    out: Vec<u8>,
    serial: u32,
    sequence: u32,
    table: [u32; 256],
    // Packets waiting for the current page, with the page's granule so far.
    lacing: Vec<u8>,
    body: Vec<u8>,
    granule: u64,
    packets_in_page: usize,
    wrote_first: bool,
}

/// Packets per page: about one second of 20 ms Opus packets keeps granule positions fine-grained.
const PACKETS_PER_PAGE: usize = 50;

impl OggWriter {
    pub(crate) fn new(serial: u32, capacity: usize) -> Self {
        let mut table = [0u32; 256];
        fill_crc_table(&mut table);
        Self {
            out: Vec::with_capacity(capacity),
            serial,
            sequence: 0,
            table,
            lacing: Vec::new(),
            body: Vec::new(),
            granule: 0,
            packets_in_page: 0,
            wrote_first: false,
        }
    }

    /// Writes a header packet on a page of its own, as the Ogg Opus mapping requires.
    pub(crate) fn write_header_packet(&mut self, packet: &[u8]) {
        self.flush(false);
        self.push(packet, 0);
        self.flush(false);
    }

    /// Queues an audio packet; `granule` is the stream position after it.
    pub(crate) fn write_packet(&mut self, packet: &[u8], granule: u64) {
        let segments = packet.len() / 255 + 1;
        if self.lacing.len() + segments > 255 || self.packets_in_page >= PACKETS_PER_PAGE {
            self.flush(false);
        }
        self.push(packet, granule);
    }

    /// Ends the stream and returns its bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.flush(true);
        self.out
    }

    fn push(&mut self, packet: &[u8], granule: u64) {
        // Packets are never split across pages here: an Opus packet needs at most 240 segments.
        let mut rest = packet.len();
        while rest >= 255 {
            self.lacing.push(255);
            rest -= 255;
        }
        self.lacing.push(rest as u8);
        self.body.extend_from_slice(packet);
        self.granule = granule;
        self.packets_in_page += 1;
    }

    fn flush(&mut self, last: bool) {
        if self.lacing.is_empty() && !last {
            return;
        }
        let mut flags = 0;
        if !self.wrote_first {
            flags |= FLAG_FIRST;
            self.wrote_first = true;
        }
        if last {
            flags |= FLAG_LAST;
        }
        let start = self.out.len();
        self.out.extend_from_slice(b"OggS");
        self.out.push(0);
        self.out.push(flags);
        self.out.extend_from_slice(&self.granule.to_le_bytes());
        self.out.extend_from_slice(&self.serial.to_le_bytes());
        self.out.extend_from_slice(&self.sequence.to_le_bytes());
        self.out.extend_from_slice(&[0; 4]);
        self.out.push(self.lacing.len() as u8);
        self.out.extend_from_slice(&self.lacing);
        self.out.extend_from_slice(&self.body);
        let crc = crc_update(0, &self.out[start..], &self.table);
        self.out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
        self.sequence += 1;
        self.lacing.clear();
        self.body.clear();
        self.packets_in_page = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_stream_reads_back_with_granules() {
        let mut w = OggWriter::new(7, 0);
        w.write_header_packet(b"OpusHead-ish");
        let big = vec![3u8; 700];
        for i in 0..120u64 {
            let packet: &[u8] = if i == 60 { &big } else { &[1, 2, 3] };
            w.write_packet(packet, (i + 1) * 960);
        }
        let bytes = w.finish();
        let packets = read_packets(&bytes).expect("reads back");
        assert_eq!(packets.len(), 121);
        assert_eq!(&*packets[0].data, b"OpusHead-ish");
        assert_eq!(packets[61].data.len(), 700);
        assert_eq!(packets.last().and_then(|p| p.granule), Some(120 * 960));
        assert_eq!(packets[50].granule, Some(50 * 960));
    }

    #[test]
    fn flipped_byte_fails_the_checksum() {
        let mut w = OggWriter::new(1, 0);
        w.write_packet(&[9; 40], 960);
        let mut bytes = w.finish();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        assert!(matches!(read_packets(&bytes), Err(AudioError::Corrupt(_))));
        assert!(matches!(read_packets(&bytes[..bytes.len() - 5]), Err(AudioError::Corrupt(_))));
    }
}
