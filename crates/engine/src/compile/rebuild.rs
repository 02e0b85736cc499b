//! The regalloc2 `Function` Cranelift allocated, rebuilt from regalloc2's own
//! records, with the machine environment it was allocated in.
//!
//! regalloc2's single-pass allocator logs the whole function it is given
//! before it starts (`log_function` in its `fastalloc/mod.rs`): every block
//! with its predecessors, successors and parameters, every instruction's
//! operands (kind, position, constraint) and clobbers, and each branch's
//! arguments per successor; then its machine environment (`{:#?}` of
//! `MachineEnv`). A compile with `regalloc_algorithm=single_pass` is stopped
//! right after those records: lowering does not depend on the algorithm, so
//! this is the VCode the backtracking allocator sees too. The round trip is
//! checked by a test: the rebuilt function, allocated in the logged
//! environment, gives Cranelift's allocation record for record.
//!
//! What the log does not carry is filled in the way Cranelift's `VCode` does
//! (its `impl RegallocFunction for VCode` in `machinst/vcode.rs`): a branch is
//! an instruction the log lists block arguments after; a block without
//! successors ends in a return (or a trap, which Cranelift also reports as
//! one); spill slots are 8 bytes, values of the float and vector classes take
//! two (16-byte registers) except riscv64's floats (one), as each backend's
//! `get_number_of_spillslots_for_value` says; several defs of one vreg are
//! allowed.

use regalloc2::{
    Block, Function, Inst, InstRange, MachineEnv, Operand, OperandConstraint, OperandKind,
    OperandPos, PReg, PRegSet, RegClass, VReg,
};

use super::CompileJob;
use crate::capture::{self, CaptureLimits, CaptureOutcome, RecordSink, Source, Sources, Verdict};

/// Rebuilds the function `job` compiles. `job` must use the single-pass
/// allocator (whose log carries the function); `triple` is its target.
pub fn rebuild(job: &dyn CompileJob, triple: &str) -> Result<RebuiltFunction, String> {
    rebuild_with(job, triple, true)
}

/// [`rebuild`], keeping Cranelift's VCode text or not (`vcode` stays none):
/// formatting it costs about as much as reading the function, and a corpus
/// gate shows no code.
pub fn rebuild_with(
    job: &dyn CompileJob,
    triple: &str,
    keep_vcode: bool,
) -> Result<RebuiltFunction, String> {
    let limits = CaptureLimits {
        max_records: u64::MAX,
        deadline: None,
    };
    let wanted = if keep_vcode {
        Sources(1 << Source::Other as u32 | 1 << Source::Compile as u32)
    } else {
        Sources(1 << Source::Other as u32)
    };
    let (outcome, log, _) =
        capture::capture_sources(FunctionLog::new(triple), limits, wanted, || {
            job.compile(false)
        });
    match outcome {
        CaptureOutcome::Finished(Err(e)) | CaptureOutcome::NoLogger(e) => Err(e),
        CaptureOutcome::Panicked(p) if log.env.is_none() => Err(format!(
            "the compile panicked before regalloc2 logged the function: {p}"
        )),
        _ => log.finish(),
    }
}

/// The registers regalloc2 may allocate on `triple`, per class (int,
/// float, vector), read from the `MachineEnv` Cranelift gives it: a
/// one-instruction function compiled once per target with the single-pass
/// allocator, whose log carries the environment; cached for the process.
/// `None` for a triple Cranelift has no backend for.
pub fn register_counts(triple: &str) -> Option<[u32; 3]> {
    static CACHE: std::sync::Mutex<std::collections::BTreeMap<String, Option<[u32; 3]>>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());
    let cached = CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(triple)
        .copied();
    if let Some(counts) = cached {
        return counts;
    }
    let counts = probe_register_counts(triple);
    CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(triple.to_string(), counts);
    counts
}

