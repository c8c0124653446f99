//! The benchmark capture: the sample's traffic repeated over many interleaved connections.
//!
//! Every connection is prepared once as a template (the TCP schedule of a scripted conversation
//! with both ISNs 0, and its payload streams); generating a packet is then a few additions to
//! shift sequence numbers, one header write and one checksum pass over the payload, straight into
//! a buffered writer. Only the active connections are held in memory.

use super::catalog::{self, FlowScript, REQUEST_ID_PLACEHOLDER};
use super::sample::play_script;
use super::*;
use crate::packet::{self, BuildError, Link, TcpFields};
use crate::pcap::{PcapOptions, PcapWriter, FILE_HEADER_LEN, RECORD_HEADER_LEN};
use crate::prng::SplitMix64;
use crate::tcp::TcpConversation;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;

/// Most connections open at once (they are interleaved packet by packet).
pub const MAX_ACTIVE_CONNECTIONS: usize = 64;
/// Size of the output buffer.
const WRITE_BUFFER: usize = 1 << 20;
/// Largest gap between two packets, in nanoseconds.
const MAX_PACKET_GAP_NANOS: u64 = 40_000;

/// One segment of a template, relative to ISNs of 0.
struct SegmentPlan {
    from_client: bool,
    fields: TcpFields,
    options: Vec<u8>,
    /// Byte range of the payload in the sender's stream.
    data: Range<usize>,
}

