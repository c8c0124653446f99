//! Destination attribution: registrable domain (organisation, country and AS come later)
#![forbid(unsafe_code)]
#![deny(missing_docs)]
