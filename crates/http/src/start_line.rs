//! Request lines and status lines (RFC 9112 §3 and §4), and the quick HTTP/1.x test used for
//! protocol detection.

use crate::RequestLine;

/// Longest method token accepted (`CCM_POST`, `M-SEARCH`, `VERSION-CONTROL` are all far shorter).
pub const MAX_METHOD_LEN: usize = 32;

/// Longest request line accepted, after the method (detection, parsing and resynchronisation).
/// Servers refuse longer ones (nginx and Apache stop at 8 KiB); the cap also bounds the memory a
/// candidate line holds.
pub const MAX_REQUEST_LINE: usize = 16 * 1024;

/// Methods that are taken as HTTP from `METHOD SP target` alone; any other token method needs a
/// whole request line ending in `HTTP/1.x`.
const KNOWN_METHODS: &[&[u8]] = &[
    // RFC 9110 and PATCH (RFC 5789).
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    // WebDAV, CalDAV and versioning (RFC 4918, 4791, 3253, 3744, 5323).
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"REPORT",
    b"SEARCH",
    b"MKCALENDAR",
    b"ACL",
    b"CHECKIN",
    b"CHECKOUT",
    b"MERGE",
    b"MKACTIVITY",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
    // Caches, UPnP/SSDP and vendor methods seen in the wild (Wireshark knows them too).
    b"PURGE",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"M-SEARCH",
    b"CCM_POST",
    b"RPC_IN_DATA",
    b"RPC_OUT_DATA",
    b"SSTP_DUPLEX_POST",
];

/// A `tchar` of RFC 9110 §5.6.2 (token character).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A byte that never appears in a request or status line.
fn is_forbidden_in_line(b: u8) -> bool {
    (b < 0x20 && b != b'\t' && b != b'\r') || b == 0x7f
}

/// `HTTP/1.<digit>` (the name case-insensitively) → the version (`"1.1"`).
fn http1_version(token: &[u8]) -> Option<String> {
    match token {
        [h, t1, t2, p, b'/', b'1', b'.', minor]
            if h.eq_ignore_ascii_case(&b'H')
                && t1.eq_ignore_ascii_case(&b'T')
                && t2.eq_ignore_ascii_case(&b'T')
                && p.eq_ignore_ascii_case(&b'P')
                && minor.is_ascii_digit() =>
        {
            Some(format!("1.{}", char::from(*minor)))
        }
        _ => None,
    }
}

/// Strips the trailing `\r` and spaces/tabs (a start line must begin with its first token).
fn trim_line(line: &[u8]) -> &[u8] {
    line.trim_ascii_end()
}

/// How much of a request line must be right for it to be taken as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// Detection and resynchronisation: the line must end in `HTTP/1.x`.
    Strict,
    /// At a message boundary, where a request is expected: a registered method may also come with
    /// no target (`OPTIONS`) or with a missing or broken version (`GET /HTTP/1.1`, `GET / HTTP/1.`),
    /// as tshark and Zeek accept.
    Lenient,
}

/// Whether `method` is a registered method (ASCII case-insensitively).
fn is_known_method(method: &[u8]) -> bool {
    KNOWN_METHODS.iter().any(|m| m.eq_ignore_ascii_case(method))
}

/// Parses a whole request line (without its `\n`): `method SP [target SP] HTTP/1.x`.
///
/// Lenient where real clients are: several spaces, spaces inside the target, and a missing target
/// (`GET HTTP/1.1`, read as an empty target like Zeek does) are accepted. With
/// [`Strictness::Lenient`], a registered method with no version gets version `"0.9"` (the whole
/// rest is the target, as Zeek reads it) and one with a broken `HTTP/…` version gets `"1.1"`.
pub(crate) fn parse_request_line(line: &[u8], strictness: Strictness) -> Option<RequestLine> {
    work::add(line.len());
    let line = trim_line(line);
    if line.iter().any(|&b| is_forbidden_in_line(b) || b == b'\r') {
        return None;
    }
    let method_len = line
        .iter()
        .position(|&b| !is_tchar(b))
        .unwrap_or(line.len());
    let (method, rest) = line.split_at(method_len);
    let lenient = strictness == Strictness::Lenient && is_known_method(method);
    let after_ok = match rest.first() {
        Some(b' ') => true,
        None => lenient,
        Some(_) => false,
    };
    if method_len == 0 || method_len > MAX_METHOD_LEN || !after_ok {
        return None;
    }
    let rest = rest.trim_ascii();
    let version_start = rest
        .iter()
        .rposition(|&b| b == b' ' || b == b'\t')
        .map_or(0, |i| i + 1);
    let (mut target, version_token) = rest.split_at(version_start);
    let version = match http1_version(version_token) {
        Some(v) => v,
        None if !lenient => return None,
        None if has_http_prefix(version_token) => "1.1".to_string(),
        None => {
            target = rest;
            "0.9".to_string()
        }
    };
    Some(RequestLine {
        method: String::from_utf8_lossy(method).into_owned(),
        target: String::from_utf8_lossy(target.trim_ascii()).into_owned(),
        version,
    })
}

