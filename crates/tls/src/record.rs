//! The record layer's framing (RFC 5246 §6.2, RFC 8446 §5.1): content types, headers, size caps.

/// `change_cipher_spec` (20).
pub const CHANGE_CIPHER_SPEC: u8 = 20;
/// `alert` (21).
pub const ALERT: u8 = 21;
/// `handshake` (22).
pub const HANDSHAKE: u8 = 22;
/// `application_data` (23).
pub const APPLICATION_DATA: u8 = 23;
/// `heartbeat` (24, RFC 6520).
pub const HEARTBEAT: u8 = 24;

/// Record header length.
pub const HEADER_LEN: usize = 5;

/// Largest record body accepted: `2^14 + 2048`, the TLS 1.2 ciphertext limit (RFC 5246 §6.2.3).
/// TLS 1.3 allows at most `2^14 + 256` (RFC 8446 §5.2) and a negotiated record_size_limit (RFC
/// 8449 §4) only lowers it, so this cap holds for every version. A longer length means the stream
/// is not (or no longer) TLS.
pub const MAX_CIPHERTEXT_LEN: usize = (1 << 14) + 2048;

/// Largest record body a resynchronisation accepts as plausible: `2^14 + 256` (RFC 8446 §5.2).
/// TLS 1.2 AEAD records fit; CBC records with large padding might not and are then skipped.
pub const MAX_RESYNC_RECORD_LEN: usize = (1 << 14) + 256;

/// A parsed record header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Content type (outer type for TLS 1.3).
    pub content_type: u8,
    /// `legacy_record_version`.
    pub version: u16,
    /// Body length.
    pub len: usize,
    /// The five header bytes, the additional data of TLS 1.3 records.
    pub raw: [u8; HEADER_LEN],
}

impl RecordHeader {
    /// Reads a header from the first five bytes, if there are five.
    pub fn parse(data: &[u8]) -> Option<Self> {
        let raw = <[u8; HEADER_LEN]>::try_from(data.get(..HEADER_LEN)?).ok()?;
        Some(Self {
            content_type: raw[0],
            version: u16::from_be_bytes([raw[1], raw[2]]),
            len: usize::from(u16::from_be_bytes([raw[3], raw[4]])),
            raw,
        })
    }

    /// A known content type and a 3.x version (SSL 3.0 to TLS 1.3 all say 3.x).
    pub fn is_plausible(&self) -> bool {
        (CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&self.content_type) && self.version >> 8 == 3
    }
}

/// Looks like the start of a TLS stream (record type 0x16, version 3.x)? Some(true/false) or None (need more bytes).
///
/// Also checks the handshake type when it is there: a client's stream starts with a ClientHello
/// (1), a server's with a ServerHello (2).
///
/// ```
/// use phonehome_tls::detect_tls;
/// assert_eq!(detect_tls(b"\x16\x03\x01\x02\x00\x01"), Some(true));
/// assert_eq!(detect_tls(b"GET / HTTP/1.1\r\n"), Some(false));
/// assert_eq!(detect_tls(b"\x16\x03"), None);
/// ```
pub fn detect_tls(prefix: &[u8]) -> Option<bool> {
    for (i, &b) in prefix.iter().take(HEADER_LEN + 1).enumerate() {
        let ok = match i {
            0 => b == HANDSHAKE,
            1 => b == 3,
            2 => b <= 4,
            3 => b <= 0x40, // a plaintext record holds at most 2^14 bytes
            4 => !(prefix.get(3) == Some(&0) && b == 0), // an empty handshake record is not TLS
            _ => b == 1 || b == 2, // ClientHello or ServerHello
        };
        if !ok {
            return Some(false);
        }
    }
    (prefix.len() > HEADER_LEN).then_some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        // Real starts: a ClientHello record (TLS 1.0 record version) and a ServerHello.
        assert_eq!(
            detect_tls(&[0x16, 3, 1, 0x02, 0x00, 0x01, 0, 1, 0xfc]),
            Some(true)
        );
        assert_eq!(detect_tls(&[0x16, 3, 3, 0x00, 0x5a, 0x02]), Some(true));
        for (prefix, want) in [
            (&b""[..], None),
            (&[0x16][..], None),
            (&[0x16, 3, 3, 0, 0x5a][..], None),
            (&[0x17, 3, 3][..], Some(false)), // application data first
            (&[0x16, 2, 0][..], Some(false)), // SSL 2-ish
            (&[0x16, 3, 9][..], Some(false)), // unknown minor
            (&[0x16, 3, 1, 0x50, 0][..], Some(false)), // longer than 2^14
            (&[0x16, 3, 1, 0, 0][..], Some(false)), // empty
            (&[0x16, 3, 1, 0, 9, 11][..], Some(false)), // a Certificate first
            (b"PRI * HTTP/2.0", Some(false)),
        ] {
            assert_eq!(detect_tls(prefix), want, "{prefix:?}");
        }
    }

    #[test]
    fn header() {
        let h = RecordHeader::parse(&[23, 3, 3, 0x40, 0x11, 0xff]).unwrap();
        assert_eq!((h.content_type, h.version, h.len), (23, 0x0303, 0x4011));
        assert!(h.is_plausible());
        assert!(RecordHeader::parse(&[23, 3, 3, 0]).is_none());
        assert!(!RecordHeader::parse(&[25, 3, 3, 0, 0])
            .unwrap()
            .is_plausible());
        assert!(!RecordHeader::parse(&[23, 4, 3, 0, 0])
            .unwrap()
            .is_plausible());
    }
}
