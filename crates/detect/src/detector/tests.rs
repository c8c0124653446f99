//! Matching every form, digests, boundaries and decoys.

use super::*;

const PROFILE: &str = r#"[device]
region = "GB"
imei = ["356938035643809", "356938035643817"]
serial = "R58N31XYZQ"
android_id = "9774d56d682e549c"
advertising_id = "38400000-8cf0-11bd-b23e-10b96e40000d"
oaid = "0f6e1c2b-3a4d-4e5f-8a9b-c0d1e2f3a4b5"
mac = ["3c:28:6d:01:23:45"]
phone_number = ["+447700900123"]
imsi = "234101234567890"
iccid = "8944101234567890123"
email = ["sam.taylor@example.co.uk"]
[[location]]
lat = 51.507351
lon = -0.127758
[[contact]]
name = "Priya Shah"
phone = "+447700900456"
[[sms]]
text = "Dinner at 8?"
[[custom]]
kind = "wifi_ssid"
value = "TaylorNet"
"#;

fn detector() -> Detector {
    let (profile, warnings) = Profile::parse(PROFILE).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    Detector::new(&profile)
}

/// (label, form, preimage, matched text) of every hit.
fn scan(d: &Detector, data: &str) -> Vec<(String, String, String, String)> {
    d.scan(data.as_bytes())
        .into_iter()
        .map(|h| {
            let text = data.get(h.start..h.end).unwrap().to_string();
            (h.label, h.form, h.preimage, text)
        })
        .collect()
}

/// The single hit in `data`, as (label, form, preimage).
fn one(d: &Detector, data: &str) -> (String, String, String) {
    let hits = scan(d, data);
    assert_eq!(hits.len(), 1, "{data}: {hits:?}");
    let (label, form, preimage, _) = hits.into_iter().next().unwrap();
    (label, form, preimage)
}

fn t(label: &str, form: &str, preimage: &str) -> (String, String, String) {
    (label.into(), form.into(), preimage.into())
}

#[test]
fn known_digests() {
    let d = detector();
    assert_eq!(
        one(&d, "imei_md5=af2d48f2495881aed1737bb21017f9b6"),
        t("imei #1", "md5", "356938035643809")
    );
    assert_eq!(
        one(&d, "X:AF2D48F2495881AED1737BB21017F9B6;"),
        t("imei #1", "md5", "356938035643809")
    );
    assert_eq!(
        one(&d, "31f455635a12252f8cedb39cd7533fc58a064bff"),
        t("imei #1", "sha1", "356938035643809")
    );
    assert_eq!(
        one(
            &d,
            "h=a1b575e0d3dabdc93f3c6190a239b5420f65d13601dcf1eee2bbd4f6a6168111"
        ),
        t("imei #1", "sha256", "356938035643809")
    );
    assert_eq!(
        one(&d, "993bcf931b6f18bccebe16c44a04f2bc"),
        t("mac #1", "md5", "3C:28:6D:01:23:45")
    );
    assert_eq!(
        one(&d, "ac57ea46bdbf5cc55e81f19ef4e0fb9b"),
        t("phone_number #1", "md5", "+447700900123")
    );
    assert_eq!(
        one(&d, "848d47ccec1c8e4371513c41a71da13e"),
        t("phone_number #1", "md5", "07700900123")
    );
    assert_eq!(
        one(
            &d,
            "4dd258263ce6cd19b5985f628f9f653999afa73a8035496cbf1bbb57ef6883d3"
        ),
        t("email #1", "sha256", "sam.taylor@example.co.uk")
    );
    // A digest inside a longer hex run is not one.
    assert!(scan(&d, "0af2d48f2495881aed1737bb21017f9b6").is_empty());
    assert!(scan(&d, "af2d48f2495881aed1737bb21017f9b6e").is_empty());
}

