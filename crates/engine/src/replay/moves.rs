//! Every edit regalloc2 inserted (moves, spills, reloads, stack-to-stack
//! moves), each traced to the step whose decision made it necessary.
//!
//! regalloc2 logs each move it asks for right after the record that says why
//! (two live ranges of one vreg meeting inside a block, a CFG edge, a block
//! parameter, a fixed-register or reuse constraint), then resolves the moves at
//! each point into its edits. A move between two live ranges of one vreg
//! exists because the ranges ended up in different bundles: the step that
//! separated them — the split whose cut is nearest the move, in the lineage
//! below the bundle they shared, or the step that sent one of them to a spill
//! bundle — is the move's cause. Moves that constraints force (reuse, fixed
//! registers) and block-parameter copies have no such step; they are listed
//! with why, and counted as unattributed.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::Replay;
use crate::trace::{
    BundleId, EditRecord, Event, FinalRange, InsertedMove, Loc, MoveReason, Outcome, Point,
    RangeId, RegNames, Trace, VRegId,
};

/// What an edit does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveKind {
    /// Register to register.
    Move,
    /// Register to stack slot.
    Spill,
    /// Stack slot to register.
    Reload,
    /// Stack slot to stack slot.
    StackMove,
}

impl MoveKind {
    /// The word the text outputs use, the same as the JSON's (`stack_move`).
    pub fn word(self) -> &'static str {
        match self {
            MoveKind::Move => "move",
            MoveKind::Spill => "spill",
            MoveKind::Reload => "reload",
            MoveKind::StackMove => "stack_move",
        }
    }

    fn of(from: Loc, to: Loc) -> MoveKind {
        match (from.is_stack(), to.is_stack()) {
            (false, false) => MoveKind::Move,
            (false, true) => MoveKind::Spill,
            (true, false) => MoveKind::Reload,
            (true, true) => MoveKind::StackMove,
        }
    }
}

/// The step an edit comes from.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Cause {
    /// 1-based, as `trace` numbers steps.
    pub step: usize,
    /// The bundle whose decision it was.
    pub bundle: BundleId,
    /// `split`, `minimal_split` or `spill`.
    pub kind: &'static str,
    pub sentence: String,
}

/// One edit of regalloc2's output, explained.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MoveItem {
    /// The program point the edit sits at (`29-pre`).
    pub point: Point,
    /// The VCode instruction of that point.
    pub inst: u32,
    pub vreg: Option<VRegId>,
    /// Where the value is before and after, by real name (`r12`, `stack11`).
    pub from: String,
    pub to: String,
    /// The same in regalloc2's names (`p12i`).
    pub from_regalloc2: String,
    pub to_regalloc2: String,
    pub kind: MoveKind,
    /// Why regalloc2 asked for it: `split`, `edge`, `block_param`,
    /// `fixed_reg`, `reuse`, `scratch` (one step of a cycle of parallel
    /// moves) or `unknown`.
    pub reason: &'static str,
    /// It looks redundant: the same value goes back, or on, at the same point.
    pub redundant: bool,
    /// Forced by an output that must reuse an input's register.
    pub reuse: bool,
    pub cause: Option<Cause>,
    /// One sentence on why it is there (also when there is no cause step).
    pub why: String,
}

/// Counts over one function's edits.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct MoveSummary {
    pub moves: usize,
    pub spills: usize,
    pub reloads: usize,
    pub stack_moves: usize,
    /// Edits with no cause step, by why.
    pub unattributed: usize,
    pub unattributed_why: BTreeMap<&'static str, usize>,
    pub redundant: usize,
    pub reuse: usize,
    /// Moves regalloc2 asked for and then elided as redundant itself.
    pub elided: u32,
}

/// All of a function's edits, explained.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MoveReport {
    pub moves: Vec<MoveItem>,
    pub summary: MoveSummary,
    /// Why the list is empty or partial, when it is.
    pub note: Option<String>,
}

/// How a bundle came to be: the split that made it.
#[derive(Clone, Copy)]
struct Creation {
    parent: BundleId,
    step: usize,
    at: Option<Point>,
    minimal: bool,
}

