//! What a run is on the command line: a directory, `NAME=FILE[,FILE…]`, a capture, or a TOML
//! run file; and the per-run `--keylog` / `--device` options.

use crate::DiffError;
use std::path::{Path, PathBuf};

/// One run to compare: a name and the files it was recorded in.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunSpec {
    /// The run's name, as the table and the findings show it.
    pub name: String,
    /// Captures (pcap, pcapng, gzip-compressed or not) and HAR files, in order.
    pub inputs: Vec<PathBuf>,
    /// TLS key logs (`SSLKEYLOGFILE` format) for this run's captures.
    pub keylogs: Vec<PathBuf>,
    /// The device profile of the handset the run was recorded on, when known.
    pub device: Option<PathBuf>,
}

/// Which per-run file an option names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOption {
    /// `--keylog [NAME=]FILE`: adds a key log.
    KeyLog,
    /// `--device [NAME=]FILE`: sets the device profile.
    Device,
}

/// File name endings of captures, recognised in a run directory.
const CAPTURE_ENDINGS: [&str; 6] = [
    ".pcapng",
    ".pcap",
    ".cap",
    ".pcapng.gz",
    ".pcap.gz",
    ".cap.gz",
];
/// File name endings of HAR files, used from a run directory when it holds no capture.
const HAR_ENDINGS: [&str; 2] = [".har", ".har.gz"];
/// File names of key logs in a run directory (besides `*.keys` and `*.keylog`).
const KEYLOG_NAMES: [&str; 3] = ["keys.log", "sslkeylog.log", "sslkeys.log"];
/// The device profile's file name in a run directory.
const DEVICE_NAME: &str = "device.toml";

impl RunSpec {
    /// Parses one run argument:
    ///
    /// - a directory: its captures (`*.pcapng`, `*.pcap`, `*.cap`, optionally `.gz`), or its HAR
    ///   files when it holds no capture; its key logs (`keys.log`, `sslkeylog.log`,
    ///   `sslkeys.log`, `*.keys`, `*.keylog`) and its `device.toml`; named after the directory;
    /// - `NAME=PATH[,PATH…]`: the run `NAME`, each path a directory (as above) or an input file;
    /// - a file ending in `.toml`: a run file (`name`, `inputs`, `keylog`, `device`; paths relative
    ///   to the file);
    /// - any other file: one input, the run named after the file without its extensions.
    pub fn parse(arg: &str) -> Result<RunSpec, DiffError> {
        let bad = |reason: String| DiffError::BadSpec {
            arg: arg.to_owned(),
            reason,
        };
        let as_path = Path::new(arg);
        if !as_path.exists() {
            if let Some((name, rest)) = split_name(arg) {
                let mut spec = RunSpec {
                    name: name.to_owned(),
                    ..RunSpec::default()
                };
                for part in rest.split(',').filter(|p| !p.is_empty()) {
                    let path = Path::new(part);
                    if path.is_dir() {
                        spec.add_directory(path).map_err(&bad)?;
                    } else if path.is_file() {
                        spec.inputs.push(path.to_path_buf());
                    } else {
                        return Err(bad(format!("`{part}` is neither a file nor a directory")));
                    }
                }
                if spec.inputs.is_empty() {
                    return Err(bad("no capture or HAR file given".into()));
                }
                return Ok(spec);
            }
            return Err(bad(
                "no such file or directory (give a directory, a capture, a run file, or NAME=FILE[,FILE…])"
                    .into(),
            ));
        }
        if as_path.is_dir() {
            let mut spec = RunSpec {
                name: default_name(as_path),
                ..RunSpec::default()
            };
            spec.add_directory(as_path).map_err(&bad)?;
            return Ok(spec);
        }
        if arg.to_ascii_lowercase().ends_with(".toml") {
            return parse_run_file(as_path);
        }
        Ok(RunSpec {
            name: default_name(as_path),
            inputs: vec![as_path.to_path_buf()],
            ..RunSpec::default()
        })
    }

