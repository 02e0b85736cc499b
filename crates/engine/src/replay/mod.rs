//! The allocator's state after any step, rebuilt from a [`Trace`].
//!
//! State after `k` steps is the initial state with the first `k` steps applied.
//! Full copies of the state are kept every [`Replay::checkpoint_every`] steps, so
//! a jump to any `k` restores the nearest checkpoint and applies at most that
//! many steps. The spacing is 64 steps, or wider when the copies would take more
//! than [`CHECKPOINT_BYTES`] together: a function with 180,000 bundles and
//! 120,000 steps would otherwise keep 25 GB of copies. The replay shares the
//! trace it replays (an `Arc`), never copies it.
//!
//! Files: [`diagnose`] (loop detection), [`explain`] (a step in words),
//! [`invariants`] (what must hold in any replay), [`moves`] (every inserted
//! move traced to the step that caused it), [`query`] (finding steps),
//! [`pressure`] (values live against registers, per class), [`single_pass`]
//! (the single-pass allocator's steps: its state after any step, in words).

pub mod diagnose;
pub mod diff;
pub mod explain;
pub mod invariants;
pub mod moves;
pub mod narrate;
pub mod pressure;
pub mod query;
pub mod single_pass;

/// Real regalloc2 logs for the unit tests: the fixtures the integration tests
/// read too (`tests/fixtures/regalloc2-logs/`).
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::trace::Trace;
    use crate::trace::import::import_log;

    /// The trace of fixture log `name`, read whole.
    pub fn log(name: &str) -> Trace {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/regalloc2-logs")
            .join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        import_log(&path, &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .trace
    }
}

use std::collections::HashMap;
use std::sync::Arc;

use crate::trace::{
    BundleId, BundleProps, BundleRanges, Event, Outcome, PReg, Phase, Seg, SpillKind, Step, Trace,
    VRegId, vregs_in,
};

/// Where a bundle stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Status {
    /// Not created yet, or holding no ranges and never queued.
    Idle,
    Queued,
    Allocated(PReg),
    /// Cut into minimal bundles; it holds no ranges any more.
    Dissolved,
    Spilled(SpillKind),
    /// A spill bundle waiting for the second-chance pass.
    SpillBundle,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Queued => "queued",
            Status::Allocated(_) => "allocated",
            Status::Dissolved => "dissolved",
            Status::Spilled(_) => "spilled",
            Status::SpillBundle => "spill bundle",
        }
    }
}

/// One bundle in the replayed state (its ranges are in [`State::ranges`]).
#[derive(Clone, Debug, PartialEq)]
pub struct BundleState {
    pub status: Status,
    /// Times this bundle was evicted so far.
    pub evictions: u32,
}

/// The whole allocator state after some number of steps.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub applied: usize,
    /// Every bundle created so far, by id.
    pub bundles: Vec<BundleState>,
    /// Each bundle's live ranges.
    pub ranges: BundleRanges,
}

impl State {
    /// The live ranges `bundle` holds.
    pub fn segs(&self, bundle: BundleId) -> &[Seg] {
        self.ranges.get(bundle)
    }
}

/// A split edge in the lineage forest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineageEdge {
    pub parent: BundleId,
    pub child: BundleId,
    /// Index of the step (0-based) that created the child.
    pub step: usize,
}

/// Memory the checkpoints of one replay may take together, roughly.
pub const CHECKPOINT_BYTES: usize = 128 << 20;

/// Closest spacing of checkpoints, in steps.
const MIN_CHECKPOINT_EVERY: usize = 64;

impl State {
    /// Bytes a copy of this state holds, near enough to space checkpoints.
    fn bytes(&self) -> usize {
        self.bundles.capacity() * std::mem::size_of::<BundleState>() + self.ranges.heap_bytes()
    }
}

/// Checkpoint spacing for `steps` steps over states of about `state_bytes`.
fn checkpoint_spacing(steps: usize, state_bytes: usize) -> usize {
    let copies = (CHECKPOINT_BYTES / state_bytes.max(1)).max(1);
    steps.div_ceil(copies).max(MIN_CHECKPOINT_EVERY)
}

