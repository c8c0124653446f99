//! Classic libpcap files: a 24-byte file header, then 16-byte record headers each followed by the
//! captured bytes. Both byte orders, microsecond and nanosecond timestamps.
//!
//! Reference: draft-ietf-opsawg-pcap (the libpcap file format).

use crate::byte_order::ByteOrder;
use crate::capture::Emitter;
use crate::input::Decompressed;
use crate::resync::{skip_to_valid, Resync};
use crate::{Error, MAX_BLOCK_LEN};
use phonehome_model::{Timestamp, WarningCode};

/// Length of the pcap file header.
pub const FILE_HEADER_LEN: usize = 24;

/// Length of a pcap record header.
pub const RECORD_HEADER_LEN: usize = 16;

/// Largest record accepted when the file's snaplen is not larger (256 KiB, Wireshark's limit for
/// ordinary link types). A file whose snaplen is larger may have records up to its snaplen, capped
/// at [`MAX_BLOCK_LEN`].
pub const MAX_PCAP_RECORD_LEN: u32 = 262_144;

/// Most seconds between consecutive timestamps for a candidate record to be believed while
/// resynchronising after garbage (one day).
const RESYNC_MAX_TIME_JUMP: u32 = 86_400;

/// The fixed properties of one pcap file, from its header.
#[derive(Clone, Copy, Debug)]
struct FileHeader {
    order: ByteOrder,
    nanos: bool,
    linktype: u32,
    /// Largest record length accepted.
    max_len: u32,
}

/// One record header.
#[derive(Clone, Copy)]
struct RecordHeader {
    ts_sec: u32,
    ts_frac: u32,
    incl_len: u32,
    orig_len: u32,
}

impl FileHeader {
    fn parse(head: &[u8]) -> Result<Self, String> {
        if head.len() < FILE_HEADER_LEN {
            return Err(format!(
                "pcap: file header truncated: {} of {FILE_HEADER_LEN} bytes",
                head.len()
            ));
        }
        let (order, nanos) = match head.get(..4) {
            Some([0xd4, 0xc3, 0xb2, 0xa1]) => (ByteOrder::Little, false),
            Some([0xa1, 0xb2, 0xc3, 0xd4]) => (ByteOrder::Big, false),
            Some([0x4d, 0x3c, 0xb2, 0xa1]) => (ByteOrder::Little, true),
            Some([0xa1, 0xb2, 0x3c, 0x4d]) => (ByteOrder::Big, true),
            _ => return Err("pcap: bad magic number".to_owned()),
        };
        let field = |at| order.u32(head, at).unwrap_or(0);
        let snaplen = field(16);
        // The link-layer header type is the low 16 bits; the FCS length and flag bits above it
        // do not change how frames are read.
        let linktype = field(20) & 0xffff;
        let max_len = snaplen.clamp(MAX_PCAP_RECORD_LEN, MAX_BLOCK_LEN as u32);
        Ok(Self {
            order,
            nanos,
            linktype,
            max_len,
        })
    }

    fn record(&self, head: &[u8]) -> Option<RecordHeader> {
        let o = self.order;
        Some(RecordHeader {
            ts_sec: o.u32(head, 0)?,
            ts_frac: o.u32(head, 4)?,
            incl_len: o.u32(head, 8)?,
            orig_len: o.u32(head, 12)?,
        })
    }

    fn time(&self, rec: &RecordHeader) -> Timestamp {
        let frac_nanos = if self.nanos {
            i128::from(rec.ts_frac)
        } else {
            i128::from(rec.ts_frac) * 1000
        };
        Timestamp::from_unix_nanos(i128::from(rec.ts_sec) * 1_000_000_000 + frac_nanos)
    }

    /// Whether `rec` is believable as the next record while resynchronising.
    fn plausible(&self, rec: &RecordHeader, last_sec: Option<u32>) -> bool {
        let frac_limit = if self.nanos { 1_000_000_000 } else { 1_000_000 };
        rec.incl_len <= self.max_len
            && rec.orig_len >= rec.incl_len
            && rec.orig_len > 0
            && rec.orig_len <= MAX_BLOCK_LEN as u32
            && rec.ts_frac < frac_limit
            && last_sec.is_none_or(|last| rec.ts_sec.abs_diff(last) <= RESYNC_MAX_TIME_JUMP)
    }
}

