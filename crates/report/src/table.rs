//! Human-readable tables for a terminal.

use crate::escape::escape_terminal;
use crate::matrix::{server_claim, CappedSet, Receiver, WhoGetsWhat};
use crate::Report;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table as Grid};
use phonehome_model::{Finding, FlowRecord, Summary, Warning};
use std::io::{self, Write};

/// Most warnings listed one by one; the rest are counted.
pub const MAX_WARNINGS_SHOWN: usize = 20;

/// The terminal report: who-gets-what matrix, findings, flow coverage and warnings, written at the
/// end. Only warnings up to [`MAX_WARNINGS_SHOWN`] are kept; flows are only counted.
pub struct Table<W: Write> {
    out: W,
    warnings: Vec<Warning>,
    warnings_total: u64,
    width: Width,
}

/// How wide the tables may be.
#[derive(Clone, Copy, Debug)]
enum Width {
    /// As wide as the content (for files and pipes).
    Content,
    /// The terminal's width, as the terminal reports it.
    Terminal,
    /// A fixed width in columns.
    Fixed(u16),
}

impl<W: Write> Table<W> {
    /// A table report written to `out` (a file or pipe): tables are as wide as their content.
    pub fn new(out: W) -> Self {
        Self {
            out,
            warnings: Vec::new(),
            warnings_total: 0,
            width: Width::Content,
        }
    }

    /// A table report for a terminal: tables wrap to the terminal's width.
    pub fn for_terminal(out: W) -> Self {
        Self {
            width: Width::Terminal,
            ..Self::new(out)
        }
    }

    /// A table report whose tables wrap to `columns`.
    pub fn with_width(out: W, columns: u16) -> Self {
        Self {
            width: Width::Fixed(columns),
            ..Self::new(out)
        }
    }

    fn grid(&self) -> Grid {
        let mut g = Grid::new();
        g.load_preset(UTF8_FULL_CONDENSED);
        match self.width {
            Width::Content => {
                g.set_content_arrangement(ContentArrangement::Disabled);
            }
            Width::Terminal => {
                g.set_content_arrangement(ContentArrangement::Dynamic);
            }
            Width::Fixed(w) => {
                g.set_content_arrangement(ContentArrangement::Dynamic);
                g.set_width(w);
            }
        }
        g
    }
}

/// A receiver's column and row name: `Xiaomi (CN)`, marked `!` when any of its findings touches
/// a watched country.
fn receiver_name(r: &Receiver) -> String {
    if r.watched.is_empty() {
        r.label()
    } else {
        format!("! {}", r.label())
    }
}

/// A capped set's members, one per line, and how many more there were.
fn lines(set: &CappedSet) -> String {
    let mut out: Vec<String> = set.items.iter().map(|s| escape_terminal(s)).collect();
    if set.more > 0 {
        out.push(format!("… and {} more", set.more));
    }
    out.join("\n")
}

