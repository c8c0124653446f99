//! Device profiles and the known-value detector
#![forbid(unsafe_code)]
#![deny(missing_docs)]
