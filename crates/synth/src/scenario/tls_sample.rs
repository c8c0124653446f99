//! The TLS sample: the plaintext sample's exchanges, carried over real TLS with a key log, and a
//! set of small named fixtures for decryption tests.
//!
//! The TLS sample leaks exactly what the plaintext sample leaks ([`tls_sample_expectations`]),
//! but only to a reader that decrypts it with `tls-sample.keys` (or the copy embedded as a
//! pcapng Decryption Secrets Block): TLS 1.3 with HTTP/2 (HPACK with Huffman coding and dynamic
//! table references) and HTTP/1.1, a resumed TLS 1.3 session and a KeyUpdate, TLS 1.2 ECDHE with
//! AES-GCM and ChaCha20-Poly1305, and TLS 1.2 CBC with MAC-then-encrypt and encrypt-then-MAC.

use super::catalog::{self, FlowScript, Step};
use super::sample::{dns_lookup, Timeline};
use super::*;
use crate::dns;
use crate::h2_frames::{self, H2Framing, H2Request, H2Response};
use crate::packet;
use crate::pcap::ByteOrder;
use crate::pcapng::{Interface, PcapngWriter, TsResolution};
use crate::prng::SplitMix64;
use crate::tls_fixture::{
    build_fixture, tls_h2_fixture_with, tls_http1_fixture_with, AppStep, FixtureError, TlsFixture,
    TlsOptions, TlsSuite, TlsVersion,
};
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};

/// Milliseconds, in nanoseconds.
const MS: i128 = 1_000_000;

/// How one of the sample's flows travels.
struct Transport {
    version: TlsVersion,
    suite: TlsSuite,
    h2: bool,
    resume: bool,
    key_update: bool,
    encrypt_then_mac: bool,
}

/// The transport of each flow of [`catalog::sample_flows`], by host.
fn transport(host: &str) -> Transport {
    let t = |version, suite, h2| Transport {
        version,
        suite,
        h2,
        resume: false,
        key_update: false,
        encrypt_then_mac: false,
    };
    use TlsSuite::*;
    use TlsVersion::*;
    match host {
        "www.google.com" => t(V13, Aes128Gcm, true),
        "sdk.hiido.com" => t(V13, Aes128Gcm, false),
        "tracking.intl.miui.com" => Transport {
            key_update: true,
            ..t(V13, Chacha20Poly1305, true)
        },
        "api.ad.xiaomi.com" => t(V13, Aes256Gcm, true),
        "data.ads.heytapmobi.com" => Transport {
            resume: true,
            ..t(V13, Aes128Gcm, true)
        },
        "sms.realme.com" => t(V12, Aes128CbcSha, false),
        "dm.wo.com.cn" => t(V12, Aes128Gcm, false),
        "cloud.oneplus.net" => t(V12, Chacha20Poly1305, false),
        "log.tbs.qq.com" => Transport {
            encrypt_then_mac: true,
            ..t(V12, Aes256CbcSha256, false)
        },
        _ => t(V13, Aes128Gcm, false),
    }
}

/// A flow's HTTP/1.1 steps as TLS application steps.
fn http1_steps(script: &FlowScript, key_update: bool) -> Vec<AppStep> {
    let mut steps = Vec::with_capacity(script.steps.len() + 1);
    for (i, s) in script.steps.iter().enumerate() {
        steps.push(match s {
            Step::Client(b) => AppStep::Client(b.clone()),
            Step::Server(b) => AppStep::Server(b.clone()),
        });
        if i == 1 && key_update {
            steps.push(AppStep::KeyUpdate);
        }
    }
    steps
}

/// A flow's exchanges converted to HTTP/2.
pub(crate) fn h2_exchanges(script: &FlowScript) -> Vec<(H2Request, H2Response)> {
    let mut client = Vec::new();
    let mut server = Vec::new();
    for s in &script.steps {
        match s {
            Step::Client(b) => client.extend_from_slice(b),
            Step::Server(b) => server.extend_from_slice(b),
        }
    }
    let requests = h2_frames::requests_from_http1(&client);
    let responses = h2_frames::responses_from_http1(&server);
    requests
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let resp = responses
                .get(i)
                .cloned()
                .unwrap_or_else(H2Response::json_ok);
            (r, resp)
        })
        .collect()
}

