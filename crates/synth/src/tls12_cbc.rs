//! A minimal TLS 1.2 writer for the CBC suites rustls leaves out: TLS_RSA_WITH_AES_128_CBC_SHA
//! and TLS_RSA_WITH_AES_256_CBC_SHA256 (RFC 5246), MAC-then-encrypt or encrypt-then-MAC (RFC
//! 7366).
//!
//! Only what a passive decryptor sees is real: the hellos (with SNI, ALPN and the
//! encrypt_then_mac extension), a ClientKeyExchange whose "encrypted pre-master secret" is
//! random bytes, ChangeCipherSpec, Finished messages whose verify_data is computed with the PRF
//! over the handshake transcript, and application data records — all keyed from a master secret
//! chosen by the writer, which the `CLIENT_RANDOM` key log line gives away. There is no
//! certificate: a decryptor that has the key log needs none. Session-id resumption (an
//! abbreviated handshake reusing the master secret) is supported.

use crate::prng::SplitMix64;
use crate::tls::{record, CONTENT_CHANGE_CIPHER_SPEC, CONTENT_HANDSHAKE};
use crate::tls_fixture::Flight;
use aes::cipher::{BlockEncryptMut, InnerIvInit, KeyInit};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Record content type: alert.
pub const CONTENT_ALERT: u8 = 21;
/// Record content type: application_data.
pub const CONTENT_APPLICATION_DATA: u8 = crate::tls::CONTENT_APPLICATION_DATA;
/// Largest plaintext fragment of one record (RFC 5246 section 6.2.1).
pub const MAX_FRAGMENT: usize = 1 << 14;
/// Length of a master secret.
pub const MASTER_SECRET_LEN: usize = 48;
/// AES block (and explicit IV) length.
pub const BLOCK_LEN: usize = 16;
/// TLS 1.2 on the wire.
const VERSION: u16 = 0x0303;

/// The CBC suites this module writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CbcSuite {
    /// TLS_RSA_WITH_AES_128_CBC_SHA (0x002f): AES-128, HMAC-SHA1.
    Aes128CbcSha,
    /// TLS_RSA_WITH_AES_256_CBC_SHA256 (0x003d): AES-256, HMAC-SHA256.
    Aes256CbcSha256,
}

impl CbcSuite {
    /// The IANA code point.
    pub fn code(self) -> u16 {
        match self {
            Self::Aes128CbcSha => 0x002f,
            Self::Aes256CbcSha256 => 0x003d,
        }
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128CbcSha => "TLS_RSA_WITH_AES_128_CBC_SHA",
            Self::Aes256CbcSha256 => "TLS_RSA_WITH_AES_256_CBC_SHA256",
        }
    }

    /// MAC key and tag length.
    pub fn mac_len(self) -> usize {
        match self {
            Self::Aes128CbcSha => 20,
            Self::Aes256CbcSha256 => 32,
        }
    }

    /// Encryption key length.
    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128CbcSha => 16,
            Self::Aes256CbcSha256 => 32,
        }
    }
}

/// HMAC-SHA256 of the concatenation of `parts`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        // HMAC takes keys of any length.
        return [0; 32];
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The TLS 1.2 PRF with SHA-256 (RFC 5246 section 5): fills `out` with
/// P_SHA256(secret, label + seed).
pub fn prf_sha256(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    let mut a = hmac_sha256(secret, &[label, seed]);
    for chunk in out.chunks_mut(32) {
        let block = hmac_sha256(secret, &[&a, label, seed]);
        chunk.copy_from_slice(block.get(..chunk.len()).unwrap_or(&block));
        a = hmac_sha256(secret, &[&a]);
    }
}

/// The keys of one connection, from the key block (RFC 5246 section 6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CbcKeys {
    /// client_write_MAC_key.
    pub client_mac: Vec<u8>,
    /// server_write_MAC_key.
    pub server_mac: Vec<u8>,
    /// client_write_key.
    pub client_key: Vec<u8>,
    /// server_write_key.
    pub server_key: Vec<u8>,
}

