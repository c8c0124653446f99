//! UTC timestamps.

use serde::{Serialize, Serializer};
use std::fmt;

/// A UTC instant with nanosecond resolution (Unix epoch based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Nanoseconds since 1970-01-01T00:00:00Z (negative before it).
    nanos: i128,
}

impl Timestamp {
    /// The instant `nanos` nanoseconds after the Unix epoch.
    pub const fn from_unix_nanos(nanos: i128) -> Self {
        Self { nanos }
    }

    /// The instant `secs` seconds plus `frac_nanos` nanoseconds after the Unix epoch.
    pub fn from_secs_nanos(secs: i64, frac_nanos: u32) -> Self {
        Self {
            nanos: i128::from(secs) * 1_000_000_000 + i128::from(frac_nanos),
        }
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(self) -> i128 {
        self.nanos
    }

    /// Microseconds since the Unix epoch (rounded towards negative infinity).
    pub fn unix_micros(self) -> i64 {
        let micros = self.nanos.div_euclid(1000);
        i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
    }

    /// Parses an RFC 3339 / ISO 8601 date-time such as HAR's `startedDateTime`
    /// (`2026-11-24T10:00:00.000Z`, `2023-03-30T00:00:54.250+02:00`). Returns `None` when it is not one.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.trim().as_bytes();
        let num = |s: &[u8]| -> Option<i64> {
            if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(s).ok()?.parse().ok()
        };
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let year = num(&b[0..4])?;
        let month = num(&b[5..7])?;
        let day = num(&b[8..10])?;
        let hour = num(&b[11..13])?;
        let min = num(&b[14..16])?;
        let sec = num(&b[17..19])?;
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || min > 59
            || sec > 60
        {
            return None;
        }
        let mut rest = &b[19..];
        let mut frac_nanos: i128 = 0;
        if let Some((&b'.', tail)) = rest.split_first() {
            let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            for (i, d) in tail[..digits].iter().enumerate() {
                if i < 9 {
                    frac_nanos = frac_nanos * 10 + i128::from(d - b'0');
                }
            }
            for _ in digits..9 {
                frac_nanos *= 10;
            }
            rest = &tail[digits..];
        }
        let offset_secs: i64 = match rest {
            [] | [b'Z'] | [b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]
            | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
                let h = num(&[*h1, *h2])?;
                let m = num(&[*m1, *m2])?;
                let s = h * 3600 + m * 60;
                if *sign == b'+' {
                    s
                } else {
                    -s
                }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month as u32, day as u32);
        let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
        Some(Self {
            nanos: i128::from(secs) * 1_000_000_000 + frac_nanos,
        })
    }

    /// RFC 3339 in UTC with microseconds: `2026-11-24T22:05:38.123456Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.nanos.div_euclid(1000);
        let secs = micros.div_euclid(1_000_000);
        let frac = micros.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            y,
            m,
            d,
            sod / 3600,
            (sod % 3600) / 60,
            sod % 60,
            frac
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Timestamp::parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: `{text}`")))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_and_micros() {
        assert_eq!(
            Timestamp::default().to_string(),
            "1970-01-01T00:00:00.000000Z"
        );
        let t = Timestamp::from_secs_nanos(1_795_989_938, 123_456_789);
        assert_eq!(t.to_string(), "2026-11-29T22:05:38.123456Z");
    }

    #[test]
    fn parses_har_dates() {
        let t = Timestamp::parse_rfc3339("2026-11-24T10:00:00.000Z").expect("valid");
        assert_eq!(t.to_string(), "2026-11-24T10:00:00.000000Z");
        let t = Timestamp::parse_rfc3339("2023-03-30T02:00:54.25+02:00").expect("valid");
        assert_eq!(t.to_string(), "2023-03-30T00:00:54.250000Z");
        let t = Timestamp::parse_rfc3339("1993-08-24T14:41:12+00:00").expect("valid");
        assert_eq!(t.to_string(), "1993-08-24T14:41:12.000000Z");
    }

    #[test]
    fn rejects_garbage_dates() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-24T10:00:00.Z",
            "2026-11-24T10:00:00+5",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn round_trips_many_days() {
        for days in [-1_000_000i64, -1, 0, 59, 365, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
