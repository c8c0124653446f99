//! Real TLS connections with their key logs, for testing passive decryption.
//!
//! A rustls client and server talk in memory; every byte each side writes becomes a TCP flight of
//! a [`TcpConversation`], and the client's NSS key log (SSLKEYLOGFILE lines) is kept. TLS 1.3
//! and TLS 1.2 with AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305 come from rustls; the TLS 1.2
//! CBC suites, which rustls does not implement, come from [`crate::tls12_cbc`].
//!
//! # Determinism
//!
//! Fixtures are byte-for-byte reproducible: rustls is given a crypto provider whose "secure"
//! random source is a [`SplitMix64`] seeded from [`TlsOptions::seed`] (client and server randoms,
//! session ids and tickets), whose X25519 key shares come from the same generator, a fixed clock,
//! and an Ed25519 server certificate (deterministic signatures) made with rcgen from a fixed key.
//! This is for test data only: nothing here is secure, and that is the point. The bytes are
//! stable for a given rustls release (0.23.x); another rustls may order extensions differently,
//! so tests should compare decrypted content, not whole captures, across upgrades. The generator
//! is thread-local and reseeded by each fixture, so fixtures built on different threads agree.
//!
//! ```
//! use phonehome_synth::tls_fixture::{tls_http1_fixture, TlsSuite, TlsVersion};
//! let f = tls_http1_fixture(
//!     TlsVersion::V13,
//!     TlsSuite::Aes128Gcm,
//!     "api.example.com",
//!     &[b"GET / HTTP/1.1\r\nHost: api.example.com\r\n\r\n".to_vec()],
//!     &[b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()],
//! )
//! .unwrap();
//! assert!(f.keylog.contains("CLIENT_TRAFFIC_SECRET_0 "));
//! assert!(f.frames.len() > 10);
//! ```

use crate::h2_frames::{H2Client, H2Framing, H2Request, H2Response, H2Server};
use crate::packet::{BuildError, Frame};
use crate::pcap::{ByteOrder, PcapOptions, PcapWriter};
use crate::pcapng::{Interface, PcapngWriter, TsResolution};
use crate::prng::SplitMix64;
use crate::tcp::TcpConversation;
use crate::tls12_cbc::{hex, CbcConfig, CbcConnection, CbcSession, CbcSuite};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    ActiveKeyExchange, CryptoProvider, GetRandomFailed, SecureRandom, SharedSecret,
    SupportedKxGroup, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::time_provider::TimeProvider;
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, HandshakeKind, KeyLog, NamedGroup,
    ServerConfig, ServerConnection, SignatureScheme, SupportedCipherSuite,
};
use std::cell::RefCell;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Most times the in-memory client and server pass bytes back and forth before giving up.
pub const MAX_PUMP_ROUNDS: usize = 64;
/// Most `read_tls` calls one delivery makes (each consumes at least one byte or fails).
const MAX_READS_PER_DELIVERY: usize = 1 << 20;
/// The fixed clock of every fixture: the sample day, 2026-11-24T10:00:00Z.
pub const FIXTURE_UNIX_SECS: u64 = 1_795_514_400;

/// The TLS version of a fixture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    V12,
    /// TLS 1.3 (RFC 8446).
    V13,
}

/// The cipher suite of a fixture (the key exchange is X25519; TLS 1.2 AEAD suites are ECDHE_ECDSA
/// with an Ed25519 certificate, the CBC suites plain RSA key transport without a certificate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsSuite {
    /// AES-128-GCM (TLS 1.3 TLS_AES_128_GCM_SHA256 or TLS 1.2 ..._WITH_AES_128_GCM_SHA256).
    Aes128Gcm,
    /// AES-256-GCM with SHA-384.
    Aes256Gcm,
    /// ChaCha20-Poly1305.
    Chacha20Poly1305,
    /// TLS 1.2 only: TLS_RSA_WITH_AES_128_CBC_SHA.
    Aes128CbcSha,
    /// TLS 1.2 only: TLS_RSA_WITH_AES_256_CBC_SHA256.
    Aes256CbcSha256,
}

