//! Bounded decompression (gzip, zlib, deflate, brotli, zstd) shared by the protocol and decode stages
#![forbid(unsafe_code)]
#![deny(missing_docs)]
