//! A bounds-checked reader over a byte slice, for the TLS wire structures (RFC 8446 §3).
//!
//! Every read checks the remaining length first, so a parser built on it cannot index out of
//! bounds whatever the input.

use crate::TlsError;

/// A forward-only reader over borrowed bytes.
#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// A reader positioned at the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// Whether everything was read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], TlsError> {
        if n > self.rest.len() {
            return Err(TlsError::Truncated { what });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// One byte.
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, TlsError> {
        let b = self.take(1, what)?;
        Ok(b.first().copied().unwrap_or(0))
    }

    /// A big-endian 16-bit integer.
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, TlsError> {
        match *self.take(2, what)? {
            [a, b] => Ok(u16::from_be_bytes([a, b])),
            _ => Err(TlsError::Truncated { what }),
        }
    }

    /// A vector with a one-byte length prefix (`opaque x<0..2^8-1>`).
    pub(crate) fn vec8(&mut self, what: &'static str) -> Result<&'a [u8], TlsError> {
        let n = self.u8(what)?;
        self.take(usize::from(n), what)
    }

    /// A vector with a two-byte length prefix (`opaque x<0..2^16-1>`).
    pub(crate) fn vec16(&mut self, what: &'static str) -> Result<&'a [u8], TlsError> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }

    /// A fixed-size array.
    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], TlsError> {
        let b = self.take(N, what)?;
        <[u8; N]>::try_from(b).map_err(|_| TlsError::Truncated { what })
    }
}

/// Splits a list of big-endian `u16` values; an odd length is malformed.
pub(crate) fn u16_list(data: &[u8], what: &'static str) -> Result<Vec<u16>, TlsError> {
    if !data.len().is_multiple_of(2) {
        return Err(TlsError::BadLength { what });
    }
    Ok(data
        .chunks_exact(2)
        .map(|c| match *c {
            [a, b] => u16::from_be_bytes([a, b]),
            _ => 0,
        })
        .collect())
}
