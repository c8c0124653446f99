//! Destination attribution: who receives a message, and where.
//!
//! Stage `attribute` of the pipeline (`… → detect → attribute → report`). It sees only a host name
//! (with where the name came from) and a server address, never where a message came from, and
//! gives three answers that tools keep mixing up, each with its source, offline:
//!
//! - **who controls it**: the host's longest matching domain rule in the entity data
//!   ([`entity`], `data/entities.toml`, format in `docs/entities.md`) gives the organisation, its
//!   headquarters country (not its place of incorporation), its parent and the evidence; a shared
//!   hosting suffix (`cloudfront.net`) is not an organisation, and an unknown domain stays unknown;
//! - **where the server's address is registered**: the declared country of its IP block
//!   ([`ip`], registration data vendored in `data/ip/`: where the holder declares the block, not
//!   where the machine stands);
//! - **which network announces it**: the AS number and name.
//!
//! It also gives the registrable domain (Public Suffix List compiled into the `psl` crate:
//! `sdk.hiido.com` → `hiido.com`), whether the receiver is the device vendor's group (`party`),
//! and which countries are on the watch list.
//!
//! ```
//! use phonehome_attribute::Attributor;
//! use phonehome_model::NameSource;
//! let a = Attributor::new();
//! let d = a.destination(Some(("Log.TBS.qq.com.", NameSource::Http)), "8.8.8.8".parse().ok());
//! assert_eq!(d.domain.as_deref(), Some("qq.com"));
//! assert_eq!(d.org.map(|o| o.id).as_deref(), Some("tencent"));
//! assert_eq!(d.org_country.as_deref(), Some("CN"));
//! assert_eq!((d.server_country.as_deref(), d.asn), (Some("US"), Some(15169)));
//! assert_eq!(a.destination(Some(("10.0.0.1:8080", NameSource::Http)), None).domain, None);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod entity;
pub mod ip;

use entity::EntityDb;
use ip::IpDatabase;
use phonehome_model::{Destination, NameSource, OrgRef, Party, Transport};
use std::net::IpAddr;
use std::sync::Arc;

/// Version of the `psl` crate whose Public Suffix List is compiled in (from Cargo.lock at build time).
pub const PSL_CRATE_VERSION: &str = env!("PHONEHOME_PSL_VERSION");

/// Attributes hosts and server addresses to destinations.
#[derive(Debug, Clone)]
pub struct Attributor {
    /// Entity data with `--entities` overlays; the compiled-in data when `None`.
    entities: Option<Arc<EntityDb>>,
    ip: &'static IpDatabase,
    /// The device vendor's entity id, for first or third party.
    vendor: Option<String>,
    /// Countries of concern (`--watch`), upper case.
    watch: Vec<String>,
}

impl Default for Attributor {
    fn default() -> Self {
        Self::new()
    }
}

impl Attributor {
    /// An attributor using the data compiled in: entities, IP registration and AS data, and the
    /// Public Suffix List; no vendor, no watch list.
    pub fn new() -> Self {
        Self {
            entities: None,
            ip: IpDatabase::embedded(),
            vendor: None,
            watch: Vec::new(),
        }
    }

    /// The same, with `entities` (the built-in data with `--entities` overlays) instead.
    pub fn with_entities(mut self, entities: EntityDb) -> Self {
        self.entities = Some(Arc::new(entities));
        self
    }

    /// The same, saying whether receivers belong to `vendor` (an entity id).
    pub fn with_vendor(mut self, vendor: Option<String>) -> Self {
        self.vendor = vendor;
        self
    }

    /// The same, marking destinations in the countries `watch` (ISO 3166 alpha-2).
    pub fn with_watch(mut self, watch: Vec<String>) -> Self {
        self.watch = watch.into_iter().map(|c| c.to_ascii_uppercase()).collect();
        self
    }

    /// The entity data in use.
    pub fn entities(&self) -> &EntityDb {
        self.entities.as_deref().unwrap_or(EntityDb::embedded())
    }

    /// The countries of concern, upper case, in the order given.
    pub fn watch(&self) -> &[String] {
        &self.watch
    }

    /// The IP data in use.
    pub fn ip_data(&self) -> &IpDatabase {
        self.ip
    }

