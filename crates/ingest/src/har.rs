//! HTTP Archive (HAR 1.2) files, streamed one entry at a time.
//!
//! The JSON is parsed incrementally with serde and no JSON tree is ever built: visitors walk the
//! top-level object and `log`, and a sequence visitor over `log.entries` reads each entry straight
//! into the fields this crate keeps, hands it to the callback, and reads the next. Members nobody
//! uses (`pages`, `timings`, `_initiator`, everything in `creator` but its name…) are skipped as
//! they are parsed, without being stored.
//!
//! **Bounded memory.** Every entry, and every member of the top-level object and of `log` other
//! than `log` and `entries` themselves (`creator`, `pages`…), is at most [`MAX_HAR_ENTRY_BYTES`] of
//! JSON; a larger one stops the reading with a `limit` warning. An entry keeps at most
//! [`MAX_HAR_ENTRY_MEMORY_RATIO`] bytes in memory per byte of its JSON, plus
//! [`HAR_ENTRY_MEMORY_ALLOWANCE`]: one that would keep more (hundreds of thousands of tiny header
//! objects, say) is skipped with a `limit` warning. Beyond that, the JSON parser keeps a scratch
//! buffer as large as the longest string or deepest nesting it has met (so at most
//! [`MAX_HAR_ENTRY_BYTES`]), and the reader its 1 MiB buffer.
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
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::marker::PhantomData;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

/// Largest single HAR entry read (64 MiB of JSON), and largest member of the top-level object or
/// of `log` other than `log` and `entries` (such as `creator` or `pages`). A larger one stops
/// reading with a `limit` warning; entries before it have been delivered.
///
/// 64 MiB holds a response body of 48 MiB in base64. It was 256 MiB when entries were parsed into
/// a JSON tree first; it was lowered because the parser's scratch buffer grows to the longest
/// string it meets and stays that large, so this limit bounds that buffer too.
pub const MAX_HAR_ENTRY_BYTES: u64 = 64 << 20;

/// Most bytes an entry may keep in memory per byte of its JSON (8): the strings it keeps and the
/// list slots holding them, as requested from the allocator. Real entries keep under 2 (a
/// `{"name": …, "value": …}` header of 30 bytes of JSON keeps 48 bytes of slot plus its two
/// strings); an entry that would keep more is skipped with a `limit` warning.
pub const MAX_HAR_ENTRY_MEMORY_RATIO: u64 = 8;

/// Bytes an entry may keep beyond [`MAX_HAR_ENTRY_MEMORY_RATIO`] times its JSON (1 MiB), so that
/// no small entry is refused.
pub const HAR_ENTRY_MEMORY_ALLOWANCE: u64 = 1 << 20;

/// Longest `log.creator.name` kept, in bytes (256); a longer name is cut at a character boundary.
pub const MAX_HAR_CREATOR_NAME_LEN: usize = 256;

/// How many top-level member names an error about a missing `log` lists.
const MAX_LISTED_KEYS: usize = 8;

/// Longest top-level member name listed in that error, in bytes.
const MAX_LISTED_KEY_LEN: usize = 64;

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
    read_har_limited(reader, name, on, HarLimits::default())
}

/// The limits of a HAR reading (the constants, or smaller ones in tests).
#[derive(Clone, Copy, Debug)]
struct HarLimits {
    /// [`MAX_HAR_ENTRY_BYTES`].
    entry_bytes: u64,
    /// [`HAR_ENTRY_MEMORY_ALLOWANCE`].
    memory_allowance: u64,
}

impl Default for HarLimits {
    fn default() -> Self {
        Self {
            entry_bytes: MAX_HAR_ENTRY_BYTES,
            memory_allowance: HAR_ENTRY_MEMORY_ALLOWANCE,
        }
    }
}

