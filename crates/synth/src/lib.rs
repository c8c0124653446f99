//! Generates synthetic captures (pcap/pcapng) and profiles for samples, tests and benchmarks
#![forbid(unsafe_code)]
#![deny(missing_docs)]
