//! Grouping a rule's offending findings by receiver, and the one-sentence reason of each group.

use crate::select::{normalize_host, CountryField, CountryHit};
use phonehome_model::{Direction, Finding, Violation};
use std::collections::{BTreeSet, HashMap};

/// Most host names a reason lists before saying how many more there are.
const MAX_HOSTS_LISTED: usize = 3;

/// Why a group breaches its rule, beyond what was sent to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Qualifier {
    /// The receiver is not on the rule's allow-list.
    NotAllowed,
    /// The country fields that matched the rule's `countries`.
    Countries,
    /// The receiver is the vendor's group.
    FirstParty,
    /// The receiver is outside the vendor's group.
    ThirdParty,
}

/// The offending findings of one receiver in one direction.
#[derive(Debug)]
struct Group {
    /// The organisation's display name, when known.
    org: Option<String>,
    /// Request or response.
    direction: Direction,
    /// Kinds of data, in first-seen order.
    kinds: Vec<String>,
    /// Host names (or server addresses), in first-seen order.
    hosts: Vec<String>,
    /// Country fields that matched, over all findings.
    countries: BTreeSet<CountryHit>,
    /// Indices of the findings.
    findings: Vec<usize>,
}

/// A rule's offending findings grouped by receiver (organisation, else domain, else host) and
/// direction, in the order of each group's first finding.
#[derive(Debug, Default)]
pub(crate) struct ReceiverGroups {
    groups: Vec<Group>,
    index: HashMap<(String, Direction), usize>,
}

impl ReceiverGroups {
    /// Adds finding `index` with the country fields it matched.
    pub(crate) fn add(&mut self, index: usize, finding: &Finding, countries: &[CountryHit]) {
        let d = &finding.destination;
        let host = d
            .name
            .as_deref()
            .or(finding.host.as_deref())
            .map(normalize_host)
            .or_else(|| d.server_ip.clone());
        let key = match (&d.org, &d.domain, &host) {
            (Some(org), _, _) => format!("org:{}", org.id),
            (None, Some(domain), _) => format!("domain:{}", normalize_host(domain)),
            (None, None, Some(host)) => format!("host:{host}"),
            (None, None, None) => "unknown".to_owned(),
        };
        let slot = *self
            .index
            .entry((key, finding.direction))
            .or_insert_with(|| {
                self.groups.push(Group {
                    org: d.org.as_ref().map(|o| o.name.clone()),
                    direction: finding.direction,
                    kinds: Vec::new(),
                    hosts: Vec::new(),
                    countries: BTreeSet::new(),
                    findings: Vec::new(),
                });
                self.groups.len() - 1
            });
        let group = &mut self.groups[slot];
        if !group.kinds.contains(&finding.kind) {
            group.kinds.push(finding.kind.clone());
        }
        if let Some(host) = host {
            if !group.hosts.contains(&host) {
                group.hosts.push(host);
            }
        }
        group.countries.extend(countries.iter().cloned());
        group.findings.push(index);
    }

    /// One violation of rule `rule` per group, its reason saying `qualifiers`.
    pub(crate) fn into_violations(self, rule: &str, qualifiers: &[Qualifier]) -> Vec<Violation> {
        self.groups
            .into_iter()
            .map(|group| Violation {
                rule: rule.to_owned(),
                reason: group.reason(qualifiers),
                findings: group.findings,
            })
            .collect()
    }
}

impl Group {
    /// `imei, serial sent to Xiaomi at a.miui.com, b.xiaomi.com: organisation in CN; 2 findings`.
    fn reason(&self, qualifiers: &[Qualifier]) -> String {
        let verb = match self.direction {
            Direction::Request => "sent to",
            Direction::Response => "received from",
        };
        let receiver = self.org.as_deref().unwrap_or("an unknown organisation");
        let mut text = format!("{} {verb} {receiver}", self.kinds.join(", "));
        if !self.hosts.is_empty() {
            let shown: Vec<&str> = self
                .hosts
                .iter()
                .take(MAX_HOSTS_LISTED)
                .map(String::as_str)
                .collect();
            text.push_str(" at ");
            text.push_str(&shown.join(", "));
            let more = self.hosts.len() - shown.len();
            if more > 0 {
                text.push_str(&format!(" and {more} more"));
            }
        }
        let words: Vec<String> = qualifiers
            .iter()
            .filter_map(|q| match q {
                Qualifier::NotAllowed => Some("not on the allow-list".to_owned()),
                Qualifier::FirstParty => Some("first party".to_owned()),
                Qualifier::ThirdParty => Some("third party".to_owned()),
                Qualifier::Countries => self.country_words(),
            })
            .collect();
        if !words.is_empty() {
            text.push_str(": ");
            text.push_str(&words.join(", "));
        }
        let n = self.findings.len();
        text.push_str(&format!("; {n} finding{}", if n == 1 { "" } else { "s" }));
        text
    }

    /// `organisation in CN, parent OPPO in CN, server in RU and SG`, or `None` when no country
    /// field matched.
    fn country_words(&self) -> Option<String> {
        let parts: Vec<String> = CountryField::ALL
            .iter()
            .filter_map(|&field| {
                let hits: Vec<&CountryHit> =
                    self.countries.iter().filter(|h| h.field == field).collect();
                let mut countries: Vec<&str> = hits.iter().map(|h| h.country.as_str()).collect();
                countries.dedup();
                if countries.is_empty() {
                    return None;
                }
                let place = countries.join(" and ");
                Some(match field {
                    CountryField::Org => format!("organisation in {place}"),
                    CountryField::Parent => match hits.iter().find_map(|h| h.parent.as_deref()) {
                        Some(name) => format!("parent {name} in {place}"),
                        None => format!("parent in {place}"),
                    },
                    CountryField::Server => format!("server in {place}"),
                })
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}
