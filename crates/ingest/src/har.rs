//! HTTP Archive (HAR 1.2) files, streamed one entry at a time.
//!
//! The JSON is parsed incrementally: a [`serde::de::DeserializeSeed`] walks the top-level object
//! and `log`, and a sequence visitor over `log.entries` parses one entry, converts it and hands it
//! to the callback before reading the next. Only one entry is held at a time, and it is bounded by
//! [`MAX_HAR_ENTRY_BYTES`]; `pages` and unknown members are skipped without being stored.
//!
//! Real exporters (Chrome, Firefox, Safari, Charles, Insomnia, mitmproxy, HTTP Toolkit…) differ in
//! details, so entries are read leniently: missing optional fields, `null` where a string or array
//! is expected, numbers written as strings and strings as numbers, headers with `null` values and
//! extra `_private` members are all accepted. An entry without a request method or URL is
//! reported as a [`phonehome_model::Warning`] naming its number, and the next entry is read.
//!
//! Reference: <http://www.softwareishard.com/blog/har-12-spec/>.

use crate::input::{self, Compression, Decompressed};
use crate::sniff::{sniff_stream, UTF8_BOM};
use crate::{Error, ErrorKind, Format};
use phonehome_model::{Warning, WarningCode};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

/// Largest single HAR entry read (256 MiB of JSON). An entry larger than this stops reading with
/// a `limit` warning; entries before it have been delivered.
pub const MAX_HAR_ENTRY_BYTES: u64 = 256 << 20;

/// How many top-level member names an error about a missing `log` lists.
const MAX_LISTED_KEYS: usize = 8;

/// One entry of `log.entries`: a request and, when the exporter saw one, its response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HarEntry {
    /// 1-based position in `log.entries` (malformed entries count too, so numbers match the file).
    pub index: u64,
    /// `startedDateTime` as written (ISO 8601).
    pub started: Option<String>,
    /// `serverIPAddress`, when present and not empty.
    pub server_ip: Option<String>,
    /// `connection` (an exporter-specific connection id), when present and not empty.
    pub connection: Option<String>,
    /// The request.
    pub request: HarRequest,
    /// The response, when the entry has a `response` object.
    pub response: Option<HarResponse>,
}

/// `entry.request`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HarRequest {
    /// Request method, as written.
    pub method: String,
    /// Absolute URL, as written.
    pub url: String,
    /// `httpVersion` as written: `HTTP/1.1`, `h2`, `http/2.0`, `HTTP/3`, or empty.
    pub http_version: String,
    /// Header fields `(name, value)` in order; a `null` value is read as empty.
    pub headers: Vec<(String, String)>,
    /// Cookies `(name, value)`.
    pub cookies: Vec<(String, String)>,
    /// `queryString` parameters `(name, value)`.
    pub query: Vec<(String, String)>,
    /// The request body, when there is a `postData` object.
    pub post_data: Option<HarPostData>,
}

/// `request.postData`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HarPostData {
    /// `mimeType` (empty when absent).
    pub mime_type: String,
    /// The body text, when present.
    pub text: Option<String>,
    /// `encoding` (`base64`), a non-standard field some exporters write.
    pub encoding: Option<String>,
    /// Form parameters (`params`), written by some exporters instead of or besides `text`.
    pub params: Vec<HarParam>,
}

/// One `postData.params` element.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HarParam {
    /// Parameter name (empty when absent).
    pub name: String,
    /// Value, when present.
    pub value: Option<String>,
    /// Name of an uploaded file.
    pub file_name: Option<String>,
    /// Content type of an uploaded file.
    pub content_type: Option<String>,
}

/// `entry.response`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HarResponse {
    /// Status code (0 when absent or unreadable; Firefox writes 0 for requests that got no answer).
    pub status: i64,
    /// Reason phrase.
    pub status_text: String,
    /// `httpVersion` as written.
    pub http_version: String,
    /// Header fields `(name, value)` in order.
    pub headers: Vec<(String, String)>,
    /// Cookies `(name, value)`.
    pub cookies: Vec<(String, String)>,
    /// The response body.
    pub content: HarContent,
}