#[test]
fn plain_and_formatted_forms() {
    let d = detector();
    assert_eq!(
        one(&d, "{\"imei\":\"356938035643809\"}"),
        t("imei #1", "plain", "356938035643809")
    );
    assert_eq!(
        one(&d, "imei 35-693803-564380-9"),
        t("imei #1", "formatted", "35-693803-564380-9")
    );
    assert_eq!(
        one(&d, "imei=35693803564380&"),
        t("imei #1", "formatted", "35693803564380")
    );
    assert_eq!(
        one(&d, "sn=r58n31xyzq"),
        t("serial", "formatted", "r58n31xyzq")
    );
    assert_eq!(one(&d, "R58N31XYZQ"), t("serial", "plain", "R58N31XYZQ"));
    assert_eq!(
        one(&d, "aid:9774D56D682E549C"),
        t("android_id", "formatted", "9774D56D682E549C")
    );
    assert_eq!(
        one(&d, "384000008cf011bdb23e10b96e40000d"),
        t(
            "advertising_id",
            "formatted",
            "384000008cf011bdb23e10b96e40000d"
        )
    );
    assert_eq!(
        one(&d, "0F6E1C2B-3A4D-4E5F-8A9B-C0D1E2F3A4B5"),
        t("oaid", "formatted", "0F6E1C2B-3A4D-4E5F-8A9B-C0D1E2F3A4B5")
    );
    for mac in [
        "3c:28:6d:01:23:45",
        "3C-28-6D-01-23-45",
        "3c286d012345",
        "3C286D012345",
        "3c28.6d01.2345",
    ] {
        let form = if mac == "3c:28:6d:01:23:45" {
            "plain"
        } else {
            "formatted"
        };
        assert_eq!(one(&d, &format!("wifi={mac};")), t("mac #1", form, mac));
    }
    for phone in [
        "447700900123",
        "00447700900123",
        "+44 7700 900123",
        "07700 900123",
        "07700900123",
        "7700900123",
    ] {
        assert_eq!(
            one(&d, &format!("tel: {phone}.")),
            t("phone_number #1", "formatted", phone)
        );
    }
    assert_eq!(
        one(&d, "tel:+447700900123"),
        t("phone_number #1", "plain", "+447700900123")
    );
    assert_eq!(
        one(&d, "m=SAM.TAYLOR@EXAMPLE.CO.UK"),
        t("email #1", "formatted", "SAM.TAYLOR@EXAMPLE.CO.UK")
    );
    assert_eq!(
        one(&d, "imsi 234101234567890"),
        t("imsi", "plain", "234101234567890")
    );
    assert_eq!(
        one(&d, "iccid 8944101234567890123F"),
        t("iccid", "plain", "8944101234567890123")
    );
}

