//! The phone-sim HAR captures against their ground truth: every expected (host, kind) is found,
//! nothing else is (closed world), and forbidden kinds (decoys) never are.

use phonehome_decode::DecodeLimits;
use phonehome_detect::{detect_message, Detector, Profile};
use phonehome_model::{Header, Message, SourceRef, Transport};
use phonehome_testkit::{request_message, testdata};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The host and origin-form target of an absolute URL.
fn host_and_target(url: &str) -> (String, String) {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (authority, target) = match after_scheme.find('/') {
        Some(slash) => (&after_scheme[..slash], &after_scheme[slash..]),
        None => (after_scheme, "/"),
    };
    (authority.to_string(), target.to_string())
}

/// A request [`Message`] built from a HAR entry's `request` object (HAR 1.2).
fn har_request(file: &Arc<str>, number: u64, request: &Value) -> Message {
    let url = str_field(request, "url").to_string();
    let (authority, target) = host_and_target(&url);
    let mut headers: Vec<Header> = request
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|h| Header::new(str_field(h, "name"), str_field(h, "value")))
        .collect();
    let cookies: Vec<String> = request
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| format!("{}={}", str_field(c, "name"), str_field(c, "value")))
        .collect();
    if !cookies.is_empty()
        && !headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("cookie"))
    {
        headers.push(Header::new("Cookie", cookies.join("; ")));
    }
    let post = request.get("postData");
    let body = post
        .map(|p| str_field(p, "text").as_bytes().to_vec())
        .unwrap_or_default();
    let mime = post.map(|p| str_field(p, "mimeType")).unwrap_or("");
    if !mime.is_empty()
        && !headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("content-type"))
    {
        headers.push(Header::new("Content-Type", mime));
    }
    let host = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("host"))
        .map_or(authority, |h| {
            String::from_utf8_lossy(&h.value).into_owned()
        });
    Message {
        source: SourceRef::entry(file.clone(), number),
        transport: Transport {
            http: Some(str_field(request, "httpVersion").to_string()),
            ..Transport::default()
        },
        method: Some(str_field(request, "method").to_string()),
        target,
        host: Some(host),
        headers,
        ..request_message(&url, &[], &body)
    }
}

fn kinds(v: &Value, key: &str) -> BTreeSet<String> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

#[test]
fn har_captures_match_truth() {
    let Some(dir) = testdata() else { return };
    let mut requests = 0;
    for case in ["sim", "nosim"] {
        let case_dir = dir.join("phone-sim").join(case);
        let profile_text = std::fs::read_to_string(case_dir.join("device.toml")).unwrap();
        let (profile, warnings) = Profile::parse(&profile_text).unwrap();
        assert!(warnings.is_empty(), "{case}: {warnings:?}");
        let detector = Detector::new(&profile);
        let har: Value =
            serde_json::from_slice(&std::fs::read(case_dir.join("capture.har")).unwrap()).unwrap();
        let truth: Value =
            serde_json::from_slice(&std::fs::read(case_dir.join("truth-har.json")).unwrap())
                .unwrap();

        let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut forbidden: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in truth.as_array().unwrap() {
            let host = str_field(row, "host").to_string();
            expected
                .entry(host.clone())
                .or_default()
                .extend(kinds(row, "expect"));
            forbidden
                .entry(host)
                .or_default()
                .extend(kinds(row, "forbid"));
        }

        let file: Arc<str> = Arc::from(case_dir.join("capture.har").to_string_lossy().as_ref());
        let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let entries = har["log"]["entries"].as_array().unwrap();
        for (i, entry) in entries.iter().enumerate() {
            let msg = har_request(&file, i as u64 + 1, &entry["request"]);
            let (hits, report) = detect_message(&msg, &detector, &DecodeLimits::default());
            assert!(
                report.limits_hit.is_empty(),
                "{case} {}: {:?}",
                msg.url,
                report.limits_hit
            );
            let host = msg.host.clone().unwrap();
            let kinds = found.entry(host).or_default();
            for h in hits {
                println!(
                    "{case} {} {} {} {} {:?}",
                    msg.url, h.hit.label, h.hit.form, h.location, h.chain
                );
                kinds.insert(h.hit.kind);
            }
            requests += 1;
        }

        for (host, kinds) in &found {
            let expect = expected.get(host).cloned().unwrap_or_default();
            let unexpected: Vec<_> = kinds.difference(&expect).collect();
            assert!(
                unexpected.is_empty(),
                "{case} {host}: found kinds not in the truth: {unexpected:?}"
            );
            let forbid = forbidden.get(host).cloned().unwrap_or_default();
            assert!(
                kinds.is_disjoint(&forbid),
                "{case} {host}: forbidden kinds found"
            );
        }
        for (host, expect) in &expected {
            let got = found.get(host).cloned().unwrap_or_default();
            let missing: Vec<_> = expect.difference(&got).collect();
            assert!(
                missing.is_empty(),
                "{case} {host}: expected kinds not found: {missing:?}"
            );
        }
    }
    println!("checked {requests} HAR requests against their truth");
    assert!(requests > 0);
}
