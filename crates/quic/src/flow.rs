//! One UDP flow's QUIC handshake, as seen by an observer: client Initial packets in, the
//! ClientHello out.

use crate::crypto_buffer::CryptoBuffer;
use crate::frame::crypto_frames;
use crate::keys::{initial_keys, InitialKeys, Side};
use crate::packet::{decrypt, parse_long_header, LongHeader};
use crate::version::{self, PacketType};
use phonehome_tls::{parse_client_hello, ClientHello};

/// Most client Initial packets a flow decrypts (or tries to). A handshake needs one to three
/// (a large post-quantum ClientHello spans two); the rest are retransmissions and ACKs.
pub const MAX_CLIENT_INITIALS: usize = 32;

/// Most connections (sets of Initial keys) followed on one UDP flow: a Retry or a new
/// connection reusing the same addresses and ports starts another.
pub const MAX_CONNECTIONS: usize = 4;

/// Most coalesced packets read from one datagram (RFC 9000 §12.2); a datagram of 1200 bytes
/// rarely holds more than three.
pub const MAX_COALESCED_PACKETS: usize = 8;

/// TLS handshake message type of a ClientHello.
const CLIENT_HELLO: u8 = 1;

/// The Initial-level state of one connection, keyed by the client's first DCID.
#[derive(Debug)]
struct Connection {
    /// Version of the packets these keys are for.
    version: u32,
    /// The DCID the keys were derived from.
    dcid: Vec<u8>,
    /// Client Initial keys.
    keys: InitialKeys,
    /// Largest client Initial packet number decrypted.
    largest_pn: Option<u64>,
    /// The CRYPTO stream so far.
    crypto: CryptoBuffer,
    /// True once the ClientHello was delivered, or can never be (not a ClientHello, unparsable).
    finished: bool,
}

/// One UDP flow carrying QUIC: feeds datagrams, gives back the client's ClientHello.
///
/// Create one per UDP flow (5-tuple) and call [`QuicFlow::datagram`] for each datagram in
/// capture order, both directions. The keys of a connection come from the Destination
/// Connection ID of the client's first Initial packet (RFC 9001 §5.2); when a later client
/// Initial does not decrypt with them but does with keys from its own DCID (after a Retry, or a
/// new connection on the same ports), those become the current connection. A ClientHello that
/// repeats the one just delivered (the client resends it after a Retry) is not delivered again.
///
/// Bounded: at most [`MAX_CLIENT_INITIALS`] client Initials decrypted per flow,
/// [`MAX_CONNECTIONS`] connections, [`MAX_COALESCED_PACKETS`] packets per datagram, and the
/// CRYPTO stream capped at [`crate::MAX_CRYPTO_LEN`].
#[derive(Debug, Default)]
pub struct QuicFlow {
    /// Version of the last long-header packet seen (either direction).
    version: Option<u32>,
    /// The current connection.
    connection: Option<Connection>,
    /// Client Initial packets examined so far.
    initials: usize,
    /// Connections started so far.
    connections: usize,
    /// The last ClientHello message delivered (handshake header included), to drop its repeat.
    last_hello: Vec<u8>,
}

impl QuicFlow {
    /// A flow that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one UDP datagram (`from_client`: true for client→server). Returns the ClientHello
    /// once its CRYPTO data, possibly spread over several Initial packets and datagrams, is
    /// complete; `None` otherwise, and for everything that is not a client Initial.
    pub fn datagram(&mut self, data: &[u8], from_client: bool) -> Option<ClientHello> {
        let mut hello = None;
        let mut rest = data;
        for _ in 0..MAX_COALESCED_PACKETS {
            let Ok(header) = parse_long_header(rest, true) else {
                break;
            };
            if header.version != version::NEGOTIATION {
                self.version = Some(header.version);
            }
            let (packet, after) = rest.split_at(header.len.min(rest.len()));
            if from_client && header.kind == PacketType::Initial {
                if let Some(h) = self.client_initial(packet, &header) {
                    hello = Some(h);
                }
            }
            if header.version == version::NEGOTIATION || header.kind == PacketType::Retry {
                break;
            }
            rest = after;
        }
        hello
    }

