//! Frames from the link layer to the transport layer, with correct lengths and checksums.
//!
//! The builders here write bytes directly (they are also what the benchmark generator uses, so they
//! avoid per-field abstractions); the tests check every header with `etherparse`, an independent
//! implementation. A frame is assembled inside out: [`tcp_segment`] or [`udp_datagram`] (checksum
//! over the pseudo-header), then [`ip_packet`] (IPv4 or IPv6 by address family), then
//! [`Link::frame`] (Ethernet, 802.1Q, Linux SLL/SLL2, BSD NULL/LOOP, PPP or raw IP).

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Link-layer header types (the `LINKTYPE_*` values written in pcap and pcapng headers).
pub mod linktype {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II (with optional 802.1Q tags).
    pub const ETHERNET: u32 = 1;
    /// PPP in HDLC-like framing (RFC 1662): `ff 03` then a 2-byte protocol.
    pub const PPP: u32 = 9;
    /// Raw IPv4 or IPv6, no link header.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux "cooked" capture, version 1 (16-byte header).
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4 only.
    pub const IPV4: u32 = 228;
    /// Raw IPv6 only.
    pub const IPV6: u32 = 229;
    /// Linux "cooked" capture, version 2 (20-byte header).
    pub const LINUX_SLL2: u32 = 276;
}

/// EtherType values.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
}

/// IP protocol numbers.
pub mod ip_proto {
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
}

/// TCP header flag bits.
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
}

/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;
/// Length of a TCP header without options.
pub const TCP_HEADER_LEN: usize = 20;
/// Length of a UDP header.
pub const UDP_HEADER_LEN: usize = 8;
/// Longest TCP option block (the data offset field counts at most 15 words).
pub const MAX_TCP_OPTIONS_LEN: usize = 40;
/// Largest IP payload these builders accept (so that every length field fits in 16 bits).
pub const MAX_IP_PAYLOAD: usize = 65_535 - IPV4_HEADER_LEN;
/// Shortest Ethernet frame without the FCS; shorter received frames are padded to it.
pub const MIN_ETHERNET_FRAME: usize = 60;
/// Default time to live / hop limit.
pub const DEFAULT_TTL: u8 = 64;

/// One captured frame: when it was seen, the captured bytes and its length on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Nanoseconds since the Unix epoch.
    pub ts_nanos: i128,
    /// Captured bytes (possibly cut to a snap length).
    pub data: Vec<u8>,
    /// Length on the wire.
    pub orig_len: u32,
}

impl Frame {
    /// A frame captured whole.
    pub fn whole(ts_nanos: i128, data: Vec<u8>) -> Self {
        let orig_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        Self {
            ts_nanos,
            data,
            orig_len,
        }
    }

    /// Cuts the captured bytes to `snaplen`, keeping the original length.
    pub fn truncate(&mut self, snaplen: usize) {
        self.data.truncate(snaplen);
    }
}

impl From<Frame> for (i128, Vec<u8>, u32) {
    fn from(f: Frame) -> Self {
        (f.ts_nanos, f.data, f.orig_len)
    }
}

/// Why a packet could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// Source and destination are not of the same address family.
    MixedFamilies,
    /// The payload does not fit the length fields.
    TooLong(usize),
    /// TCP options longer than 40 bytes or not a multiple of 4.
    BadOptions(usize),
    /// The packet is not IPv4 or is too short to be fragmented as asked.
    NotFragmentable,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MixedFamilies => write!(f, "source and destination are of different IP versions"),
            Self::TooLong(n) => write!(f, "payload of {n} bytes does not fit the length fields"),
            Self::BadOptions(n) => write!(
                f,
                "TCP options of {n} bytes (must be a multiple of 4, at most 40)"
            ),
            Self::NotFragmentable => {
                write!(f, "not an IPv4 packet that can be fragmented as asked")
            }
        }
    }
}

impl std::error::Error for BuildError {}

