//! Location matching: coordinate pairs compared *numerically* with the profile's `[[location]]`
//! points (not with the automaton: a coordinate has too many spellings).
//!
//! A pair `(lat, lon)` is the profile point when both coordinates have at least
//! [`MIN_COORDINATE_DECIMALS`] decimals and either
//!
//! - it lies within the point's radius (`radius_m`, else [`DEFAULT_RADIUS_M`]) by the haversine
//!   distance, or
//! - each coordinate is one of the two values with its number of decimals that bracket the
//!   profile's coordinate (the profile value rounded half-up or half-even, truncated, floored or
//!   ceiled to that many decimals: all of them are one of the two).
//!
//! The form says how: `rounded` when the bracketing matched and the pair has fewer decimals than
//! the profile gives; `scaled` for E6/E7 integers (degrees × 10⁶ or 10⁷); `plain` otherwise (within
//! the radius, or equal, at the pair's full precision). A match also reports the pair's decimals
//! (the fewer of its two coordinates') and the uncertainty they imply ([`precision_m`]).
//!
//! Where pairs come from:
//!
//! - one string, in either order (`51.5074,-0.1278` or `-0.1278,51.5074`), separated by `,`,
//!   `;`, `|` or spaces ([`LocationMatcher::scan_text`], run by [`crate::Detector::scan`] over
//!   every node); a node that is nothing but two integers is also tried as E6/E7;
//! - two sibling leaves of one object, form, query or protobuf message
//!   ([`LocationMatcher::match_leaves`], paired by [`crate::detect_message`] from the decode
//!   chains: see [`sibling_key`]).

use std::collections::HashMap;

/// Fewest decimals a coordinate may have to be matched: one decimal (≈ 11 km) says little.
pub const MIN_COORDINATE_DECIMALS: u32 = 2;

/// Most decimals read in a coordinate; a longer fraction is not a coordinate.
pub const MAX_COORDINATE_DECIMALS: u32 = 15;

/// The radius used for a `[[location]]` that gives no `radius_m`, in metres.
pub const DEFAULT_RADIUS_M: f64 = 100.0;

/// Mean Earth radius (IUGG), in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Most integer digits of a coordinate written in degrees (`-180`).
const MAX_DEGREE_DIGITS: usize = 3;

/// Most spaces skipped on each side of a pair's separator.
const MAX_SEPARATOR_SPACES: usize = 4;

/// Longest node tried as a pair of E6/E7 integers (`-1800000000,-900000000` is 22 bytes).
const MAX_INTEGER_PAIR_LEN: usize = 48;

/// Longest leaf read as a number for sibling pairing.
pub(crate) const MAX_NUMBER_LEAF_LEN: usize = 32;

/// How a location matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocationForm {
    /// Within the radius, or equal, at the pair's full precision.
    Plain,
    /// The profile point rounded or truncated to the pair's (fewer) decimals.
    Rounded,
    /// E6/E7 integers.
    Scaled,
}

impl LocationForm {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Rounded => "rounded",
            Self::Scaled => "scaled",
        }
    }
}

/// A number as written in decimal: `mantissa / 10^decimals`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    mantissa: i64,
    decimals: u32,
}

