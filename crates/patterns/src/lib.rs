//! Pattern detectors: personal data that the device profile did *not* list.
//!
//! phonehome's pipeline is `ingest → flow → protocol → message → decode → detect → attribute →
//! report`. This crate belongs to the `detect` stage, beside the known-value detector of
//! `phonehome-detect`: where that one looks for the profile's values, this one looks for the
//! *shapes* of personal data (a Luhn-valid IMEI, a MAC address, a valid phone number, a photo…)
//! and for values stored under *telling keys* (`imei`, `oaid`, `SIM1_IMSI`, `wifiMac`…), so that
//! identifiers nobody listed are still reported. Every hit says why, with a [`Confidence`].
//!
//! Main items: [`PatternScanner`] (with [`PatternScanner::scan_node`] for one decoded node and
//! [`PatternScanner::scan_group`] for the leaves under one parent), [`PatternHit`],
//! [`Confidence`], [`key_kind`], [`node_key`] and [`normalize_key`].
//!
//! # Input
//!
//! A node is what `phonehome-decode`'s walk hands out: a location, a chain and bytes. The key of a
//! node is the name its last chain element selects ([`node_key`]: `json:$.device.imei` → `imei`,
//! `form:imei` → `imei`, `query:gaid` → `gaid`; a header's name when the chain is empty); nodes
//! reached through a transform (`base64`, `gzip`) have no key. A *group* is the leaves under one
//! parent as `(key, bytes)` pairs: the members of one JSON object, the fields of one form. For a
//! JSON array, pass its elements with the array's key; for an array of objects, grouping leaves by
//! their path with array indices wildcarded (`$.apps[*].pkg`) lets [`PatternScanner::scan_group`]
//! see the whole column.
//!
//! # Detectors and confidence
//!
//! | kind | shape (no key) | confidence without key | with a telling key |
//! |---|---|---|---|
//! | `imei` | 15 digits, Luhn-valid, TAC starting with a GSMA reporting body (01, 10, 30, 33, 35, 44, 45, 49–54, 86, 91, 98, 99) | medium | high (14–16 digits accepted) |
//! | `imsi` | 15 digits, a mobile country code in use and a network in the compact MNC table | medium (an MCC alone is not reported: one 15-digit number in four starts with one) | high (14–15 digits, any MCC in use) |
//! | `iccid` | 19–20 digits starting with 89, Luhn-valid | medium | high (18–20 digits, Luhn optional) |
//! | `meid` | 14 hex digits, manufacturer code A0–FF, one case | low | high (also 18 decimal digits) |
//! | `mac` | six hex octets separated by `:` or `-` | medium | high (also no separators or Cisco `.`) |
//! | `advertising_id` | a version-4 UUID | low | high (any UUID, 16/32/64 hex digits) |
//! | `phone_number` | `+` and 8–15 digits that libphonenumber calls valid | medium | high (national forms with the scanner's region) |
//! | `email` | `local@domain.tld`, bounded | medium (low for role accounts and unknown TLDs) | high |
//! | `location` | `lat,lon` with ≥ 3 decimals each, isolated | medium | high |
//! | `app_list` | ≥ 5 Android package names, ≥ 60 % of a list | medium | high |
//! | `media` | magic bytes at offset 0, header parsed | high (medium when only the magic matched) | — |
//! | `call_log` | (group) a phone number beside a duration key | high; medium beside a call-time key, low beside another timestamp | — |
//! | key's kind | any non-placeholder value under a telling key | — | medium (low for ambiguous keys such as `cid`, `lac`, `tac`), high when the value has the kind's shape |
//!
//! Never reported: the all-zero UUID (ads opted out), broadcast, zero and multicast MACs and
//! Android's fake MAC `02:00:00:00:00:00`, Luhn-valid 15-digit numbers whose TAC starts with no
//! reporting body (one random number in ten passes Luhn), version-1/3/5 UUIDs without a key,
//! numbers that libphonenumber does not call valid, national-format numbers without a phone key,
//! placeholders (`unknown`, `null`, `0`, `000000000000000`, `<unknown ssid>`) under any key.
//! libphonenumber also rejects reserved fiction ranges such as Ofcom's `+44 7700 900xxx`; under
//! a phone key such digits are still a medium finding.
//!
//! The same value can be reported more than once: a JSON body is scanned whole (no key) and leaf
//! by leaf (with keys), and a latitude leaf gives a medium `location` while its group gives the
//! high pair. Fold hits of one message by kind and value, keeping the highest confidence.
//!
//! # Bounds
//!
//! Every scan is linear in its input: at most [`MAX_TEXT_SCAN_BYTES`] of a node are scanned for
//! text patterns, at most [`MAX_HITS_PER_NODE`] hits are kept per call, at most
//! [`MAX_PHONE_CANDIDATES`] numbers per node are handed to libphonenumber, at most
//! [`MAX_GROUP_SIBLINGS`] siblings of a group are looked at, and media headers are walked for at
//! most [`MAX_MEDIA_HEADER_BYTES`].
//!
//! ```
//! use phonehome_patterns::{Confidence, PatternScanner};
//!
//! let scanner = PatternScanner::new(Some("GB"));
//! let mut hits = Vec::new();
//! scanner.scan_node(Some("deviceImei"), b"356938035643809", &mut hits);
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].kind, "imei");
//! assert_eq!(hits[0].confidence, Confidence::High);
//!
//! hits.clear();
//! let body = br#"{"to": "+44 7400 123456", "ad": "00000000-0000-0000-0000-000000000000"}"#;
//! scanner.scan_node(None, body, &mut hits);
//! // The phone number is found; the all-zero advertising id means "opted out" and is not.
//! assert_eq!(hits.len(), 1);
//! assert_eq!((hits[0].kind.as_str(), hits[0].confidence), ("phone_number", Confidence::Medium));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod app_list;
mod call_log;
mod device_ids;
mod email;
mod keyed;
mod keys;
mod location;
mod media;
mod numbering;
mod phone;

