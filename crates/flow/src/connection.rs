//! The TCP connection as a passive observer sees it (RFC 9293 §3.3.2, §3.5, §3.6).
//!
//! An observer never sends, so it follows the connection through the events it can see: the
//! client's SYN, the server's SYN+ACK, segments, each direction's FIN once reached in order, and
//! RST. [`TcpState`] names follow RFC 9293 from the client's side. Every change goes through
//! [`TcpConnection::on_event`], a single `match` over (state, event) with the RFC step it mirrors.

use crate::reassembler::TcpReassembler;
use crate::{ConnInfo, ConnStats};
use phonehome_model::Direction;
use phonehome_wire::SeqNumber;
use std::fmt;

/// Where a TCP connection is, as far as the capture shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    /// The client's SYN was seen, no SYN+ACK yet (client in SYN-SENT).
    SynSent,
    /// The server's SYN+ACK was seen (server in SYN-RECEIVED).
    SynReceived,
    /// Both sides may send (ESTABLISHED); a connection picked up mid-stream starts here.
    Established,
    /// The client's FIN was reached in order (client in FIN-WAIT, server in CLOSE-WAIT).
    FinWait,
    /// The server's FIN was reached in order (client in CLOSE-WAIT, server in FIN-WAIT).
    CloseWait,
    /// Both FINs reached, or a RST (CLOSING/TIME-WAIT/LAST-ACK collapse here for an observer).
    Closed,
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SynSent => "SYN-SENT",
            Self::SynReceived => "SYN-RECEIVED",
            Self::Established => "ESTABLISHED",
            Self::FinWait => "FIN-WAIT",
            Self::CloseWait => "CLOSE-WAIT",
            Self::Closed => "CLOSED",
        })
    }
}

/// What the observer saw happen to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpEvent {
    /// The server answered with SYN+ACK.
    SynAck,
    /// Any segment without SYN (data, ACK, FIN).
    Segment,
    /// One direction's FIN was reached in order.
    End(Direction),
    /// A RST from either side.
    Reset,
    /// The observer stops following the connection (port reuse, eviction, end of input).
    Teardown,
}

/// One TCP connection: its identity, counters, state and one reassembler per direction.
#[derive(Debug)]
pub(crate) struct TcpConnection {
    pub(crate) info: ConnInfo,
    pub(crate) stats: ConnStats,
    pub(crate) state: TcpState,
    /// The client's initial sequence number, when its SYN was seen.
    pub(crate) client_isn: Option<SeqNumber>,
    /// The server's initial sequence number, when its SYN+ACK was seen.
    pub(crate) server_isn: Option<SeqNumber>,
    /// `[client→server, server→client]`.
    pub(crate) streams: [TcpReassembler; 2],
}

impl TcpConnection {
    pub(crate) fn new(info: ConnInfo, state: TcpState, max_buffer: usize) -> Self {
        let stats = ConnStats {
            first_time: info.first_frame.time,
            last_time: info.first_frame.time,
            ..ConnStats::default()
        };
        Self {
            info,
            stats,
            state,
            client_isn: None,
            server_isn: None,
            streams: [
                TcpReassembler::new(max_buffer),
                TcpReassembler::new(max_buffer),
            ],
        }
    }

    /// Applies one event (RFC 9293 §3.5 figure 6 for the opening, §3.6 for the closing).
    pub(crate) fn on_event(&mut self, event: TcpEvent) {
        use Direction::{Request, Response};
        use TcpState::*;
        let next = match (self.state, event) {
            // §3.5 step 2: the server's SYN,ACK answers the client's SYN.
            (SynSent, TcpEvent::SynAck) => SynReceived,
            // §3.5 step 3: the client's ACK (or data) completes the handshake.
            (SynSent | SynReceived, TcpEvent::Segment) => Established,
            // §3.6 case 1: one side closes first (FIN reached in order).
            (SynSent | SynReceived | Established, TcpEvent::End(Request)) => FinWait,
            (SynSent | SynReceived | Established, TcpEvent::End(Response)) => CloseWait,
            // §3.6: the other side's FIN completes the close.
            (FinWait, TcpEvent::End(Response)) | (CloseWait, TcpEvent::End(Request)) => Closed,
            // §3.10.7: a RST in any state aborts the connection.
            (_, TcpEvent::Reset) => Closed,
            // Not an RFC transition: phonehome stops following the connection.
            (_, TcpEvent::Teardown) => Closed,
            // Anything else (retransmissions, ACKs, a duplicate FIN) leaves the state alone.
            (state, _) => state,
        };
        self.state = next;
    }

    /// The direction of a segment from `src`.
    pub(crate) fn direction_from(&self, src: std::net::SocketAddr) -> Direction {
        if src == self.info.client {
            Direction::Request
        } else {
            Direction::Response
        }
    }
}

/// Index of a direction in [`TcpConnection::streams`].
pub(crate) fn stream_index(dir: Direction) -> usize {
    match dir {
        Direction::Request => 0,
        Direction::Response => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnId, FrameMeta};
    use phonehome_model::Protocol;

    fn connection(state: TcpState) -> TcpConnection {
        let info = ConnInfo {
            id: ConnId(1),
            protocol: Protocol::Tcp,
            client: "10.0.0.1:40000".parse().unwrap(),
            server: "10.0.0.2:80".parse().unwrap(),
            first_frame: FrameMeta::default(),
            saw_syn: true,
        };
        TcpConnection::new(info, state, 1024)
    }

    #[test]
    fn handshake_and_orderly_close() {
        let mut c = connection(TcpState::SynSent);
        for (event, expected) in [
            (TcpEvent::SynAck, TcpState::SynReceived),
            (TcpEvent::Segment, TcpState::Established),
            (TcpEvent::End(Direction::Response), TcpState::CloseWait),
            (TcpEvent::Segment, TcpState::CloseWait),
            (TcpEvent::End(Direction::Request), TcpState::Closed),
        ] {
            c.on_event(event);
            assert_eq!(c.state, expected, "after {event:?}");
        }
        assert_eq!(c.state.to_string(), "CLOSED");
    }

    #[test]
    fn reset_closes_from_any_state() {
        for state in [
            TcpState::SynSent,
            TcpState::SynReceived,
            TcpState::Established,
            TcpState::FinWait,
        ] {
            let mut c = connection(state);
            c.on_event(TcpEvent::Reset);
            assert_eq!(c.state, TcpState::Closed);
        }
    }
}
