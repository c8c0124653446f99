//! Record protection: opening TLS 1.2 and TLS 1.3 records with RustCrypto's ciphers.
//!
//! - TLS 1.3 AEAD (RFC 8446 §5.2, §5.3): nonce = IV ⊕ sequence number, additional data = the
//!   record header, and the real content type is the last non-zero byte of the inner plaintext.
//! - TLS 1.2 AES-GCM (RFC 5288 §3): nonce = 4-byte implicit salt ‖ 8-byte explicit nonce carried
//!   in the record; additional data = `seq_num ‖ type ‖ version ‖ length` (RFC 5246 §6.2.3.3).
//! - TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2): nonce = 12-byte IV ⊕ sequence number, no explicit
//!   part; same additional data.
//! - TLS 1.2 AES-CBC (RFC 5246 §6.2.3.2): explicit IV, MAC-then-encrypt with padding checks; or
//!   encrypt-then-MAC when negotiated (RFC 7366 §3). TLS 1.1 is the same (RFC 4346 §6.2.3.2);
//!   TLS 1.0 chains the IV: a record's IV is the last ciphertext block of the one before (RFC 2246
//!   §6.2.3.2), the first comes from the key block.
//!
//! Decryption writes straight into the caller's output buffer (the ciphertext is copied there
//! once and decrypted in place), so a record costs no allocation beyond the plaintext itself.

use crate::suite::{BulkCipher, HashAlg, Suite};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, InnerIvInit};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// AEAD tag length of every supported AEAD.
pub const TAG_LEN: usize = 16;
/// AES block size (CBC IV and padding unit).
const BLOCK: usize = 16;
/// Length of the explicit nonce in a TLS 1.2 AES-GCM record.
const GCM_EXPLICIT_NONCE: usize = 8;

/// Why a record did not open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// The record is too short for its protection (no room for nonce, tag, IV or MAC).
    TooShort,
    /// The AEAD tag did not verify.
    BadTag,
    /// CBC: the length is not a whole number of blocks.
    BadBlockLength,
    /// CBC: the padding bytes are inconsistent.
    BadPadding,
    /// CBC: the HMAC did not verify.
    BadMac,
    /// TLS 1.3: the inner plaintext is all zeros (no content type, RFC 8446 §5.4).
    NoContentType,
}

impl OpenError {
    /// A short description for anomaly reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooShort => "record too short for its protection",
            Self::BadTag => "AEAD tag mismatch",
            Self::BadBlockLength => "CBC ciphertext not a multiple of the block size",
            Self::BadPadding => "CBC padding invalid",
            Self::BadMac => "record MAC mismatch",
            Self::NoContentType => "TLS 1.3 inner plaintext has no content type",
        }
    }
}

/// A keyed AEAD.
enum Aead {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
}

impl Aead {
    fn new(cipher: BulkCipher, key: &[u8]) -> Option<Self> {
        Some(match cipher {
            BulkCipher::Aes128Gcm => Self::Aes128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            BulkCipher::Aes256Gcm => Self::Aes256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            BulkCipher::ChaCha20Poly1305 => {
                Self::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
            BulkCipher::Aes128Cbc | BulkCipher::Aes256Cbc => return None,
        })
    }

    fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; TAG_LEN]) -> bool {
        let nonce = GenericArray::from_slice(nonce);
        let tag = GenericArray::from_slice(tag);
        match self {
            Self::Aes128(a) => a.decrypt_in_place_detached(nonce, aad, buf, tag).is_ok(),
            Self::Aes256(a) => a.decrypt_in_place_detached(nonce, aad, buf, tag).is_ok(),
            Self::ChaCha(a) => a.decrypt_in_place_detached(nonce, aad, buf, tag).is_ok(),
        }
    }
}

/// A keyed HMAC for CBC suites, cloned per record.
#[derive(Clone)]
enum RecordMac {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
}

impl RecordMac {
    fn new(alg: HashAlg, key: &[u8]) -> Option<Self> {
        Some(match alg {
            HashAlg::Sha1 => Self::Sha1(<Hmac<Sha1> as Mac>::new_from_slice(key).ok()?),
            HashAlg::Sha256 => Self::Sha256(<Hmac<Sha256> as Mac>::new_from_slice(key).ok()?),
            HashAlg::Sha384 => Self::Sha384(<Hmac<Sha384> as Mac>::new_from_slice(key).ok()?),
        })
    }

