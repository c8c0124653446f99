//! The NSS key log format (`SSLKEYLOGFILE`), as written by NSS, OpenSSL, BoringSSL, curl,
//! browsers and Wireshark's `editcap --inject-secrets`.
//!
//! Each line is `<LABEL> <client_random or id, hex> <secret, hex>`. The labels phonehome uses:
//!
//! | label | key | secret | for |
//! |---|---|---|---|
//! | `CLIENT_RANDOM` | client random (32 bytes) | master secret (48) | TLS 1.2 (RFC 5246 §8.1) |
//! | `RSA` | first 8 bytes of the encrypted pre-master secret | pre-master secret (48) | TLS 1.2 RSA key exchange (RFC 5246 §7.4.7.1) |
//! | `CLIENT_EARLY_TRAFFIC_SECRET` | client random | `client_early_traffic_secret` | TLS 1.3 0-RTT (RFC 8446 §7.1) |
//! | `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `SERVER_HANDSHAKE_TRAFFIC_SECRET` | client random | `[sender]_handshake_traffic_secret` | TLS 1.3 handshake |
//! | `CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0` | client random | `[sender]_application_traffic_secret_0` | TLS 1.3 application data |
//!
//! QUIC stacks write the same secrets with a `QUIC_` prefix; they are stored under the plain label.
//! Other labels (`EXPORTER_SECRET`, `EARLY_EXPORTER_SECRET` — exporters, RFC 5705 / RFC 8446
//! §7.5 — and whatever a library invents) are counted in [`KeyLog::ignored`] and otherwise skipped.

use std::collections::{BTreeMap, HashMap};

/// Most key log lines stored (all labels together); further lines are reported and dropped, so a
/// hostile or runaway key log cannot exhaust memory. About 300 bytes each.
pub const MAX_KEYLOG_ENTRIES: usize = 1 << 20;

/// Longest label counted in [`KeyLog::ignored`]; longer ones are malformed.
pub const MAX_LABEL_LEN: usize = 64;

/// Most distinct unknown labels counted in [`KeyLog::ignored`].
pub const MAX_IGNORED_LABELS: usize = 256;

/// Length of a TLS 1.2 master secret and of an RSA pre-master secret.
pub const MASTER_SECRET_LEN: usize = 48;

/// The TLS 1.3 secrets logged for one client random. Each is a hash-length secret (32 bytes for
/// SHA-256 suites, 48 for SHA-384).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls13Secrets {
    /// `CLIENT_EARLY_TRAFFIC_SECRET`.
    pub client_early: Option<Vec<u8>>,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    pub client_handshake: Option<Vec<u8>>,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    pub server_handshake: Option<Vec<u8>>,
    /// `CLIENT_TRAFFIC_SECRET_0`.
    pub client_traffic_0: Option<Vec<u8>>,
    /// `SERVER_TRAFFIC_SECRET_0`.
    pub server_traffic_0: Option<Vec<u8>>,
}

impl Tls13Secrets {
    /// Whether any secret is present.
    pub fn is_empty(&self) -> bool {
        self.client_early.is_none()
            && self.client_handshake.is_none()
            && self.server_handshake.is_none()
            && self.client_traffic_0.is_none()
            && self.server_traffic_0.is_none()
    }
}

/// Everything logged for one client random.
#[derive(Clone, Debug, Default)]
struct Entry {
    master: Option<[u8; MASTER_SECRET_LEN]>,
    tls13: Tls13Secrets,
}

/// The labels that carry a secret phonehome uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    ClientRandom,
    Rsa,
    ClientEarly,
    ClientHandshake,
    ServerHandshake,
    ClientTraffic0,
    ServerTraffic0,
}

impl Label {
    fn parse(s: &str) -> Option<Self> {
        let s = s.strip_prefix("QUIC_").unwrap_or(s);
        Some(match s {
            "CLIENT_RANDOM" => Self::ClientRandom,
            "RSA" => Self::Rsa,
            "CLIENT_EARLY_TRAFFIC_SECRET" => Self::ClientEarly,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => Self::ClientHandshake,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => Self::ServerHandshake,
            "CLIENT_TRAFFIC_SECRET_0" => Self::ClientTraffic0,
            "SERVER_TRAFFIC_SECRET_0" => Self::ServerTraffic0,
            _ => return None,
        })
    }
}

