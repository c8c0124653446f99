//! Whole-message detection and the folding of repeated hits.

use super::*;
use crate::Profile;
use phonehome_model::Body;
use phonehome_testkit::request_message as request;
use std::io::Write;

fn detector() -> Detector {
    let (profile, _) = Profile::parse(
        "[device]\nimei = \"356938035643809\"\nserial = \"R58N31XYZQ\"\nandroid_id = \"9774d56d682e549c\"\n\
         mac = \"3c:28:6d:01:23:45\"\nemail = \"sam.taylor@example.co.uk\"\n",
    )
    .unwrap();
    Detector::new(&profile)
}

/// (label, form, location, chain) of every hit of a profile value (`known`); identifiers nobody
/// listed (`pattern`) are checked by [`unlisted`].
fn detect(msg: &Message) -> Vec<(String, String, String, Vec<String>)> {
    let (hits, report) = detect_message(msg, &detector(), &DecodeLimits::default());
    assert!(report.limits_hit.is_empty());
    hits.into_iter()
        .filter(|h| h.hit.pattern.is_none())
        .map(|h| (h.hit.label, h.hit.form, h.location, h.chain))
        .collect()
}

/// (kind, value, chain) of every `pattern` hit.
fn unlisted(msg: &Message) -> Vec<(String, String, Vec<String>)> {
    let (hits, _) = detect_message(msg, &detector(), &DecodeLimits::default());
    hits.into_iter()
        .filter(|h| h.hit.pattern.is_some())
        .map(|h| (h.hit.kind, h.hit.value, h.chain))
        .collect()
}

fn hit(
    label: &str,
    form: &str,
    location: &str,
    chain: &[&str],
) -> (String, String, String, Vec<String>) {
    (
        label.into(),
        form.into(),
        location.into(),
        chain.iter().map(|s| s.to_string()).collect(),
    )
}

#[test]
fn brief_examples() {
    let msg = request(
        "https://api.ad.intl.xiaomi.com/u",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"p=eyJzbiI6ICJSNThOMzFYWVpRIiwgIm9haWQiOiAiMGY2ZTFjMmItM2E0ZC00ZTVmLThhOWItYzBkMWUyZjNhNGI1In0%3D",
    );
    assert_eq!(
        detect(&msg),
        [hit(
            "serial",
            "plain",
            "body",
            &["form:p", "base64", "json:$.sn"]
        )]
    );
    // The OAID is not in this profile: reported once as unlisted, at its key, not again at the
    // base64 blob that holds it, nor is the listed serial reported as unlisted.
    assert_eq!(
        unlisted(&msg),
        [(
            "oaid".to_string(),
            "0f6e1c2b-3a4d-4e5f-8a9b-c0d1e2f3a4b5".to_string(),
            vec!["form:p".to_string(), "base64".into(), "json:$.oaid".into()]
        )]
    );

    let msg = request(
        "http://sdk.hiido.com/c.gif?imei_md5=af2d48f2495881aed1737bb21017f9b6",
        &[],
        b"",
    );
    assert_eq!(
        detect(&msg),
        [hit("imei #1", "md5", "url", &["query:imei_md5"])]
    );

    let msg = request(
        "https://api.push.oppomobile.com/register",
        &[("X-Device-Id", "9774d56d682e549c")],
        b"",
    );
    assert_eq!(
        detect(&msg),
        [hit("android_id", "plain", "header:X-Device-Id", &[])]
    );

    let json = br#"{"imei": "356938035643809", "v": 1}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json).unwrap();
    let mut msg = request(
        "https://t.example/",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        b"",
    );
    msg.body = Body {
        raw: gz.finish().unwrap(),
        decoded: Some(json.to_vec()),
        encodings: vec!["gzip".into()],
        truncated: false,
    };
    assert_eq!(
        detect(&msg),
        [hit(
            "imei #1",
            "plain",
            "body",
            &["content-encoding:gzip", "json:$.imei"]
        )]
    );
}

#[test]
fn transforms_keep_the_shallowest() {
    // The email is visible in the query value already; its percent-decoded copy is not reported.
    let msg = request(
        "https://x.example/r?m=sam.taylor%2540example.co.uk&s=R58N31XYZQ%25",
        &[],
        b"",
    );
    assert_eq!(
        detect(&msg),
        [
            hit("email #1", "plain", "url", &["query:m", "percent"]),
            hit("serial", "plain", "url", &["query:s"])
        ]
    );
    // A percent-encoded form inside a JSON string: the IMEI shows in the leaf already.
    let msg = request(
        "https://x.example/",
        &[],
        br#"{"q": "a%3D1%26imei%3D356938035643809"}"#,
    );
    assert_eq!(
        detect(&msg),
        [hit("imei #1", "plain", "body", &["json:$.q"])]
    );
    // The MAC needs the decoding: it is reported where it appears.
    let msg = request(
        "https://x.example/",
        &[],
        br#"{"q": "a%3D1%26mac%3D3c%253A28%253A6d%253A01%253A23%253A45"}"#,
    );
    assert_eq!(
        detect(&msg),
        [hit(
            "mac #1",
            "plain",
            "body",
            &["json:$.q", "percent", "form:mac"]
        )]
    );
}

