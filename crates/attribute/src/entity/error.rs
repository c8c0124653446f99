//! Why an entity file was rejected: the file, line and entity, and the reason.

use std::fmt;

/// An entity file that cannot be used: where (file, line, entity) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityError {
    /// The file (or other origin) the text came from, as given to the parser.
    pub origin: String,
    /// 1-based line of the offending key or entity, when known.
    pub line: Option<usize>,
    /// Id of the entity at fault, when the error belongs to one.
    pub entity: Option<String>,
    /// What is wrong.
    pub kind: EntityErrorKind,
}

/// What is wrong with an entity file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntityErrorKind {
    /// The text is not TOML of the documented shape (syntax, missing or unknown key, wrong type).
    Toml {
        /// The TOML parser's explanation on one line, without the position (that is in `line`).
        message: String,
    },
    /// Two entities have the same id.
    DuplicateId {
        /// Origin of the first entity with that id.
        first_origin: String,
        /// Line of the first entity with that id.
        first_line: usize,
    },
    /// A domain is claimed by two entities (or twice by one).
    DuplicateDomain {
        /// The domain.
        domain: String,
        /// Id of the entity that claimed it first.
        other: String,
    },
    /// A domain claimed by an entity is also listed as a shared hosting suffix.
    SharedHostingDomain {
        /// The domain.
        domain: String,
    },
    /// A shared hosting suffix is listed twice.
    DuplicateSharedSuffix {
        /// The suffix.
        suffix: String,
    },
    /// A domain rule or shared suffix is not a plain domain name.
    InvalidDomain {
        /// The domain as written.
        domain: String,
        /// Why it is not accepted.
        reason: &'static str,
    },
    /// A country field is not two upper-case ASCII letters.
    InvalidCountry {
        /// `country` or `incorporated`.
        field: &'static str,
        /// The value as written.
        value: String,
    },
    /// A required text field is empty.
    EmptyField {
        /// The field (`id`, `name`, `domains`, `sources`, a source).
        field: &'static str,
    },
    /// `domain_sources` names a domain the entity does not claim.
    UnknownDomainSource {
        /// The domain.
        domain: String,
    },
    /// `parent` names no entity.
    UnknownParent {
        /// The parent id as written.
        parent: String,
    },
    /// Following `parent` links comes back to where it started.
    ParentCycle {
        /// The ids on the cycle, in parent order, starting with the entity named in the error.
        cycle: Vec<String>,
    },
}

impl fmt::Display for EntityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ": line {line}")?;
        }
        if let Some(entity) = &self.entity {
            write!(f, ": entity `{entity}`")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl fmt::Display for EntityErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Toml { message } => write!(f, "{message}"),
            Self::DuplicateId {
                first_origin,
                first_line,
            } => write!(
                f,
                "duplicate id (first defined at {first_origin}: line {first_line})"
            ),
            Self::DuplicateDomain { domain, other } => {
                write!(
                    f,
                    "domain `{domain}` is already claimed by entity `{other}`"
                )
            }
            Self::SharedHostingDomain { domain } => write!(
                f,
                "domain `{domain}` is also listed in [shared_hosting] suffixes"
            ),
            Self::DuplicateSharedSuffix { suffix } => {
                write!(f, "shared hosting suffix `{suffix}` is listed twice")
            }
            Self::InvalidDomain { domain, reason } => {
                write!(f, "invalid domain `{domain}`: {reason}")
            }
            Self::InvalidCountry { field, value } => write!(
                f,
                "`{field}` = \"{value}\" is not an ISO 3166-1 alpha-2 code (two upper-case letters)"
            ),
            Self::EmptyField { field } => write!(f, "`{field}` must not be empty"),
            Self::UnknownDomainSource { domain } => write!(
                f,
                "`domain_sources` names `{domain}`, which is not in this entity's `domains`"
            ),
            Self::UnknownParent { parent } => {
                write!(f, "parent `{parent}` is not a known entity id")
            }
            Self::ParentCycle { cycle } => {
                write!(f, "parent cycle: {}", cycle.join(" -> "))?;
                if let Some(first) = cycle.first() {
                    write!(f, " -> {first}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for EntityError {}
