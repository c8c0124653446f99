//! Server country and autonomous system of an IP address, from vendored registration data.
//!
//! [`IpDatabase::embedded`] answers offline, from any directory: the data files in `data/ip/` are
//! compiled into the binary with `include_bytes!` and decoded once, on first use (tens of
//! milliseconds). [`IpDatabase::lookup`] is two binary searches and allocates nothing.
//!
//! ```
//! use phonehome_attribute::ip::IpDatabase;
//! let db = IpDatabase::embedded();
//! let info = db.lookup("8.8.8.8".parse().unwrap());
//! assert_eq!((info.country, info.asn), (Some("US"), Some(15169)));
//! assert!(db.lookup("192.168.1.1".parse().unwrap()).is_empty());
//! ```
//!
//! # What the answers mean
//!
//! The country is **where the holder of the address block declares it**, not where the machine
//! stands: it comes from the regional Internet registries' records (and operators' self-published
//! geofeeds), so an anycast address such as 1.1.1.1 has one country although it is served from
//! hundreds of places, and a cloud block registered in one country may be used in another. Report
//! it as the *declared* server country. The AS is the one announcing or registered for the block.
//!
//! Addresses that are not globally routable (see [`is_public`]) are never looked up and give
//! an empty [`IpInfo`]. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) and NAT64 addresses of the
//! well-known prefix (`64:ff9b::a.b.c.d`, as seen on IPv6-only mobile networks) are looked up as
//! the IPv4 address they carry.
//!
//! # Sources
//!
//! * Country: `@ip-location-db/geo-whois-asn-country` (npm; package licence CC0-1.0; built from
//!   NRO/RIR data under CC BY 4.0), geofeed > whois > RIR delegation, per range.
//! * AS number and name: `@ip-location-db/asn` (npm; CC BY 4.0, attribution to RouteViews,
//!   DB-IP and NRO).
//!
//! [`IpDatabase::country_source`] and [`IpDatabase::asn_source`] give the exact package, date and
//! licence to print in reports. `scripts/refresh-ip-data.sh` downloads the packages and rebuilds
//! the files with [`import::build_data_file`]; `data/README.md` says more.
//!
//! # File format
//!
//! `data/ip/country.bin.gz` and `data/ip/asn.bin.gz` are gzip streams. Decompressed, each is:
//!
//! ```text
//! "PHIP"  u8 format version (1)  u8 kind (1 country, 2 AS)
//! str source   str date                         -- e.g. "geo-whois-asn-country 2026-06-17 (CC0-1.0)"
//! varint n, n × str                             -- string table: country codes, or AS names
//! AS files only: varint m, m × (varint asn, varint name index into the string table)
//! ranges IPv4   ranges IPv6
//! ranges := varint count, count × (u8 shift, varint mantissa, varint value)
//! ```
//!
//! `varint` is unsigned LEB128 (up to 128 bits), `str` a varint byte length then UTF-8. A range
//! starts at the previous range's start plus `mantissa << shift` (the first at `0 + …`) and runs
//! up to the next range's start (the last to the end of the address space); starts are strictly
//! increasing and ranges do not overlap. `value` is 0 for "no data", otherwise a 1-based index
//! into the country codes (country files) or into the AS records (AS files). The shift keeps the
//! large, aligned IPv6 steps short (a /48 step is 2 bytes, not 12). Overlapping source rows are
//! resolved when building: the narrower range wins.
//!
//! `data/ip/VERSION.toml` records the packages, versions, data date and licences; it is embedded
//! too ([`EMBEDDED_VERSION_TOML`]).

mod format;
pub mod import;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// Embedded country data file (`data/ip/country.bin.gz`).
const EMBEDDED_COUNTRY: &[u8] = include_bytes!("../../../data/ip/country.bin.gz");
/// Embedded AS data file (`data/ip/asn.bin.gz`).
const EMBEDDED_ASN: &[u8] = include_bytes!("../../../data/ip/asn.bin.gz");
/// The text of `data/ip/VERSION.toml`: packages, versions, data date and licences of the embedded data.
pub const EMBEDDED_VERSION_TOML: &str = include_str!("../../../data/ip/VERSION.toml");

/// Where in a data file an [`IpDataError`] was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorLocation {
    /// The file as a whole (e.g. its gzip stream).
    Whole,
    /// A byte offset in the decompressed data.
    Byte(usize),
    /// A 1-based line of a CSV file.
    Line(usize),
}

