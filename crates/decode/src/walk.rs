//! The recursive walk over a message's decoding tree, with its budgets.

use crate::binary_text::{self, base64_candidate, hex_candidate};
use crate::compression::{self, Magic};
use crate::form::{self, Strictness};
use crate::protobuf::{self, Declared, Leaf, ProtobufLeaves};
use crate::request_parts::{self, BodyFormat};
use crate::xml::{self, XmlLeaves};
use crate::{json, jwt, percent, DecodeLimits, DecodeReport, Part, MAX_DEPTH};
use phonehome_model::Message;

/// Most distinct lines kept in [`DecodeReport::limits_hit`] for one message.
pub(crate) const MAX_LIMIT_NOTES: usize = 16;

/// The prefix of a JSON leaf's chain element.
const JSON_STEP: &str = "json:";

/// The prefix of a protobuf leaf's chain element.
const PROTOBUF_STEP: &str = "protobuf:";

/// The prefix of an XML leaf's chain element.
const XML_STEP: &str = "xml:";

/// How a node is to be read before the generic trial decoders run.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Hint {
    /// The URL root: split into path segments and query values, nothing else.
    Url,
    /// A body with this Content-Type format (also used for gRPC and length-prefixed frames, which
    /// are protobuf by declaration).
    Body(BodyFormat),
    /// A JSON document a framing decoder (JSON Lines, JSONP) already parsed in its trial.
    CheckedJson,
    /// The bytes of a protobuf field that were already tried as a nested message: every decoder
    /// but protobuf.
    NotProtobuf,
    /// A number read from a protobuf field: visited, never decoded.
    Leaf,
    /// Anything else.
    None,
}

/// The state of one walk: budgets spent, the current chain, the visitor.
pub(crate) struct Walker<'v> {
    limits: DecodeLimits,
    max_depth: usize,
    decoded_bytes: usize,
    trials: usize,
    chain: Vec<String>,
    report: DecodeReport,
    visit: &'v mut dyn FnMut(&Part<'_>),
}

