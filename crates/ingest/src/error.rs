//! The one error type of this crate: a file that cannot be read at all.
//!
//! Problems *after* a file's header (a truncated record, a bad block, a malformed HAR entry) are
//! not errors: they are delivered as [`phonehome_model::Warning`]s in the event stream, and reading
//! goes on as far as it can.

use crate::Format;
use std::fmt;
use std::io;
use std::sync::Arc;

/// A file that could not be read at all: which file, where, and why.
///
/// Displays as `capture.pcap: offset 24: pcap: record length 4294967295 exceeds 262144`.
#[derive(Debug)]
pub struct Error {
    file: Arc<str>,
    offset: Option<u64>,
    kind: ErrorKind,
}

/// Why a file could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be opened or read (includes a gzip stream that is corrupt from the start).
    Io(io::Error),
    /// The file is empty.
    Empty,
    /// The first bytes are not those of a pcap, pcapng or HAR file (nor of a gzip or zlib stream).
    UnknownFormat {
        /// The first bytes of the (decompressed) file, in hex.
        first_bytes: String,
    },
    /// The file is of a known format but not the one the caller asked for (a HAR given to
    /// [`crate::read_capture`], a pcap given to [`crate::read_har`]).
    WrongFormat {
        /// What the file is.
        found: Format,
    },
    /// The file header (pcap global header, first pcapng Section Header Block) is invalid.
    Malformed {
        /// What is wrong, prefixed by the format (`pcap: …`, `pcapng: …`).
        reason: String,
    },
    /// A HAR file that is not valid JSON (or not the expected JSON shape) before any entry.
    Json {
        /// 1-based line of the problem, as reported by the JSON parser.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the JSON parser said.
        reason: String,
    },
    /// Valid JSON that has no `log.entries` array, so it is not a HAR file.
    NoEntries {
        /// What was found instead.
        reason: String,
    },
}

impl Error {
    pub(crate) fn new(file: Arc<str>, offset: Option<u64>, kind: ErrorKind) -> Self {
        Self { file, offset, kind }
    }

    pub(crate) fn io(file: Arc<str>, err: io::Error) -> Self {
        Self::new(file, None, ErrorKind::Io(err))
    }

    pub(crate) fn malformed(file: Arc<str>, offset: u64, reason: impl Into<String>) -> Self {
        Self::new(
            file,
            Some(offset),
            ErrorKind::Malformed {
                reason: reason.into(),
            },
        )
    }

    /// The file the error is about, as named by the caller.
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    /// Byte offset in the (decompressed) file where the problem is, when known.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// Why the file could not be read.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(offset) = self.offset {
            write!(f, ": offset {offset}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(err) => write!(f, "cannot read: {err}"),
            Self::Empty => write!(f, "empty file"),
            Self::UnknownFormat { first_bytes } => write!(
                f,
                "unknown format: not a pcap, pcapng or HAR file (first bytes: {first_bytes})"
            ),
            Self::WrongFormat { found } => write!(f, "unexpected format: this is a {found} file"),
            Self::Malformed { reason } => write!(f, "{reason}"),
            Self::Json {
                line,
                column,
                reason,
            } => {
                write!(
                    f,
                    "har: invalid JSON at line {line} column {column}: {reason}"
                )
            }
            Self::NoEntries { reason } => write!(f, "har: not a HAR file: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(err) => Some(err),
            _ => None,
        }
    }
}
