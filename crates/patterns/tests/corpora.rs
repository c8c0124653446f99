//! The scanner over real corpora.
//!
//! - Negative: every request and response of the mitmproxy HAR files (browser traffic to ordinary
//!   sites: HTML, JavaScript, CSS, SVG, JSON, images) and a few hand-written ordinary API
//!   responses. No high-confidence hit may come out of them, except `media` for real images whose
//!   type must agree with the HAR's MIME type. Medium and low hits are listed by the test and must
//!   be the ones justified below.
//! - Positive: the simulated handset's HAR (`phone-sim/sim`), walked the way phonehome-decode
//!   walks a message (query values, headers, JSON leaves, form fields, base64 inside them), with
//!   the hits the patterns must find per host, and none of the kinds its truth file forbids.

use base64::Engine;
use phonehome_patterns::{Confidence, PatternHit, PatternScanner};
use phonehome_testkit::testdata;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One node: where it came from (for messages), its key, its bytes.
struct Node {
    place: String,
    key: Option<String>,
    data: Vec<u8>,
}

/// A walked message: its nodes and its sibling groups.
#[derive(Default)]
struct Walked {
    nodes: Vec<Node>,
    groups: Vec<Vec<(String, Vec<u8>)>>,
}

impl Walked {
    fn node(&mut self, place: &str, key: Option<&str>, data: &[u8]) {
        self.nodes.push(Node {
            place: place.to_string(),
            key: key.map(str::to_string),
            data: data.to_vec(),
        });
    }

    /// A value and what decodes from it: JSON leaves, form fields, base64 of either.
    fn value(&mut self, place: &str, key: Option<&str>, data: &[u8], depth: usize) {
        self.node(place, key, data);
        if depth > 4 {
            return;
        }
        if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
            if json.is_object() || json.is_array() {
                self.json(place, key.unwrap_or("$"), &json);
                return;
            }
        }
        let text = String::from_utf8_lossy(data);
        let is_form = text.contains('=')
            && !text.contains(char::is_whitespace)
            && text.split('&').all(|pair| {
                pair.split_once('=').is_some_and(|(k, v)| {
                    !k.is_empty()
                        && !v.is_empty()
                        && k.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"_.-[]".contains(&b))
                })
            });
        if is_form {
            let fields = form_fields(&text);
            self.groups
                .push(fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
            for (k, v) in fields {
                self.value(place, Some(&k), &v, depth + 1);
            }
            return;
        }
        if data.len() >= 8 && !data.iter().all(u8::is_ascii_hexdigit) {
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(data) {
                if decoded.first().is_some_and(|b| *b == b'{' || *b == b'[') {
                    self.value(place, key, &decoded, depth + 1);
                }
            }
        }
    }

    /// JSON leaves with their keys (array elements take the array's key) and one group per
    /// object or array.
    fn json(&mut self, place: &str, key: &str, v: &serde_json::Value) {
        let leaf = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone().into_bytes()),
            serde_json::Value::Number(n) => Some(n.to_string().into_bytes()),
            _ => None,
        };
        match v {
            serde_json::Value::Object(map) => {
                self.groups.push(
                    map.iter()
                        .filter_map(|(k, v)| Some((k.clone(), leaf(v)?)))
                        .collect(),
                );
                for (k, v) in map {
                    match leaf(v) {
                        Some(bytes) => self.node(place, Some(k), &bytes),
                        None => self.json(place, k, v),
                    }
                }
            }
            serde_json::Value::Array(items) => {
                self.groups.push(
                    items
                        .iter()
                        .filter_map(|v| Some((key.to_string(), leaf(v)?)))
                        .collect(),
                );
                for v in items {
                    match leaf(v) {
                        Some(bytes) => self.node(place, Some(key), &bytes),
                        None => self.json(place, key, v),
                    }
                }
            }
            _ => {}
        }
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() && u8::from_str_radix(&s[i + 1..i + 3], 16).is_ok() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn form_fields(text: &str) -> Vec<(String, Vec<u8>)> {
    text.split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((
                String::from_utf8_lossy(&percent_decode(k)).into_owned(),
                percent_decode(v),
            ))
        })
        .collect()
}

/// Header names that carry no personal data of their own and are noisy.
fn skip_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with(':') || matches!(n.as_str(), "host" | "content-type" | "content-length")
}

