//! Keys that tell what their value is: key normalisation, the key → kind table, and the key of a
//! decoded node (the last selector of its chain).

use crate::Confidence;
use std::borrow::Cow;

/// Longest key, in bytes, that is looked up; a longer key tells nothing (real identifier keys are
/// short, and this bounds the normalisation work).
pub const MAX_KEY_LEN: usize = 64;

/// Most prefix or suffix strips tried while normalising one key.
const MAX_STRIPS: usize = 8;

/// How the value under a telling key is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// 15 digits (14 without check digit, 16 for IMEISV).
    Imei,
    /// 14 hex digits or 18 decimal digits.
    Meid,
    /// 14–15 digits starting with a known MCC.
    Imsi,
    /// 18–20 digits starting with 89.
    Iccid,
    /// Six octets (`:`, `-`, `.` or no separators).
    Mac,
    /// A UUID or a 16-, 32- or 64-hex-digit id.
    AdId,
    /// 16 hex digits.
    AndroidId,
    /// Any id-like value of 6–128 characters.
    DeviceId,
    /// 5–24 letters and digits, at least one digit.
    Serial,
    /// A phone number.
    Phone,
    /// An e-mail address.
    Email,
    /// A latitude.
    Lat,
    /// A longitude.
    Lon,
    /// A `lat,lon` pair.
    LocationPair,
    /// A decimal cell or area id.
    CellId,
    /// A Wi-Fi network name (1–32 bytes).
    Ssid,
    /// A list of package names.
    AppList,
}

/// What a telling key says about its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyClass {
    /// The kind reported for a value under this key.
    pub kind: &'static str,
    /// How the value is checked.
    pub rule: Rule,
    /// Confidence of a finding whose value passes the rule's gate but not its exact shape.
    pub base: Confidence,
    /// The key said the value is a digest (`imei_md5`, `mac_sha1`, …).
    pub hashed: bool,
}

use Confidence::{Low, Medium};
use Rule::*;

