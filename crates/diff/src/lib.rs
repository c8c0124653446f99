//! Differential runs: finds the identifiers nobody listed by comparing runs.
//!
//! The engine of `phonehome diff`. Each run (one or more captures or HAR files, with its key logs
//! and device profile) goes through the whole pipeline ([`phonehome::Analyzer`]); every request
//! it builds is walked by the decode stage and its leaf fields are counted per **endpoint** (host,
//! method and path template, see [`Endpoint`]) and **field** (message part and selecting decode
//! steps, see [`FieldPath`]). No message is kept: per field and run only counters, up to
//! [`DiffCaps::max_distinct`] value hashes and one short sample. Then each field gets a
//! [`Class`] from how its values behave within and between runs, and the runs' own `known` and
//! `pattern` findings label the fields they sit in with their kinds.
//!
//! # Classes
//!
//! For one field of one endpoint, with `present` = requests of a run in which the field had a
//! non-empty value (absent, empty and JSON null are not present). The first rule that applies:
//!
//! 1. **one run only** — present in some runs, not in others (an endpoint not requested in a run
//!    counts as absent there). High confidence when the endpoint was requested in every run,
//!    medium when it was not.
//! 2. If the value changes between consecutive requests of a run:
//!    - **volatile** — every value is a clock reading near its message's capture time (Unix time
//!      in s, ms, µs or ns, decimal or integer, or an ISO 8601 date-time, within a day), or every
//!      value is an integer and at least 90 % of the steps increase (a counter), or more than half
//!      of the requests of runs that sent it twice or more carry a distinct value and no value is
//!      seen in two runs (nonces, request ids, signatures);
//!    - **varies** — otherwise: it changes, but values repeat (an event name, a network type).
//! 3. Otherwise each run sent one value:
//!    - **constant** — the same value in every run;
//!    - **volatile** (medium) — every value is a clock reading and no run repeated it 2 s or more
//!      apart;
//!    - **identity** — at least one run sent it twice or more, always the same (for clock-shaped
//!      values: repeats at least 2 s apart): stable within a run, different between runs. High
//!      confidence with repeats in two runs or more, medium with one;
//!    - **differs** (low) — no run sent it twice: an identifier or a per-message value cannot be
//!      told apart from one message per run.
//!
//! # Labels
//!
//! Each run is analysed with its own profile and key logs; its `known` and `pattern` findings label
//! the field they sit in, and the fields under a selector or a whole header or cookie they sit on
//! unless findings of the same kind sit deeper there. Labels from every run count. A `pattern`
//! label on a **volatile** field is contradicted (an identifier does not change from request to
//! request): it goes to [`FieldDiff::refuted`] and gives no finding.
//!
//! # Findings
//!
//! One [`Finding`] per field and kind, with `match: differential`, for: every field labelled by a
//! `known` or `pattern` finding of any run (whatever its class; one finding per labelling kind);
//! unlabelled, every **identity** field, and every **one run only** or **differs** field whose
//! values mostly look like identifiers (kind `identifier`). `details` hold `endpoint`, `field`, `class`, `runs`
//! (the runs the field was present in), `run.<name>` (present requests, requests and distinct
//! values per run) and `labelled_by`; `where` and `chain` are the field's; host, method, URL,
//! transport and source are those of the first request the field was seen in; the destination is
//! attributed like the pipeline's.
//!
//! What is not a field: the whole URL, literal path segments (the endpoint names them; folded
//! segments are fields `url › path:<i>`), transport headers (`Host`, `Content-Length`,
//! `Connection`, `Keep-Alive`, `Transfer-Encoding`, `TE`, `Trailer`, `Upgrade`,
//! `Proxy-Connection`, `Expect`), nodes that decode further into selected parts (only leaves
//! count), and DNS queries. Header names are compared in lower case.
//!
//! ```no_run
//! use phonehome_diff::{diff_runs, render_table, DiffOptions, RunSpec, TableOptions};
//! let runs = vec![RunSpec::parse("phone-sim/sim")?, RunSpec::parse("phone-sim/nosim")?];
//! let outcome = diff_runs(&runs, &DiffOptions::default())?;
//! render_table(&outcome, &mut std::io::stdout().lock(), &TableOptions::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod classify;
mod collect;
mod endpoint;
mod error;
mod findings;
mod run_spec;
mod shape;
mod table;

