//! pcap and pcapng files built byte by byte, read back: frames, numbering, timestamps, link types,
//! secrets, gzip, and every kind of damage (truncation at every byte, absurd lengths, garbage).

use flate2::write::GzEncoder;
use phonehome_ingest::{
    read_capture, read_capture_from, sniff_file, CaptureEvent, CaptureStats, Error, ErrorKind,
    Format, MAX_BLOCK_LEN, SECRETS_TLS_KEY_LOG,
};
use phonehome_model::WarningCode;
use std::io::Write;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Writers

fn put16(out: &mut Vec<u8>, big: bool, v: u16) {
    out.extend(if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}

fn put32(out: &mut Vec<u8>, big: bool, v: u32) {
    out.extend(if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}

fn put64(out: &mut Vec<u8>, big: bool, v: u64) {
    out.extend(if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}

/// A classic pcap file.
struct PcapWriter {
    big: bool,
    bytes: Vec<u8>,
    /// Offset of each record.
    records: Vec<usize>,
}

impl PcapWriter {
    fn new(big: bool, nanos: bool, network: u32) -> Self {
        let mut bytes = Vec::new();
        put32(
            &mut bytes,
            big,
            if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 },
        );
        put16(&mut bytes, big, 2);
        put16(&mut bytes, big, 4);
        put32(&mut bytes, big, 0);
        put32(&mut bytes, big, 0);
        put32(&mut bytes, big, 65535);
        put32(&mut bytes, big, network);
        Self {
            big,
            bytes,
            records: Vec::new(),
        }
    }

    fn record_header(&mut self, sec: u32, frac: u32, incl_len: u32, orig_len: u32) {
        self.records.push(self.bytes.len());
        for v in [sec, frac, incl_len, orig_len] {
            put32(&mut self.bytes, self.big, v);
        }
    }

    fn record(&mut self, sec: u32, frac: u32, data: &[u8], orig_len: u32) {
        self.record_header(sec, frac, data.len() as u32, orig_len);
        self.bytes.extend(data);
    }
}

/// A pcapng file.
struct PcapngWriter {
    big: bool,
    bytes: Vec<u8>,
    /// Offset of each block.
    blocks: Vec<usize>,
}

const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

impl PcapngWriter {
    fn new() -> Self {
        Self {
            big: false,
            bytes: Vec::new(),
            blocks: Vec::new(),
        }
    }

    fn block(&mut self, kind: u32, body: &[u8]) {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        self.blocks.push(self.bytes.len());
        put32(&mut self.bytes, self.big, kind);
        put32(&mut self.bytes, self.big, len);
        self.bytes.extend(body);
        self.bytes.resize(self.bytes.len() + padded - body.len(), 0);
        put32(&mut self.bytes, self.big, len);
    }

    fn section(&mut self, big: bool) {
        self.big = big;
        let mut body = Vec::new();
        put32(&mut body, big, 0x1a2b_3c4d);
        put16(&mut body, big, 1);
        put16(&mut body, big, 0);
        put64(&mut body, big, u64::MAX);
        self.block(0x0a0d_0d0a, &body);
    }

    fn options(&self, opts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (code, value) in opts {
            put16(&mut out, self.big, *code);
            put16(&mut out, self.big, value.len() as u16);
            out.extend(value);
            out.resize(out.len().div_ceil(4) * 4, 0);
        }
        if !opts.is_empty() {
            out.extend([0, 0, 0, 0]);
        }
        out
    }

    fn interface(&mut self, linktype: u16, snaplen: u32, opts: &[(u16, Vec<u8>)]) {
        let mut body = Vec::new();
        put16(&mut body, self.big, linktype);
        put16(&mut body, self.big, 0);
        put32(&mut body, self.big, snaplen);
        body.extend(self.options(opts));
        self.block(1, &body);
    }

    fn enhanced(&mut self, iface: u32, ticks: u64, data: &[u8], orig_len: u32) {
        let mut body = Vec::new();
        put32(&mut body, self.big, iface);
        put32(&mut body, self.big, (ticks >> 32) as u32);
        put32(&mut body, self.big, ticks as u32);
        put32(&mut body, self.big, data.len() as u32);
        put32(&mut body, self.big, orig_len);
        body.extend(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        body.extend(self.options(&[(1, b"a comment".to_vec())]));
        self.block(6, &body);
    }

    fn obsolete(&mut self, iface: u16, ticks: u64, data: &[u8], orig_len: u32) {
        let mut body = Vec::new();
        put16(&mut body, self.big, iface);
        put16(&mut body, self.big, 0);
        put32(&mut body, self.big, (ticks >> 32) as u32);
        put32(&mut body, self.big, ticks as u32);
        put32(&mut body, self.big, data.len() as u32);
        put32(&mut body, self.big, orig_len);
        body.extend(data);
        self.block(2, &body);
    }

    fn simple(&mut self, orig_len: u32, data: &[u8]) {
        let mut body = Vec::new();
        put32(&mut body, self.big, orig_len);
        body.extend(data);
        self.block(3, &body);
    }

    fn secrets(&mut self, kind: u32, data: &[u8]) {
        let mut body = Vec::new();
        put32(&mut body, self.big, kind);
        put32(&mut body, self.big, data.len() as u32);
        body.extend(data);
        self.block(0x0a, &body);
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Reading back

/// A frame as delivered, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Got {
    number: u64,
    nanos: i128,
    linktype: u32,
    data: Vec<u8>,
    orig_len: u32,
    offset: u64,
    interface: u32,
}

#[derive(Debug, Default)]
struct Events {
    frames: Vec<Got>,
    secrets: Vec<(u32, Vec<u8>)>,
    /// (code, offset, reason)
    warnings: Vec<(WarningCode, Option<u64>, String)>,
    /// Event kinds in order: 'f', 's', 'w'.
    order: String,
}

fn read(bytes: &[u8]) -> Result<(Events, CaptureStats), Error> {
    let mut ev = Events::default();
    let stats = read_capture_from(bytes, Arc::from("test.cap"), &mut |event| match event {
        CaptureEvent::Frame(f) => {
            ev.order.push('f');
            ev.frames.push(Got {
                number: f.number,
                nanos: f.time.unix_nanos(),
                linktype: f.linktype,
                data: f.data.to_vec(),
                orig_len: f.orig_len,
                offset: f.offset,
                interface: f.interface,
            });
        }
        CaptureEvent::Secrets { kind, data } => {
            ev.order.push('s');
            ev.secrets.push((kind, data.to_vec()));
        }
        CaptureEvent::Warning(w) => {
            ev.order.push('w');
            assert_eq!(&*w.file, "test.cap");
            ev.warnings.push((w.code, w.offset, w.reason));
        }
    })?;
    assert_eq!(stats.frames, ev.frames.len() as u64);
    Ok((ev, stats))
}

fn read_ok(bytes: &[u8]) -> (Events, CaptureStats) {
    read(bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn packet(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 31 + j) as u8).collect()
}

/// A pcap with five records of different lengths.
fn sample_pcap(big: bool, nanos: bool) -> PcapWriter {
    // Ethernet with the FCS-present flag and a 4-byte FCS length in the upper bits.
    let mut w = PcapWriter::new(big, nanos, 0x1400_0001);
    for i in 0..5 {
        let frac = if nanos {
            123_456_789 + i as u32
        } else {
            654_321 + i as u32
        };
        w.record(
            1_700_000_000 + i as u32,
            frac,
            &packet(i, 40 + i * 17),
            1500,
        );
    }
    w
}

// ---------------------------------------------------------------------------------------------
// pcap

#[test]
fn pcap_both_byte_orders_micro_and_nanoseconds() {
    let mut cases = 0;
    for big in [false, true] {
        for nanos in [false, true] {
            let w = sample_pcap(big, nanos);
            let (ev, stats) = read_ok(&w.bytes);
            assert_eq!(stats.format, Format::Pcap);
            assert!(!stats.gzip);
            assert_eq!(stats.bytes, w.bytes.len() as u64);
            assert!(ev.warnings.is_empty(), "{:?}", ev.warnings);
            assert_eq!(ev.frames.len(), 5);
            for (i, f) in ev.frames.iter().enumerate() {
                let frac = if nanos {
                    123_456_789 + i as i128
                } else {
                    (654_321 + i as i128) * 1000
                };
                assert_eq!(f.number, i as u64 + 1);
                assert_eq!(
                    f.nanos,
                    (1_700_000_000 + i as i128) * 1_000_000_000 + frac,
                    "big={big} nanos={nanos}"
                );
                assert_eq!(f.linktype, 1, "FCS bits above the low 16 are ignored");
                assert_eq!(f.data, packet(i, 40 + i * 17));
                assert_eq!(f.orig_len, 1500);
                assert_eq!(f.offset, w.records[i] as u64);
                assert_eq!(f.interface, 0);
            }
            cases += 1;
        }
    }
    println!("{cases} pcap variants read");
}

#[test]
fn pcap_gzip_single_and_multi_member() {
    let w = sample_pcap(false, false);
    let (plain, _) = read_ok(&w.bytes);
    let (ev, stats) = read_ok(&gzip(&w.bytes));
    assert!(stats.gzip);
    assert_eq!(
        stats.bytes,
        w.bytes.len() as u64,
        "bytes count the decompressed stream"
    );
    assert_eq!(ev.frames, plain.frames);
    // Two gzip members split in the middle of a record read as one stream.
    let mut two = gzip(&w.bytes[..100]);
    two.extend(gzip(&w.bytes[100..]));
    let (ev, _) = read_ok(&two);
    assert_eq!(ev.frames, plain.frames);
    assert!(ev.warnings.is_empty());
}

#[test]
fn pcap_truncated_at_every_byte_of_the_last_record() {
    let w = sample_pcap(false, true);
    let last = *w.records.last().unwrap();
    let mut cases = 0;
    for cut in last..w.bytes.len() {
        for compressed in [false, true] {
            let bytes = &w.bytes[..cut];
            let (ev, stats) = if compressed {
                read_ok(&gzip(bytes))
            } else {
                read_ok(bytes)
            };
            assert_eq!(
                ev.frames.len(),
                4,
                "cut at {cut}: earlier frames are delivered"
            );
            if cut == last {
                assert!(
                    ev.warnings.is_empty(),
                    "a file ending on a record boundary is complete"
                );
                continue;
            }
            assert_eq!(ev.warnings.len(), 1, "cut at {cut}: {:?}", ev.warnings);
            let (code, offset, reason) = &ev.warnings[0];
            assert_eq!(*code, WarningCode::Truncated);
            assert_eq!(*offset, Some(last as u64), "cut at {cut}: {reason}");
            assert!(reason.starts_with("pcap: record"), "{reason}");
            assert_eq!(stats.bytes, cut as u64);
            cases += 1;
        }
    }
    println!("{cases} truncations checked");
}

#[test]
fn pcap_huge_record_length_resynchronises_on_the_next_record() {
    let mut w = sample_pcap(false, false);
    // Corrupt record 3 (index 2): incl_len = 0xffffffff.
    let at = w.records[2];
    w.bytes[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let (ev, _) = read_ok(&w.bytes);
    assert_eq!(ev.warnings.len(), 1, "{:?}", ev.warnings);
    let (code, offset, reason) = &ev.warnings[0];
    assert_eq!(*code, WarningCode::Malformed);
    assert_eq!(*offset, Some(at as u64));
    assert!(
        reason.starts_with("pcap: record length 4294967295 exceeds 262144"),
        "{reason}"
    );
    assert!(reason.contains("to the next valid record"), "{reason}");
    let numbers: Vec<u64> = ev.frames.iter().map(|f| f.number).collect();
    assert_eq!(
        numbers,
        [1, 2, 3, 4],
        "frames after the damage are still delivered and numbered on"
    );
    assert_eq!(ev.frames[2].offset, w.records[3] as u64);
    assert_eq!(ev.frames[2].data, packet(3, 40 + 3 * 17));
    assert_eq!(ev.order, "ffwff");
    // The same damage on the last record: nothing valid follows.
    let mut w = sample_pcap(true, false);
    let at = *w.records.last().unwrap();
    w.bytes[at + 8..at + 12].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    let (ev, _) = read_ok(&w.bytes);
    assert_eq!(ev.frames.len(), 4);
    assert_eq!(ev.warnings.len(), 1);
    assert!(
        ev.warnings[0]
            .2
            .contains("no valid record in the remaining"),
        "{:?}",
        ev.warnings
    );
}

#[test]
fn pcap_garbage_between_records_is_skipped() {
    let mut w = sample_pcap(false, false);
    let at = w.records[3];
    w.bytes.splice(at..at, [0xff; 37]);
    let (ev, _) = read_ok(&w.bytes);
    assert_eq!(ev.frames.len(), 5, "{:?}", ev.warnings);
    assert_eq!(ev.warnings.len(), 1);
    assert_eq!(ev.warnings[0].1, Some(at as u64));
    assert!(
        ev.warnings[0].2.contains("skipped 37 bytes"),
        "{:?}",
        ev.warnings
    );
    assert_eq!(ev.frames[3].offset, (at + 37) as u64);
    assert_eq!(ev.frames[4].data, packet(4, 40 + 4 * 17));
}

#[test]
fn pcap_records_above_256_kib_follow_the_snaplen() {
    // snaplen 1 MiB: a 300 000-byte record is accepted (and needs no more than one buffer growth).
    let mut w = PcapWriter::new(false, false, 1);
    w.bytes[16..20].copy_from_slice(&(1u32 << 20).to_le_bytes());
    let big = packet(9, 300_000);
    w.record(1, 0, &big, 300_000);
    w.record(2, 0, b"tail", 4);
    let (ev, _) = read_ok(&w.bytes);
    assert!(ev.warnings.is_empty(), "{:?}", ev.warnings);
    assert_eq!(ev.frames[0].data, big);
    assert_eq!(ev.frames[1].data, b"tail");
}

#[test]
fn pcap_bad_file_headers_are_errors() {
    let w = sample_pcap(false, false);
    let err = read(&w.bytes[..10]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "test.cap: offset 0: pcap: file header truncated: 10 of 24 bytes"
    );
    assert!(matches!(err.kind(), ErrorKind::Malformed { .. }));
    // A header alone is a valid, empty capture.
    let (ev, stats) = read_ok(&w.bytes[..24]);
    assert_eq!(
        (ev.frames.len(), ev.warnings.len(), stats.bytes),
        (0, 0, 24)
    );
}

// ---------------------------------------------------------------------------------------------
// pcapng

const TICKS_1: u64 = 1_700_000_000_123_456; // µs
const TICKS_2: u64 = 1_700_000_001_987_654_321; // ns

/// Two sections of different byte orders; two interfaces with different link types and
/// resolutions; EPB, SPB, obsolete PB, DSB and blocks to skip.
fn sample_pcapng() -> PcapngWriter {
    let mut w = PcapngWriter::new();
    w.section(false);
    w.interface(1, 0, &[]); // Ethernet, default µs
    let mut offset = Vec::new();
    put64(&mut offset, false, 100);
    w.interface(101, 0, &[(IF_TSRESOL, vec![9]), (IF_TSOFFSET, offset)]); // raw IP, ns, +100 s
    w.enhanced(0, TICKS_1, &packet(1, 60), 60); // frame 1
    w.enhanced(1, TICKS_2, &packet(2, 33), 1400); // frame 2
    w.simple(61, &packet(3, 61)); // frame 3: interface 0, time of frame 2
    w.secrets(SECRETS_TLS_KEY_LOG, b"CLIENT_RANDOM 00 11\n");
    w.block(4, &[0, 0, 0, 0]); // name resolution: skipped
    w.block(5, &[0; 12]); // interface statistics: skipped
    w.block(0x0bad, &[1, 2, 3, 4, 5]); // custom: skipped
    w.block(0x1234_5678, &[9; 8]); // unknown: skipped
    w.obsolete(1, TICKS_2 + 5, &packet(4, 20), 20); // frame 4
    w.section(true);
    // 2^-3 s units: ticks of 125 ms. Snaplen 8 cuts simple packets.
    w.interface(113, 8, &[(IF_TSRESOL, vec![0x83])]);
    w.enhanced(0, 80, &packet(5, 17), 17); // frame 5: 10 s
    w.enhanced(1, 80, &packet(6, 17), 17); // no interface 1 in this section: skipped
    w.simple(20, &packet(7, 20)); // frame 6: 8 bytes kept
    w.secrets(0x5747_4b4c, b"wireguard");
    w
}

#[test]
fn pcapng_sections_interfaces_and_block_types() {
    let w = sample_pcapng();
    let (ev, stats) = read_ok(&w.bytes);
    assert_eq!(stats.format, Format::Pcapng);
    assert_eq!(stats.bytes, w.bytes.len() as u64);
    let summary: Vec<(u64, u32, u32, usize)> = ev
        .frames
        .iter()
        .map(|f| (f.number, f.linktype, f.interface, f.data.len()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, 1, 0, 60),
            (2, 101, 1, 33),
            (3, 1, 0, 61),
            (4, 101, 1, 20),
            (5, 113, 0, 17),
            (6, 113, 0, 8)
        ]
    );
    let nanos: Vec<i128> = ev.frames.iter().map(|f| f.nanos).collect();
    let t1 = TICKS_1 as i128 * 1000;
    let t2 = TICKS_2 as i128 + 100_000_000_000;
    assert_eq!(nanos, [t1, t2, t2, t2 + 5, 10_000_000_000, 10_000_000_000]);
    assert_eq!(ev.frames[1].orig_len, 1400);
    assert_eq!(ev.frames[2].data, packet(3, 61));
    assert_eq!(ev.frames[5].data, packet(7, 20)[..8]);
    assert_eq!(ev.frames[5].orig_len, 20);
    assert_eq!(ev.frames[3].data, packet(4, 20));
    // Offsets point at each packet's block.
    let packet_blocks = [3, 4, 5, 11, 14, 16];
    for (f, b) in ev.frames.iter().zip(packet_blocks) {
        assert_eq!(f.offset, w.blocks[b] as u64, "frame {}", f.number);
    }
    assert_eq!(
        ev.secrets,
        [
            (SECRETS_TLS_KEY_LOG, b"CLIENT_RANDOM 00 11\n".to_vec()),
            (0x5747_4b4c, b"wireguard".to_vec())
        ]
    );
    assert_eq!(ev.warnings.len(), 1, "{:?}", ev.warnings);
    let (code, offset, reason) = &ev.warnings[0];
    assert_eq!(
        (*code, *offset),
        (WarningCode::Malformed, Some(w.blocks[15] as u64))
    );
    assert!(
        reason.contains("refers to interface 1 but the section has 1"),
        "{reason}"
    );
    assert_eq!(ev.order, "fffsffwfs", "events come in file order");
}

#[test]
fn pcapng_gzip() {
    let w = sample_pcapng();
    let (plain, _) = read_ok(&w.bytes);
    let (ev, stats) = read_ok(&gzip(&w.bytes));
    assert!(stats.gzip);
    assert_eq!(ev.frames, plain.frames);
    assert_eq!(ev.secrets, plain.secrets);
}

#[test]
fn pcapng_truncated_at_every_byte_of_the_last_block() {
    let mut w = sample_pcapng();
    w.enhanced(0, 1, &packet(8, 45), 45); // frame 7, the last block
    let last = *w.blocks.last().unwrap();
    let mut cases = 0;
    for cut in last + 1..w.bytes.len() {
        let (ev, stats) = read_ok(&w.bytes[..cut]);
        assert_eq!(ev.frames.len(), 6, "cut at {cut}");
        assert_eq!(ev.warnings.len(), 2, "cut at {cut}: {:?}", ev.warnings);
        let (code, offset, reason) = &ev.warnings[1];
        assert_eq!(*code, WarningCode::Truncated);
        assert_eq!(*offset, Some(last as u64), "cut at {cut}: {reason}");
        assert_eq!(stats.bytes, cut as u64);
        cases += 1;
    }
    println!("{cases} truncations checked");
}

#[test]
fn pcapng_bad_block_lengths_resynchronise() {
    let mut cases = 0;
    for bad in [7u32, 8, 30, 0xffff_fff0, 1 << 30, 1000] {
        let w = sample_pcapng();
        let mut bytes = w.bytes.clone();
        // The total length of frame 2's block (index 4).
        let at = w.blocks[4];
        bytes[at + 4..at + 8].copy_from_slice(&bad.to_le_bytes());
        let (ev, _) = read_ok(&bytes);
        assert_eq!(ev.warnings[0].0, WarningCode::Malformed, "length {bad}");
        assert_eq!(ev.warnings[0].1, Some(at as u64), "length {bad}");
        assert!(
            ev.warnings[0].2.contains("skipped"),
            "length {bad}: {:?}",
            ev.warnings
        );
        let summary: Vec<(u64, usize)> =
            ev.frames.iter().map(|f| (f.number, f.data.len())).collect();
        assert_eq!(
            summary,
            [(1, 60), (2, 61), (3, 20), (4, 17), (5, 8)],
            "length {bad}"
        );
        assert_eq!(ev.frames[1].offset, w.blocks[5] as u64);
        cases += 1;
    }
    // Garbage inserted between blocks, not a multiple of 4 long.
    let w = sample_pcapng();
    let mut bytes = w.bytes.clone();
    bytes.splice(w.blocks[5]..w.blocks[5], [0xee; 13]);
    let (ev, _) = read_ok(&bytes);
    assert_eq!(ev.frames.len(), 6);
    assert_eq!(
        ev.warnings.len(),
        2,
        "the garbage, then the known interface problem: {:?}",
        ev.warnings
    );
    assert!(
        ev.warnings[0].2.contains("skipped 13 bytes"),
        "{:?}",
        ev.warnings[0]
    );
    cases += 1;
    println!("{cases} damaged files read");
}

#[test]
fn pcapng_inconsistent_packet_lengths_are_skipped() {
    let mut w = PcapngWriter::new();
    w.section(false);
    w.interface(1, 0, &[(IF_TSRESOL, vec![200])]); // invalid resolution: µs assumed
    w.enhanced(0, 5, &packet(1, 8), 8);
    let at = w.bytes.len();
    w.enhanced(0, 6, &packet(2, 8), 8);
    // Captured length 4000 in a block with 8 data bytes.
    w.bytes[at + 20..at + 24].copy_from_slice(&4000u32.to_le_bytes());
    w.secrets(SECRETS_TLS_KEY_LOG, b"x");
    let dsb = *w.blocks.last().unwrap();
    w.bytes[dsb + 12..dsb + 16].copy_from_slice(&99u32.to_le_bytes());
    w.enhanced(0, 7, &packet(3, 8), 8);
    let (ev, _) = read_ok(&w.bytes);
    let numbers: Vec<(u64, i128)> = ev.frames.iter().map(|f| (f.number, f.nanos)).collect();
    assert_eq!(numbers, [(1, 5000), (2, 7000)]);
    let reasons: Vec<&str> = ev.warnings.iter().map(|w| w.2.as_str()).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].contains("invalid if_tsresol 0xc8"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("captured length 4000 exceeds"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("secrets length 99 exceeds"),
        "{reasons:?}"
    );
    assert!(ev.secrets.is_empty());
}

#[test]
fn pcapng_large_blocks_grow_the_buffer_and_oversized_ones_are_refused() {
    let mut w = PcapngWriter::new();
    w.section(false);
    w.interface(1, 0, &[]);
    let big = packet(5, 3 << 20);
    w.enhanced(0, 1, &big, big.len() as u32);
    w.enhanced(0, 2, b"next", 4);
    let (ev, _) = read_ok(&w.bytes);
    assert!(ev.warnings.is_empty(), "{:?}", ev.warnings);
    assert!(ev.frames[0].data == big);
    assert_eq!(ev.frames[1].data, b"next");
    // A block header claiming just over the limit is refused without being buffered, and the
    // next block is found again.
    let mut w = PcapngWriter::new();
    w.section(false);
    w.interface(1, 0, &[]);
    let at = w.bytes.len();
    put32(&mut w.bytes, false, 6);
    put32(&mut w.bytes, false, MAX_BLOCK_LEN as u32 + 4);
    w.enhanced(0, 2, b"after", 5);
    let (ev, _) = read_ok(&w.bytes);
    assert_eq!(ev.warnings.len(), 1, "{:?}", ev.warnings);
    assert_eq!(ev.warnings[0].1, Some(at as u64));
    assert!(
        ev.warnings[0]
            .2
            .contains(&format!("exceeds {MAX_BLOCK_LEN}; skipped 8 bytes")),
        "{:?}",
        ev.warnings
    );
    assert_eq!(ev.frames.len(), 1);
    assert_eq!(ev.frames[0].data, b"after");
}

#[test]
fn pcapng_bad_first_section_is_an_error() {
    let w = sample_pcapng();
    let mut bytes = w.bytes.clone();
    bytes[8..12].copy_from_slice(&[1, 2, 3, 4]);
    let err = read(&bytes).unwrap_err();
    assert_eq!(err.offset(), Some(0));
    assert!(err.to_string().contains("byte-order magic"), "{err}");
    let mut bytes = w.bytes.clone();
    bytes[12] = 2;
    assert!(read(&bytes)
        .unwrap_err()
        .to_string()
        .contains("unsupported version 2.0"));
    let err = read(&w.bytes[..20]).unwrap_err();
    assert!(
        err.to_string().contains("block truncated: 20 of 28 bytes"),
        "{err}"
    );
    let mut bytes = w.bytes.clone();
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        read(&bytes).unwrap_err().kind(),
        ErrorKind::Malformed { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// Both

#[test]
fn corrupt_gzip_tails_keep_earlier_frames() {
    let w = sample_pcapng();
    let gz = gzip(&w.bytes);
    // Trailing garbage after a complete member.
    let mut tail = gz.clone();
    tail.extend(b"\x1f\x8bnot really gzip");
    let (ev, _) = read_ok(&tail);
    assert_eq!(ev.frames.len(), 6);
    assert_eq!(
        ev.warnings.last().unwrap().0,
        WarningCode::Malformed,
        "{:?}",
        ev.warnings
    );
    assert!(ev.warnings.last().unwrap().2.starts_with("gzip: "));
    // The compressed file cut short: everything decompressed before the cut is read. Only a cut
    // so early that not even the section header decompresses is an error.
    let mut cases = 0;
    for cut in (11..gz.len()).step_by(3) {
        let mut decoder = flate2::read::MultiGzDecoder::new(&gz[..cut]);
        let mut available = Vec::new();
        let _ = std::io::Read::read_to_end(&mut decoder, &mut available);
        match read(&gz[..cut]) {
            Err(e) => assert!(available.len() < w.blocks[1], "cut {cut}: {e}"),
            Ok((ev, _)) => {
                let last = ev
                    .warnings
                    .last()
                    .unwrap_or_else(|| panic!("cut {cut}: no warning"));
                assert_eq!(last.0, WarningCode::Truncated, "cut {cut}: {last:?}");
                let complete = w.blocks.iter().filter(|b| **b < available.len()).count();
                assert!(ev.frames.len() <= complete);
            }
        }
        cases += 1;
    }
    // Bytes flipped in the deflate stream: never a panic, never an error once the header is read.
    for at in (12..gz.len() - 8).step_by(5) {
        let mut bad = gz.clone();
        bad[at] ^= 0x55;
        let _ = read(&bad);
        cases += 1;
    }
    println!("{cases} damaged gzip streams read");
}

#[test]
fn unknown_empty_and_wrong_formats_are_errors() {
    let err = read(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::UnknownFormat { first_bytes } if first_bytes.starts_with("47 45 54 20"))
    );
    assert!(matches!(read(b"").unwrap_err().kind(), ErrorKind::Empty));
    let err = read(b"\xef\xbb\xbf{\"log\": {\"entries\": []}}").unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::WrongFormat { found: Format::Har }
    ));
    let err = read(&gzip(b"garbage inside gzip")).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::UnknownFormat { .. }),
        "{err}"
    );
    let err = read(b"\x1f\x8b\x08\x00 this is not deflate").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io(_)), "{err}");
    let missing = std::path::Path::new("/nonexistent/phonehome/capture.pcap");
    let err = read_capture(missing, Arc::from("capture.pcap"), &mut |_| {}).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io(_)));
    assert!(
        err.to_string().starts_with("capture.pcap: cannot read: "),
        "{err}"
    );
}

