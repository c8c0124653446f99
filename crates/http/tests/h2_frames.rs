//! HTTP/2 frame sequences built byte by byte (header blocks by `loona-hpack`'s encoder, or by
//! hand where they must be broken): every frame type and flag the parser handles, each cap, lost
//! and garbage input.

use flate2::write::GzEncoder;
use phonehome_http::h2::PREFACE;
use phonehome_http::{
    Http2Connection, Http2Event, Http2Limits, HttpRequest, HttpResponse, RequestLine,
};
use phonehome_model::{Direction, Header};
use std::io::Write;

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const PRIORITY: u8 = 2;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PUSH_PROMISE: u8 = 5;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const WINDOW_UPDATE: u8 = 8;
const CONTINUATION: u8 = 9;

const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;

const C: Direction = Direction::Request;
const S: Direction = Direction::Response;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK encoder per direction, as each peer has.
struct Peer(loona_hpack::Encoder<'static>);

impl Peer {
    fn new() -> Self {
        Self(loona_hpack::Encoder::new())
    }
    fn block(&mut self, fields: &[(&str, &str)]) -> Vec<u8> {
        self.0
            .encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
    }
}

fn get(path: &str) -> Vec<(&'static str, String)> {
    vec![
        (":method", "GET".into()),
        (":scheme", "https".into()),
        (":authority", "api.example.com".into()),
        (":path", path.into()),
    ]
}

fn fields<'a>(list: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    list.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// Feeds `(dir, bytes)` writes, frame numbers counting from 1, then ends both directions.
fn run(limits: Http2Limits, writes: &[(Direction, Vec<u8>)], chunk: usize) -> Vec<Http2Event> {
    run_on(Http2Connection::new(limits), writes, chunk)
}

fn run_on(
    mut conn: Http2Connection,
    writes: &[(Direction, Vec<u8>)],
    chunk: usize,
) -> Vec<Http2Event> {
    let mut out = Vec::new();
    for (i, (dir, bytes)) in writes.iter().enumerate() {
        let frame = i as u64 + 1;
        if chunk == 0 {
            conn.feed(*dir, bytes, frame, &mut out);
        } else {
            for part in bytes.chunks(chunk) {
                conn.feed(*dir, part, frame, &mut out);
            }
        }
    }
    let last = writes.len() as u64 + 1;
    conn.end(C, last, &mut out);
    conn.end(S, last, &mut out);
    out
}

#[derive(Debug, Default)]
struct Sorted {
    requests: Vec<HttpRequest>,
    responses: Vec<HttpResponse>,
    anomalies: Vec<String>,
    limits: Vec<String>,
}

fn sort(events: Vec<Http2Event>) -> Sorted {
    let mut s = Sorted::default();
    for e in events {
        match e {
            Http2Event::Request(r) => s.requests.push(r),
            Http2Event::Response(r) => s.responses.push(r),
            Http2Event::Anomaly { reason, .. } => s.anomalies.push(reason),
            Http2Event::Limit { reason, .. } => s.limits.push(reason),
        }
    }
    s
}

fn value<'a>(h: &'a [Header], name: &str) -> Option<&'a [u8]> {
    h.iter()
        .find(|f| f.name == name)
        .map(|f| f.value.as_slice())
}

fn preface_and_settings() -> Vec<u8> {
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0xff, 0xff]));
    c
}