    /// Adds what a run directory holds: its captures (or HAR files when it has no capture), key
    /// logs and `device.toml`.
    fn add_directory(&mut self, dir: &Path) -> Result<(), String> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot list directory {}: {e}", dir.display()))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| format!("cannot list directory {}: {e}", dir.display()))?;
            let path = entry.path();
            if path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let lower = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default()
        };
        let ends = |p: &Path, endings: &[&str]| {
            let name = lower(p);
            endings.iter().any(|e| name.ends_with(e))
        };
        let captures: Vec<PathBuf> = files
            .iter()
            .filter(|p| ends(p, &CAPTURE_ENDINGS))
            .cloned()
            .collect();
        let inputs = if captures.is_empty() {
            files
                .iter()
                .filter(|p| ends(p, &HAR_ENDINGS))
                .cloned()
                .collect()
        } else {
            captures
        };
        if inputs.is_empty() {
            return Err(format!(
                "directory {} holds no capture (*.pcap, *.pcapng, *.cap) and no HAR file",
                dir.display()
            ));
        }
        self.inputs.extend(inputs);
        self.keylogs.extend(
            files
                .iter()
                .filter(|p| {
                    let name = lower(p);
                    KEYLOG_NAMES.contains(&name.as_str())
                        || name.ends_with(".keys")
                        || name.ends_with(".keylog")
                })
                .cloned(),
        );
        if let Some(device) = files.iter().find(|p| lower(p) == DEVICE_NAME) {
            if self.device.is_none() {
                self.device = Some(device.clone());
            }
        }
        Ok(())
    }
}

/// Applies one per-run option to `runs`: `NAME=FILE` to the run `NAME`, a bare `FILE` to every
/// run. A key log is added to the run's key logs; a device profile replaces the one its directory
/// gave.
pub fn assign_run_option(
    runs: &mut [RunSpec],
    option: RunOption,
    arg: &str,
) -> Result<(), DiffError> {
    let flag = match option {
        RunOption::KeyLog => "--keylog",
        RunOption::Device => "--device",
    };
    let named = if Path::new(arg).exists() {
        None
    } else {
        split_name(arg)
    };
    let (targets, file): (Vec<usize>, &str) = match named {
        Some((name, file)) => {
            let Some(i) = runs.iter().position(|r| r.name == name) else {
                let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
                return Err(DiffError::BadSpec {
                    arg: arg.to_owned(),
                    reason: format!("{flag}: no run named `{name}` (runs: {})", names.join(", ")),
                });
            };
            (vec![i], file)
        }
        None => ((0..runs.len()).collect(), arg),
    };
    if file.is_empty() {
        return Err(DiffError::BadSpec {
            arg: arg.to_owned(),
            reason: format!("{flag}: no file given"),
        });
    }
    for i in targets {
        if let Some(run) = runs.get_mut(i) {
            match option {
                RunOption::KeyLog => run.keylogs.push(PathBuf::from(file)),
                RunOption::Device => run.device = Some(PathBuf::from(file)),
            }
        }
    }
    Ok(())
}

/// `NAME` and the rest of `NAME=REST`, when `NAME` is a run name (letters, digits, `.`, `_`, `+`
/// and `-`, not starting with `.`).
fn split_name(arg: &str) -> Option<(&str, &str)> {
    let (name, rest) = arg.split_once('=')?;
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'));
    ok.then_some((name, rest))
}

/// A run's default name: the file or directory name, without capture extensions.
fn default_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| {
            // `.` or `..`: the directory's own name.
            std::fs::canonicalize(path)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| path.display().to_string());
    let mut stem = name.as_str();
    for ending in [".gz", ".pcapng", ".pcap", ".cap", ".har", ".toml"] {
        if stem.to_ascii_lowercase().ends_with(ending) && stem.len() > ending.len() {
            stem = &stem[..stem.len() - ending.len()];
        }
    }
    stem.to_owned()
}

