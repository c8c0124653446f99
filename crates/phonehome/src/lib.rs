//! The phonehome pipeline: one call runs every stage over a set of inputs.
//!
//! ```text
//! ingest ─▶ wire ─▶ flow (IP defrag, TCP) ─▶ protocol (HTTP/1.1) ─▶ message ─┐
//! ingest (HAR) ───────────────────────────────────────────────────▶ message ─┤
//!                                   ┌────────────────────────────────────────┘
//!                                   ▼
//!                      decode ─▶ detect ─▶ attribute ─▶ findings ─▶ report
//! ```
//!
//! This is the only crate that knows that order. [`Analyzer`] owns the detector, the attributor and
//! the findings; [`Analyzer::analyze_file`] sniffs one input by content and streams it through the
//! stages (a capture is never held in memory), handing flows and warnings to a [`Report`] as they
//! happen; [`Analyzer::finish`] writes the findings and the summary.
//!
//! Everything after [`phonehome_model::Message`] is shared by captures and HAR files: `capture.rs`
//! and `har.rs` both end by calling `Analyzer::message`.
//!
//! ```no_run
//! use phonehome::{Analyzer, Options};
//! use phonehome_report::JsonLines;
//! let mut analyzer = Analyzer::new(Options::default());
//! let mut report = JsonLines::new(std::io::stdout().lock());
//! let input = analyzer.analyze_file(std::path::Path::new("capture.pcapng"), "capture.pcapng".into(), &mut report);
//! assert!(input.error.is_none());
//! analyzer.finish(&mut report).expect("write report");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod capture;
mod findings;
mod har;
mod input;
pub mod redact;

pub use phonehome_detect::{Profile, ProfileError, BUILTIN_KINDS};
pub use phonehome_model as model;
pub use phonehome_report as report;
pub use phonehome_report::{Format, JsonLines, Report, Table};

use findings::FindingSet;
pub use phonehome_attribute::entity::EntityDb;
use phonehome_attribute::Attributor;
use phonehome_decode::DecodeLimits;
use phonehome_detect::Detector;
use phonehome_model::{
    Direction, InputSummary, KeyLogSummary, Limits, Message, Summary, Timestamp, Warning,
    WarningCode,
};
pub use phonehome_policy::{parse_country_code, Policy, PolicyError};
pub use phonehome_tls::KeyLog;
use std::path::Path;
use std::sync::Arc;

/// What an analysis needs besides its inputs.
#[derive(Debug, Default)]
pub struct Options {
    /// The device profile, when one was given.
    pub profile: Option<Profile>,
    /// The profile's file name, for the summary.
    pub profile_file: Option<String>,
    /// The caps in force.
    pub limits: Limits,
    /// TLS secrets from `--keylog` files (each capture adds its own Decryption Secrets Blocks).
    pub keylog: KeyLog,
    /// The `--keylog` files `keylog` was read from, for the summary.
    pub keylog_files: Vec<String>,
    /// Entity data to attribute with (the built-in data with `--entities` overlays); the
    /// built-in data when `None`.
    pub entities: Option<EntityDb>,
    /// Countries of concern (`--watch`, ISO 3166 alpha-2).
    pub watch: Vec<String>,
    /// Counters a progress display reads while the analysis runs, when one is shown.
    pub progress: Option<Arc<Progress>>,
    /// The vetting policy evaluated over the findings at the end (`--policy`).
    pub policy: Option<Policy>,
}

/// Counters of a running analysis, updated as it goes (relaxed atomics: a display reads them from
/// another thread).
#[derive(Debug, Default)]
pub struct Progress {
    /// Input bytes read so far (compressed bytes for a gzip input).
    pub bytes: std::sync::atomic::AtomicU64,
    /// Messages built so far.
    pub messages: std::sync::atomic::AtomicU64,
    /// Occurrences of personal data found so far.
    pub occurrences: std::sync::atomic::AtomicU64,
}

/// Runs inputs through the pipeline and accumulates findings and totals.
pub struct Analyzer {
    options: Options,
    detector: Detector,
    decode_limits: DecodeLimits,
    attributor: Attributor,
    findings: FindingSet,
    summary: Summary,
    first_time: Option<Timestamp>,
    last_time: Option<Timestamp>,
    keylog: Arc<KeyLog>,
}

