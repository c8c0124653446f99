//! A capture as what the flow stage delivered: per-connection TCP streams and UDP datagrams.

use phonehome_flow::{ConnId, ConnInfo, ConnStats, FlowTable, FrameMeta, StreamSink};
use phonehome_ingest::{read_capture, CaptureEvent};
use phonehome_model::{Direction, Limits, Protocol, WarningCode};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// One thing the flow stage delivered on a TCP connection; the last field is the frame number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEvent {
    /// In-order bytes of one direction, and the frame whose arrival made them available.
    Data(Direction, Vec<u8>, u64),
    /// This many bytes of one direction are lost; the stream resumes after them.
    Gap(Direction, u64, u64),
    /// The direction has ended (FIN reached in order, RST, eviction or end of input).
    End(Direction, u64),
}

/// One TCP connection as the flow stage delivered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpStreamRecord {
    /// The flow table's id for the connection.
    pub id: ConnId,
    /// The side that opened the connection (or the flow table's best guess).
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// The frame that opened the connection.
    pub first_frame: u64,
    /// The connection was opened by a SYN seen in the capture.
    pub saw_syn: bool,
    /// Every delivered client→server byte, gaps left out.
    pub client_bytes: Vec<u8>,
    /// Every delivered server→client byte, gaps left out.
    pub server_bytes: Vec<u8>,
    /// Data, gaps and ends of both directions, in the order the flow stage delivered them.
    pub events: Vec<StreamEvent>,
}

/// One UDP flow as the flow stage delivered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpFlowRecord {
    /// The flow table's id for the flow.
    pub id: ConnId,
    /// The first sender, unless the ports say otherwise.
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// The frame that opened the flow.
    pub first_frame: u64,
    /// The flow's datagrams (direction, payload, frame number), in capture order.
    pub datagrams: Vec<(Direction, Vec<u8>, u64)>,
}

/// Everything [`read_streams`] kept of a capture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureStreams {
    /// TCP connections, in the order they were opened.
    pub tcp: Vec<TcpStreamRecord>,
    /// UDP flows, in the order they were opened.
    pub udp: Vec<UdpFlowRecord>,
    /// The capture's decryption secrets blocks (pcapng DSB): secrets type and data, in file order.
    pub secrets: Vec<(u32, Vec<u8>)>,
    /// For every TCP [`StreamEvent`] across all connections, in delivery order, the index in
    /// [`tcp`](Self::tcp) of its connection: the `k`-th occurrence of `i` is `tcp[i].events[k]`.
    pub tcp_order: Vec<usize>,
    /// Indices in [`tcp`](Self::tcp), in the order the connections were closed.
    pub tcp_closed: Vec<usize>,
}

impl CaptureStreams {
    /// Every TCP stream event with its connection's index in [`tcp`](Self::tcp), in the order the
    /// flow stage delivered them across all connections (replaying a capture as it was read).
    pub fn tcp_events_in_order(&self) -> impl Iterator<Item = (usize, &StreamEvent)> + '_ {
        let mut next = vec![0usize; self.tcp.len()];
        self.tcp_order.iter().map(move |&i| {
            let event = &self.tcp[i].events[next[i]];
            next[i] += 1;
            (i, event)
        })
    }

    /// Each TCP connection's events, in the order the connections were opened.
    pub fn tcp_events(self) -> Vec<Vec<StreamEvent>> {
        self.tcp.into_iter().map(|c| c.events).collect()
    }
}

