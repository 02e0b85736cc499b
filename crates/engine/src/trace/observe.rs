//! [`StepObserver`]: a hook a capture attaches to the trace builder to watch
//! steps as they complete and ask the capture to stop (the loop detector is
//! one). The trace knows nothing of what an observer looks for.

use super::model::{BundleId, RangeId, StateDump, Step, Trace, VRegId};

/// Watches an allocation step by step while its records are parsed.
pub trait StepObserver {
    /// Called once, before the first completed step: regalloc2's state dump
    /// before allocation and the bundles it queued.
    fn start(&mut self, initial: &StateDump, initial_queue: &[BundleId]);

    /// One completed step, in order; `vreg_of` names the vreg of a live range
    /// as far as the trace knows it. True asks the capture to stop.
    fn step(&mut self, step: &Step, vreg_of: &dyn Fn(RangeId) -> Option<VRegId>) -> bool;

    /// Asked after the steps of a record are shown: whether the observer wants
    /// the trace so far ([`StepObserver::snapshot`]). Never, by default.
    fn wants_snapshot(&mut self) -> bool {
        false
    }

    /// The trace so far (initial state, the steps so far, the VCode before
    /// allocation, the vreg of every range seen), for showing an allocation
    /// while it runs. Only called when [`StepObserver::wants_snapshot`] said so.
    fn snapshot(&mut self, _trace: Trace) {}

    /// Whether the observer wants the trace once every step is parsed
    /// ([`StepObserver::all_steps`]). No, by default.
    fn wants_all_steps(&self) -> bool {
        false
    }

    /// The trace when the allocation's steps are over (regalloc2's final dump
    /// begins); move insertion, the checker and code emission still follow,
    /// which take most of a big function's compile.
    fn all_steps(&mut self, _trace: Trace) {}
}

/// Two observers watching the same steps; either can stop the capture.
impl<A: StepObserver, B: StepObserver> StepObserver for (A, B) {
    fn start(&mut self, initial: &StateDump, initial_queue: &[BundleId]) {
        self.0.start(initial, initial_queue);
        self.1.start(initial, initial_queue);
    }

    fn step(&mut self, step: &Step, vreg_of: &dyn Fn(RangeId) -> Option<VRegId>) -> bool {
        let a = self.0.step(step, vreg_of);
        let b = self.1.step(step, vreg_of);
        a || b
    }

    fn wants_snapshot(&mut self) -> bool {
        self.0.wants_snapshot() || self.1.wants_snapshot()
    }

    fn wants_all_steps(&self) -> bool {
        self.0.wants_all_steps() || self.1.wants_all_steps()
    }

    fn all_steps(&mut self, trace: Trace) {
        match (self.0.wants_all_steps(), self.1.wants_all_steps()) {
            (true, true) => {
                self.0.all_steps(trace.clone());
                self.1.all_steps(trace);
            }
            (true, false) => self.0.all_steps(trace),
            (false, true) => self.1.all_steps(trace),
            (false, false) => {}
        }
    }

    fn snapshot(&mut self, trace: Trace) {
        match (self.0.wants_snapshot(), self.1.wants_snapshot()) {
            (true, true) => {
                self.0.snapshot(trace.clone());
                self.1.snapshot(trace);
            }
            (true, false) => self.0.snapshot(trace),
            (false, true) => self.1.snapshot(trace),
            (false, false) => {}
        }
    }
}
