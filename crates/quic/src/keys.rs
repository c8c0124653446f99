//! Initial packet protection keys (RFC 9001 §5.2, RFC 9369 §3.3): derived from the client's
//! Destination Connection ID and a public, per-version salt, so an observer can derive them too.

use crate::version::VersionParams;
use hkdf::Hkdf;
use sha2::Sha256;

/// AES-128-GCM packet key, IV and AES-128 header protection key of one direction.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct InitialKeys {
    /// AEAD key.
    pub(crate) key: [u8; 16],
    /// AEAD IV, XORed with the packet number to make the nonce.
    pub(crate) iv: [u8; 12],
    /// Header protection key.
    pub(crate) hp: [u8; 16],
}

impl std::fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs, even public ones.
        f.write_str("InitialKeys(..)")
    }
}

/// Which side's Initial secret to derive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// "client in": protects client→server Initial packets.
    Client,
    /// "server in": protects server→client Initial packets (only the RFC test vectors use it).
    #[cfg_attr(not(test), allow(dead_code))]
    Server,
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, into `out`.
fn expand_label(prk: &Hkdf<Sha256>, label: &str, out: &mut [u8]) -> Option<()> {
    let len = u16::try_from(out.len()).ok()?;
    let full_len = u8::try_from(b"tls13 ".len() + label.len()).ok()?;
    let mut info = Vec::with_capacity(4 + usize::from(full_len));
    info.extend_from_slice(&len.to_be_bytes());
    info.push(full_len);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(0);
    prk.expand(&info, out).ok()
}

/// The Initial secret of `side` for a connection whose client chose `dcid`.
pub(crate) fn initial_secret(params: &VersionParams, dcid: &[u8], side: Side) -> Option<[u8; 32]> {
    let (_, initial) = Hkdf::<Sha256>::extract(Some(params.salt), dcid);
    let label = match side {
        Side::Client => "client in",
        Side::Server => "server in",
    };
    let mut secret = [0u8; 32];
    expand_label(&initial, label, &mut secret)?;
    Some(secret)
}

/// The packet protection keys from one side's Initial secret.
pub(crate) fn keys_from_secret(params: &VersionParams, secret: &[u8; 32]) -> Option<InitialKeys> {
    let prk = Hkdf::<Sha256>::from_prk(secret).ok()?;
    let [key_label, iv_label, hp_label] = params.labels;
    let mut keys = InitialKeys {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&prk, key_label, &mut keys.key)?;
    expand_label(&prk, iv_label, &mut keys.iv)?;
    expand_label(&prk, hp_label, &mut keys.hp)?;
    Some(keys)
}

/// The Initial keys of `side` for `dcid`.
pub(crate) fn initial_keys(params: &VersionParams, dcid: &[u8], side: Side) -> Option<InitialKeys> {
    keys_from_secret(params, &initial_secret(params, dcid, side)?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::version::{params, V1, V2};

    /// Hex to bytes (test vectors).
    pub(crate) fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The DCID of the RFC 9001 and RFC 9369 Appendix A examples.
    pub(crate) const DCID: &str = "8394c8f03e515708";

    #[test]
    fn rfc9001_a1_keys() {
        let v1 = params(V1).unwrap();
        let dcid = unhex(DCID);
        let client = initial_secret(&v1, &dcid, Side::Client).unwrap();
        assert_eq!(
            client.to_vec(),
            unhex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea")
        );
        let keys = keys_from_secret(&v1, &client).unwrap();
        assert_eq!(keys.key.to_vec(), unhex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(keys.iv.to_vec(), unhex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(keys.hp.to_vec(), unhex("9f50449e04a0e810283a1e9933adedd2"));

        let server = initial_keys(&v1, &dcid, Side::Server).unwrap();
        assert_eq!(
            server.key.to_vec(),
            unhex("cf3a5331653c364c88f0f379b6067e37")
        );
        assert_eq!(server.iv.to_vec(), unhex("0ac1493ca1905853b0bba03e"));
        assert_eq!(
            server.hp.to_vec(),
            unhex("c206b8d9b9f0f37644430b490eeaa314")
        );
    }

    #[test]
    fn rfc9369_a1_keys() {
        let v2 = params(V2).unwrap();
        let dcid = unhex(DCID);
        let client = initial_secret(&v2, &dcid, Side::Client).unwrap();
        assert_eq!(
            client.to_vec(),
            unhex("14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b")
        );
        let keys = keys_from_secret(&v2, &client).unwrap();
        assert_eq!(keys.key.to_vec(), unhex("8b1a0bc121284290a29e0971b5cd045d"));
        assert_eq!(keys.iv.to_vec(), unhex("91f73e2351d8fa91660e909f"));
        assert_eq!(keys.hp.to_vec(), unhex("45b95e15235d6f45a6b19cbcb0294ba9"));

        let server = initial_keys(&v2, &dcid, Side::Server).unwrap();
        assert_eq!(
            server.key.to_vec(),
            unhex("82db637861d55e1d011f19ea71d5d2a7")
        );
        assert_eq!(server.iv.to_vec(), unhex("dd13c276499c0249d3310652"));
        assert_eq!(
            server.hp.to_vec(),
            unhex("edf6d05c83121201b436e16877593c3a")
        );
    }

    #[test]
    fn keys_are_not_printed() {
        let keys = initial_keys(&params(V1).unwrap(), b"x", Side::Client).unwrap();
        assert_eq!(format!("{keys:?}"), "InitialKeys(..)");
    }
}
