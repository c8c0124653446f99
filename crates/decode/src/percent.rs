//! Percent-decoding (RFC 3986 §2.1) and its `application/x-www-form-urlencoded` flavour.
//!
//! Decoding is lenient, like browsers: a `%` not followed by two hex digits is kept literally, so
//! malformed escapes never fail a decode and never lose bytes.

use memchr::memchr;

/// The value of an ASCII hex digit.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte encoded by the escape starting at `input[at]` (which must be `%`), if it is valid.
fn escape_at(input: &[u8], at: usize) -> Option<u8> {
    let hi = hex_value(*input.get(at.checked_add(1)?)?)?;
    let lo = hex_value(*input.get(at.checked_add(2)?)?)?;
    Some(hi << 4 | lo)
}

/// True when `input` holds at least one valid `%XX` escape.
pub(crate) fn has_escape(input: &[u8]) -> bool {
    let mut from = 0;
    while let Some(rel) = input.get(from..).and_then(|rest| memchr(b'%', rest)) {
        let at = from + rel;
        if escape_at(input, at).is_some() {
            return true;
        }
        from = at + 1;
    }
    false
}

/// Percent-decodes `input`; with `plus_as_space`, `+` becomes a space (form encoding).
///
/// Invalid escapes are kept as they are. The output is never longer than the input.
pub fn decode(input: &[u8], plus_as_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'%' => match escape_at(input, i) {
                Some(decoded) => {
                    out.push(decoded);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b'+' if plus_as_space => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_plus() {
        assert_eq!(decode(b"a%40b%2Fc", false), b"a@b/c");
        assert_eq!(decode(b"Dinner+at+8%3F", true), b"Dinner at 8?");
        assert_eq!(decode(b"a+b", false), b"a+b");
    }

    #[test]
    fn keeps_bad_escapes() {
        assert_eq!(decode(b"100%", false), b"100%");
        assert_eq!(decode(b"%zz%4", false), b"%zz%4");
        assert_eq!(decode(b"%%41", false), b"%A");
        assert_eq!(decode(b"%", false), b"%");
        assert_eq!(decode(b"%e9", false), [0xe9]);
    }

    #[test]
    fn finds_escapes() {
        assert!(has_escape(b"a%3Ab"));
        assert!(has_escape(b"%%3A"));
        assert!(!has_escape(b"100% sure"));
        assert!(!has_escape(b"%4"));
        assert!(!has_escape(b""));
    }
}
