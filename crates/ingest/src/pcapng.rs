//! pcapng files: a sequence of blocks, grouped into sections that each start with a Section
//! Header Block giving the section's byte order. Interfaces (with their link type, timestamp
//! resolution and offset) are numbered from 0 in each section.
//!
//! Reference: draft-ietf-opsawg-pcapng (block types, `if_tsresol`, `if_tsoffset`, Decryption
//! Secrets Block).

use crate::byte_order::ByteOrder;
use crate::capture::Emitter;
use crate::input::Decompressed;
use crate::resync::{skip_to_valid, Resync};
use crate::{Error, MAX_BLOCK_LEN};
use phonehome_model::{Timestamp, WarningCode};
use std::io;

/// Most interfaces kept per section (65 536); Interface Description Blocks beyond it are ignored
/// with a warning, and packets that refer to them are skipped.
pub const MAX_INTERFACES: usize = 1 << 16;

const SECTION_HEADER: u32 = 0x0a0d_0d0a;
const INTERFACE_DESCRIPTION: u32 = 1;
const OBSOLETE_PACKET: u32 = 2;
const SIMPLE_PACKET: u32 = 3;
const NAME_RESOLUTION: u32 = 4;
const INTERFACE_STATISTICS: u32 = 5;
const ENHANCED_PACKET: u32 = 6;
const SYSTEMD_JOURNAL: u32 = 9;
const DECRYPTION_SECRETS: u32 = 0x0a;
const CUSTOM: u32 = 0x0bad;
const CUSTOM_NO_COPY: u32 = 0x4000_0bad;

/// Whether `kind` is a block type a resynchronisation accepts as the next block.
fn is_known_block(kind: u32) -> bool {
    matches!(
        kind,
        SECTION_HEADER
            | INTERFACE_DESCRIPTION
            | OBSOLETE_PACKET
            | SIMPLE_PACKET
            | NAME_RESOLUTION
            | INTERFACE_STATISTICS
            | ENHANCED_PACKET
            | SYSTEMD_JOURNAL
            | DECRYPTION_SECRETS
            | CUSTOM
            | CUSTOM_NO_COPY
    )
}

/// Block type, total length and byte-order magic: what is needed to judge a block header.
const BLOCK_HEADER_LEN: usize = 12;
/// Smallest block: type, total length, trailing total length.
const MIN_BLOCK_LEN: u32 = 12;
/// Smallest Section Header Block: header, magic, version, section length, trailer.
const MIN_SECTION_HEADER_LEN: u32 = 28;

const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// How timestamps of one interface are scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolution {
    /// Units of 10^-n seconds, n ≤ 19.
    Decimal(u32),
    /// Units of 2^-n seconds, n ≤ 63.
    Binary(u32),
}

/// One interface of a section.
#[derive(Clone, Copy, Debug)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    resolution: Resolution,
    /// `if_tsoffset`: seconds added to every timestamp.
    offset_secs: i64,
}

impl Interface {
    fn time(&self, ticks: u64) -> Timestamp {
        let nanos: i128 = match self.resolution {
            Resolution::Decimal(n) if n <= 9 => i128::from(ticks) * 10i128.pow(9 - n),
            Resolution::Decimal(n) => i128::from(ticks) / 10i128.pow(n.min(19) - 9),
            Resolution::Binary(n) => {
                i128::try_from((u128::from(ticks) * 1_000_000_000) >> n.min(63))
                    .unwrap_or(i128::MAX)
            }
        };
        Timestamp::from_unix_nanos(
            nanos.saturating_add(i128::from(self.offset_secs) * 1_000_000_000),
        )
    }
}

/// The state of the section being read.
struct Section {
    order: ByteOrder,
    interfaces: Vec<Interface>,
}

/// A block header that passed the length checks and whose whole block is buffered.
struct BlockHead {
    kind: u32,
    len: usize,
    order: ByteOrder,
}

/// What reading the next block header gave.
enum Step {
    Block(BlockHead),
    End,
    Truncated(String),
    Bad(String),
    ReadFailed(io::Error),
}

/// The byte order a Section Header Block's magic (bytes 8..12) announces.
fn section_order(head: &[u8]) -> Option<ByteOrder> {
    match head.get(8..12)? {
        [0x1a, 0x2b, 0x3c, 0x4d] => Some(ByteOrder::Big),
        [0x4d, 0x3c, 0x2b, 0x1a] => Some(ByteOrder::Little),
        _ => None,
    }
}

