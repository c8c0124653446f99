//! Real captures from the shared test data: every DNS query name that tshark saw (the reference
//! in `external/_reference/main.jsonl`) must come out of our parse.

use phonehome_dns::{looks_like_dns, parse_message, rtype, DnsMessage, DnsTcpStream, RData};
use phonehome_testkit::read_ip_packets;
use phonehome_wire::{parse_transport, Transport};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

/// `$PHONEHOME_TESTDATA/external`, or `None` (skip) when the shared data is absent outside CI.
fn external() -> Option<PathBuf> {
    Some(phonehome_testkit::testdata()?.join("external"))
}

/// Well-known DNS ports: DNS, mDNS, LLMNR.
const DNS_PORTS: [u16; 3] = [53, 5353, 5355];

/// What one capture gave.
#[derive(Default)]
struct Parsed {
    messages: Vec<DnsMessage>,
    errors: Vec<String>,
    /// UDP payloads on other ports that `looks_like_dns` took.
    sniffed: usize,
    /// UDP payloads on other ports that `looks_like_dns` was asked about.
    off_port: usize,
    /// IP fragments and frames cut by the snap length, skipped.
    incomplete: usize,
}

/// One TCP direction: (source, source port, destination, destination port).
type Direction = (IpAddr, u16, IpAddr, u16);

/// Every DNS message in a capture: UDP on the DNS ports or sniffed by `looks_like_dns`, and TCP
/// on port 53. TCP payloads are put in sequence order per direction (a stand-in for the flow
/// stage's reassembly: the test captures have out-of-order segments but no gaps or overlaps).
fn parse_capture(path: &Path) -> Parsed {
    let mut parsed = Parsed::default();
    let mut segments: HashMap<Direction, BTreeMap<u32, Vec<u8>>> = HashMap::new();
    read_ip_packets(path, &mut |number, ip| {
        // Fragments and snap-length cuts are the flow stage's business (it reassembles).
        if ip.fragment.is_some() || ip.truncated_by > 0 {
            parsed.incomplete += 1;
            return;
        }
        match parse_transport(ip.protocol, ip.payload) {
            Ok(Transport::Udp(udp)) => {
                let on_port =
                    DNS_PORTS.contains(&udp.src_port) || DNS_PORTS.contains(&udp.dst_port);
                if !on_port {
                    parsed.off_port += 1;
                    if looks_like_dns(udp.payload) {
                        parsed.sniffed += 1;
                    } else {
                        return;
                    }
                }
                match parse_message(udp.payload) {
                    Ok(m) => parsed.messages.push(m),
                    Err(e) => parsed.errors.push(format!("frame {number}: {e}")),
                }
            }
            Ok(Transport::Tcp(tcp)) if tcp.src_port == 53 || tcp.dst_port == 53 => {
                if tcp.payload.is_empty() {
                    return;
                }
                let key = (ip.src, tcp.src_port, ip.dst, tcp.dst_port);
                segments
                    .entry(key)
                    .or_default()
                    .insert(tcp.seq, tcp.payload.to_vec());
            }
            _ => {}
        }
    })
    .unwrap();
    let mut results = Vec::new();
    for direction in segments.values() {
        let mut stream = DnsTcpStream::new();
        for payload in direction.values() {
            stream.feed(payload, &mut results);
        }
        assert_eq!(
            stream.buffered(),
            0,
            "{}: TCP stream ends mid-message",
            path.display()
        );
    }
    for r in results {
        match r {
            Ok(m) => parsed.messages.push(m),
            Err(e) => parsed.errors.push(format!("tcp: {e}")),
        }
    }
    parsed
}

/// Reference rows (file, dns_names) with DNS queries carried over UDP or TCP. DNS over HTTPS
/// (suricata-verify's dns-over-http2 tests) is the HTTP/2 stage's business.
fn reference(external: &Path) -> Vec<(String, Vec<String>, u64)> {
    let text = std::fs::read_to_string(external.join("_reference/main.jsonl")).unwrap();
    let mut rows = Vec::new();
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = row["file"].as_str().unwrap().to_owned();
        let queries = row["dns_queries"].as_u64().unwrap_or(0);
        if queries == 0 || file.contains("dns-over-http") {
            continue;
        }
        // tshark joins the names of a multi-question message with commas.
        let names = row["dns_names"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|n| n.as_str().unwrap().split(','))
            .map(str::to_owned)
            .collect();
        rows.push((file, names, queries));
    }
    rows
}

