//! Binary-to-text encodings (base64, base64url, hex) and the plausibility test that keeps random
//! identifiers from being "decoded" into noise.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// Shortest string tried as base64 (after removing line breaks).
pub(crate) const MIN_BASE64_LEN: usize = 8;
/// Shortest string tried as hex.
pub(crate) const MIN_HEX_LEN: usize = 16;
/// Share of characters (in percent) that must be printable for decoded bytes to count as text.
pub(crate) const MIN_PRINTABLE_PERCENT: usize = 90;
/// A run of this many printable ASCII bytes makes a binary base64 payload (protobuf, say) worth
/// keeping.
pub(crate) const MIN_TEXT_RUN: usize = 12;

/// The two base64 alphabets (RFC 4648 §4 and §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base64Alphabet {
    /// `+` and `/` (or neither: the alphabets then agree).
    Standard,
    /// `-` and `_`.
    UrlSafe,
}

impl Base64Alphabet {
    /// The chain element for this alphabet: `base64` or `base64url`.
    pub(crate) fn step(self) -> &'static str {
        match self {
            Self::Standard => "base64",
            Self::UrlSafe => "base64url",
        }
    }
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Whether `input` could be base64 as a whole, and in which alphabet. Line breaks are allowed.
/// All-hex strings are left to the hex decoder
/// (a digest is valid base64 but never meant as such).
pub(crate) fn base64_candidate(input: &[u8]) -> Option<Base64Alphabet> {
    let (mut standard, mut url_safe, mut symbols, mut padding, mut non_hex) =
        (false, false, 0usize, 0usize, false);
    for &b in input {
        match b {
            b'=' => padding += 1,
            _ if padding > 0 && b != b'\r' && b != b'\n' => return None, // data after padding
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {
                non_hex |= !b.is_ascii_hexdigit();
                symbols += 1;
            }
            b'+' | b'/' => {
                standard = true;
                symbols += 1;
            }
            b'-' | b'_' => {
                url_safe = true;
                symbols += 1;
            }
            b'\r' | b'\n' => {}
            _ => return None,
        }
    }
    if padding > 2 || symbols < MIN_BASE64_LEN || symbols % 4 == 1 || (standard && url_safe) {
        return None;
    }
    if !non_hex && !standard && !url_safe {
        return None;
    }
    Some(if url_safe {
        Base64Alphabet::UrlSafe
    } else {
        Base64Alphabet::Standard
    })
}

/// Decodes a [`base64_candidate`]; `None` when the decoder rejects it.
pub(crate) fn decode_base64(input: &[u8], alphabet: Base64Alphabet) -> Option<Vec<u8>> {
    let cleaned: Vec<u8> = input
        .iter()
        .filter(|&&b| b != b'\r' && b != b'\n' && b != b'=')
        .copied()
        .collect();
    let engine = match alphabet {
        Base64Alphabet::Standard => &STANDARD,
        Base64Alphabet::UrlSafe => &URL_SAFE,
    };
    engine.decode(cleaned).ok()
}

/// Whether `input` could be hex-encoded data: even length, at least [`MIN_HEX_LEN`], all hex digits.
pub(crate) fn hex_candidate(input: &[u8]) -> bool {
    input.len() >= MIN_HEX_LEN && input.len() & 1 == 0 && input.iter().all(u8::is_ascii_hexdigit)
}

/// Decodes a [`hex_candidate`].
pub(crate) fn decode_hex(input: &[u8]) -> Option<Vec<u8>> {
    hex::decode(input).ok()
}

/// Valid UTF-8 of which at least [`MIN_PRINTABLE_PERCENT`] of the characters are printable
/// (control characters other than tab, CR and LF are not).
pub(crate) fn is_plausible_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let (mut total, mut printable) = (0usize, 0usize);
    for c in text.chars() {
        total += 1;
        if !c.is_control() || matches!(c, '\t' | '\n' | '\r') {
            printable += 1;
        }
    }
    total > 0 && printable.saturating_mul(100) >= total.saturating_mul(MIN_PRINTABLE_PERCENT)
}