/// Whether `token` starts with `HTTP/` (the name case-insensitively).
fn has_http_prefix(token: &[u8]) -> bool {
    token
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"HTTP/"))
}

/// A parsed status line.
#[derive(Debug)]
pub(crate) struct StatusLine {
    pub(crate) version: String,
    pub(crate) status: u16,
    pub(crate) reason: String,
    /// The line is not `HTTP/1.x SP 3DIGIT [SP reason]`: it was read leniently
    /// ([`parse_status_line`] with [`Strictness::Lenient`]).
    pub(crate) malformed: bool,
}

/// The status code browsers assume when a status line has none (`HTTP/1.1`, `HTTP/1.1foobar`).
pub(crate) const ASSUMED_STATUS: u16 = 200;

/// Parses a whole status line (without its `\n`).
///
/// [`Strictness::Strict`] (resynchronisation) takes only `HTTP/1.x SP 3DIGIT [SP reason]`.
/// [`Strictness::Lenient`] (at a message boundary, where a response is expected) takes any line
/// starting with `HTTP/`, read the way browsers and tshark do: the line ends at its first `\r`
/// (what follows a bare CR is the first header field line); the version is whatever follows
/// `HTTP/` up to a separator (space, tab, VT, FF or NUL): `2.0`, `1.01`, `0.9`…; the status is the
/// digits after the separators, however many (`2`, `2000`, `0200` → 200), and
/// [`ASSUMED_STATUS`] when there are none (Chrome and Firefox assume 200 too). Such a line gets
/// [`StatusLine::malformed`].
pub(crate) fn parse_status_line(line: &[u8], strictness: Strictness) -> Option<StatusLine> {
    match (parse_exact_status_line(line), strictness) {
        (Some(status), _) => Some(status),
        (None, Strictness::Strict) => None,
        (None, Strictness::Lenient) => parse_malformed_status_line(line),
    }
}

/// `HTTP/1.x SP 3DIGIT [SP reason]` (with the tolerance for extra spaces real servers need).
fn parse_exact_status_line(line: &[u8]) -> Option<StatusLine> {
    work::add(line.len());
    let line = trim_line(line);
    if line.iter().any(|&b| is_forbidden_in_line(b) || b == b'\r') {
        return None;
    }
    let (version, rest) = line.split_at(line.iter().position(|&b| b == b' ').unwrap_or(line.len()));
    let version = http1_version(version)?;
    let rest = rest.trim_ascii_start();
    let (code, reason) = match rest {
        [a, b, c, tail @ ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
            if !matches!(tail.first(), None | Some(b' ' | b'\t')) {
                return None;
            }
            (
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
                tail,
            )
        }
        _ => return None,
    };
    Some(StatusLine {
        version,
        status: code,
        reason: String::from_utf8_lossy(reason.trim_ascii()).into_owned(),
        malformed: false,
    })
}

/// A byte that separates the parts of a malformed status line.
fn is_status_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c | 0)
}

