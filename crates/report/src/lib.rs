//! Output formats for phonehome's results.
//!
//! Stage `report`, the last of the pipeline. It receives [`FlowRecord`]s and [`Warning`]s as the
//! analysis produces them, then the [`Finding`]s and the [`Summary`] at the end, and writes one of:
//!
//! - [`JsonLines`]: one JSON object per line, each with a `type` (`flow`, `warning`, `finding`,
//!   and last `summary`). Flows and warnings are written as they come, so memory stays flat.
//! - [`Table`]: for a terminal: the who-gets-what matrix (rows: kinds of data, columns:
//!   destinations), the findings, flow coverage and warnings. Everything taken from traffic is
//!   escaped with [`escape_terminal`] so a capture cannot inject terminal control sequences.
//!
//! ```
//! use phonehome_report::{escape_terminal, Format};
//! assert_eq!(escape_terminal("ok\u{1b}[31m"), "ok\\u{1b}[31m");
//! assert_eq!("jsonl".parse::<Format>().ok(), Some(Format::Jsonl));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod csv;
mod escape;
mod html;
mod json_doc;
mod jsonl;
mod markdown;
mod matrix;
mod saved;
mod table;

pub use csv::{Csv, CsvMatrix, CHAIN_SEPARATOR, CSV_COLUMNS};
pub use escape::{csv_cell, escape_html, escape_terminal, is_hazardous, markdown_cell};
pub use html::{locate_in_url, Html, HtmlLimits};
pub use json_doc::{JsonDocument, MAX_DOCUMENT_FLOWS, MAX_DOCUMENT_WARNINGS};
pub use jsonl::JsonLines;
pub use markdown::{Markdown, MAX_MARKDOWN_FINDINGS};
pub use saved::{replay_jsonl, SavedError, MAX_SAVED_FINDINGS, MAX_SAVED_LINE};
pub use table::Table;

use phonehome_model::{Finding, FlowRecord, Message, Summary, Warning};
use std::io;
use std::str::FromStr;

/// An output format name as given to `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable tables ([`Table`]).
    Table,
    /// JSON Lines ([`JsonLines`]).
    Jsonl,
    /// One self-contained HTML page with charts.
    Html,
    /// Markdown tables (matrix and findings) for papers and issues.
    Markdown,
    /// CSV, one row per finding.
    Csv,
    /// CSV of the who-gets-what matrix.
    CsvMatrix,
    /// One JSON document: summary, violations, flows, warnings and findings.
    Json,
    /// Apache Parquet, one row per finding (the `phonehome-parquet` crate writes it).
    Parquet,
}

impl Format {
    /// Every format name `--format` accepts, in the order help lists them.
    pub const NAMES: [&'static str; 8] = [
        "table",
        "jsonl",
        "html",
        "markdown",
        "csv",
        "csv-matrix",
        "json",
        "parquet",
    ];

    /// Whether the format is bytes for a file rather than text for a terminal.
    pub fn is_binary(self) -> bool {
        self == Self::Parquet
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Self::Table),
            "jsonl" | "json-lines" | "ndjson" => Ok(Self::Jsonl),
            "html" => Ok(Self::Html),
            "markdown" | "md" => Ok(Self::Markdown),
            "csv" => Ok(Self::Csv),
            "csv-matrix" => Ok(Self::CsvMatrix),
            "json" => Ok(Self::Json),
            "parquet" => Ok(Self::Parquet),
            other => Err(format!(
                "unknown format `{other}` (expected one of: {})",
                Self::NAMES.join(", ")
            )),
        }
    }
}

/// How a finding matched, for people: `known`, `pattern (medium)`, `differential (identity)`.
pub fn match_label(f: &Finding) -> String {
    match f.match_kind {
        phonehome_model::MatchKind::Known => "known".to_owned(),
        phonehome_model::MatchKind::Pattern => format!("pattern ({})", f.confidence),
        phonehome_model::MatchKind::Differential => format!(
            "differential ({})",
            f.details
                .get("class")
                .map_or("?", String::as_str)
                .replace('_', " ")
        ),
        _ => "other".to_owned(),
    }
}

/// A destination for results. Flows and warnings arrive while the analysis runs; findings and the
/// summary at the end.
pub trait Report {
    /// One message (request or response), as it is built. Most reports ignore messages.
    fn message(&mut self, _message: &Message) -> io::Result<()> {
        Ok(())
    }
    /// One flow, when it closed.
    fn flow(&mut self, flow: &FlowRecord) -> io::Result<()>;
    /// One warning, when it was raised.
    fn warning(&mut self, warning: &Warning) -> io::Result<()>;
    /// The findings (sorted) and the summary; writes whatever was held back and flushes.
    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()>;
}

impl<R: Report + ?Sized> Report for Box<R> {
    fn message(&mut self, message: &Message) -> io::Result<()> {
        (**self).message(message)
    }
    fn flow(&mut self, flow: &FlowRecord) -> io::Result<()> {
        (**self).flow(flow)
    }
    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        (**self).warning(warning)
    }
    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()> {
        (**self).finish(findings, summary)
    }
}
