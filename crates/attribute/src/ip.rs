//! Server country and autonomous system of an IP address, from vendored registration data.
