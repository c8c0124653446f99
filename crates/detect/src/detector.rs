//! The known-value detector: one Aho-Corasick automaton over every form of every profile value.

use crate::profile::{Shape, Target};
use crate::variants;
use crate::Profile;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;
use std::collections::HashMap;

/// Most raw automaton matches examined in one [`Detector::scan`]; later ones are ignored. Bounds
/// the work on data made of little but profile values.
pub const MAX_MATCHES_PER_SCAN: usize = 100_000;

/// Which variant of a value matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Form {
    /// A textual form (exactly the value as listed is reported `plain`, anything else
    /// `formatted`).
    Text,
    /// The MD5 hex digest of a textual form.
    Md5,
    /// The SHA-1 hex digest of a textual form.
    Sha1,
    /// The SHA-256 hex digest of a textual form.
    Sha256,
}

impl Form {
    fn name(self) -> &'static str {
        match self {
            Self::Text => "formatted",
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
        }
    }
}

/// The characters that must not touch an alphanumeric edge of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Neighbours {
    /// The pattern's letters and digits are all digits: no digit may touch it.
    Digit,
    /// They are all hex digits: no hex digit may touch it.
    Hex,
    /// Otherwise: no letter or digit may touch it.
    Alphanumeric,
}

impl Neighbours {
    fn of(pattern: &[u8]) -> Self {
        let mut alnum = pattern.iter().filter(|b| b.is_ascii_alphanumeric());
        if alnum.clone().all(u8::is_ascii_digit) {
            Self::Digit
        } else if alnum.all(u8::is_ascii_hexdigit) {
            Self::Hex
        } else {
            Self::Alphanumeric
        }
    }

    fn forbids(self, b: u8) -> bool {
        match self {
            Self::Digit => b.is_ascii_digit(),
            Self::Hex => b.is_ascii_hexdigit(),
            Self::Alphanumeric => b.is_ascii_alphanumeric(),
        }
    }
}

/// What a pattern means for one profile value.
#[derive(Clone, Debug)]
struct Meaning {
    /// Index into [`Detector::targets`].
    target: usize,
    form: Form,
    /// For digests: the string that was hashed.
    preimage: String,
}

/// One automaton pattern.
#[derive(Clone, Debug)]
struct Pattern {
    neighbours: Neighbours,
    /// Whether the first and last bytes are ASCII alphanumerics (the edges that are checked).
    check_start: bool,
    check_end: bool,
    /// Every profile value it stands for (usually one).
    meanings: Vec<Meaning>,
}

/// One match of a profile value in some data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The kind of data (`imei`, `contact`, `wifi_ssid`…).
    pub kind: String,
    /// Which profile entry (`imei #1`, `contact "Priya Shah"`…).
    pub label: String,
    /// The profile value as listed (a contact's name or number, an SMS text).
    pub value: String,
    /// `plain` (exactly as listed), `formatted` (another textual form), `md5`, `sha1`, `sha256`.
    pub form: String,
    /// For `plain` the value; for `formatted` the text as it appeared; for digests the string that
    /// was hashed.
    pub preimage: String,
    /// Byte offset of the match in the scanned data.
    pub start: usize,
    /// Byte offset just past the match.
    pub end: usize,
}

/// Finds a profile's values, in all their forms, in byte strings.
///
/// Built once per profile; [`Detector::scan`] is a single pass of one automaton, whatever the
/// number of values, and allocates nothing when nothing matches.
#[derive(Clone, Debug)]
pub struct Detector {
    automaton: Option<AhoCorasick>,
    patterns: Vec<Pattern>,
    targets: Vec<Target>,
}

