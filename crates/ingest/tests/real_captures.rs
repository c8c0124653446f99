//! Every real capture in the shared test data reads without error, with the frame count tshark
//! reported, and with the same frame bytes as an independent parser (pcap-parser).

mod shared_data;

use flate2::read::MultiGzDecoder;
use pcap_parser::pcapng::Block;
use pcap_parser::{LegacyPcapSlice, PcapBlockOwned, PcapNGSlice};
use phonehome_ingest::{read_capture, CaptureEvent, Format, SECRETS_TLS_KEY_LOG};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Everything one read delivered.
#[derive(Default)]
struct Delivered {
    frames: Vec<(u64, u32, Vec<u8>)>,
    secrets: Vec<(u32, Vec<u8>)>,
    warnings: Vec<String>,
}

fn read_all(path: &Path) -> (Delivered, phonehome_ingest::CaptureStats) {
    let mut got = Delivered::default();
    let stats = read_capture(
        path,
        Arc::from(path.display().to_string()),
        &mut |event| match event {
            CaptureEvent::Frame(f) => {
                assert_eq!(
                    f.number,
                    got.frames.len() as u64 + 1,
                    "frame numbers are consecutive"
                );
                got.frames.push((f.offset, f.orig_len, f.data.to_vec()));
            }
            CaptureEvent::Secrets { kind, data } => got.secrets.push((kind, data.to_vec())),
            CaptureEvent::Warning(w) => got.warnings.push(w.to_string()),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (got, stats)
}

/// `packets` per file (relative to `external/`) from tshark's SUMMARY.tsv and evader.jsonl.
fn reference_counts(external: &Path) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    let summary = std::fs::read_to_string(external.join("_reference/SUMMARY.tsv")).unwrap();
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let file_col = header.iter().position(|c| *c == "file").unwrap();
    let packets_col = header.iter().position(|c| *c == "packets").unwrap();
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        counts.insert(
            cols[file_col].to_owned(),
            cols[packets_col].parse().unwrap(),
        );
    }
    let evader = std::fs::read_to_string(external.join("_reference/evader.jsonl")).unwrap();
    for line in evader.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        counts.insert(
            row["file"].as_str().unwrap().to_owned(),
            row["packets"].as_u64().unwrap(),
        );
    }
    counts
}

/// The reference count for `rel`. Files under `_derived/` were made with editcap from an
/// original (key log injected as a DSB, or secrets removed), which keeps every packet, so they
/// are checked against the original's count.
fn expected(counts: &HashMap<String, u64>, rel: &str) -> Option<u64> {
    if let Some(n) = counts.get(rel) {
        return Some(*n);
    }
    let derived = rel.strip_prefix("_derived/")?;
    let stem = derived
        .strip_suffix(".dsb.pcapng")
        .or_else(|| derived.strip_suffix(".nosecrets.pcapng"))?;
    [".pcap", ".pcapng", ".pcapng.gz", ".pcap.gz"]
        .iter()
        .find_map(|ext| counts.get(&format!("{stem}{ext}")).copied())
}

/// Frame data and original lengths according to pcap-parser (enhanced, simple and legacy packets).
fn independent_frames(bytes: &[u8], format: Format) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    match format {
        Format::Pcap => {
            for block in LegacyPcapSlice::from_slice(bytes).unwrap() {
                if let PcapBlockOwned::Legacy(b) = block.unwrap() {
                    out.push((b.origlen, b.data.to_vec()));
                }
            }
        }
        Format::Pcapng => {
            for block in PcapNGSlice::from_slice(bytes).unwrap() {
                match block.unwrap() {
                    PcapBlockOwned::NG(Block::EnhancedPacket(b)) => {
                        out.push((b.origlen, b.data[..b.caplen as usize].to_vec()));
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(b)) => {
                        let len = (b.origlen as usize).min(b.data.len());
                        out.push((b.origlen, b.data[..len].to_vec()));
                    }
                    _ => {}
                }
            }
        }
        Format::Har => unreachable!(),
    }
    out
}