/// An NSS key log: secrets by client random (and RSA pre-master secrets by ciphertext prefix).
///
/// Build it once per capture (from `--keylog` files and the capture's Decryption Secrets Blocks),
/// then share it between connections in an `Arc`.
///
/// ```
/// let mut keys = phonehome_tls::KeyLog::new();
/// let warnings = keys.add_text(&format!(
///     "# comment\nCLIENT_RANDOM {} {}\nEXPORTER_SECRET {} {}\nCLIENT_RANDOM zz 00\n",
///     "01".repeat(32), "02".repeat(48), "01".repeat(32), "03".repeat(32)));
/// assert_eq!(keys.sessions(), 1);
/// assert_eq!(keys.ignored().get("EXPORTER_SECRET"), Some(&1));
/// assert_eq!(warnings.len(), 1);
/// assert_eq!(warnings[0].0, 4); // 1-based line number
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeyLog {
    by_random: HashMap<[u8; 32], Entry>,
    rsa: HashMap<[u8; 8], [u8; MASTER_SECRET_LEN]>,
    ignored: BTreeMap<String, u64>,
    entries: usize,
}

impl KeyLog {
    /// An empty key log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every line of an NSS key log; returns warnings (1-based line number, reason) for
    /// malformed lines (bad hex, wrong lengths, unknown structure). Lines starting with '#' and
    /// blank lines are skipped. Also accepts the QUIC_ prefixed labels
    /// (QUIC_CLIENT_TRAFFIC_SECRET_0 …) as their plain forms.
    pub fn add_text(&mut self, text: &str) -> Vec<(usize, String)> {
        let mut warnings = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index.saturating_add(1);
            if let Err(reason) = self.add_line(line) {
                // A runaway file would otherwise produce one warning per line; one is enough.
                let stop = reason == LIMIT_REASON;
                warnings.push((number, reason));
                if stop {
                    break;
                }
            }
        }
        warnings
    }

    /// Adds the payload of a pcapng Decryption Secrets Block of type 0x544c534b (TLS key log).
    ///
    /// The text is read as UTF-8 (invalid bytes replaced, which makes the line malformed) and
    /// trailing NUL padding is ignored.
    pub fn add_dsb(&mut self, data: &[u8]) -> Vec<(usize, String)> {
        let end = data
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| i.saturating_add(1));
        let text = String::from_utf8_lossy(data.get(..end).unwrap_or_default());
        self.add_text(&text)
    }

    /// Number of sessions with keys: distinct client randoms plus RSA pre-master secrets.
    pub fn sessions(&self) -> usize {
        self.by_random.len().saturating_add(self.rsa.len())
    }

    /// Lines with labels phonehome does not use, counted by label.
    pub fn ignored(&self) -> &BTreeMap<String, u64> {
        &self.ignored
    }

    /// Whether nothing usable was added.
    pub fn is_empty(&self) -> bool {
        self.sessions() == 0
    }

    /// The TLS 1.2 master secret logged for `client_random` (`CLIENT_RANDOM`).
    pub fn master_secret(&self, client_random: &[u8; 32]) -> Option<&[u8; MASTER_SECRET_LEN]> {
        self.by_random.get(client_random)?.master.as_ref()
    }

    /// The RSA pre-master secret logged for an encrypted pre-master secret (`RSA`, keyed by its
    /// first 8 bytes).
    pub fn rsa_premaster(&self, encrypted: &[u8]) -> Option<&[u8; MASTER_SECRET_LEN]> {
        let prefix = <[u8; 8]>::try_from(encrypted.get(..8)?).ok()?;
        self.rsa.get(&prefix)
    }

    /// The TLS 1.3 (or QUIC) secrets logged for `client_random`, if any.
    pub fn tls13_secrets(&self, client_random: &[u8; 32]) -> Option<&Tls13Secrets> {
        let secrets = &self.by_random.get(client_random)?.tls13;
        (!secrets.is_empty()).then_some(secrets)
    }

    /// Whether anything at all is logged for `client_random`.
    pub fn has_random(&self, client_random: &[u8; 32]) -> bool {
        self.by_random.contains_key(client_random)
    }

    /// Adds one line, or says why it is malformed.
    fn add_line(&mut self, line: &str) -> Result<(), String> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let mut fields = line.split_ascii_whitespace();
        let (Some(label), Some(id), Some(secret), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err("expected `LABEL <hex> <hex>`".to_owned());
        };
        let Some(known) = Label::parse(label) else {
            let plausible = label.len() <= MAX_LABEL_LEN
                && label
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !plausible {
                return Err(format!("unknown label {:?}", truncate(label)));
            }
            if self.ignored.len() < MAX_IGNORED_LABELS || self.ignored.contains_key(label) {
                *self.ignored.entry(label.to_owned()).or_insert(0) += 1;
            }
            return Ok(());
        };
        if self.entries >= MAX_KEYLOG_ENTRIES {
            return Err(LIMIT_REASON.to_owned());
        }
        let secret = decode_hex(secret, "secret")?;
        if known == Label::Rsa {
            let id = decode_hex(id, "encrypted pre-master prefix")?;
            let prefix = <[u8; 8]>::try_from(id.as_slice()).map_err(|_| {
                format!(
                    "RSA: encrypted pre-master prefix is {} bytes, expected 8",
                    id.len()
                )
            })?;
            let pms = fixed_master(&secret, "RSA pre-master secret")?;
            self.rsa.insert(prefix, pms);
            self.entries = self.entries.saturating_add(1);
            return Ok(());
        }
        let random = decode_hex(id, "client random")?;
        let random = <[u8; 32]>::try_from(random.as_slice())
            .map_err(|_| format!("client random is {} bytes, expected 32", random.len()))?;
        if known == Label::ClientRandom {
            let master = fixed_master(&secret, "master secret")?;
            self.by_random.entry(random).or_default().master = Some(master);
        } else {
            if secret.len() != 32 && secret.len() != 48 {
                return Err(format!(
                    "{label}: secret is {} bytes, expected 32 (SHA-256) or 48 (SHA-384)",
                    secret.len()
                ));
            }
            let t = &mut self.by_random.entry(random).or_default().tls13;
            let slot = match known {
                Label::ClientEarly => &mut t.client_early,
                Label::ClientHandshake => &mut t.client_handshake,
                Label::ServerHandshake => &mut t.server_handshake,
                Label::ClientTraffic0 => &mut t.client_traffic_0,
                _ => &mut t.server_traffic_0,
            };
            *slot = Some(secret);
        }
        self.entries = self.entries.saturating_add(1);
        Ok(())
    }
}

