//! Protocol Buffers messages read without a schema (the wire format of
//! <https://protobuf.dev/programming-guides/encoding/>), their gRPC and varint-length framings, and
//! the plausibility score that keeps text and random bytes from being read as messages.
//!
//! A message is a sequence of fields, each a varint tag (`field number << 3 | wire type`) and a
//! value: a varint (wire type 0), 8 little-endian bytes (1), a varint length and that many bytes
//! (2), or 4 little-endian bytes (5). Wire types 3 and 4 (deprecated groups), 6 and 7 are never
//! accepted, nor field number 0 or above 2^29 − 1.

use crate::binary_text::is_clean_text;
use crate::compression;

/// Deepest nesting of messages read inside length-delimited fields (the root message is level 1);
/// a field deeper than this is kept as bytes.
pub const MAX_PROTOBUF_NESTING: usize = 32;

/// Largest field number (2^29 − 1).
pub(crate) const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

/// Longest varint: 10 bytes hold 64 bits.
const MAX_VARINT_LEN: usize = 10;

/// Most messages read from one gRPC or length-prefixed stream; a longer stream is not read as one.
pub const MAX_FRAMED_MESSAGES: usize = 65_536;

/// Floating-point readings of fixed64 and fixed32 fields are kept only below this magnitude
/// (coordinates, prices, durations): larger doubles are mostly integers or noise.
pub(crate) const MAX_FLOAT_MAGNITUDE: f64 = 1e7;

/// Most decimals written for a floating-point reading (trailing zeros are trimmed).
pub(crate) const MAX_FLOAT_DECIMALS: usize = 9;

/// The value of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1 (fixed64, sfixed64, double).
    Fixed64(u64),
    /// Wire type 2 (string, bytes, nested message, packed repeated field).
    Len(&'a [u8]),
    /// Wire type 5 (fixed32, sfixed32, float).
    Fixed32(u32),
}

/// One field of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WireField<'a> {
    /// The field number, 1..=[`MAX_FIELD_NUMBER`].
    pub(crate) number: u32,
    /// Its value.
    pub(crate) value: WireValue<'a>,
}

/// Reads a varint at `*pos`, advancing it. `None` when it is truncated, longer than 64 bits, or not
/// in its shortest form (a last byte of 0 after others): every encoder writes the shortest form, and
/// random bytes often do not.
pub(crate) fn read_varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for index in 0..MAX_VARINT_LEN {
        let byte = *data.get(*pos)?;
        *pos = pos.checked_add(1)?;
        if index == MAX_VARINT_LEN - 1 && byte > 1 {
            return None; // more than 64 bits
        }
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            if index > 0 && byte == 0 {
                return None; // overlong
            }
            return Some(value);
        }
    }
    None
}

/// Reads `N` bytes at `*pos`, advancing it.
fn read_array<const N: usize>(data: &[u8], pos: &mut usize) -> Option<[u8; N]> {
    let end = pos.checked_add(N)?;
    let bytes: [u8; N] = data.get(*pos..end)?.try_into().ok()?;
    *pos = end;
    Some(bytes)
}

/// Reads the field at `*pos`, advancing it; `None` when the bytes there are not a valid field.
pub(crate) fn read_field<'a>(data: &'a [u8], pos: &mut usize) -> Option<WireField<'a>> {
    let tag = read_varint(data, pos)?;
    let number = tag >> 3;
    if number == 0 || number > MAX_FIELD_NUMBER {
        return None;
    }
    let value = match tag & 7 {
        0 => WireValue::Varint(read_varint(data, pos)?),
        1 => WireValue::Fixed64(u64::from_le_bytes(read_array(data, pos)?)),
        2 => {
            let len = usize::try_from(read_varint(data, pos)?).ok()?;
            let end = pos.checked_add(len)?;
            let bytes = data.get(*pos..end)?;
            *pos = end;
            WireValue::Len(bytes)
        }
        5 => WireValue::Fixed32(u32::from_le_bytes(read_array(data, pos)?)),
        _ => return None,
    };
    Some(WireField {
        number: u32::try_from(number).ok()?,
        value,
    })
}

