//! The flow table: which packets belong to which connection, and in which direction.

use crate::connection::{stream_index, TcpConnection, TcpEvent, TcpState};
use crate::defrag::FragmentReassembler;
use crate::reassembler::{BufferBudget, ReassemblyOutput, ReceivedSegment};
use crate::{ConnId, ConnInfo, ConnStats, FrameMeta, StreamSink};
use phonehome_model::{Direction, Limits, Protocol, WarningCode};
use phonehome_wire::{
    parse_transport, skip_ipv6_extension_headers, IpPacket, SeqNumber, TcpSegment, Transport,
    UdpDatagram, WireError,
};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

/// Whether `port` looks like a server's: below 1024, or a well-known alternative
/// (8080, 8000, 8443, 5228 for Google's push service; 53, 80, 443, 853 are below 1024 anyway).
/// Without a SYN, the side with a service port is taken as the server; when both have one, the
/// lower port.
pub fn is_service_port(port: u16) -> bool {
    port < 1024 || matches!(port, 8080 | 8000 | 8443 | 5228)
}

/// Client and server of a flow whose first packet (no SYN) went from `src` to `dst`.
fn guess_roles(src: SocketAddr, dst: SocketAddr) -> (SocketAddr, SocketAddr) {
    match (is_service_port(src.port()), is_service_port(dst.port())) {
        (true, false) => (dst, src),
        (true, true) if src.port() < dst.port() => (dst, src),
        _ => (src, dst),
    }
}

/// A flow's key: protocol and the two endpoints in a fixed order, so both directions match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FlowKey {
    protocol: Protocol,
    low: SocketAddr,
    high: SocketAddr,
}

impl FlowKey {
    fn new(protocol: Protocol, a: SocketAddr, b: SocketAddr) -> Self {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        Self {
            protocol,
            low,
            high,
        }
    }
}

#[derive(Debug)]
struct UdpFlow {
    info: ConnInfo,
    stats: ConnStats,
    /// A snap-length warning was given for this flow (one per flow).
    truncation_warned: bool,
}

#[derive(Debug)]
enum FlowState {
    Tcp(Box<TcpConnection>),
    Udp(Box<UdpFlow>),
    /// A TCP connection already closed (`close` was called): late packets for it (the last ACK,
    /// data racing a RST) are dropped silently until a new SYN reuses the 4-tuple.
    Closed,
}

#[derive(Debug)]
struct FlowEntry {
    state: FlowState,
    /// Activity counter value at the last packet, the entry's key in `FlowTable::lru`.
    tick: u64,
}

/// What a TCP segment does to the connection on its 4-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TcpAction {
    /// Belongs to the current connection.
    Continue,
    /// Opens a connection (none, or only a closed one, on the 4-tuple).
    Open,
    /// Closes the current connection and opens a new one (port reuse).
    Reuse,
    /// For a closed connection: dropped.
    Drop,
    /// Opens nothing (a pure ACK or RST with no connection): ignored.
    Ignore,
}

/// All flows of one capture: IP defragmentation, then TCP connections (reassembled per
/// direction) and UDP flows, delivered to a [`StreamSink`].
///
/// Memory is bounded by `Limits`: `max_flows` entries (the least recently active is closed beyond
/// it), `max_flow_buffer` out-of-order bytes per TCP direction, `max_total_buffer` across all
/// of them, `max_fragment_buffer` bytes of IP fragments.
#[derive(Debug)]
pub struct FlowTable {
    flows: HashMap<FlowKey, FlowEntry>,
    /// Flow keys by last activity (oldest first).
    lru: BTreeMap<u64, FlowKey>,
    tick: u64,
    next_id: u64,
    max_flows: usize,
    max_flow_buffer: usize,
    budget: BufferBudget,
    fragments: FragmentReassembler,
    /// Live flows closed for room in this file (one warning is given).
    evicted: u64,
}

