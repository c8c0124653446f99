//! Whole-message walks through the schemaless protobuf, gRPC, length-prefixed, JWT, XML, JSON
//! Lines, JSONP and lz4 decoders, on bytes made by independent encoders (prost, lz4_flex, flate2,
//! zstd, base64).

use base64::Engine;
use phonehome_decode::{step_kind, walk_message, DecodeLimits, DecodeReport, StepKind};
use phonehome_model::Message;
use phonehome_testkit::request_message as request;
use prost::Message as _;
use std::io::Write;

const IMEI: &str = "356938035643809";
const SERIAL: &str = "R58N31XYZQ";

fn body_request(content_type: Option<&str>, body: &[u8]) -> Message {
    match content_type {
        Some(ct) => request("https://t.example/c", &[("Content-Type", ct)], body),
        None => request("https://t.example/c", &[], body),
    }
}

/// (location, chain, data) of a visited node.
type Node = (String, Vec<String>, Vec<u8>);

fn walk_with(msg: &Message, limits: &DecodeLimits) -> (Vec<Node>, DecodeReport) {
    let mut nodes = Vec::new();
    let report = walk_message(msg, limits, &mut |p| {
        nodes.push((p.location.to_string(), p.chain.to_vec(), p.data.to_vec()));
    });
    assert_eq!(report.nodes, nodes.len());
    (nodes, report)
}

fn walk(msg: &Message) -> Vec<Node> {
    let (nodes, report) = walk_with(msg, &DecodeLimits::default());
    assert!(report.limits_hit.is_empty(), "{:?}", report.limits_hit);
    nodes
}

/// The chains of every node whose data is exactly `value`, at `location`.
fn chains_of(nodes: &[Node], location: &str, value: &str) -> Vec<Vec<String>> {
    nodes
        .iter()
        .filter(|n| n.0 == location && n.2 == value.as_bytes())
        .map(|n| n.1.clone())
        .collect()
}