/// The smallest total length of a block of type `kind`.
fn min_length(kind: u32) -> u32 {
    if kind == SECTION_HEADER {
        MIN_SECTION_HEADER_LEN
    } else {
        MIN_BLOCK_LEN
    }
}

/// Whether a block total length is possible.
fn good_length(kind: u32, len: u32) -> bool {
    len >= min_length(kind) && len & 3 == 0 && len as usize <= MAX_BLOCK_LEN
}

/// Why a block total length is impossible, if it is.
fn bad_length(kind: u32, len: u32) -> Option<String> {
    let min = min_length(kind);
    if good_length(kind, len) {
        None
    } else if len < min {
        Some(format!(
            "pcapng: block total length {len} is below the minimum of {min}"
        ))
    } else if len & 3 != 0 {
        Some(format!(
            "pcapng: block total length {len} is not a multiple of 4"
        ))
    } else {
        Some(format!(
            "pcapng: block total length {len} exceeds {MAX_BLOCK_LEN}"
        ))
    }
}

/// Reads the header of the block at the current offset and buffers the whole block.
fn next_block(input: &mut Decompressed<'_>, order: ByteOrder) -> Step {
    let head = match input.fill(BLOCK_HEADER_LEN) {
        Ok(head) => head,
        Err(e) => return Step::ReadFailed(e),
    };
    if head.is_empty() {
        return Step::End;
    }
    let (Some(kind_le), Some(_)) = (ByteOrder::Little.u32(head, 0), head.get(..8)) else {
        return Step::Truncated(format!(
            "pcapng: block header truncated: {} of 8 bytes",
            head.len()
        ));
    };
    let (kind, order) = if kind_le == SECTION_HEADER {
        if head.len() < BLOCK_HEADER_LEN {
            return Step::Truncated(format!(
                "pcapng: section header block truncated: {} of {MIN_SECTION_HEADER_LEN} bytes",
                head.len()
            ));
        }
        match section_order(head) {
            Some(order) => (SECTION_HEADER, order),
            None => {
                let magic = head.get(8..12).unwrap_or(&[]);
                return Step::Bad(format!(
                    "pcapng: section byte-order magic {magic:02x?} is invalid"
                ));
            }
        }
    } else {
        (order.u32(head, 0).unwrap_or(kind_le), order)
    };
    let len = order.u32(head, 4).unwrap_or(0);
    if let Some(reason) = bad_length(kind, len) {
        return Step::Bad(reason);
    }
    let len = len as usize;
    let block = match input.fill(len) {
        Ok(block) => block,
        Err(e) => return Step::ReadFailed(e),
    };
    if block.len() < len {
        return Step::Truncated(format!(
            "pcapng: block truncated: {} of {len} bytes",
            block.len()
        ));
    }
    let trailer = order.u32(block, len - 4).unwrap_or(0);
    if trailer as usize != len {
        return Step::Bad(format!(
            "pcapng: block trailing length {trailer} does not match its total length {len}"
        ));
    }
    Step::Block(BlockHead { kind, len, order })
}

/// The length of the block whose header `head` holds, when it is a known block type with a
/// possible length, in the section's byte order (or its own, for a Section Header Block). Run at
/// every position while resynchronising, so it rejects cheaply.
fn candidate_block(head: &[u8], order: ByteOrder) -> Option<(usize, ByteOrder)> {
    let [k0, k1, k2, k3, l0, l1, l2, l3, ..] = *head else {
        return None;
    };
    let (kind, order) = if [k0, k1, k2, k3] == SECTION_HEADER.to_le_bytes() {
        (SECTION_HEADER, section_order(head)?)
    } else {
        (order.u32_of([k0, k1, k2, k3]), order)
    };
    let len = order.u32_of([l0, l1, l2, l3]);
    if !is_known_block(kind) || !good_length(kind, len) {
        return None;
    }
    Some((len as usize, order))
}

/// Whether the candidate block at the current offset has a trailing length that matches its
/// leading one. Buffers the whole block (cheap: see `input.rs`).
fn confirm_block(input: &mut Decompressed<'_>, order: ByteOrder) -> io::Result<bool> {
    let Some((len, order)) = candidate_block(input.data(), order) else {
        return Ok(false);
    };
    let block = input.fill(len)?;
    Ok(block.len() >= len && order.u32(block, len.saturating_sub(4)) == Some(len as u32))
}

