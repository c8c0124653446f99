//! Where data sits in a request: the URL (path segments, query string), cookies, and how the
//! Content-Type says to read the body.

use crate::form;

/// A URL split into the parts that are decoded separately.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// Path segments with their 0-based index (empty segments are skipped, but still counted).
    pub(crate) segments: Vec<(usize, &'a str)>,
    /// The query string, without `?` and without any fragment.
    pub(crate) query: &'a str,
}

/// Splits an absolute URL (`https://host/a/b?q`) or an origin-form target (`/a/b?q`).
pub(crate) fn split_url(url: &str) -> UrlParts<'_> {
    let without_fragment = url.split_once('#').map_or(url, |(before, _)| before);
    let (before_query, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let path = match before_query.find("://") {
        Some(scheme_end) => {
            let after_scheme = before_query.get(scheme_end + 3..).unwrap_or("");
            after_scheme
                .find('/')
                .and_then(|slash| after_scheme.get(slash..))
                .unwrap_or("")
        }
        None => before_query,
    };
    let path = path.strip_prefix('/').unwrap_or(path);
    let segments = if path.is_empty() {
        Vec::new()
    } else {
        path.split('/')
            .enumerate()
            .filter(|(_, s)| !s.is_empty())
            .collect()
    };
    UrlParts { segments, query }
}

/// The `name=value` pairs of a Cookie header value (RFC 6265 §5.4), values unquoted. A pair without
/// `=` is returned with an empty name.
pub(crate) fn cookies(value: &[u8]) -> impl Iterator<Item = (String, &[u8])> {
    value.split(|&b| b == b';').filter_map(|pair| {
        let pair = pair.trim_ascii();
        if pair.is_empty() {
            return None;
        }
        let (name, value) = match memchr::memchr(b'=', pair) {
            Some(eq) => {
                let (name, rest) = pair.split_at(eq);
                (
                    name.trim_ascii(),
                    rest.get(1..).unwrap_or_default().trim_ascii(),
                )
            }
            None => (&b""[..], pair),
        };
        let value = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(value);
        Some((String::from_utf8_lossy(name).into_owned(), value))
    })
}

/// How a body is to be read first, from its Content-Type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `application/json`, `*/*+json`, `text/json`.
    Json,
    /// `multipart/form-data` (or any `multipart/*`) with this boundary.
    Multipart(String),
    /// `application/x-protobuf`, `application/protobuf`, `application/x-google-protobuf`,
    /// `application/vnd.google.protobuf`: one protobuf message.
    Protobuf,
    /// `application/grpc`, `application/grpc+proto`, `application/grpc-web`,
    /// `application/grpc-web+proto` (and other `application/grpc*` but `grpc-web-text`, which is
    /// base64): gRPC frames.
    Grpc,
    /// No or another Content-Type: guess.
    Unknown,
}

/// The [`BodyFormat`] for a Content-Type header value.
pub(crate) fn body_format(content_type: Option<&str>) -> BodyFormat {
    let Some(content_type) = content_type else {
        return BodyFormat::Unknown;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/x-www-form-urlencoded" {
        BodyFormat::Form
    } else if essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
    {
        BodyFormat::Json
    } else if matches!(
        essence.as_str(),
        "application/x-protobuf"
            | "application/protobuf"
            | "application/x-google-protobuf"
            | "application/vnd.google.protobuf"
    ) {
        BodyFormat::Protobuf
    } else if essence.starts_with("application/grpc")
        && !essence.starts_with("application/grpc-web-text")
    {
        BodyFormat::Grpc
    } else if essence.starts_with("multipart/") {
        form::multipart_boundary(content_type).map_or(BodyFormat::Unknown, |b| {
            BodyFormat::Multipart(b.to_string())
        })
    } else {
        BodyFormat::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts() {
        let p = split_url("https://h.example/v1//ad/?gaid=x&lang=en#frag");
        assert_eq!(p.segments, vec![(0, "v1"), (2, "ad")]);
        assert_eq!(p.query, "gaid=x&lang=en");
        let p = split_url("/c.gif?imei_md5=af");
        assert_eq!(p.segments, vec![(0, "c.gif")]);
        assert_eq!(p.query, "imei_md5=af");
        let p = split_url("https://host.only");
        assert!(p.segments.is_empty());
        assert_eq!(p.query, "");
        let p = split_url("");
        assert!(p.segments.is_empty());
        let p = split_url("*");
        assert_eq!(p.segments, vec![(0, "*")]);
    }

    #[test]
    fn cookie_pairs() {
        let got: Vec<_> = cookies(b"a=1; b=\"two\" ;;  lone ; c=x=y").collect();
        assert_eq!(
            got,
            vec![
                ("a".to_string(), &b"1"[..]),
                ("b".to_string(), &b"two"[..]),
                (String::new(), &b"lone"[..]),
                ("c".to_string(), &b"x=y"[..])
            ]
        );
        assert_eq!(cookies(b"").count(), 0);
        assert_eq!(cookies(b"\xff=\xfe").next().unwrap().1, b"\xfe");
    }

    #[test]
    fn formats() {
        assert_eq!(
            body_format(Some("application/x-www-form-urlencoded; charset=UTF-8")),
            BodyFormat::Form
        );
        assert_eq!(body_format(Some("Application/JSON")), BodyFormat::Json);
        assert_eq!(
            body_format(Some("application/vnd.api+json")),
            BodyFormat::Json
        );
        assert_eq!(
            body_format(Some("multipart/form-data; boundary=abc")),
            BodyFormat::Multipart("abc".into())
        );
        assert_eq!(
            body_format(Some("multipart/form-data")),
            BodyFormat::Unknown
        );
        assert_eq!(body_format(Some("text/plain")), BodyFormat::Unknown);
        assert_eq!(
            body_format(Some("application/x-protobuf; messageType=x")),
            BodyFormat::Protobuf
        );
        assert_eq!(body_format(Some("application/grpc")), BodyFormat::Grpc);
        assert_eq!(
            body_format(Some("application/grpc-web+proto")),
            BodyFormat::Grpc
        );
        assert_eq!(
            body_format(Some("application/grpc-web-text")),
            BodyFormat::Unknown
        );
        assert_eq!(body_format(None), BodyFormat::Unknown);
    }
}