impl Detector {
    /// Builds the automaton for every value of `profile` (locations excepted, for now).
    ///
    /// Building can only fail when the automaton would exceed aho-corasick's state-ID space
    /// (millions of patterns, far beyond any profile); the detector then matches nothing.
    pub fn new(profile: &Profile) -> Self {
        let region = profile.region.as_deref().and_then(variants::region_id);
        let targets = profile.targets();
        let mut texts: Vec<Vec<u8>> = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        // Patterns are matched ASCII-case-insensitively, so they are keyed lower-cased.
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        for (t, target) in targets.iter().enumerate() {
            let forms = match target.shape {
                Shape::Text => variants::text(&target.value),
                Shape::Imei => variants::imei(&target.value),
                Shape::Mac => variants::mac(&target.value),
                Shape::Uuid => variants::uuid(&target.value),
                Shape::Phone => variants::phone(&target.value, region).0,
            };
            for form in &forms {
                let bytes = form.as_bytes();
                add_pattern(
                    &mut texts,
                    &mut patterns,
                    &mut index,
                    bytes,
                    Meaning {
                        target: t,
                        form: Form::Text,
                        preimage: String::new(),
                    },
                );
                let digests = [
                    (Form::Md5, hex::encode(Md5::digest(bytes))),
                    (Form::Sha1, hex::encode(Sha1::digest(bytes))),
                    (Form::Sha256, hex::encode(Sha256::digest(bytes))),
                ];
                for (kind, digest) in digests {
                    let meaning = Meaning {
                        target: t,
                        form: kind,
                        preimage: form.clone(),
                    };
                    add_pattern(
                        &mut texts,
                        &mut patterns,
                        &mut index,
                        digest.as_bytes(),
                        meaning,
                    );
                }
            }
        }
        let automaton = if texts.is_empty() {
            None
        } else {
            // A DFA scans fastest (the scan is the hot loop of a whole analysis); when the
            // patterns are too many for its size limit, the builder's own choice takes over.
            let mut builder = AhoCorasickBuilder::new();
            builder
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard);
            builder
                .kind(Some(AhoCorasickKind::DFA))
                .build(&texts)
                .or_else(|_| builder.kind(None).build(&texts))
                .ok()
        };
        Self {
            automaton,
            patterns,
            targets,
        }
    }

    /// Number of distinct patterns (all forms and digests of all values) in the automaton.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Every match in `data` whose alphanumeric edges do not touch a character of their own class
    /// (a digit pattern inside a longer digit run is not a match, nor is hex inside hex). Where
    /// matches overlap, the leftmost wins, and at one position the longest; the result is sorted
    /// by position and non-overlapping (one hit per profile value a pattern stands for).
    pub fn scan(&self, data: &[u8]) -> Vec<Hit> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        for m in automaton.find_overlapping_iter(data) {
            let (start, end, id) = (m.start(), m.end(), m.pattern().as_usize());
            let Some(pattern) = self.patterns.get(id) else {
                continue;
            };
            let touches_before = pattern.check_start
                && start
                    .checked_sub(1)
                    .and_then(|i| data.get(i))
                    .is_some_and(|&b| pattern.neighbours.forbids(b));
            let touches_after = pattern.check_end
                && data
                    .get(end)
                    .is_some_and(|&b| pattern.neighbours.forbids(b));
            if !touches_before && !touches_after {
                found.push((start, end, id));
            }
            if found.len() >= MAX_MATCHES_PER_SCAN {
                break;
            }
        }
        if found.is_empty() {
            return Vec::new();
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut hits = Vec::new();
        let mut covered_to = 0;
        for (start, end, id) in found {
            if start < covered_to {
                continue;
            }
            covered_to = end;
            let Some(pattern) = self.patterns.get(id) else {
                continue;
            };
            let matched = data.get(start..end).unwrap_or_default();
            for meaning in &pattern.meanings {
                let Some(target) = self.targets.get(meaning.target) else {
                    continue;
                };
                let (form, preimage) = match meaning.form {
                    Form::Text if matched == target.value.as_bytes() => {
                        ("plain", target.value.clone())
                    }
                    Form::Text => ("formatted", String::from_utf8_lossy(matched).into_owned()),
                    digest => (digest.name(), meaning.preimage.clone()),
                };
                hits.push(Hit {
                    kind: target.kind.clone(),
                    label: target.label.clone(),
                    value: target.value.clone(),
                    form: form.to_string(),
                    preimage,
                    start,
                    end,
                });
            }
        }
        hits
    }
}

/// Adds `text` as a pattern meaning `meaning`, or adds the meaning to an existing pattern with the
/// same (case-folded) text unless that pattern already stands for the same value.
fn add_pattern(
    texts: &mut Vec<Vec<u8>>,
    patterns: &mut Vec<Pattern>,
    index: &mut HashMap<Vec<u8>, usize>,
    text: &[u8],
    meaning: Meaning,
) {
    if text.is_empty() {
        return;
    }
    let key = text.to_ascii_lowercase();
    if let Some(&id) = index.get(&key) {
        if let Some(pattern) = patterns.get_mut(id) {
            if !pattern.meanings.iter().any(|m| m.target == meaning.target) {
                pattern.meanings.push(meaning);
            }
        }
        return;
    }
    index.insert(key, patterns.len());
    patterns.push(Pattern {
        neighbours: Neighbours::of(text),
        check_start: text.first().is_some_and(u8::is_ascii_alphanumeric),
        check_end: text.last().is_some_and(u8::is_ascii_alphanumeric),
        meanings: vec![meaning],
    });
    texts.push(text.to_vec());
}

#[cfg(test)]
mod tests;