impl Decimal {
    /// Reads `[+-]?digits(.digits)?` making up all of `text`: at most 18 digits in all and
    /// [`MAX_COORDINATE_DECIMALS`] after the point.
    pub(crate) fn parse(text: &[u8]) -> Option<Decimal> {
        let (negative, digits) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        let (int, frac) = match memchr::memchr(b'.', digits) {
            Some(dot) => (digits.get(..dot)?, Some(digits.get(dot + 1..)?)),
            None => (digits, None),
        };
        let frac = frac.unwrap_or_default();
        if int.is_empty()
            || (digits.contains(&b'.') && frac.is_empty())
            || int.len() + frac.len() > 18
            || frac.len() > MAX_COORDINATE_DECIMALS as usize
        {
            return None;
        }
        let mut mantissa: i64 = 0;
        for &b in int.iter().chain(frac) {
            if !b.is_ascii_digit() {
                return None;
            }
            mantissa = mantissa.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
        }
        Some(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            decimals: u32::try_from(frac.len()).ok()?,
        })
    }

    /// A float as its shortest round-trip decimal (`51.507351`); `None` for non-finite values or
    /// more than 18 significant digits.
    fn of_f64(value: f64) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        Self::parse(value.to_string().as_bytes()).or_else(|| {
            // More decimals than a coordinate needs (`0.30000000000000004`): 15 are plenty.
            let fixed = format!("{value:.15}");
            Self::parse(fixed.trim_end_matches('0').trim_end_matches('.').as_bytes())
        })
    }

    /// Whether it is written without a fraction.
    pub(crate) fn is_integer(self) -> bool {
        self.decimals == 0
    }

    /// The same digits read as degrees × 10^`scale` (an E6 or E7 integer).
    fn scaled(self, scale: u32) -> Decimal {
        Decimal {
            mantissa: self.mantissa,
            decimals: self.decimals.saturating_add(scale),
        }
    }

    /// The value as a float.
    pub(crate) fn value(self) -> f64 {
        // |mantissa| < 10^18: the conversion loses at most one unit in 2^53, far below a metre.
        self.mantissa as f64 / 10f64.powi(i32::try_from(self.decimals).unwrap_or(i32::MAX))
    }

    /// Whether `self`, with its own decimals, is one of the two values with that many decimals
    /// that bracket `exact` (equal to it when it has no more decimals than `self`).
    fn brackets(self, exact: Decimal) -> bool {
        let (m, d) = (i128::from(self.mantissa), self.decimals);
        let e = i128::from(exact.mantissa);
        if d >= exact.decimals {
            let Some(scale) = 10i128.checked_pow(d - exact.decimals) else {
                return false;
            };
            return e.checked_mul(scale) == Some(m);
        }
        let Some(scale) = 10i128.checked_pow(exact.decimals - d) else {
            return false;
        };
        let floor = e.div_euclid(scale);
        let ceil = if e.rem_euclid(scale) == 0 {
            floor
        } else {
            floor + 1
        };
        m == floor || m == ceil
    }
}

/// One `[[location]]` of the profile, ready to compare with.
#[derive(Clone, Debug)]
struct Point {
    label: String,
    value: String,
    lat: Decimal,
    lon: Decimal,
    lat_deg: f64,
    lon_deg: f64,
    radius_m: f64,
}

/// A pair that matched a profile point.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LocationMatch {
    /// `location #n`.
    pub(crate) label: String,
    /// The profile point, `lat,lon`.
    pub(crate) value: String,
    pub(crate) form: LocationForm,
    /// The fewer decimals of the pair's two coordinates.
    pub(crate) decimals: u32,
    /// [`precision_m`] of those decimals at the point.
    pub(crate) precision_m: f64,
    /// Byte range of the pair in the scanned text (for [`LocationMatcher::scan_text`]).
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The profile's points and the numeric comparisons.
#[derive(Clone, Debug, Default)]
pub(crate) struct LocationMatcher {
    points: Vec<Point>,
}

/// The size of the uncertainty that `decimals` decimals of degrees imply at latitude `lat`: the
/// diagonal of one grid cell of 10^-`decimals` degrees of latitude by as much of longitude, in
/// metres, rounded to the millimetre (≈ 1.3 m for 5 decimals at London, 15.7 m for 4 at the
/// equator). It bounds the error of any rounding or truncation to that many decimals.
pub fn precision_m(decimals: u32, lat: f64) -> f64 {
    let step = 10f64.powi(-i32::try_from(decimals).unwrap_or(i32::MAX));
    let north_south = EARTH_RADIUS_M * step.to_radians();
    let east_west = north_south * lat.to_radians().cos().abs();
    (north_south.hypot(east_west) * 1000.0).round() / 1000.0
}

