//! SVG charts drawn for the HTML report: horizontal bar charts and a timeline. Every label passes
//! [`escape_html`]; geometry is computed here, so nothing from traffic reaches an attribute
//! other than as a number.

use crate::escape::{clip, escape_html as esc};
use phonehome_model::Timestamp;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Width of every chart, in SVG units.
const WIDTH: u32 = 720;
/// Where bars start (labels are right-aligned before it).
const LABEL_W: u32 = 260;
/// Room kept right of the longest bar for its number.
const VALUE_W: u32 = 70;
/// Height of one bar row.
const ROW_H: u32 = 20;
/// Longest label drawn, in characters.
const MAX_LABEL: usize = 32;
/// Most bars in one chart; the rest are summed into one "others" bar.
pub(crate) const MAX_BARS: usize = 30;

/// One bar: a label, a value and whether it is watched (drawn in the warning colour).
pub(crate) struct Bar {
    /// The label (escaped when drawn).
    pub label: String,
    /// The value.
    pub value: u64,
    /// Drawn highlighted.
    pub watched: bool,
}

/// A horizontal bar chart of `bars` (already in display order), with at most [`MAX_BARS`] bars:
/// the rest become one `N others` bar, so the chart always covers every value.
pub(crate) fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let mut shown: Vec<(&str, u64, bool)> = bars
        .iter()
        .take(MAX_BARS)
        .map(|b| (b.label.as_str(), b.value, b.watched))
        .collect();
    let rest = bars.get(MAX_BARS..).unwrap_or(&[]);
    let others;
    if !rest.is_empty() {
        others = format!("{} others", rest.len());
        let sum = rest.iter().map(|b| b.value).fold(0u64, u64::saturating_add);
        shown.push((&others, sum, rest.iter().any(|b| b.watched)));
    }
    let max = shown.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let height = ROW_H * shown.len() as u32 + 8;
    let plot = WIDTH - LABEL_W - VALUE_W;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        esc(title)
    );
    for (i, (label, value, watched)) in shown.iter().enumerate() {
        let y = 4 + ROW_H * i as u32;
        // Proportional, at least 1 unit for any non-zero value.
        let w = if *value == 0 {
            0
        } else {
            ((u128::from(*value) * u128::from(plot)) / u128::from(max)).max(1) as u32
        };
        let _ = write!(
            s,
            "<g class=\"bar{}\"><title>{}: {value}</title><text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{LABEL_W}\" y=\"{}\" width=\"{w}\" height=\"{}\"></rect><text class=\"val\" x=\"{}\" y=\"{}\">{value}</text></g>",
            if *watched { " watch" } else { "" },
            esc(label),
            LABEL_W - 6,
            y + 14,
            esc(&clip(label, MAX_LABEL)),
            y + 3,
            ROW_H - 6,
            LABEL_W + w + 4,
            y + 14,
        );
    }
    s.push_str("</svg>");
    s
}

/// Most buckets kept by [`FlowTimes`]; past it, buckets are merged in pairs.
const MAX_BUCKETS: usize = 512;

/// Flow start times counted in buckets whose width doubles whenever there are too many, so
/// memory stays bounded however long the capture.
#[derive(Debug)]
pub(crate) struct FlowTimes {
    /// Bucket width in nanoseconds.
    width: i128,
    /// Bucket index (start time / width, rounded down) → [inspected, not inspected].
    buckets: BTreeMap<i128, [u64; 2]>,
}

impl Default for FlowTimes {
    fn default() -> Self {
        Self {
            width: 1_000_000_000,
            buckets: BTreeMap::new(),
        }
    }
}

impl FlowTimes {
    /// Counts one flow starting at `t`.
    pub fn add(&mut self, t: Timestamp, inspected: bool) {
        let k = t.unix_nanos().div_euclid(self.width);
        self.buckets.entry(k).or_default()[usize::from(!inspected)] += 1;
        while self.buckets.len() > MAX_BUCKETS {
            self.width = self.width.saturating_mul(2);
            let old = std::mem::take(&mut self.buckets);
            for (k, [a, b]) in old {
                let e = self.buckets.entry(k.div_euclid(2)).or_default();
                e[0] += a;
                e[1] += b;
            }
        }
    }

    /// The first and last instants covered, when any flow had a time.
    pub fn range(&self) -> Option<(i128, i128)> {
        let first = self.buckets.keys().next()?;
        let last = self.buckets.keys().next_back()?;
        Some((
            first.saturating_mul(self.width),
            (last + 1).saturating_mul(self.width),
        ))
    }