/// Walks one HAR request or response (`part` = "request"/"response").
fn walk_har_message(entry: &serde_json::Value, part: &str) -> Walked {
    let mut w = Walked::default();
    let msg = &entry[part];
    if part == "request" {
        let url = msg["url"].as_str().unwrap_or("");
        if let Some((_, query)) = url.split_once('?') {
            let fields = form_fields(query);
            w.groups.push(fields.clone());
            for (k, v) in fields {
                w.value("url", Some(&k), &v, 0);
            }
        }
        if let Some(text) = msg["postData"]["text"].as_str() {
            w.value("body", None, text.as_bytes(), 0);
        }
    } else {
        let content = &msg["content"];
        if let Some(text) = content["text"].as_str() {
            let body = if content["encoding"].as_str() == Some("base64") {
                base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .unwrap_or_default()
            } else {
                text.as_bytes().to_vec()
            };
            w.value("body", None, &body, 0);
        }
    }
    for h in msg["headers"].as_array().into_iter().flatten() {
        let name = h["name"].as_str().unwrap_or("");
        if skip_header(name) {
            continue;
        }
        let value = h["value"].as_str().unwrap_or("");
        let place = format!("header:{name}");
        let key = phonehome_patterns::node_key(&place, &[]).map(|k| k.into_owned());
        w.value(&place, key.as_deref(), value.as_bytes(), 0);
    }
    w
}

/// Every hit of a walked message, with the node's place.
fn scan_walked(scanner: &PatternScanner, w: &Walked) -> Vec<(String, PatternHit)> {
    let mut out = Vec::new();
    for node in &w.nodes {
        let mut hits = Vec::new();
        scanner.scan_node(node.key.as_deref(), &node.data, &mut hits);
        out.extend(hits.into_iter().map(|h| (node.place.clone(), h)));
    }
    for g in &w.groups {
        let pairs: Vec<(&str, &[u8])> = g.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        let mut hits = Vec::new();
        scanner.scan_group(&pairs, &mut hits);
        out.extend(hits.into_iter().map(|h| ("group".to_string(), h)));
    }
    out
}

fn read_har(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap()
}

/// Medium and low hits that ordinary traffic may give, with why they are acceptable: each is
/// (kind, value) and the justification.
const JUSTIFIED: &[(&str, &str, &str)] = &[
    (
        "advertising_id",
        "b07c553b-1ffd-4414-924f-ca4412804a6d",
        "low: a mitmproxy flow id in a share link of the demo page",
    ),
    (
        "advertising_id",
        "1b55ded2-453f-414d-8356-9c024f271ca0",
        "low: Slack's session_id query value (a random session id is an identifier too)",
    ),
    (
        "advertising_id",
        "20b0ab55-dcc5-4ef4-9143-694309c56c5a",
        "low: a v4 UUID in a cookie (a browser id)",
    ),
    (
        "advertising_id",
        "97781583-edbd-4992-bc6d-41244fca980b",
        "low: a v4 UUID in a binary (protobuf) request body",
    ),
    (
        "advertising_id",
        "db37a49f-9fee-4129-9d97-2a68bac38af2",
        "low: a v4 UUID in a binary (protobuf) request body",
    ),
    (
        "email",
        "git@github.com",
        "low: GitHub's SSH clone address, a role account",
    ),
    (
        "email",
        "stanleygvi@gmail.com",
        "medium: a person's address inside a binary request body: a true positive",
    ),
];

#[test]
fn har_corpora_give_no_high_confidence_hits() {
    let Some(data) = testdata() else { return };
    let dirs = [
        data.join("external/mitmproxy/test/mitmproxy/data/har_files"),
        data.join("external/mitmproxy/test/mitmproxy/data/flows"),
    ];
    let scanner = PatternScanner::new(Some("US"));
    let mut files = 0;
    let mut messages = 0;
    let mut images = 0;
    let mut listed = Vec::new();
    let mut unexpected: Vec<String> = Vec::new();
    for dir in dirs {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "har"))
            .collect();
        paths.sort();
        for path in paths {
            let har = read_har(&path);
            files += 1;
            for entry in har["log"]["entries"].as_array().into_iter().flatten() {
                for part in ["request", "response"] {
                    messages += 1;
                    let walked = walk_har_message(entry, part);
                    for (place, hit) in scan_walked(&scanner, &walked) {
                        let name = path.file_name().unwrap().to_string_lossy();
                        if hit.kind == "media" {
                            let mime = entry[part]["content"]["mimeType"].as_str().unwrap_or("");
                            assert!(
                                mime.contains(hit.details["type"].as_str()),
                                "{name}: media {} in a {mime} body",
                                hit.details["type"]
                            );
                            images += 1;
                            continue;
                        }
                        assert_ne!(
                            hit.confidence,
                            Confidence::High,
                            "{name} {part} {place}: {hit:#?}"
                        );
                        listed.push(format!(
                            "{name} {part} {place}: {} {} `{}` ({})",
                            hit.confidence, hit.kind, hit.value, hit.reason
                        ));
                        let justified = JUSTIFIED
                            .iter()
                            .any(|(k, v, _)| *k == hit.kind && *v == hit.value);
                        if !justified {
                            unexpected.push(listed.last().unwrap().clone());
                        }
                    }
                }
            }
        }
    }
    eprintln!("{files} HAR files, {messages} messages, {images} images recognised");
    for l in &listed {
        eprintln!("  {l}");
    }
    assert!(
        unexpected.is_empty(),
        "unjustified hits:\n{}",
        unexpected.join("\n")
    );
    assert!(
        files >= 10 && messages >= 80,
        "{files} files, {messages} messages"
    );
    assert!(images >= 4, "the HAR files hold real PNG responses");
}

