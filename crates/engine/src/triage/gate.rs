//! A release gate: every function of a corpus lowered once and allocated by
//! two regalloc2 releases, a baseline and a candidate, each with its own
//! checker under the same budget and deadline. Per function the two
//! outcomes and the quality deltas; over the corpus the candidate's new
//! failures (loops, timeouts, panics, checker failures, functions it cannot
//! take) and the distribution of deltas with the worst functions by each
//! metric. The check that would have stopped regalloc2 0.11.3.
//!
//! A gate is a scan ([`crate::triage::scan`]) whose functions are judged by
//! [`gate_function`]: reading, sharding, batching, worker threads, the
//! watchdog, streaming and `--merge` are the scan's. A function's status is
//! the candidate's *new* failure, if it has one (ok otherwise, also when
//! both releases fail alike); [`GateSummary`] is recomputed from the
//! functions, so a merged report has the one an unsharded gate would have.

use std::time::{Duration, Instant};

use regalloc2::Output;

use crate::capture::{self, CaptureLimits};
use crate::compile::CheckerVerdict;
use crate::compile::realloc::{self, Allocator, EditCounts};
use crate::compile::rebuild::RebuiltFunction;
use crate::compile::releases::tree::{self, CountedEnd, Tree};
use crate::compile::releases::{self, Refused};
use crate::input::isa::Algorithm;
use crate::input::release::Release;
use crate::releases::versions::same_allocation;
use crate::replay::diagnose::{self, Diagnosis, LoopDetector};

/// The two releases a gate compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatePair {
    pub baseline: Release,
    pub candidate: Release,
}

/// A regalloc2 source tree as a gate's candidate (`--candidate PATH`): the
/// tree, and the runner built against it ([`tree::build_runner`]). Each
/// function is handed to the runner as the tree's reproducer file; it counts
/// its records against the budget, and one over it or the deadline is run
/// again with every record read by the loop detector.
#[derive(Clone, Debug)]
pub struct TreeCandidate {
    pub tree: Tree,
    pub runner: std::path::PathBuf,
}

impl TreeCandidate {
    /// The tree as reports name it.
    pub fn label(&self) -> String {
        format!(
            "{} source tree at {}",
            self.tree.version,
            self.tree.path.display()
        )
    }
}

/// How one release's allocation of a function ended.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SideOutcome {
    Ok,
    /// The budget or the deadline stopped it, and the traced re-run shows a
    /// loop: the diagnosis and the step it was detected at.
    Loops {
        diagnosis: String,
        detected_at: usize,
    },
    /// The budget or the deadline stopped it; no loop was seen.
    Stopped {
        why: String,
    },
    Panicked {
        message: String,
    },
    /// Its own checker found a wrong allocation.
    CheckerFailed {
        message: String,
    },
    CannotTake {
        why: String,
    },
    Error {
        message: String,
    },
}

impl SideOutcome {
    /// One word, as reports and tables show it.
    pub fn word(&self) -> &'static str {
        match self {
            SideOutcome::Ok => "ok",
            SideOutcome::Loops { .. } => "loops",
            SideOutcome::Stopped { .. } => "timeout",
            SideOutcome::Panicked { .. } => "panicked",
            SideOutcome::CheckerFailed { .. } => "checker failed",
            SideOutcome::CannotTake { .. } => "cannot take",
            SideOutcome::Error { .. } => "error",
        }
    }

    /// The outcome in a sentence.
    pub fn text(&self) -> String {
        match self {
            SideOutcome::Ok => "ok".into(),
            SideOutcome::Loops {
                diagnosis,
                detected_at,
            } => format!("loops (detected at step {detected_at}): {diagnosis}"),
            SideOutcome::Stopped { why } => format!("did not finish: {why}"),
            SideOutcome::Panicked { message } => format!("panicked: {message}"),
            SideOutcome::CheckerFailed { message } => format!("its checker failed: {message}"),
            SideOutcome::CannotTake { why } => format!("cannot take the function: {why}"),
            SideOutcome::Error { message } => message.clone(),
        }
    }

    pub fn is_ok(&self) -> bool {
        *self == SideOutcome::Ok
    }

    /// The kind of failure, as a scan counts them (a loop and a timeout
    /// are both over budget; an error and "cannot take" both fail to
    /// compile); none when it finished.
    pub fn failure(&self) -> Option<Failure> {
        Some(match self {
            SideOutcome::Ok => return None,
            SideOutcome::Loops { .. } | SideOutcome::Stopped { .. } => Failure::OverBudget,
            SideOutcome::Panicked { .. } => Failure::Panicked,
            SideOutcome::CheckerFailed { .. } => Failure::CheckerFailed,
            SideOutcome::CannotTake { .. } | SideOutcome::Error { .. } => Failure::CannotCompile,
        })
    }
}

