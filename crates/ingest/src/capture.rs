//! Packet captures (pcap, pcapng, optionally compressed) as a stream of [`CaptureEvent`]s.

use crate::input::{self, Compression, Decompressed};
use crate::sniff::sniff_stream;
use crate::{pcap, pcapng, Error, ErrorKind, Format};
use phonehome_model::{Timestamp, Warning, WarningCode};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

/// One captured packet, borrowed from the reader's buffer for the duration of the callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 1-based frame number across the whole file (all pcapng sections), as Wireshark counts.
    pub number: u64,
    /// When the packet was captured (UTC), after the interface's resolution and offset.
    pub time: Timestamp,
    /// Link-layer type (`LINKTYPE_*`: 1 Ethernet, 0 BSD loopback, 101 raw IP, 113 Linux SLL…).
    pub linktype: u32,
    /// The captured bytes (possibly fewer than `orig_len` when the capture was snap-length cut).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// Byte offset of the record (pcap) or block (pcapng) in the decompressed stream.
    pub offset: u64,
    /// pcapng interface id within its section (0 for pcap).
    pub interface: u32,
}

/// One thing found in a capture, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureEvent<'a> {
    /// A packet.
    Frame(Frame<'a>),
    /// A pcapng Decryption Secrets Block: secrets type (e.g. [`SECRETS_TLS_KEY_LOG`]) and raw data.
    Secrets {
        /// Secrets type: `0x544c534b` TLS key log, `0x57474b4c` WireGuard, …
        kind: u32,
        /// The secrets as stored (a TLS key log is NSS key log text).
        data: &'a [u8],
    },
    /// A problem in the file; reading went on (or stopped) after it as the reason says.
    Warning(Warning),
}

/// Decryption Secrets Block type of a TLS key log (NSS `SSLKEYLOGFILE` format), `"TLSK"`.
pub const SECRETS_TLS_KEY_LOG: u32 = 0x544c_534b;

/// What [`read_capture`] read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames delivered.
    pub frames: u64,
    /// Bytes of the decompressed stream consumed.
    pub bytes: u64,
    /// pcap or pcapng.
    pub format: Format,
    /// True when the file was gzip-compressed.
    pub gzip: bool,
    /// True when the file was zlib-compressed.
    pub zlib: bool,
}

