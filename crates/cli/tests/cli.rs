//! The `phonehome` binary: exit codes, output formats and bad input, end to end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_phonehome"))
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("phonehome runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn jsonl(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("phonehome-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

#[test]
fn sample_analysis_succeeds_with_findings_and_summary_last() {
    let profile = samples().join("phone.toml");
    let capture = samples().join("sample.pcapng");
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--format",
        "jsonl",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Standard error is not a terminal here: no progress bar, nothing at all.
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = jsonl(&o);
    assert_eq!(
        lines.last().and_then(|l| l["type"].as_str()),
        Some("summary")
    );
    let findings: Vec<_> = lines.iter().filter(|l| l["type"] == "finding").collect();
    assert!(findings.len() >= 10, "only {} findings", findings.len());
    for f in &findings {
        for key in [
            "kind",
            "match",
            "label",
            "value",
            "form",
            "preimage",
            "confidence",
            "count",
            "direction",
            "time",
            "host",
            "method",
            "url",
            "where",
            "chain",
            "transport",
            "destination",
            "source",
        ] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
        assert_eq!(f["direction"], "request");
        assert!(f["source"]["frame"].as_u64().is_some_and(|n| n >= 1));
    }
    assert!(lines.iter().any(|l| l["type"] == "flow"));
}

#[test]
fn table_output_names_destinations() {
    let profile = samples().join("phone.toml");
    let capture = samples().join("sample.pcapng");
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--format",
        "table",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("Who gets what"), "{text}");
    assert!(text.contains("hiido.com"), "{text}");
    // Receivers by organisation and headquarters, with the server's declared country and network
    // kept apart.
    assert!(text.contains("Xiaomi (CN)"), "{text}");
    assert!(text.contains("SG · AS45102"), "{text}");

    // Watching SG (where some of Xiaomi's servers are registered): Xiaomi is one receiver,
    // marked, not one marked and one unmarked column.
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--watch",
        "SG",
        "--format",
        "table",
        capture.to_str().unwrap(),
    ]);
    let text = stdout(&o);
    let header = text
        .lines()
        .find(|l| l.contains("data \\ receiver"))
        .expect("matrix header");
    assert_eq!(header.matches("Xiaomi (CN)").count(), 1, "{header}");
    assert!(header.contains("! Xiaomi (CN)"), "{header}");
}