use std::collections::BTreeMap;
use std::fmt;

pub use app_list::MIN_APP_LIST;
pub use keys::{key_kind, node_key, normalize_key, MAX_KEY_LEN};
pub use media::MAX_MEDIA_HEADER_BYTES;
pub use phone::MAX_PHONE_CANDIDATES;

/// Most hits kept from one [`PatternScanner::scan_node`] or [`PatternScanner::scan_group`] call.
pub const MAX_HITS_PER_NODE: usize = 64;

/// Most bytes of one node scanned for text patterns (identifiers, numbers, addresses); the rest of
/// a larger node is not scanned. Media sniffing only reads the header.
pub const MAX_TEXT_SCAN_BYTES: usize = 8 << 20;

/// Most siblings of one group looked at by [`PatternScanner::scan_group`]; later ones are ignored.
pub const MAX_GROUP_SIBLINGS: usize = 4096;

/// Longest value, in bytes, checked as "the value under a telling key": longer values are text,
/// not identifiers (their content is still scanned for shapes).
pub const MAX_KEYED_VALUE_LEN: usize = 128;

/// How sure a pattern hit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// The shape fits, but ordinary content has it too (a version-4 UUID, a role e-mail account).
    Low,
    /// The shape fits and is rare in ordinary content, or a telling key holds some value.
    Medium,
    /// A telling key and the right shape agree, or the structure was parsed (media, call logs).
    High,
}

impl Confidence {
    /// `low`, `medium` or `high`, as in phonehome-model's `Finding::confidence`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of personal data found by its shape or its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternHit {
    /// `imei`, `meid`, `imsi`, `iccid`, `mac`, `bssid`, `advertising_id`, `oaid`, `android_id`,
    /// `device_id`, `serial`, `phone_number`, `email`, `location`, `cell_id`, `wifi_ssid`,
    /// `app_list`, `media` or `call_log`.
    pub kind: String,
    /// The matched text, or a summary (media, app lists, location pairs from siblings).
    pub value: String,
    /// Start of the match, in bytes, in the scanned node (for group hits: in the sibling named by
    /// `details["sibling"]`).
    pub start: usize,
    /// End of the match (exclusive), like `start`.
    pub end: usize,
    /// How sure the hit is.
    pub confidence: Confidence,
    /// Why, for a human: "Luhn-valid 15 digits with TAC 35693803 (reporting body 35: BABT, UK)".
    pub reason: String,
    /// Kind-specific facts: media `type`, `mime`, `size`, `width`, `height`; app lists `count`;
    /// phone numbers `e164`, `region`; group hits `sibling`, …
    pub details: BTreeMap<String, String>,
}

impl PatternHit {
    /// A hit with no details.
    pub(crate) fn new(
        kind: &str,
        value: impl Into<String>,
        range: std::ops::Range<usize>,
        confidence: Confidence,
        reason: impl Into<String>,
    ) -> Self {
        PatternHit {
            kind: kind.to_string(),
            value: value.into(),
            start: range.start,
            end: range.end,
            confidence,
            reason: reason.into(),
            details: BTreeMap::new(),
        }
    }

