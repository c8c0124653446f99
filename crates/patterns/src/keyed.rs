//! Values under telling keys: shape hits raised by the key, and the key's rule applied to the
//! value itself.

use crate::device_ids::{
    hex_meid_shape, imei_shape, imsi_shape, mac_note, mac_placeholder, parse_any_mac, uuid_shape,
    UuidShape,
};
use crate::keys::{KeyClass, Rule};
use crate::location::{plausible, whole_decimal, whole_pair};
use crate::numbering::luhn_valid;
use crate::{
    email, phone, trimmed_text, Confidence, Hits, PatternHit, PatternScanner, MAX_KEYED_VALUE_LEN,
};

/// Values that mean "none" whatever the key (compared ASCII-case-insensitively).
const PLACEHOLDERS: &[&str] = &[
    "-",
    "-1",
    "0",
    "0x0",
    "<unknown ssid>",
    "[]",
    "default",
    "empty",
    "false",
    "n/a",
    "na",
    "nil",
    "none",
    "null",
    "true",
    "undefined",
    "unknown",
    "unknown ssid",
    "{}",
];

/// True when `value` says "no value": a listed placeholder, only zeros and separators
/// (`000000000000000`, `00:00:00:00:00:00`, the all-zero UUID), Android's fake MAC, or one
/// character repeated (`ffffffffffff`).
pub(crate) fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(v)) {
        return true;
    }
    if v.eq_ignore_ascii_case("02:00:00:00:00:00") || v == "020000000000" {
        return true;
    }
    let significant: Vec<u8> = v
        .bytes()
        .filter(|b| !matches!(b, b':' | b'-' | b'.' | b' '))
        .collect();
    if significant.iter().all(|&b| b == b'0') {
        return true;
    }
    significant.len() >= 6
        && significant
            .windows(2)
            .all(|w| w.first().map(u8::to_ascii_lowercase) == w.get(1).map(u8::to_ascii_lowercase))
}

/// The kind a shape hit takes under a key of `key_kind`, when the two agree: the same kind, a MAC
/// under a BSSID key (`bssid`), a UUID under an id key (the key's kind), or a specific id (IMEI,
/// MEID, MAC) under a generic device-id key (the specific kind).
fn merged_kind(key_kind: &'static str, shape_kind: &str) -> Option<String> {
    let merged = match (key_kind, shape_kind) {
        (k, s) if k == s => k,
        ("bssid", "mac") => "bssid",
        ("oaid" | "android_id" | "device_id", "advertising_id") => key_kind,
        ("device_id", "imei" | "meid" | "mac") => return Some(shape_kind.to_string()),
        ("imei", "meid") => "meid",
        _ => return None,
    };
    Some(merged.to_string())
}

/// Applies a telling key to a node's hits: shape hits of an agreeing kind become high; when there
/// are none, the value itself is checked against the key's rule and, when it passes, replaces the
/// shape hits it covers.
pub(crate) fn apply(
    scanner: &PatternScanner,
    class: KeyClass,
    key: &str,
    text: &[u8],
    hits: &mut Hits,
) {
    let mut raised = false;
    for hit in hits.list.iter_mut() {
        if let Some(kind) = merged_kind(class.kind, &hit.kind) {
            hit.kind = kind;
            hit.confidence = Confidence::High;
            hit.reason = format!("{}, under key `{key}`", hit.reason);
            raised = true;
        }
    }
    if raised {
        return;
    }
    let Some(hit) = check_value(scanner, class, key, text) else {
        return;
    };
    hits.list
        .retain(|h| h.end <= hit.start || h.start >= hit.end);
    hits.push(hit);
}

