//! A realistic run rendered in the new formats: each shows what it promises.

mod common;

use common::{realistic, render, Run};
use phonehome_model::Finding;
use phonehome_report::{Html, HtmlLimits, Markdown, Report, CSV_COLUMNS};
use scraper::{Html as Document, Selector};
use std::time::Instant;

fn text(format: &str, run: &Run) -> String {
    String::from_utf8(render(format, run)).unwrap()
}

fn select<'a>(doc: &'a Document, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let s = Selector::parse(css).unwrap();
    doc.select(&s).collect()
}

fn text_of(e: &scraper::ElementRef<'_>) -> String {
    e.text().collect::<String>()
}

#[test]
fn html_shows_violations_first_then_summary_matrix_charts_and_evidence() {
    let page = text("html", &realistic());
    // Kept for a look in a browser beside the hostile page.
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
        });
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sample-report.html"), &page).unwrap();
    let doc = Document::parse_document(&page);

    // Sections in order, violations first.
    let ids: Vec<String> = select(&doc, "main > section")
        .iter()
        .filter_map(|s| s.value().attr("id").map(String::from))
        .collect();
    assert_eq!(
        ids,
        [
            "violations",
            "summary",
            "matrix",
            "receivers",
            "charts",
            "timeline",
            "evidence",
            "coverage"
        ]
    );
    let violations = text_of(&select(&doc, "#violations")[0]);
    assert!(violations.contains("no-watched-country"));
    assert!(violations.contains("max-uninspected-flows"));
    assert!(violations.contains("a coverage rule"));
    // Violations link to the evidence of the findings that break them.
    let links: Vec<&str> = select(&doc, "#violations a")
        .iter()
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(links, ["#f0", "#f7", "#f5"]);
    for l in &links {
        assert_eq!(select(&doc, l).len(), 1, "{l} has no target");
    }

    // Summary: flows and why some were not inspected, destinations, countries.
    let summary = text_of(&select(&doc, "#summary")[0]);
    assert!(summary.contains("Redmi Note 12 (test phone)"));
    assert!(
        summary.contains("27 (21 inspected; not inspected: 3 no_key, 3 quic)"),
        "{summary}"
    );
    assert!(summary.contains("(67 min)"), "{summary}");
    assert!(summary.contains("8 hosts received data"), "{summary}");
    assert!(summary.contains("of 9 hosts contacted"), "{summary}");
    assert!(
        summary
            .contains("headquarters: CN US DE · servers (declared registration): US SG CN DE NL"),
        "{summary}"
    );

    // Matrix: one row per receiver, watched first, one column per kind; numbers add up.
    let heads: Vec<String> = select(&doc, "#matrix thead th")
        .iter()
        .map(text_of)
        .collect();
    assert_eq!(
        heads,
        [
            "Receiver (headquarters)",
            "advertising_id",
            "android_id",
            "app_list",
            "email",
            "imei",
            "imsi",
            "location",
            "serial",
            "Total"
        ]
    );
    let rows = select(&doc, "#matrix tbody tr");
    assert_eq!(rows.len(), 5);
    let first = text_of(&select(&doc, "#matrix tbody tr th")[0]);
    assert!(first == "Xiaomi (CN) watched: HQ CN", "{first}");
    assert_eq!(rows[0].value().attr("class"), Some("watch"));
    let xiaomi: Vec<String> = rows[0]
        .children()
        .filter_map(scraper::ElementRef::wrap)
        .map(|c| text_of(&c))
        .collect();
    assert_eq!(xiaomi[5], "7"); // imei
    assert_eq!(xiaomi[8], "4"); // serial
    assert_eq!(xiaomi[9], "11"); // total

    // Receivers: the server's declared country is labelled as such, apart from the HQ.
    let receivers = text_of(&select(&doc, "#receivers")[0]);
    assert!(receivers.contains("declared registration country"));
    assert!(receivers.contains("SG · AS45102 ALIBABA-CN-NET"));
    assert!(receivers.contains("JOYY (SG)"));

    // Charts: three bar charts and a timeline, all SVG.
    assert_eq!(select(&doc, "#charts svg").len(), 3);
    assert_eq!(select(&doc, "#timeline svg").len(), 1);
    assert!(page.matches("<svg").count() >= 4);
    assert!(!select(&doc, "#charts svg g.bar.watch").is_empty());
    assert!(!select(&doc, "#timeline svg rect.notins").is_empty());

    // Evidence: the hashed IMEI's query value is marked in the URL, the chain is listed step by
    // step, the source frame is given.
    let f0 = &select(&doc, "article#f0")[0];
    let marks: Vec<String> = select(&doc, "article#f0 code.req mark")
        .iter()
        .map(text_of)
        .collect();
    assert_eq!(marks, ["af2d48f2495881aed1737bb21017f9b6"]);
    let chain: Vec<String> = select(&doc, "article#f0 ol.chain li")
        .iter()
        .map(text_of)
        .collect();
    assert_eq!(
        chain,
        ["url the message part", "query:imei_md5", "value found"]
    );
    let ev = text_of(f0);
    assert!(ev.contains("samples/phone.pcapng #12"), "{ev}");
    assert!(ev.contains("breaks no-watched-country"));
    assert!(ev.contains("10.0.0.2:40001 → 183.36.108.10:443"));
    assert!(ev.contains("declared registration country and network: CN · AS4134 Chinanet"));
    // A body finding shows its decode chain in order.
    let chain: Vec<String> = select(&doc, "article#f4 ol.chain li code")
        .iter()
        .map(text_of)
        .collect();
    assert_eq!(chain, ["body", "form:p", "base64", "json:$.loc"]);

    // Coverage and warnings.
    let coverage = text_of(&select(&doc, "#coverage")[0]);
    assert!(coverage.contains("give the key log with --keylog"));
    assert!(coverage.contains("quic.example.org"));
    assert!(coverage.contains("4 bytes lost in the client stream"));

    // Self-contained: no script, no external reference.
    assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("url("));
    assert!(page.contains("Content-Security-Policy"));
    assert!(page.contains("@media print"));
}

