//! QUIC long-header packets (RFC 9000 §17.2, RFC 8999 invariants) and the removal of Initial
//! packet protection (RFC 9001 §5.3–5.4).

use crate::keys::InitialKeys;
use crate::version::{self, PacketType};
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::Aes128Gcm;

/// Longest connection ID in versions 1 and 2 (RFC 9000 §17.2). The invariants allow 255, so
/// Version Negotiation packets are checked against [`MAX_CID_LEN_INVARIANT`] instead.
pub const MAX_CID_LEN: usize = 20;

/// Longest connection ID any version may use (RFC 8999 §5.1).
pub const MAX_CID_LEN_INVARIANT: usize = 255;

/// AEAD tag length of AES-128-GCM.
const TAG_LEN: usize = 16;

/// Header protection sample length (RFC 9001 §5.4.2).
const SAMPLE_LEN: usize = 16;

/// Why a packet could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PacketError {
    /// Ends before a header field or before its Length says.
    Truncated,
    /// Short header (first bit 0): nothing to read without 1-RTT keys.
    ShortHeader,
    /// A version whose header layout or keys we do not know.
    UnknownVersion,
    /// Fixed bit clear, or a connection ID longer than the version allows.
    Malformed,
    /// Header protection or AEAD failed: wrong keys (another connection) or a damaged packet.
    Decrypt,
}

/// A variable-length integer (RFC 9000 §16) at `data[*pos..]`, advancing `*pos`.
pub(crate) fn read_varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *data.get(*pos)?;
    let len = 1usize << (first >> 6);
    let bytes = data.get(*pos..pos.checked_add(len)?)?;
    let mut value = u64::from(first & 0x3f);
    for &b in bytes.get(1..)? {
        value = value << 8 | u64::from(b);
    }
    *pos += len;
    Some(value)
}

/// One long-header packet, located in its datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LongHeader<'a> {
    /// First byte, still protected.
    pub(crate) first: u8,
    /// Version field.
    pub(crate) version: u32,
    /// Destination Connection ID.
    pub(crate) dcid: &'a [u8],
    /// Source Connection ID.
    pub(crate) scid: &'a [u8],
    /// Packet type (meaningless for Version Negotiation).
    pub(crate) kind: PacketType,
    /// Offset of the (protected) packet number.
    pub(crate) pn_offset: usize,
    /// Length of the whole packet (header included) in the datagram.
    pub(crate) len: usize,
}

/// Reads the long header at the start of `data`.
///
/// With `need_whole` false, a packet whose Length runs past `data` (a datagram cut by the snap
/// length) is still accepted, with `len` clipped to `data.len()`; [`looks_like_quic`] wants that,
/// decryption does not.
///
/// [`looks_like_quic`]: crate::looks_like_quic
pub(crate) fn parse_long_header(
    data: &[u8],
    need_whole: bool,
) -> Result<LongHeader<'_>, PacketError> {
    let first = *data.first().ok_or(PacketError::Truncated)?;
    if first & 0x80 == 0 {
        return Err(PacketError::ShortHeader);
    }
    let version = match data.get(1..5) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => return Err(PacketError::Truncated),
    };
    let max_cid = if version == version::NEGOTIATION {
        MAX_CID_LEN_INVARIANT
    } else if version::is_known(version) {
        MAX_CID_LEN
    } else {
        return Err(PacketError::UnknownVersion);
    };
    let mut pos = 5;
    let dcid = read_cid(data, &mut pos, max_cid)?;
    let scid = read_cid(data, &mut pos, max_cid)?;
    if version == version::NEGOTIATION {
        // The rest is a list of 32-bit versions (RFC 9000 §17.2.1).
        let versions = data.get(pos..).unwrap_or_default();
        if versions.is_empty() || !versions.chunks_exact(4).remainder().is_empty() {
            return Err(PacketError::Malformed);
        }
        return Ok(LongHeader {
            first,
            version,
            dcid,
            scid,
            kind: PacketType::Retry,
            pn_offset: data.len(),
            len: data.len(),
        });
    }
    if first & 0x40 == 0 {
        return Err(PacketError::Malformed);
    }
    // Drafts have version 1's layout; only the versions we decrypt differ in type numbering.
    let kind = match version::params(version) {
        Some(p) => p.packet_type(first >> 4),
        None => {
            version::params(version::V1).map_or(PacketType::Retry, |p| p.packet_type(first >> 4))
        }
    };
    if kind == PacketType::Retry {
        return Ok(LongHeader {
            first,
            version,
            dcid,
            scid,
            kind,
            pn_offset: data.len(),
            len: data.len(),
        });
    }
    if kind == PacketType::Initial {
        let token_len = read_varint(data, &mut pos).ok_or(PacketError::Truncated)?;
        let token_len = usize::try_from(token_len).map_err(|_| PacketError::Truncated)?;
        pos = pos.checked_add(token_len).ok_or(PacketError::Truncated)?;
        if pos > data.len() {
            return Err(PacketError::Truncated);
        }
    }
    let length = read_varint(data, &mut pos).ok_or(PacketError::Truncated)?;
    let end = usize::try_from(length)
        .ok()
        .and_then(|l| pos.checked_add(l))
        .ok_or(PacketError::Truncated)?;
    let len = if end <= data.len() {
        end
    } else if need_whole {
        return Err(PacketError::Truncated);
    } else {
        data.len()
    };
    Ok(LongHeader {
        first,
        version,
        dcid,
        scid,
        kind,
        pn_offset: pos,
        len,
    })
}

