//! Scanning a whole message: every node of its decoding tree, with duplicate reports folded.

use crate::location::{pair_leaves, NumberLeaf};
use crate::{Detector, Hit};
use phonehome_decode::{step_kind, walk_message, DecodeLimits, DecodeReport, StepKind};
use phonehome_model::Message;
use std::collections::HashSet;

/// Most hits kept per message, before folding: one per (label, form) per decoded node, in the order
/// the walk visits nodes. Later hits are dropped and the cut is named in
/// [`DecodeReport::limits_hit`]. With the walk's node cap ([`DecodeLimits::max_nodes`]) it bounds
/// [`detect_message`]'s memory and output.
pub const MAX_HITS_PER_MESSAGE: usize = 10_000;

/// Most number leaves (nodes that are one number, under a selector naming a latitude, a longitude
/// or an index) kept per message for pairing into locations; later ones are not paired and the
/// cut is named in [`DecodeReport::limits_hit`].
pub const MAX_NUMBER_LEAVES: usize = 10_000;

/// A hit in a message: where it was and through which decodings.
#[derive(Clone, Debug, PartialEq)]
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

/// Identifies one value at one node: (location, chain, label, form, value).
type Key<'a> = (&'a str, &'a [String], &'a str, &'a str, &'a str);

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
/// Locations sent as two leaves (`{"lat": 51.50735, "lng": -0.12776}`, `?lat=51.51&lng=-0.13`,
/// two protobuf doubles) are found by pairing sibling number leaves after the walk (see
/// `location.rs`): the hit is reported at the latitude leaf, with the pair as preimage.
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
    let mut leaves: Vec<NumberLeaf> = Vec::new();
    let mut too_many_leaves = false;
    let pairing = !detector.locations().is_empty();
    let mut groups = SiblingGroups::default();
    let mut report = walk_message(msg, limits, &mut |part| {
        if dropped {
            return;
        }
        if pairing {
            if let Some(leaf) = NumberLeaf::new(part.location, part.chain, part.data) {
                if leaves.len() < MAX_NUMBER_LEAVES {
                    leaves.push(leaf);
                } else {
                    too_many_leaves = true;
                }
            }
        }
        let mut hits = detector.scan(part.data);
        // Identifiers nobody listed, unless a profile value already covers the same bytes.
        let key = phonehome_patterns::node_key(part.location, part.chain);
        let mut unlisted = Vec::new();
        detector
            .unlisted()
            .scan_node(key.as_deref(), part.data, &mut unlisted);
        for p in unlisted {
            if !hits
                .iter()
                .any(|h| h.pattern.is_none() && h.start < p.end && p.start < h.end)
            {
                hits.push(Hit::pattern(p));
            }
        }
        if let (Some(key), Some((_, parent))) = (key.as_deref(), part.chain.split_last()) {
            groups.add(part.location, parent, key, part.data);
        }
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
    for (i, m, preimage) in pair_leaves(detector.locations(), &leaves) {
        if kept >= MAX_HITS_PER_MESSAGE {
            dropped = true;
            break;
        }
        let Some(leaf) = leaves.get(i) else { continue };
        let mut hit = Hit::location(m, preimage);
        (hit.start, hit.end) = (leaf.start, leaf.end);
        kept += 1;
        nodes.push(NodeHits {
            location: leaf.location.clone(),
            chain: leaf.chain.clone(),
            hits: vec![hit],
        });
    }
    for (location, chain, siblings) in groups.into_groups() {
        let refs: Vec<(&str, &[u8])> = siblings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        let mut unlisted = Vec::new();
        detector.unlisted().scan_group(&refs, &mut unlisted);
        for p in unlisted {
            if kept >= MAX_HITS_PER_MESSAGE {
                dropped = true;
                break;
            }
            kept += 1;
            nodes.push(NodeHits {
                location: location.clone(),
                chain: chain.clone(),
                hits: vec![Hit::pattern(p)],
            });
        }
    }
    if dropped {
        report.limits_hit.push(format!(
            "hit cap reached (MAX_HITS_PER_MESSAGE = {MAX_HITS_PER_MESSAGE}): \
             hits in later parts and decodings were not recorded"
        ));
    }
    if too_many_leaves {
        report.limits_hit.push(format!(
            "number leaf cap reached (MAX_NUMBER_LEAVES = {MAX_NUMBER_LEAVES}): \
             later numbers were not paired into locations"
        ));
    }
    (fold(&nodes), report)
}

/// Keeps the first hit of each (label, form), in order: the only one [`fold`] can report for a
/// node.
fn first_per_label_and_form(hits: &mut Vec<Hit>) {
    let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
    let first: Vec<bool> = hits
        .iter()
        .map(|h| seen.insert((h.label.as_str(), h.form.as_str(), h.value.as_str())))
        .collect();
    let mut first = first.into_iter();
    hits.retain(|_| first.next().unwrap_or(false));
}

/// Most leaves kept for sibling grouping per message.
pub const MAX_GROUP_LEAVES: usize = 4096;
/// Longest leaf value kept for sibling grouping.
pub const MAX_GROUP_LEAF_BYTES: usize = 1024;

/// Leaves grouped by parent (location + chain without the last element), for structure-aware
/// patterns (coordinates in sibling fields, call logs, app lists). Bounded by
/// [`MAX_GROUP_LEAVES`] and [`MAX_GROUP_LEAF_BYTES`].
/// One parent's leaves: location, the parent's chain, and each leaf's (key, value).
type Group = (String, Vec<String>, Vec<(String, Vec<u8>)>);

#[derive(Default)]
struct SiblingGroups {
    groups: Vec<Group>,
    index: std::collections::HashMap<(String, Vec<String>), usize>,
    leaves: usize,
}

impl SiblingGroups {
    fn add(&mut self, location: &str, parent: &[String], key: &str, data: &[u8]) {
        if self.leaves >= MAX_GROUP_LEAVES || data.len() > MAX_GROUP_LEAF_BYTES {
            return;
        }
        self.leaves += 1;
        let id = (location.to_owned(), parent.to_vec());
        let i = match self.index.get(&id) {
            Some(&i) => i,
            None => {
                self.groups
                    .push((location.to_owned(), parent.to_vec(), Vec::new()));
                self.index.insert(id, self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        if let Some(g) = self.groups.get_mut(i) {
            g.2.push((key.to_owned(), data.to_vec()));
        }
    }

    /// Groups of two or more siblings.
    fn into_groups(self) -> impl Iterator<Item = Group> {
        self.groups.into_iter().filter(|g| g.2.len() >= 2)
    }
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
                        h.value.as_str(),
                    ),
                )
            })
        })
    };
    let present: HashSet<Key<'_>> = all().map(|(_, _, key)| key).collect();

    // Rule 1: drop what was already visible before a transform.
    let survives_transforms = |key: &Key<'_>| {
        let (location, chain, label, form, value) = *key;
        let Some(last_transform) = chain
            .iter()
            .rposition(|s| step_kind(s) == StepKind::Transform)
        else {
            return true;
        };
        !(0..=last_transform).any(|p| {
            chain
                .get(..p)
                .is_some_and(|prefix| present.contains(&(location, prefix, label, form, value)))
        })
    };
    let survivors: Vec<_> = all()
        .filter(|(_, _, key)| survives_transforms(key))
        .collect();

    // Rule 2: drop what a selector below pins down more precisely.
    let mut refined: HashSet<Key<'_>> = HashSet::new();
    for (_, _, (location, chain, label, form, value)) in &survivors {
        let mut end = chain.len();
        while let Some(step) = end.checked_sub(1).and_then(|i| chain.get(i)) {
            if step_kind(step) != StepKind::Selector {
                break;
            }
            end -= 1;
            if let Some(prefix) = chain.get(..end) {
                refined.insert((location, prefix, label, form, value));
            }
        }
    }

    // A profile value suppresses a pattern on the same bytes wherever in the message they show.
    let known_texts: HashSet<&str> = survivors
        .iter()
        .filter(|(_, h, _)| h.pattern.is_none())
        .map(|(_, h, _)| h.preimage.as_str())
        .collect();
    let mut reported: HashSet<Key<'_>> = HashSet::new();
    let mut out = Vec::new();
    for (node, hit, key) in survivors {
        if refined.contains(&key) || !reported.insert(key) {
            continue;
        }
        if hit.pattern.is_some()
            && known_texts
                .iter()
                .any(|k| !k.is_empty() && (hit.value.contains(k) || k.contains(hit.value.as_str())))
        {
            continue;
        }
        out.push(MessageHit {
            hit: hit.clone(),
            location: node.location.clone(),
            chain: node.chain.clone(),
        });
    }
    // The same unlisted value seen at a node and below it (a UUID in a base64 blob, then under its
    // key inside): one finding, at the deepest node, which knows the key.
    let deeper_twin = |i: usize, h: &MessageHit| {
        out.iter().enumerate().any(|(j, o)| {
            j != i
                && o.hit.pattern.is_some()
                && o.hit.value == h.hit.value
                && o.location == h.location
                && o.chain.len() > h.chain.len()
                && o.chain.starts_with(&h.chain)
        })
    };
    let keep: Vec<bool> = out
        .iter()
        .enumerate()
        .map(|(i, h)| h.hit.pattern.is_none() || !deeper_twin(i, h))
        .collect();
    let mut keep = keep.into_iter();
    out.retain(|_| keep.next().unwrap_or(true));
    out
}

#[cfg(test)]
mod tests;
