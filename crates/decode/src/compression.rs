//! Compressed data found inside values, recognised by its magic bytes and undone within the
//! message's remaining byte budget (the codecs themselves live in `phonehome-compress`).

use crate::MAX_ZSTD_WINDOW_LOG;
use phonehome_compress::{decompress, sniff, Codec, DecompressLimits};

/// The outcome of decompressing a value.
#[derive(Debug)]
pub(crate) struct Inflated {
    /// The codec, named as a chain element (`gzip`, `zlib`, `zstd`).
    pub(crate) step: &'static str,
    /// The output; `None` when the stream was corrupt or truncated (then nothing is kept).
    pub(crate) data: Option<Vec<u8>>,
    /// The cap that stopped decompression early, in words; the output up to the cap is kept.
    pub(crate) limited: Option<String>,
}

/// The codec `data` starts with, if any (gzip, zlib or zstd; brotli and raw deflate have no magic).
pub(crate) fn codec_of(data: &[u8]) -> Option<Codec> {
    sniff(data)
}

/// Decompresses `data` as `codec`, keeping at most `max_output` bytes and `max_ratio` × its length.
pub(crate) fn inflate(codec: Codec, data: &[u8], max_output: usize, max_ratio: usize) -> Inflated {
    let limits = DecompressLimits {
        max_output,
        max_ratio,
        zstd_max_window_log: MAX_ZSTD_WINDOW_LOG,
    };
    let out = decompress(codec, data, &limits);
    let keep =
        out.complete || (out.limited.is_some() && out.error.is_none() && !out.data.is_empty());
    Inflated {
        step: codec.name(),
        data: keep.then_some(out.data),
        limited: out.limited,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_zlib_zstd() {
        let gz = gzip(b"imei=356938035643809");
        assert_eq!(codec_of(&gz), Some(Codec::Gzip));
        let out = inflate(Codec::Gzip, &gz, 1 << 20, 1000);
        assert_eq!(out.step, "gzip");
        assert_eq!(out.data.unwrap(), b"imei=356938035643809");

        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"hello zlib").unwrap();
        let z = z.finish().unwrap();
        assert_eq!(codec_of(&z), Some(Codec::Zlib));
        assert_eq!(
            inflate(Codec::Zlib, &z, 1 << 20, 1000).data.unwrap(),
            b"hello zlib"
        );

        let zs = zstd::encode_all(&b"hello zstd"[..], 3).unwrap();
        assert_eq!(codec_of(&zs), Some(Codec::Zstd));
        assert_eq!(
            inflate(Codec::Zstd, &zs, 1 << 20, 1000).data.unwrap(),
            b"hello zstd"
        );
    }

    #[test]
    fn truncated_and_corrupt_are_dropped() {
        let gz = gzip(&[b'a'; 5000]);
        let out = inflate(Codec::Gzip, &gz[..gz.len() / 2], 1 << 20, 1000);
        assert!(out.data.is_none());
        let mut bad = gz.clone();
        bad.truncate(12);
        bad.extend_from_slice(&[0xff; 40]);
        assert!(inflate(Codec::Gzip, &bad, 1 << 20, 1000).data.is_none());
        assert_eq!(codec_of(b"plain text"), None);
    }

    #[test]
    fn bombs_stop_at_the_cap() {
        let gz = gzip(&vec![0u8; 4 << 20]);
        let out = inflate(Codec::Gzip, &gz, 1 << 20, 1_000_000);
        assert!(out.limited.is_some());
        assert_eq!(out.data.map(|d| d.len()), Some(1 << 20));
        let out = inflate(Codec::Gzip, &gz, 64 << 20, 10);
        assert!(out.limited.is_some());
        assert!(out.data.unwrap().len() <= gz.len() * 10);
    }
}
