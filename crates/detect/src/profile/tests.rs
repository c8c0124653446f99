//! Profile parsing: the documented format, leniency, errors and warnings.

use super::*;
use phonehome_testkit::testdata;

const FULL: &str = r#"[device]
name = "Redmi Note 11"
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
email = ["sam@example.co.uk"]
[[location]]
lat = 51.507351
lon = -0.127758
radius_m = 300
[[contact]]
name = "Priya Shah"
phone = "+447700900456"
[[sms]]
text = "Dinner at 8?"
[[custom]]
kind = "wifi_ssid"
value = "TaylorNet"
"#;

fn parse(text: &str) -> (Profile, Vec<String>) {
    Profile::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> String {
    Profile::parse(text).unwrap_err().to_string()
}

#[test]
fn full_example() {
    let (p, warnings) = parse(FULL);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(p.name.as_deref(), Some("Redmi Note 11"));
    assert_eq!(p.region.as_deref(), Some("GB"));
    let labels: Vec<&str> = p.values.iter().map(|v| v.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "imei #1",
            "imei #2",
            "serial",
            "android_id",
            "advertising_id",
            "oaid",
            "mac #1",
            "phone_number #1",
            "imsi",
            "iccid",
            "email #1"
        ]
    );
    assert_eq!(p.values[1].value, "356938035643817");
    assert_eq!(
        p.locations,
        vec![Location {
            lat: 51.507351,
            lon: -0.127758,
            radius_m: Some(300.0)
        }]
    );
    assert_eq!(
        p.contacts,
        vec![Contact {
            name: Some("Priya Shah".into()),
            phones: vec!["+447700900456".into()]
        }]
    );
    assert_eq!(
        p.sms,
        vec![Sms {
            text: "Dinner at 8?".into()
        }]
    );
    assert_eq!(
        p.custom,
        vec![CustomValue {
            kind: "wifi_ssid".into(),
            value: "TaylorNet".into()
        }]
    );
    let targets = p.targets();
    let contact: Vec<(&str, &str)> = targets
        .iter()
        .filter(|t| t.kind == "contact")
        .map(|t| (t.label.as_str(), t.value.as_str()))
        .collect();
    assert_eq!(
        contact,
        [
            ("contact \"Priya Shah\"", "Priya Shah"),
            ("contact \"Priya Shah\"", "+447700900456")
        ]
    );
    assert!(targets
        .iter()
        .any(|t| t.label == "sms #1" && t.value == "Dinner at 8?"));
    assert!(targets
        .iter()
        .any(|t| t.label == "wifi_ssid #1" && t.kind == "wifi_ssid"));
}

#[test]
fn shared_testdata_profiles() {
    let Some(dir) = testdata() else { return };
    let mut ran = 0;
    for case in ["sim", "nosim"] {
        let text =
            std::fs::read_to_string(dir.join("phone-sim").join(case).join("device.toml")).unwrap();
        let (p, warnings) = parse(&text);
        assert!(warnings.is_empty(), "{case}: {warnings:?}");
        assert_eq!(p.contacts.len(), 2);
        assert_eq!(p.locations.len(), 1);
        ran += 1;
    }
    println!("parsed {ran} shared device profiles");
}

#[test]
fn strings_and_lists_interchange() {
    let (p, _) = parse(
        "[device]\nimei = \"356938035643809\"\nserial = [\"AAAA1111\", \"BBBB2222\"]\nimsi = 234101234567890\n\
         [[contact]]\nphone = [\"+447700900456\", \"+447700900789\"]\n[sms]\ntext = \"hello there\"\n\
         [[custom]]\nkind = \"ssid\"\nvalue = [\"NetOne\", \"NetTwo\"]\n",
    );
    let got: Vec<(&str, &str)> = p
        .values
        .iter()
        .map(|v| (v.label.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("imei #1", "356938035643809"),
            ("serial #1", "AAAA1111"),
            ("serial #2", "BBBB2222"),
            ("imsi", "234101234567890")
        ]
    );
    assert_eq!(p.contacts[0].phones.len(), 2);
    assert_eq!(p.sms.len(), 1);
    let labels: Vec<String> = p
        .targets()
        .into_iter()
        .filter(|t| t.kind == "ssid")
        .map(|t| t.label)
        .collect();
    assert_eq!(labels, ["ssid #1", "ssid #2"]);
    let (p, _) = parse("");
    assert_eq!(p, Profile::default());
}

