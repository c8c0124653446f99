//! The ready-made captures: valid, deterministic, and carrying what they claim to carry.

mod common;

use base64::Engine;
use common::*;
use flate2::read::GzDecoder;
use phonehome_synth::scenario::{self, *};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

fn sample_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    write_sample_pcapng(&mut out).unwrap();
    out
}

/// Every packet of a single-section, single-interface pcapng, dissected.
fn dissect_all(bytes: &[u8]) -> (Vec<ReadPacket>, Vec<Seen>) {
    let sections = read_pcapng(bytes);
    assert_eq!(sections.len(), 1);
    let packets: Vec<ReadPacket> = sections[0]
        .packets
        .iter()
        .map(|(_, p, _)| p.clone())
        .collect();
    let seen = packets
        .iter()
        .map(|p| dissect(p.linktype, &p.data))
        .collect();
    (packets, seen)
}

fn tcp_of(seen: &[Seen]) -> Vec<TcpSeen> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Tcp(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// The connection whose requests name `host`.
fn flow_to<'a>(
    streams: &'a BTreeMap<(SocketAddr, SocketAddr), Streams>,
    host: &str,
) -> (&'a (SocketAddr, SocketAddr), &'a Streams) {
    let needle = format!("Host: {host}\r\n");
    let found: Vec<_> = streams
        .iter()
        .filter(|(_, s)| contains(&s.client_to_server, needle.as_bytes()))
        .collect();
    assert_eq!(found.len(), 1, "one connection to {host}");
    found[0]
}

/// The body of the first HTTP message in `stream` (Content-Length or chunked).
fn first_body(stream: &[u8]) -> Vec<u8> {
    let end = stream.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&stream[..end]).to_ascii_lowercase();
    let rest = &stream[end..];
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let line_end = pos + rest[pos..].windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[pos..line_end]).unwrap(), 16)
                    .unwrap();
            if size == 0 {
                return out;
            }
            out.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            pos = line_end + 2 + size + 2;
        }
    }
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0);
    rest[..len].to_vec()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(
                    u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap(),
                );
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn profile_values() -> Vec<String> {
    vec![
        IMEI_1.into(),
        IMEI_2.into(),
        md5_hex(IMEI_1),
        SERIAL.into(),
        ANDROID_ID.into(),
        ADVERTISING_ID.into(),
        OAID.into(),
        MAC.into(),
        MAC.replace(':', "").to_ascii_uppercase(),
        PHONE_NUMBER.into(),
        format!("00{}", &PHONE_NUMBER[1..]),
        "07700 900123".into(),
        IMSI.into(),
        ICCID.into(),
        EMAIL.into(),
        WIFI_SSID.into(),
        CONTACT.1.into(),
    ]
}

#[test]
fn sample_is_deterministic() {
    assert_eq!(sample_bytes(), sample_bytes());
    assert_eq!(sample_profile(), sample_profile());
}

#[test]
fn sample_is_up_to_date() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    let regenerate = "run `cargo run -p phonehome-synth -- sample --out-dir samples` to regenerate";
    let pcap = std::fs::read(dir.join("sample.pcapng")).unwrap_or_default();
    assert!(
        pcap == sample_bytes(),
        "samples/sample.pcapng is missing or stale: {regenerate}"
    );
    let toml = std::fs::read_to_string(dir.join("phone.toml")).unwrap_or_default();
    assert!(
        toml == sample_profile(),
        "samples/phone.toml is missing or stale: {regenerate}"
    );
}

#[test]
fn sample_profile_has_the_fictional_handset() {
    let p = sample_profile();
    for needle in [
        "name = \"Sample Handset (fictional)\"",
        "region = \"GB\"",
        "imei = [\"356938035643809\", \"356938035643817\"]",
        "mac = [\"3c:28:6d:01:23:45\"]",
        "phone_number = [\"+447700900123\"]",
        "email = [\"sam@example.co.uk\"]",
        "lat = 51.507351",
        "lon = -0.127758",
        "radius_m = 300",
        "name = \"Priya Shah\"",
        "phone = \"+447700900456\"",
        "text = \"Dinner at 8?\"",
        "kind = \"wifi_ssid\"",
        "value = \"TaylorNet\"",
    ] {
        assert!(p.contains(needle), "{needle}");
    }
}

