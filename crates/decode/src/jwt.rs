//! JSON Web Tokens (RFC 7519) in the JWS compact serialization (RFC 7515 §7.1):
//! `BASE64URL(header).BASE64URL(payload).BASE64URL(signature)`. The header and payload are decoded;
//! the signature is ignored (never verified).

use crate::binary_text::{decode_base64, Base64Alphabet};
use crate::json;

/// The `Authorization` scheme skipped before a token (`Bearer eyJ…`), matched without regard to
/// case.
const BEARER: &[u8] = b"bearer ";

/// A decoded token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Jwt {
    /// The JOSE header: a JSON object with an `alg` member.
    pub(crate) header: Vec<u8>,
    /// The payload (usually the JSON claims set; empty for a detached payload).
    pub(crate) payload: Vec<u8>,
}

/// The token in `data`, without a leading `Bearer ` and surrounding whitespace.
fn token(data: &[u8]) -> &[u8] {
    let data = data.trim_ascii();
    match data.get(..BEARER.len()) {
        Some(scheme) if scheme.eq_ignore_ascii_case(BEARER) => {
            data.get(BEARER.len()..).unwrap_or_default().trim_ascii()
        }
        _ => data,
    }
}

/// True for a base64url symbol (padding included, which some issuers leave in).
fn is_segment_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=')
}

/// The three segments of a compact JWS, if `data` (after an optional `Bearer `) has that shape:
/// exactly two dots, only base64url symbols, a header starting with `ey` (base64url of `{` and a
/// quote or whitespace) and a non-empty payload or signature.
fn segments(data: &[u8]) -> Option<[&[u8]; 3]> {
    let token = token(data);
    if !token.starts_with(b"ey") || !token.iter().all(|&b| b == b'.' || is_segment_byte(b)) {
        return None;
    }
    let mut parts = token.split(|&b| b == b'.');
    let segments = [parts.next()?, parts.next()?, parts.next()?];
    if parts.next().is_some() {
        return None;
    }
    Some(segments)
}

/// The cheap check: does `data` have the shape of a JWT?
pub(crate) fn is_candidate(data: &[u8]) -> bool {
    segments(data).is_some()
}

/// Decodes a JWT: `None` unless the header is base64url of a JSON object with a string `alg`
/// member and the payload is valid base64url.
pub(crate) fn decode(data: &[u8]) -> Option<Jwt> {
    let [header, payload, _signature] = segments(data)?;
    let header = decode_base64(header, Base64Alphabet::UrlSafe)?;
    let is_jose_header = json::parse(&header).is_some_and(|value| {
        value
            .as_object()
            .and_then(|members| members.get("alg"))
            .is_some_and(serde_json::Value::is_string)
    });
    if !is_jose_header {
        return None;
    }
    let payload = if payload.is_empty() {
        Vec::new()
    } else {
        decode_base64(payload, Base64Alphabet::UrlSafe)?
    };
    Some(Jwt { header, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of RFC 7519 §3.1.
    const RFC_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.\
dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn rfc_7519_example() {
        let jwt = decode(RFC_TOKEN.as_bytes()).unwrap();
        assert_eq!(jwt.header, b"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
        assert_eq!(
            jwt.payload,
            b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
        );
        let bearer = format!("Bearer  {RFC_TOKEN} ");
        assert_eq!(decode(bearer.as_bytes()), Some(jwt));
    }

    #[test]
    fn rejects_lookalikes() {
        // Two segments, four segments, a dot-separated host name, a header without "alg".
        assert!(!is_candidate(b"eyJhbGciOiJub25lIn0.eyJhIjoxfQ"));
        assert!(!is_candidate(b"eyJ.eyJ.x.y"));
        assert!(!is_candidate(b"api.example.com"));
        assert!(is_candidate(b"eyJ0eXAiOiJKV1QifQ.eyJhIjoxfQ."));
        assert_eq!(decode(b"eyJ0eXAiOiJKV1QifQ.eyJhIjoxfQ."), None);
        // Truncated header, bad base64url, non-JSON header.
        assert_eq!(decode(b"eyJhbGciOiJub25l.eyJhIjoxfQ."), None);
        assert_eq!(decode(b"eyJhbGciOiJub25lIn0.e.x"), None);
        assert_eq!(decode(b"eyAgICAgICAg.eyJhIjoxfQ.x"), None);
        // alg "none", empty signature.
        let jwt = decode(b"eyJhbGciOiJub25lIn0.eyJhIjoxfQ.").unwrap();
        assert_eq!(jwt.payload, b"{\"a\":1}");
    }
}
