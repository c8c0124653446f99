//! Decrypts real captures from the shared test data with their key logs, through the workspace's
//! own capture reader, IP/TCP parser and TCP reassembler, and checks the plaintext against what
//! Wireshark decoded (`_reference/`).

use phonehome_ingest::SECRETS_TLS_KEY_LOG;
use phonehome_model::{Direction, NotInspected};
use phonehome_testkit::{read_streams, testdata, StreamEvent};
use phonehome_tls::{KeyLog, SessionCache, TlsEvent, TlsInfo, TlsLimits, TlsSession};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What one TCP connection gave.
#[derive(Debug, Default)]
struct Conn {
    client: Vec<u8>,
    server: Vec<u8>,
    /// Frame of each client plaintext chunk, with its offset in `client`.
    client_frames: Vec<(usize, u64)>,
    events: Vec<TlsEvent>,
    info: TlsInfo,
}

/// The TLS sessions of a capture's TCP connections, fed as the flow stage delivered the streams.
struct Sessions {
    keys: Arc<KeyLog>,
    cache: SessionCache,
    live: BTreeMap<usize, (TlsSession, Conn)>,
}

impl Sessions {
    fn take(&mut self, id: usize, events: Vec<TlsEvent>) {
        let Some((session, conn)) = self.live.get_mut(&id) else {
            return;
        };
        for ev in events {
            match ev {
                TlsEvent::Plaintext {
                    dir: Direction::Request,
                    data,
                    frame,
                } => {
                    conn.client_frames.push((conn.client.len(), frame));
                    conn.client.extend_from_slice(&data);
                }
                TlsEvent::Plaintext {
                    dir: Direction::Response,
                    data,
                    ..
                } => conn.server.extend_from_slice(&data),
                other => conn.events.push(other),
            }
        }
        conn.info = session.info().clone();
    }

    fn open(&mut self, id: usize) {
        let s = TlsSession::with_cache(self.keys.clone(), TlsLimits::default(), self.cache.clone());
        self.live.insert(id, (s, Conn::default()));
    }

    fn event(&mut self, id: usize, event: &StreamEvent) {
        let mut out = Vec::new();
        if let Some((s, _)) = self.live.get_mut(&id) {
            match event {
                StreamEvent::Data(dir, data, frame) => s.feed(*dir, data, *frame, &mut out),
                StreamEvent::Gap(dir, missing, frame) => s.gap(*dir, *missing, *frame, &mut out),
                StreamEvent::End(..) => return,
            }
        }
        self.take(id, out);
    }
}

/// Decrypts every TCP connection of a capture (read through ingest → wire → flow); keys from
/// `keylog` files plus the capture's own Decryption Secrets Blocks. Returns the connections that
/// had a ClientHello, in the order they were closed.
fn decrypt(capture: &Path, keylogs: &[PathBuf]) -> Vec<Conn> {
    let mut keys = KeyLog::new();
    for k in keylogs {
        let text = std::fs::read_to_string(k).unwrap();
        assert_eq!(keys.add_text(&text), vec![], "{}", k.display());
    }
    let streams = read_streams(capture);
    for (kind, data) in &streams.secrets {
        if *kind == SECRETS_TLS_KEY_LOG {
            assert_eq!(keys.add_dsb(data), vec![]);
        }
    }
    let mut sessions = Sessions {
        keys: Arc::new(keys),
        cache: SessionCache::new(),
        live: BTreeMap::new(),
    };
    // Every session exists from the start, and the streams of all connections are replayed in
    // the order the flow stage delivered them, so that resumption finds the earlier sessions.
    for id in 0..streams.tcp.len() {
        sessions.open(id);
    }
    for (id, event) in streams.tcp_events_in_order() {
        sessions.event(id, event);
    }
    let mut done: Vec<Conn> = streams
        .tcp_closed
        .iter()
        .filter_map(|id| sessions.live.remove(id).map(|(_, c)| c))
        .collect();
    done.retain(|c| {
        c.events
            .iter()
            .any(|e| matches!(e, TlsEvent::ClientHello(_)))
    });
    done
}

