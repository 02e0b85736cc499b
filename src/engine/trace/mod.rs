//! regalloc2's records → typed allocator events.
//!
//! The parser mirrors the `trace!` messages of regalloc2 0.15.2: `ion/process.rs`
//! (bundle processing, eviction, splitting), `ion/dump.rs` (the state dumps
//! before and after allocation), `ion/merge.rs` (queueing and priorities) and
//! `ion/spill.rs` (the second-chance pass over spill bundles). Those messages are
//! not a stable API; the family is pinned and the parser is covered by tests on
//! real traces. Records we do not understand are counted, never fatal.
//!
//! One step is one bundle taken from the allocation queue ("process_bundle:"),
//! or one spill bundle tried in the second-chance pass; every record up to the
//! next such moment belongs to that step. The builder keeps each bundle's live
//! ranges up to date through splits, so each step carries the new range lists
//! of the bundles it changed: the replay only applies them.
//!
//! # Older releases (imported logs)
//!
//! Logs written by other builds (`engine::trace::import`) may come from regalloc2 0.9
//! to 0.15. The `trace!` format strings of `src/ion/*.rs` were compared release
//! by release (0.9.0–0.9.3, 0.10.0–0.10.2, 0.11.0–0.11.3, 0.12.0/0.12.2, 0.13.1,
//! 0.14.0, 0.15.0–0.15.2) against 0.15.2. `ion/dump.rs`, `ion/spill.rs`,
//! `ion/merge.rs` output and the `Debug`/`Display` forms the messages use
//! (`PReg` as `p3i` / `PReg(hw = 3, class = Int, index = 3)`, `VReg` `v7i`,
//! `ProgPoint` `progpoint12-pre`, `CodeRange`, `LiveRangeIndex(n)`,
//! `LiveBundleIndex(n)`, `SpillSetIndex(n)`, operand constraints) are the same
//! in every one of them. What differs, and what the parser does about it:
//!
//! | releases | difference from 0.15.2 | matters? / handling |
//! |---|---|---|
//! | 0.9–0.11 | no state dump after allocation (`dump_state` only before) | yes: no final state to compare; the end of allocation is recognised by `spillslot allocator done` ([`Trace::finished`]) |
//! | 0.9–0.11 | minimal splitting (`split_into_minimal_bundles`) may put a second LR in the bundle created for the same instruction: `created new LR L but adding to existing bundle B` (the previous LR of B is cut at the use) | yes: applied from the preceding `-> use Use { .. pos: .. } (last_live_pos ..)` record and the removed LR's end |
//! | 0.9–0.11 | `-> use {:?} (last_live_pos {:?})`, `-> appended to last LR`, `-> first range has range` (bundle properties) | use position read; the others carry nothing new |
//! | 0.9–0.11 | `Splitting bundle B into minimal bundles with reg hint p3i` (hint `Display`, not `Option` `Debug`) | no: only the bundle is read |
//! | 0.9 | no `-> advancing split point to` (split point never moved to a fixed use) | no: the split point is computed as before |
//! | 0.9 | safepoint records (`inst N is safepoint`, `stackmap.rs`) | no: not allocator steps, ignored |
//! | 0.9, 0.13–0.15 | `-> stack operand at P: op` in bundle properties (absent 0.10–0.12) | no: ignored |
//! | 0.9–0.11 | `-> created new LR L range R with new bundle B for this use` | same words as 0.12+, parsed alike |
//! | 0.12–0.15 | `bundle_start = .. bundle_end = ..`, `-> spans only one inst; splitting into minimal bundles` (absent before) | used when present |
//! | 0.14–0.15 | `limit(0..=N)` constraints, `Requirement::Limit`, `-> limited(N) and minimal` | parsed; absent before |
//! | 0.9–0.10 | `-> lowest cost evict: set Some([LiveBundleIndex(1)]), cost ..` (an `Option`; a plain list from 0.11) | no: the bundles are read alike |
//! | 0.9–0.14 | `process_bundle`/`split bundle`/`Splitting bundle` use positional `{:?}` instead of named arguments | no: same text |
//!
//! Which of these show up in a log narrows the release down ([`Dialect`]).

pub mod import;

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::engine::capture::{CaptureStop, RecordSink, Source, Verdict};

pub type BundleId = u32;
pub type RangeId = u32;
pub type VRegId = u32;

/// A regalloc2 program point: instruction `n`, before (`pre`) or after (`post`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct Point(pub u32);

impl Point {
    pub fn new(inst: u32, post: bool) -> Point {
        Point(inst * 2 + u32::from(post))
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
    fn from_index(i: u32) -> RegClass {
        match i {
            0 => RegClass::Int,
            1 => RegClass::Float,
            _ => RegClass::Vector,
        }
    }
    fn from_name(s: &str) -> Option<RegClass> {
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

/// A physical register, as regalloc2 names it (`p3i`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct PReg {
    pub hw: u8,
    pub class: RegClass,
}

impl PReg {
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
        bundles: Vec<BundleId>,
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
        bundles: Vec<BundleId>,
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
        segs: Vec<Seg>,
    },
    /// A part without uses went to the spill bundle.
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

/// A parsed trace of one allocation.
#[derive(Clone, Debug, Default)]
pub struct Trace {
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
}

/// The regalloc2 releases (0.9 to 0.15, by minor version) whose `trace!`
/// messages fit a trace, narrowed by the messages that changed between them
/// (see the table at the top of this module).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(into = "String")]
pub struct Dialect {
    /// Bit `m` set: release 0.m fits.
    minors: u32,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::ANY
    }
}

impl Dialect {
    pub const FIRST_MINOR: u32 = 9;
    pub const LAST_MINOR: u32 = 15;
    /// Nothing seen that tells the releases apart.
    pub const ANY: Dialect = Dialect::range(Dialect::FIRST_MINOR, Dialect::LAST_MINOR);
    /// 0.9–0.11: old minimal splitting, no final dump.
    const UP_TO_0_11: Dialect = Dialect::range(9, 11);
    const UP_TO_0_10: Dialect = Dialect::range(9, 10);
    const FROM_0_10: Dialect = Dialect::range(10, 15);
    const FROM_0_11: Dialect = Dialect::range(11, 15);
    const FROM_0_12: Dialect = Dialect::range(12, 15);
    const FROM_0_14: Dialect = Dialect::range(14, 15);
    const ONLY_0_9: Dialect = Dialect::range(9, 9);
    /// `-> stack operand at`: in 0.9, gone in 0.10–0.12, back in 0.13.
    const STACK_OPERAND: Dialect = Dialect {
        minors: Dialect::range(9, 9).minors | Dialect::range(13, 15).minors,
    };

