//! Property tests of decode → detect over whole requests (`phonehome_detect::detect_message` with
//! the pipeline's default `DecodeLimits`), with the sample profile.
//!
//! 1. Every text value of the sample profile, put through any chain of up to four encodings (the
//!    [`Step`] table: base64, base64url, hex, percent, gzip, zlib, zstd, LZ4, a JSON object under
//!    one of four keys, a value deep in a JSON document, a form field; JSON inside JSON arises by
//!    applying a JSON step twice) and embedded in a request (a query value, a header, a JSON body,
//!    a form body), is found as a known value with its label and kind, at exactly the chain the
//!    generator recorded. Every single step on every value in every embedding is also run
//!    exhaustively.
//! 2. Near misses (an IMEI with a digit changed, Luhn-invalid and Luhn-valid; the phone number with
//!    a digit changed; another UUID; a profile number inside a longer number; the MAC with an octet
//!    changed; a point 1 to 100 km away at full precision) embedded the same ways, through up to
//!    two encodings, are never known values, while the walk does reach them.
//!
//! Each property runs [`CASES`] cases (`PROPTEST_CASES` overrides it); failures shrink and print
//! the minimal input. No regression files are written.
//!
//! # How the expected chain is derived
//!
//! Each encoding the generator applies records the one chain element the decoder must report for
//! it (`base64`, `gzip`, `json:$.imei`, `form:p`…), outermost first, after the element of the
//! embedding (`query:d`, `json:$.d`, `form:d`, nothing for a header). Rules the table encodes:
//!
//! - **Percent-encoding at the embedding is part of `query:`/`form:`.** A query value or form
//!   field is always sent percent-encoded and `query:d`/`form:d` already means the decoded value;
//!   a `percent` element appears only for a *further* percent-encoding (the `percent` step).
//! - **Percent-encoding that changes nothing is no encoding.** The `percent` step applies only to
//!   data with a byte outside the unreserved set (a string of digits percent-encodes to itself).
//! - **`base64url` without `-` or `_` is `base64`.** The two alphabets agree on every other symbol,
//!   and the decoder names the alphabet the text shows (`crates/decode/src/binary_text.rs`).
//! - **Trial decodings need plausible input and output.** base64 and base64url do not apply when
//!   their output is all hex digits (the decoder leaves that to hex); hex applies only to text or
//!   compressed data of at least 8 bytes (decode keeps hex output only when it is mostly printable
//!   UTF-8 or starts with a compression magic number, and tries strings of 16 digits or more).
//! - **Binary is base64-encoded before it goes into a header or a JSON string** (as apps do): when
//!   the payload is not printable ASCII (header) or not UTF-8 (JSON), a `base64` step is added.
//! - **The same data seen again is not a second finding** (docs/chain.md): when the value is
//!   visible verbatim at a shallower node *before a transform* — LZ4 literals, zstd raw blocks and
//!   stored deflate blocks keep short inputs as they are, and percent-encoding keeps digits — the
//!   finding is at that shallower node; and among nodes joined by selectors only (`query:`,
//!   `form:`, `json:`) the deepest is reported. The generator keeps every intermediate payload,
//!   checks where the value is visible with the detector's documented boundary rule (an
//!   alphanumeric edge must not touch a character of its class: digits for numbers, hex digits for
//!   hex identifiers, letters and digits otherwise), and applies these two folding rules to the
//!   recorded chain.
//!
//! The runs print how many cases the last rule moved off the recorded chain.
//!
//! The comparison is then exact: the set of (`where`, chain) of the `plain` hits of the value's
//! label must equal the expected set, every known hit of the message must be of that label and
//! kind and lie on the recorded path (or on a `percent` node below it), and no decoding cap may be
//! hit.

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use phonehome::model::Message;
use phonehome::Profile;
use phonehome_decode::DecodeLimits;
use phonehome_detect::{detect_message, haversine_m, Detector, MessageHit};
use phonehome_synth::scenario::{
    luhn_check_digit, ADVERTISING_ID, ANDROID_ID, CONTACT, EMAIL, ICCID, IMEI_1, IMEI_2, IMSI, MAC,
    OAID, PHONE_NUMBER, SERIAL, SMS_TEXT, WIFI_SSID,
};
use phonehome_testkit::request_message;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Cases per property: enough to cover the step table many times over, small enough for a debug
/// run of a few seconds. `PROPTEST_CASES` overrides it.
const CASES: u32 = 128;

