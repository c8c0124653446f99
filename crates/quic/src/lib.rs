//! QUIC Initial packets.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
