//! `[[rule]]` semantics: selectors, defaults, deny and allow-lists, parties, grouping and reasons.

mod common;

use common::{finding, policy, summary, violations, FindingExt};
use phonehome_model::{Finding, Party};
use phonehome_policy::violating_findings;

/// A run touching Xiaomi (two hosts), Google, OnePlus (parent OPPO) and an unknown collector.
fn run() -> Vec<Finding> {
    vec![
        // 0
        finding("imei", "tracking.intl.miui.com")
            .org("xiaomi", "Xiaomi", "CN")
            .server("SG"),
        // 1
        finding("android_id", "tracking.intl.miui.com")
            .org("xiaomi", "Xiaomi", "CN")
            .server("SG"),
        // 2
        finding("imei", "www.google.com")
            .org("google", "Google", "US")
            .parent("alphabet", "Alphabet", "US")
            .server("US"),
        // 3
        finding("contact", "cloud.oneplus.net")
            .org("oneplus", "OnePlus", "CN")
            .parent("oppo", "OPPO", "CN"),
        // 4
        finding("serial", "api.ad.intl.xiaomi.com")
            .org("xiaomi", "Xiaomi", "CN")
            .server("CN"),
        // 5
        finding("imei", "ru-collector.example").server("RU"),
        // 6
        finding("email", "tracking.intl.miui.com")
            .org("xiaomi", "Xiaomi", "CN")
            .server("SG"),
    ]
}

#[test]
fn countries_match_any_field_and_the_reason_says_which() {
    let p = policy(
        r#"
        [[rule]]
        id = "no-cn-ru"
        kinds = ["imei", "android_id", "contact", "serial"]
        countries = ["CN", "RU"]
        "#,
    );
    assert_eq!(
        violations(&p, &run(), &summary(5, None)),
        [
            (
                "no-cn-ru".to_owned(),
                "imei, android_id, serial sent to Xiaomi at tracking.intl.miui.com, \
                 api.ad.intl.xiaomi.com: organisation in CN, server in CN; 3 findings"
                    .to_owned(),
                vec![0, 1, 4]
            ),
            (
                "no-cn-ru".to_owned(),
                "contact sent to OnePlus at cloud.oneplus.net: organisation in CN, parent OPPO \
                 in CN; 1 finding"
                    .to_owned(),
                vec![3]
            ),
            (
                "no-cn-ru".to_owned(),
                "imei sent to an unknown organisation at ru-collector.example: server in RU; \
                 1 finding"
                    .to_owned(),
                vec![5]
            ),
        ]
    );
}

#[test]
fn country_fields_narrow_what_countries_reads() {
    // Only where the servers are registered: Xiaomi's SG servers pass, its CN one does not, and
    // OnePlus (no server country) passes.
    let p = policy(
        r#"
        [[rule]]
        id = "no-servers-in-cn-ru"
        countries = ["cn", "RU"]
        country_fields = ["server_country"]
        "#,
    );
    let got = violations(&p, &run(), &summary(5, None));
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(
        got[0].1,
        "serial sent to Xiaomi at api.ad.intl.xiaomi.com: server in CN; 1 finding"
    );
    assert_eq!(got[0].2, [4]);
    assert_eq!(got[1].2, [5]);

    // The same through [defaults], and a rule may widen it again.
    let p = policy(
        r#"
        [defaults]
        country_fields = ["parent_country"]
        [[rule]]
        id = "parents"
        countries = ["CN"]
        [[rule]]
        id = "orgs"
        countries = ["CN"]
        country_fields = ["org_country"]
        kinds = ["contact"]
        "#,
    );
    let got = violations(&p, &run(), &summary(5, None));
    assert_eq!(
        got,
        [
            (
                "parents".to_owned(),
                "contact sent to OnePlus at cloud.oneplus.net: parent OPPO in CN; 1 finding"
                    .to_owned(),
                vec![3]
            ),
            (
                "orgs".to_owned(),
                "contact sent to OnePlus at cloud.oneplus.net: organisation in CN; 1 finding"
                    .to_owned(),
                vec![3]
            ),
        ]
    );
}

