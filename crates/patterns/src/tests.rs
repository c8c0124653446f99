//! Unit tests: each detector positive and negative, key normalisation, media files built here
//! with their real headers, app lists, call logs, caps and malformed input.

use crate::{
    key_kind, normalize_key, Confidence, PatternHit, PatternScanner, MAX_GROUP_SIBLINGS,
    MAX_HITS_PER_NODE, MAX_PHONE_CANDIDATES,
};
use std::io::Write;

fn scan(key: Option<&str>, data: &[u8]) -> Vec<PatternHit> {
    let mut out = Vec::new();
    PatternScanner::new(Some("GB")).scan_node(key, data, &mut out);
    out
}

fn scan_group(siblings: &[(&str, &str)]) -> Vec<PatternHit> {
    let pairs: Vec<(&str, &[u8])> = siblings.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
    let mut out = Vec::new();
    PatternScanner::new(Some("GB")).scan_group(&pairs, &mut out);
    out
}

/// (kind, value, confidence) of each hit.
fn summary(hits: &[PatternHit]) -> Vec<(String, String, Confidence)> {
    hits.iter()
        .map(|h| (h.kind.clone(), h.value.clone(), h.confidence))
        .collect()
}

fn one(hits: &[PatternHit]) -> &PatternHit {
    assert_eq!(hits.len(), 1, "expected one hit, got {hits:#?}");
    &hits[0]
}

use Confidence::{High, Low, Medium};

// ---------------------------------------------------------------- IMEI, IMSI, ICCID, MEID

#[test]
fn imei_unkeyed_is_medium_with_tac_reason() {
    let hits = scan(None, b"id=356938035643809&x=1");
    let h = one(&hits);
    assert_eq!((h.kind.as_str(), h.confidence), ("imei", Medium));
    assert_eq!(h.value, "356938035643809");
    assert_eq!((h.start, h.end), (3, 18));
    assert!(h.reason.contains("TAC 35693803"), "{}", h.reason);
    assert!(h.reason.contains("BABT"), "{}", h.reason);
}

#[test]
fn imei_keyed_is_high_across_vendor_spellings() {
    for key in [
        "imei",
        "IMEI1",
        "deviceImei",
        "sim2_imei",
        "json:$.device.imei",
        "query:imei",
    ] {
        let h = scan(Some(key), b"356938035643809");
        assert_eq!(
            summary(&h),
            vec![("imei".into(), "356938035643809".into(), High)],
            "{key}"
        );
    }
}

#[test]
fn imei_negatives() {
    // Luhn-invalid (last digit off by one): not an IMEI, and MCC 356 alone does not make an IMSI.
    assert!(scan(None, b"356938035643808").is_empty());
    // Luhn-valid but the TAC starts with 12 (no reporting body) and 123 is no MCC: nothing.
    assert!(crate::numbering::luhn_valid(b"123456789012347"));
    assert!(scan(None, b"123456789012347").is_empty());
    // Inside a longer number, a decimal fraction, a word, or an e-mail local part: nothing.
    for text in [
        &b"1356938035643809"[..],
        b"0.356938035643809",
        b"356938035643809.5",
        b"x356938035643809",
        b"356938035643809@qq.com",
        b"000000000000000",
    ] {
        let hits: Vec<_> = scan(None, text)
            .into_iter()
            .filter(|h| h.kind != "email")
            .collect();
        assert!(
            hits.is_empty(),
            "{:?}: {hits:#?}",
            String::from_utf8_lossy(text)
        );
    }
}

#[test]
fn imei_keyed_other_shapes() {
    // Luhn-invalid under an IMEI key: still a finding, medium.
    let h = scan(Some("imei"), b"356938035643808");
    assert_eq!(
        summary(&h),
        vec![("imei".into(), "356938035643808".into(), Medium)]
    );
    assert!(h[0].reason.contains("Luhn check fails"));
    // 14 digits (no check digit) and the MD5 of an IMEI under `imei_md5`.
    assert_eq!(one(&scan(Some("imei"), b"35693803564380")).confidence, High);
    let h = scan(Some("imei_md5"), b"af2d48f2495881aed1737bb21017f9b6");
    let h = one(&h);
    assert_eq!((h.kind.as_str(), h.confidence), ("imei", Medium));
    assert!(h.reason.contains("MD5"), "{}", h.reason);
    // Placeholders under the key: nothing.
    for v in [
        "",
        "0",
        "null",
        "unknown",
        "000000000000000",
        " Unknown ",
        "\"\"",
    ] {
        assert!(scan(Some("imei"), v.as_bytes()).is_empty(), "{v:?}");
    }
}

#[test]
fn imsi_shapes() {
    let h = scan(None, b"imsi:234101234567890");
    let h = one(&h);
    assert_eq!((h.kind.as_str(), h.confidence), ("imsi", Medium));
    assert!(
        h.reason
            .contains("MCC 234 (United Kingdom) and MNC 10 (O2)"),
        "{}",
        h.reason
    );
    // Three-digit MNC.
    let h = scan(None, b"310260123456789");
    assert!(one(&h).reason.contains("T-Mobile"));
    // With a key: high; an unlisted MNC with a key is high too.
    for (key, value) in [
        ("SIM1_IMSI", "234101234567890"),
        ("subscriberId", "234991234567890"),
    ] {
        let h = scan(Some(key), value.as_bytes());
        assert_eq!(
            summary(&h),
            vec![("imsi".into(), value.into(), High)],
            "{key}"
        );
    }
    // An MCC in use but an unlisted network: nothing without a key (order ids look like that).
    assert!(scan(None, b"204812345678901").is_empty());
    // Unknown MCC: nothing without a key, a medium keyed value with one.
    assert!(scan(None, b"999011234567890").is_empty());
    assert_eq!(
        one(&scan(Some("imsi"), b"999011234567890")).confidence,
        Medium
    );
}