    const fn range(first: u32, last: u32) -> Dialect {
        Dialect {
            minors: ((1u32 << (last + 1)) - 1) & !((1u32 << first) - 1),
        }
    }

    /// Does release 0.`minor` fit?
    pub fn fits(self, minor: u32) -> bool {
        minor < 32 && self.minors & (1 << minor) != 0
    }

    /// The minor versions that fit, oldest first.
    pub fn minors(self) -> Vec<u32> {
        (Dialect::FIRST_MINOR..=Dialect::LAST_MINOR)
            .filter(|&m| self.fits(m))
            .collect()
    }

    /// Keeps only the releases `evidence` allows; evidence that contradicts
    /// everything seen so far is ignored.
    fn narrow(&mut self, evidence: Dialect) {
        let both = self.minors & evidence.minors;
        if both != 0 {
            self.minors = both;
        }
    }

    /// `0.9–0.11`, `0.9, 0.13–0.15`, `0.15`.
    pub fn text(self) -> String {
        let minors = self.minors();
        let mut parts = Vec::new();
        let mut i = 0;
        while i < minors.len() {
            let mut j = i;
            while j + 1 < minors.len() && minors[j + 1] == minors[j] + 1 {
                j += 1;
            }
            parts.push(if i == j {
                format!("0.{}", minors[i])
            } else {
                format!("0.{}\u{2013}0.{}", minors[i], minors[j])
            });
            i = j + 1;
        }
        parts.join(", ")
    }
}

impl From<Dialect> for String {
    fn from(d: Dialect) -> String {
        d.text()
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

impl Trace {
    /// Counts of step outcomes, evictions and spill slots.
    pub fn counts(&self) -> StepCounts {
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
                if let Event::NewBundle { bundle, .. } | Event::Ranges { bundle, .. } = e {
                    n = n.max(*bundle as usize + 1);
                }
                if let Event::ToSpillBundle { spill_bundle, .. } = e {
                    n = n.max(*spill_bundle as usize + 1);
                }
            }
        }
        n
    }
}

// ---- small text scanners -------------------------------------------------

fn number_at(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// Position of `key` in `s` (SIMD substring search; the scanners below run on
/// every record).
fn find(s: &str, key: &str) -> Option<usize> {
    memchr::memmem::find(s.as_bytes(), key.as_bytes())
}

/// Every number that directly follows `key` in `s`.
fn all_after(s: &str, key: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find(rest, key) {
        rest = &rest[i + key.len()..];
        if let Some((n, r)) = number_at(rest) {
            out.push(n);
            rest = r;
        }
    }
    out
}

/// `s.split_once(key)`, with the SIMD search.
fn split_key<'a>(s: &'a str, key: &str) -> Option<(&'a str, &'a str)> {
    let i = find(s, key)?;
    Some((&s[..i], &s[i + key.len()..]))
}

/// `s.contains(key)`, with the SIMD search.
fn has(s: &str, key: &str) -> bool {
    find(s, key).is_some()
}

fn first_after(s: &str, key: &str) -> Option<u32> {
    let i = find(s, key)?;
    number_at(&s[i + key.len()..]).map(|(n, _)| n)
}

fn bundles_in(s: &str) -> Vec<BundleId> {
    all_after(s, "LiveBundleIndex(")
}

fn bundle_in(s: &str) -> Option<BundleId> {
    first_after(s, "LiveBundleIndex(").or_else(|| first_after(s, "bundle"))
}

fn points_in(s: &str) -> Vec<Point> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find(rest, "progpoint") {
        rest = &rest[i + "progpoint".len()..];
        if let Some((n, r)) = number_at(rest) {
            let post = r.starts_with("-post");
            out.push(Point::new(n, post));
            rest = r;
        }
    }
    out
}

fn point_in(s: &str) -> Option<Point> {
    points_in(s).into_iter().next()
}