/// A conversation using every frame type and flag: interleaved streams, padding, priority,
/// CONTINUATION, trailers, 1xx, server push, gzip, unknown frames, PING, GOAWAY.
fn rich_conversation() -> Vec<(Direction, Vec<u8>)> {
    let (mut c, mut s) = (Peer::new(), Peer::new());
    let mut w = vec![(C, preface_and_settings())];
    w.push((S, frame(SETTINGS, 0, 0, &[0, 5, 0, 0, 0x40, 0])));
    w.push((C, frame(SETTINGS, 0x1, 0, b"")));
    // Stream 1: POST with a padded, prioritised HEADERS split over two CONTINUATIONs.
    let mut post = get("/upload?imei=490154203237518");
    post[0].1 = "POST".into();
    post.push(("content-type", "application/json".into()));
    let block = c.block(&fields(&post));
    let (a, rest) = block.split_at(5);
    let (b, d) = rest.split_at(7);
    let mut payload = vec![3u8, 0x80, 0, 0, 0, 200];
    payload.extend_from_slice(a);
    payload.extend([0, 0, 0]);
    w.push((C, frame(HEADERS, PADDED | PRIORITY_FLAG, 1, &payload)));
    w.push((C, frame(CONTINUATION, 0, 1, b)));
    w.push((C, frame(CONTINUATION, END_HEADERS, 1, d)));
    // Stream 3: GET, header block reusing stream 1's dynamic entries.
    let block = c.block(&fields(&get("/config")));
    w.push((C, frame(HEADERS, END_HEADERS | END_STREAM, 3, &block)));
    // Stream 1's body, padded, interleaved with an unknown frame, PRIORITY, PING and
    // WINDOW_UPDATE.
    let mut padded = vec![4u8];
    padded.extend_from_slice(b"{\"mac\":");
    padded.extend([0; 4]);
    w.push((C, frame(DATA, PADDED, 1, &padded)));
    w.push((C, frame(0xfa, 0xff, 1, b"extension frame")));
    w.push((C, frame(PRIORITY, 0, 3, &[0, 0, 0, 1, 16])));
    w.push((C, frame(PING, 0, 0, b"12345678")));
    w.push((C, frame(WINDOW_UPDATE, 0, 0, &[0, 0, 1, 0])));
    w.push((C, frame(DATA, 0, 1, b"\"00:11:22:33:44:55\"}")));
    // Request trailers.
    let block = c.block(&[("x-sig", "abc")]);
    w.push((C, frame(HEADERS, END_HEADERS | END_STREAM, 1, &block)));
    // Server: 100 Continue on stream 1, a push promise on stream 3, gzip response, trailers.
    let block = s.block(&[(":status", "100")]);
    w.push((S, frame(HEADERS, END_HEADERS, 1, &block)));
    let mut promise = vec![0, 0, 0, 2];
    promise.extend(s.block(&fields(&get("/style.css"))));
    w.push((S, frame(PUSH_PROMISE, END_HEADERS, 3, &promise)));
    let block = s.block(&[(":status", "200"), ("content-encoding", "gzip")]);
    w.push((S, frame(HEADERS, END_HEADERS, 3, &block)));
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"{\"feature\":true}").unwrap();
    let gz = gz.finish().unwrap();
    let (g1, g2) = gz.split_at(10);
    w.push((S, frame(DATA, 0, 3, g1)));
    let block = s.block(&[(":status", "201")]);
    w.push((S, frame(HEADERS, END_HEADERS, 1, &block)));
    w.push((S, frame(DATA, END_STREAM, 1, b"created")));
    let block = s.block(&[(":status", "200"), ("content-type", "text/css")]);
    w.push((S, frame(HEADERS, END_HEADERS, 2, &block)));
    w.push((S, frame(DATA, 0, 3, g2)));
    w.push((S, frame(DATA, END_STREAM, 2, b"body{}")));
    let block = s.block(&[("grpc-status", "0")]);
    w.push((S, frame(HEADERS, END_HEADERS | END_STREAM, 3, &block)));
    w.push((S, frame(GOAWAY, 0, 0, &[0, 0, 0, 3, 0, 0, 0, 0])));
    w
}