#[test]
fn reference_query_names_are_found() {
    let Some(external) = external() else { return };
    let rows = reference(&external);
    assert!(
        rows.len() >= 5,
        "expected the DNS captures in the reference, got {}",
        rows.len()
    );
    let mut names_checked = 0;
    for (file, expected, queries) in &rows {
        let parsed = parse_capture(&external.join(file));
        assert!(parsed.errors.is_empty(), "{file}: {:?}", parsed.errors);
        let ours: BTreeSet<&str> = parsed
            .messages
            .iter()
            .flat_map(|m| m.questions.iter().map(|q| q.name.as_str()))
            .collect();
        for name in expected {
            assert!(
                ours.contains(name.as_str()),
                "{file}: {name} not found in {ours:?}"
            );
            names_checked += 1;
        }
        let our_queries = parsed.messages.iter().filter(|m| !m.response).count() as u64;
        assert_eq!(
            our_queries, *queries,
            "{file}: query count differs from tshark's"
        );
        eprintln!(
            "{file}: {} messages ({our_queries} queries, tshark {queries}), {} sniffed off-port, {} fragments skipped, {} names",
            parsed.messages.len(),
            parsed.sniffed,
            parsed.incomplete,
            expected.len()
        );
    }
    eprintln!(
        "{} captures, {names_checked} reference names checked",
        rows.len()
    );
}

#[test]
fn https_record_from_cloudflare() {
    let Some(external) = external() else { return };
    let parsed = parse_capture(&external.join("zeek/testing/btest/Traces/dns-https.pcap"));
    let answer = parsed
        .messages
        .iter()
        .flat_map(|m| &m.answers)
        .find(|r| r.rtype == rtype::HTTPS)
        .expect("an HTTPS answer");
    assert_eq!(answer.name, "cloudflare.com");
    let RData::Https(svcb) = &answer.data else {
        panic!("not decoded as HTTPS: {:?}", answer.data)
    };
    assert_eq!(svcb.priority, 1);
    assert_eq!(svcb.target, "");
    assert_eq!(svcb.alpn, ["h3", "h3-29", "h3-28", "h3-27", "h2"]);
    assert_eq!(
        svcb.ipv4hint,
        [
            Ipv4Addr::new(104, 16, 132, 229),
            Ipv4Addr::new(104, 16, 133, 229)
        ]
    );
    assert_eq!(svcb.ipv6hint.len(), 2);
}

#[test]
fn dns_over_tcp_out_of_order() {
    // Wireshark's test_tcp_out_of_order_data_after_syn expects the query name example.com.
    let Some(external) = external() else { return };
    let parsed = parse_capture(&external.join("wireshark/test/captures/dns-ooo.pcap"));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let names: Vec<&str> = parsed
        .messages
        .iter()
        .flat_map(|m| m.questions.iter().map(|q| q.name.as_str()))
        .collect();
    assert_eq!(names, ["example.com"]);
}

#[test]
fn referral_with_authority_and_glue() {
    let Some(external) = external() else { return };
    let parsed = parse_capture(&external.join("zeek/testing/btest/Traces/dns53.pcap"));
    assert_eq!(parsed.messages.len(), 1);
    let m = &parsed.messages[0];
    assert_eq!(m.questions[0].name, "us.v27.distributed.net");
    assert_eq!(m.answers.len(), 8);
    assert_eq!(
        m.answers[0].data,
        RData::A(Ipv4Addr::new(206, 109, 64, 186))
    );
    assert_eq!(m.authority.len(), 7);
    assert_eq!(m.authority[4].data, RData::Ns("ns1.best.com".into()));
    assert_eq!(m.additional.len(), 7);
    assert_eq!(m.additional[6].name, "ns3.best.com");
}

/// Every UDP payload on the DNS ports in the whole external set parses (a sweep over real-world
/// variety beyond the reference rows), and `looks_like_dns` takes no off-port datagram except
/// in `dns_port.pcap`, the one capture with DNS on another port (QUIC, NTP, SSDP… are refused).
#[test]
fn every_dns_datagram_parses_and_nothing_else_looks_like_dns() {
    let Some(external) = external() else { return };
    let mut files = Vec::new();
    collect_captures(&external, &mut files);
    let (mut messages, mut captures, mut off_port) = (0, 0, 0);
    let mut errors = Vec::new();
    let mut sniffed = Vec::new();
    for file in &files {
        let parsed = parse_capture(file);
        off_port += parsed.off_port;
        if parsed.sniffed > 0 {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            sniffed.push((name, parsed.sniffed));
        }
        if parsed.messages.is_empty() && parsed.errors.is_empty() {
            continue;
        }
        captures += 1;
        messages += parsed.messages.len();
        errors.extend(
            parsed
                .errors
                .iter()
                .map(|e| format!("{}: {e}", file.display())),
        );
    }
    eprintln!(
        "{} captures, {captures} with DNS, {messages} messages, {} errors; {off_port} off-port UDP datagrams sniffed",
        files.len(),
        errors.len()
    );
    assert!(messages > 100, "too few DNS messages found: {messages}");
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(sniffed, [("dns_port.pcap".to_owned(), 4)]);
}

/// Capture files under `dir` (by extension), skipping the `_derived` copies.
fn collect_captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            if name != "_derived" && name != "_reference" {
                collect_captures(&path, out);
            }
        } else if [".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz", ".cap"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}
