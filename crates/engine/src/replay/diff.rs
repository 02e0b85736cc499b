//! Two allocations of one function compared: totals, the first step where
//! they part, and, when both allocated the same code, each value's final
//! locations and the edits at each program point, in words.

use std::collections::{BTreeMap, BTreeSet};

use super::Replay;
use super::explain;
use super::moves::MoveReport;
use crate::trace::{Loc, Point, RegNames, StepCounts, VRegId};

/// Differences listed per kind before the rest are only counted.
const LISTED_PER_KIND: usize = 60;

/// One side of a comparison.
pub struct Side<'a> {
    /// What this run is: `backtracking, x86_64, int=6`.
    pub label: String,
    pub replay: &'a Replay,
    pub moves: &'a MoveReport,
    pub names: Option<RegNames>,
    pub checker: String,
    /// Machine code bytes (none for a log or an allocation made again).
    pub code_bytes: Option<usize>,
}

/// A run's totals.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    pub label: String,
    #[serde(flatten)]
    pub counts: StepCounts,
    pub moves: usize,
    pub spills: usize,
    pub reloads: usize,
    pub stack_moves: usize,
    pub checker: String,
    pub code_bytes: Option<usize>,
    /// Why the allocation stopped before its end (a loop, a budget), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl RunSummary {
    /// The counts two runs are compared by, named, with this run's and
    /// `other`'s value.
    pub fn rows(&self, other: &RunSummary) -> [(&'static str, usize, usize); 10] {
        let (a, b) = (self, other);
        let (x, y) = (&a.counts, &b.counts);
        [
            ("steps", x.steps, y.steps),
            ("bundles allocated", x.allocated, y.allocated),
            ("splits", x.splits, y.splits),
            ("evictions", x.evictions, y.evictions),
            ("bundles spilled", x.spilled, y.spilled),
            ("spill slots", x.spill_slots, y.spill_slots),
            ("register moves", a.moves, b.moves),
            ("spills", a.spills, b.spills),
            ("reloads", a.reloads, b.reloads),
            ("stack-to-stack moves", a.stack_moves, b.stack_moves),
        ]
    }

    pub fn of(side: &Side) -> RunSummary {
        let m = &side.moves.summary;
        RunSummary {
            label: side.label.clone(),
            counts: side.replay.trace().counts(),
            moves: m.moves,
            spills: m.spills,
            reloads: m.reloads,
            stack_moves: m.stack_moves,
            checker: side.checker.clone(),
            code_bytes: side.code_bytes,
            stopped: side
                .replay
                .trace()
                .stopped
                .as_ref()
                .map(ToString::to_string),
        }
    }
}

/// One difference, in words.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Difference {
    /// `totals`, `steps`, `spilled` (a value on the stack in one run only),
    /// `allocation` (other ranges or stack time), `registers` (only which
    /// register or slot differs, counted), `moves` (other edits at one
    /// point), `move_locations` (the same edits at points, other registers
    /// or slots, counted).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vreg: Option<VRegId>,
    pub text: String,
}

