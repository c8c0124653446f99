//! DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message is preceded by a 2-byte length.

use crate::{parse_message, DnsError, DnsMessage};

/// Longest message a TCP frame can hold (the length prefix is 16 bits).
pub const MAX_TCP_MESSAGE_LEN: usize = u16::MAX as usize;

/// Splits one direction of a DNS-over-TCP stream into messages.
///
/// Feed it the stream's bytes in order, in pieces of any size. It holds at most one incomplete
/// frame (2 + [`MAX_TCP_MESSAGE_LEN`] bytes). A frame that is not a valid message gives an `Err`
/// and the stream carries on with the next frame: the length prefix keeps the framing in step.
#[derive(Clone, Debug, Default)]
pub struct DnsTcpStream {
    /// The incomplete frame: its length prefix (once 2 bytes are in) and the message so far.
    pending: Vec<u8>,
}

impl DnsTcpStream {
    /// An empty stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next bytes of the stream and appends one result per complete frame to `out`.
    pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<Result<DnsMessage, DnsError>>) {
        while !data.is_empty() {
            let wanted = match self.frame_len() {
                Some(len) => 2 + len,
                None => 2,
            };
            let take = wanted.saturating_sub(self.pending.len()).min(data.len());
            let (head, rest) = data.split_at(take);
            self.pending.extend_from_slice(head);
            data = rest;
            if let Some(len) = self.frame_len() {
                if self.pending.len() == 2 + len {
                    out.push(
                        self.pending
                            .get(2..)
                            .map_or(Err(DnsError::Truncated { at: 0 }), parse_message),
                    );
                    self.pending.clear();
                }
            }
        }
    }

    /// Bytes held of an incomplete frame (length prefix included); non-zero at the end of a
    /// stream means the last message was cut off.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// The message length from the prefix, once both bytes are in.
    fn frame_len(&self) -> Option<usize> {
        match self.pending.get(..2)? {
            &[hi, lo] => Some(usize::from(u16::from_be_bytes([hi, lo]))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `name` with id `id`, TCP-framed.
    fn framed_query(id: u16, name: &str) -> Vec<u8> {
        let mut msg = id.to_be_bytes().to_vec();
        msg.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        for label in name.split('.') {
            msg.push(label.len() as u8);
            msg.extend_from_slice(label.as_bytes());
        }
        msg.extend_from_slice(&[0, 0, 1, 0, 1]);
        let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&msg);
        framed
    }

    fn names(out: &[Result<DnsMessage, DnsError>]) -> Vec<String> {
        out.iter()
            .map(|r| match r {
                Ok(m) => m.questions[0].name.clone(),
                Err(e) => format!("error: {e}"),
            })
            .collect()
    }

    #[test]
    fn two_messages_in_one_piece_and_byte_by_byte() {
        let mut stream = framed_query(1, "a.example");
        stream.extend(framed_query(2, "b.example"));

        let mut whole = DnsTcpStream::new();
        let mut out = Vec::new();
        whole.feed(&stream, &mut out);
        assert_eq!(names(&out), ["a.example", "b.example"]);
        assert_eq!(whole.buffered(), 0);

        let mut bytes = DnsTcpStream::new();
        let mut out = Vec::new();
        for b in &stream {
            bytes.feed(std::slice::from_ref(b), &mut out);
        }
        assert_eq!(names(&out), ["a.example", "b.example"]);
    }

    #[test]
    fn bad_frame_does_not_break_framing() {
        let mut stream = vec![0, 3, 0xde, 0xad, 0xbe, 0, 0];
        stream.extend(framed_query(7, "ok.example"));
        let mut out = Vec::new();
        DnsTcpStream::new().feed(&stream, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], Err(DnsError::Truncated { at: 0 }));
        assert_eq!(out[1], Err(DnsError::Truncated { at: 0 }));
        assert_eq!(out[2].as_ref().unwrap().questions[0].name, "ok.example");
    }

    #[test]
    fn incomplete_frame_is_held_and_bounded() {
        let mut s = DnsTcpStream::new();
        let mut out = Vec::new();
        // Claims 65535 bytes; only some arrive.
        s.feed(&[0xff, 0xff], &mut out);
        s.feed(&[0u8; 1000], &mut out);
        assert!(out.is_empty());
        assert_eq!(s.buffered(), 1002);
        s.feed(&vec![0u8; 100_000], &mut out);
        // The frame completes at 65537 bytes; the rest starts new zero-length frames.
        assert!(s.buffered() <= 2 + MAX_TCP_MESSAGE_LEN);
        assert!(!out.is_empty());
    }
}