/// Normalised key → (kind, rule, base confidence). Sorted by key for binary search.
const KEY_TABLE: &[(&str, &str, Rule, Confidence)] = &[
    ("aaid", "advertising_id", AdId, Medium),
    ("adid", "advertising_id", AdId, Medium),
    ("advertiserid", "advertising_id", AdId, Medium),
    ("advertisingid", "advertising_id", AdId, Medium),
    ("advid", "advertising_id", AdId, Medium),
    ("androidid", "android_id", AndroidId, Medium),
    ("apmac", "bssid", Mac, Medium),
    ("applist", "app_list", AppList, Medium),
    ("apps", "app_list", AppList, Medium),
    ("bssid", "bssid", Mac, Medium),
    ("cellid", "cell_id", CellId, Medium),
    ("cellidentity", "cell_id", CellId, Medium),
    ("cellphone", "phone_number", Phone, Medium),
    ("ci", "cell_id", CellId, Low),
    ("cid", "cell_id", CellId, Low),
    ("coord", "location", LocationPair, Medium),
    ("coordinate", "location", LocationPair, Medium),
    ("coordinates", "location", LocationPair, Medium),
    ("coords", "location", LocationPair, Medium),
    ("cuid", "device_id", DeviceId, Medium),
    ("deviceid", "device_id", DeviceId, Medium),
    ("duid", "device_id", DeviceId, Medium),
    ("eci", "cell_id", CellId, Medium),
    ("email", "email", Email, Medium),
    ("emailaddr", "email", Email, Medium),
    ("emailaddress", "email", Email, Medium),
    ("gaid", "advertising_id", AdId, Medium),
    ("geo", "location", LocationPair, Medium),
    ("geolocation", "location", LocationPair, Medium),
    ("googleadid", "advertising_id", AdId, Medium),
    ("googleadvertisingid", "advertising_id", AdId, Medium),
    ("gps", "location", LocationPair, Medium),
    ("gpsadid", "advertising_id", AdId, Medium),
    ("iccid", "iccid", Iccid, Medium),
    ("idfa", "advertising_id", AdId, Medium),
    ("idfv", "device_id", DeviceId, Medium),
    ("ifa", "advertising_id", AdId, Medium),
    ("imei", "imei", Imei, Medium),
    ("imeisv", "imei", Imei, Medium),
    ("imsi", "imsi", Imsi, Medium),
    ("installedapplist", "app_list", AppList, Medium),
    ("installedapps", "app_list", AppList, Medium),
    ("installedpackages", "app_list", AppList, Medium),
    ("lac", "cell_id", CellId, Low),
    ("lat", "location", Lat, Medium),
    ("latitude", "location", Lat, Medium),
    ("latlng", "location", LocationPair, Medium),
    ("latlon", "location", LocationPair, Medium),
    ("linenumber", "phone_number", Phone, Medium),
    ("ll", "location", LocationPair, Medium),
    ("lng", "location", Lon, Medium),
    ("lnglat", "location", LocationPair, Medium),
    ("lon", "location", Lon, Medium),
    ("long", "location", Lon, Low),
    ("longitude", "location", Lon, Medium),
    ("mac", "mac", Mac, Medium),
    ("macaddr", "mac", Mac, Medium),
    ("macaddress", "mac", Mac, Medium),
    ("mail", "email", Email, Medium),
    ("mdn", "phone_number", Phone, Medium),
    ("meid", "meid", Meid, Medium),
    ("mobile", "phone_number", Phone, Medium),
    ("mobileno", "phone_number", Phone, Medium),
    ("mobilenumber", "phone_number", Phone, Medium),
    ("msisdn", "phone_number", Phone, Medium),
    ("nci", "cell_id", CellId, Medium),
    ("oaid", "oaid", AdId, Medium),
    ("openudid", "device_id", DeviceId, Medium),
    ("packagelist", "app_list", AppList, Medium),
    ("packages", "app_list", AppList, Medium),
    ("pci", "cell_id", CellId, Low),
    ("phone", "phone_number", Phone, Medium),
    ("phoneno", "phone_number", Phone, Medium),
    ("phonenum", "phone_number", Phone, Medium),
    ("phonenumber", "phone_number", Phone, Medium),
    ("pkglist", "app_list", AppList, Medium),
    ("pkgs", "app_list", AppList, Medium),
    ("psc", "cell_id", CellId, Low),
    ("serial", "serial", Serial, Medium),
    ("serialno", "serial", Serial, Medium),
    ("serialnumber", "serial", Serial, Medium),
    ("simserial", "iccid", Iccid, Medium),
    ("simserialnumber", "iccid", Iccid, Medium),
    ("sn", "serial", Serial, Medium),
    ("ssaid", "android_id", AndroidId, Medium),
    ("ssid", "wifi_ssid", Ssid, Medium),
    ("subscriberid", "imsi", Imsi, Medium),
    ("tac", "cell_id", CellId, Low),
    ("tel", "phone_number", Phone, Medium),
    ("telephone", "phone_number", Phone, Medium),
    ("telno", "phone_number", Phone, Medium),
    ("udid", "device_id", DeviceId, Medium),
    ("uniquedeviceid", "device_id", DeviceId, Medium),
    ("utdid", "device_id", DeviceId, Medium),
    ("vaid", "device_id", DeviceId, Medium),
    ("wifiname", "wifi_ssid", Ssid, Medium),
];

/// Prefixes stripped from a normalised key that is not in the table (longest first where one is
/// the start of another): vendor spellings such as `deviceImei`, `SIM1_IMSI`, `wifiMac`,
/// `ro.serialno`.
const PREFIXES: &[&str] = &[
    "bluetooth",
    "hardware",
    "android",
    "current",
    "primary",
    "device",
    "mobile",
    "system",
    "client",
    "phone",
    "build",
    "local",
    "slot",
    "user",
    "wifi",
    "wlan",
    "last",
    "real",
    "cur",
    "dev",
    "geo",
    "gps",
    "sim",
    "sys",
    "bt",
    "hw",
    "my",
    "ro",
];

/// Suffixes stripped from a normalised key that is not in the table. The first group says the
/// value is a digest of the identifier.
const HASH_SUFFIXES: &[&str] = &["sha256", "sha1", "md5", "hash"];
const OTHER_SUFFIXES: &[&str] = &[
    "encrypted",
    "cipher",
    "crypt",
    "plain",
    "value",
    "list",
    "enc",
    "raw",
    "str",
    "val",
];

