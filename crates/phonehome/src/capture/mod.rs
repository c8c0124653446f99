//! The capture path: frames → IP → flows → (TLS) → protocol detection → HTTP/1.1, HTTP/2, DNS →
//! messages. UDP flows go to DNS or QUIC. Bytes no parser claims are scanned as `stream`.
//!
//! Each TCP connection is a small stack of layers, decided from the bytes themselves, never from
//! the port: an optional [`TlsSession`] (decrypting with the key log when it can) under an [`App`]
//! that starts as `Detecting` and becomes HTTP/1.x, HTTP/2, DNS over TCP, or `Opaque`. After a
//! 101 or a 2xx answer to CONNECT the stream goes back to `Detecting`, so a tunnel's TLS is found.

mod dns_names;
mod stream;
mod udp;

use crate::Analyzer;
use dns_names::DnsNames;
use phonehome_flow::{ConnId, ConnInfo, ConnStats, FlowTable, FrameMeta, StreamSink};
use phonehome_ingest::{read_capture_from, CaptureEvent, SECRETS_TLS_KEY_LOG};
use phonehome_message::ConnContext;
use phonehome_model::{
    Direction, FlowName, FlowRecord, NameSource, NotInspected, Protocol, SourceRef, Timestamp,
    Warning, WarningCode,
};
use phonehome_report::Report;
use phonehome_tls::{KeyLog, SessionCache};
use phonehome_wire::WireError;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use stream::App;

/// Most per-frame warnings (undecodable packets…) reported one by one per file; the rest are
/// counted in one closing warning.
pub const MAX_FRAME_WARNINGS: u64 = 1000;

/// Streams one capture through the pipeline; returns the number of frames read, or the reason the
/// file could not be read at all.
pub(crate) fn analyze_capture(
    an: &mut Analyzer,
    reader: &mut dyn Read,
    name: Arc<str>,
    report: &mut dyn Report,
) -> Result<u64, String> {
    let mut table = FlowTable::new(an.limits());
    let keys = an.keylog.clone();
    let mut run = CaptureRun {
        an,
        report,
        file: name.clone(),
        conns: HashMap::new(),
        keys,
        sessions: SessionCache::new(),
        dns: DnsNames::default(),
        frame_warnings: 0,
        unsupported_linktypes: HashSet::new(),
        last: FrameMeta {
            number: 0,
            time: Timestamp::default(),
        },
    };
    let stats = read_capture_from(reader, name.clone(), &mut |event| match event {
        CaptureEvent::Frame(frame) => {
            let meta = FrameMeta {
                number: frame.number,
                time: frame.time,
            };
            run.last = meta;
            match phonehome_wire::parse_frame(frame.linktype, frame.data) {
                Ok(ip) => table.packet(meta, ip, &mut run),
                Err(WireError::NotIp) => {}
                Err(WireError::UnsupportedLinkType(lt)) => {
                    // One warning per link type and file: every frame of it would say the same.
                    if run.unsupported_linktypes.insert(lt) {
                        let reason =
                            format!("link type {lt} is not supported; its frames are skipped");
                        run.frame_warning(
                            WarningCode::Unsupported,
                            meta,
                            Some(frame.offset),
                            reason,
                        );
                    }
                }
                Err(e @ WireError::Truncated { .. })
                    if frame.data.len() < frame.orig_len as usize =>
                {
                    let reason = format!(
                        "{e} (frame cut to {} of {} bytes by the snap length)",
                        frame.data.len(),
                        frame.orig_len
                    );
                    run.frame_warning(WarningCode::Truncated, meta, Some(frame.offset), reason);
                }
                Err(e) => run.frame_warning(
                    WarningCode::Malformed,
                    meta,
                    Some(frame.offset),
                    e.to_string(),
                ),
            }
        }
        CaptureEvent::Secrets { kind, data } => run.secrets(kind, data),
        CaptureEvent::Warning(w) => run.an.warn(&w, run.report),
    });
    let last = run.last;
    table.finish(last, &mut run);
    if run.frame_warnings > MAX_FRAME_WARNINGS {
        let w = Warning::new(
            WarningCode::Malformed,
            name.clone(),
            format!(
                "{} more warnings about packets and protocol anomalies were not reported one by one",
                run.frame_warnings - MAX_FRAME_WARNINGS
            ),
        );
        run.an.warn(&w, run.report);
    }
    if run.dns.overflowed {
        let w = Warning::new(
            WarningCode::Limit,
            name.clone(),
            format!(
                "more than {} addresses in DNS answers; later answers do not name flows",
                dns_names::MAX_DNS_NAMES
            ),
        );
        run.an.warn(&w, run.report);
    }
    stats.map(|s| s.frames).map_err(|e| e.to_string())
}

