//! Per-direction TCP reassembly: segments in any order in, one in-order byte stream out.
//!
//! No crate on crates.io does this the way phonehome needs (bounded, zero-copy in order, first
//! copy wins with conflict reports, gaps reported instead of stalling), so this is our own, after
//! smoltcp's `storage::Assembler` (an explicit, bounded list of held segments) and pcap-analyzer's
//! `tcp_reassembly.rs` (64-bit stream offsets behind wrapping 32-bit sequence numbers).
//!
//! Sequence numbers (RFC 9293 §3.4) wrap at 2^32; the reassembler maps each one to a 64-bit
//! *stream offset* relative to the next byte it expects, so a stream may cross zero (or run past
//! 4 GiB) without special cases.

use phonehome_model::WarningCode;
use phonehome_wire::SeqNumber;
use std::collections::VecDeque;

/// Most out-of-order segments one direction holds (separate held ranges, after coalescing); one
/// more forces the oldest hole to be declared a gap.
pub const MAX_SEGMENTS: usize = 2048;

/// Largest distance ahead of the next expected byte a segment may start at: the largest TCP
/// window (2^30 bytes with window scaling, RFC 7323 §2.3). Segments further ahead are bogus.
pub const MAX_SEQUENCE_JUMP: u64 = 1 << 30;

/// Where a [`TcpReassembler`] sends what it produces, in stream order.
pub trait ReassemblyOutput {
    /// The next in-order bytes.
    fn data(&mut self, data: &[u8]);
    /// The next `missing` bytes are lost; the stream resumes after them.
    fn gap(&mut self, missing: u64);
    /// The stream has ended (FIN reached in order, or the reassembler was closed).
    fn end(&mut self);
    /// Something odd: conflicting overlap, buffer limit, data after FIN.
    fn warning(&mut self, code: WarningCode, reason: String);
}

/// Out-of-order bytes held across every reassembler of a flow table, against
/// `Limits::max_total_buffer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferBudget {
    used: usize,
    limit: usize,
}

impl BufferBudget {
    /// A budget of `limit` bytes, none used.
    pub fn new(limit: usize) -> Self {
        Self { used: 0, limit }
    }

    /// Bytes currently held.
    pub fn used(&self) -> usize {
        self.used
    }

    fn take(&mut self, n: usize) {
        self.used = self.used.saturating_add(n);
    }

    fn give_back(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}

/// One TCP segment's contribution to a direction's stream.
#[derive(Clone, Copy, Debug)]
pub struct ReceivedSegment<'a> {
    /// Sequence number of the first byte of `data` (for a SYN: the SYN's sequence number + 1).
    pub seq: SeqNumber,
    /// The payload bytes captured.
    pub data: &'a [u8],
    /// Payload bytes that follow `data` on the wire but were not captured (snap length).
    pub missing: u64,
    /// The segment carries FIN (which sits right after `data` and `missing`).
    pub fin: bool,
    /// 1-based frame number of the packet, for warnings.
    pub frame: u64,
}

/// What a held segment holds.
#[derive(Debug)]
enum Chunk {
    /// Bytes, copied out of their packet.
    Bytes(Vec<u8>),
    /// A range known to be lost (cut by the snap length), reported as a gap when reached.
    Missing(u64),
}

/// A held, out-of-order range of the stream.
#[derive(Debug)]
struct Segment {
    /// Stream offset of the first byte.
    start: u64,
    chunk: Chunk,
    /// Frame the range (or its first part) came from.
    frame: u64,
}

impl Segment {
    fn len(&self) -> u64 {
        match &self.chunk {
            Chunk::Bytes(b) => b.len() as u64,
            Chunk::Missing(n) => *n,
        }
    }

    fn end(&self) -> u64 {
        self.start.saturating_add(self.len())
    }
}

/// A range of an incoming segment, before it is delivered or held.
#[derive(Clone, Copy, Debug)]
enum Piece<'a> {
    Bytes(&'a [u8]),
    Missing(u64),
}