#[test]
fn watch_marks_and_orders_findings_and_party_follows_the_vendor() {
    let profile = samples().join("phone.toml");
    let capture = samples().join("sample.pcapng");
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--watch",
        "sg,RU",
        "--format",
        "jsonl",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = jsonl(&o);
    let findings: Vec<_> = lines.iter().filter(|l| l["type"] == "finding").collect();
    let watched: Vec<bool> = findings.iter().map(|f| f.get("watch").is_some()).collect();
    // Servers registered in Singapore (Alibaba Cloud) receive some; those come first.
    assert!(watched.iter().any(|&w| w) && watched.iter().any(|&w| !w));
    assert!(watched.windows(2).all(|w| w[0] || !w[1]), "{watched:?}");
    for f in findings.iter().filter(|f| f.get("watch").is_some()) {
        assert_eq!(f["watch"], serde_json::json!(["server_country"]));
        assert_eq!(f["destination"]["server_country"], "SG");
    }
    let party = |host: &str| {
        findings
            .iter()
            .find(|f| f["host"] == host)
            .map(|f| f["destination"]["party"].clone())
    };
    assert_eq!(party("tracking.intl.miui.com"), Some("first".into()));
    assert_eq!(party("log.tbs.qq.com"), Some("third".into()));
    let summary = lines.last().unwrap();
    assert_eq!(summary["watch"], serde_json::json!(["SG", "RU"]));
    assert!(summary["data"]["ip_data_date"].as_str().is_some());

    let o = run(&["analyze", "--watch", "China", capture.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("`China` is not an ISO 3166-1 alpha-2 country code"));
}

#[test]
fn entity_overlays_add_organisations_and_bad_ones_are_usage_errors() {
    let capture = samples().join("sample.pcapng");
    let overlay = tmp("overlay.toml");
    std::fs::write(
        &overlay,
        "[[entity]]\nid = \"hiido\"\nname = \"Hiido analytics\"\ncountry = \"CN\"\nparent = \"baidu\"\n\
         domains = [\"hiido.com\"]\nsources = [\"https://www.hiido.com/\"]\n",
    )
    .unwrap();
    let o = run(&[
        "analyze",
        "--entities",
        overlay.to_str().unwrap(),
        "--format",
        "jsonl",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = jsonl(&o);
    let flow = lines
        .iter()
        .find(|l| l["type"] == "flow" && l["destination"]["domain"] == "hiido.com")
        .expect("hiido flow");
    assert_eq!(flow["destination"]["org"]["id"], "hiido");
    assert_eq!(flow["destination"]["parent"]["id"], "baidu");

    let bad = tmp("bad-overlay.toml");
    std::fs::write(&bad, "[[entity]]\nid = \"x\"\nname = \"X\"\ncountry = \"China\"\ndomains = [\"x.example\"]\nsources = [\"s\"]\n").unwrap();
    let o = run(&[
        "analyze",
        "--entities",
        bad.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad-overlay.toml") && err.contains("line"),
        "{err}"
    );

    let profile = tmp("vendor.toml");
    std::fs::write(&profile, "[device]\nvendor = \"no-such-maker\"\n").unwrap();
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--format",
        "jsonl",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`no-such-maker` is not an entity id"));
}

#[test]
fn output_file_and_default_format_off_terminal_is_jsonl() {
    let profile = samples().join("phone.toml");
    let capture = samples().join("sample.pcapng");
    let out = tmp("out.jsonl");
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&out).expect("output written");
    assert!(text
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    assert!(text
        .lines()
        .last()
        .is_some_and(|l| l.contains("\"type\":\"summary\"")));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["analyze"]).status.code(), Some(2));
    assert_eq!(
        run(&["analyze", "--format", "xml", "x.pcap"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn unreadable_input_exits_2_with_a_clear_message_and_others_are_still_analysed() {
    let garbage = tmp("garbage.bin");
    std::fs::write(&garbage, b"this is not a capture at all\x00\x01\x02").expect("write");
    let profile = samples().join("phone.toml");
    let capture = samples().join("sample.pcapng");
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--format",
        "jsonl",
        garbage.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("garbage.bin"), "{err}");
    let lines = jsonl(&o);
    assert!(
        lines.iter().any(|l| l["type"] == "finding"),
        "the readable input was not analysed"
    );
    let summary = lines.last().expect("summary");
    assert!(summary["inputs"][0]["error"].is_string());
    assert!(summary["inputs"][1]["error"].is_null());
    let missing = run(&["analyze", "/nonexistent/file.pcap"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/file.pcap"));
}

#[test]
fn truncated_capture_warns_with_offset_and_keeps_what_it_read() {
    let capture = std::fs::read(samples().join("sample.pcapng")).expect("sample");
    let cut = tmp("cut.pcapng");
    std::fs::write(&cut, &capture[..capture.len() * 2 / 3 + 3]).expect("write");
    let profile = samples().join("phone.toml");
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--format",
        "jsonl",
        cut.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a truncated capture is a warning, not an error"
    );
    let lines = jsonl(&o);
    let w = lines
        .iter()
        .find(|l| l["type"] == "warning" && l["code"] == "truncated")
        .expect("truncation warning");
    assert!(
        w["offset"]
            .as_u64()
            .is_some_and(|off| off > 0 && off < capture.len() as u64),
        "{w}"
    );
    assert!(w["file"]
        .as_str()
        .is_some_and(|f| f.ends_with("cut.pcapng")));
    assert!(
        lines.iter().any(|l| l["type"] == "finding"),
        "findings before the cut are kept"
    );
}

#[test]
fn malformed_profile_names_line_and_key() {
    let bad = tmp("bad.toml");
    std::fs::write(
        &bad,
        "[device]\nname = \"x\"\nimei = { a = 1 }\nimie = \"1\"\n",
    )
    .expect("write");
    let capture = samples().join("sample.pcapng");
    let o = run(&[
        "analyze",
        "--device",
        bad.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 3") && err.contains("imei"), "{err}");
}

#[test]
fn profile_warnings_do_not_fail_the_run() {
    let odd = tmp("odd.toml");
    std::fs::write(
        &odd,
        "[device]\nimei = \"356938035643808\"\nmac = \"not a mac\"\n",
    )
    .expect("write");
    let capture = samples().join("sample.pcapng");
    let o = run(&[
        "analyze",
        "--device",
        odd.to_str().unwrap(),
        "--format",
        "jsonl",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let lines = jsonl(&o);
    let profile_warnings = lines
        .iter()
        .filter(|l| l["type"] == "warning" && l["code"] == "profile")
        .count();
    assert!(profile_warnings >= 2, "{}", stdout(&o));
}

#[test]
fn hitting_a_cap_is_a_limit_warning_naming_the_message() {
    let profile = samples().join("phone.toml");
    let capture = samples().join("sample.pcapng");
    for flags in [["--max-body", "64"], ["--max-decode-depth", "1"]] {
        let o = run(&[
            "analyze",
            "--device",
            profile.to_str().unwrap(),
            "--format",
            "jsonl",
            flags[0],
            flags[1],
            capture.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0));
        let lines = jsonl(&o);
        let limit = lines
            .iter()
            .find(|l| l["type"] == "warning" && l["code"] == "limit")
            .unwrap_or_else(|| panic!("no limit warning with {flags:?}"));
        assert!(limit["frame"].as_u64().is_some(), "{limit}");
        assert!(limit["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("sample.pcapng")));
        let summary = lines.last().expect("summary");
        assert_eq!(
            summary["limits"][flags[0].trim_start_matches("--").replace('-', "_")],
            flags[1].parse::<u64>().unwrap()
        );
    }
}

#[test]
fn several_inputs_of_different_formats_in_one_run() {
    let Some(dir) = phonehome_testkit::phone_sim("sim") else {
        return;
    };
    let o = run(&[
        "analyze",
        "--device",
        dir.join("device.toml").to_str().unwrap(),
        "--format",
        "jsonl",
        dir.join("capture.har").to_str().unwrap(),
        dir.join("capture.pcapng").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let lines = jsonl(&o);
    let summary = lines.last().expect("summary");
    assert_eq!(summary["inputs"][0]["format"], "har");
    assert_eq!(summary["inputs"][1]["format"], "pcapng");
    // The same leak in both inputs is one finding counted twice, its evidence from the first input.
    let hiido = lines
        .iter()
        .find(|l| l["type"] == "finding" && l["host"] == "sdk.hiido.com" && l["kind"] == "imei")
        .expect("hiido imei finding");
    assert_eq!(hiido["count"], 2, "{hiido}");
    assert!(hiido["source"]["file"]
        .as_str()
        .is_some_and(|f| f.ends_with("capture.har")));
    assert_eq!(hiido["source"]["entry"], 4);
    // 9 HAR entries, and the 2 plaintext requests of the capture (the rest is TLS, no keys given).
    assert_eq!(summary["counts"]["requests"], 9 + 2);
}

#[test]
fn malformed_key_log_lines_are_warnings_with_their_line_number() {
    let keys = tmp("keys.log");
    std::fs::write(
        &keys,
        "# comment\nCLIENT_RANDOM zz 00\nEXPORTER_SECRET 0000000000000000000000000000000000000000000000000000000000000000 00\n",
    )
    .expect("write");
    let capture = samples().join("sample.pcapng");
    let o = run(&[
        "analyze",
        "--keylog",
        keys.to_str().unwrap(),
        "--format",
        "jsonl",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let lines = jsonl(&o);
    let w = lines
        .iter()
        .find(|l| {
            l["type"] == "warning" && l["file"].as_str().is_some_and(|f| f.ends_with("keys.log"))
        })
        .expect("key log warning");
    assert!(
        w["reason"].as_str().is_some_and(|r| r.contains("line 2")),
        "{w}"
    );
    let summary = lines.last().expect("summary");
    assert_eq!(
        summary["keylog"]["ignored"]["EXPORTER_SECRET"], 1,
        "{summary}"
    );
}

#[test]
fn a_saved_jsonl_report_renders_again_identically() {
    let profile = samples().join("phone.toml");
    let capture = samples().join("sample.pcapng");
    let saved = tmp("saved.jsonl");
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--format",
        "jsonl",
        "-o",
        saved.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&["report", "--format", "jsonl", saved.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(stdout(&o), std::fs::read_to_string(&saved).unwrap());
    let o = run(&["report", "--format", "table", saved.to_str().unwrap()]);
    assert!(stdout(&o).contains("Xiaomi (CN)"));

    // A damaged file is an error naming the line.
    let broken = tmp("broken.jsonl");
    let text = std::fs::read_to_string(&saved).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, "{\"type\":\"finding\",\"kind\":");
    std::fs::write(&broken, lines.join("\n")).unwrap();
    let o = run(&["report", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("line 4"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Without its summary, it is incomplete.
    std::fs::write(
        &broken,
        text.lines()
            .filter(|l| !l.contains("\"summary\""))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let o = run(&["report", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no `summary`"));
}

#[test]
fn redacted_output_holds_no_profile_value_in_any_known_form() {
    let profile_path = samples().join("phone.toml");
    let capture = samples().join("sample.pcapng");
    let o = run(&[
        "analyze",
        "--device",
        profile_path.to_str().unwrap(),
        "--redact",
        "--format",
        "jsonl",
        capture.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = stdout(&o);
    let (profile, _) =
        phonehome::Profile::parse(&std::fs::read_to_string(&profile_path).unwrap()).unwrap();
    let detector = phonehome_detect::Detector::new(&profile);
    let hits = detector.scan(text.as_bytes());
    assert!(hits.is_empty(), "{:?}", &hits[..hits.len().min(5)]);
    // Findings are still there, with tags; equal values share a tag.
    let lines = jsonl(&o);
    let findings: Vec<_> = lines.iter().filter(|l| l["type"] == "finding").collect();
    assert!(findings.len() >= 10);
    let imei_tags: std::collections::BTreeSet<_> = findings
        .iter()
        .filter(|f| f["label"] == "imei #1")
        .map(|f| f["value"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(imei_tags.len(), 1, "{imei_tags:?}");
    assert!(imei_tags.iter().all(|t| t.starts_with("[imei:")));
    assert_eq!(lines.last().unwrap()["redacted"], true);
}

/// `analyze` on a phone-sim folder with its key log and profile, plus `extra` flags.
fn analyze_phone_sim(dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec![
        "analyze".into(),
        "--device".into(),
        dir.join("device.toml").display().to_string(),
        "--keylog".into(),
        dir.join("keys.log").display().to_string(),
    ];
    if !extra.contains(&"--format") {
        args.extend(["--format".to_owned(), "jsonl".to_owned()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(dir.join("capture.pcapng").display().to_string());
    bin().args(&args).output().expect("phonehome runs")
}

#[test]
fn the_sample_policy_on_the_sim_capture_exits_3_with_its_violations_first() {
    let Some(dir) = phonehome_testkit::phone_sim("sim") else {
        eprintln!("skipping: no shared test data");
        return;
    };
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/vetting.toml");
    let o = analyze_phone_sim(&dir, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = jsonl(&o);
    let first_other = lines
        .iter()
        .position(|l| l["type"] != "violation" && l["type"] != "flow" && l["type"] != "warning")
        .unwrap();
    let violations: Vec<_> = lines.iter().filter(|l| l["type"] == "violation").collect();
    assert!(
        lines[..first_other]
            .iter()
            .filter(|l| l["type"] == "violation")
            .count()
            == violations.len()
    );
    let findings: Vec<_> = lines.iter().filter(|l| l["type"] == "finding").collect();
    // One violation per receiver of sensitive data in CN (the organisations of the truth), and
    // the third-party rule, undecidable without `[device] vendor`.
    let mut got: Vec<(String, String)> = violations
        .iter()
        .map(|v| {
            let i = v["findings"][0].as_u64().unwrap() as usize;
            let org = findings[i]["destination"]["org"]["id"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            (v["rule"].as_str().unwrap().to_owned(), org)
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = [
        "chinaunicom",
        "oneplus",
        "oppo",
        "realme",
        "tencent",
        "xiaomi",
        "yy",
    ]
    .iter()
    .map(|o| ("no-sensitive-data-to-cn-ru".to_owned(), (*o).to_owned()))
    .collect();
    let third = violations
        .iter()
        .find(|v| v["rule"] == "no-known-ids-to-third-parties")
        .expect("third-party rule");
    let i = third["findings"][0].as_u64().unwrap() as usize;
    want.push((
        "no-known-ids-to-third-parties".to_owned(),
        findings[i]["destination"]["org"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    ));
    want.sort();
    assert_eq!(got, want);
    assert_eq!(third["findings"].as_array().unwrap().len(), findings.len());
    let summary = lines.last().unwrap();
    assert_eq!(summary["policy"]["violations"].as_array().unwrap().len(), 8);

    // The same verdict from the saved report, and a clean policy exits 0.
    let saved = tmp("sim.jsonl");
    std::fs::write(&saved, &o.stdout).unwrap();
    let o = run(&[
        "report",
        "--format",
        "csv",
        "--policy",
        policy.to_str().unwrap(),
        saved.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    let lenient = tmp("lenient.toml");
    std::fs::write(
        &lenient,
        "[[rule]]\nid = \"no-imei-to-ru\"\nkinds = [\"imei\"]\ncountries = [\"RU\"]\n",
    )
    .unwrap();
    let o = run(&[
        "report",
        "--policy",
        lenient.to_str().unwrap(),
        saved.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn redacted_sim_reports_hold_no_profile_value_in_any_format() {
    let Some(dir) = phonehome_testkit::phone_sim("sim") else {
        eprintln!("skipping: no shared test data");
        return;
    };
    let (profile, _) =
        phonehome::Profile::parse(&std::fs::read_to_string(dir.join("device.toml")).unwrap())
            .unwrap();
    let detector = phonehome_detect::Detector::new(&profile);
    for format in ["jsonl", "html", "markdown", "csv", "json", "table"] {
        let o = analyze_phone_sim(&dir, &["--redact", "--format", format]);
        assert_eq!(o.status.code(), Some(0), "{format}");
        let hits = detector.scan(&o.stdout);
        assert!(
            hits.is_empty(),
            "{format}: {:?}",
            &hits[..hits.len().min(3)]
        );
        // Formats that show values show tags instead (the Markdown tables show none).
        assert!(
            format == "markdown" || stdout(&o).contains("imei:"),
            "{format}"
        );
    }
}

#[test]
fn diff_of_sim_and_nosim_names_the_sim_only_fields() {
    let (Some(sim), Some(nosim)) = (
        phonehome_testkit::phone_sim("sim"),
        phonehome_testkit::phone_sim("nosim"),
    ) else {
        eprintln!("skipping: no shared test data");
        return;
    };
    let o = run(&[
        "diff",
        "--format",
        "jsonl",
        sim.to_str().unwrap(),
        nosim.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = jsonl(&o);
    let findings: Vec<_> = lines.iter().filter(|l| l["type"] == "finding").collect();
    assert!(findings.iter().all(|f| f["match"] == "differential"));
    let class = |kind: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["kind"] == kind)
            .map(|f| f["details"]["class"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    for kind in ["phone_number", "imsi", "iccid"] {
        assert_eq!(class(kind), ["one_run_only"], "{kind}");
    }
    for kind in [
        "imei",
        "android_id",
        "advertising_id",
        "oaid",
        "serial",
        "mac",
    ] {
        let got = class(kind);
        assert!(
            !got.is_empty() && got.iter().all(|c| c == "constant"),
            "{kind}: {got:?}"
        );
    }
    // Every other format renders the same findings; one run is a usage error.
    let o = run(&[
        "diff",
        "--format",
        "markdown",
        sim.to_str().unwrap(),
        nosim.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("differential"));
    let o = run(&["diff", sim.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn redaction_covers_keys_paths_encoded_values_and_domains() {
    let profile = samples().join("phone.toml");
    let entry = |method: &str, url: &str, headers: &str, body: &str| {
        format!(
            r#"{{"startedDateTime":"2026-11-24T10:00:00Z","time":1,
            "request":{{"method":"{method}","url":"{url}","httpVersion":"HTTP/1.1",
              "headers":[{headers}],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":-1,
              "postData":{{"mimeType":"application/json","text":{body}}}}},
            "response":{{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],
              "cookies":[],"content":{{"size":0,"mimeType":"text/plain","text":""}},
              "redirectURL":"","headersSize":-1,"bodySize":0}},
            "cache":{{}},"timings":{{"send":0,"wait":1,"receive":0}}}}"#
        )
    };
    let body = serde_json::to_string(
        r#"{"356938035643809":{"sn":"R58N31XYZQ"},"contacts":{"+447700900456":"Priya Shah"}}"#,
    )
    .unwrap();
    let entries = [
        entry(
            "GET",
            "https://r58n31xyzq.appspot.com/v1/u/MzU2OTM4MDM1NjQzODA5/ping?356938035643809=R58N31XYZQ&dev%5Fid=MzU2OTM4MDM1NjQzODA5",
            "",
            "\"\"",
        ),
        entry(
            "POST",
            "https://api.example.com/u/sam%40example.co.uk/x",
            r#"{"name":"X-sam@example.co.uk","value":"9774d56d682e549c"}"#,
            &body,
        ),
        entry("GET", "https://api.example.com/c/Priya%20Shah/s/Dinner%20at%208%3F", "", "\"\""),
    ];
    let har = format!(
        r#"{{"log":{{"version":"1.2","creator":{{"name":"test","version":"1"}},"entries":[{}]}}}}"#,
        entries.join(",")
    );
    let path = tmp("leaky.har");
    std::fs::write(&path, har).unwrap();
    let plain = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--format",
        "jsonl",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        plain.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    // Without --redact the values are there (the test would prove nothing otherwise).
    assert!(stdout(&plain).contains("MzU2OTM4MDM1NjQzODA5"));
    let (p, _) = phonehome::Profile::parse(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    let detector = phonehome_detect::Detector::new(&p);
    assert!(!detector.scan(&plain.stdout).is_empty());
    for format in ["jsonl", "html", "csv", "markdown", "table"] {
        let o = run(&[
            "analyze",
            "--device",
            profile.to_str().unwrap(),
            "--redact",
            "--format",
            format,
            path.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{format}");
        let text = stdout(&o);
        let hits = detector.scan(text.as_bytes());
        assert!(
            hits.is_empty(),
            "{format}: {:?}",
            &hits[..hits.len().min(3)]
        );
        for raw in [
            "MzU2OTM4MDM1NjQzODA5",
            "sam%40example",
            "Priya%20Shah",
            "Dinner%20at",
            "r58n31xyzq",
        ] {
            assert!(
                !text
                    .to_ascii_lowercase()
                    .contains(&raw.to_ascii_lowercase()),
                "{format}: {raw} in {text:.2000}"
            );
        }
    }
}

#[test]
fn typos_and_self_overwrites_are_refused_before_anything_is_written() {
    let capture = samples().join("sample.pcapng");
    let profile = samples().join("phone.toml");
    // A misspelt kind or organisation would make a vetting rule pass silently.
    for (rule, needle) in [
        ("kinds = [\"imie\"]", "unknown kind of data `imie`"),
        ("orgs = [\"xiaomee\"]", "unknown organisation id `xiaomee`"),
        (
            "allow_orgs = [\"gogle\"]",
            "unknown organisation id `gogle`",
        ),
    ] {
        let policy = tmp("typo.toml");
        std::fs::write(&policy, format!("[[rule]]\nid = \"r\"\n{rule}\n")).unwrap();
        let out = tmp("typo-out.html");
        std::fs::write(&out, "keep").unwrap();
        let o = run(&[
            "analyze",
            "--device",
            profile.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "html",
            "-o",
            out.to_str().unwrap(),
            capture.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{rule}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "keep",
            "the output was touched"
        );
    }
    // A custom kind of the profile is a known kind.
    let policy = tmp("custom.toml");
    std::fs::write(&policy, "[[rule]]\nid = \"r\"\nkinds = [\"wifi_ssid\"]\n").unwrap();
    let o = run(&[
        "analyze",
        "--device",
        profile.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));

    // `report X -o X` would empty X before reading it.
    let saved = tmp("self.jsonl");
    let o = run(&[
        "analyze",
        "--format",
        "jsonl",
        "-o",
        saved.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let before = std::fs::read(&saved).unwrap();
    let o = run(&[
        "report",
        "--format",
        "jsonl",
        "-o",
        saved.to_str().unwrap(),
        saved.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is also an input"));
    assert_eq!(std::fs::read(&saved).unwrap(), before);

    // `UK` is not a country code.
    let o = run(&["analyze", "--watch", "UK", capture.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`GB`"));

    // A run with an unreadable input is an error, as in analyze.
    let garbage = tmp("garbage.bin");
    std::fs::write(&garbage, b"\x00\x01not a capture at all").unwrap();
    let run_a = format!("a={},{}", capture.display(), garbage.display());
    let run_b = format!("b={}", capture.display());
    let o = run(&["diff", "--format", "jsonl", &run_a, &run_b]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("garbage.bin"));
}
