//! Vetting policies: a yes/no answer over phonehome's findings.
//!
//! A security team vetting a handset before officials or soldiers carry it does not want a list of
//! findings to read; it wants to know whether the phone breaks the rules it set. A policy is a TOML
//! file (format: `docs/policy.md`; a starting point: `policies/vetting.toml`) of
//!
//! - `[defaults]`: which findings rules look at unless they say otherwise (match kind, lowest
//!   confidence, direction, which country fields `countries` reads);
//! - `[[rule]]` tables, each with an `id` and selectors (`kinds`, `countries`, `orgs`, `domains`,
//!   `party`…). A rule without allow-list keys *denies* what it selects; one with `allow_orgs` or
//!   `allow_domains` is an *allow-list*: what it selects must go to a listed receiver;
//! - `[coverage]`: whether the run saw enough to trust a clean result (flows not inspected,
//!   receivers nobody could name, findings dropped at a cap).
//!
//! [`Policy::evaluate`] turns a run's findings and summary into a
//! [`phonehome_model::PolicyOutcome`]: one [`phonehome_model::Violation`] per rule and receiver
//! (organisation, else domain) with every offending finding's index and a one-sentence reason
//! (`imei, android_id sent to Xiaomi at tracking.intl.miui.com: organisation in CN; 2 findings`).
//! The policy passes when there is none; the command line exits with status 3 when there is.
//!
//! ```
//! use phonehome_model::Summary;
//! use phonehome_policy::Policy;
//!
//! let policy = Policy::from_toml(
//!     r#"
//!     name = "No data to CN"
//!     [[rule]]
//!     id = "no-cn"
//!     countries = ["CN"]
//!     "#,
//!     "inline.toml",
//! )
//! .unwrap();
//! let outcome = policy.evaluate(&[], &Summary::default());
//! assert_eq!((outcome.rules, outcome.violations.len()), (1, 0));
//!
//! let err = Policy::from_toml("[[rule]]\nid = \"x\"\ncountry = [\"CN\"]\n", "p.toml").unwrap_err();
//! assert!(err.to_string().starts_with("p.toml: line 3: rule `x`: unknown field `country`"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod country;
mod coverage;
mod error;
mod parse;
mod reason;
mod rule;
mod select;

pub use error::{PolicyError, PolicyErrorKind, RuleRef};

use coverage::Coverage;
use phonehome_model::{Finding, PolicyOutcome, Summary};
use rule::Rule;

/// The code in upper case when `text` names a country (ISO 3166-1 alpha-2, either case, or `XK`,
/// `EU`, `AP` as registration data uses them), else why not (`UK` → "the United Kingdom is `GB`").
pub fn parse_country_code(text: &str) -> Result<String, String> {
    country::parse_country(text)
}
use select::Scope;
use std::collections::BTreeSet;
use std::path::Path;

/// A checked policy: its rules and coverage checks, ready to evaluate runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    origin: String,
    name: Option<String>,
    description: Option<String>,
    defaults: Scope,
    rules: Vec<Rule>,
    coverage: Coverage,
}

impl Policy {
    /// Parses and checks policy `text`; `origin` (the file name, usually) names it in errors and
    /// in the outcome.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PolicyError> {
        let parsed = parse::parse_policy(text, origin)?;
        Ok(Self {
            origin: origin.to_owned(),
            name: parsed.name,
            description: parsed.description,
            defaults: parsed.defaults,
            rules: parsed.rules,
            coverage: parsed.coverage,
        })
    }

    /// Reads and checks the policy file at `path` (named in errors as given).
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            origin: origin.clone(),
            line: None,
            rule: None,
            kind: Box::new(PolicyErrorKind::Io {
                message: e.to_string(),
            }),
        })?;
        Self::from_toml(&text, &origin)
    }

    /// Where the policy came from, as given.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The policy's `name`, when it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The policy's `description`, when it has one.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The ids of everything evaluated, in order: the `[[rule]]` ids, then the configured coverage
    /// checks (`coverage.max_uninspected_flows`…).
    pub fn check_ids(&self) -> Vec<&str> {
        self.rules
            .iter()
            .map(|r| r.id.as_str())
            .chain(self.coverage.check_ids())
            .collect()
    }

    /// What the policy names that the caller does not know, as `(rule id, problem)` pairs: a kind
    /// of data for which `is_kind` is false, or an organisation for which `is_org` is false (in a
    /// selector or an allow-list). A misspelt kind or organisation would otherwise make a rule
    /// silently pass; callers refuse such a policy.
    pub fn unknown_references(
        &self,
        is_kind: &dyn Fn(&str) -> bool,
        is_org: &dyn Fn(&str) -> bool,
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for rule in &self.rules {
            for kind in rule.selector.kinds.iter().flatten() {
                if !is_kind(kind) {
                    out.push((rule.id.clone(), format!("unknown kind of data `{kind}`")));
                }
            }
            let allowed = match &rule.action {
                rule::Action::Allow { orgs, .. } => Some(orgs),
                rule::Action::Deny => None,
            };
            for org in rule
                .selector
                .orgs
                .iter()
                .flatten()
                .chain(allowed.into_iter().flatten())
            {
                if !is_org(org) {
                    out.push((
                        rule.id.clone(),
                        format!("unknown organisation id `{org}` (not in the entity data)"),
                    ));
                }
            }
        }
        out
    }

    /// The description of rule `id`, when it has one.
    pub fn rule_description(&self, id: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.description.as_deref())
    }

    /// Evaluates the policy over a run's findings (in report order) and summary: violations of the
    /// rules in file order, then of the coverage checks. `rules` counts rules and coverage checks.
    pub fn evaluate(&self, findings: &[Finding], summary: &Summary) -> PolicyOutcome {
        let mut violations = Vec::new();
        for rule in &self.rules {
            violations.extend(rule.evaluate(findings, summary));
        }
        violations.extend(self.coverage.evaluate(findings, summary, &self.defaults));
        PolicyOutcome {
            file: self.origin.clone(),
            name: self.name.clone(),
            rules: u32::try_from(self.check_ids().len()).unwrap_or(u32::MAX),
            violations,
        }
    }
}

/// The indices of every finding that breaches some rule of `outcome`.
pub fn violating_findings(outcome: &PolicyOutcome) -> BTreeSet<usize> {
    outcome
        .violations
        .iter()
        .flat_map(|v| v.findings.iter().copied())
        .collect()
}
