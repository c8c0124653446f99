//! Finding aggregation: the same value at the same destination and place is one finding with a count.

use phonehome_attribute::Attributor;
use phonehome_detect::MessageHit;
use phonehome_model::{Finding, FindingTransport, MatchKind, Message};
use std::collections::HashMap;

/// What makes two occurrences the same finding.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    label: String,
    form: String,
    preimage: String,
    host: Option<String>,
    location: String,
    chain: Vec<String>,
}

/// Most distinct findings kept per run; occurrences of findings already kept are still counted.
pub const MAX_FINDINGS: usize = 100_000;

/// Findings in first-seen order, de-duplicated by [`Key`].
#[derive(Default)]
pub(crate) struct FindingSet {
    index: HashMap<Key, usize>,
    findings: Vec<Finding>,
    /// New findings not kept because [`MAX_FINDINGS`] was reached.
    pub(crate) dropped: u64,
}

impl FindingSet {
    /// Records one hit in `msg`. Returns false when it was a new finding that could not be kept
    /// ([`MAX_FINDINGS`]).
    pub(crate) fn add(&mut self, msg: &Message, hit: MessageHit, attributor: &Attributor) -> bool {
        let host = msg.host.clone().map(|h| h.to_ascii_lowercase());
        let key = Key {
            label: hit.hit.label.clone(),
            form: hit.hit.form.clone(),
            preimage: hit.hit.preimage.clone(),
            host: host.clone(),
            location: hit.location.clone(),
            chain: hit.chain.clone(),
        };
        if let Some(&i) = self.index.get(&key) {
            if let Some(f) = self.findings.get_mut(i) {
                f.count += 1;
                if let Some(t) = msg.time {
                    f.last_time = Some(t.to_rfc3339());
                }
            }
            return true;
        }
        if self.findings.len() >= MAX_FINDINGS {
            self.dropped += 1;
            return false;
        }
        let t = &msg.transport;
        let pattern = hit.hit.pattern;
        let (match_kind, confidence, reason, details) = match pattern {
            Some(p) => (MatchKind::Pattern, p.confidence, Some(p.reason), p.details),
            None => (
                MatchKind::Known,
                "high".to_owned(),
                None,
                Default::default(),
            ),
        };
        let destination = attributor.destination(
            phonehome_attribute::destination_name(msg.host.as_deref(), &msg.url, &msg.transport),
            t.server.map(|s| s.ip()),
        );
        let finding = Finding {
            record_type: "finding",
            kind: hit.hit.kind,
            match_kind,
            label: hit.hit.label,
            value: hit.hit.value,
            form: hit.hit.form,
            preimage: hit.hit.preimage,
            confidence,
            count: 1,
            reason,
            details,
            decimals: hit.hit.decimals,
            precision_m: hit.hit.precision_m.map(|m| (m * 100.0).round() / 100.0),
            direction: msg.direction,
            time: msg.time.map(|t| t.to_rfc3339()),
            first_time: msg.time.map(|t| t.to_rfc3339()),
            last_time: msg.time.map(|t| t.to_rfc3339()),
            host: msg.host.clone(),
            method: msg.method.clone(),
            url: msg.url.clone(),
            location: hit.location,
            chain: hit.chain,
            transport: FindingTransport {
                client: t.client.map(|a| a.to_string()),
                server: t.server.map(|a| a.to_string()),
                tls: t.tls.clone(),
                http: t.http.clone(),
                sni: t.sni.clone(),
            },
            watch: attributor.watched(&destination),
            destination,
            source: msg.source.clone(),
        };
        self.index.insert(key, self.findings.len());
        self.findings.push(finding);
        true
    }

    /// The findings in first-seen order, those whose destination is in a watched country first.
    pub(crate) fn into_sorted(self) -> Vec<Finding> {
        let mut findings = self.findings;
        findings.sort_by_key(|f| f.watch.is_empty());
        findings
    }
}
