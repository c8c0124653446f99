//! Streaming readers for pcap, pcapng (optionally gzip-compressed) and HAR files
#![forbid(unsafe_code)]
#![deny(missing_docs)]
