//! HTTP/2 written by an independent implementation: the `h2` crate's client and server talk over
//! an in-memory pipe, every octet each side writes is recorded in order, and the recording is
//! parsed and compared with what the `h2` server application received and sent. `h2` uses its own
//! HPACK encoder (dynamic table, Huffman, table size updates), CONTINUATION for large header
//! blocks, flow-controlled DATA, trailers and server push.

mod common;

use bytes::Bytes;
use common::gzip;
use phonehome_http::{Http2Connection, Http2Event, Http2Limits, HttpRequest, HttpResponse};
use phonehome_model::Direction;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

/// Every write of both sides, in order.
type Wire = Arc<Mutex<Vec<(Direction, Vec<u8>)>>>;

/// One end of the pipe, recording what it writes.
struct Tap {
    inner: DuplexStream,
    dir: Direction,
    wire: Wire,
}

impl AsyncRead for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            let dir = self.dir;
            self.wire.lock().unwrap().push((dir, buf[..n].to_vec()));
        }
        polled
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What the server application saw of one request.
#[derive(Debug)]
struct Seen {
    method: String,
    authority: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// The body every response sends, before gzip.
fn response_body(path: &str) -> Vec<u8> {
    format!("{{\"ok\":true,\"path\":\"{path}\"}}")
        .repeat(50)
        .into_bytes()
}

/// A cookie too large for one 16 KiB frame: `h2` sends it in HEADERS + CONTINUATION.
fn big_cookie() -> String {
    (0..3000)
        .map(|i| format!("c{i}=v{i}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs the conversation and returns the wire recording and what the server saw.
async fn conversation() -> (Vec<(Direction, Vec<u8>)>, Vec<Seen>) {
    let wire: Wire = Arc::default();
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    let client_io = Tap {
        inner: client_io,
        dir: Direction::Request,
        wire: wire.clone(),
    };
    let server_io = Tap {
        inner: server_io,
        dir: Direction::Response,
        wire: wire.clone(),
    };

    let server = tokio::spawn(async move {
        // A small table for the client's encoder: it must announce the size in a table size
        // update and evict early.
        let mut conn = h2::server::Builder::new()
            .header_table_size(512)
            .handshake::<_, Bytes>(server_io)
            .await
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut handlers = Vec::new();
        let mut pushed = false;
        while let Some(accepted) = conn.accept().await {
            let (req, mut respond) = accepted.unwrap();
            let push = !pushed;
            pushed = true;
            let seen = seen.clone();
            handlers.push(tokio::spawn(async move {
                let (parts, mut body) = req.into_parts();
                let mut data = Vec::new();
                while let Some(chunk) = body.data().await {
                    let chunk = chunk.unwrap();
                    data.extend_from_slice(&chunk);
                    body.flow_control().release_capacity(chunk.len()).unwrap();
                }
                let path = parts.uri.path_and_query().unwrap().to_string();
                if push {
                    let promised = http::Request::builder()
                        .uri("https://api.example.com/pushed.css")
                        .body(())
                        .unwrap();
                    if let Ok(mut pushed) = respond.push_request(promised) {
                        let resp = http::Response::builder().status(200).body(()).unwrap();
                        let mut s = pushed.send_response(resp, false).unwrap();
                        s.send_data(Bytes::from_static(b"body{}"), true).unwrap();
                    }
                }
                let resp = http::Response::builder()
                    .status(200)
                    .header("content-encoding", "gzip")
                    .header("set-cookie", "session=abc123")
                    .body(())
                    .unwrap();
                let mut send = respond.send_response(resp, false).unwrap();
                send.send_data(Bytes::from(gzip(&response_body(&path))), false)
                    .unwrap();
                let mut trailers = http::HeaderMap::new();
                trailers.insert("x-checksum", "c0ffee".parse().unwrap());
                send.send_trailers(trailers).unwrap();
                seen.lock().unwrap().push(Seen {
                    method: parts.method.to_string(),
                    authority: parts.uri.authority().unwrap().to_string(),
                    path,
                    headers: parts
                        .headers
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                        .collect(),
                    body: data,
                });
            }));
        }
        for h in handlers {
            h.await.unwrap();
        }
        Arc::try_unwrap(seen).unwrap().into_inner().unwrap()
    });

    let (send, conn) = h2::client::Builder::new()
        .enable_push(true)
        .handshake::<_, Bytes>(client_io)
        .await
        .unwrap();
    let client_conn = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut responses = Vec::new();
    for i in 0..6u32 {
        let mut send = send.clone().ready().await.unwrap();
        let post = i % 2 == 1;
        let mut req = http::Request::builder()
            .method(if post { "POST" } else { "GET" })
            .uri(format!(
                "https://api.example.com/v1/report?imei=49015420323751{i}&n={i}"
            ))
            .header("user-agent", "phone/1.0")
            .header("x-device-id", format!("device-{i}"))
            .header("accept-encoding", "gzip");
        if i == 2 {
            req = req.header("cookie", big_cookie());
        }
        let (resp, mut stream) = send.send_request(req.body(()).unwrap(), !post).unwrap();
        if post {
            // Larger than the initial window: flow control splits it across many DATA frames.
            let body = format!("mac=00:11:22:33:44:{i:02}&").repeat(4000);
            stream.reserve_capacity(body.len());
            stream.send_data(Bytes::from(body), true).unwrap();
        }
        responses.push(resp);
    }
    for resp in responses {
        let mut body = resp.await.unwrap().into_body();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.unwrap();
            body.flow_control().release_capacity(chunk.len()).unwrap();
        }
        let _ = body.trailers().await;
    }
    drop(send);
    let seen = server.await.unwrap();
    client_conn.await.unwrap();
    let wire = Arc::try_unwrap(wire).unwrap().into_inner().unwrap();
    (wire, seen)
}

/// Parses the recording, feeding each write in `chunk`-octet pieces (0: whole).
fn parse(wire: &[(Direction, Vec<u8>)], chunk: usize) -> Vec<Http2Event> {
    let mut conn = Http2Connection::new(Http2Limits::default());
    let mut events = Vec::new();
    for (frame, (dir, data)) in wire.iter().enumerate() {
        let frame = frame as u64 + 1;
        if chunk == 0 {
            conn.feed(*dir, data, frame, &mut events);
        } else {
            for part in data.chunks(chunk) {
                conn.feed(*dir, part, frame, &mut events);
            }
        }
    }
    let last = wire.len() as u64;
    conn.end(Direction::Request, last, &mut events);
    conn.end(Direction::Response, last, &mut events);
    events
}

fn header<'a>(h: &'a [phonehome_model::Header], name: &str) -> Option<&'a [u8]> {
    h.iter()
        .find(|f| f.name == name)
        .map(|f| f.value.as_slice())
}

#[test]
fn h2_crate_client_and_server() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (wire, mut seen) = rt.block_on(conversation());
    let events = parse(&wire, 0);
    let mut requests: Vec<&HttpRequest> = Vec::new();
    let mut responses: Vec<&HttpResponse> = Vec::new();
    for e in &events {
        match e {
            Http2Event::Request(r) => requests.push(r),
            Http2Event::Response(r) => responses.push(r),
            other => panic!("unexpected {other:?}"),
        }
    }
    // The server handled requests in its own order; compare by path.
    seen.sort_by(|a, b| a.path.cmp(&b.path));
    requests.sort_by(|a, b| a.line.target.cmp(&b.line.target));
    assert_eq!(
        requests.len(),
        6,
        "the pushed request is not a client request"
    );
    assert_eq!(seen.len(), 6);
    for (ours, theirs) in requests.iter().zip(&seen) {
        assert_eq!(ours.line.method, theirs.method);
        assert_eq!(ours.line.target, theirs.path);
        assert_eq!(ours.line.version, "2");
        assert_eq!(
            header(&ours.headers, ":authority"),
            Some(theirs.authority.as_bytes())
        );
        assert_eq!(header(&ours.headers, ":scheme"), Some(&b"https"[..]));
        assert_eq!(ours.headers[0].name, ":method");
        // Every regular field the server got, with its value, in order.
        let regular: Vec<(String, Vec<u8>)> = ours
            .headers
            .iter()
            .filter(|h| !h.name.starts_with(':'))
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect();
        assert_eq!(regular, theirs.headers, "{}", theirs.path);
        assert_eq!(ours.body.raw, theirs.body);
        assert!(!ours.body.truncated);
    }
    let cookie = header(&requests[2].headers, "cookie").unwrap();
    assert_eq!(cookie, big_cookie().as_bytes());
    assert_eq!(requests[1].body.raw.len(), 4000 * 22);

