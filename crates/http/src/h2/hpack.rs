//! HPACK field block decoding (RFC 7541) for a passive observer.
//!
//! An endpoint that meets a bad field block closes the connection; an observer must go on, and
//! may have joined late or lost bytes. So this decoder differs from an endpoint's in three ways:
//!
//! - **It never guesses.** Its dynamic table holds only entries it saw inserted. When the table
//!   may be missing older entries (the capture started mid-connection, bytes were lost, a field
//!   block was dropped or broken), it is *partial*: a reference past the known entries decodes as
//!   the marker [`unknown_marker`] (`<unknown hpack index N>`), never as a guess. Entries are
//!   numbered from the newest, so the known entries are always a prefix of the encoder's table and
//!   a known index always means what the encoder meant.
//! - **It decodes what it can.** A Huffman string that does not decode is replaced by a marker
//!   and decoding goes on (its length is known). Only a representation whose length cannot be
//!   known (a truncated or oversized integer, a string running past the block) stops the block;
//!   the table is then partial from there on.
//! - **It is bounded whatever the peers negotiate.** The table never holds more than
//!   `max_dynamic_table` bytes (as RFC 7541 §4.1 counts them), whatever SETTINGS and size updates
//!   say: evicting early only turns later references into unknown markers. A field list stops
//!   growing at the header list cap (the block is still parsed, to keep the table in step).
//!
//! Why not `loona-hpack` (`h2` keeps its HPACK private): its decoder stops at the first error
//! with the table in an unknown state and no way to tell, treats a reference it cannot resolve as
//! an error (so a capture that joined late decodes nothing), panics (`assert!`) when a table size
//! above its allowed maximum is set, and has no notion of a partly known table. It is used in the
//! tests as an independent encoder.
//!
//! Eviction uses the larger of the last size update and the decoding side's
//! `SETTINGS_HEADER_TABLE_SIZE` (capped): keeping an entry the encoder evicted is harmless, since
//! the encoder never refers to it, while evicting one it kept would lose it.

use super::huffman;
use std::collections::VecDeque;

/// Initial dynamic table size (RFC 7541 §4.2, RFC 9113 §6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// Octets counted per table entry besides its name and value (RFC 7541 §4.1), also per field in
/// a header list's size (RFC 9113 §6.5.2).
pub const ENTRY_OVERHEAD: usize = 32;

/// Most continuation octets read for one HPACK integer (RFC 7541 §5.1): five carry 35 bits, more
/// than any meaningful value; longer encodings are treated as an attack.
pub const MAX_INTEGER_CONTINUATIONS: usize = 5;

/// The static table (RFC 7541 Appendix A), index 1 first.
const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// The text that stands for a name or value whose table entry was never seen.
pub fn unknown_marker(index: usize) -> String {
    format!("<unknown hpack index {index}>")
}

/// The text that stands for a Huffman-coded string that does not decode.
const INVALID_HUFFMAN_MARKER: &[u8] = b"<invalid hpack huffman string>";

/// One decoded field, as sent (HTTP/2 names are lower-case on the wire).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

/// A dynamic table entry; `size` counts only the known octets (a marker counts 0), so it is a
/// lower bound of the encoder's count.
#[derive(Clone, Debug)]
struct Entry {
    name: Vec<u8>,
    value: Vec<u8>,
    size: usize,
}

/// What one field block gave.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    /// Fields in order (up to the header list cap).
    pub(crate) fields: Vec<Field>,
    /// Oddities worth an anomaly (invalid Huffman, bad index, broken block…).
    pub(crate) problems: Vec<String>,
    /// Caps hit (header list, dynamic table size).
    pub(crate) limits: Vec<String>,
    /// References to entries that were never seen.
    pub(crate) unknown: usize,
}

/// A representation whose length cannot be known: decoding of the block stops.
#[derive(Debug)]
struct Broken(String);

/// The HPACK decoding context of one direction (one peer's encoder).
#[derive(Debug)]
pub(crate) struct HpackDecoder {
    /// Newest first.
    entries: VecDeque<Entry>,
    /// Sum of the entries' sizes.
    size: usize,
    /// Size from the last dynamic table size update, or the initial 4096; `None` when unknown.
    announced: Option<usize>,
    /// `SETTINGS_HEADER_TABLE_SIZE` sent by the decoding side, when seen.
    settings: Option<usize>,
    /// `max_dynamic_table`.
    cap: usize,
    /// Older entries than the known ones may exist.
    partial: bool,
    /// The cap was reported once.
    cap_reported: bool,
}

