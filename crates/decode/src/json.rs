//! JSON documents: parsing (with serde_json's recursion limit of 128 kept) and an iterator over
//! their leaves, each named by a JSONPath.

use serde_json::Value;
use std::borrow::Cow;

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
    serde_json::from_slice(input).ok()
}

/// True when `key` can be written `$.key` in a JSONPath, else it needs `$['key']`.
fn is_plain_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Appends the JSONPath member selector for `key` to `path`.
fn push_key(path: &mut String, key: &str) {
    if is_plain_key(key) {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str("['");
        for c in key.chars() {
            if c == '\'' || c == '\\' {
                path.push('\\');
            }
            path.push(c);
        }
        path.push_str("']");
    }
}

/// The string and number leaves of a JSON value in document order (object members in the order
/// serde_json keeps them), each with its JSONPath (`$.list[0].name`, `$['odd key']`).
///
/// Walks with an explicit stack, so nesting depth costs heap, not call stack.
pub(crate) struct JsonLeaves<'a> {
    stack: Vec<(String, &'a Value)>,
}

impl<'a> JsonLeaves<'a> {
    /// The leaves of `root`.
    pub(crate) fn new(root: &'a Value) -> Self {
        Self {
            stack: vec![("$".to_string(), root)],
        }
    }
}

impl<'a> Iterator for JsonLeaves<'a> {
    type Item = (String, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some((path, value)) = self.stack.pop() {
            match value {
                Value::String(s) => return Some((path, Cow::Borrowed(s.as_str()))),
                Value::Number(n) => return Some((path, Cow::Owned(n.to_string()))),
                Value::Null | Value::Bool(_) => {}
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate().rev() {
                        self.stack.push((format!("{path}[{i}]"), item));
                    }
                }
                Value::Object(members) => {
                    for (key, item) in members.iter().rev() {
                        let mut child = path.clone();
                        push_key(&mut child, key);
                        self.stack.push((child, item));
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(text: &str) -> Vec<(String, String)> {
        let value = parse(text.as_bytes()).unwrap();
        JsonLeaves::new(&value)
            .map(|(p, v)| (p, v.into_owned()))
            .collect()
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
        let all: Vec<_> = JsonLeaves::new(&value).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].0, format!("${}", "[0]".repeat(100)));
    }
}
