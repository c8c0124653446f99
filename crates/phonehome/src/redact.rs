//! `--redact`: every span of personal data in every string taken from traffic becomes
//! `[kind:XXXXXXXX]`, where the tag is the start of an HMAC-SHA-256 of the value under a random key
//! that lives only in this process. Equal values get equal tags within one run (a reader can
//! still see that the same IMEI went to three places), and nothing can be brute-forced back from a
//! tag: without the key, guessing an IMEI does not help.
//!
//! Redaction runs over the records as they leave the analysis (a [`Report`] wrapper), so no
//! format, present or future, sees the raw values. It finds spans with the same detector as the
//! analysis: the profile's values in every form it knows (case, separators, phone formats,
//! digests) and identifiers nobody listed. A query parameter that a finding says carries personal
//! data in an encoded form is replaced whole.

use hmac::{Hmac, Mac};
use phonehome_detect::{Detector, Profile};
use phonehome_model::{Finding, FlowRecord, Message, Summary, Warning};
use phonehome_report::Report;
use sha2::Sha256;
use std::io;

/// Hex digits of the HMAC in a tag.
const TAG_HEX: usize = 8;

/// Finds and replaces personal data in strings.
pub struct Redactor {
    detector: Detector,
    key: [u8; 32],
}

impl Redactor {
    /// A redactor for the values of `profile` (and identifiers nobody listed), with a fresh
    /// random key from the operating system.
    pub fn new(profile: Option<&Profile>) -> io::Result<Self> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| io::Error::other(format!("no randomness for the redaction key: {e}")))?;
        Ok(Self::with_key(profile, key))
    }

    /// A redactor with a given key (for tests: tags are then reproducible).
    pub fn with_key(profile: Option<&Profile>, key: [u8; 32]) -> Self {
        let default = Profile::default();
        Self {
            detector: Detector::new(profile.unwrap_or(&default)),
            key,
        }
    }

    /// The tag that stands for `value` of `kind`.
    pub fn tag(&self, kind: &str, value: &str) -> String {
        // An HMAC accepts keys of any length; this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return format!("[{kind}]");
        };
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex = hex::encode(digest);
        format!("[{kind}:{}]", hex.get(..TAG_HEX).unwrap_or(&hex))
    }

    /// `text` with every span of personal data replaced by its tag.
    pub fn redact(&self, text: &str) -> String {
        let data = text.as_bytes();
        let mut spans: Vec<(usize, usize, String)> = self
            .detector
            .scan(data)
            .into_iter()
            .map(|h| (h.start, h.end, self.tag(&h.kind, &h.value)))
            .collect();
        let mut unlisted = Vec::new();
        self.detector
            .unlisted()
            .scan_node(None, data, &mut unlisted);
        for p in unlisted {
            if p.kind == "media" || p.kind == "app_list" {
                continue;
            }
            let matched = text.get(p.start..p.end).unwrap_or(&p.value);
            spans.push((p.start, p.end, self.tag(&p.kind, matched)));
        }
        replace_spans(text, spans)
    }

    /// Redacts the strings of a finding taken from traffic.
    pub fn finding(&self, f: &mut Finding) {
        let tag = self.tag(&f.kind, &f.value);
        // The query parameter the value sits in, when it is there encoded.
        if f.location == "url" {
            if let Some(name) = f.chain.first().and_then(|c| c.strip_prefix("query:")) {
                f.url = replace_query_value(&f.url, name, &tag);
            }
        }
        f.url = self.redact(&f.url);
        f.value = tag.clone();
        f.preimage = tag;
        // Labels quote the profile (`contact "Priya Shah"`).
        f.label = self.redact(&f.label);
        if let Some(h) = &f.host {
            f.host = Some(self.redact(h));
        }
        if let Some(n) = &f.destination.name {
            f.destination.name = Some(self.redact(n));
        }
        if let Some(s) = &f.transport.sni {
            f.transport.sni = Some(self.redact(s));
        }
        for v in f.details.values_mut() {
            *v = self.redact(v);
        }
    }

    /// Redacts the names of a flow.
    pub fn flow(&self, flow: &mut FlowRecord) {
        for n in &mut flow.names {
            n.name = self.redact(&n.name);
        }
        if let Some(s) = &flow.sni {
            flow.sni = Some(self.redact(s));
        }
        if let Some(n) = &flow.destination.name {
            flow.destination.name = Some(self.redact(n));
        }
    }

    /// Redacts a warning's reason (it may quote traffic).
    pub fn warning(&self, w: &mut Warning) {
        w.reason = self.redact(&w.reason);
    }
}