    /// Version of the most recent long-header packet (client or server; a server that switched
    /// versions during compatible version negotiation, RFC 9368, shows the new one). `None`
    /// before the first, or when only Version Negotiation packets were seen.
    pub fn version(&self) -> Option<u32> {
        self.version
    }

    /// One client Initial packet (`packet` is exactly the packet's bytes).
    fn client_initial(&mut self, packet: &[u8], header: &LongHeader<'_>) -> Option<ClientHello> {
        if self.initials >= MAX_CLIENT_INITIALS {
            return None;
        }
        self.initials += 1;
        let params = version::params(header.version)?;

        // The current connection's keys first. After compatible version negotiation (RFC 9368)
        // the client's Initials switch version but keep the original DCID as the key input.
        if let Some(conn) = self.connection.as_mut() {
            if conn.version != header.version {
                if let Some(keys) = initial_keys(&params, &conn.dcid, Side::Client) {
                    if let Ok(plain) = decrypt(packet, header, &keys, conn.largest_pn) {
                        conn.version = header.version;
                        conn.keys = keys;
                        return self.accept(plain.packet_number, &plain.payload);
                    }
                }
            } else if let Ok(plain) = decrypt(packet, header, &conn.keys, conn.largest_pn) {
                return self.accept(plain.packet_number, &plain.payload);
            }
            if conn.dcid == header.dcid && conn.version == header.version {
                return None; // damaged, or not ours: nothing else to try
            }
        }
        // Keys from this packet's own DCID: a first Initial, a Retry, or a new connection.
        if self.connections >= MAX_CONNECTIONS {
            return None;
        }
        let keys = initial_keys(&params, header.dcid, Side::Client)?;
        let plain = decrypt(packet, header, &keys, None).ok()?;
        self.connections += 1;
        self.connection = Some(Connection {
            version: header.version,
            dcid: header.dcid.to_vec(),
            keys,
            largest_pn: None,
            crypto: CryptoBuffer::default(),
            finished: false,
        });
        self.accept(plain.packet_number, &plain.payload)
    }

    /// Takes the frames of a decrypted Initial of the current connection.
    fn accept(&mut self, packet_number: u64, payload: &[u8]) -> Option<ClientHello> {
        let conn = self.connection.as_mut()?;
        conn.largest_pn = Some(
            conn.largest_pn
                .map_or(packet_number, |l| l.max(packet_number)),
        );
        if conn.finished {
            return None;
        }
        for frame in crypto_frames(payload) {
            // A frame too far out is dropped; the stream may still complete from the others.
            conn.crypto.insert(frame.offset, frame.data);
        }
        let stream = conn.crypto.contiguous();
        let (&msg_type, rest) = stream.split_first()?;
        if msg_type != CLIENT_HELLO {
            conn.finished = true;
            return None;
        }
        let len = match rest.get(..3)? {
            &[a, b, c] => usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c),
            _ => return None,
        };
        // A message that cannot fit in the capped stream will never complete.
        let Some(end) = len.checked_add(4).filter(|&e| e <= crate::MAX_CRYPTO_LEN) else {
            conn.finished = true;
            return None;
        };
        let message = stream.get(..end)?;
        conn.finished = true;
        if message == self.last_hello.as_slice() {
            return None;
        }
        let hello = parse_client_hello(message.get(4..)?).ok()?;
        self.last_hello = message.to_vec();
        Some(hello)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::{unhex, DCID};
    use crate::keys::{initial_keys, Side};
    use crate::seal::{client_hello, client_initial, crypto_frame, seal};

    /// The unprotected payload of RFC 9001 A.2: one CRYPTO frame with a ClientHello for
    /// example.com offering ALPN "alpn", then 917 bytes of PADDING.
    const RFC_PAYLOAD: &str = "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868\
        04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578\
        616d706c652e636f6dff01000100000a00080006001d00170018001000070005\
        04616c706e000500050100000000003300260024001d00209370b2c9caa47fba\
        baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400\
        0d0010000e0403050306030203080408050806002d00020101001c0002400100\
        3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000\
        75300901100f088394c8f03e51570806048000ffff";

