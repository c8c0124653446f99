//! Key schedules: the TLS 1.2 PRF and key block (RFC 5246 §5, §6.3, §8.1; RFC 7627 §4), the
//! TLS 1.0/1.1 PRF (RFC 2246 §5, RFC 4346 §5) and the TLS 1.3 HKDF-Expand-Label derivations
//! (RFC 8446 §7.1, §7.2, §7.3).

use crate::suite::HashAlg;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// The pseudo-random function of a TLS ≤ 1.2 connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prf {
    /// TLS 1.0 and 1.1: `P_MD5(S1, …) ⊕ P_SHA-1(S2, …)` over the two halves of the secret.
    Md5Sha1,
    /// TLS 1.2 with a SHA-256 suite (the default).
    Sha256,
    /// TLS 1.2 with a SHA-384 suite.
    Sha384,
}

impl Prf {
    /// The PRF of a connection: by version, then by the suite's hash.
    pub fn new(version: u16, suite_hash: HashAlg) -> Self {
        match (version < 0x0303, suite_hash) {
            (true, _) => Self::Md5Sha1,
            (false, HashAlg::Sha384) => Self::Sha384,
            (false, _) => Self::Sha256,
        }
    }
}

/// Largest output of one key schedule step: the largest TLS 1.2 key block this crate needs
/// (2 × 48 MAC keys + 2 × 32 keys + 2 × 12 IVs = 184 bytes), rounded up.
pub const MAX_KEY_BLOCK: usize = 192;

/// `P_hash(secret, seed)` (RFC 5246 §5) with the seed given in parts, filling `out`.
fn p_hash<M: Mac + hmac::digest::KeyInit + Clone>(secret: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let Ok(keyed) = <M as Mac>::new_from_slice(secret) else {
        return; // HMAC takes keys of any length; this cannot fail.
    };
    // A(1) = HMAC(secret, seed)
    let mut a = {
        let mut m = keyed.clone();
        for part in seed {
            m.update(part);
        }
        m.finalize().into_bytes()
    };
    for chunk in out.chunks_mut(a.len()) {
        let mut m = keyed.clone();
        m.update(&a);
        for part in seed {
            m.update(part);
        }
        let block = m.finalize().into_bytes();
        for (o, b) in chunk.iter_mut().zip(block.iter()) {
            *o = *b;
        }
        // A(i+1) = HMAC(secret, A(i))
        let mut m = keyed.clone();
        m.update(&a);
        a = m.finalize().into_bytes();
    }
}

/// The PRF: `P_<hash>(secret, label + seed)` (RFC 5246 §5), or for TLS 1.0/1.1
/// `P_MD5(S1, label + seed) ⊕ P_SHA-1(S2, label + seed)` where S1 and S2 are the first and last
/// halves of the secret, sharing a byte when its length is odd (RFC 2246 §5).
pub fn prf(prf: Prf, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len().saturating_add(1));
    parts.push(label);
    parts.extend_from_slice(seed);
    match prf {
        Prf::Sha384 => p_hash::<Hmac<Sha384>>(secret, &parts, out),
        Prf::Sha256 => p_hash::<Hmac<Sha256>>(secret, &parts, out),
        Prf::Md5Sha1 => {
            let half = secret.len().div_ceil(2);
            let s1 = secret.get(..half).unwrap_or_default();
            let s2 = secret
                .get(secret.len().saturating_sub(half)..)
                .unwrap_or_default();
            p_hash::<Hmac<Md5>>(s1, &parts, out);
            let mut sha = [0u8; MAX_KEY_BLOCK];
            let Some(sha) = sha.get_mut(..out.len()) else {
                return;
            };
            p_hash::<Hmac<Sha1>>(s2, &parts, sha);
            for (o, s) in out.iter_mut().zip(sha.iter()) {
                *o ^= *s;
            }
        }
    }
}

/// The master secret from an RSA pre-master secret (RFC 5246 §8.1), or, with the extended master
/// secret extension, from the session hash (RFC 7627 §4).
pub fn master_secret(
    hash: Prf,
    pre_master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    session_hash: Option<&[u8]>,
) -> [u8; 48] {
    let mut ms = [0u8; 48];
    match session_hash {
        Some(h) => prf(hash, pre_master, b"extended master secret", &[h], &mut ms),
        None => prf(
            hash,
            pre_master,
            b"master secret",
            &[client_random, server_random],
            &mut ms,
        ),
    }
    ms
}

/// The key block (RFC 5246 §6.3): `PRF(master, "key expansion", server_random + client_random)`.
pub fn key_block(
    hash: Prf,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    out: &mut [u8],
) {
    prf(
        hash,
        master,
        b"key expansion",
        &[server_random, client_random],
        out,
    );
}