/// Reads an HPACK integer with an `prefix`-bit prefix from the start of `buf` (RFC 7541 §5.1):
/// (value, octets used).
fn integer(buf: &[u8], prefix: u32) -> Result<(usize, usize), Broken> {
    let mask: u8 = u8::MAX >> (8u32.saturating_sub(prefix));
    let first = buf
        .first()
        .ok_or_else(|| Broken("field block ends inside an integer".into()))?
        & mask;
    if first < mask {
        return Ok((usize::from(first), 1));
    }
    let mut value = u64::from(mask);
    for i in 1..=MAX_INTEGER_CONTINUATIONS {
        let b = *buf
            .get(i)
            .ok_or_else(|| Broken("field block ends inside an integer".into()))?;
        let shift = 7u32.saturating_mul(u32::try_from(i - 1).unwrap_or(u32::MAX));
        value = value.saturating_add(u64::from(b & 0x7f) << shift);
        if b & 0x80 == 0 {
            return u32::try_from(value)
                .ok()
                .and_then(|v| usize::try_from(v).ok())
                .map(|v| (v, i.saturating_add(1)))
                .ok_or_else(|| Broken(format!("HPACK integer {value} too large")));
        }
    }
    Err(Broken(format!(
        "HPACK integer longer than {MAX_INTEGER_CONTINUATIONS} continuation octets"
    )))
}

/// A string literal read from a field block: its bytes (decoded when wanted) and length used.
struct Literal {
    bytes: Option<Vec<u8>>,
    used: usize,
    problem: Option<String>,
}

/// Reads a string literal (RFC 7541 §5.2); `want`: decode it (else only skip it).
fn string(buf: &[u8], want: bool) -> Result<Literal, Broken> {
    let huffman = buf.first().is_some_and(|b| b & 0x80 != 0);
    let (len, head) = integer(buf, 7)?;
    let end = head
        .checked_add(len)
        .filter(|&e| e <= buf.len())
        .ok_or_else(|| {
            Broken(format!(
                "string of {len} octets runs past the end of the field block"
            ))
        })?;
    let raw = buf.get(head..end).unwrap_or_default();
    let mut problem = None;
    let bytes = want.then(|| {
        if !huffman {
            return raw.to_vec();
        }
        huffman::decode(raw).unwrap_or_else(|e| {
            problem = Some(format!("{e} in a {len}-octet string"));
            INVALID_HUFFMAN_MARKER.to_vec()
        })
    });
    Ok(Literal {
        bytes,
        used: end,
        problem,
    })
}

impl HpackDecoder {
    /// A decoder for a connection seen from its start (`partial` false) or joined late.
    pub(crate) fn new(cap: usize, partial: bool) -> Self {
        Self {
            entries: VecDeque::new(),
            size: 0,
            announced: (!partial).then_some(DEFAULT_TABLE_SIZE),
            settings: None,
            cap,
            partial,
            cap_reported: false,
        }
    }

    /// Whether the table may be missing entries.
    #[cfg(test)]
    pub(crate) fn is_partial(&self) -> bool {
        self.partial
    }

    /// The connection's start was seen (client preface, server's first SETTINGS): the encoder
    /// starts from an empty table of the default size, so nothing is unknown.
    pub(crate) fn mark_fresh(&mut self) {
        if self.entries.is_empty() {
            self.partial = false;
            self.announced = Some(DEFAULT_TABLE_SIZE);
        }
    }

    /// The encoder's state can no longer be followed (lost bytes, a dropped or broken block):
    /// every dynamic reference from now on is unknown until new entries are inserted.
    pub(crate) fn lose_state(&mut self) {
        self.entries.clear();
        self.size = 0;
        self.announced = None;
        self.partial = true;
    }

    /// The decoding side sent `SETTINGS_HEADER_TABLE_SIZE`.
    pub(crate) fn set_settings_size(&mut self, size: usize) {
        self.settings = Some(size);
    }

    /// The eviction bound: see the module docs.
    fn bound(&self) -> usize {
        match self.announced {
            None => self.cap,
            Some(a) => a.max(self.settings.unwrap_or(0)).min(self.cap),
        }
    }

    fn evict(&mut self) {
        let bound = self.bound();
        while self.size > bound {
            let Some(old) = self.entries.pop_back() else {
                self.size = 0;
                break;
            };
            self.size = self.size.saturating_sub(old.size);
        }
    }