/// `response.content`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HarContent {
    /// Size of the decoded body in bytes (-1 when absent).
    pub size: i64,
    /// `mimeType` (empty when absent).
    pub mime_type: String,
    /// The body text, when the exporter kept it.
    pub text: Option<String>,
    /// `encoding`: `base64` when `text` is base64.
    pub encoding: Option<String>,
}

/// One thing found in a HAR file, in file order.
// Each event is moved into the callback once, so the size difference between variants costs
// nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HarEvent {
    /// A well-formed entry.
    Entry(HarEntry),
    /// A problem: a malformed entry (skipped), or the file breaking off after some entries.
    Warning(Warning),
}

/// What [`read_har`] read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HarStats {
    /// Entries delivered (malformed entries are not counted).
    pub entries: u64,
    /// `log.creator.name`.
    pub creator: Option<String>,
    /// True when the file starts with a UTF-8 byte order mark.
    pub bom: bool,
    /// True when the file was gzip-compressed.
    pub gzip: bool,
    /// True when the file was zlib-compressed (mitmproxy `.zhar`).
    pub zlib: bool,
}

/// Reads a HAR file (optionally gzip- or zlib-compressed, recognised by content) and calls `on`
/// for every entry and warning, in file order. `name` is how the file is named in warnings.
///
/// Returns `Err` when the file cannot be opened, is not JSON, breaks off before its first entry,
/// or has no `log.entries` array.
pub fn read_har(
    path: &Path,
    name: Arc<str>,
    on: &mut dyn FnMut(HarEvent),
) -> Result<HarStats, Error> {
    let file = File::open(path).map_err(|e| Error::io(name.clone(), e))?;
    read_har_from(file, name, on)
}

/// [`read_har`] over any reader.
pub fn read_har_from(
    reader: impl Read,
    name: Arc<str>,
    on: &mut dyn FnMut(HarEvent),
) -> Result<HarStats, Error> {
    read_har_limited(reader, name, on, MAX_HAR_ENTRY_BYTES)
}

/// [`read_har_from`] with the per-entry size limit as a parameter.
fn read_har_limited(
    reader: impl Read,
    name: Arc<str>,
    on: &mut dyn FnMut(HarEvent),
    max_entry_bytes: u64,
) -> Result<HarStats, Error> {
    let (compression, mut input) = input::open(reader).map_err(|e| Error::io(name.clone(), e))?;
    let format = sniff_stream(&mut input, &name, compression)?;
    if format != Format::Har {
        return Err(Error::new(
            name,
            None,
            ErrorKind::WrongFormat { found: format },
        ));
    }
    let bom = input.data().starts_with(&UTF8_BOM);
    if bom {
        input.consume(UTF8_BOM.len());
    }
    let progress = Rc::new(Progress::new(input.offset()));
    let mut state = State {
        name: name.clone(),
        on,
        progress: progress.clone(),
        stats: HarStats {
            bom,
            gzip: compression == Compression::Gzip,
            zlib: compression == Compression::Zlib,
            ..HarStats::default()
        },
        seen: 0,
        max_entry_bytes,
        found_log: false,
        entries_done: false,
        top_keys: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_reader(HarInput {
        input,
        progress: progress.clone(),
    });
    let parsed = de
        .deserialize_map(Root { state: &mut state })
        .and_then(|()| de.end());
    if let Err(err) = parsed {
        let offset = progress.offset_of(err.line(), err.column());
        if progress.limit_hit.get() {
            let index = state.seen.saturating_add(1);
            let reason = format!(
                "har: entry {index} is larger than {max_entry_bytes} bytes; reading stopped"
            );
            let warning = Warning::new(WarningCode::Limit, name, reason)
                .at_offset(progress.entry_start.get())
                .at_entry(index);
            (state.on)(HarEvent::Warning(warning));
            return Ok(state.stats);
        }
        if state.seen == 0 && !state.entries_done {
            return Err(json_error(name, offset, err));
        }
        let truncated = err.is_eof() || err.io_error_kind() == Some(io::ErrorKind::UnexpectedEof);
        let code = if truncated {
            WarningCode::Truncated
        } else {
            WarningCode::Malformed
        };
        let source = match (err.is_io(), compression) {
            (false, _) => "",
            (true, Compression::Gzip) => "gzip: ",
            (true, Compression::Zlib) => "zlib: ",
            (true, Compression::None) => "read error: ",
        };
        let reason = format!("har: {source}{err}; reading stopped");
        (state.on)(HarEvent::Warning(
            Warning::new(code, name, reason).at_offset(offset),
        ));
        return Ok(state.stats);
    }
    if !state.entries_done {
        let reason = if state.found_log {
            "`log` has no `entries` array".to_owned()
        } else if state.top_keys.is_empty() {
            "the top-level object has no `log` member".to_owned()
        } else {
            format!(
                "the top-level object has no `log` member (it has: {})",
                state.top_keys.join(", ")
            )
        };
        return Err(Error::new(name, None, ErrorKind::NoEntries { reason }));
    }
    Ok(state.stats)
}

/// The `Err` for a JSON problem before any entry.
fn json_error(name: Arc<str>, offset: u64, err: serde_json::Error) -> Error {
    if err.is_io() {
        return Error::new(name, None, ErrorKind::Io(io::Error::other(err.to_string())));
    }
    let text = err.to_string();
    let reason = match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or(&text).to_owned(),
        None => text,
    };
    let kind = ErrorKind::Json {
        line: err.line(),
        column: err.column(),
        reason,
    };
    Error::new(name, Some(offset), kind)
}

