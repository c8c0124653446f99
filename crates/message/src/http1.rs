//! HTTP/1.1 and HTTP/2 exchanges reassembled from captures → [`Message`].
//!
//! Both protocols come out of `phonehome-http` as the same `HttpRequest`/`HttpResponse`. HTTP/2
//! sends its request line as pseudo-headers (`:method`, `:scheme`, `:authority`, `:path`): the
//! host is taken from `:authority` (else `Host`), and pseudo-headers are not kept as headers, since
//! the message's method, target and host already say what they said.

use crate::{request_url, ConnContext};
use phonehome_http::{HttpRequest, HttpResponse};
use phonehome_model::{Direction, Header, Message, SourceRef, Timestamp};

/// The host the client named: `:authority` (HTTP/2), else the `Host` header, trimmed.
fn host_of(headers: &[Header]) -> Option<String> {
    let find = |name: &str| {
        headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(&h.value).trim().to_owned())
            .filter(|h| !h.is_empty())
    };
    find(":authority").or_else(|| find("host"))
}

/// `http://…` or `https://…` (any case): the absolute form of a request-target.
fn is_absolute_form(target: &str) -> bool {
    let head = target.get(..8).unwrap_or(target).to_ascii_lowercase();
    head.starts_with("http://") || head.starts_with("https://")
}

/// The `:scheme` pseudo-header of an HTTP/2 request, when sent.
fn scheme_of(headers: &[Header]) -> Option<String> {
    headers.iter().find(|h| h.name == ":scheme").map(|h| {
        String::from_utf8_lossy(&h.value)
            .trim()
            .to_ascii_lowercase()
    })
}

/// Header fields as they are on the wire for HTTP/1.1: pseudo-headers dropped.
fn regular_headers(headers: Vec<Header>) -> Vec<Header> {
    headers
        .into_iter()
        .filter(|h| !h.name.starts_with(':'))
        .collect()
}

/// The message for a request read from a capture (HTTP/1.x or HTTP/2); `time` and `frame` are
/// those of the packet that completed it.
pub fn from_http_request(
    ctx: &ConnContext,
    req: HttpRequest,
    time: Timestamp,
    frame: u64,
) -> Message {
    let absolute = is_absolute_form(&req.line.target);
    // RFC 9112 §3.2.2: with an absolute-form target (a proxy request) its authority is the host.
    let host = if absolute {
        crate::url_authority(&req.line.target).map(str::to_owned)
    } else {
        host_of(&req.headers)
    };
    let mut url = request_url(ctx, &req.line.target, host.as_deref());
    if let Some(scheme) =
        scheme_of(&req.headers).filter(|s| !absolute && (s == "http" || s == "https"))
    {
        if let Some((_, rest)) = url.split_once("://") {
            url = format!("{scheme}://{rest}");
        }
    }
    let host = host.or_else(|| crate::url_authority(&url).map(str::to_owned));
    Message {
        time: Some(time),
        source: SourceRef::frame(ctx.file.clone(), frame),
        direction: Direction::Request,
        transport: ctx.transport(Some(&req.line.version)),
        method: Some(req.line.method),
        url,
        target: req.line.target,
        host,
        status: None,
        headers: regular_headers(req.headers),
        body: req.body,
    }
}

/// The message for a response read from a capture; `time` and `frame` are those of the packet that
/// completed it. Method and URL are those of the request it answers, when that was seen; `host` is
/// the host the client named on this connection, when known.
pub fn from_http_response(
    ctx: &ConnContext,
    resp: HttpResponse,
    host: Option<String>,
    time: Timestamp,
    frame: u64,
) -> Message {
    let (method, target, url, host) = match &resp.request {
        Some(line) => {
            let url = request_url(ctx, &line.target, host.as_deref());
            (Some(line.method.clone()), line.target.clone(), url, host)
        }
        None => (
            None,
            String::new(),
            request_url(ctx, "/", host.as_deref()),
            host,
        ),
    };
    Message {
        time: Some(time),
        source: SourceRef::frame(ctx.file.clone(), frame),
        direction: Direction::Response,
        transport: ctx.transport(Some(&resp.version)),
        method,
        url,
        target,
        host,
        status: Some(resp.status),
        headers: regular_headers(resp.headers),
        body: resp.body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_http::RequestLine;
    use phonehome_model::Body;

    fn request(version: &str, target: &str, headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            line: RequestLine {
                method: "GET".into(),
                target: target.into(),
                version: version.into(),
            },
            headers: headers
                .iter()
                .map(|(n, v)| Header::new(*n, v.as_bytes().to_vec()))
                .collect(),
            body: Body::default(),
            content_problem: None,
            first_frame: 1,
            last_frame: 2,
        }
    }

    #[test]
    fn http2_requests_take_host_and_scheme_from_pseudo_headers() {
        let mut ctx = ConnContext::new("c.pcap".into(), None, "203.0.113.7:443".parse().ok());
        ctx.tls = Some("1.3".into());
        let req = request(
            "2",
            "/track?x=1",
            &[
                (":method", "GET"),
                (":scheme", "https"),
                (":authority", "tracking.intl.miui.com"),
                (":path", "/track?x=1"),
                ("user-agent", "ua"),
            ],
        );
        let msg = from_http_request(&ctx, req, Timestamp::default(), 9);
        assert_eq!(msg.url, "https://tracking.intl.miui.com/track?x=1");
        assert_eq!(msg.host.as_deref(), Some("tracking.intl.miui.com"));
        assert_eq!(msg.transport.http.as_deref(), Some("2"));
        assert_eq!(
            msg.headers.len(),
            1,
            "pseudo-headers are not headers: {:?}",
            msg.headers
        );
        assert_eq!(msg.source.frame, Some(9));
    }

    #[test]
    fn http1_requests_use_the_host_header_or_the_server() {
        let ctx = ConnContext::new("c.pcap".into(), None, "203.0.113.7:8080".parse().ok());
        let msg = from_http_request(
            &ctx,
            request("1.1", "/a", &[("Host", "h.example")]),
            Timestamp::default(),
            3,
        );
        assert_eq!(msg.url, "http://h.example/a");
        let msg = from_http_request(&ctx, request("1.1", "/a", &[]), Timestamp::default(), 3);
        assert_eq!(msg.url, "http://203.0.113.7:8080/a");
        assert_eq!(msg.host.as_deref(), Some("203.0.113.7:8080"));
    }

    #[test]
    fn proxy_requests_take_the_host_from_the_absolute_target() {
        let ctx = ConnContext::new("c.pcap".into(), None, "192.0.2.1:3128".parse().ok());
        let req = request(
            "1.1",
            "http://sdk.hiido.com/c.gif?x=1",
            &[("Host", "proxy.example")],
        );
        let msg = from_http_request(&ctx, req, Timestamp::default(), 3);
        assert_eq!(msg.url, "http://sdk.hiido.com/c.gif?x=1");
        assert_eq!(msg.host.as_deref(), Some("sdk.hiido.com"));
    }
}
