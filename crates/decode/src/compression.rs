//! Compressed data found inside values, recognised by its magic bytes and undone within the
//! message's remaining byte budget (the codecs themselves live in `phonehome-compress`).

use phonehome_compress::{decompress, sniff, Codec, DecompressLimits, CHUNK_SIZE};
use std::io::Read;

/// The magic number of an LZ4 frame (the LZ4 Frame Format Description, v1.6.x).
pub(crate) const LZ4_FRAME_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];

/// A compression format recognised by its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Magic {
    /// gzip, zlib or zstd, decoded by `phonehome-compress`.
    Codec(Codec),
    /// An LZ4 frame (or several), decoded with `lz4_flex`'s safe decoder.
    Lz4,
}

/// The outcome of decompressing a value.
#[derive(Debug)]
pub(crate) struct Inflated {
    /// The format, named as a chain element (`gzip`, `zlib`, `zstd`, `lz4`).
    pub(crate) step: &'static str,
    /// The output; `None` when the stream was corrupt or truncated (then nothing is kept).
    pub(crate) data: Option<Vec<u8>>,
    /// The cap that stopped decompression early, in words; the output up to the cap is kept.
    pub(crate) limited: Option<String>,
    /// Why the decoder refused the data outright because of a cap (a zstd window too large).
    pub(crate) refused: Option<String>,
}

/// The compression format `data` starts with, if any: gzip, zlib, zstd (see
/// [`phonehome_compress::sniff`]) or an LZ4 frame (`04 22 4D 18`). Brotli and raw deflate have no
/// magic.
pub(crate) fn magic_of(data: &[u8]) -> Option<Magic> {
    if data.starts_with(&LZ4_FRAME_MAGIC) {
        return Some(Magic::Lz4);
    }
    sniff(data).map(Magic::Codec)
}

/// Decompresses `data`, keeping at most `max_output` bytes and `max_ratio` × its length (a ratio
/// of 0 disables that cap).
pub(crate) fn inflate(
    magic: Magic,
    data: &[u8],
    max_output: usize,
    max_ratio: usize,
    zstd_max_window_log: u32,
) -> Inflated {
    match magic {
        Magic::Codec(codec) => {
            inflate_codec(codec, data, max_output, max_ratio, zstd_max_window_log)
        }
        Magic::Lz4 => inflate_lz4(data, max_output, max_ratio),
    }
}

/// gzip, zlib or zstd through `phonehome-compress`.
fn inflate_codec(
    codec: Codec,
    data: &[u8],
    max_output: usize,
    max_ratio: usize,
    zstd_max_window_log: u32,
) -> Inflated {
    let limits = DecompressLimits {
        max_output,
        max_ratio,
        zstd_max_window_log,
    };
    let out = decompress(codec, data, &limits);
    let keep =
        out.complete || (out.limited.is_some() && out.error.is_none() && !out.data.is_empty());
    // A zstd frame asking for a window above the cap is refused by the decoder before any output:
    // that is a cap, not corrupt data, and is said so.
    let refused = out.error.filter(|e| {
        codec == Codec::Zstd
            && out.data.is_empty()
            && (e.contains("memory") || e.contains("window"))
    });
    Inflated {
        step: codec.name(),
        data: keep.then_some(out.data),
        limited: out.limited,
        refused,
    }
}

/// The magic numbers of skippable frames, which may sit between LZ4 frames.
const LZ4_SKIPPABLE_MAGIC: std::ops::RangeInclusive<u32> = 0x184D_2A50..=0x184D_2A5F;

/// Reads a little-endian u32 at `*pos`, advancing it.
fn read_u32_le(data: &[u8], pos: &mut usize) -> Option<u32> {
    let end = pos.checked_add(4)?;
    let bytes: [u8; 4] = data.get(*pos..end)?.try_into().ok()?;
    *pos = end;
    Some(u32::from_le_bytes(bytes))
}

/// Advances `*pos` by `len` if that stays within `data`.
fn skip(data: &[u8], pos: &mut usize, len: usize) -> Option<()> {
    let end = pos.checked_add(len)?;
    (end <= data.len()).then(|| *pos = end)
}

/// True when `data` is exactly a sequence of complete LZ4 frames (version 01 frame descriptors,
/// blocks up to the end mark, optional checksums) and skippable frames, starting with an LZ4 frame.
/// Checked before decoding because `lz4_flex` takes a stream cut at a block boundary, or followed
/// by a few stray bytes, for a clean end.
fn is_whole_lz4(data: &[u8]) -> bool {
    let mut consumed = 0usize;
    while consumed < data.len() {
        match lz4_frame_end(data, consumed) {
            Some(end) => consumed = end,
            None => return false,
        }
    }
    data.starts_with(&LZ4_FRAME_MAGIC)
}

