//! The TLS fixtures, sample and benchmark: valid captures, well-formed records and key logs, and
//! records that decrypt with the key log — checked by an independent implementation of the TLS
//! key schedules written here with RustCrypto (hkdf, hmac, aes-gcm, chacha20poly1305, cbc).

mod common;

use aes::cipher::{BlockDecryptMut, KeyIvInit};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use common::*;
use hmac::{Mac, SimpleHmac};
use phonehome_synth::h2_frames::{self, frame_type, H2Framing, H2Request, H2Response};
use phonehome_synth::scenario::{self, TLS_FIXTURE_NAMES};
use phonehome_synth::tls_fixture::*;
use sha2::{Digest, Sha256, Sha384};
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// Independent readers.

/// (content type, version, fragment) of every record of a stream; panics unless the stream is
/// exactly a sequence of well-formed records.
fn records(mut stream: &[u8]) -> Vec<(u8, u16, Vec<u8>)> {
    let mut out = Vec::new();
    while !stream.is_empty() {
        assert!(stream.len() >= 5, "truncated record header");
        let ty = stream[0];
        let version = u16::from_be_bytes([stream[1], stream[2]]);
        let len = usize::from(u16::from_be_bytes([stream[3], stream[4]]));
        assert!((20..=23).contains(&ty), "content type {ty}");
        assert!(
            version == 0x0301 || version == 0x0303,
            "version {version:#x}"
        );
        assert!(len > 0 && len <= (1 << 14) + 2048, "length {len}");
        assert!(stream.len() >= 5 + len, "truncated record");
        out.push((ty, version, stream[5..5 + len].to_vec()));
        stream = &stream[5 + len..];
    }
    out
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(
        s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()),
        "hex {s}"
    );
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// (label, client random, secret) of every line; panics on a malformed line.
fn keylog_lines(keylog: &str) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    assert!(keylog.is_empty() || keylog.ends_with('\n'));
    keylog
        .lines()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            assert_eq!(parts.len(), 3, "{line}");
            let (label, random, secret) = (parts[0], unhex(parts[1]), unhex(parts[2]));
            assert_eq!(random.len(), 32, "{line}");
            match label {
                "CLIENT_RANDOM" => assert_eq!(secret.len(), 48, "{line}"),
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
                | "SERVER_HANDSHAKE_TRAFFIC_SECRET"
                | "CLIENT_TRAFFIC_SECRET_0"
                | "SERVER_TRAFFIC_SECRET_0"
                | "EXPORTER_SECRET" => assert!(secret.len() == 32 || secret.len() == 48, "{line}"),
                other => panic!("unknown label {other}"),
            }
            (label.to_owned(), random, secret)
        })
        .collect()
}

fn secret_for(keylog: &str, label: &str, random: &[u8]) -> Option<Vec<u8>> {
    keylog_lines(keylog)
        .into_iter()
        .find(|(l, r, _)| l == label && r == random)
        .map(|(_, _, s)| s)
}

/// (client random, server random, cipher suite) from the hellos at the start of each stream.
fn hellos(client: &[u8], server: &[u8]) -> ([u8; 32], [u8; 32], u16) {
    let ch = &records(client)[0];
    assert_eq!((ch.0, ch.2[0]), (22, 1), "ClientHello first");
    let sh = &records(server)[0].2;
    assert_eq!(sh[0], 2, "ServerHello first");
    let sid_len = usize::from(sh[38]);
    let suite = u16::from_be_bytes([sh[39 + sid_len], sh[40 + sid_len]]);
    (
        ch.2[6..38].try_into().unwrap(),
        sh[6..38].try_into().unwrap(),
        suite,
    )
}

fn hkdf_expand_label<D>(secret: &[u8], label: &str, len: usize) -> Vec<u8>
where
    D: Digest + hmac::digest::core_api::BlockSizeUser + Clone,
{
    let full = format!("tls13 {label}");
    let mut info = (len as u16).to_be_bytes().to_vec();
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    let hk = hkdf::SimpleHkdf::<D>::from_prk(secret).unwrap();
    let mut out = vec![0u8; len];
    hk.expand(&info, &mut out).unwrap();
    out
}

