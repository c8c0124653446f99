//! Builds `data/ip/*` from unpacked `@ip-location-db` npm packages (run by
//! `scripts/refresh-ip-data.sh`; it never touches the network itself).
//!
//! ```text
//! cargo run --release -p phonehome-attribute --example build_ip_data -- \
//!     --country DIR --asn DIR --out data/ip
//! ```
//!
//! `DIR` is an unpacked package (the `package/` folder of the tarball). The package licence must
//! be one this tool knows was reviewed for commercial use; a changed licence stops the refresh.

use phonehome_attribute::ip::import::{build_data_file, BuildStats, CsvInput, DataKind};
use phonehome_attribute::ip::IpDatabase;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A package we vendor: its npm name, file prefix, the licence field we reviewed, and what
/// reports print as its licence.
struct Package {
    npm_name: &'static str,
    short_name: &'static str,
    csv_prefix: &'static str,
    reviewed_license: &'static str,
    license_note: &'static str,
    license_files: &'static [&'static str],
}

const COUNTRY: Package = Package {
    npm_name: "@ip-location-db/geo-whois-asn-country",
    short_name: "geo-whois-asn-country",
    csv_prefix: "geo-whois-asn-country",
    reviewed_license: "CC0-1.0",
    license_note: "CC0-1.0; NRO data CC BY 4.0",
    license_files: &["NRO_LICENSE"],
};

const ASN: Package = Package {
    npm_name: "@ip-location-db/asn",
    short_name: "ip-location-db asn",
    csv_prefix: "asn",
    reviewed_license: "SEE LICENSE IN ROUTEVIEWS-LICENSE and DBIP-LICENSE (CC-BY-4.0)",
    license_note: "CC BY 4.0: RouteViews, DB-IP, NRO",
    license_files: &["ROUTEVIEWS-LICENSE", "DBIP-LICENSE", "NRO_LICENSE"],
};

/// What was read from one package directory.
struct Unpacked {
    version: String,
    date: String,
    licenses: Vec<(String, String)>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("build_ip_data: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut country_dir = None;
    let mut asn_dir = None;
    let mut out_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let slot = match a.as_str() {
            "--country" => &mut country_dir,
            "--asn" => &mut asn_dir,
            "--out" => &mut out_dir,
            _ => {
                return Err(format!(
                    "unknown argument {a:?}; usage: --country DIR --asn DIR --out DIR"
                ))
            }
        };
        *slot = Some(PathBuf::from(
            args.next().ok_or(format!("{a} needs a value"))?,
        ));
    }
    let (Some(country_dir), Some(asn_dir), Some(out_dir)) = (country_dir, asn_dir, out_dir) else {
        return Err("usage: --country DIR --asn DIR --out DIR".into());
    };

    let country = read_package(&COUNTRY, &country_dir)?;
    let asn = read_package(&ASN, &asn_dir)?;
    let country_source = format!(
        "{} {} ({})",
        COUNTRY.short_name, country.date, COUNTRY.license_note
    );
    let asn_source = format!("{} {} ({})", ASN.short_name, asn.date, ASN.license_note);

    let (country_bytes, country_stats) = build(
        &COUNTRY,
        &country_dir,
        DataKind::Country,
        &country_source,
        &country.date,
    )?;
    let (asn_bytes, asn_stats) = build(&ASN, &asn_dir, DataKind::Asn, &asn_source, &asn.date)?;

    // Check the result loads before replacing anything.
    let db = IpDatabase::from_bytes(&country_bytes, &asn_bytes).map_err(|e| e.to_string())?;
    let google = db.lookup("8.8.8.8".parse().map_err(|_| "8.8.8.8")?);
    println!(
        "check: 8.8.8.8 -> country {}, AS{} {}",
        google.country.unwrap_or("-"),
        google.asn.unwrap_or(0),
        google.asn_org.unwrap_or("-")
    );
    if google.asn != Some(15169) || google.country.is_none() {
        return Err("sanity check failed: 8.8.8.8 is not AS15169 with a country".into());
    }

    fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    write(&out_dir.join("country.bin.gz"), &country_bytes)?;
    write(&out_dir.join("asn.bin.gz"), &asn_bytes)?;
    let date = if country.date <= asn.date {
        &country.date
    } else {
        &asn.date
    };
    let version = version_toml(
        date,
        &[
            (
                &COUNTRY,
                &country,
                &country_source,
                &country_stats,
                "country.bin.gz",
                country_bytes.len(),
            ),
            (
                &ASN,
                &asn,
                &asn_source,
                &asn_stats,
                "asn.bin.gz",
                asn_bytes.len(),
            ),
        ],
    )?;
    write(&out_dir.join("VERSION.toml"), version.as_bytes())?;
    let mut licenses =
        String::from("Licence texts shipped with the npm packages whose data is in this folder.\n");
    for (p, u) in [(&COUNTRY, &country), (&ASN, &asn)] {
        for (name, text) in &u.licenses {
            licenses.push_str(&format!(
                "\n== {} {}: {name}\n{}\n",
                p.npm_name,
                u.version,
                text.trim_end()
            ));
        }
    }
    write(&out_dir.join("LICENSES.txt"), licenses.as_bytes())?;
    println!("wrote {} (data date {date})", out_dir.display());
    Ok(())
}

