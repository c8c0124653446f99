//! HTTP/2 streams (RFC 9113 §5, §8): each carries one request and its response, built from the
//! header sections and DATA frames of the two directions.

use super::{Http2Event, Http2Limits};
use crate::{fields, HttpRequest, HttpResponse, RequestLine};
use phonehome_compress::decode_content;
use phonehome_model::{Body, Direction, Header};

/// One direction's message on a stream: the request (client) or the response (server).
#[derive(Debug, Default)]
pub(crate) struct Half {
    /// Header fields in order, pseudo-header fields included, then trailer fields.
    pub(crate) headers: Vec<Header>,
    /// The (final, for a response) header section was decoded.
    pub(crate) headers_done: bool,
    /// A header section of this message was lost, dropped at a cap, or never seen.
    pub(crate) headers_missing: bool,
    /// DATA payloads, padding removed, at most `max_body` octets.
    pub(crate) body: Vec<u8>,
    /// Some of the message is missing (body cap, lost bytes, cut short).
    pub(crate) truncated: bool,
    /// The body cap was reported.
    pub(crate) limit_reported: bool,
    /// Frame of the first byte of the frame that started the message.
    pub(crate) first_frame: Option<u64>,
    /// Emitted, or nothing will come (the HTTP/1.1 request of an h2c upgrade, a pushed request).
    pub(crate) done: bool,
    /// Octets held (body and header fields), counted in the connection's budget.
    pub(crate) held: usize,
}

impl Half {
    /// Whether anything of this message was seen.
    pub(crate) fn started(&self) -> bool {
        self.first_frame.is_some()
    }

    /// Records the first frame of the message.
    pub(crate) fn start(&mut self, frame: u64) {
        self.first_frame.get_or_insert(frame);
    }

    /// Appends header fields; returns the octets added to the budget.
    pub(crate) fn add_headers(&mut self, headers: Vec<Header>) -> usize {
        let added = headers
            .iter()
            .map(|h| h.name.len().saturating_add(h.value.len()))
            .fold(0usize, usize::saturating_add);
        self.headers.extend(headers);
        self.held = self.held.saturating_add(added);
        added
    }

    /// Appends body octets up to `max_body`: (octets added, a reason the first time some were
    /// dropped).
    pub(crate) fn add_body(&mut self, bytes: &[u8], max_body: usize) -> (usize, Option<String>) {
        let room = max_body.saturating_sub(self.body.len());
        let keep = bytes.len().min(room);
        self.body
            .extend_from_slice(bytes.get(..keep).unwrap_or_default());
        self.held = self.held.saturating_add(keep);
        if keep == bytes.len() {
            return (keep, None);
        }
        self.truncated = true;
        if self.limit_reported {
            return (keep, None);
        }
        self.limit_reported = true;
        (
            keep,
            Some(format!(
                "body longer than max_body ({max_body} octets): the rest was skipped"
            )),
        )
    }
}

/// One stream.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    /// The client's message.
    pub(crate) request: Half,
    /// The server's message.
    pub(crate) response: Half,
    /// The request line, once the request's (or the PUSH_PROMISE's) header section was decoded,
    /// or given by an h2c upgrade.
    pub(crate) request_line: Option<RequestLine>,
    /// When this stream last saw a frame (a connection-wide counter), for eviction.
    pub(crate) last_active: u64,
    /// RST_STREAM was seen: frames still in flight are expected, and a message that had not
    /// started may still come (a response the server sent before the client's reset arrived).
    pub(crate) reset: bool,
}

impl Stream {
    /// The half of `dir`.
    pub(crate) fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::Request => &mut self.request,
            Direction::Response => &mut self.response,
        }
    }

    /// Both messages are emitted (or will never come).
    pub(crate) fn finished(&self) -> bool {
        self.request.done && self.response.done
    }

    /// A message was started and not yet emitted: evicting the stream loses something.
    pub(crate) fn in_progress(&self) -> bool {
        [&self.request, &self.response]
            .iter()
            .any(|h| h.started() && !h.done)
    }

    /// Octets this stream holds.
    pub(crate) fn held(&self) -> usize {
        self.request.held.saturating_add(self.response.held)
    }
}

/// The first value of the pseudo-header field `name`, lossily as text.
fn pseudo(headers: &[Header], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|h| h.name == name)
        .map(|h| String::from_utf8_lossy(&h.value).into_owned())
}