/// [`CASES`], or `PROPTEST_CASES` when set.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES)
}

/// The profile's location (`[[location]]` of the sample profile).
const HOME: (f64, f64) = (51.507351, -0.127758);

/// A profile value and how a finding must name it.
#[derive(Clone, Copy, Debug)]
struct Target {
    value: &'static str,
    kind: &'static str,
    label: &'static str,
}

/// Every value of the sample profile that is matched as text, with its documented label (list
/// keys and custom kinds are numbered, single keys are not, a contact is named by its name).
const TARGETS: [Target; 14] = [
    Target {
        value: IMEI_1,
        kind: "imei",
        label: "imei #1",
    },
    Target {
        value: IMEI_2,
        kind: "imei",
        label: "imei #2",
    },
    Target {
        value: SERIAL,
        kind: "serial",
        label: "serial",
    },
    Target {
        value: ANDROID_ID,
        kind: "android_id",
        label: "android_id",
    },
    Target {
        value: ADVERTISING_ID,
        kind: "advertising_id",
        label: "advertising_id",
    },
    Target {
        value: OAID,
        kind: "oaid",
        label: "oaid",
    },
    Target {
        value: MAC,
        kind: "mac",
        label: "mac #1",
    },
    Target {
        value: PHONE_NUMBER,
        kind: "phone_number",
        label: "phone_number #1",
    },
    Target {
        value: IMSI,
        kind: "imsi",
        label: "imsi",
    },
    Target {
        value: ICCID,
        kind: "iccid",
        label: "iccid",
    },
    Target {
        value: EMAIL,
        kind: "email",
        label: "email #1",
    },
    Target {
        value: CONTACT.0,
        kind: "contact",
        label: "contact \"Priya Shah\"",
    },
    Target {
        value: SMS_TEXT,
        kind: "sms",
        label: "sms #1",
    },
    Target {
        value: WIFI_SSID,
        kind: "wifi_ssid",
        label: "wifi_ssid #1",
    },
];

/// JSON object keys a value is wrapped under, with the chain element for each (keys that are not
/// identifiers are quoted).
const JSON_KEYS: [(&str, &str); 4] = [
    ("imei", "json:$.imei"),
    ("d", "json:$.d"),
    ("odd key", "json:$['odd key']"),
    ("x-y", "json:$['x-y']"),
];

/// Form field names a value is wrapped under.
const FORM_NAMES: [&str; 3] = ["p", "data", "u.id"];

/// One encoding the generator can apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Standard base64 with padding.
    Base64,
    /// URL-safe base64 without padding.
    Base64Url,
    /// Lower-case hex.
    Hex,
    /// Percent-encoding of every byte outside the unreserved set.
    Percent,
    /// gzip (RFC 1952).
    Gzip,
    /// zlib (RFC 1950).
    Zlib,
    /// A zstd frame.
    Zstd,
    /// An LZ4 frame.
    Lz4,
    /// `{"<key>": "<input>"}` with key `JSON_KEYS[i]`.
    Json(usize),
    /// The input as a string deep in a JSON document: `$.events[1].data`.
    JsonNested,
    /// `a=1&<name>=<input, percent-encoded>` with name `FORM_NAMES[i]`.
    Form(usize),
}

/// Every step, for the exhaustive sweep.
fn all_steps() -> Vec<Step> {
    let mut steps = vec![
        Step::Base64,
        Step::Base64Url,
        Step::Hex,
        Step::Percent,
        Step::Gzip,
        Step::Zlib,
        Step::Zstd,
        Step::Lz4,
        Step::JsonNested,
    ];
    steps.extend((0..JSON_KEYS.len()).map(Step::Json));
    steps.extend((0..FORM_NAMES.len()).map(Step::Form));
    steps
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Base64),
        Just(Step::Base64Url),
        Just(Step::Hex),
        Just(Step::Percent),
        Just(Step::Gzip),
        Just(Step::Zlib),
        Just(Step::Zstd),
        Just(Step::Lz4),
        (0..JSON_KEYS.len()).prop_map(Step::Json),
        Just(Step::JsonNested),
        (0..FORM_NAMES.len()).prop_map(Step::Form),
    ]
}

