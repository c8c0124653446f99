//! The TLS benchmark capture: the sample's exchanges, many times over, inside real TLS 1.3 and
//! TLS 1.2 connections (AES-GCM) carrying HTTP/1.1 or HTTP/2, with the key log written alongside.
//!
//! Handshakes are the slow part, so connections are long: each carries a few hundred kilobytes
//! of keep-alive exchanges with one host. Connections to a host the client has seen before
//! resume its session, as a phone's would. Only the bulk path skips work: after the handshake
//! each side's records are sealed by rustls but never decrypted by the peer. At most
//! [`MAX_ACTIVE_TLS_CONNECTIONS`] connections are held in memory, their packets interleaved.

use super::catalog::{self, FlowScript, Step, REQUEST_ID_PLACEHOLDER};
use super::tls_sample::h2_exchanges;
use super::*;
use crate::h2_frames::{self, H2Client, H2Request, H2Response, H2Server};
use crate::packet::Frame;
use crate::pcap::{PcapOptions, PcapWriter, FILE_HEADER_LEN, RECORD_HEADER_LEN};
use crate::prng::SplitMix64;
use crate::tcp::TcpConversation;
use crate::tls_fixture::{
    reseed, FixtureError, Flight, RustlsPair, TlsConfigs, TlsSuite, TlsVersion,
};
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};

/// Most connections held (and interleaved) at once.
pub const MAX_ACTIVE_TLS_CONNECTIONS: usize = 8;
/// Smallest plaintext budget of one connection, in bytes.
const MIN_CONNECTION_PLAINTEXT: u64 = 96 << 10;
/// Largest plaintext budget of one connection, in bytes.
const MAX_CONNECTION_PLAINTEXT: u64 = 896 << 10;
/// A connection is not started when less than this many bytes of the target remain.
const MIN_REMAINING: u64 = 24 << 10;
/// Size of the output buffers.
const WRITE_BUFFER: usize = 1 << 20;
/// Largest gap between two packets, in nanoseconds.
const MAX_PACKET_GAP_NANOS: u64 = 40_000;

/// The four kinds of connection: (version, suite, HTTP/2).
const KINDS: [(TlsVersion, TlsSuite, bool); 4] = [
    (TlsVersion::V13, TlsSuite::Aes128Gcm, false),
    (TlsVersion::V13, TlsSuite::Aes128Gcm, true),
    (TlsVersion::V12, TlsSuite::Aes128Gcm, false),
    (TlsVersion::V12, TlsSuite::Aes256Gcm, true),
];

/// One host's exchanges, in both encodings.
struct HostPlan {
    host: &'static str,
    server: SocketAddr,
    /// Per script: its HTTP/1.1 steps.
    http1: Vec<Vec<Step>>,
    /// Per script: its exchanges as HTTP/2 (empty when it does not convert).
    h2: Vec<Vec<(H2Request, H2Response)>>,
}

fn host_plans() -> Vec<HostPlan> {
    let mut scripts: Vec<FlowScript> = catalog::sample_flows(true)
        .into_iter()
        .filter(|s| s.host != "www.google.com")
        .collect();
    for (entries, seed) in [(40, 1u64), (150, 2), (400, 3)] {
        scripts.push(catalog::ad_config(true, entries, seed));
    }
    for (side, seed) in [(48, 4u64), (128, 5)] {
        scripts.push(catalog::ad_image(true, side, seed));
    }
    let mut plans: Vec<HostPlan> = Vec::new();
    for s in scripts {
        let h2 = h2_exchanges(&s);
        let idx = match plans.iter().position(|p| p.host == s.host) {
            Some(i) => i,
            None => {
                plans.push(HostPlan {
                    host: s.host,
                    server: SocketAddr::new(s.server.ip(), 443),
                    http1: Vec::new(),
                    h2: Vec::new(),
                });
                plans.len() - 1
            }
        };
        if let Some(p) = plans.get_mut(idx) {
            p.http1.push(s.steps);
            p.h2.push(h2);
        }
    }
    plans
}

/// Replaces every `X-Request-Id` placeholder in `bytes` with successive ids from `next`.
fn stamp_request_ids(bytes: &mut [u8], next: &mut u64) {
    let needle = REQUEST_ID_PLACEHOLDER.as_bytes();
    let mut i = 0;
    while let Some(window) = bytes.get(i..i + needle.len()) {
        if window == needle {
            let hex = format!("{:016x}", *next);
            *next = next.wrapping_add(1);
            if let Some(slot) = bytes.get_mut(i..i + needle.len()) {
                slot.copy_from_slice(hex.as_bytes());
            }
            i += needle.len();
        } else {
            i += 1;
        }
    }
}

