//! The evidence of one finding in the HTML report: request line with the matched text marked,
//! the decode chain step by step, the value, transport, destination and source.

use crate::escape::{clip, escape_html as esc, push_html};
use crate::markdown::{match_of, source_of};
use crate::matrix::{party_str, server_claim, watch_labels};
use phonehome_model::Finding;
use serde::Serialize;
use std::fmt::Write as _;

/// Characters of URL shown on each side of the marked text.
const CONTEXT: usize = 240;
/// Longest marked text, value or preimage shown, in characters.
const MAX_SHOWN: usize = 400;
/// Longest URL shown when nothing in it is marked.
const MAX_URL: usize = 600;

/// The largest char boundary of `s` at or before `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `s` percent-encoded as a query value would be (unreserved characters kept).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Where in `url` the finding's text is: the preimage or value as sent or percent-encoded (case
/// insensitively for ASCII), else the value of the query parameter or path segment the chain
/// starts with. Byte range.
pub fn locate(f: &Finding, url: &str) -> Option<(usize, usize)> {
    let lower = url.to_ascii_lowercase();
    for needle in [&f.preimage, &f.value] {
        if needle.chars().count() < 3 {
            continue;
        }
        for n in [needle.clone(), percent_encode(needle)] {
            if let Some(i) = lower.find(&n.to_ascii_lowercase()) {
                if url.is_char_boundary(i) && url.is_char_boundary(i + n.len()) {
                    return Some((i, i + n.len()));
                }
            }
        }
    }
    if f.location != "url" {
        return None;
    }
    let step = f.chain.first()?;
    let (path, query) = match url.find('?') {
        Some(q) => (&url[..q], Some((q + 1, &url[q + 1..]))),
        None => (url, None),
    };
    if let Some(name) = step.strip_prefix("query:") {
        let (base, query) = query?;
        let mut at = base;
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if k == name || k == percent_encode(name) {
                let start = at + k.len() + 1;
                return (!v.is_empty()).then_some((start, start + v.len()));
            }
            at += pair.len() + 1;
        }
        return None;
    }
    if let Some(index) = step.strip_prefix("path:") {
        let index: usize = index.parse().ok()?;
        // The path after the authority: skip `scheme://host`.
        let after = path.find("://").map_or(0, |i| i + 3);
        let start = after + path[after..].find('/')?;
        let mut at = start + 1;
        for (i, seg) in path[start + 1..].split('/').enumerate() {
            if i == index {
                return (!seg.is_empty()).then_some((at, at + seg.len()));
            }
            at += seg.len() + 1;
        }
    }
    None
}

/// `text` escaped with `[a, b)` wrapped in `<mark>`, cut to [`CONTEXT`] characters either side.
fn marked(text: &str, a: usize, b: usize) -> String {
    let a = floor_boundary(text, a);
    let b = floor_boundary(text, b.max(a));
    let before = &text[..a];
    let hit = &text[a..b];
    let after = &text[b..];
    let mut out = String::new();
    let skip = before.chars().count().saturating_sub(CONTEXT);
    if skip > 0 {
        out.push('…');
        let i = before.char_indices().nth(skip).map_or(0, |(i, _)| i);
        push_html(&mut out, &before[i..]);
    } else {
        push_html(&mut out, before);
    }
    out.push_str("<mark>");
    push_html(&mut out, &clip(hit, MAX_SHOWN));
    out.push_str("</mark>");
    push_html(&mut out, &clip(after, CONTEXT));
    out
}

/// A `<code>` holding `s`, cut and escaped.
fn code(s: &str, max: usize) -> String {
    format!("<code>{}</code>", esc(&clip(s, max)))
}

