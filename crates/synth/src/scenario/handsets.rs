//! The differential fixture: two handsets running the same app, so the same requests, with
//! different identifiers.
//!
//! Each handset sends four rounds, a minute apart, of the same four plaintext HTTP/1.1 requests
//! (a JSON body, a query string with a header, a form, a path with an id and a cookie). What they
//! carry ([`handset_fields`] lists it field by field):
//!
//! - per device, the same in every request of a handset and different between handsets: the
//!   IMEI, the Android ID (in a JSON body and as a path segment), the OAID, a custom token header,
//!   a session cookie, a SHA-256 of the IMEI, and a blob "encrypted" with a per-device key (a
//!   SHA-256 keystream XORed over a JSON document, base64-encoded: deterministic, so the same in
//!   every request of one handset);
//! - per request: timestamps (Unix ms, Unix s, ISO 8601), nonces, request ids, counters and a
//!   signature;
//! - constant: the app version, the model name, an ad slot, the user agent, content types;
//! - neither: an event name that cycles through three values on both handsets.
//!
//! Handset A's capture starts at [`SAMPLE_START_NANOS`], handset B's three hours later.

use super::sample::{run_script, Timeline};
use super::*;
use crate::http::{Request, Response};
use crate::pcap::{PcapOptions, PcapWriter};
use crate::prng::SplitMix64;
use base64::Engine;
use phonehome_model::Timestamp;
use sha2::{Digest, Sha256};
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use super::catalog::{FlowScript, Step};

/// Requests each handset sends per endpoint.
pub const HANDSET_ROUNDS: usize = 4;

/// One simulated handset of the fixture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handset {
    /// The run's name and directory (`handsetA`).
    pub name: &'static str,
    /// Its IMEI (valid check digit).
    pub imei: String,
    /// Its Android ID (16 hex digits).
    pub android_id: String,
    /// Its OAID (a UUID).
    pub oaid: String,
    /// The app's own install token, sent in `X-Token`.
    pub token: String,
    /// The app's session cookie `uid`.
    pub session: String,
    /// The per-device key of the encrypted blob.
    pub key: [u8; 16],
    /// When its capture starts, in nanoseconds since the Unix epoch.
    pub start_nanos: i128,
    /// Seed of its per-request random values.
    seed: u64,
}

/// How a field of the fixture behaves across the two handsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldBehaviour {
    /// The same in every request of a handset, different between handsets.
    PerDevice,
    /// Different in every request (timestamps, nonces, ids, counters, signatures).
    PerRequest,
    /// The same everywhere.
    Constant,
    /// Cycles through a few values, the same on both handsets.
    Cycling,
}

/// One field of the fixture: where it is, as the decode stage names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandsetField {
    /// The request's host.
    pub host: &'static str,
    /// The message part: `url`, `header:<Name>`, `cookie:<name>` or `body`.
    pub location: &'static str,
    /// The selecting chain element (`query:oaid`, `json:$.imei`, `path:2`), if any.
    pub selector: Option<&'static str>,
    /// What it does.
    pub behaviour: FieldBehaviour,
}

/// Host of the JSON endpoint.
const CONFIG_HOST: &str = "config.appcloud.example";
/// Host of the query-string endpoint.
const ADS_HOST: &str = "ads.adnet.example";
/// Host of the form endpoint.
const METRICS_HOST: &str = "log.metrics.example";
/// Host of the endpoint with the id in its path.
const SYNC_HOST: &str = "sync.appcloud.example";
/// The app's user agent.
const APP_UA: &str = "NotesApp/5.2.1 (Android 14; Pixel 7)";
/// The app's version.
const APP_VERSION: &str = "5.2.1";
/// The handsets' model.
const MODEL: &str = "Pixel 7";
/// The event names the metrics endpoint cycles through.
const EVENTS: [&str; 3] = ["open", "click", "close"];

