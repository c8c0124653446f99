//! The ClientHello message (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) and the extensions phonehome reads.
//!
//! The parser takes the handshake message *body* (after the 4-byte type/length header) so that
//! QUIC, which carries the ClientHello in CRYPTO frames (RFC 9001 §4), can use it too.

use crate::cursor::{u16_list, Cursor};
use crate::TlsError;

/// Extension code points phonehome reads (IANA "TLS ExtensionType Values").
pub mod ext {
    /// server_name (RFC 6066 §3).
    pub const SERVER_NAME: u16 = 0;
    /// supported_groups (RFC 8446 §4.2.7).
    pub const SUPPORTED_GROUPS: u16 = 10;
    /// application_layer_protocol_negotiation (RFC 7301).
    pub const ALPN: u16 = 16;
    /// encrypt_then_mac (RFC 7366).
    pub const ENCRYPT_THEN_MAC: u16 = 22;
    /// extended_master_secret (RFC 7627).
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    /// record_size_limit (RFC 8449).
    pub const RECORD_SIZE_LIMIT: u16 = 28;
    /// session_ticket (RFC 5077).
    pub const SESSION_TICKET: u16 = 35;
    /// pre_shared_key (RFC 8446 §4.2.11).
    pub const PRE_SHARED_KEY: u16 = 41;
    /// early_data (RFC 8446 §4.2.10).
    pub const EARLY_DATA: u16 = 42;
    /// supported_versions (RFC 8446 §4.2.1).
    pub const SUPPORTED_VERSIONS: u16 = 43;
    /// key_share (RFC 8446 §4.2.8).
    pub const KEY_SHARE: u16 = 51;
    /// quic_transport_parameters (RFC 9001 §8.2).
    pub const QUIC_TRANSPORT_PARAMETERS: u16 = 57;
    /// encrypted_client_hello (draft-ietf-tls-esni).
    pub const ENCRYPTED_CLIENT_HELLO: u16 = 0xfe0d;
}

/// Most ALPN protocol names kept from one ClientHello (the rest are dropped).
pub const MAX_ALPN: usize = 32;

/// A ClientHello's fields that matter to phonehome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// The client random: the key log's index.
    pub random: [u8; 32],
    /// `legacy_session_id` (up to 32 bytes); TLS 1.2 resumption looks sessions up by it.
    pub session_id: Vec<u8>,
    /// Offered cipher suites, in order, GREASE included.
    pub cipher_suites: Vec<u16>,
    /// The first `host_name` of the server_name extension.
    pub sni: Option<String>,
    /// Offered ALPN protocol names, in order (at most [`MAX_ALPN`]).
    pub alpn: Vec<String>,
    /// encrypted_client_hello (0xfe0d) present: the SNI is the public outer name.
    pub ech: bool,
    /// supported_versions (TLS 1.3 clients list 0x0304 here).
    pub supported_versions: Vec<u16>,
    /// Every extension type, in order, GREASE and unknown values included.
    pub extensions: Vec<u16>,
    /// A non-empty session_ticket extension (RFC 5077): TLS 1.2 resumption by ticket.
    pub session_ticket: Option<Vec<u8>>,
    /// pre_shared_key present (TLS 1.3 resumption attempt).
    pub psk: bool,
    /// early_data present (TLS 1.3 0-RTT attempt).
    pub early_data: bool,
    /// extended_master_secret present (RFC 7627).
    pub extended_master_secret: bool,
    /// encrypt_then_mac present (RFC 7366).
    pub encrypt_then_mac: bool,
    /// Groups of the key_share entries, in order.
    pub key_share_groups: Vec<u16>,
    /// The quic_transport_parameters extension body, when present (QUIC only).
    pub quic_transport_parameters: Option<Vec<u8>>,
}

