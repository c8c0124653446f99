//! One HTTP/2 connection: a frame reader per direction and the streams they feed.
//!
//! Read RFC 9113 §3.4 (preface), §4 (frames), §5.1 (stream states), §6 (frame definitions) and
//! §8 (messages), and RFC 7541 for HPACK. Each direction's reader is a small state machine:
//!
//! ```text
//! client:  Preface ──24 octets match──▶ Header ◀──────────────────────────┐
//!             │ mismatch (joined mid-connection)       │ 9 octets        │ payload done
//!             ▼                                         ▼                 │
//! server:  Sync ──plausible header, confirmed──▶ Header ──▶ Payload (buffered) / Data (streamed)
//!             ▲                                              / Skip (unknown type, over a cap)
//!             └──────────── gap across a frame boundary ─────────────────┘
//! either, after `end`: Ended
//! ```
//!
//! `Sync` accepts a frame header that is plausible ([`FrameHeader::is_plausible`]) and is
//! followed, each right after the previous payload, by two more plausible ones on nearby streams;
//! at the very start of the server direction a SETTINGS frame (what every server sends first) is
//! accepted alone. Bytes buffered while confirming are then parsed as frames. A false match is
//! unlikely but possible: its fields would then be garbage read as frames, which is why every
//! later anomaly still names what it saw.

use super::frame::{
    self, flag, kind, setting, FrameHeader, DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_LEN, MAX_FRAME_LEN,
};
use super::hpack::HpackDecoder;
use super::stream::{self, Stream};
use super::{Http2Event, Http2Limits, PREFACE};
use crate::RequestLine;
use phonehome_model::{Direction, Header};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Longest frame accepted as a resynchronisation point; the confirming look-ahead buffers at most
/// this plus two frame headers.
pub const MAX_SYNC_FRAME_LEN: usize = 256 << 10;

/// While resynchronising, a frame header naming a stream more than this far above the highest
/// stream seen is implausible.
pub const MAX_SYNC_STREAM_AHEAD: u32 = 1 << 16;

/// How many closed stream identifiers are remembered, so that frames still in flight for them
/// (DATA after RST_STREAM…) are ignored rather than taken for streams whose start was not seen.
pub const MAX_CLOSED_STREAMS: usize = 4096;

/// Anomalies reported per direction; one more says that the rest were suppressed (garbage can
/// otherwise give one per frame header).
pub const MAX_ANOMALIES_PER_DIRECTION: usize = 256;

/// While resynchronising, the stream identifiers named by a candidate and the frames that
/// confirm it must lie within this distance of each other (concurrent streams are close).
pub const MAX_SYNC_STREAM_SPREAD: u32 = 1 << 12;

/// Most frame boundaries remembered within the `Sync` buffer; octets of older frames are
/// attributed to the next one remembered.
pub const MAX_SYNC_MARKS: usize = 1024;

/// Frame headers that must follow a resynchronisation candidate, each right after the previous
/// payload, before it is accepted.
const SYNC_CONFIRMATIONS: usize = 2;

/// The `Sync` look-ahead window: the candidate and its confirming frames.
const SYNC_WINDOW: usize =
    (SYNC_CONFIRMATIONS + 1) * FRAME_HEADER_LEN + SYNC_CONFIRMATIONS * MAX_SYNC_FRAME_LEN;

/// What the octets at a resynchronisation candidate say.
#[derive(Debug, PartialEq, Eq)]
enum SyncVerdict {
    Accept { connection_start: bool },
    Reject,
    NeedMore,
}

/// The rules a resynchronisation candidate is judged by.
struct SyncCheck {
    from_client: bool,
    /// Longest payload of a frame whose successor must be read.
    candidate_max: usize,
    /// Longest payload of the last confirming frame.
    peer_max: usize,
    max_stream: Option<u32>,
}

impl SyncCheck {
    /// Judges the frame header at the start of `rest`: plausible, and followed by
    /// [`SYNC_CONFIRMATIONS`] plausible headers on nearby streams (or, `at_end`, by exactly the
    /// end of the octets). A server's first SETTINGS (`at_start`) needs no confirmation.
    fn verdict(&self, rest: &[u8], at_start: bool, at_end: bool) -> SyncVerdict {
        let mut pos = 0usize;
        let (mut low, mut high) = (u32::MAX, 0u32);
        for depth in 0..=SYNC_CONFIRMATIONS {
            let Some(hdr) = rest
                .get(pos..pos.saturating_add(FRAME_HEADER_LEN))
                .and_then(FrameHeader::parse)
            else {
                return if at_end && pos == rest.len() && depth > 0 {
                    SyncVerdict::Accept {
                        connection_start: false,
                    }
                } else if at_end {
                    SyncVerdict::Reject
                } else {
                    SyncVerdict::NeedMore
                };
            };
            let max_len = if depth < SYNC_CONFIRMATIONS {
                self.candidate_max
            } else {
                self.peer_max
            };
            if !hdr.is_plausible(self.from_client, max_len, self.max_stream) {
                return SyncVerdict::Reject;
            }
            if hdr.stream != 0 {
                low = low.min(hdr.stream);
                high = high.max(hdr.stream);
                if high.saturating_sub(low) > MAX_SYNC_STREAM_SPREAD {
                    return SyncVerdict::Reject;
                }
            }
            if depth == 0 && at_start && hdr.kind == kind::SETTINGS && !hdr.has(flag::ACK) {
                return SyncVerdict::Accept {
                    connection_start: true,
                };
            }
            pos = pos.saturating_add(FRAME_HEADER_LEN).saturating_add(hdr.len);
        }
        SyncVerdict::Accept {
            connection_start: false,
        }
    }
}

/// The error codes of RFC 9113 §7, for reasons.
fn error_name(code: u32) -> String {
    let name = match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => return format!("error {code:#x}"),
    };
    name.into()
}

/// Where a direction's reader is.
#[derive(Clone, Copy, Debug)]
enum ReadState {
    /// Client: matching the connection preface (matched octets in `buf`).
    Preface,
    /// Looking for a frame boundary (candidate octets in `buf`); `at_start`: `buf` starts at the
    /// first octet of the direction.
    Sync { at_start: bool },
    /// Collecting a frame header in `buf`.
    Header,
    /// Collecting a frame payload in `buf`.
    Payload { hdr: FrameHeader },
    /// Passing a DATA payload to its stream as it arrives. `target`: the stream (`None`: the
    /// payload is dropped). `pad_pending`: the pad length octet is next.
    Data {
        hdr: FrameHeader,
        target: Option<u32>,
        pad_pending: bool,
        data_left: usize,
        pad_left: usize,
    },
    /// Skipping a payload; `block_lost`: it carried (part of) a field block.
    Skip {
        hdr: FrameHeader,
        left: usize,
        block_lost: bool,
    },
    /// `end` was called.
    Ended,
}

