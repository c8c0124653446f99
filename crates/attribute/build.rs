//! Records the version of the `psl` crate (whose Public Suffix List is compiled in) from the
//! workspace's Cargo.lock, so reports can say which list they used.
use std::path::Path;

fn main() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let mut version = "unknown".to_owned();
    let mut in_psl = false;
    for line in text.lines() {
        if line.starts_with("[[package]]") {
            in_psl = false;
        } else if line.trim() == "name = \"psl\"" {
            in_psl = true;
        } else if in_psl {
            if let Some(v) = line.trim().strip_prefix("version = ") {
                version = v.trim_matches('"').to_owned();
                break;
            }
        }
    }
    println!("cargo:rustc-env=PHONEHOME_PSL_VERSION={version}");
}
