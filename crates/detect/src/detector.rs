//! The known-value detector: one Aho-Corasick automaton over every form of every profile value
//! (folded names and SMS texts included), and numeric location matching.

use crate::location::{LocationMatch, LocationMatcher};
use crate::profile::{Shape, Target};
use crate::text_fold::MAX_FOLDED_NODE_BYTES;
use crate::text_fold::{collapse_whitespace, fold_str, needs_folding, Folded};
use crate::variants;
use crate::Profile;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use std::collections::HashMap;

/// Most raw automaton matches examined in one [`Detector::scan`]; later ones are ignored. Bounds
/// the work on data made of little but profile values.
pub const MAX_MATCHES_PER_SCAN: usize = 100_000;

/// Most bytes of patterns (all forms and digests together) compiled into a DFA; beyond it the
/// automaton is a contiguous NFA. 256 KiB is a profile of about 500 values (≈ 40 MiB of DFA); a
/// phone's own profile is a few dozen values.
pub const MAX_DFA_PATTERN_BYTES: usize = 256 * 1024;

/// Shortest run of an SMS text (in characters, whitespace collapsed) reported as a `partial`
/// match.
pub const MIN_SMS_PARTIAL_CHARS: usize = 16;

/// Most [`MIN_SMS_PARTIAL_CHARS`]-character windows cut from one SMS text. A text with more
/// start positions gets evenly spaced windows (always the first and the last), so a run must then
/// be up to `MIN_SMS_PARTIAL_CHARS + step − 1` characters long to be sure to contain one, where
/// `step = ⌈(characters − 15) / 64⌉` (1 up to 79 characters, 2 up to 143…).
pub const MAX_SMS_WINDOWS: usize = 64;

/// Which variant of a value a pattern stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Form {
    /// A textual form (exactly the value as listed is reported `plain`, anything else
    /// `formatted`).
    Text,
    /// The first 14 digits of an IMEI and any two more: an IMEISV.
    Imeisv,
    /// A run of at least [`MIN_SMS_PARTIAL_CHARS`] characters of an SMS text (`partial`, or
    /// `plain`/`formatted` when the run is the whole text).
    Window,
    /// The MD5 digest (hex or base64) of a canonical form.
    Md5,
    /// The SHA-1 digest of a canonical form.
    Sha1,
    /// The SHA-256 digest of a canonical form.
    Sha256,
    /// The SHA-512 digest of a canonical form.
    Sha512,
}

impl Form {
    fn name(self) -> &'static str {
        match self {
            Self::Text => "formatted",
            Self::Imeisv => "imeisv",
            Self::Window => "partial",
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
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

/// What a match of a pattern must satisfy to count for one meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    /// Its alphanumeric edges do not touch a character of their class.
    Bounded,
    /// Bounded, and byte for byte this unpadded base64 text (base64 is case-sensitive; the
    /// automaton is not); extended over its `=` padding when that follows in full.
    Base64 { text: Box<[u8]>, padding: usize },
    /// Not preceded by a digit, followed by exactly two digits (an IMEISV's software version).
    TwoMoreDigits,
    /// No edge check: a window of text `text` (an index into [`PatternSet::window_texts`]) at
    /// byte `offset`, extended over the longest common run when selected.
    Window { text: usize, offset: usize },
}

impl Rule {
    fn same_kind(&self, other: &Rule) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
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
    rule: Rule,
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
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// The kind of data (`imei`, `contact`, `location`, `wifi_ssid`…).
    pub kind: String,
    /// Which profile entry (`imei #1`, `contact "Priya Shah"`, `location #1`…).
    pub label: String,
    /// The profile value as listed (a contact's name or number, an SMS text; for a location the
    /// profile point as `lat,lon`).
    pub value: String,
    /// `plain` (exactly as listed), `formatted` (another textual form), `imeisv`, `partial` (a
    /// run of an SMS text), `md5`, `sha1`, `sha256`, `sha512` (hex or base64 of the digest); for
    /// locations `plain`, `rounded` or `scaled`.
    pub form: String,
    /// For `plain` the value; for `formatted`, `imeisv`, `partial` and locations the text as it
    /// appeared (a location from two fields: their values, latitude first, joined by `,`); for
    /// digests the string that was hashed.
    pub preimage: String,
    /// Byte offset of the match in the scanned data.
    pub start: usize,
    /// Byte offset just past the match.
    pub end: usize,
    /// For locations: the decimals of the coordinates sent (the fewer of the two; 6 or 7 for
    /// `scaled`).
    pub decimals: Option<u32>,
    /// For locations: the uncertainty those decimals imply at the profile point, in metres
    /// ([`crate::precision_m`]).
    pub precision_m: Option<f64>,
    /// For `match: pattern` hits (identifiers nobody listed): confidence, reason and details.
    /// `None` for values of the profile.
    pub pattern: Option<PatternInfo>,
}

impl Hit {
    /// The hit for a location match, with the matched text as preimage.
    pub(crate) fn location(m: LocationMatch, preimage: String) -> Hit {
        Hit {
            kind: "location".into(),
            label: m.label,
            value: m.value,
            form: m.form.name().into(),
            preimage,
            start: m.start,
            end: m.end,
            decimals: Some(m.decimals),
            precision_m: Some(m.precision_m),
            pattern: None,
        }
    }

