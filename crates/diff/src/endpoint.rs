//! Endpoints (host + method + path template) and field paths (where in a request a value sits).

use phonehome_decode::{step_kind, StepKind};
use std::fmt;

/// Where requests go: host, method and path template. Path segments that are numbers, hex strings,
/// UUIDs or long tokens are folded into `{n}`, `{hex}`, `{uuid}` and `{token}`, so that
/// `/device/356938035643809/ping` from two handsets is one endpoint, `/device/{n}/ping`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Endpoint {
    /// The host, lower case, without port.
    pub host: String,
    /// The request method, upper case.
    pub method: String,
    /// The path template, starting with `/`, without query.
    pub path: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}{}", self.method, self.host, self.path)
    }
}

/// Where a value sits in a request: the message part (`url`, `header:<name>` with the name in lower
/// case, `cookie:<name>`, `body`) and the selecting decode steps down to it (`query:imsi`,
/// `json:$.device.imei`, `form:p`, `protobuf:1.2`, `jwt:payload`…). Transforming steps (`base64`,
/// `gzip`, `content-encoding:gzip`…) are not part of it: the same field stays the same field
/// whether or not a trial decoding accepted its value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct FieldPath {
    /// The message part.
    pub location: String,
    /// The selecting steps, outermost first.
    pub steps: Vec<String>,
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.location)?;
        for s in &self.steps {
            write!(f, " › {s}")?;
        }
        Ok(())
    }
}

impl FieldPath {
    /// The field a decode node at `location` with `chain` belongs to.
    pub fn from_chain(location: &str, chain: &[String]) -> Self {
        Self {
            location: normalize_location(location),
            steps: chain.iter().filter(|s| is_path_step(s)).cloned().collect(),
        }
    }
}

/// Whether a chain element is part of a field path: selectors, and the JWT steps (which select the
/// header or the payload of a token).
pub(crate) fn is_path_step(step: &str) -> bool {
    step_kind(step) == StepKind::Selector || step.starts_with("jwt:")
}

/// `header:<name>` with the name in lower case (HTTP/1 and HTTP/2 spell names differently); other
/// locations as they are.
pub(crate) fn normalize_location(location: &str) -> String {
    match location.strip_prefix("header:") {
        Some(name) => format!("header:{}", name.to_ascii_lowercase()),
        None => location.to_owned(),
    }
}

/// The host of a request, lower case, without port or trailing dot: the `Host` the client sent,
/// else the URL's host.
pub(crate) fn request_host(host: Option<&str>, url: &str) -> String {
    let raw = host
        .filter(|h| !h.trim().is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| url_authority(url).to_owned());
    let raw = raw.trim();
    let bare = if let Some(rest) = raw.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if raw.matches(':').count() == 1 {
        raw.split(':').next().unwrap_or(raw)
    } else {
        raw
    };
    bare.trim_end_matches('.').to_ascii_lowercase()
}

/// The authority of an absolute URL (`host:port`), or "" for a bare path.
fn url_authority(url: &str) -> &str {
    let Some((_, rest)) = url.split_once("://") else {
        return "";
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority.rsplit('@').next().unwrap_or(authority)
}

/// The path of a URL or request target, without query or fragment ("/" when empty).
pub(crate) fn url_path(url: &str) -> &str {
    let rest = match url.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => &rest[i..],
            None => "",
        },
        None => url,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let path = &rest[..end];
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

/// The endpoint of a request.
pub(crate) fn endpoint_of(host: Option<&str>, method: Option<&str>, url: &str) -> Endpoint {
    let path = url_path(url);
    let segments: Vec<String> = path_segments(path)
        .map(|s| fold_segment(s).map_or_else(|| s.to_owned(), str::to_owned))
        .collect();
    Endpoint {
        host: request_host(host, url),
        method: method.unwrap_or("?").to_ascii_uppercase(),
        path: format!("/{}", segments.join("/")),
    }
}

/// The segments of a path as the decode stage numbers them (`path:0` is the first after the
/// leading `/`; empty segments count).
pub(crate) fn path_segments(path: &str) -> impl Iterator<Item = &str> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

/// Whether path segment `index` of `url` is folded in the endpoint's template (and so is a field).
pub(crate) fn segment_is_folded(url: &str, index: usize) -> bool {
    path_segments(url_path(url))
        .nth(index)
        .is_some_and(|s| fold_segment(s).is_some())
}

/// The placeholder a path segment is folded into, if it is a number, a UUID, a hex string of at
/// least 8 digits with a decimal digit, or a token (at least 16 letters, digits, `_`, `-`, `=`,
/// with both a letter and a digit).
pub(crate) fn fold_segment(segment: &str) -> Option<&'static str> {
    let b = segment.as_bytes();
    if b.is_empty() {
        return None;
    }
    if b.iter().all(u8::is_ascii_digit) {
        return Some("{n}");
    }
    if is_uuid(segment) {
        return Some("{uuid}");
    }
    let has_digit = b.iter().any(u8::is_ascii_digit);
    if b.len() >= 8 && has_digit && b.iter().all(u8::is_ascii_hexdigit) {
        return Some("{hex}");
    }
    if b.len() >= 16
        && has_digit
        && b.iter().any(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'='))
    {
        return Some("{token}");
    }
    None
}

/// `8-4-4-4-12` hex digits.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_fold_ids_in_paths() {
        let e = endpoint_of(
            Some("API.Example.com:8080"),
            Some("get"),
            "http://api.example.com:8080/v2/device/356938035643809/ping?x=1",
        );
        assert_eq!(e.host, "api.example.com");
        assert_eq!(e.method, "GET");
        assert_eq!(e.path, "/v2/device/{n}/ping");
        let e = endpoint_of(
            None,
            Some("POST"),
            "https://h.example/u/9774d56d682e549c/38400000-8cf0-11bd-b23e-10b96e40000d/aB3dE5gH7jK9mN1pQ",
        );
        assert_eq!(e.host, "h.example");
        assert_eq!(e.path, "/u/{hex}/{uuid}/{token}");
        // Words, versions and file names stay.
        let e = endpoint_of(Some("h"), Some("GET"), "/c.gif");
        assert_eq!(e.path, "/c.gif");
        assert_eq!(
            endpoint_of(Some("h"), Some("GET"), "/v3/generate_204/deadbeef").path,
            "/v3/generate_204/deadbeef"
        );
        assert_eq!(endpoint_of(Some("h"), Some("GET"), "http://h").path, "/");
        assert!(segment_is_folded("/a/12/b", 1));
        assert!(!segment_is_folded("/a/12/b", 0));
    }

    #[test]
    fn field_paths_keep_selectors_only() {
        let chain: Vec<String> = ["form:p", "base64", "json:$.sn"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let f = FieldPath::from_chain("body", &chain);
        assert_eq!(f.steps, vec!["form:p", "json:$.sn"]);
        assert_eq!(f.to_string(), "body › form:p › json:$.sn");
        let f = FieldPath::from_chain("header:X-Device-Id", &[]);
        assert_eq!(f.location, "header:x-device-id");
        let jwt: Vec<String> = ["jwt:payload", "json:$.sub"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            FieldPath::from_chain("header:Authorization", &jwt).steps,
            jwt
        );
    }
}