impl CbcKeys {
    /// key_block = PRF(master_secret, "key expansion", server_random + client_random), cut into
    /// the MAC keys and encryption keys (CBC in TLS 1.2 has explicit IVs, so no IVs are taken).
    pub fn derive(
        suite: CbcSuite,
        master: &[u8; MASTER_SECRET_LEN],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Self {
        let (m, k) = (suite.mac_len(), suite.key_len());
        let mut block = vec![0u8; 2 * (m + k)];
        let mut seed = [0u8; 64];
        seed[..32].copy_from_slice(server_random);
        seed[32..].copy_from_slice(client_random);
        prf_sha256(master, b"key expansion", &seed, &mut block);
        let (client_mac, rest) = block.split_at(m);
        let (server_mac, rest) = rest.split_at(m);
        let (client_key, server_key) = rest.split_at(k);
        Self {
            client_mac: client_mac.to_vec(),
            server_mac: server_mac.to_vec(),
            client_key: client_key.to_vec(),
            server_key: server_key.to_vec(),
        }
    }
}

#[derive(Clone)]
enum BlockCipher {
    Aes128(Box<aes::Aes128>),
    Aes256(Box<aes::Aes256>),
}

/// Protects the records of one direction: sequence numbers, MAC, padding, CBC with explicit IVs.
#[derive(Clone)]
pub struct CbcRecordSealer {
    suite: CbcSuite,
    cipher: BlockCipher,
    mac_key: Vec<u8>,
    seq: u64,
    encrypt_then_mac: bool,
    extra_padding_blocks: u8,
}

impl std::fmt::Debug for CbcRecordSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CbcRecordSealer")
            .field("suite", &self.suite)
            .field("seq", &self.seq)
            .field("encrypt_then_mac", &self.encrypt_then_mac)
            .finish_non_exhaustive()
    }
}

impl CbcRecordSealer {
    /// A sealer with these keys, starting at sequence number 0; `None` when a key has the wrong
    /// length for `suite`.
    pub fn new(
        suite: CbcSuite,
        key: &[u8],
        mac_key: &[u8],
        encrypt_then_mac: bool,
    ) -> Option<Self> {
        let cipher = match suite {
            CbcSuite::Aes128CbcSha => {
                BlockCipher::Aes128(Box::new(aes::Aes128::new_from_slice(key).ok()?))
            }
            CbcSuite::Aes256CbcSha256 => {
                BlockCipher::Aes256(Box::new(aes::Aes256::new_from_slice(key).ok()?))
            }
        };
        (mac_key.len() == suite.mac_len()).then(|| Self {
            suite,
            cipher,
            mac_key: mac_key.to_vec(),
            seq: 0,
            encrypt_then_mac,
            extra_padding_blocks: 0,
        })
    }

    /// Adds this many whole blocks of padding beyond the minimum to every record (at most 15:
    /// padding is at most 255 bytes).
    pub fn with_extra_padding(mut self, blocks: u8) -> Self {
        self.extra_padding_blocks = blocks.min(15);
        self
    }