/// Every field the fixture's requests carry (transport headers such as `Host` and
/// `Content-Length` aside).
pub fn handset_fields() -> Vec<HandsetField> {
    use FieldBehaviour::*;
    let f = |host, location, selector, behaviour| HandsetField {
        host,
        location,
        selector,
        behaviour,
    };
    vec![
        f(CONFIG_HOST, "header:User-Agent", None, Constant),
        f(CONFIG_HOST, "header:Content-Type", None, Constant),
        f(CONFIG_HOST, "body", Some("json:$.app_ver"), Constant),
        f(CONFIG_HOST, "body", Some("json:$.model"), Constant),
        f(CONFIG_HOST, "body", Some("json:$.imei"), PerDevice),
        f(CONFIG_HOST, "body", Some("json:$.android_id"), PerDevice),
        f(CONFIG_HOST, "body", Some("json:$.ts"), PerRequest),
        f(CONFIG_HOST, "body", Some("json:$.nonce"), PerRequest),
        f(ADS_HOST, "url", Some("query:oaid"), PerDevice),
        f(ADS_HOST, "url", Some("query:slot"), Constant),
        f(ADS_HOST, "url", Some("query:t"), PerRequest),
        f(ADS_HOST, "url", Some("query:rid"), PerRequest),
        f(ADS_HOST, "url", Some("query:n"), PerRequest),
        f(ADS_HOST, "header:User-Agent", None, Constant),
        f(ADS_HOST, "header:X-Token", None, PerDevice),
        f(METRICS_HOST, "header:User-Agent", None, Constant),
        f(METRICS_HOST, "header:Content-Type", None, Constant),
        f(METRICS_HOST, "body", Some("form:did"), PerDevice),
        f(METRICS_HOST, "body", Some("form:blob"), PerDevice),
        f(METRICS_HOST, "body", Some("form:ev"), Cycling),
        f(METRICS_HOST, "body", Some("form:seq"), PerRequest),
        f(METRICS_HOST, "body", Some("form:sig"), PerRequest),
        f(METRICS_HOST, "body", Some("form:v"), Constant),
        f(SYNC_HOST, "url", Some("path:2"), PerDevice),
        f(SYNC_HOST, "header:User-Agent", None, Constant),
        f(SYNC_HOST, "header:X-Request-Id", None, PerRequest),
        f(SYNC_HOST, "header:X-Timestamp", None, PerRequest),
        f(SYNC_HOST, "cookie:uid", None, PerDevice),
    ]
}

/// An IMEI from a 14-digit body and its Luhn check digit.
fn imei(body: &str) -> String {
    format!("{body}{}", luhn_check_digit(body))
}

/// The two handsets.
pub fn handsets() -> [Handset; 2] {
    let hour: i128 = 3_600 * 1_000_000_000;
    [
        Handset {
            name: "handsetA",
            imei: imei("35391110123456"),
            android_id: "3f2a9c0d7e6b5a41".to_owned(),
            oaid: "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6".to_owned(),
            token: "ct_Q7mZ2pX9kL4vB8nR1tY6wE3s".to_owned(),
            session: "u-5b0c71e2d9".to_owned(),
            key: *b"handset-A-key-01",
            start_nanos: SAMPLE_START_NANOS,
            seed: 0xA11C_E5EE_D000_0001,
        },
        Handset {
            name: "handsetB",
            imei: imei("35391110654321"),
            android_id: "a81c4e9f02d3b675".to_owned(),
            oaid: "e5f4d3c2-b1a0-4987-8654-3210fedcba98".to_owned(),
            token: "ct_H5jK8dF2gS9aP4lM7zX1cV6b".to_owned(),
            session: "u-9e44a3d80f".to_owned(),
            key: *b"handset-B-key-02",
            start_nanos: SAMPLE_START_NANOS + 3 * hour,
            seed: 0xB0B0_5EED_0000_0002,
        },
    ]
}

/// `data` XORed with a SHA-256 keystream of `key` (block `i` is SHA-256(key ‖ i as 8 bytes
/// big-endian)): a toy stream cipher, deterministic per key, and its own inverse.
pub fn keyed_xor(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, chunk) in data.chunks(32).enumerate() {
        let mut h = Sha256::new();
        h.update(key);
        h.update((i as u64).to_be_bytes());
        let block = h.finalize();
        out.extend(chunk.iter().zip(block.iter()).map(|(d, k)| d ^ k));
    }
    out
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random version-4 UUID.
fn uuid4(rng: &mut SplitMix64) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `n` random bytes in hex.
fn random_hex(rng: &mut SplitMix64, n: usize) -> String {
    let mut b = vec![0u8; n];
    rng.fill(&mut b);
    hex(&b)
}

