//! The bundled sample capture.

use super::catalog::{self, FlowScript, Step};
use super::*;
use crate::dns;
use crate::packet::{self, Frame, Link, CLIENT_MAC, GATEWAY_MAC};
use crate::pcap::ByteOrder;
use crate::pcapng::{Interface, PcapngWriter, TsResolution};
use crate::prng::SplitMix64;
use crate::tcp::TcpConversation;
use crate::tls;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Milliseconds, in nanoseconds.
const MS: i128 = 1_000_000;

/// Frames from several sources, merged into capture order.
#[derive(Default)]
pub(crate) struct Timeline {
    frames: Vec<(i128, usize, Frame)>,
}

impl Timeline {
    /// Adds frames; among equal timestamps, earlier additions come first.
    pub(crate) fn extend(&mut self, frames: impl IntoIterator<Item = Frame>) {
        for f in frames {
            let key = self.frames.len();
            self.frames.push((f.ts_nanos, key, f));
        }
    }

    /// The frames sorted by time.
    pub(crate) fn into_sorted(mut self) -> Vec<Frame> {
        self.frames.sort_by_key(|(ts, key, _)| (*ts, *key));
        self.frames.into_iter().map(|(_, _, f)| f).collect()
    }
}

/// Builds the conversation a script describes (handshake, steps, close) from the phone's
/// `client_port`, starting at `start` with `step` between segments. `edit` runs after each client
/// send with the indices of its segments.
pub(crate) fn run_script(
    script: &FlowScript,
    client_port: u16,
    start: i128,
    step: i128,
    edit: impl FnMut(&mut TcpConversation, std::ops::Range<usize>),
) -> TcpConversation {
    let phone: IpAddr = match script.server {
        SocketAddr::V4(_) => IpAddr::V4(PHONE_V4),
        SocketAddr::V6(_) => IpAddr::V6(PHONE_V6),
    };
    let conv = TcpConversation::new(SocketAddr::new(phone, client_port), script.server)
        .with_start(start)
        .with_step(step);
    play_script(script, conv, step * 4, edit)
}

/// Plays `script` on `conv`: handshake, each step (the server pausing `think` before answering),
/// then an orderly close.
pub(crate) fn play_script(
    script: &FlowScript,
    mut conv: TcpConversation,
    think: i128,
    mut edit: impl FnMut(&mut TcpConversation, std::ops::Range<usize>),
) -> TcpConversation {
    conv.handshake();
    for s in &script.steps {
        match s {
            Step::Client(bytes) => {
                let r = conv.client_send(bytes);
                edit(&mut conv, r);
            }
            Step::Server(bytes) => {
                conv.pause(think);
                conv.server_send(bytes);
            }
        }
    }
    conv.close();
    conv
}

/// A DNS lookup (query and answer) for `name`, from `port`, starting at `ts`.
pub(crate) fn dns_lookup(
    name: &str,
    qtype: u16,
    addrs: &[IpAddr],
    id: u16,
    port: u16,
    ts: i128,
) -> io::Result<Vec<Frame>> {
    let phone = SocketAddr::new(IpAddr::V4(PHONE_V4), port);
    let resolver = SocketAddr::new(IpAddr::V4(RESOLVER_V4), 53);
    let link = Link::default();
    let q = packet::udp_frame(
        &link,
        phone,
        resolver,
        &dns::query(id, name, qtype),
        id,
        true,
    )?;
    let a = packet::udp_frame(
        &link,
        resolver,
        phone,
        &dns::response(id, name, qtype, addrs),
        id ^ 0x5555,
        false,
    )?;
    Ok(vec![Frame::whole(ts, q), Frame::whole(ts + 11 * MS, a)])
}

/// The address the sample's DNS answers give for a host (the flow's server address).
fn a_or_aaaa(addr: SocketAddr) -> u16 {
    if addr.is_ipv6() {
        dns::TYPE_AAAA
    } else {
        dns::TYPE_A
    }
}

/// A TLS 1.3 connection to play.googleapis.com:443: ClientHello with SNI, the server's flight,
/// then opaque application data.
fn tls_flow(port: u16, start: i128, rng: &mut SplitMix64) -> io::Result<Vec<Frame>> {
    let server = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(142, 250, 0, 95)), 443);
    let mut c = TcpConversation::new(SocketAddr::new(IpAddr::V4(PHONE_V4), port), server)
        .with_start(start)
        .with_step(6 * MS);
    let mut random = [0u8; 32];
    rng.fill(&mut random);
    let mut session = [0u8; 32];
    rng.fill(&mut session);
    c.handshake();
    c.client_send(&tls::client_hello("play.googleapis.com", &random));
    rng.fill(&mut random);
    c.server_send(&tls::server_flight(&random, &session, 2400));
    let mut finished = tls::record(tls::CONTENT_CHANGE_CIPHER_SPEC, 0x0303, &[1]);
    let mut opaque = vec![0u8; 53];
    rng.fill(&mut opaque);
    finished.extend_from_slice(&tls::record(tls::CONTENT_APPLICATION_DATA, 0x0303, &opaque));
    let mut request = vec![0u8; 412];
    rng.fill(&mut request);
    finished.extend_from_slice(&tls::record(
        tls::CONTENT_APPLICATION_DATA,
        0x0303,
        &request,
    ));
    c.client_send(&finished);
    let mut reply = vec![0u8; 1733];
    rng.fill(&mut reply);
    c.server_send(&tls::record(tls::CONTENT_APPLICATION_DATA, 0x0303, &reply));
    c.close();
    Ok(c.frames()?)
}