impl Piece<'_> {
    fn len(&self) -> u64 {
        match self {
            Piece::Bytes(b) => b.len() as u64,
            Piece::Missing(n) => *n,
        }
    }

    /// The part from `from` to `to` (offsets into the piece, `from <= to <= len`).
    fn sub(&self, from: u64, to: u64) -> Self {
        match self {
            Piece::Bytes(b) => {
                let from = usize::try_from(from).unwrap_or(usize::MAX);
                let to = usize::try_from(to).unwrap_or(usize::MAX);
                Piece::Bytes(b.get(from..to).unwrap_or_default())
            }
            Piece::Missing(_) => Piece::Missing(to.saturating_sub(from)),
        }
    }
}

/// Reassembles one direction of a TCP connection.
///
/// Bytes that arrive in order go straight from the packet to [`ReassemblyOutput::data`] without
/// being copied. Out-of-order bytes are copied into a sorted list of at most [`MAX_SEGMENTS`]
/// disjoint held ranges, capped at `max_buffer` bytes for this direction and by a shared
/// [`BufferBudget`]; when a cap is hit the oldest hole is declared a gap and the held bytes after
/// it are delivered. Overlaps keep the first copy; if a later copy differs in bytes still held, an
/// [`WarningCode::Overlap`] warning is raised. Bytes already delivered are not kept, so a
/// retransmission of them is dropped without comparison (this is what keeps the in-order path
/// copy-free).
#[derive(Debug)]
pub struct TcpReassembler {
    /// Sequence number of stream offset 0; `None` until the first segment or SYN.
    origin: Option<SeqNumber>,
    /// Stream offset of the next byte to deliver (bytes delivered or skipped so far).
    next: u64,
    /// Held out-of-order ranges, sorted by `start`, disjoint, all starting after `next`.
    segments: VecDeque<Segment>,
    /// Bytes held in `segments`.
    buffered: usize,
    /// Cap on `buffered`.
    max_buffer: usize,
    /// Stream offset of the FIN, once seen.
    fin: Option<u64>,
    /// `end` has been emitted.
    ended: bool,
    /// A limit warning was given (one per direction; later skips show only as gaps).
    limit_warned: bool,
}

impl TcpReassembler {
    /// A reassembler holding at most `max_buffer` out-of-order bytes.
    pub fn new(max_buffer: usize) -> Self {
        Self {
            origin: None,
            next: 0,
            segments: VecDeque::new(),
            buffered: 0,
            max_buffer,
            fin: None,
            ended: false,
            limit_warned: false,
        }
    }

    /// Sets the sequence number of the stream's first byte (the SYN's + 1) unless already known.
    pub fn start(&mut self, first: SeqNumber) {
        if self.origin.is_none() {
            self.origin = Some(first);
        }
    }

    /// Whether the stream's first sequence number is known.
    pub fn is_started(&self) -> bool {
        self.origin.is_some()
    }

    /// The sequence number of the next byte expected, once started.
    pub fn next_seq(&self) -> Option<SeqNumber> {
        // Stream offsets are sequence numbers modulo 2^32: the truncation is the point.
        self.origin.map(|o| o + self.next as u32)
    }

    /// Bytes delivered or declared lost so far.
    pub fn stream_offset(&self) -> u64 {
        self.next
    }

    /// Out-of-order bytes held.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Held out-of-order ranges.
    pub fn held_segments(&self) -> usize {
        self.segments.len()
    }

