//! Real cleartext HTTP/2 captures (Suricata's and Wireshark's test traces), read by the pipeline's
//! own earlier stages (`phonehome-ingest` → `phonehome-wire` → `phonehome-flow`) and checked
//! against what tshark saw in them (`_reference/<capture>.requests.txt`).
//!
//! Per TCP connection the client stream picks the parser: the HTTP/2 preface → [`Http2Connection`];
//! an HTTP/1.x request line → [`Http1Connection`], switching to
//! [`Http2Connection::after_h2c_upgrade`] on `101` to `Upgrade: h2c`; anything else → an
//! [`Http2Connection`] that starts without the preface (tshark's "decode as HTTP/2" captures,
//! which join connections mid-way).

use phonehome_http::{
    detect_h2_preface, detect_http1, Http1Connection, Http1Event, Http1Limits, Http2Connection,
    Http2Event, Http2Limits, HttpRequest, HttpResponse,
};
use phonehome_model::Direction;
use phonehome_testkit::{external, read_streams, StreamEvent as Piece};

/// What one connection gave.
#[derive(Debug, Default)]
struct Decoded {
    h2_requests: Vec<HttpRequest>,
    h2_responses: Vec<HttpResponse>,
    h1_requests: Vec<HttpRequest>,
    anomalies: Vec<String>,
    limits: Vec<String>,
    /// The client stream started with the HTTP/2 preface.
    preface: bool,
    /// HTTP/1.1 upgraded to h2c.
    h2c: bool,
}

impl Decoded {
    fn h2(&mut self, events: Vec<Http2Event>) {
        for e in events {
            match e {
                Http2Event::Request(r) => self.h2_requests.push(r),
                Http2Event::Response(r) => self.h2_responses.push(r),
                Http2Event::Anomaly { reason, .. } => self.anomalies.push(reason),
                Http2Event::Limit { reason, .. } => self.limits.push(reason),
            }
        }
    }
}

enum Parser {
    H1(Box<Http1Connection>),
    H2(Box<Http2Connection>),
}

/// Runs one connection through the parser its client stream calls for; `chunk` splits every
/// piece of data further (0: as delivered).
fn decode(pieces: &[Piece], chunk: usize) -> Decoded {
    let mut out = Decoded::default();
    let client: Vec<u8> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Data(Direction::Request, d, _) => Some(d.as_slice()),
            _ => None,
        })
        .flatten()
        .take(64)
        .copied()
        .collect();
    out.preface = detect_h2_preface(&client) == Some(true);
    let mut parser = if out.preface || detect_http1(&client) != Some(true) {
        Parser::H2(Box::new(Http2Connection::new(Http2Limits::default())))
    } else {
        Parser::H1(Box::new(Http1Connection::new(Http1Limits::default())))
    };
    let mut last_request = None;
    for piece in pieces {
        match (&mut parser, piece) {
            (Parser::H2(c), Piece::Data(dir, data, frame)) => {
                let mut ev = Vec::new();
                if chunk == 0 {
                    c.feed(*dir, data, *frame, &mut ev);
                } else {
                    for part in data.chunks(chunk) {
                        c.feed(*dir, part, *frame, &mut ev);
                    }
                }
                out.h2(ev);
            }
            (Parser::H2(c), Piece::Gap(dir, len, frame)) => {
                let mut ev = Vec::new();
                c.gap(*dir, *len, *frame, &mut ev);
                out.h2(ev);
            }
            (Parser::H2(c), Piece::End(dir, frame)) => {
                let mut ev = Vec::new();
                c.end(*dir, *frame, &mut ev);
                out.h2(ev);
            }
            (Parser::H1(c), piece) => {
                let mut ev = Vec::new();
                match piece {
                    Piece::Data(dir, data, frame) => c.feed(*dir, data, *frame, &mut ev),
                    Piece::Gap(dir, len, frame) => c.gap(*dir, *len, *frame, &mut ev),
                    Piece::End(dir, frame) => c.end(*dir, *frame, &mut ev),
                }
                let mut upgrade = None;
                for e in ev {
                    match e {
                        Http1Event::Request(r) => {
                            last_request = Some((r.line.clone(), r.headers.clone()));
                            out.h1_requests.push(r);
                        }
                        Http1Event::Upgraded {
                            status,
                            client_rest,
                            server_rest,
                            frame,
                        } => upgrade = Some((status, client_rest, server_rest, frame)),
                        _ => {}
                    }
                }
                if let Some((status, client_rest, server_rest, frame)) = upgrade {
                    let (line, headers) = last_request.take().unwrap();
                    let mut h2 = if status == 101 {
                        out.h2c = true;
                        Http2Connection::after_h2c_upgrade(Http2Limits::default(), line, headers)
                    } else {
                        // A CONNECT tunnel: a new connection starts inside it.
                        Http2Connection::new(Http2Limits::default())
                    };
                    let mut ev = Vec::new();
                    h2.feed(Direction::Request, &client_rest, frame, &mut ev);
                    h2.feed(Direction::Response, &server_rest, frame, &mut ev);
                    out.h2(ev);
                    parser = Parser::H2(Box::new(h2));
                }
            }
        }
    }
    out
}

