//! Per endpoint and field statistics, gathered from the requests of every run as the pipeline
//! builds them. Messages are never kept: each request is walked once, its leaf fields are hashed,
//! and only counters, up to [`DiffCaps::max_distinct`] value hashes and one short sample per field
//! and run stay.

use crate::endpoint::{endpoint_of, is_path_step, segment_is_folded, Endpoint, FieldPath};
use crate::shape::{shape, Shape};
use crate::DiffCaps;
use phonehome_decode::{walk_message, DecodeLimits};
use phonehome_model::{
    Direction, Finding, FlowRecord, Message, SourceRef, Summary, Timestamp, Transport, Warning,
};
use phonehome_report::Report;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Longest sample value kept per field and run, in characters.
pub(crate) const SAMPLE_CHARS: usize = 64;
/// Longest URL kept for a sample message, in characters.
const SAMPLE_URL_CHARS: usize = 1024;
/// Most warnings of one run kept (the rest are counted).
pub(crate) const MAX_WARNINGS: usize = 1000;
/// Two equal values count as evidence of stability only when their messages are at least this far
/// apart (a clock in seconds reads the same twice within a second).
pub(crate) const STABLE_GAP_NANOS: i128 = 2_000_000_000;

/// Request headers that say how a message travels, not what it says: never fields.
const TRANSPORT_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "expect",
];

/// The message a field was first seen in, for the finding it may become.
#[derive(Debug)]
pub(crate) struct SampleMessage {
    pub source: SourceRef,
    pub transport: Transport,
    pub method: Option<String>,
    pub url: String,
    pub host: Option<String>,
}

/// What one run sent in one field.
#[derive(Debug, Default)]
pub(crate) struct RunStats {
    /// Messages of the endpoint in which the field had a non-empty value.
    pub present: u32,
    /// Hashes of distinct values, sorted, at most `max_distinct`.
    pub distinct: Vec<u64>,
    /// More distinct values were seen than kept.
    pub overflow: bool,
    /// Present messages whose value differs from the previous present message's.
    pub changes: u32,
    /// Present messages whose value equals the previous present message's.
    pub repeats: u32,
    /// Of those, repeats at least [`STABLE_GAP_NANOS`] after the previous (or without times).
    pub spaced_repeats: u32,
    /// Values that read as a clock near their message's time.
    pub clock: u32,
    /// Values that are integers.
    pub ints: u32,
    /// Integer values greater than the previous present message's integer value.
    pub increasing: u32,
    /// Values shaped like identifiers.
    pub id_like: u32,
    /// The first value, shortened.
    pub sample: Option<String>,
    /// Times of the first and last present messages.
    pub first_time: Option<Timestamp>,
    pub last_time: Option<Timestamp>,
    /// The first message the field was present in.
    pub first_msg: Option<Arc<SampleMessage>>,
    last_hash: Option<u64>,
    last_time_seen: Option<Timestamp>,
    last_int: Option<u64>,
}

impl RunStats {
    /// Records one present value.
    fn observe(&mut self, v: &Occurrence, time: Option<Timestamp>, cap: usize) {
        self.present += 1;
        match self.distinct.binary_search(&v.hash) {
            Ok(_) => {}
            Err(i) if self.distinct.len() < cap => self.distinct.insert(i, v.hash),
            Err(_) => self.overflow = true,
        }
        if let Some(last) = self.last_hash {
            if last == v.hash {
                self.repeats += 1;
                let spaced = match (self.last_time_seen, time) {
                    (Some(a), Some(b)) => {
                        (b.unix_nanos() - a.unix_nanos()).abs() >= STABLE_GAP_NANOS
                    }
                    _ => true,
                };
                if spaced {
                    self.spaced_repeats += 1;
                }
            } else {
                self.changes += 1;
            }
        }
        if v.shape.clock {
            self.clock += 1;
        }
        if v.shape.id_like {
            self.id_like += 1;
        }
        if let Some(n) = v.shape.int {
            self.ints += 1;
            if self.last_int.is_some_and(|last| n > last) {
                self.increasing += 1;
            }
        }
        self.last_int = v.shape.int;
        self.last_hash = Some(v.hash);
        self.last_time_seen = time;
        if self.sample.is_none() {
            self.sample = Some(v.sample.clone());
        }
        if self.first_time.is_none() {
            self.first_time = time;
        }
        if time.is_some() {
            self.last_time = time;
        }
    }

