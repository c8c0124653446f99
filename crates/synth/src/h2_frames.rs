//! HTTP/2 (RFC 9113) as bytes: frames, the connection preface, requests and responses with
//! HPACK-coded header blocks split into HEADERS + CONTINUATION, DATA split at the frame size, and
//! optional padding.
//!
//! [`H2Client`] and [`H2Server`] each keep their side's HPACK encoder and stream numbering; what
//! they return is the cleartext a TLS connection carries after ALPN `h2`.

use crate::hpack::HpackEncoder;

/// The client connection preface (RFC 9113 section 3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Length of a frame header.
pub const FRAME_HEADER_LEN: usize = 9;
/// SETTINGS_MAX_FRAME_SIZE's initial value: the largest payload a peer accepts until told more.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16_384;
/// Largest frame payload the 24-bit length field can describe.
pub const MAX_FRAME_PAYLOAD: usize = (1 << 24) - 1;
/// Largest flow-control window (RFC 9113 section 6.9.1).
pub const MAX_WINDOW: u32 = (1 << 31) - 1;
/// Window both sides advertise (per stream and, with a WINDOW_UPDATE, per connection), so that
/// no fixture ever waits for flow control.
pub const FIXTURE_WINDOW: u32 = 1 << 30;

/// Frame types (RFC 9113 section 6).
pub mod frame_type {
    /// DATA.
    pub const DATA: u8 = 0x0;
    /// HEADERS.
    pub const HEADERS: u8 = 0x1;
    /// PRIORITY.
    pub const PRIORITY: u8 = 0x2;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 0x4;
    /// PUSH_PROMISE.
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING.
    pub const PING: u8 = 0x6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE.
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub mod flags {
    /// END_STREAM (DATA, HEADERS).
    pub const END_STREAM: u8 = 0x1;
    /// ACK (SETTINGS, PING).
    pub const ACK: u8 = 0x1;
    /// END_HEADERS (HEADERS, CONTINUATION).
    pub const END_HEADERS: u8 = 0x4;
    /// PADDED (DATA, HEADERS).
    pub const PADDED: u8 = 0x8;
    /// PRIORITY (HEADERS).
    pub const PRIORITY: u8 = 0x20;
}

/// Setting identifiers (RFC 9113 section 6.5.2).
pub mod setting {
    /// SETTINGS_HEADER_TABLE_SIZE.
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    /// SETTINGS_ENABLE_PUSH.
    pub const ENABLE_PUSH: u16 = 0x2;
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    /// SETTINGS_MAX_FRAME_SIZE.
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    /// SETTINGS_MAX_HEADER_LIST_SIZE.
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
}

/// Connection-specific HTTP/1.1 fields that HTTP/2 forbids (RFC 9113 section 8.2.2), dropped when
/// converting.
const CONNECTION_FIELDS: [&str; 6] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// Appends one frame: 24-bit length, type, flags, 31-bit stream id, payload (cut to
/// [`MAX_FRAME_PAYLOAD`]).
pub fn push_frame(out: &mut Vec<u8>, frame_type: u8, flags: u8, stream_id: u32, payload: &[u8]) {
    let payload = payload.get(..MAX_FRAME_PAYLOAD).unwrap_or(payload);
    let len = (payload.len() as u32).to_be_bytes();
    out.extend_from_slice(&len[1..]);
    out.push(frame_type);
    out.push(flags);
    out.extend_from_slice(&(stream_id & MAX_WINDOW).to_be_bytes());
    out.extend_from_slice(payload);
}

/// One frame as bytes.
pub fn frame(frame_type: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
    push_frame(&mut out, frame_type, flags, stream_id, payload);
    out
}

/// A SETTINGS frame with these (identifier, value) pairs.
pub fn settings(values: &[(u16, u32)]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(values.len() * 6);
    for (id, value) in values {
        payload.extend_from_slice(&id.to_be_bytes());
        payload.extend_from_slice(&value.to_be_bytes());
    }
    frame(frame_type::SETTINGS, 0, 0, &payload)
}

/// An empty SETTINGS frame with ACK.
pub fn settings_ack() -> Vec<u8> {
    frame(frame_type::SETTINGS, flags::ACK, 0, &[])
}

/// A WINDOW_UPDATE frame (the increment is cut to 31 bits).
pub fn window_update(stream_id: u32, increment: u32) -> Vec<u8> {
    frame(
        frame_type::WINDOW_UPDATE,
        0,
        stream_id,
        &(increment & MAX_WINDOW).to_be_bytes(),
    )
}

/// A PING frame.
pub fn ping(ack: bool, data: [u8; 8]) -> Vec<u8> {
    frame(frame_type::PING, if ack { flags::ACK } else { 0 }, 0, &data)
}

/// A GOAWAY frame.
pub fn goaway(last_stream_id: u32, error_code: u32, debug: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(8 + debug.len());
    payload.extend_from_slice(&(last_stream_id & MAX_WINDOW).to_be_bytes());
    payload.extend_from_slice(&error_code.to_be_bytes());
    payload.extend_from_slice(debug);
    frame(frame_type::GOAWAY, 0, 0, &payload)
}

/// An RST_STREAM frame.
pub fn rst_stream(stream_id: u32, error_code: u32) -> Vec<u8> {
    frame(
        frame_type::RST_STREAM,
        0,
        stream_id,
        &error_code.to_be_bytes(),
    )
}

/// How requests and responses are cut into frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct H2Framing {
    /// Largest DATA payload (clamped to 1..=[`MAX_FRAME_PAYLOAD`]; peers accept 16384 unless
    /// told more).
    pub max_data: usize,
    /// Largest header block fragment per HEADERS or CONTINUATION frame (clamped likewise); a
    /// small value forces CONTINUATION frames.
    pub max_header_fragment: usize,
    /// Padding bytes added to every HEADERS and DATA frame (0 = no PADDED flag).
    pub padding: u8,
}