/// Checks the value under a telling key against the key's rule.
fn check_value(
    scanner: &PatternScanner,
    class: KeyClass,
    key: &str,
    text: &[u8],
) -> Option<PatternHit> {
    let (value, offset) = trimmed_text(text)?;
    if value.is_empty()
        || value.len() > MAX_KEYED_VALUE_LEN
        || value.starts_with('{')
        || value.starts_with('[')
        || is_placeholder(value)
    {
        return None;
    }
    let range = offset..offset + value.len();
    let kind = class.kind;
    let make = |confidence, reason: String| {
        Some(PatternHit::new(
            kind,
            value,
            range.clone(),
            confidence,
            reason,
        ))
    };
    let digits_only = value.bytes().all(|b| b.is_ascii_digit());
    let bytes = value.as_bytes();
    let high = Confidence::High;
    match class.rule {
        Rule::Imei if digits_only => match value.len() {
            15 => match imei_shape(bytes) {
                Some(reason) => make(high, format!("{reason}, under key `{key}`")),
                None if luhn_valid(bytes) => {
                    make(high, format!("Luhn-valid 15 digits under key `{key}`"))
                }
                None => make(
                    class.base,
                    format!("15 digits under key `{key}` (the Luhn check fails)"),
                ),
            },
            14 => make(
                high,
                format!("14 digits under key `{key}`: an IMEI without its check digit"),
            ),
            16 => make(high, format!("16 digits under key `{key}`: an IMEISV")),
            _ => generic(class, key, value, range),
        },
        Rule::Meid => {
            if let Some(reason) = hex_meid_shape(bytes) {
                make(high, format!("{reason}, under key `{key}`"))
            } else if digits_only && value.len() == 18 {
                make(
                    high,
                    format!("18 decimal digits under key `{key}`: the decimal form of an MEID"),
                )
            } else if value.len() == 14 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
                make(high, format!("14 hex digits under key `{key}`"))
            } else {
                generic(class, key, value, range)
            }
        }
        Rule::Imsi if digits_only => match imsi_shape(bytes) {
            Some((_, reason)) => make(high, format!("{reason}, under key `{key}`")),
            None => generic(class, key, value, range),
        },
        Rule::Iccid => {
            let body = value.trim_end_matches(['F', 'f']);
            let all_digits = body.bytes().all(|b| b.is_ascii_digit());
            if all_digits && (18..=20).contains(&body.len()) && body.starts_with("89") {
                let check = if luhn_valid(body.as_bytes()) {
                    "Luhn-valid"
                } else {
                    "check digit not Luhn-valid"
                };
                make(
                    high,
                    format!(
                        "{} digits starting with 89 under key `{key}` ({check}), the shape of a SIM ICCID",
                        body.len()
                    ),
                )
            } else {
                generic(class, key, value, range)
            }
        }
        Rule::Mac => match parse_any_mac(value) {
            Some(mac) if mac_placeholder(&mac).is_some() => None,
            Some(mac) => make(
                high,
                format!(
                    "six octets under key `{key}`, a MAC address ({})",
                    mac_note(&mac)
                ),
            ),
            None => generic(class, key, value, range),
        },
        Rule::AdId => match uuid_shape(bytes) {
            Some(UuidShape::Zero) => None,
            Some(_) => make(high, format!("UUID under key `{key}`")),
            None if is_hex_of_len(value, &[16, 32, 64]) => make(
                high,
                format!("{} hex digits under key `{key}`", value.len()),
            ),
            None => generic(class, key, value, range),
        },
        Rule::AndroidId if is_hex_of_len(value, &[15, 16]) => make(
            high,
            format!(
                "{} hex digits under key `{key}`, the shape of an Android ID",
                value.len()
            ),
        ),
        Rule::DeviceId => {
            if uuid_shape(bytes).is_some() {
                make(high, format!("UUID under key `{key}`"))
            } else if is_hex_of_len(value, &[16]) {
                make(
                    high,
                    format!("16 hex digits under key `{key}`, the shape of an Android ID"),
                )
            } else if let Some(reason) = imei_shape(bytes) {
                Some(PatternHit::new(
                    "imei",
                    value,
                    range,
                    high,
                    format!("{reason}, under key `{key}`"),
                ))
            } else if value.len() >= 6 {
                generic(class, key, value, range)
            } else {
                None
            }
        }
        Rule::Serial => {
            let shaped = (5..=24).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && value.bytes().any(|b| b.is_ascii_digit());
            if shaped {
                make(
                    class.base,
                    format!("{} letters and digits under key `{key}`", value.len()),
                )
            } else if class.hashed {
                generic(class, key, value, range)
            } else {
                None
            }
        }
        Rule::Phone => match phone::read_keyed(value, scanner.region())? {
            Ok(number) => {
                let hit = PatternHit::new(
                    kind,
                    value,
                    range,
                    high,
                    format!("{}, under key `{key}`", number.describe()),
                );
                Some(number.detail(hit))
            }
            Err(digits) => make(
                class.base,
                format!(
                    "{} digits under key `{key}`, not a valid number for the device's region",
                    digits.len()
                ),
            ),
        },
        Rule::Email => {
            let (start, end) = email::address_at(bytes, value.find('@')?)?;
            (start == 0 && end == value.len()).then(|| {
                PatternHit::new(
                    kind,
                    value,
                    range.clone(),
                    high,
                    format!("e-mail address under key `{key}`"),
                )
            })
        }
        Rule::Lat | Rule::Lon => {
            let d = whole_decimal(bytes)?;
            let (in_range, what) = if class.rule == Rule::Lat {
                (plausible(d.value, 0.0) && d.value.abs() > 1e-6, "latitude")
            } else {
                (plausible(0.0, d.value) && d.value.abs() > 1e-6, "longitude")
            };
            in_range.then(|| {
                PatternHit::new(
                    kind,
                    value,
                    range.clone(),
                    class.base,
                    format!("{what} in range under key `{key}`"),
                )
            })
        }
        Rule::LocationPair => {
            let (lat, lon, decimals) = whole_pair(value)?;
            make(
                high,
                format!("latitude {lat}, longitude {lon} ({decimals} decimals) under key `{key}`"),
            )
        }
        Rule::CellId => {
            let n: u64 = if digits_only && value.len() <= 10 {
                value.parse().ok()?
            } else {
                return None;
            };
            // 65535 and 2147483647 (Integer.MAX_VALUE) are Android's "unavailable" markers.
            if n == 0 || n == 65_535 || n == 2_147_483_647 {
                return None;
            }
            make(class.base, format!("cell or area id {n} under key `{key}`"))
        }
        Rule::Ssid => {
            let name = value.trim_matches('"');
            (!name.is_empty() && name.len() <= 32).then(|| {
                PatternHit::new(
                    kind,
                    value,
                    range.clone(),
                    class.base,
                    format!("Wi-Fi network name under key `{key}`"),
                )
            })
        }
        Rule::AppList => None,
        Rule::Imei | Rule::Imsi | Rule::AndroidId => generic(class, key, value, range),
    }
}