    fn verify(&self, parts: &[&[u8]], expected: &[u8]) -> bool {
        fn run<M: Mac + Clone>(m: &M, parts: &[&[u8]], expected: &[u8]) -> bool {
            let mut m = m.clone();
            for p in parts {
                m.update(p);
            }
            m.verify_slice(expected).is_ok()
        }
        match self {
            Self::Sha1(m) => run(m, parts, expected),
            Self::Sha256(m) => run(m, parts, expected),
            Self::Sha384(m) => run(m, parts, expected),
        }
    }
}

/// A keyed AES block cipher for CBC suites, cloned per record.
#[derive(Clone)]
enum CbcCipher {
    Aes128(Box<aes::Aes128>),
    Aes256(Box<aes::Aes256>),
}

impl CbcCipher {
    fn new(cipher: BulkCipher, key: &[u8]) -> Option<Self> {
        use aes::cipher::KeyInit as _;
        Some(match cipher {
            BulkCipher::Aes128Cbc => Self::Aes128(Box::new(aes::Aes128::new_from_slice(key).ok()?)),
            BulkCipher::Aes256Cbc => Self::Aes256(Box::new(aes::Aes256::new_from_slice(key).ok()?)),
            _ => return None,
        })
    }

    /// Decrypts whole blocks in place.
    fn decrypt(&self, iv: &[u8; BLOCK], buf: &mut [u8]) -> bool {
        let iv = GenericArray::from_slice(iv);
        match self {
            Self::Aes128(c) => cbc::Decryptor::<aes::Aes128>::inner_iv_init((**c).clone(), iv)
                .decrypt_padded_mut::<NoPadding>(buf)
                .is_ok(),
            Self::Aes256(c) => cbc::Decryptor::<aes::Aes256>::inner_iv_init((**c).clone(), iv)
                .decrypt_padded_mut::<NoPadding>(buf)
                .is_ok(),
        }
    }
}

/// How records of one direction are protected.
enum Protection {
    /// TLS 1.3 AEAD.
    Tls13 { aead: Aead, iv: [u8; 12] },
    /// TLS 1.2 AES-GCM: implicit salt.
    Tls12Gcm { aead: Aead, salt: [u8; 4] },
    /// TLS 1.2 ChaCha20-Poly1305: 12-byte IV.
    Tls12ChaCha { aead: Aead, iv: [u8; 12] },
    /// TLS 1.2 AES-CBC + HMAC.
    Tls12Cbc(Box<CbcKeys>),
}

/// A CBC direction's keys.
struct CbcKeys {
    cipher: CbcCipher,
    mac: RecordMac,
    mac_len: usize,
    encrypt_then_mac: bool,
    /// TLS 1.0: the chained IV (no explicit IV in the records).
    implicit_iv: Option<[u8; BLOCK]>,
}

/// The read keys of one direction: the cipher, keyed once, and the record sequence number.
pub struct RecordKeys {
    protection: Protection,
    /// Sequence number of the next record (RFC 5246 §6.1, RFC 8446 §5.3).
    pub seq: u64,
}

impl std::fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("RecordKeys")
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// `iv ⊕ (0⁴ ‖ seq)`, the per-record nonce of RFC 8446 §5.3 and RFC 7905 §2.
fn xor_nonce(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut nonce = *iv;
    for (n, s) in nonce.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    nonce
}

/// The TLS 1.2 additional data / MAC prefix: `seq_num ‖ type ‖ version ‖ length` (RFC 5246 §6.2.3).
fn tls12_aad(seq: u64, header: &[u8; 5], len: usize) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&seq.to_be_bytes());
    aad[8..11].copy_from_slice(&header[..3]);
    let len = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    aad[11..].copy_from_slice(&len);
    aad
}

impl RecordKeys {
    /// TLS 1.3 keys from a traffic secret (RFC 8446 §7.3): `key = HKDF-Expand-Label(secret, "key",
    /// "", key_length)`, `iv = HKDF-Expand-Label(secret, "iv", "", 12)`.
    pub fn tls13(suite: &Suite, secret: &[u8]) -> Option<Self> {
        let mut key = [0u8; 32];
        let key = key.get_mut(..suite.cipher.key_len())?;
        let mut iv = [0u8; 12];
        if !crate::key_schedule::hkdf_expand_label(suite.hash, secret, b"key", b"", key)
            || !crate::key_schedule::hkdf_expand_label(suite.hash, secret, b"iv", b"", &mut iv)
        {
            return None;
        }
        Some(Self {
            protection: Protection::Tls13 {
                aead: Aead::new(suite.cipher, key)?,
                iv,
            },
            seq: 0,
        })
    }

