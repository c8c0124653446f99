//! An HPACK encoder (RFC 7541) for the HTTP/2 header blocks this crate writes.
//!
//! It uses the static table, a dynamic table with eviction, literals with and without indexing,
//! never-indexed literals for credentials, and Huffman coding whenever it is shorter — the same
//! choices real clients make, so that a decoder meets every representation it must handle.

use std::collections::VecDeque;

/// Default dynamic table size (SETTINGS_HEADER_TABLE_SIZE's initial value, RFC 9113 6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;
/// Per-entry overhead counted in the dynamic table size (RFC 7541 section 4.1).
pub const ENTRY_OVERHEAD: usize = 32;
/// Headers whose values are written as never-indexed literals (RFC 7541 section 7.1.3).
pub const NEVER_INDEXED: [&str; 3] = ["authorization", "proxy-authorization", "set-cookie"];

/// How string literals are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StringCoding {
    /// Huffman-coded when that is shorter than the raw octets.
    Shortest,
    /// Always raw octets.
    Raw,
    /// Always Huffman-coded.
    Huffman,
}

/// How headers that are in no table are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Indexing {
    /// Literal with incremental indexing (added to the dynamic table), as browsers do.
    Incremental,
    /// Literal without indexing: the dynamic table stays empty.
    Never,
}

/// An HPACK encoder: one per direction of a connection, since each side keeps its own table.
///
/// ```
/// use phonehome_synth::hpack::HpackEncoder;
/// let mut enc = HpackEncoder::new();
/// let first = enc.encode(&[(":method", b"GET".as_slice()), ("x-device-id", b"356938035643809")]);
/// assert_eq!(first[0], 0x82, ":method GET is static entry 2");
/// let second = enc.encode(&[("x-device-id", b"356938035643809".as_slice())]);
/// assert_eq!(second, [0x80 | 62], "now the first dynamic entry");
/// ```
#[derive(Clone, Debug)]
pub struct HpackEncoder {
    /// Newest entry first (dynamic index 62 is `dynamic[0]`).
    dynamic: VecDeque<(Vec<u8>, Vec<u8>)>,
    size: usize,
    max_size: usize,
    /// A table size update to announce at the start of the next block.
    pending_size_update: Option<usize>,
    strings: StringCoding,
    indexing: Indexing,
}

impl Default for HpackEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HpackEncoder {
    /// An encoder with a 4096-byte dynamic table, incremental indexing and shortest strings.
    pub fn new() -> Self {
        Self {
            dynamic: VecDeque::new(),
            size: 0,
            max_size: DEFAULT_TABLE_SIZE,
            pending_size_update: None,
            strings: StringCoding::Shortest,
            indexing: Indexing::Incremental,
        }
    }

    /// Sets how string literals are written.
    pub fn with_strings(mut self, strings: StringCoding) -> Self {
        self.strings = strings;
        self
    }

    /// Sets how headers missing from the tables are written.
    pub fn with_indexing(mut self, indexing: Indexing) -> Self {
        self.indexing = indexing;
        self
    }

    /// Shrinks (or grows, up to the peer's SETTINGS_HEADER_TABLE_SIZE) the dynamic table; the
    /// next block starts with a dynamic table size update (RFC 7541 section 6.3).
    pub fn set_table_size(&mut self, size: usize) {
        self.max_size = size;
        self.evict(0);
        self.pending_size_update = Some(size);
    }

    /// Entries in the dynamic table.
    pub fn dynamic_len(&self) -> usize {
        self.dynamic.len()
    }

    /// Size of the dynamic table as RFC 7541 section 4.1 counts it.
    pub fn dynamic_size(&self) -> usize {
        self.size
    }

    /// Encodes one header list into a header block. Names should be lower case (HTTP/2 requires
    /// it); they are written as given.
    pub fn encode<V: AsRef<[u8]>>(&mut self, headers: &[(&str, V)]) -> Vec<u8> {
        let mut out = Vec::with_capacity(headers.len() * 24 + 8);
        self.encode_into(headers, &mut out);
        out
    }

