//! Call-log entries: a phone number beside a call duration or a call time among siblings.

use crate::keys::{classify_key, is_call_time_key, is_duration_key, normalize_bare_key};
use crate::phone::{read_keyed, ValidNumber};
use crate::{trimmed_text, Confidence, Hits, PatternHit, PatternScanner};

/// Epoch seconds accepted as a call time: 2000-01-01 to 2100-01-01.
const MIN_EPOCH_S: u64 = 946_684_800;
const MAX_EPOCH_S: u64 = 4_102_444_800;
/// Longest call duration accepted, in seconds or milliseconds (about 2.8 hours in ms, 115 days in
/// seconds).
const MAX_DURATION: u64 = 10_000_000;

/// Keys that hold the other party's number in call logs (besides the telling phone keys).
const NUMBER_KEYS: &[&str] = &[
    "address",
    "callee",
    "caller",
    "callernumber",
    "from",
    "num",
    "number",
    "to",
];

/// True when `text` is a time: epoch seconds or milliseconds in range, or an ISO 8601 date
/// (`2024-05-01`, optionally followed by a time).
pub(crate) fn is_timestamp(text: &str) -> bool {
    let t = text.trim();
    if t.bytes().all(|b| b.is_ascii_digit()) {
        let Ok(n) = t.parse::<u64>() else {
            return false;
        };
        return match t.len() {
            10 => (MIN_EPOCH_S..MAX_EPOCH_S).contains(&n),
            13 => (MIN_EPOCH_S * 1000..MAX_EPOCH_S * 1000).contains(&n),
            _ => false,
        };
    }
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = t.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && (2000..2100).contains(&year)
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && matches!(b.get(10), None | Some(b'T' | b' '))
}

/// The number in one sibling, when it reads as the other party of a call.
fn number_in(
    scanner: &PatternScanner,
    key: &str,
    value: &str,
) -> Option<Result<ValidNumber, String>> {
    let telling = classify_key(key).is_some_and(|c| c.kind == "phone_number");
    let number_key = normalize_bare_key(key).is_some_and(|k| NUMBER_KEYS.contains(&k.as_str()));
    if telling || number_key {
        if is_timestamp(value) {
            return None;
        }
        return read_keyed(value, scanner.region());
    }
    if value.trim_start().starts_with('+') {
        return match read_keyed(value, None)? {
            Ok(v) => Some(Ok(v)),
            Err(_) => None,
        };
    }
    None
}

/// Finds one call-log entry among siblings.
pub(crate) fn scan_group(scanner: &PatternScanner, siblings: &[(&str, &[u8])], hits: &mut Hits) {
    let mut number: Option<(usize, std::ops::Range<usize>, Result<ValidNumber, String>)> = None;
    let mut duration: Option<(&str, &str)> = None;
    let mut call_time: Option<(&str, &str)> = None;
    let mut other_time: Option<(&str, &str)> = None;
    for (idx, &(key, value)) in siblings.iter().enumerate() {
        let Some((text, offset)) = trimmed_text(value) else {
            continue;
        };
        if text.is_empty() || text.len() > 64 {
            continue;
        }
        if number.is_none() {
            if let Some(found) = number_in(scanner, key, text) {
                number = Some((idx, offset..offset + text.len(), found));
                continue;
            }
        }
        let integer = text.parse::<u64>().ok();
        if duration.is_none() && is_duration_key(key) && integer.is_some_and(|d| d <= MAX_DURATION)
        {
            duration = Some((key, text));
        } else if is_timestamp(text) {
            if is_call_time_key(key) {
                call_time.get_or_insert((key, text));
            } else {
                other_time.get_or_insert((key, text));
            }
        }
    }
    let Some((idx, range, found)) = number else {
        return;
    };
    let time = call_time.or(other_time);
    let (mut confidence, beside) = match (duration, call_time, other_time) {
        (Some((k, v)), ..) => (Confidence::High, format!("a call duration `{k}` = {v}")),
        (None, Some((k, v)), _) => (Confidence::Medium, format!("a call time `{k}` = {v}")),
        (None, None, Some((k, v))) => (Confidence::Low, format!("a timestamp `{k}` = {v}")),
        (None, None, None) => return,
    };
    let (value, what, valid) = match &found {
        Ok(v) => (v.e164.clone(), v.describe(), Some(v)),
        Err(digits) => (
            digits.clone(),
            format!("{} digits under a number key (not validated)", digits.len()),
            None,
        ),
    };
    if valid.is_none() {
        confidence = match confidence {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        };
    }
    let mut hit = PatternHit::new(
        "call_log",
        value,
        range,
        confidence,
        format!("{what}, beside {beside}"),
    )
    .with("sibling", idx.to_string());
    if let Some((_, v)) = duration {
        hit = hit.with("duration", v);
    }
    if let Some((_, v)) = time {
        hit = hit.with("time", v);
    }
    if let Some(v) = valid {
        hit = v.detail(hit);
    }
    hits.push(hit);
}
