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

use super::builder::TraceBuilder;
use super::model::{Constraint, EditRecord, Loc, PReg, RegClass, VRegId};
use super::moves::loc_in;
use super::scan::{first_after, number_at, operand_in, short_preg, split_key};

/// Where a single-pass step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum SpAt {
    /// Allocating one instruction's operands.
    Inst { inst: u32 },
    /// The start of a block: values live into it go to their spill slots.
    BlockStart,
}

/// An operand as regalloc2 printed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SpOperand {
    pub def: bool,
    pub late: bool,
    pub vreg: Option<VRegId>,
    pub constraint: Constraint,
}

impl SpOperand {
    /// `use v12 (reg)`, `def@early v3 (fixed p0i)`.
    pub fn text(&self) -> String {
        let kind = match (self.def, self.late) {
            (true, true) => "def",
            (true, false) => "def@early",
            (false, false) => "use",
            (false, true) => "use@late",
        };
        match self.vreg {
            Some(v) => format!("{kind} v{v} ({})", self.constraint.text()),
            None => format!("{kind} ({})", self.constraint.text()),
        }
    }
}

/// How an operand got its allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum SpHow {
    /// The value already was where the operand may have it.
    InPlace,
    /// The value had no place yet (nothing later uses it, walking backwards):
    /// this operand's allocation becomes its place.
    First,
    /// The value lives elsewhere after the instruction; a move connects them.
    Moved { elsewhere: Loc },
    /// A fixed, non-allocatable register.
    Fixed,
}

/// Why a value left its register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvictWhy {
    /// An operand is fixed to the register.
    FixedOperand,
    /// The instruction clobbers the register.
    Clobber,
    /// The least-recently-used register was taken for another operand.
    ForOperand,
}

/// One thing the single-pass allocator did, in the order it logged it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SpEvent {
    /// A register set aside for an operand fixed to it.
    Reserved { preg: PReg, vreg: Option<VRegId> },
    /// A value put out of its register; it lives in its spill slot before.
    Evicted {
        vreg: VRegId,
        preg: PReg,
        why: EvictWhy,
    },
    /// The least recently used free register, taken for `vreg`.
    Picked { vreg: VRegId, preg: PReg },
    /// A spill slot allocated (for the value the records around it name).
    Slot { slot: u32 },
    /// An operand's final allocation.
    Operand {
        operand: SpOperand,
        alloc: Loc,
        how: SpHow,
    },
    /// A definition processed: walking backwards, the value is dead above.
    Freed { vreg: VRegId },
    /// A move the records name (others follow from evictions and reloads).
    Move {
        from: Loc,
        to: Loc,
        after: bool,
        vreg: Option<VRegId>,
    },
    /// A branch argument copied to its block parameter's slot.
    ParallelMove { from: Loc, to: Loc },
    /// A stack-to-stack move needs a scratch register: two edits.
    StackToStack,
    /// A register lent to the parallel-move resolver as scratch.
    Scratch { preg: PReg },
    /// A value live into the block, moved into its spill slot at the start.
    LiveIn { vreg: VRegId, reloaded: bool },
    /// A block parameter: defined by the branches into the block.
    BlockParam { vreg: VRegId },
    /// regalloc2 found no register; the allocation fails.
    NoRegister { text: String },
}

/// A value's allocation before and after a step (`Loc::None` once freed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SpChange {
    pub vreg: VRegId,
    pub before: Loc,
    pub after: Loc,
}

/// One single-pass step.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SpStep {
    pub block: u32,
    #[serde(flatten)]
    pub at: SpAt,
    pub events: Vec<SpEvent>,
    /// Allocations that changed (the value's place above this point, walking
    /// backwards).
    pub changes: Vec<SpChange>,
    /// Which value each register holds after the step, by register.
    pub occupied: Vec<(PReg, VRegId)>,
    /// Per class (int, float, vector): hardware numbers from most to least
    /// recently used.
    pub lru: [Vec<u8>; 3],
    /// The edits (moves) the step added, in the order regalloc2 added them.
    pub edits: Vec<EditRecord>,
    /// The step's state record was read: it ended.
    pub complete: bool,
    /// Records of the step behind the state record (the moves that no record
    /// names are counted from the final edits).
    #[serde(skip)]
    pub(super) named_moves: u32,
}