/// Reads the capture at `path` through `phonehome-ingest` → `phonehome-wire` →
/// `phonehome-flow` (default [`Limits`]) and keeps everything the flow stage delivered.
///
/// Frames that are not IP are skipped, as the pipeline skips them. Panics (naming the file) when
/// `phonehome-ingest` cannot read the capture at all.
pub fn read_streams(path: &Path) -> CaptureStreams {
    let mut table = FlowTable::new(&Limits::default());
    let mut sink = Recorder::default();
    let mut last = FrameMeta::default();
    let name: Arc<str> = Arc::from(path.display().to_string());
    let read = read_capture(path, name, &mut |event| match event {
        CaptureEvent::Frame(f) => {
            let meta = FrameMeta {
                number: f.number,
                time: f.time,
            };
            last = meta;
            if let Ok(ip) = phonehome_wire::parse_frame(f.linktype, f.data) {
                table.packet(meta, ip, &mut sink);
            }
        }
        CaptureEvent::Secrets { kind, data } => sink.streams.secrets.push((kind, data.to_vec())),
        CaptureEvent::Warning(_) => {}
    });
    if let Err(e) = read {
        // The error names the file (it was read under its path).
        panic!("{e}");
    }
    table.finish(last, &mut sink);
    sink.streams
}

/// Where a flow-table connection went in [`CaptureStreams`].
#[derive(Clone, Copy)]
enum Slot {
    Tcp(usize),
    Udp(usize),
}

/// The [`StreamSink`] behind [`read_streams`].
#[derive(Default)]
struct Recorder {
    streams: CaptureStreams,
    slots: HashMap<ConnId, Slot>,
}

impl Recorder {
    /// The TCP connection `id`, when it is one.
    fn tcp(&mut self, id: ConnId) -> Option<(usize, &mut TcpStreamRecord)> {
        match self.slots.get(&id) {
            Some(Slot::Tcp(i)) => Some((*i, &mut self.streams.tcp[*i])),
            _ => None,
        }
    }

    /// Appends `event` to the TCP connection `id`.
    fn push(&mut self, id: ConnId, event: StreamEvent) {
        if let Some((i, conn)) = self.tcp(id) {
            conn.events.push(event);
            self.streams.tcp_order.push(i);
        }
    }
}

impl StreamSink for Recorder {
    fn open(&mut self, conn: &ConnInfo) {
        let slot = if conn.protocol == Protocol::Tcp {
            self.streams.tcp.push(TcpStreamRecord {
                id: conn.id,
                client: conn.client,
                server: conn.server,
                first_frame: conn.first_frame.number,
                saw_syn: conn.saw_syn,
                client_bytes: Vec::new(),
                server_bytes: Vec::new(),
                events: Vec::new(),
            });
            Slot::Tcp(self.streams.tcp.len() - 1)
        } else {
            self.streams.udp.push(UdpFlowRecord {
                id: conn.id,
                client: conn.client,
                server: conn.server,
                first_frame: conn.first_frame.number,
                datagrams: Vec::new(),
            });
            Slot::Udp(self.streams.udp.len() - 1)
        };
        self.slots.insert(conn.id, slot);
    }

    fn data(&mut self, conn: &ConnInfo, dir: Direction, data: &[u8], frame: FrameMeta) {
        if let Some((_, tcp)) = self.tcp(conn.id) {
            match dir {
                Direction::Request => tcp.client_bytes.extend_from_slice(data),
                Direction::Response => tcp.server_bytes.extend_from_slice(data),
            }
        }
        self.push(conn.id, StreamEvent::Data(dir, data.to_vec(), frame.number));
    }

    fn gap(&mut self, conn: &ConnInfo, dir: Direction, missing: u64, frame: FrameMeta) {
        self.push(conn.id, StreamEvent::Gap(dir, missing, frame.number));
    }

    fn datagram(&mut self, conn: &ConnInfo, dir: Direction, data: &[u8], frame: FrameMeta) {
        if let Some(Slot::Udp(i)) = self.slots.get(&conn.id) {
            self.streams.udp[*i]
                .datagrams
                .push((dir, data.to_vec(), frame.number));
        }
    }

    fn end(&mut self, conn: &ConnInfo, dir: Direction, frame: FrameMeta) {
        self.push(conn.id, StreamEvent::End(dir, frame.number));
    }

    fn close(&mut self, conn: &ConnInfo, _: &ConnStats) {
        if let Some(Slot::Tcp(i)) = self.slots.get(&conn.id) {
            self.streams.tcp_closed.push(*i);
        }
    }

    fn warning(&mut self, _: WarningCode, _: FrameMeta, _: String) {}
}
