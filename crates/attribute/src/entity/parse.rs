//! Entity file text → checked [`Entity`] records: TOML shape, field formats and per-entity rules.
//! Checks that need every entity at once (duplicates, parents) happen when the database is built.

use super::{Entity, EntityError, EntityErrorKind, EntityKind, SharedSuffix};
use crate::is_domain_byte;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The checked content of one entity file.
pub(super) struct EntityFile {
    /// Entities in file order.
    pub entities: Vec<Entity>,
    /// Shared hosting suffixes in file order.
    pub shared: Vec<SharedSuffix>,
    /// Evidence for the shared hosting list.
    pub shared_sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    shared_hosting: Option<RawSharedHosting>,
    #[serde(default)]
    entity: Vec<RawEntity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSharedHosting {
    suffixes: Vec<Spanned<String>>,
    #[serde(default)]
    sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    id: Spanned<String>,
    name: Spanned<String>,
    country: Spanned<String>,
    #[serde(default)]
    incorporated: Option<Spanned<String>>,
    #[serde(default)]
    parent: Option<Spanned<String>>,
    #[serde(default)]
    kind: Option<EntityKind>,
    domains: Spanned<Vec<Spanned<String>>>,
    sources: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    domain_sources: BTreeMap<String, Spanned<Vec<String>>>,
    #[serde(default)]
    note: Option<String>,
}

/// Just enough shape to name the entity around a TOML error.
#[derive(Deserialize)]
struct LooseFile {
    #[serde(default)]
    entity: Vec<Spanned<LooseEntity>>,
}

#[derive(Deserialize)]
struct LooseEntity {
    #[serde(default)]
    id: Option<toml::Value>,
}

/// Parses and checks one entity file. `origin` names it in errors.
pub(super) fn parse_entity_file(text: &str, origin: &str) -> Result<EntityFile, EntityError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|span| span.start);
        EntityError {
            origin: origin.to_owned(),
            line: offset.map(|at| line_of(text, at)),
            entity: offset.and_then(|at| entity_around(text, at)),
            kind: EntityErrorKind::Toml {
                message: e
                    .message()
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("; "),
            },
        }
    })?;
    let mut file = EntityFile {
        entities: Vec::with_capacity(raw.entity.len()),
        shared: Vec::new(),
        shared_sources: Vec::new(),
    };
    if let Some(shared) = raw.shared_hosting {
        for suffix in shared.suffixes {
            let line = line_of(text, suffix.span().start);
            let suffix = normalize_rule(suffix.get_ref()).map_err(|reason| EntityError {
                origin: origin.to_owned(),
                line: Some(line),
                entity: None,
                kind: EntityErrorKind::InvalidDomain {
                    domain: suffix.get_ref().clone(),
                    reason,
                },
            })?;
            file.shared.push(SharedSuffix {
                suffix,
                origin: origin.to_owned(),
                line,
            });
        }
        file.shared_sources = shared.sources;
    }
    for raw_entity in raw.entity {
        file.entities.push(check_entity(raw_entity, text, origin)?);
    }
    Ok(file)
}

