//! The data model every phonehome stage speaks.
//!
//! phonehome is a pipeline (`ingest → flow → protocol → message → decode → detect → attribute →
//! report`). This crate holds the types that cross stage boundaries and nothing else, so that every
//! stage can depend on it and on no other stage:
//!
//! - [`Message`]: one HTTP request or response (or DNS query, later), with its [`Transport`] and
//!   [`SourceRef`]. It is the *source-agnostic* unit: a message built from a pcap and one built from a
//!   HAR entry look the same to `decode`, `detect`, `attribute` and `report`.
//! - [`FlowRecord`]: one TCP/UDP flow, whether or not it could be inspected.
//! - [`Finding`]: one piece of personal data found in a message, with its decode chain.
//! - [`Warning`]: a problem with the input (file, byte offset, reason); never fatal by itself.
//! - [`Limits`]: the caps that bound memory and work whatever the input.
//! - [`Summary`]: the closing record of a run (inputs with their SHA-256, totals, versions).
//! - [`Timestamp`]: UTC time with nanosecond resolution, printed as RFC 3339 with microseconds.
//!
//! ```
//! use phonehome_model::Timestamp;
//! let t = Timestamp::from_unix_nanos(1_795_989_938_123_456_000);
//! assert_eq!(t.to_rfc3339(), "2026-11-29T22:05:38.123456Z");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod finding;
mod flow;
mod limits;
mod message;
mod source;
mod summary;
mod time;
mod warning;

pub use finding::{Destination, Finding, FindingTransport, MatchKind, OrgRef, Party};
pub use flow::{FlowName, FlowRecord, NameSource, NotInspected, Protocol};
pub use limits::Limits;
pub use message::{Body, Direction, Header, Message, Transport};
pub use source::SourceRef;
pub use summary::{Counts, InputSummary, KeyLogSummary, PolicyOutcome, Summary, Violation};
pub use time::Timestamp;
pub use warning::{Warning, WarningCode};

/// Version of the JSON Lines output schema; bumped when a field changes meaning or is removed.
pub const SCHEMA_VERSION: u32 = 1;