/// What a complete parse of a message's top level found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Number of fields.
    pub(crate) fields: usize,
    /// Whether the field numbers never decrease (every official encoder writes fields in number
    /// order, repeated fields together).
    pub(crate) ordered: bool,
}

/// Parses the top level of a message (nested messages are not entered): `None` unless every byte
/// belongs to a valid field. Linear in the input.
pub(crate) fn parse_message(data: &[u8]) -> Option<Shape> {
    let mut pos = 0;
    let mut shape = Shape {
        fields: 0,
        ordered: true,
    };
    let mut previous = 0u32;
    while pos < data.len() {
        let field = read_field(data, &mut pos)?;
        shape.fields += 1;
        shape.ordered &= field.number >= previous;
        previous = field.number;
    }
    Some(shape)
}

/// How sure the caller is that data is a protobuf message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Declared {
    /// A Content-Type or a gRPC frame says so: any complete parse is accepted.
    Yes,
    /// Anything else (a value, a nested length-delimited field): the plausibility score decides.
    No,
}

/// The first byte of every message whose first field is number 1 with wire type 1, 2 or 5: `\t`,
/// `\n` and `\r`, the only tags that are also text characters allowed in clean text.
const FIELD_ONE_TEXT_TAGS: [u8; 3] = [0x09, 0x0a, 0x0d];

/// The cheap check run before a trial parse: could `data` be a message at all?
///
/// At least 2 bytes; the first byte is the first byte of a valid tag (wire type 0, 1, 2 or 5,
/// field number not 0); not compressed data (a magic number wins); and, unless declared, not clean
/// text (see [`is_plausible_message`]).
pub(crate) fn is_candidate(data: &[u8], declared: Declared) -> bool {
    let [first, _, ..] = data else {
        return false;
    };
    if !matches!(first & 7, 0 | 1 | 2 | 5) || *first < 0x08 {
        return false;
    }
    if compression::magic_of(data).is_some() {
        return false;
    }
    declared == Declared::Yes || !text_wins(data)
}

/// The text rule of the score: clean text (valid UTF-8, no control characters but tab, CR and LF)
/// is read as text, unless its first byte is a field-1 tag that text seldom starts with.
fn text_wins(data: &[u8]) -> bool {
    data.first()
        .is_some_and(|b| !FIELD_ONE_TEXT_TAGS.contains(b))
        && is_clean_text(data)
}

/// The plausibility score: whether a complete parse of `data` is kept as a message.
///
/// - It must parse completely (every tag valid, lengths in range, no trailing bytes, varints in
///   their shortest form) and have at least one field.
/// - Declared data is then accepted.
/// - Otherwise, clean text (valid UTF-8 without control characters other than tab, CR and LF) is a
///   better reading than a message, unless it starts with `\t`, `\n` or `\r` (the tags of field 1
///   with wire type 1, 2 or 5, which text seldom starts with): so identifiers, hex digests, UUIDs
///   and sentences are never messages, while `\n\x0aR58N31XYZQ` ({1: "R58N31XYZQ"}) is one.
/// - And the field numbers must never decrease: every official encoder (C++, Java, Go, Swift,
///   Kotlin) writes fields in number order with repeated fields together, while random bytes that
///   happen to parse are often out of order (this keeps out a fifth of the accidental parses of
///   random 8-byte strings, half at 16 bytes, three quarters at 24). Data from encoders that follow
///   another order (prost writes fields in declaration order) is read when declared.
pub(crate) fn is_plausible_message(data: &[u8], declared: Declared) -> bool {
    if !is_candidate(data, declared) {
        return false;
    }
    let Some(shape) = parse_message(data) else {
        return false;
    };
    shape.fields > 0 && (declared == Declared::Yes || shape.ordered)
}