/// The snake_case serde name of a unit variant.
fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Writes the `<article>` for finding `i` to `out`. `receiver` is its receiver's label and
/// `rules` the policy rule ids it breaks.
pub(crate) fn article(out: &mut String, i: usize, f: &Finding, receiver: &str, rules: &[&str]) {
    let watched = !f.watch.is_empty();
    let _ = write!(
        out,
        "<article class=\"finding{}\" id=\"f{i}\"><p class=\"fh\"><span class=\"num\">#{}</span> <strong>{}</strong> {} <span class=\"muted\">to</span> {}",
        if watched { " watch" } else { "" },
        i + 1,
        esc(&clip(&f.kind, 64)),
        esc(&clip(&f.label, 120)),
        esc(receiver),
    );
    if watched {
        let _ = write!(
            out,
            " <span class=\"badge watch\">watched: {}</span>",
            esc(&watch_labels(f).join(", "))
        );
    }
    for r in rules {
        let _ = write!(out, " <span class=\"badge rule\">breaks {}</span>", esc(r));
    }
    let _ = write!(
        out,
        " <span class=\"muted\">× {}</span></p><dl class=\"ev\">",
        f.count
    );

    let _ = write!(
        out,
        "<dt>Match</dt><dd>{}</dd>",
        esc(&crate::match_label(f))
    );
    // Request line, with the value marked in the URL when it is there.
    let hit = locate(f, &f.url);
    let method = f.method.as_deref().unwrap_or("?");
    let _ = write!(
        out,
        "<dt>Request</dt><dd><code class=\"req\">{} ",
        esc(&clip(method, 16))
    );
    match hit {
        Some((a, b)) => out.push_str(&marked(&f.url, a, b)),
        None => push_html(out, &clip(&f.url, MAX_URL)),
    }
    out.push_str("</code></dd>");
    if let Some(h) = &f.host {
        let _ = write!(out, "<dt>Host</dt><dd>{}</dd>", code(h, 200));
    }
    let _ = write!(
        out,
        "<dt>Where</dt><dd>{} <span class=\"muted\">({})</span></dd>",
        code(&f.location, 200),
        esc(&serde_name(&f.direction))
    );

    // Decode chain, outermost first.
    out.push_str("<dt>Decode chain</dt><dd><ol class=\"chain\">");
    let _ = write!(
        out,
        "<li>{} <span class=\"muted\">the message part</span></li>",
        code(&f.location, 200)
    );
    for step in f.chain.iter().take(32) {
        let _ = write!(out, "<li>{}</li>", code(step, 200));
    }
    if f.chain.len() > 32 {
        let _ = write!(out, "<li>… {} more steps</li>", f.chain.len() - 32);
    }
    out.push_str("<li><span class=\"muted\">value found</span></li></ol></dd>");

    // The value: what the profile lists, what was sent, in which form.
    let _ = write!(
        out,
        "<dt>Value</dt><dd><code class=\"val\"><mark>{}</mark></code> <span class=\"muted\">form</span> {}",
        esc(&clip(&f.value, MAX_SHOWN)),
        esc(&clip(&f.form, 64)),
    );
    if f.preimage != f.value {
        let _ = write!(
            out,
            " <span class=\"muted\">of</span> <code class=\"val\">{}</code>",
            esc(&clip(&f.preimage, MAX_SHOWN))
        );
    }
    let _ = write!(out, " · {}", esc(&match_of(f)));
    if let Some(r) = &f.reason {
        let _ = write!(out, " · {}", esc(&clip(r, 300)));
    }
    if hit.is_none() && f.location == "url" {
        out.push_str(" <span class=\"muted\">(as sent, it is encoded in the URL)</span>");
    }
    out.push_str("</dd>");
    if !f.details.is_empty() || f.decimals.is_some() {
        out.push_str("<dt>Details</dt><dd>");
        let mut parts: Vec<String> = f
            .details
            .iter()
            .take(20)
            .map(|(k, v)| format!("{}: {}", esc(&clip(k, 64)), esc(&clip(v, 200))))
            .collect();
        if let Some(d) = f.decimals {
            parts.push(format!("{d} decimals"));
        }
        if let Some(p) = f.precision_m {
            parts.push(format!("precision {p:.0} m"));
        }
        out.push_str(&parts.join(" · "));
        out.push_str("</dd>");
    }
    let first = f.first_time.as_deref().or(f.time.as_deref());
    if let Some(t) = first {
        let _ = write!(out, "<dt>Time</dt><dd>{}", esc(&clip(t, 40)));
        if let Some(l) = f.last_time.as_deref().filter(|l| Some(*l) != first) {
            let _ = write!(out, " – {}", esc(&clip(l, 40)));
        }
        out.push_str("</dd>");
    }

    // Transport.
    let t = &f.transport;
    let mut parts = Vec::new();
    match (&t.client, &t.server) {
        (Some(c), Some(s)) => parts.push(format!("{} → {}", esc(&clip(c, 64)), esc(&clip(s, 64)))),
        (None, Some(s)) => parts.push(format!("→ {}", esc(&clip(s, 64)))),
        (Some(c), None) => parts.push(esc(&clip(c, 64))),
        (None, None) => {}
    }
    if let Some(v) = &t.tls {
        parts.push(format!("TLS {}", esc(&clip(v, 32))));
    }
    if let Some(v) = &t.http {
        parts.push(format!("HTTP {}", esc(&clip(v, 32))));
    }
    if let Some(v) = &t.sni {
        parts.push(format!("SNI {}", esc(&clip(v, 200))));
    }
    if !parts.is_empty() {
        let _ = write!(out, "<dt>Transport</dt><dd>{}</dd>", parts.join(" · "));
    }

    // Destination: who controls it, then the server's claims.
    let d = &f.destination;
    let mut parts = Vec::new();
    if let Some(n) = &d.name {
        let via = d.name_source.as_ref().map(serde_name).unwrap_or_default();
        parts.push(format!(
            "{} <span class=\"muted\">via {}</span>",
            esc(&clip(n, 200)),
            esc(&via)
        ));
    }
    if let Some(dom) = &d.domain {
        parts.push(format!("domain {}", esc(&clip(dom, 200))));
    }
    if let Some(o) = &d.org {
        let mut s = format!(
            "organisation {} <span class=\"muted\">({})</span>",
            esc(&o.name),
            esc(&o.id)
        );
        if let Some(cc) = &d.org_country {
            let _ = write!(s, ", headquarters {}", esc(cc));
        }
        if let Some(cc) = &d.incorporated {
            let _ = write!(s, ", incorporated {}", esc(cc));
        }
        parts.push(s);
    }
    if let Some(p) = &d.parent {
        let mut s = format!("parent {}", esc(&p.name));
        if let Some(cc) = &d.parent_country {
            let _ = write!(s, " ({})", esc(cc));
        }
        parts.push(s);
    }
    let party = party_str(d.party);
    if !party.is_empty() {
        parts.push(format!("{party} party"));
    }
    if !parts.is_empty() {
        let _ = write!(out, "<dt>Destination</dt><dd>{}</dd>", parts.join(" · "));
    }
    let mut parts = Vec::new();
    if let Some(ip) = &d.server_ip {
        parts.push(esc(&clip(ip, 64)));
    }
    let claim = server_claim(d);
    if !claim.is_empty() {
        parts.push(format!(
            "declared registration country and network: {}",
            esc(&clip(&claim, 200))
        ));
    }
    if let Some(src) = &d.server_country_source {
        parts.push(format!(
            "<span class=\"muted\">{}</span>",
            esc(&clip(src, 200))
        ));
    }
    if !parts.is_empty() {
        let _ = write!(out, "<dt>Server</dt><dd>{}</dd>", parts.join(" · "));
    }
    let _ = writeln!(
        out,
        "<dt>Source</dt><dd>{}</dd></dl></article>",
        code(&source_of(f), 300)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(url: &str, preimage: &str, location: &str, chain: &[&str]) -> Finding {
        let mut f: Finding = serde_json::from_value(serde_json::json!({
            "kind": "imei", "match": "known", "label": "imei #1", "value": preimage, "form": "md5",
            "preimage": preimage, "confidence": "high", "count": 1, "direction": "request",
            "time": null, "first_time": null, "last_time": null, "host": "h", "method": "GET",
            "url": url, "where": location, "chain": chain,
            "transport": {"client": null, "server": null, "tls": null, "http": null, "sni": null},
            "destination": {}, "source": {"file": "c.pcap", "frame": 1}
        }))
        .unwrap();
        f.record_type = "finding";
        f
    }

    #[test]
    fn locates_plain_encoded_and_hashed_values() {
        let f = with(
            "http://h/p?imei=356938035643809&x=1",
            "356938035643809",
            "url",
            &["query:imei"],
        );
        let (a, b) = locate(&f, &f.url).unwrap();
        assert_eq!(&f.url[a..b], "356938035643809");

        let f = with(
            "http://h/p?n=Priya%20Shah",
            "Priya Shah",
            "url",
            &["query:n"],
        );
        let (a, b) = locate(&f, &f.url).unwrap();
        assert_eq!(&f.url[a..b], "Priya%20Shah");

        let f = with(
            "http://h/c.gif?a=1&imei_md5=af2d48f2&z=2",
            "356938035643809",
            "url",
            &["query:imei_md5"],
        );
        let (a, b) = locate(&f, &f.url).unwrap();
        assert_eq!(&f.url[a..b], "af2d48f2");

        let f = with(
            "http://h/v1/dev/af2d48f2/x",
            "356938035643809",
            "url",
            &["path:2"],
        );
        let (a, b) = locate(&f, &f.url).unwrap();
        assert_eq!(&f.url[a..b], "af2d48f2");

        let f = with("http://h/p", "356938035643809", "body", &["json:$.imei"]);
        assert_eq!(locate(&f, &f.url), None);
    }

    #[test]
    fn marks_and_escapes_in_context() {
        let url = format!("http://h/{}?v=<b>&t=1", "x".repeat(1000));
        let a = url.find("<b>").unwrap();
        let html = marked(&url, a, a + 3);
        assert!(html.starts_with('…'));
        assert!(html.contains("<mark>&lt;b&gt;</mark>&amp;t=1"));
        assert!(html.chars().count() < 400);
        let url = "http://h/é?v=1";
        assert_eq!(marked(url, 9, 11), "http://h/<mark>é</mark>?v=1");
    }
}
