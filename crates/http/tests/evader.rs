//! The HTTP-evader captures (Suricata's `tests/http-evader`, from noxxi.de's HTTP Evader): 502
//! responses that each carry the EICAR test file behind some framing or encoding trick. Read by
//! the pipeline's own earlier stages (`phonehome-ingest` → `phonehome-wire` → `phonehome-flow`),
//! parsed by [`Http1Connection`], and compared with what tshark 4.0.17 found in the decoded bodies
//! (`_reference/evader_eicar.txt`). Then each leniency those captures called for, on byte
//! literals: malformed status lines, bare CR line ends, NULs around codings, bodies on 1xx/204/304
//! responses, and lines of CRs in a header section.

mod common;

use common::{gzip, parse_http1 as parse, responses};
use phonehome_http::{Http1Connection, Http1Event, Http1Limits};
use phonehome_model::Direction::{self, Request as C, Response as S};
use phonehome_testkit::{read_streams, testdata};
use std::path::{Path, PathBuf};

/// The EICAR anti-virus test string, the file every evader response delivers.
const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// Whether some response body of `events`, once decoded, holds the EICAR string.
fn has_eicar(events: &[Http1Event]) -> bool {
    events.iter().any(|e| match e {
        Http1Event::Response(r) => memchr::memmem::find(r.body.content(), EICAR).is_some(),
        _ => false,
    })
}

/// `(case number, whether tshark found EICAR)` for each line of `evader_eicar.txt`
/// (`suricata-verify/tests/http-evader/http-evader-NNN/input.pcap|eicar_in_decoded_body=1|…`).
fn reference(text: &str) -> Vec<(String, bool)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut cols = line.split('|');
            let path = cols.next().unwrap();
            let case = path
                .split('/')
                .find_map(|p| p.strip_prefix("http-evader-"))
                .unwrap()
                .to_string();
            let found = cols
                .find_map(|c| c.strip_prefix("eicar_in_decoded_body="))
                .unwrap();
            (case, found == "1")
        })
        .collect()
}

/// Captures where tshark finds EICAR and we, deliberately, do not (with why). None so far.
///
/// Note that `evader_eicar.txt` counts a capture when its body holds part of the string (as
/// Suricata's rules do, `EICAR-STANDARD-ANTIVIRUS-TEST-FILE`): in 410 and 413 tshark's own body
/// starts at a bare CR and stops 2 and 4 bytes short of the whole string. This test asks for the
/// whole string.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// Captures where the parser found EICAR when this test was written (393 before the leniencies
/// for malformed status lines, bare CRs, NULs, bodies on bodiless statuses and lines of CRs).
const FOUND_AT_LEAST: usize = 453;

/// Every evader capture's case name and whether tshark found EICAR in it.
fn evader_cases(external: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(external.join("_reference/evader_eicar.txt")).unwrap();
    let cases = reference(&text);
    assert_eq!(
        cases.len(),
        502,
        "evader_eicar.txt should list 502 captures"
    );
    cases
}

/// The path of evader capture `case` (`"048"`) under `external`.
fn evader_capture(external: &Path, case: &str) -> PathBuf {
    external.join(format!(
        "suricata-verify/tests/http-evader/http-evader-{case}/input.pcap"
    ))
}

#[test]
fn evader_eicar_wherever_tshark_finds_it() {
    let Some(root) = testdata() else { return };
    let external = root.join("external");
    let cases = evader_cases(&external);
    let (mut ours, mut theirs) = (0, 0);
    let mut missed = Vec::new();
    let mut only_ours = Vec::new();
    for (case, tshark) in &cases {
        let found = read_streams(&evader_capture(&external, case))
            .tcp_events()
            .iter()
            .any(|c| has_eicar(&parse(c, 0)));
        ours += usize::from(found);
        theirs += usize::from(*tshark);
        if *tshark && !found && !EXCEPTIONS.iter().any(|(c, _)| c == case) {
            missed.push(case.as_str());
        }
        if found && !tshark {
            only_ours.push(case.as_str());
        }
    }
    println!(
        "{} evader captures: EICAR found in {ours} by us, {theirs} by tshark; {} only by us",
        cases.len(),
        only_ours.len()
    );
    assert!(
        missed.is_empty(),
        "tshark finds EICAR, we do not: {missed:?}"
    );
    assert!(
        ours >= FOUND_AT_LEAST,
        "EICAR found in only {ours} captures (was {FOUND_AT_LEAST})"
    );
}

