//! The textual forms an identifier takes on the wire: case, separators, phone-number formats.
//!
//! Every function returns the value as listed first, then its other forms, without duplicates.

use phonenumber::country::Id;
use phonenumber::Mode;

/// Pushes `form` unless it is empty or already present.
fn push_unique(forms: &mut Vec<String>, form: String) {
    if !form.is_empty() && !forms.contains(&form) {
        forms.push(form);
    }
}

/// The value, lower-cased and upper-cased.
pub(crate) fn text(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    push_unique(&mut forms, value.to_lowercase());
    push_unique(&mut forms, value.to_uppercase());
    forms
}

/// The Luhn check digit for a string of digits (ISO/IEC 7812, as used by IMEIs).
pub(crate) fn luhn_check_digit(digits: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().rev().enumerate() {
        let d = u32::from(c.checked_sub(b'0').filter(|d| *d <= 9)?);
        // The digit next to the check digit is doubled, then every second one.
        sum += if i % 2 == 0 {
            let twice = d * 2;
            if twice > 9 {
                twice - 9
            } else {
                twice
            }
        } else {
            d
        };
    }
    u8::try_from((10 - sum % 10) % 10).ok()
}

/// What is wrong with an IMEI, if anything: it must be 14 digits (no check digit), 15 digits with
/// a valid Luhn check digit, or 16 digits (IMEISV). Separators (space, `-`, `/`, `.`) are ignored.
pub(crate) fn imei_problem(value: &str) -> Option<String> {
    let digits: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '/' | '.'))
        .collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !(14..=16).contains(&digits.len()) {
        return Some(format!("`{value}` is not an IMEI (14 to 16 digits)"));
    }
    if digits.len() == 15 {
        let (body, check) = digits.split_at(14);
        let expected = luhn_check_digit(body)?;
        if check != expected.to_string() {
            return Some(format!(
                "IMEI `{value}` fails the Luhn check (its check digit should be {expected})"
            ));
        }
    }
    None
}

/// The 15-digit IMEI (with its Luhn check digit) of an IMEI listed with 14, 15 or 16 (IMEISV)
/// digits, separators ignored; `None` for anything else.
pub(crate) fn imei_full(value: &str) -> Option<String> {
    let digits: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '/' | '.'))
        .collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let body = match digits.len() {
        14..=16 => digits.get(..14)?,
        _ => return None,
    };
    if digits.len() == 15 {
        return Some(digits);
    }
    luhn_check_digit(body).map(|check| format!("{body}{check}"))
}

/// An IMEI as listed, as bare digits, without its check digit, grouped `AA-BBBBBB-CCCCCC-D` and
/// `AA BBBBBB CCCCCC D`; a 14-digit IMEI also gets its check digit added, and an IMEISV (16
/// digits) gives its IMEI (the first 14 digits and the check digit).
pub(crate) fn imei(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    if digits.len()
        != value
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '/' | '.'))
            .count()
    {
        return forms; // not all digits: match it only as written
    }
    let full = imei_full(value);
    push_unique(&mut forms, digits);
    if let Some(full) = full {
        push_unique(&mut forms, full.clone());
        if let (Some(aa), Some(bb), Some(snr), Some(check)) = (
            full.get(..2),
            full.get(2..8),
            full.get(8..14),
            full.get(14..),
        ) {
            for sep in ["-", " "] {
                push_unique(&mut forms, [aa, bb, snr, check].join(sep));
            }
        }
        push_unique(&mut forms, full.get(..14).unwrap_or_default().to_string());
    }
    forms
}

/// The six octets of a MAC address written with `:`, `-` or no separators, or Cisco-style
/// (`3c28.6d01.2345`).
pub(crate) fn parse_mac(value: &str) -> Option<[u8; 6]> {
    let hex: String = if value.len() == 17 {
        let mut chars = value.chars();
        let sep = value.chars().nth(2).filter(|c| *c == ':' || *c == '-')?;
        let mut out = String::with_capacity(12);
        for i in 0..17 {
            let c = chars.next()?;
            if i % 3 == 2 {
                if c != sep {
                    return None;
                }
            } else {
                out.push(c);
            }
        }
        out
    } else if value.len() == 14 {
        let groups: Vec<&str> = value.split('.').collect();
        if groups.len() != 3 || groups.iter().any(|g| g.len() != 4) {
            return None;
        }
        groups.concat()
    } else if value.len() == 12 {
        value.to_string()
    } else {
        return None;
    };
    let bytes = hex::decode(hex).ok()?;
    bytes.try_into().ok()
}

