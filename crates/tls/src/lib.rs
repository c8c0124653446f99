//! Passive TLS decryption from key logs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
