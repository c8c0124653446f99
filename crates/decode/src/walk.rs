//! The recursive walk over a message's decoding tree, with its budgets.

use crate::binary_text::{self, base64_candidate, hex_candidate};
use crate::form::{self, Strictness};
use crate::request_parts::{self, BodyFormat};
use crate::{compression, json, percent, DecodeLimits, DecodeReport, Part, MAX_DEPTH};
use phonehome_model::Message;

/// Most distinct lines kept in [`DecodeReport::limits_hit`] for one message.
pub(crate) const MAX_LIMIT_NOTES: usize = 16;

/// The prefix of a JSON leaf's chain element.
const JSON_STEP: &str = "json:";

/// How a node is to be read before the generic trial decoders run.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Hint {
    /// The URL root: split into path segments and query values, nothing else.
    Url,
    /// A body with this Content-Type format.
    Body(BodyFormat),
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
        if hint == Hint::Url {
            self.url(location, data);
            return;
        }
        // JSON first, whatever the Content-Type says: a JSON body sent as a form is common.
        let mut structured = (hint == Hint::Body(BodyFormat::Json) || json::looks_like_json(data))
            && self.json(location, data);
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
        if !structured && percent::has_escape(data) && self.trial() {
            let decoded = percent::decode(data, false);
            if decoded.len() != data.len() {
                self.child(location, "percent".into(), &decoded, Hint::None);
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
                    || compression::codec_of(&decoded).is_some()
                {
                    self.child(location, "hex".into(), &decoded, Hint::None);
                }
            }
        }
        if let Some(codec) = compression::codec_of(data) {
            if self.trial() {
                self.decompress(location, codec, data);
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

    /// JSON leaves, when `data` is one JSON document; true if it was.
    fn json(&mut self, location: &str, data: &[u8]) -> bool {
        if !self.trial() {
            return false;
        }
        let Some(value) = json::parse(data) else {
            return false;
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
    fn decompress(&mut self, location: &str, codec: phonehome_compress::Codec, data: &[u8]) {
        let left = self.bytes_left();
        let inflated = compression::inflate(codec, data, left, self.limits.max_expansion_ratio);
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
        if let Some(out) = inflated.data {
            self.child(location, inflated.step.into(), &out, Hint::None);
        }
    }
}

/// Base64 output worth keeping: text, compressed data, or binary with readable strings in it.
fn is_plausible_base64_output(decoded: &[u8]) -> bool {
    binary_text::is_plausible_text(decoded)
        || compression::codec_of(decoded).is_some()
        || binary_text::has_text_run(decoded)
}

/// Whether any decoder would look at `data` (its cheap syntax checks pass): used to tell if the
/// depth cap hid something.
fn could_decode(data: &[u8], hint: &Hint) -> bool {
    matches!(
        hint,
        Hint::Url | Hint::Body(BodyFormat::Form | BodyFormat::Json | BodyFormat::Multipart(_))
    ) || json::looks_like_json(data)
        || form::parse_form(data, Strictness::Guess).is_some()
        || percent::has_escape(data)
        || base64_candidate(data).is_some()
        || hex_candidate(data)
        || compression::codec_of(data).is_some()
}