fn probe_register_counts(triple: &str) -> Option<[u32; 3]> {
    use cranelift_codegen::settings::Configurable as _;
    let parsed: target_lexicon::Triple = triple.parse().ok()?;
    let mut shared = cranelift_codegen::settings::builder();
    shared.set("regalloc_algorithm", "single_pass").ok()?;
    let isa = cranelift_codegen::isa::lookup(parsed)
        .ok()?
        .finish(cranelift_codegen::settings::Flags::new(shared))
        .ok()?;
    let text = "function %probe(i64) -> i64 {\nblock0(v0: i64):\n    return v0\n}\n";
    let func = cranelift_reader::parse_functions(text)
        .ok()?
        .into_iter()
        .next()?;
    let job = super::ClifJob {
        func: &func,
        isa: &*isa,
    };
    let rebuilt = rebuild(&job, triple).ok()?;
    let count = |class| allocatable(&rebuilt.env, class).len() as u32;
    Some([
        count(RegClass::Int),
        count(RegClass::Float),
        count(RegClass::Vector),
    ])
}

/// One block as regalloc2 saw it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BlockData {
    /// The block's first instruction and one past its last.
    pub(crate) first: usize,
    pub(crate) end: usize,
    pub(crate) preds: Vec<Block>,
    pub(crate) succs: Vec<Block>,
    pub(crate) params: Vec<VReg>,
    /// The branch's arguments, one list per successor.
    pub(crate) args: Vec<Vec<VReg>>,
}

/// One instruction as regalloc2 saw it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct InstData {
    pub(crate) operands: Vec<Operand>,
    pub(crate) clobbers: PRegSet,
    pub(crate) branch: bool,
    pub(crate) ret: bool,
}

/// A regalloc2 `Function` rebuilt from the records, and the environment
/// Cranelift allocated it in.
#[derive(Clone, Debug)]
pub struct RebuiltFunction {
    pub(crate) blocks: Vec<BlockData>,
    pub(crate) insts: Vec<InstData>,
    pub(crate) num_vregs: usize,
    pub(crate) spillslot_sizes: [usize; 3],
    /// What Cranelift's `VCode` says for every function (block 0, several
    /// defs of one vreg allowed, no debug value labels); a function read
    /// from regalloc2's reproducer format says its own.
    pub(crate) entry: Block,
    pub(crate) allow_multiple_vreg_defs: bool,
    pub(crate) multi_spillslot_named_by_last_slot: bool,
    pub(crate) debug_value_labels: Vec<(VReg, Inst, Inst, u32)>,
    /// The machine environment, as logged.
    pub env: MachineEnv,
    /// The VCode as Cranelift logged it before allocation (for the code
    /// views of an allocation made again).
    pub vcode: Option<String>,
}

impl RebuiltFunction {
    /// Operands over all instructions.
    pub fn num_operands(&self) -> usize {
        self.insts.iter().map(|i| i.operands.len()).sum()
    }

    /// The registers of `class` the environment may allocate, preferred ones
    /// first, each group in index order (regalloc2 keeps them as sets).
    pub fn allocatable(&self, class: RegClass) -> Vec<PReg> {
        allocatable(&self.env, class)
    }

    /// The same function for regalloc2: instructions, operands, blocks,
    /// properties and machine environment (not the VCode text).
    pub fn same_input(&self, other: &RebuiltFunction) -> bool {
        self.blocks == other.blocks
            && self.insts == other.insts
            && self.num_vregs == other.num_vregs
            && self.spillslot_sizes == other.spillslot_sizes
            && self.entry == other.entry
            && self.allow_multiple_vreg_defs == other.allow_multiple_vreg_defs
            && self.multi_spillslot_named_by_last_slot == other.multi_spillslot_named_by_last_slot
            && self.debug_value_labels == other.debug_value_labels
            && format!("{:?}", self.env) == format!("{:?}", other.env)
    }

