//! JSON documents: parsing (with serde_json's recursion limit of 128 kept) and a walk over their
//! leaves, each named by a JSONPath.

use crate::MAX_PATH_KEY_CHARS;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write;

/// True when `input` starts (after whitespace) like a JSON object or array.
pub(crate) fn looks_like_json(input: &[u8]) -> bool {
    matches!(
        input.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Parses a whole JSON document (trailing whitespace allowed); `None` when it is not valid JSON,
/// has trailing data, or nests deeper than serde_json's limit of 128.
pub(crate) fn parse(input: &[u8]) -> Option<Value> {
    parse_or_too_deep(input).ok()
}

/// Like [`parse`], but says whether a failure was serde_json's recursion limit (128 levels):
/// `Err(true)` for a document nested too deep to read, `Err(false)` for anything else.
pub(crate) fn parse_or_too_deep(input: &[u8]) -> Result<Value, bool> {
    serde_json::from_slice(input).map_err(|e| e.to_string().contains("recursion limit exceeded"))
}

/// Most lines read from one JSON Lines document; a longer document is not read as JSON Lines.
pub const MAX_JSON_LINES: usize = 65_536;

/// The documents of a JSON Lines (NDJSON) input, each with its 0-based line number (blank lines
/// counted, skipped) and its text (surrounding whitespace trimmed). `None` unless the input starts
/// like JSON, every non-blank line is one whole JSON document, there are at least two of them and at
/// most [`MAX_JSON_LINES`] lines. Linear in the input.
pub(crate) fn json_lines(input: &[u8]) -> Option<Vec<(usize, &[u8])>> {
    if !looks_like_json(input) {
        return None;
    }
    let mut documents = Vec::new();
    for (number, line) in input.split(|&b| b == b'\n').enumerate() {
        if number >= MAX_JSON_LINES {
            return None;
        }
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        parse(line)?;
        documents.push((number, line));
    }
    (documents.len() >= 2).then_some(documents)
}

/// The JSON text inside a JSONP response or script: `callback(…)` with an optional `;`, where
/// `callback` is a JavaScript name or dotted path (`jQuery123_456`, `window.cb`), optionally
/// preceded by the `/**/` that some servers add. Only the shape is checked here (the content starts
/// with `{` or `[`); the caller parses it.
pub(crate) fn jsonp_content(input: &[u8]) -> Option<&[u8]> {
    let text = input.trim_ascii();
    let text = text
        .strip_prefix(b"/**/")
        .unwrap_or(text)
        .trim_ascii_start();
    let name_len = text
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.')))?;
    let name = text.get(..name_len)?;
    match name.first() {
        Some(b) if !b.is_ascii_digit() && *b != b'.' => {}
        _ => return None,
    }
    let rest = text
        .get(name_len..)?
        .trim_ascii_start()
        .strip_prefix(b"(")?;
    let rest = rest.strip_suffix(b";").unwrap_or(rest).trim_ascii_end();
    let content = rest.strip_suffix(b")")?.trim_ascii();
    looks_like_json(content).then_some(content)
}

/// True when `key` can be written `$.key` in a JSONPath, else it needs `$['key']`.
fn is_plain_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The 32-bit FNV-1a hash of `key`, as 8 lowercase hex digits: names a shortened key in a path.
/// FNV-1a is fixed by its specification, so the same key gives the same path on every run and
/// platform.
pub(crate) fn key_digest(key: &str) -> String {
    const OFFSET_BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    let hash = key
        .bytes()
        .fold(OFFSET_BASIS, |h, b| (h ^ u32::from(b)).wrapping_mul(PRIME));
    format!("{hash:08x}")
}

/// Appends the JSONPath member selector for `key` to `path`, shortening keys longer than
/// [`MAX_PATH_KEY_CHARS`].
fn push_key(path: &mut String, key: &str) {
    let cut = key.char_indices().nth(MAX_PATH_KEY_CHARS).map(|(i, _)| i);
    match cut {
        None if is_plain_key(key) => {
            path.push('.');
            path.push_str(key);
        }
        _ => {
            path.push_str("['");
            let shown = cut.and_then(|i| key.get(..i)).unwrap_or(key);
            for c in shown.chars() {
                if c == '\'' || c == '\\' {
                    path.push('\\');
                }
                path.push(c);
            }
            if cut.is_some() {
                path.push('…');
                path.push_str(&key_digest(key));
            }
            path.push_str("']");
        }
    }
}

/// The children of an open array or object, not yet walked.
enum Children<'a> {
    Array(std::iter::Enumerate<std::slice::Iter<'a, Value>>),
    Object(serde_json::map::Iter<'a>),
}

/// An array or object being walked.
struct Open<'a> {
    children: Children<'a>,
    /// Length of the container's own path: a child's selector is appended after it.
    path_len: usize,
}

/// The string and number leaves of a JSON value in document order (object members in the order
/// serde_json keeps them), each with its JSONPath (`$.list[0].name`, `$['odd key']`).
///
/// Walks with an explicit stack of open containers and one path buffer shared by all leaves
/// (a selector is appended on the way down and cut off on the way up), so the walk costs memory
/// in the nesting depth and the length of one path, never in the number of children.
pub(crate) struct JsonLeaves<'a> {
    /// The path of the last value entered.
    path: String,
    open: Vec<Open<'a>>,
    /// The document, until the walk starts.
    root: Option<&'a Value>,
}

impl<'a> JsonLeaves<'a> {
    /// The leaves of `root`.
    pub(crate) fn new(root: &'a Value) -> Self {
        Self {
            path: "$".to_string(),
            open: Vec::new(),
            root: Some(root),
        }
    }

    /// The next leaf: its JSONPath (valid until the next call) and its text.
    pub(crate) fn next_leaf(&mut self) -> Option<(&str, Cow<'a, str>)> {
        if let Some(root) = self.root.take() {
            if let Some(leaf) = self.enter(root) {
                return Some((self.path.as_str(), leaf));
            }
        }
        loop {
            let top = self.open.last_mut()?;
            self.path.truncate(top.path_len);
            let child = match &mut top.children {
                Children::Array(items) => items.next().map(|(index, item)| {
                    // Writing to a String cannot fail.
                    let _ = write!(self.path, "[{index}]");
                    item
                }),
                Children::Object(members) => members.next().map(|(key, item)| {
                    push_key(&mut self.path, key);
                    item
                }),
            };
            match child {
                Some(item) => {
                    if let Some(leaf) = self.enter(item) {
                        return Some((self.path.as_str(), leaf));
                    }
                }
                None => {
                    self.open.pop();
                }
            }
        }
    }

    /// `value`'s text when it is a leaf; opens it when it is an array or object. `self.path` names
    /// `value`.
    fn enter(&mut self, value: &'a Value) -> Option<Cow<'a, str>> {
        let children = match value {
            Value::String(s) => return Some(Cow::Borrowed(s.as_str())),
            Value::Number(n) => return Some(Cow::Owned(n.to_string())),
            Value::Null | Value::Bool(_) => return None,
            Value::Array(items) => Children::Array(items.iter().enumerate()),
            Value::Object(members) => Children::Object(members.iter()),
        };
        self.open.push(Open {
            children,
            path_len: self.path.len(),
        });
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_leaves(value: &Value) -> Vec<(String, String)> {
        let mut leaves = JsonLeaves::new(value);
        let mut out = Vec::new();
        while let Some((path, leaf)) = leaves.next_leaf() {
            out.push((path.to_string(), leaf.into_owned()));
        }
        out
    }

    fn leaves(text: &str) -> Vec<(String, String)> {
        all_leaves(&parse(text.as_bytes()).unwrap())
    }

    #[test]
    fn paths() {
        let mut got = leaves(
            r#"{"list": [{"name": "Priya", "n": 7}], "odd key": "x", "it's": true, "q'\\": "y"}"#,
        );
        got.sort();
        assert_eq!(
            got,
            vec![
                ("$.list[0].n".to_string(), "7".to_string()),
                ("$.list[0].name".to_string(), "Priya".to_string()),
                ("$['odd key']".to_string(), "x".to_string()),
                ("$['q\\'\\\\']".to_string(), "y".to_string()),
            ]
        );
        assert_eq!(
            leaves(r#""top""#),
            vec![("$".to_string(), "top".to_string())]
        );
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse(b"{\"a\": 1").is_none());
        assert!(parse(b"{\"a\": 1} trailing").is_none());
        assert!(parse(b"{\"a\": 1}  \n").is_some());
        assert!(parse(b"\xff\xfe").is_none());
        assert!(!looks_like_json(b"  abc"));
        assert!(looks_like_json(b" \n[1]"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(deep.as_bytes()).is_none());
        let within = format!("{}\"x\"{}", "[".repeat(100), "]".repeat(100));
        let value = parse(within.as_bytes()).unwrap();
        let all = all_leaves(&value);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].0, format!("${}", "[0]".repeat(100)));
    }

    #[test]
    fn document_order() {
        assert_eq!(
            leaves(r#"{"a": [1, {"b": "x", "c": [[2], 3]}, null], "d": {"e": 4}, "f": 5}"#),
            vec![
                ("$.a[0]".to_string(), "1".to_string()),
                ("$.a[1].b".to_string(), "x".to_string()),
                ("$.a[1].c[0][0]".to_string(), "2".to_string()),
                ("$.a[1].c[1]".to_string(), "3".to_string()),
                ("$.d.e".to_string(), "4".to_string()),
                ("$.f".to_string(), "5".to_string()),
            ]
        );
        assert!(leaves("[[], {}, null, true]").is_empty());
    }

    #[test]
    fn json_lines_split() {
        let lines = json_lines(b"{\"a\": 1}\r\n\n  [2]\n\"x\"\n").unwrap();
        assert_eq!(
            lines,
            vec![
                (0, &b"{\"a\": 1}"[..]),
                (2, &b"[2]"[..]),
                (3, &b"\"x\""[..])
            ]
        );
        assert_eq!(
            json_lines(b"{\"a\": 1}\n"),
            None,
            "one document is plain JSON"
        );
        assert_eq!(json_lines(b"{\"a\": 1}\n{\"b\": "), None, "truncated");
        assert_eq!(json_lines(b"{\"a\": 1}\nnot json"), None);
        assert_eq!(json_lines(b"x\n{}\n{}"), None);
        let many = "{}\n".repeat(MAX_JSON_LINES + 1);
        assert_eq!(json_lines(many.as_bytes()), None);
    }

    #[test]
    fn jsonp_shapes() {
        assert_eq!(
            jsonp_content(b"cb({\"imei\": \"1\"});"),
            Some(&b"{\"imei\": \"1\"}"[..])
        );
        assert_eq!(
            jsonp_content(b" /**/ jQuery1_2.cb ( [1] ) ;\n"),
            Some(&b"[1]"[..])
        );
        assert_eq!(jsonp_content(b"cb(1)"), None);
        assert_eq!(jsonp_content(b"cb({}"), None);
        assert_eq!(jsonp_content(b"1cb({})"), None);
        assert_eq!(jsonp_content(b"({})"), None);
        assert_eq!(jsonp_content(b"a b({})"), None);
        assert_eq!(jsonp_content(b""), None);
    }

    #[test]
    fn key_digest_is_fnv1a_32() {
        // Test vectors of the FNV specification (draft-eastlake-fnv).
        assert_eq!(key_digest(""), "811c9dc5");
        assert_eq!(key_digest("a"), "e40c292c");
        assert_eq!(key_digest("foobar"), "bf9cf968");
    }

    #[test]
    fn long_keys_are_shortened() {
        let exact = "k".repeat(MAX_PATH_KEY_CHARS);
        assert_eq!(
            leaves(&format!(r#"{{"{exact}": 1}}"#))[0].0,
            format!("$.{exact}")
        );
        let long = "k".repeat(MAX_PATH_KEY_CHARS + 1);
        assert_eq!(
            leaves(&format!(r#"{{"{long}": 1}}"#))[0].0,
            format!("$['{exact}…{}']", key_digest(&long))
        );
        // Cut on a character boundary, quotes escaped in the kept part.
        let accented = "é".repeat(100);
        assert_eq!(
            leaves(&format!(r#"{{"{accented}": 1}}"#))[0].0,
            format!("$['{}…{}']", "é".repeat(64), key_digest(&accented))
        );
        let quoted = "'".repeat(100);
        assert_eq!(
            leaves(&format!(r#"{{"{quoted}": 1}}"#))[0].0,
            format!("$['{}…{}']", "\\'".repeat(64), key_digest(&quoted))
        );
        // Nested long keys: the path grows by a bounded amount per level.
        let mut doc = "1".to_string();
        for _ in 0..100 {
            doc = format!(r#"{{"{}": {doc}}}"#, "z".repeat(10_000));
        }
        let got = leaves(&doc);
        assert_eq!(got.len(), 1);
        assert!(got[0].0.len() < 100 * 80, "{}", got[0].0.len());
    }
}