impl From<BuildError> for io::Error {
    fn from(e: BuildError) -> Self {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

/// Adds `data` to a running one's-complement sum. `data` must start at an even offset of the
/// checksummed region; only the last slice added may have an odd length.
pub fn checksum_add(mut sum: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        sum = sum.wrapping_add(w >> 32).wrapping_add(w & 0xffff_ffff);
    }
    let mut rest = chunks.remainder().chunks_exact(2);
    for c in &mut rest {
        sum = sum.wrapping_add(u64::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = rest.remainder() {
        sum = sum.wrapping_add(u64::from(*last) << 8);
    }
    sum
}

/// Folds a running sum to 16 bits and complements it: the value to store in a checksum field.
pub fn checksum_finish(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The internet checksum (RFC 1071) of `data`.
pub fn internet_checksum(data: &[u8]) -> u16 {
    checksum_finish(checksum_add(0, data))
}

/// Sum of the TCP/UDP pseudo-header for `src → dst` carrying `len` bytes of protocol `proto`.
pub fn pseudo_header_sum(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    len: usize,
) -> Result<u64, BuildError> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let len = u16::try_from(len).map_err(|_| BuildError::TooLong(len))?;
            let sum = checksum_add(0, &s.octets());
            let sum = checksum_add(sum, &d.octets());
            Ok(sum + u64::from(proto) + u64::from(len))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let len = u32::try_from(len).map_err(|_| BuildError::TooLong(len))?;
            let sum = checksum_add(0, &s.octets());
            let sum = checksum_add(sum, &d.octets());
            Ok(sum + u64::from(proto) + u64::from(len >> 16) + u64::from(len & 0xffff))
        }
        _ => Err(BuildError::MixedFamilies),
    }
}

/// The TCP header fields that change from segment to segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcpFields {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (sent as 0 unless `flags` has ACK).
    pub ack: u32,
    /// Flag bits ([`tcp_flags`]).
    pub flags: u8,
    /// Receive window.
    pub window: u16,
}

/// Appends a TCP segment (header, `options`, `payload`) with its checksum to `out`.
pub fn tcp_segment(
    out: &mut Vec<u8>,
    src: SocketAddr,
    dst: SocketAddr,
    fields: TcpFields,
    options: &[u8],
    payload: &[u8],
) -> Result<(), BuildError> {
    if options.len() > MAX_TCP_OPTIONS_LEN || options.len() % 4 != 0 {
        return Err(BuildError::BadOptions(options.len()));
    }
    let header_len = TCP_HEADER_LEN + options.len();
    let total = header_len + payload.len();
    if total > MAX_IP_PAYLOAD {
        return Err(BuildError::TooLong(payload.len()));
    }
    let pseudo = pseudo_header_sum(src.ip(), dst.ip(), ip_proto::TCP, total)?;
    let ack = if fields.flags & tcp_flags::ACK != 0 {
        fields.ack
    } else {
        0
    };
    let mut h = [0u8; TCP_HEADER_LEN];
    h[0..2].copy_from_slice(&src.port().to_be_bytes());
    h[2..4].copy_from_slice(&dst.port().to_be_bytes());
    h[4..8].copy_from_slice(&fields.seq.to_be_bytes());
    h[8..12].copy_from_slice(&ack.to_be_bytes());
    h[12] = ((header_len / 4) as u8) << 4;
    h[13] = fields.flags;
    h[14..16].copy_from_slice(&fields.window.to_be_bytes());
    let sum = checksum_add(pseudo, &h);
    let sum = checksum_add(sum, options);
    let sum = checksum_add(sum, payload);
    h[16..18].copy_from_slice(&checksum_finish(sum).to_be_bytes());
    out.reserve(total);
    out.extend_from_slice(&h);
    out.extend_from_slice(options);
    out.extend_from_slice(payload);
    Ok(())
}

/// Appends a UDP datagram (header and `payload`) with its checksum to `out`.
pub fn udp_datagram(
    out: &mut Vec<u8>,
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
) -> Result<(), BuildError> {
    let total = UDP_HEADER_LEN + payload.len();
    if total > MAX_IP_PAYLOAD {
        return Err(BuildError::TooLong(payload.len()));
    }
    let pseudo = pseudo_header_sum(src.ip(), dst.ip(), ip_proto::UDP, total)?;
    let mut h = [0u8; UDP_HEADER_LEN];
    h[0..2].copy_from_slice(&src.port().to_be_bytes());
    h[2..4].copy_from_slice(&dst.port().to_be_bytes());
    h[4..6].copy_from_slice(&(total as u16).to_be_bytes());
    let mut ck = checksum_finish(checksum_add(checksum_add(pseudo, &h), payload));
    if ck == 0 {
        ck = 0xffff; // 0 means "no checksum" in UDP over IPv4 and is invalid over IPv6
    }
    h[6..8].copy_from_slice(&ck.to_be_bytes());
    out.reserve(total);
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    Ok(())
}

