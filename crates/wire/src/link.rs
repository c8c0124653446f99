//! Link layers: from a captured frame to the IP packet inside it.

use crate::ip::{parse_ip_any, parse_ipv4, parse_ipv6, IpPacket};
use crate::{be_u16, be_u32, check_len, Layer, WireError};

/// Link-layer header types (`LINKTYPE_*` from the tcpdump.org registry) that [`parse_frame`] reads.
pub mod linktype {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II (with optional 802.1Q/802.1ad tags).
    pub const ETHERNET: u32 = 1;
    /// PPP: optional `FF 03` address/control, then the PPP protocol.
    pub const PPP: u32 = 9;
    /// Raw IP, historic value used by some BSDs (`DLT_RAW` on OpenBSD is 14, elsewhere 12).
    pub const RAW_BSD_12: u32 = 12;
    /// Raw IP, OpenBSD's historic `DLT_RAW`.
    pub const RAW_BSD_14: u32 = 14;
    /// PPP in HDLC-like framing (RFC 1662).
    pub const PPP_HDLC: u32 = 50;
    /// Raw IPv4 or IPv6, told apart by the version nibble.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: 4-byte address family, big-endian.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1 (16-byte header, protocol at offset 14).
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4 only.
    pub const IPV4: u32 = 228;
    /// Raw IPv6 only.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2 (20-byte header, protocol at offset 0).
    pub const LINUX_SLL2: u32 = 276;
}

/// Most stacked 802.1Q / 802.1ad / 0x9100 VLAN tags read before giving up.
pub const MAX_VLAN_TAGS: usize = 8;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;

const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// BSD `AF_INET`.
const AF_INET: u32 = 2;
/// BSD `AF_INET6` values: NetBSD/OpenBSD/BSD/OS, FreeBSD, Darwin.
const AF_INET6: [u32; 3] = [24, 28, 30];

/// Reads the IP packet inside one captured frame of the given link type.
///
/// Frames that carry something else (ARP, LLDP, LLC…) give [`WireError::NotIp`]. The returned
/// [`IpPacket`] borrows `data`.
pub fn parse_frame(linktype: u32, data: &[u8]) -> Result<IpPacket<'_>, WireError> {
    match linktype {
        linktype::ETHERNET => parse_ethernet(data),
        linktype::RAW | linktype::RAW_BSD_12 | linktype::RAW_BSD_14 => parse_ip_any(data),
        linktype::IPV4 => parse_ipv4(data),
        linktype::IPV6 => parse_ipv6(data),
        linktype::NULL => parse_loopback(data, false),
        linktype::LOOP => parse_loopback(data, true),
        linktype::LINUX_SLL => {
            check_len(Layer::LinuxSll, data, 16)?;
            let protocol = be_u16(data, 14).ok_or(WireError::NotIp)?;
            parse_ethertype(protocol, data.get(16..).unwrap_or_default())
        }
        linktype::LINUX_SLL2 => {
            check_len(Layer::LinuxSll2, data, 20)?;
            let protocol = be_u16(data, 0).ok_or(WireError::NotIp)?;
            parse_ethertype(protocol, data.get(20..).unwrap_or_default())
        }
        linktype::PPP | linktype::PPP_HDLC => parse_ppp(data),
        other => Err(WireError::UnsupportedLinkType(other)),
    }
}

/// Ethernet II: destination, source, ethertype.
fn parse_ethernet(data: &[u8]) -> Result<IpPacket<'_>, WireError> {
    check_len(Layer::Ethernet, data, 14)?;
    let ethertype = be_u16(data, 12).ok_or(WireError::NotIp)?;
    parse_ethertype(ethertype, data.get(14..).unwrap_or_default())
}

