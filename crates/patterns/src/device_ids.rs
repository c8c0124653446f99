//! Device and subscriber identifiers found by shape: IMEI, IMSI and ICCID (decimal runs), hex
//! MEID, MAC addresses and version-4 UUIDs (the shape of advertising ids).

use crate::numbering::{luhn_valid, mcc_name, mcc_of, mnc_operator, reporting_body};
use crate::{byte_before, is_word, Confidence, Hits, PatternHit};

/// Runs every detector of this module over `data`.
pub(crate) fn scan(data: &[u8], hits: &mut Hits) {
    scan_tokens(data, hits);
    scan_macs(data, hits);
    scan_uuids(data, hits);
}

/// Walks the maximal runs of ASCII letters and digits, classifying decimal runs (IMEI, IMSI,
/// ICCID) and hex tokens (MEID).
fn scan_tokens(data: &[u8], hits: &mut Hits) {
    let mut i = 0;
    while i < data.len() && !hits.full() {
        let Some(len) = data
            .get(i..)
            .and_then(|rest| rest.iter().position(|&b| !is_word(b)).or(Some(rest.len())))
        else {
            break;
        };
        if len == 0 {
            i += 1;
            continue;
        }
        let end = i + len;
        let token = data.get(i..end).unwrap_or_default();
        if token.iter().all(u8::is_ascii_digit) {
            if !in_number_context(data, i, end) {
                classify_digits(token, i, hits);
            }
        } else if len == 14 {
            classify_hex_meid(token, i, hits);
        }
        i = end;
    }
}

/// True when the digit run `data[start..end]` belongs to something else: a decimal fraction
/// (`0.356938035643809`), a signed or international number (`+…`, handled as a phone number), an
/// e-mail local part (`…@qq.com`).
fn in_number_context(data: &[u8], start: usize, end: usize) -> bool {
    let before = byte_before(data, start);
    let before2 = start.checked_sub(2).and_then(|j| data.get(j)).copied();
    let after = data.get(end).copied();
    let after2 = data.get(end + 1).copied();
    let digit = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_digit());
    (before == Some(b'.') && digit(before2))
        || (after == Some(b'.') && digit(after2))
        || before == Some(b'+')
        || before == Some(b'@')
        || after == Some(b'@')
}

/// True for runs like `000000000000000` or `111111111111111`.
fn all_same(digits: &[u8]) -> bool {
    digits.windows(2).all(|w| w.first() == w.get(1))
}

/// Classifies a decimal run that stands alone: 15 digits (IMEI, else IMSI with a listed MNC) or
/// 19–20 digits (ICCID).
fn classify_digits(run: &[u8], start: usize, hits: &mut Hits) {
    if all_same(run) {
        return;
    }
    let text = String::from_utf8_lossy(run).into_owned();
    let range = start..start + run.len();
    match run.len() {
        15 => {
            let imei = imei_shape(run);
            let imsi = imsi_shape(run);
            match (imei, imsi) {
                (Some(imei_reason), Some((Confidence::Medium, imsi_reason))) => {
                    hits.push(PatternHit::new(
                        "imei",
                        text,
                        range,
                        Confidence::Low,
                        format!("ambiguous: {imei_reason}; also {imsi_reason}"),
                    ));
                }
                (Some(reason), _) => {
                    hits.push(PatternHit::new(
                        "imei",
                        text,
                        range,
                        Confidence::Medium,
                        reason,
                    ));
                }
                (None, Some((Confidence::Medium, reason))) => {
                    hits.push(PatternHit::new(
                        "imsi",
                        text,
                        range,
                        Confidence::Medium,
                        reason,
                    ));
                }
                // An MCC alone is too common in ordinary 15-digit numbers (order ids): one in
                // four starts with an MCC in use. Only a telling key makes those an IMSI.
                (None, _) => {}
            }
        }
        19 | 20 if run.starts_with(b"89") && luhn_valid(run) => {
            let reason = format!(
                "Luhn-valid {} digits starting with 89 (telecommunications issuer), the shape of a SIM ICCID",
                run.len()
            );
            hits.push(PatternHit::new(
                "iccid",
                text,
                range,
                Confidence::Medium,
                reason,
            ));
        }
        _ => {}
    }
}

/// Why 15 digits look like an IMEI: Luhn-valid with a TAC from a known reporting body.
pub(crate) fn imei_shape(run: &[u8]) -> Option<String> {
    if run.len() != 15 || !run.iter().all(u8::is_ascii_digit) || !luhn_valid(run) {
        return None;
    }
    let body = reporting_body(run)?;
    let tac = String::from_utf8_lossy(run.get(..8)?);
    let rbi = String::from_utf8_lossy(run.get(..2)?);
    Some(format!(
        "Luhn-valid 15 digits with TAC {tac} (reporting body {rbi}: {body})"
    ))
}

