//! One HTTP/1.x connection: a parser per direction ([`HalfStream`]) and the first-in first-out
//! pairing of responses with requests.
//!
//! Each direction is a small state machine (RFC 9112 §6 for message framing):
//!
//! ```text
//! Idle ──first byte──▶ Head ──empty line──▶ Body ──length reached / last chunk──▶ Idle
//!   ▲                   │ bad start line,      │ bad chunk line
//!   │                   ▼ header cap           ▼
//!   └──message line── Desync ◀────────────── gap past the body
//! Request side only: a CONNECT or Upgrade request ──▶ Hold (bytes kept until the server answers)
//! Either side, after a 101 to an Upgrade request or a 2xx to CONNECT ──▶ Done
//! (a 101 to any other request is an anomaly, read as an interim response)
//! Response side only: a 1xx, 204 or 304 whose fields announce a body ──▶ Peek ──▶ Idle or Body
//! ```

use crate::chunked::{ChunkStep, ChunkedDecoder};
use crate::fields::{self, TransferCoding};
use crate::start_line::{self, StartLineCheck, StatusLine, Strictness};
use crate::{Http1Event, Http1Limits, HttpRequest, HttpResponse, RequestLine};
use phonehome_compress::decode_content;
use phonehome_model::{Body, Direction, Header};
use std::collections::VecDeque;

/// Most requests kept waiting for their response (each holds its request line, at most
/// [`crate::MAX_REQUEST_LINE`] bytes); beyond it the oldest loses its pairing. Real clients pipeline
/// a handful.
pub const MAX_PENDING_REQUESTS: usize = 256;

/// Longest line buffered while looking for a message start after a desynchronisation: a request
/// line of [`crate::MAX_REQUEST_LINE`] bytes after a method of [`crate::MAX_METHOD_LEN`], and its
/// line end.
pub const MAX_RESYNC_LINE: usize = crate::MAX_REQUEST_LINE + crate::MAX_METHOD_LEN + 2;

/// Most client bytes held after a CONNECT or Upgrade request while waiting for the server's answer
/// (they become [`Http1Event::Upgraded::client_rest`], or are parsed as HTTP if the upgrade is
/// refused); beyond it they are dropped with a [`Http1Event::Limit`].
pub const MAX_UPGRADE_HOLD: usize = 256 * 1024;

/// How many bytes of offending input an anomaly reason quotes.
const PREVIEW_LEN: usize = 48;

/// What the next response starts with: after a response whose status says it has no body but
/// whose fields announce one, these bytes (or a line end) mean there is no body after all.
const NEXT_STATUS_PREFIX: &[u8] = b"HTTP/";

/// A request whose response has not been seen yet.
#[derive(Debug)]
struct PendingRequest {
    line: RequestLine,
    /// HEAD: the response has no body.
    head: bool,
    /// CONNECT: a 2xx response switches the connection to a tunnel.
    connect: bool,
    /// It carries `Upgrade`: a 101 response switches the connection to another protocol.
    upgrade: bool,
    /// CONNECT or Upgrade: the client half holds its later bytes until the answer.
    holds: bool,
}

/// How the end of a body is found (RFC 9112 §6.3).
#[derive(Debug)]
enum Framing {
    /// Content-Length (or no body: 0), with this many bytes left.
    Length(u64),
    /// Transfer-Encoding: chunked.
    Chunked(ChunkedDecoder),
    /// Response without a length: the body ends when the server closes.
    UntilClose,
}

/// The start line of a message in progress.
#[derive(Debug)]
enum Start {
    Request(RequestLine),
    Response {
        line: StatusLine,
        request: Option<RequestLine>,
    },
}

/// A body being collected, capped at `max_body`.
#[derive(Debug, Default)]
struct BodyBuffer {
    data: Vec<u8>,
    truncated: bool,
    limit_reported: bool,
}

impl BodyBuffer {
    /// Appends what fits under `max_body`; returns a reason the first time something is dropped.
    fn push(&mut self, bytes: &[u8], max_body: usize) -> Option<String> {
        let room = max_body.saturating_sub(self.data.len());
        let keep = bytes.len().min(room);
        self.data
            .extend_from_slice(bytes.get(..keep).unwrap_or_default());
        if keep == bytes.len() {
            return None;
        }
        self.truncated = true;
        if self.limit_reported {
            return None;
        }
        self.limit_reported = true;
        Some(format!(
            "body longer than max_body ({max_body} bytes): the rest was skipped"
        ))
    }
}

/// A message whose header section is complete and whose body is being read.
#[derive(Debug)]
struct InProgress {
    start: Start,
    headers: Vec<Header>,
    framing: Framing,
    body: BodyBuffer,
    first_frame: u64,
    /// The request half must hold its later bytes once this request is complete.
    holds: bool,
}

/// A response whose status says it has no body (1xx, 204, 304) while its fields announce one
/// (`Content-Length` above 0, or `Transfer-Encoding`). Browsers and libhtp read the body when the
/// server sends one (HTTP-evader's `204`, `304`, `100` cases), while real servers announce the
/// length of a cached entity on a 304 and send none; the bytes that follow tell which: the start
/// of a status line (`HTTP/`, at most [`NEXT_STATUS_PREFIX`]`.len()` bytes held) or a line end
/// means no body, anything else is the body.
#[derive(Debug)]
struct Peek {
    /// The response, its framing as its fields announce it.
    msg: Box<InProgress>,
    /// A 1xx: if it has no body it is an interim response, and the request it would answer is
    /// still waiting in the queue.
    interim: bool,
    /// The bytes looked at so far: a proper prefix of [`NEXT_STATUS_PREFIX`].
    seen: Vec<u8>,
    /// Frame of the first byte in `seen`.
    seen_frame: u64,
    /// Frame that completed the header section.
    head_frame: u64,
}

