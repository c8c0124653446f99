//! Cipher suites phonehome can decrypt, and what each needs (RFC 5246 App. C, RFC 5288, RFC 5289,
//! RFC 7905, RFC 8446 §B.4).

/// The bulk cipher of a suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkCipher {
    /// AES-128 in GCM (RFC 5288; RFC 8446 §B.4).
    Aes128Gcm,
    /// AES-256 in GCM.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 7905; RFC 8446 §B.4).
    ChaCha20Poly1305,
    /// AES-128 in CBC mode with an HMAC (RFC 5246 §6.2.3.2).
    Aes128Cbc,
    /// AES-256 in CBC mode with an HMAC.
    Aes256Cbc,
}

impl BulkCipher {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm | Self::Aes128Cbc => 16,
            Self::Aes256Gcm | Self::Aes256Cbc | Self::ChaCha20Poly1305 => 32,
        }
    }

    /// Whether the cipher is an AEAD.
    pub fn is_aead(self) -> bool {
        matches!(
            self,
            Self::Aes128Gcm | Self::Aes256Gcm | Self::ChaCha20Poly1305
        )
    }

    /// TLS 1.2 `fixed_iv_length` taken from the key block: 4 for GCM (RFC 5288 §3), 12 for
    /// ChaCha20-Poly1305 (RFC 7905 §2), 0 for CBC (explicit per-record IV, RFC 5246 §6.3).
    pub fn tls12_fixed_iv_len(self) -> usize {
        match self {
            Self::Aes128Gcm | Self::Aes256Gcm => 4,
            Self::ChaCha20Poly1305 => 12,
            Self::Aes128Cbc | Self::Aes256Cbc => 0,
        }
    }
}

/// A hash used by the PRF, the HMAC or HKDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-1 (record MAC only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl HashAlg {
    /// Output length in bytes.
    pub fn len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
        }
    }
}

/// What phonehome needs to know about a cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    /// IANA code point.
    pub id: u16,
    /// Bulk cipher.
    pub cipher: BulkCipher,
    /// Record MAC for CBC suites (`None` for AEADs).
    pub mac: Option<HashAlg>,
    /// PRF hash (TLS 1.2) or HKDF hash (TLS 1.3).
    pub hash: HashAlg,
    /// Plain RSA key exchange: the `RSA` key log label applies (RFC 5246 §7.4.7.1).
    pub rsa_key_exchange: bool,
    /// A TLS 1.3 suite.
    pub tls13: bool,
}

/// Looks up a suite phonehome can decrypt; `None` for everything else (CCM, 3DES, RC4, Camellia,
/// ARIA, NULL…), which gives `unsupported_suite`.
pub fn lookup(id: u16) -> Option<Suite> {
    use BulkCipher::*;
    use HashAlg::*;
    let (cipher, mac, hash, rsa) = match id {
        // TLS 1.3 (RFC 8446 §B.4).
        0x1301 => (Aes128Gcm, None, Sha256, false),
        0x1302 => (Aes256Gcm, None, Sha384, false),
        0x1303 => (ChaCha20Poly1305, None, Sha256, false),
        // AES-GCM (RFC 5288, RFC 5289, RFC 5487).
        0x009c => (Aes128Gcm, None, Sha256, true),
        0x009d => (Aes256Gcm, None, Sha384, true),
        0x009e | 0x00a0 | 0x00a2 | 0x00a4 | 0x00a6 | 0x00a8 | 0x00aa | 0x00ac | 0xc02b | 0xc02d
        | 0xc02f | 0xc031 => (Aes128Gcm, None, Sha256, false),
        0x009f | 0x00a1 | 0x00a3 | 0x00a5 | 0x00a7 | 0x00a9 | 0x00ab | 0x00ad | 0xc02c | 0xc02e
        | 0xc030 | 0xc032 => (Aes256Gcm, None, Sha384, false),
        // ChaCha20-Poly1305 (RFC 7905).
        0xcca8..=0xccae => (ChaCha20Poly1305, None, Sha256, false),
        // AES-CBC with HMAC-SHA1; the TLS 1.2 PRF is SHA-256 (RFC 5246 §5).
        0x002f | 0x0035 => (cbc(id == 0x0035), Some(Sha1), Sha256, true),
        0x0030 | 0x0031 | 0x0032 | 0x0033 | 0x0034 | 0x008c | 0x0090 | 0x0094 | 0xc004 | 0xc009
        | 0xc00e | 0xc013 | 0xc018 | 0xc035 => (Aes128Cbc, Some(Sha1), Sha256, false),
        0x0036 | 0x0037 | 0x0038 | 0x0039 | 0x003a | 0x008d | 0x0091 | 0x0095 | 0xc005 | 0xc00a
        | 0xc00f | 0xc014 | 0xc019 | 0xc036 => (Aes256Cbc, Some(Sha1), Sha256, false),
        // AES-CBC with HMAC-SHA256 / SHA-384 (RFC 5246, RFC 5289, RFC 5487).
        0x003c => (Aes128Cbc, Some(Sha256), Sha256, true),
        0x003d => (Aes256Cbc, Some(Sha256), Sha256, true),
        0x003e | 0x003f | 0x0040 | 0x0067 | 0x006c | 0x00ae | 0x00b2 | 0x00b6 | 0xc023 | 0xc025
        | 0xc027 | 0xc029 | 0xc037 => (Aes128Cbc, Some(Sha256), Sha256, false),
        0x0068 | 0x0069 | 0x006a | 0x006b | 0x006d => (Aes256Cbc, Some(Sha256), Sha256, false),
        0x00af | 0x00b3 | 0x00b7 | 0xc024 | 0xc026 | 0xc028 | 0xc02a | 0xc038 => {
            (Aes256Cbc, Some(Sha384), Sha384, false)
        }
        _ => return None,
    };
    Some(Suite {
        id,
        cipher,
        mac,
        hash,
        rsa_key_exchange: rsa,
        tls13: (0x1301..=0x1305).contains(&id),
    })
}

/// AES-128-CBC or AES-256-CBC.
fn cbc(aes256: bool) -> BulkCipher {
    if aes256 {
        BulkCipher::Aes256Cbc
    } else {
        BulkCipher::Aes128Cbc
    }
}
