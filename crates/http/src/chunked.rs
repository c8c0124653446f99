//! The chunked transfer coding (RFC 9112 §7.1), decoded incrementally.

/// Longest chunk-size line accepted, extensions included.
pub const MAX_CHUNK_LINE: usize = 4 * 1024;

/// Where the decoder is in the chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ChunkState {
    /// Reading a `chunk-size [; ext]` line.
    SizeLine,
    /// Inside chunk data, with this many bytes left.
    Data(u64),
    /// After chunk data, expecting its CRLF.
    DataEnd,
    /// In the trailer section; what the current line holds so far.
    Trailer(TrailerLine),
    /// After the last trailer line.
    Done,
}

/// What the current trailer line holds so far: only an empty line (`\n` or `\r\n`) ends the
/// trailer section, however the line is split across calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrailerLine {
    /// Nothing.
    Start,
    /// A single `\r`.
    Cr,
    /// Anything else.
    Other,
}

impl TrailerLine {
    /// The line after `bytes` more of it (no `\n` among them).
    fn then(self, bytes: &[u8]) -> Self {
        match (self, bytes) {
            (line, []) => line,
            (TrailerLine::Start, [b'\r']) => TrailerLine::Cr,
            _ => TrailerLine::Other,
        }
    }
}

/// What one call to [`ChunkedDecoder::advance`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ChunkStep<'a> {
    /// Body bytes.
    Data(&'a [u8]),
    /// All input used; more is needed.
    NeedMore,
    /// The body and its trailer section are complete.
    Done,
    /// The framing is broken (reason).
    Broken(String),
}

/// Incremental decoder for a chunked body. Holds at most [`MAX_CHUNK_LINE`] bytes of size line and
/// `max_trailer` bytes of trailer section.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: ChunkState,
    line: Vec<u8>,
    trailer: Vec<u8>,
    max_trailer: usize,
}

impl ChunkedDecoder {
    /// A decoder that keeps at most `max_trailer` bytes of trailer section.
    pub(crate) fn new(max_trailer: usize) -> Self {
        Self {
            state: ChunkState::SizeLine,
            line: Vec::new(),
            trailer: Vec::new(),
            max_trailer,
        }
    }

    /// The trailer section read so far (field lines and the final empty line).
    pub(crate) fn trailer(&self) -> &[u8] {
        &self.trailer
    }

    /// True once the last chunk was seen: the body data is complete even if the trailer is not.
    pub(crate) fn body_complete(&self) -> bool {
        matches!(self.state, ChunkState::Trailer(_) | ChunkState::Done)
    }

    /// The size-line bytes read but not yet understood (when a body turns out not to be chunked,
    /// they are body bytes); empties the buffer.
    pub(crate) fn take_unparsed(&mut self) -> Vec<u8> {
        if self.state == ChunkState::SizeLine {
            std::mem::take(&mut self.line)
        } else {
            Vec::new()
        }
    }

    /// Bytes of chunk data still expected in the current chunk, if inside one.
    pub(crate) fn data_left(&self) -> Option<u64> {
        match self.state {
            ChunkState::Data(n) => Some(n),
            _ => None,
        }
    }

    /// Skips `len` lost bytes inside the current chunk; the caller checked `len <= data_left()`.
    pub(crate) fn skip_data(&mut self, len: u64) {
        if let ChunkState::Data(n) = self.state {
            let left = n.saturating_sub(len);
            self.state = if left == 0 {
                ChunkState::DataEnd
            } else {
                ChunkState::Data(left)
            };
        }
    }