#[test]
fn sample_frames_are_valid_and_well_ordered() {
    let bytes = sample_bytes();
    let sections = read_pcapng(&bytes);
    assert_eq!(sections[0].interfaces, vec![(1, 262_144, Some(6))]);
    assert!(sections[0]
        .comment
        .as_deref()
        .unwrap()
        .contains("fictional"));
    let (packets, seen) = dissect_all(&bytes);
    assert!(packets.len() > 120, "{} packets", packets.len());
    assert_eq!(packets[0].ts_nanos, SAMPLE_START_NANOS);
    assert!(packets.windows(2).all(|w| w[0].ts_nanos <= w[1].ts_nanos));
    assert!(packets.last().unwrap().ts_nanos < SAMPLE_START_NANOS + 10_000_000_000);
    assert_eq!(seen.iter().filter(|s| matches!(s, Seen::Arp)).count(), 2);
    let dns: Vec<_> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Udp { src, dst, payload } if src.port() == 53 || dst.port() == 53 => {
                Some(payload.clone())
            }
            _ => None,
        })
        .collect();
    // A query and an answer per host (www.google.com twice: A and AAAA), plus play.googleapis.com.
    assert_eq!(
        dns.len(),
        2 * (sample_expectations()
            .iter()
            .map(|e| e.0)
            .collect::<BTreeSet<_>>()
            .len()
            + 3)
    );
    assert!(dns
        .iter()
        .any(|d| contains(d, b"\x03sdk\x05hiido\x03com\x00")));
    // Flows interleave: some TCP connection sends between two packets of another.
    let tcp = tcp_of(&seen);
    let conn = |t: &TcpSeen| {
        if t.src.port() == 80 || t.src.port() == 443 {
            (t.dst, t.src)
        } else {
            (t.src, t.dst)
        }
    };
    let order: Vec<_> = tcp.iter().map(conn).collect();
    let switches = order.windows(2).filter(|w| w[0] != w[1]).count();
    let conns: BTreeSet<_> = order.iter().collect();
    assert!(
        switches > conns.len() + 5,
        "{switches} switches among {} connections",
        conns.len()
    );
}

