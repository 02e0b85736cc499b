//! One function allocated by every built-in release: how each ended, what
//! it did (steps, splits, evictions, spills, reloads, moves, slots), its own
//! checker's verdict and its time, and the first release whose allocation
//! differs from the one before it.

use std::time::{Duration, Instant};

use regalloc2::{MachineEnv, Output};

use crate::capture::{CaptureLimits, CaptureStop};
use crate::compile::realloc::{self, Allocator, EditCounts};
use crate::compile::rebuild::RebuiltFunction;
use crate::compile::releases::allocate;
use crate::compile::{CheckerVerdict, CompileEnd};
use crate::input::isa::Algorithm;
use crate::input::release::Release;
use crate::replay::diagnose::{self, LoopDetector};
use crate::trace::StepCounts;

/// How one release's allocation ended.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// It finished.
    Ok,
    /// The loop detector stopped it: the diagnosis, the step the loop starts
    /// at, and the step it was detected at.
    Loops {
        diagnosis: String,
        from_step: Option<usize>,
        detected_at: usize,
    },
    /// The record budget, the time limit or the memory budget stopped it.
    Stopped { why: String },
    /// It panicked, with the message.
    Panicked { message: String },
    /// It cannot take the function, and why.
    CannotTake { why: String },
    /// It returned an error.
    Error { message: String },
}

impl Outcome {
    /// One word: `ok`, `loops`, `stopped`, `panicked`, `cannot take`, `error`.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Loops { .. } => "loops",
            Outcome::Stopped { .. } => "stopped",
            Outcome::Panicked { .. } => "panicked",
            Outcome::CannotTake { .. } => "cannot take",
            Outcome::Error { .. } => "error",
        }
    }

    /// The outcome in a sentence.
    pub fn text(&self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::Loops {
                diagnosis,
                detected_at,
                ..
            } => format!("loops (detected at step {detected_at}): {diagnosis}"),
            Outcome::Stopped { why } => format!("stopped: {why}"),
            Outcome::Panicked { message } => format!("panicked: {message}"),
            Outcome::CannotTake { why } => format!("cannot take the function: {why}"),
            Outcome::Error { message } => message.clone(),
        }
    }
}

/// One release's allocation of the function.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    pub release: Release,
    pub outcome: Outcome,
    /// Its steps, as traced (up to where it stopped).
    #[serde(flatten)]
    pub counts: StepCounts,
    /// Its edits by kind and the spill slots it used, when it finished.
    pub edits: Option<EditCounts>,
    pub slots: Option<usize>,
    /// Its own checker's verdict: `ok`, `not run`, or the error.
    pub checker: String,
    /// The allocation alone, untraced (when it finished), in milliseconds.
    pub allocation_ms: Option<f64>,
    /// The traced allocation, parsing included, in milliseconds.
    pub traced_ms: f64,
    /// Whether its allocation (edits and final locations) differs from the
    /// nearest older release that finished; none for the first that did.
    pub differs_from_previous: Option<bool>,
    /// What a user should know about the release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

/// Every release's allocation of one function.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Versions {
    pub algorithm: Algorithm,
    pub rows: Vec<Row>,
    /// The first release whose allocation differs from the one before it
    /// that finished.
    pub first_difference: Option<Release>,
    /// Releases still to run (a table shown while it fills).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Release>,
    /// A user's own regalloc2 source tree's allocation, beside the
    /// built-in releases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree: Option<TreeRow>,
}

/// The allocation by a runner built against a regalloc2 source tree.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TreeRow {
    pub path: String,
    /// The version its `Cargo.toml` says.
    pub version: String,
    pub outcome: Outcome,
    #[serde(flatten)]
    pub counts: StepCounts,
    /// Its own checker's verdict: `ok`, `not run`, or the error.
    pub checker: String,
    /// The traced allocation, the runner's start included, in milliseconds.
    pub traced_ms: f64,
}

/// `func` allocated by a runner built against `tree` (built once, cached),
/// traced live with the loop detector under `limits`.
pub fn tree_row(
    tree: &crate::compile::releases::tree::Tree,
    func: &RebuiltFunction,
    limits: CaptureLimits,
) -> TreeRow {
    use crate::compile::releases::tree::{self, TreeEnd};
    let started = Instant::now();
    let mut row = TreeRow {
        path: tree.path.display().to_string(),
        version: tree.version.clone(),
        outcome: Outcome::Ok,
        counts: StepCounts::default(),
        checker: "not run".into(),
        traced_ms: 0.0,
    };
    let run = tree::build_runner(tree)
        .and_then(|runner| tree::allocate(tree, &runner, func, limits, LoopDetector::default()));
    row.traced_ms = millis(started.elapsed());
    let (trace, end) = match run {
        Ok(x) => x,
        Err(message) => {
            row.outcome = Outcome::Error { message };
            return row;
        }
    };
    row.counts = trace.counts();
    row.outcome = match end {
        TreeEnd::Allocated { checker } => {
            row.checker = checker;
            Outcome::Ok
        }
        TreeEnd::Stopped(CaptureStop::LoopDetected { steps }) => {
            let d = diagnose::diagnose(&trace);
            Outcome::Loops {
                diagnosis: d.description,
                from_step: d.from_step,
                detected_at: steps,
            }
        }
        TreeEnd::Stopped(s) => Outcome::Stopped { why: s.to_string() },
        TreeEnd::Failed(message) => Outcome::Error { message },
    };
    row
}