/// Lower-cases `key` and keeps ASCII letters and digits only, dropping digit runs followed by a
/// letter (slot numbers: `SIM1_IMSI` → `simimsi`, `line1Number` → `linenumber`) and trailing
/// digits (`IMEI1` → `imei`) unless they end a digest name (`md5`, `sha1`, `sha256`). `None` when
/// the key is longer than [`MAX_KEY_LEN`] bytes.
///
/// ```
/// use phonehome_patterns::normalize_key;
/// assert_eq!(normalize_key("SIM1_IMSI").as_deref(), Some("simimsi"));
/// assert_eq!(normalize_key("sim2Iccid").as_deref(), Some("simiccid"));
/// assert_eq!(normalize_key("IMEI1").as_deref(), Some("imei"));
/// assert_eq!(normalize_key("imei_md5").as_deref(), Some("imeimd5"));
/// ```
pub fn normalize_key(key: &str) -> Option<String> {
    if key.len() > MAX_KEY_LEN {
        return None;
    }
    let mut out = String::with_capacity(key.len());
    // Digits seen since the last letter, kept only if a letter does not follow.
    let mut digits = String::new();
    for c in key.chars().filter(char::is_ascii_alphanumeric) {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            digits.clear();
            out.push(c.to_ascii_lowercase());
        }
    }
    let with_tail = format!("{out}{digits}");
    if HASH_SUFFIXES.iter().any(|s| with_tail.ends_with(s)) {
        return Some(with_tail);
    }
    Some(out)
}

/// [`normalize_key`] of a key given bare (`imei`) or as a selector chain element
/// (`json:$.device.imei`, `query:imei`). An `X-` prefix (of a header name) is dropped too.
pub(crate) fn normalize_bare_key(key: &str) -> Option<String> {
    let bare = selector_key(key).unwrap_or(Cow::Borrowed(key));
    let bare = match bare.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("x-") => bare.get(2..).unwrap_or(""),
        _ => &bare,
    };
    normalize_key(bare)
}

/// Looks a normalised key up in the table.
fn lookup(key: &str) -> Option<(&'static str, Rule, Confidence)> {
    KEY_TABLE
        .binary_search_by(|(k, ..)| (*k).cmp(key))
        .ok()
        .and_then(|i| KEY_TABLE.get(i))
        .map(|&(_, kind, rule, base)| (kind, rule, base))
}

/// Most keys remembered by [`classify_key`] per thread; the memo is emptied when it is full.
const MAX_MEMO_KEYS: usize = 4096;

thread_local! {
    /// Classes of keys seen recently: the same header names and JSON keys recur in every message.
    static KEY_MEMO: std::cell::RefCell<std::collections::HashMap<Box<str>, Option<KeyClass>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Longest key (or selector chain element) whose class is remembered.
const MAX_MEMO_KEY_LEN: usize = 4 * MAX_KEY_LEN;

/// Classifies a key (see [`classify_uncached`]), remembering the answer for keys of at most
/// [`MAX_MEMO_KEY_LEN`] bytes.
pub(crate) fn classify_key(key: &str) -> Option<KeyClass> {
    if key.len() > MAX_MEMO_KEY_LEN {
        return classify_uncached(key);
    }
    if let Some(known) = KEY_MEMO.with(|memo| memo.borrow().get(key).copied()) {
        return known;
    }
    let class = classify_uncached(key);
    KEY_MEMO.with(|memo| {
        let mut memo = memo.borrow_mut();
        if memo.len() >= MAX_MEMO_KEYS {
            memo.clear();
        }
        memo.insert(key.into(), class);
    });
    class
}

/// Classifies a key: exact lookup of its normalised form, then after stripping vendor prefixes
/// (`device`, `sim`, `wifi`, …), leading digits, digest suffixes (`md5`, …), other suffixes
/// (`enc`, `list`, …) and a plural `s`, one at a time.
fn classify_uncached(key: &str) -> Option<KeyClass> {
    let normalized = normalize_bare_key(key)?;
    let mut rest = normalized.as_str();
    let mut hashed = false;
    for _ in 0..MAX_STRIPS {
        if rest.is_empty() {
            return None;
        }
        if let Some((kind, rule, base)) = lookup(rest) {
            return Some(KeyClass {
                kind,
                rule,
                base,
                hashed,
            });
        }
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            rest = rest.get(digits..).unwrap_or("");
            continue;
        }
        if let Some(stripped) = PREFIXES
            .iter()
            .find_map(|p| rest.strip_prefix(p).filter(|r| r.len() >= 2))
        {
            rest = stripped;
            continue;
        }
        if let Some(stripped) = HASH_SUFFIXES
            .iter()
            .find_map(|s| rest.strip_suffix(s).filter(|r| r.len() >= 2))
        {
            hashed = true;
            rest = stripped;
            continue;
        }
        if let Some(stripped) = OTHER_SUFFIXES
            .iter()
            .find_map(|s| rest.strip_suffix(s).filter(|r| r.len() >= 2))
        {
            rest = stripped;
            continue;
        }
        match rest.strip_suffix('s').filter(|r| r.len() >= 3) {
            Some(stripped) => rest = stripped,
            None => return None,
        }
    }
    None
}