/// Reads a pcap stream positioned at its file header.
pub(crate) fn read(input: &mut Decompressed<'_>, out: &mut Emitter<'_>) -> Result<(), Error> {
    let head = input
        .fill(FILE_HEADER_LEN)
        .map_err(|e| Error::io(out.name.clone(), e))?;
    let file =
        FileHeader::parse(head).map_err(|reason| Error::malformed(out.name.clone(), 0, reason))?;
    input.consume(FILE_HEADER_LEN);
    let mut last_sec = None;
    loop {
        let offset = input.offset();
        let head = match input.fill(RECORD_HEADER_LEN) {
            Ok(head) => head,
            Err(e) => {
                out.read_failed(input, &e);
                return Ok(());
            }
        };
        if head.is_empty() {
            return Ok(());
        }
        let Some(rec) = file.record(head) else {
            let reason = format!(
                "pcap: record header truncated: {} of {RECORD_HEADER_LEN} bytes",
                head.len()
            );
            out.warn(WarningCode::Truncated, offset, reason);
            input.consume(RECORD_HEADER_LEN);
            return Ok(());
        };
        if rec.incl_len > file.max_len {
            let problem = format!(
                "pcap: record length {} exceeds {}",
                rec.incl_len, file.max_len
            );
            let resync = resync(input, &file, last_sec);
            out.warn(
                WarningCode::Malformed,
                offset,
                format!("{problem}; {}", resync.outcome("record")),
            );
            match resync {
                Resync::Found(_) => continue,
                Resync::ReadFailed(e) => out.read_failed(input, &e),
                Resync::EndOfStream(_) | Resync::GaveUp(_) => {}
            }
            return Ok(());
        }
        // `incl_len <= max_len <= MAX_BLOCK_LEN`, so this cannot overflow.
        let need = RECORD_HEADER_LEN + rec.incl_len as usize;
        let record = match input.fill(need) {
            Ok(record) => record,
            Err(e) => {
                out.read_failed(input, &e);
                return Ok(());
            }
        };
        let Some(data) = record.get(RECORD_HEADER_LEN..need) else {
            // Either the file is cut short or the length is corrupt and points past the end: it
            // is the latter only if a valid record follows.
            let have = record.len();
            let resync = resync(input, &file, last_sec);
            if let Resync::Found(_) = resync {
                let reason = format!(
                    "pcap: record length {} runs past the end of the file; {}",
                    rec.incl_len,
                    resync.outcome("record")
                );
                out.warn(WarningCode::Malformed, offset, reason);
                continue;
            }
            let reason = format!("pcap: record truncated: {have} of {need} bytes");
            out.warn(WarningCode::Truncated, offset, reason);
            if let Resync::ReadFailed(e) = resync {
                out.read_failed(input, &e);
            }
            return Ok(());
        };
        out.frame(
            file.time(&rec),
            file.linktype,
            data,
            rec.orig_len,
            offset,
            0,
        );
        last_sec = Some(rec.ts_sec);
        input.consume(need);
    }
}

/// Skips to the next believable record that is followed by another believable record header or
/// by the end of the stream.
fn resync(input: &mut Decompressed<'_>, file: &FileHeader, last_sec: Option<u32>) -> Resync {
    skip_to_valid(
        input,
        RECORD_HEADER_LEN,
        |head| {
            file.record(head)
                .is_some_and(|rec| file.plausible(&rec, last_sec))
        },
        |input| confirm_record(input, file),
    )
}

/// Whether the (believable) record at the current offset is followed by another believable record
/// header or by the end of the stream. Buffers the whole record (cheap: see `input.rs`).
fn confirm_record(input: &mut Decompressed<'_>, file: &FileHeader) -> std::io::Result<bool> {
    let Some(rec) = file
        .record(input.data())
        .filter(|rec| file.plausible(rec, None))
    else {
        return Ok(false);
    };
    // `incl_len <= max_len <= MAX_BLOCK_LEN` (the record is believable), so this cannot overflow.
    let next = RECORD_HEADER_LEN + rec.incl_len as usize;
    let data = input.fill(next + RECORD_HEADER_LEN)?;
    if data.len() == next {
        return Ok(true);
    }
    Ok(data
        .get(next..)
        .and_then(|rest| file.record(rest))
        .is_some_and(|following| file.plausible(&following, Some(rec.ts_sec))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_gives_order_resolution_and_linktype() {
        let mut h = vec![0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        h.extend(0x0001_0000u32.to_le_bytes()); // snaplen 65536
        h.extend(0x1400_0001u32.to_le_bytes()); // Ethernet with FCS bits set
        let f = FileHeader::parse(&h).unwrap();
        assert!(f.nanos);
        assert_eq!(f.order, ByteOrder::Little);
        assert_eq!(f.linktype, 1);
        assert_eq!(
            f.max_len, MAX_PCAP_RECORD_LEN,
            "small snaplens still allow 256 KiB"
        );
        assert!(FileHeader::parse(&h[..23])
            .unwrap_err()
            .contains("23 of 24"));
    }
}
