//! Reassembly of the Initial-level CRYPTO stream, whose frames may arrive in any order, repeat,
//! overlap, and spread over several packets and datagrams.

/// Largest CRYPTO stream prefix kept: 64 KiB, far above any real ClientHello (a post-quantum
/// key share makes one about 1.8 KiB). Data past it is dropped.
pub const MAX_CRYPTO_LEN: usize = 64 * 1024;

/// Most disjoint pieces held at once; a frame that would add another is dropped.
pub const MAX_CRYPTO_PIECES: usize = 64;

/// The CRYPTO stream of one connection, as far as it arrived.
#[derive(Clone, Debug, Default)]
pub(crate) struct CryptoBuffer {
    /// Bytes at their stream offsets; holes are zero.
    data: Vec<u8>,
    /// Disjoint, sorted, non-adjacent `[start, end)` ranges that hold received bytes.
    pieces: Vec<(usize, usize)>,
}

impl CryptoBuffer {
    /// Stores `bytes` at stream offset `offset`. Returns false (and stores nothing) when the data
    /// would end past [`MAX_CRYPTO_LEN`] or add a piece beyond [`MAX_CRYPTO_PIECES`].
    pub(crate) fn insert(&mut self, offset: u64, bytes: &[u8]) -> bool {
        let Ok(start) = usize::try_from(offset) else {
            return false;
        };
        let Some(end) = start.checked_add(bytes.len()) else {
            return false;
        };
        if end > MAX_CRYPTO_LEN {
            return false;
        }
        if bytes.is_empty() {
            return true;
        }
        // Merge with every piece that overlaps or touches [start, end).
        let first = self.pieces.partition_point(|&(_, e)| e < start);
        let last = self.pieces.partition_point(|&(s, _)| s <= end);
        if first == last && self.pieces.len() >= MAX_CRYPTO_PIECES {
            return false;
        }
        let mut merged = (start, end);
        if let Some(&(s, _)) = self.pieces.get(first) {
            if first < last {
                merged.0 = merged.0.min(s);
            }
        }
        if last > first {
            if let Some(&(_, e)) = self.pieces.get(last - 1) {
                merged.1 = merged.1.max(e);
            }
        }
        self.pieces.splice(first..last, [merged]);
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        if let Some(dst) = self.data.get_mut(start..end) {
            dst.copy_from_slice(bytes);
        }
        true
    }

    /// The bytes received without a hole from offset 0.
    pub(crate) fn contiguous(&self) -> &[u8] {
        match self.pieces.first() {
            Some(&(0, end)) => self.data.get(..end).unwrap_or_default(),
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_overlapping_and_repeated() {
        let mut b = CryptoBuffer::default();
        assert!(b.insert(6, b"ghij"));
        assert!(b.contiguous().is_empty());
        assert!(b.insert(2, b"cd"));
        assert!(b.insert(0, b"ab"));
        assert_eq!(b.contiguous(), b"abcd");
        assert!(b.insert(3, b"def"));
        assert_eq!(b.contiguous(), b"abcdefghij");
        assert!(b.insert(0, b"abc"));
        assert_eq!(b.contiguous(), b"abcdefghij");
        assert_eq!(b.pieces, [(0, 10)]);
    }

    #[test]
    fn far_offsets_and_too_many_pieces_are_dropped() {
        let mut b = CryptoBuffer::default();
        assert!(!b.insert(u64::MAX, b"x"));
        assert!(!b.insert(MAX_CRYPTO_LEN as u64, b"x"));
        assert!(!b.insert(MAX_CRYPTO_LEN as u64 - 1, b"xy"));
        assert!(b.insert(MAX_CRYPTO_LEN as u64 - 1, b"x"));
        assert!(b.data.len() <= MAX_CRYPTO_LEN);
        let mut b = CryptoBuffer::default();
        for i in 0..MAX_CRYPTO_PIECES as u64 {
            assert!(b.insert(10 + 2 * i, b"x"));
        }
        assert!(!b.insert(1000, b"x"));
        // Filling a hole merges pieces and is still allowed.
        assert!(b.insert(11, b"x"));
        assert_eq!(b.pieces.len(), MAX_CRYPTO_PIECES - 1);
    }
}