#[test]
fn html_caps_evidence_but_keeps_rule_breakers() {
    let run = realistic();
    let mut out = Vec::new();
    let mut html = Html::with_limits(
        &mut out,
        HtmlLimits {
            evidence_per_group: 1,
            evidence_total: 3,
            ..HtmlLimits::default()
        },
    );
    for f in &run.flows {
        html.flow(f).unwrap();
    }
    html.finish(&run.findings, &run.summary).unwrap();
    let page = String::from_utf8(out).unwrap();
    let doc = Document::parse_document(&page);
    let shown: Vec<String> = select(&doc, "article.finding")
        .iter()
        .filter_map(|a| a.value().attr("id").map(String::from))
        .collect();
    assert_eq!(shown.len(), 3);
    // The three rule-breaking findings win the three places.
    for id in ["f0", "f5", "f7"] {
        assert!(shown.contains(&id.to_owned()), "{shown:?}");
    }
    assert!(
        page.contains("6 more findings in 6 further kind–receiver groups are not shown"),
        "{page}"
    );
    // The matrix still counts everything.
    assert_eq!(select(&doc, "#matrix tbody tr").len(), 5);
}

/// `n` findings spread over many receivers and kinds.
fn many(n: usize) -> Vec<Finding> {
    let base = realistic().findings;
    (0..n)
        .map(|i| {
            let mut f = base[i % base.len()].clone();
            f.url = format!("{}?n={i}", f.url);
            if i % 3 == 0 {
                f.destination.org = None;
                f.destination.domain = Some(format!("tracker{}.example", i % 997));
            }
            f.kind = format!("{}{}", f.kind, i % 4);
            f
        })
        .collect()
}

#[test]
fn a_hundred_thousand_findings_make_a_bounded_page() {
    let mut run = realistic();
    run.findings = many(100_000);
    run.summary.policy = None;
    let started = Instant::now();
    let page = text("html", &run);
    let took = started.elapsed();
    eprintln!("100k findings: HTML {} bytes in {took:?}", page.len());
    assert!(page.len() < 12 << 20, "{} bytes", page.len());
    assert!(page.contains("of 100\u{2009}000 findings are shown"));
    assert!(page.contains("further kind–receiver groups are not shown"));
    let doc = Document::parse_document(&page);
    assert_eq!(
        select(&doc, "article.finding").len(),
        HtmlLimits::default().evidence_total
    );
    // Charts always cover everything: the receiver chart sums to all occurrences.
    let total: u64 = run.findings.iter().map(|f| f.count).sum();
    let svg = &select(&doc, "#charts svg")[0];
    let sum: u64 = svg
        .select(&Selector::parse("text.val").unwrap())
        .map(|t| text_of(&t).parse::<u64>().unwrap())
        .sum();
    assert_eq!(sum, total);
}