impl TlsSuite {
    /// The IANA name for this suite in `version` (`None` for CBC in TLS 1.3).
    pub fn name(self, version: TlsVersion) -> Option<&'static str> {
        Some(match (version, self) {
            (TlsVersion::V13, Self::Aes128Gcm) => "TLS_AES_128_GCM_SHA256",
            (TlsVersion::V13, Self::Aes256Gcm) => "TLS_AES_256_GCM_SHA384",
            (TlsVersion::V13, Self::Chacha20Poly1305) => "TLS_CHACHA20_POLY1305_SHA256",
            (TlsVersion::V12, Self::Aes128Gcm) => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            (TlsVersion::V12, Self::Aes256Gcm) => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            (TlsVersion::V12, Self::Chacha20Poly1305) => {
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
            }
            (TlsVersion::V12, Self::Aes128CbcSha) => "TLS_RSA_WITH_AES_128_CBC_SHA",
            (TlsVersion::V12, Self::Aes256CbcSha256) => "TLS_RSA_WITH_AES_256_CBC_SHA256",
            (TlsVersion::V13, Self::Aes128CbcSha | Self::Aes256CbcSha256) => return None,
        })
    }

    /// The IANA code point in `version` (`None` for CBC in TLS 1.3).
    pub fn code(self, version: TlsVersion) -> Option<u16> {
        Some(match (version, self) {
            (TlsVersion::V13, Self::Aes128Gcm) => 0x1301,
            (TlsVersion::V13, Self::Aes256Gcm) => 0x1302,
            (TlsVersion::V13, Self::Chacha20Poly1305) => 0x1303,
            (TlsVersion::V12, Self::Aes128Gcm) => 0xc02b,
            (TlsVersion::V12, Self::Aes256Gcm) => 0xc02c,
            (TlsVersion::V12, Self::Chacha20Poly1305) => 0xcca9,
            (TlsVersion::V12, Self::Aes128CbcSha) => 0x002f,
            (TlsVersion::V12, Self::Aes256CbcSha256) => 0x003d,
            (TlsVersion::V13, Self::Aes128CbcSha | Self::Aes256CbcSha256) => return None,
        })
    }

    fn cbc(self) -> Option<CbcSuite> {
        match self {
            Self::Aes128CbcSha => Some(CbcSuite::Aes128CbcSha),
            Self::Aes256CbcSha256 => Some(CbcSuite::Aes256CbcSha256),
            _ => None,
        }
    }

    fn rustls_suite(self, version: TlsVersion) -> Option<SupportedCipherSuite> {
        use rustls::crypto::ring::cipher_suite as cs;
        Some(match (version, self) {
            (TlsVersion::V13, Self::Aes128Gcm) => cs::TLS13_AES_128_GCM_SHA256,
            (TlsVersion::V13, Self::Aes256Gcm) => cs::TLS13_AES_256_GCM_SHA384,
            (TlsVersion::V13, Self::Chacha20Poly1305) => cs::TLS13_CHACHA20_POLY1305_SHA256,
            (TlsVersion::V12, Self::Aes128Gcm) => cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            (TlsVersion::V12, Self::Aes256Gcm) => cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            (TlsVersion::V12, Self::Chacha20Poly1305) => {
                cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
            }
            _ => return None,
        })
    }
}

/// Why a fixture could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum FixtureError {
    /// rustls refused something (configuration or handshake).
    Tls(rustls::Error),
    /// The certificate could not be made.
    Certificate(rcgen::Error),
    /// A packet could not be built.
    Build(BuildError),
    /// Reading or writing the in-memory streams failed.
    Io(io::Error),
    /// The version and suite do not go together (CBC with TLS 1.3) or the server name is invalid.
    Unsupported(&'static str),
    /// The handshake did not finish within [`MAX_PUMP_ROUNDS`].
    Stalled,
    /// What a peer decrypted differs from what was sent (a bug in this crate or in rustls).
    Mismatch,
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Certificate(e) => write!(f, "certificate: {e}"),
            Self::Build(e) => write!(f, "packet: {e}"),
            Self::Io(e) => write!(f, "I/O: {e}"),
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
            Self::Stalled => f.write_str("the TLS handshake stalled"),
            Self::Mismatch => f.write_str("decrypted data differs from what was sent"),
        }
    }
}

impl std::error::Error for FixtureError {}

impl From<rustls::Error> for FixtureError {
    fn from(e: rustls::Error) -> Self {
        Self::Tls(e)
    }
}

impl From<rcgen::Error> for FixtureError {
    fn from(e: rcgen::Error) -> Self {
        Self::Certificate(e)
    }
}

impl From<BuildError> for FixtureError {
    fn from(e: BuildError) -> Self {
        Self::Build(e)
    }
}