/// HTTP/1 request targets in a client plaintext stream (request lines).
fn http1_targets(client: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(client);
    text.split("\r\n")
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let (m, t, v) = (parts.next()?, parts.next()?, parts.next()?);
            let method = !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase());
            (method && v.starts_with("HTTP/1.")).then(|| t.to_owned())
        })
        .collect()
}

/// `(frame, uri)` of the HTTP/1 requests listed in a `_reference/<capture>.requests.txt`.
fn reference_http1(root: &Path, capture: &str) -> Vec<String> {
    let path = root
        .join("external/_reference")
        .join(format!("{capture}.requests.txt"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip_while(|l| !l.starts_with("# HTTP/1"))
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| !l.is_empty())
        .map(|l| l.rsplit('|').next().unwrap().to_owned())
        .collect()
}

fn undecryptable(c: &Conn) -> Vec<NotInspected> {
    c.events
        .iter()
        .filter_map(|e| match e {
            TlsEvent::Undecryptable { reason } => Some(*reason),
            _ => None,
        })
        .collect()
}

fn anomalies(c: &Conn) -> Vec<String> {
    c.events
        .iter()
        .filter_map(|e| match e {
            TlsEvent::Anomaly { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

/// A capture whose HTTP/1 requests must all be decrypted, in order.
fn check_http1(root: &Path, capture: &str, keys: &[&str]) -> Vec<Conn> {
    let ext = root.join("external");
    let keys: Vec<PathBuf> = keys.iter().map(|k| ext.join(k)).collect();
    let conns = decrypt(&ext.join(capture), &keys);
    assert!(!conns.is_empty(), "{capture}: no TLS connection");
    let mut targets = Vec::new();
    for c in &conns {
        assert!(c.info.decrypting, "{capture}: {:?} {:?}", c.info, c.events);
        assert_eq!(undecryptable(c), vec![], "{capture}");
        targets.extend(http1_targets(&c.client));
    }
    let mut expected = reference_http1(root, capture);
    expected.sort();
    targets.sort();
    assert_eq!(targets, expected, "{capture}");
    eprintln!(
        "{capture}: {} connections, {} requests",
        conns.len(),
        targets.len()
    );
    conns
}

#[test]
fn wireshark_and_zeek_http1_captures() {
    let Some(root) = testdata() else { return };
    let cases: &[(&str, &[&str])] = &[
        (
            "wireshark/test/captures/tls12-chacha20poly1305.pcap",
            &["wireshark/test/keys/tls12-chacha20poly1305.keys"],
        ),
        (
            "wireshark/test/captures/dhe1.pcapng.gz",
            &["wireshark/test/keys/dhe1_keylog.dat"],
        ),
        ("wireshark/test/captures/tls12-dsb.pcapng", &[]),
        (
            "zeek/testing/btest/Traces/tls/tls-1.2-stream-keylog.pcap",
            &["zeek/testing/btest/Traces/tls/tls-1.2-stream-keylog.nss-keylog.txt"],
        ),
        (
            "zeek/testing/btest/Traces/tls/tls12-decryption.pcap",
            &["zeek/testing/btest/Traces/tls/tls12-decryption.nss-keylog.txt"],
        ),
        (
            "wireshark/test/captures/tls13-rfc8446.pcap",
            &["wireshark/test/keys/tls13-rfc8446.keys"],
        ),
    ];
    for (capture, keys) in cases {
        let conns = check_http1(&root, capture, keys);
        for c in &conns {
            // Responses decrypt too (every connection here got an answer).
            assert!(
                c.server.starts_with(b"HTTP/1.") || c.server.is_empty(),
                "{capture}"
            );
        }
    }
    eprintln!("ran {} captures", cases.len());
}

fn client_hello(c: &Conn) -> &phonehome_tls::ClientHello {
    c.events
        .iter()
        .find_map(|e| match e {
            TlsEvent::ClientHello(ch) => Some(ch),
            _ => None,
        })
        .unwrap()
}

#[test]
fn illustrated_connections_ping_pong() {
    let Some(root) = testdata() else { return };
    let ext = root.join("external");
    for (dir, version, suite) in [
        ("illustrated-tls12", "1.2", 0xc013),
        ("illustrated-tls13", "1.3", 0x1302),
    ] {
        let conns = decrypt(
            &ext.join(dir).join("captures/capture.pcap"),
            &[ext.join(dir).join("captures/keylog.txt")],
        );
        assert_eq!(conns.len(), 1, "{dir}");
        let c = &conns[0];
        assert_eq!(c.client, b"ping", "{dir}");
        assert_eq!(c.server, b"pong", "{dir}");
        assert_eq!(c.info.version.as_deref(), Some(version));
        assert_eq!(c.info.cipher_suite, Some(suite));
        assert_eq!(c.info.sni.as_deref(), Some("example.ulfheim.net"));
        assert_eq!(anomalies(c), Vec::<String>::new());
    }
    // The same TLS 1.3 connection with its keys in a Decryption Secrets Block.
    let conns = decrypt(
        &ext.join("_derived/illustrated-tls13/captures/capture.dsb.pcapng"),
        &[],
    );
    assert_eq!(
        (conns[0].client.as_slice(), conns[0].server.as_slice()),
        (&b"ping"[..], &b"pong"[..])
    );
    eprintln!("ran 3 illustrated captures");
}

#[test]
fn tls13_early_data_without_its_secret() {
    let Some(root) = testdata() else { return };
    let ext = root.join("external");
    let capture = ext.join("wireshark/test/captures/tls13-rfc8446.pcap");
    let conns = decrypt(
        &capture,
        &[ext.join("wireshark/test/keys/tls13-rfc8446-noearly.keys")],
    );
    let targets: Vec<String> = conns
        .iter()
        .flat_map(|c| http1_targets(&c.client))
        .collect();
    assert_eq!(targets, ["/first", "/second"]);
    let resumed = conns.iter().find(|c| c.info.resumed).unwrap();
    assert!(client_hello(resumed).early_data && client_hello(resumed).psk);
    assert_eq!(
        anomalies(resumed),
        ["0-RTT early data not decrypted: no CLIENT_EARLY_TRAFFIC_SECRET"]
    );
    assert!(resumed.server.starts_with(b"HTTP/1.1 200"));
    // With the early secret, the 0-RTT request is there and comes first on its connection.
    let conns = decrypt(
        &capture,
        &[ext.join("wireshark/test/keys/tls13-rfc8446.keys")],
    );
    let resumed = conns.iter().find(|c| c.info.resumed).unwrap();
    assert_eq!(http1_targets(&resumed.client), ["/early", "/second"]);
    // Keys from the DSB-injected copy give the same.
    let conns = decrypt(
        &ext.join("_derived/wireshark/test/captures/tls13-rfc8446.dsb.pcapng"),
        &[],
    );
    assert_eq!(
        conns.iter().flat_map(|c| http1_targets(&c.client)).count(),
        3
    );
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[test]
fn http2_captures() {
    let Some(root) = testdata() else { return };
    let ext = root.join("external");
    let cases: &[(&str, &[&str])] = &[
        (
            "wireshark/test/captures/http2-data-reassembly.pcap",
            &["wireshark/test/keys/http2-data-reassembly.keys"],
        ),
        (
            "_derived/wireshark/test/captures/http2-data-reassembly.dsb.pcapng",
            &[],
        ),
        (
            "wireshark/test/captures/http2_follow_multistream.pcapng",
            &[],
        ),
        ("wireshark/test/captures/http2-brotli.pcapng", &[]),
    ];
    let mut conns_seen = 0;
    for (capture, keys) in cases {
        let keys: Vec<PathBuf> = keys.iter().map(|k| ext.join(k)).collect();
        let conns = decrypt(&ext.join(capture), &keys);
        assert!(!conns.is_empty(), "{capture}");
        for c in &conns {
            assert_eq!(c.info.alpn.as_deref(), Some("h2"), "{capture}");
            assert!(c.client.starts_with(H2_PREFACE), "{capture}: {:?}", c.info);
            assert!(!c.server.is_empty(), "{capture}");
            assert_eq!(undecryptable(c), vec![], "{capture}");
            conns_seen += 1;
        }
    }
    eprintln!(
        "ran {} HTTP/2 captures, {conns_seen} connections",
        cases.len()
    );
}

#[test]
fn phone_sim_capture() {
    let Some(root) = testdata() else { return };
    let sim = root.join("phone-sim/sim");
    let truth = std::fs::read_to_string(sim.join("truth.json")).unwrap();
    let conns = decrypt(&sim.join("capture.pcapng"), &[sim.join("keys.log")]);
    let count = |v: &str| {
        conns
            .iter()
            .filter(|c| c.info.version.as_deref() == Some(v))
            .count()
    };
    assert_eq!(
        count("1.3"),
        truth.matches("\"transport\": \"tls1.3").count()
    );
    assert_eq!(
        count("1.2"),
        truth.matches("\"transport\": \"tls1.2").count()
    );
    for c in &conns {
        let sni = c.info.sni.as_deref().unwrap();
        assert!(truth.contains(&format!("\"host\": \"{sni}\"")), "{sni}");
        assert!(c.info.decrypting, "{sni}");
        let h1 = http1_targets(&c.client).len();
        assert!(c.client.starts_with(H2_PREFACE) || h1 > 0, "{sni}");
        assert_eq!(anomalies(c), Vec::<String>::new(), "{sni}");
    }
    eprintln!("phone-sim: {} TLS connections", conns.len());
}

#[test]
fn captures_without_secrets_are_no_key() {
    let Some(root) = testdata() else { return };
    let dir = root.join("external/_derived/wireshark/test/captures");
    let mut n = 0;
    for name in [
        "tls12-dsb.nosecrets.pcapng",
        "http2-brotli.nosecrets.pcapng",
        "http2_follow_multistream.nosecrets.pcapng",
    ] {
        for c in decrypt(&dir.join(name), &[]) {
            assert_eq!(undecryptable(&c), [NotInspected::NoKey], "{name}");
            assert_eq!(c.info.reason, Some(NotInspected::NoKey));
            assert!(c.client.is_empty() && c.server.is_empty());
            assert!(
                c.info.version.is_some() && c.info.cipher_suite.is_some(),
                "{name}"
            );
            n += 1;
        }
    }
    assert!(n >= 3);
    eprintln!("{n} connections without keys");
}

/// Captures without keys that exercise the handshake parsers on real bytes.
#[test]
fn handshakes_without_keys() {
    let Some(root) = testdata() else { return };
    let tls = root.join("external/zeek/testing/btest/Traces/tls");
    // A ClientHello with an X25519Kyber768 key share, across TCP segments.
    let conns = decrypt(&tls.join("chrome-1250-tls-x25519-kyber.pcap"), &[]);
    let ch = client_hello(&conns[0]);
    assert_eq!(ch.sni.as_deref(), Some("lh3.google.com"));
    assert!(
        ch.key_share_groups.contains(&0x6399),
        "{:x?}",
        ch.key_share_groups
    );
    // HelloRetryRequest.
    let conns = decrypt(&tls.join("hrr.pcap"), &[]);
    assert!(conns
        .iter()
        .all(|c| c.info.version.as_deref() == Some("1.3")));
    assert!(conns
        .iter()
        .all(|c| undecryptable(c) == [NotInspected::NoKey]));
    assert!(
        conns.iter().all(|c| anomalies(c).is_empty()),
        "{:?}",
        conns.iter().map(anomalies).collect::<Vec<_>>()
    );
    // Encrypted Client Hello: the SNI is the public name.
    let conns = decrypt(&tls.join("tls13-ech.pcap"), &[]);
    assert!(conns
        .iter()
        .any(|c| c.info.ech && c.info.sni.as_deref() == Some("cloudflare-ech.com")));
    // Hundreds of handshakes fragmented into tiny records.
    let frag = root.join("external/wireshark/test/captures/tls-fragmented-handshakes.pcap.gz");
    let conns = decrypt(&frag, &[]);
    let hellos: usize = conns.len();
    assert!(hellos >= 2, "{hellos}");
    for c in &conns {
        assert!(
            anomalies(c).iter().all(|a| !a.contains("bad")),
            "{:?}",
            anomalies(c)
        );
    }
    eprintln!("handshake-only captures: {hellos} fragmented connections");
}
