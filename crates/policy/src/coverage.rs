//! `[coverage]`: whether the run saw enough to trust a clean result.

use crate::reason::ReceiverGroups;
use crate::select::Scope;
use phonehome_model::{Finding, Summary, Violation};
use std::collections::{BTreeMap, BTreeSet};

/// The reasons a flow may go uninspected, as the summary counts them.
pub(crate) const NOT_INSPECTED_REASONS: &[&str] = &[
    "no_key",
    "handshake_missing",
    "unsupported_suite",
    "gap",
    "quic",
    "unknown_protocol",
    "no_payload",
];

/// The reasons `max_uninspected_flows` ignores unless the policy says otherwise: a flow that
/// carried no payload cannot have carried data.
pub(crate) const DEFAULT_IGNORED_REASONS: &[&str] = &["no_payload"];

/// The checks of a `[coverage]` table; absent keys are not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Coverage {
    /// Most flows not inspected, over the reasons not in `ignore_reasons`.
    pub max_uninspected_flows: Option<u64>,
    /// Reasons `max_uninspected_flows` does not count.
    pub ignore_reasons: BTreeSet<String>,
    /// Most flows not inspected for one reason, by reason.
    pub max_uninspected_by_reason: BTreeMap<String, u64>,
    /// Fewest flows that must have been inspected.
    pub min_inspected_flows: Option<u64>,
    /// Whether a finding (within the defaults) to an unknown organisation is a violation.
    pub fail_on_unknown_org: bool,
    /// Whether findings dropped at the cap on distinct findings are a violation.
    pub fail_on_dropped_findings: bool,
}

impl Coverage {
    /// The ids of the checks this table configures, in evaluation order.
    pub(crate) fn check_ids(&self) -> Vec<&'static str> {
        let mut ids = Vec::new();
        if self.max_uninspected_flows.is_some() {
            ids.push("coverage.max_uninspected_flows");
        }
        if !self.max_uninspected_by_reason.is_empty() {
            ids.push("coverage.max_uninspected_by_reason");
        }
        if self.min_inspected_flows.is_some() {
            ids.push("coverage.min_inspected_flows");
        }
        if self.fail_on_unknown_org {
            ids.push("coverage.fail_on_unknown_org");
        }
        if self.fail_on_dropped_findings {
            ids.push("coverage.fail_on_dropped_findings");
        }
        ids
    }

    /// The coverage violations of a run; `defaults` decides which findings the unknown-org check
    /// looks at.
    pub(crate) fn evaluate(
        &self,
        findings: &[Finding],
        summary: &Summary,
        defaults: &Scope,
    ) -> Vec<Violation> {
        let counts = &summary.counts;
        let mut out = Vec::new();
        if let Some(max) = self.max_uninspected_flows {
            let counted: Vec<(&String, u64)> = counts
                .flows_not_inspected
                .iter()
                .filter(|(reason, &n)| n > 0 && !self.ignore_reasons.contains(*reason))
                .map(|(reason, &n)| (reason, n))
                .collect();
            let total: u64 = counted.iter().map(|(_, n)| n).sum();
            if total > max {
                let by_reason: Vec<String> =
                    counted.iter().map(|(r, n)| format!("{r} {n}")).collect();
                out.push(coverage_violation(
                    "coverage.max_uninspected_flows",
                    format!(
                        "{} not inspected ({}), more than the {max} allowed",
                        flows(total),
                        by_reason.join(", ")
                    ),
                ));
            }
        }
        for (reason, &max) in &self.max_uninspected_by_reason {
            let n = counts.flows_not_inspected.get(reason).copied().unwrap_or(0);
            if n > max {
                out.push(coverage_violation(
                    "coverage.max_uninspected_by_reason",
                    format!(
                        "{} not inspected for {reason}, more than the {max} allowed",
                        flows(n)
                    ),
                ));
            }
        }
        if let Some(min) = self.min_inspected_flows {
            let n = counts.flows_inspected;
            if n < min {
                out.push(coverage_violation(
                    "coverage.min_inspected_flows",
                    format!("{} inspected, fewer than the {min} required", flows(n)),
                ));
            }
        }
        if self.fail_on_unknown_org {
            let mut groups = ReceiverGroups::default();
            for (index, finding) in findings.iter().enumerate() {
                if finding.destination.org.is_none() && defaults.admits(finding) {
                    groups.add(index, finding, &[]);
                }
            }
            out.extend(groups.into_violations("coverage.fail_on_unknown_org", &[]));
        }
        if self.fail_on_dropped_findings && counts.findings_dropped > 0 {
            let n = counts.findings_dropped;
            out.push(coverage_violation(
                "coverage.fail_on_dropped_findings",
                format!(
                    "{n} finding{} not listed because the cap on distinct findings was reached; \
                     no rule could check {}",
                    if n == 1 { " was" } else { "s were" },
                    if n == 1 { "it" } else { "them" }
                ),
            ));
        }
        out
    }
}

/// `1 flow was` / `3 flows were`.
fn flows(n: u64) -> String {
    if n == 1 {
        "1 flow was".to_owned()
    } else {
        format!("{n} flows were")
    }
}

/// A violation that no single finding stands for.
fn coverage_violation(rule: &str, reason: String) -> Violation {
    Violation {
        rule: rule.to_owned(),
        reason,
        findings: Vec::new(),
    }
}