/// A steppable replay of one trace.
pub struct Replay {
    trace: Arc<Trace>,
    initial: State,
    checkpoints: Vec<State>,
    pub checkpoint_every: usize,
    pub lineage: Vec<LineageEdge>,
    /// First step (0-based) that touches each bundle.
    pub first_step_of: HashMap<BundleId, usize>,
    /// The virtual registers of each step's bundle when the step began.
    step_vregs: Vec<Box<[VRegId]>>,
    /// Each step's bundle's properties when it began.
    step_props: Vec<Option<BundleProps>>,
}

fn apply(state: &mut State, step: &Step) {
    let ensure = |state: &mut State, b: BundleId| {
        let b = b as usize;
        if state.bundles.len() <= b {
            state.bundles.resize(
                b + 1,
                BundleState {
                    status: Status::Idle,
                    evictions: 0,
                },
            );
        }
    };
    ensure(state, step.bundle);
    for e in &step.events {
        match e {
            Event::Evict { bundle, .. } => {
                ensure(state, *bundle);
                let b = &mut state.bundles[*bundle as usize];
                b.status = Status::Queued;
                b.evictions += 1;
            }
            Event::Assigned { bundle, preg } => {
                ensure(state, *bundle);
                state.bundles[*bundle as usize].status = Status::Allocated(*preg);
            }
            Event::NewBundle { bundle, .. } => {
                ensure(state, *bundle);
                state.bundles[*bundle as usize].status = Status::Queued;
            }
            Event::Ranges { bundle, .. }
            | Event::RangesJoined { bundle, .. }
            | Event::RangeEndCut { bundle, .. } => {
                ensure(state, *bundle);
                state.ranges.apply_event(e);
            }
            Event::RangesSplit {
                bundle, new_bundle, ..
            } => {
                ensure(state, *bundle);
                ensure(state, *new_bundle);
                state.ranges.apply_event(e);
            }
            Event::ToSpillBundle { spill_bundle, .. } => {
                ensure(state, *spill_bundle);
                state.ranges.apply_event(e);
                let b = &mut state.bundles[*spill_bundle as usize];
                if matches!(b.status, Status::Idle) {
                    b.status = Status::SpillBundle;
                }
            }
            _ => {}
        }
    }
    let dissolved = state.ranges.get(step.bundle).is_empty();
    let b = &mut state.bundles[step.bundle as usize];
    b.status = match &step.outcome {
        Outcome::Allocated { preg } => Status::Allocated(*preg),
        Outcome::Split { .. } if dissolved => Status::Dissolved,
        Outcome::Split { .. } => Status::Queued,
        Outcome::Spilled { how } => match (step.phase, how) {
            (Phase::Main, SpillKind::Deferred) => Status::SpillBundle,
            _ => Status::Spilled(*how),
        },
        Outcome::Incomplete => b.status,
    };
    state.applied += 1;
}

