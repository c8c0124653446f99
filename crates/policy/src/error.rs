//! Why a policy file was rejected: the file, line and rule, and the reason.

use std::fmt;

/// A policy that cannot be used: where (file, line, rule) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// The file (or other origin) the text came from, as given to the parser.
    pub origin: String,
    /// 1-based line of the offending key, value or `[[rule]]` header, when known.
    pub line: Option<usize>,
    /// The rule at fault, when the error belongs to one.
    pub rule: Option<RuleRef>,
    /// What is wrong (boxed: errors travel by value and are rare).
    pub kind: Box<PolicyErrorKind>,
}

/// Names a `[[rule]]` in an error: by its id, or by its position when it has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleRef {
    /// The rule's `id`.
    Id(String),
    /// The rule's 1-based position among the `[[rule]]` tables (it has no usable id).
    Position(usize),
}

/// What is wrong with a policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The file could not be read.
    Io {
        /// The operating system's explanation.
        message: String,
    },
    /// The text is not TOML of the documented shape (syntax, unknown key, wrong type).
    Toml {
        /// The TOML parser's explanation on one line, without the position (that is in `line`).
        message: String,
    },
    /// A `[[rule]]` has no `id`.
    MissingId,
    /// Two rules have the same id.
    DuplicateId {
        /// Line of the first rule with that id.
        first_line: usize,
    },
    /// A value is not one the key accepts.
    InvalidValue {
        /// The key (`countries`, `min_confidence`…).
        key: &'static str,
        /// The value as written.
        value: String,
        /// What the key accepts, in words.
        expected: String,
    },
    /// A list is empty (omit the key instead).
    EmptyList {
        /// The key.
        key: &'static str,
    },
    /// A key is set that changes nothing as the policy stands.
    NoEffect {
        /// The key.
        key: &'static str,
        /// Why it has no effect.
        why: String,
    },
    /// The policy has neither rules nor coverage checks, so it could never be violated.
    NothingToCheck,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "rule `{id}`"),
            Self::Position(n) => write!(f, "rule #{n}"),
        }
    }
}

impl fmt::Display for PolicyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { message } => write!(f, "cannot read the policy: {message}"),
            Self::Toml { message } => f.write_str(message),
            Self::MissingId => f.write_str("`id` is missing (every rule needs a unique id)"),
            Self::DuplicateId { first_line } => {
                write!(f, "duplicate id (first used at line {first_line})")
            }
            Self::InvalidValue {
                key,
                value,
                expected,
            } => write!(f, "`{key}` = {value:?}: {expected}"),
            Self::EmptyList { key } => write!(
                f,
                "`{key}` is empty; omit the key to leave the rule unrestricted there"
            ),
            Self::NoEffect { key, why } => write!(f, "`{key}` has no effect: {why}"),
            Self::NothingToCheck => {
                f.write_str("the policy has no [[rule]] and no [coverage] check")
            }
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ": line {line}")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, ": {rule}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for PolicyError {}