    /// TLS 1.0–1.2 keys for one direction from its slices of the key block; a 16-byte `iv` for a
    /// CBC suite is TLS 1.0's initial chained IV.
    pub fn tls12(
        suite: &Suite,
        mac_key: &[u8],
        key: &[u8],
        iv: &[u8],
        encrypt_then_mac: bool,
    ) -> Option<Self> {
        let protection = match suite.cipher {
            BulkCipher::Aes128Gcm | BulkCipher::Aes256Gcm => Protection::Tls12Gcm {
                aead: Aead::new(suite.cipher, key)?,
                salt: <[u8; 4]>::try_from(iv).ok()?,
            },
            BulkCipher::ChaCha20Poly1305 => Protection::Tls12ChaCha {
                aead: Aead::new(suite.cipher, key)?,
                iv: <[u8; 12]>::try_from(iv).ok()?,
            },
            BulkCipher::Aes128Cbc | BulkCipher::Aes256Cbc => {
                let alg = suite.mac?;
                Protection::Tls12Cbc(Box::new(CbcKeys {
                    cipher: CbcCipher::new(suite.cipher, key)?,
                    mac: RecordMac::new(alg, mac_key)?,
                    mac_len: alg.len(),
                    encrypt_then_mac,
                    implicit_iv: <[u8; BLOCK]>::try_from(iv).ok(),
                }))
            }
        };
        Some(Self { protection, seq: 0 })
    }

