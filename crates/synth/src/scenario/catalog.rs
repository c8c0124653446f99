//! The handset's HTTP exchanges, shared by the sample, decoy and benchmark captures.

use super::*;
use crate::http::{self, ContentCoding, Request, Response};
use crate::prng::SplitMix64;
use base64::Engine;
use std::net::{IpAddr, SocketAddr};

/// User agent of the system's HTTP stack.
pub(crate) const UA_DALVIK: &str =
    "Dalvik/2.1.0 (Linux; U; Android 14; SH-01 Build/UP1A.231005.007)";
/// User agent of apps using OkHttp.
pub(crate) const UA_OKHTTP: &str = "okhttp/4.12.0";
/// The Date header of every response (the sample day).
pub(crate) const DATE: &str = "Tue, 24 Nov 2026 10:00:01 GMT";
/// Placeholder value of `X-Request-Id`, overwritten per connection by the benchmark.
pub(crate) const REQUEST_ID_PLACEHOLDER: &str = "0000000000000000";

/// The smallest valid GIF: one transparent pixel.
pub(crate) const GIF_1X1: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// One step of a scripted connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The client sends these bytes.
    Client(Vec<u8>),
    /// The server sends these bytes.
    Server(Vec<u8>),
}

/// A scripted TCP connection from the phone to one host.
#[derive(Clone, Debug)]
pub(crate) struct FlowScript {
    /// The host name (Host header, DNS name).
    pub host: &'static str,
    /// The server's address.
    pub server: SocketAddr,
    /// What each side sends, in order.
    pub steps: Vec<Step>,
}

fn v4(a: u8, b: u8, c: u8, d: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), port)
}

fn json_response(status: u16, reason: &str, body: &str) -> Response {
    Response::new(status, reason)
        .header("Server", "nginx")
        .header("Date", DATE)
        .header("Content-Type", "application/json;charset=UTF-8")
        .body(body.as_bytes().to_vec())
}

/// Adds `X-Request-Id` when `rid` is set.
fn with_rid(r: Request, rid: bool) -> Request {
    if rid {
        r.header("X-Request-Id", REQUEST_ID_PLACEHOLDER)
    } else {
        r
    }
}

/// A list of installed packages, long enough that the gzip-compressed body spans several segments.
fn installed_apps(rng: &mut SplitMix64) -> String {
    const VENDORS: [&str; 8] = [
        "com.android",
        "com.google.android",
        "com.miui",
        "com.tencent",
        "com.xiaomi",
        "com.heytap",
        "org.example",
        "net.sample",
    ];
    const APPS: [&str; 12] = [
        "camera", "gallery", "music", "weather", "notes", "calendar", "browser", "market",
        "wallet", "health", "mail", "maps",
    ];
    let mut items = Vec::with_capacity(128);
    for i in 0..128usize {
        let vendor = VENDORS[i % VENDORS.len()];
        let app = APPS[(i / VENDORS.len()) % APPS.len()];
        let code = rng.range_u64(10_000, 99_999_999);
        let installed = 1_700_000_000 + rng.below(95_000_000);
        // The SHA-1 of the app's signing certificate.
        let mut sig = [0u8; 20];
        rng.fill(&mut sig);
        let sig: String = sig.iter().map(|b| format!("{b:02x}")).collect();
        items.push(format!(
            r#"{{"pkg":"{vendor}.{app}","vc":{code},"it":{installed},"sig":"{sig}"}}"#
        ));
    }
    format!("[{}]", items.join(","))
}

/// sdk.hiido.com: a tracking pixel whose query carries the MD5 of the first IMEI.
pub(crate) fn hiido(rid: bool) -> FlowScript {
    let target = format!(
        "/c.gif?act=boot&imei_md5={}&ver=3.2.1&ts=1795514401",
        md5_hex(IMEI_1)
    );
    let req = with_rid(
        Request::new("GET", &target, "sdk.hiido.com")
            .header("User-Agent", UA_DALVIK)
            .header("Accept", "*/*")
            .header("Connection", "Keep-Alive")
            .header("Accept-Encoding", "gzip"),
        rid,
    );
    let resp = Response::new(200, "OK")
        .header("Server", "nginx")
        .header("Date", DATE)
        .header("Content-Type", "image/gif")
        .header("Cache-Control", "no-cache")
        .body(GIF_1X1.to_vec());
    FlowScript {
        host: "sdk.hiido.com",
        server: v4(183, 36, 108, 10, 80),
        steps: vec![Step::Client(req.to_bytes()), Step::Server(resp.to_bytes())],
    }
}