    /// Encodes one header list, appending the block to `out`.
    pub fn encode_into<V: AsRef<[u8]>>(&mut self, headers: &[(&str, V)], out: &mut Vec<u8>) {
        if let Some(size) = self.pending_size_update.take() {
            encode_integer(out, 0x20, 5, size);
        }
        for (name, value) in headers {
            self.encode_header(name.as_bytes(), value.as_ref(), out);
        }
    }

    fn encode_header(&mut self, name: &[u8], value: &[u8], out: &mut Vec<u8>) {
        let never = NEVER_INDEXED
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(name));
        let (full, name_index) = self.find(name, value);
        if let (Some(index), false) = (full, never) {
            encode_integer(out, 0x80, 7, index);
            return;
        }
        if never {
            // 0001xxxx: never indexed.
            encode_integer(out, 0x10, 4, name_index.unwrap_or(0));
        } else if self.indexing == Indexing::Incremental {
            // 01xxxxxx: incremental indexing.
            encode_integer(out, 0x40, 6, name_index.unwrap_or(0));
        } else {
            // 0000xxxx: without indexing.
            encode_integer(out, 0x00, 4, name_index.unwrap_or(0));
        }
        if name_index.is_none() {
            self.encode_string(name, out);
        }
        self.encode_string(value, out);
        if !never && self.indexing == Indexing::Incremental {
            self.insert(name, value);
        }
    }

    /// (index of the exact entry, index of an entry with the same name), static table first.
    fn find(&self, name: &[u8], value: &[u8]) -> (Option<usize>, Option<usize>) {
        let mut name_index = None;
        for (i, (n, v)) in STATIC_TABLE.iter().enumerate() {
            if n.as_bytes() == name {
                if v.as_bytes() == value {
                    return (Some(i + 1), Some(i + 1));
                }
                name_index.get_or_insert(i + 1);
            }
        }
        for (i, (n, v)) in self.dynamic.iter().enumerate() {
            if n.as_slice() == name {
                let index = STATIC_TABLE.len() + 1 + i;
                if v.as_slice() == value {
                    return (Some(index), Some(index));
                }
                name_index.get_or_insert(index);
            }
        }
        (None, name_index)
    }

    fn insert(&mut self, name: &[u8], value: &[u8]) {
        let entry = name.len() + value.len() + ENTRY_OVERHEAD;
        if entry > self.max_size {
            // An entry larger than the table empties it (RFC 7541 section 4.4).
            self.dynamic.clear();
            self.size = 0;
            return;
        }
        self.evict(entry);
        self.dynamic.push_front((name.to_vec(), value.to_vec()));
        self.size += entry;
    }

    /// Evicts the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            match self.dynamic.pop_back() {
                Some((n, v)) => self.size -= n.len() + v.len() + ENTRY_OVERHEAD,
                None => {
                    self.size = 0;
                    break;
                }
            }
        }
    }

    fn encode_string(&self, s: &[u8], out: &mut Vec<u8>) {
        let huffman = match self.strings {
            StringCoding::Raw => false,
            StringCoding::Huffman => true,
            StringCoding::Shortest => huffman_len(s) < s.len(),
        };
        if huffman {
            encode_integer(out, 0x80, 7, huffman_len(s));
            huffman_encode(s, out);
        } else {
            encode_integer(out, 0x00, 7, s.len());
            out.extend_from_slice(s);
        }
    }
}