impl From<io::Error> for FixtureError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<FixtureError> for io::Error {
    fn from(e: FixtureError) -> Self {
        match e {
            FixtureError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}

/// Bytes one side writes in one go (one TCP send).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flight {
    /// True when the client wrote them.
    pub from_client: bool,
    /// The TLS records.
    pub bytes: Vec<u8>,
}

/// What a fixture's connections look like.
#[derive(Clone, Debug)]
pub struct TlsOptions {
    /// Seed of every random value (TLS randoms, keys, IVs, session ids).
    pub seed: u64,
    /// The phone's address (the client); a resumed connection uses the next port.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// Time of the first SYN.
    pub start_nanos: i128,
    /// Time between segments.
    pub step_nanos: i128,
    /// TCP maximum segment size.
    pub mss: usize,
    /// Open a second connection that resumes the first one's session (TLS 1.3 PSK from a
    /// NewSessionTicket; TLS 1.2 session id). It carries the same requests again.
    pub resume: bool,
    /// TLS 1.3: after the first exchange the client sends KeyUpdate (update_requested) and the
    /// server answers with its own, so both directions change keys mid-connection.
    pub key_update: bool,
    /// Leave this connection's lines out of [`TlsFixture::keylog`] (0 = the first connection).
    pub omit_key_log: Option<usize>,
    /// TLS 1.2 CBC: negotiate encrypt_then_mac (RFC 7366) instead of MAC-then-encrypt.
    pub encrypt_then_mac: bool,
    /// TLS 1.2 CBC: whole blocks of padding beyond the minimum in every record.
    pub cbc_extra_padding_blocks: u8,
    /// HTTP/2 frame sizes and padding.
    pub h2_framing: H2Framing,
    /// HTTP/2: send all requests at once with their DATA frames interleaved, answered in reverse
    /// order, instead of one exchange at a time.
    pub h2_interleave: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            client: SocketAddr::new(crate::scenario::PHONE_V4.into(), 41_000),
            server: SocketAddr::new(std::net::Ipv4Addr::new(192, 0, 2, 80).into(), 443),
            start_nanos: crate::scenario::SAMPLE_START_NANOS,
            step_nanos: 1_000_000,
            mss: crate::tcp::DEFAULT_MSS,
            resume: false,
            key_update: false,
            omit_key_log: None,
            encrypt_then_mac: false,
            cbc_extra_padding_blocks: 0,
            h2_framing: H2Framing::default(),
            h2_interleave: false,
        }
    }
}

/// One TCP connection of a fixture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConnection {
    /// The client's address.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// The ClientHello random (the key log's second column).
    pub client_random: [u8; 32],
    /// True when the handshake resumed an earlier session.
    pub resumed: bool,
    /// True when [`TlsFixture::keylog`] has this connection's lines.
    pub key_logged: bool,
    /// KeyUpdate messages sent by the client (each answered by the server).
    pub key_updates: usize,
    /// This connection's key log lines (also when left out of the fixture's key log).
    pub keylog: String,
    /// Every byte the client sent over TCP (TLS records).
    pub client_tls: Vec<u8>,
    /// Every byte the server sent over TCP.
    pub server_tls: Vec<u8>,
    /// The application data the client sent (what decryption must give back).
    pub client_plaintext: Vec<u8>,
    /// The application data the server sent.
    pub server_plaintext: Vec<u8>,
    /// The flights in order.
    pub flights: Vec<Flight>,
}

/// A capture of real TLS traffic and its key log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFixture {
    /// Every frame (Ethernet, IPv4 or IPv6, TCP) of every connection, in capture order.
    pub frames: Vec<Frame>,
    /// The NSS key log (one line per secret, each ending with a newline).
    pub keylog: String,
    /// The server name the client sent.
    pub sni: String,
    /// The negotiated version.
    pub version: TlsVersion,
    /// The negotiated suite.
    pub suite: TlsSuite,
    /// The negotiated ALPN protocol.
    pub alpn: Option<String>,
    /// The TCP connections, in order.
    pub connections: Vec<TlsConnection>,
}

impl TlsFixture {
    /// Writes the frames as a pcap file (Ethernet, microseconds).
    pub fn write_pcap(&self, w: impl Write) -> io::Result<()> {
        let mut pcap = PcapWriter::new(w, PcapOptions::default())?;
        for f in &self.frames {
            pcap.write_packet(f.ts_nanos, &f.data, f.orig_len)?;
        }
        pcap.into_inner()?.flush()
    }

    /// Writes the frames as a pcapng file (one Ethernet interface, nanoseconds), with the key log
    /// in a Decryption Secrets Block before the packets when `embed_keylog` is set.
    pub fn write_pcapng(&self, w: impl Write, embed_keylog: bool) -> io::Result<()> {
        let mut out = PcapngWriter::new(w, ByteOrder::Little, Some("phonehome TLS fixture"))?;
        let iface = out.add_interface(Interface {
            tsresol: Some(TsResolution::Decimal(9)),
            name: Some("wlan0".to_owned()),
            ..Interface::new(crate::packet::linktype::ETHERNET as u16)
        })?;
        if embed_keylog {
            out.write_tls_key_log(self.keylog.as_bytes())?;
        }
        for f in &self.frames {
            out.write_packet(iface, f.ts_nanos, &f.data, f.orig_len, None)?;
        }
        out.into_inner()?.flush()
    }
}

/// One step of what a connection carries once the handshake is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppStep {
    /// The client sends these bytes.
    Client(Vec<u8>),
    /// The server sends these bytes.
    Server(Vec<u8>),
    /// TLS 1.3: the client updates its keys and requests the server's update (ignored for 1.2).
    KeyUpdate,
}

