//! Each bundle's live ranges, kept up to date through a run of steps: the
//! one tracker the trace builder (while parsing), the loop detector and the
//! replay use, with the two questions asked of a bundle's ranges (which
//! program points they cover, which vregs they belong to).

use std::collections::HashMap;

use super::model::{BundleId, Event, Point, RangeId, Seg, StateDump, Step, VRegId};

/// A bundle's ranges cut at `at`, as regalloc2 splits a bundle: the parts
/// before `at` stay, the parts after it go to the new bundle; a range spanning
/// `at` is cut in two, and when `cut` is `(old, new)` for it, its part after
/// `at` becomes live range `new`.
pub fn split_segs(
    segs: &[Seg],
    at: Point,
    cut: Option<(RangeId, RangeId)>,
) -> (Vec<Seg>, Vec<Seg>) {
    let mut old = Vec::new();
    let mut new = Vec::new();
    for s in segs {
        if s.from < at {
            old.push(Seg {
                to: s.to.min(at),
                ..*s
            });
        }
        if s.to > at {
            let range = match cut {
                Some((o, n)) if o == s.range && s.from < at => n,
                _ => s.range,
            };
            new.push(Seg {
                from: s.from.max(at),
                range,
                ..*s
            });
        }
    }
    (old, new)
}

/// `segs` without its first (or last) range, with `kept` in its place if the
/// bundle keeps part of it.
pub fn cut_end(segs: &[Seg], last: bool, kept: Option<Seg>) -> Vec<Seg> {
    let mut out = segs.to_vec();
    if last {
        out.pop();
        out.extend(kept);
    } else if !out.is_empty() {
        out.remove(0);
        if let Some(k) = kept {
            out.insert(0, k);
        }
    }
    out
}

/// Live ranges by bundle id; a bundle never given ranges has none.
///
/// Indexed by id: callers pass only ids the parser bounded (see
/// `TraceBuilder`), so the table stays as small as the trace.
#[derive(Clone, Debug, Default)]
pub struct BundleRanges {
    by_bundle: Vec<Vec<Seg>>,
}

/// Equal when every bundle holds the same ranges, however far each table grew.
impl PartialEq for BundleRanges {
    fn eq(&self, other: &BundleRanges) -> bool {
        let n = self.by_bundle.len().max(other.by_bundle.len());
        (0..n).all(|b| self.get(b as BundleId) == other.get(b as BundleId))
    }
}

impl BundleRanges {
    /// The ranges of every bundle in regalloc2's state dump.
    pub fn from_dump(dump: &StateDump) -> BundleRanges {
        BundleRanges {
            by_bundle: dump.bundles.iter().map(|b| b.segs.clone()).collect(),
        }
    }

    /// The ranges `bundle` holds now.
    pub fn get(&self, bundle: BundleId) -> &[Seg] {
        self.by_bundle
            .get(bundle as usize)
            .map_or(&[], |s| s.as_slice())
    }

    /// Gives `bundle` the ranges `segs`.
    pub fn set(&mut self, bundle: BundleId, segs: Vec<Seg>) {
        let i = bundle as usize;
        if self.by_bundle.len() <= i {
            if segs.is_empty() {
                return;
            }
            self.by_bundle.resize(i + 1, Vec::new());
        }
        self.by_bundle[i] = segs;
    }

    /// Adds `segs` to `bundle`'s ranges, keeping them in order of their start
    /// (a stable merge: ranges starting at the same point keep their order).
    pub fn join(&mut self, bundle: BundleId, segs: &[Seg]) {
        if segs.is_empty() {
            return;
        }
        let mut all = self.take(bundle);
        all.extend_from_slice(segs);
        all.sort_by_key(|s| s.from);
        self.set(bundle, all);
    }

