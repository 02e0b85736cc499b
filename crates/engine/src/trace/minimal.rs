//! Records of `split_into_minimal_bundles` in regalloc2's `ion/process.rs`: a
//! bundle dissolved into one bundle per use, including the 0.9–0.11 variant
//! that may add a second live range to the bundle just made (see the table
//! in `dialect.rs`).

use super::builder::{PendingSplit, Remaining, TraceBuilder};
use super::model::{Dialect, Event, Point, Seg};
use super::scan::{bundle_in, first_after, has, point_in, points_in, split_key};

impl TraceBuilder {
    /// A minimal-splitting record; false if `t` is not one.
    pub(super) fn minimal_split_record(&mut self, t: &str, message: &str) -> bool {
        if let Some(rest) = t.strip_prefix("Splitting bundle ") {
            match bundle_in(rest) {
                Some(bundle) => {
                    self.push_event(Event::MinimalSplit { bundle });
                    self.split = Some(PendingSplit {
                        bundle,
                        applied: true,
                        old_segs: self.segs.get(bundle).to_vec(),
                        ..Default::default()
                    });
                    self.set_segs(bundle, Vec::new());
                }
                None => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("removing old LR ") {
            self.minimal_vreg = first_after(rest, "VRegIndex(");
            let lr = first_after(rest, "LiveRangeIndex(");
            if let Some(split) = self.split.as_mut() {
                split.lr_to = split
                    .old_segs
                    .iter()
                    .find(|s| Some(s.range) == lr)
                    .map(|s| s.to);
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("use ")
            && has(rest, "(last_live_pos")
        {
            // 0.9–0.11: `-> use Use { operand: .., pos: P, .. } (last_live_pos Q)`;
            // P is where a shared minimal bundle's previous LR is cut.
            self.trace.dialect.narrow(Dialect::UP_TO_0_11);
            if let Some(split) = self.split.as_mut() {
                split.use_pos = split_key(rest, "pos: ").and_then(|(_, p)| point_in(p));
            }
            return true;
        }
        if t.starts_with("appended to last LR") || t.starts_with("first range has range") {
            self.trace.dialect.narrow(Dialect::UP_TO_0_11);
            self.ignore_site = true;
            return true;
        }
        if let Some(rest) = t.strip_prefix("created new LR ")
            && let Some((lr_text, b)) = split_key(rest, "but adding to existing bundle")
        {
            // 0.9–0.11: a second LR at the same instruction joins the minimal
            // bundle just made; that bundle's last LR now ends at the use.
            self.trace.dialect.narrow(Dialect::UP_TO_0_11);
            let lr = first_after(lr_text, "LiveRangeIndex(");
            let bundle = bundle_in(b);
            let split = self.split.as_ref();
            let pos = split.and_then(|s| s.use_pos);
            let lr_to = split.and_then(|s| s.lr_to);
            match (lr, bundle, pos) {
                (Some(lr), Some(bundle), Some(pos)) => {
                    let mut segs = self.segs.get(bundle).to_vec();
                    if let Some(last) = segs.last_mut() {
                        last.to = pos;
                    }
                    let next = Point::new(pos.inst() + 1, false);
                    segs.push(Seg {
                        from: pos,
                        to: lr_to.map_or(next, |t| t.min(next)),
                        range: lr,
                    });
                    if let Some(v) = self.minimal_vreg {
                        self.vreg_of_range.insert(lr, v);
                    }
                    self.set_segs(bundle, segs);
                }
                _ => self.unparsed(message),
            }
            return true;
        }
        if t.starts_with("use ")
            || t.starts_with("migrating this")
            || t.starts_with("moving the spill range")
        {
            self.ignore_site = true;
            return true;
        }
        if let Some(rest) = t.strip_prefix("created new LR ") {
            let lr = first_after(rest, "LiveRangeIndex(");
            let pts = points_in(rest);
            let bundle = rest
                .split_once("new bundle")
                .and_then(|(_, b)| bundle_in(b));
            let parent = self.split.as_ref().map(|s| s.bundle);
            if let (Some(lr), 2, Some(bundle), Some(parent)) = (lr, pts.len(), bundle, parent) {
                if let Some(v) = self.minimal_vreg {
                    self.vreg_of_range.insert(lr, v);
                }
                if let Some(&ss) = self.spillset_of.get(&parent) {
                    self.spillset_of.insert(bundle, ss);
                }
                self.push_event(Event::NewBundle { bundle, parent });
                self.set_segs(
                    bundle,
                    vec![Seg {
                        from: pts[0],
                        to: pts[1],
                        range: lr,
                    }],
                );
            } else {
                self.unparsed(message);
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("added spill range ") {
            let pts = points_in(rest);
            let lr = first_after(rest, "LiveRangeIndex(");
            let spill = rest
                .split_once("spill bundle")
                .and_then(|(_, b)| bundle_in(b));
            let parent = self.split.as_ref().map(|s| s.bundle);
            if let (2, Some(lr), Some(spill), Some(parent)) = (pts.len(), lr, spill, parent) {
                if let Some(v) = self.minimal_vreg {
                    self.vreg_of_range.insert(lr, v);
                }
                let seg = Seg {
                    from: pts[0],
                    to: pts[1],
                    range: lr,
                };
                self.move_to_spill(parent, spill, seg, Remaining::All(Vec::new()));
            } else {
                self.unparsed(message);
            }
            return true;
        }
        false
    }
}
