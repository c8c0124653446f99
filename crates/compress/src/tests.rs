//! Tests with real compressed data made by the reference encoders (flate2, brotli, libzstd).

use super::*;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::{Compress, Compression, Crc, FlushCompress};
use std::io::Write;

const ALL: [Codec; 5] = [
    Codec::Gzip,
    Codec::Zlib,
    Codec::Deflate,
    Codec::Brotli,
    Codec::Zstd,
];

/// A deterministic, moderately compressible payload (JSON-ish text with pseudo-random numbers).
fn payload(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(
            format!(
                "{{\"imei\":\"{}\",\"n\":{}}},",
                x % 1_000_000_000_000_000,
                x % 97
            )
            .as_bytes(),
        );
    }
    out.truncate(len);
    out
}

/// Pseudo-random bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn compress(codec: Codec, data: &[u8]) -> Vec<u8> {
    match codec {
        Codec::Gzip => {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Codec::Zlib => {
            let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Codec::Deflate => {
            let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Codec::Brotli => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                w.write_all(data).unwrap();
            }
            out
        }
        Codec::Zstd => zstd::encode_all(data, 3).unwrap(),
    }
}

fn unlimited() -> DecompressLimits {
    DecompressLimits {
        max_output: 64 << 20,
        max_ratio: 0,
        zstd_max_window_log: 23,
    }
}

#[test]
fn round_trips_every_codec() {
    let data = payload(200_000);
    for codec in ALL {
        let packed = compress(codec, &data);
        assert!(packed.len() < data.len(), "{codec:?} did not compress");
        let out = decompress(codec, &packed, &DecompressLimits::default());
        assert!(out.complete, "{codec:?}: {out:?}");
        assert!(
            out.ended && out.limited.is_none() && out.error.is_none(),
            "{codec:?}"
        );
        assert_eq!(out.consumed, packed.len(), "{codec:?}");
        assert_eq!(out.data, data, "{codec:?}");
    }
}

#[test]
fn round_trips_empty_input_data() {
    for codec in ALL {
        let packed = compress(codec, b"");
        let out = decompress(codec, &packed, &unlimited());
        assert!(out.complete, "{codec:?}: {out:?}");
        assert!(out.data.is_empty());
    }
}

#[test]
fn empty_input_is_truncated_not_a_panic() {
    for codec in ALL {
        let out = decompress(codec, b"", &unlimited());
        assert!(!out.complete && out.error.is_some(), "{codec:?}: {out:?}");
    }
}

#[test]
fn gzip_reads_every_member_and_optional_header_fields() {
    let mut packed = Vec::new();
    let mut e = flate2::GzBuilder::new()
        .filename("device.json")
        .comment("from the phone")
        .extra(vec![1, 2, 3, 4])
        .write(Vec::new(), Compression::fast());
    e.write_all(b"first member;").unwrap();
    packed.extend(e.finish().unwrap());
    packed.extend(compress(Codec::Gzip, b"second member"));
    let out = decompress(Codec::Gzip, &packed, &unlimited());
    assert!(out.complete, "{out:?}");
    assert_eq!(out.data, b"first member;second member");
}

#[test]
fn gzip_trailing_garbage_and_bad_crc_are_reported_after_full_output() {
    let mut packed = compress(Codec::Gzip, b"hello world");
    packed.extend_from_slice(b"\0\0\0junk");
    let out = decompress(Codec::Gzip, &packed, &unlimited());
    assert_eq!(out.data, b"hello world");
    assert!(out.ended && !out.complete);
    assert!(
        out.error.as_deref().unwrap().contains("7 trailing bytes"),
        "{out:?}"
    );

    let mut packed = compress(Codec::Gzip, b"hello world");
    let crc_at = packed.len() - 8;
    packed[crc_at] ^= 0xff;
    let out = decompress(Codec::Gzip, &packed, &unlimited());
    assert_eq!(out.data, b"hello world");
    assert!(!out.complete);
    assert!(
        out.error.as_deref().unwrap().contains("does not match"),
        "{out:?}"
    );
}

