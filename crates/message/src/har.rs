//! HAR 1.2 entries → [`Message`]s (a request and, when present, its response).
//!
//! HAR exporters (browsers, HTTP Toolkit, Charles, mitmproxy, Insomnia) write bodies as text,
//! usually already content-decoded, sometimes base64 (`"encoding": "base64"`). Pseudo-headers
//! (`:authority`, `:path`…) that HTTP/2 exporters include are not headers on the wire: `:authority`
//! becomes the host and the rest are dropped. When an exporter lists cookies only in `cookies`, they
//! are put back into a `Cookie` header so that later stages find them where a capture has them.

use crate::{normalize_http_version, url_authority};
use base64::Engine as _;
use phonehome_ingest::{HarEntry, HarParam, HarPostData};
use phonehome_model::{Body, Direction, Header, Message, SourceRef, Timestamp, Transport};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The messages of one HAR entry: its request, then its response when the entry has one with a
/// status (HAR writes `status: 0` for requests that got no answer). Bodies longer than `max_body`
/// bytes are cut there and marked truncated, as bodies read from captures are.
pub fn from_har_entry(file: Arc<str>, entry: HarEntry, max_body: usize) -> Vec<Message> {
    let source = SourceRef::entry(file, entry.index);
    let time = entry.started.as_deref().and_then(Timestamp::parse_rfc3339);
    let req = entry.request;
    let url = req.url.trim().to_owned();
    let scheme_port = if url
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("https:"))
    {
        443
    } else {
        80
    };
    let server = entry.server_ip.as_deref().and_then(|ip| {
        let ip: IpAddr = ip
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?;
        let port = url_authority(&url)
            .and_then(|a| a.rsplit_once(':'))
            .filter(|(h, _)| !h.ends_with(':') || h.starts_with('['))
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(scheme_port);
        Some(SocketAddr::new(ip, port))
    });
    let authority = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(":authority") || n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let host = authority.or_else(|| url_authority(&url).map(str::to_owned));
    let transport = Transport {
        client: None,
        server,
        tls: None,
        http: normalize_http_version(&req.http_version),
        sni: None,
        dns_name: None,
    };
    let target = target_of(&url);
    let mut headers = wire_headers(&req.headers);
    if !req.cookies.is_empty()
        && !headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("cookie"))
    {
        let joined: Vec<String> = req
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        headers.push(Header::new("Cookie", joined.join("; ")));
    }
    let body = capped(
        req.post_data.as_ref().map(post_body).unwrap_or_default(),
        max_body,
    );
    let request = Message {
        time,
        source: source.clone(),
        direction: Direction::Request,
        transport: transport.clone(),
        method: Some(req.method.clone()),
        url: url.clone(),
        target: target.clone(),
        host: host.clone(),
        status: None,
        headers,
        body,
    };
    let mut out = vec![request];
    if let Some(resp) = entry.response.filter(|r| r.status > 0) {
        let body = decode_text(
            resp.content.text.as_deref(),
            resp.content.encoding.as_deref(),
        );
        out.push(Message {
            time,
            source,
            direction: Direction::Response,
            transport: Transport {
                http: normalize_http_version(&resp.http_version).or(transport.http.clone()),
                ..transport
            },
            method: Some(req.method),
            url,
            target,
            host,
            status: u16::try_from(resp.status).ok(),
            headers: wire_headers(&resp.headers),
            body: capped(Body::plain(body), max_body),
        });
    }
    out
}

/// `body` cut to `max_body` bytes (and marked truncated) when longer.
fn capped(mut body: Body, max_body: usize) -> Body {
    if body.raw.len() > max_body {
        body.raw.truncate(max_body);
        body.raw.shrink_to_fit();
        body.truncated = true;
    }
    body
}

/// Headers as they travel on the wire: HTTP/2 pseudo-headers dropped.
fn wire_headers(headers: &[(String, String)]) -> Vec<Header> {
    headers
        .iter()
        .filter(|(n, _)| !n.starts_with(':'))
        .map(|(n, v)| Header::new(n.clone(), v.clone().into_bytes()))
        .collect()
}

/// The request-target (origin-form) of an absolute URL: path and query, `/` when empty.
fn target_of(url: &str) -> String {
    let Some((_, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let start = rest.find(['/', '?']).unwrap_or(rest.len());
    let path = rest[start..].split('#').next().unwrap_or("");
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

/// The request body of a HAR `postData`: its text (base64-decoded when so marked), else its
/// `params` re-encoded as an `application/x-www-form-urlencoded` body.
fn post_body(post: &HarPostData) -> Body {
    if post.text.as_deref().is_some_and(|t| !t.is_empty()) || post.params.is_empty() {
        return Body::plain(decode_text(post.text.as_deref(), post.encoding.as_deref()));
    }
    let pairs: Vec<String> = post.params.iter().map(form_pair).collect();
    Body::plain(pairs.join("&").into_bytes())
}

fn form_pair(p: &HarParam) -> String {
    format!(
        "{}={}",
        form_escape(&p.name),
        form_escape(p.value.as_deref().unwrap_or(""))
    )
}

/// `application/x-www-form-urlencoded` escaping (WHATWG URL standard).
fn form_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// HAR text, base64-decoded when `encoding` says so (falling back to the text itself when it is
/// not valid base64).
fn decode_text(text: Option<&str>, encoding: Option<&str>) -> Vec<u8> {
    let text = text.unwrap_or("");
    if encoding.is_some_and(|e| e.trim().eq_ignore_ascii_case("base64")) {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
            return bytes;
        }
    }
    text.as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_from_urls() {
        assert_eq!(target_of("https://h.example/a/b?c=d#frag"), "/a/b?c=d");
        assert_eq!(target_of("https://h.example"), "/");
        assert_eq!(target_of("https://h.example?x=1"), "/?x=1");
        assert_eq!(target_of("garbage"), "garbage");
    }

    #[test]
    fn form_escaping_matches_browsers() {
        assert_eq!(form_escape("Dinner at 8?"), "Dinner+at+8%3F");
        assert_eq!(form_escape("a&b=c"), "a%26b%3Dc");
    }

    #[test]
    fn long_bodies_are_capped_and_marked() {
        let b = capped(Body::plain(vec![b'x'; 100]), 10);
        assert_eq!(b.raw.len(), 10);
        assert!(b.truncated);
        let b = capped(Body::plain(vec![b'x'; 10]), 10);
        assert!(!b.truncated);
    }

    #[test]
    fn base64_bodies_are_decoded() {
        assert_eq!(decode_text(Some("aGVs\nbG8="), Some("base64")), b"hello");
        assert_eq!(
            decode_text(Some("not base64!"), Some("base64")),
            b"not base64!"
        );
        assert_eq!(decode_text(Some("plain"), None), b"plain");
        assert_eq!(decode_text(None, None), b"");
    }
}