    /// A hit for something shaped like personal data that the profile does not list.
    pub(crate) fn pattern(p: phonehome_patterns::PatternHit) -> Hit {
        Hit {
            label: format!("{} (unlisted)", p.kind),
            kind: p.kind,
            preimage: p.value.clone(),
            value: p.value,
            form: "pattern".into(),
            start: p.start,
            end: p.end,
            decimals: None,
            precision_m: None,
            pattern: Some(PatternInfo {
                confidence: p.confidence.as_str().to_owned(),
                reason: p.reason,
                details: p.details,
            }),
        }
    }
}

/// What a `match: pattern` hit adds: how sure, why, and facts about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternInfo {
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// Why it was reported, in words.
    pub reason: String,
    /// Media type and size, app-list count, the sibling a group hit sits at…
    pub details: std::collections::BTreeMap<String, String>,
}

/// One automaton and what its patterns mean.
#[derive(Clone, Debug, Default)]
struct PatternSet {
    automaton: Option<AhoCorasick>,
    patterns: Vec<Pattern>,
    /// The texts SMS windows are cut from (collapsed or folded SMS texts).
    window_texts: Vec<String>,
}

/// A [`PatternSet`] being built.
#[derive(Default)]
struct PatternSetBuilder {
    texts: Vec<Vec<u8>>,
    patterns: Vec<Pattern>,
    /// Patterns are matched ASCII-case-insensitively, so they are keyed lower-cased.
    index: HashMap<Vec<u8>, usize>,
    window_texts: Vec<String>,
}

impl PatternSetBuilder {
    /// Adds `text` as a pattern meaning `meaning`, or adds the meaning to an existing pattern with
    /// the same (case-folded) text unless that pattern already means the same form of the same
    /// value.
    fn add(&mut self, text: &[u8], meaning: Meaning) {
        if text.is_empty() {
            return;
        }
        let key = text.to_ascii_lowercase();
        if let Some(&id) = self.index.get(&key) {
            if let Some(pattern) = self.patterns.get_mut(id) {
                let known = pattern.meanings.iter().any(|m| {
                    m.target == meaning.target
                        && m.form == meaning.form
                        && m.rule.same_kind(&meaning.rule)
                });
                if !known {
                    pattern.meanings.push(meaning);
                }
            }
            return;
        }
        self.index.insert(key, self.patterns.len());
        self.patterns.push(Pattern {
            neighbours: Neighbours::of(text),
            check_start: text.first().is_some_and(u8::is_ascii_alphanumeric),
            check_end: text.last().is_some_and(u8::is_ascii_alphanumeric),
            meanings: vec![meaning],
        });
        self.texts.push(text.to_vec());
    }

    /// A textual form of target `t`.
    fn text(&mut self, t: usize, form: &str) {
        self.add(
            form.as_bytes(),
            meaning(t, Form::Text, String::new(), Rule::Bounded),
        );
    }

