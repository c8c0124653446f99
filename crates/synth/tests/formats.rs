//! Everything the writers produce is read back by independent parsers (pcap-parser, etherparse).

mod common;

use common::*;
use phonehome_synth::packet::{self, Frame, Link, TcpFields, CLIENT_MAC, GATEWAY_MAC};
use phonehome_synth::pcap::{ByteOrder, PcapOptions, PcapWriter, Resolution};
use phonehome_synth::pcapng::{Interface, PcapngWriter, TsResolution, SECRETS_TLS_KEY_LOG};
use phonehome_synth::tcp::TcpConversation;
use std::net::{IpAddr, SocketAddr};

const TS: i128 = 1_795_514_400_123_456_789;

fn all_links() -> Vec<Link> {
    vec![
        Link::Ethernet {
            client: CLIENT_MAC,
            server: GATEWAY_MAC,
        },
        Link::Vlan {
            client: CLIENT_MAC,
            server: GATEWAY_MAC,
            vlan_id: 42,
        },
        Link::Sll {
            client: CLIENT_MAC,
            server: GATEWAY_MAC,
        },
        Link::Sll2 {
            client: CLIENT_MAC,
            server: GATEWAY_MAC,
            ifindex: 3,
        },
        Link::Null,
        Link::Loop,
        Link::Ppp,
        Link::Raw,
    ]
}

fn addrs(v6: bool) -> (SocketAddr, SocketAddr) {
    if v6 {
        (
            "[2001:db8:a::2]:50123".parse().unwrap(),
            "[2001:db8::80]:80".parse().unwrap(),
        )
    } else {
        (
            "10.0.0.2:50123".parse().unwrap(),
            "192.0.2.80:80".parse().unwrap(),
        )
    }
}

fn write_pcap(frames: &[Frame], opts: PcapOptions) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
    for f in frames {
        w.write_packet(f.ts_nanos, &f.data, f.orig_len).unwrap();
    }
    w.into_inner().unwrap()
}

