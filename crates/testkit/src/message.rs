//! Hand-built messages for the decode and detect tests.

use phonehome_model::{Body, Direction, Header, Message, SourceRef, Transport};
use std::sync::Arc;

/// A `POST` request [`Message`] to `url` with `headers` (name, value) and a plain `body`, as from
/// entry 1 of `test.har`: no time, target, host, status or transport details. Tests that need
/// those set the fields (all public) or use struct update syntax.
pub fn request_message(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Message {
    Message {
        time: None,
        source: SourceRef::entry(Arc::from("test.har"), 1),
        direction: Direction::Request,
        transport: Transport::default(),
        method: Some("POST".into()),
        url: url.into(),
        target: String::new(),
        host: None,
        status: None,
        headers: headers.iter().map(|(n, v)| Header::new(*n, *v)).collect(),
        body: Body::plain(body.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_as_documented() {
        let m = request_message("https://a.example/x?q=1", &[("Host", "a.example")], b"k=v");
        assert_eq!(m.method.as_deref(), Some("POST"));
        assert_eq!(m.direction, Direction::Request);
        assert_eq!(m.url, "https://a.example/x?q=1");
        assert_eq!((m.target.as_str(), m.host.as_deref()), ("", None));
        assert_eq!(m.headers, [Header::new("Host", "a.example")]);
        assert_eq!(m.body, Body::plain(b"k=v".to_vec()));
        assert_eq!(m.source, SourceRef::entry(Arc::from("test.har"), 1));
    }
}
