//! TCP header (RFC 9293 §3.1) and sequence-number arithmetic.

use crate::{be_u16, be_u32, check_len, Layer, WireError};
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Sub};

/// A TCP segment: header fields and the payload after the options (borrowed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number of the first payload byte (of the SYN itself when SYN is set).
    pub seq: u32,
    /// Acknowledgment number (meaningful when ACK is set).
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Receive window (unscaled).
    pub window: u16,
    /// Payload after the header and options.
    pub payload: &'a [u8],
}

impl TcpSegment<'_> {
    /// The sequence number as a [`SeqNumber`].
    pub fn seq_number(&self) -> SeqNumber {
        SeqNumber(self.seq)
    }
}

/// Reads a TCP header: rejects a data offset below 5 or beyond the captured bytes.
pub(crate) fn parse_tcp(data: &[u8]) -> Result<TcpSegment<'_>, WireError> {
    check_len(Layer::Tcp, data, 20)?;
    let offset_byte = data.get(12).copied().unwrap_or_default();
    let data_offset = offset_byte >> 4;
    if data_offset < 5 {
        return Err(WireError::BadTcpDataOffset { data_offset });
    }
    let header_length = usize::from(data_offset) * 4;
    check_len(Layer::Tcp, data, header_length)?;
    let flags =
        (u16::from(offset_byte & 0x01) << 8) | u16::from(data.get(13).copied().unwrap_or_default());
    Ok(TcpSegment {
        src_port: be_u16(data, 0).unwrap_or_default(),
        dst_port: be_u16(data, 2).unwrap_or_default(),
        seq: be_u32(data, 4).unwrap_or_default(),
        ack: be_u32(data, 8).unwrap_or_default(),
        flags: TcpFlags(flags),
        window: be_u16(data, 14).unwrap_or_default(),
        payload: data.get(header_length..).unwrap_or_default(),
    })
}

/// TCP control bits (the 9 low bits of bytes 12–13 of the header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: u16 = 0x001;
    /// Synchronise sequence numbers.
    pub const SYN: u16 = 0x002;
    /// Reset the connection.
    pub const RST: u16 = 0x004;
    /// Push function.
    pub const PSH: u16 = 0x008;
    /// Acknowledgment field is significant.
    pub const ACK: u16 = 0x010;
    /// Urgent pointer field is significant.
    pub const URG: u16 = 0x020;
    /// ECN echo.
    pub const ECE: u16 = 0x040;
    /// Congestion window reduced.
    pub const CWR: u16 = 0x080;
    /// ECN nonce (historic, RFC 3540).
    pub const NS: u16 = 0x100;

    /// Whether every bit of `bits` is set.
    pub fn contains(self, bits: u16) -> bool {
        self.0 & bits == bits
    }
    /// FIN is set.
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// SYN is set.
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// RST is set.
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// PSH is set.
    pub fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// ACK is set.
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
}

impl fmt::Display for TcpFlags {
    /// `SYN|ACK`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(u16, &str); 9] = [
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
            (TcpFlags::NS, "NS"),
        ];
        let mut first = true;
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// A TCP sequence number: arithmetic wraps modulo 2^32 and comparison is by signed distance
/// (RFC 9293 §3.4, as in smoltcp's `SeqNumber`), so `SeqNumber(1) > SeqNumber(u32::MAX)`.
/// Two numbers exactly 2^31 apart compare as `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// Signed distance from `earlier` to `self` (positive when `self` is after `earlier`).
    pub fn distance_from(self, earlier: SeqNumber) -> i32 {
        // Reinterpreting the wrapped difference as signed is the definition of the distance.
        self.0.wrapping_sub(earlier.0) as i32
    }
}

impl Add<u32> for SeqNumber {
    type Output = SeqNumber;
    /// Wrapping addition.
    fn add(self, rhs: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(rhs))
    }
}

impl Sub<u32> for SeqNumber {
    type Output = SeqNumber;
    /// Wrapping subtraction.
    fn sub(self, rhs: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(rhs))
    }
}

impl Sub<SeqNumber> for SeqNumber {
    type Output = i32;
    /// Signed distance, see [`SeqNumber::distance_from`].
    fn sub(self, rhs: SeqNumber) -> i32 {
        self.distance_from(rhs)
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.distance_from(*other) {
            i32::MIN => None,
            d => Some(d.cmp(&0)),
        }
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(data_offset: u8, flags: u8) -> Vec<u8> {
        let mut h = vec![0x9C, 0x40, 0x01, 0xBB]; // 40000 → 443
        h.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
        h.extend_from_slice(&7u32.to_be_bytes());
        h.extend_from_slice(&[data_offset << 4, flags, 0x01, 0x00, 0, 0, 0, 0]);
        h
    }

    #[test]
    fn parses_fields_and_skips_options() {
        let mut p = header(6, 0x12);
        p.extend_from_slice(&[2, 4, 5, 0xB4]); // MSS option
        p.extend_from_slice(b"hi");
        let t = parse_tcp(&p).unwrap();
        assert_eq!(
            (t.src_port, t.dst_port, t.seq, t.ack, t.window),
            (40000, 443, 0xFFFF_FFF0, 7, 256)
        );
        assert!(t.flags.syn() && t.flags.ack() && !t.flags.fin() && !t.flags.rst());
        assert_eq!(t.flags.to_string(), "SYN|ACK");
        assert_eq!(t.payload, b"hi");
        assert_eq!(TcpFlags::default().to_string(), "none");
    }

    #[test]
    fn rejects_bad_data_offsets() {
        assert_eq!(
            parse_tcp(&header(4, 0)),
            Err(WireError::BadTcpDataOffset { data_offset: 4 })
        );
        assert_eq!(
            parse_tcp(&header(15, 0)),
            Err(WireError::Truncated {
                layer: Layer::Tcp,
                needed: 60,
                available: 20
            })
        );
        assert_eq!(
            parse_tcp(&header(5, 0)[..13]),
            Err(WireError::Truncated {
                layer: Layer::Tcp,
                needed: 20,
                available: 13
            })
        );
    }

    #[test]
    fn sequence_numbers_wrap() {
        let near_end = SeqNumber(u32::MAX - 9);
        let after = near_end + 20;
        assert_eq!(after, SeqNumber(10));
        assert!(after > near_end);
        assert!(near_end < after);
        assert_eq!(after - near_end, 20);
        assert_eq!(near_end - after, -20);
        assert_eq!(after - 20, near_end);
        assert_eq!(SeqNumber(0).partial_cmp(&SeqNumber(1 << 31)), None);
        assert_eq!(SeqNumber(5).to_string(), "5");
    }
}
