//! The phone-sim captures (TLS 1.3 + HTTP/2, TLS 1.2 + HTTP/1.1 and plaintext, decrypted with
//! their key logs) against their ground truth, location included: every expected (host, kind) is
//! found, nothing else is (closed world), and forbidden kinds (decoys) never are.
//!
//! The captures are read into messages by the `phonehome` pipeline (run without a profile, so it
//! detects nothing itself); this crate's [`detect_message`] does the detection.

use phonehome::model::{Direction, Finding, FlowRecord, Message, Summary, Warning};
use phonehome::{Analyzer, KeyLog, Options, Report};
use phonehome_decode::DecodeLimits;
use phonehome_detect::{detect_message, Detector, Profile};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Keeps the request messages a run builds.
#[derive(Default)]
struct Requests(Vec<Message>);

impl Report for Requests {
    fn message(&mut self, message: &Message) -> std::io::Result<()> {
        if message.direction == Direction::Request {
            self.0.push(message.clone());
        }
        Ok(())
    }
    fn flow(&mut self, _: &FlowRecord) -> std::io::Result<()> {
        Ok(())
    }
    fn warning(&mut self, _: &Warning) -> std::io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &[Finding], _: &Summary) -> std::io::Result<()> {
        Ok(())
    }
}

fn requests(dir: &Path) -> Vec<Message> {
    let mut keylog = KeyLog::new();
    let problems = keylog.add_text(&std::fs::read_to_string(dir.join("keys.log")).unwrap());
    assert!(problems.is_empty(), "{problems:?}");
    let mut analyzer = Analyzer::new(Options {
        keylog,
        ..Options::default()
    });
    let mut out = Requests::default();
    let capture = dir.join("capture.pcapng");
    let input = analyzer.analyze_file(&capture, capture.display().to_string().into(), &mut out);
    assert!(input.error.is_none(), "{:?}", input.error);
    out.0
}

fn kinds(row: &Value, key: &str) -> BTreeSet<String> {
    row[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

#[test]
fn pcapng_truth_with_key_logs_location_included() {
    let Some(root) = phonehome_testkit::phone_sim("") else {
        return;
    };
    let mut cases = 0;
    for run in ["sim", "nosim"] {
        let dir = root.join(run);
        let (profile, warnings) =
            Profile::parse(&std::fs::read_to_string(dir.join("device.toml")).unwrap()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let detector = Detector::new(&profile);
        let truth: Value =
            serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
        let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut location_hits = Vec::new();
        for msg in requests(&dir) {
            let (hits, report) = detect_message(&msg, &detector, &DecodeLimits::default());
            assert!(report.limits_hit.is_empty(), "{:?}", report.limits_hit);
            let host = msg.host.clone().unwrap_or_default().to_ascii_lowercase();
            for h in hits {
                if h.hit.kind == "location" {
                    location_hits.push((host.clone(), h.clone()));
                }
                found.entry(host.clone()).or_default().insert(h.hit.kind);
            }
        }
        for row in truth.as_array().unwrap() {
            let host = row["host"].as_str().unwrap();
            let got = found.get(host).cloned().unwrap_or_default();
            for kind in kinds(row, "expect") {
                assert!(
                    got.contains(&kind),
                    "{run} {host}: {kind} not found in {got:?}"
                );
                cases += 1;
            }
            for kind in kinds(row, "forbid") {
                assert!(!got.contains(&kind), "{run} {host}: forbidden {kind} found");
                cases += 1;
            }
        }
        for (host, got) in &found {
            let row = truth
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["host"].as_str() == Some(host));
            let expect = row.map(|r| kinds(r, "expect")).unwrap_or_default();
            for kind in got {
                assert!(
                    expect.contains(kind),
                    "{run} {host}: {kind} is not in the truth"
                );
                cases += 1;
            }
        }
        // log.tbs.qq.com sends the point rounded to 5 decimals in a gzip JSON body.
        assert_eq!(location_hits.len(), 1, "{location_hits:?}");
        let (host, h) = &location_hits[0];
        assert_eq!(host, "log.tbs.qq.com");
        assert_eq!(
            (h.hit.form.as_str(), h.hit.decimals, h.hit.preimage.as_str()),
            ("rounded", Some(5), "51.50735,-0.12776")
        );
        assert_eq!(h.chain.last().map(String::as_str), Some("json:$.lat"));
    }
    println!("phone-sim pcapng with key logs: {cases} expectation cases checked");
    assert!(cases >= 30);
}
