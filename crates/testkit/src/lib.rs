//! Test scaffolding shared by phonehome's crates (a dev-dependency only; never published).
//!
//! phonehome's tests check each stage on real captures from the shared, read-only test data and
//! on hand-built messages. Three pieces of scaffolding that many test files need live here once:
//!
//! - [`testdata`] finds the shared test data (`PHONEHOME_TESTDATA`, by default
//!   `<workspace>/../shared/testdata`); when it is absent it prints a skip message and returns
//!   `None`, except under `CI=true`, where absence fails the test. [`external`] and [`phone_sim`]
//!   name a path inside its two halves.
//! - [`read_streams`] runs a capture through the pipeline's own first stages
//!   (`phonehome-ingest` → `phonehome-wire` → `phonehome-flow`) and keeps what the flow stage
//!   delivered: per TCP connection the byte streams and the ordered [`StreamEvent`]s (data, gap,
//!   end, with frame numbers), per UDP flow the datagrams, and the capture's decryption secrets
//!   ([`CaptureStreams`]). Protocol tests (HTTP, TLS) feed those events to their parsers.
//!   [`read_ip_packets`] is the packet-by-packet view, without the flow stage (DNS and QUIC
//!   sweeps that look at every datagram as captured).
//! - [`request_message`] builds a request [`phonehome_model::Message`] for the decode and detect
//!   tests.
//!
//! It depends only on the library crates of the pipeline's first stages (model, wire, ingest,
//! flow), so any crate may take it as a dev-dependency.
//!
//! ```
//! // Skips (prints why and returns) when the shared test data is absent outside CI.
//! let Some(capture) = phonehome_testkit::external("zeek/testing/btest/Traces/http/get.pcap") else {
//!     return;
//! };
//! let streams = phonehome_testkit::read_streams(&capture);
//! assert_eq!(streams.tcp.len(), 1);
//! let conn = &streams.tcp[0];
//! assert_eq!(conn.server.port(), 80);
//! assert!(conn.client_bytes.starts_with(b"GET /download/CHANGES.bro-aux.txt HTTP/1.1"));
//! assert!(conn.server_bytes.starts_with(b"HTTP/1.1 200 OK"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod message;
mod packets;
mod streams;
mod testdata;

pub use message::request_message;
pub use packets::read_ip_packets;
pub use streams::{read_streams, CaptureStreams, StreamEvent, TcpStreamRecord, UdpFlowRecord};
pub use testdata::{external, phone_sim, testdata, TESTDATA_VAR};
