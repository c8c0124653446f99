//! The flow table end to end: real Ethernet/IPv4/IPv6/TCP/UDP bytes (built with etherparse or by
//! hand), parsed by phonehome-wire, fed to a `FlowTable`, recorded by a `StreamSink`.

mod recorder;

use etherparse::PacketBuilder;
use phonehome_flow::{ConnId, FlowTable, FrameMeta, MAX_SEGMENTS};
use phonehome_model::{Direction, Limits, Protocol, Timestamp, WarningCode};
use phonehome_wire::{linktype, parse_frame};
use proptest::prelude::*;
use recorder::{Piece, Recorder};
use std::net::SocketAddr;

type Host = ([u8; 4], u16);

const PHONE: Host = ([192, 168, 1, 10], 51000);
const WEB: Host = ([93, 184, 216, 34], 80);

fn addr(h: Host) -> SocketAddr {
    SocketAddr::from((h.0, h.1))
}

/// An Ethernet/IPv4/TCP frame. `flags` letters: S, A, F, R, P.
fn tcp(from: Host, to: Host, seq: u32, flags: &str, payload: &[u8]) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(from.0, to.0, 64)
        .tcp(from.1, to.1, seq, 65535);
    for c in flags.chars() {
        b = match c {
            'S' => b.syn(),
            'A' => b.ack(1),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            other => panic!("flag {other}"),
        };
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn ethernet(ethertype: u16, inner: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(inner);
    f
}

/// Frame `number`, `number` milliseconds after a fixed start.
fn meta(number: u64) -> FrameMeta {
    let start = Timestamp::from_secs_nanos(1_700_000_000, 0).unix_nanos();
    FrameMeta {
        number,
        time: Timestamp::from_unix_nanos(start + i128::from(number) * 1_000_000),
    }
}

/// Feeds Ethernet frames (1-based frame numbers, 1 ms apart), finishes, checks the sink contract.
fn run_with(limits: &Limits, frames: &[Vec<u8>]) -> Recorder {
    let mut table = FlowTable::new(limits);
    let mut rec = Recorder::default();
    for (i, f) in frames.iter().enumerate() {
        let ip = parse_frame(linktype::ETHERNET, f).unwrap();
        table.packet(meta(i as u64 + 1), ip, &mut rec);
        assert!(table.buffered_bytes() <= limits.max_total_buffer);
        assert!(table.entries() <= limits.max_flows.max(1));
    }
    table.finish(meta(frames.len() as u64 + 1), &mut rec);
    assert_eq!(
        (
            table.open_flows(),
            table.buffered_bytes(),
            table.fragment_bytes()
        ),
        (0, 0, 0)
    );
    rec.check_contract();
    rec
}

fn run(frames: &[Vec<u8>]) -> Recorder {
    run_with(&Limits::default(), frames)
}

const REQUEST: &[u8] = b"GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\nHost: example.com\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// SYN, SYN+ACK, ACK with the given ISNs (client data starts at `c + 1`, server's at `s + 1`).
fn handshake(c: u32, s: u32) -> Vec<Vec<u8>> {
    vec![
        tcp(PHONE, WEB, c, "S", b""),
        tcp(WEB, PHONE, s, "SA", b""),
        tcp(PHONE, WEB, c.wrapping_add(1), "A", b""),
    ]
}

#[test]
fn handshake_exchange_and_orderly_close() {
    let (c, s) = (1000u32, 5000u32);
    let mut frames = handshake(c, s);
    frames.push(tcp(PHONE, WEB, c + 1, "PA", &REQUEST[..20])); // 4
    frames.push(tcp(PHONE, WEB, c + 21, "PA", &REQUEST[20..])); // 5
    frames.push(tcp(WEB, PHONE, s + 1, "PA", RESPONSE)); // 6
    frames.push(tcp(WEB, PHONE, s + 1 + RESPONSE.len() as u32, "FA", b"")); // 7
    frames.push(tcp(PHONE, WEB, c + 1 + REQUEST.len() as u32, "FA", b"")); // 8
    frames.push(tcp(WEB, PHONE, s + 2 + RESPONSE.len() as u32, "A", b"")); // 9: last ACK, after close
    let rec = run(&frames);
    let conns = rec.conns();
    assert_eq!(conns.len(), 1);
    let conn = &conns[0];
    assert_eq!(
        (conn.protocol, conn.client, conn.server, conn.saw_syn),
        (Protocol::Tcp, addr(PHONE), addr(WEB), true)
    );
    assert_eq!(conn.first_frame.number, 1);
    assert_eq!(rec.stream(conn.id, Direction::Request), REQUEST);
    assert_eq!(rec.stream(conn.id, Direction::Response), RESPONSE);
    assert_eq!(
        rec.ends(conn.id),
        vec![(Direction::Response, 7), (Direction::Request, 8)]
    );
    let stats = rec.stats(conn.id);
    assert_eq!(
        (stats.bytes_client, stats.bytes_server),
        (REQUEST.len() as u64, RESPONSE.len() as u64)
    );
    assert_eq!((stats.packets, stats.gaps), (8, 0));
    assert_eq!(stats.first_time, meta(1).time);
    assert_eq!(stats.last_time, meta(8).time);
    assert!(rec.all_warnings().is_empty(), "{:?}", rec.all_warnings());
    // Data is attributed to the frame that carried it.
    assert!(rec.events.contains(&recorder::Event::Data(
        conn.id,
        Direction::Request,
        REQUEST[20..].to_vec(),
        5
    )));
}

#[test]
fn hole_filled_late_is_attributed_to_the_filling_frame() {
    let c = 77u32;
    let mut frames = handshake(c, 9);
    frames.push(tcp(PHONE, WEB, c + 21, "PA", &REQUEST[20..])); // 4: held
    frames.push(tcp(PHONE, WEB, c + 1, "PA", &REQUEST[..20])); // 5: fills
    let rec = run(&frames);
    let id = rec.conns()[0].id;
    assert_eq!(rec.stream(id, Direction::Request), REQUEST);
    let data_frames: Vec<u64> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            recorder::Event::Data(_, _, _, f) => Some(*f),
            _ => None,
        })
        .collect();
    assert!(data_frames.iter().all(|f| *f == 5), "{data_frames:?}");
}

