//! Turns the CSV files of the `@ip-location-db` packages into our data files (used by
//! `scripts/refresh-ip-data.sh` through the `build_ip_data` example, and by tests).
//!
//! Input rows are `start,end,country` (country files) or `start,end,asn,"AS name"` (AS files),
//! with `start` and `end` IP addresses of one family and the range inclusive. Rows are sorted
//! by start but may overlap: a few hundred rows of the country data describe a part of a larger
//! range again with another country. Where rows overlap **the narrower range wins** (as with
//! longest-prefix matching; between equal ranges, the later row). The result is a flat list of
//! non-overlapping ranges, with adjacent ranges of equal value merged and gaps kept as "no data".

use super::format::{self, Ranges, RawFile, KIND_ASN, KIND_COUNTRY};
use super::{ErrorLocation, IpDataError};
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// Which kind of data file to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// Rows `start,end,CC` with an ISO 3166-1 alpha-2 country code.
    Country,
    /// Rows `start,end,asn,name` with an AS number and the AS holder's name.
    Asn,
}

/// One CSV file's text and the name used for it in error messages.
#[derive(Debug, Clone, Copy)]
pub struct CsvInput<'a> {
    /// File name for errors (`geo-whois-asn-country-ipv4.csv`).
    pub name: &'a str,
    /// The whole file.
    pub text: &'a str,
}

/// What building one data file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// CSV rows read (IPv4 and IPv6).
    pub rows: usize,
    /// Rows that start inside an earlier row (resolved: the narrower range wins).
    pub overlapping_rows: usize,
    /// IPv4 ranges written, including "no data" gaps.
    pub v4_ranges: usize,
    /// IPv6 ranges written, including "no data" gaps.
    pub v6_ranges: usize,
    /// Distinct values (country codes, or AS numbers).
    pub distinct_values: usize,
}

/// A built data file: gzip-compressed bytes ready for `data/ip/` and what went into them.
#[derive(Debug, Clone)]
pub struct BuiltFile {
    /// The file's bytes, readable by [`super::IpDatabase::from_bytes`].
    pub bytes: Vec<u8>,
    /// Counts for the build log.
    pub stats: BuildStats,
}

/// Builds one data file from the IPv4 and IPv6 CSV files of a package. `source` names the data
/// and its licence for reports (`geo-whois-asn-country 2026-06-17 (CC0-1.0)`); `date` is the
/// data's date (`2026-06-17`).
pub fn build_data_file(
    kind: DataKind,
    source: &str,
    date: &str,
    v4: CsvInput<'_>,
    v6: CsvInput<'_>,
) -> Result<BuiltFile, IpDataError> {
    let mut values = ValueTable::default();
    let rows4 = parse_csv(kind, v4, false, &mut values)?;
    let rows6 = parse_csv(kind, v6, true, &mut values)?;
    let mut stats = BuildStats {
        rows: rows4.len() + rows6.len(),
        ..BuildStats::default()
    };
    let (flat4, over4) = flatten(rows4, u128::from(u32::MAX));
    let (flat6, over6) = flatten(rows6, u128::MAX);
    stats.overlapping_rows = over4 + over6;
    stats.v4_ranges = flat4.len();
    stats.v6_ranges = flat6.len();
    stats.distinct_values = values.len();
    let (strings, records) = values.into_tables();
    let raw = RawFile {
        kind: match kind {
            DataKind::Country => KIND_COUNTRY,
            DataKind::Asn => KIND_ASN,
        },
        source: source.to_owned(),
        date: date.to_owned(),
        strings,
        records,
        v4: Ranges::from_pairs(&flat4),
        v6: Ranges::from_pairs(&flat6),
    };
    Ok(BuiltFile {
        bytes: format::encode(&raw),
        stats,
    })
}

/// Interns country codes or (AS number, name) pairs; values are 1-based, 0 means "no data".
#[derive(Default)]
struct ValueTable {
    by_key: HashMap<(u32, String), u32>,
    order: Vec<(u32, String)>,
}

impl ValueTable {
    fn intern(&mut self, asn: u32, text: &str) -> u32 {
        let key = (asn, text.to_owned());
        if let Some(&v) = self.by_key.get(&key) {
            return v;
        }
        self.order.push(key.clone());
        let v = self.order.len() as u32;
        self.by_key.insert(key, v);
        v
    }

    fn len(&self) -> usize {
        self.order.len()
    }

    /// Country files: the codes. AS files: distinct names, and (asn, name index) records.
    fn into_tables(self) -> (Vec<String>, Vec<(u32, u32)>) {
        let mut strings = Vec::new();
        let mut records = Vec::new();
        let mut name_index: HashMap<String, u32> = HashMap::new();
        for (asn, text) in self.order {
            if asn == 0 {
                strings.push(text);
            } else {
                let next = name_index.len() as u32;
                let idx = *name_index.entry(text.clone()).or_insert_with(|| {
                    strings.push(text);
                    next
                });
                records.push((asn, idx));
            }
        }
        (strings, records)
    }
}

/// One CSV row: an inclusive range and its value (the row's order is its index).
struct Row {
    start: u128,
    end: u128,
    value: u32,
}

