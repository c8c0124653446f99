//! Why a frame could not be read.

use std::fmt;

/// The header a [`WireError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layer {
    /// Ethernet II header.
    Ethernet,
    /// An 802.1Q / 802.1ad VLAN tag.
    Vlan,
    /// PPPoE session header.
    Pppoe,
    /// Linux cooked capture v1 header.
    LinuxSll,
    /// Linux cooked capture v2 header.
    LinuxSll2,
    /// BSD loopback (NULL/LOOP) address family.
    Loopback,
    /// PPP address, control and protocol fields.
    Ppp,
    /// The first byte of a raw IP packet (version unknown yet).
    Ip,
    /// IPv4 header.
    Ipv4,
    /// IPv6 fixed header.
    Ipv6,
    /// An IPv6 extension header.
    Ipv6Extension,
    /// TCP header.
    Tcp,
    /// UDP header.
    Udp,
}

impl Layer {
    /// Lower-case name of the header, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ethernet => "Ethernet",
            Self::Vlan => "VLAN tag",
            Self::Pppoe => "PPPoE",
            Self::LinuxSll => "Linux SLL",
            Self::LinuxSll2 => "Linux SLL2",
            Self::Loopback => "loopback",
            Self::Ppp => "PPP",
            Self::Ip => "IP",
            Self::Ipv4 => "IPv4",
            Self::Ipv6 => "IPv6",
            Self::Ipv6Extension => "IPv6 extension header",
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        }
    }
}

/// Why a frame or transport header could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The frame is well formed but carries no IPv4/IPv6 (ARP, LLDP, 802.3 LLC…). Callers skip it
    /// without a warning.
    NotIp,
    /// The capture's link type is not one this crate reads.
    UnsupportedLinkType(u32),
    /// A header is longer than the bytes captured.
    Truncated {
        /// The header that is cut.
        layer: Layer,
        /// Bytes the header needs.
        needed: usize,
        /// Bytes there are.
        available: usize,
    },
    /// The IP version nibble is not 4 or 6, or not the one the link layer announced.
    BadIpVersion {
        /// The version the link layer announced, if it did.
        expected: Option<u8>,
        /// The version nibble found.
        found: u8,
    },
    /// IPv4 IHL below 5 (the header would be shorter than 20 bytes).
    BadIpv4HeaderLength {
        /// The IHL field (32-bit words).
        ihl: u8,
    },
    /// IPv4 total length smaller than the IPv4 header.
    BadIpv4TotalLength {
        /// The total length field.
        total_length: u16,
        /// The header length from IHL, in bytes.
        header_length: usize,
    },
    /// More than [`crate::MAX_VLAN_TAGS`] stacked VLAN tags.
    TooManyVlanTags,
    /// More than [`crate::MAX_IPV6_EXTENSION_HEADERS`] IPv6 extension headers.
    TooManyExtensionHeaders,
    /// A second, non-atomic fragment header inside an IPv6 packet (or a reassembled payload).
    NestedFragmentHeader,
    /// TCP data offset below 5 (the header would be shorter than 20 bytes).
    BadTcpDataOffset {
        /// The data offset field (32-bit words).
        data_offset: u8,
    },
    /// UDP length field between 1 and 7 (shorter than the UDP header).
    BadUdpLength {
        /// The length field.
        length: u16,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotIp => write!(f, "frame carries no IP packet"),
            Self::UnsupportedLinkType(lt) => write!(f, "unsupported link type {lt}"),
            Self::Truncated {
                layer,
                needed,
                available,
            } => write!(
                f,
                "{} header truncated: needs {needed} bytes, {available} captured",
                layer.as_str()
            ),
            Self::BadIpVersion {
                expected: Some(v),
                found,
            } => {
                write!(
                    f,
                    "IP version {found} where the link layer announced IPv{v}"
                )
            }
            Self::BadIpVersion {
                expected: None,
                found,
            } => write!(f, "IP version {found} is not 4 or 6"),
            Self::BadIpv4HeaderLength { ihl } => {
                write!(f, "IPv4 IHL {ihl} is below the minimum of 5")
            }
            Self::BadIpv4TotalLength {
                total_length,
                header_length,
            } => write!(
                f,
                "IPv4 total length {total_length} is smaller than its {header_length}-byte header"
            ),
            Self::TooManyVlanTags => {
                write!(f, "more than {} stacked VLAN tags", crate::MAX_VLAN_TAGS)
            }
            Self::TooManyExtensionHeaders => write!(
                f,
                "more than {} IPv6 extension headers",
                crate::MAX_IPV6_EXTENSION_HEADERS
            ),
            Self::NestedFragmentHeader => {
                write!(f, "IPv6 fragment header inside a fragmented packet")
            }
            Self::BadTcpDataOffset { data_offset } => {
                write!(f, "TCP data offset {data_offset} is below the minimum of 5")
            }
            Self::BadUdpLength { length } => {
                write!(f, "UDP length {length} is below the 8-byte header")
            }
        }
    }
}

impl std::error::Error for WireError {}