/// Where one direction's parser is.
#[derive(Debug)]
enum State {
    /// Between messages (line ends are skipped).
    Idle,
    /// Collecting a header section in `HalfStream::buf`.
    Head,
    /// Reading a body.
    Body(Box<InProgress>),
    /// Response side: deciding whether a response that should have no body has one.
    Peek(Box<Peek>),
    /// Lost: skipping to the next line that starts a message; `at_line_start` when the bytes in
    /// `HalfStream::buf` are a candidate line.
    Desync { at_line_start: bool },
    /// Request side after a CONNECT/Upgrade request: bytes are held in `HalfStream::hold`.
    Hold,
    /// After an upgrade: this connection is no longer HTTP/1.x.
    Done,
}

/// What a direction tells the connection.
#[derive(Debug)]
enum Signal {
    /// The server accepted an upgrade or CONNECT.
    Upgrade { status: u16 },
    /// The server answered the request the client half is holding for, without upgrading.
    ReleaseHold,
}

/// What a direction's parser needs from the connection while it runs.
struct Cx<'a> {
    limits: &'a Http1Limits,
    pending: &'a mut VecDeque<PendingRequest>,
    out: &'a mut Vec<Http1Event>,
    frame: u64,
}

/// The parser of one direction.
#[derive(Debug)]
struct HalfStream {
    dir: Direction,
    state: State,
    /// Header section (in `Head`) or candidate line (in `Desync`), at most `max_header_bytes` /
    /// [`MAX_RESYNC_LINE`].
    buf: Vec<u8>,
    /// In `Head`: where the current line starts in `buf`.
    line_start: usize,
    /// In `Head`: length of the (validated) start line with its line end, once complete.
    start_line_len: Option<usize>,
    /// In `Head` before the start line is complete, and in `Desync`: the verdict on the start
    /// line in `buf` so far, each byte of it examined once however the line is split.
    start_check: StartLineCheck,
    /// Frame of the first byte of the message (or candidate line) in `buf`.
    first_frame: u64,
    /// In `Hold`: the held bytes, at most [`MAX_UPGRADE_HOLD`].
    hold: Vec<u8>,
    hold_frame: Option<u64>,
    hold_limit_reported: bool,
    /// `end` was called.
    ended: bool,
}

/// Quotes the start of some offending bytes for a reason string.
fn preview(bytes: &[u8]) -> String {
    let shown = bytes
        .get(..bytes.len().min(PREVIEW_LEN))
        .unwrap_or_default();
    let more = if bytes.len() > PREVIEW_LEN { "…" } else { "" };
    format!("`{}`{more}", shown.escape_ascii())
}

/// Splits `rest` after its first `\n`: (bytes up to and including it, whether one was found).
fn through_line_end(rest: &[u8]) -> (usize, bool) {
    match memchr::memchr(b'\n', rest) {
        Some(i) => (i.saturating_add(1), true),
        None => (rest.len(), false),
    }
}

