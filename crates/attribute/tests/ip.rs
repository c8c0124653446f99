//! IP → declared country and AS: fixed expectations on the embedded data, non-public addresses,
//! the CSV import, and damaged data files (errors, never panics).

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use phonehome_attribute::ip::import::{build_data_file, CsvInput, DataKind};
use phonehome_attribute::ip::{
    is_public, ErrorLocation, IpDatabase, IpInfo, EMBEDDED_VERSION_TOML,
};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::time::Instant;

const COUNTRY_FILE: &[u8] = include_bytes!("../../../data/ip/country.bin.gz");
const ASN_FILE: &[u8] = include_bytes!("../../../data/ip/asn.bin.gz");

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn look(s: &str) -> IpInfo<'static> {
    IpDatabase::embedded().lookup(ip(s))
}

#[test]
fn embedded_data_loads_and_names_its_sources() {
    let db = IpDatabase::embedded();
    assert_eq!(db.load_error(), None);
    let (country_ranges, asn_ranges) = db.range_counts();
    assert!(country_ranges > 100_000, "{country_ranges}");
    assert!(asn_ranges > 100_000, "{asn_ranges}");
    let version: toml::Table = EMBEDDED_VERSION_TOML.parse().unwrap();
    let date = version["date"].as_str().unwrap();
    assert_eq!(db.data_date(), date);
    assert_eq!(date.len(), 10, "{date}");
    assert_eq!(
        db.country_source(),
        version["country"]["source"].as_str().unwrap()
    );
    assert_eq!(db.asn_source(), version["asn"]["source"].as_str().unwrap());
    assert!(db.country_source().starts_with("geo-whois-asn-country "));
    assert!(db.country_source().contains(date));
    assert!(db.asn_source().contains("DB-IP"), "{}", db.asn_source());
}

#[test]
fn well_known_servers() {
    let google = look("8.8.8.8");
    assert_eq!(google.country, Some("US"));
    assert_eq!(google.asn, Some(15169));
    assert_eq!(google.asn_org, Some("Google LLC"));

    // Anycast everywhere, but the block is registered (via APNIC) in Australia: the declared
    // country, not where the machine answering stands.
    let cloudflare = look("1.1.1.1");
    assert_eq!(cloudflare.asn, Some(13335));
    assert_eq!(cloudflare.asn_org, Some("Cloudflare, Inc."));
    assert_eq!(cloudflare.country, Some("AU"));

    let yandex = look("77.88.8.8");
    assert_eq!((yandex.country, yandex.asn), (Some("RU"), Some(13238)));

    let china_mobile = look("111.13.100.91");
    assert_eq!(
        (china_mobile.country, china_mobile.asn),
        (Some("CN"), Some(9808))
    );

    // Alibaba Cloud Singapore.
    let alibaba = look("161.117.97.1");
    assert_eq!(alibaba.country, Some("SG"));
    assert_eq!(alibaba.asn, Some(45102));
    assert!(alibaba.asn_org.unwrap().contains("Alibaba"));
}

#[test]
fn ipv6_and_addresses_that_carry_ipv4() {
    let google6 = look("2001:4860:4860::8888");
    assert_eq!((google6.country, google6.asn), (Some("US"), Some(15169)));
    let google4 = look("8.8.8.8");
    assert_eq!(look("::ffff:8.8.8.8"), google4);
    assert_eq!(look("64:ff9b::808:808"), google4);
    assert!(look("::ffff:10.0.0.1").is_empty());
    assert!(look("64:ff9b::c0a8:101").is_empty());
}

#[test]
fn non_public_addresses_give_nothing() {
    for a in [
        "10.0.0.1",
        "127.0.0.1",
        "fe80::1",
        "192.0.2.1",
        "::1",
        "::",
        "0.0.0.0",
        "0.1.2.3",
        "100.64.0.1",
        "100.127.255.255",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.10.1",
        "192.0.0.9",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.200",
        "224.0.0.251",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "ff02::fb",
        "fc00::1",
        "fd12:3456::1",
        "2001:db8::1",
        "3fff::1",
        "fec0::1",
    ] {
        assert!(!is_public(ip(a)), "{a} is not public");
        assert_eq!(look(a), IpInfo::default(), "{a}");
    }
}

#[test]
fn public_neighbours_of_special_blocks_are_public() {
    for a in [
        "9.255.255.255",
        "11.0.0.1",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.3.1",
        "198.20.0.1",
        "223.255.255.255",
        "2001:db9::1",
        "2a00:1450:4001::1",
        "3ffe::1",
    ] {
        assert!(is_public(ip(a)), "{a} is public");
    }
    assert!(!look("11.0.0.1").is_empty());
}