    /// Opens one record with sequence number `seq`: appends the plaintext content to `out` and
    /// returns its content type. On failure `out` is left as it was.
    pub fn open_at(
        &self,
        seq: u64,
        header: &[u8; 5],
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, OpenError> {
        let start = out.len();
        let result = self.open_inner(seq, header, body, out, start);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// Opens the next record and, on success, advances the sequence number.
    pub fn open(
        &mut self,
        header: &[u8; 5],
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, OpenError> {
        let ty = self.open_at(self.seq, header, body, out)?;
        self.advance(self.seq, body);
        Ok(ty)
    }

    /// Records that the record `body` with sequence number `seq` was read: the next has `seq + 1`
    /// (and, in TLS 1.0, is chained to this one's last ciphertext block).
    pub fn advance(&mut self, seq: u64, body: &[u8]) {
        self.seq = seq.wrapping_add(1);
        if let Protection::Tls12Cbc(k) = &mut self.protection {
            let CbcKeys {
                implicit_iv: Some(iv),
                encrypt_then_mac,
                mac_len,
                ..
            } = &mut **k
            else {
                return;
            };
            let end = if *encrypt_then_mac {
                body.len().saturating_sub(*mac_len)
            } else {
                body.len()
            };
            let last = end.checked_sub(BLOCK).and_then(|s| body.get(s..end));
            if let Some(block) = last.and_then(|b| <[u8; BLOCK]>::try_from(b).ok()) {
                *iv = block;
            }
        }
    }

    fn open_inner(
        &self,
        seq: u64,
        header: &[u8; 5],
        body: &[u8],
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<u8, OpenError> {
        match &self.protection {
            Protection::Tls13 { aead, iv } => {
                let (ct, tag) = split_tag(body)?;
                out.extend_from_slice(ct);
                let buf = out.get_mut(start..).ok_or(OpenError::TooShort)?;
                if !aead.open(&xor_nonce(iv, seq), header, buf, &tag) {
                    return Err(OpenError::BadTag);
                }
                // TLSInnerPlaintext: content ‖ type ‖ zeros (RFC 8446 §5.2, §5.4).
                let last = buf
                    .iter()
                    .rposition(|&b| b != 0)
                    .ok_or(OpenError::NoContentType)?;
                let ty = buf.get(last).copied().ok_or(OpenError::NoContentType)?;
                out.truncate(start.saturating_add(last));
                Ok(ty)
            }
            Protection::Tls12Gcm { aead, salt } => {
                if body.len() < GCM_EXPLICIT_NONCE {
                    return Err(OpenError::TooShort);
                }
                let (explicit, rest) = body.split_at(GCM_EXPLICIT_NONCE);
                let (ct, tag) = split_tag(rest)?;
                let mut nonce = [0u8; 12];
                nonce[..4].copy_from_slice(salt);
                nonce[4..].copy_from_slice(explicit);
                let aad = tls12_aad(seq, header, ct.len());
                out.extend_from_slice(ct);
                let buf = out.get_mut(start..).ok_or(OpenError::TooShort)?;
                if aead.open(&nonce, &aad, buf, &tag) {
                    Ok(header[0])
                } else {
                    Err(OpenError::BadTag)
                }
            }
            Protection::Tls12ChaCha { aead, iv } => {
                let (ct, tag) = split_tag(body)?;
                let aad = tls12_aad(seq, header, ct.len());
                out.extend_from_slice(ct);
                let buf = out.get_mut(start..).ok_or(OpenError::TooShort)?;
                if aead.open(&xor_nonce(iv, seq), &aad, buf, &tag) {
                    Ok(header[0])
                } else {
                    Err(OpenError::BadTag)
                }
            }
            Protection::Tls12Cbc(k) => {
                let CbcKeys {
                    cipher,
                    mac,
                    mac_len,
                    encrypt_then_mac,
                    implicit_iv,
                } = &**k;
                let params = CbcParams {
                    cipher,
                    mac,
                    mac_len: *mac_len,
                    encrypt_then_mac: *encrypt_then_mac,
                    implicit_iv: implicit_iv.as_ref(),
                };
                open_cbc(&params, seq, header, body, out, start)
            }
        }
    }
}

/// Splits `ciphertext ‖ tag`.
fn split_tag(body: &[u8]) -> Result<(&[u8], [u8; TAG_LEN]), OpenError> {
    let at = body.len().checked_sub(TAG_LEN).ok_or(OpenError::TooShort)?;
    let (ct, tag) = body.split_at(at);
    let tag = <[u8; TAG_LEN]>::try_from(tag).map_err(|_| OpenError::TooShort)?;
    Ok((ct, tag))
}

/// A CBC direction's keys, borrowed for one record.
struct CbcParams<'a> {
    cipher: &'a CbcCipher,
    mac: &'a RecordMac,
    mac_len: usize,
    encrypt_then_mac: bool,
    implicit_iv: Option<&'a [u8; BLOCK]>,
}

/// Opens a TLS 1.0–1.2 CBC record (RFC 5246 §6.2.3.2, RFC 2246 §6.2.3.2; RFC 7366 §3 for
/// encrypt-then-MAC).
fn open_cbc(
    p: &CbcParams<'_>,
    seq: u64,
    header: &[u8; 5],
    body: &[u8],
    out: &mut Vec<u8>,
    start: usize,
) -> Result<u8, OpenError> {
    let CbcParams {
        cipher,
        mac,
        mac_len,
        encrypt_then_mac,
        implicit_iv,
    } = *p;
    // Encrypt-then-MAC: IV ‖ ciphertext ‖ MAC, the MAC over the whole IV ‖ ciphertext.
    let (body, etm_tag) = if encrypt_then_mac {
        let at = body.len().checked_sub(mac_len).ok_or(OpenError::TooShort)?;
        let (b, t) = body.split_at(at);
        (b, Some(t))
    } else {
        (body, None)
    };
    let min_blocks = if implicit_iv.is_some() { 1 } else { 2 };
    if body.len() < BLOCK.saturating_mul(min_blocks) {
        return Err(OpenError::TooShort);
    }
    if body.len() % BLOCK != 0 {
        return Err(OpenError::BadBlockLength);
    }
    if let Some(tag) = etm_tag {
        let aad = tls12_aad(seq, header, body.len());
        if !mac.verify(&[&aad, body], tag) {
            return Err(OpenError::BadMac);
        }
    }
    let (iv, ct) = match implicit_iv {
        Some(iv) => (*iv, body),
        None => {
            let (iv, ct) = body.split_at(BLOCK);
            (
                <[u8; BLOCK]>::try_from(iv).map_err(|_| OpenError::TooShort)?,
                ct,
            )
        }
    };
    out.extend_from_slice(ct);
    let buf = out.get_mut(start..).ok_or(OpenError::TooShort)?;
    if !cipher.decrypt(&iv, buf) {
        return Err(OpenError::BadBlockLength);
    }
    // content ‖ [MAC] ‖ padding ‖ padding_length, every padding byte equal to padding_length.
    let pad_len = usize::from(buf.last().copied().ok_or(OpenError::TooShort)?);
    let trailer = pad_len.saturating_add(1);
    let mac_in_plain = if encrypt_then_mac { 0 } else { mac_len };
    let content_len = buf
        .len()
        .checked_sub(trailer)
        .and_then(|n| n.checked_sub(mac_in_plain))
        .ok_or(OpenError::BadPadding)?;
    let pad_start = content_len.saturating_add(mac_in_plain);
    if buf
        .get(pad_start..)
        .is_none_or(|p| p.iter().any(|&b| usize::from(b) != pad_len))
    {
        return Err(OpenError::BadPadding);
    }
    if !encrypt_then_mac {
        let (content, rest) = buf.split_at(content_len);
        let tag = rest.get(..mac_len).ok_or(OpenError::TooShort)?;
        let aad = tls12_aad(seq, header, content_len);
        if !mac.verify(&[&aad, content], tag) {
            return Err(OpenError::BadMac);
        }
    }
    out.truncate(start.saturating_add(content_len));
    Ok(header[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::lookup;

    /// Seals a TLS 1.3 inner plaintext with the same key schedule as `RecordKeys::tls13`.
    fn seal13(secret: &[u8], inner: &[u8]) -> ([u8; 5], Vec<u8>) {
        let suite = lookup(0x1301).unwrap();
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        crate::key_schedule::hkdf_expand_label(suite.hash, secret, b"key", b"", &mut key);
        crate::key_schedule::hkdf_expand_label(suite.hash, secret, b"iv", b"", &mut iv);
        let len = (inner.len() + TAG_LEN) as u16;
        let header = [23, 3, 3, (len >> 8) as u8, len as u8];
        let mut buf = inner.to_vec();
        let tag = Aes128Gcm::new_from_slice(&key)
            .unwrap()
            .encrypt_in_place_detached(
                GenericArray::from_slice(&xor_nonce(&iv, 0)),
                &header,
                &mut buf,
            )
            .unwrap();
        buf.extend_from_slice(&tag);
        (header, buf)
    }

    #[test]
    fn tls13_inner_plaintext() {
        let suite = lookup(0x1301).unwrap();
        let secret = [9u8; 32];
        let keys = RecordKeys::tls13(&suite, &secret).unwrap();
        let mut out = b"kept".to_vec();
        let (h, body) = seal13(&secret, b"hello\x17\0\0\0");
        assert_eq!(keys.open_at(0, &h, &body, &mut out), Ok(23));
        assert_eq!(&out[..], b"kepthello");
        // Wrong sequence number: the tag fails and `out` is untouched.
        assert_eq!(keys.open_at(1, &h, &body, &mut out), Err(OpenError::BadTag));
        assert_eq!(&out[..], b"kepthello");
        // All-zero inner plaintext has no content type.
        let (h, body) = seal13(&secret, &[0, 0, 0]);
        assert_eq!(
            keys.open_at(0, &h, &body, &mut out),
            Err(OpenError::NoContentType)
        );
        assert_eq!(&out[..], b"kepthello");
        // Shorter than a tag.
        assert_eq!(
            keys.open_at(0, &h, &body[..15], &mut out),
            Err(OpenError::TooShort)
        );
        assert_eq!(keys.open_at(0, &h, &[], &mut out), Err(OpenError::TooShort));
    }

    #[test]
    fn short_and_misaligned_tls12_records() {
        let gcm = lookup(0xc02f).unwrap();
        let keys = RecordKeys::tls12(&gcm, &[], &[1; 16], &[2; 4], false).unwrap();
        let h = [23, 3, 3, 0, 0];
        let mut out = Vec::new();
        assert_eq!(
            keys.open_at(0, &h, &[0; 7], &mut out),
            Err(OpenError::TooShort)
        );
        assert_eq!(
            keys.open_at(0, &h, &[0; 23], &mut out),
            Err(OpenError::TooShort)
        );
        assert_eq!(
            keys.open_at(0, &h, &[0; 40], &mut out),
            Err(OpenError::BadTag)
        );
        let cbc = lookup(0xc013).unwrap();
        for etm in [false, true] {
            let keys = RecordKeys::tls12(&cbc, &[3; 20], &[4; 16], &[], etm).unwrap();
            assert_eq!(
                keys.open_at(0, &h, &[0; 16], &mut out),
                Err(OpenError::TooShort)
            );
            let misaligned = if etm { 33 + 20 } else { 33 };
            assert_eq!(
                keys.open_at(0, &h, &vec![0; misaligned], &mut out),
                Err(OpenError::BadBlockLength)
            );
            assert!(keys.open_at(0, &h, &[0; 64], &mut out).is_err());
        }
        assert!(out.is_empty());
        // Wrong key lengths are refused, not a panic.
        assert!(RecordKeys::tls12(&gcm, &[], &[1; 15], &[2; 4], false).is_none());
        assert!(RecordKeys::tls12(&gcm, &[], &[1; 16], &[2; 3], false).is_none());
        assert!(RecordKeys::tls13(&lookup(0x1302).unwrap(), &[1; 8]).is_none());
        assert!(!format!("{keys:?}").contains("01"), "keys never printed");
    }
}