impl<'v> Walker<'v> {
    /// A walker that reports nodes to `visit`.
    pub(crate) fn new(limits: &DecodeLimits, visit: &'v mut dyn FnMut(&Part<'_>)) -> Self {
        Self {
            limits: limits.clone(),
            max_depth: limits.max_depth.min(MAX_DEPTH),
            decoded_bytes: 0,
            trials: 0,
            chain: Vec::new(),
            report: DecodeReport::default(),
            visit,
        }
    }

    /// Walks every part of `msg`.
    pub(crate) fn walk(mut self, msg: &Message) -> DecodeReport {
        let url = if msg.url.is_empty() {
            &msg.target
        } else {
            &msg.url
        };
        if !url.is_empty() {
            self.node("url", url.as_bytes(), Hint::Url);
        }
        for header in &msg.headers {
            if header.name.starts_with(':') || header.value.is_empty() {
                continue;
            }
            if header.name.eq_ignore_ascii_case("cookie") {
                for (name, value) in request_parts::cookies(&header.value) {
                    if !value.is_empty() {
                        self.node(&format!("cookie:{name}"), value, Hint::None);
                    }
                }
            } else {
                self.node(
                    &format!("header:{}", header.name),
                    &header.value,
                    Hint::None,
                );
            }
        }
        let body = msg.body.content();
        if !body.is_empty() {
            if msg.body.decoded.is_some() {
                self.chain = msg
                    .body
                    .encodings
                    .iter()
                    .map(|c| format!("content-encoding:{c}"))
                    .collect();
            }
            let format = request_parts::body_format(msg.header("content-type").as_deref());
            self.node("body", body, Hint::Body(format));
            self.chain.clear();
        }
        self.report
    }

    /// Records that a cap was hit (once per distinct line).
    fn note(&mut self, line: String) {
        let notes = &mut self.report.limits_hit;
        if notes.len() < MAX_LIMIT_NOTES && !notes.contains(&line) {
            notes.push(line);
        }
    }

    /// Spends one trial decode; false (and a note) when none is left.
    fn trial(&mut self) -> bool {
        if self.trials >= self.limits.max_trials {
            let cap = self.limits.max_trials;
            self.note(format!(
                "trial-decode cap reached (max_trials = {cap}): further trial decodes were skipped"
            ));
            return false;
        }
        self.trials += 1;
        true
    }

    /// Bytes left in the message's decoding budget.
    fn bytes_left(&self) -> usize {
        self.limits
            .max_decoded_bytes
            .saturating_sub(self.decoded_bytes)
    }

    /// True when the node cap allows no further node.
    fn out_of_nodes(&self) -> bool {
        self.report.nodes >= self.limits.max_nodes
    }

    /// Records that the node cap stopped the walk.
    fn note_node_cap(&mut self) {
        let cap = self.limits.max_nodes;
        self.note(format!(
            "node cap reached (max_nodes = {cap}): further parts and decodings were not visited"
        ));
    }

    /// Spends `bytes` of the message's decoding budget; false (and a note) when they do not fit.
    fn spend(&mut self, bytes: usize) -> bool {
        match self.decoded_bytes.checked_add(bytes) {
            Some(total) if total <= self.limits.max_decoded_bytes => {
                self.decoded_bytes = total;
                true
            }
            _ => {
                let cap = self.limits.max_decoded_bytes;
                self.note(format!(
                    "decoded-bytes cap reached (max_decoded_bytes = {cap}): further decodings were dropped"
                ));
                false
            }
        }
    }

    /// Visits `data` and decodes it further, if the node cap allows.
    fn node(&mut self, location: &str, data: &[u8], hint: Hint) {
        if self.out_of_nodes() {
            self.note_node_cap();
            return;
        }
        self.report.nodes += 1;
        (self.visit)(&Part {
            location,
            chain: &self.chain,
            data,
        });
        if data.is_empty() {
            return;
        }
        if self.chain.len() >= self.max_depth {
            if could_decode(data, &hint) {
                let cap = self.limits.max_depth;
                self.note(format!(
                    "decode depth cap reached (max_decode_depth = {cap}): deeper encodings were not decoded"
                ));
            }
            return;
        }
        self.decode(location, data, hint);
    }

    /// Visits a decoding of the current node, if the node cap and the byte budget allow it. The
    /// chain element counts against the budget along with the data.
    fn child(&mut self, location: &str, step: String, data: &[u8], hint: Hint) {
        if self.out_of_nodes() {
            self.note_node_cap();
            return;
        }
        if self.spend(step.len().saturating_add(data.len())) {
            self.descend(location, step, data, hint);
        }
    }

    /// Visits a decoding of the current node whose bytes were already spent.
    fn descend(&mut self, location: &str, step: String, data: &[u8], hint: Hint) {
        self.chain.push(step);
        self.node(location, data, hint);
        self.chain.pop();
    }

    /// Tries every decoder on `data` and visits what they produce.
    fn decode(&mut self, location: &str, data: &[u8], hint: Hint) {
        if self.out_of_nodes() {
            if could_decode(data, &hint) {
                self.note_node_cap();
            }
            return;
        }
        match hint {
            Hint::Url => return self.url(location, data),
            Hint::Leaf => return,
            _ => {}
        }
        // JSON first, whatever the Content-Type says: a JSON body sent as a form is common.
        let looks_like_json = json::looks_like_json(data);
        let mut structured = if hint == Hint::CheckedJson {
            self.json(location, data, false)
        } else {
            (hint == Hint::Body(BodyFormat::Json) || looks_like_json)
                && self.json(location, data, true)
        };
        if !structured && looks_like_json {
            structured = self.json_lines(location, data);
        }
        if !structured {
            structured = self.jsonp(location, data);
        }
        if !structured && xml::looks_like_xml(data) {
            structured = self.xml(location, data);
        }
        if !structured {
            structured = match &hint {
                Hint::Body(BodyFormat::Form) => self.form(location, data, Strictness::Known),
                Hint::Body(BodyFormat::Multipart(boundary)) => {
                    self.multipart(location, data, boundary)
                }
                _ => false,
            };
        }
        if !structured {
            structured = self.form(location, data, Strictness::Guess);
        }
        if !structured {
            structured = self.binary_message(location, data, &hint);
        }
        // Compressed data is not text: a `%XX` inside it (percent-encoded text kept verbatim by
        // the compressor) is undone by decompressing, not by percent-decoding the binary.
        if !structured
            && percent::has_escape(data)
            && compression::magic_of(data).is_none()
            && self.trial()
        {
            let decoded = percent::decode(data, false);
            if decoded.len() != data.len() {
                self.child(location, "percent".into(), &decoded, Hint::None);
            }
        }
        if jwt::is_candidate(data) && self.trial() {
            if let Some(token) = jwt::decode(data) {
                self.child(location, "jwt:header".into(), &token.header, Hint::None);
                if !token.payload.is_empty() {
                    self.child(location, "jwt:payload".into(), &token.payload, Hint::None);
                }
            }
        }
        if let Some(alphabet) = base64_candidate(data) {
            if self.trial() {
                if let Some(decoded) = binary_text::decode_base64(data, alphabet) {
                    if is_plausible_base64_output(&decoded) {
                        self.child(location, alphabet.step().into(), &decoded, Hint::None);
                    }
                }
            }
        }
        if hex_candidate(data) && self.trial() {
            if let Some(decoded) = binary_text::decode_hex(data) {
                if binary_text::is_plausible_text(&decoded)
                    || compression::magic_of(&decoded).is_some()
                {
                    self.child(location, "hex".into(), &decoded, Hint::None);
                }
            }
        }
        if let Some(magic) = compression::magic_of(data) {
            if self.trial() {
                self.decompress(location, magic, data);
            }
        }
    }

    /// The URL root: path segments and query values.
    fn url(&mut self, location: &str, data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let parts = request_parts::split_url(&text);
        for (index, segment) in parts.segments {
            let decoded = percent::decode(segment.as_bytes(), false);
            self.child(location, format!("path:{index}"), &decoded, Hint::None);
        }
        for field in form::parse_form(parts.query.as_bytes(), Strictness::Known).unwrap_or_default()
        {
            if !field.value.is_empty() {
                self.child(
                    location,
                    format!("query:{}", field.name),
                    &field.value,
                    Hint::None,
                );
            }
        }
    }

    /// Form fields, when `data` is (or looks like, when guessing) a form; true if it was one.
    fn form(&mut self, location: &str, data: &[u8], strictness: Strictness) -> bool {
        if strictness == Strictness::Guess && memchr::memchr(b'=', data).is_none() {
            return false;
        }
        if !self.trial() {
            return false;
        }
        let Some(fields) = form::parse_form(data, strictness) else {
            return false;
        };
        for field in fields {
            if !field.value.is_empty() {
                self.child(
                    location,
                    format!("form:{}", field.name),
                    &field.value,
                    Hint::None,
                );
            }
        }
        true
    }

    /// JSON leaves, when `data` is one JSON document; true if it was. `spend_trial` is false when a
    /// framing decoder already spent the trial on this document.
    fn json(&mut self, location: &str, data: &[u8], spend_trial: bool) -> bool {
        if spend_trial && !self.trial() {
            return false;
        }
        let value = match json::parse_or_too_deep(data) {
            Ok(value) => value,
            Err(too_deep) => {
                if too_deep {
                    self.note(
                        "JSON nested deeper than 128 levels (serde_json's recursion limit) was not \
                         read as JSON; it is scanned as text"
                            .to_owned(),
                    );
                }
                return false;
            }
        };
        let mut leaves = json::JsonLeaves::new(&value);
        while let Some((path, leaf)) = leaves.next_leaf() {
            if leaf.is_empty() {
                continue;
            }
            if self.out_of_nodes() {
                self.note_node_cap();
                break;
            }
            // Spend before building the chain element, so a leaf that does not fit costs nothing
            // more than its path.
            let step_len = JSON_STEP.len().saturating_add(path.len());
            if !self.spend(step_len.saturating_add(leaf.len())) {
                continue;
            }
            let mut step = String::with_capacity(step_len);
            step.push_str(JSON_STEP);
            step.push_str(path);
            self.descend(location, step, leaf.as_bytes(), Hint::None);
        }
        true
    }

    /// The documents of a JSON Lines input (`jsonl:<line>`); true if it was one.
    fn json_lines(&mut self, location: &str, data: &[u8]) -> bool {
        if memchr::memchr(b'\n', data).is_none() || !self.trial() {
            return false;
        }
        let Some(documents) = json::json_lines(data) else {
            return false;
        };
        for (line, document) in documents {
            self.child(
                location,
                format!("jsonl:{line}"),
                document,
                Hint::CheckedJson,
            );
        }
        true
    }

    /// The JSON inside a JSONP call (`jsonp`); true if `data` was one.
    fn jsonp(&mut self, location: &str, data: &[u8]) -> bool {
        let Some(content) = json::jsonp_content(data) else {
            return false;
        };
        if !self.trial() || json::parse(content).is_none() {
            return false;
        }
        self.child(location, "jsonp".into(), content, Hint::CheckedJson);
        true
    }

    /// Text and attribute leaves of an XML document (`xml:<path>`); true if `data` was one.
    fn xml(&mut self, location: &str, data: &[u8]) -> bool {
        if !self.trial() || !xml::is_well_formed(data) {
            return false;
        }
        let mut leaves = XmlLeaves::new(data);
        while let Ok(Some((path, value))) = leaves.next_leaf() {
            if self.out_of_nodes() {
                self.note_node_cap();
                break;
            }
            let step_len = XML_STEP.len().saturating_add(path.len());
            if !self.spend(step_len.saturating_add(value.len())) {
                continue;
            }
            let mut step = String::with_capacity(step_len);
            step.push_str(XML_STEP);
            step.push_str(path);
            self.descend(location, step, value, Hint::None);
        }
        true
    }

    /// gRPC frames (`grpc:<n>`), a protobuf message (`protobuf:<path>` leaves) or varint-length
    /// prefixed messages (`length-prefixed:<n>`), tried in that order; true if one was accepted.
    fn binary_message(&mut self, location: &str, data: &[u8], hint: &Hint) -> bool {
        if protobuf::is_grpc_candidate(data) && self.trial() {
            let declared = if *hint == Hint::Body(BodyFormat::Grpc) {
                Declared::Yes
            } else {
                Declared::No
            };
            if let Some(frames) = protobuf::grpc_frames(data, declared) {
                for (index, frame) in frames.iter().enumerate() {
                    if frame.data.is_empty() {
                        continue;
                    }
                    let hint = if frame.compressed() || frame.trailers() {
                        Hint::None
                    } else {
                        Hint::Body(BodyFormat::Protobuf)
                    };
                    self.child(location, format!("grpc:{index}"), frame.data, hint);
                }
                return true;
            }
        }
        let declared = if *hint == Hint::Body(BodyFormat::Protobuf) {
            Declared::Yes
        } else {
            Declared::No
        };
        if *hint != Hint::NotProtobuf
            && protobuf::is_candidate(data, declared)
            && self.trial()
            && self.protobuf(location, data, declared)
        {
            return true;
        }
        if protobuf::is_length_prefixed_candidate(data) && self.trial() {
            if let Some(messages) = protobuf::length_prefixed_messages(data) {
                for (index, message) in messages.into_iter().enumerate() {
                    self.child(
                        location,
                        format!("length-prefixed:{index}"),
                        message,
                        Hint::Body(BodyFormat::Protobuf),
                    );
                }
                return true;
            }
        }
        false
    }

    /// The leaves of a protobuf message, when `data` is a plausible one; true if it was. Each trial
    /// parse of a length-delimited field as a nested message spends a trial.
    fn protobuf(&mut self, location: &str, data: &[u8], declared: Declared) -> bool {
        if !protobuf::is_plausible_message(data, declared) {
            return false;
        }
        let mut leaves = ProtobufLeaves::new(data);
        while let Some((path, leaf)) = leaves.next_leaf(&mut || self.trial()) {
            if self.out_of_nodes() {
                self.note_node_cap();
                break;
            }
            let (value, suffix, hint): (&[u8], &str, Hint) = match &leaf {
                Leaf::Number { text, suffix } => (text.as_bytes(), suffix, Hint::Leaf),
                Leaf::Data(bytes) => (bytes, "", Hint::NotProtobuf),
            };
            let step_len = PROTOBUF_STEP
                .len()
                .saturating_add(path.len())
                .saturating_add(suffix.len());
            if !self.spend(step_len.saturating_add(value.len())) {
                continue;
            }
            let mut step = String::with_capacity(step_len);
            step.push_str(PROTOBUF_STEP);
            step.push_str(path);
            step.push_str(suffix);
            self.descend(location, step, value, hint);
        }
        true
    }

    /// Multipart parts; true if there was at least one.
    fn multipart(&mut self, location: &str, data: &[u8], boundary: &str) -> bool {
        if !self.trial() {
            return false;
        }
        let parts = form::parse_multipart(data, boundary);
        for part in &parts {
            self.child(
                location,
                format!("multipart:{}", part.name),
                part.data,
                Hint::None,
            );
        }
        !parts.is_empty()
    }

    /// Compressed data, within what is left of the byte budget.
    fn decompress(&mut self, location: &str, magic: Magic, data: &[u8]) {
        let left = self.bytes_left();
        let inflated = compression::inflate(
            magic,
            data,
            left,
            self.limits.max_expansion_ratio,
            self.limits.zstd_max_window_log,
        );
        if let Some(reason) = inflated.limited {
            let (bytes, ratio) = (
                self.limits.max_decoded_bytes,
                self.limits.max_expansion_ratio,
            );
            self.note(format!(
                "{} data inside a value was cut short ({reason}; max_decoded_bytes = {bytes}, \
                 max_expansion_ratio = {ratio})",
                inflated.step
            ));
        }
        if let Some(reason) = inflated.refused {
            self.note(format!(
                "{} data inside a value was not decoded: {reason} (windows above 2^{} bytes are \
                 refused; --max-zstd-window)",
                inflated.step, self.limits.zstd_max_window_log
            ));
        }
        if let Some(out) = inflated.data {
            self.child(location, inflated.step.into(), &out, Hint::None);
        }
    }
}