/// The reason given when [`MAX_KEYLOG_ENTRIES`] is reached.
const LIMIT_REASON: &str = "key log limit reached (MAX_KEYLOG_ENTRIES); later lines dropped";

/// Decodes a hex field, naming it in the error.
fn decode_hex(field: &str, what: &str) -> Result<Vec<u8>, String> {
    hex::decode(field).map_err(|e| format!("{what}: bad hex ({e})"))
}

/// A 48-byte secret, or why not.
fn fixed_master(secret: &[u8], what: &str) -> Result<[u8; MASTER_SECRET_LEN], String> {
    <[u8; MASTER_SECRET_LEN]>::try_from(secret).map_err(|_| {
        format!(
            "{what} is {} bytes, expected {MASTER_SECRET_LEN}",
            secret.len()
        )
    })
}

/// At most 32 characters of a field, for messages.
fn truncate(s: &str) -> String {
    s.chars().take(32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: u8) -> String {
        hex::encode([n; 32])
    }

    #[test]
    fn every_label() {
        let text = format!(
            "# SSL/TLS secrets log file\n\n\
             CLIENT_RANDOM {} {}\r\n\
             RSA 0102030405060708 {}\n\
             CLIENT_EARLY_TRAFFIC_SECRET {} {}\n\
             CLIENT_HANDSHAKE_TRAFFIC_SECRET {} {}\n\
             SERVER_HANDSHAKE_TRAFFIC_SECRET {} {}\n\
             CLIENT_TRAFFIC_SECRET_0 {} {}\n\
             SERVER_TRAFFIC_SECRET_0 {} {}\n\
             QUIC_CLIENT_TRAFFIC_SECRET_0 {} {}\n\
             EXPORTER_SECRET {} {}\n\
             EARLY_EXPORTER_SECRET {} {}\n\
             EXPORTER_SECRET {} {}\n",
            r(1),
            "AB".repeat(48),
            "cd".repeat(48),
            r(2),
            "01".repeat(32),
            r(2),
            "02".repeat(48),
            r(2),
            "03".repeat(48),
            r(2),
            "04".repeat(32),
            r(2),
            "05".repeat(32),
            r(3),
            "06".repeat(32),
            r(2),
            "07".repeat(32),
            r(2),
            "08".repeat(32),
            r(3),
            "09".repeat(32),
        );
        let mut k = KeyLog::new();
        assert_eq!(k.add_text(&text), vec![]);
        assert_eq!(k.sessions(), 4); // three randoms and one RSA entry
        assert_eq!(k.master_secret(&[1; 32]), Some(&[0xab; 48]));
        assert_eq!(
            k.rsa_premaster(&[1, 2, 3, 4, 5, 6, 7, 8, 99]),
            Some(&[0xcd; 48])
        );
        assert_eq!(k.rsa_premaster(&[1, 2, 3]), None);
        let t = k.tls13_secrets(&[2; 32]).unwrap();
        assert_eq!(t.client_early.as_deref(), Some(&[1; 32][..]));
        assert_eq!(t.client_handshake.as_deref(), Some(&[2; 48][..]));
        assert_eq!(t.server_handshake.as_deref(), Some(&[3; 48][..]));
        assert_eq!(t.client_traffic_0.as_deref(), Some(&[4; 32][..]));
        assert_eq!(t.server_traffic_0.as_deref(), Some(&[5; 32][..]));
        // QUIC_ labels land under the plain label.
        assert_eq!(
            k.tls13_secrets(&[3; 32])
                .unwrap()
                .client_traffic_0
                .as_deref(),
            Some(&[6; 32][..])
        );
        assert_eq!(k.tls13_secrets(&[1; 32]), None);
        assert!(k.has_random(&[1; 32]) && !k.has_random(&[9; 32]));
        let ignored: Vec<_> = k.ignored().iter().map(|(l, n)| (l.as_str(), *n)).collect();
        assert_eq!(
            ignored,
            [("EARLY_EXPORTER_SECRET", 1), ("EXPORTER_SECRET", 2)]
        );
    }

    #[test]
    fn malformed_lines_are_reported_with_their_numbers() {
        let text = format!(
            "CLIENT_RANDOM {r} {ms}\n\
             CLIENT_RANDOM {r}\n\
             CLIENT_RANDOM {r} {ms} extra\n\
             CLIENT_RANDOM zz{r} {ms}\n\
             CLIENT_RANDOM {r} {short}\n\
             CLIENT_RANDOM {short} {ms}\n\
             RSA 0102 {ms}\n\
             RSA 0102030405060708 {short}\n\
             CLIENT_TRAFFIC_SECRET_0 {r} {odd}\n\
             lower_case {r} {ms}\n\
             SERVER_TRAFFIC_SECRET_0 {r} 0g\n\
             # fine\n",
            r = r(1),
            ms = "11".repeat(48),
            short = "22".repeat(20),
            odd = "33".repeat(40),
        );
        let mut k = KeyLog::new();
        let w = k.add_text(&text);
        let lines: Vec<usize> = w.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], "{w:?}");
        assert!(w[2].1.contains("bad hex"), "{w:?}");
        assert!(w[3].1.contains("expected 48"), "{w:?}");
        assert!(w[4].1.contains("expected 32"), "{w:?}");
        assert!(w[7].1.contains("SHA-384"), "{w:?}");
        assert!(w[8].1.contains("unknown label"), "{w:?}");
        assert_eq!(k.sessions(), 1);
    }

    #[test]
    fn decryption_secrets_block_payload() {
        let mut data = format!("CLIENT_RANDOM {} {}\n", r(4), "55".repeat(48)).into_bytes();
        data.extend_from_slice(&[0, 0, 0]); // pcapng pads blocks to 32 bits
        let mut k = KeyLog::new();
        assert_eq!(k.add_dsb(&data), vec![]);
        assert_eq!(k.master_secret(&[4; 32]), Some(&[0x55; 48]));
        // Invalid UTF-8 makes a malformed line, not a panic.
        assert_eq!(k.add_dsb(b"CLIENT_RANDOM \xff\xfe 00\n").len(), 1);
        assert_eq!(k.add_dsb(&[]), vec![]);
        assert_eq!(k.add_dsb(&[0; 8]), vec![]);
    }

    #[test]
    fn garbage_never_panics() {
        let mut k = KeyLog::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200 {
            let line: Vec<u8> = (0..120)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let alphabet = b"CLIENT_RANDOM 0123456789abcdefRSAQUIC_ \n\tzZ#";
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = k.add_dsb(&line);
        }
        assert!(k.ignored().len() <= MAX_IGNORED_LABELS);
    }
}
