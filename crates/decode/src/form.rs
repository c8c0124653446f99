//! `application/x-www-form-urlencoded` (URL query strings and form bodies) and `multipart/form-data`
//! (RFC 7578).

use crate::percent;
use memchr::memmem;

/// Most parts read from one multipart body; later parts are ignored.
pub(crate) const MAX_MULTIPART_PARTS: usize = 1024;

/// One `name=value` pair, both percent- and `+`-decoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FormField {
    /// The decoded name (lossy UTF-8).
    pub(crate) name: String,
    /// The decoded value.
    pub(crate) value: Vec<u8>,
}

/// How sure the caller is that the input is form data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// The input is known to be a form (Content-Type, a URL query): pieces without `=` are skipped.
    Known,
    /// The input is an arbitrary string: accept it only if it looks like `k=v(&k=v)*` throughout.
    Guess,
}

/// Bytes allowed in a form field name when guessing.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'_' | b'.' | b'-' | b'[' | b']' | b'%' | b'*' | b'~' | b'$' | b':'
        )
}

/// Parses form data; `None` when guessing and the input does not look like a form.
pub(crate) fn parse_form(input: &[u8], strictness: Strictness) -> Option<Vec<FormField>> {
    if strictness == Strictness::Guess
        && (input.is_empty()
            || input
                .iter()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control()))
    {
        return None;
    }
    let mut fields = Vec::new();
    let pieces: Vec<&[u8]> = input.split(|&b| b == b'&').collect();
    let last = pieces.len().saturating_sub(1);
    for (i, piece) in pieces.into_iter().enumerate() {
        if piece.is_empty() {
            // `a=1&&b=2` or a trailing `&` are common; an empty form is not.
            if strictness == Strictness::Guess && i != last {
                return None;
            }
            continue;
        }
        let Some(eq) = memchr::memchr(b'=', piece) else {
            if strictness == Strictness::Guess {
                return None;
            }
            continue;
        };
        let (name, value) = piece.split_at(eq);
        let value = value.get(1..).unwrap_or_default();
        if strictness == Strictness::Guess
            && (name.is_empty() || !name.iter().all(|&b| is_name_byte(b)))
        {
            return None;
        }
        fields.push(FormField {
            name: String::from_utf8_lossy(&percent::decode(name, true)).into_owned(),
            value: percent::decode(value, true),
        });
    }
    if fields.is_empty() {
        return None;
    }
    Some(fields)
}

/// One part of a multipart body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MultipartPart<'a> {
    /// The `name` parameter of its Content-Disposition, else its 0-based index.
    pub(crate) name: String,
    /// Its content, after the part's header block.
    pub(crate) data: &'a [u8],
}

/// The `boundary` parameter of a `multipart/*` Content-Type value.
pub(crate) fn multipart_boundary(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        (!value.is_empty() && value.len() <= 200).then_some(value)
    })
}

