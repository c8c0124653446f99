//! Header fields (RFC 9112 §5) and the ones that decide message framing (RFC 9112 §6).

use phonehome_model::Header;

/// Header fields parsed from a header (or trailer) section.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    /// The fields kept, in order.
    pub(crate) headers: Vec<Header>,
    /// Fields dropped because there were more than the cap.
    pub(crate) dropped: usize,
    /// Bare CRs (not before a `\n`, a space or a tab) that ended a field line.
    pub(crate) bare_crs: usize,
}

/// Whether `line` (a line without its `\n`) ends a header section: `\n` or `\r\n` alone. A line
/// of several CRs (`\r\r\n`) does not: Chrome and Firefox skip it and read on (see
/// [`cr_line_end`] for the end of a stream).
pub(crate) fn ends_section(line: &[u8]) -> bool {
    matches!(line, b"" | b"\r")
}

/// Where the first line made only of two or more CRs and its `\n` (`\r\r\n`) ends in `section`,
/// if there is one. tshark and libhtp end a header section there (a bare CR is an empty line to
/// them), so when a stream ends inside a header section that holds such a line, the parser ends
/// the section there too and reads the rest as the body (HTTP-evader's `end-lfcrcrlf`).
pub(crate) fn cr_line_end(section: &[u8]) -> Option<usize> {
    let mut start = 0usize;
    for lf in memchr::memchr_iter(b'\n', section) {
        let line = section.get(start..lf).unwrap_or_default();
        let end = lf.saturating_add(1);
        if line.len() >= 2 && line.iter().all(|&b| b == b'\r') {
            return Some(end);
        }
        start = end;
    }
    None
}

/// Builds [`Fields`] from field lines.
struct FieldLines {
    fields: Fields,
    max_headers: usize,
    /// Whether the last field line was kept (so a continuation line belongs to a kept field).
    last_kept: bool,
}

impl FieldLines {
    fn new(max_headers: usize) -> Self {
        Self {
            fields: Fields::default(),
            max_headers,
            last_kept: false,
        }
    }

    /// A line of the section (no `\n`, no final `\r`): its bare CRs end field lines too, as in
    /// tshark and libhtp (`filename="x"\rTransfer-Encoding: chunked`), except a CR before a space
    /// or tab, which is folding whitespace (`Transfer-Encoding\r :chunked`). Empty pieces are
    /// skipped.
    fn line(&mut self, mut line: &[u8]) {
        let mut piece_start = 0usize;
        let mut search = 0usize;
        while let Some(cr) = line
            .get(search..)
            .and_then(|rest| memchr::memchr(b'\r', rest))
            .map(|i| i.saturating_add(search))
        {
            let next = cr.saturating_add(1);
            search = next;
            if matches!(line.get(next), Some(b' ' | b'\t')) {
                continue;
            }
            let piece = line.get(piece_start..cr).unwrap_or_default();
            if !piece.is_empty() {
                self.fields.bare_crs = self.fields.bare_crs.saturating_add(1);
                self.field_line(piece);
            }
            piece_start = next;
        }
        line = line.get(piece_start..).unwrap_or_default();
        if !line.is_empty() {
            self.field_line(line);
        }
    }

    /// One field line (not empty, no line end).
    fn field_line(&mut self, line: &[u8]) {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let (true, Some(last)) = (self.last_kept, self.fields.headers.last_mut()) {
                let more = line.trim_ascii();
                if !more.is_empty() {
                    if !last.value.is_empty() {
                        last.value.push(b' ');
                    }
                    last.value.extend_from_slice(more);
                }
            }
            return;
        }
        self.last_kept = false;
        let Some(colon) = memchr::memchr(b':', line) else {
            return;
        };
        let (name, value) = line.split_at(colon);
        let name = name.trim_ascii();
        if name.is_empty() {
            return;
        }
        if self.fields.headers.len() >= self.max_headers {
            self.fields.dropped = self.fields.dropped.saturating_add(1);
            return;
        }
        let value = value.get(1..).unwrap_or_default().trim_ascii();
        self.fields.headers.push(Header::new(
            String::from_utf8_lossy(name).into_owned(),
            value.to_vec(),
        ));
        self.last_kept = true;
    }
}

/// Parses the field lines of `section` (everything after the start line; stops at the first line
/// that [`ends_section`]). Lenient like real clients: bare `\n` line ends, bare `\r` line ends
/// inside a line, obsolete line folding (a line starting with a space or tab continues the previous
/// value, joined by one space), spaces before the colon. Lines without a colon are skipped. At
/// most `max_headers` fields are kept.
pub(crate) fn parse_fields(section: &[u8], max_headers: usize) -> Fields {
    parse_head_fields(b"", section, max_headers)
}

