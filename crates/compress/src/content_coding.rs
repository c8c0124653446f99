//! HTTP content codings (RFC 9110 §8.4): undoing a `Content-Encoding` list.

use crate::{decompress, deflate, Codec, DecompressLimits, Decompressed};

/// Most codings undone from one `Content-Encoding` value; any beyond are left in place and reported.
pub const MAX_CONTENT_CODINGS: usize = 8;

/// The result of [`decode_content`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentDecoded {
    /// The body with as many codings undone as possible (the input itself when none was undone).
    pub data: Vec<u8>,
    /// The codings undone, outermost (last applied) first, by canonical name: `gzip` (also for
    /// `x-gzip`), `deflate`, `br`, `zstd`.
    pub chain: Vec<String>,
    /// What stopped or spoiled decoding (unknown coding, corrupt or truncated data, cap), if anything.
    pub problem: Option<String>,
    /// The decoded data is incomplete: a stream was cut short, corrupt, or hit a cap.
    pub truncated: bool,
    /// A decompression cap ([`DecompressLimits`]) was hit (then `truncated` is set too).
    pub limited: bool,
}

/// One coding named in a `Content-Encoding` value.
enum Coding {
    /// No transformation.
    Identity,
    /// gzip or x-gzip.
    Gzip,
    /// deflate: zlib-wrapped as the RFC says, or raw as some servers send it.
    Deflate,
    /// br.
    Brotli,
    /// zstd.
    Zstd,
}

impl Coding {
    /// The coding named by `token`; parameters (`gzip;q=1`) are ignored.
    fn parse(token: &str) -> Option<Self> {
        let t = token.split(';').next().unwrap_or_default().trim();
        let is = |name: &str| t.eq_ignore_ascii_case(name);
        if is("identity") {
            Some(Self::Identity)
        } else if is("gzip") || is("x-gzip") {
            Some(Self::Gzip)
        } else if is("deflate") || is("x-deflate") {
            Some(Self::Deflate)
        } else if is("br") {
            Some(Self::Brotli)
        } else if is("zstd") {
            Some(Self::Zstd)
        } else {
            None
        }
    }
}

/// Undoes a `Content-Encoding` header value (a comma-separated list of codings in the order they
/// were applied, so they are undone from last to first).
///
/// Supports gzip/x-gzip, deflate/x-deflate (zlib, falling back to raw deflate when the zlib header
/// is wrong, as real servers send both), br, zstd and identity; parameters (`;q=1`) are ignored. An
/// unknown coding stops decoding with [`ContentDecoded::problem`] set and `data` holding what was
/// decoded so far. A known coding that yields nothing at all (the data was not coded that way) is
/// skipped, with the problem noted, and decoding goes on with the next coding. An empty body
/// decodes to itself without problem.
pub fn decode_content(
    content_encoding: &str,
    body: &[u8],
    limits: &DecompressLimits,
) -> ContentDecoded {
    let mut out = ContentDecoded {
        data: body.to_vec(),
        ..ContentDecoded::default()
    };
    if body.is_empty() {
        return out;
    }
    let tokens: Vec<&str> = content_encoding
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    for (undone, token) in tokens.iter().rev().enumerate() {
        if undone >= MAX_CONTENT_CODINGS {
            set_problem(
                &mut out,
                format!("more than {MAX_CONTENT_CODINGS} content codings; the rest were left"),
            );
            break;
        }
        let Some(coding) = Coding::parse(token) else {
            set_problem(
                &mut out,
                format!("unknown content coding `{}`", token.escape_debug()),
            );
            break;
        };
        let (name, result) = match coding {
            Coding::Identity => continue,
            Coding::Gzip => ("gzip", decompress(Codec::Gzip, &out.data, limits)),
            Coding::Deflate => ("deflate", inflate_http_deflate(&out.data, limits)),
            Coding::Brotli => ("br", decompress(Codec::Brotli, &out.data, limits)),
            Coding::Zstd => ("zstd", decompress(Codec::Zstd, &out.data, limits)),
        };
        out.limited |= result.limited.is_some();
        if let (true, false, Some(reason)) =
            (result.data.is_empty(), result.ended, result.limited.clone())
        {
            set_problem(&mut out, reason);
            out.truncated = true;
            break;
        }
        if result.data.is_empty() && !result.ended {
            // Nothing came out of this layer: the data was not coded this way after all (servers
            // list codings they did not apply). Skip it, as browsers do, and try the next one.
            let reason = result.error.unwrap_or_else(|| format!("{name}: no data"));
            set_problem(&mut out, format!("{reason}; `{name}` skipped"));
            continue;
        }
        out.chain.push(name.to_string());
        if result.limited.is_some() || !result.ended {
            out.truncated = true;
        }
        if let Some(reason) = result.limited.or(result.error) {
            set_problem(&mut out, reason);
        }
        out.data = result.data;
    }
    out
}

/// Records the first problem met.
fn set_problem(out: &mut ContentDecoded, reason: String) {
    if out.problem.is_none() {
        out.problem = Some(reason);
    }
}

/// HTTP `deflate`: zlib when the first two bytes are a zlib header, else raw deflate; if the zlib
/// attempt yields nothing, raw deflate is tried too and the better result kept.
fn inflate_http_deflate(data: &[u8], limits: &DecompressLimits) -> Decompressed {
    let zlib_header = matches!(data, [cmf, flg, ..] if deflate::is_zlib_header(*cmf, *flg));
    if !zlib_header {
        return decompress(Codec::Deflate, data, limits);
    }
    let zlib = decompress(Codec::Zlib, data, limits);
    if zlib.ended || !zlib.data.is_empty() {
        return zlib;
    }
    let raw = decompress(Codec::Deflate, data, limits);
    if raw.ended || !raw.data.is_empty() {
        raw
    } else {
        zlib
    }
}
