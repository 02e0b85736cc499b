//! Records of regalloc2's `ion/process.rs` while it allocates a bundle:
//! `process_bundle` (a step starts), `try_to_allocate_bundle_to_reg` (probes,
//! conflicts), eviction and the cost comparisons before a split. The same file
//! also logs splitting (`split.rs`, `minimal.rs` here) and bundle properties
//! (`props.rs`); [`TraceBuilder::process_record`] tries each in turn.

use super::builder::TraceBuilder;
use super::model::{Dialect, Event, Phase};
use super::scan::{
    bundle_in, bundles_in, first_after, has, number_at, option_number, point_in, preg_in,
    requirement_in, short_preg, split_key,
};

impl TraceBuilder {
    pub(super) fn process_record(&mut self, message: &str) {
        let t = message.trim_start();
        let t = t.strip_prefix("-> ").unwrap_or(t);
        let understood = self.allocation_record(t, message)
            || self.split_record(t, message)
            || self.minimal_split_record(t, message)
            || self.props_record(t)
            || self.allocation_detail_record(t);
        if !understood {
            self.unparsed(message);
        }
    }

    /// A step starts, a register is probed or given, bundles are evicted.
    fn allocation_record(&mut self, t: &str, message: &str) -> bool {
        if let Some(rest) = t.strip_prefix("process_bundle: bundle ") {
            let bundle = bundle_in(rest);
            let hint = split_key(rest, "hint").and_then(|(_, h)| preg_in(h));
            match bundle {
                Some(b) => self.start_step(b, hint, Phase::Main),
                None => self.unparsed(message),
            }
            return true;
        }
        if t.starts_with("try_to_allocate_bundle_to_reg:") {
            // "trying preg" (main loop) and "trying bundle .. to preg" (spill
            // pass) name the register already.
            self.ignore_site = true;
            return true;
        }
        if let Some(rest) = t.strip_prefix("attempt ") {
            let n = number_at(rest).map(|(n, _)| n).unwrap_or(0);
            match split_key(rest, "req ").and_then(|(_, r)| requirement_in(r)) {
                Some(req) => self.push_event(Event::Attempt { n, req }),
                None => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("trying preg ") {
            match preg_in(rest) {
                Some(preg) => {
                    self.last_probe = Some(preg);
                    self.push_event(Event::Probe { preg })
                }
                None => self.unparsed(message),
            }
            return true;
        }
        if t.starts_with("conflict!:") {
            self.push_event(Event::RequirementConflict);
            return true;
        }
        if let Some(rest) = t.strip_prefix("bundle ")
            && has(rest, "assigned to preg")
        {
            let bundle = bundle_in(rest);
            let preg = split_key(rest, "preg").and_then(|(_, p)| preg_in(p));
            if let (Some(bundle), Some(preg)) = (bundle, preg) {
                self.push_event(Event::Assigned { bundle, preg });
            } else {
                self.unparsed(message);
            }
            return true;
        }
        if t.starts_with("allocated to any") {
            self.ignore_site = true;
            return true;
        }
        if let Some(rest) = t.strip_prefix("conflict with bundles ") {
            let (set, at) = split_key(rest, "first conflict at").unwrap_or((rest, ""));
            let bundles = bundles_in(set);
            match point_in(at) {
                Some(point) => self.push_event(Event::Conflict {
                    preg: self.last_probe,
                    bundles: bundles.into(),
                    point,
                }),
                None => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("conflict with fixed alloc;") {
            let cost = first_after(rest, "point is ").unwrap_or(0);
            match point_in(rest) {
                Some(point) => self.push_event(Event::ConflictFixed {
                    preg: self.last_probe,
                    cost,
                    point,
                }),
                None => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("lowest cost evict: set ") {
            // The set was an `Option` up to 0.10: `Some([..])`.
            if rest.starts_with("Some(") {
                self.trace.dialect.narrow(Dialect::UP_TO_0_10);
            } else if rest.starts_with('[') {
                self.trace.dialect.narrow(Dialect::FROM_0_11);
            }
            let (set, cost) = split_key(rest, "cost").unwrap_or((rest, ""));
            self.push_event(Event::LowestEvict {
                bundles: bundles_in(set).into(),
                cost: option_number(cost),
            });
            return true;
        }
        if let Some(rest) = t.strip_prefix("lowest cost split: cost ") {
            let (cost, rest) = split_key(rest, "point").unwrap_or((rest, ""));
            let (point, reg) = split_key(rest, "reg").unwrap_or((rest, ""));
            match point_in(point) {
                Some(point) => self.push_event(Event::LowestSplit {
                    cost: option_number(cost),
                    point,
                    preg: preg_in(reg),
                }),
                None => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("our spill weight: ") {
            if let Some((weight, _)) = number_at(rest) {
                self.push_event(Event::OurWeight { weight });
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("deciding to split: our spill weight is ") {
            if let Some((weight, _)) = number_at(rest) {
                self.push_event(Event::DecideSplit { weight });
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("evicting bundle ") {
            // `evicting bundle B: alloc p3i`: the register it loses.
            if let Some(bundle) = bundle_in(rest) {
                let from = split_key(rest, "alloc").and_then(|(_, a)| short_preg(a));
                if let Some(step) = self.current.as_mut()
                    && let Some(Event::Evict { bundle: b, from: f }) = step.events.last_mut()
                    && *b == bundle
                {
                    *f = from;
                }
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("evicting ") {
            match bundle_in(rest) {
                Some(bundle) => self.push_event(Event::Evict { bundle, from: None }),
                None => self.unparsed(message),
            }
            return true;
        }
        if t.starts_with("removing LR") || t.starts_with("PReg range") || t.starts_with("range LR")
        {
            self.ignore_site = true;
            return true;
        }
        false
    }

    /// Details of a probe that change nothing, and the too-many-live-registers check.
    fn allocation_detail_record(&mut self, t: &str) -> bool {
        if t.starts_with("checking for too many live regs") {
            self.push_event(Event::TooManyLiveRegs);
            return true;
        }
        if t.starts_with("PR ")
            || t.starts_with("min bundle")
            || t.starts_with("non-min bundle")
            || t.starts_with("fixed bundle")
            || t.starts_with("total ")
            || t.starts_with("maximum_spill_weight_in_bundle_set")
            || t.starts_with("max: ")
            || t.starts_with("btree contains range")
            || t.starts_with("from vreg")
            || t.starts_with("conflict bundle")
            || t.starts_with("reached high cost")
            || t.starts_with("conflict with fixed reservation")
            || t.starts_with("no more PReg allocations")
            || t.starts_with("has no allocation")
            || t.starts_with("alloc map for")
            || t.starts_with("next PReg allocation is at")
            || t.starts_with("Skipping PReg range")
            || (t.starts_with("range") && has(t, ": use Use"))
            || (t.starts_with("bundle") && has(t, ": ") && number_at(&t[6..]).is_some())
        {
            self.ignore_site = true;
            return true;
        }
        false
    }
}
