//! The other handshake messages phonehome reads: ServerHello (RFC 8446 §4.1.3, RFC 5246
//! §7.4.1.3), EncryptedExtensions (RFC 8446 §4.3.1), NewSessionTicket (RFC 5077 §3.3),
//! ClientKeyExchange for RSA (RFC 5246 §7.4.7.1) and KeyUpdate (RFC 8446 §4.6.3).

use crate::client_hello::ext;
use crate::cursor::Cursor;
use crate::TlsError;

/// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
pub mod msg {
    /// client_hello.
    pub const CLIENT_HELLO: u8 = 1;
    /// server_hello (also HelloRetryRequest in TLS 1.3).
    pub const SERVER_HELLO: u8 = 2;
    /// new_session_ticket.
    pub const NEW_SESSION_TICKET: u8 = 4;
    /// end_of_early_data (TLS 1.3).
    pub const END_OF_EARLY_DATA: u8 = 5;
    /// encrypted_extensions (TLS 1.3).
    pub const ENCRYPTED_EXTENSIONS: u8 = 8;
    /// client_key_exchange (TLS 1.2).
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
    /// finished.
    pub const FINISHED: u8 = 20;
    /// key_update (TLS 1.3).
    pub const KEY_UPDATE: u8 = 24;
}

/// Handshake message header length: type (1) and length (3).
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// The `random` of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// TLS 1.3's `supported_versions` value.
pub const TLS13: u16 = 0x0304;
/// TLS 1.2's version.
pub const TLS12: u16 = 0x0303;

/// A ServerHello's fields that matter to phonehome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version`.
    pub legacy_version: u16,
    /// The server random.
    pub random: [u8; 32],
    /// `legacy_session_id_echo` / `session_id`.
    pub session_id: Vec<u8>,
    /// The selected cipher suite.
    pub cipher_suite: u16,
    /// supported_versions' selected_version, when present (TLS 1.3).
    pub selected_version: Option<u16>,
    /// The selected ALPN protocol (TLS 1.2; TLS 1.3 sends it in EncryptedExtensions).
    pub alpn: Option<String>,
    /// extended_master_secret present (RFC 7627).
    pub extended_master_secret: bool,
    /// encrypt_then_mac present (RFC 7366).
    pub encrypt_then_mac: bool,
    /// pre_shared_key present: TLS 1.3 resumption accepted.
    pub psk: bool,
    /// Every extension type, in order.
    pub extensions: Vec<u16>,
}

impl ServerHello {
    /// Whether this is a HelloRetryRequest (RFC 8446 §4.1.3).
    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    /// The negotiated version: selected_version when present, else legacy_version.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

/// Parses a ServerHello (or HelloRetryRequest) message body.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, TlsError> {
    let mut c = Cursor::new(body);
    let mut hello = ServerHello {
        legacy_version: c.u16("server_version")?,
        random: c.array::<32>("server random")?,
        ..ServerHello::default()
    };
    let session_id = c.vec8("session_id")?;
    if session_id.len() > 32 {
        return Err(TlsError::BadLength { what: "session_id" });
    }
    hello.session_id = session_id.to_vec();
    hello.cipher_suite = c.u16("cipher_suite")?;
    c.u8("compression_method")?;
    if c.is_empty() {
        return Ok(hello);
    }
    let mut exts = Cursor::new(c.vec16("extensions")?);
    if !c.is_empty() {
        return Err(TlsError::BadLength { what: "extensions" });
    }
    while !exts.is_empty() {
        let ty = exts.u16("extension type")?;
        let data = exts.vec16("extension data")?;
        hello.extensions.push(ty);
        match ty {
            ext::SUPPORTED_VERSIONS => {
                let mut v = Cursor::new(data);
                // A HelloRetryRequest and a ServerHello both carry a bare selected_version.
                hello.selected_version = Some(v.u16("selected_version")?);
            }
            ext::ALPN => hello.alpn = parse_selected_alpn(data)?,
            ext::EXTENDED_MASTER_SECRET => hello.extended_master_secret = true,
            ext::ENCRYPT_THEN_MAC => hello.encrypt_then_mac = true,
            ext::PRE_SHARED_KEY => hello.psk = true,
            _ => {}
        }
    }
    Ok(hello)
}

/// The one protocol name of a server's ALPN extension (RFC 7301 §3.1).
fn parse_selected_alpn(data: &[u8]) -> Result<Option<String>, TlsError> {
    let mut c = Cursor::new(data);
    let mut list = Cursor::new(c.vec16("alpn")?);
    let name = list.vec8("alpn protocol")?;
    Ok((!name.is_empty()).then(|| String::from_utf8_lossy(name).into_owned()))
}

