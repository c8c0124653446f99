//! The organisation database: the shipped data file, longest-suffix matching, shared hosting,
//! overlays and every validation error.

use phonehome_attribute::entity::{
    EntityDb, EntityError, EntityErrorKind, EntityKind, EMBEDDED_ENTITIES, EMBEDDED_ORIGIN,
};

fn embedded() -> &'static EntityDb {
    EntityDb::embedded()
}

/// `(id, country)` of the organisation behind `host`, if any.
fn org(db: &EntityDb, host: &str) -> Option<(String, String)> {
    db.lookup(host)
        .map(|m| (m.id.to_owned(), m.country.to_owned()))
}

fn assert_org(db: &EntityDb, host: &str, id: &str, country: &str) {
    assert_eq!(
        org(db, host),
        Some((id.to_owned(), country.to_owned())),
        "{host}"
    );
}

fn parse_error(text: &str) -> EntityError {
    match EntityDb::from_toml(text, "test.toml") {
        Ok(db) => panic!("expected an error, got {} entities", db.len()),
        Err(e) => e,
    }
}

const ACME: &str = r#"
[[entity]]
id = "acme"
name = "Acme"
country = "US"
domains = ["acme.example"]
sources = ["https://acme.example/"]
"#;

// ---------------------------------------------------------------------------------------------
// The shipped data file
// ---------------------------------------------------------------------------------------------

#[test]
fn the_embedded_file_parses_and_validates() {
    let db = match EntityDb::from_toml(EMBEDDED_ENTITIES, EMBEDDED_ORIGIN) {
        Ok(db) => db,
        Err(e) => panic!("{e}"),
    };
    assert!(db.len() >= 70, "only {} entities", db.len());
    assert!(
        db.domain_count() >= 400,
        "only {} domains",
        db.domain_count()
    );
    // The run-time copy is the same data, not the empty fallback.
    assert_eq!(embedded().len(), db.len());
    assert_eq!(embedded().domain_count(), db.domain_count());
    for e in db.entities() {
        assert!(!e.sources.is_empty(), "{} has no sources", e.id);
        assert!(!e.domains.is_empty(), "{} has no domains", e.id);
        assert_eq!(e.origin, EMBEDDED_ORIGIN);
    }
    assert!(db.shared_hosting_suffixes().any(|s| s == "cloudfront.net"));
    assert!(!db.shared_hosting_sources().is_empty());
}

#[test]
fn the_issue_cases_resolve_to_the_right_organisation_and_country() {
    let db = embedded();
    let cases = [
        ("miui.com", "xiaomi", "CN"),
        ("xiaomi.com", "xiaomi", "CN"),
        ("tracking.intl.miui.com", "xiaomi", "CN"),
        ("xmpush.global.xiaomi.com", "xiaomi", "CN"),
        ("heytapmobi.com", "oppo", "CN"),
        ("data.ads.heytapmobi.com", "oppo", "CN"),
        ("oppomobile.com", "oppo", "CN"),
        ("api.push.oppomobile.com", "oppo", "CN"),
        ("oneplus.net", "oneplus", "CN"),
        ("realme.com", "realme", "CN"),
        ("qq.com", "tencent", "CN"),
        ("weixin.qq.com", "tencent", "CN"),
        ("wo.com.cn", "chinaunicom", "CN"),
        ("umeng.com", "alibaba", "CN"),
        ("google.com", "google", "US"),
        ("hicloud.com", "huawei", "CN"),
        ("hihonor.com", "honor", "CN"),
        ("shalltry.com", "transsion", "CN"),
        ("pangle.io", "bytedance", "CN"),
        ("igexin.com", "getui", "CN"),
        ("jpush.cn", "aurora", "CN"),
        ("fxltsbl.com", "chinamobile", "CN"),
        ("189.cn", "chinatelecom", "CN"),
        ("yastatic.net", "yandex", "RU"),
        ("mradx.net", "vk", "RU"),
        ("graph.facebook.com", "meta", "US"),
        ("app-measurement.com", "google", "US"),
        ("adjust.com", "adjust", "DE"),
        ("inmobi.com", "inmobi", "IN"),
        ("rayjump.com", "mintegral", "CN"),
        ("vungle.com", "liftoff", "US"),
        ("supersonicads.com", "ironsource", "IL"),
        ("sogou.com", "sogou", "CN"),
        ("yahoo.co.jp", "lycorp", "JP"),
        ("alipay.com", "antgroup", "CN"),
    ];
    for (host, id, country) in cases {
        assert_org(db, host, id, country);
    }
}

