//! The policy file format: malformed policies are rejected with file, line, rule and reason; the
//! sample policy and every example in docs/policy.md parse.

use phonehome_policy::{Policy, PolicyError, PolicyErrorKind, RuleRef};
use std::path::Path;

fn error(text: &str) -> PolicyError {
    match Policy::from_toml(text, "bad.toml") {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(e) => e,
    }
}

const TWO_RULES: &str = r#"name = "x"

[[rule]]
id = "first"
kinds = ["imei"]

[[rule]]
id = "second"
"#;

#[test]
fn unknown_keys_name_the_file_line_and_rule() {
    let e = error(&format!("{TWO_RULES}deny_kinds = [\"imei\"]\n"));
    assert_eq!(e.origin, "bad.toml");
    assert_eq!(e.line, Some(9));
    assert_eq!(e.rule, Some(RuleRef::Id("second".into())));
    let text = e.to_string();
    assert!(
        text.starts_with(
            "bad.toml: line 9: rule `second`: unknown field `deny_kinds`, expected one of"
        ),
        "{text}"
    );
    assert!(text.contains("`kinds`"), "{text}");

    // Outside rules: no rule named.
    let e = error("nmae = \"x\"\n[[rule]]\nid = \"a\"\n");
    assert_eq!((e.line, e.rule.clone()), (Some(1), None));
    assert!(e.to_string().contains("unknown field `nmae`"), "{e}");
    let e = error("[defaults]\nconfidence = \"high\"\n[[rule]]\nid = \"a\"\n");
    assert_eq!((e.line, e.rule.clone()), (Some(2), None));
    let e = error("[coverage]\nmax_uninspected = 0\n");
    assert_eq!(e.line, Some(2));
    assert!(
        e.to_string().contains("unknown field `max_uninspected`"),
        "{e}"
    );
}

#[test]
fn wrong_types_and_syntax_errors_have_lines() {
    let e = error("[[rule]]\nid = \"a\"\ncountries = \"CN\"\n");
    assert_eq!(e.line, Some(3));
    assert_eq!(e.rule, Some(RuleRef::Id("a".into())));
    assert!(matches!(*e.kind, PolicyErrorKind::Toml { .. }), "{e:?}");

    let e = error("[[rule]]\nid = \"a\"\ncountries = [\"CN\"\n");
    assert!(matches!(*e.kind, PolicyErrorKind::Toml { .. }), "{e:?}");
    assert!(e.line.is_some(), "{e:?}");
    assert!(!e.to_string().contains('\n'), "one line: {e}");
}

#[test]
fn a_rule_without_id_is_named_by_position_at_its_header() {
    let e = error("[[rule]]\nid = \"a\"\n\n[[rule]]\nkinds = [\"imei\"]\n");
    assert_eq!(*e.kind, PolicyErrorKind::MissingId);
    assert_eq!(e.line, Some(4));
    assert_eq!(e.rule, Some(RuleRef::Position(2)));
    assert_eq!(
        e.to_string(),
        "bad.toml: line 4: rule #2: `id` is missing (every rule needs a unique id)"
    );
}

#[test]
fn ids_are_unique_and_well_formed() {
    let e = error("[[rule]]\nid = \"a\"\n[[rule]]\nid = \"b\"\n[[rule]]\nid = \"a\"\n");
    assert_eq!(*e.kind, PolicyErrorKind::DuplicateId { first_line: 1 });
    assert_eq!(e.line, Some(5));
    assert_eq!(
        e.to_string(),
        "bad.toml: line 5: rule `a`: duplicate id (first used at line 1)"
    );
    let e = error("[[rule]]\nid = \"has space\"\n");
    assert_eq!(e.rule, Some(RuleRef::Position(1)));
    assert!(matches!(*e.kind, PolicyErrorKind::InvalidValue { key, .. } if key == "id"));
    let e = error("[[rule]]\nid = \"coverage.mine\"\n");
    assert!(e.to_string().contains("reserved"), "{e}");
}

#[test]
fn bad_country_codes_are_rejected_with_a_hint() {
    let e = error("[[rule]]\nid = \"no-uk\"\ncountries = [\"CN\",\n  \"UK\"]\n");
    assert_eq!(e.line, Some(4));
    assert_eq!(e.rule, Some(RuleRef::Id("no-uk".into())));
    assert_eq!(
        e.to_string(),
        "bad.toml: line 4: rule `no-uk`: `countries` = \"UK\": not an assigned ISO 3166-1 \
         alpha-2 country code (the United Kingdom is `GB`)"
    );
    for bad in ["CHN", "China", "ZZ", ""] {
        let e = error(&format!("[[rule]]\nid = \"a\"\ncountries = [\"{bad}\"]\n"));
        assert!(
            matches!(&*e.kind, PolicyErrorKind::InvalidValue { key, value, .. } if *key == "countries" && value == bad),
            "{e:?}"
        );
    }
}