fn hmac<D: Digest + hmac::digest::core_api::BlockSizeUser + Clone>(
    key: &[u8],
    parts: &[&[u8]],
) -> Vec<u8> {
    let mut m = <SimpleHmac<D> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// The TLS 1.2 PRF (RFC 5246 section 5) over hash `D`.
fn prf<D: Digest + hmac::digest::core_api::BlockSizeUser + Clone>(
    secret: &[u8],
    label: &[u8],
    seed: &[u8],
    len: usize,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut a = hmac::<D>(secret, &[label, seed]);
    while out.len() < len {
        out.extend(hmac::<D>(secret, &[&a, label, seed]));
        a = hmac::<D>(secret, &[&a]);
    }
    out.truncate(len);
    out
}

fn aead_open(suite: u16, key: &[u8], nonce: &[u8], aad: &[u8], ct: &[u8]) -> Vec<u8> {
    let payload = Payload { msg: ct, aad };
    let result = match key.len() {
        _ if suite == 0x1303 || suite == 0xcca9 => {
            chacha20poly1305::ChaCha20Poly1305::new_from_slice(key)
                .unwrap()
                .decrypt(nonce.into(), payload)
        }
        16 => aes_gcm::Aes128Gcm::new_from_slice(key)
            .unwrap()
            .decrypt(nonce.into(), payload),
        32 => aes_gcm::Aes256Gcm::new_from_slice(key)
            .unwrap()
            .decrypt(nonce.into(), payload),
        n => panic!("key length {n}"),
    };
    result.expect("the record authenticates")
}

/// Decrypts the client's first application data record with the key log alone. Returns `None`
/// when the key log has no line for this connection.
fn first_client_app_record(client: &[u8], server: &[u8], keylog: &str) -> Option<Vec<u8>> {
    let (client_random, server_random, suite) = hellos(client, server);
    let recs = records(client);
    match suite {
        0x1301..=0x1303 => {
            let secret = secret_for(keylog, "CLIENT_TRAFFIC_SECRET_0", &client_random)?;
            let (key_len, sha384) = match suite {
                0x1301 => (16, false),
                0x1302 => (32, true),
                _ => (32, false),
            };
            let (key, iv) = if sha384 {
                (
                    hkdf_expand_label::<Sha384>(&secret, "key", key_len),
                    hkdf_expand_label::<Sha384>(&secret, "iv", 12),
                )
            } else {
                (
                    hkdf_expand_label::<Sha256>(&secret, "key", key_len),
                    hkdf_expand_label::<Sha256>(&secret, "iv", 12),
                )
            };
            // The first encrypted record is the Finished (handshake keys); the second is data.
            let (ty, version, frag) = recs.iter().filter(|r| r.0 == 23).nth(1)?;
            let mut aad = vec![*ty];
            aad.extend_from_slice(&version.to_be_bytes());
            aad.extend_from_slice(&(frag.len() as u16).to_be_bytes());
            let mut inner = aead_open(suite, &key, &iv, &aad, frag); // sequence number 0
            while inner.last() == Some(&0) {
                inner.pop();
            }
            assert_eq!(inner.pop(), Some(23), "inner content type");
            Some(inner)
        }
        0xc02b | 0xc02c | 0xcca9 => {
            let master = secret_for(keylog, "CLIENT_RANDOM", &client_random)?;
            let seed = [server_random, client_random].concat();
            let (key_len, iv_len) = match suite {
                0xc02b => (16, 4),
                0xc02c => (32, 4),
                _ => (32, 12),
            };
            let block = if suite == 0xc02c {
                prf::<Sha384>(&master, b"key expansion", &seed, 2 * (key_len + iv_len))
            } else {
                prf::<Sha256>(&master, b"key expansion", &seed, 2 * (key_len + iv_len))
            };
            let key = &block[..key_len];
            let iv = &block[2 * key_len..2 * key_len + iv_len];
            let (ty, version, frag) = recs.iter().find(|r| r.0 == 23)?;
            let seq = 1u64; // after the encrypted Finished
            let (nonce, ct) = if suite == 0xcca9 {
                let mut n = iv.to_vec();
                for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
                    *b ^= s;
                }
                (n, &frag[..])
            } else {
                ([iv, &frag[..8]].concat(), &frag[8..])
            };
            let mut aad = seq.to_be_bytes().to_vec();
            aad.push(*ty);
            aad.extend_from_slice(&version.to_be_bytes());
            aad.extend_from_slice(&((ct.len() - 16) as u16).to_be_bytes());
            Some(aead_open(suite, key, &nonce, &aad, ct))
        }
        0x002f | 0x003d => {
            let master = secret_for(keylog, "CLIENT_RANDOM", &client_random)?;
            let etm = contains(&records(server)[0].2, &[0x00, 0x16, 0x00, 0x00]);
            let (mac_len, key_len) = if suite == 0x002f { (20, 16) } else { (32, 32) };
            let seed = [server_random, client_random].concat();
            let block = prf::<Sha256>(&master, b"key expansion", &seed, 2 * (mac_len + key_len));
            let mac_key = &block[..mac_len];
            let key = &block[2 * mac_len..2 * mac_len + key_len];
            let (ty, version, frag) = recs.iter().find(|r| r.0 == 23)?;
            let header = |len: usize| {
                let mut h = 1u64.to_be_bytes().to_vec(); // sequence number 1
                h.push(*ty);
                h.extend_from_slice(&version.to_be_bytes());
                h.extend_from_slice(&(len as u16).to_be_bytes());
                h
            };
            let mac = |data: &[u8]| {
                if mac_len == 20 {
                    hmac::<sha1::Sha1>(mac_key, &[&header(data.len()), data])
                } else {
                    hmac::<Sha256>(mac_key, &[&header(data.len()), data])
                }
            };
            let enc = if etm {
                let (enc, tag) = frag.split_at(frag.len() - mac_len);
                assert_eq!(mac(enc), tag, "encrypt-then-MAC tag");
                enc
            } else {
                &frag[..]
            };
            let (iv, ct) = enc.split_at(16);
            let mut buf = ct.to_vec();
            let plain = if key_len == 16 {
                cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                    .unwrap()
                    .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut buf)
                    .unwrap()
                    .to_vec()
            } else {
                cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                    .unwrap()
                    .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut buf)
                    .unwrap()
                    .to_vec()
            };
            let pad = usize::from(*plain.last().unwrap());
            let body = &plain[..plain.len() - pad - 1];
            assert!(plain[plain.len() - pad - 1..]
                .iter()
                .all(|&b| usize::from(b) == pad));
            if etm {
                Some(body.to_vec())
            } else {
                let (data, tag) = body.split_at(body.len() - mac_len);
                assert_eq!(mac(data), tag, "MAC-then-encrypt tag");
                Some(data.to_vec())
            }
        }
        other => panic!("suite {other:#06x}"),
    }
}