    /// Every bucket as (middle instant, inspected, not inspected).
    fn points(&self) -> impl Iterator<Item = (i128, u64, u64)> + '_ {
        self.buckets
            .iter()
            .map(|(k, [a, b])| (k.saturating_mul(self.width) + self.width / 2, *a, *b))
    }
}

/// One receiver's row in the timeline: its label, whether watched, and its findings' times
/// (first and last occurrence of each, in Unix nanoseconds) with their counts.
pub(crate) struct TimelineRow {
    /// The receiver's label.
    pub label: String,
    /// Drawn highlighted.
    pub watched: bool,
    /// (first, last, occurrences) of each finding with a time.
    pub spans: Vec<(i128, i128, u64)>,
}

/// Number of columns the timeline is cut into.
const BINS: usize = 60;
/// Height of the flows histogram.
const HIST_H: u32 = 60;

/// A time axis label: the time of day when the whole range is within one day, else the date and
/// the hour and minute.
fn time_label(t: i128, within_a_day: bool) -> String {
    let s = Timestamp::from_unix_nanos(t).to_rfc3339();
    match (within_a_day, s.get(5..10), s.get(11..16), s.get(11..19)) {
        (true, _, _, Some(hms)) => hms.to_owned(),
        (false, Some(md), Some(hm), _) => format!("{md} {hm}"),
        _ => s,
    }
}

