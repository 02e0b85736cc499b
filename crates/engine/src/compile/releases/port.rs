//! One regalloc2 release behind the engine's own types: the rebuilt function
//! and its machine environment in that release's types, its two allocators,
//! its checker, and its reproducer format (`serialize::SerializableFunction`
//! in bincode 1). [`port!`] writes the module for each release; the
//! differences between releases are its arguments:
//!
//! | argument | releases | what differs |
//! |---|---|---|
//! | `stack` | 0.9, 0.13–0.15 have `OperandConstraint::Stack` | 0.10–0.12 cannot take a stack operand |
//! | `limit` | 0.13.5–0.15 have `OperandConstraint::Limit` | older ones cannot take a limited operand |
//! | `single_pass` | 0.11–0.15 have `Algorithm::Fastalloc` | 0.9 and 0.10 only backtrack |
//! | `range` | 0.9's `InstRange::forward`, `new` later | the constructor's name |
//!
//! `MachineEnv` lists registers as `Vec<PReg>` up to 0.13 and `PRegSet` from
//! 0.14 ([`RegList`] reads and writes either); everything else the engine
//! uses (`Function`, `Operand`, `Output`, `Edit`, the checker) is the same
//! from 0.9 to 0.15.

use crate::compile::CheckerVerdict;
use crate::compile::rebuild::{BlockData, InstData, RebuiltFunction};
use crate::input::isa::Algorithm;

/// One of two expressions, by a release's `yes`/`no` argument.
macro_rules! when {
    (yes, $then:expr, $else:expr) => {
        $then
    };
    (no, $then:expr, $else:expr) => {
        $else
    };
}

/// An `InstRange` from `from` to one past `to`, by the release's constructor.
macro_rules! inst_range {
    (forward, $ra:ident, $from:expr, $to:expr) => {
        $ra::InstRange::forward($from, $to)
    };
    (new, $ra:ident, $from:expr, $to:expr) => {
        $ra::InstRange::new($from, $to)
    };
}

/// A register list of a `MachineEnv`: `Vec<PReg>` or `PRegSet`, by release.
trait RegList<P>: Sized {
    fn from_regs(regs: impl Iterator<Item = P>) -> Self;
    fn regs(&self) -> Vec<P>;
}

impl<P: Copy> RegList<P> for Vec<P> {
    fn from_regs(regs: impl Iterator<Item = P>) -> Self {
        regs.collect()
    }

    fn regs(&self) -> Vec<P> {
        self.clone()
    }
}

/// What every release's `PRegSet` offers: empty, add, iterate.
trait RegSet<P>: Copy + IntoIterator<Item = P> {
    fn empty_set() -> Self;
    fn add_reg(&mut self, p: P);
}

/// regalloc2's `ion::Stats`, field by field (the same 30 counters in every
/// release from 0.9 to 0.15; the type itself is not nameable outside).
macro_rules! copy_stats {
    ($to:expr, $from:expr) => {
        $to.livein_blocks = $from.livein_blocks;
        $to.livein_iterations = $from.livein_iterations;
        $to.initial_liverange_count = $from.initial_liverange_count;
        $to.merged_bundle_count = $from.merged_bundle_count;
        $to.process_bundle_count = $from.process_bundle_count;
        $to.process_bundle_reg_probes_fixed = $from.process_bundle_reg_probes_fixed;
        $to.process_bundle_reg_success_fixed = $from.process_bundle_reg_success_fixed;
        $to.process_bundle_bounding_range_probe_start_any =
            $from.process_bundle_bounding_range_probe_start_any;
        $to.process_bundle_bounding_range_probes_any =
            $from.process_bundle_bounding_range_probes_any;
        $to.process_bundle_bounding_range_success_any =
            $from.process_bundle_bounding_range_success_any;
        $to.process_bundle_reg_probe_start_any = $from.process_bundle_reg_probe_start_any;
        $to.process_bundle_reg_probes_any = $from.process_bundle_reg_probes_any;
        $to.process_bundle_reg_success_any = $from.process_bundle_reg_success_any;
        $to.evict_bundle_event = $from.evict_bundle_event;
        $to.evict_bundle_count = $from.evict_bundle_count;
        $to.splits = $from.splits;
        $to.splits_clobbers = $from.splits_clobbers;
        $to.splits_hot = $from.splits_hot;
        $to.splits_conflicts = $from.splits_conflicts;
        $to.splits_defs = $from.splits_defs;
        $to.splits_all = $from.splits_all;
        $to.final_liverange_count = $from.final_liverange_count;
        $to.final_bundle_count = $from.final_bundle_count;
        $to.spill_bundle_count = $from.spill_bundle_count;
        $to.spill_bundle_reg_probes = $from.spill_bundle_reg_probes;
        $to.spill_bundle_reg_success = $from.spill_bundle_reg_success;
        $to.blockparam_ins_count = $from.blockparam_ins_count;
        $to.blockparam_outs_count = $from.blockparam_outs_count;
        $to.halfmoves_count = $from.halfmoves_count;
        $to.edits_count = $from.edits_count;
    };
}

