//! The single-pass allocator's records (regalloc2's `fastalloc/mod.rs`), one
//! step per instruction it allocates and one per block start where it reloads
//! the values live into the block.
//!
//! regalloc2's fastalloc walks the blocks from last to first and each block's
//! instructions from last to first. At each instruction it logs the registers
//! it reserves for fixed operands, the values it evicts, the register it takes
//! from the least-recently-used list for each operand, the allocation of every
//! operand ("Allocation for instruction Inst(n) and operand …: p3i"), the
//! moves it adds, and then its whole state: every live value's allocation
//! (`vreg_allocs`), which value each register holds (`vreg_in_preg`) and the
//! per-class LRU lists. At a block's start ("reload_at_begin") every value
//! live into the block goes to its spill slot. The edits themselves are only
//! listed once, at the end ("Final edits"); [`SinglePassLog::attribute_edits`]
//! hands them back to the steps that made them.

use super::builder::{SpSection, TraceBuilder};
use super::model::{EvictWhy, SpAt, SpChange, SpEvent, SpHow, SpOperand, SpStep};
use super::model::{Loc, PReg, VRegId};
use super::moves::loc_in;
use super::scan::{first_after, number_at, operand_in, short_preg, split_key};

/// `Inst(12)` → 12.
fn inst_in(s: &str) -> Option<u32> {
    first_after(s, "Inst(")
}

/// `v12` or `v12i` at the start of `s`.
fn vreg_at(s: &str) -> Option<VRegId> {
    s.trim_start()
        .strip_prefix('v')
        .and_then(number_at)
        .map(|(n, _)| n)
}

fn operand(s: &str) -> Option<SpOperand> {
    operand_in(s).map(|(def, late, vreg, constraint)| SpOperand {
        def,
        late,
        vreg,
        constraint,
    })
}

/// `{"vreg3": p2i, "vreg7": stack0}` → sorted pairs.
fn vreg_allocs_in(s: &str) -> Vec<(VRegId, Loc)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((_, after)) = split_key(rest, "\"vreg") {
        let Some((v, after)) = number_at(after) else {
            break;
        };
        let Some((_, after)) = after.split_once(": ") else {
            break;
        };
        let end = after.find([',', '}']).unwrap_or(after.len());
        if let Some(loc) = loc_in(&after[..end]) {
            out.push((v, loc));
        }
        rest = &after[end..];
    }
    out.sort_unstable_by_key(|&(v, _)| v);
    out
}

/// `["p14i: v362, ", …]` (after an instruction) or `{PReg(hw = 3, …):
/// VReg(vreg = 7, …), …}` (after a block start).
fn occupied_in(s: &str) -> Vec<(PReg, VRegId)> {
    let mut out = Vec::new();
    if s.trim_start().starts_with('[') {
        for item in s.split('"') {
            if let Some((p, v)) = item.split_once(": ")
                && let (Some(p), Some(v)) = (short_preg(p), vreg_at(v))
            {
                out.push((p, v));
            }
        }
    } else {
        let mut rest = s;
        while let Some((_, after)) = split_key(rest, "PReg(") {
            let Some((preg_text, after)) = after.split_once("): ") else {
                break;
            };
            let preg = super::scan::preg_in(&format!("PReg({preg_text})"));
            let vreg = first_after(after, "vreg = ");
            if let (Some(p), Some(v)) = (preg, vreg) {
                out.push((p, v));
            }
            rest = after;
        }
    }
    out.sort_unstable_by_key(|&(p, _)| p.index());
    out
}

/// `Lru { head: 14, class: Int, data: "p14 -> p15 -> p0" }` → `[14, 15, 0]`.
fn lru_in(s: &str) -> Vec<u8> {
    let Some((_, data)) = split_key(s, "data: \"") else {
        return Vec::new();
    };
    data.split(" -> ")
        .filter_map(|p| p.trim().strip_prefix('p').and_then(number_at))
        .filter(|&(n, _)| n <= PReg::MAX_HW)
        .map(|(n, _)| n as u8)
        .collect()
}

impl TraceBuilder {
    fn sp_step(&mut self) -> Option<&mut SpStep> {
        self.trace
            .single_pass
            .steps
            .last_mut()
            .filter(|s| !s.complete)
    }

    fn sp_event(&mut self, e: SpEvent) {
        if let Some(step) = self.sp_step() {
            step.events.push(e);
        }
    }

    fn sp_start(&mut self, at: SpAt) {
        let block = self.sp.block;
        self.sp.section = SpSection::None;
        self.trace.single_pass.steps.push(SpStep::new(block, at));
    }

