//! Decompression bombs, absurd nesting and endless encodings, each sent as the body of one HTTP/1.1
//! request in a real capture (written with `phonehome-synth`'s `TcpConversation` and
//! `PcapWriter`) and run through the whole pipeline (`Analyzer::analyze_file`). Each must end in a
//! `limit` or `decode` warning that names the message (same file, same frame as the request), must
//! leave the rest of the capture analysed (a normal request on another connection, after the
//! bomb, still leaks its IMEI and both requests are counted) and must stay within a memory bound.
//!
//! - (a) 10 GiB of zeros as gzip (about 10 MB, built from one compressed MiB repeated, never
//!   materialised), as `Content-Encoding: gzip` and as a base64 string in a JSON body;
//! - (b) a zstd frame that asks for a 2 GiB window, as `Content-Encoding: zstd` (and
//!   as a base64 string in a JSON body);
//! - (c) JSON nested 10 000 deep, arrays and objects;
//! - (d) base64 that stays base64 when decoded, 20 levels deep (depth cap) and 4 000 times three
//!   levels (trial cap).
//!
//! Memory is measured, not guessed: this test binary's global allocator counts the bytes the Rust
//! side has allocated, and the peak during the analysis (after the capture is written to disk and
//! its buffers freed) must stay below [`MAX_PEAK_HEAP`]. libzstd allocates through C `malloc`,
//! which that count does not see, so the peak resident set size (`VmHWM`, reset through
//! `/proc/self/clear_refs`) is checked as well where Linux offers it. The counting needs `unsafe`
//! (a `GlobalAlloc` impl forwarding to the system allocator); the library itself forbids unsafe
//! code. The tests take one lock, so that no other test allocates while one measures.

use base64::Engine;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use phonehome::model::{Direction, Limits, WarningCode};
use phonehome::model::{Finding, FlowRecord, MatchKind, Message, SourceRef, Summary, Warning};
use phonehome::{Analyzer, Options, Profile, Report};
use phonehome_synth::packet::Link;
use phonehome_synth::pcap::{PcapOptions, PcapWriter};
use phonehome_synth::scenario::IMEI_1;
use phonehome_synth::tcp::{TcpConversation, MAX_MSS};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Counts the bytes allocated now and the most allocated at once since the last reset.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only sizes are counted.
// `realloc` keeps its default (allocate, copy, free), so a moving reallocation counts both blocks.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` was allocated by `System` with `layout` (through `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Held by every test for its whole run: one measurement at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Most heap the analysis of one bomb capture may allocate at once (beyond what was allocated
/// before it started). The default caps allow a 16 MiB body and 64 MiB of decoded bytes per
/// message; a few copies of each fit well below this.
const MAX_PEAK_HEAP: usize = 256 << 20;

/// Most the peak resident set size may grow during one analysis (C allocations included).
const MAX_PEAK_RSS_GROWTH: usize = 384 << 20;

const LINK: Link = Link::Ethernet {
    client: [2, 0, 0, 0, 0, 2],
    server: [2, 0, 0, 0, 0, 1],
};

/// Capture start: 2026-11-24T10:00:00Z.
const T0: i128 = 1_795_514_400_000_000_000;

/// The host the normal request after the bomb goes to.
const AFTER_HOST: &str = "after.example";

/// Everything a run reported, without keeping message bodies (a clone of a 64 MiB decoded body
/// would dominate the measurement).
#[derive(Default)]
struct Seen {
    /// (source, url, body length after content decoding) of each request.
    requests: Vec<(SourceRef, String, usize)>,
    /// Flow records reported.
    flows: usize,
    warnings: Vec<Warning>,
    findings: Vec<Finding>,
    summary: Option<Summary>,
}

