//! Every known-value form by its name, through the public API: IMEISV, SHA-512 and base64
//! digests, JSON numbers, folded contact names, SMS texts and runs of them, and the decoys that
//! must never match.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use md5::{Digest, Md5};
use phonehome_decode::DecodeLimits;
use phonehome_detect::{detect_message, Detector, Profile, MIN_SMS_PARTIAL_CHARS};
use phonehome_testkit::request_message;
use sha1::Sha1;
use sha2::{Sha256, Sha512};

const PROFILE: &str = r#"[device]
region = "GB"
imei = ["356938035643809"]
advertising_id = "38400000-8cf0-11bd-b23e-10b96e40000d"
mac = ["3c:28:6d:01:23:45"]
phone_number = ["+447700900123"]
email = ["sam.taylor@example.co.uk"]
[[contact]]
name = "Priya Shah"
phone = "+447700900456"
[[contact]]
name = "José Núñez"
[[sms]]
text = "Dinner at 8?"
[[sms]]
text = """Your parcel from   Hartley's will arrive
tomorrow between 9 and 11, reply STOP to opt out"""
"#;

const LONG_SMS: &str =
    "Your parcel from Hartley's will arrive tomorrow between 9 and 11, reply STOP to opt out";

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

/// The single hit in `data` as (label, form, preimage).
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
fn imeisv_is_the_imei_body_and_a_software_version() {
    let d = detector();
    for sv in ["00", "01", "12", "99"] {
        let imeisv = format!("35693803564380{sv}");
        assert_eq!(
            one(&d, &format!("{{\"imeisv\":\"{imeisv}\"}}")),
            t("imei #1", "imeisv", &imeisv)
        );
    }
    // The IMEI without check digit keeps its name.
    assert_eq!(
        one(&d, "imei=35693803564380&"),
        t("imei #1", "formatted", "35693803564380")
    );
    // The full IMEI is not mistaken for an IMEISV, nor is a longer or shorter run.
    assert_eq!(
        one(&d, "356938035643809"),
        t("imei #1", "plain", "356938035643809")
    );
    for decoy in [
        "356938035643801",   // 15 digits: a wrong check digit, not an IMEISV
        "35693803564380123", // 17 digits
        "13569380356438012", // the IMEISV inside a longer number
        "3569380356438112",  // body one digit off
    ] {
        assert!(scan(&d, decoy).is_empty(), "{decoy}: {:?}", scan(&d, decoy));
    }
    // An IMEISV listed in the profile gives its IMEI too.
    let (p, warnings) = Profile::parse("[device]\nimei = \"3569380356438012\"\n").unwrap();
    assert!(warnings.is_empty());
    let d = Detector::new(&p);
    assert_eq!(
        one(&d, "3569380356438012"),
        t("imei #1", "plain", "3569380356438012")
    );
    assert_eq!(
        one(&d, "3569380356438077"),
        t("imei #1", "imeisv", "3569380356438077")
    );
    assert_eq!(
        one(&d, "356938035643809"),
        t("imei #1", "formatted", "356938035643809")
    );
}

/// Every encoding of every digest of `preimage`: (algorithm, text).
fn encodings(preimage: &str) -> Vec<(&'static str, String)> {
    let b = preimage.as_bytes();
    let digests = [
        ("md5", Md5::digest(b).to_vec()),
        ("sha1", Sha1::digest(b).to_vec()),
        ("sha256", Sha256::digest(b).to_vec()),
        ("sha512", Sha512::digest(b).to_vec()),
    ];
    let mut out = Vec::new();
    for (alg, digest) in digests {
        out.push((alg, hex::encode(&digest)));
        out.push((alg, hex::encode_upper(&digest)));
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            out.push((alg, engine.encode(&digest)));
        }
    }
    out
}