    /// The MD5, SHA-1, SHA-256 and SHA-512 digests of `form`, in hex (either case) and in base64
    /// (standard and URL-safe alphabets, case-sensitive; one unpadded pattern matches with or
    /// without its padding).
    fn digests(&mut self, t: usize, form: &str) {
        let bytes = form.as_bytes();
        let digests = [
            (Form::Md5, Md5::digest(bytes).to_vec()),
            (Form::Sha1, Sha1::digest(bytes).to_vec()),
            (Form::Sha256, Sha256::digest(bytes).to_vec()),
            (Form::Sha512, Sha512::digest(bytes).to_vec()),
        ];
        for (kind, digest) in digests {
            let hex = hex::encode(&digest);
            self.add(
                hex.as_bytes(),
                meaning(t, kind, form.to_string(), Rule::Bounded),
            );
            let standard = STANDARD_NO_PAD.encode(&digest);
            let url_safe = URL_SAFE_NO_PAD.encode(&digest);
            let distinct = if url_safe == standard {
                vec![standard]
            } else {
                vec![standard, url_safe]
            };
            let padding = (3 - digest.len() % 3) % 3;
            for b64 in distinct {
                let rule = Rule::Base64 {
                    text: b64.as_bytes().into(),
                    padding,
                };
                self.add(b64.as_bytes(), meaning(t, kind, form.to_string(), rule));
            }
        }
    }

    /// The full `text` of an SMS (target `t`) and its windows of [`MIN_SMS_PARTIAL_CHARS`]
    /// characters (at most [`MAX_SMS_WINDOWS`]).
    fn sms(&mut self, t: usize, text: &str) {
        self.text(t, text);
        let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let Some(last_start) = starts.len().checked_sub(MIN_SMS_PARTIAL_CHARS) else {
            return;
        };
        if last_start == 0 {
            return; // the window would be the whole text
        }
        let positions = last_start + 1;
        let step = positions.div_ceil(MAX_SMS_WINDOWS).max(1);
        let index = self.window_texts.len();
        self.window_texts.push(text.to_string());
        let mut chosen: Vec<usize> = (0..positions).step_by(step).collect();
        if chosen.last() != Some(&last_start) {
            chosen.push(last_start);
        }
        for c in chosen {
            let (Some(&from), to) = (
                starts.get(c),
                starts
                    .get(c + MIN_SMS_PARTIAL_CHARS)
                    .copied()
                    .unwrap_or(text.len()),
            ) else {
                continue;
            };
            let Some(window) = text.get(from..to) else {
                continue;
            };
            let rule = Rule::Window {
                text: index,
                offset: from,
            };
            self.add(
                window.as_bytes(),
                meaning(t, Form::Window, String::new(), rule),
            );
        }
    }

    fn build(self) -> PatternSet {
        let automaton = if self.texts.is_empty() {
            None
        } else {
            // A DFA scans fastest (the scan is the hot loop of a whole analysis) but its size
            // grows with the states times the byte classes: it is used only for profiles of
            // ordinary size; larger ones get a contiguous NFA, several times smaller and slower.
            let pattern_bytes: usize = self.texts.iter().map(Vec::len).sum();
            let kind = if pattern_bytes <= MAX_DFA_PATTERN_BYTES {
                AhoCorasickKind::DFA
            } else {
                AhoCorasickKind::ContiguousNFA
            };
            let mut builder = AhoCorasickBuilder::new();
            builder
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard);
            builder
                .kind(Some(kind))
                .build(&self.texts)
                .or_else(|_| builder.kind(None).build(&self.texts))
                .ok()
        };
        PatternSet {
            automaton,
            patterns: self.patterns,
            window_texts: self.window_texts,
        }
    }
}

fn meaning(target: usize, form: Form, preimage: String, rule: Rule) -> Meaning {
    Meaning {
        target,
        form,
        preimage,
        rule,
    }
}

/// A match kept by [`PatternSet::select`]: a byte range of the scanned data and what it means.
struct Selected<'p> {
    start: usize,
    end: usize,
    meaning: &'p Meaning,
    /// For windows: whether the run covers its whole text.
    whole: bool,
}

