//! Policy text → checked rules: the TOML shape, then every value, with file, line and rule in
//! each error.

use crate::country::parse_country;
use crate::coverage::{Coverage, DEFAULT_IGNORED_REASONS, NOT_INSPECTED_REASONS};
use crate::error::{PolicyError, PolicyErrorKind, RuleRef};
use crate::rule::{Action, Rule};
use crate::select::{Confidence, CountryField, Scope, Selector};
use phonehome_model::{Direction, MatchKind, Party};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use toml::Spanned;

/// A list of strings with the position of the list and of each item.
type List = Spanned<Vec<Spanned<String>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    defaults: Option<RawScope>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    coverage: Option<RawCoverage>,
}

/// The keys `[defaults]` accepts (and every rule may override).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScope {
    #[serde(default, rename = "match")]
    matches: Option<List>,
    #[serde(default)]
    min_confidence: Option<Spanned<String>>,
    #[serde(default)]
    direction: Option<List>,
    #[serde(default)]
    country_fields: Option<List>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    id: Option<Spanned<String>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    kinds: Option<List>,
    #[serde(default, rename = "match")]
    matches: Option<List>,
    #[serde(default)]
    min_confidence: Option<Spanned<String>>,
    #[serde(default)]
    direction: Option<List>,
    #[serde(default)]
    countries: Option<List>,
    #[serde(default)]
    country_fields: Option<List>,
    #[serde(default)]
    orgs: Option<List>,
    #[serde(default)]
    domains: Option<List>,
    #[serde(default)]
    party: Option<Spanned<String>>,
    #[serde(default)]
    allow_orgs: Option<List>,
    #[serde(default)]
    allow_domains: Option<List>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoverage {
    #[serde(default)]
    max_uninspected_flows: Option<Spanned<i64>>,
    #[serde(default)]
    ignore_reasons: Option<List>,
    #[serde(default)]
    max_uninspected_by_reason: Option<BTreeMap<String, Spanned<i64>>>,
    #[serde(default)]
    min_inspected_flows: Option<Spanned<i64>>,
    #[serde(default)]
    fail_on_unknown_org: Option<bool>,
    #[serde(default)]
    fail_on_dropped_findings: Option<bool>,
}

/// Just enough shape to name the rule around a TOML error.
#[derive(Deserialize)]
struct LoosePolicy {
    #[serde(default)]
    rule: Vec<Spanned<LooseRule>>,
}

#[derive(Deserialize)]
struct LooseRule {
    #[serde(default)]
    id: Option<toml::Value>,
}

/// The checked content of a policy file.
pub(crate) struct ParsedPolicy {
    /// `name`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `[defaults]` over the built-in defaults.
    pub defaults: Scope,
    /// The rules in file order.
    pub rules: Vec<Rule>,
    /// `[coverage]`.
    pub coverage: Coverage,
}

/// Parses and checks a policy. `origin` names it in errors.
pub(crate) fn parse_policy(text: &str, origin: &str) -> Result<ParsedPolicy, PolicyError> {
    let ctx = Context { text, origin };
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|span| span.start);
        PolicyError {
            origin: origin.to_owned(),
            line: offset.map(|at| ctx.line_of(at)),
            rule: offset.and_then(|at| rule_around(text, at)),
            kind: Box::new(PolicyErrorKind::Toml {
                message: e
                    .message()
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
        }
    })?;
    let defaults = ctx.scope(&raw.defaults.unwrap_or_default(), Scope::default(), &None)?;
    let mut rules = Vec::with_capacity(raw.rule.len());
    let mut first_lines: HashMap<String, usize> = HashMap::new();
    for (position, spanned) in raw.rule.into_iter().enumerate() {
        let header = spanned.span().start;
        let rule = ctx.rule(spanned.into_inner(), position + 1, header, &defaults)?;
        let line = ctx.line_of(header);
        if let Some(&first_line) = first_lines.get(&rule.id) {
            return Err(PolicyError {
                origin: origin.to_owned(),
                line: Some(line),
                rule: Some(RuleRef::Id(rule.id)),
                kind: Box::new(PolicyErrorKind::DuplicateId { first_line }),
            });
        }
        first_lines.insert(rule.id.clone(), line);
        rules.push(rule);
    }
    let coverage = match raw.coverage {
        Some(raw) => ctx.coverage(raw)?,
        None => Coverage::default(),
    };
    if rules.is_empty() && coverage.check_ids().is_empty() {
        return Err(PolicyError {
            origin: origin.to_owned(),
            line: None,
            rule: None,
            kind: Box::new(PolicyErrorKind::NothingToCheck),
        });
    }
    Ok(ParsedPolicy {
        name: raw.name,
        description: raw.description,
        defaults,
        rules,
        coverage,
    })
}

