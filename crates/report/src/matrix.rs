//! The who-gets-what view shared by the HTML, Markdown and CSV reports: findings grouped by
//! receiver (organisation with its headquarters country, else the registrable domain or host)
//! and by kind of data, with the policy rules each finding breaks.

use phonehome_model::{Destination, Finding, Party, Summary};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Most domains and server claims kept per receiver; the rest are counted.
pub(crate) const MAX_LISTED_PER_RECEIVER: usize = 40;

/// How a receiver is told apart from the others.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum ReceiverKey {
    /// A known organisation (entity id) and its headquarters country.
    Org(String, Option<String>),
    /// No known organisation: the registrable domain, else the host.
    Name(String),
}

/// A set that keeps its first [`MAX_LISTED_PER_RECEIVER`] members and counts the others.
#[derive(Clone, Debug, Default)]
pub(crate) struct CappedSet {
    /// The members kept, sorted.
    pub items: BTreeSet<String>,
    /// Distinct members not kept (approximate: a member seen twice after the cap counts twice).
    pub more: u64,
}

impl CappedSet {
    fn insert(&mut self, s: String) {
        if self.items.contains(&s) {
            return;
        }
        if self.items.len() < MAX_LISTED_PER_RECEIVER {
            self.items.insert(s);
        } else {
            self.more += 1;
        }
    }
}

/// One receiver: everything the reports say about it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Receiver {
    /// Display name: the organisation's name, else the domain or host.
    pub name: String,
    /// The organisation's entity id, when known.
    pub org_id: Option<String>,
    /// The organisation's headquarters country, when known.
    pub country: Option<String>,
    /// The parent company and its headquarters country.
    pub parent: Option<(String, Option<String>)>,
    /// First or third party, when known.
    pub party: Option<Party>,
    /// Why it is watched: `HQ CN`, `parent CN`, `server CN` (see [`watch_labels`]).
    pub watched: BTreeSet<String>,
    /// Registrable domains (else host names) its findings went to.
    pub domains: CappedSet,
    /// Server claims: declared registration country of the address block, AS number and name.
    pub servers: CappedSet,
    /// Kinds of data it received.
    pub kinds: BTreeSet<String>,
    /// Finding records.
    pub findings: u64,
    /// Occurrences (sum of counts).
    pub occurrences: u64,
}

impl Receiver {
    /// `Xiaomi (CN)`, or the bare name when the country is unknown.
    pub fn label(&self) -> String {
        match &self.country {
            Some(cc) => format!("{} ({cc})", self.name),
            None => self.name.clone(),
        }
    }

    /// `first`, `third` or empty.
    pub fn party_str(&self) -> &'static str {
        party_str(self.party)
    }

    /// The parent as `Name (CC)`, or empty.
    pub fn parent_label(&self) -> String {
        match &self.parent {
            Some((name, Some(cc))) => format!("{name} ({cc})"),
            Some((name, None)) => name.clone(),
            None => String::new(),
        }
    }
}

/// `first`, `third` or empty.
pub(crate) fn party_str(p: Option<Party>) -> &'static str {
    match p {
        Some(Party::First) => "first",
        Some(Party::Third) => "third",
        None => "",
    }
}

/// One matrix cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CellCount {
    /// Finding records.
    pub findings: u64,
    /// Occurrences.
    pub occurrences: u64,
}

/// The matrix of kinds of data × receivers over all findings.
#[derive(Debug, Default)]
pub(crate) struct WhoGetsWhat {
    /// Receivers: watched first, then by occurrences (most first), then by name.
    pub receivers: Vec<Receiver>,
    /// Kinds of data, sorted by name.
    pub kinds: Vec<String>,
    /// Cells by (kind index, receiver index).
    pub cells: HashMap<(usize, usize), CellCount>,
    /// Occurrences per kind (by kind index).
    pub kind_totals: Vec<u64>,
    /// For each finding, the index of its receiver.
    pub receiver_of: Vec<usize>,
    /// For each finding, the index of its kind.
    pub kind_of: Vec<usize>,
}