impl PatternSet {
    /// Every match in `data` that satisfies its meaning's rule (IMEISVs extended over their two
    /// digits), at most [`MAX_MATCHES_PER_SCAN`]: `(start, end, pattern, meaning)`.
    fn candidates(&self, data: &[u8]) -> Vec<(usize, usize, usize, usize)> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for m in automaton.find_overlapping_iter(data) {
            let (start, end, id) = (m.start(), m.end(), m.pattern().as_usize());
            let Some(pattern) = self.patterns.get(id) else {
                continue;
            };
            let before = start.checked_sub(1).and_then(|i| data.get(i)).copied();
            let after = data.get(end).copied();
            let touches_before =
                pattern.check_start && before.is_some_and(|b| pattern.neighbours.forbids(b));
            let touches_after =
                pattern.check_end && after.is_some_and(|b| pattern.neighbours.forbids(b));
            let bounded = !touches_before && !touches_after;
            for (k, meaning) in pattern.meanings.iter().enumerate() {
                let span = match &meaning.rule {
                    Rule::Bounded => bounded.then_some((start, end)),
                    Rule::Base64 { text, padding } => {
                        let exact = bounded && data.get(start..end) == Some(&text[..]);
                        let padded = data
                            .get(end..end + padding)
                            .is_some_and(|p| p.iter().all(|b| *b == b'='));
                        exact.then_some((start, if padded { end + padding } else { end }))
                    }
                    Rule::TwoMoreDigits => {
                        let two = data
                            .get(end..end + 2)
                            .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
                        let third = data.get(end + 2).is_some_and(u8::is_ascii_digit);
                        let digit_before = before.is_some_and(|b| b.is_ascii_digit());
                        (two && !third && !digit_before).then_some((start, end + 2))
                    }
                    Rule::Window { .. } => Some((start, end)),
                };
                if let Some((s, e)) = span {
                    found.push((s, e, id, k));
                }
            }
            if found.len() >= MAX_MATCHES_PER_SCAN {
                found.truncate(MAX_MATCHES_PER_SCAN);
                break;
            }
        }
        found
    }

    /// The non-overlapping matches of `data`: leftmost first, and at one position the longest;
    /// every meaning of the chosen span (one per profile value). A window is extended, backwards
    /// no further than the previous match, over the longest run it shares with its text.
    fn select(&self, data: &[u8]) -> Vec<Selected<'_>> {
        let mut found = self.candidates(data);
        if found.is_empty() {
            return Vec::new();
        }
        found.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.1.cmp(&a.1))
                .then(a.2.cmp(&b.2))
                .then(a.3.cmp(&b.3))
        });
        let meaning_of =
            |id: usize, k: usize| self.patterns.get(id).and_then(|p| p.meanings.get(k));
        let mut out: Vec<Selected<'_>> = Vec::new();
        let mut covered_to = 0;
        let mut i = 0;
        while let Some(&(start, end, id, k)) = found.get(i) {
            i += 1;
            if start < covered_to {
                continue;
            }
            let Some(first) = meaning_of(id, k) else {
                continue;
            };
            if let Rule::Window { text, offset } = first.rule {
                let Some(window_text) = self.window_texts.get(text) else {
                    continue;
                };
                let Some((s, e, whole)) =
                    extend_window(data, start, end, covered_to, window_text, offset)
                else {
                    continue;
                };
                covered_to = e;
                out.push(Selected {
                    start: s,
                    end: e,
                    meaning: first,
                    whole,
                });
                continue;
            }
            covered_to = end;
            let mut targets = vec![first.target];
            out.push(Selected {
                start,
                end,
                meaning: first,
                whole: false,
            });
            while let Some(&(s2, e2, id2, k2)) = found.get(i) {
                if (s2, e2) != (start, end) {
                    break;
                }
                i += 1;
                let Some(other) = meaning_of(id2, k2) else {
                    continue;
                };
                if matches!(other.rule, Rule::Window { .. }) || targets.contains(&other.target) {
                    continue;
                }
                targets.push(other.target);
                out.push(Selected {
                    start,
                    end,
                    meaning: other,
                    whole: false,
                });
            }
        }
        out
    }
}

