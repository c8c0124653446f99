//! Deflate and its two wrappers: gzip (RFC 1952) and zlib (RFC 1950).
//!
//! The gzip header and trailer are parsed here rather than by `flate2::read::GzDecoder` so that a
//! truncated member still yields its decodable prefix with a precise reason and offset, and so that
//! concatenated members are all decoded.

use crate::output::OutputSink;
use crate::{Stop, CHUNK_SIZE};
use flate2::{Crc, Decompress, FlushDecompress, Status};

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
/// gzip header flag bits (RFC 1952 §2.3.1).
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
/// Fixed part of the gzip header: magic, CM, FLG, MTIME, XFL, OS.
const GZIP_FIXED_HEADER: usize = 10;
/// CRC-32 + ISIZE.
const GZIP_TRAILER: usize = 8;

/// How a run of the inflater over some input ended.
enum Inflated {
    /// End of the deflate stream after `consumed` input bytes.
    End { consumed: usize },
    /// Output cap reached after `consumed` input bytes.
    Capped { consumed: usize },
    /// Input exhausted before the end of the stream.
    Truncated { consumed: usize },
    /// Invalid data; `consumed` bytes were accepted before it.
    Corrupt { consumed: usize, reason: String },
}

/// Runs `inflater` over `input` (streaming in [`CHUNK_SIZE`] chunks) into `sink`.
fn run_inflater(inflater: &mut Decompress, input: &[u8], sink: &mut OutputSink) -> Inflated {
    let mut scratch = vec![0u8; CHUNK_SIZE];
    let mut pos = 0usize;
    loop {
        let rest = input.get(pos..).unwrap_or_default();
        let in_before = inflater.total_in();
        let out_before = inflater.total_out();
        let status = inflater.decompress(rest, &mut scratch, FlushDecompress::None);
        let used =
            usize::try_from(inflater.total_in().saturating_sub(in_before)).unwrap_or(rest.len());
        let produced =
            usize::try_from(inflater.total_out().saturating_sub(out_before)).unwrap_or(0);
        pos = pos.saturating_add(used).min(input.len());
        if !sink.push(scratch.get(..produced).unwrap_or_default()) {
            return Inflated::Capped { consumed: pos };
        }
        match status {
            Ok(Status::StreamEnd) => return Inflated::End { consumed: pos },
            Ok(Status::Ok | Status::BufError) => {
                if used == 0 && produced == 0 {
                    return Inflated::Truncated { consumed: pos };
                }
            }
            Err(e) => {
                let reason = e.message().unwrap_or("invalid deflate data").to_string();
                return Inflated::Corrupt {
                    consumed: pos,
                    reason,
                };
            }
        }
    }
}

/// Maps an inflater result at `base` in the whole input onto a decoder [`Stop`], or `None` at the
/// end of the deflate data (the caller then reads its trailer).
fn stop_of(result: Inflated, base: usize, what: &'static str) -> Result<usize, Stop> {
    match result {
        Inflated::End { consumed } => Ok(base.saturating_add(consumed)),
        Inflated::Capped { consumed } => Err(Stop::Capped {
            consumed: base.saturating_add(consumed),
        }),
        Inflated::Truncated { consumed } => Err(Stop::Truncated {
            consumed: base.saturating_add(consumed),
            what,
        }),
        Inflated::Corrupt { consumed, reason } => Err(Stop::Corrupt {
            offset: base.saturating_add(consumed),
            reason: format!("invalid deflate data ({reason})"),
        }),
    }
}

/// Whether `cmf`, `flg` form a zlib header phonehome can decode: CM = 8 (deflate), CINFO ≤ 7 and the
/// FCHECK multiple-of-31 rule.
pub(crate) fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) * 256 + u16::from(flg)) % 31 == 0
}

/// Decodes raw deflate.
pub(crate) fn inflate_raw(input: &[u8], sink: &mut OutputSink) -> Stop {
    let mut inflater = Decompress::new(false);
    match stop_of(run_inflater(&mut inflater, input, sink), 0, "deflate data") {
        Ok(consumed) => Stop::Ended {
            consumed,
            error: trailing_error(input, consumed, "deflate stream"),
        },
        Err(stop) => stop,
    }
}

/// Decodes zlib: header, deflate data and Adler-32 (checked by the inflater).
pub(crate) fn unzlib(input: &[u8], sink: &mut OutputSink) -> Stop {
    match input {
        [] | [_] => {
            return Stop::Truncated {
                consumed: 0,
                what: "zlib header",
            }
        }
        [cmf, flg, ..] if !is_zlib_header(*cmf, *flg) => {
            return Stop::Corrupt {
                offset: 0,
                reason: format!("invalid zlib header {cmf:02x} {flg:02x}"),
            };
        }
        [_, flg, ..] if flg & 0x20 != 0 => {
            return Stop::Corrupt {
                offset: 1,
                reason: "zlib preset dictionary is not supported".into(),
            };
        }
        _ => {}
    }
    let mut inflater = Decompress::new(true);
    match stop_of(run_inflater(&mut inflater, input, sink), 0, "zlib stream") {
        Ok(consumed) => Stop::Ended {
            consumed,
            error: trailing_error(input, consumed, "zlib stream"),
        },
        Err(stop) => stop,
    }
}

