//! Media sent as a body or part: images, audio and video recognised by their magic bytes at offset
//! 0, with type, size and (for images) dimensions read from their headers.
//!
//! | type | magic | header read |
//! |---|---|---|
//! | `jpeg` | `FF D8 FF` | markers up to the first SOFn (baseline, progressive, …): width, height |
//! | `png` | `89 PNG \r\n 1A \n` | IHDR: width, height, bit depth, colour type |
//! | `gif` | `GIF87a`, `GIF89a` | logical screen: width, height |
//! | `webp` | `RIFF … WEBP` | `VP8 `, `VP8L` or `VP8X` chunk: width, height |
//! | `heic`, `heif`, `avif` | ISO BMFF `ftyp` with brand `heic`, `heix`, `mif1`, `avif`, … | largest `ispe` property: width, height |
//! | `mp4`, `m4a`, `3gp`, `mov` | ISO BMFF `ftyp` with brand `isom`, `mp42`, `M4A `, `3gp4`, `qt  `, … | largest `tkhd`: width, height (video) |
//! | `amr`, `amr-wb` | `#!AMR\n`, `#!AMR-WB\n` | — |
//! | `opus`, `vorbis`, `flac`, `speex`, `ogg` | `OggS` | first packet: codec, channels, sample rate |
//! | `aac` | ADTS sync `FFF1`/`FFF9` | frame header, checked against the next frame: channels, sample rate |
//! | `wav` | `RIFF … WAVE` | `fmt ` chunk: format, channels, sample rate, bits |
//! | `mp3` | `ID3` tag | tag version |
//! | `flac` | `fLaC` | STREAMINFO: sample rate, channels |

use crate::{Confidence, PatternHit};
use std::collections::BTreeMap;

/// Most bytes of a media file's start looked at for its header (JPEG markers, ISO BMFF boxes,
/// RIFF chunks).
pub const MAX_MEDIA_HEADER_BYTES: usize = 1 << 20;

/// Most JPEG marker segments walked before giving up on finding the frame header.
const MAX_JPEG_SEGMENTS: usize = 256;
/// Most RIFF chunks walked looking for `fmt `.
const MAX_RIFF_CHUNKS: usize = 64;
/// Most `ispe`/`tkhd` boxes looked at in an ISO BMFF file.
const MAX_BOXES_SEEN: usize = 64;

/// What a media header said.
struct Media {
    kind: &'static str,
    mime: &'static str,
    class: &'static str,
    width: Option<u32>,
    height: Option<u32>,
    /// The header beyond the magic was parsed.
    parsed: bool,
    extra: BTreeMap<String, String>,
}

impl Media {
    fn new(kind: &'static str, mime: &'static str, class: &'static str) -> Self {
        Media {
            kind,
            mime,
            class,
            width: None,
            height: None,
            parsed: false,
            extra: BTreeMap::new(),
        }
    }

    fn dims(mut self, width: u32, height: u32) -> Self {
        if width > 0 && height > 0 {
            self.width = Some(width);
            self.height = Some(height);
            self.parsed = true;
        }
        self
    }

    fn parsed(mut self) -> Self {
        self.parsed = true;
        self
    }

    fn extra(mut self, key: &str, value: impl ToString) -> Self {
        self.extra.insert(key.to_string(), value.to_string());
        self
    }
}

fn be16(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u32::from(u16::from_be_bytes([*b.first()?, *b.get(1)?])))
}

fn le16(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u32::from(u16::from_le_bytes([*b.first()?, *b.get(1)?])))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

fn le24(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(3)?)?;
    Some(u32::from(*b.first()?) | u32::from(*b.get(1)?) << 8 | u32::from(*b.get(2)?) << 16)
}

