//! Walks over whole messages.

use super::*;
use base64::Engine;
use phonehome_model::Body;
use phonehome_testkit::request_message as request;
use std::io::Write;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

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

/// The (location, chain) of every node whose data is exactly `value`.
fn chains_of(nodes: &[Node], value: &str) -> Vec<(String, Vec<String>)> {
    nodes
        .iter()
        .filter(|n| n.2 == value.as_bytes())
        .map(|n| (n.0.clone(), n.1.clone()))
        .collect()
}

fn chain(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn form_base64_json() {
    let msg = request(
        "https://api.ad.intl.xiaomi.com/u",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"p=eyJzbiI6ICJSNThOMzFYWVpRIiwgIm9haWQiOiAiMGY2ZTFjMmItM2E0ZC00ZTVmLThhOWItYzBkMWUyZjNhNGI1In0%3D",
    );
    let nodes = walk(&msg);
    assert_eq!(
        chains_of(&nodes, "R58N31XYZQ"),
        vec![("body".into(), chain(&["form:p", "base64", "json:$.sn"]))]
    );
    assert_eq!(
        chains_of(&nodes, "0f6e1c2b-3a4d-4e5f-8a9b-c0d1e2f3a4b5"),
        vec![("body".into(), chain(&["form:p", "base64", "json:$.oaid"]))]
    );
    // The part itself comes first.
    assert_eq!(nodes[0].0, "url");
    assert!(nodes.iter().any(|n| n.0 == "body" && n.1.is_empty()));
}

#[test]
fn url_query_and_path() {
    let msg = request(
        "http://sdk.hiido.com/c%2Egif/a%40b/?imei_md5=af2d48f2495881aed1737bb21017f9b6&mail=sam.taylor%40example.co.uk&x",
        &[],
        b"",
    );
    let nodes = walk(&msg);
    assert_eq!(
        nodes[0],
        ("url".into(), vec![], msg.url.as_bytes().to_vec())
    );
    assert_eq!(
        chains_of(&nodes, "af2d48f2495881aed1737bb21017f9b6"),
        vec![("url".into(), chain(&["query:imei_md5"]))]
    );
    assert_eq!(
        chains_of(&nodes, "sam.taylor@example.co.uk"),
        vec![("url".into(), chain(&["query:mail"]))]
    );
    assert_eq!(
        chains_of(&nodes, "c.gif"),
        vec![("url".into(), chain(&["path:0"]))]
    );
    assert_eq!(
        chains_of(&nodes, "a@b"),
        vec![("url".into(), chain(&["path:1"]))]
    );
    // An md5 digest is not hex-decoded, and the URL is not percent-decoded as a whole.
    assert!(!nodes
        .iter()
        .any(|n| n.1.iter().any(|s| s == "hex" || s == "percent")));
}

#[test]
fn headers_and_cookies() {
    let msg = request(
        "https://api.push.oppomobile.com/register",
        &[
            ("X-Device-Id", "9774d56d682e549c"),
            (":authority", "api.push.oppomobile.com"),
            ("Cookie", "sid=abc; did=\"9774d56d682e549c\""),
        ],
        b"",
    );
    let nodes = walk(&msg);
    assert_eq!(
        chains_of(&nodes, "9774d56d682e549c"),
        vec![
            ("header:X-Device-Id".into(), vec![]),
            ("cookie:did".into(), vec![])
        ]
    );
    assert!(!nodes
        .iter()
        .any(|n| n.0.starts_with("header::") || n.0 == "header:Cookie"));
}

#[test]
fn content_encoding_json() {
    let mut msg = request(
        "https://t.example/track",
        &[("Content-Type", "application/json")],
        b"",
    );
    let json = br#"{"imei": "356938035643809", "n": 447700900123}"#;
    msg.body = Body {
        raw: gzip(json),
        decoded: Some(json.to_vec()),
        encodings: vec!["gzip".into()],
        truncated: false,
    };
    let nodes = walk(&msg);
    assert_eq!(
        chains_of(&nodes, "356938035643809"),
        vec![(
            "body".into(),
            chain(&["content-encoding:gzip", "json:$.imei"])
        )]
    );
    assert_eq!(
        chains_of(&nodes, "447700900123"),
        vec![("body".into(), chain(&["content-encoding:gzip", "json:$.n"]))]
    );
    assert_eq!(
        nodes
            .iter()
            .filter(|n| n.1 == chain(&["content-encoding:gzip"]))
            .count(),
        1
    );
}

#[test]
fn nested_encodings() {
    // JSON in a JSON string; a percent-encoded form in a JSON string; hex of JSON; base64 of gzip.
    let inner_hex = hex::encode(br#"{"imsi":"234101234567890"}"#);
    let b64_gz = B64.encode(gzip(b"iccid=8944101234567890123"));
    let body = serde_json::json!({
        "wrapped": "{\"android_id\": \"9774d56d682e549c\"}",
        "q": "a%3D1%26mac%3D3c%253A28",
        "h": inner_hex,
        "z": b64_gz,
    })
    .to_string();
    let msg = request("https://x.example/", &[], body.as_bytes());
    let nodes = walk(&msg);
    assert_eq!(
        chains_of(&nodes, "9774d56d682e549c"),
        vec![(
            "body".into(),
            chain(&["json:$.wrapped", "json:$.android_id"])
        )]
    );
    assert_eq!(
        chains_of(&nodes, "3c:28"),
        vec![("body".into(), chain(&["json:$.q", "percent", "form:mac"]))]
    );
    assert_eq!(
        chains_of(&nodes, "234101234567890"),
        vec![("body".into(), chain(&["json:$.h", "hex", "json:$.imsi"]))]
    );
    assert_eq!(
        chains_of(&nodes, "8944101234567890123"),
        vec![(
            "body".into(),
            chain(&["json:$.z", "base64", "gzip", "form:iccid"])
        )]
    );
}

#[test]
fn base64url_and_binary_with_text() {
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("{\"k\":\"?>?>?>\"}");
    assert!(
        url_safe.contains('_') || url_safe.contains('-'),
        "{url_safe}"
    );
    let proto = B64.encode(b"\x08\x01\x12\x0f356938035643809\x18\x02");
    let msg = request(
        "https://x.example/",
        &[("X-A", &url_safe), ("X-B", &proto)],
        b"",
    );
    let nodes = walk(&msg);
    assert_eq!(
        chains_of(&nodes, "?>?>?>"),
        vec![("header:X-A".into(), chain(&["base64url", "json:$.k"]))]
    );
    assert!(nodes
        .iter()
        .any(|n| n.0 == "header:X-B" && n.1 == chain(&["base64"])));
}

#[test]
fn multipart_body() {
    let body = b"--b0\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n\
{\"serial\":\"R58N31XYZQ\"}\r\n--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\nraw\r\n--b0--\r\n";
    let msg = request(
        "https://x.example/up",
        &[("Content-Type", "multipart/form-data; boundary=b0")],
        body,
    );
    let nodes = walk(&msg);
    assert_eq!(
        chains_of(&nodes, "R58N31XYZQ"),
        vec![("body".into(), chain(&["multipart:meta", "json:$.serial"]))]
    );
    assert_eq!(
        chains_of(&nodes, "raw"),
        vec![("body".into(), chain(&["multipart:file"]))]
    );
}

#[test]
fn guessed_body_formats() {
    let msg = request(
        "https://x.example/",
        &[("Content-Type", "text/plain")],
        b"imei=356938035643809&v=2",
    );
    assert_eq!(
        chains_of(&walk(&msg), "356938035643809"),
        vec![("body".into(), chain(&["form:imei"]))]
    );
    let msg = request("https://x.example/", &[], b"  [\"356938035643809\"]");
    assert_eq!(
        chains_of(&walk(&msg), "356938035643809"),
        vec![("body".into(), chain(&["json:$[0]"]))]
    );
}

#[test]
fn malformed_inputs_do_not_fail() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for body in [
        &b"a=%ZZ%&b=%4"[..],
        b"%%%%",
        b"eyJzbiI6ICJSNThOMzFYWVpRIn0===",
        b"!!!notbase64!!!",
        b"{\"a\": \"unterminated",
        deep.as_bytes(),
        b"\x1f\x8b\x08\x00garbage-gzip",
        b"\x28\xb5\x2f\xfdgarbage-zstd",
        b"\xff\xfe\x00\x01",
    ] {
        let msg = request(
            "https://x.example/%zz/?a=%&=b&&",
            &[("X", "%"), ("Cookie", ";;=;")],
            body,
        );
        let (nodes, report) = walk_with(&msg, &DecodeLimits::default());
        if body == deep.as_bytes() {
            // Too deep for serde_json: said so, and still scanned as text.
            assert!(
                report
                    .limits_hit
                    .iter()
                    .any(|l| l.contains("nested deeper than 128")),
                "{:?}",
                report.limits_hit
            );
        } else {
            assert!(
                report.limits_hit.is_empty(),
                "{body:?}: {:?}",
                report.limits_hit
            );
        }
        // The raw body is always visited.
        assert!(
            nodes
                .iter()
                .any(|n| n.0 == "body" && n.1.is_empty() && n.2 == body),
            "{body:?}"
        );
    }
    let (nodes, report) = walk_with(
        &request(
            "https://x.example/",
            &[("Content-Type", "application/json")],
            deep.as_bytes(),
        ),
        &DecodeLimits::default(),
    );
    assert_eq!(
        nodes.len(),
        3,
        "url, the Content-Type header and the raw body only"
    );
    assert_eq!(report.limits_hit.len(), 1, "{:?}", report.limits_hit);
}

#[test]
fn depth_cap() {
    let mut value = "{\"imei\":\"356938035643809\"}".to_string();
    for _ in 0..12 {
        value = B64.encode(value);
    }
    let msg = request("https://x.example/", &[("X-Nested", &value)], b"");
    let limits = DecodeLimits {
        max_depth: 5,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&msg, &limits);
    assert!(nodes.iter().all(|n| n.1.len() <= 5));
    assert!(nodes.iter().any(|n| n.1.len() == 5));
    assert_eq!(report.limits_hit.len(), 1);
    assert!(
        report.limits_hit[0].contains("max_decode_depth = 5"),
        "{:?}",
        report.limits_hit
    );
    // With enough depth the value comes out.
    let limits = DecodeLimits {
        max_depth: 14,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&msg, &limits);
    assert!(report.limits_hit.is_empty());
    assert_eq!(chains_of(&nodes, "356938035643809")[0].1.len(), 13);
}

#[test]
fn decoded_bytes_cap_and_bombs() {
    let bomb = B64.encode(gzip(&vec![b'a'; 8 << 20]));
    let msg = request("https://x.example/", &[("X-Bomb", &bomb)], b"");
    let limits = DecodeLimits {
        max_decoded_bytes: 1 << 20,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&msg, &limits);
    let total: usize = nodes
        .iter()
        .filter(|n| !n.1.is_empty())
        .map(|n| n.2.len())
        .sum();
    assert!(total <= 1 << 20, "{total}");
    assert!(
        report
            .limits_hit
            .iter()
            .any(|l| l.contains("gzip") && l.contains("max_decoded_bytes = 1048576")),
        "{:?}",
        report.limits_hit
    );

    // The expansion ratio bounds each decompression.
    let limits = DecodeLimits {
        max_expansion_ratio: 10,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&msg, &limits);
    let gz = nodes
        .iter()
        .find(|n| n.1.last().is_some_and(|s| s == "gzip"))
        .unwrap();
    assert!(gz.2.len() <= bomb.len() * 10);
    assert!(!report.limits_hit.is_empty());

    // Plain selectors count too: a form with more value bytes than the budget.
    let body = "a=".to_string() + &"x".repeat(2000) + "&b=" + &"y".repeat(2000);
    let limits = DecodeLimits {
        max_decoded_bytes: 3000,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(
        &request("https://x.example/", &[], body.as_bytes()),
        &limits,
    );
    assert_eq!(
        nodes.iter().filter(|n| n.1 == chain(&["form:b"])).count(),
        0
    );
    assert_eq!(
        nodes.iter().filter(|n| n.1 == chain(&["form:a"])).count(),
        1
    );
    assert!(report.limits_hit[0].contains("max_decoded_bytes = 3000"));
}

#[test]
fn trial_cap() {
    // 20 000 JSON leaves that each pass the base64 syntax check.
    let leaves: Vec<String> = (0..20_000).map(|i| format!("QUJDREVGR0hJ{i:08}")).collect();
    let body = serde_json::to_vec(&leaves).unwrap();
    let msg = request("https://x.example/", &[], &body);
    let limits = DecodeLimits {
        max_trials: 500,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&msg, &limits);
    assert!(
        report
            .limits_hit
            .iter()
            .any(|l| l.contains("max_trials = 500")),
        "{:?}",
        report.limits_hit
    );
    // Every leaf is still visited; only the decoding of later ones is skipped.
    assert!(nodes.iter().filter(|n| n.1.len() == 1).count() >= 20_000);
    assert!(nodes.iter().filter(|n| n.1.len() == 2).count() <= 500);
}

#[test]
fn step_kinds() {
    for s in ["query:a", "form:b", "multipart:c", "path:0", "json:$.x"] {
        assert_eq!(step_kind(s), StepKind::Selector, "{s}");
    }
    for s in [
        "percent",
        "base64",
        "base64url",
        "hex",
        "gzip",
        "content-encoding:br",
        "zstd",
    ] {
        assert_eq!(step_kind(s), StepKind::Transform, "{s}");
    }
}

#[test]
fn limits_from_model() {
    let l = Limits {
        max_decode_depth: 3,
        max_decoded_bytes: 99,
        max_expansion_ratio: 7,
        max_zstd_window: 1 << 20,
        ..Limits::default()
    };
    assert_eq!(
        DecodeLimits::from_limits(&l),
        DecodeLimits {
            max_depth: 3,
            max_decoded_bytes: 99,
            max_expansion_ratio: 7,
            max_trials: DEFAULT_MAX_TRIALS,
            max_nodes: DEFAULT_MAX_NODES,
            zstd_max_window_log: 20,
        }
    );
}

#[test]
fn json_sent_as_a_form() {
    let msg = request(
        "https://x.example/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        br#"{"q": "a=b", "imei": "356938035643809"}"#,
    );
    assert_eq!(
        chains_of(&walk(&msg), "356938035643809"),
        vec![("body".into(), chain(&["json:$.imei"]))]
    );
}

/// A small deterministic generator (xorshift64*) for garbage inputs.
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Bytes drawn mostly from the characters the decoders react to.
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"%=&{}[]\":,+/-_0123456789abcdefABCDEFxyzXYZ \r\n\x1f\x8b\x08\x28\xb5\x2f\xfd\x78\x9c\xff";
        (0..len)
            .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize])
            .collect()
    }
}