/// The request line an HTTP/2 request's pseudo-header fields stand for (RFC 9113 §8.3.1):
/// `:method`, and `:path` as the target (for CONNECT without `:path`, `:authority`). Missing
/// fields give empty strings.
pub(crate) fn request_line(headers: &[Header]) -> RequestLine {
    let method = pseudo(headers, ":method").unwrap_or_default();
    let target = pseudo(headers, ":path")
        .or_else(|| {
            method
                .eq_ignore_ascii_case("CONNECT")
                .then(|| pseudo(headers, ":authority"))
                .flatten()
        })
        .unwrap_or_default();
    RequestLine {
        method,
        target,
        version: "2".into(),
    }
}

/// The status code of a response header section (`:status`, three digits), if valid.
pub(crate) fn status(headers: &[Header]) -> Option<u16> {
    let value = headers
        .iter()
        .find(|h| h.name == ":status")?
        .value
        .as_slice();
    if value.len() != 3 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// What building a message reports besides the message.
pub(crate) struct Built {
    pub(crate) event: Http2Event,
    /// A decompression cap was hit.
    pub(crate) limit: Option<String>,
}

/// Builds the body, undoing its Content-Encoding when there is one (as HTTP/1.x does).
fn content(half: &mut Half, limits: &Http2Limits) -> (Body, Option<String>, Option<String>) {
    let mut body = Body::plain(std::mem::take(&mut half.body));
    body.truncated = half.truncated;
    let Some(coding) = fields::content_encoding(&half.headers).filter(|_| !body.raw.is_empty())
    else {
        return (body, None, None);
    };
    let decoded = decode_content(&coding, &body.raw, &limits.decompress);
    let limit = decoded.limited.then(|| {
        let why = decoded.problem.as_deref().unwrap_or("cap reached");
        format!("content decoding stopped: {why}")
    });
    if !decoded.chain.is_empty() {
        body.truncated |= decoded.truncated;
        body.decoded = Some(decoded.data);
        body.encodings = decoded.chain;
    }
    (body, decoded.problem, limit)
}

/// Turns the `dir` half of `stream` into its event; `last_frame` is the frame that completed it.
pub(crate) fn build(
    stream: &mut Stream,
    dir: Direction,
    last_frame: u64,
    limits: &Http2Limits,
) -> Built {
    let request = stream.request_line.clone();
    let half = stream.half(dir);
    half.done = true;
    half.held = 0;
    let (body, content_problem, limit) = content(half, limits);
    let headers = std::mem::take(&mut half.headers);
    let first_frame = half.first_frame.unwrap_or(last_frame);
    let event = match dir {
        Direction::Request => Http2Event::Request(HttpRequest {
            line: request.unwrap_or_else(|| request_line(&headers)),
            headers,
            body,
            content_problem,
            first_frame,
            last_frame,
        }),
        Direction::Response => Http2Event::Response(HttpResponse {
            version: "2".into(),
            status: status(&headers).unwrap_or(0),
            reason: String::new(),
            headers,
            body,
            request,
            content_problem,
            first_frame,
            last_frame,
        }),
    };
    Built { event, limit }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_header_mapping() {
        let h = |pairs: &[(&str, &str)]| -> Vec<Header> {
            pairs.iter().map(|(n, v)| Header::new(*n, *v)).collect()
        };
        let get = h(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "a.example"),
            (":path", "/x?y"),
        ]);
        assert_eq!(
            request_line(&get),
            RequestLine {
                method: "GET".into(),
                target: "/x?y".into(),
                version: "2".into()
            }
        );
        let connect = h(&[(":method", "CONNECT"), (":authority", "a.example:443")]);
        assert_eq!(request_line(&connect).target, "a.example:443");
        assert_eq!(request_line(&h(&[])).method, "");
        assert_eq!(status(&h(&[(":status", "204")])), Some(204));
        assert_eq!(status(&h(&[(":status", "20")])), None);
        assert_eq!(status(&h(&[(":status", "2x4")])), None);
        assert_eq!(status(&h(&[])), None);
    }

    #[test]
    fn body_cap_reported_once() {
        let mut half = Half::default();
        assert_eq!(half.add_body(b"abc", 5), (3, None));
        let (n, why) = half.add_body(b"defg", 5);
        assert_eq!(n, 2);
        assert!(why.unwrap().contains("max_body"));
        assert_eq!(half.add_body(b"h", 5), (0, None));
        assert_eq!(half.body, b"abcde");
        assert!(half.truncated);
        assert_eq!(half.held, 5);
    }
}