    /// What data attribution uses, as `(name, version or source)` pairs for the report summary.
    pub fn data_versions(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (
                "public_suffix_list".to_owned(),
                format!("psl crate {PSL_CRATE_VERSION}"),
            ),
            (
                "entities".to_owned(),
                format!(
                    "{} entities, {} domain rules",
                    self.entities().len(),
                    self.entities().domain_count()
                ),
            ),
            ("ip_country".to_owned(), self.ip.country_source().to_owned()),
            ("ip_asn".to_owned(), self.ip.asn_source().to_owned()),
            ("ip_data_date".to_owned(), self.ip.data_date().to_owned()),
        ];
        if let Some(e) = self.ip.load_error() {
            out.push(("ip_data_error".to_owned(), e.to_string()));
        }
        out
    }

    /// The destination of a message sent to `name` (as sent: may carry a port, a trailing dot,
    /// any case, or be an IP literal), learnt from `name.1`, at server address `server`.
    pub fn destination(
        &self,
        name: Option<(&str, NameSource)>,
        server: Option<IpAddr>,
    ) -> Destination {
        let host = name.and_then(|(n, _)| normalize_host(n));
        // A host written as an IP literal is the server address when none is known (HAR).
        let server = server.or_else(|| name.and_then(|(n, _)| ip_literal(n)));
        let mut d = Destination {
            domain: host.as_deref().and_then(registrable_domain),
            name_source: host.as_ref().and(name.map(|(_, s)| s)),
            server_ip: server.map(|ip| ip::canonical(ip).to_string()),
            ..Destination::default()
        };
        if let Some(m) = host.as_deref().and_then(|h| self.entities().lookup(h)) {
            d.org = Some(OrgRef {
                id: m.id.to_owned(),
                name: m.name.to_owned(),
            });
            d.org_country = Some(m.country.to_owned());
            d.incorporated = m.incorporated.map(str::to_owned);
            if let Some(p) = &m.parent {
                d.parent = Some(OrgRef {
                    id: p.id.to_owned(),
                    name: p.name.to_owned(),
                });
                d.parent_country = Some(p.country.to_owned());
            }
            d.org_rule = Some(m.rule.to_owned());
            d.org_evidence = m
                .rule_sources
                .iter()
                .chain(m.sources.iter())
                .cloned()
                .collect();
            d.party = self.vendor.as_deref().map(|v| {
                if self.entities().is_same_party(v, m.id) {
                    Party::First
                } else {
                    Party::Third
                }
            });
        }
        if let Some(ip) = server {
            let info = self.ip.lookup(ip);
            if let Some(c) = info.country {
                d.server_country = Some(c.to_owned());
                d.server_country_source = Some(self.ip.country_source().to_owned());
            }
            d.asn = info.asn;
            d.asn_org = info.asn_org.map(str::to_owned);
        }
        d.name = host;
        d
    }

    /// Which of the destination's countries (`org_country`, `parent_country`,
    /// `server_country`) are watched.
    pub fn watched(&self, d: &Destination) -> Vec<String> {
        let listed = |c: &Option<String>| {
            c.as_deref()
                .is_some_and(|c| self.watch.iter().any(|w| w.eq_ignore_ascii_case(c)))
        };
        [
            ("org_country", &d.org_country),
            ("parent_country", &d.parent_country),
            ("server_country", &d.server_country),
        ]
        .into_iter()
        .filter(|(_, c)| listed(c))
        .map(|(field, _)| field.to_owned())
        .collect()
    }
}

/// The name a message's destination is attributed by, and where it came from: the host the client
/// named (HTTP `Host`/`:authority`, a DNS query's name when `url` is `dns:…`, an unparsed
/// stream's flow name), else the TLS server name, else a DNS answer for the server's address.
pub fn destination_name<'a>(
    host: Option<&'a str>,
    url: &str,
    t: &'a Transport,
) -> Option<(&'a str, NameSource)> {
    if let Some(host) = host.filter(|h| !h.is_empty()) {
        let source = if t.http.is_some() {
            NameSource::Http
        } else if url.starts_with("dns:") {
            NameSource::DnsQuery
        } else if t.sni.as_deref() == Some(host) {
            NameSource::Sni
        } else if t.dns_name.as_deref() == Some(host) {
            NameSource::Dns
        } else {
            NameSource::Http
        };
        return Some((host, source));
    }
    if let Some(sni) = t.sni.as_deref() {
        return Some((sni, NameSource::Sni));
    }
    t.dns_name.as_deref().map(|n| (n, NameSource::Dns))
}

/// The IP address a host written as an IP literal names (`192.0.2.7:8080`, `[2001:db8::1]:443`).
fn ip_literal(host: &str) -> Option<IpAddr> {
    bare_host(host).parse().ok()
}

/// A host as sent without surrounding spaces, brackets, a port and trailing dots (`[v6]:443` →
/// `v6`, `host:8080` → `host`); a bare IPv6 address (several colons) is left whole.
fn bare_host(host: &str) -> &str {
    let host = host.trim();
    let bare = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    bare.trim_end_matches('.')
}

/// Strips a port and brackets from a host as sent and lower-cases it; `None` for an IP literal or
/// an empty host.
pub fn normalize_host(host: &str) -> Option<String> {
    let bare = bare_host(host).to_ascii_lowercase();
    if bare.is_empty() || bare.parse::<IpAddr>().is_ok() {
        return None;
    }
    Some(bare)
}

/// Bytes allowed in host names and domain rules (after lower-casing).
pub(crate) fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
}

