//! Whole TCP connections as a capture would show them (RFC 9293), with knobs for the edge cases a
//! reassembler must survive.
//!
//! [`TcpConversation`] keeps the list of segments in capture order. Sending data cuts it into
//! MSS-sized segments with the right sequence and acknowledgment numbers; the receiver acknowledges
//! each send. The list can then be edited: segments swapped (out of order), duplicated
//! (retransmission), overlapped with different bytes, or dropped (a gap). Timestamps belong to the
//! positions in the list, so they stay increasing whatever the edits. [`TcpConversation::frames`]
//! finally builds every frame with real headers and checksums.

use crate::packet::{self, tcp_flags, BuildError, Frame, Link, TcpFields};
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;

/// Largest MSS accepted (an IPv4 packet's 16-bit length minus the IP and TCP headers).
pub const MAX_MSS: usize = 65_535 - 20 - 20;
/// MSS used when none is set (Ethernet's 1500-byte MTU minus 40 bytes of headers).
pub const DEFAULT_MSS: usize = 1460;
/// Time between two consecutive segments unless changed, in nanoseconds (0.4 ms).
pub const DEFAULT_STEP_NANOS: i128 = 400_000;
/// Receive window advertised in every segment.
pub const WINDOW: u16 = 64_240;

/// One TCP segment of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// When it was captured (nanoseconds since the Unix epoch).
    pub ts_nanos: i128,
    /// True when the client sent it.
    pub from_client: bool,
    /// Sequence number, flags, acknowledgment and window.
    pub fields: TcpFields,
    /// TCP options (a multiple of 4 bytes).
    pub options: Vec<u8>,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// An edit referred to a segment that does not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoSuchSegment(pub usize);

impl fmt::Display for NoSuchSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no segment at index {}", self.0)
    }
}

impl std::error::Error for NoSuchSegment {}

/// A TCP connection between `client` and `server`, built segment by segment.
///
/// ```
/// use phonehome_synth::tcp::TcpConversation;
/// let mut c = TcpConversation::new("10.0.0.2:40000".parse().unwrap(), "192.0.2.1:80".parse().unwrap());
/// c.handshake();
/// c.client_send(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
/// c.server_send(b"HTTP/1.1 204 No Content\r\n\r\n");
/// c.close();
/// let frames = c.frames().unwrap();
/// assert_eq!(frames.len(), 3 + 2 + 2 + 3);
/// ```
#[derive(Clone, Debug)]
pub struct TcpConversation {
    client: SocketAddr,
    server: SocketAddr,
    link: Link,
    mss: usize,
    snaplen: Option<usize>,
    clock: i128,
    step: i128,
    client_isn: u32,
    server_isn: u32,
    client_next: u32,
    server_next: u32,
    ack_sends: bool,
    segments: Vec<Segment>,
}

impl TcpConversation {
    /// A connection with default settings: Ethernet, MSS 1460, ISNs derived from the ports, start at
    /// [`crate::scenario::SAMPLE_START_NANOS`], 0.4 ms between segments, receiver ACKs on.
    pub fn new(client: SocketAddr, server: SocketAddr) -> Self {
        let seed = (u64::from(client.port()) << 16) ^ u64::from(server.port());
        let mut rng = crate::prng::SplitMix64::new(seed);
        let (client_isn, server_isn) = (rng.next_u32(), rng.next_u32());
        Self {
            client,
            server,
            link: Link::default(),
            mss: DEFAULT_MSS,
            snaplen: None,
            clock: crate::scenario::SAMPLE_START_NANOS,
            step: DEFAULT_STEP_NANOS,
            client_isn,
            server_isn,
            client_next: client_isn.wrapping_add(1),
            server_next: server_isn.wrapping_add(1),
            ack_sends: true,
            segments: Vec::new(),
        }
    }

    /// Sets the link layer.
    pub fn with_link(mut self, link: Link) -> Self {
        self.link = link;
        self
    }

    /// Sets both initial sequence numbers (call before adding segments); values near 2^32 make
    /// the sequence numbers wrap around.
    pub fn with_isns(mut self, client_isn: u32, server_isn: u32) -> Self {
        self.client_isn = client_isn;
        self.server_isn = server_isn;
        self.client_next = client_isn.wrapping_add(1);
        self.server_next = server_isn.wrapping_add(1);
        self
    }

    /// Sets the maximum segment size (clamped to 1..=[`MAX_MSS`]).
    pub fn with_mss(mut self, mss: usize) -> Self {
        self.mss = mss.clamp(1, MAX_MSS);
        self
    }