/// Great-circle distance in metres between two points given in degrees.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

impl LocationMatcher {
    /// The points of `locations`, labelled `location #1`, `location #2`… in order. A point whose
    /// coordinates cannot be written as decimals (not finite) is skipped.
    pub(crate) fn new(locations: &[crate::Location]) -> Self {
        let points = locations
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                Some(Point {
                    label: format!("location #{}", i + 1),
                    value: format!("{},{}", l.lat, l.lon),
                    lat: Decimal::of_f64(l.lat)?,
                    lon: Decimal::of_f64(l.lon)?,
                    lat_deg: l.lat,
                    lon_deg: l.lon,
                    radius_m: l
                        .radius_m
                        .filter(|r| r.is_finite())
                        .unwrap_or(DEFAULT_RADIUS_M),
                })
            })
            .collect();
        Self { points }
    }

    /// Whether there is any point to look for.
    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The first point that `(lat, lon)` matches, with how. `scaled` marks E6/E7 integers.
    fn match_pair(&self, lat: Decimal, lon: Decimal, scaled: bool) -> Option<LocationMatch> {
        if lat.decimals < MIN_COORDINATE_DECIMALS || lon.decimals < MIN_COORDINATE_DECIMALS {
            return None;
        }
        let (lat_deg, lon_deg) = (lat.value(), lon.value());
        if !(-90.0..=90.0).contains(&lat_deg) || !(-180.0..=180.0).contains(&lon_deg) {
            return None;
        }
        self.points.iter().find_map(|p| {
            let bracketed = lat.brackets(p.lat) && lon.brackets(p.lon);
            let within = haversine_m(p.lat_deg, p.lon_deg, lat_deg, lon_deg) <= p.radius_m;
            if !bracketed && !within {
                return None;
            }
            let coarser = lat.decimals < p.lat.decimals || lon.decimals < p.lon.decimals;
            let form = if scaled {
                LocationForm::Scaled
            } else if bracketed && coarser {
                LocationForm::Rounded
            } else {
                LocationForm::Plain
            };
            let decimals = lat.decimals.min(lon.decimals);
            Some(LocationMatch {
                label: p.label.clone(),
                value: p.value.clone(),
                form,
                decimals,
                precision_m: precision_m(decimals, p.lat_deg),
                start: 0,
                end: 0,
            })
        })
    }

    /// Two numbers from one string, in either order: decimals as degrees, two integers as E6
    /// then E7.
    pub(crate) fn match_numbers(&self, a: Decimal, b: Decimal) -> Option<LocationMatch> {
        self.match_leaves(a, b).or_else(|| self.match_leaves(b, a))
    }

    /// A latitude and a longitude: decimals as degrees, two integers as E6 then E7 (an integer
    /// and a decimal are not a pair).
    pub(crate) fn match_leaves(&self, lat: Decimal, lon: Decimal) -> Option<LocationMatch> {
        match (lat.is_integer(), lon.is_integer()) {
            (false, false) => self.match_pair(lat, lon, false),
            (true, true) => [6, 7]
                .into_iter()
                .find_map(|scale| self.match_pair(lat.scaled(scale), lon.scaled(scale), true)),
            _ => None,
        }
    }

    /// Every coordinate pair written in `text` that matches a point, left to right and not
    /// overlapping: two decimal numbers separated by `,`, `;`, `|` or spaces (spaces also around
    /// the others), in either order. A number must not touch a letter, a digit or another `.`
    /// number (`v1.51.5074` and `x51.5074` are not coordinates). When all of `text` (trimmed) is
    /// two integers so separated, they are tried as E6 and E7.
    ///
    /// One left-to-right pass: each `.` is looked at once, and each number is read with bounded
    /// look-around ([`MAX_COORDINATE_DECIMALS`], [`MAX_SEPARATOR_SPACES`]).
    pub(crate) fn scan_text(&self, text: &[u8]) -> Vec<LocationMatch> {
        let mut found = Vec::new();
        if self.points.is_empty() {
            return found;
        }
        if text.len() <= MAX_INTEGER_PAIR_LEN {
            if let Some(m) = self.integer_pair(text) {
                found.push(m);
                return found;
            }
        }
        let mut covered_to = 0;
        for dot in memchr::memchr_iter(b'.', text) {
            let Some((a_start, a_end, a)) = number_around_dot(text, dot) else {
                continue;
            };
            if a_start < covered_to {
                continue;
            }
            let Some(b_start) = after_separator(text, a_end) else {
                continue;
            };
            let Some((b_end, b)) = number_from(text, b_start) else {
                continue;
            };
            if let Some(mut m) = self.match_numbers(a, b) {
                m.start = a_start;
                m.end = b_end;
                covered_to = b_end;
                found.push(m);
            }
        }
        found
    }

    /// All of `text` (trimmed) as two integers and a separator, matched as E6/E7.
    fn integer_pair(&self, text: &[u8]) -> Option<LocationMatch> {
        let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
        let end = text.iter().rposition(|b| !b.is_ascii_whitespace())? + 1;
        let trimmed = text.get(start..end)?;
        let first_end = trimmed.iter().skip(1).position(|b| !b.is_ascii_digit())? + 1;
        let a = Decimal::parse(trimmed.get(..first_end)?)?;
        let b_start = after_separator(trimmed, first_end)?;
        let b = Decimal::parse(trimmed.get(b_start..)?)?;
        if !a.is_integer() || !b.is_integer() {
            return None;
        }
        let mut m = self.match_numbers(a, b)?;
        m.start = start;
        m.end = end;
        Some(m)
    }
}