/// Any line starting with `HTTP/`, read as [`parse_status_line`] describes for
/// [`Strictness::Lenient`].
fn parse_malformed_status_line(line: &[u8]) -> Option<StatusLine> {
    work::add(line.len());
    let line = line
        .get(..memchr::memchr(b'\r', line).unwrap_or(line.len()))
        .unwrap_or_default();
    if !has_http_prefix(line) {
        return None;
    }
    let rest = line.get(5..).unwrap_or_default();
    let version_len = rest
        .iter()
        .position(|&b| is_status_separator(b))
        .unwrap_or(rest.len());
    let (version, rest) = rest.split_at(version_len);
    let start = rest
        .iter()
        .position(|&b| !is_status_separator(b))
        .unwrap_or(rest.len());
    let rest = rest.get(start..).unwrap_or_default();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let status = match rest.get(..digits) {
        Some([]) | None => ASSUMED_STATUS,
        Some(code) => code.iter().fold(0u16, |n, &d| {
            n.saturating_mul(10)
                .saturating_add(u16::from(d.saturating_sub(b'0')))
        }),
    };
    let reason = rest.get(digits..).unwrap_or_default();
    let reason_start = reason
        .iter()
        .position(|&b| !is_status_separator(b))
        .unwrap_or(reason.len());
    Some(StatusLine {
        version: String::from_utf8_lossy(version).into_owned(),
        status,
        reason: String::from_utf8_lossy(
            reason.get(reason_start..).unwrap_or_default().trim_ascii(),
        )
        .into_owned(),
        malformed: true,
    })
}

/// Could `bytes` (the start of a line, possibly with its `\n` and more) begin a status line?
/// `None` = too short to say. [`Strictness::Strict`] wants `HTTP/1.`, [`Strictness::Lenient`] only
/// `HTTP/` (see [`parse_status_line`]).
pub(crate) fn status_line_verdict(bytes: &[u8], strictness: Strictness) -> Option<bool> {
    StartLineCheck::status(strictness).check(bytes)
}

/// Could `bytes` (the start of a line, possibly with its `\n` and more) begin a request line?
/// `None` = too short to say.
///
/// A registered method followed by a space and a visible character is enough; any other token
/// method needs the whole line, ending in `HTTP/1.x` (else `SSH-2.0-OpenSSH_9.6 Ubuntu` would pass).
/// With [`Strictness::Lenient`], a registered method may also end the line. Lines longer than
/// [`MAX_REQUEST_LINE`] are rejected. Once `Some(false)`, the verdict is `Some(false)` for every
/// longer prefix too, and a line whose prefix got `Some(false)` never parses.
pub(crate) fn request_line_verdict(bytes: &[u8], strictness: Strictness) -> Option<bool> {
    StartLineCheck::request(strictness).check(bytes)
}

/// Bytes of start lines examined on this thread (verdicts and parses), so tests can check that a
/// line arriving a byte at a time is not scanned again on every call.
#[cfg(test)]
pub(crate) mod work {
    use std::cell::Cell;

    thread_local! {
        static EXAMINED: Cell<usize> = const { Cell::new(0) };
    }

    /// Counts `n` more bytes examined.
    pub(crate) fn add(n: usize) {
        EXAMINED.with(|c| c.set(c.get().saturating_add(n)));
    }

    /// Bytes examined on this thread so far.
    pub(crate) fn examined() -> usize {
        EXAMINED.with(Cell::get)
    }
}

/// Counts work for tests; nothing outside them.
#[cfg(not(test))]
mod work {
    #[inline(always)]
    pub(crate) fn add(_: usize) {}
}

/// What a status line must start with (ASCII case-insensitively).
fn status_prefix(strictness: Strictness) -> &'static [u8] {
    match strictness {
        Strictness::Strict => b"HTTP/1.",
        Strictness::Lenient => b"HTTP/",
    }
}

/// Which start line a [`StartLineCheck`] looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineKind {
    Request(Strictness),
    Status(Strictness),
}

/// Decides, as a line arrives, whether it can start a message: the incremental form of
/// [`request_line_verdict`] / [`status_line_verdict`] (which are this check run on the bytes
/// at once).
///
/// [`check`](Self::check) is given the whole line so far each time, and looks only at the bytes it
/// has not seen: a line of `n` bytes costs O(`n`) however it is split across calls (plus one
/// [`parse_request_line`] at the line end, for a method that is not registered). The verdict stops
/// changing at the first `\n` or the first `Some(false)`.
#[derive(Clone, Debug)]
pub(crate) struct StartLineCheck {
    kind: LineKind,
    /// Bytes of the line examined so far.
    seen: usize,
    /// Request line: length of the method, once the byte after it has been accepted.
    method_len: Option<usize>,
    /// Request line: the method is registered.
    known: bool,
    /// Request line, strict, registered method: a byte other than a space followed the method.
    visible: bool,
    /// The verdict for the `seen` bytes.
    verdict: Option<bool>,
    /// The verdict is final (a line end, a rejection, or enough of a status line).
    settled: bool,
}

