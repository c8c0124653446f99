//! Table-driven over `shared/testdata/external/_reference/`: for every capture whose tshark
//! reference lists HTTP/1 or HTTP/2 requests and that needs no keys, a key log, or the pcapng's own
//! Decryption Secrets Blocks, phonehome extracts the same requests (method, Host or `:authority`,
//! path). Captures it does not handle are listed below with the reason, never silently skipped.

mod common;

use phonehome::model::{Direction, Message, NotInspected};
use phonehome::{KeyLog, Options};
use std::collections::BTreeMap;
use std::path::Path;

/// Captures whose requests phonehome does not (yet) extract, and why.
const EXCEPTIONS: &[(&str, &str)] = &[
    // Decryption with an RSA private key or a pre-shared key is not asked for (key logs only).
    (
        "wireshark/test/captures/rsa-p-lt-q.pcap",
        "RSA private key, not a key log",
    ),
    (
        "wireshark/test/captures/rsasnakeoil2.pcap",
        "RSA private key, not a key log",
    ),
    (
        "wireshark/test/captures/tls-renegotiation.pcap",
        "RSA private key, not a key log",
    ),
    (
        "wireshark/test/captures/tls12-aes128ccm.pcap",
        "PSK, not a key log",
    ),
    (
        "wireshark/test/captures/tls12-aes256gcm.pcap",
        "PSK, not a key log",
    ),
];

/// Captures where phonehome reports requests that tshark does not list, with why and what more.
type Beyond = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);
const BEYOND_TSHARK: &[Beyond] = &[
    (
        "wireshark/test/captures/http-ooo.pcap",
        // Out-of-order segments: the reference ran tshark with its defaults, which do not reassemble
        // out of order; Wireshark's own test (suite_dissection.py, check_tcp_out_of_order, with
        // -otcp.reassemble_out_of_order:TRUE) expects these 4 requests besides PUT /4.
        "out-of-order TCP reassembly, off in tshark's defaults",
        &[
            ("PUT", "", "/1"),
            ("GET", "", "/2"),
            ("PUT", "", "/3"),
            ("PUT", "", "/5"),
        ],
    ),
    (
        "wireshark/test/captures/grpc_web.pcapng.gz",
        // Cleartext HTTP/2 (gRPC-Web) on port 57228: tshark's default run does not decode it;
        // Wireshark's own test suite (suite_dissection.py) adds `-d tcp.port==57228,http2`, and
        // then lists exactly these 8 requests. phonehome finds them by the connection preface.
        "HTTP/2 on a port tshark does not decode by default",
        &[
            ("POST", "localhost:57228", "/greet.Greeter/SayHello"),
            ("POST", "localhost:57228", "/greet.Greeter/SayHello"),
            ("POST", "localhost:57228", "/greet.Greeter/SayHello"),
            ("POST", "localhost:57228", "/greet.Greeter/SayHello"),
            ("POST", "localhost:57228", "/greet.Greeter/SayHello"),
            ("POST", "localhost:57228", "/greet.Greeter/SayHello"),
            ("POST", "localhost:57228", "/greet.Greeter/SayHellos"),
            ("POST", "localhost:57228", "/greet.Greeter/SayHellos"),
        ],
    ),
    (
        "suricata-verify/tests/http2-errorcode/input.pcap",
        // gRPC over cleartext HTTP/2 inside an HTTP/1.1 CONNECT tunnel: tshark does not look for the
        // HTTP/2 preface after CONNECT; phonehome re-detects the tunnel's protocol by content.
        "HTTP/2 inside a CONNECT tunnel",
        &[
            (
                "POST",
                "127.0.0.1:6233",
                "/helloworld.GreeterService/SayHello",
            ),
            (
                "POST",
                "127.0.0.1:6233",
                "/helloworld.GreeterService/SayHello",
            ),
        ],
    ),
];

/// (method, host, path) rows of both sections of a `*.requests.txt` file.
fn reference(path: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(path).expect("reference readable");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut p = l.splitn(4, '|');
            let _frame = p.next();
            let method = p.next().unwrap_or_default().to_owned();
            let host = p.next().unwrap_or_default().to_owned();
            let mut uri = p.next().unwrap_or_default().to_owned();
            // tshark reports the version as the URI when a request line has no target; phonehome
            // reads such a line as Zeek does (empty target).
            if uri == "HTTP/1.1" || uri == "HTTP/1.0" {
                uri.clear();
            }
            (method, host, uri)
        })
        .collect()
}

fn ours(messages: &[Message]) -> Vec<(String, String, String)> {
    messages
        .iter()
        .filter(|m| m.direction == Direction::Request && m.transport.http.is_some())
        .map(|m| {
            let host = if m.transport.http.as_deref() == Some("2") {
                m.host.clone().unwrap_or_default()
            } else {
                m.header("host").unwrap_or_default()
            };
            (m.method.clone().unwrap_or_default(), host, m.target.clone())
        })
        .collect()
}

fn keylog(paths: &[&Path]) -> KeyLog {
    let mut keys = KeyLog::new();
    for p in paths {
        let text = std::fs::read_to_string(p).expect("key log readable");
        let problems = keys.add_text(&text);
        assert!(problems.is_empty(), "{}: {problems:?}", p.display());
    }
    keys
}

