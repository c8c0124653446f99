//! A realistic run (several organisations and countries, a watched country, policy violations)
//! and a hostile variant whose every string taken from traffic or input is an attack, plus a
//! helper that renders a run in any format.
#![allow(dead_code)]

use phonehome_model::{
    Counts, Destination, Direction, Finding, FindingTransport, FlowName, FlowRecord, InputSummary,
    MatchKind, NameSource, OrgRef, Party, PolicyOutcome, Protocol, SourceRef, Summary, Timestamp,
    Violation, Warning, WarningCode,
};
use phonehome_report::{Csv, CsvMatrix, Html, JsonDocument, JsonLines, Markdown, Report, Table};

/// Everything a report receives.
#[derive(Clone, Debug)]
pub struct Run {
    pub flows: Vec<FlowRecord>,
    pub warnings: Vec<Warning>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

/// Every format this crate writes, by `--format` name.
pub const FORMATS: [&str; 7] = [
    "table",
    "jsonl",
    "html",
    "markdown",
    "csv",
    "csv-matrix",
    "json",
];

/// Renders `run` in `format`, feeding flows and warnings first as the pipeline does.
pub fn render(format: &str, run: &Run) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut report: Box<dyn Report + '_> = match format {
            "table" => Box::new(Table::new(&mut out)),
            "jsonl" => Box::new(JsonLines::new(&mut out)),
            "html" => Box::new(Html::new(&mut out)),
            "markdown" => Box::new(Markdown::new(&mut out)),
            "csv" => Box::new(Csv::new(&mut out)),
            "csv-matrix" => Box::new(CsvMatrix::new(&mut out)),
            "json" => Box::new(JsonDocument::new(&mut out)),
            other => panic!("no format {other}"),
        };
        for w in &run.warnings {
            report.warning(w).unwrap();
        }
        for f in &run.flows {
            report.flow(f).unwrap();
        }
        report.finish(&run.findings, &run.summary).unwrap();
    }
    out
}

fn org(id: &str, name: &str) -> Option<OrgRef> {
    Some(OrgRef {
        id: id.into(),
        name: name.into(),
    })
}