fn chain(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// True when some chain has an element starting with one of `prefixes`.
fn uses(nodes: &[Node], prefixes: &[&str]) -> bool {
    nodes.iter().any(|n| {
        n.1.iter()
            .any(|s| prefixes.iter().any(|p| s.starts_with(p)))
    })
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn lz4(data: &[u8]) -> Vec<u8> {
    let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::new());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

// A message of the kind analytics SDKs send, declared in field-number order (prost writes fields
// in declaration order).

#[derive(Clone, PartialEq, prost::Message)]
struct Location {
    #[prost(double, tag = "1")]
    latitude: f64,
    #[prost(double, tag = "2")]
    longitude: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Device {
    #[prost(string, tag = "1")]
    imei: String,
    #[prost(message, optional, tag = "2")]
    location: Option<Location>,
    #[prost(string, repeated, tag = "3")]
    wifi_macs: Vec<String>,
    #[prost(fixed32, tag = "4")]
    build: u32,
    #[prost(bytes = "vec", tag = "5")]
    gzipped_json: Vec<u8>,
    #[prost(int64, tag = "6")]
    utc_offset: i64,
    #[prost(float, tag = "7")]
    accuracy: f32,
    #[prost(bytes = "vec", tag = "8")]
    lz4_text: Vec<u8>,
    #[prost(bytes = "vec", tag = "9")]
    zstd_text: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(uint64, tag = "2")]
    timestamp_ms: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Report {
    #[prost(message, optional, tag = "1")]
    device: Option<Device>,
    #[prost(string, tag = "2")]
    session: String,
    #[prost(message, repeated, tag = "3")]
    events: Vec<Event>,
}

fn sample_report() -> Report {
    Report {
        device: Some(Device {
            imei: IMEI.into(),
            location: Some(Location {
                latitude: 48.856_614,
                longitude: 2.352_222,
            }),
            wifi_macs: vec!["3c:28:6d:11:22:33".into(), "a4:b1:c2:d3:e4:f5".into()],
            build: 0x0102_0304,
            gzipped_json: gzip(format!(r#"{{"serial": "{SERIAL}"}}"#).as_bytes()),
            utc_offset: -3600,
            accuracy: 12.5,
            lz4_text: lz4(b"android_id=8a1d4c2b9e7f6a30"),
            zstd_text: zstd::encode_all(&b"gaid=38400000-8cf0-11bd-b23e-10b96e40000d"[..], 3)
                .unwrap(),
        }),
        session: "s-5e8f".into(),
        events: vec![
            Event {
                name: "app_open".into(),
                timestamp_ms: 1_700_000_000_123,
            },
            Event {
                name: "purchase".into(),
                timestamp_ms: 1_700_000_000_456,
            },
        ],
    }
}

/// Checks the leaves of `sample_report()` read at `location` under `prefix`.
fn assert_report_leaves(nodes: &[Node], location: &str, prefix: &[&str]) {
    let at = |rest: &[&str]| {
        let mut c = chain(prefix);
        c.extend(chain(rest));
        c
    };
    assert!(chains_of(nodes, location, IMEI).contains(&at(&["protobuf:1.1"])));
    assert_eq!(
        chains_of(nodes, location, "48.856614"),
        vec![at(&["protobuf:1.2.1:double"])]
    );
    assert_eq!(
        chains_of(nodes, location, "2.352222"),
        vec![at(&["protobuf:1.2.2:double"])]
    );
    // A repeated field: the same path twice.
    assert_eq!(
        chains_of(nodes, location, "3c:28:6d:11:22:33"),
        vec![at(&["protobuf:1.3"])]
    );
    assert_eq!(
        chains_of(nodes, location, "a4:b1:c2:d3:e4:f5"),
        vec![at(&["protobuf:1.3"])]
    );
    assert_eq!(
        chains_of(nodes, location, &0x0102_0304u32.to_string()),
        vec![at(&["protobuf:1.4"])]
    );
    // Compressed bytes fields are decompressed and decoded further.
    assert_eq!(
        chains_of(nodes, location, SERIAL),
        vec![at(&["protobuf:1.5", "gzip", "json:$.serial"])]
    );
    assert_eq!(
        chains_of(nodes, location, "8a1d4c2b9e7f6a30"),
        vec![at(&["protobuf:1.8", "lz4", "form:android_id"])]
    );
    assert_eq!(
        chains_of(nodes, location, "38400000-8cf0-11bd-b23e-10b96e40000d"),
        vec![at(&["protobuf:1.9", "zstd", "form:gaid"])]
    );
    // A negative int64: unsigned and signed readings.
    assert_eq!(
        chains_of(nodes, location, &(-3600i64 as u64).to_string()),
        vec![at(&["protobuf:1.6"])]
    );
    assert_eq!(
        chains_of(nodes, location, "-3600"),
        vec![at(&["protobuf:1.6:int64"])]
    );
    assert_eq!(
        chains_of(nodes, location, "12.5"),
        vec![at(&["protobuf:1.7:float"])]
    );
    assert_eq!(
        chains_of(nodes, location, "s-5e8f"),
        vec![at(&["protobuf:2"])]
    );
    assert_eq!(
        chains_of(nodes, location, "purchase"),
        vec![at(&["protobuf:3.1"])]
    );
    assert_eq!(
        chains_of(nodes, location, "1700000000456"),
        vec![at(&["protobuf:3.2"])]
    );
    // Number leaves are not decoded further (no hex reading of "1700000000123…").
    assert!(
        !nodes
            .iter()
            .any(|n| n.1.iter().any(|s| s.starts_with("protobuf:3.2"))
                && n.1.len() > prefix.len() + 1)
    );
}

#[test]
fn protobuf_body_declared_and_sniffed() {
    let bytes = sample_report().encode_to_vec();
    for content_type in [
        Some("application/x-protobuf"),
        Some("application/octet-stream"),
        None,
    ] {
        let nodes = walk(&body_request(content_type, &bytes));
        assert_report_leaves(&nodes, "body", &[]);
    }
}

#[test]
fn protobuf_in_base64_header() {
    let bytes = sample_report().encode_to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let msg = request(
        "https://t.example/c",
        &[("X-Client-Data-Bin", b64.as_str())],
        b"",
    );
    let nodes = walk(&msg);
    assert_report_leaves(&nodes, "header:X-Client-Data-Bin", &["base64"]);
}

#[test]
fn step_kinds_of_new_elements() {
    for selector in [
        "protobuf:1.4.2",
        "protobuf:1.2.1:double",
        "grpc:0",
        "length-prefixed:3",
        "xml:/root/@id",
        "jsonl:2",
        "jsonp",
    ] {
        assert_eq!(step_kind(selector), StepKind::Selector, "{selector}");
    }
    for transform in ["jwt:header", "jwt:payload", "lz4"] {
        assert_eq!(step_kind(transform), StepKind::Transform, "{transform}");
    }
}

/// gRPC frames: a flags byte, a 4-byte big-endian length, the message.
fn grpc_frame(flags: u8, message: &[u8]) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

#[test]
fn grpc_frames_declared_and_sniffed() {
    let first = sample_report().encode_to_vec();
    let second = Event {
        name: IMEI.into(),
        timestamp_ms: 1,
    }
    .encode_to_vec();
    let body = [
        grpc_frame(0, &first),
        grpc_frame(1, &gzip(&second)),
        grpc_frame(0, &[]),
    ]
    .concat();
    for content_type in [Some("application/grpc"), None] {
        let nodes = walk(&body_request(content_type, &body));
        assert_report_leaves(&nodes, "body", &["grpc:0"]);
        let mut imei = chains_of(&nodes, "body", IMEI);
        imei.sort();
        assert_eq!(
            imei,
            vec![
                chain(&["grpc:0", "protobuf:1.1"]),
                chain(&["grpc:1", "gzip", "protobuf:1"]),
            ]
        );
    }
    // gRPC-Web text: base64 of the frames.
    let text = base64::engine::general_purpose::STANDARD.encode(grpc_frame(0, &second));
    let nodes = walk(&body_request(
        Some("application/grpc-web-text"),
        text.as_bytes(),
    ));
    assert_eq!(
        chains_of(&nodes, "body", IMEI),
        vec![chain(&["base64", "grpc:0", "protobuf:1"])]
    );
}

#[test]
fn length_prefixed_stream() {
    let mut body = Vec::new();
    sample_report().encode_length_delimited(&mut body).unwrap();
    Event {
        name: IMEI.into(),
        timestamp_ms: 7,
    }
    .encode_length_delimited(&mut body)
    .unwrap();
    let nodes = walk(&body_request(None, &body));
    assert_report_leaves(&nodes, "body", &["length-prefixed:0"]);
    assert_eq!(
        chains_of(&nodes, "body", IMEI),
        vec![
            chain(&["length-prefixed:0", "protobuf:1.1"]),
            chain(&["length-prefixed:1", "protobuf:1"]),
        ]
    );
}

#[test]
fn malformed_protobuf_and_framing() {
    let bytes = sample_report().encode_to_vec();
    let limits = DecodeLimits::default();
    // Truncated at every length: never a panic, and never the last field (a cut at a field
    // boundary leaves a shorter message that is complete, and read).
    let mut complete_prefixes = 0;
    for cut in 1..bytes.len() {
        let (nodes, _) = walk_with(
            &body_request(Some("application/x-protobuf"), &bytes[..cut]),
            &limits,
        );
        assert!(
            chains_of(&nodes, "body", "1700000000456").is_empty(),
            "cut at {cut}: the last field was read"
        );
        complete_prefixes += usize::from(uses(&nodes, &["protobuf:"]));
    }
    // The root's fields: device, session, two events.
    assert_eq!(complete_prefixes, 3);
    // A length pointing past the end, and an absurd one.
    for body in [
        &b"\x0a\x10short"[..],
        &b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7fabc"[..],
        &b"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"[..],
    ] {
        let nodes = walk(&body_request(Some("application/x-protobuf"), body));
        assert!(
            !uses(&nodes, &["protobuf:", "length-prefixed:"]),
            "{body:?}"
        );
    }
    // gRPC: a length past the end, a bad flags byte.
    let mut long = grpc_frame(0, &bytes);
    long.truncate(long.len() - 1);
    let mut flags = grpc_frame(0, &bytes);
    flags[0] = 7;
    for body in [long, flags, vec![0, 0xff, 0xff, 0xff, 0xff, 1]] {
        let nodes = walk(&body_request(Some("application/grpc"), &body));
        assert!(!uses(&nodes, &["grpc:"]));
    }
    // 10 000 nested messages: read to the nesting cap, then bytes; no stack overflow.
    let mut deep = vec![0x08, 0x01];
    for _ in 0..10_000 {
        let mut outer = vec![0x0a];
        let mut len = deep.len();
        while len >= 0x80 {
            outer.push((len as u8) | 0x80);
            len >>= 7;
        }
        outer.push(len as u8);
        outer.extend_from_slice(&deep);
        deep = outer;
    }
    let (nodes, _) = walk_with(&body_request(None, &deep), &limits);
    let leaf = nodes
        .iter()
        .find(|n| n.1.len() == 1 && n.1[0].starts_with("protobuf:"))
        .unwrap();
    assert_eq!(leaf.1[0], format!("protobuf:{}", vec!["1"; 32].join(".")));
}

#[test]
fn identifiers_are_not_protobuf() {
    let values = [
        "8a1d4c2b9e7f6a30",                     // Android ID (16 hex digits)
        "0f6e1c2b-3a4d-4e5f-8a9b-c0d1e2f3a4b5", // UUID
        "The quick brown fox jumps over the lazy dog",
        "af2d48f2495881aed1737bb21017f9b6", // md5 in hex
        "eabcdeabcd",                       // parses as two fixed32 fields
        IMEI,
        "+14155550123",
    ];
    for value in values {
        for msg in [
            request("https://t.example/c", &[("X-Id", value)], b""),
            body_request(None, value.as_bytes()),
            body_request(Some("text/plain"), value.as_bytes()),
        ] {
            let nodes = walk(&msg);
            assert!(
                !uses(&nodes, &["protobuf:", "grpc:", "length-prefixed:"]),
                "{value}: {:?}",
                nodes
                    .iter()
                    .map(|n| (&n.0, &n.1, String::from_utf8_lossy(&n.2)))
                    .collect::<Vec<_>>()
            );
        }
    }
}

/// base64url without padding, as JWTs use.
fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

#[test]
fn jwt_in_header_cookie_and_json() {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT","kid":"k-1"}"#);
    let payload = b64url(format!(r#"{{"sub":"u1","imei":"{IMEI}","ctx":"~~??>>"}}"#).as_bytes());
    let signature = b64url(&[0xfb, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
    let token = format!("{header}.{payload}.{signature}");
    let bearer = format!("Bearer {token}");
    let json = format!(r#"{{"id_token": "{token}"}}"#);
    let cookie = format!("session={token}");
    let msg = request(
        "https://t.example/c",
        &[
            ("Authorization", bearer.as_str()),
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/json"),
        ],
        json.as_bytes(),
    );
    let nodes = walk(&msg);
    assert_eq!(
        chains_of(&nodes, "header:Authorization", IMEI),
        vec![chain(&["jwt:payload", "json:$.imei"])]
    );
    assert_eq!(
        chains_of(&nodes, "header:Authorization", "k-1"),
        vec![chain(&["jwt:header", "json:$.kid"])]
    );
    assert_eq!(
        chains_of(&nodes, "cookie:session", IMEI),
        vec![chain(&["jwt:payload", "json:$.imei"])]
    );
    assert_eq!(
        chains_of(&nodes, "body", IMEI),
        vec![chain(&["json:$.id_token", "jwt:payload", "json:$.imei"])]
    );
    // The signature is never decoded.
    assert!(!nodes.iter().any(|n| n.2.starts_with(&[0xfb, 0xff])));
}

#[test]
fn malformed_jwts() {
    let payload = b64url(format!(r#"{{"imei":"{IMEI}"}}"#).as_bytes());
    for token in [
        format!("{}.{payload}.sig", b64url(br#"{"typ":"JWT"}"#)), // no alg
        format!("{}.{payload}.sig", b64url(br#"{"alg":1}"#)),     // alg not a string
        format!("{}.{payload}.sig", &b64url(br#"{"alg":"HS256"}"#)[..10]), // truncated header
        format!("{}.{payload}", b64url(br#"{"alg":"HS256"}"#)),   // two segments
        format!("{}.{payload}.a.b", b64url(br#"{"alg":"HS256"}"#)), // five segments
        format!("{}.!!!.sig", b64url(br#"{"alg":"HS256"}"#)),     // bad payload
    ] {
        let nodes = walk(&request(
            "https://t.example/c",
            &[("X-Token", token.as_str())],
            b"",
        ));
        assert!(!uses(&nodes, &["jwt:"]), "{token}");
    }
}

#[test]
fn xml_bodies_and_values() {
    let body = format!(
        "<?xml version=\"1.0\"?>\n<root>\n  <device id=\"{SERIAL}\" os='android &amp; more'>\n    \
         <imei>{IMEI}</imei>\n    <note><![CDATA[mac=3c:28:6d:11:22:33]]></note>\n    \
         <name>Sam &lt;Taylor&gt; &#x263A;</name>\n  </device>\n</root>"
    );
    let nodes = walk(&body_request(Some("text/xml"), body.as_bytes()));
    assert_eq!(
        chains_of(&nodes, "body", IMEI),
        vec![chain(&["xml:/root/device/imei"])]
    );
    assert_eq!(
        chains_of(&nodes, "body", SERIAL),
        vec![chain(&["xml:/root/device/@id"])]
    );
    assert_eq!(
        chains_of(&nodes, "body", "android & more"),
        vec![chain(&["xml:/root/device/@os"])]
    );
    assert_eq!(
        chains_of(&nodes, "body", "Sam <Taylor> \u{263a}"),
        vec![chain(&["xml:/root/device/name"])]
    );
    // CDATA content is decoded further (here as a form).
    assert_eq!(
        chains_of(&nodes, "body", "3c:28:6d:11:22:33"),
        vec![chain(&["xml:/root/device/note", "form:mac"])]
    );
    // XML in a form field, percent-encoded.
    let msg = request(
        "https://t.example/c",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("d=%3Cr%3E%3Cimei%3E{IMEI}%3C%2Fimei%3E%3C%2Fr%3E").as_bytes(),
    );
    assert_eq!(
        chains_of(&walk(&msg), "body", IMEI),
        vec![chain(&["form:d", "xml:/r/imei"])]
    );
}

#[test]
fn malformed_xml() {
    let deep = format!("{}{IMEI}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    let mut bomb = String::from("<!DOCTYPE l [<!ENTITY l0 \"ha\">");
    for i in 1..30 {
        bomb.push_str(&format!("<!ENTITY l{i} \"&l{};&l{};\">", i - 1, i - 1));
    }
    bomb.push_str("]><l>&l29;</l>");
    for body in [
        format!("<r><imei>{IMEI}</imei>"),
        format!("<r><imei>{IMEI}</r></imei>"),
        format!("<r a=\"{IMEI}></r>"),
        deep,
        "<".to_string(),
        "<html><br><p>hi</html>".to_string(),
    ] {
        let nodes = walk(&body_request(Some("text/xml"), body.as_bytes()));
        assert!(!uses(&nodes, &["xml:"]), "{}", &body[..body.len().min(40)]);
    }
    let (nodes, report) = walk_with(
        &body_request(Some("text/xml"), bomb.as_bytes()),
        &DecodeLimits::default(),
    );
    assert!(report.limits_hit.is_empty());
    assert_eq!(chains_of(&nodes, "body", "&l29;"), vec![chain(&["xml:/l"])]);
    let total: usize = nodes.iter().map(|n| n.2.len()).sum();
    assert!(total < 10 * bomb.len(), "{total}");
}

#[test]
fn json_lines_and_jsonp() {
    let body = format!(
        "{{\"event\": \"open\", \"imei\": \"{IMEI}\"}}\n\n{{\"event\": \"close\"}}\r\n[\"{SERIAL}\"]\n"
    );
    let nodes = walk(&body_request(Some("application/x-ndjson"), body.as_bytes()));
    assert_eq!(
        chains_of(&nodes, "body", IMEI),
        vec![chain(&["jsonl:0", "json:$.imei"])]
    );
    assert_eq!(
        chains_of(&nodes, "body", SERIAL),
        vec![chain(&["jsonl:3", "json:$[0]"])]
    );
    let jsonp = format!("/**/ jQuery3_1({{\"d\": {{\"imei\": \"{IMEI}\"}}}});");
    let nodes = walk(&body_request(
        Some("application/javascript"),
        jsonp.as_bytes(),
    ));
    assert_eq!(
        chains_of(&nodes, "body", IMEI),
        vec![chain(&["jsonp", "json:$.d.imei"])]
    );
    // JSON in a JSON string still works, and inside JSON Lines.
    let nested = format!("{{\"p\": \"{{\\\"imei\\\": \\\"{IMEI}\\\"}}\"}}\n{{\"q\": 1}}");
    let nodes = walk(&body_request(None, nested.as_bytes()));
    assert_eq!(
        chains_of(&nodes, "body", IMEI),
        vec![chain(&["jsonl:0", "json:$.p", "json:$.imei"])]
    );
    // Malformed: a broken line, a truncated call, not JSON inside.
    for body in [
        format!("{{\"imei\": \"{IMEI}\"}}\n{{\"a\": "),
        format!("cb({{\"imei\": \"{IMEI}\"}}"),
        format!("cb({{imei: {IMEI}}})"),
    ] {
        let nodes = walk(&body_request(None, body.as_bytes()));
        assert!(!uses(&nodes, &["jsonl:", "jsonp", "json:"]), "{body}");
    }
}

#[test]
fn lz4_values() {
    let json = format!(r#"{{"imei": "{IMEI}"}}"#);
    let frame = lz4(json.as_bytes());
    let nodes = walk(&body_request(None, &frame));
    assert_eq!(
        chains_of(&nodes, "body", IMEI),
        vec![chain(&["lz4", "json:$.imei"])]
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&frame);
    let msg = request(
        "https://t.example/c",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!(
            "p={}",
            b64.replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        )
        .as_bytes(),
    );
    assert_eq!(
        chains_of(&walk(&msg), "body", IMEI),
        vec![chain(&["form:p", "base64", "lz4", "json:$.imei"])]
    );
    // Truncated and trailing bytes: no lz4 node.
    let mut trailing = frame.clone();
    trailing.extend_from_slice(b"xyz");
    for body in [
        &frame[..frame.len() - 1],
        &frame[..frame.len() - 4],
        &trailing,
    ] {
        let nodes = walk(&body_request(None, body));
        assert!(!uses(&nodes, &["lz4"]));
    }
}

#[test]
fn lz4_bombs_respect_the_caps() {
    let frame = lz4(&vec![b'a'; 8 << 20]);
    let limits = DecodeLimits {
        max_expansion_ratio: 10,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&body_request(None, &frame), &limits);
    let out = nodes.iter().find(|n| n.1 == chain(&["lz4"])).unwrap();
    assert_eq!(out.2.len(), frame.len() * 10);
    assert!(
        report.limits_hit.iter().any(|l| l.contains("lz4")),
        "{:?}",
        report.limits_hit
    );
    let limits = DecodeLimits {
        max_decoded_bytes: 1 << 20,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&body_request(None, &frame), &limits);
    let decoded: usize = nodes
        .iter()
        .filter(|n| !n.1.is_empty())
        .map(|n| n.2.len())
        .sum();
    assert!(decoded <= 1 << 20);
    assert!(!report.limits_hit.is_empty());
}

#[test]
fn double_percent_encoding_and_plus() {
    let msg = request(
        "https://t.example/c?x=%2541&y=a+b%252Bc&z=%252B",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"q=Dinner+at+8%3F&r=%2541",
    );
    let nodes = walk(&msg);
    assert_eq!(chains_of(&nodes, "url", "%41"), vec![chain(&["query:x"])]);
    assert_eq!(
        chains_of(&nodes, "url", "A"),
        vec![chain(&["query:x", "percent"])]
    );
    assert_eq!(
        chains_of(&nodes, "url", "a b%2Bc"),
        vec![chain(&["query:y"])]
    );
    // A `+` that was itself encoded stays a `+` (the second decoding is not a form decoding).
    assert_eq!(
        chains_of(&nodes, "url", "a b+c"),
        vec![chain(&["query:y", "percent"])]
    );
    assert_eq!(
        chains_of(&nodes, "url", "+"),
        vec![chain(&["query:z", "percent"])]
    );
    assert_eq!(
        chains_of(&nodes, "body", "Dinner at 8?"),
        vec![chain(&["form:q"])]
    );
    assert_eq!(
        chains_of(&nodes, "body", "A"),
        vec![chain(&["form:r", "percent"])]
    );
}

#[test]
fn new_decoders_respect_node_trial_and_depth_caps() {
    // Many repeated fields: the node cap stops the walk.
    let many = Report {
        events: (0..5_000)
            .map(|i| Event {
                name: format!("event-{i}"),
                timestamp_ms: i,
            })
            .collect(),
        ..Report::default()
    }
    .encode_to_vec();
    let limits = DecodeLimits {
        max_nodes: 1_000,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&body_request(None, &many), &limits);
    assert_eq!(nodes.len(), 1_000);
    assert!(report.limits_hit.iter().any(|l| l.contains("node cap")));
    // Every nested message is a trial: the trial cap leaves the rest as bytes.
    let limits = DecodeLimits {
        max_trials: 100,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&body_request(None, &many), &limits);
    assert!(report.limits_hit.iter().any(|l| l.contains("trial")));
    assert!(chains_of(&nodes, "body", "event-0") == vec![chain(&["protobuf:3.1"])]);
    assert!(chains_of(&nodes, "body", "event-4999").is_empty());
    // The chain depth cap: base64 of protobuf at depth 1 of 1.
    let b64 = base64::engine::general_purpose::STANDARD.encode(sample_report().encode_to_vec());
    let limits = DecodeLimits {
        max_depth: 1,
        ..DecodeLimits::default()
    };
    let msg = request("https://t.example/c", &[("X-Bin", b64.as_str())], b"");
    let (nodes, report) = walk_with(&msg, &limits);
    assert!(!uses(&nodes, &["protobuf:"]));
    assert!(report.limits_hit.iter().any(|l| l.contains("depth")));
    // The byte cap counts XML paths and protobuf leaves.
    let xml = format!(
        "<r>{}</r>",
        format!("<item k=\"{IMEI}\">{IMEI}</item>").repeat(2_000)
    );
    let limits = DecodeLimits {
        max_decoded_bytes: 10_000,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&body_request(None, xml.as_bytes()), &limits);
    let spent: usize = nodes
        .iter()
        .filter(|n| !n.1.is_empty())
        .map(|n| n.2.len() + n.1.last().map_or(0, String::len))
        .sum();
    assert!(spent <= 10_000, "{spent}");
    assert!(report
        .limits_hit
        .iter()
        .any(|l| l.contains("decoded-bytes")));
}

#[test]
fn garbage_never_panics() {
    // Deterministic pseudo-random bodies built from bytes the new decoders look for.
    const ALPHABET: &[u8] = b"<>/=\"'&;#x![]{}()\n.eyJ\x00\x01\x80\x04\x22\x4d\x18\x08\x0a\x12\x1a\x22\x10\x09\x0d\x15\x1d\xff";
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut cases = 0;
    for len in [1usize, 2, 5, 9, 17, 64, 300, 2_000] {
        for _ in 0..60 {
            let body: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            for ct in [
                None,
                Some("application/grpc"),
                Some("application/x-protobuf"),
            ] {
                let _ = walk_with(&body_request(ct, &body), &DecodeLimits::default());
                cases += 1;
            }
        }
    }
    println!("{cases} garbage bodies walked");
}

#[test]
fn random_tokens_are_not_protobuf() {
    // Random UUIDs and base64 tokens decode (as base64) to random bytes, some of which parse as
    // protobuf; the plausibility score must keep them out.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut walked = 0;
    for round in 0..3_000 {
        let bytes: Vec<u8> = (0..(8 + round % 33)).map(|_| next() as u8).collect();
        let uuid = {
            let h = hex::encode([next().to_le_bytes(), next().to_le_bytes()].concat());
            format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            )
        };
        let tokens = [
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes),
            uuid,
        ];
        for token in &tokens {
            let nodes = walk(&request(
                "https://t.example/c",
                &[("X-Token", token.as_str())],
                b"",
            ));
            assert!(
                !uses(&nodes, &["protobuf:", "grpc:", "length-prefixed:"]),
                "{token}"
            );
            walked += 1;
        }
    }
    println!("{walked} random tokens walked");
}
