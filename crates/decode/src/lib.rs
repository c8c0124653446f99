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
//! accepts gives children, which are visited and decoded in turn. The *structured* readings come
//! first, in this order, and the first that accepts is the node's structured reading: JSON, JSON
//! Lines, JSONP, XML, form (by Content-Type) or multipart, form (guessed), gRPC, protobuf,
//! length-prefixed protobuf. Percent-decoding is tried only when none accepted; JWT, base64, hex
//! and decompression are always tried.
//!
//! | decoder | tried when | accepted when |
//! |---|---|---|
//! | JSON | the data starts with `{` or `[` (or the body's Content-Type is JSON); tried first | the whole input is one JSON document; every string and number leaf becomes a child |
//! | JSON Lines | the data starts with `{` or `[`, is not one JSON document, and has a line break | every non-blank line is one JSON document, there are at least two and at most [`MAX_JSON_LINES`] lines; each document becomes a child read as JSON |
//! | JSONP | the data is `name(…)` or `name(…);` (`name` a JavaScript name or dotted path, optionally after `/**/`) around something starting with `{` or `[` | the argument is one JSON document; it becomes a child read as JSON |
//! | XML | after a byte order mark and whitespace, the data starts with `<` and a name, `?` or `!` | the whole input is one well-formed document within [`MAX_XML_DEPTH`] and [`MAX_XML_ELEMENTS`] (see below); each element text and attribute becomes a child |
//! | form | not JSON, and a form Content-Type or the data looks like `k=v(&k=v)*` (no whitespace) | always; each field becomes a child |
//! | gRPC | the Content-Type is `application/grpc*` (but `grpc-web-text`), or the data starts with a flags byte 0x00, 0x01, 0x80 or 0x81 and has ≥ 5 bytes | frames (flags, 4-byte big-endian length, message) cover the input exactly, 1 to [`MAX_FRAMED_MESSAGES`] of them; unless declared by Content-Type, at least one is not empty and every non-empty frame looks right: a plausible protobuf message, compressed data (flag 0x01) starting with a magic number, or text (gRPC-Web trailers, flag 0x80); each non-empty frame becomes a child, read as protobuf |
//! | protobuf | see the plausibility score below (a cheap check on the first byte and on clean text) | the plausibility score accepts the whole input; each leaf (see the chain grammar) becomes a child |
//! | length-prefixed | a varint length ≥ 2 that fits, followed by a protobuf candidate | varint-length-prefixed messages cover the input exactly, 1 to [`MAX_FRAMED_MESSAGES`] of them, each a non-empty plausible protobuf message; each becomes a child read as protobuf |
//! | percent | no structured reading accepted, and the data has a `%XX` escape | always (bad escapes are kept) |
//! | JWT | after an optional `Bearer ` (any case), three dot-separated base64url segments, the first starting with `ey` | the header is base64url of a JSON object with a string `alg` member and the payload is valid base64url; header and payload become children (the signature is ignored) |
//! | base64, base64url | ≥ 8 symbols of one alphabet, padding and line breaks optional, not all hex digits | the output is mostly printable UTF-8, JSON, compressed, has a 12-byte printable run, is gRPC frames, or is a plausible protobuf message with a clean-text field of ≥ 4 bytes at some level |
//! | hex | even length ≥ 16, all hex digits | the output is mostly printable UTF-8 or compressed (so a digest is never "decoded") |
//! | gzip, zlib, zstd, lz4 | the magic bytes say so (`1f 8b 08`, a zlib header, `28 b5 2f fd`, `04 22 4d 18`), at every node, protobuf bytes fields included | the stream decodes completely, or up to a cap (which is then reported); lz4 frames (and skippable frames) must cover the input exactly, checked before decoding with `lz4_flex`'s safe decoder |
//!
//! A trial decode is accepted only when it consumes its whole input.
//!
//! ## Protobuf without a schema
//!
//! The wire format is read field by field: a varint tag (field number 1 to 2^29 − 1, wire type
//! 0, 1, 2 or 5; groups and wire types 6 and 7 are refused), then a varint, 8 bytes, a varint
//! length and that many bytes, or 4 bytes. Varints must be in their shortest form (every encoder
//! writes them so; random bytes often do not). The *plausibility score* decides whether a complete
//! parse is kept as a message:
//!
//! 1. every byte belongs to a field (no trailing or missing bytes) and there is at least one;
//! 2. the data is not compressed (a magic number wins);
//! 3. unless declared (Content-Type `application/x-protobuf`, `application/protobuf`,
//!    `application/x-google-protobuf`, `application/vnd.google.protobuf`, or a gRPC or
//!    length-prefixed frame): the data is not *clean text* (valid UTF-8 with no control character
//!    but tab, CR and LF) unless its first byte is `\t`, `\n` or `\r` (a field-1 tag, which text
//!    seldom starts with), so identifiers, hex digests, UUIDs and sentences are never messages,
//!    whatever their length; and field numbers never decrease (every official encoder writes fields
//!    in number order, while from a fifth (8 bytes) to three quarters (24 bytes) of the random
//!    byte strings that happen to parse are out of order). Base64 output must also have a
//!    clean-text field of at least 4 bytes at some level before it is kept as a message (base64
//!    candidates are everywhere, `text/plain` is one).
//!
//! A length-delimited field is read, in this order, as a nested message (when the score accepts it
//! and the nesting is below [`MAX_PROTOBUF_NESTING`]; each try spends a trial) whose fields extend
//! the path, or else as a node with its bytes, UTF-8 text or not, which every other decoder but
//! protobuf may decode further (JSON, base64, decompression by magic…). Number fields are leaves
//! that are not decoded further. Packed repeated fields are not unpacked (their bytes are a node).
//!
//! ## XML
//!
//! A small non-validating tokenizer: elements, attributes (quoted with `"` or `'`), text, CDATA
//! sections, comments and processing instructions (skipped), and the references `&amp;` `&lt;`
//! `&gt;` `&quot;` `&apos;` `&#N;` `&#xN;`. A document type declaration is skipped whole: entities
//! it declares are never expanded (they stay as written, so an entity bomb costs its own size) and
//! nothing external is ever loaded. One root element; only whitespace, comments and processing
//! instructions around it. An element's text is its text and CDATA children joined, surrounding
//! whitespace trimmed (blank text gives no leaf).
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
//! | `percent` | a further percent-decoding (`+` stays `+`): `?x=%2541` gives `%41` at `["query:x"]` and `A` at `["query:x", "percent"]` |
//! | `base64`, `base64url` | base64 in the standard or URL-safe alphabet |
//! | `hex` | hexadecimal |
//! | `content-encoding:<coding>` | an HTTP content coding undone by the protocol stage (`gzip`, `br`, …) |
//! | `gzip`, `zlib`, `deflate`, `br`, `zstd`, `lz4` | compressed data found inside a value (`lz4`: the LZ4 frame format) |
//! | `json:<JSONPath>` | a string or number leaf of a JSON document: `json:$.list[0].name`, `json:$['odd key']` (keys that are not identifiers are quoted, `'` and `\` escaped with `\`; keys longer than 64 characters are shortened, see below) |
//! | `jsonl:<line>` | the JSON document on line `<line>` (0-based, blank lines counted) of a JSON Lines input; then `json:` elements |
//! | `jsonp` | the JSON argument of a JSONP call `callback(…)`; then `json:` elements |
//! | `xml:<path>` | the text of an element, `xml:/root/device/imei`, or an attribute, `xml:/root/device/@id`, of an XML document, references replaced; names as written (namespace prefixes kept, `xml:/soap:Envelope/soap:Body`), names longer than 64 characters shortened like JSON keys; sibling elements of the same name share their path |
//! | `protobuf:<path>` | a field of a protobuf message read without a schema; `<path>` is the field numbers from the root message down, dot-separated (`protobuf:1.4.2`: field 2 of the message in field 4 of the message in field 1). The node is the field's bytes (length-delimited fields not read as a message) or its unsigned decimal value (varint, fixed64, fixed32). Each element of a repeated field is a node with the same path |
//! | `protobuf:<path>:int64` | a varint with its top bit set read as a signed 64-bit integer (a negative `int32`/`int64`), beside its unsigned reading |
//! | `protobuf:<path>:double` | a fixed64 field read as an IEEE 754 double, beside its unsigned reading, when finite, of magnitude below 10^7 and not 0 once rounded: its shortest decimal form, or rounded to 9 decimals with trailing zeros trimmed (`48.856614`) |
//! | `protobuf:<path>:float` | a fixed32 field read as a float, beside its unsigned reading, by the same rule (shortest form in float precision: `48.8566`) |
//! | `grpc:<n>` | message `<n>` (0-based, empty messages counted) of a gRPC or gRPC-Web stream; a compressed message is undone by its magic next (`["grpc:1", "gzip", "protobuf:1"]`) |
//! | `length-prefixed:<n>` | message `<n>` (0-based) of a stream of varint-length-prefixed protobuf messages |
//! | `jwt:header`, `jwt:payload` | the decoded JOSE header or payload of a JSON Web Token (the signature is ignored); then usually `json:` elements |
//!
//! `query`, `form`, `multipart`, `path`, `json`, `jsonl`, `jsonp`, `xml`, `protobuf`, `grpc` and
//! `length-prefixed` *select* a piece of their input; the others (`jwt` included) *transform* it
//! ([`step_kind`]). Examples: a form body `p=<base64 of {"sn": "…"}>` gives
//! `["form:p", "base64", "json:$.sn"]` at `body`; `GET /c.gif?imei_md5=…` gives
//! `["query:imei_md5"]` at `url`; a header value gives `[]`; a gzip-encoded JSON body gives
//! `["content-encoding:gzip", "json:$.imei"]`; a gRPC request whose message has the IMEI in field
//! 1 of the message in its field 1 gives `["grpc:0", "protobuf:1.1"]`, and a gzip-compressed JSON
//! in its bytes field 5 gives `["grpc:0", "protobuf:1.5", "gzip", "json:$.serial"]`; a latitude
//! sent as a double in field 2 of field 1 gives `48.856614` at `["protobuf:1.2:double"]` (and the
//! raw 64-bit value at `["protobuf:1.2"]`); `Authorization: Bearer <JWT>` gives
//! `["jwt:payload", "json:$.sub"]` at `header:Authorization`.
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
//! the length of one path, not in its number of members; protobuf messages (nesting capped at
//! [`MAX_PROTOBUF_NESTING`]) and XML documents (depth capped at [`MAX_XML_DEPTH`]) are walked the
//! same way. Recursion in this crate is bounded by the chain length. Every trial parse of a
//! protobuf field as a nested message is a trial; every leaf of every decoder is a node and spends
//! its bytes and its chain element; decoders are linear in their input (protobuf: at most
//! [`MAX_PROTOBUF_NESTING`] passes over a byte).
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
mod jwt;
mod percent;
mod protobuf;
mod request_parts;
mod walk;
mod xml;