/// Shortest clean-text field that [`has_text_field`] counts as evidence.
pub(crate) const MIN_TEXT_FIELD: usize = 4;

/// True when a length-delimited field of `message`, or of a message nested in it (within
/// [`MAX_PROTOBUF_NESTING`]), is clean text of at least [`MIN_TEXT_FIELD`] bytes.
///
/// The extra evidence asked of base64 output before it is kept as a message: base64 candidates
/// are everywhere (`text/plain` is one), and their decodings, a few random-looking bytes, pass
/// [`is_plausible_message`] about 1 time in 70 (8 bytes) to 1 in 1 800 (48 bytes), while asking for
/// a text field makes that 1 in 50 000 at 8 bytes and none in 300 000 tries from 12 bytes on
/// (measured on random bytes).
pub(crate) fn has_text_field(message: &[u8]) -> bool {
    has_text_field_within(message, 1)
}

/// [`has_text_field`] for a message at nesting level `depth`.
fn has_text_field_within(message: &[u8], depth: usize) -> bool {
    let mut pos = 0;
    while pos < message.len() {
        let Some(field) = read_field(message, &mut pos) else {
            return false;
        };
        if let WireValue::Len(bytes) = field.value {
            if bytes.len() >= MIN_TEXT_FIELD && is_clean_text(bytes) {
                return true;
            }
            if depth < MAX_PROTOBUF_NESTING
                && is_plausible_message(bytes, Declared::No)
                && has_text_field_within(bytes, depth + 1)
            {
                return true;
            }
        }
    }
    false
}

/// One frame of a gRPC (or gRPC-Web) stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GrpcFrame<'a> {
    /// The flags byte: bit 0 says the message is compressed, bit 7 marks gRPC-Web trailers.
    pub(crate) flags: u8,
    /// The frame's content.
    pub(crate) data: &'a [u8],
}

impl GrpcFrame<'_> {
    /// True for a message compressed with the stream's `grpc-encoding`.
    pub(crate) fn compressed(&self) -> bool {
        self.flags & 1 == 1
    }

    /// True for gRPC-Web trailers (HTTP/1-style header lines).
    pub(crate) fn trailers(&self) -> bool {
        self.flags & 0x80 == 0x80
    }
}

/// True when `data` could start a gRPC stream: a flags byte of 0x00, 0x01, 0x80 or 0x81 and a
/// 4-byte length. (No protobuf message starts with these bytes: field number 0 is invalid.)
pub(crate) fn is_grpc_candidate(data: &[u8]) -> bool {
    data.len() >= 5 && matches!(data.first(), Some(0x00 | 0x01 | 0x80 | 0x81))
}

/// Splits a gRPC stream (gRPC over HTTP/2 and gRPC-Web): frames of a flags byte, a 4-byte
/// big-endian length and the message, until the end of the input. `None` unless the frames cover
/// the input exactly, there is at least one and at most [`MAX_FRAMED_MESSAGES`], and every flags
/// byte is 0x00, 0x01, 0x80 or 0x81.
///
/// Unless `declared`, the frames must also look like gRPC: at least one is not empty, every
/// uncompressed message frame that is not empty is a plausible message, and every compressed one
/// starts with a compression magic number.
pub(crate) fn grpc_frames(data: &[u8], declared: Declared) -> Option<Vec<GrpcFrame<'_>>> {
    if !is_grpc_candidate(data) {
        return None;
    }
    let mut frames = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        if frames.len() >= MAX_FRAMED_MESSAGES {
            return None;
        }
        let [flags, l0, l1, l2, l3] = read_array::<5>(data, &mut pos)?;
        if !matches!(flags, 0x00 | 0x01 | 0x80 | 0x81) {
            return None;
        }
        let len = usize::try_from(u32::from_be_bytes([l0, l1, l2, l3])).ok()?;
        let end = pos.checked_add(len)?;
        frames.push(GrpcFrame {
            flags,
            data: data.get(pos..end)?,
        });
        pos = end;
    }
    if declared == Declared::No {
        let looks_right = |f: &GrpcFrame<'_>| {
            f.data.is_empty()
                || if f.compressed() {
                    compression::magic_of(f.data).is_some()
                } else if f.trailers() {
                    crate::binary_text::is_plausible_text(f.data)
                } else {
                    is_plausible_message(f.data, Declared::No)
                }
        };
        if frames.iter().all(|f| f.data.is_empty()) || !frames.iter().all(looks_right) {
            return None;
        }
    }
    Some(frames)
}

