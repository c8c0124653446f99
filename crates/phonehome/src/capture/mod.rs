//! The capture path: frames → IP → flows → TCP streams → protocol detection → HTTP/1.1 → messages.

use crate::Analyzer;
use phonehome_flow::{ConnId, ConnInfo, ConnStats, FlowTable, FrameMeta, StreamSink};
use phonehome_http::{detect_http1, Http1Connection, Http1Event, Http1Limits};
use phonehome_ingest::{read_capture_from, CaptureEvent};
use phonehome_message::{from_http_request, from_http_response, ConnContext};
use phonehome_model::{
    Direction, FlowName, FlowRecord, NameSource, NotInspected, Protocol, SourceRef, Timestamp,
    Warning, WarningCode,
};
use phonehome_report::Report;
use phonehome_wire::WireError;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

/// Most bytes of each direction held while deciding what protocol a stream speaks.
pub const MAX_DETECT_BYTES: usize = 4096;
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
    let http_limits = Http1Limits::from_limits(an.limits());
    let mut run = CaptureRun {
        an,
        report,
        file: name.clone(),
        conns: HashMap::new(),
        http_limits,
        events: Vec::new(),
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
        CaptureEvent::Secrets { .. } => {
            // TLS key material; used by the TLS stage (next issue). Nothing to do yet.
        }
        CaptureEvent::Warning(w) => run.an.warn(&w, run.report),
    });
    let last = run.last;
    table.finish(last, &mut run);
    if run.frame_warnings > MAX_FRAME_WARNINGS {
        let w = Warning::new(
            WarningCode::Malformed,
            name.clone(),
            format!(
                "{} more undecodable packets were not reported one by one",
                run.frame_warnings - MAX_FRAME_WARNINGS
            ),
        );
        run.an.warn(&w, run.report);
    }
    stats.map(|s| s.frames).map_err(|e| e.to_string())
}

/// What a connection's stream is being read as.
enum App {
    /// Not decided yet: the first bytes of each direction are held.
    Detecting { client: Vec<u8>, server: Vec<u8> },
    /// HTTP/1.x.
    Http1(Box<Http1Connection>),
    /// Not readable here (with why).
    Opaque,
}

/// Per-connection state of the capture path.
struct Conn {
    ctx: ConnContext,
    app: App,
    app_name: Option<String>,
    reason: Option<NotInspected>,
    messages: u64,
    names: Vec<FlowName>,
    /// The Host the client last sent, for labelling responses.
    host: Option<String>,
    ended: [bool; 2],
}

impl Conn {
    fn add_name(&mut self, name: &str, source: NameSource) {
        let name = name.trim().to_owned();
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

fn side(dir: Direction) -> usize {
    match dir {
        Direction::Request => 0,
        Direction::Response => 1,
    }
}

struct CaptureRun<'a> {
    an: &'a mut Analyzer,
    report: &'a mut dyn Report,
    file: Arc<str>,
    conns: HashMap<ConnId, Conn>,
    http_limits: Http1Limits,
    events: Vec<Http1Event>,
    frame_warnings: u64,
    unsupported_linktypes: HashSet<u32>,
    last: FrameMeta,
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

    /// Decides what a stream speaks from its first bytes, switching `conn.app` when it can, and
    /// feeds the held bytes to the chosen parser.
    fn detect(&mut self, id: ConnId, frame: FrameMeta, closing: bool) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let App::Detecting { client, server } = &mut conn.app else {
            return;
        };
        let decision = if !client.is_empty() {
            if is_tls_record(client) {
                Some(Decision::Tls)
            } else {
                match detect_http1(client) {
                    Some(true) => Some(Decision::Http1),
                    // A malformed request line (`OPTIONSHTTP/1.1`) is still HTTP when the server
                    // answers with a status line: wait for the server's first bytes to tell.
                    Some(false) if !server.is_empty() => {
                        Some(http_if_server_says_so(server).unwrap_or(Decision::Unknown))
                    }
                    _ if closing || client.len() >= MAX_DETECT_BYTES => Some(Decision::Unknown),
                    _ => None,
                }
            }
        } else if !server.is_empty() {
            match http_if_server_says_so(server) {
                Some(d) => Some(d),
                None if closing || server.len() >= MAX_DETECT_BYTES => Some(Decision::Unknown),
                None => None,
            }
        } else if closing {
            Some(Decision::Empty)
        } else {
            None
        };
        let Some(decision) = decision else { return };
        let (client, server) = (std::mem::take(client), std::mem::take(server));
        match decision {
            Decision::Http1 => {
                conn.app = App::Http1(Box::new(Http1Connection::new(self.http_limits.clone())));
                conn.app_name = Some("http/1.1".to_owned());
                conn.reason = None;
                self.feed(id, Direction::Request, &client, frame);
                self.feed(id, Direction::Response, &server, frame);
            }
            Decision::Tls => {
                conn.app = App::Opaque;
                conn.app_name = Some("tls".to_owned());
                conn.reason = Some(NotInspected::NoKey);
            }
            Decision::Unknown => {
                conn.app = App::Opaque;
                if conn.app_name.is_none() {
                    conn.reason = Some(NotInspected::UnknownProtocol);
                }
            }
            Decision::Empty => {
                conn.app = App::Opaque;
                if conn.messages == 0 && conn.app_name.is_none() {
                    conn.reason = Some(NotInspected::NoPayload);
                }
            }
        }
    }