#[test]
fn garbage_never_panics() {
    let mut g = Garbage(0x9e37_79b9_7f4a_7c15);
    let types = [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=--",
        "text/plain",
    ];
    let mut nodes = 0;
    for i in 0..300 {
        let len = (g.next() % 3000) as usize;
        let body = g.bytes(len);
        let header = String::from_utf8_lossy(&g.bytes(64)).into_owned();
        let url = format!(
            "https://x.example/{}?{}",
            String::from_utf8_lossy(&g.bytes(40)),
            String::from_utf8_lossy(&g.bytes(40))
        );
        let msg = request(
            &url,
            &[
                ("Content-Type", types[i % types.len()]),
                ("X-G", &header),
                ("Cookie", &header),
            ],
            &body,
        );
        let (visited, _) = walk_with(&msg, &DecodeLimits::default());
        nodes += visited.len();
    }
    assert!(nodes >= 300 * 3);
}

/// `{"<key>":[0,0,…]}` with `n` zeros.
fn long_key_array(key: &str, n: usize) -> Vec<u8> {
    let zeros = vec!["0"; n].join(",");
    format!("{{\"{key}\":[{zeros}]}}").into_bytes()
}

/// Regression: every leaf of an array under a 100 KB key used to carry its own copy of the key in
/// its path (20 000 leaves × 100 KB = 2 GB of paths). Paths now shorten long keys, so each chain
/// stays under 100 bytes and the walk's path bytes are linear in the number of leaves.
#[test]
fn long_json_keys_give_short_paths() {
    let key = "k".repeat(100_000);
    let body = long_key_array(&key, 20_000);
    assert!(body.len() < 150_000);
    let msg = request(
        "https://x.example/",
        &[("Content-Type", "application/json")],
        &body,
    );
    let (nodes, report) = walk_with(&msg, &DecodeLimits::default());
    assert!(report.limits_hit.is_empty(), "{:?}", report.limits_hit);
    let leaves: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.0 == "body" && n.1.len() == 1)
        .collect();
    assert_eq!(leaves.len(), 20_000);
    let shortened = format!("json:$['{}…{}']", "k".repeat(64), json::key_digest(&key));
    assert_eq!(leaves[0].1, vec![format!("{shortened}[0]")]);
    assert_eq!(leaves[19_999].1, vec![format!("{shortened}[19999]")]);
    let path_bytes: usize = nodes
        .iter()
        .map(|n| n.1.iter().map(String::len).sum::<usize>())
        .sum();
    let longest = nodes
        .iter()
        .map(|n| n.1.iter().map(String::len).sum::<usize>())
        .max()
        .unwrap();
    assert!(longest <= 100, "{longest}");
    assert!(path_bytes <= 20_000 * 100, "{path_bytes}");

    // Long keys that differ only past the cut still get distinct paths.
    let a = format!("{}a", "x".repeat(70));
    let b = format!("{}b", "x".repeat(70));
    let body = format!(r#"{{"{a}": "356938035643809", "{b}": "356938035643819"}}"#);
    let nodes = walk(&request("https://x.example/", &[], body.as_bytes()));
    let (pa, pb) = (
        &chains_of(&nodes, "356938035643809")[0].1,
        &chains_of(&nodes, "356938035643819")[0].1,
    );
    assert_ne!(pa, pb);
    assert!(pa[0].starts_with(&format!("json:$['{}…", "x".repeat(64))));
}