/// Splits a stream of varint-length-prefixed messages (Java's `writeDelimitedTo`, Firebase and
/// Crashlytics batches). `None` unless the frames cover the input exactly, there are 1 to
/// [`MAX_FRAMED_MESSAGES`] of them, and each is a plausible, non-empty message.
pub(crate) fn length_prefixed_messages(data: &[u8]) -> Option<Vec<&[u8]>> {
    let mut messages = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        if messages.len() >= MAX_FRAMED_MESSAGES {
            return None;
        }
        let len = usize::try_from(read_varint(data, &mut pos)?).ok()?;
        let end = pos.checked_add(len)?;
        let message = data.get(pos..end)?;
        if !is_plausible_message(message, Declared::No) {
            return None;
        }
        messages.push(message);
        pos = end;
    }
    (!messages.is_empty()).then_some(messages)
}

/// The cheap check before [`length_prefixed_messages`]: a varint length of at least 2 that fits in
/// the input, followed by a [`is_candidate`] message.
pub(crate) fn is_length_prefixed_candidate(data: &[u8]) -> bool {
    let mut pos = 0;
    let Some(len) = read_varint(data, &mut pos).and_then(|l| usize::try_from(l).ok()) else {
        return false;
    };
    len >= 2
        && pos
            .checked_add(len)
            .and_then(|end| data.get(pos..end))
            .is_some_and(|first| is_candidate(first, Declared::No))
}

/// A leaf of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Leaf<'a> {
    /// A reading of a number field, as decimal text, with the suffix of its chain element: `""`
    /// for the unsigned reading, `":int64"`, `":double"` or `":float"` for the others.
    Number {
        /// The decimal text.
        text: String,
        /// The chain element's suffix.
        suffix: &'static str,
    },
    /// A length-delimited field that is not read as a message: UTF-8 text or raw bytes, for the
    /// other decoders to try.
    Data(&'a [u8]),
}

/// A message being walked.
struct Frame<'a> {
    data: &'a [u8],
    pos: usize,
    /// Length of the message's own path: a field's number is appended after it.
    path_len: usize,
}

/// The leaves of a message in wire order, each with its field path (`1.4.2`): every reading of each
/// number field, and each length-delimited field that is not itself read as a message.
///
/// Nested messages are entered with an explicit stack of at most [`MAX_PROTOBUF_NESTING`] frames
/// and one shared path buffer, so the walk costs memory in the nesting depth only.
pub(crate) struct ProtobufLeaves<'a> {
    path: String,
    frames: Vec<Frame<'a>>,
    /// Readings of the current number field not yet returned, last first.
    pending: Vec<Leaf<'a>>,
}

impl<'a> ProtobufLeaves<'a> {
    /// The leaves of `message` (which should have passed [`parse_message`]).
    pub(crate) fn new(message: &'a [u8]) -> Self {
        Self {
            path: String::new(),
            frames: vec![Frame {
                data: message,
                pos: 0,
                path_len: 0,
            }],
            pending: Vec::new(),
        }
    }