/// A failed allocation's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    OverBudget,
    Panicked,
    CheckerFailed,
    CannotCompile,
}

/// One release's allocation of one function.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Side {
    pub release: Release,
    pub outcome: SideOutcome,
    /// When it finished: its edits by kind and the spill slots it used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edits: Option<Edits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slots: Option<usize>,
    /// The allocation alone (records counted, none formatted; the checker
    /// not included), in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation_ms: Option<f64>,
    /// The allocation is the very one the baseline made and its checker
    /// passed, so this release's checker was not run again on it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checked_as_baseline: bool,
    /// Allocated by a source tree's runner, not by the built-in `release`
    /// (the one whose reproducer format the tree reads).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub source_tree: bool,
}

/// [`EditCounts`], as reports keep them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Edits {
    pub spills: usize,
    pub reloads: usize,
    pub moves: usize,
    pub stack_moves: usize,
}

impl From<EditCounts> for Edits {
    fn from(e: EditCounts) -> Edits {
        Edits {
            spills: e.spills,
            reloads: e.reloads,
            moves: e.moves,
            stack_moves: e.stack_moves,
        }
    }
}

/// What a gate found for one function.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GateFunction {
    pub baseline: Side,
    pub candidate: Side,
    /// Whether the two allocations (edits and final locations) are the
    /// same; none unless both finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_allocation: Option<bool>,
}

impl GateFunction {
    /// The candidate's failure that the baseline does not have, if any.
    pub fn regression(&self) -> Option<&SideOutcome> {
        let c = &self.candidate.outcome;
        let failure = c.failure()?;
        (Some(failure) != self.baseline.outcome.failure()).then_some(c)
    }

    /// Whether the baseline failed and the candidate did not.
    pub fn fixed(&self) -> bool {
        !self.baseline.outcome.is_ok() && self.candidate.outcome.is_ok()
    }

    /// The candidate's value of `metric` minus the baseline's, when both
    /// finished.
    pub fn delta(&self, metric: Metric) -> Option<f64> {
        Some(metric.of(&self.candidate)? - metric.of(&self.baseline)?)
    }
}

/// A quality metric of an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Spills,
    Reloads,
    Moves,
    StackMoves,
    Slots,
    AllocationMs,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::Spills,
        Metric::Reloads,
        Metric::Moves,
        Metric::StackMoves,
        Metric::Slots,
        Metric::AllocationMs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Spills => "spills",
            Metric::Reloads => "reloads",
            Metric::Moves => "moves",
            Metric::StackMoves => "stack moves",
            Metric::Slots => "spill slots",
            Metric::AllocationMs => "allocation ms",
        }
    }

    /// The side's value, when it finished.
    pub fn of(self, side: &Side) -> Option<f64> {
        if side.outcome != SideOutcome::Ok {
            return None;
        }
        let e = side.edits?;
        Some(match self {
            Metric::Spills => e.spills as f64,
            Metric::Reloads => e.reloads as f64,
            Metric::Moves => e.moves as f64,
            Metric::StackMoves => e.stack_moves as f64,
            Metric::Slots => side.slots? as f64,
            Metric::AllocationMs => side.allocation_ms?,
        })
    }

    /// Whether a difference of `delta` counts: any count; a time beyond a
    /// tenth of the baseline's and a twentieth of a millisecond (timer noise).
    fn counts(self, delta: f64, baseline: f64) -> bool {
        match self {
            Metric::AllocationMs => delta.abs() > (baseline * 0.1).max(0.05),
            _ => delta != 0.0,
        }
    }
}

