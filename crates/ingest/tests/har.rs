//! HAR files: real exporters' files against mitmproxy's own reading of them, and every quirk and
//! kind of damage built by hand.

mod shared_data;

use flate2::write::GzEncoder;
use phonehome_ingest::{read_har, read_har_from, Error, ErrorKind, HarEntry, HarEvent, HarStats};
use phonehome_model::{Warning, WarningCode};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

fn collect(
    result: impl FnOnce(&mut dyn FnMut(HarEvent)) -> Result<HarStats, Error>,
) -> Result<(Vec<HarEntry>, Vec<Warning>, HarStats), Error> {
    let (mut entries, mut warnings) = (Vec::new(), Vec::new());
    let stats = result(&mut |event| match event {
        HarEvent::Entry(e) => entries.push(e),
        HarEvent::Warning(w) => warnings.push(w),
    })?;
    assert_eq!(stats.entries, entries.len() as u64);
    Ok((entries, warnings, stats))
}

fn read_bytes(bytes: &[u8]) -> Result<(Vec<HarEntry>, Vec<Warning>, HarStats), Error> {
    collect(|on| read_har_from(bytes, Arc::from("test.har"), on))
}

fn read_path(path: &Path) -> Result<(Vec<HarEntry>, Vec<Warning>, HarStats), Error> {
    collect(|on| read_har(path, Arc::from(path.display().to_string()), on))
}

fn ok(bytes: &[u8]) -> (Vec<HarEntry>, Vec<Warning>, HarStats) {
    read_bytes(bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// `host[:port]` of a URL as mitmproxy prints it: default ports dropped.
fn host_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority = rest.split(['/', '?', '#']).next().unwrap();
    let authority = authority.rsplit('@').next().unwrap().to_ascii_lowercase();
    let default = if scheme.eq_ignore_ascii_case("https") {
        ":443"
    } else {
        ":80"
    };
    authority
        .strip_suffix(default)
        .unwrap_or(&authority)
        .to_owned()
}

fn count<'a>(items: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for item in items {
        *out.entry(item.to_owned()).or_insert(0) += 1;
    }
    out
}

fn as_counts(v: &serde_json::Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Real files

#[test]
fn mitmproxy_reference_har_files() {
    let Some(root) = phonehome_testkit::testdata() else {
        return;
    };
    let external = root.join("external");
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(external.join("_reference/mitmproxy_har.json")).unwrap(),
    )
    .unwrap();
    let (mut read, mut refused) = (0, 0);
    for case in reference.as_array().unwrap() {
        let rel = case["file"].as_str().unwrap();
        let path = external.join(rel);
        if let Some(their_error) = case.get("error") {
            let err = read_path(&path)
                .err()
                .unwrap_or_else(|| panic!("{rel}: mitmproxy refused it ({their_error})"));
            println!("{rel}: {err}   (mitmproxy: {their_error})");
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::Json { .. } | ErrorKind::NoEntries { .. }
                ),
                "{err}"
            );
            refused += 1;
            continue;
        }
        let (entries, warnings, stats) = read_path(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(warnings.is_empty(), "{rel}: {warnings:?}");
        assert_eq!(stats.entries, case["entries"].as_u64().unwrap(), "{rel}");
        assert_eq!(stats.bom, case["bom"].as_bool().unwrap(), "{rel}");
        assert_eq!(stats.creator.as_deref(), case["creator"].as_str(), "{rel}");
        assert_eq!(
            stats.zlib,
            rel.ends_with(".zhar"),
            "{rel}: compression recognised by content"
        );
        let methods = count(entries.iter().map(|e| e.request.method.as_str()));
        assert_eq!(methods, as_counts(&case["methods"]), "{rel}");
        let hosts: Vec<String> = entries.iter().map(|e| host_of(&e.request.url)).collect();
        assert_eq!(
            count(hosts.iter().map(String::as_str)),
            as_counts(&case["hosts"]),
            "{rel}"
        );
        let versions = count(entries.iter().map(|e| e.request.http_version.as_str()));
        assert_eq!(versions, as_counts(&case["http_versions"]), "{rel}");
        // The reference cuts URLs at 150 characters.
        let requests: Vec<String> = entries
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e.request.method,
                    e.request.url.chars().take(150).collect::<String>()
                )
            })
            .collect();
        let theirs: Vec<&str> = case["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(requests, theirs, "{rel}");
        let indexes: Vec<u64> = entries.iter().map(|e| e.index).collect();
        assert_eq!(indexes, (1..=entries.len() as u64).collect::<Vec<_>>());
        read += 1;
    }
    println!("{read} HAR files matched mitmproxy's reading; {refused} refused as mitmproxy does");
    assert_eq!((read, refused), (16, 2));
}

