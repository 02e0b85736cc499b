//! The event model every consumer of a trace uses: program points, registers,
//! live-range pieces, state dumps, events, steps and the [`Trace`] itself. The
//! parser (the rest of this folder) produces it; the replay, diagnosis,
//! explanations, invariants, chart and CLI read it.

use std::collections::HashMap;

use crate::capture::CaptureStop;
use crate::input::isa::Algorithm;
use crate::input::release::Release;

pub use super::dialect::Dialect;

pub type BundleId = u32;
pub type RangeId = u32;
pub type VRegId = u32;

/// A regalloc2 program point: instruction `n`, before (`pre`) or after (`post`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct Point(pub u32);

impl Point {
    /// The largest instruction a point can name. regalloc2's `ProgPoint` packs
    /// the instruction into 31 bits; one less keeps `Point.0 + 1` (the end of
    /// a one-point range) in range too.
    pub const MAX_INST: u32 = (u32::MAX >> 1) - 1;

    /// The point at `inst` (clamped to [`Point::MAX_INST`], so arithmetic on
    /// numbers read from a log never overflows).
    pub fn new(inst: u32, post: bool) -> Point {
        Point(inst.min(Point::MAX_INST) * 2 + u32::from(post))
    }

    /// The point at `inst`, or `None` past [`Point::MAX_INST`]: for numbers
    /// read from a log, which no real allocation reaches.
    pub fn checked(inst: u32, post: bool) -> Option<Point> {
        (inst <= Point::MAX_INST).then(|| Point::new(inst, post))
    }
    pub fn inst(self) -> u32 {
        self.0 / 2
    }
    pub fn is_post(self) -> bool {
        self.0 % 2 == 1
    }
    pub fn text(self) -> String {
        format!(
            "{}-{}",
            self.inst(),
            if self.is_post() { "post" } else { "pre" }
        )
    }
}

impl From<Point> for String {
    fn from(p: Point) -> String {
        p.text()
    }
}

/// Register class of a physical or virtual register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegClass {
    Int,
    Float,
    Vector,
}

impl RegClass {
    /// The class of regalloc2's class number (`PRegIndex` bits 6 and up).
    pub(super) fn from_index(i: u32) -> Option<RegClass> {
        match i {
            0 => Some(RegClass::Int),
            1 => Some(RegClass::Float),
            2 => Some(RegClass::Vector),
            _ => None,
        }
    }
    pub(super) fn from_name(s: &str) -> Option<RegClass> {
        match s {
            "Int" | "i" => Some(RegClass::Int),
            "Float" | "f" => Some(RegClass::Float),
            "Vector" | "v" => Some(RegClass::Vector),
            _ => None,
        }
    }
    pub fn suffix(self) -> char {
        match self {
            RegClass::Int => 'i',
            RegClass::Float => 'f',
            RegClass::Vector => 'v',
        }
    }
}

impl From<regalloc2::RegClass> for RegClass {
    fn from(c: regalloc2::RegClass) -> RegClass {
        match c {
            regalloc2::RegClass::Int => RegClass::Int,
            regalloc2::RegClass::Float => RegClass::Float,
            regalloc2::RegClass::Vector => RegClass::Vector,
        }
    }
}

impl From<RegClass> for regalloc2::RegClass {
    fn from(c: RegClass) -> regalloc2::RegClass {
        match c {
            RegClass::Int => regalloc2::RegClass::Int,
            RegClass::Float => regalloc2::RegClass::Float,
            RegClass::Vector => regalloc2::RegClass::Vector,
        }
    }
}

impl From<regalloc2::PReg> for PReg {
    fn from(p: regalloc2::PReg) -> PReg {
        PReg {
            // regalloc2's hardware numbers fit in 6 bits (`PReg::MAX`).
            hw: p.hw_enc() as u8,
            class: p.class().into(),
        }
    }
}