    /// The next leaf and its field path (valid until the next call). `try_nested` is asked before
    /// each trial parse of a length-delimited field as a nested message, and may refuse it (the
    /// field is then a [`Leaf::Data`]).
    pub(crate) fn next_leaf(
        &mut self,
        try_nested: &mut dyn FnMut() -> bool,
    ) -> Option<(&str, Leaf<'a>)> {
        if let Some(leaf) = self.pending.pop() {
            return Some((self.path.as_str(), leaf));
        }
        loop {
            let depth = self.frames.len();
            let frame = self.frames.last_mut()?;
            if frame.pos >= frame.data.len() {
                self.frames.pop();
                continue;
            }
            let Some(field) = read_field(frame.data, &mut frame.pos) else {
                // Unreachable for a message that passed `parse_message`; stop this message.
                self.frames.pop();
                continue;
            };
            self.path.truncate(frame.path_len);
            if !self.path.is_empty() {
                self.path.push('.');
            }
            self.path.push_str(&field.number.to_string());
            if let WireValue::Len(bytes) = field.value {
                if bytes.is_empty() {
                    continue;
                }
                if depth < MAX_PROTOBUF_NESTING
                    && is_candidate(bytes, Declared::No)
                    && try_nested()
                    && is_plausible_message(bytes, Declared::No)
                {
                    self.frames.push(Frame {
                        data: bytes,
                        pos: 0,
                        path_len: self.path.len(),
                    });
                    continue;
                }
                return Some((self.path.as_str(), Leaf::Data(bytes)));
            }
            let mut readings = number_readings(field.value);
            readings.reverse();
            self.pending = readings;
            if let Some(leaf) = self.pending.pop() {
                return Some((self.path.as_str(), leaf));
            }
        }
    }
}

/// The readings of a number field: unsigned decimal always; for a varint with the top bit set,
/// also signed (int64); for fixed64 and fixed32, also the double or float when it is finite, below
/// [`MAX_FLOAT_MAGNITUDE`] and not zero once rounded.
fn number_readings<'a>(value: WireValue<'_>) -> Vec<Leaf<'a>> {
    let number = |text: String, suffix: &'static str| Leaf::Number { text, suffix };
    match value {
        WireValue::Varint(v) => {
            let mut out = vec![number(v.to_string(), "")];
            if v >> 63 == 1 {
                out.push(number(
                    i64::from_ne_bytes(v.to_ne_bytes()).to_string(),
                    ":int64",
                ));
            }
            out
        }
        WireValue::Fixed64(v) => {
            let mut out = vec![number(v.to_string(), "")];
            let x = f64::from_bits(v);
            if let Some(text) = format_float(x, x.to_string()) {
                out.push(number(text, ":double"));
            }
            out
        }
        WireValue::Fixed32(v) => {
            let mut out = vec![number(v.to_string(), "")];
            let x = f32::from_bits(v);
            if let Some(text) = format_float(f64::from(x), x.to_string()) {
                out.push(number(text, ":float"));
            }
            out
        }
        WireValue::Len(_) => Vec::new(),
    }
}

/// Writes a floating-point reading: its shortest round-trip decimal form (`shortest`, in its own
/// precision, so a float 48.8566 stays `48.8566`) when that has at most [`MAX_FLOAT_DECIMALS`]
/// decimals, else rounded to that many with trailing zeros trimmed. `None` when the value is not
/// finite, not below [`MAX_FLOAT_MAGNITUDE`], or zero once rounded.
pub(crate) fn format_float(x: f64, shortest: String) -> Option<String> {
    if !x.is_finite() || x.abs() >= MAX_FLOAT_MAGNITUDE {
        return None;
    }
    let decimals = shortest.split_once('.').map_or(0, |(_, d)| d.len());
    let mut text = if decimals <= MAX_FLOAT_DECIMALS {
        shortest
    } else {
        format!("{x:.prec$}", prec = MAX_FLOAT_DECIMALS)
    };
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(trimmed);
    }
    (text != "0" && text != "-0").then_some(text)
}

#[cfg(test)]
mod tests;