/// A live range that joined a spill bundle.
#[derive(Clone, Copy)]
struct SpillJoin {
    step: usize,
    /// The bundle it left.
    from: BundleId,
    range: RangeId,
    /// The whole bundle was spilled (not only a part without uses).
    whole: bool,
}

/// What the attribution looks things up in.
struct Index<'a> {
    replay: &'a Replay,
    trace: &'a Trace,
    names: Option<RegNames>,
    /// Each live range's bundle at the end of allocation.
    range_bundle: HashMap<RangeId, BundleId>,
    /// Ranges that joined a spill bundle: the step and the bundle they left.
    spilled_from: HashMap<RangeId, SpillJoin>,
    created: HashMap<BundleId, Creation>,
    /// Each vreg's final live ranges, in order.
    ranges_of: HashMap<VRegId, Vec<FinalRange>>,
    /// Each live range's final location.
    final_of: HashMap<RangeId, FinalRange>,
    /// The final live ranges in each location, in log order.
    in_loc: HashMap<Loc, Vec<FinalRange>>,
    /// Evictions: bundle → (step, evicting bundle), in step order.
    evicted: HashMap<BundleId, Vec<(usize, BundleId)>>,
}

impl<'a> Index<'a> {
    fn new(replay: &'a Replay, names: Option<RegNames>) -> Index<'a> {
        let trace = replay.trace();
        let mut range_bundle = HashMap::new();
        if let Some(fin) = &trace.final_state {
            for (b, bundle) in fin.bundles.iter().enumerate() {
                for s in &bundle.segs {
                    range_bundle.insert(s.range, b as BundleId);
                }
            }
        }
        let mut spilled_from = HashMap::new();
        let mut evicted: HashMap<BundleId, Vec<(usize, BundleId)>> = HashMap::new();
        let mut split_at: HashMap<(usize, BundleId), Point> = HashMap::new();
        for (i, step) in trace.steps.iter().enumerate() {
            for e in &step.events {
                match e {
                    Event::ToSpillBundle { bundle, seg, .. } => {
                        let join = SpillJoin {
                            step: i,
                            from: *bundle,
                            range: seg.range,
                            whole: false,
                        };
                        spilled_from.insert(seg.range, join);
                    }
                    Event::RangesJoined { bundle, segs } if *bundle != step.bundle => {
                        for s in segs.iter() {
                            let join = SpillJoin {
                                step: i,
                                from: step.bundle,
                                range: s.range,
                                whole: true,
                            };
                            spilled_from.insert(s.range, join);
                        }
                    }
                    Event::Evict { bundle, .. } => {
                        evicted.entry(*bundle).or_default().push((i, step.bundle));
                    }
                    Event::RangesSplit { new_bundle, at, .. } => {
                        split_at.insert((i, *new_bundle), *at);
                    }
                    _ => {}
                }
            }
        }
        let mut created = HashMap::new();
        for edge in &replay.lineage {
            let step = &trace.steps[edge.step];
            let minimal =
                matches!(&step.outcome, Outcome::Split { children, .. } if children.len() > 1);
            let at = split_at
                .get(&(edge.step, edge.child))
                .copied()
                .or(match step.outcome {
                    Outcome::Split { at, .. } if !minimal => Some(at),
                    _ => None,
                });
            created.insert(
                edge.child,
                Creation {
                    parent: edge.parent,
                    step: edge.step,
                    at,
                    minimal,
                },
            );
        }
        let mut ranges_of: HashMap<VRegId, Vec<FinalRange>> = HashMap::new();
        let mut final_of: HashMap<RangeId, FinalRange> = HashMap::new();
        let mut in_loc: HashMap<Loc, Vec<FinalRange>> = HashMap::new();
        for r in &trace.moves.ranges {
            ranges_of.entry(r.vreg).or_default().push(*r);
            final_of.entry(r.range).or_insert(*r);
            in_loc.entry(r.loc).or_default().push(*r);
        }
        for list in ranges_of.values_mut() {
            list.sort_by_key(|r| (r.from, r.to));
        }
        Index {
            replay,
            trace,
            names,
            range_bundle,
            spilled_from,
            created,
            ranges_of,
            final_of,
            in_loc,
            evicted,
        }
    }

    fn name(&self, loc: Loc) -> String {
        match (loc, self.names) {
            (Loc::Reg(p), Some(n)) => n.name(p),
            _ => loc.text(),
        }
    }

    /// In words: `r12`, `stack slot 11`.
    fn place(&self, loc: Loc) -> String {
        match loc {
            Loc::Stack(s) => format!("stack slot {s}"),
            other => self.name(other),
        }
    }

    /// The bundle a live range's decisions were made for (the bundle it left
    /// when it joined a spill bundle, else its final bundle), and how it
    /// joined the spill bundle.
    fn origin(&self, range: RangeId) -> Option<(BundleId, Option<SpillJoin>)> {
        match self.spilled_from.get(&range).copied() {
            Some(j) => Some((j.from, Some(j))),
            None => self.range_bundle.get(&range).map(|&b| (b, None)),
        }
    }

    /// The bundle and its ancestors, each with the split that created it.
    fn chain(&self, mut b: BundleId) -> Vec<(BundleId, Option<Creation>)> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        while seen.insert(b) {
            let c = self.created.get(&b).copied();
            out.push((b, c));
            match c {
                Some(c) => b = c.parent,
                None => break,
            }
        }
        out
    }