/// One release's allocation, with what the report of a scan keeps of it.
pub struct SideRun {
    pub side: Side,
    /// The output, when it finished.
    pub output: Option<Output>,
    /// The traced re-run of an allocation that did not finish: its
    /// diagnosis, steps and records.
    pub traced: Option<(Diagnosis, usize, u64)>,
}

/// One release's allocation of `func`, under `limits` (the deadline is
/// given afresh from `timeout`), checked by its own checker; one that does
/// not finish is allocated again, traced with the loop detector, for the
/// diagnosis.
pub fn allocate_side(
    func: &RebuiltFunction,
    by: Allocator,
    limits: CaptureLimits,
    timeout: Duration,
) -> SideRun {
    allocate_side_after(func, by, limits, timeout, None)
}

/// [`allocate_side`]; an allocation identical to `checked` (one its own
/// release's checker passed) is not checked again.
fn allocate_side_after(
    func: &RebuiltFunction,
    by: Allocator,
    limits: CaptureLimits,
    timeout: Duration,
    checked: Option<&Output>,
) -> SideRun {
    let release = by.release;
    let mut side = Side {
        release,
        outcome: SideOutcome::Ok,
        edits: None,
        slots: None,
        allocation_ms: None,
        checked_as_baseline: false,
        source_tree: false,
    };
    if by.algorithm == Algorithm::SinglePass && !release.has_single_pass() {
        side.outcome = SideOutcome::CannotTake {
            why: "it has no single-pass allocator (that came in 0.11)".into(),
        };
        return SideRun::bare(side);
    }
    let limits = CaptureLimits {
        deadline: Some(Instant::now() + timeout),
        ..limits
    };
    let mut same = false;
    let check = |out: &Output| {
        same = checked.is_some_and(|c| same_allocation(c, out));
        !same
    };
    match releases::allocate_checking(release, func, &func.env, by.algorithm, check, Some(limits)) {
        Ok(a) => {
            side.checked_as_baseline = same;
            side.edits = Some(EditCounts::of(&a.output).into());
            side.slots = Some(a.output.num_spillslots);
            side.allocation_ms = Some((a.elapsed.as_secs_f64() * 1e6).round() / 1e3);
            if let CheckerVerdict::Failed(message) = a.checker {
                side.outcome = SideOutcome::CheckerFailed { message };
                return SideRun::bare(side);
            }
            SideRun {
                side,
                output: Some(a.output),
                traced: None,
            }
        }
        Err(Refused::CannotTake(why)) => {
            side.outcome = SideOutcome::CannotTake { why };
            SideRun::bare(side)
        }
        Err(Refused::Error(message)) => {
            side.outcome = SideOutcome::Error { message };
            SideRun::bare(side)
        }
        Err(Refused::Panicked(message)) => {
            side.outcome = SideOutcome::Panicked { message };
            SideRun::bare(side)
        }
        Err(Refused::Stopped(stop)) => {
            let limits = CaptureLimits {
                deadline: Some(Instant::now() + timeout),
                ..limits
            };
            let (traced, _) = capture::quietly(|| {
                realloc::allocate_traced(func, &func.env, by, limits, LoopDetector::default())
            });
            let diagnosis = diagnose::diagnose(&traced.trace);
            let steps = traced.trace.steps.len();
            side.outcome = stopped_outcome(&diagnosis, steps, &stop);
            SideRun {
                side,
                output: None,
                traced: Some((diagnosis, steps, traced.records)),
            }
        }
    }
}