/// Why 15 digits look like an IMSI: medium with an MCC and a listed MNC, low with the MCC only.
pub(crate) fn imsi_shape(run: &[u8]) -> Option<(Confidence, String)> {
    if !(14..=15).contains(&run.len()) || !run.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mcc = mcc_of(run)?;
    let country = mcc_name(mcc)?;
    let rest = run.get(3..)?;
    Some(match mnc_operator(mcc, rest) {
        Some((mnc, operator)) => (
            Confidence::Medium,
            format!(
                "{} digits starting with MCC {mcc:03} ({country}) and MNC {mnc} ({operator}), the shape of an IMSI",
                run.len()
            ),
        ),
        None => (
            Confidence::Low,
            format!(
                "{} digits starting with MCC {mcc:03} ({country}), the shape of an IMSI; the MNC is not in the compact operator table",
                run.len()
            ),
        ),
    })
}

/// A 14-hex-digit token that reads as an MEID: manufacturer code A0–FF, one letter case, letters
/// and digits both present.
fn classify_hex_meid(token: &[u8], start: usize, hits: &mut Hits) {
    if let Some(reason) = hex_meid_shape(token) {
        hits.push(PatternHit::new(
            "meid",
            String::from_utf8_lossy(token).into_owned(),
            start..start + token.len(),
            Confidence::Low,
            reason,
        ));
    }
}

/// Why 14 characters look like a hex MEID.
pub(crate) fn hex_meid_shape(token: &[u8]) -> Option<String> {
    if token.len() != 14 || !token.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let has_digit = token.iter().any(u8::is_ascii_digit);
    let upper = token.iter().any(u8::is_ascii_uppercase);
    let lower = token.iter().any(u8::is_ascii_lowercase);
    if !has_digit || !(upper || lower) || (upper && lower) {
        return None;
    }
    let code = hex_value(*token.first()?)? * 16 + hex_value(*token.get(1)?)?;
    (code >= 0xA0).then(|| {
        let prefix = String::from_utf8_lossy(token.get(..8).unwrap_or_default()).into_owned();
        format!("14 hex digits with manufacturer code {prefix} (A0–FF), the shape of an MEID")
    })
}

/// The value of one hex digit.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Six octets of a MAC address.
pub(crate) type Mac = [u8; 6];

/// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (17 bytes, one separator throughout).
fn parse_separated_mac(w: &[u8]) -> Option<(Mac, u8)> {
    if w.len() != 17 {
        return None;
    }
    let sep = *w.get(2)?;
    if sep != b':' && sep != b'-' {
        return None;
    }
    let mut mac = [0u8; 6];
    for (octet, chunk) in mac.iter_mut().zip(w.chunks(3)) {
        let hi = hex_value(*chunk.first()?)?;
        let lo = hex_value(*chunk.get(1)?)?;
        if let Some(&s) = chunk.get(2) {
            if s != sep {
                return None;
            }
        }
        *octet = hi * 16 + lo;
    }
    Some((mac, sep))
}

/// Parses a MAC written with `:`/`-` separators, none (12 hex digits) or Cisco dots
/// (`3c28.6d01.2345`): the forms accepted under a MAC key.
pub(crate) fn parse_any_mac(text: &str) -> Option<Mac> {
    let b = text.as_bytes();
    if let Some((mac, _)) = parse_separated_mac(b) {
        return Some(mac);
    }
    let hex: Vec<u8> = match b.len() {
        12 => b.to_vec(),
        14 if b.get(4) == Some(&b'.') && b.get(9) == Some(&b'.') => {
            b.iter().copied().filter(|&c| c != b'.').collect()
        }
        _ => return None,
    };
    if hex.len() != 12 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (octet, pair) in mac.iter_mut().zip(hex.chunks(2)) {
        *octet = hex_value(*pair.first()?)? * 16 + hex_value(*pair.get(1)?)?;
    }
    Some(mac)
}

/// Why a MAC is not a device's own address, if it is not: all zero, broadcast, Android's fake
/// `02:00:00:00:00:00`, or a multicast (group) address.
pub(crate) fn mac_placeholder(mac: &Mac) -> Option<&'static str> {
    if mac.iter().all(|&o| o == 0) {
        Some("all-zero address")
    } else if mac.iter().all(|&o| o == 0xff) {
        Some("broadcast address")
    } else if *mac == [2, 0, 0, 0, 0, 0] {
        Some("Android's fake MAC 02:00:00:00:00:00")
    } else if mac.first().is_some_and(|o| o & 1 == 1) {
        Some("multicast (group) address")
    } else {
        None
    }
}

