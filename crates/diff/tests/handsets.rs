//! The two-handset fixture (`phonehome_synth::scenario::write_handsets`): every per-device field,
//! the hashed and the encrypted one included, is `identity`; timestamps, nonces, request ids,
//! counters and the signature are `volatile`; nothing else is either.

use phonehome_diff::{
    diff_runs, render_table, Class, DiffOptions, FieldPath, RunSpec, TableOptions,
};
use phonehome_model::MatchKind;
use phonehome_synth::scenario::{handset_fields, write_handsets, FieldBehaviour, HANDSET_ROUNDS};
use std::collections::BTreeMap;

/// A fresh directory under the system's temporary directory.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("phonehome-diff-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn per_device_fields_are_identity_and_per_request_fields_volatile() {
    let dir = temp_dir("handsets");
    let runs: Vec<RunSpec> = write_handsets(&dir)
        .unwrap()
        .iter()
        .map(|d| RunSpec::parse(d.to_str().unwrap()).unwrap())
        .collect();
    assert_eq!(
        runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["handsetA", "handsetB"]
    );
    assert!(runs.iter().all(|r| r.device.is_some()), "device.toml found");
    let outcome = diff_runs(&runs, &DiffOptions::default()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);

    // Every field of the fixture, by host and field path.
    let mut expected: BTreeMap<(String, FieldPath), FieldBehaviour> = BTreeMap::new();
    for f in handset_fields() {
        let chain: Vec<String> = f.selector.iter().map(|s| s.to_string()).collect();
        expected.insert(
            (f.host.to_owned(), FieldPath::from_chain(f.location, &chain)),
            f.behaviour,
        );
    }
    let mut seen = 0;
    for (endpoint, field) in outcome.fields() {
        let key = (endpoint.endpoint.host.clone(), field.field.clone());
        let Some(behaviour) = expected.get(&key) else {
            panic!(
                "unexpected field {} {} ({:?})",
                endpoint.endpoint, field.field, field.class
            );
        };
        seen += 1;
        let want = match behaviour {
            FieldBehaviour::PerDevice => Class::Identity,
            FieldBehaviour::PerRequest => Class::Volatile,
            FieldBehaviour::Constant => Class::Constant,
            FieldBehaviour::Cycling => Class::Varies,
        };
        assert_eq!(
            field.class, want,
            "{} {}: {}",
            endpoint.endpoint, field.field, field.reason
        );
        // Every request carried every field.
        for run in &field.per_run {
            assert_eq!(run.present, HANDSET_ROUNDS as u64, "{}", field.field);
        }
    }
    assert_eq!(
        seen,
        expected.len(),
        "every field of the fixture was compared"
    );
    // The endpoint with the Android ID in its path is one endpoint for both handsets.
    assert!(outcome
        .endpoints
        .iter()
        .any(|e| e.endpoint.path == "/api/u/{hex}/ping" && e.messages == [4, 4]));

    // Findings: one per per-device field, each `differential` and `identity`; the profile's
    // values label theirs (the SHA-256 of the IMEI as `imei`), the app's own as `identifier`.
    let mut kinds: BTreeMap<String, String> = BTreeMap::new();
    for f in &outcome.findings {
        assert_eq!(f.match_kind, MatchKind::Differential);
        assert_eq!(f.details["class"], "identity", "{:?}", f.details);
        assert_eq!(f.details["runs"], "handsetA, handsetB");
        kinds.insert(f.details["field"].clone(), f.kind.clone());
    }
    let want: BTreeMap<String, String> = [
        ("body › json:$.imei", "imei"),
        ("body › json:$.android_id", "android_id"),
        ("url › query:oaid", "oaid"),
        ("header:x-token", "identifier"),
        ("body › form:did", "imei"),
        ("body › form:blob", "identifier"),
        ("url › path:2", "android_id"),
        ("cookie:uid", "identifier"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(kinds, want);
    let did = outcome
        .findings
        .iter()
        .find(|f| f.details["field"] == "body › form:did")
        .unwrap();
    assert_eq!(did.form, "sha256", "labelled by the known finding's form");
    assert_eq!(did.count, 2 * HANDSET_ROUNDS as u64);
    assert_eq!(did.host.as_deref(), Some("log.metrics.example"));
    assert_eq!(did.destination.name.as_deref(), Some("log.metrics.example"));
    assert_eq!(did.location, "body");
    assert_eq!(did.chain, ["form:did"]);
    assert_eq!(
        outcome.summary.counts.findings,
        outcome.findings.len() as u64
    );
    assert_eq!(outcome.summary.inputs.len(), 2);
    assert_eq!(
        outcome.summary.counts.requests,
        2 * 4 * HANDSET_ROUNDS as u64
    );

    // The table: one row per shown field, the identity ones with both handsets' values.
    let mut text = Vec::new();
    render_table(&outcome, &mut text, &TableOptions::default()).unwrap();
    let text = String::from_utf8(text).unwrap();
    let [a, b] = phonehome_synth::scenario::handsets();
    let row = text
        .lines()
        .find(|l| l.contains("body › json:$.imei"))
        .unwrap();
    assert!(row.contains("identity") && row.contains("imei"), "{row}");
    assert!(row.contains(&a.imei) && row.contains(&b.imei), "{row}");
    assert!(
        !text.contains("json:$.nonce"),
        "volatile fields hidden by default"
    );
    let blob = text.lines().find(|l| l.contains("form:blob")).unwrap();
    assert!(
        blob.contains("identity") && blob.contains("identifier"),
        "{blob}"
    );
    assert!(text.contains("4 endpoints, 28 fields: 10 constant, 8 identity, 9 volatile, 1 varies"));
    let mut all = Vec::new();
    render_table(
        &outcome,
        &mut all,
        &TableOptions {
            width: Some(120),
            all: true,
        },
    )
    .unwrap();
    let all = String::from_utf8(all).unwrap();
    assert!(all.contains("4 values"), "volatile cells count values");
    assert!(
        all.lines().all(|l| l.chars().count() <= 120),
        "wrapped to 120 columns"
    );
}

#[test]
fn caps_bound_what_is_tracked() {
    let dir = temp_dir("handsets-caps");
    let runs: Vec<RunSpec> = write_handsets(&dir)
        .unwrap()
        .iter()
        .map(|d| RunSpec::parse(d.to_str().unwrap()).unwrap())
        .collect();
    let options = DiffOptions {
        caps: phonehome_diff::DiffCaps {
            max_endpoints: 2,
            max_fields_per_endpoint: 8,
            max_fields: 10,
            max_distinct: 2,
        },
        ..DiffOptions::default()
    };
    let outcome = diff_runs(&runs, &options).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(outcome.endpoints.len(), 2);
    assert!(outcome.endpoints.iter().all(|e| e.fields.len() <= 8));
    assert_eq!(outcome.fields().count(), 10);
    let reasons: Vec<&str> = outcome.warnings.iter().map(|w| w.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("more than 2 endpoints: 16 requests")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("field caps reached")),
        "{reasons:?}"
    );
    // A nonce's distinct values are counted up to the cap, and still volatile.
    let (_, nonce) = outcome
        .fields()
        .find(|(_, f)| f.field.to_string() == "body › json:$.nonce")
        .unwrap();
    assert_eq!(nonce.class, Class::Volatile, "{}", nonce.reason);
    assert!(nonce
        .per_run
        .iter()
        .all(|r| r.distinct == 2 && r.distinct_capped));
}