#[test]
fn every_frame_type_and_flag() {
    let events = run(Http2Limits::default(), &rich_conversation(), 0);
    let s = sort(events.clone());
    assert!(s.anomalies.is_empty() && s.limits.is_empty(), "{s:#?}");
    // Stream 3's GET completes first (END_STREAM on its HEADERS), then stream 1 with trailers.
    let [get, post] = &s.requests[..] else {
        panic!("{s:#?}")
    };
    assert_eq!(
        get.line,
        RequestLine {
            method: "GET".into(),
            target: "/config".into(),
            version: "2".into()
        }
    );
    assert_eq!(
        value(&get.headers, ":authority"),
        Some(&b"api.example.com"[..])
    );
    assert_eq!(post.line.method, "POST");
    assert_eq!(post.line.target, "/upload?imei=490154203237518");
    let names: Vec<&str> = post.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            ":method",
            ":scheme",
            ":authority",
            ":path",
            "content-type",
            "x-sig"
        ]
    );
    assert_eq!(post.body.raw, b"{\"mac\":\"00:11:22:33:44:55\"}");
    assert_eq!((post.first_frame, post.last_frame), (4, 14));
    // Responses: 201 for stream 1 (the 100 skipped), the pushed one, then the gzip one.
    let [created, pushed, config] = &s.responses[..] else {
        panic!("{s:#?}")
    };
    assert_eq!(created.status, 201);
    assert_eq!(created.request.as_ref().unwrap().method, "POST");
    assert_eq!(created.body.raw, b"created");
    assert_eq!(pushed.request.as_ref().unwrap().target, "/style.css");
    assert_eq!(pushed.body.raw, b"body{}");
    assert_eq!(config.request.as_ref().unwrap().target, "/config");
    assert_eq!(config.body.encodings, ["gzip"]);
    assert_eq!(config.body.content(), b"{\"feature\":true}");
    assert_eq!(value(&config.headers, "grpc-status"), Some(&b"0"[..]));
    assert_eq!(config.reason, "");
}

#[test]
fn split_invariance() {
    let writes = rich_conversation();
    let whole = run(Http2Limits::default(), &writes, 0);
    for chunk in [1, 2, 3, 10] {
        assert_eq!(
            run(Http2Limits::default(), &writes, chunk),
            whole,
            "by {chunk}"
        );
    }
    // And a garbage-started direction resynchronises the same way whatever the pieces.
    let mut writes = writes;
    writes[0].1.drain(..30);
    let whole = run(Http2Limits::default(), &writes, 0);
    assert!(!sort(whole.clone()).responses.is_empty());
    for chunk in [1, 5] {
        assert_eq!(
            run(Http2Limits::default(), &writes, chunk),
            whole,
            "by {chunk}"
        );
    }
}

#[test]
fn connect_and_missing_pseudo_headers() {
    let mut c = Peer::new();
    let mut w = vec![(C, preface_and_settings())];
    let block = c.block(&[(":method", "CONNECT"), (":authority", "proxy.example:443")]);
    w.push((C, frame(HEADERS, END_HEADERS, 1, &block)));
    w.push((C, frame(DATA, 0, 1, b"tunnelled")));
    let block = c.block(&[("x-only", "regular")]);
    w.push((C, frame(HEADERS, END_HEADERS | END_STREAM, 3, &block)));
    let s = sort(run(Http2Limits::default(), &w, 0));
    assert_eq!(s.requests[0].line.method, "");
    assert!(s.anomalies.iter().any(|a| a.contains("without :method")));
    let connect = &s.requests[1];
    assert_eq!(connect.line.target, "proxy.example:443");
    assert_eq!(connect.body.raw, b"tunnelled");
    assert!(connect.body.truncated, "never ended: flushed at the end");
}