    /// Takes `bundle`'s ranges, leaving it none.
    pub fn take(&mut self, bundle: BundleId) -> Vec<Seg> {
        self.by_bundle
            .get_mut(bundle as usize)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Applies the range lists a step carries ([`Event::Ranges`],
    /// [`Event::RangesJoined`]), in order.
    pub fn apply(&mut self, step: &Step) {
        for e in &step.events {
            self.apply_event(e);
        }
    }

    /// Applies one event's ranges, if it carries any.
    pub fn apply_event(&mut self, e: &Event) {
        match e {
            Event::Ranges { bundle, segs } => self.set(*bundle, segs.to_vec()),
            Event::RangesJoined { bundle, segs } => self.join(*bundle, segs),
            Event::ToSpillBundle {
                spill_bundle, seg, ..
            } => self.join(*spill_bundle, std::slice::from_ref(seg)),
            Event::RangesSplit {
                bundle,
                new_bundle,
                at,
                cut,
            } => {
                let (old, new) = split_segs(self.get(*bundle), *at, *cut);
                self.set(*bundle, old);
                self.set(*new_bundle, new);
            }
            Event::RangeEndCut { bundle, last, kept } => {
                let rest = cut_end(self.get(*bundle), *last, *kept);
                self.set(*bundle, rest);
            }
            _ => {}
        }
    }

    /// The program points `bundle` covers (see [`covered_points`]).
    pub fn covered(&self, bundle: BundleId) -> Vec<(Point, Point)> {
        covered_points(self.get(bundle).iter().copied())
    }

    /// Bytes this table holds on the heap, near enough to size checkpoints.
    pub fn heap_bytes(&self) -> usize {
        self.by_bundle.capacity() * std::mem::size_of::<Vec<Seg>>()
            + self
                .by_bundle
                .iter()
                .map(|s| s.capacity() * std::mem::size_of::<Seg>())
                .sum::<usize>()
    }

    /// One past the highest bundle id that ever held ranges here.
    pub fn len(&self) -> usize {
        self.by_bundle.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_bundle.iter().all(Vec::is_empty)
    }
}

/// The vregs whose live ranges `segs` are, sorted and without repeats.
pub fn vregs_in(vreg_of_range: &HashMap<RangeId, VRegId>, segs: &[Seg]) -> Vec<VRegId> {
    let mut v: Vec<VRegId> = segs
        .iter()
        .filter_map(|s| vreg_of_range.get(&s.range).copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The program points `segs` cover, as sorted, merged `[from, to)` pairs:
/// what a bundle covers, whatever its bundle and range ids.
pub fn covered_points(segs: impl IntoIterator<Item = Seg>) -> Vec<(Point, Point)> {
    let mut v: Vec<(Point, Point)> = segs
        .into_iter()
        .filter(|s| s.from < s.to)
        .map(|s| (s.from, s.to))
        .collect();
    v.sort_unstable();
    let mut merged: Vec<(Point, Point)> = Vec::with_capacity(v.len());
    for (from, to) in v {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(from: u32, to: u32, range: RangeId) -> Seg {
        Seg {
            from: Point::new(from, false),
            to: Point::new(to, false),
            range,
        }
    }

    #[test]
    fn covered_points_merge_touching_pieces_whatever_their_ranges() {
        let p = |i: u32| Point::new(i, false);
        let c = covered_points([seg(4, 6, 1), seg(0, 2, 0), seg(2, 3, 2), seg(5, 5, 3)]);
        assert_eq!(c, vec![(p(0), p(3)), (p(4), p(6))]);
    }

    #[test]
    fn ranges_follow_the_lists_a_step_carries() {
        let mut r = BundleRanges::default();
        r.set(1, vec![seg(0, 4, 0)]);
        let step = Step {
            bundle: 1,
            hint: None,
            phase: super::super::model::Phase::Main,
            events: vec![
                Event::Ranges {
                    bundle: 1,
                    segs: vec![seg(0, 2, 0)].into(),
                },
                Event::Ranges {
                    bundle: 3,
                    segs: vec![seg(2, 4, 5)].into(),
                },
            ],
            outcome: super::super::model::Outcome::Incomplete,
        };
        r.apply(&step);
        assert_eq!(r.get(1), &[seg(0, 2, 0)]);
        assert_eq!(r.get(3), &[seg(2, 4, 5)]);
        assert_eq!(r.get(2), &[]);
        assert_eq!(r.take(3), vec![seg(2, 4, 5)]);
        assert!(r.get(3).is_empty());
        let vregs = vregs_in(
            &HashMap::from([(0, 7), (5, 2)]),
            &[seg(0, 1, 5), seg(1, 2, 0)],
        );
        assert_eq!(vregs, vec![2, 7]);
    }
}