    /// Feeds in-order bytes of one direction to the connection's parser and handles its events.
    fn feed(&mut self, id: ConnId, dir: Direction, data: &[u8], frame: FrameMeta) {
        if data.is_empty() {
            return;
        }
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        match &mut conn.app {
            App::Detecting { client, server } => {
                let buf = if dir == Direction::Request {
                    client
                } else {
                    server
                };
                let room = MAX_DETECT_BYTES.saturating_sub(buf.len());
                buf.extend_from_slice(data.get(..room.min(data.len())).unwrap_or(data));
                let overflow = data.get(room..).unwrap_or(&[]).to_vec();
                self.detect(id, frame, false);
                if !overflow.is_empty() {
                    self.feed(id, dir, &overflow, frame);
                }
            }
            App::Http1(parser) => {
                let mut events = std::mem::take(&mut self.events);
                parser.feed(dir, data, frame.number, &mut events);
                self.handle_http(id, &mut events, frame);
                self.events = events;
            }
            App::Opaque => {}
        }
    }

    fn handle_http(&mut self, id: ConnId, events: &mut Vec<Http1Event>, frame: FrameMeta) {
        for event in events.drain(..) {
            let Some(conn) = self.conns.get_mut(&id) else {
                return;
            };
            match event {
                Http1Event::Request(req) => {
                    conn.messages += 1;
                    let msg = from_http_request(&conn.ctx, req, frame.time, frame.number);
                    if let Some(h) = &msg.host {
                        conn.host = Some(h.clone());
                        let h = h.clone();
                        conn.add_name(&h, NameSource::Http);
                    }
                    self.an.message(&msg, self.report);
                }
                Http1Event::Response(resp) => {
                    conn.messages += 1;
                    let msg = from_http_response(
                        &conn.ctx,
                        resp,
                        conn.host.clone(),
                        frame.time,
                        frame.number,
                    );
                    self.an.message(&msg, self.report);
                }
                Http1Event::Interim { .. } => {}
                Http1Event::Upgraded {
                    client_rest,
                    server_rest,
                    ..
                } => {
                    conn.app = App::Detecting {
                        client: Vec::new(),
                        server: Vec::new(),
                    };
                    self.feed(id, Direction::Request, &client_rest, frame);
                    self.feed(id, Direction::Response, &server_rest, frame);
                }
                Http1Event::Anomaly {
                    dir,
                    frame: f,
                    reason,
                } => {
                    let reason = format!("HTTP/1 {}: {reason}", dir.as_str());
                    let w =
                        Warning::new(WarningCode::Malformed, self.file.clone(), reason).at_frame(f);
                    self.an.warn(&w, self.report);
                }
                Http1Event::Limit {
                    dir,
                    frame: f,
                    reason,
                } => {
                    let reason = format!("HTTP/1 {}: {reason}", dir.as_str());
                    let w = Warning::new(WarningCode::Limit, self.file.clone(), reason).at_frame(f);
                    self.an.warn(&w, self.report);
                }
            }
        }
    }
}

enum Decision {
    Http1,
    Tls,
    Unknown,
    Empty,
}