impl FlowTable {
    /// An empty table with the caps from `limits` (`max_flow_buffer`, `max_total_buffer`,
    /// `max_flows`, `max_fragment_buffer`).
    pub fn new(limits: &Limits) -> Self {
        Self {
            flows: HashMap::new(),
            lru: BTreeMap::new(),
            tick: 0,
            next_id: 1,
            max_flows: limits.max_flows.max(1),
            max_flow_buffer: limits.max_flow_buffer,
            budget: BufferBudget::new(limits.max_total_buffer),
            fragments: FragmentReassembler::new(limits.max_fragment_buffer),
            evicted: 0,
        }
    }

    /// Open connections and UDP flows.
    pub fn open_flows(&self) -> usize {
        self.flows
            .values()
            .filter(|e| !matches!(e.state, FlowState::Closed))
            .count()
    }

    /// Entries in the table, closed TCP connections remembered for late packets included
    /// (at most `Limits::max_flows`).
    pub fn entries(&self) -> usize {
        self.flows.len()
    }

    /// Out-of-order TCP bytes held across all connections.
    pub fn buffered_bytes(&self) -> usize {
        self.budget.used()
    }

    /// Bytes held in incomplete IP datagrams.
    pub fn fragment_bytes(&self) -> usize {
        self.fragments.held_bytes()
    }

    /// One packet from the wire layer. Fragments are reassembled first (RFC 791 / RFC 8200),
    /// then TCP segments and UDP datagrams go to their flow. Other protocols are ignored.
    pub fn packet(&mut self, frame: FrameMeta, ip: IpPacket<'_>, sink: &mut dyn StreamSink) {
        self.fragments.expire(frame, sink);
        if ip.fragment.is_none() {
            self.transport(frame, &ip, sink);
            return;
        }
        let Some(datagram) = self.fragments.fragment(frame, &ip, sink) else {
            return;
        };
        let (protocol, payload) = if datagram.src.is_ipv6() {
            match skip_ipv6_extension_headers(datagram.protocol, &datagram.payload) {
                Ok(upper) => upper,
                Err(e) => {
                    sink.warning(
                        WarningCode::Malformed,
                        frame,
                        format!("reassembled IPv6 datagram: {e}"),
                    );
                    return;
                }
            }
        } else {
            (datagram.protocol, datagram.payload.as_slice())
        };
        let whole = IpPacket {
            src: datagram.src,
            dst: datagram.dst,
            protocol,
            payload,
            fragment: None,
            truncated_by: 0,
        };
        self.transport(frame, &whole, sink);
    }

    /// End of one capture file: incomplete datagrams are reported, every open connection is
    /// flushed (trailing holes become gaps, held bytes after them are delivered), ended and
    /// closed, in the order the connections were opened. The table is then empty.
    pub fn finish(&mut self, frame: FrameMeta, sink: &mut dyn StreamSink) {
        self.fragments.finish(frame, sink);
        let mut live: Vec<(ConnId, FlowKey)> = self
            .flows
            .iter()
            .filter_map(|(key, entry)| match &entry.state {
                FlowState::Tcp(conn) => Some((conn.info.id, *key)),
                FlowState::Udp(flow) => Some((flow.info.id, *key)),
                FlowState::Closed => None,
            })
            .collect();
        live.sort_by_key(|(id, _)| *id);
        for (_, key) in live {
            self.close_flow(key, frame, sink);
        }
        self.flows.clear();
        self.lru.clear();
        self.evicted = 0;
    }

    fn transport(&mut self, frame: FrameMeta, ip: &IpPacket<'_>, sink: &mut dyn StreamSink) {
        match parse_transport(ip.protocol, ip.payload) {
            Ok(Transport::Tcp(segment)) => self.tcp(frame, ip, &segment, sink),
            Ok(Transport::Udp(datagram)) => self.udp(frame, ip, &datagram, sink),
            Ok(Transport::Other(_)) => {}
            Err(e) => {
                let code = match e {
                    WireError::Truncated { .. } if ip.truncated_by > 0 => WarningCode::Truncated,
                    _ => WarningCode::Malformed,
                };
                sink.warning(code, frame, format!("{} → {}: {e}", ip.src, ip.dst));
            }
        }
    }