impl Handset {
    /// The handset's device profile (phonehome's TOML format).
    pub fn profile(&self) -> String {
        format!(
            "# Device profile of {name}, a fictional handset of the differential fixture.\n\
             [device]\n\
             name = \"{name}\"\n\
             imei = [\"{imei}\"]\n\
             android_id = \"{aid}\"\n\
             oaid = \"{oaid}\"\n",
            name = self.name,
            imei = self.imei,
            aid = self.android_id,
            oaid = self.oaid,
        )
    }

    /// SHA-256 of the IMEI, lower-case hex: the `did` form field.
    pub fn hashed_imei(&self) -> String {
        hex(&Sha256::digest(self.imei.as_bytes()))
    }

    /// The encrypted blob: base64 of [`keyed_xor`] with the handset's key over a JSON document
    /// holding the IMEI and the Android ID.
    pub fn encrypted_blob(&self) -> String {
        let plain = format!(r#"{{"imei":"{}","aid":"{}"}}"#, self.imei, self.android_id);
        base64::engine::general_purpose::STANDARD.encode(keyed_xor(&self.key, plain.as_bytes()))
    }

    /// The requests of round `round`, each with its host, server and send time.
    fn round(
        &self,
        round: usize,
        rng: &mut SplitMix64,
        counter: &mut u64,
    ) -> Vec<(FlowScript, i128)> {
        let minute: i128 = 60 * 1_000_000_000;
        let base = self.start_nanos + round as i128 * minute;
        let at = |i: i128| base + i * 5_000_000_000;
        let ms = |t: i128| (t / 1_000_000) as u64;
        let secs = |t: i128| (t / 1_000_000_000) as u64;
        let mut out = Vec::new();

        let t = at(0);
        let body = format!(
            r#"{{"app_ver":"{APP_VERSION}","model":"{MODEL}","imei":"{}","android_id":"{}","ts":{},"nonce":"{}"}}"#,
            self.imei,
            self.android_id,
            ms(t),
            random_hex(rng, 16)
        );
        let req = Request::new("POST", "/v2/init", CONFIG_HOST)
            .header("User-Agent", APP_UA)
            .header("Content-Type", "application/json")
            .body(body);
        out.push((script(CONFIG_HOST, [192, 0, 2, 80], req), t));

        let t = at(1);
        *counter += 1;
        let target = format!(
            "/v1/fetch?oaid={}&slot=banner&t={}&rid={}&n={}",
            self.oaid,
            secs(t),
            uuid4(rng),
            counter
        );
        let req = Request::new("GET", &target, ADS_HOST)
            .header("User-Agent", APP_UA)
            .header("X-Token", &self.token);
        out.push((script(ADS_HOST, [198, 51, 100, 81], req), t));

        let t = at(2);
        *counter += 1;
        let body = crate::http::form_body(&[
            ("did", &self.hashed_imei()),
            ("blob", &self.encrypted_blob()),
            ("ev", EVENTS[round % EVENTS.len()]),
            ("seq", &counter.to_string()),
            ("sig", &random_hex(rng, 20)),
            ("v", APP_VERSION),
        ]);
        let req = Request::new("POST", "/collect", METRICS_HOST)
            .header("User-Agent", APP_UA)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        out.push((script(METRICS_HOST, [203, 0, 113, 82], req), t));

        let t = at(3);
        let target = format!("/api/u/{}/ping", self.android_id);
        let req = Request::new("GET", &target, SYNC_HOST)
            .header("User-Agent", APP_UA)
            .header("X-Request-Id", uuid4(rng))
            .header("X-Timestamp", Timestamp::from_unix_nanos(t).to_rfc3339())
            .header("Cookie", format!("uid={}", self.session));
        out.push((script(SYNC_HOST, [192, 0, 2, 83], req), t));
        out
    }

    /// Writes the handset's capture: a pcap (Ethernet, microseconds) of every request of every
    /// round, each on its own TCP connection, with a small JSON answer.
    pub fn write_pcap(&self, w: impl Write) -> io::Result<()> {
        let mut rng = SplitMix64::new(self.seed);
        let mut counter = 0u64;
        let mut timeline = Timeline::default();
        let mut port = 41_000u16;
        for round in 0..HANDSET_ROUNDS {
            for (script, start) in self.round(round, &mut rng, &mut counter) {
                port += 1;
                let conv = run_script(&script, port, start, 2_000_000, |_, _| {});
                timeline.extend(conv.frames()?);
            }
        }
        let mut pcap = PcapWriter::new(BufWriter::new(w), PcapOptions::default())?;
        for f in timeline.into_sorted() {
            pcap.write_packet(f.ts_nanos, &f.data, f.orig_len)?;
        }
        pcap.into_inner()?.flush()
    }
}

/// A connection to `host` at `ip`, port 80, carrying `req` and a `{"code":0}` answer.
fn script(host: &'static str, ip: [u8; 4], req: Request) -> FlowScript {
    let resp = Response::new(200, "OK")
        .header("Content-Type", "application/json")
        .body(&br#"{"code":0}"#[..]);
    FlowScript {
        host,
        server: SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), 80),
        steps: vec![Step::Client(req.to_bytes()), Step::Server(resp.to_bytes())],
    }
}