/// Valid, non-empty UTF-8 without control characters other than tab, CR and LF: what a text value
/// (an identifier, a digest in hex, a sentence) looks like, and what a binary encoding seldom does.
pub(crate) fn is_clean_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|text| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
    })
}

/// True when `bytes` holds a run of at least [`MIN_TEXT_RUN`] printable ASCII bytes.
pub(crate) fn has_text_run(bytes: &[u8]) -> bool {
    let mut run = 0usize;
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            run += 1;
            if run >= MIN_TEXT_RUN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_alphabets() {
        assert_eq!(
            base64_candidate(b"eyJzbiI6ICJSNThOMzFYWVpRIn0="),
            Some(Base64Alphabet::Standard)
        );
        assert_eq!(
            decode_base64(b"eyJzbiI6ICJSNThOMzFYWVpRIn0=", Base64Alphabet::Standard).unwrap(),
            br#"{"sn": "R58N31XYZQ"}"#
        );
        // Unpadded and with a line break.
        assert_eq!(
            decode_base64(b"eyJzbiI6ICJSNThO\r\nMzFYWVpRIn0", Base64Alphabet::Standard).unwrap(),
            br#"{"sn": "R58N31XYZQ"}"#
        );
        assert_eq!(
            base64_candidate(b"PDw_Pz8-Pj4-Pw"),
            Some(Base64Alphabet::UrlSafe)
        );
        assert_eq!(
            decode_base64(b"PDw_Pz8-Pj4-Pw", Base64Alphabet::UrlSafe).unwrap(),
            b"<<???>>>>?"
        );
        assert_eq!(
            base64_candidate(b"Pj4+Pz8/Pj4+"),
            Some(Base64Alphabet::Standard)
        );
        assert_eq!(
            decode_base64(b"Pj4+Pz8/Pj4+", Base64Alphabet::Standard).unwrap(),
            b">>>???>>>"
        );
    }

    #[test]
    fn invalid_base64() {
        assert_eq!(base64_candidate(b"abc"), None, "too short");
        assert_eq!(base64_candidate(b"abcdefghi"), None, "4n+1 symbols");
        assert_eq!(base64_candidate(b"abcd+efg-hij"), None, "mixed alphabets");
        assert_eq!(base64_candidate(b"abcd=efgh"), None, "data after padding");
        assert_eq!(base64_candidate(b"abcdefgh==="), None, "too much padding");
        assert_eq!(base64_candidate(b"abcd!efgh"), None);
        assert_eq!(
            base64_candidate(b"af2d48f2495881aed1737bb21017f9b6"),
            None,
            "hex is left to hex"
        );
        assert_eq!(
            base64_candidate(b"356938035643809"),
            None,
            "digits are hex too"
        );
    }

    #[test]
    fn hex() {
        assert!(hex_candidate(b"7b22696d6569223a2231227d"));
        assert_eq!(
            decode_hex(b"7b22696d6569223a2231227d").unwrap(),
            br#"{"imei":"1"}"#
        );
        assert!(!hex_candidate(b"7b22696d6569223"), "odd length");
        assert!(!hex_candidate(b"7b2269"), "too short");
        assert!(!hex_candidate(b"7b22696d6569223g"));
        // An md5 digest decodes to bytes that are not text.
        let digest = decode_hex(b"af2d48f2495881aed1737bb21017f9b6").unwrap();
        assert!(!is_plausible_text(&digest));
    }

    #[test]
    fn plausibility() {
        assert!(is_plausible_text("Dinner at 8? \u{1F37D}\n".as_bytes()));
        assert!(!is_plausible_text(b""));
        assert!(!is_plausible_text(b"\x00\x01\x02abc"));
        assert!(!is_plausible_text(b"\xff\xfeabc"));
        assert!(has_text_run(b"\x08\x01\x12\x0f356938035643809\x18"));
        assert!(!has_text_run(b"\x08\x01short\x00\x02"));
        assert!(is_clean_text("tab\tand é\r\n".as_bytes()));
        assert!(!is_clean_text(b""));
        assert!(!is_clean_text(b"\x0f356938035643809"));
        assert!(!is_clean_text("C1 \u{85}".as_bytes()));
        assert!(!is_clean_text(b"\xff"));
    }
}
