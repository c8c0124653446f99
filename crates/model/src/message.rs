//! The source-agnostic message model.

use crate::{SourceRef, Timestamp};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Which way a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Client (the phone) to server: this is where leaks are.
    Request,
    /// Server to client.
    Response,
}

impl Direction {
    /// `"request"` or `"response"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Response => "response",
        }
    }
}

/// How a message travelled: addresses and protocol versions, as far as they are known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Transport {
    /// The client's address and port (the phone), when known.
    pub client: Option<SocketAddr>,
    /// The server's address and port, when known.
    pub server: Option<SocketAddr>,
    /// TLS version (`"1.2"`, `"1.3"`) when the message was carried over TLS.
    pub tls: Option<String>,
    /// HTTP version: `"1.0"`, `"1.1"`, `"2"`, `"3"`.
    pub http: Option<String>,
    /// The TLS server name the client asked for, when seen.
    pub sni: Option<String>,
    /// The name a DNS answer earlier in the capture gave the server's address, when any.
    pub dns_name: Option<String>,
}

/// One header field, as sent (the name keeps its case; the value is raw bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Header {
    /// Field name as sent.
    pub name: String,
    /// Field value, raw (may be non-UTF-8).
    #[serde(serialize_with = "serialize_lossy")]
    pub value: Vec<u8>,
}

impl Header {
    /// A header from a name and value.
    pub fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A message body: the bytes as transferred and, when a `Content-Encoding` applied, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Body {
    /// The body after transfer decoding (chunked) but before content decoding.
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// The body after content decoding, when a content coding was applied and at least partly undone.
    #[serde(skip)]
    pub decoded: Option<Vec<u8>>,
    /// The content codings that were undone to produce `decoded`, outermost first (`gzip`, `br`…).
    pub encodings: Vec<String>,
    /// True when the body was cut short (body-size cap, truncated decompression, gap, end of capture).
    pub truncated: bool,
}

impl Body {
    /// A body that was sent without content coding.
    pub fn plain(raw: Vec<u8>) -> Self {
        Self {
            raw,
            ..Self::default()
        }
    }

    /// The bytes to analyse: the content-decoded body when there is one, else the raw body.
    pub fn content(&self) -> &[u8] {
        self.decoded.as_deref().unwrap_or(&self.raw)
    }
}

/// One HTTP request or response, whatever it was read from (pcap, HAR, live proxy).
///
/// Stages after `message` see only this type; they never learn whether it came from a capture or a
/// HAR file except through the opaque [`SourceRef`] they copy into findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    /// When the message was complete (capture) or started (HAR).
    pub time: Option<Timestamp>,
    /// Where in the input it came from.
    pub source: SourceRef,
    /// Request or response.
    pub direction: Direction,
    /// Addresses and protocol versions.
    pub transport: Transport,
    /// Request method (for a response: the method of the request it answers), when known.
    pub method: Option<String>,
    /// The absolute URL of the request (for a response: of the request it answers).
    pub url: String,
    /// The request-target exactly as sent on the request line or in `:path`.
    pub target: String,
    /// The host as the client sent it (Host header, `:authority`, or the URL's host).
    pub host: Option<String>,
    /// Response status code, for responses.
    pub status: Option<u16>,
    /// Header fields in order, as sent.
    pub headers: Vec<Header>,
    /// The body.
    pub body: Body,
}

impl Message {
    /// Values of every header named `name` (ASCII case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// The first value of the header `name`, if any, lossily as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.header_values(name)
            .next()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

fn serialize_lossy<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(v))
}