#[test]
fn rst_stream_emits_what_was_seen() {
    let mut c = Peer::new();
    let mut w = vec![(C, preface_and_settings()), (S, frame(SETTINGS, 0, 0, b""))];
    let mut post = get("/big");
    post[0].1 = "POST".into();
    w.push((C, frame(HEADERS, END_HEADERS, 1, &c.block(&fields(&post)))));
    w.push((C, frame(DATA, 0, 1, b"first part")));
    w.push((S, frame(RST_STREAM, 0, 1, &[0, 0, 0, 8])));
    // In flight when the reset arrived: dropped without complaint.
    w.push((C, frame(DATA, END_STREAM, 1, b"late")));
    let s = sort(run(Http2Limits::default(), &w, 0));
    let [req] = &s.requests[..] else {
        panic!("{s:#?}")
    };
    assert_eq!(req.body.raw, b"first part");
    assert!(req.body.truncated);
    assert_eq!(req.last_frame, 5);
    assert!(s.anomalies.iter().any(|a| a.contains("CANCEL")), "{s:#?}");
    assert_eq!(s.anomalies.len(), 1);
}

#[test]
fn joined_mid_connection_gives_unknown_markers() {
    let mut c = Peer::new();
    // Seen by the encoder before the capture started.
    let _ = c.block(&[("x-device-id", "A1B2"), ("user-agent", "phone/1.0")]);
    let mut headers = get("/after");
    headers.push(("user-agent", "phone/1.0".into()));
    headers.push(("x-device-id", "A1B2".into()));
    headers.push(("x-new", "fresh".into()));
    let block = c.block(&fields(&headers));
    let next = c.block(&[(":method", "GET"), (":path", "/again"), ("x-new", "fresh")]);
    let w = vec![
        // Mid-frame: the tail of a DATA frame, then whole frames.
        (C, b"tail of an earlier body".to_vec()),
        (C, frame(HEADERS, END_HEADERS | END_STREAM, 7, &block)),
        (C, frame(HEADERS, END_HEADERS | END_STREAM, 9, &next)),
        (C, frame(PING, 0, 0, b"12345678")),
    ];
    let s = sort(run(Http2Limits::default(), &w, 0));
    let [first, second] = &s.requests[..] else {
        panic!("{s:#?}")
    };
    assert_eq!(first.line.target, "/after");
    assert_eq!(
        value(&first.headers, "<unknown hpack index 62>"),
        Some(&b"<unknown hpack index 62>"[..]),
        "{first:#?}"
    );
    assert_eq!(value(&first.headers, "x-new"), Some(&b"fresh"[..]));
    // Sent as a literal with a static-table name: known.
    assert_eq!(value(&first.headers, "user-agent"), Some(&b"phone/1.0"[..]));
    // Sent as a reference to the entry inserted before the capture: never guessed.
    assert!(!first.headers.iter().any(|h| h.value == b"A1B2"));
    // The entry inserted after joining is known.
    assert_eq!(value(&second.headers, "x-new"), Some(&b"fresh"[..]));
    assert!(s.anomalies.iter().any(|a| a.contains("preface")));
    assert!(s.anomalies.iter().any(|a| a.contains("never seen")));
    assert!(s.anomalies.iter().any(|a| a.contains("skipped")));
}