/// Ordinary API responses and pages, written the way real services write them.
const ORDINARY: &[(&str, &str)] = &[
    (
        "github repo",
        r##"{"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "Hello-World",
        "full_name": "octocat/Hello-World", "owner": {"login": "octocat", "id": 1,
        "avatar_url": "https://github.com/images/error/octocat_happy.gif", "type": "User"},
        "private": false, "html_url": "https://github.com/octocat/Hello-World",
        "clone_url": "https://github.com/octocat/Hello-World.git", "size": 108,
        "stargazers_count": 80, "watchers_count": 80, "language": null, "forks_count": 9,
        "pushed_at": "2011-01-26T19:06:43Z", "created_at": "2011-01-26T19:01:12Z",
        "updated_at": "2011-01-26T19:14:43Z", "version": "1.2.3", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "license": {"key": "mit", "spdx_id": "MIT"}, "topics": ["octocat", "atom", "electron", "api"]}"##,
    ),
    (
        "weather",
        r##"{"cod": "200", "message": 0, "cnt": 2, "list": [{"dt": 1661871600, "main": {"temp": 296.76,
        "feels_like": 296.98, "pressure": 1015, "humidity": 69}, "weather": [{"id": 500,
        "main": "Rain", "description": "light rain", "icon": "10d"}], "clouds": {"all": 100},
        "wind": {"speed": 0.62, "deg": 349, "gust": 1.18}, "visibility": 10000, "pop": 0.32,
        "dt_txt": "2022-08-30 15:00:00"}], "ratio": 0.123456789012345, "big": 123456789012345678,
        "order_id": "204812345678901", "ts_us": 1661871600123456}"##,
    ),
    (
        "config",
        r##"{"features": {"dark_mode": true, "new_feed": false}, "min_version": "4.12.0",
        "endpoints": ["api.example.com", "cdn.example.com", "img.example.com", "ws.example.com",
        "static.example.com"], "hosts": "a.example.com,b.example.com,c.example.com,d.example.com,e.example.com",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span": "00f067aa0ba902b7",
        "build": "2024.05.31.1030", "color": "#3c286d", "ratio": "16:9", "time": "12:30:45",
        "ipv6": "2001:db8:85a3::8a2e:370:7334", "mcast": "01:00:5e:7f:ff:fa"}"##,
    ),
    (
        "html",
        r##"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
        <link rel="icon" href="/favicon.ico"><link rel="stylesheet" href="/css/app.min.css?v=1.2.3">
        <img srcset="logo@2x.png 2x, logo@3x.png 3x" src="logo.png" width="120" height="40">
        <svg viewBox="0 0 24 24"><path d="M12.345,67.890 L1.234,5.678 C3.456,7.890 1.234,5.678 9.012,3.456Z"/>
        <g transform="translate(12.500000, 8.250000) scale(1.000000, 1.000000)"></g></svg>
        <script src="https://cdn.example.com/jquery-3.6.0.min.js" integrity="sha384-vtXRMe3mGCbOeY7l30aIg8H9p3GdeSe4IFlP6G8JMa7o7lXvnz3GFKzPxzJdPfGK"></script>
        <script>window.__CONFIG__={"sentry":"https://0123456789abcdef0123456789abcdef@o12345.ingest.sentry.io/678","v":"2.14.1"};
        var x = 1e+15, y = -0.5, z = 3.14159265358979; fetch('/api/v1/items?page=2&per_page=50');</script>
        <p>Contact our team via the form. Version 10.0.19045. Build 356938035643808.</p>
        <time datetime="2024-05-31T10:15:00Z">31 May</time></body></html>"##,
    ),
    (
        "css",
        r##".btn{color:#fff;background:rgba(12.345,67.890,1.234,0.5);transition:all .2s cubic-bezier(0.175, 0.885, 0.320, 1.275)}
        @font-face{font-family:x;src:url(font.woff2) format("woff2")}
        .a{transform:translate(10.123px,20.456px) rotate(45.000deg)}"##,
    ),
];

