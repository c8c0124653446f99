//! DNS messages (RFC 1035 §4.1): header, questions and resource records.

use crate::name::parse_name;
use crate::rdata::{parse_rdata, RData};
use crate::{be_u16, be_u32, DnsError, Section};

/// Most entries accepted in one section. A count above it is refused before anything is read.
pub const MAX_RECORDS: usize = 512;

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;

/// One DNS message, query or response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsMessage {
    /// Transaction ID.
    pub id: u16,
    /// QR: true for a response.
    pub response: bool,
    /// OPCODE: 0 query, 4 notify, 5 update…
    pub opcode: u8,
    /// RCODE (the low 4 bits; the EDNS extension is not merged in).
    pub rcode: u8,
    /// TC: the sender cut the message short (the client usually retries over TCP).
    pub truncated: bool,
    /// The question section.
    pub questions: Vec<Question>,
    /// The answer section.
    pub answers: Vec<Record>,
    /// The authority section.
    pub authority: Vec<Record>,
    /// The additional section (EDNS `OPT` records included, as [`RData::Other`]).
    pub additional: Vec<Record>,
}

/// One entry of the question section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// The name asked about, in presentation form (see [`crate::parse_message`]).
    pub name: String,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS, raw (mDNS sets the top bit to ask for a unicast answer).
    pub qclass: u16,
}

/// One resource record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The owner name, in presentation form.
    pub name: String,
    /// TYPE.
    pub rtype: u16,
    /// CLASS, raw (mDNS uses the top bit as the cache-flush flag; `OPT` stores a UDP size here).
    pub class: u16,
    /// TTL in seconds (`OPT` stores extended flags here).
    pub ttl: u32,
    /// The decoded RDATA.
    pub data: RData,
}

/// The counts and flags of the header, checked for nothing but length.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) id: u16,
    pub(crate) flags: u16,
    pub(crate) counts: [u16; 4],
}

impl Header {
    /// Reads the 12-byte header.
    pub(crate) fn parse(data: &[u8]) -> Result<Header, DnsError> {
        if data.len() < HEADER_LEN {
            return Err(DnsError::Truncated { at: 0 });
        }
        Ok(Header {
            id: be_u16(data, 0)?,
            flags: be_u16(data, 2)?,
            counts: [
                be_u16(data, 4)?,
                be_u16(data, 6)?,
                be_u16(data, 8)?,
                be_u16(data, 10)?,
            ],
        })
    }

    /// QR bit.
    pub(crate) fn response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// OPCODE.
    pub(crate) fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }
}

/// The sections in message order.
const SECTIONS: [Section; 4] = [
    Section::Question,
    Section::Answer,
    Section::Authority,
    Section::Additional,
];

/// Parses one DNS message (a UDP payload, or one TCP frame without its length prefix).
///
/// Names are in presentation form as dig prints them, without the trailing dot (the root is the
/// empty string): bytes outside printable ASCII become `\DDD`, and `.`, `\` and dig's other
/// special characters are backslash-escaped. Every count is capped by [`MAX_RECORDS`], every
/// name by [`crate::MAX_NAME_LEN`] and [`crate::MAX_POINTER_HOPS`]; compression pointers are
/// followed only backwards. Bytes after the last record are ignored (some stacks pad).
///
/// The whole message must be well formed: the first bad name or record is the error, and no
/// partial message is returned.
pub fn parse_message(data: &[u8]) -> Result<DnsMessage, DnsError> {
    let header = Header::parse(data)?;
    for (section, &count) in SECTIONS.iter().zip(&header.counts) {
        if usize::from(count) > MAX_RECORDS {
            return Err(DnsError::TooManyRecords {
                section: *section,
                count,
            });
        }
    }
    let [qdcount, ancount, nscount, arcount] = header.counts;
    let mut pos = HEADER_LEN;
    let mut questions = Vec::with_capacity(usize::from(qdcount));
    for _ in 0..qdcount {
        let (name, after) = parse_name(data, pos)?;
        let qtype = be_u16(data, after)?;
        let qclass = be_u16(data, after + 2)?;
        questions.push(Question {
            name,
            qtype,
            qclass,
        });
        pos = after + 4;
    }
    let answers = parse_records(data, &mut pos, ancount)?;
    let authority = parse_records(data, &mut pos, nscount)?;
    let additional = parse_records(data, &mut pos, arcount)?;
    Ok(DnsMessage {
        id: header.id,
        response: header.response(),
        opcode: header.opcode(),
        rcode: (header.flags & 0x0f) as u8,
        truncated: header.flags & 0x0200 != 0,
        questions,
        answers,
        authority,
        additional,
    })
}

