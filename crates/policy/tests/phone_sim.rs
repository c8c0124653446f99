//! The sample policy (`policies/vetting.toml`) over the simulated handset's capture
//! (`shared/testdata/phone-sim/sim`), analysed end to end. The expected violations are written by
//! hand from `truth.json` (what each host receives) and the entity data (who runs each host):
//!
//! | host | truth | organisation (parent), country |
//! |---|---|---|
//! | tracking.intl.miui.com | imei, android_id | Xiaomi, CN |
//! | api.ad.intl.xiaomi.com | serial, oaid | Xiaomi, CN |
//! | data.ads.heytapmobi.com | advertising_id | OPPO, CN |
//! | api.push.oppomobile.com | android_id | OPPO, CN |
//! | log.tbs.qq.com | phone_number, location | Tencent, CN |
//! | sdk.hiido.com | imei | YY, CN |
//! | cloud.oneplus.net | contact | OnePlus (OPPO), CN |
//! | sms.realme.com | sms, mac | realme (OPPO), CN |
//! | dm.wo.com.cn | imsi, iccid, email | China Unicom, CN |
//! | www.google.com | nothing | Google, US |
//!
//! The capture's servers are loopback addresses, so no server country is known: only the
//! organisation and parent countries can match.

use phonehome::model::{Finding, FlowRecord, MatchKind, PolicyOutcome, Summary, Warning};
use phonehome::{Analyzer, KeyLog, Options, Profile, Report};
use phonehome_policy::{violating_findings, Policy};
use std::collections::BTreeSet;
use std::path::Path;

/// What a run reported that a policy reads.
#[derive(Default)]
struct Run {
    findings: Vec<Finding>,
    summary: Option<Summary>,
}

impl Report for Run {
    fn flow(&mut self, _flow: &FlowRecord) -> std::io::Result<()> {
        Ok(())
    }
    fn warning(&mut self, _warning: &Warning) -> std::io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> std::io::Result<()> {
        self.findings = findings.to_vec();
        self.summary = Some(summary.clone());
        Ok(())
    }
}

/// Analyses the sim capture with the device profile (plus `extra_device_line` under `[device]`)
/// and, when `with_keys`, the TLS key log.
fn analyze(dir: &Path, extra_device_line: &str, with_keys: bool) -> (Vec<Finding>, Summary) {
    let text = std::fs::read_to_string(dir.join("device.toml")).unwrap();
    let text = text.replacen("[device]\n", &format!("[device]\n{extra_device_line}\n"), 1);
    let mut keylog = KeyLog::new();
    if with_keys {
        let problems = keylog.add_text(&std::fs::read_to_string(dir.join("keys.log")).unwrap());
        assert!(problems.is_empty(), "{problems:?}");
    }
    let options = Options {
        profile: Some(Profile::parse(&text).unwrap().0),
        keylog,
        ..Options::default()
    };
    let mut run = Run::default();
    let mut analyzer = Analyzer::new(options);
    let input = dir.join("capture.pcapng");
    analyzer.analyze_file(&input, input.display().to_string().into(), &mut run);
    analyzer.finish(&mut run).unwrap();
    (run.findings, run.summary.unwrap())
}

fn vetting_policy() -> Policy {
    Policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/vetting.toml"))
        .unwrap()
}

/// One expected violation: rule, organisation id (`None` for a violation about no receiver),
/// and the kinds it covers.
type Expected = (&'static str, Option<&'static str>, &'static [&'static str]);

