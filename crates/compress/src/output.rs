//! The capped output buffer every decoder appends to.

use crate::DecompressLimits;

/// Decoded bytes, capped at `min(max_output, input length × max_ratio)`.
///
/// Growth is explicit (`reserve_exact`, at most doubling) so the allocation never passes the cap,
/// unlike `Vec`'s own amortised growth, which could reach twice the cap.
#[derive(Debug)]
pub(crate) struct OutputSink {
    data: Vec<u8>,
    cap: usize,
    /// Why the cap is what it is, said when it is hit.
    cap_reason: String,
    limited: Option<String>,
}

impl OutputSink {
    /// A sink for decoding `input_len` compressed bytes within `limits`.
    pub(crate) fn new(input_len: usize, limits: &DecompressLimits) -> Self {
        let ratio_cap = match limits.max_ratio {
            0 => usize::MAX,
            r => input_len.saturating_mul(r),
        };
        let (cap, cap_reason) = if ratio_cap < limits.max_output {
            (
                ratio_cap,
                format!(
                    "expansion ratio cap reached: {input_len} input bytes may give at most {ratio_cap} \
                     bytes (max_ratio {})",
                    limits.max_ratio
                ),
            )
        } else {
            (
                limits.max_output,
                format!("output cap reached: max_output {} bytes", limits.max_output),
            )
        };
        Self {
            data: Vec::new(),
            cap,
            cap_reason,
            limited: None,
        }
    }

    /// Appends `chunk`; returns false (and keeps only what fits) when it would pass the cap.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> bool {
        let room = self.cap.saturating_sub(self.data.len());
        let (fits, keep) = if chunk.len() > room {
            (false, room)
        } else {
            (true, chunk.len())
        };
        let kept = chunk.get(..keep).unwrap_or_default();
        let needed = self.data.len().saturating_add(kept.len());
        if needed > self.data.capacity() {
            let target = self
                .data
                .capacity()
                .saturating_mul(2)
                .max(needed)
                .min(self.cap);
            self.data
                .reserve_exact(target.saturating_sub(self.data.len()));
        }
        self.data.extend_from_slice(kept);
        if !fits && self.limited.is_none() {
            self.limited = Some(self.cap_reason.clone());
        }
        fits
    }

    /// Bytes appended so far.
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// The bytes appended since `start`.
    pub(crate) fn since(&self, start: usize) -> &[u8] {
        self.data.get(start..).unwrap_or_default()
    }

    /// The cap message (if hit) and the bytes.
    pub(crate) fn finish(self) -> (Option<String>, Vec<u8>) {
        (self.limited, self.data)
    }
}
