//! Locating the shared, read-only test data (`PHONEHOME_TESTDATA`, by default
//! `<workspace>/../shared/testdata`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The test data directory, or `None` (after printing why) when it is absent. Under `CI=true`
/// an absent directory fails the test instead.
pub fn root() -> Option<PathBuf> {
    let dir = std::env::var_os("PHONEHOME_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "test data not found at {} (set PHONEHOME_TESTDATA)",
        dir.display()
    );
    eprintln!(
        "skipped: test data not found at {} (set PHONEHOME_TESTDATA)",
        dir.display()
    );
    None
}

/// Every file under `dir`, recursively, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