/// The number whose decimal point is at `dot`: `(start, end, value)`, or `None` when it is not a
/// standalone coordinate-like number (1–3 integer digits, 1–[`MAX_COORDINATE_DECIMALS`] decimals,
/// not touching letters, digits or a further `.digit`).
fn number_around_dot(text: &[u8], dot: usize) -> Option<(usize, usize, Decimal)> {
    let mut start = dot;
    while start > 0 && dot - start <= MAX_DEGREE_DIGITS {
        match text.get(start - 1) {
            Some(b) if b.is_ascii_digit() => start -= 1,
            _ => break,
        }
    }
    if start == dot || dot - start > MAX_DEGREE_DIGITS {
        return None;
    }
    if let Some(&sign) = start.checked_sub(1).and_then(|i| text.get(i)) {
        if sign == b'-' || sign == b'+' {
            start -= 1;
        }
    }
    if let Some(&before) = start.checked_sub(1).and_then(|i| text.get(i)) {
        if before.is_ascii_alphanumeric() || before == b'.' {
            return None;
        }
    }
    let end = number_end(text, dot)?;
    Some((start, end, Decimal::parse(text.get(start..end)?)?))
}

/// The end of the fraction that starts after the `.` at `dot`, checking what follows.
fn number_end(text: &[u8], dot: usize) -> Option<usize> {
    let mut end = dot + 1;
    while let Some(b) = text.get(end) {
        if !b.is_ascii_digit() {
            break;
        }
        end += 1;
        if end - dot - 1 > MAX_COORDINATE_DECIMALS as usize {
            return None;
        }
    }
    if end == dot + 1 {
        return None;
    }
    match (text.get(end), text.get(end + 1)) {
        (Some(b), _) if b.is_ascii_alphanumeric() => None,
        (Some(b'.'), Some(d)) if d.is_ascii_digit() => None,
        _ => Some(end),
    }
}

