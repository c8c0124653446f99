//! Output formats: terminal table and JSON Lines
#![forbid(unsafe_code)]
#![deny(missing_docs)]