/// An IPv4 header (no options) with its checksum. `flags_fragment` holds the DF/MF bits and the
/// fragment offset in 8-byte units, as on the wire.
pub fn ipv4_header(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    payload_len: usize,
    ident: u16,
    flags_fragment: u16,
) -> Result<[u8; IPV4_HEADER_LEN], BuildError> {
    let total = u16::try_from(IPV4_HEADER_LEN + payload_len)
        .map_err(|_| BuildError::TooLong(payload_len))?;
    let mut h = [0u8; IPV4_HEADER_LEN];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&ident.to_be_bytes());
    h[6..8].copy_from_slice(&flags_fragment.to_be_bytes());
    h[8] = DEFAULT_TTL;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let ck = internet_checksum(&h);
    h[10..12].copy_from_slice(&ck.to_be_bytes());
    Ok(h)
}

/// The fixed IPv6 header (flow label 0, hop limit 64).
pub fn ipv6_header(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
    payload_len: usize,
) -> Result<[u8; IPV6_HEADER_LEN], BuildError> {
    let len = u16::try_from(payload_len).map_err(|_| BuildError::TooLong(payload_len))?;
    let mut h = [0u8; IPV6_HEADER_LEN];
    h[0] = 0x60;
    h[4..6].copy_from_slice(&len.to_be_bytes());
    h[6] = next_header;
    h[7] = DEFAULT_TTL;
    h[8..24].copy_from_slice(&src.octets());
    h[24..40].copy_from_slice(&dst.octets());
    Ok(h)
}

/// Wraps a transport segment in an IPv4 (DF set, identification `ident`) or IPv6 header.
pub fn ip_packet(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    transport: &[u8],
    ident: u16,
) -> Result<Vec<u8>, BuildError> {
    let mut out = Vec::with_capacity(IPV6_HEADER_LEN + transport.len());
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            out.extend_from_slice(&ipv4_header(s, d, proto, transport.len(), ident, 0x4000)?);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            out.extend_from_slice(&ipv6_header(s, d, proto, transport.len())?)
        }
        _ => return Err(BuildError::MixedFamilies),
    }
    out.extend_from_slice(transport);
    Ok(out)
}

/// A whole TCP/IP packet (IPv4 or IPv6 by the addresses' family).
pub fn tcp_packet(
    src: SocketAddr,
    dst: SocketAddr,
    fields: TcpFields,
    options: &[u8],
    payload: &[u8],
    ident: u16,
) -> Result<Vec<u8>, BuildError> {
    let mut seg = Vec::with_capacity(TCP_HEADER_LEN + options.len() + payload.len());
    tcp_segment(&mut seg, src, dst, fields, options, payload)?;
    ip_packet(src.ip(), dst.ip(), ip_proto::TCP, &seg, ident)
}

/// A whole UDP/IP packet (IPv4 or IPv6 by the addresses' family).
pub fn udp_packet(
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
    ident: u16,
) -> Result<Vec<u8>, BuildError> {
    let mut seg = Vec::with_capacity(UDP_HEADER_LEN + payload.len());
    udp_datagram(&mut seg, src, dst, payload)?;
    ip_packet(src.ip(), dst.ip(), ip_proto::UDP, &seg, ident)
}