#[test]
fn zstd_reads_concatenated_frames_and_reports_trailing_bytes() {
    let mut packed = compress(Codec::Zstd, b"one,");
    packed.extend(compress(Codec::Zstd, b"two"));
    let out = decompress(Codec::Zstd, &packed, &unlimited());
    assert!(out.complete, "{out:?}");
    assert_eq!(out.data, b"one,two");

    packed.extend_from_slice(b"not a frame");
    let out = decompress(Codec::Zstd, &packed, &unlimited());
    assert_eq!(out.data, b"one,two");
    assert!(out.ended && !out.complete, "{out:?}");
    assert!(
        out.error.as_deref().unwrap().contains("trailing"),
        "{out:?}"
    );
}

#[test]
fn exact_fit_is_not_limited() {
    let data = payload(10_000);
    for codec in ALL {
        let packed = compress(codec, &data);
        let limits = DecompressLimits {
            max_output: data.len(),
            ..unlimited()
        };
        let out = decompress(codec, &packed, &limits);
        assert!(out.complete && out.limited.is_none(), "{codec:?}: {out:?}");
        let limits = DecompressLimits {
            max_output: data.len() - 1,
            ..unlimited()
        };
        let out = decompress(codec, &packed, &limits);
        assert!(!out.complete && out.limited.is_some(), "{codec:?}: {out:?}");
        assert_eq!(out.data, data[..data.len() - 1], "{codec:?}");
    }
}

/// 1 GiB of zeros as one gzip member, built without compressing 1 GiB: a full flush makes a
/// byte-aligned deflate segment that does not refer to earlier data, so the segment for 1 MiB of
/// zeros can be repeated 1024 times. The trailer carries the true CRC-32 and size of 1 GiB of zeros.
fn gzip_bomb_1gib() -> Vec<u8> {
    let mib = vec![0u8; 1 << 20];
    let mut c = Compress::new(Compression::best(), false);
    let mut segment = Vec::with_capacity(4096);
    c.compress_vec(&mib, &mut segment, FlushCompress::Full)
        .unwrap();
    assert_eq!(c.total_in(), 1 << 20, "segment must hold the whole MiB");
    let mut end = Vec::with_capacity(64);
    c.compress_vec(&[], &mut end, FlushCompress::Finish)
        .unwrap();

    let mut crc_mib = Crc::new();
    crc_mib.update(&mib);
    let mut crc = Crc::new();
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    for _ in 0..1024 {
        out.extend_from_slice(&segment);
        crc.combine(&crc_mib);
    }
    out.extend_from_slice(&end);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

#[test]
fn gzip_bomb_stops_at_max_output() {
    let bomb = gzip_bomb_1gib();
    assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());
    let limits = DecompressLimits {
        max_output: 8 << 20,
        ..unlimited()
    };
    let out = decompress(Codec::Gzip, &bomb, &limits);
    assert_eq!(out.data.len(), 8 << 20);
    assert!(out.data.iter().all(|&b| b == 0));
    assert!(
        out.data.capacity() <= 8 << 20,
        "allocated {}",
        out.data.capacity()
    );
    assert!(!out.complete && out.error.is_none());
    assert!(
        out.limited.as_deref().unwrap().contains("max_output"),
        "{out:?}"
    );
    assert!(out.consumed < bomb.len());

    // The same bomb through the HTTP path.
    let content = decode_content("gzip", &bomb, &limits);
    assert_eq!(content.chain, ["gzip"]);
    assert!(content.truncated && content.limited && content.problem.is_some());
    assert_eq!(content.data.len(), 8 << 20);
}

/// A zstd frame of `blocks` RLE blocks of 128 KiB zeros each (4 bytes per block), 1 MiB window.
fn zstd_rle_bomb(blocks: usize) -> Vec<u8> {
    // Magic, frame header descriptor 0 (no checksum, no content size), window descriptor:
    // exponent 10 → window log 20 (1 MiB).
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 10 << 3];
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        // Block header: last bit, type 1 (RLE), size 128 KiB; then the repeated byte.
        let header = last | (1 << 1) | ((128 * 1024) << 3);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.push(0);
    }
    out
}