/// A physical register, as regalloc2 names it (`p3i`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct PReg {
    pub hw: u8,
    pub class: RegClass,
}

impl PReg {
    /// Hardware numbers fit in 6 bits in regalloc2 (`PReg::MAX`).
    pub const MAX_HW: u32 = 63;

    /// Index in regalloc2's PReg space (class in the top bits).
    pub fn index(self) -> usize {
        (self.class as usize) << 6 | self.hw as usize
    }
    pub fn text(self) -> String {
        format!("p{}{}", self.hw, self.class.suffix())
    }
}

impl From<PReg> for String {
    fn from(p: PReg) -> String {
        p.text()
    }
}

/// An operand constraint, as regalloc2 prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    Any,
    Reg,
    Stack,
    FixedReg(PReg),
    Reuse(u32),
    Limit(u32),
    /// A fixed, non-allocatable register operand.
    Fixed(PReg),
}

impl Constraint {
    pub fn text(self) -> String {
        match self {
            Constraint::Any => "any".into(),
            Constraint::Reg => "reg".into(),
            Constraint::Stack => "stack".into(),
            Constraint::FixedReg(p) => format!("fixed({})", p.text()),
            Constraint::Reuse(i) => format!("reuse({i})"),
            Constraint::Limit(n) => format!("limit(0..={})", n.saturating_sub(1)),
            Constraint::Fixed(p) => format!("fixed-nonallocatable({})", p.text()),
        }
    }
}

/// One use or def of a virtual register in a live range.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct UseInfo {
    pub pos: Point,
    pub slot: u16,
    pub def: bool,
    /// Late (after the instruction) rather than early.
    pub late: bool,
    pub vreg: Option<VRegId>,
    pub constraint: Constraint,
}

impl UseInfo {
    pub fn text(&self) -> String {
        format!(
            "{}{} at {} (slot {}): {}",
            if self.def { "def" } else { "use" },
            if self.late { "@late" } else { "" },
            self.pos.text(),
            self.slot,
            self.constraint.text()
        )
    }
}

/// A piece of a bundle: `[from, to)` of live range `range`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Seg {
    pub from: Point,
    pub to: Point,
    pub range: RangeId,
}

/// A bundle in a state dump.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BundleDump {
    pub spillset: u32,
    /// `none`, a register such as `p3i`, or a stack slot.
    pub alloc: String,
    pub segs: Vec<Seg>,
}

/// A live range in a state dump.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RangeDump {
    pub from: Point,
    pub to: Point,
    pub vreg: Option<VRegId>,
    pub bundle: Option<BundleId>,
    pub weight: f32,
    pub uses: Vec<UseInfo>,
}

/// regalloc2's state dump (`dump_state`): before and after allocation.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct StateDump {
    pub bundles: Vec<BundleDump>,
    pub ranges: Vec<RangeDump>,
}

/// A bundle's requirement for an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    Any,
    Register,
    FixedReg(PReg),
    Limit(u32),
    Stack,
    FixedStack(PReg),
}

impl Requirement {
    pub fn text(self) -> String {
        match self {
            Requirement::Any => "any location".into(),
            Requirement::Register => "any register".into(),
            Requirement::FixedReg(p) => format!("fixed register {}", p.text()),
            Requirement::Limit(n) => format!("one of the first {n} registers"),
            Requirement::Stack => "a stack slot".into(),
            Requirement::FixedStack(p) => format!("fixed stack slot {}", p.text()),
        }
    }
}