/// [`normalize_host`], and `None` also for names with bytes outside `a-z 0-9 - _ .` (control
/// characters, spaces, non-ASCII): such a name has no registrable domain and no organisation.
pub(crate) fn domain_name(host: &str) -> Option<String> {
    normalize_host(host).filter(|name| name.bytes().all(is_domain_byte))
}

/// The registrable domain (public suffix plus one label) of a host, from the Public Suffix List.
/// `None` for IP literals, bare suffixes (`co.uk`) and names with no known suffix.
pub fn registrable_domain(host: &str) -> Option<String> {
    let name = domain_name(host)?;
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

    fn http(host: &str) -> Option<(&str, NameSource)> {
        Some((host, NameSource::Http))
    }

    #[test]
    fn organisation_server_country_and_network_are_kept_apart() {
        let a = Attributor::new();
        // A Xiaomi name on an Alibaba Cloud address in Singapore: Chinese organisation,
        // Singapore server, Alibaba's network.
        let d = a.destination(http("api.ad.intl.xiaomi.com"), "161.117.97.1".parse().ok());
        assert_eq!(d.org.as_ref().map(|o| o.id.as_str()), Some("xiaomi"));
        assert_eq!(d.org_country.as_deref(), Some("CN"));
        assert_eq!(d.incorporated.as_deref(), Some("KY"));
        assert_eq!(d.server_country.as_deref(), Some("SG"));
        assert_eq!(d.asn, Some(45102));
        assert!(d
            .server_country_source
            .as_deref()
            .is_some_and(|s| s.contains("geo-whois")));
        assert_eq!(
            (d.name.as_deref(), d.name_source),
            (Some("api.ad.intl.xiaomi.com"), Some(NameSource::Http))
        );
        assert_eq!(d.org_rule.as_deref(), Some("xiaomi.com"));
        assert!(!d.org_evidence.is_empty());
        // A Google name on a China Mobile address: US organisation, Chinese server.
        let d = a.destination(http("www.google.com"), "111.13.100.91".parse().ok());
        assert_eq!(
            (d.org_country.as_deref(), d.server_country.as_deref()),
            (Some("US"), Some("CN"))
        );
        assert_eq!(d.asn, Some(9808));
        // OnePlus: its parent and the parent's country.
        let d = a.destination(http("cloud.oneplus.net:443"), None);
        assert_eq!(d.parent.as_ref().map(|p| p.id.as_str()), Some("oppo"));
        assert_eq!(
            (d.org_country.as_deref(), d.parent_country.as_deref()),
            (Some("CN"), Some("CN"))
        );
        assert!(d.server_country.is_none() && d.asn.is_none() && d.server_ip.is_none());
    }

    #[test]
    fn unknown_and_private_stay_unknown() {
        let a = Attributor::new();
        let d = a.destination(http("sdk.unknown-vendor.example"), "10.0.0.1".parse().ok());
        assert!(d.org.is_none() && d.org_country.is_none() && d.party.is_none());
        assert!(d.server_country.is_none() && d.asn.is_none() && d.asn_org.is_none());
        assert_eq!(d.server_ip.as_deref(), Some("10.0.0.1"));
        let d = a.destination(http("d1.cloudfront.net"), None);
        assert!(d.org.is_none(), "{d:?}");
        let d = a.destination(None, None);
        assert_eq!(d, Destination::default());
    }

    #[test]
    fn ip_literal_hosts_are_the_server() {
        let a = Attributor::new();
        for host in ["8.8.8.8", "8.8.8.8:8080", "[2001:4860:4860::8888]:443"] {
            let d = a.destination(http(host), None);
            assert_eq!((d.domain.as_deref(), d.asn), (None, Some(15169)), "{host}");
            assert!(d.name.is_none(), "{host}");
        }
    }

    #[test]
    fn party_and_watch() {
        let a = Attributor::new()
            .with_vendor(Some("oneplus".into()))
            .with_watch(vec!["cn".into(), "RU".into()]);
        let d = a.destination(http("api.push.oppomobile.com"), "8.8.8.8".parse().ok());
        assert_eq!(d.party, Some(Party::First));
        assert_eq!(a.watched(&d), ["org_country"]);
        let d = a.destination(http("dm.wo.com.cn"), "111.13.100.91".parse().ok());
        assert_eq!(d.party, Some(Party::Third));
        assert_eq!(a.watched(&d), ["org_country", "server_country"]);
        let d = a.destination(http("www.google.com"), "77.88.8.8".parse().ok());
        assert_eq!(
            (d.party, a.watched(&d)),
            (Some(Party::Third), vec!["server_country".to_owned()])
        );
        let d = a.destination(http("www.google.com"), "8.8.8.8".parse().ok());
        assert!(a.watched(&d).is_empty());
        // No vendor: no party; no watch list: nothing watched.
        let d = Attributor::new().destination(http("dm.wo.com.cn"), None);
        assert!(d.party.is_none() && Attributor::new().watched(&d).is_empty());
    }
}
