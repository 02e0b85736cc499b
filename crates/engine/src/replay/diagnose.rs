//! Loop detection over a trace: does this allocation look like it never ends,
//! and if so, which bundle, vreg and range loop, from which step.
//!
//! Three signs, checked in this order:
//! 1. A split chain that makes no progress: a bundle is split and a child
//!    covers exactly the parent's program points, then that child is split the
//!    same way, and so on. This is regalloc2 0.11.3's bug (issues #218/#219):
//!    the "minimal bundle" predicate and `split_into_minimal_bundles` disagreed,
//!    so a bundle was split into a copy of itself forever.
//! 2. The same live ranges (same vregs, same program points) processed again
//!    and again, under one bundle id or a succession of them.
//! 3. A queue that only grows: over the last part of a stopped trace nothing is
//!    allocated while the queue keeps gaining bundles.
//!
//! A trace that ran to the end terminated by definition, so only a stopped or
//! truncated trace is called looping; for a finished one the description still
//! reports the strongest sign seen, if any.

use std::collections::HashMap;
use std::path::Path;

use crate::capture::CaptureStop;
use crate::error::EngineResult;
use crate::trace::import::{ImportedLog, import_log_observed};
use crate::trace::{
    BundleId, BundleRanges, Event, Outcome, Point, RangeId, Seg, StateDump, Step, StepObserver,
    Trace, VRegId, covered_points, vregs_in,
};

/// The verdict on one trace, in words and as data.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Diagnosis {
    /// True when the trace shows a cycle that would not end by itself.
    pub looping: bool,
    /// The bundle where the cycle starts.
    pub bundle: Option<BundleId>,
    /// The vreg whose ranges the cycle keeps processing (the one whose range
    /// starts first, when the bundle holds several).
    pub vreg: Option<VRegId>,
    /// Every vreg in the looping bundle.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vregs: Vec<VRegId>,
    /// The first step of the cycle, counted from 1 as the step list and the
    /// app count them (step k is the k-th step).
    pub from_step: Option<usize>,
    /// What was found, in words.
    pub description: String,
    /// The program points the cycle keeps covering, as `[from, to)` text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// Which sign was found: `no_progress_split`, `repeated_ranges`, `growing_queue`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sign: Option<Sign>,
    /// The steps (counted from 1) that make up the detected cycle.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cycle_steps: Vec<usize>,
    /// The bundles in the detected cycle, for highlighting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cycle_bundles: Vec<BundleId>,
}

/// Which sign of a loop was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    /// A split chain whose children cover exactly their parent's points.
    NoProgressSplit,
    /// The same live ranges processed again and again.
    RepeatedRanges,
    /// A queue that only grows while nothing is allocated.
    GrowingQueue,
}

/// How many no-progress splits in one chain make a loop.
const MIN_CHAIN: usize = 3;
/// How many times the same ranges must be processed to count as repeating.
const MIN_REPEATS: usize = 8;
/// At most this many cycle steps are kept for highlighting.
const MAX_CYCLE_STEPS: usize = 10_000;

/// The program points a bundle covers, merged: the identity of its work,
/// independent of bundle and range ids (a split makes new ids for the same points).
fn coverage(segs: &[Seg]) -> Vec<(Point, Point)> {
    covered_points(segs.iter().copied())
}

fn coverage_text(c: &[(Point, Point)]) -> String {
    let parts: Vec<String> = c
        .iter()
        .take(4)
        .map(|(f, t)| format!("[{}, {})", f.text(), t.text()))
        .collect();
    let more = if c.len() > 4 {
        format!(" and {} more", c.len() - 4)
    } else {
        String::new()
    };
    format!("{}{more}", parts.join(" "))
}

/// What a bundle's work is, independent of ids: its coverage and vreg.
type WorkKey = (Vec<(Point, Point)>, Option<VRegId>);

/// A split child that covers exactly its parent's program points.
#[derive(Clone, Copy)]
struct NoProgress {
    step: usize,
    parent: BundleId,
    child: BundleId,
}

/// A no-progress split chain this long stops a live capture.
pub const LIVE_CHAIN: usize = 12;
/// The same work processed this often stops a live capture.
pub const LIVE_REPEATS: usize = 256;

/// The detector fed one step at a time: by [`diagnose`] after the fact, and by
/// a live capture as each step completes, so a loop can stop the allocation
/// long before its budget runs out.
#[derive(Default)]
pub struct LoopDetector {
    ranges: BundleRanges,
    /// Sign 1: the chain each no-progress child belongs to.
    chain_of: HashMap<BundleId, usize>,
    chains: Vec<Vec<NoProgress>>,
    no_progress_total: usize,
    longest_chain: usize,
    /// Sign 2: times each piece of work was processed, with its first step.
    seen: HashMap<WorkKey, (usize, usize)>,
    repeated: Option<WorkKey>,
    most_repeats: usize,
    /// Sign 3: the queue length after each step, and the last allocation.
    queue: i64,
    queue_at: Vec<i64>,
    last_allocated: Option<usize>,
}

