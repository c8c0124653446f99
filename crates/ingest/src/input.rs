//! Bytes in: decompression and the refillable block buffer every reader works on.
//!
//! A file is never loaded whole. [`ReadBuffer`] keeps a window of the (decompressed) stream,
//! refills it with large reads, and hands out borrowed slices of whole records or blocks. It grows
//! only when a single record or block needs more room, up to [`MAX_BUFFER_LEN`].

use crate::MAX_BLOCK_LEN;
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use std::io::{self, Read};

/// Size of the buffer a reader starts with, and of the reads that refill it (1 MiB).
pub const INITIAL_BUFFER_LEN: usize = 1 << 20;

/// Largest window a reader's buffer ever holds: one maximal block plus room for the next header,
/// which resynchronisation checks. Bounds the memory used per open file.
pub const MAX_BUFFER_LEN: usize = MAX_BLOCK_LEN + (64 << 10);

/// Below this much free space after the data, the buffer is compacted before reading (64 KiB), so
/// that refills stay large.
const MIN_READ_LEN: usize = 64 << 10;

/// How a file is compressed. Detected from its first bytes, never from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Compression {
    /// Not compressed.
    None,
    /// gzip (RFC 1952, magic `1f 8b`); several concatenated members are read as one stream.
    Gzip,
    /// zlib (RFC 1950), as in mitmproxy's `.zhar` files.
    Zlib,
}

/// The decompressed byte stream of an input, buffered.
pub(crate) type Decompressed<'r> = ReadBuffer<Box<dyn Read + 'r>>;

/// Wraps `reader` in the decompressor its first two bytes call for.
pub(crate) fn open<'r, R: Read + 'r>(mut reader: R) -> io::Result<(Compression, Decompressed<'r>)> {
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let head = &head[..got];
    let whole = io::Cursor::new(head.to_vec()).chain(reader);
    let (compression, inner): (Compression, Box<dyn Read + 'r>) = match *head {
        [0x1f, 0x8b] => (Compression::Gzip, Box::new(MultiGzDecoder::new(whole))),
        [cmf, flg] if is_zlib_header(cmf, flg) => {
            (Compression::Zlib, Box::new(ZlibDecoder::new(whole)))
        }
        _ => (Compression::None, Box::new(whole)),
    };
    Ok((compression, ReadBuffer::new(inner)))
}

/// A zlib stream header: deflate method, window ≤ 32 KiB, no preset dictionary, valid check bits.
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8
        && cmf >> 4 <= 7
        && flg & 0x20 == 0
        && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// A window over a byte stream that refills itself, tracking the stream offset of its first byte.
pub(crate) struct ReadBuffer<R> {
    inner: R,
    buf: Vec<u8>,
    /// Index in `buf` of the first unconsumed byte.
    start: usize,
    /// Index in `buf` one past the last valid byte.
    end: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
    /// The error the source returned, if it did: repeated on every later refill, so that a
    /// decompressor is never read again after failing.
    failed: Option<(io::ErrorKind, String)>,
}

impl<R: Read> ReadBuffer<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            buf: vec![0; INITIAL_BUFFER_LEN],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            failed: None,
        }
    }

    /// Stream offset of the first unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Stream offset one past the last byte read from the source so far.
    pub(crate) fn read_offset(&self) -> u64 {
        self.offset.saturating_add(self.buffered_len() as u64)
    }

    fn buffered_len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// The unconsumed bytes currently buffered.
    pub(crate) fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// Makes at least `want` bytes available (fewer only at the end of the stream) and returns
    /// them. `want` above [`MAX_BUFFER_LEN`] is an `InvalidInput` error: callers bound their
    /// lengths first.
    #[inline]
    pub(crate) fn fill(&mut self, want: usize) -> io::Result<&[u8]> {
        if self.buffered_len() < want && !self.eof {
            self.refill(want)?;
        }
        Ok(self.data())
    }

    #[inline(never)]
    fn refill(&mut self, want: usize) -> io::Result<()> {
        if let Some((kind, message)) = &self.failed {
            return Err(io::Error::new(*kind, message.clone()));
        }
        if want > MAX_BUFFER_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{want} bytes requested, above the buffer limit of {MAX_BUFFER_LEN}"),
            ));
        }
        while self.buffered_len() < want && !self.eof {
            let room_after_start = self.buf.len().saturating_sub(self.start);
            let room_after_end = self.buf.len().saturating_sub(self.end);
            if room_after_start < want || room_after_end < MIN_READ_LEN {
                self.buf.copy_within(self.start..self.end, 0);
                self.end = self.buffered_len();
                self.start = 0;
                if self.buf.len() < want {
                    let grown = want
                        .checked_next_power_of_two()
                        .unwrap_or(want)
                        .min(MAX_BUFFER_LEN);
                    self.buf.resize(grown.max(want), 0);
                }
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Err(io::Error::other("read buffer out of bounds"));
            };
            match self.inner.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end = self.end.saturating_add(n).min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.failed = Some((e.kind(), e.to_string()));
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Marks `n` bytes (at most those buffered) as consumed.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.buffered_len());
        self.start += n;
        self.offset = self.offset.saturating_add(n as u64);
    }
}

impl<R: Read> Read for ReadBuffer<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let data = self.fill(1)?;
        let n = data.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), data.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `chunk` bytes per call, to exercise refills.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn fills_across_small_reads_and_tracks_offsets() {
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let mut rb = ReadBuffer::new(Trickle {
            data: &data,
            chunk: 7,
        });
        assert_eq!(rb.fill(100).unwrap()[..100], data[..100]);
        rb.consume(60);
        assert_eq!(rb.offset(), 60);
        assert_eq!(rb.fill(3000).unwrap()[..3000], data[60..3060]);
        let buffered = rb.data().len() as u64;
        assert!(buffered < 4000);
        rb.consume(4000);
        assert_eq!(
            rb.offset(),
            60 + buffered,
            "consume is clamped to what is buffered"
        );
        assert_eq!(rb.read_offset(), rb.offset());
        let rest = rb.fill(10_000).unwrap().to_vec();
        assert_eq!(rest, data[60 + buffered as usize..]);
    }

    #[test]
    fn grows_for_a_large_block_and_refuses_beyond_the_limit() {
        let data = vec![0xabu8; INITIAL_BUFFER_LEN * 3];
        let mut rb = ReadBuffer::new(&data[..]);
        assert_eq!(
            rb.fill(INITIAL_BUFFER_LEN * 2 + 5).unwrap().len(),
            INITIAL_BUFFER_LEN * 3
        );
        assert!(rb.buf.len() <= INITIAL_BUFFER_LEN * 4);
        assert_eq!(
            rb.fill(MAX_BUFFER_LEN + 1).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn detects_gzip_and_zlib_by_content() {
        use flate2::write::{GzEncoder, ZlibEncoder};
        use std::io::Write;
        let payload = b"{\"log\": {\"entries\": []}}";
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(payload).unwrap();
        let gz = gz.finish().unwrap();
        let mut zl = ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        zl.write_all(payload).unwrap();
        let zl = zl.finish().unwrap();
        for (bytes, want) in [
            (&gz[..], Compression::Gzip),
            (&zl[..], Compression::Zlib),
            (&payload[..], Compression::None),
        ] {
            let (c, mut rb) = open(bytes).unwrap();
            assert_eq!(c, want);
            assert_eq!(rb.fill(1000).unwrap(), payload);
        }
        let (c, mut rb) = open(&b"x"[..]).unwrap();
        assert_eq!(c, Compression::None);
        assert_eq!(rb.fill(10).unwrap(), b"x");
    }
}
