//! One self-contained HTML page: no script, no external resource (a Content-Security-Policy
//! forbids both), inline CSS with a print style, SVG charts drawn here.
//!
//! Sections, in order: policy violations (when any), summary, who-gets-what matrix, receivers,
//! charts, timeline, evidence per finding, coverage (flows not inspected, warnings). Every string
//! from traffic or input passes [`escape_html`](crate::escape_html); the template uses a fixed set
//! of elements, attributes and classes, and ids made only of numbers.

mod evidence;
pub use evidence::locate as locate_in_url;
mod svg;

use crate::escape::{clip, escape_html as esc};
use crate::matrix::{by_country, RulesBroken, WhoGetsWhat};
use crate::Report;
use phonehome_model::{Finding, FlowRecord, Summary, Timestamp, Warning};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};
use svg::{Bar, FlowTimes, TimelineRow};

/// How much the HTML report renders one by one; the matrix, charts and counts always cover
/// everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HtmlLimits {
    /// Most findings whose evidence is shown per kind of data and receiver.
    pub evidence_per_group: usize,
    /// Most findings whose evidence is shown in all.
    pub evidence_total: usize,
    /// Most warnings listed one by one (the rest are counted).
    pub warnings: usize,
    /// Most hosts whose flows are tallied for the coverage table.
    pub hosts: usize,
    /// Most receivers drawn in the timeline.
    pub timeline_rows: usize,
}

impl Default for HtmlLimits {
    fn default() -> Self {
        Self {
            evidence_per_group: 10,
            evidence_total: 1500,
            warnings: 100,
            hosts: 10_000,
            timeline_rows: 25,
        }
    }
}

/// Flows to one host.
#[derive(Clone, Copy, Debug, Default)]
struct HostFlows {
    flows: u64,
    not_inspected: u64,
}

/// The HTML report. Flows are counted (per host, up to a cap, and over time in bounded
/// buckets) and at most [`HtmlLimits::warnings`] warnings are kept; the page is written at the
/// end.
pub struct Html<W: Write> {
    out: W,
    limits: HtmlLimits,
    warnings: Vec<Warning>,
    warnings_total: u64,
    flows: u64,
    flows_inspected: u64,
    hosts: HashMap<String, HostFlows>,
    hosts_overflow: u64,
    times: FlowTimes,
}

impl<W: Write> Html<W> {
    /// An HTML report written to `out`, with the default [`HtmlLimits`].
    pub fn new(out: W) -> Self {
        Self::with_limits(out, HtmlLimits::default())
    }

    /// An HTML report written to `out`, rendering at most what `limits` allows one by one.
    pub fn with_limits(out: W, limits: HtmlLimits) -> Self {
        Self {
            out,
            limits,
            warnings: Vec::new(),
            warnings_total: 0,
            flows: 0,
            flows_inspected: 0,
            hosts: HashMap::new(),
            hosts_overflow: 0,
            times: FlowTimes::default(),
        }
    }
}