/// One chain element and whether it selects part of its input (`query:`, `form:`, `json:`) or
/// transforms all of it (docs/chain.md).
#[derive(Clone, Debug)]
struct Element {
    text: String,
    selector: bool,
}

impl Element {
    fn transform(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            selector: false,
        }
    }
    fn selector(text: String) -> Self {
        Self {
            text,
            selector: true,
        }
    }
}

/// RFC 3986 unreserved characters: never percent-encoded.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes every byte but the unreserved ones; a space becomes `+` when `plus` (form
/// encoding), else `%20`.
fn percent_encode(input: &[u8], plus: bool) -> String {
    let mut out = String::with_capacity(input.len() * 3);
    for &b in input {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else if b == b' ' && plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Mostly printable UTF-8, as decode requires of trial-decoded text: valid UTF-8 of which at least
/// 90 % of the characters are not control characters (tab, CR and LF allowed).
fn is_plausible_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let total = text.chars().count();
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .count();
    total > 0 && printable * 100 >= total * 90
}

/// Starts with the magic number of gzip, zstd, LZ4 or a zlib header.
fn has_compression_magic(bytes: &[u8]) -> bool {
    match bytes {
        [0x1f, 0x8b, 0x08, ..] | [0x28, 0xb5, 0x2f, 0xfd, ..] | [0x04, 0x22, 0x4d, 0x18, ..] => {
            true
        }
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// base64 text the decoder would leave to hex: every symbol a hex digit.
fn all_hex_symbols(text: &str) -> bool {
    text.bytes()
        .filter(|&b| b != b'=')
        .all(|b| b.is_ascii_hexdigit())
}

fn gzip(input: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(input).expect("gzip");
    e.finish().expect("gzip")
}

fn zlib(input: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(input).expect("zlib");
    e.finish().expect("zlib")
}

fn lz4(input: &[u8]) -> Vec<u8> {
    let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
    e.write_all(input).expect("lz4");
    e.finish().expect("lz4")
}

/// Applies `step` to `input`: the output and the chain element the decoder must report for it,
/// or `None` when the step does not apply to this input (see the module docs for each rule).
fn apply(step: Step, input: &[u8]) -> Option<(Vec<u8>, Element)> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let base64_input_ok = is_plausible_text(input) || has_compression_magic(input);
    Some(match step {
        Step::Base64 => {
            let text = STANDARD.encode(input);
            if !base64_input_ok || all_hex_symbols(&text) {
                return None;
            }
            (text.into_bytes(), Element::transform("base64"))
        }
        Step::Base64Url => {
            let text = URL_SAFE_NO_PAD.encode(input);
            if !base64_input_ok || all_hex_symbols(&text) {
                return None;
            }
            // Without `-` or `_` the text is in both alphabets: the decoder calls it `base64`.
            let element = if text.contains(['-', '_']) {
                "base64url"
            } else {
                "base64"
            };
            (text.into_bytes(), Element::transform(element))
        }
        Step::Hex => {
            if input.len() < 8 || !base64_input_ok {
                return None;
            }
            (hex::encode(input).into_bytes(), Element::transform("hex"))
        }
        Step::Percent => {
            let text = percent_encode(input, false);
            if text.as_bytes() == input {
                return None;
            }
            (text.into_bytes(), Element::transform("percent"))
        }
        Step::Gzip => (gzip(input), Element::transform("gzip")),
        Step::Zlib => (zlib(input), Element::transform("zlib")),
        Step::Zstd => (
            zstd::encode_all(input, 3).expect("zstd"),
            Element::transform("zstd"),
        ),
        Step::Lz4 => (lz4(input), Element::transform("lz4")),
        Step::Json(k) => {
            let (key, element) = JSON_KEYS[k];
            let text = std::str::from_utf8(input).ok()?;
            let doc = serde_json::json!({ key: text }).to_string();
            (doc.into_bytes(), Element::selector(element.to_owned()))
        }
        Step::JsonNested => {
            let text = std::str::from_utf8(input).ok()?;
            let doc = serde_json::json!({
                "meta": {"v": 2, "sdk": "7.1.0"},
                "events": [{"t": 1}, {"data": text}],
            })
            .to_string();
            (
                doc.into_bytes(),
                Element::selector("json:$.events[1].data".to_owned()),
            )
        }
        Step::Form(n) => {
            let name = FORM_NAMES[n];
            let text = format!("a=1&{name}={}", percent_encode(input, true));
            (text.into_bytes(), Element::selector(format!("form:{name}")))
        }
    })
}

/// Where in a request the encoded value is put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Embedding {
    /// Query parameter `d` of the URL.
    Query,
    /// The value of header `X-Payload`.
    Header,
    /// Member `d` of a JSON body (`Content-Type: application/json`).
    JsonBody,
    /// Field `d` of a form body (`Content-Type: application/x-www-form-urlencoded`).
    FormBody,
}

const EMBEDDINGS: [Embedding; 4] = [
    Embedding::Query,
    Embedding::Header,
    Embedding::JsonBody,
    Embedding::FormBody,
];

/// A request carrying an encoded value, and the path the decoder must take to it.
#[derive(Debug)]
struct Built {
    msg: Message,
    /// The message part: `url`, `header:X-Payload` or `body`.
    location: String,
    /// The chain elements from the part to the value, outermost first.
    chain: Vec<Element>,
    /// The data of each node on the way: `nodes[i]` is the node at chain `chain[..i]` (so
    /// `nodes[0]` is the part as sent and the last is the value).
    nodes: Vec<Vec<u8>>,
}

impl Built {
    fn chain_text(&self, len: usize) -> Vec<String> {
        self.chain[..len].iter().map(|e| e.text.clone()).collect()
    }
}

/// Encodes `value` with `steps` (innermost first; steps that do not apply are skipped) and embeds
/// it per `embedding`.
fn build(value: &[u8], steps: &[Step], embedding: Embedding) -> Built {
    // Innermost first: payloads[0] is the value, elements[i] turns payloads[i + 1] into payloads[i].
    let mut payloads = vec![value.to_vec()];
    let mut elements: Vec<Element> = Vec::new();
    let mut push = |step: Step, payloads: &mut Vec<Vec<u8>>| {
        let last = payloads.last().expect("non-empty");
        if let Some((out, element)) = apply(step, last) {
            payloads.push(out);
            elements.push(element);
        }
    };
    for &step in steps {
        push(step, &mut payloads);
    }
    let needs_base64 = |p: &[u8]| match embedding {
        Embedding::Header => !p.iter().all(|b| (0x20..0x7f).contains(b)),
        Embedding::JsonBody => std::str::from_utf8(p).is_err(),
        Embedding::Query | Embedding::FormBody => false,
    };
    if needs_base64(payloads.last().expect("non-empty")) {
        push(Step::Base64, &mut payloads);
    }
    let payload = payloads.last().expect("non-empty").clone();
    let (msg, location, embed_element) = match embedding {
        Embedding::Query => {
            let url = format!(
                "https://api.example/c?v=2&d={}",
                percent_encode(&payload, false)
            );
            (
                request_message(&url, &[], b""),
                "url",
                Some(Element::selector("query:d".into())),
            )
        }
        Embedding::Header => {
            let text = String::from_utf8(payload.clone()).expect("printable ASCII");
            (
                request_message("https://api.example/c", &[("X-Payload", &text)], b""),
                "header:X-Payload",
                None,
            )
        }
        Embedding::JsonBody => {
            let text = std::str::from_utf8(&payload).expect("UTF-8");
            let body = serde_json::json!({"ts": 1_795_514_400u64, "d": text}).to_string();
            (
                request_message(
                    "https://api.example/c",
                    &[("Content-Type", "application/json")],
                    body.as_bytes(),
                ),
                "body",
                Some(Element::selector("json:$.d".into())),
            )
        }
        Embedding::FormBody => {
            let body = format!("v=2&d={}", percent_encode(&payload, true));
            (
                request_message(
                    "https://api.example/c",
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    body.as_bytes(),
                ),
                "body",
                Some(Element::selector("form:d".into())),
            )
        }
    };
    let mut chain = Vec::new();
    let mut nodes = Vec::new();
    if let Some(element) = embed_element {
        chain.push(element);
        nodes.push(part_data(&msg, embedding));
    }
    chain.extend(elements.into_iter().rev());
    nodes.extend(payloads.into_iter().rev());
    assert_eq!(nodes.len(), chain.len() + 1);
    Built {
        msg,
        location: location.to_owned(),
        chain,
        nodes,
    }
}

/// The message part as the decoder sees it before any decoding.
fn part_data(msg: &Message, embedding: Embedding) -> Vec<u8> {
    match embedding {
        Embedding::Query => msg.url.as_bytes().to_vec(),
        Embedding::Header => msg.headers[0].value.to_vec(),
        Embedding::JsonBody | Embedding::FormBody => msg.body.content().to_vec(),
    }
}

/// Whether `data` holds `value` verbatim where the detector would take it: an alphanumeric edge
/// of the value must not touch a character of its class (digits when the value's letters and
/// digits are all digits, hex digits when they are all hex digits, else letters and digits).
fn visible(data: &[u8], value: &[u8]) -> bool {
    let alnum: Vec<u8> = value
        .iter()
        .copied()
        .filter(u8::is_ascii_alphanumeric)
        .collect();
    let forbids = |b: u8| {
        if alnum.iter().all(u8::is_ascii_digit) {
            b.is_ascii_digit()
        } else if alnum.iter().all(u8::is_ascii_hexdigit) {
            b.is_ascii_hexdigit()
        } else {
            b.is_ascii_alphanumeric()
        }
    };
    let check_start = value.first().is_some_and(u8::is_ascii_alphanumeric);
    let check_end = value.last().is_some_and(u8::is_ascii_alphanumeric);
    data.windows(value.len()).enumerate().any(|(i, w)| {
        w == value
            && !(check_start && i > 0 && forbids(data[i - 1]))
            && !(check_end && data.get(i + value.len()).is_some_and(|&b| forbids(b)))
    })
}

/// The chains where the value must be reported, by the two folding rules of docs/chain.md: a node
/// is dropped when the value was visible at or before the last transform leading to it, and a node
/// is dropped when a deeper surviving node is reached from it through selectors only. Candidates
/// are the recorded path's nodes (compressed data is never percent-decoded).
fn expected_chains(built: &Built, value: &[u8]) -> BTreeSet<Vec<String>> {
    let shown: Vec<bool> = built.nodes.iter().map(|d| visible(d, value)).collect();
    let chain = &built.chain;
    let visible_up_to = |t: usize| (0..=t).any(|p| shown[p]);
    let survives_transforms = |i: usize| match chain[..i].iter().rposition(|e| !e.selector) {
        None => true,
        Some(t) => !visible_up_to(t),
    };
    let survivors: Vec<usize> = (0..built.nodes.len())
        .filter(|&i| shown[i] && survives_transforms(i))
        .collect();
    let expected: BTreeSet<Vec<String>> = survivors
        .iter()
        .filter(|&&i| {
            !survivors
                .iter()
                .any(|&j| j > i && chain[i..j].iter().all(|e| e.selector))
        })
        .map(|&i| built.chain_text(i))
        .collect();
    expected
}

/// The sample profile's detector.
fn detector() -> Detector {
    let (profile, warnings) =
        Profile::parse(&phonehome_synth::scenario::sample_profile()).expect("sample profile");
    assert!(warnings.is_empty(), "{warnings:?}");
    Detector::new(&profile)
}

fn known(hits: &[MessageHit]) -> impl Iterator<Item = &MessageHit> {
    hits.iter().filter(|h| h.hit.pattern.is_none())
}

/// How the expected findings of one case differ from the recorded chain, for the statistics.
#[derive(Clone, Copy, Debug, Default)]
struct Outcome {
    /// The value was visible before a transform: not reported at the end of the recorded chain.
    shallower: bool,
    /// A `percent` node below compressed data reports it too.
    percent_node: bool,
}

/// Counts of [`Outcome`]s over a run.
#[derive(Default)]
struct Tally {
    cases: AtomicUsize,
    shallower: AtomicUsize,
    percent_node: AtomicUsize,
}

impl Tally {
    fn add(&self, o: Outcome) {
        self.cases.fetch_add(1, Ordering::Relaxed);
        self.shallower
            .fetch_add(usize::from(o.shallower), Ordering::Relaxed);
        self.percent_node
            .fetch_add(usize::from(o.percent_node), Ordering::Relaxed);
    }

    fn print(&self, what: &str) {
        println!(
            "{what}: {} cases; {} reported at a shallower node (value visible before a transform), \
             {} also at a `percent` node below compressed data",
            self.cases.load(Ordering::Relaxed),
            self.shallower.load(Ordering::Relaxed),
            self.percent_node.load(Ordering::Relaxed)
        );
    }
}

/// Checks one encoded value (see the module docs).
fn check_found(
    detector: &Detector,
    target: &Target,
    steps: &[Step],
    embedding: Embedding,
) -> Result<Outcome, TestCaseError> {
    let built = build(target.value.as_bytes(), steps, embedding);
    let (hits, report) = detect_message(&built.msg, detector, &DecodeLimits::default());
    let full: Vec<String> = built.chain_text(built.chain.len());
    let expected: BTreeSet<(String, Vec<String>)> =
        expected_chains(&built, target.value.as_bytes())
            .into_iter()
            .map(|c| (built.location.clone(), c))
            .collect();
    let outcome = Outcome {
        shallower: !expected.contains(&(built.location.clone(), full.clone())),
        percent_node: expected.iter().any(|(_, c)| !full.starts_with(c)),
    };
    let plain: BTreeSet<(String, Vec<String>)> = known(&hits)
        .filter(|h| h.hit.label == target.label && h.hit.form == "plain")
        .map(|h| (h.location.clone(), h.chain.clone()))
        .collect();
    prop_assert_eq!(
        &plain,
        &expected,
        "{} through {:?} in {:?}: recorded chain {:?}; all hits {:#?}",
        target.value,
        steps,
        embedding,
        full,
        hits
    );
    for h in known(&hits) {
        prop_assert_eq!(&h.hit.label, target.label, "{:#?}", hits);
        prop_assert_eq!(&h.hit.kind, target.kind, "{:#?}", hits);
        prop_assert_eq!(&h.location, &built.location, "{:#?}", hits);
        let on_path = full.starts_with(&h.chain)
            || (1..=h.chain.len()).any(|n| {
                let (parent, below) = h.chain.split_at(h.chain.len() - n);
                full.starts_with(parent) && below.iter().all(|e| e == "percent")
            });
        prop_assert!(on_path, "hit off the recorded path {:?}: {:#?}", full, h);
    }
    prop_assert!(report.limits_hit.is_empty(), "{:?}", report.limits_hit);
    Ok(outcome)
}

/// Runs `test` over `strategy` with [`CASES`] cases, without writing regression files.
fn run<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    match runner.run(&strategy, test) {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => {
            panic!("minimal failing input: {value:#?}\n{reason}")
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn targets_are_the_sample_profile() {
    let (profile, _) =
        Profile::parse(&phonehome_synth::scenario::sample_profile()).expect("sample profile");
    let mut listed: Vec<&str> = profile.values.iter().map(|v| v.value.as_str()).collect();
    listed.extend(profile.contacts.iter().filter_map(|c| c.name.as_deref()));
    listed.extend(profile.sms.iter().map(|s| s.text.as_str()));
    listed.extend(profile.custom.iter().map(|c| c.value.as_str()));
    let targets: Vec<&str> = TARGETS.iter().map(|t| t.value).collect();
    assert_eq!(listed, targets);
    // Each value alone, as a header, is found under its label and kind.
    let detector = detector();
    for t in &TARGETS {
        check_found(&detector, t, &[], Embedding::Header).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Every single step, on every value, in every embedding.
#[test]
fn every_step_on_every_value_in_every_embedding() {
    let detector = detector();
    let tally = Tally::default();
    for t in &TARGETS {
        for step in all_steps() {
            for embedding in EMBEDDINGS {
                tally.add(
                    check_found(&detector, t, &[step], embedding).unwrap_or_else(|e| panic!("{e}")),
                );
            }
        }
    }
    tally.print("every (value, step, embedding)");
}

/// Property 1: any value through any chain of up to four steps, in any embedding.
#[test]
fn encoded_values_are_found_at_their_chain() {
    let detector = detector();
    let strategy = (
        0..TARGETS.len(),
        prop::collection::vec(step_strategy(), 0..=4),
        prop::sample::select(EMBEDDINGS.to_vec()),
    );
    let tally = Tally::default();
    run(strategy, |(t, steps, embedding)| {
        tally.add(check_found(&detector, &TARGETS[t], &steps, embedding)?);
        Ok(())
    });
    tally.print("up to four encodings");
}

/// Replaces the digit at `pos` of `digits` by the digit `delta` (1 to 9) above it, modulo 10.
fn change_digit(digits: &str, pos: usize, delta: u8) -> String {
    digits
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            if i == pos {
                char::from(b'0' + (b - b'0' + delta) % 10)
            } else {
                char::from(b)
            }
        })
        .collect()
}

/// Whether a string of digits passes the Luhn check.
fn luhn_valid(digits: &str) -> bool {
    let (body, check) = digits.split_at(digits.len() - 1);
    check.as_bytes()[0] - b'0' == luhn_check_digit(body)
}

/// The point `distance_m` metres from `from` on `bearing_deg` (spherical Earth).
fn destination(from: (f64, f64), bearing_deg: f64, distance_m: f64) -> (f64, f64) {
    const R: f64 = 6_371_008.8;
    let (lat1, lon1) = (from.0.to_radians(), from.1.to_radians());
    let (b, d) = (bearing_deg.to_radians(), distance_m / R);
    let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * b.cos()).asin();
    let lon2 = lon1 + (b.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
    (lat2.to_degrees(), lon2.to_degrees())
}

/// A point written as a request would carry it: `lat,lon` text, `lon,lat` text, or a JSON object
/// with `lat` and `lng` members; always with 6 decimals, the profile's own precision.
fn point_text(point: (f64, f64), style: u8) -> String {
    match style % 3 {
        0 => format!("{:.6},{:.6}", point.0, point.1),
        1 => format!("{:.6},{:.6}", point.1, point.0),
        _ => format!(r#"{{"lat":{:.6},"lng":{:.6},"acc":12}}"#, point.0, point.1),
    }
}

/// The two values of the sample profile that are IMEIs.
const IMEIS: [&str; 2] = [IMEI_1, IMEI_2];

/// Numbers of the sample profile, digits only: the IMEIs, IMSI, ICCID, and the phone numbers
/// without `+`.
const NUMBERS: [&str; 6] = [IMEI_1, IMEI_2, IMSI, ICCID, "447700900123", "447700900456"];

/// Near misses of the profile's values, as (what it is, text). Each is checked not to be a listed
/// value.
fn near_miss_strategy() -> impl Strategy<Value = (String, String)> {
    let digit = || (0u8..10).prop_map(|d| char::from(b'0' + d));
    prop_oneof![
        // An IMEI with one digit changed: never Luhn-valid (the check catches every single-digit
        // error).
        (0..2usize, 0..15usize, 1u8..10).prop_map(|(i, pos, delta)| {
            let text = change_digit(IMEIS[i], pos, delta);
            assert!(!luhn_valid(&text), "{text}");
            ("IMEI digit changed, Luhn-invalid".to_string(), text)
        }),
        // An IMEI with one digit of its body changed and the check digit made right again.
        (0..2usize, 0..14usize, 1u8..10).prop_map(|(i, pos, delta)| {
            let body = change_digit(&IMEIS[i][..14], pos, delta);
            let text = format!("{body}{}", luhn_check_digit(&body));
            assert!(luhn_valid(&text), "{text}");
            ("IMEI digit changed, Luhn-valid".to_string(), text)
        }),
        // The phone number with one digit changed (position 0 is the `+`).
        (1..PHONE_NUMBER.len(), 1u8..10).prop_map(|(pos, delta)| {
            let text = format!("+{}", change_digit(&PHONE_NUMBER[1..], pos - 1, delta));
            ("phone number digit changed".to_string(), text)
        }),
        // Another UUID (a version 4 one), in the forms ids travel in.
        (any::<[u8; 16]>(), any::<bool>(), any::<bool>()).prop_map(|(mut b, upper, bare)| {
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            let h = hex::encode(b);
            let mut text = format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            );
            if bare {
                text.retain(|c| c != '-');
            }
            if upper {
                text.make_ascii_uppercase();
            }
            ("another UUID".to_string(), text)
        }),
        // A profile number inside a longer run of digits: at least one digit before it (not
        // starting with 0: `00` + E.164 is the international form of a phone number, a real
        // match) and up to four after it. A digit before it also keeps the number from standing
        // bounded in a compressor's literals when the digits after it are coded as a match.
        (
            0..NUMBERS.len(),
            (1u8..10).prop_map(|d| char::from(b'0' + d)),
            prop::collection::vec(digit(), 0..=3),
            prop::collection::vec(digit(), 0..=4),
        )
            .prop_map(|(n, first, more, after)| {
                let before: String = std::iter::once(first).chain(more).collect();
                let after: String = after.into_iter().collect();
                let text = format!("{before}{}{after}", NUMBERS[n]);
                ("number inside a longer number".to_string(), text)
            }),
        // The MAC with one octet changed.
        (0..6usize, 1u8..=255).prop_map(|(octet, delta)| {
            let text = MAC
                .split(':')
                .enumerate()
                .map(|(i, o)| {
                    let v = u8::from_str_radix(o, 16).expect("hex octet");
                    let v = if i == octet { v.wrapping_add(delta) } else { v };
                    format!("{v:02x}")
                })
                .collect::<Vec<_>>()
                .join(":");
            ("MAC octet changed".to_string(), text)
        }),
        // A point 1 km to 100 km from the profile's location, at full precision.
        (0.0..360.0f64, 1_000.0..100_000.0f64, any::<u8>()).prop_map(|(bearing, d, style)| {
            let point = destination(HOME, bearing, d);
            let rounded = |x: f64| (x * 1e6).round() / 1e6;
            let far = haversine_m(HOME.0, HOME.1, rounded(point.0), rounded(point.1));
            assert!(far > 999.0, "{point:?} is {far} m away");
            let text = point_text(point, style);
            ("point 1 to 100 km away".to_string(), text)
        }),
    ]
    .prop_filter("a near miss must not be a listed value", |(_, text)| {
        !TARGETS.iter().any(|t| t.value == text) && text != CONTACT.1
    })
}

/// Property 2: near misses through up to two steps, in any embedding.
#[test]
fn near_misses_are_never_known() {
    let detector = detector();
    let strategy = (
        near_miss_strategy(),
        prop::collection::vec(step_strategy(), 0..=2),
        prop::sample::select(EMBEDDINGS.to_vec()),
    );
    let kinds: std::sync::Mutex<std::collections::BTreeMap<String, usize>> = Default::default();
    run(strategy, |((what, text), steps, embedding)| {
        *kinds
            .lock()
            .expect("tally")
            .entry(what.clone())
            .or_default() += 1;
        let built = build(text.as_bytes(), &steps, embedding);
        // The walk reaches the near miss itself (so the test is not vacuous)…
        let mut reached = false;
        phonehome_decode::walk_message(&built.msg, &DecodeLimits::default(), &mut |part| {
            reached |= part.data == text.as_bytes();
        });
        prop_assert!(reached, "{what} {text:?} not reached through {steps:?}");
        // …and reports no profile value there.
        let (hits, report) = detect_message(&built.msg, &detector, &DecodeLimits::default());
        let known: Vec<&MessageHit> = known(&hits).collect();
        prop_assert!(
            known.is_empty(),
            "{} {:?} through {:?} in {:?} reported as known: {:#?}",
            what,
            text,
            steps,
            embedding,
            known
        );
        prop_assert!(report.limits_hit.is_empty(), "{:?}", report.limits_hit);
        Ok(())
    });
    println!(
        "near misses, {} cases: {:?}",
        cases(),
        kinds.lock().expect("tally")
    );
}

/// The control for the location near misses: a point within the profile's radius (300 m), written
/// the same ways and embedded the same ways, is found.
#[test]
fn points_within_the_radius_are_known() {
    let detector = detector();
    let mut cases = 0;
    for (bearing, d) in [(0.0, 50.0), (100.0, 150.0), (230.0, 250.0)] {
        let point = destination(HOME, bearing, d);
        assert!(haversine_m(HOME.0, HOME.1, point.0, point.1) < 300.0);
        for style in 0..3 {
            let text = point_text(point, style);
            for embedding in EMBEDDINGS {
                let built = build(text.as_bytes(), &[], embedding);
                let (hits, _) = detect_message(&built.msg, &detector, &DecodeLimits::default());
                assert!(
                    known(&hits).any(|h| h.hit.kind == "location" && h.hit.label == "location #1"),
                    "{text} in {embedding:?}: {hits:#?}"
                );
                cases += 1;
            }
        }
    }
    println!("{cases} points within the radius found");
}