fn parse_csv(
    kind: DataKind,
    input: CsvInput<'_>,
    v6: bool,
    values: &mut ValueTable,
) -> Result<Vec<Row>, IpDataError> {
    let mut rows = Vec::new();
    for (i, line) in input.text.lines().enumerate() {
        let err = |reason: String| IpDataError::new(input.name, ErrorLocation::Line(i + 1), reason);
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv_line(line).map_err(err)?;
        let want = match kind {
            DataKind::Country => 3,
            DataKind::Asn => 4,
        };
        if fields.len() != want {
            return Err(err(format!("{} fields, {want} expected", fields.len())));
        }
        let addr = |s: &str| -> Result<u128, IpDataError> {
            match s.trim().parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) if !v6 => Ok(u128::from(u32::from(a))),
                Ok(IpAddr::V6(a)) if v6 => Ok(u128::from(a)),
                Ok(_) => Err(err(format!(
                    "{s} is not an {} address",
                    if v6 { "IPv6" } else { "IPv4" }
                ))),
                Err(_) => Err(err(format!("{s:?} is not an IP address"))),
            }
        };
        let start = addr(&fields[0])?;
        let end = addr(&fields[1])?;
        if start > end {
            return Err(err(format!(
                "range starts at {} after its end {}",
                fields[0], fields[1]
            )));
        }
        let value = match kind {
            DataKind::Country => {
                let cc = fields[2].trim();
                if !(cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_uppercase())) {
                    return Err(err(format!("country code {cc:?} is not two letters A-Z")));
                }
                values.intern(0, cc)
            }
            DataKind::Asn => {
                let asn: u32 = fields[2]
                    .trim()
                    .parse()
                    .map_err(|_| err(format!("AS number {:?} is not a number", fields[2])))?;
                if asn == 0 {
                    return Err(err("AS number 0 is reserved".into()));
                }
                values.intern(asn, fields[3].trim())
            }
        };
        rows.push(Row { start, end, value });
    }
    Ok(rows)
}

/// Splits one CSV line: fields separated by commas, optionally in double quotes with `""` for a
/// quote inside.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("unterminated quoted field".into()),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => return Err(format!("{c:?} after a closing quote")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

/// Resolves overlaps (narrowest range wins, then the later row) and returns sorted
/// non-overlapping `(start, value)` ranges, each running to the next start (the last to `max`),
/// with value 0 for gaps, plus the number of rows that started inside another.
fn flatten(rows: Vec<Row>, max: u128) -> (Vec<(u128, u32)>, usize) {
    // Events: (position, is_start, row index). At one position, ends are handled before starts.
    let mut events: Vec<(u128, bool, usize)> = Vec::with_capacity(rows.len() * 2);
    for (i, r) in rows.iter().enumerate() {
        events.push((r.start, true, i));
        if r.end < max {
            events.push((r.end + 1, false, i));
        }
    }
    events.sort_unstable();
    // Active rows ordered by (width, later row first): the first one wins.
    let key = |i: usize| (rows[i].end - rows[i].start, Reverse(i));
    let mut active: BTreeSet<(u128, Reverse<usize>)> = BTreeSet::new();
    let mut out: Vec<(u128, u32)> = Vec::new();
    let mut overlapping = 0;
    let mut k = 0;
    while k < events.len() {
        let pos = events[k].0;
        while k < events.len() && events[k].0 == pos {
            let (_, is_start, i) = events[k];
            if is_start {
                if !active.is_empty() {
                    overlapping += 1;
                }
                active.insert(key(i));
            } else {
                active.remove(&key(i));
            }
            k += 1;
        }
        let value = active.first().map_or(0, |&(_, Reverse(i))| rows[i].value);
        match out.last() {
            Some(&(_, last)) if last == value => {}
            None if value == 0 => {}
            _ => out.push((pos, value)),
        }
    }
    (out, overlapping)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_quotes() {
        assert_eq!(
            split_csv_line(r#"1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc.""#).unwrap(),
            ["1.0.0.0", "1.0.0.255", "13335", "Cloudflare, Inc."]
        );
        assert_eq!(
            split_csv_line(r#"a,b,1,"LLC ""SPUTNIK""""#).unwrap(),
            ["a", "b", "1", "LLC \"SPUTNIK\""]
        );
        assert!(split_csv_line(r#"a,"b"#).is_err());
        assert!(split_csv_line(r#"a,"b"c"#).is_err());
    }

    #[test]
    fn narrower_ranges_win_and_gaps_stay_empty() {
        let rows = vec![
            Row {
                start: 10,
                end: 99,
                value: 1,
            },
            Row {
                start: 20,
                end: 29,
                value: 2,
            },
            Row {
                start: 30,
                end: 39,
                value: 1,
            },
            Row {
                start: 200,
                end: 255,
                value: 3,
            },
        ];
        let (flat, over) = flatten(rows, 255);
        assert_eq!(over, 2);
        assert_eq!(flat, vec![(10, 1), (20, 2), (30, 1), (100, 0), (200, 3)]);
    }
}
