//! Allocating a rebuilt function again with regalloc2 itself: with the
//! machine environment Cranelift used (the round trip), or with fewer
//! registers per class ("would this spill vanish with one more register?").
//! Traced through the same capture and trace builder as a compile, checked
//! by regalloc2's own checker, and swept over register counts.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use regalloc2::{Edit, MachineEnv, Output, PRegSet, RegClass};

use super::rebuild::{RebuiltFunction, allocatable};
use super::{CheckerVerdict, CompileEnd, TracedCompile};
use crate::capture::{self, CaptureLimits, CaptureOutcome, CaptureStop};
use crate::compile::releases;
use crate::input::isa::Algorithm;
use crate::input::release::Release;
use crate::trace::{StepObserver, TraceBuilder};

/// Registers to keep per class (`None`: all of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct RegisterCounts {
    pub int: Option<usize>,
    pub float: Option<usize>,
    pub vector: Option<usize>,
}

impl RegisterCounts {
    pub fn get(&self, class: RegClass) -> Option<usize> {
        match class {
            RegClass::Int => self.int,
            RegClass::Float => self.float,
            RegClass::Vector => self.vector,
        }
    }

    pub fn set(&mut self, class: RegClass, n: Option<usize>) {
        match class {
            RegClass::Int => self.int = n,
            RegClass::Float => self.float = n,
            RegClass::Vector => self.vector = n,
        }
    }

    /// No class reduced.
    pub fn is_full(&self) -> bool {
        *self == RegisterCounts::default()
    }

    /// `int=4, float=8` (classes left whole are not named).
    pub fn text(&self) -> String {
        let parts: Vec<String> = CLASSES
            .iter()
            .filter_map(|&c| self.get(c).map(|n| format!("{}={n}", class_name(c))))
            .collect();
        if parts.is_empty() {
            "all registers".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The three classes, in regalloc2's order.
pub const CLASSES: [RegClass; 3] = [RegClass::Int, RegClass::Float, RegClass::Vector];

/// `int`, `float`, `vector`.
pub fn class_name(class: RegClass) -> &'static str {
    match class {
        RegClass::Int => "int",
        RegClass::Float => "float",
        RegClass::Vector => "vector",
    }
}

impl FromStr for RegisterCounts {
    type Err = String;

    /// `int=4,float=8`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut counts = RegisterCounts::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (class, n) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected CLASS=COUNT, e.g. int=4"))?;
            let class = CLASSES
                .into_iter()
                .find(|&c| class_name(c) == class.trim())
                .ok_or_else(|| format!("`{class}`: the classes are int, float and vector"))?;
            let n: usize = n
                .trim()
                .parse()
                .map_err(|_| format!("`{part}`: the count must be a whole number"))?;
            if n == 0 {
                return Err(format!("`{part}`: a class needs at least one register"));
            }
            if counts.get(class).is_some() {
                return Err(format!(
                    "`{s}`: {} is given twice; give each class once",
                    class_name(class)
                ));
            }
            counts.set(class, Some(n));
        }
        if counts.is_full() {
            return Err("no class given: e.g. int=4,float=8".into());
        }
        Ok(counts)
    }
}

/// `env` keeping, per reduced class, its first `n` allocatable registers
/// (preferred ones first, in index order). Scratch registers and fixed stack
/// slots stay; fixed-register operands still name their registers (regalloc2
/// moves values into them around the instruction).
pub fn reduced_env(env: &MachineEnv, counts: RegisterCounts) -> Result<MachineEnv, String> {
    let mut out = env.clone();
    for class in CLASSES {
        let Some(n) = counts.get(class) else {
            continue;
        };
        let all = allocatable(env, class);
        if n > all.len() {
            return Err(format!(
                "{}={n}: the target has {} allocatable {} registers",
                class_name(class),
                all.len(),
                class_name(class)
            ));
        }
        let c = class as usize;
        let keep: PRegSet = all[..n].iter().copied().collect();
        out.preferred_regs_by_class[c].intersect_from(keep);
        out.non_preferred_regs_by_class[c].intersect_from(keep);
    }
    Ok(out)
}