/// Dispatches on an ethertype, unwrapping VLAN tags and PPPoE sessions.
fn parse_ethertype(mut ethertype: u16, mut data: &[u8]) -> Result<IpPacket<'_>, WireError> {
    let mut tags = 0;
    loop {
        match ethertype {
            ETHERTYPE_IPV4 => return parse_ipv4(data),
            ETHERTYPE_IPV6 => return parse_ipv6(data),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                tags += 1;
                if tags > MAX_VLAN_TAGS {
                    return Err(WireError::TooManyVlanTags);
                }
                // Tag control information (2 bytes), then the inner ethertype.
                check_len(Layer::Vlan, data, 4)?;
                ethertype = be_u16(data, 2).ok_or(WireError::NotIp)?;
                data = data.get(4..).unwrap_or_default();
            }
            ETHERTYPE_PPPOE_SESSION => {
                // Version/type, code, session id, length (RFC 2516), then the PPP protocol.
                check_len(Layer::Pppoe, data, 6)?;
                return parse_ppp_protocol(data.get(6..).unwrap_or_default());
            }
            // ARP, LLDP, 802.3 length fields (below ETHERTYPE_MIN: LLC frames)…
            _ => return Err(WireError::NotIp),
        }
    }
}

/// BSD loopback: a 4-byte address family. `big_endian_only` for LOOP; NULL accepts either order
/// (the capturing host's, which the file does not record).
fn parse_loopback(data: &[u8], big_endian_only: bool) -> Result<IpPacket<'_>, WireError> {
    check_len(Layer::Loopback, data, 4)?;
    let be = be_u32(data, 0).ok_or(WireError::NotIp)?;
    let family = if big_endian_only {
        [be, be]
    } else {
        [be, be.swap_bytes()]
    };
    let rest = data.get(4..).unwrap_or_default();
    if family.contains(&AF_INET) {
        parse_ipv4(rest)
    } else if family.iter().any(|f| AF_INET6.contains(f)) {
        parse_ipv6(rest)
    } else {
        Err(WireError::NotIp)
    }
}

/// PPP, with or without the `FF 03` address and control bytes (RFC 1661, RFC 1662).
fn parse_ppp(data: &[u8]) -> Result<IpPacket<'_>, WireError> {
    match data {
        [0xFF, 0x03, rest @ ..] => parse_ppp_protocol(rest),
        _ => parse_ppp_protocol(data),
    }
}

