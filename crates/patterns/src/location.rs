//! Locations: `lat,lon` pairs in text, and latitude/longitude siblings.

use crate::keys::{classify_key, Rule};
use crate::{byte_before, is_word, Confidence, Hits, PatternHit};

/// Fewest decimals of each coordinate in a text pair (three decimals ≈ 110 m).
const MIN_PAIR_DECIMALS: usize = 3;
/// Most decimals read in one coordinate.
const MAX_DECIMALS: usize = 15;

/// A decimal number as written: its value, its decimals and its byte length.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decimal {
    pub value: f64,
    pub decimals: usize,
    pub len: usize,
}

/// Reads `-?\d{1,3}(\.\d{1,15})?` at the start of `b`.
pub(crate) fn read_decimal(b: &[u8]) -> Option<Decimal> {
    let mut i = usize::from(b.first() == Some(&b'-'));
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) && i - int_start < 4 {
        i += 1;
    }
    let int_len = i - int_start;
    if !(1..=3).contains(&int_len) {
        return None;
    }
    let mut decimals = 0;
    if b.get(i) == Some(&b'.') {
        let frac_start = i + 1;
        let mut j = frac_start;
        while b.get(j).is_some_and(u8::is_ascii_digit) && j - frac_start <= MAX_DECIMALS {
            j += 1;
        }
        decimals = j - frac_start;
        if decimals == 0 || decimals > MAX_DECIMALS {
            return None;
        }
        i = j;
    }
    let text = std::str::from_utf8(b.get(..i)?).ok()?;
    let value: f64 = text.parse().ok()?;
    Some(Decimal {
        value,
        decimals,
        len: i,
    })
}

/// Reads a whole value as one coordinate (surrounding whitespace allowed).
pub(crate) fn whole_decimal(b: &[u8]) -> Option<Decimal> {
    let text = std::str::from_utf8(b).ok()?.trim();
    let d = read_decimal(text.as_bytes())?;
    (d.len == text.len()).then_some(d)
}