/// One thing the allocator did or found, in the order it logged it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The bundle's uses have incompatible requirements: split at once.
    RequirementConflict,
    Attempt {
        n: u32,
        req: Requirement,
    },
    Probe {
        preg: PReg,
    },
    /// The probed register holds other bundles that overlap.
    Conflict {
        preg: Option<PReg>,
        bundles: Box<[BundleId]>,
        point: Point,
    },
    /// The probed register is reserved (a clobber or fixed use) at `point`.
    ConflictFixed {
        preg: Option<PReg>,
        cost: u32,
        point: Point,
    },
    Assigned {
        bundle: BundleId,
        preg: PReg,
    },
    LowestEvict {
        bundles: Box<[BundleId]>,
        cost: Option<u32>,
    },
    LowestSplit {
        cost: Option<u32>,
        point: Point,
        preg: Option<PReg>,
    },
    OurWeight {
        weight: u32,
    },
    DecideSplit {
        weight: u32,
    },
    Evict {
        bundle: BundleId,
        from: Option<PReg>,
    },
    Split {
        bundle: BundleId,
        at: Point,
        hint: Option<PReg>,
    },
    /// Where the split really happened after regalloc2's adjustments.
    SplitPoint {
        at: Point,
    },
    MinimalSplit {
        bundle: BundleId,
    },
    NewBundle {
        bundle: BundleId,
        parent: BundleId,
    },
    /// The bundle's live ranges after this event (the replay applies these).
    Ranges {
        bundle: BundleId,
        segs: Box<[Seg]>,
    },
    /// The bundle's ranges were cut at `at` (the split point): those before it
    /// stay, those after it form `new_bundle`'s; a range that spans `at` is cut
    /// in two, the part after it taking the live range `cut.1` (see
    /// [`split_segs`](super::ranges::split_segs)). Stored instead of both lists.
    RangesSplit {
        bundle: BundleId,
        new_bundle: BundleId,
        at: Point,
        cut: Option<(RangeId, RangeId)>,
    },
    /// The bundle's first (or last) range left it for a spill bundle, which
    /// [`ToSpillBundle`](Event::ToSpillBundle) names; `kept` is the part of it
    /// the bundle keeps, if any.
    RangeEndCut {
        bundle: BundleId,
        last: bool,
        kept: Option<Seg>,
    },
    /// These live ranges joined the bundle's (kept in order of their start):
    /// a spill bundle taking over a spilled bundle's ranges. Only the joining
    /// ranges are stored, not the bundle's whole list, which grows with every
    /// bundle of its spill set.
    RangesJoined {
        bundle: BundleId,
        segs: Box<[Seg]>,
    },
    /// A part without uses went to the spill bundle (it joins its ranges).
    ToSpillBundle {
        bundle: BundleId,
        spill_bundle: BundleId,
        seg: Seg,
    },
    Props {
        bundle: BundleId,
        prio: u32,
        weight: u32,
        minimal: bool,
        fixed: bool,
    },
    Queued {
        bundle: BundleId,
    },
    /// The spill set must live in a stack slot.
    SpillSetRequired {
        bundle: BundleId,
    },
    TooManyLiveRegs,
}

/// Which pass a step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The main loop over the allocation queue.
    Main,
    /// Second chance for spill bundles, after the queue is empty.
    SpillBundles,
}

/// How a step ended for its bundle.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Allocated {
        preg: PReg,
    },
    Split {
        at: Point,
        children: Vec<BundleId>,
    },
    Spilled {
        how: SpillKind,
    },
    /// The trace stopped inside this step.
    Incomplete,
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Allocated { .. } => "allocated",
            Outcome::Split { .. } => "split",
            Outcome::Spilled { .. } => "spilled",
            Outcome::Incomplete => "incomplete",
        }
    }
}

/// Ways a bundle ends up without a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpillKind {
    /// No register needed: deferred to the spill-bundle pass.
    Deferred,
    /// Its ranges moved into its spill set's spill bundle.
    IntoSpillBundle,
    /// Its uses require a stack slot.
    StackRequired,
    /// Second chance failed: the spill set gets a stack slot.
    NoRegisterLeft,
}