/// The `# HTTP/2 requests` lines of a reference file: (frame, method, authority, path).
fn reference_h2(text: &str) -> Vec<(u64, String, String, String)> {
    let mut in_h2 = false;
    let mut rows = Vec::new();
    for line in text.lines() {
        if line.starts_with("# HTTP/2") {
            in_h2 = true;
            continue;
        }
        if line.starts_with('#') {
            in_h2 = false;
            continue;
        }
        let f: Vec<&str> = line.splitn(4, '|').collect();
        if in_h2 && f.len() == 4 {
            rows.push((
                f[0].parse().unwrap(),
                f[1].to_string(),
                f[2].to_string(),
                f[3].to_string(),
            ));
        }
    }
    rows
}

fn authority(r: &HttpRequest) -> String {
    r.headers
        .iter()
        .find(|h| h.name == ":authority")
        .map(|h| String::from_utf8_lossy(&h.value).into_owned())
        .unwrap_or_default()
}

/// Captures where tshark's list is not the whole truth, with what is expected instead.
///
/// `http2-errorcode`: gRPC through an HTTP/1.1 CONNECT proxy on port 6233; tshark decoded only
/// the CONNECT (no HTTP/2 heuristic inside the tunnel, nor on the direct connection), so it lists
/// no HTTP/2 request. Both connections carry the same gRPC call, which we find.
/// method, :authority, :path
type Row = (&'static str, &'static str, &'static str);

const EXCEPTIONS: &[(&str, &[Row])] = &[(
    "suricata-verify/tests/http2-errorcode/input.pcap",
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
)];

/// The captures checked, relative to `external/`. Every cleartext HTTP/2 capture in the shared
/// data is here; none of them starts without the preface (the "decode-as" ones in SUMMARY.tsv
/// only use a port tshark does not try HTTP/2 on), so `joined_mid_connection_never_guesses` cuts
/// them to make such captures.
const CAPTURES: &[&str] = &[
    "suricata-verify/tests/bug-5929-02/http2_multiple_headers.pcap",
    "suricata-verify/tests/dns-over-http2/dns_over_https.pcap",
    "suricata-verify/tests/dns-over-http2-limit/input.pcap",
    "suricata-verify/tests/dns-over-http2-post/dns_over_https_POST.pcap",
    "suricata-verify/tests/http2-authority-mismatch/authority_and_host_2.pcap",
    "suricata-verify/tests/http2-bugfixes/input.pcap",
    "suricata-verify/tests/http2-compression-bug/input.pcap",
    "suricata-verify/tests/http2-continuation/input.pcap",
    "suricata-verify/tests/http2-deflate/http2_deflate.pcap",
    "suricata-verify/tests/http2-deflate-case/input.pcap",
    "suricata-verify/tests/http2-errorcode/input.pcap",
    "suricata-verify/tests/http2-keywords/input.pcap",
    "suricata-verify/tests/http2-keywords2/input.pcap",
    "suricata-verify/tests/http2-long-frame/input.pcap",
    "suricata-verify/tests/http2-range/http2-range.pcap",
    "suricata-verify/tests/http2-userinfo-authority/http2_userinfo_in_authority_1.pcap",
    "wireshark/test/captures/packet-h2-14_headers.pcapng",
];

/// Reads a capture's connections (through ingest → wire → flow), or `None` (skip) when the test
/// data is absent.
fn capture(rel: &str) -> Option<Vec<Vec<Piece>>> {
    Some(read_streams(&external(rel)?).tcp_events())
}

fn reference(rel: &str) -> String {
    let path = external(format!("_reference/{rel}.requests.txt")).unwrap();
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn captures_match_tshark() {
    let mut cases = 0;
    for rel in CAPTURES {
        let Some(conns) = capture(rel) else { return };
        let mut want = reference_h2(&reference(rel));
        if let Some((_, extra)) = EXCEPTIONS.iter().find(|(name, _)| name == rel) {
            assert!(
                want.is_empty(),
                "{rel}: tshark now lists requests, drop the exception"
            );
            want = extra
                .iter()
                .map(|(m, a, p)| (0, m.to_string(), a.to_string(), p.to_string()))
                .collect();
        }
        let mut got = Vec::new();
        for pieces in &conns {
            let d = decode(pieces, 0);
            assert!(d.anomalies.is_empty(), "{rel}: {:?}", d.anomalies);
            assert!(d.limits.is_empty(), "{rel}: {:?}", d.limits);
            for r in &d.h2_responses {
                assert!(r.request.is_some(), "{rel}: unpaired response {r:?}");
                assert_eq!(r.version, "2");
            }
            for r in &d.h2_requests {
                assert_eq!(r.line.version, "2");
                assert_eq!(r.headers.iter().filter(|h| h.name == ":method").count(), 1);
                got.push(r.clone());
            }
        }
        // tshark's frame is the one where the HEADERS frame was complete.
        let mut unmatched: Vec<&HttpRequest> = got.iter().collect();
        for (frame, method, host, path) in &want {
            let at = unmatched.iter().position(|r| {
                r.line.method == *method
                    && authority(r) == *host
                    && r.line.target == *path
                    && (*frame == 0 || (r.first_frame..=r.last_frame).contains(frame))
            });
            match at {
                Some(i) => {
                    unmatched.remove(i);
                }
                None => {
                    panic!("{rel}: tshark's {frame}|{method}|{host}|{path} not found in {got:#?}")
                }
            }
        }
        assert!(unmatched.is_empty(), "{rel}: extra requests {unmatched:#?}");
        cases += 1;
    }
    println!("{cases} HTTP/2 captures matched tshark's requests");
}

/// The upgrade captures: the HTTP/1.1 request is stream 1, so HTTP/2 gives only its response,
/// paired with the HTTP/1.1 request line and content-decoded.
#[test]
fn h2c_upgrade_responses() {
    let cases: &[(&str, &str, &[u8], bool)] = &[
        // Go's flate writer was flushed but never closed: the deflate stream has no end.
        (
            "suricata-verify/tests/http2-deflate/http2_deflate.pcap",
            "/",
            b"Hello, /, http: true",
            true,
        ),
        (
            "suricata-verify/tests/http2-deflate-case/input.pcap",
            "/",
            b"Hello, /, http: true",
            true,
        ),
        (
            "suricata-verify/tests/http2-keywords2/input.pcap",
            "/robots.txt",
            b"User-agent: *\nDisallow: \n\nSitemap: //nghttp2.org/sitemap.xml \n",
            false,
        ),
    ];
    for (rel, target, body, truncated) in cases {
        let Some(conns) = capture(rel) else { return };
        let d = decode(&conns[0], 0);
        assert!(d.h2c && !d.preface);
        assert_eq!(d.h1_requests.len(), 1);
        let resp = d
            .h2_responses
            .iter()
            .find(|r| r.request.as_ref().is_some_and(|l| l.target == *target))
            .unwrap_or_else(|| panic!("{rel}: {:#?}", d.h2_responses));
        assert_eq!(resp.request.as_ref().unwrap().version, "1.1");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body.content(), *body, "{rel}");
        assert_eq!(resp.body.truncated, *truncated, "{rel}");
        assert!(d.h2_requests.iter().all(|r| r.line.target != *target));
    }
    println!("{} h2c upgrade captures checked", cases.len());
}

/// Known content: multiple same-named fields kept in order, bodies content-decoded, a gRPC
/// response's trailer section appended, a POST body of 128 KiB across many DATA frames.
#[test]
fn capture_contents() {
    let Some(conns) = capture("suricata-verify/tests/http2-bugfixes/input.pcap") else {
        return;
    };
    let d = decode(&conns[0], 0);
    let robots = &d.h2_responses[0];
    assert_eq!(robots.body.encodings, ["gzip"]);
    assert!(robots
        .body
        .content()
        .starts_with(b"# robots.txt file for YouTube"));
    let post = &d.h2_requests[1];
    assert_eq!(post.line.method, "POST");
    assert_eq!(post.body.raw.len(), 1284);

    let Some(conns) = capture("suricata-verify/tests/http2-errorcode/input.pcap") else {
        return;
    };
    let d = decode(&conns[1], 0);
    let grpc = &d.h2_responses[0];
    let names: Vec<&str> = grpc.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names.first(), Some(&":status"));
    assert!(
        names.ends_with(&["grpc-status", "grpc-message"]),
        "{names:?}"
    );
    assert_eq!(grpc.body.raw, b"\0\0\0\0\x0e\n\x0cHello, world");

    let Some(conns) = capture("suricata-verify/tests/dns-over-http2-limit/input.pcap") else {
        return;
    };
    let d = decode(&conns[0], 0);
    assert_eq!(d.h2_requests[0].body.raw.len(), 131_072);
    assert!(!d.h2_requests[0].body.truncated);
}

