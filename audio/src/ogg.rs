//! A small Ogg page reader and writer. Reading walks pages in place, so a one-hour voice note is
//! read without copying; writing builds the per-chunk Ogg streams of remuxed Opus packets.
//!
//! The reader is forgiving the way players are: a page that fails its checksum is skipped and the
//! walk resynchronises at the next capture pattern, and a file cut short mid-page ends the walk.
//! Too many bad pages make the file `Corrupt`, which also bounds the work a hostile file causes.

use crate::AudioError;

const HEADER_LEN: usize = 27;
const FLAG_CONTINUED: u8 = 0x01;
const FLAG_FIRST: u8 = 0x02;
const FLAG_LAST: u8 = 0x04;
const CAPTURE: &[u8; 4] = b"OggS";

/// Bad pages tolerated before a file counts as corrupt, beyond one per twenty good ones.
const BAD_PAGES_TOLERATED: usize = 16;

/// One Ogg page, borrowed from the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page<'a> {
    flags: u8,
    /// Granule position as written (`u64::MAX` means no packet ends on this page).
    pub granule: u64,
    pub serial: u32,
    pub sequence: u32,
    /// Segment table: packet boundaries are the segments shorter than 255.
    pub lacing: &'a [u8],
    /// Where the body starts in the input.
    pub body_start: usize,
}

impl Page<'_> {
    /// The page opens a logical stream.
    pub(crate) fn is_first(&self) -> bool {
        self.flags & FLAG_FIRST != 0
    }

    /// The page closes a logical stream.
    pub(crate) fn is_last(&self) -> bool {
        self.flags & FLAG_LAST != 0
    }

    /// The page's first segment continues a packet begun on the previous page.
    pub(crate) fn is_continued(&self) -> bool {
        self.flags & FLAG_CONTINUED != 0
    }
}

/// Walks the pages of an Ogg file in order, skipping damaged ones.
pub(crate) struct PageReader<'a> {
    data: &'a [u8],
    pos: usize,
    table: [u32; 256],
    good: usize,
    bad: usize,
    failed: bool,
}

impl<'a> PageReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        let mut table = [0u32; 256];
        fill_crc_table(&mut table);
        Self { data, pos: 0, table, good: 0, bad: 0, failed: false }
    }

    fn skip_bad_page(&mut self) -> Result<(), AudioError> {
        self.bad += 1;
        if self.bad > BAD_PAGES_TOLERATED + self.good / 20 {
            self.failed = true;
            return Err(AudioError::corrupt(format!(
                "{} damaged ogg pages against {} whole ones",
                self.bad, self.good
            )));
        }
        // Resynchronise past this capture pattern.
        self.pos += 1;
        Ok(())
    }
}

impl<'a> Iterator for PageReader<'a> {
    type Item = Result<Page<'a>, AudioError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            let rest = self.data.get(self.pos..)?;
            let skip = rest.windows(CAPTURE.len()).position(|w| w == CAPTURE)?;
            self.pos += skip;
            match parse_page(self.data, self.pos, &self.table) {
                Ok((page, end)) => {
                    self.pos = end;
                    self.good += 1;
                    return Some(Ok(page));
                }
                // Cut short with no page after it: the upload ended here.
                Err(PageError::RunsPastEnd)
                    if !self.data[self.pos + 1..].windows(4).any(|w| w == CAPTURE) =>
                {
                    self.pos = self.data.len();
                    return None;
                }
                Err(_) => {
                    if let Err(err) = self.skip_bad_page() {
                        return Some(Err(err));
                    }
                }
            }
        }
    }
}

enum PageError {
    RunsPastEnd,
    Damaged,
}