#[test]
fn isn_near_the_wrap_crosses_zero() {
    let c = u32::MAX - 10;
    let mut frames = handshake(c, u32::MAX);
    let cuts = [0usize, 7, 15, 31, REQUEST.len()];
    let mut data: Vec<Vec<u8>> = cuts
        .windows(2)
        .map(|w| {
            tcp(
                PHONE,
                WEB,
                c.wrapping_add(1).wrapping_add(w[0] as u32),
                "PA",
                &REQUEST[w[0]..w[1]],
            )
        })
        .collect();
    data.reverse();
    frames.extend(data);
    frames.push(tcp(WEB, PHONE, 0, "PA", RESPONSE)); // server ISN u32::MAX: data at 0
    let rec = run(&frames);
    let id = rec.conns()[0].id;
    assert_eq!(rec.stream(id, Direction::Request), REQUEST);
    assert_eq!(rec.stream(id, Direction::Response), RESPONSE);
    assert!(rec.all_warnings().is_empty());
}

#[test]
fn mid_stream_capture_guesses_roles() {
    // First packet seen is the server's reply: the port-80 side is still the server.
    let frames = vec![
        tcp(WEB, PHONE, 40_000, "PA", RESPONSE),
        tcp(PHONE, WEB, 90_000, "PA", REQUEST),
        tcp(WEB, PHONE, 40_000 + RESPONSE.len() as u32, "PA", b"more"),
    ];
    let rec = run(&frames);
    let conn = &rec.conns()[0];
    assert_eq!(
        (conn.client, conn.server, conn.saw_syn),
        (addr(PHONE), addr(WEB), false)
    );
    assert_eq!(rec.stream(conn.id, Direction::Request), REQUEST);
    assert_eq!(
        rec.stream(conn.id, Direction::Response),
        [RESPONSE, b"more"].concat()
    );

    // Two unprivileged ports: the first sender is the client. 5228 (push service) is a server port.
    let a: Host = ([10, 0, 0, 1], 40_001);
    let b: Host = ([10, 0, 0, 2], 50_001);
    let push: Host = ([10, 0, 0, 3], 5228);
    let rec = run(&[tcp(b, a, 1, "PA", b"x"), tcp(push, a, 1, "PA", b"y")]);
    let conns = rec.conns();
    assert_eq!((conns[0].client, conns[0].server), (addr(b), addr(a)));
    assert_eq!((conns[1].client, conns[1].server), (addr(a), addr(push)));

    // Pure ACKs do not open a connection.
    let rec = run(&[tcp(PHONE, WEB, 5, "A", b""), tcp(WEB, PHONE, 5, "R", b"")]);
    assert!(rec.conns().is_empty());
}