impl LoopDetector {
    /// Starts from regalloc2's initial state dump and queue.
    pub fn new(initial: &StateDump, initial_queue: usize) -> LoopDetector {
        LoopDetector {
            ranges: BundleRanges::from_dump(initial),
            chain_of: HashMap::new(),
            chains: Vec::new(),
            no_progress_total: 0,
            longest_chain: 0,
            seen: HashMap::new(),
            repeated: None,
            most_repeats: 0,
            queue: initial_queue as i64,
            queue_at: Vec::new(),
            last_allocated: None,
        }
    }

    /// Steps observed so far.
    pub fn steps(&self) -> usize {
        self.queue_at.len()
    }

    /// Whether the signs so far are strong enough to stop a live allocation:
    /// a correct allocator never splits without progress this often, nor
    /// comes back to the same work this many times.
    pub fn confirmed(&self) -> bool {
        self.longest_chain >= LIVE_CHAIN || self.most_repeats >= LIVE_REPEATS
    }

    /// Feeds the next step; `vreg_of` names the vreg of a live range.
    pub fn observe(&mut self, step: &Step, vreg_of: impl Fn(RangeId) -> Option<VRegId>) {
        let k = self.queue_at.len();
        let before = self.ranges.covered(step.bundle);
        let vreg = self
            .ranges
            .get(step.bundle)
            .iter()
            .find_map(|s| vreg_of(s.range));
        if !before.is_empty() {
            let entry = self.seen.entry((before.clone(), vreg)).or_insert((k, 0));
            entry.1 += 1;
            self.most_repeats = self.most_repeats.max(entry.1);
            if entry.1 == MIN_REPEATS && self.repeated.is_none() {
                self.repeated = Some((before.clone(), vreg));
            }
        }
        self.queue -= 1;
        let mut children = Vec::new();
        self.ranges.apply(step);
        for e in &step.events {
            match e {
                Event::NewBundle { bundle, parent } => {
                    self.queue += 1;
                    if *parent == step.bundle {
                        children.push(*bundle);
                    }
                }
                Event::Evict { .. } => self.queue += 1,
                _ => {}
            }
        }
        if matches!(step.outcome, Outcome::Allocated { .. }) {
            self.last_allocated = Some(k);
        }
        if let Outcome::Split { children: c, .. } = &step.outcome {
            for child in c {
                if !children.contains(child) {
                    children.push(*child);
                }
            }
        }
        for child in children {
            if before.is_empty() || self.ranges.covered(child) != before {
                continue;
            }
            self.no_progress_total += 1;
            let link = NoProgress {
                step: k,
                parent: step.bundle,
                child,
            };
            let chain = match self.chain_of.get(&step.bundle) {
                Some(&c) => {
                    self.chains[c].push(link);
                    c
                }
                None => {
                    self.chains.push(vec![link]);
                    self.chains.len() - 1
                }
            };
            self.longest_chain = self.longest_chain.max(self.chains[chain].len());
            self.chain_of.insert(child, chain);
        }
        self.queue_at.push(self.queue);
    }

    /// The verdict on `trace`, whose steps were all observed.
    pub fn finish(self, trace: &Trace) -> Diagnosis {
        verdict(self, trace)
    }
}

/// Live detection: the builder shows each completed step to the detector,
/// which asks the capture to stop once [`LoopDetector::confirmed`].
impl StepObserver for LoopDetector {
    fn start(&mut self, initial: &StateDump, initial_queue: &[BundleId]) {
        *self = LoopDetector::new(initial, initial_queue.len());
    }

    fn step(&mut self, step: &Step, vreg_of: &dyn Fn(RangeId) -> Option<VRegId>) -> bool {
        self.observe(step, vreg_of);
        self.confirmed()
    }
}

/// [`import_log_observed`] with a [`LoopDetector`]: reading stops where the
/// detector is sure the allocation loops, as a live capture would, and the
/// trace says so ([`CaptureStop::LoopDetected`]).
pub fn import_log_until_loop(path: &Path, text: &str) -> EngineResult<ImportedLog> {
    let mut log = import_log_observed(path, text, LoopDetector::default())?;
    if log.stats.stopped_by_observer {
        log.trace.stopped = Some(CaptureStop::LoopDetected {
            steps: log.trace.steps.len(),
        });
    }
    Ok(log)
}

