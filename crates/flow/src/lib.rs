//! IP fragment reassembly, the flow table and per-direction TCP reassembly.
//!
//! This is the stateful half of phonehome's `flow` stage (smoltcp's `socket/` to
//! `phonehome-wire`'s `wire/`). `ingest` reads frames, `phonehome-wire` turns each into an
//! [`phonehome_wire::IpPacket`], and [`FlowTable::packet`] turns the packets into what the
//! protocol stage reads: per connection, an in-order byte stream for each direction (or UDP
//! datagrams), pushed into a [`StreamSink`]. The push design (as in grep-searcher's `Sink`) lets
//! the in-order fast path hand the packet's own payload slice to [`StreamSink::data`] without
//! copying it.
//!
//! - [`FlowTable`]: flows keyed by 5-tuple; decides client and server; handles SYN, FIN, RST,
//!   port reuse, captures that start mid-connection, and evicts the least recently active flow
//!   beyond `Limits::max_flows`.
//! - [`TcpReassembler`]: one direction of a TCP connection; wrapping sequence numbers,
//!   retransmissions, overlaps (first copy wins, conflicts reported), bounded out-of-order
//!   buffering, snap-length gaps.
//! - [`FragmentReassembler`]: IPv4/IPv6 fragments, bounded, with timeouts.
//! - [`TcpState`]: the connection state machine, named after RFC 9293.
//!
//! No crate on crates.io does passive TCP reassembly the way phonehome needs (bounded memory
//! whatever the input, zero-copy in order, gaps reported rather than stalling, conflicting
//! overlaps reported, frame provenance), so it is written here. Nothing in this crate panics on
//! input; every buffer has a documented cap ([`MAX_SEGMENTS`], [`MAX_FRAGMENT_SETS`],
//! [`MAX_FRAGMENTS_PER_SET`] and the [`phonehome_model::Limits`] fields).
//!
//! ```
//! use phonehome_flow::{ConnInfo, ConnStats, FlowTable, FrameMeta, StreamSink};
//! use phonehome_model::{Direction, Limits, Timestamp, WarningCode};
//! use phonehome_wire::{linktype, parse_frame};
//!
//! /// Collects the client's bytes.
//! #[derive(Default)]
//! struct Requests(Vec<u8>);
//! impl StreamSink for Requests {
//!     fn open(&mut self, _: &ConnInfo) {}
//!     fn data(&mut self, _: &ConnInfo, dir: Direction, data: &[u8], _: FrameMeta) {
//!         if dir == Direction::Request {
//!             self.0.extend_from_slice(data);
//!         }
//!     }
//!     fn gap(&mut self, _: &ConnInfo, _: Direction, _: u64, _: FrameMeta) {}
//!     fn datagram(&mut self, _: &ConnInfo, _: Direction, _: &[u8], _: FrameMeta) {}
//!     fn end(&mut self, _: &ConnInfo, _: Direction, _: FrameMeta) {}
//!     fn close(&mut self, _: &ConnInfo, _: &ConnStats) {}
//!     fn warning(&mut self, _: WarningCode, _: FrameMeta, _: String) {}
//! }
//!
//! /// Raw IPv4 + TCP from 10.0.0.1:40000 to 10.0.0.2:80 (`flags`: 0x02 SYN, 0x18 PSH|ACK).
//! fn packet(seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
//!     let total = (40 + payload.len()) as u16;
//!     let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0x40, 0, 64, 6, 0, 0];
//!     p.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0, 80]);
//!     p.extend_from_slice(&seq.to_be_bytes());
//!     p.extend_from_slice(&[0, 0, 0, 1, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
//!     p.extend_from_slice(payload);
//!     p
//! }
//!
//! let mut table = FlowTable::new(&Limits::default());
//! let mut sink = Requests::default();
//! // After the SYN, the second segment arrives first: it is held until the first fills the hole.
//! let frames = [packet(999, 0x02, b""), packet(1005, 0x18, b" HTTP/1.1\r\n"), packet(1000, 0x18, b"GET /")];
//! for (i, bytes) in frames.iter().enumerate() {
//!     let meta = FrameMeta { number: i as u64 + 1, time: Timestamp::from_secs_nanos(1, 0) };
//!     table.packet(meta, parse_frame(linktype::RAW, bytes)?, &mut sink);
//! }
//! table.finish(FrameMeta::default(), &mut sink);
//! assert_eq!(sink.0, b"GET / HTTP/1.1\r\n");
//! # Ok::<(), phonehome_wire::WireError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod connection;
mod defrag;
mod reassembler;
mod table;