    /// The split that separated bundles `a` and `b`: below the last bundle
    /// both descend from, the creation whose cut lies nearest `pos`.
    fn separating(&self, a: BundleId, b: BundleId, pos: Point) -> Option<Creation> {
        if a == b {
            return None;
        }
        let ca = self.chain(a);
        let cb = self.chain(b);
        let in_a: HashSet<BundleId> = ca.iter().map(|(n, _)| *n).collect();
        let lca = cb.iter().map(|(n, _)| *n).find(|n| in_a.contains(n))?;
        let below = |c: &[(BundleId, Option<Creation>)]| -> Vec<Creation> {
            c.iter()
                .take_while(|(n, _)| *n != lca)
                .filter_map(|(_, cr)| *cr)
                .collect()
        };
        let mut candidates = below(&ca);
        candidates.extend(below(&cb));
        candidates.into_iter().min_by_key(|c| {
            let distance = c.at.map_or(u32::MAX, |at| at.0.abs_diff(pos.0));
            (distance, usize::MAX - c.step)
        })
    }

    /// "after bundle 71 evicted it in step 30", for the last eviction of
    /// `bundle` before step `before`.
    fn eviction_before(&self, bundle: BundleId, before: usize) -> Option<String> {
        let (step, by) = self
            .evicted
            .get(&bundle)?
            .iter()
            .rev()
            .find(|(s, _)| *s < before)?;
        Some(format!("after bundle {by} evicted it in step {}", step + 1))
    }

    /// The conflicts a split step met, in words.
    fn conflicts_of(&self, step: usize) -> Option<String> {
        let mut with: Vec<BundleId> = Vec::new();
        let mut fixed = false;
        for e in &self.trace.steps[step].events {
            match e {
                Event::Conflict { bundles, .. } => {
                    for b in bundles.iter() {
                        if !with.contains(b) {
                            with.push(*b);
                        }
                    }
                }
                Event::ConflictFixed { .. } => fixed = true,
                _ => {}
            }
        }
        with.truncate(3);
        let names: Vec<String> = with.iter().map(|b| format!("bundle {b}")).collect();
        match (names.is_empty(), fixed) {
            (false, _) => Some(format!("it conflicted with {}", names.join(", "))),
            (true, true) => Some("a fixed register use or clobber was in the way".into()),
            (true, false) => None,
        }
    }

    /// "bundle 36 was split at 16-pre in step 79 after bundle 33 evicted it".
    fn split_words(
        &self,
        parent: BundleId,
        step: usize,
        at: Option<Point>,
        minimal: bool,
    ) -> String {
        let head = if minimal {
            format!(
                "bundle {parent} was cut into minimal bundles in step {}",
                step + 1
            )
        } else {
            format!(
                "bundle {parent} was split at {} in step {}",
                at.map_or_else(|| "?".into(), Point::text),
                step + 1
            )
        };
        let because = self
            .eviction_before(parent, step)
            .or_else(|| self.conflicts_of(step).map(|t| format!("because {t}")));
        match because {
            Some(b) => format!("{head} {b}"),
            None => head,
        }
    }