/// Parses a ClientHello handshake message BODY (after the 4-byte handshake header). Also used by QUIC.
///
/// Extensions are optional (a bare TLS 1.0-style hello has none). Unknown extensions are listed in
/// [`ClientHello::extensions`] and otherwise skipped; a malformed known extension is an error,
/// because a parser that guesses would hand phonehome a wrong name.
///
/// ```
/// // A minimal hello: version, random, empty session id, one suite, null compression, SNI.
/// let mut body = vec![0x03, 0x03];
/// body.extend_from_slice(&[7; 32]);
/// body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
/// let name = b"example.com";
/// let sni_len = name.len() as u8;
/// body.extend_from_slice(&[0, sni_len + 9, 0, 0, 0, sni_len + 5, 0, sni_len + 3, 0, 0, sni_len]);
/// body.extend_from_slice(name);
/// let hello = phonehome_tls::parse_client_hello(&body).unwrap();
/// assert_eq!(hello.sni.as_deref(), Some("example.com"));
/// assert_eq!(hello.cipher_suites, [0x1301]);
/// ```
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, TlsError> {
    let mut c = Cursor::new(body);
    let mut hello = ClientHello {
        legacy_version: c.u16("client_version")?,
        random: c.array::<32>("random")?,
        ..ClientHello::default()
    };
    let session_id = c.vec8("session_id")?;
    if session_id.len() > 32 {
        return Err(TlsError::BadLength { what: "session_id" });
    }
    hello.session_id = session_id.to_vec();
    hello.cipher_suites = u16_list(c.vec16("cipher_suites")?, "cipher_suites")?;
    if hello.cipher_suites.is_empty() {
        return Err(TlsError::BadValue {
            what: "cipher_suites",
        });
    }
    if c.vec8("compression_methods")?.is_empty() {
        return Err(TlsError::BadValue {
            what: "compression_methods",
        });
    }
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
        read_extension(&mut hello, ty, data)?;
    }
    Ok(hello)
}

/// Reads one ClientHello extension into `hello`.
fn read_extension(hello: &mut ClientHello, ty: u16, data: &[u8]) -> Result<(), TlsError> {
    match ty {
        ext::SERVER_NAME if !data.is_empty() => {
            // RFC 6066 §3: ServerNameList; host_name (0) entries carry opaque HostName<1..2^16-1>.
            let mut list = Cursor::new(whole(data, "server_name")?);
            while !list.is_empty() {
                let name_type = list.u8("server_name type")?;
                let name = list.vec16("server_name")?;
                if name_type == 0 && hello.sni.is_none() && !name.is_empty() {
                    hello.sni = Some(String::from_utf8_lossy(name).into_owned());
                }
            }
        }
        ext::ALPN => {
            let mut list = Cursor::new(whole(data, "alpn")?);
            while !list.is_empty() {
                let name = list.vec8("alpn protocol")?;
                if hello.alpn.len() < MAX_ALPN {
                    hello.alpn.push(String::from_utf8_lossy(name).into_owned());
                }
            }
        }
        ext::SUPPORTED_VERSIONS => {
            let mut c = Cursor::new(data);
            hello.supported_versions =
                u16_list(c.vec8("supported_versions")?, "supported_versions")?;
        }
        ext::SESSION_TICKET if !data.is_empty() => hello.session_ticket = Some(data.to_vec()),
        ext::PRE_SHARED_KEY => hello.psk = true,
        ext::EARLY_DATA => hello.early_data = true,
        ext::ENCRYPTED_CLIENT_HELLO => hello.ech = true,
        ext::EXTENDED_MASTER_SECRET => hello.extended_master_secret = true,
        ext::ENCRYPT_THEN_MAC => hello.encrypt_then_mac = true,
        ext::KEY_SHARE => {
            let mut list = Cursor::new(whole(data, "key_share")?);
            while !list.is_empty() {
                let group = list.u16("key_share group")?;
                list.vec16("key_exchange")?;
                hello.key_share_groups.push(group);
            }
        }
        ext::QUIC_TRANSPORT_PARAMETERS => hello.quic_transport_parameters = Some(data.to_vec()),
        _ => {}
    }
    Ok(())
}