    fn tcp(
        &mut self,
        frame: FrameMeta,
        ip: &IpPacket<'_>,
        segment: &TcpSegment<'_>,
        sink: &mut dyn StreamSink,
    ) {
        let src = SocketAddr::new(ip.src, segment.src_port);
        let dst = SocketAddr::new(ip.dst, segment.dst_port);
        let key = FlowKey::new(Protocol::Tcp, src, dst);
        let flags = segment.flags;
        let seq = SeqNumber(segment.seq);
        let carries = !segment.payload.is_empty() || flags.fin() || ip.truncated_by > 0;
        let action = match self.flows.get(&key).map(|e| &e.state) {
            None if flags.rst() => TcpAction::Ignore,
            None if flags.syn() || carries => TcpAction::Open,
            None => TcpAction::Ignore,
            Some(FlowState::Closed) if flags.syn() && !flags.rst() => TcpAction::Open,
            Some(FlowState::Closed) => TcpAction::Drop,
            Some(FlowState::Udp(_)) => TcpAction::Ignore,
            Some(FlowState::Tcp(conn)) => continue_or_reuse(conn, src, seq, segment),
        };
        match action {
            TcpAction::Ignore => return,
            TcpAction::Drop => {
                self.touch(key);
                return;
            }
            TcpAction::Reuse => {
                self.close_flow(key, frame, sink);
                self.open_tcp(key, frame, src, dst, segment, sink);
            }
            TcpAction::Open => self.open_tcp(key, frame, src, dst, segment, sink),
            TcpAction::Continue => self.touch(key),
        }

        let Some(FlowEntry {
            state: FlowState::Tcp(boxed),
            ..
        }) = self.flows.get_mut(&key)
        else {
            return;
        };
        let conn: &mut TcpConnection = boxed;
        conn.stats.packets = conn.stats.packets.saturating_add(1);
        conn.stats.last_time = frame.time;
        let dir = conn.direction_from(src);
        let index = stream_index(dir);
        if flags.rst() {
            // RFC 9293 §3.10.7: the connection is aborted.
            conn.on_event(TcpEvent::Reset);
            self.close_flow(key, frame, sink);
            return;
        }
        let mut data_seq = seq;
        if flags.syn() {
            // The SYN occupies one sequence number; data in a SYN follows it (RFC 9293 §3.4).
            let isn = match dir {
                Direction::Request => &mut conn.client_isn,
                Direction::Response => &mut conn.server_isn,
            };
            isn.get_or_insert(seq);
            data_seq = seq + 1;
            if let Some(stream) = conn.streams.get_mut(index) {
                stream.start(data_seq);
            }
            if flags.ack() {
                conn.on_event(TcpEvent::SynAck);
            }
        } else {
            conn.on_event(TcpEvent::Segment);
        }
        let Some(stream) = conn.streams.get_mut(index) else {
            return;
        };
        let was_ended = stream.is_ended();
        if carries {
            let mut out = DirectionOutput {
                sink: &mut *sink,
                info: &conn.info,
                stats: &mut conn.stats,
                dir,
                frame,
            };
            stream.segment(
                ReceivedSegment {
                    seq: data_seq,
                    data: segment.payload,
                    missing: u64::from(ip.truncated_by),
                    fin: flags.fin(),
                    frame: frame.number,
                },
                &mut self.budget,
                &mut out,
            );
        }
        if !was_ended && stream.is_ended() {
            conn.on_event(TcpEvent::End(dir));
        }
        if conn.state == TcpState::Closed {
            self.close_flow(key, frame, sink);
        }
    }

    fn open_tcp(
        &mut self,
        key: FlowKey,
        frame: FrameMeta,
        src: SocketAddr,
        dst: SocketAddr,
        segment: &TcpSegment<'_>,
        sink: &mut dyn StreamSink,
    ) {
        let flags = segment.flags;
        // The SYN sender is the client, the SYN+ACK sender the server (RFC 9293 §3.5);
        // otherwise guess from the ports.
        let ((client, server), state) = match (flags.syn(), flags.ack()) {
            (true, false) => ((src, dst), TcpState::SynSent),
            (true, true) => ((dst, src), TcpState::SynReceived),
            _ => (guess_roles(src, dst), TcpState::Established),
        };
        let info = ConnInfo {
            id: self.new_id(),
            protocol: Protocol::Tcp,
            client,
            server,
            first_frame: frame,
            saw_syn: flags.syn(),
        };
        self.make_room(key, frame, sink);
        sink.open(&info);
        let conn = TcpConnection::new(info, state, self.max_flow_buffer);
        self.insert(key, FlowState::Tcp(Box::new(conn)));
    }