/// regalloc2 0.15.2's checker on an allocation (the release Cranelift links;
/// [`releases::allocate`] runs any release's own).
pub fn check(func: &RebuiltFunction, env: &MachineEnv, output: &Output) -> CheckerVerdict {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut checker = regalloc2::checker::Checker::new(func, env);
        checker.prepare(output);
        checker.run()
    }));
    match run {
        Ok(Ok(())) => CheckerVerdict::Ok,
        Ok(Err(errors)) => CheckerVerdict::Failed(format!("{errors:?}")),
        Err(p) => CheckerVerdict::Failed(capture::panic_message(&p)),
    }
}

/// An untraced backtracking allocation by the release Cranelift links:
/// regalloc2's output, or its error in words.
pub fn allocate(func: &RebuiltFunction, env: &MachineEnv) -> Result<Output, String> {
    capture::quietly(|| allocate_with(func, env, false))
}

/// An allocation with regalloc2's `verbose_log` option as given (it then
/// dumps its results, as with Cranelift's `regalloc_verbose_logs`), inside
/// whatever capture the caller runs.
pub fn allocate_with(
    func: &RebuiltFunction,
    env: &MachineEnv,
    verbose: bool,
) -> Result<Output, String> {
    allocate_by(func, env, Algorithm::Backtracking, verbose)
}

/// [`allocate_with`] by either of regalloc2's allocators.
pub fn allocate_by(
    func: &RebuiltFunction,
    env: &MachineEnv,
    algorithm: Algorithm,
    verbose: bool,
) -> Result<Output, String> {
    let mut held = releases::port(Release::CRANELIFT, func, env)?;
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        held.allocate(algorithm, verbose)
    }));
    match run {
        Ok(r) => r,
        Err(p) => Err(format!(
            "regalloc2 panicked: {}",
            capture::panic_message(&p)
        )),
    }
}

/// Who allocates a rebuilt function: a regalloc2 release and one of its
/// allocators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Allocator {
    pub release: Release,
    pub algorithm: Algorithm,
}

/// A traced allocation, shaped like a traced compile (its end carries no
/// machine code: nothing is emitted), with the release's own checker run on
/// the result. A release that cannot take the function ends in an error
/// saying why.
pub fn allocate_traced(
    func: &RebuiltFunction,
    env: &MachineEnv,
    by: Allocator,
    limits: CaptureLimits,
    watch: impl StepObserver + 'static,
) -> (TracedCompile, Option<Output>) {
    let builder = TraceBuilder::new()
        .allocated_by(by.algorithm)
        .released_by(by.release)
        .observed_by(watch);
    let mut held = match releases::port(by.release, func, env) {
        Ok(held) => held,
        Err(why) => {
            let mut trace = builder.finish();
            trace.vcode_before = func.vcode.clone();
            return (
                TracedCompile {
                    end: CompileEnd::Error(format!(
                        "regalloc2 {} cannot take the function: {why}",
                        by.release
                    )),
                    trace: Arc::new(trace),
                    checker: CheckerVerdict::NotRun,
                    records: 0,
                },
                None,
            );
        }
    };
    let (outcome, builder, records) =
        capture::capture(builder, limits, || held.allocate(by.algorithm, false));
    let looped = builder.stopped_by_observer();
    let mut trace = builder.finish();
    trace.records = records;
    trace.vcode_before = func.vcode.clone();
    let (end, output) = match outcome {
        CaptureOutcome::Finished(Ok(out)) => (CompileEnd::AllocatedOnly, Some(out)),
        CaptureOutcome::Finished(Err(e)) => (CompileEnd::Error(e), None),
        CaptureOutcome::Panicked(p) => (CompileEnd::Panicked(p), None),
        CaptureOutcome::NoLogger(why) => (CompileEnd::Error(why), None),
        CaptureOutcome::Stopped(s) => {
            let s = if looped && s == CaptureStop::SinkStopped {
                CaptureStop::LoopDetected {
                    steps: trace.steps.len(),
                }
            } else {
                s
            };
            (CompileEnd::Stopped(s), None)
        }
    };
    if let CompileEnd::Stopped(s) = &end {
        trace.stopped = Some(s.clone());
    }
    let checker = match &output {
        Some(_) => capture::quietly(|| held.check()),
        None => CheckerVerdict::NotRun,
    };
    (
        TracedCompile {
            end,
            trace: Arc::new(trace),
            checker,
            records,
        },
        output,
    )
}