/// [`parse_fields`] for a header section whose start line ended in a bare CR: `first` is the rest
/// of that line after the CR (field lines, never the end of the section).
pub(crate) fn parse_head_fields(first: &[u8], section: &[u8], max_headers: usize) -> Fields {
    let mut lines = FieldLines::new(max_headers);
    lines.line(first);
    for line in section.split(|&b| b == b'\n') {
        if ends_section(line) {
            break;
        }
        lines.line(line.strip_suffix(b"\r").unwrap_or(line));
    }
    lines.fields
}

/// Values of every field named `name` (ASCII case-insensitive), in order.
pub(crate) fn values<'a>(
    headers: &'a [Header],
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_slice())
}

/// Whether some field named `name` is present.
pub(crate) fn has(headers: &[Header], name: &str) -> bool {
    values(headers, name).next().is_some()
}

/// The list elements of every field named `name` (comma-separated, trimmed of whitespace and
/// NULs, empty ones skipped). tshark and libhtp read values as C strings, so a NUL around a coding
/// does not hide it from them (`Content-Encoding: gzip\0` is gzip, HTTP-evader's `ce:gzip\000`).
fn list_items<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    let blank = |b: &u8| b.is_ascii_whitespace() || *b == 0;
    values(headers, name)
        .flat_map(|v| v.split(|&b| b == b','))
        .map(move |t| {
            let start = t.iter().position(|b| !blank(b)).unwrap_or(t.len());
            let end = t
                .iter()
                .rposition(|b| !blank(b))
                .map_or(start, |i| i.saturating_add(1));
            t.get(start..end).unwrap_or_default()
        })
        .filter(|t| !t.is_empty())
}

/// The message length given by `Content-Length`: `Ok(None)` when absent, an error when invalid or
/// when several values disagree (RFC 9112 §6.3 item 5).
pub(crate) fn content_length(headers: &[Header]) -> Result<Option<u64>, String> {
    let mut length: Option<u64> = None;
    for item in list_items(headers, "content-length") {
        let text = String::from_utf8_lossy(item);
        let parsed = if item.iter().all(u8::is_ascii_digit) {
            text.parse::<u64>().ok()
        } else {
            None
        };
        let Some(n) = parsed else {
            return Err(format!("invalid Content-Length `{}`", text.escape_debug()));
        };
        match length {
            Some(m) if m != n => {
                return Err(format!("conflicting Content-Length values {m} and {n}"))
            }
            _ => length = Some(n),
        }
    }
    Ok(length)
}

/// What `Transfer-Encoding` says about framing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransferCoding {
    /// No Transfer-Encoding (or only `identity`).
    Absent,
    /// `chunked` is the final coding.
    Chunked,
    /// Some other final coding: the length is unknown (the listed codings, for the report).
    Other(String),
}

/// The framing given by `Transfer-Encoding` (RFC 9112 §6.3 items 3–4), read the way libhtp and
/// browsers do: a message is chunked when any of its codings mentions `chunked` (`chunked;`,
/// `xchunked`, a second Transfer-Encoding field…). A body that then fails to parse as chunked is
/// kept as it is by the parser, so this leniency loses nothing.
pub(crate) fn transfer_coding(headers: &[Header]) -> TransferCoding {
    let codings: Vec<&[u8]> = list_items(headers, "transfer-encoding")
        .filter(|t| !t.eq_ignore_ascii_case(b"identity"))
        .collect();
    let mentions_chunked = |t: &&[u8]| t.windows(7).any(|w| w.eq_ignore_ascii_case(b"chunked"));
    if codings.is_empty() {
        TransferCoding::Absent
    } else if codings.iter().any(mentions_chunked) {
        TransferCoding::Chunked
    } else {
        let joined = codings
            .iter()
            .map(|c| String::from_utf8_lossy(c))
            .collect::<Vec<_>>()
            .join(", ");
        TransferCoding::Other(joined)
    }
}

