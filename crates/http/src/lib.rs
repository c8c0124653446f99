//! Sans-I/O HTTP/1.1 stream parser with content decoding: the protocol stage for HTTP/1.x.
//!
//! phonehome's pipeline is `ingest → flow → protocol → message → decode → detect → attribute →
//! report`. The flow stage reassembles each TCP connection into two ordered byte streams; this crate
//! turns them into HTTP requests and responses for the message stage. It does no I/O and knows
//! nothing of pcap: the caller pushes bytes and gets events back (mitmproxy's layers work the same
//! way), so the parser can be driven by a capture, a test, or a fuzzer alike.
//!
//! - [`Http1Connection`]: one per TCP connection. [`feed`](Http1Connection::feed) the bytes of each
//!   direction in order, report lost bytes with [`gap`](Http1Connection::gap) and the end of a
//!   direction with [`end`](Http1Connection::end); collect [`Http1Event`]s.
//! - [`HttpRequest`] / [`HttpResponse`]: complete messages, bodies de-chunked and content-decoded
//!   (`gzip`, `x-gzip`, `deflate`, `br`, `zstd`, via `phonehome-compress`) into
//!   [`phonehome_model::Body`]. Responses are paired with requests first-in first-out.
//! - [`detect_http1`]: does a stream prefix look like HTTP/1.x?
//! - [`h2`]: HTTP/2 and HPACK ([`Http2Connection`], [`Http2Event`], [`detect_h2_preface`]),
//!   giving the same [`HttpRequest`] / [`HttpResponse`] types.
//!
//! Framing follows RFC 9112 §6 (Content-Length, chunked, read until close, no body for `HEAD`, 1xx,
//! 204 and 304), with the leniency real traffic needs: bare LF line ends, obsolete header folding,
//! odd method tokens, absolute-form and missing targets. Where a browser, tshark or libhtp would
//! still find a response body, so does this parser (checked on the HTTP-evader captures): a status
//! line at a message boundary only needs to start with `HTTP/` (`HTTP/2.0 200 ok`, `HTTP/1.1`,
//! `HTTP/1.1 2000`: the version as sent, status 200 when none); a bare CR ends a header line; NULs
//! around a coding are ignored (`Content-Encoding: gzip\0`); a 1xx, 204 or 304 response whose
//! fields announce a body has one when the next bytes are not a status line; a stream that ends
//! inside a header section holding a line of CRs (`\r\r\n`) ended that section there. Each such
//! reading is reported as an [`Http1Event::Anomaly`]. Whatever the input, memory is bounded by
//! [`Http1Limits`] and the `MAX_*` constants, and nothing panics. Broken input gives an
//! [`Http1Event::Anomaly`] and the parser resynchronises on the next line that starts a message.
//!
//! ```
//! use phonehome_http::{Http1Connection, Http1Event, Http1Limits};
//! use phonehome_model::Direction;
//!
//! let mut conn = Http1Connection::new(Http1Limits::default());
//! let mut events = Vec::new();
//! conn.feed(Direction::Request, b"POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nimei", 4, &mut events);
//! conn.feed(Direction::Response, b"HTTP/1.1 204 No Content\r\n\r\n", 6, &mut events);
//! match &events[..] {
//!     [Http1Event::Request(req), Http1Event::Response(resp)] => {
//!         assert_eq!(req.line.target, "/up");
//!         assert_eq!(req.body.raw, b"imei");
//!         assert_eq!(resp.status, 204);
//!         assert_eq!(resp.request.as_ref().map(|r| r.method.as_str()), Some("POST"));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chunked;
mod connection;
mod fields;
pub mod h2;
mod start_line;

pub use chunked::MAX_CHUNK_LINE;
pub use connection::{Http1Connection, MAX_PENDING_REQUESTS, MAX_RESYNC_LINE, MAX_UPGRADE_HOLD};
pub use h2::{detect_h2_preface, Http2Connection, Http2Event, Http2Limits};
pub use start_line::{detect_http1, MAX_METHOD_LEN, MAX_REQUEST_LINE};

use phonehome_compress::DecompressLimits;
use phonehome_model::{Body, Direction, Header, Limits};

/// Caps for one HTTP/1.x connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Http1Limits {
    /// Largest body kept per message (after de-chunking); the rest is skipped. Default 16 MiB.
    pub max_body: usize,
    /// Largest header section (start line and fields) or trailer section. Default 256 KiB.
    pub max_header_bytes: usize,
    /// Most header fields kept per message. Default 256.
    pub max_headers: usize,
    /// Caps for undoing `Content-Encoding`.
    pub decompress: DecompressLimits,
}

