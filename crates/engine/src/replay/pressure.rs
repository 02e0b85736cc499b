//! Register pressure: at each program point, how many values of each register
//! class are live (from regalloc2's live ranges before allocation), against
//! how many registers of that class regalloc2 may allocate; and how many
//! registers are taken at each point after any number of steps.
//!
//! A value's class is the class of a register it ends up in (a value that
//! never gets one is no register demand). The allocatable counts are those of
//! Cranelift 0.135's machine environments (`create_reg_env_systemv` in
//! `isa/x64/abi.rs`, `create_reg_env` in `isa/aarch64/abi.rs`,
//! `create_reg_environment` in `isa/riscv64/abi.rs`, `tail_create_machine_env`
//! in `isa/s390x/abi.rs`: Wasm functions use the tail calling convention),
//! without a pinned register, as Wasmtime configures them.

use std::collections::HashMap;

use super::{Replay, State, Status};
use crate::trace::{Event, Loc, Outcome, RegClass, Trace, VRegId};

/// Registers regalloc2 may allocate in `class` on the target of `triple`:
/// the count in the machine environment Cranelift gives it there
/// ([`register_counts`](crate::compile::rebuild::register_counts)). `None`
/// for an unknown target or a class without allocatable registers.
pub fn allocatable(triple: &str, class: RegClass) -> Option<u32> {
    let counts = crate::compile::rebuild::register_counts(triple)?;
    let n = match class {
        RegClass::Int => counts[0],
        RegClass::Float => counts[1],
        RegClass::Vector => counts[2],
    };
    (n > 0).then_some(n)
}

/// One register class's pressure over a function.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ClassPressure {
    pub class: RegClass,
    /// Registers of the class regalloc2 may allocate (unknown for a log).
    pub registers: Option<u32>,
    /// Values live at each program point.
    #[serde(skip)]
    pub live: Vec<u32>,
    /// The most values live at one point.
    pub max_live: u32,
    /// Program points where more values are live than there are registers.
    pub points_over: u32,
}

impl ClassPressure {
    /// The same pressure against `registers` registers (an allocation with
    /// some of the class's registers taken away).
    pub fn limit_to(&mut self, registers: u32) {
        self.registers = Some(registers);
        self.points_over = self.live.iter().filter(|&&l| l > registers).count() as u32;
    }
}

/// The register class of every value that got a register, from the final
/// locations and from the steps' assignments.
fn vreg_classes(replay: &Replay) -> HashMap<VRegId, RegClass> {
    let trace = replay.trace();
    let mut class = HashMap::new();
    for r in &trace.moves.ranges {
        if let Loc::Reg(p) = r.loc {
            class.insert(r.vreg, p.class);
        }
    }
    for (i, step) in trace.steps.iter().enumerate() {
        let preg = match step.outcome {
            Outcome::Allocated { preg } => Some(preg),
            _ => step.events.iter().find_map(|e| match e {
                Event::Assigned { preg, .. } => Some(*preg),
                _ => None,
            }),
        };
        if let Some(p) = preg {
            for v in replay.vregs_at_start(i) {
                class.entry(*v).or_insert(p.class);
            }
        }
    }
    class
}

/// Program points of the trace (one past the last point any range reaches).
fn points_of(trace: &Trace) -> usize {
    trace
        .initial
        .ranges
        .iter()
        .map(|r| r.to.0 as usize + 1)
        .max()
        .unwrap_or(0)
}