/// Skips to the next known block with consistent leading and trailing lengths.
fn resync(input: &mut Decompressed<'_>, order: ByteOrder) -> Resync {
    skip_to_valid(
        input,
        BLOCK_HEADER_LEN,
        |head| candidate_block(head, order).is_some(),
        |input| confirm_block(input, order),
    )
}

/// Calls `f` with each option `(code, value)` of an options list, until `opt_endofopt` or the
/// first option that does not fit.
fn for_each_option(order: ByteOrder, mut opts: &[u8], mut f: impl FnMut(u16, &[u8])) {
    while let (Some(code), Some(len)) = (order.u16(opts, 0), order.u16(opts, 2)) {
        if code == OPT_END {
            break;
        }
        let len = usize::from(len);
        let Some(value) = opts.get(4..4 + len) else {
            break;
        };
        f(code, value);
        let padded = (4 + len + 3) & !3;
        opts = opts.get(padded..).unwrap_or(&[]);
    }
}

/// Reads a pcapng stream positioned at its first Section Header Block.
pub(crate) fn read(input: &mut Decompressed<'_>, out: &mut Emitter<'_>) -> Result<(), Error> {
    let mut section = Section {
        order: ByteOrder::Little,
        interfaces: Vec::new(),
    };
    let mut last_time = Timestamp::default();
    let mut first = true;
    loop {
        let offset = input.offset();
        let head = match next_block(input, section.order) {
            Step::Block(head) => head,
            Step::End => return Ok(()),
            Step::ReadFailed(e) if first => return Err(Error::io(out.name.clone(), e)),
            Step::Truncated(reason) | Step::Bad(reason) if first => {
                return Err(Error::malformed(out.name.clone(), offset, reason));
            }
            Step::ReadFailed(e) => {
                out.read_failed(input, &e);
                return Ok(());
            }
            Step::Truncated(reason) => {
                // Either the file is cut short or the block length is corrupt and points past
                // the end: it is the latter only if a valid block follows.
                let resync = resync(input, section.order);
                if let Resync::Found(_) = resync {
                    let reason = format!(
                        "pcapng: block length runs past the end of the file; {}",
                        resync.outcome("block")
                    );
                    out.warn(WarningCode::Malformed, offset, reason);
                    continue;
                }
                out.warn(WarningCode::Truncated, offset, reason);
                if let Resync::ReadFailed(e) = resync {
                    out.read_failed(input, &e);
                }
                return Ok(());
            }
            Step::Bad(reason) => {
                let resync = resync(input, section.order);
                out.warn(
                    WarningCode::Malformed,
                    offset,
                    format!("{reason}; {}", resync.outcome("block")),
                );
                match resync {
                    Resync::Found(_) => continue,
                    Resync::ReadFailed(e) => out.read_failed(input, &e),
                    Resync::EndOfStream(_) | Resync::GaveUp(_) => {}
                }
                return Ok(());
            }
        };
        let block = input.data().get(..head.len).unwrap_or(&[]);
        let body = block.get(8..head.len - 4).unwrap_or(&[]);
        if head.kind == SECTION_HEADER {
            let major = head.order.u16(body, 4).unwrap_or(0);
            let minor = head.order.u16(body, 6).unwrap_or(0);
            if major != 1 {
                let reason = format!("pcapng: unsupported version {major}.{minor}");
                if first {
                    return Err(Error::malformed(out.name.clone(), offset, reason));
                }
                out.warn(
                    WarningCode::Unsupported,
                    offset,
                    format!("{reason}; read as 1.0"),
                );
            }
            section = Section {
                order: head.order,
                interfaces: Vec::new(),
            };
        } else {
            let mut block = Block {
                offset,
                order: section.order,
                body,
                out: &mut *out,
            };
            match head.kind {
                INTERFACE_DESCRIPTION => block.interface(&mut section.interfaces),
                ENHANCED_PACKET => block.enhanced_packet(&section.interfaces, &mut last_time),
                OBSOLETE_PACKET => block.obsolete_packet(&section.interfaces, &mut last_time),
                SIMPLE_PACKET => block.simple_packet(&section.interfaces, last_time),
                DECRYPTION_SECRETS => block.decryption_secrets(),
                // Name resolution, statistics, journal, custom and unknown blocks carry nothing
                // this crate delivers.
                _ => {}
            }
        }
        first = false;
        input.consume(head.len);
    }
}

