//! What the chart needs from one compile, built once on the worker: program
//! points, blocks and instruction text from Cranelift's VCode listing, rows
//! per vreg and per register, live ranges with their uses; the row mode; and
//! the focus of a step (the bundles it touched, for highlighting).

use std::collections::HashMap;

use crate::engine::session::FunctionTrace;
use crate::engine::trace::{
    BundleId, Event, Outcome, PReg, Point, RangeDump, RangeId, RegClass, Step, VRegId,
};

/// Where a block starts in the VCode listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockStart {
    pub block: u32,
    pub inst: u32,
}

/// What the chart needs from a compile, built once on the worker.
pub struct ChartModel {
    /// Program points on the x axis: `0..points`.
    pub points: u32,
    pub blocks: Vec<BlockStart>,
    /// Instruction text from the VCode before allocation, by instruction
    /// index, with the line of the listing it is on.
    pub insts: Vec<Option<(String, usize)>>,
    /// Rows in per-vreg mode, in order of first definition.
    pub vregs: Vec<VRegId>,
    pub(super) row_of_vreg: HashMap<VRegId, u32>,
    /// Registers any step allocated, in class and number order.
    pub pregs: Vec<PReg>,
    pub(super) row_of_preg: HashMap<PReg, u32>,
    /// The target's register names (`None`: regalloc2's, for a log).
    pub names: Option<crate::engine::trace::RegNames>,
    /// Values live per point against the registers, per class.
    pub pressure: Vec<crate::engine::replay::pressure::ClassPressure>,
    /// Live ranges with their uses: the initial dump, then ranges that only the
    /// final dump knows (created by splits).
    pub(super) ranges: HashMap<RangeId, RangeDump>,
    pub(super) vreg_of_range: HashMap<RangeId, VRegId>,
}

/// Parses Cranelift's VCode listing: `Block N(...):` and `  Inst K: text` lines.
pub fn parse_vcode(vcode: &str) -> (Vec<BlockStart>, Vec<Option<(String, usize)>>) {
    let mut blocks = Vec::new();
    let mut insts: Vec<Option<(String, usize)>> = Vec::new();
    let mut pending_block: Option<u32> = None;
    // Cranelift lists every instruction on its own line, so a real index is
    // below the line count; a larger one (a damaged log) must not size `insts`.
    let line_count = vcode.lines().count();
    for (line_index, line) in vcode.lines().enumerate() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("Block ") {
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(b) = digits.parse() {
                pending_block = Some(b);
            }
        } else if let Some(rest) = t.strip_prefix("Inst ")
            && let Some((num, text)) = rest.split_once(':')
            && let Ok(i) = num.trim().parse::<u32>()
            && (i as usize) < line_count
        {
            if let Some(block) = pending_block.take() {
                blocks.push(BlockStart { block, inst: i });
            }
            let i = i as usize;
            if insts.len() <= i {
                insts.resize(i + 1, None);
            }
            insts[i] = Some((text.trim().to_string(), line_index));
        }
    }
    (blocks, insts)
}

fn preg_order(p: &PReg) -> (u8, u8) {
    let class = match p.class {
        RegClass::Int => 0,
        RegClass::Float => 1,
        RegClass::Vector => 2,
    };
    (class, p.hw)
}

impl ChartModel {
    /// A register by its target's name, with regalloc2's in brackets where
    /// they differ (`rax (p0i)`), for tooltips.
    pub fn reg_both(&self, p: PReg) -> String {
        match self.names {
            Some(n) => format!("{} ({})", n.name(p), p.text()),
            None => p.text(),
        }
    }

    /// A register by its target's name (`rax`), else regalloc2's.
    pub fn reg(&self, p: PReg) -> String {
        crate::engine::replay::explain::reg(p, self.names)
    }

    pub fn new(t: &FunctionTrace) -> ChartModel {
        let trace = &t.traced.trace;
        let (blocks, insts) = trace
            .vcode_before
            .as_deref()
            .map(parse_vcode)
            .unwrap_or_default();
        let mut max_point = insts.len() as u32 * 2;
        let mut see = |to: Point| max_point = max_point.max(to.0 + 1);
        for b in &trace.initial.bundles {
            b.segs.iter().for_each(|s| see(s.to));
        }
        let mut pregs: Vec<PReg> = Vec::new();
        for s in &trace.steps {
            for e in &s.events {
                match e {
                    Event::Ranges { segs, .. } | Event::RangesJoined { segs, .. } => {
                        segs.iter().for_each(|s| see(s.to))
                    }
                    Event::Assigned { preg, .. } => pregs.push(*preg),
                    _ => {}
                }
            }
            if let Outcome::Allocated { preg } = s.outcome {
                pregs.push(preg);
            }
        }
        pregs.sort_by_key(preg_order);
        pregs.dedup();
        let (ranges, vreg_of_range) = trace.all_ranges();
        let ranges: HashMap<RangeId, RangeDump> =
            ranges.into_iter().map(|(i, r)| (i, r.clone())).collect();
        // The engine's row order, which the exports use too.
        let vregs = trace.vreg_rows();
        ChartModel {
            names: t.reg_names(),
            pressure: crate::engine::replay::pressure::pressure(&t.replay, t.target()),
            points: max_point.max(2),
            row_of_vreg: vregs
                .iter()
                .enumerate()
                .map(|(i, v)| (*v, i as u32))
                .collect(),
            vregs,
            row_of_preg: pregs
                .iter()
                .enumerate()
                .map(|(i, p)| (*p, i as u32))
                .collect(),
            pregs,
            blocks,
            insts,
            ranges,
            vreg_of_range,
        }
    }