/// Appends an HPACK integer (RFC 7541 section 5.1) with an `prefix_bits`-bit prefix whose high
/// bits are `flags`.
pub fn encode_integer(out: &mut Vec<u8>, flags: u8, prefix_bits: u8, value: usize) {
    let max_prefix = (1usize << prefix_bits.clamp(1, 8)) - 1;
    if value < max_prefix {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// Length of `s` once Huffman-coded (RFC 7541 Appendix B), in bytes.
pub fn huffman_len(s: &[u8]) -> usize {
    let bits: usize = s
        .iter()
        .map(|&b| usize::from(HUFFMAN_CODES[usize::from(b)].1))
        .sum();
    bits.div_ceil(8)
}

/// Appends `s` Huffman-coded, padded with the most significant bits of EOS (all ones).
pub fn huffman_encode(s: &[u8], out: &mut Vec<u8>) {
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    for &b in s {
        let (code, len) = HUFFMAN_CODES[usize::from(b)];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1u64 << bits) - 1;
    }
    if bits > 0 {
        let pad = 8 - bits;
        out.push(((acc << pad) | ((1u64 << pad) - 1)) as u8);
    }
}

/// The static table (RFC 7541 Appendix A); index 1 is the first entry.
pub const STATIC_TABLE: [(&str, &str); 61] = [
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

/// The Huffman code (RFC 7541 Appendix B): (code, length in bits) for each octet, then EOS.
#[rustfmt::skip]
pub const HUFFMAN_CODES: [(u32, u8); 257] = [
    (0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28), (0xfffffe4, 28), (0xfffffe5, 28),
    (0xfffffe6, 28), (0xfffffe7, 28), (0xfffffe8, 28), (0xffffea, 24), (0x3ffffffc, 30), (0xfffffe9, 28),
    (0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28), (0xfffffec, 28), (0xfffffed, 28), (0xfffffee, 28),
    (0xfffffef, 28), (0xffffff0, 28), (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28),
    (0xffffff4, 28), (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28), (0xffffff8, 28), (0xffffff9, 28),
    (0xffffffa, 28), (0xffffffb, 28), (0x14, 6), (0x3f8, 10), (0x3f9, 10), (0xffa, 12),
    (0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11), (0x3fa, 10), (0x3fb, 10),
    (0xf9, 8), (0x7fb, 11), (0xfa, 8), (0x16, 6), (0x17, 6), (0x18, 6),
    (0x0, 5), (0x1, 5), (0x2, 5), (0x19, 6), (0x1a, 6), (0x1b, 6),
    (0x1c, 6), (0x1d, 6), (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),
    (0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10), (0x1ffa, 13), (0x21, 6),
    (0x5d, 7), (0x5e, 7), (0x5f, 7), (0x60, 7), (0x61, 7), (0x62, 7),
    (0x63, 7), (0x64, 7), (0x65, 7), (0x66, 7), (0x67, 7), (0x68, 7),
    (0x69, 7), (0x6a, 7), (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7),
    (0x6f, 7), (0x70, 7), (0x71, 7), (0x72, 7), (0xfc, 8), (0x73, 7),
    (0xfd, 8), (0x1ffb, 13), (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14), (0x22, 6),
    (0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5), (0x24, 6), (0x5, 5),
    (0x25, 6), (0x26, 6), (0x27, 6), (0x6, 5), (0x74, 7), (0x75, 7),
    (0x28, 6), (0x29, 6), (0x2a, 6), (0x7, 5), (0x2b, 6), (0x76, 7),
    (0x2c, 6), (0x8, 5), (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),
    (0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15), (0x7fc, 11), (0x3ffd, 14),
    (0x1ffd, 13), (0xffffffc, 28), (0xfffe6, 20), (0x3fffd2, 22), (0xfffe7, 20), (0xfffe8, 20),
    (0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22), (0x7fffd9, 23), (0x3fffd6, 22), (0x7fffda, 23),
    (0x7fffdb, 23), (0x7fffdc, 23), (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23),
    (0xffffec, 24), (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23), (0xffffee, 24), (0x7fffe1, 23),
    (0x7fffe2, 23), (0x7fffe3, 23), (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22), (0x7fffe5, 23),
    (0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24), (0x3fffda, 22), (0x1fffdd, 21),
    (0xfffe9, 20), (0x3fffdb, 22), (0x3fffdc, 22), (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21),
    (0x7fffea, 23), (0x3fffdd, 22), (0x3fffde, 22), (0xfffff0, 24), (0x1fffdf, 21), (0x3fffdf, 22),
    (0x7fffeb, 23), (0x7fffec, 23), (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),
    (0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23), (0xfffea, 20), (0x3fffe2, 22),
    (0x3fffe3, 22), (0x3fffe4, 22), (0x7ffff0, 23), (0x3fffe5, 22), (0x3fffe6, 22), (0x7ffff1, 23),
    (0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20), (0x7fff1, 19), (0x3fffe7, 22), (0x7ffff2, 23),
    (0x3fffe8, 22), (0x1ffffec, 25), (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27),
    (0x7ffffdf, 27), (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25), (0x7fff2, 19), (0x1fffe3, 21),
    (0x3ffffe6, 26), (0x7ffffe0, 27), (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27), (0xfffff2, 24),
    (0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26), (0xffffffd, 28), (0x7ffffe3, 27),
    (0x7ffffe4, 27), (0x7ffffe5, 27), (0xfffec, 20), (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21),
    (0x3fffe9, 22), (0x1fffe7, 21), (0x1fffe8, 21), (0x7ffff3, 23), (0x3fffea, 22), (0x3fffeb, 22),
    (0x1ffffee, 25), (0x1ffffef, 25), (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),
    (0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26), (0x7ffffe7, 27), (0x7ffffe8, 27),
    (0x7ffffe9, 27), (0x7ffffea, 27), (0x7ffffeb, 27), (0xffffffe, 28), (0x7ffffec, 27), (0x7ffffed, 27),
    (0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27), (0x3ffffee, 26), (0x3fffffff, 30),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn matches_rfc7541_c4_requests_with_huffman() {
        let mut enc = HpackEncoder::new();
        let b1 = enc.encode(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
        ]);
        assert_eq!(b1, hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
        let b2 = enc.encode(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
            ("cache-control", "no-cache"),
        ]);
        assert_eq!(b2, hex("8286 84be 5886 a8eb 1064 9cbf"));
        let b3 = enc.encode(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            (":authority", "www.example.com"),
            ("custom-key", "custom-value"),
        ]);
        assert_eq!(
            b3,
            hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")
        );
        assert_eq!(enc.dynamic_size(), 164, "RFC 7541 C.4.3 table size");
    }

    #[test]
    fn matches_rfc7541_c3_raw_strings() {
        let mut enc = HpackEncoder::new().with_strings(StringCoding::Raw);
        let b1 = enc.encode(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
        ]);
        assert_eq!(b1, hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
    }

    #[test]
    fn integers_follow_rfc7541_c1() {
        let mut out = Vec::new();
        encode_integer(&mut out, 0, 5, 10);
        assert_eq!(out, [0x0a]);
        out.clear();
        encode_integer(&mut out, 0, 5, 1337);
        assert_eq!(out, [0x1f, 0x9a, 0x0a]);
        out.clear();
        encode_integer(&mut out, 0, 8, 42);
        assert_eq!(out, [0x2a]);
    }

    #[test]
    fn evicts_and_never_indexes_credentials() {
        let mut enc = HpackEncoder::new();
        enc.set_table_size(100);
        let big = "v".repeat(60);
        let block = enc.encode(&[("x-a", big.as_str()), ("x-b", big.as_str())]);
        assert_eq!(block[0] & 0xe0, 0x20, "size update first");
        assert_eq!(enc.dynamic_len(), 1, "the first entry was evicted");
        assert!(enc.dynamic_size() <= 100);
        let before = enc.dynamic_len();
        let block = enc.encode(&[("authorization", "Bearer secret")]);
        assert_eq!(block[0] & 0xf0, 0x10, "never indexed");
        assert_eq!(enc.dynamic_len(), before);
        let huge = "x".repeat(200);
        enc.encode(&[("x-huge", huge.as_str())]);
        assert_eq!(
            enc.dynamic_len(),
            0,
            "an entry larger than the table empties it"
        );
    }

    #[test]
    fn round_trips_through_an_independent_decoder() {
        let mut enc = HpackEncoder::new();
        let mut dec = loona_hpack::Decoder::new();
        let all: Vec<u8> = (0u8..=255).collect();
        for round in 0..3 {
            let value = format!("imei=356938035643809&round={round}");
            let headers: Vec<(&str, &[u8])> = vec![
                (":method", b"POST"),
                (":path", b"/track/v4/event"),
                ("x-device-id", value.as_bytes()),
                ("x-binary", &all),
                ("authorization", b"Bearer t0k3n"),
            ];
            let block = enc.encode(&headers);
            let decoded = dec.decode(&block).unwrap();
            assert_eq!(decoded.len(), headers.len());
            for ((n, v), (dn, dv)) in headers.iter().zip(&decoded) {
                assert_eq!(n.as_bytes(), dn.as_slice());
                assert_eq!(*v, dv.as_slice());
            }
        }
    }
}