/// The tree's allocation of `func`, as [`allocate_side`] gives a built-in
/// release's (no output: the runner's allocation stays in its process).
fn tree_side(
    func: &RebuiltFunction,
    candidate: &TreeCandidate,
    limits: CaptureLimits,
    timeout: Duration,
) -> SideRun {
    let mut side = Side {
        release: candidate.tree.format,
        outcome: SideOutcome::Ok,
        edits: None,
        slots: None,
        allocation_ms: None,
        checked_as_baseline: false,
        source_tree: true,
    };
    let fresh = || CaptureLimits {
        deadline: Some(Instant::now() + timeout),
        ..limits
    };
    let (tree, runner) = (&candidate.tree, &candidate.runner);
    side.outcome = match tree::allocate_counted(tree, runner, func, fresh()) {
        Err(message) => SideOutcome::Error { message },
        Ok((
            CountedEnd::Allocated {
                edits,
                slots,
                micros,
                checker_error,
            },
            _,
        )) => {
            side.edits = Some(edits.into());
            side.slots = Some(slots);
            side.allocation_ms = Some(micros as f64 / 1e3);
            match checker_error {
                Some(message) => SideOutcome::CheckerFailed { message },
                None => SideOutcome::Ok,
            }
        }
        Ok((CountedEnd::Refused(why), _)) => SideOutcome::CannotTake { why },
        Ok((CountedEnd::Panicked(message), _)) => SideOutcome::Panicked { message },
        Ok((CountedEnd::Failed(message), _)) => SideOutcome::Error { message },
        Ok((CountedEnd::Stopped(stop), _)) => {
            let (outcome, traced) =
                match tree::allocate(tree, runner, func, fresh(), LoopDetector::default()) {
                    Ok((trace, _)) => {
                        let diagnosis = diagnose::diagnose(&trace);
                        let steps = trace.steps.len();
                        (
                            stopped_outcome(&diagnosis, steps, &stop),
                            Some((diagnosis, steps, trace.records)),
                        )
                    }
                    Err(e) => (
                        SideOutcome::Stopped {
                            why: format!("the allocation {stop}; the traced re-run failed: {e}"),
                        },
                        None,
                    ),
                };
            side.outcome = outcome;
            return SideRun {
                side,
                output: None,
                traced,
            };
        }
    };
    SideRun::bare(side)
}

/// An allocation the budget or the deadline stopped, as its traced re-run
/// diagnoses it.
fn stopped_outcome(
    diagnosis: &Diagnosis,
    steps: usize,
    stop: &impl std::fmt::Display,
) -> SideOutcome {
    if diagnosis.looping {
        SideOutcome::Loops {
            diagnosis: diagnosis.description.clone(),
            detected_at: steps,
        }
    } else {
        SideOutcome::Stopped {
            why: format!("the allocation {stop}"),
        }
    }
}

impl SideRun {
    fn bare(side: Side) -> SideRun {
        SideRun {
            side,
            output: None,
            traced: None,
        }
    }
}

/// Both releases' allocations of one lowered function; the candidate is
/// `tree`'s when one is given.
pub fn gate_function(
    func: &RebuiltFunction,
    algorithm: Algorithm,
    pair: GatePair,
    tree: Option<&TreeCandidate>,
    limits: CaptureLimits,
    timeout: Duration,
) -> GateFunction {
    let side = |release, checked| {
        let by = Allocator { release, algorithm };
        allocate_side_after(func, by, limits, timeout, checked)
    };
    let b = side(pair.baseline, None);
    // The candidate's checker runs on what the baseline's did not pass.
    let passed = b.output.as_ref().filter(|_| b.side.outcome.is_ok());
    let c = match tree {
        Some(t) => tree_side(func, t, limits, timeout),
        None => side(pair.candidate, passed),
    };
    let same_allocation = match (&b.output, &c.output) {
        (Some(b), Some(c)) => Some(same_allocation(b, c)),
        _ => None,
    };
    GateFunction {
        baseline: b.side,
        candidate: c.side,
        same_allocation,
    }
}

