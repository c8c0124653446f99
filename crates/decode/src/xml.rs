//! XML documents read by a small, bounded, non-validating tokenizer: elements, attributes, text,
//! CDATA sections and the predefined and numeric character references. Comments and processing
//! instructions are skipped; a document type declaration is skipped whole, so entities it declares
//! are never expanded (an entity bomb stays a few literal `&name;` references) and nothing external
//! is ever loaded.
//!
//! The leaves are each element's text (its text and CDATA children joined, surrounding whitespace
//! trimmed; children's own text is theirs) and each attribute, named by a path of element names:
//! `/root/device/imei`, `/root/device/@id`.

use crate::json::key_digest;
use crate::MAX_PATH_KEY_CHARS;
use memchr::{memchr, memchr2, memmem};

/// Deepest element nesting read; a deeper document is not read as XML.
pub const MAX_XML_DEPTH: usize = 128;

/// Most elements read from one document; a larger document is not read as XML.
pub const MAX_XML_ELEMENTS: usize = 65_536;

/// Longest character reference looked at (`&#x10FFFF;` has 10 bytes); a longer `&…;` is kept as
/// it is.
const MAX_REFERENCE_LEN: usize = 12;

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// The input is not a well-formed document (within the caps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NotXml;

/// True when `data` starts, after a byte order mark and whitespace, with `<` followed by a name
/// start, `?` or `!`.
pub(crate) fn looks_like_xml(data: &[u8]) -> bool {
    let data = data.strip_prefix(BOM).unwrap_or(data);
    let start = data.iter().position(|b| !b.is_ascii_whitespace());
    match start.and_then(|s| data.get(s..)) {
        Some([b'<', next, ..]) => *next == b'?' || *next == b'!' || is_name_start(*next),
        _ => false,
    }
}

/// True when the whole of `data` is one well-formed document within [`MAX_XML_DEPTH`] and
/// [`MAX_XML_ELEMENTS`].
pub(crate) fn is_well_formed(data: &[u8]) -> bool {
    let mut leaves = XmlLeaves::new(data);
    loop {
        match leaves.next_leaf() {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(NotXml) => return false,
        }
    }
}

/// Bytes that may start a name (ASCII letters, `_`, `:` and any non-ASCII byte).
fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

/// Bytes that end a name.
fn ends_name(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'/' | b'>' | b'=' | b'<' | b'"' | b'\'' | b'&')
}

/// Appends `/` (or `/@` for an attribute) and `name` to `path`, shortening names longer than
/// [`MAX_PATH_KEY_CHARS`] characters like JSON keys: first characters, `…`, FNV-1a hash.
fn push_name(path: &mut String, prefix: &str, name: &[u8]) {
    let name = String::from_utf8_lossy(name);
    path.push_str(prefix);
    match name.char_indices().nth(MAX_PATH_KEY_CHARS) {
        Some((cut, _)) => {
            path.push_str(name.get(..cut).unwrap_or_default());
            path.push('…');
            path.push_str(&key_digest(&name));
        }
        None => path.push_str(&name),
    }
}

/// Appends `raw` to `out` with character references replaced: `&amp;`, `&lt;`, `&gt;`, `&quot;`,
/// `&apos;`, `&#N;` and `&#xN;` (a Unicode scalar value other than 0). Anything else after `&`
/// (an entity declared in a DTD, a bad reference) is kept as it is. Linear in `raw`.
pub(crate) fn push_unescaped(raw: &[u8], out: &mut Vec<u8>) {
    let mut rest = raw;
    while let Some(amp) = memchr(b'&', rest) {
        let (before, from_amp) = rest.split_at(amp);
        out.extend_from_slice(before);
        let window = from_amp.get(..MAX_REFERENCE_LEN).unwrap_or(from_amp);
        let decoded = memchr(b';', window).and_then(|semi| {
            let name = window.get(1..semi)?;
            Some((reference(name)?, semi + 1))
        });
        match decoded {
            Some((c, len)) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                rest = from_amp.get(len..).unwrap_or_default();
            }
            None => {
                out.push(b'&');
                rest = from_amp.get(1..).unwrap_or_default();
            }
        }
    }
    out.extend_from_slice(rest);
}

/// The character a reference name (between `&` and `;`) stands for.
fn reference(name: &[u8]) -> Option<char> {
    let code = match name {
        b"amp" => return Some('&'),
        b"lt" => return Some('<'),
        b"gt" => return Some('>'),
        b"quot" => return Some('"'),
        b"apos" => return Some('\''),
        [b'#', b'x' | b'X', hex @ ..] => u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16),
        [b'#', dec @ ..] => std::str::from_utf8(dec).ok()?.parse::<u32>(),
        _ => return None,
    }
    .ok()?;
    char::from_u32(code).filter(|&c| c != '\0')
}

/// An open element.
struct Open {
    /// Where its name is in the input (to match the end tag).
    name_start: usize,
    name_end: usize,
    /// Length of the path up to and including this element.
    path_len: usize,
    /// Where its text starts in the shared text buffer.
    text_start: usize,
}