fn parse_page<'a>(data: &'a [u8], pos: usize, table: &[u32; 256]) -> Result<(Page<'a>, usize), PageError> {
    let header = data.get(pos..pos + HEADER_LEN).ok_or(PageError::RunsPastEnd)?;
    if &header[..4] != CAPTURE || header[4] != 0 {
        return Err(PageError::Damaged);
    }
    let flags = header[5];
    let granule = u64::from_le_bytes(array(&header[6..14]));
    let serial = u32::from_le_bytes(array(&header[14..18]));
    let sequence = u32::from_le_bytes(array(&header[18..22]));
    let stored_crc = u32::from_le_bytes(array(&header[22..26]));
    let segments = usize::from(header[26]);
    let lacing = data.get(pos + HEADER_LEN..pos + HEADER_LEN + segments).ok_or(PageError::RunsPastEnd)?;
    let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
    let body_start = pos + HEADER_LEN + segments;
    let end = body_start + body_len;
    if end > data.len() {
        return Err(PageError::RunsPastEnd);
    }
    let mut crc = crc_update(0, &header[..22], table);
    crc = crc_update(crc, &[0; 4], table);
    crc = crc_update(crc, &data[pos + 26..end], table);
    if crc != stored_crc {
        return Err(PageError::Damaged);
    }
    Ok((Page { flags, granule, serial, sequence, lacing, body_start }, end))
}

/// A packet put back together from its pages: where it lies in the input, or its bytes when it
/// spans pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PacketBytes {
    Input(std::ops::Range<usize>),
    Joined(Vec<u8>),
}

/// Puts the packets of one logical stream back together from its pages. A lost page (a gap in
/// the page sequence) drops the packet it cut, never splices two halves of different packets.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    pending: Option<Vec<u8>>,
    next_sequence: Option<u32>,
}

impl Assembler {
    /// Feeds one page and calls `emit` for each packet completed on it, in order; the last one
    /// completed gets the page's granule position.
    ///
    /// # Errors
    /// `Corrupt` for a packet longer than `max_packet`, or whatever `emit` returns.
    pub(crate) fn push(
        &mut self,
        data: &[u8],
        page: &Page<'_>,
        max_packet: usize,
        mut emit: impl FnMut(PacketBytes, Option<u64>) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        let in_sequence = self.next_sequence.is_none_or(|n| n == page.sequence);
        self.next_sequence = Some(page.sequence.wrapping_add(1));
        let mut pending = self.pending.take().filter(|_| in_sequence && page.is_continued());
        // The first segments finish a packet whose start we no longer have: skip them.
        let mut skipping = page.is_continued() && pending.is_none();
        let oversized = || AudioError::corrupt("ogg packet longer than any audio packet");
        let mut completed: Vec<PacketBytes> = Vec::new();
        let mut offset = page.body_start;
        let mut run = 0usize;
        for &lace in page.lacing {
            run += usize::from(lace);
            if lace == 255 {
                continue;
            }
            let bytes = offset..offset + run;
            offset += run;
            run = 0;
            if std::mem::take(&mut skipping) {
                continue;
            }
            let packet = match pending.take() {
                Some(mut head) => {
                    head.extend_from_slice(&data[bytes]);
                    PacketBytes::Joined(head)
                }
                None => PacketBytes::Input(bytes),
            };
            let len = match &packet {
                PacketBytes::Input(r) => r.len(),
                PacketBytes::Joined(v) => v.len(),
            };
            if len > max_packet {
                return Err(oversized());
            }
            completed.push(packet);
        }
        if run > 0 && !skipping {
            let mut head = pending.take().unwrap_or_default();
            head.extend_from_slice(&data[offset..offset + run]);
            if head.len() > max_packet {
                return Err(oversized());
            }
            self.pending = Some(head);
        }
        let count = completed.len();
        for (i, packet) in completed.into_iter().enumerate() {
            let granule = (i + 1 == count && page.granule != u64::MAX).then_some(page.granule);
            emit(packet, granule)?;
        }
        Ok(())
    }
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

    /// A packet read back: its stream's serial, its bytes and its granule.
    type Read = (u32, Vec<u8>, Option<u64>);

    /// Every packet of the file's streams.
    fn packets(bytes: &[u8]) -> Result<Vec<Read>, AudioError> {
        let mut streams: std::collections::HashMap<u32, Assembler> = Default::default();
        let mut out = Vec::new();
        for page in PageReader::new(bytes) {
            let page = page?;
            let serial = page.serial;
            streams.entry(serial).or_default().push(bytes, &page, 70_000, |p, g| {
                let data = match p {
                    PacketBytes::Input(r) => bytes[r].to_vec(),
                    PacketBytes::Joined(v) => v,
                };
                out.push((serial, data, g));
                Ok(())
            })?;
        }
        Ok(out)
    }