/// Bytes consumed by the JSON parser, where the last lines began, and the limit for the entry
/// being read.
struct Progress {
    consumed: Cell<u64>,
    limit: Cell<u64>,
    limit_hit: Cell<bool>,
    /// 1-based number of the line the last consumed byte is on.
    line: Cell<usize>,
    /// Offset of the first byte of that line, and of the line before it.
    line_start: Cell<u64>,
    prev_line_start: Cell<u64>,
    /// Set while looking for the first byte of the next entry (after whitespace and the comma).
    entry_pending: Cell<bool>,
    /// Offset of the first byte of the entry being read.
    entry_start: Cell<u64>,
}

impl Progress {
    fn new(consumed: u64) -> Self {
        Self {
            consumed: Cell::new(consumed),
            limit: Cell::new(u64::MAX),
            limit_hit: Cell::new(false),
            line: Cell::new(1),
            line_start: Cell::new(consumed),
            prev_line_start: Cell::new(consumed),
            entry_pending: Cell::new(false),
            entry_start: Cell::new(consumed),
        }
    }

    /// Accounts for `bytes`, just handed to the parser.
    fn advance(&self, bytes: &[u8]) {
        let mut at = self.consumed.get();
        for &b in bytes {
            if self.entry_pending.get() && !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',') {
                self.entry_pending.set(false);
                self.entry_start.set(at);
            }
            at = at.saturating_add(1);
            if b == b'\n' {
                self.line.set(self.line.get().saturating_add(1));
                self.prev_line_start.set(self.line_start.get());
                self.line_start.set(at);
            }
        }
        self.consumed.set(at);
    }

    /// The file offset of the parser's `line:column` (column 0 is the newline ending the line
    /// before), or the last consumed byte when that line is no longer known.
    fn offset_of(&self, line: usize, column: usize) -> u64 {
        let current = self.line.get();
        let start = if line == current {
            self.line_start.get()
        } else if line.saturating_add(1) == current {
            self.prev_line_start.get()
        } else {
            return self.consumed.get().saturating_sub(1);
        };
        (start.saturating_add(column as u64)).saturating_sub(1)
    }
}

/// The decompressed input as the JSON parser reads it, counting bytes against the entry limit.
struct HarInput<'r> {
    input: Decompressed<'r>,
    progress: Rc<Progress>,
}

impl Read for HarInput<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(out)?;
        self.progress.advance(out.get(..n).unwrap_or(&[]));
        if self.progress.consumed.get() > self.progress.limit.get() {
            self.progress.limit_hit.set(true);
            return Err(io::Error::other(
                "HAR entry larger than MAX_HAR_ENTRY_BYTES",
            ));
        }
        Ok(n)
    }
}

/// Everything the visitors share.
struct State<'f> {
    name: Arc<str>,
    on: &'f mut dyn FnMut(HarEvent),
    progress: Rc<Progress>,
    stats: HarStats,
    /// Entries seen so far, well-formed or not.
    seen: u64,
    /// Largest entry read, in bytes of JSON.
    max_entry_bytes: u64,
    found_log: bool,
    entries_done: bool,
    /// The first top-level member names, for the error when there is no `log`.
    top_keys: Vec<String>,
}