/// True when `value` is all hex digits and has one of `lens`.
fn is_hex_of_len(value: &str, lens: &[usize]) -> bool {
    lens.contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A value under an identifier key that does not have the identifier's shape: a digest (when the
/// key or the length says so) or some other id-like token, at the key's base confidence.
fn generic(
    class: KeyClass,
    key: &str,
    value: &str,
    range: std::ops::Range<usize>,
) -> Option<PatternHit> {
    let digest = match value.len() {
        32 => Some("MD5"),
        40 => Some("SHA-1"),
        64 => Some("SHA-256"),
        _ => None,
    }
    .filter(|_| value.bytes().all(|b| b.is_ascii_hexdigit()));
    let reason = match digest {
        Some(name) => format!(
            "value under key `{key}`: {} hex digits, the size of a {name} digest",
            value.len()
        ),
        None if class.hashed => format!("value under key `{key}` (a digest, per the key)"),
        None => {
            let token = value.len() >= 4
                && !value.bytes().any(|b| b.is_ascii_whitespace())
                && value.bytes().any(|b| b.is_ascii_alphanumeric());
            if !token {
                return None;
            }
            format!("value under key `{key}`")
        }
    };
    Some(PatternHit::new(
        class.kind, value, range, class.base, reason,
    ))
}
