//! Records of `split_and_requeue_bundle` in regalloc2's `ion/process.rs`: where
//! a bundle is cut, which live range is cut in two, the new bundle, and the
//! empty regions moved to the spill bundle. The builder applies the split to
//! its tracked ranges so the step carries both halves.

use super::builder::{PendingSplit, Remaining, TraceBuilder};
use super::model::{BundleId, Dialect, Event, Point, RangeId, Seg};
use super::ranges::{cut_end, split_segs};
use super::scan::{
    all_after, bundle_in, bundles_in, first_after, has, point_in, points_in, preg_in, segs_in,
    split_key,
};

impl TraceBuilder {
    /// A split record; false if `t` is not one.
    pub(super) fn split_record(&mut self, t: &str, message: &str) -> bool {
        if let Some(rest) = t.strip_prefix("split bundle ") {
            let bundle = bundle_in(rest);
            let at = split_key(rest, " at ").and_then(|(_, a)| point_in(a));
            let hint = split_key(rest, "hint").and_then(|(_, h)| preg_in(h));
            if let (Some(bundle), Some(at)) = (bundle, at) {
                self.split = Some(PendingSplit {
                    bundle,
                    requested: at,
                    ..Default::default()
                });
                self.push_event(Event::Split { bundle, at, hint });
            } else {
                self.unparsed(message);
            }
            return true;
        }
        if t.starts_with("bundle_start = ") {
            self.trace.dialect.narrow(Dialect::FROM_0_12);
            let pts = points_in(t);
            if let (Some(split), 2) = (self.split.as_mut(), pts.len()) {
                split.end = Some(pts[1]);
            }
            return true;
        }
        if t.starts_with("split point is at bundle start; advancing to")
            || t.starts_with("advancing split point to")
        {
            if t.starts_with("advancing") {
                self.trace.dialect.narrow(Dialect::FROM_0_10);
            }
            if let (Some(split), Some(p)) = (self.split.as_mut(), point_in(t)) {
                split.adjusted = Some(p);
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("LRs: ") {
            if let Some(split) = self.split.as_mut() {
                split.lrs = Some(segs_in(rest));
            }
            return true;
        }
        if t.starts_with("last LR in old bundle")
            || t.starts_with("first LR in new bundle")
            || t.starts_with("first use loc is")
            || t.starts_with("spans only one inst")
        {
            if t.starts_with("spans") {
                self.trace.dialect.narrow(Dialect::FROM_0_12);
            }
            self.ignore_site = true;
            return true;
        }
        if let Some(rest) = t.strip_prefix("splitting LR ") {
            let lrs = all_after(rest, "LiveRangeIndex(");
            if let (Some(split), [o, n]) = (self.split.as_mut(), lrs.as_slice()) {
                split.cut = Some((*o, *n));
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("creating new bundle ") {
            if let (Some(split), Some(b)) = (self.split.as_mut(), bundle_in(rest)) {
                split.new_bundle = Some(b);
            }
            self.apply_split();
            return true;
        }
        if t.starts_with("bundle ") && has(t, ": no uses; moving to spill bundle") {
            let bs = bundles_in(t);
            if let [bundle, spill] = bs.as_slice() {
                let is_new = self.split.as_ref().and_then(|s| s.new_bundle) == Some(*bundle);
                if is_new {
                    self.trim_first(*bundle, None, *spill, None);
                } else {
                    self.trim_last(*bundle, None, *spill, None);
                }
            } else {
                self.unparsed(message);
            }
            return true;
        }
        if t.starts_with("bundle ") && has(t, "last use implies split point") {
            // The trailing region moves in the next record, which names the new LR.
            self.ignore_site = true;
            return true;
        }
        if let Some(rest) = t.strip_prefix("moving trailing empty region to new spill bundle ") {
            let spill = bundle_in(rest);
            let lr = first_after(rest, "LiveRangeIndex(");
            let bundle = self.split.as_ref().map(|s| s.bundle);
            if let (Some(spill), Some(bundle)) = (spill, bundle) {
                // The cut is at the instruction after the last use.
                let segs = self.get_segs(bundle);
                let at = segs.last().and_then(|last| last_use_cut(self, last));
                self.trim_last(bundle, at, spill, lr);
            } else {
                self.unparsed(message);
            }
            return true;
        }
        if t.starts_with("bundle ") && has(t, "first use implies split point") {
            // regalloc2 prints the use's point; the cut is before its instruction.
            if let (Some(split), Some(p)) = (
                self.split.as_mut(),
                point_in(split_key(t, "split point").map(|x| x.1).unwrap_or("")),
            ) {
                split.adjusted_first = Some(Point::new(p.inst(), false));
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("moving leading empty region to new spill bundle ") {
            let spill = bundle_in(rest);
            let lr = first_after(rest, "LiveRangeIndex(");
            let split = self.split.as_ref();
            let bundle = split.and_then(|s| s.new_bundle);
            let at = split.and_then(|s| s.adjusted_first);
            if let (Some(spill), Some(bundle)) = (spill, bundle) {
                self.trim_first(bundle, at, spill, lr);
            } else {
                self.unparsed(message);
            }
            return true;
        }
        false
    }

    /// Applies a pending split to the tracked ranges once its new bundle is known.
    pub(super) fn apply_split(&mut self) {
        let Some(split) = self.split.as_mut() else {
            return;
        };
        if split.applied {
            return;
        }
        let Some(new_bundle) = split.new_bundle else {
            return;
        };
        split.applied = true;
        let bundle = split.bundle;
        let segs = split
            .lrs
            .clone()
            .unwrap_or_else(|| self.segs.get(bundle).to_vec());
        let end = split.end.or(segs.last().map(|s| s.to));
        let at = match split.adjusted {
            Some(p) => p,
            None => {
                let mut p = split.requested;
                if p.is_post() {
                    p = Point(p.0 + 1);
                }
                if let Some(end) = end
                    && p >= end
                {
                    p = Point(p.0.saturating_sub(2));
                }
                p
            }
        };
        let cut = split.cut;
        // From the tracked ranges, the event says only where the cut is;
        // from ranges regalloc2 printed (0.9–0.11), both lists are stored.
        let tracked = split.lrs.is_none() || segs.as_slice() == self.segs.get(bundle);
        let (old, new) = split_segs(&segs, at, cut);
        if let Some((o, n)) = cut
            && let Some(&v) = self.vreg_of_range.get(&o)
        {
            self.vreg_of_range.insert(n, v);
        }
        if let Some(&ss) = self.spillset_of.get(&bundle) {
            self.spillset_of.insert(new_bundle, ss);
        }
        self.push_event(Event::SplitPoint { at });
        self.push_event(Event::NewBundle {
            bundle: new_bundle,
            parent: bundle,
        });
        if tracked && self.known(bundle) && self.known(new_bundle) {
            self.segs.set(bundle, old);
            self.segs.set(new_bundle, new);
            self.push_event(Event::RangesSplit {
                bundle,
                new_bundle,
                at,
                cut,
            });
        } else {
            self.set_segs(bundle, old);
            self.set_segs(new_bundle, new);
        }
    }

    pub(super) fn trim_last(
        &mut self,
        bundle: BundleId,
        at: Option<Point>,
        spill: BundleId,
        new_lr: Option<RangeId>,
    ) {
        let Some(&last) = self.segs.get(bundle).last() else {
            return;
        };
        let (kept, moved) = match at {
            Some(at) => (
                Some(Seg { to: at, ..last }),
                Seg {
                    from: at,
                    to: last.to,
                    range: new_lr.unwrap_or(last.range),
                },
            ),
            None => (None, last),
        };
        self.move_to_spill(bundle, spill, moved, Remaining::CutEnd { last: true, kept });
    }

    pub(super) fn trim_first(
        &mut self,
        bundle: BundleId,
        at: Option<Point>,
        spill: BundleId,
        new_lr: Option<RangeId>,
    ) {
        let Some(&first) = self.segs.get(bundle).first() else {
            return;
        };
        let (kept, moved) = match at {
            Some(at) => (
                Some(Seg { from: at, ..first }),
                Seg {
                    from: first.from,
                    to: at,
                    range: new_lr.unwrap_or(first.range),
                },
            ),
            None => (None, first),
        };
        self.move_to_spill(
            bundle,
            spill,
            moved,
            Remaining::CutEnd { last: false, kept },
        );
    }

    /// `moved` leaves `bundle` for the spill bundle `spill`; what `bundle` keeps
    /// is said in as few words as it can be (see [`Remaining`]).
    pub(super) fn move_to_spill(
        &mut self,
        bundle: BundleId,
        spill: BundleId,
        moved: Seg,
        remaining: Remaining,
    ) {
        if !self.known(bundle) || !self.known(spill) {
            return;
        }
        self.note_spill_bundle(bundle, spill);
        match remaining {
            Remaining::All(segs) => self.set_segs(bundle, segs),
            Remaining::CutEnd { last, kept } => {
                let rest = cut_end(self.segs.get(bundle), last, kept);
                self.segs.set(bundle, rest);
                self.push_event(Event::RangeEndCut { bundle, last, kept });
            }
        }
        // The spill bundle's list grows with its spill set: only the moved
        // range is stored, in this event.
        self.segs.join(spill, std::slice::from_ref(&moved));
        self.push_event(Event::ToSpillBundle {
            bundle,
            spill_bundle: spill,
            seg: moved,
        });
    }

    fn get_segs(&self, bundle: BundleId) -> Vec<Seg> {
        self.segs.get(bundle).to_vec()
    }
}

/// Where regalloc2 cuts a bundle's trailing region: before the instruction after
/// the last use of its last range. The uses come from the initial dump by vreg.
fn last_use_cut(b: &TraceBuilder, last: &Seg) -> Option<Point> {
    let vreg = b.vreg_of_range.get(&last.range)?;
    let uses = b
        .trace
        .initial
        .ranges
        .iter()
        .filter(|r| r.vreg == Some(*vreg));
    let last_use = uses
        .flat_map(|r| r.uses.iter())
        .filter(|u| u.pos >= last.from && u.pos < last.to)
        .map(|u| u.pos)
        .max()?;
    Some(Point::new(last_use.inst() + 1, false))
}