    /// Distinct values seen (at least this many when `overflow`).
    pub fn distinct_count(&self) -> usize {
        self.distinct.len()
    }
}

/// One field of one endpoint in one run.
#[derive(Debug)]
pub(crate) struct RunField {
    /// The chain of the first node seen (transforming steps included), for the findings.
    pub chain: Vec<String>,
    /// Order of first sight in the run, to list fields as the messages hold them.
    pub order: u64,
    /// What the run sent in it.
    pub stats: RunStats,
}

/// One endpoint in one run.
#[derive(Debug, Default)]
pub(crate) struct RunEndpoint {
    /// Requests.
    pub messages: u64,
    /// Its fields.
    pub fields: HashMap<FieldPath, RunField>,
    /// Distinct fields not tracked because a cap was reached.
    pub fields_dropped: u64,
}

/// Everything gathered from one run, within the caps.
#[derive(Debug)]
pub(crate) struct RunState {
    pub caps: DiffCaps,
    pub endpoints: HashMap<Endpoint, RunEndpoint>,
    /// Requests to endpoints not tracked because of `max_endpoints`.
    pub endpoint_messages_dropped: u64,
    /// Fields tracked over all endpoints.
    pub fields: usize,
    /// Fields not tracked because a cap was hit.
    pub fields_dropped: u64,
    next_order: u64,
}

impl RunState {
    pub(crate) fn new(caps: DiffCaps) -> Self {
        Self {
            caps,
            endpoints: HashMap::new(),
            endpoint_messages_dropped: 0,
            fields: 0,
            fields_dropped: 0,
            next_order: 0,
        }
    }
}

/// One field of one endpoint, over every run.
#[derive(Debug)]
pub(crate) struct FieldState {
    /// The chain of the first node seen (transforming steps included), for the findings.
    pub chain: Vec<String>,
    /// Per run, in run order.
    pub per_run: Vec<RunStats>,
    /// Order of first sight: the first run that sent it, then its order there.
    pub order: (usize, u64),
}

/// One endpoint over every run.
#[derive(Debug)]
pub(crate) struct EndpointState {
    /// Requests per run.
    pub messages: Vec<u64>,
    /// Its fields.
    pub fields: HashMap<FieldPath, FieldState>,
    /// Distinct fields not tracked because a cap was reached (summed over runs).
    pub fields_dropped: u64,
}

/// Every run's statistics side by side.
#[derive(Debug)]
pub(crate) struct Merged {
    pub endpoints: HashMap<Endpoint, EndpointState>,
    /// Requests to endpoints not tracked because of `max_endpoints` (summed over runs).
    pub endpoint_messages_dropped: u64,
    /// Fields not tracked because a cap was hit (summed over runs).
    pub fields_dropped: u64,
}

