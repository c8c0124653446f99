//! DNS messages.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