impl StartLineCheck {
    /// A check for a request line.
    pub(crate) fn request(strictness: Strictness) -> Self {
        Self::new(LineKind::Request(strictness))
    }

    /// A check for a status line.
    pub(crate) fn status(strictness: Strictness) -> Self {
        Self::new(LineKind::Status(strictness))
    }

    fn new(kind: LineKind) -> Self {
        Self {
            kind,
            seen: 0,
            method_len: None,
            known: false,
            visible: false,
            verdict: None,
            settled: false,
        }
    }

    /// Sets the final verdict, reached at the byte at index `seen`.
    fn settle(&mut self, verdict: bool) -> Option<bool> {
        self.verdict = Some(verdict);
        self.settled = true;
        self.verdict
    }

    /// The verdict for `line`, the line so far: it must begin with the bytes given to the
    /// previous calls (only the bytes after them are examined).
    pub(crate) fn check(&mut self, line: &[u8]) -> Option<bool> {
        let new = line.get(self.seen..).unwrap_or_default();
        if self.settled || new.is_empty() {
            return self.verdict;
        }
        match self.kind {
            LineKind::Status(strictness) => self.check_status(new, strictness),
            LineKind::Request(strictness) => self.check_request(line, strictness),
        }
    }

    /// The length of the shortest rejected prefix of the line, once it is rejected.
    pub(crate) fn rejected_len(&self) -> Option<usize> {
        (self.verdict == Some(false)).then(|| self.seen.saturating_add(1))
    }

    fn check_status(&mut self, new: &[u8], strictness: Strictness) -> Option<bool> {
        let prefix = status_prefix(strictness);
        for &b in new {
            work::add(1);
            let Some(want) = prefix.get(self.seen) else {
                break;
            };
            if !b.eq_ignore_ascii_case(want) {
                return self.settle(false);
            }
            self.seen = self.seen.saturating_add(1);
            if self.seen == prefix.len() {
                return self.settle(true);
            }
        }
        None
    }

    fn check_request(&mut self, line: &[u8], strictness: Strictness) -> Option<bool> {
        while let Some(&b) = line.get(self.seen) {
            work::add(1);
            let method_len = match self.method_len {
                Some(n) => n,
                None if is_tchar(b) => {
                    // One token character more than a method may have.
                    if self.seen >= MAX_METHOD_LEN {
                        return self.settle(false);
                    }
                    self.seen = self.seen.saturating_add(1);
                    continue;
                }
                None => {
                    // The byte after the method.
                    let method = line.get(..self.seen).unwrap_or_default();
                    self.known = is_known_method(method);
                    let lenient = strictness == Strictness::Lenient && self.known;
                    let after_ok = b == b' ' || (lenient && matches!(b, b'\r' | b'\n'));
                    if method.is_empty() || !after_ok {
                        return self.settle(false);
                    }
                    self.method_len = Some(self.seen);
                    self.seen
                }
            };
            // `b` is in the rest of the line, after the method.
            let lenient = strictness == Strictness::Lenient && self.known;
            if b == b'\n' {
                return if lenient {
                    self.settle(true)
                } else if self.known {
                    self.settle(self.visible)
                } else {
                    let whole = line.get(..self.seen).unwrap_or_default();
                    self.settle(parse_request_line(whole, Strictness::Strict).is_some())
                };
            }
            let rest_len = self.seen.saturating_sub(method_len).saturating_add(1);
            if is_forbidden_in_line(b) || rest_len > MAX_REQUEST_LINE {
                return self.settle(false);
            }
            if !lenient && self.known && !self.visible && b != b' ' {
                if b == b'\r' {
                    return self.settle(false);
                }
                self.visible = true;
            }
            self.seen = self.seen.saturating_add(1);
        }
        let lenient = strictness == Strictness::Lenient && self.known;
        self.verdict = match self.method_len {
            None => None,
            Some(_) if lenient || (self.known && self.visible) => Some(true),
            Some(_) => None,
        };
        self.verdict
    }
}