macro_rules! port {
    ($module:ident, $ra:ident, $version:literal,
     stack = $stack:tt, limit = $limit:tt, single_pass = $single_pass:tt, range = $range:tt) => {
        pub(crate) mod $module {
            use $ra as ra;
            use regalloc2 as now;

            use super::{
                Algorithm, BlockData, CheckerVerdict, InstData, RebuiltFunction, RegList, RegSet,
            };

            /// The release's version, for messages.
            const VERSION: &str = $version;

            impl RegSet<ra::PReg> for ra::PRegSet {
                fn empty_set() -> Self {
                    ra::PRegSet::empty()
                }

                fn add_reg(&mut self, p: ra::PReg) {
                    self.add(p)
                }
            }

            impl RegList<ra::PReg> for ra::PRegSet {
                fn from_regs(regs: impl Iterator<Item = ra::PReg>) -> Self {
                    let mut set = ra::PRegSet::empty_set();
                    for p in regs {
                        set.add_reg(p);
                    }
                    set
                }

                fn regs(&self) -> Vec<ra::PReg> {
                    (*self).into_iter().collect()
                }
            }

            struct Block {
                range: ra::InstRange,
                preds: Vec<ra::Block>,
                succs: Vec<ra::Block>,
                params: Vec<ra::VReg>,
                args: Vec<Vec<ra::VReg>>,
            }

            struct Inst {
                operands: Vec<ra::Operand>,
                clobbers: ra::PRegSet,
                branch: bool,
                ret: bool,
            }

            /// The rebuilt function in this release's types, with its
            /// machine environment and, once allocated, the release's output.
            pub(crate) struct Ported {
                blocks: Vec<Block>,
                insts: Vec<Inst>,
                num_vregs: usize,
                spillslot_sizes: [usize; 3],
                entry: ra::Block,
                allow_multiple_vreg_defs: bool,
                multi_spillslot_named_by_last_slot: bool,
                debug_value_labels: Vec<(ra::VReg, ra::Inst, ra::Inst, u32)>,
                env: ra::MachineEnv,
                output: Option<ra::Output>,
            }

            impl ra::Function for Ported {
                fn num_insts(&self) -> usize {
                    self.insts.len()
                }

                fn num_blocks(&self) -> usize {
                    self.blocks.len()
                }

                fn entry_block(&self) -> ra::Block {
                    self.entry
                }

                fn block_insns(&self, block: ra::Block) -> ra::InstRange {
                    self.blocks[block.index()].range
                }

                fn block_succs(&self, block: ra::Block) -> &[ra::Block] {
                    &self.blocks[block.index()].succs
                }

                fn block_preds(&self, block: ra::Block) -> &[ra::Block] {
                    &self.blocks[block.index()].preds
                }

                fn block_params(&self, block: ra::Block) -> &[ra::VReg] {
                    &self.blocks[block.index()].params
                }

                fn is_ret(&self, insn: ra::Inst) -> bool {
                    self.insts[insn.index()].ret
                }

                fn is_branch(&self, insn: ra::Inst) -> bool {
                    self.insts[insn.index()].branch
                }

                fn branch_blockparams(
                    &self,
                    block: ra::Block,
                    _insn: ra::Inst,
                    succ_idx: usize,
                ) -> &[ra::VReg] {
                    &self.blocks[block.index()].args[succ_idx]
                }

                fn inst_operands(&self, insn: ra::Inst) -> &[ra::Operand] {
                    &self.insts[insn.index()].operands
                }

                fn inst_clobbers(&self, insn: ra::Inst) -> ra::PRegSet {
                    self.insts[insn.index()].clobbers
                }

                fn num_vregs(&self) -> usize {
                    self.num_vregs
                }

                fn debug_value_labels(&self) -> &[(ra::VReg, ra::Inst, ra::Inst, u32)] {
                    &self.debug_value_labels
                }

                fn spillslot_size(&self, regclass: ra::RegClass) -> usize {
                    self.spillslot_sizes[regclass as usize]
                }

                fn multi_spillslot_named_by_last_slot(&self) -> bool {
                    self.multi_spillslot_named_by_last_slot
                }

                fn allow_multiple_vreg_defs(&self) -> bool {
                    self.allow_multiple_vreg_defs
                }
            }

            fn class(c: now::RegClass) -> ra::RegClass {
                match c {
                    now::RegClass::Int => ra::RegClass::Int,
                    now::RegClass::Float => ra::RegClass::Float,
                    now::RegClass::Vector => ra::RegClass::Vector,
                }
            }

            fn class_back(c: ra::RegClass) -> now::RegClass {
                match c {
                    ra::RegClass::Int => now::RegClass::Int,
                    ra::RegClass::Float => now::RegClass::Float,
                    ra::RegClass::Vector => now::RegClass::Vector,
                }
            }

            fn preg(p: now::PReg) -> ra::PReg {
                ra::PReg::new(p.hw_enc(), class(p.class()))
            }

            fn preg_back(p: ra::PReg) -> now::PReg {
                now::PReg::new(p.hw_enc(), class_back(p.class()))
            }

            fn pregs(set: now::PRegSet) -> ra::PRegSet {
                RegList::from_regs(set.into_iter().map(preg))
            }

            fn pregs_back(set: ra::PRegSet) -> now::PRegSet {
                set.into_iter().map(preg_back).collect()
            }

            fn vreg(v: now::VReg) -> ra::VReg {
                ra::VReg::new(v.vreg(), class(v.class()))
            }

            fn vreg_back(v: ra::VReg) -> now::VReg {
                now::VReg::new(v.vreg(), class_back(v.class()))
            }

            fn block(b: now::Block) -> ra::Block {
                ra::Block::new(b.index())
            }

            fn inst(i: now::Inst) -> ra::Inst {
                ra::Inst::new(i.index())
            }

            /// The operand in this release's types, or why it has none.
            fn operand(o: now::Operand) -> Result<ra::Operand, String> {
                let constraint = match o.constraint() {
                    now::OperandConstraint::Any => ra::OperandConstraint::Any,
                    now::OperandConstraint::Reg => ra::OperandConstraint::Reg,
                    now::OperandConstraint::FixedReg(p) => {
                        ra::OperandConstraint::FixedReg(preg(p))
                    }
                    now::OperandConstraint::Reuse(i) => ra::OperandConstraint::Reuse(i),
                    now::OperandConstraint::Stack => when!(
                        $stack,
                        ra::OperandConstraint::Stack,
                        return Err("a stack-only operand (constraint `stack`)".into())
                    ),
                    #[allow(unused_variables)]
                    now::OperandConstraint::Limit(n) => when!(
                        $limit,
                        ra::OperandConstraint::Limit(n),
                        return Err(format!(
                            "an operand limited to the first {n} registers (constraint `limit`)"
                        ))
                    ),
                };
                let kind = match o.kind() {
                    now::OperandKind::Def => ra::OperandKind::Def,
                    now::OperandKind::Use => ra::OperandKind::Use,
                };
                let pos = match o.pos() {
                    now::OperandPos::Early => ra::OperandPos::Early,
                    now::OperandPos::Late => ra::OperandPos::Late,
                };
                Ok(ra::Operand::new(vreg(o.vreg()), constraint, kind, pos))
            }

            fn operand_back(o: ra::Operand) -> now::Operand {
                #[allow(unreachable_patterns)]
                let constraint = match o.constraint() {
                    ra::OperandConstraint::Any => now::OperandConstraint::Any,
                    ra::OperandConstraint::Reg => now::OperandConstraint::Reg,
                    ra::OperandConstraint::FixedReg(p) => {
                        now::OperandConstraint::FixedReg(preg_back(p))
                    }
                    ra::OperandConstraint::Reuse(i) => now::OperandConstraint::Reuse(i),
                    other => constraint_back!($stack, $limit, ra, other),
                };
                let kind = match o.kind() {
                    ra::OperandKind::Def => now::OperandKind::Def,
                    ra::OperandKind::Use => now::OperandKind::Use,
                };
                let pos = match o.pos() {
                    ra::OperandPos::Early => now::OperandPos::Early,
                    ra::OperandPos::Late => now::OperandPos::Late,
                };
                now::Operand::new(vreg_back(o.vreg()), constraint, kind, pos)
            }

            fn env(e: &now::MachineEnv) -> ra::MachineEnv {
                let list = |set: &now::PRegSet| RegList::from_regs((*set).into_iter().map(preg));
                ra::MachineEnv {
                    preferred_regs_by_class: [
                        list(&e.preferred_regs_by_class[0]),
                        list(&e.preferred_regs_by_class[1]),
                        list(&e.preferred_regs_by_class[2]),
                    ],
                    non_preferred_regs_by_class: [
                        list(&e.non_preferred_regs_by_class[0]),
                        list(&e.non_preferred_regs_by_class[1]),
                        list(&e.non_preferred_regs_by_class[2]),
                    ],
                    scratch_by_class: e.scratch_by_class.map(|p| p.map(preg)),
                    fixed_stack_slots: e.fixed_stack_slots.iter().copied().map(preg).collect(),
                }
            }

            fn env_back(e: &ra::MachineEnv) -> now::MachineEnv {
                let set = |list: Vec<ra::PReg>| list.into_iter().map(preg_back).collect();
                now::MachineEnv {
                    preferred_regs_by_class: [
                        set(e.preferred_regs_by_class[0].regs()),
                        set(e.preferred_regs_by_class[1].regs()),
                        set(e.preferred_regs_by_class[2].regs()),
                    ],
                    non_preferred_regs_by_class: [
                        set(e.non_preferred_regs_by_class[0].regs()),
                        set(e.non_preferred_regs_by_class[1].regs()),
                        set(e.non_preferred_regs_by_class[2].regs()),
                    ],
                    scratch_by_class: e.scratch_by_class.map(|p| p.map(preg_back)),
                    fixed_stack_slots: e.fixed_stack_slots.iter().copied().map(preg_back).collect(),
                }
            }

            /// `func` in `env`, in this release's types; an operand the
            /// release has no constraint for, or more values than its
            /// `VReg` holds, is why it cannot take the function.
            pub(crate) fn port(
                func: &RebuiltFunction,
                env_now: &now::MachineEnv,
            ) -> Result<Ported, String> {
                if func.num_vregs > ra::VReg::MAX + 1 {
                    return Err(format!(
                        "the function has {} virtual registers; regalloc2 {VERSION} numbers at most {}",
                        func.num_vregs,
                        ra::VReg::MAX + 1
                    ));
                }
                let mut insts = Vec::with_capacity(func.insts.len());
                for (i, d) in func.insts.iter().enumerate() {
                    let mut operands = Vec::with_capacity(d.operands.len());
                    for (k, &o) in d.operands.iter().enumerate() {
                        operands.push(operand(o).map_err(|what| {
                            format!(
                                "regalloc2 {VERSION} has no such constraint: operand {k} of inst{i} ({o}) is {what}"
                            )
                        })?);
                    }
                    insts.push(Inst {
                        operands,
                        clobbers: pregs(d.clobbers),
                        branch: d.branch,
                        ret: d.ret,
                    });
                }
                let blocks = func
                    .blocks
                    .iter()
                    .map(|b| Block {
                        range: inst_range!(
                            $range,
                            ra,
                            ra::Inst::new(b.first),
                            ra::Inst::new(b.end)
                        ),
                        preds: b.preds.iter().copied().map(block).collect(),
                        succs: b.succs.iter().copied().map(block).collect(),
                        params: b.params.iter().copied().map(vreg).collect(),
                        args: b
                            .args
                            .iter()
                            .map(|a| a.iter().copied().map(vreg).collect())
                            .collect(),
                    })
                    .collect();
                Ok(Ported {
                    blocks,
                    insts,
                    num_vregs: func.num_vregs,
                    spillslot_sizes: func.spillslot_sizes,
                    entry: block(func.entry),
                    allow_multiple_vreg_defs: func.allow_multiple_vreg_defs,
                    multi_spillslot_named_by_last_slot: func.multi_spillslot_named_by_last_slot,
                    debug_value_labels: func
                        .debug_value_labels
                        .iter()
                        .map(|&(v, from, to, label)| (vreg(v), inst(from), inst(to), label))
                        .collect(),
                    env: env(env_now),
                    output: None,
                })
            }

            /// Any function in this release's types as a rebuilt function
            /// (what a reproducer file holds).
            fn rebuilt_from(f: &impl ra::Function, env_ra: &ra::MachineEnv) -> RebuiltFunction {
                let insts = (0..f.num_insts())
                    .map(|i| {
                        let i = ra::Inst::new(i);
                        InstData {
                            operands: f
                                .inst_operands(i)
                                .iter()
                                .copied()
                                .map(operand_back)
                                .collect(),
                            clobbers: pregs_back(f.inst_clobbers(i)),
                            branch: f.is_branch(i),
                            ret: f.is_ret(i),
                        }
                    })
                    .collect();
                let blocks = (0..f.num_blocks())
                    .map(|b| {
                        let b = ra::Block::new(b);
                        let range = f.block_insns(b);
                        let (first, end) = if range.len() == 0 {
                            (0, 0)
                        } else {
                            (range.first().index(), range.last().index() + 1)
                        };
                        let succs = f.block_succs(b);
                        let last = ra::Inst::new(end.saturating_sub(1));
                        let branch = end > first && f.is_branch(last);
                        BlockData {
                            first,
                            end,
                            preds: f.block_preds(b).iter().map(|p| now::Block::new(p.index())).collect(),
                            succs: succs.iter().map(|s| now::Block::new(s.index())).collect(),
                            params: f.block_params(b).iter().copied().map(vreg_back).collect(),
                            args: (0..succs.len())
                                .map(|k| {
                                    if branch {
                                        f.branch_blockparams(b, last, k)
                                            .iter()
                                            .copied()
                                            .map(vreg_back)
                                            .collect()
                                    } else {
                                        Vec::new()
                                    }
                                })
                                .collect(),
                        }
                    })
                    .collect();
                RebuiltFunction {
                    blocks,
                    insts,
                    num_vregs: f.num_vregs(),
                    spillslot_sizes: [
                        f.spillslot_size(ra::RegClass::Int),
                        f.spillslot_size(ra::RegClass::Float),
                        f.spillslot_size(ra::RegClass::Vector),
                    ],
                    entry: now::Block::new(f.entry_block().index()),
                    allow_multiple_vreg_defs: f.allow_multiple_vreg_defs(),
                    multi_spillslot_named_by_last_slot: f.multi_spillslot_named_by_last_slot(),
                    debug_value_labels: f
                        .debug_value_labels()
                        .iter()
                        .map(|&(v, from, to, label)| {
                            (
                                vreg_back(v),
                                now::Inst::new(from.index()),
                                now::Inst::new(to.index()),
                                label,
                            )
                        })
                        .collect(),
                    env: env_back(env_ra),
                    vcode: None,
                }
            }

            fn alloc_back(a: ra::Allocation) -> now::Allocation {
                if let Some(r) = a.as_reg() {
                    now::Allocation::reg(preg_back(r))
                } else if let Some(s) = a.as_stack() {
                    now::Allocation::stack(now::SpillSlot::new(s.index()))
                } else {
                    now::Allocation::none()
                }
            }

            fn point_back(p: ra::ProgPoint) -> now::ProgPoint {
                let pos = match p.pos() {
                    ra::InstPosition::Before => now::InstPosition::Before,
                    ra::InstPosition::After => now::InstPosition::After,
                };
                now::ProgPoint::new(now::Inst::new(p.inst().index()), pos)
            }

            fn output_back(o: &ra::Output) -> now::Output {
                let mut out = now::Output {
                    num_spillslots: o.num_spillslots,
                    edits: o
                        .edits
                        .iter()
                        .map(|(p, e)| {
                            let ra::Edit::Move { from, to } = *e;
                            (
                                point_back(*p),
                                now::Edit::Move {
                                    from: alloc_back(from),
                                    to: alloc_back(to),
                                },
                            )
                        })
                        .collect(),
                    allocs: o.allocs.iter().copied().map(alloc_back).collect(),
                    inst_alloc_offsets: o.inst_alloc_offsets.clone(),
                    debug_locations: o
                        .debug_locations
                        .iter()
                        .map(|&(l, from, to, a)| (l, point_back(from), point_back(to), alloc_back(a)))
                        .collect(),
                    stats: Default::default(),
                };
                copy_stats!(out.stats, o.stats);
                out
            }

            fn error_text(e: &ra::RegAllocError) -> String {
                match e {
                    ra::RegAllocError::TooManyLiveRegs => format!(
                        "regalloc2 {VERSION} cannot allocate it: an instruction needs more registers at once than the class has"
                    ),
                    other => format!("regalloc2 {VERSION} refused the function: {other:?}"),
                }
            }

            impl super::Port for Ported {
                fn allocate(
                    &mut self,
                    algorithm: Algorithm,
                    verbose: bool,
                ) -> Result<now::Output, String> {
                    #[allow(unused_mut)]
                    let mut options = ra::RegallocOptions::default();
                    options.verbose_log = verbose;
                    // As Cranelift sets it: the SSA validator runs in builds
                    // with debug assertions.
                    options.validate_ssa = cfg!(debug_assertions);
                    match algorithm {
                        Algorithm::Backtracking => {}
                        Algorithm::SinglePass => when!(
                            $single_pass,
                            options.algorithm = ra::Algorithm::Fastalloc,
                            return Err(format!(
                                "regalloc2 {VERSION} has no single-pass allocator (it came in 0.11)"
                            ))
                        ),
                    }
                    self.output = None;
                    let out = ra::run(&*self, &self.env, &options).map_err(|e| error_text(&e))?;
                    let back = output_back(&out);
                    self.output = Some(out);
                    Ok(back)
                }

                fn check(&self) -> CheckerVerdict {
                    let Some(out) = &self.output else {
                        return CheckerVerdict::NotRun;
                    };
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let mut checker = ra::checker::Checker::new(self, &self.env);
                        checker.prepare(out);
                        checker.run()
                    }));
                    match run {
                        Ok(Ok(())) => CheckerVerdict::Ok,
                        Ok(Err(errors)) => CheckerVerdict::Failed(format!("{errors:?}")),
                        Err(p) => CheckerVerdict::Failed(crate::capture::panic_message(&p)),
                    }
                }

                fn to_bin(&self) -> Result<Vec<u8>, String> {
                    let f = ra::serialize::SerializableFunction::new(self, self.env.clone());
                    bincode::serialize(&f).map_err(|e| e.to_string())
                }
            }

            /// A reproducer file of this release, read by its own
            /// deserializer, as a rebuilt function.
            pub(crate) fn from_bin(bytes: &[u8]) -> Result<RebuiltFunction, String> {
                use bincode::Options as _;
                let f: ra::serialize::SerializableFunction = bincode::DefaultOptions::new()
                    .with_fixint_encoding()
                    .allow_trailing_bytes()
                    .with_limit(bytes.len() as u64)
                    .deserialize(bytes)
                    .map_err(|e| e.to_string())?;
                Ok(rebuilt_from(&f, f.machine_env()))
            }
        }
    };
}