    /// Every index in range and every list the right length, so that the
    /// `Function` methods never index out of bounds (a function read from a
    /// file is checked before any allocator sees it).
    pub fn validate(&self) -> Result<(), String> {
        let blocks = self.blocks.len();
        let insts = self.insts.len();
        if blocks == 0 {
            return Err("it has no blocks".into());
        }
        if self.entry.index() >= blocks {
            return Err(format!(
                "its entry block{} is not one of its {blocks} blocks",
                self.entry.index()
            ));
        }
        let vreg = |v: &VReg, what: &str| {
            if v.vreg() < self.num_vregs {
                Ok(())
            } else {
                Err(format!(
                    "{what} names {v}, past its {} virtual registers",
                    self.num_vregs
                ))
            }
        };
        let mut next = 0;
        for (i, b) in self.blocks.iter().enumerate() {
            if b.first != next || b.end <= b.first || b.end > insts {
                return Err(format!(
                    "block{i} holds instructions {}..{}; blocks must cover the {insts} instructions in order, each at least one",
                    b.first, b.end
                ));
            }
            next = b.end;
            for n in b.preds.iter().chain(&b.succs) {
                if n.index() >= blocks {
                    return Err(format!(
                        "block{i} names block{}, past its {blocks} blocks",
                        n.index()
                    ));
                }
            }
            if !b.succs.is_empty() && b.args.len() != b.succs.len() {
                return Err(format!(
                    "block{i} has {} successors but branch arguments for {}",
                    b.succs.len(),
                    b.args.len()
                ));
            }
            for v in b.params.iter().chain(b.args.iter().flatten()) {
                vreg(v, &format!("block{i}"))?;
            }
        }
        if next != insts {
            return Err(format!(
                "its blocks cover {next} of its {insts} instructions"
            ));
        }
        for (i, d) in self.insts.iter().enumerate() {
            for o in &d.operands {
                vreg(&o.vreg(), &format!("inst{i}"))?;
                if let regalloc2::OperandConstraint::Reuse(k) = o.constraint()
                    && k >= d.operands.len()
                {
                    return Err(format!(
                        "inst{i} reuses operand {k}, past its {} operands",
                        d.operands.len()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The registers of `class` `env` may allocate, preferred ones first.
pub fn allocatable(env: &MachineEnv, class: RegClass) -> Vec<PReg> {
    let c = class as usize;
    env.preferred_regs_by_class[c]
        .into_iter()
        .chain(env.non_preferred_regs_by_class[c])
        .collect()
}

impl Function for RebuiltFunction {
    fn num_insts(&self) -> usize {
        self.insts.len()
    }

    fn num_blocks(&self) -> usize {
        self.blocks.len()
    }

    fn entry_block(&self) -> Block {
        self.entry
    }

    fn block_insns(&self, block: Block) -> InstRange {
        let b = &self.blocks[block.index()];
        InstRange::new(Inst::new(b.first), Inst::new(b.end))
    }

    fn block_succs(&self, block: Block) -> &[Block] {
        &self.blocks[block.index()].succs
    }

    fn block_preds(&self, block: Block) -> &[Block] {
        &self.blocks[block.index()].preds
    }

    fn block_params(&self, block: Block) -> &[VReg] {
        &self.blocks[block.index()].params
    }

    fn is_ret(&self, insn: Inst) -> bool {
        self.insts[insn.index()].ret
    }

    fn is_branch(&self, insn: Inst) -> bool {
        self.insts[insn.index()].branch
    }

    fn branch_blockparams(&self, block: Block, _insn: Inst, succ_idx: usize) -> &[VReg] {
        &self.blocks[block.index()].args[succ_idx]
    }

    fn inst_operands(&self, insn: Inst) -> &[Operand] {
        &self.insts[insn.index()].operands
    }

    fn inst_clobbers(&self, insn: Inst) -> PRegSet {
        self.insts[insn.index()].clobbers
    }

    fn num_vregs(&self) -> usize {
        self.num_vregs
    }

    fn spillslot_size(&self, regclass: RegClass) -> usize {
        self.spillslot_sizes[regclass as usize]
    }

    fn allow_multiple_vreg_defs(&self) -> bool {
        self.allow_multiple_vreg_defs
    }

    fn multi_spillslot_named_by_last_slot(&self) -> bool {
        self.multi_spillslot_named_by_last_slot
    }

    fn debug_value_labels(&self) -> &[(VReg, Inst, Inst, u32)] {
        &self.debug_value_labels
    }
}

/// Spill slots (of 8 bytes) a value of each class takes on the target of
/// `triple` (see the module comment).
fn spillslot_sizes(triple: &str) -> [usize; 3] {
    if triple.starts_with("riscv64") {
        [1, 1, 2]
    } else {
        [1, 2, 2]
    }
}

/// Reads the function log from records of the single-pass allocator; stops
/// the capture at the machine environment, which follows it.
pub struct FunctionLog {
    started: bool,
    blocks: Vec<BlockData>,
    insts: Vec<InstData>,
    max_vreg: Option<usize>,
    /// Block-argument lists still expected after a `Block args:` record.
    args_expected: usize,
    env: Option<MachineEnv>,
    vcode: Option<String>,
    /// The first record that did not read as expected.
    pub error: Option<String>,
    triple: String,
}

impl FunctionLog {
    pub fn new(triple: &str) -> Self {
        FunctionLog {
            started: false,
            blocks: Vec::new(),
            insts: Vec::new(),
            max_vreg: None,
            args_expected: 0,
            env: None,
            vcode: None,
            error: None,
            triple: triple.to_string(),
        }
    }

    /// The function, once the environment was read.
    pub fn finish(self) -> Result<RebuiltFunction, String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.started {
            return Err("regalloc2 logged no function (no `Processing a new function`)".into());
        }
        let Some(env) = self.env else {
            return Err("regalloc2's function log ended before its machine environment".into());
        };
        if self.blocks.is_empty() {
            return Err("regalloc2 logged a function without blocks".into());
        }
        Ok(RebuiltFunction {
            blocks: self.blocks,
            insts: self.insts,
            num_vregs: self.max_vreg.map_or(0, |v| v + 1),
            spillslot_sizes: spillslot_sizes(&self.triple),
            entry: Block::new(0),
            allow_multiple_vreg_defs: true,
            multi_spillslot_named_by_last_slot: false,
            debug_value_labels: Vec::new(),
            env,
            vcode: self.vcode,
        })
    }

    fn note_vreg(&mut self, v: VReg) {
        self.max_vreg = Some(self.max_vreg.map_or(v.vreg(), |m| m.max(v.vreg())));
    }

    fn read(&mut self, message: &str) -> Result<bool, String> {
        if message == "Processing a new function" {
            let vcode = self.vcode.take();
            *self = FunctionLog::new(&self.triple);
            self.vcode = vcode;
            self.started = true;
            return Ok(false);
        }
        if !self.started {
            return Ok(false);
        }
        if self.args_expected > 0 {
            let list = message
                .trim()
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .ok_or("a block-argument list")?;
            let args = vregs(list)?;
            for v in &args {
                self.note_vreg(*v);
            }
            let block = self
                .blocks
                .last_mut()
                .ok_or("block arguments before a block")?;
            block.args.push(args);
            self.args_expected -= 1;
            return Ok(false);
        }
        if let Some(rest) = message.strip_prefix("Block Block(") {
            self.block(rest)?;
        } else if let Some(rest) = message.strip_prefix("inst")
            && rest.starts_with(|c: char| c.is_ascii_digit())
        {
            self.inst(rest)?;
        } else if message == "Block args: " {
            let block = self.blocks.last().ok_or("block arguments before a block")?;
            self.args_expected = block.succs.len();
            let inst = self
                .insts
                .last_mut()
                .ok_or("block arguments before an instruction")?;
            inst.branch = true;
        } else if message.is_empty() {
            // A block ends: one without successors ends in a return or a trap.
            let block = self.blocks.last().ok_or("a block end before a block")?;
            if block.succs.is_empty()
                && let Some(last) = self.insts.last_mut()
            {
                last.ret = true;
            }
        } else if message.starts_with("MachineEnv {") {
            self.env = Some(machine_env(message)?);
            return Ok(true);
        }
        Ok(false)
    }

    /// `0). preds: [Block(1)]. succs: [Block(2)], params: [VReg(vreg = …)]`
    fn block(&mut self, rest: &str) -> Result<(), String> {
        let (index, rest) = rest.split_once(')').ok_or("a block index")?;
        let index: usize = index.parse().map_err(|_| "a block index")?;
        if index != self.blocks.len() {
            return Err(format!(
                "block {index} logged where block {} was due",
                self.blocks.len()
            ));
        }
        let (preds, rest) = rest
            .strip_prefix(". preds: ")
            .and_then(|r| r.split_once(". succs: "))
            .ok_or("the block's predecessors")?;
        let (succs, params) = rest
            .split_once(", params: ")
            .ok_or("the block's successors")?;
        let params = vregs(list_body(params)?)?;
        for v in &params {
            self.note_vreg(*v);
        }
        self.blocks.push(BlockData {
            first: self.insts.len(),
            end: self.insts.len(),
            preds: blocks(list_body(preds)?)?,
            succs: blocks(list_body(succs)?)?,
            params,
            args: Vec::new(),
        });
        Ok(())
    }

    /// `12: [Use: v3i reg, Def: v4i reuse(0)]. Clobbers: {p0i, }`
    fn inst(&mut self, rest: &str) -> Result<(), String> {
        let (index, rest) = rest.split_once(": ").ok_or("an instruction index")?;
        let index: usize = index.parse().map_err(|_| "an instruction index")?;
        if index != self.insts.len() {
            return Err(format!(
                "instruction {index} logged where instruction {} was due",
                self.insts.len()
            ));
        }
        let (ops, clobbers) = rest
            .split_once("]. Clobbers: ")
            .ok_or("the instruction's clobbers")?;
        let ops = ops.strip_prefix('[').ok_or("the instruction's operands")?;
        let mut operands = Vec::new();
        for op in ops.split(", ").filter(|s| !s.is_empty()) {
            let op = operand(op).ok_or_else(|| format!("operand `{op}`"))?;
            if op.as_fixed_nonallocatable().is_none() {
                self.note_vreg(op.vreg());
            }
            operands.push(op);
        }
        let clobbers = clobbers
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .ok_or("a clobber set")?;
        let mut set = PRegSet::empty();
        for p in clobbers
            .split(", ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            set.add(preg(p).ok_or_else(|| format!("clobber `{p}`"))?);
        }
        let block = self
            .blocks
            .last_mut()
            .ok_or("an instruction before a block")?;
        block.end = index + 1;
        self.insts.push(InstData {
            operands,
            clobbers: set,
            branch: false,
            ret: false,
        });
        Ok(())
    }
}

impl RecordSink for FunctionLog {
    fn record(&mut self, source: Source, _: log::Level, message: &str) -> Verdict {
        if source == Source::Compile {
            // Cranelift's VCode text, logged before regalloc2 starts.
            if let Some(rest) = message.strip_prefix("vcode from lowering:") {
                self.vcode = Some(rest.trim_start().to_string());
            }
            return Verdict::Continue;
        }
        if source != Source::Other || self.error.is_some() {
            return Verdict::Continue;
        }
        match self.read(message) {
            Ok(true) => Verdict::Stop,
            Ok(false) => Verdict::Continue,
            Err(what) => {
                let mut line: String = message.chars().take(160).collect();
                if line.len() < message.len() {
                    line.push('…');
                }
                self.error = Some(format!(
                    "regalloc2's function log: expected {what} in `{line}`"
                ));
                Verdict::Stop
            }
        }
    }
}

/// `[a, b]` → `a, b`.
fn list_body(s: &str) -> Result<&str, String> {
    s.trim()
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("a list, not `{s}`"))
}

/// `Block(1), Block(2)`
fn blocks(s: &str) -> Result<Vec<Block>, String> {
    s.split(", ")
        .filter(|b| !b.is_empty())
        .map(|b| {
            b.strip_prefix("Block(")
                .and_then(|b| b.strip_suffix(')'))
                .and_then(|b| b.parse().ok())
                .map(Block::new)
                .ok_or_else(|| format!("a block, not `{b}`"))
        })
        .collect()
}

/// `VReg(vreg = 192, class = Int), VReg(vreg = 193, class = Float)`
fn vregs(s: &str) -> Result<Vec<VReg>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find("vreg = ") {
        rest = &rest[at + "vreg = ".len()..];
        let (n, after) = rest.split_once(", class = ").ok_or("a vreg's class")?;
        let (class, after) = after.split_once(')').ok_or("a vreg's class")?;
        let n: usize = n.parse().map_err(|_| format!("a vreg number, not `{n}`"))?;
        out.push(VReg::new(n, class_named(class).ok_or("a register class")?));
        rest = after;
    }
    Ok(out)
}

fn class_named(s: &str) -> Option<RegClass> {
    match s {
        "Int" => Some(RegClass::Int),
        "Float" => Some(RegClass::Float),
        "Vector" => Some(RegClass::Vector),
        _ => None,
    }
}

fn class_letter(c: char) -> Option<RegClass> {
    match c {
        'i' => Some(RegClass::Int),
        'f' => Some(RegClass::Float),
        'v' => Some(RegClass::Vector),
        _ => None,
    }
}

/// `p7i` (regalloc2's `Display` of a `PReg`).
fn preg(s: &str) -> Option<PReg> {
    let body = s.strip_prefix('p')?;
    let class = class_letter(body.chars().last()?)?;
    let hw: usize = body[..body.len() - 1].parse().ok()?;
    (hw <= PReg::MAX).then(|| PReg::new(hw, class))
}

/// regalloc2's `Display` of an `Operand`: `Use: v3i reg`, `Def@Early: v4f
/// fixed(p0f)`, `Fixed: p5i`.
fn operand(s: &str) -> Option<Operand> {
    if let Some(p) = s.strip_prefix("Fixed: ") {
        return Some(Operand::fixed_nonallocatable(preg(p)?));
    }
    let (kind_pos, rest) = s.split_once(": ")?;
    let (kind, pos) = match kind_pos.split_once('@') {
        Some((k, p)) => (k, Some(p)),
        None => (kind_pos, None),
    };
    let kind = match kind {
        "Use" => OperandKind::Use,
        "Def" => OperandKind::Def,
        _ => return None,
    };
    let pos = match (pos, kind) {
        (Some("Early"), _) | (None, OperandKind::Use) => OperandPos::Early,
        (Some("Late"), _) | (None, OperandKind::Def) => OperandPos::Late,
        _ => return None,
    };
    let (vreg, constraint) = rest.split_once(' ')?;
    let vreg = vreg.strip_prefix('v')?;
    let class = class_letter(vreg.chars().last()?)?;
    let n: usize = vreg[..vreg.len() - 1].parse().ok()?;
    let constraint = match constraint {
        "any" => OperandConstraint::Any,
        "reg" => OperandConstraint::Reg,
        "stack" => OperandConstraint::Stack,
        c => {
            let (name, arg) = c.strip_suffix(')')?.split_once('(')?;
            match name {
                "fixed" => OperandConstraint::FixedReg(preg(arg)?),
                "reuse" => OperandConstraint::Reuse(arg.parse().ok()?),
                "limit" => {
                    let max: usize = arg.strip_prefix("0..=")?.parse().ok()?;
                    OperandConstraint::Limit(max + 1)
                }
                _ => return None,
            }
        }
    };
    Some(Operand::new(VReg::new(n, class), constraint, kind, pos))
}

/// `{:#?}` of a `MachineEnv`: six register sets as bit words (preferred, then
/// non-preferred, by class), the scratch registers, the fixed stack slots.
fn machine_env(text: &str) -> Result<MachineEnv, String> {
    let sets_end = text.find("scratch_by_class").ok_or("`scratch_by_class`")?;
    let mut sets = Vec::new();
    let mut rest = &text[..sets_end];
    while let Some(at) = rest.find("bits: [") {
        rest = &rest[at + "bits: [".len()..];
        let (words, after) = rest.split_once(']').ok_or("a register set's bits")?;
        let mut set = PRegSet::empty();
        for (w, word) in words
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .enumerate()
        {
            let word: u64 = word.parse().map_err(|_| "a register set's bits")?;
            for bit in 0..64 {
                if word & (1 << bit) != 0 {
                    let index = w * 64 + bit;
                    if index >= PReg::NUM_INDEX {
                        return Err("a register set's bits".into());
                    }
                    set.add(PReg::from_index(index));
                }
            }
        }
        sets.push(set);
        rest = after;
    }
    if sets.len() != 6 {
        return Err(format!("six register sets, not {}", sets.len()));
    }
    let (scratch, fixed) = text[sets_end..]
        .split_once("fixed_stack_slots")
        .ok_or("`fixed_stack_slots`")?;
    let scratch = pregs_debug(scratch.split_once('[').ok_or("scratch registers")?.1);
    let mut scratch_by_class = [None; 3];
    let entries: Vec<&str> = scratch
        .0
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "]")
        .collect();
    // One entry per class: `None` or `Some(PReg(hw = 15, class = Int, index = 15))`.
    let mut found = scratch.1.into_iter();
    for (c, entry) in entries
        .iter()
        .filter(|e| e.starts_with("None") || e.starts_with("Some"))
        .enumerate()
        .take(3)
    {
        if entry.starts_with("Some") {
            scratch_by_class[c] = found.next();
        }
    }
    let fixed_stack_slots = pregs_debug(fixed).1;
    Ok(MachineEnv {
        preferred_regs_by_class: [sets[0], sets[1], sets[2]],
        non_preferred_regs_by_class: [sets[3], sets[4], sets[5]],
        scratch_by_class,
        fixed_stack_slots,
    })
}

/// Every `PReg(hw = 15, class = Int, index = 15)` in `s`, in order; the text
/// with each replaced by a bare `PReg` (so commas inside split no list).
fn pregs_debug(s: &str) -> (String, Vec<PReg>) {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("PReg(hw = ") {
        plain.push_str(&rest[..at]);
        plain.push_str("PReg");
        let body = &rest[at + "PReg(hw = ".len()..];
        let Some((inner, after)) = body.split_once(')') else {
            break;
        };
        let mut parts = inner.split(", ");
        let hw = parts.next().and_then(|h| h.parse::<usize>().ok());
        let class = parts
            .next()
            .and_then(|c| c.strip_prefix("class = "))
            .and_then(class_named);
        if let (Some(hw), Some(class)) = (hw, class)
            && hw <= PReg::MAX
        {
            out.push(PReg::new(hw, class));
        }
        rest = after;
    }
    plain.push_str(rest);
    (plain, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_read_back_as_regalloc2_prints_them() {
        for text in [
            "Use: v3i reg",
            "Def: v4f fixed(p0f)",
            "Def@Early: v9i any",
            "Use@Late: v10v stack",
            "Def: v11i reuse(1)",
            "Use: v12i limit(0..=7)",
            "Fixed: p5i",
        ] {
            let op = operand(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(op.to_string(), text);
        }
        assert!(operand("Use: v3x reg").is_none());
        assert!(operand("Def: v3i fixed(p999i)").is_none());
    }

    #[test]
    fn a_machine_environment_reads_back() {
        let mut env = MachineEnv {
            preferred_regs_by_class: [PRegSet::empty(); 3],
            non_preferred_regs_by_class: [PRegSet::empty(); 3],
            scratch_by_class: [None, Some(PReg::new(15, RegClass::Float)), None],
            fixed_stack_slots: vec![PReg::new(60, RegClass::Int)],
        };
        env.preferred_regs_by_class[0].add(PReg::new(3, RegClass::Int));
        env.non_preferred_regs_by_class[1].add(PReg::new(31, RegClass::Float));
        let back = machine_env(&format!("{env:#?}")).unwrap();
        assert_eq!(format!("{back:?}"), format!("{env:?}"));
    }
}