    /// Consumes a prefix of `input`; returns how many bytes were used and what was found. Always
    /// uses at least one byte unless it returns `Done`, `Broken` or `NeedMore` on empty input.
    pub(crate) fn advance<'a>(&mut self, input: &'a [u8]) -> (usize, ChunkStep<'a>) {
        let mut used = 0usize;
        loop {
            let rest = input.get(used..).unwrap_or_default();
            match self.state {
                ChunkState::Done => return (used, ChunkStep::Done),
                _ if rest.is_empty() => return (used, ChunkStep::NeedMore),
                ChunkState::Data(n) => {
                    let take = usize::try_from(n).unwrap_or(usize::MAX).min(rest.len());
                    let left = n.saturating_sub(take as u64);
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                    return (
                        used.saturating_add(take),
                        ChunkStep::Data(rest.get(..take).unwrap_or_default()),
                    );
                }
                ChunkState::DataEnd => match rest.first() {
                    Some(b'\r') => used = used.saturating_add(1),
                    Some(b'\n') => {
                        used = used.saturating_add(1);
                        self.state = ChunkState::SizeLine;
                    }
                    // Missing CRLF: read the next size line from here (lenient, like browsers).
                    _ => self.state = ChunkState::SizeLine,
                },
                ChunkState::SizeLine => {
                    let (take, line_done) = match memchr::memchr(b'\n', rest) {
                        Some(i) => (i.saturating_add(1), true),
                        None => (rest.len(), false),
                    };
                    let room = MAX_CHUNK_LINE.saturating_sub(self.line.len());
                    if take > room {
                        // Keep exactly MAX_CHUNK_LINE bytes, however the input was split.
                        self.line
                            .extend_from_slice(rest.get(..room).unwrap_or_default());
                        return (
                            used.saturating_add(room),
                            ChunkStep::Broken(format!(
                                "chunk-size line longer than {MAX_CHUNK_LINE} bytes"
                            )),
                        );
                    }
                    self.line
                        .extend_from_slice(rest.get(..take).unwrap_or_default());
                    used = used.saturating_add(take);
                    if line_done {
                        match parse_chunk_size(&self.line) {
                            Ok(None) => {}
                            Ok(Some(0)) => self.state = ChunkState::Trailer(TrailerLine::Start),
                            Ok(Some(n)) => self.state = ChunkState::Data(n),
                            Err(reason) => return (used, ChunkStep::Broken(reason)),
                        }
                        self.line.clear();
                    }
                }
                ChunkState::Trailer(line) => {
                    let (take, line_done) = match memchr::memchr(b'\n', rest) {
                        Some(i) => (i.saturating_add(1), true),
                        None => (rest.len(), false),
                    };
                    let piece = rest.get(..take).unwrap_or_default();
                    let line = line.then(piece.strip_suffix(b"\n").unwrap_or(piece));
                    if self.trailer.len().saturating_add(take) > self.max_trailer {
                        return (
                            used.saturating_add(take),
                            ChunkStep::Broken(format!(
                                "trailer section longer than {} bytes",
                                self.max_trailer
                            )),
                        );
                    }
                    self.trailer.extend_from_slice(piece);
                    used = used.saturating_add(take);
                    self.state = match (line_done, line) {
                        (true, TrailerLine::Other) => ChunkState::Trailer(TrailerLine::Start),
                        (true, _) => ChunkState::Done,
                        (false, line) => ChunkState::Trailer(line),
                    };
                }
            }
        }
    }
}

