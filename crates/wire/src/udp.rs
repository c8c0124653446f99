//! UDP header (RFC 768).

use crate::{be_u16, check_len, Layer, WireError};

/// A UDP datagram: ports and payload (borrowed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload: the bytes the length field covers, as far as they were captured.
    pub payload: &'a [u8],
}

/// Reads a UDP header. The length field bounds the payload; a length of 0 (IPv6 jumbogram or
/// segmentation offload) means "all captured bytes"; a length beyond the capture keeps what there is.
pub(crate) fn parse_udp(data: &[u8]) -> Result<UdpDatagram<'_>, WireError> {
    check_len(Layer::Udp, data, 8)?;
    let length = be_u16(data, 4).unwrap_or_default();
    let end = match usize::from(length) {
        0 => data.len(),
        l if l < 8 => return Err(WireError::BadUdpLength { length }),
        l => l.min(data.len()),
    };
    Ok(UdpDatagram {
        src_port: be_u16(data, 0).unwrap_or_default(),
        dst_port: be_u16(data, 2).unwrap_or_default(),
        payload: data.get(8..end).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp(length: u16, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x14, 0xE9, 0x00, 0x35];
        p.extend_from_slice(&length.to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn length_bounds_the_payload() {
        let packet = udp(11, b"abcPADDING");
        let d = parse_udp(&packet).unwrap();
        assert_eq!((d.src_port, d.dst_port, d.payload), (5353, 53, &b"abc"[..]));
        // Longer than captured: what there is. Zero: everything.
        assert_eq!(parse_udp(&udp(5000, b"abc")).unwrap().payload, b"abc");
        assert_eq!(parse_udp(&udp(0, b"abcdef")).unwrap().payload, b"abcdef");
    }

    #[test]
    fn malformed() {
        assert_eq!(
            parse_udp(&udp(7, b"")),
            Err(WireError::BadUdpLength { length: 7 })
        );
        assert_eq!(
            parse_udp(&[0, 53, 0]),
            Err(WireError::Truncated {
                layer: Layer::Udp,
                needed: 8,
                available: 3
            })
        );
    }
}