pub use classify::{Class, Confidence};
pub use endpoint::{Endpoint, FieldPath};
pub use error::DiffError;
pub use run_spec::{assign_run_option, RunOption, RunSpec};
pub use shape::CLOCK_WINDOW_SECS;
pub use table::{render_table, TableOptions};

use collect::{Collector, RunState};
use findings::{field_findings, FieldEvidence, Labels};
use phonehome::{Analyzer, EntityDb, KeyLog, Options, Profile};
use phonehome_attribute::Attributor;
use phonehome_decode::DecodeLimits;
use phonehome_model::{Finding, KeyLogSummary, Limits, MatchKind, Summary, Warning, WarningCode};
use serde::Serialize;
use std::collections::HashSet;

/// Caps that bound the memory of a comparison, whatever the captures hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiffCaps {
    /// Most endpoints tracked; requests to further endpoints are counted and dropped.
    pub max_endpoints: usize,
    /// Most fields tracked per endpoint.
    pub max_fields_per_endpoint: usize,
    /// Most fields tracked over all endpoints.
    pub max_fields: usize,
    /// Most distinct value hashes kept per field and run (more are counted as "at least").
    pub max_distinct: usize,
}

impl Default for DiffCaps {
    /// 5 000 endpoints, 256 fields per endpoint, 50 000 fields, 32 distinct values per field and
    /// run: at most about 120 MB of statistics per run in the worst case (see `docs/diff.md`).
    fn default() -> Self {
        Self {
            max_endpoints: 5_000,
            max_fields_per_endpoint: 256,
            max_fields: 50_000,
            max_distinct: 32,
        }
    }
}

/// What a comparison needs besides its runs.
#[derive(Clone, Debug, Default)]
pub struct DiffOptions {
    /// The pipeline's caps, for every run.
    pub limits: Limits,
    /// Entity data to attribute with (`--entities` overlays); the built-in data when `None`.
    pub entities: Option<EntityDb>,
    /// Countries of concern (`--watch`, ISO 3166 alpha-2).
    pub watch: Vec<String>,
    /// The comparison's own caps.
    pub caps: DiffCaps,
}

/// What one run sent in one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunValues {
    /// The run's name.
    pub run: String,
    /// Requests of the endpoint in this run.
    pub messages: u64,
    /// Of which carried the field non-empty.
    pub present: u64,
    /// Distinct values (at least this many when `distinct_capped`).
    pub distinct: u64,
    /// More distinct values were seen than [`DiffCaps::max_distinct`].
    pub distinct_capped: bool,
    /// The first value, shortened to 64 characters (binary values as `0x` and hex); not escaped.
    pub sample: Option<String>,
}

/// One field of one endpoint across the runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    /// Where the value sits.
    pub field: FieldPath,
    /// The full decode chain of the first value seen (transforming steps included).
    pub chain: Vec<String>,
    /// What its values do across runs.
    pub class: Class,
    /// How sure the class is.
    pub confidence: Confidence,
    /// Why, in one sentence.
    pub reason: String,
    /// Kinds of the `known` and `pattern` findings of any run that sit in this field (`pattern`
    /// kinds only when the field is not volatile).
    pub kinds: Vec<String>,
    /// Kinds of `pattern` findings in this field that the comparison contradicts: the field is
    /// volatile, so it is not a stable identifier of that kind (a nonce shaped like an id).
    pub refuted: Vec<String>,
    /// The kinds of the `differential` findings this field gave (`kinds`, or `identifier` for an
    /// unlabelled field that looks like one); empty when it gave none.
    pub finding_kinds: Vec<String>,
    /// Per run, in run order.
    pub per_run: Vec<RunValues>,
}

/// One endpoint across the runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndpointDiff {
    /// Host, method and path template.
    pub endpoint: Endpoint,
    /// Requests per run, in run order.
    pub messages: Vec<u64>,
    /// Its fields, in the order first seen.
    pub fields: Vec<FieldDiff>,
    /// Fields not tracked because a cap was reached.
    pub fields_dropped: u64,
}

