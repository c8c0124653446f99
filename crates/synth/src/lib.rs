//! Synthetic captures for phonehome's sample, tests and benchmarks.
//!
//! This crate sits outside the analysis pipeline (`ingest → flow → protocol → message → decode →
//! detect → attribute → report`): it *produces* the inputs the pipeline reads, so that every stage
//! can be tested on real formats without shipping real traffic. Everything it writes is a real
//! format — pcap and pcapng files, Ethernet/IPv4/IPv6/TCP/UDP headers with correct checksums, gzip
//! made by flate2, HTTP/1.1 — and everything is deterministic: "random" values come from a seeded
//! [`prng::SplitMix64`] and timestamps from fixed bases, so the same call writes the same bytes.
//!
//! Layers, bottom up:
//! - [`pcap::PcapWriter`] and [`pcapng::PcapngWriter`]: file formats.
//! - [`packet`]: frames on several link types, IPv4 fragmentation, UDP, ARP.
//! - [`tcp::TcpConversation`]: whole TCP connections with edits for reassembly edge cases
//!   (reordering, retransmission, overlap, gaps, sequence wraparound, snap length).
//! - [`http`], [`dns`], [`tls`]: application payloads; [`h2_frames`] and [`hpack`]: HTTP/2
//!   frames and header compression.
//! - [`tls_fixture`]: real TLS 1.2/1.3 connections (rustls, in memory, with a seeded crypto
//!   provider so that they too are reproducible) and their NSS key logs; [`tls12_cbc`] writes the
//!   TLS 1.2 CBC suites rustls lacks.
//! - [`scenario`]: the bundled sample (with its device profile and expected findings), the decoy
//!   capture, the benchmark capture, and their TLS counterparts (the TLS sample, a set of small
//!   TLS fixtures, the TLS benchmark); the `phonehome-synth` binary writes them to files.
//!
//! ```
//! use phonehome_synth::pcap::{PcapOptions, PcapWriter};
//! use phonehome_synth::tcp::TcpConversation;
//!
//! let mut conv = TcpConversation::new("10.0.0.2:40000".parse().unwrap(), "192.0.2.1:80".parse().unwrap())
//!     .with_isns(u32::MAX - 3, 7); // sequence numbers wrap during the request
//! conv.handshake();
//! conv.client_send(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
//! conv.close();
//! let mut pcap = PcapWriter::new(Vec::new(), PcapOptions::default()).unwrap();
//! for f in conv.frames().unwrap() {
//!     pcap.write_packet(f.ts_nanos, &f.data, f.orig_len).unwrap();
//! }
//! assert_eq!(pcap.packets(), 3 + 2 + 3);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dns;
pub mod h2_frames;
pub mod hpack;
pub mod http;
pub mod packet;
pub mod pcap;
pub mod pcapng;
pub mod prng;
pub mod scenario;
pub mod tcp;
pub mod tls;
pub mod tls12_cbc;
pub mod tls_fixture;

pub use scenario::sample_expectations;