#[test]
fn errors_name_line_and_key() {
    assert_eq!(
        error("# profile\n[device]\nserial = \"X1234567\"\n\n\n\nimei = { a = 1 }\n"),
        "line 7, key `imei`: expected a string or a list of strings"
    );
    assert_eq!(
        error("[device]\nimei = [\"356938035643809\", 3.5]\n"),
        "line 2, key `imei`: expected a string or a list of strings"
    );
    assert_eq!(
        error("[device]\nimeis = \"356938035643809\"\n"),
        "line 2, key `imeis`: unknown key; did you mean `imei`?"
    );
    assert_eq!(
        error("[device]\nandroidid = \"x\"\n"),
        "line 2, key `androidid`: unknown key; did you mean `android_id`?"
    );
    assert!(error("[device]\nfavourite_colour = \"x\"\n")
        .starts_with("line 2, key `favourite_colour`: unknown key; expected one of imei,"));
    assert_eq!(
        error("\n\n[[contacts]]\nname = \"x\"\n"),
        "line 3, key `contacts`: unknown key; did you mean `contact`?"
    );
    assert_eq!(
        error("imei = \"356938035643809\"\n"),
        "line 1, key `imei`: unknown top-level key; `imei` belongs in the [device] table"
    );
    assert_eq!(
        error("[[location]]\nlat = 91\nlon = 0\n"),
        "line 2, key `lat`: latitude must be between -90 and 90"
    );
    assert_eq!(
        error("[[location]]\nlat = \"north\"\nlon = 0\n"),
        "line 2, key `lat`: expected a number, found a string"
    );
    assert!(
        error("[[location]]\nlat = 1.0\n").contains("key `lon`: a [[location]] needs lat and lon")
    );
    assert_eq!(
        error("[[contact]]\nnam = \"Priya\"\n"),
        "line 2, key `nam`: unknown key; did you mean `name`?"
    );
    assert_eq!(
        error("[[custom]]\nvalue = \"x1234\"\n").split(": ").nth(1),
        Some("a [[custom]] entry needs a kind")
    );
    assert_eq!(
        error("[[custom]]\nkind = \"has space\"\nvalue = \"abcd\"\n"),
        "line 2, key `kind`: a kind is a non-empty word of letters, digits, `_` and `-`"
    );
    assert_eq!(
        error("device = 3\n"),
        "line 1, key `device`: expected a table, found an integer"
    );
    assert_eq!(
        error("sms = \"hi\"\n"),
        "line 1, key `sms`: expected [[sms]] tables, found a string"
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let e = Profile::parse("[device]\nserial = \"R58N31XYZQ\"\nimei = [\"1\",\n\nname = 'x'\n")
        .unwrap_err();
    assert!(e.line.is_some_and(|l| l >= 3), "{e:?}");
    let e = Profile::parse("[device]\nserial = \"a\"\nserial = \"b\"\n").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    let e = Profile::parse("\u{0}garbage = = =").unwrap_err();
    assert_eq!(e.line, Some(1), "{e}");
}

#[test]
fn warnings() {
    let (p, warnings) = parse(
        "[device]\nregion = \"ZZ\"\nimei = [\"356938035643808\", \"12345\"]\nmac = \"3c:28:6d:01:23\"\nserial = \"\"\n\
         phone_number = \"07700900123\"\nemail = \"a@b\"\n",
    );
    assert_eq!(
        p.values.len(),
        5,
        "the empty serial is dropped, everything else is kept"
    );
    let expect = [
        "line 2, key `region`: unknown region `ZZ`",
        "line 3, key `imei`: IMEI `356938035643808` fails the Luhn check (its check digit should be 9)",
        "line 3, key `imei`: `12345` is not an IMEI",
        "line 4, key `mac`: `3c:28:6d:01:23` is not a MAC address",
        "line 5, key `serial`: empty value ignored",
        "line 7, key `email`: `a@b` is very short",
        "phone_number #1: phone number `07700900123` has no country code",
    ];
    assert_eq!(warnings.len(), expect.len(), "{warnings:#?}");
    for (w, e) in warnings.iter().zip(expect) {
        assert!(w.starts_with(e), "{w:?} should start with {e:?}");
    }
    // With a known region, the national number parses.
    let (_, warnings) = parse("[device]\nregion = \"gb\"\nphone_number = \"07700 900123\"\n");
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn edit_distances() {
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("imei", "imei"), 0);
    assert_eq!(closest("emial", &["email", "imei"]), Some("email"));
    assert_eq!(closest("zzzzzz", &["email", "imei"]), None);
}

#[test]
fn warnings_point_at_the_item() {
    let (_, warnings) =
        parse("[device]\nimei = [\n  \"356938035643809\",\n  \"356938035643808\",\n]\n");
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with("line 4, key `imei`: IMEI `356938035643808` fails the Luhn check"),
        "{warnings:?}"
    );
}

#[test]
fn garbage_profiles_are_errors_not_panics() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let alphabet = b"[]=\"'{},.\n #device imei mac contact location lat 0123456789-+abc";
    let mut errors = 0;
    for _ in 0..500 {
        let text: String = (0..(state % 200))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(alphabet[(state % alphabet.len() as u64) as usize])
            })
            .collect();
        if let Err(e) = Profile::parse(&text) {
            assert!(!e.to_string().is_empty());
            errors += 1;
        }
    }
    assert!(errors > 0);
}