/// The comparison.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DiffReport {
    pub a: RunSummary,
    pub b: RunSummary,
    /// Both allocated the same code, so program points line up.
    pub aligned: bool,
    pub differences: Vec<Difference>,
    /// Differences counted but not listed (past the first of each kind).
    pub not_listed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Compares `a` and `b`. `aligned`: both allocated the same code (the same
/// VCode), so their program points are the same instructions.
pub fn diff(a: &Side, b: &Side, aligned: bool) -> DiffReport {
    let (sa, sb) = (RunSummary::of(a), RunSummary::of(b));
    let mut out = Vec::new();
    totals(&sa, &sb, &mut out);
    steps(a, b, &mut out);
    let mut not_listed = 0;
    let ranges = |s: &Side| !s.replay.trace().moves.ranges.is_empty();
    let stopped = [("a", &sa), ("b", &sb)]
        .into_iter()
        .filter_map(|(n, s)| s.stopped.as_ref().map(|why| format!("{n} {why}")))
        .collect::<Vec<_>>();
    let note = if !stopped.is_empty() {
        Some(format!(
            "{}: a stopped allocation has no final locations or edits, so only totals and the steps \
             so far are compared",
            stopped.join("; ")
        ))
    } else if aligned && ranges(a) && ranges(b) {
        not_listed += allocations(a, b, &mut out);
        not_listed += moves(a, b, &mut out, true);
        None
    } else if aligned {
        not_listed += moves(a, b, &mut out, false);
        Some(
            "one run's allocator logs no final location per value (the single-pass allocator \
             logs only its edits): the runs are compared by their edits, which name no value"
                .into(),
        )
    } else {
        Some(
            "the two runs allocated different code (another target or opt level), so their \
             program points are different instructions: only totals and steps are compared"
                .into(),
        )
    };
    DiffReport {
        a: sa,
        b: sb,
        aligned,
        differences: out,
        not_listed,
        note,
    }
}

fn totals(a: &RunSummary, b: &RunSummary, out: &mut Vec<Difference>) {
    for (what, x, y) in a.rows(b) {
        if x != y {
            out.push(Difference {
                kind: "totals",
                point: None,
                vreg: None,
                text: format!("{what}: {x} in a, {y} in b ({:+})", y as i64 - x as i64),
            });
        }
    }
    if let (Some(x), Some(y)) = (a.code_bytes, b.code_bytes)
        && x != y
    {
        out.push(Difference {
            kind: "totals",
            point: None,
            vreg: None,
            text: format!(
                "machine code: {x} bytes in a, {y} in b ({:+})",
                y as i64 - x as i64
            ),
        });
    }
    if a.stopped != b.stopped {
        let end = |s: &RunSummary| s.stopped.clone().unwrap_or_else(|| "finished".into());
        out.push(Difference {
            kind: "totals",
            point: None,
            vreg: None,
            text: format!("allocation: {} in a, {} in b", end(a), end(b)),
        });
    }
    if a.checker != b.checker {
        out.push(Difference {
            kind: "totals",
            point: None,
            vreg: None,
            text: format!("checker: {} in a, {} in b", a.checker, b.checker),
        });
    }
}

/// The first step where the two allocations part.
fn steps(a: &Side, b: &Side, out: &mut Vec<Difference>) {
    let (xs, ys) = (a.replay.steps(), b.replay.steps());
    let same = |i: usize| {
        let (x, y) = (&xs[i], &ys[i]);
        x.bundle == y.bundle && x.outcome == y.outcome
    };
    let common = xs.len().min(ys.len());
    let first = (0..common).find(|&i| !same(i));
    let text = match first {
        _ if xs.is_empty() != ys.is_empty() => {
            let (none, some) = if xs.is_empty() { ("a", ys) } else { ("b", xs) };
            format!(
                "{none} has no allocator steps (the single-pass allocator logs no per-bundle \
                 decisions); the other takes {}",
                some.len()
            )
        }
        Some(i) => format!(
            "the allocations take the same first {i} steps; step {}: in a, {}; in b, {}",
            i + 1,
            explain::headline(&xs[i], a.names),
            explain::headline(&ys[i], b.names)
        ),
        None if xs.len() == ys.len() => {
            if xs.is_empty() {
                return;
            }
            format!("the allocations take the same {} steps", xs.len())
        }
        None => {
            let (longer, side) = if xs.len() > ys.len() {
                (xs, "a")
            } else {
                (ys, "b")
            };
            format!(
                "the allocations take the same first {common} steps; {side} goes on for {} more",
                longer.len() - common
            )
        }
    };
    out.push(Difference {
        kind: "steps",
        point: None,
        vreg: None,
        text,
    });
}

/// Each vreg's final locations: (from, to, location), in point order.
fn locations(side: &Side) -> BTreeMap<VRegId, Vec<(Point, Point, Loc)>> {
    let mut by_vreg: BTreeMap<VRegId, Vec<(Point, Point, Loc)>> = BTreeMap::new();
    for r in &side.replay.trace().moves.ranges {
        by_vreg
            .entry(r.vreg)
            .or_default()
            .push((r.from, r.to, r.loc));
    }
    for list in by_vreg.values_mut() {
        list.sort_by_key(|&(from, to, _)| (from, to));
        // Abutting ranges in one place read as one.
        let mut merged: Vec<(Point, Point, Loc)> = Vec::with_capacity(list.len());
        for &(from, to, loc) in list.iter() {
            match merged.last_mut() {
                Some(last) if last.2 == loc && last.1 >= from => last.1 = last.1.max(to),
                _ => merged.push((from, to, loc)),
            }
        }
        *list = merged;
    }
    by_vreg
}

fn loc_name(loc: Loc, names: Option<RegNames>) -> String {
    match (loc, names) {
        (Loc::Reg(p), Some(n)) => n.name(p),
        (l, _) => l.text(),
    }
}

/// A value's locations: `rsi 2-post..6-pre, stack4 6-pre..14-pre`; past a
/// few ranges, the first ones and how many more.
fn where_text(list: &[(Point, Point, Loc)], names: Option<RegNames>) -> String {
    const SHOWN: usize = 4;
    let one = |&(from, to, loc): &(Point, Point, Loc)| {
        format!("{} {}..{}", loc_name(loc, names), from.text(), to.text())
    };
    if list.len() <= SHOWN + 1 {
        return list.iter().map(one).collect::<Vec<_>>().join(", ");
    }
    let stack = list.iter().filter(|r| matches!(r.2, Loc::Stack(_))).count();
    format!(
        "{}, … {} more ranges to {} ({} of {} on the stack)",
        list[..SHOWN].iter().map(one).collect::<Vec<_>>().join(", "),
        list.len() - SHOWN,
        list[list.len() - 1].1.text(),
        stack,
        list.len()
    )
}

fn on_stack(list: &[(Point, Point, Loc)]) -> bool {
    list.iter().any(|&(_, _, l)| matches!(l, Loc::Stack(_)))
}

/// Values whose final locations differ; returns how many were not listed.
fn allocations(a: &Side, b: &Side, out: &mut Vec<Difference>) -> usize {
    let (la, lb) = (locations(a), locations(b));
    let vregs: BTreeSet<VRegId> = la.keys().chain(lb.keys()).copied().collect();
    let empty = Vec::new();
    let mut spilled = Vec::new();
    let mut other = Vec::new();
    let mut registers_only = Vec::new();
    for v in vregs {
        let (x, y) = (la.get(&v).unwrap_or(&empty), lb.get(&v).unwrap_or(&empty));
        if x == y {
            continue;
        }
        let first = x.first().or(y.first()).map(|r| r.0);
        let (sx, sy) = (on_stack(x), on_stack(y));
        // The ranges and whether each is on the stack: equal shapes differ
        // only in which register or slot.
        let shape = |l: &[(Point, Point, Loc)]| {
            l.iter()
                .map(|r| (r.0, r.1, matches!(r.2, Loc::Stack(_))))
                .collect::<Vec<_>>()
        };
        if sx != sy {
            let (side, list) = if sy { ("b", y) } else { ("a", x) };
            let other_side = if sy { "a" } else { "b" };
            spilled.push(Difference {
                kind: "spilled",
                point: first,
                vreg: Some(v),
                text: format!(
                    "v{v} goes to the stack in {side} only ({}); in {other_side}: {}",
                    where_text(list, if sy { b.names } else { a.names }),
                    where_text(if sy { x } else { y }, if sy { a.names } else { b.names })
                ),
            });
        } else if shape(x) == shape(y) {
            registers_only.push(v);
        } else {
            other.push(Difference {
                kind: "allocation",
                point: first,
                vreg: Some(v),
                text: format!(
                    "v{v}: in a {}; in b {}",
                    where_text(x, a.names),
                    where_text(y, b.names)
                ),
            });
        }
    }
    let mut not_listed = 0;
    for list in [spilled, other] {
        not_listed += list.len().saturating_sub(LISTED_PER_KIND);
        out.extend(list.into_iter().take(LISTED_PER_KIND));
    }
    if !registers_only.is_empty() {
        let some: Vec<String> = registers_only
            .iter()
            .take(8)
            .map(|v| format!("v{v}"))
            .collect();
        out.push(Difference {
            kind: "registers",
            point: None,
            vreg: None,
            text: format!(
                "{} values have the same ranges in both, on the stack or not alike, but other registers or slots ({}{})",
                registers_only.len(),
                some.join(", "),
                if registers_only.len() > 8 { ", …" } else { "" }
            ),
        });
    }
    not_listed
}

/// The edits at each point where the runs differ (`by_value`: naming the
/// value moved, when both runs name them); returns how many were not listed.
fn moves(a: &Side, b: &Side, out: &mut Vec<Difference>, by_value: bool) -> usize {
    type AtPoint = BTreeMap<Point, Vec<(String, String, String)>>;
    let at = |side: &Side| -> AtPoint {
        let mut m: AtPoint = BTreeMap::new();
        for item in &side.moves.moves {
            let v = match item.vreg {
                Some(v) if by_value => format!("v{v}"),
                _ => "a value".into(),
            };
            let verb = match item.kind {
                super::moves::MoveKind::Spill => "spills",
                super::moves::MoveKind::Reload => "reloads",
                super::moves::MoveKind::Move => "moves",
                super::moves::MoveKind::StackMove => "moves",
            };
            // Compared by regalloc2's names (a log names no target); shown by
            // the target's.
            m.entry(item.point).or_default().push((
                format!("{verb} {v}"),
                format!("{} → {}", item.from_regalloc2, item.to_regalloc2),
                format!("{} → {}", item.from, item.to),
            ));
        }
        for list in m.values_mut() {
            list.sort();
        }
        m
    };
    let (ma, mb) = (at(a), at(b));
    let points: BTreeSet<Point> = ma.keys().chain(mb.keys()).copied().collect();
    let empty = Vec::new();
    let mut listed = Vec::new();
    let mut same_edits = 0;
    for p in points {
        let (x, y) = (ma.get(&p).unwrap_or(&empty), mb.get(&p).unwrap_or(&empty));
        let key = |l: &[(String, String, String)]| {
            l.iter()
                .map(|e| (e.0.clone(), e.1.clone()))
                .collect::<Vec<_>>()
        };
        if key(x) == key(y) {
            continue;
        }
        fn what(l: &[(String, String, String)]) -> Vec<&str> {
            let mut w: Vec<&str> = l.iter().map(|e| e.0.as_str()).collect();
            w.sort();
            w
        }
        if what(x) == what(y) {
            same_edits += 1;
            continue;
        }
        let say = |l: &Vec<(String, String, String)>| {
            if l.is_empty() {
                "no edit".to_string()
            } else {
                let mut text = l
                    .iter()
                    .take(5)
                    .map(|(w, _, fromto)| format!("{w} {fromto}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                if l.len() > 5 {
                    text.push_str(&format!("; … {} more edits", l.len() - 5));
                }
                text
            }
        };
        listed.push(Difference {
            kind: "moves",
            point: Some(p),
            vreg: None,
            text: format!("at {}: a {}; b {}", p.text(), say(x), say(y)),
        });
    }
    let not_listed = listed.len().saturating_sub(LISTED_PER_KIND);
    out.extend(listed.into_iter().take(LISTED_PER_KIND));
    if same_edits > 0 {
        out.push(Difference {
            kind: "move_locations",
            point: None,
            vreg: None,
            text: format!(
                "at {same_edits} points both runs make the same edits of the same values, between other registers or slots"
            ),
        });
    }
    not_listed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::fixtures::log;
    use crate::replay::moves;
    use std::sync::Arc;

    fn side<'a>(label: &str, replay: &'a Replay, moves: &'a MoveReport) -> Side<'a> {
        Side {
            label: label.into(),
            replay,
            moves,
            names: None,
            checker: "not run".into(),
            code_bytes: None,
        }
    }

    #[test]
    fn a_run_has_no_difference_with_itself() {
        let replay = Replay::new(Arc::new(log("regalloc2-0.15.2.log")));
        let m = moves::attribute(&replay, None);
        let r = diff(&side("a", &replay, &m), &side("b", &replay, &m), true);
        // Only the one line that says the steps agree.
        let same = format!("the allocations take the same {} steps", replay.len());
        assert!(
            r.differences.len() == 1 && r.differences[0].text == same,
            "{:?}",
            r.differences
        );
        assert_eq!(r.not_listed, 0);
        assert_eq!(r.a.counts, r.b.counts);
    }

    #[test]
    fn every_total_that_differs_is_told_with_both_numbers() {
        // The same generated function allocated by two releases.
        let (ta, tb) = (log("regalloc2-0.9.3.log"), log("regalloc2-0.15.2.log"));
        let (ra, rb) = (Replay::new(Arc::new(ta)), Replay::new(Arc::new(tb)));
        let (ma, mb) = (moves::attribute(&ra, None), moves::attribute(&rb, None));
        let (a, b) = (side("0.9.3", &ra, &ma), side("0.15.2", &rb, &mb));
        let r = diff(&a, &b, false);
        let told: Vec<&str> = r
            .differences
            .iter()
            .filter(|d| d.kind == "totals")
            .map(|d| d.text.as_str())
            .collect();
        let rows = r.a.rows(&r.b);
        let differing = rows.iter().filter(|(_, x, y)| x != y).count();
        assert_eq!(told.len(), differing, "{told:?}");
        for (what, x, y) in rows.iter().filter(|(_, x, y)| x != y) {
            let line = format!("{what}: {x} in a, {y} in b ({:+})", *y as i64 - *x as i64);
            assert!(told.contains(&line.as_str()), "{line} not in {told:?}");
        }
        // Unaligned runs are compared by totals and steps only.
        assert!(
            r.differences
                .iter()
                .all(|d| d.kind == "totals" || d.kind == "steps"),
            "{:?}",
            r.differences
        );
    }
}
