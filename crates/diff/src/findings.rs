//! Labels from the runs' own findings, and the `differential` findings of a comparison.

use crate::collect::{shorten, SampleMessage, SAMPLE_CHARS};
use crate::endpoint::{endpoint_of, Endpoint, FieldPath};
use crate::{Class, FieldDiff};
use phonehome_attribute::Attributor;
use phonehome_model::{Direction, Finding, FindingTransport, MatchKind, NameSource, Timestamp};
use std::collections::{BTreeMap, HashMap};

/// A `known` or `pattern` finding of one run, as a label for the field it sits in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Label {
    pub field: FieldPath,
    pub kind: String,
    pub match_kind: MatchKind,
    pub label: String,
    pub value: String,
    pub form: String,
    pub preimage: String,
}

/// Labels by endpoint, gathered from every run's findings.
#[derive(Debug, Default)]
pub(crate) struct Labels {
    by_endpoint: HashMap<Endpoint, Vec<Label>>,
}

/// Most labels kept per endpoint.
const MAX_LABELS_PER_ENDPOINT: usize = 1024;

impl Labels {
    /// Adds the `known` and `pattern` findings of one run.
    pub(crate) fn add(&mut self, findings: &[Finding]) {
        for f in findings {
            if !matches!(f.match_kind, MatchKind::Known | MatchKind::Pattern) {
                continue;
            }
            let endpoint = endpoint_of(f.host.as_deref(), f.method.as_deref(), &f.url);
            let label = Label {
                field: FieldPath::from_chain(&f.location, &f.chain),
                kind: f.kind.clone(),
                match_kind: f.match_kind,
                label: f.label.clone(),
                value: f.value.clone(),
                form: f.form.clone(),
                preimage: f.preimage.clone(),
            };
            let list = self.by_endpoint.entry(endpoint).or_default();
            if list.len() < MAX_LABELS_PER_ENDPOINT
                && !list.iter().any(|l| {
                    l.field == label.field && l.kind == label.kind && l.label == label.label
                })
            {
                list.push(label);
            }
        }
    }

    /// The labels of `field` of `endpoint`: findings at the field itself; and findings at a
    /// selector above it (a finding at `json:$.loc` for `json:$.loc.lat`), or on a whole header
    /// or cookie, unless a finding of the same kind sits deeper under that selector (a latitude and
    /// longitude pair found at `json:$.loc`, and each of them at its own field, labels only those
    /// two fields).
    pub(crate) fn of(&self, endpoint: &Endpoint, field: &FieldPath) -> Vec<&Label> {
        let Some(list) = self.by_endpoint.get(endpoint) else {
            return Vec::new();
        };
        let under = |outer: &FieldPath, inner: &FieldPath| {
            inner.location == outer.location
                && inner.steps.len() > outer.steps.len()
                && inner.steps.starts_with(&outer.steps)
        };
        list.iter()
            .filter(|l| {
                if l.field == *field {
                    return true;
                }
                let whole_part = l.field.steps.is_empty()
                    && (field.location.starts_with("header:")
                        || field.location.starts_with("cookie:"));
                (whole_part || !l.field.steps.is_empty())
                    && under(&l.field, field)
                    && !list
                        .iter()
                        .any(|o| o.kind == l.kind && under(&l.field, &o.field))
            })
            .collect()
    }
}

/// What a field's finding needs besides the field's diff: its chain, the first message it was in
/// and its first and last times.
pub(crate) struct FieldEvidence<'a> {
    pub chain: &'a [String],
    pub sample_msg: Option<&'a SampleMessage>,
    pub first_time: Option<Timestamp>,
    pub last_time: Option<Timestamp>,
}

/// Whether a field becomes a finding, and with which kinds: every labelled field (one finding per
/// kind, whatever its class); unlabelled, an `identity` field, and a `one run only` or `differs`
/// field whose values are mostly shaped like identifiers (kind `identifier`).
pub(crate) fn finding_kinds(class: Class, kinds: &[String], id_like: bool) -> Vec<String> {
    if !kinds.is_empty() {
        return kinds.to_vec();
    }
    let wanted = match class {
        Class::Identity => true,
        Class::OneRunOnly | Class::Differs => id_like,
        Class::Constant | Class::Volatile | Class::Varies => false,
    };
    if wanted {
        vec!["identifier".to_owned()]
    } else {
        Vec::new()
    }
}