/// The PPP protocol field (2 bytes, or 1 when compressed: an odd first byte) and what follows.
fn parse_ppp_protocol(data: &[u8]) -> Result<IpPacket<'_>, WireError> {
    let (protocol, rest) = match data {
        [] => {
            return Err(WireError::Truncated {
                layer: Layer::Ppp,
                needed: 1,
                available: 0,
            })
        }
        [first, rest @ ..] if first & 1 == 1 => (u16::from(*first), rest),
        [_] => {
            return Err(WireError::Truncated {
                layer: Layer::Ppp,
                needed: 2,
                available: 1,
            })
        }
        [first, second, rest @ ..] => (u16::from_be_bytes([*first, *second]), rest),
    };
    match protocol {
        PPP_IPV4 => parse_ipv4(rest),
        PPP_IPV6 => parse_ipv6(rest),
        _ => Err(WireError::NotIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;
    use std::net::IpAddr;

    /// An IPv4/TCP packet (no link layer) 192.168.1.2:40000 → 93.184.216.34:80.
    fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ipv4([192, 168, 1, 2], [93, 184, 216, 34], 64)
            .tcp(40000, 80, 1000, 65535)
            .ack(1)
            .write(&mut out, payload)
            .unwrap();
        out
    }

    /// An IPv6/UDP packet (no link layer) [2001:db8::1]:5353 → [2001:db8::2]:53.
    fn ipv6_udp(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut src = [0u8; 16];
        src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        let mut dst = src;
        src[15] = 1;
        dst[15] = 2;
        PacketBuilder::ipv6(src, dst, 64)
            .udp(5353, 53)
            .write(&mut out, payload)
            .unwrap();
        out
    }

    fn ethernet(ethertype: u16, inner: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame.extend_from_slice(inner);
        frame
    }

    fn assert_tcp_get(ip: &IpPacket<'_>) {
        assert_eq!(ip.src, "192.168.1.2".parse::<IpAddr>().unwrap());
        assert_eq!(ip.dst, "93.184.216.34".parse::<IpAddr>().unwrap());
        assert_eq!(ip.protocol, 6);
        assert_eq!(ip.payload.len(), 20 + 3);
        assert!(ip.payload.ends_with(b"GET"));
        assert_eq!(ip.fragment, None);
        assert_eq!(ip.truncated_by, 0);
    }

    #[test]
    fn ethernet_ipv4_ignores_padding() {
        let mut frame = ethernet(0x0800, &ipv4_tcp(b"GET"));
        frame.extend_from_slice(&[0xAA; 12]); // padding + FCS
        assert_tcp_get(&parse_frame(linktype::ETHERNET, &frame).unwrap());
    }

    #[test]
    fn vlan_and_qinq_tags() {
        let ip = ipv4_tcp(b"GET");
        let mut single = ethernet(0x8100, &[0x00, 0x64, 0x08, 0x00]);
        single.extend_from_slice(&ip);
        assert_tcp_get(&parse_frame(linktype::ETHERNET, &single).unwrap());
        for outer in [0x88A8u16, 0x9100] {
            let mut double = ethernet(outer, &[0x00, 0x0A, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00]);
            double.extend_from_slice(&ip);
            assert_tcp_get(&parse_frame(linktype::ETHERNET, &double).unwrap());
        }
    }

    #[test]
    fn too_many_vlan_tags() {
        let mut tags = Vec::new();
        for _ in 0..MAX_VLAN_TAGS + 1 {
            tags.extend_from_slice(&[0x00, 0x01, 0x81, 0x00]);
        }
        let frame = ethernet(0x8100, &tags);
        assert_eq!(
            parse_frame(linktype::ETHERNET, &frame),
            Err(WireError::TooManyVlanTags)
        );
        // A tag cut in half.
        let frame = ethernet(0x8100, &[0x00]);
        assert_eq!(
            parse_frame(linktype::ETHERNET, &frame),
            Err(WireError::Truncated {
                layer: Layer::Vlan,
                needed: 4,
                available: 1
            })
        );
    }

    #[test]
    fn non_ip_frames_are_not_ip() {
        // ARP request.
        let arp = ethernet(0x0806, &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(parse_frame(linktype::ETHERNET, &arp), Err(WireError::NotIp));
        // LLDP and an 802.3 length field (LLC).
        assert_eq!(
            parse_frame(linktype::ETHERNET, &ethernet(0x88CC, &[0; 20])),
            Err(WireError::NotIp)
        );
        assert_eq!(
            parse_frame(linktype::ETHERNET, &ethernet(0x0026, &[0xAA; 38])),
            Err(WireError::NotIp)
        );
    }

    #[test]
    fn truncated_ethernet() {
        assert_eq!(
            parse_frame(linktype::ETHERNET, &[0; 10]),
            Err(WireError::Truncated {
                layer: Layer::Ethernet,
                needed: 14,
                available: 10
            })
        );
        assert_eq!(
            parse_frame(linktype::ETHERNET, &ethernet(0x0800, &[0x45, 0])),
            Err(WireError::Truncated {
                layer: Layer::Ipv4,
                needed: 20,
                available: 2
            })
        );
    }

    #[test]
    fn raw_ip_link_types() {
        let v4 = ipv4_tcp(b"GET");
        for lt in [
            linktype::RAW,
            linktype::RAW_BSD_12,
            linktype::RAW_BSD_14,
            linktype::IPV4,
        ] {
            assert_tcp_get(&parse_frame(lt, &v4).unwrap());
        }
        let v6 = ipv6_udp(b"q");
        for lt in [linktype::RAW, linktype::IPV6] {
            let ip = parse_frame(lt, &v6).unwrap();
            assert_eq!(ip.protocol, 17);
            assert_eq!(ip.dst, "2001:db8::2".parse::<IpAddr>().unwrap());
        }
        assert_eq!(
            parse_frame(linktype::IPV4, &v6),
            Err(WireError::BadIpVersion {
                expected: Some(4),
                found: 6
            })
        );
        assert_eq!(
            parse_frame(linktype::IPV6, &v4),
            Err(WireError::BadIpVersion {
                expected: Some(6),
                found: 4
            })
        );
        assert_eq!(
            parse_frame(linktype::RAW, &[0x50; 40]),
            Err(WireError::BadIpVersion {
                expected: None,
                found: 5
            })
        );
        assert_eq!(
            parse_frame(linktype::RAW, &[]),
            Err(WireError::Truncated {
                layer: Layer::Ip,
                needed: 1,
                available: 0
            })
        );
    }

    #[test]
    fn linux_cooked_captures() {
        let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&ipv4_tcp(b"GET"));
        assert_tcp_get(&parse_frame(linktype::LINUX_SLL, &sll).unwrap());

        let mut sll2 = vec![
            0x86, 0xDD, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0,
        ];
        sll2.extend_from_slice(&ipv6_udp(b"q"));
        let ip = parse_frame(linktype::LINUX_SLL2, &sll2).unwrap();
        assert_eq!((ip.protocol, ip.payload.len()), (17, 9));

        // Netlink / ARP over SLL: not IP.
        let mut arp = sll.clone();
        arp[14..16].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(
            parse_frame(linktype::LINUX_SLL, &arp),
            Err(WireError::NotIp)
        );
        assert_eq!(
            parse_frame(linktype::LINUX_SLL2, &sll2[..19]),
            Err(WireError::Truncated {
                layer: Layer::LinuxSll2,
                needed: 20,
                available: 19
            })
        );
    }

    #[test]
    fn bsd_loopback_families() {
        let v4 = ipv4_tcp(b"GET");
        let v6 = ipv6_udp(b"q");
        for (header, inner, lt) in [
            (2u32.to_le_bytes(), &v4, linktype::NULL),
            (2u32.to_be_bytes(), &v4, linktype::NULL),
            (2u32.to_be_bytes(), &v4, linktype::LOOP),
            (24u32.to_le_bytes(), &v6, linktype::NULL),
            (28u32.to_be_bytes(), &v6, linktype::NULL),
            (30u32.to_le_bytes(), &v6, linktype::NULL),
            (30u32.to_be_bytes(), &v6, linktype::LOOP),
        ] {
            let mut frame = header.to_vec();
            frame.extend_from_slice(inner);
            let ip = parse_frame(lt, &frame).unwrap();
            assert_eq!(ip.src.is_ipv4(), inner == &v4, "{header:?} {lt}");
        }
        // LOOP is big-endian only; AF 7 is not IP.
        let mut frame = 2u32.to_le_bytes().to_vec();
        frame.extend_from_slice(&v4);
        assert_eq!(parse_frame(linktype::LOOP, &frame), Err(WireError::NotIp));
        frame[..4].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(parse_frame(linktype::NULL, &frame), Err(WireError::NotIp));
        assert!(matches!(
            parse_frame(linktype::NULL, &[2, 0]),
            Err(WireError::Truncated { .. })
        ));
    }

    #[test]
    fn ppp_variants() {
        let v4 = ipv4_tcp(b"GET");
        for prefix in [
            &[0xFF, 0x03, 0x00, 0x21][..],
            &[0x00, 0x21],
            &[0x21],
            &[0xFF, 0x03, 0x21],
        ] {
            let mut frame = prefix.to_vec();
            frame.extend_from_slice(&v4);
            assert_tcp_get(&parse_frame(linktype::PPP, &frame).unwrap());
            assert_tcp_get(&parse_frame(linktype::PPP_HDLC, &frame).unwrap());
        }
        let mut frame = vec![0x00, 0x57];
        frame.extend_from_slice(&ipv6_udp(b"q"));
        assert!(parse_frame(linktype::PPP, &frame).unwrap().src.is_ipv6());
        // LCP is not IP; a lone even byte is a cut protocol field.
        assert_eq!(
            parse_frame(linktype::PPP, &[0xFF, 0x03, 0xC0, 0x21, 1, 1]),
            Err(WireError::NotIp)
        );
        assert_eq!(
            parse_frame(linktype::PPP, &[0xFF, 0x03, 0x00]),
            Err(WireError::Truncated {
                layer: Layer::Ppp,
                needed: 2,
                available: 1
            })
        );
        // PPPoE session over Ethernet.
        let mut pppoe = vec![0x11, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x21];
        pppoe.extend_from_slice(&v4);
        assert_tcp_get(&parse_frame(linktype::ETHERNET, &ethernet(0x8864, &pppoe)).unwrap());
    }

    #[test]
    fn unsupported_link_type() {
        assert_eq!(
            parse_frame(127, &[0; 64]),
            Err(WireError::UnsupportedLinkType(127))
        );
        let message = WireError::UnsupportedLinkType(127).to_string();
        assert_eq!(message, "unsupported link type 127");
    }
}