impl<W: Write> Report for Table<W> {
    fn flow(&mut self, _flow: &FlowRecord) -> io::Result<()> {
        Ok(())
    }

    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        self.warnings_total += 1;
        if self.warnings.len() < MAX_WARNINGS_SHOWN {
            self.warnings.push(warning.clone());
        }
        Ok(())
    }

    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()> {
        let c = &summary.counts;
        // Receivers: watched first, then by occurrences, then by name (shared with the other
        // reports).
        let matrix = WhoGetsWhat::new(findings);
        let names: Vec<String> = matrix.receivers.iter().map(receiver_name).collect();
        writeln!(
            self.out,
            "phonehome: {} finding(s) ({} occurrence(s)) to {} receiver(s) in {} request(s); device: {}",
            c.findings,
            c.occurrences,
            matrix.receivers.len(),
            c.requests,
            escape_terminal(summary.device.as_deref().unwrap_or("(no profile)")),
        )?;
        for input in &summary.inputs {
            let what = match (&input.format, &input.error) {
                (_, Some(e)) => format!("unreadable: {}", escape_terminal(e)),
                (Some(fmt), None) => format!(
                    "{}{}, {} record(s)",
                    escape_terminal(fmt),
                    if input.gzip { "+gzip" } else { "" },
                    input.records
                ),
                (None, None) => "not read".to_owned(),
            };
            writeln!(self.out, "  input {}: {what}", escape_terminal(&input.file))?;
        }
        if let Some(policy) = &summary.policy {
            let name = policy.name.as_deref().unwrap_or(&policy.file);
            if policy.violations.is_empty() {
                writeln!(
                    self.out,
                    "\nPolicy {}: passed ({} check(s))",
                    escape_terminal(name),
                    policy.rules
                )?;
            } else {
                writeln!(
                    self.out,
                    "\nPolicy {}: VIOLATED, {} violation(s) of {} check(s):",
                    escape_terminal(name),
                    policy.violations.len(),
                    policy.rules
                )?;
                for v in &policy.violations {
                    writeln!(
                        self.out,
                        "  ✗ {}: {}",
                        escape_terminal(&v.rule),
                        escape_terminal(&v.reason)
                    )?;
                }
            }
        }
        if !summary.watch.is_empty() {
            writeln!(
                self.out,
                "  watching: {} (receivers marked ! are listed first)",
                escape_terminal(&summary.watch.join(", "))
            )?;
        }

        if !findings.is_empty() {
            // Who gets what: kinds × receivers, cells = occurrences.
            let mut g = self.grid();
            let mut header = vec![Cell::new("data \\ receiver")];
            header.extend(names.iter().map(|d| Cell::new(escape_terminal(d))));
            g.set_header(header);
            for (k, kind) in matrix.kinds.iter().enumerate() {
                let mut row = vec![Cell::new(escape_terminal(kind))];
                for r in 0..matrix.receivers.len() {
                    let n = matrix.cell(k, r).occurrences;
                    row.push(Cell::new(if n == 0 {
                        String::new()
                    } else {
                        n.to_string()
                    }));
                }
                g.add_row(row);
            }
            writeln!(self.out, "\nWho gets what (occurrences):\n{g}")?;

            let mut g = self.grid();
            g.set_header(vec![
                "receiver",
                "parent",
                "party",
                "domains",
                "server (declared country, network)",
                "watch",
                "kinds",
                "occurrences",
            ]);
            for (r, name) in matrix.receivers.iter().zip(&names) {
                g.add_row(vec![
                    escape_terminal(name),
                    escape_terminal(&r.parent_label()),
                    r.party_str().to_owned(),
                    lines(&r.domains),
                    lines(&r.servers),
                    escape_terminal(&r.watched.iter().cloned().collect::<Vec<_>>().join(", ")),
                    escape_terminal(&r.kinds.iter().cloned().collect::<Vec<_>>().join(", ")),
                    r.occurrences.to_string(),
                ]);
            }
            writeln!(
                self.out,
                "\nReceivers (organisation and headquarters; the server's declared country and network are separate claims):\n{g}"
            )?;

            let mut g = self.grid();
            g.set_header(vec![
                "kind", "match", "label", "form", "receiver", "host", "server", "request", "where",
                "chain", "count", "source",
            ]);
            for (i, f) in findings.iter().enumerate() {
                let source = match (f.source.frame, f.source.entry) {
                    (Some(fr), _) => format!("{} #{fr}", f.source.file),
                    (None, Some(e)) => format!("{} entry {e}", f.source.file),
                    _ => f.source.file.to_string(),
                };
                let request = format!("{} {}", f.method.as_deref().unwrap_or("?"), f.url);
                let matched = crate::match_label(f);
                g.add_row(vec![
                    escape_terminal(&f.kind),
                    matched,
                    escape_terminal(&f.label),
                    escape_terminal(&f.form),
                    escape_terminal(
                        matrix
                            .receiver_of
                            .get(i)
                            .and_then(|&r| names.get(r))
                            .map_or("", String::as_str),
                    ),
                    escape_terminal(f.host.as_deref().unwrap_or("")),
                    escape_terminal(&server_claim(&f.destination)),
                    escape_terminal(&truncate(&request, 100)),
                    escape_terminal(&f.location),
                    escape_terminal(&f.chain.join(" › ")),
                    f.count.to_string(),
                    escape_terminal(&source),
                ]);
            }
            writeln!(self.out, "\nFindings:\n{g}")?;
        } else {
            writeln!(self.out, "\nNo profile value was found in any request.")?;
        }

        let not: Vec<String> = c
            .flows_not_inspected
            .iter()
            .map(|(r, n)| format!("{n} {}", escape_terminal(r)))
            .collect();
        writeln!(
            self.out,
            "\nFlows: {} ({} inspected{}{})",
            c.flows,
            c.flows_inspected,
            if not.is_empty() {
                "; not inspected: "
            } else {
                ""
            },
            not.join(", ")
        )?;
        if self.warnings_total > 0 {
            writeln!(self.out, "Warnings: {}", self.warnings_total)?;
            for w in &self.warnings {
                writeln!(self.out, "  {}", escape_terminal(&w.to_string()))?;
            }
            let rest = self
                .warnings_total
                .saturating_sub(self.warnings.len() as u64);
            if rest > 0 {
                writeln!(self.out, "  … and {rest} more (all are in --format jsonl)")?;
            }
        }
        self.out.flush()
    }
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::{
        Destination, Direction, FindingTransport, MatchKind, SourceRef, WarningCode,
    };

    fn finding(kind: &str, host: &str, domain: &str) -> Finding {
        Finding {
            record_type: "finding",
            kind: kind.into(),
            match_kind: MatchKind::Known,
            label: format!("{kind} #1"),
            value: "v".into(),
            form: "plain".into(),
            preimage: "v".into(),
            confidence: "high".into(),
            count: 2,
            reason: None,
            details: Default::default(),
            decimals: None,
            precision_m: None,
            direction: Direction::Request,
            time: None,
            first_time: None,
            last_time: None,
            host: Some(host.into()),
            method: Some("GET".into()),
            url: format!("http://{host}/x?\u{1b}[2J"),
            location: "url".into(),
            chain: vec!["query:a".into()],
            transport: FindingTransport {
                client: None,
                server: None,
                tls: None,
                http: Some("1.1".into()),
                sni: None,
            },
            destination: Destination {
                domain: Some(domain.into()),
                ..Destination::default()
            },
            watch: vec![],
            source: SourceRef::frame("c.pcap".into(), 4),
        }
    }

    #[test]
    fn matrix_and_findings_are_rendered_and_escaped() {
        let mut out = Vec::new();
        let mut t = Table::new(&mut out);
        let w =
            Warning::new(WarningCode::Truncated, "c.pcap".into(), "cut \u{1b}[31m").at_offset(99);
        t.warning(&w).unwrap();
        let findings = vec![
            finding("imei", "sdk.hiido.com", "hiido.com"),
            finding("imsi", "dm.wo.com.cn", "wo.com.cn"),
        ];
        let mut summary = Summary::default();
        summary.counts.findings = 2;
        summary.counts.occurrences = 4;
        t.finish(&findings, &summary).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("hiido.com") && text.contains("wo.com.cn"),
            "{text}"
        );
        assert!(text.contains("query:a"));
        assert!(text.contains("offset 99"));
        assert!(
            !text.contains('\u{1b}'),
            "raw ESC reached the terminal: {text:?}"
        );
        assert!(text.contains("\\u{1b}[2J"));
    }

    #[test]
    fn warnings_beyond_the_cap_are_counted() {
        let mut out = Vec::new();
        let mut t = Table::with_width(&mut out, 100);
        for i in 0..(MAX_WARNINGS_SHOWN as u64 + 5) {
            t.warning(&Warning::new(WarningCode::Malformed, "f".into(), "bad").at_frame(i + 1))
                .unwrap();
        }
        t.finish(&[], &Summary::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("and 5 more"), "{text}");
        assert!(text.contains("No profile value was found"));
    }

    #[test]
    fn long_requests_are_truncated() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