/// One non-section block being handled: its body (between the length fields) and where to report.
struct Block<'b, 'o, 'f> {
    offset: u64,
    order: ByteOrder,
    body: &'b [u8],
    out: &'o mut Emitter<'f>,
}

impl Block<'_, '_, '_> {
    fn malformed(&mut self, reason: String) {
        self.out.warn(WarningCode::Malformed, self.offset, reason);
    }

    fn field(&self, at: usize) -> u32 {
        self.order.u32(self.body, at).unwrap_or(0)
    }

    fn interface(&mut self, interfaces: &mut Vec<Interface>) {
        let (Some(linktype), Some(snaplen)) =
            (self.order.u16(self.body, 0), self.order.u32(self.body, 4))
        else {
            let len = self.body.len();
            return self.malformed(format!(
                "pcapng: interface description block body of {len} bytes is too short"
            ));
        };
        if interfaces.len() >= MAX_INTERFACES {
            return self.malformed(format!(
                "pcapng: more than {MAX_INTERFACES} interfaces in one section; ignored"
            ));
        }
        let mut iface = Interface {
            linktype: u32::from(linktype),
            snaplen,
            resolution: Resolution::Decimal(6),
            offset_secs: 0,
        };
        let mut bad_resolution = None;
        let order = self.order;
        for_each_option(
            order,
            self.body.get(8..).unwrap_or(&[]),
            |code, value| match (code, value) {
                (OPT_IF_TSRESOL, [v, ..]) => {
                    let resolution = if v & 0x80 != 0 {
                        Resolution::Binary(u32::from(v & 0x7f))
                    } else {
                        Resolution::Decimal(u32::from(*v))
                    };
                    match resolution {
                        Resolution::Decimal(n) if n > 19 => bad_resolution = Some(*v),
                        Resolution::Binary(n) if n > 63 => bad_resolution = Some(*v),
                        _ => iface.resolution = resolution,
                    }
                }
                (OPT_IF_TSOFFSET, _) => {
                    if let Some(secs) = order.u64(value, 0) {
                        iface.offset_secs = secs as i64;
                    }
                }
                _ => {}
            },
        );
        if let Some(v) = bad_resolution {
            let id = interfaces.len();
            self.malformed(format!(
                "pcapng: interface {id} has an invalid if_tsresol {v:#04x}; microseconds assumed"
            ));
        }
        interfaces.push(iface);
    }

    /// The interface `id`, or a warning that the section has no such interface.
    fn lookup<'i>(
        &mut self,
        what: &str,
        interfaces: &'i [Interface],
        id: u32,
    ) -> Option<&'i Interface> {
        let found = interfaces.get(id as usize);
        if found.is_none() {
            let have = interfaces.len();
            self.malformed(format!(
                "pcapng: {what} refers to interface {id} but the section has {have}; skipped"
            ));
        }
        found
    }

    fn enhanced_packet(&mut self, interfaces: &[Interface], last_time: &mut Timestamp) {
        if self.body.len() < 20 {
            let len = self.body.len();
            return self.malformed(format!(
                "pcapng: enhanced packet block body of {len} bytes is too short"
            ));
        }
        let interface = self.field(0);
        let Some(iface) = self.lookup("enhanced packet block", interfaces, interface) else {
            return;
        };
        self.packet(iface, interface, "enhanced packet block", last_time);
    }

    fn obsolete_packet(&mut self, interfaces: &[Interface], last_time: &mut Timestamp) {
        if self.body.len() < 20 {
            let len = self.body.len();
            return self.malformed(format!(
                "pcapng: packet block body of {len} bytes is too short"
            ));
        }
        let interface = u32::from(self.order.u16(self.body, 0).unwrap_or(0));
        let Some(iface) = self.lookup("packet block", interfaces, interface) else {
            return;
        };
        self.packet(iface, interface, "packet block", last_time);
    }

    /// Delivers an enhanced or obsolete packet block: both have the timestamp at body offset 4,
    /// the captured and original lengths at 12 and 16 and the data at 20.
    fn packet(&mut self, iface: &Interface, interface: u32, what: &str, last_time: &mut Timestamp) {
        let ticks = u64::from(self.field(4)) << 32 | u64::from(self.field(8));
        let (caplen, orig_len) = (self.field(12), self.field(16));
        let body = self.body;
        let Some(data) = body.get(20..).and_then(|d| d.get(..caplen as usize)) else {
            let space = body.len().saturating_sub(20);
            return self.malformed(format!(
                "pcapng: {what} captured length {caplen} exceeds the {space} bytes of the block; skipped"
            ));
        };
        let time = iface.time(ticks);
        *last_time = time;
        self.out
            .frame(time, iface.linktype, data, orig_len, self.offset, interface);
    }

    /// A simple packet block: interface 0, no timestamp (the previous packet's time is used),
    /// captured length = min(original length, snaplen, room in the block).
    fn simple_packet(&mut self, interfaces: &[Interface], last_time: Timestamp) {
        let Some(iface) = self.lookup("simple packet block", interfaces, 0) else {
            return;
        };
        let linktype = iface.linktype;
        let snaplen = if iface.snaplen == 0 {
            u32::MAX
        } else {
            iface.snaplen
        };
        let Some(orig_len) = self.order.u32(self.body, 0) else {
            return self.malformed("pcapng: simple packet block has no length field".to_owned());
        };
        let room = self.body.len().saturating_sub(4);
        let caplen = (orig_len.min(snaplen) as usize).min(room);
        let data = self
            .body
            .get(4..)
            .and_then(|d| d.get(..caplen))
            .unwrap_or(&[]);
        self.out
            .frame(last_time, linktype, data, orig_len, self.offset, 0);
    }

    fn decryption_secrets(&mut self) {
        let (kind, len) = (self.field(0), self.field(4));
        match self.body.get(8..).and_then(|d| d.get(..len as usize)) {
            Some(data) if self.body.len() >= 8 => self.out.secrets(kind, data),
            _ => {
                let space = self.body.len().saturating_sub(8);
                self.malformed(format!(
                    "pcapng: decryption secrets length {len} exceeds the {space} bytes of the block; skipped"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_follow_the_interface_resolution_and_offset() {
        let iface = |resolution, offset_secs| Interface {
            linktype: 1,
            snaplen: 0,
            resolution,
            offset_secs,
        };
        let us = iface(Resolution::Decimal(6), 0);
        assert_eq!(us.time(1_500_000_123).unix_nanos(), 1_500_000_123_000);
        let ns = iface(Resolution::Decimal(9), 10);
        assert_eq!(ns.time(7).unix_nanos(), 10_000_000_007);
        let ps = iface(Resolution::Decimal(12), 0);
        assert_eq!(ps.time(5_000_123_456).unix_nanos(), 5_000_123);
        let bin = iface(Resolution::Binary(10), 0);
        assert_eq!(bin.time(3 * 1024 + 512).unix_nanos(), 3_500_000_000);
        let max = iface(Resolution::Decimal(19), i64::MIN);
        let _ = max.time(u64::MAX); // must not overflow
    }

    #[test]
    fn options_stop_at_the_end_marker_or_when_they_do_not_fit() {
        let order = ByteOrder::Little;
        let mut opts = vec![9, 0, 1, 0, 9, 0, 0, 0];
        opts.extend([14, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        opts.extend([0, 0, 0, 0, 2, 0, 4, 0]);
        let mut seen = Vec::new();
        for_each_option(order, &opts, |c, v| seen.push((c, v.len())));
        assert_eq!(seen, [(9, 1), (14, 8)]);
        seen.clear();
        for_each_option(order, &[2, 0, 0xff, 0, 1, 2], |c, v| {
            seen.push((c, v.len()))
        });
        assert!(seen.is_empty(), "an option longer than the list is dropped");
    }

    #[test]
    fn block_lengths_are_checked() {
        assert!(bad_length(ENHANCED_PACKET, 8).is_some());
        assert!(bad_length(SECTION_HEADER, 24).is_some());
        assert!(bad_length(ENHANCED_PACKET, 30).is_some());
        assert!(bad_length(ENHANCED_PACKET, u32::MAX - 3).is_some());
        assert!(bad_length(ENHANCED_PACKET, 32).is_none());
    }
}
