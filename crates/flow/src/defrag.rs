//! IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5) fragment reassembly.
//!
//! Fragments are held per datagram (source, destination, identification, and for IPv4 the
//! protocol) until every byte up to the last fragment is present. Overlapping fragments drop the
//! whole datagram (RFC 5722 for IPv6; the same policy is applied to IPv4, where overlaps are an
//! evasion technique rather than something hosts send); exact duplicates are ignored. Held bytes
//! are capped by `Limits::max_fragment_buffer`, and a datagram still incomplete
//! [`FRAGMENT_TIMEOUT_SECS`] of capture time after its first fragment is dropped.

use crate::{FrameMeta, StreamSink};
use phonehome_model::{Timestamp, WarningCode};
use phonehome_wire::{Fragment, IpPacket};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Seconds of capture time an incomplete datagram is kept (RFC 8200 §4.5 says 60; 30 is enough
/// for captures, where fragments of one datagram arrive back to back).
pub const FRAGMENT_TIMEOUT_SECS: i64 = 30;

/// Most datagrams being reassembled at once; the oldest is dropped beyond it.
pub const MAX_FRAGMENT_SETS: usize = 4096;

/// Most fragments held for one datagram (a 64 KiB datagram in 64-byte fragments).
pub const MAX_FRAGMENTS_PER_SET: usize = 1024;

/// Largest reassembled payload: the 16-bit length fields of IPv4 and IPv6 (jumbograms are never
/// fragmented).
pub const MAX_DATAGRAM_PAYLOAD: u32 = 65_535;

/// A datagram rebuilt from its fragments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol (for IPv6: the next header of the offset-0 fragment's fragment
    /// header, which may still be an extension header).
    pub protocol: u8,
    /// The reassembled payload.
    pub payload: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct SetKey {
    src: IpAddr,
    dst: IpAddr,
    /// IPv4 protocol; 0 for IPv6, whose key is (src, dst, id) only.
    protocol: u8,
    id: u32,
}

#[derive(Debug)]
struct FragmentSet {
    serial: u64,
    created: Timestamp,
    /// Protocol from the offset-0 fragment.
    protocol: Option<u8>,
    /// Payload length, known once the last fragment (no MF) arrived.
    total: Option<u32>,
    /// (offset, bytes), sorted by offset, disjoint.
    pieces: Vec<(u32, Vec<u8>)>,
    /// Bytes in `pieces`.
    held: usize,
    /// An overlap or limit condemned the datagram: later fragments are dropped silently until
    /// the set times out.
    poisoned: bool,
}

/// Reassembles fragmented IPv4 and IPv6 datagrams within a byte budget.
#[derive(Debug)]
pub struct FragmentReassembler {
    sets: HashMap<SetKey, FragmentSet>,
    /// Sets by creation order (serial), for timeouts and eviction.
    order: BTreeMap<u64, SetKey>,
    next_serial: u64,
    held: usize,
    max_held: usize,
}

impl FragmentReassembler {
    /// A reassembler holding at most `max_held` bytes of incomplete datagrams.
    pub fn new(max_held: usize) -> Self {
        Self {
            sets: HashMap::new(),
            order: BTreeMap::new(),
            next_serial: 0,
            held: 0,
            max_held,
        }
    }

    /// Bytes held in incomplete datagrams.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Datagrams being reassembled (including condemned ones waiting to time out).
    pub fn pending(&self) -> usize {
        self.sets.len()
    }

    /// Takes one fragment (`ip.fragment` must be `Some`); returns the datagram it completes.
    pub fn fragment(
        &mut self,
        frame: FrameMeta,
        ip: &IpPacket<'_>,
        sink: &mut dyn StreamSink,
    ) -> Option<Datagram> {
        let fragment: Fragment = ip.fragment?;
        let version = if ip.src.is_ipv4() { "IPv4" } else { "IPv6" };
        let key = SetKey {
            src: ip.src,
            dst: ip.dst,
            protocol: if ip.src.is_ipv4() { ip.protocol } else { 0 },
            id: fragment.id,
        };
        let len = u32::try_from(ip.payload.len()).unwrap_or(u32::MAX);
        let end = fragment.offset.saturating_add(len);
        if end > MAX_DATAGRAM_PAYLOAD {
            sink.warning(
                WarningCode::Malformed,
                frame,
                format!(
                    "{version} fragment (id {:#x}) ends at byte {end}, beyond the largest datagram; dropped",
                    fragment.id
                ),
            );
            return None;
        }
        if len == 0 && fragment.more {
            sink.warning(
                WarningCode::Malformed,
                frame,
                format!(
                    "empty {version} fragment (id {:#x}) with more fragments; dropped",
                    fragment.id
                ),
            );
            return None;
        }
        if !self.sets.contains_key(&key) {
            self.open_set(key, frame, sink);
        }
        let set = self.sets.get_mut(&key)?;
        if set.poisoned {
            return None;
        }
        if ip.truncated_by > 0 {
            let reason = format!(
                "{version} fragment (id {:#x}) cut by the snap length ({} bytes missing); datagram dropped",
                fragment.id, ip.truncated_by
            );
            self.poison(key, WarningCode::Truncated, frame, reason, sink);
            return None;
        }
        if set.pieces.len() >= MAX_FRAGMENTS_PER_SET {
            let reason = format!(
                "{version} datagram (id {:#x}) has more than {MAX_FRAGMENTS_PER_SET} fragments; dropped",
                fragment.id
            );
            self.poison(key, WarningCode::Limit, frame, reason, sink);
            return None;
        }
        // Where the datagram ends must stay consistent.
        let inconsistent = if fragment.more {
            set.total.is_some_and(|t| end > t)
        } else {
            set.total.is_some_and(|t| t != end)
                || set
                    .pieces
                    .last()
                    .is_some_and(|(o, b)| piece_end(*o, b) > end)
        };
        if inconsistent {
            let reason = format!(
                "{version} fragments (id {:#x}) disagree on where the datagram ends; datagram dropped",
                fragment.id
            );
            self.poison(key, WarningCode::Malformed, frame, reason, sink);
            return None;
        }
        // Overlaps (RFC 5722) drop the datagram; exact duplicates are ignored.
        let index = set.pieces.partition_point(|(o, _)| *o < fragment.offset);
        if let Some((o, b)) = set.pieces.get(index) {
            if *o == fragment.offset && b.as_slice() == ip.payload {
                return None;
            }
        }
        let overlaps_previous = index
            .checked_sub(1)
            .and_then(|i| set.pieces.get(i))
            .is_some_and(|(o, b)| piece_end(*o, b) > fragment.offset);
        let overlaps_next = set.pieces.get(index).is_some_and(|(o, _)| *o < end);
        if overlaps_previous || overlaps_next {
            let reason = format!(
                "{version} fragment (id {:#x}, bytes {}..{end}) overlaps an earlier fragment; \
                 datagram dropped (RFC 5722)",
                fragment.id, fragment.offset
            );
            self.poison(key, WarningCode::Overlap, frame, reason, sink);
            return None;
        }
        // Room for the bytes: evict older datagrams first.
        let needed = ip.payload.len();
        while self.held.saturating_add(needed) > self.max_held {
            let oldest = self.order.values().copied().find(|k| *k != key);
            match oldest {
                Some(old) => {
                    let reason = format!(
                        "IP fragment buffer full ({} bytes held, limit {}): an incomplete datagram was dropped",
                        self.held, self.max_held
                    );
                    self.drop_set(old, Some((WarningCode::Limit, reason)), frame, sink);
                }
                None => break,
            }
        }
        if self.held.saturating_add(needed) > self.max_held {
            let reason = format!(
                "{version} datagram (id {:#x}) does not fit the fragment buffer ({} bytes); dropped",
                fragment.id, self.max_held
            );
            self.poison(key, WarningCode::Limit, frame, reason, sink);
            return None;
        }
        let set = self.sets.get_mut(&key)?;
        set.pieces
            .insert(index, (fragment.offset, ip.payload.to_vec()));
        set.held = set.held.saturating_add(needed);
        self.held = self.held.saturating_add(needed);
        if fragment.offset == 0 {
            set.protocol = Some(ip.protocol);
        }
        if !fragment.more {
            set.total = Some(end);
        }
        // Disjoint pieces within [0, total) whose lengths add up to total cover it.
        let complete = set.total.is_some_and(|t| set.held == t as usize);
        if !complete {
            return None;
        }
        let set = self.remove(key)?;
        let mut payload = Vec::with_capacity(set.held);
        for (_, bytes) in &set.pieces {
            payload.extend_from_slice(bytes);
        }
        Some(Datagram {
            src: key.src,
            dst: key.dst,
            protocol: set.protocol.unwrap_or(key.protocol),
            payload,
        })
    }

    /// Drops datagrams whose first fragment is more than [`FRAGMENT_TIMEOUT_SECS`] older than
    /// `now`, with a [`WarningCode::Gap`] warning for each one that was not already condemned.
    pub fn expire(&mut self, now: FrameMeta, sink: &mut dyn StreamSink) {
        let timeout = i128::from(FRAGMENT_TIMEOUT_SECS) * 1_000_000_000;
        while let Some((_, key)) = self.order.first_key_value() {
            let key = *key;
            let Some(set) = self.sets.get(&key) else {
                self.order.pop_first();
                continue;
            };
            if now
                .time
                .unix_nanos()
                .saturating_sub(set.created.unix_nanos())
                <= timeout
            {
                break;
            }
            let reason = format!(
                "incomplete IP datagram (id {:#x}, {} bytes held) timed out after {FRAGMENT_TIMEOUT_SECS} s",
                key.id, set.held
            );
            self.drop_set(key, Some((WarningCode::Gap, reason)), now, sink);
        }
    }

    /// Drops every incomplete datagram (end of a capture file), warning about each.
    pub fn finish(&mut self, frame: FrameMeta, sink: &mut dyn StreamSink) {
        while let Some((_, key)) = self.order.pop_first() {
            if let Some(set) = self.sets.get(&key) {
                let reason = format!(
                    "incomplete IP datagram (id {:#x}, {} bytes held) at the end of the capture",
                    key.id, set.held
                );
                self.drop_set(key, Some((WarningCode::Gap, reason)), frame, sink);
            }
        }
        self.sets.clear();
        self.held = 0;
    }

    fn open_set(&mut self, key: SetKey, frame: FrameMeta, sink: &mut dyn StreamSink) {
        if self.sets.len() >= MAX_FRAGMENT_SETS {
            if let Some((_, oldest)) = self.order.first_key_value() {
                let reason = format!(
                    "more than {MAX_FRAGMENT_SETS} IP datagrams being reassembled: the oldest was dropped"
                );
                self.drop_set(*oldest, Some((WarningCode::Limit, reason)), frame, sink);
            }
        }
        let serial = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1);
        self.order.insert(serial, key);
        self.sets.insert(
            key,
            FragmentSet {
                serial,
                created: frame.time,
                protocol: None,
                total: None,
                pieces: Vec::new(),
                held: 0,
                poisoned: false,
            },
        );
    }

    /// Condemns a datagram: warns, frees its bytes, and drops its later fragments silently.
    fn poison(
        &mut self,
        key: SetKey,
        code: WarningCode,
        frame: FrameMeta,
        reason: String,
        sink: &mut dyn StreamSink,
    ) {
        sink.warning(code, frame, reason);
        if let Some(set) = self.sets.get_mut(&key) {
            self.held = self.held.saturating_sub(set.held);
            set.held = 0;
            set.pieces = Vec::new();
            set.poisoned = true;
        }
    }

    /// Removes a set, warning (unless it was already condemned, or no warning is given).
    fn drop_set(
        &mut self,
        key: SetKey,
        warning: Option<(WarningCode, String)>,
        frame: FrameMeta,
        sink: &mut dyn StreamSink,
    ) {
        if let Some(set) = self.remove(key) {
            if let (false, Some((code, reason))) = (set.poisoned, warning) {
                sink.warning(code, frame, reason);
            }
        }
    }

    fn remove(&mut self, key: SetKey) -> Option<FragmentSet> {
        let set = self.sets.remove(&key)?;
        self.order.remove(&set.serial);
        self.held = self.held.saturating_sub(set.held);
        Some(set)
    }
}

