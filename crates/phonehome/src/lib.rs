//! The phonehome pipeline: runs every stage in order over a set of inputs
#![forbid(unsafe_code)]
#![deny(missing_docs)]
