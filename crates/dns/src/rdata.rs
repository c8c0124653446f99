//! Record data for the types phonehome reads: addresses, names, text and service bindings.

use crate::name::parse_name;
use crate::{be_u16, rtype, DnsError};
use std::net::{Ipv4Addr, Ipv6Addr};

/// The data of one resource record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    /// `A`: an IPv4 address.
    A(Ipv4Addr),
    /// `AAAA`: an IPv6 address.
    Aaaa(Ipv6Addr),
    /// `CNAME`: the canonical name.
    Cname(String),
    /// `PTR`: the name pointed to (reverse lookups, DNS-SD).
    Ptr(String),
    /// `NS`: a name server.
    Ns(String),
    /// `TXT`: the character-strings, raw.
    Txt(Vec<Vec<u8>>),
    /// `HTTPS` (type 65, RFC 9460).
    Https(Svcb),
    /// `SVCB` (type 64, RFC 9460).
    Svcb(Svcb),
    /// Any other type, as the raw RDATA (names inside are left compressed).
    Other(Vec<u8>),
}

/// The fields of an SVCB or HTTPS record (RFC 9460 §2.2) that say where a service is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Svcb {
    /// SvcPriority: 0 for alias mode, otherwise the preference (lower first).
    pub priority: u16,
    /// TargetName in presentation form; empty for the root (".", "this owner name").
    pub target: String,
    /// The `alpn` parameter (key 1): protocol ids such as `h2`, `h3`, lossily as UTF-8.
    pub alpn: Vec<String>,
    /// The `ipv4hint` parameter (key 4).
    pub ipv4hint: Vec<Ipv4Addr>,
    /// The `ipv6hint` parameter (key 6).
    pub ipv6hint: Vec<Ipv6Addr>,
}

/// SvcParamKey of `alpn`.
const SVC_KEY_ALPN: u16 = 1;
/// SvcParamKey of `ipv4hint`.
const SVC_KEY_IPV4HINT: u16 = 4;
/// SvcParamKey of `ipv6hint`.
const SVC_KEY_IPV6HINT: u16 = 6;

/// Reads the RDATA of type `rtype` at `msg[start..end]` (`end` already checked against `msg`).
pub(crate) fn parse_rdata(
    msg: &[u8],
    rtype: u16,
    start: usize,
    end: usize,
) -> Result<RData, DnsError> {
    let bad = DnsError::BadRdata { rtype, at: start };
    let raw = msg
        .get(start..end)
        .ok_or(DnsError::Truncated { at: start })?;
    match rtype {
        rtype::A => {
            let octets: [u8; 4] = raw.try_into().map_err(|_| bad)?;
            Ok(RData::A(Ipv4Addr::from(octets)))
        }
        rtype::AAAA => {
            let octets: [u8; 16] = raw.try_into().map_err(|_| bad)?;
            Ok(RData::Aaaa(Ipv6Addr::from(octets)))
        }
        rtype::CNAME | rtype::PTR | rtype::NS => {
            let name = name_within(msg, start, end, rtype)?.0;
            Ok(match rtype {
                rtype::CNAME => RData::Cname(name),
                rtype::PTR => RData::Ptr(name),
                _ => RData::Ns(name),
            })
        }
        rtype::TXT => parse_txt(raw).map(RData::Txt).ok_or(bad),
        rtype::SVCB => parse_svcb(msg, start, end, rtype).map(RData::Svcb),
        rtype::HTTPS => parse_svcb(msg, start, end, rtype).map(RData::Https),
        _ => Ok(RData::Other(raw.to_vec())),
    }
}

/// A name that starts at `start` and whose bytes in place end by `end`.
fn name_within(
    msg: &[u8],
    start: usize,
    end: usize,
    rtype: u16,
) -> Result<(String, usize), DnsError> {
    let (name, after) = parse_name(msg, start)?;
    if after > end {
        return Err(DnsError::BadRdata { rtype, at: start });
    }
    Ok((name, after))
}

/// TXT RDATA: one or more length-prefixed character-strings filling the RDATA exactly.
fn parse_txt(mut raw: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut strings = Vec::new();
    while let Some((&len, rest)) = raw.split_first() {
        let len = usize::from(len);
        strings.push(rest.get(..len)?.to_vec());
        raw = rest.get(len..)?;
    }
    Some(strings)
}