/// A length-prefixed connection ID at `data[*pos..]`, advancing `*pos`.
fn read_cid<'a>(data: &'a [u8], pos: &mut usize, max: usize) -> Result<&'a [u8], PacketError> {
    let len = usize::from(*data.get(*pos).ok_or(PacketError::Truncated)?);
    if len > max {
        return Err(PacketError::Malformed);
    }
    let start = *pos + 1;
    let cid = data.get(start..start + len).ok_or(PacketError::Truncated)?;
    *pos = start + len;
    Ok(cid)
}

/// Recovers a full packet number from its `pn_len`-byte truncation, given the largest packet
/// number received so far in the space (RFC 9000 Appendix A.3).
pub(crate) fn decode_packet_number(largest: Option<u64>, truncated: u64, pn_len: usize) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let bits = 8 * pn_len as u32;
    let window = 1u64 << bits;
    let half = window / 2;
    let candidate = (expected & !(window - 1)) | truncated;
    if candidate.saturating_add(half) <= expected && candidate < (1u64 << 62) - window {
        candidate + window
    } else if candidate > expected.saturating_add(half) && candidate >= window {
        candidate - window
    } else {
        candidate
    }
}

/// A decrypted Initial packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plaintext {
    /// The full packet number.
    pub(crate) packet_number: u64,
    /// The frames.
    pub(crate) payload: Vec<u8>,
}

