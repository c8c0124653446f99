//! `[coverage]`: flows not inspected, flows inspected, unknown receivers, dropped findings.

mod common;

use common::{finding, policy, summary, violations, FindingExt};
use phonehome_model::Summary;

/// 10 flows: 2 inspected, 2 without TLS keys, 1 QUIC, 5 that carried nothing.
fn partial_run() -> Summary {
    let mut s = summary(10, None);
    s.counts.flows_inspected = 2;
    s.counts.flows_not_inspected = [("no_key", 2), ("quic", 1), ("no_payload", 5)]
        .into_iter()
        .map(|(r, n)| (r.to_owned(), n))
        .collect();
    s
}

#[test]
fn uninspected_flows_are_counted_without_empty_ones_by_default() {
    let p = policy("[coverage]\nmax_uninspected_flows = 0\n");
    assert_eq!(
        violations(&p, &[], &partial_run()),
        [(
            "coverage.max_uninspected_flows".to_owned(),
            "3 flows were not inspected (no_key 2, quic 1), more than the 0 allowed".to_owned(),
            vec![]
        )]
    );
    // At the limit is allowed.
    let p = policy("[coverage]\nmax_uninspected_flows = 3\n");
    assert!(violations(&p, &[], &partial_run()).is_empty());
    // A complete run passes.
    let p = policy("[coverage]\nmax_uninspected_flows = 0\n");
    assert!(violations(&p, &[], &summary(10, None)).is_empty());
}

#[test]
fn ignore_reasons_replaces_the_default() {
    let p = policy("[coverage]\nmax_uninspected_flows = 7\nignore_reasons = []\n");
    assert_eq!(
        violations(&p, &[], &partial_run())[0].1,
        "8 flows were not inspected (no_key 2, no_payload 5, quic 1), more than the 7 allowed"
    );
    let p = policy("[coverage]\nmax_uninspected_flows = 6\nignore_reasons = [\"quic\"]\n");
    assert_eq!(
        violations(&p, &[], &partial_run())[0].1,
        "7 flows were not inspected (no_key 2, no_payload 5), more than the 6 allowed"
    );
    let p = policy(
        "[coverage]\nmax_uninspected_flows = 0\nignore_reasons = [\"quic\", \"no_key\", \"no_payload\"]\n",
    );
    assert!(violations(&p, &[], &partial_run()).is_empty());
}

#[test]
fn per_reason_limits_are_checked_one_by_one() {
    let p = policy(
        r#"
        [coverage.max_uninspected_by_reason]
        no_key = 1
        quic = 1
        gap = 0
        no_payload = 4
        "#,
    );
    assert_eq!(
        violations(&p, &[], &partial_run()),
        [
            (
                "coverage.max_uninspected_by_reason".to_owned(),
                "2 flows were not inspected for no_key, more than the 1 allowed".to_owned(),
                vec![]
            ),
            (
                "coverage.max_uninspected_by_reason".to_owned(),
                "5 flows were not inspected for no_payload, more than the 4 allowed".to_owned(),
                vec![]
            ),
        ]
    );
}

#[test]
fn a_run_that_read_too_little_fails_min_inspected_flows() {
    let p = policy("[coverage]\nmin_inspected_flows = 3\n");
    assert_eq!(
        violations(&p, &[], &partial_run()),
        [(
            "coverage.min_inspected_flows".to_owned(),
            "2 flows were inspected, fewer than the 3 required".to_owned(),
            vec![]
        )]
    );
    let p = policy("[coverage]\nmin_inspected_flows = 2\n");
    assert!(violations(&p, &[], &partial_run()).is_empty());
    let p = policy("[coverage]\nmin_inspected_flows = 1\n");
    assert_eq!(
        violations(&p, &[], &Summary::default())[0].1,
        "0 flows were inspected, fewer than the 1 required"
    );
}

#[test]
fn unknown_receivers_fail_within_the_defaults() {
    let findings = vec![
        finding("imei", "tracking.intl.miui.com").org("xiaomi", "Xiaomi", "CN"),
        finding("imei", "a.collector.example"),
        finding("android_id", "b.collector.example"),
        finding("imei", "other.example").pattern("high"),
        finding("imei", "third.example").response(),
    ];
    let p = policy(
        r#"
        [defaults]
        match = ["known"]
        [coverage]
        fail_on_unknown_org = true
        "#,
    );
    assert_eq!(
        violations(&p, &findings, &summary(3, None)),
        [(
            "coverage.fail_on_unknown_org".to_owned(),
            "imei, android_id sent to an unknown organisation at a.collector.example, \
             b.collector.example; 2 findings"
                .to_owned(),
            vec![1, 2]
        )]
    );
    // The built-in defaults are the same: known findings in requests.
    let p = policy("[coverage]\nfail_on_unknown_org = true\n");
    let got = violations(&p, &findings, &summary(3, None));
    let groups: Vec<&[usize]> = got.iter().map(|(_, _, f)| f.as_slice()).collect();
    assert_eq!(groups, [&[1, 2][..]]);
    // Pattern findings count when the defaults say so (responses still do not).
    let p = policy(
        "[defaults]\nmatch = [\"known\", \"pattern\"]\n[coverage]\nfail_on_unknown_org = true\n",
    );
    let got = violations(&p, &findings, &summary(3, None));
    let groups: Vec<&[usize]> = got.iter().map(|(_, _, f)| f.as_slice()).collect();
    assert_eq!(groups, [&[1, 2][..], &[3]]);
    // Off: nothing.
    let p = policy("[coverage]\nfail_on_unknown_org = false\nmin_inspected_flows = 0\n");
    assert!(violations(&p, &findings, &summary(3, None)).is_empty());
}

#[test]
fn dropped_findings_fail_when_asked() {
    let mut s = summary(3, None);
    s.counts.findings_dropped = 12;
    let p = policy("[coverage]\nfail_on_dropped_findings = true\n");
    assert_eq!(
        violations(&p, &[], &s)[0].1,
        "12 findings were not listed because the cap on distinct findings was reached; no rule \
         could check them"
    );
    assert!(violations(&p, &[], &summary(3, None)).is_empty());
}

#[test]
fn rule_violations_come_before_coverage_violations() {
    let findings = vec![finding("imei", "x.collector.example")];
    let p = policy(
        r#"
        [coverage]
        fail_on_unknown_org = true
        max_uninspected_flows = 0
        [[rule]]
        id = "imei"
        kinds = ["imei"]
        "#,
    );
    let outcome = p.evaluate(&findings, &partial_run());
    let rules: Vec<&str> = outcome.violations.iter().map(|v| v.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "imei",
            "coverage.max_uninspected_flows",
            "coverage.fail_on_unknown_org"
        ]
    );
    assert_eq!(outcome.rules, 3);
}
