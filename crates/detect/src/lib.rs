//! Device profiles and the known-value detector.
//!
//! phonehome's pipeline is `ingest → flow → protocol → message → decode → detect → attribute →
//! report`. This crate is the `detect` stage. It reads a device profile (the phone's identifiers,
//! in TOML) and finds those identifiers in messages:
//!
//! - [`Profile::parse`] reads the profile, with line-numbered [`ProfileError`]s and warnings.
//! - [`Detector`] compiles every profile value into one ASCII-case-insensitive Aho-Corasick
//!   automaton: each value in its usual textual forms (case; MAC separators `:`, `-`, none and
//!   Cisco `.`; IMEI with and without check digit, grouped, and as an IMEISV — the 14 digits
//!   without check digit and any two digits of software version, form `imeisv`; UUIDs with and
//!   without dashes; phone numbers in E.164, without `+`, with `00`, international and national
//!   per the numbering-plan metadata of the `phonenumber` crate), and the MD5, SHA-1, SHA-256 and
//!   SHA-512 digests of each *canonical* form (as listed, lower- and upper-cased; MACs also
//!   `:`-separated and bare; IMEIs their 15 digits; phone numbers E.164, E.164 without `+` and
//!   national digits), in hex and in base64 (standard and URL-safe, padded or not; matched
//!   case-sensitively). The form of a digest hit names the algorithm whatever the encoding.
//!   [`Detector::scan`] is one pass of that automaton over the data. It is a DFA up to
//!   [`MAX_DFA_PATTERN_BYTES`] of patterns (a profile of a few hundred values), else a contiguous
//!   NFA ([`Detector::pattern_count`], [`Detector::automaton_bytes`] tell the size).
//! - Contact names, SMS texts and non-ASCII texts are also in the automaton folded (Unicode NFKC,
//!   lower case, whitespace runs collapsed); data that has non-ASCII bytes or unusual whitespace
//!   (at most [`MAX_FOLDED_NODE_BYTES`]) is folded the same way before the one pass (ASCII keeps
//!   its case), and hits are mapped back to the original bytes; any run of at least
//!   [`MIN_SMS_PARTIAL_CHARS`] characters of an SMS text is a `partial` match.
//! - `[[location]]` points are matched numerically, not by the automaton: a coordinate pair is
//!   the point when it lies within `radius_m` (haversine; [`DEFAULT_RADIUS_M`] when not given) or
//!   equals the point rounded or truncated to the pair's decimals (at least
//!   [`MIN_COORDINATE_DECIMALS`]). Pairs are read from text (`51.5074,-0.1278`, either order;
//!   separators `,` `;` `|` space) by [`Detector::scan`], and from sibling number leaves (JSON
//!   members, form fields, query parameters named `lat`/`lng`…, array elements, protobuf fields;
//!   E6/E7 integers too) by [`detect_message`]. Forms: `plain` (within the radius or equal at the
//!   pair's own precision), `rounded` (equal to the point rounded or truncated to fewer decimals
//!   than the profile gives), `scaled` (E6/E7); [`Hit::decimals`] and [`Hit::precision_m`] say
//!   how precise the pair was.
//! - [`detect_message`] runs `phonehome-decode`'s walk over a message and scans every decoded
//!   node, folding the same value seen at several depths into one [`MessageHit`]; at most
//!   [`MAX_HITS_PER_MESSAGE`] hits are kept per message.
//!
//! Matches respect boundaries: a pattern edge that is a letter or digit must not touch another
//! character of its class (digits for numbers, hex digits for hex identifiers and digests, letters
//! and digits otherwise), so a number inside a longer number is not the profile's number. Where
//! matches overlap the leftmost wins, and at one position the longest.
//!
//! ```
//! use phonehome_detect::{Detector, Profile};
//!
//! let (profile, warnings) = Profile::parse("[device]\nimei = \"356938035643809\"\n").unwrap();
//! assert!(warnings.is_empty());
//! let detector = Detector::new(&profile);
//! let hits = detector.scan(b"GET /c.gif?imei_md5=af2d48f2495881aed1737bb21017f9b6");
//! assert_eq!(hits.len(), 1);
//! assert_eq!((hits[0].label.as_str(), hits[0].form.as_str()), ("imei #1", "md5"));
//! assert_eq!(hits[0].preimage, "356938035643809");
//! // One digit off, or inside a longer number, is not a match.
//! assert!(detector.scan(b"356938035643819 1356938035643809").is_empty());
//!
//! // A location, sent rounded to 4 decimals, longitude first.
//! let (profile, _) = Profile::parse("[[location]]\nlat = 51.507351\nlon = -0.127758\n").unwrap();
//! let hits = Detector::new(&profile).scan(b"ll=-0.1278,51.5074");
//! assert_eq!((hits[0].kind.as_str(), hits[0].form.as_str()), ("location", "rounded"));
//! assert_eq!((hits[0].value.as_str(), hits[0].decimals), ("51.507351,-0.127758", Some(4)));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod detector;
mod location;
mod message_scan;
mod profile;
mod text_fold;
mod toml_tree;
mod variants;

pub use detector::{
    Detector, Hit, PatternInfo, MAX_DFA_PATTERN_BYTES, MAX_MATCHES_PER_SCAN, MAX_SMS_WINDOWS,
    MIN_SMS_PARTIAL_CHARS,
};
pub use location::{
    haversine_m, precision_m, DEFAULT_RADIUS_M, MAX_COORDINATE_DECIMALS, MIN_COORDINATE_DECIMALS,
};
pub use message_scan::{detect_message, MessageHit, MAX_HITS_PER_MESSAGE, MAX_NUMBER_LEAVES};
pub use phonehome_patterns::{PatternHit, PatternScanner};
pub use profile::{
    Contact, CustomValue, Location, Profile, ProfileError, ProfileValue, Sms, MIN_VALUE_LEN,
};
pub use text_fold::MAX_FOLDED_NODE_BYTES;

/// Every kind of data phonehome reports without a `[[custom]]` entry: profile values, identifiers
/// nobody listed (patterns and telling keys) and `phonehome diff`'s unlabelled `identifier`.
pub const BUILTIN_KINDS: [&str; 23] = [
    "imei",
    "serial",
    "android_id",
    "advertising_id",
    "oaid",
    "mac",
    "phone_number",
    "imsi",
    "iccid",
    "email",
    "location",
    "contact",
    "sms",
    "meid",
    "device_id",
    "cell_id",
    "wifi_ssid",
    "bssid",
    "app_list",
    "media",
    "call_log",
    "identifier",
    "custom",
];