/// The constraints only some releases have, read back (see [`port!`]).
macro_rules! constraint_back {
    (yes, yes, $ra:ident, $c:expr) => {
        match $c {
            $ra::OperandConstraint::Stack => regalloc2::OperandConstraint::Stack,
            $ra::OperandConstraint::Limit(n) => regalloc2::OperandConstraint::Limit(n),
            _ => regalloc2::OperandConstraint::Any,
        }
    };
    (yes, no, $ra:ident, $c:expr) => {
        match $c {
            $ra::OperandConstraint::Stack => regalloc2::OperandConstraint::Stack,
            _ => regalloc2::OperandConstraint::Any,
        }
    };
    (no, no, $ra:ident, $c:expr) => {{
        let _ = $c;
        regalloc2::OperandConstraint::Any
    }};
}
pub(crate) use super::Port;

port!(
    v0_9,
    regalloc2_0_9,
    "0.9.3",
    stack = yes,
    limit = no,
    single_pass = no,
    range = forward
);
port!(
    v0_10,
    regalloc2_0_10,
    "0.10.2",
    stack = no,
    limit = no,
    single_pass = no,
    range = new
);
port!(
    v0_11,
    regalloc2_0_11,
    "0.11.3",
    stack = no,
    limit = no,
    single_pass = yes,
    range = new
);
port!(
    v0_12,
    regalloc2_0_12,
    "0.12.2",
    stack = no,
    limit = no,
    single_pass = yes,
    range = new
);
port!(
    v0_13,
    regalloc2_0_13,
    "0.13.5",
    stack = yes,
    limit = yes,
    single_pass = yes,
    range = new
);
port!(
    v0_14,
    regalloc2_0_14,
    "0.14.0",
    stack = yes,
    limit = yes,
    single_pass = yes,
    range = new
);
port!(
    v0_15,
    regalloc2,
    "0.15.2",
    stack = yes,
    limit = yes,
    single_pass = yes,
    range = new
);