#[test]
fn sample_carries_every_expected_leak() {
    let (_, seen) = dissect_all(&sample_bytes());
    let tcp = tcp_of(&seen);
    let streams = tcp_streams(&tcp);
    assert!(streams.values().all(|s| !s.gap));

    let (_, hiido) = flow_to(&streams, "sdk.hiido.com");
    assert!(contains(
        &hiido.client_to_server,
        format!("imei_md5={}", md5_hex(IMEI_1)).as_bytes()
    ));

    let (_, miui) = flow_to(&streams, "tracking.intl.miui.com");
    let req = String::from_utf8_lossy(&miui.client_to_server);
    assert_eq!(
        req.matches("POST /track/v4/").count(),
        2,
        "keep-alive with two requests"
    );
    for v in [IMEI_1, ANDROID_ID, WIFI_SSID] {
        assert!(req.contains(v), "{v}");
    }
    assert!(
        contains(&miui.server_to_client, IMEI_1.as_bytes()),
        "the response echoes the IMEI"
    );

    let (_, xiaomi) = flow_to(&streams, "api.ad.xiaomi.com");
    assert!(contains(
        &xiaomi.client_to_server,
        b"Content-Encoding: gzip\r\n"
    ));
    let mut json = String::new();
    GzDecoder::new(&first_body(&xiaomi.client_to_server)[..])
        .read_to_string(&mut json)
        .unwrap();
    assert!(json.contains(SERIAL) && json.contains(OAID));
    assert!(
        !contains(&xiaomi.client_to_server, SERIAL.as_bytes()),
        "only inside the gzip body"
    );

    let (_, heytap) = flow_to(&streams, "data.ads.heytapmobi.com");
    assert!(contains(
        &heytap.client_to_server,
        format!("X-Device-Id: {IMEI_2}\r\n").as_bytes()
    ));
    assert!(contains(
        &heytap.client_to_server,
        format!("Cookie: adid={ADVERTISING_ID};").as_bytes()
    ));

    let (_, realme) = flow_to(&streams, "sms.realme.com");
    assert!(contains(
        &realme.client_to_server,
        b"Transfer-Encoding: chunked\r\n"
    ));
    let form = String::from_utf8(first_body(&realme.client_to_server)).unwrap();
    assert!(
        form.contains("msg=Dinner+at+8%3F") && form.contains("wmac=3C286D012345"),
        "{form}"
    );

    let (_, wo) = flow_to(&streams, "dm.wo.com.cn");
    let req = String::from_utf8_lossy(&wo.client_to_server);
    for v in [
        "msisdn=00447700900123",
        IMSI,
        ICCID,
        "\"tel\":\"07700 900123\"",
    ] {
        assert!(req.contains(v), "{v}");
    }
    assert_eq!(
        String::from_utf8_lossy(&wo.server_to_client)
            .matches("HTTP/1.1 200 OK")
            .count(),
        2
    );

    let (_, oneplus) = flow_to(&streams, "cloud.oneplus.net");
    assert!(contains(
        &oneplus.client_to_server,
        b"Expect: 100-continue\r\n"
    ));
    assert!(oneplus
        .server_to_client
        .starts_with(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"));
    assert!(contains(
        &oneplus.client_to_server,
        format!(
            "{{\"name\":\"{}\",\"phones\":[\"{}\"]}}",
            CONTACT.0, CONTACT.1
        )
        .as_bytes()
    ));

    let (_, tbs) = flow_to(&streams, "log.tbs.qq.com");
    let form = String::from_utf8(first_body(&tbs.client_to_server)).unwrap();
    let data = form
        .split('&')
        .find_map(|kv| kv.strip_prefix("data="))
        .unwrap();
    let inner = base64::engine::general_purpose::STANDARD
        .decode(percent_decode(data))
        .unwrap();
    let inner = String::from_utf8(inner).unwrap();
    assert!(
        inner.contains(EMAIL) && inner.contains("\"lat\":51.50781"),
        "{inner}"
    );
    assert!(!form.contains(EMAIL));

    let (key, google) = flow_to(&streams, "www.google.com");
    assert!(key.1.is_ipv6());
    for v in profile_values() {
        assert!(
            !contains(&google.client_to_server, v.as_bytes()),
            "{v} sent to google"
        );
    }

    let tls = streams.iter().find(|(k, _)| k.1.port() == 443).unwrap().1;
    assert_eq!(&tls.client_to_server[..3], &[0x16, 0x03, 0x01]);
    assert!(contains(&tls.client_to_server, b"play.googleapis.com"));
    assert_eq!(tls.server_to_client[5], 2, "ServerHello");

    // Every expected host has a connection; every host with a connection is accounted for.
    let hosts: BTreeSet<&str> = sample_expectations().iter().map(|e| e.0).collect();
    for h in &hosts {
        flow_to(&streams, h);
    }
    assert_eq!(
        streams.len(),
        hosts.len() + 2,
        "expected hosts, www.google.com and the TLS flow"
    );
    println!(
        "checked {} connections, {} expectations",
        streams.len(),
        sample_expectations().len()
    );
}

#[test]
fn sample_has_its_tcp_edge_cases() {
    let (_, seen) = dissect_all(&sample_bytes());
    let tcp = tcp_of(&seen);
    let streams = tcp_streams(&tcp);
    let data_segments = |key: &(SocketAddr, SocketAddr)| -> Vec<&TcpSeen> {
        tcp.iter()
            .filter(|t| (t.src, t.dst) == *key && !t.payload.is_empty())
            .collect()
    };
    // sdk.hiido.com: the request is retransmitted (same sequence number and bytes twice).
    let (key, _) = flow_to(&streams, "sdk.hiido.com");
    let segs = data_segments(key);
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[0], segs[1]);
    // api.ad.xiaomi.com: a later segment arrives before an earlier one.
    let (key, _) = flow_to(&streams, "api.ad.xiaomi.com");
    let segs = data_segments(key);
    assert!(
        segs.len() >= 3,
        "the gzip body spans several segments: {}",
        segs.len()
    );
    assert!(
        segs.windows(2)
            .any(|w| w[1].seq.wrapping_sub(w[0].seq) > u32::MAX / 2),
        "out of order"
    );
    // dm.wo.com.cn: both requests are sent before the first response.
    let (key, _) = flow_to(&streams, "dm.wo.com.cn");
    let first_response = tcp
        .iter()
        .position(|t| (t.dst, t.src) == *key && !t.payload.is_empty())
        .unwrap();
    let second_request = tcp
        .iter()
        .position(|t| (t.src, t.dst) == *key && contains(&t.payload, b"POST /reg/v2/confirm"))
        .unwrap();
    assert!(second_request < first_response, "pipelined");
}

#[test]
fn sample_expectations_are_sorted_and_known_kinds() {
    let e = sample_expectations();
    assert!(e.windows(2).all(|w| w[0] < w[1]));
    let kinds: BTreeSet<&str> = e.iter().map(|x| x.1).collect();
    let known: BTreeSet<&str> = [
        "imei",
        "android_id",
        "wifi_ssid",
        "serial",
        "oaid",
        "advertising_id",
        "sms",
        "mac",
        "phone_number",
        "imsi",
        "iccid",
        "contact",
        "email",
        "location",
    ]
    .into_iter()
    .collect();
    assert_eq!(kinds, known);
}

#[test]
fn decoys_contain_only_near_misses() {
    let mut bytes = Vec::new();
    let decoys = write_decoys_pcap(&mut bytes).unwrap();
    assert!(decoys.len() >= 10);
    let (_, seen) = dissect_all(&bytes);
    let streams = tcp_streams(&tcp_of(&seen));
    let requests: Vec<u8> = streams
        .values()
        .flat_map(|s| s.client_to_server.clone())
        .collect();
    let text = String::from_utf8(requests).unwrap();
    let decoded = percent_decode(&text);
    for d in &decoys {
        assert!(decoded.contains(d.as_str()), "decoy {d} is in the capture");
    }
    for v in profile_values() {
        assert!(
            !contains(&bytes, v.as_bytes()),
            "profile value {v} must not be in the decoy capture"
        );
        assert!(
            !decoded.contains(v.as_str()) || v == PHONE_NUMBER[1..],
            "{v}"
        );
    }
    let mut again = Vec::new();
    assert_eq!(write_decoys_pcap(&mut again).unwrap(), decoys);
    assert_eq!(again, bytes);
    println!("checked {} decoys", decoys.len());
}

#[test]
fn bench_capture_is_valid_interleaved_and_close_to_its_target() {
    let target = 3 << 20;
    let mut bytes = Vec::new();
    let written = write_bench_pcap(&mut bytes, target).unwrap();
    assert_eq!(written, bytes.len() as u64);
    assert!(
        written <= target && written > target - (256 << 10),
        "{written}"
    );
    let (header, packets) = read_pcap(&bytes);
    assert_eq!(header.network.0, 1);
    assert!(packets.windows(2).all(|w| w[0].ts_nanos <= w[1].ts_nanos));
    let tcp: Vec<TcpSeen> = packets
        .iter()
        .map(|p| match dissect(p.linktype, &p.data) {
            Seen::Tcp(t) => t,
            other => panic!("{other:?}"),
        })
        .collect();
    // Concurrency: count connections open at once (SYN opens, the last ACK after two FINs closes).
    let mut open = BTreeSet::new();
    let mut max_open = 0;
    let mut syns = 0;
    for t in &tcp {
        if t.syn && !t.payload.is_empty() {
            panic!("data on SYN");
        }
        if t.syn && t.ack == 0 {
            syns += 1;
            open.insert((t.src, t.dst));
            max_open = max_open.max(open.len());
        }
        if t.fin && t.src.port() == 80 {
            open.remove(&(t.dst, t.src));
        }
    }
    assert!(syns > 50, "{syns} connections");
    assert!(max_open > 20, "{max_open} at once");
    // Request ids vary per connection, and every stream is whole.
    let mut ids = BTreeSet::new();
    for t in &tcp {
        if let Some(p) = t.payload.windows(14).position(|w| w == b"X-Request-Id: ") {
            ids.insert(t.payload[p + 14..p + 30].to_vec());
        }
    }
    assert!(
        ids.len() >= syns,
        "{} ids for {syns} connections",
        ids.len()
    );
    let streams = tcp_streams(&tcp);
    assert!(streams
        .values()
        .all(|s| !s.gap && s.server_to_client.starts_with(b"HTTP/1.1 ")));
    let mut again = Vec::new();
    write_bench_pcap(&mut again, target).unwrap();
    assert!(again == bytes, "deterministic");
    println!("checked {} packets in {syns} connections", packets.len());
}

#[test]
fn bench_capture_with_a_tiny_target_is_just_a_header() {
    let mut bytes = Vec::new();
    assert_eq!(write_bench_pcap(&mut bytes, 10).unwrap(), 24);
    assert_eq!(bytes.len(), 24);
    assert_eq!(read_pcap(&bytes).1.len(), 0);
    let _ = scenario::sample_profile();
}
