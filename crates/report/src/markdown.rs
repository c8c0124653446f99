//! Markdown output for papers and issues: policy violations, the who-gets-what matrix and a table
//! of findings (GitHub-flavoured Markdown tables).

use crate::escape::{clip, markdown_cell};
use crate::matrix::{RulesBroken, WhoGetsWhat};
use crate::Report;
use phonehome_model::{Finding, FlowRecord, Summary, Warning};
use std::io::{self, Write};

/// Most rows in the findings table; the rest are counted (every finding is in `--format csv`).
pub const MAX_MARKDOWN_FINDINGS: usize = 1000;
/// Longest text in one cell, in characters, before it is cut with `…`.
const MAX_CELL: usize = 120;
/// Most finding numbers listed for one violation.
const MAX_LISTED: usize = 20;

/// The Markdown report, written at the end. Flows and warnings are only counted.
pub struct Markdown<W: Write> {
    out: W,
    max_findings: usize,
    warnings: u64,
}

impl<W: Write> Markdown<W> {
    /// A Markdown report written to `out`.
    pub fn new(out: W) -> Self {
        Self::with_max_findings(out, MAX_MARKDOWN_FINDINGS)
    }

    /// A Markdown report whose findings table has at most `max_findings` rows.
    pub fn with_max_findings(out: W, max_findings: usize) -> Self {
        Self {
            out,
            max_findings,
            warnings: 0,
        }
    }
}

/// Text from traffic as a table cell: cut, then escaped.
fn cell(s: &str) -> String {
    markdown_cell(&clip(s, MAX_CELL))
}

/// `file #frame`, `file entry N` or `file`.
pub(crate) fn source_of(f: &Finding) -> String {
    match (f.source.frame, f.source.entry) {
        (Some(fr), _) => format!("{} #{fr}", f.source.file),
        (None, Some(e)) => format!("{} entry {e}", f.source.file),
        _ => f.source.file.to_string(),
    }
}

/// `known`, `pattern (confidence)` or `differential (class)`.
pub(crate) fn match_of(f: &Finding) -> String {
    crate::match_label(f)
}

fn row<W: Write>(out: &mut W, cells: &[String]) -> io::Result<()> {
    writeln!(out, "| {} |", cells.join(" | "))
}

impl<W: Write> Report for Markdown<W> {
    fn flow(&mut self, _flow: &FlowRecord) -> io::Result<()> {
        Ok(())
    }