    /// Whether the stream has ended (`end` emitted).
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Takes one segment. A reassembler not yet started starts at this segment's sequence number
    /// (a capture that begins mid-connection).
    pub fn segment(
        &mut self,
        seg: ReceivedSegment<'_>,
        budget: &mut BufferBudget,
        out: &mut dyn ReassemblyOutput,
    ) {
        self.origin.get_or_insert(seg.seq);
        let next = i128::from(self.next);
        let expected = self.next_seq().unwrap_or(seg.seq);
        let start = next + i128::from(seg.seq.distance_from(expected));
        let bytes_end = start + seg.data.len() as i128;
        let mut end = bytes_end + i128::from(seg.missing);

        if start - next > MAX_SEQUENCE_JUMP as i128 {
            out.warning(
                WarningCode::Malformed,
                format!(
                    "TCP segment at seq {} is {} bytes beyond the next expected byte (seq {expected}); \
                     ignored",
                    seg.seq,
                    start - next
                ),
            );
            return;
        }
        if let Some(fin_at) = self.fin {
            let fin_at = i128::from(fin_at);
            if end > fin_at && end > next {
                out.warning(
                    WarningCode::Malformed,
                    format!(
                        "{} TCP bytes after the FIN ignored",
                        end - fin_at.max(start)
                    ),
                );
                end = fin_at;
            }
        }
        if seg.fin {
            self.take_fin(end, budget, out);
        }
        if end > next {
            let data_end = bytes_end.min(end);
            let from = start.max(next);
            if from < data_end {
                let piece = Piece::Bytes(
                    seg.data
                        .get(to_usize(from - start)..to_usize(data_end - start))
                        .unwrap_or_default(),
                );
                self.insert(to_u64(from), piece, seg.frame, budget, out);
            }
            let from = bytes_end.max(i128::from(self.next));
            if from < end {
                self.insert(
                    to_u64(from),
                    Piece::Missing(to_u64(end - from)),
                    seg.frame,
                    budget,
                    out,
                );
            }
        }
        self.check_end(out);
    }

    /// Flushes everything: each remaining hole becomes a gap and the held bytes after it are
    /// delivered, a hole before a known FIN becomes a gap, then the stream ends (once).
    pub fn close(&mut self, budget: &mut BufferBudget, out: &mut dyn ReassemblyOutput) {
        while !self.segments.is_empty() {
            self.skip_hole(budget, out);
        }
        if let Some(fin_at) = self.fin {
            if fin_at > self.next {
                out.gap(fin_at - self.next);
                self.next = fin_at;
            }
        }
        if !self.ended {
            self.ended = true;
            out.end();
        }
    }

    /// Records the FIN at stream offset `at` (first FIN wins) and drops held data beyond it.
    fn take_fin(&mut self, at: i128, budget: &mut BufferBudget, out: &mut dyn ReassemblyOutput) {
        if at < i128::from(self.next) {
            // A FIN before bytes already delivered: a stale or bogus segment.
            return;
        }
        let at = to_u64(at);
        match self.fin {
            Some(existing) if existing == at => {}
            Some(existing) => out.warning(
                WarningCode::Malformed,
                format!("second TCP FIN at stream offset {at} ignored (first at {existing})"),
            ),
            None => {
                self.fin = Some(at);
                let mut dropped = 0u64;
                while let Some(last) = self.segments.back_mut() {
                    if last.end() <= at {
                        break;
                    }
                    if last.start >= at {
                        dropped = dropped.saturating_add(last.len());
                        if let Some(seg) = self.segments.pop_back() {
                            self.release(&seg, budget);
                        }
                        continue;
                    }
                    let keep = at - last.start;
                    dropped = dropped.saturating_add(last.len() - keep);
                    let freed = match &mut last.chunk {
                        Chunk::Bytes(b) => {
                            let before = b.len();
                            b.truncate(to_usize_u(keep));
                            before - b.len()
                        }
                        Chunk::Missing(n) => {
                            *n = keep;
                            0
                        }
                    };
                    self.buffered = self.buffered.saturating_sub(freed);
                    budget.give_back(freed);
                }
                if dropped > 0 {
                    out.warning(
                        WarningCode::Malformed,
                        format!("{dropped} held TCP bytes after the FIN dropped"),
                    );
                }
            }
        }
    }

