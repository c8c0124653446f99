//! One TLS connection, sans-I/O: record reassembly, handshake tracking, key installation and
//! decryption, for both directions.
//!
//! The state machines follow the handshakes of RFC 5246 §7.3 (TLS 1.2, full and abbreviated) and
//! RFC 8446 §2 (TLS 1.3, with HelloRetryRequest §4.1.4, 0-RTT §2.3 and KeyUpdate §4.6.3). Each
//! direction has a *stage* that says which keys read its next record:
//!
//! | stage | TLS 1.2 | TLS 1.3 |
//! |---|---|---|
//! | `Plain` | before its ChangeCipherSpec | before the ServerHello |
//! | `Early` | — | client after a ClientHello offering early_data: `client_early_traffic_secret` |
//! | `Handshake` | — | `[sender]_handshake_traffic_secret` |
//! | `App` | after its ChangeCipherSpec: key block | after its Finished: `[sender]_application_traffic_secret_N` |
//!
//! TLS 1.3 stages advance on the messages that end them (EndOfEarlyData, Finished) when those
//! can be read, and otherwise by *trial decryption*: a record that does not open with the current
//! stage's keys (or whose keys were not logged) is tried with the next stage's, and the stage
//! advances when one verifies. This is what lets a key log without handshake or early secrets
//! still decrypt application data.

use crate::client_hello::{parse_client_hello, ClientHello};
use crate::handshake::{
    msg, parse_encrypted_extensions_alpn, parse_new_session_ticket, parse_rsa_client_key_exchange,
    parse_server_hello, ServerHello, HANDSHAKE_HEADER_LEN, TLS12, TLS13,
};
use crate::key_schedule::{key_block, master_secret, next_traffic_secret, Prf, MAX_KEY_BLOCK};
use crate::keylog::KeyLog;
use crate::record::{
    RecordHeader, ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, HANDSHAKE, HEADER_LEN,
    MAX_CIPHERTEXT_LEN, MAX_RESYNC_RECORD_LEN,
};
use crate::record_cipher::{OpenError, RecordKeys, TAG_LEN};
use crate::session_cache::SessionCache;
use crate::suite::{lookup, HashAlg, Suite};
use phonehome_model::{Direction, NotInspected};
use sha2::{Digest, Sha256, Sha384};
use std::sync::Arc;

/// Consecutive records that fail to open with established keys before the direction is given
/// up (the keys are evidently wrong).
pub const MAX_CONSECUTIVE_FAILURES: u32 = 8;

/// Consecutive records skipped because their stage's keys are unknown (TLS 1.3 handshake or
/// 0-RTT records without logged secrets) before the direction is given up.
pub const MAX_SKIPPED_RECORDS: u32 = 256;

/// Candidate record headers tried per resynchronisation after a gap; each costs up to
/// `resync_tries` decryptions, so this bounds the work a hostile stream can cause.
pub const MAX_RESYNC_CANDIDATES: usize = 64;

/// Caps for one TLS connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsLimits {
    /// Largest record (header and body) buffered per direction while it arrives. Default 64 KiB +
    /// header, above the 2^14 + 2048 protocol maximum.
    pub max_record_buffer: usize,
    /// Largest handshake message reassembled, per direction. Default 256 KiB: ClientHellos with
    /// post-quantum key shares span several records/segments, and certificate chains can be long.
    pub max_handshake_buffer: usize,
    /// Records (sequence numbers) tried per candidate header after a gap. Default 16.
    pub resync_tries: usize,
    /// Bytes scanned for a record header after a gap before giving up. Default 64 KiB.
    pub resync_scan: usize,
}

impl Default for TlsLimits {
    fn default() -> Self {
        Self {
            max_record_buffer: (64 << 10) + HEADER_LEN,
            max_handshake_buffer: 256 << 10,
            resync_tries: 16,
            resync_scan: 64 << 10,
        }
    }
}

/// What is known about a connection's TLS: from the hellos, and whether it is being decrypted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// Negotiated version: "1.2" | "1.3" (also "1.0", "1.1", "ssl3" for old servers).
    pub version: Option<String>,
    /// Selected cipher suite.
    pub cipher_suite: Option<u16>,
    /// The ClientHello's server_name.
    pub sni: Option<String>,
    /// encrypted_client_hello offered: `sni` is the public outer name.
    pub ech: bool,
    /// ALPN protocols offered by the client.
    pub alpn_offered: Vec<String>,
    /// Selected ALPN protocol, from ServerHello (1.2) or EncryptedExtensions (1.3, needs handshake keys).
    pub alpn: Option<String>,
    /// Application data of at least one direction can be decrypted.
    pub decrypting: bool,
    /// Why not (no_key, handshake_missing, unsupported_suite, gap): the first reason met.
    pub reason: Option<NotInspected>,
    /// The session was resumed (TLS 1.2 abbreviated handshake, TLS 1.3 PSK).
    pub resumed: bool,
}

/// What a [`TlsSession`] reports.
// A ClientHello comes once per connection; boxing it would only complicate matching.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsEvent {
    /// The ClientHello was parsed (SNI, ALPN offered, ECH).
    ClientHello(ClientHello),
    /// Decrypted application data (and 0-RTT early data) of one direction, in order. `frame` = frame number that completed the record.
    Plaintext {
        /// Which direction the data travelled.
        dir: Direction,
        /// The plaintext; consecutive records completed by the same frame are joined.
        data: Vec<u8>,
        /// The frame that completed the (last) record.
        frame: u64,
    },
    /// Decryption of this connection is impossible from here on; `reason` says why.
    ///
    /// Emitted at most once per connection, for the first reason met. When only one direction is
    /// lost (a gap that could not be resynchronised), the other goes on being decrypted.
    Undecryptable {
        /// Why.
        reason: NotInspected,
    },
    /// Something odd (bad record, MAC failure, alert): dir, frame, reason.
    Anomaly {
        /// The direction it was seen in.
        dir: Direction,
        /// The frame that completed the odd record.
        frame: u64,
        /// What was odd.
        reason: String,
    },
}

/// Negotiated protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    /// TLS 1.0, 1.1 or 1.2 (the exact one is in the ServerHello): same handshake, different PRF
    /// and IV handling.
    Tls12,
    Tls13,
    /// SSL 3.0 or unknown: parsed but not decrypted.
    Legacy,
}