/// The selected ALPN protocol of an EncryptedExtensions body (RFC 8446 §4.3.1).
pub fn parse_encrypted_extensions_alpn(body: &[u8]) -> Result<Option<String>, TlsError> {
    let mut c = Cursor::new(body);
    let mut exts = Cursor::new(c.vec16("extensions")?);
    while !exts.is_empty() {
        let ty = exts.u16("extension type")?;
        let data = exts.vec16("extension data")?;
        if ty == ext::ALPN {
            return parse_selected_alpn(data);
        }
    }
    Ok(None)
}

/// The ticket of a TLS 1.2 NewSessionTicket body (RFC 5077 §3.3): lifetime hint, then
/// `opaque ticket<0..2^16-1>`.
pub fn parse_new_session_ticket(body: &[u8]) -> Result<&[u8], TlsError> {
    let mut c = Cursor::new(body);
    c.take(4, "ticket_lifetime_hint")?;
    c.vec16("ticket")
}

/// The encrypted pre-master secret of an RSA ClientKeyExchange body (RFC 5246 §7.4.7.1).
pub fn parse_rsa_client_key_exchange(body: &[u8]) -> Result<&[u8], TlsError> {
    let mut c = Cursor::new(body);
    let pms = c.vec16("encrypted pre-master secret")?;
    if !c.is_empty() || pms.len() < 8 {
        return Err(TlsError::BadLength {
            what: "encrypted pre-master secret",
        });
    }
    Ok(pms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_hello_body(random: [u8; 32], exts: &[u8]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&random);
        b.extend_from_slice(&[1, 7, 0x13, 0x02, 0]);
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(exts);
        b
    }

    const EXTS: [u8; 25] = [
        0, 43, 0, 2, 3, 4, // supported_versions
        0, 16, 0, 5, 0, 3, 2, b'h', b'2', // alpn
        0, 23, 0, 0, // extended_master_secret
        0, 41, 0, 2, 0, 0, // pre_shared_key
    ];

    #[test]
    fn server_hello_fields() {
        let sh = parse_server_hello(&server_hello_body([5; 32], &EXTS)).unwrap();
        assert_eq!(sh.version(), TLS13);
        assert_eq!(sh.cipher_suite, 0x1302);
        assert_eq!(sh.session_id, [7]);
        assert_eq!(sh.alpn.as_deref(), Some("h2"));
        assert!(sh.extended_master_secret && sh.psk && !sh.encrypt_then_mac);
        assert!(!sh.is_hello_retry_request());
        let hrr =
            parse_server_hello(&server_hello_body(HELLO_RETRY_REQUEST_RANDOM, &EXTS)).unwrap();
        assert!(hrr.is_hello_retry_request());
        // The HRR random is SHA-256("HelloRetryRequest").
        use sha2::Digest;
        assert_eq!(
            sha2::Sha256::digest(b"HelloRetryRequest")[..],
            HELLO_RETRY_REQUEST_RANDOM
        );
    }

    #[test]
    fn every_truncation_is_an_error() {
        let b = server_hello_body([5; 32], &EXTS);
        for n in 0..b.len() {
            if n == 2 + 32 + 2 + 3 {
                assert!(parse_server_hello(&b[..n]).is_ok()); // no extensions
                continue;
            }
            assert!(parse_server_hello(&b[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn other_messages() {
        let ee = [0, 9, 0, 16, 0, 5, 0, 3, 2, b'h', b'2'];
        assert_eq!(
            parse_encrypted_extensions_alpn(&ee).unwrap().as_deref(),
            Some("h2")
        );
        assert_eq!(parse_encrypted_extensions_alpn(&[0, 0]).unwrap(), None);
        assert!(parse_encrypted_extensions_alpn(&ee[..8]).is_err());
        assert_eq!(
            parse_new_session_ticket(&[0, 0, 1, 0, 0, 2, 8, 9]).unwrap(),
            [8, 9]
        );
        assert!(parse_new_session_ticket(&[0, 0, 1, 0, 0, 3, 8, 9]).is_err());
        let mut cke = vec![0, 8];
        cke.extend_from_slice(&[1; 8]);
        assert_eq!(parse_rsa_client_key_exchange(&cke).unwrap(), [1; 8]);
        assert!(parse_rsa_client_key_exchange(&cke[..9]).is_err());
        assert!(parse_rsa_client_key_exchange(&[0, 2, 1, 1]).is_err()); // too short to index
        assert!(parse_rsa_client_key_exchange(&[0xff]).is_err());
    }
}