    /// The sequence number of the next record.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    fn mac(&self, content_type: u8, data: &[u8]) -> Vec<u8> {
        let mut header = [0u8; 13];
        header[..8].copy_from_slice(&self.seq.to_be_bytes());
        header[8] = content_type;
        header[9..11].copy_from_slice(&VERSION.to_be_bytes());
        header[11..].copy_from_slice(&(data.len() as u16).to_be_bytes());
        match self.suite {
            CbcSuite::Aes128CbcSha => {
                let Ok(mut mac) = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&self.mac_key)
                else {
                    return vec![0; 20];
                };
                mac.update(&header);
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            CbcSuite::Aes256CbcSha256 => hmac_sha256(&self.mac_key, &[&header, data]).to_vec(),
        }
    }

    /// `data` plus TLS padding (every padding byte, and the length byte, hold the padding length),
    /// encrypted in CBC mode after `iv`.
    fn encrypt(&self, data: &[u8], iv: &[u8; BLOCK_LEN]) -> Vec<u8> {
        let pad = BLOCK_LEN - (data.len() + 1) % BLOCK_LEN;
        let pad = if pad == BLOCK_LEN { 0 } else { pad }
            + BLOCK_LEN * usize::from(self.extra_padding_blocks);
        let mut buf = Vec::with_capacity(BLOCK_LEN + data.len() + pad + 1);
        buf.extend_from_slice(iv);
        buf.extend_from_slice(data);
        buf.resize(buf.len() + pad + 1, pad as u8);
        if let Some(body) = buf.get_mut(BLOCK_LEN..) {
            let blocks = body.chunks_exact_mut(BLOCK_LEN).map(|b| b.into());
            let iv = iv.into();
            match &self.cipher {
                BlockCipher::Aes128(c) => {
                    let mut enc = cbc::Encryptor::<aes::Aes128>::inner_iv_init((**c).clone(), iv);
                    for block in blocks {
                        enc.encrypt_block_mut(block);
                    }
                }
                BlockCipher::Aes256(c) => {
                    let mut enc = cbc::Encryptor::<aes::Aes256>::inner_iv_init((**c).clone(), iv);
                    for block in blocks {
                        enc.encrypt_block_mut(block);
                    }
                }
            }
        }
        buf
    }

    /// One protected record (header included) carrying `plaintext` (at most [`MAX_FRAGMENT`]
    /// bytes are used), with `iv` as its explicit IV.
    pub fn seal(&mut self, content_type: u8, plaintext: &[u8], iv: &[u8; BLOCK_LEN]) -> Vec<u8> {
        let plaintext = plaintext.get(..MAX_FRAGMENT).unwrap_or(plaintext);
        let fragment = if self.encrypt_then_mac {
            let mut enc = self.encrypt(plaintext, iv);
            let mac = self.mac(content_type, &enc);
            enc.extend_from_slice(&mac);
            enc
        } else {
            let mut data = plaintext.to_vec();
            data.extend_from_slice(&self.mac(content_type, plaintext));
            self.encrypt(&data, iv)
        };
        self.seq = self.seq.wrapping_add(1);
        let mut out = Vec::with_capacity(5 + fragment.len());
        out.push(content_type);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
        out.extend_from_slice(&fragment);
        out
    }
}

fn handshake_msg(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_be_bytes();
    let mut out = vec![msg_type, len[1], len[2], len[3]];
    out.extend_from_slice(body);
    out
}

fn push_u16_prefixed(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

fn push_extension(out: &mut Vec<u8>, ext_type: u16, body: &[u8]) {
    out.extend_from_slice(&ext_type.to_be_bytes());
    push_u16_prefixed(out, body);
}

/// The ALPN extension body for one protocol.
fn alpn_body(protocol: &[u8]) -> Vec<u8> {
    let protocol = protocol.get(..255).unwrap_or(protocol);
    let mut list = vec![protocol.len() as u8];
    list.extend_from_slice(protocol);
    let mut body = Vec::new();
    push_u16_prefixed(&mut body, &list);
    body
}

/// What a client keeps to resume a session: its id and master secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CbcSession {
    /// The session id the server gave.
    pub id: [u8; 32],
    /// The master secret.
    pub master: [u8; MASTER_SECRET_LEN],
}

/// One TLS 1.2 CBC connection after its handshake: seals application data for either side.
#[derive(Debug)]
pub struct CbcConnection {
    suite: CbcSuite,
    client_random: [u8; 32],
    session: CbcSession,
    resumed: bool,
    client: CbcRecordSealer,
    server: CbcRecordSealer,
    rng: SplitMix64,
}

/// Settings of a [`CbcConnection`].
#[derive(Clone, Debug)]
pub struct CbcConfig<'a> {
    /// The suite.
    pub suite: CbcSuite,
    /// Negotiate encrypt_then_mac (RFC 7366) instead of MAC-then-encrypt.
    pub encrypt_then_mac: bool,
    /// The server name sent in the ClientHello.
    pub sni: &'a str,
    /// ALPN protocol offered and selected (e.g. `b"http/1.1"`, `b"h2"`), if any.
    pub alpn: Option<&'a [u8]>,
    /// Extra whole blocks of padding in every record (see [`CbcRecordSealer::with_extra_padding`]).
    pub extra_padding_blocks: u8,
}