/// A small country and AS file in the packages' real CSV format, with overlaps and quotes.
fn small_files() -> (Vec<u8>, Vec<u8>) {
    let c4 = "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n3.2.35.0,3.2.35.63,DE\n3.2.35.40,3.2.35.47,TR\n";
    let c6 = "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n2a00:1450::,2a00:1450:ffff:ffff:ffff:ffff:ffff:ffff,IE\n";
    let a4 = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\n";
    let a6 = "2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n";
    let country = build_data_file(
        DataKind::Country,
        "test-country 2000-01-02 (CC0)",
        "2000-01-02",
        CsvInput {
            name: "c4.csv",
            text: c4,
        },
        CsvInput {
            name: "c6.csv",
            text: c6,
        },
    )
    .unwrap();
    assert_eq!(country.stats.rows, 6);
    assert_eq!(country.stats.overlapping_rows, 1);
    let asn = build_data_file(
        DataKind::Asn,
        "test-asn 2000-01-02 (CC BY)",
        "2000-01-02",
        CsvInput {
            name: "a4.csv",
            text: a4,
        },
        CsvInput {
            name: "a6.csv",
            text: a6,
        },
    )
    .unwrap();
    (country.bytes, asn.bytes)
}

#[test]
fn csv_import_round_trips() {
    let (country, asn) = small_files();
    let db = IpDatabase::from_bytes(&country, &asn).unwrap();
    assert_eq!(db.country_source(), "test-country 2000-01-02 (CC0)");
    assert_eq!(db.asn_source(), "test-asn 2000-01-02 (CC BY)");
    assert_eq!(db.data_date(), "2000-01-02");
    let l = |s: &str| db.lookup(ip(s));
    assert_eq!(
        l("1.0.0.1"),
        IpInfo {
            country: Some("AU"),
            asn: Some(13335),
            asn_org: Some("Cloudflare, Inc.")
        }
    );
    assert_eq!(l("1.0.0.255").country, Some("AU"));
    assert_eq!(l("1.0.3.255").country, Some("CN"));
    assert_eq!(l("1.0.4.0"), IpInfo::default());
    assert_eq!(l("0.255.255.255"), IpInfo::default());
    // The narrower, overlapping row wins; the wider one resumes after it.
    assert_eq!(l("3.2.35.39").country, Some("DE"));
    assert_eq!(l("3.2.35.40").country, Some("TR"));
    assert_eq!(l("3.2.35.47").country, Some("TR"));
    assert_eq!(l("3.2.35.48").country, Some("DE"));
    assert_eq!(l("3.2.35.64").country, None);
    assert_eq!(l("2.26.201.1").asn_org, Some("LLC \"SPUTNIK\""));
    assert_eq!(l("2001:200::1").country, Some("JP"));
    assert_eq!(l("2001:201::").country, None);
    assert_eq!(l("2001:4860::8888").asn, Some(15169));
    assert_eq!(l("2001:4861::").asn, None);
    assert_eq!(l("255.255.255.254"), IpInfo::default());
}