/// An allocation's edits by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EditCounts {
    /// Register to register.
    pub moves: usize,
    /// Register to stack.
    pub spills: usize,
    /// Stack to register.
    pub reloads: usize,
    /// Stack to stack (regalloc2 makes them only through a scratch register).
    pub stack_moves: usize,
}

impl EditCounts {
    pub fn of(output: &Output) -> EditCounts {
        let mut c = EditCounts::default();
        for (_, edit) in &output.edits {
            let Edit::Move { from, to } = edit;
            match (from.is_stack(), to.is_stack()) {
                (false, false) => c.moves += 1,
                (false, true) => c.spills += 1,
                (true, false) => c.reloads += 1,
                (true, true) => c.stack_moves += 1,
            }
        }
        c
    }

    pub fn total(&self) -> usize {
        self.moves + self.spills + self.reloads + self.stack_moves
    }
}

/// One allocation of a sweep.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SweepPoint {
    /// Registers of the swept class.
    pub registers: usize,
    /// regalloc2's own counts (its `Stats`): splits and bundles evicted.
    pub splits: usize,
    pub evictions: usize,
    #[serde(flatten)]
    pub edits: EditCounts,
    pub spill_slots: usize,
    /// Whether regalloc2's checker accepted the allocation.
    pub checked: bool,
    /// Why there is no allocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub elapsed: Duration,
}

/// Allocations of `func` by `by` with `class` reduced from all its registers
/// down to one, the other classes whole, each checked by the release's own
/// checker, each under `limits` (a release may not end with fewer
/// registers). It stops at the first count the release cannot allocate (that
/// point is kept, with its error).
pub fn sweep(
    func: &RebuiltFunction,
    class: RegClass,
    by: Allocator,
    limits: CaptureLimits,
) -> Vec<SweepPoint> {
    let all = allocatable(&func.env, class).len();
    let mut points = Vec::new();
    for n in (1..=all).rev() {
        let mut counts = RegisterCounts::default();
        counts.set(class, Some(n));
        let env = reduced_env(&func.env, counts).expect("counts within the class");
        let started = Instant::now();
        let point =
            match releases::allocate(by.release, func, &env, by.algorithm, true, Some(limits)) {
                Ok(releases::Allocated {
                    output: out,
                    checker,
                    ..
                }) => SweepPoint {
                    registers: n,
                    splits: out.stats.splits,
                    evictions: out.stats.evict_bundle_count,
                    edits: EditCounts::of(&out),
                    spill_slots: out.num_spillslots,
                    checked: checker == CheckerVerdict::Ok,
                    error: None,
                    elapsed: started.elapsed(),
                },
                Err(e) => SweepPoint {
                    registers: n,
                    splits: 0,
                    evictions: 0,
                    edits: EditCounts::default(),
                    spill_slots: 0,
                    checked: false,
                    error: Some(e.text()),
                    elapsed: started.elapsed(),
                },
            };
        let failed = point.error.is_some();
        points.push(point);
        if failed {
            break;
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_counts_read_and_refuse() {
        let c: RegisterCounts = "int=4, float=8".parse().unwrap();
        assert_eq!(c.int, Some(4));
        assert_eq!(c.float, Some(8));
        assert_eq!(c.vector, None);
        assert_eq!(c.text(), "int=4, float=8");
        assert!("int=0".parse::<RegisterCounts>().is_err());
        assert!("gpr=3".parse::<RegisterCounts>().is_err());
        assert!("int".parse::<RegisterCounts>().is_err());
        assert!("".parse::<RegisterCounts>().is_err());
        // A repeat was read as the last one given.
        let e = "int=4,int=5".parse::<RegisterCounts>().unwrap_err();
        assert!(e.contains("int is given twice"), "{e}");
    }
}