impl Default for H2Framing {
    fn default() -> Self {
        Self {
            max_data: DEFAULT_MAX_FRAME_SIZE,
            max_header_fragment: DEFAULT_MAX_FRAME_SIZE,
            padding: 0,
        }
    }
}

impl H2Framing {
    /// Appends HEADERS (and CONTINUATION frames when the block is longer than one fragment).
    pub fn push_headers(&self, out: &mut Vec<u8>, stream_id: u32, block: &[u8], end_stream: bool) {
        let pad = usize::from(self.padding);
        let room = self
            .max_header_fragment
            .clamp(1, MAX_FRAME_PAYLOAD)
            .saturating_sub(if pad > 0 { pad + 1 } else { 0 })
            .max(1);
        let mut chunks = block.chunks(room);
        let first = chunks.next().unwrap_or(&[]);
        let mut rest = chunks.peekable();
        let mut fl = if end_stream { flags::END_STREAM } else { 0 };
        if rest.peek().is_none() {
            fl |= flags::END_HEADERS;
        }
        push_padded(out, frame_type::HEADERS, fl, stream_id, first, self.padding);
        while let Some(chunk) = rest.next() {
            let fl = if rest.peek().is_none() {
                flags::END_HEADERS
            } else {
                0
            };
            push_frame(out, frame_type::CONTINUATION, fl, stream_id, chunk);
        }
    }

    /// Appends DATA frames carrying `body` (one empty frame when `body` is empty), END_STREAM on
    /// the last when `end_stream`.
    pub fn push_data(&self, out: &mut Vec<u8>, stream_id: u32, body: &[u8], end_stream: bool) {
        let pad = usize::from(self.padding);
        let room = self
            .max_data
            .clamp(1, MAX_FRAME_PAYLOAD)
            .saturating_sub(if pad > 0 { pad + 1 } else { 0 })
            .max(1);
        if body.is_empty() {
            let fl = if end_stream { flags::END_STREAM } else { 0 };
            push_padded(out, frame_type::DATA, fl, stream_id, &[], self.padding);
            return;
        }
        let mut chunks = body.chunks(room).peekable();
        while let Some(chunk) = chunks.next() {
            let fl = if end_stream && chunks.peek().is_none() {
                flags::END_STREAM
            } else {
                0
            };
            push_padded(out, frame_type::DATA, fl, stream_id, chunk, self.padding);
        }
    }
}