impl Replay {
    /// Replays `trace`, which the replay then shares (pass an `Arc<Trace>` to
    /// keep a handle on it, or a `Trace` to hand it over).
    pub fn new(trace: impl Into<Arc<Trace>>) -> Replay {
        let trace: Arc<Trace> = trace.into();
        let mut initial = State {
            applied: 0,
            bundles: trace
                .initial
                .bundles
                .iter()
                .map(|_| BundleState {
                    status: Status::Idle,
                    evictions: 0,
                })
                .collect(),
            ranges: BundleRanges::from_dump(&trace.initial),
        };
        for &b in &trace.initial_queue {
            if let Some(s) = initial.bundles.get_mut(b as usize) {
                s.status = Status::Queued;
            }
        }
        // The state grows as splits add bundles; the final dump's size, where
        // there is one, is the better guess.
        let state_bytes = trace
            .final_state
            .as_ref()
            .map_or(0, |d| {
                d.bundles.len() * std::mem::size_of::<BundleState>()
                    + d.bundles
                        .iter()
                        .map(|b| {
                            std::mem::size_of::<Vec<Seg>>()
                                + b.segs.len() * std::mem::size_of::<Seg>()
                        })
                        .sum::<usize>()
            })
            .max(initial.bytes());
        let checkpoint_every = checkpoint_spacing(trace.steps.len(), state_bytes);
        let mut checkpoints = vec![initial.clone()];
        let mut state = initial.clone();
        let mut lineage = Vec::new();
        let mut first_step_of = HashMap::new();
        let mut step_vregs = Vec::with_capacity(trace.steps.len());
        let mut props: HashMap<BundleId, BundleProps> = trace.initial_props.clone();
        let mut step_props = Vec::with_capacity(trace.steps.len());
        for (i, step) in trace.steps.iter().enumerate() {
            first_step_of.entry(step.bundle).or_insert(i);
            step_vregs.push(vregs_in(&trace.vreg_of_range, state.segs(step.bundle)).into());
            step_props.push(props.get(&step.bundle).copied());
            for e in &step.events {
                if let Event::Props {
                    bundle,
                    prio,
                    weight,
                    minimal,
                    fixed,
                } = e
                {
                    props.insert(
                        *bundle,
                        BundleProps {
                            prio: *prio,
                            weight: *weight,
                            minimal: *minimal,
                            fixed: *fixed,
                        },
                    );
                }
            }
            for e in &step.events {
                if let Event::NewBundle { bundle, parent } = e {
                    lineage.push(LineageEdge {
                        parent: *parent,
                        child: *bundle,
                        step: i,
                    });
                }
            }
            apply(&mut state, step);
            if (i + 1) % checkpoint_every == 0 {
                checkpoints.push(state.clone());
            }
        }
        Replay {
            trace,
            initial,
            checkpoints,
            checkpoint_every,
            lineage,
            first_step_of,
            step_vregs,
            step_props,
        }
    }

    /// The virtual registers of step `i`'s bundle (0-based) when it began.
    pub fn vregs_at_start(&self, i: usize) -> &[VRegId] {
        self.step_vregs.get(i).map_or(&[], |v| v)
    }

    /// The properties of step `i`'s bundle (0-based) when it began, if
    /// regalloc2 logged them (minimal, fixed, spill weight).
    pub fn props_at_start(&self, i: usize) -> Option<BundleProps> {
        self.step_props.get(i).copied().flatten()
    }

    /// The trace replayed.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The trace replayed, shared.
    pub fn shared_trace(&self) -> Arc<Trace> {
        Arc::clone(&self.trace)
    }

    /// The steps replayed, in order.
    pub fn steps(&self) -> &[Step] {
        &self.trace.steps
    }

    pub fn len(&self) -> usize {
        self.trace.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trace.steps.is_empty()
    }

    /// The state after `k` steps (clamped to the number of steps).
    pub fn state_at(&self, k: usize) -> State {
        let k = k.min(self.len());
        let cp = (k / self.checkpoint_every).min(self.checkpoints.len() - 1);
        let mut state = self.checkpoints[cp].clone();
        for step in &self.steps()[state.applied..k] {
            apply(&mut state, step);
        }
        state
    }

    /// Moves `state` from wherever it is to `k` steps, forward by applying or
    /// backward through a checkpoint.
    pub fn seek(&self, state: &mut State, k: usize) {
        let k = k.min(self.len());
        if k >= state.applied && k - state.applied <= self.checkpoint_every {
            for step in &self.steps()[state.applied..k] {
                apply(state, step);
            }
        } else {
            *state = self.state_at(k);
        }
    }

    pub fn initial(&self) -> &State {
        &self.initial
    }

    /// The virtual registers a bundle's ranges belong to.
    pub fn vregs_of(&self, segs: &[Seg]) -> Vec<VRegId> {
        vregs_in(&self.trace.vreg_of_range, segs)
    }

    /// Children of a bundle in the lineage, with the step that created each.
    pub fn children(&self, bundle: BundleId) -> impl Iterator<Item = &LineageEdge> {
        self.lineage.iter().filter(move |e| e.parent == bundle)
    }

    /// The parent of a bundle, if a split created it.
    pub fn parent(&self, bundle: BundleId) -> Option<&LineageEdge> {
        self.lineage.iter().find(|e| e.child == bundle)
    }
}