#[test]
fn hosts_are_normalised_before_matching() {
    let db = embedded();
    for host in [
        "Log.TBS.QQ.com",
        "log.tbs.qq.com.",
        "log.tbs.qq.com:443",
        "LOG.tbs.qq.com.:8080",
        "  log.tbs.qq.com ",
    ] {
        assert_org(db, host, "tencent", "CN");
    }
}

#[test]
fn rules_match_on_label_boundaries_only() {
    let db = embedded();
    assert_eq!(org(db, "notqq.com"), None);
    assert_eq!(org(db, "qq.com.evil.example"), None);
    assert_eq!(org(db, "xqq.com"), None);
    assert_eq!(org(db, "com"), None);
    assert_eq!(org(db, "unknown-vendor.example"), None);
    assert_eq!(org(db, ""), None);
    assert_eq!(org(db, "203.0.113.9"), None);
    assert_eq!(org(db, "[2001:db8::1]:443"), None);
    // Characters a DNS name cannot have: no guess from the suffix.
    assert_eq!(org(db, "bad host.qq.com"), None);
}

#[test]
fn the_match_carries_incorporation_parent_rule_and_evidence() {
    let db = embedded();
    let m = db.lookup("tracking.intl.miui.com").unwrap();
    assert_eq!(
        (m.name, m.incorporated, m.rule),
        ("Xiaomi", Some("KY"), "miui.com")
    );
    assert_eq!(m.kind, Some(EntityKind::Vendor));
    assert!(m.parent.is_none());
    assert!(m.rule_sources.is_empty());
    assert!(m.sources.iter().any(|s| s.contains("1810")));

    let m = db.lookup("cloud.oneplus.net").unwrap();
    let parent = m.parent.unwrap();
    assert_eq!(
        (m.id, parent.id, parent.name, parent.country),
        ("oneplus", "oppo", "OPPO", "CN")
    );
    let m = db.lookup("sms.realme.com").unwrap();
    assert_eq!(m.parent.map(|p| p.id), Some("oppo"));

    let m = db.lookup("m.fxltsbl.com").unwrap();
    assert_eq!(m.rule, "fxltsbl.com");
    assert!(!m.rule_sources.is_empty(), "fxltsbl.com has rule evidence");

    let m = db.lookup("www.google.com").unwrap();
    assert_eq!(
        m.parent.map(|p| (p.id, p.country)),
        Some(("alphabet", "US"))
    );
    let m = db.lookup("settings.crashlytics.com").unwrap();
    assert_eq!((m.id, m.rule), ("google", "crashlytics.com"));
}

#[test]
fn documented_ownership_facts_hold() {
    let db = embedded();
    let parent = |id: &str| db.entity(id).and_then(|e| e.parent.clone());
    assert_eq!(parent("sogou").as_deref(), Some("tencent"));
    assert_eq!(parent("honor"), None, "Honor was sold by Huawei in 2020");
    assert_eq!(parent("ironsource").as_deref(), Some("unity"));
    assert_eq!(parent("adjust").as_deref(), Some("applovin"));
    assert_eq!(parent("flurry").as_deref(), Some("yahoo"));
    assert_eq!(
        parent("antgroup"),
        None,
        "Ant Group is an affiliate of Alibaba"
    );
    for (id, country, incorporated) in [
        ("xiaomi", "CN", Some("KY")),
        ("tencent", "CN", Some("KY")),
        ("alibaba", "CN", Some("KY")),
        ("baidu", "CN", Some("KY")),
        ("bytedance", "CN", Some("KY")),
        ("unity", "US", None),
        ("applovin", "US", None),
        ("kaspersky", "RU", Some("GB")),
    ] {
        let e = db.entity(id).unwrap();
        assert_eq!(
            (e.country.as_str(), e.incorporated.as_deref()),
            (country, incorporated),
            "{id}"
        );
    }
    assert_eq!(
        db.top_parent("tapjoy").map(|e| e.id.as_str()),
        Some("unity")
    );
    assert_eq!(
        db.top_parent("xiaomi").map(|e| e.id.as_str()),
        Some("xiaomi")
    );
    assert!(db.top_parent("nobody").is_none());
}

