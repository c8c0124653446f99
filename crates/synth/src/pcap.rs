//! Classic libpcap files (format 2.4), in either byte order, with micro- or nanosecond timestamps.
//!
//! Layout (draft-ietf-opsawg-pcap): a 24-byte file header (magic, version 2.4, reserved zones,
//! snap length, link type) then, per packet, a 16-byte record header (seconds, fraction, captured
//! length, original length) and the captured bytes.

use std::io::{self, Write};

/// Byte order of a capture file's fixed-width fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Little-endian (what x86 and ARM hosts write).
    Little,
    /// Big-endian (what SPARC, POWER and some embedded capture hosts write).
    Big,
}

impl ByteOrder {
    /// `v` as two bytes in this order.
    pub fn u16_bytes(self, v: u16) -> [u8; 2] {
        match self {
            Self::Little => v.to_le_bytes(),
            Self::Big => v.to_be_bytes(),
        }
    }

    /// `v` as four bytes in this order.
    pub fn u32_bytes(self, v: u32) -> [u8; 4] {
        match self {
            Self::Little => v.to_le_bytes(),
            Self::Big => v.to_be_bytes(),
        }
    }

    /// `v` as eight bytes in this order.
    pub fn u64_bytes(self, v: u64) -> [u8; 8] {
        match self {
            Self::Little => v.to_le_bytes(),
            Self::Big => v.to_be_bytes(),
        }
    }
}

/// Resolution of the timestamps in a pcap file; it selects the magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Microseconds (magic `0xa1b2c3d4`).
    Micro,
    /// Nanoseconds (magic `0xa1b23c4d`).
    Nano,
}

/// Magic number of a microsecond-resolution pcap file.
pub const MAGIC_MICRO: u32 = 0xa1b2_c3d4;
/// Magic number of a nanosecond-resolution pcap file.
pub const MAGIC_NANO: u32 = 0xa1b2_3c4d;
/// Length of the pcap file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a pcap packet record header.
pub const RECORD_HEADER_LEN: usize = 16;
/// Snap length written when the caller does not choose one (what tcpdump uses).
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// How to write a pcap file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcapOptions {
    /// Byte order of the headers.
    pub byte_order: ByteOrder,
    /// Timestamp resolution.
    pub resolution: Resolution,
    /// Link type of every packet (see [`crate::packet::linktype`]).
    pub linktype: u32,
    /// Snap length: packets are cut to this many bytes.
    pub snaplen: u32,
}

impl Default for PcapOptions {
    fn default() -> Self {
        Self {
            byte_order: ByteOrder::Little,
            resolution: Resolution::Micro,
            linktype: crate::packet::linktype::ETHERNET,
            snaplen: DEFAULT_SNAPLEN,
        }
    }
}

/// Writes a pcap file to `W`: the file header on creation, then one record per
/// [`PcapWriter::write_packet`].
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: W,
    options: PcapOptions,
    bytes_written: u64,
    packets: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header and returns the writer.
    pub fn new(mut inner: W, options: PcapOptions) -> io::Result<Self> {
        let bo = options.byte_order;
        let magic = match options.resolution {
            Resolution::Micro => MAGIC_MICRO,
            Resolution::Nano => MAGIC_NANO,
        };
        let mut header = [0u8; FILE_HEADER_LEN];
        header[0..4].copy_from_slice(&bo.u32_bytes(magic));
        header[4..6].copy_from_slice(&bo.u16_bytes(2));
        header[6..8].copy_from_slice(&bo.u16_bytes(4));
        // thiszone and sigfigs stay 0.
        header[16..20].copy_from_slice(&bo.u32_bytes(options.snaplen));
        header[20..24].copy_from_slice(&bo.u32_bytes(options.linktype));
        inner.write_all(&header)?;
        Ok(Self {
            inner,
            options,
            bytes_written: FILE_HEADER_LEN as u64,
            packets: 0,
        })
    }

    /// Writes one packet record. `ts_nanos` is nanoseconds since the Unix epoch (clamped to what
    /// 32-bit seconds can hold); `data` is cut to the snap length; `orig_len` is the length the
    /// packet had on the wire (raised to the captured length if smaller).
    pub fn write_packet(&mut self, ts_nanos: i128, data: &[u8], orig_len: u32) -> io::Result<()> {
        let snap = usize::try_from(self.options.snaplen).unwrap_or(usize::MAX);
        let data = data.get(..snap).unwrap_or(data);
        let incl_len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet longer than 4 GiB"))?;
        let (secs, frac) = split_timestamp(ts_nanos, self.options.resolution);
        let bo = self.options.byte_order;
        let mut rec = [0u8; RECORD_HEADER_LEN];
        rec[0..4].copy_from_slice(&bo.u32_bytes(secs));
        rec[4..8].copy_from_slice(&bo.u32_bytes(frac));
        rec[8..12].copy_from_slice(&bo.u32_bytes(incl_len));
        rec[12..16].copy_from_slice(&bo.u32_bytes(orig_len.max(incl_len)));
        self.inner.write_all(&rec)?;
        self.inner.write_all(data)?;
        self.bytes_written += (RECORD_HEADER_LEN + data.len()) as u64;
        self.packets += 1;
        Ok(())
    }

    /// Bytes written so far, file header included.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The options the file was written with.
    pub fn options(&self) -> PcapOptions {
        self.options
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Splits nanoseconds since the epoch into 32-bit seconds and a micro/nanosecond fraction, clamping
/// instants outside 1970..2106.
fn split_timestamp(ts_nanos: i128, resolution: Resolution) -> (u32, u32) {
    let max = i128::from(u32::MAX) * 1_000_000_000 + 999_999_999;
    let ts = ts_nanos.clamp(0, max);
    let secs = u32::try_from(ts / 1_000_000_000).unwrap_or(u32::MAX);
    let nanos = u32::try_from(ts % 1_000_000_000).unwrap_or(0);
    match resolution {
        Resolution::Micro => (secs, nanos / 1000),
        Resolution::Nano => (secs, nanos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_big_endian_nano_header_and_record() {
        let opts = PcapOptions {
            byte_order: ByteOrder::Big,
            resolution: Resolution::Nano,
            linktype: 101,
            snaplen: 4,
        };
        let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
        w.write_packet(1_500_000_000_123_456_789, &[1, 2, 3, 4, 5, 6], 6)
            .unwrap();
        let out = w.into_inner().unwrap();
        assert_eq!(&out[0..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
        assert_eq!(&out[4..8], &[0, 2, 0, 4]);
        assert_eq!(&out[20..24], &[0, 0, 0, 101]);
        assert_eq!(&out[24..28], &1_500_000_000u32.to_be_bytes());
        assert_eq!(&out[28..32], &123_456_789u32.to_be_bytes());
        assert_eq!(&out[32..36], &4u32.to_be_bytes(), "cut to the snap length");
        assert_eq!(&out[36..40], &6u32.to_be_bytes());
        assert_eq!(&out[40..], &[1, 2, 3, 4]);
    }

    #[test]
    fn clamps_out_of_range_timestamps() {
        assert_eq!(split_timestamp(-5, Resolution::Micro), (0, 0));
        assert_eq!(
            split_timestamp(i128::MAX, Resolution::Nano),
            (u32::MAX, 999_999_999)
        );
        assert_eq!(
            split_timestamp(1_999_999_999, Resolution::Micro),
            (1, 999_999)
        );
    }
}
