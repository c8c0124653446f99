//! IPv4 (RFC 791) and IPv6 (RFC 8200) headers.

use crate::{be_u16, be_u32, check_len, Layer, WireError};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Most IPv6 extension headers walked before the packet is rejected.
pub const MAX_IPV6_EXTENSION_HEADERS: usize = 8;

/// An IPv4 or IPv6 packet: addresses, upper-layer protocol and payload (borrowed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol: the IPv4 protocol field, or the IPv6 next header after the extension
    /// headers (for an IPv6 fragment, the fragment header's next header).
    pub protocol: u8,
    /// The captured payload after the IP header(s), without link-layer padding.
    pub payload: &'a [u8],
    /// Fragment fields when this packet is one fragment of a larger datagram.
    pub fragment: Option<Fragment>,
    /// Captured fewer bytes than the IP length says (snap length): how many are missing at the
    /// end of `payload`.
    pub truncated_by: u32,
}

/// Where a fragment sits in its datagram (IPv4 flags/offset or the IPv6 fragment header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Offset of this fragment's payload in the datagram's payload, in bytes.
    pub offset: u32,
    /// More fragments follow (MF / M flag).
    pub more: bool,
}

/// Raw IP: the version nibble says IPv4 or IPv6.
pub(crate) fn parse_ip_any(data: &[u8]) -> Result<IpPacket<'_>, WireError> {
    match data.first().map(|b| b >> 4) {
        None => Err(WireError::Truncated {
            layer: Layer::Ip,
            needed: 1,
            available: 0,
        }),
        Some(4) => parse_ipv4(data),
        Some(6) => parse_ipv6(data),
        Some(found) => Err(WireError::BadIpVersion {
            expected: None,
            found,
        }),
    }
}

/// An IPv4 header and payload. Honours IHL and total length (Ethernet padding beyond the total
/// length is dropped; a total length beyond the capture sets `truncated_by`). A total length of
/// 0 (TCP segmentation offload on the capturing host) means "all captured bytes".
pub(crate) fn parse_ipv4(data: &[u8]) -> Result<IpPacket<'_>, WireError> {
    check_len(Layer::Ipv4, data, 20)?;
    let first = data.first().copied().unwrap_or_default();
    let version = first >> 4;
    if version != 4 {
        return Err(WireError::BadIpVersion {
            expected: Some(4),
            found: version,
        });
    }
    let ihl = first & 0x0F;
    if ihl < 5 {
        return Err(WireError::BadIpv4HeaderLength { ihl });
    }
    let header_length = usize::from(ihl) * 4;
    check_len(Layer::Ipv4, data, header_length)?;
    let total_length = be_u16(data, 2).unwrap_or_default();
    let total = if total_length == 0 {
        data.len()
    } else {
        usize::from(total_length)
    };
    if total < header_length {
        return Err(WireError::BadIpv4TotalLength {
            total_length,
            header_length,
        });
    }
    let end = total.min(data.len());
    let truncated_by = u32::try_from(total - end).unwrap_or(u32::MAX);
    let id = be_u16(data, 4).unwrap_or_default();
    let flags_offset = be_u16(data, 6).unwrap_or_default();
    let more = flags_offset & 0x2000 != 0;
    let offset = u32::from(flags_offset & 0x1FFF) * 8;
    let fragment = (more || offset != 0).then_some(Fragment {
        id: u32::from(id),
        offset,
        more,
    });
    let protocol = data.get(9).copied().unwrap_or_default();
    let src = ipv4_at(data, 12);
    let dst = ipv4_at(data, 16);
    Ok(IpPacket {
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        protocol,
        payload: data.get(header_length..end).unwrap_or_default(),
        fragment,
        truncated_by,
    })
}