    /// A fixture file of hex lines (after one `#` comment line).
    fn fixture(text: &str) -> Vec<u8> {
        unhex(
            &text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<String>(),
        )
    }

    fn rfc9001() -> Vec<u8> {
        fixture(include_str!("../tests/data/rfc9001_a2_client_initial.hex"))
    }

    fn rfc9369() -> Vec<u8> {
        fixture(include_str!("../tests/data/rfc9369_a2_client_initial.hex"))
    }

    fn rfc_payload() -> Vec<u8> {
        let mut p = unhex(RFC_PAYLOAD);
        p.resize(1162, 0);
        p
    }

    #[test]
    fn rfc9001_a2_header_protection_and_payload() {
        let packet = rfc9001();
        let header = parse_long_header(&packet, true).unwrap();
        let keys = initial_keys(
            &version::params(version::V1).unwrap(),
            header.dcid,
            Side::Client,
        )
        .unwrap();
        let plain = decrypt(&packet, &header, &keys, None).unwrap();
        assert_eq!(plain.packet_number, 2);
        assert_eq!(plain.payload, rfc_payload());
        // The other direction: sealing the RFC's unprotected header and payload gives the RFC's
        // protected packet, so the test helper below builds real packets.
        let unprotected = unhex("c300000001088394c8f03e5157080000449e00000002");
        assert_eq!(seal(&keys, &unprotected, 18, 2, &rfc_payload()), packet);
    }

    #[test]
    fn rfc9001_a2_client_hello() {
        let mut flow = QuicFlow::new();
        let hello = flow.datagram(&rfc9001(), true).expect("a ClientHello");
        assert_eq!(hello.sni.as_deref(), Some("example.com"));
        assert_eq!(hello.alpn, ["alpn"]);
        assert_eq!(flow.version(), Some(version::V1));
        // The same datagram again (a retransmission) delivers nothing new.
        assert!(flow.datagram(&rfc9001(), true).is_none());
    }

    #[test]
    fn rfc9369_a2_client_hello_v2() {
        let mut flow = QuicFlow::new();
        let hello = flow.datagram(&rfc9369(), true).expect("a ClientHello");
        assert_eq!(hello.sni.as_deref(), Some("example.com"));
        assert_eq!(flow.version(), Some(version::V2));
    }

    #[test]
    fn draft29_client_hello() {
        let dcid = unhex(DCID);
        let ch = client_hello("draft.example", &["h3-29"]);
        let packet = client_initial(
            version::DRAFT_29,
            &dcid,
            &dcid,
            0,
            &crypto_frame(0, &ch),
            1162,
        );
        let hello = QuicFlow::new().datagram(&packet, true).unwrap();
        assert_eq!(hello.sni.as_deref(), Some("draft.example"));
        assert_eq!(hello.alpn, ["h3-29"]);
    }

    #[test]
    fn server_datagrams_are_not_decrypted() {
        let mut flow = QuicFlow::new();
        assert!(flow.datagram(&rfc9001(), false).is_none());
        assert_eq!(flow.version(), Some(version::V1));
        // The client's copy still works afterwards.
        assert!(flow.datagram(&rfc9001(), true).is_some());
    }

    #[test]
    fn client_hello_over_two_datagrams_out_of_order() {
        let dcid = unhex("0011223344556677");
        let ch = client_hello("split.example", &["h3"]);
        let (a, rest) = ch.split_at(20);
        let (b, c) = rest.split_at(30);
        let mut second = crypto_frame(50, c);
        second.extend(crypto_frame(20, b));
        let first = crypto_frame(0, a);
        let mut flow = QuicFlow::new();
        // Packet 1 (offsets 20.. and 50..) arrives before packet 0 (offset 0).
        let p1 = client_initial(version::V1, &dcid, &dcid, 1, &second, 1000);
        let p0 = client_initial(version::V1, &dcid, &dcid, 0, &first, 1000);
        assert!(flow.datagram(&p1, true).is_none());
        let hello = flow.datagram(&p0, true).unwrap();
        assert_eq!(hello.sni.as_deref(), Some("split.example"));
    }

