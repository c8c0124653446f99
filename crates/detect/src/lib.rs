//! Device profiles and the known-value detector.
//!
//! phonehome's pipeline is `ingest → flow → protocol → message → decode → detect → attribute →
//! report`. This crate is the `detect` stage. It reads a device profile (the phone's identifiers,
//! in TOML) and finds those identifiers in messages:
//!
//! - [`Profile::parse`] reads the profile, with line-numbered [`ProfileError`]s and warnings.
//! - [`Detector`] compiles every profile value into one ASCII-case-insensitive Aho-Corasick
//!   automaton: each value in its usual textual forms (case; MAC separators `:`, `-`, none and
//!   Cisco `.`; IMEI with and without check digit and grouped; UUIDs with and without dashes;
//!   phone numbers in E.164, without `+`, with `00`, international and national per the
//!   numbering-plan metadata of the `phonenumber` crate), and the MD5, SHA-1 and SHA-256 hex
//!   digests of each form. [`Detector::scan`] is one pass over the data.
//! - [`detect_message`] runs `phonehome-decode`'s walk over a message and scans every decoded
//!   node, folding the same value seen at several depths into one [`MessageHit`]; at most
//!   [`MAX_HITS_PER_MESSAGE`] hits are kept per message.
//!
//! Matches respect boundaries: a pattern edge that is a letter or digit must not touch another
//! character of its class (digits for numbers, hex digits for hex identifiers and digests, letters
//! and digits otherwise), so a number inside a longer number is not the profile's number. Where
//! matches overlap the leftmost wins, and at one position the longest.
//!
//! Location values are parsed and kept in the [`Profile`], but not matched yet.
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
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod detector;
mod message_scan;
mod profile;
mod toml_tree;
mod variants;

pub use detector::{Detector, Hit, MAX_MATCHES_PER_SCAN};
pub use message_scan::{detect_message, MessageHit, MAX_HITS_PER_MESSAGE};
pub use profile::{
    Contact, CustomValue, Location, Profile, ProfileError, ProfileValue, Sms, MIN_VALUE_LEN,
};