#[test]
fn iccid_shapes() {
    let h = scan(None, b"[89441012345678901237]");
    assert_eq!(
        summary(&h),
        vec![("iccid".into(), "89441012345678901237".into(), Medium)]
    );
    // Not Luhn-valid, or not starting with 89: nothing without a key.
    assert!(scan(None, b"8944101234567890123").is_empty());
    assert!(scan(None, b"79441012345678901237").is_empty());
    // The profile's ICCID (no valid check digit) under its key: high, and the reason says so.
    let h = scan(Some("iccid"), b"8944101234567890123");
    let h = one(&h);
    assert_eq!((h.kind.as_str(), h.confidence), ("iccid", High));
    assert!(h.reason.contains("not Luhn-valid"), "{}", h.reason);
    assert_eq!(
        one(&scan(Some("simSerialNumber"), b"89441012345678901237")).kind,
        "iccid"
    );
}

#[test]
fn meid_shapes() {
    let h = scan(None, b"meid A0000012345678 end");
    assert_eq!(
        summary(&h),
        vec![("meid".into(), "A0000012345678".into(), Low)]
    );
    assert_eq!(one(&scan(Some("meid"), b"A0000012345678")).confidence, High);
    // Decimal MEID only with a key.
    assert!(scan(None, b"270113177609606071").is_empty());
    assert_eq!(
        one(&scan(Some("MEID"), b"270113177609606071")).confidence,
        High
    );
    // Manufacturer code below A0, mixed case, letters only: not an MEID.
    for t in ["9F000012345678", "A000001234567b", "ABCDEFABCDEFAB"] {
        assert!(scan(None, t.as_bytes()).is_empty(), "{t}");
    }
}

// ---------------------------------------------------------------- MAC

#[test]
fn mac_shapes() {
    let h = scan(None, b"wifi=3c:28:6d:01:23:45&x");
    let h = one(&h);
    assert_eq!(
        (h.kind.as_str(), h.value.as_str(), h.confidence),
        ("mac", "3c:28:6d:01:23:45", Medium)
    );
    assert!(h.reason.contains("OUI 3c:28:6d"), "{}", h.reason);
    assert_eq!(one(&scan(None, b"3C-28-6D-01-23-45")).kind, "mac");
    // Locally administered (randomised) addresses are reported and said to be so.
    assert!(one(&scan(None, b"da:a1:19:01:23:45"))
        .reason
        .contains("randomised"));
    // Keyed: high, any separator style.
    for (key, v) in [
        ("wifiMac", "3c286d012345"),
        ("mac", "3c28.6d01.2345"),
        ("MAC_ADDRESS", "3c:28:6d:01:23:45"),
    ] {
        assert_eq!(
            summary(&scan(Some(key), v.as_bytes())),
            vec![("mac".into(), v.into(), High)],
            "{key}"
        );
    }
    assert_eq!(
        one(&scan(Some("bssid"), b"3c:28:6d:01:23:45")).kind,
        "bssid"
    );
}

#[test]
fn mac_negatives() {
    for t in [
        "ff:ff:ff:ff:ff:ff",
        "00:00:00:00:00:00",
        "02:00:00:00:00:00",
        "01:00:5e:00:00:fb",      // multicast
        "3c:28:6d:01:23:45:67",   // seven octets
        "2001:3c:28:6d:01:23:45", // part of a longer colon sequence
        "3c:28:6d:01:23:4g",
        "3c:28-6d:01:23:45", // mixed separators
        "x3c:28:6d:01:23:45",
    ] {
        assert!(scan(None, t.as_bytes()).is_empty(), "{t}");
    }
    for v in [
        "02:00:00:00:00:00",
        "00:00:00:00:00:00",
        "ff:ff:ff:ff:ff:ff",
    ] {
        assert!(scan(Some("mac"), v.as_bytes()).is_empty(), "{v}");
    }
}

// ---------------------------------------------------------------- advertising ids

#[test]
fn uuid_shapes() {
    let v4 = "0f6e1c2b-3a4d-4e5f-8a9b-c0d1e2f3a4b5";
    assert_eq!(
        summary(&scan(None, v4.as_bytes())),
        vec![("advertising_id".into(), v4.into(), Low)]
    );
    // Under ad keys: high, with the key's kind.
    assert_eq!(
        summary(&scan(Some("oaid"), v4.as_bytes())),
        vec![("oaid".into(), v4.into(), High)]
    );
    assert_eq!(
        one(&scan(Some("idfa"), v4.as_bytes())).kind,
        "advertising_id"
    );
    // Version 1 (the profile's GAID) without a key: nothing; under `gaid`: high.
    let v1 = "38400000-8cf0-11bd-b23e-10b96e40000d";
    assert!(scan(None, v1.as_bytes()).is_empty());
    assert_eq!(
        summary(&scan(Some("gaid"), v1.as_bytes())),
        vec![("advertising_id".into(), v1.into(), High)]
    );
    // Opted out: nothing, with or without a key.
    let zero = "00000000-0000-0000-0000-000000000000";
    assert!(scan(None, zero.as_bytes()).is_empty());
    assert!(scan(Some("gaid"), zero.as_bytes()).is_empty());
    // 32 hex digits under `oaid` (MSA OAIDs come in several shapes): high.
    assert_eq!(
        one(&scan(Some("oaid"), b"0f6e1c2b3a4d4e5f8a9bc0d1e2f3a4b5")).confidence,
        High
    );
    // A v4 UUID inside a longer dashed id: nothing.
    assert!(scan(None, format!("x-{v4}-1").as_bytes()).is_empty());
}

// ---------------------------------------------------------------- phone numbers

