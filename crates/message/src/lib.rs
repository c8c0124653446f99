//! Turns protocol events and HAR entries into phonehome's source-agnostic Message
#![forbid(unsafe_code)]
#![deny(missing_docs)]