#[test]
fn contacts_sms_custom() {
    let d = detector();
    let hits = d.scan(br#"[{"name": "Priya Shah", "num": "07700 900456"}]"#);
    let got: Vec<(&str, &str, &str, &str)> = hits
        .iter()
        .map(|h| {
            (
                h.kind.as_str(),
                h.label.as_str(),
                h.value.as_str(),
                h.form.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("contact", "contact \"Priya Shah\"", "Priya Shah", "plain"),
            (
                "contact",
                "contact \"Priya Shah\"",
                "+447700900456",
                "formatted"
            )
        ]
    );
    assert_eq!(
        one(&d, "PRIYA SHAH"),
        t("contact \"Priya Shah\"", "formatted", "PRIYA SHAH")
    );
    assert_eq!(
        one(&d, "body=Dinner at 8?"),
        t("sms #1", "plain", "Dinner at 8?")
    );
    assert_eq!(
        one(&d, "ssid:TaylorNet"),
        t("wifi_ssid #1", "plain", "TaylorNet")
    );
    let hit = &d.scan(b"ssid:TaylorNet")[0];
    assert_eq!(
        (hit.kind.as_str(), hit.value.as_str(), hit.start, hit.end),
        ("wifi_ssid", "TaylorNet", 5, 14)
    );
}

#[test]
fn decoys_do_not_match() {
    let d = detector();
    for decoy in [
        "356938035643819",                       // IMEI one digit off
        "356938035643808",                       // IMEI with a wrong check digit
        "+447700900124",                         // phone number one digit off
        "07700900124",                           //   … in national form
        "99447700900123",                        // the phone number inside a longer digit run
        "4477009001234",                         //   … and at its start
        "1356938035643809",                      // IMEI inside a longer number
        "3c:28:6d:01:23:47",                     // MAC one off
        "3c286d012347",                          //   … without separators
        "38400000-8cf0-11bd-b23e-10b96e40000e",  // another UUID
        "f0f6e1c2b-3a4d-4e5f-8a9b-c0d1e2f3a4b5", // a UUID inside hex
        "a9774d56d682e549c",                     // android_id inside a longer hex run
        "XR58N31XYZQ",                           // serial inside a longer word
        "Priya Shahs",
        "234101234567891",
    ] {
        assert!(scan(&d, decoy).is_empty(), "{decoy}: {:?}", scan(&d, decoy));
    }
    // Letters around digits are fine; digits around letters are not.
    assert_eq!(one(&d, "imei356938035643809x").0, "imei #1");
}

#[test]
fn longest_wins_and_no_overlap() {
    let d = detector();
    // The 15-digit IMEI, not its 14-digit prefix; the E.164 number, not its digits.
    assert_eq!(
        one(&d, "356938035643809"),
        t("imei #1", "plain", "356938035643809")
    );
    assert_eq!(
        one(&d, "+447700900123"),
        t("phone_number #1", "plain", "+447700900123")
    );
    assert_eq!(
        one(&d, "00447700900123"),
        t("phone_number #1", "formatted", "00447700900123")
    );
    let hits = scan(&d, "356938035643809,356938035643817 R58N31XYZQ");
    let labels: Vec<&str> = hits.iter().map(|h| h.0.as_str()).collect();
    assert_eq!(labels, ["imei #1", "imei #2", "serial"]);
    // Offsets point at the match.
    let hits = d.scan(b"x=356938035643817");
    assert_eq!((hits[0].start, hits[0].end), (2, 17));
}

#[test]
fn counts_and_empty_profiles() {
    let d = detector();
    // Every form has three digests; a few hundred patterns in all.
    assert!(d.pattern_count() > 200, "{}", d.pattern_count());
    // One IMEI: its textual forms plus the digests of its canonical form, as distinct automaton
    // patterns; a change in either shows here.
    let (one_imei, _) = Profile::parse("[device]\nimei = \"356938035643809\"\n").unwrap();
    assert_eq!(Detector::new(&one_imei).pattern_count(), 15);
    let empty = Detector::new(&Profile::default());
    assert_eq!(empty.pattern_count(), 0);
    assert!(empty.scan(b"356938035643809").is_empty());
    assert!(d.scan(b"").is_empty());
}

#[test]
fn shared_values_give_one_hit_per_entry() {
    let (p, _) = Profile::parse("[device]\nphone_number = \"+447700900456\"\n[[contact]]\nname = \"Priya\"\nphone = \"+447700900456\"\n").unwrap();
    let d = Detector::new(&p);
    let labels: Vec<String> = d
        .scan(b"+447700900456")
        .into_iter()
        .map(|h| h.label)
        .collect();
    assert_eq!(labels, ["phone_number #1", "contact \"Priya\""]);
}

#[test]
fn large_data_is_scanned_quickly() {
    let d = detector();
    let mut data = "lorem ipsum 0123456789 abcdef {\"k\": [1,2,3]} "
        .repeat(100_000)
        .into_bytes();
    data.extend_from_slice(b"imei=356938035643809");
    let started = std::time::Instant::now();
    let hits = d.scan(&data);
    let took = started.elapsed();
    println!("scanned {} bytes in {took:?}", data.len());
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].end, data.len());
}

#[test]
fn match_cap_bounds_work() {
    let d = detector();
    let data = "R58N31XYZQ ".repeat(MAX_MATCHES_PER_SCAN + 50);
    assert_eq!(d.scan(data.as_bytes()).len(), MAX_MATCHES_PER_SCAN);
}