/// Feeding every capture one octet (or seven) at a time gives the same events.
#[test]
fn captures_split_invariant() {
    let mut cases = 0;
    for rel in CAPTURES {
        let Some(conns) = capture(rel) else { return };
        for pieces in &conns {
            let whole = decode(pieces, 0);
            for chunk in [1, 7] {
                let split = decode(pieces, chunk);
                assert_eq!(split.h2_requests, whole.h2_requests, "{rel} by {chunk}");
                assert_eq!(split.h2_responses, whole.h2_responses, "{rel} by {chunk}");
                assert_eq!(split.anomalies, whole.anomalies, "{rel} by {chunk}");
            }
            cases += 1;
        }
    }
    println!("{cases} connections split three ways");
}

fn show(r: &HttpRequest) -> String {
    let fields: Vec<String> = r
        .headers
        .iter()
        .map(|h| format!("{}: {}", h.name, String::from_utf8_lossy(&h.value)))
        .collect();
    format!(
        "{}..{} {:?} body {}",
        r.first_frame,
        r.last_frame,
        fields,
        r.body.raw.len()
    )
}

/// Is `cut` what `full` says, except for fields marked unknown?
fn compatible(cut: &[phonehome_model::Header], full: &[phonehome_model::Header]) -> bool {
    let unknown = |s: &[u8]| s.starts_with(b"<unknown hpack index ");
    cut.len() == full.len()
        && cut.iter().zip(full).all(|(c, f)| {
            (c.name == f.name || unknown(c.name.as_bytes()))
                && (c.value == f.value || unknown(&c.value))
        })
}

