//! Captures built with `phonehome-synth`: DNS answers name later flows, a DNS name can carry an
//! identifier, and bytes of a protocol no parser claims are still scanned (`where: stream`).

mod common;

use phonehome::model::{MatchKind, NameSource, NotInspected};
use phonehome::{Options, Profile};
use phonehome_synth::packet::{udp_frame, Frame, Link};
use phonehome_synth::pcap::{PcapOptions, PcapWriter};
use phonehome_synth::tcp::TcpConversation;
use phonehome_synth::{dns, tls};
use std::net::SocketAddr;
use std::path::PathBuf;

const LINK: Link = Link::Ethernet {
    client: [2, 0, 0, 0, 0, 2],
    server: [2, 0, 0, 0, 0, 1],
};

fn write_pcap(name: &str, frames: &[Frame]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("phonehome-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join(name);
    let mut w = PcapWriter::new(Vec::new(), PcapOptions::default()).expect("pcap");
    for f in frames {
        w.write_packet(f.ts_nanos, &f.data, f.orig_len)
            .expect("write");
    }
    std::fs::write(&path, w.into_inner().expect("flush")).expect("write file");
    path
}

fn options() -> Options {
    let profile = Profile::parse(&phonehome_synth::scenario::sample_profile())
        .expect("profile")
        .0;
    Options {
        profile: Some(profile),
        ..Options::default()
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

#[test]
fn dns_answers_name_flows_and_queries_are_scanned() {
    let phone = addr("10.0.0.2:40000");
    let resolver = addr("192.0.2.53:53");
    let server = addr("203.0.113.9:7000");
    let t0 = 1_795_989_600_000_000_000i128;
    let mut frames = Vec::new();
    // The phone looks up a name, then connects to the answer with a protocol nobody parses.
    let q = dns::query(7, "cfg.vendor.example", dns::TYPE_A);
    let r = dns::response(7, "cfg.vendor.example", dns::TYPE_A, &[server.ip()]);
    frames.push(Frame::whole(
        t0,
        udp_frame(&LINK, phone, resolver, &q, 1, true).expect("frame"),
    ));
    frames.push(Frame::whole(
        t0 + 1000,
        udp_frame(&LINK, resolver, phone, &r, 2, false).expect("frame"),
    ));
    // A name that carries the IMEI (DNS exfiltration).
    let leak = dns::query(8, "356938035643809.t.umeng.com", dns::TYPE_A);
    frames.push(Frame::whole(
        t0 + 2000,
        udp_frame(&LINK, addr("10.0.0.2:40001"), resolver, &leak, 3, true).expect("frame"),
    ));
    let mut tcp = TcpConversation::new(addr("10.0.0.2:40002"), server)
        .with_link(LINK)
        .with_start(t0 + 10_000);
    tcp.handshake();
    tcp.client_send(b"\x00\x01HELLO dev=9774d56d682e549c;v=3\n");
    tcp.server_send(b"\x00\x02OK\n");
    tcp.close();
    frames.extend(tcp.frames().expect("tcp frames"));
    let path = write_pcap("dns-stream.pcap", &frames);

    let got = common::run_with(options(), &[&path]);
    let tcp_flow = got
        .flows
        .iter()
        .find(|f| f.server == server)
        .expect("tcp flow");
    assert!(
        tcp_flow
            .names
            .iter()
            .any(|n| n.name == "cfg.vendor.example" && n.source == NameSource::Dns),
        "{tcp_flow:?}"
    );
    assert_eq!(tcp_flow.reason, Some(NotInspected::UnknownProtocol));
    let known: Vec<_> = got
        .findings
        .iter()
        .filter(|f| f.match_kind == MatchKind::Known)
        .collect();
    let stream = known
        .iter()
        .find(|f| f.kind == "android_id")
        .expect("android id found in the stream");
    assert_eq!(stream.location, "stream");
    assert_eq!(stream.host.as_deref(), Some("cfg.vendor.example"));
    let dns_leak = known
        .iter()
        .find(|f| f.kind == "imei")
        .expect("imei in a DNS name");
    assert_eq!(
        dns_leak.host.as_deref(),
        Some("356938035643809.t.umeng.com")
    );
    assert_eq!(dns_leak.destination.domain.as_deref(), Some("umeng.com"));
    assert_eq!(dns_leak.destination.name_source, Some(NameSource::DnsQuery));
    assert_eq!(
        dns_leak.destination.org.as_ref().map(|o| o.id.as_str()),
        Some("alibaba")
    );
    let dns_flows = got
        .flows
        .iter()
        .filter(|f| f.app.as_deref() == Some("dns"))
        .count();
    assert_eq!(dns_flows, 2);
    assert!(got
        .flows
        .iter()
        .filter(|f| f.app.as_deref() == Some("dns"))
        .all(|f| f.inspected));
}

#[test]
fn an_encrypted_flow_to_a_bare_ip_is_named_and_attributed_from_dns() {
    let phone = addr("10.0.0.2:40000");
    let resolver = addr("192.0.2.53:53");
    // An Alibaba Cloud address in Singapore.
    let server = addr("161.117.97.1:443");
    let t0 = 1_795_989_600_000_000_000i128;
    let q = dns::query(9, "api.ad.intl.xiaomi.com", dns::TYPE_A);
    let r = dns::response(9, "api.ad.intl.xiaomi.com", dns::TYPE_A, &[server.ip()]);
    let mut frames = vec![
        Frame::whole(
            t0,
            udp_frame(&LINK, phone, resolver, &q, 1, true).expect("frame"),
        ),
        Frame::whole(
            t0 + 1000,
            udp_frame(&LINK, resolver, phone, &r, 2, false).expect("frame"),
        ),
    ];
    // TLS without a server name (connecting to the address), and no key to read it.
    let mut tcp = TcpConversation::new(addr("10.0.0.2:40002"), server)
        .with_link(LINK)
        .with_start(t0 + 10_000);
    tcp.handshake();
    tcp.client_send(&tls::client_hello("", &[7; 32]));
    tcp.server_send(&tls::server_flight(&[8; 32], &[9; 32], 1200));
    tcp.client_send(&tls::record(
        tls::CONTENT_APPLICATION_DATA,
        0x0303,
        &[0x5a; 300],
    ));
    tcp.close();
    frames.extend(tcp.frames().expect("tcp frames"));
    let path = write_pcap("dns-tls.pcap", &frames);

    let got = common::run_with(
        Options {
            watch: vec!["CN".into()],
            ..options()
        },
        &[&path],
    );
    let flow = got
        .flows
        .iter()
        .find(|f| f.server == server)
        .expect("tls flow");
    assert_eq!(flow.sni, None);
    assert_eq!(flow.app.as_deref(), Some("tls"), "{flow:?}");
    assert_eq!(flow.reason, Some(NotInspected::NoKey));
    let d = &flow.destination;
    assert_eq!(
        (d.name.as_deref(), d.name_source),
        (Some("api.ad.intl.xiaomi.com"), Some(NameSource::Dns))
    );
    assert_eq!(d.org.as_ref().map(|o| o.id.as_str()), Some("xiaomi"));
    assert_eq!(d.org_country.as_deref(), Some("CN"));
    assert_eq!(d.server_country.as_deref(), Some("SG"));
    assert_eq!(d.asn, Some(45102));
    assert_eq!(d.server_ip.as_deref(), Some("161.117.97.1"));
    // The summary names the data it used.
    let summary = got.summary.as_ref().expect("summary");
    for key in ["entities", "ip_country", "ip_asn", "ip_data_date"] {
        assert!(summary.data.contains_key(key), "{key}: {:?}", summary.data);
    }
    assert_eq!(summary.watch, ["CN"]);
}