/// Puts the runs' statistics side by side, in run order, within the caps again (each run kept
/// within them on its own; together they may not exceed them either).
pub(crate) fn merge(runs: Vec<RunState>, caps: &DiffCaps) -> Merged {
    let n = runs.len();
    let mut merged = Merged {
        endpoints: HashMap::new(),
        endpoint_messages_dropped: 0,
        fields_dropped: 0,
    };
    let mut fields = 0usize;
    for (r, run) in runs.into_iter().enumerate() {
        merged.endpoint_messages_dropped += run.endpoint_messages_dropped;
        merged.fields_dropped += run.fields_dropped;
        // In first-seen order, so that the caps keep what came first.
        let mut endpoints: Vec<(Endpoint, RunEndpoint)> = run.endpoints.into_iter().collect();
        endpoints.sort_by_key(|(_, e)| e.fields.values().map(|f| f.order).min());
        for (endpoint, ep) in endpoints {
            if !merged.endpoints.contains_key(&endpoint)
                && merged.endpoints.len() >= caps.max_endpoints
            {
                merged.endpoint_messages_dropped += ep.messages;
                continue;
            }
            let target = merged
                .endpoints
                .entry(endpoint)
                .or_insert_with(|| EndpointState {
                    messages: vec![0; n],
                    fields: HashMap::new(),
                    fields_dropped: 0,
                });
            if let Some(m) = target.messages.get_mut(r) {
                *m = ep.messages;
            }
            target.fields_dropped += ep.fields_dropped;
            let mut run_fields: Vec<(FieldPath, RunField)> = ep.fields.into_iter().collect();
            run_fields.sort_by_key(|(_, f)| f.order);
            for (path, field) in run_fields {
                if !target.fields.contains_key(&path)
                    && (target.fields.len() >= caps.max_fields_per_endpoint
                        || fields >= caps.max_fields)
                {
                    target.fields_dropped += 1;
                    merged.fields_dropped += 1;
                    continue;
                }
                let state = target.fields.entry(path).or_insert_with(|| {
                    fields += 1;
                    FieldState {
                        chain: field.chain.clone(),
                        per_run: (0..n).map(|_| RunStats::default()).collect(),
                        order: (r, field.order),
                    }
                });
                if let Some(slot) = state.per_run.get_mut(r) {
                    *slot = field.stats;
                }
            }
        }
    }
    merged
}

/// One value of a field in one message (repeated nodes of one field combined).
#[derive(Clone, Debug)]
struct Occurrence {
    hash: u64,
    sample: String,
    shape: Shape,
}

/// One decode node, as much as the comparison needs. The walk is depth first with the chain as a
/// stack, so a node's chain is its ancestors' last elements and its own: only the last is kept.
struct Node {
    /// Index into the message's part names.
    location: usize,
    /// Chain length.
    depth: usize,
    /// The last chain element ("" for a part itself).
    last: String,
    empty: bool,
    hash: u64,
    sample: String,
    shape: Shape,
}