    fn udp(
        &mut self,
        frame: FrameMeta,
        ip: &IpPacket<'_>,
        datagram: &UdpDatagram<'_>,
        sink: &mut dyn StreamSink,
    ) {
        let src = SocketAddr::new(ip.src, datagram.src_port);
        let dst = SocketAddr::new(ip.dst, datagram.dst_port);
        let key = FlowKey::new(Protocol::Udp, src, dst);
        if self.flows.contains_key(&key) {
            self.touch(key);
        } else {
            let (client, server) = guess_roles(src, dst);
            let info = ConnInfo {
                id: self.new_id(),
                protocol: Protocol::Udp,
                client,
                server,
                first_frame: frame,
                saw_syn: false,
            };
            self.make_room(key, frame, sink);
            sink.open(&info);
            let stats = ConnStats {
                first_time: frame.time,
                last_time: frame.time,
                ..ConnStats::default()
            };
            self.insert(
                key,
                FlowState::Udp(Box::new(UdpFlow {
                    info,
                    stats,
                    truncation_warned: false,
                })),
            );
        }
        let Some(FlowEntry {
            state: FlowState::Udp(flow),
            ..
        }) = self.flows.get_mut(&key)
        else {
            return;
        };
        flow.stats.packets = flow.stats.packets.saturating_add(1);
        flow.stats.last_time = frame.time;
        let (dir, counter) = if src == flow.info.client {
            (Direction::Request, &mut flow.stats.bytes_client)
        } else {
            (Direction::Response, &mut flow.stats.bytes_server)
        };
        *counter = counter.saturating_add(datagram.payload.len() as u64);
        sink.datagram(&flow.info, dir, datagram.payload, frame);
        if ip.truncated_by > 0 && !flow.truncation_warned {
            flow.truncation_warned = true;
            sink.warning(
                WarningCode::Truncated,
                frame,
                format!(
                    "UDP datagram {src} → {dst} cut by the snap length: {} bytes missing (later cuts in \
                     this flow are not reported)",
                    ip.truncated_by
                ),
            );
        }
    }

    fn new_id(&mut self) -> ConnId {
        let id = ConnId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        id
    }

    /// Evicts least recently active entries until a new key fits under `max_flows`.
    fn make_room(&mut self, key: FlowKey, frame: FrameMeta, sink: &mut dyn StreamSink) {
        if self.flows.contains_key(&key) {
            return;
        }
        while self.flows.len() >= self.max_flows {
            let Some((_, oldest)) = self.lru.pop_first() else {
                break;
            };
            let live = self
                .flows
                .get(&oldest)
                .is_some_and(|e| !matches!(e.state, FlowState::Closed));
            if live {
                if self.evicted == 0 {
                    sink.warning(
                        WarningCode::Limit,
                        frame,
                        format!(
                            "more than {} flows open: the least recently active ones are closed early",
                            self.max_flows
                        ),
                    );
                }
                self.evicted = self.evicted.saturating_add(1);
                self.close_flow(oldest, frame, sink);
            }
            self.flows.remove(&oldest);
        }
    }

    /// Puts a new flow in the table as the most recently active.
    fn insert(&mut self, key: FlowKey, state: FlowState) {
        self.tick = self.tick.saturating_add(1);
        if let Some(old) = self.flows.insert(
            key,
            FlowEntry {
                state,
                tick: self.tick,
            },
        ) {
            self.lru.remove(&old.tick);
        }
        self.lru.insert(self.tick, key);
    }

    /// Marks a flow as the most recently active.
    fn touch(&mut self, key: FlowKey) {
        if let Some(entry) = self.flows.get_mut(&key) {
            self.tick = self.tick.saturating_add(1);
            self.lru.remove(&entry.tick);
            entry.tick = self.tick;
            self.lru.insert(self.tick, key);
        }
    }

