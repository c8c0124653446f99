//! DNS messages: parsing queries and responses from UDP payloads and TCP streams.
//!
//! Part of phonehome's protocol stage (`ingest → flow → protocol → message → …`). The `message`
//! stage hands it UDP payloads (port 53, or any port where [`looks_like_dns`] agrees: mDNS 5353,
//! LLMNR 5355) and TCP byte streams; what it gives back says which names the phone looked up and
//! which addresses they resolved to, which `attribute` uses to name the hosts a flow went to.
//!
//! - [`parse_message`] reads one message into a [`DnsMessage`]: header flags, [`Question`]s and
//!   [`Record`]s, with [`RData`] decoded for A, AAAA, CNAME, PTR, NS, TXT, SVCB and HTTPS
//!   ([`Svcb`]: ALPN and address hints); other types are kept raw.
//! - [`DnsTcpStream`] splits a TCP stream on its 2-byte length prefixes.
//! - [`looks_like_dns`] decides whether a datagram on an unusual port is DNS.
//! - [`type_name`] names a record type ("A", "HTTPS"…).
//!
//! **Hostile input.** Like smoltcp's `wire/dns.rs`, names follow compression pointers only
//! backwards (each pointer before the previous target), so they cannot loop; names are capped
//! at [`MAX_NAME_LEN`] bytes and [`MAX_POINTER_HOPS`] pointers, sections at [`MAX_RECORDS`]
//! entries, and every length is checked against the bytes present. Nothing panics; a malformed
//! message is a [`DnsError`] saying where.
//!
//! ```
//! use phonehome_dns::{parse_message, type_name, RData};
//! use std::net::Ipv4Addr;
//!
//! // A response: example.com A 93.184.216.34, the answer's name compressed to the question's.
//! let msg = [
//!     0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, // header: id, flags, counts
//!     7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1,
//!     0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34,
//! ];
//! let m = parse_message(&msg)?;
//! assert!(m.response);
//! assert_eq!(m.questions[0].name, "example.com");
//! assert_eq!(type_name(m.questions[0].qtype), Some("A"));
//! assert_eq!(m.answers[0].ttl, 3600);
//! assert_eq!(m.answers[0].data, RData::A(Ipv4Addr::new(93, 184, 216, 34)));
//! # Ok::<(), phonehome_dns::DnsError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod message;
mod name;
mod rdata;
mod tcp;

pub use error::{DnsError, Section};
pub use message::{parse_message, DnsMessage, Question, Record, HEADER_LEN, MAX_RECORDS};
pub use name::{MAX_NAME_LEN, MAX_POINTER_HOPS};
pub use rdata::{RData, Svcb};
pub use tcp::{DnsTcpStream, MAX_TCP_MESSAGE_LEN};

/// Record type numbers (IANA "Resource Record (RR) TYPEs") that this crate decodes or names.
pub mod rtype {
    /// IPv4 address.
    pub const A: u16 = 1;
    /// Name server.
    pub const NS: u16 = 2;
    /// Canonical name (alias).
    pub const CNAME: u16 = 5;
    /// Start of authority.
    pub const SOA: u16 = 6;
    /// Domain name pointer.
    pub const PTR: u16 = 12;
    /// Mail exchange.
    pub const MX: u16 = 15;
    /// Text strings.
    pub const TXT: u16 = 16;
    /// IPv6 address.
    pub const AAAA: u16 = 28;
    /// Service locator.
    pub const SRV: u16 = 33;
    /// EDNS(0) pseudo-record.
    pub const OPT: u16 = 41;
    /// Service binding (RFC 9460).
    pub const SVCB: u16 = 64;
    /// HTTPS service binding (RFC 9460).
    pub const HTTPS: u16 = 65;
    /// Any type (query only).
    pub const ANY: u16 = 255;
}

/// The mnemonic of a record type ("A", "AAAA", "CNAME", "HTTPS"…), or `None` for types this
/// crate does not know (print them as `TYPE<n>`, RFC 3597).
pub fn type_name(rtype: u16) -> Option<&'static str> {
    Some(match rtype {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        24 => "SIG",
        25 => "KEY",
        28 => "AAAA",
        29 => "LOC",
        33 => "SRV",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        39 => "DNAME",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        108 => "EUI48",
        109 => "EUI64",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        _ => return None,
    })
}