/// The top-level object.
struct Root<'s, 'f> {
    state: &'s mut State<'f>,
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a HAR object with a `log` member")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "log" {
                self.state.found_log = true;
                map.next_value_seed(Log {
                    state: &mut *self.state,
                })?;
            } else {
                if self.state.top_keys.len() < MAX_LISTED_KEYS {
                    self.state.top_keys.push(key);
                }
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// `log`.
struct Log<'s, 'f> {
    state: &'s mut State<'f>,
}

impl<'de> DeserializeSeed<'de> for Log<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Log<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the HAR `log` object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "entries" => map.next_value_seed(Entries {
                    state: &mut *self.state,
                })?,
                "creator" => {
                    let creator: Value = map.next_value()?;
                    if let Value::Object(mut creator) = creator {
                        self.state.stats.creator = text(take(&mut creator, "name"));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// `log.entries`.
struct Entries<'s, 'f> {
    state: &'s mut State<'f>,
}

impl<'de> DeserializeSeed<'de> for Entries<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the `log.entries` array")
    }

    /// `"entries": null` is read as no entries.
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.state.entries_done = true;
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.state;
        loop {
            let start = state.progress.consumed.get();
            state.progress.entry_pending.set(true);
            state
                .progress
                .limit
                .set(start.saturating_add(state.max_entry_bytes));
            let Some(value) = seq.next_element::<Value>()? else {
                break;
            };
            state.seen = state.seen.saturating_add(1);
            let index = state.seen;
            match entry_from_value(index, value) {
                Ok(entry) => {
                    state.stats.entries = state.stats.entries.saturating_add(1);
                    (state.on)(HarEvent::Entry(entry));
                }
                Err(reason) => {
                    let reason = format!("har: entry {index}: {reason}; skipped");
                    let warning = Warning::new(WarningCode::Malformed, state.name.clone(), reason)
                        .at_offset(state.progress.entry_start.get())
                        .at_entry(index);
                    (state.on)(HarEvent::Warning(warning));
                }
            }
        }
        state.progress.limit.set(u64::MAX);
        state.entries_done = true;
        Ok(())
    }
}

/// Removes `key` from `obj` (`null` when absent).
fn take(obj: &mut Map<String, Value>, key: &str) -> Value {
    obj.remove(key).unwrap_or(Value::Null)
}

/// A string, or a number or boolean written as text; `None` for null, arrays and objects.
fn text(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Like [`text`], but `None` for an empty or blank string.
fn non_empty(v: Value) -> Option<String> {
    text(v).filter(|s| !s.trim().is_empty())
}

/// An integer, or a string holding one (`"200"`); fractions are truncated.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

/// A list of `{name, value}` objects (headers, cookies, query) as pairs. Elements without a name
/// are dropped; a missing or `null` value is empty. A plain `{name: value}` object is accepted too.
fn pairs(v: Value) -> Vec<(String, String)> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::Object(mut pair) => {
                    let name = text(take(&mut pair, "name"))?;
                    Some((name, text(take(&mut pair, "value")).unwrap_or_default()))
                }
                _ => None,
            })
            .collect(),
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| (k, text(v).unwrap_or_default()))
            .collect(),
        _ => Vec::new(),
    }
}

/// A JSON type's name, for reasons.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Converts one parsed entry; `Err` names what makes it unusable.
fn entry_from_value(index: u64, value: Value) -> Result<HarEntry, String> {
    let mut entry = match value {
        Value::Object(entry) => entry,
        other => return Err(format!("entry is {}, not an object", kind_of(&other))),
    };
    let mut request = match take(&mut entry, "request") {
        Value::Object(request) => request,
        Value::Null => return Err("no request".to_owned()),
        other => return Err(format!("request is {}, not an object", kind_of(&other))),
    };
    let url = non_empty(take(&mut request, "url")).ok_or("request.url is missing or empty")?;
    let method =
        non_empty(take(&mut request, "method")).ok_or("request.method is missing or empty")?;
    let post_data = match take(&mut request, "postData") {
        Value::Object(post) => Some(post_data(post)),
        _ => None,
    };
    let request = HarRequest {
        method,
        url,
        http_version: text(take(&mut request, "httpVersion")).unwrap_or_default(),
        headers: pairs(take(&mut request, "headers")),
        cookies: pairs(take(&mut request, "cookies")),
        query: pairs(take(&mut request, "queryString")),
        post_data,
    };
    let response = match take(&mut entry, "response") {
        Value::Object(response) => Some(response_from(response)),
        _ => None,
    };
    Ok(HarEntry {
        index,
        started: non_empty(take(&mut entry, "startedDateTime")),
        server_ip: non_empty(take(&mut entry, "serverIPAddress")),
        connection: non_empty(take(&mut entry, "connection")),
        request,
        response,
    })
}