#[test]
fn bad_enumerated_values_say_what_is_expected() {
    let cases = [
        (
            "min_confidence = \"meduim\"",
            "`min_confidence` = \"meduim\": expected `low`, `medium` or `high`",
        ),
        (
            "match = [\"known\", \"guess\"]",
            "`match` = \"guess\": expected `known` or `pattern`",
        ),
        (
            "direction = [\"outbound\"]",
            "`direction` = \"outbound\": expected `request` or `response`",
        ),
        (
            "party = \"3rd\"",
            "`party` = \"3rd\": expected `first` or `third`",
        ),
        (
            "country_fields = [\"country\"]",
            "`country_fields` = \"country\": expected `org_country`, `parent_country` or \
             `server_country`",
        ),
        (
            "orgs = [\"Xiaomi\"]",
            "`orgs` = \"Xiaomi\": expected an organisation id from the entity data, in lower \
             case, such as `xiaomi` (write `xiaomi`)",
        ),
        (
            "allow_domains = [\"*.example.com\"]",
            "`allow_domains` = \"*.example.com\": write `example.com`: a listed domain already \
             matches every name under it",
        ),
        (
            "domains = [\"https://example.com/\"]",
            "`domains` = \"https://example.com/\": expected a domain name such as `example.com`",
        ),
        (
            "kinds = [\"IMEI\"]",
            "`kinds` = \"IMEI\": expected a kind of data in lower-case snake_case",
        ),
        (
            "kinds = []",
            "`kinds` is empty; omit the key to leave the rule unrestricted there",
        ),
    ];
    for (line, message) in cases {
        let e = error(&format!("[[rule]]\nid = \"r\"\n{line}\n"));
        assert_eq!(e.line, Some(3), "{e}");
        let prefix = format!("bad.toml: line 3: rule `r`: {message}");
        assert!(e.to_string().starts_with(&prefix), "{e}\nwanted: {prefix}");
    }
    // In [defaults] too, without a rule.
    let e = error("[defaults]\nmin_confidence = \"HIGH\"\n[[rule]]\nid = \"r\"\n");
    assert_eq!(
        e.to_string(),
        "bad.toml: line 2: `min_confidence` = \"HIGH\": expected `low`, `medium` or `high`"
    );
}

#[test]
fn coverage_values_are_checked() {
    let e = error("[coverage]\nmax_uninspected_flows = -1\n");
    assert_eq!(e.line, Some(2));
    assert!(e.to_string().contains("0 or more"), "{e}");
    let e = error("[coverage.max_uninspected_by_reason]\nno_key = 0\nno_keys = 1\n");
    assert_eq!(e.line, Some(3));
    assert!(
        e.to_string()
            .contains("`coverage.max_uninspected_by_reason` = \"no_keys\": expected a reason"),
        "{e}"
    );
    let e = error("[coverage]\nmax_uninspected_flows = 0\nignore_reasons = [\"idle\"]\n");
    assert_eq!(e.line, Some(3));
    let e = error("[coverage]\nmin_inspected_flows = 1\nignore_reasons = [\"quic\"]\n");
    assert!(matches!(*e.kind, PolicyErrorKind::NoEffect { .. }), "{e:?}");
    assert_eq!(e.line, Some(3));
}

#[test]
fn a_policy_that_checks_nothing_is_refused() {
    let e = error("name = \"empty\"\n[defaults]\nmatch = [\"known\"]\n[coverage]\nfail_on_unknown_org = false\n");
    assert_eq!(*e.kind, PolicyErrorKind::NothingToCheck);
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let e = Policy::load(Path::new("/nonexistent/policy.toml")).unwrap_err();
    assert_eq!(e.origin, "/nonexistent/policy.toml");
    assert!(matches!(*e.kind, PolicyErrorKind::Io { .. }), "{e:?}");
}

fn repo_file(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

#[test]
fn the_sample_vetting_policy_parses() {
    let p = Policy::load(&repo_file("policies/vetting.toml")).unwrap();
    assert_eq!(
        p.check_ids(),
        [
            "no-sensitive-data-to-cn-ru",
            "no-known-ids-to-third-parties",
            "coverage.max_uninspected_flows",
            "coverage.min_inspected_flows",
            "coverage.fail_on_unknown_org",
            "coverage.fail_on_dropped_findings",
        ]
    );
    assert!(p.name().is_some_and(|n| n.contains("CN or RU")));
    assert!(p
        .rule_description("no-known-ids-to-third-parties")
        .is_some());
}

#[test]
fn every_example_in_the_policy_doc_parses() {
    let doc = std::fs::read_to_string(repo_file("docs/policy.md")).unwrap();
    let mut examples = 0;
    let mut lines = doc.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if line.trim() != "```toml" {
            continue;
        }
        let block: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| l.trim() != "```")
            .collect();
        let origin = format!("docs/policy.md example at line {}", n + 1);
        if let Err(e) = Policy::from_toml(&block.join("\n"), &origin) {
            panic!("{e}");
        }
        examples += 1;
    }
    assert!(examples >= 3, "{examples} examples");
}
