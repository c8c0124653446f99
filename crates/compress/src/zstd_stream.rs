//! Zstandard (RFC 8878) through libzstd's streaming decoder, with a window cap.
//!
//! The window cap (`ZSTD_d_windowLogMax`) bounds the decoder's own memory: a frame that asks for a
//! larger window is rejected before anything is allocated for it.

use crate::output::OutputSink;
use crate::{Stop, CHUNK_SIZE, ZSTD_MAX_WINDOW_LOG, ZSTD_MIN_WINDOW_LOG};
use zstd::stream::raw::{DParameter, Decoder, InBuffer, Operation, OutBuffer};

/// Decodes one or more zstd frames (skippable frames included).
pub(crate) fn unzstd(input: &[u8], sink: &mut OutputSink, max_window_log: u32) -> Stop {
    let mut decoder = match Decoder::new() {
        Ok(d) => d,
        Err(e) => {
            return Stop::Corrupt {
                offset: 0,
                reason: format!("cannot create a zstd decoder ({e})"),
            }
        }
    };
    let window_log = max_window_log.clamp(ZSTD_MIN_WINDOW_LOG, ZSTD_MAX_WINDOW_LOG);
    if let Err(e) = decoder.set_parameter(DParameter::WindowLogMax(window_log)) {
        return Stop::Corrupt {
            offset: 0,
            reason: format!("cannot set the zstd window limit ({e})"),
        };
    }
    let mut scratch = vec![0u8; CHUNK_SIZE];
    let mut in_buf = InBuffer::around(input);
    // True between frames: at the start, and after a frame has been fully decoded and flushed.
    let mut at_frame_boundary = true;
    // Input offset just after the last complete frame, once there is one.
    let mut last_frame_end: Option<usize> = None;
    loop {
        let in_before = in_buf.pos();
        let mut out_buf = OutBuffer::around(&mut scratch[..]);
        let result = decoder.run(&mut in_buf, &mut out_buf);
        let produced = out_buf.pos();
        let consumed = in_buf.pos().min(input.len());
        if !sink.push(scratch.get(..produced).unwrap_or_default()) {
            return Stop::Capped { consumed };
        }
        match result {
            Ok(0) => {
                last_frame_end = Some(consumed);
                at_frame_boundary = true;
                if consumed >= input.len() {
                    return Stop::Ended {
                        consumed,
                        error: None,
                    };
                }
            }
            Ok(_) => {
                at_frame_boundary = false;
                if produced == 0 && consumed == in_before {
                    return Stop::Truncated {
                        consumed,
                        what: "zstd frame",
                    };
                }
            }
            Err(e) => {
                return match last_frame_end.filter(|_| at_frame_boundary) {
                    Some(end) => {
                        let extra = input.len().saturating_sub(end);
                        let error = format!("{extra} trailing bytes after the last zstd frame at offset {end} ({e})");
                        Stop::Ended {
                            consumed: end,
                            error: Some(error),
                        }
                    }
                    None => Stop::Corrupt {
                        offset: consumed,
                        reason: format!("invalid zstd data ({e})"),
                    },
                };
            }
        }
    }
}