/// Removes header protection from the packet `packet` (exactly `header.len` bytes) and decrypts
/// its payload with `keys`. `largest` is the largest packet number decrypted so far.
pub(crate) fn decrypt(
    packet: &[u8],
    header: &LongHeader<'_>,
    keys: &InitialKeys,
    largest: Option<u64>,
) -> Result<Plaintext, PacketError> {
    let pn_offset = header.pn_offset;
    // The sample is taken as if the packet number were 4 bytes long (RFC 9001 §5.4.2).
    let sample_start = pn_offset.checked_add(4).ok_or(PacketError::Truncated)?;
    let sample: [u8; SAMPLE_LEN] = packet
        .get(sample_start..sample_start + SAMPLE_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or(PacketError::Truncated)?;
    let mut mask = aes::Block::from(sample);
    Aes128::new(&keys.hp.into()).encrypt_block(&mut mask);

    let first = header.first ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 0x03) + 1;
    let pn_end = pn_offset + pn_len;
    let mut aad = packet.get(..pn_end).ok_or(PacketError::Truncated)?.to_vec();
    let mut truncated = 0u64;
    for (i, byte) in aad.iter_mut().enumerate() {
        if i == 0 {
            *byte = first;
        } else if i >= pn_offset {
            *byte ^= mask[i - pn_offset + 1];
            truncated = truncated << 8 | u64::from(*byte);
        }
    }
    let packet_number = decode_packet_number(largest, truncated, pn_len);

    let ciphertext = packet.get(pn_end..).ok_or(PacketError::Truncated)?;
    if ciphertext.len() < TAG_LEN {
        return Err(PacketError::Truncated);
    }
    let mut nonce = keys.iv;
    for (n, p) in nonce[4..].iter_mut().zip(packet_number.to_be_bytes()) {
        *n ^= p;
    }
    let cipher = Aes128Gcm::new(&keys.key.into());
    let payload = cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| PacketError::Decrypt)?;
    Ok(Plaintext {
        packet_number,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_rfc9000_a1() {
        for (hex, value) in [
            ("c2197c5eff14e88c", 151_288_809_941_952_652u64),
            ("9d7f3e7d", 494_878_333),
            ("7bbd", 15_293),
            ("25", 37),
            ("4025", 37),
        ] {
            let bytes = crate::keys::tests::unhex(hex);
            let mut pos = 0;
            assert_eq!(read_varint(&bytes, &mut pos), Some(value), "{hex}");
            assert_eq!(pos, bytes.len());
        }
        let mut pos = 0;
        assert_eq!(read_varint(&[0x9d, 0x7f], &mut pos), None);
        assert_eq!(pos, 0);
        assert_eq!(read_varint(&[], &mut pos), None);
    }

    #[test]
    fn packet_numbers_rfc9000_a3() {
        // The example of RFC 9000 A.3: largest 0xa82f30ea, 2-byte 0x9b32 -> 0xa82f9b32.
        assert_eq!(
            decode_packet_number(Some(0xa82f_30ea), 0x9b32, 2),
            0xa82f_9b32
        );
        assert_eq!(decode_packet_number(None, 2, 4), 2);
        assert_eq!(decode_packet_number(None, 0, 1), 0);
        // Wraps forward past a 1-byte window.
        assert_eq!(decode_packet_number(Some(254), 1, 1), 257);
        // Just below the largest stays below.
        assert_eq!(decode_packet_number(Some(300), 0x2a, 1), 298);
        // Extreme values neither panic nor overflow.
        let _ = decode_packet_number(Some(u64::MAX), 0xffff_ffff, 4);
        let _ = decode_packet_number(Some((1 << 62) - 1), 0, 1);
    }

    #[test]
    fn long_header_fields() {
        // RFC 9001 A.2's unprotected header: Initial, v1, DCID 8394c8f03e515708, no SCID,
        // no token, Length 0x049e (1182), packet number 2.
        let mut packet = crate::keys::tests::unhex("c300000001088394c8f03e5157080000449e00000002");
        packet.resize(18 + 1182, 0);
        let h = parse_long_header(&packet, true).unwrap();
        assert_eq!(h.version, version::V1);
        assert_eq!(h.dcid, crate::keys::tests::unhex("8394c8f03e515708"));
        assert!(h.scid.is_empty());
        assert_eq!(h.kind, PacketType::Initial);
        assert_eq!(h.pn_offset, 18);
        assert_eq!(h.len, 1200);
        // One byte short of the Length.
        assert_eq!(
            parse_long_header(&packet[..1199], true),
            Err(PacketError::Truncated)
        );
        assert_eq!(parse_long_header(&packet[..1199], false).unwrap().len, 1199);
    }

    #[test]
    fn malformed_headers() {
        let ok = crate::keys::tests::unhex("c300000001088394c8f03e5157080000449e00000002");
        for len in 0..17 {
            assert!(
                parse_long_header(&ok[..len], false).is_err(),
                "length {len}"
            );
        }
        // Short header.
        assert_eq!(
            parse_long_header(&[0x40, 1, 2], false),
            Err(PacketError::ShortHeader)
        );
        // Unknown version.
        let mut p = ok.clone();
        p[1..5].copy_from_slice(&[0x51, 0x30, 0x35, 0x30]);
        assert_eq!(
            parse_long_header(&p, false),
            Err(PacketError::UnknownVersion)
        );
        // Fixed bit clear.
        let mut p = ok.clone();
        p[0] = 0x83;
        assert_eq!(parse_long_header(&p, false), Err(PacketError::Malformed));
        // DCID length 21.
        let mut p = ok.clone();
        p[5] = 21;
        p.resize(60, 0);
        assert_eq!(parse_long_header(&p, false), Err(PacketError::Malformed));
        // Token length absurd.
        let mut p = ok[..15].to_vec();
        p.extend_from_slice(&[0xff; 8]);
        assert_eq!(parse_long_header(&p, false), Err(PacketError::Truncated));
        // Length absurd (8-byte varint), whole packet required.
        let mut p = ok[..16].to_vec();
        p.extend_from_slice(&[0xff; 8]);
        assert_eq!(parse_long_header(&p, true), Err(PacketError::Truncated));
    }

    #[test]
    fn version_negotiation() {
        let mut p = vec![0x80, 0, 0, 0, 0, 4, 1, 2, 3, 4, 0];
        p.extend_from_slice(&[0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf]);
        let h = parse_long_header(&p, true).unwrap();
        assert_eq!(h.version, 0);
        assert_eq!(h.len, p.len());
        p.push(0);
        assert_eq!(parse_long_header(&p, true), Err(PacketError::Malformed));
    }
}