/// A 64-bit hash of a value (the same in every run of one comparison).
fn value_hash(data: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

/// At most `max` characters of `s`, with `…` when cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The sample text of a value: UTF-8 as is, else `0x` and hex, shortened.
fn sample_text(data: &[u8]) -> String {
    let head = &data[..data.len().min(SAMPLE_CHARS * 4)];
    match std::str::from_utf8(head) {
        Ok(s) => shorten(s, SAMPLE_CHARS),
        Err(e) if e.valid_up_to() > 0 && data.len() > head.len() => {
            // Cut inside a character: keep the valid part.
            shorten(
                std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
                SAMPLE_CHARS,
            )
        }
        Err(_) => {
            let hex: String = data
                .iter()
                .take(SAMPLE_CHARS / 2)
                .map(|b| format!("{b:02x}"))
                .collect();
            shorten(&format!("0x{hex}"), SAMPLE_CHARS)
        }
    }
}

/// The [`Report`] each run's analysis writes to: requests become field statistics in its
/// [`RunState`]; warnings, findings and the summary are kept for the outcome.
pub(crate) struct Collector {
    /// The run's statistics.
    pub state: RunState,
    limits: DecodeLimits,
    /// Warnings of this run (at most [`MAX_WARNINGS`]).
    pub warnings: Vec<Warning>,
    /// Warnings not kept.
    pub warnings_dropped: u64,
    /// The analysis' findings (known and pattern), set by `finish`.
    pub findings: Vec<Finding>,
    /// The analysis' summary, set by `finish`.
    pub summary: Option<Summary>,
}

impl Collector {
    pub(crate) fn new(caps: DiffCaps, limits: DecodeLimits) -> Self {
        Self {
            state: RunState::new(caps),
            limits,
            warnings: Vec::new(),
            warnings_dropped: 0,
            findings: Vec::new(),
            summary: None,
        }
    }

    /// Adds one request to the statistics.
    fn request(&mut self, msg: &Message) {
        let endpoint = endpoint_of(msg.host.as_deref(), msg.method.as_deref(), url_of(msg));
        let state = &mut self.state;
        let caps = &state.caps;
        if !state.endpoints.contains_key(&endpoint) && state.endpoints.len() >= caps.max_endpoints {
            state.endpoint_messages_dropped += 1;
            return;
        }
        let occurrences = fields_of(msg, &self.limits);
        let ep = state.endpoints.entry(endpoint).or_default();
        ep.messages += 1;
        let mut sample: Option<Arc<SampleMessage>> = None;
        for (field, chain, occ) in occurrences {
            let run_field = match ep.fields.get_mut(&field) {
                Some(f) => f,
                None => {
                    if ep.fields.len() >= caps.max_fields_per_endpoint
                        || state.fields >= caps.max_fields
                    {
                        ep.fields_dropped += 1;
                        state.fields_dropped += 1;
                        continue;
                    }
                    state.fields += 1;
                    state.next_order += 1;
                    ep.fields.entry(field).or_insert_with(|| RunField {
                        chain,
                        order: state.next_order,
                        stats: RunStats::default(),
                    })
                }
            };
            let stats = &mut run_field.stats;
            if stats.first_msg.is_none() {
                let s = sample.get_or_insert_with(|| {
                    Arc::new(SampleMessage {
                        source: msg.source.clone(),
                        transport: msg.transport.clone(),
                        method: msg.method.clone(),
                        url: shorten(&msg.url, SAMPLE_URL_CHARS),
                        host: msg.host.clone(),
                    })
                });
                stats.first_msg = Some(s.clone());
            }
            stats.observe(&occ, msg.time, caps.max_distinct);
        }
    }
}

/// The URL a message's endpoint is read from: the absolute URL, else the request target.
fn url_of(msg: &Message) -> &str {
    if msg.url.is_empty() {
        &msg.target
    } else {
        &msg.url
    }
}

/// The non-empty leaf fields of a request, in message order, each with the chain of its first
/// node and its value (repeated nodes of one field combined into one value).
fn fields_of(msg: &Message, limits: &DecodeLimits) -> Vec<(FieldPath, Vec<String>, Occurrence)> {
    let mut locations: Vec<String> = Vec::new();
    let mut nodes: Vec<Node> = Vec::new();
    walk_message(msg, limits, &mut |part| {
        if locations.last().map(String::as_str) != Some(part.location) {
            locations.push(part.location.to_owned());
        }
        nodes.push(Node {
            location: locations.len() - 1,
            depth: part.chain.len(),
            last: part.chain.last().cloned().unwrap_or_default(),
            empty: part.data.is_empty(),
            hash: value_hash(part.data),
            sample: sample_text(part.data),
            shape: shape(part.data, msg.time),
        });
    });
    let url = url_of(msg);
    let mut out: Vec<(FieldPath, Vec<String>, Occurrence)> = Vec::new();
    let mut index: HashMap<FieldPath, usize> = HashMap::new();
    // The chain of the current node, rebuilt from the last elements of its ancestors.
    let mut chain: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        let node = &nodes[i];
        chain.truncate(node.depth.saturating_sub(1));
        if node.depth > 0 {
            chain.push(node.last.clone());
        }
        // The subtree of node i: the following nodes of the same part that are deeper.
        let mut end = i + 1;
        let mut leaf = true;
        while let Some(next) = nodes.get(end) {
            if next.location != node.location || next.depth <= node.depth {
                break;
            }
            if is_path_step(&next.last) {
                leaf = false;
                break;
            }
            end += 1;
        }
        if !leaf {
            i += 1;
            continue;
        }
        // A leaf: its transform-only subtree is the same field, read differently.
        let location = locations.get(node.location).map_or("", String::as_str);
        if !node.empty && is_field(location, &chain, url) {
            let field = FieldPath::from_chain(location, &chain);
            let occ = Occurrence {
                hash: node.hash,
                sample: node.sample.clone(),
                shape: node.shape,
            };
            match index.get(&field) {
                Some(&k) => {
                    // A repeated field (protobuf repeated, XML siblings, a header sent twice):
                    // one value, the sequence.
                    if let Some((_, _, prev)) = out.get_mut(k) {
                        let mut h = DefaultHasher::new();
                        (prev.hash, occ.hash).hash(&mut h);
                        prev.hash = h.finish();
                    }
                }
                None => {
                    index.insert(field.clone(), out.len());
                    out.push((field, chain.clone(), occ));
                }
            }
        }
        // Skip the subtree; the chain is rebuilt from the next node's ancestors, which are all
        // at or above node i's depth, so truncating and pushing keeps it right.
        i = end;
    }
    out
}