#[test]
fn markdown_lists_violations_then_matrix_then_findings() {
    let md = text("markdown", &realistic());
    let v = md.find("## Policy violations").unwrap();
    let m = md.find("## Who gets what").unwrap();
    let f = md.find("## Findings").unwrap();
    assert!(v < m && m < f);
    assert!(md.contains("| no\\-watched\\-country |") || md.contains("| no-watched-country |"));
    assert!(md.contains("| 1, 8 |"), "{md}");
    assert!(
        md.contains("**Flows:** 27 (21 inspected; not inspected: 3 no\\_key, 3 quic)"),
        "{md}"
    );
    assert!(md.contains("| receiver | watch | advertising\\_id | android\\_id | app\\_list | email | imei | imsi | location | serial | total |"));
    assert!(
        md.contains("| ! Xiaomi (CN) | HQ CN |  |  |  |  | 7 |  |  | 4 | 11 |"),
        "{md}"
    );
    // Findings that break a rule come first, numbered as in the report.
    let rows: Vec<&str> = md[f..]
        .lines()
        .filter(|l| l.starts_with("| "))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 9);
    assert!(rows[0].starts_with("| 1 | imei | known | ! YY (Guangzhou Huaduo Network Technology) (CN) | sdk.hiido.com | url | query:imei\\_md5 | 3 | samples/phone.pcapng #12 | no-watched-country |"), "{}", rows[0]);
    assert!(rows[1].starts_with("| 6 | serial"));
    assert!(rows[2].starts_with("| 8 | imsi"));
}

#[test]
fn csv_has_one_row_per_finding_with_flattened_columns() {
    let run = realistic();
    let csv = text("csv", &run);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), run.findings.len() + 1);
    assert_eq!(lines[0], CSV_COLUMNS.join(","));
    let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    // Row 1 has no quoted cell, so splitting on commas is exact.
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(row.len(), CSV_COLUMNS.len());
    assert_eq!(row[col("kind")], "imei");
    assert_eq!(row[col("match")], "known");
    assert_eq!(row[col("form")], "md5");
    assert_eq!(row[col("chain")], "query:imei_md5");
    assert_eq!(
        row[col("org_name")],
        "YY (Guangzhou Huaduo Network Technology)"
    );
    assert_eq!(row[col("org_country")], "CN");
    assert_eq!(row[col("parent_name")], "JOYY");
    assert_eq!(row[col("server_country")], "CN");
    assert_eq!(row[col("asn")], "4134");
    assert_eq!(row[col("name_source")], "http");
    assert_eq!(row[col("watch")], "org_country server_country");
    assert_eq!(row[col("frame")], "12");
    assert_eq!(row[col("violation")], "no-watched-country");
    // A chain of several steps is joined with ›; a value with a comma is quoted.
    assert!(
        lines[5].contains(",body,form:p › base64 › json:$.loc,"),
        "{}",
        lines[5]
    );
    assert!(lines[5].contains(",\"51.5072,-0.1276\","), "{}", lines[5]);

    let matrix = text("csv-matrix", &run);
    let lines: Vec<&str> = matrix.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "receiver,org_id,org_country,parent,party,watch,advertising_id,android_id,app_list,email,imei,imsi,location,serial,total"
    );
    assert_eq!(lines[1], "Xiaomi,xiaomi,CN,,first,HQ CN,0,0,0,0,7,0,0,4,11");
    assert_eq!(lines.len(), 6);
}

#[test]
fn json_document_holds_everything() {
    let run = realistic();
    let doc: serde_json::Value = serde_json::from_slice(&render("json", &run)).unwrap();
    assert_eq!(doc["violations"].as_array().unwrap().len(), 3);
    assert_eq!(doc["violations"][0]["rule"], "no-watched-country");
    assert_eq!(
        doc["findings"].as_array().unwrap().len(),
        run.findings.len()
    );
    assert_eq!(doc["flows"].as_array().unwrap().len(), run.flows.len());
    assert_eq!(doc["flows_total"], run.flows.len());
    assert_eq!(doc["warnings_total"], run.warnings.len());
    assert_eq!(doc["summary"]["counts"]["flows"], 27);
    assert_eq!(doc["findings"][0]["type"], "finding");
}

#[test]
fn markdown_caps_the_findings_table() {
    let run = realistic();
    let mut out = Vec::new();
    Markdown::with_max_findings(&mut out, 2)
        .finish(&run.findings, &run.summary)
        .unwrap();
    let md = String::from_utf8(out).unwrap();
    let f = md.find("## Findings").unwrap();
    let rows = md[f..].lines().filter(|l| l.starts_with("| ")).count();
    assert_eq!(rows, 3, "header and two rows");
    assert!(md.contains("… and 7 more findings"), "{md}");
}