/// [`read_har_from`] with the limits as a parameter.
fn read_har_limited(
    reader: impl Read,
    name: Arc<str>,
    on: &mut dyn FnMut(HarEvent),
    limits: HarLimits,
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
        limits,
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
            let max = limits.entry_bytes;
            let at = progress.item_start.get();
            let warning = match progress.scope.get() {
                Scope::Entry => {
                    let index = state.seen.saturating_add(1);
                    let reason =
                        format!("har: entry {index} is larger than {max} bytes; reading stopped");
                    Warning::new(WarningCode::Limit, name, reason)
                        .at_offset(at)
                        .at_entry(index)
                }
                Scope::Member(parent) => {
                    let reason = format!(
                        "har: a member of {parent} is larger than {max} bytes; reading stopped"
                    );
                    Warning::new(WarningCode::Limit, name, reason).at_offset(at)
                }
            };
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

/// What the byte limit in force applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// The entry being read.
    Entry,
    /// A member (name and value) of the object named.
    Member(&'static str),
}

/// Bytes consumed by the JSON parser, where the last lines began, and the byte limit for the item
/// (entry or member) being read.
struct Progress {
    consumed: Cell<u64>,
    limit: Cell<u64>,
    scope: Cell<Scope>,
    limit_hit: Cell<bool>,
    /// 1-based number of the line the last consumed byte is on.
    line: Cell<usize>,
    /// Offset of the first byte of that line, and of the line before it.
    line_start: Cell<u64>,
    prev_line_start: Cell<u64>,
    /// Set while looking for the first byte of the next item (after whitespace and the comma).
    item_pending: Cell<bool>,
    /// Offset of the first byte of the item being read.
    item_start: Cell<u64>,
}

impl Progress {
    fn new(consumed: u64) -> Self {
        Self {
            consumed: Cell::new(consumed),
            limit: Cell::new(u64::MAX),
            scope: Cell::new(Scope::Entry),
            limit_hit: Cell::new(false),
            line: Cell::new(1),
            line_start: Cell::new(consumed),
            prev_line_start: Cell::new(consumed),
            item_pending: Cell::new(false),
            item_start: Cell::new(consumed),
        }
    }

    /// Limits the next item (an entry, or a member's name and value) to `max` bytes from here.
    fn limit_next(&self, max: u64, scope: Scope) {
        self.limit.set(self.consumed.get().saturating_add(max));
        self.scope.set(scope);
        self.item_pending.set(true);
    }

    /// Lifts the byte limit.
    fn unlimit(&self) {
        self.limit.set(u64::MAX);
    }

    /// Accounts for `bytes`, just handed to the parser.
    fn advance(&self, bytes: &[u8]) {
        let mut at = self.consumed.get();
        for &b in bytes {
            if self.item_pending.get() && !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',') {
                self.item_pending.set(false);
                self.item_start.set(at);
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

/// The decompressed input as the JSON parser reads it, counting bytes against the limit.
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
            return Err(io::Error::other("HAR item larger than MAX_HAR_ENTRY_BYTES"));
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
    limits: HarLimits,
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
        let state = self.state;
        let progress = state.progress.clone();
        let max = state.limits.entry_bytes;
        loop {
            progress.limit_next(max, Scope::Member("the top-level object"));
            let Some(key) = map.next_key::<String>()? else {
                break;
            };
            if key == "log" {
                progress.unlimit();
                state.found_log = true;
                map.next_value_seed(Log { state: &mut *state })?;
            } else {
                if state.top_keys.len() < MAX_LISTED_KEYS {
                    state.top_keys.push(truncated(key, MAX_LISTED_KEY_LEN));
                }
                map.next_value::<IgnoredAny>()?;
            }
        }
        progress.unlimit();
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
        let state = self.state;
        let progress = state.progress.clone();
        let max = state.limits.entry_bytes;
        loop {
            progress.limit_next(max, Scope::Member("`log`"));
            let Some(field) = map.next_key_seed(Field(&["entries", "creator"]))? else {
                break;
            };
            match field {
                Some("entries") => {
                    progress.unlimit();
                    map.next_value_seed(Entries { state: &mut *state })?;
                }
                Some(_) => state.stats.creator = map.next_value_seed(Creator)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        progress.unlimit();
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
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.state.entries_done = true;
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.state;
        let progress = state.progress.clone();
        loop {
            progress.limit_next(state.limits.entry_bytes, Scope::Entry);
            let kept = Kept::new(&progress, state.limits.memory_allowance);
            let Some(shaped) = seq.next_element_seed(object::<EntryFields>(&kept))? else {
                break;
            };
            state.seen = state.seen.saturating_add(1);
            let index = state.seen;
            match entry_from(index, shaped, &kept) {
                Ok(entry) => {
                    state.stats.entries = state.stats.entries.saturating_add(1);
                    (state.on)(HarEvent::Entry(entry));
                }
                Err((code, reason)) => {
                    let reason = format!("har: entry {index}: {reason}; skipped");
                    let warning = Warning::new(code, state.name.clone(), reason)
                        .at_offset(progress.item_start.get())
                        .at_entry(index);
                    (state.on)(HarEvent::Warning(warning));
                }
            }
        }
        progress.unlimit();
        state.entries_done = true;
        Ok(())
    }
}

/// A member name, matched against the names a visitor uses without being stored: the matching
/// name, or `None` for a member to skip. (In the visitors' `match`, `Some(_)` is the last name
/// of the list.)
#[derive(Clone, Copy)]
struct Field(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Field {
    type Value = Option<&'static str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Field {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().copied().find(|wanted| *wanted == name))
    }
}

/// Visitor methods that read every JSON scalar as `$value`.
macro_rules! scalars_as {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }

        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// Parses and drops the rest of an array.
fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Parses and drops the rest of an object.
fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// `log.creator`: only its `name` is kept (at most [`MAX_HAR_CREATOR_NAME_LEN`] bytes); the rest,
/// or a creator that is not an object, is skipped.
struct Creator;

impl<'de> DeserializeSeed<'de> for Creator {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Creator {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the `log.creator` object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut name = None;
        while let Some(field) = map.next_key_seed(Field(&["name"]))? {
            match field {
                Some(_) => {
                    name = text(map.next_value()?).map(|n| truncated(n, MAX_HAR_CREATOR_NAME_LEN));
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(name)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(seq)?;
        Ok(None)
    }

    scalars_as!(None);
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn truncated(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end = end.saturating_sub(1);
        }
        s.truncate(end);
        s.shrink_to_fit();
    }
    s
}

/// A JSON value read where a scalar is expected: the scalar, or the kind of compound value that
/// was there instead (its content is skipped, not stored).
#[derive(Clone, Debug, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Array,
    Object,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::UInt(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
        skip_seq(seq)?;
        Ok(Scalar::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
        skip_map(map)?;
        Ok(Scalar::Object)
    }
}

/// A string, or a number or boolean written as text (numbers as serde_json writes them); `None`
/// for null, arrays and objects.
fn text(v: Scalar) -> Option<String> {
    match v {
        Scalar::Str(s) => Some(s),
        Scalar::Int(n) => Some(n.to_string()),
        Scalar::UInt(n) => Some(n.to_string()),
        Scalar::Float(f) => serde_json::Number::from_f64(f).map(|n| n.to_string()),
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::Null | Scalar::Array | Scalar::Object => None,
    }
}

/// Like [`text`], but `None` for an empty or blank string.
fn non_empty(v: Scalar) -> Option<String> {
    text(v).filter(|s| !s.trim().is_empty())
}

/// An integer, or a string holding one (`"200"`); fractions are truncated, and values beyond
/// `i64` saturate.
fn int(v: &Scalar) -> Option<i64> {
    let float = |f: f64| f.is_finite().then_some(f as i64);
    match v {
        Scalar::Int(n) => Some(*n),
        Scalar::UInt(n) => Some(i64::try_from(*n).unwrap_or(i64::MAX)),
        Scalar::Float(f) => float(*f),
        Scalar::Str(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(float))
        }
        _ => None,
    }
}

/// What the entry being read keeps in memory, measured against the JSON read for it so far.
struct Kept<'p> {
    progress: &'p Progress,
    /// Offset where the entry's JSON began.
    start: u64,
    allowance: u64,
    /// Bytes kept so far.
    bytes: Cell<u64>,
    /// Set once keeping one more thing would pass the bound: nothing more is kept, and the entry
    /// is skipped.
    over: Cell<bool>,
}

impl<'p> Kept<'p> {
    fn new(progress: &'p Progress, allowance: u64) -> Self {
        Self {
            progress,
            start: progress.consumed.get(),
            allowance,
            bytes: Cell::new(0),
            over: Cell::new(false),
        }
    }

    /// Whether `bytes` more may be kept, counting them if so.
    fn charge(&self, bytes: usize) -> bool {
        if self.over.get() {
            return false;
        }
        let kept = self.bytes.get().saturating_add(bytes as u64);
        let read = self.progress.consumed.get().saturating_sub(self.start);
        let allowed = read
            .saturating_mul(MAX_HAR_ENTRY_MEMORY_RATIO)
            .saturating_add(self.allowance);
        if kept > allowed {
            self.over.set(true);
            return false;
        }
        self.bytes.set(kept);
        true
    }

    /// `s`, if it may be kept.
    fn keep(&self, s: Option<String>) -> Option<String> {
        s.filter(|s| self.charge(s.capacity()))
    }

    /// [`text`] of `v`, if it may be kept.
    fn text(&self, v: Scalar) -> Option<String> {
        self.keep(text(v))
    }

    /// [`non_empty`] of `v`, if it may be kept.
    fn non_empty(&self, v: Scalar) -> Option<String> {
        self.keep(non_empty(v))
    }

    /// Appends `item` to `list` if the room it needs may be kept (a full list doubles).
    fn push<T>(&self, list: &mut Vec<T>, item: T) {
        if list.len() == list.capacity() {
            let grown = list.capacity().saturating_mul(2).max(4);
            let extra = grown.saturating_sub(list.len());
            if !self.charge(extra.saturating_mul(std::mem::size_of::<T>())) {
                return;
            }
            list.reserve_exact(extra);
        }
        if !self.over.get() {
            list.push(item);
        }
    }
}

/// A value read where an object is expected: what was read from its members, or the kind of
/// value that was there instead (skipped).
enum Shaped<T> {
    Object(T),
    Other(&'static str),
}

/// Something read from the members of a JSON object, keeping what `kept` allows.
trait FromObject: Sized {
    fn from_map<'de, A: MapAccess<'de>>(kept: &Kept<'_>, map: A) -> Result<Self, A::Error>;
}

/// Reads a `T` where an object is expected, whatever JSON value is there.
struct ObjectSeed<'k, 'p, T> {
    kept: &'k Kept<'p>,
    shape: PhantomData<T>,
}

fn object<'k, 'p, T: FromObject>(kept: &'k Kept<'p>) -> ObjectSeed<'k, 'p, T> {
    ObjectSeed {
        kept,
        shape: PhantomData,
    }
}

impl<'de, T: FromObject> DeserializeSeed<'de> for ObjectSeed<'_, '_, T> {
    type Value = Shaped<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: FromObject> Visitor<'de> for ObjectSeed<'_, '_, T> {
    type Value = Shaped<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::from_map(self.kept, map).map(Shaped::Object)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(seq)?;
        Ok(Shaped::Other("an array"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Shaped::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Shaped::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Shaped::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Shaped::Other("a number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Shaped::Other("a string"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Shaped::Other("null"))
    }
}

/// A list of `{name, value}` objects (headers, cookies, query) as pairs; a plain `{name: value}`
/// object is accepted too. Elements without a name are dropped; a missing or `null` value is
/// empty. Anything else is an empty list.
struct Pairs<'k, 'p>(&'k Kept<'p>);

/// One element of a [`Pairs`] array.
struct PairFields {
    name: Option<String>,
    value: Option<String>,
}

impl FromObject for PairFields {
    fn from_map<'de, A: MapAccess<'de>>(kept: &Kept<'_>, mut map: A) -> Result<Self, A::Error> {
        let mut pair = Self {
            name: None,
            value: None,
        };
        while let Some(field) = map.next_key_seed(Field(&["name", "value"]))? {
            match field {
                Some("name") => pair.name = kept.text(map.next_value()?),
                Some(_) => pair.value = kept.text(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(pair)
    }
}

impl<'de> DeserializeSeed<'de> for Pairs<'_, '_> {
    type Value = Vec<(String, String)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pairs<'_, '_> {
    type Value = Vec<(String, String)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of name/value pairs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let kept = self.0;
        let mut pairs = Vec::new();
        while let Some(item) = seq.next_element_seed(object::<PairFields>(kept))? {
            if let Shaped::Object(PairFields {
                name: Some(name),
                value,
            }) = item
            {
                kept.push(&mut pairs, (name, value.unwrap_or_default()));
            }
        }
        Ok(pairs)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let kept = self.0;
        let mut pairs = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value()?;
            if let Some(name) = kept.keep(Some(name)) {
                let value = kept.text(value).unwrap_or_default();
                kept.push(&mut pairs, (name, value));
            }
        }
        Ok(pairs)
    }

    scalars_as!(Vec::new());
}

/// `postData.params`: an array of objects; anything else is an empty list.
struct Params<'k, 'p>(&'k Kept<'p>);

impl<'de> DeserializeSeed<'de> for Params<'_, '_> {
    type Value = Vec<HarParam>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Params<'_, '_> {
    type Value = Vec<HarParam>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of parameters")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let kept = self.0;
        let mut params = Vec::new();
        while let Some(item) = seq.next_element_seed(object::<HarParam>(kept))? {
            if let Shaped::Object(param) = item {
                kept.push(&mut params, param);
            }
        }
        Ok(params)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        skip_map(map)?;
        Ok(Vec::new())
    }

    scalars_as!(Vec::new());
}

impl FromObject for HarParam {
    fn from_map<'de, A: MapAccess<'de>>(kept: &Kept<'_>, mut map: A) -> Result<Self, A::Error> {
        let mut param = Self::default();
        let fields = Field(&["name", "value", "fileName", "contentType"]);
        while let Some(field) = map.next_key_seed(fields)? {
            match field {
                Some("name") => param.name = kept.text(map.next_value()?).unwrap_or_default(),
                Some("value") => param.value = kept.text(map.next_value()?),
                Some("fileName") => param.file_name = kept.text(map.next_value()?),
                Some(_) => param.content_type = kept.text(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(param)
    }
}

impl FromObject for HarPostData {
    fn from_map<'de, A: MapAccess<'de>>(kept: &Kept<'_>, mut map: A) -> Result<Self, A::Error> {
        let mut post = Self::default();
        let fields = Field(&["mimeType", "text", "encoding", "params"]);
        while let Some(field) = map.next_key_seed(fields)? {
            match field {
                Some("mimeType") => {
                    post.mime_type = kept.text(map.next_value()?).unwrap_or_default();
                }
                Some("text") => post.text = kept.text(map.next_value()?),
                Some("encoding") => post.encoding = kept.non_empty(map.next_value()?),
                Some(_) => post.params = map.next_value_seed(Params(kept))?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(post)
    }
}

/// The content of a response without a usable `content` object: size unknown (-1).
fn no_content() -> HarContent {
    HarContent {
        size: -1,
        ..HarContent::default()
    }
}

impl FromObject for HarContent {
    fn from_map<'de, A: MapAccess<'de>>(kept: &Kept<'_>, mut map: A) -> Result<Self, A::Error> {
        let mut content = no_content();
        let fields = Field(&["size", "mimeType", "text", "encoding"]);
        while let Some(field) = map.next_key_seed(fields)? {
            match field {
                Some("size") => content.size = int(&map.next_value()?).unwrap_or(-1),
                Some("mimeType") => {
                    content.mime_type = kept.text(map.next_value()?).unwrap_or_default();
                }
                Some("text") => content.text = kept.text(map.next_value()?),
                Some(_) => content.encoding = kept.non_empty(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(content)
    }
}

impl FromObject for HarResponse {
    fn from_map<'de, A: MapAccess<'de>>(kept: &Kept<'_>, mut map: A) -> Result<Self, A::Error> {
        let mut response = Self {
            content: no_content(),
            ..Self::default()
        };
        let fields = Field(&[
            "status",
            "statusText",
            "httpVersion",
            "headers",
            "cookies",
            "content",
        ]);
        while let Some(field) = map.next_key_seed(fields)? {
            match field {
                Some("status") => response.status = int(&map.next_value()?).unwrap_or(0),
                Some("statusText") => {
                    response.status_text = kept.text(map.next_value()?).unwrap_or_default();
                }
                Some("httpVersion") => {
                    response.http_version = kept.text(map.next_value()?).unwrap_or_default();
                }
                Some("headers") => response.headers = map.next_value_seed(Pairs(kept))?,
                Some("cookies") => response.cookies = map.next_value_seed(Pairs(kept))?,
                Some(_) => {
                    response.content = match map.next_value_seed(object(kept))? {
                        Shaped::Object(content) => content,
                        Shaped::Other(_) => no_content(),
                    };
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(response)
    }
}

/// `entry.request` as read; [`entry_from`] checks it has a method and a URL.
#[derive(Default)]
struct RequestFields {
    method: Option<String>,
    url: Option<String>,
    http_version: Option<String>,
    headers: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
    query: Vec<(String, String)>,
    post_data: Option<HarPostData>,
}

impl FromObject for RequestFields {
    fn from_map<'de, A: MapAccess<'de>>(kept: &Kept<'_>, mut map: A) -> Result<Self, A::Error> {
        let mut request = Self::default();
        let fields = Field(&[
            "method",
            "url",
            "httpVersion",
            "headers",
            "cookies",
            "queryString",
            "postData",
        ]);
        while let Some(field) = map.next_key_seed(fields)? {
            match field {
                Some("method") => request.method = kept.non_empty(map.next_value()?),
                Some("url") => request.url = kept.non_empty(map.next_value()?),
                Some("httpVersion") => request.http_version = kept.text(map.next_value()?),
                Some("headers") => request.headers = map.next_value_seed(Pairs(kept))?,
                Some("cookies") => request.cookies = map.next_value_seed(Pairs(kept))?,
                Some("queryString") => request.query = map.next_value_seed(Pairs(kept))?,
                Some(_) => {
                    request.post_data = match map.next_value_seed(object(kept))? {
                        Shaped::Object(post) => Some(post),
                        Shaped::Other(_) => None,
                    };
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(request)
    }
}

/// An entry as read; [`entry_from`] turns it into a [`HarEntry`] or a reason to skip it.
#[derive(Default)]
struct EntryFields {
    started: Option<String>,
    server_ip: Option<String>,
    connection: Option<String>,
    /// `None` when there is no `request` member.
    request: Option<Shaped<RequestFields>>,
    response: Option<HarResponse>,
}

impl FromObject for EntryFields {
    fn from_map<'de, A: MapAccess<'de>>(kept: &Kept<'_>, mut map: A) -> Result<Self, A::Error> {
        let mut entry = Self::default();
        let fields = Field(&[
            "startedDateTime",
            "serverIPAddress",
            "connection",
            "request",
            "response",
        ]);
        while let Some(field) = map.next_key_seed(fields)? {
            match field {
                Some("startedDateTime") => entry.started = kept.non_empty(map.next_value()?),
                Some("serverIPAddress") => entry.server_ip = kept.non_empty(map.next_value()?),
                Some("connection") => entry.connection = kept.non_empty(map.next_value()?),
                Some("request") => entry.request = Some(map.next_value_seed(object(kept))?),
                Some(_) => {
                    entry.response = match map.next_value_seed(object(kept))? {
                        Shaped::Object(response) => Some(response),
                        Shaped::Other(_) => None,
                    };
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(entry)
    }
}

/// Checks one entry as read; `Err` gives the warning code and what makes it unusable.
fn entry_from(
    index: u64,
    shaped: Shaped<EntryFields>,
    kept: &Kept<'_>,
) -> Result<HarEntry, (WarningCode, String)> {
    if kept.over.get() {
        return Err((
            WarningCode::Limit,
            format!(
                "entry would keep more than {MAX_HAR_ENTRY_MEMORY_RATIO} bytes in memory per byte \
                 of JSON"
            ),
        ));
    }
    let malformed = |reason: String| (WarningCode::Malformed, reason);
    let entry = match shaped {
        Shaped::Object(entry) => entry,
        Shaped::Other(kind) => return Err(malformed(format!("entry is {kind}, not an object"))),
    };
    let request = match entry.request {
        Some(Shaped::Object(request)) => request,
        None | Some(Shaped::Other("null")) => return Err(malformed("no request".to_owned())),
        Some(Shaped::Other(kind)) => {
            return Err(malformed(format!("request is {kind}, not an object")));
        }
    };
    let url = request
        .url
        .ok_or_else(|| malformed("request.url is missing or empty".to_owned()))?;
    let method = request
        .method
        .ok_or_else(|| malformed("request.method is missing or empty".to_owned()))?;
    Ok(HarEntry {
        index,
        started: entry.started,
        server_ip: entry.server_ip,
        connection: entry.connection,
        request: HarRequest {
            method,
            url,
            http_version: request.http_version.unwrap_or_default(),
            headers: request.headers,
            cookies: request.cookies,
            query: request.query,
            post_data: request.post_data,
        },
        response: entry.response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_with(json: &str, limits: HarLimits) -> (Vec<HarEntry>, Vec<Warning>, HarStats) {
        let (mut entries, mut warnings) = (Vec::new(), Vec::new());
        let stats = read_har_limited(
            json.as_bytes(),
            Arc::from("t.har"),
            &mut |event| match event {
                HarEvent::Entry(e) => entries.push(e),
                HarEvent::Warning(w) => warnings.push(w),
            },
            limits,
        )
        .unwrap();
        assert_eq!(stats.entries, entries.len() as u64);
        (entries, warnings, stats)
    }

    fn read(json: &str, limit: u64) -> (Vec<HarEntry>, Vec<Warning>) {
        let limits = HarLimits {
            entry_bytes: limit,
            ..HarLimits::default()
        };
        let (entries, warnings, _) = read_with(json, limits);
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
    fn other_members_above_the_size_limit_stop_reading() {
        let entry = r#"{"request": {"method": "GET", "url": "http://a/"}}"#;
        let creator = format!(r#"{{"name": "big", "comment": "{}"}}"#, "x".repeat(500));
        let json = format!(r#"{{"log": {{"entries": [{entry}], "creator": {creator}}}}}"#);
        let (entries, warnings) = read(&json, 200);
        assert_eq!((entries.len(), warnings.len()), (1, 1));
        let w = &warnings[0];
        assert_eq!((w.code, w.entry), (WarningCode::Limit, None));
        assert_eq!(
            w.reason,
            "har: a member of `log` is larger than 200 bytes; reading stopped"
        );
        assert_eq!(
            w.offset,
            Some(json.find("\"creator\"").unwrap() as u64),
            "where the member starts"
        );
        // Before `log`: reading stops before any entry, with the same warning.
        let json = format!(
            r#"{{"x": "{}", "log": {{"entries": [{entry}]}}}}"#,
            "y".repeat(300)
        );
        let (entries, warnings) = read(&json, 200);
        assert_eq!(entries.len(), 0);
        assert!(
            warnings[0]
                .reason
                .contains("member of the top-level object"),
            "{}",
            warnings[0]
        );
        let (entries, warnings) = read(&json, 1000);
        assert_eq!((entries.len(), warnings.len()), (1, 0));
    }

    #[test]
    fn creator_keeps_only_a_bounded_name() {
        let long = "é".repeat(MAX_HAR_CREATOR_NAME_LEN);
        let cases = [
            (
                format!(r#"{{"name": "{long}", "version": [1, {{}}]}}"#),
                Some(long.as_str()),
            ),
            (r#"{"version": "1", "name": 7}"#.to_owned(), Some("7")),
            (r#"[[], [[]], {"name": "in an array"}]"#.to_owned(), None),
            (r#""a string""#.to_owned(), None),
        ];
        for (creator, want) in cases {
            let json = format!(r#"{{"log": {{"creator": {creator}, "entries": []}}}}"#);
            let (_, warnings, stats) = read_with(&json, HarLimits::default());
            assert!(warnings.is_empty());
            let want = want.map(|w| {
                // Cut at a character boundary: `é` is 2 bytes.
                w.get(..MAX_HAR_CREATOR_NAME_LEN).unwrap_or(w).to_owned()
            });
            assert_eq!(stats.creator, want, "{creator}");
        }
    }

    #[test]
    fn an_entry_keeping_too_much_is_skipped() {
        // Headers written as an object of empty names and values: 6 bytes of JSON each, 48
        // bytes of list slot each once kept.
        let tiny = format!(
            r#"{{"request": {{"method": "GET", "url": "http://a/", "headers": {{{}"": ""}}}}}}"#,
            r#""": "", "#.repeat(5000)
        );
        let normal = r#"{"request": {"method": "GET", "url": "http://b/", "headers": [{"name": "a", "value": "b"}]}}"#;
        let json = format!(r#"{{"log": {{"entries": [{tiny}, {normal}]}}}}"#);
        let limits = HarLimits {
            memory_allowance: 1000,
            ..HarLimits::default()
        };
        let (entries, warnings, _) = read_with(&json, limits);
        assert_eq!(entries.len(), 1, "the entry after is read");
        assert_eq!(entries[0].request.url, "http://b/");
        assert_eq!(warnings.len(), 1);
        let w = &warnings[0];
        assert_eq!((w.code, w.entry), (WarningCode::Limit, Some(1)));
        assert_eq!(
            w.reason,
            "har: entry 1: entry would keep more than 8 bytes in memory per byte of JSON; skipped"
        );
        // With the real allowance (1 MiB) such a small entry is kept.
        let (entries, warnings, _) = read_with(&json, HarLimits::default());
        assert_eq!((entries.len(), warnings.len()), (2, 0));
        assert_eq!(entries[0].request.headers.len(), 5001);
    }

    #[test]
    fn kept_memory_is_bounded_by_the_json_read() {
        let progress = Progress::new(0);
        let kept = Kept::new(&progress, 100);
        assert!(kept.charge(100), "the allowance");
        assert!(!kept.charge(1));
        assert!(kept.over.get());
        let progress = Progress::new(0);
        let kept = Kept::new(&progress, 0);
        progress.advance(&[b' '; 10]);
        let mut list = Vec::new();
        kept.push(&mut list, 1u64); // 4 slots of 8 bytes: 32 of the 80 allowed
        kept.push(&mut list, 2);
        assert_eq!(kept.bytes.get(), 32);
        assert_eq!(kept.keep(Some("x".repeat(48))).map(|s| s.len()), Some(48));
        assert_eq!(kept.keep(Some("y".to_owned())), None, "81 > 80");
        kept.push(&mut list, 3);
        assert_eq!(list, [1, 2], "nothing more is kept");
    }

    #[test]
    fn lenient_scalars() {
        let s = |v: &str| Scalar::Str(v.to_owned());
        assert_eq!(int(&s(" 404 ")), Some(404));
        assert_eq!(int(&s("2.9")), Some(2));
        assert_eq!(int(&Scalar::Float(1e300)), Some(i64::MAX), "saturates");
        assert_eq!(int(&Scalar::UInt(u64::MAX)), Some(i64::MAX), "saturates");
        assert_eq!(int(&s("two")), None);
        assert_eq!(text(Scalar::Float(1.5)), Some("1.5".to_owned()));
        assert_eq!(text(Scalar::Float(201.0)), Some("201.0".to_owned()));
        assert_eq!(text(Scalar::Int(-3)), Some("-3".to_owned()));
        assert_eq!(text(Scalar::Null), None);
        assert_eq!(text(Scalar::Array), None);
        assert_eq!(non_empty(s("  ")), None);
        assert_eq!(truncated("aé".to_owned(), 2), "a");
    }
}
