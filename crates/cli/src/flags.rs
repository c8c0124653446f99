//! Command-line flags.

use clap::{Args, Parser, Subcommand};
use phonehome::model::Limits;
use phonehome::Format;
use std::path::PathBuf;

/// What does this phone send home, to whom?
#[derive(Parser, Debug)]
#[command(name = "phonehome", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Find where a device's personal data went in captures (pcap, pcapng, .gz) and HAR files.
    Analyze(Box<Analyze>),
    /// Render a saved JSON Lines report (`analyze --format jsonl`) in another format.
    Report(ReportArgs),
    /// Compare two or more runs (with and without SIM, two handsets, before and after a reset) to
    /// find the fields that behave like identifiers.
    Diff(Box<DiffArgs>),
}

/// `phonehome diff`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// TLS key log for one run (`NAME=FILE`) or for every run (`FILE`); repeatable. A run
    /// directory's `keys.log` is used without it.
    #[arg(long, value_name = "[NAME=]FILE")]
    pub keylog: Vec<String>,
    /// Device profile for one run (`NAME=FILE`) or every run (`FILE`). A run directory's
    /// `device.toml` is used without it.
    #[arg(long, value_name = "[NAME=]FILE")]
    pub device: Vec<String>,
    /// Who receives the data: entity overlays and countries of concern.
    #[command(flatten)]
    pub attribution: AttributionFlags,
    /// Output format: table (endpoint × field × runs; default on a terminal), jsonl (default
    /// otherwise), html, markdown, csv, csv-matrix, json or parquet (the differential findings).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// In the table, list every field (by default unlabelled constant, volatile and varying
    /// fields are only counted).
    #[arg(long)]
    pub all: bool,
    /// Caps that bound memory and work, for every run.
    #[command(flatten)]
    pub limits: LimitFlags,
    /// Runs: a directory (its captures, keys.log and device.toml), `NAME=PATH[,PATH…]`, a run
    /// file (`.toml`) or a capture; at least two (see docs/diff.md).
    #[arg(required = true, num_args = 2.., value_name = "RUN")]
    pub runs: Vec<String>,
}

/// `phonehome report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Output format: table, jsonl, html, markdown, csv, csv-matrix, json or parquet.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Write the report to FILE instead of standard output (required for parquet).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Evaluate this policy over the saved findings (replacing any outcome saved with them);
    /// exit code 3 when it is violated.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The saved JSON Lines report.
    #[arg(value_name = "JSONL")]
    pub input: PathBuf,
}

/// `phonehome analyze`.
#[derive(Args, Debug)]
pub struct Analyze {
    /// Device profile (TOML) listing the phone's identifiers.
    #[arg(long, value_name = "FILE")]
    pub device: Option<PathBuf>,
    /// NSS key log (SSLKEYLOGFILE) with TLS secrets; repeatable. Decryption Secrets Blocks inside
    /// pcapng files are used automatically.
    #[arg(long, value_name = "FILE")]
    pub keylog: Vec<PathBuf>,
    /// Who receives the data: entity overlays and countries of concern.
    #[command(flatten)]
    pub attribution: AttributionFlags,
    /// Output format: table (default on a terminal), jsonl (default otherwise), html, markdown,
    /// csv, csv-matrix, json or parquet.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Vetting policy (TOML, see docs/policy.md): violations come first in every format and the
    /// exit code is 3 when any rule is violated.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Replace every value of personal data taken from traffic by `[kind:tag]` (HMAC under a
    /// random key that is never written out).
    #[arg(long)]
    pub redact: bool,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Do not print profile warnings or the progress bar on standard error (warnings are still
    /// in the report).
    #[arg(short, long)]
    pub quiet: bool,
    /// Print wall time, throughput and peak memory on standard error at the end.
    #[arg(long)]
    pub stats: bool,
    /// Caps that bound memory and work.
    #[command(flatten)]
    pub limits: LimitFlags,
    /// Captures (pcap, pcapng, optionally gzip-compressed) and HAR files, recognised by content.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

/// Flags of the attribution stage, shared by `analyze` and `diff`.
#[derive(Args, Debug)]
pub struct AttributionFlags {
    /// Entity data (TOML, see docs/entities.md) adding to or overriding the built-in organisations;
    /// repeatable, later files win.
    #[arg(long, value_name = "FILE")]
    pub entities: Vec<PathBuf>,
    /// Countries of concern, ISO 3166 codes separated by commas (`CN,RU`): findings whose
    /// organisation, parent or server country is listed are marked (`watch`) and listed first.
    #[arg(long, value_name = "CC,…", value_delimiter = ',')]
    pub watch: Vec<String>,
}

/// One flag per cap in [`Limits`]; sizes accept K, M and G suffixes (powers of 1024).
#[derive(Args, Debug)]
pub struct LimitFlags {
    /// Largest message body kept [default: 16M].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_body: Option<usize>,
    /// Deepest chain of nested decodings [default: 8].
    #[arg(long, value_name = "N")]
    pub max_decode_depth: Option<usize>,
    /// Most bytes produced by decoding one message [default: 64M].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_decoded_bytes: Option<usize>,
    /// Largest decompressed-to-compressed size ratio [default: 1000].
    #[arg(long, value_name = "N")]
    pub max_expansion_ratio: Option<usize>,
    /// Largest zstd window accepted; frames asking for more are refused [default: 8M].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_zstd_window: Option<usize>,
    /// Most trial decodings (base64, hex, protobuf…) per message [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_decode_trials: Option<usize>,
    /// Most decoded nodes visited per message [default: 100000].
    #[arg(long, value_name = "N")]
    pub max_decode_nodes: Option<usize>,
    /// Most out-of-order bytes buffered per TCP direction [default: 4M].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_flow_buffer: Option<usize>,
    /// Most out-of-order bytes buffered across all flows [default: 256M].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_total_buffer: Option<usize>,
    /// Most flows tracked at once [default: 100000].
    #[arg(long, value_name = "N")]
    pub max_flows: Option<usize>,
    /// Most bytes held for incomplete IP fragment sets [default: 64M].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_fragment_buffer: Option<usize>,
}

impl LimitFlags {
    /// The defaults, overridden by every flag given.
    pub fn to_limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            max_body: self.max_body.unwrap_or(d.max_body),
            max_decode_depth: self.max_decode_depth.unwrap_or(d.max_decode_depth),
            max_decoded_bytes: self.max_decoded_bytes.unwrap_or(d.max_decoded_bytes),
            max_expansion_ratio: self.max_expansion_ratio.unwrap_or(d.max_expansion_ratio),
            max_zstd_window: self.max_zstd_window.unwrap_or(d.max_zstd_window),
            max_decode_trials: self.max_decode_trials.unwrap_or(d.max_decode_trials),
            max_decode_nodes: self.max_decode_nodes.unwrap_or(d.max_decode_nodes),
            max_flow_buffer: self.max_flow_buffer.unwrap_or(d.max_flow_buffer),
            max_total_buffer: self.max_total_buffer.unwrap_or(d.max_total_buffer),
            max_flows: self.max_flows.unwrap_or(d.max_flows),
            max_fragment_buffer: self.max_fragment_buffer.unwrap_or(d.max_fragment_buffer),
        }
    }
}

/// Parses `123`, `64K`, `16M`, `1G` (powers of 1024; a trailing `B`/`iB` is allowed).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, shift) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 10),
        Some('m' | 'M') => (&t[..t.len() - 1], 20),
        Some('g' | 'G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: usize = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 4096, 64K, 16M, 1G)"))?;
    n.checked_mul(1usize << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