#[test]
fn a_rule_without_selectors_denies_every_finding() {
    let p = policy("[[rule]]\nid = \"nothing-leaves\"\n");
    let findings = run();
    let outcome = p.evaluate(&findings, &summary(5, None));
    // Grouped by receiver: Xiaomi, Google, OnePlus, the unknown collector.
    let groups: Vec<&[usize]> = outcome
        .violations
        .iter()
        .map(|v| v.findings.as_slice())
        .collect();
    assert_eq!(groups, [&[0, 1, 4, 6][..], &[2], &[3], &[5]]);
    assert_eq!(
        outcome.violations[0].reason,
        "imei, android_id, serial, email sent to Xiaomi at tracking.intl.miui.com, \
         api.ad.intl.xiaomi.com; 4 findings"
    );
    assert_eq!(violating_findings(&outcome), (0..findings.len()).collect());
}

#[test]
fn defaults_decide_match_confidence_and_direction_unless_a_rule_overrides() {
    let findings = vec![
        finding("imei", "a.example").org("acme", "Acme", "RU"),
        finding("imei", "b.example")
            .org("acme", "Acme", "RU")
            .pattern("low"),
        finding("imei", "c.example")
            .org("acme", "Acme", "RU")
            .pattern("medium"),
        finding("imei", "d.example")
            .org("acme", "Acme", "RU")
            .response(),
    ];
    let p = policy(
        r#"
        [defaults]
        match = ["known"]
        direction = ["request"]
        [[rule]]
        id = "known-only"
        countries = ["RU"]
        [[rule]]
        id = "patterns-too"
        countries = ["RU"]
        match = ["known", "pattern"]
        min_confidence = "medium"
        [[rule]]
        id = "responses"
        countries = ["RU"]
        direction = ["response"]
        "#,
    );
    let got = violations(&p, &findings, &summary(4, None));
    let by_rule: Vec<(&str, &[usize])> = got
        .iter()
        .map(|(r, _, f)| (r.as_str(), f.as_slice()))
        .collect();
    assert_eq!(
        by_rule,
        [
            ("known-only", &[0][..]),
            ("patterns-too", &[0, 2][..]),
            ("responses", &[3][..]),
        ]
    );
    assert_eq!(
        got[2].1,
        "imei received from Acme at d.example: organisation in RU; 1 finding"
    );

    // Without [defaults]: known findings in requests only.
    let p = policy("[[rule]]\nid = \"ru\"\ncountries = [\"RU\"]\n");
    let got = violations(&p, &findings, &summary(4, None));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2, [0]);
}

#[test]
fn party_rules_need_the_vendor_and_fail_closed_without_it() {
    let findings = vec![
        finding("imei", "tracking.intl.miui.com")
            .org("xiaomi", "Xiaomi", "CN")
            .party(Party::First),
        finding("oaid", "data.ads.heytapmobi.com")
            .org("oppo", "OPPO", "CN")
            .party(Party::Third),
        finding("imei", "www.google.com")
            .org("google", "Google", "US")
            .party(Party::Third),
        // An unknown receiver has no party: `party` cannot match it (see fail_on_unknown_org).
        finding("imei", "unknown.example"),
        finding("imei", "www.google.com")
            .org("google", "Google", "US")
            .party(Party::Third)
            .pattern("high"),
    ];
    let p = policy(
        r#"
        [defaults]
        match = ["known"]
        [[rule]]
        id = "no-third-parties"
        party = "third"
        "#,
    );
    assert_eq!(
        violations(&p, &findings, &summary(3, Some("xiaomi"))),
        [
            (
                "no-third-parties".to_owned(),
                "oaid sent to OPPO at data.ads.heytapmobi.com: third party; 1 finding".to_owned(),
                vec![1]
            ),
            (
                "no-third-parties".to_owned(),
                "imei sent to Google at www.google.com: third party; 1 finding".to_owned(),
                vec![2]
            ),
        ]
    );
    // No vendor: one violation over every finding the rule would have judged.
    assert_eq!(
        violations(&p, &findings, &summary(3, None)),
        [(
            "no-third-parties".to_owned(),
            "cannot tell first from third parties: the device profile names no vendor \
             (`vendor` under [device]); 4 findings in scope"
                .to_owned(),
            vec![0, 1, 2, 3]
        )]
    );
    // …but nothing in scope is nothing to judge.
    assert!(violations(&p, &findings[4..], &summary(3, None)).is_empty());

    let first =
        policy("[[rule]]\nid = \"vendor-only-imei\"\nparty = \"first\"\nkinds = [\"imei\"]\n");
    let got = violations(&first, &findings, &summary(3, Some("xiaomi")));
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].1,
        "imei sent to Xiaomi at tracking.intl.miui.com: first party; 1 finding"
    );
}

