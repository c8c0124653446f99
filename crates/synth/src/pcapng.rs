//! pcapng files (draft-ietf-opsawg-pcapng): sections, interfaces, enhanced and simple packet blocks,
//! and decryption secrets.
//!
//! Every block is `type | total length | body | options | total length`, padded to 32 bits. A file
//! may hold several sections, each starting with a Section Header Block that fixes its byte order;
//! interface ids restart at 0 in each section.

use crate::pcap::ByteOrder;
use std::io::{self, Write};

/// Section Header Block type.
pub const BLOCK_SECTION_HEADER: u32 = 0x0a0d_0d0a;
/// Interface Description Block type.
pub const BLOCK_INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
/// Simple Packet Block type.
pub const BLOCK_SIMPLE_PACKET: u32 = 0x0000_0003;
/// Enhanced Packet Block type.
pub const BLOCK_ENHANCED_PACKET: u32 = 0x0000_0006;
/// Decryption Secrets Block type.
pub const BLOCK_DECRYPTION_SECRETS: u32 = 0x0000_000a;
/// Byte-order magic of the Section Header Block.
pub const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// Secrets type of an NSS/SSLKEYLOGFILE TLS key log in a Decryption Secrets Block.
pub const SECRETS_TLS_KEY_LOG: u32 = 0x544c_534b;

/// `opt_endofopt`.
const OPT_END: u16 = 0;
/// `opt_comment`.
const OPT_COMMENT: u16 = 1;
/// `shb_userappl`.
const OPT_SHB_USERAPPL: u16 = 4;
/// `if_name`.
const OPT_IF_NAME: u16 = 2;
/// `if_tsresol`.
const OPT_IF_TSRESOL: u16 = 9;

/// Largest option value this writer emits (an option length is 16 bits).
pub const MAX_OPTION_LEN: usize = u16::MAX as usize;

/// Timestamp resolution of an interface (`if_tsresol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TsResolution {
    /// Units of 10^-n seconds (`if_tsresol` = n). 6 is the default when the option is absent.
    Decimal(u8),
    /// Units of 2^-n seconds (`if_tsresol` = 0x80 | n).
    Binary(u8),
}

impl TsResolution {
    /// The `if_tsresol` option byte.
    pub fn option_byte(self) -> u8 {
        match self {
            Self::Decimal(n) => n & 0x7f,
            Self::Binary(n) => 0x80 | (n & 0x7f),
        }
    }

    /// Converts nanoseconds since the epoch to this resolution's 64-bit tick count (clamped to
    /// 0..=u64::MAX; exponents beyond what 128 bits can scale saturate).
    pub fn ticks(self, ts_nanos: i128) -> u64 {
        let ts = ts_nanos.max(0);
        let ticks: Option<i128> = match self {
            Self::Decimal(n) => {
                let n = u32::from(n & 0x7f);
                if n <= 9 {
                    10i128.checked_pow(9 - n).map(|d| ts / d)
                } else {
                    10i128.checked_pow(n - 9).and_then(|m| ts.checked_mul(m))
                }
            }
            Self::Binary(n) => {
                let n = u32::from(n & 0x7f);
                1i128
                    .checked_shl(n)
                    .and_then(|m| ts.checked_mul(m))
                    .map(|v| v / 1_000_000_000)
            }
        };
        ticks.map_or(u64::MAX, |t| u64::try_from(t).unwrap_or(u64::MAX))
    }
}

/// What an Interface Description Block says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Link type of the interface's packets (see [`crate::packet::linktype`]).
    pub linktype: u16,
    /// Snap length (0 = no limit).
    pub snaplen: u32,
    /// `if_tsresol`; `None` omits the option (readers then assume microseconds).
    pub tsresol: Option<TsResolution>,
    /// `if_name`, when set.
    pub name: Option<String>,
    /// `opt_comment`, when set.
    pub comment: Option<String>,
}

impl Interface {
    /// An interface with this link type, snap length 262144 and no options.
    pub fn new(linktype: u16) -> Self {
        Self {
            linktype,
            snaplen: crate::pcap::DEFAULT_SNAPLEN,
            tsresol: None,
            name: None,
            comment: None,
        }
    }

    fn resolution(&self) -> TsResolution {
        self.tsresol.unwrap_or(TsResolution::Decimal(6))
    }
}

