//! HAR files from mitmproxy's test suite give the same requests mitmproxy itself reads from them;
//! the broken ones give a clear error.

mod common;

use phonehome::model::Direction;
use serde_json::Value;
use std::path::Path;

/// Method and URL of every request in `file`, in order. Reports hold no messages, so this reads the
/// HAR with the same reader and message builder the pipeline uses.
fn collect_requests(file: &Path) -> Vec<String> {
    let name: std::sync::Arc<str> = file.display().to_string().into();
    let mut out = Vec::new();
    let reader = std::fs::File::open(file).expect("open");
    let _ = phonehome_ingest::read_har_from(reader, name.clone(), &mut |ev| {
        if let phonehome_ingest::HarEvent::Entry(e) = ev {
            for m in phonehome_message::from_har_entry(name.clone(), e, usize::MAX) {
                if m.direction == Direction::Request {
                    out.push(format!("{} {}", m.method.unwrap_or_default(), m.url));
                }
            }
        }
    });
    out
}

#[test]
fn mitmproxy_reference_har_files() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let external = data.join("external");
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(external.join("_reference/mitmproxy_har.json"))
            .expect("reference"),
    )
    .expect("json");
    let mut cases = 0;
    for entry in reference.as_array().expect("list") {
        let file = external.join(entry["file"].as_str().expect("file"));
        let got = common::run(None, &[&file]);
        let requests = collect_requests(&file);
        let summary = got.summary.expect("summary");
        let input = &summary.inputs[0];
        if let Some(err) = entry.get("error") {
            // mitmproxy could not read it: neither can we, and we say why and where.
            let ours = input
                .error
                .as_deref()
                .unwrap_or_else(|| panic!("{}: expected an error like {err}", file.display()));
            assert!(
                ours.contains(&file.display().to_string())
                    || ours.contains("offset")
                    || ours.contains("line"),
                "{ours}"
            );
            cases += 1;
            continue;
        }
        assert!(
            input.error.is_none(),
            "{}: {:?}",
            file.display(),
            input.error
        );
        let want: Vec<&str> = entry["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            requests.len(),
            want.len(),
            "{}: {requests:#?}",
            file.display()
        );
        for (ours, theirs) in requests.iter().zip(&want) {
            // mitmproxy's reference cuts very long URLs.
            assert!(
                ours == theirs || (theirs.len() >= 100 && ours.starts_with(theirs)),
                "{}: {ours} != {theirs}",
                file.display()
            );
            cases += 1;
        }
        assert_eq!(
            entry["entries"].as_u64(),
            Some(input.records),
            "{}",
            file.display()
        );
    }
    println!("mitmproxy HAR reference: {cases} requests/errors checked");
    assert!(cases > 40);
}

#[test]
fn mitmproxy_har_files_match_their_expected_flows() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let dir = data.join("external/mitmproxy/test/mitmproxy/data/har_files");
    let mut cases = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for har in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "har"))
    {
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(har.with_extension("json")).expect("expected json"),
        )
        .expect("json");
        let want: Vec<String> = expected
            .as_array()
            .expect("flows")
            .iter()
            .map(|f| {
                let r = &f["request"];
                let scheme = r["scheme"].as_str().unwrap_or_default();
                let port = r["port"].as_u64().unwrap_or_default();
                let default = if scheme == "https" { 443 } else { 80 };
                let host = r["host"].as_str().unwrap_or_default();
                let authority = if port == default {
                    host.to_owned()
                } else {
                    format!("{host}:{port}")
                };
                format!(
                    "{} {scheme}://{authority}{}",
                    r["method"].as_str().unwrap_or_default(),
                    r["path"].as_str().unwrap_or_default()
                )
            })
            .collect();
        let got = collect_requests(har);
        assert_eq!(got, want, "{}", har.display());
        cases += got.len();
    }
    println!("mitmproxy har_files: {cases} requests compared");
    assert!(cases >= 40);
}
