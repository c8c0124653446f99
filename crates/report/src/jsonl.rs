//! JSON Lines output.

use crate::Report;
use phonehome_model::{Finding, FlowRecord, Summary, Warning};
use serde::Serialize;
use std::io::{self, Write};

/// Writes one JSON object per line: `flow` and `warning` records as they come, then every policy
/// `violation`, every `finding`, and the `summary`.
pub struct JsonLines<W: Write> {
    out: W,
}

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    record_type: &'static str,
    #[serde(flatten)]
    inner: &'a T,
}

impl<W: Write> JsonLines<W> {
    /// JSON Lines written to `out` (buffer it: this writes small pieces).
    pub fn new(out: W) -> Self {
        Self { out }
    }

    fn line<T: Serialize>(&mut self, record_type: &'static str, inner: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &Tagged { record_type, inner })?;
        self.out.write_all(b"\n")
    }
}

impl<W: Write> Report for JsonLines<W> {
    fn flow(&mut self, flow: &FlowRecord) -> io::Result<()> {
        self.line("flow", flow)
    }

    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        self.line("warning", warning)
    }

    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()> {
        // Policy violations come first (they are also in the summary's `policy`).
        for v in summary.policy.iter().flat_map(|p| &p.violations) {
            self.line("violation", v)?;
        }
        for f in findings {
            serde_json::to_writer(&mut self.out, f)?;
            self.out.write_all(b"\n")?;
        }
        self.line("summary", summary)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::{Protocol, SourceRef, WarningCode};

    #[test]
    fn every_line_is_json_with_a_type_and_summary_is_last() {
        let mut out = Vec::new();
        let mut j = JsonLines::new(&mut out);
        j.warning(&Warning::new(WarningCode::Truncated, "c.pcap".into(), "cut").at_offset(7))
            .unwrap();
        let flow = FlowRecord {
            protocol: Protocol::Tcp,
            client: "10.0.0.2:5000".parse().unwrap(),
            server: "203.0.113.7:80".parse().unwrap(),
            names: vec![],
            destination: Default::default(),
            tls: None,
            sni: None,
            ech: false,
            alpn: vec![],
            app: Some("http/1.1".into()),
            bytes_client: 10,
            bytes_server: 20,
            packets: 3,
            messages: 2,
            inspected: true,
            reason: None,
            first_time: None,
            last_time: None,
            source: SourceRef::frame("c.pcap".into(), 1),
        };
        j.flow(&flow).unwrap();
        j.finish(&[], &Summary::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["type"], "warning");
        assert_eq!(lines[0]["offset"], 7);
        assert_eq!(lines[0]["code"], "truncated");
        assert_eq!(lines[1]["type"], "flow");
        assert_eq!(lines[1]["server"], "203.0.113.7:80");
        assert_eq!(lines[1]["inspected"], true);
        assert_eq!(lines[2]["type"], "summary");
    }
}
