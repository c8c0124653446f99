//! Recognising an input by its content: compression first, then the format of what is inside.

use crate::input::{self, Compression, Decompressed};
use crate::{Error, ErrorKind};
use std::fmt;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// How many leading bytes of the decompressed stream are examined to recognise the format. A HAR
/// file whose `{` comes after more leading whitespace than this is not recognised.
pub const SNIFF_LEN: usize = 512;

/// How many leading bytes an [`ErrorKind::UnknownFormat`] shows.
const SHOWN_BYTES: usize = 16;

/// The UTF-8 byte order mark some HAR exporters write.
pub(crate) const UTF8_BOM: [u8; 3] = [0xef, 0xbb, 0xbf];

/// What an input file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Classic libpcap (`a1b2c3d4` microseconds or `a1b23c4d` nanoseconds, either byte order).
    Pcap,
    /// pcapng (starts with a Section Header Block, `0a0d0d0a`).
    Pcapng,
    /// HTTP Archive: a JSON object (optionally after a UTF-8 byte order mark and whitespace).
    Har,
}

impl Format {
    /// `pcap`, `pcapng` or `har`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pcap => "pcap",
            Self::Pcapng => "pcapng",
            Self::Har => "har",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`sniff_file`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sniffed {
    /// The format of the (decompressed) content.
    pub format: Format,
    /// True when the file is gzip-compressed.
    pub gzip: bool,
    /// True when the file is a zlib stream (mitmproxy `.zhar`).
    pub zlib: bool,
}

impl Sniffed {
    pub(crate) fn new(format: Format, compression: Compression) -> Self {
        Self {
            format,
            gzip: compression == Compression::Gzip,
            zlib: compression == Compression::Zlib,
        }
    }
}

/// Looks at the first bytes of `path` (through gzip or zlib when the file is compressed) and says
/// what it is.
///
/// Recognised: pcap magic `a1b2c3d4`/`d4c3b2a1` (µs) and `a1b23c4d`/`4d3cb2a1` (ns); the pcapng
/// section header `0a0d0d0a`; HAR, a JSON object (optional UTF-8 BOM, whitespace, then `{`).
/// Anything else is an [`ErrorKind::UnknownFormat`] error showing the first bytes in hex.
pub fn sniff_file(path: &Path) -> Result<Sniffed, Error> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let file = File::open(path).map_err(|e| Error::io(name.clone(), e))?;
    let (compression, mut input) = input::open(file).map_err(|e| Error::io(name.clone(), e))?;
    let format = sniff_stream(&mut input, &name, compression)?;
    Ok(Sniffed::new(format, compression))
}

/// Recognises the format at the start of `input` without consuming anything.
pub(crate) fn sniff_stream(
    input: &mut Decompressed<'_>,
    name: &Arc<str>,
    compression: Compression,
) -> Result<Format, Error> {
    // A stream that fails early (a truncated or corrupt gzip file) is still recognised from the
    // bytes that did arrive; the reader reports the failure where it happens.
    if let Err(e) = input.fill(SNIFF_LEN) {
        if input.data().is_empty() {
            let what = match compression {
                Compression::None => "cannot read",
                Compression::Gzip => "gzip",
                Compression::Zlib => "zlib",
            };
            let err = std::io::Error::new(e.kind(), format!("{what}: {e}"));
            return Err(Error::io(name.clone(), err));
        }
    }
    let head = input.data();
    if head.is_empty() {
        return Err(Error::new(name.clone(), None, ErrorKind::Empty));
    }
    format_of(head).ok_or_else(|| {
        let shown = head
            .iter()
            .take(SHOWN_BYTES)
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>();
        let first_bytes = shown.join(" ");
        Error::new(
            name.clone(),
            Some(0),
            ErrorKind::UnknownFormat { first_bytes },
        )
    })
}

/// The format whose signature `head` starts with.
pub(crate) fn format_of(head: &[u8]) -> Option<Format> {
    match head.get(..4) {
        Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xd4, 0xc3, 0xb2, 0xa1]) => return Some(Format::Pcap),
        Some([0xa1, 0xb2, 0x3c, 0x4d] | [0x4d, 0x3c, 0xb2, 0xa1]) => return Some(Format::Pcap),
        Some([0x0a, 0x0d, 0x0d, 0x0a]) => return Some(Format::Pcapng),
        _ => {}
    }
    let text = head.strip_prefix(&UTF8_BOM[..]).unwrap_or(head);
    match text
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        Some(b'{') => Some(Format::Har),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_signature() {
        let cases: [(&[u8], Option<Format>); 10] = [
            (&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0], Some(Format::Pcap)),
            (&[0xa1, 0xb2, 0xc3, 0xd4], Some(Format::Pcap)),
            (&[0x4d, 0x3c, 0xb2, 0xa1], Some(Format::Pcap)),
            (&[0xa1, 0xb2, 0x3c, 0x4d], Some(Format::Pcap)),
            (
                &[0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0],
                Some(Format::Pcapng),
            ),
            (b"{\"log\":{}}", Some(Format::Har)),
            (b"\xef\xbb\xbf \r\n\t{", Some(Format::Har)),
            (b"[{\"log\":{}}]", None),
            (b"\xef\xbb\xbf", None),
            (b"GET / HTTP/1.1\r\n", None),
        ];
        for (head, want) in cases {
            assert_eq!(format_of(head), want, "{head:02x?}");
        }
    }

    #[test]
    fn unknown_format_error_shows_the_first_bytes() {
        let name: Arc<str> = Arc::from("x.bin");
        let (c, mut input) =
            input::open(&b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00"[..])
                .unwrap();
        let err = sniff_stream(&mut input, &name, c).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.bin: offset 0: unknown format: not a pcap, pcapng or HAR file \
             (first bytes: 4d 5a 90 00 03 00 00 00 04 00 00 00 ff ff 00 00)"
        );
        let (c, mut input) = input::open(&b""[..]).unwrap();
        assert!(matches!(
            sniff_stream(&mut input, &name, c).unwrap_err().kind(),
            ErrorKind::Empty
        ));
    }
}