#[test]
fn rst_closes_and_late_packets_are_dropped() {
    let c = 100u32;
    let mut frames = handshake(c, 200);
    frames.push(tcp(PHONE, WEB, c + 1, "PA", &REQUEST[..10])); // 4
    frames.push(tcp(WEB, PHONE, 201, "RA", b"")); // 5
    frames.push(tcp(PHONE, WEB, c + 11, "PA", &REQUEST[10..])); // 6: racing the RST
    frames.push(tcp(PHONE, WEB, 7777, "S", b"")); // 7: a new connection on the same 4-tuple
    frames.push(tcp(PHONE, WEB, 7778, "PA", b"again")); // 8
    let rec = run(&frames);
    let conns = rec.conns();
    assert_eq!(conns.len(), 2);
    assert_ne!(conns[0].id, conns[1].id);
    assert_eq!(rec.stream(conns[0].id, Direction::Request), &REQUEST[..10]);
    assert_eq!(
        rec.ends(conns[0].id),
        vec![(Direction::Request, 5), (Direction::Response, 5)]
    );
    assert_eq!(rec.stream(conns[1].id, Direction::Request), b"again");
    assert_eq!(conns[1].first_frame.number, 7);
    // The first connection was closed at the RST, before the second was opened.
    let close_at = rec
        .events
        .iter()
        .position(|e| matches!(e, recorder::Event::Close(id, _) if *id == conns[0].id));
    let open_at = rec
        .events
        .iter()
        .position(|e| matches!(e, recorder::Event::Open(i) if i.id == conns[1].id));
    assert!(close_at < open_at);
}

#[test]
fn port_reuse_with_a_new_isn_opens_a_new_connection() {
    let mut frames = handshake(1, 2);
    frames.push(tcp(PHONE, WEB, 2, "PA", b"first")); // 4
    frames.push(tcp(PHONE, WEB, 1, "S", b"")); // 5: retransmitted SYN, same ISN: same connection
    frames.push(tcp(PHONE, WEB, 50_000, "S", b"")); // 6: new ISN, no FIN: reuse
    frames.push(tcp(WEB, PHONE, 60_000, "SA", b"")); // 7
    frames.push(tcp(PHONE, WEB, 50_001, "PA", b"second")); // 8
    let rec = run(&frames);
    let conns = rec.conns();
    assert_eq!(conns.len(), 2, "{:?}", rec.events);
    assert_eq!(rec.stream(conns[0].id, Direction::Request), b"first");
    assert_eq!(rec.stream(conns[1].id, Direction::Request), b"second");
    assert_eq!(conns[1].first_frame.number, 6);
    assert!(rec.all_warnings().is_empty());
}

#[test]
fn snap_length_cut_is_delivered_then_a_gap() {
    let c = 0u32;
    let mut frames = handshake(c, 0);
    let body = vec![b'a'; 100];
    let mut cut = tcp(PHONE, WEB, c + 1, "PA", &body);
    cut.truncate(14 + 20 + 20 + 30); // 30 bytes of payload captured, 70 missing
    frames.push(cut);
    frames.push(tcp(PHONE, WEB, c + 101, "PA", b"tail"));
    let rec = run(&frames);
    let id = rec.conns()[0].id;
    assert_eq!(
        rec.pieces(id, Direction::Request),
        vec![
            Piece::Bytes(vec![b'a'; 30]),
            Piece::Gap(70),
            Piece::Bytes(b"tail".to_vec())
        ]
    );
    let stats = rec.stats(id);
    assert_eq!((stats.gaps, stats.bytes_client), (1, 104));

    // Cut inside the TCP header: a truncation warning, nothing delivered.
    let mut cut = tcp(PHONE, WEB, 1, "PA", b"payload");
    cut.truncate(14 + 20 + 10);
    let rec = run(&[cut]);
    assert!(rec.conns().is_empty());
    assert_eq!(rec.warnings(WarningCode::Truncated).len(), 1);
    assert_eq!(rec.warnings(WarningCode::Truncated)[0].0, 1);
}

