//! Bytes in: decompression and the refillable block buffer every reader works on.
//!
//! A file is never loaded whole. [`ReadBuffer`] keeps a window of the (decompressed) stream,
//! refills it with large reads, and hands out borrowed slices of whole records or blocks. It grows
//! only when a single record or block needs more room, up to [`MAX_BUFFER_LEN`].
//!
//! **Linear work.** The unconsumed bytes are moved to the front of the buffer only when more than
//! half of it has been consumed, so each move is paid for by the bytes consumed since the last one:
//! every byte of the stream is moved at most once on average, whatever the callers ask for. As the
//! buffer may grow to twice the largest request, a request always fits behind a consumed prefix
//! of up to half the buffer, and never forces a move. This matters when resynchronising after
//! garbage, where a reader checks a candidate block of up to [`MAX_BLOCK_LEN`] bytes at every
//! position: moving the whole window for each candidate made that quadratic.

use crate::MAX_BLOCK_LEN;
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use phonehome_compress::Codec;
use std::io::{self, Read};

/// Size of the buffer a reader starts with, and of the reads that refill it (1 MiB).
pub const INITIAL_BUFFER_LEN: usize = 1 << 20;

/// Most bytes a reader asks to have buffered at once: one maximal block plus room for the header
/// that follows it, which resynchronisation checks.
const MAX_FILL_LEN: usize = MAX_BLOCK_LEN + (64 << 10);

/// Largest buffer a reader ever holds (32 MiB + 128 KiB): twice the largest request, so that a
/// request fits behind any consumed prefix that is not yet worth moving (see the module docs).
/// Bounds the memory used per open file; ordinary captures never grow past
/// [`INITIAL_BUFFER_LEN`], only files with blocks of several MiB (or garbage claiming such
/// lengths) do.
pub const MAX_BUFFER_LEN: usize = 2 * MAX_FILL_LEN;

/// Below this much free space after the data, the buffer is compacted before reading if that is
/// cheap (64 KiB), so that refills stay large.
const MIN_READ_LEN: usize = 64 << 10;

/// Leading bytes [`open`] looks at to recognise a compressed stream.
const COMPRESSION_MAGIC_LEN: usize = 3;

/// How a file is compressed. Detected from its first bytes, never from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Compression {
    /// Not compressed.
    None,
    /// gzip (RFC 1952, magic `1f 8b 08`); several concatenated members are read as one stream.
    Gzip,
    /// zlib (RFC 1950), as in mitmproxy's `.zhar` files.
    Zlib,
}

/// The decompressed byte stream of an input, buffered.
pub(crate) type Decompressed<'r> = ReadBuffer<Box<dyn Read + 'r>>;

