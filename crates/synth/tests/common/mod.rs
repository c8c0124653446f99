//! Independent readers for what phonehome-synth writes: pcap-parser for the files, etherparse for
//! the frames. Every checksum is verified; a mismatch panics.
#![allow(dead_code)]

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::data::{get_packetdata, PacketData};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, Linktype, PcapBlockOwned, PcapError, PcapNGCapture};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// One packet read back from a file.
#[derive(Clone, Debug)]
pub struct ReadPacket {
    pub ts_nanos: i128,
    pub linktype: u32,
    pub data: Vec<u8>,
    pub orig_len: u32,
}

/// A TCP segment as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSeen {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: Vec<u8>,
}

/// What a frame holds above the link layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Tcp(TcpSeen),
    Udp {
        src: SocketAddr,
        dst: SocketAddr,
        payload: Vec<u8>,
    },
    Fragment {
        src: IpAddr,
        dst: IpAddr,
        ident: u16,
        offset: u16,
        more: bool,
        payload: Vec<u8>,
    },
    Arp,
}

/// Reads a legacy pcap file with pcap-parser's streaming reader (its whole-file `PcapCapture`
/// only reads little-endian records).
pub fn read_pcap(bytes: &[u8]) -> (pcap_parser::PcapHeader, Vec<ReadPacket>) {
    let mut reader = LegacyPcapReader::new(1 << 20, bytes).expect("pcap-parser reads the header");
    let mut header = None;
    let mut packets = Vec::new();
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => header = Some(h),
                    PcapBlockOwned::Legacy(b) => {
                        let h: &pcap_parser::PcapHeader = header.as_ref().expect("header first");
                        let frac = i128::from(b.ts_usec)
                            * if h.is_nanosecond_precision() { 1 } else { 1000 };
                        packets.push(ReadPacket {
                            ts_nanos: i128::from(b.ts_sec) * 1_000_000_000 + frac,
                            linktype: h.network.0 as u32,
                            data: b.data.to_vec(),
                            orig_len: b.origlen,
                        });
                    }
                    PcapBlockOwned::NG(_) => panic!("pcapng block in a pcap file"),
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("pcap-parser: {e:?}"),
        }
    }
    (header.expect("a header"), packets)
}

/// Per section: whether it is big-endian, its interfaces (linktype, snaplen, if_tsresol option
/// byte if present) and its packets (enhanced and simple), and its decryption secrets.
#[derive(Debug, Default)]
pub struct SectionSeen {
    pub big_endian: bool,
    pub comment: Option<String>,
    pub interfaces: Vec<(u32, u32, Option<u8>)>,
    pub packets: Vec<(u32, ReadPacket, Option<String>)>,
    pub simple_packets: Vec<ReadPacket>,
    pub secrets: Vec<(u32, Vec<u8>)>,
}

fn comment_of(options: &[pcap_parser::pcapng::PcapNGOption]) -> Option<String> {
    options
        .iter()
        .find(|o| o.code == pcap_parser::pcapng::OptionCode::Comment)
        .map(|o| {
            String::from_utf8_lossy(o.as_bytes().expect("option length within its value"))
                .into_owned()
        })
}