/// Reads a TOML run file.
fn parse_run_file(path: &Path) -> Result<RunSpec, DiffError> {
    let text = std::fs::read_to_string(path).map_err(|source| DiffError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let err = |reason: String| DiffError::RunFile {
        path: path.to_path_buf(),
        reason,
    };
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        err(format!(
            "not a valid TOML run file: {}",
            e.to_string().trim()
        ))
    })?;
    if table.contains_key("device") && table.get("device").is_some_and(toml::Value::is_table) {
        return Err(err(
            "this is a device profile, not a run file: give it with --device NAME=FILE".into(),
        ));
    }
    let base = path.parent().unwrap_or(Path::new(""));
    let resolve = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let strings = |key: &str| -> Result<Vec<String>, DiffError> {
        match table.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::String(s)) => Ok(vec![s.clone()]),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| err(format!("`{key}` must list file names (strings)")))
                })
                .collect(),
            Some(_) => Err(err(format!(
                "`{key}` must be a file name or a list of file names"
            ))),
        }
    };
    for key in table.keys() {
        if !matches!(key.as_str(), "name" | "inputs" | "keylog" | "device") {
            return Err(err(format!(
                "unknown key `{key}` (expected name, inputs, keylog, device)"
            )));
        }
    }
    let name = match table.get("name") {
        None => default_name(path),
        Some(toml::Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(_) => return Err(err("`name` must be a non-empty string".into())),
    };
    let inputs: Vec<PathBuf> = strings("inputs")?.iter().map(|p| resolve(p)).collect();
    if inputs.is_empty() {
        return Err(err("`inputs` lists no capture or HAR file".into()));
    }
    let keylogs = strings("keylog")?.iter().map(|p| resolve(p)).collect();
    let device = match table.get("device") {
        None => None,
        Some(toml::Value::String(s)) => Some(resolve(s)),
        Some(_) => return Err(err("`device` must be a file name".into())),
    };
    Ok(RunSpec {
        name,
        inputs,
        keylogs,
        device,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("phonehome-diff-spec-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_directory_gives_captures_keys_and_device() {
        let dir = temp_dir("dir").join("sim");
        std::fs::create_dir_all(&dir).unwrap();
        for f in [
            "capture.pcapng",
            "capture.har",
            "keys.log",
            "device.toml",
            "notes.txt",
        ] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        let spec = RunSpec::parse(dir.to_str().unwrap()).unwrap();
        assert_eq!(spec.name, "sim");
        assert_eq!(spec.inputs, vec![dir.join("capture.pcapng")], "HAR skipped");
        assert_eq!(spec.keylogs, vec![dir.join("keys.log")]);
        assert_eq!(spec.device, Some(dir.join("device.toml")));
        // Without a capture, the HAR file is the input.
        std::fs::remove_file(dir.join("capture.pcapng")).unwrap();
        let spec = RunSpec::parse(dir.to_str().unwrap()).unwrap();
        assert_eq!(spec.inputs, vec![dir.join("capture.har")]);
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn named_files_and_options() {
        let dir = temp_dir("named");
        let a = dir.join("a.pcap");
        let b = dir.join("b.pcap.gz");
        std::fs::write(&a, b"x").unwrap();
        std::fs::write(&b, b"x").unwrap();
        let arg = format!("before={},{}", a.display(), b.display());
        let spec = RunSpec::parse(&arg).unwrap();
        assert_eq!(spec.name, "before");
        assert_eq!(spec.inputs, vec![a.clone(), b.clone()]);
        let other = RunSpec::parse(b.to_str().unwrap()).unwrap();
        assert_eq!(other.name, "b", "extensions stripped");
        let mut runs = vec![spec, other];
        assign_run_option(&mut runs, RunOption::KeyLog, "before=k1.log").unwrap();
        assign_run_option(&mut runs, RunOption::Device, "d.toml").unwrap();
        assert_eq!(runs[0].keylogs, vec![PathBuf::from("k1.log")]);
        assert!(runs[1].keylogs.is_empty());
        assert_eq!(runs[1].device, Some(PathBuf::from("d.toml")));
        let e = assign_run_option(&mut runs, RunOption::KeyLog, "after=k.log").unwrap_err();
        assert!(
            e.to_string()
                .contains("no run named `after` (runs: before, b)"),
            "{e}"
        );
        let e = RunSpec::parse("x=/no/such/file").unwrap_err();
        assert!(
            e.to_string().contains("neither a file nor a directory"),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn run_files_resolve_relative_paths() {
        let dir = temp_dir("toml");
        let file = dir.join("reset.toml");
        std::fs::write(
            &file,
            "name = \"after-reset\"\ninputs = [\"c1.pcapng\", \"/abs/c2.pcap\"]\nkeylog = \"k.log\"\ndevice = \"phone.toml\"\n",
        )
        .unwrap();
        let spec = RunSpec::parse(file.to_str().unwrap()).unwrap();
        assert_eq!(spec.name, "after-reset");
        assert_eq!(
            spec.inputs,
            vec![dir.join("c1.pcapng"), PathBuf::from("/abs/c2.pcap")]
        );
        assert_eq!(spec.keylogs, vec![dir.join("k.log")]);
        assert_eq!(spec.device, Some(dir.join("phone.toml")));
        std::fs::write(&file, "inputs = [\"c.pcap\"]\nkeylogs = \"k\"\n").unwrap();
        let e = RunSpec::parse(file.to_str().unwrap()).unwrap_err();
        assert!(e.to_string().contains("unknown key `keylogs`"), "{e}");
        std::fs::write(&file, "[device]\nimei = \"1\"\n").unwrap();
        let e = RunSpec::parse(file.to_str().unwrap()).unwrap_err();
        assert!(e.to_string().contains("device profile"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
