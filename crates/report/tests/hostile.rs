//! Every output format, fed a run whose every string from traffic or input is an attack: markup,
//! script, terminal escapes, spreadsheet formulas, bidi overrides, zero-width characters, NUL and
//! 1 MiB values. Nothing may come out as markup, a control sequence or a formula.

mod common;

use common::{hostile, huge, realistic, render, Run, FORMATS, PAYLOADS};
use phonehome_model::Finding;
use phonehome_report::{is_hazardous, CSV_COLUMNS};
use scraper::{Html as Document, Node, Selector};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Elements the HTML template uses; a report may use no other.
const TEMPLATE_ELEMENTS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "nav",
    "a",
    "main",
    "section",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "div",
    "dl",
    "dt",
    "dd",
    "span",
    "strong",
    "em",
    "code",
    "br",
    "ol",
    "li",
    "mark",
    "article",
    "figure",
    "figcaption",
    "footer",
    "svg",
    "g",
    "rect",
    "text",
    "line",
    "circle",
];

/// Attributes the HTML template uses.
const TEMPLATE_ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "href",
    "id",
    "class",
    "scope",
    "title",
    "xmlns",
    "viewBox",
    "width",
    "height",
    "role",
    "aria-label",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "text-anchor",
];

/// The elements, (element, attribute) pairs and parse errors of a page.
struct Shape {
    elements: BTreeSet<String>,
    attributes: BTreeSet<(String, String)>,
    hrefs: Vec<String>,
    ids: Vec<String>,
    comments: usize,
    errors: Vec<String>,
    style: String,
    text: String,
}

fn shape(html: &str) -> Shape {
    let doc = Document::parse_document(html);
    let mut s = Shape {
        elements: BTreeSet::new(),
        attributes: BTreeSet::new(),
        hrefs: Vec::new(),
        ids: Vec::new(),
        comments: 0,
        errors: doc.errors.iter().map(|e| e.to_string()).collect(),
        style: String::new(),
        text: String::new(),
    };
    for node in doc.tree.nodes() {
        match node.value() {
            Node::Element(e) => {
                let name = e.name().to_owned();
                for (a, v) in e.attrs() {
                    s.attributes.insert((name.clone(), a.to_owned()));
                    if a == "href" {
                        s.hrefs.push(v.to_owned());
                    }
                    if a == "id" {
                        s.ids.push(v.to_owned());
                    }
                }
                s.elements.insert(name);
            }
            Node::Comment(_) => s.comments += 1,
            Node::Text(t) => s.text.push_str(t),
            _ => {}
        }
    }
    let style = Selector::parse("style").unwrap();
    s.style = doc.select(&style).map(|e| e.inner_html()).collect();
    s
}

/// Where the hostile page goes for a later check in a real browser.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn text(format: &str, run: &Run) -> String {
    String::from_utf8(render(format, run)).unwrap()
}

#[test]
fn html_keeps_to_the_template_whatever_the_traffic_holds() {
    let benign = shape(&text("html", &realistic()));
    let page = text("html", &hostile());
    let dir = target_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hostile-report.html"), &page).unwrap();
    let evil = shape(&page);

    // The benign page uses only the template's vocabulary, and the hostile one no more than it.
    for e in &benign.elements {
        assert!(
            TEMPLATE_ELEMENTS.contains(&e.as_str()),
            "unexpected element {e}"
        );
    }
    for (_, a) in &benign.attributes {
        assert!(
            TEMPLATE_ATTRIBUTES.contains(&a.as_str()),
            "unexpected attribute {a}"
        );
    }
    let extra: Vec<_> = evil.elements.difference(&benign.elements).collect();
    assert!(extra.is_empty(), "injected elements: {extra:?}");
    let extra: Vec<_> = evil.attributes.difference(&benign.attributes).collect();
    assert!(extra.is_empty(), "injected attributes: {extra:?}");
    for s in [&benign, &evil] {
        assert!(!s.elements.contains("script") && !s.elements.contains("img"));
        assert!(!s.elements.contains("iframe") && !s.elements.contains("foreignObject"));
        assert!(s
            .attributes
            .iter()
            .all(|(_, a)| !a.starts_with("on") && a != "style" && a != "src"));
        assert!(s.hrefs.iter().all(|h| h.starts_with('#')), "{:?}", s.hrefs);
        assert!(
            s.ids
                .iter()
                .all(|id| id.chars().all(|c| c.is_ascii_alphanumeric())),
            "{:?}",
            s.ids
        );
        assert_eq!(s.comments, 0);
        assert!(s.errors.is_empty(), "HTML parse errors: {:?}", s.errors);
    }
    // The stylesheet is the template's, untouched.
    assert_eq!(evil.style, benign.style);
    assert!(!benign.style.is_empty());

    // The attacks are shown as text, escaped, not dropped.
    assert!(evil.text.contains("<script>alert(1)</script>"));
    assert!(evil.text.contains("\"><img src=x onerror=alert(1)>"));
    assert!(evil.text.contains("</style><svg onload=alert(1)>"));
    assert!(evil.text.contains("\\u{1b}[2J"));
    assert!(evil.text.contains("evil\\u{202e}gpj.exe"));
    // No raw control, bidi or zero-width character reaches the page.
    let bad: Vec<char> = page
        .chars()
        .filter(|&c| is_hazardous(c) && c != '\n')
        .collect();
    assert!(bad.is_empty(), "hazardous characters in HTML: {bad:?}");
    // 1 MiB values are cut: the page stays small.
    assert!(page.len() < 2 << 20, "hostile page is {} bytes", page.len());
}