/// True when (lat, lon) is a place: in range and not the (0, 0) placeholder.
pub(crate) fn plausible(lat: f64, lon: f64) -> bool {
    (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
        && !(lat.abs() < 1e-6 && lon.abs() < 1e-6)
}

/// Reads `lat,lon` (or `lat, lon`) at `start`; returns the end and both numbers.
fn read_pair(data: &[u8], start: usize) -> Option<(usize, Decimal, Decimal)> {
    let lat = read_decimal(data.get(start..)?)?;
    let mut i = start + lat.len;
    if data.get(i) != Some(&b',') {
        return None;
    }
    i += 1;
    if data.get(i) == Some(&b' ') {
        i += 1;
    }
    let lon = read_decimal(data.get(i..)?)?;
    Some((i + lon.len, lat, lon))
}

/// Reads a whole value as a `lat,lon` pair: (lat, lon, fewest decimals).
pub(crate) fn whole_pair(text: &str) -> Option<(f64, f64, usize)> {
    let b = text.trim().as_bytes();
    let (end, lat, lon) = read_pair(b, 0)?;
    (end == b.len() && plausible(lat.value, lon.value)).then_some((
        lat.value,
        lon.value,
        lat.decimals.min(lon.decimals),
    ))
}

/// True when the previous non-space byte before `i` continues a number list or a word (SVG path
/// data `M12.345,67.890`, a bounding box `1.234,5.678,9.012`), or opens the arguments of a
/// function (`translate(88.127573, 38.113125)` in SVG and CSS transforms).
fn crowded_before(data: &[u8], i: usize) -> bool {
    let mut j = i;
    while byte_before(data, j) == Some(b' ') {
        j -= 1;
    }
    match byte_before(data, j) {
        Some(b'(') => byte_before(data, j - 1).is_some_and(is_word),
        Some(b) => is_word(b) || matches!(b, b'.' | b',' | b'-' | b'+'),
        None => false,
    }
}

/// True when the next non-space byte from `i` continues a number list or a word.
fn crowded_after(data: &[u8], i: usize) -> bool {
    let mut j = i;
    while data.get(j) == Some(&b' ') {
        j += 1;
    }
    data.get(j)
        .is_some_and(|&b| is_word(b) || matches!(b, b'.' | b',' | b'-' | b'+'))
}

/// Finds isolated `lat,lon` pairs with at least three decimals each.
pub(crate) fn scan(data: &[u8], hits: &mut Hits) {
    let mut i = 0;
    while i < data.len() && !hits.full() {
        let starts_number = data
            .get(i)
            .is_some_and(|&b| b.is_ascii_digit() || b == b'-');
        if !starts_number || crowded_before(data, i) {
            i += 1;
            continue;
        }
        match read_pair(data, i) {
            Some((end, lat, lon))
                if lat.decimals >= MIN_PAIR_DECIMALS
                    && lon.decimals >= MIN_PAIR_DECIMALS
                    && plausible(lat.value, lon.value)
                    && !crowded_after(data, end) =>
            {
                let text = String::from_utf8_lossy(data.get(i..end).unwrap_or_default());
                hits.push(PatternHit::new(
                    "location",
                    text,
                    i..end,
                    Confidence::Medium,
                    format!(
                        "latitude,longitude pair in range with {} and {} decimals",
                        lat.decimals, lon.decimals
                    ),
                ));
                i = end;
            }
            _ => {
                // Skip the rest of this number.
                i += 1;
                while data
                    .get(i)
                    .is_some_and(|&b| b.is_ascii_digit() || b == b'.')
                {
                    i += 1;
                }
            }
        }
    }
}

/// A location from siblings: a latitude key and a longitude key with values in range, or a
/// two-number array under a location key.
pub(crate) fn scan_group(siblings: &[(&str, &[u8])], hits: &mut Hits) {
    let mut lat: Option<(usize, Decimal)> = None;
    let mut lon: Option<(usize, Decimal)> = None;
    let mut pair_parts: Vec<(usize, Decimal)> = Vec::new();
    let mut pair_key: Option<&str> = None;
    for (idx, &(key, value)) in siblings.iter().enumerate() {
        let Some(class) = classify_key(key) else {
            continue;
        };
        match class.rule {
            Rule::Lat if lat.is_none() => {
                lat = whole_decimal(value).map(|d| (idx, d));
            }
            Rule::Lon if lon.is_none() => {
                lon = whole_decimal(value).map(|d| (idx, d));
            }
            Rule::LocationPair if pair_key.is_none_or(|k| k == key) => {
                if let Some(d) = whole_decimal(value) {
                    pair_key = Some(key);
                    pair_parts.push((idx, d));
                }
            }
            _ => {}
        }
    }
    if let (Some((lat_idx, la)), Some((lon_idx, lo))) = (lat, lon) {
        if plausible(la.value, lo.value) {
            let decimals = la.decimals.min(lo.decimals);
            let (confidence, precision) = if decimals >= MIN_PAIR_DECIMALS {
                (Confidence::High, "")
            } else {
                (Confidence::Medium, ", coarse")
            };
            let lat_key = siblings.get(lat_idx).map_or("", |s| s.0);
            let lon_key = siblings.get(lon_idx).map_or("", |s| s.0);
            let hit = PatternHit::new(
                "location",
                format!("{},{}", la.value, lo.value),
                0..siblings.get(lat_idx).map_or(0, |s| s.1.len()),
                confidence,
                format!(
                    "latitude under `{lat_key}` and longitude under `{lon_key}`, in range{precision} ({decimals} decimals)"
                ),
            )
            .with("sibling", lat_idx.to_string())
            .with("lon_sibling", lon_idx.to_string());
            hits.push(hit);
        }
    }
    if let [(first_idx, a), (_, b)] = pair_parts.as_slice() {
        // GeoJSON writes [lon, lat]; others [lat, lon].
        let (la, lo, order) = if plausible(a.value, b.value) {
            (a, b, "lat,lon")
        } else {
            (b, a, "lon,lat")
        };
        if plausible(la.value, lo.value) && a.decimals.min(b.decimals) >= MIN_PAIR_DECIMALS {
            let key = pair_key.unwrap_or("");
            let hit = PatternHit::new(
                "location",
                format!("{},{}", la.value, lo.value),
                0..siblings.get(*first_idx).map_or(0, |s| s.1.len()),
                Confidence::Medium,
                format!("two coordinates under `{key}` read as {order}, in range"),
            )
            .with("sibling", first_idx.to_string());
            hits.push(hit);
        }
    }
}