// ---------------------------------------------------------------------------------------------
// Deterministic crypto provider.

thread_local! {
    /// The generator behind [`SeededRandom`] and [`SeededX25519`]. rustls runs on the calling
    /// thread, so each fixture reseeds it and gets the same draws every time.
    static FIXTURE_RNG: RefCell<SplitMix64> = const { RefCell::new(SplitMix64::new(0)) };
}

/// Restarts this thread's fixture generator at `seed`.
pub(crate) fn reseed(seed: u64) {
    FIXTURE_RNG.with(|r| *r.borrow_mut() = SplitMix64::new(seed ^ 0x746c_735f_6669_7874));
}

fn fill_random(buf: &mut [u8]) {
    FIXTURE_RNG.with(|r| r.borrow_mut().fill(buf));
}

/// rustls's random source, made reproducible (see the module docs).
#[derive(Debug)]
struct SeededRandom;

impl SecureRandom for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        fill_random(buf);
        Ok(())
    }
}

static SEEDED_RANDOM: SeededRandom = SeededRandom;

/// X25519 (RFC 7748) with private keys from the fixture generator.
#[derive(Debug)]
struct SeededX25519;

struct X25519Exchange {
    secret: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

impl SupportedKxGroup for SeededX25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let mut key = [0u8; 32];
        fill_random(&mut key);
        let secret = x25519_dalek::StaticSecret::from(key);
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        Ok(Box::new(X25519Exchange { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

impl ActiveKeyExchange for X25519Exchange {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, rustls::Error> {
        let peer: [u8; 32] = peer_pub_key
            .try_into()
            .map_err(|_| rustls::PeerMisbehaved::InvalidKeyShare)?;
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        if !shared.was_contributory() {
            return Err(rustls::PeerMisbehaved::InvalidKeyShare.into());
        }
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

static SEEDED_X25519: SeededX25519 = SeededX25519;

/// A clock stopped at [`FIXTURE_UNIX_SECS`].
#[derive(Debug)]
struct FixedClock;

impl TimeProvider for FixedClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            FIXTURE_UNIX_SECS,
        )))
    }
}

/// Accepts any certificate but checks the handshake signatures (the client and server are both
/// ours; only the bytes on the wire matter).
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Collects the client's key log lines.
#[derive(Debug, Default)]
pub(crate) struct KeyLogLines {
    lines: Mutex<Vec<String>>,
}

impl KeyLog for KeyLogLines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(format!("{label} {} {}\n", hex(client_random), hex(secret)));
        }
    }
}

impl KeyLogLines {
    /// Takes the lines logged so far.
    pub(crate) fn take(&self) -> String {
        self.lines
            .lock()
            .map(|mut l| l.drain(..).collect())
            .unwrap_or_default()
    }
}

/// PKCS#8 v1 (RFC 8410) of an Ed25519 private key.
fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

/// The seed of the fixtures' Ed25519 server key.
const SERVER_KEY_SEED: [u8; 32] = *b"phonehome-synth test server key!";

/// A self-signed Ed25519 certificate for `sni` and its private key, the same for the same name.
pub(crate) fn server_certificate(
    sni: &str,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), FixtureError> {
    let pkcs8 = ed25519_pkcs8(&SERVER_KEY_SEED);
    let key = rcgen::KeyPair::try_from(pkcs8.as_slice())?;
    let mut params = rcgen::CertificateParams::new(vec![sni.to_owned()])?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, sni);
    let cert = params.self_signed(&key)?;
    Ok((
        cert.der().clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8)),
    ))
}

fn provider(suite: SupportedCipherSuite) -> Arc<CryptoProvider> {
    let ring = rustls::crypto::ring::default_provider();
    Arc::new(CryptoProvider {
        cipher_suites: vec![suite],
        kx_groups: vec![&SEEDED_X25519],
        secure_random: &SEEDED_RANDOM,
        ..ring
    })
}

/// A client and a server configuration that can only agree on `version` and `suite`, with
/// `alpn` offered and accepted, the client logging keys into the returned collector.
pub(crate) struct TlsConfigs {
    pub(crate) client: Arc<ClientConfig>,
    pub(crate) server: Arc<ServerConfig>,
    pub(crate) keylog: Arc<KeyLogLines>,
    pub(crate) name: ServerName<'static>,
}