fn receiver_key(f: &Finding) -> ReceiverKey {
    let d = &f.destination;
    match &d.org {
        Some(org) => ReceiverKey::Org(org.id.clone(), d.org_country.clone()),
        None => ReceiverKey::Name(
            d.domain
                .clone()
                .or_else(|| d.name.clone())
                .or_else(|| f.host.clone())
                .unwrap_or_else(|| "(unknown)".to_owned()),
        ),
    }
}

/// A finding's `watch` entries (field names such as `org_country`) as labels naming the
/// country: `HQ CN`, `parent CN`, `server CN`.
pub(crate) fn watch_labels(f: &Finding) -> Vec<String> {
    let d = &f.destination;
    f.watch
        .iter()
        .map(|field| {
            let (what, cc) = match field.as_str() {
                "org_country" => ("HQ", &d.org_country),
                "parent_country" => ("parent", &d.parent_country),
                "server_country" => ("server", &d.server_country),
                other => return other.to_owned(),
            };
            format!("{what} {}", cc.as_deref().unwrap_or("?"))
        })
        .collect()
}

/// Where the server stands on paper and whose network it is: `SG · AS45102 ALIBABA`.
pub(crate) fn server_claim(d: &Destination) -> String {
    let mut parts = Vec::new();
    if let Some(c) = &d.server_country {
        parts.push(c.clone());
    }
    let mut net = String::new();
    if let Some(asn) = d.asn {
        net.push_str(&format!("AS{asn}"));
    }
    if let Some(org) = &d.asn_org {
        if !net.is_empty() {
            net.push(' ');
        }
        net.push_str(org);
    }
    if !net.is_empty() {
        parts.push(net);
    }
    parts.join(" · ")
}

impl WhoGetsWhat {
    /// Groups `findings`.
    pub fn new(findings: &[Finding]) -> Self {
        let mut index: HashMap<ReceiverKey, usize> = HashMap::new();
        let mut receivers: Vec<Receiver> = Vec::new();
        let mut raw_receiver = Vec::with_capacity(findings.len());
        let mut kind_names: BTreeSet<&str> = BTreeSet::new();
        for f in findings {
            kind_names.insert(&f.kind);
            let key = receiver_key(f);
            let at = *index.entry(key.clone()).or_insert_with(|| {
                receivers.push(Receiver {
                    name: match &key {
                        ReceiverKey::Org(..) => f
                            .destination
                            .org
                            .as_ref()
                            .map(|o| o.name.clone())
                            .unwrap_or_default(),
                        ReceiverKey::Name(n) => n.clone(),
                    },
                    org_id: f.destination.org.as_ref().map(|o| o.id.clone()),
                    country: match &key {
                        ReceiverKey::Org(_, cc) => cc.clone(),
                        ReceiverKey::Name(_) => None,
                    },
                    ..Receiver::default()
                });
                receivers.len() - 1
            });
            raw_receiver.push(at);
            let r = &mut receivers[at];
            let d = &f.destination;
            r.watched.extend(watch_labels(f));
            if let Some(p) = &d.parent {
                r.parent = Some((p.name.clone(), d.parent_country.clone()));
            }
            if d.party.is_some() {
                r.party = d.party;
            }
            if let Some(domain) = d
                .domain
                .clone()
                .or_else(|| d.name.clone())
                .or_else(|| f.host.clone())
            {
                r.domains.insert(domain);
            }
            let server = server_claim(d);
            if !server.is_empty() {
                r.servers.insert(server);
            }
            if !r.kinds.contains(&f.kind) {
                r.kinds.insert(f.kind.clone());
            }
            r.findings += 1;
            r.occurrences = r.occurrences.saturating_add(f.count);
        }

        // Order receivers, then renumber.
        let mut order: Vec<usize> = (0..receivers.len()).collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (&receivers[a], &receivers[b]);
            ra.watched
                .is_empty()
                .cmp(&rb.watched.is_empty())
                .then(rb.occurrences.cmp(&ra.occurrences))
                .then_with(|| ra.name.cmp(&rb.name))
                .then_with(|| ra.country.cmp(&rb.country))
        });
        let mut renumber = vec![0; receivers.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old] = new;
        }
        let mut slots: Vec<Option<Receiver>> = receivers.into_iter().map(Some).collect();
        let receivers: Vec<Receiver> = order.iter().filter_map(|&old| slots[old].take()).collect();

        let kinds: Vec<String> = kind_names.iter().map(|k| (*k).to_owned()).collect();
        let kind_index: HashMap<&str, usize> = kind_names
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i))
            .collect();
        let mut cells: HashMap<(usize, usize), CellCount> = HashMap::new();
        let mut kind_totals = vec![0u64; kinds.len()];
        let mut receiver_of = Vec::with_capacity(findings.len());
        let mut kind_of = Vec::with_capacity(findings.len());
        for (f, raw) in findings.iter().zip(raw_receiver) {
            let r = renumber[raw];
            let k = kind_index.get(f.kind.as_str()).copied().unwrap_or(0);
            let c = cells.entry((k, r)).or_default();
            c.findings += 1;
            c.occurrences = c.occurrences.saturating_add(f.count);
            kind_totals[k] = kind_totals[k].saturating_add(f.count);
            receiver_of.push(r);
            kind_of.push(k);
        }
        Self {
            receivers,
            kinds,
            cells,
            kind_totals,
            receiver_of,
            kind_of,
        }
    }

    /// The cell of kind `k` and receiver `r`.
    pub fn cell(&self, k: usize, r: usize) -> CellCount {
        self.cells.get(&(k, r)).copied().unwrap_or_default()
    }
}

