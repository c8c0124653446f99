//! `[[rule]]` tables: what a rule selects, deny or allow-list, and its violations.

use crate::reason::{Qualifier, ReceiverGroups};
use crate::select::{domain_listed, org_listed, Selector};
use phonehome_model::{Finding, Party, Summary, Violation};
use std::collections::BTreeSet;

/// What a rule does with the findings it selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Every selected finding is a violation.
    Deny,
    /// A selected finding is a violation unless its receiver is listed.
    Allow {
        /// Organisation ids (the organisation or its parent).
        orgs: BTreeSet<String>,
        /// Domains (registrable domain or host suffix).
        domains: Vec<String>,
    },
}

/// One `[[rule]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The rule's id.
    pub id: String,
    /// What the rule is for, as written.
    pub description: Option<String>,
    /// The findings it looks at.
    pub selector: Selector,
    /// Deny or allow-list.
    pub action: Action,
}

impl Rule {
    /// The rule's violations over `findings`: one per receiver and direction, in the order of
    /// each group's first finding.
    pub(crate) fn evaluate(&self, findings: &[Finding], summary: &Summary) -> Vec<Violation> {
        // A party test needs the vendor: without it no finding is first or third party, and a
        // rule about parties would pass on anything. Fail closed instead.
        if self.selector.party.is_some() && summary.vendor.is_none() {
            return self.undecidable_party(findings);
        }
        let mut groups = ReceiverGroups::default();
        for (index, finding) in findings.iter().enumerate() {
            let Some(countries) = self.selector.select(finding, false) else {
                continue;
            };
            let violates = match &self.action {
                Action::Deny => true,
                Action::Allow { orgs, domains } => {
                    !org_listed(finding, orgs) && !domain_listed(finding, domains)
                }
            };
            if violates {
                groups.add(index, finding, &countries);
            }
        }
        let mut qualifiers = Vec::new();
        if let Action::Allow { .. } = self.action {
            qualifiers.push(Qualifier::NotAllowed);
        }
        if self.selector.countries.is_some() {
            qualifiers.push(Qualifier::Countries);
        }
        match self.selector.party {
            Some(Party::First) => qualifiers.push(Qualifier::FirstParty),
            Some(Party::Third) => qualifiers.push(Qualifier::ThirdParty),
            None => {}
        }
        groups.into_violations(&self.id, &qualifiers)
    }

    /// The single violation of a party rule evaluated without a vendor: every finding the rule
    /// would otherwise look at (none: no violation).
    fn undecidable_party(&self, findings: &[Finding]) -> Vec<Violation> {
        let selected: Vec<usize> = findings
            .iter()
            .enumerate()
            .filter(|(_, f)| self.selector.select(f, true).is_some())
            .map(|(i, _)| i)
            .collect();
        if selected.is_empty() {
            return Vec::new();
        }
        let n = selected.len();
        vec![Violation {
            rule: self.id.clone(),
            reason: format!(
                "cannot tell first from third parties: the device profile names no vendor \
                 (`vendor` under [device]); {n} finding{} in scope",
                if n == 1 { "" } else { "s" }
            ),
            findings: selected,
        }]
    }
}
