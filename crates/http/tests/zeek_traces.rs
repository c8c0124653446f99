//! Real HTTP/1.x traffic: Zeek's single-connection HTTP traces, checked against what tshark
//! (`_reference/.../<file>.requests.txt`) and Zeek (`Baseline/.../http.log`) saw in them.
//!
//! The captures are read by the pipeline's own earlier stages (`phonehome-ingest` →
//! `phonehome-wire` → `phonehome-flow`, via `phonehome_testkit::read_streams`), and each TCP
//! connection's stream events are fed to [`Http1Connection`].

mod common;

use common::{parse_http1, requests, responses};
use phonehome_http::{Http1Event, HttpRequest};
use phonehome_model::Direction;
use phonehome_testkit::{read_streams, testdata};
use std::path::{Path, PathBuf};

/// Parses every TCP connection in the capture `file` (read by the pipeline's own earlier stages);
/// returns each connection's events, in the order the connections started.
fn parse_trace_connections(file: &Path) -> Vec<Vec<Http1Event>> {
    read_streams(file)
        .tcp_events()
        .iter()
        .map(|pieces| parse_http1(pieces, 0))
        .collect()
}

/// Parses the pcap `file`, which holds a single TCP connection.
fn parse_trace(file: &Path) -> Vec<Http1Event> {
    let mut conns = parse_trace_connections(file);
    assert_eq!(
        conns.len(),
        1,
        "{} holds {} connections",
        file.display(),
        conns.len()
    );
    conns.remove(0)
}

fn host(r: &HttpRequest) -> String {
    r.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("host"))
        .map(|h| String::from_utf8_lossy(&h.value).into_owned())
        .unwrap_or_default()
}

/// tshark's `frame|method|host|uri` lines for the HTTP/1.x requests of `file`.
fn tshark_requests(root: &Path, file: &str) -> Vec<String> {
    let path = root
        .join("external/_reference/zeek/testing/btest/Traces/http")
        .join(format!("{file}.requests.txt"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip_while(|l| !l.starts_with("# HTTP/1.x"))
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Zeek's http.log rows for a baseline: (method, host, uri, version, request_body_len,
/// response_body_len, status_code).
fn zeek_rows(root: &Path, baseline: &str) -> Vec<Vec<String>> {
    let path = root
        .join("external/zeek/testing/btest/Baseline")
        .join(format!("scripts.base.protocols.http.{baseline}"))
        .join("http.log");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            [7, 8, 9, 11, 14, 15, 16]
                .iter()
                .map(|&i| f[i].to_string())
                .collect()
        })
        .collect()
}

/// Traces holding one clean HTTP/1.x connection: no anomaly, every request answered.
const CLEAN_TRACES: [&str; 9] = [
    "get.pcap",
    "get-gzip.pcap",
    "x-gzip.pcap",
    "post.pcap",
    "multipart.pcap",
    "100-continue.pcap",
    "pipelined-requests.pcap",
    "missing-zlib-header.pcap",
    "no-uri.pcap",
];

/// `frame|method|host|uri` as tshark prints it, for every request in every connection, by frame.
fn request_lines(connections: &[Vec<Http1Event>]) -> Vec<String> {
    let mut lines: Vec<(u64, String)> = connections
        .iter()
        .flat_map(|events| requests(events))
        .map(|r| {
            // tshark shows the version as the URI when the target is missing; phonehome keeps an
            // empty target (as Zeek does), so map it back for the comparison.
            let uri = match (r.line.target.as_str(), r.line.version.as_str()) {
                ("", "0.9") => String::new(),
                ("", v) => format!("HTTP/{v}"),
                (t, _) => t.to_string(),
            };
            (
                r.last_frame,
                format!("{}|{}|{}|{}", r.last_frame, r.line.method, host(r), uri),
            )
        })
        .collect();
    lines.sort_by_key(|(frame, _)| *frame);
    lines.into_iter().map(|(_, l)| l).collect()
}

#[test]
fn requests_match_tshark() {
    let Some(root) = testdata() else { return };
    let dir = root.join("external/zeek/testing/btest/Traces/http");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    let mut cases = 0;
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let connections = parse_trace_connections(&path);
        let mut expected = tshark_requests(&root, &file);
        if file == "http-single-conn-22.pcap" {
            // tshark only dissects HTTP on HTTP ports; this one runs on port 22.
            assert!(expected.is_empty());
            expected = vec!["4|GET||/".to_string()];
        }
        assert_eq!(request_lines(&connections), expected, "{file}");
        cases += 1;
    }
    assert!(cases >= 20, "only {cases} traces");
    println!("checked {cases} Zeek HTTP traces against tshark's requests");
}