    /// "the part of bundle 125 from 16-pre to 59-pre, with no use, went to
    /// spill bundle 126 in step 79".
    fn spill_words(&self, j: SpillJoin) -> String {
        let into = self
            .range_bundle
            .get(&j.range)
            .map_or_else(|| "a spill bundle".into(), |b| format!("spill bundle {b}"));
        let fin = self.final_of.get(&j.range);
        let span = fin
            .map(|r| format!(" from {} to {}", r.from.text(), r.to.text()))
            .unwrap_or_default();
        // A spill bundle may still get a register in the second-chance pass.
        let into = match fin.map(|r| r.loc) {
            Some(loc @ Loc::Reg(_)) => {
                format!(
                    "{into}, which then got {} in the spill-bundle pass",
                    self.name(loc)
                )
            }
            _ => into,
        };
        if j.whole {
            let how = match &self.trace.steps[j.step].outcome {
                Outcome::Spilled { how } => format!(" ({})", how.text()),
                _ => String::new(),
            };
            format!(
                "bundle {} was spilled in step {}{how}: its ranges, this one{span} among them, joined {into}",
                j.from,
                j.step + 1
            )
        } else {
            format!(
                "the part of bundle {}{span}, with no use, went to {into} in step {}",
                j.from,
                j.step + 1
            )
        }
    }

    /// The cause of a move between live ranges `prev` and `next` of one vreg.
    fn cause_between(&self, prev: RangeId, next: RangeId, pos: Point) -> Option<Cause> {
        let (a, spill_a) = self.origin(prev)?;
        let (b, spill_b) = self.origin(next)?;
        let spill = match (spill_a, spill_b) {
            (Some(x), Some(y)) => Some(if x.step >= y.step { x } else { y }),
            (x, y) => x.or(y),
        };
        if let Some(c) = self.separating(a, b, pos) {
            let mut sentence = self.split_words(c.parent, c.step, c.at, c.minimal);
            if let Some(j) = spill {
                sentence = format!("{sentence}; {}", self.spill_words(j));
            }
            return Some(Cause {
                step: c.step + 1,
                bundle: c.parent,
                kind: if c.minimal { "minimal_split" } else { "split" },
                sentence,
            });
        }
        // No split separates them: the spill step made the boundary (a split
        // sending a use-less part to the spill bundle, or a whole spill).
        let j = spill?;
        let step = &self.trace.steps[j.step];
        let sentence = match &step.outcome {
            Outcome::Split { at, children } if !j.whole => format!(
                "{}; {}",
                self.split_words(step.bundle, j.step, Some(*at), children.len() > 1),
                self.spill_words(j)
            ),
            _ => self.spill_words(j),
        };
        Some(Cause {
            step: j.step + 1,
            bundle: step.bundle,
            kind: "spill",
            sentence,
        })
    }

    /// A block-parameter copy into `param`: the split that separated the
    /// argument's live range (the one in `from` at `pos`) from the
    /// parameter's, when they were ever in one bundle.
    fn block_param_cause(&self, param: VRegId, from: Loc, to: Loc, pos: Point) -> Option<Cause> {
        let next = self.range_near(param, to, pos, None)?;
        let arg = self
            .in_loc
            .get(&from)?
            .iter()
            .filter(|r| r.vreg != param && r.from <= pos && pos <= r.to)
            .min_by_key(|r| r.to.0.abs_diff(pos.0))?;
        let (a, _) = self.origin(arg.range)?;
        let (b, _) = self.origin(next)?;
        let c = self.separating(a, b, pos)?;
        // Only a bundle that held both when it was split separated them.
        let held = self.replay.vregs_at_start(c.step);
        if !(held.contains(&param) && held.contains(&arg.vreg)) {
            return None;
        }
        Some(Cause {
            step: c.step + 1,
            bundle: c.parent,
            kind: if c.minimal { "minimal_split" } else { "split" },
            sentence: self.split_words(c.parent, c.step, c.at, c.minimal),
        })
    }