/// A connection ready to be written: its frames and its key log lines.
struct ReadyConnection {
    frames: Vec<Frame>,
    next: usize,
    record_bytes: u64,
    keylog: String,
}

/// Everything that stays across connections.
struct Generator {
    plans: Vec<HostPlan>,
    /// One configuration per (kind, host), created on first use; the client's session cache
    /// lives in it, so later connections resume.
    configs: Vec<Option<TlsConfigs>>,
    rng: SplitMix64,
    port: u16,
    request_id: u64,
}

impl Generator {
    fn new() -> Self {
        let plans = host_plans();
        let configs = (0..KINDS.len() * plans.len()).map(|_| None).collect();
        Self {
            plans,
            configs,
            rng: SplitMix64::new(0x746c_7362_656e_6368), // "tlsbench"
            port: 32_768,
            request_id: 0x1000,
        }
    }

    /// Makes one connection of about `budget` plaintext bytes.
    fn connection(&mut self, budget: u64) -> Result<ReadyConnection, FixtureError> {
        let kind_index = self.rng.below(KINDS.len() as u64) as usize;
        let host_index = self.rng.below(self.plans.len() as u64) as usize;
        let (version, suite, h2) = KINDS
            .get(kind_index)
            .copied()
            .ok_or(FixtureError::Unsupported("kind"))?;
        let plan = self
            .plans
            .get(host_index)
            .ok_or(FixtureError::Unsupported("host"))?;
        let alpn: &[u8] = if h2 { b"h2" } else { b"http/1.1" };
        let slot = self
            .configs
            .get_mut(kind_index * self.plans.len() + host_index)
            .ok_or(FixtureError::Unsupported("config"))?;
        if slot.is_none() {
            *slot = Some(TlsConfigs::new(version, suite, plan.host, alpn)?);
        }
        let configs = slot.as_ref().ok_or(FixtureError::Unsupported("config"))?;

        // The application data, as (from_client, bytes) steps, until the budget is spent.
        let mut steps: Vec<(bool, Vec<u8>)> = Vec::new();
        let mut spent = 0u64;
        let convertible: Vec<usize> = (0..plan.h2.len())
            .filter(|&i| plan.h2.get(i).is_some_and(|x| !x.is_empty()))
            .collect();
        let h2 = h2 && !convertible.is_empty();
        if h2 {
            let mut client = H2Client::new();
            let mut server = H2Server::new();
            let mut first = true;
            while spent < budget {
                let pick = convertible
                    .get(self.rng.below(convertible.len() as u64) as usize)
                    .copied()
                    .unwrap_or(0);
                for (req, resp) in plan.h2.get(pick).map(Vec::as_slice).unwrap_or(&[]) {
                    let mut req = req.clone();
                    for (name, value) in &mut req.headers {
                        if name == "x-request-id" {
                            *value = format!("{:016x}", self.request_id).into_bytes();
                            self.request_id = self.request_id.wrapping_add(1);
                        }
                    }
                    let (id, mut c) = client.request(&req);
                    let mut s = server.response(id, resp);
                    if first {
                        let mut p = client.preface();
                        p.append(&mut c);
                        c = p;
                        let mut p = server.preface();
                        p.append(&mut s);
                        s = p;
                        first = false;
                    }
                    spent += (c.len() + s.len()) as u64;
                    steps.push((true, c));
                    steps.push((false, s));
                }
            }
            let mut last = h2_frames::settings_ack();
            last.extend_from_slice(&client.goaway());
            steps.push((true, last));
        } else {
            while spent < budget {
                let pick = self.rng.below(plan.http1.len() as u64) as usize;
                for step in plan.http1.get(pick).map(Vec::as_slice).unwrap_or(&[]) {
                    let (from_client, bytes) = match step {
                        Step::Client(b) => (true, b),
                        Step::Server(b) => (false, b),
                    };
                    let mut bytes = bytes.clone();
                    if from_client {
                        stamp_request_ids(&mut bytes, &mut self.request_id);
                    }
                    spent += bytes.len() as u64;
                    steps.push((from_client, bytes));
                }
            }
        }

        // TLS: the handshake (with the first request) runs for real; the rest is sealed only.
        let mut pair = RustlsPair::new(configs)?;
        let mut rest = steps.into_iter().peekable();
        if let Some((true, first)) = rest.peek() {
            pair.queue(true, first)?;
            rest.next();
        }
        pair.handshake()?;
        let mut flights = pair.take_flights();
        for (from_client, bytes) in rest {
            let sealed = pair.seal_only(from_client, &bytes)?;
            flights.push(Flight {
                from_client,
                bytes: sealed,
            });
        }
        flights.push(Flight {
            from_client: true,
            bytes: pair.close_only()?,
        });
        let keylog = configs.keylog.take();

        // TCP.
        self.port = if self.port >= 60_999 {
            32_768
        } else {
            self.port + 1
        };
        let phone: IpAddr = if plan.server.is_ipv6() {
            PHONE_V6.into()
        } else {
            PHONE_V4.into()
        };
        let isns = (self.rng.next_u32(), self.rng.next_u32());
        let mut conv = TcpConversation::new(SocketAddr::new(phone, self.port), plan.server)
            .with_isns(isns.0, isns.1);
        conv.handshake();
        for f in &flights {
            if f.from_client {
                conv.client_send(&f.bytes);
            } else {
                conv.server_send(&f.bytes);
            }
        }
        conv.close();
        let frames = conv.frames()?;
        let record_bytes = frames
            .iter()
            .map(|f| (RECORD_HEADER_LEN + f.data.len()) as u64)
            .sum();
        Ok(ReadyConnection {
            frames,
            next: 0,
            record_bytes,
            keylog,
        })
    }
}