/// Splits an IPv4 packet (header without options) into `count` fragments whose payloads are
/// multiples of 8 bytes except the last, with MF and offsets set and header checksums recomputed.
/// `count` is capped at the number of 8-byte blocks in the payload.
pub fn fragment_ipv4(packet: &[u8], count: usize) -> Result<Vec<Vec<u8>>, BuildError> {
    let header: [u8; IPV4_HEADER_LEN] = packet
        .get(..IPV4_HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(BuildError::NotFragmentable)?;
    if header[0] != 0x45 || count == 0 {
        return Err(BuildError::NotFragmentable);
    }
    let payload = &packet[IPV4_HEADER_LEN..];
    let blocks = payload.len().div_ceil(8);
    let count = count.min(blocks.max(1));
    let per = blocks.div_ceil(count) * 8; // bytes per fragment, a multiple of 8
    let src = Ipv4Addr::new(header[12], header[13], header[14], header[15]);
    let dst = Ipv4Addr::new(header[16], header[17], header[18], header[19]);
    let ident = u16::from_be_bytes([header[4], header[5]]);
    let mut out = Vec::with_capacity(count);
    let mut offset = 0usize;
    for part in payload.chunks(per.max(8)) {
        let last = offset + part.len() >= payload.len();
        let units = u16::try_from(offset / 8).map_err(|_| BuildError::TooLong(offset))?;
        let flags = if last { 0 } else { 0x2000 } | (units & 0x1fff);
        let mut frag = Vec::with_capacity(IPV4_HEADER_LEN + part.len());
        frag.extend_from_slice(&ipv4_header(src, dst, header[9], part.len(), ident, flags)?);
        frag.extend_from_slice(part);
        out.push(frag);
        offset += part.len();
    }
    Ok(out)
}

/// The link layer a capture was taken on, with the addresses of both ends of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    /// Ethernet II between the client's MAC and the server side's (gateway's) MAC.
    Ethernet {
        /// The client's MAC address.
        client: [u8; 6],
        /// The MAC address the server's packets come from (usually the gateway).
        server: [u8; 6],
    },
    /// Ethernet with one 802.1Q tag.
    Vlan {
        /// The client's MAC address.
        client: [u8; 6],
        /// The server side's MAC address.
        server: [u8; 6],
        /// VLAN identifier (12 bits).
        vlan_id: u16,
    },
    /// Linux cooked capture v1 (`any` device): packet type, sender's address, protocol.
    Sll {
        /// The client's MAC address.
        client: [u8; 6],
        /// The server side's MAC address.
        server: [u8; 6],
    },
    /// Linux cooked capture v2.
    Sll2 {
        /// The client's MAC address.
        client: [u8; 6],
        /// The server side's MAC address.
        server: [u8; 6],
        /// Interface index.
        ifindex: u32,
    },
    /// BSD loopback, address family little-endian (AF_INET 2, AF_INET6 30 as on macOS).
    Null,
    /// OpenBSD loopback, address family big-endian (AF_INET 2, AF_INET6 24).
    Loop,
    /// PPP with HDLC-like framing.
    Ppp,
    /// Raw IP.
    Raw,
}

/// The default client MAC: a locally administered (randomised, as Android does per network) address.
pub const CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x02];
/// The default gateway MAC, from the documentation range (RFC 7042).
pub const GATEWAY_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01];

impl Default for Link {
    fn default() -> Self {
        Self::Ethernet {
            client: CLIENT_MAC,
            server: GATEWAY_MAC,
        }
    }
}

impl Link {
    /// The pcap link type of frames built with this link.
    pub fn linktype(&self) -> u32 {
        match self {
            Self::Ethernet { .. } | Self::Vlan { .. } => linktype::ETHERNET,
            Self::Sll { .. } => linktype::LINUX_SLL,
            Self::Sll2 { .. } => linktype::LINUX_SLL2,
            Self::Null => linktype::NULL,
            Self::Loop => linktype::LOOP,
            Self::Ppp => linktype::PPP,
            Self::Raw => linktype::RAW,
        }
    }

    /// Length of the link header in front of the IP packet.
    pub fn header_len(&self) -> usize {
        match self {
            Self::Ethernet { .. } => 14,
            Self::Vlan { .. } => 18,
            Self::Sll { .. } => 16,
            Self::Sll2 { .. } => 20,
            Self::Null | Self::Loop | Self::Ppp => 4,
            Self::Raw => 0,
        }
    }