/// The decimal number starting at `start` (sign, digits, `.`, digits): `(end, value)`.
fn number_from(text: &[u8], start: usize) -> Option<(usize, Decimal)> {
    let mut i = start;
    if matches!(text.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits_start = i;
    while text.get(i).is_some_and(u8::is_ascii_digit) && i - digits_start <= MAX_DEGREE_DIGITS {
        i += 1;
    }
    if i == digits_start || i - digits_start > MAX_DEGREE_DIGITS || text.get(i) != Some(&b'.') {
        return None;
    }
    let end = number_end(text, i)?;
    Some((end, Decimal::parse(text.get(start..end)?)?))
}

/// Where the second number of a pair starts, after the first ends at `end`: a separator (`,`,
/// `;`, `|`, or spaces alone) with up to [`MAX_SEPARATOR_SPACES`] spaces on each side.
fn after_separator(text: &[u8], end: usize) -> Option<usize> {
    let spaces = |from: usize| {
        text.get(from..)
            .unwrap_or_default()
            .iter()
            .take(MAX_SEPARATOR_SPACES + 1)
            .take_while(|b| **b == b' ')
            .count()
    };
    let before = spaces(end);
    if before > MAX_SEPARATOR_SPACES {
        return None;
    }
    let mut i = end + before;
    if matches!(text.get(i), Some(b',' | b';' | b'|')) {
        i += 1;
        let after = spaces(i);
        if after > MAX_SEPARATOR_SPACES {
            return None;
        }
        i += after;
    } else if before == 0 {
        return None;
    }
    Some(i)
}

/// What the last element of a decode chain says about a leaf, for pairing it with its siblings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SiblingKey {
    /// A latitude key (`lat`, `latitude`, `loc_lat`, `la`): what surrounds the word.
    Lat(String, String),
    /// A longitude key (`lon`, `lng`, `long`, `longitude`, `lo`): what surrounds the word.
    Lon(String, String),
    /// An array index or protobuf field number: paired by position with its neighbours.
    Unnamed,
}

/// A leaf's parent (what its siblings share) and key, from its last chain element:
///
/// - `json:<JSONPath>`: the path without its last member; the member's name, or [`SiblingKey::Unnamed`]
///   for an array index;
/// - `form:<name>`, `query:<name>`, `multipart:<name>`: the selector kind; the name;
/// - `header:<name>` and `cookie:<name>`, the location of a header or cookie as sent: all headers
///   (all cookies) of a message are siblings; the name, without an `X-` prefix;
/// - any other `<kind>:<path>` selector (`protobuf:<field path>`, also with decode's `:double`,
///   `:float` or `:int64` reading suffix): the path up to its last `.` or `/`; the rest,
///   [`SiblingKey::Unnamed`] when it is a number (a field number).
///
/// `None` when the element has no `:` or the key is neither a latitude, a longitude nor unnamed.
pub(crate) fn sibling_key(element: &str) -> Option<(String, SiblingKey)> {
    let (kind, path) = element.split_once(':')?;
    let (parent, key, index) = match kind {
        "json" => json_parent_and_key(path)?,
        "form" | "query" | "multipart" | "cookie" => (String::new(), path.to_string(), false),
        "header" => {
            let bare = match path.get(..2) {
                Some(p) if p.eq_ignore_ascii_case("x-") => path.get(2..).unwrap_or(""),
                _ => path,
            };
            (String::new(), bare.to_string(), false)
        }
        _ => {
            // decode writes a number's alternative readings as a suffix
            // (`protobuf:1.2:double`, `protobuf:3:float`): the field is what pairs.
            let path = ["double", "float", "int64"]
                .iter()
                .find_map(|s| path.strip_suffix(s).and_then(|p| p.strip_suffix(':')))
                .unwrap_or(path);
            let cut = path.rfind(['.', '/']).map_or(0, |i| i + 1);
            let (parent, key) = path.split_at(cut);
            let bare = key.trim_start_matches('#');
            let index = !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_digit());
            (parent.to_string(), key.to_string(), index)
        }
    };
    let parent = format!("{kind}:{parent}");
    if index {
        return Some((parent, SiblingKey::Unnamed));
    }
    classify_key(&key).map(|k| (parent, k))
}

