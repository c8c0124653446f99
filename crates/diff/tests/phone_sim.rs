//! `sim` vs `nosim` of the simulated handset (`shared/testdata/phone-sim`): the SIM's phone
//! number, IMSI and ICCID are `one run only`, the device identifiers `constant`, each labelled
//! with its kind by the runs' own `known` findings.

use phonehome_diff::{diff_runs, render_table, Class, DiffOptions, RunSpec, TableOptions};
use phonehome_model::MatchKind;
use std::collections::BTreeMap;

#[test]
fn sim_against_nosim() {
    let (Some(sim), Some(nosim)) = (
        phonehome_testkit::phone_sim("sim"),
        phonehome_testkit::phone_sim("nosim"),
    ) else {
        return;
    };
    let runs = vec![
        RunSpec::parse(sim.to_str().unwrap()).unwrap(),
        RunSpec::parse(nosim.to_str().unwrap()).unwrap(),
    ];
    // The directory gives the capture (not the HAR copy), the key log and the profile.
    assert_eq!(runs[0].name, "sim");
    assert_eq!(runs[0].inputs, [sim.join("capture.pcapng")]);
    assert_eq!(runs[0].keylogs, [sim.join("keys.log")]);
    assert_eq!(runs[0].device, Some(sim.join("device.toml")));
    let outcome = diff_runs(&runs, &DiffOptions::default()).unwrap();

    // field → (class, kinds)
    let by_field: BTreeMap<String, (Class, Vec<String>)> = outcome
        .fields()
        .map(|(e, f)| {
            (
                format!("{} {}", e.endpoint, f.field),
                (f.class, f.kinds.clone()),
            )
        })
        .collect();
    let expect = |field: &str, class: Class, kind: &str| {
        let got = by_field
            .get(field)
            .unwrap_or_else(|| panic!("no field {field} in {by_field:#?}"));
        assert_eq!(got.0, class, "{field}");
        assert_eq!(got.1, [kind], "{field}");
    };
    // What the SIM adds: phone number (a gzip-compressed JSON body over HTTP/2 and TLS 1.3),
    // IMSI and ICCID (plaintext query).
    expect(
        "POST log.tbs.qq.com/ajax body › json:$.tel",
        Class::OneRunOnly,
        "phone_number",
    );
    expect(
        "GET dm.wo.com.cn/reg url › query:imsi",
        Class::OneRunOnly,
        "imsi",
    );
    expect(
        "GET dm.wo.com.cn/reg url › query:iccid",
        Class::OneRunOnly,
        "iccid",
    );
    // The device identifiers do not depend on the SIM.
    expect(
        "POST tracking.intl.miui.com/track/v3 body › json:$.imei",
        Class::Constant,
        "imei",
    );
    expect(
        "POST tracking.intl.miui.com/track/v3 body › json:$.aid",
        Class::Constant,
        "android_id",
    );
    expect(
        "GET api.push.oppomobile.com/register header:x-device-id",
        Class::Constant,
        "android_id",
    );
    expect(
        "GET data.ads.heytapmobi.com/v1/ad url › query:gaid",
        Class::Constant,
        "advertising_id",
    );
    expect(
        "GET sdk.hiido.com/c.gif url › query:imei_md5",
        Class::Constant,
        "imei",
    );
    expect(
        "POST api.ad.intl.xiaomi.com/u body › form:p › json:$.sn",
        Class::Constant,
        "serial",
    );
    expect(
        "POST api.ad.intl.xiaomi.com/u body › form:p › json:$.oaid",
        Class::Constant,
        "oaid",
    );
    expect(
        "POST sms.realme.com/sync body › form:wifi",
        Class::Constant,
        "mac",
    );
    // Nothing else differs between the runs.
    let one_run_only = by_field
        .values()
        .filter(|(c, _)| *c == Class::OneRunOnly)
        .count();
    assert_eq!(one_run_only, 3);
    assert!(
        by_field
            .values()
            .all(|(c, _)| matches!(c, Class::Constant | Class::OneRunOnly)),
        "{by_field:#?}"
    );

    // Findings: every labelled field, `differential`, with the class in the details; the phone
    // number's labelled from the sim run alone (nosim's profile has no phone number).
    let tel = outcome
        .findings
        .iter()
        .find(|f| f.kind == "phone_number")
        .unwrap();
    assert_eq!(tel.match_kind, MatchKind::Differential);
    assert_eq!(tel.details["class"], "one_run_only");
    assert_eq!(tel.details["runs"], "sim");
    assert_eq!(tel.details["endpoint"], "POST log.tbs.qq.com/ajax");
    assert_eq!(tel.details["labelled_by"], "known");
    assert_eq!(tel.value, "+447700900123");
    assert_eq!(tel.chain, ["content-encoding:gzip", "json:$.tel"]);
    assert_eq!(tel.transport.tls.as_deref(), Some("1.3"));
    assert_eq!(tel.confidence, "high");
    assert!(tel
        .reason
        .as_deref()
        .unwrap()
        .starts_with("one run only: present in sim"));
    let imsi = outcome.findings.iter().find(|f| f.kind == "imsi").unwrap();
    assert_eq!(imsi.location, "url");
    assert_eq!(imsi.chain, ["query:imsi"]);
    assert!(imsi.url.starts_with("http://dm.wo.com.cn/reg?imsi="));
    assert_eq!(
        imsi.destination.org.as_ref().map(|o| o.id.as_str()),
        Some("chinaunicom")
    );
    // One finding per labelled field, nothing unlabelled.
    let labelled = outcome
        .fields()
        .filter(|(_, f)| !f.kinds.is_empty())
        .count();
    assert_eq!(outcome.findings.len(), labelled);
    assert!(outcome.findings.iter().all(|f| f.kind != "identifier"));
    assert_eq!(outcome.summary.inputs.len(), 2);
    assert_eq!(
        outcome.summary.keylog.as_ref().map(|k| k.files.len()),
        Some(2)
    );

    let mut text = Vec::new();
    render_table(&outcome, &mut text, &TableOptions::default()).unwrap();
    let text = String::from_utf8(text).unwrap();
    println!("{text}");
    let row = text.lines().find(|l| l.contains("query:imsi")).unwrap();
    assert!(
        row.contains("one run only") && row.contains("234101234567890") && row.contains('—'),
        "{row}"
    );
}
