//! IP fragment reassembly, the flow table and per-direction TCP reassembly
#![forbid(unsafe_code)]
#![deny(missing_docs)]
