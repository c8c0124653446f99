//! How a field's values across runs become a class. The rules are listed in the crate docs and
//! in `docs/diff.md`; keep the three in step.

use crate::collect::RunStats;
use std::fmt;

/// What a field's values do across runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// The same value in every message of every run.
    Constant,
    /// Stable within each run, different between runs (device, SIM, reset): an identifier.
    Identity,
    /// Different in most messages (clock readings, counters, nonces, signatures).
    Volatile,
    /// Present (non-empty) in some runs, absent, empty or null in the others.
    OneRunOnly,
    /// Changes within a run, but its values repeat (an event name, a network type).
    Varies,
    /// Different between runs, but no run sent it twice: identity or per-message value cannot be
    /// told apart (and the value does not read as a clock).
    Differs,
}

impl Class {
    /// The name used in JSON (`one_run_only`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Identity => "identity",
            Self::Volatile => "volatile",
            Self::OneRunOnly => "one_run_only",
            Self::Varies => "varies",
            Self::Differs => "differs",
        }
    }

    /// The name a table shows (`one run only`).
    pub fn label(self) -> &'static str {
        match self {
            Self::OneRunOnly => "one run only",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure a class is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Direct evidence (repeats within runs, presence in a request sent in every run).
    High,
    /// Some evidence (one run with repeats, a clock reading sent once per run).
    Medium,
    /// A guess from the value's shape alone.
    Low,
}

impl Confidence {
    /// `high`, `medium` or `low`, as findings say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

/// A class, how sure it is, and why, in one sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub class: Class,
    pub confidence: Confidence,
    pub reason: String,
}

/// Share of integer steps that must increase for a field to be a counter.
const COUNTER_SHARE: f64 = 0.9;
/// Share of distinct values among the messages of runs that sent a field twice or more above which
/// a changing field is volatile rather than varying.
const VOLATILE_SHARE: f64 = 0.5;