impl CbcConnection {
    /// Runs a handshake, full or (with `resume`) abbreviated, with randoms, session id, master
    /// secret and IVs drawn from `seed`. Returns the connection and the handshake flights in
    /// order.
    pub fn handshake(
        config: &CbcConfig<'_>,
        resume: Option<&CbcSession>,
        seed: u64,
    ) -> Option<(Self, Vec<Flight>)> {
        let mut rng = SplitMix64::new(seed);
        let mut client_random = [0u8; 32];
        rng.fill(&mut client_random);
        let mut server_random = [0u8; 32];
        rng.fill(&mut server_random);
        let session = match resume {
            Some(s) => s.clone(),
            None => {
                let mut id = [0u8; 32];
                rng.fill(&mut id);
                let mut master = [0u8; MASTER_SECRET_LEN];
                rng.fill(&mut master);
                CbcSession { id, master }
            }
        };

        // ClientHello.
        let mut ch = Vec::with_capacity(256);
        ch.extend_from_slice(&VERSION.to_be_bytes());
        ch.extend_from_slice(&client_random);
        match resume {
            Some(s) => {
                ch.push(32);
                ch.extend_from_slice(&s.id);
            }
            None => ch.push(0),
        }
        // The suite and TLS_EMPTY_RENEGOTIATION_INFO_SCSV.
        push_u16_prefixed(
            &mut ch,
            &[
                (config.suite.code() >> 8) as u8,
                config.suite.code() as u8,
                0x00,
                0xff,
            ],
        );
        ch.extend_from_slice(&[1, 0]);
        let mut ext = Vec::with_capacity(128);
        let name = config.sni.as_bytes();
        let name = name.get(..crate::tls::MAX_SERVER_NAME_LEN).unwrap_or(name);
        let mut entry = vec![0u8];
        push_u16_prefixed(&mut entry, name);
        let mut list = Vec::new();
        push_u16_prefixed(&mut list, &entry);
        push_extension(&mut ext, 0, &list);
        push_extension(&mut ext, 13, &[0, 6, 0x04, 0x01, 0x05, 0x01, 0x02, 0x01]);
        if let Some(p) = config.alpn {
            push_extension(&mut ext, 16, &alpn_body(p));
        }
        if config.encrypt_then_mac {
            push_extension(&mut ext, 22, &[]);
        }
        push_u16_prefixed(&mut ch, &ext);
        let client_hello = handshake_msg(1, &ch);

        // ServerHello.
        let mut sh = Vec::with_capacity(128);
        sh.extend_from_slice(&VERSION.to_be_bytes());
        sh.extend_from_slice(&server_random);
        sh.push(32);
        sh.extend_from_slice(&session.id);
        sh.extend_from_slice(&config.suite.code().to_be_bytes());
        sh.push(0);
        let mut ext = Vec::new();
        push_extension(&mut ext, 0xff01, &[0]);
        if let Some(p) = config.alpn {
            push_extension(&mut ext, 16, &alpn_body(p));
        }
        if config.encrypt_then_mac {
            push_extension(&mut ext, 22, &[]);
        }
        push_u16_prefixed(&mut sh, &ext);
        let server_hello = handshake_msg(2, &sh);

        let keys = CbcKeys::derive(
            config.suite,
            &session.master,
            &client_random,
            &server_random,
        );
        let client = CbcRecordSealer::new(
            config.suite,
            &keys.client_key,
            &keys.client_mac,
            config.encrypt_then_mac,
        )?
        .with_extra_padding(config.extra_padding_blocks);
        let server = CbcRecordSealer::new(
            config.suite,
            &keys.server_key,
            &keys.server_mac,
            config.encrypt_then_mac,
        )?
        .with_extra_padding(config.extra_padding_blocks);
        let mut conn = Self {
            suite: config.suite,
            client_random,
            session,
            resumed: resume.is_some(),
            client,
            server,
            rng,
        };
        let ccs = record(CONTENT_CHANGE_CIPHER_SPEC, VERSION, &[1]);
        let mut transcript = Sha256::new();
        transcript.update(&client_hello);
        transcript.update(&server_hello);
        let mut flights = vec![Flight {
            from_client: true,
            bytes: record(CONTENT_HANDSHAKE, 0x0301, &client_hello),
        }];
        if resume.is_some() {
            // Abbreviated: ServerHello, CCS, server Finished; then CCS, client Finished.
            let server_fin = conn.finished(b"server finished", &transcript);
            transcript.update(&server_fin);
            let mut bytes = record(CONTENT_HANDSHAKE, VERSION, &server_hello);
            bytes.extend_from_slice(&ccs);
            bytes.extend_from_slice(&conn.seal(false, CONTENT_HANDSHAKE, &server_fin));
            flights.push(Flight {
                from_client: false,
                bytes,
            });
            let client_fin = conn.finished(b"client finished", &transcript);
            let mut bytes = ccs.clone();
            bytes.extend_from_slice(&conn.seal(true, CONTENT_HANDSHAKE, &client_fin));
            flights.push(Flight {
                from_client: true,
                bytes,
            });
        } else {
            // Full: ServerHello, ServerHelloDone; ClientKeyExchange, CCS, Finished; CCS, Finished.
            let done = handshake_msg(14, &[]);
            transcript.update(&done);
            let mut bytes = record(CONTENT_HANDSHAKE, VERSION, &server_hello);
            bytes.extend_from_slice(&record(CONTENT_HANDSHAKE, VERSION, &done));
            flights.push(Flight {
                from_client: false,
                bytes,
            });
            let mut premaster = vec![0u8; 256];
            conn.rng.fill(&mut premaster);
            let mut cke_body = Vec::with_capacity(258);
            push_u16_prefixed(&mut cke_body, &premaster);
            let cke = handshake_msg(16, &cke_body);
            transcript.update(&cke);
            let client_fin = conn.finished(b"client finished", &transcript);
            transcript.update(&client_fin);
            let mut bytes = record(CONTENT_HANDSHAKE, VERSION, &cke);
            bytes.extend_from_slice(&ccs);
            bytes.extend_from_slice(&conn.seal(true, CONTENT_HANDSHAKE, &client_fin));
            flights.push(Flight {
                from_client: true,
                bytes,
            });
            let server_fin = conn.finished(b"server finished", &transcript);
            let mut bytes = ccs;
            bytes.extend_from_slice(&conn.seal(false, CONTENT_HANDSHAKE, &server_fin));
            flights.push(Flight {
                from_client: false,
                bytes,
            });
        }
        Some((conn, flights))
    }