/// A sentence on the kind of address: its OUI, or that it is locally administered (randomised).
pub(crate) fn mac_note(mac: &Mac) -> String {
    if mac.first().is_some_and(|o| o & 2 == 2) {
        "locally administered (randomised) address".to_string()
    } else {
        format!("OUI {:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2])
    }
}

/// True when `sep` and a token of hex digits only come right before `i`: the candidate continues
/// a longer colon/dash sequence (`2001:3c:28:…`, an IPv6 address, a longer id). A word before the
/// separator (`mac:3c:28:…`) is a label, not part of the address.
fn hex_token_before(data: &[u8], i: usize, sep: u8) -> bool {
    if byte_before(data, i) != Some(sep) {
        return false;
    }
    let end = i - 1;
    let start = data
        .get(..end)
        .and_then(|head| head.iter().rposition(|&b| !is_word(b)))
        .map_or(0, |p| p + 1);
    let token = data.get(start..end).unwrap_or_default();
    !token.is_empty() && token.iter().all(u8::is_ascii_hexdigit)
}

/// Finds `xx:xx:xx:xx:xx:xx` and `xx-xx-xx-xx-xx-xx` addresses standing alone.
fn scan_macs(data: &[u8], hits: &mut Hits) {
    let mut i = 0;
    while i + 17 <= data.len() && !hits.full() {
        let sep_here = data.get(i + 2).copied();
        if !matches!(sep_here, Some(b':' | b'-')) {
            i += 1;
            continue;
        }
        let Some((mac, sep)) = data.get(i..i + 17).and_then(parse_separated_mac) else {
            i += 1;
            continue;
        };
        let before_ok =
            !byte_before(data, i).is_some_and(is_word) && !hex_token_before(data, i, sep);
        let after = data.get(i + 17).copied();
        let longer = after == Some(sep)
            && data
                .get(i + 18..i + 20)
                .is_some_and(|p| p.iter().all(u8::is_ascii_hexdigit));
        let after_ok = !after.is_some_and(is_word) && !longer;
        if !(before_ok && after_ok) {
            i += 1;
            continue;
        }
        if mac_placeholder(&mac).is_none() {
            let text = String::from_utf8_lossy(data.get(i..i + 17).unwrap_or_default());
            let sep_name = if sep == b':' { "`:`" } else { "`-`" };
            hits.push(PatternHit::new(
                "mac",
                text,
                i..i + 17,
                Confidence::Medium,
                format!(
                    "six hex octets separated by {sep_name}, the shape of a MAC address ({})",
                    mac_note(&mac)
                ),
            ));
        }
        i += 17;
    }
}

/// What a UUID is, from its version and variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UuidShape {
    /// `00000000-0000-0000-0000-000000000000`: an advertising id after the user opted out.
    Zero,
    /// Version 4 with the RFC 4122 variant: random.
    Random,
    /// Any other version or variant (time-based version 1, name-based 3 and 5, …).
    Other(char),
}

/// Parses the 36-character `8-4-4-4-12` hex form.
pub(crate) fn uuid_shape(w: &[u8]) -> Option<UuidShape> {
    if w.len() != 36 {
        return None;
    }
    for (k, &b) in w.iter().enumerate() {
        let dash = matches!(k, 8 | 13 | 18 | 23);
        if dash != (b == b'-') || (!dash && !b.is_ascii_hexdigit()) {
            return None;
        }
    }
    if w.iter().all(|&b| b == b'0' || b == b'-') {
        return Some(UuidShape::Zero);
    }
    let version = char::from(*w.get(14)?);
    let variant = w.get(19)?.to_ascii_lowercase();
    if version == '4' && matches!(variant, b'8' | b'9' | b'a' | b'b') {
        Some(UuidShape::Random)
    } else {
        Some(UuidShape::Other(version))
    }
}

/// Finds version-4 UUIDs standing alone (low confidence: advertising ids have this shape, and so
/// do many request ids).
fn scan_uuids(data: &[u8], hits: &mut Hits) {
    let mut i = 0;
    while i + 36 <= data.len() && !hits.full() {
        if data.get(i + 8) != Some(&b'-') || data.get(i + 13) != Some(&b'-') {
            i += 1;
            continue;
        }
        let Some(shape) = data.get(i..i + 36).and_then(uuid_shape) else {
            i += 1;
            continue;
        };
        let boundary = |b: Option<u8>| !b.is_some_and(|b| is_word(b) || b == b'-');
        if !(boundary(byte_before(data, i)) && boundary(data.get(i + 36).copied())) {
            i += 1;
            continue;
        }
        if shape == UuidShape::Random {
            let text = String::from_utf8_lossy(data.get(i..i + 36).unwrap_or_default());
            hits.push(PatternHit::new(
                "advertising_id",
                text,
                i..i + 36,
                Confidence::Low,
                "random (version 4) UUID: the shape of an advertising id (GAID, IDFA, OAID), and also of many request ids",
            ));
        }
        i += 36;
    }
}