/// The sample's TLS connections (and the DNS lookups before them), in capture order, and the
/// key log of every connection.
pub fn tls_sample_frames() -> io::Result<(Vec<packet::Frame>, String)> {
    let mut rng = SplitMix64::new(0x0054_4c53_5048); // "TLSPH"
    let mut timeline = Timeline::default();
    let mut keylog = String::new();
    let t0 = SAMPLE_START_NANOS;
    let mut port = 44_000u16;
    for (i, script) in catalog::sample_flows(false).iter().enumerate() {
        let start = t0 + 60 * MS + i as i128 * 150 * MS;
        let id = rng.next_u32() as u16;
        port = port.wrapping_add(10);
        let qtype = if script.server.is_ipv6() {
            dns::TYPE_AAAA
        } else {
            dns::TYPE_A
        };
        timeline.extend(dns_lookup(
            script.host,
            qtype,
            &[script.server.ip()],
            id,
            port,
            start - 25 * MS,
        )?);
        let tr = transport(script.host);
        let phone: IpAddr = if script.server.is_ipv6() {
            PHONE_V6.into()
        } else {
            PHONE_V4.into()
        };
        let opts = TlsOptions {
            seed: 0x5eed_0000 + i as u64,
            client: SocketAddr::new(phone, port.wrapping_add(1)),
            server: SocketAddr::new(script.server.ip(), 443),
            start_nanos: start,
            step_nanos: (2 + (i as i128 % 3)) * MS,
            resume: tr.resume,
            key_update: tr.key_update,
            encrypt_then_mac: tr.encrypt_then_mac,
            ..TlsOptions::default()
        };
        let fixture = if tr.h2 {
            tls_h2_fixture_with(
                &opts,
                tr.version,
                tr.suite,
                script.host,
                &h2_exchanges(script),
            )
        } else {
            let steps = http1_steps(script, tr.key_update);
            build_fixture(
                tr.version,
                tr.suite,
                script.host,
                b"http/1.1",
                &opts,
                |_| steps.clone(),
            )
        }?;
        keylog.push_str(&fixture.keylog);
        timeline.extend(fixture.frames);
    }
    Ok((timeline.into_sorted(), keylog))
}

/// What the TLS sample leaks once decrypted: the same (host, kind) pairs as the plaintext sample.
pub fn tls_sample_expectations() -> Vec<(&'static str, &'static str)> {
    sample_expectations()
}

fn write_tls_pcapng(w: impl Write, frames: &[packet::Frame], dsb: Option<&str>) -> io::Result<()> {
    let mut out = PcapngWriter::new(
        BufWriter::new(w),
        ByteOrder::Little,
        Some(
            "phonehome TLS sample: the sample handset's traffic over TLS (keys in tls-sample.keys)",
        ),
    )?;
    let iface = out.add_interface(Interface {
        linktype: packet::linktype::ETHERNET as u16,
        snaplen: crate::pcap::DEFAULT_SNAPLEN,
        tsresol: Some(TsResolution::Decimal(6)),
        name: Some("wlan0".to_owned()),
        comment: None,
    })?;
    if let Some(keys) = dsb {
        out.write_tls_key_log(keys.as_bytes())?;
    }
    for f in frames {
        out.write_packet(iface, f.ts_nanos, &f.data, f.orig_len, None)?;
    }
    out.into_inner()?.flush()
}

/// Writes the TLS sample (pcapng, Ethernet "wlan0", microseconds) to `w` and its NSS key log to
/// `keylog_w`.
pub fn write_tls_sample_pcapng(w: impl Write, mut keylog_w: impl Write) -> io::Result<()> {
    let (frames, keylog) = tls_sample_frames()?;
    write_tls_pcapng(w, &frames, None)?;
    keylog_w.write_all(keylog.as_bytes())?;
    keylog_w.flush()
}

/// Writes the TLS sample with its key log embedded as a Decryption Secrets Block (before the
/// first packet, as Wireshark expects).
pub fn write_tls_sample_dsb_pcapng(w: impl Write) -> io::Result<()> {
    let (frames, keylog) = tls_sample_frames()?;
    write_tls_pcapng(w, &frames, Some(&keylog))
}

/// The named fixtures of [`tls_fixture_set`].
pub const TLS_FIXTURE_NAMES: [&str; 12] = [
    "tls13-aes128gcm-http1",
    "tls13-aes256gcm-http1",
    "tls13-chacha20-h2",
    "tls13-h2-continuation-padding-interleaved",
    "tls13-resumption-keyupdate",
    "tls13-missing-key",
    "tls12-aes128gcm-http1",
    "tls12-aes256gcm-h2",
    "tls12-resumption",
    "tls12-aes128cbc-sha-mte",
    "tls12-aes256cbc-sha256-etm-padded",
    "tls12-cbc-resumption-missing-first-key",
];