impl Report for Seen {
    fn message(&mut self, message: &Message) -> std::io::Result<()> {
        if message.direction == Direction::Request {
            self.requests.push((
                message.source.clone(),
                message.url.clone(),
                message.body.content().len(),
            ));
        }
        Ok(())
    }
    fn flow(&mut self, _flow: &FlowRecord) -> std::io::Result<()> {
        self.flows += 1;
        Ok(())
    }
    fn warning(&mut self, warning: &Warning) -> std::io::Result<()> {
        self.warnings.push(warning.clone());
        Ok(())
    }
    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> std::io::Result<()> {
        self.findings = findings.to_vec();
        self.summary = Some(summary.clone());
        Ok(())
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

fn tmp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("phonehome-bombs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

/// An HTTP/1.1 POST of `body` to `bomb.example` with the extra `headers` (CRLF-terminated lines).
fn post(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: bomb.example\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// Writes a capture of two connections: `request` (the bomb) on the first, then a normal GET
/// leaking [`IMEI_1`] in its query to [`AFTER_HOST`] on the second. Built and written before any
/// measurement; nothing of it stays in memory.
fn write_capture(name: &str, request: &[u8]) -> PathBuf {
    let path = tmp_path(name);
    let file = std::fs::File::create(&path).expect("create capture");
    let mut w = PcapWriter::new(BufWriter::new(file), PcapOptions::default()).expect("pcap");
    let mut bomb = TcpConversation::new(addr("10.0.0.2:40000"), addr("203.0.113.10:80"))
        .with_link(LINK)
        .with_mss(MAX_MSS)
        .with_start(T0);
    bomb.handshake();
    bomb.client_send(request);
    bomb.server_send(b"HTTP/1.1 204 No Content\r\n\r\n");
    bomb.close();
    for f in bomb.frames().expect("bomb frames") {
        w.write_packet(f.ts_nanos, &f.data, f.orig_len)
            .expect("write");
    }
    drop(bomb);
    let mut after = TcpConversation::new(addr("10.0.0.2:40001"), addr("203.0.113.11:80"))
        .with_link(LINK)
        .with_start(T0 + 5_000_000_000);
    after.handshake();
    after.client_send(
        format!("GET /collect?imei={IMEI_1}&v=2 HTTP/1.1\r\nHost: {AFTER_HOST}\r\n\r\n").as_bytes(),
    );
    after.server_send(b"HTTP/1.1 204 No Content\r\n\r\n");
    after.close();
    for f in after.frames().expect("after frames") {
        w.write_packet(f.ts_nanos, &f.data, f.orig_len)
            .expect("write");
    }
    w.into_inner()
        .expect("flush")
        .into_inner()
        .map_err(|e| e.into_error())
        .expect("flush file")
        .sync_all()
        .expect("sync");
    path
}

/// The resident set size and its peak, in bytes, from `/proc/self/status` (Linux only).
fn rss() -> Option<(usize, usize)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets the peak resident set size to the current one; false where that is not possible.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// What one analysis reported and what it cost.
struct Run {
    seen: Seen,
    /// Most heap allocated at once during the analysis, beyond what was allocated before.
    peak_heap: usize,
    /// Growth of the peak resident set size during the analysis, when measurable.
    peak_rss_growth: Option<usize>,
}

/// Runs the pipeline with the sample profile over `path`, measuring memory, then deletes `path`.
fn analyze(path: &Path) -> Run {
    let profile = Profile::parse(&phonehome_synth::scenario::sample_profile())
        .expect("profile")
        .0;
    let options = Options {
        profile: Some(profile),
        ..Options::default()
    };
    let rss_before = if reset_peak_rss() { rss() } else { None };
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let mut seen = Seen::default();
    let mut analyzer = Analyzer::new(options);
    let name: Arc<str> = path.display().to_string().into();
    let input = analyzer.analyze_file(path, name, &mut seen);
    assert!(input.error.is_none(), "{:?}", input.error);
    analyzer.finish(&mut seen).expect("report");
    // The capture (up to 14 MB) is not needed after its analysis.
    let _ = std::fs::remove_file(path);
    let peak_heap = PEAK.load(Ordering::SeqCst).saturating_sub(base);
    let peak_rss_growth = rss_before
        .zip(rss())
        .map(|((before, _), (_, peak))| peak.saturating_sub(before));
    Run {
        seen,
        peak_heap,
        peak_rss_growth,
    }
}

/// Runs `path` and checks what every bomb must give besides its warning: the IMEI leaked after it
/// still found, both requests counted, and memory within bounds. Prints the figures.
fn check_survived(label: &str, path: &Path) -> Run {
    let started = Instant::now();
    let run = analyze(path);
    let elapsed = started.elapsed();
    let seen = &run.seen;
    for w in &seen.warnings {
        println!(
            "{label}: warning {} at frame {:?}: {}",
            w.code.as_str(),
            w.frame,
            w.reason
        );
    }
    let after = seen.findings.iter().find(|f| {
        f.match_kind == MatchKind::Known
            && f.kind == "imei"
            && f.host.as_deref() == Some(AFTER_HOST)
    });
    let after = after.unwrap_or_else(|| {
        panic!(
            "{label}: leak after the bomb not found: {:#?}",
            seen.findings
        )
    });
    assert_eq!(after.location, "url", "{label}");
    assert_eq!(
        seen.summary.as_ref().map(|s| s.counts.requests),
        Some(2),
        "{label}: both requests analysed"
    );
    assert_eq!(seen.flows, 2, "{label}: both connections reported");
    assert!(
        run.peak_heap < MAX_PEAK_HEAP,
        "{label}: peak heap {} MiB",
        run.peak_heap >> 20
    );
    if let Some(growth) = run.peak_rss_growth {
        assert!(
            growth < MAX_PEAK_RSS_GROWTH,
            "{label}: peak RSS grew by {} MiB",
            growth >> 20
        );
    }
    let mib = |b: usize| b as f64 / f64::from(1 << 20);
    println!(
        "{label}: peak heap {:.1} MiB, peak RSS growth {}, {:.1} s",
        mib(run.peak_heap),
        run.peak_rss_growth
            .map_or("not measurable".to_string(), |g| format!(
                "{:.1} MiB",
                mib(g)
            )),
        elapsed.as_secs_f64()
    );
    run
}

/// The bomb request as reported: its source and the length of its body after content decoding.
fn bomb_request(label: &str, run: &Run) -> (SourceRef, usize) {
    let (source, _, len) = run
        .seen
        .requests
        .iter()
        .find(|(_, url, _)| url.contains("bomb.example"))
        .unwrap_or_else(|| panic!("{label}: bomb request not parsed: {:?}", run.seen.requests));
    (source.clone(), *len)
}

/// Asserts a warning of one of `codes` about the bomb request (same file, same frame) whose reason
/// contains `reason`.
fn assert_warned(label: &str, path: &Path, run: &Run, codes: &[WarningCode], reason: &str) {
    let (source, _) = bomb_request(label, run);
    let file = path.display().to_string();
    assert_eq!(&*source.file, file.as_str());
    let frame = source.frame.expect("a capture message has a frame");
    let found = run.seen.warnings.iter().any(|w| {
        codes.contains(&w.code)
            && &*w.file == file.as_str()
            && w.frame == Some(frame)
            && w.reason.contains(reason)
    });
    assert!(
        found,
        "{label}: no {codes:?} warning containing {reason:?} at {file} frame {frame}: {:#?}",
        run.seen.warnings
    );
}

/// [`check_survived`] and [`assert_warned`].
fn check_bomb(label: &str, path: &Path, codes: &[WarningCode], reason: &str) -> Run {
    let run = check_survived(label, path);
    assert_warned(label, path, &run, codes, reason);
    run
}

/// Deflate-compresses `input` into `out` with `flush`, however many calls that takes.
fn deflate_into(c: &mut Compress, input: &[u8], flush: FlushCompress, out: &mut Vec<u8>) {
    let mut consumed = 0usize;
    loop {
        out.reserve(64 << 10);
        let before = c.total_in();
        let status = c
            .compress_vec(&input[consumed..], out, flush)
            .expect("deflate");
        consumed += usize::try_from(c.total_in() - before).expect("fits");
        // Done when all input is taken and the call had output room left (the flush completed).
        let room_left = out.len() < out.capacity();
        let finished = !matches!(flush, FlushCompress::Finish) || status == Status::StreamEnd;
        if consumed == input.len() && room_left && finished {
            break;
        }
    }
}

/// A gzip stream (RFC 1952) of `chunks` MiB of zeros, built without ever holding them: one MiB of
/// zeros is compressed after a full flush (which makes the deflate blocks independent of what came
/// before), and those blocks are repeated; the CRC-32 is combined chunk by chunk.
fn gzip_zeros(chunks: usize) -> Vec<u8> {
    const CHUNK: usize = 1 << 20;
    let zeros = vec![0u8; CHUNK];
    let mut c = Compress::new(Compression::best(), false);
    let mut first = Vec::new();
    deflate_into(&mut c, &zeros, FlushCompress::Full, &mut first);
    let mut next = Vec::new();
    deflate_into(&mut c, &zeros, FlushCompress::Full, &mut next);
    let mut end = Vec::new();
    deflate_into(&mut c, &[], FlushCompress::Finish, &mut end);
    let mut chunk_crc = Crc::new();
    chunk_crc.update(&zeros);
    let mut crc = Crc::new();
    let mut out = Vec::with_capacity(first.len() + next.len() * chunks + 64);
    out.extend_from_slice(&[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0x02, 0xff]);
    out.extend_from_slice(&first);
    crc.combine(&chunk_crc);
    for _ in 1..chunks {
        out.extend_from_slice(&next);
        crc.combine(&chunk_crc);
    }
    out.extend_from_slice(&end);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE: the length modulo 2^32.
    out.extend_from_slice(&((chunks as u64 * CHUNK as u64) as u32).to_le_bytes());
    out
}

#[test]
fn gzip_zeros_builder_makes_valid_gzip() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let gz = gzip_zeros(5);
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut decoded)
        .expect("a valid gzip stream (CRC and length checked)");
    assert_eq!(decoded.len(), 5 << 20);
    assert!(decoded.iter().all(|&b| b == 0));
    println!("5 MiB of zeros: {} bytes of gzip", gz.len());
}

/// 10 GiB of zeros as gzip: about 10 MB, under the 16 MiB body cap.
const BOMB_CHUNKS: usize = 10 << 10;

/// (a) A gzip body that expands to 10 GiB, sent with `Content-Encoding: gzip`: the protocol stage
/// stops at `max_decoded_bytes` (64 MiB) and says so.
#[test]
fn gzip_content_encoding_bomb() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let gz = gzip_zeros(BOMB_CHUNKS);
    println!(
        "gzip bomb: {} bytes expanding to {} GiB, built in {:.1} s",
        gz.len(),
        BOMB_CHUNKS >> 10,
        started.elapsed().as_secs_f64()
    );
    let req = post(
        "/upload",
        "Content-Type: application/octet-stream\r\nContent-Encoding: gzip\r\n",
        &gz,
    );
    drop(gz);
    let path = write_capture("gzip-content-encoding.pcap", &req);
    drop(req);
    let label = "gzip Content-Encoding, 10 GiB";
    let run = check_bomb(
        label,
        &path,
        &[WarningCode::Limit],
        "content decoding stopped: output cap reached",
    );
    let (_, body_len) = bomb_request(label, &run);
    assert_eq!(body_len, Limits::default().max_decoded_bytes);
}

/// (a) The same 10 GiB gzip stream as a base64 string in a JSON body: found by trial decoding
/// (`json:$.blob`, `base64`, `gzip`), which stops within the message's decoded-bytes budget.
#[test]
fn gzip_bomb_as_base64_in_json() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let gz = gzip_zeros(BOMB_CHUNKS);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&gz);
    drop(gz);
    let body = format!(r#"{{"v":1,"blob":"{b64}"}}"#);
    drop(b64);
    let req = post(
        "/upload",
        "Content-Type: application/json\r\n",
        body.as_bytes(),
    );
    drop(body);
    let path = write_capture("gzip-base64-json.pcap", &req);
    drop(req);
    check_bomb(
        "gzip 10 GiB as base64 in JSON",
        &path,
        &[WarningCode::Limit],
        "gzip data inside a value was cut short",
    );
}