impl SpillKind {
    /// In a few words, for labels and tooltips.
    pub fn text(self) -> &'static str {
        match self {
            SpillKind::Deferred => "deferred to the spill-bundle pass",
            SpillKind::IntoSpillBundle => "moved into its spill bundle",
            SpillKind::StackRequired => "its uses need a stack slot",
            SpillKind::NoRegisterLeft => "no register left on the second chance",
        }
    }
}

/// One allocator step.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Step {
    pub bundle: BundleId,
    pub hint: Option<PReg>,
    pub phase: Phase,
    pub events: Vec<Event>,
    pub outcome: Outcome,
}

impl Step {
    pub fn evicted(&self) -> Vec<BundleId> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Evict { bundle, .. } => Some(*bundle),
                _ => None,
            })
            .collect()
    }
}

/// The properties regalloc2 computed for a bundle before the first step.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct BundleProps {
    pub prio: u32,
    pub weight: u32,
    pub minimal: bool,
    pub fixed: bool,
}

/// Where regalloc2 put a value: its `Allocation` (`p3i`, `stack4`, `none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    Reg(PReg),
    Stack(u32),
    None,
}

impl serde::Serialize for Loc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

impl Loc {
    /// regalloc2's text: `p3i`, `stack4` or `none`.
    pub fn text(self) -> String {
        match self {
            Loc::Reg(p) => p.text(),
            Loc::Stack(s) => format!("stack{s}"),
            Loc::None => "none".into(),
        }
    }

    pub fn is_stack(self) -> bool {
        matches!(self, Loc::Stack(_))
    }
}

/// One live range's final location (`apply_allocations` in `ion/moves.rs`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FinalRange {
    pub vreg: VRegId,
    pub range: RangeId,
    pub from: Point,
    pub to: Point,
    pub loc: Loc,
}

/// Why regalloc2 asked for a move: the record just before its `insert_move`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveReason {
    /// Two live ranges of one vreg meet inside a block in different places.
    Abut { prev: RangeId, next: RangeId },
    /// A vreg lives in different places at the two ends of a CFG edge.
    InterBlock { from_block: u32, to_block: u32 },
    /// A branch argument copied into its block parameter's place.
    BlockParam,
    /// A fixed-register use regalloc2 satisfies by a copy: the register is
    /// also written or clobbered by the instruction while the vreg lives on
    /// (`secondary: false`), or the vreg is needed in two fixed registers.
    MultiFixed { inst: u32, secondary: bool },
    /// An output that reuses an input's register: the input is copied first.
    ReuseInput { inst: u32, input: u32, output: u32 },
    /// No reason record (a log of another release).
    Unknown,
}

/// A move regalloc2 asked for, before its parallel moves were resolved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InsertedMove {
    pub pos: Point,
    pub from: Loc,
    pub to: Loc,
    pub vreg: Option<VRegId>,
    pub reason: MoveReason,
}

/// One edit of regalloc2's output: a resolved move that was not elided.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct EditRecord {
    pub pos: Point,
    /// regalloc2's `InsertMovePrio` as it logs it (its order at one point).
    pub prio: u32,
    pub from: Loc,
    pub to: Loc,
    pub vreg: Option<VRegId>,
}

/// What regalloc2 logged while it applied the allocation and inserted moves.
#[derive(Clone, Debug, Default)]
pub struct MoveLog {
    /// Move insertion was logged (logs of some releases, or a stopped
    /// allocation, have none).
    pub seen: bool,
    pub ranges: Vec<FinalRange>,
    pub inserted: Vec<InsertedMove>,
    pub edits: Vec<EditRecord>,
    /// Moves the redundant-move eliminator dropped.
    pub elided: u32,
}

impl MoveLog {
    fn heap_bytes(&self) -> usize {
        self.ranges.capacity() * std::mem::size_of::<FinalRange>()
            + self.inserted.capacity() * std::mem::size_of::<InsertedMove>()
            + self.edits.capacity() * std::mem::size_of::<EditRecord>()
    }
}

