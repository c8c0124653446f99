//! End-to-end over the simulated handset (`shared/testdata/phone-sim`): every expectation of the
//! truth files is found as a `known` finding with the profile's value, nothing else is accused
//! (closed world), and the `forbid` decoys are never reported.

mod common;

use phonehome::model::{Finding, MatchKind, NotInspected};
use phonehome::{KeyLog, Options, Profile};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

struct Truth {
    host: String,
    expect: Vec<String>,
    forbid: Vec<String>,
    transport: String,
}

fn truth(path: &Path) -> Vec<Truth> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("truth readable"))
        .expect("truth json");
    let list = |e: &Value, k: &str| -> Vec<String> {
        e[k].as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    v.as_array()
        .expect("truth is a list")
        .iter()
        .map(|e| Truth {
            host: e["host"].as_str().unwrap_or_default().to_owned(),
            expect: list(e, "expect"),
            forbid: list(e, "forbid"),
            transport: e["transport"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The profile values of each kind (for contact: names and numbers; for sms: texts; for location:
/// `lat,lon` of the profile point).
fn profile_values(profile: &Path) -> Vec<(String, String)> {
    let v: toml::Value =
        toml::from_str(&std::fs::read_to_string(profile).expect("profile")).expect("toml");
    let mut out = Vec::new();
    if let Some(dev) = v.get("device").and_then(|d| d.as_table()) {
        for (k, val) in dev {
            match val {
                toml::Value::String(s) => out.push((k.clone(), s.clone())),
                toml::Value::Array(a) => out.extend(
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .map(|s| (k.clone(), s.to_owned())),
                ),
                _ => {}
            }
        }
    }
    for c in v
        .get("contact")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        for key in ["name", "phone"] {
            if let Some(s) = c.get(key).and_then(|x| x.as_str()) {
                out.push(("contact".into(), s.to_owned()));
            }
        }
    }
    for l in v
        .get("location")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        let coord = |k: &str| l.get(k).and_then(|x| x.as_float());
        if let (Some(lat), Some(lon)) = (coord("lat"), coord("lon")) {
            out.push(("location".into(), format!("{lat},{lon}")));
        }
    }
    for s in v
        .get("sms")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(t) = s.get("text").and_then(|x| x.as_str()) {
            out.push(("sms".into(), t.to_owned()));
        }
    }
    out
}

fn check(dir: &Path, input: &str, truth_file: &str, only_transport: Option<&str>) -> usize {
    check_with(dir, input, truth_file, only_transport, KeyLog::new())
}

fn check_with(
    dir: &Path,
    input: &str,
    truth_file: &str,
    only_transport: Option<&str>,
    keylog: KeyLog,
) -> usize {
    let profile = dir.join("device.toml");
    let text = std::fs::read_to_string(&profile).expect("profile");
    let options = Options {
        profile: Some(Profile::parse(&text).expect("profile parses").0),
        keylog,
        ..Options::default()
    };
    let got = common::run_with(options, &[&dir.join(input)]);
    let truth = truth(&dir.join(truth_file));
    let values = profile_values(&profile);
    let known: Vec<&Finding> = got
        .findings
        .iter()
        .filter(|f| f.match_kind == MatchKind::Known)
        .collect();
    let found: BTreeSet<(String, String)> = known
        .iter()
        .map(|f| {
            (
                f.host.clone().unwrap_or_default().to_ascii_lowercase(),
                f.kind.clone(),
            )
        })
        .collect();
    let mut cases = 0;
    for t in &truth {
        let in_scope = only_transport.is_none_or(|tr| t.transport == tr);
        for kind in &t.expect {
            if !in_scope {
                continue;
            }
            cases += 1;
            let hits: Vec<&&Finding> = known
                .iter()
                .filter(|f| f.host.as_deref() == Some(&t.host) && &f.kind == kind)
                .collect();
            assert!(
                !hits.is_empty(),
                "{}/{input}: expected {kind} to {} — found only {found:?}",
                dir.display(),
                t.host
            );
            for f in hits {
                assert!(
                    values.iter().any(|(k, v)| k == kind && v == &f.value),
                    "{input}: {kind} to {} has value {:?}, not a profile value",
                    t.host,
                    f.value
                );
                assert!(f.url.to_ascii_lowercase().contains(&t.host), "{}", f.url);
            }
        }
        for kind in &t.forbid {
            cases += 1;
            assert!(
                !found.contains(&(t.host.clone(), kind.clone())),
                "{input}: forbidden {kind} reported for {}",
                t.host
            );
        }
    }
    // Closed world: nothing that the truth does not expect.
    for (host, kind) in &found {
        let expected = truth
            .iter()
            .any(|t| &t.host == host && t.expect.contains(kind));
        assert!(
            expected,
            "{}/{input}: unexpected known {kind} to {host}",
            dir.display()
        );
        cases += 1;
    }
    cases
}

#[test]
fn har_truth_is_found_exactly() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let mut cases = 0;
    for run in ["sim", "nosim"] {
        cases += check(
            &data.join("phone-sim").join(run),
            "capture.har",
            "truth-har.json",
            None,
        );
    }
    println!("phone-sim HAR: {cases} expectation cases checked");
    assert!(cases >= 30);
}

#[test]
fn plaintext_pcapng_truth_is_found_without_keys() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let mut cases = 0;
    for run in ["sim", "nosim"] {
        cases += check(
            &data.join("phone-sim").join(run),
            "capture.pcapng",
            "truth.json",
            Some("http/h1"),
        );
    }
    println!("phone-sim pcapng (http/h1 only): {cases} expectation cases checked");
    assert!(cases >= 6);
}

