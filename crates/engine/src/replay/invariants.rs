//! Facts every replayed allocation must satisfy, checked on a [`Trace`] and its
//! [`Replay`]: a parser that misreads a message (an older regalloc2 release, a
//! new one) shows up here as a broken invariant rather than as a silently wrong
//! picture.
//!
//! - No two bundles allocated to the same register overlap (at evenly spaced
//!   steps and at the end).
//! - A split's parent before the step covers exactly the program points of the
//!   parent after it, its new children and what went to spill bundles.
//! - When the allocation finished: every bundle holding ranges ends allocated,
//!   spilled or in a spill bundle; and when regalloc2 dumped its final state
//!   (0.12 and later), the replay's last state is that state.
//!
//! A trace that stops early (budget, deadline, truncated log) makes no claims
//! about the end.

use std::collections::HashMap;
use std::fmt;

use crate::replay::{Replay, State, Status};
use crate::trace::{BundleId, Event, Outcome, PReg, Point, Seg, Trace};

/// Which invariant is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Invariant {
    /// Two bundles hold the same register at the same program point.
    Overlap,
    /// A split lost or invented program points.
    SplitCoverage,
    /// A bundle with ranges is neither allocated nor spilled at the end.
    Unplaced,
    /// The replay's last state differs from regalloc2's final dump.
    FinalState,
}

impl Invariant {
    /// What broke, in a few words.
    pub fn text(self) -> &'static str {
        match self {
            Invariant::Overlap => "two bundles in one register",
            Invariant::SplitCoverage => "a split lost or invented program points",
            Invariant::Unplaced => "a bundle neither allocated nor spilled",
            Invariant::FinalState => "the last state differs from regalloc2's final dump",
        }
    }
}

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Violation {
    pub invariant: Invariant,
    /// Steps applied when it was seen.
    pub after_steps: usize,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} after {} steps: {}",
            self.invariant.text(),
            self.after_steps,
            self.detail
        )
    }
}

/// At most this many violations of each invariant are reported (a misparse
/// breaks many).
const MAX_EACH: usize = 20;
/// At most this many states are checked for overlaps, evenly spaced.
const OVERLAP_CHECKS: usize = 200;

/// Every broken invariant of `trace` as `replay` rebuilds it (empty: all hold).
pub fn check(trace: &Trace, replay: &Replay) -> Vec<Violation> {
    let mut out = Report::default();
    let n = replay.len();
    let every = n.div_ceil(OVERLAP_CHECKS).max(1);
    let mut state = replay.initial().clone();
    for (i, step) in replay.steps().iter().enumerate() {
        if out.full(Invariant::SplitCoverage) && out.full(Invariant::Overlap) {
            break;
        }
        let before = state.clone();
        replay.seek(&mut state, i + 1);
        if let Outcome::Split { children, .. } = &step.outcome {
            split_coverage(
                step.bundle,
                children,
                &step.events,
                &before,
                &state,
                &mut out,
            );
        }
        if (i + 1) % every == 0 || i + 1 == n {
            overlaps(&state, &mut out);
        }
    }
    if state.applied < n {
        replay.seek(&mut state, n);
    }
    if trace.finished && trace.stopped.is_none() {
        unplaced(&state, &mut out);
        if let Some(dump) = &trace.final_state {
            final_state(dump, &state, &mut out);
        }
    }
    out.found
}

/// Violations found so far, the first [`MAX_EACH`] of each kind.
#[derive(Default)]
struct Report {
    found: Vec<Violation>,
    counts: HashMap<Invariant, usize>,
}

impl Report {
    fn full(&self, kind: Invariant) -> bool {
        self.counts.get(&kind).is_some_and(|&n| n >= MAX_EACH)
    }

    fn push(&mut self, v: Violation) {
        let n = self.counts.entry(v.invariant).or_default();
        *n += 1;
        if *n <= MAX_EACH {
            self.found.push(v);
        }
    }
}

/// Program points `[from, to)` of `segs`, merged and sorted.
fn points(segs: impl IntoIterator<Item = Seg>) -> Vec<(Point, Point)> {
    crate::trace::covered_points(segs)
}