#[test]
fn every_external_capture_matches_tshark_frame_counts() {
    let Some(root) = phonehome_testkit::testdata() else {
        return;
    };
    let external = root.join("external");
    let counts = reference_counts(&external);
    let (mut checked, mut unreferenced, mut cross_checked) = (0, Vec::new(), 0);
    for path in shared_data::walk(&external) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".pcap")
            || name.ends_with(".pcapng")
            || name.ends_with(".pcapng.gz")
            || name.ends_with(".pcap.gz"))
        {
            continue;
        }
        let rel = path
            .strip_prefix(&external)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let (got, stats) = read_all(&path);
        assert!(
            got.warnings.is_empty(),
            "{rel}: unexpected warnings {:?}",
            got.warnings
        );
        assert_eq!(
            stats.gzip,
            name.ends_with(".gz"),
            "{rel}: gzip recognised by content"
        );
        match expected(&counts, &rel) {
            Some(n) => {
                assert_eq!(stats.frames, n, "{rel}: frame count differs from tshark's");
                checked += 1;
            }
            None => unreferenced.push(rel.clone()),
        }
        // Cross-check the frame bytes with pcap-parser, on the decompressed file.
        let mut bytes = std::fs::read(&path).unwrap();
        if stats.gzip {
            let mut plain = Vec::new();
            MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .unwrap();
            bytes = plain;
        }
        assert_eq!(
            stats.bytes,
            bytes.len() as u64,
            "{rel}: whole stream consumed"
        );
        let theirs = independent_frames(&bytes, stats.format);
        let ours: Vec<(u32, Vec<u8>)> = got
            .frames
            .iter()
            .map(|(_, orig, data)| (*orig, data.clone()))
            .collect();
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{rel}: pcap-parser sees a different number of frames"
        );
        assert!(
            ours == theirs,
            "{rel}: frame bytes differ from pcap-parser's"
        );
        for (offset, _, data) in &got.frames {
            // The offset points at the record/block that holds the data.
            let at = *offset as usize;
            let window = &bytes[at..(at + 64 + data.len()).min(bytes.len())];
            assert!(
                data.is_empty() || window.windows(data.len()).any(|w| w == &data[..]),
                "{rel}: offset {offset}"
            );
        }
        cross_checked += 1;
    }
    println!("{checked} captures matched tshark's frame counts; {cross_checked} cross-checked with pcap-parser");
    // Every capture in the set has a reference: SUMMARY.tsv, evader.jsonl, or (for _derived/) its original.
    assert!(
        unreferenced.is_empty(),
        "captures without a reference count: {unreferenced:?}"
    );
    assert!(checked >= 600, "only {checked} captures found");
}

#[test]
fn decryption_secrets_blocks_are_delivered() {
    let Some(root) = phonehome_testkit::testdata() else {
        return;
    };
    let path = root.join("external/wireshark/test/captures/tls12-dsb.pcapng");
    let (got, stats) = read_all(&path);
    assert_eq!(stats.format, Format::Pcapng);
    assert_eq!(got.secrets.len(), 2, "tls12-dsb.pcapng has two DSBs");
    for (kind, data) in &got.secrets {
        assert_eq!(*kind, SECRETS_TLS_KEY_LOG);
        let text = std::str::from_utf8(data).unwrap();
        assert!(
            text.starts_with("CLIENT_RANDOM ") || text.contains("CLIENT_RANDOM "),
            "{text:.80}"
        );
    }
    // editcap's dump of the same DSBs is the concatenation of both blocks.
    let dumped =
        root.join("external/_derived/wireshark/test/captures/tls12-dsb.pcapng.dsb-keylog.txt");
    let dumped = std::fs::read(dumped).unwrap();
    let ours: Vec<u8> = got.secrets.iter().flat_map(|(_, d)| d.clone()).collect();
    let norm = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(norm(&ours), norm(&dumped));
    println!(
        "tls12-dsb.pcapng: {} secrets blocks, {} frames",
        got.secrets.len(),
        stats.frames
    );
}

#[test]
fn phone_captures_read_cleanly() {
    let Some(root) = phonehome_testkit::testdata() else {
        return;
    };
    let mut n = 0;
    for which in ["sim", "nosim"] {
        let path = root.join("phone-sim").join(which).join("capture.pcapng");
        let (got, stats) = read_all(&path);
        assert!(got.warnings.is_empty(), "{which}: {:?}", got.warnings);
        assert!(stats.frames > 10, "{which}: {} frames", stats.frames);
        n += 1;
    }
    println!("{n} phone captures read");
}