#[test]
fn mitmproxy_har_conversions_have_the_same_requests() {
    let Some(root) = phonehome_testkit::testdata() else {
        return;
    };
    let dir = root.join("external/mitmproxy/test/mitmproxy/data/har_files");
    let mut n = 0;
    for path in shared_data::walk(&dir) {
        if path.extension().is_none_or(|e| e != "har") {
            continue;
        }
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        let flows = expected.as_array().unwrap();
        let (entries, warnings, _) = read_path(&path).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(entries.len(), flows.len(), "{}", path.display());
        for (entry, flow) in entries.iter().zip(flows) {
            let req = &flow["request"];
            let (scheme, host, port) = (
                req["scheme"].as_str().unwrap(),
                req["host"].as_str().unwrap(),
                req["port"].as_u64().unwrap(),
            );
            let default = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
            let authority = if default {
                host.to_owned()
            } else {
                format!("{host}:{port}")
            };
            let url = format!("{scheme}://{authority}{}", req["path"].as_str().unwrap());
            assert_eq!(entry.request.url, url, "{}", path.display());
            assert_eq!(entry.request.method, req["method"].as_str().unwrap());
            // mitmproxy keeps every request header the HAR lists, in order (and adds a
            // content-length of its own when the HAR has none).
            let names: Vec<&str> = entry
                .request
                .headers
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            let theirs: Vec<&str> = req["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h[0].as_str().unwrap())
                .filter(|n| *n != "content-length" || names.contains(n))
                .collect();
            assert_eq!(names, theirs, "{}", path.display());
            if let (Some(resp), Some(theirs)) = (
                &entry.response,
                flow.get("response").filter(|r| !r.is_null()),
            ) {
                assert_eq!(
                    resp.status,
                    theirs["status_code"].as_i64().unwrap(),
                    "{}",
                    path.display()
                );
            }
            n += 1;
        }
    }
    println!("{n} entries matched mitmproxy's conversions");
    assert!(n >= 40, "{n}");
}

#[test]
fn phone_hars_match_their_truth_files() {
    let Some(root) = phonehome_testkit::testdata() else {
        return;
    };
    let mut n = 0;
    for which in ["sim", "nosim"] {
        let dir = root.join("phone-sim").join(which);
        let (entries, warnings, stats) = read_path(&dir.join("capture.har")).unwrap();
        assert!(warnings.is_empty() && !stats.bom && !stats.gzip);
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("truth-har.json")).unwrap())
                .unwrap();
        let text = truth.to_string();
        assert!(!entries.is_empty());
        for e in &entries {
            // Every host the HAR talks to is one the truth file describes.
            let host = host_of(&e.request.url);
            assert!(
                text.contains(&host),
                "{which}: {host} not in truth-har.json"
            );
            assert!(e.started.is_some());
            n += 1;
        }
        let posted = entries
            .iter()
            .filter_map(|e| e.request.post_data.as_ref())
            .count();
        assert!(posted > 0, "{which}: some requests carry a body");
    }
    println!("{n} phone HAR entries read");
}

// ---------------------------------------------------------------------------------------------
// Quirks