/// Where the LZ4 or skippable frame starting at `start` ends, if it is complete.
fn lz4_frame_end(data: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    let magic = read_u32_le(data, &mut pos)?;
    if LZ4_SKIPPABLE_MAGIC.contains(&magic) {
        let size = usize::try_from(read_u32_le(data, &mut pos)?).ok()?;
        skip(data, &mut pos, size)?;
        return Some(pos);
    }
    if magic.to_le_bytes() != LZ4_FRAME_MAGIC {
        return None;
    }
    let flags = *data.get(pos)?;
    if flags >> 6 != 0b01 {
        return None;
    }
    let block_checksums = flags & 0x10 != 0;
    let mut descriptor = 3; // FLG, BD, HC
    if flags & 0x08 != 0 {
        descriptor += 8; // content size
    }
    if flags & 0x01 != 0 {
        descriptor += 4; // dictionary id
    }
    skip(data, &mut pos, descriptor)?;
    loop {
        let size = read_u32_le(data, &mut pos)?;
        if size == 0 {
            break;
        }
        let len = usize::try_from(size & 0x7fff_ffff).ok()?;
        skip(data, &mut pos, len)?;
        if block_checksums {
            skip(data, &mut pos, 4)?;
        }
    }
    if flags & 0x04 != 0 {
        skip(data, &mut pos, 4)?; // content checksum
    }
    Some(pos)
}