/// A connection prepared once and replayed many times.
struct Template {
    server: SocketAddr,
    client_stream: Vec<u8>,
    server_stream: Vec<u8>,
    /// Offsets of `X-Request-Id` values in the client stream.
    request_ids: Vec<usize>,
    plan: Vec<SegmentPlan>,
    /// Bytes of pcap records one connection writes.
    record_bytes: u64,
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() {
        return Vec::new();
    }
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

impl Template {
    fn new(script: &FlowScript) -> Result<Self, BuildError> {
        // Both ISNs at 0, so that sequence numbers are stream offsets + 1.
        let phone = if script.server.is_ipv6() {
            IpAddr::V6(PHONE_V6)
        } else {
            IpAddr::V4(PHONE_V4)
        };
        let conv =
            TcpConversation::new(SocketAddr::new(phone, 40_000), script.server).with_isns(0, 0);
        let conv = play_script(script, conv, 0, |_, _| {});
        let mut client_stream = Vec::new();
        let mut server_stream = Vec::new();
        for s in &script.steps {
            match s {
                catalog::Step::Client(b) => client_stream.extend_from_slice(b),
                catalog::Step::Server(b) => server_stream.extend_from_slice(b),
            }
        }
        let plan = conv
            .segments()
            .iter()
            .map(|s| {
                let start = s.fields.seq.wrapping_sub(1) as usize;
                let data = if s.payload.is_empty() {
                    0..0
                } else {
                    start..start + s.payload.len()
                };
                SegmentPlan {
                    from_client: s.from_client,
                    fields: s.fields,
                    options: s.options.clone(),
                    data,
                }
            })
            .collect();
        let record_bytes = conv
            .frames()?
            .iter()
            .map(|f| (RECORD_HEADER_LEN + f.data.len()) as u64)
            .sum();
        let marker = format!("X-Request-Id: {REQUEST_ID_PLACEHOLDER}");
        let request_ids = find_all(&client_stream, marker.as_bytes())
            .into_iter()
            .map(|i| i + marker.len() - REQUEST_ID_PLACEHOLDER.len())
            .collect();
        Ok(Self {
            server: script.server,
            client_stream,
            server_stream,
            request_ids,
            plan,
            record_bytes,
        })
    }
}

/// A connection being written.
struct Connection {
    template: usize,
    next: usize,
    client: SocketAddr,
    isns: [u32; 2],
    ip_ids: [u16; 2],
    client_stream: Vec<u8>,
}

fn templates() -> Result<Vec<Template>, BuildError> {
    let mut scripts = catalog::sample_flows(true);
    for (entries, seed) in [(40, 1u64), (150, 2), (400, 3)] {
        scripts.push(catalog::ad_config(true, entries, seed));
    }
    for (side, seed) in [(48, 4u64), (128, 5)] {
        scripts.push(catalog::ad_image(true, side, seed));
    }
    scripts.iter().map(Template::new).collect()
}

/// Writes a pcap file (Ethernet, microseconds) of about `target_bytes` — never more, and short of
/// it by less than one connection — made of many concurrent connections of the sample's traffic
/// with varied client ports, sequence numbers and request ids. Returns the bytes written.
pub fn write_bench_pcap(w: impl Write, target_bytes: u64) -> io::Result<u64> {
    let templates = templates()?;
    let smallest = templates
        .iter()
        .map(|t| t.record_bytes)
        .min()
        .unwrap_or(u64::MAX);
    let mut rng = SplitMix64::new(0x0062_656e_6368); // "bench"
    let link = Link::default();
    let mut pcap = PcapWriter::new(
        BufWriter::with_capacity(WRITE_BUFFER, w),
        PcapOptions::default(),
    )?;
    let mut committed = FILE_HEADER_LEN as u64;
    let mut clock = SAMPLE_START_NANOS;
    let mut port: u16 = 32_768;
    let mut active: Vec<Connection> = Vec::with_capacity(MAX_ACTIVE_CONNECTIONS);
    let mut frame = Vec::with_capacity(2048);

    let mut open = |rng: &mut SplitMix64, committed: &mut u64| -> Option<Connection> {
        let mut pick = rng.below(templates.len() as u64) as usize;
        let t = templates.get(pick)?;
        if committed.saturating_add(t.record_bytes) > target_bytes {
            if committed.saturating_add(smallest) > target_bytes {
                return None;
            }
            pick = templates.iter().position(|t| t.record_bytes == smallest)?;
        }
        let t = templates.get(pick)?;
        *committed += t.record_bytes;
        port = if port >= 60_999 { 32_768 } else { port + 1 };
        let phone = if t.server.is_ipv6() {
            IpAddr::V6(PHONE_V6)
        } else {
            IpAddr::V4(PHONE_V4)
        };
        let mut client_stream = t.client_stream.clone();
        let id = rng.next_u64();
        for (k, &off) in t.request_ids.iter().enumerate() {
            let hex = format!("{:016x}", id.wrapping_add(k as u64));
            if let Some(slot) = client_stream.get_mut(off..off + 16) {
                slot.copy_from_slice(hex.as_bytes());
            }
        }
        Some(Connection {
            template: pick,
            next: 0,
            client: SocketAddr::new(phone, port),
            isns: [rng.next_u32(), rng.next_u32()],
            ip_ids: [rng.next_u32() as u16, rng.next_u32() as u16],
            client_stream,
        })
    };

    while active.len() < MAX_ACTIVE_CONNECTIONS {
        match open(&mut rng, &mut committed) {
            Some(c) => active.push(c),
            None => break,
        }
    }
    while !active.is_empty() {
        let slot = rng.below(active.len() as u64) as usize;
        let Some(conn) = active.get_mut(slot) else {
            break;
        };
        let Some(t) = templates.get(conn.template) else {
            break;
        };
        let Some(seg) = t.plan.get(conn.next) else {
            break;
        };
        let side = usize::from(!seg.from_client);
        let (src, dst) = if seg.from_client {
            (conn.client, t.server)
        } else {
            (t.server, conn.client)
        };
        let fields = TcpFields {
            seq: seg.fields.seq.wrapping_add(conn.isns[side]),
            ack: seg.fields.ack.wrapping_add(conn.isns[1 - side]),
            ..seg.fields
        };
        let stream = if seg.from_client {
            &conn.client_stream
        } else {
            &t.server_stream
        };
        let payload = stream.get(seg.data.clone()).unwrap_or(&[]);
        packet::tcp_frame_into(
            &mut frame,
            &link,
            src,
            dst,
            fields,
            &seg.options,
            payload,
            conn.ip_ids[side],
            seg.from_client,
        )?;
        conn.ip_ids[side] = conn.ip_ids[side].wrapping_add(1);
        clock += i128::from(1_000 + rng.below(MAX_PACKET_GAP_NANOS));
        pcap.write_packet(clock, &frame, frame.len() as u32)?;
        conn.next += 1;
        if conn.next >= t.plan.len() {
            match (open(&mut rng, &mut committed), active.get_mut(slot)) {
                (Some(c), Some(place)) => *place = c,
                _ => {
                    active.swap_remove(slot);
                }
            }
        }
    }
    let written = pcap.bytes_written();
    pcap.into_inner()?.flush()?;
    Ok(written)
}