/// A zstd frame (RFC 8878) that asks for a 2 GiB window, made by the zstd crate's streaming
/// encoder with `window_log(31)` and no content size: its Window_Descriptor has exponent 21 and
/// mantissa 0, a window of 2^(10+21) bytes. It holds 4 MiB of zeros.
fn zstd_two_gib_window_frame() -> Vec<u8> {
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 1).expect("encoder");
    enc.window_log(31).expect("window log 31");
    enc.include_contentsize(false).expect("no content size");
    std::io::Write::write_all(&mut enc, &vec![0u8; 4 << 20]).expect("compress");
    let frame = enc.finish().expect("finish");
    assert_eq!(frame[..4], [0x28, 0xb5, 0x2f, 0xfd], "zstd magic");
    assert_eq!(
        frame[4] & 0x20,
        0,
        "Single_Segment_flag clear: a Window_Descriptor follows"
    );
    assert_eq!(
        frame[5],
        21 << 3,
        "Window_Descriptor: exponent 21, mantissa 0 (2 GiB)"
    );
    // A valid frame: single-pass decoding (which needs no window buffer) gives the zeros back.
    let out = zstd::bulk::decompress(&frame, 4 << 20).expect("valid zstd frame");
    assert!(out.len() == 4 << 20 && out.iter().all(|&b| b == 0));
    frame
}

