//! [`StepObserver`]: a hook a capture attaches to the trace builder to watch
//! steps as they complete and ask the capture to stop (the loop detector is
//! one). The trace knows nothing of what an observer looks for.

use super::model::{BundleId, RangeId, StateDump, Step, VRegId};

/// Watches an allocation step by step while its records are parsed.
pub trait StepObserver {
    /// Called once, before the first completed step: regalloc2's state dump
    /// before allocation and the bundles it queued.
    fn start(&mut self, initial: &StateDump, initial_queue: &[BundleId]);

    /// One completed step, in order; `vreg_of` names the vreg of a live range
    /// as far as the trace knows it. True asks the capture to stop.
    fn step(&mut self, step: &Step, vreg_of: &dyn Fn(RangeId) -> Option<VRegId>) -> bool;
}