/// A frame with the PADDED flag and `padding` zero bytes, or a plain frame when `padding` is 0.
fn push_padded(
    out: &mut Vec<u8>,
    frame_type: u8,
    fl: u8,
    stream_id: u32,
    payload: &[u8],
    padding: u8,
) {
    if padding == 0 {
        push_frame(out, frame_type, fl, stream_id, payload);
        return;
    }
    let mut p = Vec::with_capacity(1 + payload.len() + usize::from(padding));
    p.push(padding);
    p.extend_from_slice(payload);
    p.resize(p.len() + usize::from(padding), 0);
    push_frame(out, frame_type, fl | flags::PADDED, stream_id, &p);
}

/// An HTTP/2 request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H2Request {
    /// `:method`.
    pub method: String,
    /// `:authority`.
    pub authority: String,
    /// `:path` (with the query).
    pub path: String,
    /// Regular header fields, in order (names are lower-cased when written).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (sent as DATA; none when empty).
    pub body: Vec<u8>,
}

impl H2Request {
    /// A request with no header fields and no body.
    pub fn new(method: &str, authority: &str, path: &str) -> Self {
        Self {
            method: method.to_owned(),
            authority: authority.to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header field.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The field list as HPACK encodes it: pseudo-header fields first.
    pub fn field_list(&self) -> Vec<(String, Vec<u8>)> {
        let mut list = Vec::with_capacity(self.headers.len() + 4);
        list.push((":method".to_owned(), self.method.as_bytes().to_vec()));
        list.push((":scheme".to_owned(), b"https".to_vec()));
        list.push((":authority".to_owned(), self.authority.as_bytes().to_vec()));
        list.push((":path".to_owned(), self.path.as_bytes().to_vec()));
        list.extend(
            self.headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone())),
        );
        list
    }
}

/// An HTTP/2 response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H2Response {
    /// `:status`.
    pub status: u16,
    /// Regular header fields, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl H2Response {
    /// A response with no header fields and no body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header field.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// `200` with `content-type: application/json` and a small JSON body: what the fixtures
    /// answer when no response is given.
    pub fn json_ok() -> Self {
        Self::new(200)
            .header("server", "nginx")
            .header("content-type", "application/json")
            .body(br#"{"code":0,"msg":"ok"}"#.to_vec())
    }

    /// The field list as HPACK encodes it: `:status` first.
    pub fn field_list(&self) -> Vec<(String, Vec<u8>)> {
        let mut list = Vec::with_capacity(self.headers.len() + 2);
        list.push((":status".to_owned(), self.status.to_string().into_bytes()));
        list.extend(
            self.headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone())),
        );
        list
    }
}

/// One HTTP/1.1 message split into its parts.
struct Http1Message<'a> {
    start_line: &'a [u8],
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Most HTTP/1.1 messages [`requests_from_http1`] and [`responses_from_http1`] read from one
/// buffer.
pub const MAX_CONVERTED_MESSAGES: usize = 1024;

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_hex(s: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(s).ok()?;
    let s = s.split(';').next()?.trim();
    usize::from_str_radix(s, 16).ok()
}

/// Splits the first HTTP/1.1 message off `bytes` (Content-Length, chunked or bodiless framing);
/// returns it and the bytes consumed.
fn parse_http1(bytes: &[u8]) -> Option<(Http1Message<'_>, usize)> {
    let head_end = find(bytes, b"\r\n\r\n")?;
    let head = bytes.get(..head_end)?;
    let mut lines = head.split(|&b| b == b'\n');
    let first = lines.next()?;
    let start_line = first.strip_suffix(b"\r").unwrap_or(first);
    let mut headers = Vec::new();
    let mut length = 0usize;
    let mut chunked = false;
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        let name = String::from_utf8_lossy(line.get(..colon)?).to_ascii_lowercase();
        let value = line.get(colon + 1..)?.trim_ascii().to_vec();
        match name.as_str() {
            "content-length" => length = std::str::from_utf8(&value).ok()?.parse().ok()?,
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case(b"chunked"),
            _ => {}
        }
        headers.push((name, value));
    }
    let mut pos = head_end + 4;
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let rest = bytes.get(pos..)?;
            let line_end = find(rest, b"\r\n")?;
            let size = parse_hex(rest.get(..line_end)?)?;
            pos = pos.checked_add(line_end + 2)?;
            if size == 0 {
                // No trailers: the empty line ends the message.
                pos = pos.checked_add(2)?;
                break;
            }
            body.extend_from_slice(bytes.get(pos..pos.checked_add(size)?)?);
            pos = pos.checked_add(size + 2)?;
        }
        headers.retain(|(n, _)| n != "transfer-encoding");
        headers.push(("content-length".to_owned(), body.len().to_string().into()));
        body
    } else {
        let body = bytes.get(pos..pos.checked_add(length)?)?.to_vec();
        pos += length;
        body
    };
    Some((
        Http1Message {
            start_line,
            headers,
            body,
        },
        pos,
    ))
}