/// Writes a pcapng file: a Section Header Block on creation, then interfaces and packets; more
/// sections with [`PcapngWriter::start_section`].
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    inner: W,
    byte_order: ByteOrder,
    interfaces: Vec<Interface>,
    sections: u32,
    bytes_written: u64,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes a Section Header Block in `byte_order` (with an optional `opt_comment` and
    /// `shb_userappl` "phonehome-synth") and returns the writer.
    pub fn new(inner: W, byte_order: ByteOrder, comment: Option<&str>) -> io::Result<Self> {
        let mut w = Self {
            inner,
            byte_order,
            interfaces: Vec::new(),
            sections: 0,
            bytes_written: 0,
        };
        w.start_section(byte_order, comment)?;
        Ok(w)
    }

    /// Starts a new section (a new Section Header Block, possibly in another byte order); the
    /// interfaces of the previous section no longer apply.
    pub fn start_section(
        &mut self,
        byte_order: ByteOrder,
        comment: Option<&str>,
    ) -> io::Result<()> {
        self.byte_order = byte_order;
        self.interfaces.clear();
        let bo = byte_order;
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&bo.u32_bytes(BYTE_ORDER_MAGIC));
        body.extend_from_slice(&bo.u16_bytes(1));
        body.extend_from_slice(&bo.u16_bytes(0));
        body.extend_from_slice(&bo.u64_bytes(u64::MAX)); // section length: unknown
        let mut options = Vec::new();
        if let Some(c) = comment {
            push_option(&mut options, bo, OPT_COMMENT, c.as_bytes())?;
        }
        push_option(&mut options, bo, OPT_SHB_USERAPPL, b"phonehome-synth")?;
        self.write_block(BLOCK_SECTION_HEADER, &body, &[], &options)?;
        self.sections += 1;
        Ok(())
    }

    /// Writes an Interface Description Block and returns the new interface's id in this section.
    pub fn add_interface(&mut self, interface: Interface) -> io::Result<u32> {
        let bo = self.byte_order;
        let mut body = Vec::with_capacity(8);
        body.extend_from_slice(&bo.u16_bytes(interface.linktype));
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&bo.u32_bytes(interface.snaplen));
        let mut options = Vec::new();
        if let Some(name) = &interface.name {
            push_option(&mut options, bo, OPT_IF_NAME, name.as_bytes())?;
        }
        if let Some(res) = interface.tsresol {
            push_option(&mut options, bo, OPT_IF_TSRESOL, &[res.option_byte()])?;
        }
        if let Some(c) = &interface.comment {
            push_option(&mut options, bo, OPT_COMMENT, c.as_bytes())?;
        }
        self.write_block(BLOCK_INTERFACE_DESCRIPTION, &body, &[], &options)?;
        let id = u32::try_from(self.interfaces.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too many interfaces"))?;
        self.interfaces.push(interface);
        Ok(id)
    }

    /// Writes an Enhanced Packet Block for interface `interface_id`: the timestamp in that
    /// interface's resolution, `data` cut to its snap length, and an optional comment.
    pub fn write_packet(
        &mut self,
        interface_id: u32,
        ts_nanos: i128,
        data: &[u8],
        orig_len: u32,
        comment: Option<&str>,
    ) -> io::Result<()> {
        let iface = usize::try_from(interface_id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "unknown interface id"))?;
        let data = cut_to_snaplen(data, iface.snaplen);
        let ticks = iface.resolution().ticks(ts_nanos);
        let cap_len = len_u32(data.len())?;
        let bo = self.byte_order;
        let mut body = [0u8; 20];
        body[0..4].copy_from_slice(&bo.u32_bytes(interface_id));
        body[4..8].copy_from_slice(&bo.u32_bytes((ticks >> 32) as u32));
        body[8..12].copy_from_slice(&bo.u32_bytes(ticks as u32));
        body[12..16].copy_from_slice(&bo.u32_bytes(cap_len));
        body[16..20].copy_from_slice(&bo.u32_bytes(orig_len.max(cap_len)));
        let mut options = Vec::new();
        if let Some(c) = comment {
            push_option(&mut options, bo, OPT_COMMENT, c.as_bytes())?;
        }
        self.write_block(BLOCK_ENHANCED_PACKET, &body, data, &options)
    }

    /// Writes a Simple Packet Block (no timestamp, implicitly interface 0, which must exist);
    /// `data` is cut to interface 0's snap length.
    pub fn write_simple_packet(&mut self, data: &[u8], orig_len: u32) -> io::Result<()> {
        let iface = self.interfaces.first().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "simple packet before any interface",
            )
        })?;
        let data = cut_to_snaplen(data, iface.snaplen);
        let cap_len = len_u32(data.len())?;
        let body = self.byte_order.u32_bytes(orig_len.max(cap_len));
        self.write_block(BLOCK_SIMPLE_PACKET, &body, data, &[])
    }

    /// Writes a Decryption Secrets Block of `secrets_type` (e.g. [`SECRETS_TLS_KEY_LOG`]).
    pub fn write_decryption_secrets(
        &mut self,
        secrets_type: u32,
        secrets: &[u8],
    ) -> io::Result<()> {
        let bo = self.byte_order;
        let mut body = [0u8; 8];
        body[0..4].copy_from_slice(&bo.u32_bytes(secrets_type));
        body[4..8].copy_from_slice(&bo.u32_bytes(len_u32(secrets.len())?));
        self.write_block(BLOCK_DECRYPTION_SECRETS, &body, secrets, &[])
    }

    /// Writes a TLS key log (SSLKEYLOGFILE lines) as a Decryption Secrets Block.
    pub fn write_tls_key_log(&mut self, key_log: &[u8]) -> io::Result<()> {
        self.write_decryption_secrets(SECRETS_TLS_KEY_LOG, key_log)
    }

    /// Sections started so far.
    pub fn sections(&self) -> u32 {
        self.sections
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// Writes `type | len | fixed | data (padded) | options (+ end) | len`.
    fn write_block(
        &mut self,
        block_type: u32,
        fixed: &[u8],
        data: &[u8],
        options: &[u8],
    ) -> io::Result<()> {
        let pad = padding(data.len());
        let opt_len = if options.is_empty() {
            0
        } else {
            options.len() + 4
        };
        let total = 12usize
            .checked_add(fixed.len())
            .and_then(|t| t.checked_add(data.len()))
            .and_then(|t| t.checked_add(pad))
            .and_then(|t| t.checked_add(opt_len))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "block too long"))?;
        let total32 = len_u32(total)?;
        let bo = self.byte_order;
        self.inner.write_all(&bo.u32_bytes(block_type))?;
        self.inner.write_all(&bo.u32_bytes(total32))?;
        self.inner.write_all(fixed)?;
        self.inner.write_all(data)?;
        self.inner.write_all(&[0u8; 3][..pad])?;
        if !options.is_empty() {
            self.inner.write_all(options)?;
            self.inner.write_all(&bo.u16_bytes(OPT_END))?;
            self.inner.write_all(&[0, 0])?;
        }
        self.inner.write_all(&bo.u32_bytes(total32))?;
        self.bytes_written += total as u64;
        Ok(())
    }
}

