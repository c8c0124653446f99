//! Shared by the HTTP tests: running flow-stage streams through [`Http1Connection`], picking
//! events apart, and gzip-compressing a body.
#![allow(dead_code)]

use phonehome_http::{Http1Connection, Http1Event, Http1Limits, HttpRequest, HttpResponse};
use phonehome_testkit::StreamEvent;
use std::io::Write;

/// Runs one connection's stream events (as `phonehome_testkit::read_streams` gives them) through
/// [`Http1Connection`]; `chunk` splits every piece of data further (0: as delivered).
pub fn parse_http1(pieces: &[StreamEvent], chunk: usize) -> Vec<Http1Event> {
    let mut conn = Http1Connection::new(Http1Limits::default());
    let mut events = Vec::new();
    for piece in pieces {
        match piece {
            StreamEvent::Data(dir, data, frame) if chunk > 0 => {
                for part in data.chunks(chunk) {
                    conn.feed(*dir, part, *frame, &mut events);
                }
            }
            StreamEvent::Data(dir, data, frame) => conn.feed(*dir, data, *frame, &mut events),
            StreamEvent::Gap(dir, len, frame) => conn.gap(*dir, *len, *frame, &mut events),
            StreamEvent::End(dir, frame) => conn.end(*dir, *frame, &mut events),
        }
    }
    events
}

/// The requests among `events`.
pub fn requests(events: &[Http1Event]) -> Vec<&HttpRequest> {
    events
        .iter()
        .filter_map(|e| match e {
            Http1Event::Request(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The responses among `events`.
pub fn responses(events: &[Http1Event]) -> Vec<&HttpResponse> {
    events
        .iter()
        .filter_map(|e| match e {
            Http1Event::Response(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// `data` gzip-compressed (flate2, default level).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