/// One run as analysed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunOutcome {
    /// The run as specified.
    pub spec: RunSpec,
    /// Its analysis' summary (inputs, counts, key logs…).
    pub summary: Summary,
    /// Its analysis' own findings (`known` and `pattern`), which labelled the fields.
    pub findings: usize,
    /// Of its warnings, how many are listed in [`DiffOutcome::warnings`].
    pub listed_warnings: u64,
}

/// The result of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiffOutcome {
    /// The runs, in the order given.
    pub runs: Vec<RunOutcome>,
    /// Every endpoint with at least one field, sorted by host, path and method.
    pub endpoints: Vec<EndpointDiff>,
    /// The `differential` findings, those whose destination is in a watched country first.
    pub findings: Vec<Finding>,
    /// One summary over all runs: every input, counts summed, findings counted as listed here.
    pub summary: Summary,
    /// Warnings of every run's analysis and of the comparison (caps reached, empty runs).
    pub warnings: Vec<Warning>,
}

impl DiffOutcome {
    /// The run names, in order.
    pub fn run_names(&self) -> Vec<&str> {
        self.runs.iter().map(|r| r.spec.name.as_str()).collect()
    }

    /// Every field as `(endpoint, field)`, in output order.
    pub fn fields(&self) -> impl Iterator<Item = (&EndpointDiff, &FieldDiff)> {
        self.endpoints
            .iter()
            .flat_map(|e| e.fields.iter().map(move |f| (e, f)))
    }
}

/// Reads a run's device profile; its warnings come back as strings.
fn load_profile(run: &RunSpec) -> Result<Option<(Profile, Vec<String>)>, DiffError> {
    let Some(path) = &run.device else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|source| DiffError::Read {
        path: path.clone(),
        source,
    })?;
    Profile::parse(&text)
        .map(Some)
        .map_err(|e| DiffError::Profile {
            run: run.name.clone(),
            path: path.clone(),
            reason: e.to_string(),
        })
}

/// Reads a run's key logs; malformed lines come back as warnings.
fn load_keylogs(run: &RunSpec) -> Result<(KeyLog, Vec<Warning>), DiffError> {
    let mut keylog = KeyLog::new();
    let mut warnings = Vec::new();
    for path in &run.keylogs {
        let bytes = std::fs::read(path).map_err(|source| DiffError::Read {
            path: path.clone(),
            source,
        })?;
        for (line, reason) in keylog.add_text(&String::from_utf8_lossy(&bytes)) {
            warnings.push(Warning::new(
                WarningCode::Malformed,
                path.display().to_string().into(),
                format!("key log line {line}: {reason}"),
            ));
        }
    }
    Ok((keylog, warnings))
}

/// Checks that there are two runs or more, each with a unique name and an input.
fn check_runs(runs: &[RunSpec]) -> Result<(), DiffError> {
    if runs.len() < 2 {
        return Err(DiffError::Runs(format!(
            "a comparison needs two runs or more, {} given",
            runs.len()
        )));
    }
    let mut seen = HashSet::new();
    for run in runs {
        if run.name.is_empty() {
            return Err(DiffError::Runs("a run has an empty name".into()));
        }
        if !seen.insert(run.name.as_str()) {
            return Err(DiffError::Runs(format!(
                "two runs are named `{}`: name them with NAME=PATH",
                run.name
            )));
        }
        if run.inputs.is_empty() {
            return Err(DiffError::Runs(format!(
                "run `{}` has no capture or HAR file",
                run.name
            )));
        }
    }
    Ok(())
}

/// What one run's analysis gave.
struct RunResult {
    state: RunState,
    findings: Vec<Finding>,
    warnings: Vec<Warning>,
    warnings_dropped: u64,
    summary: Summary,
    vendor: Option<String>,
}