#[test]
fn same_party_means_the_same_corporate_group() {
    let db = embedded();
    assert!(db.is_same_party("xiaomi", "xiaomi"));
    assert!(db.is_same_party("oneplus", "oppo"), "parent");
    assert!(db.is_same_party("oppo", "oneplus"), "child");
    assert!(db.is_same_party("oneplus", "realme"), "sibling under OPPO");
    assert!(db.is_same_party("google", "alphabet"));
    assert!(db.is_same_party("tapjoy", "unity"), "grand-parent");
    assert!(db.is_same_party("tencent", "sogou"));
    assert!(!db.is_same_party("huawei", "honor"));
    assert!(!db.is_same_party("xiaomi", "google"));
    assert!(!db.is_same_party("alibaba", "antgroup"));
    assert!(!db.is_same_party("xiaomi", "nobody"));
    assert!(
        !db.is_same_party("nobody", "nobody"),
        "unknown is never the same party"
    );
}

// ---------------------------------------------------------------------------------------------
// Shared hosting
// ---------------------------------------------------------------------------------------------

#[test]
fn shared_hosting_names_stay_unknown() {
    let db = embedded();
    for host in [
        "foo.cloudfront.net",
        "cloudfront.net",
        "my-app.appspot.com",
        "bucket.s3.amazonaws.com",
        "x.azurewebsites.net",
        "a.herokuapp.com",
        "p.firebaseapp.com",
        "site.web.app",
        "user.github.io",
        "v.akamaized.net",
        "e1.edgekey.net",
        "www.example.com.cdn.cloudflare.net",
        "global.ssl.fastly.net",
        "bucket.oss-cn-hangzhou.aliyuncs.com",
    ] {
        assert_eq!(org(db, host), None, "{host}");
    }
    // The owner's own domains next to a shared suffix still match.
    assert_org(db, "github.com", "github", "US");
    assert_org(db, "fcm.googleapis.com", "google", "US");
    assert_eq!(org(db, "storage.googleapis.com"), None);
    assert_eq!(org(db, "bucket.storage.googleapis.com"), None);
}

#[test]
fn a_longer_rule_under_a_shared_suffix_still_applies() {
    let overlay = r#"
[[entity]]
id = "xiaomi-cdn"
name = "Xiaomi CDN"
country = "CN"
parent = "xiaomi"
domains = ["xiaomi-cdn.cloudfront.net"]
sources = ["test"]
"#;
    let db = embedded().overlay_toml(overlay, "overlay.toml").unwrap();
    let m = db.lookup("img.xiaomi-cdn.cloudfront.net").unwrap();
    assert_eq!((m.id, m.rule), ("xiaomi-cdn", "xiaomi-cdn.cloudfront.net"));
    assert_eq!(m.parent.map(|p| p.name), Some("Xiaomi"));
    assert_eq!(org(&db, "other.cloudfront.net"), None);
    assert!(db.is_same_party("xiaomi", "xiaomi-cdn"));
}

// ---------------------------------------------------------------------------------------------
// Overlays
// ---------------------------------------------------------------------------------------------

#[test]
fn an_overlay_adds_entities_and_the_longest_rule_wins() {
    let overlay = r#"
[[entity]]
id = "miui-intl"
name = "MIUI International"
country = "SG"
parent = "xiaomi"
domains = ["intl.miui.com"]
sources = ["test"]
"#;
    let base = embedded();
    let db = base.overlay_toml(overlay, "overlay.toml").unwrap();
    assert_eq!(db.len(), base.len() + 1);
    assert_org(&db, "tracking.intl.miui.com", "miui-intl", "SG");
    assert_org(&db, "intl.miui.com", "miui-intl", "SG");
    assert_org(&db, "api.miui.com", "xiaomi", "CN");
    assert_eq!(db.entity("miui-intl").unwrap().origin, "overlay.toml");
    // The base is unchanged.
    assert_org(base, "tracking.intl.miui.com", "xiaomi", "CN");
}

#[test]
fn an_overlay_entity_with_an_existing_id_replaces_it() {
    let overlay = r#"
[[entity]]
id = "xiaomi"
name = "Xiaomi (overlay)"
country = "HK"
domains = ["xiaomi.com"]
sources = ["test"]
"#;
    let db = embedded().overlay_toml(overlay, "overlay.toml").unwrap();
    assert_eq!(db.len(), embedded().len());
    let m = db.lookup("api.xiaomi.com").unwrap();
    assert_eq!(
        (m.name, m.country, m.incorporated),
        ("Xiaomi (overlay)", "HK", None)
    );
    // The replaced entity's other domains went with it.
    assert_eq!(org(&db, "miui.com"), None);
}