/// Parses `PReg(hw = 3, class = Int, index = 3)`, `PRegIndex(67)` or `p3i`;
/// `None` for regalloc2's invalid register.
fn preg_in(s: &str) -> Option<PReg> {
    if let Some(i) = find(s, "PReg(hw = ") {
        let rest = &s[i + "PReg(hw = ".len()..];
        let (hw, rest) = number_at(rest)?;
        let class_start = find(rest, "class = ")? + "class = ".len();
        let class_name: String = rest[class_start..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let class = RegClass::from_name(&class_name)?;
        if hw == 63 && class == RegClass::Int {
            return None;
        }
        return Some(PReg {
            hw: hw as u8,
            class,
        });
    }
    if let Some(idx) = first_after(s, "PRegIndex(") {
        return Some(PReg {
            hw: (idx & 63) as u8,
            class: RegClass::from_index(idx >> 6),
        });
    }
    short_preg(s)
}

/// `p3i`-style register anywhere in `s` (word-bounded).
fn short_preg(s: &str) -> Option<PReg> {
    let bytes = s.as_bytes();
    for (i, _) in s.match_indices('p') {
        if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        if let Some((hw, rest)) = number_at(&s[i + 1..])
            && let Some(c) = rest.chars().next()
            && let Some(class) = RegClass::from_name(&c.to_string())
            && !rest[1..].starts_with(|c: char| c.is_ascii_alphanumeric())
        {
            return Some(PReg {
                hw: hw as u8,
                class,
            });
        }
    }
    None
}

fn option_number(s: &str) -> Option<u32> {
    // `Some(12)` or `None`.
    first_after(s, "Some(")
}

fn requirement_in(s: &str) -> Option<Requirement> {
    let s = s.trim();
    Some(if s.starts_with("Any") {
        Requirement::Any
    } else if s.starts_with("Register") {
        Requirement::Register
    } else if s.starts_with("FixedReg") {
        Requirement::FixedReg(preg_in(s)?)
    } else if s.starts_with("FixedStack") {
        Requirement::FixedStack(preg_in(s)?)
    } else if s.starts_with("Limit") {
        Requirement::Limit(first_after(s, "(")?)
    } else if s.starts_with("Stack") {
        Requirement::Stack
    } else {
        return None;
    })
}

/// Parses an operand as regalloc2 displays it: `Def: v3i reg`,
/// `Use@Late: v7i fixed(p0i)`, `Fixed: p5i`.
fn operand_in(s: &str) -> Option<(bool, bool, Option<VRegId>, Constraint)> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("Fixed: ") {
        let p = short_preg(rest)?;
        return Some((false, false, None, Constraint::Fixed(p)));
    }
    let (head, rest) = split_key(s, ": ")?;
    let (kind, pos) = match head.split_once('@') {
        Some((k, p)) => (k, Some(p)),
        None => (head, None),
    };
    let def = kind == "Def";
    let late = match pos {
        Some(p) => p == "Late",
        None => def,
    };
    let rest = rest.trim();
    let vreg = rest.strip_prefix('v').and_then(number_at).map(|(n, _)| n);
    let constraint_text = rest.split_once(' ').map(|(_, c)| c.trim()).unwrap_or("");
    let constraint = if constraint_text.starts_with("any") {
        Constraint::Any
    } else if constraint_text.starts_with("reg") {
        Constraint::Reg
    } else if constraint_text.starts_with("stack") {
        Constraint::Stack
    } else if constraint_text.starts_with("fixed") {
        Constraint::FixedReg(short_preg(constraint_text)?)
    } else if constraint_text.starts_with("reuse") {
        Constraint::Reuse(first_after(constraint_text, "(")?)
    } else if constraint_text.starts_with("limit") {
        Constraint::Limit(first_after(constraint_text, "..=")? + 1)
    } else {
        return None;
    };
    Some((def, late, vreg, constraint))
}

/// `LiveRangeListEntry { range: CodeRange { from: .., to: .. }, index: LiveRangeIndex(n) }` lists.
fn segs_in(s: &str) -> Vec<Seg> {
    let points = points_in(s);
    let ranges = all_after(s, "LiveRangeIndex(");
    points
        .chunks(2)
        .zip(ranges)
        .filter(|(p, _)| p.len() == 2)
        .map(|(p, r)| Seg {
            from: p[0],
            to: p[1],
            range: r,
        })
        .collect()
}

// ---- the builder -----------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum DumpSection {
    None,
    Bundles,
    VRegs,
    Ranges,
}

#[derive(Default)]
struct PendingSplit {
    bundle: BundleId,
    requested: Point,
    end: Option<Point>,
    adjusted: Option<Point>,
    lrs: Option<Vec<Seg>>,
    /// (old LR, new LR) when a range was cut in two.
    cut: Option<(RangeId, RangeId)>,
    new_bundle: Option<BundleId>,
    /// Where the leading region of the new bundle ends (before its first use).
    adjusted_first: Option<Point>,
    applied: bool,
    /// Minimal splitting (0.9–0.11): the bundle's ranges before the split,
    /// the end of the LR being cut up and the position of the current use.
    old_segs: Vec<Seg>,
    lr_to: Option<Point>,
    use_pos: Option<Point>,
}

/// Parses records into a [`Trace`] as they arrive.
pub struct TraceBuilder {
    trace: Trace,
    dumps_seen: u32,
    dump: StateDump,
    dump_section: DumpSection,
    in_steps: bool,
    in_spill_pass: bool,
    current: Option<Step>,
    /// Each bundle's current live ranges.
    segs: FxHashMap<BundleId, Vec<Seg>>,
    spillset_of: FxHashMap<BundleId, u32>,
    spill_bundle_of: FxHashMap<u32, BundleId>,
    vreg_of_range: FxHashMap<RangeId, VRegId>,
    split: Option<PendingSplit>,
    /// Bundle whose properties are being recomputed, with its prio so far.
    props_for: Option<(BundleId, u32)>,
    /// vreg of the LR being cut into minimal bundles.
    minimal_vreg: Option<VRegId>,
    last_probe: Option<PReg>,
    /// Set when the current record's kind is never of interest.
    ignore_site: bool,
    /// Move-insertion records seen after the allocation passes finished.
    moves_after_finish: bool,
    /// Live loop detection: the detector and how many steps it has seen.
    watch: Option<Watch>,
}

/// Loop detection while records arrive (see [`TraceBuilder::watching_for_loops`]).
struct Watch {
    detector: Option<crate::engine::replay::diagnose::LoopDetector>,
    fed: usize,
    confirmed: bool,
}

impl Default for TraceBuilder {
    fn default() -> Self {
        TraceBuilder::new()
    }
}

impl TraceBuilder {
    pub fn new() -> TraceBuilder {
        TraceBuilder {
            trace: Trace::default(),
            dumps_seen: 0,
            dump: StateDump::default(),
            dump_section: DumpSection::None,
            in_steps: false,
            in_spill_pass: false,
            current: None,
            segs: FxHashMap::default(),
            spillset_of: FxHashMap::default(),
            spill_bundle_of: FxHashMap::default(),
            vreg_of_range: FxHashMap::default(),
            split: None,
            props_for: None,
            minimal_vreg: None,
            last_probe: None,
            ignore_site: false,
            moves_after_finish: false,
            watch: None,
        }
    }