/// A MAC address as listed, then with `:`, `-` and no separators and Cisco-style, each in lower
/// and upper case. A value that is not a MAC is only matched as listed (and in both cases).
pub(crate) fn mac(value: &str) -> Vec<String> {
    let Some(octets) = parse_mac(value) else {
        return text(value);
    };
    let mut forms = vec![value.to_string()];
    let [a, b, c, d, e, f] = octets;
    let pairs = [a, b, c, d, e, f].map(|o| format!("{o:02x}"));
    let cisco = format!("{a:02x}{b:02x}.{c:02x}{d:02x}.{e:02x}{f:02x}");
    for form in [pairs.join(":"), pairs.join("-"), pairs.concat(), cisco] {
        push_unique(&mut forms, form.to_uppercase());
        push_unique(&mut forms, form);
    }
    forms
}

/// A UUID-like identifier (advertising ID, OAID) as listed, in both cases, and with its dashes
/// removed (or added, for 32 hex digits).
pub(crate) fn uuid(value: &str) -> Vec<String> {
    let mut forms = text(value);
    let hex: String = value.chars().filter(|c| *c != '-').collect();
    let is_uuid = value.len() == 36
        && value.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let is_bare = value.len() == 32 && value.chars().all(|c| c.is_ascii_hexdigit());
    let other = if is_uuid {
        Some(hex)
    } else if is_bare {
        match (
            hex.get(..8),
            hex.get(8..12),
            hex.get(12..16),
            hex.get(16..20),
            hex.get(20..),
        ) {
            (Some(a), Some(b), Some(c), Some(d), Some(e)) => Some([a, b, c, d, e].join("-")),
            _ => None,
        }
    } else {
        None
    };
    if let Some(other) = other {
        push_unique(&mut forms, other.to_lowercase());
        push_unique(&mut forms, other.to_uppercase());
    }
    forms
}

/// A region code (`GB`) as the phonenumber crate knows it.
pub(crate) fn region_id(region: &str) -> Option<Id> {
    region.trim().to_ascii_uppercase().parse().ok()
}

/// The forms of a value that are hashed: the value as listed, lower- and upper-cased; for a MAC
/// also `:`-separated and separator-less, in both cases; for an IMEI its 15 digits; for a phone
/// number its E.164 form, E.164 without `+` and its national digits. Hashing every textual form
/// would multiply the automaton for forms that apps rarely hash.
pub(crate) fn canonical(
    shape: crate::profile::Shape,
    value: &str,
    region: Option<Id>,
) -> Vec<String> {
    use crate::profile::Shape;
    let mut forms = text(value);
    match shape {
        Shape::Imei => {
            if let Some(full) = imei_full(value) {
                push_unique(&mut forms, full);
            }
        }
        Shape::Mac => {
            if let Some(octets) = parse_mac(value) {
                let pairs = octets.map(|o| format!("{o:02x}"));
                for form in [pairs.join(":"), pairs.concat()] {
                    push_unique(&mut forms, form.to_uppercase());
                    push_unique(&mut forms, form);
                }
            }
        }
        Shape::Phone => {
            if let Some(number) = parse_phone(value, region) {
                let e164 = number.format().mode(Mode::E164).to_string();
                let national = number.format().mode(Mode::National).to_string();
                let national_digits: String =
                    national.chars().filter(char::is_ascii_digit).collect();
                push_unique(&mut forms, e164.trim_start_matches('+').to_string());
                push_unique(&mut forms, e164);
                push_unique(&mut forms, national_digits);
            }
        }
        Shape::Text | Shape::Uuid | Shape::Name | Shape::Sms => {}
    }
    forms
}

/// A phone number parsed with its own country code (`+44…`, `0044…`) or else `region`.
fn parse_phone(value: &str, region: Option<Id>) -> Option<phonenumber::PhoneNumber> {
    let trimmed = value.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') {
        Some(format!("+{digits}"))
    } else {
        digits.strip_prefix("00").map(|rest| format!("+{rest}"))
    };
    match (&international, region) {
        (Some(intl), _) => phonenumber::parse(None, intl).ok(),
        (None, Some(region)) => phonenumber::parse(Some(region), trimmed).ok(),
        (None, None) => None,
    }
}