/// A receiver: organisation, HQ, parent, party, server country, AS.
struct Dest {
    org: Option<OrgRef>,
    hq: Option<&'static str>,
    parent: Option<(OrgRef, &'static str)>,
    party: Option<Party>,
    server_ip: &'static str,
    server_country: &'static str,
    asn: u32,
    asn_org: &'static str,
}

fn destination(host: &str, domain: &str, d: &Dest) -> Destination {
    Destination {
        name: Some(host.into()),
        name_source: Some(NameSource::Http),
        domain: Some(domain.into()),
        org: d.org.clone(),
        org_country: d.hq.map(String::from),
        incorporated: None,
        parent: d.parent.as_ref().map(|p| p.0.clone()),
        parent_country: d.parent.as_ref().map(|p| p.1.to_owned()),
        org_rule: Some(domain.into()),
        org_evidence: vec![],
        party: d.party,
        server_ip: Some(d.server_ip.into()),
        server_country: Some(d.server_country.into()),
        server_country_source: Some("geo-whois-asn-country 2026-06-17".into()),
        asn: Some(d.asn),
        asn_org: Some(d.asn_org.into()),
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    kind: &str,
    value: &str,
    form: &str,
    preimage: &str,
    url: &str,
    location: &str,
    chain: &[&str],
    host: &str,
    domain: &str,
    d: &Dest,
    count: u64,
    minute: u32,
    frame: u64,
) -> Finding {
    let first = format!("2026-11-24T10:{minute:02}:00.120000Z");
    let last = format!("2026-11-24T11:{:02}:30.000000Z", (minute * 7) % 60);
    let watch: Vec<String> = [
        ("org_country", d.hq),
        ("parent_country", d.parent.as_ref().map(|p| p.1)),
        ("server_country", Some(d.server_country)),
    ]
    .into_iter()
    .filter(|(_, c)| *c == Some("CN"))
    .map(|(field, _)| field.to_owned())
    .collect();
    Finding {
        record_type: "finding",
        kind: kind.into(),
        match_kind: MatchKind::Known,
        label: format!("{kind} #1"),
        value: value.into(),
        form: form.into(),
        preimage: preimage.into(),
        confidence: "high".into(),
        count,
        reason: None,
        details: Default::default(),
        decimals: None,
        precision_m: None,
        direction: Direction::Request,
        time: Some(first.clone()),
        first_time: Some(first),
        last_time: Some(last),
        host: Some(host.into()),
        method: Some(if location == "url" { "GET" } else { "POST" }.into()),
        url: url.into(),
        location: location.into(),
        chain: chain.iter().map(|s| (*s).to_owned()).collect(),
        transport: FindingTransport {
            client: Some("10.0.0.2:40001".into()),
            server: Some(format!("{}:443", d.server_ip)),
            tls: Some("1.3".into()),
            http: Some("1.1".into()),
            sni: Some(host.into()),
        },
        destination: destination(host, domain, d),
        watch,
        source: SourceRef::frame("samples/phone.pcapng".into(), frame),
    }
}

/// A realistic run: six receivers in four countries, China watched, a policy with violations.
pub fn realistic() -> Run {
    let xiaomi = Dest {
        org: org("xiaomi", "Xiaomi"),
        hq: Some("CN"),
        parent: None,
        party: Some(Party::First),
        server_ip: "161.117.71.12",
        server_country: "SG",
        asn: 45102,
        asn_org: "ALIBABA-CN-NET",
    };
    let hiido = Dest {
        org: org("yy", "YY (Guangzhou Huaduo Network Technology)"),
        hq: Some("CN"),
        parent: Some((
            OrgRef {
                id: "joyy".into(),
                name: "JOYY".into(),
            },
            "SG",
        )),
        party: Some(Party::Third),
        server_ip: "183.36.108.10",
        server_country: "CN",
        asn: 4134,
        asn_org: "Chinanet",
    };
    let google = Dest {
        org: org("google", "Google"),
        hq: Some("US"),
        parent: Some((
            OrgRef {
                id: "alphabet".into(),
                name: "Alphabet".into(),
            },
            "US",
        )),
        party: Some(Party::Third),
        server_ip: "142.250.74.78",
        server_country: "US",
        asn: 15169,
        asn_org: "GOOGLE",
    };
    let adjust = Dest {
        org: org("adjust", "Adjust"),
        hq: Some("DE"),
        parent: Some((
            OrgRef {
                id: "applovin".into(),
                name: "AppLovin".into(),
            },
            "US",
        )),
        party: Some(Party::Third),
        server_ip: "185.151.204.1",
        server_country: "DE",
        asn: 16509,
        asn_org: "AMAZON-02",
    };
    let unknown = Dest {
        org: None,
        hq: None,
        parent: None,
        party: None,
        server_ip: "203.0.113.50",
        server_country: "NL",
        asn: 60781,
        asn_org: "LEASEWEB-NL",
    };
    let mut findings = vec![
        finding(
            "imei", "356938035643809", "md5", "356938035643809",
            "http://sdk.hiido.com/c.gif?act=boot&imei_md5=af2d48f2495881aed1737bb21017f9b6&t=1",
            "url", &["query:imei_md5"], "sdk.hiido.com", "hiido.com", &hiido, 3, 1, 12,
        ),
        finding(
            "imei", "356938035643809", "plain", "356938035643809",
            "https://tracking.intl.miui.com/track/v4",
            "body", &["content-encoding:gzip", "json:$.imei"], "tracking.intl.miui.com", "miui.com", &xiaomi, 7, 2, 31,
        ),
        finding(
            "android_id", "9774d56d682e549c", "plain", "9774d56d682e549c",
            "https://android.googleapis.com/checkin",
            "header:x-android-id", &[], "android.googleapis.com", "googleapis.com", &google, 12, 3, 48,
        ),
        finding(
            "advertising_id", "38400000-8cf0-11bd-b23e-10b96e40000d", "plain", "38400000-8cf0-11bd-b23e-10b96e40000d",
            "https://app.adjust.com/session?gps_adid=38400000-8cf0-11bd-b23e-10b96e40000d&app_token=abc",
            "url", &["query:gps_adid"], "app.adjust.com", "adjust.com", &adjust, 2, 5, 77,
        ),
        finding(
            "location", "51.5072,-0.1276", "rounded", "51.51,-0.13",
            "https://collect.example-tracker.net/v1/e",
            "body", &["form:p", "base64", "json:$.loc"], "collect.example-tracker.net", "example-tracker.net", &unknown, 1, 9, 101,
        ),
        finding(
            "serial", "R58N31XYZQ", "plain", "R58N31XYZQ",
            "https://api.sec.miui.com/v2/device/R58N31XYZQ/config",
            "url", &["path:2"], "api.sec.miui.com", "miui.com", &xiaomi, 4, 12, 140,
        ),
        finding(
            "email", "sam.taylor@example.co.uk", "sha256", "sam.taylor@example.co.uk",
            "https://firebaselogging-pa.googleapis.com/v1/firelog",
            "body", &["protobuf:1.4.2"], "firebaselogging-pa.googleapis.com", "googleapis.com", &google, 1, 20, 200,
        ),
        finding(
            "imsi", "460011234567890", "plain", "460011234567890",
            "http://sdk.hiido.com/api/report",
            "body", &["form:imsi"], "sdk.hiido.com", "hiido.com", &hiido, 2, 30, 260,
        ),
    ];
    findings[4].decimals = Some(2);
    findings[4].precision_m = Some(1100.0);
    let mut pattern = finding(
        "app_list",
        "(pattern)",
        "pattern",
        "com.whatsapp,com.tencent.mm,org.telegram.messenger",
        "https://log.example-tracker.net/apps",
        "body",
        &["json:$.apps"],
        "log.example-tracker.net",
        "example-tracker.net",
        &unknown,
        1,
        40,
        301,
    );
    pattern.match_kind = MatchKind::Pattern;
    pattern.confidence = "medium".into();
    pattern.reason = Some("a list of 3 installed package names under key `apps`".into());
    pattern.details.insert("count".into(), "3".into());
    findings.push(pattern);

    let mut flows = Vec::new();
    let hosts = [
        "sdk.hiido.com",
        "tracking.intl.miui.com",
        "android.googleapis.com",
        "app.adjust.com",
        "collect.example-tracker.net",
        "api.sec.miui.com",
        "firebaselogging-pa.googleapis.com",
        "graph.facebook.com",
        "quic.example.org",
    ];
    for i in 0..27u64 {
        let host = hosts[(i as usize) % hosts.len()];
        let inspected = i % 9 < 7;
        let t = Timestamp::parse_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .unix_nanos()
            + i128::from(i) * 150_000_000_000;
        flows.push(FlowRecord {
            protocol: if i % 9 == 8 {
                Protocol::Udp
            } else {
                Protocol::Tcp
            },
            client: format!("10.0.0.2:{}", 40000 + i).parse().unwrap(),
            server: "203.0.113.7:443".parse().unwrap(),
            names: vec![FlowName {
                name: host.into(),
                source: NameSource::Sni,
            }],
            destination: Destination {
                name: Some(host.into()),
                ..Destination::default()
            },
            tls: Some("1.3".into()),
            sni: Some(host.into()),
            ech: false,
            alpn: vec!["h2".into(), "http/1.1".into()],
            app: Some("http/1.1".into()),
            bytes_client: 1000 + i,
            bytes_server: 5000,
            packets: 20,
            messages: if inspected { 2 } else { 0 },
            inspected,
            reason: if inspected {
                None
            } else if i % 9 == 7 {
                Some(phonehome_model::NotInspected::NoKey)
            } else {
                Some(phonehome_model::NotInspected::Quic)
            },
            first_time: Some(Timestamp::from_unix_nanos(t)),
            last_time: Some(Timestamp::from_unix_nanos(t + 5_000_000_000)),
            source: SourceRef::frame("samples/phone.pcapng".into(), i * 10 + 1),
        });
    }
    let warnings = vec![
        Warning::new(
            WarningCode::Truncated,
            "samples/phone.pcapng".into(),
            "the last block is cut short",
        )
        .at_offset(1_048_576),
        Warning::new(
            WarningCode::Gap,
            "samples/phone.pcapng".into(),
            "4 bytes lost in the client stream",
        )
        .at_frame(88),
        Warning::new(
            WarningCode::Malformed,
            "samples/app.har".into(),
            "entry has no request",
        )
        .at_entry(3),
    ];
    let mut not_inspected = std::collections::BTreeMap::new();
    not_inspected.insert("no_key".to_owned(), 3u64);
    not_inspected.insert("quic".to_owned(), 3u64);
    let occurrences = findings.iter().map(|f| f.count).sum();
    let summary = Summary {
        tool: "phonehome 0.1.0".into(),
        schema: 1,
        device: Some("Redmi Note 12 (test phone)".into()),
        profile: Some("phone.toml".into()),
        inputs: vec![
            InputSummary {
                file: "samples/phone.pcapng".into(),
                sha256: Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into()),
                format: Some("pcapng".into()),
                gzip: false,
                bytes: 2_345_678,
                records: 4_321,
                error: None,
            },
            InputSummary {
                file: "samples/app.har".into(),
                sha256: None,
                format: Some("har".into()),
                gzip: true,
                bytes: 12_345,
                records: 40,
                error: None,
            },
        ],
        counts: Counts {
            messages: 84,
            requests: 42,
            flows: 27,
            flows_inspected: 21,
            flows_not_inspected: not_inspected,
            findings: 9,
            occurrences,
            findings_dropped: 0,
            warnings: 3,
        },
        data: [("public_suffix_list".to_owned(), "2026-06-01".to_owned())].into_iter().collect(),
        limits: Default::default(),
        watch: vec!["CN".into()],
        vendor: Some("xiaomi".into()),
        keylog: None,
        time_span: Some(("2026-11-24T10:00:00.000000Z".into(), "2026-11-24T11:07:30.000000Z".into())),
        redacted: false,
        policy: Some(PolicyOutcome {
            file: "policy.toml".into(),
            name: Some("No identifiers to watched countries".into()),
            rules: 3,
            violations: vec![
                Violation {
                    rule: "no-watched-country".into(),
                    reason: "imei sent to YY (Guangzhou Huaduo Network Technology) (CN) at sdk.hiido.com".into(),
                    findings: vec![0, 7],
                },
                Violation {
                    rule: "no-hardware-id".into(),
                    reason: "serial sent to Xiaomi (CN) at api.sec.miui.com".into(),
                    findings: vec![5],
                },
                Violation {
                    rule: "max-uninspected-flows".into(),
                    reason: "6 flows were not inspected (at most 2 allowed)".into(),
                    findings: vec![],
                },
            ],
        }),
    };
    Run {
        flows,
        warnings,
        findings,
        summary,
    }
}

/// Attacks on every output format.
pub const PAYLOADS: [&str; 24] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'><svg onload=alert(1)>",
    "</style><svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    "javascript:alert(document.cookie)",
    "\u{1b}[2J\u{1b}[31mred",
    "\u{1b}]8;;http://evil\u{7}click\u{1b}]8;;\u{7}",
    "=HYPERLINK(\"http://evil\",\"x\")",
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "evil\u{202e}gpj.exe",
    "zero\u{200b}width\u{feff}joiner\u{200d}\u{2060}\u{2066}iso\u{2069}",
    "nul\u{0}byte \u{fffd}\u{fffd} binary\u{1}\u{7f}\u{9b}\u{85}",
    "pipe|in|cell `code` [x](javascript:alert(1)) *em* _u_",
    "line\nbreak\r\nand\u{2028}more",
    "<!-- --><![CDATA[x]]>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<style>*{display:none}</style>",
    "<svg><foreignObject><iframe src=//evil></iframe></foreignObject></svg>",
];

