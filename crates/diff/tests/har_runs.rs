//! Runs given as HAR files: one request per run (so identity cannot be proven), a run without the
//! endpoint, terminal escapes in the table, and the errors a comparison refuses with.

use phonehome_diff::{
    assign_run_option, diff_runs, render_table, Class, Confidence, DiffError, DiffOptions,
    RunOption, RunSpec, TableOptions,
};
use serde_json::json;
use std::path::{Path, PathBuf};

/// A fresh directory under the system's temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("phonehome-diff-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One GET: its start time, URL and headers.
type Get<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// Writes a HAR file with one GET per `(time, url, headers)`.
fn write_har(path: &Path, requests: &[Get<'_>]) {
    let entries: Vec<_> = requests
        .iter()
        .map(|(time, url, headers)| {
            json!({
                "startedDateTime": time,
                "time": 10,
                "request": {
                    "method": "GET",
                    "url": url,
                    "httpVersion": "HTTP/1.1",
                    "headers": headers.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
                    "cookies": [],
                    "queryString": [],
                    "headersSize": -1,
                    "bodySize": 0
                },
                "response": {
                    "status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                    "headers": [], "cookies": [],
                    "content": {"size": 0, "mimeType": "text/plain", "text": ""},
                    "redirectURL": "", "headersSize": -1, "bodySize": 0
                },
                "cache": {},
                "timings": {"send": 1, "wait": 8, "receive": 1}
            })
        })
        .collect();
    let har = json!({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}});
    std::fs::write(path, serde_json::to_vec(&har).unwrap()).unwrap();
}

#[test]
fn one_request_per_run() {
    let dir = temp_dir("har");
    let a = dir.join("a.har");
    let b = dir.join("b.har");
    let c = dir.join("c.har");
    // 2026-11-24T10:00:00Z is 1795514400.
    write_har(
        &a,
        &[(
            "2026-11-24T10:00:00.000Z",
            "https://api.example/v1/ping?id=k7Hq29xLmP&ts=1795514400&lang=en",
            &[("X-Label", "\u{1b}[31mred"), ("X-Env", "prod")],
        )],
    );
    write_har(
        &b,
        &[(
            "2026-11-24T13:00:00.000Z",
            "https://api.example/v1/ping?id=Zt4Wc81NbQ&ts=1795525200&lang=en",
            &[("X-Label", "\u{1b}[31mred"), ("X-Env", "prod")],
        )],
    );
    write_har(
        &c,
        &[(
            "2026-11-24T15:00:00.000Z",
            "https://other.example/v1/hello?x=1",
            &[],
        )],
    );
    let spec =
        |name: &str, file: &Path| RunSpec::parse(&format!("{name}={}", file.display())).unwrap();
    let outcome = diff_runs(&[spec("a", &a), spec("b", &b)], &DiffOptions::default()).unwrap();
    let field = |o: &phonehome_diff::DiffOutcome, name: &str| {
        o.fields()
            .find(|(_, f)| f.field.to_string() == name)
            .map(|(_, f)| (f.class, f.confidence))
    };
    // A value that differs, sent once per run: undecided, reported with low confidence.
    assert_eq!(
        field(&outcome, "url › query:id"),
        Some((Class::Differs, Confidence::Low))
    );
    // A clock reading sent once per run: volatile, medium.
    assert_eq!(
        field(&outcome, "url › query:ts"),
        Some((Class::Volatile, Confidence::Medium))
    );
    assert_eq!(
        field(&outcome, "url › query:lang"),
        Some((Class::Constant, Confidence::High))
    );
    let ids: Vec<_> = outcome
        .findings
        .iter()
        .map(|f| {
            (
                f.kind.as_str(),
                f.details["field"].as_str(),
                f.confidence.as_str(),
            )
        })
        .collect();
    assert_eq!(ids, [("identifier", "url › query:id", "low")]);

    // Traffic cannot drive the terminal.
    let mut text = Vec::new();
    render_table(
        &outcome,
        &mut text,
        &TableOptions {
            width: None,
            all: true,
        },
    )
    .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(!text.contains('\u{1b}'));
    assert!(text.contains("\\u{1b}[31mred"), "{text}");

    // With a third run that never requests the endpoint, its fields are `one run only`, medium.
    let outcome = diff_runs(
        &[spec("a", &a), spec("b", &b), spec("c", &c)],
        &DiffOptions::default(),
    )
    .unwrap();
    assert_eq!(
        field(&outcome, "url › query:id"),
        Some((Class::OneRunOnly, Confidence::Medium))
    );
    assert_eq!(
        field(&outcome, "url › query:x"),
        Some((Class::OneRunOnly, Confidence::Medium))
    );
    // Of those, the identifier-shaped one is reported; `x=1`, the clock and the words are not.
    let ids: Vec<_> = outcome
        .findings
        .iter()
        .map(|f| {
            (
                f.kind.as_str(),
                f.details["field"].as_str(),
                f.confidence.as_str(),
            )
        })
        .collect();
    assert_eq!(ids, [("identifier", "url › query:id", "medium")]);
    let ping = outcome
        .endpoints
        .iter()
        .find(|e| e.endpoint.host == "api.example")
        .unwrap();
    assert_eq!(ping.messages, [1, 1, 0]);

    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refusals_name_the_run_and_file() {
    let dir = temp_dir("refusals");
    let a = dir.join("a.har");
    write_har(
        &a,
        &[("2026-11-24T10:00:00.000Z", "https://h.example/", &[])],
    );
    let one = RunSpec::parse(a.to_str().unwrap()).unwrap();
    let e = diff_runs(std::slice::from_ref(&one), &DiffOptions::default()).unwrap_err();
    assert!(e.to_string().contains("two runs or more, 1 given"), "{e}");
    let e = diff_runs(&[one.clone(), one.clone()], &DiffOptions::default()).unwrap_err();
    assert!(e.to_string().contains("two runs are named `a`"), "{e}");

    // A device profile that does not parse.
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[device\nimei = \"1\"\n").unwrap();
    let mut runs = vec![
        one.clone(),
        RunSpec::parse(&format!("b={}", a.display())).unwrap(),
    ];
    assert_eq!(runs[0].name, "a");
    assign_run_option(
        &mut runs,
        RunOption::Device,
        &format!("b={}", bad.display()),
    )
    .unwrap();
    match diff_runs(&runs, &DiffOptions::default()) {
        Err(DiffError::Profile { run, path, .. }) => {
            assert_eq!(run, "b");
            assert_eq!(path, bad);
        }
        other => panic!("{other:?}"),
    }
    // A missing key log.
    let mut runs = vec![
        one.clone(),
        RunSpec::parse(&format!("b={}", a.display())).unwrap(),
    ];
    assign_run_option(&mut runs, RunOption::KeyLog, "a=/no/such/keys.log").unwrap();
    let e = diff_runs(&runs, &DiffOptions::default()).unwrap_err();
    assert!(e.to_string().contains("/no/such/keys.log"), "{e}");
    // A run none of whose inputs can be read.
    let garbage = dir.join("garbage.pcap");
    std::fs::write(&garbage, b"not a capture at all").unwrap();
    let runs = vec![
        one,
        RunSpec::parse(&format!("g={}", garbage.display())).unwrap(),
    ];
    let e = diff_runs(&runs, &DiffOptions::default()).unwrap_err();
    assert!(
        matches!(&e, DiffError::Unreadable { run, .. } if run == "g"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
