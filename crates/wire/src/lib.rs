//! Stateless views over captured packets: link layer, IPv4/IPv6, TCP and UDP.
//!
//! This crate is the `wire` half of phonehome's `flow` stage, in the manner of smoltcp's `wire/`
//! module: it reads headers and hands back borrowed views, and keeps no state between packets.
//! `ingest` gives it one frame and the capture's link type; it gives `phonehome-flow` an
//! [`IpPacket`] (addresses, protocol, payload, fragment fields, how much the snap length cut) and,
//! on request, the [`Transport`] header inside it ([`TcpSegment`] or [`UdpDatagram`]).
//!
//! - [`parse_frame`]: link layer ([`linktype`]: Ethernet with 802.1Q/QinQ tags, PPPoE, raw IP,
//!   Linux cooked SLL/SLL2, BSD loopback, PPP) then IPv4 (IHL, total length, fragments) or IPv6
//!   (extension headers, fragment header).
//! - [`parse_transport`]: TCP (data offset checked) or UDP; anything else is [`Transport::Other`].
//! - [`SeqNumber`]: TCP sequence numbers that compare with wraparound.
//! - [`WireError`]: why a frame could not be read, precise enough for a warning; frames that carry
//!   no IP at all (ARP, LLDP…) give [`WireError::NotIp`], which callers skip quietly.
//!
//! Checksums are never verified: captures taken on loopback or with checksum offload have wrong
//! ones. Nothing here panics or allocates; every length read from a packet is checked against the
//! bytes captured, and the loops over VLAN tags and IPv6 extension headers are bounded by
//! [`MAX_VLAN_TAGS`] and [`MAX_IPV6_EXTENSION_HEADERS`].
//!
//! ```
//! use phonehome_wire::{linktype, parse_frame, parse_transport, Transport};
//!
//! // A raw IPv4 packet: 10.0.0.1:40000 -> 10.0.0.2:80, TCP with 3 payload bytes.
//! let mut packet = vec![
//!     0x45, 0, 0, 43, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
//!     0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0, // TCP
//! ];
//! packet.extend_from_slice(b"GET");
//! let ip = parse_frame(linktype::RAW, &packet)?;
//! assert_eq!(ip.dst.to_string(), "10.0.0.2");
//! assert_eq!(ip.truncated_by, 0);
//! match parse_transport(ip.protocol, ip.payload)? {
//!     Transport::Tcp(tcp) => {
//!         assert_eq!((tcp.src_port, tcp.dst_port), (40000, 80));
//!         assert!(tcp.flags.ack() && tcp.flags.psh());
//!         assert_eq!(tcp.payload, b"GET");
//!     }
//!     other => panic!("not TCP: {other:?}"),
//! }
//! # Ok::<(), phonehome_wire::WireError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod ip;
mod link;
mod tcp;
mod udp;

pub use error::{Layer, WireError};
pub use ip::{skip_ipv6_extension_headers, Fragment, IpPacket, MAX_IPV6_EXTENSION_HEADERS};
pub use link::{linktype, parse_frame, MAX_VLAN_TAGS};
pub use tcp::{SeqNumber, TcpFlags, TcpSegment};
pub use udp::UdpDatagram;

/// IP protocol number of TCP.
pub const PROTOCOL_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTOCOL_UDP: u8 = 17;

/// The transport header inside an IP payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// A UDP datagram.
    Udp(UdpDatagram<'a>),
    /// Any other protocol (ICMP, ESP…), by its IP protocol number; not parsed.
    Other(u8),
}

/// Reads the TCP or UDP header at the start of an IP payload (`protocol` is
/// [`IpPacket::protocol`]). Other protocols give [`Transport::Other`] and never fail.
pub fn parse_transport(protocol: u8, payload: &[u8]) -> Result<Transport<'_>, WireError> {
    match protocol {
        PROTOCOL_TCP => tcp::parse_tcp(payload).map(Transport::Tcp),
        PROTOCOL_UDP => udp::parse_udp(payload).map(Transport::Udp),
        other => Ok(Transport::Other(other)),
    }
}

/// Big-endian `u16` at `at`, or `None` past the end.
fn be_u16(data: &[u8], at: usize) -> Option<u16> {
    let bytes: [u8; 2] = data.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes))
}

/// Big-endian `u32` at `at`, or `None` past the end.
fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// `Ok(())` when `data` holds at least `needed` bytes of `layer`, else [`WireError::Truncated`].
fn check_len(layer: Layer, data: &[u8], needed: usize) -> Result<(), WireError> {
    if data.len() < needed {
        Err(WireError::Truncated {
            layer,
            needed,
            available: data.len(),
        })
    } else {
        Ok(())
    }
}