/// LZ4 frames, read in chunks of [`CHUNK_SIZE`] bytes until the input ends or the cap is reached.
/// The frames must cover the input exactly (skippable frames, which are skipped, allowed); block and
/// content checksums are verified when present. `lz4_flex` holds one block (at most 4 MiB, as the
/// frame header says) at a time.
fn inflate_lz4(data: &[u8], max_output: usize, max_ratio: usize) -> Inflated {
    if !is_whole_lz4(data) {
        return Inflated {
            step: "lz4",
            data: None,
            limited: None,
            refused: None,
        };
    }
    let ratio_cap = match max_ratio {
        0 => usize::MAX,
        r => data.len().saturating_mul(r),
    };
    let (cap, cap_reason) = if ratio_cap < max_output {
        (
            ratio_cap,
            format!(
                "expansion ratio cap reached: {} input bytes may give at most {ratio_cap} bytes \
                 (max_ratio {max_ratio})",
                data.len()
            ),
        )
    } else {
        (
            max_output,
            format!("output cap reached: max_output {max_output} bytes"),
        )
    };
    let mut chunk = vec![0u8; CHUNK_SIZE];
    let mut out = Vec::new();
    let mut start = 0usize;
    let (complete, limited) = 'frames: loop {
        let Some(end) = lz4_frame_end(data, start) else {
            break (start == data.len(), None);
        };
        let frame = data.get(start..end).unwrap_or_default();
        start = end;
        if !frame.starts_with(&LZ4_FRAME_MAGIC) {
            continue; // a skippable frame
        }
        // Each frame is decoded alone, so the decoder sees exactly one whole frame.
        let mut decoder = lz4_flex::frame::FrameDecoder::new(frame);
        loop {
            match decoder.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    let room = cap.saturating_sub(out.len());
                    let got = chunk.get(..n).unwrap_or_default();
                    let kept = got.get(..room).unwrap_or(got);
                    // Grow at most to the cap (Vec's own doubling could allocate twice the cap).
                    let needed = out.len().saturating_add(kept.len());
                    if needed > out.capacity() {
                        let target = out.capacity().saturating_mul(2).max(needed).min(cap);
                        out.reserve_exact(target.saturating_sub(out.len()));
                    }
                    out.extend_from_slice(kept);
                    if got.len() > room {
                        break 'frames (false, Some(cap_reason));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break 'frames (false, None),
            }
        }
    };
    let keep = complete || (limited.is_some() && !out.is_empty());
    Inflated {
        step: "lz4",
        data: keep.then_some(out),
        limited,
        refused: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_zlib_zstd() {
        let gz = gzip(b"imei=356938035643809");
        assert_eq!(magic_of(&gz), Some(Magic::Codec(Codec::Gzip)));
        let out = inflate_codec(Codec::Gzip, &gz, 1 << 20, 1000, crate::MAX_ZSTD_WINDOW_LOG);
        assert_eq!(out.step, "gzip");
        assert_eq!(out.data.unwrap(), b"imei=356938035643809");

        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"hello zlib").unwrap();
        let z = z.finish().unwrap();
        assert_eq!(magic_of(&z), Some(Magic::Codec(Codec::Zlib)));
        assert_eq!(
            inflate_codec(Codec::Zlib, &z, 1 << 20, 1000, crate::MAX_ZSTD_WINDOW_LOG)
                .data
                .unwrap(),
            b"hello zlib"
        );

        let zs = zstd::encode_all(&b"hello zstd"[..], 3).unwrap();
        assert_eq!(magic_of(&zs), Some(Magic::Codec(Codec::Zstd)));
        assert_eq!(
            inflate_codec(Codec::Zstd, &zs, 1 << 20, 1000, crate::MAX_ZSTD_WINDOW_LOG)
                .data
                .unwrap(),
            b"hello zstd"
        );
    }

    #[test]
    fn truncated_and_corrupt_are_dropped() {
        let gz = gzip(&[b'a'; 5000]);
        let out = inflate_codec(
            Codec::Gzip,
            &gz[..gz.len() / 2],
            1 << 20,
            1000,
            crate::MAX_ZSTD_WINDOW_LOG,
        );
        assert!(out.data.is_none());
        let mut bad = gz.clone();
        bad.truncate(12);
        bad.extend_from_slice(&[0xff; 40]);
        assert!(
            inflate_codec(Codec::Gzip, &bad, 1 << 20, 1000, crate::MAX_ZSTD_WINDOW_LOG)
                .data
                .is_none()
        );
        assert_eq!(magic_of(b"plain text"), None);
    }

    fn lz4(data: &[u8]) -> Vec<u8> {
        let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::new());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn lz4_frames() {
        let text = b"imei=356938035643809&".repeat(500);
        let frame = lz4(&text);
        assert_eq!(magic_of(&frame), Some(Magic::Lz4));
        let out = inflate(
            Magic::Lz4,
            &frame,
            1 << 20,
            1000,
            crate::MAX_ZSTD_WINDOW_LOG,
        );
        assert_eq!(out.step, "lz4");
        assert_eq!(out.data.unwrap(), text);
        // Two frames with a skippable frame between them.
        let mut two = frame.clone();
        two.extend_from_slice(&[0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        two.extend_from_slice(&lz4(b"second"));
        let out = inflate(Magic::Lz4, &two, 1 << 20, 1000, crate::MAX_ZSTD_WINDOW_LOG)
            .data
            .unwrap();
        let expected = [&text[..], b"second"].concat();
        assert!(
            out == expected,
            "{} bytes, {} expected",
            out.len(),
            expected.len()
        );
    }

    #[test]
    fn lz4_truncated_or_trailing_is_dropped() {
        let frame = lz4(&b"0123456789abcdef".repeat(10_000));
        for cut in 0..frame.len() {
            let out = inflate(
                Magic::Lz4,
                &frame[..cut],
                64 << 20,
                0,
                crate::MAX_ZSTD_WINDOW_LOG,
            );
            assert!(out.data.is_none(), "cut at {cut}");
        }
        for extra in 1..=9 {
            let mut long = frame.clone();
            long.extend(std::iter::repeat_n(0x11, extra));
            assert!(
                inflate(Magic::Lz4, &long, 64 << 20, 0, crate::MAX_ZSTD_WINDOW_LOG)
                    .data
                    .is_none()
            );
        }
        let mut corrupt = frame.clone();
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 0xff;
        assert!(inflate(
            Magic::Lz4,
            &corrupt,
            64 << 20,
            0,
            crate::MAX_ZSTD_WINDOW_LOG
        )
        .data
        .is_none());
        // A frame header claiming an absurd block.
        let absurd = [
            0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73, 0xff, 0xff, 0xff, 0x7f, 1,
        ];
        assert!(
            inflate(Magic::Lz4, &absurd, 64 << 20, 0, crate::MAX_ZSTD_WINDOW_LOG)
                .data
                .is_none()
        );
    }

    #[test]
    fn lz4_bombs_stop_at_the_cap() {
        let frame = lz4(&vec![0u8; 4 << 20]);
        let out = inflate(
            Magic::Lz4,
            &frame,
            1 << 20,
            1_000_000,
            crate::MAX_ZSTD_WINDOW_LOG,
        );
        assert!(out.limited.unwrap().contains("output cap"));
        assert_eq!(out.data.map(|d| d.len()), Some(1 << 20));
        let out = inflate(Magic::Lz4, &frame, 64 << 20, 10, crate::MAX_ZSTD_WINDOW_LOG);
        assert!(out.limited.unwrap().contains("expansion ratio"));
        assert_eq!(out.data.unwrap().len(), frame.len() * 10);
    }

    #[test]
    fn bombs_stop_at_the_cap() {
        let gz = gzip(&vec![0u8; 4 << 20]);
        let out = inflate_codec(
            Codec::Gzip,
            &gz,
            1 << 20,
            1_000_000,
            crate::MAX_ZSTD_WINDOW_LOG,
        );
        assert!(out.limited.is_some());
        assert_eq!(out.data.map(|d| d.len()), Some(1 << 20));
        let out = inflate_codec(Codec::Gzip, &gz, 64 << 20, 10, crate::MAX_ZSTD_WINDOW_LOG);
        assert!(out.limited.is_some());
        assert!(out.data.unwrap().len() <= gz.len() * 10);
    }
}
