//! Records of `recompute_bundle_properties` in regalloc2's `ion/process.rs`: a
//! bundle's spill weight and whether it is minimal or fixed, before the first
//! step or again after a split. Its priority (`-> prio N`) is printed from
//! `ion/merge.rs` in 0.15 and read in `merge.rs` here.

use super::builder::TraceBuilder;
use super::model::Dialect;
use super::scan::{bundle_in, first_after, has, number_at};

/// Spill weights regalloc2 gives minimal bundles (`ion/process.rs`,
/// `recompute_bundle_properties`): fixed, limited (less its limit) and plain.
const MINIMAL_FIXED_WEIGHT: u32 = 2_000_000;
const MINIMAL_LIMITED_WEIGHT: u32 = 1_900_000;
const MINIMAL_WEIGHT: u32 = 1_800_000;

impl TraceBuilder {
    /// A bundle-properties record; false if `t` is not one.
    pub(super) fn props_record(&mut self, t: &str) -> bool {
        if let Some(rest) = t.strip_prefix("prio ") {
            // `-> prio N; back into queue` (eviction) or `-> prio N` (merge.rs).
            if has(rest, "back into queue") {
                return true;
            }
            if let Some((prio, _)) = number_at(rest)
                && let Some((b, _)) = self.props_for
            {
                self.props_for = Some((b, prio));
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("recompute bundle properties: bundle ") {
            self.props_for = bundle_in(rest).map(|b| (b, 0));
            return true;
        }
        if t.starts_with("stack operand at") {
            self.trace.dialect.narrow(Dialect::STACK_OPERAND);
            self.ignore_site = true;
            return true;
        }
        if t.starts_with("use: ")
            || t.starts_with("fixed operand at")
            || t.starts_with("is fixed def")
            || t.starts_with("uses spill weight")
            || t.starts_with("minimal: ")
            || t.starts_with("no vreg; minimal and fixed")
        {
            self.ignore_site = true;
            return true;
        }
        if t.starts_with("fixed and minimal")
            || t.starts_with("non-fixed and minimal")
            || t.starts_with("limited(")
        {
            if let Some((bundle, prio)) = self.props_for.take() {
                let (weight, fixed) = if t.starts_with("fixed") {
                    (MINIMAL_FIXED_WEIGHT, true)
                } else if t.starts_with("non-fixed") {
                    (MINIMAL_WEIGHT, false)
                } else {
                    self.trace.dialect.narrow(Dialect::FROM_0_14);
                    let limit = first_after(t, "limited(").unwrap_or(0);
                    (MINIMAL_LIMITED_WEIGHT.saturating_sub(limit), false)
                };
                self.props(bundle, prio, weight, true, fixed);
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("dividing by prio ") {
            if let Some((bundle, _)) = self.props_for.take() {
                let prio = number_at(rest).map(|(n, _)| n).unwrap_or(0);
                let weight = first_after(rest, "final weight ").unwrap_or(0);
                self.props(bundle, prio, weight, false, false);
            }
            return true;
        }
        false
    }
}
