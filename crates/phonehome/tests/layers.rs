//! Captures built with `phonehome-synth`: DNS answers name later flows, a DNS name can carry an
//! identifier, and bytes of a protocol no parser claims are still scanned (`where: stream`).

mod common;

use phonehome::model::{MatchKind, NameSource, NotInspected};
use phonehome::{Options, Profile};
use phonehome_synth::dns;
use phonehome_synth::packet::{udp_frame, Frame, Link};
use phonehome_synth::pcap::{PcapOptions, PcapWriter};
use phonehome_synth::tcp::TcpConversation;
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