/// The body of a vector with a two-byte length that must fill `data` exactly.
fn whole<'a>(data: &'a [u8], what: &'static str) -> Result<&'a [u8], TlsError> {
    let mut c = Cursor::new(data);
    let inner = c.vec16(what)?;
    if !c.is_empty() {
        return Err(TlsError::BadLength { what });
    }
    Ok(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Firefox-like ClientHello body: GREASE, SNI, ALPN, supported_versions, key_share,
    /// session_ticket, psk, early_data, ECH, EMS, EtM.
    fn body() -> Vec<u8> {
        let mut exts: Vec<u8> = Vec::new();
        let mut add = |ty: u16, data: &[u8]| {
            exts.extend_from_slice(&ty.to_be_bytes());
            exts.extend_from_slice(&(data.len() as u16).to_be_bytes());
            exts.extend_from_slice(data);
        };
        add(0x0a0a, &[]);
        add(
            0,
            &[
                0, 14, 0, 0, 11, b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'c', b'o', b'm',
            ],
        );
        add(
            16,
            &[
                0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
            ],
        );
        add(43, &[4, 3, 4, 3, 3]);
        add(51, &[0, 8, 0, 29, 0, 4, 1, 2, 3, 4]);
        add(35, &[9, 9, 9]);
        add(23, &[]);
        add(22, &[]);
        add(42, &[]);
        add(0xfe0d, &[0, 1, 2]);
        add(57, &[1, 2]);
        add(41, &[0, 0]);
        let mut b = vec![3, 3];
        b.extend_from_slice(&[0x11; 32]);
        b.extend_from_slice(&[2, 0xaa, 0xbb]);
        b.extend_from_slice(&[0, 4, 0x13, 0x01, 0xc0, 0x2f]);
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(&exts);
        b
    }

    #[test]
    fn every_field() {
        let ch = parse_client_hello(&body()).unwrap();
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.random, [0x11; 32]);
        assert_eq!(ch.session_id, [0xaa, 0xbb]);
        assert_eq!(ch.cipher_suites, [0x1301, 0xc02f]);
        assert_eq!(ch.sni.as_deref(), Some("example.com"));
        assert_eq!(ch.alpn, ["h2", "http/1.1"]);
        assert_eq!(ch.supported_versions, [0x0304, 0x0303]);
        assert_eq!(ch.key_share_groups, [29]);
        assert_eq!(ch.session_ticket.as_deref(), Some(&[9, 9, 9][..]));
        assert!(
            ch.ech && ch.psk && ch.early_data && ch.extended_master_secret && ch.encrypt_then_mac
        );
        assert_eq!(ch.quic_transport_parameters.as_deref(), Some(&[1, 2][..]));
        assert_eq!(
            ch.extensions,
            [0x0a0a, 0, 16, 43, 51, 35, 23, 22, 42, 0xfe0d, 57, 41]
        );
    }

    #[test]
    fn no_extensions() {
        let b = body();
        let bare = &b[..2 + 32 + 3 + 6 + 2];
        let ch = parse_client_hello(bare).unwrap();
        assert!(ch.extensions.is_empty() && ch.sni.is_none());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let b = body();
        for n in 0..b.len() {
            if n == 2 + 32 + 3 + 6 + 2 {
                continue; // a hello without extensions is valid
            }
            assert!(parse_client_hello(&b[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn absurd_lengths_and_garbage() {
        let mut b = body();
        b[34] = 33; // session id longer than 32
        assert_eq!(
            parse_client_hello(&b),
            Err(TlsError::BadLength { what: "session_id" })
        );
        let mut b = body();
        b[37] = 0xff; // cipher_suites length beyond the body
        assert!(parse_client_hello(&b).is_err());
        let mut b = body();
        b[38] = 3; // odd cipher_suites length
        assert!(parse_client_hello(&b).is_err());
        let mut b = body();
        b.push(0); // trailing byte after the extensions
        assert_eq!(
            parse_client_hello(&b),
            Err(TlsError::BadLength { what: "extensions" })
        );
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut b = body();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state as usize) % b.len();
                b[i] = (state >> 32) as u8;
            }
            let _ = parse_client_hello(&b);
        }
    }
}