/// Per-connection state of the capture path.
pub(crate) struct Conn {
    pub(crate) ctx: ConnContext,
    pub(crate) protocol: Protocol,
    pub(crate) app: App,
    pub(crate) app_name: Option<String>,
    pub(crate) reason: Option<NotInspected>,
    pub(crate) messages: u64,
    pub(crate) names: Vec<FlowName>,
    pub(crate) sni: Option<String>,
    pub(crate) ech: bool,
    pub(crate) alpn: Vec<String>,
    /// The host the client last named, for labelling responses.
    pub(crate) host: Option<String>,
    /// An HTTP/1.1 request that asked to upgrade to h2c, until the server answers it.
    pub(crate) pending_upgrade: Option<(phonehome_http::RequestLine, Vec<phonehome_model::Header>)>,
    pub(crate) ended: [bool; 2],
    /// Protocol switches (101, CONNECT) seen so far.
    pub(crate) upgrades: u8,
    /// Data of this connection was lost somewhere.
    pub(crate) gap_seen: bool,
}

impl Conn {
    pub(crate) fn add_name(&mut self, name: &str, source: NameSource) {
        let name = name.trim().trim_end_matches('.').to_owned();
        if name.is_empty()
            || self
                .names
                .iter()
                .any(|n| n.name.eq_ignore_ascii_case(&name) && n.source == source)
        {
            return;
        }
        self.names.push(FlowName { name, source });
    }
}

pub(crate) fn side(dir: Direction) -> usize {
    match dir {
        Direction::Request => 0,
        Direction::Response => 1,
    }
}

/// Everything one capture file's analysis holds besides the flow table.
pub(crate) struct CaptureRun<'a> {
    pub(crate) an: &'a mut Analyzer,
    pub(crate) report: &'a mut dyn Report,
    pub(crate) file: Arc<str>,
    pub(crate) conns: HashMap<ConnId, Conn>,
    /// The key log: `--keylog` files plus this file's Decryption Secrets Blocks so far.
    pub(crate) keys: Arc<KeyLog>,
    /// TLS 1.2 sessions seen in this file, for resumption by session id or ticket.
    pub(crate) sessions: SessionCache,
    pub(crate) dns: DnsNames,
    frame_warnings: u64,
    unsupported_linktypes: HashSet<u32>,
    pub(crate) last: FrameMeta,
}

impl CaptureRun<'_> {
    fn frame_warning(
        &mut self,
        code: WarningCode,
        frame: FrameMeta,
        offset: Option<u64>,
        reason: String,
    ) {
        self.frame_warnings += 1;
        if self.frame_warnings > MAX_FRAME_WARNINGS {
            return;
        }
        let mut w = Warning::new(code, self.file.clone(), reason).at_frame(frame.number);
        w.offset = offset;
        self.an.warn(&w, self.report);
    }

    /// A warning about one frame of this file (protocol anomalies…), counted against
    /// [`MAX_FRAME_WARNINGS`] like undecodable packets, so hostile traffic cannot flood the report.
    pub(crate) fn warn_at(&mut self, code: WarningCode, frame: u64, reason: String) {
        let meta = FrameMeta {
            number: frame,
            time: self.last.time,
        };
        self.frame_warning(code, meta, None, reason);
    }

    /// A pcapng Decryption Secrets Block: TLS key log lines apply to the rest of the file.
    fn secrets(&mut self, kind: u32, data: &[u8]) {
        if kind != SECRETS_TLS_KEY_LOG {
            let w = Warning::new(
                WarningCode::Unsupported,
                self.file.clone(),
                format!("decryption secrets of type {kind:#010x} are not used"),
            )
            .at_frame(self.last.number.saturating_add(1));
            self.an.warn(&w, self.report);
            return;
        }
        let problems = Arc::make_mut(&mut self.keys).add_dsb(data);
        for (line, reason) in problems {
            let w = Warning::new(
                WarningCode::Malformed,
                self.file.clone(),
                format!("decryption secrets block, key log line {line}: {reason}"),
            );
            self.an.warn(&w, self.report);
        }
    }
}