/// An attribute of the last start tag, not yet returned.
struct PendingAttribute {
    name_start: usize,
    name_end: usize,
    value_start: usize,
    value_end: usize,
}

/// The leaves of an XML document in document order (an element's attributes when it starts, its
/// text when it ends), each with its path. Errors when the document is not well formed.
///
/// Holds one path buffer, one buffer with the text of the open elements and one value buffer, so
/// the walk costs memory in the input's size and the nesting depth, never more.
pub(crate) struct XmlLeaves<'a> {
    input: &'a [u8],
    pos: usize,
    path: String,
    open: Vec<Open>,
    /// The text of the open elements, outermost first.
    text: Vec<u8>,
    /// The value of the attribute last returned.
    value: Vec<u8>,
    /// The attributes of the last start tag, last first, and the path length of their element.
    pending: Vec<PendingAttribute>,
    pending_path_len: usize,
    /// Text buffer length to cut back to once the text leaf last returned is done with.
    text_done: Option<usize>,
    elements: usize,
    root_seen: bool,
    root_closed: bool,
}

impl<'a> XmlLeaves<'a> {
    /// The leaves of `input` (byte order mark allowed).
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self {
            input: input.strip_prefix(BOM).unwrap_or(input),
            pos: 0,
            path: String::new(),
            open: Vec::new(),
            text: Vec::new(),
            value: Vec::new(),
            pending: Vec::new(),
            pending_path_len: 0,
            text_done: None,
            elements: 0,
            root_seen: false,
            root_closed: false,
        }
    }

    /// The next non-empty leaf (path and value, valid until the next call), `None` at the end of a
    /// well-formed document, or [`NotXml`].
    pub(crate) fn next_leaf(&mut self) -> Result<Option<(&str, &[u8])>, NotXml> {
        if let Some(len) = self.text_done.take() {
            self.text.truncate(len);
        }
        loop {
            if let Some(attribute) = self.pending.pop() {
                let input = self.input;
                let name = input
                    .get(attribute.name_start..attribute.name_end)
                    .ok_or(NotXml)?;
                let raw = input
                    .get(attribute.value_start..attribute.value_end)
                    .ok_or(NotXml)?;
                self.value.clear();
                push_unescaped(raw, &mut self.value);
                if self.value.is_empty() {
                    continue;
                }
                self.path.truncate(self.pending_path_len);
                push_name(&mut self.path, "/@", name);
                return Ok(Some((self.path.as_str(), self.value.as_slice())));
            }
            self.path
                .truncate(self.open.last().map_or(0, |open| open.path_len));
            let rest = self.input.get(self.pos..).unwrap_or_default();
            if rest.is_empty() {
                return if self.root_closed {
                    Ok(None)
                } else {
                    Err(NotXml)
                };
            }
            if rest.first() != Some(&b'<') {
                self.text_run(rest)?;
                continue;
            }
            if rest.starts_with(b"<!--") {
                self.skip_past(4, b"-->")?;
            } else if rest.starts_with(b"<![CDATA[") {
                if self.open.is_empty() {
                    return Err(NotXml);
                }
                let end = memmem::find(rest.get(9..).unwrap_or_default(), b"]]>").ok_or(NotXml)?;
                self.text
                    .extend_from_slice(rest.get(9..9 + end).unwrap_or_default());
                self.pos = self.pos.saturating_add(9 + end + 3);
            } else if rest.starts_with(b"<!") {
                if self.root_seen {
                    return Err(NotXml);
                }
                self.skip_declaration(rest)?;
            } else if rest.starts_with(b"<?") {
                self.skip_past(2, b"?>")?;
            } else if rest.starts_with(b"</") {
                if let Some(start) = self.end_tag(rest)? {
                    let text = self.text.get(start..).unwrap_or_default().trim_ascii();
                    return Ok(Some((self.path.as_str(), text)));
                }
            } else {
                self.start_tag(rest)?;
            }
        }
    }

    /// Moves past the first `end` found after `skip` bytes of the current token.
    fn skip_past(&mut self, skip: usize, end: &[u8]) -> Result<(), NotXml> {
        let from = self.pos.checked_add(skip).ok_or(NotXml)?;
        let rest = self.input.get(from..).ok_or(NotXml)?;
        let at = memmem::find(rest, end).ok_or(NotXml)?;
        self.pos = from + at + end.len();
        Ok(())
    }

    /// Skips `<!DOCTYPE …>` (or another `<!…>` declaration) before the root, internal subset
    /// (`[…]`) and quoted strings included. Nothing in it is read.
    fn skip_declaration(&mut self, rest: &[u8]) -> Result<(), NotXml> {
        let mut quote = None;
        let mut brackets = 0usize;
        for (i, &b) in rest.iter().enumerate().skip(2) {
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => match b {
                    b'"' | b'\'' => quote = Some(b),
                    b'[' => brackets = brackets.saturating_add(1),
                    b']' => brackets = brackets.saturating_sub(1),
                    b'>' if brackets == 0 => {
                        self.pos = self.pos.saturating_add(i + 1);
                        return Ok(());
                    }
                    _ => {}
                },
            }
        }
        Err(NotXml)
    }

    /// Character data up to the next `<`: appended (unescaped) to the open element's text; outside
    /// the root only whitespace is allowed.
    fn text_run(&mut self, rest: &[u8]) -> Result<(), NotXml> {
        let len = memchr(b'<', rest).unwrap_or(rest.len());
        let run = rest.get(..len).unwrap_or_default();
        if self.open.is_empty() {
            if !run.iter().all(u8::is_ascii_whitespace) {
                return Err(NotXml);
            }
        } else {
            push_unescaped(run, &mut self.text);
        }
        self.pos = self.pos.saturating_add(len);
        Ok(())
    }

    /// The name starting at `rest[at]`: its end offset in `rest`.
    fn name_end(rest: &[u8], at: usize) -> Result<usize, NotXml> {
        match rest.get(at) {
            Some(&b) if is_name_start(b) => {}
            _ => return Err(NotXml),
        }
        let tail = rest.get(at..).unwrap_or_default();
        Ok(at
            + tail
                .iter()
                .position(|&b| ends_name(b))
                .unwrap_or(tail.len()))
    }

    /// `</name>`: closes the open element of that name. Returns the text buffer offset of its text
    /// when that text is not blank (it is then the leaf; the element's path is in `self.path`).
    fn end_tag(&mut self, rest: &[u8]) -> Result<Option<usize>, NotXml> {
        let name_end = Self::name_end(rest, 2)?;
        let name = rest.get(2..name_end).ok_or(NotXml)?;
        let close = name_end
            + rest
                .get(name_end..)
                .unwrap_or_default()
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .ok_or(NotXml)?;
        if rest.get(close) != Some(&b'>') {
            return Err(NotXml);
        }
        let open = self.open.pop().ok_or(NotXml)?;
        if self.input.get(open.name_start..open.name_end) != Some(name) {
            return Err(NotXml);
        }
        self.pos = self.pos.saturating_add(close + 1);
        if self.open.is_empty() {
            self.root_closed = true;
        }
        let text = self.text.get(open.text_start..).unwrap_or_default();
        if text.trim_ascii().is_empty() {
            self.text.truncate(open.text_start);
            return Ok(None);
        }
        // The path still names the element; it is cut back on the next call.
        self.path.truncate(open.path_len);
        self.text_done = Some(open.text_start);
        Ok(Some(open.text_start))
    }

    /// `<name attr="v" …>` or `<name … />`: opens the element (unless empty-element) and queues its
    /// attributes.
    fn start_tag(&mut self, rest: &[u8]) -> Result<(), NotXml> {
        if self.root_closed {
            return Err(NotXml); // a second root
        }
        self.elements += 1;
        if self.elements > MAX_XML_ELEMENTS || self.open.len() >= MAX_XML_DEPTH {
            return Err(NotXml);
        }
        let name_end = Self::name_end(rest, 1)?;
        let mut attributes = Vec::new();
        let mut at = name_end;
        let self_closing = loop {
            let spaces = rest
                .get(at..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            at += spaces;
            match rest.get(at..).unwrap_or_default() {
                [b'>', ..] => break false,
                [b'/', b'>', ..] => {
                    at += 1;
                    break true;
                }
                _ if spaces == 0 => return Err(NotXml),
                _ => {}
            }
            let attr_end = Self::name_end(rest, at)?;
            let mut eq = attr_end;
            while rest.get(eq).is_some_and(u8::is_ascii_whitespace) {
                eq += 1;
            }
            if rest.get(eq) != Some(&b'=') {
                return Err(NotXml);
            }
            let mut quote_at = eq + 1;
            while rest.get(quote_at).is_some_and(u8::is_ascii_whitespace) {
                quote_at += 1;
            }
            let quote = *rest.get(quote_at).ok_or(NotXml)?;
            if quote != b'"' && quote != b'\'' {
                return Err(NotXml);
            }
            let value_start = quote_at + 1;
            let value_len =
                memchr(quote, rest.get(value_start..).unwrap_or_default()).ok_or(NotXml)?;
            let value = rest
                .get(value_start..value_start + value_len)
                .unwrap_or_default();
            if memchr2(b'<', b'\0', value).is_some() {
                return Err(NotXml);
            }
            attributes.push(PendingAttribute {
                name_start: self.pos + at,
                name_end: self.pos + attr_end,
                value_start: self.pos + value_start,
                value_end: self.pos + value_start + value_len,
            });
            at = value_start + value_len + 1;
        };
        let name_start = self.pos + 1;
        let name = rest.get(1..name_end).ok_or(NotXml)?;
        let name_end = name_start + name.len();
        push_name(&mut self.path, "/", name);
        self.root_seen = true;
        attributes.reverse();
        self.pending = attributes;
        self.pending_path_len = self.path.len();
        self.pos = self.pos.saturating_add(at + 1);
        if self_closing {
            if self.open.is_empty() {
                self.root_closed = true;
            }
        } else {
            self.open.push(Open {
                name_start,
                name_end,
                path_len: self.path.len(),
                text_start: self.text.len(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
