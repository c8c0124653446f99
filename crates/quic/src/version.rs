//! QUIC versions whose Initial packets can be read: their salts, labels and packet type codes.

/// QUIC version 1 (RFC 9000).
pub const V1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369).
pub const V2: u32 = 0x6b33_43cf;
/// IETF draft 29, the last draft widely deployed (drafts 29–32 share its salt).
pub const DRAFT_29: u32 = 0xff00_001d;
/// Version Negotiation packets carry version 0 (RFC 9000 §17.2.1).
pub const NEGOTIATION: u32 = 0;

/// Salt of version 1 (RFC 9001 §5.2).
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// Salt of version 2 (RFC 9369 §3.3.1).
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
/// Salt of drafts 29 to 32 (draft-ietf-quic-tls-29 §5.2).
const SALT_DRAFT_29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];

/// Long-header packet types (RFC 9000 §17.2, renumbered by RFC 9369 §3.2 in version 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PacketType {
    /// Initial: carries the ClientHello; protected with keys anyone can derive.
    Initial,
    /// 0-RTT early data.
    ZeroRtt,
    /// Handshake.
    Handshake,
    /// Retry: no Length field, runs to the end of the datagram.
    Retry,
}

/// How a version protects and numbers its Initial packets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VersionParams {
    /// The Initial salt.
    pub(crate) salt: &'static [u8; 20],
    /// HKDF labels for the packet key, IV and header protection key.
    pub(crate) labels: [&'static str; 3],
    /// True for version 2's packet type numbering.
    pub(crate) v2_types: bool,
}

/// The parameters of `version`, or `None` for versions whose Initial packets we cannot read.
pub(crate) fn params(version: u32) -> Option<VersionParams> {
    const V1_LABELS: [&str; 3] = ["quic key", "quic iv", "quic hp"];
    match version {
        V1 => Some(VersionParams {
            salt: &SALT_V1,
            labels: V1_LABELS,
            v2_types: false,
        }),
        V2 => Some(VersionParams {
            salt: &SALT_V2,
            labels: ["quicv2 key", "quicv2 iv", "quicv2 hp"],
            v2_types: true,
        }),
        0xff00_001d..=0xff00_0020 => Some(VersionParams {
            salt: &SALT_DRAFT_29,
            labels: V1_LABELS,
            v2_types: false,
        }),
        _ => None,
    }
}

impl VersionParams {
    /// The packet type from the two type bits of the first byte (`(first >> 4) & 3`).
    pub(crate) fn packet_type(&self, bits: u8) -> PacketType {
        match (self.v2_types, bits & 0x03) {
            (false, 0) | (true, 1) => PacketType::Initial,
            (false, 1) | (true, 2) => PacketType::ZeroRtt,
            (false, 2) | (true, 3) => PacketType::Handshake,
            _ => PacketType::Retry,
        }
    }
}

/// Whether `version` is one whose long header we understand: one we can decrypt, or any IETF
/// draft (`0xff0000xx`), whose header layout is version 1's.
pub(crate) fn is_known(version: u32) -> bool {
    params(version).is_some() || version & 0xffff_ff00 == 0xff00_0000
}
