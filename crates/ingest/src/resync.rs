//! Finding the next valid record or block after garbage.
//!
//! When a record or block header is impossible (absurd length, mismatched trailer), the reader
//! scans forward one byte at a time for a position where a header is valid *and* is confirmed by
//! what follows it (the next pcap record header, or the pcapng block's trailing length). The scan is
//! bounded by [`MAX_RESYNC_SCAN`] so garbage cannot make it run for ever.
//!
//! Confirming a candidate may need the whole block it announces (up to [`crate::MAX_BLOCK_LEN`])
//! buffered, at every position scanned. That is cheap: the buffer reads each byte once and moves
//! it at most once on average (see `input.rs`), so a scan costs O(1) per byte skipped plus the
//! read-ahead, never a copy of the window per candidate.

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

/// Skips the byte at the current offset, then bytes until a position is accepted: first by
/// `plausible`, which judges the `header_len` bytes there (a pure check run on the buffered bytes
/// in a tight loop), then by `confirm`, called with the position at the current offset and at
/// least `header_len` bytes available, which may fill more to look at what follows.
pub(crate) fn skip_to_valid(
    input: &mut Decompressed<'_>,
    header_len: usize,
    plausible: impl Fn(&[u8]) -> bool,
    mut confirm: impl FnMut(&mut Decompressed<'_>) -> io::Result<bool>,
) -> Resync {
    let start = input.offset();
    input.consume(1);
    loop {
        let skipped = input.offset().saturating_sub(start);
        if skipped > MAX_RESYNC_SCAN {
            return Resync::GaveUp(skipped);
        }
        let head = match input.fill(header_len) {
            Err(e) => return Resync::ReadFailed(e),
            Ok(head) if head.len() < header_len => {
                let rest = head.len();
                input.consume(rest);
                return Resync::EndOfStream(skipped.saturating_add(rest as u64));
            }
            Ok(head) => head,
        };
        // Positions left before the scan limit, the current one included.
        let allowed = usize::try_from(MAX_RESYNC_SCAN.saturating_sub(skipped))
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let mut positions = head.windows(header_len).take(allowed);
        let checked = positions.len();
        match positions.position(&plausible) {
            None => input.consume(checked),
            Some(at) => {
                input.consume(at);
                match confirm(input) {
                    Ok(true) => return Resync::Found(input.offset().saturating_sub(start)),
                    Ok(false) => input.consume(1),
                    Err(e) => return Resync::ReadFailed(e),
                }
            }
        }
    }
}
