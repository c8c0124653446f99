//! QUIC Initial packets: the ClientHello's server name and ALPN, without any keys.
//!
//! Part of phonehome's protocol stage (`ingest → flow → protocol → message → …`). QUIC encrypts
//! everything, but its Initial packets are protected with keys derived from public values: a
//! per-version salt and the Destination Connection ID the client chose (RFC 9001 §5.2). An
//! observer can therefore decrypt the client's first packets and read the TLS ClientHello inside,
//! which names the server (SNI) and the application protocols offered (ALPN: `h3`…), just as a
//! ClientHello over TCP does. `attribute` uses the name to say where a QUIC flow went.
//!
//! - [`QuicFlow`]: one per UDP flow. Feed it datagrams; it walks the coalesced long-header
//!   packets of each, derives the Initial keys (versions 1, 2 (RFC 9369) and drafts 29–32),
//!   removes header protection (AES-ECB over a 16-byte sample), decodes the packet number,
//!   decrypts with AES-128-GCM, collects CRYPTO frames by offset across packets and datagrams,
//!   and returns a [`phonehome_tls::ClientHello`] (parsed by `phonehome-tls`) once complete.
//! - [`looks_like_quic`]: whether a datagram is a QUIC long-header packet, to pick flows to feed.
//! - [`version`]: version numbers.
//!
//! Nothing here needs a key log: Handshake and 1-RTT packets stay opaque. Everything read from
//! a packet is checked; work is bounded by [`MAX_CLIENT_INITIALS`], [`MAX_CONNECTIONS`],
//! [`MAX_COALESCED_PACKETS`] and the CRYPTO stream caps [`MAX_CRYPTO_LEN`] and
//! [`MAX_CRYPTO_PIECES`].
//!
//! ```
//! use phonehome_quic::{looks_like_quic, QuicFlow};
//!
//! // A datagram that claims to be a version 1 Initial but is too short to hold one.
//! let datagram = [0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x41, 0x00];
//! assert!(looks_like_quic(&datagram));
//! let mut flow = QuicFlow::new();
//! assert!(flow.datagram(&datagram, true).is_none());
//! // Not QUIC: a DNS query.
//! assert!(!looks_like_quic(&[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod crypto_buffer;
mod flow;
mod frame;
mod keys;
mod packet;
#[cfg(test)]
mod seal;
pub mod version;

pub use crypto_buffer::{MAX_CRYPTO_LEN, MAX_CRYPTO_PIECES};
pub use flow::{QuicFlow, MAX_CLIENT_INITIALS, MAX_COALESCED_PACKETS, MAX_CONNECTIONS};
pub use packet::{MAX_CID_LEN, MAX_CID_LEN_INVARIANT};

/// Whether a UDP datagram starts with a QUIC long-header packet: the first bit set, then a
/// version we know (1, 2 or an IETF draft) with the fixed bit set and connection IDs of at most
/// [`MAX_CID_LEN`] bytes, or a well-formed Version Negotiation packet. The header fields must
/// fit; the payload may be cut short (a snap length). Short-header packets cannot be recognised
/// from their bytes alone and give false.
pub fn looks_like_quic(data: &[u8]) -> bool {
    packet::parse_long_header(data, false).is_ok()
}