/// Small fixtures, one per feature a decryptor must handle, each carrying the first IMEI in a
/// request; named as in [`TLS_FIXTURE_NAMES`]. The two `missing` fixtures hold two connections,
/// the second resuming the first, and a key log with the second connection's lines only: the
/// first cannot be decrypted, the second can.
pub fn tls_fixture_set() -> Result<Vec<(&'static str, TlsFixture)>, FixtureError> {
    use TlsSuite::*;
    use TlsVersion::*;
    let host = "tracking.intl.miui.com";
    let body = format!(r#"{{"imei":"{IMEI_1}","android_id":"{ANDROID_ID}"}}"#);
    let request = crate::http::Request::new("POST", "/track/v4/event", host)
        .header("User-Agent", catalog::UA_OKHTTP)
        .header("Content-Type", "application/json")
        .body(body.clone())
        .to_bytes();
    let get = crate::http::Request::new("GET", &format!("/c.gif?imei={IMEI_1}"), host)
        .header("User-Agent", catalog::UA_OKHTTP)
        .to_bytes();
    let response = crate::http::Response::new(200, "OK")
        .header("Content-Type", "application/json")
        .body(r#"{"code":0}"#)
        .to_bytes();
    // A response larger than one record (16384 bytes).
    let big = crate::http::Response::new(200, "OK")
        .header("Content-Type", "text/plain")
        .body("0123456789abcdef".repeat(2500))
        .to_bytes();
    let requests = [request.clone(), get.clone()];
    let responses = [response.clone(), big];
    let h2_request = H2Request::new("POST", host, "/track/v4/event")
        .header("user-agent", catalog::UA_OKHTTP)
        .header("content-type", "application/json")
        .header("x-device-id", IMEI_1)
        .body(
            format!(
                r#"{{"imei":"{IMEI_1}","android_id":"{ANDROID_ID}","pad":"{}"}}"#,
                "x".repeat(3000)
            )
            .into_bytes(),
        );
    let h2_get = H2Request::new("GET", host, &format!("/c.gif?imei={IMEI_1}"))
        .header("user-agent", catalog::UA_OKHTTP)
        .header("cookie", format!("adid={ADVERTISING_ID}"));
    let h2_big = H2Request::new("POST", host, "/upload")
        .header("content-type", "application/octet-stream")
        .body(format!("imei={IMEI_1};").repeat(3000).into_bytes());
    let exchanges = [
        (h2_request, H2Response::json_ok()),
        (h2_get, H2Response::json_ok()),
        (h2_big, H2Response::json_ok()),
    ];
    let base = TlsOptions::default();
    let o = |seed: u64| TlsOptions {
        seed,
        ..base.clone()
    };
    let h1 = |name, opts: TlsOptions, v, s| {
        tls_http1_fixture_with(&opts, v, s, host, &requests, &responses).map(|f| (name, f))
    };
    let h2 = |name, opts: TlsOptions, v, s| {
        tls_h2_fixture_with(&opts, v, s, host, &exchanges).map(|f| (name, f))
    };
    let [n0, n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11] = TLS_FIXTURE_NAMES;
    Ok(vec![
        h1(n0, o(1), V13, Aes128Gcm)?,
        h1(n1, o(2), V13, Aes256Gcm)?,
        h2(n2, o(3), V13, Chacha20Poly1305)?,
        h2(
            n3,
            TlsOptions {
                h2_framing: H2Framing {
                    max_data: 1000,
                    max_header_fragment: 24,
                    padding: 7,
                },
                h2_interleave: true,
                ..o(4)
            },
            V13,
            Aes128Gcm,
        )?,
        h1(
            n4,
            TlsOptions {
                resume: true,
                key_update: true,
                ..o(5)
            },
            V13,
            Aes128Gcm,
        )?,
        h1(
            n5,
            TlsOptions {
                resume: true,
                omit_key_log: Some(0),
                ..o(6)
            },
            V13,
            Aes128Gcm,
        )?,
        h1(n6, o(7), V12, Aes128Gcm)?,
        h2(n7, o(8), V12, Aes256Gcm)?,
        h1(
            n8,
            TlsOptions {
                resume: true,
                ..o(9)
            },
            V12,
            Chacha20Poly1305,
        )?,
        h1(n9, o(10), V12, Aes128CbcSha)?,
        h1(
            n10,
            TlsOptions {
                encrypt_then_mac: true,
                cbc_extra_padding_blocks: 3,
                ..o(11)
            },
            V12,
            Aes256CbcSha256,
        )?,
        h1(
            n11,
            TlsOptions {
                resume: true,
                omit_key_log: Some(0),
                ..o(12)
            },
            V12,
            Aes128CbcSha,
        )?,
    ])
}