#[test]
fn every_digest_in_hex_and_base64() {
    let d = detector();
    let canonical = [
        ("imei #1", "356938035643809"),
        ("mac #1", "3c:28:6d:01:23:45"),
        ("mac #1", "3C:28:6D:01:23:45"),
        ("mac #1", "3c286d012345"),
        ("mac #1", "3C286D012345"),
        ("phone_number #1", "+447700900123"),
        ("phone_number #1", "447700900123"),
        ("phone_number #1", "07700900123"),
        ("advertising_id", "38400000-8cf0-11bd-b23e-10b96e40000d"),
        ("advertising_id", "38400000-8CF0-11BD-B23E-10B96E40000D"),
        ("email #1", "sam.taylor@example.co.uk"),
        ("email #1", "SAM.TAYLOR@EXAMPLE.CO.UK"),
        ("contact \"Priya Shah\"", "priya shah"),
    ];
    let mut cases = 0;
    for (label, preimage) in canonical {
        for (alg, text) in encodings(preimage) {
            // As a query value, a JSON string and a header value would carry it.
            for data in [
                format!("h={text}&x=1"),
                format!("{{\"h\":\"{text}\"}}"),
                text.clone(),
            ] {
                assert_eq!(one(&d, &data), t(label, alg, preimage), "{data}");
                cases += 1;
            }
        }
    }
    println!("{cases} digest encodings found");
    // base64 is case-sensitive: a digest with its case swapped is another string.
    let b64 = STANDARD.encode(Sha512::digest(b"356938035643809"));
    let swapped: String = b64
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    assert!(scan(&d, &swapped).is_empty());
    // A digest of one digit off, or inside a longer base64 or hex run, is not found.
    let off = STANDARD_NO_PAD.encode(Md5::digest(b"356938035643819"));
    assert!(scan(&d, &off).is_empty());
    let inside = format!(
        "A{}",
        STANDARD_NO_PAD.encode(Sha256::digest(b"356938035643809"))
    );
    assert!(scan(&d, &inside).is_empty());
    let hex512 = hex::encode(Sha512::digest(b"356938035643809"));
    assert!(scan(&d, &format!("{hex512}0")).is_empty());
}

#[test]
fn only_canonical_forms_are_hashed() {
    let d = detector();
    // A grouped IMEI is matched as text but not hashed.
    assert_eq!(one(&d, "35-693803-564380-9").1, "formatted");
    assert!(scan(&d, &hex::encode(Md5::digest(b"35-693803-564380-9"))).is_empty());
    // One IMEI: 4 textual forms, 4 hex digests and 7 base64 patterns (standard and URL-safe
    // where they differ; one unpadded pattern also matches the padded text).
    let (p, _) = Profile::parse("[device]\nimei = \"356938035643809\"\n").unwrap();
    assert_eq!(Detector::new(&p).pattern_count(), 15);
    println!(
        "test profile: {} patterns, {:?}, {} KiB of automata",
        d.pattern_count(),
        d.automaton_kind(),
        d.automaton_bytes() / 1024
    );
}