    /// Runs the loop detector on each step as it completes; once it is sure the
    /// allocation loops ([`crate::engine::replay::diagnose::LoopDetector::confirmed`]) every
    /// record asks the capture to stop, so a runaway allocation ends long
    /// before its record budget.
    pub fn watching_for_loops(mut self) -> TraceBuilder {
        self.watch = Some(Watch {
            detector: None,
            fed: 0,
            confirmed: false,
        });
        self
    }

    /// Whether the live detector found a loop.
    pub fn loop_confirmed(&self) -> bool {
        self.watch.as_ref().is_some_and(|w| w.confirmed)
    }

    /// Feeds completed steps to the live detector; true once it confirmed a loop.
    fn watch_steps(&mut self) -> bool {
        let Some(w) = self.watch.as_mut() else {
            return false;
        };
        if w.confirmed {
            return true;
        }
        if self.trace.steps.len() == w.fed {
            return false;
        }
        let detector = w.detector.get_or_insert_with(|| {
            crate::engine::replay::diagnose::LoopDetector::new(
                &self.trace.initial,
                self.trace.initial_queue.len(),
            )
        });
        let vregs = &self.vreg_of_range;
        for step in &self.trace.steps[w.fed..] {
            detector.observe(step, |r| vregs.get(&r).copied());
        }
        w.fed = self.trace.steps.len();
        w.confirmed = detector.confirmed();
        w.confirmed
    }

    /// Ends the trace: closes the open step and any open dump.
    pub fn finish(mut self) -> Trace {
        self.close_dump();
        if let Some(mut step) = self.current.take() {
            self.split = None;
            step.outcome =
                if self.trace.final_state.is_some() || self.in_spill_pass || self.trace.finished {
                    decide_outcome(&step)
                } else {
                    Outcome::Incomplete
                };
            self.trace.steps.push(step);
        }
        // Move insertion ran but regalloc2 printed no final dump: only
        // 0.9–0.11 do that.
        if self.trace.finished && self.trace.final_state.is_none() && self.moves_after_finish {
            self.trace.dialect.narrow(Dialect::UP_TO_0_11);
        }
        self.trace.vreg_of_range = self.vreg_of_range.into_iter().collect();
        self.trace
    }

    fn unparsed(&mut self, message: &str) {
        self.trace.unparsed += 1;
        if self.trace.unparsed_samples.len() < 20 {
            self.trace
                .unparsed_samples
                .push(message.chars().take(200).collect());
        }
    }

    fn push_event(&mut self, e: Event) {
        if let Some(step) = self.current.as_mut() {
            step.events.push(e);
        }
    }

    fn set_segs(&mut self, bundle: BundleId, segs: Vec<Seg>) {
        self.segs.insert(bundle, segs.clone());
        self.push_event(Event::Ranges { bundle, segs });
    }

    fn close_dump(&mut self) {
        if self.dump_section == DumpSection::None {
            return;
        }
        self.dump_section = DumpSection::None;
        let dump = std::mem::take(&mut self.dump);
        if self.dumps_seen == 1 {
            for (i, b) in dump.bundles.iter().enumerate() {
                self.segs.insert(i as u32, b.segs.clone());
                self.spillset_of.insert(i as u32, b.spillset);
            }
            for (i, r) in dump.ranges.iter().enumerate() {
                if let Some(v) = r.vreg {
                    self.vreg_of_range.insert(i as u32, v);
                }
            }
            self.trace.initial = dump;
        } else {
            self.trace.final_state = Some(dump);
            self.trace.finished = true;
            self.trace.dialect.narrow(Dialect::FROM_0_12);
        }
    }

