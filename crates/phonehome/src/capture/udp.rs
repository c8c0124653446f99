//! UDP flows (DNS, QUIC, anything else), DNS messages from UDP and TCP, and payloads no parser
//! claims (`where: stream`).

use super::stream::{App, MAX_STREAM_SCAN};
use super::CaptureRun;
use phonehome_dns::{parse_message, type_name, DnsError, DnsMessage, RData};
use phonehome_flow::{ConnId, ConnInfo, FrameMeta};
use phonehome_model::{
    Body, Direction, Message, NameSource, NotInspected, Protocol, SourceRef, WarningCode,
};
use phonehome_quic::{looks_like_quic, QuicFlow};

/// Ports whose UDP payload is read as DNS when it looks like DNS (DNS, mDNS, LLMNR).
const DNS_PORTS: [u16; 3] = [53, 5353, 5355];

/// What a UDP flow is read as.
pub(crate) enum UdpApp {
    /// Not decided: the first datagram decides.
    Undecided,
    /// DNS messages, one per datagram.
    Dns,
    /// QUIC: Initial packets give SNI and ALPN; the rest is encrypted.
    Quic(Box<QuicFlow>),
    /// Anything else: the client's datagrams are scanned as `stream`, up to a cap.
    Unknown { scanned: usize },
}

/// The starting state of a UDP flow.
pub(crate) fn classify(_conn: &ConnInfo) -> App {
    App::Udp(UdpApp::Undecided)
}

impl CaptureRun<'_> {
    /// One UDP datagram.
    pub(crate) fn udp_datagram(
        &mut self,
        conn: &ConnInfo,
        dir: Direction,
        data: &[u8],
        frame: FrameMeta,
    ) {
        let id = conn.id;
        let Some(state) = self.conns.get_mut(&id) else {
            return;
        };
        let App::Udp(app) = &mut state.app else {
            return;
        };
        if matches!(app, UdpApp::Undecided) {
            let ports = [conn.server.port(), conn.client.port()];
            *app = if ports.iter().any(|p| DNS_PORTS.contains(p))
                && phonehome_dns::looks_like_dns(data)
            {
                state.app_name = Some("dns".to_owned());
                UdpApp::Dns
            } else if looks_like_quic(data) {
                state.app_name = Some("quic".to_owned());
                state.reason = Some(NotInspected::Quic);
                UdpApp::Quic(Box::new(QuicFlow::new()))
            } else {
                state.reason = Some(NotInspected::UnknownProtocol);
                UdpApp::Unknown { scanned: 0 }
            };
        }
        match app {
            UdpApp::Undecided => {}
            UdpApp::Dns => {
                let parsed = parse_message(data);
                self.dns_message(id, dir, parsed, frame);
            }
            UdpApp::Quic(quic) => {
                if let Some(hello) = quic.datagram(data, dir == Direction::Request) {
                    state.alpn = hello.alpn.clone();
                    state.ech = hello.ech;
                    state.sni = hello.sni.clone();
                    if let Some(sni) = hello.sni.as_deref().filter(|_| !hello.ech) {
                        state.add_name(sni, NameSource::Sni);
                    }
                }
            }
            UdpApp::Unknown { scanned } => {
                if dir == Direction::Request && *scanned < MAX_STREAM_SCAN {
                    let take = (MAX_STREAM_SCAN - *scanned).min(data.len());
                    *scanned += take;
                    let bytes = data.get(..take).unwrap_or(data).to_vec();
                    self.stream_payload(id, bytes, frame);
                }
            }
        }
    }

    /// Nothing to flush for UDP today; kept so closing is symmetric with TCP.
    pub(crate) fn udp_close(&mut self, _id: ConnId, _frame: FrameMeta) {}

    /// One DNS message (from UDP or TCP): a query is a request message (a name can carry an
    /// identifier); answers name later flows to their addresses.
    pub(crate) fn dns_message(
        &mut self,
        id: ConnId,
        dir: Direction,
        parsed: Result<DnsMessage, DnsError>,
        frame: FrameMeta,
    ) {
        let msg = match parsed {
            Ok(m) => m,
            Err(e) => {
                self.warn_at(WarningCode::Malformed, frame.number, format!("DNS: {e}"));
                return;
            }
        };
        let asked = msg.questions.first().map(|q| (q.name.clone(), q.qtype));
        if msg.response {
            if let Some((name, _)) = &asked {
                for record in &msg.answers {
                    match &record.data {
                        RData::A(a) => self.dns.insert((*a).into(), name),
                        RData::Aaaa(a) => self.dns.insert((*a).into(), name),
                        _ => {}
                    }
                }
            }
        }
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.messages += 1;
        conn.app_name.get_or_insert_with(|| "dns".to_owned());
        conn.reason = None;
        let (name, qtype) = asked.unwrap_or_default();
        let qtype = type_name(qtype).map_or_else(|| format!("TYPE{qtype}"), str::to_owned);
        let message = Message {
            time: Some(frame.time),
            source: SourceRef::frame(self.file.clone(), frame.number),
            direction: if msg.response {
                Direction::Response
            } else {
                dir
            },
            transport: conn.ctx.transport(None),
            method: Some("QUERY".to_owned()),
            url: format!("dns:{name}?type={qtype}"),
            target: name.clone(),
            host: (!name.is_empty()).then_some(name),
            status: msg.response.then_some(u16::from(msg.rcode)),
            headers: Vec::new(),
            body: Body::default(),
        };
        self.an.message(&message, self.report);
    }

    /// Client bytes of a flow no parser claims: scanned for profile values as `where: stream`.
    pub(crate) fn stream_payload(&mut self, id: ConnId, bytes: Vec<u8>, frame: FrameMeta) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let scheme = match conn.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        let server = conn.ctx.server.map(|s| s.to_string()).unwrap_or_default();
        let host = conn.names.first().map(|n| n.name.clone());
        let message = Message {
            time: Some(frame.time),
            source: SourceRef::frame(self.file.clone(), frame.number),
            direction: Direction::Request,
            transport: conn.ctx.transport(None),
            method: None,
            url: format!("{scheme}://{server}"),
            target: String::new(),
            host,
            status: None,
            headers: Vec::new(),
            body: Body::plain(bytes),
        };
        self.an.stream_message(&message, self.report);
    }
}