#[test]
fn gaps_inside_and_across_frames() {
    let mut c = Peer::new();
    let mut post = get("/p");
    post[0].1 = "POST".into();
    post.push(("x-device-id", "D1".into()));
    let head = frame(HEADERS, END_HEADERS, 1, &c.block(&fields(&post)));
    let body = frame(DATA, END_STREAM, 1, b"0123456789");
    let next = frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        3,
        &c.block(&fields(&get("/q"))),
    );
    let mut conn = Http2Connection::new(Http2Limits::default());
    let mut out = Vec::new();
    conn.feed(C, &preface_and_settings(), 1, &mut out);
    conn.feed(C, &head, 2, &mut out);
    // Four octets of the DATA payload lost: the frame boundary is kept.
    conn.feed(C, &body[..12], 3, &mut out);
    conn.gap(C, 4, 4, &mut out);
    conn.feed(C, &body[16..], 5, &mut out);
    conn.feed(C, &next, 6, &mut out);
    let s = sort(std::mem::take(&mut out));
    assert_eq!(s.requests.len(), 2, "{s:#?}");
    assert_eq!(s.requests[0].body.raw, b"012789");
    assert!(s.requests[0].body.truncated);
    assert_eq!(s.requests[1].line.target, "/q");
    assert!(s.anomalies.is_empty());
    // A loss across frame boundaries: resynchronised on the next frames; the HPACK table is
    // then unknown, so the reused entries come out as markers.
    let mut q = get("/q");
    q.push(("x-device-id", "D1".into()));
    let later = frame(HEADERS, END_HEADERS, 5, &c.block(&fields(&q)));
    let more = frame(DATA, END_STREAM, 5, b"x");
    conn.gap(C, 100, 7, &mut out);
    conn.feed(C, b"garbage!", 7, &mut out);
    conn.feed(C, &later, 8, &mut out);
    conn.feed(C, &more, 9, &mut out);
    conn.feed(C, &frame(PING, 0, 0, b"12345678"), 10, &mut out);
    conn.end(C, 11, &mut out);
    let s = sort(out);
    assert!(s.anomalies[0].contains("100 octets lost"), "{s:#?}");
    let [req] = &s.requests[..] else {
        panic!("{s:#?}")
    };
    assert_eq!(req.body.raw, b"x");
    assert!(!req.body.truncated, "stream 5 started after the gap");
    assert_eq!(req.line.target, "/q");
    assert_eq!(
        value(&req.headers, ":authority"),
        Some(&b"api.example.com"[..])
    );
    // Inserted before the gap, referenced after it: unknown, not guessed.
    let last = req.headers.last().unwrap();
    assert_eq!(last.name, "<unknown hpack index 62>");
    assert_eq!(s.requests.len(), 1);
    assert_eq!((req.first_frame, req.last_frame), (8, 9));
}

#[test]
fn after_h2c_upgrade() {
    let line = RequestLine {
        method: "GET".into(),
        target: "/index".into(),
        version: "1.1".into(),
    };
    let headers = vec![
        Header::new("Host", "example.com"),
        Header::new("Upgrade", "h2c"),
        // SETTINGS_HEADER_TABLE_SIZE 1000, SETTINGS_MAX_FRAME_SIZE 32768.
        Header::new("HTTP2-Settings", "AAEAAAPoAAUAAIAA"),
    ];
    let conn = Http2Connection::after_h2c_upgrade(Http2Limits::default(), line.clone(), headers);
    let mut s = Peer::new();
    let w = vec![
        (S, frame(SETTINGS, 0, 0, b"")),
        (C, preface_and_settings()),
        (
            S,
            frame(HEADERS, END_HEADERS, 1, &s.block(&[(":status", "200")])),
        ),
        // Larger than the default 16 KiB, allowed by the HTTP2-Settings.
        (S, frame(DATA, END_STREAM, 1, &[b'z'; 20_000])),
    ];
    let s = sort(run_on(conn, &w, 0));
    assert!(s.requests.is_empty(), "the upgrade request was HTTP/1.1");
    assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
    let [resp] = &s.responses[..] else {
        panic!("{s:#?}")
    };
    assert_eq!(resp.request.as_ref(), Some(&line));
    assert_eq!(resp.body.raw.len(), 20_000);
}