/// Which keys read a direction's next record (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Plain,
    Early,
    Handshake,
    App,
}

/// Record framing of one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// Records follow each other.
    Normal,
    /// After a gap: looking for a record that decrypts.
    Resync {
        /// Bytes discarded so far.
        scanned: usize,
        /// Candidate headers tried so far.
        candidates: usize,
        /// Records known to be lost before the next whole one (lower bound).
        skip: u64,
    },
    /// Nothing more is read in this direction.
    Dead,
}

/// One direction's state.
struct DirState {
    /// A record being reassembled (header and body), or the resync window.
    rbuf: Vec<u8>,
    framing: Framing,
    /// Records read.
    records: u64,
    /// Handshake messages being reassembled.
    hbuf: Vec<u8>,
    /// Handshake reassembly gave up (oversized message).
    hs_broken: bool,
    stage: Stage,
    early: Option<RecordKeys>,
    handshake: Option<RecordKeys>,
    app: Option<RecordKeys>,
    /// TLS 1.3: the current application traffic secret, for KeyUpdate.
    app_secret: Option<Vec<u8>>,
    /// Consecutive records that failed with established keys.
    failures: u32,
    /// Consecutive records skipped for want of keys.
    skipped: u32,
}

impl DirState {
    fn new() -> Self {
        Self {
            rbuf: Vec::new(),
            framing: Framing::Normal,
            records: 0,
            hbuf: Vec::new(),
            hs_broken: false,
            stage: Stage::Plain,
            early: None,
            handshake: None,
            app: None,
            app_secret: None,
            failures: 0,
            skipped: 0,
        }
    }

    fn keys_mut(&mut self, stage: Stage) -> Option<&mut RecordKeys> {
        match stage {
            Stage::Plain => None,
            Stage::Early => self.early.as_mut(),
            Stage::Handshake => self.handshake.as_mut(),
            Stage::App => self.app.as_mut(),
        }
    }

    fn has_keys(&self) -> bool {
        self.early.is_some() || self.handshake.is_some() || self.app.is_some()
    }
}

/// Running transcript hashes for the extended master secret's session hash (RFC 7627 §3).
#[derive(Clone)]
struct Transcript {
    md5: md5::Md5,
    sha1: sha1::Sha1,
    sha256: Sha256,
    sha384: Sha384,
}

impl Transcript {
    fn new() -> Self {
        Self {
            md5: md5::Md5::new(),
            sha1: sha1::Sha1::new(),
            sha256: Sha256::new(),
            sha384: Sha384::new(),
        }
    }

    fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        self.sha1.update(data);
        self.sha256.update(data);
        self.sha384.update(data);
    }

    /// The session hash with the PRF's hash; MD5 ‖ SHA-1 for TLS 1.0/1.1 (RFC 7627 §3).
    fn finish(self, prf: Prf) -> Vec<u8> {
        match prf {
            Prf::Md5Sha1 => {
                let mut h = self.md5.finalize().to_vec();
                h.extend_from_slice(&self.sha1.finalize());
                h
            }
            Prf::Sha256 => self.sha256.finalize().to_vec(),
            Prf::Sha384 => self.sha384.finalize().to_vec(),
        }
    }
}

/// Handshake facts shared by both directions.
#[derive(Default)]
struct HandshakeState {
    client_hello: Option<ClientHello>,
    server_hello: Option<ServerHello>,
    version: Option<Version>,
    suite: Option<Suite>,
    hello_retry: bool,
    /// TLS 1.2: a ClientKeyExchange was seen (so the handshake is not abbreviated).
    saw_client_key_exchange: bool,
    encrypted_pre_master: Option<Vec<u8>>,
    transcript: Option<Transcript>,
    session_hash: Option<Vec<u8>>,
    /// TLS 1.2: key derivation was attempted for the current handshake.
    derived: bool,
    master: Option<[u8; 48]>,
    pending: [Option<RecordKeys>; 2],
    /// A NewSessionTicket seen before the master secret was known.
    ticket: Option<Vec<u8>>,
    early_warned: bool,
}

/// One TLS connection (one per TCP connection), sans-I/O: feed each direction's bytes in order,
/// collect [`TlsEvent`]s.
pub struct TlsSession {
    keys: Arc<KeyLog>,
    cache: Option<SessionCache>,
    limits: TlsLimits,
    info: TlsInfo,
    dirs: [DirState; 2],
    hs: HandshakeState,
    undecryptable: bool,
    /// Plaintext of the current call, not yet emitted.
    pending: Vec<u8>,
    cur_dir: Direction,
    cur_frame: u64,
}

impl std::fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSession")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Index of a direction's state: 0 client→server, 1 server→client.
fn index(dir: Direction) -> usize {
    match dir {
        Direction::Request => CLIENT,
        Direction::Response => SERVER,
    }
}

const CLIENT: usize = 0;
const SERVER: usize = 1;

/// The direction of a state index.
fn direction(d: usize) -> Direction {
    if d == CLIENT {
        Direction::Request
    } else {
        Direction::Response
    }
}

/// A printable version name.
fn version_name(v: u16) -> String {
    match v {
        TLS13 => "1.3".to_owned(),
        TLS12 => "1.2".to_owned(),
        0x0302 => "1.1".to_owned(),
        0x0301 => "1.0".to_owned(),
        0x0300 => "ssl3".to_owned(),
        other => format!("0x{other:04x}"),
    }
}

impl TlsSession {
    /// A session for one TCP connection, with its own (unshared) resumption cache.
    pub fn new(keys: Arc<KeyLog>, limits: TlsLimits) -> Self {
        Self::with_cache(keys, limits, SessionCache::new())
    }

    /// A session sharing `cache` with the other connections of the capture, so that TLS 1.2
    /// resumptions find the master secret of the session they resume (see [`SessionCache`]).
    pub fn with_cache(keys: Arc<KeyLog>, limits: TlsLimits, cache: SessionCache) -> Self {
        Self {
            keys,
            cache: Some(cache),
            limits,
            info: TlsInfo::default(),
            dirs: [DirState::new(), DirState::new()],
            hs: HandshakeState::default(),
            undecryptable: false,
            pending: Vec::new(),
            cur_dir: Direction::Request,
            cur_frame: 0,
        }
    }