    fn dump_record(&mut self, message: &str) {
        let t = message.trim_start();
        match t {
            "Bundles:" => {
                self.close_dump();
                self.dumps_seen += 1;
                self.dump_section = DumpSection::Bundles;
                return;
            }
            "VRegs:" => {
                self.dump_section = DumpSection::VRegs;
                return;
            }
            "Ranges:" => {
                self.dump_section = DumpSection::Ranges;
                return;
            }
            _ => {}
        }
        if let Some(rest) = t.strip_prefix("* range ") {
            // ` * range progpointA -- progpointB: rangeN`
            let pts = points_in(rest);
            let range = memchr::memmem::rfind(rest.as_bytes(), b"range")
                .and_then(|i| number_at(&rest[i + "range".len()..]))
                .map(|(n, _)| n);
            if let (2, Some(range)) = (pts.len(), range) {
                let seg = Seg {
                    from: pts[0],
                    to: pts[1],
                    range,
                };
                match self.dump_section {
                    DumpSection::Bundles => {
                        if let Some(b) = self.dump.bundles.last_mut() {
                            b.segs.push(seg);
                        }
                    }
                    // The per-vreg lists repeat the ranges (each range names its
                    // vreg); that call site is skipped from now on.
                    DumpSection::VRegs => self.ignore_site = true,
                    _ => self.unparsed(message),
                }
                return;
            }
        }
        if let Some(rest) = t.strip_prefix("* use at ") {
            let pos = point_in(rest);
            let slot = first_after(rest, "(slot ").unwrap_or(0) as u16;
            let operand = split_key(rest, "): ").and_then(|(_, o)| operand_in(o));
            if let (Some(pos), Some((def, late, vreg, constraint))) = (pos, operand)
                && let Some(r) = self.dump.ranges.last_mut()
            {
                if let Constraint::Limit(_) = constraint {
                    self.trace.dialect.narrow(Dialect::FROM_0_14);
                }
                r.uses.push(UseInfo {
                    pos,
                    slot,
                    def,
                    late,
                    vreg,
                    constraint,
                });
                return;
            }
            self.unparsed(message);
            return;
        }
        match self.dump_section {
            DumpSection::Bundles if t.starts_with("bundle") => {
                let spillset = first_after(t, "SpillSetIndex(").unwrap_or(0);
                let alloc = split_key(t, "alloc=")
                    .map(|(_, a)| a.trim().to_string())
                    .unwrap_or_default();
                self.dump.bundles.push(BundleDump {
                    spillset,
                    alloc,
                    segs: Vec::new(),
                });
            }
            DumpSection::VRegs if t.starts_with("vreg") => self.ignore_site = true,
            DumpSection::Ranges if t.starts_with("range") => {
                let pts = points_in(t);
                let vreg = first_after(t, "VRegIndex(");
                let bundle = first_after(t, "LiveBundleIndex(");
                let weight = split_key(t, "weight=")
                    .map(|(_, w)| {
                        w.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '-')
                            .split(|c: char| {
                                !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e')
                            })
                            .next()
                            .unwrap_or("0")
                            .parse::<f32>()
                            .unwrap_or(0.0)
                    })
                    .unwrap_or(0.0);
                if pts.len() == 2 {
                    self.dump.ranges.push(RangeDump {
                        from: pts[0],
                        to: pts[1],
                        vreg: vreg.filter(|&v| v != (1 << 30) - 1 && v != u32::MAX),
                        bundle: bundle.filter(|&b| b != u32::MAX),
                        weight,
                        uses: Vec::new(),
                    });
                } else {
                    self.unparsed(message);
                }
            }
            _ => self.unparsed(message),
        }
    }

    fn start_step(&mut self, bundle: BundleId, hint: Option<PReg>, phase: Phase) {
        self.close_current();
        self.in_steps = true;
        self.current = Some(Step {
            bundle,
            hint,
            phase,
            events: Vec::new(),
            outcome: Outcome::Incomplete,
        });
        self.last_probe = None;
    }

    fn close_current(&mut self) {
        if let Some(mut step) = self.current.take() {
            self.split = None;
            step.outcome = decide_outcome(&step);
            // A bundle whose requirement is "any" and that has a spill bundle
            // hands its ranges over silently: record that move.
            if let Outcome::Spilled {
                how: SpillKind::IntoSpillBundle,
            } = step.outcome
                && let Some(ss) = self.spillset_of.get(&step.bundle).copied()
                && let Some(&spill) = self.spill_bundle_of.get(&ss)
            {
                let moved = self
                    .segs
                    .insert(step.bundle, Vec::new())
                    .unwrap_or_default();
                let mut target = self.segs.get(&spill).cloned().unwrap_or_default();
                target.extend(moved.iter().copied());
                target.sort_by_key(|s| s.from);
                self.segs.insert(spill, target.clone());
                step.events.push(Event::Ranges {
                    bundle: step.bundle,
                    segs: Vec::new(),
                });
                step.events.push(Event::Ranges {
                    bundle: spill,
                    segs: target,
                });
            }
            self.trace.steps.push(step);
        }
    }

    fn note_spill_bundle(&mut self, of_bundle: BundleId, spill: BundleId) {
        if let Some(&ss) = self.spillset_of.get(&of_bundle) {
            self.spill_bundle_of.insert(ss, spill);
            self.spillset_of.insert(spill, ss);
        }
    }

    /// Applies a pending split to the tracked ranges once its new bundle is known.
    fn apply_split(&mut self) {
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
            .or_else(|| self.segs.get(&bundle).cloned())
            .unwrap_or_default();
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
        let mut old = Vec::new();
        let mut new = Vec::new();
        for s in &segs {
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
        self.set_segs(bundle, old);
        self.set_segs(new_bundle, new);
    }

    fn trim_last(
        &mut self,
        bundle: BundleId,
        at: Option<Point>,
        spill: BundleId,
        new_lr: Option<RangeId>,
    ) {
        let mut segs = self.segs.get(&bundle).cloned().unwrap_or_default();
        let Some(last) = segs.pop() else {
            return;
        };
        let moved = match at {
            Some(at) => {
                segs.push(Seg { to: at, ..last });
                Seg {
                    from: at,
                    to: last.to,
                    range: new_lr.unwrap_or(last.range),
                }
            }
            None => last,
        };
        self.move_to_spill(bundle, spill, moved, segs);
    }

    fn trim_first(
        &mut self,
        bundle: BundleId,
        at: Option<Point>,
        spill: BundleId,
        new_lr: Option<RangeId>,
    ) {
        let mut segs = self.segs.get(&bundle).cloned().unwrap_or_default();
        if segs.is_empty() {
            return;
        }
        let first = segs.remove(0);
        let moved = match at {
            Some(at) => {
                segs.insert(0, Seg { from: at, ..first });
                Seg {
                    from: first.from,
                    to: at,
                    range: new_lr.unwrap_or(first.range),
                }
            }
            None => first,
        };
        self.move_to_spill(bundle, spill, moved, segs);
    }

    fn move_to_spill(
        &mut self,
        bundle: BundleId,
        spill: BundleId,
        moved: Seg,
        remaining: Vec<Seg>,
    ) {
        self.note_spill_bundle(bundle, spill);
        self.set_segs(bundle, remaining);
        let mut target = self.segs.get(&spill).cloned().unwrap_or_default();
        target.push(moved);
        target.sort_by_key(|s| s.from);
        self.push_event(Event::ToSpillBundle {
            bundle,
            spill_bundle: spill,
            seg: moved,
        });
        self.set_segs(spill, target);
    }

    fn process_record(&mut self, message: &str) {
        let t = message.trim_start();
        let t = t.strip_prefix("-> ").unwrap_or(t);
        if let Some(rest) = t.strip_prefix("process_bundle: bundle ") {
            let bundle = bundle_in(rest);
            let hint = split_key(rest, "hint").and_then(|(_, h)| preg_in(h));
            match bundle {
                Some(b) => self.start_step(b, hint, Phase::Main),
                None => self.unparsed(message),
            }
            return;
        }
        if t.starts_with("try_to_allocate_bundle_to_reg:") {
            // "trying preg" (main loop) and "trying bundle .. to preg" (spill
            // pass) name the register already.
            self.ignore_site = true;
            return;
        }
        if let Some(rest) = t.strip_prefix("attempt ") {
            let n = number_at(rest).map(|(n, _)| n).unwrap_or(0);
            match split_key(rest, "req ").and_then(|(_, r)| requirement_in(r)) {
                Some(req) => self.push_event(Event::Attempt { n, req }),
                None => self.unparsed(message),
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("trying preg ") {
            match preg_in(rest) {
                Some(preg) => {
                    self.last_probe = Some(preg);
                    self.push_event(Event::Probe { preg })
                }
                None => self.unparsed(message),
            }
            return;
        }
        if t.starts_with("conflict!:") {
            self.push_event(Event::RequirementConflict);
            return;
        }
        if let Some(rest) = t.strip_prefix("bundle ")
            && has(rest, "assigned to preg")
        {
            let bundle = bundle_in(rest);
            let preg = split_key(rest, "preg").and_then(|(_, p)| preg_in(p));
            if let (Some(bundle), Some(preg)) = (bundle, preg) {
                self.push_event(Event::Assigned { bundle, preg });
            } else {
                self.unparsed(message);
            }
            return;
        }
        if t.starts_with("allocated to any") {
            self.ignore_site = true;
            return;
        }
        if let Some(rest) = t.strip_prefix("conflict with bundles ") {
            let (set, at) = split_key(rest, "first conflict at").unwrap_or((rest, ""));
            let bundles = bundles_in(set);
            match point_in(at) {
                Some(point) => self.push_event(Event::Conflict {
                    preg: self.last_probe,
                    bundles,
                    point,
                }),
                None => self.unparsed(message),
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("conflict with fixed alloc;") {
            let cost = first_after(rest, "point is ").unwrap_or(0);
            match point_in(rest) {
                Some(point) => self.push_event(Event::ConflictFixed {
                    preg: self.last_probe,
                    cost,
                    point,
                }),
                None => self.unparsed(message),
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("lowest cost evict: set ") {
            // The set was an `Option` up to 0.10: `Some([..])`.
            if rest.starts_with("Some(") {
                self.trace.dialect.narrow(Dialect::UP_TO_0_10);
            } else if rest.starts_with('[') {
                self.trace.dialect.narrow(Dialect::FROM_0_11);
            }
            let (set, cost) = split_key(rest, "cost").unwrap_or((rest, ""));
            self.push_event(Event::LowestEvict {
                bundles: bundles_in(set),
                cost: option_number(cost),
            });
            return;
        }
        if let Some(rest) = t.strip_prefix("lowest cost split: cost ") {
            let (cost, rest) = split_key(rest, "point").unwrap_or((rest, ""));
            let (point, reg) = split_key(rest, "reg").unwrap_or((rest, ""));
            match point_in(point) {
                Some(point) => self.push_event(Event::LowestSplit {
                    cost: option_number(cost),
                    point,
                    preg: preg_in(reg),
                }),
                None => self.unparsed(message),
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("our spill weight: ") {
            if let Some((weight, _)) = number_at(rest) {
                self.push_event(Event::OurWeight { weight });
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("deciding to split: our spill weight is ") {
            if let Some((weight, _)) = number_at(rest) {
                self.push_event(Event::DecideSplit { weight });
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("evicting bundle ") {
            // `evicting bundle B: alloc p3i`: the register it loses.
            if let Some(bundle) = bundle_in(rest) {
                let from = split_key(rest, "alloc").and_then(|(_, a)| short_preg(a));
                if let Some(step) = self.current.as_mut()
                    && let Some(Event::Evict { bundle: b, from: f }) = step.events.last_mut()
                    && *b == bundle
                {
                    *f = from;
                }
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("evicting ") {
            match bundle_in(rest) {
                Some(bundle) => self.push_event(Event::Evict { bundle, from: None }),
                None => self.unparsed(message),
            }
            return;
        }
        if t.starts_with("removing LR") || t.starts_with("PReg range") || t.starts_with("range LR")
        {
            self.ignore_site = true;
            return;
        }
        if let Some(rest) = t.strip_prefix("prio ") {
            // `-> prio N; back into queue` (eviction) or `-> prio N` (merge.rs).
            if has(rest, "back into queue") {
                return;
            }
            if let Some((prio, _)) = number_at(rest)
                && let Some((b, _)) = self.props_for
            {
                self.props_for = Some((b, prio));
            }
            return;
        }
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
            return;
        }
        if t.starts_with("bundle_start = ") {
            self.trace.dialect.narrow(Dialect::FROM_0_12);
            let pts = points_in(t);
            if let (Some(split), 2) = (self.split.as_mut(), pts.len()) {
                split.end = Some(pts[1]);
            }
            return;
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
            return;
        }
        if let Some(rest) = t.strip_prefix("LRs: ") {
            if let Some(split) = self.split.as_mut() {
                split.lrs = Some(segs_in(rest));
            }
            return;
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
            return;
        }
        if let Some(rest) = t.strip_prefix("splitting LR ") {
            let lrs = all_after(rest, "LiveRangeIndex(");
            if let (Some(split), [o, n]) = (self.split.as_mut(), lrs.as_slice()) {
                split.cut = Some((*o, *n));
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("creating new bundle ") {
            if let (Some(split), Some(b)) = (self.split.as_mut(), bundle_in(rest)) {
                split.new_bundle = Some(b);
            }
            self.apply_split();
            return;
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
            return;
        }
        if t.starts_with("bundle ") && has(t, "last use implies split point") {
            // The trailing region moves in the next record, which names the new LR.
            self.ignore_site = true;
            return;
        }
        if let Some(rest) = t.strip_prefix("moving trailing empty region to new spill bundle ") {
            let spill = bundle_in(rest);
            let lr = first_after(rest, "LiveRangeIndex(");
            let bundle = self.split.as_ref().map(|s| s.bundle);
            if let (Some(spill), Some(bundle)) = (spill, bundle) {
                // The cut is at the instruction after the last use.
                let segs = self.segs.get(&bundle).cloned().unwrap_or_default();
                let at = segs.last().and_then(|last| last_use_cut(self, last));
                self.trim_last(bundle, at, spill, lr);
            } else {
                self.unparsed(message);
            }
            return;
        }
        if t.starts_with("bundle ") && has(t, "first use implies split point") {
            // regalloc2 prints the use's point; the cut is before its instruction.
            if let (Some(split), Some(p)) = (
                self.split.as_mut(),
                point_in(split_key(t, "split point").map(|x| x.1).unwrap_or("")),
            ) {
                split.adjusted_first = Some(Point::new(p.inst(), false));
            }
            return;
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
            return;
        }
        if let Some(rest) = t.strip_prefix("Splitting bundle ") {
            match bundle_in(rest) {
                Some(bundle) => {
                    self.push_event(Event::MinimalSplit { bundle });
                    self.split = Some(PendingSplit {
                        bundle,
                        applied: true,
                        old_segs: self.segs.get(&bundle).cloned().unwrap_or_default(),
                        ..Default::default()
                    });
                    self.set_segs(bundle, Vec::new());
                }
                None => self.unparsed(message),
            }
            return;
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
            return;
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
            return;
        }
        if t.starts_with("appended to last LR") || t.starts_with("first range has range") {
            self.trace.dialect.narrow(Dialect::UP_TO_0_11);
            self.ignore_site = true;
            return;
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
                    let mut segs = self.segs.get(&bundle).cloned().unwrap_or_default();
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
            return;
        }
        if t.starts_with("use ")
            || t.starts_with("migrating this")
            || t.starts_with("moving the spill range")
        {
            self.ignore_site = true;
            return;
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
            return;
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
                self.move_to_spill(parent, spill, seg, Vec::new());
            } else {
                self.unparsed(message);
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("recompute bundle properties: bundle ") {
            self.props_for = bundle_in(rest).map(|b| (b, 0));
            return;
        }
        if t.starts_with("stack operand at") {
            self.trace.dialect.narrow(Dialect::STACK_OPERAND);
            self.ignore_site = true;
            return;
        }
        if t.starts_with("use: ")
            || t.starts_with("fixed operand at")
            || t.starts_with("is fixed def")
            || t.starts_with("uses spill weight")
            || t.starts_with("minimal: ")
            || t.starts_with("no vreg; minimal and fixed")
        {
            self.ignore_site = true;
            return;
        }
        if t.starts_with("fixed and minimal")
            || t.starts_with("non-fixed and minimal")
            || t.starts_with("limited(")
        {
            if let Some((bundle, prio)) = self.props_for.take() {
                let (weight, fixed) = if t.starts_with("fixed") {
                    (MINIMAL_FIXED_WEIGHT, true)
                } else if t.starts_with("non-fixed") {
                    (MINIMAL_WEIGHT, false)
                } else {
                    self.trace.dialect.narrow(Dialect::FROM_0_14);
                    let limit = first_after(t, "limited(").unwrap_or(0);
                    (MINIMAL_LIMITED_WEIGHT.saturating_sub(limit), false)
                };
                self.props(bundle, prio, weight, true, fixed);
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("dividing by prio ") {
            if let Some((bundle, _)) = self.props_for.take() {
                let prio = number_at(rest).map(|(n, _)| n).unwrap_or(0);
                let weight = first_after(rest, "final weight ").unwrap_or(0);
                self.props(bundle, prio, weight, false, false);
            }
            return;
        }
        if t.starts_with("checking for too many live regs") {
            self.push_event(Event::TooManyLiveRegs);
            return;
        }
        if t.starts_with("PR ")
            || t.starts_with("min bundle")
            || t.starts_with("non-min bundle")
            || t.starts_with("fixed bundle")
            || t.starts_with("total ")
            || t.starts_with("maximum_spill_weight_in_bundle_set")
            || t.starts_with("max: ")
            || t.starts_with("btree contains range")
            || t.starts_with("from vreg")
            || t.starts_with("conflict bundle")
            || t.starts_with("reached high cost")
            || t.starts_with("conflict with fixed reservation")
            || t.starts_with("no more PReg allocations")
            || t.starts_with("has no allocation")
            || t.starts_with("alloc map for")
            || t.starts_with("next PReg allocation is at")
            || t.starts_with("Skipping PReg range")
            || (t.starts_with("range") && has(t, ": use Use"))
            || (t.starts_with("bundle") && has(t, ": ") && number_at(&t[6..]).is_some())
        {
            self.ignore_site = true;
            return;
        }
        self.unparsed(message);
    }

    fn props(&mut self, bundle: BundleId, prio: u32, weight: u32, minimal: bool, fixed: bool) {
        if self.in_steps {
            self.push_event(Event::Props {
                bundle,
                prio,
                weight,
                minimal,
                fixed,
            });
        } else {
            self.trace.initial_props.insert(
                bundle,
                BundleProps {
                    prio,
                    weight,
                    minimal,
                    fixed,
                },
            );
        }
    }

    fn spill_record(&mut self, message: &str) {
        let t = message.trim_start();
        let t = t.strip_prefix("-> ").unwrap_or(t);
        if t.starts_with("allocating regs for spilled bundles") {
            self.close_current();
            self.in_spill_pass = true;
            return;
        }
        if let Some(rest) = t.strip_prefix("trying bundle ") {
            let bundle = bundle_in(rest);
            let preg = split_key(rest, "preg").and_then(|(_, p)| preg_in(p));
            if let Some(bundle) = bundle {
                let same = self
                    .current
                    .as_ref()
                    .is_some_and(|s| s.bundle == bundle && s.phase == Phase::SpillBundles);
                if !same {
                    self.start_step(bundle, None, Phase::SpillBundles);
                }
                if let Some(preg) = preg {
                    self.last_probe = Some(preg);
                    self.push_event(Event::Probe { preg });
                }
            } else {
                self.unparsed(message);
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("spilling bundle ") {
            if let Some(bundle) = bundle_in(rest) {
                let same = self
                    .current
                    .as_ref()
                    .is_some_and(|s| s.bundle == bundle && s.phase == Phase::SpillBundles);
                if !same {
                    self.start_step(bundle, None, Phase::SpillBundles);
                }
                self.push_event(Event::SpillSetRequired { bundle });
            }
            return;
        }
        if t.starts_with("allocate spillslot") {
            // The first one ends the spill-bundle pass; the rest say nothing new.
            self.close_current();
            self.ignore_site = true;
            return;
        }
        if t.starts_with("spillslot allocator done") {
            self.close_current();
            self.trace.finished = true;
        }
        // Slot search details are not steps.
    }

    fn merge_record(&mut self, message: &str) {
        let t = message.trim_start();
        let t = t.strip_prefix("-> ").unwrap_or(t);
        if let Some(rest) = t.strip_prefix("enqueueing bundle") {
            if let Some((b, _)) = number_at(rest) {
                self.trace.initial_queue.push(b);
            }
            return;
        }
        if t.starts_with("no ranges; skipping") {
            self.trace.initial_queue.pop();
            return;
        }
        if let Some(rest) = t.strip_prefix("prio ")
            && let Some((prio, _)) = number_at(rest)
            && let Some((b, _)) = self.props_for
        {
            self.props_for = Some((b, prio));
        }
    }

    fn compile_record(&mut self, level: log::Level, message: &str) {
        if let Some(rest) = message.strip_prefix("vcode from lowering:") {
            self.trace.vcode_before = Some(rest.trim_start_matches('\n').to_string());
            return;
        }
        if level == log::Level::Error
            && let Some(rest) = message.strip_prefix("Register allocation checker errors:")
        {
            let err = rest.split("\nfor vcode:").next().unwrap_or(rest).trim();
            self.trace.checker_error = Some(err.to_string());
        }
    }
}

const MINIMAL_FIXED_WEIGHT: u32 = 2_000_000;
const MINIMAL_LIMITED_WEIGHT: u32 = 1_900_000;
const MINIMAL_WEIGHT: u32 = 1_800_000;

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

fn decide_outcome(step: &Step) -> Outcome {
    let mut assigned = None;
    let mut split_at = None;
    let mut children = Vec::new();
    let mut minimal = false;
    let mut req = None;
    let mut required = false;
    for e in &step.events {
        match e {
            Event::Assigned { bundle, preg } if *bundle == step.bundle => assigned = Some(*preg),
            // The real split point, after regalloc2's adjustments, wins.
            Event::SplitPoint { at } => split_at = Some(*at),
            Event::Split { bundle, at, .. } if *bundle == step.bundle && split_at.is_none() => {
                split_at = Some(*at)
            }
            Event::MinimalSplit { bundle } if *bundle == step.bundle => minimal = true,
            Event::NewBundle { bundle, parent } if *parent == step.bundle => children.push(*bundle),
            Event::Attempt { req: r, .. } => req = Some(*r),
            Event::SpillSetRequired { .. } => required = true,
            _ => {}
        }
    }
    if split_at.is_some() || minimal {
        return Outcome::Split {
            at: split_at.unwrap_or(Point(0)),
            children,
        };
    }
    if let Some(preg) = assigned {
        return Outcome::Allocated { preg };
    }
    let how = match (step.phase, req) {
        (Phase::SpillBundles, _) => SpillKind::NoRegisterLeft,
        (_, Some(Requirement::Stack)) => SpillKind::StackRequired,
        (_, Some(Requirement::Any)) => SpillKind::Deferred,
        _ if required => SpillKind::NoRegisterLeft,
        _ => SpillKind::IntoSpillBundle,
    };
    Outcome::Spilled { how }
}

impl RecordSink for TraceBuilder {
    fn record(&mut self, source: Source, level: log::Level, message: &str) -> Verdict {
        self.trace.records += 1;
        self.ignore_site = false;
        match source {
            Source::Dump => {
                if !self.in_steps
                    && self.dump_section == DumpSection::None
                    && message.trim() != "Bundles:"
                {
                    // Records from dump.rs outside a dump: none are expected.
                    self.unparsed(message);
                } else {
                    if self.current.is_some() && message.trim() == "Bundles:" {
                        self.close_current();
                    }
                    self.dump_record(message);
                }
            }
            Source::Process => {
                self.close_dump();
                self.process_record(message)
            }
            Source::Spill => {
                self.close_dump();
                self.spill_record(message)
            }
            Source::Merge => self.merge_record(message),
            Source::Compile => self.compile_record(level, message),
            Source::Moves => {
                if self.trace.finished {
                    self.moves_after_finish = true;
                }
                // `get_alloc_for_range` names the spill slot of every spilled
                // range it applies (ion/moves.rs); the rest of move insertion
                // is not followed.
                let t = message.trim_start().trim_start_matches("-> ");
                match t.strip_prefix("spill slot ") {
                    Some(rest) => {
                        if let Some(slot) = first_after(rest, "SpillSlotIndex(") {
                            self.trace.spill_slots.insert(slot);
                        }
                    }
                    None => self.ignore_site = true,
                }
            }
            Source::LiveRanges if has(message, "safepoint") => {
                // Safepoints (stack maps) were dropped after 0.9.
                self.close_dump();
                self.trace.dialect.narrow(Dialect::ONLY_0_9);
                self.ignore_site = true;
            }
            Source::LiveRanges | Source::Requirement | Source::Checker | Source::Other => {
                self.close_dump();
                self.ignore_site = true;
            }
        }
        if self.watch_steps() {
            Verdict::Stop
        } else if self.ignore_site {
            Verdict::IgnoreSite
        } else {
            Verdict::Continue
        }
    }
}