/// An IPv6 header, its extension headers and payload. A payload length of 0 (jumbogram or
/// segmentation offload) means "all captured bytes". Walking stops at a non-atomic fragment
/// header: `protocol` is then its next header and `payload` the fragmentable part.
pub(crate) fn parse_ipv6(data: &[u8]) -> Result<IpPacket<'_>, WireError> {
    check_len(Layer::Ipv6, data, 40)?;
    let version = data.first().copied().unwrap_or_default() >> 4;
    if version != 6 {
        return Err(WireError::BadIpVersion {
            expected: Some(6),
            found: version,
        });
    }
    let payload_length = usize::from(be_u16(data, 4).unwrap_or_default());
    let total = if payload_length == 0 {
        data.len()
    } else {
        40 + payload_length
    };
    let end = total.min(data.len());
    let truncated_by = u32::try_from(total - end).unwrap_or(u32::MAX);
    let next_header = data.get(6).copied().unwrap_or_default();
    let src = ipv6_at(data, 8);
    let dst = ipv6_at(data, 24);
    let (protocol, payload, fragment) =
        walk_extension_headers(next_header, data.get(40..end).unwrap_or_default(), true)?;
    Ok(IpPacket {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        protocol,
        payload,
        fragment,
        truncated_by,
    })
}

/// Skips the IPv6 extension headers at the start of `data` (the payload of a reassembled IPv6
/// datagram, which may still hold destination options after the fragment header). Returns the
/// upper-layer protocol and its bytes. A fragment header here is [`WireError::NestedFragmentHeader`]
/// unless it is atomic (offset 0, no more fragments: RFC 6946).
pub fn skip_ipv6_extension_headers(next_header: u8, data: &[u8]) -> Result<(u8, &[u8]), WireError> {
    let (protocol, payload, _) = walk_extension_headers(next_header, data, false)?;
    Ok((protocol, payload))
}

const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_AUTHENTICATION: u8 = 51;
const IPV6_DESTINATION_OPTIONS: u8 = 60;
const IPV6_MOBILITY: u8 = 135;
const IPV6_HIP: u8 = 139;
const IPV6_SHIM6: u8 = 140;

/// Walks at most [`MAX_IPV6_EXTENSION_HEADERS`] extension headers.
fn walk_extension_headers(
    mut next_header: u8,
    mut data: &[u8],
    allow_fragment: bool,
) -> Result<(u8, &[u8], Option<Fragment>), WireError> {
    for _ in 0..MAX_IPV6_EXTENSION_HEADERS {
        let length = match next_header {
            IPV6_HOP_BY_HOP
            | IPV6_ROUTING
            | IPV6_DESTINATION_OPTIONS
            | IPV6_MOBILITY
            | IPV6_HIP
            | IPV6_SHIM6 => {
                // Next header, length in 8-octet units not counting the first 8 (RFC 8200 §4.3).
                check_len(Layer::Ipv6Extension, data, 2)?;
                (usize::from(data.get(1).copied().unwrap_or_default()) + 1) * 8
            }
            IPV6_AUTHENTICATION => {
                // Length in 4-octet units minus 2 (RFC 4302 §2.2).
                check_len(Layer::Ipv6Extension, data, 2)?;
                (usize::from(data.get(1).copied().unwrap_or_default()) + 2) * 4
            }
            IPV6_FRAGMENT => {
                // Next header, reserved, offset (13 bits) + M flag, identification (RFC 8200 §4.5).
                check_len(Layer::Ipv6Extension, data, 8)?;
                let inner = data.first().copied().unwrap_or_default();
                let offset_flags = be_u16(data, 2).unwrap_or_default();
                let fragment = Fragment {
                    id: be_u32(data, 4).unwrap_or_default(),
                    offset: u32::from(offset_flags >> 3) * 8,
                    more: offset_flags & 1 != 0,
                };
                next_header = inner;
                data = data.get(8..).unwrap_or_default();
                if fragment.offset == 0 && !fragment.more {
                    continue;
                }
                if !allow_fragment {
                    return Err(WireError::NestedFragmentHeader);
                }
                return Ok((next_header, data, Some(fragment)));
            }
            _ => return Ok((next_header, data, None)),
        };
        check_len(Layer::Ipv6Extension, data, length)?;
        next_header = data.first().copied().unwrap_or_default();
        data = data.get(length..).unwrap_or_default();
    }
    match next_header {
        IPV6_HOP_BY_HOP
        | IPV6_ROUTING
        | IPV6_FRAGMENT
        | IPV6_AUTHENTICATION
        | IPV6_DESTINATION_OPTIONS
        | IPV6_MOBILITY
        | IPV6_HIP
        | IPV6_SHIM6 => Err(WireError::TooManyExtensionHeaders),
        _ => Ok((next_header, data, None)),
    }
}