/// Whether `text` holds a C0 control other than those `allowed`, DEL or a C1 control, or a
/// bidi or zero-width character.
fn first_hazard(text: &str, allowed: &[char]) -> Option<(usize, char)> {
    text.char_indices()
        .find(|&(_, c)| is_hazardous(c) && !allowed.contains(&c))
}

#[test]
fn terminal_and_text_outputs_carry_no_control_sequences() {
    let run = hostile();
    for format in ["table", "markdown", "csv", "csv-matrix"] {
        let out = text(format, &run);
        let allowed: &[char] = if format.starts_with("csv") {
            &['\r', '\n']
        } else {
            &['\n']
        };
        assert_eq!(first_hazard(&out, allowed), None, "{format}");
        assert!(!out.contains('\u{1b}'), "{format}");
    }
}

/// Splits RFC 4180 text (CRLF line ends) into records, failing on any irregularity.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cell.push('"');
                } else {
                    quoted = false;
                    assert!(
                        matches!(chars.peek(), Some(',') | Some('\r') | None),
                        "text after a closing quote"
                    );
                }
            } else {
                cell.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                assert!(at_start, "quote inside an unquoted cell: {cell:?}");
                quoted = true;
            }
            ',' => {
                row.push(std::mem::take(&mut cell));
                at_start = true;
                continue;
            }
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
                at_start = true;
                continue;
            }
            '\n' => panic!("bare LF"),
            c => cell.push(c),
        }
        at_start = false;
    }
    assert!(!quoted, "unterminated quote");
    assert!(cell.is_empty() && row.is_empty(), "last record has no CRLF");
    rows
}

#[test]
fn csv_cells_never_start_a_formula() {
    let run = hostile();
    let out = text("csv", &run);
    let rows = parse_csv(&out);
    // Line breaks only end records: none survives inside a cell.
    assert_eq!(out.matches("\r\n").count(), rows.len());
    assert_eq!(out.matches('\n').count(), rows.len());
    assert_eq!(out.matches('\r').count(), rows.len());
    assert_eq!(rows.len(), run.findings.len() + 1);
    assert_eq!(rows[0], CSV_COLUMNS);
    let mut defused = 0;
    for row in &rows {
        assert_eq!(row.len(), CSV_COLUMNS.len());
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula cell {cell:?}"
            );
            if cell == "'=HYPERLINK(\"http://evil\",\"x\")"
                || cell == "'-1+1"
                || cell == "'@SUM(1+1)*cmd|' /C calc'!A0"
            {
                defused += 1;
            }
        }
    }
    assert!(defused >= 3, "the formulas should be kept as text, defused");
    // The 1 MiB value is kept whole in CSV (it is data, not display).
    let preimage = CSV_COLUMNS.iter().position(|c| *c == "preimage").unwrap();
    assert_eq!(rows[2][preimage], huge());

    let rows = parse_csv(&text("csv-matrix", &run));
    assert!(rows.len() > 1);
    let width = rows[0].len();
    for row in &rows {
        assert_eq!(row.len(), width);
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula cell {cell:?}"
            );
        }
    }
}