#[test]
fn ordinary_content_gives_no_hits() {
    let scanner = PatternScanner::new(Some("US"));
    for (name, text) in ORDINARY {
        let mut w = Walked::default();
        w.value("body", None, text.as_bytes(), 0);
        let hits = scan_walked(&scanner, &w);
        assert!(hits.is_empty(), "{name}: {hits:#?}");
    }
    eprintln!("{} ordinary bodies scanned", ORDINARY.len());
}

/// The patterns each request of the simulated handset must give: (host, kind, confidence).
const PHONE_SIM_EXPECTED: &[(&str, &str, Confidence)] = &[
    ("tracking.intl.miui.com", "imei", Confidence::High),
    (
        "data.ads.heytapmobi.com",
        "advertising_id",
        Confidence::High,
    ),
    ("api.push.oppomobile.com", "device_id", Confidence::High),
    ("sdk.hiido.com", "imei", Confidence::Medium),
    ("api.ad.intl.xiaomi.com", "serial", Confidence::Medium),
    ("api.ad.intl.xiaomi.com", "oaid", Confidence::High),
    ("sms.realme.com", "mac", Confidence::Medium),
    ("dm.wo.com.cn", "imsi", Confidence::High),
    ("dm.wo.com.cn", "iccid", Confidence::High),
    ("dm.wo.com.cn", "email", Confidence::High),
];

#[test]
fn phone_sim_requests_give_their_patterns() {
    let Some(data) = testdata() else { return };
    let scanner = PatternScanner::new(Some("GB"));
    let mut checked = 0;
    for variant in ["sim", "nosim"] {
        let dir = data.join("phone-sim").join(variant);
        let har = read_har(&dir.join("capture.har"));
        let truth = read_har(&dir.join("truth-har.json"));
        let entries = har["log"]["entries"].as_array().unwrap();
        let truth = truth.as_array().unwrap();
        assert_eq!(entries.len(), truth.len());
        let mut found: BTreeSet<(String, String, Confidence)> = BTreeSet::new();
        for (entry, expect) in entries.iter().zip(truth) {
            let host = expect["host"].as_str().unwrap();
            let walked = walk_har_message(entry, "request");
            let hits = scan_walked(&scanner, &walked);
            for (place, hit) in &hits {
                eprintln!(
                    "{variant} {host} {place}: {} {} `{}` ({})",
                    hit.confidence, hit.kind, hit.value, hit.reason
                );
                found.insert((host.to_string(), hit.kind.clone(), hit.confidence));
            }
            // No hit of a kind the truth forbids (near-miss decoys).
            for forbid in expect["forbid"].as_array().into_iter().flatten() {
                let forbid = forbid.as_str().unwrap();
                assert!(
                    hits.iter().all(|(_, h)| h.kind != forbid),
                    "{variant} {host}: forbidden {forbid}"
                );
            }
            // Every kind found is one the truth expects at this host, or another name of one:
            // `device_id` for the Android ID sent as X-Device-Id, and the low `advertising_id`
            // that the OAID's UUID shape gives where no key names it (the whole JSON document).
            let expected: Vec<&str> = expect["expect"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            for (_, h) in &hits {
                let ok = expected.contains(&h.kind.as_str())
                    || (h.kind == "device_id" && expected.contains(&"android_id"))
                    || (h.kind == "advertising_id"
                        && h.confidence == Confidence::Low
                        && expected.contains(&"oaid"));
                assert!(ok, "{variant} {host}: unexpected {} `{}`", h.kind, h.value);
            }
            checked += 1;
        }
        for (host, kind, confidence) in PHONE_SIM_EXPECTED {
            let sim_only = matches!(*kind, "imsi" | "iccid");
            if variant == "nosim" && sim_only {
                continue;
            }
            assert!(
                found.contains(&(host.to_string(), kind.to_string(), *confidence)),
                "{variant}: {host} should give {confidence} {kind}; found {found:?}"
            );
        }
    }
    eprintln!("{checked} phone-sim requests checked");
}