/// The `differential` findings of one field.
pub(crate) fn field_findings(
    endpoint: &Endpoint,
    field: &FieldDiff,
    evidence: &FieldEvidence<'_>,
    labels: &[&Label],
    attributor: &Attributor,
) -> Vec<Finding> {
    let kinds = field.finding_kinds.clone();
    if kinds.is_empty() {
        return Vec::new();
    }
    let present_runs: Vec<&str> = field
        .per_run
        .iter()
        .filter(|r| r.present > 0)
        .map(|r| r.run.as_str())
        .collect();
    let count: u64 = field.per_run.iter().map(|r| r.present).sum();
    let sample_value = field
        .per_run
        .iter()
        .find_map(|r| r.sample.clone())
        .unwrap_or_default();
    let mut details = BTreeMap::new();
    details.insert("endpoint".to_owned(), endpoint.to_string());
    details.insert("field".to_owned(), field.field.to_string());
    details.insert("class".to_owned(), field.class.as_str().to_owned());
    details.insert("runs".to_owned(), present_runs.join(", "));
    for r in &field.per_run {
        details.insert(
            format!("run.{}", r.run),
            format!(
                "{} of {} requests, {}{} distinct",
                r.present,
                r.messages,
                r.distinct,
                if r.distinct_capped { "+" } else { "" }
            ),
        );
    }
    let (host, method, url, transport, destination, source, direction) = match evidence.sample_msg {
        Some(m) => {
            let t = &m.transport;
            let destination = attributor.destination(
                phonehome_attribute::destination_name(m.host.as_deref(), &m.url, &m.transport),
                t.server.map(|s| s.ip()),
            );
            (
                m.host.clone(),
                m.method.clone(),
                m.url.clone(),
                FindingTransport {
                    client: t.client.map(|a| a.to_string()),
                    server: t.server.map(|a| a.to_string()),
                    tls: t.tls.clone(),
                    http: t.http.clone(),
                    sni: t.sni.clone(),
                },
                destination,
                m.source.clone(),
                Direction::Request,
            )
        }
        None => (
            Some(endpoint.host.clone()),
            Some(endpoint.method.clone()),
            endpoint.path.clone(),
            FindingTransport {
                client: None,
                server: None,
                tls: None,
                http: None,
                sni: None,
            },
            attributor.destination(Some((&endpoint.host, NameSource::Http)), None),
            phonehome_model::SourceRef {
                file: std::sync::Arc::from(""),
                frame: None,
                entry: None,
            },
            Direction::Request,
        ),
    };
    let watch = attributor.watched(&destination);
    kinds
        .into_iter()
        .map(|kind| {
            let label = labels.iter().find(|l| l.kind == kind);
            let mut details = details.clone();
            if let Some(l) = label {
                let by = match l.match_kind {
                    MatchKind::Known => "known",
                    MatchKind::Pattern => "pattern",
                    _ => "differential",
                };
                details.insert("labelled_by".to_owned(), by.to_owned());
            }
            Finding {
                record_type: "finding",
                kind,
                match_kind: MatchKind::Differential,
                label: label.map_or_else(|| field.field.to_string(), |l| l.label.clone()),
                value: label
                    .map_or_else(|| shorten(&sample_value, SAMPLE_CHARS), |l| l.value.clone()),
                form: label.map_or_else(|| "plain".to_owned(), |l| l.form.clone()),
                preimage: label.map(|l| l.preimage.clone()).unwrap_or_default(),
                confidence: field.confidence.as_str().to_owned(),
                count,
                reason: Some(format!("{}: {}", field.class.label(), field.reason)),
                details,
                decimals: None,
                precision_m: None,
                direction,
                time: evidence.first_time.map(|t| t.to_rfc3339()),
                first_time: evidence.first_time.map(|t| t.to_rfc3339()),
                last_time: evidence.last_time.map(|t| t.to_rfc3339()),
                host: host.clone(),
                method: method.clone(),
                url: url.clone(),
                location: field.field.location.clone(),
                chain: evidence.chain.to_vec(),
                transport: transport.clone(),
                destination: destination.clone(),
                watch: watch.clone(),
                source: source.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: &str, location: &str, chain: &[&str]) -> Finding {
        let json = serde_json::json!({
            "kind": kind, "match": "pattern", "label": kind, "value": "v", "form": "plain",
            "preimage": "", "confidence": "medium", "count": 1, "direction": "request",
            "time": null, "first_time": null, "last_time": null, "host": "h.example",
            "method": "POST", "url": "https://h.example/u", "where": location, "chain": chain,
            "transport": {"client": null, "server": null, "tls": null, "http": null, "sni": null},
            "destination": {
                "name": null, "name_source": null, "domain": null, "org": null,
                "org_country": null, "parent": null, "parent_country": null, "org_rule": null,
                "party": null, "server_ip": null, "server_country": null,
                "server_country_source": null, "asn": null, "asn_org": null
            },
            "source": {"file": "t"}
        });
        serde_json::from_value(json).unwrap()
    }

    fn kinds(labels: &Labels, location: &str, chain: &[&str]) -> Vec<String> {
        let endpoint = endpoint_of(Some("h.example"), Some("POST"), "https://h.example/u");
        let chain: Vec<String> = chain.iter().map(|s| s.to_string()).collect();
        labels
            .of(&endpoint, &FieldPath::from_chain(location, &chain))
            .iter()
            .map(|l| l.kind.clone())
            .collect()
    }

    #[test]
    fn labels_sit_in_their_fields() {
        let mut labels = Labels::default();
        labels.add(&[
            finding("location", "body", &["form:d", "base64", "json:$.loc.lat"]),
            finding("location", "body", &["form:d", "base64"]),
            finding("email", "body", &["form:d", "base64", "json:$.mail"]),
            finding("app_list", "body", &["form:apps"]),
            finding("imei", "header:X-Dev", &[]),
            finding("serial", "body", &[]),
        ]);
        let body = |chain: &[&str]| kinds(&labels, "body", chain);
        assert_eq!(body(&["form:d", "json:$.loc.lat"]), ["location"]);
        // The pair's finding above does not spread to the other fields under it.
        assert!(body(&["form:d", "json:$.net"]).is_empty());
        assert_eq!(body(&["form:d", "json:$.mail"]), ["email"]);
        // A finding above with nothing of its kind deeper labels every field under it.
        assert_eq!(body(&["form:apps", "json:$[0]"]), ["app_list"]);
        // A whole header labels what is inside it; a whole body does not.
        assert_eq!(kinds(&labels, "header:x-dev", &[]), ["imei"]);
        assert_eq!(kinds(&labels, "header:x-dev", &["json:$.a"]), ["imei"]);
        assert!(body(&["form:other"]).is_empty());
        assert_eq!(kinds(&labels, "body", &[]), ["serial"]);
    }
}