/// Parses a chunk-size line (with its line end): hex size, then anything (extensions, or the
/// junk browsers skip too: `f;x`, `fx`, `f x`). `Ok(None)` for an empty line (tolerated between
/// chunks).
fn parse_chunk_size(line: &[u8]) -> Result<Option<u64>, String> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\x0b' | b'\x0c' | b'\r' | b'\n');
    let start = line.iter().position(|b| !is_space(b)).unwrap_or(line.len());
    let text = line.get(start..).unwrap_or_default();
    if text.is_empty() {
        return Ok(None);
    }
    let digits = text.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let hex = text.get(..digits).unwrap_or_default();
    let bad = || {
        let shown = text.get(..text.len().min(40)).unwrap_or_default();
        format!(
            "invalid chunk-size line `{}`",
            String::from_utf8_lossy(shown).escape_debug()
        )
    };
    if hex.is_empty() {
        return Err(bad());
    }
    let significant = hex.iter().skip_while(|&&b| b == b'0').count();
    if significant > 16 {
        return Err(format!(
            "chunk size {} does not fit in 64 bits",
            String::from_utf8_lossy(hex)
        ));
    }
    let mut size = 0u64;
    for &b in hex {
        let d = char::from(b).to_digit(16).ok_or_else(bad)?;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(d)))
            .ok_or_else(bad)?;
    }
    Ok(Some(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed `step` bytes at a time.
    fn decode(input: &[u8], step: usize) -> (Vec<u8>, Option<ChunkStep<'static>>, Vec<u8>) {
        let mut d = ChunkedDecoder::new(1024);
        let mut body = Vec::new();
        for piece in input.chunks(step) {
            let mut rest = piece;
            loop {
                let (used, s) = d.advance(rest);
                rest = &rest[used..];
                match s {
                    ChunkStep::Data(b) => body.extend_from_slice(b),
                    ChunkStep::NeedMore => break,
                    ChunkStep::Done => return (body, Some(ChunkStep::Done), d.trailer().to_vec()),
                    ChunkStep::Broken(r) => return (body, Some(ChunkStep::Broken(r)), Vec::new()),
                }
            }
        }
        (body, None, d.trailer().to_vec())
    }

    #[test]
    fn chunks_with_extensions_and_trailers_at_every_split() {
        let input = b"5;name=val\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";
        for step in 1..input.len() {
            let (body, end, trailer) = decode(input, step);
            assert_eq!(body, b"hello world", "step {step}");
            assert_eq!(end, Some(ChunkStep::Done), "step {step}");
            assert_eq!(trailer, b"X-Sum: 1\r\n\r\n", "step {step}");
        }
    }

    /// Only `\n` or `\r\n` ends the trailer section, wherever the input is split (a line of
    /// two CRs fed one byte at a time used to end it).
    #[test]
    fn trailer_end_does_not_depend_on_the_split() {
        let input = b"1\r\nx\r\n0\n\r\r\nT: 1\r\n\r\n";
        for step in 1..input.len() {
            let (body, end, trailer) = decode(input, step);
            assert_eq!(body, b"x", "step {step}");
            assert_eq!(end, Some(ChunkStep::Done), "step {step}");
            assert_eq!(trailer, b"\r\r\nT: 1\r\n\r\n", "step {step}");
        }
    }

    #[test]
    fn bare_lf_and_uppercase_hex() {
        let (body, end, _) = decode(b"A\nabcdefghij\n0\n\n", 3);
        assert_eq!(body, b"abcdefghij");
        assert_eq!(end, Some(ChunkStep::Done));
    }

    #[test]
    fn broken_framing_is_reported() {
        let (_, end, _) = decode(b"zz\r\n", 100);
        assert!(matches!(end, Some(ChunkStep::Broken(_))));
        // Junk after the hex digits is skipped, as browsers do.
        for line in [
            &b"3x\r\n"[..],
            b"3,\r\n",
            b"3\0\r\n",
            b"\x0b3\r\n",
            b"3 x\r\n",
        ] {
            let mut input = line.to_vec();
            input.extend_from_slice(b"abc\r\n0\r\n\r\n");
            let (body, end, _) = decode(&input, 2);
            assert_eq!(
                (body.as_slice(), end),
                (&b"abc"[..], Some(ChunkStep::Done)),
                "{line:?}"
            );
        }
        let (_, end, _) = decode(b"11111111111111111\r\n", 100);
        assert!(matches!(end, Some(ChunkStep::Broken(r)) if r.contains("64 bits")));
        let long = [b'0'; MAX_CHUNK_LINE + 1];
        let (_, end, _) = decode(&long, 7);
        assert!(matches!(end, Some(ChunkStep::Broken(r)) if r.contains("longer")));
        let mut trailer = b"0\r\n".to_vec();
        trailer.extend(std::iter::repeat_n(b'a', 2000));
        let (_, end, _) = decode(&trailer, 50);
        assert!(matches!(end, Some(ChunkStep::Broken(r)) if r.contains("trailer")));
        // Leading zeros are fine.
        let (body, end, _) = decode(b"000000000000000000001\r\nx\r\n0\r\n\r\n", 4);
        assert_eq!((body.as_slice(), end), (&b"x"[..], Some(ChunkStep::Done)));
    }
}
