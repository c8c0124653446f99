//! The closing record of a run.

use crate::Limits;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One input file of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSummary {
    /// The file as named on the command line.
    pub file: String,
    /// SHA-256 of the file's bytes as stored (before any gzip decompression), lower-case hex.
    pub sha256: Option<String>,
    /// `pcap`, `pcapng` or `har`; `null` when the file could not be read at all.
    pub format: Option<String>,
    /// Whether the file was gzip-compressed.
    pub gzip: bool,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Frames (captures) or entries (HAR) read.
    pub records: u64,
    /// Why the file could not be read at all, when it could not.
    pub error: Option<String>,
}

/// Counters over a whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Messages built (requests and responses).
    pub messages: u64,
    /// Of which requests.
    pub requests: u64,
    /// TCP/UDP flows seen.
    pub flows: u64,
    /// Of which were inspected.
    pub flows_inspected: u64,
    /// Flows not inspected, by reason.
    pub flows_not_inspected: BTreeMap<String, u64>,
    /// Finding records (after de-duplication).
    pub findings: u64,
    /// Occurrences those findings stand for (sum of `count`).
    pub occurrences: u64,
    /// New findings not listed because the cap on distinct findings was reached.
    pub findings_dropped: u64,
    /// Warnings raised.
    pub warnings: u64,
}

/// The TLS key material given with `--keylog`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLogSummary {
    /// The key log files, in command-line order.
    pub files: Vec<String>,
    /// TLS sessions (client randoms) with at least one secret.
    pub sessions: u64,
    /// Lines with labels phonehome does not use (`EXPORTER_SECRET`…), counted by label.
    pub ignored: BTreeMap<String, u64>,
}

/// The last JSON Lines record: what was read, with which tool and data, and the totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The tool name and version (`phonehome 0.1.0`).
    pub tool: String,
    /// The output schema version ([`crate::SCHEMA_VERSION`]).
    pub schema: u32,
    /// The device profile's name, when one was given.
    pub device: Option<String>,
    /// The device profile file, when one was given.
    pub profile: Option<String>,
    /// The inputs, in command-line order.
    pub inputs: Vec<InputSummary>,
    /// Totals.
    pub counts: Counts,
    /// Versions of the data compiled into the tool (e.g. the Public Suffix List).
    pub data: BTreeMap<String, String>,
    /// The caps in force.
    pub limits: Limits,
    /// Countries of concern (`--watch`), when any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watch: Vec<String>,
    /// The device's vendor (an entity id), from the profile's `[device] vendor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The `--keylog` files and what they held, when any were given.
    pub keylog: Option<KeyLogSummary>,
    /// First and last message time (RFC 3339), when any.
    pub time_span: Option<(String, String)>,
    /// Whether values taken from traffic were redacted (`--redact`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// The policy evaluated (`--policy`) and its violations, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyOutcome>,
}

/// What a policy (`--policy`) said about a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyOutcome {
    /// The policy file, as given.
    pub file: String,
    /// The policy's name, when it has one.
    pub name: Option<String>,
    /// How many rules were evaluated.
    pub rules: u32,
    /// Every violation, in the policy's rule order.
    pub violations: Vec<Violation>,
}

/// One breach of one policy rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The rule's id in the policy file.
    pub rule: String,
    /// What was breached, in one sentence (`imei sent to Xiaomi (CN) at tracking.intl.miui.com`).
    pub reason: String,
    /// Indices of the findings that breach it, in the report's finding order (empty for coverage
    /// rules such as `max_uninspected_flows`).
    #[serde(default)]
    pub findings: Vec<usize>,
}
