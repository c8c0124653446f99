//! Destination attribution: who receives a message.
//!
//! Stage `attribute` of the pipeline (`… → detect → attribute → report`). It sees only a host name
//! and a server address, never where a message came from. Today it fills
//! [`Destination::domain`] with the *registrable domain* of the host according to the Public Suffix
//! List compiled into the `psl` crate (`sdk.hiido.com` → `hiido.com`, `dm.wo.com.cn` → `wo.com.cn`).
//! Organisation, headquarters country, server country and AS number stay `None` until the attribution
//! issue adds data files for them; unknown is reported as unknown, never guessed.
//!
//! ```
//! use phonehome_attribute::Attributor;
//! let a = Attributor::new();
//! assert_eq!(a.destination(Some("Log.TBS.qq.com."), None).domain.as_deref(), Some("qq.com"));
//! assert_eq!(a.destination(Some("10.0.0.1:8080"), None).domain, None);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod entity;
pub mod ip;

use phonehome_model::Destination;
use std::net::{IpAddr, SocketAddr};

/// Version of the `psl` crate whose Public Suffix List is compiled in (from Cargo.lock at build time).
pub const PSL_CRATE_VERSION: &str = env!("PHONEHOME_PSL_VERSION");

/// Attributes hosts and server addresses to destinations.
#[derive(Debug, Default, Clone)]
pub struct Attributor {}

impl Attributor {
    /// An attributor using the compiled-in Public Suffix List.
    pub fn new() -> Self {
        Self {}
    }

    /// The destination of a message sent to `host` (as sent: may carry a port, a trailing dot, any
    /// case, or be an IP literal) at `server`.
    pub fn destination(&self, host: Option<&str>, _server: Option<SocketAddr>) -> Destination {
        Destination {
            domain: host.and_then(registrable_domain),
            ..Destination::default()
        }
    }
}

/// Strips a port and brackets from a host as sent and lower-cases it; `None` for an IP literal or
/// an empty host.
pub fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim();
    let bare = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    let bare = bare.trim_end_matches('.').to_ascii_lowercase();
    if bare.is_empty() || bare.parse::<IpAddr>().is_ok() {
        return None;
    }
    Some(bare)
}

/// The registrable domain (public suffix plus one label) of a host, from the Public Suffix List.
/// `None` for IP literals, bare suffixes (`co.uk`) and names with no known suffix.
pub fn registrable_domain(host: &str) -> Option<String> {
    let name = normalize_host(host)?;
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return None;
    }
    let domain = psl::domain(name.as_bytes())?;
    if !domain.suffix().is_known() {
        return None;
    }
    std::str::from_utf8(domain.as_bytes())
        .ok()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_follow_the_psl() {
        let cases = [
            ("sdk.hiido.com", Some("hiido.com")),
            ("dm.wo.com.cn", Some("wo.com.cn")),
            ("tracking.intl.miui.com", Some("miui.com")),
            ("WWW.Example.CO.UK.", Some("example.co.uk")),
            ("cloud.oneplus.net:443", Some("oneplus.net")),
            ("foo.appspot.com", Some("foo.appspot.com")),
            ("co.uk", None),
            ("192.0.2.7", None),
            ("192.0.2.7:8080", None),
            ("[2001:db8::1]:443", None),
            ("2001:db8::1", None),
            ("localhost", None),
            ("", None),
            ("bad host\u{1b}[31m.com", None),
        ];
        for (host, want) in cases {
            assert_eq!(registrable_domain(host).as_deref(), want, "{host}");
        }
    }

    #[test]
    fn other_destination_fields_stay_unknown() {
        let d = Attributor::new().destination(Some("sdk.hiido.com"), "203.0.113.7:80".parse().ok());
        assert_eq!(d.domain.as_deref(), Some("hiido.com"));
        assert!(d.org.is_none() && d.org_country.is_none() && d.server_country.is_none());
        assert!(d.asn.is_none() && d.asn_org.is_none());
    }
}
