//! Apache Parquet output for phonehome: one row per finding.
//!
//! [`ParquetReport`] is a [`Report`] whose `finish` writes one Parquet file of the findings with
//! the schema [`finding_schema`] (the same fields as a JSON Lines `finding` record, plus the
//! profile's `device` and the policy rules each finding `violations`), so a run can be loaded into
//! Spark, DuckDB, pandas or polars as a table. Times are `timestamp(microsecond, "UTC")`.
//!
//! The file is written in row groups of [`ROW_GROUP_ROWS`] findings, built [`BATCH_ROWS`] at a time,
//! so memory beyond the findings themselves stays bounded however many there are. Columns are
//! zstd-compressed. The run's [`Summary`] is kept as JSON in the file's key-value metadata under
//! [`SUMMARY_KEY`]. Flows and warnings are not written.
//!
//! ```
//! use phonehome_model::Summary;
//! let mut bytes = Vec::new();
//! phonehome_parquet::write_findings(&mut bytes, &[], &Summary::default()).unwrap();
//! assert_eq!(&bytes[..4], b"PAR1");
//! assert_eq!(phonehome_parquet::finding_schema().field(0).name(), "device");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod columns;
mod schema;

pub use schema::finding_schema;

use arrow_schema::ArrowError;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use phonehome_model::{Finding, FlowRecord, Summary, Warning};
use phonehome_report::Report;
use std::fmt;
use std::io::{self, Write};

/// Findings per Parquet row group (the last one may hold fewer).
pub const ROW_GROUP_ROWS: usize = 65_536;

/// Findings converted to Arrow at a time (a divisor of [`ROW_GROUP_ROWS`]).
pub const BATCH_ROWS: usize = 8_192;

/// Key of the file's key-value metadata entry that holds the run's [`Summary`] as JSON.
pub const SUMMARY_KEY: &str = "phonehome.summary";

/// Why a findings file could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum ParquetWriteError {
    /// A finding's time is not an RFC 3339 date-time (a finding read back from edited JSON Lines).
    BadTime {
        /// Index of the finding in the slice given.
        finding: usize,
        /// The field (`time`, `first_time`, `last_time`).
        field: &'static str,
        /// The text found there.
        value: String,
    },
    /// An enum value did not serialise as a name (a model change this crate does not handle).
    NotAName {
        /// Index of the finding in the slice given.
        finding: usize,
        /// The field (`match`, `destination.party`…).
        field: &'static str,
    },
    /// Arrow rejected a column (a bug in this crate).
    Arrow(ArrowError),
    /// The Parquet writer failed, including when the output could not be written to.
    Parquet(ParquetError),
}

impl fmt::Display for ParquetWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadTime {
                finding,
                field,
                value,
            } => write!(
                f,
                "finding {finding}: `{field}` is not an RFC 3339 time: `{value}`"
            ),
            Self::NotAName { finding, field } => {
                write!(
                    f,
                    "finding {finding}: `{field}` does not serialise as a name"
                )
            }
            Self::Arrow(e) => write!(f, "building the Arrow columns: {e}"),
            Self::Parquet(e) => write!(f, "writing Parquet: {e}"),
        }
    }
}

impl std::error::Error for ParquetWriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Arrow(e) => Some(e),
            Self::Parquet(e) => Some(e),
            Self::BadTime { .. } | Self::NotAName { .. } => None,
        }
    }
}

impl From<ArrowError> for ParquetWriteError {
    fn from(e: ArrowError) -> Self {
        Self::Arrow(e)
    }
}

impl From<ParquetError> for ParquetWriteError {
    fn from(e: ParquetError) -> Self {
        Self::Parquet(e)
    }
}

impl From<ParquetWriteError> for io::Error {
    fn from(e: ParquetWriteError) -> Self {
        match e {
            ParquetWriteError::Parquet(ParquetError::External(inner)) => {
                match inner.downcast::<io::Error>() {
                    Ok(io) => *io,
                    Err(other) => io::Error::other(other),
                }
            }
            ParquetWriteError::BadTime { .. } | ParquetWriteError::NotAName { .. } => {
                io::Error::new(io::ErrorKind::InvalidData, e)
            }
            other => io::Error::other(other),
        }
    }
}

/// Writes `findings` to `out` as one Parquet file of [`finding_schema`], with `summary` as JSON
/// under [`SUMMARY_KEY`] in its key-value metadata, and flushes `out`.
pub fn write_findings<W: Write + Send>(
    mut out: W,
    findings: &[Finding],
    summary: &Summary,
) -> Result<(), ParquetWriteError> {
    let summary_json = serde_json::to_string(summary)
        .map_err(|e| ParquetError::General(format!("serialising the summary: {e}")))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            SUMMARY_KEY.to_owned(),
            summary_json,
        )]))
        .build();
    let mut writer = ArrowWriter::try_new(&mut out, finding_schema(), Some(properties))?;
    let violations = columns::ViolationIndex::new(summary, findings.len());
    let device = summary.device.as_deref();
    for (n, chunk) in findings.chunks(BATCH_ROWS).enumerate() {
        let batch = columns::finding_batch(chunk, n * BATCH_ROWS, device, &violations)?;
        writer.write(&batch)?;
    }
    writer.close()?;
    out.flush()
        .map_err(|e| ParquetError::External(Box::new(e)))?;
    Ok(())
}

/// A [`Report`] that writes the findings as Parquet when the run finishes (see the crate docs).
/// Flows, warnings and messages are ignored.
pub struct ParquetReport<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> ParquetReport<W> {
    /// A report whose Parquet file goes to `out` (it need not be seekable).
    pub fn new(out: W) -> Self {
        Self { out }
    }

    /// The output, once written.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Report for ParquetReport<W> {
    fn flow(&mut self, _flow: &FlowRecord) -> io::Result<()> {
        Ok(())
    }

    fn warning(&mut self, _warning: &Warning) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()> {
        write_findings(&mut self.out, findings, summary).map_err(io::Error::from)
    }
}