/// The text being parsed, for positions in errors.
struct Context<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Context<'_> {
    /// The 1-based line of byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.text
            .bytes()
            .take(offset)
            .filter(|&b| b == b'\n')
            .count()
            + 1
    }

    /// An error at byte `at`.
    fn error(&self, at: usize, rule: &Option<RuleRef>, kind: PolicyErrorKind) -> PolicyError {
        PolicyError {
            origin: self.origin.to_owned(),
            line: Some(self.line_of(at)),
            rule: rule.clone(),
            kind: Box::new(kind),
        }
    }

    /// An invalid-value error for `item` under `key`.
    fn invalid(
        &self,
        key: &'static str,
        item: &Spanned<String>,
        rule: &Option<RuleRef>,
        expected: String,
    ) -> PolicyError {
        self.error(
            item.span().start,
            rule,
            PolicyErrorKind::InvalidValue {
                key,
                value: item.get_ref().clone(),
                expected,
            },
        )
    }

    /// Each item of a non-empty list, parsed by `parse` (which says what is wrong on failure).
    fn list<T>(
        &self,
        key: &'static str,
        list: &List,
        rule: &Option<RuleRef>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, PolicyError> {
        if list.get_ref().is_empty() {
            return Err(self.error(list.span().start, rule, PolicyErrorKind::EmptyList { key }));
        }
        list.get_ref()
            .iter()
            .map(|item| {
                parse(item.get_ref()).map_err(|expected| self.invalid(key, item, rule, expected))
            })
            .collect()
    }

    /// `base` with the keys of `raw` applied.
    fn scope(
        &self,
        raw: &RawScope,
        base: Scope,
        rule: &Option<RuleRef>,
    ) -> Result<Scope, PolicyError> {
        let mut scope = base;
        if let Some(list) = &raw.matches {
            let kinds = self.list("match", list, rule, |s| match s {
                "known" => Ok(MatchKind::Known),
                "pattern" => Ok(MatchKind::Pattern),
                _ => Err("expected `known` or `pattern`".to_owned()),
            })?;
            scope.known = kinds.contains(&MatchKind::Known);
            scope.pattern = kinds.contains(&MatchKind::Pattern);
        }
        if let Some(value) = &raw.min_confidence {
            scope.min_confidence = Confidence::parse(value.get_ref()).ok_or_else(|| {
                self.invalid(
                    "min_confidence",
                    value,
                    rule,
                    "expected `low`, `medium` or `high`".to_owned(),
                )
            })?;
        }
        if let Some(list) = &raw.direction {
            let directions = self.list("direction", list, rule, |s| match s {
                "request" => Ok(Direction::Request),
                "response" => Ok(Direction::Response),
                _ => Err("expected `request` or `response`".to_owned()),
            })?;
            scope.request = directions.contains(&Direction::Request);
            scope.response = directions.contains(&Direction::Response);
        }
        if let Some(list) = &raw.country_fields {
            let mut fields = self.list("country_fields", list, rule, |s| {
                CountryField::parse(s).ok_or_else(|| {
                    "expected `org_country`, `parent_country` or `server_country`".to_owned()
                })
            })?;
            fields.sort();
            fields.dedup();
            scope.country_fields = fields;
        }
        Ok(scope)
    }

    /// Checks one `[[rule]]` (`position` is 1-based; `header` the offset of its header).
    fn rule(
        &self,
        raw: RawRule,
        position: usize,
        header: usize,
        defaults: &Scope,
    ) -> Result<Rule, PolicyError> {
        let Some(id) = &raw.id else {
            return Err(self.error(
                header,
                &Some(RuleRef::Position(position)),
                PolicyErrorKind::MissingId,
            ));
        };
        if let Err(expected) = check_rule_id(id.get_ref()) {
            return Err(self.invalid("id", id, &Some(RuleRef::Position(position)), expected));
        }
        let rule = Some(RuleRef::Id(id.get_ref().clone()));
        let scope = self.scope(
            &RawScope {
                matches: raw.matches,
                min_confidence: raw.min_confidence,
                direction: raw.direction,
                country_fields: raw.country_fields,
            },
            defaults.clone(),
            &rule,
        )?;
        let set = |list: Option<Vec<String>>| list.map(|v| v.into_iter().collect::<BTreeSet<_>>());
        let kinds = match &raw.kinds {
            Some(list) => Some(self.list("kinds", list, &rule, check_kind)?),
            None => None,
        };
        let countries = match &raw.countries {
            Some(list) => Some(self.list("countries", list, &rule, parse_country)?),
            None => None,
        };
        let orgs = match &raw.orgs {
            Some(list) => Some(self.list("orgs", list, &rule, check_org)?),
            None => None,
        };
        let domains = match &raw.domains {
            Some(list) => Some(self.list("domains", list, &rule, normalize_domain)?),
            None => None,
        };
        let party = match &raw.party {
            Some(value) => Some(match value.get_ref().as_str() {
                "first" => Party::First,
                "third" => Party::Third,
                _ => {
                    return Err(self.invalid(
                        "party",
                        value,
                        &rule,
                        "expected `first` or `third`".to_owned(),
                    ))
                }
            }),
            None => None,
        };
        let allow_orgs = match &raw.allow_orgs {
            Some(list) => Some(self.list("allow_orgs", list, &rule, check_org)?),
            None => None,
        };
        let allow_domains = match &raw.allow_domains {
            Some(list) => Some(self.list("allow_domains", list, &rule, normalize_domain)?),
            None => None,
        };
        let action = if allow_orgs.is_some() || allow_domains.is_some() {
            Action::Allow {
                orgs: set(allow_orgs).unwrap_or_default(),
                domains: allow_domains.unwrap_or_default(),
            }
        } else {
            Action::Deny
        };
        Ok(Rule {
            id: id.get_ref().clone(),
            description: raw.description,
            selector: Selector {
                scope,
                kinds: set(kinds),
                countries: set(countries),
                orgs: set(orgs),
                domains,
                party,
            },
            action,
        })
    }

    /// Checks `[coverage]`.
    fn coverage(&self, raw: RawCoverage) -> Result<Coverage, PolicyError> {
        let count = |key: &'static str, value: &Spanned<i64>| -> Result<u64, PolicyError> {
            u64::try_from(*value.get_ref()).map_err(|_| {
                self.error(
                    value.span().start,
                    &None,
                    PolicyErrorKind::InvalidValue {
                        key,
                        value: value.get_ref().to_string(),
                        expected: "expected a number of flows, 0 or more".to_owned(),
                    },
                )
            })
        };
        let reason = |s: &str| -> Result<String, String> {
            if NOT_INSPECTED_REASONS.contains(&s) {
                Ok(s.to_owned())
            } else {
                Err(format!(
                    "expected a reason a flow is not inspected: {}",
                    NOT_INSPECTED_REASONS.join(", ")
                ))
            }
        };
        let mut coverage = Coverage {
            max_uninspected_flows: match &raw.max_uninspected_flows {
                Some(v) => Some(count("coverage.max_uninspected_flows", v)?),
                None => None,
            },
            ignore_reasons: DEFAULT_IGNORED_REASONS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            min_inspected_flows: match &raw.min_inspected_flows {
                Some(v) => Some(count("coverage.min_inspected_flows", v)?),
                None => None,
            },
            fail_on_unknown_org: raw.fail_on_unknown_org.unwrap_or(false),
            fail_on_dropped_findings: raw.fail_on_dropped_findings.unwrap_or(false),
            ..Coverage::default()
        };
        if let Some(list) = &raw.ignore_reasons {
            if raw.max_uninspected_flows.is_none() {
                return Err(self.error(
                    list.span().start,
                    &None,
                    PolicyErrorKind::NoEffect {
                        key: "coverage.ignore_reasons",
                        why: "it only changes `max_uninspected_flows`, which is not set".to_owned(),
                    },
                ));
            }
            // An empty list is meaningful here: count every reason.
            coverage.ignore_reasons = list
                .get_ref()
                .iter()
                .map(|item| {
                    reason(item.get_ref()).map_err(|expected| {
                        self.invalid("coverage.ignore_reasons", item, &None, expected)
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        for (name, max) in raw.max_uninspected_by_reason.into_iter().flatten() {
            if let Err(expected) = reason(&name) {
                return Err(self.error(
                    max.span().start,
                    &None,
                    PolicyErrorKind::InvalidValue {
                        key: "coverage.max_uninspected_by_reason",
                        value: name,
                        expected,
                    },
                ));
            }
            let max = count("coverage.max_uninspected_by_reason", &max)?;
            coverage.max_uninspected_by_reason.insert(name, max);
        }
        Ok(coverage)
    }
}

/// Rule ids: letters, digits, `-`, `_` and `.`; `coverage.` is reserved for coverage checks.
fn check_rule_id(id: &str) -> Result<(), String> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("expected a non-empty id of letters, digits, '-', '_' and '.'".to_owned());
    }
    if id.starts_with("coverage.") {
        return Err("ids starting with `coverage.` are reserved for [coverage] checks".to_owned());
    }
    Ok(())
}

/// Kinds are lower-case snake_case names (`imei`, `advertising_id`, a profile's custom kind).
fn check_kind(kind: &str) -> Result<String, String> {
    let ok = kind.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(kind.to_owned())
    } else {
        Err(
            "expected a kind of data in lower-case snake_case, such as `imei` or \
             `advertising_id`"
                .to_owned(),
        )
    }
}

/// Organisation ids as in the entity data: lower-case letters, digits, `-`, `_`, `.`.
fn check_org(id: &str) -> Result<String, String> {
    let ok = !id.is_empty()
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        });
    if ok {
        Ok(id.to_owned())
    } else {
        let hint = if id.bytes().any(|b| b.is_ascii_uppercase()) {
            format!(" (write `{}`)", id.to_ascii_lowercase())
        } else {
            String::new()
        };
        Err(format!(
            "expected an organisation id from the entity data, in lower case, such as `xiaomi`{hint}"
        ))
    }
}

/// A domain as listed, lower-cased and without a final dot, or why it is not one.
fn normalize_domain(text: &str) -> Result<String, String> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = domain.strip_prefix("*.") {
        return Err(format!(
            "write `{rest}`: a listed domain already matches every name under it"
        ));
    }
    let ok = !domain.is_empty()
        && domain.split('.').all(|label| !label.is_empty())
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(domain)
    } else {
        Err(
            "expected a domain name such as `example.com` (letters, digits, '-', '_' and '.')"
                .to_owned(),
        )
    }
}

/// The rule whose text contains `offset`, if the file is readable loosely: its id, else its
/// position.
fn rule_around(text: &str, offset: usize) -> Option<RuleRef> {
    let loose: LoosePolicy = toml::from_str(text).ok()?;
    loose
        .rule
        .into_iter()
        .enumerate()
        .find(|(_, r)| r.span().contains(&offset))
        .map(|(i, r)| match r.into_inner().id {
            Some(toml::Value::String(id)) => RuleRef::Id(id),
            _ => RuleRef::Position(i + 1),
        })
}
