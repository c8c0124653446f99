//! Real QUIC captures without keys: the server names recovered from the client Initial packets
//! must be exactly those tshark found (`external/_reference/main.jsonl`, `tls_sni`).

use phonehome_quic::{looks_like_quic, version, QuicFlow};
use phonehome_testkit::read_ip_packets;
use phonehome_wire::{parse_transport, Transport};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// `$PHONEHOME_TESTDATA/external`, or `None` (skip) when the shared data is absent outside CI.
fn external() -> Option<PathBuf> {
    Some(phonehome_testkit::testdata()?.join("external"))
}

/// The QUIC captures without keys in the shared data.
const CAPTURES: [&str; 7] = [
    "illustrated-quic/captures/capture.pcap",
    "zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-api-cirrus-com.pcap",
    "zeek/testing/btest/Traces/quic/curl-8.1.2-dev-http3-www-google-de.pcap",
    "zeek/testing/btest/Traces/quic/interop/quic-go_quic-go/handshake.pcap",
    "zeek/testing/btest/Traces/quic/quicv2-http3-443.pcap",
    "wireshark/test/captures/quic-fragmented-handshakes.pcapng.gz",
    "wireshark/test/captures/quic_follow_multistream.pcapng",
];

/// An endpoint: address and port.
type Endpoint = (IpAddr, u16);

/// What one capture gave.
#[derive(Default)]
struct Seen {
    /// (SNI, ALPN, version) of every ClientHello, in capture order.
    hellos: Vec<(Option<String>, Vec<String>, Option<u32>)>,
    /// UDP flows that carried QUIC long headers.
    flows: usize,
}

/// Feeds every UDP flow that starts with a QUIC long header to a `QuicFlow`; the client is the
/// endpoint that sent the flow's first datagram.
fn read_quic(path: &Path) -> Seen {
    let mut flows: HashMap<(Endpoint, Endpoint), QuicFlow> = HashMap::new();
    let mut seen = Seen::default();
    read_ip_packets(path, &mut |_, ip| {
        let Ok(Transport::Udp(udp)) = parse_transport(ip.protocol, ip.payload) else {
            return;
        };
        let src = (ip.src, udp.src_port);
        let dst = (ip.dst, udp.dst_port);
        let (key, from_client) = if flows.contains_key(&(src, dst)) {
            ((src, dst), true)
        } else if flows.contains_key(&(dst, src)) {
            ((dst, src), false)
        } else if looks_like_quic(udp.payload) {
            ((src, dst), true)
        } else {
            return;
        };
        let flow = flows.entry(key).or_default();
        if let Some(hello) = flow.datagram(udp.payload, from_client) {
            seen.hellos.push((hello.sni, hello.alpn, flow.version()));
        }
    })
    .unwrap();
    seen.flows = flows.len();
    seen
}

/// tshark's `tls_sni` and `tls_client_hellos` for `file`.
fn reference(external: &Path, file: &str) -> (BTreeSet<String>, usize) {
    let text = std::fs::read_to_string(external.join("_reference/main.jsonl")).unwrap();
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        if row["file"] == file {
            let names = row["tls_sni"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            return (names, row["tls_client_hellos"].as_u64().unwrap() as usize);
        }
    }
    panic!("{file} not in the reference");
}

#[test]
fn server_names_match_the_reference() {
    let Some(external) = external() else { return };
    let mut hellos = 0;
    for file in CAPTURES {
        let seen = read_quic(&external.join(file));
        let ours: BTreeSet<String> = seen.hellos.iter().filter_map(|h| h.0.clone()).collect();
        let (expected, expected_hellos) = reference(&external, file);
        eprintln!(
            "{file}: {} flows, {} ClientHellos, SNIs {ours:?}",
            seen.flows,
            seen.hellos.len()
        );
        assert_eq!(ours, expected, "{file}");
        // tshark counts every ClientHello message; after a Retry the client sends the same one
        // again under new keys, which QuicFlow does not deliver twice. The fragmented-handshakes
        // capture has one Retry (frame 2, a draft-29 packet of type 3).
        let repeats = usize::from(file.contains("quic-fragmented-handshakes"));
        assert_eq!(
            seen.hellos.len() + repeats,
            expected_hellos,
            "{file}: ClientHello count"
        );
        hellos += seen.hellos.len();
    }
    eprintln!("{} captures, {hellos} ClientHellos", CAPTURES.len());
}