#[test]
fn zstd_bomb_stops_at_max_output() {
    let bomb = zstd_rle_bomb(8192); // 1 GiB
    let check = decompress(Codec::Zstd, &zstd_rle_bomb(3), &unlimited());
    assert!(check.complete, "hand-made frame must be valid: {check:?}");
    assert_eq!(check.data.len(), 3 * 128 * 1024);

    let limits = DecompressLimits {
        max_output: 4 << 20,
        ..unlimited()
    };
    let out = decompress(Codec::Zstd, &bomb, &limits);
    assert_eq!(out.data.len(), 4 << 20);
    assert!(out.limited.is_some() && !out.complete);
}

#[test]
fn brotli_bomb_stops_at_max_output() {
    let zeros = vec![0u8; 16 << 20];
    let mut packed = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut packed, 1 << 16, 1, 24);
        w.write_all(&zeros).unwrap();
    }
    let limits = DecompressLimits {
        max_output: 1 << 20,
        ..unlimited()
    };
    let out = decompress(Codec::Brotli, &packed, &limits);
    assert_eq!(out.data.len(), 1 << 20);
    assert!(out.limited.is_some() && !out.complete);
}

#[test]
fn ratio_cap_applies_to_input_length() {
    let zeros = vec![0u8; 1 << 20];
    for codec in ALL {
        let packed = compress(codec, &zeros);
        let limits = DecompressLimits {
            max_ratio: 10,
            ..unlimited()
        };
        let out = decompress(codec, &packed, &limits);
        assert_eq!(out.data.len(), packed.len() * 10, "{codec:?}");
        let why = out.limited.as_deref().unwrap();
        assert!(why.contains("ratio"), "{codec:?}: {why}");
        // Ratio 0 disables the ratio cap.
        let out = decompress(codec, &packed, &unlimited());
        assert!(out.complete && out.data.len() == zeros.len(), "{codec:?}");
    }
}

#[test]
fn truncated_streams_give_their_prefix() {
    let data = payload(300_000);
    for codec in ALL {
        let packed = compress(codec, &data);
        let n = packed.len();
        for cut in [1, 2, 5, 11, n / 4, n / 2, 3 * n / 4, n - 9, n - 4, n - 1] {
            let out = decompress(codec, &packed[..cut], &unlimited());
            assert!(!out.complete, "{codec:?} cut at {cut}/{n}");
            let err = out
                .error
                .as_deref()
                .unwrap_or_else(|| panic!("{codec:?} cut at {cut}: no error"));
            assert!(out.limited.is_none());
            assert!(
                data.starts_with(&out.data),
                "{codec:?} cut at {cut}: output is not a prefix"
            );
            if cut >= n / 2 {
                assert!(
                    out.data.len() >= data.len() / 4,
                    "{codec:?} cut at {cut}: only {} bytes",
                    out.data.len()
                );
            }
            if codec != Codec::Brotli && codec != Codec::Zstd {
                assert!(err.contains("offset"), "{codec:?}: {err}");
            }
        }
    }
}

#[test]
fn garbage_is_rejected_without_output() {
    for seed in 1..20u64 {
        let junk = noise(5000, seed);
        for codec in [Codec::Gzip, Codec::Zlib, Codec::Zstd] {
            let out = decompress(codec, &junk, &unlimited());
            assert!(
                out.error.is_some() && !out.complete,
                "{codec:?} seed {seed}"
            );
            assert!(out.data.is_empty(), "{codec:?} seed {seed}");
        }
        for codec in [Codec::Deflate, Codec::Brotli] {
            // No magic: random bytes may decode a little before failing, but never completely.
            let out = decompress(codec, &junk, &unlimited());
            assert!(!out.complete, "{codec:?} seed {seed}");
        }
    }
}