    /// One record of regalloc2's `fastalloc`; `false` when the steps keep
    /// nothing of it (other records of its call site are skipped from then on).
    pub(super) fn single_pass_record(&mut self, message: &str) -> bool {
        let t = message.trim();
        if self.sp.section == SpSection::State {
            if let Some(rest) = t.strip_prefix("vreg_allocs: ") {
                let now = vreg_allocs_in(rest);
                self.sp_state(now);
                return true;
            }
            if let Some(rest) = t.strip_prefix("vreg_in_preg: ") {
                let occupied = occupied_in(rest);
                if let Some(step) = self.sp_step() {
                    step.occupied = occupied;
                }
                return true;
            }
            for (i, class) in ["Int LRU: ", "Float LRU: ", "Vector LRU: "]
                .into_iter()
                .enumerate()
            {
                if let Some(rest) = t.strip_prefix(class) {
                    let order = lru_in(rest);
                    if let Some(step) = self.sp_step() {
                        step.lru[i] = order;
                        if i == 2 {
                            step.complete = true;
                            self.sp.section = SpSection::None;
                        }
                    }
                    return true;
                }
            }
        }
        if let Some(rest) = t.strip_prefix("Allocating instruction ") {
            match inst_in(rest) {
                Some(inst) if inst <= super::model::Point::MAX_INST => {
                    self.sp_start(SpAt::Inst { inst });
                }
                _ => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("Reloading live registers at the beginning of block ") {
            if let Some(b) = first_after(rest, "Block(") {
                self.sp.block = b;
            }
            self.sp_start(SpAt::BlockStart);
            return true;
        }
        if t.starts_with("State after instruction ") {
            // The state of an instruction's step, or of a block start.
            self.sp.section = SpSection::State;
            return true;
        }
        if let Some(b) = t.strip_prefix("Block(")
            && t.ends_with(" start")
        {
            if let Some((n, _)) = number_at(b) {
                self.sp.block = n;
            }
            return true;
        }
        if t == "Done!" {
            self.trace.single_pass.finished = true;
            return true;
        }
        if let Some(rest) = t.strip_prefix("Reserving register ") {
            if let Some((p, op)) = rest.split_once(" for operand ")
                && let Some(preg) = short_preg(p)
            {
                let vreg = operand(op).and_then(|o| o.vreg);
                self.sp_event(SpEvent::Reserved { preg, vreg });
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("Evicting ") {
            self.sp.evict_why = Some(if rest.contains(" from clobber ") {
                EvictWhy::Clobber
            } else {
                EvictWhy::FixedOperand
            });
            return true;
        }
        if let Some(rest) = t.strip_prefix("Removing the vreg in preg ") {
            self.sp.evicting = short_preg(rest);
            return true;
        }
        if let Some(rest) = t.strip_prefix("The removed vreg: ") {
            let why = self.sp.evict_why.take().unwrap_or(EvictWhy::ForOperand);
            if let (Some(preg), Some(vreg)) = (self.sp.evicting.take(), vreg_at(rest)) {
                self.sp_event(SpEvent::Evicted { vreg, preg, why });
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("Allocated slot: ") {
            if let Some((slot, _)) = number_at(rest) {
                self.sp_event(SpEvent::Slot { slot });
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("The allocated register for vreg ") {
            if let Some((v, p)) = rest.split_once(": ")
                && let (Some(vreg), Some(preg)) = (vreg_at(v), short_preg(p))
            {
                self.sp_event(SpEvent::Picked { vreg, preg });
            }
            return true;
        }
        if t.ends_with(" is already allocated within constraints") {
            self.sp.in_place = true;
            return true;
        }
        if let Some((_, alloc)) = split_key(t, " isn't allocated within constraints (the alloc: ") {
            self.sp.previous = loc_in(alloc.trim_end_matches(['.', ')']));
            return true;
        }
        if let Some(rest) = t.strip_prefix("Allocation for instruction ") {
            // `Inst(98) and operand Use: v361i fixed(p0i): p0i`: the
            // operand's own text has colons, the allocation follows the last.
            if let Some((_, op_alloc)) = rest.split_once(" and operand ")
                && let Some((op, alloc)) = op_alloc.rsplit_once(": ")
                && let (Some(operand), Some(alloc)) = (operand(op), loc_in(alloc))
            {
                let previous = self.sp.previous.take();
                let in_place = std::mem::take(&mut self.sp.in_place);
                let how = if op.trim_start().starts_with("Fixed: ") {
                    SpHow::Fixed
                } else if in_place {
                    SpHow::InPlace
                } else {
                    match previous {
                        Some(Loc::None) | None => SpHow::First,
                        Some(elsewhere) => SpHow::Moved { elsewhere },
                    }
                };
                self.sp_event(SpEvent::Operand {
                    operand,
                    alloc,
                    how,
                });
            } else {
                self.unparsed(message);
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("Freeing vreg ") {
            if let Some(vreg) = vreg_at(rest) {
                self.sp_event(SpEvent::Freed { vreg });
            }
            return true;
        }
        if t.starts_with("Move reason: ") {
            if let Some(step) = self.sp_step() {
                step.named_moves += 1;
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("Adding edit from ") {
            // `p11i to stack5 after inst Inst(24) for Def: v238i reg`
            if let Some((from, rest)) = rest.split_once(" to ")
                && let Some((to, rest)) = rest.split_once(" inst ")
            {
                let after = to.ends_with(" after");
                let to = to.trim_end_matches(" after").trim_end_matches(" before");
                let vreg = rest
                    .split_once(" for ")
                    .and_then(|(_, op)| operand(op))
                    .and_then(|o| o.vreg);
                if let (Some(from), Some(to)) = (loc_in(from), loc_in(to)) {
                    self.sp_event(SpEvent::Move {
                        from,
                        to,
                        after,
                        vreg,
                    });
                }
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("Inserting edit to move from ") {
            if let Some((from, to)) = rest.split_once(" to ")
                && let (Some(from), Some(to)) = (loc_in(from), loc_in(to))
            {
                self.sp_event(SpEvent::Move {
                    from,
                    to,
                    after: false,
                    vreg: None,
                });
                if let Some(step) = self.sp_step() {
                    step.named_moves += 1;
                }
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("Recording parallel move from ") {
            if let Some((from, to)) = rest.split_once(" to ")
                && let (Some(from), Some(to)) = (loc_in(from), loc_in(to))
            {
                self.sp_event(SpEvent::ParallelMove { from, to });
            }
            return true;
        }
        if t.starts_with("Edit is stack-to-stack") {
            self.sp_event(SpEvent::StackToStack);
            if let Some(step) = self.sp_step() {
                step.named_moves += 1;
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("Retrieved reg ") {
            if let Some(preg) = short_preg(rest.split(' ').next().unwrap_or_default()) {
                self.sp_event(SpEvent::Scratch { preg });
            }
            return true;
        }
        if let Some(rest) =
            t.strip_suffix(" is not a block param. It's a liveout vreg from some predecessor")
        {
            if let Some(vreg) = vreg_at(rest) {
                self.sp_event(SpEvent::LiveIn {
                    vreg,
                    reloaded: true,
                });
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("No need to reload ") {
            if let Some(vreg) = vreg_at(rest)
                && let Some(step) = self.sp_step()
            {
                for e in step.events.iter_mut().rev() {
                    if let SpEvent::LiveIn { vreg: v, reloaded } = e
                        && *v == vreg
                    {
                        *reloaded = false;
                        break;
                    }
                }
            }
            return true;
        }
        if let Some(rest) = t.strip_suffix(" is a block param. Freeing it") {
            if let Some(vreg) = vreg_at(rest) {
                self.sp_event(SpEvent::BlockParam { vreg });
            }
            return true;
        }
        if t.starts_with("No registers available for ")
            || t.starts_with("Can't get a scratch register")
            || t.starts_with("Couldn't find any reg for scratch")
            || t.starts_with("Failed to find an available")
            || (t.starts_with("fixed ") && t.ends_with(" isn't available"))
        {
            self.sp_event(SpEvent::NoRegister {
                text: t.chars().take(200).collect(),
            });
            return true;
        }
        false
    }

    /// A state record's allocations (sorted by vreg): the changes since the
    /// last state.
    fn sp_state(&mut self, now: Vec<(VRegId, Loc)>) {
        let mut changes = Vec::new();
        for &(vreg, after) in &now {
            let before = self.sp.allocs.insert(vreg, after).unwrap_or(Loc::None);
            if before != after {
                changes.push(SpChange {
                    vreg,
                    before,
                    after,
                });
            }
        }
        self.sp.allocs.retain(|&vreg, &mut before| {
            let live = now.binary_search_by_key(&vreg, |&(v, _)| v).is_ok();
            if !live {
                changes.push(SpChange {
                    vreg,
                    before,
                    after: Loc::None,
                });
            }
            live
        });
        changes.sort_unstable_by_key(|c| c.vreg);
        if let Some(step) = self.sp_step() {
            step.changes = changes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::RegClass;

    #[test]
    fn state_records_in_both_printed_forms() {
        assert_eq!(
            vreg_allocs_in(r#"{"vreg364": p15i, "vreg2": stack3}"#),
            vec![
                (2, Loc::Stack(3)),
                (
                    364,
                    Loc::Reg(PReg {
                        hw: 15,
                        class: RegClass::Int
                    })
                )
            ]
        );
        let p14 = PReg {
            hw: 14,
            class: RegClass::Int,
        };
        assert_eq!(
            occupied_in(r#"["p14i: v362, ", "p15i: v364, "]"#)[0],
            (p14, 362)
        );
        assert_eq!(
            occupied_in("{PReg(hw = 14, class = Int, index = 14): VReg(vreg = 362, class = Int)}"),
            vec![(p14, 362)]
        );
        assert_eq!(
            lru_in(r#"Lru { head: 14, class: Int, data: "p14 -> p15 -> p0" }"#),
            vec![14, 15, 0]
        );
        assert!(lru_in(r#"Lru { head: "none", class: Vector, data: "<empty>" }"#).is_empty());
    }
}