fn build(
    p: &Package,
    dir: &Path,
    kind: DataKind,
    source: &str,
    date: &str,
) -> Result<(Vec<u8>, BuildStats), String> {
    let name4 = format!("{}-ipv4.csv", p.csv_prefix);
    let name6 = format!("{}-ipv6.csv", p.csv_prefix);
    let text4 = read(&dir.join(&name4))?;
    let text6 = read(&dir.join(&name6))?;
    let built = build_data_file(
        kind,
        source,
        date,
        CsvInput {
            name: &name4,
            text: &text4,
        },
        CsvInput {
            name: &name6,
            text: &text6,
        },
    )
    .map_err(|e| e.to_string())?;
    let s = &built.stats;
    println!(
        "{}: {} rows ({} overlapping, narrower wins) -> {} IPv4 + {} IPv6 ranges, {} values, {} bytes",
        p.npm_name,
        s.rows,
        s.overlapping_rows,
        s.v4_ranges,
        s.v6_ranges,
        s.distinct_values,
        built.bytes.len()
    );
    Ok((built.bytes, built.stats))
}

fn read_package(p: &Package, dir: &Path) -> Result<Unpacked, String> {
    let manifest_path = dir.join("package.json");
    let manifest = read(&manifest_path)?;
    let field = |key: &str| {
        json_string_field(&manifest, key)
            .ok_or_else(|| format!("{}: no string field {key:?}", manifest_path.display()))
    };
    let name = field("name")?;
    if name != p.npm_name {
        return Err(format!(
            "{}: package {name}, expected {}",
            manifest_path.display(),
            p.npm_name
        ));
    }
    let license = field("license")?;
    if license != p.reviewed_license {
        return Err(format!(
            "{}: licence is now {license:?}, reviewed was {:?}: review it (commercial use must be \
             allowed) and update build_ip_data.rs and data/README.md before vendoring",
            manifest_path.display(),
            p.reviewed_license
        ));
    }
    let mut licenses = Vec::new();
    for file in p.license_files {
        let text = read(&dir.join(file))?;
        if !text.contains("Creative Commons Attribution 4.0") || text.contains("NonCommercial") {
            return Err(format!(
                "{}: not the CC BY 4.0 text that was reviewed",
                dir.join(file).display()
            ));
        }
        licenses.push((file.to_string(), text));
    }
    let version = field("version")?;
    let date = version_date(&version).ok_or_else(|| {
        format!(
            "{}: version {version:?} does not end in YYYYMMDDHH",
            manifest_path.display()
        )
    })?;
    Ok(Unpacked {
        version,
        date,
        licenses,
    })
}

/// `2.3.2026061719` → `2026-06-17` (the packages encode their build hour in the patch number).
fn version_date(version: &str) -> Option<String> {
    let stamp = version.rsplit('.').next()?;
    if stamp.len() != 10 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m, d) = (&stamp[0..4], &stamp[4..6], &stamp[6..8]);
    let (mi, di): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&mi) && (1..=31).contains(&di)).then(|| format!("{y}-{m}-{d}"))
}

/// The string value of a top-level `"key": "value"` in package.json (no escapes expected there).
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json[at..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].to_owned())
}

type VersionEntry<'a> = (
    &'a Package,
    &'a Unpacked,
    &'a str,
    &'a BuildStats,
    &'a str,
    usize,
);

fn version_toml(date: &str, entries: &[VersionEntry<'_>]) -> Result<String, String> {
    let mut root = toml::Table::new();
    root.insert("date".into(), date.into());
    for &(p, u, source, stats, file, bytes) in entries {
        let mut t = toml::Table::new();
        t.insert("package".into(), p.npm_name.into());
        t.insert("version".into(), u.version.as_str().into());
        t.insert("date".into(), u.date.as_str().into());
        t.insert("license".into(), p.reviewed_license.into());
        t.insert("source".into(), source.into());
        t.insert("file".into(), file.into());
        t.insert("file_bytes".into(), (bytes as i64).into());
        t.insert("csv_rows".into(), (stats.rows as i64).into());
        t.insert(
            "overlapping_rows".into(),
            (stats.overlapping_rows as i64).into(),
        );
        t.insert("ipv4_ranges".into(), (stats.v4_ranges as i64).into());
        t.insert("ipv6_ranges".into(), (stats.v6_ranges as i64).into());
        let key = if p.csv_prefix == "asn" {
            "asn"
        } else {
            "country"
        };
        root.insert(key.into(), t.into());
    }
    let body = toml::to_string(&root).map_err(|e| format!("VERSION.toml: {e}"))?;
    Ok(format!(
        "# IP data vendored in data/ip/; written by scripts/refresh-ip-data.sh, do not edit.\n{body}"
    ))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}
