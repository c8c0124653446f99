//! Link, IP, TCP and UDP packet views for phonehome (no state)
#![forbid(unsafe_code)]
#![deny(missing_docs)]