/// Runs one run's inputs through the pipeline into a [`Collector`].
fn analyze_run(
    run: &RunSpec,
    options: &DiffOptions,
    decode_limits: &DecodeLimits,
) -> Result<RunResult, DiffError> {
    let profile = load_profile(run)?;
    let (keylog, keylog_warnings) = load_keylogs(run)?;
    let profile_file = run.device.as_ref().map(|p| p.display().to_string());
    let (profile, profile_warnings) = match profile {
        Some((p, w)) => (Some(p), w),
        None => (None, Vec::new()),
    };
    let vendor = profile.as_ref().and_then(|p| p.vendor.clone());
    let mut analyzer = Analyzer::new(Options {
        profile,
        profile_file: profile_file.clone(),
        limits: options.limits.clone(),
        keylog,
        keylog_files: run
            .keylogs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        entities: options.entities.clone(),
        watch: options.watch.clone(),
        ..Options::default()
    });
    let mut collector = Collector::new(options.caps.clone(), decode_limits.clone());
    for w in &keylog_warnings {
        analyzer.report_warning(w, &mut collector);
    }
    for reason in profile_warnings {
        let w = Warning::new(
            WarningCode::Profile,
            profile_file.clone().unwrap_or_default().into(),
            reason,
        );
        analyzer.report_warning(&w, &mut collector);
    }
    let mut errors = Vec::new();
    for input in &run.inputs {
        let name = input.display().to_string();
        let summary = analyzer.analyze_file(input, name.clone().into(), &mut collector);
        if let Some(e) = summary.error {
            // The error already names the file.
            errors.push(e);
        }
    }
    if errors.len() == run.inputs.len() {
        return Err(DiffError::Unreadable {
            run: run.name.clone(),
            reasons: errors.join("; "),
        });
    }
    // The collector never fails to write; a failure would only lose this run's findings.
    let summary = match analyzer.finish(&mut collector) {
        Ok(s) => s,
        Err(_) => collector.summary.clone().unwrap_or_default(),
    };
    Ok(RunResult {
        state: collector.state,
        findings: collector.findings,
        warnings: collector.warnings,
        warnings_dropped: collector.warnings_dropped,
        summary,
        vendor,
    })
}

/// Analyses every run, as many at once as there are processors, in run order.
fn analyze_runs(runs: &[RunSpec], options: &DiffOptions) -> Result<Vec<RunResult>, DiffError> {
    let decode_limits = DecodeLimits::from_limits(&options.limits);
    let parallel = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .max(1);
    let mut results = Vec::with_capacity(runs.len());
    for chunk in runs.chunks(parallel) {
        let chunk_results: Vec<Result<RunResult, DiffError>> = if chunk.len() == 1 {
            chunk
                .iter()
                .map(|run| analyze_run(run, options, &decode_limits))
                .collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|run| {
                        let limits = &decode_limits;
                        scope.spawn(move || analyze_run(run, options, limits))
                    })
                    .collect();
                handles
                    .into_iter()
                    .zip(chunk)
                    .map(|(h, run)| {
                        h.join().unwrap_or_else(|_| {
                            Err(DiffError::Runs(format!(
                                "run `{}`: the analysis failed unexpectedly",
                                run.name
                            )))
                        })
                    })
                    .collect()
            })
        };
        for r in chunk_results {
            results.push(r?);
        }
    }
    Ok(results)
}