    /// The block holding instruction `inst`.
    pub fn block_of(&self, inst: u32) -> Option<u32> {
        let i = self.blocks.partition_point(|b| b.inst <= inst);
        i.checked_sub(1).map(|i| self.blocks[i].block)
    }

    pub fn inst_text(&self, inst: u32) -> Option<&str> {
        self.insts
            .get(inst as usize)?
            .as_ref()
            .map(|(t, _)| t.as_str())
    }

    /// The line of instruction `inst` in the VCode listing.
    pub fn inst_line(&self, inst: u32) -> Option<usize> {
        self.insts.get(inst as usize)?.as_ref().map(|(_, l)| *l)
    }

    /// Instructions where the ranges of `segs` have uses or defs, in order.
    pub fn use_insts(&self, segs: &[crate::engine::trace::Seg]) -> Vec<u32> {
        let mut v: Vec<u32> = segs
            .iter()
            .filter_map(|s| Some((s, self.ranges.get(&s.range)?)))
            .flat_map(|(s, r)| {
                r.uses
                    .iter()
                    .filter(move |u| u.pos >= s.from && u.pos < s.to.max(Point(s.from.0 + 1)))
                    .map(|u| u.pos.inst())
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    pub fn vreg_of(&self, range: RangeId) -> Option<VRegId> {
        self.vreg_of_range.get(&range).copied()
    }

    /// `inst 14 (pre) in block 2: movl …`
    pub fn point_text(&self, p: Point) -> String {
        let mut s = format!(
            "inst {} ({})",
            p.inst(),
            if p.is_post() { "post" } else { "pre" }
        );
        if let Some(b) = self.block_of(p.inst()) {
            s.push_str(&format!(" in block {b}"));
        }
        if let Some(t) = self.inst_text(p.inst()) {
            s.push_str(": ");
            s.push_str(t);
        }
        s
    }
}

/// What a row stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum RowMode {
    /// One row per virtual register; splits show as several bundles in a row.
    #[default]
    VReg,
    /// One row per physical register, then lanes for bundles without one.
    PReg,
}

/// The bundles a step touched, for highlighting.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Focus {
    pub bundle: Option<BundleId>,
    /// Bundles found in the way on a probed register.
    pub conflicts: Vec<BundleId>,
    pub evicted: Vec<BundleId>,
    /// Bundles a split created.
    pub children: Vec<BundleId>,
    pub split_at: Option<Point>,
    pub conflict_points: Vec<Point>,
    /// Bundles in a detected allocation loop (the same for every step).
    pub looping: std::sync::Arc<std::collections::HashSet<BundleId>>,
}

impl Focus {
    pub fn of(step: &Step) -> Focus {
        let mut f = Focus {
            bundle: Some(step.bundle),
            evicted: step.evicted(),
            ..Focus::default()
        };
        for e in &step.events {
            match e {
                Event::Conflict { bundles, point, .. } => {
                    f.conflicts.extend(bundles.iter().copied());
                    f.conflict_points.push(*point);
                }
                Event::ConflictFixed { point, .. } => f.conflict_points.push(*point),
                Event::NewBundle { bundle, .. } => f.children.push(*bundle),
                _ => {}
            }
        }
        if let Outcome::Split { at, .. } = &step.outcome {
            f.split_at = Some(*at);
        }
        f.conflicts.sort_unstable();
        f.conflicts.dedup();
        f.conflicts
            .retain(|b| !f.evicted.contains(b) && Some(*b) != f.bundle);
        f.conflict_points.sort_unstable();
        f.conflict_points.dedup();
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_and_instructions() {
        let vcode = "VCode {\n  Entry block: 0\nBlock 0([]):\n    (original IR block: block0)\n  Inst 0: args %v192=%rdi\n  Inst 1: movq 0x38(%v192), %v253\nBlock 1([VReg(vreg = 213, class = Int)]):\n  Inst 2: cmpl %v194, %v213\n}";
        let (blocks, insts) = parse_vcode(vcode);
        assert_eq!(
            blocks,
            vec![
                BlockStart { block: 0, inst: 0 },
                BlockStart { block: 1, inst: 2 }
            ]
        );
        assert_eq!(insts.len(), 3);
        assert_eq!(insts[1], Some(("movq 0x38(%v192), %v253".to_string(), 5)));
    }
}