/// The TCP streams of a capture's packets, keyed by (client, server).
fn streams_of(packets: &[ReadPacket]) -> Vec<(std::net::SocketAddr, Streams)> {
    let tcp: Vec<TcpSeen> = packets
        .iter()
        .filter_map(|p| match dissect(p.linktype, &p.data) {
            Seen::Tcp(t) => Some(t),
            _ => None,
        })
        .collect();
    tcp_streams(&tcp)
        .into_iter()
        .filter(|(_, s)| !s.client_to_server.is_empty())
        .map(|((c, _), s)| (c, s))
        .collect()
}

fn fixture_set() -> Vec<(&'static str, TlsFixture)> {
    scenario::tls_fixture_set().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

#[test]
fn fixtures_are_valid_captures_of_well_formed_records() {
    let set = fixture_set();
    assert_eq!(
        set.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        TLS_FIXTURE_NAMES
    );
    for (name, f) in &set {
        for embed in [false, true] {
            let mut bytes = Vec::new();
            f.write_pcapng(&mut bytes, embed).unwrap();
            let sections = read_pcapng(&bytes);
            assert_eq!(sections.len(), 1);
            let secrets: Vec<_> = sections[0].secrets.clone();
            if embed {
                assert_eq!(
                    secrets,
                    vec![(0x544c_534b, f.keylog.as_bytes().to_vec())],
                    "{name}"
                );
            } else {
                assert!(secrets.is_empty());
            }
            let packets: Vec<ReadPacket> = sections[0]
                .packets
                .iter()
                .map(|(_, p, _)| p.clone())
                .collect();
            assert_eq!(packets.len(), f.frames.len());
            let streams = streams_of(&packets);
            assert_eq!(streams.len(), f.connections.len(), "{name}");
            for (conn, (client, s)) in f.connections.iter().zip(&streams) {
                assert_eq!(conn.client, *client);
                assert!(!s.gap);
                assert_eq!(s.client_to_server, conn.client_tls, "{name}");
                assert_eq!(s.server_to_client, conn.server_tls, "{name}");
                let c = records(&s.client_to_server);
                let sv = records(&s.server_to_client);
                assert_eq!(c[0].0, 22);
                assert_eq!(sv[0].0, 22);
                assert!(c.iter().any(|r| r.0 == 23) && sv.iter().any(|r| r.0 == 23));
            }
        }
        let mut pcap = Vec::new();
        f.write_pcap(&mut pcap).unwrap();
        assert_eq!(read_pcap(&pcap).1.len(), f.frames.len());
    }
}

#[test]
fn key_logs_are_well_formed_and_name_their_connections() {
    for (name, f) in fixture_set() {
        let lines = keylog_lines(&f.keylog);
        for conn in &f.connections {
            let own = keylog_lines(&conn.keylog);
            assert!(!own.is_empty(), "{name}");
            assert!(
                own.iter().all(|(_, r, _)| r == &conn.client_random),
                "{name}"
            );
            let expected = match f.version {
                TlsVersion::V13 => 5,
                TlsVersion::V12 => 1,
            };
            assert_eq!(own.len(), expected, "{name}");
            let present = lines.iter().any(|(_, r, _)| r == &conn.client_random);
            assert_eq!(present, conn.key_logged, "{name}");
        }
        assert_eq!(
            f.connections.iter().filter(|c| !c.key_logged).count(),
            usize::from(name.contains("missing")),
            "{name}"
        );
    }
}

#[test]
fn records_decrypt_with_the_key_log_alone() {
    let mut decrypted = 0;
    for (name, f) in fixture_set() {
        for conn in &f.connections {
            let plain = first_client_app_record(&conn.client_tls, &conn.server_tls, &f.keylog);
            match plain {
                Some(p) => {
                    assert!(conn.key_logged, "{name}");
                    assert!(!p.is_empty());
                    assert!(conn.client_plaintext.starts_with(&p), "{name}");
                    decrypted += 1;
                }
                None => assert!(!conn.key_logged, "{name}"),
            }
            // The connection's own lines always work, logged or not.
            let own = first_client_app_record(&conn.client_tls, &conn.server_tls, &conn.keylog);
            assert!(own.is_some(), "{name}");
        }
    }
    println!("decrypted the first client record of {decrypted} connections");
    assert_eq!(decrypted, 14);
}

#[test]
fn every_suite_and_version_negotiates_what_was_asked() {
    let req = b"GET /?imei=356938035643809 HTTP/1.1\r\nHost: h.example\r\n\r\n".to_vec();
    let resp = b"HTTP/1.1 204 No Content\r\n\r\n".to_vec();
    for (v, s) in [
        (TlsVersion::V13, TlsSuite::Aes128Gcm),
        (TlsVersion::V13, TlsSuite::Aes256Gcm),
        (TlsVersion::V13, TlsSuite::Chacha20Poly1305),
        (TlsVersion::V12, TlsSuite::Aes128Gcm),
        (TlsVersion::V12, TlsSuite::Aes256Gcm),
        (TlsVersion::V12, TlsSuite::Chacha20Poly1305),
        (TlsVersion::V12, TlsSuite::Aes128CbcSha),
        (TlsVersion::V12, TlsSuite::Aes256CbcSha256),
    ] {
        let f = tls_http1_fixture(
            v,
            s,
            "h.example",
            std::slice::from_ref(&req),
            std::slice::from_ref(&resp),
        )
        .unwrap();
        let c = &f.connections[0];
        let (_, _, suite) = hellos(&c.client_tls, &c.server_tls);
        assert_eq!(Some(suite), s.code(v), "{v:?} {s:?}");
        assert!(contains(&c.client_tls, b"h.example"), "SNI");
        let plain = first_client_app_record(&c.client_tls, &c.server_tls, &f.keylog).unwrap();
        assert_eq!(plain, req, "{v:?} {s:?}");
        assert_eq!(c.server_plaintext, resp);
    }
    assert!(matches!(
        tls_http1_fixture(TlsVersion::V13, TlsSuite::Aes128CbcSha, "h", &[], &[]),
        Err(FixtureError::Unsupported(_))
    ));
    assert!(tls_http1_fixture(
        TlsVersion::V13,
        TlsSuite::Aes128Gcm,
        "not a name!",
        &[],
        &[]
    )
    .is_err());
}

#[test]
fn resumption_and_key_update_happen() {
    let set = fixture_set();
    let get = |n: &str| &set.iter().find(|(name, _)| *name == n).unwrap().1;
    let f = get("tls13-resumption-keyupdate");
    assert_eq!(f.connections.len(), 2);
    assert!(!f.connections[0].resumed && f.connections[1].resumed);
    assert!(f.connections.iter().all(|c| c.key_updates == 1));
    // The resuming ClientHello carries pre_shared_key (41), the last extension.
    let ch = &records(&f.connections[1].client_tls)[0].2;
    assert!(contains(ch, &[0x00, 0x29]));
    // Both sides sent more encrypted records after the KeyUpdate than without it.
    let plain = get("tls13-aes128gcm-http1");
    let n = |c: &TlsConnection| records(&c.server_tls).iter().filter(|r| r.0 == 23).count();
    assert!(n(&f.connections[0]) > n(&plain.connections[0]));

    for name in ["tls12-resumption", "tls12-cbc-resumption-missing-first-key"] {
        let f = get(name);
        assert!(f.connections[1].resumed, "{name}");
        // Abbreviated handshake: ServerHello, then ChangeCipherSpec at once (no certificate or
        // ServerHelloDone).
        let sv = records(&f.connections[1].server_tls);
        assert_eq!((sv[0].0, sv[0].2[0]), (22, 2));
        assert_eq!(sv[1].0, 20, "{name}");
        let sid = |c: &TlsConnection| {
            let sh = records(&c.server_tls)[0].2.clone();
            sh[39..39 + usize::from(sh[38])].to_vec()
        };
        assert_eq!(sid(&f.connections[0]), sid(&f.connections[1]), "{name}");
    }
}

#[test]
fn http2_fixtures_carry_continuation_padding_and_hpack() {
    let set = fixture_set();
    let f = &set
        .iter()
        .find(|(n, _)| *n == "tls13-h2-continuation-padding-interleaved")
        .unwrap()
        .1;
    assert_eq!(f.alpn.as_deref(), Some("h2"));
    let c = &f.connections[0];
    let stream = c.client_plaintext.strip_prefix(h2_frames::PREFACE).unwrap();
    let mut frames = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        let id = u32::from_be_bytes([rest[5], rest[6], rest[7], rest[8]]);
        frames.push((rest[3], rest[4], id, rest[9..9 + len].to_vec()));
        rest = &rest[9 + len..];
    }
    assert!(frames.iter().any(|f| f.0 == frame_type::CONTINUATION));
    assert!(frames
        .iter()
        .filter(|f| f.0 == frame_type::DATA)
        .all(|f| f.1 & h2_frames::flags::PADDED != 0));
    // DATA of stream 5 is interleaved with DATA of another stream.
    let data_ids: Vec<u32> = frames
        .iter()
        .filter(|f| f.0 == frame_type::DATA)
        .map(|f| f.2)
        .collect();
    let first5 = data_ids.iter().position(|&i| i == 5).unwrap();
    let last5 = data_ids.iter().rposition(|&i| i == 5).unwrap();
    assert!(data_ids[first5..last5].iter().any(|&i| i != 5));
    // The header blocks decode with an independent HPACK decoder.
    let mut dec = loona_hpack::Decoder::new();
    let mut block = Vec::new();
    let mut names = Vec::new();
    for (ty, fl, _, payload) in &frames {
        let payload = match *ty {
            frame_type::HEADERS if fl & h2_frames::flags::PADDED != 0 => {
                let pad = usize::from(payload[0]);
                payload[1..payload.len() - pad].to_vec()
            }
            frame_type::HEADERS | frame_type::CONTINUATION => payload.clone(),
            _ => continue,
        };
        block.extend_from_slice(&payload);
        if fl & h2_frames::flags::END_HEADERS != 0 {
            for (n, v) in dec.decode(&block).unwrap() {
                names.push((String::from_utf8(n).unwrap(), v));
            }
            block.clear();
        }
    }
    assert!(names.contains(&(
        "x-device-id".to_owned(),
        scenario::IMEI_1.as_bytes().to_vec()
    )));
    assert_eq!(names.iter().filter(|(n, _)| n == ":method").count(), 3);
}