#[test]
fn phone_shapes() {
    let h = scan(None, br#"{"to":"+44 7400 123456"}"#);
    let h = one(&h);
    assert_eq!(
        (h.kind.as_str(), h.value.as_str(), h.confidence),
        ("phone_number", "+44 7400 123456", Medium)
    );
    assert_eq!(
        h.details.get("e164").map(String::as_str),
        Some("+447400123456")
    );
    assert!(h.reason.contains("mobile"), "{}", h.reason);
    assert_eq!(h.details.get("region").map(String::as_str), Some("GB"));
    assert_eq!(
        one(&scan(None, b"call +1 (650) 253-0000 now")).details["e164"],
        "+16502530000"
    );
    assert_eq!(one(&scan(None, b"+8613800138000")).details["region"], "CN");
}

#[test]
fn phone_negatives() {
    for t in [
        "+44 1234",            // too short
        "+999 1234 5678",      // no such country code
        "+44 0000 000000",     // invalid for GB
        "07400 123456",        // national form without a key
        "+44 7700 900123",     // Ofcom's drama range: not a valid number
        "+1234567.891",        // a signed decimal
        "1e+15",               // an exponent
        "abc+447400123456",    // inside base64-like text
        "+447400123456789012", // too long
    ] {
        let hits: Vec<_> = scan(None, t.as_bytes())
            .into_iter()
            .filter(|h| h.kind == "phone_number")
            .collect();
        assert!(hits.is_empty(), "{t}: {hits:#?}");
    }
}

#[test]
fn phone_keyed_national_forms_use_the_region() {
    let h = scan(Some("phone"), b"07400 123456");
    let h = one(&h);
    assert_eq!((h.kind.as_str(), h.confidence), ("phone_number", High));
    assert_eq!(h.details["e164"], "+447400123456");
    // The profile's number is in Ofcom's drama range: under a phone key it is a medium finding.
    assert_eq!(one(&scan(Some("tel"), b"+447700900123")).confidence, Medium);
    // Without a region, national digits under a phone key are medium.
    let mut out = Vec::new();
    PatternScanner::new(None).scan_node(Some("msisdn"), b"07400123456", &mut out);
    assert_eq!(
        summary(&out),
        vec![("phone_number".into(), "07400123456".into(), Medium)]
    );
    // An unknown region is ignored rather than rejected.
    let mut out = Vec::new();
    PatternScanner::new(Some("ZZ")).scan_node(Some("tel"), b"07400123456", &mut out);
    assert_eq!(one(&out).confidence, Medium);
    // `mobile: true` or a model name is no number.
    assert!(scan(Some("mobile"), b"true").is_empty());
    assert!(scan(Some("mobile"), b"Pixel 8").is_empty());
}

// ---------------------------------------------------------------- e-mail

#[test]
fn email_shapes() {
    let h = scan(None, b"mail=sam.taylor@example.co.uk&x=1");
    assert_eq!(
        summary(&h),
        vec![("email".into(), "sam.taylor@example.co.uk".into(), Medium)]
    );
    assert_eq!(
        one(&scan(Some("mail"), b"sam.taylor@example.co.uk")).confidence,
        High
    );
    assert_eq!(one(&scan(None, b"noreply@example.com")).confidence, Low);
    assert_eq!(one(&scan(None, b"a.b@example.museumx")).confidence, Low);
    for t in [
        "logo@2x.png",
        "https://0123abcd@o1.ingest.sentry.io/42",
        "npm i pkg@1.2.3",
        "@handle",
        "user@localhost",
        "a@b.c",
        "x@-bad.com",
    ] {
        assert!(scan(None, t.as_bytes()).is_empty(), "{t}");
    }
    // A value under an e-mail key that is no address: nothing.
    assert!(scan(Some("email"), b"none given").is_empty());
}

// ---------------------------------------------------------------- locations

#[test]
fn location_pairs_in_text() {
    let h = scan(None, b"ll=51.507351,-0.127758&z=3");
    assert_eq!(
        summary(&h),
        vec![("location".into(), "51.507351,-0.127758".into(), Medium)]
    );
    assert_eq!(
        one(&scan(Some("ll"), b"51.507351, -0.127758")).confidence,
        High
    );
    assert_eq!(
        one(&scan(None, b"at (51.507351, -0.127758) today")).value,
        "51.507351, -0.127758"
    );
    for t in [
        "51.50,-0.12",                                // two decimals
        "91.507351,-0.127758",                        // latitude out of range
        "0.000,0.000",                                // null island
        r#"<path d="M12.345,67.890 L1.234,5.678"/>"#, // SVG path data
        "1.234,5.678,9.012",                          // a list of three
        "v1.234,5.678",
        r#"<circle transform="translate(88.127573, 38.113125) rotate(22.284850)"/>"#,
    ] {
        assert!(scan(None, t.as_bytes()).is_empty(), "{t}");
    }
}

#[test]
fn location_from_siblings() {
    let h = scan_group(&[("name", "home"), ("lat", "51.507351"), ("lng", "-0.127758")]);
    let h = one(&h);
    assert_eq!(
        (h.kind.as_str(), h.value.as_str(), h.confidence),
        ("location", "51.507351,-0.127758", High)
    );
    assert_eq!(h.details["sibling"], "1");
    // Coarse coordinates: medium. Out of range or (0, 0): nothing.
    assert_eq!(
        one(&scan_group(&[("latitude", "51.5"), ("longitude", "-0.1")])).confidence,
        Medium
    );
    assert!(scan_group(&[("lat", "0"), ("lon", "0")]).is_empty());
    assert!(scan_group(&[("lat", "123.4567"), ("lon", "0.1234")]).is_empty());
    assert!(scan_group(&[("lat", "51.507351")]).is_empty());
    // A [lon, lat] array under a location key.
    let h = scan_group(&[
        ("coordinates", "-100.127758"),
        ("coordinates", "151.507351"),
    ]);
    assert!(h.is_empty(), "{h:#?}"); // no latitude either way round
    let h = scan_group(&[("coordinates", "-122.084051"), ("coordinates", "37.421955")]);
    assert_eq!(one(&h).value, "37.421955,-122.084051");
    // A single latitude leaf under its key is a medium location.
    assert_eq!(
        summary(&scan(Some("gpsLat"), b"51.507351")),
        vec![("location".into(), "51.507351".into(), Medium)]
    );
}

// ---------------------------------------------------------------- telling keys

#[test]
fn key_normalisation_table() {
    let table = [
        ("imei", Some("imei")),
        ("IMEI1", Some("imei")),
        ("imei_md5", Some("imei")),
        ("deviceImei", Some("imei")),
        ("slot0Imei", Some("imei")),
        ("SIM1_IMSI", Some("imsi")),
        ("sim2Iccid", Some("iccid")),
        ("sim1serial", Some("iccid")),
        ("simSerialNumber", Some("iccid")),
        ("oaid", Some("oaid")),
        ("OAID", Some("oaid")),
        ("gaid", Some("advertising_id")),
        ("idfa", Some("advertising_id")),
        ("gps_adid", Some("advertising_id")),
        ("android_id", Some("android_id")),
        ("androidId", Some("android_id")),
        ("deviceid", Some("device_id")),
        ("device_id", Some("device_id")),
        ("Device-Id", Some("device_id")),
        ("X-Device-Id", Some("device_id")),
        ("udid", Some("device_id")),
        ("sn", Some("serial")),
        ("ro.serialno", Some("serial")),
        ("deviceSN", Some("serial")),
        ("mac", Some("mac")),
        ("wifiMac", Some("mac")),
        ("mac_sha1", Some("mac")),
        ("bssid", Some("bssid")),
        ("ssid", Some("wifi_ssid")),
        ("wifi_ssid", Some("wifi_ssid")),
        ("msisdn", Some("phone_number")),
        ("tel", Some("phone_number")),
        ("phone", Some("phone_number")),
        ("line1Number", Some("phone_number")),
        ("lat", Some("location")),
        ("lng", Some("location")),
        ("lon", Some("location")),
        ("cellid", Some("cell_id")),
        ("cid", Some("cell_id")),
        ("lac", Some("cell_id")),
        ("tac", Some("cell_id")),
        ("email", Some("email")),
        ("installed_apps", Some("app_list")),
        // Not telling.
        ("version", None),
        ("id", None),
        ("aid", None),
        ("userid", None),
        ("macro", None),
        ("hmac", None),
        ("contact", None),
        ("platform", None),
        ("phone_model", None),
        ("lastname", None),
        ("", None),
        ("1234", None),
    ];
    for (key, kind) in table {
        assert_eq!(key_kind(key), kind, "{key}");
    }
    assert_eq!(normalize_key(&"k".repeat(65)), None);
    assert_eq!(key_kind(&format!("{}imei", "x".repeat(70))), None);
}

#[test]
fn keyed_values_of_other_kinds() {
    let cases: [(&str, &str, &str, Confidence); 8] = [
        ("sn", "R58N31XYZQ", "serial", Medium),
        ("android_id", "9774d56d682e549c", "android_id", High),
        ("X-Device-Id", "9774d56d682e549c", "device_id", High),
        ("deviceId", "some-opaque-token-42", "device_id", Medium),
        ("ssid", "\"TaylorNet\"", "wifi_ssid", Medium),
        ("cellid", "26870553", "cell_id", Medium),
        ("lac", "4012", "cell_id", Low),
        ("device_id", "356938035643809", "imei", High),
    ];
    for (key, value, kind, confidence) in cases {
        let key = crate::node_key(&format!("header:{key}"), &[])
            .map(|k| k.into_owned())
            .unwrap_or_default();
        let h = scan(Some(&key), value.as_bytes());
        let h = one(&h);
        assert_eq!(
            (h.kind.as_str(), h.confidence),
            (kind, confidence),
            "{key}={value}"
        );
    }
    // Gates: a serial needs a digit, a cell id digits, an SSID a name.
    for (key, value) in [
        ("sn", "abcdef"),
        ("cid", "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4"),
        ("cid", "65535"),
        ("ssid", "<unknown ssid>"),
        ("lat", "north"),
        ("imei", "{\"a\":1}"),
    ] {
        assert!(
            scan(Some(key), value.as_bytes()).is_empty(),
            "{key}={value}"
        );
    }
    // Long text under a telling key is text, not an identifier.
    assert!(scan(Some("serial"), "x1 ".repeat(100).as_bytes()).is_empty());
}

// ---------------------------------------------------------------- app lists

const APPS: [&str; 6] = [
    "com.tencent.mm",
    "com.whatsapp",
    "org.telegram.messenger",
    "com.ss.android.ugc.aweme",
    "jp.naver.line.android",
    "tv.danmaku.bili",
];

#[test]
fn app_list_in_json_array_and_delimited_text() {
    let json = serde_json::to_string(&APPS).unwrap();
    let h = scan(None, json.as_bytes());
    let h = one(&h);
    assert_eq!((h.kind.as_str(), h.confidence), ("app_list", Medium));
    assert_eq!(h.details["count"], "6");
    assert!(h
        .value
        .starts_with("6 package names: com.tencent.mm, com.whatsapp, org.telegram.messenger, …"));
    for sep in [",", ";", "|", "\n", ", "] {
        let text = APPS.join(sep);
        let h = scan(None, text.as_bytes());
        assert_eq!(one(&h).details["count"], "6", "{sep:?}");
    }
    // With versions, and under a telling key: high.
    let text = APPS
        .iter()
        .map(|a| format!("{a}:1.0"))
        .collect::<Vec<_>>()
        .join(",");
    let h = scan(Some("installedApps"), text.as_bytes());
    assert_eq!(
        (one(&h).kind.as_str(), one(&h).confidence),
        ("app_list", High)
    );
}

#[test]
fn app_list_negatives() {
    // Four names are not a list.
    assert!(scan(None, APPS[..4].join(",").as_bytes()).is_empty());
    // Dotted words that are not package names.
    for text in [
        "version.1.2,version.1.3,version.1.4,version.1.5,version.1.6",
        "www.google.com,www.gstatic.com,cn.bing.com,fonts.googleapis.com,example.org",
        "jquery.min.js,app.bundle.js,vendor.chunk.js,main.css.map,react.dom.js",
        "a.b,c.d,e.f,g.h,i.j",
    ] {
        assert!(scan(None, text.as_bytes()).is_empty(), "{text}");
    }
    // Five names drowned in other items (under 60 %).
    let mut items: Vec<&str> = APPS[..5].to_vec();
    items.extend(["x", "y", "z", "w"]);
    assert!(scan(None, items.join(",").as_bytes()).is_empty());
}

#[test]
fn app_list_from_siblings() {
    let siblings: Vec<(&str, &str)> = APPS.iter().map(|a| ("apps", *a)).collect();
    let h = scan_group(&siblings);
    assert_eq!(
        (one(&h).kind.as_str(), one(&h).confidence),
        ("app_list", High)
    );
    // A column of an array of objects: names under `pkg`, versions under `ver`.
    let mut siblings = Vec::new();
    for a in APPS {
        siblings.push(("pkg", a));
        siblings.push(("ver", "8.0.1"));
    }
    let h = scan_group(&siblings);
    let h = one(&h);
    assert_eq!(
        (
            h.confidence,
            h.details["key"].as_str(),
            h.details["sibling"].as_str()
        ),
        (Medium, "pkg", "0")
    );
    let four: Vec<(&str, &str)> = APPS[..4].iter().map(|a| ("apps", *a)).collect();
    assert!(scan_group(&four).is_empty());
}

// ---------------------------------------------------------------- call logs

/// A contact-sync upload as a phone backup app sends it: contacts, then recent calls.
const CONTACT_SYNC: &str = r#"{
  "device": {"model": "SM-G960F", "os": "10"},
  "contacts": [
    {"name": "Priya Shah", "num": "+447400123456", "updated": 1717171717},
    {"name": "Tom Okafor", "num": "+447400123457", "starred": 1}
  ],
  "calls": [
    {"number": "+447400123456", "date": 1717171000123, "duration": 75, "type": 2},
    {"number": "07400 123457", "date": "2024-05-31T10:15:00Z", "duration": "12", "type": 1},
    {"number": "+447400123458", "date": 1717170000000, "type": 3}
  ],
  "ts": 1717171800
}"#;

