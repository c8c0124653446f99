//! Test-only packet protection (the inverse of [`crate::packet::decrypt`]), to build Initial
//! packets with chosen frames. Checked against RFC 9001 Appendix A.2 in the flow tests.

use crate::keys::{initial_keys, InitialKeys, Side};
use crate::version;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::Aes128Gcm;

/// Protects a packet: `header` is the unprotected header ending with the `pn_len`-byte packet
/// number at `pn_offset` (its Length field already counting the payload and the 16-byte tag).
pub(crate) fn seal(
    keys: &InitialKeys,
    header: &[u8],
    pn_offset: usize,
    pn: u64,
    payload: &[u8],
) -> Vec<u8> {
    let pn_len = usize::from(header[0] & 3) + 1;
    let mut nonce = keys.iv;
    for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
        *n ^= p;
    }
    let ct = Aes128Gcm::new(&keys.key.into())
        .encrypt(
            &nonce.into(),
            Payload {
                msg: payload,
                aad: header,
            },
        )
        .unwrap();
    let mut packet = header.to_vec();
    packet.extend_from_slice(&ct);
    let sample: [u8; 16] = packet[pn_offset + 4..pn_offset + 20].try_into().unwrap();
    let mut mask = aes::Block::from(sample);
    Aes128::new(&keys.hp.into()).encrypt_block(&mut mask);
    packet[0] ^= mask[0] & 0x0f;
    for i in 0..pn_len {
        packet[pn_offset + i] ^= mask[1 + i];
    }
    packet
}

/// A protected client Initial of `version` with these CIDs, packet number `pn` (2 bytes on the
/// wire) and `frames`, padded with PADDING frames to `min_payload` bytes; keys from `key_dcid`.
pub(crate) fn client_initial(
    version: u32,
    key_dcid: &[u8],
    dcid: &[u8],
    pn: u64,
    frames: &[u8],
    min_payload: usize,
) -> Vec<u8> {
    let params = version::params(version).unwrap();
    let keys = initial_keys(&params, key_dcid, Side::Client).unwrap();
    let type_bits: u8 = if version == version::V2 { 1 } else { 0 };
    let mut payload = frames.to_vec();
    if payload.len() < min_payload {
        payload.resize(min_payload, 0);
    }
    let mut header = vec![0xc0 | type_bits << 4 | 0x01];
    header.extend_from_slice(&version.to_be_bytes());
    header.push(dcid.len() as u8);
    header.extend_from_slice(dcid);
    header.push(0); // no SCID
    header.push(0); // no token
    let length = 2 + payload.len() + 16;
    header.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
    let pn_offset = header.len();
    header.extend_from_slice(&(pn as u16).to_be_bytes());
    seal(&keys, &header, pn_offset, pn, &payload)
}

/// A CRYPTO frame (offset and length as 4-byte varints).
pub(crate) fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend_from_slice(&(0x8000_0000 | offset as u32).to_be_bytes());
    f.extend_from_slice(&(0x8000_0000 | data.len() as u32).to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// A ClientHello handshake message (header included) naming `sni` and offering `alpn`.
pub(crate) fn client_hello(sni: &str, alpn: &[&str]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    let mut exts = Vec::new();
    // server_name
    let name = sni.as_bytes();
    let n = name.len() as u16;
    exts.extend_from_slice(&[0, 0]);
    exts.extend_from_slice(&(n + 5).to_be_bytes());
    exts.extend_from_slice(&(n + 3).to_be_bytes());
    exts.push(0);
    exts.extend_from_slice(&n.to_be_bytes());
    exts.extend_from_slice(name);
    // ALPN
    let mut list = Vec::new();
    for p in alpn {
        list.push(p.len() as u8);
        list.extend_from_slice(p.as_bytes());
    }
    exts.extend_from_slice(&[0, 16]);
    exts.extend_from_slice(&(list.len() as u16 + 2).to_be_bytes());
    exts.extend_from_slice(&(list.len() as u16).to_be_bytes());
    exts.extend_from_slice(&list);
    // supported_versions: TLS 1.3
    exts.extend_from_slice(&[0, 43, 0, 3, 2, 3, 4]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut msg = vec![1];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&body);
    msg
}