    /// Delivers or holds `piece`, which starts at stream offset `start >= self.next`.
    fn insert(
        &mut self,
        start: u64,
        piece: Piece<'_>,
        frame: u64,
        budget: &mut BufferBudget,
        out: &mut dyn ReassemblyOutput,
    ) {
        // Fast path: in order and nothing held.
        if self.segments.is_empty() && start == self.next {
            self.emit(piece, out);
            return;
        }
        let end = start.saturating_add(piece.len());
        // Split off the parts not already held; compare the parts that are.
        let mut fresh: Vec<(u64, u64)> = Vec::new();
        let mut cursor = start;
        let mut conflict: Option<(u64, u64, u64)> = None;
        let first = self.segments.partition_point(|s| s.end() <= start);
        for held in self.segments.range(first..) {
            if held.start >= end {
                break;
            }
            if held.start > cursor {
                fresh.push((cursor, held.start));
            }
            let (ov_start, ov_end) = (held.start.max(start), held.end().min(end));
            if let (None, Chunk::Bytes(old), Piece::Bytes(new)) = (conflict, &held.chunk, piece) {
                let old =
                    old.get(to_usize_u(ov_start - held.start)..to_usize_u(ov_end - held.start));
                let new = new.get(to_usize_u(ov_start - start)..to_usize_u(ov_end - start));
                if old != new {
                    conflict = Some((ov_start, ov_end, held.frame));
                }
            }
            cursor = cursor.max(held.end());
        }
        if cursor < end {
            fresh.push((cursor, end));
        }
        if let Some((ov_start, ov_end, held_frame)) = conflict {
            out.warning(
                WarningCode::Overlap,
                format!(
                    "TCP bytes at stream offsets {ov_start}..{ov_end} differ from the copy held \
                     from frame {held_frame}; the first copy was kept"
                ),
            );
        }
        for (from, to) in fresh {
            // Limits enforced while holding an earlier piece may have moved `next` past this one.
            let from = from.max(self.next);
            if from >= to {
                continue;
            }
            let part = piece.sub(from - start, to - start);
            if from == self.next {
                self.emit(part, out);
                self.drain(budget, out);
            } else {
                self.hold(from, part, frame, budget, out);
            }
        }
    }

    /// Delivers an in-order piece.
    fn emit(&mut self, piece: Piece<'_>, out: &mut dyn ReassemblyOutput) {
        match piece {
            Piece::Bytes(b) if !b.is_empty() => out.data(b),
            Piece::Bytes(_) => {}
            Piece::Missing(0) => {}
            Piece::Missing(n) => out.gap(n),
        }
        self.next = self.next.saturating_add(piece.len());
    }

    /// Copies an out-of-order piece into the held list, then enforces the caps.
    fn hold(
        &mut self,
        start: u64,
        piece: Piece<'_>,
        frame: u64,
        budget: &mut BufferBudget,
        out: &mut dyn ReassemblyOutput,
    ) {
        let index = self.segments.partition_point(|s| s.start < start);
        match piece {
            Piece::Bytes(bytes) => {
                // The common case after one lost segment: the following ones extend one range.
                let extends = index
                    .checked_sub(1)
                    .and_then(|i| self.segments.get_mut(i))
                    .and_then(|held| match &mut held.chunk {
                        Chunk::Bytes(b) if held.start.saturating_add(b.len() as u64) == start => {
                            Some(b)
                        }
                        _ => None,
                    });
                match extends {
                    Some(held) => held.extend_from_slice(bytes),
                    None => self.segments.insert(
                        index,
                        Segment {
                            start,
                            chunk: Chunk::Bytes(bytes.to_vec()),
                            frame,
                        },
                    ),
                }
                self.buffered = self.buffered.saturating_add(bytes.len());
                budget.take(bytes.len());
            }
            Piece::Missing(n) => {
                self.segments.insert(
                    index,
                    Segment {
                        start,
                        chunk: Chunk::Missing(n),
                        frame,
                    },
                );
            }
        }
        self.enforce_limits(budget, out);
    }

    /// While over a cap, declares the oldest hole a gap and delivers what follows it.
    fn enforce_limits(&mut self, budget: &mut BufferBudget, out: &mut dyn ReassemblyOutput) {
        while self.buffered > self.max_buffer
            || budget.used > budget.limit
            || self.segments.len() > MAX_SEGMENTS
        {
            if self.segments.is_empty() {
                break;
            }
            if !self.limit_warned {
                self.limit_warned = true;
                out.warning(
                    WarningCode::Limit,
                    format!(
                        "TCP reassembly buffer full ({} bytes in {} held ranges; limits: {} bytes \
                         per direction, {} in total, {MAX_SEGMENTS} ranges): the hole at stream \
                         offset {} is declared lost (later skips in this direction show only as gaps)",
                        self.buffered,
                        self.segments.len(),
                        self.max_buffer,
                        budget.limit,
                        self.next
                    ),
                );
            }
            self.skip_hole(budget, out);
        }
    }