#[test]
fn body_stream_and_buffer_caps() {
    let limits = Http2Limits {
        max_body: 10,
        max_streams: 3,
        ..Http2Limits::default()
    };
    let mut c = Peer::new();
    let mut w = vec![(C, preface_and_settings())];
    for id in [1u32, 3, 5, 7, 9] {
        let path = format!("/s{id}");
        w.push((
            C,
            frame(HEADERS, END_HEADERS, id, &c.block(&fields(&get(&path)))),
        ));
        w.push((C, frame(DATA, 0, id, b"0123456789abcdef")));
        w.push((C, frame(DATA, 0, id, b"more")));
    }
    let s = sort(run(limits, &w, 0));
    // Streams 1 and 3 were evicted to make room; all five come out, cut to 10 octets.
    assert_eq!(s.requests.len(), 5);
    let targets: Vec<&str> = s.requests.iter().map(|r| r.line.target.as_str()).collect();
    assert_eq!(targets, ["/s1", "/s3", "/s5", "/s7", "/s9"]);
    for r in &s.requests {
        assert_eq!(r.body.raw, b"0123456789");
        assert!(r.body.truncated);
    }
    assert_eq!(
        s.limits.iter().filter(|l| l.contains("max_body")).count(),
        5
    );
    assert_eq!(
        s.limits
            .iter()
            .filter(|l| l.contains("max_streams"))
            .count(),
        2
    );

    let limits = Http2Limits {
        max_buffered: 100,
        ..Http2Limits::default()
    };
    let mut c = Peer::new();
    let mut w = vec![(C, preface_and_settings())];
    for id in [1u32, 3] {
        w.push((
            C,
            frame(HEADERS, END_HEADERS, id, &c.block(&fields(&get("/b")))),
        ));
        w.push((C, frame(DATA, 0, id, &[b'x'; 60])));
    }
    let s = sort(run(limits, &w, 0));
    assert!(
        s.limits.iter().any(|l| l.contains("max_buffered")),
        "{s:#?}"
    );
    assert_eq!(s.requests.len(), 2);
    assert!(s.requests.iter().all(|r| r.body.raw.len() == 60));
}

#[test]
fn continuation_flood_and_oversized_blocks() {
    let limits = Http2Limits {
        max_continuations: 64,
        max_header_list: 4096,
        ..Http2Limits::default()
    };
    let mut c = Peer::new();
    let mut w = vec![(C, preface_and_settings())];
    // 10 000 one-octet CONTINUATIONs: dropped after the 64th, never buffered.
    let block = c.block(&fields(&get("/flood")));
    w.push((C, frame(HEADERS, END_STREAM, 1, &block[..1])));
    for &b in &block[1..] {
        w.push((C, frame(CONTINUATION, 0, 1, &[b])));
    }
    for _ in 0..10_000 {
        w.push((C, frame(CONTINUATION, 0, 1, &[0x82])));
    }
    w.push((C, frame(CONTINUATION, END_HEADERS, 1, &[0x82])));
    // A block over max_header_list.
    let huge = c.block(&[(":method", "GET"), ("x-big", &"y".repeat(5000))]);
    w.push((C, frame(HEADERS, END_HEADERS | END_STREAM, 3, &huge)));
    // A later request with literal fields only still decodes.
    let mut lit = vec![0x82, 0x04, 0x04];
    lit.extend(b"/ok?");
    w.push((C, frame(HEADERS, END_HEADERS | END_STREAM, 5, &lit)));
    let s = sort(run(limits, &w, 0));
    assert_eq!(s.limits.len(), 2, "{:?}", s.limits);
    assert!(s.limits[0].contains("max_continuations"));
    assert!(s.limits[1].contains("max_header_list"));
    let [flood, big, ok] = &s.requests[..] else {
        panic!("{s:#?}")
    };
    assert!(flood.headers.is_empty() && big.headers.is_empty());
    assert_eq!(ok.line.target, "/ok?");
}