/// Checks `outcome` against `expected` exactly: same violations in the same order, each holding
/// every finding (and only those) of its organisation and kinds.
fn assert_violations(outcome: &PolicyOutcome, findings: &[Finding], expected: &[Expected]) {
    let got: Vec<(String, Option<String>, BTreeSet<String>)> = outcome
        .violations
        .iter()
        .map(|v| {
            let orgs: BTreeSet<Option<String>> = v
                .findings
                .iter()
                .map(|&i| findings[i].destination.org.as_ref().map(|o| o.id.clone()))
                .collect();
            let org = if orgs.len() == 1 {
                orgs.into_iter().next().flatten()
            } else {
                None
            };
            let kinds = v
                .findings
                .iter()
                .map(|&i| findings[i].kind.clone())
                .collect();
            (v.rule.clone(), org, kinds)
        })
        .collect();
    let want: Vec<(String, Option<String>, BTreeSet<String>)> = expected
        .iter()
        .map(|(rule, org, kinds)| {
            (
                (*rule).to_owned(),
                org.map(str::to_owned),
                kinds.iter().map(|k| (*k).to_owned()).collect(),
            )
        })
        .collect();
    let as_set = |v: &[(String, Option<String>, BTreeSet<String>)]| -> BTreeSet<_> {
        v.iter().cloned().collect()
    };
    assert_eq!(as_set(&got), as_set(&want), "{outcome:#?}");
    assert_eq!(got.len(), want.len(), "{outcome:#?}");
    // Rule order: the policy's.
    let rules: Vec<&str> = got.iter().map(|(r, _, _)| r.as_str()).collect();
    let mut sorted = rules.clone();
    let policy = vetting_policy();
    let ids = policy.check_ids();
    let order = |r: &str| ids.iter().position(|id| *id == r);
    sorted.sort_by_key(|r| order(r));
    assert_eq!(rules, sorted);
    // Each per-organisation violation holds all findings of its organisation and kinds.
    for v in &outcome.violations {
        let Some(first) = v.findings.first() else {
            continue;
        };
        let org = findings[*first].destination.org.clone();
        if org.is_none() || v.reason.starts_with("cannot tell") {
            continue;
        }
        let kinds: BTreeSet<&str> = v
            .findings
            .iter()
            .map(|&i| findings[i].kind.as_str())
            .collect();
        let all: Vec<usize> = (0..findings.len())
            .filter(|&i| {
                findings[i].destination.org == org && kinds.contains(findings[i].kind.as_str())
            })
            .collect();
        assert_eq!(v.findings, all, "{v:#?}");
    }
}

/// The CN/RU rule over the whole capture: every truth kind except email (not on the rule's list),
/// one violation per receiving organisation.
const CN_RU: [Expected; 7] = [
    (
        "no-sensitive-data-to-cn-ru",
        Some("xiaomi"),
        &["imei", "android_id", "serial", "oaid"],
    ),
    (
        "no-sensitive-data-to-cn-ru",
        Some("oppo"),
        &["advertising_id", "android_id"],
    ),
    (
        "no-sensitive-data-to-cn-ru",
        Some("tencent"),
        &["phone_number", "location"],
    ),
    ("no-sensitive-data-to-cn-ru", Some("yy"), &["imei"]),
    ("no-sensitive-data-to-cn-ru", Some("oneplus"), &["contact"]),
    (
        "no-sensitive-data-to-cn-ru",
        Some("realme"),
        &["sms", "mac"],
    ),
    (
        "no-sensitive-data-to-cn-ru",
        Some("chinaunicom"),
        &["imsi", "iccid"],
    ),
];

#[test]
fn the_vetting_policy_on_the_sim_capture_without_a_vendor() {
    let Some(dir) = phonehome_testkit::phone_sim("sim") else {
        return;
    };
    let (findings, summary) = analyze(&dir, "", true);
    let outcome = vetting_policy().evaluate(&findings, &summary);
    for v in &outcome.violations {
        println!("{}: {} {:?}", v.rule, v.reason, v.findings);
    }
    assert_eq!(outcome.rules, 6);
    // The profile names no vendor: the third-party rule cannot be decided and fails closed over
    // every known value sent (all 18: the truth's 17 kinds, with the two contacts' names and
    // numbers as four findings). Coverage is complete: every flow was read with the key log, and
    // every receiver is known.
    let mut expected = CN_RU.to_vec();
    expected.push((
        "no-known-ids-to-third-parties",
        None,
        &[
            "imei",
            "android_id",
            "serial",
            "oaid",
            "advertising_id",
            "phone_number",
            "location",
            "contact",
            "sms",
            "mac",
            "imsi",
            "iccid",
            "email",
        ],
    ));
    assert_violations(&outcome, &findings, &expected);
    let undecided = &outcome.violations[7];
    assert_eq!(undecided.findings.len(), 18);
    assert!(undecided
        .reason
        .starts_with("cannot tell first from third parties"));

    let oneplus = outcome
        .violations
        .iter()
        .find(|v| findings[v.findings[0]].kind == "contact")
        .unwrap();
    assert_eq!(
        oneplus.reason,
        "contact sent to OnePlus at cloud.oneplus.net: organisation in CN, parent OPPO in CN; \
         4 findings"
    );
    // Email went to China Unicom, but only the third-party rule covers it.
    let email = findings.iter().position(|f| f.kind == "email").unwrap();
    assert!(!outcome.violations[..7]
        .iter()
        .any(|v| v.findings.contains(&email)));
    assert_eq!(violating_findings(&outcome).len(), findings.len());
}