/// Writes a pcap file (Ethernet, microseconds) of about `target_bytes` — never more, short of it
/// by less than one connection (at most about a megabyte) — of TLS connections, and their NSS
/// key log to `keylog_w`. Returns the bytes of pcap written.
pub fn write_tls_bench_pcap(
    w: impl Write,
    keylog_w: impl Write,
    target_bytes: u64,
) -> io::Result<u64> {
    reseed(0x7462_656e_6368);
    let mut gen = Generator::new();
    let mut keys = BufWriter::with_capacity(1 << 16, keylog_w);
    let mut pcap = PcapWriter::new(
        BufWriter::with_capacity(WRITE_BUFFER, w),
        PcapOptions::default(),
    )?;
    let mut committed = FILE_HEADER_LEN as u64;
    let mut clock = SAMPLE_START_NANOS;
    let mut active: Vec<ReadyConnection> = Vec::with_capacity(MAX_ACTIVE_TLS_CONNECTIONS);
    let mut exhausted = false;

    let open = |gen: &mut Generator,
                committed: &mut u64,
                keys: &mut BufWriter<_>|
     -> io::Result<Option<ReadyConnection>> {
        let remaining = target_bytes.saturating_sub(*committed);
        if remaining < MIN_REMAINING {
            return Ok(None);
        }
        let budget = gen
            .rng
            .range_u64(MIN_CONNECTION_PLAINTEXT, MAX_CONNECTION_PLAINTEXT)
            .min(remaining.saturating_mul(7) / 10);
        let conn = gen.connection(budget)?;
        if committed.saturating_add(conn.record_bytes) > target_bytes {
            return Ok(None);
        }
        *committed += conn.record_bytes;
        keys.write_all(conn.keylog.as_bytes())?;
        Ok(Some(conn))
    };

    while !exhausted && active.len() < MAX_ACTIVE_TLS_CONNECTIONS {
        match open(&mut gen, &mut committed, &mut keys)? {
            Some(c) => active.push(c),
            None => exhausted = true,
        }
    }
    while !active.is_empty() {
        let slot = gen.rng.below(active.len() as u64) as usize;
        let burst = 1 + gen.rng.below(4) as usize;
        let Some(conn) = active.get_mut(slot) else {
            break;
        };
        for _ in 0..burst {
            let Some(f) = conn.frames.get(conn.next) else {
                break;
            };
            clock += i128::from(1_000 + gen.rng.below(MAX_PACKET_GAP_NANOS));
            pcap.write_packet(clock, &f.data, f.orig_len)?;
            conn.next += 1;
        }
        if conn.next >= conn.frames.len() {
            let next = if exhausted {
                None
            } else {
                open(&mut gen, &mut committed, &mut keys)?
            };
            match next {
                Some(c) => {
                    if let Some(place) = active.get_mut(slot) {
                        *place = c;
                    }
                }
                None => {
                    exhausted = true;
                    active.swap_remove(slot);
                }
            }
        }
    }
    let written = pcap.bytes_written();
    pcap.into_inner()?.flush()?;
    keys.flush()?;
    Ok(written)
}
