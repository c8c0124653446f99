//! Names learnt from DNS answers, to name the flows that follow them (`name_source: dns`).

use std::collections::HashMap;
use std::net::IpAddr;

/// Most addresses remembered per capture; beyond it new answers are not recorded (the names
/// already learnt stay). One name per address is kept: the latest answer wins.
pub const MAX_DNS_NAMES: usize = 1_000_000;

/// Address → the name the client looked up to get it, from the DNS answers seen so far.
#[derive(Default)]
pub(crate) struct DnsNames {
    names: HashMap<IpAddr, String>,
    /// Whether an answer was dropped because the table was full.
    pub(crate) overflowed: bool,
}

impl DnsNames {
    /// Records that `name` resolved (directly or through CNAMEs) to `addr`.
    pub(crate) fn insert(&mut self, addr: IpAddr, name: &str) {
        if self.names.len() >= MAX_DNS_NAMES && !self.names.contains_key(&addr) {
            self.overflowed = true;
            return;
        }
        self.names
            .insert(addr, name.trim_end_matches('.').to_ascii_lowercase());
    }

    /// The name last resolved to `addr`, if any.
    pub(crate) fn get(&self, addr: &IpAddr) -> Option<&str> {
        self.names.get(addr).map(String::as_str)
    }
}