#[test]
fn selectors_keep_the_deepest() {
    let msg = request(
        "https://x.example/",
        &[],
        br#"{"a": {"imei": "356938035643809"}, "b": ["356938035643809"]}"#,
    );
    assert_eq!(
        detect(&msg),
        [
            hit("imei #1", "plain", "body", &["json:$.a.imei"]),
            hit("imei #1", "plain", "body", &["json:$.b[0]"])
        ]
    );
    // The same value twice in one node, and in two headers of the same name: one hit.
    let msg = request(
        "https://x.example/",
        &[
            ("X-Id", "9774d56d682e549c 9774d56d682e549c"),
            ("X-Id", "9774d56d682e549c"),
        ],
        b"",
    );
    assert_eq!(
        detect(&msg),
        [hit("android_id", "plain", "header:X-Id", &[])]
    );
    // Different forms are different hits.
    let msg = request(
        "https://x.example/",
        &[("Cookie", "a=R58N31XYZQ; b=r58n31xyzq")],
        b"",
    );
    assert_eq!(
        detect(&msg),
        [
            hit("serial", "plain", "cookie:a", &[]),
            hit("serial", "formatted", "cookie:b", &[])
        ]
    );
}

#[test]
fn value_in_a_query_name_stays_at_the_url() {
    let msg = request("https://x.example/p/356938035643809?R58N31XYZQ", &[], b"");
    assert_eq!(
        detect(&msg),
        [
            hit("serial", "plain", "url", &[]),
            hit("imei #1", "plain", "url", &["path:1"])
        ]
    );
}

#[test]
fn clean_request_has_no_hits() {
    let msg = request(
        "https://www.google.com/generate_204",
        &[("Host", "www.google.com")],
        b"",
    );
    let (hits, report) = detect_message(&msg, &detector(), &DecodeLimits::default());
    assert!(hits.is_empty());
    assert_eq!(
        report.nodes, 3,
        "url, path:0 and the Host header: {report:?}"
    );
}

/// A JSON array of `n` copies of the profile's IMEI.
fn imei_array(n: usize) -> Vec<u8> {
    serde_json::to_vec(&vec!["356938035643809"; n]).unwrap()
}

/// Regression: one request whose JSON body repeats an identifier in N leaves used to give N hits
/// and keep N nodes' chains, whatever N. Hits are now capped per message, and the cap is reported.
#[test]
fn hit_cap() {
    let msg = request("https://x.example/", &[], &imei_array(20_000));
    let (hits, report) = detect_message(&msg, &detector(), &DecodeLimits::default());
    assert!(hits.len() <= MAX_HITS_PER_MESSAGE, "{}", hits.len());
    assert!(hits.len() >= MAX_HITS_PER_MESSAGE - 10, "{}", hits.len());
    assert!(
        report
            .limits_hit
            .iter()
            .any(|l| l.contains("MAX_HITS_PER_MESSAGE = 10000")),
        "{:?}",
        report.limits_hit
    );
    // The walk still visited everything; the first leaves are the ones reported, in order.
    assert_eq!(report.nodes, 20_000 + 2, "url, body and the leaves");
    assert_eq!(hits[0].chain, ["json:$[0]"]);
    assert_eq!(hits[1].chain, ["json:$[1]"]);

    // Below the cap nothing is cut.
    let msg = request("https://x.example/", &[], &imei_array(500));
    let (hits, report) = detect_message(&msg, &detector(), &DecodeLimits::default());
    assert_eq!(hits.len(), 500);
    assert!(report.limits_hit.is_empty(), "{:?}", report.limits_hit);
}

/// The walk's node cap bounds the nodes scanned, and so the detector's bookkeeping.
#[test]
fn node_cap_bounds_the_scan() {
    let msg = request("https://x.example/", &[], &imei_array(1000));
    let limits = DecodeLimits {
        max_nodes: 100,
        ..DecodeLimits::default()
    };
    let (hits, report) = detect_message(&msg, &detector(), &limits);
    assert_eq!(report.nodes, 100);
    // The url and the body take two nodes; the other 98 are leaves.
    assert_eq!(hits.len(), 98);
    assert!(
        report
            .limits_hit
            .iter()
            .any(|l| l.contains("max_nodes = 100")),
        "{:?}",
        report.limits_hit
    );
}