/// Compares `runs` (two or more): analyses each through the whole pipeline (as many at once as
/// there are processors), classifies every field of every endpoint, and returns the endpoints,
/// the `differential` findings, one summary over all runs and the warnings.
///
/// Fails when fewer than two runs are given, two share a name, a key log or device profile cannot
/// be read, or no input of a run can be read at all; problems inside readable inputs are warnings.
pub fn diff_runs(runs: &[RunSpec], options: &DiffOptions) -> Result<DiffOutcome, DiffError> {
    check_runs(runs)?;
    let names: Vec<String> = runs.iter().map(|r| r.name.clone()).collect();
    let mut labels = Labels::default();
    let mut warnings = Vec::new();
    let mut outcomes = Vec::new();
    let mut vendor = None;
    let mut states = Vec::with_capacity(runs.len());
    for (run, result) in runs.iter().zip(analyze_runs(runs, options)?) {
        let RunResult {
            state,
            findings: own_findings,
            warnings: mut run_warnings,
            warnings_dropped,
            summary,
            vendor: run_vendor,
        } = result;
        states.push(state);
        if vendor.is_none() {
            vendor = run_vendor;
        }
        labels.add(&own_findings);
        let listed_warnings = run_warnings.len() as u64;
        warnings.append(&mut run_warnings);
        if warnings_dropped > 0 {
            warnings.push(Warning::new(
                WarningCode::Limit,
                run.name.clone().into(),
                format!(
                    "run `{}`: {warnings_dropped} more warnings not listed",
                    run.name
                ),
            ));
        }
        if summary.counts.requests == 0 {
            warnings.push(Warning::new(
                WarningCode::Unsupported,
                run.name.clone().into(),
                format!(
                    "run `{}`: no request was read (TLS without keys?); every field of the other runs is `one run only`",
                    run.name
                ),
            ));
        }
        outcomes.push(RunOutcome {
            spec: run.clone(),
            summary,
            findings: own_findings.len(),
            listed_warnings,
        });
    }
    let state = collect::merge(states, &options.caps);
    let caps = &options.caps;
    if state.endpoint_messages_dropped > 0 {
        warnings.push(Warning::new(
            WarningCode::Limit,
            "diff".into(),
            format!(
                "more than {} endpoints: {} requests to further endpoints were not compared",
                caps.max_endpoints, state.endpoint_messages_dropped
            ),
        ));
    }
    if state.fields_dropped > 0 {
        warnings.push(Warning::new(
            WarningCode::Limit,
            "diff".into(),
            format!(
                "field caps reached ({} per endpoint, {} in all): {} new fields were not compared",
                caps.max_fields_per_endpoint, caps.max_fields, state.fields_dropped
            ),
        ));
    }

    let mut attributor = Attributor::new()
        .with_vendor(vendor)
        .with_watch(options.watch.clone());
    if let Some(entities) = &options.entities {
        attributor = attributor.with_entities(entities.clone());
    }
    let mut endpoints = Vec::new();
    let mut findings = Vec::new();
    let mut states: Vec<_> = state.endpoints.into_iter().collect();
    states.sort_by(|(a, _), (b, _)| {
        (&a.host, &a.path, &a.method).cmp(&(&b.host, &b.path, &b.method))
    });
    for (endpoint, ep) in states {
        let mut fields: Vec<_> = ep.fields.into_iter().collect();
        fields.sort_by_key(|(_, f)| f.order);
        let mut diff = EndpointDiff {
            endpoint,
            messages: ep.messages,
            fields: Vec::new(),
            fields_dropped: ep.fields_dropped,
        };
        for (path, field) in fields {
            let Some(verdict) = classify::classify(&names, &diff.messages, &field.per_run) else {
                continue;
            };
            // A `pattern` label on a volatile field is contradicted: an identifier of that kind
            // would not change from request to request.
            let volatile = verdict.class == Class::Volatile;
            let (field_labels, contradicted): (Vec<_>, Vec<_>) = labels
                .of(&diff.endpoint, &path)
                .into_iter()
                .partition(|l| !(volatile && l.match_kind == MatchKind::Pattern));
            let mut kinds: Vec<String> = Vec::new();
            for l in &field_labels {
                if !kinds.contains(&l.kind) {
                    kinds.push(l.kind.clone());
                }
            }
            let mut refuted: Vec<String> = Vec::new();
            for l in &contradicted {
                if !kinds.contains(&l.kind) && !refuted.contains(&l.kind) {
                    refuted.push(l.kind.clone());
                }
            }
            let per_run = field
                .per_run
                .iter()
                .zip(&names)
                .zip(&diff.messages)
                .map(|((s, name), &messages)| RunValues {
                    run: name.clone(),
                    messages,
                    present: u64::from(s.present),
                    distinct: s.distinct_count() as u64,
                    distinct_capped: s.overflow,
                    sample: s.sample.clone(),
                })
                .collect();
            let present: u32 = field.per_run.iter().map(|s| s.present).sum();
            let id_like: u32 = field.per_run.iter().map(|s| s.id_like).sum();
            let finding_kinds =
                findings::finding_kinds(verdict.class, &kinds, id_like * 2 >= present);
            let first_msg = field.per_run.iter().find_map(|s| s.first_msg.clone());
            let first_time = field.per_run.iter().filter_map(|s| s.first_time).min();
            let last_time = field.per_run.iter().filter_map(|s| s.last_time).max();
            let field = FieldDiff {
                field: path,
                chain: field.chain,
                class: verdict.class,
                confidence: verdict.confidence,
                reason: verdict.reason,
                kinds,
                refuted,
                finding_kinds,
                per_run,
            };
            findings.extend(field_findings(
                &diff.endpoint,
                &field,
                &FieldEvidence {
                    chain: &field.chain,
                    sample_msg: first_msg.as_deref(),
                    first_time,
                    last_time,
                },
                &field_labels,
                &attributor,
            ));
            diff.fields.push(field);
        }
        if !diff.fields.is_empty() {
            endpoints.push(diff);
        }
    }
    findings.sort_by_key(|f| f.watch.is_empty());
    let summary = merged_summary(&outcomes, &findings, options, &warnings);
    Ok(DiffOutcome {
        runs: outcomes,
        endpoints,
        findings,
        summary,
        warnings,
    })
}