/// The captures parse alike whether each TCP payload is fed whole, a byte at a time or in 7-byte
/// pieces: the leniencies that look ahead (a 204's body, a line of CRs) keep events independent of
/// segmentation.
#[test]
fn evader_captures_split_alike() {
    let Some(root) = testdata() else { return };
    let external = root.join("external");
    let mut compared = 0;
    for (case, _) in evader_cases(&external) {
        for conn in read_streams(&evader_capture(&external, &case)).tcp_events() {
            let whole = parse(&conn, 0);
            for chunk in [1, 7] {
                assert_eq!(
                    whole,
                    parse(&conn, chunk),
                    "capture {case}, {chunk}-byte pieces"
                );
            }
            compared += 1;
        }
    }
    println!("{compared} evader connections parse alike whatever the split");
    assert!(compared >= 502, "{compared}");
}

/// Runs one connection's `steps` (direction, bytes; each its own frame), then ends both
/// directions; checks that feeding every step in pieces of 1, 2, 3 and 7 bytes gives the same
/// events, and returns them.
fn run(steps: &[(Direction, &[u8])]) -> Vec<Http1Event> {
    let go = |piece: usize| {
        let mut conn = Http1Connection::new(Http1Limits::default());
        let mut out = Vec::new();
        for (i, (dir, bytes)) in steps.iter().enumerate() {
            let frame = i as u64 + 1;
            if piece == 0 {
                conn.feed(*dir, bytes, frame, &mut out);
            } else {
                for part in bytes.chunks(piece) {
                    conn.feed(*dir, part, frame, &mut out);
                }
            }
        }
        let last = steps.len() as u64 + 1;
        conn.end(C, last, &mut out);
        conn.end(S, last, &mut out);
        out
    };
    let whole = go(0);
    for piece in [1, 2, 3, 7] {
        assert_eq!(whole, go(piece), "{piece}-byte pieces");
    }
    whole
}