    /// Reports the hole before the first held range as a gap, then delivers the held ranges that
    /// follow without a hole.
    fn skip_hole(&mut self, budget: &mut BufferBudget, out: &mut dyn ReassemblyOutput) {
        if let Some(first) = self.segments.front() {
            if first.start > self.next {
                out.gap(first.start - self.next);
                self.next = first.start;
            }
        }
        self.drain(budget, out);
    }

    /// Delivers held ranges that start at (or before) `next`.
    fn drain(&mut self, budget: &mut BufferBudget, out: &mut dyn ReassemblyOutput) {
        while self.segments.front().is_some_and(|s| s.start <= self.next) {
            let Some(seg) = self.segments.pop_front() else {
                break;
            };
            self.release(&seg, budget);
            if seg.end() <= self.next {
                continue;
            }
            let skip = self.next - seg.start;
            match &seg.chunk {
                Chunk::Bytes(b) => {
                    let rest = b.get(to_usize_u(skip)..).unwrap_or_default();
                    self.emit(Piece::Bytes(rest), out);
                }
                Chunk::Missing(n) => self.emit(Piece::Missing(n.saturating_sub(skip)), out),
            }
        }
    }

    fn release(&mut self, seg: &Segment, budget: &mut BufferBudget) {
        if let Chunk::Bytes(b) = &seg.chunk {
            self.buffered = self.buffered.saturating_sub(b.len());
            budget.give_back(b.len());
        }
    }

    fn check_end(&mut self, out: &mut dyn ReassemblyOutput) {
        if !self.ended && self.fin == Some(self.next) {
            self.ended = true;
            out.end();
        }
    }
}