/// Why IP data could not be read: which file, where, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpDataError {
    /// The file (`country data`, `geo-whois-asn-country-ipv4.csv`…).
    pub file: String,
    /// Where in it.
    pub location: ErrorLocation,
    /// What is wrong.
    pub reason: String,
}

impl IpDataError {
    pub(crate) fn new(file: &str, location: ErrorLocation, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            location,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for IpDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            ErrorLocation::Whole => write!(f, "{}: {}", self.file, self.reason),
            ErrorLocation::Byte(b) => write!(f, "{}: byte {b}: {}", self.file, self.reason),
            ErrorLocation::Line(l) => write!(f, "{}: line {l}: {}", self.file, self.reason),
        }
    }
}

impl std::error::Error for IpDataError {}

/// What the data says about one address. Every field is `None` for a non-public address or one
/// the data does not cover.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpInfo<'a> {
    /// Declared country of the address block (ISO 3166-1 alpha-2, upper case).
    pub country: Option<&'a str>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// Name of the AS holder, as registered.
    pub asn_org: Option<&'a str>,
}

impl IpInfo<'_> {
    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.asn.is_none() && self.asn_org.is_none()
    }
}

/// Sorted, non-overlapping ranges of both families, each with a value (0 = no data).
#[derive(Default)]
struct RangeTable {
    v4: format::Ranges<u32>,
    v6: format::Ranges<u128>,
}

impl RangeTable {
    /// The value of the range holding `ip` (0 when none does).
    fn find(&self, ip: IpAddr) -> u32 {
        let (n, values) = match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                (self.v4.starts.partition_point(|&s| s <= a), &self.v4.values)
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                (self.v6.starts.partition_point(|&s| s <= a), &self.v6.values)
            }
        };
        n.checked_sub(1)
            .and_then(|i| values.get(i))
            .copied()
            .unwrap_or(0)
    }

    fn len(&self) -> usize {
        self.v4.starts.len() + self.v6.starts.len()
    }
}

/// IP → declared country and AS, loaded from our compact data files (see the module docs).
pub struct IpDatabase {
    country_source: String,
    asn_source: String,
    data_date: String,
    countries: Vec<String>,
    country_ranges: RangeTable,
    /// (AS number, index into `asn_names`).
    asn_records: Vec<(u32, u32)>,
    asn_names: Vec<String>,
    asn_ranges: RangeTable,
    load_error: Option<IpDataError>,
}

impl fmt::Debug for IpDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpDatabase")
            .field("country_source", &self.country_source)
            .field("asn_source", &self.asn_source)
            .field("country_ranges", &self.country_ranges.len())
            .field("asn_ranges", &self.asn_ranges.len())
            .field("load_error", &self.load_error)
            .finish()
    }
}