/// Most questions [`looks_like_dns`] accepts; real messages carry one (mDNS a handful).
pub const MAX_PLAUSIBLE_QUESTIONS: u16 = 16;

/// Highest OPCODE in use (5, UPDATE); [`looks_like_dns`] refuses the unassigned ones above.
pub const MAX_PLAUSIBLE_OPCODE: u8 = 5;

/// Whether a datagram looks like DNS, for deciding on ports other than 53 (mDNS 5353, LLMNR
/// 5355, or anything else).
///
/// The header must be sane: 1 to [`MAX_PLAUSIBLE_QUESTIONS`] questions (or none in a response
/// that has answers, as mDNS announcements do), OPCODE at most [`MAX_PLAUSIBLE_OPCODE`], and
/// counts that fit the length (each question takes at least 5 bytes, each record 11). Then the
/// whole message must parse. Cheap enough to run on every datagram of an unknown UDP flow.
pub fn looks_like_dns(data: &[u8]) -> bool {
    let Ok(header) = message::Header::parse(data) else {
        return false;
    };
    let [qd, an, ns, ar] = header.counts.map(usize::from);
    let questions_ok = match header.counts[0] {
        0 => header.response() && an > 0,
        n => n <= MAX_PLAUSIBLE_QUESTIONS,
    };
    let min_len = HEADER_LEN + qd * 5 + (an + ns + ar) * 11;
    questions_ok
        && header.opcode() <= MAX_PLAUSIBLE_OPCODE
        && min_len <= data.len()
        && parse_message(data).is_ok()
}

/// Big-endian `u16` at `at`, or [`DnsError::Truncated`].
fn be_u16(data: &[u8], at: usize) -> Result<u16, DnsError> {
    match data.get(at..at.saturating_add(2)) {
        Some(&[hi, lo]) => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(DnsError::Truncated { at }),
    }
}

/// Big-endian `u32` at `at`, or [`DnsError::Truncated`].
fn be_u32(data: &[u8], at: usize) -> Result<u32, DnsError> {
    match data.get(at..at.saturating_add(4)) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(DnsError::Truncated { at }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_like_dns_accepts_queries_and_mdns_announcements() {
        let mut query = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        query.extend_from_slice(b"\x04host\x05local\x00\x00\x01\x00\x01");
        assert!(looks_like_dns(&query));

        // mDNS announcement: no question, one answer.
        let mut announce = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        announce.extend_from_slice(b"\x04host\x05local\x00\x00\x01\x80\x01\x00\x00\x00\x78");
        announce.extend_from_slice(&[0, 4, 192, 168, 1, 9]);
        assert!(looks_like_dns(&announce));
    }

    #[test]
    fn looks_like_dns_refuses_insane_headers() {
        let mut query = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        query.extend_from_slice(b"\x04host\x05local\x00\x00\x01\x00\x01");
        // A query without questions.
        let mut q = query.clone();
        q[5] = 0;
        assert!(!looks_like_dns(&q));
        // Too many questions.
        q = query.clone();
        q[5] = 17;
        assert!(!looks_like_dns(&q));
        // Unassigned opcode 6.
        q = query.clone();
        q[2] = 6 << 3;
        assert!(!looks_like_dns(&q));
        // Counts that cannot fit.
        q = query.clone();
        q[11] = 3;
        assert!(!looks_like_dns(&q));
        // Too short, and a QUIC long header.
        assert!(!looks_like_dns(&query[..11]));
        assert!(!looks_like_dns(&[
            0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x44, 0x9e
        ]));
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name(rtype::A), Some("A"));
        assert_eq!(type_name(rtype::AAAA), Some("AAAA"));
        assert_eq!(type_name(rtype::CNAME), Some("CNAME"));
        assert_eq!(type_name(rtype::HTTPS), Some("HTTPS"));
        assert_eq!(type_name(rtype::SVCB), Some("SVCB"));
        assert_eq!(type_name(65_000), None);
    }
}