    /// Sets the time of the next segment.
    pub fn with_start(mut self, ts_nanos: i128) -> Self {
        self.clock = ts_nanos;
        self
    }

    /// Sets the time between consecutive segments.
    pub fn with_step(mut self, step_nanos: i128) -> Self {
        self.step = step_nanos.max(0);
        self
    }

    /// Whether the receiver sends a pure ACK after each send (default true).
    pub fn with_acks(mut self, on: bool) -> Self {
        self.ack_sends = on;
        self
    }

    /// Cuts every frame to `snaplen` bytes when building them (the original length is kept).
    pub fn with_snaplen(mut self, snaplen: usize) -> Self {
        self.snaplen = Some(snaplen);
        self
    }

    /// The client's address.
    pub fn client(&self) -> SocketAddr {
        self.client
    }

    /// The server's address.
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// The link layer.
    pub fn link(&self) -> Link {
        self.link
    }

    /// The client's and the server's initial sequence numbers.
    pub fn isns(&self) -> (u32, u32) {
        (self.client_isn, self.server_isn)
    }

    /// The time the next segment will get.
    pub fn clock(&self) -> i128 {
        self.clock
    }

    /// Lets `nanos` pass before the next segment.
    pub fn pause(&mut self, nanos: i128) -> &mut Self {
        self.clock = self.clock.saturating_add(nanos.max(0));
        self
    }