    /// Appends the link header for a packet of `ethertype` (`from_client` picks the addresses and
    /// the SLL packet type).
    pub fn write_header(&self, out: &mut Vec<u8>, ethertype: u16, from_client: bool) {
        let v6 = ethertype == ethertype::IPV6;
        match *self {
            Self::Ethernet { client, server } => {
                let (src, dst) = if from_client {
                    (client, server)
                } else {
                    (server, client)
                };
                out.extend_from_slice(&dst);
                out.extend_from_slice(&src);
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Self::Vlan {
                client,
                server,
                vlan_id,
            } => {
                let (src, dst) = if from_client {
                    (client, server)
                } else {
                    (server, client)
                };
                out.extend_from_slice(&dst);
                out.extend_from_slice(&src);
                out.extend_from_slice(&ethertype::VLAN.to_be_bytes());
                out.extend_from_slice(&(vlan_id & 0x0fff).to_be_bytes());
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Self::Sll { client, server } => {
                let (pkttype, addr) = if from_client {
                    (4u16, client)
                } else {
                    (0u16, server)
                };
                out.extend_from_slice(&pkttype.to_be_bytes());
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.extend_from_slice(&6u16.to_be_bytes());
                out.extend_from_slice(&addr);
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Self::Sll2 {
                client,
                server,
                ifindex,
            } => {
                let (pkttype, addr) = if from_client {
                    (4u8, client)
                } else {
                    (0u8, server)
                };
                out.extend_from_slice(&ethertype.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&ifindex.to_be_bytes());
                out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                out.push(pkttype);
                out.push(6);
                out.extend_from_slice(&addr);
                out.extend_from_slice(&[0, 0]);
            }
            Self::Null => out.extend_from_slice(&(if v6 { 30u32 } else { 2 }).to_le_bytes()),
            Self::Loop => out.extend_from_slice(&(if v6 { 24u32 } else { 2 }).to_be_bytes()),
            Self::Ppp => {
                out.extend_from_slice(&[0xff, 0x03]);
                out.extend_from_slice(&(if v6 { 0x0057u16 } else { 0x0021 }).to_be_bytes());
            }
            Self::Raw => {}
        }
    }

    /// A whole frame around the IP packet `ip` (its version is read from the first nibble).
    /// Ethernet frames travelling to the client are padded to 60 bytes, as a NIC delivers them.
    pub fn frame(&self, ip: &[u8], from_client: bool) -> Vec<u8> {
        let et = match ip.first().map(|b| b >> 4) {
            Some(6) => ethertype::IPV6,
            _ => ethertype::IPV4,
        };
        let mut out = Vec::with_capacity(self.header_len() + ip.len().max(MIN_ETHERNET_FRAME));
        self.write_header(&mut out, et, from_client);
        out.extend_from_slice(ip);
        if !from_client
            && matches!(self, Self::Ethernet { .. } | Self::Vlan { .. })
            && out.len() < MIN_ETHERNET_FRAME
        {
            out.resize(MIN_ETHERNET_FRAME, 0);
        }
        out
    }
}

/// Writes a whole TCP frame (link header, IP header, TCP header, `payload`) into `out`, which is
/// cleared first. This is [`tcp_packet`] followed by [`Link::frame`] without intermediate buffers,
/// for bulk generation.
#[allow(clippy::too_many_arguments)]
pub fn tcp_frame_into(
    out: &mut Vec<u8>,
    link: &Link,
    src: SocketAddr,
    dst: SocketAddr,
    fields: TcpFields,
    options: &[u8],
    payload: &[u8],
    ident: u16,
    from_client: bool,
) -> Result<(), BuildError> {
    out.clear();
    let seg_len = TCP_HEADER_LEN + options.len() + payload.len();
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            link.write_header(out, ethertype::IPV4, from_client);
            out.extend_from_slice(&ipv4_header(s, d, ip_proto::TCP, seg_len, ident, 0x4000)?);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            link.write_header(out, ethertype::IPV6, from_client);
            out.extend_from_slice(&ipv6_header(s, d, ip_proto::TCP, seg_len)?);
        }
        _ => return Err(BuildError::MixedFamilies),
    }
    tcp_segment(out, src, dst, fields, options, payload)?;
    if !from_client
        && matches!(link, Link::Ethernet { .. } | Link::Vlan { .. })
        && out.len() < MIN_ETHERNET_FRAME
    {
        out.resize(MIN_ETHERNET_FRAME, 0);
    }
    Ok(())
}

/// An Ethernet II frame carrying a TCP/IPv4 segment from `src` to `dst`.
pub fn ethernet_ipv4_tcp(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: std::net::SocketAddrV4,
    dst: std::net::SocketAddrV4,
    fields: TcpFields,
    payload: &[u8],
) -> Result<Vec<u8>, BuildError> {
    let ip = tcp_packet(src.into(), dst.into(), fields, &[], payload, 1)?;
    Ok(Link::Ethernet {
        client: src_mac,
        server: dst_mac,
    }
    .frame(&ip, true))
}

/// An Ethernet II frame carrying a TCP/IPv6 segment from `src` to `dst`.
pub fn ethernet_ipv6_tcp(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: std::net::SocketAddrV6,
    dst: std::net::SocketAddrV6,
    fields: TcpFields,
    payload: &[u8],
) -> Result<Vec<u8>, BuildError> {
    let ip = tcp_packet(src.into(), dst.into(), fields, &[], payload, 0)?;
    Ok(Link::Ethernet {
        client: src_mac,
        server: dst_mac,
    }
    .frame(&ip, true))
}

/// A frame on `link` carrying a UDP datagram; `from_client` picks the link addresses.
pub fn udp_frame(
    link: &Link,
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
    ident: u16,
    from_client: bool,
) -> Result<Vec<u8>, BuildError> {
    Ok(link.frame(&udp_packet(src, dst, payload, ident)?, from_client))
}

/// An ARP packet (Ethernet/IPv4) inside an Ethernet frame: a request (`target_mac` `None`,
/// broadcast) or a reply.
pub fn arp_frame(
    sender_mac: [u8; 6],
    sender_ip: Ipv4Addr,
    target_mac: Option<[u8; 6]>,
    target_ip: Ipv4Addr,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(MIN_ETHERNET_FRAME);
    out.extend_from_slice(&target_mac.unwrap_or([0xff; 6]));
    out.extend_from_slice(&sender_mac);
    out.extend_from_slice(&ethertype::ARP.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    out.extend_from_slice(&ethertype::IPV4.to_be_bytes());
    out.extend_from_slice(&[6, 4]);
    out.extend_from_slice(&(if target_mac.is_some() { 2u16 } else { 1 }).to_be_bytes());
    out.extend_from_slice(&sender_mac);
    out.extend_from_slice(&sender_ip.octets());
    out.extend_from_slice(&target_mac.unwrap_or([0; 6]));
    out.extend_from_slice(&target_ip.octets());
    out.resize(MIN_ETHERNET_FRAME, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2, so the checksum is 220d.
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
        // Odd lengths pad with a zero byte.
        assert_eq!(internet_checksum(&[0x01]), !0x0100);
        // A header containing its own checksum sums to zero.
        let h = ipv4_header(
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(192, 0, 2, 1),
            6,
            100,
            7,
            0x4000,
        )
        .unwrap();
        assert_eq!(internet_checksum(&h), 0);
    }

    #[test]
    fn rejects_mixed_families_and_bad_lengths() {
        let v4: SocketAddr = "10.0.0.2:1000".parse().unwrap();
        let v6: SocketAddr = "[2001:db8::1]:80".parse().unwrap();
        let f = TcpFields {
            seq: 0,
            ack: 0,
            flags: tcp_flags::SYN,
            window: 1,
        };
        assert_eq!(
            tcp_packet(v4, v6, f, &[], &[], 0),
            Err(BuildError::MixedFamilies)
        );
        assert_eq!(
            tcp_packet(v4, v4, f, &[1, 2, 3], &[], 0),
            Err(BuildError::BadOptions(3))
        );
        assert_eq!(
            tcp_packet(v4, v4, f, &[1; 44], &[], 0),
            Err(BuildError::BadOptions(44))
        );
        let big = vec![0u8; 70_000];
        assert!(matches!(
            tcp_packet(v4, v4, f, &[], &big, 0),
            Err(BuildError::TooLong(_))
        ));
        assert!(matches!(
            udp_packet(v6, v6, &big, 0),
            Err(BuildError::TooLong(_))
        ));
        assert_eq!(
            fragment_ipv4(&[0x45, 0], 2),
            Err(BuildError::NotFragmentable)
        );
        assert_eq!(
            fragment_ipv4(&[0x60; 40], 2),
            Err(BuildError::NotFragmentable)
        );
    }

    #[test]
    fn fragments_cover_the_payload_in_8_byte_units() {
        let src: SocketAddr = "10.0.0.2:5353".parse().unwrap();
        let dst: SocketAddr = "192.0.2.53:53".parse().unwrap();
        let payload: Vec<u8> = (0..=255u8).cycle().take(3001).collect();
        let ip = udp_packet(src, dst, &payload, 0x1234).unwrap();
        let frags = fragment_ipv4(&ip, 4).unwrap();
        assert_eq!(frags.len(), 4);
        let mut joined = Vec::new();
        for (i, f) in frags.iter().enumerate() {
            assert_eq!(internet_checksum(&f[..20]), 0);
            let ff = u16::from_be_bytes([f[6], f[7]]);
            assert_eq!(usize::from(ff & 0x1fff) * 8, joined.len());
            assert_eq!(
                ff & 0x2000 != 0,
                i + 1 < frags.len(),
                "MF on all but the last"
            );
            assert_eq!(u16::from_be_bytes([f[4], f[5]]), 0x1234);
            joined.extend_from_slice(&f[20..]);
        }
        assert_eq!(joined, ip[20..]);
        // More fragments than 8-byte blocks: capped.
        let tiny = udp_packet(src, dst, &[1, 2], 1).unwrap();
        assert_eq!(fragment_ipv4(&tiny, 10).unwrap().len(), 2);
    }
}