/// The sibling groups of a JSON document: the leaves of each object (arrays of scalars with the
/// array's key), as the lead's integration would build them.
fn json_groups(v: &serde_json::Value, key: &str, out: &mut Vec<Vec<(String, String)>>) {
    fn leaf(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match v {
        serde_json::Value::Object(map) => {
            let group: Vec<(String, String)> = map
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), leaf(v)?)))
                .collect();
            out.push(group);
            for (k, v) in map {
                json_groups(v, k, out);
            }
        }
        serde_json::Value::Array(items) => {
            let group: Vec<(String, String)> = items
                .iter()
                .filter_map(|v| Some((key.to_string(), leaf(v)?)))
                .collect();
            out.push(group);
            for v in items {
                json_groups(v, key, out);
            }
        }
        _ => {}
    }
}

#[test]
fn call_log_in_contact_sync_json() {
    let doc: serde_json::Value = serde_json::from_str(CONTACT_SYNC).unwrap();
    let mut groups = Vec::new();
    json_groups(&doc, "$", &mut groups);
    let mut hits = Vec::new();
    for g in &groups {
        let pairs: Vec<(&str, &str)> = g.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        hits.extend(
            scan_group(&pairs)
                .into_iter()
                .filter(|h| h.kind == "call_log"),
        );
    }
    let got: Vec<(String, Confidence)> = hits
        .iter()
        .map(|h| (h.value.clone(), h.confidence))
        .collect();
    assert_eq!(
        got,
        vec![
            // Priya's contact entry has only an update time: low.
            // Two calls with durations: high (the second in national form, read in GB).
            ("+447400123456".to_string(), High),
            ("+447400123457".to_string(), High),
            // A call with a call time but no duration: medium.
            ("+447400123458".to_string(), Medium),
            // Priya's contact entry has only an update time: low.
            ("+447400123456".to_string(), Low),
        ]
    );
    assert_eq!(hits[0].details["duration"], "75");
    assert_eq!(hits[0].details["time"], "1717171000123");
    // Tom's contact entry (no time) and the device object gave nothing.
}

