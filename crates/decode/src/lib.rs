//! Recursive, bounded decoding of message parts, with a provenance chain for every decoded value.
//!
//! phonehome's pipeline is `ingest → flow → protocol → message → decode → detect → attribute →
//! report`. This crate is the `decode` stage: given one [`Message`], [`walk_message`] splits it
//! into parts (URL path segments and query values, each header, each cookie, the body), then
//! undoes the encodings it finds in each part, recursively, and hands every resulting *node* to a
//! visitor as a [`Part`]: where it is in the message, the chain of decodings that produced it, and
//! its bytes. The `detect` stage scans each node for known values; it never needs to know how the
//! bytes were encoded.
//!
//! Main items: [`walk_message`], [`DecodeLimits`], [`Part`], [`DecodeReport`], [`step_kind`].
//!
//! # What is decoded
//!
//! The parts of a message are the *roots* of a tree of nodes:
//!
//! - `url`: the URL as sent (node with an empty chain); its children are each non-empty path
//!   segment (`path:<index>`) and each query value (`query:<name>`), percent-decoded. The whole URL
//!   is not trial-decoded itself (its query values are).
//! - `header:<name>`: each header value (name as sent), except `Cookie` and HTTP/2 pseudo-headers
//!   (`:path` and the like, already covered by `url`).
//! - `cookie:<name>`: each cookie of each `Cookie` header, surrounding quotes removed.
//! - `body`: [`Body::content`], with one `content-encoding:<coding>` chain element per coding the
//!   protocol stage undid. The Content-Type decides how it is read first: form fields
//!   (`application/x-www-form-urlencoded`), JSON leaves (`application/json`, `*/*+json`,
//!   `text/json`) or multipart parts (`multipart/*` with a boundary); other bodies are read as JSON
//!   if they start with `{` or `[`, and as a form if they look like `k=v&k=v`.
//!
//! At every node (the roots included, except `url`) the decoders below are tried, and each one that
//! accepts gives a child node, which is visited and decoded in turn:
//!
//! | decoder | tried when | accepted when |
//! |---|---|---|
//! | JSON | the data starts with `{` or `[` (or the body's Content-Type is JSON); tried first | the whole input is one JSON document; every string and number leaf becomes a child |
//! | form | not JSON, and a form Content-Type or the data looks like `k=v(&k=v)*` (no whitespace) | always; each field becomes a child |
//! | percent | neither of the above, and the data has a `%XX` escape | always (bad escapes are kept) |
//! | base64, base64url | ≥ 8 symbols of one alphabet, padding and line breaks optional, not all hex digits | the output is mostly printable UTF-8, JSON, compressed, or has a 12-byte printable run |
//! | hex | even length ≥ 16, all hex digits | the output is mostly printable UTF-8 or compressed (so a digest is never "decoded") |
//! | gzip, zlib, zstd | the magic bytes say so | the stream decodes completely, or up to a cap (which is then reported) |
//!
//! A trial decode is accepted only when it consumes its whole input.
//!
//! # Chain grammar
//!
//! A chain lists the decodings from the message part (the `where` of a finding: `url`,
//! `header:<name>`, `cookie:<name>` or `body`) to the value, outermost first. Its elements:
//!
//! | element | meaning |
//! |---|---|
//! | `query:<name>` | the value of query parameter `<name>` (percent- and `+`-decoded) |
//! | `form:<name>` | the value of form field `<name>` (percent- and `+`-decoded) |
//! | `multipart:<name>` | the content of the multipart part named `<name>` (its 0-based index when unnamed) |
//! | `path:<index>` | URL path segment `<index>` (0-based, counting empty segments; percent-decoded) |
//! | `percent` | a further percent-decoding |
//! | `base64`, `base64url` | base64 in the standard or URL-safe alphabet |
//! | `hex` | hexadecimal |
//! | `content-encoding:<coding>` | an HTTP content coding undone by the protocol stage (`gzip`, `br`, …) |
//! | `gzip`, `zlib`, `deflate`, `br`, `zstd` | compressed data found inside a value |
//! | `json:<JSONPath>` | a string or number leaf of a JSON document: `json:$.list[0].name`, `json:$['odd key']` (keys that are not identifiers are quoted, `'` and `\` escaped with `\`; keys longer than 64 characters are shortened, see below) |
//!
//! `query`, `form`, `multipart`, `path` and `json` *select* a piece of their input; the others
//! *transform* it ([`step_kind`]). Examples: a form body `p=<base64 of {"sn": "…"}>` gives
//! `["form:p", "base64", "json:$.sn"]` at `body`; `GET /c.gif?imei_md5=…` gives
//! `["query:imei_md5"]` at `url`; a header value gives `[]`; a gzip-encoded JSON body gives
//! `["content-encoding:gzip", "json:$.imei"]`.
//!
//! An object key longer than [`MAX_PATH_KEY_CHARS`] (64) characters is written in a JSONPath as
//! its first 64 characters, `…` (U+2026) and the 32-bit FNV-1a hash of the whole key (its UTF-8
//! bytes) in 8 lowercase hex digits, always in the quoted form: a 100 000-character key of `k`s
//! gives `json:$['kkk…k…<8 hex digits>']` with 64 `k`s. Distinct long keys that share their first
//! 64 characters still get distinct paths (unless their hashes collide), and a path stays short
//! whatever the keys.
//!
//! # Bounds
//!
//! Captures are hostile, so the walk is bounded per message by [`DecodeLimits`]: chain length
//! (`max_depth`, itself capped at [`MAX_DEPTH`]), bytes produced by all decodings together
//! (`max_decoded_bytes`, chain elements included, so JSON paths count), the expansion ratio of
//! each decompression (`max_expansion_ratio`), the number of trial decodes (`max_trials`) and the
//! number of nodes visited (`max_nodes`). Hitting a cap stops that branch (for `max_nodes`, the
//! rest of the walk) and is reported in [`DecodeReport::limits_hit`]; the nodes already visited
//! stay visited. JSON nesting is bounded by serde_json's recursion limit (128) and walked with an
//! explicit stack and one shared path buffer, so a document's walk costs memory in its depth and
//! the length of one path, not in its number of members; recursion in this crate is bounded by the
//! chain length.
//!
//! ```
//! use std::sync::Arc;
//! use phonehome_model::{Body, Direction, Header, Message, SourceRef, Transport};
//! use phonehome_decode::{walk_message, DecodeLimits};
//!
//! let msg = Message {
//!     time: None,
//!     source: SourceRef::entry(Arc::from("capture.har"), 1),
//!     direction: Direction::Request,
//!     transport: Transport::default(),
//!     method: Some("POST".into()),
//!     url: "https://api.example/u".into(),
//!     target: "/u".into(),
//!     host: Some("api.example".into()),
//!     status: None,
//!     headers: vec![Header::new("Content-Type", "application/x-www-form-urlencoded")],
//!     // p = base64 of {"sn": "R58N31XYZQ"}
//!     body: Body::plain(b"p=eyJzbiI6ICJSNThOMzFYWVpRIn0%3D".to_vec()),
//! };
//! let mut seen = Vec::new();
//! walk_message(&msg, &DecodeLimits::default(), &mut |part| {
//!     if part.data == b"R58N31XYZQ" {
//!         seen.push((part.location.to_string(), part.chain.to_vec()));
//!     }
//! });
//! assert_eq!(seen, vec![("body".to_string(), vec!["form:p".to_string(), "base64".into(), "json:$.sn".into()])]);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod binary_text;
mod compression;
mod form;
mod json;
mod percent;
mod request_parts;
mod walk;