/// `pieces` with the first `skip_client` / `skip_server` stream octets removed, as a capture
/// that joined the connection late would deliver them.
fn joined_late(pieces: &[Piece], skip_client: usize, skip_server: usize) -> Vec<Piece> {
    let mut left = [skip_client, skip_server];
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Data(dir, data, frame) => {
                let l = &mut left[usize::from(*dir == Direction::Response)];
                let drop = (*l).min(data.len());
                *l -= drop;
                if drop < data.len() {
                    out.push(Piece::Data(*dir, data[drop..].to_vec(), *frame));
                }
            }
            other => out.push(other.clone()),
        }
    }
    out
}

/// A capture that starts mid-connection (no preface, mid-frame, HPACK entries inserted before
/// it): frames are found again, and every field decoded is either the value the complete
/// connection gives or an unknown marker — never a guess.
#[test]
fn joined_mid_connection_never_guesses() {
    let mut cases = 0;
    let mut markers = 0;
    for rel in [
        "suricata-verify/tests/dns-over-http2-post/dns_over_https_POST.pcap",
        "suricata-verify/tests/http2-compression-bug/input.pcap",
        "suricata-verify/tests/http2-keywords/input.pcap",
        "suricata-verify/tests/dns-over-http2/dns_over_https.pcap",
    ] {
        let Some(conns) = capture(rel) else { return };
        let full = decode(&conns[0], 0);
        let total = |dir| -> usize {
            conns[0]
                .iter()
                .map(|p| match p {
                    Piece::Data(d, data, _) if *d == dir => data.len(),
                    _ => 0,
                })
                .sum()
        };
        let (client, server) = (total(Direction::Request), total(Direction::Response));
        for percent in [3, 10, 25, 40, 55, 70] {
            let pieces = joined_late(
                &conns[0],
                client * percent / 100 + 1,
                server * percent / 100 + 3,
            );
            let d = decode(&pieces, 0);
            assert!(!d.preface);
            for (cut, all) in [(&d.h2_requests, &full.h2_requests)] {
                for r in cut.iter().filter(|r| !r.headers.is_empty()) {
                    assert!(
                        all.iter().any(|f| f.last_frame == r.last_frame
                            && compatible(&r.headers, &f.headers)
                            && f.body.raw.ends_with(&r.body.raw)),
                        "{rel} at {percent}%: {}\n{}",
                        show(r),
                        all.iter()
                            .filter(|f| f.last_frame == r.last_frame)
                            .map(show)
                            .collect::<Vec<_>>()
                            .join("\n")
                    );
                    markers += r
                        .headers
                        .iter()
                        .filter(|h| h.value.starts_with(b"<unknown hpack index"))
                        .count();
                }
            }
            for r in d.h2_responses.iter().filter(|r| !r.headers.is_empty()) {
                assert!(
                    full.h2_responses
                        .iter()
                        .any(|f| f.last_frame == r.last_frame
                            && compatible(&r.headers, &f.headers)
                            && f.body.raw.ends_with(&r.body.raw)),
                    "{rel} at {percent}%: {r:#?}"
                );
            }
            // Every request whose frames all came after the cut is found.
            let first_kept = pieces
                .iter()
                .find_map(|p| match p {
                    Piece::Data(Direction::Request, _, f) => Some(*f),
                    _ => None,
                })
                .unwrap_or(0);
            let later = full
                .h2_requests
                .iter()
                .filter(|r| r.first_frame > first_kept + 1)
                .count();
            let found = d
                .h2_requests
                .iter()
                .filter(|r| r.first_frame > first_kept + 1 && !r.headers.is_empty())
                .count();
            assert_eq!(found, later, "{rel} at {percent}%");
            cases += 1;
        }
    }
    assert!(markers > 0, "no unknown HPACK reference was met");
    println!("{cases} late joins checked, {markers} unknown markers");
}