/// Checks the fields of one entity and lower-cases its domains.
fn check_entity(raw: RawEntity, text: &str, origin: &str) -> Result<Entity, EntityError> {
    let id = raw.id.get_ref().trim().to_owned();
    let entity_line = line_of(text, raw.id.span().start);
    let fail = |at: usize, kind: EntityErrorKind| EntityError {
        origin: origin.to_owned(),
        line: Some(line_of(text, at)),
        entity: (!id.is_empty()).then(|| id.clone()),
        kind,
    };
    if id.is_empty() {
        return Err(fail(
            raw.id.span().start,
            EntityErrorKind::EmptyField { field: "id" },
        ));
    }
    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty() {
        return Err(fail(
            raw.name.span().start,
            EntityErrorKind::EmptyField { field: "name" },
        ));
    }
    let country =
        check_country(&raw.country, "country").map_err(|k| fail(raw.country.span().start, k))?;
    let incorporated = match &raw.incorporated {
        Some(code) => {
            Some(check_country(code, "incorporated").map_err(|k| fail(code.span().start, k))?)
        }
        None => None,
    };
    let parent = match &raw.parent {
        Some(parent) if parent.get_ref().trim().is_empty() => {
            return Err(fail(
                parent.span().start,
                EntityErrorKind::EmptyField { field: "parent" },
            ))
        }
        Some(parent) => Some(parent.get_ref().trim().to_owned()),
        None => None,
    };
    if raw.domains.get_ref().is_empty() {
        return Err(fail(
            raw.domains.span().start,
            EntityErrorKind::EmptyField { field: "domains" },
        ));
    }
    let mut domains = Vec::with_capacity(raw.domains.get_ref().len());
    for domain in raw.domains.get_ref() {
        let normal = normalize_rule(domain.get_ref()).map_err(|reason| {
            fail(
                domain.span().start,
                EntityErrorKind::InvalidDomain {
                    domain: domain.get_ref().clone(),
                    reason,
                },
            )
        })?;
        domains.push(normal);
    }
    if raw.sources.get_ref().is_empty() {
        return Err(fail(
            raw.sources.span().start,
            EntityErrorKind::EmptyField { field: "sources" },
        ));
    }
    let mut sources = Vec::with_capacity(raw.sources.get_ref().len());
    for source in raw.sources.get_ref() {
        let value = source.get_ref().trim();
        if value.is_empty() {
            return Err(fail(
                source.span().start,
                EntityErrorKind::EmptyField { field: "source" },
            ));
        }
        sources.push(value.to_owned());
    }
    let mut domain_sources = BTreeMap::new();
    for (domain, evidence) in raw.domain_sources {
        let at = evidence.span().start;
        let known = normalize_rule(&domain)
            .ok()
            .filter(|normal| domains.contains(normal));
        let Some(normal) = known else {
            return Err(fail(at, EntityErrorKind::UnknownDomainSource { domain }));
        };
        let evidence: Vec<String> = evidence
            .into_inner()
            .into_iter()
            .map(|s| s.trim().to_owned())
            .collect();
        if evidence.is_empty() || evidence.iter().any(String::is_empty) {
            return Err(fail(at, EntityErrorKind::EmptyField { field: "source" }));
        }
        domain_sources.insert(normal, evidence);
    }
    Ok(Entity {
        id,
        name,
        country,
        incorporated,
        parent,
        kind: raw.kind,
        domains,
        sources,
        domain_sources,
        note: raw
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        origin: origin.to_owned(),
        line: entity_line,
    })
}

/// An ISO 3166-1 alpha-2 code: exactly two upper-case ASCII letters (assignment is not checked).
fn check_country(value: &Spanned<String>, field: &'static str) -> Result<String, EntityErrorKind> {
    let code = value.get_ref();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code.clone())
    } else {
        Err(EntityErrorKind::InvalidCountry {
            field,
            value: code.clone(),
        })
    }
}

/// The lower-case form of a domain rule, or why it is not a plain domain name of two labels or more.
pub(super) fn normalize_rule(domain: &str) -> Result<String, &'static str> {
    let domain = domain.to_ascii_lowercase();
    if domain.is_empty() {
        return Err("empty");
    }
    if domain.len() > 253 {
        return Err("longer than 253 characters");
    }
    if domain.starts_with('.') || domain.ends_with('.') {
        return Err("write the bare domain, without a leading or trailing dot");
    }
    if !domain.bytes().all(is_domain_byte) {
        return Err("only letters, digits, '-', '_' and '.' are allowed (write internationalised names as xn--)");
    }
    let mut labels = 0usize;
    for label in domain.split('.') {
        if label.is_empty() {
            return Err("empty label");
        }
        if label.len() > 63 {
            return Err("label longer than 63 characters");
        }
        labels += 1;
    }
    if labels < 2 {
        return Err("a single label would claim a whole top-level domain");
    }
    if domain
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("looks like an IP address");
    }
    Ok(domain)
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.bytes().take(offset).filter(|&b| b == b'\n').count() + 1
}

/// The id of the `[[entity]]` table whose text contains `offset`, if the file is readable loosely.
fn entity_around(text: &str, offset: usize) -> Option<String> {
    let loose: LooseFile = toml::from_str(text).ok()?;
    loose
        .entity
        .into_iter()
        .find(|e| e.span().contains(&offset))
        .and_then(|e| e.into_inner().id)
        .and_then(|id| id.as_str().map(str::to_owned))
}