/// A parsed trace of one allocation.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The allocator that made it: said by the compile that ran it, or for a
    /// log, by whose records it holds. Its steps are `steps` (backtracking)
    /// or `single_pass.steps`.
    pub algorithm: Algorithm,
    /// The regalloc2 release that made it, when it ran here (a compile:
    /// Cranelift's; an allocation made again: the one chosen). A log read
    /// back has none: [`Trace::dialect`] says which releases fit it.
    pub release: Option<Release>,
    /// State before the first step (after merging and queueing).
    pub initial: StateDump,
    /// State after allocation, if the allocation finished.
    pub final_state: Option<StateDump>,
    /// Bundles queued before the first step.
    pub initial_queue: Vec<BundleId>,
    pub initial_props: HashMap<BundleId, BundleProps>,
    pub steps: Vec<Step>,
    /// VCode before allocation, as Cranelift printed it.
    pub vcode_before: Option<String>,
    pub checker_error: Option<String>,
    pub stopped: Option<CaptureStop>,
    /// Spill slots regalloc2 gave to spilled ranges (its `SpillSlotIndex`es).
    pub spill_slots: std::collections::BTreeSet<u32>,
    /// Records seen and records not understood.
    pub records: u64,
    pub unparsed: u64,
    /// A few records that were not understood, for diagnosis.
    pub unparsed_samples: Vec<String>,
    /// The virtual register of every live range seen.
    pub vreg_of_range: HashMap<RangeId, VRegId>,
    /// The allocation passes ran to their end: regalloc2's final dump or the
    /// end of spill-slot allocation was seen (0.9–0.11 print no final dump).
    pub finished: bool,
    /// The regalloc2 releases whose messages fit this trace.
    pub dialect: Dialect,
    /// Move insertion after the allocation: final locations and edits.
    pub moves: MoveLog,
    /// The single-pass allocator's steps, when it was the allocator.
    pub single_pass: SinglePassLog,
}

/// A trace's allocation, by the allocator that made it: the backtracking
/// allocator's bundle steps, or the single-pass allocator's log.
#[derive(Clone, Copy)]
pub enum Allocation<'a> {
    Backtracking(&'a [Step]),
    SinglePass(&'a SinglePassLog),
}

impl Trace {
    /// The allocation this trace records, as its allocator made it.
    pub fn allocation(&self) -> Allocation<'_> {
        match self.algorithm {
            Algorithm::Backtracking => Allocation::Backtracking(&self.steps),
            Algorithm::SinglePass => Allocation::SinglePass(&self.single_pass),
        }
    }

    /// Every live range in the dumps before and after allocation (the one
    /// before when both have it), and the value of every range seen.
    pub fn all_ranges(&self) -> (HashMap<RangeId, &RangeDump>, HashMap<RangeId, VRegId>) {
        let mut vreg_of_range = self.vreg_of_range.clone();
        let mut ranges: HashMap<RangeId, &RangeDump> = self
            .initial
            .ranges
            .iter()
            .enumerate()
            .map(|(i, r)| (i as RangeId, r))
            .collect();
        if let Some(f) = &self.final_state {
            for (i, r) in f.ranges.iter().enumerate() {
                let i = i as RangeId;
                if let Some(v) = r.vreg {
                    vreg_of_range.entry(i).or_insert(v);
                }
                ranges.entry(i).or_insert(r);
            }
        }
        (ranges, vreg_of_range)
    }

    /// Every value in the order a chart's rows list them, the app's and the
    /// exports' alike: by first definition (the earliest start of its live
    /// ranges in the dumps before and after allocation), then by number, so
    /// that in a big function the rows of any stretch of code sit together.
    pub fn vreg_rows(&self) -> Vec<VRegId> {
        let (ranges, vreg_of_range) = self.all_ranges();
        let mut first: HashMap<VRegId, u32> =
            vreg_of_range.values().map(|&v| (v, u32::MAX)).collect();
        for (id, r) in &ranges {
            if let Some(v) = vreg_of_range.get(id).copied().or(r.vreg) {
                let e = first.entry(v).or_insert(u32::MAX);
                *e = (*e).min(r.from.0);
            }
        }
        let mut vregs: Vec<VRegId> = first.keys().copied().collect();
        vregs.sort_by_key(|v| (first[v], *v));
        vregs
    }

    /// Its allocator's steps: the bundle steps, or the single-pass steps.
    pub fn step_count(&self) -> usize {
        match self.allocation() {
            Allocation::Backtracking(steps) => steps.len(),
            Allocation::SinglePass(log) => log.steps.len(),
        }
    }
}

