//! `phonehome`: what does this phone send home, to whom?
//!
//! A thin layer over the `phonehome` library: parses flags, loads the device profile, runs the
//! pipeline over every input, and maps the outcome to an exit code (see `docs/cli.md`):
//! 0 success (leaks or not, warnings or not), 2 usage error or an input that could not be read at
//! all, 3 a `--policy` was violated.

mod flags;
mod progress_bar;

use anyhow::Context as _;
use clap::Parser as _;
use flags::{Analyze, Cli, Command, DiffArgs, ReportArgs};
use phonehome::model::{Warning, WarningCode};
use phonehome::report;
use phonehome::{
    Analyzer, EntityDb, Format, JsonLines, KeyLog, Options, Policy, Profile, Report, Table,
};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// Exit code: the analysis ran (whether or not anything leaked, even with warnings).
const EXIT_OK: u8 = 0;
/// Exit code: usage error, unreadable profile, or an input that could not be read at all.
const EXIT_USAGE: u8 = 2;
/// Exit code: the `--policy` was violated (wins over an unreadable input).
const EXIT_POLICY: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze(*args),
        Command::Report(args) => rerender(args),
        Command::Diff(args) => diff(*args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("phonehome: error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn analyze(args: Analyze) -> anyhow::Result<u8> {
    let limits = args.limits.to_limits();
    let (profile, profile_warnings) = match &args.device {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read profile {}", path.display()))?;
            let (profile, warnings) =
                Profile::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            (Some(profile), warnings)
        }
        None => (None, Vec::new()),
    };
    let profile_file = args.device.as_ref().map(|p| p.display().to_string());
    let watch = parse_watch(&args.attribution.watch)?;
    let entities = load_entities(&args.attribution.entities)?;
    let mut profile_warnings = profile_warnings;
    if let Some(vendor) = profile.as_ref().and_then(|p| p.vendor.as_deref()) {
        let db = entities.as_ref().unwrap_or(EntityDb::embedded());
        if db.entity(vendor).is_none() {
            profile_warnings.push(format!(
                "[device] vendor `{vendor}` is not an entity id of the entity data; findings will not say first or third party"
            ));
        }
    }
    let mut keylog = KeyLog::new();
    let mut keylog_warnings = Vec::new();
    for path in &args.keylog {
        let text = std::fs::read(path)
            .with_context(|| format!("cannot read key log {}", path.display()))?;
        let text = String::from_utf8_lossy(&text);
        for (line, reason) in keylog.add_text(&text) {
            keylog_warnings.push(Warning::new(
                WarningCode::Malformed,
                path.display().to_string().into(),
                format!("key log line {line}: {reason}"),
            ));
        }
    }
    let keylog_files = args
        .keylog
        .iter()
        .map(|p| p.display().to_string())
        .collect();

    let policy = args
        .policy
        .as_deref()
        .map(|p| load_policy(p, profile.as_ref(), entities.as_ref()))
        .transpose()?;
    refuse_overwriting_inputs(args.output.as_deref(), &args.inputs)?;
    let report = open_report(args.format, args.output.as_deref())?;
    let mut report: Box<dyn Report> = if args.redact {
        let redactor = phonehome::redact::Redactor::new(profile.as_ref())
            .context("cannot set up redaction")?;
        Box::new(phonehome::redact::Redacting::new(report, redactor))
    } else {
        report
    };
    let progress = (!args.quiet && io::stderr().is_terminal())
        .then(|| std::sync::Arc::new(phonehome::Progress::default()));
    let mut analyzer = Analyzer::new(Options {
        profile,
        profile_file: profile_file.clone(),
        limits,
        keylog,
        keylog_files,
        entities,
        watch,
        progress: progress.clone(),
        policy,
    });
    for w in &keylog_warnings {
        if !args.quiet {
            eprintln!("phonehome: warning: {w}");
        }
        analyzer.report_warning(w, report.as_mut());
    }
    for reason in profile_warnings {
        let file = profile_file.clone().unwrap_or_default();
        if !args.quiet {
            eprintln!("phonehome: warning: {file}: {reason}");
        }
        analyzer.report_warning(
            &Warning::new(WarningCode::Profile, file.into(), reason),
            report.as_mut(),
        );
    }
    // The bar owns standard error while it runs: errors are printed once it is gone.
    let bar = progress.map(|p| {
        let total_bytes = args
            .inputs
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        progress_bar::ProgressBar::start(p, total_bytes)
    });
    let started = std::time::Instant::now();
    let mut errors = Vec::new();
    for path in &args.inputs {
        let name = path.display().to_string();
        let input = analyzer.analyze_file(path, name.clone().into(), report.as_mut());
        if let Some(e) = input.error {
            errors.push(e);
        }
    }
    if let Some(bar) = bar {
        bar.stop();
    }
    for e in &errors {
        eprintln!("phonehome: error: {e}");
    }
    let unreadable = errors.len();
    let summary = analyzer
        .finish(report.as_mut())
        .context("cannot write the report")?;
    if args.stats {
        print_stats(&summary, started.elapsed());
    }
    Ok(exit_code(&summary, unreadable))
}

