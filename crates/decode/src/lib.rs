//! Recursive, bounded decoding of message parts with provenance chains
#![forbid(unsafe_code)]
#![deny(missing_docs)]
