//! Plaintext HTTP captures from Zeek's test suite give the requests tshark 4.0.17 decoded from
//! them (method, host, request-target, frame), covering pipelining, gzip, multipart,
//! 100-continue, captures without SYN and without FIN.

mod common;

use phonehome::model::Direction;
use std::path::Path;

/// Where tshark's reference has a known quirk: the file, why, and the (method, Host, target)
/// phonehome reports instead.
type Exception = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);
const EXCEPTIONS: &[Exception] = &[(
    "http-single-conn-22.pcap",
    // tshark picks dissectors by port and reads port 22 as SSH, so it lists no request; phonehome
    // recognises HTTP by content, whatever the port (the stream is `GET / HTTP/1.1`, no Host).
    "HTTP on port 22",
    &[("GET", "", "/")],
)];

/// `frame|method|host|uri` rows of the HTTP/1.x section of a tshark reference file.
fn reference(path: &Path) -> Vec<(u64, String, String, String)> {
    let text = std::fs::read_to_string(path).expect("reference readable");
    let mut rows = Vec::new();
    let mut in_h1 = false;
    for line in text.lines() {
        if line.starts_with("# HTTP/1") {
            in_h1 = true;
            continue;
        }
        if line.starts_with('#') {
            in_h1 = false;
            continue;
        }
        if !in_h1 || line.trim().is_empty() {
            continue;
        }
        let mut parts = line.splitn(4, '|');
        let frame = parts.next().and_then(|f| f.parse().ok()).expect("frame");
        let method = parts.next().unwrap_or_default().to_owned();
        let host = parts.next().unwrap_or_default().to_owned();
        let mut uri = parts.next().unwrap_or_default().to_owned();
        // Known tshark quirk: for a request line without a target (`GET HTTP/1.1`) tshark reports
        // the version as the URI. phonehome reads it as Zeek does: an empty target, version 1.1.
        if uri == "HTTP/1.1" || uri == "HTTP/1.0" {
            uri.clear();
        }
        rows.push((frame, method, host, uri));
    }
    rows
}

#[test]
fn zeek_http_traces_match_tshark() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let traces = data.join("external/zeek/testing/btest/Traces/http");
    let refs = data.join("external/_reference/zeek/testing/btest/Traces/http");
    let mut files: Vec<_> = std::fs::read_dir(&traces)
        .expect("traces")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut cases = 0;
    let mut compared_files = 0;
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let ref_file = refs.join(format!("{name}.requests.txt"));
        if !ref_file.exists() {
            continue;
        }
        let exception = EXCEPTIONS.iter().find(|(f, ..)| *f == name);
        let want = match exception {
            Some((_, _, ours)) => ours
                .iter()
                .map(|(m, h, u)| (0, m.to_string(), h.to_string(), u.to_string()))
                .collect(),
            None => reference(&ref_file),
        };
        let got = common::run(None, &[&file]);
        let summary = got.summary.as_ref().expect("summary");
        assert!(
            summary.inputs[0].error.is_none(),
            "{name}: {:?}",
            summary.inputs[0].error
        );
        let ours: Vec<(u64, String, String, String)> = got
            .messages
            .iter()
            .filter(|m| m.direction == Direction::Request)
            .map(|m| {
                (
                    m.source.frame.unwrap_or_default(),
                    m.method.clone().unwrap_or_default(),
                    m.header("host").unwrap_or_default(),
                    m.target.clone(),
                )
            })
            .collect();
        let ours_no_frame: Vec<_> = ours
            .iter()
            .map(|(_, m, h, u)| (m.clone(), h.clone(), u.clone()))
            .collect();
        let want_no_frame: Vec<_> = want
            .iter()
            .map(|(_, m, h, u)| (m.clone(), h.clone(), u.clone()))
            .collect();
        assert_eq!(
            ours_no_frame, want_no_frame,
            "{name}: requests differ from tshark's"
        );
        for ((of, ..), (wf, ..)) in ours.iter().zip(&want) {
            // tshark names the frame where the request's headers end; we name the frame that
            // completed the message (its body's last byte), never earlier.
            assert!(of >= wf, "{name}: our frame {of} before tshark's {wf}");
        }
        cases += want.len();
        compared_files += 1;
    }
    println!("zeek HTTP traces: {compared_files} files, {cases} requests match tshark");
    assert!(compared_files >= 20, "only {compared_files} files compared");
}