/// Latitude and longitude words, longest first, and the short words allowed only as a whole key.
const LAT_WORDS: [&str; 2] = ["latitude", "lat"];
const LON_WORDS: [&str; 4] = ["longitude", "long", "lng", "lon"];

fn classify_key(key: &str) -> Option<SiblingKey> {
    let lower = key.to_ascii_lowercase();
    match lower.as_str() {
        "la" => return Some(SiblingKey::Lat(String::new(), String::new())),
        "lo" => return Some(SiblingKey::Lon(String::new(), String::new())),
        _ => {}
    }
    let split = |words: &[&str]| {
        words.iter().find_map(|w| {
            let at = lower.rfind(w)?;
            let prefix = lower.get(..at)?.to_string();
            let suffix = lower.get(at + w.len()..)?.to_string();
            Some((prefix, suffix))
        })
    };
    // A key naming both (`latlng`) is neither.
    match (split(&LAT_WORDS), split(&LON_WORDS)) {
        (Some((p, s)), None) => Some(SiblingKey::Lat(p, s)),
        (None, Some((p, s))) => Some(SiblingKey::Lon(p, s)),
        _ => None,
    }
}

/// Splits a JSONPath (`$.a.b`, `$.a[0]`, `$['odd key']`) into its parent path and last member:
/// `(parent, key, is_index)`. Quoted keys are unescaped.
fn json_parent_and_key(path: &str) -> Option<(String, String, bool)> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'$') {
        return None;
    }
    let mut i = 1;
    let mut last: Option<(usize, String, bool)> = None;
    while i < bytes.len() {
        let start = i;
        match bytes.get(i) {
            Some(b'.') => {
                let end = bytes
                    .get(i + 1..)?
                    .iter()
                    .position(|b| *b == b'.' || *b == b'[')
                    .map_or(bytes.len(), |p| i + 1 + p);
                last = Some((start, path.get(i + 1..end)?.to_string(), false));
                i = end;
            }
            Some(b'[') if bytes.get(i + 1) == Some(&b'\'') => {
                let mut key = String::new();
                let mut chars = path.get(i + 2..)?.char_indices();
                let mut end = None;
                while let Some((off, c)) = chars.next() {
                    match c {
                        '\\' => key.push(chars.next()?.1),
                        '\'' => {
                            end = Some(i + 2 + off + 2); // past `']`
                            break;
                        }
                        _ => key.push(c),
                    }
                }
                let end = end?;
                if bytes.get(end - 1) != Some(&b']') {
                    return None;
                }
                last = Some((start, key, false));
                i = end;
            }
            Some(b'[') => {
                let close = bytes.get(i..)?.iter().position(|b| *b == b']')? + i;
                last = Some((start, path.get(i + 1..close)?.to_string(), true));
                i = close + 1;
            }
            _ => return None,
        }
    }
    let (start, key, index) = last?;
    Some((path.get(..start)?.to_string(), key, index))
}

/// A number leaf seen by the walk, for sibling pairing.
#[derive(Clone, Debug)]
pub(crate) struct NumberLeaf {
    pub(crate) location: String,
    pub(crate) chain: Vec<String>,
    pub(crate) text: String,
    /// Byte range of `text` in the leaf's data (surrounding whitespace excluded).
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) value: Decimal,
    pub(crate) key: SiblingKey,
    /// The leaf's parent: location, chain without its last element, and the selector's parent.
    group: (String, Vec<String>, String),
}

