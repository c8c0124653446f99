//! App lists: five or more Android package names (`com.tencent.mm`, `org.telegram.messenger`) in
//! one field (a JSON array or a delimited string) or in sibling values under one key.

use crate::keys::classify_key;
use crate::{trimmed_text, Confidence, Hits, PatternHit};
use std::collections::BTreeMap;

/// Fewest package names that make an app list.
pub const MIN_APP_LIST: usize = 5;
/// Most list items looked at in one value.
const MAX_LIST_ITEMS: usize = 10_000;
/// Largest value read as a list.
const MAX_APP_LIST_BYTES: usize = 1 << 20;
/// Longest package name accepted.
const MAX_PACKAGE_LEN: usize = 128;
/// Most dot-separated segments in a package name.
const MAX_SEGMENTS: usize = 12;
/// Package names shown in a hit's value.
const SHOWN: usize = 3;

/// First segments of reverse-DNS package names besides two-letter country codes.
const FIRST_SEGMENTS: &[&str] = &[
    "air", "app", "biz", "com", "edu", "gov", "info", "io", "me", "mobi", "net", "org", "tv",
];

/// Last segments that make a name a host name (`cn.bing.com`), not a package.
const HOST_ENDINGS: &[&str] = &["com", "edu", "gov", "info", "net", "org"];

/// True for an Android package name written reverse-DNS: 2–12 segments of a letter then letters,
/// digits or `_`; the first segment lower-case and a top-level domain (`com`, `org`, a two-letter
/// country code, …); the last not a host ending (`.com`). Two-segment names need a first segment
/// from the generic list (`com.whatsapp`), so `de.zdf`-like host fragments are not names.
pub(crate) fn is_package_name(name: &str) -> bool {
    if name.len() < 5 || name.len() > MAX_PACKAGE_LEN {
        return false;
    }
    let mut count = 0;
    for seg in name.split('.') {
        count += 1;
        let mut bytes = seg.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
        if !first_ok
            || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
            || count > MAX_SEGMENTS
        {
            return false;
        }
    }
    if count < 2 {
        return false;
    }
    let first = name.split('.').next().unwrap_or("");
    let last = name.rsplit('.').next().unwrap_or("");
    let generic = FIRST_SEGMENTS.contains(&first);
    let country = first.len() == 2 && first.bytes().all(|b| b.is_ascii_lowercase());
    (generic || (country && count >= 3)) && !HOST_ENDINGS.contains(&last)
}

/// The package-name part of a list item: up to a version, path or attribute separator
/// (`com.tencent.mm:8.0.1`, `com.whatsapp/.Main`).
fn item_head(item: &str) -> &str {
    let item = item.trim().trim_matches(|c| c == '"' || c == '\'');
    item.split([':', '/', '@', '=', ' ', '#', '|'])
        .next()
        .unwrap_or(item)
}

/// The items of a list value: a flat JSON array of strings, or text split on its most frequent
/// delimiter among `,` `;` `|` and newline (at least four occurrences).
fn list_items(text: &str) -> Option<(Vec<&str>, &'static str)> {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let items: Option<Vec<&str>> = inner
            .split(',')
            .take(MAX_LIST_ITEMS)
            .map(|i| {
                let i = i.trim();
                i.strip_prefix('"').and_then(|r| r.strip_suffix('"'))
            })
            .collect();
        return items.map(|i| (i, "JSON array"));
    }
    let delimiters = [
        (',', "comma"),
        (';', "semicolon"),
        ('|', "bar"),
        ('\n', "newline"),
    ];
    let (delimiter, name) = delimiters
        .iter()
        .map(|&(d, name)| (t.matches(d).take(MAX_LIST_ITEMS).count(), d, name))
        .filter(|&(n, ..)| n >= MIN_APP_LIST - 1)
        .max_by_key(|&(n, ..)| n)
        .map(|(_, d, name)| (d, name))?;
    let items = t
        .split(delimiter)
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .take(MAX_LIST_ITEMS)
        .collect();
    Some((items, name))
}

/// A hit for `names` out of `total` list items.
fn list_hit(
    names: &[&str],
    total: usize,
    range: std::ops::Range<usize>,
    confidence: Confidence,
    reason: String,
) -> PatternHit {
    let shown: Vec<&str> = names.iter().take(SHOWN).copied().collect();
    let more = if names.len() > SHOWN { ", …" } else { "" };
    PatternHit::new(
        "app_list",
        format!("{} package names: {}{more}", names.len(), shown.join(", ")),
        range,
        confidence,
        reason,
    )
    .with("count", names.len().to_string())
    .with("items", total.to_string())
    .with(
        "first",
        names
            .iter()
            .take(MIN_APP_LIST)
            .copied()
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// True when `names` of `total` items are enough for a list: at least [`MIN_APP_LIST`] and 60 %.
fn enough(names: usize, total: usize) -> bool {
    names >= MIN_APP_LIST && names * 5 >= total * 3
}

/// Finds a list of package names in one value.
pub(crate) fn scan(data: &[u8], hits: &mut Hits) {
    if data.len() > MAX_APP_LIST_BYTES || hits.full() {
        return;
    }
    let Some((text, offset)) = trimmed_text(data) else {
        return;
    };
    let Some((items, delimiter)) = list_items(text) else {
        return;
    };
    let names: Vec<&str> = items
        .iter()
        .map(|i| item_head(i))
        .filter(|h| is_package_name(h))
        .collect();
    if enough(names.len(), items.len()) {
        let reason = format!(
            "{} of {} items ({delimiter} list) are Android package names",
            names.len(),
            items.len()
        );
        hits.push(list_hit(
            &names,
            items.len(),
            offset..offset + text.len(),
            Confidence::Medium,
            reason,
        ));
    }
}

/// Finds package names in sibling values that share a key (a JSON array's elements, a column of
/// an array of objects).
pub(crate) fn scan_group(siblings: &[(&str, &[u8])], hits: &mut Hits) {
    #[derive(Default)]
    struct Column<'a> {
        names: Vec<&'a str>,
        total: usize,
        first: Option<usize>,
    }
    let mut columns: BTreeMap<&str, Column<'_>> = BTreeMap::new();
    for (idx, &(key, value)) in siblings.iter().enumerate() {
        let column = columns.entry(key).or_default();
        column.total += 1;
        let Ok(text) = std::str::from_utf8(value) else {
            continue;
        };
        let head = item_head(text);
        if is_package_name(head) {
            column.first.get_or_insert(idx);
            column.names.push(head);
        }
    }
    for (key, column) in columns {
        if hits.full() {
            break;
        }
        if !enough(column.names.len(), column.total) {
            continue;
        }
        let first = column.first.unwrap_or(0);
        let telling = classify_key(key).is_some_and(|c| c.kind == "app_list");
        let confidence = if telling {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let reason = format!(
            "{} of {} values under `{key}` are Android package names",
            column.names.len(),
            column.total
        );
        let len = siblings.get(first).map_or(0, |s| s.1.len());
        let hit = list_hit(&column.names, column.total, 0..len, confidence, reason)
            .with("sibling", first.to_string())
            .with("key", key);
        hits.push(hit);
    }
}
