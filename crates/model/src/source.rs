//! Where a message or flow came from.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The input location of a message: the file and either the 1-based frame number of the packet
/// that completed it (captures) or the 1-based entry number (HAR).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    /// The input file as given on the command line.
    pub file: Arc<str>,
    /// 1-based frame (packet) number within the file, for captures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
    /// 1-based entry number within `log.entries`, for HAR files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
}

impl SourceRef {
    /// A packet in a capture file.
    pub fn frame(file: Arc<str>, frame: u64) -> Self {
        Self {
            file,
            frame: Some(frame),
            entry: None,
        }
    }

    /// An entry in a HAR file.
    pub fn entry(file: Arc<str>, entry: u64) -> Self {
        Self {
            file,
            frame: None,
            entry: Some(entry),
        }
    }
}