const QUIRKY: &str = r#"{
  "log": {
    "version": "1.2",
    "creator": {"name": "Quirky Exporter", "version": 7},
    "pages": [{"id": "page_1", "title": "x", "pageTimings": {}}],
    "entries": [
      {
        "_resourceType": "xhr", "_initiator": {"type": "script", "stack": {"callFrames": [1, [2, {}]]}},
        "startedDateTime": "2024-01-02T03:04:05.678+01:00",
        "serverIPAddress": "[2001:db8::1]",
        "connection": 443,
        "request": {
          "method": "POST", "url": "https://api.example.com/v1?x=1", "httpVersion": "h2",
          "headers": [{"name": "X-Null", "value": null}, {"name": "X-Num", "value": 5}, {"value": "no name"}, "junk"],
          "cookies": null,
          "queryString": [{"name": "x", "value": "1"}],
          "postData": {"mimeType": "application/x-www-form-urlencoded",
                       "params": [{"name": "imei", "value": "356938035643809"}, {"name": "f", "fileName": "a.bin", "contentType": "x/y"}]},
          "comment": "extra"
        },
        "response": {
          "status": "200", "statusText": null, "httpVersion": "http/2.0",
          "headers": null,
          "content": {"size": "12", "mimeType": "application/json", "text": "eyJhIjoxfQ==", "encoding": "base64"}
        },
        "cache": {}, "timings": {"wait": 1.5}
      },
      {"request": {"method": "GET", "httpVersion": "HTTP/1.1", "headers": []}, "response": {"status": 0}},
      {
        "request": {"method": "GET", "url": "http://plain.example/", "headers": {"Host": "plain.example"}},
        "response": null
      },
      "not an entry",
      {"request": {"method": "", "url": "http://x/"}},
      {"request": {"method": "PUT", "url": "http://x/put", "postData": {"mimeType": "text/plain", "text": 42}},
       "response": {"status": 201.0, "content": {"mimeType": "text/plain"}}}
    ],
    "comment": "entries before the end of log"
  },
  "extra": [1, 2, 3]
}"#;

