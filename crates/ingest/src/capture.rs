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
    let format = sniff_stream(&mut input, &name, compression)?;
    let mut out = Emitter {
        name,
        compression,
        on,
        frames: 0,
    };
    match format {
        Format::Pcap => pcap::read(&mut input, &mut out)?,
        Format::Pcapng => pcapng::read(&mut input, &mut out)?,
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
