//! Sans-I/O HTTP/1.1 stream parser and content decoding
#![forbid(unsafe_code)]
#![deny(missing_docs)]
