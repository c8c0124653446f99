//! Header fields (RFC 9112 §5) and the ones that decide message framing (RFC 9112 §6).

use phonehome_model::Header;

/// Header fields parsed from a header (or trailer) section.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    /// The fields kept, in order.
    pub(crate) headers: Vec<Header>,
    /// Fields dropped because there were more than the cap.
    pub(crate) dropped: usize,
}

/// Parses the field lines of `section` (everything after the start line; stops at the first empty
/// line). Lenient like real clients: bare `\n` line ends, obsolete line folding (a line starting
/// with a space or tab continues the previous value, joined by one space), spaces before the colon.
/// Lines without a colon are skipped. At most `max_headers` fields are kept.
pub(crate) fn parse_fields(section: &[u8], max_headers: usize) -> Fields {
    let mut fields = Fields::default();
    // Whether the last field line was kept (so a continuation line belongs to a kept field).
    let mut last_kept = false;
    for line in section.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let (true, Some(last)) = (last_kept, fields.headers.last_mut()) {
                let more = line.trim_ascii();
                if !more.is_empty() {
                    if !last.value.is_empty() {
                        last.value.push(b' ');
                    }
                    last.value.extend_from_slice(more);
                }
            }
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            last_kept = false;
            continue;
        };
        let (name, value) = line.split_at(colon);
        let name = name.trim_ascii();
        if name.is_empty() {
            last_kept = false;
            continue;
        }
        if fields.headers.len() >= max_headers {
            fields.dropped = fields.dropped.saturating_add(1);
            last_kept = false;
            continue;
        }
        let value = value.get(1..).unwrap_or_default().trim_ascii();
        fields.headers.push(Header::new(
            String::from_utf8_lossy(name).into_owned(),
            value.to_vec(),
        ));
        last_kept = true;
    }
    fields
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

/// The list elements of every field named `name` (comma-separated, trimmed, empty ones skipped).
fn list_items<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    values(headers, name)
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
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
    }
}
