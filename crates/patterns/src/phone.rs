//! Phone numbers: `+` forms anywhere, validated with libphonenumber's metadata (the `phonenumber`
//! crate). Only a canonical `+<digits>` string (or bare digits with a region) is handed to the
//! parser, never raw input.

use crate::{byte_before, is_word, Confidence, Hits, PatternHit};
use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::Type;

/// Most `+` candidates per node handed to libphonenumber (parsing is far costlier than the scan).
pub const MAX_PHONE_CANDIDATES: usize = 32;

/// Longest span of a written number after the `+`, separators included.
const MAX_PHONE_SPAN: usize = 24;

/// Fewest and most digits of an international number (E.164 allows at most 15).
const MIN_INTL_DIGITS: usize = 8;
const MAX_INTL_DIGITS: usize = 15;

/// A number libphonenumber calls valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ValidNumber {
    /// E.164 form, `+447700900123`.
    pub e164: String,
    /// Region code, `GB`, when the metadata names one.
    pub region: Option<String>,
    /// `mobile`, `fixed line`, … from the metadata.
    pub line: &'static str,
}

impl ValidNumber {
    /// "valid +44 number (GB, mobile)".
    pub(crate) fn describe(&self) -> String {
        match &self.region {
            Some(r) => format!(
                "{} is a valid number ({r}, {}) per libphonenumber's metadata",
                self.e164, self.line
            ),
            None => format!(
                "{} is a valid number ({}) per libphonenumber's metadata",
                self.e164, self.line
            ),
        }
    }

    /// Attaches `e164` and `region` details to a hit.
    pub(crate) fn detail(&self, hit: PatternHit) -> PatternHit {
        let hit = hit.with("e164", self.e164.clone());
        match &self.region {
            Some(r) => hit.with("region", r.clone()),
            None => hit,
        }
    }
}

fn line_name(t: Type) -> &'static str {
    match t {
        Type::Mobile => "mobile",
        Type::FixedLine => "fixed line",
        Type::FixedLineOrMobile => "fixed line or mobile",
        Type::TollFree => "toll-free",
        Type::PremiumRate => "premium rate",
        Type::SharedCost => "shared cost",
        Type::PersonalNumber => "personal number",
        Type::Voip => "VoIP",
        Type::Pager => "pager",
        Type::Uan => "UAN",
        Type::Emergency => "emergency",
        Type::Voicemail => "voicemail",
        _ => "unknown line type",
    }
}

/// Most validation results remembered per thread; the memo is emptied when full.
pub const MAX_VALIDATION_MEMO: usize = 4096;

/// Validation results by (region, digits).
type Memo = std::collections::HashMap<(Option<Id>, String), Option<ValidNumber>>;

thread_local! {
    /// libphonenumber's validation goes through regexes behind a string-keyed cache and is by far
    /// the costliest check here, while the same numbers recur in every decoded copy of a body and
    /// in every request of a session: results are remembered, keyed by (region, digits).
    static MEMO: std::cell::RefCell<Memo> = std::cell::RefCell::new(Memo::new());
}

/// `validate(digits)` through the per-thread memo.
fn memoized(
    region: Option<Id>,
    digits: &str,
    validate: impl FnOnce() -> Option<ValidNumber>,
) -> Option<ValidNumber> {
    let key = (region, digits.to_owned());
    if let Some(hit) = MEMO.with(|m| m.borrow().get(&key).cloned()) {
        return hit;
    }
    let result = validate();
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MAX_VALIDATION_MEMO {
            m.clear();
        }
        m.insert(key, result.clone());
    });
    result
}

/// Validates an international number given as its digits (country code first).
pub(crate) fn valid_international(digits: &str) -> Option<ValidNumber> {
    if !(MIN_INTL_DIGITS..=MAX_INTL_DIGITS).contains(&digits.len())
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    memoized(None, digits, || {
        let number = phonenumber::parse(None, format!("+{digits}")).ok()?;
        finish(&number)
    })
}