#[test]
fn conflicting_overlap_warns_with_the_frame_and_keeps_the_first_copy() {
    let c = 10u32;
    let mut frames = handshake(c, 0);
    frames.push(tcp(PHONE, WEB, c + 11, "PA", b"ABCDEFGHIJ")); // 4: held (offsets 10..20)
    frames.push(tcp(PHONE, WEB, c + 16, "PA", b"xxxxxKLMNO")); // 5: 15..20 conflict
    frames.push(tcp(PHONE, WEB, c + 1, "PA", b"0123456789")); // 6: fills
    frames.push(tcp(PHONE, WEB, c + 1, "PA", b"0123456789")); // 7: exact retransmission
    let rec = run(&frames);
    let id = rec.conns()[0].id;
    assert_eq!(
        rec.stream(id, Direction::Request),
        b"0123456789ABCDEFGHIJKLMNO"
    );
    let overlaps = rec.warnings(WarningCode::Overlap);
    assert_eq!(overlaps.len(), 1, "{overlaps:?}");
    assert_eq!(overlaps[0].0, 5);
    assert!(overlaps[0].1.contains("frame 4"), "{}", overlaps[0].1);
    assert_eq!(rec.all_warnings().len(), 1);
}

#[test]
fn flow_buffer_cap_declares_a_gap_and_skips_ahead() {
    let limits = Limits {
        max_flow_buffer: 1000,
        ..Limits::default()
    };
    let c = 0u32;
    let mut frames = handshake(c, 0);
    // The first 100 bytes are lost; 20 segments of 100 bytes follow.
    for i in 1..=20u32 {
        frames.push(tcp(
            PHONE,
            WEB,
            c + 1 + i * 100,
            "PA",
            &[b'0' + (i % 10) as u8; 100],
        ));
    }
    let rec = run_with(&limits, &frames);
    let id = rec.conns()[0].id;
    let pieces = rec.pieces(id, Direction::Request);
    assert_eq!(pieces.first(), Some(&Piece::Gap(100)));
    let expected: Vec<u8> = (1..=20u32)
        .flat_map(|i| [b'0' + (i % 10) as u8; 100])
        .collect();
    assert_eq!(pieces.get(1), Some(&Piece::Bytes(expected)));
    assert_eq!(rec.warnings(WarningCode::Limit).len(), 1);
}

#[test]
fn total_buffer_cap_applies_across_connections() {
    let limits = Limits {
        max_total_buffer: 1000,
        ..Limits::default()
    };
    let other: Host = ([192, 168, 1, 10], 51001);
    let mut frames = handshake(0, 0);
    frames.push(tcp(other, WEB, 0, "S", b""));
    frames.push(tcp(PHONE, WEB, 101, "PA", &[b'p'; 600])); // held by the first connection
    frames.push(tcp(other, WEB, 101, "PA", &[b'o'; 600])); // 1200 > 1000: this one skips its hole
    let rec = run_with(&limits, &frames);
    let conns = rec.conns();
    assert_eq!(rec.warnings(WarningCode::Limit).len(), 1);
    assert_eq!(rec.warnings(WarningCode::Limit)[0].0, 6);
    assert_eq!(
        rec.pieces(conns[1].id, Direction::Request),
        vec![Piece::Gap(100), Piece::Bytes(vec![b'o'; 600])]
    );
    // The first connection's hole is only declared at the end of the input.
    assert_eq!(
        rec.pieces(conns[0].id, Direction::Request),
        vec![Piece::Gap(100), Piece::Bytes(vec![b'p'; 600])]
    );
    let gap_frame = rec.events.iter().find_map(|e| match e {
        recorder::Event::Gap(id, _, _, f) if *id == conns[0].id => Some(*f),
        _ => None,
    });
    assert_eq!(gap_frame, Some(frames.len() as u64 + 1));
}