/// `func` in `env` allocated by each of `releases` with `algorithm`, each
/// traced under `limits` with the loop detector, in the order given.
pub fn versions(
    func: &RebuiltFunction,
    env: &MachineEnv,
    algorithm: Algorithm,
    limits: CaptureLimits,
    releases: &[Release],
) -> Versions {
    versions_each(func, env, algorithm, limits, releases, |_| true)
}

/// [`versions`], showing the table to `each` after every release (its
/// `pending` says which are still to run); `each` returning false stops it
/// there (the app moved on). The deadline of `limits` is each release's: the
/// time it leaves from now is given to every release in turn.
pub fn versions_each(
    func: &RebuiltFunction,
    env: &MachineEnv,
    algorithm: Algorithm,
    limits: CaptureLimits,
    releases: &[Release],
    mut each: impl FnMut(&Versions) -> bool,
) -> Versions {
    let mut rows = Vec::with_capacity(releases.len());
    let mut previous: Option<Output> = None;
    let mut first_difference = None;
    let span = limits
        .deadline
        .map(|d| d.saturating_duration_since(Instant::now()));
    for (k, &release) in releases.iter().enumerate() {
        let limits = CaptureLimits {
            deadline: span.map(|s| Instant::now() + s),
            ..limits
        };
        let (row, output) = one(func, env, Allocator { release, algorithm }, limits);
        let mut row = row;
        if let Some(out) = &output {
            if let Some(prev) = &previous {
                let differs = !same_allocation(prev, out);
                row.differs_from_previous = Some(differs);
                if differs && first_difference.is_none() {
                    first_difference = Some(release);
                }
            }
            previous = output;
        }
        rows.push(row);
        let so_far = Versions {
            algorithm,
            rows: rows.clone(),
            first_difference,
            pending: releases[k + 1..].to_vec(),
            tree: None,
        };
        if !each(&so_far) {
            return so_far;
        }
    }
    Versions {
        algorithm,
        rows,
        first_difference,
        pending: Vec::new(),
        tree: None,
    }
}

/// The same edits at the same points and the same location for every
/// operand.
pub fn same_allocation(a: &Output, b: &Output) -> bool {
    let edit = |(p, e): &(regalloc2::ProgPoint, regalloc2::Edit)| {
        let regalloc2::Edit::Move { from, to } = e;
        (*p, *from, *to)
    };
    a.edits.len() == b.edits.len()
        && a.edits.iter().map(edit).eq(b.edits.iter().map(edit))
        && a.allocs == b.allocs
        && a.inst_alloc_offsets == b.inst_alloc_offsets
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn one(
    func: &RebuiltFunction,
    env: &MachineEnv,
    by: Allocator,
    limits: CaptureLimits,
) -> (Row, Option<Output>) {
    let refused = if by.algorithm == Algorithm::SinglePass && !by.release.has_single_pass() {
        Some("it has no single-pass allocator (that came in 0.11)".to_string())
    } else {
        crate::compile::releases::port(by.release, func, env).err()
    };
    if let Some(why) = refused {
        let row = Row {
            release: by.release,
            outcome: Outcome::CannotTake { why },
            counts: StepCounts::default(),
            edits: None,
            slots: None,
            checker: "not run".into(),
            allocation_ms: None,
            traced_ms: 0.0,
            differs_from_previous: None,
            note: by.release.note(),
        };
        return (row, None);
    }
    let started = Instant::now();
    let (traced, output) = realloc::allocate_traced(func, env, by, limits, LoopDetector::default());
    let traced_ms = millis(started.elapsed());
    let trace = &traced.trace;
    let outcome = match &traced.end {
        CompileEnd::AllocatedOnly | CompileEnd::Done(_) => Outcome::Ok,
        CompileEnd::Stopped(CaptureStop::LoopDetected { steps }) => {
            let d = diagnose::diagnose(trace);
            Outcome::Loops {
                diagnosis: d.description,
                from_step: d.from_step,
                detected_at: *steps,
            }
        }
        CompileEnd::Stopped(s) => Outcome::Stopped { why: s.to_string() },
        CompileEnd::Panicked(p) => Outcome::Panicked { message: p.clone() },
        CompileEnd::Error(e) => Outcome::Error { message: e.clone() },
        CompileEnd::NotCompiled => Outcome::Error {
            message: "nothing was allocated".into(),
        },
    };
    // The allocation alone, timed without the trace (it finished traced,
    // so it finishes untraced).
    let allocation_ms = output.as_ref().and_then(|_| {
        let started = Instant::now();
        allocate(by.release, func, env, by.algorithm, false, None)
            .ok()
            .map(|_| millis(started.elapsed()))
    });
    let checker = match &traced.checker {
        CheckerVerdict::NotRun => "not run".to_string(),
        v => v.text(),
    };
    let row = Row {
        release: by.release,
        outcome,
        counts: trace.counts(),
        edits: output.as_ref().map(EditCounts::of),
        slots: output.as_ref().map(|o| o.num_spillslots),
        checker,
        allocation_ms,
        traced_ms,
        differs_from_previous: None,
        note: by.release.note(),
    };
    (row, output)
}
