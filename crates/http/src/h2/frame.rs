//! HTTP/2 frames (RFC 9113 §4 and §6): the 9-octet frame header, the frame types and flags, and
//! the payload layouts that need unwrapping (padding, priority, SETTINGS). No state lives here.

/// Length of the frame header (RFC 9113 §4.1).
pub const FRAME_HEADER_LEN: usize = 9;

/// Largest frame payload the 24-bit length field can express (16 MiB − 1, RFC 9113 §4.2).
pub const MAX_FRAME_LEN: usize = (1 << 24) - 1;

/// `SETTINGS_MAX_FRAME_SIZE` until a peer says otherwise (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16_384;

/// Frame type codes (RFC 9113 §6). Other values are extension frames, which are skipped.
pub(crate) mod kind {
    pub(crate) const DATA: u8 = 0x0;
    pub(crate) const HEADERS: u8 = 0x1;
    pub(crate) const PRIORITY: u8 = 0x2;
    pub(crate) const RST_STREAM: u8 = 0x3;
    pub(crate) const SETTINGS: u8 = 0x4;
    pub(crate) const PUSH_PROMISE: u8 = 0x5;
    pub(crate) const PING: u8 = 0x6;
    pub(crate) const GOAWAY: u8 = 0x7;
    pub(crate) const WINDOW_UPDATE: u8 = 0x8;
    pub(crate) const CONTINUATION: u8 = 0x9;
}

/// Frame flags (RFC 9113 §6).
pub(crate) mod flag {
    /// DATA, HEADERS: the last frame the sender sends on the stream.
    pub(crate) const END_STREAM: u8 = 0x1;
    /// SETTINGS, PING: an acknowledgement.
    pub(crate) const ACK: u8 = 0x1;
    /// HEADERS, PUSH_PROMISE, CONTINUATION: the field block is complete.
    pub(crate) const END_HEADERS: u8 = 0x4;
    /// DATA, HEADERS, PUSH_PROMISE: a pad length octet and padding surround the content.
    pub(crate) const PADDED: u8 = 0x8;
    /// HEADERS: a 5-octet priority block precedes the field block fragment.
    pub(crate) const PRIORITY: u8 = 0x20;
}

/// SETTINGS identifiers this parser uses (RFC 9113 §6.5.2).
pub(crate) mod setting {
    pub(crate) const HEADER_TABLE_SIZE: u16 = 0x1;
    pub(crate) const MAX_FRAME_SIZE: u16 = 0x5;
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// Payload length.
    pub(crate) len: usize,
    /// Frame type.
    pub(crate) kind: u8,
    /// Flags.
    pub(crate) flags: u8,
    /// Stream identifier (the reserved bit cleared).
    pub(crate) stream: u32,
    /// The reserved bit was set (it must be ignored, but a set bit makes a resynchronisation
    /// candidate unlikely).
    pub(crate) reserved: bool,
}

impl FrameHeader {
    /// Reads a frame header from the first [`FRAME_HEADER_LEN`] octets of `bytes`.
    pub(crate) fn parse(bytes: &[u8]) -> Option<Self> {
        let &[l0, l1, l2, kind, flags, s0, s1, s2, s3] = bytes.get(..FRAME_HEADER_LEN)? else {
            return None;
        };
        let len = u32::from_be_bytes([0, l0, l1, l2]);
        let raw_stream = u32::from_be_bytes([s0, s1, s2, s3]);
        Some(Self {
            len: usize::try_from(len).ok()?,
            kind,
            flags,
            stream: raw_stream & 0x7fff_ffff,
            reserved: raw_stream & 0x8000_0000 != 0,
        })
    }

    /// Whether `flag` is set.
    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The frame type's name, for reasons.
    pub(crate) fn kind_name(&self) -> String {
        match self.kind {
            kind::DATA => "DATA".into(),
            kind::HEADERS => "HEADERS".into(),
            kind::PRIORITY => "PRIORITY".into(),
            kind::RST_STREAM => "RST_STREAM".into(),
            kind::SETTINGS => "SETTINGS".into(),
            kind::PUSH_PROMISE => "PUSH_PROMISE".into(),
            kind::PING => "PING".into(),
            kind::GOAWAY => "GOAWAY".into(),
            kind::WINDOW_UPDATE => "WINDOW_UPDATE".into(),
            kind::CONTINUATION => "CONTINUATION".into(),
            other => format!("type {other:#04x}"),
        }
    }