/// (b) A `Content-Encoding: zstd` body whose frame asks for a 2 GiB window: refused before any
/// window is allocated (the cap is 8 MiB), with a `decode` warning; the body stays as sent.
#[test]
fn zstd_two_gib_window() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let frame = zstd_two_gib_window_frame();
    let req = post(
        "/upload",
        "Content-Type: application/octet-stream\r\nContent-Encoding: zstd\r\n",
        &frame,
    );
    let path = write_capture("zstd-window.pcap", &req);
    let label = "zstd Content-Encoding, 2 GiB window";
    let run = check_bomb(
        label,
        &path,
        &[WarningCode::Decode, WarningCode::Limit],
        "Frame requires too much memory",
    );
    let (_, body_len) = bomb_request(label, &run);
    assert_eq!(body_len, frame.len(), "the body is kept as sent");
}

/// (b) The same frame as a base64 string in a JSON body (trial decoding by magic).
#[test]
fn zstd_two_gib_window_as_base64_in_json() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let frame = zstd_two_gib_window_frame();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&frame);
    let body = format!(r#"{{"v":1,"blob":"{b64}"}}"#);
    let req = post(
        "/upload",
        "Content-Type: application/json\r\n",
        body.as_bytes(),
    );
    let path = write_capture("zstd-window-json.pcap", &req);
    check_bomb(
        "zstd 2 GiB window as base64 in JSON",
        &path,
        &[WarningCode::Limit, WarningCode::Decode],
        "zstd",
    );
}

