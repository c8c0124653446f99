//! Reading back a saved JSON Lines report, so any format can be rendered from one analysis.

use crate::Report;
use phonehome_model::{Finding, FlowRecord, Summary, Violation, Warning};
use std::io::{self, BufRead, Read};

/// Longest JSON Lines record read back; longer lines are an error naming the line.
pub const MAX_SAVED_LINE: usize = 64 << 20;

/// Most findings read back (they are held until the end, as during an analysis, which lists at
/// most 100,000); more is an error naming the line, so a hostile file cannot exhaust memory.
pub const MAX_SAVED_FINDINGS: usize = 1_000_000;

/// Why a saved JSON Lines file could not be read back.
#[derive(Debug)]
pub struct SavedError {
    /// 1-based line number, when the problem is on one line.
    pub line: Option<u64>,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for SavedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(n) => write!(f, "line {n}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for SavedError {}

/// Replays a saved JSON Lines report into `report`: flows and warnings as they come, then the
/// findings and the summary, after `prepare` has seen them (to evaluate a policy anew, say).
/// Policy `violation` records are skipped (the summary holds them). Findings are held in memory
/// until the end, as during an analysis; flows and warnings are not. Fails on an unreadable line,
/// an unknown record type or a file without a summary.
pub fn replay_jsonl(
    mut input: impl BufRead,
    report: &mut dyn Report,
    prepare: &mut dyn FnMut(&[Finding], &mut Summary),
) -> Result<Summary, SavedError> {
    let mut findings: Vec<Finding> = Vec::new();
    let mut summary: Option<Summary> = None;
    let mut buf = Vec::new();
    let mut number = 0u64;
    loop {
        buf.clear();
        number += 1;
        let read = input
            .by_ref()
            .take(MAX_SAVED_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| at(number, format!("cannot read: {e}")))?;
        if read == 0 {
            break;
        }
        if buf.len() > MAX_SAVED_LINE {
            return Err(at(
                number,
                format!("record longer than {MAX_SAVED_LINE} bytes"),
            ));
        }
        let text = buf.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_slice(text).map_err(|e| at(number, format!("not JSON: {e}")))?;
        let kind = value
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_owned();
        let io_err = |e: io::Error| at(number, format!("cannot write the report: {e}"));
        match kind.as_str() {
            "flow" => report
                .flow(&decode::<FlowRecord>(value, number)?)
                .map_err(io_err)?,
            "warning" => report
                .warning(&decode::<Warning>(value, number)?)
                .map_err(io_err)?,
            "finding" => {
                if findings.len() >= MAX_SAVED_FINDINGS {
                    return Err(at(
                        number,
                        format!("more than {MAX_SAVED_FINDINGS} findings: not a phonehome report"),
                    ));
                }
                findings.push(decode(value, number)?);
            }
            "violation" => {
                decode::<Violation>(value, number)?;
            }
            "summary" => summary = Some(decode(value, number)?),
            "" => return Err(at(number, "record without a `type`".to_owned())),
            other => return Err(at(number, format!("unknown record type `{other}`"))),
        }
    }
    let mut summary = summary.ok_or(SavedError {
        line: None,
        reason: "no `summary` record: not a complete phonehome JSON Lines report".to_owned(),
    })?;
    prepare(&findings, &mut summary);
    report.finish(&findings, &summary).map_err(|e| SavedError {
        line: None,
        reason: format!("cannot write the report: {e}"),
    })?;
    Ok(summary)
}

fn at(line: u64, reason: String) -> SavedError {
    SavedError {
        line: Some(line),
        reason,
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    line: u64,
) -> Result<T, SavedError> {
    serde_json::from_value(value).map_err(|e| at(line, format!("not a phonehome record: {e}")))
}