/// How the steps of a trace ended, counted once for every front end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StepCounts {
    pub steps: usize,
    pub allocated: usize,
    pub splits: usize,
    pub evictions: usize,
    pub spilled: usize,
    pub spill_slots: usize,
}

impl Event {
    /// Bytes this event holds on the heap, besides its own size.
    fn heap_bytes(&self) -> usize {
        match self {
            Event::Conflict { bundles, .. } | Event::LowestEvict { bundles, .. } => {
                std::mem::size_of_val::<[BundleId]>(bundles)
            }
            Event::Ranges { segs, .. } | Event::RangesJoined { segs, .. } => {
                std::mem::size_of_val::<[Seg]>(segs)
            }
            _ => 0,
        }
    }
}

impl StateDump {
    fn heap_bytes(&self) -> usize {
        self.bundles.capacity() * std::mem::size_of::<BundleDump>()
            + self
                .bundles
                .iter()
                .map(|b| b.alloc.capacity() + b.segs.capacity() * std::mem::size_of::<Seg>())
                .sum::<usize>()
            + self.ranges.capacity() * std::mem::size_of::<RangeDump>()
            + self
                .ranges
                .iter()
                .map(|r| r.uses.capacity() * std::mem::size_of::<UseInfo>())
                .sum::<usize>()
    }
}

impl Trace {
    /// Bytes the steps take: the step list, every event and what the events
    /// hold (the measure of a trace's size per event).
    pub fn step_bytes(&self) -> usize {
        self.steps.capacity() * std::mem::size_of::<Step>()
            + self
                .steps
                .iter()
                .map(|s| {
                    s.events.capacity() * std::mem::size_of::<Event>()
                        + s.events.iter().map(Event::heap_bytes).sum::<usize>()
                        + match &s.outcome {
                            Outcome::Split { children, .. } => {
                                children.capacity() * std::mem::size_of::<BundleId>()
                            }
                            _ => 0,
                        }
                })
                .sum::<usize>()
    }

    /// Bytes the whole trace takes, near enough: steps, state dumps, the VCode
    /// text and the tables beside them (hash tables counted at their entries).
    pub fn heap_bytes(&self) -> usize {
        self.step_bytes()
            + self.initial.heap_bytes()
            + self.final_state.as_ref().map_or(0, StateDump::heap_bytes)
            + self.vcode_before.as_ref().map_or(0, String::capacity)
            + self.initial_queue.capacity() * std::mem::size_of::<BundleId>()
            + self.initial_props.capacity() * std::mem::size_of::<(BundleId, BundleProps)>()
            + self.vreg_of_range.capacity() * std::mem::size_of::<(RangeId, VRegId)>()
            + self.moves.heap_bytes()
            + self.single_pass.heap_bytes()
    }