impl TlsConfigs {
    pub(crate) fn new(
        version: TlsVersion,
        suite: TlsSuite,
        sni: &str,
        alpn: &[u8],
    ) -> Result<Self, FixtureError> {
        let cs = suite
            .rustls_suite(version)
            .ok_or(FixtureError::Unsupported(
                "CBC suites exist only in TLS 1.2",
            ))?;
        let versions: &[&'static rustls::SupportedProtocolVersion] = match version {
            TlsVersion::V12 => &[&rustls::version::TLS12],
            TlsVersion::V13 => &[&rustls::version::TLS13],
        };
        let (cert, key) = server_certificate(sni)?;
        let clock: Arc<dyn TimeProvider> = Arc::new(FixedClock);
        let mut server = ServerConfig::builder_with_details(provider(cs), clock.clone())
            .with_protocol_versions(versions)?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)?;
        server.alpn_protocols = vec![alpn.to_vec()];
        let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        let keylog = Arc::new(KeyLogLines::default());
        let mut client = ClientConfig::builder_with_details(provider(cs), clock)
            .with_protocol_versions(versions)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate { algorithms }))
            .with_no_client_auth();
        client.alpn_protocols = vec![alpn.to_vec()];
        client.key_log = keylog.clone();
        let name = ServerName::try_from(sni.to_owned())
            .map_err(|_| FixtureError::Unsupported("server name is not a DNS name"))?;
        Ok(Self {
            client: Arc::new(client),
            server: Arc::new(server),
            keylog,
            name,
        })
    }
}

/// A rustls client and server connected in memory, recording what each writes.
pub(crate) struct RustlsPair {
    client: ClientConnection,
    server: ServerConnection,
    flights: Vec<Flight>,
    client_rx: Vec<u8>,
    server_rx: Vec<u8>,
}

/// Everything `conn` wants to send.
fn drain<D>(conn: &mut rustls::ConnectionCommon<D>) -> Result<Vec<u8>, FixtureError> {
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out)?;
    }
    Ok(out)
}

