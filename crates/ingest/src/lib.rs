//! Streaming readers for pcap, pcapng (optionally gzip-compressed) and HAR files.
//!
//! Stage `ingest` of the pipeline (`ingest → flow → protocol → message → decode → …`): it turns
//! input files into a stream of events and knows nothing about what the packets contain.
//!
//! - [`read_capture`] / [`read_capture_from`] read a pcap or pcapng file and call back with a
//!   [`CaptureEvent`] for every [`Frame`], every pcapng Decryption Secrets Block (TLS key logs
//!   embedded in the capture) and every [`phonehome_model::Warning`], in file order. Frames borrow
//!   the reader's buffer: nothing is allocated per frame. The next stage, `flow`, takes frames.
//! - [`read_har`] / [`read_har_from`] read a HAR 1.2 file and call back with one [`HarEntry`] at a
//!   time (the `message` stage turns entries into messages).
//! - [`sniff_file`] says what a file is ([`Format`]), from its content, never from its name.
//!
//! **Push, not pull.** The readers drive a callback rather than returning an iterator so that a
//! frame can borrow the read buffer without a lending iterator, and so that the HAR reader can stay
//! inside serde's incremental parse.
//!
//! **Bounded memory, linear work.** Files are read in blocks (1 MiB to start); the buffer grows
//! only when a record or block of several MiB needs it, never beyond [`MAX_BUFFER_LEN`] (twice
//! the largest block, [`MAX_BLOCK_LEN`] = 16 MiB), and each byte is moved within it at most once
//! on average, so even resynchronising over garbage is linear in the bytes scanned. A HAR file
//! holds one entry at a time, at most [`MAX_HAR_ENTRY_BYTES`] of JSON, parsed straight into the
//! fields kept (a small multiple of the entry's size at most). A 20 GB capture reads in constant
//! memory.
//!
//! **Soft errors.** [`Error`] is returned only when nothing at all can be read (cannot open,
//! unknown format, bad file header, not a HAR). Anything wrong later — a truncated record, an
//! absurd block length, garbage in the middle, a corrupt gzip tail, a malformed HAR entry — is a
//! warning with the byte offset, and reading stops or resynchronises on the next valid record
//! (scanning at most [`MAX_RESYNC_SCAN`] bytes). Everything before the problem is delivered.
//!
//! ```
//! use phonehome_ingest::{read_capture_from, CaptureEvent};
//! use std::sync::Arc;
//!
//! // A little-endian, microsecond pcap with one 4-byte Ethernet (linktype 1) frame.
//! let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
//! pcap.extend(65535u32.to_le_bytes());
//! pcap.extend(1u32.to_le_bytes());
//! for field in [1_700_000_000u32, 250_000, 4, 60] {
//!     pcap.extend(field.to_le_bytes());
//! }
//! pcap.extend([0xde, 0xad, 0xbe, 0xef]);
//!
//! let mut frames = Vec::new();
//! let stats = read_capture_from(&pcap[..], Arc::from("tiny.pcap"), &mut |event| {
//!     if let CaptureEvent::Frame(f) = event {
//!         frames.push((f.number, f.time.to_rfc3339(), f.linktype, f.data.to_vec(), f.orig_len));
//!     }
//! })?;
//! assert_eq!(stats.frames, 1);
//! assert_eq!(frames[0], (1, "2023-11-14T22:13:20.250000Z".to_owned(), 1, vec![0xde, 0xad, 0xbe, 0xef], 60));
//! # Ok::<(), phonehome_ingest::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod byte_order;
mod capture;
mod error;
mod har;
mod input;
mod pcap;
mod pcapng;
mod resync;
mod sniff;

pub use capture::{
    read_capture, read_capture_from, CaptureEvent, CaptureStats, Frame, SECRETS_TLS_KEY_LOG,
};
pub use error::{Error, ErrorKind};
pub use har::{
    read_har, read_har_from, HarContent, HarEntry, HarEvent, HarParam, HarPostData, HarRequest,
    HarResponse, HarStats, HAR_ENTRY_MEMORY_ALLOWANCE, MAX_HAR_CREATOR_NAME_LEN,
    MAX_HAR_ENTRY_BYTES, MAX_HAR_ENTRY_MEMORY_RATIO,
};
pub use input::{INITIAL_BUFFER_LEN, MAX_BUFFER_LEN};
pub use pcap::MAX_PCAP_RECORD_LEN;
pub use pcapng::MAX_INTERFACES;
pub use resync::MAX_RESYNC_SCAN;
pub use sniff::{sniff_file, Format, Sniffed, SNIFF_LEN};

/// Largest pcapng block (and largest pcap record, for files whose snaplen asks for more than
/// [`MAX_PCAP_RECORD_LEN`]) accepted: 16 MiB. Longer lengths are treated as corruption.
pub const MAX_BLOCK_LEN: usize = 16 << 20;
