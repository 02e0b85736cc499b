//! The single-pass allocator stepped: the state after any number of steps
//! (every live value's place, which value each register holds, the LRU lists)
//! and each step told in words, for the app and the CLI.

use std::collections::BTreeMap;

use super::explain::reg;
use crate::trace::{EvictWhy, SinglePassLog, SpAt, SpEvent, SpHow, SpStep, lru_class};
use crate::trace::{Loc, PReg, RegClass, RegNames, VRegId};

/// What every single-pass view says first: the order is backwards.
pub const DIRECTION: &str = "regalloc2's single-pass allocator walks the blocks from last to first \
     and each block's instructions from last to first: step 1 is the function's last instruction. \
     At each instruction a value's place is where the code after it (already allocated) expects \
     it; at each block start the values live into the block go to their spill slots.";

/// A place in words: a register by its target's name, or a stack slot.
pub fn loc(l: Loc, names: Option<RegNames>) -> String {
    match l {
        Loc::Reg(p) => reg(p, names),
        Loc::Stack(s) => format!("stack{s}"),
        Loc::None => "nowhere".into(),
    }
}

/// The state after `k` steps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpState {
    /// Every live value's place.
    pub allocs: BTreeMap<VRegId, Loc>,
    /// Which value each register holds.
    pub occupied: Vec<(PReg, VRegId)>,
    /// Per class, hardware numbers from most to least recently used.
    pub lru: [Vec<u8>; 3],
}

/// The state after the first `k` steps of `log` (k = 0: before the first).
pub fn state_at(log: &SinglePassLog, k: usize) -> SpState {
    let mut s = SpState::default();
    s.seek(log, 0, k);
    s
}

impl SpState {
    /// Moves this state, the state after `from` steps, to after `to` steps:
    /// forward by each step's new places, back by its old ones.
    pub fn seek(&mut self, log: &SinglePassLog, from: usize, to: usize) {
        let to = to.min(log.steps.len());
        let from = from.min(log.steps.len());
        let set = |allocs: &mut BTreeMap<VRegId, Loc>, vreg, loc| {
            if loc == Loc::None {
                allocs.remove(&vreg);
            } else {
                allocs.insert(vreg, loc);
            }
        };
        if to >= from {
            for c in log.steps[from..to].iter().flat_map(|s| &s.changes) {
                set(&mut self.allocs, c.vreg, c.after);
            }
        } else {
            for c in log.steps[to..from]
                .iter()
                .rev()
                .flat_map(|s| s.changes.iter().rev())
            {
                set(&mut self.allocs, c.vreg, c.before);
            }
        }
        match to.checked_sub(1).map(|i| &log.steps[i]) {
            Some(last) => {
                self.occupied.clone_from(&last.occupied);
                self.lru.clone_from(&last.lru);
            }
            None => {
                self.occupied.clear();
                self.lru = Default::default();
            }
        }
    }
}

/// The chart's rows: every register a value sits in at some step, by class
/// and number (registers the allocator never used are left out).
pub fn chart_rows(log: &SinglePassLog) -> Vec<PReg> {
    let mut rows: Vec<PReg> = log
        .steps
        .iter()
        .flat_map(|s| s.occupied.iter().map(|&(p, _)| p))
        .collect();
    rows.sort_by_key(|p| p.index());
    rows.dedup();
    rows
}

/// The registers the allocator may use, from its LRU lists.
pub fn allocatable(log: &SinglePassLog) -> usize {
    log.steps
        .iter()
        .find(|s| s.complete)
        .map_or(0, |s| s.lru.iter().map(Vec::len).sum())
}

/// Where the step is, in words: `inst 97 (block 1)` or `start of block 3`.
pub fn place(step: &SpStep) -> String {
    match step.at {
        SpAt::Inst { inst } => format!("inst {inst} (block {})", step.block),
        SpAt::BlockStart => format!("start of block {}", step.block),
    }
}

/// One short line.
pub fn headline(step: &SpStep, names: Option<RegNames>) -> String {
    let mut parts = Vec::new();
    match step.at {
        SpAt::Inst { .. } => {
            let mut got = Vec::new();
            for e in &step.events {
                if let SpEvent::Operand {
                    operand,
                    alloc,
                    how,
                } = e
                    && let Some(v) = operand.vreg
                    && *how != SpHow::InPlace
                {
                    got.push(format!("v{v}→{}", loc(*alloc, names)));
                }
            }
            if got.is_empty() {
                parts.push("operands already in place".to_string());
            } else {
                parts.push(got.join(", "));
            }
        }
        SpAt::BlockStart => {
            let live = step
                .events
                .iter()
                .filter(|e| matches!(e, SpEvent::LiveIn { .. }))
                .count();
            parts.push(format!("{live} values live in go to their spill slots"));
        }
    }
    let evicted: Vec<String> = step
        .evictions()
        .map(|(v, p, _)| format!("v{v} from {}", reg(p, names)))
        .collect();
    if !evicted.is_empty() {
        parts.push(format!("evicts {}", evicted.join(", ")));
    }
    if !step.edits.is_empty() {
        parts.push(format!(
            "{} move{}",
            step.edits.len(),
            if step.edits.len() == 1 { "" } else { "s" }
        ));
    }
    if step
        .events
        .iter()
        .any(|e| matches!(e, SpEvent::NoRegister { .. }))
    {
        parts.push("no register left".into());
    }
    format!("{}: {}", place(step), parts.join("; "))
}

