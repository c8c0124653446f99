//! Reading speed on a plain pcap. Ignored by default (it needs an optimised build to mean
//! anything): `cargo test -p phonehome-ingest --release --test throughput -- --ignored --nocapture`.

use phonehome_ingest::{read_capture_from, CaptureEvent};
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

/// A pcap file generated on the fly: the file header, then a 1 MiB block of records (60 to 1514
/// bytes, like real traffic) repeated `repeats` times.
struct GeneratedPcap {
    header: Vec<u8>,
    block: Vec<u8>,
    repeats: usize,
    served: usize,
    pos: usize,
    in_header: bool,
}

impl GeneratedPcap {
    fn new(repeats: usize) -> (Self, u64) {
        let mut header = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        header.extend(262_144u32.to_le_bytes());
        header.extend(1u32.to_le_bytes());
        let (mut block, mut frames, mut i) = (Vec::new(), 0u64, 0usize);
        while block.len() < (1 << 20) - 1600 {
            let len = [60, 1514, 66, 590, 1514, 1514, 54, 1280][i % 8];
            for field in [
                1_700_000_000 + i as u32,
                (i * 37 % 1_000_000) as u32,
                len,
                len,
            ] {
                block.extend(field.to_le_bytes());
            }
            block.extend((0..len).map(|j| j as u8));
            frames += 1;
            i += 1;
        }
        let me = Self {
            header,
            block,
            repeats,
            served: 0,
            pos: 0,
            in_header: true,
        };
        (me, frames * repeats as u64)
    }

    fn len(&self) -> u64 {
        (self.header.len() + self.block.len() * self.repeats) as u64
    }
}

impl Read for GeneratedPcap {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let src = if self.in_header {
            &self.header
        } else {
            &self.block
        };
        if !self.in_header && self.served == self.repeats {
            return Ok(0);
        }
        let n = out.len().min(src.len() - self.pos);
        out[..n].copy_from_slice(&src[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == src.len() {
            self.pos = 0;
            if self.in_header {
                self.in_header = false;
            } else {
                self.served += 1;
            }
        }
        Ok(n)
    }
}

#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn plain_pcap_reads_faster_than_1_gb_per_second() {
    let (source, expected_frames) = GeneratedPcap::new(4096); // 4 GiB
    let total = source.len();
    let (mut frames, mut checksum) = (0u64, 0u64);
    let start = Instant::now();
    let stats = read_capture_from(source, Arc::from("gen.pcap"), &mut |event| {
        if let CaptureEvent::Frame(f) = event {
            frames += 1;
            checksum =
                checksum.wrapping_add(f.data.len() as u64 + u64::from(f.data[f.data.len() / 2]));
        }
    })
    .unwrap();
    let secs = start.elapsed().as_secs_f64();
    let rate = total as f64 / secs / 1e9;
    println!(
        "{} MB, {frames} frames in {secs:.2} s: {rate:.2} GB/s, {:.1} M frames/s (checksum {checksum})",
        total / 1_000_000,
        frames as f64 / secs / 1e6
    );
    assert_eq!((stats.frames, stats.bytes), (expected_frames, total));
    assert!(rate > 1.0, "{rate:.2} GB/s");
}

#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn pcap_file_in_the_page_cache_reads_faster_than_1_gb_per_second() {
    let (mut source, expected_frames) = GeneratedPcap::new(512); // 512 MiB
    let total = source.len();
    let path = std::env::temp_dir().join(format!(
        "phonehome-ingest-bench-{}.pcap",
        std::process::id()
    ));
    let mut file = std::fs::File::create(&path).unwrap();
    std::io::copy(&mut source, &mut file).unwrap();
    drop(file);
    let mut best = 0f64;
    for _ in 0..3 {
        let start = Instant::now();
        let mut frames = 0u64;
        let stats = phonehome_ingest::read_capture(&path, Arc::from("gen.pcap"), &mut |event| {
            if let CaptureEvent::Frame(f) = event {
                frames += u64::from(!f.data.is_empty());
            }
        })
        .unwrap();
        assert_eq!(
            (stats.frames, frames, stats.bytes),
            (expected_frames, expected_frames, total)
        );
        best = best.max(total as f64 / start.elapsed().as_secs_f64() / 1e9);
    }
    std::fs::remove_file(&path).unwrap();
    println!("{} MB file: {best:.2} GB/s (best of 3)", total / 1_000_000);
    assert!(best > 1.0, "{best:.2} GB/s");
}

#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn har_reading_speed() {
    // 100 000 entries of about 2.3 KB each (headers and a body), about 230 MB.
    let headers: String = (0..20)
        .map(|i| {
            format!(r#"{{"name": "x-header-{i}", "value": "value number {i} with some text"}},"#)
        })
        .collect();
    let entry = |i: usize| {
        format!(
            r#"{{"startedDateTime": "2024-01-01T00:00:00.000Z", "request": {{"method": "POST", "url": "https://h{i}.example/p?q={i}", "httpVersion": "HTTP/2", "headers": [{headers}{{"name": "a", "value": "b"}}], "cookies": [], "queryString": [], "postData": {{"mimeType": "application/json", "text": "{body}"}}}}, "response": {{"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [], "content": {{"size": 2, "mimeType": "text/plain", "text": "ok"}}}}, "timings": {{"wait": 1}}}}"#,
            body = "{\\\"imei\\\": \\\"356938035643809\\\"}".repeat(20)
        )
    };
    let n = 100_000;
    let mut json = String::from(r#"{"log": {"version": "1.2", "entries": ["#);
    for i in 0..n {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&entry(i));
    }
    json.push_str("]}}");
    let start = Instant::now();
    let mut count = 0u64;
    let stats =
        phonehome_ingest::read_har_from(json.as_bytes(), Arc::from("gen.har"), &mut |event| {
            if let phonehome_ingest::HarEvent::Entry(e) = event {
                count += e.request.headers.len() as u64;
            }
        })
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} MB HAR, {} entries in {secs:.2} s: {:.0} MB/s",
        json.len() / 1_000_000,
        stats.entries,
        json.len() as f64 / secs / 1e6
    );
    assert_eq!((stats.entries, count), (n as u64, 21 * n as u64));
}
