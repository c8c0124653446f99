//! The byte layout of one IP data file (see the format section of the [`super`] module docs):
//! encoding for the builder, checked decoding for the loader. Decoding never panics and never
//! trusts a count or an index it has not checked against the bytes that are really there.

use super::{ErrorLocation, IpDataError};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::{Read, Write};

/// First bytes of a decompressed data file.
pub(crate) const MAGIC: &[u8; 4] = b"PHIP";
/// Layout version written after the magic.
pub(crate) const FORMAT_VERSION: u8 = 1;
/// Kind byte of a country file.
pub(crate) const KIND_COUNTRY: u8 = 1;
/// Kind byte of an AS file.
pub(crate) const KIND_ASN: u8 = 2;
/// Largest decompressed file accepted (guards `from_bytes` against gzip bombs).
const MAX_DECOMPRESSED: u64 = 256 << 20;

/// The decoded contents of one data file, before it is turned into lookup tables.
#[derive(Debug, Default)]
pub(crate) struct RawFile {
    pub kind: u8,
    pub source: String,
    pub date: String,
    pub strings: Vec<String>,
    /// AS files only: (AS number, index into `strings`).
    pub records: Vec<(u32, u32)>,
    /// IPv4 ranges.
    pub v4: Ranges<u32>,
    /// IPv6 ranges.
    pub v6: Ranges<u128>,
}

/// The ranges of one address family: strictly increasing starts, each range running up to the
/// next start, and a value for each (0 = no data).
#[derive(Debug, Default)]
pub(crate) struct Ranges<K> {
    pub starts: Vec<K>,
    pub values: Vec<u32>,
}

impl<K: Copy + TryFrom<u128>> Ranges<K> {
    /// From (start, value) pairs whose starts fit in `K` (others are left out; the builder only
    /// makes starts of the right family).
    pub fn from_pairs(pairs: &[(u128, u32)]) -> Self {
        let mut r = Ranges {
            starts: Vec::with_capacity(pairs.len()),
            values: Vec::with_capacity(pairs.len()),
        };
        for &(start, value) in pairs {
            if let Ok(k) = K::try_from(start) {
                r.starts.push(k);
                r.values.push(value);
            }
        }
        r
    }
}

// ---------------------------------------------------------------- encoding

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u128);
    out.extend_from_slice(s.as_bytes());
}

fn put_ranges<K: Copy + Into<u128>>(out: &mut Vec<u8>, ranges: &Ranges<K>) {
    put_varint(out, ranges.starts.len() as u128);
    let mut prev = 0u128;
    for (&start, &value) in ranges.starts.iter().zip(&ranges.values) {
        let start: u128 = start.into();
        let delta = start - prev;
        prev = start;
        let shift = if delta == 0 {
            0
        } else {
            delta.trailing_zeros()
        };
        out.push(shift as u8);
        put_varint(out, delta >> shift);
        put_varint(out, u128::from(value));
    }
}

/// Serialises and gzips a file. `ranges` must have strictly increasing starts (the builder
/// guarantees it); values index `strings` (country) or `records` (AS), 1-based, 0 = no data.
pub(crate) fn encode(file: &RawFile) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    out.push(file.kind);
    put_str(&mut out, &file.source);
    put_str(&mut out, &file.date);
    put_varint(&mut out, file.strings.len() as u128);
    for s in &file.strings {
        put_str(&mut out, s);
    }
    if file.kind == KIND_ASN {
        put_varint(&mut out, file.records.len() as u128);
        for &(asn, name) in &file.records {
            put_varint(&mut out, u128::from(asn));
            put_varint(&mut out, u128::from(name));
        }
    }
    put_ranges(&mut out, &file.v4);
    put_ranges(&mut out, &file.v6);
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(&out);
    gz.finish().unwrap_or_default()
}

// ---------------------------------------------------------------- decoding

