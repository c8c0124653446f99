//! Findings: personal data seen leaving the device.

use crate::{Direction, NameSource, SourceRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `type` of a finding record.
fn finding_type() -> &'static str {
    "finding"
}

/// How a finding was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MatchKind {
    /// A value listed in the device profile.
    Known,
    /// Something shaped like personal data that the profile does not list (an IMEI-shaped number,
    /// a value under a telling key, an app list, a media upload…), with a `reason`.
    Pattern,
    /// A field whose values behave like an identifier when runs are compared (`phonehome diff`):
    /// `details` say the endpoint, the field and the class.
    Differential,
}

/// The transport part of a finding.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FindingTransport {
    /// Client address and port, when known.
    pub client: Option<String>,
    /// Server address and port, when known.
    pub server: Option<String>,
    /// TLS version, when over TLS.
    pub tls: Option<String>,
    /// HTTP version.
    pub http: Option<String>,
    /// TLS server name.
    pub sni: Option<String>,
}

/// Who receives the data: the attribution stage's answers (null when unknown). Three claims kept
/// apart: who controls the destination (`org`, `org_country`, `parent`), where its server's
/// address block is registered (`server_country`) and which network announces it (`asn`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Destination {
    /// The host name attributed (the `Host`, `:authority`, SNI, DNS name…), lower case.
    pub name: Option<String>,
    /// Where that name came from.
    pub name_source: Option<NameSource>,
    /// Registrable domain from the Public Suffix List.
    pub domain: Option<String>,
    /// Organisation that controls the domain.
    pub org: Option<OrgRef>,
    /// Headquarters country of the organisation (ISO 3166-1 alpha-2).
    pub org_country: Option<String>,
    /// Country of incorporation, when the entity data gives one that differs (`KY`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incorporated: Option<String>,
    /// The organisation's parent company.
    pub parent: Option<OrgRef>,
    /// Headquarters country of the parent.
    pub parent_country: Option<String>,
    /// The entity-data domain rule that matched (`miui.com`) and the file it came from.
    pub org_rule: Option<String>,
    /// Evidence for the organisation: company sites, filings, WHOIS records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub org_evidence: Vec<String>,
    /// Whether the receiver is the device's vendor (or its group) or a third party; null when the
    /// profile names no vendor or the organisation is unknown.
    pub party: Option<Party>,
    /// The server's IP address.
    pub server_ip: Option<String>,
    /// Declared country of the server's IP block (registration data: where the holder declares
    /// the block, not where the machine stands).
    pub server_country: Option<String>,
    /// The database `server_country` comes from.
    pub server_country_source: Option<String>,
    /// Autonomous system number of the server's IP.
    pub asn: Option<u32>,
    /// Name of that autonomous system.
    pub asn_org: Option<String>,
}

/// An organisation: an id from the entity data and a display name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgRef {
    /// Entity id (`xiaomi`).
    pub id: String,
    /// Display name (`Xiaomi`).
    pub name: String,
}

/// Whether a receiver belongs to the device's vendor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The vendor itself, its parent or a company of its group.
    First,
    /// Anyone else.
    Third,
}

/// One piece of personal data seen in a message. The JSON field order is part of the contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Always `"finding"` in JSON Lines.
    #[serde(rename = "type", skip_deserializing, default = "finding_type")]
    pub record_type: &'static str,
    /// Kind of data: `imei`, `serial`, `android_id`, … or a custom kind.
    pub kind: String,
    /// How it matched.
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    /// Which profile entry matched (`imei #1`, `contact "Priya Shah"`…).
    pub label: String,
    /// The profile value that was found.
    pub value: String,
    /// Which variant was found: `plain`, `formatted`, `md5`, `sha1`, `sha256`…
    pub form: String,
    /// The exact string that was hashed or formatted.
    pub preimage: String,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// How many times this value was found at this destination and place.
    pub count: u64,
    /// Why a `pattern` finding was reported (absent for `known`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Extra facts about the match (media type and size, app-list count…), when any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    /// For coordinates: decimals of the pair that was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    /// For coordinates: the uncertainty those decimals leave, in metres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision_m: Option<f64>,
    /// Request or response.
    pub direction: Direction,
    /// Time of the first occurrence.
    pub time: Option<String>,
    /// Time of the first occurrence (same as `time`).
    pub first_time: Option<String>,
    /// Time of the last occurrence.
    pub last_time: Option<String>,
    /// Host as sent by the client.
    pub host: Option<String>,
    /// Request method.
    pub method: Option<String>,
    /// Request URL.
    pub url: String,
    /// Where in the message: `url`, `header:<name>`, `cookie:<name>`, `body`.
    #[serde(rename = "where")]
    pub location: String,
    /// The decodings from the message part to the value, outermost first.
    pub chain: Vec<String>,
    /// Transport of the first occurrence.
    pub transport: FindingTransport,
    /// Who receives it.
    pub destination: Destination,
    /// Which of `org_country`, `parent_country` and `server_country` are in the `--watch` list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watch: Vec<String>,
    /// Where in the input the first occurrence is.
    pub source: SourceRef,
}