/// The step in sentences, in the order regalloc2 did things.
pub fn explain(step: &SpStep, names: Option<RegNames>) -> Vec<String> {
    let mut out = Vec::new();
    match step.at {
        SpAt::Inst { inst } => out.push(format!(
            "Instruction {inst} of block {}. Everything after it is allocated already; \
             its operands are placed so that the code after finds its values where it expects them.",
            step.block
        )),
        SpAt::BlockStart => out.push(format!(
            "The start of block {}: every value live into it must be in its spill slot here, \
             where each predecessor's end leaves it.",
            step.block
        )),
    }
    for e in &step.events {
        let s = match e {
            SpEvent::Reserved { preg, vreg } => match vreg {
                Some(v) => format!(
                    "{} is set aside: an operand of v{v} is fixed to it.",
                    reg(*preg, names)
                ),
                None => format!("{} is set aside for a fixed operand.", reg(*preg, names)),
            },
            SpEvent::Evicted { vreg, preg, why } => {
                let cause = match why {
                    EvictWhy::FixedOperand => "an operand here is fixed to that register",
                    EvictWhy::Clobber => "the instruction clobbers it",
                    EvictWhy::ForOperand => {
                        "it was the least recently used register and an operand needs one"
                    }
                };
                format!(
                    "v{vreg} is evicted from {}: {cause}. Before this point v{vreg} lives in its \
                     spill slot, and a reload into {} goes after the instruction.",
                    reg(*preg, names),
                    reg(*preg, names)
                )
            }
            SpEvent::Picked { vreg, preg } => format!(
                "v{vreg} takes {}, the least recently used register free for it.",
                reg(*preg, names)
            ),
            SpEvent::Slot { slot } => format!("A new spill slot, stack{slot}."),
            SpEvent::Operand {
                operand,
                alloc,
                how,
            } => {
                let op = operand.text();
                let at = loc(*alloc, names);
                match how {
                    SpHow::InPlace => {
                        format!("{op}: already in {at}, where the code after needs it.")
                    }
                    SpHow::First if operand.def => {
                        format!("{op}: nothing after uses the value; it is defined into {at}.")
                    }
                    SpHow::First => format!(
                        "{op}: this is the value's last use, walking backwards its first; it gets {at}."
                    ),
                    SpHow::Moved { elsewhere } => format!(
                        "{op}: gets {at}, but the code after expects the value in {}; a move connects them.",
                        loc(*elsewhere, names)
                    ),
                    SpHow::Fixed => format!("{op}: the fixed register {at}."),
                }
            }
            SpEvent::Freed { vreg } => format!(
                "v{vreg} is defined here: walking backwards its life ends, and its place is free above."
            ),
            SpEvent::Move {
                from,
                to,
                after,
                vreg,
            } => format!(
                "A move {} → {}{} {} the instruction.",
                loc(*from, names),
                loc(*to, names),
                vreg.map(|v| format!(" for v{v}")).unwrap_or_default(),
                if *after { "after" } else { "before" }
            ),
            SpEvent::ParallelMove { from, to } => format!(
                "A branch argument goes from {} to {}, its block parameter's slot.",
                loc(*from, names),
                loc(*to, names)
            ),
            SpEvent::StackToStack => {
                "A stack-to-stack move takes two moves through a scratch register.".to_string()
            }
            SpEvent::Scratch { preg } => format!(
                "{} is borrowed as scratch for the branch's moves.",
                reg(*preg, names)
            ),
            SpEvent::LiveIn { vreg, reloaded } => {
                if *reloaded {
                    format!(
                        "v{vreg} is live into the block: it is loaded from its spill slot to \
                         where the block's code expects it."
                    )
                } else {
                    format!("v{vreg} is live into the block and already in its spill slot.")
                }
            }
            SpEvent::BlockParam { vreg } => format!(
                "v{vreg} is a block parameter: the branches into the block leave it in its spill slot."
            ),
            SpEvent::NoRegister { text } => format!("No register is left: {text}."),
        };
        out.push(s);
    }
    if !step.edits.is_empty() {
        let moves: Vec<String> = step
            .edits
            .iter()
            .map(|e| {
                format!(
                    "{} → {} at {}",
                    loc(e.from, names),
                    loc(e.to, names),
                    e.pos.text()
                )
            })
            .collect();
        out.push(format!("Moves added: {}.", moves.join("; ")));
    }
    out
}

/// The LRU lists after a step, named: `int: rsi rdi … (least recent last)`.
pub fn lru_text(lru: &[Vec<u8>; 3], names: Option<RegNames>) -> Vec<String> {
    lru.iter()
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| {
            let class = lru_class(i);
            let regs: Vec<String> = l.iter().map(|&hw| reg(PReg { hw, class }, names)).collect();
            let name = match class {
                RegClass::Int => "int",
                RegClass::Float => "float",
                RegClass::Vector => "vector",
            };
            format!("{name}: {}", regs.join(" "))
        })
        .collect()
}

/// Every operand allocation of instruction `inst`, in the order regalloc2
/// allocated them (late operands first, then early ones).
pub fn operand_allocs(step: &SpStep) -> Vec<Loc> {
    step.events
        .iter()
        .filter_map(|e| match e {
            SpEvent::Operand { alloc, .. } => Some(*alloc),
            _ => None,
        })
        .collect()
}