/// Regression: the number of nodes visited per message is capped (`max_nodes`), and the cap is
/// reported; the nodes before it are visited as usual.
#[test]
fn node_cap() {
    let body = long_key_array("n", 200_000);
    let msg = request("https://x.example/", &[], &body);
    let (nodes, report) = walk_with(&msg, &DecodeLimits::default());
    assert_eq!(report.nodes, DEFAULT_MAX_NODES);
    assert_eq!(nodes.len(), DEFAULT_MAX_NODES);
    assert!(
        report
            .limits_hit
            .iter()
            .any(|l| l.contains("max_nodes = 100000")),
        "{:?}",
        report.limits_hit
    );
    // Document order up to the cap: url, body, then the leaves from the first one on.
    assert_eq!(nodes[2].1, chain(&["json:$.n[0]"]));
    assert_eq!(
        nodes.last().unwrap().1,
        vec![format!("json:$.n[{}]", DEFAULT_MAX_NODES - 3)]
    );

    // Roots count too: a message with more headers than the cap.
    let headers: Vec<(String, String)> = (0..50).map(|i| (format!("X-{i}"), "v".into())).collect();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let limits = DecodeLimits {
        max_nodes: 10,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&request("https://x.example/", &headers, b""), &limits);
    assert_eq!(nodes.len(), 10);
    assert!(report.limits_hit[0].contains("max_nodes = 10"));

    // Exactly at the cap with nothing left over is not reported.
    let limits = DecodeLimits {
        max_nodes: 2,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(&request("https://x.example/", &[("X", "v")], b""), &limits);
    assert_eq!(nodes.len(), 2);
    assert!(report.limits_hit.is_empty(), "{:?}", report.limits_hit);
}

/// Regression: JSON paths count against `max_decoded_bytes`, so leaves with short values but long
/// paths cannot make the walk produce more than the budget.
#[test]
fn json_paths_count_against_decoded_bytes() {
    let key = "p".repeat(60);
    let items: Vec<String> = (0..1000).map(|_| format!(r#"{{"{key}": "1"}}"#)).collect();
    let body = format!("[{}]", items.join(","));
    let limits = DecodeLimits {
        max_decoded_bytes: 8000,
        ..DecodeLimits::default()
    };
    let (nodes, report) = walk_with(
        &request("https://x.example/", &[], body.as_bytes()),
        &limits,
    );
    let leaves: Vec<&Node> = nodes.iter().filter(|n| n.1.len() == 1).collect();
    // Each leaf costs its 1-byte value plus a ~75-byte chain element.
    let spent: usize = leaves.iter().map(|n| n.1[0].len() + n.2.len()).sum();
    assert!(spent <= 8000, "{spent}");
    assert!(leaves.len() > 50 && leaves.len() < 120, "{}", leaves.len());
    assert!(
        report
            .limits_hit
            .iter()
            .any(|l| l.contains("max_decoded_bytes = 8000")),
        "{:?}",
        report.limits_hit
    );
}