    #[test]
    fn later_initials_use_the_server_dcid_but_the_first_keys() {
        // After the server's first Initial the client switches its DCID to the server's SCID,
        // but keeps the keys from its first DCID (RFC 9001 §5.2).
        let first_dcid = unhex("0102030405060708");
        let server_cid = unhex("aabbccdd");
        let ch = client_hello("switch.example", &["h3"]);
        let (a, b) = ch.split_at(40);
        let p0 = client_initial(
            version::V1,
            &first_dcid,
            &first_dcid,
            0,
            &crypto_frame(0, a),
            1162,
        );
        let p1 = client_initial(
            version::V1,
            &first_dcid,
            &server_cid,
            1,
            &crypto_frame(40, b),
            1162,
        );
        let mut flow = QuicFlow::new();
        assert!(flow.datagram(&p0, true).is_none());
        assert_eq!(
            flow.datagram(&p1, true).unwrap().sni.as_deref(),
            Some("switch.example")
        );
    }

    #[test]
    fn compatible_version_negotiation_keeps_the_first_dcid() {
        // The client starts in version 1, the server picks version 2 (RFC 9368); the client's
        // next Initial is version 2, sent to the server's CID, keyed on the original DCID.
        let first_dcid = unhex("0102030405060708");
        let server_cid = unhex("aabbccdd");
        let ch = client_hello("upgrade.example", &["h3"]);
        let (a, b) = ch.split_at(40);
        let p0 = client_initial(
            version::V1,
            &first_dcid,
            &first_dcid,
            0,
            &crypto_frame(0, a),
            1162,
        );
        let p1 = client_initial(
            version::V2,
            &first_dcid,
            &server_cid,
            1,
            &crypto_frame(40, b),
            1162,
        );
        let mut flow = QuicFlow::new();
        assert!(flow.datagram(&p0, true).is_none());
        assert_eq!(flow.version(), Some(version::V1));
        let hello = flow.datagram(&p1, true).unwrap();
        assert_eq!(hello.sni.as_deref(), Some("upgrade.example"));
        assert_eq!(flow.version(), Some(version::V2));
    }

    #[test]
    fn coalesced_packets_are_walked() {
        let dcid = unhex(DCID);
        let ch = client_hello("coalesced.example", &["h3"]);
        // A Handshake packet (type 2) first, then the Initial, then zero padding.
        let mut datagram = vec![0xe0, 0, 0, 0, 1, 0, 0, 0x40, 0x05, 1, 2, 3, 4, 5];
        datagram.extend(client_initial(
            version::V1,
            &dcid,
            &dcid,
            0,
            &crypto_frame(0, &ch),
            300,
        ));
        datagram.extend_from_slice(&[0; 200]);
        let hello = QuicFlow::new().datagram(&datagram, true).unwrap();
        assert_eq!(hello.sni.as_deref(), Some("coalesced.example"));
    }

    #[test]
    fn new_connection_and_retry_on_the_same_flow() {
        let ch1 = client_hello("one.example", &["h3"]);
        let ch2 = client_hello("two.example", &["h3"]);
        let d1 = unhex("1111111111111111");
        let d2 = unhex("2222222222222222");
        let d3 = unhex("3333333333333333");
        let mut flow = QuicFlow::new();
        let p = client_initial(version::V1, &d1, &d1, 0, &crypto_frame(0, &ch1), 1162);
        assert_eq!(
            flow.datagram(&p, true).unwrap().sni.as_deref(),
            Some("one.example")
        );
        // After a Retry the client resends the same ClientHello under a new DCID: not repeated.
        let p = client_initial(version::V1, &d2, &d2, 1, &crypto_frame(0, &ch1), 1162);
        assert!(flow.datagram(&p, true).is_none());
        // A new connection with another ClientHello is delivered.
        let p = client_initial(version::V1, &d3, &d3, 0, &crypto_frame(0, &ch2), 1162);
        assert_eq!(
            flow.datagram(&p, true).unwrap().sni.as_deref(),
            Some("two.example")
        );
    }

