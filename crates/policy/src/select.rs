//! Which findings a rule looks at: the selectors and how a finding is tested against them.

use phonehome_model::{Direction, Finding, MatchKind, Party};
use std::collections::BTreeSet;

/// A finding's confidence, ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Confidence {
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
}

impl Confidence {
    /// Parses `low`, `medium` or `high`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    /// A finding's confidence; anything unrecognised counts as the lowest.
    fn of(finding: &Finding) -> Self {
        Self::parse(&finding.confidence).unwrap_or(Self::Low)
    }
}

/// A destination field holding a country.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum CountryField {
    /// `org_country`: headquarters of the organisation.
    Org,
    /// `parent_country`: headquarters of its parent.
    Parent,
    /// `server_country`: declared country of the server's address block.
    Server,
}

impl CountryField {
    /// Every field, in the order reasons list them.
    pub(crate) const ALL: [CountryField; 3] = [Self::Org, Self::Parent, Self::Server];

    /// Parses a field name as written in a policy.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "org_country" => Some(Self::Org),
            "parent_country" => Some(Self::Parent),
            "server_country" => Some(Self::Server),
            _ => None,
        }
    }

    /// The field's value on a finding.
    fn value(self, finding: &Finding) -> Option<&str> {
        let d = &finding.destination;
        match self {
            Self::Org => d.org_country.as_deref(),
            Self::Parent => d.parent_country.as_deref(),
            Self::Server => d.server_country.as_deref(),
        }
    }
}

/// A country field that matched a rule's `countries`, with the country as the finding gives it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CountryHit {
    /// Which field.
    pub field: CountryField,
    /// The country (upper case).
    pub country: String,
    /// For the parent field: the parent's display name.
    pub parent: Option<String>,
}

/// What `[defaults]` sets and every rule may override: which findings count at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Scope {
    /// Whether known findings (values of the profile) count.
    pub known: bool,
    /// Whether pattern findings count.
    pub pattern: bool,
    /// Lowest confidence that counts.
    pub min_confidence: Confidence,
    /// Whether findings in requests count.
    pub request: bool,
    /// Whether findings in responses count.
    pub response: bool,
    /// The destination fields `countries` is compared with.
    pub country_fields: Vec<CountryField>,
}

impl Default for Scope {
    /// `known` findings (profile values) in requests; all three country fields.
    fn default() -> Self {
        Self {
            known: true,
            pattern: false,
            min_confidence: Confidence::Low,
            request: true,
            response: false,
            country_fields: CountryField::ALL.to_vec(),
        }
    }
}

impl Scope {
    /// Whether `finding` is within this scope (match kind, confidence, direction).
    pub(crate) fn admits(&self, finding: &Finding) -> bool {
        let by_match = match finding.match_kind {
            MatchKind::Known => self.known,
            MatchKind::Pattern => self.pattern,
            _ => self.known && self.pattern,
        };
        let by_direction = match finding.direction {
            Direction::Request => self.request,
            Direction::Response => self.response,
        };
        by_match && by_direction && Confidence::of(finding) >= self.min_confidence
    }
}

/// The findings a rule applies to: all given selectors must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Selector {
    /// Match kind, confidence, direction and country fields.
    pub scope: Scope,
    /// Kinds of data (`imei`…); `None` for any kind.
    pub kinds: Option<BTreeSet<String>>,
    /// Countries (upper case) compared with `scope.country_fields`; `None` for anywhere.
    pub countries: Option<BTreeSet<String>>,
    /// Organisation ids, matching the organisation or its parent; `None` for any receiver.
    pub orgs: Option<BTreeSet<String>>,
    /// Domains (lower case), matching the registrable domain or a host on a label boundary.
    pub domains: Option<Vec<String>>,
    /// First or third party; `None` for either (and for unknown).
    pub party: Option<Party>,
}

impl Selector {
    /// The country fields that matched when `finding` is selected (empty when the rule names no
    /// countries); `None` when it is not selected. `ignore_party` skips the party test.
    pub(crate) fn select(&self, finding: &Finding, ignore_party: bool) -> Option<Vec<CountryHit>> {
        if !self.scope.admits(finding) {
            return None;
        }
        if let Some(kinds) = &self.kinds {
            if !kinds.contains(&finding.kind) {
                return None;
            }
        }
        if let Some(orgs) = &self.orgs {
            if !org_listed(finding, orgs) {
                return None;
            }
        }
        if let Some(domains) = &self.domains {
            if !domain_listed(finding, domains) {
                return None;
            }
        }
        if !ignore_party {
            if let Some(party) = self.party {
                if finding.destination.party != Some(party) {
                    return None;
                }
            }
        }
        let Some(countries) = &self.countries else {
            return Some(Vec::new());
        };
        let hits: Vec<CountryHit> = self
            .scope
            .country_fields
            .iter()
            .filter_map(|&field| {
                let country = field.value(finding)?.to_ascii_uppercase();
                countries.contains(&country).then(|| CountryHit {
                    field,
                    country,
                    parent: match field {
                        CountryField::Parent => {
                            finding.destination.parent.as_ref().map(|p| p.name.clone())
                        }
                        _ => None,
                    },
                })
            })
            .collect();
        (!hits.is_empty()).then_some(hits)
    }
}

/// Whether the finding's organisation or its parent is one of `orgs` (an unknown organisation
/// never is).
pub(crate) fn org_listed(finding: &Finding, orgs: &BTreeSet<String>) -> bool {
    let d = &finding.destination;
    [d.org.as_ref(), d.parent.as_ref()]
        .into_iter()
        .flatten()
        .any(|o| orgs.contains(&o.id))
}

/// Whether the finding's registrable domain is one of `domains`, or one of its host names is a
/// listed domain or ends with `.` and a listed domain.
pub(crate) fn domain_listed(finding: &Finding, domains: &[String]) -> bool {
    let registrable = finding.destination.domain.as_deref().map(normalize_host);
    let hosts = [finding.destination.name.as_deref(), finding.host.as_deref()];
    domains.iter().any(|listed| {
        registrable.as_deref() == Some(listed.as_str())
            || hosts
                .iter()
                .flatten()
                .any(|h| host_under(&normalize_host(h), listed))
    })
}

/// Whether `host` is `domain` or a name under it (label boundary).
fn host_under(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// A host as sent (`Example.COM:8443`, `[2001:db8::1]:443`) lower-cased, without port or final dot.
pub(crate) fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let bare = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    bare.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lose_port_case_and_final_dot() {
        assert_eq!(normalize_host("Example.COM:8443"), "example.com");
        assert_eq!(normalize_host("example.com."), "example.com");
        assert_eq!(normalize_host("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(normalize_host("2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn suffixes_stop_at_label_boundaries() {
        assert!(host_under("a.example.com", "example.com"));
        assert!(host_under("example.com", "example.com"));
        assert!(!host_under("badexample.com", "example.com"));
        assert!(!host_under("example.com.evil", "example.com"));
    }
}