/// Extends the window match `start..end` of `text` at `offset` over the longest run of `data`
/// equal to `text` (ASCII case ignored), backwards no further than `floor`, cut to whole
/// characters of `text` and trimmed of spaces: `(start, end, whether the run is all of text)`, or
/// `None` when fewer than [`MIN_SMS_PARTIAL_CHARS`] characters remain.
fn extend_window(
    data: &[u8],
    start: usize,
    end: usize,
    floor: usize,
    text: &str,
    offset: usize,
) -> Option<(usize, usize, bool)> {
    let t = text.as_bytes();
    let (mut s, mut o) = (start, offset);
    while s > floor && o > 0 {
        match (data.get(s - 1), t.get(o - 1)) {
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => {
                s -= 1;
                o -= 1;
            }
            _ => break,
        }
    }
    let (mut e, mut oe) = (end, offset + (end - start));
    while let (Some(a), Some(b)) = (data.get(e), t.get(oe)) {
        if !a.eq_ignore_ascii_case(b) {
            break;
        }
        e += 1;
        oe += 1;
    }
    // Whole characters, no spaces at the edges.
    while o < oe && (!text.is_char_boundary(o) || t.get(o) == Some(&b' ')) {
        o += 1;
        s += 1;
    }
    while oe > o && (!text.is_char_boundary(oe) || t.get(oe - 1) == Some(&b' ')) {
        oe -= 1;
        e -= 1;
    }
    let run = text.get(o..oe)?;
    (run.chars().count() >= MIN_SMS_PARTIAL_CHARS).then_some((s, e, o == 0 && oe == t.len()))
}

/// Finds a profile's values, in all their forms, in byte strings.
///
/// Built once per profile; [`Detector::scan`] is a single pass of one automaton over the data
/// whatever the number of values (over a folded copy of the data when the profile has texts that
/// fold and the data has non-ASCII bytes or unusual whitespace; plus a numeric pass for coordinate
/// pairs), and allocates nothing when nothing matches in ASCII data.
#[derive(Clone, Debug)]
pub struct Detector {
    main: PatternSet,
    /// Whether data that needs it is folded before the scan: the profile has names, SMS texts
    /// or texts with non-ASCII characters or whitespace.
    folds: bool,
    targets: Vec<Target>,
    locations: LocationMatcher,
    /// Identifiers nobody listed (`match: pattern`).
    unlisted: phonehome_patterns::PatternScanner,
}

impl Detector {
    /// Builds the automata for every value of `profile`.
    ///
    /// Building can only fail when an automaton would exceed aho-corasick's state-ID space
    /// (millions of patterns, far beyond any profile); the detector then matches nothing of it.
    pub fn new(profile: &Profile) -> Self {
        let region = profile.region.as_deref().and_then(variants::region_id);
        let targets = profile.targets();
        let mut main = PatternSetBuilder::default();
        let mut folds = false;
        for (t, target) in targets.iter().enumerate() {
            let value = target.value.as_str();
            let forms = match target.shape {
                Shape::Text | Shape::Name => variants::text(value),
                Shape::Imei => variants::imei(value),
                Shape::Mac => variants::mac(value),
                Shape::Uuid => variants::uuid(value),
                Shape::Phone => variants::phone(value, region).0,
                Shape::Sms => {
                    let mut forms = variants::text(value);
                    for form in variants::text(&collapse_whitespace(value)) {
                        if !forms.contains(&form) {
                            forms.push(form);
                        }
                    }
                    forms
                }
            };
            for form in &forms {
                main.text(t, form);
            }
            for form in variants::canonical(target.shape, value, region) {
                main.digests(t, &form);
            }
            match target.shape {
                Shape::Imei => {
                    if let Some(body) =
                        variants::imei_full(value).and_then(|f| f.get(..14).map(str::to_string))
                    {
                        main.add(
                            body.as_bytes(),
                            meaning(t, Form::Imeisv, String::new(), Rule::TwoMoreDigits),
                        );
                    }
                }
                Shape::Name => {
                    main.text(t, fold_str(value).trim());
                    folds = true;
                }
                Shape::Sms => {
                    main.sms(t, &collapse_whitespace(value));
                    main.sms(t, fold_str(value).trim());
                    folds = true;
                }
                Shape::Text if needs_folding(value.as_bytes()) => {
                    main.text(t, fold_str(value).trim());
                    folds = true;
                }
                _ => {}
            }
        }
        Self {
            main: main.build(),
            folds,
            targets,
            locations: LocationMatcher::new(&profile.locations),
            unlisted: phonehome_patterns::PatternScanner::new(profile.region.as_deref()),
        }
    }