fn anomalies(events: &[Http1Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            Http1Event::Anomaly { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect()
}

const GET: &[u8] = b"GET /eicar.txt HTTP/1.1\r\nHost: evader.example.com\r\n\r\n";
const CHUNKED_EICAR: &[u8] = b"5\r\nX5O!P\r\n3f\r\n%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\r\n0\r\n\r\n";

/// `version`, `status` and the decoded body of the single response to [`GET`].
fn one_response(server: &[u8]) -> (String, u16, Vec<u8>, Vec<String>) {
    let ev = run(&[(C, GET), (S, server)]);
    let resp = responses(&ev);
    assert_eq!(resp.len(), 1, "{ev:?}");
    let r = resp[0];
    assert_eq!(r.request.as_ref().unwrap().target, "/eicar.txt");
    let problems = anomalies(&ev).iter().map(|a| a.to_string()).collect();
    (
        r.version.clone(),
        r.status,
        r.body.content().to_vec(),
        problems,
    )
}

#[test]
fn malformed_status_lines_are_read_like_browsers() {
    for (line, version, status) in [
        (&b"HTTP/2.0 200 ok"[..], "2.0", 200),
        (b"HTTP/1.01 200 ok", "1.01", 200),
        (b"HTTP/0.9 200 ok", "0.9", 200),
        (b"HTTP/1.1\t 200 ok", "1.1", 200),
        (b"HTTP/1.1\x00200\x00ok", "1.1", 200),
        (b"HTTP/1.1\x0b200\x0bok", "1.1", 200),
        (b"HTTP/1.1", "1.1", 200),
        (b"HTTP/1.1foobar", "1.1foobar", 200),
        (b"HTTP/1.1 2xx ok", "1.1", 2),
        (b"HTTP/1.1 0200 ok", "1.1", 200),
        (b"HTTP/1.1 2000 ok", "1.1", 2000),
    ] {
        let mut server = line.to_vec();
        server.extend_from_slice(b"\r\nTransfer-Encoding: chunked\r\n\r\n");
        server.extend_from_slice(CHUNKED_EICAR);
        let shown = line.escape_ascii().to_string();
        let (v, s, body, problems) = one_response(&server);
        assert_eq!((v.as_str(), s), (version, status), "{shown}");
        assert_eq!(body, EICAR, "{shown}");
        assert!(
            problems.iter().any(|p| p.contains("malformed status line")),
            "{shown}: {problems:?}"
        );
    }
    // A well-formed line is no anomaly; a line that does not start with `HTTP/` is not a response.
    let (_, _, _, problems) = one_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert!(problems.is_empty(), "{problems:?}");
    let ev = run(&[
        (C, GET),
        (S, b"HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ]);
    assert!(responses(&ev).is_empty(), "{ev:?}");
    // Resynchronising after garbage still wants `HTTP/1.` and a 3-digit status.
    let ev = run(&[
        (C, GET),
        (C, GET),
        (C, GET),
        (
            S,
            b"garbage\r\nHTTP/2.0 200 ok\r\nContent-Length: 1\r\n\r\nx\r\nHTTP/1.1 204 No\r\n\r\n",
        ),
    ]);
    let statuses: Vec<u16> = responses(&ev).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [204], "{ev:?}");
}

#[test]
fn bare_cr_ends_header_lines() {
    let mut server = b"HTTP/1.1 200 ok\rContent-type: application/octet-stream\rContent-disposition: attachment; filename=\"eicar.txt\"\rTransfer-Encoding: chunked\r\n\r\n".to_vec();
    server.extend_from_slice(CHUNKED_EICAR);
    let (v, s, body, problems) = one_response(&server);
    assert_eq!((v.as_str(), s, body.as_slice()), ("1.1", 200, EICAR));
    assert!(
        problems.iter().any(|p| p.contains("3 bare CR")),
        "{problems:?}"
    );
    // Inside a line, and with the status line ending in a bare CR and nothing else.
    for head in [
        &b"HTTP/1.1 200 ok\r\nX-Name: \"eicar.txt\"\rTransfer-Encoding: chunked\r\n\r\n"[..],
        b"HTTP/1.1\rTransfer-Encoding:chunked\r\nConnection: close\r\n\r\n",
        b"HTTP/1.1 200 ok\r\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let server = [head, CHUNKED_EICAR].concat();
        let (_, s, body, _) = one_response(&server);
        assert_eq!(
            (s, body.as_slice()),
            (200, EICAR),
            "{}",
            head.escape_ascii()
        );
    }
    // A CR before a space or tab is folding whitespace, not a line end.
    let server = [
        &b"HTTP/1.1 200 ok\r\nTransfer-Encoding\r :chunked\r\n\r\n"[..],
        CHUNKED_EICAR,
    ]
    .concat();
    let ev = run(&[(C, GET), (S, &server)]);
    let r = responses(&ev)[0];
    assert_eq!(r.headers.last().unwrap().name, "Transfer-Encoding");
    assert_eq!(r.body.content(), EICAR);
}

#[test]
fn nul_around_a_coding_does_not_hide_it() {
    let gz = gzip(EICAR);
    for field in [&b"Content-Encoding:gzip\0"[..], b"Content-Encoding: \0gzip"] {
        let mut server = b"HTTP/1.1 200 ok\r\n".to_vec();
        server.extend_from_slice(field);
        server.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", gz.len()).as_bytes());
        server.extend_from_slice(&gz);
        let ev = run(&[(C, GET), (S, &server)]);
        let r = responses(&ev)[0];
        assert_eq!(r.body.content(), EICAR, "{}", field.escape_ascii());
        assert_eq!(r.body.raw, gz);
        // The field itself is kept as sent.
        assert!(r.headers.iter().any(|h| h.value.contains(&0)));
    }
    let server = [
        &b"HTTP/1.1 200 ok\r\nTransfer-Encoding:\0chunked\r\n\r\n"[..],
        CHUNKED_EICAR,
    ]
    .concat();
    assert_eq!(one_response(&server).2, EICAR);
    // A NUL inside a coding name still breaks it: the raw body is kept.
    let mut server = b"HTTP/1.1 200 ok\r\nContent-Encoding: gz\0ip\r\n".to_vec();
    server.extend_from_slice(format!("Content-Length: {}\r\n\r\n", gz.len()).as_bytes());
    server.extend_from_slice(&gz);
    let ev = run(&[(C, GET), (S, &server)]);
    assert_eq!(responses(&ev)[0].body.content(), gz);
}

#[test]
fn bodies_on_bodiless_statuses_are_read_when_sent() {
    for status in [&b"100"[..], b"101", b"102", b"204", b"304", b"0204"] {
        let mut server = b"HTTP/1.1 ".to_vec();
        server.extend_from_slice(status);
        server.extend_from_slice(b" ok\r\nConnection: close\r\nContent-length: 68\r\n\r\n");
        server.extend_from_slice(EICAR);
        let shown = String::from_utf8_lossy(status);
        let (_, _, body, problems) = one_response(&server);
        assert_eq!(body, EICAR, "{shown}");
        assert!(
            problems.iter().any(|p| p.contains("carries a body")),
            "{shown}: {problems:?}"
        );
    }
    // Chunked, arriving in its own frame.
    let ev = run(&[
        (C, GET),
        (
            S,
            b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
        (S, CHUNKED_EICAR),
    ]);
    let r = responses(&ev)[0];
    assert_eq!((r.status, r.body.content(), r.last_frame), (204, EICAR, 3));
}

/// Real servers announce a cached entity's length on a 304 and send no body: the next response
/// (or a line end, or the end of the stream) shows there is none.
#[test]
fn announced_lengths_on_bodiless_statuses_are_not_bodies() {
    let ev = run(&[
        (C, b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n"),
        (S, b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n"),
        (
            S,
            b"http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\r\nHTTP/1.1 204 No\r\nContent-Length: 9\r\n\r\n",
        ),
    ]);
    assert!(anomalies(&ev).is_empty(), "{:?}", anomalies(&ev));
    let got: Vec<_> = ev
        .iter()
        .map(|e| match e {
            Http1Event::Request(r) => format!("req {}", r.line.target),
            Http1Event::Response(r) => format!(
                "resp {} {} {:?} frames {}-{}",
                r.status,
                r.request.as_ref().unwrap().target,
                String::from_utf8_lossy(&r.body.raw),
                r.first_frame,
                r.last_frame
            ),
            Http1Event::Interim { status, frame } => format!("interim {status} frame {frame}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            "req /a",
            "req /b",
            "req /c",
            "resp 304 /a \"\" frames 2-2",
            "interim 100 frame 3",
            "resp 200 /b \"ok\" frames 4-4",
            "resp 204 /c \"\" frames 4-4",
        ]
    );
    // The next response's first bytes held while deciding keep their frame.
    let ev = run(&[
        (C, b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
        (
            S,
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\nHTT",
        ),
        (S, b"P/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    let frames: Vec<_> = responses(&ev)
        .iter()
        .map(|r| (r.status, r.first_frame, r.last_frame))
        .collect();
    assert_eq!(frames, [(304, 2, 2), (200, 2, 3)]);
    // Lost bytes after it: the status is taken at its word, and the next status line found.
    let mut conn = Http1Connection::new(Http1Limits::default());
    let mut out = Vec::new();
    conn.feed(C, GET, 1, &mut out);
    conn.feed(
        S,
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\nHT",
        2,
        &mut out,
    );
    conn.gap(S, 100, 3, &mut out);
    conn.feed(
        S,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        4,
        &mut out,
    );
    let statuses: Vec<_> = responses(&out)
        .iter()
        .map(|r| (r.status, r.body.raw.len()))
        .collect();
    assert_eq!(statuses, [(304, 0), (200, 0)], "{out:?}");
    // A HEAD response never has a body.
    let ev = run(&[
        (C, b"HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
        (
            S,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 204 No\r\n\r\n",
        ),
    ]);
    let statuses: Vec<_> = responses(&ev).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 204]);
}

#[test]
fn lines_of_crs_in_a_header_section() {
    let head = b"HTTP/1.1 200 ok\r\nConnection: close\r\nContent-length: 68\n";
    // `\r\r\n` then an empty line: browsers end the section at the empty line.
    let (_, _, body, problems) = one_response(&[&head[..], b"\r\r\n\r\n", EICAR].concat());
    assert_eq!(body, EICAR);
    assert!(problems.is_empty(), "{problems:?}");
    // `\r\r\n` then field lines: browsers skip it and read on.
    let server = [
        &b"HTTP/1.1 200 ok\r\n\r\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
        CHUNKED_EICAR,
    ]
    .concat();
    assert_eq!(one_response(&server).2, EICAR);
    // `\r\r\n` then the body, and the stream ends: the section ended at that line (tshark).
    let (_, _, body, problems) = one_response(&[&head[..], b"\r\r\n", EICAR].concat());
    assert_eq!(body, EICAR);
    assert!(
        problems.iter().any(|p| p.contains("line of CRs")),
        "{problems:?}"
    );
    // Without such a line, a stream that ends inside a header section has no body.
    let ev = run(&[(C, GET), (S, &[&head[..], EICAR].concat())]);
    let r = responses(&ev)[0];
    assert!(r.body.raw.is_empty() && r.body.truncated, "{r:?}");
}

/// Hostile shapes of the new leniencies stay bounded and never panic.
#[test]
fn lenient_paths_stay_bounded() {
    // Ten thousand 304s with announced lengths in one call: each decided by the next one's first
    // bytes, without nesting.
    let mut server = Vec::new();
    let mut client = Vec::new();
    for _ in 0..10_000 {
        client.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        server.extend_from_slice(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
    }
    let mut conn = Http1Connection::new(Http1Limits::default());
    let mut out = Vec::new();
    conn.feed(C, &client, 1, &mut out);
    conn.feed(S, &server, 2, &mut out);
    conn.end(S, 3, &mut out);
    assert_eq!(responses(&out).len(), 10_000);
    assert!(responses(&out).iter().all(|r| r.body.raw.is_empty()));

    // A header section of bare CRs and of `\r\r\n` lines, cut by the header cap or the stream end.
    let limits = Http1Limits {
        max_header_bytes: 1024,
        ..Http1Limits::default()
    };
    for filler in [&b"\r"[..], b"\r\r\n", b"a\r", b"\r \r\t"] {
        let mut server = b"HTTP/1.1 200 OK\r\n".to_vec();
        for _ in 0..2000 {
            server.extend_from_slice(filler);
        }
        for end in [false, true] {
            let mut conn = Http1Connection::new(limits.clone());
            let mut out = Vec::new();
            conn.feed(C, GET, 1, &mut out);
            conn.feed(S, &server, 2, &mut out);
            if end {
                conn.end(S, 3, &mut out);
            }
            for r in responses(&out) {
                assert!(r.headers.len() <= limits.max_headers);
            }
        }
    }

    // Malformed status lines of every length, and lone prefixes of `HTTP/`.
    for server in [
        &b"HTTP/"[..],
        b"HTTP/\r\n\r\n",
        b"HTTP/\0\0\0\0\r\n\r\n",
        b"HTTP/1.1 99999999999999999999999999\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 204 No\r\nContent-Length: 99999999999999999999999\r\n\r\nbody",
        b"HTTP/1.1 204 No\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\nHT",
    ] {
        run(&[(C, GET), (S, server)]);
    }
}