#[test]
fn absurd_lengths() {
    let limits = Http2Limits {
        max_frame_payload: 1 << 10,
        max_body: 1 << 12,
        ..Http2Limits::default()
    };
    let mut c = Peer::new();
    let mut w = vec![(C, preface_and_settings())];
    // A HEADERS frame of 16 MiB - 1 announced, 2 KiB sent: skipped, not buffered.
    let mut big = vec![0xff, 0xff, 0xff, HEADERS, END_HEADERS, 0, 0, 0, 1];
    big.extend(vec![0x82; 2048]);
    w.push((C, big));
    let s = sort(run(limits.clone(), &w, 0));
    assert!(s.limits[0].contains("exceeds max_frame_payload"));
    assert!(s.requests.is_empty() || s.requests[0].headers.is_empty());
    // A DATA frame of 16 MiB - 1 streams into the body cap.
    let mut w = vec![(C, preface_and_settings())];
    w.push((
        C,
        frame(HEADERS, END_HEADERS, 1, &c.block(&fields(&get("/d")))),
    ));
    let mut data = vec![0xff, 0xff, 0xff, DATA, END_STREAM, 0, 0, 0, 1];
    data.extend(vec![b'd'; 100_000]);
    w.push((C, data));
    let s = sort(run(limits, &w, 0));
    assert_eq!(s.requests[0].body.raw.len(), 1 << 12);
    assert!(s.requests[0].body.truncated);
    assert_eq!(s.limits.len(), 1);
    // Padding longer than the payload, SETTINGS of the wrong size, PING on a stream.
    let w = vec![
        (C, preface_and_settings()),
        (C, frame(DATA, PADDED, 1, &[200, 1, 2])),
        (C, frame(SETTINGS, 0, 0, &[0, 1, 0])),
        (C, frame(PING, 0, 3, b"12345678")),
        (C, frame(HEADERS, PADDED | END_HEADERS, 3, &[9, 0x82])),
    ];
    let s = sort(run(Http2Limits::default(), &w, 0));
    assert!(s.anomalies.iter().any(|a| a.contains("padding")));
    assert!(s.anomalies.iter().any(|a| a.contains("multiple of 6")));
    assert!(s
        .anomalies
        .iter()
        .any(|a| a.contains("PING frame on stream 3")));
}

