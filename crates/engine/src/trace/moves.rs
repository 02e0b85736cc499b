//! Records of regalloc2's `ion/moves.rs` (and the `insert_move` record of its
//! `lib.rs`): after the allocation passes, each live range's final location,
//! every move regalloc2 asks for with the record that says why, and the edits
//! left once the parallel moves at each point are resolved and redundant ones
//! elided. The edits are regalloc2's output edits, in its order.

use super::builder::TraceBuilder;
use super::model::{EditRecord, FinalRange, InsertedMove, Loc, MoveReason, VRegId};
use super::scan::{first_after, number_at, point_in, points_in, short_preg, split_key};

/// An `Allocation` as regalloc2 prints it: `p3i`, `stack4` or `none`.
pub(super) fn loc_in(s: &str) -> Option<Loc> {
    let s = s.trim();
    if s.starts_with("none") {
        return Some(Loc::None);
    }
    if let Some(rest) = s.strip_prefix("stack") {
        return number_at(rest).map(|(n, _)| Loc::Stack(n));
    }
    let word: String = s
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    short_preg(&word).map(Loc::Reg)
}

/// `X -> Y` at the start of `s`.
fn loc_pair(s: &str) -> Option<(Loc, Loc)> {
    let (a, b) = s.split_once(" -> ")?;
    Some((loc_in(a)?, loc_in(b)?))
}

/// `VReg(vreg = 430, class = Int)` or `v430`.
fn vreg_in(s: &str) -> Option<VRegId> {
    first_after(s, "vreg = ").or_else(|| {
        let i = s.rfind(" v")?;
        number_at(&s[i + 2..]).map(|(n, _)| n)
    })
}