/// The kind of personal data a key tells about, after normalisation (see [`normalize_key`]):
/// `imei`, `meid`, `imsi`, `iccid`, `mac`, `bssid`, `advertising_id`, `oaid`, `android_id`,
/// `device_id`, `serial`, `phone_number`, `email`, `location`, `cell_id`, `wifi_ssid` or
/// `app_list`. Vendor spellings are recognised by stripping prefixes (`device`, `sim`, `slot`,
/// `wifi`, `hw`, `ro`, …), slot digits, digest suffixes (`md5`, `sha1`, `sha256`, `hash`) and
/// other suffixes (`enc`, `raw`, `list`, a plural `s`). A selector chain element
/// (`json:$.device.imei`, `query:gaid`) is reduced to its key first, and an `X-` header prefix is
/// dropped.
///
/// ```
/// use phonehome_patterns::key_kind;
/// assert_eq!(key_kind("SIM1_IMSI"), Some("imsi"));
/// assert_eq!(key_kind("deviceImei"), Some("imei"));
/// assert_eq!(key_kind("imei_md5"), Some("imei"));
/// assert_eq!(key_kind("wifiMac"), Some("mac"));
/// assert_eq!(key_kind("json:$.device.oaid"), Some("oaid"));
/// assert_eq!(key_kind("version"), None);
/// ```
pub fn key_kind(key: &str) -> Option<&'static str> {
    classify_key(key).map(|class| class.kind)
}

/// True when `key` names a call duration (`duration`, `dur`, `callTime`, `talk_time`, …).
pub(crate) fn is_duration_key(key: &str) -> bool {
    const DURATION_KEYS: [&str; 7] = [
        "callduration",
        "calllength",
        "calltime",
        "dur",
        "duration",
        "talktime",
        "talkduration",
    ];
    normalize_bare_key(key).is_some_and(|k| DURATION_KEYS.contains(&k.as_str()))
}

/// True when `key` names the time of a call (`date`, `callDate`, `startTime`, `timestamp`, …)
/// rather than some other time (`updated`, `created`).
pub(crate) fn is_call_time_key(key: &str) -> bool {
    const CALL_TIME_KEYS: [&str; 10] = [
        "begintime",
        "calldate",
        "callstart",
        "date",
        "datetime",
        "starttime",
        "start",
        "time",
        "timestamp",
        "ts",
    ];
    normalize_bare_key(key).is_some_and(|k| CALL_TIME_KEYS.contains(&k.as_str()))
}

/// The key a decoded node is stored under: the name selected by the last chain element when it
/// is a selector (`json:$.device.imei` → `imei`, `json:$.imeis[1]` → `imeis`, `form:imei` →
/// `imei`, `query:gaid` → `gaid`, `multipart:file` → `file`, `xml:/a/b` → `b`); for a message
/// part with an empty chain, the header name (without an `X-` prefix) or cookie name. `None` for
/// transforms (`base64`, `gzip`, …), `path:` segments, `protobuf:` field numbers, unnamed
/// multipart parts and the `url`/`body` roots.
///
/// ```
/// use phonehome_patterns::node_key;
/// let chain = vec!["form:p".to_string(), "base64".into(), "json:$.sn".into()];
/// assert_eq!(node_key("body", &chain).as_deref(), Some("sn"));
/// assert_eq!(node_key("header:X-Device-Id", &[]).as_deref(), Some("Device-Id"));
/// assert_eq!(node_key("body", &["base64".to_string()]), None);
/// ```
pub fn node_key<'a>(location: &'a str, chain: &'a [String]) -> Option<Cow<'a, str>> {
    match chain.last() {
        Some(step) => selector_key(step),
        None => {
            if let Some(name) = location.strip_prefix("header:") {
                let bare = match name.get(..2) {
                    Some(p) if p.eq_ignore_ascii_case("x-") => name.get(2..).unwrap_or(""),
                    _ => name,
                };
                (!bare.is_empty()).then_some(Cow::Borrowed(bare))
            } else {
                location
                    .strip_prefix("cookie:")
                    .filter(|n| !n.is_empty())
                    .map(Cow::Borrowed)
            }
        }
    }
}