#[test]
fn real_exporter_quirks_are_tolerated() {
    let (entries, warnings, stats) = ok(QUIRKY.as_bytes());
    assert_eq!(stats.creator.as_deref(), Some("Quirky Exporter"));
    let indexes: Vec<u64> = entries.iter().map(|e| e.index).collect();
    assert_eq!(
        indexes,
        [1, 3, 6],
        "entry numbers count malformed entries too"
    );

    let e = &entries[0];
    assert_eq!(e.started.as_deref(), Some("2024-01-02T03:04:05.678+01:00"));
    assert_eq!(e.server_ip.as_deref(), Some("[2001:db8::1]"));
    assert_eq!(
        e.connection.as_deref(),
        Some("443"),
        "numbers are read as text"
    );
    assert_eq!(
        (e.request.method.as_str(), e.request.http_version.as_str()),
        ("POST", "h2")
    );
    assert_eq!(
        e.request.headers,
        [
            ("X-Null".into(), String::new()),
            ("X-Num".into(), "5".into())
        ]
    );
    assert!(e.request.cookies.is_empty());
    assert_eq!(e.request.query, [("x".into(), "1".into())]);
    let post = e.request.post_data.as_ref().unwrap();
    assert_eq!(post.text, None, "params without text");
    assert_eq!(post.params.len(), 2);
    assert_eq!(
        (
            post.params[0].name.as_str(),
            post.params[0].value.as_deref()
        ),
        ("imei", Some("356938035643809"))
    );
    assert_eq!(
        (
            post.params[1].file_name.as_deref(),
            post.params[1].content_type.as_deref()
        ),
        (Some("a.bin"), Some("x/y"))
    );
    let resp = e.response.as_ref().unwrap();
    assert_eq!(resp.status, 200, "status written as a string");
    assert_eq!(
        (resp.status_text.as_str(), resp.http_version.as_str()),
        ("", "http/2.0")
    );
    assert!(resp.headers.is_empty());
    assert_eq!(resp.content.size, 12);
    assert_eq!(
        (
            resp.content.text.as_deref(),
            resp.content.encoding.as_deref()
        ),
        (Some("eyJhIjoxfQ=="), Some("base64"))
    );

    assert_eq!(
        entries[1].request.headers,
        [("Host".into(), "plain.example".into())],
        "headers as an object"
    );
    assert_eq!(entries[1].response, None);
    assert_eq!(entries[1].request.http_version, "");
    let put = &entries[2];
    assert_eq!(
        put.request.post_data.as_ref().unwrap().text.as_deref(),
        Some("42")
    );
    let resp = put.response.as_ref().unwrap();
    assert_eq!((resp.status, resp.content.size), (201, -1));

    let reasons: Vec<(Option<u64>, WarningCode, &str)> = warnings
        .iter()
        .map(|w| (w.entry, w.code, w.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert_eq!(
        reasons[0],
        (
            Some(2),
            WarningCode::Malformed,
            "har: entry 2: request.url is missing or empty; skipped"
        )
    );
    assert_eq!(
        reasons[1],
        (
            Some(4),
            WarningCode::Malformed,
            "har: entry 4: entry is a string, not an object; skipped"
        )
    );
    assert_eq!(
        reasons[2],
        (
            Some(5),
            WarningCode::Malformed,
            "har: entry 5: request.method is missing or empty; skipped"
        )
    );
    let second = QUIRKY
        .find(r#"{"request": {"method": "GET", "httpVersion""#)
        .unwrap();
    assert_eq!(
        warnings[0].to_string(),
        format!("test.har: offset {second}: entry 2: malformed: har: entry 2: request.url is missing or empty; skipped")
    );
}

#[test]
fn bom_gzip_zlib_and_member_order() {
    let body = r#"{"log": {"entries": [{"request": {"method": "GET", "url": "http://a/"}}], "pages": [], "creator": {"name": "late"}}}"#;
    let mut with_bom = b"\xef\xbb\xbf\r\n ".to_vec();
    with_bom.extend(body.as_bytes());
    let (entries, _, stats) = ok(&with_bom);
    assert!(stats.bom);
    assert_eq!(
        (entries.len(), stats.creator.as_deref()),
        (1, Some("late")),
        "members after entries are read too"
    );
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&with_bom).unwrap();
    let (entries, _, stats) = ok(&gz.finish().unwrap());
    assert!(stats.gzip && stats.bom);
    assert_eq!(entries[0].request.url, "http://a/");
    let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zl.write_all(body.as_bytes()).unwrap();
    let (entries, _, stats) = ok(&zl.finish().unwrap());
    assert!(stats.zlib && !stats.gzip);
    assert_eq!(entries.len(), 1);
    let (entries, _, _) = ok(br#"{"log": {"entries": null}}"#);
    assert!(entries.is_empty(), "null entries: an empty log");
}

// ---------------------------------------------------------------------------------------------
// Damage

#[test]
fn files_that_are_not_har_are_errors() {
    // (input, expected Display)
    let cases: [(&[u8], &str); 7] = [
        (b"{\"log\":\n[\n    2,1,3\n]\n\"request:\"}", "test.har: offset 8: har: invalid JSON at line 2 column 1: invalid type: sequence, expected the HAR `log` object"),
        (b"{\"test_response\": {\"log\": {\"entries\": []}}, \"x\": 1}", "test.har: har: not a HAR file: the top-level object has no `log` member (it has: test_response, x)"),
        (b"{\"log\": {\"version\": \"1.2\", \"pages\": []}}", "test.har: har: not a HAR file: `log` has no `entries` array"),
        (b"{}", "test.har: har: not a HAR file: the top-level object has no `log` member"),
        (b"{\"log\": {\"entries\": [", "test.har: offset 20: har: invalid JSON at line 1 column 21: EOF while parsing a list"),
        (b"{\"log\": {\"entries\": {\"a\": 1}}}", "test.har: offset 21: har: invalid JSON at line 1 column 22: invalid type: map, expected the `log.entries` array"),
        (b"{\"log\": {\"entries\": [}}", "test.har: offset 21: har: invalid JSON at line 1 column 22: expected value"),
    ];
    for (input, want) in cases {
        let err = read_bytes(input).unwrap_err();
        assert_eq!(err.to_string(), want);
    }
    assert!(matches!(
        read_bytes(b"[{\"log\": 1}]").unwrap_err().kind(),
        ErrorKind::UnknownFormat { .. }
    ));
    let pcap = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    assert!(matches!(
        read_bytes(&pcap).unwrap_err().kind(),
        ErrorKind::WrongFormat { .. }
    ));
    println!("{} non-HAR inputs refused", cases.len() + 2);
}

#[test]
fn damage_after_the_first_entry_is_a_warning() {
    let entry = r#"{"request": {"method": "GET", "url": "http://a/"}}"#;
    let whole = format!(r#"{{"log": {{"entries": [{entry}, {entry}, {entry}]}}}}"#);
    let third = whole.rfind(entry).unwrap();
    let mut cases = 0;
    // Cut anywhere inside the third entry or after it: two or three entries, then a warning.
    for cut in third + 1..whole.len() {
        let (entries, warnings, _) =
            read_bytes(&whole.as_bytes()[..cut]).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        let complete = if cut >= third + entry.len() { 3 } else { 2 };
        assert_eq!(entries.len(), complete, "cut {cut}");
        assert_eq!(warnings.len(), 1, "cut {cut}");
        assert_eq!(
            warnings[0].code,
            WarningCode::Truncated,
            "cut {cut}: {}",
            warnings[0]
        );
        assert!(warnings[0].offset.is_some());
        cases += 1;
    }
    // Garbage after the document, and invalid JSON after two entries.
    let (entries, warnings, _) = ok(format!("{whole} trailing").as_bytes());
    assert_eq!((entries.len(), warnings.len()), (3, 1));
    assert!(
        warnings[0].reason.contains("trailing characters"),
        "{}",
        warnings[0]
    );
    let broken = format!(r#"{{"log": {{"entries": [{entry}, {entry}, {{"request": ]}}}}"#);
    let (entries, warnings, _) = ok(broken.as_bytes());
    assert_eq!(
        (entries.len(), warnings[0].code),
        (2, WarningCode::Malformed)
    );
    // A gzip-compressed HAR of 200 entries cut short.
    let many = vec![entry; 200].join(",");
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::none());
    gz.write_all(format!(r#"{{"log": {{"entries": [{many}]}}}}"#).as_bytes())
        .unwrap();
    let gz = gz.finish().unwrap();
    let (entries, warnings, stats) = ok(&gz[..gz.len() / 2]);
    assert!(stats.gzip);
    assert!((90..110).contains(&entries.len()), "{}", entries.len());
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].code, WarningCode::Truncated, "{}", warnings[0]);
    assert!(
        warnings[0].reason.starts_with("har: gzip: "),
        "{}",
        warnings[0]
    );
    // Nesting deeper than the JSON parser's recursion limit stops reading, without overflowing.
    let deep = format!(
        r#"{{"log": {{"entries": [{entry}, {{"x": {}{}}}]}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (entries, warnings, _) = ok(deep.as_bytes());
    assert_eq!((entries.len(), warnings.len()), (1, 1));
    cases += 4;
    println!("{cases} damaged HAR files read");
}

/// Generates a HAR with `n` entries on the fly, recording how many bytes have been read.
struct GeneratedHar {
    n: u64,
    next: u64,
    pending: Vec<u8>,
    pos: usize,
    read: Rc<Cell<u64>>,
}

impl Read for GeneratedHar {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            self.pending.clear();
            self.pos = 0;
            if self.next == 0 {
                self.pending
                    .extend(br#"{"log": {"creator": {"name": "gen"}, "entries": ["#);
            } else if self.next <= self.n {
                let sep = if self.next > 1 { "," } else { "" };
                let body = "x".repeat(200);
                let e = format!(
                    r#"{sep}{{"request": {{"method": "POST", "url": "http://h/{}", "postData": {{"mimeType": "t", "text": "{body}"}}}}}}"#,
                    self.next
                );
                self.pending.extend(e.as_bytes());
            } else if self.next == self.n + 1 {
                self.pending.extend(b"]}}");
            } else {
                return Ok(0);
            }
            self.next += 1;
        }
        let n = out.len().min(self.pending.len() - self.pos);
        out[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

#[test]
fn entries_are_delivered_while_the_file_is_still_being_read() {
    let read = Rc::new(Cell::new(0));
    let n = 20_000;
    let source = GeneratedHar {
        n,
        next: 0,
        pending: Vec::new(),
        pos: 0,
        read: read.clone(),
    };
    let (mut seen, mut early) = (0u64, 0u64);
    let stats = read_har_from(source, Arc::from("gen.har"), &mut |event| {
        let HarEvent::Entry(e) = event else {
            panic!("unexpected warning")
        };
        seen += 1;
        assert_eq!(e.index, seen);
        assert_eq!(e.request.url, format!("http://h/{seen}"));
        // Each entry is about 280 bytes: if entries were collected first, all 5.6 MB would have
        // been read before the first callback.
        if read.get() < seen * 280 + (2 << 20) {
            early += 1;
        }
    })
    .unwrap();
    assert_eq!((stats.entries, stats.creator.as_deref()), (n, Some("gen")));
    assert!(
        early > n / 2,
        "only {early} of {n} entries arrived before the rest was read"
    );
    println!("{n} generated entries streamed ({early} within 2 MiB of read-ahead)");
}