    fn insert(&mut self, name: Vec<u8>, value: Vec<u8>, known_len: usize) {
        let size = known_len.saturating_add(ENTRY_OVERHEAD);
        if size > self.bound() {
            // RFC 7541 §4.4: an entry larger than the table empties it.
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.entries.push_front(Entry { name, value, size });
        self.size = self.size.saturating_add(size);
        self.evict();
    }

    /// The (name, value) at `index`, `None` when it is an entry never seen. Index 0 is the
    /// caller's problem.
    fn lookup(&self, index: usize) -> Option<(Vec<u8>, Vec<u8>)> {
        if let Some((n, v)) = index.checked_sub(1).and_then(|i| STATIC_TABLE.get(i)) {
            return Some((n.as_bytes().to_vec(), v.as_bytes().to_vec()));
        }
        let dynamic = index.checked_sub(STATIC_TABLE.len().saturating_add(1))?;
        self.entries
            .get(dynamic)
            .map(|e| (e.name.clone(), e.value.clone()))
    }

    /// Decodes one complete field block, keeping at most `max_list` octets of fields (counted as
    /// RFC 9113 §6.5.2 does: name + value + 32 each).
    pub(crate) fn decode(&mut self, block: &[u8], max_list: usize) -> Decoded {
        let mut out = Decoded::default();
        let mut list_size = 0usize;
        let mut full = false;
        let mut pos = 0usize;
        let mut missing_refs = Vec::new();
        while let Some(rest) = block.get(pos..).filter(|r| !r.is_empty()) {
            let emitting = !full;
            match self.representation(rest, emitting, &mut out, &mut missing_refs) {
                Ok((used, field)) => {
                    pos = pos.saturating_add(used.max(1));
                    if let Some(field) = field {
                        let size = field
                            .name
                            .len()
                            .saturating_add(field.value.len())
                            .saturating_add(ENTRY_OVERHEAD);
                        if list_size.saturating_add(size) > max_list {
                            full = true;
                            out.limits.push(format!(
                                "header list larger than max_header_list ({max_list} octets): \
                                 fields after the first {} dropped",
                                out.fields.len()
                            ));
                        } else {
                            list_size = list_size.saturating_add(size);
                            out.fields.push(field);
                        }
                    }
                }
                Err(Broken(why)) => {
                    out.problems.push(format!(
                        "HPACK field block broken at octet {pos} of {}: {why}; later references \
                         to the dynamic table are unknown",
                        block.len()
                    ));
                    self.lose_state();
                    break;
                }
            }
        }
        if !missing_refs.is_empty() {
            out.unknown = missing_refs.len();
            let shown: Vec<String> = missing_refs.iter().take(8).map(|i| i.to_string()).collect();
            let more = if missing_refs.len() > 8 { ", …" } else { "" };
            let why = if self.partial {
                "never seen (capture joined mid-connection or bytes were lost)"
            } else {
                "beyond the dynamic table"
            };
            out.problems.push(format!(
                "{} HPACK reference(s) to dynamic table entries {why}: index {}{more}",
                missing_refs.len(),
                shown.join(", ")
            ));
        }
        out
    }

    /// Decodes one representation at the start of `rest`: (octets used, field to emit).
    fn representation(
        &mut self,
        rest: &[u8],
        emitting: bool,
        out: &mut Decoded,
        missing: &mut Vec<usize>,
    ) -> Result<(usize, Option<Field>), Broken> {
        let first = rest.first().copied().unwrap_or(0);
        if first & 0x80 != 0 {
            // Indexed field (§6.1).
            let (index, used) = integer(rest, 7)?;
            if index == 0 {
                out.problems
                    .push("HPACK indexed field with index 0 skipped".into());
                return Ok((used, None));
            }
            let field = match self.lookup(index) {
                Some((name, value)) => Field { name, value },
                None => {
                    missing.push(index);
                    let marker = unknown_marker(index).into_bytes();
                    Field {
                        name: marker.clone(),
                        value: marker,
                    }
                }
            };
            return Ok((used, emitting.then_some(field)));
        }
        if first & 0xe0 == 0x20 {
            // Dynamic table size update (§6.3).
            let (size, used) = integer(rest, 5)?;
            if let Some(settings) = self.settings.filter(|&s| size > s) {
                out.problems.push(format!(
                    "HPACK table size update to {size} above SETTINGS_HEADER_TABLE_SIZE {settings}"
                ));
            }
            if size > self.cap && !self.cap_reported {
                self.cap_reported = true;
                out.limits.push(format!(
                    "HPACK dynamic table size {size} capped at max_dynamic_table ({} octets): \
                     older entries may decode as unknown",
                    self.cap
                ));
            }
            self.announced = Some(size);
            self.evict();
            return Ok((used, None));
        }
        // Literal field: with incremental indexing (§6.2.1), without indexing (§6.2.2), never
        // indexed (§6.2.3).
        let indexing = first & 0xc0 == 0x40;
        let prefix = if indexing { 6 } else { 4 };
        let (name_index, mut used) = integer(rest, prefix)?;
        let want = emitting || indexing;
        let mut name_known = true;
        let name = if name_index == 0 {
            let lit = string(rest.get(used..).unwrap_or_default(), want)?;
            used = used.saturating_add(lit.used);
            out.problems.extend(lit.problem);
            lit.bytes.unwrap_or_default()
        } else {
            match self.lookup(name_index) {
                Some((name, _)) => name,
                None => {
                    missing.push(name_index);
                    name_known = false;
                    unknown_marker(name_index).into_bytes()
                }
            }
        };
        let lit = string(rest.get(used..).unwrap_or_default(), want)?;
        used = used.saturating_add(lit.used);
        let value_known = lit.problem.is_none();
        out.problems.extend(lit.problem);
        let value = lit.bytes.unwrap_or_default();
        if indexing {
            let known_len = if name_known { name.len() } else { 0 }
                .saturating_add(if value_known { value.len() } else { 0 });
            self.insert(name.clone(), value.clone(), known_len);
        }
        Ok((used, emitting.then_some(Field { name, value })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(d: &Decoded) -> Vec<(String, String)> {
        d.fields
            .iter()
            .map(|f| {
                (
                    String::from_utf8_lossy(&f.name).into_owned(),
                    String::from_utf8_lossy(&f.value).into_owned(),
                )
            })
            .collect()
    }

    fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn integers() {
        assert_eq!(integer(&[10], 5).unwrap(), (10, 1));
        // RFC 7541 C.1.2: 1337 with a 5-bit prefix.
        assert_eq!(integer(&[31, 154, 10], 5).unwrap(), (1337, 3));
        assert_eq!(integer(&[0xff, 0x80, 0x01], 7).unwrap(), (255, 3));
        assert_eq!(integer(&[42], 8).unwrap(), (42, 1));
        assert!(integer(&[31, 154], 5).is_err());
        assert!(integer(&[], 5).is_err());
        // Overflow: beyond u32, and too many continuation octets.
        assert!(integer(&[31, 0xff, 0xff, 0xff, 0xff, 0x7f], 5).is_err());
        assert!(integer(&[31, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 5).is_err());
        assert_eq!(
            integer(&[0x7f, 0x80, 0xff, 0xff, 0xff, 0x0f], 7).unwrap().0,
            u32::MAX as usize
        );
    }

    /// RFC 7541 C.3: three requests without Huffman coding, sharing a dynamic table.
    #[test]
    fn rfc7541_c3_requests() {
        let mut d = HpackDecoder::new(64 << 10, false);
        let r1 = d.decode(b"\x82\x86\x84\x41\x0fwww.example.com", 1 << 20);
        assert_eq!(
            pairs(&r1),
            p(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com")
            ])
        );
        assert!(r1.problems.is_empty());
        assert_eq!(d.size, 57);
        let r2 = d.decode(b"\x82\x86\x84\xbe\x58\x08no-cache", 1 << 20);
        assert_eq!(pairs(&r2)[3], p(&[(":authority", "www.example.com")])[0]);
        assert_eq!(pairs(&r2)[4], p(&[("cache-control", "no-cache")])[0]);
        let r3 = d.decode(
            b"\x82\x87\x85\xbf\x40\x0acustom-key\x0ccustom-value",
            1 << 20,
        );
        assert_eq!(
            pairs(&r3),
            p(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value")
            ])
        );
        assert_eq!(d.size, 164);
        assert_eq!(d.entries.len(), 3);
    }

    /// RFC 7541 C.6: responses with Huffman coding and a 256-octet table that evicts.
    #[test]
    fn rfc7541_c6_responses_with_eviction() {
        let hex = |s: &str| -> Vec<u8> {
            let s: String = s.split_whitespace().collect();
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let mut d = HpackDecoder::new(64 << 10, false);
        // The peer said SETTINGS_HEADER_TABLE_SIZE 256 and the encoder announced it.
        d.set_settings_size(256);
        let r1 = d.decode(
            &hex("3fe1 01 4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"),
            1 << 20,
        );
        assert_eq!(
            pairs(&r1),
            p(&[
                (":status", "302"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                ("location", "https://www.example.com")
            ])
        );
        assert_eq!(d.size, 222);
        let r2 = d.decode(&hex("4883 640e ffc1 c0bf"), 1 << 20);
        assert_eq!(pairs(&r2)[0], p(&[(":status", "307")])[0]);
        assert_eq!(pairs(&r2)[3].1, "https://www.example.com");
        assert_eq!(d.size, 222);
        let r3 = d.decode(
            &hex("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"),
            1 << 20,
        );
        assert_eq!(
            pairs(&r3),
            p(&[
                (":status", "200"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
                ("location", "https://www.example.com"),
                ("content-encoding", "gzip"),
                (
                    "set-cookie",
                    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
                )
            ])
        );
        assert!(r3.problems.is_empty(), "{:?}", r3.problems);
        assert_eq!(d.size, 215);
        assert_eq!(d.entries.len(), 3);
    }

    #[test]
    fn unknown_entries_are_never_guessed() {
        // Joined mid-connection: index 62 and 70 were inserted before the capture.
        let mut d = HpackDecoder::new(64 << 10, true);
        let r = d.decode(b"\x82\xbe\x44\x01x\x7f\x07\x03abc", 1 << 20);
        assert_eq!(
            pairs(&r),
            p(&[
                (":method", "GET"),
                ("<unknown hpack index 62>", "<unknown hpack index 62>"),
                (":path", "x"),
                ("<unknown hpack index 70>", "abc"),
            ])
        );
        assert_eq!(r.unknown, 2);
        assert!(r.problems[0].contains("never seen"), "{:?}", r.problems);
        // The two insertions are known now (newest first); what lies beyond them is not.
        let r = d.decode(b"\xbe\xbf\xc0", 1 << 20);
        assert_eq!(
            pairs(&r),
            p(&[
                ("<unknown hpack index 70>", "abc"),
                (":path", "x"),
                ("<unknown hpack index 64>", "<unknown hpack index 64>"),
            ])
        );
    }

    #[test]
    fn broken_blocks_keep_what_came_before() {
        let mut d = HpackDecoder::new(64 << 10, false);
        // A string whose length runs past the block.
        let r = d.decode(b"\x82\x40\x03abc\x05xyz", 1 << 20);
        assert_eq!(pairs(&r), p(&[(":method", "GET")]));
        assert!(r.problems[0].contains("runs past"));
        assert!(d.is_partial());
        // Huffman garbage: replaced, and decoding goes on.
        let mut d = HpackDecoder::new(64 << 10, false);
        let r = d.decode(b"\x40\x01a\x81\xff\x84", 1 << 20);
        assert_eq!(
            pairs(&r),
            p(&[("a", "<invalid hpack huffman string>"), (":path", "/")])
        );
        assert!(r.problems[0].contains("Huffman"));
        // An integer overflow in an index.
        let r = d.decode(b"\x84\xff\xff\xff\xff\xff\xff\xff\x7f\x82", 1 << 20);
        assert_eq!(pairs(&r), p(&[(":path", "/")]));
        assert!(r.problems[0].contains("integer"));
    }

    #[test]
    fn table_and_list_caps() {
        // The peer allows a 1 GiB table; ours stays at 100 octets.
        let mut d = HpackDecoder::new(100, false);
        d.set_settings_size(1 << 30);
        // A size update to 8 MiB and more: 31 + 0x61 + (0x7f << 7) + (0x7f << 14) + (3 << 21).
        let mut block = vec![0x3f, 0xe1, 0xff, 0xff, 0x03];
        block.extend(b"\x40\x01a\x20");
        block.extend([b'v'; 32]);
        block.extend(b"\x40\x01b\x20");
        block.extend([b'w'; 32]);
        let r = d.decode(&block, 1 << 20);
        assert_eq!(r.fields.len(), 2);
        assert!(r.limits[0].contains("capped at max_dynamic_table"));
        assert!(d.size <= 100);
        assert_eq!(d.entries.len(), 1);
        // HPACK bomb: one 4000-octet entry referenced a thousand times.
        let mut d = HpackDecoder::new(64 << 10, false);
        // Literal with indexing, name "x", value length 127 + 0x21 + (0x1e << 7) = 4000.
        let mut block = b"\x40\x01x\x7f\xa1\x1e".to_vec();
        block.extend(vec![b'z'; 4000]);
        block.extend(vec![0xbe; 1000]);
        let r = d.decode(&block, 64 << 10);
        assert_eq!(r.fields.len(), 16);
        assert_eq!(r.limits.len(), 1);
        assert!(r.limits[0].contains("max_header_list"));
    }
}