/// Writes the fixture under `dir`: `handsetA/capture.pcap`, `handsetA/device.toml` and the same
/// for `handsetB`. Returns the two run directories.
pub fn write_handsets(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for h in handsets() {
        let run = dir.join(h.name);
        std::fs::create_dir_all(&run)?;
        std::fs::write(run.join("device.toml"), h.profile())?;
        h.write_pcap(std::fs::File::create(run.join("capture.pcap"))?)?;
        dirs.push(run);
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handsets_differ_in_every_per_device_value() {
        let [a, b] = handsets();
        assert_ne!(a.imei, b.imei);
        assert_ne!(a.android_id, b.android_id);
        assert_ne!(a.oaid, b.oaid);
        assert_ne!(a.token, b.token);
        assert_ne!(a.session, b.session);
        assert_ne!(a.hashed_imei(), b.hashed_imei());
        assert_ne!(a.encrypted_blob(), b.encrypted_blob());
        for h in [&a, &b] {
            let (body, check) = h.imei.split_at(14);
            assert_eq!(luhn_check_digit(body), check.as_bytes()[0] - b'0');
            // The blob is stable and decrypts with the key, and only with it.
            assert_eq!(h.encrypted_blob(), h.encrypted_blob());
            let raw = base64::engine::general_purpose::STANDARD
                .decode(h.encrypted_blob())
                .unwrap();
            let plain = keyed_xor(&h.key, &raw);
            assert!(String::from_utf8(plain).unwrap().contains(&h.imei));
            assert!(!String::from_utf8_lossy(&keyed_xor(b"wrong key", &raw)).contains(&h.imei));
        }
        assert_eq!(
            a.hashed_imei(),
            hex(&Sha256::digest(a.imei.as_bytes())),
            "the did field is the IMEI's SHA-256"
        );
    }

    #[test]
    fn captures_are_deterministic_and_carry_the_values() {
        let [a, b] = handsets();
        let mut one = Vec::new();
        let mut two = Vec::new();
        a.write_pcap(&mut one).unwrap();
        a.write_pcap(&mut two).unwrap();
        assert_eq!(one, two);
        let mut other = Vec::new();
        b.write_pcap(&mut other).unwrap();
        let has = |pcap: &[u8], s: &str| pcap.windows(s.len()).any(|w| w == s.as_bytes());
        for (pcap, h, not) in [(&one, &a, &b), (&other, &b, &a)] {
            for v in [&h.imei, &h.android_id, &h.oaid, &h.token, &h.session] {
                assert!(has(pcap, v), "{} carries {v}", h.name);
            }
            assert!(has(pcap, &h.hashed_imei()));
            assert!(
                !has(pcap, &not.imei),
                "{} does not carry {}",
                h.name,
                not.imei
            );
        }
        // Same requests on both: the same request lines, the same number of each.
        let count =
            |pcap: &[u8], s: &str| pcap.windows(s.len()).filter(|w| *w == s.as_bytes()).count();
        for line in [
            "POST /v2/init ",
            "GET /v1/fetch?",
            "POST /collect ",
            "GET /api/u/",
        ] {
            assert_eq!(count(&one, line), HANDSET_ROUNDS, "{line}");
            assert_eq!(count(&other, line), HANDSET_ROUNDS, "{line}");
        }
    }
}