/// Replaces non-overlapping spans (the leftmost, then the longest, wins) of `text`.
fn replace_spans(text: &str, mut spans: Vec<(usize, usize, String)>) -> String {
    if spans.is_empty() {
        return text.to_owned();
    }
    spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, tag) in spans {
        if start < at || end > text.len() || start >= end {
            continue;
        }
        // Spans come from byte offsets; widen to character boundaries.
        let (Some(before), Some(_)) = (text.get(at..start), text.get(start..end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&tag);
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// `url` with the value of every query parameter `name` replaced by `tag`.
fn replace_query_value(url: &str, name: &str, tag: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k == name => format!("{k}={tag}"),
            _ => pair.to_owned(),
        })
        .collect();
    let mut out = format!("{base}?{}", pairs.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// A [`Report`] that redacts every record before handing it on.
pub struct Redacting<R> {
    inner: R,
    redactor: Redactor,
}

impl<R: Report> Redacting<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, redactor: Redactor) -> Self {
        Self { inner, redactor }
    }
}

impl<R: Report> Report for Redacting<R> {
    fn message(&mut self, _message: &Message) -> io::Result<()> {
        // Messages carry raw traffic; a redacted report never passes them on.
        Ok(())
    }

    fn flow(&mut self, flow: &FlowRecord) -> io::Result<()> {
        let mut flow = flow.clone();
        self.redactor.flow(&mut flow);
        self.inner.flow(&flow)
    }

    fn warning(&mut self, warning: &Warning) -> io::Result<()> {
        let mut w = warning.clone();
        self.redactor.warning(&mut w);
        self.inner.warning(&w)
    }

    fn finish(&mut self, findings: &[Finding], summary: &Summary) -> io::Result<()> {
        let mut findings = findings.to_vec();
        for f in &mut findings {
            self.redactor.finding(f);
        }
        let mut summary = summary.clone();
        summary.redacted = true;
        if let Some(p) = &mut summary.policy {
            for v in &mut p.violations {
                v.reason = self.redactor.redact(&v.reason);
            }
        }
        self.inner.finish(&findings, &summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_query_values_are_replaced() {
        assert_eq!(
            replace_spans("a123b", vec![(1, 4, "[x]".into()), (2, 3, "[y]".into())]),
            "a[x]b"
        );
        assert_eq!(
            replace_query_value("http://h/p?a=1&imei=MzU2&b=2#f", "imei", "[imei:ab]"),
            "http://h/p?a=1&imei=[imei:ab]&b=2#f"
        );
        assert_eq!(
            replace_query_value("http://h/p", "imei", "[t]"),
            "http://h/p"
        );
    }

    #[test]
    fn equal_values_get_equal_tags_and_keys_differ() {
        let (p, _) = Profile::parse("[device]\nimei = \"356938035643809\"\n").unwrap();
        let r = Redactor::with_key(Some(&p), [1; 32]);
        let a = r.redact("imei=356938035643809&x=35-693803-564380-9");
        let tag = r.tag("imei", "356938035643809");
        assert_eq!(a, format!("imei={tag}&x={tag}"));
        let other = Redactor::with_key(Some(&p), [2; 32]);
        assert_ne!(other.tag("imei", "356938035643809"), tag);
        // Identifiers nobody listed are redacted too.
        let b = r.redact("mac=3c:28:6d:aa:bb:cc");
        assert!(b.starts_with("mac=[mac:"), "{b}");
    }
}