/// The stylesheet: screen and print. Fixed text, no `url(` and no `@import`.
const CSS: &str = r#"
:root{--fg:#1d2329;--muted:#5b6670;--line:#d5dbe1;--bg2:#f4f6f8;--bar:#3f6fa3;--watch:#b3261e;--watchbg:#fdeceb;--mark:#ffe27a;--ok:#2f7d4f}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1280px;padding:0 1.5rem 3rem}
header{border-bottom:2px solid var(--fg);margin-bottom:1rem;padding-top:1rem}
h1{font-size:1.6rem;margin:.2rem 0}
h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
h4{font-size:.95rem;margin:1rem 0 .3rem}
.sub,.muted,.note{color:var(--muted)}
.note{font-size:.9em;font-style:italic}
nav.toc{font-size:.9em;margin:.5rem 0 1rem}
nav.toc a{margin-right:.9rem}
a{color:var(--bar)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.92em}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:var(--bg2)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.wrap{overflow-x:auto;max-width:100%}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}
dl.kv dt{font-weight:600}
dl.kv dd{margin:0}
.watch th,.watch td{background:var(--watchbg)}
tr.watch th{color:var(--watch)}
.badge{display:inline-block;font-size:.78em;padding:0 .4em;border-radius:.6em;border:1px solid var(--line);background:var(--bg2);white-space:nowrap}
.badge.watch{border-color:var(--watch);color:var(--watch);background:var(--watchbg)}
.badge.rule{border-color:#7a4b00;color:#7a4b00;background:#fff4d6}
section.viol{border:2px solid var(--watch);border-radius:.4rem;padding:0 1rem .6rem;background:var(--watchbg)}
section.viol h2{color:var(--watch);border-color:var(--watch)}
td.h0{color:var(--muted)}
td.h1{background:#e8f0f8}td.h2{background:#c9dcef}td.h3{background:#9fc0e2}td.h4{background:#6f9fd0;color:#fff}
.watch td.h1,.watch td.h2{background:#f8d3cf}.watch td.h3,.watch td.h4{background:#e58a80;color:#fff}
figure{margin:.5rem 0 1.2rem}
figcaption{color:var(--muted);font-size:.9em}
svg.chart{max-width:100%;height:auto;font-size:12px}
svg .lbl{fill:var(--fg)}
svg .val{fill:var(--muted)}
svg .bar rect{fill:var(--bar)}
svg .bar.watch rect{fill:var(--watch)}
svg .bar.watch .lbl{fill:var(--watch);font-weight:600}
svg .ins{fill:var(--bar)}
svg .notins{fill:#c4a000}
svg .span{stroke:var(--line);stroke-width:3}
svg .dot{fill:var(--bar);fill-opacity:.75}
svg .row.watch .dot{fill:var(--watch)}
svg .row.watch .lbl{fill:var(--watch);font-weight:600}
svg .axis line{stroke:var(--muted)}
svg .axis text{fill:var(--muted);font-size:11px}
article.finding{border:1px solid var(--line);border-left:4px solid var(--bar);border-radius:.3rem;padding:.3rem .8rem;margin:.6rem 0;background:#fff}
article.finding.watch{border-left-color:var(--watch)}
p.fh{margin:.2rem 0 .4rem}
span.num{color:var(--muted);font-variant-numeric:tabular-nums}
dl.ev{display:grid;grid-template-columns:8.5rem 1fr;gap:.15rem .8rem;margin:0 0 .3rem}
dl.ev dt{color:var(--muted)}
dl.ev dd{margin:0;min-width:0}
ol.chain{margin:0;padding-left:1.4rem}
mark{background:var(--mark);color:inherit;padding:0 .1em}
code.val{background:var(--bg2);padding:0 .2em}
footer{margin-top:3rem;border-top:1px solid var(--line);color:var(--muted);font-size:.85em}
@media print{
 body{max-width:none;padding:0;font-size:9.5pt}
 nav.toc{display:none}
 .wrap{overflow:visible}
 a{color:inherit;text-decoration:none}
 h2{break-after:avoid}
 article.finding,figure,tr{break-inside:avoid}
 section.viol,.watch td,.watch th,td.h1,td.h2,td.h3,td.h4,mark,.badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

/// What a reason for not inspecting a flow means, for readers.
fn reason_text(reason: &str) -> &'static str {
    match reason {
        "no_key" => "TLS with no key for the session (give the key log with --keylog)",
        "handshake_missing" => {
            "TLS whose handshake was not captured (start the capture before the app connects)"
        }
        "unsupported_suite" => "TLS with a cipher suite phonehome cannot decrypt",
        "gap" => "data was lost and the stream could not be resynchronised",
        "quic" => "QUIC payload (only names from Initial packets are read)",
        "unknown_protocol" => "no parser recognised the payload (client bytes were still scanned)",
        "no_payload" => "the flow carried no payload",
        _ => "",
    }
}

/// `n` with thin grouping: `1 234 567`.
fn num(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    let lead = digits.len() % 3;
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && i % 3 == lead {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// The heat class of a matrix cell: `h1`…`h4` on a log scale of `max`.
fn heat(n: u64, max: u64) -> &'static str {
    if n == 0 {
        return "h0";
    }
    let l = |x: u64| f64::from(64 - x.leading_zeros());
    let level = (4.0 * l(n) / l(max.max(n))).ceil() as u32;
    match level {
        0 | 1 => "h1",
        2 => "h2",
        3 => "h3",
        _ => "h4",
    }
}

/// Duration between two RFC 3339 times, for people: `3 h 12 min`.
fn duration(a: &str, b: &str) -> Option<String> {
    let (a, b) = (Timestamp::parse_rfc3339(a)?, Timestamp::parse_rfc3339(b)?);
    let secs = u64::try_from((b.unix_nanos() - a.unix_nanos()) / 1_000_000_000).ok()?;
    Some(match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
        _ => format!("{} days", secs / 86_400),
    })
}

/// Which findings get their evidence shown, by group (kind, receiver) in matrix order.
struct EvidencePlan {
    /// Per (kind, receiver): the findings shown and how many are left out.
    groups: BTreeMap<(usize, usize), (Vec<usize>, u64)>,
    /// Whether finding `i` is shown.
    shown: Vec<bool>,
    /// Findings left out in groups that are not listed at all (the total cap was reached).
    unlisted_findings: u64,
    /// Groups not listed at all.
    unlisted_groups: u64,
}

impl EvidencePlan {
    fn new(m: &WhoGetsWhat, broken: &RulesBroken, limits: &HtmlLimits, n: usize) -> Self {
        // Findings per group, in report order.
        let mut members: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for i in 0..n {
            members
                .entry((m.kind_of[i], m.receiver_of[i]))
                .or_default()
                .push(i);
        }
        // Rule-breaking groups first, then watched ones, so the total cap hides them last.
        let mut order: Vec<(usize, usize)> = members.keys().copied().collect();
        let urgent = |g: &(usize, usize)| {
            let r = &m.receivers[g.1];
            let breaks = members[g].iter().any(|&i| !broken.of(i).is_empty());
            (!breaks, r.watched.is_empty())
        };
        order.sort_by_key(|g| (urgent(g), g.0, g.1));
        let mut shown = vec![false; n];
        let mut total = 0usize;
        let mut groups = BTreeMap::new();
        let mut unlisted_findings = 0u64;
        let mut unlisted_groups = 0u64;
        for g in order {
            let list = &members[&g];
            if total >= limits.evidence_total {
                unlisted_findings += list.len() as u64;
                unlisted_groups += 1;
                continue;
            }
            // Rule-breaking findings first, then the others, in report order.
            let ranked = list
                .iter()
                .filter(|&&i| !broken.of(i).is_empty())
                .chain(list.iter().filter(|&&i| broken.of(i).is_empty()));
            let mut picked = Vec::new();
            for &i in ranked {
                if picked.len() >= limits.evidence_per_group || total >= limits.evidence_total {
                    break;
                }
                picked.push(i);
                shown[i] = true;
                total += 1;
            }
            picked.sort_unstable();
            let left = (list.len() - picked.len()) as u64;
            groups.insert(g, (picked, left));
        }
        Self {
            groups,
            shown,
            unlisted_findings,
            unlisted_groups,
        }
    }
}

impl<W: Write> Html<W> {
    fn render(&self, findings: &[Finding], summary: &Summary) -> String {
        let m = WhoGetsWhat::new(findings);
        let broken = RulesBroken::new(summary, findings.len());
        let plan = EvidencePlan::new(&m, &broken, &self.limits, findings.len());
        let violations = summary
            .policy
            .as_ref()
            .map_or(&[][..], |p| p.violations.as_slice());
        let device = summary.device.as_deref().unwrap_or("(no device profile)");

        let mut h = String::with_capacity(64 * 1024);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"phonehome\">\n\
             <title>phonehome report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            esc(&clip(device, 100))
        );
        let _ = writeln!(
            h,
            "<header><h1>phonehome report</h1><p class=\"sub\">What <strong>{}</strong> sends, to whom, and in which country it lands. {}</p></header>",
            esc(&clip(device, 200)),
            esc(&clip(&summary.tool, 100)),
        );
        h.push_str("<nav class=\"toc\">");
        if !violations.is_empty() {
            h.push_str("<a href=\"#violations\">Policy violations</a>");
        }
        h.push_str("<a href=\"#summary\">Summary</a>");
        if !findings.is_empty() {
            h.push_str("<a href=\"#matrix\">Who gets what</a><a href=\"#receivers\">Receivers</a><a href=\"#charts\">Charts</a>");
        }
        h.push_str("<a href=\"#timeline\">Timeline</a>");
        if !findings.is_empty() {
            h.push_str("<a href=\"#evidence\">Evidence</a>");
        }
        h.push_str("<a href=\"#coverage\">Coverage</a></nav>\n<main>\n");

        if !violations.is_empty() {
            self.violations(&mut h, findings, summary, &m, &plan);
        }
        self.summary(&mut h, findings, summary, &m);
        if !findings.is_empty() {
            matrix(&mut h, &m, summary);
            receivers(&mut h, &m);
            charts(&mut h, findings, summary, &m);
        }
        self.timeline(&mut h, findings, &m);
        if !findings.is_empty() {
            evidence(&mut h, findings, summary, &m, &broken, &plan);
        }
        self.coverage(&mut h, summary);
        h.push_str("</main>\n<footer>");
        if !summary.data.is_empty() {
            h.push_str("<p>Data compiled into the tool:</p><dl class=\"kv\">");
            for (k, v) in &summary.data {
                let _ = write!(
                    h,
                    "<dt>{}</dt><dd>{}</dd>",
                    esc(&clip(k, 100)),
                    esc(&clip(v, 400))
                );
            }
            h.push_str("</dl>");
        }
        h.push_str("<p>Organisation and headquarters come from phonehome's entity data; the server country is the country where the holder of the IP address block declares it, not where the machine stands. Every value shown was taken from the capture and is displayed as text only.</p></footer>\n</body>\n</html>\n");
        h
    }

    fn violations(
        &self,
        h: &mut String,
        findings: &[Finding],
        summary: &Summary,
        m: &WhoGetsWhat,
        plan: &EvidencePlan,
    ) {
        let Some(p) = &summary.policy else { return };
        let _ = write!(
            h,
            "<section id=\"violations\" class=\"viol\"><h2>Policy violations: {}</h2><p>Policy {}{}: {} rules evaluated.</p>",
            p.violations.len(),
            esc(&clip(&p.file, 200)),
            p.name
                .as_deref()
                .map(|n| format!(" ({})", esc(&clip(n, 200))))
                .unwrap_or_default(),
            p.rules
        );
        h.push_str("<div class=\"wrap\"><table><thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">What was breached</th><th scope=\"col\">Findings</th></tr></thead><tbody>");
        for v in &p.violations {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>",
                esc(&clip(&v.rule, 100)),
                esc(&clip(&v.reason, 400))
            );
            let valid: Vec<usize> = v
                .findings
                .iter()
                .copied()
                .filter(|&i| i < findings.len())
                .collect();
            for (n, &i) in valid.iter().take(12).enumerate() {
                if n > 0 {
                    h.push_str(", ");
                }
                let f = &findings[i];
                let label = format!(
                    "#{} {} to {}",
                    i + 1,
                    clip(&f.kind, 40),
                    m.receivers[m.receiver_of[i]].label()
                );
                if plan.shown[i] {
                    let _ = write!(h, "<a href=\"#f{i}\">{}</a>", esc(&label));
                } else {
                    h.push_str(&esc(&label));
                }
            }
            if valid.len() > 12 {
                let _ = write!(h, " … and {} more", valid.len() - 12);
            }
            if valid.is_empty() {
                h.push_str("<span class=\"muted\">(a coverage rule: no single finding)</span>");
            }
            h.push_str("</td></tr>");
        }
        h.push_str("</tbody></table></div></section>\n");
    }

    fn summary(&self, h: &mut String, findings: &[Finding], summary: &Summary, m: &WhoGetsWhat) {
        let c = &summary.counts;
        h.push_str("<section id=\"summary\"><h2>Summary</h2><dl class=\"kv\">");
        let mut row = |k: &str, v: String| {
            let _ = write!(h, "<dt>{k}</dt><dd>{v}</dd>");
        };
        let mut dev = esc(&clip(summary.device.as_deref().unwrap_or("(none)"), 200));
        if let Some(p) = &summary.profile {
            let _ = write!(
                dev,
                " <span class=\"muted\">profile {}</span>",
                esc(&clip(p, 200))
            );
        }
        if let Some(v) = &summary.vendor {
            let _ = write!(
                dev,
                " <span class=\"muted\">vendor {}</span>",
                esc(&clip(v, 100))
            );
        }
        row("Device", dev);
        if let Some((a, b)) = &summary.time_span {
            let mut s = format!("{} – {}", esc(&clip(a, 40)), esc(&clip(b, 40)));
            if let Some(d) = duration(a, b) {
                let _ = write!(s, " <span class=\"muted\">({d})</span>");
            }
            row("Time span", s);
        }
        row(
            "Messages",
            format!(
                "{} <span class=\"muted\">({} requests)</span>",
                num(c.messages),
                num(c.requests)
            ),
        );
        let flows = c.flows.max(self.flows);
        let inspected = if c.flows == 0 {
            self.flows_inspected
        } else {
            c.flows_inspected
        };
        let mut fl = format!(
            "{} <span class=\"muted\">({} inspected",
            num(flows),
            num(inspected)
        );
        if !c.flows_not_inspected.is_empty() {
            let not: Vec<String> = c
                .flows_not_inspected
                .iter()
                .map(|(r, n)| format!("{} {}", num(*n), esc(&clip(r, 60))))
                .collect();
            let _ = write!(fl, "; not inspected: {}", not.join(", "));
        }
        fl.push_str(")</span>");
        row("Flows", fl);
        let hosts: HashSet<&str> = findings
            .iter()
            .filter_map(|f| f.destination.name.as_deref().or(f.host.as_deref()))
            .collect();
        let mut dest = format!("{} hosts received data", num(hosts.len() as u64));
        if !self.hosts.is_empty() {
            let _ = write!(
                dest,
                " <span class=\"muted\">of {}{} hosts contacted</span>",
                if self.hosts_overflow > 0 {
                    "at least "
                } else {
                    ""
                },
                num(self.hosts.len() as u64)
            );
        }
        row("Destinations", dest);
        let orgs = m.receivers.iter().filter(|r| r.org_id.is_some()).count();
        row(
            "Organisations",
            format!(
                "{} <span class=\"muted\">(and {} receivers with no known organisation)</span>",
                num(orgs as u64),
                num((m.receivers.len() - orgs) as u64)
            ),
        );
        let hq: Vec<(String, u64)> = by_country(findings, |f| f.destination.org_country.as_deref());
        let srv: Vec<(String, u64)> =
            by_country(findings, |f| f.destination.server_country.as_deref());
        let list = |v: &[(String, u64)]| {
            v.iter()
                .filter(|(c, _)| c != "?")
                .map(|(c, _)| {
                    if summary.watch.contains(c) {
                        format!("<span class=\"badge watch\">{}</span>", esc(c))
                    } else {
                        esc(c)
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        row(
            "Countries",
            format!(
                "headquarters: {} <span class=\"muted\">·</span> servers (declared registration): {}",
                list(&hq),
                list(&srv)
            ),
        );
        let occ = findings
            .iter()
            .map(|f| f.count)
            .fold(0u64, u64::saturating_add);
        let mut fs = format!(
            "{} <span class=\"muted\">({} occurrences, {} kinds of data)</span>",
            num(findings.len() as u64),
            num(occ),
            m.kinds.len()
        );
        if c.findings_dropped > 0 {
            let _ = write!(
                fs,
                " <span class=\"badge watch\">{} more were not recorded: the cap on distinct findings was reached</span>",
                num(c.findings_dropped)
            );
        }
        row("Findings", fs);
        row("Warnings", num(c.warnings.max(self.warnings_total)));
        if !summary.watch.is_empty() {
            row("Watching", esc(&summary.watch.join(", ")));
        }
        if let Some(p) = &summary.policy {
            row(
                "Policy",
                format!(
                    "{}: {} rules, {} violations",
                    esc(&clip(&p.file, 200)),
                    p.rules,
                    p.violations.len()
                ),
            );
        }
        if let Some(k) = &summary.keylog {
            row(
                "TLS keys",
                format!(
                    "{} sessions from {}",
                    num(k.sessions),
                    esc(&clip(&k.files.join(", "), 400))
                ),
            );
        }
        if summary.redacted {
            row(
                "Redacted",
                "values taken from traffic were redacted (--redact)".to_owned(),
            );
        }
        h.push_str("</dl>");
        if !summary.inputs.is_empty() {
            h.push_str("<h3>Inputs</h3><div class=\"wrap\"><table><thead><tr><th scope=\"col\">File</th><th scope=\"col\">Format</th><th scope=\"col\" class=\"num\">Bytes</th><th scope=\"col\" class=\"num\">Records</th><th scope=\"col\">SHA-256</th></tr></thead><tbody>");
            for i in summary.inputs.iter().take(1000) {
                let format = match (&i.format, &i.error) {
                    (_, Some(e)) => format!("unreadable: {}", esc(&clip(e, 300))),
                    (Some(f), None) => format!("{}{}", esc(f), if i.gzip { " + gzip" } else { "" }),
                    (None, None) => "not read".to_owned(),
                };
                let _ = write!(
                    h,
                    "<tr><td><code>{}</code></td><td>{format}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
                    esc(&clip(&i.file, 300)),
                    num(i.bytes),
                    num(i.records),
                    esc(&clip(i.sha256.as_deref().unwrap_or(""), 64)),
                );
            }
            h.push_str("</tbody></table></div>");
        }
        h.push_str("</section>\n");
    }

    fn timeline(&self, h: &mut String, findings: &[Finding], m: &WhoGetsWhat) {
        h.push_str("<section id=\"timeline\"><h2>Timeline</h2>");
        let rows_shown = m.receivers.len().min(self.limits.timeline_rows);
        let mut rows: Vec<TimelineRow> = m
            .receivers
            .iter()
            .take(rows_shown)
            .map(|r| TimelineRow {
                label: r.label(),
                watched: !r.watched.is_empty(),
                spans: Vec::new(),
            })
            .collect();
        for (i, f) in findings.iter().enumerate() {
            let r = m.receiver_of[i];
            if r >= rows_shown {
                continue;
            }
            let first = f
                .first_time
                .as_deref()
                .or(f.time.as_deref())
                .and_then(Timestamp::parse_rfc3339);
            let last = f.last_time.as_deref().and_then(Timestamp::parse_rfc3339);
            if let Some(a) = first.or(last) {
                let b = last.unwrap_or(a);
                rows[r]
                    .spans
                    .push((a.unix_nanos(), b.unix_nanos(), f.count));
            }
        }
        rows.retain(|r| !r.spans.is_empty());
        match svg::timeline(&self.times, &rows) {
            Some(s) => {
                let _ = write!(
                    h,
                    "<figure>{s}<figcaption>Top: flows started per time slice (blue inspected, yellow not inspected). Rows: when each receiver's findings were first and last seen (dot size grows with occurrences){}.</figcaption></figure>",
                    if m.receivers.len() > rows_shown {
                        format!("; the first {rows_shown} of {} receivers", m.receivers.len())
                    } else {
                        String::new()
                    }
                );
            }
            None => h.push_str("<p class=\"note\">No flow or finding has a time.</p>"),
        }
        h.push_str("</section>\n");
    }

    fn coverage(&self, h: &mut String, summary: &Summary) {
        let c = &summary.counts;
        h.push_str("<section id=\"coverage\"><h2>Coverage</h2>");
        let flows = c.flows.max(self.flows);
        let inspected = if c.flows == 0 {
            self.flows_inspected
        } else {
            c.flows_inspected
        };
        let _ = write!(
            h,
            "<p>{} flows, of which {} were inspected. Data in flows that were not inspected is not in this report.</p>",
            num(flows),
            num(inspected)
        );
        if !c.flows_not_inspected.is_empty() {
            h.push_str("<div class=\"wrap\"><table><thead><tr><th scope=\"col\">Not inspected because</th><th scope=\"col\">Meaning</th><th scope=\"col\" class=\"num\">Flows</th></tr></thead><tbody>");
            for (r, n) in &c.flows_not_inspected {
                let _ = write!(
                    h,
                    "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td></tr>",
                    esc(&clip(r, 60)),
                    reason_text(r),
                    num(*n)
                );
            }
            h.push_str("</tbody></table></div>");
        }
        let mut blind: Vec<(&String, &HostFlows)> = self
            .hosts
            .iter()
            .filter(|(_, f)| f.not_inspected > 0)
            .collect();
        if !blind.is_empty() {
            blind.sort_by(|a, b| {
                b.1.not_inspected
                    .cmp(&a.1.not_inspected)
                    .then_with(|| a.0.cmp(b.0))
            });
            h.push_str("<h3>Hosts with flows not inspected</h3><div class=\"wrap\"><table><thead><tr><th scope=\"col\">Host</th><th scope=\"col\" class=\"num\">Not inspected</th><th scope=\"col\" class=\"num\">Flows</th></tr></thead><tbody>");
            for (host, f) in blind.iter().take(30) {
                let _ = write!(
                    h,
                    "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    esc(&clip(host, 200)),
                    num(f.not_inspected),
                    num(f.flows)
                );
            }
            h.push_str("</tbody></table></div>");
            if blind.len() > 30 {
                let _ = write!(
                    h,
                    "<p class=\"note\">… and {} more hosts.</p>",
                    blind.len() - 30
                );
            }
        }
        let total = c.warnings.max(self.warnings_total);
        let _ = write!(h, "<h3>Warnings: {}</h3>", num(total));
        if !self.warnings.is_empty() {
            h.push_str("<div class=\"wrap\"><table><thead><tr><th scope=\"col\">Code</th><th scope=\"col\">File</th><th scope=\"col\">Where</th><th scope=\"col\">Reason</th></tr></thead><tbody>");
            for w in &self.warnings {
                let mut at = Vec::new();
                if let Some(o) = w.offset {
                    at.push(format!("offset {o}"));
                }
                if let Some(f) = w.frame {
                    at.push(format!("frame {f}"));
                }
                if let Some(e) = w.entry {
                    at.push(format!("entry {e}"));
                }
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    w.code.as_str(),
                    esc(&clip(&w.file, 200)),
                    at.join(", "),
                    esc(&clip(&w.reason, 400))
                );
            }
            h.push_str("</tbody></table></div>");
        }
        let rest = total.saturating_sub(self.warnings.len() as u64);
        if rest > 0 && !self.warnings.is_empty() {
            let _ = write!(
                h,
                "<p class=\"note\">… and {} more warnings (all are in --format jsonl and json).</p>",
                num(rest)
            );
        }
        h.push_str("</section>\n");
    }
}

/// The who-gets-what matrix: one row per receiver, one column per kind of data.
fn matrix(h: &mut String, m: &WhoGetsWhat, summary: &Summary) {
    h.push_str("<section id=\"matrix\"><h2>Who gets what</h2><p>Occurrences of each kind of data per receiver: the organisation that controls the destination, with its headquarters country (else the domain). ");
    if !summary.watch.is_empty() {
        let _ = write!(
            h,
            "Receivers in a watched country ({}) are highlighted and listed first. ",
            esc(&summary.watch.join(", "))
        );
    }
    h.push_str("</p><div class=\"wrap\"><table class=\"matrix\"><thead><tr><th scope=\"col\">Receiver (headquarters)</th>");
    for k in &m.kinds {
        let _ = write!(
            h,
            "<th scope=\"col\" class=\"num\">{}</th>",
            esc(&clip(k, 40))
        );
    }
    h.push_str("<th scope=\"col\" class=\"num\">Total</th></tr></thead><tbody>");
    let max = m.cells.values().map(|c| c.occurrences).max().unwrap_or(1);
    for (ri, r) in m.receivers.iter().enumerate() {
        let watched = !r.watched.is_empty();
        let _ = write!(
            h,
            "<tr{}><th scope=\"row\">{}",
            if watched { " class=\"watch\"" } else { "" },
            esc(&clip(&r.label(), 120))
        );
        if watched {
            let _ = write!(
                h,
                " <span class=\"badge watch\">watched: {}</span>",
                esc(&r.watched.iter().cloned().collect::<Vec<_>>().join(", "))
            );
        }
        h.push_str("</th>");
        for k in 0..m.kinds.len() {
            let c = m.cell(k, ri);
            if c.occurrences == 0 && c.findings == 0 {
                h.push_str("<td class=\"num h0\"></td>");
            } else {
                let _ = write!(
                    h,
                    "<td class=\"num {}\" title=\"{} findings\">{}</td>",
                    heat(c.occurrences, max),
                    c.findings,
                    num(c.occurrences)
                );
            }
        }
        let _ = write!(h, "<td class=\"num\">{}</td></tr>", num(r.occurrences));
    }
    h.push_str("</tbody><tfoot><tr><th scope=\"row\">Total</th>");
    for t in &m.kind_totals {
        let _ = write!(h, "<td class=\"num\">{}</td>", num(*t));
    }
    let all = m.kind_totals.iter().fold(0u64, |a, b| a.saturating_add(*b));
    let _ = writeln!(
        h,
        "<td class=\"num\">{}</td></tr></tfoot></table></div></section>",
        num(all)
    );
}

/// Joins a capped set for a table cell.
fn joined(set: &crate::matrix::CappedSet) -> String {
    let mut s = set
        .items
        .iter()
        .map(|d| esc(&clip(d, 120)))
        .collect::<Vec<_>>()
        .join("<br>");
    if set.more > 0 {
        let _ = write!(s, "<br><span class=\"muted\">… {} more</span>", set.more);
    }
    s
}

/// The receivers table: who they are, who owns them, where their servers are declared.
fn receivers(h: &mut String, m: &WhoGetsWhat) {
    h.push_str("<section id=\"receivers\"><h2>Receivers</h2><p>The organisation and its headquarters (from phonehome's entity data) and, separately, the server: the country where the holder of its IP address block <em>declares</em> it (registration data, not where the machine stands) and the network (AS) that announces it. These are different claims and may disagree.</p>");
    h.push_str("<div class=\"wrap\"><table><thead><tr><th scope=\"col\">Receiver</th><th scope=\"col\">HQ</th><th scope=\"col\">Parent</th><th scope=\"col\">Party</th><th scope=\"col\">Domains</th><th scope=\"col\">Server: declared registration country · network</th><th scope=\"col\">Watch</th><th scope=\"col\">Kinds of data</th><th scope=\"col\" class=\"num\">Findings</th><th scope=\"col\" class=\"num\">Occurrences</th></tr></thead><tbody>");
    for r in &m.receivers {
        let watched = !r.watched.is_empty();
        let _ = write!(
            h,
            "<tr{}><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            if watched { " class=\"watch\"" } else { "" },
            esc(&clip(&r.name, 120)),
            esc(r.country.as_deref().unwrap_or("")),
            esc(&clip(&r.parent_label(), 120)),
            r.party_str(),
            joined(&r.domains),
            joined(&r.servers),
            esc(&r.watched.iter().cloned().collect::<Vec<_>>().join(", ")),
            esc(&clip(&r.kinds.iter().cloned().collect::<Vec<_>>().join(", "), 400)),
            num(r.findings),
            num(r.occurrences),
        );
    }
    h.push_str("</tbody></table></div></section>\n");
}

/// Bar charts of occurrences by receiver, by headquarters country and by server country.
fn charts(h: &mut String, findings: &[Finding], summary: &Summary, m: &WhoGetsWhat) {
    h.push_str("<section id=\"charts\"><h2>Charts</h2>");
    let mut by_org: Vec<Bar> = m
        .receivers
        .iter()
        .map(|r| Bar {
            label: r.label(),
            value: r.occurrences,
            watched: !r.watched.is_empty(),
        })
        .collect();
    by_org.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.label.cmp(&b.label)));
    let country_bars = |v: Vec<(String, u64)>| -> Vec<Bar> {
        v.into_iter()
            .map(|(c, n)| Bar {
                watched: summary.watch.contains(&c),
                label: if c == "?" { "unknown".to_owned() } else { c },
                value: n,
            })
            .collect()
    };
    let hq = country_bars(by_country(findings, |f| {
        f.destination.org_country.as_deref()
    }));
    let srv = country_bars(by_country(findings, |f| {
        f.destination.server_country.as_deref()
    }));
    for (title, bars, caption) in [
        ("Occurrences by receiver", &by_org, "Occurrences of personal data per receiver (organisation and headquarters country); watched receivers in red."),
        ("Occurrences by headquarters country", &hq, "By the headquarters country of the receiving organisation (entity data)."),
        ("Occurrences by server country", &srv, "By the country where the server's IP address block is declared (registration data: a separate claim from the headquarters)."),
    ] {
        let _ = write!(
            h,
            "<figure><h3>{title}</h3>{}<figcaption>{caption}</figcaption></figure>",
            svg::bar_chart(title, bars)
        );
    }
    h.push_str("</section>\n");
}

/// The evidence of the findings chosen by `plan`, by kind and receiver, with notes for the rest.
fn evidence(
    h: &mut String,
    findings: &[Finding],
    summary: &Summary,
    m: &WhoGetsWhat,
    broken: &RulesBroken,
    plan: &EvidencePlan,
) {
    let shown = plan.shown.iter().filter(|s| **s).count();
    let _ = write!(
        h,
        "<section id=\"evidence\"><h2>Evidence</h2><p>For each finding: the request, where in it the value was, each decoding from that part to the value, the value (marked in the URL when it is there as sent), the transport, the destination and the frame or entry in the input. {} of {} findings are shown here{}; every finding is in <code>--format json</code> and <code>--format csv</code>.</p>",
        num(shown as u64),
        num(findings.len() as u64),
        if shown < findings.len() { " (the first of each kind and receiver; those breaking a policy rule first)" } else { "" }
    );
    let mut last_kind = None;
    for (&(k, r), (list, left)) in &plan.groups {
        if last_kind != Some(k) {
            let _ = write!(h, "<h3>{}</h3>", esc(&clip(&m.kinds[k], 64)));
            last_kind = Some(k);
        }
        let rc = &m.receivers[r];
        let c = m.cell(k, r);
        let _ = write!(
            h,
            "<h4>{} <span class=\"muted\">{} findings, {} occurrences</span></h4>",
            esc(&clip(&rc.label(), 120)),
            num(c.findings),
            num(c.occurrences)
        );
        for &i in list {
            evidence::article(
                h,
                i,
                &findings[i],
                &rc.label(),
                &broken.rule_ids(i, summary),
            );
        }
        if *left > 0 {
            let _ = write!(
                h,
                "<p class=\"note\">{} more findings of this kind to this receiver are not shown.</p>",
                num(*left)
            );
        }
    }
    if plan.unlisted_findings > 0 {
        let _ = write!(
            h,
            "<p class=\"note\">{} more findings in {} further kind–receiver groups are not shown (the page shows at most {} findings).</p>",
            num(plan.unlisted_findings),
            num(plan.unlisted_groups),
            num(shown as u64)
        );
    }
    h.push_str("</section>\n");
}

impl<W: Write> Report for Html<W> {
    fn flow(&mut self, flow: &FlowRecord) -> io::Result<()> {
        self.flows += 1;
        if flow.inspected {
            self.flows_inspected += 1;
        }
        if let Some(t) = flow.first_time {
            self.times.add(t, flow.inspected);
        }
        let host = flow
            .names
            .first()
            .map(|n| n.name.clone())
            .or_else(|| flow.destination.name.clone())
            .unwrap_or_else(|| flow.server.ip().to_string());
        let entry = if self.hosts.contains_key(&host) || self.hosts.len() < self.limits.hosts {
            Some(self.hosts.entry(host).or_default())
        } else {
            self.hosts_overflow += 1;
            None
        };
        if let Some(e) = entry {
            e.flows += 1;
            if !flow.inspected {
                e.not_inspected += 1;
            }
        }
        Ok(())
    }

    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        self.warnings_total += 1;
        if self.warnings.len() < self.limits.warnings {
            self.warnings.push(warning.clone());
        }
        Ok(())
    }

    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()> {
        let page = self.render(findings, summary);
        self.out.write_all(page.as_bytes())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_heat_is_graded() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1234567), "1\u{2009}234\u{2009}567");
        assert_eq!(heat(0, 100), "h0");
        assert_eq!(heat(1, 100), "h1");
        assert_eq!(heat(100, 100), "h4");
        assert_eq!(heat(1, 1), "h4");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(
            duration("2026-01-01T00:00:00Z", "2026-01-01T00:00:30Z").as_deref(),
            Some("30 s")
        );
        assert_eq!(
            duration("2026-01-01T00:00:00Z", "2026-01-01T03:12:00Z").as_deref(),
            Some("3 h 12 min")
        );
        assert_eq!(duration("bad", "2026-01-01T03:12:00Z"), None);
    }
}