fn ipv4_at(data: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::from(be_u32(data, at).unwrap_or_default())
}

fn ipv6_at(data: &[u8], at: usize) -> Ipv6Addr {
    let bytes: [u8; 16] = data
        .get(at..at + 16)
        .and_then(|b| b.try_into().ok())
        .unwrap_or_default();
    Ipv6Addr::from(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20-byte IPv4 header (checksum left 0) followed by `payload`.
    fn ipv4(total_length: u16, flags_offset: u16, protocol: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&total_length.to_be_bytes());
        p.extend_from_slice(&[0x12, 0x34]);
        p.extend_from_slice(&flags_offset.to_be_bytes());
        p.extend_from_slice(&[64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        p.extend_from_slice(payload);
        p
    }

    /// A 40-byte IPv6 header followed by `rest` (payload length = rest.len()).
    fn ipv6(next_header: u8, rest: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&u16::try_from(rest.len()).unwrap().to_be_bytes());
        p.extend_from_slice(&[next_header, 64]);
        p.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(rest);
        p
    }

    #[test]
    fn ipv4_fields_and_options() {
        let p = ipv4(24, 0x4000, 17, b"abcd");
        let ip = parse_ipv4(&p).unwrap();
        assert_eq!(
            (ip.protocol, ip.payload, ip.fragment, ip.truncated_by),
            (17, &b"abcd"[..], None, 0)
        );
        assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        // IHL 6: 4 bytes of options are skipped.
        let mut p = ipv4(28, 0, 6, &[1, 1, 1, 1]);
        p[0] = 0x46;
        p.extend_from_slice(b"tcp!");
        assert_eq!(parse_ipv4(&p).unwrap().payload, b"tcp!");
    }

    #[test]
    fn ipv4_snap_length_and_tso() {
        // Says 1020 bytes, 30 captured: 10 of payload, 990 missing.
        let p = ipv4(1020, 0, 6, &[7; 10]);
        let ip = parse_ipv4(&p).unwrap();
        assert_eq!((ip.payload.len(), ip.truncated_by), (10, 990));
        // Total length 0: segmentation offload, take what was captured.
        let packet = ipv4(0, 0, 6, &[7; 3000]);
        let ip = parse_ipv4(&packet).unwrap();
        assert_eq!((ip.payload.len(), ip.truncated_by), (3000, 0));
    }

    #[test]
    fn ipv4_fragments() {
        let packet = ipv4(28, 0x2000, 17, &[0; 8]);
        let ip = parse_ipv4(&packet).unwrap();
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0x1234,
                offset: 0,
                more: true
            })
        );
        let packet = ipv4(28, 0x0003, 17, &[0; 8]);
        let ip = parse_ipv4(&packet).unwrap();
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0x1234,
                offset: 24,
                more: false
            })
        );
        // DF alone is not a fragment.
        assert_eq!(
            parse_ipv4(&ipv4(28, 0x4000, 17, &[0; 8])).unwrap().fragment,
            None
        );
    }

    #[test]
    fn ipv4_malformed() {
        let mut p = ipv4(40, 0, 6, &[0; 20]);
        p[0] = 0x44;
        assert_eq!(
            parse_ipv4(&p),
            Err(WireError::BadIpv4HeaderLength { ihl: 4 })
        );
        p[0] = 0x4F; // 60-byte header in a 40-byte packet
        assert_eq!(
            parse_ipv4(&p),
            Err(WireError::Truncated {
                layer: Layer::Ipv4,
                needed: 60,
                available: 40
            })
        );
        let p = ipv4(12, 0, 6, &[0; 20]);
        assert_eq!(
            parse_ipv4(&p),
            Err(WireError::BadIpv4TotalLength {
                total_length: 12,
                header_length: 20
            })
        );
        assert!(matches!(
            parse_ipv4(&p[..19]),
            Err(WireError::Truncated {
                needed: 20,
                available: 19,
                ..
            })
        ));
        // Absurd total length on a tiny capture: fine, but everything past the header is missing.
        let packet = ipv4(0xFFFF, 0, 6, &[]);
        let ip = parse_ipv4(&packet).unwrap();
        assert_eq!((ip.payload.len(), ip.truncated_by), (0, 0xFFFF - 20));
    }

    #[test]
    fn ipv6_extension_headers() {
        // Hop-by-hop (8 bytes) → destination options (16 bytes) → TCP bytes.
        let mut rest = vec![60, 0, 0, 0, 0, 0, 0, 0];
        rest.extend_from_slice(&[6, 1]);
        rest.extend_from_slice(&[0; 14]);
        rest.extend_from_slice(b"segment");
        let packet = ipv6(0, &rest);
        let ip = parse_ipv6(&packet).unwrap();
        assert_eq!(
            (ip.protocol, ip.payload, ip.fragment),
            (6, &b"segment"[..], None)
        );
        // Authentication header: (len + 2) * 4 bytes.
        let mut ah = vec![17, 4];
        ah.extend_from_slice(&[0; 22]);
        ah.extend_from_slice(b"udp");
        assert_eq!(parse_ipv6(&ipv6(51, &ah)).unwrap().payload, b"udp");
    }

    #[test]
    fn ipv6_fragment_header() {
        // Offset 185 * 8 = 1480, more fragments, id 0xdeadbeef.
        let mut rest = vec![17, 0, 0x05, 0xC9, 0xDE, 0xAD, 0xBE, 0xEF];
        rest.extend_from_slice(b"tail");
        let packet = ipv6(44, &rest);
        let ip = parse_ipv6(&packet).unwrap();
        assert_eq!(ip.protocol, 17);
        assert_eq!(ip.payload, b"tail");
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0xDEAD_BEEF,
                offset: 1480,
                more: true
            })
        );
        // Atomic fragment (offset 0, M clear) is walked through.
        let mut atomic = vec![6, 0, 0, 0, 0, 0, 0, 1];
        atomic.extend_from_slice(b"whole");
        let packet = ipv6(44, &atomic);
        let ip = parse_ipv6(&packet).unwrap();
        assert_eq!(
            (ip.protocol, ip.payload, ip.fragment),
            (6, &b"whole"[..], None)
        );
        // After reassembly: destination options then TCP; a second fragment header is refused.
        let mut reassembled = vec![6, 0, 0, 0, 0, 0, 0, 0];
        reassembled.extend_from_slice(b"data");
        assert_eq!(
            skip_ipv6_extension_headers(60, &reassembled),
            Ok((6, &b"data"[..]))
        );
        assert_eq!(
            skip_ipv6_extension_headers(44, &rest),
            Err(WireError::NestedFragmentHeader)
        );
    }

    #[test]
    fn ipv6_malformed() {
        // Endless chain of destination options.
        let chain: Vec<u8> = (0..MAX_IPV6_EXTENSION_HEADERS + 1)
            .flat_map(|_| [60, 0, 0, 0, 0, 0, 0, 0])
            .collect();
        assert_eq!(
            parse_ipv6(&ipv6(60, &chain)),
            Err(WireError::TooManyExtensionHeaders)
        );
        // Extension header claiming 2048 bytes.
        assert_eq!(
            parse_ipv6(&ipv6(0, &[6, 255, 0, 0, 0, 0, 0, 0])),
            Err(WireError::Truncated {
                layer: Layer::Ipv6Extension,
                needed: 2048,
                available: 8
            })
        );
        assert_eq!(
            parse_ipv6(&ipv6(44, &[17, 0, 0])),
            Err(WireError::Truncated {
                layer: Layer::Ipv6Extension,
                needed: 8,
                available: 3
            })
        );
        assert!(matches!(
            parse_ipv6(&[0x60; 39]),
            Err(WireError::Truncated {
                layer: Layer::Ipv6,
                ..
            })
        ));
        // Snap length: payload length says 1000, 5 captured.
        let mut p = ipv6(17, b"12345");
        p[4..6].copy_from_slice(&1000u16.to_be_bytes());
        let ip = parse_ipv6(&p).unwrap();
        assert_eq!((ip.payload.len(), ip.truncated_by), (5, 995));
        // Garbage of every length never panics.
        for len in 0..80 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 0x60) as u8).collect();
            let _ = parse_ipv6(&junk);
            let _ = parse_ipv4(&junk);
            let _ = parse_ip_any(&junk);
        }
    }
}
