//! The crate's error type: why a TLS structure could not be parsed.

use std::fmt;

/// Why a TLS structure (handshake message, extension, record) could not be parsed.
///
/// `what` names the field being read, so a report can say exactly where the bytes went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsError {
    /// The input ends before the field does.
    Truncated {
        /// The field being read.
        what: &'static str,
    },
    /// A length field disagrees with the bytes around it (odd list length, trailing bytes…).
    BadLength {
        /// The field whose length is wrong.
        what: &'static str,
    },
    /// A field holds a value the protocol forbids (wrong message type, empty list…).
    BadValue {
        /// The field whose value is wrong.
        what: &'static str,
    },
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what } => write!(f, "truncated {what}"),
            Self::BadLength { what } => write!(f, "bad length of {what}"),
            Self::BadValue { what } => write!(f, "bad value of {what}"),
        }
    }
}

impl std::error::Error for TlsError {}
