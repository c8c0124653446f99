//! Builds phonehome's source-agnostic [`Message`] from protocol events and HAR entries.
//!
//! Stage `message` of the pipeline (`ingest → flow → protocol → message → decode → …`). This is
//! the last crate that knows where traffic came from: it turns an HTTP/1.1 or HTTP/2 exchange reassembled from
//! a capture ([`from_http_request`], [`from_http_response`]) or an entry of a HAR file
//! ([`from_har_entry`]) into the same [`Message`] type. Every later stage sees only `Message`.
//!
//! URL reconstruction follows RFC 9112 §3.3: an absolute-form target is the URL; otherwise the URL
//! is `scheme://authority` + target, the authority being the Host header as sent, else the server
//! address. The scheme is `https` when the connection was TLS.
//!
//! ```
//! use phonehome_message::{ConnContext, request_url};
//! let ctx = ConnContext::new("c.pcap".into(), "10.0.0.2:5000".parse().ok(), "203.0.113.7:80".parse().ok());
//! assert_eq!(request_url(&ctx, "/c.gif?x=1", Some("sdk.hiido.com")), "http://sdk.hiido.com/c.gif?x=1");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod har;
mod http1;

pub use har::from_har_entry;
pub use http1::{from_http_request, from_http_response};

use phonehome_model::Transport;
use std::net::SocketAddr;
use std::sync::Arc;

/// What is known about the connection a message travelled on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnContext {
    /// The input file, as named on the command line.
    pub file: Arc<str>,
    /// Client address.
    pub client: Option<SocketAddr>,
    /// Server address.
    pub server: Option<SocketAddr>,
    /// TLS version when the connection was TLS (decrypted).
    pub tls: Option<String>,
    /// TLS SNI when seen.
    pub sni: Option<String>,
    /// The name a DNS answer earlier in the capture gave the server's address, when any.
    pub dns_name: Option<String>,
}

impl ConnContext {
    /// A plaintext connection between `client` and `server` read from `file`.
    pub fn new(file: Arc<str>, client: Option<SocketAddr>, server: Option<SocketAddr>) -> Self {
        Self {
            file,
            client,
            server,
            tls: None,
            sni: None,
            dns_name: None,
        }
    }

    /// The transport of a message on this connection, with its HTTP version as written (`HTTP/1.1`,
    /// `2`…; `None` for DNS and unparsed streams).
    pub fn transport(&self, http_version: Option<&str>) -> Transport {
        Transport {
            client: self.client,
            server: self.server,
            tls: self.tls.clone(),
            http: http_version.and_then(normalize_http_version),
            sni: self.sni.clone(),
            dns_name: self.dns_name.clone(),
        }
    }

    fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The server as an authority (`203.0.113.7:8080`, `[2001:db8::1]`), the port left out when it is
    /// the scheme's default.
    fn server_authority(&self) -> Option<String> {
        let server = self.server?;
        let default = if self.tls.is_some() { 443 } else { 80 };
        let ip = match server.ip() {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        };
        Some(if server.port() == default {
            ip
        } else {
            format!("{ip}:{}", server.port())
        })
    }
}

/// The absolute URL of a request with request-target `target` and Host header `host` (as sent).
pub fn request_url(ctx: &ConnContext, target: &str, host: Option<&str>) -> String {
    let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return target.to_owned();
    }
    let authority = host
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .or_else(|| ctx.server_authority())
        .unwrap_or_default();
    let scheme = ctx.scheme();
    if target.starts_with('/') {
        format!("{scheme}://{authority}{target}")
    } else {
        // asterisk-form (`OPTIONS *`), authority-form (`CONNECT host:443`) and malformed targets:
        // the URL is the authority; the target stays in `Message::target`.
        format!("{scheme}://{authority}/")
    }
}

/// The host part of an absolute URL (`https://user@Host:8443/x` → `Host:8443`), as written.
pub fn url_authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (!authority.is_empty()).then_some(authority)
}

/// Normalises an HTTP version as HAR exporters and request lines write it (`HTTP/1.1`, `h2`,
/// `http/2.0`, `HTTP/3`) to phonehome's form (`1.1`, `2`, `3`); unknown text is kept as written.
pub fn normalize_http_version(v: &str) -> Option<String> {
    let t = v.trim().to_ascii_lowercase();
    let t = t.strip_prefix("http/").unwrap_or(&t);
    let out = match t {
        "" | "unknown" => return None,
        "0.9" => "0.9",
        "1.0" => "1.0",
        "1.1" => "1.1",
        "2" | "2.0" | "h2" | "h2c" => "2",
        "3" | "3.0" | "h3" => "3",
        _ => return Some(v.trim().to_owned()),
    };
    Some(out.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(tls: bool, server: &str) -> ConnContext {
        let mut c = ConnContext::new("f".into(), None, server.parse().ok());
        if tls {
            c.tls = Some("1.3".into());
        }
        c
    }

    #[test]
    fn urls_from_targets() {
        let c = ctx(false, "203.0.113.7:80");
        assert_eq!(
            request_url(&c, "/a?b=c", Some("h.example")),
            "http://h.example/a?b=c"
        );
        assert_eq!(request_url(&c, "/a", None), "http://203.0.113.7/a");
        assert_eq!(
            request_url(&c, "HTTP://bro.org/", Some("bro.org")),
            "HTTP://bro.org/"
        );
        assert_eq!(request_url(&c, "*", Some("h.example")), "http://h.example/");
        assert_eq!(
            request_url(&c, "secure.newegg.com:443", Some("secure.newegg.com:443")),
            "http://secure.newegg.com:443/"
        );
        let c = ctx(false, "192.0.2.1:8000");
        assert_eq!(request_url(&c, "/", None), "http://192.0.2.1:8000/");
        let c = ctx(true, "[2001:db8::1]:443");
        assert_eq!(request_url(&c, "/x", None), "https://[2001:db8::1]/x");
    }

    #[test]
    fn authorities_and_versions() {
        assert_eq!(
            url_authority("https://u:p@Host.example:8443/x?y"),
            Some("Host.example:8443")
        );
        assert_eq!(url_authority("http://h.example"), Some("h.example"));
        assert_eq!(url_authority("not a url"), None);
        assert_eq!(normalize_http_version("HTTP/1.1").as_deref(), Some("1.1"));
        assert_eq!(normalize_http_version("h2").as_deref(), Some("2"));
        assert_eq!(normalize_http_version("http/2.0").as_deref(), Some("2"));
        assert_eq!(normalize_http_version("HTTP/3").as_deref(), Some("3"));
        assert_eq!(normalize_http_version(""), None);
        assert_eq!(normalize_http_version("SPDY/3").as_deref(), Some("SPDY/3"));
    }
}