/// Every frame of the sample, in capture order.
pub(crate) fn sample_frames() -> io::Result<Vec<Frame>> {
    let mut rng = SplitMix64::new(0x0050_484f_4e45); // "PHONE"
    let mut timeline = Timeline::default();
    let t0 = SAMPLE_START_NANOS;

    // ARP for the gateway.
    timeline.extend([
        Frame::whole(
            t0,
            packet::arp_frame(CLIENT_MAC, PHONE_V4, None, GATEWAY_V4),
        ),
        Frame::whole(
            t0 + 2 * MS / 10,
            packet::arp_frame(GATEWAY_MAC, GATEWAY_V4, Some(CLIENT_MAC), PHONE_V4),
        ),
    ]);

    let mut port = 38_000 + rng.below(20_000) as u16;
    let mut next_port = |rng: &mut SplitMix64| {
        port = port.wrapping_add(1 + rng.below(40) as u16);
        if port < 32_768 {
            port = 32_768;
        }
        port
    };

    // TLS noise first (the Play Store checks in), with its DNS lookup.
    let tls_ip = IpAddr::V4(Ipv4Addr::new(142, 250, 0, 95));
    let id = rng.next_u32() as u16;
    let p = next_port(&mut rng);
    timeline.extend(dns_lookup(
        "play.googleapis.com",
        dns::TYPE_A,
        &[tls_ip],
        id,
        p,
        t0 + 5 * MS,
    )?);
    let p = next_port(&mut rng);
    timeline.extend(tls_flow(p, t0 + 20 * MS, &mut rng)?);

    for (i, script) in catalog::sample_flows(false).iter().enumerate() {
        let start = t0 + 60 * MS + i as i128 * 120 * MS;
        let step = (4 + (i as i128 % 3) * 3) * MS;
        // DNS first; www.google.com is looked up for both families.
        let id = rng.next_u32() as u16;
        let dport = next_port(&mut rng);
        let qtype = a_or_aaaa(script.server);
        timeline.extend(dns_lookup(
            script.host,
            qtype,
            &[script.server.ip()],
            id,
            dport,
            start - 25 * MS,
        )?);
        if qtype == dns::TYPE_AAAA {
            let id = rng.next_u32() as u16;
            let dport = next_port(&mut rng);
            let v4 = IpAddr::V4(Ipv4Addr::new(142, 250, 0, 68));
            timeline.extend(dns_lookup(
                script.host,
                dns::TYPE_A,
                &[v4],
                id,
                dport,
                start - 24 * MS,
            )?);
        }
        let host = script.host;
        let mut sends = 0usize;
        let conv = run_script(script, next_port(&mut rng), start, step, |c, r| {
            sends += 1;
            match (host, sends) {
                // A spurious retransmission of the pixel request, before the server's ACK.
                ("sdk.hiido.com", 1) => {
                    let _ = c.retransmit(r.start, r.end);
                }
                // The second body segment overtakes the first.
                ("api.ad.xiaomi.com", 1) if r.len() >= 3 => {
                    let _ = c.swap(r.start + 1, r.start + 2);
                }
                _ => {}
            }
        });
        timeline.extend(conv.frames()?);
    }
    Ok(timeline.into_sorted())
}

/// Writes the bundled sample capture (pcapng, one Ethernet interface "wlan0" with microsecond
/// timestamps) to `w`.
pub fn write_sample_pcapng(w: impl Write) -> io::Result<()> {
    let frames = sample_frames()?;
    let mut out = PcapngWriter::new(
        BufWriter::new(w),
        ByteOrder::Little,
        Some("phonehome sample: synthetic traffic of a fictional handset (see samples/phone.toml)"),
    )?;
    let iface = out.add_interface(Interface {
        linktype: packet::linktype::ETHERNET as u16,
        snaplen: crate::pcap::DEFAULT_SNAPLEN,
        tsresol: Some(TsResolution::Decimal(6)),
        name: Some("wlan0".to_owned()),
        comment: None,
    })?;
    for f in &frames {
        out.write_packet(iface, f.ts_nanos, &f.data, f.orig_len, None)?;
    }
    out.into_inner()?.flush()
}
