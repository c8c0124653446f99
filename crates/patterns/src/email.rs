//! E-mail addresses: `local@domain.tld`, found from each `@` with bounded walks either way.

use crate::{byte_before, Confidence, Hits, PatternHit};

/// Longest local part (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_LEN: usize = 64;
/// Longest domain (RFC 1035).
const MAX_DOMAIN_LEN: usize = 253;
/// Longest domain label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// Top-level domains common enough to give medium confidence; any two-letter (country) TLD also
/// does. Other alphabetic TLDs give low confidence.
const COMMON_TLDS: &[&str] = &[
    "app", "biz", "cloud", "com", "dev", "edu", "email", "gov", "info", "int", "live", "me", "mil",
    "mobi", "name", "net", "online", "org", "pro", "shop", "site", "store", "tech", "top", "vip",
    "xyz",
];

/// "TLDs" that are file extensions: `logo@2x.png` is an image name, not an address.
const FILE_EXTENSIONS: &[&str] = &[
    "avif", "bmp", "css", "gif", "htm", "html", "ico", "jpeg", "jpg", "js", "json", "map", "mjs",
    "mp3", "mp4", "png", "svg", "ts", "ttf", "txt", "webm", "webp", "woff", "woff2", "xml",
];

/// Local parts of role accounts (a company's address, not a person's): low confidence.
const ROLE_ACCOUNTS: &[&str] = &[
    "abuse",
    "admin",
    "contact",
    "git",
    "help",
    "hostmaster",
    "info",
    "no-reply",
    "noreply",
    "postmaster",
    "privacy",
    "sales",
    "security",
    "support",
    "webmaster",
];

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// Checks a domain: two or more labels of 1–63 letters, digits and inner hyphens, an alphabetic
/// TLD of 2–24 letters that is not a file extension. Returns the TLD.
fn check_domain(domain: &str) -> Option<&str> {
    let mut labels = 0;
    for label in domain.split('.') {
        if label.is_empty()
            || label.len() > MAX_LABEL_LEN
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return None;
        }
        labels += 1;
    }
    let tld = domain.rsplit('.').next()?;
    let ok = labels >= 2
        && (2..=24).contains(&tld.len())
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
        && !FILE_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(tld));
    ok.then_some(tld)
}

/// The address ending and starting around the `@` at `at`, as a byte range; `None` when it is not
/// an address.
pub(crate) fn address_at(data: &[u8], at: usize) -> Option<(usize, usize)> {
    // Local part: walk left.
    let mut start = at;
    while start > 0 && at - start < MAX_LOCAL_LEN {
        match byte_before(data, start) {
            Some(b) if is_local_char(b) => start -= 1,
            _ => break,
        }
    }
    if byte_before(data, start).is_some_and(is_local_char) {
        return None; // longer than MAX_LOCAL_LEN
    }
    while data.get(start) == Some(&b'.') {
        start += 1;
    }
    if start >= at || data.get(at - 1) == Some(&b'.') {
        return None;
    }
    // URL user info (`https://key@o1.ingest.example/1`) is not an address.
    if start >= 2 && data.get(start - 2..start) == Some(b"//".as_slice()) {
        return None;
    }
    // Domain: walk right.
    let mut end = at + 1;
    while end < data.len() && end - at <= MAX_DOMAIN_LEN {
        match data.get(end) {
            Some(&b) if is_domain_char(b) => end += 1,
            _ => break,
        }
    }
    if data
        .get(end)
        .is_some_and(|&b| is_domain_char(b) || b == b'@')
    {
        return None;
    }
    while end > at + 1 && matches!(data.get(end - 1), Some(b'.' | b'-')) {
        end -= 1;
    }
    let domain = std::str::from_utf8(data.get(at + 1..end)?).ok()?;
    check_domain(domain)?;
    Some((start, end))
}

/// Confidence and reason for a well-formed address.
pub(crate) fn judge(address: &str) -> (Confidence, String) {
    let (local, domain) = address.split_once('@').unwrap_or((address, ""));
    let tld = domain.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    let known_tld = tld.len() == 2 || COMMON_TLDS.contains(&tld.as_str());
    if ROLE_ACCOUNTS.iter().any(|r| r.eq_ignore_ascii_case(local)) {
        (
            Confidence::Low,
            format!("e-mail address of a role account (`{local}@`), not a person's"),
        )
    } else if !known_tld {
        (
            Confidence::Low,
            format!("e-mail-shaped text with the uncommon top-level domain `.{tld}`"),
        )
    } else {
        (Confidence::Medium, "e-mail address".to_string())
    }
}

/// Finds e-mail addresses.
pub(crate) fn scan(data: &[u8], hits: &mut Hits) {
    let mut next_free = 0;
    for at in memchr::memchr_iter(b'@', data) {
        if hits.full() {
            break;
        }
        if at < next_free {
            continue;
        }
        let Some((start, end)) = address_at(data, at) else {
            continue;
        };
        let Ok(address) = std::str::from_utf8(data.get(start..end).unwrap_or_default()) else {
            continue;
        };
        let (confidence, reason) = judge(address);
        hits.push(PatternHit::new(
            "email",
            address,
            start..end,
            confidence,
            reason,
        ));
        next_free = end;
    }
}
