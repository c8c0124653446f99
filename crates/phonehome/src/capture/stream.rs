//! One TCP connection's layers: optional TLS, then the application protocol read from the
//! (decrypted) bytes.

use super::CaptureRun;
use phonehome_dns::DnsTcpStream;
use phonehome_flow::{ConnId, FrameMeta};
use phonehome_http::{
    detect_h2_preface, detect_http1, Http1Connection, Http1Event, Http1Limits, Http2Connection,
    Http2Event, Http2Limits, HttpRequest, HttpResponse,
};
use phonehome_message::{from_http_request, from_http_response};
use phonehome_model::{Direction, NameSource, NotInspected, WarningCode};
use phonehome_tls::{detect_tls, TlsEvent, TlsLimits, TlsSession};

/// Most bytes of each direction held while deciding what protocol a stream speaks.
pub const MAX_DETECT_BYTES: usize = 4096;

/// What a connection's (decrypted) byte stream is being read as.
pub(crate) enum App {
    /// Not decided yet: the first bytes of each direction are held.
    Detecting { client: Vec<u8>, server: Vec<u8> },
    /// TLS: the session decrypts (or at least reads the handshake); `inner` reads the plaintext.
    Tls {
        session: Box<TlsSession>,
        inner: Box<App>,
    },
    /// HTTP/1.x.
    Http1(Box<Http1Connection>),
    /// HTTP/2.
    Http2(Box<Http2Connection>),
    /// DNS over TCP, one framer per direction.
    DnsTcp(Box<[DnsTcpStream; 2]>),
    /// Payload no parser claims: the client's bytes are scanned as `stream`, up to a cap.
    Unknown { scanned: usize },
    /// Nothing more to read (encrypted without keys, or already given up).
    Opaque,
    /// UDP flows: see `udp.rs`.
    Udp(super::udp::UdpApp),
}

impl App {
    pub(crate) fn detecting() -> Self {
        Self::Detecting {
            client: Vec::new(),
            server: Vec::new(),
        }
    }
}

/// What the held first bytes say.
enum Decision {
    Tls,
    Http1,
    Http2,
    DnsTcp,
    Unknown,
    Empty,
}

/// Decides from the first bytes of each direction; `None` means "need more bytes".
/// `force`: decide now on what is held (a gap follows, or a direction ended); `closing`: no more
/// bytes will come in either direction.
fn decide(
    client: &[u8],
    server: &[u8],
    force: bool,
    closing: bool,
    server_port: u16,
) -> Option<Decision> {
    // RFC 9112 §2.2: empty lines before a request or status line are ignored (peers send a stray
    // CRLF after a message, e.g. after answering CONNECT).
    let client = trim_leading_newlines(client);
    let server = trim_leading_newlines(server);
    let full = client.len() >= MAX_DETECT_BYTES || server.len() >= MAX_DETECT_BYTES;
    if !client.is_empty() {
        if detect_tls(client) == Some(true) {
            return Some(Decision::Tls);
        }
        if detect_h2_preface(client) == Some(true) {
            return Some(Decision::Http2);
        }
        match detect_http1(client) {
            Some(true) => return Some(Decision::Http1),
            // A malformed request line (`OPTIONSHTTP/1.1`) is still HTTP when the server answers
            // with a status line: wait for the server's first bytes to tell.
            Some(false) if !server.is_empty() => {
                return Some(if detect_http1(server) == Some(true) {
                    Decision::Http1
                } else if server_port == 53 && dns_framed(client) {
                    Decision::DnsTcp
                } else {
                    Decision::Unknown
                });
            }
            _ => {}
        }
        if server_port == 53 && dns_framed(client) {
            return Some(Decision::DnsTcp);
        }
    } else if !server.is_empty() {
        // A capture that starts mid-connection, or a server that speaks first.
        if detect_http1(server) == Some(true) {
            return Some(Decision::Http1);
        }
        if detect_tls(server) == Some(true) {
            return Some(Decision::Tls);
        }
    } else {
        // Nothing held yet: only the end of both directions settles that there is nothing.
        return closing.then_some(Decision::Empty);
    }
    (force || closing || full).then_some(Decision::Unknown)
}

