//! Hostile and broken input: every capture under the shared data is read without an error, and
//! truncated or corrupted captures never panic and keep what is readable.

mod common;

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
            if name.ends_with(".pcap")
                || name.ends_with(".pcapng")
                || name.ends_with(".pcap.gz")
                || name.ends_with(".pcapng.gz")
            {
                out.push(p);
            }
        }
    }
}

#[test]
fn every_shared_capture_is_read() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let mut files = Vec::new();
    walk(&data.join("external"), &mut files);
    walk(&data.join("phone-sim"), &mut files);
    files.sort();
    let mut messages = 0;
    for f in &files {
        let got = common::run(None, &[f]);
        let summary = got.summary.expect("summary");
        assert!(
            summary.inputs[0].error.is_none(),
            "{}: {:?}",
            f.display(),
            summary.inputs[0].error
        );
        messages += summary.counts.messages;
    }
    println!("{} shared captures read, {messages} messages", files.len());
    assert!(files.len() > 50);
}

/// A small deterministic generator, so the corruptions are the same on every run.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[test]
fn truncated_and_corrupted_samples_never_panic() {
    let sample =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/sample.pcapng"))
            .expect("sample");
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/phone.toml");
    let dir = std::env::temp_dir().join(format!("phonehome-robust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let mut rng = SplitMix(7);
    let mut cases = 0;
    for i in 0..40 {
        let mut bytes = sample.clone();
        if i % 2 == 0 {
            let cut = (rng.next() % bytes.len() as u64) as usize;
            bytes.truncate(cut.max(1));
        } else {
            for _ in 0..(1 + rng.next() % 16) {
                let at = (rng.next() % bytes.len() as u64) as usize;
                bytes[at] = rng.next() as u8;
            }
        }
        let path = dir.join(format!("case{i}.pcapng"));
        std::fs::write(&path, &bytes).expect("write");
        let got = common::run(Some(&profile), &[&path]);
        assert!(got.summary.is_some());
        cases += 1;
    }
    println!("{cases} corrupted samples analysed without panic");
}