/// Whether a leaf node is a field: not the whole URL, not a literal path segment (the endpoint
/// says it), not a transport header.
fn is_field(location: &str, chain: &[String], url: &str) -> bool {
    if location == "url" {
        let Some(first) = chain.first() else {
            return false;
        };
        if let Some(index) = first.strip_prefix("path:") {
            return index
                .parse::<usize>()
                .is_ok_and(|i| segment_is_folded(url, i));
        }
        return true;
    }
    if let Some(name) = location.strip_prefix("header:") {
        return !TRANSPORT_HEADERS
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name));
    }
    true
}

impl Report for Collector {
    fn message(&mut self, message: &Message) -> std::io::Result<()> {
        // Requests only; DNS queries (`dns:` URLs) have no fields to compare.
        if message.direction == Direction::Request && !message.url.starts_with("dns:") {
            self.request(message);
        }
        Ok(())
    }

    fn flow(&mut self, _flow: &FlowRecord) -> std::io::Result<()> {
        Ok(())
    }

    fn warning(&mut self, warning: &Warning) -> std::io::Result<()> {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(warning.clone());
        } else {
            self.warnings_dropped += 1;
        }
        Ok(())
    }

    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> std::io::Result<()> {
        self.findings = findings.to_vec();
        self.summary = Some(summary.clone());
        Ok(())
    }
}

/// Statistics of one run from `(value, Unix seconds)` pairs, in message order.
#[cfg(test)]
pub(crate) fn stats_of(values: &[(&str, i64)]) -> RunStats {
    let mut s = RunStats::default();
    for (v, secs) in values {
        let t = Some(Timestamp::from_secs_nanos(*secs, 0));
        let occ = Occurrence {
            hash: value_hash(v.as_bytes()),
            sample: (*v).to_owned(),
            shape: shape(v.as_bytes(), t),
        };
        s.observe(&occ, t, 32);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::{Body, Header};

    fn request(url: &str, headers: &[(&str, &str)], body: &str) -> Message {
        Message {
            time: None,
            source: SourceRef::entry(Arc::from("t.har"), 1),
            direction: Direction::Request,
            transport: Transport::default(),
            method: Some("POST".into()),
            url: url.into(),
            target: String::new(),
            host: Some("api.example".into()),
            status: None,
            headers: headers.iter().map(|(n, v)| Header::new(*n, *v)).collect(),
            body: Body::plain(body.as_bytes().to_vec()),
        }
    }

    fn names(msg: &Message) -> Vec<String> {
        fields_of(msg, &DecodeLimits::default())
            .into_iter()
            .map(|(f, _, _)| f.to_string())
            .collect()
    }

    #[test]
    fn leaves_only_without_transport_headers() {
        let msg = request(
            "https://api.example/u/356938035643809/ping?a=1&p=eyJzbiI6ICJSNThOMzFYWVpRIn0%3D",
            &[
                ("Host", "api.example"),
                ("Content-Length", "20"),
                ("X-Token", "abc123def456"),
                ("Content-Type", "application/json"),
                ("Cookie", "sid=s1; e="),
            ],
            r#"{"d":{"imei":"356938035643809","empty":"","n":null},"list":[1,2]}"#,
        );
        assert_eq!(
            names(&msg),
            vec![
                "url › path:1",
                "url › query:a",
                "url › query:p › json:$.sn",
                "header:x-token",
                "header:content-type",
                "cookie:sid",
                "body › json:$.d.imei",
                "body › json:$.list[0]",
                "body › json:$.list[1]",
            ]
        );
    }

    #[test]
    fn repeated_nodes_are_one_value() {
        let one = request("https://api.example/x", &[("X-A", "1"), ("X-A", "2")], "");
        let two = request("https://api.example/x", &[("X-A", "1"), ("X-A", "3")], "");
        let a = fields_of(&one, &DecodeLimits::default());
        let b = fields_of(&two, &DecodeLimits::default());
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].2.sample, "1");
        assert_ne!(a[0].2.hash, b[0].2.hash, "the second value counts");
    }
}