/// Reads `count` resource records starting at `*pos`, advancing it.
fn parse_records(data: &[u8], pos: &mut usize, count: u16) -> Result<Vec<Record>, DnsError> {
    let mut records = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let (name, after) = parse_name(data, *pos)?;
        let rtype = be_u16(data, after)?;
        let class = be_u16(data, after + 2)?;
        let ttl = be_u32(data, after + 4)?;
        let rdlength = usize::from(be_u16(data, after + 8)?);
        let rdata_start = after + 10;
        let rdata_end = rdata_start + rdlength;
        if rdata_end > data.len() {
            return Err(DnsError::Truncated { at: rdata_start });
        }
        let rdata = parse_rdata(data, rtype, rdata_start, rdata_end)?;
        records.push(Record {
            name,
            rtype,
            class,
            ttl,
            data: rdata,
        });
        *pos = rdata_end;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// Header with the given flags and counts.
    fn header(flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut h = vec![0xab, 0xcd];
        h.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            h.extend_from_slice(&c.to_be_bytes());
        }
        h
    }

    /// A response for a.example: CNAME b.example (compressed), b.example A 10.0.0.1.
    fn response() -> Vec<u8> {
        let mut m = header(0x8580, [1, 2, 0, 0]);
        m.extend_from_slice(b"\x01a\x07example\x00\x00\x01\x00\x01"); // question at 12
        m.extend_from_slice(b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x04\x01b\xc0\x0e");
        m.extend_from_slice(
            b"\x01b\xc0\x0e\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01",
        );
        m
    }

    #[test]
    fn response_with_cname_chain() {
        let m = parse_message(&response()).unwrap();
        assert_eq!(m.id, 0xabcd);
        assert!(m.response && !m.truncated);
        assert_eq!((m.opcode, m.rcode), (0, 0));
        assert_eq!(m.questions[0].name, "a.example");
        assert_eq!(m.answers[0].name, "a.example");
        assert_eq!(m.answers[0].data, RData::Cname("b.example".into()));
        assert_eq!(m.answers[1].name, "b.example");
        assert_eq!(m.answers[1].data, RData::A(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(m.answers[1].ttl, 60);
    }

    #[test]
    fn flags() {
        // QR=1, opcode=5, AA=0, TC=1, RD=0; RA=0, rcode 3 (NXDOMAIN).
        let m = parse_message(&header(0xaa03, [0; 4])).unwrap();
        assert!(m.response && m.truncated);
        assert_eq!((m.opcode, m.rcode), (5, 3));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let full = response();
        for len in 0..full.len() {
            assert!(
                matches!(parse_message(&full[..len]), Err(DnsError::Truncated { .. })),
                "length {len}"
            );
        }
    }

    #[test]
    fn absurd_counts() {
        let m = header(0, [1, 0xffff, 0, 0]);
        assert_eq!(
            parse_message(&m),
            Err(DnsError::TooManyRecords {
                section: Section::Answer,
                count: 0xffff
            })
        );
        // Within the cap but far more than the bytes could hold.
        let mut m = header(0, [0, 0, 0, 500]);
        m.extend_from_slice(&[0; 40]);
        assert!(matches!(parse_message(&m), Err(DnsError::Truncated { .. })));
    }

    #[test]
    fn rdlength_past_the_end() {
        let mut m = header(0x8000, [0, 1, 0, 0]);
        m.extend_from_slice(b"\x00\x00\x01\x00\x01\x00\x00\x00\x00\xff\xff\x01\x02\x03\x04");
        assert_eq!(parse_message(&m), Err(DnsError::Truncated { at: 23 }));
    }

    #[test]
    fn bad_rdata_in_a_known_type() {
        let mut m = header(0x8000, [0, 1, 0, 0]);
        m.extend_from_slice(b"\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x03\x01\x02\x03");
        assert_eq!(
            parse_message(&m),
            Err(DnsError::BadRdata { rtype: 1, at: 23 })
        );
    }

    #[test]
    fn pointer_loops_in_records() {
        // The answer's name points to itself; a CNAME pointing forward into the next record.
        let mut m = header(0x8000, [0, 1, 0, 0]);
        m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x01\x02\x03\x04");
        assert_eq!(
            parse_message(&m),
            Err(DnsError::BadPointer { at: 12, target: 12 })
        );
        let mut m = header(0x8000, [0, 1, 0, 0]);
        m.extend_from_slice(b"\x00\x00\x05\x00\x01\x00\x00\x00\x00\x00\x02\xc0\x19\x00");
        assert_eq!(
            parse_message(&m),
            Err(DnsError::BadPointer { at: 23, target: 25 })
        );
    }

    #[test]
    fn garbage_never_panics() {
        // A cheap deterministic xorshift over many lengths; most of it must be refused.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut accepted = 0;
        for round in 0..20_000 {
            let len = round % 300;
            let mut data = Vec::with_capacity(len);
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                data.push(state as u8);
            }
            if parse_message(&data).is_ok() {
                accepted += 1;
            }
            let _ = crate::looks_like_dns(&data);
        }
        assert!(accepted < 1000, "{accepted} random buffers parsed as DNS");
    }

    #[test]
    fn trailing_bytes_are_ignored() {
        let mut m = response();
        m.extend_from_slice(&[0; 8]);
        assert_eq!(parse_message(&m).unwrap().answers.len(), 2);
    }
}