/// The report for `format` (default: a table on a terminal, JSON Lines otherwise) written to
/// `output` or standard output.
fn open_report(format: Option<Format>, output: Option<&Path>) -> anyhow::Result<Box<dyn Report>> {
    let stdout_is_terminal = output.is_none() && io::stdout().is_terminal();
    let format = match format {
        Some(f) => f,
        None if stdout_is_terminal => Format::Table,
        None => Format::Jsonl,
    };
    if format.is_binary() && stdout_is_terminal {
        anyhow::bail!(
            "--format {format:?} writes binary data: give -o FILE or redirect standard output"
        );
    }
    let sink = open_sink(output)?;
    Ok(match format {
        Format::Jsonl => Box::new(JsonLines::new(sink)),
        Format::Table if stdout_is_terminal => Box::new(Table::for_terminal(sink)),
        Format::Table => Box::new(Table::new(sink)),
        Format::Html => Box::new(report::Html::new(sink)),
        Format::Markdown => Box::new(report::Markdown::new(sink)),
        Format::Csv => Box::new(report::Csv::new(sink)),
        Format::CsvMatrix => Box::new(report::CsvMatrix::new(sink)),
        Format::Json => Box::new(report::JsonDocument::new(sink)),
        Format::Parquet => Box::new(phonehome_parquet::ParquetReport::new(sink)),
    })
}

/// `output`, created (or emptied), else standard output; buffered.
fn open_sink(output: Option<&Path>) -> anyhow::Result<BufWriter<Box<dyn Write + Send>>> {
    let sink: Box<dyn Write + Send> = match output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create output file {}", path.display()))?,
        ),
        None => Box::new(io::stdout()),
    };
    Ok(BufWriter::with_capacity(1 << 16, sink))
}

/// `phonehome report`: renders a saved JSON Lines report in another format.
fn rerender(args: ReportArgs) -> anyhow::Result<u8> {
    let policy = args
        .policy
        .as_deref()
        .map(|p| load_policy(p, None, None))
        .transpose()?;
    refuse_overwriting_inputs(args.output.as_deref(), std::slice::from_ref(&args.input))?;
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("cannot open {}", args.input.display()))?;
    let mut report = open_report(args.format, args.output.as_deref())?;
    let summary = phonehome::report::replay_jsonl(
        io::BufReader::with_capacity(1 << 20, file),
        report.as_mut(),
        &mut |findings, summary| {
            if let Some(p) = &policy {
                summary.policy = Some(p.evaluate(findings, summary));
            }
        },
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", args.input.display()))?;
    Ok(exit_code(&summary, 0))
}

/// Refuses an `-o` file that is one of the inputs (opening it for writing would empty it).
fn refuse_overwriting_inputs(
    output: Option<&Path>,
    inputs: &[std::path::PathBuf],
) -> anyhow::Result<()> {
    let Some(out) = output.and_then(|o| std::fs::canonicalize(o).ok()) else {
        return Ok(());
    };
    if let Some(same) = inputs
        .iter()
        .find(|i| std::fs::canonicalize(i).is_ok_and(|i| i == out))
    {
        anyhow::bail!(
            "-o {} is also an input: refusing to overwrite it",
            same.display()
        );
    }
    Ok(())
}

/// The `--watch` list, checked and upper-cased.
fn parse_watch(codes: &[String]) -> anyhow::Result<Vec<String>> {
    let mut watch = Vec::new();
    for code in codes {
        let parsed = phonehome::parse_country_code(code)
            .map_err(|why| anyhow::anyhow!("--watch: `{}` is {why}", code.trim()))?;
        watch.push(parsed);
    }
    Ok(watch)
}

/// The built-in entity data with every `--entities` overlay applied in order; `None` without any.
fn load_entities(paths: &[std::path::PathBuf]) -> anyhow::Result<Option<EntityDb>> {
    let mut entities: Option<EntityDb> = None;
    for path in paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read entity data {}", path.display()))?;
        let base = entities.as_ref().unwrap_or(EntityDb::embedded());
        let merged = base
            .overlay_toml(&text, &path.display().to_string())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        entities = Some(merged);
    }
    Ok(entities)
}