#[test]
fn an_overlay_domain_takes_priority_over_the_base() {
    let overlay = r#"
[shared_hosting]
suffixes = ["mi.com"]

[[entity]]
id = "acme"
name = "Acme"
country = "US"
domains = ["umeng.com", "cloudfront.net"]
sources = ["test"]
"#;
    let db = embedded().overlay_toml(overlay, "overlay.toml").unwrap();
    assert_org(&db, "alog.umeng.com", "acme", "US");
    assert_org(&db, "taobao.com", "alibaba", "CN");
    assert!(!db
        .entity("alibaba")
        .unwrap()
        .domains
        .iter()
        .any(|d| d == "umeng.com"));
    assert!(!db
        .entity("alibaba")
        .unwrap()
        .domain_sources
        .contains_key("umeng.com"));
    // A base shared suffix claimed by the overlay now belongs to it ...
    assert_org(&db, "d1.cloudfront.net", "acme", "US");
    // ... and a base domain listed as shared by the overlay is no longer attributed.
    assert_eq!(org(&db, "account.mi.com"), None);
    assert_org(&db, "xiaomi.com", "xiaomi", "CN");
}

#[test]
fn with_overlay_takes_a_complete_database() {
    let overlay = EntityDb::from_toml(ACME, "acme.toml").unwrap();
    let db = embedded().with_overlay(overlay).unwrap();
    assert_org(&db, "www.acme.example", "acme", "US");
    assert_org(&db, "qq.com", "tencent", "CN");
}

#[test]
fn an_overlay_parent_must_exist_in_the_overlay_or_the_base() {
    let text = r#"
[[entity]]
id = "acme"
name = "Acme"
country = "US"
parent = "nobody"
domains = ["acme.example"]
sources = ["test"]
"#;
    let e = embedded().overlay_toml(text, "overlay.toml").unwrap_err();
    assert_eq!(
        e.kind,
        EntityErrorKind::UnknownParent {
            parent: "nobody".into()
        }
    );
    assert_eq!(
        (e.origin.as_str(), e.entity.as_deref()),
        ("overlay.toml", Some("acme"))
    );
    // A parent from the base is fine in an overlay but not in a stand-alone file.
    let text = text.replace("nobody", "xiaomi");
    assert!(embedded().overlay_toml(&text, "overlay.toml").is_ok());
    let e = EntityDb::from_toml(&text, "alone.toml").unwrap_err();
    assert!(matches!(e.kind, EntityErrorKind::UnknownParent { .. }));
}

#[test]
fn an_overlay_cannot_create_a_parent_cycle() {
    let overlay = r#"
[[entity]]
id = "oppo"
name = "OPPO"
country = "CN"
parent = "oneplus"
domains = ["oppo.com"]
sources = ["test"]
"#;
    let e = embedded()
        .overlay_toml(overlay, "overlay.toml")
        .unwrap_err();
    assert_eq!(
        e.kind,
        EntityErrorKind::ParentCycle {
            cycle: vec!["oppo".into(), "oneplus".into()]
        }
    );
    assert_eq!(
        (e.origin.as_str(), e.entity.as_deref()),
        ("overlay.toml", Some("oppo"))
    );
}