/// Quick test used for protocol detection: does this prefix of a stream start like an HTTP/1.x
/// request (a registered method + space + target, or any token method on a whole line ending in
/// `HTTP/1.x`) or response (`HTTP/1.`)?
///
/// Returns `Some(true)`, `Some(false)`, or `None` when more bytes are needed to tell. HTTP/2's
/// connection preface (`PRI * HTTP/2.0`) is not HTTP/1.x.
pub fn detect_http1(prefix: &[u8]) -> Option<bool> {
    if prefix.is_empty() {
        return None;
    }
    match (
        status_line_verdict(prefix, Strictness::Strict),
        request_line_verdict(prefix, Strictness::Strict),
    ) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(line: &[u8]) -> Option<RequestLine> {
        parse_request_line(line, Strictness::Strict)
    }

    #[test]
    fn request_lines() {
        let l = strict(b"GET /index.html HTTP/1.1\r").unwrap();
        assert_eq!(
            (l.method.as_str(), l.target.as_str(), l.version.as_str()),
            ("GET", "/index.html", "1.1")
        );
        let l = strict(b"GET http://example.com/a?b=c HTTP/1.0").unwrap();
        assert_eq!(
            (l.target.as_str(), l.version.as_str()),
            ("http://example.com/a?b=c", "1.0")
        );
        let l = strict(b"CCM_POST /x HTTP/1.1").unwrap();
        assert_eq!(l.method, "CCM_POST");
        let l = strict(b"GET HTTP/1.1").unwrap();
        assert_eq!(
            (l.method.as_str(), l.target.as_str(), l.version.as_str()),
            ("GET", "", "1.1")
        );
        let l = strict(b"GET /a b  HTTP/1.1  ").unwrap();
        assert_eq!(l.target, "/a b");
        let l = strict(b"CONNECT example.com:443 http/1.1").unwrap();
        assert_eq!(l.target, "example.com:443");
        for bad in [
            &b""[..],
            b"GET",
            b"GET /",
            b"GET / HTTP/2.0",
            b"PRI * HTTP/2.0",
            b"GET / HTTP/1.1 extra",
            b"G(T / HTTP/1.1",
            b" GET / HTTP/1.1",
            b"GET /\0 HTTP/1.1",
            b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA / HTTP/1.1",
            b"\x16\x03\x01\x02\x00 HTTP/1.1",
        ] {
            assert!(strict(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn lenient_request_lines_at_message_start() {
        let lenient = |line: &[u8]| {
            parse_request_line(line, Strictness::Lenient).map(|l| (l.method, l.target, l.version))
        };
        let t = |m: &str, t: &str, v: &str| Some((m.to_string(), t.to_string(), v.to_string()));
        assert_eq!(lenient(b"OPTIONS\r"), t("OPTIONS", "", "0.9"));
        assert_eq!(lenient(b"GET /HTTP/1.1"), t("GET", "/HTTP/1.1", "0.9"));
        assert_eq!(lenient(b"GET / HTTP/1."), t("GET", "/", "1.1"));
        assert_eq!(lenient(b"get /a b"), t("get", "/a b", "0.9"));
        assert_eq!(lenient(b"CCM_POST / HTTP/1."), t("CCM_POST", "/", "1.1"));
        assert_eq!(lenient(b"X_POST / HTTP/1.1"), t("X_POST", "/", "1.1"));
        for bad in [
            &b"X_POST /HTTP/1.1"[..],
            b"X_POST",
            b"GET/",
            b"OPTIONSHTTP/1.1",
            b"\xc3\xa9 / HTTP/1.1",
        ] {
            assert_eq!(lenient(bad), None, "{:?}", String::from_utf8_lossy(bad));
            assert_ne!(
                request_line_verdict(bad, Strictness::Lenient),
                Some(true),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            request_line_verdict(b"OPTIONS\r\n", Strictness::Lenient),
            Some(true)
        );
        assert_eq!(
            request_line_verdict(b"OPTIONS\r\n", Strictness::Strict),
            Some(false)
        );
        assert_eq!(
            request_line_verdict(b"GET/", Strictness::Lenient),
            Some(false)
        );
    }

    #[test]
    fn status_lines() {
        let strict = |line: &[u8]| parse_status_line(line, Strictness::Strict);
        let s = strict(b"HTTP/1.1 200 OK\r").unwrap();
        assert_eq!(
            (s.version.as_str(), s.status, s.reason.as_str(), s.malformed),
            ("1.1", 200, "OK", false)
        );
        let s = strict(b"HTTP/1.0 404").unwrap();
        assert_eq!((s.status, s.reason.as_str()), (404, ""));
        let s = strict(b"HTTP/1.1 500 Internal Server Error").unwrap();
        assert_eq!(s.reason, "Internal Server Error");
        for bad in [
            &b"HTTP/1.1"[..],
            b"HTTP/1.1 20",
            b"HTTP/1.1 2000 OK",
            b"HTTP/2 200",
            b"ICY 200 OK",
            b"HTTP/1.1 abc",
            b"HTTP/1.1\r200 OK",
        ] {
            assert!(strict(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    /// Status lines from the HTTP-evader set, read the way browsers and tshark read them.
    #[test]
    fn malformed_status_lines_at_message_start() {
        let lenient = |line: &[u8]| {
            parse_status_line(line, Strictness::Lenient)
                .map(|s| (s.version, s.status, s.reason, s.malformed))
        };
        let t = |v: &str, s: u16, r: &str| Some((v.to_string(), s, r.to_string(), true));
        assert_eq!(lenient(b"HTTP/2.0 200 ok"), t("2.0", 200, "ok"));
        assert_eq!(lenient(b"HTTP/1.01 200 ok\r"), t("1.01", 200, "ok"));
        assert_eq!(lenient(b"HTTP/0.9 200 ok"), t("0.9", 200, "ok"));
        assert_eq!(lenient(b"HTTP/1.1"), t("1.1", ASSUMED_STATUS, ""));
        assert_eq!(
            lenient(b"HTTP/1.1foobar"),
            t("1.1foobar", ASSUMED_STATUS, "")
        );
        assert_eq!(lenient(b"HTTP/1.1\t 200 ok"), t("1.1", 200, "ok"));
        assert_eq!(lenient(b"HTTP/1.1\x00200\x00ok"), t("1.1", 200, "ok"));
        assert_eq!(lenient(b"HTTP/1.1\x0b200\x0bok"), t("1.1", 200, "ok"));
        assert_eq!(lenient(b"HTTP/1.1 2xx ok"), t("1.1", 2, "xx ok"));
        assert_eq!(lenient(b"HTTP/1.1 0204 ok"), t("1.1", 204, "ok"));
        assert_eq!(
            lenient(b"HTTP/1.1 99999999999 ok"),
            t("1.1", u16::MAX, "ok")
        );
        // What follows a bare CR is a header field line, not part of the status line.
        assert_eq!(
            lenient(b"HTTP/1.1 200 ok\rTransfer-Encoding: chunked"),
            t("1.1", 200, "ok")
        );
        assert_eq!(lenient(b"http/"), t("", ASSUMED_STATUS, ""));
        // A well-formed line is not malformed.
        assert_eq!(
            lenient(b"HTTP/1.1 200 OK"),
            Some(("1.1".to_string(), 200, "OK".to_string(), false))
        );
        for bad in [
            &b""[..],
            b"HTTP",
            b"HTTP1.1 200 OK",
            b"ICY 200 OK",
            b"\rHTTP/1.1 200",
        ] {
            assert!(lenient(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            status_line_verdict(b"HTTP/2", Strictness::Lenient),
            Some(true)
        );
        assert_eq!(
            status_line_verdict(b"HTTP/2", Strictness::Strict),
            Some(false)
        );
        assert_eq!(status_line_verdict(b"HTTP", Strictness::Lenient), None);
    }

    #[test]
    fn detection() {
        assert_eq!(detect_http1(b""), None);
        assert_eq!(detect_http1(b"G"), None);
        assert_eq!(detect_http1(b"GET"), None);
        assert_eq!(detect_http1(b"GET "), None);
        assert_eq!(detect_http1(b"GET /"), Some(true));
        assert_eq!(detect_http1(b"H"), None);
        assert_eq!(detect_http1(b"HTTP/1"), None);
        assert_eq!(detect_http1(b"HTTP/1.1 200 OK\r\n"), Some(true));
        assert_eq!(detect_http1(b"HEAD / HTTP/1.1\r\n"), Some(true));
        assert_eq!(detect_http1(b"HTTP/2"), Some(false));
        assert_eq!(
            detect_http1(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            Some(false)
        );
        assert_eq!(detect_http1(b"PRI * HTTP/2.0"), None);
        assert_eq!(detect_http1(b"X_POST /x HTTP/1.1\r\n"), Some(true));
        assert_eq!(detect_http1(b"X_POST /x HT"), None);
        assert_eq!(detect_http1(b"CCM_POST /x"), Some(true));
        assert_eq!(
            detect_http1(b"SSH-2.0-OpenSSH_9.6 Ubuntu-3\r\n"),
            Some(false)
        );
        assert_eq!(detect_http1(b"\x16\x03\x01\x02\x00\x01\x00"), Some(false));
        assert_eq!(detect_http1(b"GET \r\n"), Some(false));
        assert_eq!(detect_http1(b"GET\t/"), Some(false));
        assert_eq!(detect_http1(&[b'A'; 40]), Some(false));
        let mut long = b"FOO /".to_vec();
        long.resize(MAX_REQUEST_LINE + 10, b'a');
        assert_eq!(detect_http1(&long), Some(false));
    }

    /// The verdicts as they were computed before [`StartLineCheck`], from the whole prefix at
    /// once: the incremental check must agree with them on every prefix.
    mod reference {
        use super::super::*;

        pub(super) fn reference_status_verdict(
            bytes: &[u8],
            strictness: Strictness,
        ) -> Option<bool> {
            let prefix = status_prefix(strictness);
            let n = bytes.len().min(prefix.len());
            let same = bytes
                .get(..n)
                .zip(prefix.get(..n))
                .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
            match (same, n == prefix.len()) {
                (false, _) => Some(false),
                (true, true) => Some(true),
                (true, false) => None,
            }
        }

        pub(super) fn reference_request_verdict(
            bytes: &[u8],
            strictness: Strictness,
        ) -> Option<bool> {
            let method_len = bytes
                .iter()
                .take(MAX_METHOD_LEN + 1)
                .take_while(|&&b| is_tchar(b))
                .count();
            let Some(&after) = bytes.get(method_len) else {
                // Only token characters so far.
                return if method_len > MAX_METHOD_LEN {
                    Some(false)
                } else {
                    None
                };
            };
            let method = bytes.get(..method_len).unwrap_or_default();
            let known = is_known_method(method);
            let lenient = strictness == Strictness::Lenient && known;
            let after_ok = after == b' ' || (lenient && matches!(after, b'\r' | b'\n'));
            if method_len == 0 || method_len > MAX_METHOD_LEN || !after_ok {
                return Some(false);
            }
            // Only the first MAX_REQUEST_LINE + 1 bytes after the method are looked at, so a call costs
            // O(MAX_REQUEST_LINE) however much is buffered.
            let rest = bytes.get(method_len..).unwrap_or_default();
            let window = rest
                .get(..rest.len().min(MAX_REQUEST_LINE.saturating_add(1)))
                .unwrap_or_default();
            let line_end = memchr::memchr(b'\n', window);
            let line = window
                .get(..line_end.unwrap_or(window.len()))
                .unwrap_or_default();
            // Once false, the verdict stays false for every longer prefix (the parser relies on this).
            if line.len() > MAX_REQUEST_LINE || line.iter().any(|&b| is_forbidden_in_line(b)) {
                return Some(false);
            }
            if lenient {
                return Some(true);
            }
            if known {
                return match line.iter().find(|&&b| b != b' ') {
                    Some(b'\r') => Some(false),
                    Some(_) => Some(true),
                    None if line_end.is_some() => Some(false),
                    None => None,
                };
            }
            line_end.map(|end| {
                let line = bytes
                    .get(..method_len.saturating_add(end))
                    .unwrap_or_default();
                parse_request_line(line, Strictness::Strict).is_some()
            })
        }
    }

    /// Lines that exercise every branch of the request and status checks.
    fn check_corpus() -> Vec<Vec<u8>> {
        let mut lines: Vec<Vec<u8>> = [
            &b"GET / HTTP/1.1\r\nHost: a\r\n"[..],
            b"GET /a b  HTTP/1.1  \r\n",
            b"OPTIONS\r\n",
            b"OPTIONS\n",
            b"GET \r\n",
            b"GET    \n",
            b"GET  \t/\r\n",
            b"GET /\x01 HTTP/1.1\r\n",
            b"GET /\x7f\n",
            b"GET/ HTTP/1.1\r\n",
            b"X_POST /x HTTP/1.1\r\n",
            b"X_POST /x HTTP/2.0\r\n",
            b"X_POST /x HT\x00TP/1.1\r\n",
            b"X_POST\r\n",
            b"SSH-2.0-OpenSSH_9.6 Ubuntu-3\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00",
            b" GET / HTTP/1.1\r\n",
            b"\r\n",
            b"HTTP/1.1 200 OK\r\n",
            b"http/1.0 404\n",
            b"HTTP/2 200\r\n",
            b"HTTX/1.1 200\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"CONNECT h:443 HTTP/1.1\r\n",
        ]
        .iter()
        .map(|l| l.to_vec())
        .collect();
        lines.push([&[b'A'; MAX_METHOD_LEN][..], b" / HTTP/1.1\r\n"].concat());
        lines.push([&[b'A'; MAX_METHOD_LEN + 1][..], b" / HTTP/1.1\r\n"].concat());
        for (method, len) in [
            (&b"GET /"[..], MAX_REQUEST_LINE),
            (b"GET /", MAX_REQUEST_LINE + 1),
            (b"FOO /", MAX_REQUEST_LINE - " HTTP/1.1".len() + 1),
            (b"FOO /", MAX_REQUEST_LINE - " HTTP/1.1".len() + 2),
        ] {
            let mut l = method.to_vec();
            l.resize(len, b'a');
            l.extend_from_slice(b" HTTP/1.1\r\n");
            lines.push(l);
        }
        lines
    }

    #[test]
    fn incremental_check_agrees_with_whole_prefix_verdicts() {
        let kinds = [
            LineKind::Request(Strictness::Strict),
            LineKind::Request(Strictness::Lenient),
            LineKind::Status(Strictness::Strict),
            LineKind::Status(Strictness::Lenient),
        ];
        let mut compared = 0;
        for line in check_corpus() {
            for kind in kinds {
                let reference = |prefix: &[u8]| match kind {
                    LineKind::Request(s) => reference::reference_request_verdict(prefix, s),
                    LineKind::Status(s) => reference::reference_status_verdict(prefix, s),
                };
                // Long lines: every prefix near the ends, sampled in between.
                let ends: Vec<usize> = (0..=line.len())
                    .filter(|&n| n < 64 || line.len() - n < 64 || n % 997 == 0)
                    .collect();
                // The shortest rejected prefix, by binary search (the reference is monotonic).
                let (mut lo, mut hi) = (0, line.len() + 1);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if reference(&line[..mid]) == Some(false) {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                let shortest = (hi <= line.len()).then_some(hi);
                let mut piecewise = StartLineCheck::new(kind);
                for &n in &ends {
                    let prefix = &line[..n];
                    let want = reference(prefix);
                    let mut whole = StartLineCheck::new(kind);
                    let shown = prefix.escape_ascii().to_string();
                    assert_eq!(whole.check(prefix), want, "{kind:?} {shown:?}");
                    assert_eq!(piecewise.check(prefix), want, "{kind:?} piecewise {n}");
                    let rejected = shortest.filter(|_| want == Some(false));
                    assert_eq!(whole.rejected_len(), rejected, "{kind:?} {shown:?}");
                    assert_eq!(piecewise.rejected_len(), rejected, "{kind:?} piecewise {n}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 2000, "{compared}");
    }

    #[test]
    fn incremental_check_examines_each_byte_once() {
        // The longest line accepted: its rest after the method is MAX_REQUEST_LINE bytes.
        let mut line = b"X_POST /".to_vec();
        line.resize(
            MAX_REQUEST_LINE + "X_POST".len() - " HTTP/1.1\r".len(),
            b'a',
        );
        line.extend_from_slice(b" HTTP/1.1\r\n");
        let before = work::examined();
        let mut check = StartLineCheck::request(Strictness::Strict);
        for n in 0..=line.len() {
            let verdict = check.check(&line[..n]);
            assert_eq!(verdict.is_some(), n == line.len(), "{n}");
        }
        assert_eq!(check.check(&line), Some(true));
        // Each byte once by the check, and the line once more by the parse at its end.
        let examined = work::examined() - before;
        assert!(
            examined <= 2 * line.len(),
            "{examined} for {} bytes",
            line.len()
        );
    }
}