/// ALPN and version of the one ClientHello in each Zeek capture, as in Zeek's `quic.log`
/// baselines (client_protocol column; quicv2 has no baseline, its ALPN is h3 and it has no SNI).
#[test]
fn alpn_and_version_match_zeek() {
    let Some(external) = external() else { return };
    let cases: [(&str, Option<&str>, &str, u32); 4] = [
        (
            "chromium-115.0.5790.110-api-cirrus-com.pcap",
            Some("api.cirrus-ci.com"),
            "h3",
            version::V1,
        ),
        (
            "curl-8.1.2-dev-http3-www-google-de.pcap",
            Some("www.google.de"),
            "h3",
            version::V1,
        ),
        (
            "interop/quic-go_quic-go/handshake.pcap",
            Some("server4:443"),
            "hq-interop",
            version::V1,
        ),
        ("quicv2-http3-443.pcap", None, "h3", version::V2),
    ];
    for (file, sni, alpn, version) in cases {
        let seen = read_quic(&external.join("zeek/testing/btest/Traces/quic").join(file));
        assert_eq!(seen.hellos.len(), 1, "{file}");
        let (our_sni, our_alpn, our_version) = &seen.hellos[0];
        assert_eq!(our_sni.as_deref(), sni, "{file}");
        assert_eq!(our_alpn.first().map(String::as_str), Some(alpn), "{file}");
        assert_eq!(*our_version, Some(version), "{file}");
    }
}

/// The draft-29 handshakes of the fragmented capture: Chrome's ClientHellos, some spread over
/// several Initial packets, all offering h3-29.
#[test]
fn draft29_handshakes_offer_h3_29() {
    let Some(external) = external() else { return };
    let seen =
        read_quic(&external.join("wireshark/test/captures/quic-fragmented-handshakes.pcapng.gz"));
    let draft: Vec<_> = seen
        .hellos
        .iter()
        .filter(|h| h.2 == Some(version::DRAFT_29))
        .collect();
    assert_eq!(draft.len(), 16);
    assert!(draft.iter().all(|h| h.1 == ["h3-29"]), "{draft:?}");
}

/// Across every capture in the shared data, `looks_like_quic` fires exactly in the captures where
/// tshark saw QUIC (DNS, NTP, SSDP, mDNS… are refused), and no datagram makes `QuicFlow` panic.
#[test]
fn looks_like_quic_only_in_quic_captures() {
    let Some(external) = external() else { return };
    let text = std::fs::read_to_string(external.join("_reference/main.jsonl")).unwrap();
    let mut expected = BTreeSet::new();
    let mut files = Vec::new();
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = row["file"].as_str().unwrap().to_owned();
        if row["quic_packets"].as_u64().unwrap_or(0) > 0 {
            expected.insert(file.clone());
        }
        files.push(file);
    }
    let (mut udp, mut matched) = (0usize, BTreeSet::new());
    for file in &files {
        let path = external.join(file);
        let mut flow = QuicFlow::new();
        let _ = read_ip_packets(&path, &mut |_, ip| {
            let Ok(Transport::Udp(d)) = parse_transport(ip.protocol, ip.payload) else {
                return;
            };
            udp += 1;
            if looks_like_quic(d.payload) {
                matched.insert(file.clone());
            }
            // Every UDP datagram of the set, through one flow: nothing may panic.
            let _ = flow.datagram(d.payload, d.dst_port == 443);
        });
    }
    eprintln!(
        "{} captures, {udp} UDP datagrams, QUIC in {}",
        files.len(),
        matched.len()
    );
    assert_eq!(matched, expected);
}