/// The class of one field of one endpoint; `None` when no run sent it non-empty.
/// `messages[r]` is the endpoint's request count in run `r`, `stats[r]` the field's statistics.
pub(crate) fn classify(names: &[String], messages: &[u64], stats: &[RunStats]) -> Option<Verdict> {
    let present: Vec<usize> = (0..stats.len()).filter(|&r| stats[r].present > 0).collect();
    if present.is_empty() {
        return None;
    }
    let name = |r: usize| names.get(r).map_or("?", String::as_str);
    if present.len() < stats.len() {
        let endpoint_everywhere = messages.iter().all(|&m| m > 0);
        let mut parts = Vec::new();
        for (r, s) in stats.iter().enumerate() {
            let m = messages.get(r).copied().unwrap_or(0);
            if s.present > 0 {
                parts.push(format!(
                    "present in {} ({} of {m} requests)",
                    name(r),
                    s.present
                ));
            } else if m > 0 {
                parts.push(format!("absent or empty in {} ({m} requests)", name(r)));
            } else {
                parts.push(format!("endpoint not requested in {}", name(r)));
            }
        }
        return Some(Verdict {
            class: Class::OneRunOnly,
            confidence: if endpoint_everywhere {
                Confidence::High
            } else {
                Confidence::Medium
            },
            reason: parts.join("; "),
        });
    }
    let total_present: u64 = stats.iter().map(|s| u64::from(s.present)).sum();
    let all_clock = stats.iter().all(|s| s.clock == s.present);
    let changes: u64 = stats.iter().map(|s| u64::from(s.changes)).sum();
    if changes > 0 {
        let multi: Vec<&RunStats> = stats.iter().filter(|s| s.present >= 2).collect();
        let steps: u64 = multi.iter().map(|s| u64::from(s.present - 1)).sum();
        let increasing: u64 = multi.iter().map(|s| u64::from(s.increasing)).sum();
        let all_int = stats.iter().all(|s| s.ints == s.present);
        let multi_present: u64 = multi.iter().map(|s| u64::from(s.present)).sum();
        let multi_distinct: u64 = multi
            .iter()
            .map(|s| {
                let d = s.distinct_count() as u64;
                if s.overflow {
                    d.max(u64::from(s.changes) + 1).min(u64::from(s.present))
                } else {
                    d
                }
            })
            .sum();
        let share = multi_distinct as f64 / multi_present.max(1) as f64;
        let shared = values_shared(stats);
        let (confidence, reason) = if all_clock {
            (
                Confidence::High,
                format!("clock readings: changes {changes} times within runs, every value near its message's time"),
            )
        } else if all_int && steps > 0 && increasing as f64 >= COUNTER_SHARE * steps as f64 {
            (
                Confidence::High,
                format!("counter: increases {increasing} times in {steps} steps within runs"),
            )
        } else if share > VOLATILE_SHARE && !shared {
            (
                Confidence::High,
                format!(
                    "{multi_distinct} distinct values in {multi_present} requests of runs that sent it twice or more; no value seen in two runs"
                ),
            )
        } else {
            return Some(Verdict {
                class: Class::Varies,
                confidence: Confidence::Medium,
                reason: format!(
                    "changes {changes} times within runs, but values repeat ({multi_distinct} distinct in {multi_present} requests{})",
                    if shared { "; some in several runs" } else { "" }
                ),
            });
        };
        return Some(Verdict {
            class: Class::Volatile,
            confidence,
            reason,
        });
    }
    // No run changed it: one value per run.
    let first = stats
        .iter()
        .map(|s| s.distinct.first().copied())
        .collect::<Vec<_>>();
    if first.windows(2).all(|w| w[0] == w[1]) {
        return Some(Verdict {
            class: Class::Constant,
            confidence: Confidence::High,
            reason: format!("the same value in every run ({total_present} requests)"),
        });
    }
    let differing = "one value per run, different between runs";
    if all_clock {
        let spaced: u32 = stats.iter().map(|s| s.spaced_repeats).sum();
        if spaced == 0 {
            return Some(Verdict {
                class: Class::Volatile,
                confidence: Confidence::Medium,
                reason: format!(
                    "clock readings near their messages' times; {differing}, never repeated 2 s or more apart"
                ),
            });
        }
    }
    let repeating = stats
        .iter()
        .filter(|s| {
            if all_clock {
                s.spaced_repeats > 0
            } else {
                s.repeats > 0
            }
        })
        .count();
    match repeating {
        0 => Some(Verdict {
            class: Class::Differs,
            confidence: Confidence::Low,
            reason: format!(
                "{differing}; sent once per run, so a per-message value cannot be ruled out"
            ),
        }),
        n => Some(Verdict {
            class: Class::Identity,
            confidence: if n >= 2 {
                Confidence::High
            } else {
                Confidence::Medium
            },
            reason: format!(
                "stable within each run ({total_present} requests, repeated in {n} of {} runs), different between runs",
                stats.len()
            ),
        }),
    }
}