impl SpStep {
    fn new(block: u32, at: SpAt) -> SpStep {
        SpStep {
            block,
            at,
            events: Vec::new(),
            changes: Vec::new(),
            occupied: Vec::new(),
            lru: Default::default(),
            edits: Vec::new(),
            complete: false,
            named_moves: 0,
        }
    }

    /// The evictions of the step.
    pub fn evictions(&self) -> impl Iterator<Item = (VRegId, PReg, EvictWhy)> + '_ {
        self.events.iter().filter_map(|e| match e {
            SpEvent::Evicted { vreg, preg, why } => Some((*vreg, *preg, *why)),
            _ => None,
        })
    }

    /// Spill slots the step allocated.
    pub fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.events.iter().filter_map(|e| match e {
            SpEvent::Slot { slot } => Some(*slot),
            _ => None,
        })
    }
}

/// Everything the single-pass allocator logged, as steps.
#[derive(Clone, Debug, Default)]
pub struct SinglePassLog {
    pub steps: Vec<SpStep>,
    /// Its "Done!" record was seen.
    pub finished: bool,
    /// The edits of its output, in output order (first instruction first).
    pub final_edits: Vec<EditRecord>,
    /// Why the edits could not all be handed to steps, if they could not.
    pub attribution: Option<String>,
}

/// What the parser is reading besides single records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum SpSection {
    #[default]
    None,
    /// After "State after instruction …": the state records.
    State,
}

/// The parser's memory between records.
#[derive(Debug, Default)]
pub(super) struct SpParse {
    block: u32,
    section: SpSection,
    /// The current allocation of every live value, as the last state said.
    allocs: rustc_hash::FxHashMap<VRegId, Loc>,
    /// "Evicting vN from fixed register / clobber": the next eviction's cause.
    evict_why: Option<EvictWhy>,
    /// "Removing the vreg in preg P for eviction": waiting for its vreg.
    evicting: Option<PReg>,
    /// "OP isn't allocated within constraints (the alloc: A)".
    previous: Option<Loc>,
    in_place: bool,
    /// A "Move reason" record: the next add_move is named.
    move_reason: bool,
}

/// The result of one record for the single-pass parser.
pub(super) enum SpRecord {
    Used,
    /// A record kind nobody here reads (the logger may skip its call site).
    Noise,
    NotMine,
}

