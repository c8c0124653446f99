//! TLS 1.3 handshake records (RFC 8446) that look like a real client's, for flows phonehome cannot
//! read but must still name: a ClientHello with server_name (SNI) and ALPN, and a ServerHello.

/// Record content type: handshake.
pub const CONTENT_HANDSHAKE: u8 = 22;
/// Record content type: change_cipher_spec.
pub const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
/// Record content type: application_data.
pub const CONTENT_APPLICATION_DATA: u8 = 23;
/// Longest server name written (a DNS name is at most 253 characters).
pub const MAX_SERVER_NAME_LEN: usize = 253;

/// One TLS record: type, legacy version, 16-bit length, fragment (cut to 2^14 bytes).
pub fn record(content_type: u8, version: u16, fragment: &[u8]) -> Vec<u8> {
    let fragment = fragment.get(..1 << 14).unwrap_or(fragment);
    let mut out = Vec::with_capacity(5 + fragment.len());
    out.push(content_type);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    out.extend_from_slice(fragment);
    out
}

fn push_u16_prefixed(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(body);
}

fn extension(out: &mut Vec<u8>, ext_type: u16, body: &[u8]) {
    out.extend_from_slice(&ext_type.to_be_bytes());
    push_u16_prefixed(out, body);
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_be_bytes();
    let mut out = vec![msg_type, len[1], len[2], len[3]];
    out.extend_from_slice(body);
    out
}

/// A ClientHello record offering TLS 1.3 and 1.2, naming `server_name` (no server_name extension
/// when it is empty, as when connecting to a bare IP) and offering ALPN `h2` and `http/1.1`.
/// `random` fills the random, session id and key share.
pub fn client_hello(server_name: &str, random: &[u8; 32]) -> Vec<u8> {
    let name = server_name.as_bytes();
    let name = name.get(..MAX_SERVER_NAME_LEN).unwrap_or(name);
    let mut body = Vec::with_capacity(512);
    body.extend_from_slice(&0x0303u16.to_be_bytes());
    body.extend_from_slice(random);
    body.push(32);
    body.extend_from_slice(&random.map(|b| b.rotate_left(3)));
    push_u16_prefixed(
        &mut body,
        &[
            0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xcc, 0xa9,
        ],
    );
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut ext = Vec::with_capacity(256);
    if !name.is_empty() {
        let mut sni = vec![0u8];
        push_u16_prefixed(&mut sni, name);
        let mut sni_list = Vec::new();
        push_u16_prefixed(&mut sni_list, &sni);
        extension(&mut ext, 0, &sni_list);
    }
    extension(&mut ext, 23, &[]); // extended_master_secret
    extension(&mut ext, 0xff01, &[0]); // renegotiation_info
    extension(&mut ext, 10, &[0, 4, 0x00, 0x1d, 0x00, 0x17]); // supported_groups: x25519, secp256r1
    extension(&mut ext, 11, &[1, 0]); // ec_point_formats
    extension(&mut ext, 16, b"\x00\x0c\x02h2\x08http/1.1"); // ALPN
    extension(
        &mut ext,
        13,
        &[0, 8, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03],
    ); // signature_algorithms
    let mut share = vec![0x00, 0x1d, 0, 32];
    share.extend_from_slice(&random.map(|b| b ^ 0x5a));
    let mut shares = Vec::new();
    push_u16_prefixed(&mut shares, &share);
    extension(&mut ext, 51, &shares); // key_share
    extension(&mut ext, 45, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
    extension(&mut ext, 43, &[4, 0x03, 0x04, 0x03, 0x03]); // supported_versions
    push_u16_prefixed(&mut body, &ext);
    record(CONTENT_HANDSHAKE, 0x0301, &handshake(1, &body))
}

/// A TLS 1.3 ServerHello record (TLS_AES_128_GCM_SHA256, x25519) followed by a
/// change_cipher_spec record and `encrypted_len` bytes of (opaque) application data.
pub fn server_flight(random: &[u8; 32], session_id: &[u8; 32], encrypted_len: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    body.extend_from_slice(&0x0303u16.to_be_bytes());
    body.extend_from_slice(random);
    body.push(32);
    body.extend_from_slice(session_id);
    body.extend_from_slice(&[0x13, 0x01, 0]);
    let mut ext = Vec::new();
    extension(&mut ext, 43, &[0x03, 0x04]);
    let mut share = vec![0x00, 0x1d, 0, 32];
    share.extend_from_slice(&random.map(|b| b ^ 0xa5));
    extension(&mut ext, 51, &share);
    push_u16_prefixed(&mut body, &ext);
    let mut out = record(CONTENT_HANDSHAKE, 0x0303, &handshake(2, &body));
    out.extend_from_slice(&record(CONTENT_CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    let opaque: Vec<u8> = (0..encrypted_len)
        .map(|i| random[i % 32] ^ (i as u8))
        .collect();
    out.extend_from_slice(&record(CONTENT_APPLICATION_DATA, 0x0303, &opaque));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_lengths_are_consistent() {
        let ch = client_hello("play.googleapis.com", &[7; 32]);
        assert_eq!(ch[0], CONTENT_HANDSHAKE);
        let rec_len = usize::from(u16::from_be_bytes([ch[3], ch[4]]));
        assert_eq!(rec_len, ch.len() - 5);
        assert_eq!(ch[5], 1, "ClientHello");
        let hs_len = usize::from(ch[6]) << 16 | usize::from(ch[7]) << 8 | usize::from(ch[8]);
        assert_eq!(hs_len, rec_len - 4);
        let pos = ch
            .windows(19)
            .position(|w| w == b"play.googleapis.com")
            .unwrap();
        assert_eq!(
            usize::from(u16::from_be_bytes([ch[pos - 2], ch[pos - 1]])),
            19
        );
        let sf = server_flight(&[1; 32], &[2; 32], 40);
        assert_eq!(sf[5], 2, "ServerHello");
        assert_eq!(&sf[sf.len() - 45..sf.len() - 40], &[23, 3, 3, 0, 40]);
    }
}