/// Looks for the signs of an allocation that does not terminate.
pub fn diagnose(trace: &Trace) -> Diagnosis {
    let mut d = LoopDetector::new(&trace.initial, trace.initial_queue.len());
    for step in &trace.steps {
        d.observe(step, |r| trace.vreg_of_range.get(&r).copied());
    }
    d.finish(trace)
}

fn verdict(d: LoopDetector, trace: &Trace) -> Diagnosis {
    let ended_early = trace.stopped.is_some()
        || trace
            .steps
            .last()
            .is_some_and(|s| matches!(s.outcome, Outcome::Incomplete))
        || !trace.finished;
    let vreg_of = |segs: &[Seg]| -> Option<VRegId> {
        segs.iter()
            .find_map(|s| trace.vreg_of_range.get(&s.range).copied())
    };
    let LoopDetector {
        chains,
        no_progress_total,
        seen,
        repeated,
        queue_at,
        last_allocated,
        ..
    } = d;

    let longest = chains.iter().max_by_key(|c| c.len());
    if let Some(chain) = longest.filter(|c| c.len() >= MIN_CHAIN) {
        let first = chain[0];
        let start_segs = first_segs(trace, first.step, first.parent);
        let cov = coverage(&start_segs);
        let vreg = vreg_of(&start_segs);
        let vregs = vregs_in(&trace.vreg_of_range, &start_segs);
        let others: Vec<String> = vregs
            .iter()
            .filter(|v| Some(**v) != vreg)
            .map(|v| format!("v{v}"))
            .collect();
        let last = chain[chain.len() - 1];
        let looping = ended_early;
        let description = format!(
            "{verdict}bundle {b}{v} is split, and a child covers exactly the same program points {r} \
             as its parent; that child is split the same way, {n} times in a row from step {s} \
             (bundles {b} → {c1} → … → {cn}){tail}",
            verdict = if looping {
                "Loop: "
            } else {
                "No loop (the allocation finished), but "
            },
            b = first.parent,
            v = match (vreg, others.is_empty()) {
                (Some(v), true) => format!(" (v{v})"),
                (Some(v), false) => format!(" (v{v}, with {})", others.join(", ")),
                (None, _) => String::new(),
            },
            r = coverage_text(&cov),
            n = chain.len(),
            s = first.step + 1,
            c1 = first.child,
            cn = last.child,
            tail = if looping {
                ". Splitting never makes the bundle smaller, so the allocation would not end \
                 (the pattern of regalloc2 0.11.3's minimal-bundle split loop, issues #218/#219)."
                    .to_string()
            } else {
                format!(" ({no_progress_total} such splits in all).")
            },
        );
        let mut cycle_bundles: Vec<BundleId> = vec![first.parent];
        cycle_bundles.extend(chain.iter().map(|l| l.child));
        return Diagnosis {
            looping,
            bundle: Some(first.parent),
            vreg,
            vregs,
            from_step: Some(first.step + 1),
            description,
            range: Some(coverage_text(&cov)),
            sign: Some(Sign::NoProgressSplit),
            cycle_steps: chain
                .iter()
                .map(|l| l.step + 1)
                .take(MAX_CYCLE_STEPS)
                .collect(),
            cycle_bundles: cycle_bundles.into_iter().take(MAX_CYCLE_STEPS).collect(),
        };
    }

    if let Some(key) = repeated {
        let (first_step, count) = seen[&key];
        let cycle_steps: Vec<usize> = steps_with_coverage(trace, &key.0)
            .into_iter()
            .take(MAX_CYCLE_STEPS)
            .collect();
        let mut cycle_bundles: Vec<BundleId> =
            cycle_steps.iter().map(|&k| trace.steps[k].bundle).collect();
        cycle_bundles.dedup();
        let bundle = trace.steps[first_step].bundle;
        let looping = ended_early;
        let description = format!(
            "{verdict}the same live ranges {r}{v} were processed {count} times, from step \
             {shown} (bundle {bundle}{others}){tail}",
            shown = first_step + 1,
            verdict = if looping {
                "Loop: "
            } else {
                "No loop (the allocation finished), but "
            },
            r = coverage_text(&key.0),
            v = key.1.map(|v| format!(" of v{v}")).unwrap_or_default(),
            others = if cycle_bundles.len() > 1 {
                format!(" and {} other bundle ids", cycle_bundles.len() - 1)
            } else {
                String::new()
            },
            tail = if looping {
                "; the allocator keeps coming back to the same work."
            } else {
                "."
            },
        );
        return Diagnosis {
            looping,
            bundle: Some(bundle),
            vreg: key.1,
            vregs: key.1.into_iter().collect(),
            from_step: Some(first_step + 1),
            description,
            range: Some(coverage_text(&key.0)),
            sign: Some(Sign::RepeatedRanges),
            cycle_steps: cycle_steps.iter().map(|k| k + 1).collect(),
            cycle_bundles,
        };
    }

    if ended_early && let Some(d) = growing_queue(trace, &queue_at, last_allocated) {
        return d;
    }

    Diagnosis {
        description: if ended_early {
            format!(
                "No loop found in the {} steps before the trace stopped: no split without \
                 progress, no ranges processed {MIN_REPEATS} times, no queue that only grows.",
                trace.steps.len()
            )
        } else {
            format!(
                "No loop: the allocation finished after {} steps.",
                trace.steps.len()
            )
        },
        ..Diagnosis::default()
    }
}