/// The number of `|` in `line` not escaped by a backslash.
fn unescaped_pipes(line: &str) -> usize {
    let mut n = 0;
    let mut backslashes = 0;
    for c in line.chars() {
        if c == '|' && backslashes % 2 == 0 {
            n += 1;
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    n
}

#[test]
fn markdown_cells_cannot_break_out() {
    let md = text("markdown", &hostile());
    assert!(!md.contains('<'), "raw < in Markdown");
    let mut tables = 0;
    let mut columns = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let n = unescaped_pipes(line);
        match columns {
            None => {
                columns = Some(n);
                tables += 1;
            }
            Some(c) => assert_eq!(n, c, "row with a different number of cells: {line}"),
        }
        // No code span, link or emphasis can open inside a table row.
        let mut prev = ' ';
        let mut backslashes = 0;
        for c in line.chars() {
            if matches!(c, '`' | '[' | '*' | '_') && backslashes % 2 == 0 {
                panic!("unescaped {c:?} after {prev:?} in {line}");
            }
            backslashes = if c == '\\' { backslashes + 1 } else { 0 };
            prev = c;
        }
    }
    assert_eq!(tables, 3, "violations, matrix and findings tables");
}

#[test]
fn json_outputs_parse_back_to_the_same_findings() {
    let run = hostile();
    let doc: serde_json::Value = serde_json::from_slice(&render("json", &run)).unwrap();
    let findings: Vec<Finding> = serde_json::from_value(doc["findings"].clone()).unwrap();
    assert_eq!(findings, run.findings);
    assert_eq!(doc["flows_total"], run.flows.len());
    assert_eq!(
        doc["warnings"].as_array().unwrap().len(),
        run.warnings.len()
    );
    assert_eq!(
        doc["summary"]["device"],
        run.summary.device.clone().unwrap()
    );

    let lines = text("jsonl", &run);
    let mut kinds = Vec::new();
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        kinds.push(v["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        kinds.iter().filter(|k| *k == "finding").count(),
        run.findings.len()
    );
    assert_eq!(kinds.last().map(String::as_str), Some("summary"));
    // JSON escapes control characters itself.
    assert!(!lines.contains('\u{1b}') && !lines.contains('\u{0}'));
}

#[test]
fn every_format_renders_every_payload_without_panicking() {
    // Each payload alone as every string of a run, so no attack hides behind another.
    for p in PAYLOADS {
        let mut run = realistic();
        for f in &mut run.findings {
            f.kind = p.to_owned();
            f.url = p.to_owned();
            f.host = Some(p.to_owned());
            f.destination.domain = Some(p.to_owned());
            f.chain = vec![p.to_owned()];
        }
        for format in FORMATS {
            let out = render(format, &run);
            assert!(!out.is_empty(), "{format}");
            if format != "jsonl" && format != "json" {
                let text = String::from_utf8(out).unwrap();
                let allowed: &[char] = if format.starts_with("csv") {
                    &['\r', '\n']
                } else {
                    &['\n']
                };
                assert_eq!(first_hazard(&text, allowed), None, "{format} with {p:?}");
            }
        }
    }
}

/// The browser used to load the page: `chromium` (Debian's), installed by `.ci/run` when missing.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium with `args` on `page`, with its own throwaway profile.
fn run_chromium(browser: &std::path::Path, page: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let profile = target_dir().join(format!("chromium-profile-{}", std::process::id()));
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn chromium_renders_the_hostile_page_without_creating_what_the_payloads_tried() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromium is not installed (.ci/run installs it)"
        );
        eprintln!("skipping: chromium is not installed (apt-get install chromium)");
        return;
    };
    let dir = target_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let benign_page = dir.join("chromium-benign-report.html");
    let hostile_page = dir.join("chromium-hostile-report.html");
    std::fs::write(&benign_page, render("html", &realistic())).unwrap();
    std::fs::write(&hostile_page, render("html", &hostile())).unwrap();
    // The DOM after the browser parsed the page (and would have run anything it could run).
    let benign = shape(&String::from_utf8_lossy(&run_chromium(
        &browser,
        &benign_page,
        &["--dump-dom"],
    )));
    let dom = String::from_utf8_lossy(&run_chromium(&browser, &hostile_page, &["--dump-dom"]))
        .into_owned();
    let evil = shape(&dom);
    assert!(
        evil.elements.contains("table") && evil.elements.contains("svg"),
        "{dom:.400}"
    );
    let extra: Vec<_> = evil.elements.difference(&benign.elements).collect();
    assert!(extra.is_empty(), "elements the payloads created: {extra:?}");
    let extra: Vec<_> = evil.attributes.difference(&benign.attributes).collect();
    assert!(
        extra.is_empty(),
        "attributes the payloads created: {extra:?}"
    );
    assert!(!evil.elements.contains("script") && !evil.elements.contains("img"));
    assert!(evil.text.contains("<script>alert(1)</script>"));
    // A picture for people (not a pass condition).
    let shot = dir.join("hostile-report.png");
    let _ = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join(format!("chromium-shot-{}", std::process::id()))
                .display()
        ))
        .args(["--window-size=1400,2400"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", hostile_page.display()))
        .output();
    let _ = std::fs::remove_dir_all(dir.join(format!("chromium-shot-{}", std::process::id())));
}