/// A 1 MiB value with an attack in its middle.
pub fn huge() -> String {
    let half = "A".repeat(512 * 1024);
    format!("{half}<script>alert('huge')</script>{half}")
}

/// The realistic run with every string from traffic or input replaced by attacks (cycling
/// through [`PAYLOADS`]), some values 1 MiB long.
pub fn hostile() -> Run {
    let mut run = realistic();
    let mut n = 0usize;
    let mut next = || {
        n += 1;
        PAYLOADS[n % PAYLOADS.len()].to_owned()
    };
    let huge = huge();
    for (i, f) in run.findings.iter_mut().enumerate() {
        if i % 3 == 0 {
            f.kind = next();
        }
        f.label = next();
        f.value = next();
        f.preimage = if i == 1 { huge.clone() } else { next() };
        f.form = next();
        f.reason = Some(next());
        f.details.insert(next(), next());
        f.host = Some(next());
        f.method = Some(next());
        f.url = match i {
            0 => format!("http://{}/?q={}", next(), f.value),
            2 => format!("http://x/{huge}"),
            _ => next(),
        };
        f.location = if i % 2 == 0 { "url".into() } else { next() };
        f.chain = vec![next(), next(), "base64".into()];
        if i % 2 == 0 {
            f.chain.insert(0, format!("query:{}", next()));
        }
        f.first_time = Some(next());
        f.last_time = Some(next());
        f.time = f.first_time.clone();
        f.transport = FindingTransport {
            client: Some(next()),
            server: Some(next()),
            tls: Some(next()),
            http: Some(next()),
            sni: Some(next()),
        };
        let d = &mut f.destination;
        d.name = Some(next());
        d.domain = Some(next());
        if let Some(o) = &mut d.org {
            o.name = next();
            o.id = next();
        }
        if i % 4 == 0 {
            d.org_country = Some(next());
        }
        d.incorporated = Some(next());
        d.server_ip = Some(next());
        d.server_country = Some(next());
        d.server_country_source = Some(next());
        d.asn_org = Some(next());
        if i % 2 == 1 {
            f.watch = vec![next()];
        }
        f.source.file = next().into();
    }
    for fl in &mut run.flows {
        fl.names[0].name = next();
        fl.destination.name = Some(next());
        fl.sni = Some(next());
        fl.alpn = vec![next()];
        fl.app = Some(next());
    }
    for w in &mut run.warnings {
        w.file = next().into();
        w.reason = next();
    }
    let s = &mut run.summary;
    s.tool = next();
    s.device = Some(next());
    s.profile = Some(next());
    s.vendor = Some(next());
    s.inputs[0].file = next();
    s.inputs[0].sha256 = Some(next());
    s.inputs[0].format = Some(next());
    s.inputs[1].file = next();
    s.inputs[1].error = Some(next());
    s.inputs[1].format = Some(next());
    s.time_span = Some((next(), next()));
    s.data.insert(next(), next());
    s.watch.push(next());
    s.counts.flows_not_inspected.insert(next(), 1);
    if let Some(p) = &mut s.policy {
        p.file = next();
        p.name = Some(next());
        for v in &mut p.violations {
            v.rule = next();
            v.reason = next();
        }
    }
    run
}