    fn warning(&mut self, _warning: &Warning) -> io::Result<()> {
        self.warnings += 1;
        Ok(())
    }

    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()> {
        let m = WhoGetsWhat::new(findings);
        let broken = RulesBroken::new(summary, findings.len());
        let c = &summary.counts;
        let out = &mut self.out;

        writeln!(out, "# phonehome report\n")?;
        let mut facts = vec![format!(
            "**Device:** {}",
            cell(summary.device.as_deref().unwrap_or("(no profile)"))
        )];
        if let Some((a, b)) = &summary.time_span {
            facts.push(format!("**Time:** {} – {}", cell(a), cell(b)));
        }
        if !summary.tool.is_empty() {
            facts.push(format!("**Tool:** {}", cell(&summary.tool)));
        }
        writeln!(out, "{}\n", facts.join(" · "))?;
        let not: Vec<String> = c
            .flows_not_inspected
            .iter()
            .map(|(r, n)| format!("{n} {}", cell(r)))
            .collect();
        let not = if not.is_empty() {
            String::new()
        } else {
            format!("; not inspected: {}", not.join(", "))
        };
        writeln!(
            out,
            "**Findings:** {} ({} occurrences) to {} receivers in {} requests · **Flows:** {} ({} inspected{}) · **Warnings:** {}\n",
            findings.len(),
            findings.iter().map(|f| f.count).fold(0u64, u64::saturating_add),
            m.receivers.len(),
            c.requests,
            c.flows,
            c.flows_inspected,
            not,
            c.warnings.max(self.warnings),
        )?;
        if !summary.watch.is_empty() {
            writeln!(out, "**Watching:** {}\n", cell(&summary.watch.join(", ")))?;
        }

        if let Some(p) = &summary.policy {
            let name = p
                .name
                .as_deref()
                .map(|n| format!(" ({})", cell(n)))
                .unwrap_or_default();
            if p.violations.is_empty() {
                writeln!(
                    out,
                    "Policy {}{name}: {} rules, no violation.\n",
                    cell(&p.file),
                    p.rules
                )?;
            } else {
                writeln!(out, "## Policy violations\n")?;
                writeln!(
                    out,
                    "Policy {}{name}: {} rules, {} violations. Findings are numbered as in the findings table.\n",
                    cell(&p.file),
                    p.rules,
                    p.violations.len()
                )?;
                row(out, &["rule".into(), "reason".into(), "findings".into()])?;
                writeln!(out, "|---|---|---|")?;
                for v in &p.violations {
                    let mut nums: Vec<String> = v
                        .findings
                        .iter()
                        .filter(|&&i| i < findings.len())
                        .take(MAX_LISTED)
                        .map(|i| (i + 1).to_string())
                        .collect();
                    if v.findings.len() > MAX_LISTED {
                        nums.push(format!("… {} more", v.findings.len() - MAX_LISTED));
                    }
                    row(out, &[cell(&v.rule), cell(&v.reason), nums.join(", ")])?;
                }
                writeln!(out)?;
            }
        }

        if findings.is_empty() {
            writeln!(out, "No profile value was found in any request.")?;
            return out.flush();
        }

        writeln!(out, "## Who gets what\n")?;
        writeln!(
            out,
            "Occurrences of each kind of data per receiver (organisation and headquarters country; else domain). `!` marks a receiver in a watched country.\n"
        )?;
        let mut header = vec!["receiver".to_owned(), "watch".to_owned()];
        header.extend(m.kinds.iter().map(|k| cell(k)));
        header.push("total".to_owned());
        row(out, &header)?;
        writeln!(out, "|---|---|{}---:|", "---:|".repeat(m.kinds.len()))?;
        for (ri, r) in m.receivers.iter().enumerate() {
            let mut cells = vec![
                format!(
                    "{}{}",
                    if r.watched.is_empty() { "" } else { "! " },
                    cell(&r.label())
                ),
                cell(&r.watched.iter().cloned().collect::<Vec<_>>().join(" ")),
            ];
            cells.extend((0..m.kinds.len()).map(|k| match m.cell(k, ri).occurrences {
                0 => String::new(),
                n => n.to_string(),
            }));
            cells.push(r.occurrences.to_string());
            row(out, &cells)?;
        }
        writeln!(out)?;

        writeln!(out, "## Findings\n")?;
        // Findings that break a rule first, then the others, each in report order.
        let order = (0..findings.len())
            .filter(|&i| !broken.of(i).is_empty())
            .chain((0..findings.len()).filter(|&i| broken.of(i).is_empty()));
        row(
            out,
            &[
                "#", "kind", "match", "receiver", "host", "where", "chain", "count", "source",
                "rule",
            ]
            .map(String::from),
        )?;
        writeln!(out, "|--:|---|---|---|---|---|---|--:|---|---|")?;
        for i in order.take(self.max_findings) {
            let f = &findings[i];
            let r = &m.receivers[m.receiver_of[i]];
            row(
                out,
                &[
                    (i + 1).to_string(),
                    cell(&f.kind),
                    cell(&match_of(f)),
                    format!(
                        "{}{}",
                        if f.watch.is_empty() { "" } else { "! " },
                        cell(&r.label())
                    ),
                    cell(f.host.as_deref().unwrap_or("")),
                    cell(&f.location),
                    cell(&f.chain.join(" › ")),
                    f.count.to_string(),
                    cell(&source_of(f)),
                    cell(&broken.rule_ids(i, summary).join(" ")),
                ],
            )?;
        }
        if findings.len() > self.max_findings {
            writeln!(
                out,
                "\n… and {} more findings (every finding is in `--format csv` and `--format json`).",
                findings.len() - self.max_findings
            )?;
        }
        out.flush()
    }
}