/// Recognises media at the start of `data` and describes it as a `media` hit.
pub(crate) fn sniff(data: &[u8]) -> Option<PatternHit> {
    let head = data.get(..MAX_MEDIA_HEADER_BYTES).unwrap_or(data);
    let media = identify(head)?;
    let size = data.len();
    let mut value = format!("{} {}", media.kind.to_ascii_uppercase(), media.class);
    if let (Some(w), Some(h)) = (media.width, media.height) {
        value.push_str(&format!(" {w}×{h}"));
    }
    value.push_str(&format!(", {size} bytes"));
    let (confidence, reason) = if media.parsed {
        (
            Confidence::High,
            format!("{} header parsed ({})", media.kind, media.mime),
        )
    } else {
        (
            Confidence::Medium,
            format!(
                "{} magic bytes ({}); the rest of the header was not read",
                media.kind, media.mime
            ),
        )
    };
    let mut hit = PatternHit::new("media", value, 0..size, confidence, reason)
        .with("type", media.kind)
        .with("mime", media.mime)
        .with("class", media.class)
        .with("size", size.to_string());
    if let (Some(w), Some(h)) = (media.width, media.height) {
        hit = hit
            .with("width", w.to_string())
            .with("height", h.to_string());
    }
    hit.details.extend(media.extra);
    Some(hit)
}

fn identify(d: &[u8]) -> Option<Media> {
    if d.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(jpeg(d));
    }
    if d.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(png(d));
    }
    if d.starts_with(b"GIF87a") || d.starts_with(b"GIF89a") {
        let m = Media::new("gif", "image/gif", "image");
        return Some(match (le16(d, 6), le16(d, 8)) {
            (Some(w), Some(h)) => m.dims(w, h),
            _ => m,
        });
    }
    if d.starts_with(b"RIFF") {
        return match d.get(8..12)? {
            b"WEBP" => Some(webp(d)),
            b"WAVE" => Some(wav(d)),
            _ => None,
        };
    }
    if d.get(4..8) == Some(b"ftyp".as_slice()) {
        return iso_bmff(d);
    }
    if d.starts_with(b"#!AMR-WB\n") {
        return Some(Media::new("amr-wb", "audio/amr-wb", "audio").parsed());
    }
    if d.starts_with(b"#!AMR\n") {
        return Some(Media::new("amr", "audio/amr", "audio").parsed());
    }
    if d.starts_with(b"OggS") {
        return ogg(d);
    }
    if d.starts_with(b"fLaC") {
        return Some(flac(d, 4));
    }
    if d.starts_with(b"ID3") {
        let version = *d.get(3)?;
        let size_ok = d.get(6..10)?.iter().all(|&b| b < 0x80);
        return ((2..=4).contains(&version) && size_ok).then(|| {
            Media::new("mp3", "audio/mpeg", "audio")
                .parsed()
                .extra("id3_version", format!("2.{version}"))
        });
    }
    if d.first() == Some(&0xFF) && d.get(1).is_some_and(|b| b & 0xF6 == 0xF0) {
        return adts(d);
    }
    None
}

/// JPEG: walks the marker segments up to the first start-of-frame.
fn jpeg(d: &[u8]) -> Media {
    let m = Media::new("jpeg", "image/jpeg", "image");
    let mut i = 2usize;
    for _ in 0..MAX_JPEG_SEGMENTS {
        if d.get(i) != Some(&0xFF) {
            break;
        }
        // Fill bytes: any number of 0xFF before the marker code.
        let mut j = i + 1;
        while d.get(j) == Some(&0xFF) {
            j += 1;
        }
        let Some(&marker) = d.get(j) else { break };
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => {
                i = j + 1;
                continue;
            }
            0xD9 | 0xDA => break,
            _ => {}
        }
        let Some(len) = be16(d, j + 1) else { break };
        if len < 2 {
            break;
        }
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            return match (be16(d, j + 4), be16(d, j + 6)) {
                (Some(h), Some(w)) => m.dims(w, h).extra("sof", format!("SOF{}", marker - 0xC0)),
                _ => m,
            };
        }
        i = j + 1 + len as usize;
    }
    m
}

/// PNG: the IHDR chunk, which must come first.
fn png(d: &[u8]) -> Media {
    let m = Media::new("png", "image/png", "image");
    if be32(d, 8) != Some(13) || d.get(12..16) != Some(b"IHDR".as_slice()) {
        return m;
    }
    match (be32(d, 16), be32(d, 20), d.get(24), d.get(25)) {
        (Some(w), Some(h), Some(&depth), Some(&colour)) => m
            .dims(w, h)
            .extra("bit_depth", depth)
            .extra("color_type", colour),
        _ => m,
    }
}