    fn stream(serial: u32, count: u64) -> Vec<u8> {
        let mut w = OggWriter::new(serial, 0);
        w.write_header_packet(b"OpusHead-ish");
        let big = vec![3u8; 700];
        for i in 0..count {
            let packet: &[u8] = if i == 60 { &big } else { &[1, 2, 3] };
            w.write_packet(packet, (i + 1) * 960);
        }
        w.finish()
    }

    #[test]
    fn written_stream_reads_back_with_granules() {
        let bytes = stream(7, 120);
        let packets = packets(&bytes).expect("reads back");
        assert_eq!(packets.len(), 121);
        assert_eq!(packets[0].1, b"OpusHead-ish");
        assert_eq!(packets[61].1.len(), 700);
        assert_eq!(packets.last().and_then(|p| p.2), Some(120 * 960));
        assert_eq!(packets[50].2, Some(50 * 960));
    }

    #[test]
    fn damaged_pages_are_skipped_and_a_cut_ends_the_walk() {
        let bytes = stream(1, 200);
        let whole = packets(&bytes).unwrap().len();
        // A flipped byte in the last page's body loses that page only.
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        let read = packets(&flipped).unwrap();
        assert!(read.len() < whole && read.len() > whole / 2, "{} of {whole}", read.len());
        // Cut mid-page: the pages before the cut are read.
        let cut = packets(&bytes[..bytes.len() - 5]).unwrap();
        assert_eq!(cut.len(), read.len());
        // Garbage throughout is corrupt, not an endless resync.
        let mut junk = Vec::new();
        for i in 0..200u32 {
            junk.extend_from_slice(b"OggS\0");
            junk.extend_from_slice(&i.to_le_bytes());
            junk.extend_from_slice(&[0xAB; 40]);
        }
        assert!(matches!(packets(&junk), Err(AudioError::Corrupt(_))));
    }

    /// One raw page: `lacing` and `body` as given, checksum computed.
    fn raw_page(sequence: u32, flags: u8, lacing: &[u8], body: &[u8]) -> Vec<u8> {
        let mut table = [0u32; 256];
        fill_crc_table(&mut table);
        let mut out = b"OggS\0".to_vec();
        out.push(flags);
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&9u32.to_le_bytes());
        out.extend_from_slice(&sequence.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.push(lacing.len() as u8);
        out.extend_from_slice(lacing);
        out.extend_from_slice(body);
        let crc = crc_update(0, &out, &table);
        out[22..26].copy_from_slice(&crc.to_le_bytes());
        out
    }

    #[test]
    fn packets_span_pages_and_a_lost_page_drops_only_the_packet_it_cut() {
        // Page 0: packet A (300 bytes), the first 255 bytes of B. Page 1: the rest of B (100
        // bytes), packet C (50). Page 2: packet D (10).
        let body0 = [vec![b'a'; 300], vec![b'b'; 255]].concat();
        let body1 = [vec![b'b'; 100], vec![b'c'; 50]].concat();
        let p0 = raw_page(0, FLAG_FIRST, &[255, 45, 255], &body0);
        let p1 = raw_page(1, FLAG_CONTINUED, &[100, 50], &body1);
        let p2 = raw_page(2, FLAG_LAST, &[10], &[b'd'; 10]);
        let sizes = |pages: &[&Vec<u8>]| -> Vec<(u8, usize)> {
            let bytes: Vec<u8> = pages.iter().flat_map(|p| p.iter().copied()).collect();
            packets(&bytes).unwrap().into_iter().map(|(_, data, _)| (data[0], data.len())).collect()
        };
        assert_eq!(sizes(&[&p0, &p1, &p2]), [(b'a', 300), (b'b', 355), (b'c', 50), (b'd', 10)]);
        // Without page 0, B's tail is not a packet.
        assert_eq!(sizes(&[&p1, &p2]), [(b'c', 50), (b'd', 10)]);
        // Without page 1, B's head is not spliced onto D.
        assert_eq!(sizes(&[&p0, &p2]), [(b'a', 300), (b'd', 10)]);
    }
}