/// Records of fastalloc that say nothing the steps keep.
const NOISE: &[&str] = &[
    "Before poking",
    "About to poke",
    "Poked ",
    "Int LRU. head",
    "Float LRU. head",
    "Vector LRU. head",
    "Getting the last preg",
    "available regs: ",
    "Number of ",
    "Counting ",
    "init num avail pregs",
    "avail pregs after fixed",
    "Late available regs",
    "Early available regs",
    "registers available for ",
    "Resetting the available pregs",
    "Allocating use op",
    "Allocating use operand",
    "Allocating def operand",
    "Allocating reused input",
    "allocating reuse op",
    "Decreasing num any-reg",
    "Initializing reused_input",
    "Removing clobbers ",
    "Checking for predecessor",
    "Checking ",
    "The vreg in ",
    "Setting vreg_allocs[",
    "The fixed preg: ",
    "Allocating a spillslot",
    "Decrementing clobber",
    "Resolving parallel moves",
    "Resolved ",
    "Completed processing branch",
    "Live registers at the beginning",
    "Block params at block",
    "Setting v",
    "Recording edit: ",
    "Move 1: ",
    "Move 2: ",
    "Need more registers",
];

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

    /// One record of regalloc2's `fastalloc`.
    pub(super) fn single_pass_record(&mut self, message: &str) -> SpRecord {
        let t = message.trim();
        if self.sp.section == SpSection::State {
            if let Some(rest) = t.strip_prefix("vreg_allocs: ") {
                let now = vreg_allocs_in(rest);
                self.sp_state(now);
                return SpRecord::Used;
            }
            if let Some(rest) = t.strip_prefix("vreg_in_preg: ") {
                let occupied = occupied_in(rest);
                if let Some(step) = self.sp_step() {
                    step.occupied = occupied;
                }
                return SpRecord::Used;
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
                    return SpRecord::Used;
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
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("Reloading live registers at the beginning of block ") {
            if let Some(b) = first_after(rest, "Block(") {
                self.sp.block = b;
            }
            self.sp_start(SpAt::BlockStart);
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("State after instruction ") {
            // The state of an instruction's step, or of a block start.
            let _ = rest;
            self.sp.section = SpSection::State;
            return SpRecord::Used;
        }
        if let Some(b) = t.strip_prefix("Block(")
            && t.ends_with(" start")
        {
            if let Some((n, _)) = number_at(b) {
                self.sp.block = n;
            }
            return SpRecord::Used;
        }
        if t.starts_with("Block(") && t.ends_with(" end") {
            return SpRecord::Used;
        }
        if t == "Done!" {
            self.trace.single_pass.finished = true;
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("Reserving register ") {
            if let Some((p, op)) = rest.split_once(" for operand ")
                && let Some(preg) = short_preg(p)
            {
                let vreg = operand(op).and_then(|o| o.vreg);
                self.sp_event(SpEvent::Reserved { preg, vreg });
            }
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("Evicting ") {
            self.sp.evict_why = Some(if rest.contains(" from clobber ") {
                EvictWhy::Clobber
            } else {
                EvictWhy::FixedOperand
            });
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("Removing the vreg in preg ") {
            self.sp.evicting = short_preg(rest);
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("The removed vreg: ") {
            let why = self.sp.evict_why.take().unwrap_or(EvictWhy::ForOperand);
            if let (Some(preg), Some(vreg)) = (self.sp.evicting.take(), vreg_at(rest)) {
                self.sp_event(SpEvent::Evicted { vreg, preg, why });
            }
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("Allocated slot: ") {
            if let Some((slot, _)) = number_at(rest) {
                self.sp_event(SpEvent::Slot { slot });
            }
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("The allocated register for vreg ") {
            if let Some((v, p)) = rest.split_once(": ")
                && let (Some(vreg), Some(preg)) = (vreg_at(v), short_preg(p))
            {
                self.sp_event(SpEvent::Picked { vreg, preg });
            }
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_suffix(" is already allocated within constraints") {
            let _ = rest;
            self.sp.in_place = true;
            return SpRecord::Used;
        }
        if let Some((_, alloc)) = split_key(t, " isn't allocated within constraints (the alloc: ") {
            self.sp.previous = loc_in(alloc.trim_end_matches(['.', ')']));
            return SpRecord::Used;
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
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("Freeing vreg ") {
            if let Some(vreg) = vreg_at(rest) {
                self.sp_event(SpEvent::Freed { vreg });
            }
            return SpRecord::Used;
        }
        if t.starts_with("Move reason: ") {
            self.sp.move_reason = true;
            if let Some(step) = self.sp_step() {
                step.named_moves += 1;
            }
            return SpRecord::Used;
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
            return SpRecord::Used;
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
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("Recording parallel move from ") {
            if let Some((from, to)) = rest.split_once(" to ")
                && let (Some(from), Some(to)) = (loc_in(from), loc_in(to))
            {
                self.sp_event(SpEvent::ParallelMove { from, to });
            }
            return SpRecord::Used;
        }
        if t.starts_with("Edit is stack-to-stack") {
            self.sp_event(SpEvent::StackToStack);
            if let Some(step) = self.sp_step() {
                step.named_moves += 1;
            }
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_prefix("Retrieved reg ") {
            if let Some(preg) = short_preg(rest.split(' ').next().unwrap_or_default()) {
                self.sp_event(SpEvent::Scratch { preg });
            }
            return SpRecord::Used;
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
            return SpRecord::Used;
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
            return SpRecord::Used;
        }
        if let Some(rest) = t.strip_suffix(" is a block param. Freeing it") {
            if let Some(vreg) = vreg_at(rest) {
                self.sp_event(SpEvent::BlockParam { vreg });
            }
            return SpRecord::Used;
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
            return SpRecord::Used;
        }
        if t.starts_with("Processing branch instruction")
            || t.starts_with("Processing v")
            || t.ends_with(" curr alloc is now none")
            || (t.starts_with('p') && t.ends_with(". Removing it"))
            || t.starts_with("Vreg ")
            || t.starts_with("Retrieved slot ")
            || t.is_empty()
        {
            return SpRecord::Used;
        }
        if NOISE.iter().any(|n| t.starts_with(n)) {
            return SpRecord::Noise;
        }
        SpRecord::NotMine
    }

    /// A state record's allocations: the changes since the last state.
    fn sp_state(&mut self, now: Vec<(VRegId, Loc)>) {
        let mut changes = Vec::new();
        let mut next = rustc_hash::FxHashMap::default();
        next.reserve(now.len());
        for &(vreg, loc) in &now {
            let before = self.sp.allocs.get(&vreg).copied().unwrap_or(Loc::None);
            if before != loc {
                changes.push(SpChange {
                    vreg,
                    before,
                    after: loc,
                });
            }
            next.insert(vreg, loc);
        }
        for (&vreg, &before) in &self.sp.allocs {
            if !next.contains_key(&vreg) {
                changes.push(SpChange {
                    vreg,
                    before,
                    after: Loc::None,
                });
            }
        }
        changes.sort_unstable_by_key(|c| c.vreg);
        self.sp.allocs = next;
        if let Some(step) = self.sp_step() {
            step.changes = changes;
        }
    }
}

impl SinglePassLog {
    /// Hands the final edits back to the steps that added them. regalloc2
    /// adds edits while it walks backwards and reverses the list at the end,
    /// so read backwards the list is in the order the steps added them; every
    /// edit a step adds sits at its own instruction (a block start's at the
    /// block's first). An instruction step takes the edits at its instruction;
    /// when a block start follows at the same instruction, it keeps the last
    /// ones, as many as its records name.
    pub fn attribute_edits(&mut self) {
        let mut pending = self.final_edits.iter().rev().copied().peekable();
        let n = self.steps.len();
        let mut first_inst_of_block = None;
        // Block starts carry no instruction: the first instruction of their
        // block is the instruction step just before them.
        for i in 0..n {
            let inst = match self.steps[i].at {
                SpAt::Inst { inst } => {
                    first_inst_of_block = Some(inst);
                    inst
                }
                SpAt::BlockStart => match first_inst_of_block {
                    Some(inst) => inst,
                    None => continue,
                },
            };
            let mut run = Vec::new();
            while let Some(e) = pending.peek()
                && e.pos.inst() == inst
            {
                run.push(*e);
                pending.next();
            }
            let next_is_start =
                matches!(self.steps.get(i + 1), Some(s) if s.at == SpAt::BlockStart);
            if matches!(self.steps[i].at, SpAt::Inst { .. }) && next_is_start {
                let theirs = (self.steps[i + 1].named_moves as usize).min(run.len());
                let split = run.len() - theirs;
                self.steps[i + 1].edits = run.split_off(split);
            }
            if self.steps[i].edits.is_empty() {
                self.steps[i].edits = run;
            } else {
                // A block start whose edits came with its instruction's.
                self.steps[i].edits.extend(run);
            }
        }
        let left = pending.count();
        self.attribution = (left > 0).then(|| {
            format!(
                "{left} of {} final edits matched no step",
                self.final_edits.len()
            )
        });
    }

    /// Counts for summaries.
    pub fn counts(&self) -> SpCounts {
        let mut c = SpCounts {
            steps: self.steps.len(),
            ..SpCounts::default()
        };
        for s in &self.steps {
            match s.at {
                SpAt::Inst { .. } => c.instructions += 1,
                SpAt::BlockStart => c.block_starts += 1,
            }
            c.evictions += s.evictions().count();
            c.spill_slots += s.slots().count();
            c.edits += s.edits.len();
        }
        c
    }
}

/// How much a single-pass allocation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SpCounts {
    pub steps: usize,
    pub instructions: usize,
    pub block_starts: usize,
    pub evictions: usize,
    pub spill_slots: usize,
    pub edits: usize,
}

/// The class index of the LRU lists.
pub fn lru_class(i: usize) -> RegClass {
    match i {
        0 => RegClass::Int,
        1 => RegClass::Float,
        _ => RegClass::Vector,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
