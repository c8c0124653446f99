//! Request lines and status lines (RFC 9112 §3 and §4), and the quick HTTP/1.x test used for
//! protocol detection.

use crate::RequestLine;

/// Longest method token accepted (`CCM_POST`, `M-SEARCH`, `VERSION-CONTROL` are all far shorter).
pub const MAX_METHOD_LEN: usize = 32;

/// Longest request line accepted, after the method (detection, parsing and resynchronisation).
/// Servers refuse longer ones (nginx and Apache stop at 8 KiB); the cap also bounds the work of
/// re-checking a line that arrives a few bytes at a time.
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
}

/// Parses a whole status line (without its `\n`): `HTTP/1.x SP 3DIGIT [SP reason]`.
pub(crate) fn parse_status_line(line: &[u8]) -> Option<StatusLine> {
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
    })
}

/// Could `bytes` (the start of a line, possibly with its `\n` and more) begin a status line?
/// `None` = too short to say.
pub(crate) fn status_line_verdict(bytes: &[u8]) -> Option<bool> {
    const PREFIX: &[u8] = b"HTTP/1.";
    let n = bytes.len().min(PREFIX.len());
    let same = bytes
        .get(..n)
        .zip(PREFIX.get(..n))
        .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
    match (same, n == PREFIX.len()) {
        (false, _) => Some(false),
        (true, true) => Some(true),
        (true, false) => None,
    }
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
        status_line_verdict(prefix),
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
        let s = parse_status_line(b"HTTP/1.1 200 OK\r").unwrap();
        assert_eq!(
            (s.version.as_str(), s.status, s.reason.as_str()),
            ("1.1", 200, "OK")
        );
        let s = parse_status_line(b"HTTP/1.0 404").unwrap();
        assert_eq!((s.status, s.reason.as_str()), (404, ""));
        let s = parse_status_line(b"HTTP/1.1 500 Internal Server Error").unwrap();
        assert_eq!(s.reason, "Internal Server Error");
        for bad in [
            &b"HTTP/1.1"[..],
            b"HTTP/1.1 20",
            b"HTTP/1.1 2000 OK",
            b"HTTP/2 200",
            b"ICY 200 OK",
            b"HTTP/1.1 abc",
        ] {
            assert!(
                parse_status_line(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
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
}