#[test]
fn bad_csv_rows_name_file_and_line() {
    let cases = [
        (
            "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.0.255,CN\n",
            "starts at",
            2,
        ),
        (
            "1.0.0.0,1.0.0.255,AU\n\n1.0.1.0,1.0.1.255,cn\n",
            "two letters",
            3,
        ),
        ("1.0.0.0,1.0.0.255\n", "fields", 1),
        ("1.0.0.0,2001::,AU\n", "not an IPv4", 1),
        ("1.0.0,1.0.0.255,AU\n", "not an IP address", 1),
        ("1.0.0.0,\"1.0.0.255,AU\n", "unterminated", 1),
    ];
    for (text, reason, line) in cases {
        let e = build_data_file(
            DataKind::Country,
            "s",
            "d",
            CsvInput {
                name: "bad.csv",
                text,
            },
            CsvInput {
                name: "v6.csv",
                text: "",
            },
        )
        .unwrap_err();
        assert_eq!(e.file, "bad.csv");
        assert!(e.reason.contains(reason), "{e}");
        assert_eq!(e.location, ErrorLocation::Line(line), "{e}");
    }
    let e = build_data_file(
        DataKind::Asn,
        "s",
        "d",
        CsvInput {
            name: "a4.csv",
            text: "1.0.0.0,1.0.0.255,AS13335,Cloudflare\n",
        },
        CsvInput {
            name: "a6.csv",
            text: "",
        },
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with("a4.csv: line 1: AS number"),
        "{e}"
    );
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn damaged_embedded_files_are_errors() {
    // Truncated gzip streams.
    for cut in [0, 1, 10, COUNTRY_FILE.len() / 2, COUNTRY_FILE.len() - 1] {
        let e = IpDatabase::from_bytes(&COUNTRY_FILE[..cut], ASN_FILE).unwrap_err();
        assert_eq!(e.file, "country data", "{e}");
    }
    for cut in [5, ASN_FILE.len() / 3, ASN_FILE.len() - 4] {
        let e = IpDatabase::from_bytes(COUNTRY_FILE, &ASN_FILE[..cut]).unwrap_err();
        assert_eq!(e.file, "AS data", "{e}");
    }
    // A flipped byte inside the compressed stream: gzip's checks (or ours) refuse it.
    let mut flipped = COUNTRY_FILE.to_vec();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    assert!(IpDatabase::from_bytes(&flipped, ASN_FILE).is_err());
    // Files swapped.
    let e = IpDatabase::from_bytes(ASN_FILE, COUNTRY_FILE).unwrap_err();
    assert!(e.reason.contains("AS data, country data expected"), "{e}");
    // Not our format at all, and an empty file.
    let e = IpDatabase::from_bytes(&gzip(b"1.0.0.0,1.0.0.255,AU\n"), ASN_FILE).unwrap_err();
    assert!(e.reason.contains("magic"), "{e}");
    assert!(IpDatabase::from_bytes(b"", b"").is_err());
    // Valid gzip around truncated contents.
    let raw = gunzip(COUNTRY_FILE);
    for cut in [4, 6, raw.len() / 2, raw.len() - 1] {
        let e = IpDatabase::from_bytes(&gzip(&raw[..cut]), ASN_FILE).unwrap_err();
        assert!(matches!(e.location, ErrorLocation::Byte(_)), "{e}");
    }
    // Trailing garbage.
    let mut longer = raw.clone();
    longer.push(0);
    let e = IpDatabase::from_bytes(&gzip(&longer), ASN_FILE).unwrap_err();
    assert!(e.reason.contains("unexpected bytes"), "{e}");
}

#[test]
fn every_truncation_and_byte_change_of_a_small_file_is_handled() {
    let (country, asn) = small_files();
    for (which, file) in [("country", &country), ("asn", &asn)] {
        let raw = gunzip(file);
        let load = |bytes: &[u8]| {
            let gz = gzip(bytes);
            if which == "country" {
                IpDatabase::from_bytes(&gz, &asn)
            } else {
                IpDatabase::from_bytes(&country, &gz)
            }
        };
        assert!(load(&raw).is_ok());
        for cut in 0..raw.len() {
            assert!(load(&raw[..cut]).is_err(), "{which} cut at {cut} must fail");
        }
        // Every byte set to a few values: errors or a database, never a panic; lookups on
        // whatever loads stay in bounds.
        for i in 0..raw.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut bad = raw.clone();
                bad[i] = v;
                if let Ok(db) = load(&bad) {
                    for a in [
                        "1.0.0.1",
                        "3.2.35.44",
                        "2001:200::1",
                        "2001:4860::1",
                        "255.0.0.1",
                    ] {
                        let _ = db.lookup(ip(a));
                    }
                }
            }
        }
    }
}

#[test]
fn empty_database_knows_nothing() {
    let db = IpDatabase::empty(None);
    assert!(db.lookup(ip("8.8.8.8")).is_empty());
    assert_eq!(db.data_date(), "");
    assert_eq!(db.range_counts(), (0, 0));
}

/// Timings: `cargo test --release -p phonehome-attribute --test ip -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_load_and_lookup_speed() {
    let t = Instant::now();
    let embedded = IpDatabase::embedded();
    println!(
        "embedded(), first call: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    assert!(embedded.load_error().is_none());
    let t = Instant::now();
    let db = IpDatabase::from_bytes(COUNTRY_FILE, ASN_FILE).unwrap();
    let load = t.elapsed();
    println!(
        "load: {:.1} ms ({} + {} compressed bytes, {:?} ranges)",
        load.as_secs_f64() * 1e3,
        COUNTRY_FILE.len(),
        ASN_FILE.len(),
        db.range_counts()
    );
    assert!(load.as_secs_f64() < 1.0);

    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const N: usize = 1_000_000;
    let v4: Vec<IpAddr> = (0..N)
        .map(|_| IpAddr::from((next() as u32).to_be_bytes()))
        .collect();
    // IPv6 addresses in the RIRs' main /12 pools (APNIC, ARIN, LACNIC, RIPE NCC), where most
    // lookups find a range with data.
    let v6: Vec<IpAddr> = (0..N)
        .map(|_| {
            let pool: u128 = [0x2400, 0x2600, 0x2800, 0x2a00][(next() % 4) as usize];
            let n = (u128::from(next()) << 64 | u128::from(next())) >> 12 | pool << 112;
            IpAddr::from(n.to_be_bytes())
        })
        .collect();
    for (family, addrs) in [("IPv4", &v4), ("IPv6", &v6)] {
        let t = Instant::now();
        let mut found = 0usize;
        for &a in addrs.iter() {
            let info = db.lookup(a);
            found += usize::from(info.country.is_some()) + usize::from(info.asn.is_some());
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{family}: {N} random lookups in {:.1} ms = {:.1} M lookups/s ({found} fields found)",
            secs * 1e3,
            N as f64 / secs / 1e6
        );
    }
}