#[test]
fn the_vetting_policy_on_the_sim_capture_of_a_xiaomi_phone() {
    let Some(dir) = phonehome_testkit::phone_sim("sim") else {
        return;
    };
    let (findings, summary) = analyze(&dir, "vendor = \"xiaomi\"", true);
    assert_eq!(summary.vendor.as_deref(), Some("xiaomi"));
    let outcome = vetting_policy().evaluate(&findings, &summary);
    for v in &outcome.violations {
        println!("{}: {} {:?}", v.rule, v.reason, v.findings);
    }
    // Xiaomi is first party: only the CN/RU rule flags it. Everyone else is a third party.
    let mut expected = CN_RU.to_vec();
    expected.extend([
        (
            "no-known-ids-to-third-parties",
            Some("oppo"),
            &["advertising_id", "android_id"][..],
        ),
        (
            "no-known-ids-to-third-parties",
            Some("tencent"),
            &["phone_number", "location"],
        ),
        ("no-known-ids-to-third-parties", Some("yy"), &["imei"]),
        (
            "no-known-ids-to-third-parties",
            Some("oneplus"),
            &["contact"],
        ),
        (
            "no-known-ids-to-third-parties",
            Some("realme"),
            &["sms", "mac"],
        ),
        (
            "no-known-ids-to-third-parties",
            Some("chinaunicom"),
            &["imsi", "iccid", "email"],
        ),
    ]);
    assert_violations(&outcome, &findings, &expected);
    let unicom = outcome
        .violations
        .iter()
        .find(|v| v.rule == "no-known-ids-to-third-parties" && v.reason.contains("China Unicom"))
        .unwrap();
    assert_eq!(
        unicom.reason,
        "imsi, iccid, email sent to China Unicom at dm.wo.com.cn: third party; 3 findings"
    );
    // Everything but Xiaomi's identifiers breaks the third-party rule; everything but email the
    // CN/RU rule: together, every finding.
    assert_eq!(violating_findings(&outcome).len(), findings.len());
    assert!(findings.iter().all(|f| f.match_kind == MatchKind::Known));
}

#[test]
fn the_vetting_policy_without_the_key_log_fails_coverage() {
    let Some(dir) = phonehome_testkit::phone_sim("sim") else {
        return;
    };
    let (findings, summary) = analyze(&dir, "vendor = \"xiaomi\"", false);
    let outcome = vetting_policy().evaluate(&findings, &summary);
    // Only the two plaintext HTTP flows are read: YY's and China Unicom's.
    assert_violations(
        &outcome,
        &findings,
        &[
            ("no-sensitive-data-to-cn-ru", Some("yy"), &["imei"]),
            (
                "no-sensitive-data-to-cn-ru",
                Some("chinaunicom"),
                &["imsi", "iccid"],
            ),
            ("no-known-ids-to-third-parties", Some("yy"), &["imei"]),
            (
                "no-known-ids-to-third-parties",
                Some("chinaunicom"),
                &["imsi", "iccid", "email"],
            ),
            ("coverage.max_uninspected_flows", None, &[]),
        ],
    );
    let coverage = outcome.violations.last().unwrap();
    assert_eq!(
        coverage.reason,
        "8 flows were not inspected (no_key 8), more than the 0 allowed"
    );
}