/// The `name="…"` parameter of a part's Content-Disposition header, searched in its header block.
fn disposition_name(headers: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let line = text.lines().find(|l| {
        l.len() > 20
            && l.get(..20)
                .is_some_and(|p| p.eq_ignore_ascii_case("content-disposition:"))
    })?;
    line.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("name")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// Splits a multipart body at `boundary`. Parts without a header/body separator are skipped; a body
/// cut short still yields the parts seen so far (the last one up to the end).
pub(crate) fn parse_multipart<'a>(body: &'a [u8], boundary: &str) -> Vec<MultipartPart<'a>> {
    let delimiter = [b"--", boundary.as_bytes()].concat();
    let finder = memmem::Finder::new(&delimiter);
    let mut parts = Vec::new();
    let Some(first) = finder.find(body) else {
        return parts;
    };
    let mut at = first + delimiter.len();
    while parts.len() < MAX_MULTIPART_PARTS {
        let Some(rest) = body.get(at..) else { break };
        if rest.starts_with(b"--") {
            break; // close delimiter
        }
        let (end, next) = match finder.find(rest) {
            Some(rel) => (rel, Some(at + rel + delimiter.len())),
            None => (rest.len(), None),
        };
        let segment = rest.get(..end).unwrap_or(rest);
        // Strip the CRLF that ends the delimiter line and the one that precedes the next delimiter.
        let segment = segment
            .strip_prefix(b"\r\n")
            .or_else(|| segment.strip_prefix(b"\n"))
            .unwrap_or(segment);
        let segment = segment
            .strip_suffix(b"\r\n")
            .or_else(|| segment.strip_suffix(b"\n"))
            .unwrap_or(segment);
        let split = if segment.starts_with(b"\r\n") {
            Some((0, 2)) // no part headers
        } else if segment.starts_with(b"\n") {
            Some((0, 1))
        } else {
            memmem::find(segment, b"\r\n\r\n")
                .map(|i| (i, i + 4))
                .or_else(|| memmem::find(segment, b"\n\n").map(|i| (i, i + 2)))
        };
        if let Some((header_end, data_start)) = split {
            let headers = segment.get(..header_end).unwrap_or_default();
            let name = disposition_name(headers).unwrap_or_else(|| parts.len().to_string());
            parts.push(MultipartPart {
                name,
                data: segment.get(data_start..).unwrap_or_default(),
            });
        }
        match next {
            Some(n) => at = n,
            None => break,
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, value: &[u8]) -> FormField {
        FormField {
            name: name.into(),
            value: value.to_vec(),
        }
    }

    #[test]
    fn parses_known_forms() {
        let f = parse_form(b"body=Dinner+at+8%3F&wifi=3c%3A28&flag&", Strictness::Known);
        assert_eq!(
            f,
            Some(vec![
                field("body", b"Dinner at 8?"),
                field("wifi", b"3c:28")
            ])
        );
        assert_eq!(parse_form(b"", Strictness::Known), None);
        assert_eq!(parse_form(b"justtext", Strictness::Known), None);
    }

    #[test]
    fn guessing_rejects_prose() {
        assert!(parse_form(b"a=1&b=2", Strictness::Guess).is_some());
        assert!(parse_form(b"p=abc==", Strictness::Guess).is_some());
        assert_eq!(parse_form(b"x = y", Strictness::Guess), None);
        assert_eq!(parse_form(b"a=1&b", Strictness::Guess), None);
        assert_eq!(parse_form(b"=1", Strictness::Guess), None);
        assert_eq!(parse_form(b"a\"b=1", Strictness::Guess), None);
        assert_eq!(parse_form(b"a=1&&b=2", Strictness::Guess), None);
    }

    #[test]
    fn bad_escapes_survive() {
        assert_eq!(
            parse_form(b"a=%ZZ%", Strictness::Guess),
            Some(vec![field("a", b"%ZZ%")])
        );
    }

    #[test]
    fn boundary_parameter() {
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"xyz\""),
            Some("xyz")
        );
        assert_eq!(
            multipart_boundary("multipart/form-data;BOUNDARY=ab"),
            Some("ab")
        );
        assert_eq!(multipart_boundary("multipart/form-data"), None);
        assert_eq!(multipart_boundary("multipart/form-data; boundary="), None);
    }

    #[test]
    fn splits_multipart() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"imei\"\r\n\r\n356938035643809\r\n--XX\r\n\
Content-Disposition: form-data; name=\"f\"; filename=\"a.json\"\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n--XX--\r\n";
        let parts = parse_multipart(body, "XX");
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0],
            MultipartPart {
                name: "imei".into(),
                data: b"356938035643809"
            }
        );
        assert_eq!(parts[1].name, "f");
        assert_eq!(parts[1].data, b"{\"a\":1}");
    }

    #[test]
    fn multipart_truncated_and_garbage() {
        let parts = parse_multipart(
            b"--XX\r\nContent-Disposition: form-data; name=a\r\n\r\nhalf a val",
            "XX",
        );
        assert_eq!(
            parts,
            vec![MultipartPart {
                name: "a".into(),
                data: b"half a val"
            }]
        );
        assert!(parse_multipart(b"no delimiter here", "XX").is_empty());
        assert!(parse_multipart(b"--XX", "XX").is_empty());
        assert!(parse_multipart(b"--XX--XX--XX", "XX").is_empty());
        let many = "--B\r\n\r\nx\r\n".repeat(MAX_MULTIPART_PARTS + 10);
        assert_eq!(
            parse_multipart(many.as_bytes(), "B").len(),
            MAX_MULTIPART_PARTS
        );
    }
}