    assert_eq!(responses.len(), 7);
    let pushed: Vec<_> = responses
        .iter()
        .filter(|r| r.request.as_ref().unwrap().target == "/pushed.css")
        .collect();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].body.raw, b"body{}");
    assert_eq!(pushed[0].request.as_ref().unwrap().method, "GET");
    for r in responses.iter().filter(|r| r.body.raw != b"body{}") {
        let target = &r.request.as_ref().unwrap().target;
        assert_eq!(r.status, 200);
        assert_eq!(r.version, "2");
        assert_eq!(r.body.encodings, ["gzip"]);
        assert_eq!(r.body.content(), response_body(target));
        assert_eq!(
            header(&r.headers, "set-cookie"),
            Some(&b"session=abc123"[..])
        );
        assert_eq!(
            r.headers
                .last()
                .map(|h| (h.name.as_str(), h.value.as_slice())),
            Some(("x-checksum", &b"c0ffee"[..])),
            "trailers come last"
        );
    }
    // h2 did send a CONTINUATION, and a table size update for the 512-octet table.
    let client: Vec<u8> = wire
        .iter()
        .filter(|(d, _)| *d == Direction::Request)
        .flat_map(|(_, b)| b.clone())
        .collect();
    let mut kinds = Vec::new();
    let mut at = 24;
    while at + 9 <= client.len() {
        let len = u32::from_be_bytes([0, client[at], client[at + 1], client[at + 2]]) as usize;
        kinds.push((client[at + 3], client.get(at + 9).copied()));
        at += 9 + len;
    }
    assert!(kinds.iter().any(|k| k.0 == 9), "{kinds:?}");
    assert!(kinds
        .iter()
        .any(|k| k.0 == 1 && k.1.is_some_and(|b| b & 0xe0 == 0x20)));
    // The same octets in other pieces give the same events.
    assert_eq!(parse(&wire, 1), events);
    assert_eq!(parse(&wire, 13), events);
    println!(
        "{} writes, {} requests and {} responses matched h2's view",
        wire.len(),
        requests.len(),
        responses.len()
    );
}