/// Base64 output worth keeping: text, compressed data, binary with readable strings in it, a
/// plausible protobuf message with a text field (base64 protobuf is common in `-bin` headers and
/// cookies), or a gRPC stream (gRPC-Web text).
fn is_plausible_base64_output(decoded: &[u8]) -> bool {
    binary_text::is_plausible_text(decoded)
        || compression::magic_of(decoded).is_some()
        || binary_text::has_text_run(decoded)
        || (protobuf::is_plausible_message(decoded, Declared::No)
            && protobuf::has_text_field(decoded))
        || protobuf::grpc_frames(decoded, Declared::No).is_some()
}

/// Whether any decoder would look at `data` (its cheap syntax checks pass): used to tell if the
/// depth cap hid something.
fn could_decode(data: &[u8], hint: &Hint) -> bool {
    match hint {
        Hint::Leaf => return false,
        Hint::Url
        | Hint::CheckedJson
        | Hint::Body(
            BodyFormat::Form
            | BodyFormat::Json
            | BodyFormat::Multipart(_)
            | BodyFormat::Protobuf
            | BodyFormat::Grpc,
        ) => return true,
        Hint::Body(BodyFormat::Unknown) | Hint::NotProtobuf | Hint::None => {}
    }
    json::looks_like_json(data)
        || json::jsonp_content(data).is_some()
        || xml::looks_like_xml(data)
        || form::parse_form(data, Strictness::Guess).is_some()
        || protobuf::is_grpc_candidate(data)
        || (*hint != Hint::NotProtobuf && protobuf::is_candidate(data, Declared::No))
        || protobuf::is_length_prefixed_candidate(data)
        || percent::has_escape(data)
        || jwt::is_candidate(data)
        || base64_candidate(data).is_some()
        || hex_candidate(data)
        || compression::magic_of(data).is_some()
}