    /// Could these nine octets be a real frame header? Used only to find frame boundaries again
    /// after lost bytes (or when a capture starts mid-connection), where a false match costs a
    /// misparse: a known type, only that type's flags, the stream identifier (0 or not) and the
    /// exact length its type requires, no more than `max_len`, a stream identifier no higher
    /// than `max_stream` (when known), and, `from_client`, the odd stream identifiers of
    /// client-initiated streams on the frames only those carry (no PUSH_PROMISE).
    pub(crate) fn is_plausible(
        &self,
        from_client: bool,
        max_len: usize,
        max_stream: Option<u32>,
    ) -> bool {
        if self.reserved || self.len > max_len {
            return false;
        }
        if let Some(max) = max_stream {
            if self.stream > max {
                return false;
            }
        }
        let on_stream = self.stream != 0;
        if from_client
            && (self.kind == kind::PUSH_PROMISE
                || (matches!(self.kind, kind::DATA | kind::HEADERS | kind::CONTINUATION)
                    && self.stream.is_multiple_of(2)))
        {
            return false;
        }
        let (allowed_flags, shape_ok) = match self.kind {
            kind::DATA => (
                flag::END_STREAM | flag::PADDED,
                on_stream && (!self.has(flag::PADDED) || self.len >= 1),
            ),
            kind::HEADERS => (
                flag::END_STREAM | flag::END_HEADERS | flag::PADDED | flag::PRIORITY,
                on_stream && self.len >= 1,
            ),
            kind::PRIORITY => (0, on_stream && self.len == 5),
            kind::RST_STREAM => (0, on_stream && self.len == 4),
            kind::SETTINGS => (
                flag::ACK,
                !on_stream
                    && if self.has(flag::ACK) {
                        self.len == 0
                    } else {
                        self.len.is_multiple_of(6)
                    },
            ),
            kind::PUSH_PROMISE => (flag::END_HEADERS | flag::PADDED, on_stream && self.len >= 4),
            kind::PING => (flag::ACK, !on_stream && self.len == 8),
            kind::GOAWAY => (0, !on_stream && self.len >= 8),
            kind::WINDOW_UPDATE => (0, self.len == 4),
            kind::CONTINUATION => (flag::END_HEADERS, on_stream && self.len >= 1),
            _ => return false,
        };
        shape_ok && self.flags & !allowed_flags == 0
    }
}

/// Why a frame payload could not be unwrapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PayloadError(pub(crate) String);

/// The field block fragment of a HEADERS payload, without padding and priority (RFC 9113 §6.2).
pub(crate) fn headers_fragment<'a>(
    hdr: &FrameHeader,
    payload: &'a [u8],
) -> Result<&'a [u8], PayloadError> {
    let unpadded = strip_padding(hdr, payload)?;
    if !hdr.has(flag::PRIORITY) {
        return Ok(unpadded);
    }
    unpadded
        .get(5..)
        .ok_or_else(|| PayloadError("HEADERS with PRIORITY flag shorter than 5 octets".into()))
}

/// The promised stream and field block fragment of a PUSH_PROMISE payload (RFC 9113 §6.6).
pub(crate) fn push_promise_fragment<'a>(
    hdr: &FrameHeader,
    payload: &'a [u8],
) -> Result<(u32, &'a [u8]), PayloadError> {
    let unpadded = strip_padding(hdr, payload)?;
    match unpadded {
        [a, b, c, d, rest @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]) & 0x7fff_ffff, rest)),
        _ => Err(PayloadError(
            "PUSH_PROMISE shorter than its promised stream identifier".into(),
        )),
    }
}

/// The content of a padded payload (RFC 9113 §6.1): without its pad length octet and padding.
pub(crate) fn strip_padding<'a>(
    hdr: &FrameHeader,
    payload: &'a [u8],
) -> Result<&'a [u8], PayloadError> {
    if !hdr.has(flag::PADDED) {
        return Ok(payload);
    }
    let Some((&pad, rest)) = payload.split_first() else {
        return Err(PayloadError(format!(
            "{} with PADDED flag but no pad length",
            hdr.kind_name()
        )));
    };
    rest.len()
        .checked_sub(usize::from(pad))
        .and_then(|keep| rest.get(..keep))
        .ok_or_else(|| {
            PayloadError(format!(
                "{} padding ({pad} octets) longer than its payload",
                hdr.kind_name()
            ))
        })
}