#[test]
fn corrupted_streams_never_panic_or_pass_the_cap() {
    let data = payload(3000);
    let limits = DecompressLimits {
        max_output: 4000,
        max_ratio: 100,
        zstd_max_window_log: 23,
    };
    for codec in ALL {
        let packed = compress(codec, &data);
        for i in 0..packed.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = packed.clone();
                bad[i] ^= flip;
                let out = decompress(codec, &bad, &limits);
                assert!(out.data.len() <= 4000, "{codec:?} byte {i}");
                assert!(out.consumed <= bad.len());
            }
        }
    }
}

/// A zstd frame with a window descriptor of `2^window_log` bytes and one raw block "abc".
fn zstd_frame_with_window(window_log: u8) -> Vec<u8> {
    let exponent = window_log - 10;
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, exponent << 3];
    let header: u32 = 1 | (3 << 3); // last block, raw, 3 bytes
    out.extend_from_slice(&header.to_le_bytes()[..3]);
    out.extend_from_slice(b"abc");
    out
}

#[test]
fn zstd_window_above_limit_is_rejected() {
    let ok = decompress(Codec::Zstd, &zstd_frame_with_window(23), &unlimited());
    assert!(ok.complete, "{ok:?}");
    assert_eq!(ok.data, b"abc");

    let big = decompress(Codec::Zstd, &zstd_frame_with_window(24), &unlimited());
    assert!(!big.complete && big.data.is_empty(), "{big:?}");
    assert!(big.error.is_some());

    // A real encoder with a 16 MiB window on 9 MiB of data (not single-segment).
    let data: Vec<u8> = noise(64 << 10, 7).repeat(9 * 16);
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    enc.set_parameter(zstd::stream::raw::CParameter::WindowLog(24))
        .unwrap();
    enc.include_contentsize(false).unwrap();
    for piece in data.chunks(1 << 16) {
        enc.write_all(piece).unwrap();
    }
    let packed = enc.finish().unwrap();
    let out = decompress(Codec::Zstd, &packed, &unlimited());
    assert!(out.error.is_some() && !out.complete, "{:?}", out.error);
    assert!(out.data.is_empty());
    let wider = DecompressLimits {
        zstd_max_window_log: 24,
        ..unlimited()
    };
    let out = decompress(Codec::Zstd, &packed, &wider);
    assert!(out.complete);
    assert_eq!(out.data, data);
}

#[test]
fn sniffs_magic_bytes() {
    assert_eq!(sniff(&compress(Codec::Gzip, b"x")), Some(Codec::Gzip));
    assert_eq!(sniff(&compress(Codec::Zstd, b"x")), Some(Codec::Zstd));
    assert_eq!(sniff(&compress(Codec::Zlib, b"x")), Some(Codec::Zlib));
    for level in [0, 1, 6, 9] {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::new(level));
        e.write_all(b"abc").unwrap();
        assert_eq!(
            sniff(&e.finish().unwrap()),
            Some(Codec::Zlib),
            "level {level}"
        );
    }
    assert_eq!(sniff(&compress(Codec::Brotli, b"x")), None);
    assert_eq!(sniff(b"{\"a\":1}"), None);
    assert_eq!(sniff(b"\x1f\x8b"), None);
    assert_eq!(sniff(b"x"), None);
    assert_eq!(sniff(b"x\x9c"), Some(Codec::Zlib));
    assert_eq!(sniff(b"x\x9d"), None);
    assert_eq!(Codec::Brotli.name(), "br");
}

#[test]
fn content_deflate_accepts_zlib_and_raw() {
    let data = payload(5000);
    for codec in [Codec::Zlib, Codec::Deflate] {
        let out = decode_content(
            "deflate",
            &compress(codec, &data),
            &DecompressLimits::default(),
        );
        assert_eq!(out.chain, ["deflate"], "{codec:?}");
        assert!(
            out.problem.is_none() && !out.truncated,
            "{codec:?}: {:?}",
            out.problem
        );
        assert_eq!(out.data, data, "{codec:?}");
    }
}