fn trim_leading_newlines(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b'\r' || c == b'\n').count();
    b.get(n..).unwrap_or_default()
}

/// A 2-byte length prefix followed by something shaped like a DNS header.
fn dns_framed(b: &[u8]) -> bool {
    match b {
        [hi, lo, rest @ ..] => {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            len >= 12
                && phonehome_dns::looks_like_dns(rest.get(..len.min(rest.len())).unwrap_or(rest))
        }
        _ => false,
    }
}

/// Most protocol switches (101, CONNECT) honoured on one connection.
pub const MAX_UPGRADES: u8 = 4;

/// Most bytes of a connection's client stream scanned when no parser claims them.
pub const MAX_STREAM_SCAN: usize = 1 << 20;

impl CaptureRun<'_> {
    /// In-order TCP bytes of one direction, as captured.
    pub(crate) fn transport_bytes(
        &mut self,
        id: ConnId,
        dir: Direction,
        data: &[u8],
        frame: FrameMeta,
    ) {
        self.feed(id, 0, dir, data, frame);
    }

    /// Feeds bytes to the layer `depth` levels down (through the `inner` of each TLS layer; 0 is
    /// the top layer, which reads the TCP stream).
    fn feed(&mut self, id: ConnId, depth: usize, dir: Direction, data: &[u8], frame: FrameMeta) {
        if data.is_empty() {
            return;
        }
        let Some(app) = self.app_at(id, depth) else {
            return;
        };
        match app {
            App::Detecting { client, server } => {
                let buf = if dir == Direction::Request {
                    client
                } else {
                    server
                };
                let room = MAX_DETECT_BYTES.saturating_sub(buf.len());
                let (now, later) = data.split_at(room.min(data.len()));
                buf.extend_from_slice(now);
                self.detect(id, depth, frame, false);
                if !later.is_empty() {
                    self.feed(id, depth, dir, later, frame);
                }
            }
            App::Tls { session, .. } => {
                let mut events = Vec::new();
                session.feed(dir, data, frame.number, &mut events);
                self.tls_events(id, depth, events, frame);
            }
            App::Http1(parser) => {
                let mut events = Vec::new();
                parser.feed(dir, data, frame.number, &mut events);
                self.http1_events(id, depth, events, frame);
            }
            App::Http2(parser) => {
                let mut events = Vec::new();
                parser.feed(dir, data, frame.number, &mut events);
                self.http2_events(id, events, frame);
            }
            App::DnsTcp(framers) => {
                let mut out = Vec::new();
                framers[super::side(dir)].feed(data, &mut out);
                for parsed in out {
                    self.dns_message(id, dir, parsed, frame);
                }
            }
            App::Unknown { scanned } => {
                if dir == Direction::Request && *scanned < MAX_STREAM_SCAN {
                    let take = (MAX_STREAM_SCAN - *scanned).min(data.len());
                    *scanned += take;
                    let bytes = data.get(..take).unwrap_or(data).to_vec();
                    self.stream_payload(id, bytes, frame);
                }
            }
            App::Opaque | App::Udp(_) => {}
        }
    }

    /// The layer `depth` levels down (through TLS `inner`s) of connection `id`.
    fn app_at(&mut self, id: ConnId, depth: usize) -> Option<&mut App> {
        let mut app = &mut self.conns.get_mut(&id)?.app;
        for _ in 0..depth {
            match app {
                App::Tls { inner, .. } => app = inner,
                _ => return None,
            }
        }
        Some(app)
    }

    /// Decides what the layer at `depth` speaks, when its held bytes allow, and replays them.
    pub(crate) fn detect(&mut self, id: ConnId, depth: usize, frame: FrameMeta, force: bool) {
        let server_port = self
            .conns
            .get(&id)
            .and_then(|c| c.ctx.server)
            .map_or(0, |s| s.port());
        let inside_tls = depth > 0;
        let closing = self.conns.get(&id).is_some_and(|c| c.ended == [true, true]);
        let alpn_h2 = self.negotiated_h2(id, depth);
        let Some(App::Detecting { client, server }) = self.app_at(id, depth) else {
            return;
        };
        let mut decision = decide(client, server, force, closing, server_port);
        if alpn_h2
            && !matches!(
                decision,
                Some(Decision::Http1) | Some(Decision::Empty) | None
            )
        {
            // ALPN said h2 but the preface was lost (capture started mid-connection).
            decision = Some(Decision::Http2);
        }
        let Some(decision) = decision else {
            return;
        };
        let client = std::mem::take(client);
        let server = std::mem::take(server);
        let limits = self.an.limits().clone();
        let (app, name, reason): (App, Option<&str>, Option<NotInspected>) = match decision {
            Decision::Tls if inside_tls => (App::Opaque, Some("tls"), Some(NotInspected::NoKey)),
            Decision::Tls => (
                App::Tls {
                    session: Box::new(TlsSession::with_cache(
                        self.keys.clone(),
                        TlsLimits::default(),
                        self.sessions.clone(),
                    )),
                    inner: Box::new(App::detecting()),
                },
                Some("tls"),
                None,
            ),
            Decision::Http1 => (
                App::Http1(Box::new(Http1Connection::new(Http1Limits::from_limits(
                    &limits,
                )))),
                Some("http/1.1"),
                None,
            ),
            Decision::Http2 => (
                App::Http2(Box::new(Http2Connection::new(Http2Limits::from_limits(
                    &limits,
                )))),
                Some("h2"),
                None,
            ),
            Decision::DnsTcp => (
                App::DnsTcp(Box::new([DnsTcpStream::new(), DnsTcpStream::new()])),
                Some("dns"),
                None,
            ),
            Decision::Unknown => (
                App::Unknown { scanned: 0 },
                None,
                Some(NotInspected::UnknownProtocol),
            ),
            Decision::Empty => (App::Opaque, None, None),
        };
        if let Some(slot) = self.app_at(id, depth) {
            *slot = app;
        }
        if let Some(conn) = self.conns.get_mut(&id) {
            if let Some(name) = name {
                // The innermost protocol names the flow (`h2` rather than `tls`).
                if depth > 0 || conn.app_name.is_none() {
                    conn.app_name = Some(name.to_owned());
                }
            }
            if reason.is_some() && conn.reason.is_none() {
                conn.reason = reason;
            }
        }
        self.feed(id, depth, Direction::Request, &client, frame);
        self.feed(id, depth, Direction::Response, &server, frame);
    }

    /// A warning from a protocol parser (`TLS`, `HTTP/1`, `HTTP/2`) about one direction.
    fn protocol_warning(
        &mut self,
        code: WarningCode,
        protocol: &str,
        dir: Direction,
        frame: u64,
        reason: String,
    ) {
        self.warn_at(
            code,
            frame,
            format!("{protocol} {}: {reason}", dir.as_str()),
        );
    }

    /// Whether the TLS layer just above `depth` negotiated (or was offered only) `h2`.
    fn negotiated_h2(&mut self, id: ConnId, depth: usize) -> bool {
        if depth == 0 {
            return false;
        }
        match self.app_at(id, depth - 1) {
            Some(App::Tls { session, .. }) => session.info().alpn.as_deref() == Some("h2"),
            _ => false,
        }
    }

    fn tls_events(&mut self, id: ConnId, depth: usize, events: Vec<TlsEvent>, frame: FrameMeta) {
        for event in events {
            match event {
                TlsEvent::ClientHello(hello) => {
                    if let Some(conn) = self.conns.get_mut(&id) {
                        conn.ech = hello.ech;
                        conn.alpn = hello.alpn.clone();
                        conn.sni = hello.sni.clone();
                        if let Some(sni) = hello.sni.as_deref().filter(|_| !hello.ech) {
                            conn.add_name(sni, NameSource::Sni);
                            conn.ctx.sni = Some(sni.to_owned());
                        }
                    }
                }
                TlsEvent::Plaintext {
                    dir,
                    data,
                    frame: f,
                } => {
                    self.note_tls_version(id, depth);
                    let meta = FrameMeta {
                        number: f,
                        time: frame.time,
                    };
                    self.feed(id, depth + 1, dir, &data, meta);
                }
                TlsEvent::Undecryptable { reason } => {
                    self.note_tls_version(id, depth);
                    if let Some(conn) = self.conns.get_mut(&id) {
                        if conn.messages == 0 {
                            conn.reason = Some(reason);
                        }
                    }
                }
                TlsEvent::Anomaly {
                    dir,
                    frame: f,
                    reason,
                } => {
                    self.protocol_warning(WarningCode::Malformed, "TLS", dir, f, reason);
                }
            }
        }
    }

    /// Copies the TLS version of the layer at `depth` into the connection context (for messages
    /// and the flow record).
    fn note_tls_version(&mut self, id: ConnId, depth: usize) {
        let version = match self.app_at(id, depth) {
            Some(App::Tls { session, .. }) => session.info().version.clone(),
            _ => None,
        };
        if let (Some(v), Some(conn)) = (version, self.conns.get_mut(&id)) {
            conn.ctx.tls = Some(v);
        }
    }

    fn http1_events(
        &mut self,
        id: ConnId,
        depth: usize,
        events: Vec<Http1Event>,
        frame: FrameMeta,
    ) {
        for event in events {
            match event {
                Http1Event::Request(req) => self.http_request(id, req, frame),
                Http1Event::Response(resp) => self.http_response(id, resp, frame),
                Http1Event::Interim { .. } => {}
                Http1Event::Upgraded {
                    status,
                    client_rest,
                    server_rest,
                    ..
                } => {
                    let h2c = status == 101
                        && self
                            .conns
                            .get(&id)
                            .and_then(|c| c.pending_upgrade.as_ref())
                            .is_some();
                    let upgrades = self.conns.get_mut(&id).map_or(u8::MAX, |c| {
                        c.upgrades = c.upgrades.saturating_add(1);
                        c.upgrades
                    });
                    if upgrades > MAX_UPGRADES {
                        // Upgrade after upgrade is not traffic, it is an attack on the analyser.
                        if let Some(slot) = self.app_at(id, depth) {
                            *slot = App::Unknown { scanned: 0 };
                        }
                        let reason = format!("more than {MAX_UPGRADES} protocol upgrades on one connection; the rest is scanned as a stream");
                        self.warn_at(WarningCode::Limit, frame.number, reason);
                        self.feed(id, depth, Direction::Request, &client_rest, frame);
                        continue;
                    }
                    let next = match self
                        .conns
                        .get_mut(&id)
                        .and_then(|c| c.pending_upgrade.take())
                    {
                        Some((line, headers)) if h2c => {
                            let limits = Http2Limits::from_limits(self.an.limits());
                            if let Some(conn) = self.conns.get_mut(&id) {
                                conn.app_name = Some("h2c".to_owned());
                            }
                            App::Http2(Box::new(Http2Connection::after_h2c_upgrade(
                                limits, line, headers,
                            )))
                        }
                        _ => App::detecting(),
                    };
                    if let Some(slot) = self.app_at(id, depth) {
                        *slot = next;
                    }
                    self.feed(id, depth, Direction::Request, &client_rest, frame);
                    self.feed(id, depth, Direction::Response, &server_rest, frame);
                }
                Http1Event::Anomaly {
                    dir,
                    frame: f,
                    reason,
                } => {
                    self.protocol_warning(WarningCode::Malformed, "HTTP/1", dir, f, reason);
                }
                Http1Event::Limit {
                    dir,
                    frame: f,
                    reason,
                } => {
                    self.protocol_warning(WarningCode::Limit, "HTTP/1", dir, f, reason);
                }
            }
        }
    }

    fn http2_events(&mut self, id: ConnId, events: Vec<Http2Event>, frame: FrameMeta) {
        for event in events {
            match event {
                Http2Event::Request(req) => self.http_request(id, req, frame),
                Http2Event::Response(resp) => self.http_response(id, resp, frame),
                Http2Event::Anomaly {
                    dir,
                    frame: f,
                    reason,
                } => {
                    self.protocol_warning(WarningCode::Malformed, "HTTP/2", dir, f, reason);
                }
                Http2Event::Limit {
                    dir,
                    frame: f,
                    reason,
                } => {
                    self.protocol_warning(WarningCode::Limit, "HTTP/2", dir, f, reason);
                }
            }
        }
    }

    fn http_request(&mut self, id: ConnId, req: HttpRequest, frame: FrameMeta) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.messages += 1;
        if is_h2c_upgrade(&req) {
            conn.pending_upgrade = Some((req.line.clone(), req.headers.clone()));
        }
        if let Some(problem) = &req.content_problem {
            let reason = format!("request body: {problem}");
            self.warn_at(WarningCode::Decode, req.last_frame, reason);
        }
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let msg = from_http_request(&conn.ctx, req, frame.time, frame.number);
        if let Some(h) = msg.host.clone() {
            conn.add_name(&h, NameSource::Http);
            conn.host = Some(h);
        }
        self.an.message(&msg, self.report);
    }

    fn http_response(&mut self, id: ConnId, resp: HttpResponse, frame: FrameMeta) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.messages += 1;
        let msg = from_http_response(&conn.ctx, resp, conn.host.clone(), frame.time, frame.number);
        self.an.message(&msg, self.report);
    }

    /// `missing` bytes of one direction were lost before reaching the top layer.
    pub(crate) fn transport_gap(
        &mut self,
        id: ConnId,
        dir: Direction,
        missing: u64,
        frame: FrameMeta,
    ) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        match &mut conn.app {
            App::Tls { session, .. } => {
                let mut events = Vec::new();
                session.gap(dir, missing, frame.number, &mut events);
                self.tls_events(id, 0, events, frame);
            }
            App::Http1(parser) => {
                let mut events = Vec::new();
                parser.gap(dir, missing, frame.number, &mut events);
                self.http1_events(id, 0, events, frame);
            }
            App::Http2(parser) => {
                let mut events = Vec::new();
                parser.gap(dir, missing, frame.number, &mut events);
                self.http2_events(id, events, frame);
            }
            App::Detecting { client, server } => {
                conn.gap_seen = true;
                let held = if dir == Direction::Request {
                    client.len()
                } else {
                    server.len()
                };
                if held > 0 {
                    // Decide on what came before the hole, then tell the chosen parser about it.
                    self.detect(id, 0, frame, true);
                    if !matches!(
                        self.conns.get(&id).map(|c| &c.app),
                        Some(App::Detecting { .. })
                    ) {
                        self.transport_gap(id, dir, missing, frame);
                    }
                }
                // With nothing held, stay undecided: the bytes after the gap will tell.
            }
            App::DnsTcp(_) => {
                // Length framing is lost with the bytes: resynchronising is guesswork; stop.
                conn.app = App::Opaque;
            }
            App::Unknown { .. } | App::Opaque | App::Udp(_) => {}
        }
    }

    /// One direction ended: complete what reads until close.
    pub(crate) fn app_end(&mut self, id: ConnId, dir: Direction, frame: FrameMeta) {
        let mut depth = 0;
        loop {
            self.detect(id, depth, frame, false);
            match self.app_at(id, depth) {
                Some(App::Tls { .. }) => depth += 1,
                Some(App::Http1(parser)) => {
                    let mut events = Vec::new();
                    parser.end(dir, frame.number, &mut events);
                    self.http1_events(id, depth, events, frame);
                    return;
                }
                Some(App::Http2(parser)) => {
                    let mut events = Vec::new();
                    parser.end(dir, frame.number, &mut events);
                    self.http2_events(id, events, frame);
                    return;
                }
                _ => return,
            }
        }
    }

    /// The connection is closing: anything still undecided is decided now.
    pub(crate) fn app_close(&mut self, id: ConnId, frame: FrameMeta) {
        self.detect(id, 0, frame, true);
        self.udp_close(id, frame);
    }
}

/// An HTTP/1.1 request asking to switch to cleartext HTTP/2 (`Upgrade: h2c`).
fn is_h2c_upgrade(req: &HttpRequest) -> bool {
    req.line.version != "2"
        && req.headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("upgrade")
                && String::from_utf8_lossy(&h.value)
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("h2c"))
        })
}
