//! Bounded decompression (gzip, zlib, raw deflate, brotli, zstd) shared by the protocol and decode
//! stages.
//!
//! phonehome's pipeline is `ingest → flow → protocol → message → decode → detect → attribute →
//! report`. Two stages undo compression: the protocol stage (`phonehome-http`) undoes HTTP
//! `Content-Encoding`, and the decode stage undoes compression it finds nested inside values. Both
//! read attacker-controlled bytes, so both come here, where every decoder:
//!
//! - streams its output in chunks of [`CHUNK_SIZE`] bytes and stops as soon as the output would pass
//!   [`DecompressLimits::max_output`] or `input length × max_ratio` (so a decompression bomb costs
//!   at most the cap, however large it claims to be);
//! - never panics, whatever the input;
//! - keeps what it decoded before a break: a truncated or corrupt stream gives its decodable prefix
//!   together with the reason ([`Decompressed::error`]).
//!
//! Main items: [`decompress`] (one codec), [`decode_content`] (an HTTP `Content-Encoding` list),
//! [`sniff`] (codec from magic bytes), [`Codec`], [`DecompressLimits`].
//!
//! ```
//! use std::io::Write;
//! use phonehome_compress::{decompress, sniff, Codec, DecompressLimits};
//!
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
//! gz.write_all(b"imei=356938035643809").unwrap();
//! let gz = gz.finish().unwrap();
//!
//! assert_eq!(sniff(&gz), Some(Codec::Gzip));
//! let out = decompress(Codec::Gzip, &gz, &DecompressLimits::default());
//! assert!(out.complete);
//! assert_eq!(out.data, b"imei=356938035643809");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod brotli_stream;
mod content_coding;
mod deflate;
mod output;
mod zstd_stream;

pub use content_coding::{decode_content, ContentDecoded, MAX_CONTENT_CODINGS};

use output::OutputSink;

/// Size of the scratch buffer each decoder writes into before its output is appended (and capped).
pub const CHUNK_SIZE: usize = 32 * 1024;

/// Smallest zstd window log accepted as a limit (zstd's own minimum: 1 KiB).
pub const ZSTD_MIN_WINDOW_LOG: u32 = 10;

/// Largest zstd window log accepted as a limit (zstd's maximum on 32-bit targets: 1 GiB).
pub const ZSTD_MAX_WINDOW_LOG: u32 = 30;

/// A compression format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// zlib (RFC 1950): a 2-byte header, deflate data and an Adler-32 trailer.
    Zlib,
    /// Raw deflate (RFC 1951), no header or trailer.
    Deflate,
    /// Brotli (RFC 7932).
    Brotli,
    /// Zstandard (RFC 8878), possibly several frames.
    Zstd,
}

impl Codec {
    /// Short name: `"gzip"`, `"zlib"`, `"deflate"`, `"br"` or `"zstd"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zlib => "zlib",
            Self::Deflate => "deflate",
            Self::Brotli => "br",
            Self::Zstd => "zstd",
        }
    }
}

/// Caps applied to one decompression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecompressLimits {
    /// Most bytes of output kept. Default 64 MiB (phonehome's `--max-decoded-bytes`).
    pub max_output: usize,
    /// Largest ratio of output to input length; 0 disables this cap. Default 1000
    /// (phonehome's `--max-expansion-ratio`).
    pub max_ratio: usize,
    /// Largest zstd window accepted, as a power of two. Default 23 (8 MiB, what RFC 8878 asks
    /// decoders to support). Clamped to [`ZSTD_MIN_WINDOW_LOG`]..=[`ZSTD_MAX_WINDOW_LOG`].
    pub zstd_max_window_log: u32,
}

impl Default for DecompressLimits {
    fn default() -> Self {
        Self {
            max_output: 64 << 20,
            max_ratio: 1000,
            zstd_max_window_log: 23,
        }
    }
}

/// The result of [`decompress`]: the bytes decoded, and how decoding ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decompressed {
    /// The decoded bytes (at most the cap).
    pub data: Vec<u8>,
    /// The stream ended cleanly and all input was consumed.
    pub complete: bool,
    /// Decoding stopped on a cap (which one, in words).
    pub limited: Option<String>,
    /// Decoding stopped on corrupt or truncated input, or found trailing bytes after the end of the
    /// stream (reason, with the input offset when known).
    pub error: Option<String>,
    /// The compressed stream reached its end marker (every gzip member or zstd frame that was
    /// started was finished), even if trailing bytes or a bad checksum followed.
    pub ended: bool,
    /// Input bytes consumed by the decoder.
    pub consumed: usize,
}

/// How a decoder stopped, before it is turned into a [`Decompressed`].
#[derive(Debug)]
enum Stop {
    /// The stream ended at its end marker after `consumed` bytes; `error` is a problem found after
    /// it (trailing data, checksum mismatch).
    Ended {
        consumed: usize,
        error: Option<String>,
    },
    /// The output cap was reached after consuming `consumed` input bytes.
    Capped { consumed: usize },
    /// The input ended before the stream did.
    Truncated { consumed: usize, what: &'static str },
    /// The input is not valid at `offset`.
    Corrupt { offset: usize, reason: String },
}

/// Decompresses `input` as `codec` within `limits`.
///
/// Never panics and never keeps more than the cap: a bomb stops at the cap with
/// [`Decompressed::limited`] set; a truncated or corrupt stream returns the prefix decoded up to the
/// break with [`Decompressed::error`] set.
pub fn decompress(codec: Codec, input: &[u8], limits: &DecompressLimits) -> Decompressed {
    let mut sink = OutputSink::new(input.len(), limits);
    let stop = match codec {
        Codec::Gzip => deflate::gunzip(input, &mut sink),
        Codec::Zlib => deflate::unzlib(input, &mut sink),
        Codec::Deflate => deflate::inflate_raw(input, &mut sink),
        Codec::Brotli => brotli_stream::unbrotli(input, &mut sink),
        Codec::Zstd => zstd_stream::unzstd(input, &mut sink, limits.zstd_max_window_log),
    };
    let name = codec.name();
    let (limited, data) = sink.finish();
    let mut out = Decompressed {
        data,
        limited,
        ..Decompressed::default()
    };
    match stop {
        Stop::Ended { consumed, error } => {
            out.ended = true;
            out.consumed = consumed;
            out.complete = error.is_none() && consumed == input.len() && out.limited.is_none();
            out.error = error;
        }
        Stop::Capped { consumed } => {
            out.consumed = consumed;
            if out.limited.is_none() {
                out.limited = Some(format!("{name} output cap reached"));
            }
        }
        Stop::Truncated { consumed, what } => {
            out.consumed = consumed;
            out.error = Some(format!(
                "{name}: input ends at offset {} inside the {what}",
                input.len()
            ));
        }
        Stop::Corrupt { offset, reason } => {
            out.consumed = offset;
            out.error = Some(format!("{name}: {reason} at offset {offset}"));
        }
    }
    out
}

/// Guesses the codec of `input` from its first bytes: gzip (`1f 8b 08`), zstd (`28 b5 2f fd`), zlib
/// (CM = 8, window ≤ 32 KiB, `(CMF × 256 + FLG) % 31 == 0`). Brotli has no magic and is never
/// sniffed; neither is raw deflate.
pub fn sniff(input: &[u8]) -> Option<Codec> {
    match input {
        [0x1f, 0x8b, 0x08, ..] => Some(Codec::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Codec::Zstd),
        [cmf, flg, ..] if deflate::is_zlib_header(*cmf, *flg) => Some(Codec::Zlib),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