/// A timeline: flows started per time slice (inspected and not, stacked) above one row per
/// receiver marking when its findings were seen. `None` when nothing has a time.
pub(crate) fn timeline(flows: &FlowTimes, rows: &[TimelineRow]) -> Option<String> {
    let mut lo = i128::MAX;
    let mut hi = i128::MIN;
    if let Some((a, b)) = flows.range() {
        lo = lo.min(a);
        hi = hi.max(b);
    }
    for r in rows {
        for &(a, b, _) in &r.spans {
            lo = lo.min(a.min(b));
            hi = hi.max(a.max(b));
        }
    }
    if lo > hi {
        return None;
    }
    let span = (hi - lo).max(1);
    let plot = WIDTH - LABEL_W - 20;
    let bin_of = |t: i128| -> usize {
        let b = ((t - lo).clamp(0, span) * BINS as i128) / span;
        (b as usize).min(BINS - 1)
    };
    let x_of =
        |t: i128| -> u32 { LABEL_W + (((t - lo).clamp(0, span) * i128::from(plot)) / span) as u32 };
    let bin_w = plot / BINS as u32;

    let mut hist = [[0u64; 2]; BINS];
    let mut any_flow = false;
    for (t, a, b) in flows.points() {
        let i = bin_of(t);
        hist[i][0] += a;
        hist[i][1] += b;
        any_flow = true;
    }
    let hist_max = hist.iter().map(|[a, b]| a + b).max().unwrap_or(0).max(1);
    let hist_h = if any_flow { HIST_H + 10 } else { 0 };
    let top = hist_h + 4;
    let height = top + ROW_H * rows.len() as u32 + 34;

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"Timeline\">"
    );
    if any_flow {
        let _ = write!(
            s,
            "<text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"end\">flows started</text>",
            LABEL_W - 6,
            HIST_H / 2 + 4
        );
        for (i, [a, b]) in hist.iter().enumerate() {
            if a + b == 0 {
                continue;
            }
            let x = LABEL_W + bin_w * i as u32;
            let ha = ((u128::from(*a) * u128::from(HIST_H)) / u128::from(hist_max)) as u32;
            let hb = ((u128::from(*b) * u128::from(HIST_H)) / u128::from(hist_max)) as u32;
            let _ = write!(
                s,
                "<g class=\"hist\"><title>{a} inspected, {b} not inspected</title>"
            );
            if *a > 0 {
                let _ = write!(
                    s,
                    "<rect class=\"ins\" x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{}\"></rect>",
                    HIST_H - ha,
                    bin_w.saturating_sub(1).max(1),
                    ha.max(1)
                );
            }
            if *b > 0 {
                let _ = write!(
                    s,
                    "<rect class=\"notins\" x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{}\"></rect>",
                    HIST_H.saturating_sub(ha + hb),
                    bin_w.saturating_sub(1).max(1),
                    hb.max(1)
                );
            }
            s.push_str("</g>");
        }
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + ROW_H * i as u32;
        let mid = y + ROW_H / 2;
        let cls = if r.watched { " watch" } else { "" };
        let _ = write!(
            s,
            "<g class=\"row{cls}\"><title>{}</title><text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            esc(&r.label),
            LABEL_W - 6,
            mid + 4,
            esc(&clip(&r.label, MAX_LABEL)),
        );
        let first = r.spans.iter().map(|s| s.0.min(s.1)).min();
        let last = r.spans.iter().map(|s| s.0.max(s.1)).max();
        if let (Some(a), Some(b)) = (first, last) {
            let _ = write!(
                s,
                "<line class=\"span\" x1=\"{}\" y1=\"{mid}\" x2=\"{}\" y2=\"{mid}\"></line>",
                x_of(a),
                x_of(b).max(x_of(a) + 1)
            );
        }
        // Occurrences per column, first and last times alike.
        let mut per_bin = [0u64; BINS];
        for &(a, b, n) in &r.spans {
            per_bin[bin_of(a)] = per_bin[bin_of(a)].saturating_add(n.max(1));
            if bin_of(b) != bin_of(a) {
                per_bin[bin_of(b)] = per_bin[bin_of(b)].saturating_add(1);
            }
        }
        for (bi, n) in per_bin.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let radius = (2 + (64 - n.leading_zeros()) / 2).min(7);
            let _ = write!(
                s,
                "<circle class=\"dot\" cx=\"{}\" cy=\"{mid}\" r=\"{radius}\"></circle>",
                LABEL_W + bin_w * bi as u32 + bin_w / 2
            );
        }
        s.push_str("</g>");
    }
    // Axis with five ticks.
    let axis_y = top + ROW_H * rows.len() as u32 + 6;
    let _ = write!(
        s,
        "<g class=\"axis\"><line x1=\"{LABEL_W}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\"></line>",
        LABEL_W + plot
    );
    let one_day = span < 86_400 * 1_000_000_000;
    // The date (UTC) of the start, left of the axis.
    let start = Timestamp::from_unix_nanos(lo).to_rfc3339();
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} UTC</text>",
        LABEL_W - 6,
        axis_y + 18,
        esc(start.get(0..10).unwrap_or(""))
    );
    for q in 0..=4u32 {
        let t = lo + span * i128::from(q) / 4;
        let x = LABEL_W + plot * q / 4;
        let anchor = match q {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            s,
            "<line x1=\"{x}\" y1=\"{axis_y}\" x2=\"{x}\" y2=\"{}\"></line><text x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            axis_y + 4,
            axis_y + 18,
            esc(&time_label(t, one_day))
        );
    }
    s.push_str("</g></svg>");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_chart_caps_bars_and_sums_the_rest() {
        let bars: Vec<Bar> = (0..40)
            .map(|i| Bar {
                label: format!("org{i} <x>"),
                value: 100 - i,
                watched: i == 3,
            })
            .collect();
        let svg = bar_chart("By organisation", &bars);
        assert_eq!(svg.matches("<rect").count(), MAX_BARS + 1);
        assert!(svg.contains("10 others"));
        // The others: 70 + 69 + … + 61.
        assert!(svg.contains(">655</text>"), "{svg}");
        assert!(svg.contains("org0 &lt;x&gt;"));
        assert!(!svg.contains("<x>"));
        assert_eq!(svg.matches("class=\"bar watch\"").count(), 1);
    }

    #[test]
    fn flow_times_stay_bounded_and_keep_every_count() {
        let mut t = FlowTimes::default();
        for i in 0..10_000i64 {
            t.add(
                Timestamp::from_secs_nanos(1_700_000_000 + i * 37, 0),
                i % 3 == 0,
            );
        }
        assert!(t.buckets.len() <= MAX_BUCKETS);
        let total: u64 = t.points().map(|(_, a, b)| a + b).sum();
        assert_eq!(total, 10_000);
        let (lo, hi) = t.range().unwrap();
        assert!(lo <= 1_700_000_000 * 1_000_000_000);
        assert!(hi >= (1_700_000_000 + 9_999 * 37) * 1_000_000_000);
    }

    #[test]
    fn timeline_draws_flows_and_rows() {
        let mut t = FlowTimes::default();
        t.add(Timestamp::from_secs_nanos(1_700_000_000, 0), true);
        t.add(Timestamp::from_secs_nanos(1_700_000_100, 0), false);
        let rows = vec![TimelineRow {
            label: "Xiaomi (CN)".into(),
            watched: true,
            spans: vec![(
                1_700_000_010 * 1_000_000_000,
                1_700_000_090 * 1_000_000_000,
                3,
            )],
        }];
        let svg = timeline(&t, &rows).unwrap();
        assert!(svg.contains("class=\"ins\"") && svg.contains("class=\"notins\""));
        assert!(svg.contains("class=\"row watch\""));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(">2023-11-14 UTC<"), "{svg}");
        assert!(
            svg.contains(">22:13:20<") && svg.contains(">22:15:01<"),
            "{svg}"
        );
        assert!(timeline(&FlowTimes::default(), &[]).is_none());
    }
}