/// One summary over all runs.
fn merged_summary(
    runs: &[RunOutcome],
    findings: &[Finding],
    options: &DiffOptions,
    warnings: &[Warning],
) -> Summary {
    let first = runs.first().map(|r| &r.summary);
    let mut s = Summary {
        tool: first.map(|s| s.tool.clone()).unwrap_or_default(),
        schema: phonehome_model::SCHEMA_VERSION,
        limits: options.limits.clone(),
        data: first.map(|s| s.data.clone()).unwrap_or_default(),
        watch: first.map(|s| s.watch.clone()).unwrap_or_default(),
        ..Summary::default()
    };
    let devices: Vec<Option<&String>> = runs.iter().map(|r| r.summary.device.as_ref()).collect();
    if devices.windows(2).all(|w| w[0] == w[1]) {
        s.device = devices.first().copied().flatten().cloned();
    }
    let profiles: Vec<String> = runs
        .iter()
        .filter_map(|r| r.summary.profile.clone())
        .collect();
    s.profile = (!profiles.is_empty()).then(|| profiles.join(", "));
    s.vendor = runs.iter().find_map(|r| r.summary.vendor.clone());
    let mut keylog: Option<KeyLogSummary> = None;
    let mut span: Option<(String, String)> = None;
    for r in runs {
        let rs = &r.summary;
        s.inputs.extend(rs.inputs.iter().cloned());
        let c = &mut s.counts;
        c.messages += rs.counts.messages;
        c.requests += rs.counts.requests;
        c.flows += rs.counts.flows;
        c.flows_inspected += rs.counts.flows_inspected;
        for (reason, n) in &rs.counts.flows_not_inspected {
            *c.flows_not_inspected.entry(reason.clone()).or_default() += n;
        }
        if let Some(k) = &rs.keylog {
            let merged = keylog.get_or_insert_with(KeyLogSummary::default);
            merged.files.extend(k.files.iter().cloned());
            merged.sessions += k.sessions;
            for (label, n) in &k.ignored {
                *merged.ignored.entry(label.clone()).or_default() += n;
            }
        }
        if let Some((a, b)) = &rs.time_span {
            span = Some(match span {
                None => (a.clone(), b.clone()),
                Some((x, y)) => (x.min(a.clone()), y.max(b.clone())),
            });
        }
    }
    s.keylog = keylog;
    s.time_span = span;
    // Every run's own count (its listed and unlisted warnings) plus the comparison's.
    let listed_of_runs: u64 = runs.iter().map(|r| r.listed_warnings).sum();
    let of_runs: u64 = runs.iter().map(|r| r.summary.counts.warnings).sum();
    s.counts.warnings = of_runs + (warnings.len() as u64).saturating_sub(listed_of_runs);
    s.counts.findings = findings.len() as u64;
    s.counts.occurrences = findings.iter().map(|f| f.count).sum();
    s
}