    /// What is known so far.
    pub fn info(&self) -> &TlsInfo {
        &self.info
    }

    /// Feeds the next bytes of one direction (`Direction::Request` = client→server), in stream
    /// order; `frame` is the frame that made them available.
    pub fn feed(&mut self, dir: Direction, data: &[u8], frame: u64, out: &mut Vec<TlsEvent>) {
        self.cur_dir = dir;
        self.cur_frame = frame;
        let d = index(dir);
        if self.info.decrypting {
            self.pending.reserve(data.len());
        }
        let mut input = data;
        while !input.is_empty() {
            match self.dirs[d].framing {
                Framing::Dead => break,
                Framing::Normal => {
                    self.feed_normal(d, input, out);
                    input = &[];
                }
                Framing::Resync { .. } => input = self.feed_resync(d, input, out),
            }
        }
        self.flush(out);
    }

    /// Reports `len` lost bytes in one direction: the record they cut is dropped and the stream is
    /// resynchronised on a later record that decrypts (or given up: `Undecryptable { gap }`).
    pub fn gap(&mut self, dir: Direction, len: u64, frame: u64, out: &mut Vec<TlsEvent>) {
        self.cur_dir = dir;
        self.cur_frame = frame;
        let d = index(dir);
        if len == 0 || self.dirs[d].framing == Framing::Dead {
            return;
        }
        let partial = !self.dirs[d].rbuf.is_empty();
        self.dirs[d].rbuf.clear();
        self.dirs[d].hbuf.clear();
        let whole_records = len / (HEADER_LEN + MAX_CIPHERTEXT_LEN) as u64;
        let skip = whole_records.saturating_add(u64::from(partial));
        let prior = match self.dirs[d].framing {
            Framing::Resync { skip, .. } => skip,
            _ => 0,
        };
        let can_resync = match self.hs.version {
            Some(Version::Tls12) => {
                if self.dirs[d].stage == Stage::Plain && self.tls12_keys_available() {
                    // The gap may have taken the ChangeCipherSpec: install the keys now.
                    self.tls12_derive(out);
                    self.install_tls12(d);
                }
                self.dirs[d].app.is_some()
            }
            Some(Version::Tls13) => self.dirs[d].has_keys(),
            _ => false,
        };
        if can_resync {
            self.dirs[d].framing = Framing::Resync {
                scanned: 0,
                candidates: 0,
                skip: skip.saturating_add(prior),
            };
        } else {
            let reason = if self.hs.client_hello.is_none() {
                NotInspected::HandshakeMissing
            } else {
                NotInspected::Gap
            };
            self.fail(d, reason, out);
        }
        self.flush(out);
    }

    // ---- record framing -------------------------------------------------------------------

    /// Reads whole records, from the input directly when possible, buffering a partial one.
    fn feed_normal(&mut self, d: usize, mut input: &[u8], out: &mut Vec<TlsEvent>) {
        while self.dirs[d].framing == Framing::Normal {
            if self.dirs[d].rbuf.is_empty() {
                // Fast path: records wholly inside the input are read in place.
                let Some(header) = RecordHeader::parse(input) else {
                    self.dirs[d].rbuf.extend_from_slice(input);
                    return;
                };
                if !self.check_header(d, &header, out) {
                    return;
                }
                let total = HEADER_LEN.saturating_add(header.len);
                match input.get(HEADER_LEN..total) {
                    Some(body) => {
                        self.record(d, &header, body, out);
                        input = input.get(total..).unwrap_or_default();
                        if input.is_empty() {
                            return;
                        }
                    }
                    None => {
                        self.dirs[d].rbuf.extend_from_slice(input);
                        return;
                    }
                }
            } else {
                let have = self.dirs[d].rbuf.len();
                if have < HEADER_LEN {
                    let take = (HEADER_LEN - have).min(input.len());
                    let (head, rest) = input.split_at(take);
                    self.dirs[d].rbuf.extend_from_slice(head);
                    input = rest;
                    let Some(header) = RecordHeader::parse(&self.dirs[d].rbuf) else {
                        return;
                    };
                    if !self.check_header(d, &header, out) {
                        return;
                    }
                }
                let Some(header) = RecordHeader::parse(&self.dirs[d].rbuf) else {
                    return;
                };
                let total = HEADER_LEN.saturating_add(header.len);
                let have = self.dirs[d].rbuf.len();
                let take = total.saturating_sub(have).min(input.len());
                let (head, rest) = input.split_at(take);
                self.dirs[d].rbuf.extend_from_slice(head);
                input = rest;
                if self.dirs[d].rbuf.len() < total {
                    return;
                }
                let mut buf = std::mem::take(&mut self.dirs[d].rbuf);
                self.record(d, &header, buf.get(HEADER_LEN..).unwrap_or_default(), out);
                buf.clear();
                if self.dirs[d].rbuf.is_empty() {
                    self.dirs[d].rbuf = buf; // keep the capacity
                }
                if input.is_empty() {
                    return;
                }
            }
        }
    }

    /// Accepts a header, or stops the direction (RFC 5246 §6.2.1: unknown types and oversized
    /// records are fatal).
    fn check_header(&mut self, d: usize, header: &RecordHeader, out: &mut Vec<TlsEvent>) -> bool {
        let total = HEADER_LEN.saturating_add(header.len);
        let reason = if !header.is_plausible() {
            format!(
                "not a TLS record header (type {}, version 0x{:04x})",
                header.content_type, header.version
            )
        } else if header.len > MAX_CIPHERTEXT_LEN {
            format!("record of {} bytes exceeds 2^14 + 2048", header.len)
        } else if total > self.limits.max_record_buffer {
            format!("record of {} bytes exceeds max_record_buffer", header.len)
        } else {
            return true;
        };
        if self.dirs[d].records == 0 && self.hs.client_hello.is_none() {
            // The capture starts mid-stream: no record boundary, no handshake.
            self.fail(d, NotInspected::HandshakeMissing, out);
        } else {
            self.anomaly(d, reason, out);
            self.fail(d, NotInspected::Gap, out);
        }
        false
    }

