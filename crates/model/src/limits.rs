//! Caps that bound memory and work whatever the input.

use serde::{Deserialize, Serialize};

/// Every cap phonehome applies. Each has a documented default and a command-line flag; hitting one
/// produces a [`crate::Warning`] with code `limit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest message body kept, in bytes (`--max-body`). Default 16 MiB.
    pub max_body: usize,
    /// Deepest chain of nested decodings (`--max-decode-depth`). Default 8.
    pub max_decode_depth: usize,
    /// Most bytes produced by decoding one message, all steps together (`--max-decoded-bytes`).
    /// Default 64 MiB.
    pub max_decoded_bytes: usize,
    /// Largest ratio of decompressed to compressed size (`--max-expansion-ratio`). Default 1000.
    pub max_expansion_ratio: usize,
    /// Largest zstd window accepted, in bytes (`--max-zstd-window`); a frame asking for more is
    /// refused with a warning. Default 8 MiB, what RFC 8878 asks every decoder to support.
    pub max_zstd_window: usize,
    /// Most trial decodings (base64, hex, protobuf… tried on a value) per message
    /// (`--max-decode-trials`). Default 10 000.
    pub max_decode_trials: usize,
    /// Most decoded nodes (parts, leaves, decodings) visited per message (`--max-decode-nodes`).
    /// Default 100 000.
    pub max_decode_nodes: usize,
    /// Most out-of-order bytes buffered per TCP direction (`--max-flow-buffer`). Default 4 MiB.
    pub max_flow_buffer: usize,
    /// Most out-of-order bytes buffered across all flows (`--max-total-buffer`). Default 256 MiB.
    pub max_total_buffer: usize,
    /// Most concurrent flows tracked (`--max-flows`); the oldest idle flow is closed beyond it.
    /// Default 100 000.
    pub max_flows: usize,
    /// Most bytes held for incomplete IPv4/IPv6 fragment sets (`--max-fragment-buffer`). Default 64 MiB.
    pub max_fragment_buffer: usize,
}

impl Limits {
    /// `max_zstd_window` as the power of two zstd decoders take (rounded down; 10 to 31).
    pub fn zstd_window_log(&self) -> u32 {
        let log = usize::BITS - 1 - self.max_zstd_window.max(1).leading_zeros();
        log.clamp(10, 31)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 16 << 20,
            max_decode_depth: 8,
            max_decoded_bytes: 64 << 20,
            max_expansion_ratio: 1000,
            max_zstd_window: 8 << 20,
            max_decode_trials: 10_000,
            max_decode_nodes: 100_000,
            max_flow_buffer: 4 << 20,
            max_total_buffer: 256 << 20,
            max_flows: 100_000,
            max_fragment_buffer: 64 << 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zstd_window_log_rounds_down_and_clamps() {
        let l = |w: usize| {
            Limits {
                max_zstd_window: w,
                ..Limits::default()
            }
            .zstd_window_log()
        };
        assert_eq!(Limits::default().zstd_window_log(), 23);
        assert_eq!(l((8 << 20) + 1), 23);
        assert_eq!(l(16 << 20), 24);
        assert_eq!(l(0), 10);
        assert_eq!(l(usize::MAX), 31);
    }
}