#[test]
fn call_log_negatives() {
    // A number without time or duration; a duration without number; a bad number.
    assert!(scan_group(&[("number", "+447400123456"), ("name", "Priya")]).is_empty());
    assert!(scan_group(&[("duration", "75"), ("date", "1717171000")]).is_empty());
    assert!(scan_group(&[("number", "+999123"), ("duration", "75")]).is_empty());
    // A timestamp under `from` is not the number.
    assert!(scan_group(&[
        ("from", "1717171000"),
        ("to", "1717172000"),
        ("duration", "1000")
    ])
    .is_empty());
    // Keys may be given as chain elements.
    let h = scan_group(&[
        ("json:$.calls[0].number", "+447400123456"),
        ("json:$.calls[0].duration", "75"),
    ]);
    assert_eq!(
        (one(&h).kind.as_str(), one(&h).confidence),
        ("call_log", High)
    );
    // Times out of range are not times.
    assert!(scan_group(&[("number", "+447400123456"), ("date", "123")]).is_empty());
}

// ---------------------------------------------------------------- media

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, initial value 0).
fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend(data);
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
}

/// A real RGB PNG: IHDR, one IDAT with a zlib stream made by flate2, IEND.
fn make_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend([(x * 40) as u8, (y * 40) as u8, 128]);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    png_chunk(&mut out, b"IDAT", &z.finish().unwrap());
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A JPEG frame: SOI, APP0 (JFIF), optionally APP1 (Exif) and fill bytes, SOFn, EOI.
fn make_jpeg(sof: u8, width: u16, height: u16, exif: bool) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend([0xFF, 0xE0, 0x00, 0x10]);
    out.extend(b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    if exif {
        let payload = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0";
        out.extend([0xFF, 0xE1]);
        out.extend(((payload.len() + 2) as u16).to_be_bytes());
        out.extend(payload);
        out.extend([0xFF, 0xFF]); // fill bytes before the next marker
    }
    out.extend([0xFF, sof, 0x00, 0x0B, 0x08]);
    out.extend(height.to_be_bytes());
    out.extend(width.to_be_bytes());
    out.extend([0x01, 0x01, 0x11, 0x00]);
    out.extend([0xFF, 0xD9]);
    out
}