    /// The segments, in capture order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Indices of the segments that carry payload from one side.
    pub fn data_segments(&self, from_client: bool) -> Vec<usize> {
        self.segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.from_client == from_client && !s.payload.is_empty())
            .map(|(i, _)| i)
            .collect()
    }

    /// The three-way handshake (SYN with MSS, SACK-permitted and window-scale options; SYN-ACK;
    /// ACK). Without it the capture starts mid-stream.
    pub fn handshake(&mut self) -> &mut Self {
        let mss = u16::try_from(self.mss).unwrap_or(u16::MAX).to_be_bytes();
        let options = vec![2, 4, mss[0], mss[1], 1, 1, 4, 2, 1, 3, 3, 7];
        let syn = TcpFields {
            seq: self.client_isn,
            ack: 0,
            flags: tcp_flags::SYN,
            window: u16::MAX,
        };
        self.push(true, syn, options.clone(), Vec::new());
        let syn_ack = TcpFields {
            seq: self.server_isn,
            ack: self.client_isn.wrapping_add(1),
            flags: tcp_flags::SYN | tcp_flags::ACK,
            window: u16::MAX,
        };
        self.push(false, syn_ack, options, Vec::new());
        self.pure_ack(true);
        self
    }

    /// The client sends `data`: MSS-sized segments (PSH on the last), then the server's ACK.
    /// Returns the indices of the data segments.
    pub fn client_send(&mut self, data: &[u8]) -> Range<usize> {
        self.send(true, data)
    }

    /// The server sends `data`: MSS-sized segments (PSH on the last), then the client's ACK.
    /// Returns the indices of the data segments.
    pub fn server_send(&mut self, data: &[u8]) -> Range<usize> {
        self.send(false, data)
    }

    /// The client sends a FIN (consuming one sequence number), acknowledged by the server.
    pub fn client_fin(&mut self) -> usize {
        self.fin(true)
    }

    /// The server sends a FIN, acknowledged by the client.
    pub fn server_fin(&mut self) -> usize {
        self.fin(false)
    }

    /// An orderly close started by the client: FIN, FIN (each acknowledged).
    pub fn close(&mut self) -> &mut Self {
        let acks = self.ack_sends;
        // FIN/ACK, FIN/ACK, ACK: the server's FIN acknowledges the client's.
        self.ack_sends = false;
        self.fin(true);
        self.fin(false);
        self.pure_ack(true);
        self.ack_sends = acks;
        self
    }

    /// The client aborts with RST/ACK.
    pub fn client_rst(&mut self) -> usize {
        self.rst(true)
    }

    /// The server aborts with RST/ACK.
    pub fn server_rst(&mut self) -> usize {
        self.rst(false)
    }

    /// Swaps the segments at `i` and `j`; each position keeps its timestamp, so the later segment
    /// is captured first.
    pub fn swap(&mut self, i: usize, j: usize) -> Result<(), NoSuchSegment> {
        let n = self.segments.len();
        for k in [i, j] {
            if k >= n {
                return Err(NoSuchSegment(k));
            }
        }
        self.segments.swap(i, j);
        let (ti, tj) = (self.segments[i].ts_nanos, self.segments[j].ts_nanos);
        self.segments[i].ts_nanos = tj;
        self.segments[j].ts_nanos = ti;
        Ok(())
    }

    /// Inserts a copy of segment `i` (a retransmission) at position `at` (> `i`), timed between its
    /// neighbours. Returns the copy's index.
    pub fn retransmit(&mut self, i: usize, at: usize) -> Result<usize, NoSuchSegment> {
        let copy = self.segments.get(i).cloned().ok_or(NoSuchSegment(i))?;
        if at <= i || at > self.segments.len() {
            return Err(NoSuchSegment(at));
        }
        Ok(self.insert_timed(at, copy))
    }

    /// Inserts right after segment `i` a segment from the same side whose sequence number is
    /// `offset` bytes into `i`'s and whose payload is `bytes` (different from what was first sent:
    /// an inconsistent overlap). Returns its index.
    pub fn overlap(&mut self, i: usize, offset: u32, bytes: &[u8]) -> Result<usize, NoSuchSegment> {
        let base = self.segments.get(i).ok_or(NoSuchSegment(i))?;
        let seg = Segment {
            ts_nanos: 0,
            from_client: base.from_client,
            fields: TcpFields {
                seq: base.fields.seq.wrapping_add(offset),
                flags: tcp_flags::ACK | tcp_flags::PSH,
                ..base.fields
            },
            options: Vec::new(),
            payload: bytes.to_vec(),
        };
        Ok(self.insert_timed(i + 1, seg))
    }

    /// Removes segment `i` (lost before the capture point: a gap).
    pub fn drop_segment(&mut self, i: usize) -> Result<Segment, NoSuchSegment> {
        if i >= self.segments.len() {
            return Err(NoSuchSegment(i));
        }
        Ok(self.segments.remove(i))
    }

    /// Builds every frame: TCP/IP with checksums on the chosen link, cut to the snap length.
    /// IPv4 identifications count up per side from values derived from the ports.
    pub fn frames(&self) -> Result<Vec<Frame>, BuildError> {
        let mut ids = [
            self.client.port().rotate_left(7),
            self.server.port().rotate_left(3),
        ];
        let mut out = Vec::with_capacity(self.segments.len());
        for s in &self.segments {
            let (src, dst, id) = if s.from_client {
                (self.client, self.server, &mut ids[0])
            } else {
                (self.server, self.client, &mut ids[1])
            };
            let ip = packet::tcp_packet(src, dst, s.fields, &s.options, &s.payload, *id)?;
            *id = id.wrapping_add(1);
            let mut frame = Frame::whole(s.ts_nanos, self.link.frame(&ip, s.from_client));
            if let Some(snap) = self.snaplen {
                frame.truncate(snap);
            }
            out.push(frame);
        }
        Ok(out)
    }

    fn send(&mut self, from_client: bool, data: &[u8]) -> Range<usize> {
        let start = self.segments.len();
        let chunks: Vec<&[u8]> = data.chunks(self.mss).collect();
        let last = chunks.len().saturating_sub(1);
        for (k, chunk) in chunks.into_iter().enumerate() {
            let (seq, ack) = self.numbers(from_client);
            let flags = if k == last {
                tcp_flags::ACK | tcp_flags::PSH
            } else {
                tcp_flags::ACK
            };
            self.push(
                from_client,
                TcpFields {
                    seq,
                    ack,
                    flags,
                    window: WINDOW,
                },
                Vec::new(),
                chunk.to_vec(),
            );
            self.advance(from_client, chunk.len());
        }
        let end = self.segments.len();
        if self.ack_sends && end > start {
            self.pure_ack(!from_client);
        }
        start..end
    }

    fn fin(&mut self, from_client: bool) -> usize {
        let (seq, ack) = self.numbers(from_client);
        let idx = self.segments.len();
        let flags = tcp_flags::FIN | tcp_flags::ACK;
        self.push(
            from_client,
            TcpFields {
                seq,
                ack,
                flags,
                window: WINDOW,
            },
            Vec::new(),
            Vec::new(),
        );
        self.advance(from_client, 1);
        if self.ack_sends {
            self.pure_ack(!from_client);
        }
        idx
    }

    fn rst(&mut self, from_client: bool) -> usize {
        let (seq, ack) = self.numbers(from_client);
        let idx = self.segments.len();
        let flags = tcp_flags::RST | tcp_flags::ACK;
        self.push(
            from_client,
            TcpFields {
                seq,
                ack,
                flags,
                window: 0,
            },
            Vec::new(),
            Vec::new(),
        );
        idx
    }

    fn pure_ack(&mut self, from_client: bool) {
        let (seq, ack) = self.numbers(from_client);
        self.push(
            from_client,
            TcpFields {
                seq,
                ack,
                flags: tcp_flags::ACK,
                window: WINDOW,
            },
            Vec::new(),
            Vec::new(),
        );
    }

    /// (own next sequence number, peer's next sequence number) for one side.
    fn numbers(&self, from_client: bool) -> (u32, u32) {
        if from_client {
            (self.client_next, self.server_next)
        } else {
            (self.server_next, self.client_next)
        }
    }

    fn advance(&mut self, from_client: bool, len: usize) {
        // Sequence space is modulo 2^32 (RFC 9293 section 3.4).
        let len = len as u32;
        if from_client {
            self.client_next = self.client_next.wrapping_add(len);
        } else {
            self.server_next = self.server_next.wrapping_add(len);
        }
    }

    fn push(&mut self, from_client: bool, fields: TcpFields, options: Vec<u8>, payload: Vec<u8>) {
        self.segments.push(Segment {
            ts_nanos: self.clock,
            from_client,
            fields,
            options,
            payload,
        });
        self.clock = self.clock.saturating_add(self.step);
    }

    /// Inserts `seg` at `at` with a timestamp between its neighbours'.
    fn insert_timed(&mut self, at: usize, mut seg: Segment) -> usize {
        let prev = at
            .checked_sub(1)
            .and_then(|p| self.segments.get(p))
            .map(|s| s.ts_nanos);
        let next = self.segments.get(at).map(|s| s.ts_nanos);
        seg.ts_nanos = match (prev, next) {
            (Some(p), Some(n)) => p + (n - p) / 2,
            (Some(p), None) => {
                self.clock = self
                    .clock
                    .max(p.saturating_add(self.step).saturating_add(self.step));
                p.saturating_add(self.step)
            }
            (None, Some(n)) => n,
            (None, None) => self.clock,
        };
        self.segments.insert(at, seg);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv() -> TcpConversation {
        TcpConversation::new(
            "10.0.0.2:40000".parse().unwrap(),
            "192.0.2.1:80".parse().unwrap(),
        )
    }

    #[test]
    fn sequence_numbers_follow_the_bytes_and_wrap() {
        let mut c = conv().with_isns(u32::MAX - 10, 5).with_mss(8);
        c.handshake();
        let r = c.client_send(&[b'a'; 20]);
        assert_eq!(r, 3..6);
        let segs = c.segments();
        assert_eq!(segs[3].fields.seq, u32::MAX - 9);
        assert_eq!(segs[4].fields.seq, u32::MAX - 1);
        assert_eq!(segs[5].fields.seq, 6, "wrapped past 2^32");
        assert_eq!(segs[5].payload.len(), 4);
        assert_eq!(segs[5].fields.flags, tcp_flags::ACK | tcp_flags::PSH);
        // The server's ACK covers all 20 bytes.
        assert_eq!(segs[6].fields.ack, (u32::MAX - 9).wrapping_add(20));
        assert!(!segs[6].from_client);
    }

    #[test]
    fn edits_keep_timestamps_increasing() {
        let mut c = conv().with_mss(4);
        c.handshake();
        let r = c.client_send(b"0123456789ab");
        c.swap(r.start, r.start + 1).unwrap();
        let copy = c.retransmit(r.start, r.end).unwrap();
        assert_eq!(c.segments()[copy].payload, c.segments()[r.start].payload);
        assert_eq!(c.segments()[r.start].payload, b"4567", "swapped");
        let o = c.overlap(r.start, 2, b"XY").unwrap();
        assert_eq!(
            c.segments()[o].fields.seq,
            c.segments()[r.start].fields.seq.wrapping_add(2)
        );
        for w in c.segments().windows(2) {
            assert!(w[0].ts_nanos <= w[1].ts_nanos);
        }
        assert_eq!(c.swap(0, 99), Err(NoSuchSegment(99)));
        assert_eq!(c.retransmit(99, 100), Err(NoSuchSegment(99)));
        assert_eq!(c.retransmit(3, 2), Err(NoSuchSegment(2)));
        assert_eq!(c.overlap(99, 0, b"x"), Err(NoSuchSegment(99)));
        assert!(c.drop_segment(99).is_err());
        let before = c.segments().len();
        c.drop_segment(3).unwrap();
        assert_eq!(c.segments().len(), before - 1);
    }

    #[test]
    fn snaplen_cuts_frames_but_keeps_the_original_length() {
        let mut c = conv().with_snaplen(60);
        c.client_send(&[0u8; 500]);
        let f = c.frames().unwrap();
        assert_eq!(f[0].data.len(), 60);
        assert_eq!(f[0].orig_len, 14 + 20 + 20 + 500);
    }
}