/// The line a gated function's report gives.
pub fn details(g: &GateFunction) -> String {
    let (b, c) = (&g.baseline, &g.candidate);
    if let Some(r) = g.regression() {
        return format!(
            "regalloc2 {} {} (regalloc2 {} {})",
            c.release,
            r.text(),
            b.release,
            b.outcome.text()
        );
    }
    if b.outcome != SideOutcome::Ok || c.outcome != SideOutcome::Ok {
        return format!(
            "regalloc2 {}: {}; regalloc2 {}: {}",
            b.release,
            b.outcome.text(),
            c.release,
            c.outcome.text()
        );
    }
    let deltas: Vec<String> = [
        Metric::Spills,
        Metric::Reloads,
        Metric::Moves,
        Metric::Slots,
    ]
    .into_iter()
    .filter_map(|m| {
        let d = g.delta(m)?;
        (d != 0.0).then(|| format!("{} {d:+}", m.name()))
    })
    .collect();
    match (g.same_allocation, deltas.is_empty()) {
        (Some(true), _) => "the same allocation".into(),
        // A source tree's allocation stays in its runner: only counts compare.
        (None, true) => "the same counts".into(),
        (None, false) => deltas.join(", "),
        (_, true) => "a different allocation, the same counts".into(),
        _ => format!("a different allocation: {}", deltas.join(", ")),
    }
}

/// A function picked out by a metric.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Worst {
    pub file: String,
    pub index: u32,
    pub name: String,
    pub baseline: f64,
    pub candidate: f64,
    pub delta: f64,
}

/// The distribution of one metric's deltas over the functions both
/// releases finished.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricSummary {
    pub metric: Metric,
    pub baseline_total: f64,
    pub candidate_total: f64,
    /// Functions where the candidate's value is lower, higher, the same
    /// (for time: within a tenth of the baseline or 0.05 ms).
    pub better: usize,
    pub worse: usize,
    pub same: usize,
    /// Deltas at the 1st, 10th, 50th, 90th and 99th percentile.
    pub percentiles: [f64; 5],
    /// The functions where the candidate is worst (largest delta first).
    pub worst: Vec<Worst>,
}

/// How many functions each metric's list of worst ones holds.
pub const WORST: usize = 10;

/// One function of a gate's report, for [`GateSummary::of`].
#[derive(Clone, Copy)]
pub struct Gated<'a> {
    pub file: &'a str,
    pub index: u32,
    pub name: &'a str,
    /// None when it could not be lowered.
    pub gate: Option<&'a GateFunction>,
}

/// What a gate found over the whole corpus.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GateSummary {
    pub baseline: Release,
    pub candidate: Release,
    pub functions: usize,
    /// Functions both releases allocated.
    pub compared: usize,
    /// Of those, how many got the very same allocation.
    pub same_allocation: usize,
    /// The candidate's new failures, by kind.
    pub new_loops: usize,
    pub new_timeouts: usize,
    pub new_panics: usize,
    pub new_checker_failures: usize,
    pub new_cannot_take: usize,
    /// Functions the baseline fails and the candidate allocates.
    pub fixed: usize,
    /// Functions both fail the same way.
    pub both_fail: usize,
    /// Functions that could not be lowered (no release saw them).
    pub not_lowered: usize,
    pub metrics: Vec<MetricSummary>,
    /// The candidate was a source tree ([`TreeCandidate::label`]), reading
    /// `candidate`'s reproducer format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_tree: Option<String>,
}

impl GateSummary {
    /// The candidate as reports name it: the release, or the source tree.
    pub fn candidate_name(&self) -> String {
        match &self.candidate_tree {
            Some(tree) => format!("{tree} (read as {})", self.candidate),
            None => self.candidate.to_string(),
        }
    }

