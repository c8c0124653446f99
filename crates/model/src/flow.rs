//! Per-flow accounting: every TCP/UDP flow, inspected or not.

use crate::{SourceRef, Timestamp};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Transport protocol of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// Where a flow's name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSource {
    /// The HTTP `Host` header or `:authority`.
    Http,
    /// The TLS ClientHello server_name.
    Sni,
    /// A DNS answer seen earlier in the capture.
    Dns,
    /// The name asked in a DNS query (for findings in DNS messages).
    DnsQuery,
}

/// A name for a flow's server, with its origin.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FlowName {
    /// The host name.
    pub name: String,
    /// Where it was learnt.
    pub source: NameSource,
}

/// Why a flow's payload was not inspected. Serialised in snake_case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotInspected {
    /// TLS with no key for the session.
    NoKey,
    /// TLS whose handshake was not captured.
    HandshakeMissing,
    /// TLS with a cipher suite phonehome cannot decrypt.
    UnsupportedSuite,
    /// Data was lost and the stream could not be resynchronised.
    Gap,
    /// QUIC payload (names are recovered from Initial packets only).
    Quic,
    /// No parser recognised the payload.
    UnknownProtocol,
    /// The flow carried no payload at all.
    NoPayload,
}

impl NotInspected {
    /// The snake_case name used in JSON output (`no_key`, `gap`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoKey => "no_key",
            Self::HandshakeMissing => "handshake_missing",
            Self::UnsupportedSuite => "unsupported_suite",
            Self::Gap => "gap",
            Self::Quic => "quic",
            Self::UnknownProtocol => "unknown_protocol",
            Self::NoPayload => "no_payload",
        }
    }
}

/// One TCP or UDP flow (a connection, or a UDP 5-tuple), with whether its content was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// `tcp` or `udp`.
    pub protocol: Protocol,
    /// The client's address (the side that opened the connection, or the best guess).
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// Names for the server, each with where it was learnt.
    pub names: Vec<FlowName>,
    /// Who the server belongs to, from its first name (not an ECH outer name) and its address.
    pub destination: crate::Destination,
    /// TLS version when the flow was TLS.
    pub tls: Option<String>,
    /// The TLS server name the client sent (the public outer name when `ech` is true).
    pub sni: Option<String>,
    /// The ClientHello offered Encrypted Client Hello: `sni` is only the outer, public name and is
    /// never used for attribution.
    pub ech: bool,
    /// ALPN protocols the client offered (TLS or QUIC), in its order.
    pub alpn: Vec<String>,
    /// Application protocol identified (`http/1.1`, `h2`, `dns`, `tls`…), when known.
    pub app: Option<String>,
    /// Payload bytes sent by the client.
    pub bytes_client: u64,
    /// Payload bytes sent by the server.
    pub bytes_server: u64,
    /// Packets seen in both directions.
    pub packets: u64,
    /// Messages (requests and responses) read from it.
    pub messages: u64,
    /// Whether the payload was parsed.
    pub inspected: bool,
    /// Why not, when it was not.
    pub reason: Option<NotInspected>,
    /// Time of the first packet.
    pub first_time: Option<Timestamp>,
    /// Time of the last packet.
    pub last_time: Option<Timestamp>,
    /// The file and first frame of the flow.
    pub source: SourceRef,
}