    /// The scanner for identifiers the profile does not list.
    pub fn unlisted(&self) -> &phonehome_patterns::PatternScanner {
        &self.unlisted
    }

    /// Number of distinct patterns (all forms and digests of all values) in the main automaton.
    pub fn pattern_count(&self) -> usize {
        self.main.patterns.len()
    }

    /// Heap bytes used by the automaton, as aho-corasick reports them.
    pub fn automaton_bytes(&self) -> usize {
        self.main
            .automaton
            .as_ref()
            .map_or(0, AhoCorasick::memory_usage)
    }

    /// The kind of the main automaton: `DFA` when the patterns fit its size limit, else an NFA.
    pub fn automaton_kind(&self) -> Option<String> {
        self.main
            .automaton
            .as_ref()
            .map(|a| format!("{:?}", a.kind()))
    }

    /// Every match in `data`, sorted by position:
    ///
    /// - automaton matches whose alphanumeric edges do not touch a character of their own class
    ///   (a digit pattern inside a longer digit run is not a match, nor is hex inside hex); where
    ///   they overlap the leftmost wins, and at one position the longest (one hit per profile
    ///   value a pattern stands for). When the profile has names, SMS texts or non-ASCII texts and
    ///   `data` has non-ASCII bytes or unusual whitespace and is at most
    ///   [`crate::MAX_FOLDED_NODE_BYTES`] long, the one pass runs over a folded copy of `data`
    ///   (non-ASCII characters NFKC-normalised and lower-cased, whitespace runs one space, ASCII
    ///   kept as it is) and hits are mapped back to `data`;
    /// - coordinate pairs written in `data` that match a `[[location]]` (see the crate docs).
    pub fn scan(&self, data: &[u8]) -> Vec<Hit> {
        let mut hits: Vec<Hit> =
            if self.folds && data.len() <= MAX_FOLDED_NODE_BYTES && needs_folding(data) {
                let folded = Folded::new(data);
                self.main
                    .select(&folded.text)
                    .into_iter()
                    .filter_map(|s| {
                        let (start, end) = folded.original_range(s.start, s.end);
                        self.hit(data, start, end, s.meaning, s.whole)
                    })
                    .collect()
            } else {
                self.main
                    .select(data)
                    .into_iter()
                    .filter_map(|s| self.hit(data, s.start, s.end, s.meaning, s.whole))
                    .collect()
            };
        if !self.locations.is_empty() {
            for m in self.locations.scan_text(data) {
                let text = data.get(m.start..m.end).unwrap_or_default();
                let preimage = String::from_utf8_lossy(text).into_owned();
                hits.push(Hit::location(m, preimage));
            }
        }
        hits.sort_by_key(|h| h.start);
        hits
    }

    /// The hit for a selected match of `data[start..end]`.
    fn hit(
        &self,
        data: &[u8],
        start: usize,
        end: usize,
        meaning: &Meaning,
        whole: bool,
    ) -> Option<Hit> {
        let target = self.targets.get(meaning.target)?;
        let matched = data.get(start..end).unwrap_or_default();
        let text = || String::from_utf8_lossy(matched).into_owned();
        let (form, preimage) = match meaning.form {
            Form::Text | Form::Window if matched == target.value.as_bytes() => {
                ("plain", target.value.clone())
            }
            Form::Text => ("formatted", text()),
            Form::Window if whole => ("formatted", text()),
            Form::Window | Form::Imeisv => (meaning.form.name(), text()),
            digest => (digest.name(), meaning.preimage.clone()),
        };
        Some(Hit {
            kind: target.kind.clone(),
            label: target.label.clone(),
            value: target.value.clone(),
            form: form.to_string(),
            preimage,
            start,
            end,
            decimals: None,
            precision_m: None,
            pattern: None,
        })
    }

    /// The coordinate matcher, for sibling pairing in [`crate::detect_message`].
    pub(crate) fn locations(&self) -> &LocationMatcher {
        &self.locations
    }
}

#[cfg(test)]
mod tests;
