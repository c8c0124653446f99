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

/// Most occurrences of a finding's own text replaced in its URL.
const MAX_URL_REPLACEMENTS: usize = 16;

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
            // Unreachable (HMAC takes keys of any length); still never the value itself.
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
        replace_spans(text, self.spans(text.as_bytes()))
    }

    /// Every span of personal data in `data` with its tag: the profile's values (tagged by the
    /// value, so all its forms share a tag) and identifiers nobody listed (tagged by the text;
    /// app lists and media are whole bodies, not values, and are left to their fields).
    fn spans(&self, data: &[u8]) -> Vec<(usize, usize, String)> {
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
            let matched = data
                .get(p.start..p.end)
                .and_then(|m| std::str::from_utf8(m).ok())
                .unwrap_or(&p.value);
            spans.push((p.start, p.end, self.tag(&p.kind, matched)));
        }
        spans
    }

    /// Redacts the strings of a finding taken from traffic (and the label, which quotes the
    /// profile): URL, value, preimage, label, host, where, chain, reason, details (keys and
    /// values), destination name and domain, TLS server name.
    pub fn finding(&self, f: &mut Finding) {
        let tag = self.tag(&f.kind, &f.value);
        f.url = self.redact_url(&self.replace_own_text(f, &f.url));
        f.value = tag.clone();
        f.preimage = tag;
        // Labels quote the profile (`contact "Priya Shah"`).
        f.label = self.redact(&f.label);
        f.location = self.redact(&f.location);
        f.chain = f.chain.iter().map(|c| self.redact(c)).collect();
        f.reason = f.reason.as_deref().map(|r| self.redact(r));
        if let Some(h) = &f.host {
            f.host = Some(self.redact(h));
        }
        self.destination(&mut f.destination);
        if let Some(s) = &f.transport.sni {
            f.transport.sni = Some(self.redact(s));
        }
        f.details = std::mem::take(&mut f.details)
            .into_iter()
            .map(|(k, v)| (self.redact(&k), self.redact(&v)))
            .collect();
    }

    /// `url` with every occurrence of `f`'s own text replaced by its tag, also where it is there
    /// encoded (the query value or path segment the finding's chain starts with). Call it while
    /// `f.value` and `f.preimage` still hold the raw text.
    fn replace_own_text(&self, f: &Finding, url: &str) -> String {
        let tag = self.tag(&f.kind, &f.value);
        let mut url = url.to_owned();
        for _ in 0..MAX_URL_REPLACEMENTS {
            match phonehome_report::locate_in_url(f, &url) {
                Some((a, b)) if url.get(a..b).is_some_and(|s| s != tag) => {
                    url.replace_range(a..b, &tag);
                }
                _ => break,
            }
        }
        url
    }

    /// Redacts a run's findings. Findings of one request share its URL, and each knows where its
    /// own value sits in it (perhaps encoded): every finding's URL is cleared of all of them.
    pub fn findings(&self, findings: &mut [Finding]) {
        let mut cleared: std::collections::HashMap<String, String> = Default::default();
        for f in findings.iter() {
            let url = cleared
                .get(&f.url)
                .cloned()
                .unwrap_or_else(|| f.url.clone());
            let url = self.replace_own_text(f, &url);
            cleared.insert(f.url.clone(), url);
        }
        for f in findings.iter_mut() {
            if let Some(url) = cleared.get(&f.url) {
                f.url = url.clone();
            }
            self.finding(f);
        }
    }

    /// The URL components (`path:<i>`, `query:<name>`) whose decodings (percent, base64, hex,
    /// JSON, compression…) hold personal data, each with the tag of the first value found.
    fn encoded_components(&self, url: &str) -> std::collections::HashMap<String, String> {
        let msg = Message {
            time: None,
            source: phonehome_model::SourceRef::frame("redact".into(), 0),
            direction: phonehome_model::Direction::Request,
            transport: Default::default(),
            method: None,
            url: url.to_owned(),
            target: String::new(),
            host: None,
            status: None,
            headers: Vec::new(),
            body: Default::default(),
        };
        let mut found = std::collections::HashMap::new();
        let limits = phonehome_decode::DecodeLimits::default();
        phonehome_decode::walk_message(&msg, &limits, &mut |part| {
            let Some(first) = part.chain.first() else {
                return;
            };
            if part.location != "url" || found.contains_key(first) {
                return;
            }
            if !(first.starts_with("path:") || first.starts_with("query:")) {
                return;
            }
            let tag = self.spans(part.data).into_iter().next().map(|(_, _, t)| t);
            if let Some(tag) = tag {
                found.insert(first.clone(), tag);
            }
        });
        found
    }

    /// Redacts the names in a destination.
    fn destination(&self, d: &mut phonehome_model::Destination) {
        if let Some(n) = &d.name {
            d.name = Some(self.redact(n));
        }
        if let Some(n) = &d.domain {
            d.domain = Some(self.redact(n));
        }
    }

    /// `url` redacted piece by piece: each path segment, query name and query value is scanned
    /// as it is and percent-decoded, and replaced whole (decoded, redacted) when the decoded form
    /// holds personal data.
    pub fn redact_url(&self, url: &str) -> String {
        let encoded = self.encoded_components(url);
        let (base, fragment) = match url.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (url, None),
        };
        let (path, query) = match base.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (base, None),
        };
        let piece = |s: &str| -> String {
            let direct = self.redact(s);
            if direct != s {
                return direct;
            }
            let decoded = percent_decode(s);
            if decoded != s {
                let redacted = self.redact(&decoded);
                if redacted != decoded {
                    return redacted;
                }
            }
            s.to_owned()
        };
        // Path segments are numbered as decode numbers them: after the authority, from 0.
        let authority_end = path
            .find("://")
            .map(|i| i + 3)
            .and_then(|a| path.get(a..).and_then(|rest| rest.find('/')).map(|i| a + i))
            .unwrap_or(0);
        let (head, segments) = path.split_at(authority_end);
        let mut out = piece(head);
        for (i, seg) in segments.split('/').skip(1).enumerate() {
            out.push('/');
            match encoded.get(&format!("path:{i}")) {
                Some(tag) => out.push_str(tag),
                None => out.push_str(&piece(seg)),
            }
        }
        if let Some(q) = query {
            out.push('?');
            let pairs: Vec<String> = q
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) => {
                        let key = format!("query:{}", percent_decode(k));
                        match encoded.get(&key) {
                            Some(tag) => format!("{}={tag}", piece(k)),
                            None => format!("{}={}", piece(k), piece(v)),
                        }
                    }
                    None => piece(pair),
                })
                .collect();
            out.push_str(&pairs.join("&"));
        }
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(&piece(f));
        }
        out
    }

    /// Redacts the names of a flow.
    pub fn flow(&self, flow: &mut FlowRecord) {
        for n in &mut flow.names {
            n.name = self.redact(&n.name);
        }
        if let Some(s) = &flow.sni {
            flow.sni = Some(self.redact(s));
        }
        self.destination(&mut flow.destination);
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

/// `s` with `%XX` escapes and `+` decoded (lossily as UTF-8), as decode reads URLs.
fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&phonehome_decode::percent_decode(s.as_bytes(), true)).into_owned()
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
        self.redactor.findings(&mut findings);
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
    fn spans_are_replaced_and_urls_decoded_piece_by_piece() {
        assert_eq!(
            replace_spans("a123b", vec![(1, 4, "[x]".into()), (2, 3, "[y]".into())]),
            "a[x]b"
        );
        assert_eq!(
            percent_decode("sam%40example.co.uk+x%2"),
            "sam@example.co.uk x%2"
        );
        let (p, _) = Profile::parse("[device]\nimei = \"356938035643809\"\n").unwrap();
        let r = Redactor::with_key(Some(&p), [1; 32]);
        let tag = r.tag("imei", "356938035643809");
        // base64 of the IMEI as a path segment and as a query value under an encoded name.
        assert_eq!(
            r.redact_url("https://h/u/MzU2OTM4MDM1NjQzODA5/x?a=1&dev%5Fid=MzU2OTM4MDM1NjQzODA5#f"),
            format!("https://h/u/{tag}/x?a=1&dev%5Fid={tag}#f")
        );
        assert_eq!(r.redact_url("https://h/p?a=1"), "https://h/p?a=1");
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