impl Default for Http1Limits {
    fn default() -> Self {
        Self {
            max_body: 16 << 20,
            max_header_bytes: 256 << 10,
            max_headers: 256,
            decompress: DecompressLimits::default(),
        }
    }
}

impl Http1Limits {
    /// The HTTP caps implied by phonehome's global [`Limits`] (body size, decoded bytes, expansion
    /// ratio); header caps keep their defaults.
    pub fn from_limits(limits: &Limits) -> Self {
        Self {
            max_body: limits.max_body,
            decompress: DecompressLimits {
                max_output: limits.max_decoded_bytes,
                max_ratio: limits.max_expansion_ratio,
                zstd_max_window_log: limits.zstd_window_log(),
            },
            ..Self::default()
        }
    }
}

/// The first line of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLine {
    /// The method token as sent (`GET`, `CCM_POST`…).
    pub method: String,
    /// The request-target as sent: origin form (`/a?b`), absolute form (`http://host/a`), authority
    /// form (`host:443`, for CONNECT), `*`, or empty when the client sent none (`GET HTTP/1.1`).
    pub target: String,
    /// `"1.0"` or `"1.1"`.
    pub version: String,
}

/// A complete (or, at the end of a stream, cut-short) HTTP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// The request line.
    pub line: RequestLine,
    /// Header fields in order, then any chunked trailer fields.
    pub headers: Vec<Header>,
    /// The body: raw after chunked decoding; `decoded` + `encodings` when a Content-Encoding was
    /// undone; `truncated` when it was cut (cap, gap, end of stream, damaged compressed data).
    pub body: Body,
    /// Why content decoding failed or stopped early, when it did (unknown coding, corrupt data…).
    pub content_problem: Option<String>,
    /// Frame that delivered the first byte of the request line.
    pub first_frame: u64,
    /// Frame that completed the request.
    pub last_frame: u64,
}

/// A complete (or, at the end of a stream, cut-short) HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// `"1.0"` or `"1.1"`; for a malformed status line, what followed `HTTP/` as sent (`"2.0"`,
    /// `"1.01"`, `""`).
    pub version: String,
    /// Status code.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// Header fields in order, then any chunked trailer fields.
    pub headers: Vec<Header>,
    /// The body, as for [`HttpRequest::body`].
    pub body: Body,
    /// The request this answers (first-in first-out pairing), when it was seen.
    pub request: Option<RequestLine>,
    /// Why content decoding failed or stopped early, when it did.
    pub content_problem: Option<String>,
    /// Frame that delivered the first byte of the status line.
    pub first_frame: u64,
    /// Frame that completed the response.
    pub last_frame: u64,
}

/// What [`Http1Connection`] found in the bytes it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Http1Event {
    /// A request, emitted when its body is complete.
    Request(HttpRequest),
    /// A final response (also the `101` or `2xx`-to-CONNECT that precedes [`Http1Event::Upgraded`]).
    Response(HttpResponse),
    /// A 1xx response other than 101 (e.g. `100 Continue`); not paired with a request.
    Interim {
        /// Status code.
        status: u16,
        /// Frame that completed it.
        frame: u64,
    },
    /// After `101 Switching Protocols` or a 2xx answer to CONNECT this parser is done; the caller
    /// re-detects the protocol of what follows. `client_rest` / `server_rest` are bytes already fed
    /// that belong to the new protocol.
    Upgraded {
        /// 101, or the 2xx status that accepted a CONNECT.
        status: u16,
        /// Client bytes fed after the upgrading request (held until the server's answer).
        client_rest: Vec<u8>,
        /// Server bytes fed after the upgrading response in the same `feed` call.
        server_rest: Vec<u8>,
        /// Frame that completed the upgrading response.
        frame: u64,
    },
    /// Something that is not HTTP or is broken. That direction is then usually desynchronised:
    /// the parser skips to the next line that looks like a request line (client) or `HTTP/1.`
    /// status line (server). A response whose framing is unusable (bad Content-Length, a body that
    /// is not chunked after all) is instead read until the server closes, so its bytes are kept.
    Anomaly {
        /// Which direction.
        dir: Direction,
        /// Frame where it was seen.
        frame: u64,
        /// What was wrong.
        reason: String,
    },
    /// A cap was hit (body cut to `max_body`, header section too large, decompression cap…).
    Limit {
        /// Which direction.
        dir: Direction,
        /// Frame where it was hit.
        frame: u64,
        /// Which cap and what was dropped.
        reason: String,
    },
}