/// A non-negative stream offset (or length) computed in `i128`, as `u64`.
fn to_u64(v: i128) -> u64 {
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

/// A non-negative index computed in `i128`, as `usize`.
fn to_usize(v: i128) -> usize {
    usize::try_from(v.max(0)).unwrap_or(usize::MAX)
}

fn to_usize_u(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a reassembler produced, in order.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Out {
        Data(Vec<u8>),
        Gap(u64),
        End,
        Warning(WarningCode, String),
    }

    #[derive(Default)]
    struct Recorded(Vec<Out>);

    impl ReassemblyOutput for Recorded {
        fn data(&mut self, data: &[u8]) {
            // Merge consecutive data so that segmentation does not matter to comparisons.
            if let Some(Out::Data(last)) = self.0.last_mut() {
                last.extend_from_slice(data);
            } else {
                self.0.push(Out::Data(data.to_vec()));
            }
        }
        fn gap(&mut self, missing: u64) {
            self.0.push(Out::Gap(missing));
        }
        fn end(&mut self) {
            self.0.push(Out::End);
        }
        fn warning(&mut self, code: WarningCode, reason: String) {
            self.0.push(Out::Warning(code, reason));
        }
    }

    impl Recorded {
        fn warnings(&self, code: WarningCode) -> usize {
            self.0
                .iter()
                .filter(|o| matches!(o, Out::Warning(c, _) if *c == code))
                .count()
        }
        fn without_warnings(&self) -> Vec<Out> {
            self.0
                .iter()
                .filter(|o| !matches!(o, Out::Warning(..)))
                .cloned()
                .collect()
        }
    }

    /// Feeds segments (relative offset, bytes, fin) of a stream starting at `isn + 1`.
    struct Harness {
        r: TcpReassembler,
        budget: BufferBudget,
        out: Recorded,
        isn: u32,
    }

    impl Harness {
        fn new(isn: u32, max_buffer: usize, total: usize) -> Self {
            let mut r = TcpReassembler::new(max_buffer);
            r.start(SeqNumber(isn) + 1);
            Self {
                r,
                budget: BufferBudget::new(total),
                out: Recorded::default(),
                isn,
            }
        }
        fn seg(&mut self, offset: u32, data: &[u8]) -> &mut Self {
            self.send(offset, data, 0, false)
        }
        fn send(&mut self, offset: u32, data: &[u8], missing: u64, fin: bool) -> &mut Self {
            let seg = ReceivedSegment {
                seq: SeqNumber(self.isn) + 1 + offset,
                data,
                missing,
                fin,
                frame: 7,
            };
            self.r.segment(seg, &mut self.budget, &mut self.out);
            self
        }
        fn close(&mut self) -> &mut Self {
            self.r.close(&mut self.budget, &mut self.out);
            self
        }
    }

    const TEXT: &[u8] = b"GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n";

    #[test]
    fn in_order_is_passed_through() {
        let mut h = Harness::new(1000, 1 << 20, 1 << 20);
        h.seg(0, &TEXT[..10])
            .seg(10, &TEXT[10..])
            .send(TEXT.len() as u32, b"", 0, true);
        assert_eq!(h.out.0, vec![Out::Data(TEXT.to_vec()), Out::End]);
        assert_eq!(
            (h.r.buffered(), h.budget.used(), h.r.held_segments()),
            (0, 0, 0)
        );
        assert_eq!(
            h.r.next_seq(),
            Some(SeqNumber(1000 + 1 + TEXT.len() as u32))
        );
    }

    #[test]
    fn out_of_order_is_held_then_delivered() {
        let mut h = Harness::new(0, 1 << 20, 1 << 20);
        h.seg(20, &TEXT[20..]).seg(10, &TEXT[10..20]);
        assert_eq!(h.out.0, vec![]);
        assert_eq!(
            (h.r.buffered(), h.budget.used(), h.r.held_segments()),
            (TEXT.len() - 10, TEXT.len() - 10, 2)
        );
        h.seg(0, &TEXT[..10]);
        assert_eq!(h.out.0, vec![Out::Data(TEXT.to_vec())]);
        assert_eq!((h.r.buffered(), h.budget.used()), (0, 0));
    }

    #[test]
    fn wraps_around_zero() {
        // ISN 2^32 - 10: the stream crosses sequence number 0 after 9 bytes.
        let mut h = Harness::new(u32::MAX - 9, 1 << 20, 1 << 20);
        h.seg(16, &TEXT[16..])
            .seg(0, &TEXT[..8])
            .seg(8, &TEXT[8..16]);
        assert_eq!(h.out.0, vec![Out::Data(TEXT.to_vec())]);
        assert!(h.r.next_seq().unwrap().0 < 100);
    }

    #[test]
    fn duplicates_and_keepalives_are_silent() {
        let mut h = Harness::new(5, 1 << 20, 1 << 20);
        h.seg(0, &TEXT[..10])
            .seg(0, &TEXT[..10])
            .seg(5, &TEXT[5..15]);
        // Keep-alive: one garbage byte at seq - 1 (RFC 9293 §3.8.4).
        h.seg(14, b"\0").seg(15, b"");
        assert_eq!(h.out.0, vec![Out::Data(TEXT[..15].to_vec())]);
    }

    #[test]
    fn overlap_conflict_keeps_first_copy_and_warns() {
        let mut h = Harness::new(0, 1 << 20, 1 << 20);
        h.seg(10, b"ABCDEFGHIJ"); // held
        h.seg(15, b"fghijKLMNO"); // 15..20 differs, 20..25 new
        assert_eq!(h.out.warnings(WarningCode::Overlap), 1);
        let Some(Out::Warning(_, reason)) = h.out.0.first() else {
            panic!("{:?}", h.out.0)
        };
        assert!(
            reason.contains("15..20") && reason.contains("frame 7"),
            "{reason}"
        );
        // Same bytes again: no further warning.
        h.seg(12, b"CDE");
        assert_eq!(h.out.warnings(WarningCode::Overlap), 1);
        h.seg(0, b"0123456789");
        assert_eq!(
            h.out.without_warnings(),
            vec![Out::Data(b"0123456789ABCDEFGHIJKLMNO".to_vec())]
        );
    }

    #[test]
    fn segment_spanning_held_ranges_fills_every_hole() {
        let mut h = Harness::new(0, 1 << 20, 1 << 20);
        h.seg(4, b"45").seg(8, b"89").seg(0, b"0123456789AB");
        assert_eq!(h.out.0, vec![Out::Data(b"0123456789AB".to_vec())]);
        assert_eq!(h.r.held_segments(), 0);
    }

    #[test]
    fn per_direction_cap_declares_a_gap() {
        let mut h = Harness::new(0, 16, 1 << 20);
        h.seg(10, &[b'a'; 10]); // held: 10 bytes
        assert!(h.out.0.is_empty());
        h.seg(20, &[b'b'; 10]); // 20 bytes > 16: skip the 10-byte hole
        assert_eq!(h.out.warnings(WarningCode::Limit), 1);
        let mut expected = vec![b'a'; 10];
        expected.extend_from_slice(&[b'b'; 10]);
        assert_eq!(
            h.out.without_warnings(),
            vec![Out::Gap(10), Out::Data(expected)]
        );
        assert_eq!((h.r.buffered(), h.budget.used()), (0, 0));
        // The lost range arriving late is old data now.
        h.seg(0, &[b'z'; 10]);
        assert_eq!(h.out.without_warnings().len(), 2);
    }

    #[test]
    fn shared_budget_cap_declares_a_gap() {
        let mut budget = BufferBudget::new(8);
        let mut other = TcpReassembler::new(1 << 20);
        let mut out = Recorded::default();
        other.start(SeqNumber(0));
        other.segment(
            ReceivedSegment {
                seq: SeqNumber(100),
                data: &[1; 6],
                missing: 0,
                fin: false,
                frame: 1,
            },
            &mut budget,
            &mut out,
        );
        assert_eq!(budget.used(), 6);
        let mut h = Harness::new(0, 1 << 20, 0);
        h.budget = budget;
        h.seg(5, b"later");
        // 11 bytes > 8 in total: this direction skips its own hole.
        assert_eq!(h.out.warnings(WarningCode::Limit), 1);
        assert_eq!(
            h.out.without_warnings(),
            vec![Out::Gap(5), Out::Data(b"later".to_vec())]
        );
        assert_eq!(h.budget.used(), 6);
    }

    #[test]
    fn segment_count_is_bounded() {
        let mut h = Harness::new(0, 1 << 30, 1 << 30);
        // Every other byte: no two held ranges touch.
        for i in 0..(MAX_SEGMENTS as u32 + 10) {
            h.seg(2 * i + 1, b"x");
            assert!(h.r.held_segments() <= MAX_SEGMENTS);
        }
        assert!(h.out.warnings(WarningCode::Limit) >= 1);
        h.close();
        assert_eq!(h.r.held_segments(), 0);
        assert_eq!(h.r.stream_offset(), 2 * (MAX_SEGMENTS as u64 + 10));
    }

    #[test]
    fn snap_length_cut_becomes_a_gap() {
        let mut h = Harness::new(0, 1 << 20, 1 << 20);
        h.send(0, b"HEAD", 96, false).seg(100, b"next");
        assert_eq!(
            h.out.0,
            vec![
                Out::Data(b"HEAD".to_vec()),
                Out::Gap(96),
                Out::Data(b"next".to_vec())
            ]
        );
        // Out of order: the cut segment arrives after the one following it.
        let mut h = Harness::new(0, 1 << 20, 1 << 20);
        h.seg(100, b"next").send(0, b"HEAD", 96, false);
        assert_eq!(
            h.out.0,
            vec![
                Out::Data(b"HEAD".to_vec()),
                Out::Gap(96),
                Out::Data(b"next".to_vec())
            ]
        );
    }

    #[test]
    fn fin_then_data_is_ignored_with_a_warning() {
        let mut h = Harness::new(0, 1 << 20, 1 << 20);
        h.send(0, b"bye", 0, true).seg(3, b"more");
        assert_eq!(h.out.warnings(WarningCode::Malformed), 1);
        assert_eq!(
            h.out.without_warnings(),
            vec![Out::Data(b"bye".to_vec()), Out::End]
        );
        // A retransmitted FIN is silent; closing after the end adds nothing.
        h.send(0, b"bye", 0, true).close();
        assert_eq!(h.out.0.len(), 3);
    }

    #[test]
    fn fin_waits_for_the_hole_and_close_reports_trailing_holes() {
        let mut h = Harness::new(0, 1 << 20, 1 << 20);
        h.send(10, b"end", 0, true);
        assert!(h.out.0.is_empty());
        h.seg(0, b"0123456789");
        assert_eq!(
            h.out.0,
            vec![Out::Data(b"0123456789end".to_vec()), Out::End]
        );

        let mut h = Harness::new(0, 1 << 20, 1 << 20);
        h.seg(0, b"ab").seg(5, b"fg").send(10, b"", 0, true).close();
        assert_eq!(
            h.out.0,
            vec![
                Out::Data(b"ab".to_vec()),
                Out::Gap(3),
                Out::Data(b"fg".to_vec()),
                Out::Gap(3),
                Out::End
            ]
        );
    }

    #[test]
    fn mid_stream_start_and_bogus_jump() {
        let mut r = TcpReassembler::new(1 << 20);
        let mut budget = BufferBudget::new(1 << 20);
        let mut out = Recorded::default();
        let seg = |seq: u32, data: &'static [u8]| ReceivedSegment {
            seq: SeqNumber(seq),
            data,
            missing: 0,
            fin: false,
            frame: 3,
        };
        r.segment(seg(777, b"mid"), &mut budget, &mut out);
        r.segment(seg(780, b"stream"), &mut budget, &mut out);
        r.segment(
            seg(780u32.wrapping_add(1 << 31) - 1, b"far"),
            &mut budget,
            &mut out,
        );
        assert_eq!(out.warnings(WarningCode::Malformed), 1);
        assert_eq!(
            out.without_warnings(),
            vec![Out::Data(b"midstream".to_vec())]
        );
        assert_eq!(r.buffered(), 0);
    }

    /// Splits `data` into segments at `cuts`, then adds `extra` overlapping retransmissions.
    fn segments(data: &[u8], cuts: &[usize], extra: &[(usize, usize)]) -> Vec<(u32, Vec<u8>)> {
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        bounds.push(0);
        bounds.push(data.len());
        bounds.sort_unstable();
        bounds.dedup();
        let mut segs: Vec<(u32, Vec<u8>)> = bounds
            .windows(2)
            .map(|w| (w[0] as u32, data[w[0]..w[1]].to_vec()))
            .collect();
        for &(a, l) in extra {
            let a = a % data.len();
            let b = (a + l).min(data.len());
            segs.push((a as u32, data[a..b].to_vec()));
        }
        segs
    }

    proptest! {
        /// Any order, any segmentation, any consistent retransmissions: the same stream, no
        /// warnings, nothing left held.
        #[test]
        fn any_order_gives_the_same_stream(
            data in proptest::collection::vec(any::<u8>(), 1..600),
            cuts in proptest::collection::vec(any::<usize>(), 0..20),
            extra in proptest::collection::vec((any::<usize>(), 1usize..80), 0..6),
            order in any::<u64>(),
            isn in prop_oneof![Just(u32::MAX - 10), any::<u32>()],
        ) {
            let mut segs = segments(&data, &cuts, &extra);
            // A deterministic shuffle driven by `order`.
            let mut state = order | 1;
            for i in (1..segs.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                segs.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let mut h = Harness::new(isn, 1 << 20, 1 << 20);
            for (offset, bytes) in &segs {
                h.seg(*offset, bytes);
            }
            h.send(data.len() as u32, b"", 0, true);
            prop_assert_eq!(h.out.0.clone(), vec![Out::Data(data.clone()), Out::End]);
            prop_assert_eq!((h.r.buffered(), h.budget.used(), h.r.held_segments()), (0, 0, 0));
        }

        /// Whatever arrives, memory stays under the caps and nothing panics.
        #[test]
        fn hostile_segments_stay_bounded(
            segs in proptest::collection::vec((any::<u32>(), 0usize..300, any::<bool>(), 0u64..5000), 0..200),
        ) {
            let mut h = Harness::new(0, 1000, 1500);
            let bytes = [0x55u8; 300];
            for (seq, len, fin, missing) in segs {
                let seg = ReceivedSegment { seq: SeqNumber(seq % 20_000), data: &bytes[..len], missing, fin, frame: 1 };
                h.r.segment(seg, &mut h.budget, &mut h.out);
                prop_assert!(h.r.buffered() <= 1000);
                prop_assert!(h.budget.used() <= 1500);
                prop_assert!(h.r.held_segments() <= MAX_SEGMENTS);
            }
            h.close();
            prop_assert_eq!((h.r.buffered(), h.budget.used()), (0, 0));
            prop_assert_eq!(h.out.0.iter().filter(|o| **o == Out::End).count(), 1);
        }
    }
}