impl TraceBuilder {
    /// A record of `ion/moves.rs`; `false` when it is not one this parser
    /// follows.
    pub(super) fn moves_record(&mut self, message: &str) -> bool {
        let t = message.trim_start();
        if let Some(rest) = t.strip_prefix("apply_allocations: vreg ") {
            let vreg = first_after(rest, "VRegIndex(");
            let range = first_after(rest, "LiveRangeIndex(");
            let points = points_in(rest);
            let loc = split_key(rest, "has alloc ").and_then(|(_, a)| loc_in(a));
            match (vreg, range, points.as_slice(), loc) {
                (Some(vreg), Some(range), [from, to], Some(loc)) => {
                    self.trace.moves.ranges.push(FinalRange {
                        vreg,
                        range,
                        from: *from,
                        to: *to,
                        loc,
                    });
                }
                _ => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("prev LR ") {
            // "prev LR 4 abuts LR 102 in same block; moving p12i -> stack11 for v430"
            let prev = number_at(rest).map(|(n, _)| n);
            let next = first_after(rest, "abuts LR ");
            match (prev, next) {
                (Some(prev), Some(next)) => {
                    self.moves.reason = Some(MoveReason::Abut { prev, next });
                }
                _ => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("-> moving from ") {
            // " -> moving from stack11 to p12i between Block(0) and Block(1)"
            let from_block = first_after(rest, "between Block(");
            let to_block = first_after(rest, "and Block(");
            match (from_block, to_block) {
                (Some(from_block), Some(to_block)) => {
                    self.moves.reason = Some(MoveReason::InterBlock {
                        from_block,
                        to_block,
                    });
                }
                _ => self.unparsed(message),
            }
            return true;
        }
        if t.starts_with("processing block-param moves") {
            self.moves.block_params = true;
            return true;
        }
        if let Some(rest) = t.strip_prefix("multi-fixed-move constraint at ") {
            self.moves.block_params = false;
            match point_in(rest) {
                Some(p) => {
                    self.moves.reason = Some(MoveReason::MultiFixed {
                        inst: p.inst(),
                        secondary: false,
                    })
                }
                None => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("reuse-input inst ") {
            // "reuse-input inst Inst(96): output 1 has alloc p1i, input 0 has alloc p1i"
            self.moves.block_params = false;
            let inst = first_after(rest, "Inst(");
            let output = first_after(rest, "output ");
            let input = first_after(rest, "input ");
            match (inst, output, input) {
                (Some(inst), Some(output), Some(input)) => {
                    self.moves.reason = Some(MoveReason::ReuseInput {
                        inst,
                        input,
                        output,
                    });
                }
                _ => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("parallel moves at pos ") {
            let point = point_in(rest);
            let prio = first_after(rest, "prio ");
            match (point, prio) {
                (Some(p), Some(prio)) => self.moves.at = Some((p, prio)),
                _ => self.unparsed(message),
            }
            return true;
        }
        if let Some(rest) = t.strip_prefix("resolved: ") {
            // "resolved: p0i -> stack11 (Some(VReg(vreg = 454, class = Int)))"
            let pair = rest.split_once(" (").and_then(|(m, _)| loc_pair(m));
            match (pair, self.moves.at) {
                (Some((from, to)), Some((pos, prio))) => {
                    let vreg = split_key(rest, " (").and_then(|(_, v)| {
                        if v.starts_with("None") {
                            None
                        } else {
                            vreg_in(v)
                        }
                    });
                    self.trace.moves.edits.push(EditRecord {
                        pos,
                        prio,
                        from,
                        to,
                        vreg,
                    });
                }
                _ => self.unparsed(message),
            }
            return true;
        }
        if t.starts_with("-> redundant move elided") {
            // The move just resolved is not an edit after all.
            if self.trace.moves.edits.pop().is_some() {
                self.trace.moves.elided += 1;
            } else {
                self.unparsed(message);
            }
            return true;
        }
        if t.starts_with("apply_allocations_and_insert_moves") {
            self.trace.moves.seen = true;
            return true;
        }
        if t.starts_with("processing inter-block moves for") {
            return true;
        }
        false
    }

    /// regalloc2's `insert_move` record: one move asked for, with the reason
    /// record that came before it.
    pub(super) fn insert_move_record(&mut self, message: &str) {
        // "insert_move: pos progpoint29-pre prio Regular from_alloc p12i
        //  to_alloc stack11 to_vreg VReg(vreg = 430, class = Int)"
        let pos = point_in(message);
        let from = split_key(message, "from_alloc ").and_then(|(_, r)| loc_in(r));
        let to = split_key(message, "to_alloc ").and_then(|(_, r)| loc_in(r));
        let vreg = split_key(message, "to_vreg ").and_then(|(_, r)| vreg_in(r));
        let (Some(pos), Some(from), Some(to)) = (pos, from, to) else {
            self.unparsed(message);
            return;
        };
        let mut reason = self
            .moves
            .reason
            .take()
            .unwrap_or(if self.moves.block_params {
                MoveReason::BlockParam
            } else {
                MoveReason::Unknown
            });
        if let MoveReason::MultiFixed { secondary, .. } = &mut reason {
            *secondary = message.contains("prio MultiFixedRegSecondary");
        }
        self.trace.moves.inserted.push(InsertedMove {
            pos,
            from,
            to,
            vreg,
            reason,
        });
    }
}

impl TraceBuilder {
    /// The single-pass allocator's output, from its `log_output` in
    /// regalloc2's `fastalloc/mod.rs`: `Final edits: [(progpoint0-post, Move {
    /// from: p1i, to: stack1 }), …]` (no vreg is named), and `VReg spillslots:
    /// [("v194", "stack2"), …]`. Returns whether the record was one of them.
    pub(super) fn fastalloc_output_record(&mut self, message: &str) -> bool {
        if let Some(list) = message.strip_prefix("Final edits: ") {
            let mut rest = list;
            while let Some(i) = rest.find("(progpoint") {
                rest = &rest[i + 1..];
                let Some(pos) = point_in(rest) else { break };
                let Some((_, after)) = rest.split_once("Move { from: ") else {
                    break;
                };
                let Some((from, after)) = after.split_once(", to: ") else {
                    break;
                };
                let Some((to, after)) = after.split_once(" }") else {
                    break;
                };
                if let (Some(from), Some(to)) = (loc_in(from), loc_in(to)) {
                    self.trace.moves.edits.push(EditRecord {
                        pos,
                        prio: 0,
                        from,
                        to,
                        vreg: None,
                    });
                }
                rest = after;
            }
            self.trace.moves.seen = true;
            return true;
        }
        if let Some(list) = message.strip_prefix("VReg spillslots: ") {
            let mut rest = list;
            while let Some(i) = rest.find("\"stack") {
                rest = &rest[i + "\"stack".len()..];
                if let Some((n, r)) = number_at(rest) {
                    self.trace.spill_slots.insert(n);
                    rest = r;
                }
            }
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::model::{PReg, RegClass};

    #[test]
    fn allocations_in_every_printed_form() {
        let p12 = Loc::Reg(PReg {
            hw: 12,
            class: RegClass::Int,
        });
        assert_eq!(loc_in("p12i"), Some(p12));
        assert_eq!(loc_in("stack11 (x)"), Some(Loc::Stack(11)));
        assert_eq!(loc_in("none"), Some(Loc::None));
        assert_eq!(loc_in("garbage"), None);
        assert_eq!(loc_pair("p12i -> stack3"), Some((p12, Loc::Stack(3))));
        assert_eq!(vreg_in("VReg(vreg = 430, class = Int)"), Some(430));
        assert_eq!(vreg_in("moving p12i -> stack11 for v430"), Some(430));
    }
}