fn post_data(mut post: Map<String, Value>) -> HarPostData {
    let params = match take(&mut post, "params") {
        Value::Array(params) => params
            .into_iter()
            .filter_map(|param| match param {
                Value::Object(mut p) => Some(HarParam {
                    name: text(take(&mut p, "name")).unwrap_or_default(),
                    value: text(take(&mut p, "value")),
                    file_name: text(take(&mut p, "fileName")),
                    content_type: text(take(&mut p, "contentType")),
                }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    HarPostData {
        mime_type: text(take(&mut post, "mimeType")).unwrap_or_default(),
        text: text(take(&mut post, "text")),
        encoding: non_empty(take(&mut post, "encoding")),
        params,
    }
}

fn response_from(mut response: Map<String, Value>) -> HarResponse {
    let content = match take(&mut response, "content") {
        Value::Object(mut c) => HarContent {
            size: int(&take(&mut c, "size")).unwrap_or(-1),
            mime_type: text(take(&mut c, "mimeType")).unwrap_or_default(),
            text: text(take(&mut c, "text")),
            encoding: non_empty(take(&mut c, "encoding")),
        },
        _ => HarContent {
            size: -1,
            ..HarContent::default()
        },
    };
    HarResponse {
        status: int(&take(&mut response, "status")).unwrap_or(0),
        status_text: text(take(&mut response, "statusText")).unwrap_or_default(),
        http_version: text(take(&mut response, "httpVersion")).unwrap_or_default(),
        headers: pairs(take(&mut response, "headers")),
        cookies: pairs(take(&mut response, "cookies")),
        content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str, limit: u64) -> (Vec<HarEntry>, Vec<Warning>) {
        let (mut entries, mut warnings) = (Vec::new(), Vec::new());
        let stats = read_har_limited(
            json.as_bytes(),
            Arc::from("t.har"),
            &mut |event| match event {
                HarEvent::Entry(e) => entries.push(e),
                HarEvent::Warning(w) => warnings.push(w),
            },
            limit,
        )
        .unwrap();
        assert_eq!(stats.entries, entries.len() as u64);
        (entries, warnings)
    }

    #[test]
    fn an_entry_above_the_size_limit_stops_reading() {
        let small = r#"{"request": {"method": "GET", "url": "http://a/"}}"#;
        let large = format!(
            r#"{{"request": {{"method": "GET", "url": "http://a/{}"}}}}"#,
            "x".repeat(500)
        );
        let json = format!(r#"{{"log": {{"entries": [{small}, {large}, {small}]}}}}"#);
        let (entries, warnings) = read(&json, 200);
        assert_eq!(entries.len(), 1);
        assert_eq!(warnings.len(), 1);
        let w = &warnings[0];
        assert_eq!((w.code, w.entry), (WarningCode::Limit, Some(2)));
        assert_eq!(
            w.offset,
            Some(json.find(&large).unwrap() as u64),
            "where entry 2 starts"
        );
        assert!(w.reason.contains("larger than 200 bytes"), "{}", w.reason);
        let (entries, warnings) = read(&json, 1000);
        assert_eq!((entries.len(), warnings.len()), (3, 0));
    }

    #[test]
    fn lenient_scalars() {
        assert_eq!(int(&Value::from(" 404 ")), Some(404));
        assert_eq!(int(&Value::from("2.9")), Some(2));
        assert_eq!(int(&Value::from(1e300)), Some(i64::MAX), "saturates");
        assert_eq!(int(&Value::from("two")), None);
        assert_eq!(text(Value::from(1.5)), Some("1.5".to_owned()));
        assert_eq!(text(Value::Null), None);
        assert_eq!(non_empty(Value::from("  ")), None);
    }
}