    /// `vreg`'s final live range in `loc` nearest `pos` (one containing it
    /// first).
    fn range_near(
        &self,
        vreg: VRegId,
        loc: Loc,
        pos: Point,
        not: Option<RangeId>,
    ) -> Option<RangeId> {
        self.ranges_of
            .get(&vreg)?
            .iter()
            .filter(|r| r.loc == loc && Some(r.range) != not)
            .min_by_key(|r| {
                if r.from <= pos && pos <= r.to {
                    0
                } else {
                    r.from.0.abs_diff(pos.0).min(r.to.0.abs_diff(pos.0)) + 1
                }
            })
            .map(|r| r.range)
    }
}

/// The inserted move an edit resolves, matched by point and vreg (and by
/// locations where they still agree after resolving).
fn match_inserted<'a>(
    edits: &[EditRecord],
    inserted: &'a [InsertedMove],
) -> Vec<Option<&'a InsertedMove>> {
    type Key = (Point, Option<VRegId>);
    let mut by_key: HashMap<Key, Vec<(usize, &InsertedMove)>> = HashMap::new();
    for (i, m) in inserted.iter().enumerate() {
        by_key.entry((m.pos, m.vreg)).or_default().push((i, m));
    }
    let mut used = vec![false; inserted.len()];
    edits
        .iter()
        .map(|e| {
            let list = by_key.get(&(e.pos, e.vreg))?;
            let exact = list
                .iter()
                .find(|(i, m)| !used[*i] && m.from == e.from && m.to == e.to);
            let any = || list.iter().find(|(i, _)| !used[*i]).or(list.first());
            let (i, m) = exact.or_else(any)?;
            used[*i] = true;
            Some(*m)
        })
        .collect()
}