#[test]
fn least_recently_active_flow_is_evicted() {
    let limits = Limits {
        max_flows: 2,
        ..Limits::default()
    };
    let hosts: Vec<Host> = (0..3).map(|i| ([10, 0, 0, 1], 40_000 + i)).collect();
    let frames = vec![
        tcp(hosts[0], WEB, 1, "PA", b"a0"),
        tcp(hosts[1], WEB, 1, "PA", b"b0"),
        tcp(hosts[0], WEB, 3, "PA", b"a1"), // 0 is now more recent than 1
        tcp(hosts[2], WEB, 1, "PA", b"c0"), // evicts 1
        tcp(hosts[1], WEB, 3, "PA", b"b1"), // a new (mid-stream) connection; evicts 0
    ];
    let rec = run_with(&limits, &frames);
    let conns = rec.conns();
    assert_eq!(conns.len(), 4);
    let closes: Vec<ConnId> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            recorder::Event::Close(id, _) => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(
        closes,
        vec![conns[1].id, conns[0].id, conns[2].id, conns[3].id]
    );
    assert_eq!(rec.stream(conns[0].id, Direction::Request), b"a0a1");
    assert_eq!(rec.warnings(WarningCode::Limit).len(), 1);
}

#[test]
fn syn_data_fin_then_data_and_keepalives() {
    let c = 500u32;
    let frames = vec![
        tcp(PHONE, WEB, c, "S", b"hello "), // 1: data in the SYN (TCP Fast Open)
        tcp(WEB, PHONE, 9, "SA", b""),
        tcp(PHONE, WEB, c + 7, "PA", b"world"),
        tcp(PHONE, WEB, c + 11, "A", b"d"), // 4: keep-alive (seq - 1, one byte)
        tcp(PHONE, WEB, c + 12, "FA", b""), // 5
        tcp(PHONE, WEB, c + 12, "PA", b"after fin"), // 6
    ];
    let rec = run(&frames);
    let id = rec.conns()[0].id;
    assert_eq!(rec.stream(id, Direction::Request), b"hello world");
    assert_eq!(rec.ends(id)[0], (Direction::Request, 5));
    let malformed = rec.warnings(WarningCode::Malformed);
    assert_eq!(malformed.len(), 1, "{malformed:?}");
    assert_eq!(malformed[0].0, 6);
    assert!(
        malformed[0].1.contains("after the FIN"),
        "{}",
        malformed[0].1
    );
}

#[test]
fn malformed_tcp_header_warns() {
    let mut bad = tcp(PHONE, WEB, 1, "PA", b"x");
    bad[14 + 20 + 12] = 0x40; // data offset 4
    let mut huge = tcp(PHONE, WEB, 1, "PA", b"x");
    huge[14 + 20 + 12] = 0xF0; // data offset 15 (60 bytes) in a 21-byte segment
    let rec = run(&[bad, huge]);
    assert!(rec.conns().is_empty());
    let warnings = rec.warnings(WarningCode::Malformed);
    assert_eq!(warnings.iter().map(|w| w.0).collect::<Vec<_>>(), vec![1, 2]);
    assert!(warnings[0].1.contains("data offset 4"), "{}", warnings[0].1);
}

/// IPv4 fragments of `transport` (bytes after the IPv4 header), `chunk` bytes each.
fn ipv4_fragments(
    from: [u8; 4],
    to: [u8; 4],
    protocol: u8,
    id: u16,
    transport: &[u8],
    chunk: usize,
) -> Vec<Vec<u8>> {
    transport
        .chunks(chunk)
        .enumerate()
        .map(|(i, part)| {
            let offset = i * chunk;
            let more = offset + part.len() < transport.len();
            let flags_offset = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
            let mut ip = vec![0x45, 0];
            ip.extend_from_slice(&((20 + part.len()) as u16).to_be_bytes());
            ip.extend_from_slice(&id.to_be_bytes());
            ip.extend_from_slice(&flags_offset.to_be_bytes());
            ip.extend_from_slice(&[64, protocol, 0, 0]);
            ip.extend_from_slice(&from);
            ip.extend_from_slice(&to);
            ip.extend_from_slice(part);
            ethernet(0x0800, &ip)
        })
        .collect()
}

/// An IPv4 packet's bytes after its 20-byte header.
fn ipv4_transport(packet: Vec<u8>) -> Vec<u8> {
    packet[14 + 20..].to_vec()
}