    /// Flushes, ends and closes a flow; a TCP connection stays as a [`FlowState::Closed`] entry.
    fn close_flow(&mut self, key: FlowKey, frame: FrameMeta, sink: &mut dyn StreamSink) {
        let Some(entry) = self.flows.get_mut(&key) else {
            return;
        };
        match std::mem::replace(&mut entry.state, FlowState::Closed) {
            FlowState::Tcp(mut boxed) => {
                let conn: &mut TcpConnection = &mut boxed;
                for dir in [Direction::Request, Direction::Response] {
                    let mut out = DirectionOutput {
                        sink: &mut *sink,
                        info: &conn.info,
                        stats: &mut conn.stats,
                        dir,
                        frame,
                    };
                    if let Some(stream) = conn.streams.get_mut(stream_index(dir)) {
                        stream.close(&mut self.budget, &mut out);
                    }
                }
                conn.on_event(TcpEvent::Teardown);
                sink.close(&conn.info, &conn.stats);
            }
            FlowState::Udp(flow) => {
                sink.close(&flow.info, &flow.stats);
                if let Some(entry) = self.flows.remove(&key) {
                    self.lru.remove(&entry.tick);
                }
            }
            FlowState::Closed => {}
        }
    }
}

/// Whether a segment continues the connection on its 4-tuple or starts a new one.
fn continue_or_reuse(
    conn: &TcpConnection,
    src: SocketAddr,
    seq: SeqNumber,
    segment: &TcpSegment<'_>,
) -> TcpAction {
    let flags = segment.flags;
    let from_client = src == conn.info.client;
    match (flags.syn(), flags.ack()) {
        // A SYN: a retransmission if it repeats the client's ISN; the client's SYN seen after
        // the server's SYN+ACK (capture reordering); otherwise a new connection on the 4-tuple.
        (true, false) if from_client && conn.client_isn == Some(seq) => TcpAction::Continue,
        (true, false)
            if from_client
                && conn.client_isn.is_none()
                && conn.state == TcpState::SynReceived
                && conn.streams.first().is_some_and(|s| !s.is_started()) =>
        {
            TcpAction::Continue
        }
        (true, false) => TcpAction::Reuse,
        // A SYN+ACK: a retransmission, or the answer to the SYN; else a new connection.
        (true, true) if !from_client && conn.server_isn == Some(seq) => TcpAction::Continue,
        (true, true)
            if !from_client && conn.server_isn.is_none() && conn.state == TcpState::SynSent =>
        {
            TcpAction::Continue
        }
        (true, true) => TcpAction::Reuse,
        _ => TcpAction::Continue,
    }
}

/// Adapts a [`StreamSink`] to one direction of one connection for a [`crate::TcpReassembler`].
struct DirectionOutput<'a> {
    sink: &'a mut dyn StreamSink,
    info: &'a ConnInfo,
    stats: &'a mut ConnStats,
    dir: Direction,
    frame: FrameMeta,
}

impl DirectionOutput<'_> {
    fn count(&mut self, bytes: u64) {
        let counter = match self.dir {
            Direction::Request => &mut self.stats.bytes_client,
            Direction::Response => &mut self.stats.bytes_server,
        };
        *counter = counter.saturating_add(bytes);
    }
}

impl ReassemblyOutput for DirectionOutput<'_> {
    fn data(&mut self, data: &[u8]) {
        self.count(data.len() as u64);
        self.sink.data(self.info, self.dir, data, self.frame);
    }

    fn gap(&mut self, missing: u64) {
        self.count(missing);
        self.stats.gaps = self.stats.gaps.saturating_add(1);
        self.sink.gap(self.info, self.dir, missing, self.frame);
    }

    fn end(&mut self) {
        self.sink.end(self.info, self.dir, self.frame);
    }

    fn warning(&mut self, code: WarningCode, reason: String) {
        let reason = format!(
            "{} → {}: {reason}",
            self.endpoint(true),
            self.endpoint(false)
        );
        self.sink.warning(code, self.frame, reason);
    }
}

impl DirectionOutput<'_> {
    /// The sending (`true`) or receiving endpoint of this direction.
    fn endpoint(&self, sender: bool) -> SocketAddr {
        match (self.dir, sender) {
            (Direction::Request, true) | (Direction::Response, false) => self.info.client,
            _ => self.info.server,
        }
    }
}