#[test]
fn hpack_attacks() {
    // The encoder announces a 4 GiB table; we keep 256 octets, so early entries are evicted and
    // later references to them are unknown, never wrong.
    let limits = Http2Limits {
        max_dynamic_table: 256,
        ..Http2Limits::default()
    };
    let mut w = vec![(C, preface_and_settings())];
    w.push((S, frame(SETTINGS, 0, 0, &[0, 1, 0xff, 0xff, 0xff, 0xff])));
    let mut enc = loona_hpack::Encoder::new();
    enc.set_max_table_size(1 << 20);
    let mut block = vec![0x3f, 0xe1, 0xff, 0xff, 0x7f]; // size update to 268 435 486
    block.extend(
        enc.encode(
            (0..20)
                .map(|i| {
                    (
                        format!("x-entry-{i:02}").into_bytes(),
                        format!("value-number-{i:02}").into_bytes(),
                    )
                })
                .collect::<Vec<_>>()
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice())),
        ),
    );
    block.extend([0x82, 0x84]);
    w.push((C, frame(HEADERS, END_HEADERS | END_STREAM, 1, &block)));
    // All twenty again: indexed references to the encoder's (large) table.
    let again: Vec<(Vec<u8>, Vec<u8>)> = (0..20)
        .map(|i| {
            (
                format!("x-entry-{i:02}").into_bytes(),
                format!("value-number-{i:02}").into_bytes(),
            )
        })
        .collect();
    let mut block = enc.encode(again.iter().map(|(n, v)| (n.as_slice(), v.as_slice())));
    block.extend([0x82, 0x84]);
    w.push((C, frame(HEADERS, END_HEADERS | END_STREAM, 3, &block)));
    let s = sort(run(limits, &w, 0));
    assert!(s
        .limits
        .iter()
        .any(|l| l.contains("capped at max_dynamic_table")));
    let second = &s.requests[1];
    let entries: Vec<&Header> = second
        .headers
        .iter()
        .filter(|h| !h.name.starts_with(':'))
        .collect();
    assert_eq!(entries.len(), 20);
    let mut known = 0;
    for (i, h) in entries.iter().enumerate() {
        if h.name.starts_with("x-entry") {
            assert_eq!(h.name, format!("x-entry-{i:02}"));
            assert_eq!(h.value, format!("value-number-{i:02}").into_bytes());
            known += 1;
        } else {
            assert!(h.name.starts_with("<unknown hpack index"));
        }
    }
    // 57 octets each: the newest four fit in 256.
    assert_eq!(known, 4);

    // Huffman garbage, an integer overflow, an index far past the table, a header list bomb.
    let mut bomb = vec![0x40, 0x01, b'b', 0x7f, 0x81, 0x1f];
    bomb.extend(vec![b'B'; 4096 - 127 + 1 - 32]);
    bomb.extend(vec![0xbe; 100_000]);
    let w = vec![
        (C, preface_and_settings()),
        (
            C,
            frame(
                HEADERS,
                END_HEADERS | END_STREAM,
                1,
                &[0x82, 0x04, 0x82, 0xff, 0xff],
            ),
        ),
        (
            C,
            frame(
                HEADERS,
                END_HEADERS | END_STREAM,
                3,
                &[0x82, 0xff, 0x80, 0x10],
            ),
        ),
        (
            C,
            frame(
                HEADERS,
                END_HEADERS | END_STREAM,
                5,
                &[0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
        ),
        (C, frame(HEADERS, END_HEADERS | END_STREAM, 7, &bomb)),
    ];
    let s = sort(run(Http2Limits::default(), &w, 0));
    assert_eq!(
        s.requests[0].line.target.as_bytes(),
        b"<invalid hpack huffman string>"
    );
    assert!(s.anomalies.iter().any(|a| a.contains("Huffman")));
    assert!(s.anomalies.iter().any(|a| a.contains("integer")));
    assert!(s
        .anomalies
        .iter()
        .any(|a| a.contains("beyond the dynamic table")));
    assert!(s.limits.iter().any(|l| l.contains("max_header_list")));
    let bombed = &s.requests[3];
    let size: usize = bombed
        .headers
        .iter()
        .map(|h| h.name.len() + h.value.len() + 32)
        .sum();
    assert!(size <= 256 << 10, "{size}");
}

/// Deterministic noise.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

#[test]
fn garbage_and_truncation_never_panic() {
    // Pure noise, in both directions, with and without the preface.
    for seed in 0..8 {
        let mut client = if seed % 2 == 0 {
            PREFACE.to_vec()
        } else {
            Vec::new()
        };
        client.extend(noise(seed, 200_000));
        let w = vec![(C, client), (S, noise(seed + 100, 200_000))];
        let events = run(Http2Limits::default(), &w, 0);
        let anomalies = events
            .iter()
            .filter(|e| matches!(e, Http2Event::Anomaly { .. }))
            .count();
        assert!(anomalies <= 2 * (phonehome_http::h2::MAX_ANOMALIES_PER_DIRECTION + 1));
        assert_eq!(run(Http2Limits::default(), &w, 4096), events);
    }
    // Every prefix of a real conversation, ended there.
    let writes = rich_conversation();
    let client: Vec<u8> = writes
        .iter()
        .filter(|(d, _)| *d == C)
        .flat_map(|(_, b)| b.clone())
        .collect();
    let complete = sort(run(Http2Limits::default(), &[(C, client.clone())], 0));
    for cut in 0..client.len() {
        let s = sort(run(
            Http2Limits::default(),
            &[(C, client[..cut].to_vec())],
            0,
        ));
        assert!(s.requests.len() <= complete.requests.len());
        for r in &s.requests {
            let full = complete
                .requests
                .iter()
                .find(|f| f.line.target == r.line.target || r.line.target.is_empty())
                .unwrap();
            assert!(full.body.raw.starts_with(&r.body.raw), "cut at {cut}");
        }
    }
}
