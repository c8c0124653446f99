//! Folded copies of text: non-ASCII characters Unicode compatibility-normalised (NFKC) and
//! lower-cased, whitespace runs collapsed to one space, ASCII otherwise kept as it is (the
//! automaton ignores ASCII case, and base64 digests are case-sensitive), with a map back to the
//! original offsets. The detector scans the folded copy instead of a node that has non-ASCII bytes
//! or unusual whitespace, so names and SMS texts match however they are cased and composed.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

/// Largest node that is folded before it is scanned; larger nodes are scanned as they are (their
/// decoded pieces, JSON leaves and form fields, are usually small enough).
pub const MAX_FOLDED_NODE_BYTES: usize = 256 * 1024;

/// What stands for bytes that are not UTF-8 in a folded copy (matches no pattern).
const REPLACEMENT: &str = "\u{fffd}";

/// A folded copy of some bytes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Folded {
    /// The folded text (UTF-8, except that nothing guarantees it to callers).
    pub(crate) text: Vec<u8>,
    /// `(offset in text, offset in the original)` at the start of every cluster (a character and
    /// the combining marks after it), then at the end; both increasing.
    map: Vec<(u32, u32)>,
}

/// `s` folded as a pattern: NFKC, lower case (ASCII too: patterns are matched ASCII
/// case-insensitively), every run of whitespace one space. Not trimmed.
pub(crate) fn fold_str(s: &str) -> String {
    String::from_utf8_lossy(&Folded::new(s.as_bytes()).text).to_lowercase()
}

/// `s` with its whitespace runs collapsed to one space and trimmed.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `data` may read differently folded: it has non-ASCII bytes, or whitespace other than
/// single spaces.
pub(crate) fn needs_folding(data: &[u8]) -> bool {
    !data.is_ascii()
        || memchr::memchr3(b'\t', b'\n', b'\r', data).is_some()
        || memchr::memchr2(0x0b, 0x0c, data).is_some()
        || memchr::memmem::find(data, b"  ").is_some()
}

impl Folded {
    /// Folds `data` cluster by cluster (a starter and the non-starters after it), so every folded
    /// byte maps back to the cluster it came from. Callers bound `data` by
    /// [`MAX_FOLDED_NODE_BYTES`]; offsets beyond `u32` saturate.
    pub(crate) fn new(data: &[u8]) -> Folded {
        let mut folded = Folded {
            text: Vec::with_capacity(data.len()),
            map: Vec::new(),
        };
        let mut last_space = false;
        let mut offset = 0usize;
        for chunk in data.utf8_chunks() {
            let valid = chunk.valid();
            let mut cluster_start = 0;
            for (i, c) in valid.char_indices() {
                if i > cluster_start && canonical_combining_class(c) == 0 {
                    if let Some(cluster) = valid.get(cluster_start..i) {
                        folded.push_cluster(cluster, offset + cluster_start, &mut last_space);
                    }
                    cluster_start = i;
                }
            }
            if let Some(cluster) = valid.get(cluster_start..).filter(|c| !c.is_empty()) {
                folded.push_cluster(cluster, offset + cluster_start, &mut last_space);
            }
            offset += valid.len();
            if !chunk.invalid().is_empty() {
                folded.mark(offset);
                folded.text.extend_from_slice(REPLACEMENT.as_bytes());
                last_space = false;
                offset += chunk.invalid().len();
            }
        }
        folded.mark(offset);
        folded
    }

    fn mark(&mut self, original: usize) {
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.map.push((to_u32(self.text.len()), to_u32(original)));
    }

    fn push_cluster(&mut self, cluster: &str, original: usize, last_space: &mut bool) {
        self.mark(original);
        let mut push = |c: char, text: &mut Vec<u8>| {
            if c.is_whitespace() {
                if !*last_space {
                    text.push(b' ');
                }
                *last_space = true;
            } else if c.is_ascii() {
                *last_space = false;
                text.push(c as u8);
            } else {
                *last_space = false;
                let mut buf = [0u8; 4];
                for lower in c.to_lowercase() {
                    text.extend_from_slice(lower.encode_utf8(&mut buf).as_bytes());
                }
            }
        };
        match cluster.as_bytes() {
            [b] if b.is_ascii() => push(char::from(*b), &mut self.text),
            _ => {
                for c in cluster.nfkc() {
                    push(c, &mut self.text);
                }
            }
        }
    }

    /// The original byte range of the folded range `start..end`: from the start of the cluster
    /// `start` falls in to the end of the cluster `end` falls in.
    pub(crate) fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let first = self.map.partition_point(|m| m.0 <= at(start));
        let from = first
            .checked_sub(1)
            .and_then(|i| self.map.get(i))
            .map_or(0, |m| m.1);
        let last = self.map.partition_point(|m| m.0 < at(end));
        let to = self.map.get(last).or(self.map.last()).map_or(0, |m| m.1);
        (from as usize, (to as usize).max(from as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_compatibility_and_spaces() {
        assert_eq!(fold_str("Priya Shah"), "priya shah");
        assert_eq!(fold_str("ＰＲＩＹＡ\u{a0}SHAH"), "priya shah");
        assert_eq!(fold_str("José"), "josé");
        // Decomposed and composed forms fold alike.
        assert_eq!(fold_str("JOSE\u{301}"), fold_str("josé"));
        assert_eq!(fold_str("a \t\n b"), "a b");
        assert_eq!(collapse_whitespace("  Dinner\n at   8? "), "Dinner at 8?");
    }

    #[test]
    fn maps_back_to_the_original() {
        let data = "x  JOSE\u{301} y".as_bytes();
        let f = Folded::new(data);
        let text = std::str::from_utf8(&f.text).unwrap();
        assert_eq!(text, "x JOSé y");
        let start = text.find("JOSé").unwrap();
        let (s, e) = f.original_range(start, start + "JOSé".len());
        assert_eq!(&data[s..e], "JOSE\u{301}".as_bytes());
        let (s, e) = f.original_range(text.len() - 1, text.len());
        assert_eq!(&data[s..e], b"y");
    }

    #[test]
    fn invalid_utf8_is_a_barrier() {
        let f = Folded::new(b"ab\xffcd");
        assert_eq!(f.text, "ab\u{fffd}cd".as_bytes());
        let (s, e) = f.original_range(5, 7);
        assert_eq!((s, e), (3, 5));
        assert!(needs_folding(b"ab\xff"));
        assert!(needs_folding(b"a\nb"));
        assert!(needs_folding(b"a  b"));
        assert!(!needs_folding(b"a b c"));
        assert_eq!(Folded::new(b"").original_range(0, 0), (0, 0));
    }
}
