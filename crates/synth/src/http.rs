//! HTTP/1.1 messages (RFC 9112) as bytes: Content-Length or chunked framing, gzip/deflate content
//! codings (RFC 9110 section 8.4.1, made with flate2), `Expect: 100-continue`, pipelining, and the
//! form and percent encodings apps use in bodies and query strings.

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use std::io::Write;

/// A content coding applied to a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentCoding {
    /// gzip (RFC 1952), with mtime 0 so that output is reproducible.
    Gzip,
    /// "deflate", which HTTP defines as the zlib format (RFC 1950).
    Deflate,
}

impl ContentCoding {
    /// The token used in `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Deflate => "deflate",
        }
    }

    /// `data` compressed with this coding.
    pub fn encode(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Gzip => gzip(data),
            Self::Deflate => deflate(data),
        }
    }
}

/// `data` in gzip format (default level, mtime 0, OS "unknown").
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(data.len() / 2 + 32),
        Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// `data` in zlib format (HTTP's `deflate` coding).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 16),
        Compression::default(),
    );
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// `data` in chunked transfer coding with chunks of at most `chunk_size` bytes (at least 1), a
/// last chunk and no trailers.
pub fn chunk(data: &[u8], chunk_size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / chunk_size.max(1) * 8 + 8);
    for c in data.chunks(chunk_size.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for query components).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `application/x-www-form-urlencoded` encoding of one value: spaces become `+`, everything else
/// outside `*-._` and alphanumerics is percent-encoded (the WHATWG URL standard's set).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => {
                out.push(char::from(b))
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `name=value&…` with each part form-encoded.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// How a body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framing {
    /// `Content-Length` (omitted when a request has no body).
    Length,
    /// `Transfer-Encoding: chunked` with chunks of at most this many bytes.
    Chunked(usize),
    /// No framing header: the body runs to the end of the connection (responses only).
    Close,
}

/// The start line and headers shared by requests and responses.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parts {
    start_line: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    framing: Framing,
    coding: Option<ContentCoding>,
    /// True for requests and for 1xx/204/304 responses: no `Content-Length: 0` when bodiless.
    omit_empty_length: bool,
}

impl Parts {
    fn head(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(self.start_line.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        if let Some(c) = self.coding {
            out.extend_from_slice(format!("Content-Encoding: {}\r\n", c.token()).as_bytes());
        }
        match self.framing {
            Framing::Length if !(self.omit_empty_length && self.body.is_empty()) => {
                out.extend_from_slice(
                    format!("Content-Length: {}\r\n", self.body.len()).as_bytes(),
                );
            }
            Framing::Chunked(_) => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            _ => {}
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    fn framed_body(&self) -> Vec<u8> {
        match self.framing {
            Framing::Chunked(n) => chunk(&self.body, n),
            _ => self.body.clone(),
        }
    }
}

/// An HTTP/1.1 request.
///
/// ```
/// use phonehome_synth::http::{ContentCoding, Request};
/// let r = Request::new("POST", "/v1/track", "tracking.example")
///     .header("Content-Type", "application/json")
///     .body(br#"{"a":1}"#.to_vec())
///     .encode(ContentCoding::Gzip);
/// let bytes = r.to_bytes();
/// assert!(bytes.starts_with(b"POST /v1/track HTTP/1.1\r\nHost: tracking.example\r\n"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    parts: Parts,
}

impl Request {
    /// `METHOD target HTTP/1.1` with a `Host` header.
    pub fn new(method: &str, target: &str, host: &str) -> Self {
        Self {
            parts: Parts {
                start_line: format!("{method} {target} HTTP/1.1"),
                headers: vec![("Host".to_owned(), host.as_bytes().to_vec())],
                body: Vec::new(),
                framing: Framing::Length,
                coding: None,
                omit_empty_length: true,
            },
        }
    }

    /// Adds a header (in order; framing and coding headers are added last).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.parts
            .headers
            .push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    /// Sets the body (before any content coding).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.parts.body = body.into();
        self
    }

    /// Compresses the current body with `coding` and adds `Content-Encoding`.
    pub fn encode(mut self, coding: ContentCoding) -> Self {
        self.parts.body = coding.encode(&self.parts.body);
        self.parts.coding = Some(coding);
        self
    }

    /// Sends the body chunked, in chunks of at most `chunk_size` bytes.
    pub fn chunked(mut self, chunk_size: usize) -> Self {
        self.parts.framing = Framing::Chunked(chunk_size);
        self
    }

    /// Adds `Expect: 100-continue`: send [`Request::head_bytes`], wait for [`continue_response`],
    /// then send [`Request::body_bytes`].
    pub fn expect_continue(self) -> Self {
        self.header("Expect", "100-continue")
    }

    /// The request line and headers, ending with the empty line.
    pub fn head_bytes(&self) -> Vec<u8> {
        self.parts.head()
    }

    /// The body as sent (content-coded, then chunked if chosen).
    pub fn body_bytes(&self) -> Vec<u8> {
        self.parts.framed_body()
    }

    /// Head and body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.head_bytes();
        out.extend_from_slice(&self.body_bytes());
        out
    }
}