pub use connection::{TcpEvent, TcpState};
pub use defrag::{
    Datagram, FragmentReassembler, FRAGMENT_TIMEOUT_SECS, MAX_DATAGRAM_PAYLOAD,
    MAX_FRAGMENTS_PER_SET, MAX_FRAGMENT_SETS,
};
pub use reassembler::{
    BufferBudget, ReassemblyOutput, ReceivedSegment, TcpReassembler, MAX_SEGMENTS,
    MAX_SEQUENCE_JUMP,
};
pub use table::{is_service_port, FlowTable};

use phonehome_model::{Direction, Protocol, Timestamp, WarningCode};
use std::net::SocketAddr;

/// Which captured frame something came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FrameMeta {
    /// 1-based frame number in the capture file.
    pub number: u64,
    /// Capture time of the frame.
    pub time: Timestamp,
}

/// Identifies one connection (or UDP flow) within a [`FlowTable`]; never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// A connection's identity, fixed when it is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnInfo {
    /// The connection's id.
    pub id: ConnId,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The side that opened the connection (SYN sender), or the best guess (see
    /// [`is_service_port`]).
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// The frame that opened the connection in this table.
    pub first_frame: FrameMeta,
    /// The connection was opened by a SYN or SYN+ACK seen in the capture (not picked up mid-stream).
    pub saw_syn: bool,
}

/// Counters for one connection, handed to [`StreamSink::close`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// Client→server stream bytes (delivered plus declared lost; TCP), or datagram payload bytes (UDP).
    pub bytes_client: u64,
    /// Server→client bytes, counted the same way.
    pub bytes_server: u64,
    /// Packets seen in both directions (retransmissions and pure ACKs included).
    pub packets: u64,
    /// Capture time of the first packet.
    pub first_time: Timestamp,
    /// Capture time of the last packet.
    pub last_time: Timestamp,
    /// Gaps reported (both directions).
    pub gaps: u64,
}

/// Receives everything the flow layer produces. `dir` is [`Direction::Request`] for
/// client→server bytes and [`Direction::Response`] for server→client bytes.
///
/// For every TCP connection the calls are: `open`, then any `data`/`gap` per direction in stream
/// order, exactly one `end` per direction, then exactly one `close`. A UDP flow gets `open`,
/// `datagram`s and `close` (no `end`). `warning` may come at any time.
pub trait StreamSink {
    /// A connection (or UDP flow) starts.
    fn open(&mut self, conn: &ConnInfo);
    /// In-order TCP bytes of one direction; `frame` is the packet whose arrival made these bytes
    /// available (for a hole filled late, the filling packet).
    fn data(&mut self, conn: &ConnInfo, dir: Direction, data: &[u8], frame: FrameMeta);
    /// `missing` bytes of one direction are lost (never captured, snap-length cut, buffer cap);
    /// the stream resumes after them.
    fn gap(&mut self, conn: &ConnInfo, dir: Direction, missing: u64, frame: FrameMeta);
    /// One UDP datagram (UDP flows are keyed by 5-tuple; client = first sender unless ports say
    /// otherwise).
    fn datagram(&mut self, conn: &ConnInfo, dir: Direction, data: &[u8], frame: FrameMeta);
    /// The direction has ended: its FIN was reached in order, or the connection is closing
    /// (RST, port reuse, eviction, end of input). HTTP uses it to end read-until-close bodies.
    fn end(&mut self, conn: &ConnInfo, dir: Direction, frame: FrameMeta);
    /// The connection is over (both FINs, RST, port reuse, eviction, or end of input). Called
    /// exactly once per opened connection.
    fn close(&mut self, conn: &ConnInfo, stats: &ConnStats);
    /// Oddities: overlap conflict (first copy kept), buffer limit hit, malformed packet.
    fn warning(&mut self, code: WarningCode, frame: FrameMeta, reason: String);
}