#[test]
fn every_flow_of_the_phone_capture_is_accounted_for() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let dir = data.join("phone-sim/sim");
    let got = common::run(
        Some(&dir.join("device.toml")),
        &[&dir.join("capture.pcapng")],
    );
    let summary = got.summary.expect("summary");
    assert_eq!(summary.counts.flows, got.flows.len() as u64);
    // The plaintext flows are inspected; the TLS ones are not, for want of keys (no --keylog yet).
    let inspected: Vec<_> = got.flows.iter().filter(|f| f.inspected).collect();
    assert!(inspected
        .iter()
        .any(|f| f.names.iter().any(|n| n.name == "sdk.hiido.com")));
    assert!(got
        .flows
        .iter()
        .any(|f| !f.inspected && f.reason == Some(phonehome::model::NotInspected::NoKey)));
    for f in &got.flows {
        assert_eq!(f.inspected, f.reason.is_none(), "{f:?}");
    }
    let input = &summary.inputs[0];
    assert_eq!(input.format.as_deref(), Some("pcapng"));
    assert_eq!(input.sha256.as_ref().map(String::len), Some(64));
    assert_eq!(
        input.bytes,
        std::fs::metadata(dir.join("capture.pcapng"))
            .expect("stat")
            .len()
    );
}

fn keys_of(dir: &Path) -> KeyLog {
    let mut keys = KeyLog::new();
    let problems = keys.add_text(&std::fs::read_to_string(dir.join("keys.log")).expect("keys.log"));
    assert!(problems.is_empty(), "{problems:?}");
    keys
}

#[test]
fn pcapng_truth_is_found_with_the_key_log() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let mut cases = 0;
    for run in ["sim", "nosim"] {
        let dir = data.join("phone-sim").join(run);
        cases += check_with(&dir, "capture.pcapng", "truth.json", None, keys_of(&dir));
    }
    println!(
        "phone-sim pcapng with keys (TLS 1.3 + h2, TLS 1.2 + h1, plaintext): {cases} cases checked"
    );
    assert!(cases >= 30);
}

#[test]
fn sessions_missing_from_the_key_log_are_no_key_and_the_rest_is_read() {
    let Some(data) = phonehome_testkit::testdata() else {
        return;
    };
    let dir = data.join("phone-sim/sim");
    let text = std::fs::read_to_string(dir.join("keys.log")).expect("keys.log");
    // Drop every secret of the first TLS session in the log.
    let first_random = text
        .lines()
        .find_map(|l| l.split_whitespace().nth(1))
        .expect("a key line")
        .to_owned();
    let kept: String = text
        .lines()
        .filter(|l| !l.contains(&first_random))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut keys = KeyLog::new();
    assert!(keys.add_text(&kept).is_empty());
    let got = common::run_with(
        Options {
            keylog: keys,
            ..Options::default()
        },
        &[&dir.join("capture.pcapng")],
    );
    let tls: Vec<_> = got.flows.iter().filter(|f| f.sni.is_some()).collect();
    let no_key = tls
        .iter()
        .filter(|f| f.reason == Some(NotInspected::NoKey))
        .count();
    let read = tls.iter().filter(|f| f.inspected && f.messages > 0).count();
    assert_eq!(no_key, 1, "{tls:#?}");
    assert_eq!(read, tls.len() - 1, "{tls:#?}");
    println!(
        "partial key log: {} TLS flows, 1 no_key, {read} decrypted",
        tls.len()
    );
}
