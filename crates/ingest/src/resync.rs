//! Finding the next valid record or block after garbage.
//!
//! When a record or block header is impossible (absurd length, mismatched trailer), the reader
//! scans forward one byte at a time for a position where a header is valid *and* is confirmed by
//! what follows it (the next pcap record header, or the pcapng block's trailing length). The scan is
//! bounded by [`MAX_RESYNC_SCAN`] so garbage cannot make it run for ever.

use crate::input::Decompressed;
use std::io;

/// Most bytes skipped while looking for the next valid record or block (64 MiB); beyond it the
/// reader gives up and stops.
pub const MAX_RESYNC_SCAN: u64 = 64 << 20;

/// How a resynchronisation ended.
pub(crate) enum Resync {
    /// A valid record or block starts at the current offset, after skipping this many bytes.
    Found(u64),
    /// The stream ended first; this many bytes were skipped.
    EndOfStream(u64),
    /// Nothing valid within [`MAX_RESYNC_SCAN`] bytes.
    GaveUp(u64),
    /// Reading failed while scanning.
    ReadFailed(io::Error),
}

impl Resync {
    /// What happened, to append to the warning about the bad record.
    pub(crate) fn outcome(&self, unit: &str) -> String {
        match self {
            Self::Found(n) => format!("skipped {n} bytes to the next valid {unit}"),
            Self::EndOfStream(n) => format!("no valid {unit} in the remaining {n} bytes"),
            Self::GaveUp(n) => format!("no valid {unit} in the next {n} bytes; reading stopped"),
            Self::ReadFailed(e) => format!("reading failed while looking for the next {unit}: {e}"),
        }
    }
}

/// Skips the byte at the current offset, then bytes until `is_valid_start` accepts the position.
/// `is_valid_start` is called with at least `header_len` bytes available and may fill more.
pub(crate) fn skip_to_valid(
    input: &mut Decompressed<'_>,
    header_len: usize,
    mut is_valid_start: impl FnMut(&mut Decompressed<'_>) -> io::Result<bool>,
) -> Resync {
    let start = input.offset();
    loop {
        input.consume(1);
        let skipped = input.offset().saturating_sub(start);
        if skipped > MAX_RESYNC_SCAN {
            return Resync::GaveUp(skipped);
        }
        match input.fill(header_len) {
            Err(e) => return Resync::ReadFailed(e),
            Ok(head) if head.len() < header_len => {
                let rest = head.len();
                input.consume(rest);
                return Resync::EndOfStream(skipped.saturating_add(rest as u64));
            }
            Ok(_) => {}
        }
        match is_valid_start(input) {
            Ok(true) => return Resync::Found(skipped),
            Ok(false) => {}
            Err(e) => return Resync::ReadFailed(e),
        }
    }
}
