//! `read_streams` on a pcap written here byte by byte (raw IPv4, linktype 101), and on real
//! captures from the shared test data.

use phonehome_model::Direction::{Request as C, Response as S};
use phonehome_testkit::{read_streams, CaptureStreams, StreamEvent};
use std::path::PathBuf;

/// TCP flags.
const SYN: u8 = 0x02;
const SYN_ACK: u8 = 0x12;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;

/// An IPv4 header for `len` payload bytes of `protocol` from `src` to `dst` (10.0.0.x).
fn ipv4(protocol: u8, src: u8, dst: u8, len: usize) -> Vec<u8> {
    let total = u16::try_from(20 + len).unwrap().to_be_bytes();
    let mut p = vec![
        0x45, 0, total[0], total[1], 0, 0, 0x40, 0, 64, protocol, 0, 0,
    ];
    p.extend_from_slice(&[10, 0, 0, src, 10, 0, 0, dst]);
    p
}

/// IPv4 + TCP from 10.0.0.`src`:`sport` to 10.0.0.`dst`:`dport`.
fn tcp(src: (u8, u16), dst: (u8, u16), seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = ipv4(6, src.0, dst.0, 20 + payload.len());
    p.extend_from_slice(&src.1.to_be_bytes());
    p.extend_from_slice(&dst.1.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 1, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}

/// IPv4 + UDP from 10.0.0.`src`:`sport` to 10.0.0.`dst`:`dport`.
fn udp(src: (u8, u16), dst: (u8, u16), payload: &[u8]) -> Vec<u8> {
    let mut p = ipv4(17, src.0, dst.0, 8 + payload.len());
    p.extend_from_slice(&src.1.to_be_bytes());
    p.extend_from_slice(&dst.1.to_be_bytes());
    p.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

/// A little-endian pcap file (raw IP) holding `packets`, one second apart.
fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&101u32.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        let len = u32::try_from(p.len()).unwrap().to_le_bytes();
        f.extend_from_slice(&u32::try_from(i + 1).unwrap().to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&len);
        f.extend_from_slice(&len);
        f.extend_from_slice(p);
    }
    f
}

/// Writes `packets` as a pcap under the temporary directory and reads it back.
fn streams_of(name: &str, packets: &[Vec<u8>]) -> CaptureStreams {
    let path: PathBuf = std::env::temp_dir().join(format!(
        "phonehome-testkit-{}-{name}.pcap",
        std::process::id()
    ));
    std::fs::write(&path, pcap(packets)).unwrap();
    let streams = read_streams(&path);
    std::fs::remove_file(&path).unwrap();
    streams
}

const A: (u8, u16) = (1, 40000);
const B: (u8, u16) = (1, 40001);
const SERVER: (u8, u16) = (2, 80);

/// A segment that arrives ahead of its turn is held until the hole before it fills; both
/// directions keep their order and frame numbers.
#[test]
fn out_of_order_bytes_come_in_order_with_the_filling_frame() {
    let s = streams_of(
        "ooo",
        &[
            tcp(A, SERVER, 999, SYN, b""),
            tcp(SERVER, A, 4999, SYN_ACK, b""),
            tcp(A, SERVER, 1005, PSH_ACK, b" HTTP/1.1\r\n\r\n"),
            tcp(A, SERVER, 1000, PSH_ACK, b"GET /"),
            tcp(SERVER, A, 5000, PSH_ACK, b"HTTP/1.1 204 No Content\r\n\r\n"),
            tcp(A, SERVER, 1018, FIN_ACK, b""),
            tcp(SERVER, A, 5027, FIN_ACK, b""),
        ],
    );
    assert_eq!(s.tcp.len(), 1);
    assert!(s.udp.is_empty() && s.secrets.is_empty());
    let c = &s.tcp[0];
    assert_eq!(
        (c.client.to_string(), c.server.to_string()),
        ("10.0.0.1:40000".into(), "10.0.0.2:80".into())
    );
    assert!(c.saw_syn);
    assert_eq!(c.first_frame, 1);
    assert_eq!(c.client_bytes, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(c.server_bytes, b"HTTP/1.1 204 No Content\r\n\r\n");
    // The client's bytes became available with frame 4 (which filled the hole before frame 3's).
    let client_frames: Vec<u64> = c
        .events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Data(C, _, f) => Some(*f),
            _ => None,
        })
        .collect();
    assert!(
        !client_frames.is_empty() && client_frames.iter().all(|f| *f == 4),
        "{:?}",
        c.events
    );
    // Both directions interleave as delivered: client data, server data, then the two FINs.
    let last_client = c
        .events
        .iter()
        .rposition(|e| matches!(e, StreamEvent::Data(C, ..)))
        .unwrap();
    let server = c
        .events
        .iter()
        .position(|e| matches!(e, StreamEvent::Data(S, ..)))
        .unwrap();
    assert!(last_client < server, "{:?}", c.events);
    assert_eq!(
        c.events[c.events.len() - 2..],
        [StreamEvent::End(C, 6), StreamEvent::End(S, 7)]
    );
    assert_eq!(s.tcp_order, vec![0; c.events.len()]);
    assert_eq!(s.tcp_closed, [0]);
}

