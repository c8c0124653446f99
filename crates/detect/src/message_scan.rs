//! Scanning a whole message: every node of its decoding tree, with duplicate reports folded.

use crate::{Detector, Hit};
use phonehome_decode::{step_kind, walk_message, DecodeLimits, DecodeReport, StepKind};
use phonehome_model::Message;
use std::collections::HashSet;

/// Most hits kept per message, before folding: one per (label, form) per decoded node, in the order
/// the walk visits nodes. Later hits are dropped and the cut is named in
/// [`DecodeReport::limits_hit`]. With the walk's node cap ([`DecodeLimits::max_nodes`]) it bounds
/// [`detect_message`]'s memory and output.
pub const MAX_HITS_PER_MESSAGE: usize = 10_000;

/// A hit in a message: where it was and through which decodings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageHit {
    /// The match (offsets are within the decoded node it was found in).
    pub hit: Hit,
    /// `url`, `header:<name>`, `cookie:<name>` or `body`.
    pub location: String,
    /// The decodings from the message part to the value, outermost first (see `phonehome-decode`).
    pub chain: Vec<String>,
}

/// The hits found in one node.
struct NodeHits {
    location: String,
    chain: Vec<String>,
    hits: Vec<Hit>,
}

/// Identifies one value at one node: (location, chain, label, form).
type Key<'a> = (&'a str, &'a [String], &'a str, &'a str);

/// Walks `msg` with `phonehome-decode`, scans every node with `detector`, and returns the hits, one
/// per (label, form, location, chain), in the order found, with the walk's report.
///
/// The same value is often visible at several nodes of one branch; each occurrence is reported
/// once:
///
/// - seen through a *transform* (`percent`, `base64`, a decompression…) of a node where the same
///   label and form was already visible, it is the same data again: the shallower node is kept
///   (a value in a query parameter is not reported again on the percent-decoded copy);
/// - seen on a node and on a *selector* of it (`json:`, `form:`, `query:`, `multipart:`, `path:`),
///   the selector is more precise: the deeper node is kept (`["json:$.imei"]` rather than the raw
///   body).
///
/// Bounded: the walk visits at most [`DecodeLimits::max_nodes`] nodes, only the first hit of each
/// (label, form) at a node is kept (the others would fold into it), and at most
/// [`MAX_HITS_PER_MESSAGE`] hits are kept per message; the returned report names each cap hit.
pub fn detect_message(
    msg: &Message,
    detector: &Detector,
    limits: &DecodeLimits,
) -> (Vec<MessageHit>, DecodeReport) {
    let mut nodes: Vec<NodeHits> = Vec::new();
    let mut kept = 0usize;
    let mut dropped = false;
    let mut report = walk_message(msg, limits, &mut |part| {
        if dropped {
            return;
        }
        let mut hits = detector.scan(part.data);
        if hits.is_empty() {
            return;
        }
        first_per_label_and_form(&mut hits);
        let room = MAX_HITS_PER_MESSAGE.saturating_sub(kept);
        if hits.len() > room {
            hits.truncate(room);
            dropped = true;
        }
        if hits.is_empty() {
            return;
        }
        kept = kept.saturating_add(hits.len());
        nodes.push(NodeHits {
            location: part.location.to_string(),
            chain: part.chain.to_vec(),
            hits,
        });
    });
    if dropped {
        report.limits_hit.push(format!(
            "hit cap reached (MAX_HITS_PER_MESSAGE = {MAX_HITS_PER_MESSAGE}): \
             hits in later parts and decodings were not recorded"
        ));
    }
    (fold(&nodes), report)
}

/// Keeps the first hit of each (label, form), in order: the only one [`fold`] can report for a
/// node.
fn first_per_label_and_form(hits: &mut Vec<Hit>) {
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let first: Vec<bool> = hits
        .iter()
        .map(|h| seen.insert((h.label.as_str(), h.form.as_str())))
        .collect();
    let mut first = first.into_iter();
    hits.retain(|_| first.next().unwrap_or(false));
}

/// Applies the two folding rules of [`detect_message`] and de-duplicates.
fn fold(nodes: &[NodeHits]) -> Vec<MessageHit> {
    let all = || {
        nodes.iter().flat_map(|n| {
            n.hits.iter().map(move |h| {
                (
                    n,
                    h,
                    (
                        n.location.as_str(),
                        n.chain.as_slice(),
                        h.label.as_str(),
                        h.form.as_str(),
                    ),
                )
            })
        })
    };
    let present: HashSet<Key<'_>> = all().map(|(_, _, key)| key).collect();

    // Rule 1: drop what was already visible before a transform.
    let survives_transforms = |key: &Key<'_>| {
        let (location, chain, label, form) = *key;
        let Some(last_transform) = chain
            .iter()
            .rposition(|s| step_kind(s) == StepKind::Transform)
        else {
            return true;
        };
        !(0..=last_transform).any(|p| {
            chain
                .get(..p)
                .is_some_and(|prefix| present.contains(&(location, prefix, label, form)))
        })
    };
    let survivors: Vec<_> = all()
        .filter(|(_, _, key)| survives_transforms(key))
        .collect();

    // Rule 2: drop what a selector below pins down more precisely.
    let mut refined: HashSet<Key<'_>> = HashSet::new();
    for (_, _, (location, chain, label, form)) in &survivors {
        let mut end = chain.len();
        while let Some(step) = end.checked_sub(1).and_then(|i| chain.get(i)) {
            if step_kind(step) != StepKind::Selector {
                break;
            }
            end -= 1;
            if let Some(prefix) = chain.get(..end) {
                refined.insert((location, prefix, label, form));
            }
        }
    }

    let mut reported: HashSet<Key<'_>> = HashSet::new();
    let mut out = Vec::new();
    for (node, hit, key) in survivors {
        if refined.contains(&key) || !reported.insert(key) {
            continue;
        }
        out.push(MessageHit {
            hit: hit.clone(),
            location: node.location.clone(),
            chain: node.chain.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests;