/// tracking.intl.miui.com: a keep-alive connection with two JSON posts (IMEI and Android ID, then
/// the Wi-Fi SSID); the first response echoes the IMEI back.
pub(crate) fn miui(rid: bool) -> FlowScript {
    let body1 = format!(
        r#"{{"app":"com.miui.analytics","ver":"5.3.1","device":{{"imei":"{IMEI_1}","android_id":"{ANDROID_ID}","model":"SH-01","os":"14"}},"req_id":"5f2b8c1e-3d4a-4b6c-9e7f-a1b2c3d4e5f6","ts":1795514400512,"events":[{{"name":"app_start","n":1}}]}}"#
    );
    let body2 = format!(
        r#"{{"net":{{"type":"wifi","ssid":"\"{WIFI_SSID}\"","rssi":-58,"freq":5180}},"req_id":"0b7d5e9a-64f1-4c3e-8d2b-7a9c1e3f5b60","ts":1795514401733}}"#
    );
    let post = |target: &str, body: String| {
        with_rid(
            Request::new("POST", target, "tracking.intl.miui.com")
                .header("User-Agent", UA_OKHTTP)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("Connection", "Keep-Alive")
                .body(body),
            rid,
        )
        .to_bytes()
    };
    let echo = format!(
        r#"{{"code":0,"msg":"ok","data":{{"imei":"{IMEI_1}","registered":true,"next":300}}}}"#
    );
    FlowScript {
        host: "tracking.intl.miui.com",
        server: v4(161, 117, 97, 20, 80),
        steps: vec![
            Step::Client(post("/track/v4/event", body1)),
            Step::Server(
                json_response(200, "OK", &echo)
                    .header("Connection", "keep-alive")
                    .to_bytes(),
            ),
            Step::Client(post("/track/v4/env", body2)),
            Step::Server(json_response(200, "OK", r#"{"code":0,"msg":"ok"}"#).to_bytes()),
        ],
    }
}

/// api.ad.xiaomi.com: a gzip-compressed JSON body with the serial number and the OAID (and a MAC
/// that is one off the handset's: a decoy).
pub(crate) fn xiaomi(rid: bool) -> FlowScript {
    let mut rng = SplitMix64::new(0x5eed_0001);
    let body = format!(
        r#"{{"slot":"1.301.1.2","serial":"{SERIAL}","oaid":"{OAID}","mac":"3c:28:6d:01:23:46","apps":{}}}"#,
        installed_apps(&mut rng)
    );
    let req = with_rid(
        Request::new("POST", "/v2/ad/fetch", "api.ad.xiaomi.com")
            .header("User-Agent", UA_OKHTTP)
            .header("Content-Type", "application/json")
            .header("Accept-Encoding", "gzip"),
        rid,
    )
    .body(body)
    .encode(ContentCoding::Gzip);
    let resp =
        json_response(200, "OK", r#"{"code":0,"ads":[],"ttl":600}"#).encode(ContentCoding::Gzip);
    FlowScript {
        host: "api.ad.xiaomi.com",
        server: v4(120, 92, 65, 21, 80),
        steps: vec![Step::Client(req.to_bytes()), Step::Server(resp.to_bytes())],
    }
}

/// data.ads.heytapmobi.com: the second IMEI in `X-Device-Id`, the advertising id in a cookie.
pub(crate) fn heytap(rid: bool) -> FlowScript {
    let req = with_rid(
        Request::new(
            "GET",
            "/v3/ad/config?pkg=com.heytap.market&ver=80310&build=UP1A.231005.007",
            "data.ads.heytapmobi.com",
        )
        .header("User-Agent", UA_OKHTTP)
        .header("X-Device-Id", IMEI_2)
        .header(
            "Cookie",
            format!("adid={ADVERTISING_ID}; sid=7c1e5a90d2f34b68"),
        )
        .header("Accept-Encoding", "gzip"),
        rid,
    );
    let resp = json_response(
        200,
        "OK",
        r#"{"code":0,"config":{"interval":3600,"slots":[101,102]}}"#,
    )
    .header("Set-Cookie", "sid=7c1e5a90d2f34b68; Path=/; HttpOnly");
    FlowScript {
        host: "data.ads.heytapmobi.com",
        server: v4(8, 219, 0, 30, 80),
        steps: vec![Step::Client(req.to_bytes()), Step::Server(resp.to_bytes())],
    }
}

/// sms.realme.com: a chunked form body with the SMS text and the MAC without separators (and a
/// phone number one off the handset's: a decoy).
pub(crate) fn realme(rid: bool) -> FlowScript {
    let mac_plain = MAC.replace(':', "").to_ascii_uppercase();
    let form = http::form_body(&[
        ("msg", SMS_TEXT),
        ("to", "+447700900124"),
        ("wmac", &mac_plain),
        ("t", "1795514403"),
    ]);
    let req = with_rid(
        Request::new("POST", "/sms/v1/backup", "sms.realme.com")
            .header("User-Agent", UA_OKHTTP)
            .header("Content-Type", "application/x-www-form-urlencoded"),
        rid,
    )
    .body(form)
    .chunked(32);
    let resp = json_response(200, "OK", r#"{"ok":true}"#);
    FlowScript {
        host: "sms.realme.com",
        server: v4(47, 74, 0, 40, 80),
        steps: vec![Step::Client(req.to_bytes()), Step::Server(resp.to_bytes())],
    }
}

/// dm.wo.com.cn: two pipelined requests: the phone number in 00 form with the IMSI and ICCID in
/// the query, then the national form in a JSON body.
pub(crate) fn dm_wo(rid: bool) -> FlowScript {
    let target = format!(
        "/reg/v2?msisdn=00{}&imsi={IMSI}&iccid={ICCID}&ch=android",
        &PHONE_NUMBER[1..]
    );
    let r1 = with_rid(
        Request::new("GET", &target, "dm.wo.com.cn")
            .header("User-Agent", UA_DALVIK)
            .header("Accept", "*/*"),
        rid,
    );
    let r2 = with_rid(
        Request::new("POST", "/reg/v2/confirm", "dm.wo.com.cn")
            .header("User-Agent", UA_DALVIK)
            .header("Content-Type", "application/json"),
        rid,
    )
    .body(format!(
        r#"{{"tel":"07700 900123","imsi":"{IMSI}","lang":"en-GB"}}"#
    ));
    let mut responses = json_response(200, "OK", r#"{"ret":0,"step":"confirm"}"#).to_bytes();
    responses.extend_from_slice(&json_response(200, "OK", r#"{"ret":0}"#).to_bytes());
    FlowScript {
        host: "dm.wo.com.cn",
        server: v4(123, 125, 0, 50, 80),
        steps: vec![
            Step::Client(http::pipeline(&[r1, r2])),
            Step::Server(responses),
        ],
    }
}

/// cloud.oneplus.net: a contacts upload with `Expect: 100-continue` (and an IMEI with a wrong
/// check digit: a decoy).
pub(crate) fn oneplus(rid: bool) -> FlowScript {
    let body = format!(
        r#"{{"device":"356938035643800","contacts":[{{"name":"{}","phones":["{}"]}},{{"name":"Alex Morgan","phones":["+447700900789"]}}]}}"#,
        CONTACT.0, CONTACT.1
    );
    let req = with_rid(
        Request::new("POST", "/contacts/v1/sync", "cloud.oneplus.net")
            .header("User-Agent", UA_OKHTTP)
            .header("Content-Type", "application/json"),
        rid,
    )
    .body(body)
    .expect_continue();
    FlowScript {
        host: "cloud.oneplus.net",
        server: v4(3, 120, 0, 60, 80),
        steps: vec![
            Step::Client(req.head_bytes()),
            Step::Server(http::continue_response()),
            Step::Client(req.body_bytes()),
            Step::Server(json_response(200, "OK", r#"{"synced":2}"#).to_bytes()),
        ],
    }
}

/// log.tbs.qq.com: a form whose field is base64-encoded JSON with the e-mail address and a
/// location (and another UUID than the advertising id: a decoy).
pub(crate) fn tbs(rid: bool) -> FlowScript {
    let inner = format!(
        r#"{{"email":"{EMAIL}","loc":{{"lat":51.50781,"lng":-0.12802,"acc":18.0}},"gaid":"6f1e2d3c-4b5a-4697-8877-665544332211","net":"wifi"}}"#
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(inner.as_bytes());
    let req = with_rid(
        Request::new("POST", "/ajax?c=2", "log.tbs.qq.com")
            .header("User-Agent", UA_OKHTTP)
            .header("Content-Type", "application/x-www-form-urlencoded"),
        rid,
    )
    .body(http::form_body(&[("v", "2"), ("data", &b64)]));
    FlowScript {
        host: "log.tbs.qq.com",
        server: v4(43, 129, 0, 70, 80),
        steps: vec![
            Step::Client(req.to_bytes()),
            Step::Server(json_response(200, "OK", r#"{"ret":0}"#).to_bytes()),
        ],
    }
}

/// The address of www.google.com (IPv6).
pub(crate) const GOOGLE_V6: Ipv6Addr =
    Ipv6Addr::new(0x2607, 0xf8b0, 0x4005, 0x80c, 0, 0, 0, 0x2004);

/// www.google.com over IPv6: a connectivity check with nothing personal in it.
pub(crate) fn google(rid: bool) -> FlowScript {
    let req = with_rid(
        Request::new("GET", "/generate_204", "www.google.com")
            .header("User-Agent", UA_DALVIK)
            .header("Connection", "close")
            .header("Accept-Encoding", "gzip"),
        rid,
    );
    let resp = Response::new(204, "No Content")
        .header("Date", DATE)
        .header("Server", "gws");
    FlowScript {
        host: "www.google.com",
        server: SocketAddr::new(IpAddr::V6(GOOGLE_V6), 80),
        steps: vec![Step::Client(req.to_bytes()), Step::Server(resp.to_bytes())],
    }
}

/// Every flow of the sample, in the order the phone opens them.
pub(crate) fn sample_flows(rid: bool) -> Vec<FlowScript> {
    vec![
        google(rid),
        hiido(rid),
        miui(rid),
        xiaomi(rid),
        heytap(rid),
        realme(rid),
        dm_wo(rid),
        oneplus(rid),
        tbs(rid),
    ]
}

/// An ad configuration download with a large JSON response (`entries` creatives), for the benchmark.
pub(crate) fn ad_config(rid: bool, entries: usize, seed: u64) -> FlowScript {
    let mut rng = SplitMix64::new(seed);
    let mut items = Vec::with_capacity(entries);
    for i in 0..entries {
        let id = rng.next_u64();
        let w = [320, 480, 720, 1080][i % 4];
        items.push(format!(
            r#"{{"id":"{id:016x}","w":{w},"h":{},"url":"http://static.ads.heytapmobi.com/c/{:08x}.png","ttl":{},"cpm":{}.{:02}}}"#,
            w * 5 / 4,
            rng.next_u32(),
            rng.range_u64(60, 86_400),
            rng.below(20),
            rng.below(100)
        ));
    }
    let body = format!(r#"{{"code":0,"creatives":[{}]}}"#, items.join(","));
    let req = with_rid(
        Request::new(
            "GET",
            &format!("/v3/ad/creatives?slot={}", seed % 1000),
            "data.ads.heytapmobi.com",
        )
        .header("User-Agent", UA_OKHTTP)
        .header("Cookie", format!("adid={ADVERTISING_ID}")),
        rid,
    );
    FlowScript {
        host: "data.ads.heytapmobi.com",
        server: v4(8, 219, 0, 31, 80),
        steps: vec![
            Step::Client(req.to_bytes()),
            Step::Server(json_response(200, "OK", &body).to_bytes()),
        ],
    }
}

/// A PNG image of `side`×`side` noise pixels (valid signature, IHDR, zlib IDAT, IEND, CRCs).
pub(crate) fn png_noise(side: u32, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    let row = side as usize * 3;
    let mut raw = vec![0u8; (row + 1) * side as usize];
    for line in raw.chunks_mut(row + 1) {
        if let Some((filter, pixels)) = line.split_first_mut() {
            *filter = 0;
            rng.fill(pixels);
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", ihdr),
        (b"IDAT", http::deflate(&raw)),
        (b"IEND", Vec::new()),
    ] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(&data);
        out.extend_from_slice(kind);
        out.extend_from_slice(&data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    out
}

/// A creative image download, for the benchmark.
pub(crate) fn ad_image(rid: bool, side: u32, seed: u64) -> FlowScript {
    let req = with_rid(
        Request::new(
            "GET",
            &format!("/c/{seed:08x}.png"),
            "static.ads.heytapmobi.com",
        )
        .header("User-Agent", UA_OKHTTP)
        .header("Accept", "image/webp,image/png,*/*"),
        rid,
    );
    let resp = Response::new(200, "OK")
        .header("Server", "nginx")
        .header("Date", DATE)
        .header("Content-Type", "image/png")
        .header("Cache-Control", "max-age=86400")
        .body(png_noise(side, seed));
    FlowScript {
        host: "static.ads.heytapmobi.com",
        server: v4(8, 219, 0, 32, 80),
        steps: vec![Step::Client(req.to_bytes()), Step::Server(resp.to_bytes())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_valid_chunks() {
        let png = png_noise(4, 1);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        // CRC of an empty IEND chunk is fixed.
        assert_eq!(&png[png.len() - 4..], &[0xae, 0x42, 0x60, 0x82]);
    }

    #[test]
    fn gif_is_well_formed() {
        assert_eq!(GIF_1X1.len(), 43);
        assert!(GIF_1X1.starts_with(b"GIF89a") && GIF_1X1.ends_with(b";"));
    }
}