/// Whether some value hash was kept in two runs.
fn values_shared(stats: &[RunStats]) -> bool {
    stats.iter().enumerate().any(|(i, a)| {
        stats.iter().skip(i + 1).any(|b| {
            a.distinct
                .iter()
                .any(|h| b.distinct.binary_search(h).is_ok())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::{stats_of, RunStats};

    /// 2026-11-24T10:00:00Z.
    const T: i64 = 1_795_514_400;

    fn names() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    fn class(a: RunStats, b: RunStats) -> Verdict {
        let messages = [u64::from(a.present.max(1)), u64::from(b.present.max(1))];
        classify(&names(), &messages, &[a, b]).unwrap()
    }

    #[test]
    fn many_messages() {
        let id = class(
            stats_of(&[("dev-a-1234", T), ("dev-a-1234", T + 60)]),
            stats_of(&[("dev-b-5678", T + 9000), ("dev-b-5678", T + 9060)]),
        );
        assert_eq!(
            (id.class, id.confidence),
            (Class::Identity, Confidence::High)
        );
        let half = class(
            stats_of(&[("dev-a-1234", T)]),
            stats_of(&[("dev-b-5678", T + 9000), ("dev-b-5678", T + 9060)]),
        );
        assert_eq!(
            (half.class, half.confidence),
            (Class::Identity, Confidence::Medium)
        );
        let nonce = class(
            stats_of(&[("9f8e7d6c", T), ("1a2b3c4d", T + 60)]),
            stats_of(&[("5e6f7a8b", T + 9000), ("c0d1e2f3", T + 9060)]),
        );
        assert_eq!(nonce.class, Class::Volatile);
        let counter = class(
            stats_of(&[("7", T), ("8", T + 1), ("9", T + 2)]),
            stats_of(&[("7", T + 9000), ("8", T + 9001)]),
        );
        assert_eq!(counter.class, Class::Volatile, "{}", counter.reason);
        assert!(counter.reason.starts_with("counter"));
        let event = class(
            stats_of(&[
                ("open", T),
                ("close", T + 60),
                ("open", T + 120),
                ("open", T + 180),
            ]),
            stats_of(&[("open", T + 9000), ("close", T + 9060)]),
        );
        assert_eq!(event.class, Class::Varies, "{}", event.reason);
        let constant = class(
            stats_of(&[("5.2.1", T), ("5.2.1", T + 60)]),
            stats_of(&[("5.2.1", T + 9000)]),
        );
        assert_eq!(constant.class, Class::Constant);
    }

    #[test]
    fn one_message_per_run() {
        // A clock reading sent once per run: volatile, with less confidence.
        let clock = class(
            stats_of(&[("1795514401", T)]),
            stats_of(&[("1795523401", T + 9000)]),
        );
        assert_eq!(
            (clock.class, clock.confidence),
            (Class::Volatile, Confidence::Medium)
        );
        // Two seconds-clock readings in the same second repeat, but prove nothing.
        let same_second = class(
            stats_of(&[("1795514401", T), ("1795514401", T)]),
            stats_of(&[("1795523401", T + 9000)]),
        );
        assert_eq!(same_second.class, Class::Volatile);
        // A fixed time (install time) repeated minutes apart is an identity.
        let install = class(
            stats_of(&[("1795510000", T), ("1795510000", T + 300)]),
            stats_of(&[("1795500000", T + 9000), ("1795500000", T + 9300)]),
        );
        assert_eq!(install.class, Class::Identity, "{}", install.reason);
        // Anything else sent once per run that differs: undecided.
        let once = class(
            stats_of(&[("dev-a-1234", T)]),
            stats_of(&[("dev-b-5678", T)]),
        );
        assert_eq!(
            (once.class, once.confidence),
            (Class::Differs, Confidence::Low)
        );
    }

    #[test]
    fn presence() {
        let v = classify(
            &names(),
            &[3, 2],
            &[stats_of(&[("+447700900123", T)]), RunStats::default()],
        )
        .unwrap();
        assert_eq!(
            (v.class, v.confidence),
            (Class::OneRunOnly, Confidence::High)
        );
        assert_eq!(
            v.reason,
            "present in a (1 of 3 requests); absent or empty in b (2 requests)"
        );
        let v = classify(
            &names(),
            &[3, 0],
            &[stats_of(&[("x1234567", T)]), RunStats::default()],
        )
        .unwrap();
        assert_eq!(
            (v.class, v.confidence),
            (Class::OneRunOnly, Confidence::Medium)
        );
        assert!(v.reason.ends_with("endpoint not requested in b"));
        assert!(classify(
            &names(),
            &[1, 1],
            &[RunStats::default(), RunStats::default()]
        )
        .is_none());
    }
}
