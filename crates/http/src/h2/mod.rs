//! Sans-I/O HTTP/2 (RFC 9113) with HPACK (RFC 7541): the protocol stage for cleartext or
//! decrypted HTTP/2 connections.
//!
//! [`Http2Connection`] takes the two byte streams of one connection, as [`crate::Http1Connection`]
//! does, and gives [`Http2Event`]s: the same [`HttpRequest`] and
//! [`HttpResponse`] types as HTTP/1.x, so the message stage treats both
//! alike.
//!
//! - One request/response pair per stream; streams interleave freely. A message is emitted when
//!   its END_STREAM arrives, or, cut short, on RST_STREAM, at the end of its direction, or when a
//!   cap forces it out early.
//! - A request's `headers` are **all** its fields in wire order, pseudo-header fields
//!   (`:method`, `:scheme`, `:authority`, `:path`) included, then any trailer fields. Its `line`
//!   is `:method`, `:path` (or `:authority` for a CONNECT without `:path`) and version `"2"`. A
//!   response's `status` is `:status`, its `reason` is empty, and `request` is the request line
//!   of its stream. 1xx responses are skipped.
//! - Bodies are DATA payloads without padding, content-decoded by `Content-Encoding` as for
//!   HTTP/1.x.
//! - Server push: the request of a PUSH_PROMISE is *not* emitted as a [`Http2Event::Request`] —
//!   the client never sent it, and phonehome must not attribute it to the phone. It becomes the
//!   `request` of the pushed response.
//! - A message whose header section was never seen (the capture joined mid-stream, or the
//!   section was lost or dropped at a cap) is still emitted for its body, with an empty method
//!   and target or status 0, after an [`Http2Event::Anomaly`] or [`Http2Event::Limit`] that says
//!   why.
//!
//! **Observer, not endpoint.** Nothing here closes the connection: protocol errors become
//! anomalies and parsing goes on. The HPACK decoder never guesses: when the capture did not see
//! an entry's insertion (it started mid-connection without the client preface, bytes were lost,
//! a field block was dropped), a reference to it decodes as `<unknown hpack index N>`. After lost
//! bytes the parser keeps its place when the loss is inside a frame of known length, and
//! otherwise resynchronises on a plausible frame header confirmed by the one after it.
//!
//! Memory is bounded by [`Http2Limits`] and the `MAX_*` constants whatever the peers negotiate.
//!
//! ```
//! use phonehome_http::{Http2Connection, Http2Event, Http2Limits};
//! use phonehome_model::Direction;
//!
//! /// A frame header: length, type, flags, stream.
//! fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
//!     let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
//!     f.extend([kind, flags]);
//!     f.extend(stream.to_be_bytes());
//!     f.extend_from_slice(payload);
//!     f
//! }
//! let mut client = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
//! client.extend(frame(4, 0, 0, b"")); // SETTINGS
//! // HEADERS, END_HEADERS: :method POST, :scheme https, :path /up, :authority a.example
//! client.extend(frame(1, 0x4, 1, b"\x83\x87\x44\x03/up\x41\x09a.example"));
//! client.extend(frame(0, 0x1, 1, b"imei=490154203237518")); // DATA, END_STREAM
//! let mut server = frame(4, 0, 0, b"");
//! server.extend(frame(1, 0x5, 1, b"\x89")); // :status 204, END_STREAM
//!
//! let mut conn = Http2Connection::new(Http2Limits::default());
//! let mut events = Vec::new();
//! conn.feed(Direction::Request, &client, 4, &mut events);
//! conn.feed(Direction::Response, &server, 5, &mut events);
//! match &events[..] {
//!     [Http2Event::Request(req), Http2Event::Response(resp)] => {
//!         assert_eq!((req.line.method.as_str(), req.line.target.as_str()), ("POST", "/up"));
//!         assert_eq!(req.headers[3].name, ":authority");
//!         assert_eq!(req.body.raw, b"imei=490154203237518");
//!         assert_eq!(resp.status, 204);
//!         assert_eq!(resp.request.as_ref().map(|r| r.target.as_str()), Some("/up"));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

mod connection;
mod frame;
mod hpack;
mod huffman;
mod stream;

pub use connection::{
    Http2Connection, MAX_ANOMALIES_PER_DIRECTION, MAX_CLOSED_STREAMS, MAX_SYNC_FRAME_LEN,
    MAX_SYNC_MARKS, MAX_SYNC_STREAM_AHEAD, MAX_SYNC_STREAM_SPREAD,
};
pub use frame::{DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_LEN, MAX_FRAME_LEN};
pub use hpack::{unknown_marker, DEFAULT_TABLE_SIZE, ENTRY_OVERHEAD, MAX_INTEGER_CONTINUATIONS};

