//! What a single value looks like: a clock reading, an integer, an identifier.

use phonehome_model::Timestamp;

/// How far from its message's capture time a value may be and still read as a clock reading.
pub const CLOCK_WINDOW_SECS: f64 = 86_400.0;

/// 2000-01-01T00:00:00Z, the earliest clock reading accepted when a message has no time.
const EARLIEST: f64 = 946_684_800.0;
/// 2100-01-01T00:00:00Z, the latest.
const LATEST: f64 = 4_102_444_800.0;

/// Longest value, in bytes, that may be an identifier.
const MAX_ID_BYTES: usize = 512;

/// The shape facts [`crate::diff_runs`] keeps about one value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    /// A Unix time (s, ms, µs or ns, integer or decimal) or a date-time string near the message's
    /// time.
    pub clock: bool,
    /// The value as a non-negative integer of at most 19 digits.
    pub int: Option<u64>,
    /// Looks like an identifier: 6 to 512 characters without white space or control characters,
    /// at least 4 of them letters or digits, at least one a digit, and not a clock reading.
    pub id_like: bool,
}

/// The shape of `data`, a value sent at `time`.
pub(crate) fn shape(data: &[u8], time: Option<Timestamp>) -> Shape {
    if data.len() > MAX_ID_BYTES {
        // Too long to be an identifier, a number or a clock reading.
        return Shape::default();
    }
    let Ok(text) = std::str::from_utf8(data) else {
        // Binary: not a clock or a number; an identifier if long enough to be one.
        return Shape {
            id_like: data.len() >= 6,
            ..Shape::default()
        };
    };
    let text = text.trim().trim_matches('"');
    let int = (!text.is_empty() && text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse::<u64>().ok())
        .flatten();
    let clock = is_clock(text, time);
    let alnum = text.chars().filter(char::is_ascii_alphanumeric).count();
    let id_like = !clock
        && (6..=512).contains(&text.chars().count())
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && alnum >= 4
        && text.bytes().any(|b| b.is_ascii_digit());
    Shape {
        clock,
        int,
        id_like,
    }
}

/// Whether `text` reads as a time near `time` (within [`CLOCK_WINDOW_SECS`]); without a message
/// time, whether it is a Unix time in seconds (10 digits), milliseconds (13), microseconds (16) or
/// nanoseconds (19) between 2000 and 2100, or a date-time in that range.
fn is_clock(text: &str, time: Option<Timestamp>) -> bool {
    let near = |secs: f64| match time {
        Some(t) => {
            let at = t.unix_nanos() as f64 / 1e9;
            (secs - at).abs() <= CLOCK_WINDOW_SECS
        }
        None => (EARLIEST..=LATEST).contains(&secs),
    };
    let b = text.as_bytes();
    if b.is_empty() {
        return false;
    }
    // Integer or decimal Unix time.
    let (int_part, frac) = match text.split_once('.') {
        Some((i, f)) if !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()) => (i, Some(f)),
        Some(_) => ("", None),
        None => (text, None),
    };
    if !int_part.is_empty() && int_part.bytes().all(|c| c.is_ascii_digit()) {
        let digits = int_part.len();
        // yyyyMMddHHmmss
        if digits == 14 && frac.is_none() {
            if let Some(t) = compact_date_time(int_part) {
                if near(t) {
                    return true;
                }
            }
        }
        if !(9..=19).contains(&digits) {
            return false;
        }
        let Ok(n) = int_part.parse::<f64>() else {
            return false;
        };
        let n = match frac {
            Some(f) => n + format!("0.{f}").parse::<f64>().unwrap_or(0.0),
            None => n,
        };
        return [1.0, 1e3, 1e6, 1e9].iter().enumerate().any(|(i, scale)| {
            // Without a message time, only the usual digit counts for each unit.
            let digits_ok = time.is_some() || digits == 10 + 3 * i;
            digits_ok && near(n / scale)
        });
    }
    // RFC 3339 / ISO 8601 date-time, with or without a zone.
    if b.len() >= 19 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
        let parsed = Timestamp::parse_rfc3339(text).or_else(|| {
            let head = text.get(..19)?;
            Timestamp::parse_rfc3339(&format!("{head}Z"))
        });
        if let Some(t) = parsed {
            return near(t.unix_nanos() as f64 / 1e9);
        }
    }
    false
}

/// `yyyyMMddHHmmss` as Unix seconds (UTC assumed).
fn compact_date_time(s: &str) -> Option<f64> {
    let text = format!(
        "{}-{}-{}T{}:{}:{}Z",
        s.get(0..4)?,
        s.get(4..6)?,
        s.get(6..8)?,
        s.get(8..10)?,
        s.get(10..12)?,
        s.get(12..14)?
    );
    Timestamp::parse_rfc3339(&text).map(|t| t.unix_nanos() as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24T10:00:00Z.
    fn at() -> Option<Timestamp> {
        Some(Timestamp::from_secs_nanos(1_795_514_400, 0))
    }

    #[test]
    fn clock_readings_near_the_message() {
        for v in [
            "1795514412",
            "1795514412345",
            "1795514412345678",
            "1795514412345678901",
            "1795514412.25",
            "2026-11-24T10:01:02Z",
            "2026-11-24T10:01:02.123+01:00",
            "2026-11-24 10:01:02",
            "20261124100102",
        ] {
            assert!(shape(v.as_bytes(), at()).clock, "{v}");
        }
        // A week away, an IMEI, a small number, a version.
        for v in [
            "1796119200",
            "356938035643809",
            "42",
            "5.2.1",
            "2026-12-24T10:00:00Z",
        ] {
            assert!(!shape(v.as_bytes(), at()).clock, "{v}");
        }
        // Without a message time: the usual digit counts in 2000..2100.
        assert!(shape(b"1795514412345", None).clock);
        assert!(!shape(b"179551441234", None).clock);
        assert!(!shape(b"356938035643809", None).clock);
    }

    #[test]
    fn integers_and_identifiers() {
        let s = shape(b"356938035643809", at());
        assert_eq!(s.int, Some(356_938_035_643_809));
        assert!(s.id_like);
        assert!(shape(b"9774d56d682e549c", at()).id_like);
        assert!(!shape(b"en", at()).id_like);
        assert!(!shape(b"Dinner at 8?", at()).id_like);
        assert!(!shape(b"\x1b[31mred", at()).id_like, "a control character");
        assert!(!shape(b"application/json", at()).id_like, "no digit");
        assert!(!shape(b"1795514412345", at()).id_like, "a clock");
        assert_eq!(shape(b"12345678901234567890", at()).int, None, "20 digits");
    }
}
