//! A TOML document as a tree whose every value keeps its byte span, so that profile errors can
//! name the line.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use toml::Spanned;

/// The key toml uses to smuggle a datetime through serde.
const DATETIME_KEY: &str = "$__toml_private_datetime";

/// One TOML value; containers hold spanned children, tables in document order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TomlNode {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A date, time or datetime, as written.
    Datetime(String),
    /// An array (or array of tables).
    Array(Vec<Spanned<TomlNode>>),
    /// A table, inline or not.
    Table(Vec<(String, Spanned<TomlNode>)>),
}

impl TomlNode {
    /// What the value is, for error messages: `a string`, `a table`…
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::Str(_) => "a string",
            Self::Int(_) => "an integer",
            Self::Float(_) => "a float",
            Self::Bool(_) => "a boolean",
            Self::Datetime(_) => "a datetime",
            Self::Array(_) => "an array",
            Self::Table(_) => "a table",
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = TomlNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<TomlNode, E> {
        Ok(TomlNode::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TomlNode, E> {
        Ok(TomlNode::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TomlNode, E> {
        i64::try_from(v)
            .map(TomlNode::Int)
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TomlNode, E> {
        Ok(TomlNode::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TomlNode, E> {
        Ok(TomlNode::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<TomlNode, E> {
        Ok(TomlNode::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TomlNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<TomlNode>>()? {
            items.push(item);
        }
        Ok(TomlNode::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TomlNode, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == DATETIME_KEY {
                let text: String = map.next_value()?;
                return Ok(TomlNode::Datetime(text));
            }
            let value = map.next_value::<Spanned<TomlNode>>()?;
            members.push((key, value));
        }
        Ok(TomlNode::Table(members))
    }
}

impl<'de> Deserialize<'de> for TomlNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text
        .as_bytes()
        .get(..end)
        .map_or(0, |before| memchr::memchr_iter(b'\n', before).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_order() {
        let text = "[device]\nb = \"x\"\na = [1, 2]\nwhen = 1979-05-27\n\n[[c]]\nk = 1.5\n[[c]]\nk = true\n";
        let root: TomlNode = toml::from_str(text).unwrap();
        let TomlNode::Table(top) = root else { panic!() };
        assert_eq!(top[0].0, "device");
        let TomlNode::Table(device) = top[0].1.get_ref() else {
            panic!()
        };
        let keys: Vec<&str> = device.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "when"]);
        assert_eq!(line_of(text, device[0].1.span().start), 2);
        assert_eq!(line_of(text, device[1].1.span().start), 3);
        assert_eq!(
            device[2].1.get_ref(),
            &TomlNode::Datetime("1979-05-27".into())
        );
        let TomlNode::Array(cs) = top[1].1.get_ref() else {
            panic!()
        };
        assert_eq!(cs.len(), 2);
        let TomlNode::Table(c1) = cs[1].get_ref() else {
            panic!()
        };
        assert_eq!(c1[0].1.get_ref(), &TomlNode::Bool(true));
        assert_eq!(line_of(text, c1[0].1.span().start), 9);
    }

    #[test]
    fn lines() {
        assert_eq!(line_of("", 0), 1);
        assert_eq!(line_of("a\nb", 2), 2);
        assert_eq!(line_of("a\nb", 99), 2);
    }
}