    /// A Finished message: verify_data = PRF(master, label, SHA-256(transcript))[..12].
    fn finished(&self, label: &[u8], transcript: &Sha256) -> Vec<u8> {
        let hash = transcript.clone().finalize();
        let mut verify = [0u8; 12];
        prf_sha256(&self.session.master, label, &hash, &mut verify);
        handshake_msg(20, &verify)
    }

    fn seal(&mut self, from_client: bool, content_type: u8, plaintext: &[u8]) -> Vec<u8> {
        let mut iv = [0u8; BLOCK_LEN];
        self.rng.fill(&mut iv);
        let sealer = if from_client {
            &mut self.client
        } else {
            &mut self.server
        };
        sealer.seal(content_type, plaintext, &iv)
    }

    /// Application data records (fragments of at most [`MAX_FRAGMENT`] bytes) from one side.
    pub fn app_data(&mut self, from_client: bool, plaintext: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plaintext.len() + plaintext.len() / 256 + 64);
        for chunk in plaintext.chunks(MAX_FRAGMENT) {
            out.extend_from_slice(&self.seal(from_client, CONTENT_APPLICATION_DATA, chunk));
        }
        out
    }

    /// An encrypted close_notify alert from one side.
    pub fn close_notify(&mut self, from_client: bool) -> Vec<u8> {
        self.seal(from_client, CONTENT_ALERT, &[1, 0])
    }

    /// The suite.
    pub fn suite(&self) -> CbcSuite {
        self.suite
    }

    /// The client random.
    pub fn client_random(&self) -> [u8; 32] {
        self.client_random
    }

    /// The session, for resuming it.
    pub fn session(&self) -> &CbcSession {
        &self.session
    }

    /// True when the handshake was abbreviated.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// The NSS key log line (`CLIENT_RANDOM <client random> <master secret>` and a newline).
    pub fn key_log_line(&self) -> String {
        format!(
            "CLIENT_RANDOM {} {}\n",
            hex(&self.client_random),
            hex(&self.session.master)
        )
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prf_matches_the_published_test_vector() {
        // The widely used TLS 1.2 PRF (SHA-256) test vector (IETF TLS list, 2009).
        let secret = [
            0x9b, 0xbe, 0x43, 0x6b, 0xa9, 0x40, 0xf0, 0x17, 0xb1, 0x76, 0x52, 0x84, 0x9a, 0x71,
            0xdb, 0x35,
        ];
        let seed = [
            0xa0, 0xba, 0x9f, 0x93, 0x6c, 0xda, 0x31, 0x18, 0x27, 0xa6, 0xf7, 0x96, 0xff, 0xd5,
            0x19, 0x8c,
        ];
        let mut out = [0u8; 100];
        prf_sha256(&secret, b"test label", &seed, &mut out);
        assert_eq!(
            hex(&out[..32]),
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
        );
    }

    #[test]
    fn records_are_block_aligned_and_numbered() {
        for (suite, etm) in [
            (CbcSuite::Aes128CbcSha, false),
            (CbcSuite::Aes128CbcSha, true),
            (CbcSuite::Aes256CbcSha256, false),
            (CbcSuite::Aes256CbcSha256, true),
        ] {
            let key = vec![1u8; suite.key_len()];
            let mac = vec![2u8; suite.mac_len()];
            let mut s = CbcRecordSealer::new(suite, &key, &mac, etm).unwrap();
            for len in [0usize, 1, 15, 16, 100, MAX_FRAGMENT] {
                let rec = s.seal(23, &vec![0x41; len], &[9; 16]);
                let body = rec.len() - 5;
                assert_eq!(usize::from(u16::from_be_bytes([rec[3], rec[4]])), body);
                let enc = if etm { body - suite.mac_len() } else { body };
                assert_eq!(enc % BLOCK_LEN, 0, "{suite:?} etm={etm} len={len}");
                assert!(enc > BLOCK_LEN + len + usize::from(!etm) * suite.mac_len());
                assert_eq!(&rec[5..21], &[9; 16], "explicit IV first");
            }
            assert_eq!(s.seq(), 6);
        }
        assert!(CbcRecordSealer::new(CbcSuite::Aes128CbcSha, &[0; 32], &[0; 20], false).is_none());
        assert!(
            CbcRecordSealer::new(CbcSuite::Aes256CbcSha256, &[0; 32], &[0; 20], false).is_none()
        );
    }

    #[test]
    fn handshake_flights_are_well_formed_and_deterministic() {
        let config = CbcConfig {
            suite: CbcSuite::Aes256CbcSha256,
            encrypt_then_mac: true,
            sni: "log.tbs.qq.com",
            alpn: Some(b"http/1.1"),
            extra_padding_blocks: 0,
        };
        let (a, fa) = CbcConnection::handshake(&config, None, 7).unwrap();
        let (_, fb) = CbcConnection::handshake(&config, None, 7).unwrap();
        assert_eq!(fa, fb);
        assert_eq!(fa.len(), 4);
        assert_eq!(&fa[0].bytes[..3], &[22, 3, 1]);
        assert!(fa[0].bytes.windows(14).any(|w| w == b"log.tbs.qq.com"));
        assert!(a
            .key_log_line()
            .starts_with(&format!("CLIENT_RANDOM {} ", hex(&a.client_random()))));
        let (r, fr) = CbcConnection::handshake(&config, Some(a.session()), 8).unwrap();
        assert!(r.resumed());
        assert_eq!(fr.len(), 3);
        assert!(
            !fr[1].from_client,
            "the server finishes first when resuming"
        );
        assert_eq!(r.session(), a.session());
        assert_ne!(r.client_random(), a.client_random());
    }
}
