//! Problems with the input that do not stop the analysis.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// What kind of problem a [`Warning`] reports. Serialised in snake_case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningCode {
    /// The file ends in the middle of a block, record or packet.
    Truncated,
    /// A structure in the input is invalid (bad magic, bad length, bad JSON…).
    Malformed,
    /// A packet's link type or protocol is not supported; it was skipped.
    Unsupported,
    /// A configured limit (body size, decode depth, buffer…) was hit; data beyond it was dropped.
    Limit,
    /// TCP reassembly saw a hole (lost or snap-length-cut data).
    Gap,
    /// Two TCP segments overlapped with different bytes; the first copy was kept.
    Overlap,
    /// A body could not be content-decoded (bad gzip, unknown coding…).
    Decode,
    /// A device-profile value is suspicious (bad IMEI check digit, not a MAC…).
    Profile,
}

impl WarningCode {
    /// The snake_case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Truncated => "truncated",
            Self::Malformed => "malformed",
            Self::Unsupported => "unsupported",
            Self::Limit => "limit",
            Self::Gap => "gap",
            Self::Overlap => "overlap",
            Self::Decode => "decode",
            Self::Profile => "profile",
        }
    }
}

/// A problem with the input: which file, where in it, and why. Warnings never stop the analysis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// What kind of problem this is.
    pub code: WarningCode,
    /// The input file (or profile) the problem is in.
    pub file: Arc<str>,
    /// Byte offset in the (decompressed) file where the problem starts, when known.
    pub offset: Option<u64>,
    /// 1-based frame number (captures) the problem belongs to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
    /// 1-based HAR entry the problem belongs to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
    /// Human-readable reason, precise enough to act on.
    pub reason: String,
}

impl Warning {
    /// A warning about `file` with no position yet.
    pub fn new(code: WarningCode, file: Arc<str>, reason: impl Into<String>) -> Self {
        Self {
            code,
            file,
            offset: None,
            frame: None,
            entry: None,
            reason: reason.into(),
        }
    }

    /// Sets the byte offset.
    pub fn at_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Sets the frame number.
    pub fn at_frame(mut self, frame: u64) -> Self {
        self.frame = Some(frame);
        self
    }

    /// Sets the HAR entry number.
    pub fn at_entry(mut self, entry: u64) -> Self {
        self.entry = Some(entry);
        self
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(o) = self.offset {
            write!(f, ": offset {o}")?;
        }
        if let Some(fr) = self.frame {
            write!(f, ": frame {fr}")?;
        }
        if let Some(e) = self.entry {
            write!(f, ": entry {e}")?;
        }
        write!(f, ": {}: {}", self.code.as_str(), self.reason)
    }
}