/// The key named by one selector chain element; `None` for anything else (see [`node_key`]).
pub(crate) fn selector_key(step: &str) -> Option<Cow<'_, str>> {
    if let Some(path) = step.strip_prefix("json:") {
        return last_json_key(path);
    }
    for prefix in ["query:", "form:", "multipart:", "cookie:"] {
        if let Some(name) = step.strip_prefix(prefix) {
            let unnamed = name.is_empty() || name.bytes().all(|b| b.is_ascii_digit());
            return (!unnamed).then_some(Cow::Borrowed(name));
        }
    }
    if let Some(path) = step.strip_prefix("xml:") {
        let last = path.rsplit('/').next().unwrap_or(path);
        let last = last.trim_start_matches('@');
        return (!last.is_empty()).then_some(Cow::Borrowed(last));
    }
    None
}

/// The last member name of a JSONPath as written by phonehome-decode (`$.a.b`, `$.a[0]`,
/// `$['odd key']`, with `\` escaping `'` and `\` inside quotes); `None` for `$` or `$[0]`.
fn last_json_key(path: &str) -> Option<Cow<'_, str>> {
    let bytes = path.as_bytes();
    let mut last: Option<Cow<'_, str>> = None;
    let mut i = usize::from(bytes.first() == Some(&b'$'));
    while let Some(&b) = bytes.get(i) {
        match b {
            b'.' => {
                let start = i + 1;
                let end = bytes
                    .iter()
                    .skip(start)
                    .position(|&c| c == b'.' || c == b'[')
                    .map_or(bytes.len(), |n| start + n);
                last = path.get(start..end).map(Cow::Borrowed);
                i = end;
            }
            b'[' if bytes.get(i + 1) == Some(&b'\'') => {
                let start = i + 2;
                let mut j = start;
                let mut escaped = false;
                let mut owned: Option<String> = None;
                while let Some(&c) = bytes.get(j) {
                    if c == b'\\' {
                        escaped = true;
                        j += 2;
                        continue;
                    }
                    if c == b'\'' {
                        break;
                    }
                    j += 1;
                }
                let raw = path.get(start..j.min(bytes.len())).unwrap_or("");
                if escaped {
                    let mut s = String::with_capacity(raw.len());
                    let mut chars = raw.chars();
                    while let Some(c) = chars.next() {
                        if c == '\\' {
                            if let Some(next) = chars.next() {
                                s.push(next);
                            }
                        } else {
                            s.push(c);
                        }
                    }
                    owned = Some(s);
                }
                last = Some(owned.map_or(Cow::Borrowed(raw), Cow::Owned));
                // Skip `']`.
                i = j.saturating_add(2);
            }
            b'[' => {
                i = bytes
                    .iter()
                    .skip(i)
                    .position(|&c| c == b']')
                    .map_or(bytes.len(), |n| i + n + 1);
            }
            _ => i += 1,
        }
    }
    last.filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(KEY_TABLE.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn json_keys() {
        assert_eq!(last_json_key("$.device.imei").as_deref(), Some("imei"));
        assert_eq!(last_json_key("$.imeis[1]").as_deref(), Some("imeis"));
        assert_eq!(last_json_key("$.list[0].num").as_deref(), Some("num"));
        assert_eq!(last_json_key("$['odd key']").as_deref(), Some("odd key"));
        assert_eq!(last_json_key(r"$['it\'s'][2]").as_deref(), Some("it's"));
        assert_eq!(last_json_key("$[0]"), None);
        assert_eq!(last_json_key("$"), None);
        // Malformed paths do not panic.
        assert_eq!(
            last_json_key("$['unterminated").as_deref(),
            Some("unterminated")
        );
        assert_eq!(last_json_key("$[").as_deref(), None);
        assert_eq!(last_json_key(r"$['\").as_deref(), None);
    }

    #[test]
    fn selector_keys() {
        assert_eq!(selector_key("query:gaid").as_deref(), Some("gaid"));
        assert_eq!(selector_key("multipart:0"), None);
        assert_eq!(selector_key("path:3"), None);
        assert_eq!(selector_key("protobuf:1.2"), None);
        assert_eq!(selector_key("xml:/req/dev/@imei").as_deref(), Some("imei"));
        assert_eq!(selector_key("gzip"), None);
    }
}