#[test]
fn content_stacked_codings_are_undone_last_first() {
    let data = payload(5000);
    let body = compress(Codec::Brotli, &compress(Codec::Gzip, &data));
    let out = decode_content("gzip, br", &body, &DecompressLimits::default());
    assert_eq!(out.chain, ["br", "gzip"]);
    assert!(out.problem.is_none() && !out.truncated);
    assert_eq!(out.data, data);

    let body = compress(Codec::Gzip, &compress(Codec::Zstd, &data));
    let out = decode_content(
        " zstd ,identity, X-GZIP ",
        &body,
        &DecompressLimits::default(),
    );
    assert_eq!(out.chain, ["gzip", "zstd"]);
    assert_eq!(out.data, data);
}

#[test]
fn content_unknown_coding_stops_with_what_was_decoded() {
    let data = b"secret=1".to_vec();
    let gz = compress(Codec::Gzip, &data);
    let out = decode_content("gzip, snappy", &gz, &DecompressLimits::default());
    assert!(out.chain.is_empty());
    assert_eq!(out.data, gz);
    assert!(out.problem.as_deref().unwrap().contains("snappy"));

    let out = decode_content("snappy, gzip", &gz, &DecompressLimits::default());
    assert_eq!(out.chain, ["gzip"]);
    assert_eq!(out.data, data);
    assert!(out.problem.as_deref().unwrap().contains("snappy"));
}

#[test]
fn content_truncated_and_garbage_bodies() {
    let data = payload(50_000);
    let gz = compress(Codec::Gzip, &data);
    let out = decode_content("gzip", &gz[..gz.len() / 2], &DecompressLimits::default());
    assert_eq!(out.chain, ["gzip"]);
    assert!(out.truncated && !out.limited && out.problem.is_some());
    assert!(!out.data.is_empty() && data.starts_with(&out.data));

    let out = decode_content(
        "gzip",
        b"plain text, not gzip",
        &DecompressLimits::default(),
    );
    assert!(out.chain.is_empty() && !out.truncated);
    assert_eq!(out.data, b"plain text, not gzip");
    assert!(out.problem.is_some());

    let out = decode_content("gzip", b"", &DecompressLimits::default());
    assert!(out.chain.is_empty() && out.problem.is_none() && !out.truncated);

    let out = decode_content("identity", b"abc", &DecompressLimits::default());
    assert!(out.chain.is_empty() && out.problem.is_none());
    assert_eq!(out.data, b"abc");
}

#[test]
fn content_too_many_codings_is_bounded() {
    let list = vec!["identity"; 100].join(",");
    let out = decode_content(&list, b"abc", &DecompressLimits::default());
    assert!(out.problem.as_deref().unwrap().contains("more than"));
    assert_eq!(out.data, b"abc");
}

#[test]
fn content_codings_that_were_not_applied_are_skipped() {
    let data = payload(3000);
    let gz = compress(Codec::Gzip, &data);
    // Listed deflate last, but only gzip was applied (a real server mistake).
    let out = decode_content("gzip, deflate", &gz, &DecompressLimits::default());
    assert_eq!(out.chain, ["gzip"]);
    assert_eq!(out.data, data);
    assert!(!out.truncated);
    assert!(
        out.problem
            .as_deref()
            .unwrap()
            .contains("`deflate` skipped"),
        "{:?}",
        out.problem
    );
    // Parameters and the x-deflate alias.
    let zl = compress(Codec::Zlib, &data);
    let out = decode_content("x-deflate;q=1", &zl, &DecompressLimits::default());
    assert_eq!(
        (out.chain.as_slice(), out.problem.as_deref()),
        (&["deflate".to_string()][..], None)
    );
}

#[test]
fn gzip_reserved_flags_are_tolerated() {
    let mut gz = compress(Codec::Gzip, b"tolerated");
    gz[3] |= 0xe0;
    let out = decompress(Codec::Gzip, &gz, &unlimited());
    assert!(out.complete, "{out:?}");
    assert_eq!(out.data, b"tolerated");
}