/// `HKDF-Expand-Label(secret, label, context, out.len())` (RFC 8446 §7.1). Returns false when
/// the secret is shorter than the hash or the output too long (never for TLS's own uses).
pub fn hkdf_expand_label(
    hash: HashAlg,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> bool {
    // struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; }
    let (Ok(len), Ok(label_len), Ok(ctx_len)) = (
        u16::try_from(out.len()),
        u8::try_from(label.len().saturating_add(6)),
        u8::try_from(context.len()),
    ) else {
        return false;
    };
    let mut info = Vec::with_capacity(usize::from(label_len).saturating_add(context.len()) + 4);
    info.extend_from_slice(&len.to_be_bytes());
    info.push(label_len);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(ctx_len);
    info.extend_from_slice(context);
    match hash {
        HashAlg::Sha384 => {
            hkdf::Hkdf::<Sha384>::from_prk(secret).is_ok_and(|h| h.expand(&info, out).is_ok())
        }
        HashAlg::Sha256 | HashAlg::Sha1 => {
            hkdf::Hkdf::<Sha256>::from_prk(secret).is_ok_and(|h| h.expand(&info, out).is_ok())
        }
    }
}

/// The next application traffic secret (RFC 8446 §7.2):
/// `HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length)`.
pub fn next_traffic_secret(hash: HashAlg, secret: &[u8]) -> Option<Vec<u8>> {
    let mut next = vec![0u8; hash.len()];
    hkdf_expand_label(hash, secret, b"traffic upd", b"", &mut next).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8448 §3 (Simple 1-RTT Handshake): the server handshake traffic secret gives this
    /// key and IV.
    #[test]
    fn rfc8448_server_handshake_key_and_iv() {
        let secret =
            hex::decode("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
                .unwrap();
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        assert!(hkdf_expand_label(
            HashAlg::Sha256,
            &secret,
            b"key",
            b"",
            &mut key
        ));
        assert!(hkdf_expand_label(
            HashAlg::Sha256,
            &secret,
            b"iv",
            b"",
            &mut iv
        ));
        assert_eq!(hex::encode(key), "3fce516009c21727d0f2e4e86ee403bc");
        assert_eq!(hex::encode(iv), "5d313eb2671276ee13000b30");
    }

    /// The TLS 1.2 PRF test vector for P_SHA256 published on the IETF TLS list
    /// (https://mailarchive.ietf.org/arch/msg/tls/fzVCzk-z3FShgGJ6DOXqM1ydxms/).
    #[test]
    fn prf_sha256_vector() {
        let secret = hex::decode("9bbe436ba940f017b17652849a71db35").unwrap();
        let seed = hex::decode("a0ba9f936cda311827a6f796ffd5198c").unwrap();
        let mut out = [0u8; 100];
        prf(Prf::Sha256, &secret, b"test label", &[&seed], &mut out);
        assert_eq!(
            hex::encode(out),
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
        );
    }

    /// The matching P_SHA384 vector from the same post.
    #[test]
    fn prf_sha384_vector() {
        let secret = hex::decode("b80b733d6ceefcdc71566ea48e5567df").unwrap();
        let seed = hex::decode("cd665cf6a8447dd6ff8b27555edb7465").unwrap();
        let mut out = [0u8; 148];
        prf(Prf::Sha384, &secret, b"test label", &[&seed], &mut out);
        assert_eq!(
            hex::encode(out),
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f"
        );
    }

    /// The TLS 1.0 PRF over an odd-length secret (the halves share a byte), checked against an
    /// independent Python implementation of RFC 2246 §5.
    #[test]
    fn prf_md5_sha1_odd_secret() {
        let secret: Vec<u8> = (1..48).collect();
        let mut out = [0u8; 104];
        prf(
            Prf::Md5Sha1,
            &secret,
            b"key expansion",
            &[&[0xaa; 32], &[0xbb; 32]],
            &mut out,
        );
        assert_eq!(
            hex::encode(out),
            "ba8522df37398c1dcb33087c27bccf4168de5c8ccea60597e942591eeaedb59029a5243dbbcdb69ca3ef35efdce6a2853e5289f3e7736eb92e86f67a811dd2760f5e937d09272497f734ab1cd54b70a44f9a682e18c2f576e64dadf51ff91eda104c2004861da6bc"
        );
    }

    #[test]
    fn next_traffic_secret_has_hash_length() {
        let next = next_traffic_secret(HashAlg::Sha384, &[7; 48]).unwrap();
        assert_eq!(next.len(), 48);
        assert_ne!(next, vec![7; 48]);
        assert_eq!(next_traffic_secret(HashAlg::Sha256, &[7; 4]), None);
    }

    #[test]
    fn hkdf_rejects_short_secret_and_long_label() {
        let mut out = [0u8; 16];
        assert!(!hkdf_expand_label(
            HashAlg::Sha256,
            &[1; 8],
            b"key",
            b"",
            &mut out
        ));
        assert!(!hkdf_expand_label(
            HashAlg::Sha256,
            &[1; 32],
            &[b'x'; 300],
            b"",
            &mut out
        ));
    }
}