/// Appends one option (`code | length | value | padding`).
fn push_option(out: &mut Vec<u8>, bo: ByteOrder, code: u16, value: &[u8]) -> io::Result<()> {
    let len = u16::try_from(value.len()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "option value longer than 65535 bytes",
        )
    })?;
    out.extend_from_slice(&bo.u16_bytes(code));
    out.extend_from_slice(&bo.u16_bytes(len));
    out.extend_from_slice(value);
    out.extend_from_slice(&[0u8; 3][..padding(value.len())]);
    Ok(())
}

/// Bytes needed to pad `len` to a multiple of 4.
fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

fn cut_to_snaplen(data: &[u8], snaplen: u32) -> &[u8] {
    match usize::try_from(snaplen) {
        Ok(0) | Err(_) => data,
        Ok(snap) => data.get(..snap).unwrap_or(data),
    }
}

fn len_u32(len: usize) -> io::Result<u32> {
    u32::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "length exceeds 32 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_timestamps_to_each_resolution() {
        let ts = 1_795_478_400_123_456_789i128;
        assert_eq!(TsResolution::Decimal(6).ticks(ts), 1_795_478_400_123_456);
        assert_eq!(
            TsResolution::Decimal(9).ticks(ts),
            1_795_478_400_123_456_789
        );
        assert_eq!(TsResolution::Decimal(3).ticks(ts), 1_795_478_400_123);
        assert_eq!(TsResolution::Binary(0).ticks(ts), 1_795_478_400);
        assert_eq!(TsResolution::Binary(10).ticks(1_000_000_000), 1024);
        assert_eq!(TsResolution::Decimal(127).ticks(ts), u64::MAX, "saturates");
        assert_eq!(TsResolution::Binary(127).ticks(ts), u64::MAX, "saturates");
        assert_eq!(TsResolution::Decimal(6).ticks(-1), 0);
        assert_eq!(TsResolution::Binary(3).option_byte(), 0x83);
    }

    #[test]
    fn blocks_are_padded_and_framed() {
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little, None).unwrap();
        let id = w.add_interface(Interface::new(1)).unwrap();
        w.write_packet(id, 0, &[1, 2, 3, 4, 5], 5, None).unwrap();
        let written = w.bytes_written();
        let out = w.into_inner().unwrap();
        assert_eq!(out.len() as u64, written);
        assert_eq!(out.len() % 4, 0);
        assert_eq!(&out[0..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(&out[8..12], &[0x4d, 0x3c, 0x2b, 0x1a]);
    }

    #[test]
    fn rejects_unknown_interfaces_and_huge_options() {
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Big, None).unwrap();
        assert!(w.write_packet(0, 0, &[], 0, None).is_err());
        assert!(w.write_simple_packet(&[], 0).is_err());
        let long = "x".repeat(MAX_OPTION_LEN + 1);
        assert!(w.write_packet(0, 0, &[], 0, Some(&long)).is_err());
        let mut iface = Interface::new(1);
        iface.comment = Some(long);
        assert!(w.add_interface(iface).is_err());
    }
}