/// Gives `bytes` to `conn` and appends the plaintext it yields to `rx`.
fn deliver<D>(
    conn: &mut rustls::ConnectionCommon<D>,
    mut bytes: &[u8],
    rx: &mut Vec<u8>,
) -> Result<(), FixtureError> {
    let mut buf = [0u8; 16 * 1024];
    for _ in 0..MAX_READS_PER_DELIVERY {
        if bytes.is_empty() {
            return Ok(());
        }
        if conn.read_tls(&mut bytes)? == 0 {
            return Err(FixtureError::Stalled);
        }
        conn.process_new_packets()?;
        loop {
            match conn.reader().read(&mut buf) {
                Ok(0) => break,
                Ok(n) => rx.extend_from_slice(buf.get(..n).unwrap_or(&[])),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Err(FixtureError::Stalled)
}

impl RustlsPair {
    pub(crate) fn new(configs: &TlsConfigs) -> Result<Self, FixtureError> {
        let mut client = ClientConnection::new(configs.client.clone(), configs.name.clone())?;
        let mut server = ServerConnection::new(configs.server.clone())?;
        client.set_buffer_limit(None);
        server.set_buffer_limit(None);
        Ok(Self {
            client,
            server,
            flights: Vec::new(),
            client_rx: Vec::new(),
            server_rx: Vec::new(),
        })
    }

    /// Passes bytes between the two sides until neither has anything to send; each non-empty
    /// batch is one flight.
    pub(crate) fn pump(&mut self) -> Result<(), FixtureError> {
        for _ in 0..MAX_PUMP_ROUNDS {
            let c = drain(&mut self.client)?;
            let client_quiet = c.is_empty();
            if !c.is_empty() {
                deliver(&mut self.server, &c, &mut self.server_rx)?;
                self.flights.push(Flight {
                    from_client: true,
                    bytes: c,
                });
            }
            let s = drain(&mut self.server)?;
            let idle = client_quiet && s.is_empty();
            if !s.is_empty() {
                deliver(&mut self.client, &s, &mut self.client_rx)?;
                self.flights.push(Flight {
                    from_client: false,
                    bytes: s,
                });
            }
            if idle {
                return Ok(());
            }
        }
        Err(FixtureError::Stalled)
    }

    /// Queues `data` on one side without moving any bytes (written by the next pump; the client's
    /// first request thus leaves with its TLS 1.3 Finished).
    pub(crate) fn queue(&mut self, from_client: bool, data: &[u8]) -> Result<(), FixtureError> {
        if from_client {
            self.client.writer().write_all(data)?;
        } else {
            self.server.writer().write_all(data)?;
        }
        Ok(())
    }

    /// Runs the handshake to its end (and delivers the server's tickets).
    pub(crate) fn handshake(&mut self) -> Result<(), FixtureError> {
        self.pump()?;
        if self.client.is_handshaking() || self.server.is_handshaking() {
            return Err(FixtureError::Stalled);
        }
        Ok(())
    }

    /// One side writes `data`, which the other side receives; returns nothing but records the
    /// flights.
    pub(crate) fn send(&mut self, from_client: bool, data: &[u8]) -> Result<(), FixtureError> {
        if from_client {
            self.client.writer().write_all(data)?;
        } else {
            self.server.writer().write_all(data)?;
        }
        self.pump()
    }

    /// One side writes `data`; the records are returned and not delivered (the bulk path of the
    /// benchmark: the peer never decrypts them).
    pub(crate) fn seal_only(
        &mut self,
        from_client: bool,
        data: &[u8],
    ) -> Result<Vec<u8>, FixtureError> {
        if from_client {
            self.client.writer().write_all(data)?;
            drain(&mut self.client)
        } else {
            self.server.writer().write_all(data)?;
            drain(&mut self.server)
        }
    }

    /// The client sends close_notify; the record is returned and not delivered.
    pub(crate) fn close_only(&mut self) -> Result<Vec<u8>, FixtureError> {
        self.client.send_close_notify();
        drain(&mut self.client)
    }

    /// The client updates its traffic keys and asks the server to update its own.
    pub(crate) fn key_update(&mut self) -> Result<(), FixtureError> {
        self.client.refresh_traffic_keys()?;
        self.pump()
    }

    /// The client sends close_notify.
    pub(crate) fn close(&mut self) -> Result<(), FixtureError> {
        self.client.send_close_notify();
        self.pump()
    }

    /// True when the handshake resumed a session.
    pub(crate) fn resumed(&self) -> bool {
        self.client.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    /// The flights so far, emptied.
    pub(crate) fn take_flights(&mut self) -> Vec<Flight> {
        std::mem::take(&mut self.flights)
    }

    /// What the client and the server received as plaintext.
    pub(crate) fn received(&self) -> (&[u8], &[u8]) {
        (&self.client_rx, &self.server_rx)
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// The ClientHello random in a client's first flight (zeros if it is not a ClientHello).
pub fn client_random_of(first_flight: &[u8]) -> [u8; 32] {
    let mut random = [0u8; 32];
    if first_flight.first() == Some(&22) && first_flight.get(5) == Some(&1) {
        if let Some(r) = first_flight.get(11..43) {
            random.copy_from_slice(r);
        }
    }
    random
}

/// One connection's TLS bytes and secrets, before TCP.
struct ConnectionRun {
    flights: Vec<Flight>,
    keylog: String,
    client_random: [u8; 32],
    resumed: bool,
    key_updates: usize,
    client_plain: Vec<u8>,
    server_plain: Vec<u8>,
}

fn run_rustls(
    configs: &TlsConfigs,
    version: TlsVersion,
    script: &[AppStep],
) -> Result<ConnectionRun, FixtureError> {
    let mut pair = RustlsPair::new(configs)?;
    let mut steps = script.iter().peekable();
    let mut client_plain = Vec::new();
    let mut server_plain = Vec::new();
    if let Some(AppStep::Client(first)) = steps.peek() {
        pair.queue(true, first)?;
        client_plain.extend_from_slice(first);
        steps.next();
    }
    pair.handshake()?;
    let mut key_updates = 0;
    for step in steps {
        match step {
            AppStep::Client(b) => {
                pair.send(true, b)?;
                client_plain.extend_from_slice(b);
            }
            AppStep::Server(b) => {
                pair.send(false, b)?;
                server_plain.extend_from_slice(b);
            }
            AppStep::KeyUpdate if version == TlsVersion::V13 => {
                pair.key_update()?;
                key_updates += 1;
            }
            AppStep::KeyUpdate => {}
        }
    }
    pair.close()?;
    let (client_rx, server_rx) = pair.received();
    if client_rx != server_plain.as_slice() || server_rx != client_plain.as_slice() {
        return Err(FixtureError::Mismatch);
    }
    let resumed = pair.resumed();
    let flights = pair.take_flights();
    let client_random = flights
        .first()
        .map(|f| client_random_of(&f.bytes))
        .unwrap_or_default();
    Ok(ConnectionRun {
        flights,
        keylog: configs.keylog.take(),
        client_random,
        resumed,
        key_updates,
        client_plain,
        server_plain,
    })
}

fn run_cbc(
    config: &CbcConfig<'_>,
    resume: Option<&CbcSession>,
    seed: u64,
    script: &[AppStep],
) -> Result<(ConnectionRun, CbcSession), FixtureError> {
    let (mut conn, mut flights) = CbcConnection::handshake(config, resume, seed)
        .ok_or(FixtureError::Unsupported("CBC key lengths"))?;
    let mut client_plain = Vec::new();
    let mut server_plain = Vec::new();
    for step in script {
        match step {
            AppStep::Client(b) => {
                flights.push(Flight {
                    from_client: true,
                    bytes: conn.app_data(true, b),
                });
                client_plain.extend_from_slice(b);
            }
            AppStep::Server(b) => {
                flights.push(Flight {
                    from_client: false,
                    bytes: conn.app_data(false, b),
                });
                server_plain.extend_from_slice(b);
            }
            AppStep::KeyUpdate => {}
        }
    }
    flights.push(Flight {
        from_client: true,
        bytes: conn.close_notify(true),
    });
    let run = ConnectionRun {
        flights,
        keylog: conn.key_log_line(),
        client_random: conn.client_random(),
        resumed: conn.resumed(),
        key_updates: 0,
        client_plain,
        server_plain,
    };
    Ok((run, conn.session().clone()))
}

/// Time between the end of one connection and the start of the next, in nanoseconds.
const CONNECTION_GAP_NANOS: i128 = 50_000_000;

/// Runs `1 + opts.resume` connections carrying `script(i)` and lays them out over TCP.
pub fn build_fixture(
    version: TlsVersion,
    suite: TlsSuite,
    sni: &str,
    alpn: &[u8],
    opts: &TlsOptions,
    script: impl Fn(usize) -> Vec<AppStep>,
) -> Result<TlsFixture, FixtureError> {
    if suite.code(version).is_none() {
        return Err(FixtureError::Unsupported(
            "CBC suites exist only in TLS 1.2",
        ));
    }
    reseed(opts.seed);
    let count = 1 + usize::from(opts.resume);
    let mut runs = Vec::with_capacity(count);
    match suite.cbc() {
        Some(cbc) => {
            let config = CbcConfig {
                suite: cbc,
                encrypt_then_mac: opts.encrypt_then_mac,
                sni,
                alpn: Some(alpn),
                extra_padding_blocks: opts.cbc_extra_padding_blocks,
            };
            let mut session: Option<CbcSession> = None;
            for i in 0..count {
                let seed = opts.seed.wrapping_add(i as u64).rotate_left(17);
                let (run, s) = run_cbc(&config, session.as_ref(), seed, &script(i))?;
                session = Some(s);
                runs.push(run);
            }
        }
        None => {
            let configs = TlsConfigs::new(version, suite, sni, alpn)?;
            for i in 0..count {
                runs.push(run_rustls(&configs, version, &script(i))?);
            }
        }
    }
    let mut frames = Vec::new();
    let mut keylog = String::new();
    let mut connections = Vec::with_capacity(count);
    let mut clock = opts.start_nanos;
    for (i, run) in runs.into_iter().enumerate() {
        let client = SocketAddr::new(opts.client.ip(), opts.client.port().wrapping_add(i as u16));
        let mut conv = TcpConversation::new(client, opts.server)
            .with_start(clock)
            .with_step(opts.step_nanos)
            .with_mss(opts.mss);
        conv.handshake();
        let mut client_tls = Vec::new();
        let mut server_tls = Vec::new();
        for f in &run.flights {
            if f.from_client {
                conv.client_send(&f.bytes);
                client_tls.extend_from_slice(&f.bytes);
            } else {
                conv.pause(opts.step_nanos.saturating_mul(3));
                conv.server_send(&f.bytes);
                server_tls.extend_from_slice(&f.bytes);
            }
        }
        conv.close();
        frames.extend(conv.frames()?);
        clock = conv.clock().saturating_add(CONNECTION_GAP_NANOS);
        let key_logged = opts.omit_key_log != Some(i);
        if key_logged {
            keylog.push_str(&run.keylog);
        }
        connections.push(TlsConnection {
            client,
            server: opts.server,
            client_random: run.client_random,
            resumed: run.resumed,
            key_logged,
            key_updates: run.key_updates,
            keylog: run.keylog,
            client_tls,
            server_tls,
            client_plaintext: run.client_plain,
            server_plaintext: run.server_plain,
            flights: run.flights,
        });
    }
    Ok(TlsFixture {
        frames,
        keylog,
        sni: sni.to_owned(),
        version,
        suite,
        alpn: Some(String::from_utf8_lossy(alpn).into_owned()),
        connections,
    })
}

/// HTTP/1.1 exchanges as steps: request `i`, then response `i` (KeyUpdate after the first
/// exchange when `key_update`).
pub fn http1_script(requests: &[Vec<u8>], responses: &[Vec<u8>], key_update: bool) -> Vec<AppStep> {
    let mut steps = Vec::with_capacity(requests.len() + responses.len() + 1);
    for i in 0..requests.len().max(responses.len()) {
        if let Some(r) = requests.get(i) {
            steps.push(AppStep::Client(r.clone()));
        }
        if let Some(r) = responses.get(i) {
            steps.push(AppStep::Server(r.clone()));
        }
        if i == 0 && key_update {
            steps.push(AppStep::KeyUpdate);
        }
    }
    steps
}

/// HTTP/2 exchanges as steps: the client's preface with the first request, the server's
/// SETTINGS with the first response, then one exchange at a time — or, with `interleave`, every
/// request at once (DATA frames of all streams round-robin) answered in reverse order — and the
/// client's GOAWAY at the end.
pub fn h2_script(
    exchanges: &[(H2Request, H2Response)],
    framing: H2Framing,
    interleave: bool,
    key_update: bool,
) -> Vec<AppStep> {
    let mut client = H2Client::with_framing(framing);
    let mut server = H2Server::with_framing(framing);
    let mut steps = Vec::with_capacity(exchanges.len() * 2 + 3);
    let mut acked = false;
    if interleave {
        let mut first = client.preface();
        let mut streams = Vec::with_capacity(exchanges.len());
        for (req, _) in exchanges {
            let (id, headers) = client.request_headers(req);
            first.extend_from_slice(&headers);
            streams.push((id, req.body.as_slice()));
        }
        let step = framing
            .max_data
            .clamp(1, crate::h2_frames::MAX_FRAME_PAYLOAD);
        let rounds = streams
            .iter()
            .map(|(_, b)| b.len().div_ceil(step))
            .max()
            .unwrap_or(0);
        for round in 0..rounds {
            for (id, body) in &streams {
                let start = round.saturating_mul(step);
                if let Some(chunk) = body.get(start..body.len().min(start.saturating_add(step))) {
                    if !chunk.is_empty() {
                        let last = start + chunk.len() >= body.len();
                        first.extend_from_slice(&client.data(*id, chunk, last));
                    }
                }
            }
        }
        steps.push(AppStep::Client(first));
        let mut answer = server.preface();
        for ((id, _), (_, resp)) in streams.iter().zip(exchanges).rev() {
            answer.extend_from_slice(&server.response(*id, resp));
        }
        steps.push(AppStep::Server(answer));
        if key_update {
            steps.push(AppStep::KeyUpdate);
        }
    } else {
        for (i, (req, resp)) in exchanges.iter().enumerate() {
            let mut c = match i {
                0 => client.preface(),
                _ if !acked => {
                    acked = true;
                    crate::h2_frames::settings_ack()
                }
                _ => Vec::new(),
            };
            let (id, frames) = client.request(req);
            c.extend_from_slice(&frames);
            steps.push(AppStep::Client(c));
            let mut s = if i == 0 { server.preface() } else { Vec::new() };
            s.extend_from_slice(&server.response(id, resp));
            steps.push(AppStep::Server(s));
            if i == 0 && key_update {
                steps.push(AppStep::KeyUpdate);
            }
        }
        if exchanges.is_empty() {
            steps.push(AppStep::Client(client.preface()));
            steps.push(AppStep::Server(server.preface()));
        }
    }
    let mut last = if acked {
        Vec::new()
    } else {
        crate::h2_frames::settings_ack()
    };
    last.extend_from_slice(&client.goaway());
    steps.push(AppStep::Client(last));
    steps
}

/// A fixture of HTTP/1.1 over TLS (ALPN `http/1.1`) with default options: request `i` then
/// response `i`, over one TCP connection from 10.0.0.2 to 192.0.2.80:443.
pub fn tls_http1_fixture(
    version: TlsVersion,
    suite: TlsSuite,
    sni: &str,
    requests: &[Vec<u8>],
    responses: &[Vec<u8>],
) -> Result<TlsFixture, FixtureError> {
    tls_http1_fixture_with(
        &TlsOptions::default(),
        version,
        suite,
        sni,
        requests,
        responses,
    )
}

/// [`tls_http1_fixture`] with options (resumption, KeyUpdate, omitted keys, CBC variants…).
pub fn tls_http1_fixture_with(
    opts: &TlsOptions,
    version: TlsVersion,
    suite: TlsSuite,
    sni: &str,
    requests: &[Vec<u8>],
    responses: &[Vec<u8>],
) -> Result<TlsFixture, FixtureError> {
    let script = http1_script(requests, responses, opts.key_update);
    build_fixture(version, suite, sni, b"http/1.1", opts, |_| script.clone())
}

/// A fixture of HTTP/2 over TLS (ALPN `h2`) with default options; each request is answered by
/// [`H2Response::json_ok`].
pub fn tls_h2_fixture(
    version: TlsVersion,
    suite: TlsSuite,
    sni: &str,
    requests: &[H2Request],
) -> Result<TlsFixture, FixtureError> {
    let exchanges: Vec<(H2Request, H2Response)> = requests
        .iter()
        .map(|r| (r.clone(), H2Response::json_ok()))
        .collect();
    tls_h2_fixture_with(&TlsOptions::default(), version, suite, sni, &exchanges)
}

/// [`tls_h2_fixture`] with options and explicit responses. Each connection (the resumed one
/// too) starts a fresh HTTP/2 session with fresh HPACK tables.
pub fn tls_h2_fixture_with(
    opts: &TlsOptions,
    version: TlsVersion,
    suite: TlsSuite,
    sni: &str,
    exchanges: &[(H2Request, H2Response)],
) -> Result<TlsFixture, FixtureError> {
    build_fixture(version, suite, sni, b"h2", opts, |_| {
        h2_script(
            exchanges,
            opts.h2_framing,
            opts.h2_interleave,
            opts.key_update,
        )
    })
}