/// Lost octets in the middle of the server's stream: frames are found again, later messages
/// come out, and nothing decoded contradicts the complete connection.
#[test]
fn gaps_resynchronise() {
    let mut cases = 0;
    for rel in [
        "suricata-verify/tests/http2-keywords/input.pcap",
        "suricata-verify/tests/dns-over-http2-post/dns_over_https_POST.pcap",
    ] {
        let Some(conns) = capture(rel) else { return };
        let full = decode(&conns[0], 0);
        for (start, len) in [(500usize, 3usize), (2000, 700), (5000, 20_000), (9000, 9)] {
            let mut pos = 0usize;
            let mut pieces = Vec::new();
            for p in &conns[0] {
                match p {
                    Piece::Data(Direction::Response, data, frame) => {
                        let (a, b) = (pos, pos + data.len());
                        pos = b;
                        let (ga, gb) = (start.max(a), (start + len).min(b));
                        if ga >= gb {
                            pieces.push(p.clone());
                            continue;
                        }
                        if ga > a {
                            pieces.push(Piece::Data(
                                Direction::Response,
                                data[..ga - a].to_vec(),
                                *frame,
                            ));
                        }
                        pieces.push(Piece::Gap(Direction::Response, (gb - ga) as u64, *frame));
                        if gb < b {
                            pieces.push(Piece::Data(
                                Direction::Response,
                                data[gb - a..].to_vec(),
                                *frame,
                            ));
                        }
                    }
                    other => pieces.push(other.clone()),
                }
            }
            if start >= pos {
                continue;
            }
            let d = decode(&pieces, 0);
            assert_eq!(
                d.h2_requests, full.h2_requests,
                "{rel}: the client side is intact"
            );
            for r in &d.h2_responses {
                if r.headers.is_empty() {
                    continue;
                }
                assert!(
                    full.h2_responses
                        .iter()
                        .any(|f| compatible(&r.headers, &f.headers) && f.request == r.request),
                    "{rel} gap at {start}: {r:#?}"
                );
            }
            let complete = d.h2_responses.iter().filter(|r| !r.body.truncated).count();
            assert!(
                complete > 0 || full.h2_responses.len() < 2,
                "{rel} gap at {start}"
            );
            cases += 1;
        }
    }
    println!("{cases} gaps checked");
}