    /// The new failures by kind, then the shared ones, in words.
    pub fn failures_text(&self) -> String {
        format!(
            "{} loops, {} timeouts, {} panics, {} checker failures, {} it cannot take; \
             {} fixed, {} fail in both",
            self.new_loops,
            self.new_timeouts,
            self.new_panics,
            self.new_checker_failures,
            self.new_cannot_take,
            self.fixed,
            self.both_fail
        )
    }

    /// The candidate's new failures in all.
    pub fn new_failures(&self) -> usize {
        self.new_loops
            + self.new_timeouts
            + self.new_panics
            + self.new_checker_failures
            + self.new_cannot_take
    }

    /// Counted from the functions of a gate's report.
    pub fn of(pair: GatePair, functions: &[Gated<'_>]) -> GateSummary {
        let mut s = GateSummary {
            baseline: pair.baseline,
            candidate: pair.candidate,
            functions: functions.len(),
            compared: 0,
            same_allocation: 0,
            new_loops: 0,
            new_timeouts: 0,
            new_panics: 0,
            new_checker_failures: 0,
            new_cannot_take: 0,
            fixed: 0,
            both_fail: 0,
            not_lowered: functions.iter().filter(|f| f.gate.is_none()).count(),
            metrics: Vec::new(),
            candidate_tree: None,
        };
        let gated = || functions.iter().filter_map(|f| Some((f, f.gate?)));
        for (_, g) in gated() {
            match g.regression() {
                Some(SideOutcome::Loops { .. }) => s.new_loops += 1,
                Some(SideOutcome::Stopped { .. }) => s.new_timeouts += 1,
                Some(SideOutcome::Panicked { .. }) => s.new_panics += 1,
                Some(SideOutcome::CheckerFailed { .. }) => s.new_checker_failures += 1,
                Some(_) => s.new_cannot_take += 1,
                None if g.fixed() => s.fixed += 1,
                None if g.candidate.outcome != SideOutcome::Ok => s.both_fail += 1,
                None => {}
            }
            if g.baseline.outcome == SideOutcome::Ok && g.candidate.outcome == SideOutcome::Ok {
                s.compared += 1;
            }
            if g.same_allocation == Some(true) {
                s.same_allocation += 1;
            }
        }
        for metric in Metric::ALL {
            let mut m = MetricSummary {
                metric,
                baseline_total: 0.0,
                candidate_total: 0.0,
                better: 0,
                worse: 0,
                same: 0,
                percentiles: [0.0; 5],
                worst: Vec::new(),
            };
            let mut deltas = Vec::new();
            let mut worst = Vec::new();
            for (f, g) in gated() {
                let (Some(b), Some(c)) = (metric.of(&g.baseline), metric.of(&g.candidate)) else {
                    continue;
                };
                let d = c - b;
                m.baseline_total += b;
                m.candidate_total += c;
                match (metric.counts(d, b), d > 0.0) {
                    (false, _) => m.same += 1,
                    (true, true) => m.worse += 1,
                    (true, false) => m.better += 1,
                }
                deltas.push(d);
                if d > 0.0 && metric.counts(d, b) {
                    worst.push(Worst {
                        file: f.file.to_string(),
                        index: f.index,
                        name: f.name.to_string(),
                        baseline: b,
                        candidate: c,
                        delta: round3(d),
                    });
                }
            }
            deltas.sort_by(f64::total_cmp);
            for (k, q) in [0.01, 0.1, 0.5, 0.9, 0.99].into_iter().enumerate() {
                m.percentiles[k] = percentile(&deltas, q);
            }
            // Largest delta first; ties in report order.
            worst.sort_by(|a, b| b.delta.total_cmp(&a.delta));
            worst.truncate(WORST);
            m.worst = worst;
            m.baseline_total = round3(m.baseline_total);
            m.candidate_total = round3(m.candidate_total);
            s.metrics.push(m);
        }
        s
    }
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// The `q` quantile of sorted `values` (nearest rank); 0 when empty.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    round3(sorted[rank - 1])
}