fn make_wav(rate: u32, channels: u16, samples: usize) -> Vec<u8> {
    let data_len = samples * usize::from(channels) * 2;
    let mut out = b"RIFF".to_vec();
    out.extend(((36 + data_len) as u32).to_le_bytes());
    out.extend(b"WAVEfmt ");
    out.extend(16u32.to_le_bytes());
    out.extend(1u16.to_le_bytes()); // PCM
    out.extend(channels.to_le_bytes());
    out.extend(rate.to_le_bytes());
    out.extend((rate * u32::from(channels) * 2).to_le_bytes());
    out.extend((channels * 2).to_le_bytes());
    out.extend(16u16.to_le_bytes());
    out.extend(b"data");
    out.extend((data_len as u32).to_le_bytes());
    out.extend((0..data_len).map(|i| (i % 7) as u8));
    out
}

/// The first Ogg page of an Opus stream: the OpusHead packet (RFC 7845 §5.1), CRC included.
fn make_opus() -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1); // version
    head.push(2); // channels
    head.extend(312u16.to_le_bytes()); // pre-skip
    head.extend(48_000u32.to_le_bytes());
    head.extend(0i16.to_le_bytes());
    head.push(0); // mapping family
    let mut page = b"OggS".to_vec();
    page.push(0); // version
    page.push(2); // beginning of stream
    page.extend(0u64.to_le_bytes()); // granule
    page.extend(0x1234_5678u32.to_le_bytes()); // serial
    page.extend(0u32.to_le_bytes()); // sequence
    page.extend(0u32.to_le_bytes()); // CRC, filled below
    page.push(1);
    page.push(head.len() as u8);
    page.extend(&head);
    let crc = ogg_crc(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

fn iso_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend(kind);
    out.extend(payload);
    out
}

fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
    let mut payload = major.to_vec();
    payload.extend(0u32.to_be_bytes());
    for c in compatible {
        payload.extend(*c);
    }
    iso_box(b"ftyp", &payload)
}

/// A HEIC still: ftyp, then meta with iprp/ipco holding a tile `ispe` and the image's `ispe`.
fn make_heic(width: u32, height: u32) -> Vec<u8> {
    let ispe = |w: u32, h: u32| {
        let mut p = vec![0u8; 4];
        p.extend(w.to_be_bytes());
        p.extend(h.to_be_bytes());
        iso_box(b"ispe", &p)
    };
    let mut ipco_payload = ispe(512, 512);
    ipco_payload.extend(ispe(width, height));
    let ipco = iso_box(b"ipco", &ipco_payload);
    let iprp = iso_box(b"iprp", &ipco);
    let mut meta_payload = vec![0u8; 4];
    meta_payload.extend(iso_box(b"hdlr", &[0u8; 24]));
    meta_payload.extend(iprp);
    let mut out = ftyp(b"heic", &[b"mif1", b"heic"]);
    out.extend(iso_box(b"meta", &meta_payload));
    out.extend(iso_box(b"mdat", &[0u8; 64]));
    out
}

/// An MP4 with one video track whose `tkhd` says width × height.
fn make_mp4(width: u32, height: u32) -> Vec<u8> {
    let mut tkhd = vec![0u8; 76]; // version 0 fields up to the matrix
    tkhd.extend((width << 16).to_be_bytes());
    tkhd.extend((height << 16).to_be_bytes());
    let trak = iso_box(b"trak", &iso_box(b"tkhd", &tkhd));
    let mut out = ftyp(b"isom", &[b"isom", b"iso2", b"avc1", b"mp41"]);
    out.extend(iso_box(b"moov", &trak));
    out
}