#[test]
fn ipv4_fragments_in_any_order() {
    let dns: Host = ([8, 8, 8, 8], 53);
    let payload: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let mut udp = Vec::new();
    PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4(PHONE.0, dns.0, 64)
        .udp(PHONE.1, dns.1)
        .write(&mut udp, &payload)
        .unwrap();
    let fragments = ipv4_fragments(PHONE.0, dns.0, 17, 0x4242, &ipv4_transport(udp), 1480);
    assert_eq!(fragments.len(), 3);
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let frames: Vec<Vec<u8>> = order.iter().map(|i| fragments[*i].clone()).collect();
        let rec = run(&frames);
        let conns = rec.conns();
        assert_eq!(conns.len(), 1);
        assert_eq!(
            (conns[0].protocol, conns[0].client, conns[0].server),
            (Protocol::Udp, addr(PHONE), addr(dns))
        );
        assert_eq!(
            rec.datagrams(conns[0].id, Direction::Request),
            vec![payload.clone()]
        );
        assert_eq!(
            conns[0].first_frame.number, 3,
            "opened by the completing fragment"
        );
        assert!(rec.all_warnings().is_empty());
    }

    // A TCP segment split in 8-byte fragments, shuffled, inside a connection.
    let mut frames = handshake(0, 0);
    let segment = ipv4_transport(tcp(PHONE, WEB, 1, "PA", REQUEST));
    let mut parts = ipv4_fragments(PHONE.0, WEB.0, 6, 7, &segment, 8);
    parts.reverse();
    parts.swap(1, 3);
    frames.extend(parts);
    let rec = run(&frames);
    assert_eq!(rec.stream(rec.conns()[0].id, Direction::Request), REQUEST);
}

#[test]
fn ipv4_overlapping_fragments_are_dropped() {
    let dns: Host = ([8, 8, 8, 8], 53);
    let mut udp = Vec::new();
    PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4(PHONE.0, dns.0, 64)
        .udp(PHONE.1, dns.1)
        .write(&mut udp, &[7; 64])
        .unwrap();
    let transport = ipv4_transport(udp);
    let mut frames = ipv4_fragments(PHONE.0, dns.0, 17, 1, &transport, 40);
    // A forged fragment at offset 16 overlapping the first one.
    let forged = ipv4_fragments(PHONE.0, dns.0, 17, 1, &transport, 16);
    frames.insert(1, forged[1].clone());
    let rec = run(&frames);
    assert!(rec.conns().is_empty());
    let overlaps = rec.warnings(WarningCode::Overlap);
    assert_eq!(overlaps.len(), 1);
    assert_eq!(overlaps[0].0, 2);
}

