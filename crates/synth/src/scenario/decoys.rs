//! A capture holding only near misses of the sample profile's values.

use super::catalog::{FlowScript, Step, DATE, UA_OKHTTP};
use super::sample::{run_script, Timeline};
use super::*;
use crate::http::{self, Request, Response};
use crate::packet;
use crate::pcap::ByteOrder;
use crate::pcapng::{Interface, PcapngWriter, TsResolution};
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};

/// The decoy values: each is close to a profile value but is not it.
struct Decoys {
    /// Another device's IMEI: one digit of the body changed, check digit valid.
    imei_one_off: String,
    /// The first IMEI's body with a wrong check digit.
    imei_bad_luhn: String,
    /// MD5 of the one-off IMEI.
    imei_one_off_md5: String,
    /// The phone number with its last digit changed.
    phone_one_off: String,
    /// The national form of the phone number with its last digit changed.
    phone_national_one_off: String,
    /// The national number embedded in a longer run of digits.
    phone_in_run: String,
    /// The MAC with its last octet changed, colon-separated and bare upper case.
    mac_one_off: String,
    mac_one_off_bare: String,
    /// Another UUID than the advertising id (one hex digit off) and an unrelated one.
    uuid_one_off: String,
    uuid_other: String,
    /// The Android ID and serial number with one character changed.
    android_id_one_off: String,
    serial_one_off: String,
}

impl Decoys {
    fn new() -> Self {
        let body = &IMEI_1[..14];
        // Change the 13th digit (8 → 1) and recompute the check digit: a valid, different IMEI.
        let other_body = format!("{}1{}", &body[..12], &body[13..]);
        let imei_one_off = format!("{other_body}{}", luhn_check_digit(&other_body));
        let good = luhn_check_digit(body);
        let imei_bad_luhn = format!("{body}{}", (good + 5) % 10);
        Self {
            imei_one_off_md5: md5_hex(&imei_one_off),
            imei_one_off,
            imei_bad_luhn,
            phone_one_off: "+447700900124".to_owned(),
            phone_national_one_off: "07700 900124".to_owned(),
            phone_in_run: "1447700900123999".to_owned(),
            mac_one_off: "3c:28:6d:01:23:46".to_owned(),
            mac_one_off_bare: "3C286D012346".to_owned(),
            uuid_one_off: "38400000-8cf0-11bd-b23e-10b96e40000e".to_owned(),
            uuid_other: "9b2f6d1e-0c4a-4f3b-a8e7-5d6c7b8a9f01".to_owned(),
            android_id_one_off: "9774d56d682e549d".to_owned(),
            serial_one_off: "R58N31XYZR".to_owned(),
        }
    }

    fn all(&self) -> Vec<String> {
        vec![
            self.imei_one_off.clone(),
            self.imei_bad_luhn.clone(),
            self.imei_one_off_md5.clone(),
            self.phone_one_off.clone(),
            self.phone_national_one_off.clone(),
            self.phone_in_run.clone(),
            self.mac_one_off.clone(),
            self.mac_one_off_bare.clone(),
            self.uuid_one_off.clone(),
            self.uuid_other.clone(),
            self.android_id_one_off.clone(),
            self.serial_one_off.clone(),
        ]
    }
}

