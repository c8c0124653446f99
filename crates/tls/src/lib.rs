//! Passive decryption of TLS 1.2 and 1.3 from NSS key logs: the TLS half of phonehome's
//! protocol stage.
//!
//! phonehome's pipeline is `ingest → flow → protocol → message → decode → detect → attribute →
//! report`. `flow` reassembles each TCP connection into two ordered byte streams; for a TLS
//! connection this crate turns them back into plaintext (for the HTTP parsers) and reports what the
//! handshake says (SNI, ALPN, version) even when nothing can be decrypted. It does no I/O: the
//! caller pushes bytes and gets events back, like `phonehome-http`.
//!
//! - [`KeyLog`]: the secrets of an `SSLKEYLOGFILE` (all labels, `QUIC_` forms) and of pcapng
//!   Decryption Secrets Blocks; built once per capture and shared in an `Arc`.
//! - [`TlsSession`]: one per TCP connection. [`feed`](TlsSession::feed) each direction's bytes in
//!   capture order, report lost bytes with [`gap`](TlsSession::gap), collect [`TlsEvent`]s
//!   (ClientHello, Plaintext, Undecryptable, Anomaly) and read [`TlsInfo`].
//! - [`SessionCache`]: TLS 1.2 master secrets by session id and ticket, shared by a capture's
//!   connections so resumptions decrypt even when the key log lacks their client random.
//! - [`parse_client_hello`] / [`ClientHello`]: also used by `phonehome-quic` on Initial packets.
//! - [`detect_tls`]: does a stream prefix look like TLS?
//!
//! **What is ours and what is not.** No crate does passive decryption from key logs well (rustls
//! and the others are endpoints; tls-parser parses but does not decrypt), so the record layer,
//! handshake tracking, key schedules and trial decryption are written here, following RFC 5246
//! (TLS 1.2), RFC 2246/4346 (TLS 1.0/1.1 PRF and CBC IVs), RFC 8446 (TLS 1.3), RFC 5705 and
//! RFC 8446 §7.5 (exporters, whose logged secrets are ignored), RFC 7627 (extended master secret),
//! RFC 7366 (encrypt-then-MAC), RFC 8449 (record size limit: only lowers the caps used here),
//! RFC 5077 (tickets), RFC 5288/7905 (AES-GCM and ChaCha20-Poly1305 in TLS 1.2). The ciphers
//! themselves come from RustCrypto (`aes-gcm`, `chacha20poly1305`, `aes` + `cbc`, `hmac`, `hkdf`,
//! `sha1`, `sha2`, `md-5`).
//!
//! Supported: TLS 1.3 with AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305 (handshake keys for
//! EncryptedExtensions, HelloRetryRequest, KeyUpdate, 0-RTT with or without its secret);
//! TLS 1.0–1.2 with AES-GCM, ChaCha20-Poly1305 and AES-CBC + HMAC-SHA1/256/384 (mac-then-encrypt
//! or encrypt-then-MAC), master secret from `CLIENT_RANDOM`, from an `RSA` pre-master secret (with
//! or without extended master secret) or from an earlier session, and renegotiation. Everything
//! else (CCM, 3DES, RC4, SSL 3.0) is reported as `unsupported_suite`.
//!
//! **Bounded and panic-free.** Per direction a session holds at most one record
//! ([`TlsLimits::max_record_buffer`]) and one handshake message
//! ([`TlsLimits::max_handshake_buffer`]); resynchronisation after a gap scans at most
//! [`TlsLimits::resync_scan`] bytes and [`MAX_RESYNC_CANDIDATES`] candidate headers; records that
//! keep failing stop the direction ([`MAX_CONSECUTIVE_FAILURES`], [`MAX_SKIPPED_RECORDS`]).
//! Decryption happens in place in the output buffer: no allocation per record beyond the
//! plaintext. Keys are never printed (`Debug` impls leave them out).
//!
//! ```
//! use phonehome_model::{Direction, NotInspected};
//! use phonehome_tls::{KeyLog, TlsEvent, TlsLimits, TlsSession};
//! use std::sync::Arc;
//!
//! let mut keys = KeyLog::new();
//! let warnings = keys.add_text("CLIENT_RANDOM 0101010101010101010101010101010101010101010101010101010101010101 \
//!     020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202");
//! assert!(warnings.is_empty());
//! let mut session = TlsSession::new(Arc::new(keys), TlsLimits::default());
//!
//! // A ClientHello record offering one suite, with server_name "example.com".
//! let mut hello = vec![3, 3];
//! hello.extend_from_slice(&[0x07; 32]); // client random
//! hello.extend_from_slice(&[0, 0, 2, 0xc0, 0x2f, 1, 0, 0, 20, 0, 0, 0, 16, 0, 14, 0, 0, 11]);
//! hello.extend_from_slice(b"example.com");
//! let mut record = vec![22, 3, 1, 0, hello.len() as u8 + 4, 1, 0, 0, hello.len() as u8];
//! record.extend_from_slice(&hello);
//!
//! let mut events = Vec::new();
//! session.feed(Direction::Request, &record, 1, &mut events);
//! assert!(matches!(&events[..], [TlsEvent::ClientHello(ch)] if ch.sni.as_deref() == Some("example.com")));
//! assert_eq!(session.info().sni.as_deref(), Some("example.com"));
//!
//! // The stream of the other direction starts with application data: no handshake to follow.
//! let mut other = TlsSession::new(Arc::new(KeyLog::new()), TlsLimits::default());
//! events.clear();
//! other.feed(Direction::Response, &[23, 3, 3, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 7, &mut events);
//! assert_eq!(events, [TlsEvent::Undecryptable { reason: NotInspected::HandshakeMissing }]);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client_hello;
mod cursor;
mod error;
mod handshake;
mod key_schedule;
mod keylog;
mod record;
mod record_cipher;
mod session;
mod session_cache;
mod suite;

pub use client_hello::{ext, parse_client_hello, ClientHello, MAX_ALPN};
pub use error::TlsError;
pub use handshake::{parse_server_hello, ServerHello, HELLO_RETRY_REQUEST_RANDOM};
pub use keylog::{KeyLog, Tls13Secrets, MAX_IGNORED_LABELS, MAX_KEYLOG_ENTRIES, MAX_LABEL_LEN};
pub use record::{detect_tls, MAX_CIPHERTEXT_LEN, MAX_RESYNC_RECORD_LEN};
pub use session::{
    TlsEvent, TlsInfo, TlsLimits, TlsSession, MAX_CONSECUTIVE_FAILURES, MAX_RESYNC_CANDIDATES,
    MAX_SKIPPED_RECORDS,
};
pub use session_cache::{SessionCache, MAX_CACHE_ENTRIES};