#[test]
fn an_overlay_is_checked_on_its_own_first() {
    let twice = format!("{ACME}{ACME}");
    let e = embedded().overlay_toml(&twice, "overlay.toml").unwrap_err();
    assert!(matches!(e.kind, EntityErrorKind::DuplicateId { .. }), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Validation errors
// ---------------------------------------------------------------------------------------------

#[test]
fn a_duplicate_id_is_an_error_naming_both_places() {
    let e = parse_error(&format!(
        "{ACME}\n{}",
        ACME.replace("acme.example", "other.example")
    ));
    assert_eq!(
        e.kind,
        EntityErrorKind::DuplicateId {
            first_origin: "test.toml".into(),
            first_line: 3
        }
    );
    assert_eq!((e.entity.as_deref(), e.line), (Some("acme"), Some(11)));
    let text = e.to_string();
    assert!(
        text.starts_with("test.toml: line 11: entity `acme`: duplicate id"),
        "{text}"
    );
}

#[test]
fn a_domain_claimed_by_two_entities_is_an_error() {
    let other = ACME
        .replace("\"acme\"", "\"other\"")
        .replace("acme.example\"", "ACME.example\"");
    let e = parse_error(&format!("{ACME}{other}"));
    assert_eq!(
        e.kind,
        EntityErrorKind::DuplicateDomain {
            domain: "acme.example".into(),
            other: "acme".into()
        }
    );
    assert_eq!(e.entity.as_deref(), Some("other"));
    assert!(
        e.to_string().contains("already claimed by entity `acme`"),
        "{e}"
    );
}

#[test]
fn a_domain_listed_twice_by_one_entity_is_an_error() {
    let e =
        parse_error(&ACME.replace(r#"["acme.example"]"#, r#"["acme.example", "acme.example"]"#));
    assert!(
        matches!(e.kind, EntityErrorKind::DuplicateDomain { .. }),
        "{e}"
    );
}

#[test]
fn invalid_country_codes_are_errors() {
    for (from, to, field) in [
        ("country = \"US\"", "country = \"us\"", "country"),
        ("country = \"US\"", "country = \"USA\"", "country"),
        ("country = \"US\"", "country = \"\"", "country"),
        (
            "country = \"US\"",
            "country = \"US\"\nincorporated = \"Cayman\"",
            "incorporated",
        ),
    ] {
        let e = parse_error(&ACME.replace(from, to));
        assert!(
            matches!(&e.kind, EntityErrorKind::InvalidCountry { field: f, .. } if *f == field),
            "{e}"
        );
        assert_eq!(e.entity.as_deref(), Some("acme"));
        assert!(e.line.is_some_and(|l| l >= 5), "{e}");
    }
}

#[test]
fn an_unknown_parent_is_an_error() {
    let e = parse_error(&ACME.replace("country = \"US\"", "country = \"US\"\nparent = \"ghost\""));
    assert_eq!(
        e.to_string(),
        "test.toml: line 3: entity `acme`: parent `ghost` is not a known entity id"
    );
}

#[test]
fn parent_cycles_are_errors() {
    let a = ACME.replace("country = \"US\"", "country = \"US\"\nparent = \"beta\"");
    let b = ACME
        .replace("\"acme\"", "\"beta\"")
        .replace("acme.example\"", "beta.example\"")
        .replace("country = \"US\"", "country = \"US\"\nparent = \"acme\"");
    let e = parse_error(&format!("{a}{b}"));
    assert_eq!(
        e.kind,
        EntityErrorKind::ParentCycle {
            cycle: vec!["acme".into(), "beta".into()]
        }
    );
    assert!(
        e.to_string()
            .ends_with("parent cycle: acme -> beta -> acme"),
        "{e}"
    );

    let own = ACME.replace("country = \"US\"", "country = \"US\"\nparent = \"acme\"");
    let e = parse_error(&own);
    assert_eq!(
        e.kind,
        EntityErrorKind::ParentCycle {
            cycle: vec!["acme".into()]
        }
    );
}

#[test]
fn invalid_domains_are_errors() {
    for domain in [
        "*.acme.example",
        "com",
        ".acme.example",
        "acme.example.",
        "acme..example",
        "acme example.com",
        "192.0.2.1",
        "",
        "https://acme.example/",
    ] {
        let e = parse_error(&ACME.replace("\"acme.example\"", &format!("{domain:?}")));
        assert!(
            matches!(&e.kind, EntityErrorKind::InvalidDomain { domain: d, .. } if d == domain),
            "{domain}: {e}"
        );
        assert_eq!(
            (e.entity.as_deref(), e.line),
            (Some("acme"), Some(6)),
            "{domain}"
        );
    }
    // Upper case is accepted and folded.
    let db = EntityDb::from_toml(&ACME.replace("acme.example", "ACME.Example"), "t").unwrap();
    assert_eq!(db.entity("acme").unwrap().domains, ["acme.example"]);
}

#[test]
fn shared_hosting_conflicts_are_errors() {
    let text = format!("[shared_hosting]\nsuffixes = [\"acme.example\"]\n{ACME}");
    let e = parse_error(&text);
    assert_eq!(
        e.kind,
        EntityErrorKind::SharedHostingDomain {
            domain: "acme.example".into()
        }
    );
    assert_eq!(e.entity.as_deref(), Some("acme"));

    let e = parse_error("[shared_hosting]\nsuffixes = [\"cdn.example\",\n  \"CDN.example\"]\n");
    assert_eq!(
        e.kind,
        EntityErrorKind::DuplicateSharedSuffix {
            suffix: "cdn.example".into()
        }
    );
    assert_eq!(e.line, Some(3));

    let e = parse_error("[shared_hosting]\nsuffixes = [\"example\"]\n");
    assert!(
        matches!(e.kind, EntityErrorKind::InvalidDomain { .. }),
        "{e}"
    );
    assert_eq!((e.line, e.entity), (Some(2), None));
}

#[test]
fn missing_evidence_is_an_error() {
    let e = parse_error(&ACME.replace(r#"["https://acme.example/"]"#, "[]"));
    assert_eq!(e.kind, EntityErrorKind::EmptyField { field: "sources" });
    let e = parse_error(&ACME.replace(r#""https://acme.example/""#, r#""  ""#));
    assert_eq!(e.kind, EntityErrorKind::EmptyField { field: "source" });
    let e = parse_error(&ACME.replace(r#"["acme.example"]"#, "[]"));
    assert_eq!(e.kind, EntityErrorKind::EmptyField { field: "domains" });
    let e = parse_error(&ACME.replace(r#"name = "Acme""#, r#"name = """#));
    assert_eq!(e.kind, EntityErrorKind::EmptyField { field: "name" });
    assert_eq!(e.entity.as_deref(), Some("acme"));
}

#[test]
fn domain_sources_must_name_a_claimed_domain() {
    let ok = format!("{ACME}[entity.domain_sources]\n\"ACME.example\" = [\"whois\"]\n");
    let db = EntityDb::from_toml(&ok, "t").unwrap();
    let m = db.lookup("x.acme.example").unwrap();
    assert_eq!(m.rule_sources, ["whois"]);

    let bad = format!("{ACME}[entity.domain_sources]\n\"other.example\" = [\"whois\"]\n");
    let e = parse_error(&bad);
    assert_eq!(
        e.kind,
        EntityErrorKind::UnknownDomainSource {
            domain: "other.example".into()
        }
    );
    assert_eq!((e.entity.as_deref(), e.line), (Some("acme"), Some(9)));
}

#[test]
fn toml_shape_errors_name_the_line_and_the_entity() {
    let e = parse_error(&ACME.replace("country = \"US\"", "country = \"US\"\nkind = \"adz\""));
    assert!(matches!(e.kind, EntityErrorKind::Toml { .. }));
    assert_eq!((e.line, e.entity.as_deref()), (Some(6), Some("acme")));
    assert!(e.to_string().contains("unknown variant `adz`"), "{e}");

    let e = parse_error(&ACME.replace("country = \"US\"", "country = \"US\"\nhq = \"Boston\""));
    assert_eq!((e.line, e.entity.as_deref()), (Some(6), Some("acme")));
    assert!(e.to_string().contains("unknown field `hq`"), "{e}");

    let e = parse_error(&ACME.replace("sources = [\"https://acme.example/\"]\n", ""));
    assert!(e.to_string().contains("missing field `sources`"), "{e}");
    assert_eq!(e.entity.as_deref(), Some("acme"));

    let e = parse_error("[[entity]\nid = \"x\"\n");
    assert!(matches!(e.kind, EntityErrorKind::Toml { .. }));
    assert_eq!((e.origin.as_str(), e.line), ("test.toml", Some(1)));
}

// ---------------------------------------------------------------------------------------------
// The simulated handset's destinations
// ---------------------------------------------------------------------------------------------

/// Every `"host": "…"` value in a JSON text.
fn json_hosts(json: &str) -> Vec<String> {
    json.split("\"host\"")
        .skip(1)
        .filter_map(|rest| {
            let value = rest
                .trim_start()
                .strip_prefix(':')?
                .trim_start()
                .strip_prefix('"')?;
            value.split('"').next().map(str::to_owned)
        })
        .collect()
}

#[test]
fn every_phone_sim_destination_is_attributed() {
    let Some(dir) = phonehome_testkit::phone_sim("") else {
        return;
    };
    let mut hosts = Vec::new();
    for run in std::fs::read_dir(&dir).unwrap() {
        let truth = run.unwrap().path().join("truth.json");
        if let Ok(text) = std::fs::read_to_string(&truth) {
            hosts.extend(json_hosts(&text));
        }
    }
    assert!(!hosts.is_empty(), "no hosts in {}", dir.display());
    let missing: Vec<&String> = hosts
        .iter()
        .filter(|h| embedded().lookup(h).is_none())
        .collect();
    assert!(missing.is_empty(), "not attributed: {missing:?}");
    assert_org(embedded(), "sdk.hiido.com", "yy", "CN");
}