fn text(points: &[(Point, Point)]) -> String {
    points
        .iter()
        .map(|(a, b)| format!("[{}, {})", a.text(), b.text()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn segs_of(state: &State, b: BundleId) -> Vec<Seg> {
    state.segs(b).to_vec()
}

fn split_coverage(
    parent: BundleId,
    children: &[BundleId],
    events: &[Event],
    before: &State,
    after: &State,
    out: &mut Report,
) {
    let family = |b: BundleId| b == parent || children.contains(&b);
    let spilled: Vec<Seg> = events
        .iter()
        .filter_map(|e| match e {
            Event::ToSpillBundle { bundle, seg, .. } if family(*bundle) => Some(*seg),
            _ => None,
        })
        .collect();
    let kept: Vec<Seg> = std::iter::once(parent)
        .chain(children.iter().copied())
        .flat_map(|b| segs_of(after, b))
        .collect();
    let was = points(segs_of(before, parent));
    let now = points(kept.iter().copied().chain(spilled));
    // The pieces may overlap (a minimal split's spill range spans its uses'
    // minimal ranges) but must cover the parent exactly, and what stays in
    // bundles must lie inside it.
    let kept = points(kept);
    let inside = kept
        .iter()
        .all(|&(a, b)| was.iter().any(|&(x, y)| x <= a && b <= y));
    if was != now || !inside {
        out.push(Violation {
            invariant: Invariant::SplitCoverage,
            after_steps: after.applied,
            detail: format!(
                "bundle {parent} covered {} before the split; parent, children {children:?} \
                 and spill bundles cover {} after",
                text(&was),
                text(&now)
            ),
        });
    }
}

fn overlaps(state: &State, out: &mut Report) {
    let mut by_preg: HashMap<PReg, Vec<(Point, Point, usize)>> = HashMap::new();
    for (i, b) in state.bundles.iter().enumerate() {
        if let Status::Allocated(p) = b.status {
            let list = by_preg.entry(p).or_default();
            list.extend(state.segs(i as BundleId).iter().map(|s| (s.from, s.to, i)));
        }
    }
    let mut pregs: Vec<_> = by_preg.into_iter().collect();
    pregs.sort_by_key(|(p, _)| p.index());
    for (preg, mut segs) in pregs {
        segs.sort();
        for w in segs.windows(2) {
            let ((_, a_to, a), (b_from, _, b)) =
                ((w[0].0, w[0].1, w[0].2), (w[1].0, w[1].1, w[1].2));
            if a != b && b_from < a_to {
                out.push(Violation {
                    invariant: Invariant::Overlap,
                    after_steps: state.applied,
                    detail: format!(
                        "bundles {a} and {b} both hold {} at {}",
                        preg.text(),
                        b_from.text()
                    ),
                });
            }
        }
    }
}

fn unplaced(state: &State, out: &mut Report) {
    for (i, b) in state.bundles.iter().enumerate() {
        let segs = state.segs(i as BundleId);
        if segs.is_empty() {
            continue;
        }
        if !matches!(
            b.status,
            Status::Allocated(_) | Status::Spilled(_) | Status::SpillBundle
        ) {
            out.push(Violation {
                invariant: Invariant::Unplaced,
                after_steps: state.applied,
                detail: format!(
                    "bundle {i} holds {} but ends {}",
                    text(&points(segs.iter().copied())),
                    b.status.name()
                ),
            });
        }
    }
}

/// Same live ranges in every bundle, same register for every allocated one,
/// as regalloc2's own dump after allocation.
fn final_state(dump: &crate::trace::StateDump, last: &State, out: &mut Report) {
    for (i, b) in dump.bundles.iter().enumerate() {
        let ours = last.bundles.get(i);
        let mut want: Vec<_> = b.segs.iter().map(|s| (s.from, s.to)).collect();
        let mut got: Vec<_> = last
            .segs(i as BundleId)
            .iter()
            .map(|s| (s.from, s.to))
            .collect();
        want.sort();
        got.sort();
        if got != want {
            out.push(Violation {
                invariant: Invariant::FinalState,
                after_steps: last.applied,
                detail: format!(
                    "bundle {i}: ranges {} in the replay, {} in regalloc2's dump",
                    text(&got),
                    text(&want)
                ),
            });
        }
        let alloc = match ours.map(|o| o.status) {
            Some(Status::Allocated(p)) => p.text(),
            _ => "none".to_string(),
        };
        if alloc != b.alloc {
            out.push(Violation {
                invariant: Invariant::FinalState,
                after_steps: last.applied,
                detail: format!(
                    "bundle {i}: {alloc} in the replay, {} in regalloc2's dump",
                    b.alloc
                ),
            });
        }
    }
}
