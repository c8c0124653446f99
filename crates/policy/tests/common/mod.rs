//! Findings and summaries as the analyzer reports them, built by hand for the policy tests.
#![allow(dead_code)]

use phonehome_model::{
    Destination, Direction, Finding, FindingTransport, MatchKind, OrgRef, Party, SourceRef, Summary,
};
use phonehome_policy::Policy;
use std::collections::BTreeMap;

/// A known, high-confidence finding of `kind` in a request to `host` (registrable domain: its
/// last two labels), receiver unknown.
pub fn finding(kind: &str, host: &str) -> Finding {
    let labels: Vec<&str> = host.rsplitn(3, '.').collect();
    let domain = match labels.as_slice() {
        [tld, sld, ..] => format!("{sld}.{tld}"),
        _ => host.to_owned(),
    };
    Finding {
        record_type: "finding",
        kind: kind.to_owned(),
        match_kind: MatchKind::Known,
        label: kind.to_owned(),
        value: "value".to_owned(),
        form: "plain".to_owned(),
        preimage: "value".to_owned(),
        confidence: "high".to_owned(),
        count: 1,
        reason: None,
        details: BTreeMap::new(),
        decimals: None,
        precision_m: None,
        direction: Direction::Request,
        time: None,
        first_time: None,
        last_time: None,
        host: Some(host.to_owned()),
        method: Some("POST".to_owned()),
        url: format!("https://{host}/collect"),
        location: "body".to_owned(),
        chain: vec!["json:$.v".to_owned()],
        transport: FindingTransport {
            client: None,
            server: None,
            tls: None,
            http: None,
            sni: None,
        },
        destination: Destination {
            name: Some(host.to_owned()),
            domain: Some(domain),
            server_ip: Some("192.0.2.1".to_owned()),
            ..Destination::default()
        },
        watch: Vec::new(),
        source: SourceRef::frame("test.pcapng".into(), 1),
    }
}

/// Setters for the parts of a finding the rules read.
pub trait FindingExt: Sized {
    /// The receiving organisation and its headquarters country.
    fn org(self, id: &str, name: &str, country: &str) -> Self;
    /// The organisation's parent and its country.
    fn parent(self, id: &str, name: &str, country: &str) -> Self;
    /// The declared country of the server's block.
    fn server(self, country: &str) -> Self;
    /// First or third party.
    fn party(self, party: Party) -> Self;
    /// A pattern finding with this confidence.
    fn pattern(self, confidence: &str) -> Self;
    /// In a response.
    fn response(self) -> Self;
}

impl FindingExt for Finding {
    fn org(mut self, id: &str, name: &str, country: &str) -> Self {
        self.destination.org = Some(OrgRef {
            id: id.to_owned(),
            name: name.to_owned(),
        });
        self.destination.org_country = Some(country.to_owned());
        self
    }
    fn parent(mut self, id: &str, name: &str, country: &str) -> Self {
        self.destination.parent = Some(OrgRef {
            id: id.to_owned(),
            name: name.to_owned(),
        });
        self.destination.parent_country = Some(country.to_owned());
        self
    }
    fn server(mut self, country: &str) -> Self {
        self.destination.server_country = Some(country.to_owned());
        self
    }
    fn party(mut self, party: Party) -> Self {
        self.destination.party = Some(party);
        self
    }
    fn pattern(mut self, confidence: &str) -> Self {
        self.match_kind = MatchKind::Pattern;
        self.confidence = confidence.to_owned();
        self.reason = Some("value under a telling key".to_owned());
        self
    }
    fn response(mut self) -> Self {
        self.direction = Direction::Response;
        self
    }
}

/// A summary of a run of `flows` flows, all inspected, with the given vendor.
pub fn summary(flows: u64, vendor: Option<&str>) -> Summary {
    let mut s = Summary::default();
    s.counts.flows = flows;
    s.counts.flows_inspected = flows;
    s.vendor = vendor.map(str::to_owned);
    s
}

/// Parses `text` as `test.toml`, panicking with the error.
pub fn policy(text: &str) -> Policy {
    match Policy::from_toml(text, "test.toml") {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// `(rule, reason, findings)` of every violation, for compact assertions.
pub fn violations(
    policy: &Policy,
    findings: &[Finding],
    summary: &Summary,
) -> Vec<(String, String, Vec<usize>)> {
    policy
        .evaluate(findings, summary)
        .violations
        .into_iter()
        .map(|v| (v.rule, v.reason, v.findings))
        .collect()
}