/// What a field block is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockKind {
    /// A header or trailer section (HEADERS).
    Headers { end_stream: bool },
    /// A promised request (PUSH_PROMISE); the promised stream, when known.
    Push { promised: Option<u32> },
}

/// A field block waiting for CONTINUATION frames.
#[derive(Debug)]
struct PendingBlock {
    stream: u32,
    kind: BlockKind,
    first_frame: u64,
    fragments: Vec<u8>,
    continuations: usize,
    /// Dropped at a cap or lost: its frames are skipped until END_HEADERS.
    dropped: bool,
}

/// The reader of one direction.
#[derive(Debug)]
struct Reader {
    state: ReadState,
    /// Preface octets, `Sync` window, frame header or payload (see [`ReadState`]).
    buf: Vec<u8>,
    /// Frame of the first octet of the current frame.
    frame_first: u64,
    /// The peer's encoder context.
    hpack: HpackDecoder,
    block: Option<PendingBlock>,
    /// `SETTINGS_MAX_FRAME_SIZE` of the receiving side, when seen.
    peer_max_frame: Option<usize>,
    /// Octets skipped in `Sync` since it was entered.
    sync_skipped: u64,
    /// In `Preface` and `Sync`: where in `buf` the octets of each frame start (at most
    /// [`MAX_SYNC_MARKS`]), so that octets parsed after resynchronising keep their frames.
    marks: VecDeque<(usize, u64)>,
    anomalies: usize,
}

impl Reader {
    fn new(state: ReadState, limits: &Http2Limits) -> Self {
        Self {
            state,
            buf: Vec::new(),
            frame_first: 0,
            hpack: HpackDecoder::new(limits.max_dynamic_table, true),
            block: None,
            peer_max_frame: None,
            sync_skipped: 0,
            marks: VecDeque::new(),
            anomalies: 0,
        }
    }

    /// Appends octets that arrived in `frame` to the `Preface`/`Sync` buffer.
    fn sync_push(&mut self, bytes: &[u8], frame: u64) {
        if self.marks.back().map(|m| m.1) != Some(frame) {
            self.marks.push_back((self.buf.len(), frame));
        }
        self.buf.extend_from_slice(bytes);
        while self.marks.len() > MAX_SYNC_MARKS {
            self.marks.pop_front();
            if let Some(first) = self.marks.front_mut() {
                first.0 = 0;
            }
        }
    }

    /// Drops the first `n` octets of the `Sync` buffer.
    fn sync_drop(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf.drain(..n);
        while self.marks.get(1).is_some_and(|m| m.0 <= n) {
            self.marks.pop_front();
        }
        for m in &mut self.marks {
            m.0 = m.0.saturating_sub(n);
        }
    }

    /// Empties the `Preface`/`Sync` buffer.
    fn sync_clear(&mut self) {
        self.buf.clear();
        self.marks.clear();
        self.sync_skipped = 0;
    }

    /// Takes the `Sync` buffer as (octets, frame) pieces.
    fn sync_take(&mut self) -> Vec<(Vec<u8>, u64)> {
        let buf = std::mem::take(&mut self.buf);
        let marks = std::mem::take(&mut self.marks);
        let mut pieces = Vec::with_capacity(marks.len());
        for (i, &(start, frame)) in marks.iter().enumerate() {
            let end = marks.get(i + 1).map_or(buf.len(), |m| m.0);
            if let Some(piece) = buf.get(start..end).filter(|p| !p.is_empty()) {
                pieces.push((piece.to_vec(), frame));
            }
        }
        pieces
    }
}

/// Stream identifiers recently closed, oldest first out.
#[derive(Debug, Default)]
struct ClosedStreams {
    set: BTreeSet<u32>,
    order: VecDeque<u32>,
}