/// Every `Content-Encoding` value joined with `", "`, when there is one.
pub(crate) fn content_encoding(headers: &[Header]) -> Option<String> {
    let items: Vec<String> = list_items(headers, "content-encoding")
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect();
    (!items.is_empty()).then(|| items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_values(f: &Fields) -> Vec<(String, String)> {
        f.headers
            .iter()
            .map(|h| {
                (
                    h.name.clone(),
                    String::from_utf8_lossy(&h.value).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn fields_with_folding_and_bare_lf() {
        let f = parse_fields(b"Host: a\nX-Long: one\r\n  two\r\n\tthree\r\nBad line\r\nName : v \r\n\r\nIgnored: x\r\n", 10);
        assert_eq!(
            names_values(&f),
            [("Host", "a"), ("X-Long", "one two three"), ("Name", "v")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let f = parse_fields(b"A: 1\r\nB: 2\r\nC: 3\r\n  folded\r\n\r\n", 2);
        assert_eq!(f.headers.len(), 2);
        assert_eq!(f.dropped, 1);
        assert_eq!(f.headers[1].value, b"2");
    }

    #[test]
    fn bare_cr_ends_field_lines() {
        let f = parse_fields(
            b"A: 1\rB: 2\r\r\r\nC\r :3\r\n\r\r\nD: 4\r\r\n\r\nIgnored: x\r\n",
            10,
        );
        assert_eq!(
            names_values(&f),
            [("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(f.bare_crs, 3);
        // The rest of a status line after its bare CR: field lines, never the end.
        let f = parse_head_fields(b"\rX: 1", b"\r\nY: 2\r\n\r\n", 10);
        assert_eq!(names_values(&f).len(), 1, "{f:?}");
        let f = parse_head_fields(b"X: 1", b"Y: 2\r\n\r\n", 10);
        assert_eq!(names_values(&f).len(), 2, "{f:?}");
    }

    #[test]
    fn lines_of_crs() {
        assert!(ends_section(b"") && ends_section(b"\r"));
        assert!(!ends_section(b"\r\r") && !ends_section(b" "));
        assert_eq!(cr_line_end(b"A: 1\n\r\r\nbody"), Some(8));
        assert_eq!(cr_line_end(b"A: 1\r\n\r\nbody"), None);
        assert_eq!(cr_line_end(b"A: 1\r\r\r"), None);
        assert_eq!(cr_line_end(b"\r\r\r\n"), Some(4));
    }

    #[test]
    fn framing_fields() {
        let h = |pairs: &[(&str, &str)]| -> Vec<Header> {
            pairs.iter().map(|(n, v)| Header::new(*n, *v)).collect()
        };
        assert_eq!(
            content_length(&h(&[("content-length", "42")])),
            Ok(Some(42))
        );
        assert_eq!(
            content_length(&h(&[("Content-Length", "7, 7"), ("Content-length", "7")])),
            Ok(Some(7))
        );
        assert_eq!(content_length(&h(&[])), Ok(None));
        assert!(content_length(&h(&[("Content-Length", "7"), ("Content-Length", "8")])).is_err());
        assert!(content_length(&h(&[("Content-Length", "-1")])).is_err());
        assert!(content_length(&h(&[("Content-Length", "99999999999999999999999")])).is_err());
        assert_eq!(
            transfer_coding(&h(&[("Transfer-Encoding", "gzip, Chunked")])),
            TransferCoding::Chunked
        );
        assert_eq!(
            transfer_coding(&h(&[("Transfer-Encoding", "identity")])),
            TransferCoding::Absent
        );
        assert_eq!(
            transfer_coding(&h(&[("Transfer-Encoding", "chunked, gzip")])),
            TransferCoding::Chunked
        );
        assert_eq!(
            transfer_coding(&h(&[("Transfer-Encoding", "gzip")])),
            TransferCoding::Other("gzip".into())
        );
        let two = h(&[
            ("Transfer-Encoding", "lalala"),
            ("Transfer-Encoding", "xchunked;"),
        ]);
        assert_eq!(transfer_coding(&two), TransferCoding::Chunked);
        assert_eq!(
            content_encoding(&h(&[
                ("Content-Encoding", "gzip"),
                ("content-encoding", "br")
            ])),
            Some("gzip, br".into())
        );
        // NULs around a coding are blank; inside one they are not.
        let nul = |v: &[u8]| vec![Header::new("Content-Encoding", v.to_vec())];
        assert_eq!(content_encoding(&nul(b"gzip\0")), Some("gzip".into()));
        assert_eq!(
            content_encoding(&nul(b"\0 deflate ,\0")),
            Some("deflate".into())
        );
        assert_eq!(content_encoding(&nul(b"gz\0ip")), Some("gz\0ip".into()));
        assert_eq!(content_encoding(&nul(b"\0\0")), None);
        let te = vec![Header::new("Transfer-Encoding", b"\0chunked".to_vec())];
        assert_eq!(transfer_coding(&te), TransferCoding::Chunked);
        let cl = vec![Header::new("Content-Length", b"68\0".to_vec())];
        assert_eq!(content_length(&cl), Ok(Some(68)));
    }
}