fn flow(host: &'static str, ip: [u8; 4], req: Request) -> FlowScript {
    let resp = Response::new(200, "OK")
        .header("Date", DATE)
        .header("Content-Type", "application/json")
        .body(&br#"{"code":0}"#[..]);
    FlowScript {
        host,
        server: SocketAddr::new(IpAddr::from(ip), 80),
        steps: vec![Step::Client(req.to_bytes()), Step::Server(resp.to_bytes())],
    }
}

fn decoy_flows(d: &Decoys) -> Vec<FlowScript> {
    vec![
        // URL query: another device's IMEI and its MD5.
        flow(
            "sdk.hiido.com",
            [203, 0, 113, 10],
            Request::new(
                "GET",
                &format!(
                    "/c.gif?act=boot&imei={}&imei_md5={}",
                    d.imei_one_off, d.imei_one_off_md5
                ),
                "sdk.hiido.com",
            )
            .header("User-Agent", UA_OKHTTP),
        ),
        // JSON body: IMEI with a wrong check digit, Android ID one off.
        flow(
            "tracking.intl.miui.com",
            [203, 0, 113, 20],
            Request::new("POST", "/track/v4/event", "tracking.intl.miui.com")
                .header("Content-Type", "application/json")
                .body(format!(
                    r#"{{"imei":"{}","android_id":"{}"}}"#,
                    d.imei_bad_luhn, d.android_id_one_off
                )),
        ),
        // Header and query: the phone number one off, in E.164 and national form.
        flow(
            "dm.wo.com.cn",
            [198, 51, 100, 50],
            Request::new(
                "GET",
                &format!("/reg/v2?msisdn={}", http::percent_encode(&d.phone_one_off)),
                "dm.wo.com.cn",
            )
            .header("X-Msisdn", &d.phone_national_one_off),
        ),
        // Query and cookie: the national number inside a longer digit run; other UUIDs.
        flow(
            "data.ads.heytapmobi.com",
            [198, 51, 100, 30],
            Request::new(
                "GET",
                &format!(
                    "/v3/ad/config?order={}&rid={}",
                    d.phone_in_run, d.uuid_other
                ),
                "data.ads.heytapmobi.com",
            )
            .header("Cookie", format!("adid={}", d.uuid_one_off)),
        ),
        // JSON body and header: the MAC one off, with and without separators; serial one off.
        flow(
            "sms.realme.com",
            [198, 51, 100, 40],
            Request::new("POST", "/sms/v1/backup", "sms.realme.com")
                .header("X-Serial", &d.serial_one_off)
                .header("Content-Type", "application/json")
                .body(format!(
                    r#"{{"mac":"{}","wmac":"{}"}}"#,
                    d.mac_one_off, d.mac_one_off_bare
                )),
        ),
    ]
}

/// Writes a pcapng capture (despite the name: one Ethernet interface, like the sample) that holds
/// only near misses of the sample profile's values — none may be reported as known — and returns
/// the decoy strings it contains.
pub fn write_decoys_pcap(w: impl Write) -> io::Result<Vec<String>> {
    let decoys = Decoys::new();
    let mut timeline = Timeline::default();
    for (i, script) in decoy_flows(&decoys).iter().enumerate() {
        let start = SAMPLE_START_NANOS + i as i128 * 50_000_000;
        let conv = run_script(script, 45_000 + i as u16 * 7, start, 3_000_000, |_, _| {});
        timeline.extend(conv.frames()?);
    }
    let mut out = PcapngWriter::new(
        BufWriter::new(w),
        ByteOrder::Little,
        Some("phonehome decoys: near misses only"),
    )?;
    let iface = out.add_interface(Interface {
        linktype: packet::linktype::ETHERNET as u16,
        snaplen: crate::pcap::DEFAULT_SNAPLEN,
        tsresol: Some(TsResolution::Decimal(6)),
        name: Some("wlan0".to_owned()),
        comment: None,
    })?;
    for f in timeline.into_sorted() {
        out.write_packet(iface, f.ts_nanos, &f.data, f.orig_len, None)?;
    }
    out.into_inner()?.flush()?;
    Ok(decoys.all())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoys_are_near_misses_not_values() {
        let d = Decoys::new();
        let one_off = &d.imei_one_off;
        assert_ne!(one_off, IMEI_1);
        assert_eq!(
            luhn_check_digit(&one_off[..14]),
            one_off.as_bytes()[14] - b'0',
            "valid Luhn"
        );
        assert_eq!(
            one_off[..14]
                .bytes()
                .zip(IMEI_1[..14].bytes())
                .filter(|(a, b)| a != b)
                .count(),
            1
        );
        let bad = &d.imei_bad_luhn;
        assert_eq!(&bad[..14], &IMEI_1[..14]);
        assert_ne!(
            luhn_check_digit(&bad[..14]),
            bad.as_bytes()[14] - b'0',
            "invalid Luhn"
        );
        for v in d.all() {
            for real in [
                IMEI_1,
                IMEI_2,
                PHONE_NUMBER,
                MAC,
                ADVERTISING_ID,
                ANDROID_ID,
                SERIAL,
                &md5_hex(IMEI_1),
            ] {
                assert_ne!(v, real);
            }
        }
        assert!(
            d.phone_in_run.contains(&PHONE_NUMBER[1..]),
            "embeds the number in a longer run"
        );
    }
}
