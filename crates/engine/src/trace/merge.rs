//! Records of regalloc2's `ion/merge.rs`: the bundles queued before the
//! first step, with their priorities.

use super::builder::TraceBuilder;
use super::scan::number_at;

impl TraceBuilder {
    pub(super) fn merge_record(&mut self, message: &str) {
        let t = message.trim_start();
        let t = t.strip_prefix("-> ").unwrap_or(t);
        if let Some(rest) = t.strip_prefix("enqueueing bundle") {
            if let Some((b, _)) = number_at(rest)
                && self.known(b)
            {
                self.trace.initial_queue.push(b);
            }
            return;
        }
        if t.starts_with("no ranges; skipping") {
            self.trace.initial_queue.pop();
            return;
        }
        if let Some(rest) = t.strip_prefix("prio ")
            && let Some((prio, _)) = number_at(rest)
            && let Some((b, _)) = self.props_for
        {
            self.props_for = Some((b, prio));
        }
    }
}
