//! The frames an Initial packet may carry (RFC 9000 §12.4, §19): PADDING, PING, ACK, CRYPTO and
//! CONNECTION_CLOSE. Only CRYPTO matters here; the others are skipped.

use crate::packet::read_varint;

/// Frame type codes allowed in Initial packets.
mod kind {
    pub(super) const PADDING: u64 = 0x00;
    pub(super) const PING: u64 = 0x01;
    pub(super) const ACK: u64 = 0x02;
    pub(super) const ACK_ECN: u64 = 0x03;
    pub(super) const CRYPTO: u64 = 0x06;
    pub(super) const CONNECTION_CLOSE: u64 = 0x1c;
    pub(super) const CONNECTION_CLOSE_APP: u64 = 0x1d;
}

/// One CRYPTO frame: where its data goes in the handshake stream, and the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CryptoFrame<'a> {
    /// Offset in the Initial-level CRYPTO stream.
    pub(crate) offset: u64,
    /// The bytes.
    pub(crate) data: &'a [u8],
}

/// The CRYPTO frames of a decrypted Initial payload, in packet order.
///
/// Reading stops at the first frame that is not allowed in an Initial packet or does not fit
/// (a damaged or hostile payload): the CRYPTO frames before it are still returned. Every frame
/// takes at least one byte, so the loop is bounded by the payload length.
pub(crate) fn crypto_frames(payload: &[u8]) -> Vec<CryptoFrame<'_>> {
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < payload.len() {
        if read_frame(payload, &mut pos, &mut frames).is_none() {
            break;
        }
    }
    frames
}

/// Reads one frame at `payload[*pos..]`, advancing `*pos`; `None` to stop.
fn read_frame<'a>(
    payload: &'a [u8],
    pos: &mut usize,
    frames: &mut Vec<CryptoFrame<'a>>,
) -> Option<()> {
    match read_varint(payload, pos)? {
        kind::PADDING => {
            // Skip the whole run of padding at once.
            let run = payload.get(*pos..)?.iter().take_while(|&&b| b == 0).count();
            *pos += run;
        }
        kind::PING => {}
        t @ (kind::ACK | kind::ACK_ECN) => {
            let _largest = read_varint(payload, pos)?;
            let _delay = read_varint(payload, pos)?;
            let ranges = read_varint(payload, pos)?;
            let _first_range = read_varint(payload, pos)?;
            // Each range takes at least two bytes: a count beyond the payload is a lie.
            if ranges > (payload.len() as u64) {
                return None;
            }
            for _ in 0..ranges {
                read_varint(payload, pos)?;
                read_varint(payload, pos)?;
            }
            if t == kind::ACK_ECN {
                for _ in 0..3 {
                    read_varint(payload, pos)?;
                }
            }
        }
        kind::CRYPTO => {
            let offset = read_varint(payload, pos)?;
            let len = usize::try_from(read_varint(payload, pos)?).ok()?;
            let data = payload.get(*pos..pos.checked_add(len)?)?;
            *pos += len;
            frames.push(CryptoFrame { offset, data });
        }
        t @ (kind::CONNECTION_CLOSE | kind::CONNECTION_CLOSE_APP) => {
            let _code = read_varint(payload, pos)?;
            if t == kind::CONNECTION_CLOSE {
                let _frame_type = read_varint(payload, pos)?;
            }
            let reason = usize::try_from(read_varint(payload, pos)?).ok()?;
            payload.get(*pos..pos.checked_add(reason)?)?;
            *pos += reason;
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crypto_between_padding_ping_and_ack() {
        let mut p = vec![0, 0, 0x01]; // PADDING, PADDING, PING
        p.extend_from_slice(&[0x02, 0x05, 0x00, 0x01, 0x00, 0x01, 0x02]); // ACK with one range
        p.extend_from_slice(&[0x06, 0x40, 0x10, 0x03, b'a', b'b', b'c']); // CRYPTO off 16
        p.extend_from_slice(&[0x03, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03]); // ACK_ECN
        p.extend_from_slice(&[0x06, 0x00, 0x02, b'x', b'y']); // CRYPTO off 0
        p.extend_from_slice(&[0; 20]);
        assert_eq!(
            crypto_frames(&p),
            [
                CryptoFrame {
                    offset: 16,
                    data: b"abc"
                },
                CryptoFrame {
                    offset: 0,
                    data: b"xy"
                }
            ]
        );
    }

    #[test]
    fn stops_at_unknown_or_broken_frames() {
        // A STREAM frame (0x08) is not allowed in Initial: the CRYPTO before it is kept.
        let p = [0x06, 0x00, 0x01, b'a', 0x08, 0x06, 0x00, 0x01, b'b'];
        assert_eq!(
            crypto_frames(&p),
            [CryptoFrame {
                offset: 0,
                data: b"a"
            }]
        );
        // CRYPTO length past the payload.
        assert!(crypto_frames(&[0x06, 0x00, 0x05, b'a']).is_empty());
        // CRYPTO length as an absurd 8-byte varint.
        assert!(
            crypto_frames(&[0x06, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_empty()
        );
        // ACK with an absurd range count.
        let p = [0x02, 0, 0, 0xbf, 0xff, 0xff, 0xff, 0, 0x06, 0, 1, b'a'];
        assert!(crypto_frames(&p).is_empty());
        // CONNECTION_CLOSE with a reason, then CRYPTO.
        let p = [0x1c, 0x01, 0x06, 0x02, b'n', b'o', 0x06, 0x00, 0x01, b'z'];
        assert_eq!(
            crypto_frames(&p),
            [CryptoFrame {
                offset: 0,
                data: b"z"
            }]
        );
        // Truncated frame type varint.
        assert!(crypto_frames(&[0x40]).is_empty());
    }
}