/// Wraps `reader` in the decompressor its first bytes call for, as recognised by
/// [`phonehome_compress::sniff`]. Codecs other than gzip and zlib (zstd) are not undone: such a
/// file is then reported as of unknown format.
pub(crate) fn open<'r, R: Read + 'r>(mut reader: R) -> io::Result<(Compression, Decompressed<'r>)> {
    let mut head = [0u8; COMPRESSION_MAGIC_LEN];
    let mut got = 0;
    while let Some(space) = head.get_mut(got..).filter(|s| !s.is_empty()) {
        match reader.read(space) {
            Ok(0) => break,
            Ok(n) => got = got.saturating_add(n).min(COMPRESSION_MAGIC_LEN),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let head = head.get(..got).unwrap_or(&[]);
    let whole = io::Cursor::new(head.to_vec()).chain(reader);
    let (compression, inner): (Compression, Box<dyn Read + 'r>) =
        match phonehome_compress::sniff(head) {
            Some(Codec::Gzip) => (Compression::Gzip, Box::new(MultiGzDecoder::new(whole))),
            Some(Codec::Zlib) => (Compression::Zlib, Box::new(ZlibDecoder::new(whole))),
            _ => (Compression::None, Box::new(whole)),
        };
    Ok((compression, ReadBuffer::new(inner)))
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
    /// Bytes copied so far to compact or grow the buffer: the work the buffer adds to reading.
    moved: u64,
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
            moved: 0,
        }
    }

    /// Bytes copied so far to compact or grow the buffer. At most the bytes consumed plus
    /// 2 × [`MAX_BUFFER_LEN`] (growth), whatever the pattern of requests.
    #[cfg(test)]
    pub(crate) fn moved(&self) -> u64 {
        self.moved
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
    /// them. `want` above [`MAX_FILL_LEN`] is an `InvalidInput` error: callers bound their
    /// lengths first. The cost is amortised O(1) per byte consumed (see the module docs).
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
        if want > MAX_FILL_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{want} bytes requested, above the buffer limit of {MAX_FILL_LEN}"),
            ));
        }
        while self.buffered_len() < want && !self.eof {
            self.make_room(want);
            let Some(space) = self.buf.get_mut(self.end..).filter(|s| !s.is_empty()) else {
                return Err(io::Error::other("read buffer has no room"));
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

    /// Arranges for `want` bytes (at most [`MAX_FILL_LEN`]) to fit from `start`, with free space
    /// after `end` to read into.
    ///
    /// The unconsumed bytes are moved to the front only when the consumed prefix is more than
    /// half the buffer: they are then fewer than the bytes consumed since the last move, which
    /// pay for them. Otherwise the buffer grows when `want` does not fit; as `start` is at most
    /// half of it and `want` at most half of [`MAX_BUFFER_LEN`], `want` always fits once grown.
    fn make_room(&mut self, want: usize) {
        let len = self.buf.len();
        let fits = self.start.saturating_add(want) <= len;
        if fits && len.saturating_sub(self.end) >= MIN_READ_LEN {
            return;
        }
        if self.start > len / 2 {
            let buffered = self.buffered_len();
            self.buf.copy_within(self.start..self.end, 0);
            self.moved = self.moved.saturating_add(buffered as u64);
            self.start = 0;
            self.end = buffered;
        }
        let need = self.start.saturating_add(want);
        if need > self.buf.len() {
            let grown = need
                .checked_next_power_of_two()
                .unwrap_or(need)
                .min(MAX_BUFFER_LEN)
                .max(need);
            // Growing may copy the whole allocation.
            self.moved = self.moved.saturating_add(self.buf.len() as u64);
            self.buf.resize(grown, 0);
        }
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
            rb.fill(MAX_FILL_LEN + 1).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn bytes_are_moved_at_most_once_on_average() {
        // Requests as a resynchronisation makes them (a maximal block at every position, then a
        // small step) mixed with ordinary ones (a record, consumed whole), over a stream several
        // buffers long, so that the buffer is compacted many times.
        let total = 5 * MAX_BUFFER_LEN;
        let mut rb = ReadBuffer::new(io::repeat(0x5a).take(total as u64));
        let steps = [
            (MAX_FILL_LEN, 4093),
            (40, 40),
            (MAX_FILL_LEN, 64 << 10),
            (16, 16),
        ];
        for &(want, advance) in steps.iter().cycle() {
            let have = rb.fill(want).unwrap().len();
            if have == 0 {
                break;
            }
            assert!(have >= want || rb.read_offset() == total as u64);
            rb.consume(advance);
        }
        assert_eq!(rb.offset(), total as u64);
        assert!(rb.buf.len() <= MAX_BUFFER_LEN);
        // Moving the unconsumed bytes whenever a maximal request did not fit after `start` (as
        // this buffer once did) moves about 16 MiB per 64 KiB consumed here.
        let bound = total as u64 + 2 * MAX_BUFFER_LEN as u64;
        assert!(rb.moved() <= bound, "moved {} > {bound}", rb.moved());
        assert!(rb.moved() > 0, "the buffer was compacted");
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

    #[test]
    fn compressed_streams_that_cannot_be_read_are_told_apart() {
        // Recognised as `phonehome_compress::sniff` does. A zlib header asking for a preset
        // dictionary (FDICT, `78 bb`) is zlib, and reading it fails; a gzip magic with a method
        // other than deflate, and zstd (not undone here), are left as they are, for the format
        // sniffing to refuse.
        let mut zlib_dict = vec![0x78, 0xbb, 0, 0, 0, 1];
        zlib_dict.extend([0x4b, 0x4c, 0x4a, 0x06, 0x00]);
        let (c, mut rb) = open(&zlib_dict[..]).unwrap();
        assert_eq!(c, Compression::Zlib);
        assert!(rb.fill(10).is_err());
        assert!(rb.fill(10).is_err(), "the failure is repeated, not retried");
        for head in [
            &[0x1f, 0x8b, 0x00, 0x00][..],
            &[0x1f, 0x8b],
            &[0x28, 0xb5, 0x2f, 0xfd, 0],
        ] {
            let (c, mut rb) = open(head).unwrap();
            assert_eq!(c, Compression::None, "{head:02x?}");
            assert_eq!(rb.fill(10).unwrap(), head);
        }
    }
}