    /// After a gap: appends input to the window and looks for a record that decrypts. Returns
    /// the input not yet consumed (to be read normally once synchronised).
    fn feed_resync<'a>(
        &mut self,
        d: usize,
        mut input: &'a [u8],
        out: &mut Vec<TlsEvent>,
    ) -> &'a [u8] {
        let window = self.limits.max_record_buffer.max(
            HEADER_LEN
                .saturating_add(MAX_RESYNC_RECORD_LEN)
                .saturating_mul(2),
        );
        loop {
            let room = window.saturating_sub(self.dirs[d].rbuf.len());
            let take = room.min(input.len());
            let (head, rest) = input.split_at(take);
            self.dirs[d].rbuf.extend_from_slice(head);
            input = rest;
            match self.resync_scan(d, out) {
                Some(true) => {
                    // The window may hold several records after the one that synchronised.
                    let window = std::mem::take(&mut self.dirs[d].rbuf);
                    self.feed_normal(d, &window, out);
                    return input;
                }
                Some(false) => return &[],
                None if input.is_empty() => return &[],
                None if take == 0 => {
                    // Cannot happen (a full window always yields a candidate or frees room),
                    // but never spin: give the direction up.
                    self.fail(d, NotInspected::Gap, out);
                    return &[];
                }
                None => {}
            }
        }
    }

    /// Scans the window: `Some(true)` synchronised, `Some(false)` given up, `None` needs more.
    fn resync_scan(&mut self, d: usize, out: &mut Vec<TlsEvent>) -> Option<bool> {
        loop {
            let Framing::Resync {
                scanned,
                candidates,
                skip,
            } = self.dirs[d].framing
            else {
                return Some(false);
            };
            if scanned > self.limits.resync_scan || candidates >= MAX_RESYNC_CANDIDATES {
                self.fail(d, NotInspected::Gap, out);
                return Some(false);
            }
            let buf = &self.dirs[d].rbuf;
            let found = buf.windows(HEADER_LEN).position(|w| {
                RecordHeader::parse(w).is_some_and(|h| {
                    h.content_type == APPLICATION_DATA
                        && h.version == TLS12
                        && h.len > TAG_LEN
                        && h.len <= MAX_RESYNC_RECORD_LEN
                })
            });
            let Some(pos) = found else {
                let drop = buf.len().saturating_sub(HEADER_LEN - 1);
                self.dirs[d].rbuf.drain(..drop);
                self.set_resync(d, scanned.saturating_add(drop), candidates, skip);
                return None;
            };
            self.dirs[d].rbuf.drain(..pos);
            let scanned = scanned.saturating_add(pos);
            self.set_resync(d, scanned, candidates, skip);
            if scanned > self.limits.resync_scan {
                continue;
            }
            let header = RecordHeader::parse(&self.dirs[d].rbuf)?;
            let total = HEADER_LEN.saturating_add(header.len);
            if self.dirs[d].rbuf.len() < total {
                return None;
            }
            let mut buf = std::mem::take(&mut self.dirs[d].rbuf);
            let synced = self.resync_try(
                d,
                &header,
                buf.get(HEADER_LEN..total).unwrap_or_default(),
                skip,
                out,
            );
            if synced {
                buf.drain(..total);
                self.dirs[d].rbuf = buf;
                self.dirs[d].framing = Framing::Normal;
                self.dirs[d].records = self.dirs[d].records.saturating_add(1);
                return Some(true);
            }
            buf.drain(..1);
            self.dirs[d].rbuf = buf;
            self.set_resync(
                d,
                scanned.saturating_add(1),
                candidates.saturating_add(1),
                skip,
            );
        }
    }

    fn set_resync(&mut self, d: usize, scanned: usize, candidates: usize, skip: u64) {
        if let Framing::Resync { .. } = self.dirs[d].framing {
            self.dirs[d].framing = Framing::Resync {
                scanned,
                candidates,
                skip,
            };
        }
    }

    /// Tries a candidate record with the next `resync_tries` sequence numbers of the current
    /// stage's keys (after the `skip` records known lost) and of the later stages' keys.
    fn resync_try(
        &mut self,
        d: usize,
        header: &RecordHeader,
        body: &[u8],
        skip: u64,
        out: &mut Vec<TlsEvent>,
    ) -> bool {
        let current = self.dirs[d].stage;
        let tries = u64::try_from(self.limits.resync_tries).unwrap_or(u64::MAX);
        let start = self.pending.len();
        for stage in [Stage::Early, Stage::Handshake, Stage::App] {
            if stage < current {
                continue;
            }
            let Some(keys) = self.dirs[d].keys_mut(stage) else {
                continue;
            };
            let base = if stage == current {
                keys.seq.saturating_add(skip)
            } else {
                keys.seq
            };
            for k in 0..tries {
                let seq = base.saturating_add(k);
                if let Ok(ty) = keys.open_at(seq, &header.raw, body, &mut self.pending) {
                    keys.advance(seq, body);
                    self.dirs[d].stage = stage;
                    self.dirs[d].failures = 0;
                    self.dirs[d].skipped = 0;
                    self.plaintext(d, ty, start, out);
                    return true;
                }
            }
        }
        false
    }

    // ---- records ----------------------------------------------------------------------------

    /// One whole record.
    fn record(&mut self, d: usize, header: &RecordHeader, body: &[u8], out: &mut Vec<TlsEvent>) {
        self.dirs[d].records = self.dirs[d].records.saturating_add(1);
        let ty = header.content_type;
        if self.hs.client_hello.is_none() && ty != HANDSHAKE {
            // Application data (or an alert, or a ChangeCipherSpec) with no handshake before it.
            self.fail(d, NotInspected::HandshakeMissing, out);
            return;
        }
        let encrypted = match (self.hs.version, ty) {
            (_, CHANGE_CIPHER_SPEC) => false,
            (Some(Version::Tls13) | None, t) => t == APPLICATION_DATA,
            (Some(_), _) => self.dirs[d].stage != Stage::Plain,
        };
        if encrypted {
            match self.hs.version {
                Some(Version::Tls12) => self.tls12_record(d, header, body, out),
                Some(Version::Tls13) | None => self.tls13_record(d, header, body, out),
                Some(Version::Legacy) => {}
            }
            return;
        }
        match ty {
            CHANGE_CIPHER_SPEC => self.change_cipher_spec(d, out),
            ALERT => self.alert(d, body, out),
            HANDSHAKE => self.handshake_bytes(d, body, out),
            APPLICATION_DATA => self.anomaly(
                d,
                "application data before ChangeCipherSpec".to_owned(),
                out,
            ),
            _ => {} // heartbeat: nothing to read
        }
    }

    /// A TLS 1.2 record after ChangeCipherSpec.
    fn tls12_record(
        &mut self,
        d: usize,
        header: &RecordHeader,
        body: &[u8],
        out: &mut Vec<TlsEvent>,
    ) {
        let start = self.pending.len();
        let Some(keys) = self.dirs[d].app.as_mut() else {
            return; // no keys: already reported
        };
        match keys.open(&header.raw, body, &mut self.pending) {
            Ok(ty) => {
                self.dirs[d].failures = 0;
                self.plaintext(d, ty, start, out);
            }
            Err(e) => self.open_failed(d, e, body, out),
        }
    }

    /// A TLS 1.3 protected record (outer type application_data), with trial decryption across
    /// stages (module docs).
    fn tls13_record(
        &mut self,
        d: usize,
        header: &RecordHeader,
        body: &[u8],
        out: &mut Vec<TlsEvent>,
    ) {
        if self.hs.version.is_none() {
            // Before the ServerHello only a client's 0-RTT data is protected (RFC 8446 §2.3).
            let early_offered = self.hs.client_hello.as_ref().is_some_and(|c| c.early_data);
            if d != CLIENT || !early_offered {
                self.fail(d, NotInspected::HandshakeMissing, out);
                return;
            }
            self.dirs[d].stage = Stage::Early;
            self.find_early_keys(header, body);
        }
        let stage = self.dirs[d].stage;
        let order: &[Stage] = match stage {
            // Early data may or may not be there: the handshake keys are tried first.
            Stage::Plain | Stage::Early => &[Stage::Handshake, Stage::Early, Stage::App],
            Stage::Handshake => &[Stage::Handshake, Stage::App],
            Stage::App => &[Stage::App],
        };
        let start = self.pending.len();
        for &s in order {
            let Some(keys) = self.dirs[d].keys_mut(s) else {
                continue;
            };
            if let Ok(ty) = keys.open(&header.raw, body, &mut self.pending) {
                if s > self.dirs[d].stage {
                    self.dirs[d].stage = s;
                }
                self.dirs[d].failures = 0;
                self.dirs[d].skipped = 0;
                self.plaintext(d, ty, start, out);
                return;
            }
        }
        if stage == Stage::App && self.dirs[d].app.is_some() {
            self.open_failed(d, OpenError::BadTag, body, out);
            return;
        }
        if stage <= Stage::Early
            && d == CLIENT
            && self.dirs[d].early.is_none()
            && !self.hs.early_warned
        {
            self.hs.early_warned = true;
            self.anomaly(
                d,
                "0-RTT early data not decrypted: no CLIENT_EARLY_TRAFFIC_SECRET".to_owned(),
                out,
            );
        }
        self.dirs[d].skipped = self.dirs[d].skipped.saturating_add(1);
        if self.dirs[d].skipped > MAX_SKIPPED_RECORDS {
            self.fail(d, NotInspected::NoKey, out);
        }
    }

    /// Before the ServerHello names the suite, finds which offered TLS 1.3 suite the early
    /// secret works with by trying each on the first early record.
    fn find_early_keys(&mut self, header: &RecordHeader, body: &[u8]) {
        if self.dirs[CLIENT].early.is_some() {
            return;
        }
        let Some(ch) = self.hs.client_hello.as_ref() else {
            return;
        };
        let Some(secret) = self
            .keys
            .tls13_secrets(&ch.random)
            .and_then(|s| s.client_early.as_ref())
        else {
            return;
        };
        let start = self.pending.len();
        for &id in &ch.cipher_suites {
            let Some(suite) = lookup(id).filter(|s| s.tls13 && s.hash.len() == secret.len()) else {
                continue;
            };
            let Some(keys) = RecordKeys::tls13(&suite, secret) else {
                continue;
            };
            let ok = keys
                .open_at(0, &header.raw, body, &mut self.pending)
                .is_ok();
            self.pending.truncate(start);
            if ok {
                self.dirs[CLIENT].early = Some(keys);
                return;
            }
        }
    }

    /// A record that did not open with established keys: reported and skipped.
    fn open_failed(&mut self, d: usize, e: OpenError, body: &[u8], out: &mut Vec<TlsEvent>) {
        let seq = self.dirs[d].app.as_ref().map_or(0, |k| k.seq);
        if let Some(keys) = self.dirs[d].app.as_mut() {
            keys.advance(seq, body);
        }
        self.dirs[d].failures = self.dirs[d].failures.saturating_add(1);
        self.anomaly(d, format!("{} (record {seq} skipped)", e.as_str()), out);
        if self.dirs[d].failures >= MAX_CONSECUTIVE_FAILURES {
            self.fail(d, NotInspected::NoKey, out);
        }
    }

    /// Dispatches decrypted content (appended to `pending` from `start`) by its content type.
    fn plaintext(&mut self, d: usize, ty: u8, start: usize, out: &mut Vec<TlsEvent>) {
        match ty {
            APPLICATION_DATA => {} // stays in `pending`
            HANDSHAKE => {
                let content = self.pending.split_off(start);
                self.handshake_bytes(d, &content, out);
            }
            ALERT => {
                let content = self.pending.split_off(start);
                self.alert(d, &content, out);
            }
            other => {
                self.pending.truncate(start);
                if other != crate::record::HEARTBEAT {
                    self.anomaly(
                        d,
                        format!("unexpected content type {other} inside a record"),
                        out,
                    );
                }
            }
        }
    }

    /// An alert (RFC 8446 §6, RFC 5246 §7.2): close_notify and user_canceled are normal.
    fn alert(&mut self, d: usize, body: &[u8], out: &mut Vec<TlsEvent>) {
        match *body {
            [_, 0] | [_, 90] => {}
            [level, desc] => {
                let level = match level {
                    1 => "warning",
                    2 => "fatal",
                    _ => "unknown-level",
                };
                self.anomaly(
                    d,
                    format!("alert {level} {}({desc})", alert_name(desc)),
                    out,
                );
            }
            _ => self.anomaly(d, format!("malformed alert of {} bytes", body.len()), out),
        }
    }

    /// TLS 1.2 ChangeCipherSpec (RFC 5246 §7.1): the sender's next records use the new keys.
    fn change_cipher_spec(&mut self, d: usize, out: &mut Vec<TlsEvent>) {
        match self.hs.version {
            Some(Version::Tls12) => {}
            // RFC 8446 §5 / Appendix D.4: middlebox compatibility, ignored.
            Some(Version::Tls13) => return,
            Some(Version::Legacy) => {
                self.dirs[d].stage = Stage::App; // protected from here; no keys
                return;
            }
            None => {
                // In TLS 1.3 compatibility mode a client sends it right after its ClientHello,
                // often before the ServerHello is captured (RFC 8446 Appendix D.4).
                let offers_13 = self
                    .hs
                    .client_hello
                    .as_ref()
                    .is_some_and(|c| c.supported_versions.contains(&TLS13));
                if !offers_13 {
                    self.anomaly(d, "ChangeCipherSpec before ServerHello".to_owned(), out);
                }
                return;
            }
        }
        if d == SERVER && !self.hs.saw_client_key_exchange {
            // Abbreviated handshake (RFC 5246 §7.3 fig. 2): the server changes cipher first.
            self.info.resumed = true;
        }
        self.tls12_derive(out);
        self.install_tls12(d);
    }

    /// Moves the direction onto its TLS 1.2 keys (or onto "protected, no keys").
    fn install_tls12(&mut self, d: usize) {
        let dir = &mut self.dirs[d];
        dir.stage = Stage::App;
        dir.app = self.hs.pending[d].take();
        dir.failures = 0;
        self.update_decrypting();
    }

    // ---- handshake ---------------------------------------------------------------------------

    /// Handshake record content: reassembles messages across records, several per record.
    fn handshake_bytes(&mut self, d: usize, data: &[u8], out: &mut Vec<TlsEvent>) {
        if self.dirs[d].hs_broken {
            return;
        }
        let max = self.limits.max_handshake_buffer;
        let mut buf = std::mem::take(&mut self.dirs[d].hbuf);
        if buf.len() > max {
            self.handshake_overflow(d, buf.len(), out);
            return;
        }
        buf.extend_from_slice(data);
        let mut off = 0usize;
        loop {
            let rest = buf.get(off..).unwrap_or_default();
            let (Some(&ty), Some(len)) = (rest.first(), rest.get(1..4)) else {
                break;
            };
            let len = len
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            let total = HANDSHAKE_HEADER_LEN.saturating_add(len);
            if total > max {
                self.handshake_overflow(d, total, out);
                return;
            }
            let Some(message) = rest.get(..total) else {
                break;
            };
            let body = message.get(HANDSHAKE_HEADER_LEN..).unwrap_or_default();
            self.handshake_message(d, ty, body, message, out);
            off = off.saturating_add(total);
        }
        buf.drain(..off.min(buf.len()));
        if !self.dirs[d].hs_broken {
            self.dirs[d].hbuf = buf;
        }
    }

    fn handshake_overflow(&mut self, d: usize, len: usize, out: &mut Vec<TlsEvent>) {
        self.dirs[d].hs_broken = true;
        self.dirs[d].hbuf = Vec::new();
        self.anomaly(
            d,
            format!("handshake message of {len} bytes exceeds max_handshake_buffer"),
            out,
        );
    }

    /// One handshake message (`raw` is header + body).
    fn handshake_message(
        &mut self,
        d: usize,
        ty: u8,
        body: &[u8],
        raw: &[u8],
        out: &mut Vec<TlsEvent>,
    ) {
        if let Some(t) = self.hs.transcript.as_mut() {
            t.update(raw);
        }
        let tls13 = self.hs.version == Some(Version::Tls13);
        match (d, ty) {
            (CLIENT, msg::CLIENT_HELLO) => self.client_hello(body, raw, out),
            (SERVER, msg::SERVER_HELLO) => self.server_hello(body, out),
            (CLIENT, msg::CLIENT_KEY_EXCHANGE) if !tls13 => self.client_key_exchange(body),
            (SERVER, msg::NEW_SESSION_TICKET) if !tls13 => match parse_new_session_ticket(body) {
                Ok(ticket) if !ticket.is_empty() => match (&self.hs.master, &self.cache) {
                    (Some(ms), Some(cache)) => cache.insert_ticket(ticket, ms),
                    _ => self.hs.ticket = Some(ticket.to_vec()),
                },
                Ok(_) => {}
                Err(e) => self.anomaly(d, format!("bad NewSessionTicket: {e}"), out),
            },
            (SERVER, msg::ENCRYPTED_EXTENSIONS) if tls13 => {
                match parse_encrypted_extensions_alpn(body) {
                    Ok(alpn) => self.info.alpn = alpn,
                    Err(e) => self.anomaly(d, format!("bad EncryptedExtensions: {e}"), out),
                }
            }
            (CLIENT, msg::END_OF_EARLY_DATA) if tls13 => {
                self.dirs[d].stage = self.dirs[d].stage.max(Stage::Handshake);
            }
            (_, msg::FINISHED) if tls13 && self.dirs[d].stage == Stage::Handshake => {
                self.dirs[d].stage = Stage::App;
            }
            (_, msg::KEY_UPDATE) if tls13 => self.key_update(d, out),
            _ => {}
        }
    }

    /// A ClientHello: the first is reported; a second after HelloRetryRequest replaces it; one
    /// inside an established TLS 1.2 connection starts a renegotiation.
    fn client_hello(&mut self, body: &[u8], raw: &[u8], out: &mut Vec<TlsEvent>) {
        let ch = match parse_client_hello(body) {
            Ok(ch) => ch,
            Err(e) => {
                self.anomaly(CLIENT, format!("bad ClientHello: {e}"), out);
                return;
            }
        };
        if ch.extended_master_secret {
            let mut t = Transcript::new();
            t.update(raw);
            self.hs.transcript = Some(t);
        }
        if self.hs.client_hello.is_none() {
            self.info.sni = ch.sni.clone();
            self.info.ech = ch.ech;
            self.info.alpn_offered = ch.alpn.clone();
            self.event(TlsEvent::ClientHello(ch.clone()), out);
        } else if self.hs.version == Some(Version::Tls12) {
            // Renegotiation (RFC 5246 §7.4.1.2): new randoms, new keys at the next CCS.
            self.hs.derived = false;
            self.hs.pending = [None, None];
            self.hs.saw_client_key_exchange = false;
            self.hs.encrypted_pre_master = None;
            self.hs.session_hash = None;
        }
        self.hs.client_hello = Some(ch);
    }

    /// A ServerHello or HelloRetryRequest.
    fn server_hello(&mut self, body: &[u8], out: &mut Vec<TlsEvent>) {
        let sh = match parse_server_hello(body) {
            Ok(sh) => sh,
            Err(e) => {
                self.anomaly(SERVER, format!("bad ServerHello: {e}"), out);
                return;
            }
        };
        self.info.cipher_suite = Some(sh.cipher_suite);
        if sh.is_hello_retry_request() {
            // RFC 8446 §4.1.4: a second ClientHello follows; keys come after the real ServerHello.
            self.hs.hello_retry = true;
            self.info.version = Some(version_name(sh.version()));
            if sh.version() == TLS13 {
                self.hs.version = Some(Version::Tls13);
            }
            return;
        }
        let v = sh.version();
        self.info.version = Some(version_name(v));
        let renegotiation =
            self.hs.version == Some(Version::Tls12) && self.hs.server_hello.is_some();
        let version = match v {
            TLS13 => Version::Tls13,
            0x0301..=TLS12 => Version::Tls12,
            _ => Version::Legacy,
        };
        if renegotiation && version != Version::Tls12 {
            self.anomaly(SERVER, "renegotiation changed the version".to_owned(), out);
            return;
        }
        self.hs.version = Some(version);
        // AEAD suites and SHA-256/384 MACs exist from TLS 1.2 on (RFC 5246 §1.2).
        let suite = lookup(sh.cipher_suite).filter(|s| {
            s.tls13 == (version == Version::Tls13)
                && (v >= TLS12 || (!s.cipher.is_aead() && s.mac == Some(HashAlg::Sha1)))
        });
        self.hs.suite = suite;
        if version == Version::Tls12 {
            if sh.alpn.is_some() {
                self.info.alpn = sh.alpn.clone();
            }
            let ch_id = self
                .hs
                .client_hello
                .as_ref()
                .map(|c| c.session_id.as_slice());
            if !sh.session_id.is_empty() && ch_id == Some(sh.session_id.as_slice()) {
                self.info.resumed = true;
            }
        } else if version == Version::Tls13 {
            self.info.resumed = sh.psk;
        }
        self.hs.server_hello = Some(sh);
        if version == Version::Legacy || suite.is_none() {
            self.undecryptable(NotInspected::UnsupportedSuite, out);
            return;
        }
        if version == Version::Tls13 {
            self.load_tls13_keys(out);
        }
    }

    /// Installs the TLS 1.3 keys logged for this client random (RFC 8446 §7.1, §7.3).
    fn load_tls13_keys(&mut self, out: &mut Vec<TlsEvent>) {
        let (Some(ch), Some(suite)) = (self.hs.client_hello.as_ref(), self.hs.suite) else {
            self.undecryptable(NotInspected::HandshakeMissing, out);
            return;
        };
        let early_offered = ch.early_data && !self.hs.hello_retry;
        let Some(secrets) = self.keys.tls13_secrets(&ch.random).cloned() else {
            self.dirs[SERVER].stage = Stage::Handshake;
            self.dirs[CLIENT].stage = if early_offered {
                Stage::Early
            } else {
                Stage::Handshake
            };
            self.undecryptable(NotInspected::NoKey, out);
            return;
        };
        let fits = |s: &Option<Vec<u8>>| s.clone().filter(|s| s.len() == suite.hash.len());
        let keys = |s: &Option<Vec<u8>>| fits(s).and_then(|s| RecordKeys::tls13(&suite, &s));
        let server = &mut self.dirs[SERVER];
        server.stage = Stage::Handshake;
        server.handshake = keys(&secrets.server_handshake);
        server.app = keys(&secrets.server_traffic_0);
        server.app_secret = fits(&secrets.server_traffic_0);
        let client = &mut self.dirs[CLIENT];
        client.stage = if early_offered {
            Stage::Early
        } else {
            Stage::Handshake
        };
        client.handshake = keys(&secrets.client_handshake);
        client.app = keys(&secrets.client_traffic_0);
        client.app_secret = fits(&secrets.client_traffic_0);
        if client.early.is_none() && early_offered {
            client.early = keys(&secrets.client_early);
        }
        let (c, s) = (
            self.dirs[CLIENT].app.is_some(),
            self.dirs[SERVER].app.is_some(),
        );
        match (c, s) {
            (false, false) => self.undecryptable(NotInspected::NoKey, out),
            (true, false) => self.anomaly(
                SERVER,
                "no SERVER_TRAFFIC_SECRET_0 for this connection".to_owned(),
                out,
            ),
            (false, true) => self.anomaly(
                CLIENT,
                "no CLIENT_TRAFFIC_SECRET_0 for this connection".to_owned(),
                out,
            ),
            (true, true) => {}
        }
        self.update_decrypting();
    }

    /// KeyUpdate (RFC 8446 §4.6.3, §7.2): the sender's next records use the next secret.
    fn key_update(&mut self, d: usize, out: &mut Vec<TlsEvent>) {
        let Some(suite) = self.hs.suite else {
            return;
        };
        let next = self.dirs[d]
            .app_secret
            .as_ref()
            .and_then(|s| next_traffic_secret(suite.hash, s));
        match next.and_then(|s| RecordKeys::tls13(&suite, &s).map(|k| (s, k))) {
            Some((secret, keys)) => {
                self.dirs[d].app_secret = Some(secret);
                self.dirs[d].app = Some(keys);
                self.dirs[d].stage = Stage::App;
            }
            None => self.anomaly(
                d,
                "KeyUpdate without a known traffic secret".to_owned(),
                out,
            ),
        }
    }

    /// TLS 1.2 ClientKeyExchange: keeps the RSA-encrypted pre-master secret and closes the
    /// extended-master-secret session hash (RFC 7627 §3: up to and including this message).
    fn client_key_exchange(&mut self, body: &[u8]) {
        self.hs.saw_client_key_exchange = true;
        if self.hs.suite.is_some_and(|s| s.rsa_key_exchange) {
            self.hs.encrypted_pre_master =
                parse_rsa_client_key_exchange(body).ok().map(<[u8]>::to_vec);
        }
        if let (Some(t), Some(prf)) = (self.hs.transcript.take(), self.prf()) {
            self.hs.session_hash = Some(t.finish(prf));
        }
    }

    /// The PRF of a TLS ≤ 1.2 connection, once the ServerHello is known.
    fn prf(&self) -> Option<Prf> {
        let v = self.hs.server_hello.as_ref()?.version();
        Some(Prf::new(v, self.hs.suite?.hash))
    }

    /// Whether TLS 1.2 keys can be derived right now.
    fn tls12_keys_available(&self) -> bool {
        let Some(ch) = &self.hs.client_hello else {
            return false;
        };
        self.hs.suite.is_some()
            && self.hs.server_hello.is_some()
            && (self.keys.master_secret(&ch.random).is_some() || self.hs.saw_client_key_exchange)
    }

    /// Finds the TLS 1.2 master secret and derives both directions' keys, once per handshake
    /// (RFC 5246 §6.3, §8.1; RFC 7627 §4). Reports `Undecryptable` when it cannot.
    fn tls12_derive(&mut self, out: &mut Vec<TlsEvent>) {
        if self.hs.derived {
            return;
        }
        self.hs.derived = true;
        let (Some(ch), Some(sh)) = (&self.hs.client_hello, &self.hs.server_hello) else {
            self.undecryptable(NotInspected::HandshakeMissing, out);
            return;
        };
        let (Some(suite), Some(prf)) = (self.hs.suite, self.prf()) else {
            return; // unsupported suite: reported at the ServerHello
        };
        let (cr, sr) = (ch.random, sh.random);
        let implicit_iv = sh.version() < 0x0302;
        let ems = ch.extended_master_secret && sh.extended_master_secret;
        let resumed = !self.hs.saw_client_key_exchange;
        let from_rsa = || {
            let pms = self
                .keys
                .rsa_premaster(self.hs.encrypted_pre_master.as_deref()?)?;
            let session_hash = if ems {
                Some(self.hs.session_hash.as_deref()?)
            } else {
                None
            };
            Some(master_secret(prf, pms, &cr, &sr, session_hash))
        };
        let from_cache = || {
            let cache = self.cache.as_ref().filter(|_| resumed)?;
            let by_id =
                (ch.session_id == sh.session_id).then(|| cache.by_session_id(&ch.session_id));
            by_id
                .flatten()
                .or_else(|| cache.by_ticket(ch.session_ticket.as_deref()?))
        };
        let master = self
            .keys
            .master_secret(&cr)
            .copied()
            .or_else(from_rsa)
            .or_else(from_cache);
        let Some(master) = master else {
            self.undecryptable(NotInspected::NoKey, out);
            return;
        };
        let mac_len = suite.mac.map_or(0, HashAlg::len);
        let key_len = suite.cipher.key_len();
        let iv_len = match (suite.cipher.is_aead(), implicit_iv) {
            (false, true) => 16, // TLS 1.0 CBC: the first IV comes from the key block
            _ => suite.cipher.tls12_fixed_iv_len(),
        };
        let mut block = [0u8; MAX_KEY_BLOCK];
        let need = 2 * (mac_len + key_len + iv_len);
        let Some(block) = block.get_mut(..need) else {
            return;
        };
        key_block(prf, &master, &cr, &sr, block);
        let (client_mac, rest) = block.split_at(mac_len);
        let (server_mac, rest) = rest.split_at(mac_len);
        let (client_key, rest) = rest.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        let etm = ch.encrypt_then_mac && sh.encrypt_then_mac && !suite.cipher.is_aead();
        self.hs.pending = [
            RecordKeys::tls12(&suite, client_mac, client_key, client_iv, etm),
            RecordKeys::tls12(&suite, server_mac, server_key, server_iv, etm),
        ];
        if let Some(cache) = &self.cache {
            cache.insert_session_id(&sh.session_id, &master);
            if let Some(ticket) = self.hs.ticket.take() {
                cache.insert_ticket(&ticket, &master);
            }
        }
        self.hs.master = Some(master);
    }

    // ---- events ------------------------------------------------------------------------------

    /// Gives a direction up; reports `reason` if nothing was reported before.
    fn fail(&mut self, d: usize, reason: NotInspected, out: &mut Vec<TlsEvent>) {
        let dir = &mut self.dirs[d];
        dir.framing = Framing::Dead;
        dir.rbuf = Vec::new();
        dir.hbuf = Vec::new();
        dir.early = None;
        dir.handshake = None;
        dir.app = None;
        dir.app_secret = None;
        self.undecryptable(reason, out);
        self.update_decrypting();
    }

    /// Reports that the connection cannot be decrypted (once).
    fn undecryptable(&mut self, reason: NotInspected, out: &mut Vec<TlsEvent>) {
        if !self.undecryptable {
            self.undecryptable = true;
            self.info.reason = Some(reason);
            self.event(TlsEvent::Undecryptable { reason }, out);
        }
        self.update_decrypting();
    }

    fn update_decrypting(&mut self) {
        self.info.decrypting = self
            .dirs
            .iter()
            .any(|d| d.framing != Framing::Dead && d.app.is_some());
    }

    fn anomaly(&mut self, d: usize, reason: String, out: &mut Vec<TlsEvent>) {
        let ev = TlsEvent::Anomaly {
            dir: direction(d),
            frame: self.cur_frame,
            reason,
        };
        self.event(ev, out);
    }

    /// Pushes an event after the plaintext that precedes it.
    fn event(&mut self, ev: TlsEvent, out: &mut Vec<TlsEvent>) {
        self.flush(out);
        out.push(ev);
    }

    fn flush(&mut self, out: &mut Vec<TlsEvent>) {
        if !self.pending.is_empty() {
            let data = std::mem::take(&mut self.pending);
            out.push(TlsEvent::Plaintext {
                dir: self.cur_dir,
                data,
                frame: self.cur_frame,
            });
        }
    }
}

/// Alert description names (RFC 8446 §6, RFC 5246 §7.2).
fn alert_name(desc: u8) -> &'static str {
    match desc {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}