/// `line` without its trailing `\n`.
fn without_lf(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

impl HalfStream {
    fn new(dir: Direction) -> Self {
        Self {
            dir,
            state: State::Idle,
            buf: Vec::new(),
            line_start: 0,
            start_line_len: None,
            start_check: Self::start_check(dir, Strictness::Lenient),
            first_frame: 0,
            hold: Vec::new(),
            hold_frame: None,
            hold_limit_reported: false,
            ended: false,
        }
    }

    fn anomaly(&self, cx: &mut Cx<'_>, reason: String) {
        cx.out.push(Http1Event::Anomaly {
            dir: self.dir,
            frame: cx.frame,
            reason,
        });
    }

    fn limit(&self, cx: &mut Cx<'_>, reason: String) {
        cx.out.push(Http1Event::Limit {
            dir: self.dir,
            frame: cx.frame,
            reason,
        });
    }

    /// A fresh check for a start line of direction `dir`: lenient at a message boundary, strict
    /// when resynchronising.
    fn start_check(dir: Direction, strictness: Strictness) -> StartLineCheck {
        match dir {
            Direction::Request => StartLineCheck::request(strictness),
            Direction::Response => StartLineCheck::status(strictness),
        }
    }

    /// Starts checking a new start line in `buf`.
    fn restart_check(&mut self, strictness: Strictness) {
        self.start_check = Self::start_check(self.dir, strictness);
    }

    /// Can the bytes in `buf` start this direction's start line? (`None`: not yet known.) Only
    /// the bytes added since the last call are examined.
    fn start_verdict(&mut self) -> Option<bool> {
        self.start_check.check(&self.buf)
    }

    /// Is the whole line in `buf` (with its `\n`) a valid start line for this direction? Never
    /// true when a prefix of it was already rejected by [`Self::start_verdict`], so feeding a line
    /// whole or in pieces decides the same way.
    fn is_start_line(&mut self, strictness: Strictness) -> bool {
        self.start_verdict() != Some(false)
            && match self.dir {
                Direction::Request => {
                    start_line::parse_request_line(without_lf(&self.buf), strictness).is_some()
                }
                Direction::Response => {
                    start_line::parse_status_line(without_lf(&self.buf), strictness).is_some()
                }
            }
    }

    /// Why `bytes` cannot start a message, quoting them up to the first byte that rules them out
    /// (the same whichever way the bytes were split across `feed` calls).
    fn bad_start_reason(&self, bytes: &[u8]) -> String {
        let mut check = Self::start_check(self.dir, Strictness::Lenient);
        let shown = match check.check(bytes) {
            Some(false) => check
                .rejected_len()
                .and_then(|n| bytes.get(..n))
                .unwrap_or(bytes),
            _ => bytes,
        };
        let max = crate::MAX_REQUEST_LINE;
        if self.dir == Direction::Request && shown.len() > max {
            return format!("request line longer than {max} bytes: {}", preview(shown));
        }
        match self.dir {
            Direction::Request => format!("not an HTTP/1.x request line: {}", preview(shown)),
            Direction::Response => format!("not an HTTP/1.x status line: {}", preview(shown)),
        }
    }

    /// Drops the buffered head and skips to the next message start.
    fn desync(&mut self, at_line_start: bool) {
        self.buf.clear();
        self.start_line_len = None;
        self.line_start = 0;
        self.restart_check(Strictness::Strict);
        self.state = State::Desync { at_line_start };
    }

    /// Consumes `data` (all of it, unless a signal stops it first: then the count used so far).
    fn advance(&mut self, data: &[u8], cx: &mut Cx<'_>) -> (usize, Option<Signal>) {
        let mut used = 0usize;
        while let Some(rest) = data.get(used..).filter(|r| !r.is_empty()) {
            let decided = matches!(self.state, State::Peek(_));
            let (n, signal) = match self.state {
                State::Idle => {
                    let skip = self.advance_idle(rest, cx);
                    match rest.get(skip..).filter(|r| !r.is_empty()) {
                        // A message starts: its first byte belongs to the header section.
                        Some(head) => {
                            let (n, signal) = self.advance_head(head, cx);
                            (skip.saturating_add(n), signal)
                        }
                        None => (skip, None),
                    }
                }
                State::Head => self.advance_head(rest, cx),
                State::Body(_) => (self.advance_body(rest, cx), None),
                // May use no byte: it then only decides, and the next state goes on.
                State::Peek(_) => self.advance_peek(rest, cx),
                State::Desync { at_line_start } => {
                    (self.advance_desync(rest, at_line_start, cx), None)
                }
                State::Hold => (self.advance_hold(rest, cx), None),
                State::Done => (rest.len(), None),
            };
            used = used.saturating_add(n);
            if signal.is_some() {
                return (used, signal);
            }
            if n == 0 && !decided {
                // Every state consumes at least one byte of non-empty input; should that ever
                // fail, drop the rest rather than spin.
                return (data.len(), None);
            }
        }
        (used, None)
    }

    /// Skips line ends between messages; at any other byte, starts a header section (and returns
    /// the count skipped, without that byte).
    fn advance_idle(&mut self, rest: &[u8], cx: &mut Cx<'_>) -> usize {
        let skip = rest
            .iter()
            .take_while(|&&b| matches!(b, b'\r' | b'\n'))
            .count();
        if skip < rest.len() {
            self.buf.clear();
            self.start_line_len = None;
            self.line_start = 0;
            self.restart_check(Strictness::Lenient);
            self.first_frame = cx.frame;
            self.state = State::Head;
        }
        skip
    }

    fn advance_head(&mut self, rest: &[u8], cx: &mut Cx<'_>) -> (usize, Option<Signal>) {
        let (mut take, mut line_done) = through_line_end(rest);
        let max = cx.limits.max_header_bytes;
        // Take at most one byte past the cap: enough to know it is passed, and the same bytes are
        // judged whether they came in one `feed` call or many.
        let room = max.saturating_sub(self.buf.len()).saturating_add(1);
        if take > room {
            take = room;
            line_done = false;
        }
        self.buf
            .extend_from_slice(rest.get(..take).unwrap_or_default());
        if self.start_line_len.is_none() {
            let bad = if line_done {
                !self.is_start_line(Strictness::Lenient)
            } else {
                self.start_verdict() == Some(false)
            };
            if bad {
                self.anomaly(cx, self.bad_start_reason(&self.buf));
                self.desync(line_done);
                return (take, None);
            }
        }
        if self.buf.len() > max {
            self.limit(
                cx,
                format!(
                    "header section longer than max_header_bytes ({max} bytes): message dropped"
                ),
            );
            self.desync(line_done);
            return (take, None);
        }
        if !line_done {
            return (take, None);
        }
        if self.start_line_len.is_none() {
            self.start_line_len = Some(self.buf.len());
            self.line_start = self.buf.len();
            return (take, None);
        }
        let line = without_lf(self.buf.get(self.line_start..).unwrap_or_default());
        let empty = fields::ends_section(line);
        self.line_start = self.buf.len();
        if !empty {
            return (take, None);
        }
        (take, self.finish_head(cx, false))
    }

    /// The header section in `buf` is complete (or, with `cut`, is all there will be): start the
    /// message.
    fn finish_head(&mut self, cx: &mut Cx<'_>, cut: bool) -> Option<Signal> {
        let start_len = self.start_line_len.unwrap_or(0);
        let (first, section) = self.buf.split_at(start_len.min(self.buf.len()));
        let first = without_lf(first);
        let first = first.strip_suffix(b"\r").unwrap_or(first);
        // A status line ends at a bare CR, as in tshark: the rest of its line is field lines
        // (`HTTP/1.1 200 ok\rTransfer-Encoding: chunked`). A request line with a CR was refused.
        let (line, first_rest) = match memchr::memchr(b'\r', first) {
            Some(i) if self.dir == Direction::Response => (
                first.get(..i).unwrap_or_default(),
                first.get(i.saturating_add(1)..).unwrap_or_default(),
            ),
            _ => (first, &b""[..]),
        };
        let mut fields = fields::parse_head_fields(first_rest, section, cx.limits.max_headers);
        if line.len() < first.len() {
            fields.bare_crs = fields.bare_crs.saturating_add(1);
        }
        let line = line.to_vec();
        self.buf.clear();
        self.start_line_len = None;
        self.line_start = 0;
        self.state = State::Idle;
        if fields.bare_crs > 0 {
            let n = fields.bare_crs;
            self.anomaly(
                cx,
                format!("{n} bare CR(s) ended header lines (read as line ends, as tshark does)"),
            );
        }
        if fields.dropped > 0 {
            let max = cx.limits.max_headers;
            self.limit(
                cx,
                format!(
                    "{} header fields beyond max_headers ({max}) dropped",
                    fields.dropped
                ),
            );
        }
        match self.dir {
            Direction::Request => {
                self.begin_request(&line, fields.headers, cx, cut);
                None
            }
            Direction::Response => self.begin_response(&line, fields.headers, cx, cut),
        }
    }

    /// The framing of a message from its fields, or the reason it has none.
    fn framing(headers: &[Header], request: bool, max_trailer: usize) -> Result<Framing, String> {
        match fields::transfer_coding(headers) {
            TransferCoding::Chunked => Ok(Framing::Chunked(ChunkedDecoder::new(max_trailer))),
            TransferCoding::Other(codings) if request => Err(format!(
                "request Transfer-Encoding `{codings}` does not end in chunked: length unknown"
            )),
            TransferCoding::Other(_) => Ok(Framing::UntilClose),
            TransferCoding::Absent => match fields::content_length(headers)? {
                Some(n) => Ok(Framing::Length(n)),
                None if request => Ok(Framing::Length(0)),
                None => Ok(Framing::UntilClose),
            },
        }
    }

    fn begin_request(&mut self, line: &[u8], headers: Vec<Header>, cx: &mut Cx<'_>, cut: bool) {
        let Some(line) = start_line::parse_request_line(line, Strictness::Lenient) else {
            // Validated when the line arrived; kept for safety.
            self.anomaly(cx, self.bad_start_reason(line));
            self.desync(true);
            return;
        };
        let connect = line.method.eq_ignore_ascii_case("CONNECT");
        let upgrade = fields::has(&headers, "upgrade");
        let holds = connect || upgrade;
        if cx.pending.len() >= MAX_PENDING_REQUESTS {
            cx.pending.pop_front();
            self.limit(
                cx,
                format!("more than {MAX_PENDING_REQUESTS} requests await a response: the oldest is left unpaired"),
            );
        }
        cx.pending.push_back(PendingRequest {
            line: line.clone(),
            head: line.method.eq_ignore_ascii_case("HEAD"),
            connect,
            upgrade,
            holds,
        });
        let framing = Self::framing(&headers, true, cx.limits.max_header_bytes);
        let broken = framing.as_ref().err().cloned();
        let mut msg = Box::new(InProgress {
            start: Start::Request(line),
            headers,
            framing: framing.unwrap_or(Framing::Length(0)),
            body: BodyBuffer::default(),
            first_frame: self.first_frame,
            holds,
        });
        if let Some(reason) = broken {
            msg.body.truncated = true;
            self.complete(msg, cx);
            self.anomaly(cx, reason);
            self.desync(true);
        } else if cut || matches!(msg.framing, Framing::Length(0)) {
            msg.body.truncated |= cut;
            self.complete(msg, cx);
        } else {
            self.state = State::Body(msg);
        }
    }

    fn begin_response(
        &mut self,
        line: &[u8],
        headers: Vec<Header>,
        cx: &mut Cx<'_>,
        cut: bool,
    ) -> Option<Signal> {
        let Some(status_line) = start_line::parse_status_line(line, Strictness::Lenient) else {
            // Validated when the line arrived; kept for safety.
            self.anomaly(cx, self.bad_start_reason(line));
            self.desync(true);
            return None;
        };
        if status_line.malformed {
            self.anomaly(
                cx,
                format!(
                    "malformed status line {}: read as version `{}`, status {}",
                    preview(line),
                    status_line.version.escape_debug(),
                    status_line.status
                ),
            );
        }
        let line = status_line;
        let status = line.status;
        // A server may only switch to a protocol the client asked for (RFC 9110 §15.2.2): a 101
        // answering a request without `Upgrade`, or no request at all, switches nothing.
        let asked_upgrade = cx.pending.front().is_some_and(|p| p.upgrade);
        if status == 101 && !asked_upgrade {
            let why = if cx.pending.is_empty() {
                "no request"
            } else {
                "a request without Upgrade"
            };
            self.anomaly(
                cx,
                format!("101 Switching Protocols answers {why}: read as an interim response, the connection stays HTTP/1.x"),
            );
        }
        let head = cx.pending.front().is_some_and(|p| p.head);
        let announced = if cut || head {
            None
        } else {
            Self::announced_body(&headers, cx.limits.max_header_bytes)
        };
        if (100..200).contains(&status) && (status != 101 || !asked_upgrade) {
            if let Some(framing) = announced {
                self.peek(line, None, headers, framing, true, cx);
            } else {
                cx.out.push(Http1Event::Interim {
                    status,
                    frame: cx.frame,
                });
            }
            return None;
        }
        let pending = cx.pending.pop_front();
        let (connect, holds) = pending
            .as_ref()
            .map_or((false, false), |p| (p.connect, p.holds));
        // A 101 here answers an Upgrade request (any other was read as interim above).
        let upgrade = !cut && (status == 101 || (connect && (200..300).contains(&status)));
        let bodiless = status == 204 || status == 304;
        if let (true, false, Some(framing)) = (bodiless, upgrade, announced) {
            let request = pending.map(|p| p.line);
            self.peek(line, request, headers, framing, false, cx);
            return holds.then_some(Signal::ReleaseHold);
        }
        let framing = if upgrade || head || bodiless {
            Framing::Length(0)
        } else {
            match Self::framing(&headers, false, cx.limits.max_header_bytes) {
                Ok(framing) => framing,
                Err(reason) => {
                    // A response can always be read until the server closes.
                    self.anomaly(cx, format!("{reason}: body read until close"));
                    Framing::UntilClose
                }
            }
        };
        let mut msg = Box::new(InProgress {
            start: Start::Response {
                line,
                request: pending.map(|p| p.line),
            },
            headers,
            framing,
            body: BodyBuffer::default(),
            first_frame: self.first_frame,
            holds: false,
        });
        if cut || matches!(msg.framing, Framing::Length(0)) {
            msg.body.truncated |= cut;
            self.complete(msg, cx);
        } else {
            self.state = State::Body(msg);
        }
        if upgrade {
            self.state = State::Done;
            Some(Signal::Upgrade { status })
        } else if holds {
            Some(Signal::ReleaseHold)
        } else {
            None
        }
    }

    /// The body a response's fields announce (`Transfer-Encoding`, or a `Content-Length` above
    /// 0), if any.
    fn announced_body(headers: &[Header], max_trailer: usize) -> Option<Framing> {
        match fields::transfer_coding(headers) {
            TransferCoding::Absent => match fields::content_length(headers) {
                Ok(Some(n)) if n > 0 => Some(Framing::Length(n)),
                _ => None,
            },
            _ => Self::framing(headers, false, max_trailer).ok(),
        }
    }

    /// Waits for the bytes that tell whether a bodiless-status response has the body its fields
    /// announce (see [`Peek`]).
    fn peek(
        &mut self,
        line: StatusLine,
        request: Option<RequestLine>,
        headers: Vec<Header>,
        framing: Framing,
        interim: bool,
        cx: &mut Cx<'_>,
    ) {
        let msg = Box::new(InProgress {
            start: Start::Response { line, request },
            headers,
            framing,
            body: BodyBuffer::default(),
            first_frame: self.first_frame,
            holds: false,
        });
        self.state = State::Peek(Box::new(Peek {
            msg,
            interim,
            seen: Vec::new(),
            seen_frame: cx.frame,
            head_frame: cx.frame,
        }));
    }

    /// In [`State::Peek`]: looks at the bytes after the header section until they decide; then
    /// the bytes held are parsed in the state decided on. Returns the bytes used, which may be 0
    /// (the first byte decided and belongs to what follows).
    fn advance_peek(&mut self, rest: &[u8], cx: &mut Cx<'_>) -> (usize, Option<Signal>) {
        let State::Peek(peek) = &mut self.state else {
            return (0, None);
        };
        let mut used = 0usize;
        let has_body = loop {
            let Some(&b) = rest.get(used) else {
                return (used, None);
            };
            let at = peek.seen.len();
            if at == 0 && matches!(b, b'\r' | b'\n') {
                break false;
            }
            match NEXT_STATUS_PREFIX.get(at) {
                Some(want) if b.eq_ignore_ascii_case(want) => {
                    if at == 0 {
                        peek.seen_frame = cx.frame;
                    }
                    peek.seen.push(b);
                    used = used.saturating_add(1);
                    if peek.seen.len() >= NEXT_STATUS_PREFIX.len() {
                        break false;
                    }
                }
                _ => break true,
            }
        };
        let State::Peek(peek) = std::mem::replace(&mut self.state, State::Idle) else {
            return (used, None);
        };
        let Peek {
            msg,
            interim,
            seen,
            seen_frame,
            head_frame,
        } = *peek;
        let signal = if has_body {
            self.unexpected_body(msg, interim, cx)
        } else {
            self.no_body(msg, interim, head_frame, cx);
            None
        };
        // The held bytes, in the state decided on: at most a few bytes, so this cannot reach a
        // new header section (nor a new `Peek`), and nests only once.
        let frame = std::mem::replace(&mut cx.frame, seen_frame);
        let (_, replay_signal) = self.advance(&seen, cx);
        cx.frame = frame;
        (used, signal.or(replay_signal))
    }

    /// A [`Peek`] response has no body after all: an interim response, or a final one as its
    /// status says.
    fn no_body(&mut self, msg: Box<InProgress>, interim: bool, head_frame: u64, cx: &mut Cx<'_>) {
        if interim {
            if let Start::Response { line, .. } = &msg.start {
                cx.out.push(Http1Event::Interim {
                    status: line.status,
                    frame: head_frame,
                });
            }
            return;
        }
        let frame = std::mem::replace(&mut cx.frame, head_frame);
        self.complete(msg, cx);
        cx.frame = frame;
    }

    /// A [`Peek`] response has a body: read it as its fields say. A 1xx with a body is taken as
    /// the final response, so it answers the oldest waiting request.
    fn unexpected_body(
        &mut self,
        mut msg: Box<InProgress>,
        interim: bool,
        cx: &mut Cx<'_>,
    ) -> Option<Signal> {
        let mut holds = false;
        if let Start::Response { line, request } = &mut msg.start {
            self.anomaly(
                cx,
                format!(
                    "status {} response carries a body its fields announce: read as its body, as browsers do",
                    line.status
                ),
            );
            if interim {
                let pending = cx.pending.pop_front();
                holds = pending.as_ref().is_some_and(|p| p.holds);
                *request = pending.map(|p| p.line);
            }
        }
        self.state = State::Body(msg);
        holds.then_some(Signal::ReleaseHold)
    }

    fn advance_body(&mut self, rest: &[u8], cx: &mut Cx<'_>) -> usize {
        let State::Body(msg) = &mut self.state else {
            return 0;
        };
        let max_body = cx.limits.max_body;
        let InProgress {
            start,
            framing,
            body,
            headers,
            ..
        } = &mut **msg;
        let response = matches!(start, Start::Response { .. });
        let mut limit = None;
        // Set when a response body turns out not to be chunked: it is then read until close.
        let mut not_chunked = false;
        // A cap hit by the bytes after a broken chunk-size line: reported after the anomaly, in
        // stream order.
        let mut tail_limit = None;
        let (used, finished, broken) = match framing {
            Framing::Length(left) => {
                let take = usize::try_from(*left).unwrap_or(usize::MAX).min(rest.len());
                limit = body.push(rest.get(..take).unwrap_or_default(), max_body);
                *left = left.saturating_sub(take as u64);
                (take, *left == 0, None)
            }
            Framing::UntilClose => {
                limit = body.push(rest, max_body);
                (rest.len(), false, None)
            }
            Framing::Chunked(decoder) => {
                let mut used = 0usize;
                loop {
                    let (n, step) = decoder.advance(rest.get(used..).unwrap_or_default());
                    used = used.saturating_add(n);
                    match step {
                        ChunkStep::Data(bytes) => {
                            let reason = body.push(bytes, max_body);
                            limit = limit.or(reason);
                        }
                        ChunkStep::NeedMore => break (used, false, None),
                        ChunkStep::Done => {
                            let room = cx.limits.max_headers.saturating_sub(headers.len());
                            headers.extend(fields::parse_fields(decoder.trailer(), room).headers);
                            break (used, true, None);
                        }
                        // A broken trailer section: the body itself is whole.
                        ChunkStep::Broken(reason) if decoder.body_complete() => {
                            break (used, true, Some(reason));
                        }
                        ChunkStep::Broken(reason) => {
                            // The bytes that failed to parse as a chunk-size line are body bytes.
                            let unparsed = decoder.take_unparsed();
                            limit = limit.or(body.push(&unparsed, max_body));
                            if response {
                                // Browsers show such a body as it is: the rest of the stream is
                                // the body.
                                let tail = rest.get(used..).unwrap_or_default();
                                tail_limit = body.push(tail, max_body);
                                not_chunked = true;
                                let why = format!(
                                    "{reason}: not chunked after all, body read until close"
                                );
                                break (rest.len(), false, Some(why));
                            }
                            body.truncated = true;
                            break (used, true, Some(reason));
                        }
                    }
                }
            }
        };
        if not_chunked {
            *framing = Framing::UntilClose;
        }
        if let Some(reason) = limit {
            self.limit(cx, reason);
        }
        if finished {
            if let State::Body(msg) = std::mem::replace(&mut self.state, State::Idle) {
                self.complete(msg, cx);
            }
        }
        if let Some(reason) = broken {
            self.anomaly(cx, reason);
            if let Some(reason) = tail_limit {
                self.limit(cx, reason);
            }
            if !not_chunked {
                let at_line_start = used.checked_sub(1).and_then(|i| rest.get(i)) == Some(&b'\n');
                self.desync(at_line_start);
            }
        }
        used
    }

    fn advance_desync(&mut self, rest: &[u8], at_line_start: bool, cx: &mut Cx<'_>) -> usize {
        let (take, line_done) = through_line_end(rest);
        if !at_line_start {
            if line_done {
                self.desync(true);
            }
            return take;
        }
        if self.buf.is_empty() {
            self.first_frame = cx.frame;
        }
        if self.buf.len().saturating_add(take) > MAX_RESYNC_LINE {
            self.desync(line_done);
            return take;
        }
        self.buf
            .extend_from_slice(rest.get(..take).unwrap_or_default());
        if !line_done {
            if self.start_verdict() == Some(false) {
                self.desync(false);
            }
            return take;
        }
        if self.is_start_line(Strictness::Strict) {
            self.start_line_len = Some(self.buf.len());
            self.line_start = self.buf.len();
            self.state = State::Head;
        } else {
            self.desync(true);
        }
        take
    }

    fn advance_hold(&mut self, rest: &[u8], cx: &mut Cx<'_>) -> usize {
        if self.hold.is_empty() {
            self.hold_frame = Some(cx.frame);
        }
        let room = MAX_UPGRADE_HOLD.saturating_sub(self.hold.len());
        let keep = rest.len().min(room);
        self.hold
            .extend_from_slice(rest.get(..keep).unwrap_or_default());
        if keep < rest.len() && !self.hold_limit_reported {
            self.hold_limit_reported = true;
            self.limit(
                cx,
                format!(
                    "more than {MAX_UPGRADE_HOLD} bytes sent after a CONNECT/Upgrade request before the \
                     server's answer: the rest was dropped"
                ),
            );
        }
        rest.len()
    }

    /// Emits a finished message and moves to the state that follows it.
    fn complete(&mut self, msg: Box<InProgress>, cx: &mut Cx<'_>) {
        let InProgress {
            start,
            headers,
            body,
            first_frame,
            holds,
            ..
        } = *msg;
        let (body, content_problem) = self.content_decode(body, &headers, cx);
        let last_frame = cx.frame;
        let event = match start {
            Start::Request(line) => Http1Event::Request(HttpRequest {
                line,
                headers,
                body,
                content_problem,
                first_frame,
                last_frame,
            }),
            Start::Response { line, request } => Http1Event::Response(HttpResponse {
                version: line.version,
                status: line.status,
                reason: line.reason,
                headers,
                body,
                request,
                content_problem,
                first_frame,
                last_frame,
            }),
        };
        cx.out.push(event);
        self.state = if holds { State::Hold } else { State::Idle };
    }

    /// Builds the message body, undoing its Content-Encoding when there is one.
    fn content_decode(
        &self,
        body: BodyBuffer,
        headers: &[Header],
        cx: &mut Cx<'_>,
    ) -> (Body, Option<String>) {
        let mut out = Body::plain(body.data);
        out.truncated = body.truncated;
        let Some(coding) = fields::content_encoding(headers).filter(|_| !out.raw.is_empty()) else {
            return (out, None);
        };
        let decoded = decode_content(&coding, &out.raw, &cx.limits.decompress);
        if decoded.limited {
            let why = decoded.problem.as_deref().unwrap_or("cap reached");
            self.limit(cx, format!("content decoding stopped: {why}"));
        }
        if !decoded.chain.is_empty() {
            out.truncated |= decoded.truncated;
            out.decoded = Some(decoded.data);
            out.encodings = decoded.chain;
        }
        (out, decoded.problem)
    }

    /// `len` bytes of this direction were lost.
    fn gap(&mut self, len: u64, cx: &mut Cx<'_>) {
        match &mut self.state {
            State::Idle => self.desync(true),
            State::Head => {
                if !self.buf.is_empty() {
                    let reason =
                        format!("{len} bytes lost inside a header section: message dropped");
                    self.anomaly(cx, reason);
                }
                self.desync(true);
            }
            State::Body(msg) => {
                msg.body.truncated = true;
                let within = match &mut msg.framing {
                    Framing::UntilClose => return,
                    Framing::Length(left) if len < *left => {
                        *left = left.saturating_sub(len);
                        return;
                    }
                    Framing::Length(left) => len == *left,
                    Framing::Chunked(decoder) => match decoder.data_left() {
                        Some(n) if len <= n => {
                            decoder.skip_data(len);
                            return;
                        }
                        _ => false,
                    },
                };
                if let State::Body(msg) = std::mem::replace(&mut self.state, State::Idle) {
                    self.complete(msg, cx);
                }
                if !within {
                    self.desync(true);
                }
            }
            State::Peek(_) => {
                // The server's next bytes are lost: take the status at its word.
                if let State::Peek(peek) = std::mem::replace(&mut self.state, State::Idle) {
                    self.no_body(peek.msg, peek.interim, peek.head_frame, cx);
                }
                self.desync(true);
            }
            State::Desync { .. } => self.desync(true),
            State::Hold | State::Done => {}
        }
    }

    /// This direction ended: finish what can be finished.
    fn end(&mut self, cx: &mut Cx<'_>) -> Option<Signal> {
        self.ended = true;
        self.end_peek(cx);
        let mut signal = None;
        let section_start = self
            .start_line_len
            .filter(|_| matches!(self.state, State::Head));
        let cr_line = section_start.and_then(|start| {
            let section = self.buf.get(start..).unwrap_or_default();
            fields::cr_line_end(section).map(|end| start.saturating_add(end))
        });
        if let Some(section_end) = cr_line {
            // The section never ended the way browsers end one; it did the way tshark and
            // libhtp read it (see `fields::cr_line_end`): the rest is the body.
            let rest = self.buf.split_off(section_end.min(self.buf.len()));
            self.anomaly(
                cx,
                format!(
                    "stream ended inside a header section: read as ending at its line of CRs, \
                     the {} bytes after it as the body",
                    rest.len()
                ),
            );
            signal = self.finish_head(cx, false);
            // Nested once: `end` is not reached from `advance`.
            let (_, replay_signal) = self.advance(&rest, cx);
            signal = signal.or(replay_signal);
            self.end_peek(cx);
        }
        match &mut self.state {
            State::Head if self.start_line_len.is_some() => {
                return signal.or(self.finish_head(cx, true))
            }
            State::Head => {
                if !self.buf.is_empty() {
                    let reason =
                        format!("stream ended inside a start line: {}", preview(&self.buf));
                    self.anomaly(cx, reason);
                }
                self.desync(true);
            }
            State::Body(msg) => {
                let mut limit = None;
                let complete = match &mut msg.framing {
                    Framing::UntilClose => true,
                    Framing::Chunked(decoder) if decoder.body_complete() => {
                        let room = cx.limits.max_headers.saturating_sub(msg.headers.len());
                        msg.headers
                            .extend(fields::parse_fields(decoder.trailer(), room).headers);
                        true
                    }
                    Framing::Chunked(decoder) => {
                        // A size line never finished (perhaps not chunked at all): keep its bytes.
                        let unparsed = decoder.take_unparsed();
                        limit = msg.body.push(&unparsed, cx.limits.max_body);
                        false
                    }
                    Framing::Length(_) => false,
                };
                msg.body.truncated |= !complete;
                if let Some(reason) = limit {
                    self.limit(cx, reason);
                }
                if let State::Body(msg) = std::mem::replace(&mut self.state, State::Idle) {
                    self.complete(msg, cx);
                }
            }
            // Left by `end_peek` above.
            State::Peek(_) => {}
            State::Desync { .. } => self.desync(true),
            State::Idle | State::Hold | State::Done => {}
        }
        signal
    }

    /// At the end of the stream in [`State::Peek`]: nothing but the start of a status line
    /// followed, so the status was right and there is no body; the bytes held are the start of a
    /// message cut short.
    fn end_peek(&mut self, cx: &mut Cx<'_>) {
        if !matches!(self.state, State::Peek(_)) {
            return;
        }
        if let State::Peek(peek) = std::mem::replace(&mut self.state, State::Idle) {
            self.no_body(peek.msg, peek.interim, peek.head_frame, cx);
            let frame = std::mem::replace(&mut cx.frame, peek.seen_frame);
            self.advance(&peek.seen, cx);
            cx.frame = frame;
        }
    }
}

/// A sans-I/O HTTP/1.x parser for one TCP connection.
///
/// Feed each direction's bytes in order; events come out in the order their last byte arrived.
/// Splitting the same bytes differently across `feed` calls gives the same events (only the
/// `server_rest` of [`Http1Event::Upgraded`] depends on where the upgrading call ends).
#[derive(Debug)]
pub struct Http1Connection {
    limits: Http1Limits,
    client: HalfStream,
    server: HalfStream,
    pending: VecDeque<PendingRequest>,
    upgraded: bool,
}

impl Http1Connection {
    /// A parser for a new connection.
    pub fn new(limits: Http1Limits) -> Self {
        Self {
            limits,
            client: HalfStream::new(Direction::Request),
            server: HalfStream::new(Direction::Response),
            pending: VecDeque::new(),
            upgraded: false,
        }
    }

    /// True after [`Http1Event::Upgraded`]: later bytes are ignored and belong to another protocol.
    pub fn is_upgraded(&self) -> bool {
        self.upgraded
    }

    /// Bytes of one direction, in order (`Direction::Request` = client → server). `frame` is the
    /// 1-based frame number that delivered them.
    pub fn feed(&mut self, dir: Direction, data: &[u8], frame: u64, out: &mut Vec<Http1Event>) {
        let mut used = 0usize;
        while !self.upgraded {
            let Some(rest) = data.get(used..).filter(|r| !r.is_empty()) else {
                break;
            };
            let mut cx = Cx {
                limits: &self.limits,
                pending: &mut self.pending,
                out: &mut *out,
                frame,
            };
            let half = match dir {
                Direction::Request => &mut self.client,
                Direction::Response => &mut self.server,
            };
            let (n, signal) = half.advance(rest, &mut cx);
            used = used.saturating_add(n);
            match signal {
                None => break,
                Some(Signal::Upgrade { status }) => {
                    self.upgrade(status, data.get(used..).unwrap_or_default(), frame, out);
                }
                Some(Signal::ReleaseHold) => self.release_hold(out),
            }
        }
    }

    /// `len` bytes of this direction were lost: a body in progress is marked truncated and, when
    /// its length is known, the lost bytes are skipped; otherwise the direction resynchronises on
    /// the next message start.
    pub fn gap(&mut self, dir: Direction, len: u64, frame: u64, out: &mut Vec<Http1Event>) {
        if self.upgraded || len == 0 {
            return;
        }
        let mut cx = Cx {
            limits: &self.limits,
            pending: &mut self.pending,
            out,
            frame,
        };
        match dir {
            Direction::Request => self.client.gap(len, &mut cx),
            Direction::Response => self.server.gap(len, &mut cx),
        }
    }

    /// This direction ended (FIN, reset or end of capture): a read-until-close response body is
    /// complete; a message cut short is emitted with its body marked truncated, so nothing is lost.
    pub fn end(&mut self, dir: Direction, frame: u64, out: &mut Vec<Http1Event>) {
        if self.upgraded {
            return;
        }
        let mut cx = Cx {
            limits: &self.limits,
            pending: &mut self.pending,
            out: &mut *out,
            frame,
        };
        let signal = match dir {
            Direction::Request => self.client.end(&mut cx),
            Direction::Response => self.server.end(&mut cx),
        };
        let server_gone = dir == Direction::Response;
        if matches!(signal, Some(Signal::ReleaseHold))
            || (server_gone && matches!(self.client.state, State::Hold))
        {
            // No upgrade answer will come: what the client sent after its request is HTTP after all.
            self.release_hold(out);
        }
    }

    /// The client half stops holding: its held bytes are parsed as HTTP.
    fn release_hold(&mut self, out: &mut Vec<Http1Event>) {
        if !matches!(self.client.state, State::Hold) {
            return;
        }
        let held = std::mem::take(&mut self.client.hold);
        let frame = self.client.hold_frame.take().unwrap_or(0);
        self.client.hold_limit_reported = false;
        self.client.state = State::Idle;
        // The client half never signals, so this does not recurse further.
        self.feed(Direction::Request, &held, frame, out);
        if self.client.ended && !matches!(self.client.state, State::Hold) {
            self.end(Direction::Request, frame, out);
        }
    }

    /// The server accepted an upgrade: report it with the bytes that belong to the new protocol.
    fn upgrade(&mut self, status: u16, server_rest: &[u8], frame: u64, out: &mut Vec<Http1Event>) {
        let client_rest = std::mem::take(&mut self.client.hold);
        if matches!(self.client.state, State::Head | State::Body(_)) {
            // A request still arriving when the server switched protocols: keep what there is.
            let mut cx = Cx {
                limits: &self.limits,
                pending: &mut self.pending,
                out: &mut *out,
                frame,
            };
            self.client.end(&mut cx);
        }
        out.push(Http1Event::Upgraded {
            status,
            client_rest,
            server_rest: server_rest.to_vec(),
            frame,
        });
        self.client.state = State::Done;
        self.server.state = State::Done;
        self.pending.clear();
        self.upgraded = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::start_line::work;

    /// Feeds `dir`'s `bytes` one at a time; returns the events and the start-line bytes examined.
    fn feed_bytewise(dir: Direction, bytes: &[u8]) -> (Vec<Http1Event>, usize) {
        let before = work::examined();
        let mut conn = Http1Connection::new(Http1Limits::default());
        let mut out = Vec::new();
        for b in bytes.chunks(1) {
            conn.feed(dir, b, 1, &mut out);
        }
        conn.end(dir, 2, &mut out);
        (out, work::examined() - before)
    }

    fn line_of(prefix: &[u8], len: usize, suffix: &[u8]) -> Vec<u8> {
        let mut line = prefix.to_vec();
        line.resize(len, b'a');
        line.extend_from_slice(suffix);
        line
    }

    /// Every start line of the longest accepted size, arriving one byte per `feed` call, is
    /// examined a bounded number of times per byte (it used to be re-checked whole on each call:
    /// about 8000 times per byte here).
    #[test]
    fn start_lines_fed_bytewise_are_examined_a_bounded_number_of_times() {
        let max = crate::MAX_REQUEST_LINE;
        let request = line_of(b"GET /", max - 9, b" HTTP/1.1\r\nHost: h\r\n\r\n");
        let unknown = line_of(b"X_POST /", max - 9, b" HTTP/1.1\r\n\r\n");
        let too_long = line_of(b"GET /", max + 100, b" HTTP/1.1\r\n\r\n");
        // Resynchronising (strict): garbage, then a candidate line of each kind.
        let resync_known = [&b"\x00junk\r\n"[..], &request].concat();
        let resync_unknown = [&b"\x00junk\r\n"[..], &unknown].concat();
        let resync_too_long = [
            &b"\x00junk\r\n"[..],
            &too_long,
            b"GET /next HTTP/1.1\r\n\r\n",
        ]
        .concat();
        let cases: [(&str, &[u8], &[&str]); 6] = [
            ("request", &request, &["req"]),
            ("unknown method", &unknown, &["req"]),
            ("too long", &too_long, &["anomaly"]),
            ("resync", &resync_known, &["anomaly", "req"]),
            ("resync unknown", &resync_unknown, &["anomaly", "req"]),
            ("resync too long", &resync_too_long, &["anomaly", "req"]),
        ];
        for (name, bytes, want) in cases {
            let (events, examined) = feed_bytewise(Direction::Request, bytes);
            let got: Vec<_> = events
                .iter()
                .map(|e| match e {
                    Http1Event::Request(_) => "req",
                    Http1Event::Anomaly { .. } => "anomaly",
                    _ => "other",
                })
                .collect();
            assert_eq!(got, want, "{name}: {events:?}");
            // Each byte once by the check, the line at most twice more by the parses at its end,
            // and once more to quote it in an anomaly.
            assert!(
                examined <= 4 * bytes.len(),
                "{name}: {examined} bytes examined for {}",
                bytes.len()
            );
        }

        // A status line with a 200 KiB reason phrase.
        let response = line_of(
            b"HTTP/1.1 200 ",
            200 << 10,
            b"\r\nContent-Length: 0\r\n\r\n",
        );
        let (events, examined) = feed_bytewise(Direction::Response, &response);
        assert!(
            matches!(&events[..], [Http1Event::Response(r)] if r.status == 200),
            "{events:?}"
        );
        assert!(
            examined <= 2 * response.len(),
            "{examined} for {}",
            response.len()
        );
    }
}