    /// Adds one detail.
    pub(crate) fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }
}

/// A bounded list of hits: pushes past the cap are dropped.
pub(crate) struct Hits {
    list: Vec<PatternHit>,
}

impl Hits {
    fn new() -> Self {
        Hits { list: Vec::new() }
    }

    /// Adds a hit unless [`MAX_HITS_PER_NODE`] are already kept.
    pub(crate) fn push(&mut self, hit: PatternHit) {
        if self.list.len() < MAX_HITS_PER_NODE {
            self.list.push(hit);
        }
    }

    /// True when no more hits are kept.
    pub(crate) fn full(&self) -> bool {
        self.list.len() >= MAX_HITS_PER_NODE
    }
}

/// Scans decoded nodes for personal data by shape and by key.
#[derive(Clone, Debug)]
pub struct PatternScanner {
    /// The device's region, for phone numbers written without a country code.
    region: Option<phonenumber::country::Id>,
}

impl PatternScanner {
    /// A scanner; `region` is the device's ISO 3166-1 region (`GB`), used to read national-format
    /// phone numbers under phone keys. An unknown region is ignored.
    pub fn new(region: Option<&str>) -> Self {
        let region = region.and_then(|r| r.trim().to_ascii_uppercase().parse().ok());
        PatternScanner { region }
    }

    /// Scans one leaf/node and appends its hits (at most [`MAX_HITS_PER_NODE`]) to `out`.
    ///
    /// `key` is the last chain element's key when it is a selector (see [`node_key`]), else
    /// `None`. A node whose bytes start with a media header gives one `media` hit and nothing
    /// else. Otherwise the text detectors run over the first [`MAX_TEXT_SCAN_BYTES`]; when the
    /// key is telling, hits of its kind are raised to high, and when none has its kind the value
    /// itself is checked against the key's rule.
    pub fn scan_node(&self, key: Option<&str>, data: &[u8], out: &mut Vec<PatternHit>) {
        if let Some(hit) = media::sniff(data) {
            out.push(hit);
            return;
        }
        let text = data.get(..MAX_TEXT_SCAN_BYTES).unwrap_or(data);
        let class = key.and_then(keys::classify_key);
        let mut hits = Hits::new();
        device_ids::scan(text, &mut hits);
        phone::scan(text, &mut hits);
        email::scan(text, &mut hits);
        location::scan(text, &mut hits);
        app_list::scan(text, &mut hits);
        if let (Some(class), Some(key)) = (class, key) {
            keyed::apply(self, class, key, text, &mut hits);
        }
        hits.list.sort_by_key(|h| (h.start, h.end));
        out.extend(hits.list);
    }

    /// Scans the leaves under one parent, as `(key, bytes)` pairs, for patterns that span
    /// siblings: a location from latitude and longitude siblings (or a two-number array under a
    /// location key), a `call_log` entry (a phone number beside a call duration or time), and an
    /// `app_list` (≥ 5 package names under one key). Appends at most [`MAX_HITS_PER_NODE`] hits;
    /// looks at the first [`MAX_GROUP_SIBLINGS`] siblings.
    pub fn scan_group(&self, siblings: &[(&str, &[u8])], out: &mut Vec<PatternHit>) {
        let siblings = siblings.get(..MAX_GROUP_SIBLINGS).unwrap_or(siblings);
        let mut hits = Hits::new();
        location::scan_group(siblings, &mut hits);
        call_log::scan_group(self, siblings, &mut hits);
        app_list::scan_group(siblings, &mut hits);
        out.extend(hits.list);
    }

    /// The region phone numbers without a country code are read in.
    pub(crate) fn region(&self) -> Option<phonenumber::country::Id> {
        self.region
    }
}

/// True for ASCII letters and digits: the characters a token boundary must not touch.
pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// The byte before `i`, if any.
pub(crate) fn byte_before(data: &[u8], i: usize) -> Option<u8> {
    i.checked_sub(1).and_then(|j| data.get(j)).copied()
}

/// `data` as text without surrounding ASCII whitespace and quotes, with its offset; `None` when
/// it is not UTF-8.
pub(crate) fn trimmed_text(data: &[u8]) -> Option<(&str, usize)> {
    let text = std::str::from_utf8(data).ok()?;
    let start_trimmed = text.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '"');
    let offset = text.len() - start_trimmed.len();
    let trimmed = start_trimmed.trim_end_matches(|c: char| c.is_ascii_whitespace() || c == '"');
    Some((trimmed, offset))
}

#[cfg(test)]
mod tests;