    #[test]
    fn far_crypto_offsets_are_dropped_without_harm() {
        let dcid = unhex(DCID);
        let ch = client_hello("far.example", &["h3"]);
        let mut frames = crypto_frame(0x3fff_ffff, b"far away");
        frames.extend(crypto_frame(crate::MAX_CRYPTO_LEN as u64 - 4, b"edge"));
        frames.extend(crypto_frame(0, &ch));
        let p = client_initial(version::V1, &dcid, &dcid, 0, &frames, 1162);
        let hello = QuicFlow::new().datagram(&p, true).unwrap();
        assert_eq!(hello.sni.as_deref(), Some("far.example"));
        // A CRYPTO stream claiming a 16 MiB message is given up at once, nothing allocated.
        let p = client_initial(
            version::V1,
            &dcid,
            &dcid,
            0,
            &crypto_frame(0, &[1, 0xff, 0xff, 0xff]),
            1162,
        );
        let mut flow = QuicFlow::new();
        assert!(flow.datagram(&p, true).is_none());
    }

    #[test]
    fn a_stream_that_is_not_a_client_hello_is_given_up() {
        let dcid = unhex(DCID);
        let mut msg = client_hello("x.example", &[]);
        msg[0] = 2; // ServerHello
        let p = client_initial(version::V1, &dcid, &dcid, 0, &crypto_frame(0, &msg), 1162);
        let mut flow = QuicFlow::new();
        assert!(flow.datagram(&p, true).is_none());
        // Even a later proper ClientHello in the same connection is not taken.
        let ch = client_hello("x.example", &[]);
        let p = client_initial(version::V1, &dcid, &dcid, 1, &crypto_frame(0, &ch), 1162);
        assert!(flow.datagram(&p, true).is_none());
    }

    #[test]
    fn initials_examined_are_bounded() {
        let dcid = unhex(DCID);
        let other = unhex("0909090909090909");
        let mut flow = QuicFlow::new();
        // Initials sealed with keys from another DCID than the one they carry never decrypt.
        let junk = client_initial(version::V1, &other, &dcid, 0, &[1], 1162);
        for _ in 0..MAX_CLIENT_INITIALS {
            assert!(flow.datagram(&junk, true).is_none());
        }
        assert!(flow.datagram(&rfc9001(), true).is_none());
        let mut fresh = QuicFlow::new();
        assert!(fresh.datagram(&rfc9001(), true).is_some());
    }

    #[test]
    fn truncated_and_damaged_datagrams() {
        let packet = rfc9001();
        for len in 0..packet.len() {
            assert!(
                QuicFlow::new().datagram(&packet[..len], true).is_none(),
                "length {len}"
            );
        }
        // Any flipped bit after the first byte breaks the keys, the header or the tag.
        for at in (1..packet.len()).step_by(7) {
            let mut p = packet.clone();
            p[at] ^= 0x10;
            assert!(QuicFlow::new().datagram(&p, true).is_none(), "flip at {at}");
        }
        // An unknown version is not decrypted.
        let mut p = packet.clone();
        p[1..5].copy_from_slice(&0x0a0a_0a0au32.to_be_bytes());
        let mut flow = QuicFlow::new();
        assert!(flow.datagram(&p, true).is_none());
        assert_eq!(flow.version(), None);
    }

    #[test]
    fn garbage_never_panics() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut flow = QuicFlow::new();
        for round in 0..3000 {
            let len = round % 1300;
            let mut data = Vec::with_capacity(len);
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                data.push(state as u8);
            }
            // Make a third of them start like a v1 Initial so the deeper paths run.
            if round % 3 == 0 && len > 7 {
                data[0] = 0xc0 | (data[0] & 0x0f);
                data[1..5].copy_from_slice(&1u32.to_be_bytes());
                data[5] %= 21;
            }
            assert!(flow.datagram(&data, round % 2 == 0).is_none());
            let _ = crate::looks_like_quic(&data);
        }
    }
}