#[test]
fn sniff_file_recognises_content_not_names() {
    let dir = std::env::temp_dir().join(format!("phonehome-ingest-sniff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // (file name, content, expected format and gzip flag)
    type Case = (&'static str, Vec<u8>, Option<(Format, bool)>);
    let cases: [Case; 5] = [
        (
            "a.txt",
            sample_pcap(true, true).bytes,
            Some((Format::Pcap, false)),
        ),
        (
            "b.pcap",
            gzip(&sample_pcapng().bytes),
            Some((Format::Pcapng, true)),
        ),
        (
            "c.pcapng",
            b"\xef\xbb\xbf\n  {\"log\":{}}".to_vec(),
            Some((Format::Har, false)),
        ),
        ("d.har", gzip(b"{\"log\":{}}"), Some((Format::Har, true))),
        ("e.pcap", b"\x00\x01\x02\x03 nothing".to_vec(), None),
    ];
    for (name, bytes, want) in &cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        match (sniff_file(&path), want) {
            (Ok(s), Some((format, gzip))) => {
                assert_eq!((s.format, s.gzip), (*format, *gzip), "{name}")
            }
            (Err(e), None) => {
                assert!(
                    e.to_string().contains("first bytes: 00 01 02 03 20 6e"),
                    "{e}"
                );
            }
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
    // read_capture on the renamed files agrees.
    let (mut frames, mut n) = (0, 0);
    for name in ["a.txt", "b.pcap"] {
        frames += read_capture(&dir.join(name), Arc::from(name), &mut |_| {})
            .unwrap()
            .frames;
        n += 1;
    }
    assert_eq!((n, frames), (2, 11));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Deterministic xorshift, so damage is reproducible.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_damage_never_panics_and_keeps_numbering_consistent() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let originals = [
        sample_pcap(false, false).bytes,
        sample_pcap(true, true).bytes,
        sample_pcapng().bytes,
    ];
    let mut cases = 0;
    for original in &originals {
        for _ in 0..300 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.next() % 6 {
                if bytes.len() <= 25 {
                    break;
                }
                let at = 24 + (rng.next() as usize) % (bytes.len() - 24);
                match rng.next() % 3 {
                    0 => bytes[at] = rng.next() as u8,
                    1 => bytes.truncate(at),
                    _ => {
                        let n = (rng.next() % 40) as usize;
                        bytes.splice(at..at, (0..n).map(|_| rng.next() as u8));
                    }
                }
            }
            if let Ok((ev, stats)) = read(&bytes) {
                let numbers: Vec<u64> = ev.frames.iter().map(|f| f.number).collect();
                assert_eq!(numbers, (1..=ev.frames.len() as u64).collect::<Vec<_>>());
                assert!(stats.bytes <= bytes.len() as u64);
                assert!(ev.frames.iter().all(|f| f.offset < bytes.len() as u64));
            }
            cases += 1;
        }
    }
    println!("{cases} randomly damaged captures read");
}
