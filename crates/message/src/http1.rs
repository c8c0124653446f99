//! HTTP/1.1 exchanges reassembled from captures → [`Message`].

use crate::{request_url, ConnContext};
use phonehome_http::{HttpRequest, HttpResponse};
use phonehome_model::{Direction, Message, SourceRef, Timestamp, Transport};

fn transport(ctx: &ConnContext, version: &str) -> Transport {
    Transport {
        client: ctx.client,
        server: ctx.server,
        tls: ctx.tls.clone(),
        http: crate::normalize_http_version(version),
        sni: ctx.sni.clone(),
    }
}

fn host_header(headers: &[phonehome_model::Header]) -> Option<String> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("host"))
        .map(|h| String::from_utf8_lossy(&h.value).trim().to_owned())
}

/// The message for a request read from a capture; `time` and `frame` are those of the packet that
/// completed it.
pub fn from_http1_request(
    ctx: &ConnContext,
    req: HttpRequest,
    time: Timestamp,
    frame: u64,
) -> Message {
    let host = host_header(&req.headers);
    let url = request_url(ctx, &req.line.target, host.as_deref());
    let host = host.or_else(|| crate::url_authority(&url).map(str::to_owned));
    Message {
        time: Some(time),
        source: SourceRef::frame(ctx.file.clone(), frame),
        direction: Direction::Request,
        transport: transport(ctx, &req.line.version),
        method: Some(req.line.method),
        url,
        target: req.line.target,
        host,
        status: None,
        headers: req.headers,
        body: req.body,
    }
}

/// The message for a response read from a capture; `time` and `frame` are those of the packet that
/// completed it. Method and URL are those of the request it answers, when that was seen; `host` is
/// the Host the client sent on this connection, when known.
pub fn from_http1_response(
    ctx: &ConnContext,
    resp: HttpResponse,
    host: Option<String>,
    time: Timestamp,
    frame: u64,
) -> Message {
    let (method, target, url, host) = match &resp.request {
        Some(line) => {
            let url = request_url(ctx, &line.target, host.as_deref());
            (Some(line.method.clone()), line.target.clone(), url, host)
        }
        None => (
            None,
            String::new(),
            request_url(ctx, "/", host.as_deref()),
            host,
        ),
    };
    Message {
        time: Some(time),
        source: SourceRef::frame(ctx.file.clone(), frame),
        direction: Direction::Response,
        transport: transport(ctx, &resp.version),
        method,
        url,
        target,
        host,
        status: Some(resp.status),
        headers: resp.headers,
        body: resp.body,
    }
}