fn piece_end(offset: u32, bytes: &[u8]) -> u32 {
    offset.saturating_add(u32::try_from(bytes.len()).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnInfo, ConnStats};
    use phonehome_model::Direction;

    #[derive(Default)]
    struct Warnings(Vec<(WarningCode, u64, String)>);

    impl StreamSink for Warnings {
        fn open(&mut self, _: &ConnInfo) {}
        fn data(&mut self, _: &ConnInfo, _: Direction, _: &[u8], _: FrameMeta) {}
        fn gap(&mut self, _: &ConnInfo, _: Direction, _: u64, _: FrameMeta) {}
        fn datagram(&mut self, _: &ConnInfo, _: Direction, _: &[u8], _: FrameMeta) {}
        fn end(&mut self, _: &ConnInfo, _: Direction, _: FrameMeta) {}
        fn close(&mut self, _: &ConnInfo, _: &ConnStats) {}
        fn warning(&mut self, code: WarningCode, frame: FrameMeta, reason: String) {
            self.0.push((code, frame.number, reason));
        }
    }

    fn at(number: u64, secs: i64) -> FrameMeta {
        FrameMeta {
            number,
            time: Timestamp::from_secs_nanos(secs, 0),
        }
    }

    fn fragment<'a>(id: u32, offset: u32, more: bool, payload: &'a [u8]) -> IpPacket<'a> {
        IpPacket {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            protocol: 17,
            payload,
            fragment: Some(Fragment { id, offset, more }),
            truncated_by: 0,
        }
    }

    const DATA: &[u8; 24] = b"0123456789abcdefghijklmn";

    fn thirds(id: u32) -> [IpPacket<'static>; 3] {
        [
            fragment(id, 0, true, &DATA[..8]),
            fragment(id, 8, true, &DATA[8..16]),
            fragment(id, 16, false, &DATA[16..]),
        ]
    }

    #[test]
    fn every_order_reassembles() {
        for order in [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ] {
            let mut r = FragmentReassembler::new(1 << 20);
            let mut sink = Warnings::default();
            let parts = thirds(7);
            let mut done = Vec::new();
            for (n, i) in order.iter().enumerate() {
                done.push(r.fragment(at(n as u64 + 1, 0), &parts[*i], &mut sink));
            }
            let datagram = done.pop().flatten().expect("complete on the last fragment");
            assert!(done.iter().all(Option::is_none), "{order:?}");
            assert_eq!(
                (datagram.protocol, datagram.payload.as_slice()),
                (17, &DATA[..])
            );
            assert_eq!((r.held_bytes(), r.pending()), (0, 0));
            assert!(sink.0.is_empty());
        }
    }

    #[test]
    fn duplicates_are_ignored_overlaps_drop_the_datagram() {
        let mut r = FragmentReassembler::new(1 << 20);
        let mut sink = Warnings::default();
        let [a, b, c] = thirds(1);
        assert_eq!(r.fragment(at(1, 0), &a, &mut sink), None);
        assert_eq!(r.fragment(at(2, 0), &a, &mut sink), None);
        assert!(sink.0.is_empty());
        // Bytes 4..12 overlap the first fragment.
        let overlap = fragment(1, 4, true, &DATA[4..12]);
        assert_eq!(r.fragment(at(3, 0), &overlap, &mut sink), None);
        assert_eq!(sink.0.len(), 1);
        assert_eq!((sink.0[0].0, sink.0[0].1), (WarningCode::Overlap, 3));
        assert_eq!(r.held_bytes(), 0);
        // The rest of the condemned datagram is dropped silently, and it never completes.
        assert_eq!(r.fragment(at(4, 0), &b, &mut sink), None);
        assert_eq!(r.fragment(at(5, 0), &c, &mut sink), None);
        assert_eq!(sink.0.len(), 1);
        // It times out silently too.
        r.expire(at(6, 100), &mut sink);
        assert_eq!((sink.0.len(), r.pending()), (1, 0));
    }

    #[test]
    fn incomplete_datagrams_time_out() {
        let mut r = FragmentReassembler::new(1 << 20);
        let mut sink = Warnings::default();
        let [a, _, c] = thirds(2);
        r.fragment(at(1, 10), &a, &mut sink);
        r.fragment(at(2, 11), &c, &mut sink);
        r.expire(at(3, 40), &mut sink);
        assert!(sink.0.is_empty());
        r.expire(at(4, 41), &mut sink);
        assert_eq!(sink.0.len(), 1);
        assert_eq!((sink.0[0].0, sink.0[0].1), (WarningCode::Gap, 4));
        assert_eq!((r.held_bytes(), r.pending()), (0, 0));
        // End of capture reports what is left.
        r.fragment(at(5, 50), &a, &mut sink);
        r.finish(at(6, 51), &mut sink);
        assert_eq!(sink.0.len(), 2);
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn byte_budget_evicts_the_oldest() {
        let mut r = FragmentReassembler::new(20);
        let mut sink = Warnings::default();
        r.fragment(at(1, 0), &thirds(1)[0], &mut sink);
        r.fragment(at(2, 0), &thirds(2)[0], &mut sink);
        assert_eq!(r.held_bytes(), 16);
        r.fragment(at(3, 0), &thirds(3)[0], &mut sink);
        assert_eq!(sink.0.len(), 1);
        assert_eq!(sink.0[0].0, WarningCode::Limit);
        assert!(r.held_bytes() <= 20);
        // A fragment bigger than the whole budget is refused.
        let big = vec![0u8; 64];
        let huge = fragment(9, 0, true, &big);
        assert_eq!(r.fragment(at(4, 0), &huge, &mut sink), None);
        assert!(r.held_bytes() <= 20);
        assert!(sink.0.iter().any(|w| w.2.contains("does not fit")));
    }

    #[test]
    fn malformed_fragments() {
        let mut r = FragmentReassembler::new(1 << 20);
        let mut sink = Warnings::default();
        // Ends beyond 65535.
        let beyond = fragment(1, 65_528, true, &DATA[..16]);
        assert_eq!(r.fragment(at(1, 0), &beyond, &mut sink), None);
        // Empty, with more to come.
        let empty = fragment(1, 8, true, &[]);
        assert_eq!(r.fragment(at(2, 0), &empty, &mut sink), None);
        // Two "last" fragments that disagree.
        r.fragment(at(3, 0), &fragment(2, 16, false, &DATA[16..]), &mut sink);
        r.fragment(at(4, 0), &fragment(2, 8, false, &DATA[8..16]), &mut sink);
        // Cut by the snap length.
        let mut cut = fragment(3, 0, true, &DATA[..8]);
        cut.truncated_by = 100;
        r.fragment(at(5, 0), &cut, &mut sink);
        let codes: Vec<WarningCode> = sink.0.iter().map(|w| w.0).collect();
        assert_eq!(
            codes,
            [
                WarningCode::Malformed,
                WarningCode::Malformed,
                WarningCode::Malformed,
                WarningCode::Truncated
            ]
        );
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn set_count_is_bounded() {
        let mut r = FragmentReassembler::new(1 << 30);
        let mut sink = Warnings::default();
        for id in 0..(MAX_FRAGMENT_SETS as u32 + 5) {
            r.fragment(at(1, 0), &fragment(id, 0, true, &DATA[..8]), &mut sink);
            assert!(r.pending() <= MAX_FRAGMENT_SETS);
        }
        assert_eq!(sink.0.len(), 5);
        // Too many fragments in one datagram.
        let mut r = FragmentReassembler::new(1 << 30);
        let mut sink = Warnings::default();
        for i in 0..(MAX_FRAGMENTS_PER_SET as u32 + 1) {
            r.fragment(at(1, 0), &fragment(1, i * 8, true, &DATA[..8]), &mut sink);
        }
        assert_eq!(sink.0.len(), 1);
        assert_eq!(sink.0[0].0, WarningCode::Limit);
        assert_eq!(r.held_bytes(), 0);
    }
}