#[test]
fn fixtures_are_deterministic() {
    let req = H2Request::new("GET", "h.example", "/a").header("x-imei", scenario::IMEI_1);
    let make = || {
        tls_h2_fixture_with(
            &TlsOptions {
                resume: true,
                key_update: true,
                h2_framing: H2Framing::default(),
                ..TlsOptions::default()
            },
            TlsVersion::V13,
            TlsSuite::Chacha20Poly1305,
            "h.example",
            &[(req.clone(), H2Response::json_ok())],
        )
        .unwrap()
    };
    let (a, b) = (make(), make());
    assert_eq!(a, b);
    let other = tls_h2_fixture_with(
        &TlsOptions {
            seed: 99,
            ..TlsOptions::default()
        },
        TlsVersion::V13,
        TlsSuite::Chacha20Poly1305,
        "h.example",
        &[(req, H2Response::json_ok())],
    )
    .unwrap();
    assert_ne!(
        a.connections[0].client_random,
        other.connections[0].client_random
    );
}

// ---------------------------------------------------------------------------------------------
// The TLS sample.

#[test]
fn tls_sample_decrypts_and_carries_the_sample_hosts() {
    let mut pcap = Vec::new();
    let mut keys = Vec::new();
    scenario::write_tls_sample_pcapng(&mut pcap, &mut keys).unwrap();
    let keylog = String::from_utf8(keys).unwrap();
    assert!(!keylog_lines(&keylog).is_empty());
    let mut dsb = Vec::new();
    scenario::write_tls_sample_dsb_pcapng(&mut dsb).unwrap();
    let with_secrets = read_pcapng(&dsb);
    assert_eq!(
        with_secrets[0].secrets,
        vec![(0x544c_534b, keylog.as_bytes().to_vec())]
    );

    let sections = read_pcapng(&pcap);
    let packets: Vec<ReadPacket> = sections[0]
        .packets
        .iter()
        .map(|(_, p, _)| p.clone())
        .collect();
    assert_eq!(packets.len(), with_secrets[0].packets.len());
    let streams = streams_of(&packets);
    let mut hosts = BTreeSet::new();
    let mut h2 = 0;
    for (_, s) in &streams {
        let first = records(&s.client_to_server)[0].2.clone();
        for (host, _) in scenario::tls_sample_expectations() {
            if contains(&first, host.as_bytes()) {
                hosts.insert(host);
            }
        }
        let plain = first_client_app_record(&s.client_to_server, &s.server_to_client, &keylog)
            .expect("every connection's keys are logged");
        if plain.starts_with(h2_frames::PREFACE) {
            h2 += 1;
        } else {
            assert!(plain.starts_with(b"GET ") || plain.starts_with(b"POST "));
        }
    }
    println!("{} TLS connections, {h2} of them HTTP/2", streams.len());
    assert_eq!(streams.len(), 10, "nine flows, one resumed");
    assert_eq!(h2, 5);
    let expected: BTreeSet<&str> = scenario::tls_sample_expectations()
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(hosts, expected);
    let mut again = Vec::new();
    scenario::write_tls_sample_pcapng(&mut again, Vec::new()).unwrap();
    assert!(again == pcap, "deterministic");
}