/// Reads a pcap or pcapng file (optionally gzip- or zlib-compressed, recognised by content) and
/// calls `on` for every frame, secrets block and warning, in file order. `name` is how the file is
/// named in warnings and errors.
///
/// Returns `Err` only when nothing at all can be read: the file cannot be opened, its format is
/// unknown (or HAR), or its file header is invalid. Everything later is a
/// [`CaptureEvent::Warning`]; frames before the problem are always delivered.
pub fn read_capture(
    path: &Path,
    name: Arc<str>,
    on: &mut dyn FnMut(CaptureEvent<'_>),
) -> Result<CaptureStats, Error> {
    let file = File::open(path).map_err(|e| Error::io(name.clone(), e))?;
    read_capture_from(file, name, on)
}

/// [`read_capture`] over any reader; the format and compression are recognised from the content.
/// The reader is read in large blocks, so it needs no buffering of its own.
pub fn read_capture_from(
    reader: impl Read,
    name: Arc<str>,
    on: &mut dyn FnMut(CaptureEvent<'_>),
) -> Result<CaptureStats, Error> {
    let (compression, mut input) = input::open(reader).map_err(|e| Error::io(name.clone(), e))?;
    read_stream(compression, &mut input, name, on)
}

/// Reads the capture in an opened (decompressed) stream.
fn read_stream(
    compression: Compression,
    input: &mut Decompressed<'_>,
    name: Arc<str>,
    on: &mut dyn FnMut(CaptureEvent<'_>),
) -> Result<CaptureStats, Error> {
    let format = sniff_stream(input, &name, compression)?;
    let mut out = Emitter {
        name,
        compression,
        on,
        frames: 0,
    };
    match format {
        Format::Pcap => pcap::read(input, &mut out)?,
        Format::Pcapng => pcapng::read(input, &mut out)?,
        Format::Har => {
            return Err(Error::new(
                out.name,
                None,
                ErrorKind::WrongFormat { found: format },
            ));
        }
    }
    Ok(CaptureStats {
        frames: out.frames,
        bytes: input.offset(),
        format,
        gzip: compression == Compression::Gzip,
        zlib: compression == Compression::Zlib,
    })
}

/// Where the format readers send what they find; numbers the frames.
pub(crate) struct Emitter<'f> {
    pub(crate) name: Arc<str>,
    compression: Compression,
    on: &'f mut dyn FnMut(CaptureEvent<'_>),
    /// Frames delivered so far (the last frame's number).
    pub(crate) frames: u64,
}

impl Emitter<'_> {
    /// Delivers a frame, giving it the next number.
    #[inline]
    pub(crate) fn frame(
        &mut self,
        time: Timestamp,
        linktype: u32,
        data: &[u8],
        orig_len: u32,
        offset: u64,
        interface: u32,
    ) {
        self.frames = self.frames.saturating_add(1);
        let number = self.frames;
        (self.on)(CaptureEvent::Frame(Frame {
            number,
            time,
            linktype,
            data,
            orig_len,
            offset,
            interface,
        }));
    }

    pub(crate) fn secrets(&mut self, kind: u32, data: &[u8]) {
        (self.on)(CaptureEvent::Secrets { kind, data });
    }

    pub(crate) fn warn(&mut self, code: WarningCode, offset: u64, reason: String) {
        let warning = Warning::new(code, self.name.clone(), reason).at_offset(offset);
        (self.on)(CaptureEvent::Warning(warning));
    }

    /// Reports a read error (corrupt or truncated compressed stream, I/O failure) after which
    /// reading stops.
    pub(crate) fn read_failed(&mut self, input: &Decompressed<'_>, err: &io::Error) {
        let code = if err.kind() == io::ErrorKind::UnexpectedEof {
            WarningCode::Truncated
        } else {
            WarningCode::Malformed
        };
        let what = match self.compression {
            Compression::None => "read error",
            Compression::Gzip => "gzip",
            Compression::Zlib => "zlib",
        };
        self.warn(
            code,
            input.read_offset(),
            format!("{what}: {err}; reading stopped"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_BUFFER_LEN;
    use flate2::write::GzEncoder;
    use std::io::Write;

    /// Garbage the reviewer found made resynchronisation quadratic: 8-byte units that each look
    /// like an Enhanced Packet Block header announcing 16 777 196 bytes (just under
    /// [`crate::MAX_BLOCK_LEN`]), whose trailer never matches. Confirming each candidate needs
    /// 16 MiB buffered ahead of it.
    const GARBAGE_UNIT: [u8; 8] = [0x06, 0, 0, 0, 0xec, 0xff, 0xff, 0x00];

    /// Units per gzip member (1 MiB of garbage).
    const UNITS_PER_MEMBER: usize = 1 << 17;

    /// A little-endian pcapng Section Header Block (no options).
    fn section_header() -> Vec<u8> {
        let mut b = Vec::new();
        for v in [0x0a0d_0d0au32, 28, 0x1a2b_3c4d, 1] {
            b.extend(v.to_le_bytes());
        }
        b.extend(u64::MAX.to_le_bytes());
        b.extend(28u32.to_le_bytes());
        b
    }

    /// An Interface Description Block (Ethernet) and one Enhanced Packet Block carrying `data`.
    fn interface_and_packet(data: &[u8; 4]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [1u32, 20, 1, 0, 20] {
            b.extend(v.to_le_bytes());
        }
        for v in [6u32, 36, 0, 0, 7, 4, 4] {
            b.extend(v.to_le_bytes());
        }
        b.extend(data);
        b.extend(36u32.to_le_bytes());
        b
    }

    fn gzip_member(bytes: &[u8]) -> Vec<u8> {
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    /// Reads `file` and returns the frames' data, the warnings, the bytes read, the length of the
    /// decompressed stream and the bytes the read buffer moved.
    fn read_counting(file: &[u8]) -> (Vec<Vec<u8>>, Vec<String>, u64, u64) {
        let (compression, mut input) = input::open(file).unwrap();
        let (mut frames, mut warnings) = (Vec::new(), Vec::new());
        let stats = read_stream(
            compression,
            &mut input,
            Arc::from("garbage.pcapng"),
            &mut |e| match e {
                CaptureEvent::Frame(f) => frames.push(f.data.to_vec()),
                CaptureEvent::Warning(w) => warnings.push(w.to_string()),
                CaptureEvent::Secrets { .. } => {}
            },
        )
        .unwrap();
        (frames, warnings, stats.bytes, input.moved())
    }

    #[test]
    fn resynchronising_over_garbage_claiming_maximal_blocks_is_linear() {
        let members = 21; // 21 MiB of garbage: well past the 16 MiB a candidate needs
        let garbage: Vec<u8> = GARBAGE_UNIT.repeat(UNITS_PER_MEMBER);
        let garbage_len = (garbage.len() * members) as u64;

        // Garbage, then a valid block, uncompressed.
        let tail = interface_and_packet(b"live");
        let mut plain = section_header();
        for _ in 0..members {
            plain.extend(&garbage);
        }
        plain.extend(&tail);
        let (frames, warnings, bytes, moved) = read_counting(&plain);
        assert_eq!(frames, [b"live".to_vec()], "the block after the garbage");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].ends_with(&format!(
                "offset 28: malformed: pcapng: block trailing length 6 does not match its total \
                 length 16777196; skipped {garbage_len} bytes to the next valid block"
            )),
            "{}",
            warnings[0]
        );
        assert_eq!(bytes, plain.len() as u64);
        // Every byte moved at most once, plus the copies made growing to the largest buffer.
        // Moving the window for each candidate (every 8 bytes) would move terabytes.
        let bound = bytes + 2 * MAX_BUFFER_LEN as u64;
        assert!(moved <= bound, "plain: moved {moved} bytes, bound {bound}");
        println!("plain: {bytes} bytes read, {moved} bytes moved (bound {bound})");

        // Garbage to the end of the file, gzip-compressed (the reviewer's case: a small .gz that
        // used to hang). Concatenated members are one stream for MultiGzDecoder, so the test
        // compresses 1 MiB rather than 21.
        let member = gzip_member(&garbage);
        let mut gz = gzip_member(&section_header());
        for _ in 0..members {
            gz.extend(&member);
        }
        assert!(gz.len() * 100 < plain.len(), "{} bytes of gzip", gz.len());
        let (frames, warnings, bytes, moved) = read_counting(&gz);
        assert!(frames.is_empty());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].ends_with(&format!(
                "no valid block in the remaining {garbage_len} bytes"
            )),
            "{}",
            warnings[0]
        );
        assert_eq!(bytes, 28 + garbage_len);
        let bound = bytes + 2 * MAX_BUFFER_LEN as u64;
        assert!(moved <= bound, "gzip: moved {moved} bytes, bound {bound}");
        println!(
            "gzip ({} bytes): {bytes} bytes read, {moved} bytes moved (bound {bound})",
            gz.len()
        );
    }
}