impl Analyzer {
    /// An analyzer for `options`; builds the detector's automaton once.
    pub fn new(options: Options) -> Self {
        let keylog = Arc::new(options.keylog.clone());
        // Without a profile there are no known values, but identifiers nobody listed are still
        // looked for.
        let detector = Detector::new(options.profile.as_ref().unwrap_or(&Profile::default()));
        let decode_limits = DecodeLimits::from_limits(&options.limits);
        let vendor = options.profile.as_ref().and_then(|p| p.vendor.clone());
        let mut attributor = Attributor::new()
            .with_vendor(vendor.clone())
            .with_watch(options.watch.clone());
        if let Some(entities) = &options.entities {
            attributor = attributor.with_entities(entities.clone());
        }
        let summary = Summary {
            tool: format!("phonehome {}", env!("CARGO_PKG_VERSION")),
            schema: phonehome_model::SCHEMA_VERSION,
            device: options.profile.as_ref().and_then(|p| p.name.clone()),
            profile: options.profile_file.clone(),
            limits: options.limits.clone(),
            data: attributor.data_versions().into_iter().collect(),
            watch: attributor.watch().to_vec(),
            vendor,
            keylog: (!options.keylog_files.is_empty()).then(|| KeyLogSummary {
                files: options.keylog_files.clone(),
                sessions: options.keylog.sessions() as u64,
                ignored: options.keylog.ignored().clone(),
            }),
            ..Summary::default()
        };
        Self {
            options,
            detector,
            decode_limits,
            attributor,
            findings: FindingSet::default(),
            summary,
            first_time: None,
            last_time: None,
            keylog,
        }
    }

    /// The caps in force.
    pub fn limits(&self) -> &Limits {
        &self.options.limits
    }

    /// Analyses one input file, recognised by its content (pcap, pcapng, either gzip-compressed, or
    /// HAR). Never fails: an input that cannot be read at all comes back with `error` set (and a
    /// warning is reported); problems inside a readable input are reported as warnings and the rest
    /// of it is still analysed.
    pub fn analyze_file(
        &mut self,
        path: &Path,
        name: Arc<str>,
        report: &mut dyn Report,
    ) -> InputSummary {
        let summary = input::analyze_input(self, path, name, report);
        self.summary.inputs.push(summary.clone());
        summary
    }

    /// Handles one message from any source: counts it and, for a request, runs decode → detect →
    /// attribute over it.
    fn message(&mut self, msg: &Message, report: &mut dyn Report) {
        self.summary.counts.messages += 1;
        if let Some(p) = &self.options.progress {
            p.messages
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let _ = report.message(msg);
        if let Some(t) = msg.time {
            self.first_time = Some(self.first_time.map_or(t, |f| f.min(t)));
            self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
        }
        if msg.direction != Direction::Request {
            return;
        }
        self.summary.counts.requests += 1;
        self.detect(msg, None, report);
    }

    /// Handles the client bytes of a flow no parser claims: scanned like a request body, and
    /// reported with `where: stream`. Not counted as a message.
    fn stream_message(&mut self, msg: &Message, report: &mut dyn Report) {
        self.detect(msg, Some("stream"), report);
    }

    /// decode → detect → attribute over one request; `location` overrides where the hits are
    /// said to be (for stream payloads, which have no message structure).
    fn detect(&mut self, msg: &Message, location: Option<&str>, report: &mut dyn Report) {
        let (hits, decoded) =
            phonehome_detect::detect_message(msg, &self.detector, &self.decode_limits);
        for reason in decoded.limits_hit {
            let mut w = Warning::new(WarningCode::Limit, msg.source.file.clone(), reason);
            w.frame = msg.source.frame;
            w.entry = msg.source.entry;
            self.warn(&w, report);
        }
        if let Some(p) = &self.options.progress {
            p.occurrences
                .fetch_add(hits.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        for mut hit in hits {
            if let Some(location) = location {
                hit.location = location.to_owned();
            }
            if !self.findings.add(msg, hit, &self.attributor) && self.findings.dropped == 1 {
                let reason = format!(
                    "more than {} distinct findings; later new ones are counted in the summary, not listed",
                    findings::MAX_FINDINGS
                );
                let mut w = Warning::new(WarningCode::Limit, msg.source.file.clone(), reason);
                w.frame = msg.source.frame;
                w.entry = msg.source.entry;
                self.warn(&w, report);
            }
        }
    }

    /// Reports a warning that arose outside the inputs (e.g. about the device profile) and counts it.
    pub fn report_warning(&mut self, warning: &Warning, report: &mut dyn Report) {
        self.warn(warning, report);
    }

    /// Counts and reports a warning.
    fn warn(&mut self, warning: &Warning, report: &mut dyn Report) {
        self.summary.counts.warnings += 1;
        if let Err(e) = report.warning(warning) {
            // The report's own output failing is not the capture's fault; it surfaces at finish().
            let _ = e;
        }
    }

    /// Writes the findings and the summary to `report` and returns the summary.
    pub fn finish(mut self, report: &mut dyn Report) -> std::io::Result<Summary> {
        self.summary.counts.findings_dropped = self.findings.dropped;
        let findings = self.findings.into_sorted();
        self.summary.counts.findings = findings.len() as u64;
        self.summary.counts.occurrences = findings.iter().map(|f| f.count).sum();
        self.summary.time_span = self
            .first_time
            .zip(self.last_time)
            .map(|(a, b)| (a.to_rfc3339(), b.to_rfc3339()));
        if let Some(policy) = &self.options.policy {
            self.summary.policy = Some(policy.evaluate(&findings, &self.summary));
        }
        report.finish(&findings, &self.summary)?;
        Ok(self.summary)
    }
}