/// An HTTP/1.1 response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    parts: Parts,
}

impl Response {
    /// `HTTP/1.1 status reason` with no headers.
    pub fn new(status: u16, reason: &str) -> Self {
        Self {
            parts: Parts {
                start_line: format!("HTTP/1.1 {status} {reason}"),
                headers: Vec::new(),
                body: Vec::new(),
                framing: Framing::Length,
                coding: None,
                omit_empty_length: status < 200 || status == 204 || status == 304,
            },
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.parts
            .headers
            .push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    /// Sets the body (before any content coding).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.parts.body = body.into();
        self
    }

    /// Compresses the current body with `coding` and adds `Content-Encoding`.
    pub fn encode(mut self, coding: ContentCoding) -> Self {
        self.parts.body = coding.encode(&self.parts.body);
        self.parts.coding = Some(coding);
        self
    }

    /// Sets how the body is delimited.
    pub fn framing(mut self, framing: Framing) -> Self {
        self.parts.framing = framing;
        self
    }

    /// Status line, headers and body as sent.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.parts.head();
        out.extend_from_slice(&self.parts.framed_body());
        out
    }
}

/// The interim response to `Expect: 100-continue`.
pub fn continue_response() -> Vec<u8> {
    b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()
}

/// Several requests back to back, as a pipelining client sends them before any response.
pub fn pipeline(requests: &[Request]) -> Vec<u8> {
    requests.iter().flat_map(Request::to_bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::{GzDecoder, ZlibDecoder};
    use std::io::Read;

    #[test]
    fn codings_round_trip_and_are_reproducible() {
        let text = b"{\"imei\":\"356938035643809\"}".repeat(20);
        let gz = gzip(&text);
        assert_eq!(&gz[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&gz[4..8], &[0, 0, 0, 0], "mtime 0");
        assert_eq!(gz, gzip(&text));
        let mut back = Vec::new();
        GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, text);
        let z = deflate(&text);
        assert_eq!(z[0], 0x78);
        back.clear();
        ZlibDecoder::new(&z[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn chunked_framing_is_exact() {
        assert_eq!(
            chunk(b"hello world", 5),
            b"5\r\nhello\r\n5\r\n worl\r\n1\r\nd\r\n0\r\n\r\n"
        );
        assert_eq!(chunk(b"", 5), b"0\r\n\r\n");
        assert_eq!(chunk(b"ab", 0), b"1\r\na\r\n1\r\nb\r\n0\r\n\r\n");
        let r = Request::new("POST", "/", "h")
            .body("abc")
            .chunked(2)
            .to_bytes();
        assert_eq!(r, b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n");
    }

    #[test]
    fn lengths_and_encodings() {
        let r = Request::new("GET", "/", "h").to_bytes();
        assert_eq!(
            r, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            "no Content-Length on a bodiless request"
        );
        let resp = Response::new(204, "No Content").to_bytes();
        assert_eq!(resp, b"HTTP/1.1 204 No Content\r\n\r\n");
        let resp = Response::new(200, "OK").to_bytes();
        assert_eq!(resp, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(form_encode("Dinner at 8?"), "Dinner+at+8%3F");
        assert_eq!(percent_encode("a b/+"), "a%20b%2F%2B");
        assert_eq!(form_body(&[("a", "1 2"), ("b=", "&")]), "a=1+2&b%3D=%26");
    }
}