/// Two interleaved connections (one with a hole never filled) and a UDP flow: the order across
/// connections, the gap and the frame numbers survive, and the capture ends every direction.
#[test]
fn interleaved_connections_gaps_and_datagrams() {
    let dns = (1, 5353);
    let resolver = (2, 53);
    let s = streams_of(
        "interleaved",
        &[
            tcp(A, SERVER, 999, SYN, b""),         // 1
            tcp(B, SERVER, 0, SYN, b""),           // 2
            tcp(A, SERVER, 1000, PSH_ACK, b"one"), // 3
            udp(dns, resolver, b"q"),              // 4
            tcp(B, SERVER, 11, PSH_ACK, b"later"), // 5: 10 bytes after the SYN never come
            tcp(A, SERVER, 1003, PSH_ACK, b"two"), // 6
            udp(resolver, dns, b"r"),              // 7
        ],
    );
    assert_eq!(s.tcp.len(), 2);
    let (a, b) = (&s.tcp[0], &s.tcp[1]);
    assert_eq!((a.client.port(), b.client.port()), (40000, 40001));
    assert_eq!((a.first_frame, b.first_frame), (1, 2));
    assert_eq!(a.client_bytes, b"onetwo");
    assert_eq!(
        a.events,
        [
            StreamEvent::Data(C, b"one".to_vec(), 3),
            StreamEvent::Data(C, b"two".to_vec(), 6),
            StreamEvent::End(C, 7),
            StreamEvent::End(S, 7),
        ]
    );
    // The hole is reported when the input ends, then what came after it.
    assert_eq!(b.client_bytes, b"later");
    assert_eq!(
        b.events[..2],
        [
            StreamEvent::Gap(C, 10, 7),
            StreamEvent::Data(C, b"later".to_vec(), 7),
        ]
    );
    assert!(b.server_bytes.is_empty());
    // Replayed across connections in delivery order: A's two pieces come before anything of B.
    let replay: Vec<(usize, &StreamEvent)> = s.tcp_events_in_order().collect();
    assert_eq!(replay.len(), a.events.len() + b.events.len());
    assert_eq!(replay[..2], [(0, &a.events[0]), (0, &a.events[1])]);
    for i in 0..2 {
        let mine: Vec<&StreamEvent> = replay.iter().filter(|r| r.0 == i).map(|r| r.1).collect();
        assert_eq!(mine, s.tcp[i].events.iter().collect::<Vec<_>>());
    }
    let mut closed = s.tcp_closed.clone();
    closed.sort_unstable();
    assert_eq!(closed, [0, 1]);
    // The UDP flow: the resolver on port 53 is the server whatever sent first.
    assert_eq!(s.udp.len(), 1);
    let u = &s.udp[0];
    assert_eq!(
        (u.client.port(), u.server.port(), u.first_frame),
        (5353, 53, 4)
    );
    assert_eq!(u.datagrams, [(C, b"q".to_vec(), 4), (S, b"r".to_vec(), 7)]);
}

#[test]
#[should_panic(expected = "phonehome-testkit-garbage")]
fn an_unreadable_capture_panics_naming_it() {
    let path =
        std::env::temp_dir().join(format!("phonehome-testkit-garbage-{}", std::process::id()));
    std::fs::write(&path, b"this is not a capture file at all").unwrap();
    let result = std::panic::catch_unwind(|| read_streams(&path));
    std::fs::remove_file(&path).unwrap();
    std::panic::resume_unwind(result.unwrap_err());
}

/// A real pcapng with a Decryption Secrets Block: the key log comes out in `secrets`, and the TLS
/// connection's streams start with the handshake records.
#[test]
fn secrets_and_tls_streams_of_a_real_capture() {
    let Some(path) = phonehome_testkit::external("wireshark/test/captures/tls12-dsb.pcapng") else {
        return;
    };
    let s = read_streams(&path);
    assert!(!s.secrets.is_empty());
    for (kind, data) in &s.secrets {
        assert_eq!(*kind, phonehome_ingest::SECRETS_TLS_KEY_LOG);
        assert!(String::from_utf8_lossy(data).contains("CLIENT_RANDOM"));
    }
    assert!(!s.tcp.is_empty());
    for c in &s.tcp {
        // A TLS handshake record (content type 22) opens both directions.
        assert_eq!(c.client_bytes.first(), Some(&22), "{}", c.client);
        assert_eq!(c.server_bytes.first(), Some(&22), "{}", c.client);
    }
    println!(
        "tls12-dsb: {} TCP connections, {} secrets blocks",
        s.tcp.len(),
        s.secrets.len()
    );
}

/// `read_ip_packets`: every frame that parses as IP, with its frame number, in file order; a
/// frame that is not IP is skipped, and fragments come as captured (no reassembly).
#[test]
fn ip_packets_one_frame_at_a_time() {
    let mut fragment = udp((1, 5353), (2, 53), b"first part");
    fragment[6] = 0x20; // More Fragments
    let path = std::env::temp_dir().join(format!(
        "phonehome-testkit-{}-packets.pcap",
        std::process::id()
    ));
    std::fs::write(
        &path,
        pcap(&[
            tcp(A, SERVER, 999, SYN, b""),
            b"\x00\x01 not an IP packet".to_vec(),
            fragment,
        ]),
    )
    .unwrap();
    let mut seen = Vec::new();
    phonehome_testkit::read_ip_packets(&path, &mut |number, ip| {
        seen.push((number, ip.protocol, ip.fragment.is_some(), ip.payload.len()));
    })
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(seen, [(1, 6, false, 20), (3, 17, true, 18)]);
}