/// SVCB/HTTPS RDATA: priority, uncompressed target name, then key/length/value parameters.
fn parse_svcb(msg: &[u8], start: usize, end: usize, rtype: u16) -> Result<Svcb, DnsError> {
    let bad = DnsError::BadRdata { rtype, at: start };
    let priority = be_u16(msg, start).map_err(|_| bad.clone())?;
    let name_start = start + 2;
    if name_start > end {
        return Err(bad);
    }
    let (target, mut pos) = name_within(msg, name_start, end, rtype)?;
    let mut svcb = Svcb {
        priority,
        target,
        ..Svcb::default()
    };
    // Each parameter takes at least 4 bytes, so this loop runs at most RDLENGTH / 4 times.
    while pos < end {
        let key = be_u16(msg, pos).map_err(|_| bad.clone())?;
        let len = usize::from(be_u16(msg, pos + 2).map_err(|_| bad.clone())?);
        let value_start = pos + 4;
        let value_end = value_start + len;
        if value_end > end {
            return Err(bad);
        }
        let value = msg.get(value_start..value_end).ok_or(bad.clone())?;
        match key {
            SVC_KEY_ALPN => {
                let ids = parse_txt(value).ok_or(bad.clone())?;
                svcb.alpn = ids
                    .iter()
                    .map(|id| String::from_utf8_lossy(id).into_owned())
                    .collect();
            }
            SVC_KEY_IPV4HINT => {
                if !value.chunks_exact(4).remainder().is_empty() {
                    return Err(bad);
                }
                svcb.ipv4hint = value
                    .chunks_exact(4)
                    .filter_map(|c| <[u8; 4]>::try_from(c).ok())
                    .map(Ipv4Addr::from)
                    .collect();
            }
            SVC_KEY_IPV6HINT => {
                if !value.chunks_exact(16).remainder().is_empty() {
                    return Err(bad);
                }
                svcb.ipv6hint = value
                    .chunks_exact(16)
                    .filter_map(|c| <[u8; 16]>::try_from(c).ok())
                    .map(Ipv6Addr::from)
                    .collect();
            }
            _ => {}
        }
        pos = value_end;
    }
    Ok(svcb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rdata(rtype: u16, raw: &[u8]) -> Result<RData, DnsError> {
        parse_rdata(raw, rtype, 0, raw.len())
    }

    #[test]
    fn addresses_need_exact_lengths() {
        assert_eq!(
            rdata(rtype::A, &[10, 0, 0, 1]),
            Ok(RData::A(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!(
            rdata(rtype::A, &[10, 0, 0]),
            Err(DnsError::BadRdata { rtype: 1, at: 0 })
        );
        assert!(rdata(rtype::AAAA, &[0; 15]).is_err());
        assert_eq!(
            rdata(rtype::AAAA, &[0; 16]),
            Ok(RData::Aaaa(Ipv6Addr::UNSPECIFIED))
        );
    }

    #[test]
    fn txt_strings() {
        assert_eq!(
            rdata(rtype::TXT, b"\x03abc\x00\x01z"),
            Ok(RData::Txt(vec![b"abc".to_vec(), vec![], b"z".to_vec()]))
        );
        assert!(rdata(rtype::TXT, b"\x05abc").is_err());
    }

    #[test]
    fn cname_must_end_inside_rdata() {
        let msg = b"\x03www\x07example\x03com\x00";
        assert_eq!(
            parse_rdata(msg, rtype::CNAME, 0, msg.len()),
            Ok(RData::Cname("www.example.com".into()))
        );
        assert!(parse_rdata(msg, rtype::CNAME, 0, 5).is_err());
    }

    #[test]
    fn svcb_params() {
        // priority 1, target ".", alpn=h3,h2, port=443, ipv4hint=1.2.3.4, ipv6hint=::1, ech=…
        let mut raw = vec![0, 1, 0];
        raw.extend_from_slice(&[0, 1, 0, 6, 2, b'h', b'3', 2, b'h', b'2']);
        raw.extend_from_slice(&[0, 3, 0, 2, 1, 0xbb]);
        raw.extend_from_slice(&[0, 4, 0, 4, 1, 2, 3, 4]);
        raw.extend_from_slice(&[0, 5, 0, 3, 9, 9, 9]);
        raw.extend_from_slice(&[0, 6, 0, 16]);
        raw.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        let svcb = Svcb {
            priority: 1,
            target: String::new(),
            alpn: vec!["h3".into(), "h2".into()],
            ipv4hint: vec![Ipv4Addr::new(1, 2, 3, 4)],
            ipv6hint: vec![Ipv6Addr::LOCALHOST],
        };
        assert_eq!(rdata(rtype::HTTPS, &raw), Ok(RData::Https(svcb.clone())));
        assert_eq!(rdata(rtype::SVCB, &raw), Ok(RData::Svcb(svcb)));
    }

    #[test]
    fn svcb_malformed() {
        // Parameter length past the RDATA.
        assert!(rdata(rtype::HTTPS, &[0, 1, 0, 0, 1, 0, 9, 2, b'h']).is_err());
        // ipv4hint not a multiple of 4.
        assert!(rdata(rtype::HTTPS, &[0, 1, 0, 0, 4, 0, 3, 1, 2, 3]).is_err());
        // Truncated key.
        assert!(rdata(rtype::HTTPS, &[0, 1, 0, 0]).is_err());
        // No room for the priority.
        assert!(rdata(rtype::HTTPS, &[0]).is_err());
        // Target name runs past the RDATA.
        assert!(rdata(rtype::SVCB, &[0, 1, 3, b'a']).is_err());
    }

    #[test]
    fn unknown_types_are_kept_raw() {
        assert_eq!(rdata(99, b"v=spf1"), Ok(RData::Other(b"v=spf1".to_vec())));
    }
}
