//! Why a differential comparison could not be made.

use std::path::PathBuf;

/// Why [`crate::diff_runs`] or a run specification failed. Each message names the run, file and
/// reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// A run argument or option could not be understood.
    #[error("run `{arg}`: {reason}")]
    BadSpec {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A run file (TOML) is malformed.
    #[error("{}: {reason}", path.display())]
    RunFile {
        /// The run file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        reason: String,
    },
    /// A device profile could not be read.
    #[error("run `{run}`: device profile {}: {reason}", path.display())]
    Profile {
        /// The run the profile belongs to.
        run: String,
        /// The profile file.
        path: PathBuf,
        /// What is wrong, with the line and key when known.
        reason: String,
    },
    /// Fewer than two runs, or two runs with one name.
    #[error("{0}")]
    Runs(String),
    /// No input of a run could be read at all.
    #[error("run `{run}`: no input could be read ({reasons})")]
    Unreadable {
        /// The run.
        run: String,
        /// Each input's reason, joined.
        reasons: String,
    },
}