use crate::{HttpRequest, HttpResponse};
use phonehome_compress::DecompressLimits;
use phonehome_model::{Direction, Limits};

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Does a client stream start with the HTTP/2 connection preface? `Some(true)` when `prefix`
/// starts with it, `Some(false)` when it cannot, `None` while `prefix` is a shorter part of it.
pub fn detect_h2_preface(prefix: &[u8]) -> Option<bool> {
    let n = prefix.len().min(PREFACE.len());
    if prefix.get(..n) != PREFACE.get(..n) {
        return Some(false);
    }
    (prefix.len() >= PREFACE.len()).then_some(true)
}

/// Caps for one HTTP/2 connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Http2Limits {
    /// Largest payload buffered for a non-DATA frame (DATA is never buffered whole). The wire
    /// allows up to 16 MiB − 1; longer frames are skipped with a [`Http2Event::Limit`] (a field
    /// block among them is dropped). Default 1 MiB.
    pub max_frame_payload: usize,
    /// Largest field block (encoded, all CONTINUATION fragments together) and largest decoded
    /// header list (name + value + 32 per field, as RFC 9113 §6.5.2 counts). Default 256 KiB.
    pub max_header_list: usize,
    /// Most CONTINUATION frames after one HEADERS or PUSH_PROMISE; more drop the block.
    /// Default 64.
    pub max_continuations: usize,
    /// Largest HPACK dynamic table kept per direction, whatever SETTINGS and size updates say.
    /// Default 64 KiB.
    pub max_dynamic_table: usize,
    /// Most streams open at once; beyond it the least recently active one is emitted early.
    /// Default 1000.
    pub max_streams: usize,
    /// Largest body kept per message; the rest is skipped. Default 16 MiB.
    pub max_body: usize,
    /// Most octets (bodies and header fields) held by all open streams together; beyond it the
    /// least recently active stream is emitted early. Default 256 MiB.
    pub max_buffered: usize,
    /// Caps for undoing `Content-Encoding`.
    pub decompress: DecompressLimits,
}

impl Default for Http2Limits {
    fn default() -> Self {
        Self {
            max_frame_payload: 1 << 20,
            max_header_list: 256 << 10,
            max_continuations: 64,
            max_dynamic_table: 64 << 10,
            max_streams: 1000,
            max_body: 16 << 20,
            max_buffered: 256 << 20,
            decompress: DecompressLimits::default(),
        }
    }
}

impl Http2Limits {
    /// The HTTP/2 caps implied by phonehome's global [`Limits`] (body size, decoded bytes,
    /// expansion ratio); the others keep their defaults (`max_buffered` grows to hold at least
    /// one full body).
    pub fn from_limits(limits: &Limits) -> Self {
        let defaults = Self::default();
        Self {
            max_body: limits.max_body,
            max_buffered: defaults.max_buffered.max(limits.max_body),
            decompress: DecompressLimits {
                max_output: limits.max_decoded_bytes,
                max_ratio: limits.max_expansion_ratio,
                zstd_max_window_log: limits.zstd_window_log(),
            },
            ..defaults
        }
    }
}

/// What [`Http2Connection`] found in the bytes it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Http2Event {
    /// A request, emitted when its stream's client half ends (or is cut short).
    Request(HttpRequest),
    /// A final response, emitted when its stream's server half ends (or is cut short).
    Response(HttpResponse),
    /// Something broken or unexpected: a protocol error, a damaged field block, references to
    /// HPACK state the capture never saw, lost frame boundaries.
    Anomaly {
        /// Which direction.
        dir: Direction,
        /// Frame where it was seen.
        frame: u64,
        /// What was wrong.
        reason: String,
    },
    /// A cap was hit (frame, field block, CONTINUATION count, table size, body, streams…).
    Limit {
        /// Which direction.
        dir: Direction,
        /// Frame where it was hit.
        frame: u64,
        /// Which cap and what was dropped.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preface_detection() {
        assert_eq!(detect_h2_preface(b""), None);
        assert_eq!(detect_h2_preface(b"PRI * HTTP/2"), None);
        assert_eq!(detect_h2_preface(PREFACE), Some(true));
        assert_eq!(
            detect_h2_preface(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x12\x04"),
            Some(true)
        );
        assert_eq!(detect_h2_preface(b"PRI * HTTP/1.1"), Some(false));
        assert_eq!(detect_h2_preface(b"GET / HTTP/1.1\r\n"), Some(false));
    }

    #[test]
    fn limits_from_global() {
        let global = Limits {
            max_body: 1 << 30,
            max_decoded_bytes: 5,
            max_expansion_ratio: 7,
            ..Limits::default()
        };
        let l = Http2Limits::from_limits(&global);
        assert_eq!(l.max_body, 1 << 30);
        assert_eq!(l.max_buffered, 1 << 30);
        assert_eq!(l.decompress.max_output, 5);
        assert_eq!(l.decompress.max_ratio, 7);
        assert_eq!(l.max_streams, 1000);
    }
}