/// How deep the nested JSON documents go.
const JSON_DEPTH: usize = 10_000;

/// (c) JSON nested 10 000 deep, `[[[…"<IMEI>"…]]]` and `{"a":{"a":…"<IMEI>"…}}`: bounded in
/// memory, the rest of the capture analysed, and the IMEI at the bottom still found in the raw
/// body.
fn deep_json_captures() -> Vec<(&'static str, PathBuf)> {
    let arrays = format!(
        "{}\"{IMEI_1}\"{}",
        "[".repeat(JSON_DEPTH),
        "]".repeat(JSON_DEPTH)
    );
    let objects = format!(
        "{}\"{IMEI_1}\"{}",
        r#"{"a":"#.repeat(JSON_DEPTH),
        "}".repeat(JSON_DEPTH)
    );
    [("arrays", arrays), ("objects", objects)]
        .into_iter()
        .map(|(what, body)| {
            let req = post(
                "/deep",
                "Content-Type: application/json\r\n",
                body.as_bytes(),
            );
            (what, write_capture(&format!("deep-{what}.pcap"), &req))
        })
        .collect()
}

#[test]
fn json_nested_ten_thousand_deep_is_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for (what, path) in deep_json_captures() {
        let label = format!("JSON {what} {JSON_DEPTH} deep");
        let run = check_survived(&label, &path);
        let deep = run.seen.findings.iter().find(|f| {
            f.match_kind == MatchKind::Known
                && f.kind == "imei"
                && f.host.as_deref() == Some("bomb.example")
        });
        let deep =
            deep.unwrap_or_else(|| panic!("{label}: IMEI not found: {:#?}", run.seen.findings));
        assert_eq!(deep.location, "body", "{label}");
    }
}