/// Reads a pcapng file with pcap-parser.
pub fn read_pcapng(bytes: &[u8]) -> Vec<SectionSeen> {
    let cap = PcapNGCapture::from_file(bytes).expect("pcap-parser reads the file");
    let mut out = Vec::new();
    for section in &cap.sections {
        let mut s = SectionSeen::default();
        let mut resolutions = Vec::new();
        for block in &section.blocks {
            match block {
                Block::SectionHeader(shb) => {
                    s.big_endian = shb.big_endian();
                    s.comment = comment_of(&shb.options);
                }
                Block::InterfaceDescription(idb) => {
                    let opt = idb.if_tsresol().map(|r| r.expect("valid if_tsresol"));
                    s.interfaces.push((idb.linktype.0 as u32, idb.snaplen, opt));
                    // Units per second from if_tsresol (pcap-parser 0.17's ts_resolution() rejects
                    // the binary form 0x80|n, so it is computed here).
                    let r = opt.unwrap_or(6);
                    let units: u64 = if r & 0x80 != 0 {
                        1 << (r & 0x7f)
                    } else {
                        10u64.pow(u32::from(r))
                    };
                    resolutions.push((units, idb.linktype.0 as u32));
                }
                Block::EnhancedPacket(epb) => {
                    let (res, lt) = resolutions[epb.if_id as usize];
                    let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                    let ts_nanos = i128::from(ticks) * 1_000_000_000 / i128::from(res);
                    s.packets.push((
                        epb.if_id,
                        ReadPacket {
                            ts_nanos,
                            linktype: lt,
                            data: epb.data[..epb.caplen as usize].to_vec(),
                            orig_len: epb.origlen,
                        },
                        comment_of(&epb.options),
                    ));
                }
                Block::SimplePacket(spb) => {
                    let lt = resolutions[0].1;
                    let n = (spb.origlen as usize).min(spb.data.len());
                    s.simple_packets.push(ReadPacket {
                        ts_nanos: 0,
                        linktype: lt,
                        data: spb.data[..n].to_vec(),
                        orig_len: spb.origlen,
                    });
                }
                Block::DecryptionSecrets(dsb) => {
                    s.secrets.push((
                        dsb.secrets_type.0,
                        dsb.data[..dsb.secrets_len as usize].to_vec(),
                    ));
                }
                other => panic!("unexpected block {other:?}"),
            }
        }
        out.push(s);
    }
    out
}

/// Slices a frame with etherparse after removing link headers etherparse does not know.
fn slice(linktype: u32, data: &[u8]) -> Option<SlicedPacket<'_>> {
    match linktype {
        1 => Some(SlicedPacket::from_ethernet(data).expect("etherparse slices the Ethernet frame")),
        113 => Some(SlicedPacket::from_linux_sll(data).expect("etherparse slices the SLL frame")),
        9 | 108 => {
            let (head, rest) = data.split_at(4);
            let et = match (linktype, head) {
                (9, [0xff, 0x03, 0x00, 0x21]) | (108, [0, 0, 0, 2]) => 0x0800,
                (9, [0xff, 0x03, 0x00, 0x57]) | (108, [0, 0, 0, 24]) => 0x86dd,
                _ => panic!("bad link header {head:?}"),
            };
            Some(
                SlicedPacket::from_ether_type(EtherType(et), rest)
                    .expect("etherparse slices the packet"),
            )
        }
        lt => match get_packetdata(data, Linktype(lt as i32), data.len())
            .expect("pcap-parser strips the link header")
        {
            PacketData::L3(et, rest) => Some(
                SlicedPacket::from_ether_type(EtherType(et), rest)
                    .expect("etherparse slices the packet"),
            ),
            PacketData::L2(rest) => {
                Some(SlicedPacket::from_ethernet(rest).expect("etherparse slices the frame"))
            }
            other => panic!("unexpected packet data {other:?}"),
        },
    }
}

/// Dissects a whole (not snap-length-cut) frame, verifying the IPv4 header checksum and the
/// TCP/UDP checksum.
pub fn dissect(linktype: u32, data: &[u8]) -> Seen {
    let p = slice(linktype, data).expect("sliced");
    let (src, dst) = match &p.net {
        Some(NetSlice::Ipv4(ip)) => {
            let h = ip.header();
            assert_eq!(
                h.to_header().calc_header_checksum(),
                h.header_checksum(),
                "IPv4 header checksum"
            );
            if ip.payload().fragmented {
                return Seen::Fragment {
                    src: h.source_addr().into(),
                    dst: h.destination_addr().into(),
                    ident: h.identification(),
                    offset: h.fragments_offset().value(),
                    more: h.more_fragments(),
                    payload: ip.payload().payload.to_vec(),
                };
            }
            (
                IpAddr::from(h.source_addr()),
                IpAddr::from(h.destination_addr()),
            )
        }
        Some(NetSlice::Ipv6(ip)) => (
            IpAddr::from(ip.header().source_addr()),
            IpAddr::from(ip.header().destination_addr()),
        ),
        Some(NetSlice::Arp(_)) => return Seen::Arp,
        None => panic!("no network layer"),
    };
    match p.transport.expect("a transport layer") {
        TransportSlice::Tcp(t) => {
            let expected = match (src, dst) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    t.calc_checksum_ipv4(s.octets(), d.octets()).unwrap()
                }
                (IpAddr::V6(s), IpAddr::V6(d)) => {
                    t.calc_checksum_ipv6(s.octets(), d.octets()).unwrap()
                }
                _ => unreachable!(),
            };
            assert_eq!(expected, t.checksum(), "TCP checksum");
            Seen::Tcp(TcpSeen {
                src: SocketAddr::new(src, t.source_port()),
                dst: SocketAddr::new(dst, t.destination_port()),
                seq: t.sequence_number(),
                ack: t.acknowledgment_number(),
                syn: t.syn(),
                fin: t.fin(),
                rst: t.rst(),
                payload: t.payload().to_vec(),
            })
        }
        TransportSlice::Udp(u) => {
            let h = u.to_header();
            let expected = match (src, dst) {
                (IpAddr::V4(s), IpAddr::V4(d)) => h
                    .calc_checksum_ipv4_raw(s.octets(), d.octets(), u.payload())
                    .unwrap(),
                (IpAddr::V6(s), IpAddr::V6(d)) => h
                    .calc_checksum_ipv6_raw(s.octets(), d.octets(), u.payload())
                    .unwrap(),
                _ => unreachable!(),
            };
            assert_eq!(expected, u.checksum(), "UDP checksum");
            Seen::Udp {
                src: SocketAddr::new(src, u.source_port()),
                dst: SocketAddr::new(dst, u.destination_port()),
                payload: u.payload().to_vec(),
            }
        }
        other => panic!("unexpected transport {other:?}"),
    }
}