/// `phonehome diff`: compares runs and reports the fields that behave like identifiers.
fn diff(args: DiffArgs) -> anyhow::Result<u8> {
    use phonehome_diff::{assign_run_option, diff_runs, DiffOptions, RunOption, RunSpec};
    let mut runs = args
        .runs
        .iter()
        .map(|r| RunSpec::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for k in &args.keylog {
        assign_run_option(&mut runs, RunOption::KeyLog, k).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    for d in &args.device {
        assign_run_option(&mut runs, RunOption::Device, d).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let options = DiffOptions {
        limits: args.limits.to_limits(),
        entities: load_entities(&args.attribution.entities)?,
        watch: parse_watch(&args.attribution.watch)?,
        ..DiffOptions::default()
    };
    let outcome = diff_runs(&runs, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    // An input no run could read is an error, as in `analyze` (the comparison still ran).
    let mut unreadable = 0usize;
    for run in &outcome.runs {
        for input in &run.summary.inputs {
            if let Some(e) = &input.error {
                unreadable += 1;
                eprintln!("phonehome: error: run {}: {e}", run.spec.name);
            }
        }
    }
    let code = if unreadable > 0 { EXIT_USAGE } else { EXIT_OK };
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal {
        Format::Table
    } else {
        Format::Jsonl
    });
    if format == Format::Table {
        let mut out = open_sink(args.output.as_deref())?;
        let width = to_terminal.then(terminal_width).flatten();
        phonehome_diff::render_table(
            &outcome,
            &mut out,
            &phonehome_diff::TableOptions {
                width,
                all: args.all,
            },
        )
        .context("cannot write the table")?;
        out.flush().context("cannot write the table")?;
        return Ok(code);
    }
    let mut report = open_report(Some(format), args.output.as_deref())?;
    for w in &outcome.warnings {
        report.warning(w).context("cannot write the report")?;
    }
    report
        .finish(&outcome.findings, &outcome.summary)
        .context("cannot write the report")?;
    Ok(code)
}

/// The terminal's width in columns, from `COLUMNS`, when set.
fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS").ok()?.trim().parse().ok()
}

/// Reads and checks a `--policy` file: every kind of data it names must be one phonehome reports
/// (built in, or a `[[custom]]` kind of `profile`) and every organisation one of the entity data,
/// or a misspelling would make a rule silently pass.
fn load_policy(
    path: &Path,
    profile: Option<&Profile>,
    entities: Option<&EntityDb>,
) -> anyhow::Result<Policy> {
    let policy = Policy::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let entities = entities.unwrap_or(EntityDb::embedded());
    let is_kind = |k: &str| {
        phonehome::BUILTIN_KINDS.contains(&k)
            || profile.is_some_and(|p| p.custom.iter().any(|c| c.kind == k))
    };
    let is_org = |id: &str| entities.entity(id).is_some();
    let unknown = policy.unknown_references(&is_kind, &is_org);
    if let Some((rule, problem)) = unknown.first() {
        anyhow::bail!(
            "{}: rule `{rule}`: {problem}{}",
            path.display(),
            if unknown.len() > 1 {
                format!(" (and {} more)", unknown.len() - 1)
            } else {
                String::new()
            }
        );
    }
    Ok(policy)
}

/// The exit code of a finished run: 3 when a policy was violated (it wins over warnings), else
/// 2 when an input could not be read at all, else 0.
fn exit_code(summary: &phonehome::model::Summary, unreadable: usize) -> u8 {
    if summary
        .policy
        .as_ref()
        .is_some_and(|p| !p.violations.is_empty())
    {
        EXIT_POLICY
    } else if unreadable > 0 {
        EXIT_USAGE
    } else {
        EXIT_OK
    }
}

/// `--stats`: wall time, input throughput and peak resident memory, on standard error.
fn print_stats(summary: &phonehome::model::Summary, elapsed: std::time::Duration) {
    let bytes: u64 = summary.inputs.iter().map(|i| i.bytes).sum();
    let secs = elapsed.as_secs_f64();
    let mb = bytes as f64 / 1e6;
    let rate = if secs > 0.0 { mb / secs } else { 0.0 };
    let peak = peak_rss_kib().map_or_else(
        || "unknown".to_owned(),
        |k| format!("{:.1} MB", k as f64 * 1024.0 / 1e6),
    );
    eprintln!(
        "phonehome: {mb:.1} MB in {secs:.2} s ({rate:.0} MB/s), {} messages, {} flows, {} findings; peak memory {peak}",
        summary.counts.messages, summary.counts.flows, summary.counts.findings
    );
}

/// Peak resident set size of this process in KiB (`VmHWM` in `/proc/self/status`), where the
/// platform has it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