struct Reader<'a> {
    file: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, reason: impl Into<String>) -> IpDataError {
        IpDataError::new(self.file, ErrorLocation::Byte(self.pos), reason)
    }

    fn byte(&mut self, what: &str) -> Result<u8, IpDataError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| self.error(format!("truncated: end of data inside {what}")))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self, what: &str) -> Result<u128, IpDataError> {
        let start = self.pos;
        let mut v = 0u128;
        for shift in (0..128).step_by(7) {
            let b = self.byte(what)?;
            let part = u128::from(b & 0x7f);
            if shift == 126 && part > 0b11 {
                self.pos = start;
                return Err(self.error(format!("{what}: number does not fit in 128 bits")));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        self.pos = start;
        Err(self.error(format!("{what}: number longer than 19 bytes")))
    }

    /// A count of items that each take at least `min_item_bytes` bytes: refused when the rest of
    /// the data cannot hold that many, so a corrupt count never causes a huge allocation.
    fn count(&mut self, what: &str, min_item_bytes: usize) -> Result<usize, IpDataError> {
        let n = self.varint(what)?;
        let left = (self.bytes.len() - self.pos) / min_item_bytes.max(1);
        match usize::try_from(n) {
            Ok(n) if n <= left => Ok(n),
            _ => Err(self.error(format!(
                "{what} is {n}, more than the {} bytes left can hold",
                self.bytes.len() - self.pos
            ))),
        }
    }

    fn u32(&mut self, what: &str) -> Result<u32, IpDataError> {
        let at = self.pos;
        let v = self.varint(what)?;
        u32::try_from(v).map_err(|_| {
            IpDataError::new(
                self.file,
                ErrorLocation::Byte(at),
                format!("{what} {v} does not fit in 32 bits"),
            )
        })
    }

    fn string(&mut self, what: &str) -> Result<String, IpDataError> {
        let len = self.count(&format!("length of {what}"), 1)?;
        let at = self.pos;
        let raw = &self.bytes[at..at + len];
        self.pos += len;
        String::from_utf8(raw.to_vec()).map_err(|_| {
            IpDataError::new(
                self.file,
                ErrorLocation::Byte(at),
                format!("{what} is not UTF-8"),
            )
        })
    }

    fn ranges<K: TryFrom<u128>>(
        &mut self,
        family: &str,
        values: usize,
    ) -> Result<Ranges<K>, IpDataError> {
        let n = self.count(&format!("{family} range count"), 3)?;
        let mut out = Ranges {
            starts: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
        };
        let mut prev: Option<u128> = None;
        for i in 0..n {
            let at = self.pos;
            let shift = self.byte("range start")?;
            let mantissa = self.varint("range start")?;
            let value = self.u32("range value")?;
            let err = |reason: String| {
                IpDataError::new(
                    self.file,
                    ErrorLocation::Byte(at),
                    format!("{family} range {i}: {reason}"),
                )
            };
            if shift >= 128 || (mantissa != 0 && mantissa.leading_zeros() < u32::from(shift)) {
                return Err(err(format!("start delta {mantissa} << {shift} overflows")));
            }
            let delta = mantissa << shift;
            let start = match prev {
                None => delta,
                Some(_) if delta == 0 => return Err(err("starts are not increasing".into())),
                Some(p) => p
                    .checked_add(delta)
                    .ok_or_else(|| err("start overflows".into()))?,
            };
            let Ok(key) = K::try_from(start) else {
                return Err(err(format!("start {start} is beyond the {family} space")));
            };
            if value as usize > values {
                return Err(err(format!(
                    "value {value} is beyond the table of {values} entries"
                )));
            }
            prev = Some(start);
            out.starts.push(key);
            out.values.push(value);
        }
        Ok(out)
    }
}

/// Gunzips and decodes one file; `file` names it in errors, `kind` is the kind byte expected.
pub(crate) fn decode(file: &str, gz: &[u8], kind: u8) -> Result<RawFile, IpDataError> {
    let mut bytes = Vec::new();
    GzDecoder::new(gz)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IpDataError::new(file, ErrorLocation::Whole, format!("bad gzip data: {e}")))?;
    if bytes.len() as u64 > MAX_DECOMPRESSED {
        return Err(IpDataError::new(
            file,
            ErrorLocation::Whole,
            format!("decompresses to more than {MAX_DECOMPRESSED} bytes"),
        ));
    }
    let mut r = Reader {
        file,
        bytes: &bytes,
        pos: 0,
    };
    if bytes.get(..4) != Some(MAGIC.as_slice()) {
        return Err(r.error("not a phonehome IP data file (magic bytes differ)"));
    }
    r.pos = 4;
    let version = r.byte("format version")?;
    if version != FORMAT_VERSION {
        return Err(r.error(format!(
            "format version {version}, this build reads {FORMAT_VERSION}"
        )));
    }
    let got = r.byte("kind")?;
    if got != kind {
        let name = |k| match k {
            KIND_COUNTRY => "country",
            KIND_ASN => "AS",
            _ => "unknown",
        };
        return Err(r.error(format!(
            "holds {} data, {} data expected",
            name(got),
            name(kind)
        )));
    }
    let source = r.string("source")?;
    let date = r.string("date")?;
    let n = r.count("string count", 1)?;
    let mut strings = Vec::with_capacity(n);
    for _ in 0..n {
        let s = r.string("table string")?;
        if kind == KIND_COUNTRY && !(s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(r.error(format!("country code {s:?} is not two letters A-Z")));
        }
        strings.push(s);
    }
    let mut records = Vec::new();
    if kind == KIND_ASN {
        let n = r.count("AS record count", 2)?;
        records.reserve(n);
        for _ in 0..n {
            let asn = r.u32("AS number")?;
            let name = r.u32("AS name index")?;
            if name as usize >= strings.len() {
                return Err(r.error(format!(
                    "AS{asn} names string {name}, the table has {}",
                    strings.len()
                )));
            }
            records.push((asn, name));
        }
    }
    let values = if kind == KIND_ASN {
        records.len()
    } else {
        strings.len()
    };
    let v4 = r.ranges("IPv4", values)?;
    let v6 = r.ranges("IPv6", values)?;
    if r.pos != bytes.len() {
        return Err(r.error(format!(
            "{} unexpected bytes after the IPv6 ranges",
            bytes.len() - r.pos
        )));
    }
    Ok(RawFile {
        kind,
        source,
        date,
        strings,
        records,
        v4,
        v6,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_overlong_ones_are_refused() {
        for v in [0u128, 1, 127, 128, 300, u128::from(u32::MAX), u128::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut r = Reader {
                file: "t",
                bytes: &out,
                pos: 0,
            };
            assert_eq!(r.varint("n").unwrap(), v);
            assert_eq!(r.pos, out.len());
        }
        let long = [0xffu8; 20];
        let mut r = Reader {
            file: "t",
            bytes: &long,
            pos: 0,
        };
        assert!(r.varint("n").is_err());
    }
}
