//! CSV output: one row per finding ([`Csv`]) or the who-gets-what matrix ([`CsvMatrix`]).
//!
//! RFC 4180 with CRLF line ends and a header row. Every cell goes through [`csv_cell`], so a
//! capture cannot smuggle a formula, a line break or a control character into a spreadsheet.

use crate::escape::csv_cell;
use crate::matrix::{party_str, RulesBroken, WhoGetsWhat};
use crate::Report;
use phonehome_model::{Finding, FlowRecord, Summary, Warning};
use serde::Serialize;
use std::io::{self, Write};

/// The header row of [`Csv`], in column order.
pub const CSV_COLUMNS: [&str; 47] = [
    "type",
    "kind",
    "match",
    "label",
    "value",
    "form",
    "preimage",
    "confidence",
    "reason",
    "count",
    "direction",
    "first_time",
    "last_time",
    "host",
    "method",
    "url",
    "where",
    "chain",
    "client",
    "server",
    "tls",
    "http",
    "sni",
    "name",
    "name_source",
    "domain",
    "org_id",
    "org_name",
    "org_country",
    "incorporated",
    "parent_id",
    "parent_name",
    "parent_country",
    "party",
    "server_ip",
    "server_country",
    "server_country_source",
    "asn",
    "asn_org",
    "watch",
    "source_file",
    "frame",
    "entry",
    "details",
    "decimals",
    "precision_m",
    "violation",
];

/// The separator between chain elements in one cell.
pub const CHAIN_SEPARATOR: &str = " › ";

/// Writes one CSV row per finding, after a header row of [`CSV_COLUMNS`]; written at the end.
pub struct Csv<W: Write> {
    out: W,
}

impl<W: Write> Csv<W> {
    /// A CSV report written to `out`.
    pub fn new(out: W) -> Self {
        Self { out }
    }
}

/// The snake_case name serde gives a unit enum variant (`http`, `dns_query`, `known`).
fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Writes one row of already-escaped cells.
fn write_row<W: Write>(out: &mut W, cells: &[String]) -> io::Result<()> {
    out.write_all(cells.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

fn opt_num<T: ToString>(n: Option<T>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// The cells of one finding, unescaped, in [`CSV_COLUMNS`] order.
fn finding_cells(f: &Finding, rules: &[&str]) -> Vec<String> {
    let d = &f.destination;
    let t = &f.transport;
    let details: Vec<String> = f.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
    vec![
        f.record_type.to_owned(),
        f.kind.clone(),
        serde_name(&f.match_kind),
        f.label.clone(),
        f.value.clone(),
        f.form.clone(),
        f.preimage.clone(),
        f.confidence.clone(),
        opt(&f.reason).to_owned(),
        f.count.to_string(),
        f.direction.as_str().to_owned(),
        f.first_time
            .as_deref()
            .or(f.time.as_deref())
            .unwrap_or("")
            .to_owned(),
        opt(&f.last_time).to_owned(),
        opt(&f.host).to_owned(),
        opt(&f.method).to_owned(),
        f.url.clone(),
        f.location.clone(),
        f.chain.join(CHAIN_SEPARATOR),
        opt(&t.client).to_owned(),
        opt(&t.server).to_owned(),
        opt(&t.tls).to_owned(),
        opt(&t.http).to_owned(),
        opt(&t.sni).to_owned(),
        opt(&d.name).to_owned(),
        d.name_source.as_ref().map(serde_name).unwrap_or_default(),
        opt(&d.domain).to_owned(),
        d.org.as_ref().map(|o| o.id.clone()).unwrap_or_default(),
        d.org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        opt(&d.org_country).to_owned(),
        opt(&d.incorporated).to_owned(),
        d.parent.as_ref().map(|o| o.id.clone()).unwrap_or_default(),
        d.parent
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        opt(&d.parent_country).to_owned(),
        party_str(d.party).to_owned(),
        opt(&d.server_ip).to_owned(),
        opt(&d.server_country).to_owned(),
        opt(&d.server_country_source).to_owned(),
        opt_num(d.asn),
        opt(&d.asn_org).to_owned(),
        f.watch.join(" "),
        f.source.file.to_string(),
        opt_num(f.source.frame),
        opt_num(f.source.entry),
        details.join("; "),
        opt_num(f.decimals),
        opt_num(f.precision_m),
        rules.join(" "),
    ]
}

impl<W: Write> Report for Csv<W> {
    fn flow(&mut self, _flow: &FlowRecord) -> io::Result<()> {
        Ok(())
    }

    fn warning(&mut self, _warning: &Warning) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()> {
        let header: Vec<String> = CSV_COLUMNS.iter().map(|c| csv_cell(c)).collect();
        write_row(&mut self.out, &header)?;
        let broken = RulesBroken::new(summary, findings.len());
        for (i, f) in findings.iter().enumerate() {
            let rules = broken.rule_ids(i, summary);
            let cells: Vec<String> = finding_cells(f, &rules)
                .iter()
                .map(|c| csv_cell(c))
                .collect();
            write_row(&mut self.out, &cells)?;
        }
        self.out.flush()
    }
}

/// Writes the who-gets-what matrix as CSV: one row per receiver (organisation and headquarters
/// country, else domain or host), one column per kind of data, cells counting occurrences.
pub struct CsvMatrix<W: Write> {
    out: W,
}

impl<W: Write> CsvMatrix<W> {
    /// A CSV matrix written to `out`.
    pub fn new(out: W) -> Self {
        Self { out }
    }
}

impl<W: Write> Report for CsvMatrix<W> {
    fn flow(&mut self, _flow: &FlowRecord) -> io::Result<()> {
        Ok(())
    }

    fn warning(&mut self, _warning: &Warning) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, findings: &[Finding], _summary: &Summary) -> io::Result<()> {
        let m = WhoGetsWhat::new(findings);
        let mut header: Vec<String> = [
            "receiver",
            "org_id",
            "org_country",
            "parent",
            "party",
            "watch",
        ]
        .iter()
        .map(|c| csv_cell(c))
        .collect();
        header.extend(m.kinds.iter().map(|k| csv_cell(k)));
        header.push(csv_cell("total"));
        write_row(&mut self.out, &header)?;
        for (ri, r) in m.receivers.iter().enumerate() {
            let mut row = vec![
                csv_cell(&r.name),
                csv_cell(r.org_id.as_deref().unwrap_or("")),
                csv_cell(r.country.as_deref().unwrap_or("")),
                csv_cell(&r.parent_label()),
                csv_cell(r.party_str()),
                csv_cell(&r.watched.iter().cloned().collect::<Vec<_>>().join(" ")),
            ];
            row.extend((0..m.kinds.len()).map(|k| m.cell(k, ri).occurrences.to_string()));
            row.push(r.occurrences.to_string());
            write_row(&mut self.out, &row)?;
        }
        self.out.flush()
    }
}