/// The segments `bundle` had just before step `k`.
fn first_segs(trace: &Trace, k: usize, bundle: BundleId) -> Vec<Seg> {
    let mut ranges = BundleRanges::from_dump(&trace.initial);
    for step in &trace.steps[..k] {
        ranges.apply(step);
    }
    ranges.get(bundle).to_vec()
}

/// Steps that processed a bundle covering exactly `cov`.
fn steps_with_coverage(trace: &Trace, cov: &[(Point, Point)]) -> Vec<usize> {
    let mut ranges = BundleRanges::from_dump(&trace.initial);
    let mut out = Vec::new();
    for (k, step) in trace.steps.iter().enumerate() {
        if ranges.covered(step.bundle) == cov {
            out.push(k);
        }
        ranges.apply(step);
    }
    out
}

/// Sign 3: over the last quarter of a stopped trace (at least 200 steps),
/// nothing was allocated and the queue grew at every scale we look at.
fn growing_queue(
    trace: &Trace,
    queue_at: &[i64],
    last_allocated: Option<usize>,
) -> Option<Diagnosis> {
    let n = queue_at.len();
    let window = (n / 4).max(200);
    if n < window * 2 {
        return None;
    }
    let from = n - window;
    if last_allocated.is_some_and(|k| k >= from) {
        return None;
    }
    let quarter = window / 4;
    let growing = (0..4).all(|i| {
        let a = queue_at[from + i * quarter];
        let b = queue_at[(from + (i + 1) * quarter).min(n - 1)];
        b > a
    });
    if !growing {
        return None;
    }
    let bundle = trace.steps[from].bundle;
    Some(Diagnosis {
        looping: true,
        bundle: Some(bundle),
        vreg: None,
        vregs: Vec::new(),
        from_step: Some(from + 1),
        description: format!(
            "Loop: from step {shown} to the end ({window} steps) nothing was allocated while the \
             queue grew from {} to {} bundles; the allocator makes work faster than it finishes it.",
            queue_at[from],
            queue_at[n - 1],
            shown = from + 1,
        ),
        range: None,
        sign: Some(Sign::GrowingQueue),
        cycle_steps: (from + 1..=n).take(MAX_CYCLE_STEPS).collect(),
        cycle_bundles: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::fixtures::log;

    #[test]
    fn the_0_11_3_loop_is_diagnosed_and_a_finished_allocation_is_not() {
        let looping = log("regalloc2-0.11.3-loop.log");
        let d = diagnose(&looping);
        assert!(d.looping, "{}", d.description);
        let from = d.from_step.expect("the cycle's first step");
        assert!(from >= 1 && from <= looping.steps.len());
        // The cycle is made of real steps, all of the bundles it names.
        assert!(!d.cycle_steps.is_empty());
        for &k in &d.cycle_steps {
            let step = &looping.steps[k - 1];
            assert!(d.cycle_bundles.contains(&step.bundle), "step {k}");
        }
        assert!(d.vreg.is_some() && d.range.is_some(), "{d:?}");

        for name in ["regalloc2-0.12.2.log", "regalloc2-0.15.2.log"] {
            let t = log(name);
            assert!(t.finished, "{name}");
            let d = diagnose(&t);
            assert!(!d.looping, "{name}: {}", d.description);
            assert!(d.cycle_steps.is_empty() && d.from_step.is_none(), "{name}");
        }
    }

    #[test]
    fn the_live_detector_stops_the_loop_early() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/regalloc2-logs/regalloc2-0.11.3-loop.log");
        let text = std::fs::read_to_string(&path).unwrap();
        let whole = log("regalloc2-0.11.3-loop.log");
        let stopped = import_log_until_loop(&path, &text).unwrap();
        assert!(stopped.stats.stopped_by_observer);
        assert!(matches!(
            stopped.trace.stopped,
            Some(CaptureStop::LoopDetected { steps }) if steps == stopped.trace.steps.len()
        ));
        assert!(stopped.trace.steps.len() < whole.steps.len());
        // What it read is the start of the whole log, step for step.
        for (a, b) in stopped.trace.steps.iter().zip(&whole.steps) {
            assert_eq!(a.bundle, b.bundle);
        }
    }
}
