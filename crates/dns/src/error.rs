//! Why a DNS message could not be read.

use std::fmt;

/// A section of a DNS message, as named in RFC 1035 §4.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// The question section (QDCOUNT entries).
    Question,
    /// The answer section (ANCOUNT records).
    Answer,
    /// The authority section (NSCOUNT records).
    Authority,
    /// The additional section (ARCOUNT records).
    Additional,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Question => "question",
            Section::Answer => "answer",
            Section::Authority => "authority",
            Section::Additional => "additional",
        })
    }
}

/// Why [`crate::parse_message`] rejected a message. Offsets are from the start of the message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnsError {
    /// The message ended inside a field that starts at `at` (header, name, record or RDATA).
    Truncated {
        /// Offset of the field that did not fit.
        at: usize,
    },
    /// A label length byte whose two top bits are `01` or `10` (extended or reserved label
    /// types, RFC 6891 §5): a label longer than 63 bytes cannot be written.
    BadLabelType {
        /// Offset of the length byte.
        at: usize,
        /// The length byte.
        byte: u8,
    },
    /// The name is longer than [`crate::MAX_NAME_LEN`] bytes in wire format.
    NameTooLong {
        /// Offset where the name starts.
        at: usize,
    },
    /// A compression pointer that does not point strictly backwards (before every place the name
    /// was already read from): forward pointers, self-pointers and loops.
    BadPointer {
        /// Offset of the pointer.
        at: usize,
        /// Where it points.
        target: usize,
    },
    /// More than [`crate::MAX_POINTER_HOPS`] compression pointers in one name.
    TooManyPointers {
        /// Offset where the name starts.
        at: usize,
    },
    /// A section count above [`crate::MAX_RECORDS`].
    TooManyRecords {
        /// The section.
        section: Section,
        /// The count from the header.
        count: u16,
    },
    /// RDATA that does not fit its type (an A record that is not 4 bytes, a CNAME whose name
    /// runs past RDLENGTH, an SVCB parameter longer than the RDATA…).
    BadRdata {
        /// The record type.
        rtype: u16,
        /// Offset of the RDATA.
        at: usize,
    },
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::Truncated { at } => write!(f, "DNS message truncated at offset {at}"),
            DnsError::BadLabelType { at, byte } => {
                write!(f, "bad DNS label length byte {byte:#04x} at offset {at}")
            }
            DnsError::NameTooLong { at } => {
                write!(
                    f,
                    "DNS name at offset {at} longer than {} bytes",
                    crate::MAX_NAME_LEN
                )
            }
            DnsError::BadPointer { at, target } => write!(
                f,
                "DNS compression pointer at offset {at} points to {target}, not backwards"
            ),
            DnsError::TooManyPointers { at } => write!(
                f,
                "DNS name at offset {at} follows more than {} compression pointers",
                crate::MAX_POINTER_HOPS
            ),
            DnsError::TooManyRecords { section, count } => write!(
                f,
                "DNS {section} count {count} above the limit of {}",
                crate::MAX_RECORDS
            ),
            DnsError::BadRdata { rtype, at } => {
                write!(f, "malformed RDATA of DNS type {rtype} at offset {at}")
            }
        }
    }
}

impl std::error::Error for DnsError {}