pub use json::MAX_JSON_LINES;
pub use percent::decode as percent_decode;
pub use protobuf::{MAX_FRAMED_MESSAGES, MAX_PROTOBUF_NESTING};
pub use xml::{MAX_XML_DEPTH, MAX_XML_ELEMENTS};

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

/// Default largest zstd window (as a power of two) accepted for compressed data found inside
/// values: 8 MiB, what RFC 8878 asks every decoder to support (`--max-zstd-window`).
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
    /// Largest zstd window accepted, as a power of two. Default [`MAX_ZSTD_WINDOW_LOG`] (8 MiB).
    pub zstd_max_window_log: u32,
}

impl DecodeLimits {
    /// The decode caps of phonehome's [`Limits`].
    pub fn from_limits(l: &Limits) -> Self {
        Self {
            max_depth: l.max_decode_depth,
            max_decoded_bytes: l.max_decoded_bytes,
            max_expansion_ratio: l.max_expansion_ratio,
            max_trials: l.max_decode_trials,
            max_nodes: l.max_decode_nodes,
            zstd_max_window_log: l.zstd_window_log(),
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
    /// `query:`, `form:`, `multipart:`, `path:`, `json:`, `jsonl:`, `jsonp`, `xml:`, `protobuf:`,
    /// `grpc:` and `length-prefixed:` elements: the output is a piece of the input (percent-decoded
    /// for the first four, unescaped for `xml:`, a number field written in decimal for
    /// `protobuf:`).
    Selector,
    /// Every other element: the output is a re-encoding of the whole input.
    Transform,
}

/// The [`StepKind`] of a chain element.
pub fn step_kind(step: &str) -> StepKind {
    const SELECTORS: [&str; 10] = [
        "query:",
        "form:",
        "multipart:",
        "path:",
        "json:",
        "jsonl:",
        "xml:",
        "protobuf:",
        "grpc:",
        "length-prefixed:",
    ];
    if step == "jsonp" || SELECTORS.iter().any(|prefix| step.starts_with(prefix)) {
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
