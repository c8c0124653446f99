//! One JSON document for the whole run.

use crate::Report;
use phonehome_model::{Finding, FlowRecord, Summary, Warning};
use serde::Serialize;
use std::io::{self, Write};

/// Most flows kept for the document; the rest are counted in `flows_total`.
pub const MAX_DOCUMENT_FLOWS: u64 = 100_000;
/// Most warnings kept for the document; the rest are counted in `warnings_total`.
pub const MAX_DOCUMENT_WARNINGS: u64 = 100_000;

/// Writes one JSON object at the end:
/// `{"type", "schema", "summary", "violations", "findings", "flows", "flows_total",
/// "warnings", "warnings_total"}`. Flows and warnings are kept as serialised JSON up to
/// [`MAX_DOCUMENT_FLOWS`] and [`MAX_DOCUMENT_WARNINGS`]; the totals count all of them.
pub struct JsonDocument<W: Write> {
    out: W,
    /// The flows kept, each serialised, joined by commas.
    flows: Vec<u8>,
    flows_kept: u64,
    flows_total: u64,
    max_flows: u64,
    /// The warnings kept, each serialised, joined by commas.
    warnings: Vec<u8>,
    warnings_kept: u64,
    warnings_total: u64,
    max_warnings: u64,
}

impl<W: Write> JsonDocument<W> {
    /// A JSON document written to `out`, keeping the default numbers of flows and warnings.
    pub fn new(out: W) -> Self {
        Self::with_caps(out, MAX_DOCUMENT_FLOWS, MAX_DOCUMENT_WARNINGS)
    }

    /// A JSON document keeping at most `max_flows` flows and `max_warnings` warnings.
    pub fn with_caps(out: W, max_flows: u64, max_warnings: u64) -> Self {
        Self {
            out,
            flows: Vec::new(),
            flows_kept: 0,
            flows_total: 0,
            max_flows,
            warnings: Vec::new(),
            warnings_kept: 0,
            warnings_total: 0,
            max_warnings,
        }
    }
}

/// Appends `item` to a comma-joined list of serialised JSON values.
fn keep<T: Serialize>(list: &mut Vec<u8>, item: &T) -> io::Result<()> {
    if !list.is_empty() {
        list.push(b',');
    }
    serde_json::to_writer(&mut *list, item).map_err(io::Error::from)
}

impl<W: Write> Report for JsonDocument<W> {
    fn flow(&mut self, flow: &FlowRecord) -> io::Result<()> {
        self.flows_total += 1;
        if self.flows_kept < self.max_flows {
            keep(&mut self.flows, flow)?;
            self.flows_kept += 1;
        }
        Ok(())
    }

    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        self.warnings_total += 1;
        if self.warnings_kept < self.max_warnings {
            keep(&mut self.warnings, warning)?;
            self.warnings_kept += 1;
        }
        Ok(())
    }

    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()> {
        let out = &mut self.out;
        out.write_all(b"{\"type\":\"phonehome\",\"schema\":")?;
        serde_json::to_writer(&mut *out, &summary.schema)?;
        out.write_all(b",\"summary\":")?;
        serde_json::to_writer(&mut *out, summary)?;
        out.write_all(b",\"violations\":")?;
        let none = Vec::new();
        let violations = summary.policy.as_ref().map_or(&none, |p| &p.violations);
        serde_json::to_writer(&mut *out, violations)?;
        out.write_all(b",\"findings\":[")?;
        for (i, f) in findings.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, f)?;
        }
        out.write_all(b"],\"flows\":[")?;
        out.write_all(&self.flows)?;
        write!(out, "],\"flows_total\":{},\"warnings\":[", self.flows_total)?;
        out.write_all(&self.warnings)?;
        writeln!(out, "],\"warnings_total\":{}}}", self.warnings_total)?;
        self.flows = Vec::new();
        self.warnings = Vec::new();
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::WarningCode;

    #[test]
    fn warnings_beyond_the_cap_are_counted_and_the_document_parses() {
        let mut out = Vec::new();
        let mut d = JsonDocument::with_caps(&mut out, 10, 2);
        for i in 0..5 {
            d.warning(&Warning::new(WarningCode::Gap, "c.pcap".into(), "hole").at_frame(i + 1))
                .unwrap();
        }
        d.finish(&[], &Summary::default()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["warnings"].as_array().unwrap().len(), 2);
        assert_eq!(v["warnings"][1]["frame"], 2);
        assert_eq!(v["warnings_total"], 5);
        assert_eq!(v["flows"].as_array().unwrap().len(), 0);
        assert_eq!(v["flows_total"], 0);
        assert_eq!(v["violations"].as_array().unwrap().len(), 0);
        assert!(v["summary"].is_object());
    }
}