fn make_webp_vp8x(width: u32, height: u32) -> Vec<u8> {
    let mut chunk = vec![0x08, 0, 0, 0]; // flags: alpha
    chunk.extend(&(width - 1).to_le_bytes()[..3]);
    chunk.extend(&(height - 1).to_le_bytes()[..3]);
    let mut body = b"WEBPVP8X".to_vec();
    body.extend(10u32.to_le_bytes());
    body.extend(chunk);
    let mut out = b"RIFF".to_vec();
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// Two ADTS frames of AAC-LC, 44.1 kHz stereo.
fn make_adts() -> Vec<u8> {
    let frame = |len: usize| {
        let mut f = vec![
            0xFF,
            0xF1,
            (1 << 6) | (4 << 2), // AAC-LC, 44.1 kHz, channel bit 2 = 0
            (2 << 6) | ((len >> 11) & 3) as u8,
            ((len >> 3) & 0xFF) as u8,
            (((len & 7) << 5) as u8) | 0x1F,
            0xFC,
        ];
        f.resize(len, 0x21);
        f
    };
    let mut out = frame(20);
    out.extend(frame(24));
    out
}

fn media(data: &[u8]) -> PatternHit {
    let hits = scan(None, data);
    one(&hits).clone()
}

#[test]
fn media_images() {
    let png = make_png(3, 2);
    let h = media(&png);
    assert_eq!((h.kind.as_str(), h.confidence), ("media", High));
    assert_eq!(
        (
            h.details["type"].as_str(),
            h.details["width"].as_str(),
            h.details["height"].as_str()
        ),
        ("png", "3", "2")
    );
    assert_eq!(h.details["size"], png.len().to_string());
    assert_eq!(h.value, format!("PNG image 3×2, {} bytes", png.len()));

    for (sof, exif, name) in [(0xC0, false, "SOF0"), (0xC2, true, "SOF2")] {
        let jpeg = make_jpeg(sof, 640, 480, exif);
        let h = media(&jpeg);
        assert_eq!(
            (
                h.details["type"].as_str(),
                h.details["width"].as_str(),
                h.details["height"].as_str()
            ),
            ("jpeg", "640", "480")
        );
        assert_eq!(h.details["sof"], name);
    }

    let heic = make_heic(4032, 3024);
    let h = media(&heic);
    assert_eq!(
        (
            h.details["type"].as_str(),
            h.details["width"].as_str(),
            h.details["height"].as_str()
        ),
        ("heic", "4032", "3024")
    );

    let webp = make_webp_vp8x(1080, 720);
    let h = media(&webp);
    assert_eq!(
        (
            h.details["type"].as_str(),
            h.details["width"].as_str(),
            h.details["height"].as_str()
        ),
        ("webp", "1080", "720")
    );

    // Lossy (VP8) and lossless (VP8L) WebP.
    let riff = |chunk: &[u8; 4], payload: &[u8]| {
        let mut body = b"WEBP".to_vec();
        body.extend(chunk);
        body.extend((payload.len() as u32).to_le_bytes());
        body.extend(payload);
        let mut out = b"RIFF".to_vec();
        out.extend((body.len() as u32).to_le_bytes());
        out.extend(body);
        out
    };
    let mut vp8 = vec![0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A]; // key frame tag, start code
    vp8.extend(320u16.to_le_bytes());
    vp8.extend(240u16.to_le_bytes());
    vp8.extend([0u8; 16]);
    let h = media(&riff(b"VP8 ", &vp8));
    assert_eq!(
        (
            h.details["format"].as_str(),
            h.details["width"].as_str(),
            h.details["height"].as_str()
        ),
        ("lossy", "320", "240")
    );
    let bits: u32 = (100 - 1) | ((50 - 1) << 14);
    let mut vp8l = vec![0x2F];
    vp8l.extend(bits.to_le_bytes());
    vp8l.extend([0u8; 8]);
    let h = media(&riff(b"VP8L", &vp8l));
    assert_eq!(
        (
            h.details["format"].as_str(),
            h.details["width"].as_str(),
            h.details["height"].as_str()
        ),
        ("lossless", "100", "50")
    );

    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    let h = media(gif);
    assert_eq!(
        (h.details["type"].as_str(), h.details["width"].as_str()),
        ("gif", "1")
    );
}

#[test]
fn media_audio_and_video() {
    let wav = make_wav(16_000, 1, 400);
    let h = media(&wav);
    assert_eq!(
        (
            h.details["type"].as_str(),
            h.details["sample_rate"].as_str(),
            h.details["channels"].as_str()
        ),
        ("wav", "16000", "1")
    );
    assert_eq!(h.details["size"], wav.len().to_string());
    assert!(!h.details.contains_key("width"));

    let opus = make_opus();
    let h = media(&opus);
    assert_eq!(
        (
            h.details["type"].as_str(),
            h.details["channels"].as_str(),
            h.confidence
        ),
        ("opus", "2", High)
    );

    let mut amr = b"#!AMR\n".to_vec();
    for _ in 0..3 {
        amr.push(0x3C); // mode 7 (12.2 kbit/s), quality bit
        amr.extend([0u8; 31]);
    }
    assert_eq!(media(&amr).details["type"], "amr");
    assert_eq!(media(b"#!AMR-WB\n\x24").details["type"], "amr-wb");

    let mut m4a = ftyp(b"M4A ", &[b"M4A ", b"mp42", b"isom"]);
    m4a.extend(iso_box(b"free", &[]));
    let h = media(&m4a);
    assert_eq!(
        (h.details["type"].as_str(), h.details["class"].as_str()),
        ("m4a", "audio")
    );

    let mp4 = make_mp4(1920, 1080);
    let h = media(&mp4);
    assert_eq!(
        (
            h.details["type"].as_str(),
            h.details["width"].as_str(),
            h.details["height"].as_str()
        ),
        ("mp4", "1920", "1080")
    );
    assert_eq!(
        media(&ftyp(b"3gp4", &[b"isom", b"3gp4"])).details["type"],
        "3gp"
    );

    // FLAC: STREAMINFO with 44.1 kHz, 2 channels, 16 bits.
    let mut flac = b"fLaC\x80\x00\x00\x22".to_vec();
    flac.extend(4096u16.to_be_bytes());
    flac.extend(4096u16.to_be_bytes());
    flac.extend([0u8; 6]);
    let packed: u64 = (44_100u64 << 44) | (1 << 41) | (15 << 36) | 1000;
    flac.extend(packed.to_be_bytes());
    flac.extend([0u8; 16]);
    let h = media(&flac);
    assert_eq!(
        (
            h.details["type"].as_str(),
            h.details["sample_rate"].as_str(),
            h.details["channels"].as_str()
        ),
        ("flac", "44100", "2")
    );
    // MP3 with an ID3v2.4 tag; a bad syncsafe size is not one.
    assert_eq!(
        media(b"ID3\x04\x00\x00\x00\x00\x00\x0aTIT2").details["type"],
        "mp3"
    );
    assert!(scan(None, b"ID3\x04\x00\x00\x80\x00\x00\x0a").is_empty());

    let aac = make_adts();
    let h = media(&aac);
    assert_eq!(
        (
            h.details["type"].as_str(),
            h.details["sample_rate"].as_str(),
            h.details["channels"].as_str()
        ),
        ("aac", "44100", "2")
    );
}

#[test]
fn media_negatives_and_truncation() {
    // Text bodies are never media.
    for body in [
        &br#"{"imei":"x","photo":"data"}"#[..],
        b"<!DOCTYPE html><html><body>RIFF WEBP</body></html>",
        b"RIFF",                         // too short for a form type
        b"RIFF\x10\x00\x00\x00AVI LIST", // a RIFF we do not call media
        b"\xff\xf1",                     // ADTS sync with no header
    ] {
        assert!(
            scan(None, body).iter().all(|h| h.kind != "media"),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    // ADTS whose frame length runs past the data, or whose next frame has no sync: not media.
    let mut aac = make_adts();
    aac[20] = 0x00;
    assert!(scan(None, &aac).is_empty());
    // Truncated files: magic only gives medium with no dimensions; nothing panics.
    for full in [
        make_png(2, 2),
        make_jpeg(0xC0, 8, 8, true),
        make_heic(8, 8),
        make_mp4(8, 8),
        make_webp_vp8x(8, 8),
        make_wav(8000, 1, 4),
        make_opus(),
    ] {
        for cut in 0..full.len() {
            let mut out = Vec::new();
            PatternScanner::new(None).scan_node(None, &full[..cut], &mut out);
            assert!(out.len() <= 1);
        }
    }
    let h = media(&make_png(2, 2)[..16]);
    assert_eq!(
        (h.confidence, h.details.contains_key("width")),
        (Medium, false)
    );
    // Absurd lengths: a JPEG segment pointing far past the end, a RIFF chunk of 4 GiB.
    let h = media(b"\xff\xd8\xff\xe0\xff\xff");
    assert_eq!(h.confidence, Medium);
    let mut wav = b"RIFF\xff\xff\xff\xffWAVEjunk\xff\xff\xff\xff".to_vec();
    wav.extend([0u8; 32]);
    assert_eq!(media(&wav).confidence, Medium);
    // An ftyp box claiming 4 GiB: not taken as media.
    assert!(scan(None, b"\xff\xff\xff\xffftypisom\0\0\0\0").is_empty());
}

// ---------------------------------------------------------------- bounds and robustness

#[test]
fn hits_per_node_are_capped() {
    let text: String = (0..1000)
        .map(|i| format!("3c:28:6d:01:{:02x}:{:02x} ", i / 256, i % 256))
        .collect();
    assert_eq!(scan(None, text.as_bytes()).len(), MAX_HITS_PER_NODE);
    // At most MAX_PHONE_CANDIDATES numbers go to libphonenumber, so at most that many hits.
    let phones = "+447400123456 ".repeat(200);
    assert_eq!(scan(None, phones.as_bytes()).len(), MAX_PHONE_CANDIDATES);
    // Siblings past MAX_GROUP_SIBLINGS are not looked at.
    let mut siblings: Vec<(&str, &str)> = vec![("x", "1"); MAX_GROUP_SIBLINGS];
    siblings.extend(APPS.iter().map(|a| ("apps", *a)));
    assert!(scan_group(&siblings).is_empty());
    siblings.drain(..APPS.len());
    assert_eq!(one(&scan_group(&siblings)).kind, "app_list");
}

#[test]
fn garbage_does_not_panic() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"0123456789abcdefABCDEF:-.,+@ \"[]{}\n#!AMRIFFWEBPftypOggS\xff\xd8\x89";
    let scanner = PatternScanner::new(Some("GB"));
    let mut total = 0;
    for round in 0..300 {
        let len = (next() % 600) as usize;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                let r = next();
                if round % 3 == 0 {
                    r as u8
                } else {
                    alphabet[(r % alphabet.len() as u64) as usize]
                }
            })
            .collect();
        let mut out = Vec::new();
        scanner.scan_node(Some("imei"), &data, &mut out);
        scanner.scan_node(None, &data, &mut out);
        let text = String::from_utf8_lossy(&data).into_owned();
        let pairs: Vec<(&str, &[u8])> = text.split(',').map(|s| (s, s.as_bytes())).collect();
        scanner.scan_group(&pairs, &mut out);
        for h in &out {
            assert!(h.start <= h.end && h.end <= data.len().max(text.len()));
        }
        total += out.len();
    }
    // Something was found in the garbage, so the detectors ran.
    assert!(total > 0);
}

#[test]
fn long_runs_are_linear() {
    // Worst cases for each walk: long digit, hex, '@', '+' and number runs.
    let big = 2 << 20;
    for filler in [b'7', b'a', b'@', b'+', b'.', b':'] {
        let data = vec![filler; big];
        let start = std::time::Instant::now();
        let _ = scan(Some("imei"), &data);
        assert!(start.elapsed().as_secs() < 5, "filler {}", filler as char);
    }
    let data = "1.234,".repeat(big / 6);
    let _ = scan(None, data.as_bytes());
}