impl ClosedStreams {
    fn insert(&mut self, id: u32) {
        if self.set.insert(id) {
            self.order.push_back(id);
        }
        while self.order.len() > MAX_CLOSED_STREAMS {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }

    fn contains(&self, id: u32) -> bool {
        self.set.contains(&id)
    }

    fn remove(&mut self, id: u32) {
        if self.set.remove(&id) {
            self.order.retain(|&x| x != id);
        }
    }
}

/// A sans-I/O HTTP/2 parser for one connection, from either end's bytes.
///
/// Feed each direction's bytes in order; events come out in the order their last octet arrived.
/// Splitting the same bytes differently across `feed` calls gives the same events.
#[derive(Debug)]
pub struct Http2Connection {
    limits: Http2Limits,
    client: Reader,
    server: Reader,
    streams: BTreeMap<u32, Stream>,
    closed: ClosedStreams,
    /// Octets held by open streams.
    buffered: usize,
    /// Activity counter for least-recently-active eviction.
    clock: u64,
    /// Highest stream identifier seen.
    highest_stream: u32,
}

/// The octets of a base64url string (RFC 4648 §5, padding optional), or `None`.
fn base64url(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text.iter().filter(|&&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

impl Http2Connection {
    /// A parser for a connection whose client side starts with the connection preface. Without
    /// it (a capture that starts mid-connection), frames are found by resynchronisation and the
    /// HPACK state of earlier header blocks is unknown.
    pub fn new(limits: Http2Limits) -> Self {
        let client = Reader::new(ReadState::Preface, &limits);
        let server = Reader::new(ReadState::Sync { at_start: true }, &limits);
        Self {
            limits,
            client,
            server,
            streams: BTreeMap::new(),
            closed: ClosedStreams::default(),
            buffered: 0,
            clock: 0,
            highest_stream: 0,
        }
    }

    /// A parser for the connection after an HTTP/1.1 `Upgrade: h2c` request answered by
    /// `101 Switching Protocols` (RFC 7540 §3.2): stream 1 is that request (already emitted by
    /// the HTTP/1.1 parser, so only its response comes out here), the client still sends the
    /// preface, and the request's `HTTP2-Settings` field holds the client's first SETTINGS.
    pub fn after_h2c_upgrade(
        limits: Http2Limits,
        request: RequestLine,
        request_headers: Vec<Header>,
    ) -> Self {
        let mut conn = Self::new(limits);
        let mut stream = Stream {
            request_line: Some(request),
            ..Stream::default()
        };
        stream.request.done = true;
        conn.streams.insert(1, stream);
        conn.highest_stream = 1;
        let settings = request_headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("http2-settings"))
            .and_then(|h| base64url(h.value.trim_ascii()));
        if let Some(payload) = settings {
            conn.apply_settings(Direction::Request, &payload);
        }
        conn
    }

    fn reader(&mut self, dir: Direction) -> &mut Reader {
        match dir {
            Direction::Request => &mut self.client,
            Direction::Response => &mut self.server,
        }
    }

    fn other(&mut self, dir: Direction) -> &mut Reader {
        match dir {
            Direction::Request => &mut self.server,
            Direction::Response => &mut self.client,
        }
    }

    fn anomaly(&mut self, dir: Direction, frame: u64, reason: String, out: &mut Vec<Http2Event>) {
        let r = self.reader(dir);
        r.anomalies = r.anomalies.saturating_add(1);
        if r.anomalies <= MAX_ANOMALIES_PER_DIRECTION {
            out.push(Http2Event::Anomaly { dir, frame, reason });
        } else if r.anomalies == MAX_ANOMALIES_PER_DIRECTION + 1 {
            out.push(Http2Event::Anomaly {
                dir,
                frame,
                reason: format!(
                    "more than {MAX_ANOMALIES_PER_DIRECTION} anomalies in this direction: the \
                     rest are not reported"
                ),
            });
        }
    }

    fn limit(dir: Direction, frame: u64, reason: String, out: &mut Vec<Http2Event>) {
        out.push(Http2Event::Limit { dir, frame, reason });
    }

    /// Bytes of one direction, in order (`Direction::Request` = client → server). `frame` is the
    /// 1-based frame number that delivered them.
    pub fn feed(&mut self, dir: Direction, data: &[u8], frame: u64, out: &mut Vec<Http2Event>) {
        self.advance(dir, data, frame, out);
    }

    /// Runs the reader of `dir` over `data`.
    fn advance(&mut self, dir: Direction, data: &[u8], frame: u64, out: &mut Vec<Http2Event>) {
        let mut used = 0usize;
        while let Some(rest) = data.get(used..).filter(|r| !r.is_empty()) {
            let n = match self.reader(dir).state {
                ReadState::Ended => return,
                ReadState::Preface => self.step_preface(dir, rest, frame, out),
                ReadState::Sync { .. } => self.step_sync(dir, rest, frame, out),
                ReadState::Header => self.step_header(dir, rest, frame, out),
                ReadState::Payload { hdr } => self.step_payload(dir, hdr, rest, frame, out),
                ReadState::Data { .. } => self.step_data(dir, rest, frame, out),
                ReadState::Skip { .. } => self.step_skip(dir, rest, frame, out),
            };
            // Every step consumes at least one octet of non-empty input; should that ever fail,
            // drop the rest rather than spin.
            if n == 0 {
                return;
            }
            used = used.saturating_add(n);
        }
    }

    fn step_preface(
        &mut self,
        dir: Direction,
        rest: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) -> usize {
        let r = self.reader(dir);
        let matched = r.buf.len();
        let take = rest.len().min(PREFACE.len().saturating_sub(matched));
        let chunk = rest.get(..take).unwrap_or_default();
        let expected = PREFACE
            .get(matched..matched.saturating_add(take))
            .unwrap_or_default();
        r.sync_push(chunk, frame);
        if chunk == expected {
            if r.buf.len() == PREFACE.len() {
                r.sync_clear();
                r.hpack.mark_fresh();
                r.state = ReadState::Header;
            }
            return take;
        }
        r.state = ReadState::Sync { at_start: true };
        r.sync_skipped = 0;
        self.anomaly(
            dir,
            frame,
            "no HTTP/2 client connection preface: the capture joined the connection mid-way (or it \
             is not HTTP/2); frames are found by resynchronisation, and header fields that refer to \
             earlier HPACK state come out as unknown"
                .into(),
            out,
        );
        self.sync_scan(dir, false, frame, out);
        take
    }

    fn step_sync(
        &mut self,
        dir: Direction,
        rest: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) -> usize {
        let r = self.reader(dir);
        let room = SYNC_WINDOW.saturating_sub(r.buf.len()).max(1);
        let take = rest.len().min(room);
        r.sync_push(rest.get(..take).unwrap_or_default(), frame);
        self.sync_scan(dir, false, frame, out);
        take
    }

    /// Looks for a frame boundary in the `Sync` buffer; on finding one, parses the buffered
    /// octets from there as frames. `at_end`: no more octets will come, so a candidate whose
    /// chain of frames reaches exactly the end is accepted unconfirmed.
    fn sync_scan(&mut self, dir: Direction, at_end: bool, frame: u64, out: &mut Vec<Http2Event>) {
        let highest = self.highest_stream;
        let r = self.reader(dir);
        let ReadState::Sync { at_start } = r.state else {
            return;
        };
        let peer_max = r
            .peer_max_frame
            .unwrap_or(DEFAULT_MAX_FRAME_SIZE)
            .clamp(DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_LEN);
        let check = SyncCheck {
            from_client: dir == Direction::Request,
            candidate_max: peer_max.min(MAX_SYNC_FRAME_LEN),
            peer_max,
            max_stream: (highest > 0).then(|| highest.saturating_add(MAX_SYNC_STREAM_AHEAD)),
        };
        let mut i = 0usize;
        let mut accepted = None;
        while r.buf.len() >= i.saturating_add(FRAME_HEADER_LEN) {
            let rest = r.buf.get(i..).unwrap_or_default();
            match check.verdict(rest, i == 0 && at_start, at_end) {
                SyncVerdict::Accept { connection_start } => {
                    accepted = Some((i, connection_start));
                    break;
                }
                SyncVerdict::Reject => i = i.saturating_add(1),
                // Wait for the octets that confirm or refute this candidate.
                SyncVerdict::NeedMore => break,
            }
        }
        if at_end && accepted.is_none() {
            i = r.buf.len();
        }
        let Some((at, connection_start)) = accepted else {
            // Nothing before `i` can start a frame any more.
            let drop = i.min(r.buf.len());
            if drop > 0 {
                r.sync_drop(drop);
                r.sync_skipped = r.sync_skipped.saturating_add(drop as u64);
                r.state = ReadState::Sync { at_start: false };
            }
            return;
        };
        let skipped = r.sync_skipped.saturating_add(at as u64);
        r.sync_drop(at);
        let replay = r.sync_take();
        r.sync_clear();
        r.state = ReadState::Header;
        if connection_start && dir == Direction::Response {
            // The server's first frame: its encoder starts from an empty table.
            r.hpack.mark_fresh();
        }
        if skipped > 0 {
            self.anomaly(
                dir,
                frame,
                format!("{skipped} octets skipped to find the next plausible HTTP/2 frame header"),
                out,
            );
        }
        // Parsing resumes in `Header`, which never returns to `Sync`: no deeper recursion.
        for (piece, piece_frame) in replay {
            self.advance(dir, &piece, piece_frame, out);
        }
    }

    fn step_header(
        &mut self,
        dir: Direction,
        rest: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) -> usize {
        let r = self.reader(dir);
        if r.buf.is_empty() {
            r.frame_first = frame;
        }
        let take = rest.len().min(FRAME_HEADER_LEN.saturating_sub(r.buf.len()));
        r.buf
            .extend_from_slice(rest.get(..take).unwrap_or_default());
        if r.buf.len() < FRAME_HEADER_LEN {
            return take;
        }
        let hdr = FrameHeader::parse(&r.buf);
        r.buf.clear();
        if let Some(hdr) = hdr {
            self.begin_frame(dir, hdr, frame, out);
        }
        take.max(1)
    }

    /// A frame header arrived: pick how its payload is read.
    fn begin_frame(
        &mut self,
        dir: Direction,
        hdr: FrameHeader,
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        let open_block = self.reader(dir).block.as_ref().map(|b| b.stream);
        if let Some(block_stream) = open_block {
            if hdr.kind != kind::CONTINUATION || hdr.stream != block_stream {
                self.anomaly(
                    dir,
                    frame,
                    format!(
                        "expected CONTINUATION on stream {block_stream}, got {} on stream {}: \
                         field block cut short",
                        hdr.kind_name(),
                        hdr.stream
                    ),
                    out,
                );
                self.finish_block(dir, true, frame, out);
            }
        }
        if matches!(hdr.kind, kind::DATA | kind::HEADERS | kind::PUSH_PROMISE) {
            self.highest_stream = self.highest_stream.max(hdr.stream);
        }
        if let Some(max) = self.reader(dir).peer_max_frame.filter(|&m| hdr.len > m) {
            self.anomaly(
                dir,
                frame,
                format!(
                    "{} frame of {} octets exceeds the peer's SETTINGS_MAX_FRAME_SIZE {max}",
                    hdr.kind_name(),
                    hdr.len
                ),
                out,
            );
        }
        self.check_shape(dir, &hdr, frame, out);
        let carries_block = matches!(
            hdr.kind,
            kind::HEADERS | kind::PUSH_PROMISE | kind::CONTINUATION
        );
        let buffered = carries_block || matches!(hdr.kind, kind::SETTINGS | kind::RST_STREAM);
        let state = if hdr.kind == kind::DATA {
            let target = self.data_target(dir, hdr.stream, frame, out);
            let padded = hdr.has(flag::PADDED);
            ReadState::Data {
                hdr,
                target,
                pad_pending: padded,
                data_left: if padded { 0 } else { hdr.len },
                pad_left: 0,
            }
        } else if buffered && hdr.len <= self.limits.max_frame_payload {
            ReadState::Payload { hdr }
        } else {
            if buffered {
                let what = if carries_block {
                    "its field block dropped, later HPACK references may be unknown"
                } else {
                    "skipped"
                };
                Self::limit(
                    dir,
                    frame,
                    format!(
                        "{} frame of {} octets on stream {} exceeds max_frame_payload ({} octets): {what}",
                        hdr.kind_name(),
                        hdr.len,
                        hdr.stream,
                        self.limits.max_frame_payload
                    ),
                    out,
                );
            }
            ReadState::Skip {
                hdr,
                left: hdr.len,
                block_lost: carries_block,
            }
        };
        self.reader(dir).state = state;
        if hdr.len == 0 {
            self.end_frame(dir, frame, out);
        }
    }

    /// Reports frames whose fixed shape is wrong (they are still read as far as possible).
    fn check_shape(
        &mut self,
        dir: Direction,
        hdr: &FrameHeader,
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        let on_stream = hdr.stream != 0;
        let problem = match hdr.kind {
            kind::DATA
            | kind::HEADERS
            | kind::CONTINUATION
            | kind::RST_STREAM
            | kind::PRIORITY
            | kind::PUSH_PROMISE
                if !on_stream =>
            {
                Some("on stream 0".to_string())
            }
            kind::SETTINGS | kind::PING | kind::GOAWAY if on_stream => {
                Some(format!("on stream {} (must be 0)", hdr.stream))
            }
            kind::SETTINGS if hdr.has(flag::ACK) && hdr.len != 0 => {
                Some(format!("ACK with {} octets of payload", hdr.len))
            }
            kind::SETTINGS if !hdr.len.is_multiple_of(6) => {
                Some(format!("of {} octets (not a multiple of 6)", hdr.len))
            }
            kind::PING if hdr.len != 8 => Some(format!("of {} octets (must be 8)", hdr.len)),
            kind::RST_STREAM | kind::WINDOW_UPDATE if hdr.len != 4 => {
                Some(format!("of {} octets (must be 4)", hdr.len))
            }
            kind::PRIORITY if hdr.len != 5 => Some(format!("of {} octets (must be 5)", hdr.len)),
            kind::GOAWAY if hdr.len < 8 => Some(format!("of {} octets (at least 8)", hdr.len)),
            kind::PUSH_PROMISE if dir == Direction::Request => Some("sent by the client".into()),
            _ => None,
        };
        if let Some(problem) = problem {
            self.anomaly(
                dir,
                frame,
                format!("{} frame {problem}", hdr.kind_name()),
                out,
            );
        }
    }

    fn step_payload(
        &mut self,
        dir: Direction,
        hdr: FrameHeader,
        rest: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) -> usize {
        let r = self.reader(dir);
        let take = rest.len().min(hdr.len.saturating_sub(r.buf.len()));
        r.buf
            .extend_from_slice(rest.get(..take).unwrap_or_default());
        if r.buf.len() >= hdr.len {
            self.end_frame(dir, frame, out);
        }
        take.max(1)
    }

    fn step_skip(
        &mut self,
        dir: Direction,
        rest: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) -> usize {
        let r = self.reader(dir);
        let ReadState::Skip {
            hdr,
            left,
            block_lost,
        } = r.state
        else {
            return 0;
        };
        let take = rest.len().min(left);
        let left = left.saturating_sub(take);
        r.state = ReadState::Skip {
            hdr,
            left,
            block_lost,
        };
        if left == 0 {
            self.end_frame(dir, frame, out);
        }
        take.max(1)
    }

    fn step_data(
        &mut self,
        dir: Direction,
        rest: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) -> usize {
        let ReadState::Data {
            hdr,
            target,
            mut pad_pending,
            mut data_left,
            mut pad_left,
        } = self.reader(dir).state
        else {
            return 0;
        };
        let used;
        if pad_pending {
            let pad = usize::from(rest.first().copied().unwrap_or(0));
            used = 1;
            pad_pending = false;
            let after = hdr.len.saturating_sub(1);
            if pad > after {
                self.anomaly(
                    dir,
                    frame,
                    format!(
                        "DATA padding ({pad} octets) longer than its payload on stream {}: payload skipped",
                        hdr.stream
                    ),
                    out,
                );
                pad_left = after;
            } else {
                data_left = after.saturating_sub(pad);
                pad_left = pad;
            }
        } else if data_left > 0 {
            let take = rest.len().min(data_left);
            if let Some(id) = target {
                self.deliver(dir, id, rest.get(..take).unwrap_or_default(), frame, out);
            }
            data_left = data_left.saturating_sub(take);
            used = take;
        } else {
            let take = rest.len().min(pad_left);
            pad_left = pad_left.saturating_sub(take);
            used = take;
        }
        self.reader(dir).state = ReadState::Data {
            hdr,
            target,
            pad_pending,
            data_left,
            pad_left,
        };
        if !pad_pending && data_left == 0 && pad_left == 0 {
            self.end_frame(dir, frame, out);
        }
        used.max(1)
    }

    /// The current frame's payload is complete: act on it, then read the next header.
    fn end_frame(&mut self, dir: Direction, frame: u64, out: &mut Vec<Http2Event>) {
        let r = self.reader(dir);
        let state = std::mem::replace(&mut r.state, ReadState::Header);
        let payload = std::mem::take(&mut r.buf);
        match state {
            ReadState::Data { hdr, target, .. } => {
                if let (Some(id), true) = (target, hdr.has(flag::END_STREAM)) {
                    self.complete_half(dir, id, false, frame, out);
                }
            }
            ReadState::Payload { hdr } => self.on_frame(dir, hdr, &payload, frame, out),
            ReadState::Skip {
                hdr,
                block_lost: true,
                ..
            } => self.block_frame_lost(dir, hdr, frame, out),
            _ => {}
        }
    }

    /// A buffered frame is complete.
    fn on_frame(
        &mut self,
        dir: Direction,
        hdr: FrameHeader,
        payload: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        match hdr.kind {
            kind::HEADERS => match frame::headers_fragment(&hdr, payload) {
                Ok(fragment) => {
                    let kind = BlockKind::Headers {
                        end_stream: hdr.has(flag::END_STREAM),
                    };
                    self.start_block(dir, hdr, kind, fragment, frame, out);
                }
                Err(e) => {
                    self.anomaly(dir, frame, format!("{} on stream {}", e.0, hdr.stream), out);
                    self.block_frame_lost(dir, hdr, frame, out);
                }
            },
            kind::PUSH_PROMISE => match frame::push_promise_fragment(&hdr, payload) {
                Ok((promised, fragment)) => {
                    let kind = BlockKind::Push {
                        promised: Some(promised),
                    };
                    self.start_block(dir, hdr, kind, fragment, frame, out);
                }
                Err(e) => {
                    self.anomaly(dir, frame, format!("{} on stream {}", e.0, hdr.stream), out);
                    self.block_frame_lost(dir, hdr, frame, out);
                }
            },
            kind::CONTINUATION => self.continuation(dir, hdr, payload, frame, out),
            kind::SETTINGS if !hdr.has(flag::ACK) => self.apply_settings(dir, payload),
            kind::RST_STREAM => {
                let code = payload
                    .get(..4)
                    .and_then(|c| <[u8; 4]>::try_from(c).ok())
                    .map(u32::from_be_bytes);
                self.reset(dir, hdr.stream, code, frame, out);
            }
            _ => {}
        }
    }

    /// SETTINGS from `dir`: they bound what the *other* direction's sender may do.
    fn apply_settings(&mut self, dir: Direction, payload: &[u8]) {
        for (id, value) in frame::settings(payload) {
            let value = usize::try_from(value).unwrap_or(usize::MAX);
            match id {
                setting::HEADER_TABLE_SIZE => self.other(dir).hpack.set_settings_size(value),
                setting::MAX_FRAME_SIZE => {
                    self.other(dir).peer_max_frame =
                        Some(value.clamp(DEFAULT_MAX_FRAME_SIZE, MAX_FRAME_LEN));
                }
                _ => {}
            }
        }
    }

    /// A HEADERS or PUSH_PROMISE frame brought the first fragment of a field block.
    fn start_block(
        &mut self,
        dir: Direction,
        hdr: FrameHeader,
        kind: BlockKind,
        fragment: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        if let BlockKind::Push {
            promised: Some(promised),
        } = kind
        {
            self.highest_stream = self.highest_stream.max(promised);
        }
        let first_frame = self.reader(dir).frame_first;
        let mut block = PendingBlock {
            stream: hdr.stream,
            kind,
            first_frame,
            fragments: Vec::new(),
            continuations: 0,
            dropped: false,
        };
        let max = self.limits.max_header_list;
        if fragment.len() > max {
            Self::limit(
                dir,
                frame,
                format!(
                    "field block on stream {} larger than max_header_list ({max} octets): dropped, \
                     later HPACK references may be unknown",
                    hdr.stream
                ),
                out,
            );
            block.dropped = true;
            self.reader(dir).hpack.lose_state();
        } else {
            block.fragments.extend_from_slice(fragment);
        }
        self.reader(dir).block = Some(block);
        if hdr.has(flag::END_HEADERS) {
            self.finish_block(dir, false, frame, out);
        }
    }

    fn continuation(
        &mut self,
        dir: Direction,
        hdr: FrameHeader,
        fragment: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        let max_list = self.limits.max_header_list;
        let max_cont = self.limits.max_continuations;
        let r = self.reader(dir);
        let Some(block) = r.block.as_mut() else {
            r.hpack.lose_state();
            self.anomaly(
                dir,
                frame,
                format!(
                    "CONTINUATION on stream {} without a HEADERS or PUSH_PROMISE before it: skipped, \
                     later HPACK references may be unknown",
                    hdr.stream
                ),
                out,
            );
            return;
        };
        block.continuations = block.continuations.saturating_add(1);
        let mut why = None;
        if !block.dropped {
            if block.continuations > max_cont {
                why = Some(format!(
                    "more than max_continuations ({max_cont}) CONTINUATION frames on stream {}: \
                     field block dropped, later HPACK references may be unknown",
                    hdr.stream
                ));
            } else if block.fragments.len().saturating_add(fragment.len()) > max_list {
                why = Some(format!(
                    "field block on stream {} larger than max_header_list ({max_list} octets): \
                     dropped, later HPACK references may be unknown",
                    hdr.stream
                ));
            } else {
                block.fragments.extend_from_slice(fragment);
            }
            if why.is_some() {
                block.dropped = true;
                block.fragments = Vec::new();
                r.hpack.lose_state();
            }
        }
        if let Some(why) = why {
            Self::limit(dir, frame, why, out);
        }
        if hdr.has(flag::END_HEADERS) {
            self.finish_block(dir, false, frame, out);
        }
    }

    /// A frame carrying (part of) a field block was lost or could not be read.
    fn block_frame_lost(
        &mut self,
        dir: Direction,
        hdr: FrameHeader,
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        let r = self.reader(dir);
        r.hpack.lose_state();
        match hdr.kind {
            kind::HEADERS | kind::PUSH_PROMISE => {
                let kind = if hdr.kind == kind::HEADERS {
                    BlockKind::Headers {
                        end_stream: hdr.has(flag::END_STREAM),
                    }
                } else {
                    BlockKind::Push { promised: None }
                };
                r.block = Some(PendingBlock {
                    stream: hdr.stream,
                    kind,
                    first_frame: r.frame_first,
                    fragments: Vec::new(),
                    continuations: 0,
                    dropped: true,
                });
            }
            _ => match r.block.as_mut() {
                Some(block) => {
                    block.dropped = true;
                    block.fragments = Vec::new();
                }
                None => return,
            },
        }
        if hdr.has(flag::END_HEADERS) {
            self.finish_block(dir, false, frame, out);
        }
    }

    /// The pending field block is complete (or, with `cut`, is all there will be): decode it and
    /// hand the fields to its stream.
    fn finish_block(&mut self, dir: Direction, cut: bool, frame: u64, out: &mut Vec<Http2Event>) {
        let max_list = self.limits.max_header_list;
        let r = self.reader(dir);
        let Some(block) = r.block.take() else {
            return;
        };
        let headers = if block.dropped {
            None
        } else {
            let decoded = r.hpack.decode(&block.fragments, max_list);
            if cut {
                // The rest of the block may have changed the table.
                r.hpack.lose_state();
            }
            for reason in decoded.problems {
                self.anomaly(
                    dir,
                    frame,
                    format!("stream {}: {reason}", block.stream),
                    out,
                );
            }
            for reason in decoded.limits {
                Self::limit(
                    dir,
                    frame,
                    format!("stream {}: {reason}", block.stream),
                    out,
                );
            }
            Some(
                decoded
                    .fields
                    .into_iter()
                    .map(|f| Header::new(String::from_utf8_lossy(&f.name).into_owned(), f.value))
                    .collect::<Vec<_>>(),
            )
        };
        match block.kind {
            BlockKind::Headers { end_stream } => self.header_section(
                dir,
                block.stream,
                headers,
                end_stream && !cut,
                cut,
                block.first_frame,
                frame,
                out,
            ),
            BlockKind::Push { promised } => {
                if let (Some(promised), Some(headers)) = (promised, headers) {
                    self.push_promise(dir, promised, &headers, frame, out);
                }
            }
        }
    }

    /// Opens stream `id` (closing the least recently active one beyond `max_streams`).
    fn open_stream(&mut self, id: u32, dir: Direction, frame: u64, out: &mut Vec<Http2Event>) {
        if self.streams.contains_key(&id) {
            return;
        }
        while self.streams.len() >= self.limits.max_streams.max(1) {
            let Some(oldest) = self.least_recent(false) else {
                break;
            };
            if self.streams.get(&oldest).is_some_and(Stream::in_progress) {
                let reason = format!(
                    "more than max_streams ({}) open streams: stream {oldest} emitted early, cut short",
                    self.limits.max_streams
                );
                Self::limit(dir, frame, reason, out);
            }
            self.flush_stream(oldest, frame, out);
        }
        self.closed.remove(id);
        self.streams.insert(id, Stream::default());
    }

    /// The least recently active stream (among those holding octets, with `holding`).
    fn least_recent(&self, holding: bool) -> Option<u32> {
        self.streams
            .iter()
            .filter(|(_, s)| !holding || s.held() > 0)
            .min_by_key(|(_, s)| s.last_active)
            .map(|(&id, _)| id)
    }

    fn touch(&mut self, id: u32) {
        self.clock = self.clock.saturating_add(1);
        if let Some(s) = self.streams.get_mut(&id) {
            s.last_active = self.clock;
        }
    }

    /// The stream a DATA frame feeds, or `None` when its payload is to be dropped.
    fn data_target(
        &mut self,
        dir: Direction,
        id: u32,
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) -> Option<u32> {
        if id == 0 {
            return None;
        }
        let first = self.reader(dir).frame_first;
        if !self.streams.contains_key(&id) {
            if self.closed.contains(id) {
                return None;
            }
            self.open_stream(id, dir, frame, out);
        }
        self.touch(id);
        let stream = self.streams.get_mut(&id)?;
        let reset = stream.reset;
        let half = stream.half(dir);
        if half.done {
            if reset {
                // In flight when the stream was reset.
                return None;
            }
            self.anomaly(
                dir,
                frame,
                format!("DATA on stream {id} after its END_STREAM: dropped"),
                out,
            );
            return None;
        }
        if !half.started() {
            half.start(first);
            half.headers_missing = true;
            self.anomaly(
                dir,
                frame,
                format!("DATA on stream {id} whose header section was never seen"),
                out,
            );
        }
        Some(id)
    }

    /// Body octets for stream `id`.
    fn deliver(
        &mut self,
        dir: Direction,
        id: u32,
        bytes: &[u8],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        let max_body = self.limits.max_body;
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        let (added, limit) = stream.half(dir).add_body(bytes, max_body);
        self.buffered = self.buffered.saturating_add(added);
        if let Some(reason) = limit {
            Self::limit(dir, frame, format!("stream {id}: {reason}"), out);
        }
        self.enforce_budget(dir, frame, out);
    }

    /// Emits streams early while the open streams hold more than `max_buffered`.
    fn enforce_budget(&mut self, dir: Direction, frame: u64, out: &mut Vec<Http2Event>) {
        while self.buffered > self.limits.max_buffered {
            let Some(oldest) = self.least_recent(true) else {
                self.buffered = 0;
                break;
            };
            let reason = format!(
                "open streams hold more than max_buffered ({} octets): stream {oldest} emitted \
                 early, cut short",
                self.limits.max_buffered
            );
            Self::limit(dir, frame, reason, out);
            self.flush_stream(oldest, frame, out);
        }
    }

    /// A header (or trailer) section for stream `id`; `None` when it was lost or dropped.
    #[allow(clippy::too_many_arguments)]
    fn header_section(
        &mut self,
        dir: Direction,
        id: u32,
        headers: Option<Vec<Header>>,
        end_stream: bool,
        cut: bool,
        first_frame: u64,
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        if id == 0 {
            return;
        }
        if !self.streams.contains_key(&id) {
            if self.closed.contains(id) {
                self.anomaly(
                    dir,
                    frame,
                    format!("header section on closed stream {id}: taken as a new message"),
                    out,
                );
            }
            self.open_stream(id, dir, frame, out);
        }
        self.touch(id);
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        let reset = stream.reset;
        let half = stream.half(dir);
        if half.done {
            if !reset {
                self.anomaly(
                    dir,
                    frame,
                    format!("HEADERS on stream {id} after its END_STREAM: ignored"),
                    out,
                );
            }
            return;
        }
        half.truncated |= cut;
        let mut problem = None;
        let added = match headers {
            None => {
                half.start(first_frame);
                half.headers_missing = true;
                0
            }
            Some(headers) if !half.headers_done => {
                if dir == Direction::Response {
                    match stream::status(&headers) {
                        Some(s) if (100..200).contains(&s) => {
                            // Interim response (RFC 9113 §8.1): skipped.
                            if end_stream {
                                self.anomaly(
                                    dir,
                                    frame,
                                    format!("{s} response with END_STREAM on stream {id}"),
                                    out,
                                );
                                self.complete_half(dir, id, true, frame, out);
                            }
                            return;
                        }
                        Some(_) => {}
                        None => {
                            problem = Some(format!(
                                "response header section on stream {id} without a valid :status"
                            ))
                        }
                    }
                } else if !headers.iter().any(|h| h.name == ":method") {
                    problem = Some(format!(
                        "request header section on stream {id} without :method"
                    ));
                }
                let Some(stream) = self.streams.get_mut(&id) else {
                    return;
                };
                if dir == Direction::Request {
                    stream.request_line = Some(stream::request_line(&headers));
                }
                let half = stream.half(dir);
                half.start(first_frame);
                half.headers_done = true;
                half.add_headers(headers)
            }
            Some(trailers) => {
                if !end_stream && !cut {
                    problem = Some(format!("trailer section on stream {id} without END_STREAM"));
                }
                half.add_headers(trailers)
            }
        };
        self.buffered = self.buffered.saturating_add(added);
        if let Some(reason) = problem {
            self.anomaly(dir, frame, reason, out);
        }
        if end_stream {
            self.complete_half(dir, id, false, frame, out);
        }
        self.enforce_budget(dir, frame, out);
    }

    /// A PUSH_PROMISE's request: it becomes the request line of the promised stream, whose
    /// client half will never come.
    fn push_promise(
        &mut self,
        dir: Direction,
        promised: u32,
        headers: &[Header],
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        if promised == 0 {
            self.anomaly(dir, frame, "PUSH_PROMISE of stream 0".into(), out);
            return;
        }
        if self.streams.contains_key(&promised) {
            self.anomaly(
                dir,
                frame,
                format!("PUSH_PROMISE of stream {promised}, which is already open"),
                out,
            );
        }
        self.open_stream(promised, dir, frame, out);
        self.touch(promised);
        if let Some(stream) = self.streams.get_mut(&promised) {
            stream.request_line = Some(stream::request_line(headers));
            stream.request.done = true;
        }
    }

    /// Emits the `dir` message of stream `id` (`cut`: it is incomplete), and forgets the stream
    /// once both messages are done.
    fn complete_half(
        &mut self,
        dir: Direction,
        id: u32,
        cut: bool,
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        let half = stream.half(dir);
        if !half.done {
            if half.started() {
                half.truncated |= cut;
                let held = half.held;
                let built = stream::build(stream, dir, frame, &self.limits);
                self.buffered = self.buffered.saturating_sub(held);
                if let Some(reason) = built.limit {
                    Self::limit(dir, frame, format!("stream {id}: {reason}"), out);
                }
                out.push(built.event);
            } else {
                half.done = true;
            }
        }
        if self.streams.get(&id).is_some_and(Stream::finished) {
            self.forget(id);
        }
    }

    fn forget(&mut self, id: u32) {
        if let Some(stream) = self.streams.remove(&id) {
            self.buffered = self.buffered.saturating_sub(stream.held());
        }
        self.closed.insert(id);
    }

    /// Emits whatever stream `id` has, cut short, and forgets it.
    fn flush_stream(&mut self, id: u32, frame: u64, out: &mut Vec<Http2Event>) {
        self.complete_half(Direction::Request, id, true, frame, out);
        self.complete_half(Direction::Response, id, true, frame, out);
        self.forget(id);
    }

    /// RST_STREAM: the stream ends now.
    fn reset(
        &mut self,
        dir: Direction,
        id: u32,
        code: Option<u32>,
        frame: u64,
        out: &mut Vec<Http2Event>,
    ) {
        if id == 0 || !self.streams.contains_key(&id) {
            if !self.closed.contains(id) && id != 0 {
                self.closed.insert(id);
            }
            return;
        }
        let code = code.map(error_name).unwrap_or_else(|| "no code".into());
        let incomplete = self.streams.get(&id).is_some_and(|s| {
            (s.request.started() && !s.request.done) || (s.response.started() && !s.response.done)
        });
        if incomplete && code != "NO_ERROR" {
            self.anomaly(
                dir,
                frame,
                format!("stream {id} reset ({code}): what was seen is emitted, cut short"),
                out,
            );
        }
        if let Some(stream) = self.streams.get_mut(&id) {
            stream.reset = true;
        }
        // A message not started yet may still arrive (sent before the reset was received); the
        // stream is forgotten once both are done, at the end of the connection, or when evicted.
        for d in [Direction::Request, Direction::Response] {
            let started = self
                .streams
                .get_mut(&id)
                .is_some_and(|s| s.half(d).started());
            if started {
                self.complete_half(d, id, true, frame, out);
            }
        }
    }

    /// `len` octets of this direction were lost. Inside a frame of known length the reader keeps
    /// its place (the message is marked cut short, a lost field block makes the HPACK state
    /// unknown); otherwise it resynchronises on the next plausible frame header.
    pub fn gap(&mut self, dir: Direction, len: u64, frame: u64, out: &mut Vec<Http2Event>) {
        if len == 0 {
            return;
        }
        let lost = usize::try_from(len).unwrap_or(usize::MAX);
        let r = self.reader(dir);
        match r.state {
            ReadState::Ended => return,
            ReadState::Data {
                hdr,
                target,
                pad_pending,
                data_left,
                pad_left,
            } => {
                let remaining = if pad_pending {
                    // The pad length octet and everything after it.
                    hdr.len
                } else {
                    data_left.saturating_add(pad_left)
                };
                if lost <= remaining {
                    let (data_left, pad_left) = if pad_pending {
                        // The split between data and padding is lost with the pad length: the
                        // rest is kept as data.
                        (remaining.saturating_sub(lost), 0)
                    } else {
                        let from_data = lost.min(data_left);
                        (
                            data_left.saturating_sub(from_data),
                            pad_left.saturating_sub(lost.saturating_sub(from_data)),
                        )
                    };
                    r.state = ReadState::Data {
                        hdr,
                        target,
                        pad_pending: false,
                        data_left,
                        pad_left,
                    };
                    if let Some(id) = target {
                        if let Some(s) = self.streams.get_mut(&id) {
                            s.half(dir).truncated = true;
                        }
                    }
                    if data_left == 0 && pad_left == 0 {
                        self.end_frame(dir, frame, out);
                    }
                    return;
                }
            }
            ReadState::Payload { hdr } if lost <= hdr.len.saturating_sub(r.buf.len()) => {
                let left = hdr.len.saturating_sub(r.buf.len()).saturating_sub(lost);
                r.buf.clear();
                let carries_block = matches!(
                    hdr.kind,
                    kind::HEADERS | kind::PUSH_PROMISE | kind::CONTINUATION
                );
                r.state = ReadState::Skip {
                    hdr,
                    left,
                    block_lost: carries_block,
                };
                if carries_block {
                    self.anomaly(
                        dir,
                        frame,
                        format!(
                            "{len} octets lost inside a {} frame on stream {}: its field block is \
                             lost, later HPACK references may be unknown",
                            hdr.kind_name(),
                            hdr.stream
                        ),
                        out,
                    );
                }
                if left == 0 {
                    self.end_frame(dir, frame, out);
                }
                return;
            }
            ReadState::Skip {
                hdr,
                left,
                block_lost,
            } if lost <= left => {
                let left = left.saturating_sub(lost);
                r.state = ReadState::Skip {
                    hdr,
                    left,
                    block_lost,
                };
                if left == 0 {
                    self.end_frame(dir, frame, out);
                }
                return;
            }
            ReadState::Sync { .. } => {
                r.sync_clear();
                r.state = ReadState::Sync { at_start: false };
                return;
            }
            _ => {}
        }
        // Frame boundaries are lost.
        let state = std::mem::replace(&mut r.state, ReadState::Sync { at_start: false });
        r.sync_clear();
        r.hpack.lose_state();
        let had_block = r.block.take().map(|b| (b.stream, b.kind, b.first_frame));
        self.anomaly(
            dir,
            frame,
            format!(
                "{len} octets lost across frame boundaries: resynchronising on the next plausible \
                 frame header; later HPACK references may be unknown"
            ),
            out,
        );
        if let Some((id, BlockKind::Headers { .. }, first_frame)) = had_block {
            self.header_section(dir, id, None, false, true, first_frame, frame, out);
        }
        if let ReadState::Data {
            target: Some(id), ..
        } = state
        {
            if let Some(s) = self.streams.get_mut(&id) {
                s.half(dir).truncated = true;
            }
        }
        // Any open message of this direction may have lost frames.
        for stream in self.streams.values_mut() {
            let half = stream.half(dir);
            if half.started() && !half.done {
                half.truncated = true;
            }
        }
    }

    /// This direction ended (FIN, reset or end of capture): a frame or field block in progress is
    /// used as far as it goes, and every message of this direction still open is emitted, cut
    /// short, so nothing is lost.
    pub fn end(&mut self, dir: Direction, frame: u64, out: &mut Vec<Http2Event>) {
        if matches!(self.reader(dir).state, ReadState::Sync { .. }) {
            self.sync_scan(dir, true, frame, out);
        }
        let r = self.reader(dir);
        let state = std::mem::replace(&mut r.state, ReadState::Ended);
        let partial = std::mem::take(&mut r.buf);
        match state {
            ReadState::Data {
                target: Some(id), ..
            } => {
                if let Some(s) = self.streams.get_mut(&id) {
                    s.half(dir).truncated = true;
                }
            }
            ReadState::Payload { hdr } => {
                // A field block fragment cut short still holds fields.
                let fragment = match hdr.kind {
                    kind::HEADERS => {
                        let pad = if hdr.has(flag::PADDED) {
                            partial.first().map_or(0, |&p| usize::from(p))
                        } else {
                            0
                        };
                        let start = usize::from(hdr.has(flag::PADDED))
                            + if hdr.has(flag::PRIORITY) { 5 } else { 0 };
                        let end = hdr.len.saturating_sub(pad).min(partial.len()).max(start);
                        partial.get(start..end)
                    }
                    kind::CONTINUATION => Some(partial.as_slice()),
                    _ => None,
                }
                .map(|f| (BlockKind::Headers { end_stream: false }, f));
                if let Some((kind, fragment)) = fragment {
                    let r = self.reader(dir);
                    match (hdr.kind, r.block.as_mut()) {
                        (kind::CONTINUATION, Some(block)) if !block.dropped => {
                            block.fragments.extend_from_slice(fragment);
                        }
                        (kind::HEADERS, _) => {
                            r.block = Some(PendingBlock {
                                stream: hdr.stream,
                                kind,
                                first_frame: r.frame_first,
                                fragments: fragment.to_vec(),
                                continuations: 0,
                                dropped: false,
                            });
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if self.reader(dir).block.is_some() {
            self.anomaly(
                dir,
                frame,
                "direction ended inside a field block: decoded as far as it goes".into(),
                out,
            );
            self.finish_block(dir, true, frame, out);
        }
        let ids: Vec<u32> = self.streams.keys().copied().collect();
        for id in ids {
            self.complete_half(dir, id, true, frame, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_settings() {
        // HTTP2-Settings as curl sends it: MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 33554432,
        // ENABLE_PUSH 0.
        let raw = base64url(b"AAMAAABkAAQCAAAAAAIAAAAA").unwrap();
        assert_eq!(
            raw,
            [0, 3, 0, 0, 0, 100, 0, 4, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0]
        );
        assert_eq!(base64url(b"AAE").unwrap(), [0, 1]);
        assert!(base64url(b"A A").is_none());
    }

    #[test]
    fn closed_streams_are_bounded() {
        let mut c = ClosedStreams::default();
        for id in 0..(MAX_CLOSED_STREAMS as u32 + 10) {
            c.insert(id * 2 + 1);
        }
        assert!(!c.contains(1));
        assert!(c.contains((MAX_CLOSED_STREAMS as u32 + 9) * 2 + 1));
        assert_eq!(c.set.len(), MAX_CLOSED_STREAMS);
        c.remove(41);
        assert!(!c.contains(41));
    }
}