/// A TLS record header: handshake/alert/CCS/application data, version 3.x.
fn is_tls_record(b: &[u8]) -> bool {
    matches!(b, [0x14..=0x17, 0x03, 0x00..=0x04, ..])
}

/// HTTP/1 when the server's stream starts with a status line (a capture that starts mid-request).
fn http_if_server_says_so(server: &[u8]) -> Option<Decision> {
    match detect_http1(server) {
        Some(true) => Some(Decision::Http1),
        _ => None,
    }
}

impl StreamSink for CaptureRun<'_> {
    fn open(&mut self, conn: &ConnInfo) {
        let ctx = ConnContext::new(self.file.clone(), Some(conn.client), Some(conn.server));
        let (app, app_name, reason) = match conn.protocol {
            Protocol::Tcp => (
                App::Detecting {
                    client: Vec::new(),
                    server: Vec::new(),
                },
                None,
                None,
            ),
            Protocol::Udp => {
                let port = conn.server.port();
                if port == 53 || port == 5353 {
                    (
                        App::Opaque,
                        Some("dns".to_owned()),
                        Some(NotInspected::UnknownProtocol),
                    )
                } else if port == 443 {
                    (
                        App::Opaque,
                        Some("quic".to_owned()),
                        Some(NotInspected::Quic),
                    )
                } else {
                    (App::Opaque, None, Some(NotInspected::UnknownProtocol))
                }
            }
        };
        self.conns.insert(
            conn.id,
            Conn {
                ctx,
                app,
                app_name,
                reason,
                messages: 0,
                names: Vec::new(),
                host: None,
                ended: [false; 2],
            },
        );
    }

    fn data(&mut self, conn: &ConnInfo, dir: Direction, data: &[u8], frame: FrameMeta) {
        self.feed(conn.id, dir, data, frame);
    }

    fn gap(&mut self, conn: &ConnInfo, dir: Direction, missing: u64, frame: FrameMeta) {
        let Some(c) = self.conns.get_mut(&conn.id) else {
            return;
        };
        match &mut c.app {
            App::Http1(parser) => {
                let mut events = std::mem::take(&mut self.events);
                parser.gap(dir, missing, frame.number, &mut events);
                self.handle_http(conn.id, &mut events, frame);
                self.events = events;
            }
            App::Detecting { client, server } => {
                // The start of this direction is lost: decide on what we have, then carry on.
                let held = if dir == Direction::Request {
                    client.len()
                } else {
                    server.len()
                };
                if held == 0 && c.messages == 0 {
                    c.reason = Some(NotInspected::Gap);
                }
                self.detect(conn.id, frame, true);
            }
            App::Opaque => {}
        }
    }

    fn datagram(&mut self, _conn: &ConnInfo, _dir: Direction, _data: &[u8], _frame: FrameMeta) {
        // DNS and QUIC are read by the TLS/DNS stage (next issue); the flow is accounted for.
    }

    fn end(&mut self, conn: &ConnInfo, dir: Direction, frame: FrameMeta) {
        self.detect(conn.id, frame, true);
        let Some(c) = self.conns.get_mut(&conn.id) else {
            return;
        };
        if std::mem::replace(&mut c.ended[side(dir)], true) {
            return;
        }
        if let App::Http1(parser) = &mut c.app {
            let mut events = std::mem::take(&mut self.events);
            parser.end(dir, frame.number, &mut events);
            self.handle_http(conn.id, &mut events, frame);
            self.events = events;
        }
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
        let Some(c) = self.conns.remove(&conn.id) else {
            return;
        };
        let no_payload = stats.bytes_client == 0 && stats.bytes_server == 0;
        let reason = if c.messages > 0 {
            None
        } else if no_payload {
            Some(NotInspected::NoPayload)
        } else {
            c.reason.or(Some(NotInspected::UnknownProtocol))
        };
        let record = FlowRecord {
            protocol: conn.protocol,
            client: conn.client,
            server: conn.server,
            names: c.names,
            tls: c.ctx.tls,
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
                    .or_default() += 1;
            }
        }
        let _ = self.report.flow(&record);
    }

    fn warning(&mut self, code: WarningCode, frame: FrameMeta, reason: String) {
        self.frame_warning(code, frame, None, reason);
    }
}