impl StreamSink for CaptureRun<'_> {
    fn open(&mut self, conn: &ConnInfo) {
        let ctx = ConnContext::new(self.file.clone(), Some(conn.client), Some(conn.server));
        let mut state = Conn {
            ctx,
            protocol: conn.protocol,
            app: App::detecting(),
            app_name: None,
            reason: None,
            messages: 0,
            names: Vec::new(),
            sni: None,
            ech: false,
            alpn: Vec::new(),
            host: None,
            pending_upgrade: None,
            ended: [false; 2],
            upgrades: 0,
            gap_seen: false,
        };
        if let Some(name) = self.dns.get(&conn.server.ip()) {
            state.add_name(name, NameSource::Dns);
            state.ctx.dns_name = Some(name.to_owned());
        }
        if conn.protocol == Protocol::Udp {
            state.app = udp::classify(conn);
        }
        self.conns.insert(conn.id, state);
    }

    fn data(&mut self, conn: &ConnInfo, dir: Direction, data: &[u8], frame: FrameMeta) {
        self.transport_bytes(conn.id, dir, data, frame);
    }

    fn gap(&mut self, conn: &ConnInfo, dir: Direction, missing: u64, frame: FrameMeta) {
        self.transport_gap(conn.id, dir, missing, frame);
    }

    fn datagram(&mut self, conn: &ConnInfo, dir: Direction, data: &[u8], frame: FrameMeta) {
        self.udp_datagram(conn, dir, data, frame);
    }

    fn end(&mut self, conn: &ConnInfo, dir: Direction, frame: FrameMeta) {
        let Some(c) = self.conns.get_mut(&conn.id) else {
            return;
        };
        if std::mem::replace(&mut c.ended[side(dir)], true) {
            return;
        }
        self.app_end(conn.id, dir, frame);
    }

    fn close(&mut self, conn: &ConnInfo, stats: &ConnStats) {
        let frame = FrameMeta {
            number: self.last.number,
            time: stats.last_time,
        };
        if conn.protocol == Protocol::Tcp {
            self.end(conn, Direction::Request, frame);
            self.end(conn, Direction::Response, frame);
        }
        self.app_close(conn.id, frame);
        let Some(c) = self.conns.remove(&conn.id) else {
            return;
        };
        let no_payload = stats.bytes_client == 0 && stats.bytes_server == 0;
        let reason = if c.messages > 0 {
            None
        } else if let Some(r) = c.reason {
            Some(r)
        } else if c.gap_seen {
            Some(NotInspected::Gap)
        } else if no_payload {
            Some(NotInspected::NoPayload)
        } else {
            Some(NotInspected::UnknownProtocol)
        };
        let name = [NameSource::Http, NameSource::Sni, NameSource::Dns]
            .into_iter()
            .find_map(|source| c.names.iter().find(|n| n.source == source));
        let destination = self.an.attributor.destination(
            name.map(|n| (n.name.as_str(), n.source)),
            Some(conn.server.ip()),
        );
        let record = FlowRecord {
            protocol: conn.protocol,
            client: conn.client,
            server: conn.server,
            names: c.names,
            destination,
            tls: c.ctx.tls,
            sni: c.sni,
            ech: c.ech,
            alpn: c.alpn,
            app: c.app_name,
            bytes_client: stats.bytes_client,
            bytes_server: stats.bytes_server,
            packets: stats.packets,
            messages: c.messages,
            inspected: reason.is_none(),
            reason,
            first_time: Some(stats.first_time),
            last_time: Some(stats.last_time),
            source: SourceRef::frame(self.file.clone(), conn.first_frame.number),
        };
        let counts = &mut self.an.summary.counts;
        counts.flows += 1;
        match record.reason {
            None => counts.flows_inspected += 1,
            Some(r) => {
                *counts
                    .flows_not_inspected
                    .entry(r.as_str().to_owned())
                    .or_default() += 1
            }
        }
        let _ = self.report.flow(&record);
    }

    fn warning(&mut self, code: WarningCode, frame: FrameMeta, reason: String) {
        self.frame_warning(code, frame, None, reason);
    }
}