/// Each edit of `replay`'s trace with its cause; `names` gives registers
/// their target's names.
pub fn attribute(replay: &Replay, names: Option<RegNames>) -> MoveReport {
    let trace = replay.trace();
    let log = &trace.moves;
    let ix = Index::new(replay, names);
    let matched = match_inserted(&log.edits, &log.inserted);
    let mut moves = Vec::with_capacity(log.edits.len());
    let mut summary = MoveSummary {
        elided: log.elided,
        ..MoveSummary::default()
    };
    for (e, m) in log.edits.iter().zip(matched) {
        let kind = MoveKind::of(e.from, e.to);
        let reason_of = m.map_or(MoveReason::Unknown, |m| m.reason);
        let v = e
            .vreg
            .map_or_else(|| "a scratch value".into(), |v| format!("v{v}"));
        let (from_place, to_place) = (ix.place(e.from), ix.place(e.to));
        let at = e.pos.text();
        let (reason, cause, why): (&'static str, Option<Cause>, String) = match (reason_of, e.vreg)
        {
            (MoveReason::Abut { prev, next }, Some(_)) => {
                let cause = ix.cause_between(prev, next, e.pos);
                let head = format!("{v} is in {from_place} before {at} and in {to_place} after it");
                let why = match &cause {
                    Some(c) => format!("{head}: {}", c.sentence),
                    None => format!(
                        "{head}: its two live ranges there are in bundles that no logged step separated"
                    ),
                };
                ("split", cause, why)
            }
            (
                MoveReason::InterBlock {
                    from_block,
                    to_block,
                },
                Some(vreg),
            ) => {
                let prev = ix.range_near(vreg, e.from, e.pos, None);
                let next = ix.range_near(vreg, e.to, e.pos, prev);
                let cause = match (prev, next) {
                    (Some(p), Some(n)) => ix.cause_between(p, n, e.pos),
                    _ => None,
                };
                let head = format!(
                    "{v} is in {from_place} at the end of block {from_block} and in {to_place} at the start of block {to_block}"
                );
                let why = match &cause {
                    Some(c) => format!("{head}: {}", c.sentence),
                    None => format!("{head}: no logged step separated its live ranges there"),
                };
                ("edge", cause, why)
            }
            (MoveReason::BlockParam, Some(param)) => {
                let head = format!(
                    "{v} is a block parameter; at {at} its branch argument is copied from {from_place} into {to_place}, where {v} lives"
                );
                let cause = ix.block_param_cause(param, e.from, e.to, e.pos);
                let why = match &cause {
                    Some(c) => format!("{head}: the two were in one bundle until {}", c.sentence),
                    None => format!(
                        "{head}: the argument and the parameter were never in one bundle, so nothing made them share a place"
                    ),
                };
                ("block_param", cause, why)
            }
            (MoveReason::MultiFixed { inst, secondary }, _) => (
                "fixed_reg",
                None,
                if secondary {
                    format!(
                        "instruction {inst} needs {v} in more than one fixed register; it stays in {from_place} and a copy goes to {to_place}"
                    )
                } else {
                    format!(
                        "instruction {inst} needs {v} in {to_place}, which the instruction also writes or clobbers, and {v} lives on after it; so {v} stays in {from_place} and a copy goes to {to_place}"
                    )
                },
            ),
            (
                MoveReason::ReuseInput {
                    inst,
                    input,
                    output,
                },
                _,
            ) => (
                "reuse",
                None,
                format!(
                    "instruction {inst}'s output {output} must be in the register of its input {input}; {v} is in {from_place} and the output in {to_place}, so the input is copied first"
                ),
            ),
            (_, None) => (
                "scratch",
                None,
                "a scratch move that resolves a cycle of parallel moves".into(),
            ),
            (_, Some(_)) => (
                "unknown",
                None,
                format!(
                    "{v} moves from {from_place} to {to_place} at {at}; regalloc2 logged no reason for it"
                ),
            ),
        };
        match kind {
            MoveKind::Move => summary.moves += 1,
            MoveKind::Spill => summary.spills += 1,
            MoveKind::Reload => summary.reloads += 1,
            MoveKind::StackMove => summary.stack_moves += 1,
        }
        if cause.is_none() {
            summary.unattributed += 1;
            *summary.unattributed_why.entry(reason).or_default() += 1;
        }
        moves.push(MoveItem {
            point: e.pos,
            inst: e.pos.inst(),
            vreg: e.vreg,
            from: ix.name(e.from),
            to: ix.name(e.to),
            from_regalloc2: e.from.text(),
            to_regalloc2: e.to.text(),
            kind,
            reason,
            redundant: false,
            reuse: reason == "reuse",
            cause,
            why,
        });
    }
    mark_redundant(&mut moves, &log.edits);
    summary.redundant = moves.iter().filter(|m| m.redundant).count();
    summary.reuse = moves.iter().filter(|m| m.reuse).count();
    let note = if !log.seen {
        Some(if trace.finished {
            "the log has no move-insertion records (regalloc2 logs them at trace level from 0.15 on, or the log was cut)".into()
        } else {
            "the allocation did not finish, so no moves were inserted".into()
        })
    } else {
        None
    };
    MoveReport {
        moves,
        summary,
        note,
    }
}

/// Marks moves that look redundant: at one point, the same value moved back
/// where it came from (A → B, B → A) or moved on (A → B, B → C: one move
/// would do).
fn mark_redundant(moves: &mut [MoveItem], edits: &[EditRecord]) {
    let mut at: HashMap<(Point, VRegId), Vec<usize>> = HashMap::new();
    for (i, e) in edits.iter().enumerate() {
        if let Some(v) = e.vreg {
            at.entry((e.pos, v)).or_default().push(i);
        }
    }
    for (_, list) in at {
        if list.len() < 2 {
            continue;
        }
        for &i in &list {
            for &j in &list {
                if i != j && edits[i].to == edits[j].from && j > i {
                    moves[i].redundant = true;
                    moves[j].redundant = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_word_of_an_edit_is_its_json_word() {
        for kind in [
            MoveKind::Move,
            MoveKind::Spill,
            MoveKind::Reload,
            MoveKind::StackMove,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.word()));
        }
        assert_eq!(MoveKind::StackMove.word(), "stack_move");
    }
}