#[test]
fn clean_traces_pair_every_request() {
    let Some(root) = testdata() else { return };
    let dir = root.join("external/zeek/testing/btest/Traces/http");
    for file in CLEAN_TRACES {
        let events = parse_trace(&dir.join(file));
        let problems: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, Http1Event::Anomaly { .. } | Http1Event::Limit { .. }))
            .collect();
        assert!(problems.is_empty(), "{file}: {problems:?}");
        let req = requests(&events);
        let resp = responses(&events);
        assert!(!req.is_empty());
        assert_eq!(resp.len(), req.len(), "{file}");
        for (q, a) in req.iter().zip(&resp) {
            assert_eq!(a.request.as_ref(), Some(&q.line), "{file}");
            assert!(
                !a.body.truncated && !q.body.truncated,
                "{file}: truncated body"
            );
        }
    }
    println!("checked {} clean traces", CLEAN_TRACES.len());
}

#[test]
fn odd_methods_trace_reports_only_unparseable_lines() {
    let Some(root) = testdata() else { return };
    let path = root.join("external/zeek/testing/btest/Traces/http/methods.pcap");
    let connections = parse_trace_connections(&path);
    let anomalies: Vec<String> = connections
        .iter()
        .flatten()
        .filter_map(|e| match e {
            Http1Event::Anomaly {
                dir: Direction::Request,
                reason,
                ..
            } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    // Lines tshark rejects too: no space after the method, or a non-token method.
    assert_eq!(anomalies.len(), 22, "{anomalies:#?}");
    for reason in &anomalies {
        assert!(
            ["`OPTIONSHTTP/`", "/`", "`\\xc3`"]
                .iter()
                .any(|q| reason.ends_with(q)),
            "unexpected anomaly: {reason}"
        );
    }
    let methods: std::collections::BTreeSet<String> = connections
        .iter()
        .flat_map(|e| requests(e))
        .map(|r| r.line.method.clone())
        .collect();
    assert!(
        methods.contains("CCM_POST") && methods.contains("OPTIONS"),
        "{methods:?}"
    );
}

#[test]
fn upgrades_in_real_traces() {
    let Some(root) = testdata() else { return };
    let dir = root.join("external/zeek/testing/btest/Traces/http");
    for (file, status, method) in [
        ("websocket.pcap", 101, "GET"),
        ("docker-http-upgrade.pcap", 101, "POST"),
        ("connect-with-header.pcap", 200, "CONNECT"),
    ] {
        let connections = parse_trace_connections(&dir.join(file));
        let upgraded: Vec<_> = connections
            .iter()
            .filter(|events| {
                events
                    .iter()
                    .any(|e| matches!(e, Http1Event::Upgraded { status: s, .. } if *s == status))
            })
            .collect();
        assert_eq!(upgraded.len(), 1, "{file}");
        let events = upgraded[0];
        let last_request = requests(events).pop().unwrap();
        assert_eq!(last_request.line.method, method, "{file}");
        // The upgrading response is reported, paired, before the Upgraded event.
        let n = events.len();
        assert!(
            matches!(&events[n - 2], Http1Event::Response(r) if r.status == status && r.request.as_ref() == Some(&last_request.line)),
            "{file}"
        );
    }
}

#[test]
fn bodies_match_zeek() {
    let Some(root) = testdata() else { return };
    let dir = root.join("external/zeek/testing/btest/Traces/http");
    let mut cases = 0;
    for (file, baseline) in [
        ("x-gzip.pcap", "x-gzip"),
        ("100-continue.pcap", "100-continue"),
        ("pipelined-requests.pcap", "http-pipelining"),
        ("missing-zlib-header.pcap", "missing-zlib-header"),
        ("multipart.pcap", "multipart-extract"),
        ("no-uri.pcap", "no-uri"),
    ] {
        let events = parse_trace(&dir.join(file));
        let ours: Vec<Vec<String>> = requests(&events)
            .iter()
            .zip(responses(&events))
            .map(|(q, a)| {
                vec![
                    q.line.method.clone(),
                    host(q),
                    if q.line.target.is_empty() {
                        "(empty)".into()
                    } else {
                        q.line.target.clone()
                    },
                    q.line.version.clone(),
                    q.body.content().len().to_string(),
                    a.body.content().len().to_string(),
                    a.status.to_string(),
                ]
            })
            .collect();
        assert_eq!(ours, zeek_rows(&root, baseline), "{file}");
        cases += 1;
    }
    println!("checked {cases} Zeek HTTP traces against Zeek's http.log");
}

#[test]
fn gzip_bodies_decode() {
    let Some(root) = testdata() else { return };
    let dir = root.join("external/zeek/testing/btest/Traces/http");

    let events = parse_trace(&dir.join("get-gzip.pcap"));
    let resp = responses(&events);
    assert_eq!(resp.len(), 1);
    assert_eq!(resp[0].body.encodings, ["gzip"]);
    let json = String::from_utf8(resp[0].body.decoded.clone().unwrap()).unwrap();
    assert!(json.contains("\"gzipped\": true"), "{json}");
    assert!(resp[0].content_problem.is_none() && !resp[0].body.truncated);

    let events = parse_trace(&dir.join("x-gzip.pcap"));
    let resp = responses(&events);
    assert_eq!(resp[0].body.encodings, ["gzip"]);
    let content_encoding = resp[0]
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-encoding"))
        .unwrap();
    assert_eq!(content_encoding.value, b"x-gzip");
    assert!(resp[0].body.decoded.as_ref().is_some_and(|d| !d.is_empty()));
    assert!(resp[0].content_problem.is_none());

    // missing-zlib-header: `Content-Encoding: deflate` sent as raw deflate.
    let events = parse_trace(&dir.join("missing-zlib-header.pcap"));
    for resp in responses(&events) {
        assert_eq!(resp.body.encodings, ["deflate"]);
        assert_eq!(resp.body.decoded.as_ref().map(Vec::len), Some(13249));
    }

    // 100-continue: the server's 100 comes between the request headers and its body.
    let events = parse_trace(&dir.join("100-continue.pcap"));
    let interim: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Http1Event::Interim { status: 100, .. }))
        .collect();
    assert_eq!(interim.len(), 1);
    let req = requests(&events);
    assert_eq!(req[0].body.raw.len(), 2001);
    assert!(req[0].first_frame < req[0].last_frame);
    println!("checked 4 traces' content decoding");
}

