//! Records of regalloc2's `ion/spill.rs`: the second-chance pass over spill
//! bundles (each bundle tried is a step of phase [`Phase::SpillBundles`]) and
//! the spill-slot allocation that ends the allocation passes.

use super::builder::TraceBuilder;
use super::model::{Event, Phase};
use super::scan::{bundle_in, preg_in, split_key};

impl TraceBuilder {
    pub(super) fn spill_record(&mut self, message: &str) {
        let t = message.trim_start();
        let t = t.strip_prefix("-> ").unwrap_or(t);
        if t.starts_with("allocating regs for spilled bundles") {
            self.close_current();
            self.in_spill_pass = true;
            return;
        }
        if let Some(rest) = t.strip_prefix("trying bundle ") {
            let bundle = bundle_in(rest);
            let preg = split_key(rest, "preg").and_then(|(_, p)| preg_in(p));
            if let Some(bundle) = bundle {
                let same = self
                    .current
                    .as_ref()
                    .is_some_and(|s| s.bundle == bundle && s.phase == Phase::SpillBundles);
                if !same {
                    self.start_step(bundle, None, Phase::SpillBundles);
                }
                if let Some(preg) = preg {
                    self.last_probe = Some(preg);
                    self.push_event(Event::Probe { preg });
                }
            } else {
                self.unparsed(message);
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("spilling bundle ") {
            if let Some(bundle) = bundle_in(rest) {
                let same = self
                    .current
                    .as_ref()
                    .is_some_and(|s| s.bundle == bundle && s.phase == Phase::SpillBundles);
                if !same {
                    self.start_step(bundle, None, Phase::SpillBundles);
                }
                self.push_event(Event::SpillSetRequired { bundle });
            }
            return;
        }
        if t.starts_with("allocate spillslot") {
            // The first one ends the spill-bundle pass; the rest say nothing new.
            self.close_current();
            self.ignore_site = true;
            return;
        }
        if t.starts_with("spillslot allocator done") {
            self.close_current();
            self.trace.finished = true;
        }
        // Slot search details are not steps.
    }
}
