//! Brotli (RFC 7932) through `brotli-decompressor`'s streaming state machine.
//!
//! Only standard streams are accepted: the non-standard "large window" extension (windows up to
//! 1 GiB) is switched off, so the decoder's ring buffer is at most 16 MiB whatever the input says.

use crate::output::OutputSink;
use crate::{Stop, CHUNK_SIZE};
use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};

/// Decodes one brotli stream.
pub(crate) fn unbrotli(input: &[u8], sink: &mut OutputSink) -> Stop {
    let mut state = BrotliState::new(
        StandardAlloc::default(),
        StandardAlloc::default(),
        StandardAlloc::default(),
    );
    state.large_window = false;
    let mut scratch = vec![0u8; CHUNK_SIZE];
    let mut available_in = input.len();
    let mut input_offset = 0usize;
    let mut total_out = 0usize;
    loop {
        let mut available_out = scratch.len();
        let mut output_offset = 0usize;
        let in_before = input_offset;
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut input_offset,
            input,
            &mut available_out,
            &mut output_offset,
            &mut scratch,
            &mut total_out,
            &mut state,
        );
        let consumed = input_offset.min(input.len());
        if !sink.push(scratch.get(..output_offset).unwrap_or_default()) {
            return Stop::Capped { consumed };
        }
        match result {
            BrotliResult::ResultSuccess => {
                let extra = input.len().saturating_sub(consumed);
                let error = (extra > 0)
                    .then(|| format!("{extra} trailing bytes after the end of the brotli stream at offset {consumed}"));
                return Stop::Ended { consumed, error };
            }
            BrotliResult::NeedsMoreOutput => {
                if output_offset == 0 && input_offset == in_before {
                    // No progress with a whole empty chunk available: never expected, but bounded.
                    return Stop::Corrupt {
                        offset: consumed,
                        reason: "brotli decoder made no progress".into(),
                    };
                }
            }
            BrotliResult::NeedsMoreInput => {
                // The decoder pushes buffered output before asking for input; a full chunk means
                // there may be more of it to collect.
                if output_offset < scratch.len() {
                    return Stop::Truncated {
                        consumed,
                        what: "brotli stream",
                    };
                }
            }
            BrotliResult::ResultFailure => {
                return Stop::Corrupt {
                    offset: consumed,
                    reason: format!("invalid brotli data ({:?})", state.error_code),
                };
            }
        }
    }
}