/// Occurrences by country (`?` for unknown), most first, from `country_of` each finding.
pub(crate) fn by_country<'a>(
    findings: &'a [Finding],
    country_of: impl Fn(&'a Finding) -> Option<&'a str>,
) -> Vec<(String, u64)> {
    let mut m: BTreeMap<&str, u64> = BTreeMap::new();
    for f in findings {
        let e = m.entry(country_of(f).unwrap_or("?")).or_default();
        *e = e.saturating_add(f.count);
    }
    let mut v: Vec<(String, u64)> = m.into_iter().map(|(c, n)| (c.to_owned(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// For each finding, the policy rules (indices into the summary's violations) it breaks.
#[derive(Debug, Default)]
pub(crate) struct RulesBroken {
    by_finding: HashMap<usize, Vec<usize>>,
}

impl RulesBroken {
    /// Reads the violations in `summary.policy`; indices beyond `findings` are ignored.
    pub fn new(summary: &Summary, findings: usize) -> Self {
        let mut by_finding: HashMap<usize, Vec<usize>> = HashMap::new();
        if let Some(p) = &summary.policy {
            for (vi, v) in p.violations.iter().enumerate() {
                for &fi in &v.findings {
                    if fi < findings {
                        let rules = by_finding.entry(fi).or_default();
                        if rules.last() != Some(&vi) {
                            rules.push(vi);
                        }
                    }
                }
            }
        }
        Self { by_finding }
    }

    /// The violations (indices) finding `i` is part of.
    pub fn of(&self, i: usize) -> &[usize] {
        self.by_finding.get(&i).map_or(&[], Vec::as_slice)
    }

    /// The rule ids finding `i` breaks, each once, in policy order.
    pub fn rule_ids<'s>(&self, i: usize, summary: &'s Summary) -> Vec<&'s str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(p) = &summary.policy {
            for &vi in self.of(i) {
                if let Some(v) = p.violations.get(vi) {
                    if !out.contains(&v.rule.as_str()) {
                        out.push(&v.rule);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::{
        Direction, FindingTransport, MatchKind, OrgRef, PolicyOutcome, SourceRef, Violation,
    };

    fn finding(
        kind: &str,
        org: Option<(&str, &str)>,
        domain: &str,
        watch: &[&str],
        count: u64,
    ) -> Finding {
        Finding {
            record_type: "finding",
            kind: kind.into(),
            match_kind: MatchKind::Known,
            label: kind.into(),
            value: "v".into(),
            form: "plain".into(),
            preimage: "v".into(),
            confidence: "high".into(),
            count,
            reason: None,
            details: Default::default(),
            decimals: None,
            precision_m: None,
            direction: Direction::Request,
            time: None,
            first_time: None,
            last_time: None,
            host: Some(format!("a.{domain}")),
            method: Some("GET".into()),
            url: format!("http://a.{domain}/"),
            location: "url".into(),
            chain: vec![],
            transport: FindingTransport {
                client: None,
                server: None,
                tls: None,
                http: None,
                sni: None,
            },
            destination: Destination {
                domain: Some(domain.into()),
                org: org.map(|(id, _)| OrgRef {
                    id: id.into(),
                    name: id.to_uppercase(),
                }),
                org_country: org.map(|(_, cc)| cc.into()),
                server_country: Some("US".into()),
                asn: Some(16509),
                asn_org: Some("AMAZON-02".into()),
                ..Destination::default()
            },
            watch: watch.iter().map(|s| (*s).to_owned()).collect(),
            source: SourceRef::frame("c.pcap".into(), 1),
        }
    }

    #[test]
    fn groups_by_organisation_and_orders_watched_first() {
        let findings = vec![
            finding("imei", Some(("google", "US")), "google.com", &[], 10),
            finding(
                "imei",
                Some(("xiaomi", "CN")),
                "miui.com",
                &["org_country"],
                1,
            ),
            finding(
                "serial",
                Some(("xiaomi", "CN")),
                "xiaomi.com",
                &["org_country"],
                2,
            ),
            finding("serial", None, "example.net", &[], 50),
        ];
        let m = WhoGetsWhat::new(&findings);
        let labels: Vec<String> = m.receivers.iter().map(Receiver::label).collect();
        assert_eq!(labels, ["XIAOMI (CN)", "example.net", "GOOGLE (US)"]);
        assert_eq!(m.kinds, ["imei", "serial"]);
        assert_eq!(m.receivers[0].domains.items.len(), 2);
        assert_eq!(m.receivers[0].watched.iter().collect::<Vec<_>>(), ["HQ CN"]);
        assert_eq!(m.receivers[0].occurrences, 3);
        assert_eq!(m.cell(1, 0).occurrences, 2);
        assert_eq!(m.cell(0, 1), CellCount::default());
        assert_eq!(m.receiver_of, [2, 0, 0, 1]);
        assert_eq!(m.kind_totals, [11, 52]);
        assert_eq!(
            server_claim(&findings[0].destination),
            "US · AS16509 AMAZON-02"
        );
        let by = by_country(&findings, |f| f.destination.org_country.as_deref());
        assert_eq!(
            by,
            [
                ("?".to_owned(), 50),
                ("US".to_owned(), 10),
                ("CN".to_owned(), 3)
            ]
        );
    }

    #[test]
    fn rules_broken_maps_findings_to_rules() {
        let summary = Summary {
            policy: Some(PolicyOutcome {
                file: "p.toml".into(),
                name: None,
                rules: 2,
                violations: vec![
                    Violation {
                        rule: "no-cn".into(),
                        reason: "r".into(),
                        findings: vec![0, 2, 99],
                    },
                    Violation {
                        rule: "no-imei".into(),
                        reason: "r".into(),
                        findings: vec![2],
                    },
                ],
            }),
            ..Summary::default()
        };
        let r = RulesBroken::new(&summary, 3);
        assert_eq!(r.rule_ids(2, &summary), ["no-cn", "no-imei"]);
        assert_eq!(r.rule_ids(0, &summary), ["no-cn"]);
        assert!(r.of(1).is_empty());
        assert!(r.of(99).is_empty());
    }
}