#[test]
fn ipv6_fragment_header_and_udp_roles() {
    let client: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let server: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let payload: Vec<u8> = (0..2000u32).map(|i| (i % 199) as u8).collect();
    let mut udp = Vec::new();
    PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv6(client, server, 64)
        .udp(40_000, 53)
        .write(&mut udp, &payload)
        .unwrap();
    let transport = &udp[14 + 40..];
    let frames: Vec<Vec<u8>> = transport
        .chunks(1232)
        .enumerate()
        .map(|(i, part)| {
            let offset = i * 1232;
            let more = offset + part.len() < transport.len();
            let mut ip = vec![0x60, 0, 0, 0];
            ip.extend_from_slice(&((8 + part.len()) as u16).to_be_bytes());
            ip.extend_from_slice(&[44, 64]);
            ip.extend_from_slice(&client);
            ip.extend_from_slice(&server);
            ip.extend_from_slice(&[17, 0]);
            ip.extend_from_slice(&((offset as u16) | u16::from(more)).to_be_bytes());
            ip.extend_from_slice(&0xCAFE_F00Du32.to_be_bytes());
            ip.extend_from_slice(part);
            ethernet(0x86DD, &ip)
        })
        .rev()
        .collect();
    assert_eq!(frames.len(), 2);
    // The server answers (unfragmented); port 53 makes it the server whoever spoke first.
    let mut answer = Vec::new();
    PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv6(server, client, 64)
        .udp(53, 40_000)
        .write(&mut answer, b"answer")
        .unwrap();
    let mut all = vec![answer];
    all.extend(frames);
    let rec = run(&all);
    let conns = rec.conns();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].server, SocketAddr::from((server, 53)));
    assert_eq!(
        rec.datagrams(conns[0].id, Direction::Request),
        vec![payload]
    );
    assert_eq!(
        rec.datagrams(conns[0].id, Direction::Response),
        vec![b"answer".to_vec()]
    );
    let stats = rec.stats(conns[0].id);
    assert_eq!(
        (stats.packets, stats.bytes_client, stats.bytes_server),
        (2, 2000, 6)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Client segments in any order, with duplicates: the same request stream every time.
    #[test]
    fn segment_permutations_give_identical_streams(
        cuts in proptest::collection::vec(0usize..REQUEST.len(), 0..8),
        duplicates in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        shuffle in Just(()).prop_perturb(|_, mut rng| rng.next_u64()),
        isn in prop_oneof![Just(u32::MAX - 10), any::<u32>()],
    ) {
        let mut bounds = cuts.clone();
        bounds.extend([0, REQUEST.len()]);
        bounds.sort_unstable();
        bounds.dedup();
        let mut segs: Vec<Vec<u8>> = bounds
            .windows(2)
            .map(|w| tcp(PHONE, WEB, isn.wrapping_add(1).wrapping_add(w[0] as u32), "PA", &REQUEST[w[0]..w[1]]))
            .collect();
        for d in &duplicates {
            let copy = segs[d.index(segs.len())].clone();
            segs.push(copy);
        }
        let mut state = shuffle | 1;
        for i in (1..segs.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            segs.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut frames = handshake(isn, 1);
        frames.extend(segs);
        frames.push(tcp(PHONE, WEB, isn.wrapping_add(1).wrapping_add(REQUEST.len() as u32), "FA", b""));
        let rec = run(&frames);
        let id = rec.conns()[0].id;
        prop_assert_eq!(rec.pieces(id, Direction::Request), vec![Piece::Bytes(REQUEST.to_vec())]);
        prop_assert!(rec.all_warnings().is_empty());
    }

    /// Random segments over a few 4-tuples with small caps: bounded, never panics, contract kept.
    #[test]
    fn hostile_traffic_stays_bounded(
        packets in proptest::collection::vec((0u16..4, any::<bool>(), 0u32..5000, 0u8..32, 0usize..400), 0..150),
    ) {
        let limits = Limits { max_flow_buffer: 700, max_total_buffer: 1000, max_flows: 3, ..Limits::default() };
        let frames: Vec<Vec<u8>> = packets
            .iter()
            .map(|(port, reverse, seq, flags, len)| {
                let a: Host = ([10, 0, 0, 1], 40_000 + port);
                let (from, to) = if *reverse { (WEB, a) } else { (a, WEB) };
                let letters: String = [(1, 'F'), (2, 'S'), (4, 'R'), (16, 'A')]
                    .iter()
                    .filter(|(bit, _)| flags & bit != 0)
                    .map(|(_, c)| *c)
                    .collect();
                tcp(from, to, *seq, &letters, &vec![0x41; *len])
            })
            .collect();
        // run_with asserts the caps after every packet and the sink contract at the end.
        let rec = run_with(&limits, &frames);
        for conn in rec.conns() {
            let _ = rec.stats(conn.id);
        }
    }
}

#[test]
fn held_segments_per_direction_are_capped() {
    // Every other byte of a stream, each in its own packet: more held ranges than MAX_SEGMENTS.
    let mut frames = handshake(0, 0);
    for i in 0..(MAX_SEGMENTS as u32 + 5) {
        frames.push(tcp(PHONE, WEB, 1 + 1 + 2 * i, "PA", b"x"));
    }
    let rec = run(&frames);
    assert_eq!(rec.warnings(WarningCode::Limit).len(), 1);
    let id = rec.conns()[0].id;
    assert_eq!(rec.stream(id, Direction::Request).len(), MAX_SEGMENTS + 5);
}

#[test]
fn udp_snap_length_cut_warns_once_per_flow() {
    let dns: Host = ([8, 8, 8, 8], 53);
    let mut frames = Vec::new();
    for _ in 0..3 {
        let mut udp = Vec::new();
        PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4(PHONE.0, dns.0, 64)
            .udp(PHONE.1, dns.1)
            .write(&mut udp, &[9; 500])
            .unwrap();
        udp.truncate(14 + 20 + 8 + 100);
        frames.push(udp);
    }
    let rec = run(&frames);
    let id = rec.conns()[0].id;
    assert_eq!(rec.datagrams(id, Direction::Request), vec![vec![9; 100]; 3]);
    assert_eq!(rec.warnings(WarningCode::Truncated).len(), 1);
    assert_eq!(rec.warnings(WarningCode::Truncated)[0].0, 1);
}