#[test]
fn every_split_of_a_real_trace_agrees() {
    let Some(root) = testdata() else { return };
    let file = root.join("external/zeek/testing/btest/Traces/http/pipelined-requests.pcap");
    let whole = parse_trace(&file);
    // Re-run with each direction's stream fed a byte at a time (same frames, same order).
    let conns = read_streams(&file).tcp_events();
    assert_eq!(conns.len(), 1);
    let out = parse_http1(&conns[0], 1);
    assert_eq!(whole, out);
    assert_eq!(requests(&out).len(), 5);
}

/// HTTP-evader (Suricata's copy): 502 responses that hide the EICAR test file behind framing and
/// content-coding tricks browsers accept. Suricata finds it in all of them; phonehome cares about
/// requests, so it does not chase every response-side trick (mangled status lines, NULs in header
/// names, bare CR line ends), but it must keep finding the ones it handles today.
#[test]
fn evader_responses_keep_their_body() {
    const EICAR: &[u8] = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE";
    let Some(root) = testdata() else { return };
    let dir = root.join("external/suricata-verify/tests/http-evader");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().join("input.pcap"))
        .filter(|p| p.exists())
        .collect();
    cases.sort();
    let found = cases
        .iter()
        .filter(|pcap| {
            parse_trace_connections(pcap).iter().flatten().any(|e| {
                matches!(e, Http1Event::Response(r) if r.body.content().windows(EICAR.len()).any(|w| w == EICAR))
            })
        })
        .count();
    println!(
        "EICAR found in {found} of {} HTTP-evader responses",
        cases.len()
    );
    assert_eq!(cases.len(), 502);
    assert!(found >= 393, "only {found}");
}