/// A phone number as listed, then in E.164 (`+447700900123`), without `+` (`447700900123`), with
/// `00` (`00447700900123`), international (`+44 7700 900123`, and with `-`), national
/// (`07700 900123`, `07700-900123`, `07700900123`) and as the national significant number
/// (`7700900123`), following the numbering-plan metadata of the phonenumber crate.
///
/// The country comes from the number itself (`+44…`, `0044…`) or else from `region`. When neither
/// gives one, or the number cannot be parsed, only the value as listed is returned with a reason.
pub(crate) fn phone(value: &str, region: Option<Id>) -> (Vec<String>, Option<String>) {
    let mut forms = vec![value.to_string()];
    let trimmed = value.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') {
        Some(format!("+{digits}"))
    } else {
        digits.strip_prefix("00").map(|rest| format!("+{rest}"))
    };
    let parsed = match (&international, region) {
        (Some(intl), _) => phonenumber::parse(None, intl).ok(),
        (None, Some(region)) => phonenumber::parse(Some(region), trimmed).ok(),
        (None, None) => None,
    };
    let Some(number) = parsed else {
        let reason = if international.is_none() && region.is_none() {
            format!("phone number `{value}` has no country code and no [device] region is set; matched only as written")
        } else {
            format!("phone number `{value}` could not be parsed; matched only as written")
        };
        return (forms, Some(reason));
    };
    let e164 = number.format().mode(Mode::E164).to_string();
    let intl = number.format().mode(Mode::International).to_string();
    let national = number.format().mode(Mode::National).to_string();
    let national_digits: String = national.chars().filter(char::is_ascii_digit).collect();
    let zeros = "0".repeat(usize::from(number.national().zeros()));
    let significant = format!("{zeros}{}", number.national().value());
    let bare = e164.trim_start_matches('+').to_string();
    push_unique(&mut forms, e164.clone());
    push_unique(&mut forms, bare.clone());
    push_unique(&mut forms, format!("00{bare}"));
    push_unique(&mut forms, intl.clone());
    push_unique(&mut forms, intl.replace(' ', "-"));
    push_unique(&mut forms, national.clone());
    push_unique(&mut forms, national.replace(' ', "-"));
    push_unique(&mut forms, national_digits);
    push_unique(&mut forms, significant);
    (forms, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert_eq!(luhn_check_digit("35693803564380"), Some(9));
        assert_eq!(luhn_check_digit("35693803564381"), Some(7));
        assert_eq!(luhn_check_digit("4992739871"), Some(6));
        assert_eq!(luhn_check_digit("12a"), None);
        assert_eq!(imei_problem("356938035643809"), None);
        assert_eq!(imei_problem("35-693803-564380-9"), None);
        assert_eq!(imei_problem("35693803564380"), None);
        assert!(imei_problem("356938035643808")
            .unwrap()
            .contains("should be 9"));
        assert!(imei_problem("3569380356").is_some());
        assert!(imei_problem("35693803564380x").is_some());
    }

    #[test]
    fn imei_forms() {
        assert_eq!(
            imei("356938035643809"),
            [
                "356938035643809",
                "35-693803-564380-9",
                "35 693803 564380 9",
                "35693803564380"
            ]
        );
        assert_eq!(
            imei("35693803564380"),
            [
                "35693803564380",
                "356938035643809",
                "35-693803-564380-9",
                "35 693803 564380 9"
            ]
        );
        assert_eq!(imei("IMEI-X"), ["IMEI-X"]);
        // An IMEISV gives its IMEI.
        assert_eq!(
            imei("3569380356438012"),
            [
                "3569380356438012",
                "356938035643809",
                "35-693803-564380-9",
                "35 693803 564380 9",
                "35693803564380"
            ]
        );
        assert_eq!(
            imei_full("35-693803-564380-9").as_deref(),
            Some("356938035643809")
        );
        assert_eq!(
            imei_full("35693803564380").as_deref(),
            Some("356938035643809")
        );
        assert_eq!(
            imei_full("3569380356438012").as_deref(),
            Some("356938035643809")
        );
        assert_eq!(imei_full("3569380356"), None);
        assert_eq!(imei_full("35693803564380x"), None);
    }

    #[test]
    fn canonical_forms_are_few() {
        use crate::profile::Shape;
        assert_eq!(
            canonical(Shape::Imei, "35693803564380", None),
            ["35693803564380", "356938035643809"]
        );
        assert_eq!(
            canonical(Shape::Mac, "3C-28-6D-01-23-45", None),
            [
                "3C-28-6D-01-23-45",
                "3c-28-6d-01-23-45",
                "3C:28:6D:01:23:45",
                "3c:28:6d:01:23:45",
                "3C286D012345",
                "3c286d012345"
            ]
        );
        assert_eq!(
            canonical(Shape::Phone, "07700 900123", region_id("GB")),
            [
                "07700 900123",
                "447700900123",
                "+447700900123",
                "07700900123"
            ]
        );
        assert_eq!(
            canonical(Shape::Phone, "07700 900123", None),
            ["07700 900123"]
        );
        assert_eq!(
            canonical(Shape::Uuid, "38400000-8cf0-11bd-b23e-10b96e40000d", None).len(),
            2
        );
    }

    #[test]
    fn mac_forms() {
        assert_eq!(
            parse_mac("3c:28:6d:01:23:45"),
            Some([0x3c, 0x28, 0x6d, 0x01, 0x23, 0x45])
        );
        assert_eq!(parse_mac("3C-28-6D-01-23-45"), parse_mac("3c286d012345"));
        assert_eq!(parse_mac("3c28.6d01.2345"), parse_mac("3c286d012345"));
        assert_eq!(parse_mac("3c:28-6d:01:23:45"), None);
        assert_eq!(parse_mac("3c:28:6d:01:23:4g"), None);
        assert_eq!(parse_mac("3c:28:6d:01:23"), None);
        assert_eq!(parse_mac("ünicode-mac-xx"), None);
        let forms = mac("3c:28:6d:01:23:45");
        for f in [
            "3c:28:6d:01:23:45",
            "3C:28:6D:01:23:45",
            "3c-28-6d-01-23-45",
            "3C-28-6D-01-23-45",
            "3c286d012345",
            "3C286D012345",
            "3c28.6d01.2345",
            "3C28.6D01.2345",
        ] {
            assert!(forms.contains(&f.to_string()), "{f}");
        }
        assert_eq!(forms.len(), 8);
        assert_eq!(mac("not a mac"), ["not a mac", "NOT A MAC"]);
    }

    #[test]
    fn uuid_forms() {
        let forms = uuid("38400000-8cf0-11bd-b23e-10b96e40000d");
        assert!(forms.contains(&"38400000-8CF0-11BD-B23E-10B96E40000D".to_string()));
        assert!(forms.contains(&"384000008cf011bdb23e10b96e40000d".to_string()));
        assert!(forms.contains(&"384000008CF011BDB23E10B96E40000D".to_string()));
        let forms = uuid("384000008cf011bdb23e10b96e40000d");
        assert!(forms.contains(&"38400000-8cf0-11bd-b23e-10b96e40000d".to_string()));
    }

    #[test]
    fn phone_forms_gb() {
        let (forms, problem) = phone("+447700900123", None);
        assert_eq!(problem, None);
        for f in [
            "+447700900123",
            "447700900123",
            "00447700900123",
            "+44 7700 900123",
            "+44-7700-900123",
            "07700 900123",
            "07700-900123",
            "07700900123",
            "7700900123",
        ] {
            assert!(forms.contains(&f.to_string()), "{f} not in {forms:?}");
        }
        // National input with a region gives the same forms.
        let (national, problem) = phone("07700 900123", region_id("gb"));
        assert_eq!(problem, None);
        assert!(national.contains(&"+447700900123".to_string()));
        assert!(national.contains(&"07700900123".to_string()));
        // 00-prefixed input carries its own country.
        let (idd, _) = phone("0044 7700 900123", None);
        assert!(idd.contains(&"07700 900123".to_string()));
    }

    #[test]
    fn phone_forms_elsewhere() {
        let (forms, _) = phone("+12015550123", None);
        assert!(forms.contains(&"(201) 555-0123".to_string()), "{forms:?}");
        assert!(forms.contains(&"2015550123".to_string()));
        assert!(forms.contains(&"+1 201-555-0123".to_string()));
        let (forms, _) = phone("+390612345678", None);
        assert!(
            forms.contains(&"0612345678".to_string()),
            "Italian leading zero kept: {forms:?}"
        );
    }

    #[test]
    fn phone_without_country() {
        let (forms, problem) = phone("07700900123", None);
        assert_eq!(forms, ["07700900123"]);
        assert!(problem.unwrap().contains("no country code"));
        let (forms, problem) = phone("+99", None);
        assert_eq!(forms, ["+99"]);
        assert!(problem.is_some());
        assert_eq!(region_id("XX"), None);
        assert_eq!(region_id("gb"), Some(Id::GB));
    }
}