#[test]
fn pcap_in_every_byte_order_and_resolution_reads_back() {
    let (c, s) = addrs(false);
    let mut conv = TcpConversation::new(c, s).with_start(TS);
    conv.handshake();
    conv.client_send(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    conv.close();
    let frames = conv.frames().unwrap();
    for byte_order in [ByteOrder::Little, ByteOrder::Big] {
        for resolution in [Resolution::Micro, Resolution::Nano] {
            let opts = PcapOptions {
                byte_order,
                resolution,
                linktype: 1,
                snaplen: 65_535,
            };
            let bytes = write_pcap(&frames, opts);
            let (header, packets) = read_pcap(&bytes);
            assert_eq!(header.is_bigendian(), byte_order == ByteOrder::Big);
            assert_eq!(
                header.is_nanosecond_precision(),
                resolution == Resolution::Nano
            );
            assert_eq!((header.version_major, header.version_minor), (2, 4));
            assert_eq!(header.snaplen, 65_535);
            assert_eq!(header.network.0, 1);
            assert_eq!(packets.len(), frames.len());
            for (p, f) in packets.iter().zip(&frames) {
                assert_eq!(p.data, f.data);
                assert_eq!(p.orig_len, f.orig_len);
                let expect_ts = if resolution == Resolution::Micro {
                    f.ts_nanos / 1000 * 1000
                } else {
                    f.ts_nanos
                };
                assert_eq!(p.ts_nanos, expect_ts);
                dissect(p.linktype, &p.data);
            }
        }
    }
}

#[test]
fn every_link_type_carries_tcp_and_udp_over_both_ip_versions() {
    let mut checked = 0;
    for link in all_links() {
        for v6 in [false, true] {
            let (c, s) = addrs(v6);
            let mut conv = TcpConversation::new(c, s).with_link(link).with_start(TS);
            conv.handshake();
            conv.client_send(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
            conv.server_send(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            let mut frames = conv.frames().unwrap();
            let udp = packet::udp_frame(&link, c, s, b"\x12\x34 hello", 9, true).unwrap();
            frames.push(Frame::whole(TS, udp));
            let opts = PcapOptions {
                linktype: link.linktype(),
                ..PcapOptions::default()
            };
            let (header, packets) = read_pcap(&write_pcap(&frames, opts));
            assert_eq!(header.network.0 as u32, link.linktype());
            let mut segments = Vec::new();
            for p in &packets {
                match dissect(p.linktype, &p.data) {
                    Seen::Tcp(t) => segments.push(t),
                    Seen::Udp { src, dst, payload } => {
                        assert_eq!((src, dst), (c, s));
                        assert_eq!(payload, b"\x12\x34 hello");
                    }
                    other => panic!("{other:?}"),
                }
                checked += 1;
            }
            let streams = tcp_streams(&segments);
            let st = &streams[&(c, s)];
            assert!(st.client_to_server.ends_with(b"\r\n\r\nabc"), "{link:?}");
            assert!(st.server_to_client.starts_with(b"HTTP/1.1 200 OK"));
        }
    }
    println!(
        "checked {checked} frames on {} link types",
        all_links().len()
    );
}

#[test]
fn vlan_and_sll_headers_say_what_they_should() {
    let (c, s) = addrs(false);
    let ip = packet::tcp_packet(
        c,
        s,
        TcpFields {
            seq: 1,
            ack: 0,
            flags: 2,
            window: 1,
        },
        &[],
        &[],
        0,
    )
    .unwrap();
    let f = Link::Vlan {
        client: CLIENT_MAC,
        server: GATEWAY_MAC,
        vlan_id: 42,
    }
    .frame(&ip, true);
    let p = etherparse::SlicedPacket::from_ethernet(&f).unwrap();
    assert_eq!(p.vlan_ids().first().map(|v| v.value()), Some(42));
    let f = Link::Sll {
        client: CLIENT_MAC,
        server: GATEWAY_MAC,
    }
    .frame(&ip, false);
    let sll = etherparse::LinuxSllHeader::from_slice(&f).unwrap().0;
    assert_eq!(sll.sender_address_valid_length, 6);
    assert_eq!(&sll.sender_address[..6], &GATEWAY_MAC);
    // Frames towards the client on Ethernet are padded to the 60-byte minimum; IP says how much is real.
    let f = Link::default().frame(&ip, false);
    assert_eq!(f.len(), 60);
    assert!(matches!(dissect(1, &f), Seen::Tcp(t) if t.payload.is_empty()));
}

#[test]
fn pcapng_sections_interfaces_resolutions_and_secrets_read_back() {
    let (c, s) = addrs(false);
    let mut conv = TcpConversation::new(c, s).with_start(TS);
    conv.client_send(b"hello");
    let frames = conv.frames().unwrap();
    let raw = packet::tcp_packet(
        c,
        s,
        TcpFields {
            seq: 9,
            ack: 1,
            flags: 0x18,
            window: 5,
        },
        &[],
        b"raw",
        3,
    )
    .unwrap();
    let key_log = b"CLIENT_RANDOM 0102 0304\n";

    let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little, Some("first section")).unwrap();
    let eth = w.add_interface(Interface::new(1)).unwrap();
    let mut raw_if = Interface::new(101);
    raw_if.tsresol = Some(TsResolution::Decimal(9));
    raw_if.snaplen = 1000;
    raw_if.name = Some("tun0".into());
    let raw_id = w.add_interface(raw_if).unwrap();
    w.write_tls_key_log(key_log).unwrap();
    for f in &frames {
        w.write_packet(eth, f.ts_nanos, &f.data, f.orig_len, Some("a comment"))
            .unwrap();
    }
    w.write_packet(raw_id, TS, &raw, raw.len() as u32, None)
        .unwrap();
    w.write_simple_packet(&frames[0].data, frames[0].orig_len)
        .unwrap();
    w.start_section(ByteOrder::Big, None).unwrap();
    let mut sll2 = Interface::new(276);
    sll2.tsresol = Some(TsResolution::Binary(20));
    let id = w.add_interface(sll2).unwrap();
    assert_eq!(id, 0, "interface ids restart in a new section");
    let link = Link::Sll2 {
        client: CLIENT_MAC,
        server: GATEWAY_MAC,
        ifindex: 7,
    };
    let f2 = link.frame(&raw, true);
    w.write_packet(id, TS, &f2, f2.len() as u32, None).unwrap();
    assert_eq!(w.sections(), 2);
    let bytes = w.into_inner().unwrap();

    let sections = read_pcapng(&bytes);
    assert_eq!(sections.len(), 2);
    let s0 = &sections[0];
    assert!(!s0.big_endian);
    assert_eq!(s0.comment.as_deref(), Some("first section"));
    assert_eq!(
        s0.interfaces,
        vec![(1, 262_144, None), (101, 1000, Some(9))]
    );
    assert_eq!(s0.secrets, vec![(SECRETS_TLS_KEY_LOG, key_log.to_vec())]);
    assert_eq!(s0.packets.len(), frames.len() + 1);
    for ((if_id, p, comment), f) in s0.packets.iter().zip(&frames) {
        assert_eq!(*if_id, 0);
        assert_eq!(p.data, f.data);
        assert_eq!(
            p.ts_nanos,
            f.ts_nanos / 1000 * 1000,
            "microseconds when if_tsresol is absent"
        );
        assert_eq!(comment.as_deref(), Some("a comment"));
        dissect(p.linktype, &p.data);
    }
    let (if_id, p, _) = &s0.packets[frames.len()];
    assert_eq!(*if_id, 1);
    assert_eq!(p.ts_nanos, TS, "nanoseconds with if_tsresol 9");
    assert!(matches!(dissect(101, &p.data), Seen::Tcp(t) if t.payload == b"raw"));
    assert_eq!(s0.simple_packets.len(), 1);
    assert_eq!(s0.simple_packets[0].data, frames[0].data);

    let s1 = &sections[1];
    assert!(s1.big_endian);
    assert_eq!(s1.interfaces, vec![(276, 262_144, Some(0x80 | 20))]);
    let (_, p, _) = &s1.packets[0];
    assert!(
        (p.ts_nanos - TS).abs() < 1000,
        "2^-20 s resolution: {} vs {TS}",
        p.ts_nanos
    );
    assert!(matches!(dissect(276, &p.data), Seen::Tcp(t) if t.payload == b"raw"));
}

#[test]
fn snap_length_cuts_frames_in_both_formats() {
    let (c, s) = addrs(false);
    let mut conv = TcpConversation::new(c, s).with_start(TS).with_snaplen(80);
    conv.client_send(&[b'x'; 1000]);
    let frames = conv.frames().unwrap();
    assert_eq!(frames[0].data.len(), 80);
    assert_eq!(frames[0].orig_len, 1054);
    let (_, packets) = read_pcap(&write_pcap(
        &frames,
        PcapOptions {
            snaplen: 80,
            ..PcapOptions::default()
        },
    ));
    assert_eq!((packets[0].data.len(), packets[0].orig_len), (80, 1054));
    // The writer also cuts on its own snap length.
    let whole = TcpConversation::new(c, s).with_start(TS);
    let mut whole = whole;
    whole.client_send(&[b'y'; 500]);
    let frames = whole.frames().unwrap();
    let (_, packets) = read_pcap(&write_pcap(
        &frames,
        PcapOptions {
            snaplen: 64,
            ..PcapOptions::default()
        },
    ));
    assert_eq!((packets[0].data.len(), packets[0].orig_len), (64, 554));
    let mut iface = Interface::new(1);
    iface.snaplen = 64;
    let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little, None).unwrap();
    let id = w.add_interface(iface).unwrap();
    w.write_packet(id, TS, &frames[0].data, frames[0].orig_len, None)
        .unwrap();
    let sections = read_pcapng(&w.into_inner().unwrap());
    let (_, p, _) = &sections[0].packets[0];
    assert_eq!((p.data.len(), p.orig_len), (64, 554));
    // etherparse still reads the headers of a cut frame.
    let lax = etherparse::LaxSlicedPacket::from_ethernet(&p.data).unwrap();
    assert!(lax.net.is_some());
}

#[test]
fn tcp_edits_produce_the_edge_cases_they_promise() {
    let (c, s) = addrs(false);
    let data: Vec<u8> = (0..6000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut conv = TcpConversation::new(c, s)
        .with_start(TS)
        .with_isns(u32::MAX - 2000, 77)
        .with_mss(1000);
    conv.handshake();
    let r = conv.client_send(&data);
    assert_eq!(r.len(), 6);
    conv.swap(r.start + 1, r.start + 3).unwrap(); // out of order
    conv.retransmit(r.start, r.start + 2).unwrap(); // duplicate
    conv.server_send(b"ok");
    conv.close();
    let frames = conv.frames().unwrap();
    let segs: Vec<TcpSeen> = frames
        .iter()
        .map(|f| match dissect(1, &f.data) {
            Seen::Tcp(t) => t,
            other => panic!("{other:?}"),
        })
        .collect();
    // Sequence numbers wrapped past 2^32 inside the stream.
    assert!(segs
        .iter()
        .any(|t| t.src == c && t.seq > u32::MAX - 2000 && !t.payload.is_empty()));
    assert!(segs
        .iter()
        .any(|t| t.src == c && t.seq < 5000 && !t.payload.is_empty()));
    // The duplicate is there, and one segment arrives before an earlier one.
    let data_seqs: Vec<u32> = segs
        .iter()
        .filter(|t| t.src == c && !t.payload.is_empty())
        .map(|t| t.seq)
        .collect();
    assert_eq!(data_seqs.len(), 7);
    let mut uniq = data_seqs.clone();
    uniq.sort_unstable();
    uniq.dedup();
    assert_eq!(uniq.len(), 6);
    let rel: Vec<u32> = data_seqs
        .iter()
        .map(|s| s.wrapping_sub(u32::MAX - 1999))
        .collect();
    assert!(rel.windows(2).any(|w| w[1] < w[0]), "out of order: {rel:?}");
    let streams = tcp_streams(&segs);
    assert_eq!(streams[&(c, s)].client_to_server, data);
    assert!(segs.iter().filter(|t| t.fin).count() == 2);
    for w in frames.windows(2) {
        assert!(w[0].ts_nanos <= w[1].ts_nanos);
    }

    // An inconsistent overlap and a gap.
    let mut conv = TcpConversation::new(c, s).with_start(TS).with_mss(10);
    conv.handshake();
    let r = conv.client_send(b"0123456789abcdefghij0123456789");
    conv.overlap(r.start, 5, b"XXXXXXXXXX").unwrap();
    let dropped = conv.data_segments(true)[2];
    conv.drop_segment(dropped).unwrap();
    let segs: Vec<TcpSeen> = conv
        .frames()
        .unwrap()
        .iter()
        .map(|f| match dissect(1, &f.data) {
            Seen::Tcp(t) => t,
            other => panic!("{other:?}"),
        })
        .collect();
    let overlap = segs.iter().find(|t| t.payload == b"XXXXXXXXXX").unwrap();
    let first = segs.iter().find(|t| t.payload == b"0123456789").unwrap();
    assert_eq!(overlap.seq, first.seq.wrapping_add(5));
    let st = &tcp_streams(&segs)[&(c, s)];
    // First copy wins: bytes 5..10 stay "56789"; the overlap supplies 10..15, then the hole.
    assert_eq!(st.client_to_server, b"0123456789XXXXX");
    assert!(st.gap);

    // Resets and mid-stream starts.
    let mut conv = TcpConversation::new(c, s).with_start(TS);
    conv.server_send(b"mid-stream");
    conv.client_rst();
    let segs: Vec<Seen> = conv
        .frames()
        .unwrap()
        .iter()
        .map(|f| dissect(1, &f.data))
        .collect();
    assert!(matches!(&segs[0], Seen::Tcp(t) if !t.syn && t.payload == b"mid-stream"));
    assert!(matches!(segs.last(), Some(Seen::Tcp(t)) if t.rst));
}

#[test]
fn ipv4_fragments_reassemble_to_the_datagram() {
    let (c, s) = addrs(false);
    let payload: Vec<u8> = (0..4000u32).map(|i| (i * 7) as u8).collect();
    let ip = packet::udp_packet(c, s, &payload, 0x4242).unwrap();
    let frags = packet::fragment_ipv4(&ip, 3).unwrap();
    let mut joined = Vec::new();
    for (i, f) in frags.iter().enumerate() {
        let frame = Link::default().frame(f, true);
        match dissect(1, &frame) {
            Seen::Fragment {
                src,
                dst,
                ident,
                offset,
                more,
                payload,
            } => {
                assert_eq!((src, dst), (c.ip(), s.ip()));
                assert_eq!(ident, 0x4242);
                assert_eq!(usize::from(offset) * 8, joined.len());
                assert_eq!(more, i + 1 < frags.len());
                joined.extend_from_slice(&payload);
            }
            other => panic!("{other:?}"),
        }
    }
    // The reassembled datagram is a valid UDP datagram with the original payload.
    let (udp, rest) = etherparse::UdpHeader::from_slice(&joined).unwrap();
    assert_eq!(rest, payload.as_slice());
    let IpAddr::V4(src) = c.ip() else {
        unreachable!()
    };
    let IpAddr::V4(dst) = s.ip() else {
        unreachable!()
    };
    assert_eq!(
        udp.calc_checksum_ipv4_raw(src.octets(), dst.octets(), rest)
            .unwrap(),
        udp.checksum
    );
}

#[test]
fn fragmenting_garbage_never_panics() {
    let mut rng = phonehome_synth::prng::SplitMix64::new(99);
    let mut cases = 0;
    for len in 0..200usize {
        let mut buf = vec![0u8; len];
        rng.fill(&mut buf);
        if let Some(b) = buf.first_mut() {
            if len % 2 == 0 {
                *b = 0x45;
            }
        }
        for n in [0, 1, 3, 1000] {
            let _ = packet::fragment_ipv4(&buf, n);
            cases += 1;
        }
    }
    println!("fragmented {cases} garbage inputs");
}
