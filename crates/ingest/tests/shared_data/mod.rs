//! Finding files in the shared, read-only test data (`PHONEHOME_TESTDATA`, by default
//! `<workspace>/../shared/testdata`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

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