/// Validates a national number (digits only, trunk prefix allowed) in `region`.
pub(crate) fn valid_national(digits: &str, region: Id) -> Option<ValidNumber> {
    if !(5..=MAX_INTL_DIGITS + 1).contains(&digits.len())
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    memoized(Some(region), digits, || {
        let number = phonenumber::parse(Some(region), digits).ok()?;
        finish(&number)
    })
}

fn finish(number: &phonenumber::PhoneNumber) -> Option<ValidNumber> {
    if !phonenumber::is_valid(number) {
        return None;
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    let region = number.country().id().map(|id| id.as_ref().to_string());
    let line = line_name(number.number_type(&DATABASE));
    Some(ValidNumber { e164, region, line })
}

/// Separators allowed between digit groups of a written number.
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'(' | b')')
}

/// Reads a written number starting at the `+` at `plus`: returns its end and its digits.
/// At most two separators may follow each other, never the same one twice (`1  2`), and `.` must appear at least twice when it appears (one
/// `.` is a signed decimal, `+1234567.891`).
fn read_number(data: &[u8], plus: usize) -> Option<(usize, String)> {
    let mut digits = String::new();
    let mut end = plus + 1;
    let mut last_digit_end = end;
    let mut dots = 0;
    // Consecutive separators so far, and the last one: at most two in a row (`) ` or ` (`), never
    // the same one twice.
    let mut sep_run = 0;
    let mut last_sep = 0u8;
    let limit = (plus + 1 + MAX_PHONE_SPAN).min(data.len());
    if !data.get(end).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    while end < limit {
        let b = *data.get(end)?;
        if b.is_ascii_digit() {
            digits.push(char::from(b));
            sep_run = 0;
            last_sep = 0;
            end += 1;
            last_digit_end = end;
        } else if is_separator(b) && sep_run < 2 && b != last_sep {
            if b == b'.' {
                dots += 1;
            }
            sep_run += 1;
            last_sep = b;
            end += 1;
        } else {
            break;
        }
    }
    if dots == 1 {
        return None;
    }
    // A digit right after the span means the number went on past MAX_PHONE_SPAN.
    if data.get(last_digit_end).is_some_and(|&b| is_word(b)) {
        return None;
    }
    Some((last_digit_end, digits))
}

/// Finds `+` numbers standing alone and keeps those libphonenumber calls valid.
pub(crate) fn scan(data: &[u8], hits: &mut Hits) {
    let mut tried = 0;
    for plus in memchr::memchr_iter(b'+', data) {
        if tried >= MAX_PHONE_CANDIDATES || hits.full() {
            break;
        }
        if byte_before(data, plus).is_some_and(|b| is_word(b) || b == b'+') {
            continue;
        }
        let Some((end, digits)) = read_number(data, plus) else {
            continue;
        };
        if !(MIN_INTL_DIGITS..=MAX_INTL_DIGITS).contains(&digits.len()) {
            continue;
        }
        tried += 1;
        let Some(number) = valid_international(&digits) else {
            continue;
        };
        let text = String::from_utf8_lossy(data.get(plus..end).unwrap_or_default()).into_owned();
        let hit = PatternHit::new(
            "phone_number",
            text,
            plus..end,
            Confidence::Medium,
            number.describe(),
        );
        hits.push(number.detail(hit));
    }
}

/// Reads a value under a phone key: `+…` or `00…` as international, else national digits in
/// `region`. Returns the validated number, or the bare digits when it has 7–15 digits and only
/// separators besides.
pub(crate) fn read_keyed(value: &str, region: Option<Id>) -> Option<Result<ValidNumber, String>> {
    let trimmed = value.trim();
    let body = trimmed.strip_prefix('+');
    let rest = body.unwrap_or(trimmed);
    if !rest.bytes().all(|b| b.is_ascii_digit() || is_separator(b)) {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let valid = if body.is_some() {
        valid_international(&digits)
    } else if let Some(intl) = digits.strip_prefix("00") {
        valid_international(intl)
    } else {
        region.and_then(|r| valid_national(&digits, r))
    };
    match valid {
        Some(v) => Some(Ok(v)),
        None if (7..=MAX_INTL_DIGITS).contains(&digits.len())
            && !digits.bytes().all(|b| b == b'0') =>
        {
            Some(Err(digits))
        }
        None => None,
    }
}
