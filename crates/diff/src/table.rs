//! The terminal table of a comparison: endpoint × field × runs, like the study's.

use crate::collect::shorten;
use crate::{Class, DiffOutcome, FieldDiff, RunValues};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table as Grid};
use phonehome_report::escape_terminal;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Longest value shown in a run's cell, in characters.
const CELL_VALUE_CHARS: usize = 40;

/// How [`render_table`] lays the table out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Wrap to this many columns; as wide as the content when `None`.
    pub width: Option<u16>,
    /// Show every field; by default unlabelled `constant`, `volatile` and `varies` fields are only
    /// counted.
    pub all: bool,
}

/// Whether a field is shown without [`TableOptions::all`]: it gave a finding, or it is possibly an
/// identifier.
fn shown_by_default(f: &FieldDiff) -> bool {
    !f.finding_kinds.is_empty()
        || matches!(
            f.class,
            Class::Identity | Class::OneRunOnly | Class::Differs
        )
}

/// The kinds labelling a field (or `identifier` when it is reported unlabelled), then the
/// `pattern` kinds the comparison contradicts.
fn kind_cell(f: &FieldDiff) -> String {
    let mut parts: Vec<String> = if f.kinds.is_empty() {
        f.finding_kinds.clone()
    } else {
        f.kinds.clone()
    };
    parts.extend(f.refuted.iter().map(|k| format!("not {k} (volatile)")));
    parts.join(", ")
}

/// A run's cell: `—` when the field was absent, `(not requested)` when the endpoint was not, else
/// the first value and how many distinct values there were.
fn run_cell(v: &RunValues, class: Class) -> String {
    if v.messages == 0 {
        return "(not requested)".to_owned();
    }
    let Some(sample) = v.sample.as_deref().filter(|_| v.present > 0) else {
        return "—".to_owned();
    };
    let more = if v.distinct_capped { "+" } else { "" };
    let partial = if v.present < v.messages {
        format!(" [in {}/{}]", v.present, v.messages)
    } else {
        String::new()
    };
    if v.distinct > 1 && class == Class::Volatile {
        return format!("{}{more} values{partial}", v.distinct);
    }
    let value = escape_terminal(&shorten(sample, CELL_VALUE_CHARS));
    if v.distinct > 1 {
        format!("{value} (+{}{more} more){partial}", v.distinct - 1)
    } else {
        format!("{value}{partial}")
    }
}

/// Writes the comparison as a table: one row per field, grouped by endpoint, with its class, the
/// kinds of data labelling it and each run's value; then the counts per class and the findings.
/// Everything taken from traffic is escaped with [`escape_terminal`].
pub fn render_table<W: Write + ?Sized>(
    outcome: &DiffOutcome,
    out: &mut W,
    options: &TableOptions,
) -> io::Result<()> {
    let names = outcome.run_names();
    writeln!(
        out,
        "Differential runs: {} ({} runs, {} requests)",
        names
            .iter()
            .map(|n| escape_terminal(n))
            .collect::<Vec<_>>()
            .join(" vs "),
        names.len(),
        outcome.summary.counts.requests
    )?;
    let mut grid = Grid::new();
    grid.load_preset(UTF8_FULL_CONDENSED);
    match options.width {
        Some(w) => {
            grid.set_content_arrangement(ContentArrangement::Dynamic);
            grid.set_width(w);
        }
        None => {
            grid.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    let mut header = vec![
        Cell::new("endpoint"),
        Cell::new("field"),
        Cell::new("class"),
        Cell::new("kind"),
    ];
    header.extend(names.iter().map(|n| Cell::new(escape_terminal(n))));
    grid.set_header(header);
    let mut counts: BTreeMap<Class, usize> = BTreeMap::new();
    let mut hidden = 0usize;
    let mut rows = 0usize;
    for endpoint in &outcome.endpoints {
        let mut first = true;
        for f in &endpoint.fields {
            *counts.entry(f.class).or_default() += 1;
            if !options.all && !shown_by_default(f) {
                hidden += 1;
                continue;
            }
            let endpoint_cell = if first {
                let requests: Vec<String> = endpoint.messages.iter().map(u64::to_string).collect();
                format!(
                    "{} [{}]",
                    escape_terminal(&endpoint.endpoint.to_string()),
                    requests.join("/")
                )
            } else {
                String::new()
            };
            first = false;
            let mut row = vec![
                Cell::new(endpoint_cell),
                Cell::new(escape_terminal(&f.field.to_string())),
                Cell::new(format!(
                    "{}{}",
                    f.class.label(),
                    match f.confidence {
                        crate::Confidence::High => "",
                        crate::Confidence::Medium => " (medium)",
                        crate::Confidence::Low => " (low)",
                    }
                )),
                Cell::new(escape_terminal(&kind_cell(f))),
            ];
            row.extend(f.per_run.iter().map(|v| Cell::new(run_cell(v, f.class))));
            grid.add_row(row);
            rows += 1;
        }
    }
    if rows > 0 {
        writeln!(out, "{grid}")?;
    } else {
        writeln!(out, "(no field to show)")?;
    }
    let fields: usize = counts.values().sum();
    let per_class: Vec<String> = counts
        .iter()
        .map(|(c, n)| format!("{n} {}", c.label()))
        .collect();
    writeln!(
        out,
        "{} endpoints, {fields} fields: {}",
        outcome.endpoints.len(),
        if per_class.is_empty() {
            "none".to_owned()
        } else {
            per_class.join(", ")
        }
    )?;
    if hidden > 0 {
        writeln!(
            out,
            "{hidden} unlabelled constant, volatile or varying fields not shown"
        )?;
    }
    writeln!(
        out,
        "{} differential findings; {} warnings",
        outcome.findings.len(),
        outcome.warnings.len()
    )?;
    Ok(())
}