/// The two byte streams of one TCP connection, rebuilt from its segments (first copy of each byte
/// wins, sequence numbers compared modulo 2^32 relative to the first segment seen).
#[derive(Debug, Default)]
pub struct Streams {
    pub client_to_server: Vec<u8>,
    pub server_to_client: Vec<u8>,
    /// True when a hole was left in either direction.
    pub gap: bool,
}

fn rebuild(segments: &[(u32, Vec<u8>)], base: u32) -> (Vec<u8>, bool) {
    let mut by_offset: Vec<(u32, &[u8])> = segments
        .iter()
        .map(|(s, p)| (s.wrapping_sub(base), p.as_slice()))
        .collect();
    by_offset.sort_by_key(|(o, _)| *o);
    let mut out = Vec::new();
    let mut gap = false;
    for (off, p) in by_offset {
        let off = off as usize;
        if off > out.len() {
            gap = true;
            break;
        }
        let skip = out.len() - off;
        if skip < p.len() {
            out.extend_from_slice(&p[skip..]);
        }
    }
    (out, gap)
}

/// Segments of one connection: each direction's first sequence number and its data segments.
#[derive(Default)]
struct Collected(
    Option<u32>,
    Option<u32>,
    Vec<(u32, Vec<u8>)>,
    Vec<(u32, Vec<u8>)>,
);

/// Groups TCP segments by connection (client = sender of the SYN, or of the first segment) and
/// rebuilds both streams.
pub fn tcp_streams(segments: &[TcpSeen]) -> BTreeMap<(SocketAddr, SocketAddr), Streams> {
    let mut conns: BTreeMap<(SocketAddr, SocketAddr), Collected> = BTreeMap::new();
    for s in segments {
        let key_fwd = (s.src, s.dst);
        let key_rev = (s.dst, s.src);
        let (key, from_client) = if conns.contains_key(&key_rev) {
            (key_rev, false)
        } else {
            (key_fwd, true)
        };
        let e = conns.entry(key).or_default();
        let data_start = if s.syn { s.seq.wrapping_add(1) } else { s.seq };
        let base = if from_client { &mut e.0 } else { &mut e.1 };
        if s.syn || base.is_none() {
            *base = Some(data_start);
        }
        if !s.payload.is_empty() {
            if from_client {
                e.2.push((s.seq, s.payload.clone()));
            } else {
                e.3.push((s.seq, s.payload.clone()));
            }
        }
    }
    conns
        .into_iter()
        .map(|(k, Collected(cb, sb, c, s))| {
            let (client_to_server, g1) = rebuild(&c, cb.unwrap_or(0));
            let (server_to_client, g2) = rebuild(&s, sb.unwrap_or(0));
            (
                k,
                Streams {
                    client_to_server,
                    server_to_client,
                    gap: g1 || g2,
                },
            )
        })
        .collect()
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