/// The fields of an HTTP/1.1 message that HTTP/2 keeps.
fn h2_fields(mut headers: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    headers.retain(|(n, _)| !CONNECTION_FIELDS.contains(&n.as_str()) && n != "expect");
    headers
}

/// Converts HTTP/1.1 requests (back to back, as this crate's [`crate::http`] builds them) into
/// HTTP/2 requests: `Host` becomes `:authority`, connection-specific fields and `Expect` are
/// dropped, chunked bodies are de-chunked. Stops at the first message it cannot read.
pub fn requests_from_http1(mut bytes: &[u8]) -> Vec<H2Request> {
    let mut out = Vec::new();
    while !bytes.is_empty() && out.len() < MAX_CONVERTED_MESSAGES {
        let Some((msg, used)) = parse_http1(bytes) else {
            break;
        };
        let host = msg
            .headers
            .iter()
            .find(|(n, _)| n == "host")
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        let mut parts = msg.start_line.split(|&b| b == b' ');
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            break;
        };
        out.push(H2Request {
            method: String::from_utf8_lossy(method).into_owned(),
            authority: host.unwrap_or_default(),
            path: String::from_utf8_lossy(target).into_owned(),
            headers: h2_fields(msg.headers),
            body: msg.body,
        });
        bytes = bytes.get(used..).unwrap_or(&[]);
    }
    out
}

/// Converts HTTP/1.1 responses into HTTP/2 responses (interim 1xx responses are skipped).
pub fn responses_from_http1(mut bytes: &[u8]) -> Vec<H2Response> {
    let mut out = Vec::new();
    while !bytes.is_empty() && out.len() < MAX_CONVERTED_MESSAGES {
        let Some((msg, used)) = parse_http1(bytes) else {
            break;
        };
        let status = msg
            .start_line
            .split(|&b| b == b' ')
            .nth(1)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse::<u16>().ok());
        let Some(status) = status else {
            break;
        };
        if status >= 200 {
            out.push(H2Response {
                status,
                headers: h2_fields(msg.headers),
                body: msg.body,
            });
        }
        bytes = bytes.get(used..).unwrap_or(&[]);
    }
    out
}

fn encode_fields(enc: &mut HpackEncoder, fields: &[(String, Vec<u8>)]) -> Vec<u8> {
    let list: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    enc.encode(&list)
}

/// The client side of an HTTP/2 connection: preface, odd stream ids, request HPACK context.
///
/// ```
/// use phonehome_synth::h2_frames::{H2Client, H2Request, PREFACE};
/// let mut c = H2Client::new();
/// let mut bytes = c.preface();
/// let (id, req) = c.request(&H2Request::new("GET", "example.com", "/"));
/// bytes.extend_from_slice(&req);
/// assert!(bytes.starts_with(PREFACE));
/// assert_eq!(id, 1);
/// ```
#[derive(Clone, Debug)]
pub struct H2Client {
    hpack: HpackEncoder,
    framing: H2Framing,
    next_stream: u32,
}

impl Default for H2Client {
    fn default() -> Self {
        Self::new()
    }
}

impl H2Client {
    /// A client with default framing.
    pub fn new() -> Self {
        Self::with_framing(H2Framing::default())
    }

    /// A client with this framing.
    pub fn with_framing(framing: H2Framing) -> Self {
        Self {
            hpack: HpackEncoder::new(),
            framing,
            next_stream: 1,
        }
    }