/// (c) The same documents must also say that they were not read as JSON.
#[test]
fn json_nested_ten_thousand_deep_warns() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for (what, path) in deep_json_captures() {
        let label = format!("JSON {what} {JSON_DEPTH} deep");
        let run = analyze(&path);
        assert_warned(&label, &path, &run, &[WarningCode::Limit], "");
    }
}

/// `text` base64-encoded `times` times. No base64 text decodes to itself (decoding shortens it by
/// a quarter), and near-fixed points end fast (`QUFB…` decodes to `AAA…`, which decodes to zero
/// bytes, not text); a long chain of valid base64 is one encoded many times over.
fn base64_times(text: &str, times: usize) -> Vec<u8> {
    let mut s = text.as_bytes().to_vec();
    for _ in 0..times {
        s = base64::engine::general_purpose::STANDARD
            .encode(&s)
            .into_bytes();
    }
    s
}

/// (d) A form field holding a JSON document base64-encoded 20 times (9 KB): every level decodes to
/// valid base64 again; the walk stops at `max_decode_depth` (8) and says so.
#[test]
fn base64_chain_ends_at_the_depth_cap() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let chain = base64_times(&format!(r#"{{"imei":"{IMEI_1}"}}"#), 20);
    let body = [b"d=".as_slice(), &chain].concat();
    let req = post(
        "/b64",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        &body,
    );
    let path = write_capture("base64-chain.pcap", &req);
    check_bomb(
        "base64 20 times over",
        &path,
        &[WarningCode::Limit],
        "decode depth cap reached (max_decode_depth = 8)",
    );
}

/// (d) 4 000 JSON strings, each base64 three times over: every level is a trial decode, and the
/// walk stops at the trial cap (10 000 per message) and says so.
#[test]
fn base64_chains_end_at_the_trial_cap() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let leaves: Vec<String> = (0..4_000)
        .map(|i| {
            let text = format!("event-{i:05}-payload");
            format!(
                "\"{}\"",
                String::from_utf8(base64_times(&text, 3)).expect("ASCII")
            )
        })
        .collect();
    let body = format!("[{}]", leaves.join(","));
    let req = post(
        "/b64",
        "Content-Type: application/json\r\n",
        body.as_bytes(),
    );
    let path = write_capture("base64-trials.pcap", &req);
    check_bomb(
        "4 000 base64 chains",
        &path,
        &[WarningCode::Limit],
        "trial-decode cap reached (max_trials = 10000)",
    );
}
