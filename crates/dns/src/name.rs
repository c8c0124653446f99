//! Domain names (RFC 1035 §3.1, §4.1.4): labels, compression pointers, and their text form.

use crate::DnsError;
use std::fmt::Write as _;

/// Longest name accepted, in wire format (length bytes included, RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;

/// Most compression pointers followed while reading one name. Pointers must also point strictly
/// backwards (each one before the previous target), so a loop is impossible anyway; this bounds
/// the work on a long backwards chain.
pub const MAX_POINTER_HOPS: usize = 64;

/// Reads the name starting at `start` in `msg` (the whole message, so pointers can be followed).
///
/// Returns the name in presentation form and the offset just past its bytes in place (past the
/// first pointer, or past the root label). The text form is dig's: labels joined by `.`, no
/// trailing dot, the root name as the empty string; bytes outside `!`..=`~` are written `\DDD`
/// (decimal) and `. \ " ( ) ; @ $` are backslash-escaped, so a label holding a dot cannot pass
/// for two labels.
///
/// Pointers are followed only strictly backwards, in the manner of smoltcp's `parse_name`: each
/// pointer must point before the place the previous part of the name was read from, so the read
/// positions strictly decrease and the walk ends.
pub(crate) fn parse_name(msg: &[u8], start: usize) -> Result<(String, usize), DnsError> {
    let mut text = String::new();
    let mut pos = start;
    // Pointer targets must be below this: the start of the part of the name being read.
    let mut limit = start;
    let mut end = None;
    let mut hops = 0usize;
    let mut wire_len = 1usize; // the root label
    loop {
        let len = *msg.get(pos).ok_or(DnsError::Truncated { at: pos })?;
        match len >> 6 {
            0b00 if len == 0 => {
                return Ok((text, end.unwrap_or(pos + 1)));
            }
            0b00 => {
                let len = usize::from(len);
                let label_start = pos + 1;
                let label_end = label_start + len;
                let label = msg
                    .get(label_start..label_end)
                    .ok_or(DnsError::Truncated { at: pos })?;
                wire_len += 1 + len;
                if wire_len > MAX_NAME_LEN {
                    return Err(DnsError::NameTooLong { at: start });
                }
                if !text.is_empty() {
                    text.push('.');
                }
                push_label(&mut text, label);
                pos = label_end;
            }
            0b11 => {
                let low = *msg.get(pos + 1).ok_or(DnsError::Truncated { at: pos })?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                if target >= limit {
                    return Err(DnsError::BadPointer { at: pos, target });
                }
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    return Err(DnsError::TooManyPointers { at: start });
                }
                end.get_or_insert(pos + 2);
                limit = target;
                pos = target;
            }
            _ => return Err(DnsError::BadLabelType { at: pos, byte: len }),
        }
    }
}

/// Appends one label in presentation form (see [`parse_name`]).
fn push_label(text: &mut String, label: &[u8]) {
    for &b in label {
        match b {
            b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                text.push('\\');
                text.push(char::from(b));
            }
            b'!'..=b'~' => text.push(char::from(b)),
            _ => {
                // Writing to a String cannot fail.
                let _ = write!(text, "\\{b:03}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_name() {
        let msg = b"\x03www\x07example\x03com\x00rest";
        assert_eq!(parse_name(msg, 0), Ok(("www.example.com".to_owned(), 17)));
    }

    #[test]
    fn root_name_is_empty() {
        assert_eq!(parse_name(b"\x00", 0), Ok((String::new(), 1)));
    }

    #[test]
    fn backward_pointer_and_chain() {
        // 0: example.com; 13: www + ptr(0); 19: a + ptr(13)
        let mut msg = b"\x07example\x03com\x00".to_vec();
        msg.extend_from_slice(b"\x03www\xc0\x00");
        msg.extend_from_slice(b"\x01a\xc0\x0d");
        assert_eq!(parse_name(&msg, 13), Ok(("www.example.com".to_owned(), 19)));
        assert_eq!(
            parse_name(&msg, 19),
            Ok(("a.www.example.com".to_owned(), 23))
        );
    }

    #[test]
    fn odd_bytes_are_escaped_like_dig() {
        let msg = b"\x06a.b\\ \xff\x03com\x00";
        assert_eq!(parse_name(msg, 0).unwrap().0, "a\\.b\\\\\\032\\255.com");
    }

    #[test]
    fn self_and_forward_pointers_are_rejected() {
        assert_eq!(
            parse_name(b"\xc0\x00", 0),
            Err(DnsError::BadPointer { at: 0, target: 0 })
        );
        assert_eq!(
            parse_name(b"\xc0\x02\x00", 0),
            Err(DnsError::BadPointer { at: 0, target: 2 })
        );
    }

    #[test]
    fn pointer_loop_is_rejected() {
        // 0: label "a" then pointer to 4; 4: pointer back to 0 -> loop 0 -> 4 -> 0.
        let msg = b"\x01a\xc0\x04\xc0\x00";
        // Starting at 4: jumps to 0 (backwards, fine), reads "a", then pointer to 4 >= limit 0.
        assert_eq!(
            parse_name(msg, 4),
            Err(DnsError::BadPointer { at: 2, target: 4 })
        );
    }

    #[test]
    fn backward_pointer_into_own_label_loop_is_rejected() {
        // A pointer back into the middle of an earlier label that eventually points back again.
        let msg = b"\x00\x02\xc0\x01\xc0\x02";
        assert!(matches!(
            parse_name(msg, 4),
            Err(DnsError::BadPointer { .. })
        ));
    }

    #[test]
    fn label_types_01_and_10_are_rejected() {
        assert_eq!(
            parse_name(b"\x40abc", 0),
            Err(DnsError::BadLabelType { at: 0, byte: 0x40 })
        );
        assert_eq!(
            parse_name(b"\x80abc", 0),
            Err(DnsError::BadLabelType { at: 0, byte: 0x80 })
        );
    }

    #[test]
    fn name_over_255_bytes_is_rejected() {
        let mut msg = Vec::new();
        for _ in 0..5 {
            msg.push(63);
            msg.extend_from_slice(&[b'x'; 63]);
        }
        msg.push(0);
        assert_eq!(parse_name(&msg, 0), Err(DnsError::NameTooLong { at: 0 }));
        // Four 63-byte labels plus one of 2: 4*64 + 3 + 1 = 260 > 255; 3*64+62+1 = 255 is fine.
        let mut ok = Vec::new();
        for _ in 0..3 {
            ok.push(63);
            ok.extend_from_slice(&[b'x'; 63]);
        }
        ok.push(61);
        ok.extend_from_slice(&[b'y'; 61]);
        ok.push(0);
        assert_eq!(ok.len(), 255);
        assert!(parse_name(&ok, 0).is_ok());
    }

    #[test]
    fn truncated_names() {
        for msg in [&b""[..], b"\x03ww", b"\x03www", b"\x03www\xc0"] {
            assert!(
                matches!(parse_name(msg, 0), Err(DnsError::Truncated { .. })),
                "{msg:?}"
            );
        }
    }

    #[test]
    fn long_backward_chain_is_bounded() {
        // 100 pointers, each pointing to the previous one: strictly backwards, but too many hops.
        let mut msg = vec![0u8];
        for i in 0..100u16 {
            let target = if i == 0 { 0 } else { 1 + 2 * (i - 1) };
            msg.extend_from_slice(&(0xc000 | target).to_be_bytes());
        }
        let last = msg.len() - 2;
        assert_eq!(
            parse_name(&msg, last),
            Err(DnsError::TooManyPointers { at: last })
        );
    }
}