impl IpDatabase {
    /// The data compiled into this binary, decoded on first use. Should the embedded bytes ever
    /// fail to decode, this is an empty database whose [`load_error`](Self::load_error) says why.
    pub fn embedded() -> &'static IpDatabase {
        static EMBEDDED: OnceLock<IpDatabase> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            Self::from_bytes(EMBEDDED_COUNTRY, EMBEDDED_ASN)
                .unwrap_or_else(|e| Self::empty(Some(e)))
        })
    }

    /// A database that knows nothing (every lookup is empty).
    pub fn empty(load_error: Option<IpDataError>) -> Self {
        Self {
            country_source: "none".to_owned(),
            asn_source: "none".to_owned(),
            data_date: String::new(),
            countries: Vec::new(),
            country_ranges: RangeTable::default(),
            asn_records: Vec::new(),
            asn_names: Vec::new(),
            asn_ranges: RangeTable::default(),
            load_error,
        }
    }

    /// Decodes a country file and an AS file (the contents of `data/ip/country.bin.gz` and
    /// `data/ip/asn.bin.gz`); any damage is an error naming the file, the byte and the reason.
    pub fn from_bytes(country: &[u8], asn: &[u8]) -> Result<IpDatabase, IpDataError> {
        let c = format::decode("country data", country, format::KIND_COUNTRY)?;
        let a = format::decode("AS data", asn, format::KIND_ASN)?;
        let data_date = if c.date == a.date {
            c.date.clone()
        } else {
            format!("{} (country), {} (AS)", c.date, a.date)
        };
        Ok(IpDatabase {
            country_source: c.source,
            asn_source: a.source,
            data_date,
            country_ranges: RangeTable { v4: c.v4, v6: c.v6 },
            countries: c.strings,
            asn_ranges: RangeTable { v4: a.v4, v6: a.v6 },
            asn_records: a.records,
            asn_names: a.strings,
            load_error: None,
        })
    }

    /// Declared country and AS of `ip`; empty for non-public addresses (see [`is_public`]).
    pub fn lookup(&self, ip: IpAddr) -> IpInfo<'_> {
        let ip = canonical(ip);
        if !is_public(ip) {
            return IpInfo::default();
        }
        let country = self
            .country_ranges
            .find(ip)
            .checked_sub(1)
            .and_then(|i| self.countries.get(i as usize))
            .map(String::as_str);
        let record = self
            .asn_ranges
            .find(ip)
            .checked_sub(1)
            .and_then(|i| self.asn_records.get(i as usize));
        IpInfo {
            country,
            asn: record.map(|&(asn, _)| asn),
            asn_org: record
                .and_then(|&(_, name)| self.asn_names.get(name as usize))
                .map(String::as_str),
        }
    }

    /// The country data's package, date and licence (`geo-whois-asn-country 2026-06-17 (CC0-1.0…)`).
    pub fn country_source(&self) -> &str {
        &self.country_source
    }

    /// The AS data's package, date and licence (`ip-location-db asn 2026-06-17 (CC BY 4.0…)`).
    pub fn asn_source(&self) -> &str {
        &self.asn_source
    }

    /// The date of the data (`2026-06-17`), from the package versions; empty when nothing loaded.
    pub fn data_date(&self) -> &str {
        &self.data_date
    }

    /// Why [`embedded`](Self::embedded) is empty, if its data failed to decode.
    pub fn load_error(&self) -> Option<&IpDataError> {
        self.load_error.as_ref()
    }

    /// Number of ranges (IPv4 + IPv6, including "no data" gaps) in the country and AS tables.
    pub fn range_counts(&self) -> (usize, usize) {
        (self.country_ranges.len(), self.asn_ranges.len())
    }
}

/// The IPv4 address carried by an IPv4-mapped (`::ffff:a.b.c.d`) or well-known-prefix NAT64
/// (`64:ff9b::a.b.c.d`) IPv6 address; any other address unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => {
            let s = a.segments();
            if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let o = a.octets();
                IpAddr::V4(Ipv4Addr::new(o[12], o[13], o[14], o[15]))
            } else {
                ip
            }
        }
        v4 => v4,
    }
}

/// True for globally routable unicast addresses: false for private, loopback, link-local,
/// unspecified, multicast, broadcast, CGNAT (100.64/10), documentation (192.0.2/24,
/// 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20), benchmarking, reserved and
/// unique-local (fc00::/7) addresses, and every IPv6 address outside 2000::/3. Mapped and NAT64
/// addresses are judged by the IPv4 address they carry.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => is_public_v6(a),
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let n = u32::from(a);
    // (network, prefix length) blocks that are not globally routable.
    const SPECIAL: [(u32, u32); 14] = [
        (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
        (0x0a00_0000, 8),  // 10.0.0.0/8 private
        (0x6440_0000, 10), // 100.64.0.0/10 CGNAT
        (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
        (0xa9fe_0000, 16), // 169.254.0.0/16 link-local
        (0xac10_0000, 12), // 172.16.0.0/12 private
        (0xc000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
        (0xc000_0200, 24), // 192.0.2.0/24 documentation
        (0xc0a8_0000, 16), // 192.168.0.0/16 private
        (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
        (0xc633_6400, 24), // 198.51.100.0/24 documentation
        (0xcb00_7100, 24), // 203.0.113.0/24 documentation
        (0xe000_0000, 4),  // 224.0.0.0/4 multicast
        (0xf000_0000, 4),  // 240.0.0.0/4 reserved, and 255.255.255.255 broadcast
    ];
    !SPECIAL
        .iter()
        .any(|&(net, len)| n >> (32 - len) == net >> (32 - len))
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let n = u128::from(a);
    let in_block = |net: u128, len: u32| n >> (128 - len) == net >> (128 - len);
    // Global unicast is 2000::/3; ::, ::1, fe80::/10, fc00::/7, ff00::/8 and the rest lie outside.
    in_block(0x2000 << 112, 3)
        && !in_block(0x2001_0db8 << 96, 32) // documentation
        && !in_block(0x3fff << 112, 20) // documentation (RFC 9637)
        && !in_block(0x2001_0002 << 96, 48) // benchmarking
        && !in_block(0x2001_0010 << 96, 28) // ORCHID
        && !in_block(0x2001_0020 << 96, 28) // ORCHIDv2
}