/// WebP: the first chunk (`VP8 `, `VP8L` or `VP8X`).
fn webp(d: &[u8]) -> Media {
    let m = Media::new("webp", "image/webp", "image");
    let data = 20;
    match d.get(12..16) {
        Some(b"VP8 ") => {
            if d.get(data + 3..data + 6) == Some([0x9D, 0x01, 0x2A].as_slice()) {
                if let (Some(w), Some(h)) = (le16(d, data + 6), le16(d, data + 8)) {
                    return m.dims(w & 0x3FFF, h & 0x3FFF).extra("format", "lossy");
                }
            }
            m
        }
        Some(b"VP8L") => {
            if d.get(data) == Some(&0x2F) {
                if let Some(bits) = le32(d, data + 1) {
                    let w = (bits & 0x3FFF) + 1;
                    let h = ((bits >> 14) & 0x3FFF) + 1;
                    return m.dims(w, h).extra("format", "lossless");
                }
            }
            m
        }
        Some(b"VP8X") => match (le24(d, data + 4), le24(d, data + 7)) {
            (Some(w), Some(h)) => m.dims(w + 1, h + 1).extra("format", "extended"),
            _ => m,
        },
        _ => m,
    }
}

/// WAV: the `fmt ` chunk.
fn wav(d: &[u8]) -> Media {
    let m = Media::new("wav", "audio/wav", "audio");
    let mut at = 12usize;
    for _ in 0..MAX_RIFF_CHUNKS {
        if at >= d.len() {
            break;
        }
        let (Some(id), Some(len)) = (d.get(at..at + 4), le32(d, at + 4)) else {
            break;
        };
        if id == b"fmt " {
            return match (
                le16(d, at + 8),
                le16(d, at + 10),
                le32(d, at + 12),
                le16(d, at + 22),
            ) {
                (Some(format), Some(channels), Some(rate), Some(bits)) => m
                    .parsed()
                    .extra("format", format)
                    .extra("channels", channels)
                    .extra("sample_rate", rate)
                    .extra("bits", bits),
                _ => m,
            };
        }
        // Chunks are padded to an even length.
        let Some(next) = at
            .checked_add(8)
            .and_then(|a| a.checked_add(len as usize))
            .and_then(|a| a.checked_add(len as usize & 1))
        else {
            break;
        };
        at = next;
    }
    m
}

