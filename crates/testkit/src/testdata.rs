//! Locating the shared, read-only test data.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable that names the shared test data directory.
pub const TESTDATA_VAR: &str = "PHONEHOME_TESTDATA";

/// The shared test data directory: `$PHONEHOME_TESTDATA`, else `../shared/testdata` beside the
/// workspace root (found from the manifest directory, not the current directory).
///
/// `None`, after printing a skip message that names the path, when it is not a directory; under
/// `CI=true` an absent directory panics instead, so CI cannot pass by skipping.
pub fn testdata() -> Option<PathBuf> {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    locate(std::env::var_os(TESTDATA_VAR), ci)
}

/// `rel` under the shared data's `external/` half (captures from other projects and their
/// `_reference/` decodes), or `None` as [`testdata`] says.
pub fn external(rel: impl AsRef<Path>) -> Option<PathBuf> {
    testdata().map(|root| root.join("external").join(rel))
}

/// `rel` under the shared data's `phone-sim/` half (the simulated handset's runs), or `None` as
/// [`testdata`] says.
pub fn phone_sim(rel: impl AsRef<Path>) -> Option<PathBuf> {
    testdata().map(|root| root.join("phone-sim").join(rel))
}

/// [`testdata`] with the environment passed in: `var` is `$PHONEHOME_TESTDATA`, `ci` whether
/// `CI=true`.
fn locate(var: Option<OsString>, ci: bool) -> Option<PathBuf> {
    let root = var.map(PathBuf::from).unwrap_or_else(|| {
        // crates/testkit → the workspace root → its sibling `shared/`.
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
    });
    if root.is_dir() {
        return Some(root);
    }
    assert!(
        !ci,
        "test data missing at {} (set {TESTDATA_VAR})",
        root.display()
    );
    eprintln!(
        "skipping: no test data at {} (set {TESTDATA_VAR})",
        root.display()
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_directory_is_used() {
        let dir = std::env::temp_dir();
        assert_eq!(locate(Some(dir.clone().into()), true), Some(dir.clone()));
        assert_eq!(locate(Some(dir.clone().into()), false), Some(dir));
    }

    #[test]
    fn an_absent_directory_is_skipped_outside_ci() {
        let missing = std::env::temp_dir().join("phonehome-testkit-no-such-dir");
        assert_eq!(locate(Some(missing.clone().into()), false), None);
        // A file is not a data directory either.
        let file = std::env::temp_dir().join(format!("phonehome-testkit-{}", std::process::id()));
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(locate(Some(file.clone().into()), false), None);
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    #[should_panic(expected = "test data missing at")]
    fn an_absent_directory_fails_under_ci() {
        let missing = std::env::temp_dir().join("phonehome-testkit-no-such-dir");
        locate(Some(missing.into()), true);
    }

    #[test]
    fn the_default_is_beside_the_workspace() {
        // Whether or not the data is there, the default path ends in `shared/testdata` two
        // levels above this crate's manifest.
        let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
        match locate(None, false) {
            Some(found) => assert_eq!(found, default),
            None => assert!(!default.is_dir()),
        }
    }
}