/// Decodes gzip: one or more members, each with its header, deflate data and CRC-32/ISIZE trailer.
pub(crate) fn gunzip(input: &[u8], sink: &mut OutputSink) -> Stop {
    let mut pos = 0usize;
    let mut first = true;
    // Each member consumes at least 18 input bytes, so this loop ends.
    loop {
        let rest = input.get(pos..).unwrap_or_default();
        let magic_prefix = GZIP_MAGIC
            .get(..rest.len().min(GZIP_MAGIC.len()))
            .unwrap_or_default();
        if !first && !rest.starts_with(magic_prefix) {
            return Stop::Ended {
                consumed: pos,
                error: trailing_error(input, pos, "gzip member"),
            };
        }
        let header_len = match gzip_header_len(rest) {
            Ok(n) => n,
            Err(HeaderProblem::Truncated) => {
                return Stop::Truncated {
                    consumed: pos,
                    what: "gzip header",
                }
            }
            Err(HeaderProblem::Invalid(reason, at)) => {
                return Stop::Corrupt {
                    offset: pos.saturating_add(at),
                    reason: reason.into(),
                };
            }
        };
        first = false;
        let deflate_start = pos.saturating_add(header_len);
        let member_out_start = sink.len();
        let mut inflater = Decompress::new(false);
        let body = input.get(deflate_start..).unwrap_or_default();
        let deflate_end = match stop_of(
            run_inflater(&mut inflater, body, sink),
            deflate_start,
            "gzip member",
        ) {
            Ok(end) => end,
            Err(stop) => return stop,
        };
        let Some(trailer) = input.get(deflate_end..deflate_end.saturating_add(GZIP_TRAILER)) else {
            return Stop::Truncated {
                consumed: deflate_end,
                what: "gzip trailer",
            };
        };
        let member_end = deflate_end.saturating_add(GZIP_TRAILER);
        let (crc_bytes, size_bytes) = trailer.split_at(4);
        let (want_crc, want_size) = (le_u32(crc_bytes), le_u32(size_bytes));
        let mut crc = Crc::new();
        crc.update(sink.since(member_out_start));
        if crc.sum() != want_crc || crc.amount() != want_size {
            return Stop::Ended {
                consumed: member_end,
                error: Some(format!(
                    "gzip: member trailer at offset {deflate_end} does not match the data (CRC-32 \
                     {want_crc:08x}, size {want_size}; decoded CRC-32 {:08x}, size {})",
                    crc.sum(),
                    crc.amount()
                )),
            };
        }
        if member_end >= input.len() {
            return Stop::Ended {
                consumed: member_end,
                error: None,
            };
        }
        pos = member_end;
    }
}

/// The little-endian `u32` in the first four bytes of `bytes` (0 if shorter).
fn le_u32(bytes: &[u8]) -> u32 {
    bytes
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_le_bytes)
}

/// Describes bytes left after the end of a stream, if any.
fn trailing_error(input: &[u8], end: usize, what: &str) -> Option<String> {
    let extra = input.len().saturating_sub(end);
    (extra > 0)
        .then(|| format!("{extra} trailing bytes after the end of the {what} at offset {end}"))
}

/// Why a gzip header could not be read.
enum HeaderProblem {
    /// The input ends inside the header.
    Truncated,
    /// The header is invalid (reason, offset within the header).
    Invalid(&'static str, usize),
}

/// Length of the gzip member header at the start of `input` (RFC 1952 §2.3).
fn gzip_header_len(input: &[u8]) -> Result<usize, HeaderProblem> {
    for (i, want) in GZIP_MAGIC.iter().enumerate() {
        match input.get(i) {
            None => return Err(HeaderProblem::Truncated),
            Some(b) if b != want => {
                let reason = if i == 2 {
                    "gzip compression method is not deflate"
                } else {
                    "not a gzip header"
                };
                return Err(HeaderProblem::Invalid(reason, i));
            }
            Some(_) => {}
        }
    }
    let flags = *input.get(3).ok_or(HeaderProblem::Truncated)?;
    // Reserved flag bits are ignored (RFC 1952 says to reject them, but browsers' decoders and
    // libhtp do not, so servers get away with them).

    if input.len() < GZIP_FIXED_HEADER {
        return Err(HeaderProblem::Truncated);
    }
    let mut pos = GZIP_FIXED_HEADER;
    if flags & FEXTRA != 0 {
        let lo = *input.get(pos).ok_or(HeaderProblem::Truncated)?;
        let hi = *input
            .get(pos.saturating_add(1))
            .ok_or(HeaderProblem::Truncated)?;
        pos = pos
            .saturating_add(2)
            .saturating_add(usize::from(u16::from_le_bytes([lo, hi])));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = input.get(pos..).ok_or(HeaderProblem::Truncated)?;
            let nul = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(HeaderProblem::Truncated)?;
            pos = pos.saturating_add(nul).saturating_add(1);
        }
    }
    if flags & FHCRC != 0 {
        pos = pos.saturating_add(2);
    }
    if pos > input.len() {
        return Err(HeaderProblem::Truncated);
    }
    Ok(pos)
}