#[test]
fn orgs_match_the_organisation_or_its_parent_and_domains_match_on_label_boundaries() {
    let p = policy(
        r#"
        [[rule]]
        id = "oppo-group"
        orgs = ["oppo"]
        [[rule]]
        id = "miui"
        domains = ["MIUI.com."]
        [[rule]]
        id = "alphabet"
        orgs = ["alphabet"]
        kinds = ["imei"]
        "#,
    );
    let mut findings = run();
    findings.push(finding("imei", "notmiui.com"));
    let got = violations(&p, &findings, &summary(5, None));
    let by_rule: Vec<(&str, &[usize])> = got
        .iter()
        .map(|(r, _, f)| (r.as_str(), f.as_slice()))
        .collect();
    assert_eq!(
        by_rule,
        [
            ("oppo-group", &[3][..]),
            ("miui", &[0, 1, 6][..]),
            ("alphabet", &[2][..]),
        ]
    );
}

#[test]
fn allow_lists_flag_whatever_goes_elsewhere() {
    let mut findings = run();
    findings.push(finding("imei", "api.example.com")); // 7: unknown org, allowed domain
    findings.push(finding("imei", "badexample.com")); // 8: not under example.com
    let p = policy(
        r#"
        [[rule]]
        id = "allow-list"
        allow_orgs = ["google", "xiaomi"]
        allow_domains = ["example.com"]
        "#,
    );
    assert_eq!(
        violations(&p, &findings, &summary(5, None)),
        [
            (
                "allow-list".to_owned(),
                "contact sent to OnePlus at cloud.oneplus.net: not on the allow-list; 1 finding"
                    .to_owned(),
                vec![3]
            ),
            (
                "allow-list".to_owned(),
                "imei sent to an unknown organisation at ru-collector.example: not on the \
                 allow-list; 1 finding"
                    .to_owned(),
                vec![5]
            ),
            (
                "allow-list".to_owned(),
                "imei sent to an unknown organisation at badexample.com: not on the allow-list; \
                 1 finding"
                    .to_owned(),
                vec![8]
            ),
        ]
    );

    // A parent on the list allows its companies; selectors narrow what the list judges.
    let p = policy(
        r#"
        [[rule]]
        id = "identifiers-only-to-the-oppo-group"
        kinds = ["imei", "contact"]
        allow_orgs = ["oppo"]
        "#,
    );
    let got = violations(&p, &findings, &summary(5, None));
    let groups: Vec<&[usize]> = got.iter().map(|(_, _, f)| f.as_slice()).collect();
    assert_eq!(groups, [&[0][..], &[2], &[5], &[7], &[8]]);

    // Allow-list and countries: within CN, only Xiaomi.
    let p = policy(
        r#"
        [[rule]]
        id = "cn-only-xiaomi"
        countries = ["CN"]
        allow_orgs = ["xiaomi"]
        "#,
    );
    assert_eq!(
        violations(&p, &findings, &summary(5, None)),
        [(
            "cn-only-xiaomi".to_owned(),
            "contact sent to OnePlus at cloud.oneplus.net: not on the allow-list, organisation \
             in CN, parent OPPO in CN; 1 finding"
                .to_owned(),
            vec![3]
        )]
    );
}

#[test]
fn long_host_lists_are_cut_and_the_outcome_names_the_policy() {
    let findings: Vec<Finding> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|h| finding("imei", &format!("{h}.tracker.example")).org("acme", "Acme", "RU"))
        .collect();
    let p = policy(
        r#"
        name = "Test policy"
        [[rule]]
        id = "ru"
        countries = ["RU"]
        [[rule]]
        id = "never"
        kinds = ["sms"]
        [coverage]
        fail_on_unknown_org = true
        "#,
    );
    let outcome = p.evaluate(&findings, &summary(5, None));
    assert_eq!(outcome.file, "test.toml");
    assert_eq!(outcome.name.as_deref(), Some("Test policy"));
    assert_eq!(outcome.rules, 3);
    assert_eq!(outcome.violations.len(), 1);
    assert_eq!(
        outcome.violations[0].reason,
        "imei sent to Acme at a.tracker.example, b.tracker.example, c.tracker.example and 2 \
         more: organisation in RU; 5 findings"
    );
    assert_eq!(
        p.check_ids(),
        ["ru", "never", "coverage.fail_on_unknown_org"]
    );
}