#[test]
fn every_reference_capture_gives_tsharks_requests() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let external = data.join("external");
    let summary =
        std::fs::read_to_string(external.join("_reference/SUMMARY.tsv")).expect("summary");
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (file_col, keys_col, h1_col, h2_col) = (
        col("file"),
        col("keys_used"),
        col("http1_req"),
        col("http2_req"),
    );
    let mut checked = 0;
    let mut requests = 0;
    let mut excepted = 0;
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let count = |c: usize| f.get(c).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        if count(h1_col) + count(h2_col) == 0 {
            continue;
        }
        let file = f[file_col];
        if let Some((_, why)) = EXCEPTIONS.iter().find(|(e, _)| *e == file) {
            println!("exception: {file}: {why}");
            excepted += 1;
            continue;
        }
        let keys = f.get(keys_col).copied().unwrap_or("");
        let keylog = if keys.is_empty() || keys.starts_with("(none") {
            KeyLog::new()
        } else {
            let paths: Vec<_> = keys.split_whitespace().map(|k| external.join(k)).collect();
            keylog(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>())
        };
        let got = common::run_with(
            Options {
                keylog,
                ..Options::default()
            },
            &[&external.join(file)],
        );
        let mut want = reference(&external.join(format!("_reference/{file}.requests.txt")));
        if let Some((_, why, more)) = BEYOND_TSHARK.iter().find(|(f, ..)| *f == file) {
            println!("beyond tshark: {file}: {why}");
            want.extend(
                more.iter()
                    .map(|(m, h, p)| (m.to_string(), h.to_string(), p.to_string())),
            );
        }
        let mut have = ours(&got.messages);
        want.sort();
        have.sort();
        assert_eq!(have, want, "{file}: requests differ from tshark's");
        checked += 1;
        requests += want.len();
    }
    println!("{checked} reference captures, {requests} requests match tshark; {excepted} listed exceptions");
    assert!(checked >= 60, "only {checked} captures checked");
}

#[test]
fn nosecrets_controls_decrypt_nothing_and_account_for_every_tls_flow() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let dir = data.join("external/_derived/wireshark/test/captures");
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).expect("derived dir").flatten() {
        let path = entry.path();
        if !path.to_string_lossy().ends_with(".nosecrets.pcapng") {
            continue;
        }
        let got = common::run(None, &[&path]);
        let decrypted = got
            .messages
            .iter()
            .filter(|m| m.transport.tls.is_some())
            .count();
        assert_eq!(decrypted, 0, "{}: decrypted without keys", path.display());
        let tls_flows: Vec<_> = got
            .flows
            .iter()
            .filter(|f| f.app.as_deref() == Some("tls") || f.sni.is_some())
            .collect();
        assert!(!tls_flows.is_empty(), "{}: no TLS flow", path.display());
        for f in tls_flows {
            assert_eq!(
                f.reason,
                Some(NotInspected::NoKey),
                "{}: {f:?}",
                path.display()
            );
            assert!(!f.inspected);
        }
        cases += 1;
    }
    println!("{cases} no-secrets controls checked");
    assert!(cases >= 3);
}

#[test]
fn http_evader_captures_decode_eicar_wherever_tshark_does() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let external = data.join("external");
    let listing =
        std::fs::read_to_string(external.join("_reference/evader_eicar.txt")).expect("evader list");
    let mut tshark_found = 0;
    let mut we_found = 0;
    let mut files = 0;
    let mut missed = Vec::new();
    for line in listing.lines() {
        let mut parts = line.split('|');
        let file = parts.next().expect("file");
        let tshark = parts.next().is_some_and(|p| p == "eicar_in_decoded_body=1");
        let got = common::run(None, &[&external.join(file)]);
        assert!(
            got.summary
                .as_ref()
                .is_some_and(|s| s.inputs[0].error.is_none()),
            "{file}"
        );
        let found = got.messages.iter().any(|m| {
            m.direction == Direction::Response
                && memchr_find(m.body.content(), b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE")
        });
        files += 1;
        tshark_found += usize::from(tshark);
        we_found += usize::from(found);
        if tshark && !found {
            missed.push(file.to_owned());
        }
    }
    println!("HTTP evader: {files} captures, EICAR decoded in {we_found} (tshark: {tshark_found})");
    assert!(
        missed.is_empty(),
        "EICAR found by tshark but not by phonehome in: {missed:#?}"
    );
    assert_eq!(files, 502);
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn quic_initials_give_their_snis_without_keys() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let external = data.join("external");
    let main = std::fs::read_to_string(external.join("_reference/main.jsonl")).expect("main.jsonl");
    let mut checked = 0;
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in main.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let file = v["file"].as_str().unwrap_or_default().to_owned();
        let quic = v["quic_packets"].as_u64().unwrap_or(0);
        let is_quic_capture =
            file.contains("/quic") || file.contains("quic-") || file.contains("illustrated-quic");
        if quic == 0 || !is_quic_capture {
            continue;
        }
        let snis: Vec<String> = v["tls_sni"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect();
        by_file.insert(file, snis);
    }
    for (file, want) in &by_file {
        let got = common::run(None, &[&external.join(file)]);
        let mut ours: Vec<String> = got.flows.iter().filter_map(|f| f.sni.clone()).collect();
        ours.sort();
        ours.dedup();
        let mut want = want.clone();
        want.sort();
        want.dedup();
        assert_eq!(ours, want, "{file}: QUIC SNIs differ from tshark's");
        checked += 1;
    }
    println!("{checked} QUIC captures give tshark's SNIs");
    assert!(checked >= 5, "only {checked}");
}