    /// The connection preface, the client's SETTINGS (push off, large window) and a connection
    /// WINDOW_UPDATE, as okhttp sends them.
    pub fn preface(&self) -> Vec<u8> {
        let mut out = PREFACE.to_vec();
        out.extend_from_slice(&settings(&[
            (setting::ENABLE_PUSH, 0),
            (setting::INITIAL_WINDOW_SIZE, FIXTURE_WINDOW),
            (setting::MAX_HEADER_LIST_SIZE, 262_144),
        ]));
        out.extend_from_slice(&window_update(0, FIXTURE_WINDOW - 65_535));
        out
    }

    /// The next stream id to be used.
    pub fn next_stream_id(&self) -> u32 {
        self.next_stream
    }

    /// Opens a stream for `req`: HEADERS (+ CONTINUATION), then DATA when there is a body.
    /// Returns the stream id and the frames.
    pub fn request(&mut self, req: &H2Request) -> (u32, Vec<u8>) {
        let id = self.next_stream;
        self.next_stream = self.next_stream.wrapping_add(2) & MAX_WINDOW;
        let block = encode_fields(&mut self.hpack, &req.field_list());
        let mut out = Vec::with_capacity(block.len() + req.body.len() + 64);
        self.framing
            .push_headers(&mut out, id, &block, req.body.is_empty());
        if !req.body.is_empty() {
            self.framing.push_data(&mut out, id, &req.body, true);
        }
        (id, out)
    }

    /// HEADERS of `req` only, with END_STREAM when it has no body (for interleaving streams).
    pub fn request_headers(&mut self, req: &H2Request) -> (u32, Vec<u8>) {
        let id = self.next_stream;
        self.next_stream = self.next_stream.wrapping_add(2) & MAX_WINDOW;
        let block = encode_fields(&mut self.hpack, &req.field_list());
        let mut out = Vec::with_capacity(block.len() + 32);
        self.framing
            .push_headers(&mut out, id, &block, req.body.is_empty());
        (id, out)
    }

    /// DATA frames for a stream opened with [`H2Client::request_headers`].
    pub fn data(&self, stream_id: u32, body: &[u8], end_stream: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 32);
        self.framing
            .push_data(&mut out, stream_id, body, end_stream);
        out
    }

    /// GOAWAY with NO_ERROR, sent before closing.
    pub fn goaway(&self) -> Vec<u8> {
        goaway(0, 0, &[])
    }
}

/// The server side of an HTTP/2 connection: SETTINGS and responses with their own HPACK context.
#[derive(Clone, Debug)]
pub struct H2Server {
    hpack: HpackEncoder,
    framing: H2Framing,
}

impl Default for H2Server {
    fn default() -> Self {
        Self::new()
    }
}

impl H2Server {
    /// A server with default framing.
    pub fn new() -> Self {
        Self::with_framing(H2Framing::default())
    }

    /// A server with this framing.
    pub fn with_framing(framing: H2Framing) -> Self {
        Self {
            hpack: HpackEncoder::new(),
            framing,
        }
    }

    /// The server's SETTINGS, a connection WINDOW_UPDATE and the ACK of the client's SETTINGS.
    pub fn preface(&self) -> Vec<u8> {
        let mut out = settings(&[
            (setting::MAX_CONCURRENT_STREAMS, 128),
            (setting::INITIAL_WINDOW_SIZE, FIXTURE_WINDOW),
            (setting::MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE as u32),
        ]);
        out.extend_from_slice(&window_update(0, FIXTURE_WINDOW - 65_535));
        out.extend_from_slice(&settings_ack());
        out
    }

    /// HEADERS (+ CONTINUATION) and DATA answering `stream_id`.
    pub fn response(&mut self, stream_id: u32, resp: &H2Response) -> Vec<u8> {
        let block = encode_fields(&mut self.hpack, &resp.field_list());
        let mut out = Vec::with_capacity(block.len() + resp.body.len() + 64);
        self.framing
            .push_headers(&mut out, stream_id, &block, resp.body.is_empty());
        if !resp.body.is_empty() {
            self.framing
                .push_data(&mut out, stream_id, &resp.body, true);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (type, flags, stream, payload) of every frame in `bytes`.
    fn frames(mut bytes: &[u8]) -> Vec<(u8, u8, u32, Vec<u8>)> {
        let mut out = Vec::new();
        while bytes.len() >= FRAME_HEADER_LEN {
            let len =
                usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
            let id = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]);
            out.push((bytes[3], bytes[4], id, bytes[9..9 + len].to_vec()));
            bytes = &bytes[9 + len..];
        }
        assert!(bytes.is_empty(), "trailing bytes");
        out
    }