/// Values live at each point, per class, with the allocatable counts of
/// `triple` (classes with no value are left out).
pub fn pressure(replay: &Replay, triple: &str) -> Vec<ClassPressure> {
    let trace = replay.trace();
    let classes = vreg_classes(replay);
    let n = points_of(trace);
    let mut out = Vec::new();
    for class in [RegClass::Int, RegClass::Float, RegClass::Vector] {
        let mut diff = vec![0i64; n + 1];
        let mut any = false;
        for r in &trace.initial.ranges {
            let Some(v) = r.vreg else { continue };
            if classes.get(&v) != Some(&class) || r.to <= r.from {
                continue;
            }
            any = true;
            diff[r.from.0 as usize] += 1;
            diff[r.to.0 as usize] -= 1;
        }
        if !any {
            continue;
        }
        let mut live = Vec::with_capacity(n);
        let mut level = 0i64;
        for d in &diff[..n] {
            level += d;
            live.push(level.max(0) as u32);
        }
        let registers = allocatable(triple, class);
        let max_live = live.iter().copied().max().unwrap_or(0);
        let points_over = registers.map_or(0, |r| live.iter().filter(|&&l| l > r).count() as u32);
        out.push(ClassPressure {
            class,
            registers,
            live,
            max_live,
            points_over,
        });
    }
    out
}

/// Registers of `class` taken at each of `points` points in `state`: the
/// allocated bundles' ranges, counted.
pub fn allocated(state: &State, class: RegClass, points: usize) -> Vec<u32> {
    let mut diff = vec![0i64; points + 1];
    for (b, s) in state.bundles.iter().enumerate() {
        let Status::Allocated(p) = s.status else {
            continue;
        };
        if p.class != class {
            continue;
        }
        for seg in state.segs(b as u32) {
            let from = (seg.from.0 as usize).min(points);
            let to = (seg.to.0 as usize).min(points);
            if to > from {
                diff[from] += 1;
                diff[to] -= 1;
            }
        }
    }
    let mut level = 0i64;
    diff[..points]
        .iter()
        .map(|d| {
            level += d;
            level.max(0) as u32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::fixtures::log;
    use std::sync::Arc;

    #[test]
    fn pressure_counts_agree_with_the_live_values_and_the_registers_taken() {
        let triple = "x86_64-unknown-linux-gnu";
        let replay = Replay::new(Arc::new(log("regalloc2-0.15.2.log")));
        let tracks = pressure(&replay, triple);
        assert!(!tracks.is_empty());
        let last = replay.state_at(replay.len());
        for t in &tracks {
            assert_eq!(t.registers, allocatable(triple, t.class));
            assert_eq!(Some(&t.max_live), t.live.iter().max());
            assert!(t.max_live > 0, "{:?}", t.class);
            let mut fewer = t.clone();
            fewer.limit_to(1);
            assert_eq!(fewer.registers, Some(1));
            assert_eq!(
                fewer.points_over,
                t.live.iter().filter(|&&l| l > 1).count() as u32
            );
            // A register held at a point holds a value live there.
            let taken = allocated(&last, t.class, t.live.len());
            assert_eq!(taken.len(), t.live.len());
            for (p, (&held, &live)) in taken.iter().zip(&t.live).enumerate() {
                assert!(
                    held <= live,
                    "{:?} point {p}: {held} held, {live} live",
                    t.class
                );
            }
            assert!(taken.iter().any(|&h| h > 0), "{:?}: nothing held", t.class);
        }
    }

    #[test]
    fn counts_come_for_the_four_targets_and_none_elsewhere() {
        for (triple, int) in [
            // rsi rdi rax rcx rdx r8-r11, then rbx r12-r15.
            ("x86_64-unknown-linux-gnu", 14),
            // x0-x15, then x19-x28.
            ("aarch64-unknown-linux-gnu", 26),
            ("riscv64gc-unknown-linux-gnu", 24),
            // r2-r7, then r8-r14.
            ("s390x-unknown-linux-gnu", 13),
        ] {
            assert_eq!(allocatable(triple, RegClass::Int), Some(int), "{triple}");
            assert!(allocatable(triple, RegClass::Float).is_some(), "{triple}");
        }
        assert_eq!(allocatable("wasm32-unknown-unknown", RegClass::Int), None);
        assert_eq!(allocatable("not-a-target", RegClass::Int), None);
    }
}
