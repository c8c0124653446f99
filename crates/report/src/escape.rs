//! Escaping of text taken from traffic before it reaches a terminal.

use std::fmt::Write as _;

/// Whether `c` must not reach a terminal or a reader as-is: C0 controls (including ESC), DEL, C1
/// controls, and the bidirectional and zero-width characters used to disguise text.
pub fn is_hazardous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}'
        | '\u{061c}' | '\u{feff}')
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
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
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
}