/// The (identifier, value) pairs of a SETTINGS payload (RFC 9113 §6.5.1).
pub(crate) fn settings(payload: &[u8]) -> impl Iterator<Item = (u16, u32)> + '_ {
    payload.chunks_exact(6).map(|c| match c {
        &[a, b, v0, v1, v2, v3] => (
            u16::from_be_bytes([a, b]),
            u32::from_be_bytes([v0, v1, v2, v3]),
        ),
        _ => (0, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields() {
        let h = FrameHeader::parse(&[0, 0x40, 0x01, 1, 0x25, 0x80, 0, 0, 3, 0xff]).unwrap();
        assert_eq!(h.len, 0x4001);
        assert_eq!(h.kind, kind::HEADERS);
        assert!(h.has(flag::END_STREAM) && h.has(flag::END_HEADERS) && h.has(flag::PRIORITY));
        assert!(!h.has(flag::PADDED));
        assert_eq!(h.stream, 3);
        assert!(h.reserved);
        assert!(FrameHeader::parse(&[0; 8]).is_none());
        let max = FrameHeader::parse(&[0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1]).unwrap();
        assert_eq!(max.len, MAX_FRAME_LEN);
    }

    #[test]
    fn plausibility() {
        let parse = |b: [u8; 9]| FrameHeader::parse(&b).unwrap();
        let settings = parse([0, 0, 12, 4, 0, 0, 0, 0, 0]);
        assert!(settings.is_plausible(true, DEFAULT_MAX_FRAME_SIZE, None));
        // SETTINGS on a stream, SETTINGS of 7 octets, an ACK with a payload.
        assert!(!parse([0, 0, 12, 4, 0, 0, 0, 0, 1]).is_plausible(false, 16_384, None));
        assert!(!parse([0, 0, 7, 4, 0, 0, 0, 0, 0]).is_plausible(false, 16_384, None));
        assert!(!parse([0, 0, 6, 4, 1, 0, 0, 0, 0]).is_plausible(false, 16_384, None));
        // DATA on stream 0, DATA with an undefined flag, an all-zero header, too long a frame.
        assert!(!parse([0, 0, 1, 0, 0, 0, 0, 0, 0]).is_plausible(false, 16_384, None));
        assert!(!parse([0, 0, 1, 0, 2, 0, 0, 0, 1]).is_plausible(false, 16_384, None));
        assert!(!parse([0; 9]).is_plausible(false, 16_384, None));
        assert!(!parse([0, 0x40, 1, 0, 1, 0, 0, 0, 1]).is_plausible(false, 16_384, None));
        let data = parse([0, 0x40, 0, 0, 1, 0, 0, 0, 9]);
        assert!(data.is_plausible(false, 16_384, None));
        assert!(!data.is_plausible(false, 16_384, Some(7)));
        // Client DATA on a server-initiated (even) stream, a client PUSH_PROMISE.
        assert!(data.is_plausible(true, 16_384, None));
        let pushed = parse([0, 0x40, 0, 0, 1, 0, 0, 0, 8]);
        assert!(pushed.is_plausible(false, 16_384, None));
        assert!(!pushed.is_plausible(true, 16_384, None));
        let pp = parse([0, 0, 4, 5, 4, 0, 0, 0, 1]);
        assert!(pp.is_plausible(false, 16_384, None) && !pp.is_plausible(true, 16_384, None));
        // Unknown frame types are never resynchronisation points.
        assert!(!parse([0, 0, 0, 0x10, 0, 0, 0, 0, 0]).is_plausible(false, 16_384, None));
    }

    #[test]
    fn padding_and_priority() {
        let hdr = |flags| FrameHeader {
            len: 0,
            kind: kind::HEADERS,
            flags,
            stream: 1,
            reserved: false,
        };
        assert_eq!(
            headers_fragment(&hdr(flag::PADDED), &[2, b'a', b'b', 0, 0]),
            Ok(&b"ab"[..])
        );
        assert_eq!(
            headers_fragment(
                &hdr(flag::PADDED | flag::PRIORITY),
                &[1, 0, 0, 0, 3, 15, b'x', 0]
            ),
            Ok(&b"x"[..])
        );
        assert!(headers_fragment(&hdr(flag::PADDED), &[9, 1, 2]).is_err());
        assert!(headers_fragment(&hdr(flag::PADDED), &[]).is_err());
        assert!(headers_fragment(&hdr(flag::PRIORITY), &[0, 0, 0]).is_err());
        let pp = FrameHeader {
            kind: kind::PUSH_PROMISE,
            ..hdr(0)
        };
        assert_eq!(
            push_promise_fragment(&pp, &[0x80, 0, 0, 2, 0x82]),
            Ok((2, &[0x82u8][..]))
        );
        assert!(push_promise_fragment(&pp, &[0, 0, 2]).is_err());
        let pairs: Vec<_> = settings(&[0, 1, 0, 0, 0x10, 0, 0, 5, 0, 0, 0x40, 0, 9]).collect();
        assert_eq!(pairs, [(1, 4096), (5, 16_384)]);
    }
}