    /// Counts of step outcomes, evictions and spill slots.
    pub fn counts(&self) -> StepCounts {
        // The single-pass allocator's steps are instructions and block
        // starts, not bundles: they count as steps, with its evictions and
        // slots; it allocates, splits and spills no bundle.
        if let Allocation::SinglePass(sp) = self.allocation() {
            let c = sp.counts();
            return StepCounts {
                steps: c.steps,
                evictions: c.evictions,
                spill_slots: c.spill_slots,
                ..StepCounts::default()
            };
        }
        let mut c = StepCounts {
            steps: self.steps.len(),
            spill_slots: self.spill_slots.len(),
            ..StepCounts::default()
        };
        for s in &self.steps {
            match s.outcome {
                Outcome::Allocated { .. } => c.allocated += 1,
                Outcome::Split { .. } => c.splits += 1,
                Outcome::Spilled { .. } => c.spilled += 1,
                Outcome::Incomplete => {}
            }
            c.evictions += s.evicted().len();
        }
        c
    }

    /// Number of bundles referenced anywhere in the trace.
    pub fn bundle_count(&self) -> usize {
        let mut n = self.initial.bundles.len();
        for s in &self.steps {
            n = n.max(s.bundle as usize + 1);
            for e in &s.events {
                if let Event::NewBundle { bundle, .. }
                | Event::Ranges { bundle, .. }
                | Event::RangesJoined { bundle, .. }
                | Event::RangeEndCut { bundle, .. } = e
                {
                    n = n.max(*bundle as usize + 1);
                }
                if let Event::ToSpillBundle {
                    spill_bundle: other,
                    ..
                }
                | Event::RangesSplit {
                    new_bundle: other, ..
                } = e
                {
                    n = n.max(*other as usize + 1);
                }
            }
        }
        n
    }
}

// The single-pass allocator's steps (parsed by `single_pass.rs`).

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
    pub(super) fn new(block: u32, at: SpAt) -> SpStep {
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
    /// Why the edits could not all be handed to steps, if they could not.
    pub attribution: Option<String>,
}

impl SinglePassLog {
    /// Hands the final edits (the output's, in its order: the trace's
    /// `moves.edits`) back to the steps that added them. regalloc2
    /// adds edits while it walks backwards and reverses the list at the end,
    /// so read backwards the list is in the order the steps added them; every
    /// edit a step adds sits at its own instruction (a block start's at the
    /// block's first). An instruction step takes the edits at its instruction;
    /// when a block start follows at the same instruction, it keeps the last
    /// ones, as many as its records name.
    pub fn attribute_edits(&mut self, final_edits: &[EditRecord]) {
        let mut pending = final_edits.iter().rev().copied().peekable();
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
                final_edits.len()
            )
        });
    }

    /// Bytes the steps take on the heap (`NoRegister` texts aside).
    pub fn heap_bytes(&self) -> usize {
        self.steps.capacity() * std::mem::size_of::<SpStep>()
            + self
                .steps
                .iter()
                .map(|s| {
                    s.events.capacity() * std::mem::size_of::<SpEvent>()
                        + s.changes.capacity() * std::mem::size_of::<SpChange>()
                        + s.occupied.capacity() * std::mem::size_of::<(PReg, VRegId)>()
                        + s.lru.iter().map(Vec::capacity).sum::<usize>()
                        + s.edits.capacity() * std::mem::size_of::<EditRecord>()
                })
                .sum::<usize>()
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
    fn point_arithmetic_on_huge_instructions_does_not_overflow() {
        let last = Point::new(u32::MAX, true);
        assert_eq!(last.inst(), Point::MAX_INST);
        assert!(last.is_post());
        // The end of a one-point range after the last point is still a point.
        assert!(last.0.checked_add(1).is_some_and(|end| end < u32::MAX));
        assert_eq!(
            Point::new(u32::MAX - 1, false),
            Point::new(Point::MAX_INST, false)
        );
        assert_eq!(Point::checked(u32::MAX / 2, false), None);
        assert_eq!(Point::checked(Point::MAX_INST, true), Some(last));
        assert_eq!(Point::new(12, true).text(), "12-post");
    }

    #[test]
    fn register_classes_past_vector_are_not_classes() {
        assert_eq!(RegClass::from_index(2), Some(RegClass::Vector));
        assert_eq!(RegClass::from_index(3), None);
    }
}
