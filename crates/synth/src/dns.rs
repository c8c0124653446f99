//! DNS messages (RFC 1035) for the noise around the interesting traffic: A/AAAA queries and their
//! answers, with the answer names compressed to the question.

use std::net::IpAddr;

/// Record type A.
pub const TYPE_A: u16 = 1;
/// Record type AAAA.
pub const TYPE_AAAA: u16 = 28;
/// Longest label allowed by RFC 1035.
pub const MAX_LABEL_LEN: usize = 63;

/// Appends `name` as a sequence of labels; over-long labels are cut to [`MAX_LABEL_LEN`].
fn push_name(out: &mut Vec<u8>, name: &str) {
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let l = label.as_bytes();
        let l = l.get(..MAX_LABEL_LEN).unwrap_or(l);
        out.push(l.len() as u8);
        out.extend_from_slice(l);
    }
    out.push(0);
}

fn header(id: u16, flags: u16, answers: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&answers.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

/// A recursive query for `name` of type `qtype`.
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = header(id, 0x0100, 0);
    push_name(&mut out, name);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out
}

/// The answer to [`query`]: one record per address of the matching family (TTL 300), each
/// naming the question by a compression pointer.
pub fn response(id: u16, name: &str, qtype: u16, addrs: &[IpAddr]) -> Vec<u8> {
    let records: Vec<Vec<u8>> = addrs
        .iter()
        .filter_map(|a| match (a, qtype) {
            (IpAddr::V4(v4), TYPE_A) => Some(v4.octets().to_vec()),
            (IpAddr::V6(v6), TYPE_AAAA) => Some(v6.octets().to_vec()),
            _ => None,
        })
        .collect();
    let count = u16::try_from(records.len()).unwrap_or(u16::MAX);
    let mut out = header(id, 0x8180, count);
    push_name(&mut out, name);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    for rdata in records.iter().take(usize::from(count)) {
        out.extend_from_slice(&[0xc0, 0x0c]);
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&300u32.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(rdata);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_names_and_answers() {
        let q = query(0xbeef, "sdk.hiido.com", TYPE_A);
        assert_eq!(&q[..4], &[0xbe, 0xef, 0x01, 0x00]);
        assert_eq!(&q[12..27], b"\x03sdk\x05hiido\x03com\x00");
        let r = response(
            0xbeef,
            "sdk.hiido.com.",
            TYPE_A,
            &[
                "203.0.113.10".parse().unwrap(),
                "2001:db8::1".parse().unwrap(),
            ],
        );
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 1, "only the A record");
        assert_eq!(&r[r.len() - 4..], &[203, 0, 113, 10]);
        let long = "a".repeat(100);
        let q = query(1, &long, TYPE_A);
        assert_eq!(q[12], 63);
    }
}
