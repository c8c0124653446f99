//! Escaping of text taken from traffic before it reaches a terminal, a browser, a spreadsheet or a
//! Markdown renderer.
//!
//! Everything in a capture is attacker-controlled: host names, URLs, header values, decoded
//! payloads, even the kinds of data a telling key names. Every output format passes such text
//! through one of the functions here. They share one rule, [`is_hazardous`]: control characters,
//! bidirectional controls and zero-width characters are never written as they are but as a
//! visible `\u{…}` escape (`\u{1b}`, `\u{202e}`), so they are shown, never obeyed. Each format then
//! adds its own syntax escaping.

use std::fmt::Write as _;

/// Whether `c` must not reach a terminal or a reader as-is: C0 controls (including ESC, TAB, CR
/// and LF), DEL, C1 controls, the bidirectional controls (U+061C, U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069), the zero-width and invisible characters (U+200B–U+200D,
/// U+2060–U+2065, U+FEFF) and the line and paragraph separators (U+2028, U+2029).
pub fn is_hazardous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}'
        | '\u{061c}' | '\u{feff}')
}

/// Writes `c` as a visible escape: `\u{1b}`.
fn push_escape(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

/// `s` with every hazardous character (see [`is_hazardous`]) written as a `\u{…}` escape, so ANSI
/// and OSC sequences, bidi overrides and zero-width characters are shown, never obeyed.
pub fn escape_terminal(s: &str) -> String {
    if !s.chars().any(is_hazardous) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hazardous(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` safe as HTML text and as a quoted attribute value: `&`, `<`, `>`, `"` and `'` become
/// character references, and hazardous characters (see [`is_hazardous`]) `\u{…}` escapes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    push_html(&mut out, s);
    out
}

/// Appends `s` to `out`, escaped as [`escape_html`] does.
pub(crate) fn push_html(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_hazardous(c) => push_escape(out, c),
            c => out.push(c),
        }
    }
}

/// Characters after which a spreadsheet reads a cell as a formula (or, for TAB and CR, may).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `s` as one CSV cell (RFC 4180): hazardous characters (see [`is_hazardous`], which include CR
/// and LF) become `\u{…}` escapes; a cell that starts with `=`, `+`, `-`, `@`, TAB or CR gets a
/// leading `'` so a spreadsheet shows it as text rather than running it as a formula; a cell
/// holding `,`, `;` or `"` is quoted, with `"` doubled.
pub fn csv_cell(s: &str) -> String {
    let mut text = String::with_capacity(s.len() + 2);
    if s.starts_with(FORMULA_STARTS) {
        text.push('\'');
    }
    for c in s.chars() {
        if is_hazardous(c) {
            push_escape(&mut text, c);
        } else {
            text.push(c);
        }
    }
    if !text.contains([',', ';', '"']) {
        return text;
    }
    let mut quoted = String::with_capacity(text.len() + 4);
    quoted.push('"');
    for c in text.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// `s` as text in one cell of a Markdown (GitHub-flavoured) table: hazardous characters (see
/// [`is_hazardous`], which include newlines) become `\u{…}` escapes; `|` and the characters that
/// start code, emphasis, links, strike-through or math (`` ` `` `*` `_` `[` `]` `~` `$` `\`) are
/// backslash-escaped; `<`, `>` and `&` become character references so no renderer creates an
/// element or an autolink from them.
pub fn markdown_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '|' | '`' | '*' | '_' | '[' | ']' | '~' | '$' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if is_hazardous(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// `s` cut to at most `max` characters, with an ellipsis when cut (escape after cutting, so an
/// escape is never cut in half).
pub(crate) fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(s),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            let mut t = String::with_capacity(end + 3);
            t.push_str(&s[..end]);
            t.push('…');
            std::borrow::Cow::Owned(t)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_bidi_and_zero_width() {
        assert_eq!(escape_terminal("plain text"), "plain text");
        assert_eq!(
            escape_terminal("\u{1b}]0;pwned\u{7}"),
            "\\u{1b}]0;pwned\\u{7}"
        );
        assert_eq!(
            escape_terminal("a\u{202e}b\u{200b}c\u{9b}"),
            "a\\u{202e}b\\u{200b}c\\u{9b}"
        );
        assert_eq!(escape_terminal("tab\there\nnl"), "tab\\u{9}here\\u{a}nl");
        assert_eq!(escape_terminal("Ünïcode ✓"), "Ünïcode ✓");
    }

    #[test]
    fn every_listed_invisible_or_control_character_is_hazardous() {
        let listed = [
            0x00, 0x07, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f, 0x80, 0x9b, 0x9f, 0x061c, 0x200b,
            0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
            0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff,
        ];
        for cp in listed {
            let c = char::from_u32(cp).unwrap();
            assert!(is_hazardous(c), "U+{cp:04X} should be hazardous");
            for escaped in [
                escape_terminal(&c.to_string()),
                escape_html(&c.to_string()),
                csv_cell(&c.to_string()),
                markdown_cell(&c.to_string()),
            ] {
                assert!(!escaped.contains(c), "U+{cp:04X} survived: {escaped:?}");
                assert!(escaped.contains(&format!("\\u{{{cp:x}}}")), "{escaped:?}");
            }
        }
        for ok in [' ', 'a', 'é', '中', '\u{fffd}', '\u{a0}', '→'] {
            assert!(!is_hazardous(ok), "{ok:?}");
        }
    }

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            escape_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape_html("\"><img src=x onerror='a'>"),
            "&quot;&gt;&lt;img src=x onerror=&#39;a&#39;&gt;"
        );
        assert_eq!(escape_html("a & b"), "a &amp; b");
        assert_eq!(escape_html("x\u{202e}y\u{0}"), "x\\u{202e}y\\u{0}");
        assert_eq!(escape_html("Xiaomi 小米"), "Xiaomi 小米");
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell(""), "");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://evil\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""
        );
        assert_eq!(csv_cell("+cmd"), "'+cmd");
        assert_eq!(csv_cell("-1+1"), "'-1+1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\t=1"), "'\\u{9}=1");
        assert_eq!(csv_cell("\r=1"), "'\\u{d}=1");
        assert_eq!(csv_cell("line\r\nbreak"), "line\\u{d}\\u{a}break");
        assert_eq!(csv_cell("1=1"), "1=1");
        assert_eq!(csv_cell("\u{1b}[2J"), "\\u{1b}[2J");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_make_elements() {
        assert_eq!(markdown_cell("a|b"), "a\\|b");
        assert_eq!(markdown_cell("`code`"), "\\`code\\`");
        assert_eq!(markdown_cell("<b>x</b>"), "&lt;b&gt;x&lt;/b&gt;");
        assert_eq!(
            markdown_cell("[x](javascript:alert(1))"),
            "\\[x\\](javascript:alert(1))"
        );
        assert_eq!(markdown_cell("two\nlines"), "two\\u{a}lines");
        assert_eq!(markdown_cell("a\\|b"), "a\\\\\\|b");
        assert_eq!(
            markdown_cell("imei_md5 *x* ~y~ $z$"),
            "imei\\_md5 \\*x\\* \\~y\\~ \\$z\\$"
        );
        assert_eq!(markdown_cell("&lt;"), "&amp;lt;");
        assert_eq!(markdown_cell("query:a.b"), "query:a.b");
    }

    #[test]
    fn clip_cuts_on_characters() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abcd", 4), "abcd");
        assert_eq!(clip("ééééé", 3), "éé…");
        assert_eq!(clip("", 3), "");
    }
}
