//! Ready-made captures: the bundled sample, the decoy capture and the benchmark capture, and over
//! TLS (with key logs): the TLS sample, the TLS fixture set and the TLS benchmark.
//!
//! All are built from one catalogue of a fictional handset's HTTP/1.1 exchanges with vendor
//! and third-party hosts ([`sample_profile`] holds the handset's identifiers). The traffic is
//! fictional; each server address is taken from a block registered to a network such a service
//! plausibly runs on (Alibaba Cloud Singapore, China Unicom Beijing, Amazon Frankfurt, Tencent
//! Hong Kong, Google…) so that attribution has something to show; the phone is 10.0.0.2 (and
//! 2001:db8:a::2) and the resolver 192.0.2.53 (documentation ranges, RFC 5737 and RFC 3849).
//! Everything is deterministic: the same call writes the same bytes.

mod bench;
mod catalog;
mod decoys;
mod handsets;
mod sample;
mod tls_bench;
mod tls_sample;

pub use bench::write_bench_pcap;
pub use decoys::write_decoys_pcap;
pub use handsets::{
    handset_fields, handsets, keyed_xor, write_handsets, FieldBehaviour, Handset, HandsetField,
    HANDSET_ROUNDS,
};
pub use sample::write_sample_pcapng;
pub use tls_bench::{write_tls_bench_pcap, MAX_ACTIVE_TLS_CONNECTIONS};
pub use tls_sample::{
    tls_fixture_set, tls_sample_expectations, tls_sample_frames, write_tls_sample_dsb_pcapng,
    write_tls_sample_pcapng, TLS_FIXTURE_NAMES,
};

use std::net::{Ipv4Addr, Ipv6Addr};

/// 2026-11-24T10:00:00Z in nanoseconds since the Unix epoch: when the sample capture starts.
pub const SAMPLE_START_NANOS: i128 = 1_795_514_400 * 1_000_000_000;
/// The phone's IPv4 address.
pub const PHONE_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The phone's IPv6 address.
pub const PHONE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xa, 0, 0, 0, 0, 2);
/// The gateway (and ARP target).
pub const GATEWAY_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The DNS resolver the phone asks.
pub const RESOLVER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);

/// The sample handset's first IMEI.
pub const IMEI_1: &str = "356938035643809";
/// The sample handset's second IMEI.
pub const IMEI_2: &str = "356938035643817";
/// Serial number.
pub const SERIAL: &str = "R58N31XYZQ";
/// Android ID.
pub const ANDROID_ID: &str = "9774d56d682e549c";
/// Google advertising id.
pub const ADVERTISING_ID: &str = "38400000-8cf0-11bd-b23e-10b96e40000d";
/// OAID (the MSA open advertising id).
pub const OAID: &str = "0f6e1c2b-3a4d-4e5f-8a9b-c0d1e2f3a4b5";
/// Wi-Fi MAC address.
pub const MAC: &str = "3c:28:6d:01:23:45";
/// Phone number (E.164).
pub const PHONE_NUMBER: &str = "+447700900123";
/// IMSI.
pub const IMSI: &str = "234101234567890";
/// ICCID.
pub const ICCID: &str = "8944101234567890123";
/// E-mail address.
pub const EMAIL: &str = "sam@example.co.uk";
/// The contact in the address book.
pub const CONTACT: (&str, &str) = ("Priya Shah", "+447700900456");
/// The SMS text.
pub const SMS_TEXT: &str = "Dinner at 8?";
/// The custom value (kind `wifi_ssid`).
pub const WIFI_SSID: &str = "TaylorNet";

/// The device profile TOML of the fictional handset the sample capture belongs to.
pub fn sample_profile() -> String {
    format!(
        r#"# phonehome device profile for the bundled sample capture (samples/sample.pcapng).
# Every value is fictional: the numbers come from documentation and test ranges.

[device]
name = "Sample Handset (fictional)"
region = "GB"
vendor = "xiaomi"         # who made it: findings say first or third party
imei = ["{IMEI_1}", "{IMEI_2}"]
serial = "{SERIAL}"
android_id = "{ANDROID_ID}"
advertising_id = "{ADVERTISING_ID}"
oaid = "{OAID}"
mac = ["{MAC}"]
phone_number = ["{PHONE_NUMBER}"]
imsi = "{IMSI}"
iccid = "{ICCID}"
email = ["{EMAIL}"]

[[location]]
lat = 51.507351
lon = -0.127758
radius_m = 300

[[contact]]
name = "{}"
phone = "{}"

[[sms]]
text = "{SMS_TEXT}"

[[custom]]
kind = "wifi_ssid"
value = "{WIFI_SSID}"
"#,
        CONTACT.0, CONTACT.1
    )
}

/// What the sample capture leaks, as (host, kind) pairs, sorted: every pair phonehome must report
/// for `samples/sample.pcapng` with `samples/phone.toml`, and nothing else.
pub fn sample_expectations() -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        ("sdk.hiido.com", "imei"),
        ("tracking.intl.miui.com", "imei"),
        ("tracking.intl.miui.com", "android_id"),
        ("tracking.intl.miui.com", "wifi_ssid"),
        ("api.ad.xiaomi.com", "serial"),
        ("api.ad.xiaomi.com", "oaid"),
        ("data.ads.heytapmobi.com", "advertising_id"),
        ("data.ads.heytapmobi.com", "imei"),
        ("sms.realme.com", "sms"),
        ("sms.realme.com", "mac"),
        ("dm.wo.com.cn", "phone_number"),
        ("dm.wo.com.cn", "imsi"),
        ("dm.wo.com.cn", "iccid"),
        ("cloud.oneplus.net", "contact"),
        ("log.tbs.qq.com", "email"),
        ("log.tbs.qq.com", "location"),
    ];
    v.sort_unstable();
    v
}

/// The Luhn check digit for a string of decimal digits (non-digits are ignored).
pub fn luhn_check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .filter(u8::is_ascii_digit)
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Lower-case hex MD5 of `s`.
pub fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_imeis_pass_luhn() {
        for imei in [IMEI_1, IMEI_2] {
            let (body, check) = imei.split_at(14);
            assert_eq!(luhn_check_digit(body), check.as_bytes()[0] - b'0', "{imei}");
        }
        assert_eq!(luhn_check_digit("7992739871"), 3, "Wikipedia's example");
    }

    #[test]
    fn start_is_2026_11_24_at_10() {
        let t = phonehome_model::Timestamp::from_unix_nanos(SAMPLE_START_NANOS);
        assert_eq!(t.to_rfc3339(), "2026-11-24T10:00:00.000000Z");
    }

    #[test]
    fn md5_matches_rfc1321() {
        assert_eq!(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
    }
}