use phonehome_model::{Limits, Message};

#[cfg(doc)]
use phonehome_model::Body;

/// Hard cap on the chain length, whatever [`DecodeLimits::max_depth`] says: it bounds this crate's
/// recursion.
pub const MAX_DEPTH: usize = 32;

/// Default for [`DecodeLimits::max_trials`].
pub const DEFAULT_MAX_TRIALS: usize = 10_000;

/// Default for [`DecodeLimits::max_nodes`].
pub const DEFAULT_MAX_NODES: usize = 100_000;

/// Longest object key, in characters, written whole in a `json:` chain element; a longer key is
/// written as its first `MAX_PATH_KEY_CHARS` characters, `…` and an 8-hex-digit hash of the whole
/// key (see the crate docs), so a JSONPath costs a few hundred bytes at most per nesting level.
pub const MAX_PATH_KEY_CHARS: usize = 64;

/// Largest zstd window (as a power of two) accepted for compressed data found inside values: 8 MiB,
/// what RFC 8878 asks every decoder to support.
pub const MAX_ZSTD_WINDOW_LOG: u32 = 23;

/// Caps on the decoding of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Longest chain of decodings (chain elements, `content-encoding:*` included). Default 8.
    pub max_depth: usize,
    /// Most bytes produced by all decodings of one message together. Default 64 MiB.
    pub max_decoded_bytes: usize,
    /// Largest ratio of decompressed to compressed size, per decompression; 0 disables it.
    /// Default 1000.
    pub max_expansion_ratio: usize,
    /// Most trial decodes (decoder runs on data that passed its cheap syntax check) per message.
    /// Default [`DEFAULT_MAX_TRIALS`].
    pub max_trials: usize,
    /// Most nodes (message parts and decodings, JSON leaves included) visited per message; the
    /// walk stops at the cap. Default [`DEFAULT_MAX_NODES`].
    pub max_nodes: usize,
}