/// ISO BMFF (`ftyp` first): HEIF/AVIF images, MP4/M4A/3GP/QuickTime.
fn iso_bmff(d: &[u8]) -> Option<Media> {
    let ftyp_len = be32(d, 0)? as usize;
    if !(16..=4096).contains(&ftyp_len) {
        return None;
    }
    let major = d.get(8..12)?;
    let compatible: Vec<&[u8]> = d
        .get(16..ftyp_len.min(d.len()))
        .unwrap_or_default()
        .chunks_exact(4)
        .collect();
    let has = |brand: &[u8]| major == brand || compatible.contains(&brand);
    let heic_brands: [&[u8]; 6] = [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"];
    let mut media = if has(b"avif") || has(b"avis") {
        Media::new("avif", "image/avif", "image")
    } else if heic_brands.contains(&major)
        || (matches!(major, b"mif1" | b"msf1") && heic_brands.iter().any(|b| has(b)))
    {
        Media::new("heic", "image/heic", "image")
    } else if matches!(major, b"mif1" | b"msf1") {
        Media::new("heif", "image/heif", "image")
    } else if matches!(major, b"M4A " | b"M4B " | b"M4P ") {
        Media::new("m4a", "audio/mp4", "audio")
    } else if major.starts_with(b"3g") {
        Media::new("3gp", "video/3gpp", "video")
    } else if major == b"qt  " {
        Media::new("mov", "video/quicktime", "video")
    } else {
        Media::new("mp4", "video/mp4", "video")
    };
    media = media
        .parsed()
        .extra("brand", String::from_utf8_lossy(major).trim_end());
    let dims = if media.class == "image" {
        largest_box_dims(d, b"ispe", |d, at| {
            Some((be32(d, at + 12)?, be32(d, at + 16)?))
        })
    } else {
        largest_box_dims(d, b"tkhd", |d, at| {
            let version = *d.get(at + 8)?;
            let base = if version == 1 { at + 96 } else { at + 84 };
            Some((be32(d, base)? >> 16, be32(d, base + 4)? >> 16))
        })
    };
    if let Some((w, h)) = dims {
        media = media.dims(w, h);
    }
    Some(media)
}

/// The largest non-zero width × height among boxes of type `fourcc` found in `d` (the box type is
/// at `at + 4`; `read` gets `at`, the box start).
fn largest_box_dims(
    d: &[u8],
    fourcc: &[u8; 4],
    read: impl Fn(&[u8], usize) -> Option<(u32, u32)>,
) -> Option<(u32, u32)> {
    memchr::memmem::find_iter(d, fourcc)
        .take(MAX_BOXES_SEEN)
        .filter_map(|pos| read(d, pos.checked_sub(4)?))
        .filter(|&(w, h)| w > 0 && h > 0)
        .max_by_key(|&(w, h)| u64::from(w) * u64::from(h))
}

/// Ogg: the codec from the first packet of the first page.
fn ogg(d: &[u8]) -> Option<Media> {
    if d.get(4) != Some(&0) {
        return None;
    }
    let segments = usize::from(*d.get(26)?);
    let packet = 27 + segments;
    let body = d.get(packet..).unwrap_or_default();
    Some(if body.starts_with(b"OpusHead") {
        let m = Media::new("opus", "audio/ogg; codecs=opus", "audio");
        match (body.get(9), le32(body, 12)) {
            (Some(&ch), Some(rate)) => m
                .parsed()
                .extra("channels", ch)
                .extra("input_sample_rate", rate),
            _ => m,
        }
    } else if body.starts_with(b"\x01vorbis") {
        let m = Media::new("vorbis", "audio/ogg; codecs=vorbis", "audio");
        match (body.get(11), le32(body, 12)) {
            (Some(&ch), Some(rate)) => m.parsed().extra("channels", ch).extra("sample_rate", rate),
            _ => m,
        }
    } else if body.starts_with(b"\x7fFLAC") {
        Media::new("flac", "audio/ogg; codecs=flac", "audio").parsed()
    } else if body.starts_with(b"Speex   ") {
        Media::new("speex", "audio/ogg; codecs=speex", "audio").parsed()
    } else {
        Media::new("ogg", "application/ogg", "audio")
    })
}

/// FLAC: STREAMINFO right after the `fLaC` marker at `at`.
fn flac(d: &[u8], at: usize) -> Media {
    let m = Media::new("flac", "audio/flac", "audio");
    // Block header (4 bytes), then min/max block size (4), min/max frame size (6), then 20 bits
    // of sample rate and 3 bits of channels − 1.
    let info = at + 4;
    match (d.get(at).map(|b| b & 0x7F), be32(d, info + 10)) {
        (Some(0), Some(bits)) => m
            .parsed()
            .extra("sample_rate", bits >> 12)
            .extra("channels", ((bits >> 9) & 0x7) + 1),
        _ => m,
    }
}

/// AAC in ADTS frames: the first header, checked against the next frame's sync word.
fn adts(d: &[u8]) -> Option<Media> {
    const RATES: [u32; 13] = [
        96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
    ];
    let b2 = *d.get(2)?;
    let b3 = *d.get(3)?;
    let b4 = *d.get(4)?;
    let b5 = *d.get(5)?;
    let rate = *RATES.get(usize::from((b2 >> 2) & 0xF))?;
    let channels = ((b2 & 1) << 2) | (b3 >> 6);
    let frame_len = (usize::from(b3 & 3) << 11) | (usize::from(b4) << 3) | usize::from(b5 >> 5);
    if frame_len < 7 || frame_len > d.len() {
        return None;
    }
    if frame_len < d.len() {
        let next_sync = d.get(frame_len) == Some(&0xFF)
            && d.get(frame_len + 1).is_some_and(|b| b & 0xF6 == 0xF0);
        if !next_sync {
            return None;
        }
    }
    Some(
        Media::new("aac", "audio/aac", "audio")
            .parsed()
            .extra("sample_rate", rate)
            .extra("channels", channels),
    )
}
