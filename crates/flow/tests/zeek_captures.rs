//! Real captures from the Zeek test suite (shared test data), read with pcap-parser's legacy
//! reader, parsed by phonehome-wire and reassembled by the flow table.

mod recorder;

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError};
use phonehome_flow::{FlowTable, FrameMeta};
use phonehome_model::{Direction, Limits, Protocol, Timestamp, WarningCode};
use phonehome_wire::{parse_frame, WireError};
use recorder::Recorder;
use std::fs::File;
use std::path::PathBuf;

/// `$PHONEHOME_TESTDATA/external/zeek/testing/btest/Traces/http`, or `None` (skip) when the
/// shared data is absent outside CI.
fn traces() -> Option<PathBuf> {
    phonehome_testkit::external("zeek/testing/btest/Traces/http")
}

/// Reads a legacy pcap file through the whole flow layer.
fn reassemble(path: &std::path::Path) -> Recorder {
    let file = File::open(path).unwrap();
    let mut reader = LegacyPcapReader::new(1 << 16, file).unwrap();
    let mut table = FlowTable::new(&Limits::default());
    let mut rec = Recorder::default();
    let mut linktype = 0u32;
    let mut number = 0u64;
    let mut last = FrameMeta::default();
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(header) => linktype = header.network.0 as u32,
                    PcapBlockOwned::Legacy(b) => {
                        number += 1;
                        last = FrameMeta {
                            number,
                            time: Timestamp::from_secs_nanos(i64::from(b.ts_sec), b.ts_usec * 1000),
                        };
                        match parse_frame(linktype, b.data) {
                            Ok(ip) => table.packet(last, ip, &mut rec),
                            Err(WireError::NotIp) => {}
                            Err(e) => panic!("{}: frame {number}: {e}", path.display()),
                        }
                    }
                    PcapBlockOwned::NG(_) => panic!("not a legacy pcap"),
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().unwrap(),
            Err(e) => panic!("{}: {e:?}", path.display()),
        }
    }
    table.finish(last, &mut rec);
    rec.check_contract();
    rec
}

#[test]
fn get_yields_the_request() {
    let Some(dir) = traces() else { return };
    let rec = reassemble(&dir.join("get.pcap"));
    let conns = rec.conns();
    assert_eq!(conns.len(), 1);
    let conn = &conns[0];
    assert_eq!(
        (conn.protocol, conn.server.port(), conn.saw_syn),
        (Protocol::Tcp, 80, true)
    );
    let request = rec.stream(conn.id, Direction::Request);
    assert!(
        request.starts_with(b"GET /download/CHANGES.bro-aux.txt HTTP/1.1"),
        "{:?}",
        String::from_utf8_lossy(&request)
    );
    let response = rec.stream(conn.id, Direction::Response);
    assert!(response.starts_with(b"HTTP/1.1 200 OK"));
    let stats = rec.stats(conn.id);
    assert_eq!(
        (stats.gaps, stats.bytes_client, stats.bytes_server),
        (0, 136, 5007)
    );
    assert!(rec.all_warnings().is_empty(), "{:?}", rec.all_warnings());
}

#[test]
fn get_without_syn_still_yields_the_request() {
    let Some(dir) = traces() else { return };
    let rec = reassemble(&dir.join("get_nosyn.pcap"));
    let conns = rec.conns();
    assert_eq!(conns.len(), 1);
    let conn = &conns[0];
    assert!(!conn.saw_syn);
    // The client's first packet is seen first, and port 80 says who the server is anyway.
    assert_eq!((conn.client.port(), conn.server.port()), (59856, 80));
    let request = rec.stream(conn.id, Direction::Request);
    assert!(request.starts_with(b"GET /download/CHANGES.bro-aux.txt HTTP/1.1"));
    assert_eq!(request.len(), 136);
    let response = rec.stream(conn.id, Direction::Response);
    assert!(response.starts_with(b"HTTP/1.1 200 OK"));
    assert_eq!(response.len(), 1448 * 3 + 663);
    // Both FINs were seen: frames 9 (client) and 10 (server).
    assert_eq!(
        rec.ends(conn.id),
        vec![(Direction::Request, 9), (Direction::Response, 10)]
    );
}

#[test]
fn pipelined_requests_are_all_in_the_client_stream() {
    let Some(dir) = traces() else { return };
    let rec = reassemble(&dir.join("pipelined-requests.pcap"));
    let conns = rec.conns();
    assert_eq!(conns.len(), 1);
    let request = rec.stream(conns[0].id, Direction::Request);
    let lines = request
        .split(|b| *b == b'\n')
        .filter(|l| l.starts_with(b"GET "))
        .count();
    assert_eq!(lines, 5, "{}", String::from_utf8_lossy(&request));
}

/// Every legacy pcap of the directory: the contract holds, no conflicting overlaps, and the
/// number of TCP connections matches Wireshark's conversation count.
#[test]
fn every_http_trace_reassembles() {
    let Some(dir) = traces() else { return };
    // (file, TCP conversations according to `tshark -z conv,tcp`)
    let expected = [
        ("100-continue.pcap", 1),
        ("basic-auth-with-colon.pcap", 1),
        ("connect-with-header.pcap", 1),
        ("docker-http-upgrade.pcap", 3),
        ("get-gzip.pcap", 1),
        ("get-without-fins.pcap", 1),
        ("get.pcap", 1),
        ("get_nosyn.pcap", 1),
        ("http-post-large.pcap", 2),
        ("http-single-conn-22.pcap", 1),
        ("methods.pcap", 49),
        ("missing-zlib-header.pcap", 1),
        ("multipart-form-data.pcap", 1),
        ("multipart.pcap", 1),
        ("no-uri.pcap", 1),
        ("percent-end-of-line.pcap", 2),
        ("pipelined-requests.pcap", 1),
        ("post.pcap", 1),
        ("proxy.pcap", 1),
        ("websocket.pcap", 1),
        ("x-gzip.pcap", 1),
    ];
    let mut ran = 0;
    for (name, tcp_conns) in expected {
        let rec = reassemble(&dir.join(name));
        let tcp = rec
            .conns()
            .iter()
            .filter(|c| c.protocol == Protocol::Tcp)
            .count();
        assert_eq!(tcp, tcp_conns, "{name}");
        assert!(
            rec.warnings(WarningCode::Overlap).is_empty(),
            "{name}: {:?}",
            rec.all_warnings()
        );
        ran += 1;
    }
    println!("reassembled {ran} Zeek HTTP traces");
}