impl NumberLeaf {
    /// A leaf whose data is a number and whose last chain element names a latitude, a longitude
    /// or an index; `None` otherwise.
    pub(crate) fn new(location: &str, chain: &[String], data: &[u8]) -> Option<NumberLeaf> {
        if data.len() > MAX_NUMBER_LEAF_LEN {
            return None;
        }
        // A header or cookie as sent (no chain) is a sibling of the message's other headers or
        // cookies: `X-Lat: 51.5` beside `X-Lng: -0.12`.
        let (element, prefix, group_location) = match chain.split_last() {
            Some((last, prefix)) => (last.as_str(), prefix, location),
            None => {
                let (kind, _) = location.split_once(':')?;
                if kind != "header" && kind != "cookie" {
                    return None;
                }
                (location, chain, kind)
            }
        };
        let whole = std::str::from_utf8(data).ok()?;
        let text = whole.trim();
        let value = Decimal::parse(text.as_bytes())?;
        let (parent, key) = sibling_key(element)?;
        let start = whole.len() - whole.trim_start().len();
        Some(NumberLeaf {
            location: location.to_string(),
            chain: chain.to_vec(),
            text: text.to_string(),
            start,
            end: start + text.len(),
            value,
            key,
            group: (group_location.to_string(), prefix.to_vec(), parent),
        })
    }
}

/// How many following unnamed siblings each unnamed leaf is paired with (array neighbours,
/// protobuf fields close by).
const UNNAMED_REACH: usize = 3;

/// Most longitude leaves considered for one latitude leaf.
const MAX_PARTNERS: usize = 4;

/// Pairs sibling leaves and matches each pair: `(index of the latitude leaf, match, the pair
/// as sent, latitude first)`. Named leaves pair a latitude with longitudes whose key has the same
/// prefix and suffix (`loc_lat` with `loc_lng`); unnamed ones each with the next
/// [`UNNAMED_REACH`] unnamed siblings, in either order. Linear in the number of leaves.
pub(crate) fn pair_leaves(
    matcher: &LocationMatcher,
    leaves: &[NumberLeaf],
) -> Vec<(usize, LocationMatch, String)> {
    let mut out = Vec::new();
    if matcher.is_empty() {
        return out;
    }
    type Group<'a> = &'a (String, Vec<String>, String);
    let mut lons: HashMap<(Group<'_>, &str, &str), Vec<usize>> = HashMap::new();
    let mut unnamed: HashMap<Group<'_>, Vec<usize>> = HashMap::new();
    for (i, leaf) in leaves.iter().enumerate() {
        match &leaf.key {
            SiblingKey::Lon(p, s) => lons.entry((&leaf.group, p, s)).or_default().push(i),
            SiblingKey::Unnamed => unnamed.entry(&leaf.group).or_default().push(i),
            SiblingKey::Lat(..) => {}
        }
    }
    for (i, leaf) in leaves.iter().enumerate() {
        let SiblingKey::Lat(p, s) = &leaf.key else {
            continue;
        };
        let Some(partners) = lons.get(&(&leaf.group, p.as_str(), s.as_str())) else {
            continue;
        };
        for &j in partners.iter().take(MAX_PARTNERS) {
            let Some(lon) = leaves.get(j) else { continue };
            if let Some(m) = matcher.match_leaves(leaf.value, lon.value) {
                out.push((i, m, format!("{},{}", leaf.text, lon.text)));
                break;
            }
        }
    }
    let mut groups: Vec<&Vec<usize>> = unnamed.values().collect();
    groups.sort_unstable_by_key(|g| g.first().copied());
    for group in groups {
        for (n, &i) in group.iter().enumerate() {
            let Some(a) = leaves.get(i) else { continue };
            for &j in group.iter().skip(n + 1).take(UNNAMED_REACH) {
                let Some(b) = leaves.get(j) else { continue };
                let found = match matcher.match_leaves(a.value, b.value) {
                    Some(m) => Some((i, m, format!("{},{}", a.text, b.text))),
                    None => matcher
                        .match_leaves(b.value, a.value)
                        .map(|m| (j, m, format!("{},{}", b.text, a.text))),
                };
                if let Some(found) = found {
                    out.push(found);
                    break;
                }
            }
        }
    }
    out.sort_by_key(|(i, _, _)| *i);
    out
}

#[cfg(test)]
mod tests;
