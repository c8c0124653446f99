//! `phonehome-synth`: writes the sample, decoy and benchmark captures to files.
//!
//! ```text
//! phonehome-synth sample --out-dir DIR     # DIR/phone.toml and DIR/sample.pcapng
//! phonehome-synth decoys --out-dir DIR     # DIR/decoys.pcapng and DIR/decoys.txt
//! phonehome-synth bench --size 1G --out FILE
//! phonehome-synth tls-sample --out-dir DIR   # DIR/tls-sample.pcapng, .keys, .dsb.pcapng
//! phonehome-synth tls-fixtures --out-dir DIR # DIR/<name>.pcapng and DIR/<name>.keys
//! phonehome-synth tls-bench --size 1G --out FILE --keylog FILE
//! phonehome-synth handsets --out-dir DIR     # DIR/handset{A,B}/capture.pcap and device.toml
//! ```
#![forbid(unsafe_code)]

use phonehome_synth::scenario;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage:
  phonehome-synth sample --out-dir DIR       write DIR/phone.toml and DIR/sample.pcapng
  phonehome-synth decoys --out-dir DIR       write DIR/decoys.pcapng and DIR/decoys.txt
  phonehome-synth bench --size SIZE --out FILE
                                             write a pcap of about SIZE bytes (suffix K, M or G)
  phonehome-synth tls-sample --out-dir DIR   write DIR/tls-sample.pcapng, DIR/tls-sample.keys and
                                             DIR/tls-sample.dsb.pcapng (key log embedded)
  phonehome-synth tls-fixtures --out-dir DIR write one small TLS capture + key log per feature
  phonehome-synth tls-bench --size SIZE --out FILE --keylog FILE
                                             write a pcap of about SIZE bytes of TLS traffic and
                                             its key log
  phonehome-synth handsets --out-dir DIR     write the differential fixture: DIR/handsetA and
                                             DIR/handsetB, each capture.pcap and device.toml";

/// Parses `123`, `64K`, `10M`, `1G` (binary multiples).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&s[..i], 1 << 20),
        (i, 'g' | 'G') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// The value following `flag` in `args`.
fn flag_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn create(path: &Path) -> Result<File, String> {
    File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn run(args: &[String]) -> Result<(), String> {
    let command = args.first().map(String::as_str).ok_or("missing command")?;
    let rest = args.get(1..).unwrap_or(&[]);
    match command {
        "sample" | "decoys" => {
            let dir = PathBuf::from(flag_value(rest, "--out-dir").ok_or("missing --out-dir DIR")?);
            fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            if command == "sample" {
                let profile = dir.join("phone.toml");
                fs::write(&profile, scenario::sample_profile())
                    .map_err(|e| format!("{}: {e}", profile.display()))?;
                let pcap = dir.join("sample.pcapng");
                scenario::write_sample_pcapng(create(&pcap)?)
                    .map_err(|e| format!("{}: {e}", pcap.display()))?;
                eprintln!("wrote {} and {}", profile.display(), pcap.display());
            } else {
                let pcap = dir.join("decoys.pcapng");
                let decoys = scenario::write_decoys_pcap(create(&pcap)?)
                    .map_err(|e| format!("{}: {e}", pcap.display()))?;
                let list = dir.join("decoys.txt");
                let mut text = decoys.join("\n");
                text.push('\n');
                fs::write(&list, text).map_err(|e| format!("{}: {e}", list.display()))?;
                eprintln!(
                    "wrote {} and {} ({} decoys)",
                    pcap.display(),
                    list.display(),
                    decoys.len()
                );
            }
            Ok(())
        }
        "bench" => {
            let size = flag_value(rest, "--size").ok_or("missing --size SIZE")?;
            let size =
                parse_size(size).ok_or_else(|| format!("bad size {size:?} (e.g. 512M, 1G)"))?;
            let out = PathBuf::from(flag_value(rest, "--out").ok_or("missing --out FILE")?);
            let started = Instant::now();
            let written = scenario::write_bench_pcap(create(&out)?, size)
                .map_err(|e| format!("{}: {e}", out.display()))?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "wrote {} bytes to {} in {secs:.2} s ({:.0} MB/s)",
                written,
                out.display(),
                written as f64 / 1e6 / secs.max(1e-9)
            );
            Ok(())
        }
        "tls-sample" | "tls-fixtures" => {
            let dir = PathBuf::from(flag_value(rest, "--out-dir").ok_or("missing --out-dir DIR")?);
            fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            if command == "tls-sample" {
                let pcap = dir.join("tls-sample.pcapng");
                let keys = dir.join("tls-sample.keys");
                let dsb = dir.join("tls-sample.dsb.pcapng");
                scenario::write_tls_sample_pcapng(create(&pcap)?, create(&keys)?)
                    .map_err(|e| format!("{}: {e}", pcap.display()))?;
                scenario::write_tls_sample_dsb_pcapng(create(&dsb)?)
                    .map_err(|e| format!("{}: {e}", dsb.display()))?;
                eprintln!(
                    "wrote {}, {} and {}",
                    pcap.display(),
                    keys.display(),
                    dsb.display()
                );
            } else {
                let set = scenario::tls_fixture_set().map_err(|e| e.to_string())?;
                for (name, fixture) in &set {
                    let pcap = dir.join(format!("{name}.pcapng"));
                    fixture
                        .write_pcapng(create(&pcap)?, false)
                        .map_err(|e| format!("{}: {e}", pcap.display()))?;
                    let keys = dir.join(format!("{name}.keys"));
                    fs::write(&keys, &fixture.keylog)
                        .map_err(|e| format!("{}: {e}", keys.display()))?;
                }
                eprintln!("wrote {} fixtures to {}", set.len(), dir.display());
            }
            Ok(())
        }
        "tls-bench" => {
            let size = flag_value(rest, "--size").ok_or("missing --size SIZE")?;
            let size =
                parse_size(size).ok_or_else(|| format!("bad size {size:?} (e.g. 512M, 1G)"))?;
            let out = PathBuf::from(flag_value(rest, "--out").ok_or("missing --out FILE")?);
            let keys = PathBuf::from(flag_value(rest, "--keylog").ok_or("missing --keylog FILE")?);
            let started = Instant::now();
            let written = scenario::write_tls_bench_pcap(create(&out)?, create(&keys)?, size)
                .map_err(|e| format!("{}: {e}", out.display()))?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "wrote {} bytes to {} (keys in {}) in {secs:.2} s ({:.0} MB/s)",
                written,
                out.display(),
                keys.display(),
                written as f64 / 1e6 / secs.max(1e-9)
            );
            Ok(())
        }
        "handsets" => {
            let dir = PathBuf::from(flag_value(rest, "--out-dir").ok_or("missing --out-dir DIR")?);
            let runs = scenario::write_handsets(&dir)
                .map_err(|e| format!("cannot write the fixture under {}: {e}", dir.display()))?;
            for run in runs {
                eprintln!("wrote {}", run.display());
            }
            Ok(())
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phonehome-synth: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("10m"), Some(10 << 20));
        assert_eq!(parse_size("512K"), Some(512 << 10));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("1.5G"), None);
        assert_eq!(parse_size("99999999999999G"), None);
    }
}