#[test]
fn numbers_sent_as_json_numbers() {
    let d = detector();
    let msg = request_message(
        "https://t.example/r",
        &[("Content-Type", "application/json")],
        br#"{"imei": 356938035643809, "tel": 447700900123, "imeisv": 3569380356438012, "n": 13569380356438012}"#,
    );
    let (hits, _) = detect_message(&msg, &d, &DecodeLimits::default());
    let got: Vec<(&str, &str, &[String])> = hits
        .iter()
        .filter(|h| h.hit.pattern.is_none())
        .map(|h| {
            (
                h.hit.label.as_str(),
                h.hit.form.as_str(),
                h.chain.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("imei #1", "plain", &["json:$.imei".to_string()][..]),
            ("imei #1", "imeisv", &["json:$.imeisv".to_string()][..]),
            (
                "phone_number #1",
                "formatted",
                &["json:$.tel".to_string()][..]
            ),
        ]
    );
}

#[test]
fn contact_names_folded() {
    let d = detector();
    let priya = "contact \"Priya Shah\"";
    for (data, form) in [
        ("Priya Shah", "plain"),
        ("PRIYA SHAH", "formatted"),
        ("name=priya shah;", "formatted"),
        // Full-width letters, a no-break space, and non-ASCII around it.
        ("ＰＲＩＹＡ ＳＨＡＨ", "formatted"),
        ("Priya\u{a0}Shah", "formatted"),
        ("«priya  shah» — 电话", "formatted"),
        ("Priya\nShah", "formatted"),
    ] {
        let hits = scan(&d, data);
        assert_eq!(hits.len(), 1, "{data}: {hits:?}");
        assert_eq!(
            (hits[0].0.as_str(), hits[0].1.as_str()),
            (priya, form),
            "{data}"
        );
        assert!(data.contains(&hits[0].3), "{data}: {:?}", hits[0].3);
    }
    // The matched text is the original, however it was folded.
    assert_eq!(
        scan(&d, "«ＰＲＩＹＡ ＳＨＡＨ»")[0].3,
        "ＰＲＩＹＡ ＳＨＡＨ"
    );
    // A non-ASCII name: as listed, upper-cased, decomposed.
    let jose = "contact \"José Núñez\"";
    assert_eq!(one(&d, "José Núñez"), t(jose, "plain", "José Núñez"));
    assert_eq!(one(&d, "JOSÉ NÚÑEZ"), t(jose, "formatted", "JOSÉ NÚÑEZ"));
    let decomposed = "Jose\u{301} Nu\u{301}n\u{303}ez";
    assert_eq!(one(&d, decomposed), t(jose, "formatted", decomposed));
    assert_eq!(
        one(&d, "josé núñez, 北京"),
        t(jose, "formatted", "josé núñez")
    );
    // Contacts' numbers in any phone form.
    for number in ["+447700900456", "07700 900456", "447700900456"] {
        assert_eq!(one(&d, &format!("n={number}")).0, priya);
    }
    for decoy in [
        "Priya Shahs",
        "Priya Sha",
        "Jose Nunez",
        "José Núñezz",
        "ＰＲＩＹＡ ＳＨＡＨＳ",
        "+447700900457",
    ] {
        assert!(scan(&d, decoy).is_empty(), "{decoy}: {:?}", scan(&d, decoy));
    }
}

#[test]
fn sms_text_and_runs_of_it() {
    let d = detector();
    assert_eq!(
        one(&d, "body=Dinner at 8?"),
        t("sms #1", "plain", "Dinner at 8?")
    );
    assert_eq!(
        one(&d, "DINNER AT 8?"),
        t("sms #1", "formatted", "DINNER AT 8?")
    );
    // The long text, as listed (its whitespace collapsed), and with other whitespace.
    assert_eq!(one(&d, LONG_SMS).1, "formatted");
    let rewrapped = LONG_SMS.replace(" will ", "\n will\t");
    assert_eq!(one(&d, &rewrapped), t("sms #2", "formatted", &rewrapped));
    // Runs of 16 or more characters anywhere in it.
    for run in [
        &LONG_SMS[..MIN_SMS_PARTIAL_CHARS],
        "Hartley's will arrive tomorrow",
        "arrive tomorrow between 9 and 11",
        "reply STOP to opt out",
        &LONG_SMS[3..LONG_SMS.len() - 2],
    ] {
        let data = format!("{{\"snippet\": \"… {run} …\"}}");
        assert_eq!(one(&d, &data), t("sms #2", "partial", run), "{run}");
    }
    // Case and whitespace differences in a run.
    assert_eq!(one(&d, "ARRIVE  TOMORROW BETWEEN").1, "partial");
    // 15 characters, or 16 with one changed, are not a run of it.
    for decoy in [
        &LONG_SMS[10..25],
        "arrive tomorrow  between 8 and 11x",
        "arrive tomorrow-between 9",
    ] {
        let hits = scan(&d, decoy);
        assert!(
            hits.iter()
                .all(|h| h.3.chars().count() >= MIN_SMS_PARTIAL_CHARS),
            "{decoy}: {hits:?}"
        );
    }
    assert!(scan(&d, &LONG_SMS[10..25]).is_empty());
    assert!(scan(&d, "arrive tomorrow-between 9").is_empty());
    assert!(scan(&d, "Dinner at 9?").is_empty());
}

#[test]
fn other_values_never_match() {
    let d = detector();
    for decoy in [
        "356938035643819",                      // one digit off
        "1356938035643809",                     // inside a longer number
        "38400000-8cf0-11bd-b23e-10b96e40000e", // another UUID
        "48400000-8cf0-11bd-b23e-10b96e40000d",
        "3c:28:6d:01:23:46",
        "+447700900124",
        "4477009001230",
        "51.5074,-0.1278", // no location in this profile
    ] {
        assert!(scan(&d, decoy).is_empty(), "{decoy}: {:?}", scan(&d, decoy));
    }
}

#[test]
fn garbage_and_hostile_data_never_panic() {
    let d = detector();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet = "0123456789abcdefABCDEF:-. =\n\t,;|+/_José Núñez Priya Shah Dinner at 8?\u{301}\u{a0}ＰＲ电".as_bytes();
    for len in 0..600 {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect();
        for h in d.scan(&data) {
            assert!(h.start <= h.end && h.end <= data.len(), "{h:?}");
        }
    }
    // Invalid UTF-8 around a folded name, and long runs of one SMS text.
    let mut data = b"\xff\xfe".to_vec();
    data.extend_from_slice("ＰＲＩＹＡ ＳＨＡＨ".as_bytes());
    data.push(0xc3);
    assert_eq!(d.scan(&data).len(), 1);
    let repeated = format!("{LONG_SMS} ").repeat(2_000);
    let hits = d.scan(repeated.as_bytes());
    assert!(!hits.is_empty() && hits.len() <= 4_000, "{}", hits.len());
}

#[test]
fn many_folded_hits_merge_quickly() {
    let d = detector();
    // 256 KiB of a name both as it is and full-width: thousands of hits from each pass.
    let unit = "Priya Shah\nＰＲＩＹＡ ＳＨＡＨ\n";
    let data = unit.repeat(phonehome_detect::MAX_FOLDED_NODE_BYTES / unit.len());
    let started = std::time::Instant::now();
    let hits = d.scan(data.as_bytes());
    println!("{} hits in {:?}", hits.len(), started.elapsed());
    assert_eq!(hits.len(), 2 * (data.len() / unit.len()));
    assert!(hits.windows(2).all(|w| w[0].end <= w[1].start));
}

#[test]
fn one_pass_over_folded_data_keeps_case_sensitive_forms() {
    let d = detector();
    // A node with non-ASCII bytes is scanned folded: the full-width name matches, and so do an
    // upper-case MAC and a base64 SHA-256 digest (case-sensitive) in the same pass.
    let digest = STANDARD.encode(Sha256::digest(b"356938035643809"));
    let data =
        format!("电话 {{\"n\":\"ＪＯＳÉ  NÚÑEZ\",\"m\":\"3C-28-6D-01-23-45\",\"h\":\"{digest}\"}}");
    let hits = d.scan(data.as_bytes());
    let forms: Vec<(&str, &str)> = hits
        .iter()
        .map(|h| (h.kind.as_str(), h.form.as_str()))
        .collect();
    assert_eq!(
        forms,
        [
            ("contact", "formatted"),
            ("mac", "formatted"),
            ("imei", "sha256")
        ],
        "{hits:?}"
    );
    assert_eq!(
        &data.as_bytes()[hits[0].start..hits[0].end],
        "ＪＯＳÉ  NÚÑEZ".as_bytes()
    );
    assert_eq!(
        &data.as_bytes()[hits[2].start..hits[2].end],
        digest.as_bytes()
    );
    // The same digest with its case flipped is not the digest.
    let flipped: String = digest
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    let data = format!("电话 {flipped}");
    assert!(d.scan(data.as_bytes()).is_empty());
}