impl DecodeLimits {
    /// The decode caps of phonehome's [`Limits`], with the default trial and node caps.
    pub fn from_limits(l: &Limits) -> Self {
        Self {
            max_depth: l.max_decode_depth,
            max_decoded_bytes: l.max_decoded_bytes,
            max_expansion_ratio: l.max_expansion_ratio,
            max_trials: DEFAULT_MAX_TRIALS,
            max_nodes: DEFAULT_MAX_NODES,
        }
    }
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self::from_limits(&Limits::default())
    }
}

/// One node of the decoding tree, as handed to the visitor.
#[derive(Clone, Copy, Debug)]
pub struct Part<'a> {
    /// The message part: `url`, `header:<name>`, `cookie:<name>` or `body`.
    pub location: &'a str,
    /// The decodings from the message part to this node, outermost first (see the crate docs).
    pub chain: &'a [String],
    /// The node's bytes.
    pub data: &'a [u8],
}

/// What a walk did and where it stopped short.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeReport {
    /// One line per cap that was hit, naming it (empty when nothing was cut short).
    pub limits_hit: Vec<String>,
    /// Number of nodes visited (at most [`DecodeLimits::max_nodes`]).
    pub nodes: usize,
}

/// Whether a chain element selects part of its input or transforms it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// `query:`, `form:`, `multipart:`, `path:` and `json:` elements: the output is a piece of the
    /// input (percent-decoded for the first four).
    Selector,
    /// Every other element: the output is a re-encoding of the whole input.
    Transform,
}

/// The [`StepKind`] of a chain element.
pub fn step_kind(step: &str) -> StepKind {
    const SELECTORS: [&str; 5] = ["query:", "form:", "multipart:", "path:", "json:"];
    if SELECTORS.iter().any(|prefix| step.starts_with(prefix)) {
        StepKind::Selector
    } else {
        StepKind::Transform
    }
}

/// Walks every part of a message, decodes recursively, and calls `visit` for every node: each part
/// itself first, then each of its decodings (depth first, in order).
///
/// Meant for requests; a response is walked the same way (its `url` is the request's), so callers
/// that only want leaks should pass requests only. Bounded by `limits`; a cap that is hit is named
/// in [`DecodeReport::limits_hit`] and decoding of that branch stops.
pub fn walk_message(
    msg: &Message,
    limits: &DecodeLimits,
    visit: &mut dyn FnMut(&Part<'_>),
) -> DecodeReport {
    walk::Walker::new(limits, visit).walk(msg)
}

#[cfg(test)]
mod tests;