// ---------------------------------------------------------------------------------------------
// The benchmark.

#[test]
fn tls_bench_stays_under_target_and_decrypts() {
    let target = 3 << 20;
    let mut pcap = Vec::new();
    let mut keys = Vec::new();
    let written = scenario::write_tls_bench_pcap(&mut pcap, &mut keys, target).unwrap();
    assert_eq!(written, pcap.len() as u64);
    assert!(written <= target && written > target / 2, "{written}");
    let keylog = String::from_utf8(keys).unwrap();
    let (_, packets) = read_pcap(&pcap);
    let streams = streams_of(&packets);
    assert!(streams.len() >= 3);
    let mut versions = BTreeSet::new();
    for (_, s) in &streams {
        let (_, _, suite) = hellos(&s.client_to_server, &s.server_to_client);
        versions.insert(suite);
        let plain = first_client_app_record(&s.client_to_server, &s.server_to_client, &keylog)
            .expect("keys logged");
        assert!(
            plain.starts_with(h2_frames::PREFACE)
                || plain.starts_with(b"GET ")
                || plain.starts_with(b"POST "),
            "{:?}",
            String::from_utf8_lossy(&plain[..20.min(plain.len())])
        );
    }
    println!("{} connections, suites {versions:x?}", streams.len());
    let mut again = Vec::new();
    scenario::write_tls_bench_pcap(&mut again, Vec::new(), target).unwrap();
    assert!(again == pcap, "deterministic");
    let mut tiny = Vec::new();
    let n = scenario::write_tls_bench_pcap(&mut tiny, Vec::new(), 100).unwrap();
    assert_eq!(n, 24, "only the file header fits");
}