    #[test]
    fn long_header_blocks_use_continuation() {
        let mut c = H2Client::with_framing(H2Framing {
            max_header_fragment: 20,
            ..H2Framing::default()
        });
        let req = H2Request::new("POST", "tracking.intl.miui.com", "/track/v4/event")
            .header("X-Device-Id", "356938035643809")
            .header("user-agent", "okhttp/4.12.0")
            .body(vec![b'x'; 40_000]);
        let (id, bytes) = c.request(&req);
        let f = frames(&bytes);
        assert_eq!(id, 1);
        assert_eq!(f[0].0, frame_type::HEADERS);
        assert_eq!(f[0].1 & flags::END_HEADERS, 0);
        let conts: Vec<_> = f
            .iter()
            .filter(|x| x.0 == frame_type::CONTINUATION)
            .collect();
        assert!(!conts.is_empty());
        assert_eq!(conts.last().unwrap().1, flags::END_HEADERS);
        let data: Vec<_> = f.iter().filter(|x| x.0 == frame_type::DATA).collect();
        assert_eq!(data.len(), 3, "40000 bytes in 16384-byte frames");
        assert!(data.iter().all(|d| d.3.len() <= DEFAULT_MAX_FRAME_SIZE));
        assert_eq!(data.last().unwrap().1, flags::END_STREAM);
        let block: Vec<u8> = f
            .iter()
            .filter(|x| x.0 != frame_type::DATA)
            .flat_map(|x| x.3.clone())
            .collect();
        let fields = loona_hpack::Decoder::new().decode(&block).unwrap();
        assert_eq!(
            fields[2],
            (b":authority".to_vec(), b"tracking.intl.miui.com".to_vec())
        );
        assert_eq!(
            fields[4],
            (b"x-device-id".to_vec(), b"356938035643809".to_vec())
        );
        assert_eq!(c.next_stream_id(), 3);
    }

    #[test]
    fn padding_is_declared_and_zero() {
        let framing = H2Framing {
            padding: 5,
            ..H2Framing::default()
        };
        let mut s = H2Server::with_framing(framing);
        let bytes = s.response(3, &H2Response::json_ok());
        let f = frames(&bytes);
        for (t, fl, id, payload) in &f {
            assert!(*t == frame_type::HEADERS || *t == frame_type::DATA);
            assert_eq!(fl & flags::PADDED, flags::PADDED);
            assert_eq!(*id, 3);
            assert_eq!(payload[0], 5);
            assert_eq!(&payload[payload.len() - 5..], &[0; 5]);
        }
        assert_eq!(&f[1].3[1..f[1].3.len() - 5], br#"{"code":0,"msg":"ok"}"#);
    }

    #[test]
    fn converts_http1_messages() {
        let r1 = crate::http::Request::new("GET", "/a?imei=1", "h.example")
            .header("Connection", "Keep-Alive")
            .header("X-Id", "7");
        let r2 = crate::http::Request::new("POST", "/b", "h.example")
            .body("msg=hi&x=1")
            .chunked(3);
        let reqs = requests_from_http1(&crate::http::pipeline(&[r1, r2]));
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].authority, "h.example");
        assert_eq!(reqs[0].path, "/a?imei=1");
        assert_eq!(reqs[0].headers, vec![("x-id".to_owned(), b"7".to_vec())]);
        assert_eq!(reqs[1].method, "POST");
        assert_eq!(reqs[1].body, b"msg=hi&x=1");
        let mut resp = crate::http::continue_response();
        resp.extend_from_slice(
            &crate::http::Response::new(201, "Created")
                .body("ok")
                .to_bytes(),
        );
        let resps = responses_from_http1(&resp);
        assert_eq!(resps.len(), 1);
        assert_eq!(resps[0].status, 201);
        assert_eq!(resps[0].body, b"ok");
    }

    #[test]
    fn conversion_survives_garbage() {
        for bad in [
            &b""[..],
            b"GET / HTTP/1.1\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 99\r\n\r\nshort",
            b"GET / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
        ] {
            let _ = requests_from_http1(bad);
            assert!(responses_from_http1(bad).len() <= 1);
        }
    }
}
