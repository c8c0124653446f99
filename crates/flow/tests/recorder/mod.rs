//! A `StreamSink` that records every call, and checks the call-order contract.

#![allow(dead_code)]

use phonehome_flow::{ConnId, ConnInfo, ConnStats, FrameMeta, StreamSink};
use phonehome_model::{Direction, WarningCode};
use std::collections::HashMap;

/// One call to the sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Open(ConnInfo),
    Data(ConnId, Direction, Vec<u8>, u64),
    Gap(ConnId, Direction, u64, u64),
    Datagram(ConnId, Direction, Vec<u8>, u64),
    End(ConnId, Direction, u64),
    Close(ConnId, ConnStats),
    Warning(WarningCode, u64, String),
}

/// Records every call in order.
#[derive(Default)]
pub struct Recorder {
    pub events: Vec<Event>,
}

impl StreamSink for Recorder {
    fn open(&mut self, conn: &ConnInfo) {
        self.events.push(Event::Open(conn.clone()));
    }
    fn data(&mut self, conn: &ConnInfo, dir: Direction, data: &[u8], frame: FrameMeta) {
        self.events
            .push(Event::Data(conn.id, dir, data.to_vec(), frame.number));
    }
    fn gap(&mut self, conn: &ConnInfo, dir: Direction, missing: u64, frame: FrameMeta) {
        self.events
            .push(Event::Gap(conn.id, dir, missing, frame.number));
    }
    fn datagram(&mut self, conn: &ConnInfo, dir: Direction, data: &[u8], frame: FrameMeta) {
        self.events
            .push(Event::Datagram(conn.id, dir, data.to_vec(), frame.number));
    }
    fn end(&mut self, conn: &ConnInfo, dir: Direction, frame: FrameMeta) {
        self.events.push(Event::End(conn.id, dir, frame.number));
    }
    fn close(&mut self, conn: &ConnInfo, stats: &ConnStats) {
        self.events.push(Event::Close(conn.id, stats.clone()));
    }
    fn warning(&mut self, code: WarningCode, frame: FrameMeta, reason: String) {
        self.events.push(Event::Warning(code, frame.number, reason));
    }
}

/// A piece of a recorded stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Bytes(Vec<u8>),
    Gap(u64),
}

impl Recorder {
    /// Connections in the order they were opened.
    pub fn conns(&self) -> Vec<ConnInfo> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Open(info) => Some(info.clone()),
                _ => None,
            })
            .collect()
    }

    /// The bytes of one direction (gaps left out).
    pub fn stream(&self, id: ConnId, dir: Direction) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.events {
            if let Event::Data(i, d, bytes, _) = e {
                if *i == id && *d == dir {
                    out.extend_from_slice(bytes);
                }
            }
        }
        out
    }

    /// One direction as bytes and gaps, adjacent bytes merged.
    pub fn pieces(&self, id: ConnId, dir: Direction) -> Vec<Piece> {
        let mut out: Vec<Piece> = Vec::new();
        for e in &self.events {
            match e {
                Event::Data(i, d, bytes, _) if *i == id && *d == dir => {
                    if let Some(Piece::Bytes(last)) = out.last_mut() {
                        last.extend_from_slice(bytes);
                    } else {
                        out.push(Piece::Bytes(bytes.clone()));
                    }
                }
                Event::Gap(i, d, n, _) if *i == id && *d == dir => out.push(Piece::Gap(*n)),
                _ => {}
            }
        }
        out
    }

    /// Datagrams of one direction.
    pub fn datagrams(&self, id: ConnId, dir: Direction) -> Vec<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Datagram(i, d, bytes, _) if *i == id && *d == dir => Some(bytes.clone()),
                _ => None,
            })
            .collect()
    }

    /// Warnings with `code`: (frame, reason).
    pub fn warnings(&self, code: WarningCode) -> Vec<(u64, String)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Warning(c, f, r) if *c == code => Some((*f, r.clone())),
                _ => None,
            })
            .collect()
    }

    /// All warnings.
    pub fn all_warnings(&self) -> Vec<(WarningCode, u64, String)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Warning(c, f, r) => Some((*c, *f, r.clone())),
                _ => None,
            })
            .collect()
    }

    /// The stats a connection was closed with.
    pub fn stats(&self, id: ConnId) -> ConnStats {
        self.events
            .iter()
            .find_map(|e| match e {
                Event::Close(i, s) if *i == id => Some(s.clone()),
                _ => None,
            })
            .expect("connection closed")
    }

    /// Frames of the `end` events of one connection.
    pub fn ends(&self, id: ConnId) -> Vec<(Direction, u64)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::End(i, d, f) if *i == id => Some((*d, *f)),
                _ => None,
            })
            .collect()
    }

    /// Checks the sink contract: each connection opened once before anything else about it,
    /// closed exactly once last; TCP directions ended exactly once, with nothing after the end.
    pub fn check_contract(&self) {
        #[derive(Default)]
        struct Seen {
            tcp: bool,
            ended: [bool; 2],
            closed: bool,
        }
        let mut seen: HashMap<ConnId, Seen> = HashMap::new();
        let index = |d: &Direction| usize::from(*d == Direction::Response);
        for e in &self.events {
            match e {
                Event::Open(info) => {
                    let fresh = seen
                        .insert(
                            info.id,
                            Seen {
                                tcp: info.protocol == phonehome_model::Protocol::Tcp,
                                ..Seen::default()
                            },
                        )
                        .is_none();
                    assert!(fresh, "{:?} opened twice", info.id);
                }
                Event::Data(id, d, _, _) | Event::Gap(id, d, _, _) => {
                    let s = seen.get(id).expect("data before open");
                    assert!(
                        s.tcp && !s.closed && !s.ended[index(d)],
                        "{e:?} after end/close"
                    );
                }
                Event::Datagram(id, _, _, _) => {
                    let s = seen.get(id).expect("datagram before open");
                    assert!(!s.tcp && !s.closed, "{e:?}");
                }
                Event::End(id, d, _) => {
                    let s = seen.get_mut(id).expect("end before open");
                    assert!(
                        s.tcp && !s.closed && !s.ended[index(d)],
                        "{e:?} twice or after close"
                    );
                    s.ended[index(d)] = true;
                }
                Event::Close(id, _) => {
                    let s = seen.get_mut(id).expect("close before open");
                    assert!(!s.closed, "{id:?} closed twice");
                    assert!(
                        !s.tcp || s.ended == [true, true],
                        "{id:?} closed before both ends"
                    );
                    s.closed = true;
                }
                Event::Warning(..) => {}
            }
        }
        for (id, s) in seen {
            assert!(s.closed, "{id:?} never closed");
        }
    }
}
